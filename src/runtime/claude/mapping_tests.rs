//! The mapper fed the CLI's own lines, from transcripts captured with the real pinned Claude Code
//! CLI against a mock Messages API (`testdata/`, described in the design docs'
//! vendors/claude.md). Each test replays one transcript as the run loop in `session.rs` would and
//! checks the events and the AgentResult a host would get.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::{Action, Mapper};

use crate::runtime::transcript_replay::{lines, sink, Collected};

/// What came out of one replay.
struct Replayed {
    events: Arc<Collected>,
    /// The AgentResult as the host reads it (JSON).
    result: Value,
    actions: Vec<Action>,
}

/// Replays a transcript through the mapper: `<stdout` lines up to the first `result` as the run
/// loop handles them (control lines are the loop's, not the mapper's), a `deny` the host wrote on
/// stdin as `note_denied`, then `finish` with the `result` line and the recorded exit.
async fn replay(transcript: &str, task: Value) -> Replayed {
    let (events, out) = sink();
    let task = serde_json::from_value(task).expect("a valid task");
    let wd = tempfile::tempdir().unwrap();
    let mut mapper = Mapper::new(&task, wd.path().to_path_buf());
    let mut actions = vec![];
    let mut result_line = None;
    let mut tool_use_of_request = HashMap::new();
    let mut exit = json!({ "stderrTail": [] });
    for line in lines(transcript) {
        let msg = &line.msg;
        match (line.dir.as_str(), msg["type"].as_str().unwrap_or_default()) {
            ("<stdout", "result") if result_line.is_none() => result_line = Some(msg.clone()),
            (_, _) if result_line.is_some() && line.dir != "exit" => {}
            ("<stdout", "control_request") => {
                let req = &msg["request"];
                tool_use_of_request.insert(
                    msg["request_id"].as_str().unwrap_or_default().to_string(),
                    req["tool_use_id"].as_str().unwrap_or_default().to_string(),
                );
            }
            ("<stdout", "control_response" | "control_cancel_request") => {}
            ("<stdout", _) => actions.push(mapper.on_line(&events, msg).await),
            (">stdin", "control_response") => {
                let r = &msg["response"];
                if r["response"]["behavior"] == "deny" {
                    let id = &tool_use_of_request[r["request_id"].as_str().unwrap()];
                    mapper.note_denied(id, r["response"]["message"].as_str().unwrap());
                }
            }
            ("<stderr", _) => exit["stderrTail"]
                .as_array_mut()
                .unwrap()
                .push(json!(line.raw.unwrap_or_default())),
            ("exit", _) => exit["code"] = msg["rc"].clone(),
            _ => {}
        }
    }
    let exit = serde_json::from_value(exit).expect("an exit");
    let result = mapper.finish(result_line.as_ref(), &exit);
    Replayed {
        events: out,
        result: serde_json::to_value(&result).unwrap(),
        actions,
    }
}

fn task(extra: Value) -> Value {
    let mut t = json!({ "goal": "x" });
    t.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    t
}

#[tokio::test]
async fn a_text_run_streams_deltas_and_completes_with_usage_and_cost() {
    let run = replay(include_str!("testdata/01b_partial.jsonl"), task(json!({}))).await;
    let sid = "f2201af5-c54c-4226-9922-885b5f4ff27c";
    assert_eq!(
        run.events.types(),
        [
            "agent.task.started",
            "agent.output.delta",
            "agent.output.delta",
            "agent.message",
            "agent.vendor.turn",
        ]
    );
    let started = &run.events.data_of("agent.task.started")[0];
    assert_eq!(started["sessionId"], sid);
    assert_eq!(started["runtime"], "claude");
    assert_eq!(started["model"], "claude-opus-5-5");
    assert_eq!(started["vendor"]["claudeCodeVersion"], "2.1.332");
    assert_eq!(run.events.streamed_text(), "Hello from mock.");
    assert_eq!(
        run.events.data_of("agent.message")[0]["text"],
        "Hello from mock."
    );
    let turn = &run.events.data_of("agent.vendor.turn")[0];
    assert_eq!(turn["turn"], 1);
    assert_eq!(turn["vendorTurnId"], "msg_aa8f09bc5ccb413a8c25");
    assert_eq!(turn["usage"]["inputTokens"], 100);
    assert_eq!(turn["usage"]["outputTokens"], 12);

    let r = &run.result;
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Hello from mock.");
    assert_eq!(r["sessionId"], sid);
    assert!(r.get("sessionChanged").is_none());
    assert!(r.get("error").is_none());
    assert_eq!(r["turns"], 1);
    assert_eq!(r["usage"]["inputTokens"], 100);
    assert_eq!(r["usage"]["outputTokens"], 12);
    assert_eq!(r["usage"]["costUsd"], 0.00064);
    assert_eq!(r["exit"]["code"], 0);
    assert_eq!(r["vendor"]["subtype"], "success");
    assert!(run.actions.iter().all(|a| *a == Action::Continue));
}

