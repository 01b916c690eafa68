//! The host's answers through the real pinned `codex app-server` and a mock Responses API: the
//! model's `request_user_input` answered through `input/request` reaches the model, and approval
//! decisions map to codex's own (acceptForSession, cancel; updatedInput refused as a decline).

mod support;

use serde_json::{json, Value};
use support::codex::World;
use support::mock_codex::{MockResponses, Reply};

/// A host-approved, workspace-write task ("do it") against `mock`.
fn host_task(env: &World, id: &str, mock: &MockResponses) -> Value {
    env.run(
        id,
        mock,
        json!({ "goal": "do it",
                "permissions": { "sandbox": "workspace-write", "approvals": "host" } }),
    )
}

/// What the model got back for its tool calls, across every request the mock saw.
fn call_outputs(mock: &MockResponses) -> Vec<String> {
    let mut out = vec![];
    for r in mock.requests() {
        for i in r.body["input"].as_array().into_iter().flatten() {
            if i["type"] == "function_call_output" {
                out.push(i["output"].to_string());
            }
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn request_user_input_answered_by_the_host_reaches_the_model() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Call(
            "request_user_input".into(),
            json!({"questions": [{"id": "db", "header": "Database",
                                  "question": "Which database should I use?",
                                  "options": [{"label": "Postgres", "description": "relational"},
                                              {"label": "SQLite", "description": "a file"}]}]}),
        ),
        Reply::text("Postgres then."),
    ])
    .await;
    let mut s = env.sidecar();
    let mut asked = vec![];
    let out = s
        .run_answering(
            host_task(&env, "ask", &mock),
            |req| panic!("no approval expected: {req}"),
            |req| {
                asked.push(req.clone());
                Some(json!({"answers": {"db": "Postgres"}}))
            },
        )
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(
        asked.len(),
        1,
        "{:?} {:?}",
        call_outputs(&mock),
        out.types()
    );
    assert_eq!(asked[0]["questions"][0]["id"], "db");
    assert_eq!(
        asked[0]["questions"][0]["text"],
        "Which database should I use?"
    );
    let outputs = call_outputs(&mock);
    eprintln!("the model got: {outputs:?}");
    assert!(
        outputs.iter().any(|o| o.contains("Postgres")),
        "{outputs:?}"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn decisions_map_to_codex_and_updated_input_is_refused() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("echo one > a.txt".into()),
        Reply::Shell("echo one > a.txt".into()),
        Reply::text("done twice"),
        Reply::Shell("echo edited > b.txt".into()),
        Reply::text("was declined"),
    ])
    .await;
    let mut s = env.sidecar();

    // allowForSession: asked once, both runs of the same command go through.
    let mut asked = 0;
    let out = s
        .run_with(host_task(&env, "afs", &mock), |_| {
            asked += 1;
            Some(json!({"decision": "allowForSession"}))
        })
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    assert_eq!(asked, 1);
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|d| d["status"] == "ok"), "{done:?}");

    // updatedInput: codex cannot change the command: declined, with a warning saying why.
    let out = s
        .run_with(host_task(&env, "upd", &mock), |_| {
            Some(json!({"decision": "allow", "updatedInput": {"command": "echo other > b.txt"}}))
        })
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    assert_eq!(out.of_type("agent.tool.completed")[0]["status"], "denied");
    assert!(!env.work.join("b.txt").exists());
    let warned = out.of_type("agent.status");
    assert!(
        warned
            .iter()
            .any(|w| w["message"].as_str().unwrap().contains("updatedInput")),
        "{warned:?}"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

/// `abort`: codex is told to cancel the command, nothing runs, and the task ends as cancelled
/// with no further model request.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn abort_cancels_the_command_and_the_task() {
    let env = World::new();
    let mock = MockResponses::start(vec![
        Reply::Shell("echo no > c.txt".into()),
        Reply::text("SHOULD-NOT-BE-ASKED"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run_with(host_task(&env, "abort", &mock), |_| {
            Some(json!({"decision": "abort", "message": "stop everything"}))
        })
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "cancelled", "{r}");
    assert!(!env.work.join("c.txt").exists());
    assert_eq!(out.of_type("agent.approval.requested").len(), 1);
    assert!(
        !out.of_type("agent.message")
            .iter()
            .any(|m| m["text"].as_str().unwrap().contains("SHOULD-NOT")),
        "{:?}",
        out.types()
    );
    assert_eq!(s.wait_exit().await, Some(0));
}
