//! What a runtime declares (`capabilities`) and how it checks out (`diagnose`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::methods::Decision;
use super::task::{ApprovalMode, SandboxMode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    pub name: String,
    pub description: String,
    pub capabilities: Capabilities,
    /// JSON Schema of this runtime's `runtimeOptions` entry.
    pub options: Value,
}

/// What `run` enforces: a task field outside these is refused with -32012.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// `agent.output.delta` events are streamed.
    pub streaming: bool,
    /// `agent.tool.requested` / `agent.tool.completed` events are emitted.
    pub tool_events: bool,
    /// Accepted `permissions.approvals` values.
    pub approvals: Vec<ApprovalMode>,
    /// Accepted `permissions.sandbox` values.
    pub sandbox_modes: Vec<SandboxMode>,
    /// `permissions.allowedTools` / `disallowedTools` are enforced.
    pub tool_filters: bool,
    /// `task.session.resume` continues an earlier session.
    pub resume: bool,
    /// `task.session.fork` branches a new session from the resumed one.
    pub fork: bool,
    /// Accepted MCP server transports (`stdio`, `http`); empty = no MCP.
    pub mcp: Vec<String>,
    /// `task.outputSchema` is honoured and the result carries `structuredOutput`.
    pub structured_output: bool,
    /// `task.systemPrompt` replaces the vendor's system prompt.
    pub system_prompt: bool,
    /// `task.appendSystemPrompt` is added to the vendor's system prompt.
    pub append_system_prompt: bool,
    /// `task.additionalDirectories` are opened to the agent.
    pub additional_directories: bool,
    /// `task.maxTurns` is enforced.
    pub max_turns: bool,
    /// When set, the only accepted `model` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// The result carries `usage.costUsd`.
    pub usage_cost: bool,
    /// `task.session.keepAlive`, and a `run` resuming a live session runs in its vendor process.
    #[serde(default)]
    pub live_sessions: bool,
    /// `steer` adds text to a running turn.
    #[serde(default)]
    pub steer: bool,
    /// `session/open` starts the vendor before the first turn.
    #[serde(default)]
    pub prewarm: bool,
    /// Accepted `task.attachments` types (`image`, `file`); empty = none.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Honoured `approval/request` decisions.
    #[serde(default)]
    pub approval_decisions: Vec<Decision>,
    /// The agent's questions reach the host as `input/request`.
    #[serde(default)]
    pub questions: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub runtime: String,
    pub status: DiagnosisStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryInfo>,
    /// What is wrong (or that all is well), in one sentence.
    pub message: String,
    /// What to run or set to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DiagnosisStatus {
    Ready,
    MissingBinary,
    MissingPackage,
    MissingCredentials,
    UnsupportedVersion,
    UnsupportedModel,
    Error,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BinaryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
