//! `run`: one task through the same core as the server, with a terminal (or a script) for a host.
//! The answer goes to stdout and everything else (header, tool lines, summary) to stderr, so
//! `$(agent-runtime-kit run …)` captures just the answer; `--json` puts JSON lines on stdout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::signal::unix::{signal, Signal, SignalKind};

use super::error::CliError;
use super::output::{self, escape_controls, Style};
use super::RunArgs;
use crate::core::Core;
use crate::protocol::methods::RunParams;
use crate::protocol::task::{AgentTask, ApprovalMode};
use crate::protocol::RpcError;
use crate::runtime::context::ApprovalHost;
use crate::runtime::EventOutput;

/// The runtime `run` uses when --runtime names none.
const DEFAULT_RUNTIME_VAR: &str = "AGENT_RUNTIME_KIT_RUNTIME";

/// Exit code after Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED: i32 = 130;

/// Runs the task the arguments describe; the exit code (0 only if it completed).
pub async fn run_once(
    core: Arc<Core>,
    args: RunArgs,
    record_dir: Option<PathBuf>,
) -> Result<i32, CliError> {
    // The secrets in --task, learned before anything can log or print them; held until the end.
    let _secrets = args
        .task
        .as_deref()
        .map(crate::hygiene::learn_secrets_in_json);
    let (runtime, task) = build_task(&args)?;
    // `approvals: "host"` is asked on the terminal; with none, refused before anything starts.
    let host: Option<Arc<dyn ApprovalHost>> = match task.permissions().approvals {
        ApprovalMode::Deny => None,
        ApprovalMode::Host if super::prompt::interactive() => {
            Some(Arc::new(super::prompt::TerminalHost::new()))
        }
        ApprovalMode::Host => return Err(CliError::usage(super::prompt::needs_terminal())),
    };
    let task_id = uuid::Uuid::new_v4().to_string();
    let params = RunParams {
        task_id: Some(task_id.clone()),
        runtime,
        task,
        options: None,
    };
    let printer = Arc::new(Printer::new(args.json));
    let out: Arc<dyn EventOutput> = printer.clone();
    // Listening before the task starts: a Ctrl-C right after the header must cancel, not kill.
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| CliError::failed(format!("cannot listen for Ctrl-C: {e}")))?;
    let run = core.run(params, out, host);
    tokio::pin!(run);
    let mut ending = Ending::Ran;
    let result = tokio::select! {
        r = &mut run => r,
        Some(()) = interrupt.recv() => {
            ending = Ending::Interrupted;
            output::eprint("interrupted: stopping the task (Ctrl-C again to kill it now)\n");
            kill_on_second_interrupt(interrupt);
            let _ = core.cancel(&task_id);
            run.await
        }
        _ = output::stdout_closed() => {
            // Nobody reads the answer any more: stop the agent rather than let it work unwatched.
            ending = Ending::StdoutClosed;
            let _ = core.cancel(&task_id);
            run.await
        }
    };
    // A `keepAlive` in --task has nothing to keep the session for once this one run is over.
    core.close_sessions().await;
    let result = match result {
        Ok(r) => r,
        Err(refusal) => {
            let e = RpcError::from(refusal);
            if args.json {
                output::print(&format!("{}\n", json!({ "error": e })));
            }
            return Err(CliError::from(&e));
        }
    };
    if args.json {
        output::print(&format!("{}\n", json!({ "result": result })));
    } else {
        printer.finish(&result);
    }
    if let Some(file) = &args.output_last_message {
        let text = result["output"].as_str().unwrap_or_default();
        std::fs::write(file, text)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", file.display())))?;
    }
    if let Some(dir) = &record_dir {
        let path = crate::record::script_path(dir, &task_id);
        // The task id is a fresh uuid, so its name is free unless something was planted there
        // (then the recording went to a `-N` name and this says nothing).
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            output::eprint(&format!(
                "recorded: {} (replay: agent-runtime-kit run --replay {})\n",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(match ending {
        Ending::Interrupted => INTERRUPTED,
        _ if output::is_stdout_closed() => output::STDOUT_CLOSED,
        _ if result["finishReason"] == "completed" => 0,
        _ => super::error::FAILED,
    })
}

enum Ending {
    Ran,
    Interrupted,
    StdoutClosed,
}

/// A second Ctrl-C while the task winds down kills every vendor process and exits at once.
fn kill_on_second_interrupt(mut interrupt: Signal) {
    tokio::spawn(async move {
        if interrupt.recv().await.is_some() {
            crate::process::kill_all_now();
            output::eprint("interrupted again: killed the task's processes\n");
            std::process::exit(INTERRUPTED);
        }
    });
}

/// The runtime and the task from the arguments. Flags override the fields of `--task`.
fn build_task(args: &RunArgs) -> Result<(String, AgentTask), CliError> {
    let mut task = match &args.task {
        Some(text) => serde_json::from_str::<Value>(text)
            .map_err(|e| CliError::usage(format!("--task is not JSON: {e}")))?,
        None => json!({}),
    };
    let Some(fields) = task.as_object_mut() else {
        return Err(CliError::usage(
            "--task must be a JSON object (an AgentTask)",
        ));
    };
    let goal = match args.goal.as_deref() {
        Some("-") => Some(read_goal_from_stdin()?),
        Some(goal) => Some(goal.to_string()),
        None => None,
    };
    match goal {
        Some(goal) => {
            fields.insert("goal".into(), Value::String(goal));
        }
        None if fields.get("goal").is_some_and(|g| g.as_str() != Some("")) => {}
        None => match &args.replay {
            Some(file) => {
                fields.insert(
                    "goal".into(),
                    Value::String(format!("replay {}", file.display())),
                );
            }
            None => {
                return Err(CliError::usage("no goal").with_remedy(
                    "agent-runtime-kit run \"GOAL\" (or `-` to read it from stdin, or --task with a goal)",
                ))
            }
        },
    }
    let mut task: AgentTask = serde_json::from_value(task)
        .map_err(|e| CliError::usage(format!("--task is not a valid AgentTask: {e}")))?;

    task.working_directory = args.cwd.clone().or(task.working_directory);
    task.model = args.model.clone().or(task.model);
    task.max_turns = args.max_turns.or(task.max_turns);
    task.timeout_ms = args.timeout_ms.or(task.timeout_ms);
    if let Some(id) = &args.resume {
        let mut session = task.session.take().unwrap_or_default();
        session.resume = Some(id.clone());
        task.session = Some(session);
    }
    if let Some(sandbox) = args.sandbox {
        let mut permissions = task.permissions();
        permissions.sandbox = sandbox;
        task.permissions = Some(permissions);
    }
    let runtime = match &args.replay {
        Some(file) => {
            let path = absolute(file)?;
            task.runtime_options
                .get_or_insert_with(Default::default)
                .insert(
                    "fixture".into(),
                    serde_json::value::to_raw_value(&json!({ "path": path }))
                        .expect("a path serializes"),
                );
            crate::runtime::fixture::NAME.to_string()
        }
        None => args
            .runtime
            .clone()
            .or_else(|| {
                std::env::var(DEFAULT_RUNTIME_VAR)
                    .ok()
                    .filter(|r| !r.is_empty())
            })
            .unwrap_or_else(|| crate::runtime::fixture::NAME.to_string()),
    };
    Ok((runtime, task))
}

/// The fixture runtime resolves a relative script path against the task's working directory;
/// `--replay FILE` means FILE as the shell sees it.
fn absolute(file: &Path) -> Result<PathBuf, CliError> {
    if file.is_absolute() {
        return Ok(file.to_path_buf());
    }
    std::env::current_dir()
        .map(|d| d.join(file))
        .map_err(|e| CliError::failed(format!("cannot read the current directory: {e}")))
}

fn read_goal_from_stdin() -> Result<String, CliError> {
    let mut goal = String::new();
    std::io::stdin()
        .read_to_string(&mut goal)
        .map_err(|e| CliError::usage(format!("cannot read the goal from stdin: {e}")))?;
    let goal = goal.trim_end_matches(['\n', '\r']).to_string();
    if goal.trim().is_empty() {
        return Err(CliError::usage("the goal read from stdin is empty"));
    }
    Ok(goal)
}

/// Prints events for a person (or as JSON lines with `--json`).
struct Printer {
    json: bool,
    style: Style,
    state: Mutex<PrintState>,
}

#[derive(Default)]
struct PrintState {
    /// Some answer text went to stdout.
    answered: bool,
    /// The answer so far does not end with a newline.
    mid_line: bool,
}

impl Printer {
    fn new(json: bool) -> Self {
        Printer {
            json,
            style: Style::for_stderr(),
            state: Mutex::new(PrintState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PrintState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn answer(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut state = self.state();
        state.answered = true;
        state.mid_line = !text.ends_with('\n');
        output::print(&escape_controls(text));
    }

    fn progress(&self, line: &str) {
        let mut state = self.state();
        // On one terminal the answer and the progress share the screen: start on a new line.
        if state.mid_line && output::stdout_is_terminal() && output::stderr_is_terminal() {
            output::print("\n");
            state.mid_line = false;
        }
        output::eprint(&format!("{}\n", self.style.dim(&escape_controls(line))));
    }

    /// After the last event: the answer if none was streamed, its last newline, the summary.
    fn finish(&self, r: &Value) {
        let answered = self.state().answered;
        if !answered {
            self.answer(r["output"].as_str().unwrap_or_default());
        }
        if self.state().mid_line {
            output::print("\n");
        }
        self.progress(&summary(r));
        if let Some(err) = r.get("error").filter(|e| !e.is_null()) {
            output::eprint(&format!(
                "error: {} ({})\n",
                escape_controls(err["message"].as_str().unwrap_or("")),
                escape_controls(err["kind"].as_str().unwrap_or("?"))
            ));
        }
    }
}

#[async_trait]
impl EventOutput for Printer {
    async fn send(&self, event: Value) {
        if self.json {
            output::print(&format!("{event}\n"));
            return;
        }
        let data = &event["data"];
        match event["type"].as_str().unwrap_or_default() {
            "agent.task.started" => self.progress(&format!(
                "▶ {} · {} · {}",
                data["runtime"].as_str().unwrap_or("?"),
                data["model"].as_str().unwrap_or("default model"),
                data["workingDirectory"].as_str().unwrap_or("")
            )),
            "agent.output.delta" => self.answer(data["text"].as_str().unwrap_or_default()),
            "agent.tool.requested" => self.progress(&format!(
                "⏺ {} {}",
                data["name"].as_str().unwrap_or("?"),
                short(&data["input"])
            )),
            "agent.tool.completed" => self.progress(&format!(
                "  ⎿ {} {}",
                data["status"].as_str().unwrap_or("?"),
                short(&data["output"])
            )),
            "agent.approval.requested" => self.progress(&format!(
                "  ? approval needed for {}",
                data["name"].as_str().unwrap_or("?")
            )),
            _ => {}
        }
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.replace('\n', " "),
        other => other.to_string(),
    };
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(100).collect::<String>())
    } else {
        s
    }
}

/// "— completed · 1 turns · 3 in / 40 out tokens · $0.0012 · 850 ms · session …"
fn summary(r: &Value) -> String {
    let usage = &r["usage"];
    format!(
        "— {} · {} turns · {} in / {} out tokens{} · {} ms{}",
        r["finishReason"].as_str().unwrap_or("?"),
        r["turns"],
        usage["inputTokens"],
        usage["outputTokens"],
        usage["costUsd"]
            .as_f64()
            .map(|c| format!(" · ${c:.4}"))
            .unwrap_or_default(),
        r["durationMs"],
        r["sessionId"]
            .as_str()
            .map(|s| format!(" · session {s}"))
            .unwrap_or_default(),
    )
}
