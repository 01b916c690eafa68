//! A live codex session: one `codex app-server` holding one loaded thread between turns.
//!
//! `open` spawns codex, initializes it and starts (or resumes) the thread, so the process is warm
//! and the session id known before the first turn. Each turn is a `turn/start` on that thread
//! (model, approval policy and sandbox change per turn when the task changes them; codex keeps
//! them for later turns, so only changes are sent), `ctx.stop` a `turn/interrupt` that keeps the
//! session, `steer` a `turn/steer`. Between turns a watcher keeps reading codex's output, so a
//! codex that exits ends the session (`ended`) at once, not at the next turn.

use std::path::PathBuf;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::client::Incoming;
use super::options::CodexOptions;
use super::session::{self, Conn, Ending, Turn, TurnSettings};
use super::NAME;
use crate::core::Refusal;
use crate::protocol::result::{
    AgentResult, CancelMode, FinishReason, SessionSource, TaskErrorKind,
};
use crate::protocol::task::AgentTask;
use crate::runtime::{LiveSession, OpenContext, RunContext};

pub(super) struct CodexLive {
    /// The process, unless the between-turns watcher holds it.
    conn: Option<Conn>,
    /// The watcher; it hands the process back when `wake` fires or codex's output ends.
    idle: Option<(JoinHandle<Conn>, CancellationToken)>,
    thread_id: String,
    opts: CodexOptions,
    /// The settings codex keeps between turns, as last set.
    settings: TurnSettings,
    /// Where the first turn's conversation came from (later turns are `live`).
    source: SessionSource,
    turns: u32,
    ended: CancellationToken,
}

/// Starts codex, initializes it and opens the thread; a failure is the first turn's result.
pub(super) async fn open(
    binary: PathBuf,
    ctx: OpenContext,
    opts: CodexOptions,
) -> Result<Box<dyn LiveSession>, AgentResult> {
    let wd = ctx.working_directory.clone();
    let mut conn = Conn::spawn(&binary, &opts, &wd, None).map_err(|r| *r)?;
    if let Err(ending) = conn.open(&ctx.task, &opts, &wd, &ctx.stop).await {
        let (exit, _) = conn.wind_down().await;
        let mut r = match ending {
            Ending::Failed(err) => AgentResult {
                finish_reason: FinishReason::Error,
                error: Some(err),
                ..Default::default()
            },
            Ending::Interrupted { .. } => AgentResult {
                finish_reason: FinishReason::Cancelled,
                cancel: Some(CancelMode::Forced),
                ..Default::default()
            },
            _ => {
                let tail = exit.stderr_tail.last().cloned().unwrap_or_default();
                AgentResult {
                    finish_reason: FinishReason::Error,
                    error: Some(session::exited_error(exit.code, &tail)),
                    ..Default::default()
                }
            }
        };
        r.exit = Some(exit);
        return Err(r);
    }
    let Some(thread_id) = conn.thread_id.clone() else {
        conn.wind_down().await;
        return Err(AgentResult::failed(
            TaskErrorKind::Vendor,
            "codex opened a thread without an id",
        ));
    };
    let mut live = CodexLive {
        conn: None,
        idle: None,
        thread_id,
        settings: TurnSettings::of(&ctx.task, &opts),
        opts,
        source: if ctx.task.resume().is_some() {
            SessionSource::Resumed
        } else {
            SessionSource::New
        },
        turns: 0,
        ended: CancellationToken::new(),
    };
    live.watch(conn);
    Ok(Box::new(live))
}

