//! Security properties through the sidecar's stdio:
//! - planted credentials (sidecar env values, task MCP env values, key-shaped strings in tool
//!   output, vendor stderr, error messages) never reach stdout, the stderr log, results or
//!   `--record` files;
//! - the prompt and system prompt never appear on any child's command line (every descendant's
//!   /proc/<pid>/cmdline is sampled while tasks run, against the fakes and the real vendors);
//! - the defaults are the contract's safe ones (workspace-write + deny, no settings files).

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::fakes::{cmdline, descendants, Fakes};
use support::Sidecar;

const ENV_SECRET: &str = "planted-env-secret-7f3a9c21e4";
const TASK_SECRET: &str = "planted-task-secret-0b8d5e66a1";
const SHAPED_SECRET: &str = "sk-ant-api03-PLANTEDplantedPLANTED0123456789";

#[tokio::test]
async fn planted_credentials_never_leave_the_sidecar() {
    let f = Fakes::new();
    let record = f.root.join("record");
    let mut s = f.sidecar_with(&["--record", record.to_str().unwrap()], |cmd| {
        // A secret-named variable of the sidecar's own environment, and a vendor that prints it
        // (and a key-shaped value nobody declared) everywhere it can.
        cmd.env("ARK_PLANTED_API_KEY", ENV_SECRET)
            .env("FAKE_SECRET", format!("{ENV_SECRET} {SHAPED_SECRET}"))
            .env("RUST_LOG", "debug");
    });
    let out = s
        .run(f.run(
            "claude",
            "leak",
            "leak",
            json!({
                "mcpServers": { "db": { "command": "/bin/true", "env": { "DB_TOKEN": TASK_SECRET } } },
                // The vendor sees only allowlisted variables: the host names the secret's.
                "runtimeOptions": { "claude": {
                    "env": { "FAKE_MODE": "leak", "FAKE_STATE": f.state },
                    "passEnv": ["FAKE_SECRET"],
                } },
            }),
        ))
        .await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "process", "{r}");
    // The secrets went through every path, redacted.
    let all =
        out.response.to_string() + &out.events.iter().map(Value::to_string).collect::<String>();
    assert!(
        r["exit"]["stderrTail"].to_string().contains("[redacted]"),
        "{r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[redacted]"),
        "{r}"
    );
    assert!(all.contains("mcp env: [redacted]"), "{all}");
    assert!(all.contains("echo [redacted]"), "the tool input: {all}");
    assert!(all.contains("output: [redacted]"), "the tool output: {all}");

    // An error reply that quotes host input.
    let r = s
        .call(
            "run",
            json!({ "runtime": "fixture", "task": { "goal": "g", "workingDirectory": format!("/no/{ENV_SECRET}") } }),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[redacted]"),
        "{r}"
    );
    assert_eq!(s.wait_exit().await, Some(0));

    let recorded: String = std::fs::read_dir(&record)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(recorded.contains("[redacted]"), "the run was recorded");
    let log = s.stderr_text();
    assert!(log.contains("[redacted]"), "the vendor's lines were logged");
    for (what, text) in [
        ("stdout", s.stdout_text()),
        ("stderr log", log),
        ("--record files", recorded),
    ] {
        for secret in [ENV_SECRET, TASK_SECRET, SHAPED_SECRET] {
            assert!(!text.contains(secret), "{secret} in {what}");
        }
        assert!(!text.contains("PLANTEDplanted"), "part of a key in {what}");
    }
}

