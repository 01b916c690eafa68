//! Live sessions through the real binary and the fixture runtime: keep-alive, follow-up turns in
//! the live "vendor", busy, cancel then continue, close, idle timeout, vendor exit, steer,
//! prewarm, list, shutdown with sessions open, and the refusals.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::sidecar::assert_well_formed;
use support::Sidecar;

fn run_params(task_id: &str, goal: &str, session: Value) -> Value {
    json!({"taskId": task_id, "runtime": "fixture", "task": {"goal": goal, "session": session}})
}

/// A fixture option set whose turns each wait `ms` (so a test can act during a turn).
fn slow_turns(ms: u64, n: usize) -> Value {
    let turn = json!({"steps": [{"delayMs": ms}, {"event": "agent.output.delta", "data": {"text": "done"}}],
                      "result": {"output": "done"}});
    json!({"fixture": {"turns": vec![turn; n]}})
}

/// Waits for the next `session/closed` notification, keeping nothing else.
async fn closed_notification(s: &mut Sidecar) -> Value {
    loop {
        let v = s.next().await.expect("sidecar still running");
        if v["method"] == "session/closed" {
            return v["params"].clone();
        }
    }
}

/// Waits for the first event of `task_id` of type `kind`.
async fn event_of(s: &mut Sidecar, task_id: &str, kind: &str) -> Value {
    loop {
        let v = s.next().await.expect("sidecar still running");
        if v["method"] == "event" && v["params"]["taskId"] == task_id && v["params"]["type"] == kind
        {
            return v;
        }
    }
}

