//! `diagnose --probe`: one tiny task against the real model through the runtime's own `run`, so
//! the answer says precisely whether the credentials and the model work. Shared by every vendor
//! runtime: each gives its task and its remedies, this runs it (bounded) and reads the result.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{Approvals, EventOutput, EventSink, RunContext, Stop, StopReason};
use crate::protocol::result::{AgentResult, FinishReason, TaskErrorKind};
use crate::protocol::runtime_info::{Diagnosis, DiagnosisStatus};
use crate::protocol::task::{AgentTask, ApprovalMode, RunOptions};

/// How long a probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(90);

/// What to tell the user when a probe fails for want of credentials or a usable model.
pub struct Remedies {
    pub credentials: &'static str,
    pub model: &'static str,
}

/// A context for a probe task: events go nowhere, approvals are denied.
pub fn context(task: AgentTask, working_directory: &Path) -> (RunContext, Stop) {
    let options = RunOptions::default();
    let events = EventSink::new("probe".into(), Arc::new(Discard), &options);
    let stop = Stop::default();
    let approvals = Approvals::new(
        ApprovalMode::Deny,
        None,
        Duration::from_secs(1),
        events.clone(),
        stop.clone(),
    );
    let ctx = RunContext {
        task_id: format!("probe-{}", uuid::Uuid::new_v4()),
        task,
        options,
        working_directory: working_directory.to_path_buf(),
        events,
        stop: stop.clone(),
        approvals,
        steer: Default::default(),
        attachments: Default::default(),
    };
    (ctx, stop)
}

/// Runs `run` for at most [`PROBE_TIMEOUT`] (then stops it and waits for it to wind down) and
/// turns its result into a diagnosis on top of `ready`, the passing static checks.
pub async fn run(
    ready: Diagnosis,
    model: Option<&str>,
    stop: Stop,
    remedies: Remedies,
    run: impl std::future::Future<Output = AgentResult>,
) -> Diagnosis {
    tokio::pin!(run);
    let result = tokio::select! {
        r = &mut run => r,
        _ = tokio::time::sleep(PROBE_TIMEOUT) => {
            stop.stop(StopReason::Timeout);
            run.await
        }
    };
    let model = model.unwrap_or("the default model");
    let (status, message) = match (&result.finish_reason, &result.error) {
        (FinishReason::Completed | FinishReason::MaxTurns, _) => (
            DiagnosisStatus::Ready,
            format!("{model} answered a one-turn probe."),
        ),
        (_, Some(e)) => {
            let status = match e.kind {
                TaskErrorKind::Auth => DiagnosisStatus::MissingCredentials,
                TaskErrorKind::Model => DiagnosisStatus::UnsupportedModel,
                _ => DiagnosisStatus::Error,
            };
            (
                status,
                format!("The probe of {model} failed: {}", e.message),
            )
        }
        (FinishReason::Cancelled, None) => (
            DiagnosisStatus::Error,
            format!(
                "The probe of {model} did not answer within {} s.",
                PROBE_TIMEOUT.as_secs()
            ),
        ),
        (reason, None) => (
            DiagnosisStatus::Error,
            format!(
                "The probe of {model} ended with {}.",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        ),
    };
    let remedy = match status {
        DiagnosisStatus::MissingCredentials => Some(remedies.credentials.to_string()),
        DiagnosisStatus::UnsupportedModel => Some(remedies.model.to_string()),
        _ => None,
    };
    Diagnosis {
        status,
        message,
        remedy,
        ..ready
    }
}

/// Probe events go nowhere.
struct Discard;

#[async_trait]
impl EventOutput for Discard {
    async fn send(&self, _event: Value) {}
}
