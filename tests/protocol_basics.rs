//! The core methods through the real binary's stdio.

mod support;

use serde_json::json;
use support::sidecar::assert_well_formed;
use support::Sidecar;

#[tokio::test]
async fn capabilities_lists_the_fixture_runtime() {
    let mut s = Sidecar::spawn(&[]);
    let r = s.call("capabilities", json!({})).await;
    assert_eq!(r["result"]["protocolVersion"], 2);
    let names: Vec<_> = r["result"]["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"fixture"), "{names:?}");
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn demo_run_streams_events_then_the_result() {
    let mut s = Sidecar::spawn(&[]);
    let out = s
        .run(json!({"taskId": "demo", "runtime": "fixture", "task": {"goal": "Explain this repository"}}))
        .await;
    assert_well_formed(&out.events);
    assert_eq!(out.result()["finishReason"], "completed");
    assert!(out.result()["output"]
        .as_str()
        .unwrap()
        .contains("Explain this repository"));
    assert!(!out.of_type("agent.output.delta").is_empty());
    assert_eq!(out.of_type("agent.tool.requested").len(), 1);
    assert_eq!(s.wait_exit().await, Some(0));
}
