//! The CLI's stream-json messages we write, and the shapes we read.
//!
//! Lines are parsed as `serde_json::Value` and read field by field rather than into strict structs:
//! the CLI adds fields in every release and its key order is not stable (vendors/claude.md §1), so a
//! strict schema would break on upgrades for no benefit. The one exception is the text delta
//! ([`text_delta`]), read typed because a streamed answer is thousands of them; it only looks at
//! the fields the `Value` way looks at and leaves every other line to it.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use serde_json::{json, Value};

use crate::runtime::json_scan;

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

/// The text of a top-level `stream_event` text delta — the line a streamed answer is made of —
/// read with [`json_scan`] instead of into a `Value` tree (the claude relay's main per-line
/// cost). `None` for every other line, which then takes the `Value` way; for the lines taken
/// here that way (mapping.rs `on_stream_event`) emits the same `agent.output.delta`.
pub fn text_delta<'a>(reader: &mut json_scan::Reader, line: &'a str) -> Option<Cow<'a, str>> {
    // A line of another shape than the last is scanned only if it has the mark every text delta
    // has (inside a JSON string the quotes would be escaped).
    static MARK: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(br#""text_delta""#));
    let l = reader.read_if(line, |l| MARK.find(l.as_bytes()).is_some())?;
    // null or absent: the main agent's; anything else: a subagent's (not relayed).
    let top_level = matches!(l.get("parent_tool_use_id"), None | Some("null"));
    if !(top_level && l.plain_str("type")? == "stream_event") {
        return None;
    }
    let event = l.object("event")?;
    if event.plain_str("type")? != "content_block_delta" {
        return None;
    }
    let delta = event.object("delta")?;
    if delta.plain_str("type")? != "text_delta" {
        return None;
    }
    delta.str("text")
}

#[cfg(test)]
mod text_delta_tests {
    use crate::runtime::json_scan::Reader;

    fn text_delta(line: &str) -> Option<String> {
        super::text_delta(&mut Reader::default(), line).map(|t| t.into_owned())
    }

    #[test]
    fn takes_only_top_level_text_deltas() {
        let d = |extra: &str, delta: &str| {
            format!(
                r#"{{"type":"stream_event","event":{{"type":"content_block_delta","index":0,"delta":{delta}}}{extra},"session_id":"s","uuid":"u"}}"#
            )
        };
        let text = r#"{"type":"text_delta","text":"Hi \"there\"\n"}"#;
        assert_eq!(
            text_delta(&d(r#","parent_tool_use_id":null"#, text)).as_deref(),
            Some("Hi \"there\"\n")
        );
        assert_eq!(text_delta(&d("", text)).as_deref(), Some("Hi \"there\"\n"));
        // A subagent's delta, another delta kind, another event or line type: not taken.
        assert_eq!(
            text_delta(&d(r#","parent_tool_use_id":"toolu_1""#, text)),
            None
        );
        assert_eq!(
            text_delta(&d("", r#"{"type":"input_json_delta","partial_json":"{"}"#)),
            None
        );
        assert_eq!(
            text_delta(&d("", r#"{"type":"text_delta","text":7}"#)),
            None
        );
        assert_eq!(
            text_delta(
                r#"{"type":"assistant","message":{"content":[{"type":"text_delta","text":"x"}]}}"#
            ),
            None
        );
        assert_eq!(
            text_delta(r#"{"type":"result","result":"\"text_delta\""}"#),
            None
        );
        assert_eq!(text_delta("not json \"text_delta\""), None);
    }
}
