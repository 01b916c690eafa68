//! The MCP server's ceiling: what a `run_task` call may ask for.
//!
//! In MCP mode the caller is often a model, which must not get the authority of the operator who
//! started the server. So the operator sets a ceiling with flags on `agent-runtime-kit mcp`, and
//! everything beyond it is refused by default, before the core admits the task, as a tool error
//! that names the flag allowing it:
//!
//! - `--max-sandbox` (default `workspace-write`, the task default): no `full-access` unless given;
//! - `--allow-runtime NAME` (repeatable; default: the `--runtime` given, else every runtime);
//! - `--root DIR` (default: the server's working directory): the working directory,
//!   `additionalDirectories` and a fixture script's `path` must resolve (symlinks followed) inside
//!   it; the resolved paths replace the given ones, so what was checked is what runs;
//! - `--allow-mcp-servers`: task MCP servers (each one is a program or a URL the agent talks to);
//! - `--allow-env-overrides`: `env`, `passEnv`, codex `config`, claude `settingSources`, and the
//!   antigravity state paths (`stateDir`, `saveDir`, `useUserHome`);
//! - `--allow-provider-changes`: codex `provider`, antigravity `baseUrl` / `vertex`, and `env`
//!   entries that move the endpoint (`*_BASE_URL`, `CLAUDE_CODE_USE_*`);
//! - `--allow-host-approvals`: `permissions.approvals: "host"` (approvals and questions answered
//!   by the MCP client through elicitation). An approval can grant more than the sandbox does
//!   (codex `hostApprovalPolicy: "on-request"` escalates past it; claude runs what the approver
//!   allows), and the client's elicitation handler may be a program, not a person; so the
//!   operator opts in;
//! - `--allow-probes`: `diagnose` with `probe: true` (a probe is a real model call that spends
//!   the operator's tokens).
//!
//! The JSON-RPC front end does not apply this: its host is the program that embeds the sidecar
//! and is trusted with the user's authority (docs/security.md).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::protocol::methods::{DiagnoseParams, RunParams};
use crate::protocol::task::{ApprovalMode, SandboxMode};
use crate::protocol::{ErrorCode, RpcError};

/// The operator's ceiling for `run_task`.
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_sandbox: SandboxMode,
    /// `None`: every runtime.
    pub runtimes: Option<Vec<String>>,
    /// Canonical (symlinks resolved).
    pub root: PathBuf,
    pub allow_mcp_servers: bool,
    pub allow_env_overrides: bool,
    pub allow_provider_changes: bool,
    pub allow_host_approvals: bool,
    pub allow_probes: bool,
}

impl Policy {
    /// The most a `run_task` may do when the operator gave no flags: `workspace-write`, any
    /// runtime, inside `root`, nothing else.
    pub fn strict(root: &Path) -> std::io::Result<Policy> {
        Ok(Policy {
            max_sandbox: SandboxMode::WorkspaceWrite,
            runtimes: None,
            root: root.canonicalize()?,
            allow_mcp_servers: false,
            allow_env_overrides: false,
            allow_provider_changes: false,
            allow_host_approvals: false,
            allow_probes: false,
        })
    }

