//! Each method declared once: its name, params and result types.
//!
//! The server registers handlers by these names, and the schema generator walks [`all_methods`],
//! so a method cannot exist on the wire without a schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::Event;
use super::result::AgentResult;
use super::runtime_info::{Diagnosis, RuntimeInfo};
use super::task::{AgentTask, RunOptions};

/// Who sends a message of this method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request from the host; the sidecar answers.
    HostRequest,
    /// A request from the sidecar; the host answers.
    ServerRequest,
    /// A notification from the sidecar.
    ServerNotification,
}

pub trait Method {
    const NAME: &'static str;
    const DIRECTION: Direction;
    type Params: JsonSchema + Serialize + for<'de> Deserialize<'de>;
    /// `()` for notifications.
    type Result: JsonSchema + Serialize + for<'de> Deserialize<'de>;
}

macro_rules! method {
    ($ty:ident, $name:literal, $dir:ident, $params:ty, $result:ty) => {
        pub struct $ty;
        impl Method for $ty {
            const NAME: &'static str = $name;
            const DIRECTION: Direction = Direction::$dir;
            type Params = $params;
            type Result = $result;
        }
    };
}

method!(
    Capabilities,
    "capabilities",
    HostRequest,
    CapabilitiesParams,
    CapabilitiesResult
);
method!(
    Diagnose,
    "diagnose",
    HostRequest,
    DiagnoseParams,
    DiagnoseResult
);
method!(Run, "run", HostRequest, RunParams, AgentResult);
method!(Cancel, "cancel", HostRequest, CancelParams, CancelResult);
method!(
    ApprovalRequest,
    "approval/request",
    ServerRequest,
    ApprovalParams,
    ApprovalResponse
);
method!(EventNotification, "event", ServerNotification, Event, ());

/// Visits every method, for schema generation and docs.
pub trait MethodVisitor {
    fn visit<M: Method>(&mut self);
}

pub fn all_methods(v: &mut impl MethodVisitor) {
    v.visit::<Capabilities>();
    v.visit::<Diagnose>();
    v.visit::<Run>();
    v.visit::<Cancel>();
    v.visit::<ApprovalRequest>();
    v.visit::<EventNotification>();
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapabilitiesParams {
    /// Only this runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesResult {
    pub protocol_version: u32,
    pub server: ServerInfo,
    pub runtimes: Vec<RuntimeInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiagnoseParams {
    /// Only this runtime (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The model a probe should use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Run a one-turn task against the real model (costs a request).
    #[serde(default)]
    pub probe: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiagnoseResult {
    pub runtimes: Vec<Diagnosis>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunParams {
    /// Chosen by the host (recommended: it can then cancel before the first event) or generated (UUID v4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub task_id: Option<String>,
    pub runtime: String,
    pub task: AgentTask,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<RunOptions>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelParams {
    pub task_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResult {
    pub task_id: String,
    pub state: CancelState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CancelState {
    /// The task was running; its `run` response follows with `finishReason: "cancelled"`.
    Cancelling,
    /// The task had already ended; nothing changed.
    Finished,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalParams {
    pub task_id: String,
    pub tool_call_id: String,
    pub name: String,
    pub input: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalResponse {
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Allow,
    Deny,
}
