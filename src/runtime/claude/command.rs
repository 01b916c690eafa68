//! The CLI's command line and environment for one task.
//!
//! Only short, non-sensitive values go on argv. The prompt is the first stdin message; the system
//! prompt and the JSON schema travel in the `initialize` control request; the MCP configuration is
//! a 0600 file in the task's private temp dir (argv is world-readable in /proc and limited in size
//! on Windows, lessons #31).

use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};
use tokio::process::Command;

use super::options::ClaudeOptions;
use super::permissions::Mapping;
use crate::core::Refusal;
use crate::protocol::task::{AgentTask, McpServer};

/// Refuses task values that would change the meaning of the CLI's command line or environment.
///
/// Values go on argv as separate arguments, so they cannot split into several; but the CLI's
/// parser (commander) reads an argument that starts with `-` as an option, and `--disallowedTools`
/// takes every following argument up to the next option: a model named
/// `--dangerously-skip-permissions` or a tool named `--permission-mode=bypassPermissions` would be
/// a flag. Environment names with `=` or NUL would set a different variable than the one named.
pub fn check_argv_values(task: &AgentTask, opts: &ClaudeOptions) -> Result<(), Refusal> {
    let flag_like = |path: String, v: &str| {
        if v.starts_with('-') || v.contains('\0') {
            Err(Refusal::invalid(
                path,
                "must not start with '-' or contain NUL (it is passed to the CLI as an argument)",
            ))
        } else {
            Ok(())
        }
    };
    if let Some(m) = &task.model {
        flag_like("task.model".into(), m)?;
    }
    if let Some(m) = &opts.fallback_model {
        flag_like("task.runtimeOptions.claude.fallbackModel".into(), m)?;
    }
    if let Some(resume) = task.resume() {
        flag_like("task.session.resume".into(), resume)?;
    }
    let perms = task.permissions();
    for (field, list) in [
        ("allowedTools", &perms.allowed_tools),
        ("disallowedTools", &perms.disallowed_tools),
    ] {
        for (i, name) in list.iter().flatten().enumerate() {
            flag_like(format!("task.permissions.{field}[{i}]"), name)?;
        }
    }
    crate::runtime::vendor_env::check_names(&opts.pass_env)
        .map_err(|why| Refusal::invalid("task.runtimeOptions.claude.passEnv", why))?;
    for (k, v) in &opts.env {
        if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
            return Err(Refusal::invalid(
                "task.runtimeOptions.claude.env",
                format!("{k:?} is not a valid environment variable (name without '=' or NUL, value without NUL)"),
            ));
        }
    }
    Ok(())
}

pub struct Launch {
    pub command: Command,
    /// What the runtime writes first on stdin.
    pub initialize: Value,
}

pub fn build(
    binary: &Path,
    task: &AgentTask,
    opts: &ClaudeOptions,
    mapping: &Mapping,
    working_directory: &Path,
    private_tmp: &Path,
    new_session_id: Option<&str>,
) -> std::io::Result<Launch> {
    let mut args: Vec<String> = [
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        // stream-json output requires it.
        "--verbose",
        // Approvals come to us as `can_use_tool`; without it they are silently auto-denied.
        "--permission-prompt-tool",
        "stdio",
        "--include-partial-messages",
        // Echoes each user message as the CLI takes it: how a turn knows that steering text
        // joined it (turn.rs).
        "--replay-user-messages",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("--permission-mode".into());
    args.push(mapping.mode.into());
    if let Some(tools) = &mapping.tools {
        args.push("--tools".into());
        args.push(tools.join(","));
    }
    if !mapping.disallowed.is_empty() {
        args.push("--disallowedTools".into());
        args.extend(mapping.disallowed.iter().cloned());
    }
    // Settings files can carry allow rules that would widen `permissions`: none unless asked.
    args.push("--setting-sources".into());
    args.push(
        opts.setting_sources
            .iter()
            .flatten()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    if let Some(model) = &task.model {
        args.push("--model".into());
        args.push(model.clone());
    }
    if let Some(m) = &opts.fallback_model {
        args.push("--fallback-model".into());
        args.push(m.clone());
    }
    if let Some(e) = opts.effort {
        args.push("--effort".into());
        args.push(e.as_str().into());
    }
    if let Some(n) = task.max_turns {
        args.push("--max-turns".into());
        args.push(n.to_string());
    }
    if let Some(usd) = opts.max_budget_usd {
        args.push("--max-budget-usd".into());
        args.push(usd.to_string());
    }
    for d in task.additional_directories.iter().flatten() {
        args.push("--add-dir".into());
        args.push(working_directory.join(d).display().to_string());
    }
    if let Some(resume) = task.resume() {
        args.push("--resume".into());
        args.push(resume.to_string());
        if task.fork() {
            args.push("--fork-session".into());
        }
    }
    // Ours to choose for a new (or forked) live session, so its id is known before any turn.
    if let Some(id) = new_session_id.filter(|_| task.resume().is_none() || task.fork()) {
        args.push("--session-id".into());
        args.push(id.to_string());
    }
    if let Some(servers) = task.mcp_servers.as_ref().filter(|s| !s.is_empty()) {
        let path = private_tmp.join("mcp.json");
        write_private(&path, &mcp_config(servers))?;
        args.push("--mcp-config".into());
        args.push(path.display().to_string());
        // Only the task's servers: none from settings or project files.
        args.push("--strict-mcp-config".into());
    }

    let mut cmd = Command::new(binary);
    cmd.args(&args).current_dir(working_directory);
    // The allowlist (ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL and friends are how users configure
    // the CLI), `passEnv`, then the task's extras; nothing else of the sidecar's environment.
    super::env::vendor_env(opts).apply(&mut cmd);
    let tmp = private_tmp.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    // The CLI puts a per-process socket and scratch files under $TMPDIR and leaves them behind
    // when killed (vendors/claude.md §6): give it the task's own, deleted after the run.
    cmd.env("TMPDIR", &tmp);
    if let Some(n) = opts.max_retries {
        cmd.env("CLAUDE_CODE_MAX_RETRIES", n.to_string());
    }
    // The task's own values win over ours.
    cmd.envs(&opts.env);

    let initialize = super::wire::initialize(
        "ark-init",
        task.system_prompt.as_deref(),
        task.append_system_prompt.as_deref(),
        task.output_schema.as_ref(),
    );
    Ok(Launch {
        command: cmd,
        initialize,
    })
}

/// `{"mcpServers": {...}}` in the shape the CLI reads.
pub fn mcp_config(servers: &std::collections::BTreeMap<String, McpServer>) -> Value {
    let mut out = Map::new();
    for (name, server) in servers {
        let v = match server {
            McpServer::Stdio(s) => json!({
                "type": "stdio", "command": s.command, "args": s.args, "env": s.env,
            }),
            McpServer::Http(h) => json!({ "type": "http", "url": h.url, "headers": h.headers }),
        };
        out.insert(name.clone(), v);
    }
    json!({ "mcpServers": out })
}

fn write_private(path: &Path, value: &Value) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(serde_json::to_string(value)?.as_bytes())
}
