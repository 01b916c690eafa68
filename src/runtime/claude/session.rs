//! One run of the CLI: spawn, feed stdin, read stdout, answer control requests, stop.
//!
//! Ending well matters as much as running: after the `result` line we close stdin and give the CLI
//! [`FLUSH_GRACE`] to write its session file before any signal (a SIGTERM right after EOF loses the
//! last message and breaks resume, lessons #4). Cancel is an `interrupt` control request first
//! (the turn ends with its own `result`: soft); only if none comes within [`INTERRUPT_DEADLINE`]
//! is the process group signalled (SIGTERM, [`TERM_GRACE`], SIGKILL: forced).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::answers::{self, Decided, Pending};
use super::command;
use super::mapping::{self, Action, Mapper};
use super::options::ClaudeOptions;
use super::permissions;
use super::wire;
use crate::hygiene;
use crate::process::{StdinLines, Supervised};
use crate::protocol::event::{EventBody, TextData};
use crate::protocol::result::{AgentResult, CancelMode, FinishReason, TaskError, TaskErrorKind};
use crate::runtime::jsonl::{JsonLines, VendorLine, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::RunContext;

/// How long an interrupted turn may take to end with its own `result`.
pub const INTERRUPT_DEADLINE: Duration = Duration::from_secs(4);
/// How long the CLI gets after stdin EOF to flush its session file and exit.
pub const FLUSH_GRACE: Duration = Duration::from_secs(5);
/// SIGTERM → SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// A line of the CLI's stdout, read once: a text delta into its text, anything else into a `Value`.
enum Line {
    TextDelta(String),
    Other(Value),
}

/// Reads one line; text deltas the typed way (see [`wire::text_delta`]) unless `typed_deltas` is
/// off (the host wants every raw vendor message, which needs the `Value`).
fn parse_line(typed_deltas: bool, line: &str) -> serde_json::Result<Line> {
    if typed_deltas {
        if let Some(text) = wire::text_delta(line) {
            return Ok(Line::TextDelta(text));
        }
    }
    serde_json::from_str(line).map(Line::Other)
}

/// Why we sent an interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Stop,
    Auth,
}

pub async fn run(binary: &Path, ctx: RunContext, opts: ClaudeOptions) -> AgentResult {
    let mapping = match permissions::map(&ctx.task.permissions(), ctx.task.mcp_servers.as_ref()) {
        Ok(m) => m,
        // validate() refuses these before the run; reaching here is a bug.
        Err(r) => {
            return AgentResult::failed(
                TaskErrorKind::Protocol,
                format!("{}: {}", r.field, r.reason),
            )
        }
    };
    let private = match crate::private_dir::tempdir("ark-claude-") {
        Ok(d) => d,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot create a temp dir: {e}"),
            )
        }
    };
    let launch = match command::build(
        binary,
        &ctx.task,
        &opts,
        &mapping,
        &ctx.working_directory,
        private.path(),
    ) {
        Ok(l) => l,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot prepare the claude CLI's inputs: {e}"),
            )
        }
    };
    let mut proc = match Supervised::spawn(launch.command, "claude") {
        Ok(p) => p,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot start {}: {e}", binary.display()),
            )
        }
    };
    let result = drive(
        &ctx,
        &mut proc,
        launch.initialize,
        ctx.working_directory.clone(),
    )
    .await;
    // The temp dir (MCP config, TMPDIR with the CLI's socket) goes only after the process is gone.
    drop(proc);
    drop(private);
    result
}

