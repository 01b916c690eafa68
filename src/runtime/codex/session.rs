//! `codex app-server` from handshake to exit: [`Conn`] is one process with its thread, [`Turn`]
//! one turn on it (events, approvals, interrupt, steer); [`run`] is a one-shot task through them,
//! `super::live` a session that keeps the process between turns.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::client::{self, CallError, Client, Inbox, Incoming};
use super::mapping::{AgentDelta, Flow, TurnState};
use super::options::{CodexOptions, HostApprovalPolicy};
use super::{artifacts, input};
use super::{command, errors, NAME};
use crate::hygiene::redact;
use crate::process::Supervised;
use crate::protocol::event::{EventBody, TaskStarted};
use crate::protocol::result::{
    AgentResult, Artifact, CancelMode, ExitInfo, FinishReason, SessionSource, TaskError,
    TaskErrorKind,
};
use crate::protocol::task::{AgentTask, ApprovalMode, SandboxMode};
use crate::runtime::jsonl::DEFAULT_MAX_LINE_BYTES;
use crate::runtime::jsonrpc_peer::Message;
use crate::runtime::{EventSink, RunContext, Steering, Stop};

/// How long codex gets to end an interrupted turn before it is stopped by force.
const INTERRUPT_DEADLINE: Duration = Duration::from_secs(3);
/// How long codex gets to exit after its stdin closes, then after SIGTERM.
const EXIT_GRACE: Duration = Duration::from_secs(2);
const KILL_GRACE: Duration = Duration::from_secs(2);
const DEFAULT_STARTUP_MS: u64 = 60_000;
const DEFAULT_MAX_RETRY_MS: u64 = 120_000;

/// Why we asked codex to interrupt the turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Why {
    Stop,
    MaxTurns,
    Retrying,
}

#[derive(Debug)]
pub(super) enum Ending {
    /// `turn/completed` for our turn.
    Turn(Value),
    /// We interrupted (or stopped before the turn began); `soft` when codex ended the turn itself.
    Interrupted {
        why: Why,
        soft: bool,
    },
    /// Codex closed its output before the turn ended.
    Exited,
    Failed(TaskError),
}

/// One task through one fresh app-server: the version is learned from `initialize`, the answer
/// goes back as soon as `turn/completed` is mapped, and the process is reaped afterwards (it has
/// nothing left to do but exit; a sidecar that shuts down meanwhile kills it on drop).
pub async fn run(binary: PathBuf, mut ctx: RunContext, opts: CodexOptions) -> AgentResult {
    let wd = ctx.working_directory.clone();
    let mut conn = match Conn::spawn(&binary, &opts, &wd, Some(ctx.events.clone())) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let steer = std::mem::take(&mut ctx.steer);
    let mut turn = Turn::new(&mut conn, &ctx, &opts, steer, false);
    let ending = async {
        if let Err(e) = turn.open().await {
            return e;
        }
        turn.emit_started().await;
        let params = turn.params(None);
        if let Err(e) = turn.start(params).await {
            return e;
        }
        turn.turn_loop().await
    };
    let ending = ending.await;

    // Shut codex down: close stdin (app-server then ends its tool processes and exits), SIGTERM,
    // SIGKILL; tool processes it started in their own session are killed too (see `wind_down`).
    // After a completed turn that happens once the result is out.
    turn.conn.tasks.abort_all();
    let reap_later = matches!(ending, Ending::Turn(_));
    let (exit, killed) = if reap_later {
        (None, false)
    } else {
        let c = &mut *turn.conn;
        let (exit, killed) = c
            .proc
            .wind_down(Some(c.client.output()), EXIT_GRACE, KILL_GRACE)
            .await;
        (Some(exit), killed)
    };
    let artifacts = changed_files(&wd, &turn.st.patched);
    let resumed = ctx.task.resume().is_some();
    let mut r = turn.finish(ending, exit, killed, artifacts);
    r.session_source = Some(if resumed {
        SessionSource::Resumed
    } else {
        SessionSource::New
    });
    if reap_later {
        tokio::spawn(async move {
            conn.tasks.abort_all();
            conn.proc
                .wind_down(Some(conn.client.output()), EXIT_GRACE, KILL_GRACE)
                .await;
        });
    }
    r
}