impl CodexLive {
    /// Hands the idle process to a watcher that reads (and drops) what codex says between turns
    /// and fires `ended` when its output closes (codex exited or was killed).
    fn watch(&mut self, mut conn: Conn) {
        let wake = CancellationToken::new();
        let woken = wake.clone();
        let ended = self.ended.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = woken.cancelled() => return conn,
                    msg = conn.incoming.recv() => match msg {
                        None => {
                            ended.cancel();
                            return conn;
                        }
                        // Nothing to ask the host about between turns.
                        Some(Incoming::Request { id, .. }) => {
                            conn.client
                                .respond_error(&id, -32600, "no turn is running")
                                .await;
                        }
                        Some(Incoming::Notification(_)) => {}
                    },
                }
            }
        });
        self.idle = Some((task, wake));
    }

    /// The process back from the watcher; `None` if the watcher is gone (it panicked: its
    /// process was killed with it).
    async fn take(&mut self) -> Option<Conn> {
        if let Some(conn) = self.conn.take() {
            return Some(conn);
        }
        let (task, wake) = self.idle.take()?;
        wake.cancel();
        task.await.ok()
    }
}

/// Dropped without `close` (the core gave up on it): the watcher holding the idle process is
/// aborted, which drops the process, and a dropped supervised child is killed with its tree.
impl Drop for CodexLive {
    fn drop(&mut self) {
        if let Some((task, _)) = self.idle.take() {
            task.abort();
        }
    }
}

#[async_trait]
impl LiveSession for CodexLive {
    fn session_id(&self) -> String {
        self.thread_id.clone()
    }

    fn check_turn(&self, task: &AgentTask) -> Result<(), Refusal> {
        if task.fork() {
            return Err(Refusal::unsupported(
                NAME,
                "task.session.fork",
                "a live codex thread continues in place; fork it with a cold run instead",
            ));
        }
        Ok(())
    }

    async fn turn(&mut self, mut ctx: RunContext) -> AgentResult {
        let Some(mut conn) = self.take().await else {
            self.ended.cancel();
            return AgentResult::failed(TaskErrorKind::Process, "the codex session is gone");
        };
        if self.ended.is_cancelled() {
            let (exit, _) = conn.wind_down().await;
            let tail = exit.stderr_tail.last().cloned().unwrap_or_default();
            let mut r = AgentResult {
                finish_reason: FinishReason::Error,
                error: Some(session::exited_error(exit.code, &tail)),
                session_id: Some(self.thread_id.clone()),
                ..Default::default()
            };
            r.exit = Some(exit);
            return r;
        }
        let wd = ctx.working_directory.clone();
        let steer = std::mem::take(&mut ctx.steer);
        let mut turn = Turn::new(&mut conn, &ctx, &self.opts, steer, true);
        turn.emit_started().await;
        let params = turn.params(Some(&self.settings));
        let ending = match turn.start(params).await {
            Ok(()) => turn.turn_loop().await,
            Err(e) => e,
        };
        turn.conn.tasks.abort_all();
        // A turn codex ended itself (completed, failed, or interrupted when asked) leaves the
        // session usable; otherwise (it exited, or ignored the interrupt) the process goes now.
        let usable = match &ending {
            Ending::Turn(_) | Ending::Interrupted { soft: true, .. } => true,
            Ending::Failed(_) => !turn.conn.client.output().is_broken(),
            Ending::Interrupted { soft: false, .. } | Ending::Exited => false,
        };
        let (exit, killed) = if usable {
            (None, false)
        } else {
            let (exit, killed) = turn.conn.wind_down().await;
            (Some(exit), killed)
        };
        let artifacts = session::changed_files(&wd, &turn.st.patched);
        let mut r = turn.finish(ending, exit, killed, artifacts);
        r.session_source = Some(if self.turns == 0 {
            self.source
        } else {
            SessionSource::Live
        });
        r.session_live = usable;
        self.turns += 1;
        self.settings = self.settings.after(&ctx.task, &self.opts);
        if usable {
            self.watch(conn);
        } else {
            self.ended.cancel();
        }
        r
    }

    fn ended(&self) -> CancellationToken {
        self.ended.clone()
    }

    async fn close(mut self: Box<Self>) {
        if let Some(mut conn) = self.take().await {
            conn.wind_down().await;
        }
        self.ended.cancel();
    }
}
