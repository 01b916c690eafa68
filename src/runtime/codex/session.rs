//! One task through `codex app-server`: handshake, thread, turn, events, approvals, cancel, exit.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::client::{self, CallError, Client, Inbox, Incoming};
use super::mapping::{AgentDelta, Flow, TurnState};
use super::options::{CodexOptions, HostApprovalPolicy};
use super::{artifacts, input};
use super::{command, errors, NAME};
use crate::process::Supervised;
use crate::protocol::event::{EventBody, TaskStarted};
use crate::protocol::result::{
    AgentResult, CancelMode, ExitInfo, FinishReason, TaskError, TaskErrorKind,
};
use crate::protocol::task::{ApprovalMode, SandboxMode};
use crate::runtime::jsonl::DEFAULT_MAX_LINE_BYTES;
use crate::runtime::jsonrpc_peer::Message;
use crate::runtime::RunContext;

/// How long codex gets to end an interrupted turn before it is stopped by force.
const INTERRUPT_DEADLINE: Duration = Duration::from_secs(3);
/// How long codex gets to exit after its stdin closes, then after SIGTERM.
const EXIT_GRACE: Duration = Duration::from_secs(2);
const KILL_GRACE: Duration = Duration::from_secs(2);
const DEFAULT_STARTUP_MS: u64 = 60_000;
const DEFAULT_MAX_RETRY_MS: u64 = 120_000;

/// Why we asked codex to interrupt the turn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Why {
    Stop,
    MaxTurns,
    Retrying,
}

#[derive(Debug)]
enum Ending {
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

pub async fn run(binary: PathBuf, ctx: RunContext, opts: CodexOptions) -> AgentResult {
    let wd = ctx.working_directory.clone();
    let cmd = command::app_server(&binary, &opts, &wd);
    let mut proc = match Supervised::spawn(cmd, NAME) {
        Ok(p) => p,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot start {}: {e}", binary.display()),
            )
        }
    };
    let (Some(stdin), Some(stdout)) = (proc.take_stdin(), proc.take_stdout(DEFAULT_MAX_LINE_BYTES))
    else {
        return AgentResult::failed(TaskErrorKind::Process, "codex's stdio was not piped");
    };
    let (client, incoming) = client::start(
        stdin,
        stdout.into_inner(),
        DEFAULT_MAX_LINE_BYTES,
        Some(ctx.events.clone()),
    );
    let mut s = Session {
        st: TurnState::new(ctx.events.clone(), ctx.task.max_turns),
        ctx: &ctx,
        opts,
        client: client.clone(),
        incoming,
        tasks: JoinSet::new(),
        thread: Value::Null,
        thread_id: None,
        turn_started: false,
    };
    let ending = s.drive().await;

    // Shut codex down: close stdin (app-server then ends its tool processes and exits), SIGTERM,
    // SIGKILL; tool processes it started in their own session are killed too (see `wind_down`).
    s.tasks.abort_all();
    let (exit, killed) = proc
        .wind_down(Some(client.output()), EXIT_GRACE, KILL_GRACE)
        .await;

    // What codex's fileChange items reported; the core adds what the workspace listing saw
    // (a shell command's writes included).
    let artifacts = artifacts::merge(&wd, &s.st.patched);
    s.result(ending, exit, killed, artifacts)
}

struct Session<'a> {
    ctx: &'a RunContext,
    opts: CodexOptions,
    client: Client,
    incoming: Inbox,
    tasks: JoinSet<()>,
    st: TurnState,
    /// The thread object codex returned.
    thread: Value,
    thread_id: Option<String>,
    turn_started: bool,
}

