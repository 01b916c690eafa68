//! Codex's requests to us (approvals and the like), answered through the task's approval broker.
//!
//! With `approvals: "deny"` codex runs with `approvalPolicy: never` and should not ask; if it does
//! anyway, the broker declines. With `"host"` each request becomes an `approval/request` to the host.

use serde_json::{json, Value};

use super::client::Client;
use super::mapping::ToolIndex;
use crate::runtime::Approvals;

/// Answers one server request. Runs in its own task: a host may take minutes to decide.
pub async fn answer(
    client: Client,
    approvals: Approvals,
    tools: ToolIndex,
    id: Value,
    method: String,
    params: Value,
) {
    let item_id = params["itemId"].as_str().unwrap_or_default().to_string();
    let known = tools
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&item_id)
        .cloned();
    match method.as_str() {
        "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
            let (name, mut input) = known.unwrap_or_else(|| {
                let name = if method.contains("fileChange") {
                    "fileChange"
                } else {
                    "commandExecution"
                };
                (name.to_string(), json!({ "command": params["command"] }))
            });
            if let (Some(reason), Value::Object(map)) = (params["reason"].as_str(), &mut input) {
                map.insert("reason".into(), json!(reason));
            }
            let d = approvals.decide(&item_id, &name, &input).await;
            let decision = if d.decision.allows() {
                "accept"
            } else {
                "decline"
            };
            client.respond(&id, json!({ "decision": decision })).await;
        }
        "item/permissions/requestApproval" => {
            let input = json!({ "permissions": params["permissions"], "reason": params["reason"] });
            let d = approvals
                .decide(&item_id, "requestPermissions", &input)
                .await;
            let granted = if d.decision.allows() {
                params["permissions"].clone()
            } else {
                json!({})
            };
            client
                .respond(&id, json!({ "permissions": granted, "scope": "turn" }))
                .await;
        }
        // Deprecated v1 forms, in case codex still sends them.
        "execCommandApproval" | "applyPatchApproval" => {
            let input = json!({ "command": params["command"], "changes": params["fileChanges"] });
            let d = approvals.decide(&item_id, &method, &input).await;
            let decision = if d.decision.allows() {
                "approved"
            } else {
                "denied"
            };
            client.respond(&id, json!({ "decision": decision })).await;
        }
        // An MCP server asking the user for input: we cannot show its form, so decline.
        "mcpServer/elicitation/request" => {
            client.respond(&id, json!({ "action": "decline" })).await;
        }
        // The model asking the user a question: there is no user in a task; no answers.
        "item/tool/requestUserInput" => {
            client.respond(&id, json!({ "answers": {} })).await;
        }
        _ => {
            client
                .respond_error(
                    &id,
                    -32601,
                    &format!("agent-runtime-kit does not handle {method}"),
                )
                .await;
        }
    }
}
