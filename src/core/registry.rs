//! Runtimes by name, behind one object-safe face.
//!
//! [`Runtime`] has typed options and plans, so it is not object-safe; [`Registered`] erases those
//! types once, here: it parses a task's options into `R::Options`, calls `plan`, and hands back a
//! [`Planned`] run that carries the typed plan to `R::run`. No downcasts anywhere.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::Value;

use super::parse::{parse_str_at, StrError};
use super::Refusal;
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::AgentResult;
use crate::protocol::runtime_info::{Diagnosis, RuntimeInfo};
use crate::protocol::task::AgentTask;
use crate::runtime::{LiveSession, OpenContext, RunContext, Runtime};

/// A runtime as the core sees it.
#[async_trait]
pub(crate) trait AnyRuntime: Send + Sync {
    /// Name, description, capabilities and options schema, built once at registration.
    fn info(&self) -> &Arc<RuntimeInfo>;
    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis;
    /// Parses the task's options and asks the runtime for its plan.
    fn plan(&self, task: &AgentTask, working_directory: &Path)
        -> Result<Box<dyn Planned>, Refusal>;
    /// [`Runtime::WATCHES_WORKSPACE`].
    fn watches_workspace(&self) -> bool;
}

/// A checked task, ready to start: the runtime's typed plan, erased.
#[async_trait]
pub(crate) trait Planned: Send + Sync {
    async fn preflight(&self) -> Option<Diagnosis>;
    fn run(self: Box<Self>, ctx: RunContext) -> BoxFuture<'static, AgentResult>;
    /// Starts a live session (see [`Runtime::open`]).
    fn open(
        self: Box<Self>,
        ctx: OpenContext,
    ) -> BoxFuture<'static, Result<Box<dyn LiveSession>, AgentResult>>;
}

struct Registered<R> {
    runtime: Arc<R>,
    info: Arc<RuntimeInfo>,
}

struct PlannedRun<R: Runtime> {
    runtime: Arc<R>,
    plan: R::Plan,
}

#[async_trait]
impl<R: Runtime> AnyRuntime for Registered<R> {
    fn info(&self) -> &Arc<RuntimeInfo> {
        &self.info
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        self.runtime.diagnose(params).await
    }

    fn plan(
        &self,
        task: &AgentTask,
        working_directory: &Path,
    ) -> Result<Box<dyn Planned>, Refusal> {
        let options = parse_options::<R>(&self.info, task)?;
        let plan = self.runtime.plan(task, working_directory, options)?;
        Ok(Box::new(PlannedRun {
            runtime: self.runtime.clone(),
            plan,
        }))
    }

    fn watches_workspace(&self) -> bool {
        R::WATCHES_WORKSPACE
    }
}

#[async_trait]
impl<R: Runtime> Planned for PlannedRun<R> {
    async fn preflight(&self) -> Option<Diagnosis> {
        self.runtime.preflight(&self.plan).await
    }

    fn run(self: Box<Self>, ctx: RunContext) -> BoxFuture<'static, AgentResult> {
        let PlannedRun { runtime, plan } = *self;
        Box::pin(async move { runtime.run(ctx, plan).await })
    }

    fn open(
        self: Box<Self>,
        ctx: OpenContext,
    ) -> BoxFuture<'static, Result<Box<dyn LiveSession>, AgentResult>> {
        let PlannedRun { runtime, plan } = *self;
        Box::pin(async move { runtime.open(ctx, plan).await })
    }
}

/// The task's `runtimeOptions.<name>` as `R::Options`, parsed once, straight from the host's
/// text. A key the options do not declare is a field this runtime cannot honour (-32012); a wrong
/// value is malformed input (-32602).
fn parse_options<R: Runtime>(info: &RuntimeInfo, task: &AgentTask) -> Result<R::Options, Refusal> {
    let name = info.name.as_str();
    let field = format!("task.runtimeOptions.{name}");
    let text = task
        .runtime_options
        .as_ref()
        .and_then(|m| m.get(name))
        .map_or("{}", |raw| raw.get());
    parse_str_at(&field, text).map_err(|e| match e {
        StrError::Syntax(e) => Refusal::invalid(&field, e.to_string()),
        // Only on this error path are the keys looked at: an undeclared one is the better answer.
        StrError::Data(refusal) => undeclared_key(info, text)
            .map(|key| Refusal::unsupported(name, format!("{field}.{key}"), "unknown option"))
            .unwrap_or(refusal),
    })
}

/// The first key of the options object that the runtime's options schema does not declare.
fn undeclared_key(info: &RuntimeInfo, text: &str) -> Option<String> {
    let given: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
    let declared = info.options.get("properties")?.as_object()?;
    given.keys().find(|k| !declared.contains_key(*k)).cloned()
}

/// Runtimes by name, each with its info built once (schemars schema generation is not free, and
/// a runtime's info is fixed for the life of the process).
#[derive(Clone, Default)]
pub struct Registry {
    runtimes: BTreeMap<String, Arc<dyn AnyRuntime>>,
}

impl Registry {
    pub fn register<R: Runtime>(&mut self, runtime: R) {
        let info = RuntimeInfo {
            name: runtime.name().into(),
            description: runtime.description().into(),
            capabilities: runtime.capabilities(),
            options: schemars::schema_for!(R::Options).to_value(),
        };
        self.runtimes.insert(
            info.name.clone(),
            Arc::new(Registered {
                runtime: Arc::new(runtime),
                info: Arc::new(info),
            }),
        );
    }

    pub(crate) fn get(&self, name: &str) -> Result<&Arc<dyn AnyRuntime>, Refusal> {
        self.runtimes
            .get(name)
            .ok_or_else(|| Refusal::UnknownRuntime {
                runtime: name.to_string(),
                known: self.names(),
            })
    }

    /// The runtime's info, as built at registration.
    pub fn info(&self, name: &str) -> Result<Arc<RuntimeInfo>, Refusal> {
        self.get(name).map(|r| r.info().clone())
    }

    pub fn names(&self) -> Vec<String> {
        self.runtimes.keys().cloned().collect()
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<dyn AnyRuntime>> {
        self.runtimes.values()
    }

    /// Every runtime's info, in name order.
    pub fn infos(&self) -> impl Iterator<Item = &Arc<RuntimeInfo>> {
        self.runtimes.values().map(|r| r.info())
    }
}
