//! JSON-RPC error codes: the standard ones and ours (-32010…-32017).
//!
//! Our range avoids -32000…-32002, which LSP, MCP, ACP and Codex already use with other meanings.
//! Every error's `data` carries a stable `kind` string, since numbers alone are coarse.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    InternalError,
    UnknownRuntime,
    RuntimeUnavailable,
    UnsupportedTaskInput,
    TaskNotFound,
    DuplicateTaskId,
    Busy,
    ShuttingDown,
    /// Shares -32015 with `Busy`: the session named by the run has a turn running.
    SessionBusy,
    SessionNotFound,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::ParseError,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::InternalError,
        ErrorCode::UnknownRuntime,
        ErrorCode::RuntimeUnavailable,
        ErrorCode::UnsupportedTaskInput,
        ErrorCode::TaskNotFound,
        ErrorCode::DuplicateTaskId,
        ErrorCode::Busy,
        ErrorCode::ShuttingDown,
        ErrorCode::SessionBusy,
        ErrorCode::SessionNotFound,
    ];

    pub fn code(self) -> i32 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::InternalError => -32603,
            ErrorCode::UnknownRuntime => -32010,
            ErrorCode::RuntimeUnavailable => -32011,
            ErrorCode::UnsupportedTaskInput => -32012,
            ErrorCode::TaskNotFound => -32013,
            ErrorCode::DuplicateTaskId => -32014,
            ErrorCode::Busy => -32015,
            ErrorCode::ShuttingDown => -32016,
            ErrorCode::SessionBusy => -32015,
            ErrorCode::SessionNotFound => -32017,
        }
    }

    /// The stable `data.kind` string.
    pub fn kind(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "parseError",
            ErrorCode::InvalidRequest => "invalidRequest",
            ErrorCode::MethodNotFound => "methodNotFound",
            ErrorCode::InvalidParams => "invalidParams",
            ErrorCode::InternalError => "internalError",
            ErrorCode::UnknownRuntime => "unknownRuntime",
            ErrorCode::RuntimeUnavailable => "runtimeUnavailable",
            ErrorCode::UnsupportedTaskInput => "unsupportedTaskInput",
            ErrorCode::TaskNotFound => "taskNotFound",
            ErrorCode::DuplicateTaskId => "duplicateTaskId",
            ErrorCode::Busy => "busy",
            ErrorCode::ShuttingDown => "shuttingDown",
            ErrorCode::SessionBusy => "sessionBusy",
            ErrorCode::SessionNotFound => "sessionNotFound",
        }
    }
}

/// A JSON-RPC error object, as sent: `{code, message, data: {kind, ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RpcError {
    pub code: i32,
    pub message: String,
    pub data: Value,
}

impl RpcError {
    /// `data` gets `kind` added; pass an object (or `Value::Null` for none).
    pub fn new(code: ErrorCode, message: impl Into<String>, data: Value) -> Self {
        let mut data = match data {
            Value::Object(map) => map,
            Value::Null => Default::default(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("detail".into(), other);
                m
            }
        };
        data.insert("kind".into(), Value::String(code.kind().into()));
        RpcError {
            code: code.code(),
            message: message.into(),
            data: Value::Object(data),
        }
    }

    pub fn invalid_params(path: impl Into<String>, reason: impl Into<String>) -> Self {
        let (path, reason) = (path.into(), reason.into());
        let message = if path.is_empty() {
            format!("invalid params: {reason}")
        } else {
            format!("invalid params at {path}: {reason}")
        };
        RpcError::new(
            ErrorCode::InvalidParams,
            message,
            json!({ "path": path, "reason": reason }),
        )
    }

    pub fn unsupported(runtime: &str, field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        RpcError::new(
            ErrorCode::UnsupportedTaskInput,
            format!("runtime {runtime:?} cannot honour {field}: {reason}"),
            json!({ "runtime": runtime, "field": field, "reason": reason }),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        RpcError::new(ErrorCode::InternalError, message, Value::Null)
    }
}
