//! The command line: `serve` (the default) and the one-shot commands for people and scripts.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use crate::core::Core;
use crate::protocol::methods::{DiagnoseParams, RunParams};
use crate::protocol::task::{AgentTask, ApprovalMode, Permissions, SandboxMode};
use crate::protocol::RpcError;
use crate::runtime::{EventOutput, RuntimeConfig};

#[derive(Parser, Debug)]
#[command(
    name = "agent-runtime-kit",
    version,
    about = "Run an agentic coding task through Claude Code, Codex or Antigravity with one protocol.",
    long_about = "Run an agentic coding task through Claude Code, Codex or Antigravity with one protocol.\n\n\
        With no command it serves JSON-RPC 2.0 on stdin/stdout, one message per line: the way an \
        editor, orchestrator or script embeds it (methods: run, cancel, capabilities, diagnose). \
        Logs go to stderr.\n\n\
        Try it without any vendor account:  agent-runtime-kit run \"Explain this repository\"",
    after_help = "Examples:\n  \
        agent-runtime-kit run \"Explain this repository\"            # the built-in fixture runtime\n  \
        agent-runtime-kit run --runtime claude \"Fix the failing test\"\n  \
        agent-runtime-kit diagnose                                  # which runtimes are ready, and why not\n  \
        agent-runtime-kit mcp --runtime claude                      # an MCP server for MCP hosts (docs/mcp.md)\n  \
        echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"capabilities\"}' | agent-runtime-kit"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Log level for stderr (overridden by RUST_LOG).
    #[arg(
        long,
        global = true,
        default_value = "info",
        env = "AGENT_RUNTIME_KIT_LOG"
    )]
    pub log_level: String,
    /// Refuse input lines longer than this (they get a -32700 reply; the server keeps serving).
    #[arg(long, global = true, default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most tasks running at once; more get -32015 Busy.
    #[arg(long, global = true, default_value_t = 4096)]
    pub max_tasks: usize,
    /// Write every run (events + result) as a replayable fixture script into DIR.
    #[arg(long, global = true, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// The claude binary (default: `claude` on PATH).
    #[arg(long, global = true, env = "AGENT_RUNTIME_KIT_CLAUDE_PATH")]
    pub claude_path: Option<PathBuf>,
    /// The native codex binary (default: `codex` on PATH).
    #[arg(long, global = true, env = "AGENT_RUNTIME_KIT_CODEX_PATH")]
    pub codex_path: Option<PathBuf>,
    /// A Python with `google-antigravity` installed (default: `python3` on PATH).
    #[arg(long, global = true, env = "AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON")]
    pub antigravity_python: Option<PathBuf>,
}

