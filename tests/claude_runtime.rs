//! The claude runtime end to end: the sidecar's stdio → the real pinned Claude Code CLI → a mock
//! Messages API on 127.0.0.1 (tests/support/mock_claude.rs). No test touches the internet: the
//! CLI gets a private HOME/CLAUDE_CONFIG_DIR, a dummy key, and non-essential traffic, telemetry
//! and auto-update off.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::claude::World;
use support::mock_claude::{Block, Reply};
use support::sidecar::RunOutcome;
use support::Sidecar;

fn deltas(out: &RunOutcome) -> String {
    out.of_type("agent.output.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect()
}

/// A shell script standing in for `claude` (for the cases a real CLI cannot be made to show).
fn fake_claude(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn plain_answer_streams_deltas_and_keeps_large_inputs_off_argv() {
    let w = World::new(vec![Reply::text("Hello from the mock model.")]).await;
    // A wrapper that records the CLI's argv, then runs the real binary.
    let argv_log = w.dir.path().join("argv.log");
    let wrapper = fake_claude(
        w.dir.path(),
        "claude-wrapper",
        &format!(
            "printf '%s\\n' \"$@\" >> '{}'\nexec '{}' \"$@\"",
            argv_log.display(),
            w.claude.display()
        ),
    );
    let extra = w.dir.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    let mut s = w.sidecar_with(&wrapper, &[]);
    let out = s
        .run(w.run_params(
            "plain",
            json!({
                "goal": "GOAL-MARKER say hello",
                "systemPrompt": "SYSTEM-MARKER you are terse",
                "appendSystemPrompt": "APPEND-MARKER be kind",
                "metadata": {"ticket": 7},
                "additionalDirectories": [extra],
                "mcpServers": {
                    "web": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
                    "local": {"command": "/bin/false", "args": ["--flag"]},
                },
            }),
        ))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(r["output"], "Hello from the mock model.");
    assert_eq!(deltas(&out), "Hello from the mock model.");
    assert_eq!(
        out.of_type("agent.message")[0]["text"],
        "Hello from the mock model."
    );
    let started = out.of_type("agent.task.started")[0];
    let sid = r["sessionId"].as_str().expect("a session id");
    assert_eq!(started["sessionId"], sid);
    assert_eq!(started["vendor"]["permissionMode"], "acceptEdits");
    assert_eq!(started["metadata"]["ticket"], 7);
    assert_eq!(
        started["vendor"]["additionalDirectories"],
        json!([extra.canonicalize().unwrap()])
    );
    let mut mcp: Vec<&str> = started["vendor"]["mcpServers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    mcp.sort();
    assert_eq!(mcp, ["local", "web"]);
    let turns = out.of_type("agent.vendor.turn");
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0]["usage"]["outputTokens"], 12);
    assert_eq!(r["turns"], 1);
    assert_eq!(r["usage"]["inputTokens"], 100);
    assert_eq!(r["usage"]["outputTokens"], 12);
    assert!(r["usage"]["costUsd"].as_f64().unwrap() > 0.0);
    // Answered as soon as the result is in: the CLI exits (and is reaped) afterwards.
    assert!(r.get("exit").is_none(), "{r}");

    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 1, "one model turn, one request");
    let req = &reqs[0];
    assert!(req.all_text().contains("GOAL-MARKER"));
    let system = req.system_text();
    assert!(system.contains("SYSTEM-MARKER"), "{system}");
    assert!(system.contains("APPEND-MARKER"), "{system}");
    // The real CLI's default system prompt was replaced.
    assert!(!system.contains("# Doing tasks"), "{system}");
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    for marker in ["GOAL-MARKER", "SYSTEM-MARKER", "APPEND-MARKER"] {
        assert!(!argv.contains(marker), "{marker} on argv: {argv}");
    }
    assert!(argv.contains("stream-json"), "{argv}");
    // The MCP config (which may carry tokens) went through a private file.
    assert!(!argv.contains("127.0.0.1:9"), "{argv}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Streamed text (`stream_event` text deltas read typed, without a `Value`) is cleaned like every
/// other field: a key-shaped secret is redacted and a delta over the field limit is cut with its
/// `textTruncated` marker, in order, one event per delta.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn typed_text_deltas_are_redacted_and_cut_in_order() {
    let secret = "sk-ant-api03-STREAMEDsecretSTREAMED0123456789";
    let long = "L".repeat(300);
    let script = vec![Reply::Message {
        blocks: vec![Block::Text(vec![
            "first ".into(),
            format!("key {secret} "),
            long.clone(),
            " last".into(),
        ])],
        stop_reason: "end_turn".into(),
        delay: Duration::ZERO,
    }];
    let w = World::new(script).await;
    let mut s = w.sidecar();
    let mut params = w.run_params("clean", json!({ "goal": "say it" }));
    params["options"] = json!({ "maxFieldBytes": 100 });
    let out = s.run(params).await;
    out.assert_finished("completed");
    let texts: Vec<&Value> = out.of_type("agent.output.delta");
    assert_eq!(texts.len(), 4, "one event per delta: {texts:?}");
    assert_eq!(texts[0]["text"], "first ");
    assert_eq!(texts[1]["text"], "key [redacted] ");
    assert_eq!(texts[2]["text"], "L".repeat(100));
    assert_eq!(
        texts[2]["textTruncated"],
        json!({ "truncated": true, "bytes": 300 })
    );
    assert_eq!(texts[3]["text"], " last");
    assert!(!s.stdout_text().contains(secret));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn write_tool_creates_a_file_and_reports_the_artifact() {
    let w = World::new(vec![
        Reply::tool(
            "Write",
            json!({"file_path": "notes/hello.txt", "content": "hi there\n"}),
        ),
        Reply::text("Wrote the file."),
    ])
    .await;
    std::fs::create_dir_all(w.work().join("notes")).unwrap();
    let mut s = w.sidecar();
    let out = s
        .run(w.run_params("write", json!({"goal": "write a file"})))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(
        std::fs::read_to_string(w.work().join("notes/hello.txt")).unwrap(),
        "hi there\n"
    );
    assert_eq!(
        r["artifacts"],
        json!([{"path": "notes/hello.txt", "change": "created"}])
    );
    let requested = out.of_type("agent.tool.requested");
    assert_eq!(requested[0]["name"], "Write");
    let completed = out.of_type("agent.tool.completed");
    assert_eq!(completed[0]["status"], "ok");
    assert_eq!(completed[0]["toolCallId"], requested[0]["toolCallId"]);
    assert_eq!(r["toolCalls"][0]["status"], "ok");
    assert_eq!(r["toolCalls"][0]["name"], "Write");
    assert!(out.of_type("agent.approval.requested").is_empty());
    assert_eq!(out.of_type("agent.vendor.turn").len(), 2);
    // The second model call carried the tool result.
    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].all_text().contains("notes/hello.txt"));

    // read-only: the file tools are gone, so the same call fails and nothing is written.
    w.mock.push(vec![
        Reply::tool("Write", json!({"file_path": "ro.txt", "content": "x"})),
        Reply::text("Could not write."),
    ]);
    let out = s
        .run(w.run_params(
            "read-only",
            json!({"goal": "write a file", "permissions": {"sandbox": "read-only"}}),
        ))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert!(!w.work().join("ro.txt").exists());
    assert_ne!(out.of_type("agent.tool.completed")[0]["status"], "ok");
    assert_eq!(r["artifacts"], json!([]));
    let started = out.of_type("agent.task.started")[0];
    assert_eq!(started["vendor"]["permissionMode"], "default");
    assert!(!started["vendor"]["tools"]
        .as_array()
        .unwrap()
        .contains(&json!("Write")));
    assert_eq!(s.wait_exit().await, Some(0));
}

