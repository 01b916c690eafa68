//! The codex runtime end to end: the sidecar's stdio → the real pinned `codex app-server` → a mock
//! Responses API on 127.0.0.1 (a custom model provider; plugins, apps and analytics off; private
//! CODEX_HOME and HOME per test).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::codex::World;
use support::mock_codex::{
    texts_of, MockResponses, Reply, CACHED_TOKENS, INPUT_TOKENS, OUTPUT_TOKENS,
};
use support::sidecar::RunOutcome;
use support::Sidecar;

fn error_kind(out: &RunOutcome) -> String {
    out.result()["error"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn plain_answer_streams_deltas_and_reports_usage() {
    let env = World::new();
    let mock = MockResponses::start(vec![Reply::Text(vec![
        "Hello ".into(),
        "from the ".into(),
        "mock model.".into(),
    ])])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run(
            "plain",
            &mock,
            json!({
                "goal": "GOAL-MARKER say hello",
                "systemPrompt": "SYSTEM-MARKER",
                "appendSystemPrompt": "APPEND-MARKER",
                "mcpServers": { "probe": { "command": "/bin/false" } },
            }),
        ))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(r["output"], "Hello from the mock model.");
    let deltas: String = out
        .of_type("agent.output.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Hello from the mock model.");
    assert!(out.of_type("agent.output.delta").len() >= 3);
    assert_eq!(
        out.of_type("agent.message")[0]["text"],
        "Hello from the mock model."
    );
    let started = out.of_type("agent.task.started")[0];
    let session = r["sessionId"].as_str().unwrap();
    assert_eq!(started["sessionId"], session);
    assert_eq!(started["model"], "gpt-5.5");
    assert_eq!(started["vendor"]["modelProvider"], "mock");
    assert_eq!(r["usage"]["inputTokens"], INPUT_TOKENS);
    assert_eq!(r["usage"]["cachedInputTokens"], CACHED_TOKENS);
    assert_eq!(r["usage"]["outputTokens"], OUTPUT_TOKENS);
    assert_eq!(r["turns"], 1);
    assert_eq!(out.of_type("agent.vendor.turn").len(), 1);
    // The answer goes out as soon as the turn is mapped; codex is reaped afterwards, still
    // under the running sidecar.
    assert!(r.get("exit").is_none(), "answered before the reap: {r}");
    let home = env.codex_home();
    assert_eq!(
        support::wait_gone_env("app-server", &home, 5).await,
        Vec::<i32>::new(),
        "codex reaped after the answer"
    );

    // What reached the model: the goal as the user message, our system prompt instead of codex's,
    // the appended one as a developer message, the key from the environment.
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let body = &reqs[0].body;
    assert!(texts_of(body, "user")
        .iter()
        .any(|t| t == "GOAL-MARKER say hello"));
    let dev = texts_of(body, "developer");
    assert_eq!(
        dev[0], "SYSTEM-MARKER",
        "systemPrompt replaces codex's: {dev:?}"
    );
    assert!(dev.iter().any(|t| t == "APPEND-MARKER"));
    assert!(!dev
        .iter()
        .any(|t| t.contains("You are a coding agent running in the Codex CLI")));
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer dummy"));
    // The MCP server reached codex (through the thread's config): codex lists its tools.
    let tools: Vec<_> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"list_mcp_resources"), "{tools:?}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Streamed text (`item/agentMessage/delta` params read typed, without a `Value`) is cleaned like
/// every other field: a key-shaped secret is redacted and a delta over the field limit is cut with
/// its `textTruncated` marker.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn typed_text_deltas_are_redacted_and_cut() {
    let env = World::new();
    let secret = "sk-ant-api03-STREAMEDsecretSTREAMED0123456789";
    let mock = MockResponses::start(vec![Reply::Text(vec![
        "first ".into(),
        format!("key {secret} "),
        "L".repeat(300),
        " last".into(),
    ])])
    .await;
    let mut s = env.sidecar();
    let mut params = env.run("clean", &mock, json!({ "goal": "say it" }));
    params["options"] = json!({ "maxFieldBytes": 100 });
    let out = s.run(params).await;
    out.assert_finished("completed");
    let deltas = out.of_type("agent.output.delta");
    let text: String = deltas.iter().map(|d| d["text"].as_str().unwrap()).collect();
    assert!(text.starts_with("first key [redacted] "), "{text}");
    assert!(text.ends_with(" last"), "{text}");
    let cut: Vec<_> = deltas
        .iter()
        .filter(|d| d.get("textTruncated").is_some())
        .collect();
    assert_eq!(cut.len(), 1, "{deltas:?}");
    assert_eq!(cut[0]["text"], "L".repeat(100));
    assert_eq!(
        cut[0]["textTruncated"],
        json!({ "truncated": true, "bytes": 300 })
    );
    assert!(!s.stdout_text().contains(secret));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn shell_tool_writes_files_reported_as_artifacts() {
    let env = World::new();
    let extra = env.root.join("extra");
    std::fs::create_dir(&extra).unwrap();
    let mock = MockResponses::start(vec![
        Reply::Shell(format!(
            "echo hi > out.txt && echo x > {}/side.txt",
            extra.display()
        )),
        Reply::text("done"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run("shell", &mock, json!({ "additionalDirectories": [extra] })))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(
        std::fs::read_to_string(env.work.join("out.txt")).unwrap(),
        "hi\n"
    );
    assert_eq!(
        std::fs::read_to_string(extra.join("side.txt")).unwrap(),
        "x\n"
    );
    let req = out.of_type("agent.tool.requested");
    assert_eq!(req.len(), 1);
    assert_eq!(req[0]["name"], "commandExecution");
    assert!(req[0]["input"]["command"]
        .as_str()
        .unwrap()
        .contains("echo hi > out.txt"));
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(done[0]["toolCallId"], req[0]["toolCallId"]);
    assert_eq!(
        r["artifacts"],
        json!([{ "path": "out.txt", "change": "created" }])
    );
    assert_eq!(r["toolCalls"].as_array().unwrap().len(), 1);
    assert_eq!(r["turns"], 2);
    assert_eq!(r["usage"]["inputTokens"], 2 * INPUT_TOKENS);
    // The second request carried the tool's output back to the model.
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["type"] == "function_call_output"));
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Reasoning summaries and streamed command output (issue 17): reasoning events, never output;
/// the command's output as `agent.tool.output.delta` before its completion.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn reasoning_and_streamed_command_output() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("printf 'line-one\\n'; sleep 0.3; printf 'line-two\\n'".into()),
        Reply::Reasoned(
            vec!["**Checking** ".into(), "the output".into()],
            vec!["Both lines printed.".into()],
        ),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s.run(env.run("reason", &mock, json!({}))).await;
    let r = out.assert_finished("completed");
    assert_eq!(r["output"], "Both lines printed.");

    let deltas: String = out
        .of_type("agent.reasoning.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "**Checking** the output");
    assert_eq!(
        out.of_type("agent.reasoning")[0]["text"],
        "**Checking** the output"
    );
    let streamed: String = out
        .of_type("agent.output.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert!(!streamed.contains("Checking"), "{streamed}");

    let call = out.of_type("agent.tool.requested")[0]["toolCallId"].clone();
    let chunks = out.of_type("agent.tool.output.delta");
    assert!(!chunks.is_empty(), "{:?}", out.types());
    assert!(chunks.iter().all(|c| c["toolCallId"] == call));
    // Codex streams what the command prints after its first moment (what comes at once travels
    // only in the completed item's aggregatedOutput).
    let text: String = chunks.iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert!(text.contains("line-two"), "{text}");
    let done = &out.of_type("agent.tool.completed")[0];
    assert!(
        done["output"]["output"].as_str().unwrap().ends_with(&text),
        "{done}"
    );
    let types = out.types();
    let first_chunk = types
        .iter()
        .position(|t| t == "agent.tool.output.delta")
        .unwrap();
    let completed = types
        .iter()
        .position(|t| t == "agent.tool.completed")
        .unwrap();
    assert!(first_chunk < completed, "{types:?}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Runs task `id` (workspace-write, approvals by the host) answering every approval with
/// `decision`.
async fn host_decides(
    s: &mut Sidecar,
    env: &World,
    mock: &MockResponses,
    id: &str,
    decision: &str,
) -> RunOutcome {
    let host = json!({ "permissions": { "sandbox": "workspace-write", "approvals": "host" } });
    s.run_with(env.run(id, mock, host), |_| {
        Some(json!({ "decision": decision }))
    })
    .await
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn host_approves_then_declines_a_command() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("echo yes > allowed.txt".into()),
        Reply::text("ran it"),
        Reply::Shell("echo no > declined.txt".into()),
        Reply::text("it was declined"),
    ])
    .await;
    let mut s = env.sidecar();

    let out = host_decides(&mut s, &env, &mock, "allow", "allow").await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    let asked = out.of_type("agent.approval.requested");
    assert_eq!(asked.len(), 1);
    assert!(asked[0]["input"]["command"]
        .as_str()
        .unwrap()
        .contains("allowed.txt"));
    assert!(out.events.iter().any(|e| e["method"] == "approval/request"));
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "ok");
    assert!(env.work.join("allowed.txt").exists());

    let out = host_decides(&mut s, &env, &mock, "decline", "deny").await;
    let r = out.assert_finished("completed");
    assert_eq!(out.of_type("agent.approval.requested").len(), 1);
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");
    assert_eq!(r["toolCalls"][0]["status"], "denied");
    assert!(!env.work.join("declined.txt").exists());
    assert_eq!(s.wait_exit().await, Some(0));
}

/// A patch the model applies (codex turns `apply_patch` run through its shell tool into a
/// `fileChange` item) goes to the host for approval like a command: approved, the file is
/// written and reported; declined, it is not.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn host_approves_then_declines_a_file_change() {
    let env = World::new();
    let patch = |name: &str| {
        format!("apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: {name}\n+patched\n*** End Patch\nEOF\n")
    };
    let mock = MockResponses::start(vec![
        Reply::Shell(patch("patched.txt")),
        Reply::text("patched it"),
        Reply::Shell(patch("refused.txt")),
        Reply::text("it was declined"),
    ])
    .await;
    let mut s = env.sidecar();

    let out = host_decides(&mut s, &env, &mock, "allow", "allow").await;
    let r = out.assert_finished("completed");
    let asked = out.of_type("agent.approval.requested");
    assert_eq!(asked.len(), 1, "{:?}", out.events);
    assert_eq!(asked[0]["name"], "fileChange", "{}", asked[0]);
    let change = &asked[0]["input"]["changes"][0];
    assert_eq!(change["kind"], "add", "{}", asked[0]);
    assert!(change["path"].as_str().unwrap().ends_with("patched.txt"));
    assert_eq!(
        std::fs::read_to_string(env.work.join("patched.txt")).unwrap(),
        "patched\n"
    );
    let artifacts = r["artifacts"].to_string();
    assert!(artifacts.contains("patched.txt"), "{r}");
    // The item's change is announced when it completes, with codex's diff, and the end-of-turn
    // listing does not repeat it.
    let changed: Vec<&Value> = out
        .events
        .iter()
        .map(|e| &e["params"])
        .filter(|p| p["type"] == "agent.file.changed")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["data"]["path"], "patched.txt", "{changed:?}");
    assert_eq!(changed[0]["data"]["change"], "added");
    assert!(
        changed[0]["data"]["diff"]
            .as_str()
            .unwrap()
            .contains("patched"),
        "{changed:?}"
    );
    let at = |pred: &dyn Fn(&Value) -> bool| out.events.iter().position(|e| pred(&e["params"]));
    let announced = at(&|p| p["type"] == "agent.file.changed").unwrap();
    let item_done =
        at(&|p| p["type"] == "agent.tool.completed" && p["data"]["name"] == "fileChange").unwrap();
    let next_message = at(&|p| p["type"] == "agent.message").unwrap();
    assert!(
        announced < item_done && item_done < next_message,
        "{:?}",
        out.types()
    );

    let out = host_decides(&mut s, &env, &mock, "decline", "deny").await;
    let r = out.assert_finished("completed");
    assert_eq!(out.of_type("agent.approval.requested").len(), 1);
    assert_eq!(r["toolCalls"][0]["name"], "fileChange", "{r}");
    assert_eq!(r["toolCalls"][0]["status"], "denied", "{r}");
    assert!(!env.work.join("refused.txt").exists());
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn read_only_sandbox_refuses_the_write() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("echo hi > out.txt".into()),
        Reply::text("could not write"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run(
            "ro",
            &mock,
            json!({ "permissions": { "sandbox": "read-only" } }),
        ))
        .await;
    let r = out.assert_finished("completed");
    assert!(
        !env.work.join("out.txt").exists(),
        "the sandbox let the write through"
    );
    assert_eq!(r["artifacts"], json!([]));
    let started = out.of_type("agent.task.started")[0];
    assert_eq!(started["vendor"]["sandbox"]["type"], "readOnly");
    // The refusal went back to the model as the tool's output.
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    let output = reqs[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .map(|i| i["output"].to_string())
        .unwrap();
    assert!(output.contains("Read-only file system"), "{output}");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn structured_output_is_parsed_and_validated() {
    let env = World::new();
    let schema = json!({
        "type": "object",
        "properties": { "answer": { "type": "string" } },
        "required": ["answer"],
        "additionalProperties": false,
    });
    let mock = MockResponses::start(vec![
        Reply::text(r#"{"answer":"42"}"#),
        Reply::text(r#"{"answer":42}"#),
        Reply::text("forty-two"),
    ])
    .await;
    let mut s = env.sidecar();
    let task = json!({ "outputSchema": schema });

    let out = s.run(env.run("valid", &mock, task.clone())).await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.result()
    );
    assert_eq!(out.result()["structuredOutput"], json!({ "answer": "42" }));
    let format = &mock.requests()[0].body["text"]["format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["schema"], schema);

    let out = s.run(env.run("wrong-type", &mock, task.clone())).await;
    assert_eq!(out.result()["finishReason"], "error");
    assert_eq!(error_kind(&out), "schema");

    let out = s.run(env.run("not-json", &mock, task)).await;
    out.assert_finished("error");
    assert_eq!(error_kind(&out), "schema");
    assert_eq!(out.result()["output"], "forty-two");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn resume_sends_the_history_and_fork_gets_a_new_session() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::text("FIRST-ANSWER"),
        Reply::text("second answer"),
        Reply::text("forked answer"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run("one", &mock, json!({ "goal": "FIRST-GOAL" })))
        .await;
    let session = out.result()["sessionId"].as_str().unwrap().to_string();

    let out = s
        .run(env.run(
            "two",
            &mock,
            json!({ "goal": "SECOND-GOAL", "session": { "resume": session } }),
        ))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(r["sessionId"], session);
    assert!(r.get("sessionChanged").is_none());
    // Only this task's tokens, not the thread's lifetime.
    assert_eq!(r["usage"]["inputTokens"], INPUT_TOKENS);
    let reqs = mock.requests();
    let history = [
        texts_of(&reqs[1].body, "user"),
        texts_of(&reqs[1].body, "assistant"),
    ]
    .concat();
    for needle in ["FIRST-GOAL", "FIRST-ANSWER", "SECOND-GOAL"] {
        assert!(
            history.iter().any(|t| t == needle),
            "{needle} not in {history:?}"
        );
    }

    let out = s
        .run(env.run(
            "fork",
            &mock,
            json!({ "goal": "FORK-GOAL", "session": { "resume": session, "fork": true } }),
        ))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_ne!(r["sessionId"], session);
    assert_eq!(r["sessionChanged"], true);
    assert!(texts_of(&mock.requests()[2].body, "user")
        .iter()
        .any(|t| t == "FIRST-GOAL"));

    let out = s
        .run(env.run(
            "missing",
            &mock,
            json!({ "session": { "resume": "01a21f10-0000-7000-8000-000000000000" } }),
        ))
        .await;
    assert_eq!(out.result()["finishReason"], "error");
    assert!(out.result()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot resume"));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn http_errors_and_a_missing_key_map_to_error_kinds_fast() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Status(
            401,
            json!({ "error": { "message": "Incorrect API key provided", "code": "invalid_api_key" } }),
        ),
        Reply::Status(
            429,
            json!({ "error": { "message": "Rate limit reached", "code": "rate_limit_exceeded" } }),
        ),
    ])
    .await;
    let mut s = env.sidecar();
    let began = Instant::now();
    let out = s.run(env.run("e401", &mock, json!({}))).await;
    out.assert_finished("error");
    assert_eq!(error_kind(&out), "auth", "{}", out.result());
    assert_eq!(
        out.result()["error"]["vendorCode"]["httpConnectionFailed"]["httpStatusCode"],
        401
    );
    assert!(out.of_type("agent.task.failed")[0]["error"]["kind"] == "auth");

    let out = s.run(env.run("e429", &mock, json!({}))).await;
    assert_eq!(error_kind(&out), "rateLimit", "{}", out.result());
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "{:?}",
        began.elapsed()
    );

    // The provider's key variable is not set: refused before anything starts, naming the variable.
    let r = s
        .call(
            "run",
            env.run(
                "nokey",
                &mock,
                json!({ "runtimeOptions": { "codex": { "provider": { "envKey": "ARK_TEST_UNSET_KEY" } } } }),
            ),
        )
        .await;
    assert_eq!(r["error"]["code"], -32011, "{r}");
    assert_eq!(r["error"]["data"]["status"], "missingCredentials");
    assert!(r["error"]["data"]["message"]
        .as_str()
        .unwrap()
        .contains("ARK_TEST_UNSET_KEY"));
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn cancel_interrupts_the_turn_and_leaves_no_process() {
    let env = World::new();
    let marker = "sleep 31.4159";
    let mock = MockResponses::start(vec![Reply::Shell(marker.into()), Reply::text("late")]).await;
    let mut s = env.sidecar();
    let id = s
        .request("run", env.run("cancel-me", &mock, json!({})))
        .await;
    // Wait for the tool to start, then cancel.
    loop {
        let m = s.next().await.expect("sidecar running");
        if m["params"]["type"] == "agent.tool.requested" {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!support::pids_matching(marker).is_empty(), "the tool runs");
    let began = Instant::now();
    let c = s.call("cancel", json!({ "taskId": "cancel-me" })).await;
    assert_eq!(c["result"]["state"], "cancelling");
    let r = s.response(&id).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["cancel"], "soft");
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(support::wait_gone(marker, 5).await, Vec::<i32>::new());
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn idle_timeout_ends_a_stalled_stream() {
    let env = World::new();
    let mock = MockResponses::start(vec![Reply::Stall]).await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run("idle", &mock, json!({ "idleTimeoutMs": 1500 })))
        .await;
    let r = out.assert_finished("timeout");
    assert_eq!(r["error"]["kind"], "timeout");
    assert_eq!(r["cancel"], "soft");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn max_turns_stops_before_another_model_request() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("echo one > one.txt".into()),
        Reply::text("never sent"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s.run(env.run("max", &mock, json!({ "maxTurns": 1 }))).await;
    let r = out.assert_finished("maxTurns");
    assert_eq!(r["turns"], 1);
    assert_eq!(mock.requests().len(), 1, "no second model request");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// A fake codex that answers the handshake and the turn, then ignores everything, SIGTERM included.
fn wedged_codex(dir: &Path) -> PathBuf {
    let path = dir.join("wedged-codex");
    std::fs::write(
        &path,
        r#"#!/bin/bash
case "$1" in
  --version) echo "codex-cli 0.171.0"; exit 0 ;;
  login) echo "Logged in using an API key" >&2; exit 0 ;;
esac
trap '' TERM
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"initialize"'*) echo "{\"id\":$id,\"result\":{}}" ;;
    *'"thread/start"'*) echo "{\"id\":$id,\"result\":{\"thread\":{\"id\":\"wedged-thread\"},\"model\":\"gpt-5.5\"}}" ;;
    *'"turn/start"'*) echo "{\"id\":$id,\"result\":{\"turn\":{\"id\":\"wedged-turn\"}}}"; break ;;
  esac
done
# A tool process in its own session, as codex starts them: not in codex's process group.
setsid sleep 1000.314 </dev/null >/dev/null 2>&1 &
exec sleep 1000.271
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_wedged_codex_is_killed_on_cancel() {
    let env = World::new();
    let fake = wedged_codex(&env.root);
    let mock = MockResponses::start(vec![]).await;
    let mut s = env.sidecar_with(&fake, "dummy");
    let id = s.request("run", env.run("wedged", &mock, json!({}))).await;
    loop {
        let m = s.next().await.expect("sidecar running");
        if m["params"]["type"] == "agent.task.started" {
            assert_eq!(m["params"]["data"]["sessionId"], "wedged-thread");
            break;
        }
    }
    // Let the turn start, so that the cancel goes through turn/interrupt (never answered).
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.call("cancel", json!({ "taskId": "wedged" })).await;
    let r = s.response(&id).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["cancel"], "forced");
    assert_eq!(r["result"]["exit"]["signal"], 9, "{r}");
    assert_eq!(r["result"]["vendor"]["turnId"], "wedged-turn");
    assert_eq!(
        support::wait_gone("sleep 1000.271", 5).await,
        Vec::<i32>::new()
    );
    assert_eq!(
        support::wait_gone("sleep 1000.314", 5).await,
        Vec::<i32>::new()
    );
    assert_eq!(s.wait_exit().await, Some(0));
    // (The sidecar's own command line names the fake, so look only once it is gone.)
    let needle = fake.display().to_string();
    assert_eq!(support::wait_gone(&needle, 5).await, Vec::<i32>::new());
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn capabilities_diagnose_and_refusals() {
    let env = World::new();
    let mut s = env.sidecar();
    let caps = s.call("capabilities", json!({ "runtime": "codex" })).await;
    let info = &caps["result"]["runtimes"][0];
    assert_eq!(info["name"], "codex");
    assert_eq!(info["capabilities"]["toolFilters"], false);
    assert_eq!(info["options"]["additionalProperties"], false);

    let d = s.call("diagnose", json!({ "runtime": "codex" })).await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(d["binary"]["version"], "codex-cli 0.171.0");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("OPENAI_API_KEY"), "{msg}");
    assert!(!msg.contains("dummy"), "never the key itself: {msg}");

    let mock = MockResponses::start(vec![]).await;
    let refused = |r: &Value, field: &str| {
        assert_eq!(r["error"]["code"], -32012, "{r}");
        assert_eq!(r["error"]["data"]["field"], field, "{r}");
    };
    let r = s
        .call(
            "run",
            env.run(
                "f1",
                &mock,
                json!({ "permissions": { "allowedTools": ["Bash"] } }),
            ),
        )
        .await;
    refused(&r, "task.permissions.allowedTools");
    let r = s
        .call(
            "run",
            env.run(
                "f2",
                &mock,
                json!({ "runtimeOptions": { "codex": { "config": { "sandbox_mode": "danger-full-access" } } } }),
            ),
        )
        .await;
    refused(&r, "task.runtimeOptions.codex.config.sandbox_mode");
    let r = s
        .call(
            "run",
            env.run(
                "f3",
                &mock,
                json!({ "runtimeOptions": { "codex": { "bogus": 1 } } }),
            ),
        )
        .await;
    refused(&r, "task.runtimeOptions.codex.bogus");
    assert!(mock.requests().is_empty());
    assert_eq!(s.wait_exit().await, Some(0));

    // Without the key and without a login, the built-in provider is refused up front.
    let mut s = env.sidecar_with(&env.codex, "");
    let d = s.call("diagnose", json!({ "runtime": "codex" })).await;
    assert_eq!(
        d["result"]["runtimes"][0]["status"], "missingCredentials",
        "{d}"
    );
    let mut t = env.run("nokey", &mock, json!({}));
    t["task"]["runtimeOptions"]["codex"]
        .as_object_mut()
        .unwrap()
        .remove("provider");
    let r = s.call("run", t).await;
    assert_eq!(r["error"]["code"], -32011, "{r}");
    assert_eq!(s.wait_exit().await, Some(0));

    // A missing binary.
    let mut s = env.sidecar_with(&env.root.join("no-such-codex"), "dummy");
    let d = s.call("diagnose", json!({ "runtime": "codex" })).await;
    assert_eq!(d["result"]["runtimes"][0]["status"], "missingBinary", "{d}");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn endless_reconnects_hit_the_retry_deadline() {
    let env = World::new();
    let mock = MockResponses::start(vec![Reply::Truncate; 200]).await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run(
            "retry",
            &mock,
            json!({ "runtimeOptions": { "codex": {
                "maxRetryMs": 1500,
                "provider": { "streamMaxRetries": 200 },
            } } }),
        ))
        .await;
    let r = out.assert_finished("error");
    assert_eq!(r["error"]["kind"], "vendor");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kept retrying"),
        "{r}"
    );
    assert!(mock.requests().len() >= 2, "codex reconnected");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// `runtimeOptions.codex.config` reaches the real codex through `thread/start`'s `config` (not
/// `-c` on argv): an override of the reasoning effort shows in the model request.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn config_overrides_reach_codex_through_thread_start() {
    let env = World::new();
    let mock = MockResponses::start(vec![Reply::text("ok"), Reply::text("ok")]).await;
    let mut s = env.sidecar();
    let mut efforts = vec![];
    for (id, effort) in [("low", "low"), ("high", "high")] {
        let out = s
            .run(env.run(
                id,
                &mock,
                json!({ "runtimeOptions": { "codex": { "config": {
                    "model_reasoning_effort": effort,
                } } } }),
            ))
            .await;
        assert_eq!(
            out.result()["finishReason"],
            "completed",
            "{}",
            out.result()
        );
        let reqs = mock.requests();
        let body = &reqs.last().unwrap().body;
        efforts.push(body["reasoning"]["effort"].clone());
    }
    assert_eq!(efforts, [json!("low"), json!("high")]);
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

// ---- Live sessions, driven through the runtime seam (`Runtime::open` → `LiveSession`) with the
// real pinned codex: one app-server per session, turns in it, interrupt, steer, close, and what
// happens when codex dies between turns. (The core's session registry drives the same seam.)

mod live {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use agent_runtime_kit::protocol::task::{AgentTask, ApprovalMode, RunOptions};
    use agent_runtime_kit::runtime::codex::{CodexOptions, CodexRuntime};
    use agent_runtime_kit::runtime::{
        Approvals, EventOutput, EventSink, LiveSession, OpenContext, RunContext, Runtime, Steering,
        Stop, StopReason,
    };
    use serde_json::{json, Value};
    use tokio::sync::mpsc;

    use super::support::codex::World;
    use super::support::mock_codex::{user_messages, MockResponses, Reply};

    #[derive(Default)]
    struct Events(Mutex<Vec<Value>>);

    #[async_trait::async_trait]
    impl EventOutput for Events {
        async fn send(&self, event: Value) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl Events {
        fn types(&self) -> Vec<String> {
            let events = self.0.lock().unwrap();
            events
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_string())
                .collect()
        }
    }

    impl World {
        fn runtime(&self) -> CodexRuntime {
            CodexRuntime::new(Some(self.codex.clone()))
        }

        /// A task against `mock` (as `run` would take it), and its parsed codex options.
        fn task(&self, mock: &MockResponses, extra: Value) -> (AgentTask, CodexOptions) {
            let mut v = self.run("t", mock, extra)["task"].clone();
            let mut opts = v["runtimeOptions"]["codex"].take();
            // This test's private codex home and key, as a host would pass them.
            opts["env"] = json!(self
                .env_vars("dummy")
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>());
            v.as_object_mut().unwrap().remove("runtimeOptions");
            (
                serde_json::from_value(v).unwrap(),
                serde_json::from_value(opts).unwrap(),
            )
        }

        fn codex_pids(&self) -> Vec<i32> {
            super::codex_pids(self)
        }
    }

    /// One turn's context: its events, its stop, and the sender of its steering.
    fn turn_ctx(
        env: &World,
        task: AgentTask,
    ) -> (RunContext, Arc<Events>, Stop, mpsc::Sender<String>) {
        let events = Arc::new(Events::default());
        let options = RunOptions::default();
        let sink = EventSink::new("turn".into(), events.clone(), &options);
        let stop = Stop::default();
        let (steer_tx, steer) = Steering::channel();
        let approvals = Approvals::new(
            ApprovalMode::Deny,
            None,
            Duration::from_secs(5),
            sink.clone(),
            stop.clone(),
        );
        let ctx = RunContext {
            task_id: "turn".into(),
            task,
            options,
            working_directory: env.work.clone(),
            events: sink,
            stop: stop.clone(),
            approvals,
            steer,
            attachments: Default::default(),
        };
        (ctx, events, stop, steer_tx)
    }

    async fn open(env: &World, rt: &CodexRuntime, mock: &MockResponses) -> Box<dyn LiveSession> {
        let (task, opts) = env.task(mock, json!({ "goal": "" }));
        let opts = rt.plan(&task, &env.work, opts).unwrap();
        let ctx = OpenContext {
            task,
            options: RunOptions::default(),
            working_directory: env.work.clone(),
            stop: Stop::default(),
        };
        match rt.open(ctx, opts).await {
            Ok(s) => s,
            Err(r) => panic!("open failed: {r:?}"),
        }
    }

    async fn turn(
        env: &World,
        s: &mut Box<dyn LiveSession>,
        mock: &MockResponses,
        goal: &str,
    ) -> Value {
        let (task, _) = env.task(mock, json!({ "goal": goal }));
        let (ctx, events, _, _) = turn_ctx(env, task);
        let r = serde_json::to_value(s.turn(ctx).await).unwrap();
        assert_eq!(
            events.types()[0],
            "agent.task.started",
            "{:?}",
            events.types()
        );
        r
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn follow_ups_run_in_the_same_app_server_and_see_earlier_turns() {
        let env = World::new();
        let rt = env.runtime();
        let mock = MockResponses::start(vec![Reply::CountUsers, Reply::CountUsers]).await;
        let mut s = open(&env, &rt, &mock).await;
        let id = s.session_id();
        assert!(!id.is_empty());
        // Prewarmed: codex is up and the thread exists before any turn; no model call yet.
        let pids = env.codex_pids();
        assert_eq!(pids.len(), 1, "one app-server: {pids:?}");
        assert!(mock.requests().is_empty());

        let r1 = turn(&env, &mut s, &mock, "FIRST question").await;
        assert_eq!(r1["finishReason"], "completed", "{r1}");
        assert_eq!(r1["output"], "USERS=1");
        assert_eq!(r1["sessionId"], id.as_str());
        assert_eq!(r1["sessionSource"], "new");
        assert_eq!(r1["sessionLive"], true);

        let r2 = turn(&env, &mut s, &mock, "SECOND question").await;
        assert_eq!(r2["finishReason"], "completed", "{r2}");
        assert_eq!(r2["output"], "USERS=2", "the model saw the first turn");
        assert_eq!(r2["sessionSource"], "live");
        assert_eq!(
            r2["usage"]["inputTokens"],
            super::INPUT_TOKENS,
            "this turn's usage only"
        );
        assert_eq!(env.codex_pids(), pids, "no new process for the follow-up");
        let reqs = mock.requests();
        assert_eq!(
            user_messages(&reqs[1].body),
            vec!["FIRST question".to_string(), "SECOND question".to_string()]
        );

        s.close().await;
        assert!(env.codex_pids().is_empty(), "close leaves no process");
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn an_interrupted_turn_keeps_the_session_and_steer_joins_a_running_turn() {
        let env = World::new();
        let rt = env.runtime();
        let mock = MockResponses::start(vec![
            Reply::Stall,
            Reply::Shell("sleep 2".into()),
            Reply::CountUsers,
        ])
        .await;
        let mut s = open(&env, &rt, &mock).await;
        let pids = env.codex_pids();

        // Turn 1 stalls at the model; the host cancels: turn/interrupt, a soft cancel.
        let (task, _) = env.task(&mock, json!({ "goal": "STALLED question" }));
        let (ctx, _, stop, _) = turn_ctx(&env, task);
        let stopper = {
            let mock = mock.clone();
            tokio::spawn(async move {
                while mock.requests().is_empty() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                stop.stop(StopReason::Cancelled);
            })
        };
        let r1 = serde_json::to_value(s.turn(ctx).await).unwrap();
        stopper.await.unwrap();
        assert_eq!(r1["finishReason"], "cancelled", "{r1}");
        assert_eq!(r1["cancel"], "soft");
        assert_eq!(r1["sessionLive"], true);
        assert!(!s.ended().is_cancelled());

        // Turn 2 runs a command; while it runs the host steers, and codex's next model request
        // in the same turn carries the steered text.
        let (task, _) = env.task(&mock, json!({ "goal": "SECOND question" }));
        let (ctx, _, _, steer) = turn_ctx(&env, task);
        let steerer = {
            let mock = mock.clone();
            tokio::spawn(async move {
                while mock.requests().len() < 2 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                steer
                    .send("STEER-MARKER also say bye".into())
                    .await
                    .unwrap();
                steer
            })
        };
        let r2 = serde_json::to_value(s.turn(ctx).await).unwrap();
        drop(steerer.await.unwrap());
        assert_eq!(r2["finishReason"], "completed", "{r2}");
        assert_eq!(r2["sessionSource"], "live");
        let reqs = mock.requests();
        assert_eq!(reqs.len(), 3, "one stalled request, then two in turn 2");
        let users = user_messages(&reqs[2].body);
        assert!(users.contains(&"STALLED question".to_string()), "{users:?}");
        assert!(
            users.contains(&"STEER-MARKER also say bye".to_string()),
            "the steer joined turn 2: {users:?}"
        );
        assert_eq!(r2["output"], format!("USERS={}", users.len()));
        assert_eq!(env.codex_pids(), pids, "same process throughout");

        s.close().await;
        assert!(env.codex_pids().is_empty());
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn a_killed_app_server_ends_the_session_and_a_cold_resume_continues_it() {
        let env = World::new();
        let rt = env.runtime();
        let mock = MockResponses::start(vec![Reply::CountUsers, Reply::CountUsers]).await;
        let mut s = open(&env, &rt, &mock).await;
        let id = s.session_id();
        let r1 = turn(&env, &mut s, &mock, "FIRST question").await;
        assert_eq!(r1["output"], "USERS=1", "{r1}");

        // SIGKILL between turns: the watcher sees codex's output end.
        let pids = env.codex_pids();
        assert_eq!(pids.len(), 1);
        sigkill(pids[0]);
        tokio::time::timeout(Duration::from_secs(5), s.ended().cancelled())
            .await
            .expect("ended fires when codex dies between turns");
        s.close().await;

        // The next turn resumes cold, from codex's store, in a new process.
        let (task, opts) = env.task(
            &mock,
            json!({ "goal": "SECOND question", "session": { "resume": id } }),
        );
        let opts = rt.plan(&task, &env.work, opts).unwrap();
        let (ctx, _, _, _) = turn_ctx(&env, task);
        let r2 = serde_json::to_value(rt.run(ctx, opts).await).unwrap();
        assert_eq!(r2["finishReason"], "completed", "{r2}");
        assert_eq!(r2["sessionSource"], "resumed");
        assert_eq!(r2["sessionId"], id.as_str());
        assert_eq!(r2["output"], "USERS=2", "the cold resume has the history");
        assert!(
            super::support::wait_gone_env("app-server", &env.codex_home(), 5)
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    #[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
    async fn a_session_dropped_without_close_leaves_no_process() {
        let env = World::new();
        let rt = env.runtime();
        let mock = MockResponses::start(vec![Reply::CountUsers]).await;
        let mut s = open(&env, &rt, &mock).await;
        let r = turn(&env, &mut s, &mock, "FIRST question").await;
        assert_eq!(r["output"], "USERS=1", "{r}");
        assert_eq!(env.codex_pids().len(), 1);
        drop(s);
        let home = env.codex_home();
        assert!(super::support::wait_gone_env("app-server", &home, 5)
            .await
            .is_empty());
    }

    /// SIGKILL through the `kill` command (no `unsafe` in tests).
    fn sigkill(pid: i32) {
        let ok = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

// ---- Live sessions through the binary (the core's session registry over this runtime).

/// This test's codex app-server processes (its private CODEX_HOME is in their environment),
/// without the helpers codex starts under itself during a turn (their command lines can name
/// the app-server too): only processes whose parent is not one of them.
fn codex_pids(env: &World) -> Vec<i32> {
    let home = env.codex_home();
    top_level(support::pids_matching_env("app-server", &home))
}

fn top_level(pids: Vec<i32>) -> Vec<i32> {
    let parent = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(1)?
                    .parse::<i32>()
                    .ok()
            })
    };
    pids.iter()
        .copied()
        .filter(|p| parent(*p).is_none_or(|pp| !pids.contains(&pp)))
        .collect()
}

async fn codex_gone(env: &World) -> Vec<i32> {
    let home = env.codex_home();
    support::wait_gone_env("app-server", &home, 5).await
}

/// Waits until the mock has seen `n` requests, then a little longer (codex is mid-turn).
async fn after_requests(mock: &MockResponses, n: usize) {
    let began = Instant::now();
    while mock.requests().len() < n {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the mock saw {n} requests"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_kept_session_takes_follow_ups_and_steer_in_one_app_server() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::CountUsers,
        Reply::Shell("sleep 2".into()),
        Reply::CountUsers,
    ])
    .await;
    let mut s = env.sidecar();
    let caps = s.call("capabilities", json!({})).await;
    let codex = caps["result"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "codex")
        .unwrap()["capabilities"]
        .clone();
    assert_eq!(codex["liveSessions"], true, "{codex}");
    assert_eq!(codex["steer"], true);
    assert_eq!(codex["prewarm"], true);

    let first = s
        .run(env.run(
            "t1",
            &mock,
            json!({ "goal": "FIRST question", "session": { "keepAlive": true } }),
        ))
        .await;
    let r = first.assert_finished("completed");
    assert_eq!(r["output"], "USERS=1");
    assert_eq!(r["sessionSource"], "new");
    assert_eq!(r["sessionLive"], true);
    let id = r["sessionId"].as_str().unwrap().to_string();
    let pids = codex_pids(&env);
    assert_eq!(pids.len(), 1, "one app-server, kept: {pids:?}");

    // The follow-up runs in the same process; while its command runs, the host steers.
    let run = s
        .request(
            "run",
            env.run(
                "t2",
                &mock,
                json!({ "goal": "SECOND question", "session": { "resume": id } }),
            ),
        )
        .await;
    after_requests(&mock, 2).await;
    let steer = s
        .call(
            "steer",
            json!({ "taskId": "t2", "text": "STEER-MARKER say bye" }),
        )
        .await;
    assert_eq!(steer["result"]["accepted"], true, "{steer}");
    let r = s.response(&run).await["result"].clone();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "live");
    assert_eq!(r["sessionLive"], true);
    assert_eq!(r["sessionId"], id.as_str());
    let users = support::mock_codex::user_messages(&mock.requests()[2].body);
    assert_eq!(
        users,
        ["FIRST question", "SECOND question", "STEER-MARKER say bye"],
        "the model saw the first turn and the steer"
    );
    assert_eq!(r["output"], "USERS=3");
    assert_eq!(codex_pids(&env), pids, "no new process for the follow-up");

    let listed = s.call("session/list", json!({})).await;
    assert_eq!(listed["result"]["sessions"][0]["state"], "idle", "{listed}");
    assert_eq!(listed["result"]["sessions"][0]["runtime"], "codex");
    let closed = s.call("session/close", json!({ "sessionId": id })).await;
    assert_eq!(closed["result"]["closed"], true, "{closed}");
    assert!(codex_pids(&env).is_empty(), "closed means gone");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn prewarm_interrupt_then_continue_and_a_killed_codex_resumes_cold() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Stall,
        Reply::CountUsers,
        Reply::CountUsers,
        Reply::CountUsers,
    ])
    .await;
    let mut s = env.sidecar();
    let mut open = env.run("unused", &mock, json!({}));
    open["task"].as_object_mut().unwrap().remove("goal");
    let opened = s
        .call(
            "session/open",
            json!({ "runtime": "codex", "task": open["task"] }),
        )
        .await;
    let id = opened["result"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{opened}"))
        .to_string();
    // Prewarmed: codex is up with the thread loaded; no model request yet.
    let pids = codex_pids(&env);
    assert_eq!(pids.len(), 1, "{pids:?}");
    assert!(mock.requests().is_empty());

    // A turn stalls at the model; cancel interrupts it and keeps the session.
    let run = s
        .request(
            "run",
            env.run(
                "t1",
                &mock,
                json!({ "goal": "STALLED question", "session": { "resume": id } }),
            ),
        )
        .await;
    after_requests(&mock, 1).await;
    s.call("cancel", json!({ "taskId": "t1" })).await;
    let r = s.response(&run).await["result"].clone();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(r["cancel"], "soft");
    assert_eq!(r["sessionLive"], true);

    let next = s
        .run(env.run(
            "t2",
            &mock,
            json!({ "goal": "SECOND question", "session": { "resume": id } }),
        ))
        .await;
    let r = next.assert_finished("completed");
    assert_eq!(r["sessionSource"], "live");
    assert_eq!(
        r["output"], "USERS=2",
        "the interrupted turn is in the history"
    );
    assert_eq!(codex_pids(&env), pids);

    // SIGKILL codex between turns: the session ends, and the next resume is cold.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pids[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        let v = s.next().await.expect("sidecar running");
        if v["method"] == "session/closed" {
            assert_eq!(v["params"], json!({ "sessionId": id, "reason": "exited" }));
            break;
        }
    }
    let cold = s
        .run(env.run(
            "t3",
            &mock,
            json!({ "goal": "THIRD question", "session": { "resume": id, "keepAlive": true } }),
        ))
        .await;
    let r = cold.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "resumed");
    assert_eq!(r["sessionId"], id.as_str());
    assert_eq!(r["output"], "USERS=3", "the cold resume has the history");
    assert_eq!(r["sessionLive"], true);
    assert_eq!(codex_pids(&env).len(), 1);

    // Shutdown with a live session open leaves no codex behind.
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
    assert_eq!(codex_gone(&env).await, Vec::<i32>::new());
}

