//! The turn mapper fed codex app-server's own notifications, from transcripts captured with the
//! real pinned `codex app-server` against a mock Responses API (`testdata/`, described in the
//! design docs' vendors/codex.md). Each test replays one session as `session.rs` would and checks
//! the events, the running totals a result is built from, and how the turn ended.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::super::errors;
use super::{Flow, TurnState};

use crate::runtime::transcript_replay::{lines, sink, Collected};

struct Replayed {
    events: Arc<Collected>,
    st: TurnState,
    /// The turn object of our `turn/completed`, if the replay got there.
    completed: Option<Value>,
    /// Whether the mapper asked the loop to stop for `maxTurns`.
    max_turns_reached: bool,
    /// For each approval codex asked us for: the tool the approval handler found for its item.
    approvals: Vec<Option<(String, Value)>>,
}

/// Replays a session: our turn id comes from the `turn/start` reply (the run loop handles no
/// notification before it has it), then every codex → us notification in order until our turn
/// completes. Codex's requests to us go to the approval handler, which reads the tool index.
async fn replay(transcript: &str, max_turns: Option<u32>) -> Replayed {
    let (events, out) = sink();
    let mut st = TurnState::new(events, PathBuf::from("/w"), max_turns);
    let lines = lines(transcript);
    let turn_start = lines
        .iter()
        .find(|l| l.dir == "->" && l.msg["method"] == "turn/start")
        .map(|l| l.msg["id"].clone())
        .expect("the session starts a turn");
    st.turn_id = lines
        .iter()
        .find(|l| l.dir == "<-" && l.msg.get("method").is_none() && l.msg["id"] == turn_start)
        .and_then(|l| l.msg["result"]["turn"]["id"].as_str())
        .map(str::to_string);
    let mut replayed = Replayed {
        events: out,
        st,
        completed: None,
        max_turns_reached: false,
        approvals: vec![],
    };
    for l in lines.iter().filter(|l| l.dir == "<-") {
        let Some(method) = l.msg["method"].as_str() else {
            continue; // a reply to one of our requests
        };
        let params = &l.msg["params"];
        if l.msg.get("id").is_some() {
            let item = params["itemId"].as_str().unwrap_or_default();
            let tools = replayed.st.tools.lock().unwrap();
            replayed.approvals.push(tools.get(item).cloned());
            continue;
        }
        match replayed.st.on_notification(method, params).await {
            Flow::Continue => {}
            Flow::MaxTurnsReached => replayed.max_turns_reached = true,
            Flow::TurnCompleted(turn) => {
                replayed.completed = Some(turn);
                break;
            }
        }
    }
    replayed
}

#[tokio::test]
async fn a_text_turn_streams_deltas_and_completes_with_usage() {
    let run = replay(include_str!("testdata/appserver_basic.jsonl"), None).await;
    assert_eq!(
        run.events.types(),
        [
            "agent.output.delta",
            "agent.output.delta",
            "agent.message",
            "agent.vendor.turn",
        ]
    );
    assert_eq!(run.events.streamed_text(), "Hello from the mock model.");
    assert_eq!(
        run.events.data_of("agent.message")[0]["text"],
        "Hello from the mock model."
    );
    let turn = &run.events.data_of("agent.vendor.turn")[0];
    assert_eq!(turn["turn"], 1);
    assert_eq!(turn["vendorTurnId"], "01a21f10-99ac-72b0-9930-6abccb0c6dcf");
    assert_eq!(turn["usage"]["inputTokens"], 1234);
    assert_eq!(turn["usage"]["outputTokens"], 56);
    assert_eq!(turn["usage"]["cachedInputTokens"], 1000);

    let completed = run.completed.expect("our turn completed");
    assert_eq!(completed["status"], "completed");
    assert_eq!(
        run.st.last_message.as_deref(),
        Some("Hello from the mock model.")
    );
    assert_eq!(run.st.responses, 1);
    let usage = run.st.usage();
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens
        ),
        (1234, 56, 1000)
    );
    assert!(run.st.tool_calls.is_empty());
    assert!(run.st.last_error.is_none());
    assert!(!run.max_turns_reached);
}