#[tokio::test]
async fn an_allowed_tool_is_requested_then_completed_ok() {
    let run = replay(
        include_str!("testdata/02_tool_allow.jsonl"),
        task(json!({})),
    )
    .await;
    let id = "toolu_ba65f42dcce14b348675";
    let input = json!({"command": "echo hi > out.txt", "description": "Write hi to out.txt"});
    let asked = run.events.data_of("agent.tool.requested");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["toolCallId"], id);
    assert_eq!(asked[0]["name"], "Bash");
    assert_eq!(asked[0]["input"], input);
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["toolCallId"], id);
    assert_eq!(done[0]["name"], "Bash");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(done[0]["output"], "(Bash completed with no output)");
    let texts: Vec<Value> = run
        .events
        .data_of("agent.message")
        .into_iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(
        texts,
        [json!("I'll run it."), json!("Done: the command ran.")]
    );

    let r = &run.result;
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Done: the command ran.");
    assert_eq!(r["turns"], 2);
    assert_eq!(r["usage"]["inputTokens"], 200);
    assert_eq!(r["usage"]["outputTokens"], 24);
    assert_eq!(r["usage"]["costUsd"], 0.00128);
    let calls = r["toolCalls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], id);
    assert_eq!(calls[0]["name"], "Bash");
    assert_eq!(calls[0]["input"], input);
    assert_eq!(calls[0]["status"], "ok");
}

#[tokio::test]
async fn a_tool_the_host_denied_is_reported_denied() {
    let run = replay(
        include_str!("testdata/02b_tool_deny.jsonl"),
        task(json!({})),
    )
    .await;
    let id = "toolu_ee3764fe0e784395bcbb";
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done[0]["toolCallId"], id);
    assert_eq!(done[0]["status"], "denied");
    assert_eq!(done[0]["output"], "Denied by host policy");
    let r = &run.result;
    // The model carried on after the denial: the task itself completed.
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["toolCalls"][0]["status"], "denied");
    assert_eq!(r["vendor"]["permissionDenials"][0]["tool_use_id"], id);
}

#[tokio::test]
async fn a_rejected_tool_is_denied_even_without_our_own_note() {
    // The host's approval call failed (an error reply, not a deny): the CLI rejects the tool and
    // says so in `tool_result_meta`; nothing went through `note_denied`.
    let run = replay(
        include_str!("testdata/02c_tool_error.jsonl"),
        task(json!({})),
    )
    .await;
    let done = run.events.data_of("agent.tool.completed");
    assert_eq!(done[0]["toolCallId"], "toolu_6a4dbda26a494bb09f87");
    assert_eq!(done[0]["status"], "denied");
    assert_eq!(
        done[0]["output"],
        "Tool permission request failed: Error: host failed"
    );
    assert_eq!(run.result["finishReason"], "completed");
}

#[tokio::test]
async fn a_deny_that_interrupts_ends_in_a_vendor_error() {
    let run = replay(
        include_str!("testdata/02c_tool_deny_interrupt.jsonl"),
        task(json!({})),
    )
    .await;
    assert_eq!(
        run.events.data_of("agent.tool.completed")[0]["status"],
        "denied"
    );
    let r = &run.result;
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "vendor");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ede_diagnostic"));
    assert_eq!(r["error"]["vendorCode"]["terminalReason"], "aborted_tools");
    assert_eq!(r["exit"]["code"], 1);
}

