//! What a host asks for: the task (AgentTask) and how to run it (RunOptions).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// A coding task for an agent. Only `goal` is required (`session/open` accepts a task without it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentTask {
    /// The prompt. Never placed on a child's command line. `session/open` ignores it (and accepts
    /// a task without it); a `run` needs a non-empty goal unless `attachments` carry the request.
    pub goal: String,
    /// Images and files sent with the goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Replaces the vendor's system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Appended to the vendor's system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append_system_prompt: Option<String>,
    /// Must exist and be a directory. Default: the sidecar's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    /// Further directories the agent may read and write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_directories: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Default: `workspace-write` + `deny`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionRef>,
    /// name → server, in the shape Claude, Codex and MCP hosts already use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<BTreeMap<String, McpServer>>,
    /// A JSON Schema; the result's `structuredOutput` is validated against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_turns: Option<u32>,
    /// Wall-clock limit; past it the task ends with `finishReason: "timeout"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// No vendor output for this long → `finishReason: "timeout"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_ms: Option<u64>,
    /// Opaque; echoed back in `agent.task.started` and the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// One object per runtime name; only the chosen runtime's entry is read, and unknown keys in it are rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<BTreeMap<String, Value>>")]
    // Kept as the host's JSON text: the runtime parses its own entry into its typed options once
    // (a fixture script can be megabytes; no `Value` tree is built for it).
    pub runtime_options: Option<BTreeMap<String, Box<RawValue>>>,
}

impl AgentTask {
    pub fn permissions(&self) -> Permissions {
        self.permissions.clone().unwrap_or_default()
    }

    /// The session to continue, if any (`session.resume`).
    pub fn resume(&self) -> Option<&str> {
        self.session.as_ref()?.resume.as_deref()
    }

    /// Whether a resumed session is branched instead of appended to.
    pub fn fork(&self) -> bool {
        self.resume().is_some() && self.session.as_ref().is_some_and(|s| s.fork)
    }

    /// Whether the host asked to keep the vendor process after the turn.
    pub fn keep_alive(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.keep_alive)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    ReadOnly,
    #[default]
    WorkspaceWrite,
    FullAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ApprovalMode {
    /// Anything that would need approval is refused and reported as a denied tool call.
    #[default]
    Deny,
    /// Each approval is forwarded to the host as an `approval/request`.
    Host,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permissions {
    #[serde(default)]
    pub sandbox: SandboxMode,
    #[serde(default)]
    pub approvals: ApprovalMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallowed_tools: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionRef {
    /// The session id a previous result reported. A live session of this sidecar runs the turn in
    /// its running vendor process; any other id is resumed cold from the vendor's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    /// Continue in a new session branched from `resume` instead of appending to it.
    #[serde(default)]
    pub fork: bool,
    /// Keep the vendor process, and the conversation in it, alive after the turn.
    #[serde(default)]
    pub keep_alive: bool,
    /// A live session with no turn for this long is closed (default 600000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub idle_timeout_ms: Option<u64>,
}

impl SessionRef {
    pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 10 * 60 * 1000;

    pub fn idle_timeout_ms(&self) -> u64 {
        self.idle_timeout_ms
            .unwrap_or(Self::DEFAULT_IDLE_TIMEOUT_MS)
            .max(1)
    }
}

/// An image or file sent with the goal: an image from `path` (relative to `workingDirectory`) or
/// inline base64 `data`; a file from `path`, read by the sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: AttachmentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Base64 (standard alphabet); images only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`; guessed from the file when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AttachmentKind {
    Image,
    File,
}

impl Attachment {
    /// The `type` tag, as `capabilities.attachments` lists it.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            AttachmentKind::Image => "image",
            AttachmentKind::File => "file",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum McpServer {
    Stdio(McpStdioServer),
    Http(McpHttpServer),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpStdioServer {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub transport: Option<StdioTag>,
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpHttpServer {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub transport: Option<HttpTag>,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StdioTag {
    Stdio,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpTag {
    Http,
}

impl McpServer {
    pub fn transport_name(&self) -> &'static str {
        match self {
            McpServer::Stdio(_) => "stdio",
            McpServer::Http(_) => "http",
        }
    }
}

/// How the sidecar runs the task (not what the agent does).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunOptions {
    /// Also emit `agent.vendor.event` with each raw vendor message.
    #[serde(default)]
    pub include_vendor_events: bool,
    /// String fields longer than this are truncated (default 8192).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 64))]
    pub max_field_bytes: Option<usize>,
    /// How long an `approval/request` may wait for the host before it counts as a deny (default 300000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_ms: Option<u64>,
}

impl RunOptions {
    pub const DEFAULT_MAX_FIELD_BYTES: usize = 8 * 1024;
    pub const DEFAULT_APPROVAL_TIMEOUT_MS: u64 = 5 * 60 * 1000;

    pub fn max_field_bytes(&self) -> usize {
        self.max_field_bytes
            .unwrap_or(Self::DEFAULT_MAX_FIELD_BYTES)
            .max(64)
    }

    pub fn approval_timeout_ms(&self) -> u64 {
        self.approval_timeout_ms
            .unwrap_or(Self::DEFAULT_APPROVAL_TIMEOUT_MS)
    }
}
