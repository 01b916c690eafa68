//! A live session: one bridge process holds the SDK conversation open (`Agent` entered, its
//! `localharness` running) and takes turn after turn on its stdin, so a follow-up starts with no
//! Python import, no harness spawn and no transcript reload.
//!
//! The bridge's stdout is read by a task of its own for the session's whole life (a turn takes
//! lines from it; between turns nothing is expected), so the bridge's exit is noticed while idle
//! and fires [`LiveSession::ended`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::command::{self, StateDirs};
use super::mapping;
use super::options::AntigravityOptions;
use super::run::{bridge_task, prompt, Lines, LoopEnd, Turn, EXIT_GRACE};
use super::wire::{BridgeEvent, BridgeTurn, Started};
use super::NAME;
use crate::core::Refusal;
use crate::process::{StdinLines, Supervised};
use crate::protocol::event::{EventBody, TaskStarted};
use crate::protocol::result::{AgentResult, CancelMode, FinishReason, TaskErrorKind};
use crate::protocol::task::AgentTask;
use crate::runtime::jsonl::{JsonLines, VendorLine, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::{LiveSession, OpenContext, RunContext};

/// Lines of the bridge's stdout buffered for a turn (back-pressure past that).
const LINE_QUEUE: usize = 256;
/// How long a bridge that died (its stdout ended) gets to be reaped for its exit status.
const REAP_GRACE: Duration = Duration::from_secs(2);

pub(super) struct AgySession {
    /// The conversation id asked for (ours, or the resumed one).
    requested: String,
    /// What the bridge said once the conversation was open (the id the SDK reports).
    started: Started,
    /// The fields the SDK fixes when the conversation opens (see [`check_turn`](LiveSession::check_turn)).
    opening: AgentTask,
    child: Supervised,
    stdin: StdinLines,
    lines: Lines,
    save_dir: PathBuf,
    tmp: PathBuf,
    ended: CancellationToken,
}

/// Why `maxTurns` is refused for a live session: the SDK's model-call budget (the only one it
/// has) counts from the conversation's open, across turns, so it cannot bound one turn.
pub(super) const MAX_TURNS_IN_A_LIVE_SESSION: &str =
    "the Antigravity SDK counts maxTurns across every turn of a live session, not per turn; \
     run without session.keepAlive to bound one task";

/// Starts the bridge in live mode and waits until the SDK conversation is open (the harness
/// spawned and initialised): what `session/open` prewarms.
pub(super) async fn open(
    python: PathBuf,
    ctx: OpenContext,
    opts: AntigravityOptions,
) -> Result<Box<dyn LiveSession>, AgentResult> {
    let (requested, resume) = match ctx.task.resume() {
        Some(id) => (id.to_string(), true),
        None => (uuid::Uuid::new_v4().to_string(), false),
    };
    let bridge = command::install_bridge().map_err(|e| {
        AgentResult::failed(
            TaskErrorKind::Process,
            format!("cannot write the Antigravity bridge: {e}"),
        )
    })?;
    let dirs = StateDirs::for_task(&opts, "session").map_err(|e| {
        AgentResult::failed(
            TaskErrorKind::Process,
            format!("cannot create the Antigravity state directories: {e}"),
        )
    })?;
    let opened = start(python, &bridge, &dirs, &ctx, &opts, requested, resume).await;
    if opened.is_err() {
        let _ = std::fs::remove_dir_all(&dirs.tmp);
    }
    opened
}

async fn start(
    python: PathBuf,
    bridge: &Path,
    dirs: &StateDirs,
    ctx: &OpenContext,
    opts: &AntigravityOptions,
    requested: String,
    resume: bool,
) -> Result<Box<dyn LiveSession>, AgentResult> {
    let cmd = command::bridge_command(
        &python,
        bridge,
        dirs,
        &ctx.working_directory,
        &opts.pass_env,
    );
    let mut child = Supervised::spawn(cmd, "antigravity").map_err(|e| {
        AgentResult::failed(
            TaskErrorKind::Process,
            format!("cannot start {}: {e}", python.display()),
        )
    })?;
    let (Some(stdin), Some(stdout)) = (
        child.take_stdin_lines(),
        child
            .take_stdout(DEFAULT_MAX_LINE_BYTES)
            .map(|f| f.into_inner()),
    ) else {
        return Err(AgentResult::failed(
            TaskErrorKind::Process,
            "the bridge has no stdin or stdout",
        ));
    };
    let ended = CancellationToken::new();
    let (tx, rx) = mpsc::channel(LINE_QUEUE);
    let mut stdout = JsonLines::new(stdout, DEFAULT_MAX_LINE_BYTES);
    let gone = ended.clone();
    tokio::spawn(async move {
        while let Some(line) = stdout.next().await {
            if tx.send(line).await.is_err() {
                break;
            }
        }
        // Stdout ended: the bridge is exiting (or the session was dropped).
        gone.cancel();
    });
    let mut lines = Lines::Live(rx);

    let mut task = bridge_task(
        &ctx.task,
        &ctx.working_directory,
        opts,
        dirs,
        &requested,
        resume,
    );
    task.live = true;
    // The opening task's goal is not sent: turns bring their own.
    task.goal = String::new();
    stdin.send(&task).await;

    let started = tokio::select! {
        s = wait_started(&mut lines) => s,
        _ = ctx.stop.stopped() => Err(AgentResult {
            finish_reason: FinishReason::Cancelled,
            cancel: Some(CancelMode::Forced),
            ..Default::default()
        }),
    };
    let started = match started {
        Ok(s) => s,
        Err(mut failed) => {
            // Dropping `child` would kill it too; winding down also reaps it.
            let (exit, _) = child
                .wind_down(Some(&stdin), Duration::ZERO, Duration::from_millis(500))
                .await;
            if let Some(err) = failed.error.as_mut() {
                if err.kind == TaskErrorKind::Process {
                    let tail = exit.stderr_tail.iter().rev().take(5).rev();
                    let tail = tail.cloned().collect::<Vec<_>>().join(" | ");
                    err.message = format!("{}: {tail}", err.message);
                }
            }
            failed.exit = Some(exit);
            return Err(failed);
        }
    };
    Ok(Box::new(AgySession {
        requested,
        started,
        opening: ctx.task.clone(),
        child,
        stdin,
        lines,
        save_dir: dirs.save_dir.clone(),
        tmp: dirs.tmp.clone(),
        ended,
    }))
}

/// The bridge's `started`, or the result of an opening that failed (its `error`, or its exit).
async fn wait_started(lines: &mut Lines) -> Result<Started, AgentResult> {
    while let Some(line) = lines.next().await {
        let VendorLine::Json(raw) = line else {
            continue;
        };
        match serde_json::from_value::<BridgeEvent>(raw) {
            Ok(BridgeEvent::Started(s)) => return Ok(s),
            Ok(BridgeEvent::Error(e)) => {
                let err = mapping::task_error(&e.kind, e.exception.as_deref(), &e.message, None);
                return Err(AgentResult {
                    finish_reason: FinishReason::Error,
                    error: Some(err),
                    ..Default::default()
                });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("unexpected message from the Antigravity bridge: {e}"),
        }
    }
    Err(AgentResult::failed(
        TaskErrorKind::Process,
        "the Antigravity bridge exited before the conversation opened",
    ))
}

/// A field changed for a turn (absent = as opened).
fn changed<T: serde::Serialize>(turn: &Option<T>, opening: &Option<T>) -> bool {
    turn.as_ref().is_some_and(|t| {
        serde_json::to_value(t).ok() != opening.as_ref().and_then(|o| serde_json::to_value(o).ok())
    })
}

#[async_trait]
impl LiveSession for AgySession {
    fn session_id(&self) -> String {
        self.started.session_id.clone()
    }

    /// The SDK takes its whole configuration (`LocalAgentConfig`) when the conversation opens;
    /// `Conversation.send` takes only the prompt. Approvals are ours, so they change per turn.
    fn check_turn(&self, task: &AgentTask) -> Result<(), Refusal> {
        let fixed = "the Antigravity SDK fixes it when the conversation opens; close the session \
                     or resume it cold to change it";
        let o = &self.opening;
        if changed(&task.model, &o.model) {
            return Err(Refusal::unsupported(NAME, "task.model", fixed));
        }
        if task.permissions.is_some() && task.permissions().sandbox != o.permissions().sandbox {
            return Err(Refusal::unsupported(
                NAME,
                "task.permissions.sandbox",
                fixed,
            ));
        }
        if task.max_turns.is_some() {
            return Err(Refusal::unsupported(
                NAME,
                "task.maxTurns",
                MAX_TURNS_IN_A_LIVE_SESSION,
            ));
        }
        if changed(&task.output_schema, &o.output_schema) {
            return Err(Refusal::unsupported(NAME, "task.outputSchema", fixed));
        }
        Ok(())
    }

    async fn turn(&mut self, ctx: RunContext) -> AgentResult {
        let session_id = self.session_id();
        ctx.events
            .emit(EventBody::TaskStarted(TaskStarted {
                runtime: NAME.into(),
                model: ctx.task.model.clone().or(self.opening.model.clone()),
                working_directory: ctx.working_directory.display().to_string(),
                permissions: ctx.task.permissions(),
                session_id: Some(session_id),
                metadata: ctx.task.metadata.clone(),
                vendor: None,
            }))
            .await;
        if let Lines::Live(rx) = &mut self.lines {
            // Nothing is due between turns; whatever came is not this turn's.
            while let Ok(line) = rx.try_recv() {
                tracing::debug!("a line from the Antigravity bridge between turns: {line:?}");
            }
        }
        let (text, images) = prompt(&ctx.task.goal, &ctx.attachments);
        let goal = BridgeTurn {
            kind: "turn",
            goal: &text,
            images,
        };
        if self.ended.is_cancelled() || !self.stdin.send(&goal).await {
            return AgentResult::failed(
                TaskErrorKind::Process,
                "the Antigravity bridge of this session has exited",
            );
        }
        let mut turn = Turn::new(&ctx, Some(self.started.clone()));
        let end = turn.pump(&ctx, &mut self.lines, &self.stdin).await;
        let (exit, forced) = match end {
            LoopEnd::TurnDone { .. } => (None, false),
            // The bridge died during the turn: its exit explains the failure.
            LoopEnd::Eof => (self.child.wait_timeout(REAP_GRACE).await, false),
            // It did not honour the cancel: the session cannot go on.
            LoopEnd::Forced => {
                let (exit, _) = self.child.terminate(Duration::from_millis(500)).await;
                (Some(exit), true)
            }
        };
        let result = turn
            .finish(&ctx, exit, forced, &self.requested, &self.save_dir)
            .await;
        match end {
            LoopEnd::TurnDone { last: false } => {}
            LoopEnd::TurnDone { last: true } => {
                // The bridge ends the session (a failed turn, or one a cancel did not stop):
                // reaped now, so that this turn's result already says the session is over.
                let _ = self.child.wait_timeout(EXIT_GRACE).await;
                self.ended.cancel();
            }
            LoopEnd::Eof | LoopEnd::Forced => self.ended.cancel(),
        }
        result
    }

    fn ended(&self) -> CancellationToken {
        self.ended.clone()
    }

    async fn close(mut self: Box<Self>) {
        // `close`, then stdin EOF: the bridge leaves the SDK's `Agent` (which stops its harness)
        // and exits; past EXIT_GRACE the whole group is killed. Always reaped.
        // (try_send: a bridge that stopped reading must not hold the close up.)
        self.stdin.try_send(&json!({"type": "close"}));
        let _ = self
            .child
            .wind_down(Some(&self.stdin), EXIT_GRACE, Duration::from_secs(1))
            .await;
        self.ended.cancel();
    }
}

impl Drop for AgySession {
    fn drop(&mut self) {
        // The child (and its group) is killed by its own drop if still running.
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}