#[tokio::test]
async fn structured_output_comes_from_the_result_line() {
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"},
        "ok": {"type": "boolean"}}, "required": ["answer", "ok"]});
    let run = replay(
        include_str!("testdata/05_json_schema.jsonl"),
        task(json!({ "outputSchema": schema })),
    )
    .await;
    let r = &run.result;
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["structuredOutput"], json!({"answer": "42", "ok": true}));
    assert_eq!(r["output"], r#"{"answer":"42","ok":true}"#);
    // The CLI's StructuredOutput tool call is a tool call like any other.
    assert_eq!(r["toolCalls"][0]["name"], "StructuredOutput");
    assert_eq!(r["toolCalls"][0]["status"], "ok");
}

#[tokio::test]
async fn a_model_that_never_produces_structured_output_fails_the_schema() {
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}},
        "required": ["answer"]});
    let run = replay(
        include_str!("testdata/05b_json_schema_notool.jsonl"),
        task(json!({ "outputSchema": schema })),
    )
    .await;
    let r = &run.result;
    // The CLI says "success" without `structured_output`: that is not a success for the host.
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "schema");
    assert!(r.get("structuredOutput").is_none());
    assert_eq!(r["output"], "Hello from mock.");
}

#[tokio::test]
async fn max_turns_is_its_own_finish_reason() {
    let run = replay(
        include_str!("testdata/07g_max_turns.jsonl"),
        task(json!({ "maxTurns": 2 })),
    )
    .await;
    assert_eq!(run.events.data_of("agent.tool.requested").len(), 2);
    assert_eq!(run.events.data_of("agent.tool.completed").len(), 2);
    let r = &run.result;
    assert_eq!(r["finishReason"], "maxTurns", "{r}");
    assert_eq!(r["error"]["kind"], "maxTurns");
    assert_eq!(r["error"]["message"], "Reached maximum number of turns (2)");
    assert_eq!(r["error"]["vendorCode"]["terminalReason"], "max_turns");
    assert_eq!(r["turns"], 3);
    let ids: Vec<&str> = r["toolCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["toolu_1b8ea8808f274b8593b3", "toolu_552ce5421bc44d7aa8e1"]
    );
}

#[tokio::test]
async fn the_budget_limit_is_its_own_finish_reason() {
    let run = replay(
        include_str!("testdata/07h_max_budget.jsonl"),
        task(json!({})),
    )
    .await;
    let r = &run.result;
    assert_eq!(r["finishReason"], "budget", "{r}");
    assert_eq!(r["error"]["kind"], "budget");
    assert_eq!(r["error"]["message"], "Reached maximum budget ($0.001)");
}

#[tokio::test]
async fn a_missing_key_is_an_auth_error_not_model_output() {
    let run = replay(
        include_str!("testdata/07b_no_api_key.jsonl"),
        task(json!({})),
    )
    .await;
    // The CLI's synthetic assistant message is an error notice, not the model's answer.
    assert!(run.events.data_of("agent.message").is_empty());
    let r = &run.result;
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "auth");
    assert_eq!(r["error"]["message"], "Not logged in · Please run /login");
    assert_eq!(r["error"]["vendorCode"]["terminalReason"], "api_error");
    assert_eq!(r["output"], "");
}

#[tokio::test]
async fn http_401_is_an_auth_error_with_its_status() {
    let run = replay(include_str!("testdata/07c_401.jsonl"), task(json!({}))).await;
    let r = &run.result;
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "auth");
    assert_eq!(
        r["error"]["message"],
        "Failed to authenticate. API Error: 401 mock 401"
    );
    assert_eq!(r["error"]["vendorCode"]["apiErrorStatus"], 401);
    assert_eq!(
        r["error"]["vendorCode"]["apiErrorType"],
        "authentication_error"
    );
}

#[tokio::test]
async fn http_500_is_a_vendor_error_with_its_status_and_retries_do_not_stop_the_run() {
    for transcript in [
        include_str!("testdata/07e_500.jsonl"),
        include_str!("testdata/07f_500_retry2.jsonl"),
    ] {
        let run = replay(transcript, task(json!({}))).await;
        // A 500 retry notice is not a credentials failure: the run goes on.
        assert!(run.actions.iter().all(|a| *a == Action::Continue));
        let r = &run.result;
        assert_eq!(r["finishReason"], "error", "{r}");
        assert_eq!(r["error"]["kind"], "vendor");
        assert_eq!(r["error"]["vendorCode"]["apiErrorStatus"], 500);
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("API Error: 500 mock 500."));
    }
}