/// A SIGKILL of the sidecar (no chance to clean up) with an idle live session and a prewarmed
/// one open: the parent-death signal takes both app-servers down.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_killed_sidecar_leaves_no_app_server_of_its_live_sessions() {
    let env = World::new();
    let mock = MockResponses::start(vec![Reply::CountUsers]).await;
    let mut s = env.sidecar();
    let first = s
        .run(env.run(
            "k1",
            &mock,
            json!({ "goal": "FIRST question", "session": { "keepAlive": true } }),
        ))
        .await;
    assert_eq!(first.result()["sessionLive"], true, "{}", first.response);
    let mut open = env.run("unused", &mock, json!({ "goal": "" }));
    let task = open["task"].take();
    let opened = s
        .call("session/open", json!({ "runtime": "codex", "task": task }))
        .await;
    assert!(opened["result"]["sessionId"].is_string(), "{opened}");
    assert_eq!(codex_pids(&env).len(), 2, "two live app-servers");

    s.child.start_kill().unwrap();
    let _ = s.child.wait().await;
    assert_eq!(codex_gone(&env).await, Vec::<i32>::new());
}

// ---- No cold-start tax: nothing waits for `codex --version` before the first task.

/// A fake codex whose `--version` takes `version_delay` seconds and whose app-server names
/// `version` in `initialize`'s userAgent, then answers one turn at once.
fn quick_fake_codex(dir: &Path, version: &str, version_delay: u32) -> PathBuf {
    let path = dir.join(format!("fake-codex-{version}"));
    std::fs::write(
        &path,
        format!(
            r#"#!/bin/bash
case "$1" in
  --version) sleep {version_delay}; echo "codex-cli {version}"; exit 0 ;;
esac
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"initialize"'*) echo "{{\"id\":$id,\"result\":{{\"userAgent\":\"agent-runtime-kit/{version} (Linux; x86_64) unknown\"}}}}" ;;
    *'"thread/start"'*) echo "{{\"id\":$id,\"result\":{{\"thread\":{{\"id\":\"fake-thread\"}},\"model\":\"gpt-5.5\"}}}}" ;;
    *'"turn/start"'*)
      echo "{{\"id\":$id,\"result\":{{\"turn\":{{\"id\":\"fake-turn\"}}}}}}"
      echo '{{"method":"turn/completed","params":{{"threadId":"fake-thread","turn":{{"id":"fake-turn","status":"completed","items":[{{"type":"agentMessage","text":"fake answer"}}]}}}}}}' ;;
  esac
