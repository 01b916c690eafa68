//! One task: spawn the bridge, feed it the task, map its events, answer its approvals, stop it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::command::{self, StateDirs};
use super::mapping::{self, Mapper};
use super::options::{AntigravityOptions, DEFAULT_API_RETRIES, DEFAULT_RETRY_INITIAL_DELAY_MS};
use super::questions;
use super::wire::{
    AnswersReply, ApprovalReply, BridgeEvent, BridgeImage, BridgeMcpServer, BridgeTask,
    SdkQuestion, Started, TurnEnd,
};
use super::NAME;
use crate::process::{StdinLines, Supervised, VendorStdout};
use crate::protocol::event::{EventBody, TaskStarted, VendorTurn};
use crate::protocol::methods::{ApprovalResponse, Decision, InputResponse};
use crate::protocol::result::{
    AgentResult, CancelMode, ExitInfo, FinishReason, TaskError, TaskErrorKind, ToolStatus,
};
use crate::protocol::task::{AgentTask, ApprovalMode, McpServer, SandboxMode};
use crate::runtime::attachments::Loaded;
use crate::runtime::jsonl::{JsonLines, VendorLine, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::{tool_calls, RunContext};

/// After a cancel, how long the bridge gets to stop the turn itself before it is killed.
pub(super) const SOFT_CANCEL_GRACE: Duration = Duration::from_secs(6);
/// After the bridge's last event, how long it gets to shut its harness down and exit.
pub(super) const EXIT_GRACE: Duration = Duration::from_secs(5);

/// A request of the bridge that got its answer.
enum Settled {
    /// A tool approval: (our id, tool name, input, the decision).
    Approval(String, String, Value, ApprovalResponse),
    /// The agent's questions: (the bridge's id, the questions, when asked, the host's answers
    /// or why there are none).
    Answers(
        String,
        Vec<SdkQuestion>,
        std::time::Instant,
        Result<InputResponse, String>,
    ),
}

pub async fn run(python: PathBuf, ctx: RunContext, opts: AntigravityOptions) -> AgentResult {
    let (session_id, resume) = match ctx.task.resume() {
        Some(id) => (id.to_string(), true),
        None => (uuid::Uuid::new_v4().to_string(), false),
    };
    let perms = ctx.task.permissions();
    ctx.events
        .emit(EventBody::TaskStarted(TaskStarted {
            runtime: NAME.into(),
            model: ctx.task.model.clone(),
            working_directory: ctx.working_directory.display().to_string(),
            permissions: perms.clone(),
            session_id: Some(session_id.clone()),
            metadata: ctx.task.metadata.clone(),
            vendor: None,
        }))
        .await;

    let bridge = match command::install_bridge() {
        Ok(b) => b,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot write the Antigravity bridge: {e}"),
            )
        }
    };
    let dirs = match StateDirs::for_task(&opts, &ctx.task_id) {
        Ok(d) => d,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot create the Antigravity state directories: {e}"),
            )
        }
    };
    let mut task = bridge_task(
        &ctx.task,
        &ctx.working_directory,
        &opts,
        &dirs,
        &session_id,
        resume,
    );
    (task.goal, task.images) = prompt(&ctx.task.goal, &ctx.attachments);
    let result = drive(
        &python,
        &bridge,
        &dirs,
        &ctx,
        task,
        session_id,
        &opts.pass_env,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dirs.tmp);
    result
}