#[tokio::test]
async fn an_auth_retry_notice_stops_the_turn() {
    // No transcript has a 401 retry (the captures ran with retries off for 401); the line is the
    // 500 retry notice of 07f_500_retry2 with the status the CLI gives a 401.
    let (events, _out) = sink();
    let task = serde_json::from_value(task(json!({}))).unwrap();
    let mut mapper = Mapper::new(&task, std::env::temp_dir());
    let retry = lines(include_str!("testdata/07f_500_retry2.jsonl"))
        .into_iter()
        .find(|l| l.msg["subtype"] == "api_retry")
        .unwrap()
        .msg;
    assert_eq!(mapper.on_line(&events, &retry).await, Action::Continue);
    assert_eq!(mapper.auth_retry(), None);
    let mut auth = retry.clone();
    auth["error_status"] = json!(401);
    auth["error"] = json!("authentication_failed");
    assert_eq!(mapper.on_line(&events, &auth).await, Action::AuthFailed);
    assert_eq!(mapper.auth_retry(), Some(401));
}

#[tokio::test]
async fn resume_keeps_the_session_and_fork_reports_the_new_one() {
    let asked = "992c5f7c-f0ae-43ab-af5f-236963b87b1e";
    let run = replay(
        include_str!("testdata/06b_resume.jsonl"),
        task(json!({ "session": { "resume": asked } })),
    )
    .await;
    let r = &run.result;
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionId"], asked);
    assert!(r.get("sessionChanged").is_none(), "{r}");
    // This run's cost, not the session's running total (0.00128 on the result line).
    assert_eq!(r["usage"]["costUsd"], 0.00064);
    assert_eq!(r["vendor"]["sessionCostUsd"], 0.00128);

    let run = replay(
        include_str!("testdata/06c_fork.jsonl"),
        task(json!({ "session": { "resume": asked, "fork": true } })),
    )
    .await;
    let r = &run.result;
    assert_eq!(r["sessionId"], "0ea0fd0e-0b7b-4bde-b0bf-581d5e710bb0");
    assert_eq!(r["sessionChanged"], true, "{r}");
    assert_eq!(r["usage"]["costUsd"], 0.00064);
}

#[tokio::test]
async fn an_unknown_session_fails_with_the_clis_reason() {
    let asked = "99999999-8888-4777-8666-555555555555";
    let run = replay(
        include_str!("testdata/07a_unknown_resume.jsonl"),
        task(json!({ "session": { "resume": asked } })),
    )
    .await;
    // No init line: nothing started.
    assert!(run.events.types().is_empty());
    let r = &run.result;
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(r["error"]["kind"], "vendor");
    assert_eq!(
        r["error"]["message"],
        format!("No conversation found with session ID: {asked}")
    );
    assert_eq!(r["turns"], 0);
    assert_eq!(r["exit"]["code"], 1);
    assert_eq!(
        r["exit"]["stderrTail"][0],
        format!("No conversation found with session ID: {asked}")
    );
}

#[tokio::test]
async fn an_interrupted_turn_keeps_its_partial_text_marked_aborted() {
    let run = replay(include_str!("testdata/04_interrupt.jsonl"), task(json!({}))).await;
    assert_eq!(run.events.streamed_text(), "tick0 tick1 tick2 tick3 tick4 ");
    let messages = run.events.data_of("agent.message");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "tick0 tick1 tick2 tick3 tick4 ");
    assert_eq!(messages[0]["vendor"]["aborted"], true);
    // The interrupted request still counts as a model turn, with what it used.
    let turns = run.events.data_of("agent.vendor.turn");
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0]["usage"]["inputTokens"], 100);
    assert_eq!(turns[0]["vendor"]["aborted"], true, "{:?}", turns[0]);
    // The mapper reports the CLI's `error_during_execution`; the run loop, which knows it sent
    // the interrupt, turns that into `cancelled` (soft).
    let r = &run.result;
    assert_eq!(r["finishReason"], "error", "{r}");
    assert_eq!(
        r["error"]["vendorCode"]["terminalReason"],
        "aborted_streaming"
    );
    assert_eq!(r["output"], "tick0 tick1 tick2 tick3 tick4 ");
}