#[tokio::test]
async fn an_approved_command_is_requested_then_completed_ok() {
    let run = replay(include_str!("testdata/appserver_approval.jsonl"), None).await;
    let command = "/bin/bash -lc 'echo hi > out.txt'";
    // The approval handler finds the tool the item stands for (it was requested just before).
    let (name, input) = run.approvals[0].clone().expect("the tool was known");
    assert_eq!(name, "commandExecution");
    assert_eq!(input["command"], command);

    let asked = run.events.data_of("agent.tool.requested");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["toolCallId"], "call_resp_7");
    assert_eq!(asked[0]["name"], "commandExecution");
    assert_eq!(asked[0]["input"]["command"], command);
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["toolCallId"], "call_resp_7");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(done[0]["output"]["exitCode"], 0);

    assert_eq!(run.completed.expect("completed")["status"], "completed");
    assert_eq!(run.st.tool_calls.len(), 1);
    let call = serde_json::to_value(&run.st.tool_calls[0]).unwrap();
    assert_eq!(call["id"], "call_resp_7");
    assert_eq!(call["status"], "ok");
    assert_eq!(call["durationMs"], 0);
    assert!(run
        .st
        .last_message
        .as_deref()
        .unwrap()
        .starts_with("Ran the command"));
    // Two model responses: the tool call, then the answer; usage is their sum.
    assert_eq!(run.st.responses, 2);
    let usage = run.st.usage();
    assert_eq!((usage.input_tokens, usage.output_tokens), (2468, 112));
}

#[tokio::test]
async fn a_declined_command_is_reported_denied() {
    let run = replay(include_str!("testdata/appserver_decline.jsonl"), None).await;
    assert_eq!(
        run.approvals[0].as_ref().map(|(n, _)| n.as_str()),
        Some("commandExecution")
    );
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done[0]["toolCallId"], "call_resp_9");
    assert_eq!(done[0]["status"], "denied");
    assert_eq!(done[0]["vendor"]["status"], "declined");
    let call = serde_json::to_value(&run.st.tool_calls[0]).unwrap();
    assert_eq!(call["status"], "denied");
    // The model was told and answered: the turn itself completed.
    assert_eq!(run.completed.expect("completed")["status"], "completed");
}

#[tokio::test]
async fn a_tool_call_past_max_turns_asks_the_loop_to_stop() {
    // maxTurns 1: the first response called a tool, so a second request would exceed it.
    let run = replay(include_str!("testdata/appserver_approval.jsonl"), Some(1)).await;
    assert!(run.max_turns_reached);
    let run = replay(include_str!("testdata/appserver_approval.jsonl"), Some(2)).await;
    assert!(!run.max_turns_reached);
}

#[tokio::test]
async fn an_interrupted_turn_ends_interrupted_and_completes_the_open_tool() {
    let run = replay(include_str!("testdata/appserver_interrupt.jsonl"), None).await;
    let asked = run.events.data_of("agent.tool.requested");
    assert_eq!(asked[0]["toolCallId"], "call_resp_11");
    assert_eq!(
        asked[0]["input"]["command"],
        "/bin/bash -lc 'sleep 30; echo done > slept.txt'"
    );
    // Codex never completes the command; the turn's end does, as an error, so the host's
    // request has its completion.
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["toolCallId"], "call_resp_11");
    assert_eq!(done[0]["name"], "commandExecution");
    assert_eq!(done[0]["status"], "error");
    assert_eq!(
        done[0]["output"],
        serde_json::json!({"status": "interrupted"})
    );
    assert_eq!(run.st.tool_calls.len(), 1);
    let types = run.events.types();
    assert_eq!(
        types.last().map(String::as_str),
        Some("agent.tool.completed")
    );
    // `interrupted` is what the run loop, having sent turn/interrupt, reports as a soft cancel.
    let turn = run.completed.expect("our turn ended");
    assert_eq!(turn["status"], "interrupted");
    assert_eq!(turn["id"], "01a21f10-d1b7-7151-a42c-141186a08e0d");
    assert_eq!(run.st.responses, 1);
}

