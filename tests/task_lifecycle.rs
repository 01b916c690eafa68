//! Task lifetimes through the real binary: concurrency, cancel, timeouts, EOF, record/replay.

mod support;

use std::collections::HashMap;

use serde_json::{json, Value};
use support::sidecar::assert_well_formed;
use support::Sidecar;

fn script(steps: Value, result: Value) -> Value {
    json!({"fixture": {"script": {"steps": steps, "result": result}}})
}

fn streaming_steps(n: usize, delay_ms: u64) -> Value {
    let mut steps = vec![];
    for i in 0..n {
        steps.push(json!({"delayMs": delay_ms}));
        steps.push(json!({"event": "agent.output.delta", "data": {"text": format!("w{i} ")}}));
    }
    Value::Array(steps)
}

#[tokio::test]
async fn two_hundred_concurrent_runs_each_get_one_response_after_their_events() {
    let mut s = Sidecar::spawn(&[]);
    let n = 200;
    let mut ids = HashMap::new();
    for i in 0..n {
        let task_id = format!("task-{i}");
        let id = s
            .request("run", json!({"taskId": task_id, "runtime": "fixture", "task": {"goal": "go",
                "runtimeOptions": script(streaming_steps(5, (i % 7) as u64), json!({"output": format!("out-{i}")}))}}))
            .await;
        ids.insert(id.to_string(), task_id);
    }
    let mut all = vec![];
    let mut answered = 0;
    while answered < n {
        let v = s.next().await.unwrap();
        if v.get("id").is_some() {
            answered += 1;
        }
        all.push(v);
    }
    let mut events: HashMap<String, Vec<Value>> = HashMap::new();
    let mut responses: HashMap<String, usize> = HashMap::new();
    for v in all {
        if v["method"] == "event" {
            let tid = v["params"]["taskId"].as_str().unwrap().to_string();
            assert!(
                !responses.contains_key(&tid),
                "an event after its task's response: {v}"
            );
            events.entry(tid).or_default().push(v);
        } else {
            let tid = ids
                .get(&v["id"].to_string())
                .expect("a response to a request we sent")
                .clone();
            assert_eq!(v["result"]["finishReason"], "completed", "{v}");
            assert_eq!(
                v["result"]["output"],
                format!("out-{}", tid.trim_start_matches("task-"))
            );
            *responses.entry(tid).or_default() += 1;
        }
    }
    assert_eq!(responses.len(), n, "every run answered");
    assert!(responses.values().all(|&c| c == 1), "exactly once each");
    for evs in events.values() {
        assert_well_formed(evs);
        assert_eq!(evs.len(), 1 + 5 + 1);
    }
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn cancel_before_the_first_event_mid_stream_and_after_the_end() {
    let mut s = Sidecar::spawn(&[]);
    // Before the first event: run and cancel in the same write.
    let run = json!({"jsonrpc":"2.0","id":"r1","method":"run","params":{"taskId":"early","runtime":"fixture",
        "task":{"goal":"x","runtimeOptions": script(streaming_steps(50, 20), json!({}))}}});
    let cancel = json!({"jsonrpc":"2.0","id":"c1","method":"cancel","params":{"taskId":"early"}});
    s.send_raw(format!("{run}\n{cancel}\n").as_bytes()).await;
    // Lines are admitted in order: the cancel always finds the task.
    let c = s.response(&json!("c1")).await;
    assert_eq!(c["result"]["state"], "cancelling", "{c}");
    let r = s.response(&json!("r1")).await;
    assert_eq!(r["result"]["finishReason"], "cancelled");
    assert_eq!(r["result"]["cancel"], "soft");
    assert_eq!(r["result"]["output"], "");

    // Mid-stream.
    let id = s
        .request(
            "run",
            json!({"taskId":"mid","runtime":"fixture","task":{"goal":"x",
            "runtimeOptions": script(streaming_steps(100, 20), json!({"output":"never"}))}}),
        )
        .await;
    let mut deltas = 0;
    while deltas < 3 {
        let v = s.next().await.unwrap();
        if v["params"]["type"] == "agent.output.delta" {
            deltas += 1;
        }
    }
    let c = s.call("cancel", json!({"taskId":"mid"})).await;
    assert_eq!(c["result"]["state"], "cancelling");
    let r = s.response(&id).await;
    assert_eq!(r["result"]["finishReason"], "cancelled");
    let again = s.call("cancel", json!({"taskId":"mid"})).await;
    assert_eq!(
        again["result"]["state"], "finished",
        "a second cancel is harmless"
    );

    // After the end.
    let out = s
        .run(json!({"taskId":"done","runtime":"fixture","task":{"goal":"x"}}))
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    let c = s.call("cancel", json!({"taskId":"done"})).await;
    assert_eq!(c["result"], json!({"taskId":"done","state":"finished"}));
}

#[tokio::test]
async fn timeouts_end_the_task_with_finish_reason_timeout() {
    let mut s = Sidecar::spawn(&[]);
    let out = s
        .run(
            json!({"runtime":"fixture","task":{"goal":"x","timeoutMs": 200,
            "runtimeOptions": script(streaming_steps(100, 20), json!({}))}}),
        )
        .await;
    assert_well_formed(&out.events);
    assert_eq!(out.result()["finishReason"], "timeout");
    assert_eq!(out.result()["error"]["kind"], "timeout");
    // Idle: no output for longer than idleTimeoutMs.
    let out = s
        .run(
            json!({"runtime":"fixture","task":{"goal":"x","idleTimeoutMs": 300,
            "runtimeOptions": script(json!([{"delayMs": 60000}]), json!({}))}}),
        )
        .await;
    assert_eq!(out.result()["finishReason"], "timeout");
    assert!(out.result()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("idleTimeoutMs"));
    // Steady output keeps an idle timer from firing.
    let out = s
        .run(
            json!({"runtime":"fixture","task":{"goal":"x","idleTimeoutMs": 500,
            "runtimeOptions": script(streaming_steps(10, 100), json!({"output":"ok"}))}}),
        )
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
}

#[tokio::test]
async fn stdin_eof_cancels_running_tasks_and_still_answers_them() {
    let mut s = Sidecar::spawn(&[]);
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            s.request(
                "run",
                json!({"taskId": format!("eof-{i}"), "runtime":"fixture","task":{"goal":"x",
                "runtimeOptions": script(json!([{"delayMs": 60000}]), json!({}))}}),
            )
            .await,
        );
    }
    let mut started = 0;
    while started < 5 {
        if s.next().await.unwrap()["params"]["type"] == "agent.task.started" {
            started += 1;
        }
    }
    s.close_stdin();
    let rest = s.drain().await;
    for id in ids {
        let r: Vec<_> = rest.iter().filter(|v| v["id"] == id).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["result"]["finishReason"], "cancelled");
    }
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn approvals_go_to_the_host_and_deny_is_the_default() {
    let mut s = Sidecar::spawn(&[]);
    let steps =
        json!([{"approval": {"name": "Write", "input": {"path": "x"}, "output": "written"}}]);
    let task = |approvals: &str| {
        json!({"runtime":"fixture","task":{"goal":"x",
        "permissions": {"approvals": approvals}, "runtimeOptions": script(steps.clone(), json!({}))}})
    };
    let out = s
        .run_with(task("host"), |p| {
            assert_eq!(p["name"], "Write");
            Some(json!({"decision": "allow"}))
        })
        .await;
    assert_eq!(out.of_type("agent.approval.requested").len(), 1);
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "ok");
    assert_eq!(out.result()["toolCalls"][0]["output"], "written");

    let out = s
        .run_with(task("host"), |_| {
            Some(json!({"decision": "deny", "message": "no"}))
        })
        .await;
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");

    let mut asked = false;
    let out = s
        .run_with(task("deny"), |_| {
            asked = true;
            None
        })
        .await;
    assert!(!asked, "approvals: deny never asks the host");
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");

    // A host that never answers: the approval times out as a deny.
    let mut t = task("host");
    t["options"] = json!({"approvalTimeoutMs": 200});
    let out = s.run_with(t, |_| None).await;
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");
}

