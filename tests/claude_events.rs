//! The claude runtime's richer turn events end to end: the sidecar → the real pinned Claude Code
//! CLI → the mock Messages API (tests/support/mock_claude.rs). Thinking, retries, sub-agents.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use support::mock_claude::{Block, MockClaude, Reply};
use support::sidecar::assert_well_formed;
use support::Sidecar;

/// A mock API, a private HOME and a working directory (as tests/claude_runtime.rs sets them up).
struct World {
    dir: tempfile::TempDir,
    mock: MockClaude,
    claude: PathBuf,
}

impl World {
    async fn new(script: Vec<Reply>) -> World {
        let claude = support::vendor("ARK_TEST_CLAUDE");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.claude")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        World {
            dir,
            mock: MockClaude::start(script).await,
            claude,
        }
    }

    fn sidecar(&self, env: &[(&str, &str)]) -> Sidecar {
        let home = self.dir.path().join("home");
        let claude = self.claude.display().to_string();
        Sidecar::spawn_with(&["--claude-path", &claude], |cmd| {
            for var in [
                "ANTHROPIC_AUTH_TOKEN",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "CLAUDE_CODE_USE_BEDROCK",
                "CLAUDE_CODE_USE_VERTEX",
                "CLAUDE_CODE_MAX_RETRIES",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("ANTHROPIC_BASE_URL", &self.mock.url)
                .env("ANTHROPIC_API_KEY", "dummy-test-key-0123456789")
                .env("HOME", &home)
                .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
                .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
                .env("DISABLE_AUTOUPDATER", "1")
                .env("DISABLE_TELEMETRY", "1")
                .env("DISABLE_ERROR_REPORTING", "1")
                .current_dir(self.dir.path().join("work"));
            for (k, v) in env {
                cmd.env(k, v);
            }
        })
    }

    fn run_params(&self, task_id: &str, goal: &str) -> Value {
        json!({ "taskId": task_id, "runtime": "claude",
                "task": { "goal": goal, "workingDirectory": self.dir.path().join("work") } })
    }
}

fn with_parent<'a>(events: &'a [Value], kind: &str) -> Vec<(Option<&'a str>, &'a Value)> {
    events
        .iter()
        .map(|e| &e["params"])
        .filter(|p| p["type"] == kind)
        .map(|p| (p["parentToolCallId"].as_str(), &p["data"]))
        .collect()
}

