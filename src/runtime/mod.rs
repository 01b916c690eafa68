//! Runtimes: what drives a vendor agent (or replays a script) for one task.
//!
//! A runtime turns vendor output into our events and knows nothing of JSON-RPC. It declares what
//! it can do ([`RuntimeInfo`]); [`validate_task`] enforces that declaration once, generically,
//! before anything starts, so a field a runtime cannot honour is refused (-32012), never dropped.

pub mod antigravity;
pub mod claude;
pub mod codex;
pub mod context;
pub mod fixture;
pub mod jsonl;
pub mod jsonrpc_peer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use context::{
    ApprovalHost, Approvals, EventOutput, EventSink, OutEvent, Prepared, RunContext, Stop,
    StopReason,
};

use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::AgentResult;
use crate::protocol::runtime_info::{Diagnosis, RuntimeInfo};
use crate::protocol::task::AgentTask;
use crate::protocol::{ErrorCode, RpcError};

#[async_trait]
pub trait Runtime: Send + Sync {
    /// Name, description, capabilities and the JSON Schema of `runtimeOptions.<name>`.
    fn info(&self) -> RuntimeInfo;

    /// Checks binary, version and credentials without calling a model (unless `probe`).
    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis;

    /// Checks that go beyond the declared capabilities (e.g. a field combination the vendor
    /// cannot enforce). Runs after [`validate_task`], before anything starts.
    fn validate(&self, _task: &AgentTask) -> Result<(), RpcError> {
        Ok(())
    }

    /// [`validate`](Self::validate), handing `run` (as [`RunContext::prepared`]) what the checks
    /// worked out, so it is not worked out twice (the fixture's parsed script).
    fn prepare(&self, task: &AgentTask) -> Result<Prepared, RpcError> {
        self.validate(task).map(|()| None)
    }

    /// Whether `run` can start at all (binary present, credentials set). A `Some` diagnosis
    /// refuses the run with -32011 RuntimeUnavailable. Must be quick: no model call.
    async fn preflight(&self, _task: &AgentTask) -> Option<Diagnosis> {
        None
    }

    /// Runs the task to its end. Emits events through `ctx.events` (never a terminal event: the
    /// core emits that from the returned result) and stops promptly when `ctx.stop` fires,
    /// returning `finishReason: "cancelled"` with `cancel` set to how it stopped.
    /// The core fills `taskId`, `runtime`, `durationMs` and `metadata`, and checks
    /// `structuredOutput` against the task's `outputSchema`.
    async fn run(&self, ctx: RunContext) -> AgentResult;
}

/// Runtimes by name, with their [`RuntimeInfo`] built once: a runtime's info is fixed for the
/// life of the process, and building it (schemars schema generation) per `run` or `capabilities`
/// cost tens of kilobytes per task.
#[derive(Clone, Default)]
pub struct Registry {
    runtimes: BTreeMap<String, Registered>,
}

#[derive(Clone)]
struct Registered {
    runtime: Arc<dyn Runtime>,
    info: Arc<RuntimeInfo>,
    /// The compiled `runtimeOptions` schema, built on first use.
    options: Arc<std::sync::OnceLock<Result<jsonschema::Validator, String>>>,
}

impl Registry {
    pub fn register(&mut self, runtime: Arc<dyn Runtime>) {
        let info = Arc::new(runtime.info());
        self.runtimes.insert(
            info.name.clone(),
            Registered {
                runtime,
                info,
                options: Default::default(),
            },
        );
    }

    pub fn get(&self, name: &str) -> Result<Arc<dyn Runtime>, RpcError> {
        self.entry(name).map(|e| e.runtime.clone())
    }

    /// The runtime's info, as built at registration.
    pub fn info(&self, name: &str) -> Result<Arc<RuntimeInfo>, RpcError> {
        self.entry(name).map(|e| e.info.clone())
    }