#[tokio::test]
async fn http_401_fails_the_turn_as_an_auth_error_with_its_status() {
    let run = replay(include_str!("testdata/appserver_e401.jsonl"), None).await;
    let turn = run.completed.expect("our turn ended");
    assert_eq!(turn["status"], "failed");
    // The `error` notification (not retried) is kept too, for a turn that fails without one.
    let noticed = run.st.last_error.clone().expect("the error notification");
    assert_eq!(noticed, turn["error"]);
    let err = errors::classify(&turn["error"]);
    let err = serde_json::to_value(&err).unwrap();
    assert_eq!(err["kind"], "auth", "{err}");
    assert_eq!(
        err["vendorCode"],
        serde_json::json!({"httpConnectionFailed": {"httpStatusCode": 401}})
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("unexpected status 401 Unauthorized"));
    assert!(run.st.retrying_since.is_none());
    assert!(run.events.types().is_empty(), "no output, no turn");
}

#[tokio::test]
async fn a_missing_key_variable_is_an_auth_error() {
    let run = replay(include_str!("testdata/appserver_nokey.jsonl"), None).await;
    let turn = run.completed.expect("our turn ended");
    assert_eq!(turn["status"], "failed");
    let err = serde_json::to_value(errors::classify(&turn["error"])).unwrap();
    assert_eq!(err["kind"], "auth", "{err}");
    assert_eq!(
        err["message"],
        "Missing environment variable: `OPENAI_API_KEY`."
    );
}

#[tokio::test]
async fn a_resumed_thread_counts_only_this_tasks_usage() {
    // Codex repeats the previous turn's usage on resume, before our turn starts: not ours.
    let run = replay(include_str!("testdata/appserver_resume.jsonl"), None).await;
    assert_eq!(
        run.st.turn_id.as_deref(),
        Some("01a21f10-ef09-70d1-81e4-6a5dd56889e4")
    );
    assert_eq!(run.completed.expect("completed")["status"], "completed");
    assert_eq!(run.st.responses, 1);
    let usage = run.st.usage();
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens
        ),
        (1234, 56, 1000),
        "the thread's total (2468 in) minus its total before this task"
    );
    let turns = run.events.data_of("agent.vendor.turn");
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0]["turn"], 1);
    assert_eq!(
        run.st.last_message.as_deref(),
        Some("Hello from the mock model.")
    );
}

/// A turn fed notifications shaped as `codex app-server generate-json-schema` (0.171.0) gives
/// them, for the items the mock Responses API cannot make codex produce.
async fn feed(notifications: &[(&str, Value)]) -> (TurnState, Arc<Collected>, Vec<Flow>) {
    let (events, out) = sink();
    let mut st = TurnState::new(events, PathBuf::from("/w"), None);
    st.turn_id = Some("turn-1".into());
    let mut flows = vec![];
    for (method, params) in notifications {
        flows.push(st.on_notification(method, params).await);
    }
    (st, out, flows)
}

fn within(out: &Collected, kind: &str) -> Vec<(Option<String>, Value)> {
    out.all()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .map(|e| {
            (
                e["parentToolCallId"].as_str().map(str::to_string),
                e["data"].clone(),
            )
        })
        .collect()
}

use serde_json::json;

const T: &str = "thread-main";

#[tokio::test]
async fn reasoning_deltas_and_items_are_reasoning_not_output() {
    let (_, out, _) = feed(&[
        ("item/started", json!({"threadId": T, "turnId": "turn-1", "item": {"type": "reasoning", "id": "rs_1", "summary": [], "content": []}})),
        ("item/reasoning/summaryTextDelta", json!({"threadId": T, "turnId": "turn-1", "itemId": "rs_1", "summaryIndex": 0, "delta": "**Plan** "})),
        ("item/reasoning/textDelta", json!({"threadId": T, "turnId": "turn-1", "itemId": "rs_1", "contentIndex": 0, "delta": "look first"})),
        ("item/reasoning/summaryTextDelta", json!({"threadId": T, "turnId": "other-turn", "itemId": "rs_9", "summaryIndex": 0, "delta": "not ours"})),
        ("item/completed", json!({"threadId": T, "turnId": "turn-1", "item": {"type": "reasoning", "id": "rs_1", "summary": ["**Plan** look first"], "content": []}})),
    ])
    .await;
    assert_eq!(
        out.data_of("agent.reasoning.delta"),
        vec![json!({"text": "**Plan** "}), json!({"text": "look first"})]
    );
    assert_eq!(
        out.data_of("agent.reasoning"),
        vec![json!({"text": "**Plan** look first"})]
    );
    assert!(out.data_of("agent.output.delta").is_empty());
    assert!(out.data_of("agent.message").is_empty());
}

