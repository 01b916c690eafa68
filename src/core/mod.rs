//! The core every front end shares and none owns: the runtime registry, task validation against
//! capabilities, options parsing, the running tasks (exactly one result each, timeouts, the idle
//! watchdog, cancel, shutdown) and diagnose. It knows nothing of JSON-RPC, MCP or terminals: the
//! front ends (`server/`, `mcp/`, `cli`) map its [`Refusal`]s and results to their own wire.

mod parse;
mod refusal;
mod registry;
mod run;
mod session_api;
mod sessions;
mod validate;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub use parse::{parse_at, parse_str_at, without_position, StrError};
pub use refusal::Refusal;
pub use registry::Registry;
pub use run::{Admitted, STOP_DEADLINE};
pub use sessions::SessionNotifier;

use crate::hygiene::Hygiene;
use crate::protocol::methods::{
    CancelResult, CancelState, DiagnoseParams, DiagnoseResult, ServerInfo,
};
use crate::protocol::runtime_info::RuntimeInfo;
use crate::protocol::{RunOptions, PROTOCOL_VERSION};
use crate::runtime::{Stop, StopReason};

/// How many finished task ids are remembered, so `cancel` can answer `finished`.
const FINISHED_MEMORY: usize = 10_000;

pub struct Core {
    registry: Registry,
    /// Where relative working directories resolve.
    cwd: PathBuf,
    max_tasks: usize,
    running: Mutex<HashMap<String, Running>>,
    sessions: Arc<sessions::Sessions>,
    finished: Mutex<VecDeque<String>>,
    shutting_down: AtomicBool,
    record_dir: Option<PathBuf>,
}