#[tokio::test]
async fn the_init_line_of_a_later_turn_does_not_start_the_task_again() {
    // Two turns in one process: the replay stops at the first result, as the run loop does, so
    // feed the second turn's lines by hand.
    let (events, out) = sink();
    let task = serde_json::from_value(task(json!({}))).unwrap();
    let mut mapper = Mapper::new(&task, std::env::temp_dir());
    let stdout = lines(include_str!("testdata/09_two_turns_one_process.jsonl"))
        .into_iter()
        .filter(|l| l.dir == "<stdout" && l.msg["type"] != "result");
    for l in stdout {
        mapper.on_line(&events, &l.msg).await;
    }
    assert_eq!(out.data_of("agent.task.started").len(), 1);
    assert_eq!(out.data_of("agent.message").len(), 2);
    assert_eq!(
        mapper.session_id(),
        Some("215efed2-fe48-4b7a-9471-5186af55345a")
    );
}

/// Feeds every `<stdout` line the mapper sees (all but control lines and `result`) and returns
/// the mapper, for transcripts that go on after the first `result` (background sub-agents).
async fn feed(transcript: &str, task_json: Value, upto: Option<usize>) -> (Mapper, Arc<Collected>) {
    let (events, out) = sink();
    let task = serde_json::from_value(task_json).unwrap();
    let mut mapper = Mapper::new(&task, std::env::temp_dir());
    let stdout = lines(transcript).into_iter().filter(|l| {
        l.dir == "<stdout"
            && !matches!(
                l.msg["type"].as_str(),
                Some("result" | "control_response" | "control_request")
            )
    });
    for l in stdout.take(upto.unwrap_or(usize::MAX)) {
        mapper.on_line(&events, &l.msg).await;
    }
    (mapper, out)
}