/// A 429 the CLI retries, a thinking block, then an `Agent` tool call whose sub-agent answers.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn thinking_a_retried_429_and_a_background_sub_agent() {
    let w = World::new(vec![
        Reply::error(429, "rate_limit_error", "slow down"),
        Reply::Message {
            blocks: vec![
                Block::Thinking(vec!["Let me ".into(), "think.".into()]),
                Block::ToolUse {
                    id: "toolu_agent1".into(),
                    name: "Agent".into(),
                    input: json!({"description": "count files", "prompt": "Count the files",
                                  "subagent_type": "general-purpose"}),
                },
            ],
            stop_reason: "tool_use".into(),
            delay: Duration::ZERO,
        },
        Reply::text("main agent done"),
    ])
    .await;
    // A slow sub-agent: the main turn's `result` comes first (the CLI runs `Agent` in the
    // background), and the turn must not end there.
    w.mock.answer_subagents(Reply::Message {
        blocks: vec![Block::Text(vec![
            "SUBAGENT-ANSWER ".into(),
            "three files".into(),
        ])],
        stop_reason: "end_turn".into(),
        delay: Duration::from_millis(1500),
    });
    let mut s = w.sidecar(&[("CLAUDE_CODE_MAX_RETRIES", "2")]);
    let out = s.run(w.run_params("rich", "use a sub-agent")).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");

    let retry = out.of_type("agent.retry");
    assert_eq!(retry.len(), 1, "{retry:?}");
    assert_eq!(retry[0]["attempt"], 1);
    assert_eq!(retry[0]["maxAttempts"], 2);
    assert_eq!(retry[0]["httpStatus"], 429);
    assert_eq!(retry[0]["reason"], "rateLimit");
    assert!(retry[0]["delayMs"].as_u64().unwrap() > 0);

    let deltas: Vec<&str> = out
        .of_type("agent.reasoning.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, vec!["Let me ", "think."]);
    assert_eq!(out.of_type("agent.reasoning")[0]["text"], "Let me think.");
    let streamed: String = out
        .of_type("agent.output.delta")
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert!(!streamed.contains("think"), "{streamed}");

    let started = with_parent(&out.events, "agent.subagent.started");
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].0, Some("toolu_agent1"));
    assert_eq!(started[0].1["parentToolCallId"], "toolu_agent1");
    assert_eq!(started[0].1["description"], "count files");
    // The sub-agent's words, when they arrive before the main result, are its own message.
    for (parent, m) in with_parent(&out.events, "agent.message") {
        let sub = m["text"].as_str().unwrap().contains("SUBAGENT-ANSWER");
        assert_eq!(parent.is_some(), sub, "{m}");
    }
    assert!(
        !r["output"].as_str().unwrap().contains("SUBAGENT-ANSWER"),
        "{r}"
    );
    assert!(!streamed.contains("SUBAGENT-ANSWER"));
    // The turn ends when its sub-agent does: the background Agent's completion is inside it,
    // and the CLI is not killed for it.
    let completed = with_parent(&out.events, "agent.subagent.completed");
    assert_eq!(completed.len(), 1, "{:?}", out.types());
    assert_eq!(completed[0].1["parentToolCallId"], "toolu_agent1");
    assert!(r.get("exit").is_none_or(|e| e["signal"].is_null()), "{r}");
    assert_eq!(s.wait_exit().await, Some(0));
}

/// `/compact` in a resumed session: the CLI's compact_boundary.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_manual_compaction_is_reported() {
    let w = World::new(vec![Reply::text("first answer")]).await;
    let mut s = w.sidecar(&[]);
    let out = s.run(w.run_params("one", "say something")).await;
    let sid = out.result()["sessionId"].as_str().unwrap().to_string();
    w.mock.push(vec![Reply::text("Summary: said something.")]);
    let mut params = w.run_params("two", "/compact");
    params["task"]["session"] = json!({ "resume": sid });
    let out = s.run(params).await;
    assert_well_formed(&out.events);
    let compacted = out.of_type("agent.context.compacted");
    assert_eq!(compacted.len(), 1, "{:?}", out.types());
    assert_eq!(compacted[0]["trigger"], "manual");
    assert!(compacted[0]["preTokens"].as_u64().unwrap() > 0);
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Claude Code 2.1.332 disables TodoWrite in `-p` mode; its plan tool is ExitPlanMode (deferred
/// behind ToolSearch, callable by name). The plan the model states becomes `agent.plan.updated`.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_plan_from_exit_plan_mode() {
    let plan = "## Plan\n1. Read the failing test\n2. Fix the parser\n";
    let w = World::new(vec![
        Reply::tool("ExitPlanMode", json!({ "plan": plan })),
        Reply::text("planned"),
    ])
    .await;
    let mut s = w.sidecar(&[]);
    let out = s.run(w.run_params("plan", "make a plan")).await;
    assert_well_formed(&out.events);
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let plans = out.of_type("agent.plan.updated");
    assert_eq!(plans.len(), 1, "{:?}", out.types());
    assert_eq!(
        plans[0]["entries"],
        json!([
            { "text": "Read the failing test", "status": "pending" },
            { "text": "Fix the parser", "status": "pending" },
        ])
    );
    // The tool call itself is reported too, and the plan comes right after it.
    let types = out.types();
    let at = types
        .iter()
        .position(|t| t == "agent.plan.updated")
        .unwrap();
    assert_eq!(types[at - 1], "agent.tool.requested");
    assert_eq!(s.wait_exit().await, Some(0));
}