#[tokio::test]
async fn streamed_command_output_retries_plans_and_status() {
    let (_, out, _) = feed(&[
        ("error", json!({"threadId": T, "turnId": "turn-1", "willRetry": true, "error": {"message": "Reconnecting... 1/5", "codexErrorInfo": {"responseStreamDisconnected": {"httpStatusCode": 429}}}})),
        ("error", json!({"threadId": T, "turnId": "turn-1", "willRetry": true, "error": {"message": "Reconnecting... 2/5", "codexErrorInfo": "serverOverloaded"}})),
        ("item/started", json!({"threadId": T, "turnId": "turn-1", "item": {"type": "commandExecution", "id": "call_1", "command": "ls", "cwd": "/w", "status": "inProgress", "commandActions": []}})),
        ("item/commandExecution/outputDelta", json!({"threadId": T, "turnId": "turn-1", "itemId": "call_1", "delta": "a.txt\n"})),
        ("turn/plan/updated", json!({"threadId": T, "turnId": "turn-1", "explanation": null, "plan": [{"step": "list", "status": "completed"}, {"step": "write", "status": "inProgress"}, {"step": "test", "status": "pending"}]})),
        ("model/rerouted", json!({"threadId": T, "turnId": "turn-1", "fromModel": "gpt-5.5", "toModel": "gpt-5.5-mini", "reason": "highRiskCyberActivity"})),
        ("mcpServer/startupStatus/updated", json!({"name": "broken", "status": "failed", "error": "spawn ENOENT"})),
        ("mcpServer/startupStatus/updated", json!({"name": "fine", "status": "ready"})),
        ("account/rateLimits/updated", json!({"rateLimits": {"primary": null, "secondary": null, "rateLimitReachedType": null}})),
        ("account/rateLimits/updated", json!({"rateLimits": {"primary": {"usedPercent": 95}, "secondary": null, "rateLimitReachedType": null}})),
        ("account/rateLimits/updated", json!({"rateLimits": {"primary": {"usedPercent": 96}, "secondary": null, "rateLimitReachedType": null}})),
        ("item/completed", json!({"threadId": T, "turnId": "turn-1", "item": {"type": "contextCompaction", "id": "cc_1"}})),
        ("warning", json!({"message": "the sandbox is unavailable", "threadId": T})),
    ])
    .await;
    let retries = out.data_of("agent.retry");
    assert_eq!(retries.len(), 2);
    assert_eq!(
        retries[0],
        json!({"attempt": 1, "httpStatus": 429, "reason": "rateLimit", "message": "Reconnecting... 1/5"})
    );
    assert_eq!(retries[1]["reason"], "overloaded");
    assert_eq!(retries[1]["attempt"], 2);
    assert_eq!(
        out.data_of("agent.tool.output.delta"),
        vec![json!({"toolCallId": "call_1", "text": "a.txt\n"})]
    );
    assert_eq!(
        out.data_of("agent.plan.updated"),
        vec![
            json!({"entries": [{"text": "list", "status": "completed"}, {"text": "write", "status": "inProgress"}, {"text": "test", "status": "pending"}]})
        ]
    );
    let status = out.data_of("agent.status");
    let kinds: Vec<&str> = status.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec!["model", "mcpServer", "warning", "warning"],
        "{status:?}"
    );
    assert_eq!(status[3]["message"], "the sandbox is unavailable");
    assert_eq!(status[0]["data"]["model"], "gpt-5.5-mini");
    assert_eq!(
        status[1]["message"],
        "MCP server broken: failed: spawn ENOENT"
    );
    assert_eq!(
        out.data_of("agent.context.compacted"),
        vec![json!({"trigger": "auto"})]
    );
}