impl GlobalArgs {
    pub fn runtime_config(&self) -> RuntimeConfig {
        let mut c = RuntimeConfig::default();
        for (name, path) in [
            ("claude", &self.claude_path),
            ("codex", &self.codex_path),
            ("antigravity", &self.antigravity_python),
        ] {
            if let Some(p) = path {
                c.paths.insert(name.to_string(), p.clone());
            }
        }
        c
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve JSON-RPC on stdin/stdout (the default).
    Serve,
    /// Run one task and print its events and result. Exits 0 only if the task completed.
    Run(RunArgs),
    /// Print what each runtime supports (JSON).
    Capabilities {
        /// Only this runtime.
        #[arg(long)]
        runtime: Option<String>,
    },
    /// Check each runtime's binary, version and credentials (JSON). Calls no model unless --probe.
    Diagnose {
        #[arg(long)]
        runtime: Option<String>,
        #[arg(long)]
        model: Option<String>,
        /// Send a one-turn task to the model to check the model and the credentials.
        #[arg(long)]
        probe: bool,
    },
    /// Serve the Model Context Protocol on stdin/stdout, for MCP hosts (tools: run_task,
    /// list_runtimes, diagnose). See docs/mcp.md for host configuration.
    Mcp {
        /// The runtime `run_task` uses when the call names none (claude, codex, antigravity, fixture).
        #[arg(long)]
        runtime: Option<String>,
    },
    /// Print the protocol's JSON Schema.
    #[command(hide = true)]
    Schema,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// What the agent should do.
    pub goal: String,
    /// fixture (built in, no account), claude, codex or antigravity.
    #[arg(long, short, default_value = "fixture")]
    pub runtime: String,
    /// The working directory (default: the current one).
    #[arg(long)]
    pub cwd: Option<String>,
    #[arg(long, short)]
    pub model: Option<String>,
    /// read-only, workspace-write or full-access.
    #[arg(long, default_value = "workspace-write", value_parser = parse_sandbox)]
    pub sandbox: SandboxMode,
    #[arg(long)]
    pub max_turns: Option<u32>,
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Resume this session id.
    #[arg(long)]
    pub resume: Option<String>,
    /// The whole AgentTask as JSON (fields given as flags override it).
    #[arg(long, value_name = "JSON")]
    pub task: Option<String>,
    /// Print JSON lines (each event, then the result) instead of readable text.
    #[arg(long)]
    pub json: bool,
}

fn parse_sandbox(s: &str) -> Result<SandboxMode, String> {
    serde_json::from_value(json!(s))
        .map_err(|_| "expected read-only, workspace-write or full-access".to_string())
}

/// One-shot `run`: the same core as the server, with a terminal for a host.
pub async fn run_once(core: Arc<Core>, args: RunArgs) -> anyhow::Result<i32> {
    let mut task: AgentTask = match &args.task {
        Some(json) => serde_json::from_str(json)?,
        None => AgentTask::default(),
    };
    task.goal = args.goal.clone();
    task.working_directory = args.cwd.clone().or(task.working_directory);
    task.model = args.model.clone().or(task.model);
    task.max_turns = args.max_turns.or(task.max_turns);
    task.timeout_ms = args.timeout_ms.or(task.timeout_ms);
    if let Some(id) = &args.resume {
        task.session = Some(crate::protocol::task::SessionRef {
            resume: id.clone(),
            fork: false,
        });
    }
    if task.permissions.is_none() {
        task.permissions = Some(Permissions {
            sandbox: args.sandbox,
            approvals: ApprovalMode::Deny,
            ..Default::default()
        });
    }
    let params = RunParams {
        task_id: None,
        runtime: args.runtime.clone(),
        task,
        options: None,
    };
    let out: Arc<dyn EventOutput> = Arc::new(Printer { json: args.json });
    let run = core.run(params, out, None);
    tokio::pin!(run);
    let result = tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => {
            core.shutdown();
            run.await
        }
    };
    let result = match result {
        Ok(r) => r,
        Err(refusal) => {
            let e = RpcError::from(refusal);
            if args.json {
                println!("{}", json!({ "error": e }));
            } else {
                eprintln!("error: {}", e.message);
                if let Some(remedy) = e.data.get("remedy").and_then(Value::as_str) {
                    eprintln!("fix: {remedy}");
                }
            }
            return Ok(2);
        }
    };
    if args.json {
        println!("{}", json!({ "result": result }));
    } else {
        print_summary(&result);
    }
    Ok(if result["finishReason"] == "completed" {
        0
    } else {
        1
    })
}

pub async fn diagnose_once(core: &Core, params: DiagnoseParams) -> anyhow::Result<i32> {
    let v = core.diagnose(&params).await?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(0)
}

pub fn capabilities_once(core: &Core, runtime: Option<&str>) -> anyhow::Result<i32> {
    let reply = core.capabilities(runtime)?;
    println!("{}", serde_json::to_string_pretty(&reply)?);
    Ok(0)
}

/// Prints events for a person (or as JSON lines with `--json`).
struct Printer {
    json: bool,
}

#[async_trait]
impl EventOutput for Printer {
    async fn send(&self, event: Value) {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(stdout, "{event}");
            return;
        }
        let data = &event["data"];
        let dim = |s: String| {
            if std::io::stdout().is_terminal() {
                format!("\x1b[2m{s}\x1b[0m")
            } else {
                s
            }
        };
        let line = match event["type"].as_str().unwrap_or_default() {
            "agent.task.started" => Some(dim(format!(
                "▶ {} · {} · {}",
                data["runtime"].as_str().unwrap_or("?"),
                data["model"].as_str().unwrap_or("default model"),
                data["workingDirectory"].as_str().unwrap_or("")
            ))),
            "agent.output.delta" => {
                let _ = write!(stdout, "{}", data["text"].as_str().unwrap_or_default());
                let _ = stdout.flush();
                None
            }
            "agent.tool.requested" => Some(dim(format!(
                "\n⏺ {} {}",
                data["name"].as_str().unwrap_or("?"),
                short(&data["input"])
            ))),
            "agent.tool.completed" => Some(dim(format!(
                "  ⎿ {} {}",
                data["status"].as_str().unwrap_or("?"),
                short(&data["output"])
            ))),
            "agent.approval.requested" => Some(dim(format!(
                "  ? approval needed for {}",
                data["name"].as_str().unwrap_or("?")
            ))),
            _ => None,
        };
        if let Some(line) = line {
            let _ = writeln!(stdout, "{line}");
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

fn print_summary(r: &Value) {
    println!();
    let usage = &r["usage"];
    eprintln!(
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
    );
    if let Some(err) = r.get("error").filter(|e| !e.is_null()) {
        eprintln!(
            "error ({}): {}",
            err["kind"].as_str().unwrap_or("?"),
            err["message"].as_str().unwrap_or("")
        );
    }
}
