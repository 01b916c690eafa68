//! The host's answers through the real pinned Claude Code CLI and a mock Messages API: an
//! AskUserQuestion answered through `input/request` reaches the model, a declined one tells the
//! model why, and an approval answered with `updatedInput` changes what runs.

mod support;

use serde_json::{json, Value};
use support::claude::World;
use support::mock_claude::Reply;

/// The `tool_result` blocks the model received, as text.
fn tool_results(w: &World) -> Vec<String> {
    let mut out = vec![];
    for r in w.mock.requests() {
        for m in r.body["messages"].as_array().into_iter().flatten() {
            for b in m["content"].as_array().into_iter().flatten() {
                if b["type"] == "tool_result" {
                    out.push(b["content"].to_string());
                }
            }
        }
    }
    out
}

fn color_question() -> Value {
    json!({"questions": [{
        "question": "Which color should the button be?",
        "header": "Color",
        "multiSelect": false,
        "options": [
            {"label": "Red", "description": "warm"},
            {"label": "Blue", "description": "cold"}
        ]
    }]})
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_question_answered_by_the_host_reaches_the_model() {
    let w = World::new(vec![
        Reply::tool("AskUserQuestion", color_question()),
        Reply::text("Blue it is."),
    ])
    .await;
    let mut s = w.sidecar();
    let mut asked = vec![];
    let out = s
        .run_answering(
            w.run_params(
                "ask",
                json!({"goal": "pick a color", "permissions": {"approvals": "host"}}),
            ),
            |req| panic!("no approval expected: {req}"),
            |req| {
                asked.push(req.clone());
                Some(json!({"answers": {"0": "Blue"}}))
            },
        )
        .await;
    let r = &out.response["result"];
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Blue it is.");
    assert_eq!(asked.len(), 1, "{asked:?}");
    let q = &asked[0]["questions"][0];
    assert_eq!(q["id"], "0");
    assert_eq!(q["text"], "Which color should the button be?");
    assert_eq!(q["header"], "Color");
    assert_eq!(
        q["options"][1],
        json!({"label": "Blue", "description": "cold"})
    );
    assert!(asked[0]["toolCallId"]
        .as_str()
        .unwrap()
        .starts_with("toolu_"));
    // The model was offered the tool, and got the host's answer as the tool's result.
    assert!(w.mock.requests()[0]
        .tool_names()
        .contains(&"AskUserQuestion".to_string()));
    let results = tool_results(&w);
    eprintln!("tool results the model saw: {results:?}");
    assert!(
        results
            .iter()
            .any(|t| t.contains("Which color should the button be?") && t.contains("Blue")),
        "{results:?}"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_unanswered_question_tells_the_model_and_deny_mode_removes_the_tool() {
    let w = World::new(vec![
        Reply::tool("AskUserQuestion", color_question()),
        Reply::text("No answer; going with red."),
        Reply::text("Nobody to ask."),
    ])
    .await;
    let mut s = w.sidecar();
    let out = s
        .run_answering(
            json!({"taskId": "late", "runtime": "claude",
                   "task": {"goal": "pick", "workingDirectory": w.work(),
                            "permissions": {"approvals": "host"}},
                   "options": {"approvalTimeoutMs": 300}}),
            |req| panic!("no approval expected: {req}"),
            |_| None,
        )
        .await;
    assert_eq!(out.response["result"]["finishReason"], "completed");
    let results = tool_results(&w);
    assert!(
        results.iter().any(|t| t.contains("did not answer")),
        "{results:?}"
    );
    let tools_before = w.mock.requests().len();

    // approvals: "deny": the model is never offered a question nobody can answer.
    let out = s.run(w.run_params("deny", json!({"goal": "pick"}))).await;
    assert_eq!(out.response["result"]["finishReason"], "completed");
    let req = &w.mock.requests()[tools_before];
    assert!(!req.tool_names().contains(&"AskUserQuestion".to_string()));
    assert!(req.tool_names().contains(&"Bash".to_string()));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_approval_answered_with_updated_input_runs_the_new_input() {
    let w = World::new(vec![
        Reply::tool(
            "Bash",
            json!({"command": "echo original > out.txt", "description": "write"}),
        ),
        Reply::text("Written."),
    ])
    .await;
    let mut s = w.sidecar();
    let mut asked = vec![];
    let out = s
        .run_with(
            w.run_params(
                "upd",
                json!({"goal": "write a file",
                       "permissions": {"sandbox": "read-only", "approvals": "host"}}),
            ),
            |req| {
                asked.push(req["input"]["command"].clone());
                Some(json!({"decision": "allow",
                            "updatedInput": {"command": "echo changed > out.txt",
                                             "description": "write"}}))
            },
        )
        .await;
    assert_eq!(out.response["result"]["finishReason"], "completed");
    assert_eq!(asked, [json!("echo original > out.txt")]);
    assert_eq!(
        std::fs::read_to_string(w.work().join("out.txt")).unwrap(),
        "changed\n"
    );
}

/// `allowForSession` on the first of two identical Bash calls: asked once, both run. `abort` on
/// the next task's call: denied, nothing written, the task ends as cancelled without the model
/// being asked again.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn allow_for_session_covers_the_second_call_and_abort_cancels_the_task() {
    let bash = |cmd: &str| Reply::tool("Bash", json!({"command": cmd, "description": "write"}));
    let w = World::new(vec![
        bash("echo one >> a.txt"),
        bash("echo one >> a.txt"),
        Reply::text("done twice"),
        bash("echo no > b.txt"),
        Reply::text("SHOULD-NOT-BE-ASKED"),
    ])
    .await;
    let mut s = w.sidecar();
    let task = |goal: &str| json!({"goal": goal, "permissions": {"sandbox": "read-only", "approvals": "host"}});
    let mut asked = 0;
    let out = s
        .run_with(w.run_params("afs", task("append twice")), |_| {
            asked += 1;
            Some(json!({"decision": "allowForSession"}))
        })
        .await;
    assert_eq!(out.response["result"]["finishReason"], "completed");
    assert_eq!(asked, 1);
    assert_eq!(
        std::fs::read_to_string(w.work().join("a.txt")).unwrap(),
        "one\none\n"
    );

    let before = w.mock.requests().len();
    let out = s
        .run_with(w.run_params("abort", task("write b")), |_| {
            Some(json!({"decision": "abort", "message": "stop everything"}))
        })
        .await;
    let r = &out.response["result"];
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");
    assert!(!w.work().join("b.txt").exists());
    // The model got no further call after the aborted tool.
    assert_eq!(w.mock.requests().len(), before + 1);
}
