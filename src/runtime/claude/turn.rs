//! One turn in a running CLI: write the user message, map stdout until the turn's `result`,
//! answer control requests, interrupt on stop, pass steering text in. Shared by the one-shot
//! run (`session.rs`) and the live session (`live.rs`), which differ only in what they do with
//! the process afterwards.
//!
//! Steering (vendors/claude.md "Facts found 2026-11-30"): a user message written while a turn
//! runs is queued by the CLI. If the turn makes another model call (after a tool result), the
//! message joins that call ("The user sent a new message while you were working: …") and the
//! turn ends with one `result`. If not, the CLI runs it right after as a turn of its own, with a
//! second `result`. With `--replay-user-messages` the CLI echoes each user message it takes
//! (`isReplay: true`), so a `result` with steering text not yet echoed is not the end of our
//! turn: we read on to the `result` that answers it.

use std::path::PathBuf;
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::answers::{self, Decided, Pending};
use super::mapping::{self, Action, Mapper};
use super::wire;
use crate::hygiene;
use crate::process::{StdinLines, VendorStdout};
use crate::protocol::event::{EventBody, TextData};
use crate::protocol::result::{
    AgentResult, CancelMode, ExitInfo, FinishReason, TaskError, TaskErrorKind, Usage,
};
use crate::runtime::jsonl::{JsonLines, VendorLine, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::{RunContext, Steering};

/// How long an interrupted turn may take to end with its own `result`.
pub const INTERRUPT_DEADLINE: Duration = Duration::from_secs(4);
/// After the last background sub-agent ends, how long to wait for the follow-up `result` the CLI
/// starts by itself (2.1.332: ~0.1 s) before the held one ends the turn.
const SUBAGENT_SETTLE: Duration = Duration::from_secs(5);
/// Most text deltas taken one after another without looking at stop, steering or answers.
const MAX_STREAK: usize = 256;

pub type Lines = JsonLines<VendorStdout>;

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
pub enum Interrupt {
    Stop,
    Auth,
}

/// How a turn's reading ended.
pub struct TurnEnd {
    pub mapper: Mapper,
    /// The `result` that ends the turn.
    pub result_line: Option<Value>,
    /// Token usage of earlier `result`s of this turn (steering text that ran as its own
    /// vendor turn), added to the last one's.
    pub earlier_usage: Usage,
    pub interrupt: Option<(Interrupt, Instant)>,
    /// The interrupt went unanswered past its deadline: the process must be killed.
    pub interrupt_timed_out: bool,
    /// stdout ended (the process is exiting or gone).
    pub eof: bool,
}

/// Writes `prompt` and reads the turn to its end.
pub async fn drive(
    ctx: &RunContext,
    steer: &mut Steering,
    tx: &StdinLines,
    lines: &mut Lines,
    prompt: &str,
    wd: PathBuf,
) -> TurnEnd {
    // The task's attachments go with the prompt (read and checked at admission).
    tx.send(&wire::user_message_with(prompt, &ctx.attachments))
        .await;
    // User messages written in this turn, and how many of them the CLI has taken (echoed).
    let mut written = 1usize;
    let mut taken = 0usize;

    let (decided_tx, mut decided_rx) = mpsc::unbounded_channel::<Decided>();
    let mut approvals = JoinSet::new();
    let mut pending = Pending::default();
    let mut mapper = Mapper::new(&ctx.task, wd);
    let mut result_line: Option<Value> = None;
    let mut earlier_usage = Usage::default();
    // Replies to unsupported control requests dropped because claude was not reading its stdin.
    let mut dropped = 0u64;
    let mut interrupt: Option<(Interrupt, Instant)> = None;
    let mut eof = false;
    // A `result` that came while background sub-agents (the `Agent` tool) still ran: the turn
    // ends when they do, with the CLI's follow-up `result` (vendors/claude.md; testdata
    // 11_subagent_after_result). `settle`: when to give up waiting for that follow-up.
    let mut held_result: Option<Value> = None;
    let mut settle: Option<Instant> = None;
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    // Text deltas skip the `Value` tree unless the host wants every raw vendor message.
    let typed_deltas = !ctx.events.includes_vendor_events();

    // A line already read, taken after a text delta without a pass through `select!` (which
    // builds its timers and cancellation waits anew on every pass; a streamed answer is
    // hundreds of thousands of deltas). At most `MAX_STREAK` in a row, so a stop or an answer is
    // still seen between them.
    let mut at_hand: Option<Option<VendorLine<Line>>> = None;
    let mut streak = 0usize;
    loop {
        let deadline = interrupt.map(|(_, d)| d).unwrap_or(far);
        let line = match at_hand.take() {
            Some(line) => line,
            None => {
                streak = 0;
                tokio::select! {
                    line = lines.next_with(|l| parse_line(typed_deltas, l)) => line,
                    Some(d) = decided_rx.recv() => {
                        // A request the CLI withdrew meanwhile gets no reply.
                        if pending.finish(&d.request_id) {
                            if let Some(message) = &d.denied {
                                mapper.note_denied(&d.tool_use_id, message);
                            }
                            tx.send(&d.reply).await;
                        }
                        continue;
                    }
                    text = steer.next(), if interrupt.is_none() => {
                        tx.send(&wire::user_message(&text)).await;
                        written += 1;
                        continue;
                    }
                    _ = ctx.stop.stopped(), if interrupt.is_none() => {
                        tx.send(&wire::interrupt("ark-cancel")).await;
                        interrupt = Some((Interrupt::Stop, Instant::now() + INTERRUPT_DEADLINE));
                        continue;
                    }
                    _ = tokio::time::sleep_until(deadline), if interrupt.is_some() => break,
                    _ = tokio::time::sleep_until(settle.unwrap_or(far)), if settle.is_some() => {
                        result_line = held_result.take();
                        break;
                    }
                }
            }
        };
        match line {
            None => {
                eof = true;
                result_line = held_result.take();
                break;
            }
            Some(VendorLine::Json(Line::TextDelta(text))) => {
                ctx.events
                    .emit(EventBody::OutputDelta(TextData { text, vendor: None }))
                    .await;
                if streak < MAX_STREAK {
                    streak += 1;
                    at_hand = lines
                        .next_with(|l| parse_line(typed_deltas, l))
                        .now_or_never();
                }
            }
            Some(VendorLine::Json(Line::Other(v))) => {
                ctx.events.vendor_event(&v).await;
                match v["type"].as_str().unwrap_or_default() {
                    "result" => {
                        // Steering text the CLI has not taken yet runs as the next vendor
                        // turn, right away: it is part of ours (not after an interrupt).
                        if written > 1 && taken < written && interrupt.is_none() {
                            add_usage(&mut earlier_usage, &v["usage"]);
                            continue;
                        }
                        if let Some(earlier) = held_result.take() {
                            add_usage(&mut earlier_usage, &earlier["usage"]);
                        }
                        if interrupt.is_none() && !mapper.pending_subagents().is_empty() {
                            held_result = Some(v);
                            settle = None;
                            continue;
                        }
                        result_line = Some(v);
                        break;
                    }
                    "control_request" => {
                        on_control_request(
                            ctx,
                            tx,
                            &decided_tx,
                            &mut approvals,
                            &mut pending,
                            &mut dropped,
                            &v,
                        );
                    }
                    // Acks of initialize / interrupt / set_*; nothing to do.
                    "control_cancel_request" => pending.withdraw(&v),
                    "control_response" => {}
                    "user" if v["isReplay"] == true => taken += 1,
                    _ => {
                        if mapper.on_line(&ctx.events, &v).await == Action::AuthFailed
                            && interrupt.is_none()
                        {
                            tx.send(&wire::interrupt("ark-auth")).await;
                            interrupt =
                                Some((Interrupt::Auth, Instant::now() + INTERRUPT_DEADLINE));
                        }
                        if held_result.is_some()
                            && settle.is_none()
                            && mapper.pending_subagents().is_empty()
                        {
                            settle = Some(Instant::now() + SUBAGENT_SETTLE);
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
        }
    }
    approvals.abort_all();
    if dropped > 0 {
        tracing::warn!(dropped, "claude was not reading its stdin; replies to unsupported control requests were dropped");
    }
    let interrupt_timed_out =
        result_line.is_none() && interrupt.is_some_and(|(_, d)| Instant::now() >= d);
    TurnEnd {
        mapper,
        result_line,
        earlier_usage,
        interrupt,
        interrupt_timed_out,
        eof,
    }
}

fn add_usage(total: &mut Usage, u: &Value) {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    total.input_tokens += n("input_tokens");
    total.output_tokens += n("output_tokens");
    total.cached_input_tokens += n("cache_read_input_tokens");
}

/// The turn's result, from what was read and how the process ended (`exit`: the real exit, or
/// the default for a process that goes on).
pub fn conclude(end: TurnEnd, exit: &ExitInfo, stopped: bool) -> AgentResult {
    let auth_status = end.mapper.auth_retry();
    let mut r = end.mapper.finish(end.result_line.as_ref(), exit);
    r.usage.input_tokens += end.earlier_usage.input_tokens;
    r.usage.output_tokens += end.earlier_usage.output_tokens;
    r.usage.cached_input_tokens += end.earlier_usage.cached_input_tokens;
    match end.interrupt.map(|(why, _)| why) {
        Some(Interrupt::Stop) if r.finish_reason != FinishReason::Completed => {
            r.finish_reason = FinishReason::Cancelled;
            r.structured_output = None;
            if end.interrupt_timed_out {
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
