//! One run, from admission to its one result.
//!
//! Whatever a runtime does (returns, panics, ignores its stop signal), a run returns exactly one
//! result, after the task's terminal event. Timeouts, the idle watchdog and cancel all go through
//! the task's [`Stop`]; a runtime that does not wind down within [`STOP_DEADLINE`] of being stopped
//! is dropped, which kills its processes (see `process/`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::registry::Planned;
use super::sessions::Entry;
use super::validate::check_task;
use super::{lock, Core, Refusal, Running};
use crate::hygiene::{self, Hygiene};
use crate::protocol::event::{EventBody, TaskFinished, TaskStarted};
use crate::protocol::methods::RunParams;
use crate::protocol::result::{
    AgentResult, CancelMode, FinishReason, SessionSource, TaskError, TaskErrorKind,
};
use crate::protocol::task::{AgentTask, SandboxMode};
use crate::runtime::attachments::{self, Loaded};
use crate::runtime::workspace::{self, Snapshot};
use crate::runtime::{
    ApprovalHost, Approvals, EventOutput, EventSink, IdleClock, LiveSession, OpenContext,
    RunContext, SessionGrants, Steering, Stop, StopReason,
};

/// How long a stopped runtime gets to return before it is dropped (and its processes killed).
pub const STOP_DEADLINE: Duration = Duration::from_secs(20);
/// The idle watchdog's resolution.
const IDLE_TICK: Duration = Duration::from_millis(100);

/// A task that passed every check and holds its task id: [`run`](Admitted::run) it. Dropped
/// unrun, it gives the id back (and a live session it took, to the registry).
pub struct Admitted<'a> {
    core: &'a Core,
    task_id: String,
    params: RunParams,
    working_directory: PathBuf,
    mode: Mode,
    stop: Stop,
    /// The runtime declares sessions: results carry `sessionSource` and `sessionLive`.
    has_sessions: bool,
    steering: Steering,
    /// `task.attachments`, read and checked at admission.
    attachments: Arc<[Loaded]>,
    /// The working directory is listed around the turn (`runtime::workspace`).
    watch_workspace: bool,
    /// The task's secrets are redacted from everything while it lives, and forgotten after.
    _secrets: hygiene::SecretLease,
}

/// What kind of run an admission is.
enum Mode {
    /// A one-shot run (the vendor process ends with the task). `None` once taken by `run`.
    Run(Option<Box<dyn Planned>>),
    /// `keepAlive` on a new or cold-resumed session: open it, run the first turn, keep it.
    Open(Option<Box<dyn Planned>>),
    /// The next turn in a live session, taken from the registry (busy) at admission.
    Turn(Arc<Entry>, Option<Box<dyn LiveSession>>),
}

