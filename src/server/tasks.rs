//! The task registry: admission, the lifetime of each run, and exactly one result per run.
//!
//! Whatever a runtime does (returns, panics, ignores its stop signal), `run` returns exactly one
//! result, after the task's terminal event. Timeouts, the idle watchdog and cancel all go through
//! the task's [`Stop`]; a runtime that does not wind down within [`STOP_DEADLINE`] of being stopped
//! is dropped, which kills its processes (see `process/`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::hygiene::{self, Hygiene};
use crate::protocol::event::{EventBody, TaskFinished, TaskStarted};
use crate::protocol::methods::{CancelResult, CancelState, RunParams};
use crate::protocol::result::{AgentResult, CancelMode, FinishReason, TaskError, TaskErrorKind};
use crate::protocol::task::AgentTask;
use crate::protocol::{ErrorCode, RpcError};
use crate::runtime::{
    ApprovalHost, Approvals, EventOutput, EventSink, Prepared, Registry, RunContext, Runtime, Stop,
    StopReason,
};

/// How long a stopped runtime gets to return before it is dropped (and its processes killed).
pub const STOP_DEADLINE: Duration = Duration::from_secs(20);
/// How many finished task ids are remembered, so `cancel` can answer `finished`.
const FINISHED_MEMORY: usize = 10_000;
/// The idle watchdog's resolution.
const IDLE_TICK: Duration = Duration::from_millis(100);

pub struct Tasks {
    registry: Registry,
    cwd: PathBuf,
    max_tasks: usize,
    running: Mutex<HashMap<String, Stop>>,
    finished: Mutex<VecDeque<String>>,
    shutting_down: AtomicBool,
    record_dir: Option<PathBuf>,
}

impl Tasks {
    pub fn new(
        registry: Registry,
        cwd: PathBuf,
        max_tasks: usize,
        record_dir: Option<PathBuf>,
    ) -> Self {
        Tasks {
            registry,
            cwd,
            max_tasks,
            running: Mutex::new(HashMap::new()),
            finished: Mutex::new(VecDeque::new()),
            shutting_down: AtomicBool::new(false),
            record_dir,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Checks and admits a task, then runs it to its end. Errors only before anything started.
    pub async fn run(
        &self,
        params: RunParams,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
    ) -> Result<Value, RpcError> {
        let runtime = self.registry.get(&params.runtime)?;
        if self.is_shutting_down() {
            return Err(shutting_down());
        }
        let wd = self
            .registry
            .validate_task(&params.runtime, &params.task, &self.cwd)?;
        let prepared = runtime.prepare(&params.task)?;
        if let Some(diagnosis) = runtime.preflight(&params.task).await {
            return Err(RpcError::new(
                ErrorCode::RuntimeUnavailable,
                format!(
                    "runtime {:?} is unavailable: {}",
                    params.runtime, diagnosis.message
                ),
                serde_json::to_value(&diagnosis).unwrap_or_default(),
            ));
        }
        let task_id = params
            .task_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let stop = Stop::default();
        self.admit(&task_id, &stop)?;
        super::admission::admitted();
        hygiene::learn_secrets(&serde_json::to_value(&params.task).unwrap_or_default());

        let recorder = self
            .record_dir
            .as_ref()
            .map(|dir| Arc::new(crate::record::Recorder::new(dir.clone(), out.clone())));
        let out: Arc<dyn EventOutput> = match &recorder {
            Some(r) => r.clone(),
            None => out,
        };
        let result = self
            .drive(
                runtime,
                &params,
                task_id.clone(),
                wd,
                prepared,
                out,
                host,
                stop,
            )
            .await;
        if let Some(r) = recorder {
            r.finish(&task_id, &result);
        }
        self.retire(&task_id);
        Ok(result)
    }

    fn admit(&self, task_id: &str, stop: &Stop) -> Result<(), RpcError> {
        if task_id.is_empty() {
            return Err(RpcError::invalid_params("taskId", "must not be empty"));
        }
        let mut running = self.running.lock().unwrap();
        if running.contains_key(task_id) {
            return Err(RpcError::new(
                ErrorCode::DuplicateTaskId,
                format!("task {task_id:?} is already running"),
                json!({ "taskId": task_id }),
            ));
        }
        if running.len() >= self.max_tasks {
            return Err(RpcError::new(
                ErrorCode::Busy,
                format!(
                    "{} tasks are running, the limit (--max-tasks)",
                    running.len()
                ),
                json!({ "limit": self.max_tasks }),
            ));
        }
        running.insert(task_id.to_string(), stop.clone());
        Ok(())
    }

    fn retire(&self, task_id: &str) {
        self.running.lock().unwrap().remove(task_id);
        let mut finished = self.finished.lock().unwrap();
        if finished.len() == FINISHED_MEMORY {
            finished.pop_front();
        }
        finished.push_back(task_id.to_string());
    }

    #[allow(clippy::too_many_arguments)]
    async fn drive(
        &self,
        runtime: Arc<dyn Runtime>,
        params: &RunParams,
        task_id: String,
        wd: PathBuf,
        prepared: Prepared,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
        stop: Stop,
    ) -> Value {
        let began = Instant::now();
        let task = &params.task;
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
            runtime_options: task.runtime_options_for(&params.runtime),
            task: task.clone(),
            options: options.clone(),
            working_directory: wd.clone(),
            events: events.clone(),
            stop: stop.clone(),
            approvals,
            prepared,
        };
        let watchdog = tokio::spawn(watch(
            task.timeout_ms,
            task.idle_timeout_ms,
            events.clone(),
            stop.clone(),
        ));
        let mut handle = tokio::spawn({
            let runtime = runtime.clone();
            async move { runtime.run(ctx).await }
        });

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
        let mut result = outcome.unwrap_or_else(|e| AgentResult {
            finish_reason: FinishReason::Error,
            error: Some(TaskError::new(
                TaskErrorKind::Protocol,
                format!("the runtime failed unexpectedly: {}", panic_message(e)),
            )),
            ..Default::default()
        });
        result.task_id = task_id;
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

    /// `cancel`: stops a running task, or says it already finished.
    pub fn cancel(&self, task_id: &str) -> Result<CancelResult, RpcError> {
        if let Some(stop) = self.running.lock().unwrap().get(task_id) {
            stop.stop(StopReason::Cancelled);
            return Ok(CancelResult {
                task_id: task_id.to_string(),
                state: CancelState::Cancelling,
            });
        }
        if self.finished.lock().unwrap().iter().any(|t| t == task_id) {
            return Ok(CancelResult {
                task_id: task_id.to_string(),
                state: CancelState::Finished,
            });
        }
        Err(RpcError::new(
            ErrorCode::TaskNotFound,
            format!("no task {task_id:?}"),
            json!({ "taskId": task_id }),
        ))
    }

    /// Refuses new tasks and stops every running one (their results still go out).
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for stop in self.running.lock().unwrap().values() {
            stop.stop(StopReason::Shutdown);
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap().len()
    }
}

pub fn shutting_down() -> RpcError {
    RpcError::new(
        ErrorCode::ShuttingDown,
        "the server is shutting down",
        Value::Null,
    )
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
