//! One run of the CLI: spawn, feed stdin, read stdout, answer control requests, stop.
//!
//! Ending well matters as much as running: after the `result` line the run is answered at once,
//! and in the background (`process::background`, which shutdown waits for) we close stdin and
//! give the CLI [`FLUSH_GRACE`] to write its session file before any signal (a SIGTERM right after EOF loses the
//! last message and breaks resume, lessons #4). Cancel is an `interrupt` control request first
//! (the turn ends with its own `result`: soft); only if none comes within [`INTERRUPT_DEADLINE`]
//! is the process group signalled (SIGTERM, [`TERM_GRACE`], SIGKILL: forced).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::command;
use super::options::ClaudeOptions;
use super::permissions;
use super::turn;
use crate::process::Supervised;
use crate::protocol::result::{AgentResult, ExitInfo, TaskErrorKind};
use crate::runtime::jsonl::{JsonLines, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::RunContext;

/// How long the CLI gets after stdin EOF to flush its session file and exit.
pub const FLUSH_GRACE: Duration = Duration::from_secs(5);
/// SIGTERM → SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

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
        None,
    ) {
        Ok(l) => l,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot prepare the claude CLI's inputs: {e}"),
            )
        }
    };
    let proc = match Supervised::spawn(launch.command, "claude") {
        Ok(p) => p,
        Err(e) => {
            return AgentResult::failed(
                TaskErrorKind::Process,
                format!("cannot start {}: {e}", binary.display()),
            )
        }
    };
    drive(ctx, proc, launch.initialize, private).await
}

async fn drive(
    mut ctx: RunContext,
    mut proc: Supervised,
    initialize: Value,
    private: tempfile::TempDir,
) -> AgentResult {
    let tx = proc.take_stdin_lines().expect("stdin is piped");
    let stdout = proc
        .take_stdout(DEFAULT_MAX_LINE_BYTES)
        .expect("stdout is piped")
        .into_inner();
    let mut lines = JsonLines::new(stdout, DEFAULT_MAX_LINE_BYTES);
    // `initialize` carries the large inputs; the CLI answers it (building an ~18 KB reply)
    // before it takes the prompt, which put ~0.3 s on the first delta: only when needed.
    let t = &ctx.task;
    if t.system_prompt.is_some() || t.append_system_prompt.is_some() || t.output_schema.is_some() {
        tx.send(&initialize).await;
    }
    let mut steer = std::mem::take(&mut ctx.steer);
    let wd = ctx.working_directory.clone();
    let end = turn::drive(&ctx, &mut steer, &tx, &mut lines, &ctx.task.goal, wd).await;

    if end.result_line.is_some() && end.interrupt.is_none() {
        // The answer is in: give it now, and let the CLI flush its session file and exit in
        // the background (shutdown waits for it; process::background).
        let r = turn::conclude(end, &ExitInfo::default(), ctx.stop.is_stopped());
        crate::process::background::spawn(async move {
            let _ = proc.wind_down(Some(&tx), FLUSH_GRACE, TERM_GRACE).await;
            // The temp dir (MCP config, TMPDIR with the CLI's socket) goes only after the process.
            drop((lines, proc, private));
        });
        return without_exit(r);
    }

    // Wind down. With a result, the CLI ends by itself once stdin closes.
    let exit_grace = if end.result_line.is_some() {
        FLUSH_GRACE
    } else if end.interrupt_timed_out {
        Duration::ZERO
    } else {
        // stdout closed without a result: the process is exiting (or closed stdout and hangs).
        TERM_GRACE
    };
    let (exit, _) = proc.wind_down(Some(&tx), exit_grace, TERM_GRACE).await;
    let r = turn::conclude(end, &exit, ctx.stop.is_stopped());
    drop((lines, proc, private));
    r
}

/// A result given before the process exited has no exit to report.
fn without_exit(mut r: AgentResult) -> AgentResult {
    r.exit = None;
    r
}
