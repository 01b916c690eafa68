//! The `claude` runtime: drives the Claude Code CLI (the engine the Claude Agent SDK drives) in
//! stream-json mode with its control protocol on stdin/stdout.
//!
//! - `command.rs` argv / env / the `initialize` request (large inputs off argv)
//! - `permissions.rs` our permissions → permission mode and tool rules
//! - `session.rs` the process: stdin writer, stdout loop, approvals, cancel, wind-down
//! - `mapping.rs` stdout lines → events, the `result` line → AgentResult
//! - `artifacts.rs` files changed by the file tools
//! - `diagnose.rs` binary / version / credentials checks
//! - `wire.rs` the messages we write
//! - `options.rs` `runtimeOptions.claude`

pub mod artifacts;
pub mod command;
pub mod diagnose;
pub mod mapping;
pub mod options;
pub mod permissions;
pub mod session;
pub mod wire;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Approvals, EventOutput, EventSink, RunContext, Runtime, Stop};
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::{AgentResult, FinishReason, TaskErrorKind};
use crate::protocol::runtime_info::{Capabilities, Diagnosis, DiagnosisStatus, RuntimeInfo};
use crate::protocol::task::{AgentTask, ApprovalMode, Permissions, RunOptions, SandboxMode};
use crate::protocol::RpcError;
use options::ClaudeOptions;

pub const NAME: &str = "claude";

/// How long `diagnose` with `probe: true` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a passed preflight (version + `auth status`, ~0.5 s of CLI start-ups) is reused.
const PREFLIGHT_TTL: Duration = Duration::from_secs(300);

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
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            name: NAME.into(),
            description: "Claude Code CLI (the Claude Agent SDK's engine) in stream-json mode; \
                          approvals through its control protocol"
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
                tool_filters: true,
                resume: true,
                fork: true,
                mcp: vec!["stdio".into(), "http".into()],
                structured_output: true,
                system_prompt: true,
                append_system_prompt: true,
                additional_directories: true,
                max_turns: true,
                models: None,
                usage_cost: true,
            },
            options: ClaudeOptions::schema(),
        }
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        let d = diagnose::check(self.configured.as_deref(), &Default::default()).await;
        if !params.probe || d.status != DiagnosisStatus::Ready {
            return d;
        }
        self.probe(d, params.model.clone()).await
    }

    fn validate(&self, task: &AgentTask) -> Result<(), RpcError> {
        let perms = task.permissions();
        command::check_argv_values(
            task,
            &ClaudeOptions::from_value(&task.runtime_options_for(NAME)),
        )?;
        permissions::map(&perms, task.mcp_servers.as_ref())
            .map_err(|r| RpcError::unsupported(NAME, &r.field, r.reason))?;
        if perms.sandbox == SandboxMode::FullAccess && running_as_root() {
            let opts = ClaudeOptions::from_value(&task.runtime_options_for(NAME));
            let sandboxed =
                opts.env.contains_key("IS_SANDBOX") || std::env::var_os("IS_SANDBOX").is_some();
            if !sandboxed {
                return Err(RpcError::unsupported(
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
                return Err(RpcError::unsupported(
                    NAME,
                    "task.outputSchema",
                    "Claude produces structured output as a tool input, so the schema must have \
                     \"type\": \"object\"",
                ));
            }
        }
        Ok(())
    }

    async fn preflight(&self, task: &AgentTask) -> Option<Diagnosis> {
        let opts = ClaudeOptions::from_value(&task.runtime_options_for(NAME));
        {
            let ok = self.preflight_ok.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(&*ok, Some((at, env)) if at.elapsed() < PREFLIGHT_TTL && *env == opts.env) {
                return None;
            }
        }
        let d = diagnose::check(self.configured.as_deref(), &opts.env).await;
        if d.status != DiagnosisStatus::Ready {
            return Some(d);
        }
        *self.preflight_ok.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), opts.env));
        None
    }

    async fn run(&self, ctx: RunContext) -> AgentResult {
        let binary = match diagnose::locate(self.configured.as_deref()) {
            Ok(b) => b,
            Err(d) => {
                return AgentResult {
                    finish_reason: FinishReason::Error,
                    error: Some(crate::protocol::TaskError::new(
                        TaskErrorKind::Process,
                        d.message,
                    )),
                    ..Default::default()
                }
            }
        };
        session::run(&binary, ctx).await
    }
}

impl ClaudeRuntime {
    /// A one-turn task against the real model: says precisely whether the credentials and the
    /// model work.
    async fn probe(&self, ready: Diagnosis, model: Option<String>) -> Diagnosis {
        let Ok(binary) = diagnose::locate(self.configured.as_deref()) else {
            return ready;
        };
        let Ok(dir) = tempfile::Builder::new()
            .prefix("ark-claude-probe-")
            .tempdir()
        else {
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
            // Fail fast: a probe is a yes/no question, not a job to get done.
            runtime_options: Some([(NAME.to_string(), json!({ "maxRetries": 0 }))].into()),
            ..Default::default()
        };
        let options = RunOptions::default();
        let events = EventSink::new("probe".into(), Arc::new(Discard), &options);
        let stop = Stop::default();
        let ctx = RunContext {
            task_id: "probe".into(),
            runtime_options: task.runtime_options_for(NAME),
            working_directory: dir.path().to_path_buf(),
            approvals: Approvals::new(
                ApprovalMode::Deny,
                None,
                Duration::from_secs(1),
                events.clone(),
                stop.clone(),
            ),
            task,
            options,
            events,
            stop: stop.clone(),
            prepared: None,
        };
        let run = session::run(&binary, ctx);
        tokio::pin!(run);
        let result = tokio::select! {
            r = &mut run => r,
            _ = tokio::time::sleep(PROBE_TIMEOUT) => {
                stop.stop(super::StopReason::Timeout);
                run.await
            }
        };
        let model_name = model.unwrap_or_else(|| "the default model".into());
        let (status, message) = match (&result.finish_reason, &result.error) {
            (FinishReason::Completed | FinishReason::MaxTurns, _) => (
                DiagnosisStatus::Ready,
                format!("Claude Code answered a probe with {model_name}."),
            ),
            (_, Some(e)) => {
                let status = match e.kind {
                    TaskErrorKind::Auth => DiagnosisStatus::MissingCredentials,
                    TaskErrorKind::Model => DiagnosisStatus::UnsupportedModel,
                    _ => DiagnosisStatus::Error,
                };
                (
                    status,
                    format!("The probe with {model_name} failed: {}", e.message),
                )
            }
            (reason, None) => (
                DiagnosisStatus::Error,
                format!("The probe with {model_name} ended with {reason:?}."),
            ),
        };
        let remedy = match status {
            DiagnosisStatus::MissingCredentials => Some(diagnose::CREDENTIALS_REMEDY.to_string()),
            DiagnosisStatus::UnsupportedModel => Some(
                "Pick a model this account can use (task.model / diagnose --model), e.g. `sonnet` or `opus`."
                    .to_string(),
            ),
            _ => None,
        };
        Diagnosis {
            status,
            message,
            remedy,
            ..ready
        }
    }
}

/// Probe events go nowhere.
struct Discard;

#[async_trait]
impl EventOutput for Discard {
    async fn send(&self, _event: Value) {}
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