/// What codex's fileChange items reported; the core adds what its listing of the working
/// directory saw around the turn (a shell command's writes included: `runtime::workspace`).
pub(super) fn changed_files(
    wd: &Path,
    patched: &[(PathBuf, crate::protocol::result::ArtifactChange)],
) -> Vec<Artifact> {
    artifacts::merge(wd, patched)
}

/// One `codex app-server` process, initialized, with its thread once [`Conn::open`] succeeded.
pub(super) struct Conn {
    pub proc: Supervised,
    pub client: Client,
    pub incoming: Inbox,
    /// Requests in flight on our side (approval answers, interrupt, steer); aborted per turn.
    pub tasks: JoinSet<()>,
    /// `thread/start`'s (or resume's, fork's) answer.
    pub opened: Value,
    /// The thread object codex returned.
    pub thread: Value,
    pub thread_id: Option<String>,
}

impl Conn {
    /// Starts `codex app-server`. `events`, when given, is touched on every line (the idle
    /// watchdog of a one-shot task; a live session's turns touch their own sink instead).
    pub fn spawn(
        binary: &Path,
        opts: &CodexOptions,
        wd: &Path,
        events: Option<EventSink>,
    ) -> Result<Conn, Box<AgentResult>> {
        let cmd = command::app_server(binary, opts, wd);
        let mut proc = Supervised::spawn(cmd, NAME).map_err(|e| {
            Box::new(AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot start {}: {e}", binary.display()),
            ))
        })?;
        let (Some(stdin), Some(stdout)) =
            (proc.take_stdin(), proc.take_stdout(DEFAULT_MAX_LINE_BYTES))
        else {
            return Err(Box::new(AgentResult::failed(
                TaskErrorKind::Process,
                "codex's stdio was not piped",
            )));
        };
        let (client, incoming) =
            client::start(stdin, stdout.into_inner(), DEFAULT_MAX_LINE_BYTES, events);
        Ok(Conn {
            proc,
            client,
            incoming,
            tasks: JoinSet::new(),
            opened: Value::Null,
            thread: Value::Null,
            thread_id: None,
        })
    }

    /// The handshake (checking codex's version from its `userAgent`, so no `--version` probe
    /// precedes the first task), then the thread: `thread/start`, or `thread/resume` /
    /// `thread/fork` for `task.session`.
    pub async fn open(
        &mut self,
        task: &AgentTask,
        opts: &CodexOptions,
        wd: &Path,
        stop: &Stop,
    ) -> Result<(), Ending> {
        let client = self.client.clone();
        let init = guarded(
            stop,
            opts,
            "initialize",
            client.request(
                "initialize",
                json!({
                    "clientInfo": {
                        "name": "agent-runtime-kit",
                        "title": null,
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                    "capabilities": { "experimentalApi": false },
                }),
            ),
        )
        .await?;
        if let Some(err) = super::diagnose::check_user_agent(init["userAgent"].as_str()) {
            return Err(Ending::Failed(err));
        }
        client.notify("initialized").await;

        let perms = task.permissions();
        let mut params = json!({
            "cwd": wd,
            "approvalPolicy": approval_policy(perms.approvals, opts),
            "sandbox": sandbox_mode(perms.sandbox),
        });
        let p = params.as_object_mut().expect("object");
        if let Some(m) = &task.model {
            p.insert("model".into(), json!(m));
        }
        if let Some(sp) = &task.system_prompt {
            p.insert("baseInstructions".into(), json!(sp));
        }
        if let Some(ap) = &task.append_system_prompt {
            p.insert("developerInstructions".into(), json!(ap));
        }
        // The task's config overrides and its MCP servers go in the thread's config, not on argv:
        // MCP env and headers hold secrets, and config values are whatever the host chose.
        let mut config = opts.thread_config();
        if let Some(servers) = &task.mcp_servers {
            config.insert("mcp_servers".into(), super::mcp::config(servers));
        }
        super::questions::enable(&mut config, &task.permissions());
        if !config.is_empty() {
            p.insert("config".into(), Value::Object(config));
        }
        let method = match task.resume() {
            None => "thread/start",
            Some(resume) => {
                p.insert("threadId".into(), json!(resume));
                p.insert("excludeTurns".into(), json!(true));
                if task.fork() {
                    p.insert("ephemeral".into(), json!(false));
                    "thread/fork"
                } else {
                    "thread/resume"
                }
            }
        };
        let opened = guarded(stop, opts, method, client.request(method, params))
            .await
            .map_err(|e| match (e, task.resume()) {
                (Ending::Failed(mut err), Some(resume)) => {
                    err.message = format!("cannot resume session {resume:?}: {}", err.message);
                    Ending::Failed(err)
                }
                (e, _) => e,
            })?;
        self.thread = opened["thread"].clone();
        self.thread_id = self.thread["id"].as_str().map(str::to_string);
        self.opened = opened;
        Ok(())
    }

    /// Closes codex's stdin, waits a bounded grace, SIGTERM, SIGKILL; reaps.
    pub async fn wind_down(&mut self) -> (ExitInfo, bool) {
        self.tasks.abort_all();
        self.proc
            .wind_down(Some(self.client.output()), EXIT_GRACE, KILL_GRACE)
            .await
    }
}

