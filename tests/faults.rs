//! Vendors that misbehave, through the sidecar's stdio: crashes, missing final messages, hangs that
//! ignore SIGTERM, garbage and enormous lines, stderr floods, grandchildren, a closed-off stdin, and
//! a host that stops reading. For each: exactly one response with the right finishReason and
//! error, bounded memory, no process left behind, and the sidecar keeps serving.
//!
//! The vendors are tests/fakes/vendor.py speaking just enough of Claude Code's stream-json or of
//! `codex app-server`; no real vendor or model is needed.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::fakes::{assert_serves, descendants, peak_rss_kib, Fakes};
use support::sidecar::{assert_well_formed, RunOutcome};
use support::Sidecar;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Runs a task and cancels it once its event of type `ty` arrived.
async fn run_cancel_after(s: &mut Sidecar, params: Value, ty: &str) -> RunOutcome {
    let task_id = params["taskId"].clone();
    let id = s.request("run", params).await;
    let mut events = vec![];
    loop {
        let m = s.next().await.expect("sidecar running");
        if m.get("method").is_none() && m["id"] == id {
            panic!("the run ended before {ty}: {m}");
        }
        if m["method"] == "event" && m["params"]["taskId"] == task_id {
            let hit = m["params"]["type"] == ty;
            events.push(m);
            if hit {
                break;
            }
        }
    }
    s.request("cancel", json!({ "taskId": task_id })).await;
    loop {
        let m = s.next().await.expect("sidecar running");
        if m.get("method").is_none() && m["id"] == id {
            return RunOutcome {
                events,
                response: m,
            };
        }
        if m["method"] == "event" && m["params"]["taskId"] == task_id {
            events.push(m);
        }
    }
}

/// Closes the sidecar's input, checks it exits 0, and that no response is left over (a run that
/// got two responses would leave one here).
async fn finish(s: &mut Sidecar) {
    assert_eq!(s.wait_exit().await, Some(0));
    let rest = s.drain().await;
    let stray: Vec<&Value> = rest.iter().filter(|m| m.get("method").is_none()).collect();
    assert!(stray.is_empty(), "responses nobody asked for: {stray:?}");
}

fn text_of(out: &RunOutcome, ty: &str) -> Vec<String> {
    out.of_type(ty)
        .iter()
        .map(|d| d["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// After a run: the sidecar has no child left.
async fn assert_no_children(s: &Sidecar) {
    let pid = s.child.id().expect("sidecar running") as i32;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // The guardian (process.rs) lives as long as the sidecar, by design.
        let left: Vec<i32> = descendants(pid)
            .into_iter()
            .filter(|p| !support::fakes::cmdline(*p).contains("__guardian"))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sidecar still has children: {:?}",
            left.iter()
                .map(|p| support::fakes::cmdline(*p))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn claude_crash_mid_stream_keeps_partial_output_and_the_stderr_tail() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s.run(f.run("claude", "crash", "crash", json!({}))).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    assert_eq!(r["exit"]["code"], 3, "{r}");
    assert!(
        r["exit"]["stderrTail"]
            .to_string()
            .contains("the fake vendor fell over"),
        "{r}"
    );
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("exited with code 3"), "{message}");
    assert!(message.contains("fell over"), "{message}");
    assert_eq!(r["output"], "partial answer before the crash");
    assert!(r["sessionId"].as_str().unwrap_or("").len() > 5, "{r}");
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-crash").await;
    assert_no_children(&s).await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_exit_without_a_result_is_built_from_what_was_seen() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s.run(f.run("claude", "nores", "noresult", json!({}))).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("without a result"),
        "{r}"
    );
    assert_eq!(r["exit"]["code"], 0, "{r}");
    assert_eq!(r["output"], "last words", "the last assistant text: {r}");
    assert_eq!(
        text_of(&out, "agent.message"),
        ["first words", "last words"]
    );
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-noresult").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_hang_ignoring_sigterm_is_killed_on_cancel_and_a_silent_one_times_out() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let began = Instant::now();
    let out = run_cancel_after(
        &mut s,
        f.run("claude", "hang", "hang", json!({})),
        "agent.task.started",
    )
    .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(r["cancel"], "forced", "{r}");
    assert_eq!(r["exit"]["signal"], 9, "{r}");
    assert!(began.elapsed() < Duration::from_secs(15));

    // Says nothing at all, ignores SIGTERM: the idle watchdog ends it.
    let began = Instant::now();
    let out = s
        .run(f.run(
            "claude",
            "silent",
            "silent",
            json!({ "idleTimeoutMs": 800 }),
        ))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "timeout", "{r}");
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("idleTimeoutMs"),
        "{r}"
    );
    assert!(began.elapsed() < Duration::from_secs(15));
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-hang").await;
    finish(&mut s).await;
}

