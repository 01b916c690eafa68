//! The CLI's stream-json messages we write, and the shapes we read.
//!
//! Lines are parsed as `serde_json::Value` and read field by field rather than into strict structs:
//! the CLI adds fields in every release and its key order is not stable (vendors/claude.md §1), so a
//! strict schema would break on upgrades for no benefit.

use serde_json::{json, Value};

/// The first user message: the prompt, on stdin (never on the command line).
pub fn user_message(text: &str) -> Value {
    json!({
        "type": "user",
        "session_id": "",
        "parent_tool_use_id": null,
        "message": { "role": "user", "content": [{ "type": "text", "text": text }] },
    })
}

/// `initialize`: carries the large inputs (system prompt, JSON schema) so they stay off argv.
pub fn initialize(
    request_id: &str,
    system_prompt: Option<&str>,
    append_system_prompt: Option<&str>,
    json_schema: Option<&Value>,
) -> Value {
    let mut req = json!({ "subtype": "initialize", "hooks": null });
    if let Some(p) = system_prompt {
        // The CLI's schema takes the replacement prompt as a list of text parts.
        req["systemPrompt"] = json!([p]);
    }
    if let Some(p) = append_system_prompt {
        req["appendSystemPrompt"] = json!(p);
    }
    if let Some(s) = json_schema {
        req["jsonSchema"] = s.clone();
    }
    json!({ "type": "control_request", "request_id": request_id, "request": req })
}

pub fn interrupt(request_id: &str) -> Value {
    json!({ "type": "control_request", "request_id": request_id, "request": { "subtype": "interrupt" } })
}

pub fn allow(request_id: &str, input: &Value) -> Value {
    json!({ "type": "control_response", "response": {
        "subtype": "success", "request_id": request_id,
        "response": { "behavior": "allow", "updatedInput": input },
    }})
}

pub fn deny(request_id: &str, message: &str) -> Value {
    json!({ "type": "control_response", "response": {
        "subtype": "success", "request_id": request_id,
        "response": { "behavior": "deny", "message": message },
    }})
}

/// The answer to a control request we do not serve (hooks we never registered, MCP messages for
/// SDK servers we never declared, elicitation): an error, so the CLI does not wait forever.
pub fn unsupported(request_id: &str, subtype: &str) -> Value {
    json!({ "type": "control_response", "response": {
        "subtype": "error", "request_id": request_id,
        "error": format!("agent-runtime-kit does not handle {subtype} requests"),
    }})
}

pub fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// A tool_result's `content`: a string, or a list of blocks whose text parts are joined.
pub fn tool_result_text(content: &Value) -> Value {
    match content {
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            if texts.len() == blocks.len() {
                Value::String(texts.join("\n"))
            } else {
                content.clone()
            }
        }
        other => other.clone(),
    }
}
