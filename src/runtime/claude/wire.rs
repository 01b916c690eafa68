//! The CLI's stream-json messages we write, and the shapes we read.
//!
//! Lines are parsed as `serde_json::Value` and read field by field rather than into strict structs:
//! the CLI adds fields in every release and its key order is not stable (vendors/claude.md §1), so a
//! strict schema would break on upgrades for no benefit. The one exception is the text delta
//! ([`text_delta`]), read into a typed, borrowed struct because a streamed answer is thousands of
//! them; it only looks at the fields the `Value` way looks at and leaves every other line to it.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::runtime::attachments::Loaded;

/// The first user message: the prompt, on stdin (never on the command line).
pub fn user_message(text: &str) -> Value {
    json!({
        "type": "user",
        "session_id": "",
        "parent_tool_use_id": null,
        "message": { "role": "user", "content": [{ "type": "text", "text": text }] },
    })
}

/// The first user message with the task's attachments before the goal (Anthropic's advice:
/// images first): an image as a base64 `image` block, a file as a text block naming it.
pub fn user_message_with(text: &str, attachments: &[Loaded]) -> Value {
    let mut content: Vec<Value> = attachments
        .iter()
        .map(|a| match a {
            Loaded::Image {
                media_type, base64, ..
            } => json!({ "type": "image",
                         "source": { "type": "base64", "media_type": media_type, "data": base64 } }),
            Loaded::File { .. } => json!({ "type": "text", "text": a.file_text() }),
        })
        .collect();
    if !text.is_empty() || content.is_empty() {
        content.push(json!({ "type": "text", "text": text }));
    }
    let mut msg = user_message(text);
    msg["message"]["content"] = Value::Array(content);
    msg
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

/// The text of a top-level `stream_event` text delta, the line a streamed answer is made of, read
/// with serde into the typed, borrowed [`TextDeltaLine`] instead of a `Value` tree. `None` for
/// every other line (a mismatch stops serde at the first field that differs, most often `type`),
/// which then takes the `Value` way; for the lines taken here, that way (mapping.rs
/// `on_stream_event`) emits the same `agent.output.delta`.
pub fn text_delta(line: &str) -> Option<String> {
    let l: TextDeltaLine<'_> = serde_json::from_str(line).ok()?;
    // null or absent: the main agent's; anything else: a subagent's (not relayed).
    l.parent_tool_use_id
        .is_none()
        .then(|| l.event.delta.text.into_owned())
}

/// `{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta",
/// "text":...}},...}`. Each `type` is a one-variant enum, so any other line fails right there;
/// unknown fields are skipped; a repeated field fails (the `Value` way then reads the last one).
#[derive(Deserialize)]
struct TextDeltaLine<'a> {
    #[serde(rename = "type")]
    _kind: StreamEvent,
    #[serde(default)]
    parent_tool_use_id: Option<IgnoredAny>,
    #[serde(borrow)]
    event: ContentBlockDelta<'a>,
}

#[derive(Deserialize)]
enum StreamEvent {
    #[serde(rename = "stream_event")]
    StreamEvent,
}

#[derive(Deserialize)]
struct ContentBlockDelta<'a> {
    #[serde(rename = "type")]
    _kind: ContentBlockDeltaType,
    #[serde(borrow)]
    delta: TextDelta<'a>,
}

#[derive(Deserialize)]
enum ContentBlockDeltaType {
    #[serde(rename = "content_block_delta")]
    ContentBlockDelta,
}

#[derive(Deserialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    _kind: TextDeltaType,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

#[derive(Deserialize)]
enum TextDeltaType {
    #[serde(rename = "text_delta")]
    TextDelta,
}

#[cfg(test)]
mod text_delta_tests {
    use super::text_delta;

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
