//! The fixture's `question` step and `updatedInput`, through the binary: hosts test
//! `input/request` and edited approvals with no vendor.

mod support;

use serde_json::{json, Value};
use support::Sidecar;

fn task(steps: Value, output: &str, approvals: &str) -> Value {
    json!({
        "goal": "go",
        "permissions": {"approvals": approvals},
        "runtimeOptions": {"fixture": {"script": {"steps": steps, "result": {"output": output}}}}
    })
}

fn questions() -> Value {
    json!({"question": {"questions": [
        {"id": "color", "text": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]},
        {"id": "sizes", "text": "Which sizes?", "multiSelect": true,
         "options": [{"label": "S"}, {"label": "M"}, {"label": "L"}]}
    ]}})
}

#[tokio::test]
async fn a_question_step_asks_the_host_and_the_output_carries_the_answers() {
    let mut s = Sidecar::spawn(&[]);
    let mut asked = vec![];
    let out = s
        .run_answering(
            json!({"taskId": "q", "runtime": "fixture",
                   "task": task(json!([questions()]), "{{answers.color}} in {{answers.sizes}}", "host")}),
            |_| panic!("no approval expected"),
            |req| {
                asked.push(req.clone());
                Some(json!({"answers": {"color": "Blue", "sizes": ["S", "L"]}}))
            },
        )
        .await;
    assert_eq!(out.response["result"]["output"], "Blue in S, L");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["taskId"], "q");
    assert_eq!(asked[0]["questions"][1]["multiSelect"], true);
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["name"], "AskUserQuestion");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(asked[0]["toolCallId"], done[0]["toolCallId"]);
    let caps = s.call("capabilities", json!({})).await;
    let fixture = caps["result"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "fixture")
        .unwrap()
        .clone();
    assert_eq!(fixture["capabilities"]["questions"], true, "{fixture}");
}

#[tokio::test]
async fn questions_are_declined_under_deny_and_when_unanswered() {
    let mut s = Sidecar::spawn(&[]);
    let out = s
        .run_answering(
            json!({"taskId": "d", "runtime": "fixture",
                   "task": task(json!([questions()]), "[{{answers.color}}]", "deny")}),
            |_| panic!("no approval expected"),
            |_| panic!("approvals: deny must not ask the host"),
        )
        .await;
    assert_eq!(out.response["result"]["output"], "[]");
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "denied");
    assert!(done[0]["output"]
        .as_str()
        .unwrap()
        .contains("approvals: deny"));

    // Unanswered: declined at the timeout, and the request is withdrawn.
    let out = s
        .run_answering(
            json!({"taskId": "t", "runtime": "fixture",
                   "task": task(json!([questions()]), "x", "host"),
                   "options": {"approvalTimeoutMs": 200}}),
            |_| panic!("no approval expected"),
            |_| None,
        )
        .await;
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "denied");
    assert!(done[0]["output"].as_str().unwrap().contains("in time"));
    let mut withdrawn = false;
    while let Ok(Some(v)) = tokio::time::timeout(std::time::Duration::from_secs(2), s.next()).await
    {
        if v["method"] == "$/cancelRequest" {
            withdrawn = true;
            break;
        }
    }
    assert!(withdrawn, "no $/cancelRequest");
}

#[tokio::test]
async fn an_approval_answered_with_updated_input_reports_the_new_input() {
    let mut s = Sidecar::spawn(&[]);
    let steps =
        json!([{"approval": {"name": "Bash", "input": {"command": "rm -rf /"}, "output": "ok"}}]);
    let out = s
        .run_with(
            json!({"taskId": "u", "runtime": "fixture", "task": task(steps, "done", "host")}),
            |_| Some(json!({"decision": "allow", "updatedInput": {"command": "ls"}})),
        )
        .await;
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(
        out.response["result"]["toolCalls"][0]["input"],
        json!({"command": "ls"})
    );
}
