//! A live session: one `claude -p --input-format stream-json` process holding one conversation,
//! a turn per user message.
//!
//! The id is ours for a new session (`--session-id <uuid>`), the resumed one's otherwise
//! (`--resume`), so it is known at open. The session is ready once the CLI answers `initialize`
//! (2.1.332 answers it before any user message: that is the prewarm). Between turns nobody reads
//! stdout; the exit of the process fires [`LiveSession::ended`] all the same (the supervisor
//! reaps it). Model and permission mode change per turn through the `set_model` /
//! `set_permission_mode` control requests; what only the command line sets is refused.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::command;
use super::options::ClaudeOptions;
use super::permissions::{self, Mapping};
use super::session::{FLUSH_GRACE, TERM_GRACE};
use super::turn::{self, Lines};
use super::wire;
use crate::core::Refusal;
use crate::process::{StdinLines, Supervised};
use crate::protocol::result::{AgentResult, ExitInfo, TaskErrorKind};
use crate::protocol::task::AgentTask;
use crate::runtime::jsonl::{JsonLines, VendorLine, DEFAULT_MAX_LINE_BYTES};
use crate::runtime::{LiveSession, OpenContext, RunContext};

/// How long the CLI may take to answer `initialize` (its start-up, MCP servers included).
const READY_DEADLINE: Duration = Duration::from_secs(60);
/// How long a `set_model` / `set_permission_mode` may take (`set_model` asks the API).
const CONTROL_DEADLINE: Duration = Duration::from_secs(30);

pub struct ClaudeLive {
    session_id: String,
    proc: Supervised,
    tx: StdinLines,
    lines: Lines,
    /// MCP config and the CLI's TMPDIR: removed after the process.
    private: tempfile::TempDir,
    ended: CancellationToken,
    /// What the process was started with and what only its command line sets.
    opened: AgentTask,
    mapping: Mapping,
    /// The model and permission mode in force now.
    model: Option<String>,
    mode: &'static str,
    requests: u64,
}

pub async fn open(
    binary: &std::path::Path,
    ctx: OpenContext,
    opts: ClaudeOptions,
) -> Result<Box<dyn LiveSession>, AgentResult> {
    let fail = |kind, message: String| AgentResult::failed(kind, message);
    let task = ctx.task;
    let mapping =
        permissions::map(&task.permissions(), task.mcp_servers.as_ref()).map_err(|r| {
            fail(
                TaskErrorKind::Protocol,
                format!("{}: {}", r.field, r.reason),
            )
        })?;
    let private = crate::private_dir::tempdir("ark-claude-").map_err(|e| {
        fail(
            TaskErrorKind::Process,
            format!("cannot create a temp dir: {e}"),
        )
    })?;
    let new_id = uuid::Uuid::new_v4().to_string();
    let session_id = match task.resume() {
        Some(id) if !task.fork() => id.to_string(),
        _ => new_id.clone(),
    };
    let launch = command::build(
        binary,
        &task,
        &opts,
        &mapping,
        &ctx.working_directory,
        private.path(),
        Some(&new_id),
    )
    .map_err(|e| {
        fail(
            TaskErrorKind::Process,
            format!("cannot prepare the claude CLI's inputs: {e}"),
        )
    })?;
    let mut proc = Supervised::spawn(launch.command, "claude").map_err(|e| {
        fail(
            TaskErrorKind::Process,
            format!("cannot start {}: {e}", binary.display()),
        )
    })?;
    let tx = proc.take_stdin_lines().expect("stdin is piped");
    let stdout = proc
        .take_stdout(DEFAULT_MAX_LINE_BYTES)
        .expect("stdout is piped")
        .into_inner();
    let ended = proc.exited().child_token();
    let mut live = ClaudeLive {
        session_id,
        proc,
        tx,
        lines: JsonLines::new(stdout, DEFAULT_MAX_LINE_BYTES),
        private,
        ended,
        model: task.model.clone(),
        mode: mapping.mode,
        opened: task,
        mapping,
        requests: 0,
    };
    let ready = tokio::select! {
        r = live.control(launch.initialize, "ark-init", READY_DEADLINE) => r,
        _ = ctx.stop.stopped() => Err("the session was abandoned while the claude CLI started".into()),
    };
    match ready {
        Ok(_) => Ok(Box::new(live)),
        Err(why) => {
            let (exit, _) = live
                .proc
                .wind_down(Some(&live.tx), Duration::ZERO, TERM_GRACE)
                .await;
            let mut message = format!("the claude CLI did not become ready: {why}");
            if let Some(last) = exit.stderr_tail.last() {
                message.push_str(": ");
                message.push_str(last);
            }
            let mut r = fail(TaskErrorKind::Process, message);
            r.exit = Some(exit);
            Err(r)
        }
    }
}