fn with_parent(out: &Collected, kind: &str) -> Vec<(Option<String>, Value)> {
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

const SUBAGENT: &str = include_str!("testdata/10_subagent_thinking_retry.jsonl");

#[tokio::test]
async fn a_429_retry_is_an_agent_retry() {
    let (_, out) = feed(SUBAGENT, task(json!({})), None).await;
    let retries = out.data_of("agent.retry");
    assert_eq!(
        retries,
        vec![json!({
            "attempt": 1, "maxAttempts": 2, "delayMs": 503, "httpStatus": 429,
            "reason": "rateLimit", "message": "API error 429 (rate_limit); retry 1 of 2 in 503 ms"
        })]
    );
}

#[tokio::test]
async fn thinking_is_reasoning_never_output() {
    let (mapper, out) = feed(SUBAGENT, task(json!({})), None).await;
    let deltas: Vec<Value> = out.data_of("agent.reasoning.delta");
    assert_eq!(
        deltas,
        vec![json!({"text": "Let me "}), json!({"text": "think."})]
    );
    assert_eq!(
        out.data_of("agent.reasoning"),
        vec![json!({"text": "Let me think."})]
    );
    assert!(!out.streamed_text().contains("think"));
    let r = mapper.finish(None, &Default::default());
    assert!(!r.output.contains("think"), "{}", r.output);
}

#[tokio::test]
async fn a_background_sub_agent_is_bracketed_and_marked_with_its_parent() {
    // Up to the Agent tool's "async_launched" result: the sub-agent is running.
    let (mapper, out) = feed(SUBAGENT, task(json!({})), Some(20)).await;
    assert_eq!(mapper.pending_subagents(), vec!["toolu_agent1".to_string()]);
    let started = with_parent(&out, "agent.subagent.started");
    assert_eq!(
        started,
        vec![(
            Some("toolu_agent1".to_string()),
            json!({"subagentId": "ac8439ef242e09e40", "parentToolCallId": "toolu_agent1",
                   "description": "count files"})
        )]
    );
    assert!(out.data_of("agent.subagent.completed").is_empty());

    // The whole transcript: its message, then its task_notification.
    let (mapper, out) = feed(SUBAGENT, task(json!({})), None).await;
    assert!(mapper.pending_subagents().is_empty());
    let completed = with_parent(&out, "agent.subagent.completed");
    assert_eq!(completed.len(), 1, "{completed:?}");
    assert_eq!(completed[0].0.as_deref(), Some("toolu_agent1"));
    assert_eq!(completed[0].1["status"], "completed");
    assert_eq!(completed[0].1["subagentId"], "ac8439ef242e09e40");
    // Its text is a message of its own, with the parent; the main agent's messages have none.
    let messages = with_parent(&out, "agent.message");
    let sub: Vec<_> = messages.iter().filter(|(p, _)| p.is_some()).collect();
    assert_eq!(sub.len(), 1, "{messages:?}");
    assert_eq!(sub[0].0.as_deref(), Some("toolu_agent1"));
    assert_eq!(sub[0].1["text"], "sub-agent says three");
    // Started comes before the sub-agent's message, completed after.
    let types = out.types();
    let pos = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(pos("agent.subagent.started") < pos("agent.subagent.completed"));
    // The main agent's output is the main agent's last text.
    let r = mapper.finish(None, &Default::default());
    assert_eq!(r.output, "sub-agent says three"); // the mock's main-agent reply, same words
    assert_eq!(r.tool_calls.len(), 1);
}

#[tokio::test]
async fn sub_agent_text_never_becomes_the_output() {
    // Only the sub-agent's lines: its message must not become the main output.
    let main_text = |l: &str| {
        l.contains("\"text_delta\"")
            || (l.contains("\"type\":\"assistant\"")
                && l.contains("\"parent_tool_use_id\":null")
                && l.contains("sub-agent says"))
    };
    let sub_only: String = SUBAGENT
        .lines()
        .filter(|l| !main_text(l))
        .collect::<Vec<_>>()
        .join("\n");
    let (mapper, out) = feed(&sub_only, task(json!({})), None).await;
    assert_eq!(with_parent(&out, "agent.message").len(), 1);
    let r = mapper.finish(None, &Default::default());
    assert_eq!(r.output, "");
}

#[tokio::test]
async fn a_manual_compact_is_reported() {
    let (_, out) = feed(
        include_str!("testdata/10b_compact.jsonl"),
        task(json!({})),
        None,
    )
    .await;
    assert_eq!(
        out.data_of("agent.context.compacted"),
        vec![json!({"trigger": "manual", "preTokens": 112, "postTokens": 2611})]
    );
}

#[tokio::test]
async fn a_failed_mcp_server_is_a_status() {
    let (_, out) = feed(
        include_str!("testdata/08_mcp_config.jsonl"),
        task(json!({})),
        None,
    )
    .await;
    assert_eq!(
        out.data_of("agent.status"),
        vec![
            json!({"kind": "mcpServer", "message": "MCP server broken: failed",
                    "data": {"name": "broken", "status": "failed"}})
        ]
    );
}

#[tokio::test]
async fn a_model_alias_is_not_a_reroute_but_another_model_is() {
    let alias = include_str!("testdata/08_model_alias.jsonl");
    let (_, out) = feed(alias, task(json!({"model": "sonnet"})), None).await;
    assert!(out.data_of("agent.status").is_empty());
    let (_, out) = feed(alias, task(json!({"model": "claude-opus-5-5"})), None).await;
    let status = out.data_of("agent.status");
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["kind"], "model");
    assert_eq!(status[0]["data"]["model"], "claude-sonnet-5-5");
    assert_eq!(status[0]["data"]["requested"], "claude-opus-5-5");
}