/// A startup call, bounded by the startup deadline and the stop signal.
async fn guarded<T>(
    stop: &Stop,
    opts: &CodexOptions,
    what: &str,
    fut: impl Future<Output = Result<T, CallError>>,
) -> Result<T, Ending> {
    let ms = opts.startup_timeout_ms.unwrap_or(DEFAULT_STARTUP_MS);
    tokio::select! {
        r = fut => r.map_err(|e| match e {
            CallError::Closed { .. } => Ending::Exited,
            CallError::Rpc { message, .. } => Ending::Failed(TaskError::new(
                TaskErrorKind::Vendor,
                format!("codex refused {what}: {message}"),
            )),
        }),
        _ = stop.stopped() => Err(Ending::Interrupted { why: Why::Stop, soft: false }),
        _ = tokio::time::sleep(Duration::from_millis(ms)) => Err(Ending::Failed(TaskError::new(
            TaskErrorKind::Process,
            format!("codex did not answer {what} within {ms} ms"),
        ))),
    }
}

/// Codex's `approvalPolicy` for our approval mode.
pub(super) fn approval_policy(mode: ApprovalMode, opts: &CodexOptions) -> &'static str {
    match mode {
        ApprovalMode::Deny => "never",
        ApprovalMode::Host => match opts.host_approval_policy {
            Some(HostApprovalPolicy::OnRequest) => "on-request",
            _ => "untrusted",
        },
    }
}

/// Codex's `sandbox` mode (thread/start) for ours.
pub(super) fn sandbox_mode(mode: SandboxMode) -> &'static str {
    match mode {
        SandboxMode::ReadOnly => "read-only",
        SandboxMode::WorkspaceWrite => "workspace-write",
        SandboxMode::FullAccess => "danger-full-access",
    }
}

/// Codex's `sandboxPolicy` (turn/start) for ours; `writable` are extra roots for workspace-write.
fn sandbox_policy(mode: SandboxMode, writable: Vec<String>) -> Value {
    match mode {
        SandboxMode::ReadOnly => json!({ "type": "readOnly", "networkAccess": false }),
        SandboxMode::WorkspaceWrite => json!({
            "type": "workspaceWrite", "writableRoots": writable, "networkAccess": false,
        }),
        SandboxMode::FullAccess => json!({ "type": "dangerFullAccess" }),
    }
}

/// One turn on a [`Conn`]: `turn/start`, mapping until `turn/completed`, interrupt, steer.
pub(super) struct Turn<'a> {
    pub conn: &'a mut Conn,
    ctx: &'a RunContext,
    opts: &'a CodexOptions,
    steer: Steering,
    pub st: TurnState,
    turn_started: bool,
    /// A turn of a live session: it touches the task's idle watchdog on every message itself
    /// (the session's reader outlives any one task's sink), and a stop never abandons
    /// `turn/start` (the turn is interrupted instead, keeping the session).
    live: bool,
    /// Our `turn/completed`, held while sub-agents it spawned still run (codex ends the parent's
    /// turn without waiting for them; their work is part of the task).
    held_turn: Option<Value>,
}