impl ClaudeLive {
    /// Sends a control request and reads up to its answer: the `response` on success, the CLI's
    /// error (or why there was none) otherwise. Other lines met on the way are between turns
    /// (a background agent's notices) and are not any turn's.
    async fn control(
        &mut self,
        request: Value,
        id: &str,
        deadline: Duration,
    ) -> Result<Value, String> {
        self.tx.send(&request).await;
        let read = async {
            loop {
                match self.lines.next().await {
                    None => return Err("the process ended".to_string()),
                    Some(VendorLine::Json(v))
                        if v["type"] == "control_response" && v["response"]["request_id"] == id =>
                    {
                        let resp = &v["response"];
                        return if resp["subtype"] == "success" {
                            Ok(resp["response"].clone())
                        } else {
                            Err(resp["error"].as_str().unwrap_or("refused").to_string())
                        };
                    }
                    Some(VendorLine::Json(v)) if v["type"] == "control_request" => {
                        // Nothing to approve between turns.
                        let rid = v["request_id"].as_str().unwrap_or_default();
                        let subtype = v["request"]["subtype"].as_str().unwrap_or_default();
                        self.tx.try_send(&wire::unsupported(rid, subtype));
                    }
                    Some(_) => {}
                }
            }
        };
        match tokio::time::timeout(deadline, read).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.ended.cancel();
                Err(e)
            }
            Err(_) => Err(format!("no answer within {} s", deadline.as_secs())),
        }
    }

    /// Reads what the CLI wrote between turns (a background agent's notices, a late line), so
    /// that none of it is taken for the next turn's.
    fn drain_between_turns(&mut self) {
        while let Some(line) = self.lines.next().now_or_never() {
            match line {
                None => {
                    self.ended.cancel();
                    return;
                }
                Some(VendorLine::Json(v)) if v["type"] == "control_request" => {
                    let rid = v["request_id"].as_str().unwrap_or_default();
                    let subtype = v["request"]["subtype"].as_str().unwrap_or_default();
                    self.tx.try_send(&wire::unsupported(rid, subtype));
                }
                Some(_) => {}
            }
        }
    }

    fn next_request_id(&mut self, what: &str) -> String {
        self.requests += 1;
        format!("ark-{what}-{}", self.requests)
    }

    /// Applies the turn's model and permission mode; the CLI's refusal as the turn's failure.
    async fn apply_turn_settings(&mut self, task: &AgentTask) -> Result<(), String> {
        if let Some(model) = task
            .model
            .as_ref()
            .filter(|m| Some(*m) != self.model.as_ref())
        {
            let id = self.next_request_id("model");
            let req = json!({"type": "control_request", "request_id": id,
                "request": {"subtype": "set_model", "model": model}});
            self.control(req, &id, CONTROL_DEADLINE)
                .await
                .map_err(|e| format!("the claude CLI did not switch to model {model:?}: {e}"))?;
            self.model = Some(model.clone());
        }
        let mode = turn_mapping(task)?.mode;
        if mode != self.mode {
            let id = self.next_request_id("mode");
            let req = json!({"type": "control_request", "request_id": id,
                "request": {"subtype": "set_permission_mode", "mode": mode}});
            self.control(req, &id, CONTROL_DEADLINE)
                .await
                .map_err(|e| {
                    format!("the claude CLI did not switch to permission mode {mode}: {e}")
                })?;
            self.mode = mode;
        }
        Ok(())
    }
}