pub(super) fn bridge_task(
    t: &AgentTask,
    cwd: &Path,
    opts: &AntigravityOptions,
    dirs: &StateDirs,
    session_id: &str,
    resume: bool,
) -> BridgeTask {
    let perms = t.permissions();
    let mcp_servers = t
        .mcp_servers
        .iter()
        .flatten()
        .map(|(name, s)| match s {
            McpServer::Stdio(s) => BridgeMcpServer::Stdio {
                name: name.clone(),
                command: s.command.clone(),
                args: s.args.clone(),
                env: s.env.clone(),
            },
            McpServer::Http(s) => BridgeMcpServer::Http {
                name: name.clone(),
                url: s.url.clone(),
                headers: s.headers.clone(),
            },
        })
        .collect();
    BridgeTask {
        kind: "task",
        goal: t.goal.clone(),
        working_directory: cwd.display().to_string(),
        additional_directories: t
            .additional_directories
            .iter()
            .flatten()
            .map(|d| absolute(cwd, d))
            .collect(),
        model: t.model.clone(),
        system_prompt: t.system_prompt.clone(),
        append_system_prompt: t.append_system_prompt.clone(),
        sandbox: match perms.sandbox {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::FullAccess => "full-access",
        },
        conversation_id: session_id.to_string(),
        resume,
        save_dir: dirs.save_dir.display().to_string(),
        app_data_dir: dirs.app_data_dir.as_ref().map(|d| d.display().to_string()),
        mcp_servers,
        response_schema: t.output_schema.clone(),
        api_retries: opts.api_retries.unwrap_or(DEFAULT_API_RETRIES),
        retry_initial_delay_ms: opts
            .retry_initial_delay_ms
            .unwrap_or(DEFAULT_RETRY_INITIAL_DELAY_MS),
        max_model_calls: t.max_turns,
        base_url: opts.base_url.clone(),
        vertex: opts.vertex.clone(),
        live: false,
        // Someone can answer: the agent gets the ask_question tool. (A live session fixes it
        // when it opens; a later turn under "deny" declines its questions.)
        questions: perms.approvals == ApprovalMode::Host,
        images: vec![],
    }
}

/// The goal and the task's attachments as the bridge sends them: images as the SDK's content
/// parts; text files before the goal, fenced with their names (as for the other runtimes).
pub(super) fn prompt(goal: &str, attachments: &[Loaded]) -> (String, Vec<BridgeImage>) {
    let mut texts: Vec<String> = attachments.iter().filter_map(Loaded::file_text).collect();
    let images = attachments
        .iter()
        .filter_map(|a| match a {
            Loaded::Image {
                media_type, base64, ..
            } => Some(BridgeImage {
                media_type: media_type.to_string(),
                data: base64.clone(),
            }),
            Loaded::File { .. } => None,
        })
        .collect();
    if texts.is_empty() {
        return (goal.to_string(), images);
    }
    if !goal.is_empty() {
        texts.push(goal.to_string());
    }
    (texts.join("\n\n"), images)
}

fn absolute(cwd: &Path, d: &str) -> String {
    let p = cwd.join(d);
    p.canonicalize().unwrap_or(p).display().to_string()
}

/// What the bridge said about how the turn ended.
#[derive(Default)]
struct Outcome {
    started: Option<Started>,
    turn_end: Option<TurnEnd>,
    error: Option<TaskError>,
    cancelled: bool,
}

async fn drive(
    python: &Path,
    bridge: &Path,
    dirs: &StateDirs,
    ctx: &RunContext,
    task: BridgeTask,
    session_id: String,
    pass_env: &[String],
) -> AgentResult {
    let cmd = command::bridge_command(python, bridge, dirs, &ctx.working_directory, pass_env);
    let mut child = match Supervised::spawn(cmd, "antigravity") {
        Ok(c) => c,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot start {}: {e}", python.display()),
            )
        }
    };
    let Some(stdin) = child.take_stdin_lines() else {
        return AgentResult::failed(TaskErrorKind::Process, "the bridge has no stdin");
    };
    let Some(stdout) = child
        .take_stdout(DEFAULT_MAX_LINE_BYTES)
        .map(|f| f.into_inner())
    else {
        return AgentResult::failed(TaskErrorKind::Process, "the bridge has no stdout");
    };
    let mut lines = Lines::Stdout(JsonLines::new(stdout, DEFAULT_MAX_LINE_BYTES));
    // The task goes on stdin, never on a command line. Stdin then stays open: closing it tells
    // the bridge the sidecar is gone.
    stdin.send(&task).await;

    let mut turn = Turn::new(ctx, None);
    let forced = turn.pump(ctx, &mut lines, &stdin).await == LoopEnd::Forced;

    // Forced: the bridge already had its grace. Otherwise its output ended with the turn: stdin
    // EOF (the sidecar is done with it) and EXIT_GRACE to shut its harness down.
    let (exit_grace, term_grace) = if forced {
        (Duration::ZERO, Duration::from_millis(500))
    } else {
        (EXIT_GRACE, Duration::from_secs(1))
    };
    let (exit, _) = child.wind_down(Some(&stdin), exit_grace, term_grace).await;
    turn.finish(ctx, Some(exit), forced, &session_id, &dirs.save_dir)
        .await
}

