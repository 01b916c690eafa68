//! `mcp`'s flags → the server's [`Policy`] (the ceiling for `run_task`).

use super::{CliError, McpArgs, SandboxCeiling};
use crate::mcp::Policy;
use crate::protocol::task::SandboxMode;

/// The ceiling the flags set. Runtimes: the `--allow-runtime`s, else the `--runtime`, else all.
pub fn mcp_policy(args: &McpArgs) -> Result<Policy, CliError> {
    let root = match &args.root {
        Some(r) => r.clone(),
        None => std::env::current_dir()
            .map_err(|e| CliError::failed(format!("no working directory: {e}")))?,
    };
    let mut policy = Policy::strict(&root)
        .map_err(|e| CliError::usage(format!("--root {}: {e}", root.display())))?;
    if !policy.root.is_dir() {
        return Err(CliError::usage(format!(
            "--root {}: not a directory",
            root.display()
        )));
    }
    policy.max_sandbox = match args.max_sandbox {
        SandboxCeiling::ReadOnly => SandboxMode::ReadOnly,
        SandboxCeiling::WorkspaceWrite => SandboxMode::WorkspaceWrite,
        SandboxCeiling::FullAccess => SandboxMode::FullAccess,
    };
    policy.runtimes = if !args.allow_runtime.is_empty() {
        Some(args.allow_runtime.clone())
    } else {
        args.runtime.clone().map(|r| vec![r])
    };
    policy.allow_mcp_servers = args.allow_mcp_servers;
    policy.allow_env_overrides = args.allow_env_overrides;
    policy.allow_provider_changes = args.allow_provider_changes;
    policy.allow_host_approvals = args.allow_host_approvals;
    policy.allow_probes = args.allow_probes;
    Ok(policy)
}