#[tokio::test]
async fn output_schema_is_enforced_on_the_result() {
    let mut s = Sidecar::spawn(&[]);
    let schema = json!({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]});
    let run = |structured: Value| {
        json!({"runtime":"fixture","task":{"goal":"x","outputSchema": schema,
        "runtimeOptions": script(json!([]), json!({"output":"{}","structuredOutput": structured}))}})
    };
    let out = s.run(run(json!({"n": 3}))).await;
    assert_eq!(out.result()["finishReason"], "completed");
    assert_eq!(out.result()["structuredOutput"], json!({"n": 3}));
    let out = s.run(run(json!({"n": "three"}))).await;
    assert_eq!(out.result()["finishReason"], "error");
    assert_eq!(out.result()["error"]["kind"], "schema");
    let out = s.run(run(Value::Null)).await;
    assert_eq!(out.result()["error"]["kind"], "schema");
}

#[tokio::test]
async fn a_recorded_run_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Sidecar::spawn(&["--record", dir.path().to_str().unwrap()]);
    let task = json!({"goal":"record me","permissions":{"approvals":"host"},"runtimeOptions": script(json!([
        {"event":"agent.output.delta","data":{"text":"Hel"}},
        {"tool":{"name":"Bash","input":{"command":"ls"},"output":"a b"}},
        {"approval":{"name":"Write","input":{"path":"x"}}},
        {"event":"agent.message","data":{"text":"Hello"}}
    ]), json!({"output":"Hello","sessionId":"s-1","usage":{"inputTokens":3,"outputTokens":4},"turns":2}))});
    let original = rec
        .run_with(
            json!({"taskId":"rec-1","runtime":"fixture","task": task}),
            |_| Some(json!({"decision":"allow"})),
        )
        .await;
    assert_eq!(rec.wait_exit().await, Some(0));
    let file = dir.path().join("rec-1.json");
    assert!(file.exists(), "the recording was written");

    let mut play = Sidecar::spawn(&[]);
    let replay = play
        .run(
            json!({"taskId":"rec-1","runtime":"fixture","task":{"goal":"record me",
            "runtimeOptions":{"fixture":{"path": file.to_str().unwrap()}}}}),
        )
        .await;
    let strip = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["method"] == "event")
            .map(|e| {
                let mut p = e["params"].clone();
                p.as_object_mut().unwrap().remove("time");
                p
            })
            .collect()
    };
    assert_eq!(strip(&original.events), strip(&replay.events));
    let mut a = original.result().clone();
    let mut b = replay.result().clone();
    for r in [&mut a, &mut b] {
        let o = r.as_object_mut().unwrap();
        o.remove("durationMs");
        for call in o.get_mut("toolCalls").unwrap().as_array_mut().unwrap() {
            call.as_object_mut().unwrap().remove("durationMs");
        }
    }
    assert_eq!(a, b);
}
