//! Why the core refuses a request before anything starts. Front ends map a refusal to their own
//! wire form (JSON-RPC error codes in `server/`, a tool error in `mcp/`, a message and exit code in
//! `cli`); the core and the runtimes know nothing of those.

use serde_json::{json, Value};

use crate::protocol::runtime_info::Diagnosis;
use crate::protocol::{ErrorCode, RpcError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// A value that does not fit the contract (a wrong type, an empty id, a missing directory).
    #[error("invalid params{}: {reason}", if field.is_empty() { String::new() } else { format!(" at {field}") })]
    Invalid { field: String, reason: String },
    /// A well-formed field that this runtime cannot honour: refused, never silently dropped.
    #[error("runtime {runtime:?} cannot honour {field}: {reason}")]
    Unsupported {
        runtime: String,
        field: String,
        reason: String,
    },
    #[error("unknown runtime {runtime:?} (known: {})", known.join(", "))]
    UnknownRuntime { runtime: String, known: Vec<String> },
    /// The runtime cannot start here (binary missing, no credentials): the diagnosis says why.
    #[error("runtime {runtime:?} is unavailable: {}", diagnosis.message)]
    Unavailable {
        runtime: String,
        diagnosis: Box<Diagnosis>,
    },
    #[error("no task {task_id:?}")]
    TaskNotFound { task_id: String },
    #[error("task {task_id:?} is already running")]
    DuplicateTaskId { task_id: String },
    #[error("{running} tasks are running, the limit (--max-tasks)")]
    Busy { running: usize, limit: usize },
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A turn is already running in the live session the run names.
    #[error("session {session_id:?} has a turn running")]
    SessionBusy { session_id: String },
    #[error("no live session {session_id:?}")]
    SessionNotFound { session_id: String },
    /// A bug on our side, said plainly rather than hidden.
    #[error("{0}")]
    Internal(String),
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Refusal::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn unsupported(runtime: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Refusal::Unsupported {
            runtime: runtime.to_string(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<Refusal> for RpcError {
    /// The protocol's error object for a refusal: the standard code for malformed input and ours
    /// (-32010…-32016) for the rest, each with `data.kind` and the details a host acts on. Every
    /// front end shows this same object: JSON-RPC sends it, MCP puts it in the tool error, the
    /// command line prints it.
    fn from(refusal: Refusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            Refusal::Invalid { field, reason } => RpcError::invalid_params(field, reason),
            Refusal::Unsupported {
                runtime,
                field,
                reason,
            } => RpcError::unsupported(&runtime, &field, reason),
            Refusal::UnknownRuntime { runtime, known } => RpcError::new(
                ErrorCode::UnknownRuntime,
                message,
                json!({ "runtime": runtime, "known": known }),
            ),
            Refusal::Unavailable { diagnosis, .. } => RpcError::new(
                ErrorCode::RuntimeUnavailable,
                message,
                serde_json::to_value(&*diagnosis).unwrap_or_default(),
            ),
            Refusal::TaskNotFound { task_id } => RpcError::new(
                ErrorCode::TaskNotFound,
                message,
                json!({ "taskId": task_id }),
            ),
            Refusal::DuplicateTaskId { task_id } => RpcError::new(
                ErrorCode::DuplicateTaskId,
                message,
                json!({ "taskId": task_id }),
            ),
            Refusal::Busy { limit, .. } => {
                RpcError::new(ErrorCode::Busy, message, json!({ "limit": limit }))
            }
            Refusal::ShuttingDown => RpcError::new(ErrorCode::ShuttingDown, message, Value::Null),
            Refusal::SessionBusy { session_id } => RpcError::new(
                ErrorCode::SessionBusy,
                message,
                json!({ "sessionId": session_id }),
            ),
            Refusal::SessionNotFound { session_id } => RpcError::new(
                ErrorCode::SessionNotFound,
                message,
                json!({ "sessionId": session_id }),
            ),
            Refusal::Internal(_) => RpcError::internal(message),
        }
    }
}