done
"#
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn the_first_run_does_not_wait_for_the_version_probe_and_initialize_names_the_version() {
    let env = World::new();
    let mock = MockResponses::start(vec![]).await;
    // `--version` takes 3 s: the first run answers long before (the probe runs beside it).
    let slow = quick_fake_codex(&env.root, "0.171.0", 3);
    let mut s = env.sidecar_with(&slow, "dummy");
    let began = Instant::now();
    let out = s.run(env.run("fast", &mock, json!({}))).await;
    let took = began.elapsed();
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.result()
    );
    assert_eq!(out.result()["output"], "fake answer");
    assert!(
        took < Duration::from_secs(2),
        "waited for --version: {took:?}"
    );
    assert_eq!(s.wait_exit().await, Some(0));

    // A codex older than the oldest supported one is caught from its userAgent on the first run
    // (and refused up front once the background probe has answered).
    let old = quick_fake_codex(&env.root, "0.170.0", 0);
    let mut s = env.sidecar_with(&old, "dummy");
    let out = s.run(env.run("old", &mock, json!({}))).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "process");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("older than 0.171.0"),
        "{r}"
    );
    let began = Instant::now();
    let again = loop {
        let again = s.call("run", env.run("old2", &mock, json!({}))).await;
        if again.get("error").is_some() || began.elapsed() > Duration::from_secs(5) {
            break again;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(again["error"]["code"], -32011, "{again}");
    assert_eq!(again["error"]["data"]["status"], "unsupportedVersion");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Codex 0.171.0 does not retry a 429 (one request, then "exceeded retry limit", even with
/// `requestMaxRetries: 2`; tests/codex.rs http_errors_* covers the error), so its retry path is
/// driven by a stream cut short: codex reconnects (`error {willRetry: true}`), the wait is an
/// `agent.retry`, and the task completes with the answer of the second attempt.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_retried_stream_then_success_is_an_agent_retry() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Status(
            429,
            json!({ "error": { "message": "Rate limit reached", "type": "rate_limit_error" } }),
        ),
        Reply::Truncate,
        Reply::text("answered after the retry"),
    ])
    .await;
    let mut s = env.sidecar();
    let retries = json!({ "runtimeOptions": { "codex": { "provider": {
        "requestMaxRetries": 2, "streamMaxRetries": 2 } } } });
    let out = s.run(env.run("r429", &mock, retries.clone())).await;
    assert_eq!(out.result()["error"]["kind"], "rateLimit");
    assert_eq!(mock.requests().len(), 1, "codex retried the 429 after all");

    let out = s.run(env.run("cut", &mock, retries)).await;
    let r = out.assert_finished("completed");
    assert_eq!(r["output"], "answered after the retry");
    let retry = out.of_type("agent.retry");
    assert_eq!(retry.len(), 1, "{:?}", out.types());
    assert_eq!(retry[0]["attempt"], 1);
    assert_eq!(retry[0]["reason"], "network", "{retry:?}");
    let types = out.types();
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("agent.retry") < at("agent.message"), "{types:?}");
    assert_eq!(s.wait_exit().await, Some(0));
}
