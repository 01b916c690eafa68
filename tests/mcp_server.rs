//! `agent-runtime-kit mcp` through the real binary's stdio: the MCP handshake and tool listing,
//! and how the server ends (stdin closed, SIGTERM) while a task runs. The full client-side
//! behaviour is tested with the official MCP Python SDK in tests/mcp/.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::Sidecar;

async fn initialized(s: &mut Sidecar) -> Value {
    s.mcp_initialize().await
}

/// A fixture task that waits a minute (it only ends by being stopped).
fn slow_task() -> Value {
    json!({
        "name": "run_task",
        "arguments": {
            "runtime": "fixture",
            "goal": "wait",
            "runtimeOptions": {"fixture": {"script": {"steps": [{"delayMs": 60000}]}}}
        },
        "_meta": {"progressToken": "tok-1"}
    })
}

/// Waits for the first progress notification for `tok-1` (the task has started).
async fn first_progress(s: &mut Sidecar) -> Value {
    loop {
        let m = s.next().await.expect("server running");
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], "tok-1");
            return m;
        }
    }
}

#[tokio::test]
async fn handshake_and_tool_list() {
    let mut s = Sidecar::spawn(&["mcp"]);
    let init = initialized(&mut s).await;
    let r = &init["result"];
    assert_eq!(r["protocolVersion"], "2025-11-25");
    assert_eq!(r["serverInfo"]["name"], "agent-runtime-kit");
    assert!(r["capabilities"]["tools"].is_object(), "{init}");

    let list = s.call("tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["run_task", "list_runtimes", "diagnose"]);
    let run = &tools[0];
    assert_eq!(run["inputSchema"]["required"], json!(["goal"]));
    assert_eq!(run["inputSchema"]["additionalProperties"], false);
    assert!(run["outputSchema"]["properties"]["finishReason"].is_object());

    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn progress_carries_the_event() {
    let mut s = Sidecar::spawn(&["mcp"]);
    initialized(&mut s).await;
    let id = s.request("tools/call", slow_task()).await;
    let p = first_progress(&mut s).await;
    assert_eq!(p["params"]["progress"], 1.0);
    let event = &p["params"]["_meta"]["agent-runtime-kit/event"];
    assert_eq!(event["type"], "agent.task.started");
    assert_eq!(event["data"]["runtime"], "fixture");
    assert!(event["taskId"].as_str().unwrap().starts_with("mcp-"));

    // Cancelled by the host: no response to the call, and the server stays usable.
    s.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": id, "reason": "test"}}),
    )
    .await;
    let caps = s
        .call(
            "tools/call",
            json!({"name": "list_runtimes", "arguments": {"runtime": "fixture"}}),
        )
        .await;
    assert_eq!(caps["result"]["isError"], false);
    s.close_stdin();
    let late = s.drain().await;
    assert!(
        !late.iter().any(|m| m["id"] == id),
        "a cancelled call gets no response: {late:?}"
    );
}

#[tokio::test]
async fn sigterm_answers_running_calls_then_exits() {
    let mut s = Sidecar::spawn(&["mcp"]);
    initialized(&mut s).await;
    let id = s.request("tools/call", slow_task()).await;
    first_progress(&mut s).await;
    let pid = s.child.id().expect("running") as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), s.response(&id))
        .await
        .expect("the running call is answered promptly");
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert_eq!(
        r["result"]["structuredContent"]["finishReason"],
        "cancelled"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn closing_stdin_stops_running_tasks_and_exits() {
    let mut s = Sidecar::spawn(&["mcp"]);
    initialized(&mut s).await;
    s.request("tools/call", slow_task()).await;
    first_progress(&mut s).await;
    s.close_stdin();
    let code = tokio::time::timeout(Duration::from_secs(10), s.wait_exit())
        .await
        .expect("exits promptly, not after the task's minute");
    assert_eq!(code, Some(0));
}

/// The remedy reaches the model and the person reading the tool result, not only the
/// structured content: a refused run and a diagnosis end their text with `fix: …`.
#[tokio::test]
async fn text_results_end_with_the_remedy() {
    let mut s = Sidecar::spawn(&["mcp", "--claude-path", "/nonexistent/claude"]);
    initialized(&mut s).await;
    let r = s
        .call(
            "tools/call",
            json!({"name": "run_task", "arguments": {"runtime": "claude", "goal": "x"}}),
        )
        .await;
    let result = &r["result"];
    assert_eq!(result["isError"], true, "{r}");
    let remedy = result["structuredContent"]["error"]["data"]["remedy"]
        .as_str()
        .expect("-32011 carries a remedy");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.ends_with(&format!("\nfix: {remedy}")), "{text}");

    let r = s
        .call(
            "tools/call",
            json!({"name": "diagnose", "arguments": {"runtime": "claude"}}),
        )
        .await;
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("claude: missingBinary — "), "{text}");
    assert!(text.ends_with(&format!("\n  fix: {remedy}")), "{text}");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}
