//! What a tool call returns: results and errors as MCP `CallToolResult`s.
//!
//! Every refusal of the core (the `RpcError`s `run` answers with: -32602 bad argument, -32010
//! unknown runtime, -32011 runtime unavailable, -32012 unsupported input, -32015 busy, ...) is a
//! *tool execution error* (`isError: true`), not a JSON-RPC error. The MCP spec asks for that for
//! input validation errors, so that the model that filled in the arguments sees what was wrong
//! and can correct itself; hosts render a JSON-RPC error opaquely. The error keeps its code, kind
//! and details in `structuredContent.error` (the same object `run` would answer), with the path
//! naming the tool argument. Only what is not a tool call at all (an unknown tool name) is a
//! JSON-RPC error, as the spec says.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Value};

use super::args::argument_path;
use crate::hygiene::Hygiene;
use crate::protocol::{RpcError, RunOptions};

/// A finished task: the result as structured content, a readable summary as text. A task that
/// did not complete (error, cancelled, timeout, maxTurns, budget) is `isError: true`.
pub fn task_result(result: Value) -> CallToolResult {
    let completed = result["finishReason"] == "completed";
    let text = task_summary(&result);
    with_text(CallToolResult::structured(result), text, !completed)
}

/// A structured answer (capabilities, diagnoses).
pub fn answer(value: Value, text: String) -> CallToolResult {
    with_text(CallToolResult::structured(value), text, false)
}

/// Diagnoses: one line per runtime ("claude: ready — claude 2.1.32, logged in"), and under a
/// runtime that is not ready the remedy ("  fix: npm install -g …").
pub fn diagnoses(value: Value) -> CallToolResult {
    let mut text = String::new();
    for d in value["runtimes"].as_array().into_iter().flatten() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!(
            "{}: {} — {}",
            d["runtime"].as_str().unwrap_or("?"),
            d["status"].as_str().unwrap_or("?"),
            d["message"].as_str().unwrap_or_default()
        ));
        if let Some(remedy) = d["remedy"].as_str().filter(|_| d["status"] != "ready") {
            text.push_str(&format!("\n  fix: {remedy}"));
        }
    }
    answer(value, text)
}

/// A refusal: `{"error": {code, message, data: {kind, ...}}}`, paths named as tool arguments.
pub fn refusal(mut e: RpcError) -> CallToolResult {
    if let Some(path) = e
        .data
        .get("path")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        rename_path(&mut e, &path, "path");
    }
    if let Some(field) = e
        .data
        .get("field")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        rename_path(&mut e, &field, "field");
    }
    let mut error = serde_json::to_value(&e).expect("errors serialize");
    // Messages can quote host input: the same hygiene as the JSON-RPC server's error replies.
    Hygiene::new(RunOptions::DEFAULT_MAX_FIELD_BYTES).clean(&mut error);
    let kind = error["data"]["kind"]
        .as_str()
        .unwrap_or("error")
        .to_string();
    let mut text = format!(
        "{} ({kind}, {})",
        error["message"].as_str().unwrap_or_default(),
        e.code
    );
    // The remedy of a -32011 (what to install or set) is what the reader needs most: the text,
    // not only the structured content, carries it, as the command line's `fix:` line does.
    if let Some(remedy) = error["data"]["remedy"].as_str() {
        text.push_str(&format!("\nfix: {remedy}"));
    }
    with_text(
        CallToolResult::structured_error(json!({ "error": error })),
        text,
        true,
    )
}

/// The readable text replaces the JSON copy that `structured` puts in `content`: the issue asks
/// for a summary, and a model reading the result should not pay for the same data twice.
fn with_text(mut r: CallToolResult, text: String, is_error: bool) -> CallToolResult {
    r.content = vec![ContentBlock::text(text)];
    r.is_error = Some(is_error);
    r
}

fn rename_path(e: &mut RpcError, core: &str, key: &str) {
    let arg = argument_path(core);
    if arg == core {
        return;
    }
    e.data[key] = Value::String(arg.clone());
    e.message = e.message.replace(core, &arg);
}

/// "completed · claude · 3 turns · session …" then the agent's final output.
fn task_summary(r: &Value) -> String {
    let mut head = format!(
        "{} · {} · {} turn(s) · {} ms",
        r["finishReason"].as_str().unwrap_or("?"),
        r["runtime"].as_str().unwrap_or("?"),
        r["turns"],
        r["durationMs"]
    );
    if let Some(s) = r["sessionId"].as_str() {
        head.push_str(&format!(" · session {s}"));
    }
    if let Some(err) = r.get("error").filter(|e| !e.is_null()) {
        head.push_str(&format!(
            "\nerror ({}): {}",
            err["kind"].as_str().unwrap_or("?"),
            err["message"].as_str().unwrap_or_default()
        ));
    }
    let files: Vec<&str> = r["artifacts"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["path"].as_str()).collect())
        .unwrap_or_default();
    if !files.is_empty() {
        head.push_str(&format!("\nfiles: {}", files.join(", ")));
    }
    match r["output"].as_str().filter(|o| !o.is_empty()) {
        Some(out) => format!("{head}\n\n{out}"),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_argument_and_keep_code_and_kind() {
        let e = RpcError::invalid_params("task.workingDirectory", "\"/nope\" does not exist");
        let r = refusal(e);
        assert_eq!(r.is_error, Some(true));
        let err = &r.structured_content.as_ref().unwrap()["error"];
        assert_eq!(err["code"], -32602);
        assert_eq!(err["data"]["kind"], "invalidParams");
        assert_eq!(err["data"]["path"], "workingDirectory");
        assert_eq!(
            err["message"],
            "invalid params at workingDirectory: \"/nope\" does not exist"
        );
    }

    #[test]
    fn the_remedy_ends_the_text() {
        let e = RpcError::new(
            crate::protocol::ErrorCode::RuntimeUnavailable,
            "runtime \"claude\" is unavailable: claude is not on PATH",
            json!({"runtime": "claude", "status": "missingBinary",
                   "message": "claude is not on PATH", "remedy": "npm install -g claude"}),
        );
        let r = refusal(e);
        let text = &r.content[0].as_text().unwrap().text;
        assert!(text.ends_with("\nfix: npm install -g claude"), "{text}");

        let r = diagnoses(json!({"runtimes": [
            {"runtime": "fixture", "status": "ready", "message": "built in"},
            {"runtime": "codex", "status": "missingBinary", "message": "no codex",
             "remedy": "npm install -g @openai/codex"}
        ]}));
        let text = &r.content[0].as_text().unwrap().text;
        assert_eq!(
            text,
            "fixture: ready — built in\ncodex: missingBinary — no codex\n  fix: npm install -g @openai/codex"
        );
    }

    #[test]
    fn unfinished_tasks_are_tool_errors() {
        let r =
            task_result(json!({"finishReason": "cancelled", "runtime": "fixture", "output": ""}));
        assert_eq!(r.is_error, Some(true));
        let r =
            task_result(json!({"finishReason": "completed", "runtime": "fixture", "output": "hi"}));
        assert_eq!(r.is_error, Some(false));
        assert!(r.content[0].as_text().unwrap().text.ends_with("\n\nhi"));
    }
}
