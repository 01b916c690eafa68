//! Codex's turn errors (`codexErrorInfo`) as our error kinds.

use serde_json::Value;

use crate::protocol::result::{TaskError, TaskErrorKind};

/// Maps a turn's `error` object (`{message, codexErrorInfo, additionalDetails}`).
pub fn classify(error: &Value) -> TaskError {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("codex reported an error without a message")
        .to_string();
    let info = error.get("codexErrorInfo").cloned().unwrap_or(Value::Null);
    let mut out = TaskError::new(kind_of(&info, &message), message);
    if let Some(details) = error.get("additionalDetails").and_then(Value::as_str) {
        if !details.is_empty() {
            out.message = format!("{} ({details})", out.message);
        }
    }
    if !info.is_null() {
        out.vendor_code = Some(info);
    }
    out
}

fn kind_of(info: &Value, message: &str) -> TaskErrorKind {
    // A custom provider whose key variable is unset fails before any request, as "other".
    if message.starts_with("Missing environment variable") {
        return TaskErrorKind::Auth;
    }
    match info {
        Value::String(s) => match s.as_str() {
            "unauthorized" => TaskErrorKind::Auth,
            "rateLimitExceeded" | "usageLimitExceeded" => TaskErrorKind::RateLimit,
            "sessionBudgetExceeded" => TaskErrorKind::Budget,
            "contextWindowExceeded"
            | "modelNotFound"
            | "badRequest"
            | "cyberPolicy"
            | "bioPolicy"
            | "misalignmentPolicyViolation"
            | "policyCapacityUnavailable"
            | "flexUnavailable" => TaskErrorKind::Model,
            _ => TaskErrorKind::Vendor,
        },
        // {httpConnectionFailed | responseStreamConnectionFailed | responseStreamDisconnected |
        //  responseTooManyFailedAttempts: {httpStatusCode}}
        Value::Object(map) => {
            let status = map
                .values()
                .find_map(|v| v.get("httpStatusCode").and_then(Value::as_u64));
            match status {
                Some(401 | 403) => TaskErrorKind::Auth,
                Some(429) => TaskErrorKind::RateLimit,
                Some(400 | 404 | 422) => TaskErrorKind::Model,
                _ => TaskErrorKind::Vendor,
            }
        }
        _ => TaskErrorKind::Vendor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds() {
        let k = |e: Value| classify(&e).kind;
        assert_eq!(
            k(
                json!({"message": "Missing environment variable: `OPENAI_API_KEY`.", "codexErrorInfo": "other"})
            ),
            TaskErrorKind::Auth
        );
        assert_eq!(
            k(
                json!({"message": "x", "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 401}}})
            ),
            TaskErrorKind::Auth
        );
        assert_eq!(
            k(
                json!({"message": "x", "codexErrorInfo": {"responseTooManyFailedAttempts": {"httpStatusCode": 429}}})
            ),
            TaskErrorKind::RateLimit
        );
        assert_eq!(
            k(json!({"message": "x", "codexErrorInfo": "modelNotFound"})),
            TaskErrorKind::Model
        );
        assert_eq!(
            k(json!({"message": "x", "codexErrorInfo": "serverOverloaded"})),
            TaskErrorKind::Vendor
        );
    }
}
