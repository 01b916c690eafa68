//! One run, from admission to its one result.
//!
//! Whatever a runtime does (returns, panics, ignores its stop signal), a run returns exactly one
//! result, after the task's terminal event. Timeouts, the idle watchdog and cancel all go through
//! the task's [`Stop`]; a runtime that does not wind down within [`STOP_DEADLINE`] of being stopped
//! is dropped, which kills its processes (see `process/`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::registry::Planned;
use super::validate::check_task;
use super::{Core, Refusal};
use crate::hygiene::{self, Hygiene};
use crate::protocol::event::{EventBody, TaskFinished, TaskStarted};
use crate::protocol::methods::RunParams;
use crate::protocol::result::{AgentResult, CancelMode, FinishReason, TaskError, TaskErrorKind};
use crate::protocol::task::AgentTask;
use crate::runtime::{
    ApprovalHost, Approvals, EventOutput, EventSink, RunContext, Stop, StopReason,
};

/// How long a stopped runtime gets to return before it is dropped (and its processes killed).
pub const STOP_DEADLINE: Duration = Duration::from_secs(20);
/// The idle watchdog's resolution.
const IDLE_TICK: Duration = Duration::from_millis(100);

/// A task that passed every check and holds its task id: [`run`](Admitted::run) it. Dropped
/// unrun, it gives the id back.
pub struct Admitted<'a> {
    core: &'a Core,
    task_id: String,
    params: RunParams,
    working_directory: PathBuf,
    /// Taken by `run` (which consumes the admission).
    planned: Option<Box<dyn Planned>>,
    stop: Stop,
}

impl Core {
    /// Checks a task (runtime, capabilities, options, the runtime's plan and preflight) and
    /// registers its id. Refusals come only from here, before anything started.
    pub async fn admit(&self, params: RunParams) -> Result<Admitted<'_>, Refusal> {
        let runtime = self.registry.get(&params.runtime)?;
        if self.is_shutting_down() {
            return Err(Refusal::ShuttingDown);
        }
        let wd = check_task(runtime.info(), &params.task, &self.cwd)?;
        // Off the reactor: a plan may read files (a fixture script's `path`) or parse large
        // inline options; the server keeps answering other requests meanwhile.
        let (params, planned) = {
            let (runtime, wd) = (runtime.clone(), wd.clone());
            tokio::task::spawn_blocking(move || {
                let planned = runtime.plan(&params.task, &wd);
                (params, planned)
            })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        };
        let planned = planned?;
        if let Some(diagnosis) = planned.preflight().await {
            return Err(Refusal::Unavailable {
                runtime: params.runtime.clone(),
                diagnosis: Box::new(diagnosis),
            });
        }
        let task_id = params
            .task_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let stop = Stop::default();
        self.register(&task_id, &stop)?;
        learn_task_secrets(&params.task);
        Ok(Admitted {
            core: self,
            task_id,
            params,
            working_directory: wd,
            planned: Some(planned),
            stop,
        })
    }

    /// [`admit`](Self::admit), then [`Admitted::run`].
    pub async fn run(
        &self,
        params: RunParams,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
    ) -> Result<Value, Refusal> {
        Ok(self.admit(params).await?.run(out, host).await)
    }
}

/// Secret values in the task (secret-named env entries and fields) are redacted from everything
/// that goes out from now on.
fn learn_task_secrets(task: &AgentTask) {
    if let Some(options) = &task.runtime_options {
        for raw in options.values() {
            hygiene::learn_secrets_in_json(raw.get());
        }
    }
    if let Some(servers) = &task.mcp_servers {
        hygiene::learn_secrets(&serde_json::to_value(servers).unwrap_or_default());
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.core.retire(&self.task_id);
    }
}