impl<'a> Turn<'a> {
    pub fn new(
        conn: &'a mut Conn,
        ctx: &'a RunContext,
        opts: &'a CodexOptions,
        steer: Steering,
        live: bool,
    ) -> Self {
        Turn {
            st: TurnState::new(
                ctx.events.clone(),
                ctx.working_directory.clone(),
                ctx.task.max_turns,
            ),
            conn,
            ctx,
            opts,
            steer,
            turn_started: false,
            live,
            held_turn: None,
        }
    }

    async fn open(&mut self) -> Result<(), Ending> {
        let ctx = self.ctx;
        self.conn
            .open(&ctx.task, self.opts, &ctx.working_directory, &ctx.stop)
            .await
    }

    pub async fn emit_started(&self) {
        let ctx = self.ctx;
        let task = &ctx.task;
        let opened = &self.conn.opened;
        let (approval, sandbox) = if self.live {
            // A later turn: what this turn asked for (turn/start sets both when they change).
            let perms = task.permissions();
            (
                json!(approval_policy(perms.approvals, self.opts)),
                json!(sandbox_mode(perms.sandbox)),
            )
        } else {
            (opened["approvalPolicy"].clone(), opened["sandbox"].clone())
        };
        ctx.events
            .emit(EventBody::TaskStarted(TaskStarted {
                runtime: NAME.into(),
                model: task
                    .model
                    .clone()
                    .or_else(|| opened["model"].as_str().map(str::to_string)),
                working_directory: ctx.working_directory.display().to_string(),
                permissions: task.permissions(),
                session_id: self.conn.thread_id.clone(),
                metadata: task.metadata.clone(),
                vendor: Some(json!({
                    "modelProvider": opened["modelProvider"],
                    "approvalPolicy": approval,
                    "sandbox": sandbox,
                    "threadPath": self.conn.thread["path"],
                    "cliVersion": self.conn.thread["cliVersion"],
                })),
            }))
            .await;
    }

    /// `turn/start`'s params for this task. `changed` (a later turn of a live session) adds the
    /// settings codex keeps "for this turn and subsequent turns" when they differ from the
    /// thread's current ones, so an unchanged turn sends exactly what a first turn sends.
    pub fn params(&self, changed: Option<&TurnSettings>) -> Value {
        let ctx = self.ctx;
        let task = &ctx.task;
        let perms = task.permissions();
        let mut turn = json!({
            "threadId": self.conn.thread_id,
            "input": input::items(&task.goal, &ctx.attachments),
        });
        let t = turn.as_object_mut().expect("object");
        if let Some(schema) = &task.output_schema {
            t.insert("outputSchema".into(), schema.clone());
        }
        if let Some(e) = &self.opts.reasoning_effort {
            t.insert("effort".into(), json!(e));
        }
        if let Some(s) = self.opts.reasoning_summary {
            t.insert("summary".into(), json!(s.as_str()));
        }
        let extra: Vec<String> = task
            .additional_directories
            .iter()
            .flatten()
            .map(|d| {
                let p = ctx.working_directory.join(d);
                p.canonicalize().unwrap_or(p).display().to_string()
            })
            .collect();
        let now = TurnSettings::of(task, self.opts);
        match changed {
            Some(was) => {
                if now.model.is_some() && now.model != was.model {
                    t.insert("model".into(), json!(now.model));
                }
                if now.approval != was.approval {
                    t.insert("approvalPolicy".into(), json!(now.approval));
                }
                if now.sandbox != was.sandbox || !extra.is_empty() {
                    t.insert("sandboxPolicy".into(), sandbox_policy(perms.sandbox, extra));
                }
            }
            None => {
                if !extra.is_empty() && perms.sandbox == SandboxMode::WorkspaceWrite {
                    t.insert(
                        "sandboxPolicy".into(),
                        sandbox_policy(SandboxMode::WorkspaceWrite, extra),
                    );
                }
            }
        }
        turn
    }