    /// [`validate_task`] with the runtime's cached info and compiled options schema.
    pub fn validate_task(
        &self,
        name: &str,
        task: &AgentTask,
        cwd: &Path,
    ) -> Result<PathBuf, RpcError> {
        let e = self.entry(name)?;
        let validator = e.options.get_or_init(|| {
            jsonschema::validator_for(&e.info.options).map_err(|err| err.to_string())
        });
        let validator = validator.as_ref().map_err(|err| {
            RpcError::internal(format!("runtime options schema of {name}: {err}"))
        })?;
        check_task(&e.info, validator, task, cwd)
    }

    fn entry(&self, name: &str) -> Result<&Registered, RpcError> {
        self.runtimes.get(name).ok_or_else(|| {
            RpcError::new(
                ErrorCode::UnknownRuntime,
                format!("unknown runtime {name:?}"),
                serde_json::json!({ "runtime": name, "known": self.names() }),
            )
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.runtimes.keys().cloned().collect()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Runtime>> {
        self.runtimes.values().map(|e| &e.runtime)
    }

    /// Every runtime's info, in name order.
    pub fn infos(&self) -> impl Iterator<Item = &Arc<RuntimeInfo>> {
        self.runtimes.values().map(|e| &e.info)
    }
}

/// The registry with every built-in runtime.
pub fn builtin(config: &RuntimeConfig) -> Registry {
    let mut r = Registry::default();
    r.register(Arc::new(fixture::FixtureRuntime));
    r.register(Arc::new(claude::ClaudeRuntime::new(
        config.paths.get(claude::NAME).cloned(),
    )));
    r.register(Arc::new(codex::CodexRuntime::new(
        config.paths.get(codex::NAME).cloned(),
    )));
    r.register(Arc::new(antigravity::AntigravityRuntime::new(
        config.paths.get(antigravity::NAME).cloned(),
    )));
    r
}

/// Settings from the command line that runtimes need (binary paths and the like).
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// `--claude-path`, `--codex-path`, `--antigravity-python`, ... by runtime name.
    pub paths: BTreeMap<String, PathBuf>,
}

/// Checks `task` against `info`'s capabilities and options schema; resolves the working directory.
/// Errors: -32602 for a malformed value, -32012 for a field this runtime cannot honour.
pub fn validate_task(
    info: &RuntimeInfo,
    task: &AgentTask,
    cwd: &Path,
) -> Result<PathBuf, RpcError> {
    let validator = jsonschema::validator_for(&info.options)
        .map_err(|e| RpcError::internal(format!("runtime options schema of {}: {e}", info.name)))?;
    check_task(info, &validator, task, cwd)
}

fn check_task(
    info: &RuntimeInfo,
    options: &jsonschema::Validator,
    task: &AgentTask,
    cwd: &Path,
) -> Result<PathBuf, RpcError> {
    let caps = &info.capabilities;
    let name = info.name.as_str();
    let unsupported = |field: &str, reason: &str| Err(RpcError::unsupported(name, field, reason));

    let wd = match &task.working_directory {
        Some(d) => {
            let p = cwd.join(d);
            if !p.is_dir() {
                return Err(RpcError::invalid_params(
                    "task.workingDirectory",
                    format!("{d:?} does not exist or is not a directory"),
                ));
            }
            p
        }
        None => cwd.to_path_buf(),
    };
    let wd = wd.canonicalize().unwrap_or(wd);

    if task.system_prompt.is_some() && !caps.system_prompt {
        return unsupported(
            "task.systemPrompt",
            "this runtime cannot replace the system prompt",
        );
    }
    if task.append_system_prompt.is_some() && !caps.append_system_prompt {
        return unsupported(
            "task.appendSystemPrompt",
            "this runtime cannot append to the system prompt",
        );
    }
    if let Some(dirs) = &task.additional_directories {
        if !dirs.is_empty() && !caps.additional_directories {
            return unsupported(
                "task.additionalDirectories",
                "this runtime works in one directory only",
            );
        }
        for (i, d) in dirs.iter().enumerate() {
            if !cwd.join(d).is_dir() {
                return Err(RpcError::invalid_params(
                    format!("task.additionalDirectories[{i}]"),
                    format!("{d:?} does not exist or is not a directory"),
                ));
            }
        }
    }
    if let (Some(model), Some(models)) = (&task.model, &caps.models) {
        if !models.contains(model) {
            return unsupported(
                "task.model",
                &format!("supported models: {}", models.join(", ")),
            );
        }
    }
    let perms = task.permissions();
    if !caps.sandbox_modes.contains(&perms.sandbox) {
        return unsupported(
            "task.permissions.sandbox",
            "this sandbox mode cannot be enforced",
        );
    }
    if !caps.approvals.contains(&perms.approvals) {
        return unsupported(
            "task.permissions.approvals",
            "this approval mode is not supported",
        );
    }
    if (perms.allowed_tools.is_some() || perms.disallowed_tools.is_some()) && !caps.tool_filters {
        let field = if perms.allowed_tools.is_some() {
            "task.permissions.allowedTools"
        } else {
            "task.permissions.disallowedTools"
        };
        return unsupported(field, "this runtime cannot restrict tools by name");
    }
    if let Some(session) = &task.session {
        if session.resume.trim().is_empty() {
            return Err(RpcError::invalid_params(
                "task.session.resume",
                "must not be empty",
            ));
        }
        if !caps.resume {
            return unsupported("task.session", "this runtime cannot resume sessions");
        }
        if session.fork && !caps.fork {
            return unsupported("task.session.fork", "this runtime cannot fork sessions");
        }
    }
    if let Some(servers) = &task.mcp_servers {
        for (server_name, server) in servers {
            // Shapes are checked by deserialization; these values would only fail later, inside
            // the vendor, with a vaguer message.
            let bad = match server {
                crate::protocol::task::McpServer::Stdio(s) if s.command.trim().is_empty() => {
                    Some(("command", "must not be empty"))
                }
                crate::protocol::task::McpServer::Http(h)
                    if !(h.url.starts_with("http://") || h.url.starts_with("https://")) =>
                {
                    Some(("url", "must be an http:// or https:// URL"))
                }
                _ => None,
            };
            if let Some((field, reason)) = bad {
                return Err(RpcError::invalid_params(
                    format!("task.mcpServers.{server_name}.{field}"),
                    reason,
                ));
            }
            if !caps.mcp.iter().any(|t| t == server.transport_name()) {
                return unsupported(
                    &format!("task.mcpServers.{server_name}"),
                    &format!("{} MCP servers are not supported", server.transport_name()),
                );
            }
        }
    }
    if let Some(schema) = &task.output_schema {
        if !caps.structured_output {
            return unsupported(
                "task.outputSchema",
                "this runtime cannot produce structured output",
            );
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            return Err(RpcError::invalid_params(
                "task.outputSchema",
                format!("not a valid JSON Schema: {e}"),
            ));
        }
    }
    if task.max_turns.is_some() && !caps.max_turns {
        return unsupported("task.maxTurns", "this runtime cannot limit turns");
    }
    if task.max_turns == Some(0) {
        return Err(RpcError::invalid_params(
            "task.maxTurns",
            "must be at least 1",
        ));
    }
    validate_runtime_options(info, options, task)?;
    Ok(wd)
}

fn validate_runtime_options(
    info: &RuntimeInfo,
    validator: &jsonschema::Validator,
    task: &AgentTask,
) -> Result<(), RpcError> {
    let opts = task.runtime_options_for(&info.name);
    if let Some(err) = validator.iter_errors(&opts).next() {
        let mut field = format!("task.runtimeOptions.{}", info.name);
        let at = err.instance_path().to_string();
        if !at.is_empty() {
            field.push_str(&at.replace('/', "."));
        }
        // An unknown key is reported at the object; name the key itself.
        if let Value::Object(map) = &opts {
            if let Some(props) = info.options.get("properties").and_then(Value::as_object) {
                if let Some(extra) = map.keys().find(|k| !props.contains_key(*k)) {
                    field = format!("task.runtimeOptions.{}.{extra}", info.name);
                    return Err(RpcError::unsupported(&info.name, &field, "unknown option"));
                }
            }
        }
        return Err(RpcError::invalid_params(field, err.to_string()));
    }
    Ok(())
}
