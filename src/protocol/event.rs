//! Task events: `{"method":"event","params":Event}` notifications, numbered per task.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::result::{FinishReason, TaskError, ToolStatus, Usage};
use super::task::Permissions;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub task_id: String,
    /// Counts from 0 per task, with no gaps.
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    #[serde(flatten)]
    pub body: EventBody,
}

/// The `type` and `data` of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventBody {
    #[serde(rename = "agent.task.started")]
    TaskStarted(TaskStarted),
    #[serde(rename = "agent.output.delta")]
    OutputDelta(TextData),
    #[serde(rename = "agent.message")]
    Message(TextData),
    #[serde(rename = "agent.tool.requested")]
    ToolRequested(ToolRequested),
    #[serde(rename = "agent.tool.completed")]
    ToolCompleted(ToolCompleted),
    #[serde(rename = "agent.approval.requested")]
    ApprovalRequested(ToolRequested),
    #[serde(rename = "agent.vendor.turn")]
    VendorTurn(VendorTurn),
    #[serde(rename = "agent.vendor.event")]
    VendorEvent(VendorEvent),
    #[serde(rename = "agent.task.completed")]
    TaskCompleted(TaskFinished),
    #[serde(rename = "agent.task.failed")]
    TaskFailed(TaskFinished),
}

impl EventBody {
    pub fn is_terminal(&self) -> bool {
        matches!(self, EventBody::TaskCompleted(_) | EventBody::TaskFailed(_))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStarted {
    pub runtime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub working_directory: String,
    /// The permissions in force, after the runtime's mapping.
    pub permissions: Permissions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextData {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequested {
    pub tool_call_id: String,
    pub name: String,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolCompleted {
    pub tool_call_id: String,
    pub name: String,
    pub status: ToolStatus,
    pub output: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorTurn {
    /// 1-based model turn number.
    pub turn: u32,
    /// Usage so far in this task.
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_turn_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorEvent {
    /// The raw vendor message, secrets redacted.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskFinished {
    pub finish_reason: FinishReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}
