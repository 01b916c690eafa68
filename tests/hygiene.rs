//! Secrets never reach stdout or stderr; huge fields arrive truncated.

mod support;

use serde_json::json;
use support::Sidecar;

const PLANTED: &str = "sk-ant-api03-PLANTEDsecretVALUE0123456789abcdefXYZ";
const PLANTED_MCP: &str = "mcp-token-value-0123456789-planted";
const PLANTED_OPAQUE: &str = "opaque-but-named-secret-42424242";

#[tokio::test]
async fn planted_secrets_never_appear_in_stdout_or_stderr() {
    let mut s = Sidecar::spawn_with(&["--log-level", "trace"], |c| {
        c.env("ANTHROPIC_API_KEY", PLANTED).env("RUST_LOG", "trace");
    });
    let out = s
        .run(json!({"taskId": "leak", "runtime": "fixture", "task": {
            "goal": format!("use {PLANTED} and {PLANTED_MCP}"),
            "metadata": {"note": PLANTED_OPAQUE},
            "mcpServers": {"m": {"command": "srv", "env": {"MY_TOKEN": PLANTED_MCP, "MY_PASSWORD": PLANTED_OPAQUE}}},
            "runtimeOptions": {"fixture": {"script": {
                "steps": [
                    {"tool": {"name": "Bash", "input": {"command": format!("echo {PLANTED}")},
                              "output": format!("key={PLANTED} token={PLANTED_MCP} Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123")}},
                    {"event": "agent.message", "data": {"text": format!("the key is {PLANTED}")}}
                ],
                "result": {"output": format!("done {PLANTED} {PLANTED_OPAQUE}")}}}}
        }}))
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    let bad = s.call("run", json!({"runtime": "fixture", "task": {"goal": PLANTED, "workingDirectory": format!("/nope/{PLANTED}")}})).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert_eq!(s.wait_exit().await, Some(0));
    let stdout = s.stdout_text();
    let stderr = s.stderr_text();
    assert!(
        stdout.contains("[redacted]"),
        "redaction happened where the secrets were"
    );
    for secret in [
        PLANTED,
        PLANTED_MCP,
        PLANTED_OPAQUE,
        "abcdefghijklmnopqrstuvwxyz0123",
    ] {
        assert!(!stdout.contains(secret), "{secret} leaked to stdout");
        assert!(!stderr.contains(secret), "{secret} leaked to stderr");
    }
}

#[tokio::test]
async fn a_one_megabyte_tool_output_arrives_truncated() {
    let mut s = Sidecar::spawn(&[]);
    let big = "x".repeat(1024 * 1024);
    let out = s
        .run(json!({"runtime": "fixture", "task": {"goal": "big", "runtimeOptions": {"fixture": {"script": {
            "steps": [{"tool": {"name": "Read", "input": {}, "output": big}}]}}}}}))
        .await;
    let done = out.of_type("agent.tool.completed")[0];
    assert_eq!(done["output"].as_str().unwrap().len(), 8 * 1024);
    assert_eq!(
        done["outputTruncated"],
        json!({"truncated": true, "bytes": 1024 * 1024})
    );
    assert_eq!(
        out.result()["toolCalls"][0]["outputTruncated"]["bytes"],
        1024 * 1024
    );
    // The host can raise the limit.
    let out = s
        .run(json!({"runtime": "fixture", "options": {"maxFieldBytes": 2_000_000}, "task": {"goal": "big",
            "runtimeOptions": {"fixture": {"script": {"steps": [{"tool": {"name": "Read", "input": {}, "output": big}}]}}}}}))
        .await;
    assert_eq!(
        out.of_type("agent.tool.completed")[0]["output"]
            .as_str()
            .unwrap()
            .len(),
        1024 * 1024
    );
}
