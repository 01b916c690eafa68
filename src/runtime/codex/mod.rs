//! The Codex runtime: drives the native `codex` binary through `codex app-server` (the thread/turn
//! API the Codex SDKs use) over stdio.
//!
//! Files: `command.rs` finds the binary and builds its command line, `options.rs` is
//! `runtimeOptions.codex`, `client.rs` the app-server JSON-RPC client, `session.rs` one process
//! from handshake to exit and one turn on it, `live.rs` a live session (the process kept between
//! turns), `mapping.rs` codex notifications → our events, `approvals.rs` codex's requests
//! to us, `errors.rs` codex errors → our kinds, `artifacts.rs` what changed on disk, `mcp.rs` MCP
//! servers as codex config, `diagnose.rs` binary/version/credential checks.

mod approvals;
mod artifacts;
mod client;
mod command;
mod diagnose;
mod env;
mod errors;
mod events;
mod input;
mod live;
mod mapping;
mod mcp;
mod options;
mod questions;
mod session;

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{LiveSession, OpenContext, RunContext, Runtime};
use crate::core::Refusal;
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::{AgentResult, TaskErrorKind};
use crate::protocol::runtime_info::{Capabilities, Diagnosis};
use crate::protocol::task::{AgentTask, ApprovalMode};

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
    type Options = CodexOptions;
    type Plan = CodexOptions;

    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "OpenAI Codex CLI, driven through `codex app-server` (needs the codex binary and an \
         OpenAI API key, a `codex login`, or a configured provider)"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Codex has no per-tool allow/deny list for its built-in tools.
            tool_filters: false,
            usage_cost: false,
            // `image` (data URL) and `text` turn/start input items (codex/input.rs).
            attachments: vec!["image".into(), "file".into()],
            // requestUserInput and simple MCP elicitation forms (questions.rs).
            questions: true,
            // One app-server keeps the thread loaded between turns (`turn/start` per turn,
            // `turn/interrupt`, `turn/steer`).
            live_sessions: true,
            steer: true,
            prewarm: true,
            ..super::all_capabilities()
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

    fn plan(
        &self,
        task: &AgentTask,
        _working_directory: &Path,
        opts: CodexOptions,
    ) -> Result<CodexOptions, Refusal> {
        opts.check()?;
        if opts.host_approval_policy.is_some() && task.permissions().approvals != ApprovalMode::Host
        {
            return Err(Refusal::unsupported(
                NAME,
                format!("task.runtimeOptions.{NAME}.hostApprovalPolicy"),
                "only applies with permissions.approvals \"host\"",
            ));
        }
        Ok(opts)
    }

    /// No process on the first task's critical path when a key is set: the version is learned
    /// from `initialize` (and probed in the background for the next tasks).
    async fn preflight(&self, opts: &CodexOptions) -> Option<Diagnosis> {
        let (path, version) = match diagnose::binary_for_task(self.configured.as_deref()).await {
            Ok(b) => b,
            Err(d) => return Some(d),
        };
        diagnose::credentials(&path, version.as_deref(), opts)
            .await
            .err()
            .map(|d| *d)
    }

    async fn run(&self, ctx: RunContext, opts: CodexOptions) -> AgentResult {
        match command::resolve(self.configured.as_deref()) {
            Some(binary) => session::run(binary, ctx, opts).await,
            None => AgentResult::failed(TaskErrorKind::Process, "the codex binary is gone"),
        }
    }

    async fn open(
        &self,
        ctx: OpenContext,
        opts: CodexOptions,
    ) -> Result<Box<dyn LiveSession>, AgentResult> {
        match command::resolve(self.configured.as_deref()) {
            Some(binary) => live::open(binary, ctx, opts).await,
            None => Err(AgentResult::failed(
                TaskErrorKind::Process,
                "the codex binary is gone",
            )),
        }
    }
}
