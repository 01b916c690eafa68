//! The `antigravity` runtime: tasks run through Google's `google-antigravity` Python SDK.
//!
//! The SDK (whose wheel bundles the Go `localharness` agent that calls the model) is driven by a
//! small Python bridge shipped inside this binary (`bridge.py`): one bridge process per task, the
//! task on its stdin, one JSON event per line on its stdout. The bridge uses only the SDK's
//! public API; its internal harness protocol is not ours to drive.
//!
//! Files: `command.rs` (Python, bridge install, environment and state dirs), `wire.rs` (bridge
//! messages), `mapping.rs` (SDK steps → our events, errors, artifacts), `run.rs` (one task),
//! `diagnose.rs` (installation and credential checks), `options.rs` (`runtimeOptions.antigravity`).

mod command;
mod diagnose;
mod mapping;
mod options;
mod run;
mod wire;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{Approvals, EventOutput, EventSink, RunContext, Runtime, Stop};
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::{AgentResult, FinishReason, TaskErrorKind};
use crate::protocol::runtime_info::{Capabilities, Diagnosis, DiagnosisStatus, RuntimeInfo};
use crate::protocol::task::{AgentTask, ApprovalMode, Permissions, RunOptions, SandboxMode};
use crate::protocol::RpcError;
use options::AntigravityOptions;

pub const NAME: &str = "antigravity";

pub struct AntigravityRuntime {
    /// `--antigravity-python`, when given.
    python: Option<PathBuf>,
    /// Installations that checked out, by Python path (a run does not re-check each time).
    checked: Mutex<HashMap<PathBuf, wire::CheckInfo>>,
}

impl AntigravityRuntime {
    pub fn new(python: Option<PathBuf>) -> Self {
        AntigravityRuntime {
            python,
            checked: Mutex::new(HashMap::new()),
        }
    }

    async fn installation(&self) -> Result<(PathBuf, wire::CheckInfo), Diagnosis> {
        if let Ok(python) = command::resolve_python(self.python.as_deref()) {
            if let Some(info) = self.checked.lock().unwrap().get(&python) {
                return Ok((python, info.clone()));
            }
        }
        let (python, info) = diagnose::installation(self.python.as_deref()).await?;
        self.checked
            .lock()
            .unwrap()
            .insert(python.clone(), info.clone());
        Ok((python, info))
    }

