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
use support::sidecar::assert_well_formed;
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
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
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
    let claude = support::vendor("ARK_TEST_CLAUDE");
    let codex = support::vendor("ARK_TEST_CODEX");
    let python = support::vendor("ARK_TEST_ANTIGRAVITY_PYTHON");
    let markers = ["GOAL-MARKER-c4e1", "SYSTEM-MARKER-a9f3"];
    let goal = "GOAL-MARKER-c4e1 count to ten";
    let system = "SYSTEM-MARKER-a9f3 you are terse";
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for d in ["work", "home/.claude", "codex-home", "state", "cache"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let work = root.join("work");

    // Claude Code: streams two deltas, then the response stalls while we look.
    {
        use support::mock_claude::{MockClaude, Reply};
        let mock = MockClaude::start(vec![Reply::Stall {
            deltas: vec!["one ".into()],
        }])
        .await;
        let home = root.join("home");
        let mut s = Sidecar::spawn_with(&["--claude-path", claude.to_str().unwrap()], |cmd| {
            cmd.env("ANTHROPIC_BASE_URL", &mock.url)
                .env("ANTHROPIC_API_KEY", "dummy-test-key-0123456789")
                .env_remove("ANTHROPIC_AUTH_TOKEN")
                .env_remove("CLAUDE_CODE_OAUTH_TOKEN")
                .env("HOME", &home)
                .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
                .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
                .env("DISABLE_AUTOUPDATER", "1")
                .env("DISABLE_TELEMETRY", "1")
                .env("DISABLE_ERROR_REPORTING", "1")
                .current_dir(&work);
        });
        let id = s
            .request(
                "run",
                json!({ "taskId": "real-claude", "runtime": "claude", "task": {
                    "goal": goal, "systemPrompt": system, "workingDirectory": work,
                    "mcpServers": { "m": { "command": "/bin/cat" } } } }),
            )
            .await;
        let seen = sample_argv(&s, || !mock.requests().is_empty()).await;
        assert!(
            mock.requests()
                .iter()
                .any(|r| r.all_text().contains(markers[0])),
            "the prompt reached the model"
        );
        assert_clean(&seen, &markers);
        s.request("cancel", json!({ "taskId": "real-claude" }))
            .await;
        let r = s.response(&id).await;
        assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
        assert_eq!(s.wait_exit().await, Some(0));
    }

    // Codex app-server: the Responses stream stalls.
    {
        use support::mock_codex::{MockResponses, Reply};
        let mock = MockResponses::start(vec![Reply::Stall]).await;
        let r2 = root.clone();
        let mut s = Sidecar::spawn_with(&["--codex-path", codex.to_str().unwrap()], move |cmd| {
            cmd.env("CODEX_HOME", r2.join("codex-home"))
                .env("HOME", r2.join("home"))
                .env("OPENAI_API_KEY", "dummy")
                .env_remove("CODEX_API_KEY");
        });
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
        let seen = sample_argv(&s, || !mock.requests().is_empty()).await;
        assert!(
            mock.requests()
                .iter()
                .any(|r| r.body.to_string().contains(markers[0])),
            "the prompt reached the model"
        );
        assert_clean(&seen, &markers);
        s.request("cancel", json!({ "taskId": "real-codex" })).await;
        let r = s.response(&id).await;
        assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
        assert_eq!(s.wait_exit().await, Some(0));
    }

    // Antigravity: the Python bridge and the SDK's harness; the Gemini mock hangs.
    {
        use support::mock_gemini::{MockGemini, Reply};
        let mock = MockGemini::start(vec![Reply::Hang(
            Duration::from_secs(60),
            Box::new(Reply::text(&["late"])),
        )])
        .await;
        let (url, r2) = (mock.url.clone(), root.clone());
        let mut s = Sidecar::spawn_with(&[], move |cmd| {
            cmd.env("AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON", &python)
                .env("GEMINI_API_KEY", "dummy-test-key-0123456789")
                .env("GOOGLE_GEMINI_BASE_URL", &url)
                .env("XDG_STATE_HOME", r2.join("state"))
                .env("XDG_CACHE_HOME", r2.join("cache"))
                .env_remove("GOOGLE_API_KEY")
                .env_remove("GOOGLE_GENAI_USE_VERTEXAI")
                .env_remove("ANTIGRAVITY_HARNESS_PATH")
                .current_dir(r2.join("work"));
        });
        let id = s
            .request(
                "run",
                json!({ "taskId": "real-agy", "runtime": "antigravity", "task": {
                    "goal": goal, "systemPrompt": system, "workingDirectory": work,
                    "model": "gemini-mock-flash" } }),
            )
            .await;
        let seen = sample_argv(&s, || !mock.requests().is_empty()).await;
        assert!(
            mock.requests()
                .iter()
                .any(|r| r.body.to_string().contains(markers[0])),
            "the prompt reached the model"
        );
        assert_clean(&seen, &markers);
        s.request("cancel", json!({ "taskId": "real-agy" })).await;
        let r = s.response(&id).await;
        assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
        assert_eq!(s.wait_exit().await, Some(0));
    }
}