#[tokio::test]
async fn web_search_output_is_what_the_search_did() {
    let item = json!({"type": "webSearch", "id": "ws_1", "query": "rust serde", "action": {"type": "search", "query": "rust serde", "queries": null}});
    let (_, out, _) = feed(&[
        (
            "item/started",
            json!({"threadId": T, "turnId": "turn-1", "item": item.clone()}),
        ),
        (
            "item/completed",
            json!({"threadId": T, "turnId": "turn-1", "item": item}),
        ),
    ])
    .await;
    let done = out.data_of("agent.tool.completed");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(done[0]["output"]["query"], "rust serde");
    assert_eq!(done[0]["output"]["action"]["type"], "search");
    assert!(done[0]["output"].get("results").is_none(), "{:?}", done[0]);
}

#[tokio::test]
async fn a_collab_sub_agent_is_bracketed_and_its_thread_marked() {
    let spawn = json!({"type": "collabAgentToolCall", "id": "call_spawn", "tool": "spawnAgent", "status": "completed",
        "senderThreadId": T, "receiverThreadIds": ["thread-child"], "prompt": "count the files",
        "agentsStates": {"thread-child": {"status": "running"}}});
    let wait = json!({"type": "collabAgentToolCall", "id": "call_wait", "tool": "wait", "status": "completed",
        "senderThreadId": T, "receiverThreadIds": ["thread-child"],
        "agentsStates": {"thread-child": {"status": "completed", "message": "3 files"}}});
    let child = |method: &str, params: Value| {
        let mut p = params;
        p["threadId"] = json!("thread-child");
        p["turnId"] = json!("child-turn");
        (method.to_string(), p)
    };
    let msgs: Vec<(String, Value)> = vec![
        (
            "item/started".into(),
            json!({"threadId": T, "turnId": "turn-1", "item": spawn.clone()}),
        ),
        (
            "item/completed".into(),
            json!({"threadId": T, "turnId": "turn-1", "item": spawn}),
        ),
        child(
            "item/agentMessage/delta",
            json!({"itemId": "m1", "delta": "3 files"}),
        ),
        child(
            "item/started",
            json!({"item": {"type": "commandExecution", "id": "c_ls", "command": "ls", "cwd": "/w", "status": "inProgress", "commandActions": []}}),
        ),
        child(
            "item/commandExecution/outputDelta",
            json!({"itemId": "c_ls", "delta": "a\nb\nc\n"}),
        ),
        child(
            "item/completed",
            json!({"item": {"type": "commandExecution", "id": "c_ls", "command": "ls", "cwd": "/w", "status": "completed", "exitCode": 0, "aggregatedOutput": "a\nb\nc\n", "commandActions": []}}),
        ),
        child(
            "item/completed",
            json!({"item": {"type": "agentMessage", "id": "m1", "text": "3 files"}}),
        ),
        (
            "item/started".into(),
            json!({"threadId": T, "turnId": "turn-1", "item": wait.clone()}),
        ),
    ];
    let borrowed: Vec<(&str, Value)> = msgs.iter().map(|(m, p)| (m.as_str(), p.clone())).collect();
    let (mut st, out, _) = feed(&borrowed).await;
    assert_eq!(st.pending_subagents(), vec!["call_spawn".to_string()]);
    st.on_notification(
        "item/completed",
        &json!({"threadId": T, "turnId": "turn-1", "item": wait}),
    )
    .await;
    assert!(st.pending_subagents().is_empty());

    let started = within(&out, "agent.subagent.started");
    assert_eq!(
        started,
        vec![(
            Some("call_spawn".into()),
            json!({"subagentId": "thread-child", "parentToolCallId": "call_spawn", "description": "count the files"})
        )]
    );
    let ended = within(&out, "agent.subagent.completed");
    assert_eq!(
        ended,
        vec![(
            Some("call_spawn".into()),
            json!({"subagentId": "thread-child", "parentToolCallId": "call_spawn", "status": "completed"})
        )]
    );
    // The child's message and tools carry the parent; its text never reaches the main output.
    assert!(out.data_of("agent.output.delta").is_empty());
    assert!(st.last_message.is_none());
    let messages = within(&out, "agent.message");
    assert_eq!(
        messages,
        vec![(Some("call_spawn".into()), json!({"text": "3 files"}))]
    );
    let tools = within(&out, "agent.tool.completed");
    let child_tools: Vec<_> = tools.iter().filter(|(p, _)| p.is_some()).collect();
    assert_eq!(child_tools.len(), 1);
    assert_eq!(child_tools[0].1["toolCallId"], "c_ls");
    assert_eq!(
        within(&out, "agent.tool.output.delta")[0].0.as_deref(),
        Some("call_spawn")
    );
    // The records hold every call, the sub-agent's too, in the order they completed.
    let names: Vec<&str> = st.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["collab.spawnAgent", "commandExecution", "collab.wait"]
    );
}

