//! The `claude` runtime: drives the Claude Code CLI (the engine the Claude Agent SDK drives) in
//! stream-json mode with its control protocol on stdin/stdout.
//!
//! - `command.rs` argv / env / the `initialize` request (large inputs off argv)
//! - `permissions.rs` our permissions → permission mode and tool rules
//! - `session.rs` one run's process: spawn, one turn, answer, wind down in the background
//! - `live.rs` a live session: one process, a turn per user message, per-turn model/mode
//! - `turn.rs` one turn: stdout loop, approvals, steering, interrupt
//! - `mapping.rs` stdout lines → events, the `result` line → AgentResult
//! - `artifacts.rs` files changed by the file tools
//! - `diagnose.rs` binary / version / credentials checks
//! - `wire.rs` the messages we write
//! - `options.rs` `runtimeOptions.claude`

mod answers;
mod artifacts;
mod bundled;
mod command;
mod diagnose;
mod env;
mod events;
mod live;
mod mapping;
mod options;
mod permissions;
mod session;
mod turn;
mod wire;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use super::{model_probe, LiveSession, OpenContext, RunContext, Runtime};
use crate::core::Refusal;
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::{AgentResult, TaskErrorKind};
use crate::protocol::runtime_info::{Capabilities, Diagnosis, DiagnosisStatus};
use crate::protocol::task::{AgentTask, ApprovalMode, Permissions, SandboxMode};
use options::ClaudeOptions;

pub const NAME: &str = "claude";

/// How long a passed `auth status` check (~0.2 s of CLI start-up) is reused.
const PREFLIGHT_TTL: Duration = Duration::from_secs(300);

/// Variables that give the CLI credentials by themselves: with one set (non-blank) the run needs
/// no `claude auth status` first; a wrong value fails the run with a clear auth error.
const CREDENTIAL_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
];

pub struct ClaudeRuntime {
    /// `--claude-path` / AGENT_RUNTIME_KIT_CLAUDE_PATH; else `claude` on PATH.
    configured: Option<PathBuf>,
    /// The last passed preflight: when, and for which extra environment.
    preflight_ok: Mutex<Option<(Instant, BTreeMap<String, String>)>>,
}

