//! Params parsing that names the offending path in -32602 errors.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::RpcError;

/// Parses `value` as `T`; errors name the path under `prefix` (e.g. `task.permissions.sandbox`).
pub fn parse_at<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, RpcError> {
    serde_path_to_error::deserialize(value).map_err(|e| path_error(prefix, e))
}

/// Why [`parse_str_at`] failed.
pub enum StrError {
    /// The text is not JSON.
    Syntax(serde_json::Error),
    /// The JSON does not fit: the error names the path, as [`parse_at`]'s do.
    Data(RpcError),
}

/// [`parse_at`] straight from JSON text, without building a `Value` first.
pub fn parse_str_at<T: DeserializeOwned>(prefix: &str, text: &str) -> Result<T, StrError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_syntax() || e.inner().is_eof() {
            StrError::Syntax(e.into_inner())
        } else {
            StrError::Data(path_error(prefix, e))
        }
    })?;
    de.end().map_err(StrError::Syntax)?;
    Ok(value)
}

fn path_error(prefix: &str, e: serde_path_to_error::Error<serde_json::Error>) -> RpcError {
    {
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
    }
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