    /// Checks `params` against the ceiling and replaces its paths by their resolved forms. `cwd`
    /// is the server's working directory (what relative paths and a missing one resolve against).
    pub fn admit(&self, params: &mut RunParams, cwd: &Path) -> Result<(), RpcError> {
        if let Some(allowed) = &self.runtimes {
            if !allowed.contains(&params.runtime) {
                return Err(beyond(
                    "runtime",
                    format!(
                        "runtime {:?} is not allowed by this server (allowed: {})",
                        params.runtime,
                        allowed.join(", ")
                    ),
                    &format!("--allow-runtime {}", params.runtime),
                ));
            }
        }
        let task = &mut params.task;
        if !self.allow_host_approvals && task.permissions().approvals == ApprovalMode::Host {
            return Err(beyond(
                "task.permissions.approvals",
                "approvals \"host\" (answered by the MCP client through elicitation) are not \
                 allowed by this server",
                "--allow-host-approvals",
            ));
        }
        let sandbox = task.permissions().sandbox;
        if rank(sandbox) > rank(self.max_sandbox) {
            return Err(beyond(
                "task.permissions.sandbox",
                format!(
                    "sandbox {} is above this server's ceiling ({})",
                    sandbox_name(sandbox),
                    sandbox_name(self.max_sandbox)
                ),
                &format!("--max-sandbox {}", sandbox_name(sandbox)),
            ));
        }
        let wd = self.inside_root(
            "task.workingDirectory",
            &cwd.join(task.working_directory.as_deref().unwrap_or(".")),
        )?;
        task.working_directory = Some(wd.display().to_string());
        for (i, d) in task.additional_directories.iter_mut().flatten().enumerate() {
            let path = format!("task.additionalDirectories[{i}]");
            *d = self
                .inside_root(&path, &wd.join(&*d))?
                .display()
                .to_string();
        }
        if !self.allow_mcp_servers && task.mcp_servers.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(beyond(
                "task.mcpServers",
                "task MCP servers are not allowed by this server",
                "--allow-mcp-servers",
            ));
        }
        let Some(options) = task.runtime_options.as_mut() else {
            return Ok(());
        };
        for (runtime, raw) in options.iter_mut() {
            let mut value: Value = serde_json::from_str(raw.get()).map_err(|e| {
                RpcError::invalid_params(format!("task.runtimeOptions.{runtime}"), e.to_string())
            })?;
            let base = format!("task.runtimeOptions.{runtime}");
            self.check_options(&base, runtime, &mut value, &wd)?;
            *raw = serde_json::value::to_raw_value(&value).expect("JSON");
        }
        Ok(())
    }

    fn check_options(
        &self,
        base: &str,
        runtime: &str,
        opts: &mut Value,
        wd: &Path,
    ) -> Result<(), RpcError> {
        let Some(map) = opts.as_object_mut() else {
            return Ok(());
        };
        let set = |v: &Value| !matches!(v, Value::Null | Value::Bool(false));
        // Endpoint changes first: an `env` with a base URL names the more specific flag.
        if !self.allow_provider_changes {
            let provider_keys: &[&str] = match runtime {
                "codex" => &["provider"],
                "antigravity" => &["baseUrl", "vertex"],
                _ => &[],
            };
            for k in provider_keys {
                if map.get(*k).is_some_and(set) {
                    return Err(beyond(
                        &format!("{base}.{k}"),
                        "changing the model provider or endpoint is not allowed by this server",
                        "--allow-provider-changes",
                    ));
                }
            }
            if let Some(env) = map.get("env").and_then(Value::as_object) {
                if let Some(k) = env.keys().find(|k| moves_endpoint(k)) {
                    return Err(beyond(
                        &format!("{base}.env.{k}"),
                        "changing the model provider or endpoint is not allowed by this server",
                        "--allow-provider-changes",
                    ));
                }
            }
        }
        if !self.allow_env_overrides {
            for k in [
                "env",
                "passEnv",
                "config",
                "settingSources",
                "stateDir",
                "saveDir",
                "useUserHome",
            ] {
                let asked = match map.get(k) {
                    Some(Value::Object(m)) => !m.is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    Some(v) => set(v),
                    None => false,
                };
                if asked {
                    return Err(beyond(
                        &format!("{base}.{k}"),
                        "vendor environment and configuration overrides are not allowed by this server",
                        "--allow-env-overrides",
                    ));
                }
            }
        }
        if runtime == "fixture" {
            if let Some(Value::String(p)) = map.get("path") {
                let resolved = self.inside_root(&format!("{base}.path"), &wd.join(p))?;
                map.insert("path".into(), json!(resolved.display().to_string()));
            }
        }
        Ok(())
    }

    /// `diagnose` under the ceiling: a probe calls the real model.
    pub fn admit_diagnose(&self, args: &DiagnoseParams) -> Result<(), RpcError> {
        if args.probe && !self.allow_probes {
            return Err(beyond(
                "probe",
                "diagnose probes (a real model call, paid by the operator) are not allowed by \
                 this server",
                "--allow-probes",
            ));
        }
        Ok(())
    }

    /// `path` resolved (symlinks followed), if inside the root.
    fn inside_root(&self, field: &str, path: &Path) -> Result<PathBuf, RpcError> {
        let resolved = path.canonicalize().map_err(|e| {
            RpcError::invalid_params(field, format!("cannot resolve {}: {e}", path.display()))
        })?;
        if resolved.starts_with(&self.root) {
            Ok(resolved)
        } else {
            Err(beyond(
                field,
                format!(
                    "{} resolves to {}, outside this server's root {}",
                    path.display(),
                    resolved.display(),
                    self.root.display()
                ),
                &format!("--root {}", common_root(&resolved, &self.root).display()),
            ))
        }
    }
}

/// An environment variable that points the vendor at another model endpoint or provider.
fn moves_endpoint(name: &str) -> bool {
    name.ends_with("_BASE_URL")
        || name.starts_with("CLAUDE_CODE_USE_")
        || name == "GOOGLE_GENAI_USE_VERTEXAI"
        || name == "GOOGLE_GENAI_USE_ENTERPRISE"
}

fn rank(s: SandboxMode) -> u8 {
    match s {
        SandboxMode::ReadOnly => 0,
        SandboxMode::WorkspaceWrite => 1,
        SandboxMode::FullAccess => 2,
    }
}

pub fn sandbox_name(s: SandboxMode) -> &'static str {
    match s {
        SandboxMode::ReadOnly => "read-only",
        SandboxMode::WorkspaceWrite => "workspace-write",
        SandboxMode::FullAccess => "full-access",
    }
}

/// The deepest directory holding both (what `--root` would have to be).
fn common_root(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// A refusal for a call beyond the ceiling: -32012 (unsupported task input), kind `policy`, the
/// flag that would allow it in the message and in `data.flag`.
fn beyond(field: &str, reason: impl Into<String>, flag: &str) -> RpcError {
    let reason = reason.into();
    RpcError::new(
        ErrorCode::UnsupportedTaskInput,
        format!("{reason}; the operator can allow it by starting the server with {flag}"),
        json!({ "field": field, "reason": reason, "flag": flag }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_variables_are_recognised() {
        assert!(moves_endpoint("ANTHROPIC_BASE_URL"));
        assert!(moves_endpoint("CLAUDE_CODE_USE_BEDROCK"));
        assert!(!moves_endpoint("ANTHROPIC_API_KEY"));
        assert_eq!(
            common_root(Path::new("/a/b/c"), Path::new("/a/x")),
            PathBuf::from("/a")
        );
    }
}
