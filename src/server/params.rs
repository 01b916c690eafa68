//! Params parsing that names the offending path in -32602 errors.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::RpcError;

/// Parses `value` as `T`; errors name the path under `prefix` (e.g. `task.permissions.sandbox`).
pub fn parse_at<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, RpcError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.inner().to_string();
        let mut path = e.path().to_string();
        // serde_path_to_error already names an unknown field itself in the path.
        if path == "." {
            path.clear();
        }
        let full = match (prefix.is_empty(), path.is_empty()) {
            (true, _) => path,
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}.{path}"),
        };
        RpcError::invalid_params(full, inner)
    })
}

/// Parses JSON-RPC params (absent = `{}`); by-position params are refused.
pub fn parse_params<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, RpcError> {
    let value: Value = match raw {
        None => Value::Object(Default::default()),
        Some(s) => {
            serde_json::from_str(s).map_err(|e| RpcError::invalid_params("", e.to_string()))?
        }
    };
    if !value.is_object() {
        return Err(RpcError::invalid_params("", "params must be an object"));
    }
    parse_at("", value)
}
