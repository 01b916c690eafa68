//! Codex's requests to us (approvals and the like), answered through the task's approval broker.
//!
//! With `approvals: "deny"` codex runs with `approvalPolicy: never` and should not ask; if it does
//! anyway, the broker declines. With `"host"` each request becomes an `approval/request` to the host.
//!
//! Decisions map natively (codex 0.171.0 `CommandExecutionApprovalDecision` /
//! `FileChangeApprovalDecision`): allow → `accept`, allowForSession → `acceptForSession`, deny →
//! `decline` (the agent carries on), abort → `cancel` (codex interrupts the turn; the core also
//! stops the task). A decision the request's `availableDecisions` does not offer falls back to
//! `accept` / `decline`. Codex cannot change a command or a patch, so an `updatedInput` is
//! refused: the call is declined and an `agent.status` warning says why.
//!
//! Questions: `item/tool/requestUserInput` and form-mode `mcpServer/elicitation/request` with
//! simple fields become `input/request` (see [`super::questions`]).

use serde_json::{json, Value};

use super::client::Client;
use super::mapping::ToolIndex;
use super::questions;
use crate::protocol::event::{EventBody, Status, StatusKind};
use crate::protocol::methods::{ApprovalResponse, Decision};
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
            let decision = native_decision(&approvals, &d, &params["availableDecisions"]).await;
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
            let scope = if d.decision == Decision::AllowForSession {
                "session"
            } else {
                "turn"
            };
            client
                .respond(&id, json!({ "permissions": granted, "scope": scope }))
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
        "mcpServer/elicitation/request" => {
            let reply = questions::elicitation(&approvals, &params).await;
            client.respond(&id, reply).await;
        }
        "item/tool/requestUserInput" => {
            let reply = questions::user_input(&approvals, &item_id, &params).await;
            client.respond(&id, reply).await;
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

/// The codex decision for the host's answer (see the module doc).
async fn native_decision(
    approvals: &Approvals,
    d: &ApprovalResponse,
    available: &Value,
) -> &'static str {
    let offered = |name: &str| {
        available
            .as_array()
            .is_none_or(|list| list.iter().any(|x| x.as_str() == Some(name)))
    };
    if d.decision.allows() && d.updated_input.is_some() {
        approvals
            .events()
            .emit(EventBody::Status(Status {
                kind: StatusKind::Warning,
                message: "codex cannot change a command or patch before it runs: the call \
                          answered with updatedInput was declined"
                    .into(),
                data: None,
            }))
            .await;
        return "decline";
    }
    match d.decision {
        Decision::AllowForSession if offered("acceptForSession") => "acceptForSession",
        Decision::Allow | Decision::AllowForSession => "accept",
        Decision::Abort if offered("cancel") => "cancel",
        Decision::Deny | Decision::Abort => "decline",
    }
}
