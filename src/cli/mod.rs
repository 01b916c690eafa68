//! The command line: `serve` (the default) and the one-shot commands for people and scripts.
//!
//! Conventions every command keeps (see docs/cli.md): results on stdout, progress and errors on
//! stderr; an error is `error: <message>` (and `fix: <remedy>` when there is one); exit 0 on
//! success, 1 when a task ran and did not complete (or diagnose found what was asked for not
//! ready), 2 for usage errors and refusals, 130 on Ctrl-C, 141 when stdout was closed early.
//! The command line uses only `crate::core`, never the JSON-RPC server.

mod diagnose;
mod error;
mod mcp;
mod output;
mod prompt;
mod run;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::json;

pub use diagnose::diagnose_once;
pub use error::CliError;
pub use mcp::mcp_policy;
pub use run::run_once;

use crate::core::Core;
use crate::protocol::task::SandboxMode;
use crate::runtime::RuntimeConfig;

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
        answer=$(agent-runtime-kit run -r codex \"Name the license\")  # stdout holds only the answer\n  \
        agent-runtime-kit diagnose                                  # which runtimes are ready, and why not\n  \
        agent-runtime-kit mcp --runtime claude                      # an MCP server for MCP hosts (docs/mcp.md)\n  \
        echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"capabilities\"}' | agent-runtime-kit\n\n\
        Exit status: 0 success; 1 a task that did not complete, or diagnose found a runtime not \
        ready; 2 a usage error or a refused request; 130 interrupted (Ctrl-C); 141 stdout closed \
        early (e.g. `| head`)."
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
    /// Write every run (events + result) as a replayable fixture script into DIR (`run` prints
    /// the file's path; replay it with `run --replay FILE`).
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
    /// Run one task: the answer on stdout, progress on stderr. Exits 0 only if the task completed.
    Run(RunArgs),
    /// Print what each runtime supports (JSON).
    Capabilities {
        /// Only this runtime.
        #[arg(long)]
        runtime: Option<String>,
    },
    /// Check each runtime's binary, version and credentials. Calls no model unless --probe.
    ///
    /// On a terminal: a table (runtime, ✓/✗, version, the fix). With --json, or when stdout is
    /// not a terminal: the diagnoses as JSON. Exits 1 when the runtime named with --runtime is
    /// not ready or, with none named, when no runtime that calls a model is ready.
    Diagnose(DiagnoseArgs),
    /// Serve the Model Context Protocol on stdin/stdout, for MCP hosts (tools: run_task,
    /// list_runtimes, diagnose). See docs/mcp.md for host configuration.
    Mcp(McpArgs),
    /// Print a shell completion script: `agent-runtime-kit completions bash > /etc/bash_completion.d/agent-runtime-kit`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `agent-runtime-kit man | man -l -`.
    Man,
    /// Print the protocol's JSON Schema.
    #[command(hide = true)]
    Schema,
}