/// An MCP server from the task (stdio, with its own env) is started by the CLI and its tool is
/// called after the host approves it: the call and the task's env reach the server, and the tool
/// is named `mcp__<server>__<tool>`, as every runtime names MCP tools.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_task_mcp_server_tool_is_called() {
    let w = World::new(vec![
        Reply::tool("mcp__adder__add", json!({"a": 2, "b": 3})),
        Reply::text("It is 5."),
    ])
    .await;
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_adder.py");
    let log = w.work().join("mcp-calls.log");
    let mut s = w.sidecar();
    let out = s
        .run_with(
            w.run_params(
                "mcp",
                json!({"goal": "Add 2 and 3", "permissions": {"approvals": "host"},
                       "mcpServers": {"adder": {"command": "python3", "args": [server, log],
                                                "env": {"ADDER_MARK": "from-the-task"}}}}),
            ),
            |_| Some(json!({ "decision": "allow" })),
        )
        .await;
    let r = out.assert_finished("completed");
    let calls = std::fs::read_to_string(&log).expect("the MCP server was called");
    assert_eq!(
        calls.trim(),
        r#"{"args": {"a": 2, "b": 3}, "mark": "from-the-task"}"#
    );
    let asked = out.of_type("agent.approval.requested");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["name"], "mcp__adder__add");
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["name"], "mcp__adder__add");
    assert_eq!(done[0]["status"], "ok", "{done:?}");
    assert_eq!(r["toolCalls"][0]["output"], "the sum is 5", "{r}");
    assert!(w.mock.requests()[1].all_text().contains("the sum is 5"));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn host_approves_and_denies_writes_outside_the_workspace() {
    let w = World::new(vec![]).await;
    let outside = w.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let allowed_file = outside.join("allowed.txt");
    let denied_file = outside.join("denied.txt");
    let policy_file = outside.join("policy.txt");
    w.mock.push(vec![
        Reply::tool(
            "Write",
            json!({"file_path": allowed_file, "content": "yes\n"}),
        ),
        Reply::text("Done."),
        Reply::tool(
            "Write",
            json!({"file_path": denied_file, "content": "no\n"}),
        ),
        Reply::text("I was not allowed."),
        Reply::tool(
            "Write",
            json!({"file_path": policy_file, "content": "no\n"}),
        ),
        Reply::text("Policy said no."),
    ]);
    let mut s = w.sidecar();
    let host = json!({"sandbox": "workspace-write", "approvals": "host"});

    // Allow.
    let out = s
        .run_with(
            w.run_params(
                "allow",
                json!({"goal": "write outside", "permissions": host}),
            ),
            |req| {
                assert_eq!(req["name"], "Write");
                Some(json!({"decision": "allow"}))
            },
        )
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(std::fs::read_to_string(&allowed_file).unwrap(), "yes\n");
    assert_eq!(out.of_type("agent.approval.requested").len(), 1);
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "ok");
    assert_eq!(r["artifacts"][0]["path"], json!(allowed_file));

    // Deny: the file is not written, the call is reported denied, the model carries on.
    let out = s
        .run_with(
            w.run_params(
                "deny",
                json!({"goal": "write outside", "permissions": host}),
            ),
            |_| Some(json!({"decision": "deny", "message": "not there"})),
        )
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert!(!denied_file.exists());
    let completed = out.of_type("agent.tool.completed");
    assert_eq!(completed[0]["status"], "denied");
    assert!(completed[0]["output"]
        .as_str()
        .unwrap()
        .contains("not there"));
    assert_eq!(r["toolCalls"][0]["status"], "denied");
    assert_eq!(r["artifacts"], json!([]));
    assert_eq!(r["output"], "I was not allowed.");

    // approvals: deny — refused at once, the host is never asked.
    let out = s
        .run_with(
            w.run_params("policy", json!({"goal": "write outside"})),
            |_| panic!("approvals: deny must not ask the host"),
        )
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    assert!(!policy_file.exists());
    assert!(out.of_type("agent.approval.requested").is_empty());
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn structured_output_valid_and_invalid() {
    let schema = json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"],
    });
    let w = World::new(vec![Reply::tool(
        "StructuredOutput",
        json!({"answer": "42", "confidence": 0.9}),
    )])
    .await;
    let mut s = w.sidecar();
    let out = s
        .run(w.run_params(
            "schema-ok",
            json!({"goal": "answer", "outputSchema": schema}),
        ))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(
        r["structuredOutput"],
        json!({"answer": "42", "confidence": 0.9})
    );
    // The schema reached the model as the StructuredOutput tool (sent in `initialize`, not argv).
    let req = &w.mock.requests()[0];
    let tool = req.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "StructuredOutput")
        .expect("StructuredOutput tool");
    assert_eq!(
        tool["input_schema"]["required"],
        json!(["answer", "confidence"])
    );

    // A model that never produces valid structured output: kind `schema`.
    w.mock.push(vec![
        Reply::tool("StructuredOutput", json!({"answer": 42})),
        Reply::text("no structure here"),
    ]);
    let out = s
        .run(w.run_params(
            "schema-bad",
            json!({"goal": "answer", "outputSchema": schema}),
        ))
        .await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "schema", "{r}");
    // The CLI itself rejected the invalid call; its reason is in the error.
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must be string"),
        "{r}"
    );
    assert_eq!(r["toolCalls"][0]["status"], "error");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn resume_sends_the_previous_context_and_fork_gets_a_new_session() {
    let w = World::new(vec![
        Reply::text("FIRST-ANSWER noted."),
        Reply::text("You said FIRST-GOAL."),
        Reply::text("Forked."),
    ])
    .await;
    let mut s = w.sidecar();
    let first = s
        .run(w.run_params("first", json!({"goal": "FIRST-GOAL remember this"})))
        .await;
    assert_eq!(first.result()["finishReason"], "completed");
    let sid = first.result()["sessionId"].as_str().unwrap().to_string();

    let second = s
        .run(w.run_params(
            "second",
            json!({"goal": "SECOND-GOAL what did I say?", "session": {"resume": sid}}),
        ))
        .await;
    let r = second.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionId"], sid.as_str());
    assert!(r.get("sessionChanged").is_none(), "{r}");
    let reqs = w.mock.requests();
    let text = reqs[1].all_text();
    for part in ["FIRST-GOAL", "FIRST-ANSWER", "SECOND-GOAL"] {
        assert!(
            text.contains(part),
            "{part} missing from the resumed request"
        );
    }

    let fork = s
        .run(w.run_params(
            "fork",
            json!({"goal": "THIRD-GOAL", "session": {"resume": sid, "fork": true}}),
        ))
        .await;
    let r = fork.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_ne!(r["sessionId"], sid.as_str());
    assert_eq!(r["sessionChanged"], true);
    assert!(w.mock.requests()[2].all_text().contains("FIRST-ANSWER"));

    // An unknown session: the CLI's own reason, not a bare exit code.
    let unknown = "00000000-0000-4000-8000-000000000000";
    let out = s
        .run(w.run_params(
            "unknown",
            json!({"goal": "x", "session": {"resume": unknown}}),
        ))
        .await;
    let r = out.assert_finished("error");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No conversation found"),
        "{r}"
    );
    assert_eq!(w.mock.requests().len(), 3, "no model call for it");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn auth_error_is_reported_quickly_even_with_many_retries_allowed() {
    let w = World::new(vec![Reply::error(
        401,
        "authentication_error",
        "invalid x-api-key",
    )])
    .await;
    let mut s = w.sidecar();
    let began = Instant::now();
    // With 8 retries the CLI alone would back off for well over a minute.
    let out = s
        .run(w.run_params(
            "auth",
            json!({"goal": "hi", "runtimeOptions": {"claude": {"maxRetries": 8}}}),
        ))
        .await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "auth", "{r}");
    assert_eq!(r["error"]["vendorCode"]["apiErrorStatus"], 401);
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "{:?}",
        began.elapsed()
    );
    assert!(w.mock.requests().len() <= 3);
    assert_eq!(out.of_type("agent.task.failed").len(), 1);
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn server_error_and_max_turns() {
    let w = World::new(vec![Reply::error(500, "api_error", "mock overloaded")]).await;
    let mut s = w.sidecar_env(&[("CLAUDE_CODE_MAX_RETRIES", "0")]);
    let out = s.run(w.run_params("e500", json!({"goal": "hi"}))).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "vendor", "{r}");
    assert_eq!(r["error"]["vendorCode"]["apiErrorStatus"], 500);
    assert!(r["error"]["message"].as_str().unwrap().contains("500"));
    // The error text is not passed off as the answer.
    assert_eq!(r["output"], "");
    assert!(out.of_type("agent.message").is_empty());

    // A model that keeps calling a (read-only, auto-approved) tool hits maxTurns.
    w.mock.push(vec![Reply::tool(
        "Bash",
        json!({"command": "echo loop", "description": "loop"}),
    )]);
    let out = s
        .run(w.run_params("turns", json!({"goal": "loop", "maxTurns": 2})))
        .await;
    let r = out.assert_finished("maxTurns");
    assert_eq!(r["error"]["kind"], "maxTurns");
    assert_eq!(out.of_type("agent.tool.completed").len(), 2);

    // Each mock turn costs more than this budget: the CLI stops after the first.
    let out = s
        .run(w.run_params(
            "budget",
            json!({"goal": "loop", "runtimeOptions": {"claude": {"maxBudgetUsd": 0.0001}}}),
        ))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "budget", "{r}");
    assert_eq!(r["error"]["kind"], "budget");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// A 429 and a 404 from the API come back named for what they are (rateLimit, model), with the
