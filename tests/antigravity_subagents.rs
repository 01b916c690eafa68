//! Antigravity sub-agents end to end: the real binary over stdio, the pinned google-antigravity
//! SDK (and its localharness) and a mock Gemini API on 127.0.0.1. The model calls the SDK's
//! `invoke_subagent`; the harness runs a `research` sub-agent in a child trajectory in the
//! background (the call returns at once), whose model requests the mock answers from a script of
//! their own, then wakes the parent with "Subagent <id> has gone idle" before the turn ends.

mod support;

use std::time::Duration;

use serde_json::json;
use support::antigravity::World;
use support::mock_gemini::Reply;
use support::sidecar::position;

/// A slow sub-agent that reads a file: its steps carry the invoke_subagent call (not the parent
/// trajectory), `agent.subagent.started/completed` bracket them, its text is never the main
/// output, and the task ends after it.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_invoked_sub_agent_is_bracketed_marked_and_kept_out_of_the_output() {
    let mut w = World::scripted(|work| {
        std::fs::write(work.join("notes.txt"), "three files\n").unwrap();
        vec![
            Reply::call(
                "invoke_subagent",
                json!({"Subagents": [{"TypeName": "research", "Role": "File Counter",
                                      "Prompt": "Count the files"}],
                       "toolSummary": "Count files", "toolAction": "Counting files"}),
            ),
            Reply::text(&["MAIN-WAITING"]),
            Reply::text(&["MAIN-DONE"]),
        ]
    })
    .await;
    let notes = w.work().join("notes.txt");
    w.mock.answer_subagents(vec![
        Reply::call(
            "view_file",
            json!({"AbsolutePath": notes, "toolSummary": "Notes", "toolAction": "Reading notes"}),
        ),
        Reply::Hang(
            Duration::from_millis(1500),
            Box::new(Reply::text(&["SUBAGENT-ANSWER ", "three files"])),
        ),
    ]);
    let out = w
        .run(json!({"goal": "count the files with a sub-agent"}))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "MAIN-DONE", "{r}");

    let evs = out.marked();
    let invoke: Vec<_> = evs
        .iter()
        .filter(|(t, _, d)| t == "agent.tool.requested" && d["name"] == "invoke_subagent")
        .collect();
    assert_eq!(invoke.len(), 1, "{evs:?}");
    assert_eq!(invoke[0].1, None);
    let call = invoke[0].2["toolCallId"].as_str().unwrap().to_string();

    let started = position(&evs, "agent.subagent.started");
    let (_, parent, data) = &evs[started];
    assert_eq!(parent.as_deref(), Some(call.as_str()), "{data}");
    assert_eq!(data["parentToolCallId"], call.as_str());
    let child = data["subagentId"].as_str().unwrap().to_string();
    assert_ne!(child, r["sessionId"].as_str().unwrap());

    let completed = position(&evs, "agent.subagent.completed");
    let (_, parent, data) = &evs[completed];
    assert_eq!(parent.as_deref(), Some(call.as_str()));
    assert_eq!(data["subagentId"], child.as_str());
    assert_eq!(data["status"], "completed");
    assert!(started < completed);

    // The sub-agent's file read and answer, inside the bracket, with the call as parent.
    let read: Vec<_> = evs
        .iter()
        .enumerate()
        .filter(|(_, (t, _, d))| t == "agent.tool.completed" && d["name"] == "view_file")
        .collect();
    assert_eq!(read.len(), 1, "{evs:?}");
    assert_eq!(read[0].1 .1.as_deref(), Some(call.as_str()));
    assert!(started < read[0].0 && read[0].0 < completed);
    for (i, (t, parent, m)) in evs.iter().enumerate() {
        if t != "agent.message" {
            continue;
        }
        let sub = m["text"].as_str().unwrap().contains("SUBAGENT-ANSWER");
        assert_eq!(parent.is_some(), sub, "{m}");
        if sub {
            assert!(started < i && i < completed, "{evs:?}");
        }
    }
    let streamed = out.streamed();
    assert!(!streamed.contains("SUBAGENT"), "{streamed}");
    assert!(!r["output"].as_str().unwrap().contains("SUBAGENT"));
    // The audit holds every call the task ran, the sub-agent's too (as on claude and codex).
    assert_eq!(
        out.tool_call_names(),
        vec!["invoke_subagent", "view_file"],
        "{r}"
    );
    // The turn ended after the sub-agent: the parent heard it went idle and answered last.
    let reqs = w.mock.requests();
    assert_eq!(reqs.iter().filter(|r| r.subagent).count(), 2);
    assert!(reqs.last().unwrap().texts().contains("has gone idle"));
    assert!(completed < position(&evs, "agent.task.completed"));
}
