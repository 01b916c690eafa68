//! The `antigravity` runtime end to end: the real binary over stdio, the pinned google-antigravity
//! SDK (and its bundled localharness) from tests/vendors, and a mock Gemini API on 127.0.0.1
//! that the SDK reaches through GOOGLE_GEMINI_BASE_URL. Nothing leaves the machine.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::antigravity::{writes_hello, World, MODEL};
use support::mock_gemini::Reply;
use support::sidecar::RunOutcome;
use support::{pids_matching_env, vendor, Sidecar};

/// Cancels the running task `task_id` (the `run` request `id`): the sidecar says it is
/// cancelling, and the run ends cancelled, softly, within `within`. Returns the run's result.
async fn cancel_softly(w: &mut World, task_id: &str, id: &Value, within: Duration) -> Value {
    let began = Instant::now();
    let c = w.sidecar.call("cancel", json!({"taskId": task_id})).await;
    assert_eq!(c["result"]["state"], "cancelling", "{c}");
    let resp = w.sidecar.response(id).await;
    let r = resp["result"].clone();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(r["cancel"], "soft", "{r}");
    assert!(began.elapsed() < within, "{:?}", began.elapsed());
    r
}

/// A world whose model finishes with `{"answer": 4}`, then (next turn) answers "four" in plain
/// text; and the schema that asks for it.
async fn answers_four() -> (World, Value) {
    let schema = json!({"type": "object", "properties": {"answer": {"type": "integer"}},
                        "required": ["answer"]});
    let w = World::start(vec![
        Reply::call("finish", json!({"answer": 4})),
        Reply::text(&["four"]),
    ])
    .await;
    (w, schema)
}

fn text_of(out: &RunOutcome) -> String {
    out.of_type("agent.output.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn plain_answer_streams_deltas_with_usage_and_session() {
    let mut w = World::start(vec![Reply::thinking(
        "Let me think.",
        Reply::text(&["Hello ", "from the ", "mock."]),
    )
    .paced(Duration::from_millis(40))])
    .await;
    let out = w
        .run(json!({"goal": "Say hello", "appendSystemPrompt": "MARKER-APPEND-42"}))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Hello from the mock.");
    assert_eq!(text_of(&out), "Hello from the mock.");
    assert!(out.of_type("agent.output.delta").len() >= 3);
    // Thinking is reasoning, never output.
    assert_eq!(
        out.of_type("agent.reasoning.delta")[0]["text"],
        "Let me think."
    );
    assert_eq!(out.of_type("agent.reasoning")[0]["text"], "Let me think.");
    assert!(out
        .of_type("agent.output.delta")
        .iter()
        .all(|d| d.get("vendor").is_none() && !d["text"].as_str().unwrap().is_empty()));
    assert_eq!(
        out.of_type("agent.message")[0]["text"],
        "Hello from the mock."
    );
    assert_eq!(r["usage"]["inputTokens"], 11);
    assert_eq!(r["usage"]["outputTokens"], 9, "candidates + thoughts");
    let session = r["sessionId"].as_str().unwrap();
    assert_eq!(out.of_type("agent.task.started")[0]["sessionId"], session);
    assert_eq!(r["vendor"]["sdkVersion"], "0.1.22");

    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].model, MODEL);
    assert_eq!(
        reqs[0].api_key.as_deref(),
        Some("dummy-test-key-0123456789")
    );
    assert!(reqs[0].texts().contains("Say hello"));
    assert!(reqs[0].system_instruction().contains("MARKER-APPEND-42"));
    // The SDK's home-directory writes stayed in our state dir.
    assert!(Path::new(&w.marker())
        .join("agent-runtime-kit/antigravity/home")
        .is_dir());
    assert!(Path::new(&w.marker())
        .join(format!(
            "agent-runtime-kit/antigravity/sessions/{session}.db"
        ))
        .is_file());
    assert_eq!(w.sidecar.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn system_prompt_replaces_the_default() {
    let mut w = World::start(vec![Reply::text(&["ok"])]).await;
    let out = w
        .run(json!({"goal": "hi", "systemPrompt": "You are MARKER-SYSTEM-7."}))
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    let sys = w.mock.requests()[0].system_instruction();
    assert!(sys.contains("You are MARKER-SYSTEM-7."), "{sys}");
    assert!(
        sys.len() < 1000,
        "the default instructions are gone: {} bytes",
        sys.len()
    );
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn write_file_tool_reports_an_artifact() {
    let mut w = World::scripted(writes_hello).await;
    let target = w.work().join("hello.txt");
    let out = w.run(json!({"goal": "Write hello.txt"})).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hi from mock\n");
    assert_eq!(
        r["artifacts"],
        json!([{"path": "hello.txt", "change": "created"}])
    );
    let req = out.of_type("agent.tool.requested");
    let done = out.of_type("agent.tool.completed");
    assert_eq!(req.len(), 1);
    assert_eq!(req[0]["name"], "edit_file");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(done[0]["toolCallId"], req[0]["toolCallId"]);
    assert_eq!(r["toolCalls"][0]["status"], "ok");
    // The tool's result went back to the model.
    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].texts().contains("functionResponse"));
}