impl Admitted<'_> {
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// Runs the task to its end: events go to `out`, approvals to `host` (none: denied), and the
    /// one result comes back, cleaned.
    pub async fn run(
        mut self,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
    ) -> Value {
        let recorder = self
            .core
            .record_dir
            .as_ref()
            .map(|dir| Arc::new(crate::record::Recorder::new(dir.clone(), out.clone())));
        let out: Arc<dyn EventOutput> = match &recorder {
            Some(r) => r.clone(),
            None => out,
        };
        let planned = self.planned.take().expect("an admission runs once");
        let result = self.drive(planned, out, host).await;
        if let Some(r) = recorder {
            r.finish(&self.task_id, &result);
        }
        result
    }

    async fn drive(
        &self,
        planned: Box<dyn Planned>,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
    ) -> Value {
        let began = Instant::now();
        let (params, stop, task_id) = (&self.params, &self.stop, &self.task_id);
        let task = &params.task;
        let wd = &self.working_directory;
        let options = params.options.clone().unwrap_or_default();
        let events = EventSink::new(task_id.clone(), out, &options);
        let approvals = Approvals::new(
            task.permissions().approvals,
            host,
            Duration::from_millis(options.approval_timeout_ms()),
            events.clone(),
            stop.clone(),
        );
        let ctx = RunContext {
            task_id: task_id.clone(),
            task: task.clone(),
            options: options.clone(),
            working_directory: wd.clone(),
            events: events.clone(),
            stop: stop.clone(),
            steer: Default::default(),
            approvals,
        };
        let watchdog = tokio::spawn(watch(
            task.timeout_ms,
            task.idle_timeout_ms,
            events.clone(),
            stop.clone(),
        ));
        let mut handle = tokio::spawn(planned.run(ctx));

        let outcome = tokio::select! {
            r = &mut handle => Some(r),
            _ = stop.stopped() => None,
        };
        let outcome = match outcome {
            Some(r) => r,
            // Stopped: the runtime gets a bounded time to wind down, then it is dropped.
            None => match tokio::time::timeout(STOP_DEADLINE, &mut handle).await {
                Ok(r) => r,
                Err(_) => {
                    handle.abort();
                    let _ = handle.await;
                    Ok(AgentResult {
                        finish_reason: FinishReason::Cancelled,
                        cancel: Some(CancelMode::Forced),
                        error: Some(TaskError::new(
                            TaskErrorKind::Process,
                            "the runtime did not stop in time; its processes were killed",
                        )),
                        ..Default::default()
                    })
                }
            },
        };
        watchdog.abort();
        let mut result = outcome.unwrap_or_else(|e| {
            AgentResult::failed(
                TaskErrorKind::Protocol,
                format!("the runtime failed unexpectedly: {}", panic_message(e)),
            )
        });
        result.task_id = task_id.clone();
        result.runtime = params.runtime.clone();
        result.duration_ms = began.elapsed().as_millis() as u64;
        result.metadata = task.metadata.clone();
        apply_stop_reason(&mut result, stop.reason(), task);
        check_structured_output(&mut result, task);

        let mut value = serde_json::to_value(&result).expect("results serialize");
        Hygiene::new(options.max_field_bytes()).clean(&mut value);

        if !events.started_sent() {
            // The runtime ended before it could say it started (e.g. the vendor failed to spawn):
            // every task still gets started → … → terminal.
            events
                .emit(EventBody::TaskStarted(TaskStarted {
                    runtime: params.runtime.clone(),
                    model: task.model.clone(),
                    working_directory: wd.display().to_string(),
                    permissions: task.permissions(),
                    session_id: result.session_id.clone(),
                    metadata: task.metadata.clone(),
                    vendor: None,
                }))
                .await;
        }
        let finished = TaskFinished {
            finish_reason: result.finish_reason,
            error: result.error.clone(),
            usage: result.usage.clone(),
            session_id: result.session_id.clone(),
        };
        let terminal = if result.finish_reason.is_success() {
            EventBody::TaskCompleted(finished)
        } else {
            EventBody::TaskFailed(finished)
        };
        events.emit(terminal).await;
        value
    }
}

/// Fires the task's stop on `timeoutMs` and `idleTimeoutMs`.
async fn watch(
    timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    events: EventSink,
    stop: Stop,
) {
    let deadline = timeout_ms.map(|ms| tokio::time::Instant::now() + Duration::from_millis(ms));
    let idle = idle_timeout_ms.map(Duration::from_millis);
    if deadline.is_none() && idle.is_none() {
        return;
    }
    loop {
        let tick = tokio::time::sleep(IDLE_TICK);
        match deadline {
            Some(d) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(d) => { stop.stop(StopReason::Timeout); return; }
                    _ = tick => {}
                }
            }
            None => tick.await,
        }
        if let Some(limit) = idle {
            if events.idle_for() >= limit {
                stop.stop(StopReason::IdleTimeout);
                return;
            }
        }
    }
}

/// Turns "the runtime stopped" into the reason the host cares about.
fn apply_stop_reason(result: &mut AgentResult, reason: StopReason, task: &AgentTask) {
    if result.finish_reason != FinishReason::Cancelled {
        return;
    }
    let message = match reason {
        StopReason::Timeout => format!(
            "the task ran longer than timeoutMs ({} ms)",
            task.timeout_ms.unwrap_or_default()
        ),
        StopReason::IdleTimeout => format!(
            "no vendor output for idleTimeoutMs ({} ms)",
            task.idle_timeout_ms.unwrap_or_default()
        ),
        _ => return,
    };
    result.finish_reason = FinishReason::Timeout;
    result.error = Some(TaskError::new(TaskErrorKind::Timeout, message));
}

/// With an `outputSchema`, a completed task must carry valid `structuredOutput`.
fn check_structured_output(result: &mut AgentResult, task: &AgentTask) {
    let Some(schema) = &task.output_schema else {
        return;
    };
    if result.finish_reason != FinishReason::Completed {
        return;
    }
    let problem = match &result.structured_output {
        None => Some("the task ended without structured output".to_string()),
        Some(v) => match jsonschema::validator_for(schema) {
            Ok(validator) => validator.iter_errors(v).next().map(|e| {
                format!(
                    "structured output does not match outputSchema at {:?}: {e}",
                    e.instance_path().to_string()
                )
            }),
            Err(e) => Some(format!("outputSchema is not a valid schema: {e}")),
        },
    };
    if let Some(message) = problem {
        result.finish_reason = FinishReason::Error;
        result.error = Some(TaskError::new(TaskErrorKind::Schema, message));
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into()),
        Err(e) => e.to_string(),
    }
}