/// multi_agent_v2: the spawn is a `subAgentActivity {kind: started}` item whose id is the
/// `spawn_agent` call; its end comes as `kind: completed` on the parent's thread, in the turn
/// that already completed; a follow-up after the end opens a new bracket.
#[tokio::test]
async fn a_v2_sub_agent_activity_brackets_its_thread() {
    let started = json!({"type": "subAgentActivity", "id": "call_spawn", "kind": "started",
        "agentPath": "/root/counter", "agentThreadId": "thread-child", "model": "gpt-5.5", "reasoningEffort": "medium"});
    let ended = |id: &str| {
        json!({"type": "subAgentActivity", "id": id, "kind": "completed",
        "agentPath": "/root/counter", "agentThreadId": "thread-child", "model": null})
    };
    let (mut st, out, _) = feed(&[
        (
            "item/started",
            json!({"threadId": T, "turnId": "turn-1", "item": started.clone()}),
        ),
        (
            "item/completed",
            json!({"threadId": T, "turnId": "turn-1", "item": started}),
        ),
        (
            "thread/tokenUsage/updated",
            json!({"threadId": "thread-child", "turnId": "child-turn", "tokenUsage": {
                "total": {"inputTokens": 100, "cachedInputTokens": 10, "outputTokens": 5, "totalTokens": 105},
                "last": {"inputTokens": 100, "cachedInputTokens": 10, "outputTokens": 5, "totalTokens": 105}}}),
        ),
    ])
    .await;
    assert_eq!(st.pending_subagents(), vec!["call_spawn".to_string()]);
    // The end, in the parent's turn that is already over (and said twice: started, completed).
    for m in ["item/started", "item/completed"] {
        st.on_notification(
            m,
            &json!({"threadId": T, "turnId": "turn-old", "item": ended("subagent-completed-1")}),
        )
        .await;
    }
    assert!(st.pending_subagents().is_empty());
    // A follow-up sets it to work again: a new bracket.
    let interacted = json!({"type": "subAgentActivity", "id": "call_follow", "kind": "interacted",
        "agentPath": "/root/counter", "agentThreadId": "thread-child"});
    st.on_notification(
        "item/completed",
        &json!({"threadId": T, "turnId": "turn-1", "item": interacted}),
    )
    .await;
    assert_eq!(st.pending_subagents(), vec!["call_spawn".to_string()]);

    let names: Vec<&str> = st.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["collab.spawnAgent"]);
    let starts = within(&out, "agent.subagent.started");
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(
        starts[0],
        (
            Some("call_spawn".into()),
            json!({"subagentId": "thread-child", "parentToolCallId": "call_spawn", "description": "/root/counter"})
        )
    );
    assert_eq!(
        within(&out, "agent.subagent.completed"),
        vec![(
            Some("call_spawn".into()),
            json!({"subagentId": "thread-child", "parentToolCallId": "call_spawn", "status": "completed",
                   "usage": {"inputTokens": 100, "outputTokens": 5, "cachedInputTokens": 10}})
        )]
    );
}