impl Core {
    pub fn new(
        registry: Registry,
        cwd: PathBuf,
        max_tasks: usize,
        record_dir: Option<PathBuf>,
    ) -> Self {
        Core {
            registry,
            cwd,
            max_tasks,
            running: Mutex::new(HashMap::new()),
            sessions: Default::default(),
            finished: Mutex::new(VecDeque::new()),
            shutting_down: AtomicBool::new(false),
            record_dir,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// `capabilities`: what every runtime (or the one named) declares.
    pub fn capabilities(&self, runtime: Option<&str>) -> Result<CapabilitiesReply, Refusal> {
        let runtimes = match runtime {
            Some(name) => vec![self.registry.info(name)?],
            None => self.registry.infos().cloned().collect(),
        };
        Ok(CapabilitiesReply {
            protocol_version: PROTOCOL_VERSION,
            server: ServerInfo {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            runtimes,
        })
    }

    /// `diagnose`: every runtime's (or the named one's) checks, run concurrently, cleaned like
    /// events (a diagnosis can quote a vendor's output).
    pub async fn diagnose(&self, params: &DiagnoseParams) -> Result<Value, Refusal> {
        let runtimes = match &params.runtime {
            Some(name) => vec![self.registry.get(name)?.clone()],
            None => self.registry.all().cloned().collect(),
        };
        let diagnoses =
            futures::future::join_all(runtimes.iter().map(|r| r.diagnose(params))).await;
        let mut value = serde_json::to_value(DiagnoseResult {
            runtimes: diagnoses,
        })
        .expect("diagnoses serialize");
        Hygiene::new(RunOptions::DEFAULT_MAX_FIELD_BYTES).clean(&mut value);
        Ok(value)
    }

    /// `cancel`: stops a running task, or says it already finished.
    pub fn cancel(&self, task_id: &str) -> Result<CancelResult, Refusal> {
        let state = if let Some(running) = lock(&self.running).get(task_id) {
            running.stop.stop(StopReason::Cancelled);
            CancelState::Cancelling
        } else if lock(&self.finished).iter().any(|t| t == task_id) {
            CancelState::Finished
        } else {
            return Err(Refusal::TaskNotFound {
                task_id: task_id.to_string(),
            });
        };
        Ok(CancelResult {
            task_id: task_id.to_string(),
            state,
        })
    }

    /// Refuses new tasks and stops every running one (their results still go out) and every
    /// session being opened. Live sessions close in [`close_sessions`](Self::close_sessions).
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for running in lock(&self.running).values() {
            running.stop.stop(StopReason::Shutdown);
        }
        self.sessions.stop_openings();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub fn running_count(&self) -> usize {
        lock(&self.running).len()
    }

    /// Registers a running task id, or refuses it (empty, duplicate, over the limit).
    fn register(&self, task_id: &str, running_task: Running) -> Result<(), Refusal> {
        if task_id.is_empty() {
            return Err(Refusal::invalid("taskId", "must not be empty"));
        }
        let mut running = lock(&self.running);
        if running.contains_key(task_id) {
            return Err(Refusal::DuplicateTaskId {
                task_id: task_id.to_string(),
            });
        }
        if running.len() >= self.max_tasks {
            return Err(Refusal::Busy {
                running: running.len(),
                limit: self.max_tasks,
            });
        }
        running.insert(task_id.to_string(), running_task);
        Ok(())
    }

    /// The task ended: `cancel` answers `finished` for it from now on.
    fn retire(&self, task_id: &str) {
        lock(&self.running).remove(task_id);
        let mut finished = lock(&self.finished);
        if finished.len() == FINISHED_MEMORY {
            finished.pop_front();
        }
        finished.push_back(task_id.to_string());
    }
}

/// A running task as `cancel` and `steer` find it.
struct Running {
    stop: Stop,
    runtime: String,
    /// Where `steer` texts go; `None` for a runtime that does not declare `steer`.
    steer: Option<tokio::sync::mpsc::Sender<String>>,
}

/// A poisoned lock only means a panic elsewhere; the maps stay consistent (single inserts and
/// removes), so go on with them.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`crate::protocol::methods::CapabilitiesResult`] over the registry's infos, shared: they hold
/// every runtime's options schema, which a clone would copy only to serialize it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesReply {
    protocol_version: u32,
    server: ServerInfo,
    #[serde(serialize_with = "serialize_infos")]
    runtimes: Vec<Arc<RuntimeInfo>>,
}

fn serialize_infos<S: serde::Serializer>(
    infos: &[Arc<RuntimeInfo>],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(infos.iter().map(|i| &**i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::CapabilitiesResult;
    use crate::protocol::RpcError;
    use crate::runtime::{builtin, RuntimeConfig};

    /// The borrowed reply has exactly the shape of the declared `CapabilitiesResult`.
    #[test]
    fn capabilities_reply_is_a_capabilities_result() {
        let core = Core::new(builtin(&RuntimeConfig::default()), ".".into(), 1, None);
        for runtime in [None, Some("fixture")] {
            let reply = serde_json::to_value(core.capabilities(runtime).unwrap()).unwrap();
            let typed: CapabilitiesResult = serde_json::from_value(reply.clone()).unwrap();
            assert_eq!(serde_json::to_value(typed).unwrap(), reply);
        }
        let all = serde_json::to_value(core.capabilities(None).unwrap()).unwrap();
        assert_eq!(all["runtimes"].as_array().unwrap().len(), 4);
    }

    /// `steer` reaches a running task of a runtime that declares it; any other running task is
    /// refused -32012, and a task that is not running -32013.
    #[test]
    fn steer_needs_a_running_task_of_a_runtime_that_takes_it() {
        let core = Core::new(builtin(&RuntimeConfig::default()), ".".into(), 4, None);
        let (tx, _steering) = crate::runtime::Steering::channel();
        let running = |steer| Running {
            stop: Stop::default(),
            runtime: "claude".into(),
            steer,
        };
        core.register("plain", running(None)).unwrap();
        core.register("steerable", running(Some(tx))).unwrap();
        let refused = RpcError::from(core.steer("plain", "x".into()).unwrap_err());
        assert_eq!(refused.code, -32012);
        assert_eq!(refused.data["field"], "steer");
        assert!(core.steer("steerable", "x".into()).unwrap().accepted);
        let missing = RpcError::from(core.steer("nope", "x".into()).unwrap_err());
        assert_eq!(missing.code, -32013);

        // Once the task is being stopped its runtime reads no more steering: refused, not lost.
        let (tx, _steering) = crate::runtime::Steering::channel();
        let stopping = running(Some(tx));
        stopping.stop.stop(crate::runtime::StopReason::Cancelled);
        core.register("stopping", stopping).unwrap();
        let late = RpcError::from(core.steer("stopping", "x".into()).unwrap_err());
        assert_eq!(late.code, -32013);
    }
}