#[tokio::test]
async fn rate_limit_events_and_a_todo_plan() {
    let (events, out) = sink();
    let task = serde_json::from_value(task(json!({}))).unwrap();
    let mut mapper = Mapper::new(&task, std::env::temp_dir());
    // The shape Claude Code prints for subscription limits (not reproducible against a mock).
    for status in ["allowed", "allowed_warning", "rejected"] {
        let line = json!({"type": "rate_limit_event", "rate_limit_info": {
            "status": status, "resetsAt": 4102444800u64, "rateLimitType": "five_hour"}});
        mapper.on_line(&events, &line).await;
    }
    let status = out.data_of("agent.status");
    assert_eq!(status.len(), 1);
    assert_eq!(status[0]["kind"], "warning");
    let retry = out.data_of("agent.retry");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0]["reason"], "rateLimit");
    assert_eq!(retry[0]["attempt"], 1);
    assert!(retry[0]["delayMs"].as_u64().unwrap() > 0);

    let todo = json!({"type": "assistant", "parent_tool_use_id": null, "message": {"id": "m1",
        "content": [{"type": "tool_use", "id": "t1", "name": "TodoWrite", "input": {"todos": [
            {"content": "read", "status": "completed", "activeForm": "reading"},
            {"content": "write", "status": "in_progress", "activeForm": "writing"},
            {"content": "test", "status": "pending", "activeForm": "testing"}]}}]}});
    mapper.on_line(&events, &todo).await;
    assert_eq!(
        out.data_of("agent.plan.updated"),
        vec![json!({"entries": [
            {"text": "read", "status": "completed"},
            {"text": "write", "status": "inProgress"},
            {"text": "test", "status": "pending"}]})]
    );
}

/// Captured from the CLI itself (not through the sidecar, which stops at the first `result`): a
/// slow background sub-agent. The main turn's `result` comes first; the sub-agent's message, its
/// `task_notification`, then a follow-up main turn the CLI starts by itself (a new `init`, an
/// answer, a second `result`) come after it.
#[tokio::test]
async fn a_sub_agent_still_running_at_the_first_result_is_pending_until_its_notification() {
    let transcript = include_str!("testdata/11_subagent_after_result.jsonl");
    let all = lines(transcript);
    let first_result = all.iter().position(|l| l.msg["type"] == "result").unwrap();
    let (events, out) = sink();
    let task = serde_json::from_value(task(json!({}))).unwrap();
    let mut mapper = Mapper::new(&task, std::env::temp_dir());
    for l in &all[..first_result] {
        mapper.on_line(&events, &l.msg).await;
    }
    let pending = mapper.pending_subagents();
    assert_eq!(pending.len(), 1, "still running at the first result");
    for l in all[first_result + 1..]
        .iter()
        .filter(|l| l.msg["type"] != "result")
    {
        mapper.on_line(&events, &l.msg).await;
    }
    assert!(mapper.pending_subagents().is_empty());
    let completed = with_parent(&out, "agent.subagent.completed");
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].0.as_deref(), Some(pending[0].as_str()));
    assert_eq!(completed[0].1["status"], "completed");
    let sub: Vec<_> = with_parent(&out, "agent.message")
        .into_iter()
        .filter(|(p, _)| p.is_some())
        .collect();
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0].1["text"], "SUB three");
    // One task start, though the follow-up turn sends `init` again; the main output is the
    // follow-up's answer, never the sub-agent's.
    assert_eq!(out.data_of("agent.task.started").len(), 1);
    let last = all
        .iter()
        .rev()
        .find(|l| l.msg["type"] == "result")
        .unwrap();
    let r = mapper.finish(Some(&last.msg), &Default::default());
    assert_eq!(r.output, "main after notification");
}

#[tokio::test]
async fn the_clis_warnings_and_a_later_mode_change_are_status() {
    // 08_pm_plan: auto mode behind a gateway refuses everything, and says so.
    let (_, out) = feed(
        include_str!("testdata/08_pm_plan.jsonl"),
        task(json!({})),
        None,
    )
    .await;
    let status = out.data_of("agent.status");
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["kind"], "warning");
    assert_eq!(status[0]["data"]["tag"], "auto_mode_no_server_check");
    assert!(status[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Auto mode can't check actions"));

    // 08_set_model_mode: a mode set before the turn is the starting mode, not a change.
    let (mut mapper, out) = feed(
        include_str!("testdata/08_set_model_mode.jsonl"),
        task(json!({})),
        None,
    )
    .await;
    assert!(out.data_of("agent.status").is_empty());
    let (events, out) = sink();
    for mode in ["acceptEdits", "plan"] {
        let line =
            json!({"type": "system", "subtype": "status", "status": null, "permissionMode": mode});
        mapper.on_line(&events, &line).await;
    }
    assert_eq!(
        out.data_of("agent.status"),
        vec![
            json!({"kind": "permissionMode", "message": "the permission mode is now plan",
                    "data": {"permissionMode": "plan"}})
        ]
    );
}