/// A vendor that streams deltas without a pause: the turn takes the lines already read in runs
/// without looking at anything else, and the cancel must still be seen between them: the
/// interrupt goes out and the vendor's own answer ends the task (soft), long before the
/// interrupt deadline would kill it. (This fake cannot outrun the relay for long, so the bound
/// on a run, `MAX_STREAK` in claude/turn.rs, is not what makes this pass.)
#[tokio::test]
async fn claude_a_cancel_is_seen_while_deltas_pour_in() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let began = Instant::now();
    let out = run_cancel_after(
        &mut s,
        f.run("claude", "endless", "endless", json!({})),
        "agent.output.delta",
    )
    .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(
        r["cancel"], "soft",
        "the vendor answered the interrupt: {r}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "ended by the interrupt, not its deadline: {:?}",
        began.elapsed()
    );
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-endless").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_garbage_lines_are_skipped_and_a_split_json_line_is_rejoined() {
    let f = Fakes::new();
    let mut s = f.sidecar_with(&[], |cmd| {
        cmd.env("RUST_LOG", "debug");
    });
    let out = s
        .run(f.run("claude", "garbage", "garbage", json!({})))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "final\nanswer", "{r}");
    assert_eq!(text_of(&out, "agent.message"), ["line one\nline two"]);
    // The non-JSON lines went to the log, not to the host.
    let log = s.stderr_text();
    assert!(log.contains("this is not JSON"), "{log}");
    assert!(!s.stdout_text().contains("this is not JSON"));
    assert_serves(&mut s, &f, "claude", "after-garbage").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_a_100mb_line_is_skipped_with_bounded_memory() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s
        .run(f.run("claude", "huge", "hugeline", json!({ "timeoutMs": 60000 })))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "survived the huge line");
    assert_eq!(
        text_of(&out, "agent.message"),
        ["before the huge line", "after the huge line"]
    );
    let peak = peak_rss_kib(s.child.id().unwrap());
    eprintln!("sidecar peak RSS after a 100 MB line: {peak} KiB");
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    assert!(s.stderr_text().contains("skipped"), "the skip is logged");
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-huge").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_a_100mb_stderr_flood_is_drained_without_deadlock() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let began = Instant::now();
    let out = s
        .run(f.run(
            "claude",
            "flood",
            "stderrflood",
            json!({ "timeoutMs": 60000 }),
        ))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "survived the flood");
    assert!(began.elapsed() < Duration::from_secs(30));
    let peak = peak_rss_kib(s.child.id().unwrap());
    eprintln!("sidecar peak RSS after a 100 MB stderr flood: {peak} KiB");
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    f.assert_nothing_left().await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_grandchildren_are_killed_after_a_normal_end_and_after_a_crash() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s.run(f.run("claude", "gk", "grandkids", json!({}))).await;
    assert_well_formed(&out.events);
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    assert_eq!(
        f.noted_pids().len(),
        3,
        "the fake noted itself and two grandchildren"
    );
    f.assert_nothing_left().await;

    // The vendor dies while its grandchildren hold its stdout and stderr open: stdout never
    // reaches EOF, yet the run must end, with the crash reported.
    let began = Instant::now();
    let out = s
        .run(f.run("claude", "gkc", "grandkids_crash", json!({})))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    assert_eq!(r["exit"]["code"], 5, "{r}");
    assert_eq!(r["output"], "forked two, then crashed");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    f.assert_nothing_left().await;
    assert_no_children(&s).await;
    assert_serves(&mut s, &f, "claude", "after-gk").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_a_vendor_that_never_reads_stdin_does_not_wedge_the_sidecar() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    // A prompt far larger than a pipe buffer: writing it blocks for as long as the vendor does not read.
    let goal = "G".repeat(4 * 1024 * 1024);
    let stuck = s
        .request(
            "run",
            f.run(
                "claude",
                "nostdin",
                "nostdin",
                json!({ "goal": goal, "timeoutMs": 3000 }),
            ),
        )
        .await;
    // Meanwhile another task runs to its end.
    assert_serves(&mut s, &f, "claude", "beside-nostdin").await;
    let r = s.response(&stuck).await;
    let r = &r["result"];
    assert_eq!(r["finishReason"], "timeout", "{r}");
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    f.assert_nothing_left().await;
    finish(&mut s).await;
}

#[tokio::test]
async fn claude_a_flood_of_control_requests_without_reading_stdin_keeps_memory_bounded() {
    // 200,000 requests we do not serve, each answered with a reply the CLI never reads: the
    // replies fill the pipe and the bounded stdin queue, and the rest are dropped (one pending
    // task per reply would hold every one of them).
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s
        .run(f.run("claude", "ctl", "ctlflood", json!({ "timeoutMs": 120000 })))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "flooded 200000");
    let peak = peak_rss_kib(s.child.id().unwrap());
    eprintln!("sidecar peak RSS after 200,000 unread control replies: {peak} KiB");
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    assert!(
        s.stderr_text().contains("not reading its stdin"),
        "the drop is logged"
    );
    f.assert_nothing_left().await;
    assert_serves(&mut s, &f, "claude", "after-ctl").await;
    finish(&mut s).await;
}

