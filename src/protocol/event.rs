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
    /// Set on every event caused inside a sub-agent: the tool call that started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_tool_call_id: Option<String>,
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
    #[serde(rename = "agent.reasoning.delta")]
    ReasoningDelta(TextData),
    #[serde(rename = "agent.reasoning")]
    Reasoning(TextData),
    #[serde(rename = "agent.plan.updated")]
    PlanUpdated(PlanUpdated),
    #[serde(rename = "agent.file.changed")]
    FileChanged(FileChanged),
    #[serde(rename = "agent.subagent.started")]
    SubagentStarted(Subagent),
    #[serde(rename = "agent.subagent.completed")]
    SubagentCompleted(Subagent),
    #[serde(rename = "agent.retry")]
    Retry(Retry),
    #[serde(rename = "agent.tool.output.delta")]
    ToolOutputDelta(ToolOutputDelta),
    #[serde(rename = "agent.context.compacted")]
    ContextCompacted(ContextCompacted),
    #[serde(rename = "agent.status")]
    Status(Status),
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

/// The whole current plan, each time it changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanUpdated {
    pub entries: Vec<PlanEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    pub text: String,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PlanStatus {
    Pending,
    InProgress,
    Completed,
}

/// A file under the working directory changed, by whatever tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileChanged {
    /// Relative to the working directory when inside it.
    pub path: String,
    pub change: FileChange,
    /// A unified diff, truncated like any field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FileChange {
    Added,
    Modified,
    Deleted,
}

/// Brackets the work of a sub-agent (Claude Task/Agent, Codex collab agents, Antigravity child
/// trajectories); every event in between that it caused carries `parentToolCallId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subagent {
    pub subagent_id: String,
    pub parent_tool_call_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// On completion: `completed`, `failed`, `cancelled`, … as the vendor says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// The vendor waits before trying the model again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// 1-based.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub reason: RetryReason,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RetryReason {
    RateLimit,
    Overloaded,
    Server,
    Network,
}

/// Streamed output of a running tool (a shell command's stdout/stderr).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolOutputDelta {
    pub tool_call_id: String,
    pub text: String,
}

/// The vendor compacted the conversation to fit its context window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextCompacted {
    pub trigger: CompactionTrigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CompactionTrigger {
    Auto,
    Manual,
}

/// A change that alters what the agent can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub kind: StatusKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StatusKind {
    /// An MCP server failed to start or changed state.
    McpServer,
    PermissionMode,
    /// The vendor switched models (a silent reroute or fallback).
    Model,
    Warning,
}
