//! The claude runtime's richer turn events end to end: the sidecar → the real pinned Claude Code
//! CLI → the mock Messages API (tests/support/mock_claude.rs). Thinking, retries, sub-agents.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::claude::World;
use support::mock_claude::{Block, Reply};
use support::sidecar::assert_well_formed;

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
    let mut s = w.sidecar_env(&[("CLAUDE_CODE_MAX_RETRIES", "2")]);
    let out = s.run(w.goal("rich", "use a sub-agent")).await;
    let r = out.assert_finished("completed");

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
    let mut s = w.sidecar();
    let out = s.run(w.goal("one", "say something")).await;
    let sid = out.result()["sessionId"].as_str().unwrap().to_string();
    w.mock.push(vec![Reply::text("Summary: said something.")]);
    let mut params = w.goal("two", "/compact");
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
    let mut s = w.sidecar();
    let out = s.run(w.goal("plan", "make a plan")).await;
    out.assert_finished("completed");
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

fn position(events: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(|e| pred(&e["params"]))
        .unwrap_or_else(|| panic!("no such event in {events:?}"))
}

/// A Write's `agent.file.changed` goes out as soon as its result is in (before the tool's
/// completion and the turn's end, with a diff); a sub-agent's Write carries the sub-agent's
/// parent; the end-of-turn listing repeats neither path and adds only what a shell command wrote.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn file_changes_are_announced_when_a_tool_reports_them_and_not_repeated() {
    let w = World::new(vec![
        Reply::tool(
            "Write",
            json!({"file_path": "notes.txt", "content": "alpha\nbeta\n"}),
        ),
        Reply::Message {
            blocks: vec![Block::ToolUse {
                id: "toolu_sub1".into(),
                name: "Agent".into(),
                input: json!({"description": "write a file", "prompt": "Write sub.txt",
                              "subagent_type": "general-purpose"}),
            }],
            stop_reason: "tool_use".into(),
            delay: Duration::ZERO,
        },
        Reply::tool(
            "Bash",
            json!({"command": "printf 'by shell\\n' > shell.txt", "description": "write"}),
        ),
        Reply::text("all done"),
    ])
    .await;
    w.mock.script_subagents(vec![
        Reply::tool(
            "Write",
            json!({"file_path": "sub.txt", "content": "from sub\n"}),
        ),
        Reply::text("SUB DONE"),
    ]);
    w.mock.answer_subagents(Reply::text("SUB DONE"));
    let mut s = w.sidecar();
    let mut params = w.goal("files", "write files");
    params["task"]["permissions"] = json!({ "approvals": "host" });
    let out = s
        .run_with(params, |_| Some(json!({"decision": "allow"})))
        .await;
    let r = out.assert_finished("completed");
    let work = w.work();
    assert_eq!(
        std::fs::read_to_string(work.join("sub.txt")).unwrap(),
        "from sub\n"
    );

    let changed = with_parent(&out.events, "agent.file.changed");
    let of = |path: &str| -> Vec<(Option<&str>, &Value)> {
        changed
            .iter()
            .filter(|(_, d)| d["path"] == path)
            .cloned()
            .collect()
    };
    let notes = of("notes.txt");
    assert_eq!(notes.len(), 1, "{changed:?}");
    assert_eq!(notes[0].0, None);
    assert_eq!(notes[0].1["change"], "added");
    assert_eq!(
        notes[0].1["diff"],
        "--- /dev/null\n+++ b/notes.txt\n@@ -0,0 +1,2 @@\n+alpha\n+beta\n"
    );
    // Announced with the tool's result: before its completion, long before the turn's end.
    let write_id = out
        .of_type("agent.tool.requested")
        .iter()
        .find(|t| t["name"] == "Write" && t["input"]["file_path"] == "notes.txt")
        .map(|t| t["toolCallId"].clone())
        .unwrap();
    let announced = position(&out.events, |p| {
        p["type"] == "agent.file.changed" && p["data"]["path"] == "notes.txt"
    });
    let write_done = position(&out.events, |p| {
        p["type"] == "agent.tool.completed" && p["data"]["toolCallId"] == write_id
    });
    let bash_asked = position(&out.events, |p| {
        p["type"] == "agent.tool.requested" && p["data"]["name"] == "Bash"
    });
    assert!(announced < write_done && write_done < bash_asked);

    let sub = of("sub.txt");
    assert_eq!(sub.len(), 1, "{changed:?}");
    assert_eq!(sub[0].0, Some("toolu_sub1"), "{changed:?}");
    assert_eq!(sub[0].1["change"], "added");

    // Only the listing knew of the shell's file; it comes once, as the turn ends.
    let shell = of("shell.txt");
    assert_eq!(shell.len(), 1, "{changed:?}");
    assert!(shell[0].1["diff"].as_str().unwrap().contains("+by shell"));
    assert_eq!(changed.len(), 3, "{changed:?}");
    let arts = r["artifacts"].as_array().unwrap();
    for path in ["notes.txt", "sub.txt", "shell.txt"] {
        assert!(
            arts.contains(&json!({"path": path, "change": "created"})),
            "{r}"
        );
    }
    assert_eq!(s.wait_exit().await, Some(0));
}