#[tokio::test]
async fn sigkill_of_the_sidecar_leaves_no_vendor_process_alive() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let a = s
        .request("run", f.run("claude", "k1", "grandkids_hang", json!({})))
        .await;
    let b = s
        .request("run", f.run("codex", "k2", "hang", json!({})))
        .await;
    // Wait until both vendors are running (each noted its pid, the claude one its grandchildren).
    let deadline = Instant::now() + Duration::from_secs(20);
    while f.noted_pids().len() < 4 {
        assert!(Instant::now() < deadline, "vendors did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = (a, b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.child.start_kill().unwrap();
    let _ = s.child.wait().await;
    f.assert_nothing_left().await;
}

#[tokio::test]
async fn codex_crash_hang_and_grandchildren() {
    let f = Fakes::new();
    let mut s = f.sidecar();

    let out = s.run(f.run("codex", "cx-crash", "crash", json!({}))).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    assert_eq!(r["exit"]["code"], 101, "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("fake codex fell over"));
    assert_eq!(r["output"], "partial answer before the crash", "{r}");

    let out = run_cancel_after(
        &mut s,
        f.run("codex", "cx-hang", "hang", json!({})),
        "agent.output.delta",
    )
    .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(r["cancel"], "forced", "{r}");
    assert_eq!(r["exit"]["signal"], 9, "{r}");

    let out = s.run(f.run("codex", "cx-gk", "grandkids", json!({}))).await;
    assert_well_formed(&out.events);
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );

    let began = Instant::now();
    let out = s
        .run(f.run("codex", "cx-gkc", "grandkids_crash", json!({})))
        .await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    assert!(began.elapsed() < Duration::from_secs(10));

    f.assert_nothing_left().await;
    assert_no_children(&s).await;
    assert_serves(&mut s, &f, "codex", "cx-after").await;
    finish(&mut s).await;
}

/// A host that stops reading stdout for 10 s while three tasks stream: the vendors are held up
/// (back-pressure, bounded memory), and once reading resumes every event and every response
/// arrives, in order, none lost.
#[tokio::test]
async fn a_host_that_stops_reading_loses_nothing() {
    const TASKS: usize = 3;
    const DELTAS: usize = 5000;
    let f = Fakes::new();
    let mut cmd = tokio::process::Command::new(support::sidecar::BIN);
    cmd.args([
        "--claude-path",
        f.claude.to_str().unwrap(),
        "--log-level",
        "warn",
    ])
    .env("FAKE_STATE", &f.state)
    .env("HOME", f.root.join("home"))
    .current_dir(&f.work)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..TASKS {
        let req = json!({
            "jsonrpc": "2.0", "id": i, "method": "run",
            // Vendors see only allowlisted variables: the count goes with the task.
            "params": f.run_env("claude", &format!("slow-{i}"), json!({ "FAKE_MODE": "stream", "FAKE_COUNT": DELTAS.to_string() }), json!({})),
        });
        stdin
            .write_all(format!("{req}\n").as_bytes())
            .await
            .unwrap();
    }
    stdin.flush().await.unwrap();

    tokio::time::sleep(Duration::from_secs(10)).await;
    // Held up, not finished: the vendors are still alive, blocked on their own stdout.
    let vendors = f.noted_pids();
    assert_eq!(vendors.len(), TASKS, "every vendor started");
    assert!(
        vendors.iter().any(|p| support::fakes::alive(*p)),
        "back-pressure reaches the vendors"
    );
    let peak = peak_rss_kib(child.id().unwrap());
    assert!(peak < 100 * 1024, "peak RSS while blocked: {peak} KiB");

    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seq = [0u64; TASKS];
    let mut deltas = [0usize; TASKS];
    let mut responses = vec![None::<Value>; TASKS];
    while responses.iter().any(Option::is_none) {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("output resumes")
            .unwrap()
            .expect("sidecar running");
        let m: Value = serde_json::from_str(&line).unwrap();
        if m["method"] == "event" {
            let i: usize = m["params"]["taskId"].as_str().unwrap()[5..]
                .parse()
                .unwrap();
            assert_eq!(m["params"]["seq"], seq[i], "no gap: {m}");
            seq[i] += 1;
            if m["params"]["type"] == "agent.output.delta" {
                assert_eq!(
                    m["params"]["data"]["text"],
                    format!("d{:05} ", deltas[i]),
                    "in order"
                );
                deltas[i] += 1;
            }
        } else {
            let i = m["id"].as_u64().unwrap() as usize;
            assert!(responses[i].is_none(), "one response per run");
            responses[i] = Some(m);
        }
    }
    for i in 0..TASKS {
        assert_eq!(deltas[i], DELTAS, "task {i} lost nothing");
        let r = &responses[i].as_ref().unwrap()["result"];
        assert_eq!(r["finishReason"], "completed", "{r}");
        assert_eq!(r["output"], format!("streamed {DELTAS}"));
    }
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    f.assert_nothing_left().await;
}