async fn drive(
    ctx: &RunContext,
    proc: &mut Supervised,
    initialize: Value,
    wd: PathBuf,
) -> AgentResult {
    let tx = proc.take_stdin_lines().expect("stdin is piped");
    let stdout = proc
        .take_stdout(DEFAULT_MAX_LINE_BYTES)
        .expect("stdout is piped")
        .into_inner();
    let mut lines = JsonLines::new(stdout, DEFAULT_MAX_LINE_BYTES);
    tx.send(&initialize).await;
    tx.send(&wire::user_message_with(&ctx.task.goal, &ctx.attachments))
        .await;

    let (decided_tx, mut decided_rx) = mpsc::unbounded_channel::<Decided>();
    let mut approvals = JoinSet::new();
    let mut pending = Pending::default();
    let mut mapper = Mapper::new(&ctx.task, wd);
    let mut result_line: Option<Value> = None;
    // Replies to unsupported control requests dropped because claude was not reading its stdin.
    let mut dropped = 0u64;
    let mut interrupt: Option<(Interrupt, Instant)> = None;
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    // Text deltas skip the `Value` tree unless the host wants every raw vendor message.
    let typed_deltas = !ctx.events.includes_vendor_events();

    loop {
        let deadline = interrupt.map(|(_, d)| d).unwrap_or(far);
        tokio::select! {
            line = lines.next_with(|l| parse_line(typed_deltas, l)) => match line {
                None => break,
                Some(VendorLine::Json(Line::TextDelta(text))) => {
                    ctx.events
                        .emit(EventBody::OutputDelta(TextData { text, vendor: None }))
                        .await;
                }
                Some(VendorLine::Json(Line::Other(v))) => {
                    ctx.events.vendor_event(&v).await;
                    match v["type"].as_str().unwrap_or_default() {
                        "result" => {
                            result_line = Some(v);
                            break;
                        }
                        "control_request" => {
                            on_control_request(ctx, &tx, &decided_tx, &mut approvals, &mut pending, &mut dropped, &v);
                        }
                        "control_cancel_request" => pending.withdraw(&v),
                        // Acks of initialize / interrupt; nothing to do.
                        "control_response" => {}
                        _ => {
                            if mapper.on_line(&ctx.events, &v).await == Action::AuthFailed
                                && interrupt.is_none()
                            {
                                tx.send(&wire::interrupt("ark-auth")).await;
                                interrupt = Some((Interrupt::Auth, Instant::now() + INTERRUPT_DEADLINE));
                            }
                        }
                    }
                }
                Some(VendorLine::Text(t)) => {
                    ctx.events.touch();
                    tracing::debug!(target: "vendor_stdout", "claude: {}", hygiene::redact(&t));
                }
                Some(VendorLine::TooLong) => {
                    ctx.events.touch();
                    tracing::warn!("claude wrote a line over {DEFAULT_MAX_LINE_BYTES} bytes; skipped");
                }
            },
            Some(d) = decided_rx.recv() => {
                // A request the CLI withdrew meanwhile gets no reply.
                if pending.finish(&d.request_id) {
                    if let Some(message) = &d.denied {
                        mapper.note_denied(&d.tool_use_id, message);
                    }
                    tx.send(&d.reply).await;
                }
            }
            _ = ctx.stop.stopped(), if interrupt.is_none() => {
                tx.send(&wire::interrupt("ark-cancel")).await;
                interrupt = Some((Interrupt::Stop, Instant::now() + INTERRUPT_DEADLINE));
            }
            _ = tokio::time::sleep_until(deadline), if interrupt.is_some() => break,
        }
    }
    approvals.abort_all();
    if dropped > 0 {
        tracing::warn!(dropped, "claude was not reading its stdin; replies to unsupported control requests were dropped");
    }

    // Wind down. With a result, the CLI ends by itself once stdin closes.
    let got_result = result_line.is_some();
    let timed_out_interrupt = !got_result && interrupt.is_some_and(|(_, d)| Instant::now() >= d);
    let exit_grace = if got_result {
        FLUSH_GRACE
    } else if timed_out_interrupt {
        Duration::ZERO
    } else {
        // stdout closed without a result: the process is exiting (or closed stdout and hangs).
        TERM_GRACE
    };
    let (exit, _) = proc.wind_down(Some(&tx), exit_grace, TERM_GRACE).await;

    let stopped = ctx.stop.is_stopped();
    let auth_status = mapper.auth_retry();
    let mut r = mapper.finish(result_line.as_ref(), &exit);
    match interrupt.map(|(why, _)| why) {
        Some(Interrupt::Stop) if r.finish_reason != FinishReason::Completed => {
            r.finish_reason = FinishReason::Cancelled;
            r.structured_output = None;
            if timed_out_interrupt {
                r.cancel = Some(CancelMode::Forced);
                r.error = Some(TaskError::new(
                    TaskErrorKind::Process,
                    format!(
                        "the claude CLI did not end the turn within {} s of an interrupt; its \
                         process group was killed",
                        INTERRUPT_DEADLINE.as_secs()
                    ),
                ));
            } else {
                r.cancel = Some(CancelMode::Soft);
                r.error = None;
            }
        }
        Some(Interrupt::Auth) => {
            r.finish_reason = FinishReason::Error;
            r.structured_output = None;
            r.error = Some(mapping::auth_error(auth_status.unwrap_or(401)));
            if stopped {
                r.finish_reason = FinishReason::Cancelled;
                r.cancel = Some(CancelMode::Soft);
            }
        }
        _ => {}
    }
    r
}

/// Serves one CLI → host control request without blocking the read loop.
fn on_control_request(
    ctx: &RunContext,
    tx: &StdinLines,
    decided: &mpsc::UnboundedSender<Decided>,
    approvals: &mut JoinSet<()>,
    pending: &mut Pending,
    dropped: &mut u64,
    v: &Value,
) {
    let request_id = v["request_id"].as_str().unwrap_or_default().to_string();
    let req = &v["request"];
    let subtype = req["subtype"].as_str().unwrap_or_default();
    if subtype != "can_use_tool" {
        tracing::debug!(subtype, "claude control request not served");
        // Never wait here (the read loop must go on) and never park the reply in a task: a CLI
        // that floods requests without reading its stdin would grow one pending task per
        // request. With the bounded queue full it is not reading anyway: drop the reply.
        if !tx.try_send(&wire::unsupported(&request_id, subtype)) {
            *dropped += 1;
        }
        return;
    }
    let name = req["tool_name"].as_str().unwrap_or_default().to_string();
    let input = req["input"].clone();
    let tool_use_id = req["tool_use_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let broker = ctx.approvals.clone();
    let decided = decided.clone();
    // The host may take minutes to answer: decide in the background, reply through the loop
    // (which records denials before the tool_result can arrive). Aborting the task withdraws
    // the host's request (`control_cancel_request`).
    let id = request_id.clone();
    let handle = approvals.spawn(async move {
        let _ = decided.send(answers::decide(broker, request_id, tool_use_id, name, input).await);
    });
    pending.insert(id, handle);
}