    pub async fn start(&mut self, params: Value) -> Result<(), Ending> {
        let client = self.conn.client.clone();
        // On a live session a stop waits for codex's (quick) answer and then interrupts the turn,
        // so that the session survives a cancel sent just as the turn starts.
        let stop = if self.live {
            Stop::default()
        } else {
            self.ctx.stop.clone()
        };
        let started = guarded(
            &stop,
            self.opts,
            "turn/start",
            client.request("turn/start", params),
        )
        .await?;
        self.turn_started = true;
        if self.st.turn_id.is_none() {
            self.st.turn_id = started["turn"]["id"].as_str().map(str::to_string);
        }
        Ok(())
    }

    pub async fn turn_loop(&mut self) -> Ending {
        let max_retry =
            Duration::from_millis(self.opts.max_retry_ms.unwrap_or(DEFAULT_MAX_RETRY_MS));
        let mut interrupting: Option<(Why, Instant)> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        // Any instant: the deadline branch is off while there is no deadline (its timer is built
        // on every pass of the loop all the same, so no clock is read for it).
        let no_deadline = Instant::now();
        loop {
            let deadline = interrupting.map(|(_, d)| d);
            tokio::select! {
                biased;
                msg = self.conn.incoming.recv() => {
                    let Some(first) = msg else { return Ending::Exited };
                    if self.live {
                        self.ctx.events.touch();
                    }
                    // The rest of the batch the reader handed over goes without a pass through
                    // this `select!` each (a streamed answer is hundreds of thousands of deltas);
                    // a batch is bounded, so a stop is still seen within one.
                    let mut next = Some(first);
                    while let Some(msg) = next {
                        if let Some(ending) = self.on_message(msg, &mut interrupting).await {
                            return ending;
                        }
                        next = self.conn.incoming.next_at_hand();
                    }
                }
                _ = self.ctx.stop.stopped(), if interrupting.is_none() => {
                    // Our turn is over and only sub-agents run: nothing to interrupt in it; the
                    // process (and its sub-agents) goes.
                    if self.held_turn.is_some() {
                        return Ending::Interrupted { why: Why::Stop, soft: false };
                    }
                    interrupting = Some((Why::Stop, self.interrupt()));
                }
                text = self.steer.next(), if interrupting.is_none() => self.steer_with(text),
                _ = tokio::time::sleep_until(deadline.unwrap_or(no_deadline)), if deadline.is_some() => {
                    let (why, _) = interrupting.expect("deadline implies interrupting");
                    return Ending::Interrupted { why, soft: false };
                }
                _ = tick.tick(), if interrupting.is_none() => {
                    if let Some(since) = self.st.retrying_since {
                        if since.elapsed() >= max_retry {
                            interrupting = Some((Why::Retrying, self.interrupt()));
                        }
                    }
                }
            }
        }
    }

    /// One message from codex: a request (an approval) is answered by a task of its own; a
    /// notification is mapped. `Some` when it ends the turn.
    async fn on_message(
        &mut self,
        msg: Incoming,
        interrupting: &mut Option<(Why, Instant)>,
    ) -> Option<Ending> {
        match msg {
            Incoming::Request { id, message } => {
                let params = if self.ctx.events.includes_vendor_events() {
                    let raw = message.raw();
                    self.ctx.events.vendor_event(&raw).await;
                    raw["params"].clone()
                } else {
                    message.params_value()
                };
                self.conn.tasks.spawn(super::approvals::answer(
                    self.conn.client.clone(),
                    self.ctx.approvals.clone(),
                    self.st.tools.clone(),
                    id,
                    message.method().to_string(),
                    params,
                ));
                None
            }
            Incoming::Notification(n) => match self.on_notification(n).await {
                Flow::Continue => {
                    if self.held_turn.is_some() && self.st.pending_subagents().is_empty() {
                        return self.held_turn.take().map(Ending::Turn);
                    }
                    None
                }
                Flow::TurnCompleted(turn) => Some(match (*interrupting, turn["status"].as_str()) {
                    (Some((why, _)), Some("interrupted")) => {
                        Ending::Interrupted { why, soft: true }
                    }
                    _ if !self.st.pending_subagents().is_empty() => {
                        tracing::debug!("codex turn completed; waiting for its sub-agents");
                        self.held_turn = Some(turn);
                        return None;
                    }
                    _ => Ending::Turn(turn),
                }),
                Flow::MaxTurnsReached => {
                    if interrupting.is_none() {
                        *interrupting = Some((Why::MaxTurns, self.interrupt()));
                    }
                    None
                }
            },
        }
    }

