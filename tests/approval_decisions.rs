//! The v2 approval answers, through the real binary and the fixture runtime: `abort` ends the
//! task as cancelled, `allowForSession` is not asked again, and a request nobody answers in time
//! is withdrawn with `$/cancelRequest`. The core owns these, so they hold for every runtime.

mod support;

use serde_json::{json, Value};
use support::Sidecar;

fn approvals_task(steps: Value, extra: Value) -> Value {
    let mut task = json!({
        "goal": "go",
        "permissions": {"approvals": "host"},
        "runtimeOptions": {"fixture": {"script": {"steps": steps, "result": {"output": "done"}}}}
    });
    if let (Value::Object(t), Value::Object(e)) = (&mut task, extra) {
        t.extend(e);
    }
    task
}

fn bash(command: &str) -> Value {
    json!({"approval": {"name": "Bash", "input": {"command": command}, "output": "ok"}})
}

fn statuses(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["params"]["type"] == "agent.tool.completed")
        .map(|e| e["params"]["data"]["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn abort_denies_the_call_and_ends_the_task_as_cancelled() {
    let mut s = Sidecar::spawn(&[]);
    let steps = json!([bash("rm -rf build"), {"delayMs": 5000}, {"event": "agent.output.delta", "data": {"text": "never"}}]);
    let out = s
        .run_with(
            json!({"taskId": "abort", "runtime": "fixture", "task": approvals_task(steps, json!({}))}),
            |_| Some(json!({"decision": "abort", "message": "stop everything"})),
        )
        .await;
    let result = &out.response["result"];
    assert_eq!(result["finishReason"], "cancelled", "{result}");
    assert_eq!(statuses(&out.events), ["denied"]);
    let text: String = out
        .events
        .iter()
        .filter(|e| e["params"]["type"] == "agent.output.delta")
        .map(|e| e["params"]["data"]["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !text.contains("never"),
        "the task went on after abort: {text}"
    );
}

#[tokio::test]
async fn allow_for_session_is_not_asked_again_for_the_same_command() {
    let mut s = Sidecar::spawn(&[]);
    let steps = json!([bash("cargo test"), bash("cargo test"), bash("git push")]);
    let mut asked = vec![];
    let out = s
        .run_with(
            json!({"taskId": "afs", "runtime": "fixture", "task": approvals_task(steps, json!({}))}),
            |req| {
                asked.push(req["input"]["command"].as_str().unwrap().to_string());
                Some(json!({"decision": if asked.len() == 1 { "allowForSession" } else { "deny" }}))
            },
        )
        .await;
    // The second `cargo test` ran without a request; `git push` is another command: asked, denied.
    assert_eq!(asked, ["cargo test", "git push"]);
    assert_eq!(statuses(&out.events), ["ok", "ok", "denied"]);
    assert_eq!(out.response["result"]["finishReason"], "completed");
}

#[tokio::test]
async fn an_unanswered_request_is_withdrawn_with_cancel_request_and_a_late_answer_is_ignored() {
    let mut s = Sidecar::spawn(&[]);
    let steps = json!([bash("make")]);
    let mut request_id = Value::Null;
    let out = s
        .run_with(
            json!({"taskId": "late", "runtime": "fixture",
                   "task": approvals_task(steps, json!({})),
                   "options": {"approvalTimeoutMs": 200}}),
            |_| None,
        )
        .await;
    for e in &out.events {
        if e["method"] == "approval/request" {
            request_id = e["id"].clone();
        }
    }
    assert!(request_id.is_string(), "no approval/request seen");
    assert_eq!(statuses(&out.events), ["denied"]);
    // The withdrawal went out (it may come just before or after the response).
    let mut seen = false;
    while let Ok(Some(v)) = tokio::time::timeout(std::time::Duration::from_secs(2), s.next()).await
    {
        if v["method"] == "$/cancelRequest" {
            assert_eq!(v["params"]["id"], request_id);
            seen = true;
            break;
        }
    }
    assert!(seen, "no $/cancelRequest for {request_id}");
    // A late answer is dropped quietly, and the server keeps serving.
    s.send(&json!({"jsonrpc": "2.0", "id": request_id, "result": {"decision": "allow"}}))
        .await;
    let caps = s.call("capabilities", json!({})).await;
    assert_eq!(caps["result"]["protocolVersion"], 2);
}