/// status, not as a bare vendor failure.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn rate_limit_and_unknown_model_are_named() {
    let w = World::new(vec![Reply::error(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
    )])
    .await;
    let mut s = w.sidecar_env(&[("CLAUDE_CODE_MAX_RETRIES", "0")]);
    let out = s.run(w.run_params("e429", json!({"goal": "hi"}))).await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "rateLimit", "{r}");
    assert_eq!(r["error"]["vendorCode"]["apiErrorStatus"], 429, "{r}");
    assert_eq!(out.of_type("agent.task.failed").len(), 1);

    w.mock.push(vec![Reply::error(
        404,
        "not_found_error",
        "model: claude-nonexistent-9",
    )]);
    let out = s
        .run(w.run_params(
            "e404",
            json!({"goal": "hi", "model": "claude-nonexistent-9"}),
        ))
        .await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "model", "{r}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Sends `run`, waits for the first event of `kind`, cancels, returns the outcome.
async fn run_and_cancel_after(s: &mut Sidecar, params: Value, kind: &str) -> RunOutcome {
    let task_id = params["taskId"].clone();
    let id = s.request("run", params).await;
    let mut events = vec![];
    loop {
        let v = s.next().await.expect("sidecar running");
        if v["method"] == "event" {
            let seen = v["params"]["type"] == kind;
            events.push(v);
            if seen {
                break;
            }
        } else if v["id"] == id {
            panic!("run ended before {kind}: {v}");
        }
    }
    let cancel_id = s.request("cancel", json!({"taskId": task_id})).await;
    loop {
        let v = s.next().await.expect("sidecar running");
        if v["method"] == "event" {
            events.push(v);
        } else if v["id"] == cancel_id {
            assert_eq!(v["result"]["state"], "cancelling", "{v}");
        } else if v["id"] == id {
            return RunOutcome {
                events,
                response: v,
            };
        }
    }
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn cancel_mid_turn_is_soft() {
    let w = World::new(vec![Reply::Stall {
        deltas: vec!["tick ".into(), "tock ".into()],
    }])
    .await;
    let mut s = w.sidecar();
    let began = Instant::now();
    let out = run_and_cancel_after(
        &mut s,
        w.run_params("soft", json!({"goal": "count forever"})),
        "agent.output.delta",
    )
    .await;
    let r = out.assert_finished("cancelled");
    assert_eq!(r["cancel"], "soft", "{r}");
    assert!(r["sessionId"].is_string());
    assert!(began.elapsed() < Duration::from_secs(15));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_wedged_cli_is_killed_and_nothing_is_left_behind() {
    let w = World::new(vec![]).await;
    // Answers the checks, then ignores stdin and SIGTERM forever.
    let fake = fake_claude(
        w.dir.path(),
        "claude-wedged",
        "case \"$1\" in\n\
         --version) echo '2.1.332 (Claude Code)'; exit 0;;\n\
         auth) echo '{\"loggedIn\": true, \"apiProvider\": \"firstParty\"}'; exit 0;;\n\
         esac\n\
         echo $$ > \"$0.pid\"\n\
         trap '' TERM\n\
         echo '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"wedged-1\",\"model\":\"m\"}'\n\
         while true; do sleep 1; done",
    );
    let mut s = w.sidecar_with(&fake, &[]);
    let began = Instant::now();
    let out = run_and_cancel_after(
        &mut s,
        w.run_params("wedged", json!({"goal": "hang"})),
        "agent.task.started",
    )
    .await;
    let r = out.assert_finished("cancelled");
    assert_eq!(r["cancel"], "forced", "{r}");
    assert_eq!(r["exit"]["signal"], 9, "{r}");
    assert!(began.elapsed() < Duration::from_secs(15));
    // The fake's own command line (`sh <fake> -p ...`), not the sidecar's `--claude-path <fake>`.
    let needle = format!("{}\0-p", fake.display());
    let left = support::wait_gone(&needle, 5).await;
    let info: Vec<String> = left
        .iter()
        .map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default())
        .collect();
    assert!(left.is_empty(), "left behind: {info:?}");
    let pid = std::fs::read_to_string(format!("{}.pid", fake.display())).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the wedged CLI (pid {pid}) is still there"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn idle_timeout_stops_a_stalled_stream() {
    let w = World::new(vec![Reply::Stall { deltas: vec![] }]).await;
    let mut s = w.sidecar();
    let out = s
        .run(w.run_params("idle", json!({"goal": "stall", "idleTimeoutMs": 1500})))
        .await;
    let r = out.assert_finished("timeout");
    assert_eq!(r["error"]["kind"], "timeout");
    assert_eq!(r["cancel"], "soft", "{r}");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn diagnose_and_refusals_without_a_model() {
    let w = World::new(vec![Reply::error(
        404,
        "not_found_error",
        "model: claude-nope",
    )])
    .await;
    // Ready with the test credentials; the probe reports an unknown model precisely.
    let mut s = w.sidecar();
    let d = s.call("diagnose", json!({"runtime": "claude"})).await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "ready", "{d}");
    assert!(d["binary"]["version"].as_str().unwrap().contains("2.1."));
    assert!(w.mock.requests().is_empty(), "diagnose calls no model");
    let d = s
        .call(
            "diagnose",
            json!({"runtime": "claude", "probe": true, "model": "claude-nope"}),
        )
        .await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "unsupportedModel", "{d}");
    assert_eq!(w.mock.requests()[0].body["model"], "claude-nope");

    // Refused before anything starts.
    let refused = s
        .run(w.run_params(
            "bad-option",
            json!({"goal": "x", "runtimeOptions": {"claude": {"maxBudget": 1}}}),
        ))
        .await;
    assert_eq!(refused.response["error"]["code"], -32012);
    assert_eq!(
        refused.response["error"]["data"]["field"],
        "task.runtimeOptions.claude.maxBudget"
    );
    let refused = s
        .run(w.run_params(
            "bad-allow",
            json!({"goal": "x", "permissions": {"allowedTools": ["Bash(git *)"]}}),
        ))
        .await;
    assert_eq!(refused.response["error"]["code"], -32012);
    // bypassPermissions as root needs IS_SANDBOX=1: refused rather than failing later.
    if unsafe { libc::geteuid() } == 0 && std::env::var_os("IS_SANDBOX").is_none() {
        let refused = s
            .run(w.run_params(
                "full",
                json!({"goal": "x", "permissions": {"sandbox": "full-access"}}),
            ))
            .await;
        assert_eq!(refused.response["error"]["code"], -32012);
        assert_eq!(
            refused.response["error"]["data"]["field"],
            "task.permissions.sandbox"
        );
    }
    assert_eq!(s.wait_exit().await, Some(0));

    // No credentials: said without printing any value, and runs are refused.
    let mut s = w.sidecar_env(&[("ANTHROPIC_API_KEY", "")]);
    let d = s.call("diagnose", json!({"runtime": "claude"})).await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "missingCredentials", "{d}");
    assert!(d["remedy"].as_str().unwrap().contains("ANTHROPIC_API_KEY"));
    let refused = s.run(w.run_params("nocreds", json!({"goal": "x"}))).await;
    assert_eq!(refused.response["error"]["code"], -32011);
    assert_eq!(
        refused.response["error"]["data"]["status"],
        "missingCredentials"
    );
    assert_eq!(s.wait_exit().await, Some(0));

    // Missing binary, and a version below the minimum.
    let missing = w.dir.path().join("no-such-claude");
    let mut s = w.sidecar_with(&missing, &[]);
    let d = s.call("diagnose", json!({"runtime": "claude"})).await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "missingBinary", "{d}");
    assert!(d["remedy"].as_str().unwrap().contains("--claude-path"));
    let refused = s.run(w.run_params("nobin", json!({"goal": "x"}))).await;
    assert_eq!(refused.response["error"]["code"], -32011);
    assert_eq!(s.wait_exit().await, Some(0));

    let old = fake_claude(w.dir.path(), "claude-old", "echo '1.0.44 (Claude Code)'");
    let mut s = w.sidecar_with(&old, &[]);
    let d = s.call("diagnose", json!({"runtime": "claude"})).await;
    assert_eq!(
        d["result"]["runtimes"][0]["status"], "unsupportedVersion",
        "{d}"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

// ---- Live sessions (issue 16): the runtime's `open` / `LiveSession` against the real CLI ----

mod live {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use agent_runtime_kit::protocol::task::{AgentTask, ApprovalMode, RunOptions};
    use agent_runtime_kit::runtime::claude::ClaudeRuntime;
    use agent_runtime_kit::runtime::{
        Approvals, EventOutput, EventSink, LiveSession, OpenContext, RunContext, Runtime, Steering,
        Stop, StopReason,
    };
    use async_trait::async_trait;
    use serde_json::{json, Value};

    use crate::support::claude::World;
    use crate::support::mock_claude::{Block, Reply};

    #[derive(Default)]
    pub struct Recorder(pub Mutex<Vec<Value>>);

    #[async_trait]
    impl EventOutput for Recorder {
        async fn send(&self, event: Value) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl Recorder {
        /// Waits up to 10 s for the first output delta (the turn is streaming).
        pub async fn wait_for_deltas(&self) {
            for _ in 0..400 {
                if !self.deltas().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }

        pub fn deltas(&self) -> String {
            let events = self.0.lock().unwrap();
            events
                .iter()
                .filter(|e| e["type"] == "agent.output.delta")
                .map(|e| e["data"]["text"].as_str().unwrap().to_string())
                .collect()
        }
    }

    impl World {
        /// The runtime as the sidecar would build it, with the CLI's environment in
        /// `runtimeOptions.claude.env` (the test process's own is not the CLI's).
        pub fn runtime(&self) -> (ClaudeRuntime, Value) {
            let mut env: serde_json::Map<String, Value> = self
                .env_vars()
                .into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            env.insert("CLAUDE_CODE_MAX_RETRIES".into(), json!("0"));
            let opts = json!({ "env": env });
            (ClaudeRuntime::new(Some(self.claude.clone())), opts)
        }

        pub async fn open(&self, task: Value) -> Box<dyn LiveSession> {
            let (rt, opts) = self.runtime();
            let task: AgentTask = serde_json::from_value(task).unwrap();
            let plan = rt
                .plan(&task, &self.work(), serde_json::from_value(opts).unwrap())
                .unwrap_or_else(|r| panic!("refused: {r:?}"));
            let ctx = OpenContext {
                task,
                options: RunOptions::default(),
                working_directory: self.work(),
                stop: Stop::default(),
            };
            match rt.open(ctx, plan).await {
                Ok(s) => s,
                Err(r) => panic!("open failed: {}", serde_json::to_string(&r).unwrap()),
            }
        }
    }

    /// One turn's context; the recorder sees its events, the stop and steering sender drive it.
    pub struct Turn {
        pub ctx: RunContext,
        pub events: Arc<Recorder>,
        pub stop: Stop,
        pub steer: tokio::sync::mpsc::Sender<String>,
    }

    pub fn turn(w: &World, goal: &str, extra: Value) -> Turn {
        let mut task = json!({"goal": goal, "workingDirectory": w.work()});
        for (k, v) in extra.as_object().unwrap() {
            task[k] = v.clone();
        }
        let task: AgentTask = serde_json::from_value(task).unwrap();
        let events = Arc::new(Recorder::default());
        let options = RunOptions::default();
        let sink = EventSink::new("t".into(), events.clone(), &options);
        let stop = Stop::default();
        let approvals = Approvals::new(
            ApprovalMode::Deny,
            None,
            Duration::from_secs(5),
            sink.clone(),
            stop.clone(),
        );
        let (steer, steering) = Steering::channel();
        Turn {
            ctx: RunContext {
                task_id: "t".into(),
                task,
                options,
                working_directory: w.work(),
                events: sink,
                stop: stop.clone(),
                approvals,
                steer: steering,
                attachments: Default::default(),
            },
            events,
            stop,
            steer,
        }
    }

    /// Pids of live claude CLIs of this session (its id is on their command line).
    pub fn cli_pids(session_id: &str) -> Vec<i32> {
        let mut pids = vec![];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Zombies (state Z) are gone but for their reaping.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            if state.starts_with('Z') {
                continue;
            }
            if String::from_utf8_lossy(&cmdline).contains(session_id) {
                pids.push(pid);
            }
        }
        pids
    }

    async fn gone(session_id: &str) -> bool {
        for _ in 0..100 {
            if cli_pids(session_id).is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn json_of(r: &impl serde::Serialize) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn prewarmed_session_takes_turns_in_one_process_and_the_model_sees_them() {
        let w = World::new(vec![
            Reply::text("First answer."),
            Reply::text("Second answer."),
        ])
        .await;
        let mut s = w
            .open(json!({"goal": "", "workingDirectory": w.work()}))
            .await;
        let id = s.session_id();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        // Ready (prewarmed) with no model call yet.
        assert!(w.mock.requests().is_empty());
        let pids = cli_pids(&id);
        assert_eq!(pids.len(), 1, "{pids:?}");

        let t = turn(&w, "FIRST-TURN hello", json!({}));
        let events = t.events.clone();
        let r = json_of(&s.turn(t.ctx).await);
        assert_eq!(r["finishReason"], "completed", "{r}");
        assert_eq!(r["output"], "First answer.");
        assert_eq!(r["sessionId"], id.as_str());
        assert_eq!(events.deltas(), "First answer.");

        let t = turn(&w, "SECOND-TURN again", json!({}));
        let r = json_of(&s.turn(t.ctx).await);
        assert_eq!(r["finishReason"], "completed", "{r}");
        assert_eq!(r["output"], "Second answer.");
        assert_eq!(cli_pids(&id), pids, "the follow-up ran in the same process");
        let reqs = w.mock.turn_requests();
        assert_eq!(reqs.len(), 2);
        let seen = reqs[1].all_text();
        assert!(
            seen.contains("FIRST-TURN") && seen.contains("First answer."),
            "{seen}"
        );
        assert!(seen.contains("SECOND-TURN"));
        assert!(!s.ended().is_cancelled());

        s.close().await;
        assert!(gone(&id).await, "close leaves no process");
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn an_interrupted_turn_keeps_the_session_and_the_model_changes_per_turn() {
        let w = World::new(vec![Reply::Stall {
            deltas: vec!["partial ".into()],
        }])
        .await;
        let mut s = w
            .open(json!({"goal": "", "workingDirectory": w.work()}))
            .await;
        let id = s.session_id();
        let pids = cli_pids(&id);

        let t = turn(&w, "stall please", json!({}));
        let (events, stop) = (t.events.clone(), t.stop.clone());
        let running = tokio::spawn(async move {
            let r = s.turn(t.ctx).await;
            (s, r)
        });
        events.wait_for_deltas().await;
        assert_eq!(events.deltas(), "partial ");
        stop.stop(StopReason::Cancelled);
        let (mut s, r) = running.await.unwrap();
        let r = json_of(&r);
        assert_eq!(r["finishReason"], "cancelled", "{r}");
        assert_eq!(r["cancel"], "soft", "{r}");
        assert!(!s.ended().is_cancelled());

        // The next turn, on another model, in the same process.
        w.mock.push(vec![Reply::text("After the interrupt.")]);
        let t = turn(&w, "go on", json!({"model": "claude-other-model"}));
        let r = json_of(&s.turn(t.ctx).await);
        assert_eq!(r["finishReason"], "completed", "{r}");
        assert_eq!(r["output"], "After the interrupt.");
        assert_eq!(cli_pids(&id), pids);
        let last = w.mock.turn_requests().pop().unwrap();
        assert_eq!(last.body["model"], "claude-other-model");

        // What the process cannot change is refused, naming the field.
        let refused = s
            .check_turn(&serde_json::from_value(json!({"goal": "x", "maxTurns": 3})).unwrap())
            .unwrap_err();
        assert!(
            format!("{refused:?}").contains("task.maxTurns"),
            "{refused:?}"
        );
        s.close().await;
        assert!(gone(&id).await);
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn steering_text_reaches_the_model_within_the_turn() {
        std::fs::create_dir_all(std::env::temp_dir()).unwrap();
        let slow = |blocks: Vec<Block>, stop: &str| Reply::Message {
            blocks,
            stop_reason: stop.into(),
            delay: Duration::from_millis(250),
        };
        let w = World::new(vec![]).await;
        std::fs::write(w.work().join("notes.txt"), "some notes").unwrap();
        w.mock.push(vec![
            // The turn reads a file (a second model call follows the tool result)...
            slow(
                vec![
                    Block::Text(vec!["Reading ".into(), "the ".into(), "file.".into()]),
                    Block::ToolUse {
                        id: "toolu_steer1".into(),
                        name: "Read".into(),
                        input: json!({"file_path": w.work().join("notes.txt")}),
                    },
                ],
                "tool_use",
            ),
            Reply::text("Done, with the steer."),
            // ...and one that is only text (no second call): the steer runs right after it.
            slow(
                vec![Block::Text(
                    ["one ", "two ", "three ", "four ", "five "]
                        .map(String::from)
                        .to_vec(),
                )],
                "end_turn",
            ),
            Reply::text("Answer to the late steer."),
        ]);
        let mut s = w
            .open(json!({"goal": "", "workingDirectory": w.work()}))
            .await;

        for (goal, steer_text, output, calls) in [
            (
                "read notes.txt",
                "STEER-ONE also count words",
                "Done, with the steer.",
                2,
            ),
            (
                "count to five",
                "STEER-TWO then stop",
                "Answer to the late steer.",
                4,
            ),
        ] {
            let t = turn(&w, goal, json!({}));
            let (events, steer) = (t.events.clone(), t.steer.clone());
            let running = tokio::spawn(async move {
                let r = s.turn(t.ctx).await;
                (s, r)
            });
            events.wait_for_deltas().await;
            steer.send(steer_text.into()).await.unwrap();
            let (back, r) = running.await.unwrap();
            s = back;
            let r = json_of(&r);
            assert_eq!(r["finishReason"], "completed", "{r}");
            assert_eq!(r["output"], output, "{r}");
            let reqs = w.mock.turn_requests();
            assert_eq!(reqs.len(), calls, "{goal}");
            assert!(reqs[calls - 1].all_text().contains(steer_text), "{goal}");
        }
        s.close().await;
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn a_killed_cli_ends_the_session() {
        let w = World::new(vec![Reply::text("hi")]).await;
        let mut s = w
            .open(json!({"goal": "", "workingDirectory": w.work()}))
            .await;
        let id = s.session_id();
        let r = json_of(&s.turn(turn(&w, "hello", json!({})).ctx).await);
        assert_eq!(r["finishReason"], "completed", "{r}");
        let ended = s.ended();
        for pid in cli_pids(&id) {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        tokio::time::timeout(Duration::from_secs(10), ended.cancelled())
            .await
            .expect("ended() fires when the CLI dies between turns");
        let r = json_of(&s.turn(turn(&w, "again", json!({})).ctx).await);
        assert_eq!(r["finishReason"], "error", "{r}");
        s.close().await;
        assert!(gone(&id).await);
    }
}

// ---- Live sessions through the sidecar's stdio ----

/// Waits for the `session/closed` notification, keeping nothing else.
async fn session_closed(s: &mut Sidecar) -> Value {
    loop {
        let v = s.next().await.expect("sidecar running");
        if v["method"] == "session/closed" {
            return v["params"].clone();
        }
    }
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn keep_alive_follow_ups_run_in_the_same_cli_and_a_killed_cli_resumes_cold() {
    let w = World::new(vec![
        Reply::text("Nice to meet you, Ada."),
        Reply::text("Your name is Ada."),
        Reply::text("Still Ada."),
    ])
    .await;
    let mut s = w.sidecar();
    let caps = s.call("capabilities", json!({})).await;
    let claude = caps["result"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "claude")
        .unwrap()
        .clone();
    for cap in ["liveSessions", "prewarm", "steer"] {
        assert_eq!(claude["capabilities"][cap], true, "{cap}: {claude}");
    }

    let first = s
        .run(w.run_params(
            "k1",
            json!({"goal": "NAME-TURN my name is Ada", "session": {"keepAlive": true}}),
        ))
        .await;
    let r = first.assert_finished("completed");
    assert_eq!(r["sessionSource"], "new");
    assert_eq!(r["sessionLive"], true);
    let id = r["sessionId"].as_str().unwrap().to_string();
    let pids = live::cli_pids(&id);
    assert_eq!(pids.len(), 1, "one CLI for the session: {pids:?}");

    let second = s
        .run(w.run_params(
            "k2",
            json!({"goal": "what is my name?", "session": {"resume": id}}),
        ))
        .await;
    let r = second.assert_finished("completed");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(r["output"], "Your name is Ada.");
    assert_eq!(live::cli_pids(&id), pids, "no new CLI for the follow-up");
    let seen = w.mock.turn_requests()[1].all_text();
    assert!(
        seen.contains("NAME-TURN") && seen.contains("Nice to meet you"),
        "{seen}"
    );

    // The CLI dies between turns: the session ends, and the next resume is a cold one.
    for pid in &pids {
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let closed = session_closed(&mut s).await;
    assert_eq!(closed["sessionId"], id.as_str());
    assert_eq!(closed["reason"], "exited", "{closed}");
    let third = s
        .run(w.run_params("k3", json!({"goal": "and now?", "session": {"resume": id}})))
        .await;
    let r = third.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "resumed", "{r}");
    assert_eq!(r["sessionLive"], false);
    assert!(w.mock.turn_requests()[2].all_text().contains("NAME-TURN"));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn prewarmed_session_open_run_steer_close() {
    let w = World::new(vec![]).await;
    std::fs::write(w.work().join("notes.txt"), "some notes").unwrap();
    w.mock.push(vec![
        Reply::Message {
            blocks: vec![
                Block::Text(vec!["Reading ".into(), "the ".into(), "notes.".into()]),
                Block::ToolUse {
                    id: "toolu_e2e_steer".into(),
                    name: "Read".into(),
                    input: json!({"file_path": w.work().join("notes.txt")}),
                },
            ],
            stop_reason: "tool_use".into(),
            delay: Duration::from_millis(300),
        },
        Reply::text("Read them, as steered."),
    ]);
    let mut s = w.sidecar();
    let opened = s
        .call(
            "session/open",
            json!({"runtime": "claude", "task": {"workingDirectory": w.work()}}),
        )
        .await;
    let id = opened["result"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{opened}"))
        .to_string();
    assert!(w.mock.requests().is_empty(), "prewarm calls no model");
    assert_eq!(live::cli_pids(&id).len(), 1);

    // A run on it, steered while it runs.
    let run_id = s
        .request(
            "run",
            w.run_params(
                "p1",
                json!({"goal": "read notes.txt", "session": {"resume": id}}),
            ),
        )
        .await;
    loop {
        let v = s.next().await.expect("sidecar running");
        if v["method"] == "event" && v["params"]["type"] == "agent.output.delta" {
            break;
        }
    }
    let steered = s
        .call(
            "steer",
            json!({"taskId": "p1", "text": "E2E-STEER mind the dates"}),
        )
        .await;
    assert_eq!(steered["result"]["accepted"], true, "{steered}");
    let resp = s.response(&run_id).await;
    let r = &resp["result"];
    assert_eq!(r["finishReason"], "completed", "{resp}");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(r["output"], "Read them, as steered.");
    let reqs = w.mock.turn_requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1].all_text().contains("E2E-STEER"),
        "the steer joined the turn"
    );

    let closed = s.call("session/close", json!({"sessionId": id})).await;
    assert_eq!(closed["result"]["closed"], true, "{closed}");
    assert!(live::cli_pids(&id).is_empty(), "close leaves no process");
    assert_eq!(s.wait_exit().await, Some(0));
}