fn run_command_script(work: &Path) -> Vec<Reply> {
    vec![
        Reply::call(
            "run_command",
            json!({"CommandLine": format!("echo ran > {}/ran.txt", work.display()),
                   "Cwd": work.display().to_string(), "WaitMsBeforeAsync": 5000,
                   "toolSummary": "Run", "toolAction": "Running"}),
        ),
        Reply::text(&["Done."]),
    ]
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn run_command_is_denied_by_default() {
    let mut w = World::start_with(run_command_script, |_| {}).await;
    let out = w.run(json!({"goal": "Run it"})).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert!(
        !w.work().join("ran.txt").exists(),
        "the command did not run"
    );
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done.len(), 1, "{:?}", out.types());
    assert_eq!(done[0]["status"], "denied");
    assert_eq!(done[0]["name"], "run_command");
    assert!(out.of_type("agent.approval.requested").is_empty());
    assert_eq!(r["toolCalls"][0]["status"], "denied");
    // The model was told and went on.
    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].texts().to_lowercase().contains("denied"));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn run_command_runs_when_the_host_approves() {
    let mut w = World::start_with(run_command_script, |_| {}).await;
    let p = w.params(json!({"goal": "Run it", "permissions": {"approvals": "host"}}));
    let mut asked = vec![];
    let out = w
        .sidecar
        .run_with(p, |req| {
            asked.push(req.clone());
            Some(json!({"decision": "allow"}))
        })
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["name"], "run_command");
    assert!(asked[0]["input"]["CommandLine"]
        .as_str()
        .unwrap()
        .contains("ran.txt"));
    assert_eq!(
        std::fs::read_to_string(w.work().join("ran.txt")).unwrap(),
        "ran\n"
    );
    let approval_id = &out.of_type("agent.approval.requested")[0]["toolCallId"];
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(
        &done[0]["toolCallId"], approval_id,
        "one id from approval to completion"
    );
    assert_eq!(done[0]["output"]["exit_code"], 0);
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn mcp_stdio_tool_call_reaches_the_server() {
    let mut w = World::start(vec![
        Reply::call(
            "call_mcp_tool",
            json!({"ServerName": "adder", "ToolName": "add", "Arguments": {"a": 2, "b": 3},
                   "toolSummary": "Adding numbers", "toolAction": "Adding"}),
        ),
        Reply::text(&["It is 5."]),
    ])
    .await;
    let python = vendor("ARK_TEST_ANTIGRAVITY_PYTHON");
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_adder.py");
    let log = w.dir.path().join("mcp-calls.log");
    let out = w
        .run(json!({
            "goal": "Add 2 and 3",
            "mcpServers": {"adder": {"command": python, "args": [server, log],
                                     "env": {"ADDER_MARK": "from-the-task"}}},
        }))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    let calls = std::fs::read_to_string(&log).expect("the MCP server was called");
    assert_eq!(
        calls.trim(),
        r#"{"args": {"a": 2, "b": 3}, "mark": "from-the-task"}"#,
        "the call and the task's env reached the server"
    );
    let done = out.of_type("agent.tool.completed");
    // Named as the claude and codex runtimes name MCP tools.
    assert_eq!(done[0]["name"], "mcp__adder__add");
    assert_eq!(done[0]["status"], "ok");
    assert!(w.mock.requests()[1].texts().contains("the sum is 5"));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn structured_output_present_and_missing() {
    let (mut w, schema) = answers_four().await;
    let out = w.run(json!({"goal": "2+2?", "outputSchema": schema})).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["structuredOutput"], json!({"answer": 4}));
    assert!(
        !text_of(&out).contains("Finished"),
        "the FINISH step's text is not output"
    );
    assert!(w.mock.requests()[0]
        .tool_names()
        .contains(&"finish".to_string()));

    // The next turn answers in plain text: no structured output is an error of kind schema.
    let out = w.run(json!({"goal": "2+2?", "outputSchema": schema})).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "schema");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn resume_sends_the_history_to_the_model() {
    let mut w = World::start(vec![
        Reply::text(&["The word is PELICAN."]),
        Reply::text(&["You said PELICAN."]),
    ])
    .await;
    let first = w.run(json!({"goal": "Remember PELICAN"})).await;
    let session = first.result()["sessionId"].as_str().unwrap().to_string();
    let second = w
        .run(json!({"goal": "What was the word?", "session": {"resume": session}}))
        .await;
    let r = second.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionId"], session.as_str());
    assert!(r.get("sessionChanged").is_none());
    let reqs = w.mock.requests();
    let history = reqs[1].texts();
    assert!(
        history.contains("Remember PELICAN") && history.contains("The word is PELICAN."),
        "{history}"
    );
    assert!(history.contains("What was the word?"));

    // An unknown session is an error result, not a new session.
    let out = w
        .run(json!({"goal": "x", "session": {"resume": "00000000-0000-4000-8000-000000000000"}}))
        .await;
    assert_eq!(out.result()["finishReason"], "error");
    assert!(out.result()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not found"));
}

async fn error_kind_for(reply: Reply, options: Value) -> (Value, usize, Duration) {
    let mut w = World::start(vec![reply]).await;
    let began = Instant::now();
    let out = w
        .run(json!({"goal": "hi", "runtimeOptions": {"antigravity": options}}))
        .await;
    let took = began.elapsed();
    (out.result().clone(), w.mock.requests().len(), took)
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn model_api_errors_map_to_kinds_fast() {
    let (r, n, took) = error_kind_for(
        Reply::error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
        ),
        json!({}),
    )
    .await;
    assert_eq!(r["finishReason"], "error");
    assert_eq!(r["error"]["kind"], "auth", "{r}");
    assert_eq!(r["error"]["vendorCode"], 400);
    assert_eq!(n, 1, "no retry of a bad key");
    assert!(took < Duration::from_secs(20), "{took:?}");

    let (r, n, _) = error_kind_for(
        Reply::error(
            404,
            "NOT_FOUND",
            "models/gemini-mock-flash is not found for API version v1beta",
        ),
        json!({}),
    )
    .await;
    assert_eq!(r["error"]["kind"], "model", "{r}");
    assert_eq!(r["error"]["vendorCode"], 404);
    assert_eq!(n, 1);

    let (r, n, took) = error_kind_for(
        Reply::error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted"),
        json!({"apiRetries": 1, "retryInitialDelayMs": 50}),
    )
    .await;
    assert_eq!(r["error"]["kind"], "rateLimit", "{r}");
    assert_eq!(r["error"]["vendorCode"], 429);
    assert_eq!(n, 2, "one try and exactly one retry");
    assert!(took < Duration::from_secs(20), "bounded retries: {took:?}");
}

/// A 429 the harness retries, then an answer: the wait is an `agent.retry`, not silence.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_retried_429_is_an_agent_retry() {
    let mut w = World::start(vec![
        Reply::error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted"),
        Reply::text(&["Answer ", "after retry."]),
    ])
    .await;
    let out = w
        .run(json!({"goal": "hi", "runtimeOptions": {"antigravity":
            {"apiRetries": 2, "retryInitialDelayMs": 50}}}))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Answer after retry.");
    let retry = out.of_type("agent.retry");
    assert_eq!(retry.len(), 1, "{:?}", out.types());
    assert_eq!(retry[0]["attempt"], 1);
    assert_eq!(retry[0]["httpStatus"], 429);
    assert_eq!(retry[0]["reason"], "rateLimit");
    let types = out.types();
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("agent.retry") < at("agent.output.delta"), "{types:?}");
    assert_eq!(w.mock.requests().len(), 2);
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn missing_key_is_refused_before_anything_starts() {
    let mut w = World::start_with(
        |_| vec![],
        |cmd| {
            cmd.env_remove("GEMINI_API_KEY");
        },
    )
    .await;
    let began = Instant::now();
    let p = w.params(json!({"goal": "hi"}));
    let resp = w.sidecar.call("run", p).await;
    assert_eq!(resp["error"]["code"], -32011, "{resp}");
    assert_eq!(resp["error"]["data"]["status"], "missingCredentials");
    assert!(resp["error"]["data"]["message"]
        .as_str()
        .unwrap()
        .contains("GEMINI_API_KEY"));
    assert!(began.elapsed() < Duration::from_secs(15));
    assert!(w.mock.requests().is_empty());

    let d = w
        .sidecar
        .call("diagnose", json!({"runtime": "antigravity"}))
        .await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "missingCredentials", "{d}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn cancel_mid_turn_leaves_no_process_behind() {
    let mut w = World::start(vec![Reply::Hang(
        Duration::from_secs(60),
        Box::new(Reply::text(&["too late"])),
    )])
    .await;
    let p = w.params(json!({"goal": "Take your time"}));
    let task_id = p["taskId"].as_str().unwrap().to_string();
    let id = w.sidecar.request("run", p).await;
    // Wait until the model call is in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.mock.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model was never called");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !pids_matching_env("localharness", &w.marker()).is_empty(),
        "the harness runs under our state dir"
    );
    cancel_softly(&mut w, &task_id, &id, Duration::from_secs(10)).await;
    let left = support::wait_gone_env("localharness", &w.marker(), 5).await;
    assert!(left.is_empty(), "harness left behind: {left:?}");
    let left = support::wait_gone_env("agy_bridge", &w.marker(), 5).await;
    assert!(left.is_empty(), "bridge left behind: {left:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_killed_sidecar_takes_the_bridge_and_harness_with_it() {
    let mut w = World::start(vec![Reply::Hang(
        Duration::from_secs(60),
        Box::new(Reply::text(&["too late"])),
    )])
    .await;
    let p = w.params(json!({"goal": "Take your time"}));
    w.sidecar.request("run", p).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.mock.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model was never called");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!pids_matching_env("localharness", &w.marker()).is_empty());
    w.sidecar.child.start_kill().unwrap();
    let _ = w.sidecar.child.wait().await;
    let left = support::wait_gone_env("localharness", &w.marker(), 10).await;
    assert!(left.is_empty(), "harness outlived the sidecar: {left:?}");
    let left = support::wait_gone_env("agy_bridge", &w.marker(), 5).await;
    assert!(left.is_empty(), "bridge outlived the sidecar: {left:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn diagnose_reports_the_installation_without_a_model_call() {
    let mut w = World::start(vec![]).await;
    let d = w
        .sidecar
        .call("diagnose", json!({"runtime": "antigravity"}))
        .await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "ready", "{d}");
    assert!(d["binary"]["version"]
        .as_str()
        .unwrap()
        .contains("google-antigravity 0.1.22"));
    assert!(
        !d.to_string().contains("dummy-test-key"),
        "no credential is printed"
    );
    assert!(w.mock.requests().is_empty());

    // A probe calls the model: an unknown model is reported as such.
    drop(w);
    let mut w = World::start(vec![Reply::error(
        404,
        "NOT_FOUND",
        "models/nope is not found for API version v1beta",
    )])
    .await;
    let d = w
        .sidecar
        .call(
            "diagnose",
            json!({"runtime": "antigravity", "probe": true, "model": "nope"}),
        )
        .await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "unsupportedModel", "{d}");
    assert_eq!(w.mock.requests()[0].model, "nope");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn diagnose_names_a_missing_python_or_package() {
    let mut w = World::start_with(
        |_| vec![],
        |cmd| {
            cmd.env(
                "AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON",
                "/nonexistent/python3",
            );
        },
    )
    .await;
    let d = w
        .sidecar
        .call("diagnose", json!({"runtime": "antigravity"}))
        .await;
    assert_eq!(d["result"]["runtimes"][0]["status"], "missingBinary", "{d}");

    // A Python without the package (a bare venv made from the pinned one's interpreter).
    let python = vendor("ARK_TEST_ANTIGRAVITY_PYTHON");
    let venv = w.dir.path().join("bare-venv");
    let ok = std::process::Command::new(&python)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let bare = venv.join("bin/python");
    let mut s = Sidecar::spawn_with(&[], |cmd| {
        cmd.env("AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON", &bare)
            .env("GEMINI_API_KEY", "k");
    });
    let d = s.call("diagnose", json!({"runtime": "antigravity"})).await;
    let d = &d["result"]["runtimes"][0];
    assert_eq!(d["status"], "missingPackage", "{d}");
    assert!(d["remedy"].as_str().unwrap().contains("pip install"));
    let p = w.params(json!({"goal": "hi"}));
    let resp = s.call("run", p).await;
    assert_eq!(resp["error"]["code"], -32011, "{resp}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn refuses_what_it_cannot_honour() {
    let mut w = World::start(vec![]).await;
    for (task, field) in [
        (
            json!({"goal": "x", "session": {"resume": "00000000-0000-4000-8000-000000000000", "fork": true}}),
            "task.session.fork",
        ),
        (
            json!({"goal": "x", "permissions": {"allowedTools": ["view_file"]}}),
            "task.permissions.allowedTools",
        ),
        (
            json!({"goal": "x", "runtimeOptions": {"antigravity": {"nope": 1}}}),
            "task.runtimeOptions.antigravity.nope",
        ),
        (
            json!({"goal": "x", "mcpServers": {"bad name": {"command": "x"}}}),
            "task.mcpServers.bad name",
        ),
    ] {
        let p = w.params(task);
        let resp = w.sidecar.call("run", p).await;
        assert_eq!(resp["error"]["code"], -32012, "{resp}");
        assert_eq!(resp["error"]["data"]["field"], field, "{resp}");
    }
    assert!(w.mock.requests().is_empty());
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn max_turns_stops_after_that_many_model_calls() {
    let script = |work: &Path| {
        std::fs::write(work.join("notes.txt"), "some notes\n").unwrap();
        // The model keeps reading the file, forever.
        vec![Reply::call(
            "view_file",
            json!({"AbsolutePath": work.join("notes.txt").display().to_string(),
                   "toolSummary": "View", "toolAction": "Viewing"}),
        )]
    };
    let mut w = World::start_with(script, |_| {}).await;
    let out = w
        .run(json!({"goal": "Read notes.txt", "maxTurns": 2, "permissions": {"sandbox": "read-only"}}))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "maxTurns", "{r}");
    assert_eq!(r["error"]["kind"], "maxTurns");
    assert_eq!(w.mock.requests().len(), 2);
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done.len(), 2);
    assert!(done
        .iter()
        .all(|d| d["status"] == "ok" && d["name"] == "view_file"));
    // Read-only: the model is offered no tool that writes.
    let tools = w.mock.requests()[0].tool_names();
    assert!(tools.contains(&"view_file".to_string()), "{tools:?}");
    assert!(
        !tools
            .iter()
            .any(|t| t == "write_to_file" || t == "run_command"),
        "{tools:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Live sessions: the SDK conversation stays open in one bridge between turns.
// ------------------------------------------------------------------------------------------

impl World {
    /// The bridge processes of this world (one per live session or running task).
    fn bridges(&self) -> Vec<i32> {
        let mut p = pids_matching_env("agy_bridge", &self.marker());
        p.sort();
        p
    }

    fn harnesses(&self) -> Vec<i32> {
        let mut p = pids_matching_env("localharness", &self.marker());
        p.sort();
        p
    }

    /// A turn into `session` (a live one, or cold when it is not live).
    async fn turn(&mut self, session: &str, goal: &str) -> RunOutcome {
        self.run(json!({"goal": goal, "session": {"resume": session}}))
            .await
    }

    /// The next `session/closed` notification, skipping anything else.
    async fn session_closed(&mut self) -> Value {
        loop {
            let v = self.sidecar.next().await.expect("sidecar still running");
            if v["method"] == "session/closed" {
                return v["params"].clone();
            }
        }
    }

    async fn wait_model_called(&self, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.mock.requests().len() < times {
            assert!(
                Instant::now() < deadline,
                "the model was not called in time"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn live_session_takes_follow_ups_in_the_same_bridge() {
    let mut w = World::start(vec![Reply::CountUserTurns]).await;
    let began = Instant::now();
    let first = w
        .run(json!({"goal": "Remember PELICAN", "session": {"keepAlive": true}}))
        .await;
    let first_ms = began.elapsed().as_millis();
    let r = first.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "user turns: 1", "{r}");
    assert_eq!(r["sessionSource"], "new", "{r}");
    assert_eq!(r["sessionLive"], true, "{r}");
    let session = r["sessionId"].as_str().unwrap().to_string();
    let bridges = w.bridges();
    let harnesses = w.harnesses();
    assert_eq!(
        bridges.len(),
        1,
        "one bridge holds the session: {bridges:?}"
    );
    assert_eq!(harnesses.len(), 1, "{harnesses:?}");

    for n in 2..=3 {
        let began = Instant::now();
        let out = w.turn(&session, "What was the word?").await;
        eprintln!(
            "first turn (new bridge) {first_ms} ms; live follow-up {} ms",
            began.elapsed().as_millis()
        );
        let r = out.result();
        assert_eq!(r["finishReason"], "completed", "{r}");
        assert_eq!(r["sessionSource"], "live", "{r}");
        assert_eq!(r["sessionLive"], true, "{r}");
        assert_eq!(r["sessionId"], session.as_str());
        // The model saw every earlier turn.
        assert_eq!(r["output"], format!("user turns: {n}"), "{r}");
        assert_eq!(r["usage"]["inputTokens"], 11, "per-turn usage: {r}");
        assert_eq!(out.events[0]["params"]["seq"], 0);
        assert_eq!(
            out.events[0]["params"]["data"]["sessionId"],
            session.as_str()
        );
        // No new process: the same bridge and harness.
        assert_eq!(w.bridges(), bridges, "turn {n} started a new bridge");
        assert_eq!(w.harnesses(), harnesses, "turn {n} started a new harness");
    }
    let history = w.mock.requests()[2].texts();
    assert!(history.contains("Remember PELICAN"), "{history}");

    let list = w.sidecar.call("session/list", json!({})).await;
    let s = &list["result"]["sessions"][0];
    assert_eq!(s["sessionId"], session.as_str(), "{list}");
    assert_eq!(s["state"], "idle");
    assert_eq!(s["turns"], 3);

    let closed = w
        .sidecar
        .call("session/close", json!({"sessionId": session}))
        .await;
    assert_eq!(closed["result"]["closed"], true, "{closed}");
    // Answered once the bridge is gone; its harness follows it.
    assert!(w.bridges().is_empty(), "bridge left after close");
    let left = support::wait_gone_env("localharness", &w.marker(), 5).await;
    assert!(left.is_empty(), "harness left after close: {left:?}");
    let n = w.session_closed().await;
    assert_eq!(n["reason"], "closed", "{n}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn cancel_interrupts_the_turn_and_the_session_goes_on() {
    let mut w = World::start(vec![
        Reply::Hang(
            Duration::from_secs(60),
            Box::new(Reply::text(&["too late"])),
        ),
        Reply::CountUserTurns,
    ])
    .await;
    let p = w.params(json!({"goal": "Take your time", "session": {"keepAlive": true}}));
    let task_id = p["taskId"].as_str().unwrap().to_string();
    let id = w.sidecar.request("run", p).await;
    w.wait_model_called(1).await;
    let bridges = w.bridges();
    assert_eq!(bridges.len(), 1);
    let r = cancel_softly(&mut w, &task_id, &id, Duration::from_secs(5)).await;
    assert_eq!(r["sessionLive"], true, "{r}");
    let session = r["sessionId"].as_str().unwrap().to_string();

    let out = w.turn(&session, "Now answer").await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(
        w.bridges(),
        bridges,
        "the interrupted session kept its bridge"
    );
    // The interrupted request is in the conversation too.
    assert_eq!(r["output"], "user turns: 2", "{r}");
    assert!(w.mock.requests()[1].texts().contains("Take your time"));

    // EOF with the session open: the sidecar closes it and leaves nothing behind.
    assert_eq!(w.sidecar.wait_exit().await, Some(0));
    let left = support::wait_gone_env("agy_bridge", &w.marker(), 5).await;
    assert!(left.is_empty(), "bridge outlived the sidecar: {left:?}");
    let left = support::wait_gone_env("localharness", &w.marker(), 5).await;
    assert!(left.is_empty(), "harness outlived the sidecar: {left:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_bridge_killed_between_turns_resumes_cold() {
    let mut w = World::start(vec![Reply::CountUserTurns]).await;
    let first = w
        .run(json!({"goal": "Remember PELICAN", "session": {"keepAlive": true}}))
        .await;
    let session = first.result()["sessionId"].as_str().unwrap().to_string();
    let bridges = w.bridges();
    assert_eq!(bridges.len(), 1);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &bridges[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let n = w.session_closed().await;
    assert_eq!(n["sessionId"], session.as_str(), "{n}");
    assert_eq!(n["reason"], "exited", "{n}");
    // The harness notices its parent is gone.
    let left = support::wait_gone_env("localharness", &w.marker(), 10).await;
    assert!(left.is_empty(), "harness outlived its bridge: {left:?}");

    let began = Instant::now();
    let out = w.turn(&session, "What was the word?").await;
    eprintln!("cold resume {} ms", began.elapsed().as_millis());
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "resumed", "{r}");
    assert_eq!(r["sessionLive"], false, "{r}");
    assert_eq!(r["sessionId"], session.as_str());
    assert_eq!(r["output"], "user turns: 2", "the saved conversation: {r}");
    let left = support::wait_gone_env("agy_bridge", &w.marker(), 5).await;
    assert!(left.is_empty(), "a cold run keeps no bridge: {left:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn session_open_prewarms_the_conversation() {
    let mut w = World::start(vec![Reply::CountUserTurns]).await;
    // maxTurns: the SDK's budget would count across turns, so a live session refuses it.
    let refused = w
        .sidecar
        .call(
            "run",
            w.params(json!({"goal": "x", "maxTurns": 2, "session": {"keepAlive": true}})),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32012, "{refused}");
    assert_eq!(refused["error"]["data"]["field"], "task.maxTurns");
    let refused = w
        .sidecar
        .call(
            "session/open",
            json!({"runtime": "antigravity", "task": {"maxTurns": 2, "model": MODEL}}),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32012, "{refused}");
    assert_eq!(refused["error"]["data"]["field"], "task.maxTurns");
    assert!(w.bridges().is_empty());
    let task = json!({
        "workingDirectory": w.work().display().to_string(),
        "model": MODEL,
        "permissions": {"sandbox": "read-only"},
    });
    let began = Instant::now();
    let opened = w
        .sidecar
        .call(
            "session/open",
            json!({"runtime": "antigravity", "task": task}),
        )
        .await;
    let open_ms = began.elapsed().as_millis();
    let session = opened["result"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{opened}"))
        .to_string();
    assert_eq!(opened["result"]["runtime"], "antigravity");
    // Ready: the bridge and its harness run, and no model call was made.
    assert_eq!(w.bridges().len(), 1);
    assert_eq!(w.harnesses().len(), 1);
    assert!(w.mock.requests().is_empty());
    let list = w.sidecar.call("session/list", json!({})).await;
    assert_eq!(list["result"]["sessions"][0]["state"], "idle", "{list}");

    // What the SDK fixes at open cannot change per turn.
    for (field, task) in [
        ("task.model", json!({"goal": "x", "model": "gemini-other"})),
        (
            "task.permissions.sandbox",
            json!({"goal": "x", "permissions": {"sandbox": "full-access"}}),
        ),
        ("task.maxTurns", json!({"goal": "x", "maxTurns": 3})),
        (
            "task.outputSchema",
            json!({"goal": "x", "outputSchema": {"type": "object"}}),
        ),
    ] {
        let mut p = w.params(task);
        p["task"]["session"] = json!({"resume": session});
        let refused = w.sidecar.call("run", p).await;
        assert_eq!(refused["error"]["code"], -32012, "{refused}");
        assert_eq!(refused["error"]["data"]["field"], field, "{refused}");
    }

    let began = Instant::now();
    let out = w.turn(&session, "Hello").await;
    let turn_ms = began.elapsed().as_millis();
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(r["output"], "user turns: 1", "{r}");
    // The read-only tool set chosen at open applies.
    assert!(!w.mock.requests()[0]
        .tool_names()
        .iter()
        .any(|t| t == "write_to_file"));
    eprintln!("session/open took {open_ms} ms; the first turn on it {turn_ms} ms");

    let closed = w
        .sidecar
        .call("session/close", json!({"sessionId": session}))
        .await;
    assert_eq!(closed["result"]["closed"], true, "{closed}");
    let again = w
        .sidecar
        .call("session/close", json!({"sessionId": session}))
        .await;
    assert_eq!(again["error"]["code"], -32017, "{again}");
    assert!(w.bridges().is_empty());
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_failed_turn_ends_the_session_and_the_next_resume_is_cold() {
    let mut w = World::start(vec![
        Reply::CountUserTurns,
        Reply::error(404, "NOT_FOUND", "models/gemini-mock-flash is not found"),
        Reply::CountUserTurns,
    ])
    .await;
    let first = w
        .run(json!({"goal": "Remember PELICAN", "session": {"keepAlive": true}}))
        .await;
    let session = first.result()["sessionId"].as_str().unwrap().to_string();
    let out = w.turn(&session, "And now?").await;
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "model", "{r}");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(
        r["sessionLive"], false,
        "the failed turn ended the session: {r}"
    );
    let n = w.session_closed().await;
    assert_eq!(n["reason"], "exited", "{n}");
    let left = support::wait_gone_env("agy_bridge", &w.marker(), 5).await;
    assert!(left.is_empty(), "bridge left: {left:?}");

    let out = w.turn(&session, "What was the word?").await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "resumed", "{r}");
    assert!(w.mock.requests()[2].texts().contains("Remember PELICAN"));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_idle_session_closes_after_its_timeout_and_takes_the_bridge() {
    let mut w = World::start(vec![Reply::CountUserTurns]).await;
    let first = w
        .run(json!({"goal": "Hi", "session": {"keepAlive": true, "idleTimeoutMs": 300}}))
        .await;
    let session = first.result()["sessionId"].as_str().unwrap().to_string();
    let n = w.session_closed().await;
    assert_eq!(n["sessionId"], session.as_str(), "{n}");
    assert_eq!(n["reason"], "idle", "{n}");
    assert!(w.bridges().is_empty(), "closed means the bridge is gone");
    let left = support::wait_gone_env("localharness", &w.marker(), 5).await;
    assert!(left.is_empty(), "harness left: {left:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_live_turn_reports_only_its_own_structured_output() {
    let (mut w, schema) = answers_four().await;
    let first = w
        .run(json!({"goal": "2+2?", "outputSchema": schema, "session": {"keepAlive": true}}))
        .await;
    let r = first.result();
    assert_eq!(r["structuredOutput"], json!({"answer": 4}), "{r}");
    let session = r["sessionId"].as_str().unwrap().to_string();
    // The schema applies as opened; this turn's answer is plain text, so it has none (the first
    // turn's FINISH is in the conversation, not in this turn).
    let out = w.turn(&session, "Again?").await;
    let r = out.result();
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert!(r.get("structuredOutput").is_none(), "{r}");
    assert_eq!(r["output"], "four", "{r}");
}