/// Samples the command line of every descendant of `sidecar` until `done` holds (and 300 ms
/// more); returns every distinct one seen.
async fn sample_argv(sidecar: &Sidecar, mut done: impl FnMut() -> bool) -> BTreeSet<String> {
    let pid = sidecar.child.id().unwrap() as i32;
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut until: Option<Instant> = None;
    loop {
        for p in descendants(pid) {
            seen.insert(cmdline(p));
        }
        if until.is_none() && done() {
            until = Some(Instant::now() + Duration::from_millis(300));
        }
        if until.is_some_and(|u| Instant::now() > u) {
            return seen;
        }
        assert!(Instant::now() < deadline, "the task never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Samples every command line under `s` until the model has been asked (`asked` returns the
/// text of each request so far), then asserts that the prompt reached the model and that no
/// marker was on any command line.
async fn assert_prompt_only_reaches_the_model(
    s: &Sidecar,
    markers: &[&str],
    asked: impl Fn() -> Vec<String>,
) {
    let seen = sample_argv(s, || !asked().is_empty()).await;
    assert!(
        asked().iter().any(|t| t.contains(markers[0])),
        "the prompt reached the model"
    );
    assert_clean(&seen, markers);
}

/// Cancels task `task_id` (the `run` request `id`): it ends cancelled and the sidecar exits 0.
async fn cancel_then_exit(s: &mut Sidecar, id: &Value, task_id: &str) {
    s.request("cancel", json!({ "taskId": task_id })).await;
    let r = s.response(id).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(s.wait_exit().await, Some(0));
}

fn assert_clean(seen: &BTreeSet<String>, markers: &[&str]) {
    assert!(!seen.is_empty());
    for line in seen {
        for m in markers {
            assert!(!line.contains(m), "{m} on a command line: {line}");
        }
    }
}

#[tokio::test]
async fn prompts_are_not_on_any_command_line_and_defaults_are_safe_with_the_fakes() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let goal = "GOAL-MARKER-91d2 do the thing";
    let system = "SYSTEM-MARKER-5be0 be careful";
    let task =
        json!({ "goal": goal, "systemPrompt": system, "appendSystemPrompt": "APPEND-MARKER-77aa" });
    let markers = [
        "GOAL-MARKER-91d2",
        "SYSTEM-MARKER-5be0",
        "APPEND-MARKER-77aa",
    ];

    for runtime in ["claude", "codex"] {
        let id = s
            .request("run", f.run(runtime, runtime, "argv", task.clone()))
            .await;
        let mut started = None;
        let seen = sample_argv(&s, || {
            let pids = f.noted_pids();
            // The vendor is up and (claude) has answered on stdout / (codex) has opened the thread.
            if started.is_none() && !pids.is_empty() {
                started = Some(Instant::now());
            }
            started.is_some_and(|t| t.elapsed() > Duration::from_millis(500))
        })
        .await;
        assert_clean(&seen, &markers);
        let vendor_argv: Vec<&String> = seen
            .iter()
            .filter(|l| l.contains(&format!("fake-{runtime}")))
            .collect();
        assert!(!vendor_argv.is_empty(), "{seen:?}");
        if runtime == "claude" {
            // Defaults: workspace-write → acceptEdits; no settings files (they can widen permissions).
            let argv = vendor_argv
                .iter()
                .find(|l| l.contains(" -p "))
                .expect("the run's command line");
            assert!(argv.contains("--permission-mode acceptEdits "), "{argv}");
            assert!(argv.contains("--setting-sources  "), "{argv}");
            assert!(!argv.contains("bypassPermissions"), "{argv}");
            assert!(!argv.contains("dangerously"), "{argv}");
        }
        s.request("cancel", json!({ "taskId": runtime })).await;
        let r = s.response(&id).await;
        assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
        // A fresh state dir, so the next vendor's start is seen.
        std::fs::remove_dir_all(&f.state).unwrap();
        std::fs::create_dir(&f.state).unwrap();
    }
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn codex_defaults_are_workspace_write_and_never_ask() {
    let f = Fakes::new();
    let mut s = f.sidecar();
    let out = s.run(f.run("codex", "cx-defaults", "ok", json!({}))).await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let started = out.of_type("agent.task.started")[0].clone();
    assert_eq!(
        started["permissions"],
        json!({ "sandbox": "workspace-write", "approvals": "deny" })
    );
    let thread: Value = std::fs::read_dir(&f.state)
        .unwrap()
        .flatten()
        .find(|e| e.path().to_string_lossy().ends_with(".thread.json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .expect("the fake saw thread/start");
    assert_eq!(thread["sandbox"], "workspace-write", "{thread}");
    assert_eq!(thread["approvalPolicy"], "never", "{thread}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// The real pinned vendors, each against its mock model server: their own subprocesses too.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn prompts_are_not_on_any_command_line_with_the_real_vendors() {
    let markers = ["GOAL-MARKER-c4e1", "SYSTEM-MARKER-a9f3"];
    let goal = "GOAL-MARKER-c4e1 count to ten";
    let system = "SYSTEM-MARKER-a9f3 you are terse";

    // Claude Code: streams two deltas, then the response stalls while we look.
    {
        use support::mock_claude::Reply;
        let w = support::claude::World::new(vec![Reply::Stall {
            deltas: vec!["one ".into()],
        }])
        .await;
        let (mock, work) = (&w.mock, w.work());
        let mut s = w.sidecar();
        let id = s
            .request(
                "run",
                json!({ "taskId": "real-claude", "runtime": "claude", "task": {
                    "goal": goal, "systemPrompt": system, "workingDirectory": work,
                    "mcpServers": { "m": { "command": "/bin/cat" } } } }),
            )
            .await;
        assert_prompt_only_reaches_the_model(&s, &markers, || {
            mock.requests().iter().map(|r| r.all_text()).collect()
        })
        .await;
        cancel_then_exit(&mut s, &id, "real-claude").await;
    }

    // Codex app-server: the Responses stream stalls.
    {
        use support::mock_codex::{MockResponses, Reply};
        let mock = MockResponses::start(vec![Reply::Stall]).await;
        let env = support::codex::World::new();
        let work = &env.work;
        let mut s = env.sidecar();
        let id = s
            .request(
                "run",
                json!({ "taskId": "real-codex", "runtime": "codex", "task": {
                    "goal": goal, "systemPrompt": system, "workingDirectory": work,
                    "model": "gpt-5.5",
                    "runtimeOptions": { "codex": { "provider": {
                        "id": "mock", "baseUrl": mock.base_url, "envKey": "OPENAI_API_KEY",
                        "requestMaxRetries": 0, "streamMaxRetries": 0 } } } } }),
            )
            .await;
        assert_prompt_only_reaches_the_model(&s, &markers, || {
            mock.requests().iter().map(|r| r.body.to_string()).collect()
        })
        .await;
        cancel_then_exit(&mut s, &id, "real-codex").await;
    }

    // Antigravity: the Python bridge and the SDK's harness; the Gemini mock hangs.
    {
        use support::mock_gemini::Reply;
        let w = support::antigravity::World::start(vec![Reply::Hang(
            Duration::from_secs(60),
            Box::new(Reply::text(&["late"])),
        )])
        .await;
        let (mock, work) = (&w.mock, w.work());
        let mut s = w.sidecar;
        let id = s
            .request(
                "run",
                json!({ "taskId": "real-agy", "runtime": "antigravity", "task": {
                    "goal": goal, "systemPrompt": system, "workingDirectory": work,
                    "model": "gemini-mock-flash" } }),
            )
            .await;
        assert_prompt_only_reaches_the_model(&s, &markers, || {
            mock.requests().iter().map(|r| r.body.to_string()).collect()
        })
        .await;
        cancel_then_exit(&mut s, &id, "real-agy").await;
    }
}