async fn list(s: &mut Sidecar) -> Vec<Value> {
    let r = s.call("session/list", json!({})).await;
    r["result"]["sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_kept_session_runs_follow_ups_live_and_they_see_earlier_turns() {
    let mut s = Sidecar::spawn(&[]);
    let first = s
        .run(run_params(
            "t1",
            "my name is Ada",
            json!({"keepAlive": true}),
        ))
        .await;
    assert_well_formed(&first.events);
    let r = first.result();
    assert_eq!(r["sessionSource"], "new", "{r}");
    assert_eq!(r["sessionLive"], true);
    let id = r["sessionId"].as_str().unwrap().to_string();

    let second = s
        .run(run_params("t2", "what is my name?", json!({"resume": id})))
        .await;
    // Every turn is its own task: seq from 0, one started, one terminal, one response.
    assert_well_formed(&second.events);
    let r = second.result();
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(r["sessionLive"], true);
    assert_eq!(r["sessionId"], id.as_str());
    let output = r["output"].as_str().unwrap();
    assert!(output.contains("Turn 2"), "{output}");
    assert!(
        output.contains(r#"["my name is Ada"]"#),
        "the turn saw the first: {output}"
    );

    let third = s
        .run(run_params("t3", "and again", json!({"resume": id})))
        .await;
    assert!(third.result()["output"]
        .as_str()
        .unwrap()
        .contains(r#"["my name is Ada","what is my name?"]"#));

    let sessions = list(&mut s).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["sessionId"], id.as_str());
    assert_eq!(sessions[0]["state"], "idle");
    assert_eq!(sessions[0]["turns"], 3);
    assert_eq!(sessions[0]["runtime"], "fixture");

    let closed = s.call("session/close", json!({"sessionId": id})).await;
    assert_eq!(closed["result"], json!({"sessionId": id, "closed": true}));
    let note = closed_notification(&mut s).await;
    assert_eq!(note, json!({"sessionId": id, "reason": "closed"}));
    let again = s.call("session/close", json!({"sessionId": id})).await;
    assert_eq!(again["error"]["code"], -32017, "{again}");
    assert_eq!(again["error"]["data"]["kind"], "sessionNotFound");
    assert_eq!(again["error"]["data"]["sessionId"], id.as_str());
    assert!(list(&mut s).await.is_empty());

    // No longer live: the same id resumes cold, in a new "process" that starts over.
    let cold = s
        .run(run_params("t4", "hello again", json!({"resume": id})))
        .await;
    let r = cold.result();
    assert_eq!(r["sessionSource"], "resumed", "{r}");
    assert_eq!(r["sessionLive"], false);
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn a_second_turn_into_a_busy_session_is_refused_and_cancel_keeps_the_session() {
    let mut s = Sidecar::spawn(&[]);
    let opened = s
        .call(
            "session/open",
            json!({"runtime": "fixture", "task": {"runtimeOptions": slow_turns(30_000, 1)}}),
        )
        .await;
    let id = opened["result"]["sessionId"].as_str().unwrap().to_string();
    assert_eq!(opened["result"]["runtime"], "fixture");

    let long = s
        .request(
            "run",
            run_params("long", "take your time", json!({"resume": id})),
        )
        .await;
    event_of(&mut s, "long", "agent.task.started").await;
    let sessions = list(&mut s).await;
    assert_eq!(sessions[0]["state"], "busy", "{sessions:?}");
    assert_eq!(sessions[0]["idleMs"], 0);

    let busy = s
        .call("run", run_params("other", "me too", json!({"resume": id})))
        .await;
    assert_eq!(busy["error"]["code"], -32015, "{busy}");
    assert_eq!(busy["error"]["data"]["kind"], "sessionBusy");
    assert_eq!(busy["error"]["data"]["sessionId"], id.as_str());

    let cancel = s.call("cancel", json!({"taskId": "long"})).await;
    assert_eq!(cancel["result"]["state"], "cancelling");
    let r = s.response(&long).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["sessionLive"], true, "{r}");
    assert_eq!(r["result"]["sessionSource"], "live");

    // The conversation goes on, with the interrupted turn in it.
    let next = s
        .run(run_params("next", "still there?", json!({"resume": id})))
        .await;
    let r = next.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "live");
    assert!(
        r["output"]
            .as_str()
            .unwrap()
            .contains(r#"["take your time"]"#),
        "{r}"
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn an_idle_session_closes_after_its_idle_timeout_with_a_notification() {
    let mut s = Sidecar::spawn(&[]);
    let first = s
        .run(run_params(
            "t1",
            "hi",
            json!({"keepAlive": true, "idleTimeoutMs": 300}),
        ))
        .await;
    let id = first.result()["sessionId"].as_str().unwrap().to_string();
    let began = std::time::Instant::now();
    let note = closed_notification(&mut s).await;
    assert_eq!(note, json!({"sessionId": id, "reason": "idle"}));
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(list(&mut s).await.is_empty());
    let cold = s.run(run_params("t2", "back", json!({"resume": id}))).await;
    assert_eq!(cold.result()["sessionSource"], "resumed");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn a_vendor_that_exits_while_idle_closes_the_session_and_resume_falls_back_to_cold() {
    let mut s = Sidecar::spawn(&[]);
    let task = json!({"goal": "hi", "session": {"keepAlive": true},
                      "runtimeOptions": {"fixture": {"exitAfterMs": 300}}});
    let first = s
        .run(json!({"taskId": "t1", "runtime": "fixture", "task": task}))
        .await;
    let id = first.result()["sessionId"].as_str().unwrap().to_string();
    assert_eq!(first.result()["sessionLive"], true);
    let note = closed_notification(&mut s).await;
    assert_eq!(note, json!({"sessionId": id, "reason": "exited"}));
    let cold = s
        .run(run_params("t2", "still there?", json!({"resume": id})))
        .await;
    let r = cold.result();
    assert_eq!(r["finishReason"], "completed");
    assert_eq!(r["sessionSource"], "resumed", "{r}");
    assert_eq!(r["sessionId"], id.as_str());
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn steer_adds_text_to_the_running_turn() {
    let mut s = Sidecar::spawn(&[]);
    let opened = s
        .call(
            "session/open",
            json!({"runtime": "fixture", "task": {"runtimeOptions": slow_turns(1500, 1)}}),
        )
        .await;
    let id = opened["result"]["sessionId"].as_str().unwrap().to_string();
    let run = s
        .request(
            "run",
            run_params("steered", "write a poem", json!({"resume": id})),
        )
        .await;
    event_of(&mut s, "steered", "agent.task.started").await;
    let steer = s
        .call(
            "steer",
            json!({"taskId": "steered", "text": "make it rhyme"}),
        )
        .await;
    assert_eq!(steer["result"], json!({"accepted": true}), "{steer}");
    let delta = event_of(&mut s, "steered", "agent.output.delta").await;
    assert_eq!(delta["params"]["data"]["text"], "[steer] make it rhyme\n");
    let r = s.response(&run).await;
    assert!(
        r["result"]["output"]
            .as_str()
            .unwrap()
            .contains("make it rhyme"),
        "{r}"
    );

    let gone = s
        .call("steer", json!({"taskId": "steered", "text": "late"}))
        .await;
    assert_eq!(gone["error"]["code"], -32013, "{gone}");
    // The steered text is part of the conversation from then on.
    let next = s
        .run(run_params("after", "and now?", json!({"resume": id})))
        .await;
    assert!(next.result()["output"]
        .as_str()
        .unwrap()
        .contains(r#"["write a poem","make it rhyme"]"#));
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn session_open_prewarms_and_list_shows_starting_then_idle() {
    let mut s = Sidecar::spawn(&[]);
    let open = s
        .request(
            "session/open",
            json!({"runtime": "fixture", "task": {"runtimeOptions": {"fixture": {"openDelayMs": 800}}}}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sessions = list(&mut s).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["state"], "starting");
    let opened = s.response(&open).await;
    let id = opened["result"]["sessionId"].as_str().unwrap().to_string();
    let sessions = list(&mut s).await;
    assert_eq!(sessions[0]["state"], "idle");
    assert_eq!(sessions[0]["turns"], 0);

    // The first turn runs in the prewarmed session; its options come from the opening.
    let first = s
        .run(run_params("t1", "first", json!({"resume": id})))
        .await;
    assert_well_formed(&first.events);
    assert_eq!(first.result()["sessionSource"], "live");
    assert!(first.result()["output"]
        .as_str()
        .unwrap()
        .contains("Turn 1"));
    assert_eq!(list(&mut s).await[0]["turns"], 1);
    s.close_stdin();
    assert_eq!(closed_notification(&mut s).await["reason"], "shutdown");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn eof_closes_every_live_session_and_sigterm_ends_a_busy_turn() {
    // EOF: idle sessions close with reason "shutdown", then the sidecar exits cleanly.
    let mut s = Sidecar::spawn(&[]);
    let mut ids = vec![];
    for i in 0..2 {
        let r = s
            .call("session/open", json!({"runtime": "fixture", "task": {}}))
            .await;
        ids.push(r["result"]["sessionId"].as_str().unwrap().to_string());
        let _ = i;
    }
    s.close_stdin();
    let rest = s.drain().await;
    let mut closed: Vec<_> = rest
        .iter()
        .filter(|v| v["method"] == "session/closed")
        .map(|v| {
            assert_eq!(v["params"]["reason"], "shutdown");
            v["params"]["sessionId"].as_str().unwrap().to_string()
        })
        .collect();
    closed.sort();
    ids.sort();
    assert_eq!(closed, ids);
    assert_eq!(s.wait_exit().await, Some(0));

    // SIGTERM during a turn: the turn ends cancelled, answered, and the session closes.
    let mut s = Sidecar::spawn(&[]);
    let opened = s
        .call(
            "session/open",
            json!({"runtime": "fixture", "task": {"runtimeOptions": slow_turns(30_000, 1)}}),
        )
        .await;
    let id = opened["result"]["sessionId"].as_str().unwrap().to_string();
    let run = s
        .request("run", run_params("busy", "long", json!({"resume": id})))
        .await;
    event_of(&mut s, "busy", "agent.task.started").await;
    let pid = s.child.id().unwrap() as i32;
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let r = s.response(&run).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["sessionLive"], false, "{r}");
    let note = closed_notification(&mut s).await;
    assert_eq!(note, json!({"sessionId": id, "reason": "shutdown"}));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn what_a_live_session_cannot_do_is_refused() {
    let mut s = Sidecar::spawn(&[]);
    // Runtimes without live sessions (antigravity until it gains them; chosen from what the
    // binary declares, so this stays true as runtimes gain sessions).
    let caps = s.call("capabilities", json!({})).await;
    let without: Vec<String> = caps["result"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["capabilities"]["liveSessions"] != true)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    for runtime in &without {
        let r = s
            .call(
                "run",
                json!({"runtime": runtime, "task": {"goal": "x", "session": {"keepAlive": true}}}),
            )
            .await;
        assert_eq!(r["error"]["code"], -32012, "{r}");
        assert_eq!(r["error"]["data"]["field"], "task.session.keepAlive");
        let r = s
            .call("session/open", json!({"runtime": runtime, "task": {}}))
            .await;
        assert_eq!(r["error"]["code"], -32012, "{r}");
        assert_eq!(r["error"]["data"]["field"], "session/open");
    }

    // A run needs a goal: absent (the schema requires it) or empty.
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {}}))
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("goal"),
        "{r}"
    );
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": " "}}))
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert_eq!(r["error"]["data"]["path"], "task.goal");

    // Fields the live process holds fixed.
    let id = s
        .call("session/open", json!({"runtime": "fixture", "task": {}}))
        .await["result"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let elsewhere = std::env::temp_dir();
    let r = s
        .call(
            "run",
            json!({"runtime": "fixture", "task": {"goal": "x", "workingDirectory": elsewhere,
                   "session": {"resume": id}}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32012, "{r}");
    assert_eq!(r["error"]["data"]["field"], "task.workingDirectory");
    let r = s
        .call(
            "run",
            json!({"runtime": "fixture", "task": {"goal": "x", "systemPrompt": "be terse",
                   "session": {"resume": id}}}),
        )
        .await;
    assert_eq!(r["error"]["data"]["field"], "task.systemPrompt", "{r}");
    let r = s
        .call(
            "run",
            json!({"runtime": "fixture", "task": {"goal": "x", "runtimeOptions": {"fixture": {"openDelayMs": 1}},
                   "session": {"resume": id}}}),
        )
        .await;
    assert_eq!(r["error"]["data"]["field"], "task.runtimeOptions", "{r}");
    // A refused turn leaves the session as it was.
    let ok = s.run(run_params("ok", "fine", json!({"resume": id}))).await;
    assert_eq!(ok.result()["sessionSource"], "live");
    assert_eq!(list(&mut s).await[0]["turns"], 1);
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Events of a run without their timestamps (a replay differs only in those).
fn untimed(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["method"] == "event")
        .map(|e| {
            let mut p = e["params"].clone();
            p.as_object_mut().unwrap().remove("time");
            p
        })
        .collect()
}

fn without_durations(result: &Value) -> Value {
    let mut r = result.clone();
    r.as_object_mut().unwrap().remove("durationMs");
    r
}

#[tokio::test]
async fn record_writes_each_turn_and_a_recorded_session_replays_turn_by_turn() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Sidecar::spawn(&["--record", dir.path().to_str().unwrap()]);
    let opening = json!({"goal": "first", "session": {"keepAlive": true}});
    let one = rec
        .run(json!({"taskId": "turn-1", "runtime": "fixture", "task": opening}))
        .await;
    let id = one.result()["sessionId"].as_str().unwrap().to_string();
    let two = rec
        .run(run_params("turn-2", "second", json!({"resume": id})))
        .await;
    assert_eq!(two.result()["sessionSource"], "live");
    rec.close_stdin();
    assert_eq!(rec.wait_exit().await, Some(0));
    let files: Vec<String> = ["turn-1", "turn-2"]
        .iter()
        .map(|t| dir.path().join(format!("{t}.json")).display().to_string())
        .collect();
    for f in &files {
        assert!(
            std::path::Path::new(f).exists(),
            "each turn is recorded: {f}"
        );
    }

    // The recorded turns, replayed as a live session of the fixture: same id, same events,
    // same results, turn by turn.
    let mut play = Sidecar::spawn(&[]);
    let task = json!({"goal": "first", "session": {"keepAlive": true},
                      "runtimeOptions": {"fixture": {"turnPaths": files}}});
    let r1 = play
        .run(json!({"taskId": "turn-1", "runtime": "fixture", "task": task}))
        .await;
    assert_eq!(r1.result()["sessionId"], id.as_str());
    let r2 = play
        .run(run_params("turn-2", "second", json!({"resume": id})))
        .await;
    assert_eq!(untimed(&one.events), untimed(&r1.events));
    assert_eq!(untimed(&two.events), untimed(&r2.events));
    assert_eq!(
        without_durations(one.result()),
        without_durations(r1.result())
    );
    assert_eq!(
        without_durations(two.result()),
        without_durations(r2.result())
    );
    play.close_stdin();
    assert_eq!(play.wait_exit().await, Some(0));

    // And one turn alone replays from the command line.
    let out = std::process::Command::new(support::sidecar::BIN)
        .args(["run", "--replay", &files[1], "--json"])
        .env_remove("AGENT_RUNTIME_KIT_RUNTIME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["result"]["output"], two.result()["output"]);
}

#[tokio::test]
async fn cli_run_resume_continues_a_session_cold() {
    let out = std::process::Command::new(support::sidecar::BIN)
        .args(["run", "go on", "--resume", "sess-42", "--json"])
        .env_remove("AGENT_RUNTIME_KIT_RUNTIME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["result"]["sessionId"], "sess-42", "{stdout}");
    assert_eq!(last["result"]["sessionSource"], "resumed");
    assert_eq!(last["result"]["sessionLive"], false);
}

#[tokio::test]
async fn mcp_run_task_holds_a_conversation_in_a_live_session() {
    let mut s = Sidecar::spawn(&["mcp"]);
    s.mcp_initialize().await;
    let first = s
        .call(
            "tools/call",
            json!({"name": "run_task", "arguments": {"runtime": "fixture", "goal": "remember 7", "keepAlive": true}}),
        )
        .await;
    let r = &first["result"]["structuredContent"];
    assert_eq!(r["sessionLive"], true, "{first}");
    assert_eq!(r["sessionSource"], "new");
    let id = r["sessionId"].as_str().unwrap().to_string();
    let second = s
        .call(
            "tools/call",
            json!({"name": "run_task", "arguments": {"runtime": "fixture", "goal": "what number?", "resume": id}}),
        )
        .await;
    let r = &second["result"]["structuredContent"];
    assert_eq!(r["sessionSource"], "live", "{second}");
    assert!(
        r["output"].as_str().unwrap().contains(r#"["remember 7"]"#),
        "{r}"
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn closing_a_busy_session_ends_its_turn_then_closes_it() {
    let mut s = Sidecar::spawn(&[]);
    let opened = s
        .call(
            "session/open",
            json!({"runtime": "fixture", "task": {"runtimeOptions": slow_turns(30_000, 1)}}),
        )
        .await;
    let id = opened["result"]["sessionId"].as_str().unwrap().to_string();
    let run = s
        .request("run", run_params("t", "long", json!({"resume": id})))
        .await;
    event_of(&mut s, "t", "agent.task.started").await;
    let close = s.request("session/close", json!({"sessionId": id})).await;
    let r = s.response(&run).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["sessionLive"], false, "{r}");
    let closed = s.response(&close).await;
    assert_eq!(closed["result"]["closed"], true, "{closed}");
    assert_eq!(
        closed_notification(&mut s).await,
        json!({"sessionId": id, "reason": "closed"})
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}
