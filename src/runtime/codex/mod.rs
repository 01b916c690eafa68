//! The Codex runtime: drives the native `codex` binary through `codex app-server` (the thread/turn
//! API the Codex SDKs use) over stdio.
//!
//! Files: `command.rs` finds the binary and builds its command line, `options.rs` is
//! `runtimeOptions.codex`, `client.rs` the app-server JSON-RPC client, `session.rs` one task from
//! handshake to exit, `mapping.rs` codex notifications → our events, `approvals.rs` codex's requests
//! to us, `errors.rs` codex errors → our kinds, `artifacts.rs` what changed on disk, `mcp.rs` MCP
//! servers as codex config, `diagnose.rs` binary/version/credential checks.

mod approvals;
mod artifacts;
mod client;
mod command;
mod diagnose;
mod errors;
mod mapping;
mod mcp;
mod options;
mod session;

use std::path::PathBuf;

use async_trait::async_trait;

use super::{RunContext, Runtime};
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::AgentResult;
use crate::protocol::runtime_info::{Capabilities, Diagnosis, RuntimeInfo};
use crate::protocol::task::{AgentTask, ApprovalMode, SandboxMode};
use crate::protocol::RpcError;

pub use options::CodexOptions;

pub const NAME: &str = "codex";

pub struct CodexRuntime {
    /// `--codex-path` / `AGENT_RUNTIME_KIT_CODEX_PATH`; else `codex` on PATH.
    configured: Option<PathBuf>,
}

impl CodexRuntime {
    pub fn new(configured: Option<PathBuf>) -> Self {
        CodexRuntime { configured }
    }
}

#[async_trait]
impl Runtime for CodexRuntime {
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            name: NAME.into(),
            description: "OpenAI Codex CLI, driven through `codex app-server` (needs the codex \
                          binary and an OpenAI API key, a `codex login`, or a configured provider)"
                .into(),
            capabilities: Capabilities {
                streaming: true,
                tool_events: true,
                approvals: vec![ApprovalMode::Deny, ApprovalMode::Host],
                sandbox_modes: vec![
                    SandboxMode::ReadOnly,
                    SandboxMode::WorkspaceWrite,
                    SandboxMode::FullAccess,
                ],
                // Codex has no per-tool allow/deny list for its built-in tools.
                tool_filters: false,
                resume: true,
                fork: true,
                mcp: vec!["stdio".into(), "http".into()],
                structured_output: true,
                system_prompt: true,
                append_system_prompt: true,
                additional_directories: true,
                max_turns: true,
                models: None,
                usage_cost: false,
            },
            options: serde_json::to_value(schemars::schema_for!(CodexOptions))
                .expect("schema serializes"),
        }
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        diagnose::diagnose(
            self.configured.as_deref(),
            params.model.as_deref(),
            params.probe,
        )
        .await
    }

    fn validate(&self, task: &AgentTask) -> Result<(), RpcError> {
        let opts = CodexOptions::parse(&task.runtime_options_for(NAME))?;
        if opts.host_approval_policy.is_some() && task.permissions().approvals != ApprovalMode::Host
        {
            return Err(RpcError::unsupported(
                NAME,
                &format!("task.runtimeOptions.{NAME}.hostApprovalPolicy"),
                "only applies with permissions.approvals \"host\"",
            ));
        }
        Ok(())
    }

    async fn preflight(&self, task: &AgentTask) -> Option<Diagnosis> {
        let opts = CodexOptions::parse(&task.runtime_options_for(NAME)).ok()?;
        let (path, version) = match diagnose::binary(self.configured.as_deref()).await {
            Ok(b) => b,
            Err(d) => return Some(d),
        };
        diagnose::credentials(&path, &version, &opts)
            .await
            .err()
            .map(|d| *d)
    }

    async fn run(&self, ctx: RunContext) -> AgentResult {
        match command::resolve(self.configured.as_deref()) {
            Some(binary) => session::run(binary, ctx).await,
            None => AgentResult {
                finish_reason: crate::protocol::result::FinishReason::Error,
                error: Some(crate::protocol::result::TaskError::new(
                    crate::protocol::result::TaskErrorKind::Process,
                    "the codex binary is gone",
                )),
                ..Default::default()
            },
        }
    }
}
