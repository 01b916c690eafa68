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

/// A JSON-RPC id, as the sidecar sends it on its own requests (a number) or a host sends it.
pub type RequestId = Value;

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
method!(
    InputRequest,
    "input/request",
    ServerRequest,
    InputRequestParams,
    InputResponse
);
method!(
    CancelServerRequest,
    "$/cancelRequest",
    ServerNotification,
    CancelRequestParams,
    ()
);
method!(EventNotification, "event", ServerNotification, Event, ());
method!(
    SessionOpen,
    "session/open",
    HostRequest,
    SessionOpenParams,
    SessionOpenResult
);
method!(
    SessionClose,
    "session/close",
    HostRequest,
    SessionCloseParams,
    SessionCloseResult
);
method!(
    SessionList,
    "session/list",
    HostRequest,
    SessionListParams,
    SessionListResult
);
method!(Steer, "steer", HostRequest, SteerParams, SteerResult);
method!(
    SessionClosedNotification,
    "session/closed",
    ServerNotification,
    SessionClosed,
    ()
);

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
    v.visit::<InputRequest>();
    v.visit::<CancelServerRequest>();
    v.visit::<EventNotification>();
    v.visit::<SessionOpen>();
    v.visit::<SessionClose>();
    v.visit::<SessionList>();
    v.visit::<Steer>();
    v.visit::<SessionClosedNotification>();
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
    /// Told to the agent (with a deny or abort: why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Replaces the tool's input before it runs (where the runtime declares it can).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_input: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Allow,
    /// Allow, and don't ask again for this tool (Bash-like tools: this command prefix) in this session.
    AllowForSession,
    Deny,
    /// Deny, and end the task with `finishReason: "cancelled"`.
    Abort,
}

impl Decision {
    pub fn allows(self) -> bool {
        matches!(self, Decision::Allow | Decision::AllowForSession)
    }
}

/// The agent asks the user something; the host answers with `InputResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InputRequestParams {
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// The key of this question's answer.
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<QuestionOption>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multi_select: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionOption {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InputResponse {
    /// Question id → the answer (a string, or the chosen labels of a multi-select).
    pub answers: std::collections::BTreeMap<String, Answer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

/// The sidecar withdraws a request it sent (the vendor withdrew the approval or question, or the
/// task ended); a late answer to it is ignored.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequestParams {
    pub id: RequestId,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionOpenParams {
    pub runtime: String,
    /// As for `run`; `goal` may be left out (it is not sent). `session.keepAlive` is implied.
    pub task: SessionTask,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<RunOptions>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionOpenResult {
    /// Pass as `task.session.resume` to run a turn in it.
    pub session_id: String,
    pub runtime: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionCloseParams {
    pub session_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCloseResult {
    pub session_id: String,
    pub closed: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionListParams {}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionListResult {
    pub sessions: Vec<SessionInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub session_id: String,
    pub runtime: String,
    pub state: SessionState,
    /// Turns run in this live process so far.
    pub turns: u32,
    /// Milliseconds since the last turn ended (0 while busy).
    pub idle_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SessionState {
    Starting,
    Idle,
    Busy,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SteerParams {
    pub task_id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SteerResult {
    pub accepted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionClosed {
    pub session_id: String,
    pub reason: SessionClosedReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SessionClosedReason {
    /// `session/close`.
    Closed,
    /// No turn for `idleTimeoutMs`.
    Idle,
    /// The vendor process ended by itself.
    Exited,
    /// The sidecar is stopping (EOF, SIGTERM).
    Shutdown,
}

/// `session/open`'s task: an [`AgentTask`] whose `goal` may be left out (nothing is sent to the
/// vendor until the first turn).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SessionTask(pub AgentTask);

impl<'de> Deserialize<'de> for SessionTask {
    /// Read as raw members, the goal added when absent, then as the task (`runtimeOptions` stay
    /// raw text; this is one small message per session).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut members =
            std::collections::BTreeMap::<String, Box<serde_json::value::RawValue>>::deserialize(d)?;
        if !members.contains_key("goal") {
            let empty = serde_json::value::RawValue::from_string("\"\"".into())
                .map_err(D::Error::custom)?;
            members.insert("goal".into(), empty);
        }
        let text = serde_json::to_string(&members).map_err(D::Error::custom)?;
        serde_json::from_str(&text)
            .map(SessionTask)
            .map_err(D::Error::custom)
    }
}

impl JsonSchema for SessionTask {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SessionTask".into()
    }

    /// `AgentTask`'s schema without `goal` among the required members.
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = AgentTask::json_schema(generator);
        if let Some(serde_json::Value::Array(required)) = schema.get_mut("required") {
            required.retain(|name| name != "goal");
        }
        if schema
            .get("required")
            .and_then(|r| r.as_array())
            .is_some_and(|r| r.is_empty())
        {
            schema.remove("required");
        }
        schema.insert(
            "description".into(),
            "An AgentTask whose `goal` may be left out (session/open sends nothing to the vendor)."
                .into(),
        );
        schema
    }
}