/// Where a turn reads the bridge's lines: its stdout (one task per bridge), or the reader task of
/// a live session (the bridge outlives the turn).
pub(super) enum Lines {
    Stdout(JsonLines<VendorStdout>),
    Live(mpsc::Receiver<VendorLine>),
}

impl Lines {
    /// The next line; `None` once the bridge's stdout has ended. Cancel-safe.
    pub(super) async fn next(&mut self) -> Option<VendorLine> {
        match self {
            Lines::Stdout(l) => l.next().await,
            Lines::Live(rx) => rx.recv().await,
        }
    }
}

/// Why a turn's loop stopped reading.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LoopEnd {
    /// The bridge's stdout ended (one-shot: the task is over; live: the bridge is gone).
    Eof,
    /// A live session's bridge finished the turn; it waits for the next unless `last`.
    TurnDone { last: bool },
    /// A cancel was not honoured within [`SOFT_CANCEL_GRACE`]: the bridge must be killed.
    Forced,
}

/// One turn's state: the mapping of the bridge's events, and what it said about the ending.
pub(super) struct Turn {
    mapper: Mapper,
    out: Outcome,
}

impl Turn {
    /// `started`: a live session's bridge announced itself once, at open.
    pub(super) fn new(ctx: &RunContext, started: Option<Started>) -> Turn {
        Turn {
            mapper: Mapper::new(ctx.working_directory.clone()),
            out: Outcome {
                started,
                ..Default::default()
            },
        }
    }