    /// One notification, read once more after its envelope: an agent message delta (the line a
    /// streamed answer is made of) into the typed [`AgentDelta`], anything else into a `Value`;
    /// the whole message when the host wants every raw vendor event.
    async fn on_notification(&mut self, n: Message) -> Flow {
        if self.ctx.events.includes_vendor_events() {
            let raw = n.raw();
            self.ctx.events.vendor_event(&raw).await;
            return self.st.on_notification(n.method(), &raw["params"]).await;
        }
        if n.method() == AgentDelta::METHOD {
            // A delta of another shape (a non-string delta or turnId) takes the `Value` way.
            if let Ok(delta) = n.params::<AgentDelta<'_>>() {
                self.st.on_agent_delta(delta).await;
                return Flow::Continue;
            }
        }
        self.st.on_notification(n.method(), &n.params_value()).await
    }

    /// Asks codex to interrupt the turn (without waiting for its answer); returns the deadline.
    fn interrupt(&mut self) -> Instant {
        let client = self.conn.client.clone();
        let params = json!({ "threadId": self.conn.thread_id, "turnId": self.st.turn_id });
        self.conn.tasks.spawn(async move {
            if let Err(e) = client.request("turn/interrupt", params).await {
                tracing::debug!("turn/interrupt: {e}");
            }
        });
        Instant::now() + INTERRUPT_DEADLINE
    }

    /// Adds the host's text to the running turn (`turn/steer`; codex checks that the turn we
    /// name is still the active one). A refusal (the turn just ended, or is not steerable) is
    /// logged without the text.
    fn steer_with(&mut self, text: String) {
        let client = self.conn.client.clone();
        let params = json!({
            "threadId": self.conn.thread_id,
            "expectedTurnId": self.st.turn_id,
            "input": [{ "type": "text", "text": text }],
        });
        self.conn.tasks.spawn(async move {
            if let Err(e) = client.request("turn/steer", params).await {
                tracing::info!("codex did not take the steer: {}", redact(&e.to_string()));
            }
        });
    }

    /// The task's result. `exit` is `None` when codex is reaped after the answer.
    pub fn finish(
        self,
        ending: Ending,
        exit: Option<ExitInfo>,
        killed: bool,
        artifacts: Vec<Artifact>,
    ) -> AgentResult {
        let task = &self.ctx.task;
        let thread_id = self.conn.thread_id.clone();
        let session_changed = match (task.resume(), &thread_id) {
            (Some(s), Some(t)) => s != t,
            _ => false,
        };
        let mut r = AgentResult {
            output: self.st.last_message.clone().unwrap_or_default(),
            session_id: thread_id.clone(),
            session_changed,
            artifacts,
            tool_calls: self.st.tool_calls.clone(),
            usage: self.st.usage(),
            turns: self.st.responses,
            vendor: Some(json!({
                "threadId": thread_id,
                "turnId": self.st.turn_id,
                "modelProvider": self.conn.thread["modelProvider"],
                "cliVersion": self.conn.thread["cliVersion"],
            })),
            ..Default::default()
        };
        let exit_code = exit.as_ref().and_then(|e| e.code);
        let tail = exit
            .as_ref()
            .and_then(|e| e.stderr_tail.last().cloned())
            .unwrap_or_default();
        r.exit = exit;
        match ending {
            Ending::Turn(turn) => match turn["status"].as_str() {
                Some("completed") => {
                    if r.output.is_empty() {
                        r.output = last_agent_text(&turn).unwrap_or_default();
                    }
                    r.finish_reason = FinishReason::Completed;
                    if task.output_schema.is_some() {
                        match parse_structured(&r.output) {
                            Ok(v) => r.structured_output = Some(v),
                            Err(e) => {
                                r.finish_reason = FinishReason::Error;
                                r.error = Some(TaskError::new(
                                    TaskErrorKind::Schema,
                                    format!("the final message is not JSON: {e}"),
                                ));
                            }
                        }
                    }
                }
                Some("failed") => {
                    let err = match &turn["error"] {
                        Value::Null => self.st.last_error.clone().unwrap_or(Value::Null),
                        e => e.clone(),
                    };
                    let err = errors::classify(&err);
                    r.finish_reason = if err.kind == TaskErrorKind::Budget {
                        FinishReason::Budget
                    } else {
                        FinishReason::Error
                    };
                    r.error = Some(err);
                }
                // Codex interrupted the turn without being asked: not a cancel by the host.
                other => {
                    r.finish_reason = FinishReason::Error;
                    r.error = Some(TaskError::new(
                        TaskErrorKind::Vendor,
                        format!(
                            "codex ended the turn with status {}",
                            other.unwrap_or("unknown")
                        ),
                    ));
                }
            },
            Ending::Interrupted { why, soft } => {
                // Stopped before the turn began and codex exited on its own: nothing was killed.
                let soft = soft || (!self.turn_started && !killed);
                match why {
                    Why::Stop => {
                        r.finish_reason = FinishReason::Cancelled;
                        r.cancel = Some(if soft {
                            CancelMode::Soft
                        } else {
                            CancelMode::Forced
                        });
                    }
                    Why::MaxTurns => {
                        r.finish_reason = FinishReason::MaxTurns;
                        r.error = Some(TaskError::new(
                            TaskErrorKind::MaxTurns,
                            format!(
                                "stopped after {} model responses (maxTurns {})",
                                self.st.responses,
                                task.max_turns.unwrap_or_default()
                            ),
                        ));
                    }
                    Why::Retrying => {
                        r.finish_reason = FinishReason::Error;
                        r.error = Some(TaskError::new(
                            TaskErrorKind::Vendor,
                            format!(
                                "codex kept retrying for {} ms without progress: {}",
                                self.opts.max_retry_ms.unwrap_or(DEFAULT_MAX_RETRY_MS),
                                self.st.retry_message.as_deref().unwrap_or("no message")
                            ),
                        ));
                    }
                }
            }
            Ending::Exited => {
                r.finish_reason = FinishReason::Error;
                r.error = Some(exited_error(exit_code, &tail));
            }
            Ending::Failed(err) => {
                r.finish_reason = FinishReason::Error;
                r.error = Some(err);
            }
        }
        r
    }
}

