//! The bridge's messages (see `bridge.py`): the task we send on its stdin, the JSON lines it
//! writes on stdout. Step fields are the SDK's `Step` (snake_case, defaults omitted), so every
//! field has a default.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The first stdin line: everything the bridge needs to build the SDK's `LocalAgentConfig`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeTask {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub goal: String,
    pub working_directory: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_directories: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub append_system_prompt: Option<String>,
    /// `read-only`, `workspace-write` or `full-access`.
    pub sandbox: &'static str,
    pub conversation_id: String,
    pub resume: bool,
    pub save_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_data_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mcp_servers: Vec<BridgeMcpServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
    pub api_retries: u32,
    pub retry_initial_delay_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_model_calls: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vertex: Option<VertexSettings>,
    /// A live session: the SDK conversation stays open and takes [`BridgeTurn`]s; `goal` is
    /// not sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
    /// Offer the agent the ask_question tool; its questions come as [`QuestionAsk`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub questions: bool,
    /// Images sent with the goal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<BridgeImage>,
}

/// An image for the SDK's `types.Image` content part.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeImage {
    pub media_type: String,
    /// Standard base64.
    pub data: String,
}

/// A live session's next turn, on the bridge's stdin.
#[derive(Debug, Clone, Serialize)]
pub struct BridgeTurn<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub goal: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<BridgeImage>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BridgeMcpServer {
    Stdio {
        name: String,
        command: String,
        args: Vec<String>,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        env: std::collections::BTreeMap<String, String>,
    },
    Http {
        name: String,
        url: String,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        headers: std::collections::BTreeMap<String, String>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VertexSettings {
    /// Google Cloud project (default: `GOOGLE_CLOUD_PROJECT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Google Cloud location, e.g. `us-central1` (default: `GOOGLE_CLOUD_LOCATION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One stdout line of the bridge.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum BridgeEvent {
    Started(Started),
    Step {
        step: Step,
    },
    Approval(ApprovalAsk),
    Question(QuestionAsk),
    TurnEnd(TurnEnd),
    Cancelled,
    Error(BridgeError),
    /// A live session's turn is over (after its `turnEnd`, `cancelled` or `error`). `last`:
    /// the bridge ends the session now (the turn failed, or a cancel did not stop it).
    TurnDone {
        #[serde(default)]
        last: bool,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub session_id: String,
    #[serde(default)]
    pub sdk_version: Option<String>,
    #[serde(default)]
    pub sandbox_available: Option<bool>,
}

/// The SDK's `Step`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Step {
    pub id: String,
    pub step_index: u64,
    pub trajectory_id: String,
    pub parent_trajectory_id: String,
    pub depth: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub target: String,
    pub status: String,
    pub content: String,
    pub content_delta: String,
    pub thinking: String,
    pub thinking_delta: String,
    pub tool_calls: Vec<SdkToolCall>,
    pub error: String,
    pub structured_output: Option<Value>,
    /// Only on SYSTEM error steps: the model API's HTTP status.
    pub http_code: u16,
    /// The agent's response is complete (set on its final text step): for a child trajectory,
    /// the sub-agent is done.
    pub is_complete_response: bool,
}

impl Step {
    pub fn is_model(&self) -> bool {
        self.source == "MODEL"
    }
    pub fn is_top_level(&self) -> bool {
        self.depth == 0 && self.parent_trajectory_id.is_empty()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SdkToolCall {
    pub name: String,
    pub args: Value,
    pub id: Option<String>,
    pub step_id: Option<String>,
    pub canonical_path: Option<String>,
    pub server_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalAsk {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub server_name: Option<String>,
    #[serde(default)]
    pub args: Value,
}

/// The sidecar's answer to an [`ApprovalAsk`].
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalReply<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: &'a str,
    pub decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

/// The agent's ask_question, from the SDK's interaction hook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionAsk {
    pub id: String,
    #[serde(default)]
    pub questions: Vec<SdkQuestion>,
}

/// The SDK's `AskQuestionEntry` (option ids are "1", "2", …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SdkQuestion {
    pub question: String,
    pub options: Vec<SdkOption>,
    pub is_multi_select: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SdkOption {
    pub id: String,
    pub text: String,
}

/// The sidecar's answer to a [`QuestionAsk`]: one response per question, or a decline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswersReply<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responses: Option<Vec<QuestionResponse>>,
    /// Why nobody answered (the model is told).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declined: Option<String>,
}

/// The SDK's `QuestionResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub selected_option_ids: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub freeform_response: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TurnEnd {
    pub usage: Option<SdkUsage>,
    pub total_usage: Option<SdkUsage>,
    pub stop_reason: Option<String>,
    pub structured_output: Option<Value>,
    pub turn_count: Option<u32>,
}

/// The SDK's `UsageMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SdkUsage {
    pub prompt_token_count: u64,
    pub cached_content_token_count: u64,
    pub candidates_token_count: u64,
    pub thoughts_token_count: u64,
    pub total_token_count: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeError {
    /// The bridge's classification: validation, auth, execution, config, harnessMissing,
    /// packageMissing, sessionNotFound, protocol, internal.
    pub kind: String,
    #[serde(default)]
    pub exception: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub traceback: Option<String>,
}

/// `bridge.py --check`: the installation, without importing the SDK.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckInfo {
    pub bridge_protocol: u32,
    pub python: String,
    pub python_ok: bool,
    pub sdk_version: Option<String>,
    pub harness_path: Option<String>,
    pub harness_exists: bool,
}