    /// Maps the bridge's events and answers its approvals until the turn is over (stdout EOF
    /// or `turnDone`); `ctx.stop` asks the bridge to cancel the turn, softly first.
    pub(super) async fn pump(
        &mut self,
        ctx: &RunContext,
        lines: &mut Lines,
        stdin: &StdinLines,
    ) -> LoopEnd {
        let Turn { mapper, out } = self;
        // Dropped with the turn: a question still waiting for the host is withdrawn then
        // (`$/cancelRequest`), and a late answer is ignored.
        let mut pending: FuturesUnordered<BoxFuture<'static, Settled>> = FuturesUnordered::new();
        let mut cancel_deadline: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                line = lines.next() => {
                    let Some(line) = line else { return LoopEnd::Eof };
                    ctx.events.touch();
                    let raw = match line {
                        VendorLine::Json(v) => v,
                        VendorLine::Text(t) => {
                            tracing::warn!("non-JSON line from the Antigravity bridge: {}", crate::hygiene::redact(&t));
                            continue;
                        }
                        VendorLine::TooLong => {
                            tracing::warn!("skipped an over-long line from the Antigravity bridge");
                            continue;
                        }
                    };
                    ctx.events.vendor_event(&raw).await;
                    let event = match serde_json::from_value::<BridgeEvent>(raw) {
                        Ok(e) => e,
                        Err(e) => {
                            tracing::warn!("unexpected message from the Antigravity bridge: {e}");
                            continue;
                        }
                    };
                    match event {
                        BridgeEvent::Started(s) => out.started = Some(s),
                        BridgeEvent::Step { step } => {
                            for ev in mapper.step(&step) {
                                match ev.parent {
                                    None => ctx.events.emit(ev.body).await,
                                    Some(p) => ctx.events.emit_within(Some(&p), ev.body).await,
                                }
                            }
                        }
                        BridgeEvent::Approval(ask) => {
                            let name = mapping::tool_name(&ask.name, ask.server_name.as_deref());
                            ctx.events.emit(mapper.approval_requested(&ask.id, &name, &ask.args)).await;
                            let approvals = ctx.approvals.clone();
                            pending.push(async move {
                                let r = approvals.decide(&ask.id, &name, &ask.args).await;
                                Settled::Approval(ask.id, name, ask.args, r)
                            }.boxed());
                        }
                        BridgeEvent::Question(ask) => {
                            ctx.events.emit(EventBody::ToolRequested(crate::protocol::event::ToolRequested {
                                tool_call_id: ask.id.clone(),
                                name: questions::ASK_QUESTION.into(),
                                input: questions::tool_input(&ask.questions),
                                vendor: None,
                            })).await;
                            let approvals = ctx.approvals.clone();
                            let asked = questions::to_ours(&ask.questions);
                            pending.push(async move {
                                let began = std::time::Instant::now();
                                let r = approvals.ask_questions(Some(&ask.id), asked).await;
                                Settled::Answers(ask.id, ask.questions, began, r)
                            }.boxed());
                        }
                        BridgeEvent::TurnEnd(t) => out.turn_end = Some(t),
                        BridgeEvent::Cancelled => out.cancelled = true,
                        BridgeEvent::Error(e) => {
                            if let Some(tb) = &e.traceback {
                                tracing::debug!("Antigravity bridge traceback: {}", crate::hygiene::redact(tb));
                            }
                            out.error = Some(mapping::task_error(
                                &e.kind,
                                e.exception.as_deref(),
                                &e.message,
                                mapper.last_api_error.as_ref(),
                            ));
                        }
                        BridgeEvent::TurnDone { last } => return LoopEnd::TurnDone { last },
                    }
                }
                Some(settled) = pending.next(), if !pending.is_empty() => match settled {
                    Settled::Approval(id, name, input, answer) => {
                        let (allowed, message) = approval_outcome(&answer);
                        if let Some(ev) = mapper.approval_decided(&id, &name, &input, allowed, &message) {
                            ctx.events.emit(ev).await;
                        }
                        stdin.send(&ApprovalReply {
                            kind: "approval",
                            id: &id,
                            decision: if allowed { "allow" } else { "deny" },
                            message: (!message.is_empty()).then_some(message.as_str()),
                        }).await;
                    }
                    Settled::Answers(id, asked, began, answer) => {
                        let input = questions::tool_input(&asked);
                        let (reply, status, output) = match answer {
                            Ok(r) => (
                                AnswersReply {
                                    kind: "answers",
                                    id: &id,
                                    responses: Some(questions::responses(&asked, &r.answers)),
                                    declined: None,
                                },
                                ToolStatus::Ok,
                                questions::answered_output(&asked, &r.answers),
                            ),
                            Err(why) => {
                                let message = questions::declined_message(&why);
                                (
                                    AnswersReply {
                                        kind: "answers",
                                        id: &id,
                                        responses: None,
                                        declined: Some(message.clone()),
                                    },
                                    ToolStatus::Denied,
                                    json!(message),
                                )
                            }
                        };
                        let done = tool_calls::complete(
                            &mut mapper.tool_calls,
                            (id.clone(), questions::ASK_QUESTION.into(), input),
                            (status, output),
                            began.elapsed().as_millis() as u64,
                        );
                        ctx.events.emit(EventBody::ToolCompleted(done)).await;
                        stdin.send(&reply).await;
                    }
                },
                _ = ctx.stop.stopped(), if cancel_deadline.is_none() => {
                    // Soft first: the bridge asks the harness to halt the turn.
                    stdin.send(&json!({"type": "cancel"})).await;
                    cancel_deadline = Some(tokio::time::Instant::now() + SOFT_CANCEL_GRACE);
                }
                _ = sleep_until(cancel_deadline), if cancel_deadline.is_some() => {
                    tracing::debug!("the Antigravity bridge did not stop the turn in time");
                    return LoopEnd::Forced;
                }
            }
        }
    }

    /// The turn's result. `exit`: the bridge's, when it ended with the turn (always for a
    /// one-shot task; for a live session only when it died); `forced`: it had to be killed.
    /// `session_id`: the conversation id asked for; `save_dir`: where the SDK keeps it.
    pub(super) async fn finish(
        self,
        ctx: &RunContext,
        exit: Option<ExitInfo>,
        forced: bool,
        session_id: &str,
        save_dir: &Path,
    ) -> AgentResult {
        let Turn {
            mut mapper,
            mut out,
        } = self;
        let stopped = ctx.stop.is_stopped() || out.cancelled;
        for ev in mapper.close_open(if stopped {
            "cancelled"
        } else {
            "the turn ended before the tool finished"
        }) {
            ctx.events.emit(ev).await;
        }
        let turn_end_seen = out.turn_end.is_some();
        let turn_end = out.turn_end.take().unwrap_or_default();
        let usage = mapping::usage(turn_end.usage.as_ref());
        if mapper.turns() > 0 {
            ctx.events
                .emit(EventBody::VendorTurn(VendorTurn {
                    turn: mapper.turns(),
                    usage: usage.clone(),
                    vendor_turn_id: None,
                    vendor: turn_end
                        .stop_reason
                        .as_ref()
                        .map(|s| json!({ "stopReason": s })),
                }))
                .await;
        }

        let mut result = AgentResult {
            output: mapper.last_message.clone().unwrap_or_default(),
            structured_output: turn_end
                .structured_output
                .clone()
                .or(mapper.structured_output.clone()),
            // The conversation id the SDK reports (the one we chose, unless it changed it).
            session_id: out.started.as_ref().map(|s| s.session_id.clone()),
            session_changed: out
                .started
                .as_ref()
                .is_some_and(|s| s.session_id != session_id),
            usage,
            turns: mapper.turns(),
            artifacts: std::mem::take(&mut mapper.artifacts),
            tool_calls: std::mem::take(&mut mapper.tool_calls),
            vendor: Some(json!({
                "sdkVersion": out.started.as_ref().and_then(|s| s.sdk_version.clone()),
                "sandboxAvailable": out.started.as_ref().and_then(|s| s.sandbox_available),
                "stopReason": turn_end.stop_reason,
                "usage": turn_end.usage,
                "saveDir": save_dir.display().to_string(),
            })),
            exit: exit.clone(),
            ..Default::default()
        };
        if stopped {
            result.finish_reason = FinishReason::Cancelled;
            // Soft: the bridge stopped the turn by itself; forced: it had to be killed.
            result.cancel = Some(if forced {
                CancelMode::Forced
            } else {
                CancelMode::Soft
            });
            result.structured_output = None;
            return result;
        }
        if let Some(err) = out.error {
            result.finish_reason = FinishReason::Error;
            result.error = Some(err);
            return result;
        }
        match turn_end.stop_reason.as_deref() {
            Some("MAX_MODEL_CALLS_EXCEEDED") => {
                result.finish_reason = FinishReason::MaxTurns;
                result.error = Some(TaskError::new(
                    TaskErrorKind::MaxTurns,
                    format!(
                        "the turn stopped after maxTurns ({}) model calls",
                        ctx.task.max_turns.unwrap_or(0)
                    ),
                ));
                return result;
            }
            Some("QUOTA_EXHAUSTED") => {
                result.finish_reason = FinishReason::Error;
                result.error = Some(TaskError::new(
                    TaskErrorKind::RateLimit,
                    "the model API quota is exhausted",
                ));
                return result;
            }
            Some(s) if s.starts_with("MAX_") => {
                result.finish_reason = FinishReason::Budget;
                result.error = Some(TaskError::new(
                    TaskErrorKind::Budget,
                    format!("the SDK stopped the turn: {s}"),
                ));
                return result;
            }
            _ => {}
        }
        if out.started.is_none() || !turn_end_seen {
            let exit = exit.unwrap_or_default();
            let tail = exit
                .stderr_tail
                .iter()
                .rev()
                .take(5)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ");
            result.finish_reason = FinishReason::Error;
            result.error = Some(TaskError {
                kind: TaskErrorKind::Process,
                message: format!(
                    "the Antigravity bridge exited ({}) before the turn ended: {tail}",
                    match (exit.code, exit.signal) {
                        (Some(code), _) => format!("status {code}"),
                        (None, Some(signal)) => format!("signal {signal}"),
                        (None, None) => "status unknown".to_string(),
                    }
                ),
                vendor_code: exit.code.map(|c| json!(c)),
            });
        }
        result
    }
}

/// Whether the bridge runs the call, and the message for it. `allowForSession` allows (the core
/// remembers the grant); `abort` denies (the core stops the task). The SDK's approval callback can
/// only allow or deny, so an answer that changes the input is refused with a denied call that
/// says so, rather than running the original input.
fn approval_outcome(answer: &ApprovalResponse) -> (bool, String) {
    match answer.decision {
        Decision::Allow | Decision::AllowForSession if answer.updated_input.is_some() => (
            false,
            "denied: the Antigravity SDK cannot change a tool call's input (updatedInput)".into(),
        ),
        Decision::Allow | Decision::AllowForSession => {
            (true, answer.message.clone().unwrap_or_default())
        }
        Decision::Deny | Decision::Abort => (
            false,
            answer.message.clone().unwrap_or_else(|| "denied".into()),
        ),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