/// `mcp`: the default runtime and the ceiling for `run_task` (the caller is often a model; see
/// docs/security.md). Everything beyond the ceiling is refused with the flag that allows it.
#[derive(Args, Debug)]
pub struct McpArgs {
    /// The runtime `run_task` uses when the call names none (claude, codex, antigravity, fixture).
    #[arg(long)]
    pub runtime: Option<String>,
    /// The widest sandbox a task may ask for.
    #[arg(long, value_enum, default_value = "workspace-write")]
    pub max_sandbox: SandboxCeiling,
    /// A runtime `run_task` may use (repeatable). Default: the --runtime given, else every runtime.
    #[arg(long = "allow-runtime", value_name = "NAME")]
    pub allow_runtime: Vec<String>,
    /// The directory that working directories, additionalDirectories and fixture script paths
    /// must be inside (symlinks resolved). Default: the server's working directory.
    #[arg(long, value_name = "DIR")]
    pub root: Option<std::path::PathBuf>,
    /// Allow tasks to bring their own MCP servers (`mcpServers`).
    #[arg(long)]
    pub allow_mcp_servers: bool,
    /// Allow vendor environment and configuration overrides (runtimeOptions `env`, `passEnv`,
    /// codex `config`, claude `settingSources`, antigravity state paths).
    #[arg(long)]
    pub allow_env_overrides: bool,
    /// Allow changing the model provider or endpoint (codex `provider`, antigravity `baseUrl` /
    /// `vertex`, `*_BASE_URL` in `env`).
    #[arg(long)]
    pub allow_provider_changes: bool,
    /// Allow `permissions.approvals: "host"`: approvals and questions go to the MCP client as
    /// elicitation forms (only clients that declare elicitation). An approval can grant more
    /// than the sandbox does.
    #[arg(long)]
    pub allow_host_approvals: bool,
    /// Allow `diagnose` with `probe: true` (a real model call, paid by the operator).
    #[arg(long)]
    pub allow_probes: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SandboxCeiling {
    ReadOnly,
    WorkspaceWrite,
    FullAccess,
}

#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    /// Only this runtime (exit 1 unless it is ready).
    #[arg(long)]
    pub runtime: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    /// Send a one-turn task to the model to check the model and the credentials.
    #[arg(long)]
    pub probe: bool,
    /// Print JSON (the default when stdout is not a terminal).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "Flags override the same fields of --task: \
    `run --sandbox read-only --task '{\"permissions\":{\"approvals\":\"deny\"}}' GOAL` runs read-only \
    with approvals denied. GOAL replaces the task's goal; without GOAL the task's goal is used.")]
pub struct RunArgs {
    /// What the agent should do; `-` reads it from stdin. Optional with --task (its goal) or
    /// --replay.
    pub goal: Option<String>,
    /// fixture (built in, no account), claude, codex or antigravity [default: fixture, or
    /// $AGENT_RUNTIME_KIT_RUNTIME when set]
    // Not clap's `env`: clap counts an environment value as given, so a default runtime in the
    // environment would conflict with --replay.
    #[arg(long, short, conflicts_with = "replay")]
    pub runtime: Option<String>,
    /// The working directory (default: the current one).
    #[arg(long)]
    pub cwd: Option<String>,
    #[arg(long, short)]
    pub model: Option<String>,
    /// read-only, workspace-write (the default) or full-access.
    #[arg(long, value_parser = parse_sandbox)]
    pub sandbox: Option<SandboxMode>,
    #[arg(long)]
    pub max_turns: Option<u32>,
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Resume this session id.
    #[arg(long)]
    pub resume: Option<String>,
    /// The whole AgentTask as JSON; the flags above override its fields.
    #[arg(long, value_name = "JSON")]
    pub task: Option<String>,
    /// Print JSON lines on stdout (each event, then the result) instead of readable text.
    #[arg(long)]
    pub json: bool,
    /// Also write the agent's final message to FILE (as is, not escaped).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_last_message: Option<PathBuf>,
    /// Replay a recorded run (a fixture script, e.g. written by --record) with the fixture runtime.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
}

fn parse_sandbox(s: &str) -> Result<SandboxMode, String> {
    serde_json::from_value(json!(s))
        .map_err(|_| "expected read-only, workspace-write or full-access".to_string())
}

/// `capabilities`: pretty JSON.
pub fn capabilities_once(core: &Core, runtime: Option<&str>) -> Result<i32, CliError> {
    let reply = core.capabilities(runtime)?;
    let text = serde_json::to_string_pretty(&reply).expect("capabilities serialize");
    Ok(output::print_all(&format!("{text}\n")))
}

/// `schema`: the protocol's JSON Schema.
pub fn schema_once() -> i32 {
    let text = serde_json::to_string_pretty(&crate::schema::protocol_schema())
        .expect("the schema serializes");
    output::print_all(&format!("{text}\n"))
}

/// `completions SHELL`: the completion script for SHELL.
pub fn completions_once(shell: clap_complete::Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "agent-runtime-kit", &mut script);
    output::print_all(&String::from_utf8_lossy(&script))
}

/// `man`: the man page, in roff.
pub fn man_once() -> Result<i32, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| CliError::failed(format!("cannot render the man page: {e}")))?;
    Ok(output::print_all(&String::from_utf8_lossy(&page)))
}

/// Prints `error: …` (and `fix: …`) on stderr and gives the exit code.
pub fn report(e: CliError) -> i32 {
    e.report()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
