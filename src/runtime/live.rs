//! Live sessions: a vendor process, and the conversation in it, kept between turns.
//!
//! A runtime that declares `capabilities.liveSessions` implements [`Runtime::open`]
//! (crate::runtime::Runtime::open): it starts the vendor and hands back a [`LiveSession`], which
//! the core keeps between turns (idle timeout, `session/close`, shutdown, `session/list`, busy
//! checks are the core's). A turn has exactly the contract of `Runtime::run`: events through
//! `ctx.events`, one returned result, prompt stop on `ctx.stop`; the core emits the terminal event
//! and answers once. What differs is only that the process outlives the turn.

use std::path::PathBuf;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::context::{RunContext, Stop};
use crate::core::Refusal;
use crate::protocol::result::AgentResult;
use crate::protocol::task::{AgentTask, RunOptions};

/// What [`Runtime::open`](crate::runtime::Runtime::open) gets: the task that opens the session
/// (the first turn's, or `session/open`'s, whose `goal` is not sent), checked.
pub struct OpenContext {
    pub task: AgentTask,
    pub options: RunOptions,
    /// Absolute and known to exist.
    pub working_directory: PathBuf,
    /// Fires when the opening is abandoned (shutdown, the first turn cancelled while starting).
    pub stop: Stop,
}

/// A vendor process holding one conversation. Dropping it must end the process (a supervised
/// child is killed with its process group on drop); [`close`](Self::close) ends it gracefully.
#[async_trait]
pub trait LiveSession: Send {
    /// The id hosts pass as `task.session.resume` to run the next turn here. Known once open.
    fn session_id(&self) -> String;

    /// Refuses (-32012 with the field) what this live process cannot change for a turn, beyond
    /// the fields the core already holds fixed (working directory, additional directories, MCP
    /// servers, system prompts, runtime options). Model, permissions, `maxTurns`,
    /// `outputSchema`… apply per turn where the vendor can change them.
    fn check_turn(&self, _task: &AgentTask) -> Result<(), Refusal> {
        Ok(())
    }

    /// Runs one turn, as `Runtime::run` runs a task. `ctx.stop` interrupts the turn (softly
    /// where the vendor can; the session stays usable then); `ctx.steer` carries text the host
    /// adds to the running turn.
    async fn turn(&mut self, ctx: RunContext) -> AgentResult;

    /// Fires when the vendor process has ended or can take no further turn.
    fn ended(&self) -> CancellationToken;

    /// Ends the vendor process within a bounded grace and reaps it.
    async fn close(self: Box<Self>);
}

/// Text the host adds to a running turn (`steer`). A runtime that declares `steer` reads it
/// during the turn; the core refuses `steer` (-32012) for the others.
#[derive(Default)]
pub struct Steering(Option<mpsc::Receiver<String>>);

/// How many `steer` texts may wait for the runtime before `steer` is refused as busy.
pub const STEER_QUEUE: usize = 16;

impl Steering {
    /// A steering channel: the core keeps the sender for the running task.
    pub fn channel() -> (mpsc::Sender<String>, Steering) {
        let (tx, rx) = mpsc::channel(STEER_QUEUE);
        (tx, Steering(Some(rx)))
    }

    /// The next text to add; pending forever when there is none to come (use in `select!`).
    pub async fn next(&mut self) -> String {
        match &mut self.0 {
            Some(rx) => match rx.recv().await {
                Some(text) => text,
                None => {
                    self.0 = None;
                    std::future::pending().await
                }
            },
            None => std::future::pending().await,
        }
    }
}