    /// `probe: true`: a one-turn task against the model, read-only, in a scratch directory.
    async fn probe(
        &self,
        python: PathBuf,
        info: &wire::CheckInfo,
        model: Option<String>,
    ) -> Diagnosis {
        let binary = diagnose::binary_info(&python, info);
        let scratch =
            std::env::temp_dir().join(format!("agent-runtime-kit-probe-{}", uuid::Uuid::new_v4()));
        if let Err(e) = std::fs::create_dir_all(&scratch) {
            return diagnose::with_status(
                DiagnosisStatus::Error,
                binary,
                format!("cannot create {}: {e}", scratch.display()),
                None,
            );
        }
        let task = AgentTask {
            goal: "Reply with the single word: ok".into(),
            model: model.clone(),
            permissions: Some(Permissions {
                sandbox: SandboxMode::ReadOnly,
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = RunOptions::default();
        let events = EventSink::new("probe".into(), Arc::new(Discard), &options);
        let stop = Stop::default();
        let ctx = RunContext {
            task_id: format!("probe-{}", uuid::Uuid::new_v4()),
            task,
            options,
            runtime_options: serde_json::json!({ "apiRetries": 0, "stateDir": scratch.join("state").display().to_string() }),
            working_directory: scratch.clone(),
            approvals: Approvals::new(
                ApprovalMode::Deny,
                None,
                Duration::from_secs(1),
                events.clone(),
                stop.clone(),
            ),
            events,
            stop: stop.clone(),
            prepared: None,
        };
        let result = tokio::select! {
            r = run::run(python, ctx) => Some(r),
            _ = tokio::time::sleep(Duration::from_secs(90)) => { stop.stop(super::StopReason::Timeout); None }
        };
        let _ = std::fs::remove_dir_all(&scratch);
        let model = model.unwrap_or_else(|| "the default model".into());
        let Some(result) = result else {
            return diagnose::with_status(
                DiagnosisStatus::Error,
                binary,
                "the probe did not answer within 90 s".into(),
                None,
            );
        };
        match (result.finish_reason, result.error) {
            (FinishReason::Completed, _) => diagnose::with_status(
                DiagnosisStatus::Ready,
                binary,
                format!("{model} answered a one-turn probe"),
                None,
            ),
            (_, Some(e)) => {
                let status = match e.kind {
                    TaskErrorKind::Model => DiagnosisStatus::UnsupportedModel,
                    TaskErrorKind::Auth => DiagnosisStatus::MissingCredentials,
                    _ => DiagnosisStatus::Error,
                };
                let remedy = match status {
                    DiagnosisStatus::UnsupportedModel => Some(
                        "pick another model (e.g. the SDK's default) with --model / task.model",
                    ),
                    DiagnosisStatus::MissingCredentials => {
                        Some("check GEMINI_API_KEY (or the Vertex AI settings)")
                    }
                    _ => None,
                };
                diagnose::with_status(
                    status,
                    binary,
                    format!("the probe of {model} failed: {}", e.message),
                    remedy,
                )
            }
            (r, None) => diagnose::with_status(
                DiagnosisStatus::Error,
                binary,
                format!("the probe ended with {r:?}"),
                None,
            ),
        }
    }
}

/// Events of a probe go nowhere.
struct Discard;

#[async_trait]
impl EventOutput for Discard {
    async fn send(&self, _event: Value) {}
}

#[async_trait]
impl Runtime for AntigravityRuntime {
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            name: NAME.into(),
            description: "Google Antigravity: the google-antigravity Python SDK and its bundled \
                          localharness agent, with Gemini (API key) or Vertex AI"
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
                tool_filters: false,
                resume: true,
                fork: false,
                mcp: vec!["stdio".into(), "http".into()],
                structured_output: true,
                system_prompt: true,
                append_system_prompt: true,
                additional_directories: true,
                max_turns: true,
                models: None,
                usage_cost: false,
            },
            options: AntigravityOptions::schema(),
        }
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        // A fresh check: the user may have just installed something.
        let (python, info) = match diagnose::installation(self.python.as_deref()).await {
            Ok(x) => x,
            Err(d) => return d,
        };
        let binary = diagnose::binary_info(&python, &info);
        let what = match diagnose::credentials(&AntigravityOptions::default()) {
            Ok(w) => w,
            Err(m) => return diagnose::missing_credentials(m, binary),
        };
        if params.probe {
            return self.probe(python, &info, params.model.clone()).await;
        }
        diagnose::ready(binary, what)
    }

    fn validate(&self, task: &AgentTask) -> Result<(), RpcError> {
        let opts = AntigravityOptions::from_value(&task.runtime_options_for(NAME))
            .map_err(|e| RpcError::invalid_params("task.runtimeOptions.antigravity", e))?;
        if opts.vertex.is_some() && opts.base_url.is_some() {
            return Err(RpcError::unsupported(
                NAME,
                "task.runtimeOptions.antigravity.baseUrl",
                "a base URL applies to the Gemini API, not to Vertex AI",
            ));
        }
        if let Some(s) = &task.session {
            // The SDK's rule for conversation ids; ours are UUIDs.
            let ok = s.resume.len() >= 32
                && s.resume
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(RpcError::invalid_params(
                    "task.session.resume",
                    "not an Antigravity session id (at least 32 characters of [A-Za-z0-9-])",
                ));
            }
        }
        for name in task.mcp_servers.iter().flatten().map(|(n, _)| n) {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(RpcError::unsupported(
                    NAME,
                    &format!("task.mcpServers.{name}"),
                    "the SDK accepts MCP server names of [A-Za-z0-9_-] only",
                ));
            }
        }
        Ok(())
    }

    async fn preflight(&self, task: &AgentTask) -> Option<Diagnosis> {
        let (python, info) = match self.installation().await {
            Ok(x) => x,
            Err(d) => return Some(d),
        };
        let opts =
            AntigravityOptions::from_value(&task.runtime_options_for(NAME)).unwrap_or_default();
        match diagnose::credentials(&opts) {
            Ok(_) => None,
            Err(m) => Some(diagnose::missing_credentials(
                m,
                diagnose::binary_info(&python, &info),
            )),
        }
    }

    async fn run(&self, ctx: RunContext) -> AgentResult {
        let python = match self.installation().await {
            Ok((p, _)) => p,
            Err(d) => {
                return AgentResult {
                    finish_reason: FinishReason::Error,
                    error: Some(crate::protocol::result::TaskError::new(
                        TaskErrorKind::Process,
                        d.message,
                    )),
                    ..Default::default()
                }
            }
        };
        run::run(python, ctx).await
    }
}