fn turn_mapping(task: &AgentTask) -> Result<Mapping, String> {
    permissions::map(&task.permissions(), task.mcp_servers.as_ref())
        .map_err(|r| format!("{}: {}", r.field, r.reason))
}

#[async_trait]
impl LiveSession for ClaudeLive {
    fn session_id(&self) -> String {
        self.session_id.clone()
    }

    fn check_turn(&self, task: &AgentTask) -> Result<(), Refusal> {
        let refuse = |field: &str, why: &str| Err(Refusal::unsupported(super::NAME, field, why));
        let mapping = turn_mapping(task)
            .map_err(|why| Refusal::unsupported(super::NAME, "task.permissions", why))?;
        if mapping.tools != self.mapping.tools || mapping.disallowed != self.mapping.disallowed {
            return refuse(
                "task.permissions",
                "the tools a live claude session may use are fixed on its command line \
                 (--tools, --disallowedTools); only the sandbox/approvals mode changes per turn",
            );
        }
        // bypassPermissions needs the CLI to have been started with it.
        if (mapping.mode == "bypassPermissions") != (self.mapping.mode == "bypassPermissions") {
            return refuse(
                "task.permissions.sandbox",
                "a live claude session cannot switch to or from full-access (bypassPermissions)",
            );
        }
        if task.max_turns != self.opened.max_turns {
            return refuse(
                "task.maxTurns",
                "the claude CLI takes --max-turns at start: fixed for a live session",
            );
        }
        if task.output_schema != self.opened.output_schema {
            return refuse(
                "task.outputSchema",
                "the claude CLI takes the JSON schema at initialize: fixed for a live session",
            );
        }
        if task.fork() {
            return refuse(
                "task.session.fork",
                "a live claude session cannot fork; resume it cold after closing it",
            );
        }
        Ok(())
    }

    async fn turn(&mut self, mut ctx: RunContext) -> AgentResult {
        if self.ended.is_cancelled() {
            return AgentResult::failed(TaskErrorKind::Process, "the claude CLI has ended");
        }
        self.drain_between_turns();
        if let Err(why) = self.apply_turn_settings(&ctx.task).await {
            let mut r = AgentResult::failed(TaskErrorKind::Process, why);
            r.session_id = Some(self.session_id.clone());
            return r;
        }
        let mut steer = std::mem::take(&mut ctx.steer);
        let wd: PathBuf = ctx.working_directory.clone();
        let end = turn::drive(
            &ctx,
            &mut steer,
            &self.tx,
            &mut self.lines,
            &ctx.task.goal,
            wd,
        )
        .await;
        let stopped = ctx.stop.is_stopped();
        let mut r = if end.eof || end.interrupt_timed_out {
            // Gone, or not answering an interrupt: the process cannot take another turn.
            let grace = if end.eof { TERM_GRACE } else { Duration::ZERO };
            let (exit, _) = self.proc.wind_down(Some(&self.tx), grace, TERM_GRACE).await;
            self.ended.cancel();
            turn::conclude(end, &exit, stopped)
        } else {
            let mut r = turn::conclude(end, &ExitInfo::default(), stopped);
            r.exit = None;
            r
        };
        r.session_id.get_or_insert_with(|| self.session_id.clone());
        r
    }

    fn ended(&self) -> CancellationToken {
        self.ended.clone()
    }

    async fn close(self: Box<Self>) {
        let ClaudeLive {
            mut proc,
            tx,
            lines,
            private,
            ended,
            ..
        } = *self;
        // EOF is how the CLI is told to finish; it flushes its session file and exits.
        let _ = proc.wind_down(Some(&tx), FLUSH_GRACE, TERM_GRACE).await;
        ended.cancel();
        drop((lines, proc, private));
    }
}
