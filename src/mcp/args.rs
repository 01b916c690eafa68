//! The tools' arguments, as Rust types: their JSON Schemas (the tools' `inputSchema`) are
//! generated from these with schemars, like `protocol/schema`, and they are parsed with the same
//! path-naming parser as JSON-RPC params, so a bad argument is named the way `run` names it.
//!
//! `run_task` takes the task's fields flat (what a model filling in a tool call handles best),
//! with `resume`/`fork` in place of the nested `session`; [`RunTaskArgs::into_run_params`] builds
//! the same `RunParams` a JSON-RPC host would send.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::methods::{CapabilitiesParams, DiagnoseParams, RunParams};
use crate::protocol::task::{AgentTask, McpServer, Permissions, SessionRef};
use crate::protocol::RpcError;

/// Runs one coding task to its end and returns its result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunTaskArgs {
    /// Which agent does the work: claude, codex, antigravity, or fixture (a scripted replay that
    /// needs no account). Default: the server's `--runtime`, if it was started with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// What the agent should do (the prompt).
    pub goal: String,
    /// The directory the agent works in. Must exist. Default: the server's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    /// The model (runtime-specific name). Default: the vendor's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sandbox and tool restrictions. Default: workspace-write, approvals deny. `approvals: "host"`
    /// asks the client's user through elicitation forms (needs the elicitation capability and the
    /// server's --allow-host-approvals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// A JSON Schema; the agent's final answer is returned as `structuredOutput` matching it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Continue this session (the `sessionId` of an earlier result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    /// With `resume`: continue in a new session branched from it instead of appending to it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fork: bool,
    /// Keep the agent's process, and the conversation in it, alive after this task (runtimes
    /// with live sessions): a later `run_task` with `resume` set to this result's `sessionId`
    /// continues it at once. Implied when `resume` names a live session.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_alive: bool,
    /// Replaces the vendor's system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Appended to the vendor's system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append_system_prompt: Option<String>,
    /// Further directories the agent may read and write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_directories: Option<Vec<String>>,
    /// MCP servers the agent may use, name → server (the shape MCP hosts use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<BTreeMap<String, McpServer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_turns: Option<u32>,
    /// Wall-clock limit in milliseconds; past it the task ends with `finishReason: "timeout"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// No vendor output for this long (ms) → `finishReason: "timeout"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_ms: Option<u64>,
    /// One object per runtime name; only the chosen runtime's entry is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_options: Option<BTreeMap<String, Value>>,
    /// Opaque; echoed back in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl RunTaskArgs {
    /// The `run` params for these arguments. `default_runtime` is the server's `--runtime`.
    pub fn into_run_params(
        self,
        task_id: String,
        default_runtime: Option<&str>,
    ) -> Result<RunParams, RpcError> {
        let runtime = match (self.runtime, default_runtime) {
            (Some(r), _) => r,
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(RpcError::invalid_params(
                    "runtime",
                    "missing field `runtime` (the server was started without --runtime)",
                ))
            }
        };
        let session = match (self.resume, self.fork) {
            (Some(resume), fork) => Some(SessionRef {
                resume: Some(resume),
                fork,
                keep_alive: self.keep_alive,
                ..Default::default()
            }),
            (None, false) if self.keep_alive => Some(SessionRef {
                keep_alive: true,
                ..Default::default()
            }),
            (None, true) => {
                return Err(RpcError::invalid_params(
                    "fork",
                    "fork needs resume (the session to branch from)",
                ))
            }
            (None, false) => None,
        };
        Ok(RunParams {
            task_id: Some(task_id),
            runtime,
            task: AgentTask {
                goal: self.goal,
                attachments: None,
                system_prompt: self.system_prompt,
                append_system_prompt: self.append_system_prompt,
                working_directory: self.working_directory,
                additional_directories: self.additional_directories,
                model: self.model,
                permissions: self.permissions,
                session,
                mcp_servers: self.mcp_servers,
                output_schema: self.output_schema,
                max_turns: self.max_turns,
                timeout_ms: self.timeout_ms,
                idle_timeout_ms: self.idle_timeout_ms,
                metadata: self.metadata,
                // Values that came in as JSON go back to text without fail.
                runtime_options: self.runtime_options.map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (k, serde_json::value::to_raw_value(&v).expect("JSON")))
                        .collect()
                }),
            },
            options: None,
        })
    }
}

/// `list_runtimes`: the capabilities answer, for one runtime or all.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRuntimesArgs {
    /// Only this runtime (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
}

impl From<ListRuntimesArgs> for CapabilitiesParams {
    fn from(a: ListRuntimesArgs) -> Self {
        CapabilitiesParams { runtime: a.runtime }
    }
}

/// `diagnose` takes exactly the JSON-RPC method's params.
pub type DiagnoseArgs = DiagnoseParams;

/// Maps a path in `RunParams` (what the core names in its errors) to the `run_task` argument
/// it came from: `task.permissions.sandbox` → `permissions.sandbox`, `task.session.resume` →
/// `resume`.
pub fn argument_path(core_path: &str) -> String {
    let p = core_path.strip_prefix("task.").unwrap_or(core_path);
    match p.strip_prefix("session.") {
        Some(rest) => rest.to_string(),
        None if p == "task" => String::new(),
        None => p.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_argument() {
        assert_eq!(
            argument_path("task.permissions.sandbox"),
            "permissions.sandbox"
        );
        assert_eq!(argument_path("task.session.resume"), "resume");
        assert_eq!(argument_path("task.workingDirectory"), "workingDirectory");
        assert_eq!(argument_path("runtime"), "runtime");
    }

    #[test]
    fn fork_without_resume_is_refused() {
        let args = RunTaskArgs {
            goal: "x".into(),
            fork: true,
            ..Default::default()
        };
        let e = args
            .into_run_params("t".into(), Some("fixture"))
            .unwrap_err();
        assert_eq!(e.data["path"], "fork");
    }
}