impl Session<'_> {
    async fn drive(&mut self) -> Ending {
        if let Err(e) = self.start().await {
            return e;
        }
        self.turn_loop().await
    }

    /// A startup call, bounded by the startup deadline and the task's stop.
    async fn guarded<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, Ending> {
        let ms = self.opts.startup_timeout_ms.unwrap_or(DEFAULT_STARTUP_MS);
        tokio::select! {
            r = fut => r.map_err(|e| match e {
                CallError::Closed { .. } => Ending::Exited,
                CallError::Rpc { message, .. } => Ending::Failed(TaskError::new(
                    TaskErrorKind::Vendor,
                    format!("codex refused {what}: {message}"),
                )),
            }),
            _ = self.ctx.stop.stopped() => Err(Ending::Interrupted { why: Why::Stop, soft: false }),
            _ = tokio::time::sleep(Duration::from_millis(ms)) => Err(Ending::Failed(TaskError::new(
                TaskErrorKind::Process,
                format!("codex did not answer {what} within {ms} ms"),
            ))),
        }
    }

    async fn start(&mut self) -> Result<(), Ending> {
        let ctx = self.ctx;
        let client = self.client.clone();
        self.guarded(
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
        client.notify("initialized").await;

        let task = &ctx.task;
        let perms = task.permissions();
        let approval_policy = match perms.approvals {
            ApprovalMode::Deny => "never",
            ApprovalMode::Host => match self.opts.host_approval_policy {
                Some(HostApprovalPolicy::OnRequest) => "on-request",
                _ => "untrusted",
            },
        };
        let sandbox = match perms.sandbox {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::FullAccess => "danger-full-access",
        };
        let mut params = json!({
            "cwd": ctx.working_directory,
            "approvalPolicy": approval_policy,
            "sandbox": sandbox,
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
        let mut config = self.opts.thread_config();
        if let Some(servers) = &task.mcp_servers {
            config.insert("mcp_servers".into(), super::mcp::config(servers));
        }
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
        let opened = self
            .guarded(method, client.request(method, params))
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
        ctx.events
            .emit(EventBody::TaskStarted(TaskStarted {
                runtime: NAME.into(),
                model: opened["model"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| task.model.clone()),
                working_directory: ctx.working_directory.display().to_string(),
                permissions: perms.clone(),
                session_id: self.thread_id.clone(),
                metadata: task.metadata.clone(),
                vendor: Some(json!({
                    "modelProvider": opened["modelProvider"],
                    "approvalPolicy": opened["approvalPolicy"],
                    "sandbox": opened["sandbox"],
                    "threadPath": self.thread["path"],
                    "cliVersion": self.thread["cliVersion"],
                })),
            }))
            .await;

        let mut turn = json!({
            "threadId": self.thread_id,
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
        if !extra.is_empty() && perms.sandbox == SandboxMode::WorkspaceWrite {
            t.insert(
                "sandboxPolicy".into(),
                json!({ "type": "workspaceWrite", "writableRoots": extra, "networkAccess": false }),
            );
        }
        let started = self
            .guarded("turn/start", client.request("turn/start", turn))
            .await?;
        self.turn_started = true;
        if self.st.turn_id.is_none() {
            self.st.turn_id = started["turn"]["id"].as_str().map(str::to_string);
        }
        Ok(())
    }

    async fn turn_loop(&mut self) -> Ending {
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
                msg = self.incoming.recv() => {
                    let Some(first) = msg else { return Ending::Exited };
                    // The rest of the batch the reader handed over goes without a pass through
                    // this `select!` each (a streamed answer is hundreds of thousands of deltas);
                    // a batch is bounded, so a stop is still seen within one.
                    let mut next = Some(first);
                    while let Some(msg) = next {
                        if let Some(ending) = self.on_message(msg, &mut interrupting).await {
                            return ending;
                        }
                        next = self.incoming.next_at_hand();
                    }
                }
                _ = self.ctx.stop.stopped(), if interrupting.is_none() => {
                    interrupting = Some((Why::Stop, self.interrupt()));
                }
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
                self.tasks.spawn(super::approvals::answer(
                    self.client.clone(),
                    self.ctx.approvals.clone(),
                    self.st.tools.clone(),
                    id,
                    message.method().to_string(),
                    params,
                ));
                None
            }
            Incoming::Notification(n) => match self.on_notification(n).await {
                Flow::Continue => None,
                Flow::TurnCompleted(turn) => Some(match (*interrupting, turn["status"].as_str()) {
                    (Some((why, _)), Some("interrupted")) => {
                        Ending::Interrupted { why, soft: true }
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
        let client = self.client.clone();
        let params = json!({ "threadId": self.thread_id, "turnId": self.st.turn_id });
        self.tasks.spawn(async move {
            if let Err(e) = client.request("turn/interrupt", params).await {
                tracing::debug!("turn/interrupt: {e}");
            }
        });
        Instant::now() + INTERRUPT_DEADLINE
    }

    fn result(
        self,
        ending: Ending,
        exit: ExitInfo,
        killed: bool,
        artifacts: Vec<crate::protocol::result::Artifact>,
    ) -> AgentResult {
        let task = &self.ctx.task;
        let session_changed = match (task.resume(), &self.thread_id) {
            (Some(s), Some(t)) => s != t,
            _ => false,
        };
        let mut r = AgentResult {
            output: self.st.last_message.clone().unwrap_or_default(),
            session_id: self.thread_id.clone(),
            session_changed,
            artifacts,
            tool_calls: self.st.tool_calls.clone(),
            usage: self.st.usage(),
            turns: self.st.responses,
            vendor: Some(json!({
                "threadId": self.thread_id,
                "turnId": self.st.turn_id,
                "modelProvider": self.thread["modelProvider"],
                "cliVersion": self.thread["cliVersion"],
            })),
            ..Default::default()
        };
        let exit_code = exit.code;
        r.exit = Some(exit);
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
                let tail = r
                    .exit
                    .as_ref()
                    .and_then(|e| e.stderr_tail.last().cloned())
                    .unwrap_or_default();
                r.error = Some(TaskError::new(
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
                ));
            }
            Ending::Failed(err) => {
                r.finish_reason = FinishReason::Error;
                r.error = Some(err);
            }
        }
        r
    }
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