impl ClaudeRuntime {
    pub fn new(configured: Option<PathBuf>) -> Self {
        ClaudeRuntime {
            configured,
            preflight_ok: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Runtime for ClaudeRuntime {
    type Options = ClaudeOptions;
    type Plan = ClaudeOptions;

    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Claude Code CLI (the Claude Agent SDK's engine) in stream-json mode; approvals through \
         its control protocol"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Images as base64 `image` blocks, files as text blocks (claude/wire.rs).
            attachments: vec!["image".into(), "file".into()],
            // AskUserQuestion → `input/request` (answers.rs).
            questions: true,
            live_sessions: true,
            prewarm: true,
            // Text written during a turn reaches the model within it (turn.rs).
            steer: true,
            ..super::all_capabilities()
        }
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        let d = diagnose::check(
            self.configured.as_deref(),
            &env::vendor_env(&Default::default()),
        )
        .await;
        if !params.probe || d.status != DiagnosisStatus::Ready {
            return d;
        }
        self.probe(d, params.model.clone()).await
    }

    fn plan(
        &self,
        task: &AgentTask,
        _working_directory: &Path,
        opts: ClaudeOptions,
    ) -> Result<ClaudeOptions, Refusal> {
        let perms = task.permissions();
        command::check_argv_values(task, &opts)?;
        permissions::map(&perms, task.mcp_servers.as_ref())
            .map_err(|r| Refusal::unsupported(NAME, r.field, r.reason))?;
        if perms.sandbox == SandboxMode::FullAccess && running_as_root() {
            let sandboxed =
                opts.env.contains_key("IS_SANDBOX") || std::env::var_os("IS_SANDBOX").is_some();
            if !sandboxed {
                return Err(Refusal::unsupported(
                    NAME,
                    "task.permissions.sandbox",
                    "full-access maps to bypassPermissions, which the Claude CLI refuses as root \
                     unless IS_SANDBOX=1 says the machine is a sandbox (set it in the environment \
                     or runtimeOptions.claude.env if that is true)",
                ));
            }
        }
        if let Some(schema) = &task.output_schema {
            // Claude returns structured output as the input of a tool, which must be an object.
            if schema.get("type").and_then(Value::as_str) != Some("object") {
                return Err(Refusal::unsupported(
                    NAME,
                    "task.outputSchema",
                    "Claude produces structured output as a tool input, so the schema must have \
                     \"type\": \"object\"",
                ));
            }
        }
        Ok(opts)
    }

    /// No CLI start-up on the critical path: the binary is looked up (no spawn), and credentials
    /// in the environment are taken as they are (the run reports a rejected key precisely, see
    /// mapping.rs). The version comes from the run itself (`system/init`). Only without such a
    /// variable is `claude auth status` asked (a login in the config dir or keychain), cached.
    async fn preflight(&self, opts: &ClaudeOptions) -> Option<Diagnosis> {
        if let Err(d) = diagnose::locate(self.configured.as_deref()) {
            return Some(*d);
        }
        let venv = env::vendor_env(opts);
        if CREDENTIAL_VARS.iter().any(|v| venv.value(v).is_some()) {
            return None;
        }
        {
            let ok = self.preflight_ok.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(&*ok, Some((at, env)) if at.elapsed() < PREFLIGHT_TTL && *env == opts.env) {
                return None;
            }
        }
        let d = diagnose::check(self.configured.as_deref(), &venv).await;
        if d.status != DiagnosisStatus::Ready {
            return Some(d);
        }
        *self.preflight_ok.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), opts.env.clone()));
        None
    }

    async fn run(&self, ctx: RunContext, opts: ClaudeOptions) -> AgentResult {
        match diagnose::locate(self.configured.as_deref()) {
            Ok(binary) => session::run(&binary, ctx, opts).await,
            Err(d) => AgentResult::failed(TaskErrorKind::Process, d.message),
        }
    }

    async fn open(
        &self,
        ctx: OpenContext,
        opts: ClaudeOptions,
    ) -> Result<Box<dyn LiveSession>, AgentResult> {
        match diagnose::locate(self.configured.as_deref()) {
            Ok(binary) => live::open(&binary, ctx, opts).await,
            Err(d) => Err(AgentResult::failed(TaskErrorKind::Process, d.message)),
        }
    }
}

impl ClaudeRuntime {
    /// A one-turn task against the real model: says precisely whether the credentials and the
    /// model work.
    async fn probe(&self, ready: Diagnosis, model: Option<String>) -> Diagnosis {
        let Ok(binary) = diagnose::locate(self.configured.as_deref()) else {
            return ready;
        };
        let Ok(dir) = crate::private_dir::tempdir("ark-claude-probe-") else {
            return ready;
        };
        let task = AgentTask {
            goal: "Reply with the single word OK.".into(),
            model: model.clone(),
            max_turns: Some(1),
            permissions: Some(Permissions {
                sandbox: SandboxMode::ReadOnly,
                approvals: ApprovalMode::Deny,
                allowed_tools: Some(vec![]),
                disallowed_tools: None,
            }),
            ..Default::default()
        };
        // Fail fast: a probe is a yes/no question, not a job to get done.
        let opts = ClaudeOptions {
            max_retries: Some(0),
            ..Default::default()
        };
        let (ctx, stop) = model_probe::context(task, dir.path());
        let remedies = model_probe::Remedies {
            credentials: diagnose::CREDENTIALS_REMEDY,
            model: "Pick a model this account can use (task.model / diagnose --model), e.g. \
                    `sonnet` or `opus`.",
        };
        let run = session::run(&binary, ctx, opts);
        model_probe::run(ready, model.as_deref(), stop, remedies, run).await
    }
}

fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
