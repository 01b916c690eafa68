//! Runtimes: what drives a vendor agent (or replays a script) for one task.
//!
//! A runtime turns vendor output into our events and knows nothing of JSON-RPC or of any front
//! end. It declares what it can do ([`Runtime::capabilities`]) and the shape of its
//! `runtimeOptions` entry ([`Runtime::Options`]); the core enforces both, generically, before
//! anything starts, and hands [`Runtime::plan`] the options already parsed. `docs/adding-a-runtime.md`
//! walks through the seam with the fixture runtime.

pub mod antigravity;
pub(crate) mod artifacts;
pub mod attachments;
pub mod claude;
pub mod codex;
pub(crate) mod context;
pub mod fixture;
pub(crate) mod jsonl;
pub(crate) mod jsonrpc_peer;
pub mod live;
pub(crate) mod model_probe;
pub(crate) mod tool_calls;
#[cfg(test)]
mod transcript_replay;
pub(crate) mod vendor_binary;
pub mod vendor_env;
pub mod workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use context::{
    ApprovalHost, Approvals, EventOutput, EventSink, IdleClock, OutEvent, RunContext,
    SessionGrants, Stop, StopReason,
};
pub use live::{LiveSession, OpenContext, Steering};

use crate::core::Refusal;
use crate::protocol::methods::{Decision, DiagnoseParams};
use crate::protocol::result::AgentResult;
use crate::protocol::runtime_info::{Capabilities, Diagnosis};
use crate::protocol::task::{AgentTask, ApprovalMode, SandboxMode};

#[async_trait]
pub trait Runtime: Send + Sync + 'static {
    /// `runtimeOptions.<name>`: parsed once by the core (a key it does not declare is refused
    /// with -32012, a value of the wrong shape with -32602); its JSON Schema is published in
    /// `capabilities`. Use `#[serde(deny_unknown_fields)]` and give every field a default.
    type Options: DeserializeOwned + JsonSchema + Send;
    /// What [`plan`](Self::plan) works out for [`run`](Self::run), so nothing is worked out
    /// twice (often just the options; the fixture's parsed script).
    type Plan: Send + Sync + 'static;

    /// Whether the core lists the working directory before and after each turn
    /// ([`workspace`]) for `artifacts` and `agent.file.changed`: on for runtimes whose agent
    /// touches disk; off for one that never does (the fixture, whose scripts say what changed).
    const WATCHES_WORKSPACE: bool = true;

    /// The name hosts use (`task.runtime`); also the key of its `runtimeOptions` entry.
    fn name(&self) -> &'static str;

    /// One line for `capabilities` and `diagnose` tables.
    fn description(&self) -> &'static str;

    /// What `run` honours; a task field outside it is refused (-32012) before anything starts.
    fn capabilities(&self) -> Capabilities;

    /// Checks binary, version and credentials without calling a model (unless `probe`).
    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis;

    /// Checks beyond the declared capabilities (a field combination the vendor cannot enforce)
    /// and whatever `run` needs worked out once. Runs after the generic checks, before anything
    /// starts; `working_directory` is absolute and exists.
    fn plan(
        &self,
        task: &AgentTask,
        working_directory: &Path,
        options: Self::Options,
    ) -> Result<Self::Plan, Refusal>;

    /// Whether `run` can start at all (binary present, credentials set). A `Some` diagnosis
    /// refuses the run with -32011 RuntimeUnavailable. Must be quick: no model call.
    async fn preflight(&self, _plan: &Self::Plan) -> Option<Diagnosis> {
        None
    }

    /// Runs the task to its end. Emits events through `ctx.events` (never a terminal event: the
    /// core emits that from the returned result) and stops promptly when `ctx.stop` fires,
    /// returning `finishReason: "cancelled"` with `cancel` set to how it stopped.
    /// The core fills `taskId`, `runtime`, `durationMs` and `metadata`, and checks
    /// `structuredOutput` against the task's `outputSchema`.
    async fn run(&self, ctx: RunContext, plan: Self::Plan) -> AgentResult;

    /// Starts the vendor for a live session (`task.session.keepAlive`, `session/open`) and
    /// returns it once it is ready for a first turn; a failure comes back as the result the
    /// first turn would have had. Only called when `capabilities().live_sessions`.
    async fn open(
        &self,
        _ctx: OpenContext,
        _plan: Self::Plan,
    ) -> Result<Box<dyn LiveSession>, AgentResult> {
        Err(AgentResult::failed(
            crate::protocol::result::TaskErrorKind::Protocol,
            format!("runtime {:?} has no live sessions", self.name()),
        ))
    }
}

/// Every capability on: what a runtime starts from, switching off what its vendor lacks
/// (`Capabilities { fork: false, ..runtime::all_capabilities() }`).
pub fn all_capabilities() -> Capabilities {
    Capabilities {
        streaming: true,
        tool_events: true,
        approvals: vec![ApprovalMode::Deny, ApprovalMode::Host],
        sandbox_modes: vec![
            SandboxMode::ReadOnly,
            SandboxMode::WorkspaceWrite,
            SandboxMode::FullAccess,
        ],
        tool_filters: true,
        resume: true,
        fork: true,
        mcp: vec!["stdio".into(), "http".into()],
        structured_output: true,
        system_prompt: true,
        append_system_prompt: true,
        additional_directories: true,
        max_turns: true,
        models: None,
        usage_cost: true,
        // v2: off until a runtime implements them; `abort` and `allowForSession` are the
        // core's (`context::Approvals`), so every runtime honours them.
        live_sessions: false,
        steer: false,
        prewarm: false,
        attachments: vec![],
        approval_decisions: vec![
            Decision::Allow,
            Decision::AllowForSession,
            Decision::Deny,
            Decision::Abort,
        ],
        questions: false,
    }
}

/// The registry with every built-in runtime.
pub fn builtin(config: &RuntimeConfig) -> crate::core::Registry {
    let path = |name: &str| config.paths.get(name).cloned();
    let mut r = crate::core::Registry::default();
    r.register(fixture::FixtureRuntime);
    r.register(claude::ClaudeRuntime::new(path(claude::NAME)));
    r.register(codex::CodexRuntime::new(path(codex::NAME)));
    r.register(antigravity::AntigravityRuntime::new(path(
        antigravity::NAME,
    )));
    r
}

/// Settings from the command line that runtimes need (binary paths and the like).
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// `--claude-path`, `--codex-path`, `--antigravity-python`, ... by runtime name.
    pub paths: BTreeMap<String, PathBuf>,
}