/// What the settings codex keeps between turns were last set to.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TurnSettings {
    pub model: Option<String>,
    pub approval: &'static str,
    pub sandbox: &'static str,
}

impl TurnSettings {
    pub fn of(task: &AgentTask, opts: &CodexOptions) -> TurnSettings {
        let perms = task.permissions();
        TurnSettings {
            model: task.model.clone(),
            approval: approval_policy(perms.approvals, opts),
            sandbox: sandbox_mode(perms.sandbox),
        }
    }

    /// After a turn with `task`: a turn that names no model keeps the thread's.
    pub fn after(&self, task: &AgentTask, opts: &CodexOptions) -> TurnSettings {
        let mut now = TurnSettings::of(task, opts);
        if now.model.is_none() {
            now.model = self.model.clone();
        }
        now
    }
}

pub(super) fn exited_error(exit_code: Option<i32>, tail: &str) -> TaskError {
    TaskError::new(
        TaskErrorKind::Process,
        format!(
            "codex exited before the turn ended (exit code {}){}",
            exit_code.map_or("none".into(), |c| c.to_string()),
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            }
        ),
    )
}

fn last_agent_text(turn: &Value) -> Option<String> {
    turn["items"]
        .as_array()?
        .iter()
        .rev()
        .find(|i| i["type"] == "agentMessage")
        .and_then(|i| i["text"].as_str())
        .map(str::to_string)
}

/// The final message as JSON. Codex passes the schema to the model but checks nothing; a model
/// that wraps its JSON in a Markdown fence is forgiven the fence.
fn parse_structured(text: &str) -> Result<Value, serde_json::Error> {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(t);
    serde_json::from_str(t.trim())
}