impl Core {
    /// Checks a task (runtime, capabilities, options, the runtime's plan and preflight) and
    /// registers its id. Refusals come only from here, before anything started.
    pub async fn admit(&self, params: RunParams) -> Result<Admitted<'_>, Refusal> {
        let runtime = self.registry.get(&params.runtime)?;
        if self.is_shutting_down() {
            return Err(Refusal::ShuttingDown);
        }
        let task = &params.task;
        if task.goal.trim().is_empty() && task.attachments.as_ref().is_none_or(|a| a.is_empty()) {
            return Err(Refusal::invalid(
                "task.goal",
                "a run needs a goal (or attachments)",
            ));
        }
        if let Some(entry) = task
            .resume()
            .filter(|_| !task.fork())
            .and_then(|id| self.sessions.get(id))
        {
            match self.admit_turn(params.clone(), entry) {
                // It ended between the lookup and the turn: resumed cold, like any dead session.
                Err(Refusal::SessionNotFound { .. }) => {}
                other => return other,
            }
        }
        let wd = check_task(runtime.info(), &params.task, &self.cwd)?;
        // Off the reactor: a plan may read files (a fixture script's `path`) or parse large
        // inline options; the server keeps answering other requests meanwhile.
        let (params, planned) = {
            let (runtime, wd) = (runtime.clone(), wd.clone());
            tokio::task::spawn_blocking(move || {
                let planned = attachments::load(&params.task, &wd)
                    .and_then(|a| Ok((a, runtime.plan(&params.task, &wd)?)));
                (params, planned)
            })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        };
        let (attachments, planned) = planned?;
        if let Some(diagnosis) = planned.preflight().await {
            return Err(Refusal::Unavailable {
                runtime: params.runtime.clone(),
                diagnosis: Box::new(diagnosis),
            });
        }
        let mode = if params.task.keep_alive() {
            Mode::Open(Some(planned))
        } else {
            Mode::Run(Some(planned))
        };
        self.admitted(params, wd, mode, Stop::default(), attachments)
    }

    /// A run into a live session: planned like any run (for its checks), with the fields a live
    /// process cannot change held to the opening task's (absent = the opening's value).
    fn admit_turn(
        &self,
        mut params: RunParams,
        entry: Arc<Entry>,
    ) -> Result<Admitted<'_>, Refusal> {
        let runtime = self.registry.get(&params.runtime)?;
        if entry.runtime != params.runtime {
            return Err(Refusal::unsupported(
                &params.runtime,
                "task.session.resume",
                format!(
                    "session {:?} is live in runtime {:?}",
                    entry.id, entry.runtime
                ),
            ));
        }
        hold_fixed_fields(&params.runtime, &mut params.task, &entry.opening)?;
        let wd = check_task(runtime.info(), &params.task, &self.cwd)?;
        if wd != entry.working_directory {
            return Err(Refusal::unsupported(
                &params.runtime,
                "task.workingDirectory",
                "a live session keeps the working directory it was opened in",
            ));
        }
        // Read here, once, like a new run's (bounded by the attachment limits).
        let attachments = attachments::load(&params.task, &wd)?;
        // The plan is only checked: the live session already holds what it needs.
        runtime.plan(&params.task, &wd)?;
        let stop = Stop::default();
        let live = self
            .sessions
            .begin_turn(&entry, &stop, &params.task, |live| {
                live.check_turn(&params.task)
            })?;
        self.admitted(params, wd, Mode::Turn(entry, Some(live)), stop, attachments)
    }

    fn admitted(
        &self,
        params: RunParams,
        working_directory: PathBuf,
        mode: Mode,
        stop: Stop,
        attachments: Arc<[Loaded]>,
    ) -> Result<Admitted<'_>, Refusal> {
        let info = self.registry.info(&params.runtime)?;
        let caps = &info.capabilities;
        // A read-only task changes nothing there; listing it would only cost.
        let watch_workspace = self.registry.get(&params.runtime)?.watches_workspace()
            && params.task.permissions().sandbox != SandboxMode::ReadOnly;
        let task_id = params
            .task_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let (steer, steering) = if caps.steer {
            let (tx, rx) = Steering::channel();
            (Some(tx), rx)
        } else {
            (None, Steering::default())
        };
        let registered = self.register(
            &task_id,
            Running {
                stop: stop.clone(),
                runtime: params.runtime.clone(),
                steer,
            },
        );
        if let Err(refusal) = registered {
            if let Mode::Turn(entry, Some(live)) = mode {
                self.sessions.put_back(&entry, live);
            }
            return Err(refusal);
        }
        let secrets = learn_task_secrets(&params.task);
        Ok(Admitted {
            core: self,
            task_id,
            params,
            working_directory,
            mode,
            stop,
            has_sessions: caps.resume || caps.live_sessions,
            steering,
            attachments,
            watch_workspace,
            _secrets: secrets,
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

/// Fields a live vendor process cannot change between turns: absent in a turn means "as opened";
/// a different value is refused (-32012 with the field).
fn hold_fixed_fields(
    runtime: &str,
    task: &mut AgentTask,
    opening: &AgentTask,
) -> Result<(), Refusal> {
    fn hold<T: serde::Serialize + Clone>(
        runtime: &str,
        field: &str,
        turn: &mut Option<T>,
        opening: &Option<T>,
    ) -> Result<(), Refusal> {
        match turn {
            None => *turn = opening.clone(),
            Some(v) => {
                let same = serde_json::to_value(&*v).ok() == serde_json::to_value(opening).ok();
                if !same {
                    return Err(Refusal::unsupported(
                        runtime,
                        field,
                        "a live session keeps the value it was opened with; close it or start a new session to change it",
                    ));
                }
            }
        }
        Ok(())
    }
    // The working directory is compared once resolved (a relative and an absolute path may name
    // the same directory).
    if task.working_directory.is_none() {
        task.working_directory = opening.working_directory.clone();
    }
    hold(
        runtime,
        "task.additionalDirectories",
        &mut task.additional_directories,
        &opening.additional_directories,
    )?;
    hold(
        runtime,
        "task.mcpServers",
        &mut task.mcp_servers,
        &opening.mcp_servers,
    )?;
    hold(
        runtime,
        "task.systemPrompt",
        &mut task.system_prompt,
        &opening.system_prompt,
    )?;
    hold(
        runtime,
        "task.appendSystemPrompt",
        &mut task.append_system_prompt,
        &opening.append_system_prompt,
    )?;
    let turn_options = task.runtime_options.as_ref().map(options_value);
    let opening_options = opening.runtime_options.as_ref().map(options_value);
    match turn_options {
        None => task.runtime_options = opening.runtime_options.clone(),
        Some(v) if Some(&v) == opening_options.as_ref() => {}
        Some(_) => {
            return Err(Refusal::unsupported(
                runtime,
                "task.runtimeOptions",
                "a live session keeps the runtime options it was opened with",
            ))
        }
    }
    Ok(())
}

/// Runtime options as a comparable value (whitespace and key order do not count).
fn options_value(
    options: &std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>,
) -> Value {
    options
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::from_str(v.get()).unwrap_or(Value::Null),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Secret values in the task (secret-named env entries and fields), redacted from everything that
/// goes out while the lease lives (the task's admission; a live session's life for its opening).
pub(super) fn learn_task_secrets(task: &AgentTask) -> hygiene::SecretLease {
    let mut lease = hygiene::SecretLease::default();
    if let Some(options) = &task.runtime_options {
        for raw in options.values() {
            lease = lease.and(hygiene::learn_secrets_in_json(raw.get()));
        }
    }
    if let Some(servers) = &task.mcp_servers {
        lease = lease.and(hygiene::learn_secrets(
            &serde_json::to_value(servers).unwrap_or_default(),
        ));
    }
    lease
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.core.retire(&self.task_id);
        if let Mode::Turn(entry, live) = &mut self.mode {
            if let Some(live) = live.take() {
                self.core.sessions.put_back(entry, live);
            }
        }
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
        let result = self.drive(out, host).await;
        if let Some(r) = recorder {
            r.finish(&self.task_id, &result);
        }
        result
    }

    /// The future that does the work, spawned by `drive`: a run, an open then a first turn, or a
    /// turn in a live session. It hands back the live session it ran in, if any; the session it
    /// registered goes into `slot` as soon as it exists (so it is found even if the work is
    /// aborted).
    fn work(
        &mut self,
        ctx: RunContext,
        grants: SessionGrants,
        slot: Arc<Mutex<Option<Arc<Entry>>>>,
    ) -> Work {
        match &mut self.mode {
            Mode::Run(planned) => {
                let run = planned.take().expect("an admission runs once").run(ctx);
                Box::pin(async move { (run.await, None) })
            }
            Mode::Turn(entry, live) => {
                *lock(&slot) = Some(entry.clone());
                let mut live = live.take().expect("an admission runs once");
                Box::pin(async move {
                    let result = live.turn(ctx).await;
                    (result, Some(live))
                })
            }
            Mode::Open(planned) => {
                let planned = planned.take().expect("an admission runs once");
                let sessions = self.core.sessions.clone();
                let runtime = self.params.runtime.clone();
                let opening = OpenContext {
                    task: ctx.task.clone(),
                    options: ctx.options.clone(),
                    working_directory: ctx.working_directory.clone(),
                    stop: ctx.stop.clone(),
                };
                Box::pin(async move {
                    let live = {
                        let _starting = sessions.opening(&runtime, ctx.task.resume(), &ctx.stop);
                        match planned.open(opening).await {
                            Ok(live) => live,
                            Err(failed) => return (failed, None),
                        }
                    };
                    let (entry, live) = sessions.insert(
                        live,
                        &runtime,
                        ctx.task.clone(),
                        ctx.working_directory.clone(),
                        grants,
                        Some(ctx.stop.clone()),
                    );
                    *lock(&slot) = Some(entry);
                    let mut live = live.expect("a busy session is handed back");
                    let result = live.turn(ctx).await;
                    (result, Some(live))
                })
            }
        }
    }

    async fn drive(
        &mut self,
        out: Arc<dyn EventOutput>,
        host: Option<Arc<dyn ApprovalHost>>,
    ) -> Value {
        let began = Instant::now();
        let (params, stop, task_id) = (&self.params, &self.stop, &self.task_id);
        let task = &params.task;
        let wd = self.working_directory.clone();
        let options = params.options.clone().unwrap_or_default();
        let events = EventSink::new(task_id.clone(), out, &options);
        let grants = match &self.mode {
            Mode::Turn(entry, _) => entry.grants.clone(),
            _ => SessionGrants::default(),
        };
        let approvals = Approvals::new(
            task.permissions().approvals,
            host,
            Duration::from_millis(options.approval_timeout_ms()),
            events.clone(),
            stop.clone(),
        )
        .with_grants(grants.clone());
        let ctx = RunContext {
            task_id: task_id.clone(),
            task: task.clone(),
            options: options.clone(),
            working_directory: wd.clone(),
            events: events.clone(),
            stop: stop.clone(),
            steer: std::mem::take(&mut self.steering),
            approvals,
            attachments: self.attachments.clone(),
        };
        let watchdog = tokio::spawn(watch(
            task.timeout_ms,
            task.idle_timeout_ms,
            events.clone(),
            stop.clone(),
        ));
        // Listed before the vendor starts, off the reactor (bounded: `runtime::workspace`).
        let snapshot = if self.watch_workspace {
            let wd = wd.clone();
            tokio::task::spawn_blocking(move || Snapshot::take(&wd))
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        let slot = Arc::new(Mutex::new(None));
        let work = self.work(ctx, grants, slot.clone());
        let (params, stop, task_id) = (&self.params, &self.stop, &self.task_id);
        let task = &params.task;
        let mut handle = tokio::spawn(work);

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
                    Ok((
                        AgentResult {
                            finish_reason: FinishReason::Cancelled,
                            cancel: Some(CancelMode::Forced),
                            error: Some(TaskError::new(
                                TaskErrorKind::Process,
                                "the runtime did not stop in time; its processes were killed",
                            )),
                            ..Default::default()
                        },
                        None,
                    ))
                }
            },
        };
        watchdog.abort();
        let (mut result, live) = outcome.unwrap_or_else(|e| {
            (
                AgentResult::failed(
                    TaskErrorKind::Protocol,
                    format!("the runtime failed unexpectedly: {}", panic_message(e)),
                ),
                None,
            )
        });
        if let Some(before) = snapshot {
            report_workspace_changes(&mut result, before, &wd, &events).await;
        }
        // The session's fate after the turn: kept idle, or closed (vendor gone, shutdown).
        let entry = lock(&slot).take();
        let session_live = match &entry {
            Some(entry) => {
                self.core
                    .sessions
                    .end_turn(entry, live, self.core.is_shutting_down())
                    .await
            }
            None => false,
        };
        if self.has_sessions {
            result.session_source = Some(match (&self.mode, task.resume()) {
                (Mode::Turn(..), _) => SessionSource::Live,
                (_, Some(_)) => SessionSource::Resumed,
                (_, None) => SessionSource::New,
            });
            result.session_live = session_live;
            if let Some(entry) = &entry {
                result.session_id.get_or_insert_with(|| entry.id.clone());
            }
        }
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

/// Lists the working directory again: what changed becomes the result's artifacts (with what
/// the runtime's tools reported where the listing did not look) and an `agent.file.changed` for
/// each change no event reported yet, before the terminal event.
async fn report_workspace_changes(
    result: &mut AgentResult,
    before: Snapshot,
    wd: &std::path::Path,
    events: &EventSink,
) {
    let (before, listed) = tokio::task::spawn_blocking(move || {
        let listed = before.changes();
        (before, listed)
    })
    .await
    .expect("the listing does not panic");
    for change in listed.iter().flatten() {
        let event = workspace::event(wd, change);
        if !events.file_announced(&event.path) {
            events.emit(EventBody::FileChanged(event)).await;
        }
    }
    let reported = std::mem::take(&mut result.artifacts);
    result.artifacts = workspace::merge(wd, Some(&before), listed.as_deref(), reported);
}

type Work = futures::future::BoxFuture<'static, (AgentResult, Option<Box<dyn LiveSession>>)>;

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
    let mut idle_clock = IdleClock::new(&events);
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
            if idle_clock.idle_for(&events) >= limit {
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
