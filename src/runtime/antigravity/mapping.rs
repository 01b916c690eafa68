//! SDK steps → our events, results and error kinds.
//!
//! The SDK reports a turn as a stream of cumulative `Step` snapshots (one per update of a step):
//! text steps carry `content_delta`, thinking steps `thinking_delta`, tool steps go
//! ACTIVE → DONE/ERROR under one id, SYSTEM steps at ERROR are model API failures (one per retry),
//! and a FINISH step carries the structured output (its literal "Finished" text is not output).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use super::wire::{SdkToolCall, SdkUsage, Step};
use crate::protocol::event::{EventBody, TextData, ToolRequested};
use crate::protocol::result::{
    Artifact, ArtifactChange, TaskError, TaskErrorKind, ToolCallRecord, ToolStatus, Usage,
};
use crate::runtime::{artifacts, tool_calls};

/// SDK tool names whose calls write files (the model's `write_to_file` / `replace_file_content`
/// surface as `edit_file`).
const FILE_WRITE_TOOLS: [&str; 2] = ["edit_file", "create_file"];

/// Our name for a tool: builtins as the SDK names them, MCP tools as `mcp__<server>__<tool>`, as
/// the claude and codex runtimes name them, so a host matches an MCP tool the same way whatever
/// runtime called it (the SDK's own policies spell it `server/tool`).
pub fn tool_name(name: &str, server: Option<&str>) -> String {
    match server {
        Some(s) if !s.is_empty() => format!("mcp__{s}__{name}"),
        _ => name.to_string(),
    }
}

struct OpenTool {
    id: String,
    name: String,
    input: Value,
    began: Instant,
}

/// Turns one task's steps into events, and remembers what the result needs.
pub struct Mapper {
    working_directory: PathBuf,
    open: HashMap<String, OpenTool>,
    finished: HashSet<String>,
    /// Approvals the host (or policy) allowed, waiting for their tool step: (name, our id).
    approved: VecDeque<(String, String)>,
    /// Denials we already reported, whose SDK error step is still to come.
    reported_denials: usize,
    pub tool_calls: Vec<ToolCallRecord>,
    pub artifacts: Vec<Artifact>,
    /// The last complete top-level assistant message.
    pub last_message: Option<String>,
    pub structured_output: Option<Value>,
    /// The last model API failure: (HTTP status, message).
    pub last_api_error: Option<(u16, String)>,
    model_steps: HashSet<String>,
}

impl Mapper {
    pub fn new(working_directory: PathBuf) -> Self {
        Mapper {
            working_directory,
            open: HashMap::new(),
            finished: HashSet::new(),
            approved: VecDeque::new(),
            reported_denials: 0,
            tool_calls: vec![],
            artifacts: vec![],
            last_message: None,
            structured_output: None,
            last_api_error: None,
            model_steps: HashSet::new(),
        }
    }

    /// Model responses seen (each model call makes at least one step).
    pub fn turns(&self) -> u32 {
        self.model_steps.len() as u32
    }

    /// The events for one step snapshot.
    pub fn step(&mut self, step: &Step) -> Vec<EventBody> {
        let mut out = vec![];
        if step.is_model() && step.is_top_level() {
            self.model_steps.insert(step.id.clone());
        }
        match (step.kind.as_str(), step.source.as_str()) {
            ("TEXT_RESPONSE", "MODEL") if step.status == "ERROR" => {
                self.denied_step(step, &mut out)
            }
            ("TEXT_RESPONSE", "MODEL") if step.is_top_level() => {
                if !step.content_delta.is_empty() {
                    out.push(EventBody::OutputDelta(TextData {
                        text: step.content_delta.clone(),
                        vendor: None,
                    }));
                }
                if step.status == "DONE" && !self.finished.contains(&step.id) {
                    self.finished.insert(step.id.clone());
                    self.last_message = Some(step.content.clone());
                    out.push(EventBody::Message(TextData {
                        text: step.content.clone(),
                        vendor: None,
                    }));
                }
            }
            // Our event vocabulary has no reasoning event: thinking travels as an empty-text
            // delta with the thought under `vendor`, so hosts that only show text ignore it.
            ("THINKING", _) if !step.thinking_delta.is_empty() => {
                out.push(EventBody::OutputDelta(TextData {
                    text: String::new(),
                    vendor: Some(
                        json!({ "thinkingDelta": step.thinking_delta, "stepId": step.id }),
                    ),
                }));
            }
            ("TOOL_CALL", _) => {
                for (i, call) in step.tool_calls.iter().enumerate() {
                    self.tool_step(step, i, call, &mut out);
                }
            }
            ("FINISH", _) if step.structured_output.is_some() => {
                self.structured_output = step.structured_output.clone();
            }
            (_, "SYSTEM") if step.status == "ERROR" => {
                let message = if step.error.is_empty() {
                    step.content.clone()
                } else {
                    step.error.clone()
                };
                let code = if step.http_code != 0 {
                    step.http_code
                } else {
                    http_code_in(&message).unwrap_or(0)
                };
                self.last_api_error = Some((code, message));
            }
            _ => {}
        }
        out
    }

    fn tool_step(
        &mut self,
        step: &Step,
        index: usize,
        call: &SdkToolCall,
        out: &mut Vec<EventBody>,
    ) {
        let vendor_id = call
            .id
            .clone()
            .unwrap_or_else(|| format!("{}#{index}", step.id));
        if self.finished.contains(&vendor_id) {
            return;
        }
        let name = tool_name(&call.name, call.server_name.as_deref());
        if !self.open.contains_key(&vendor_id) {
            // A call the host approved was announced with the approval's id: keep that id.
            let approved = self.approved.iter().position(|(n, _)| *n == name);
            let (id, announced) = match approved.and_then(|i| self.approved.remove(i)) {
                Some((_, id)) => (id, true),
                None => (vendor_id.clone(), false),
            };
            if !announced {
                out.push(EventBody::ToolRequested(ToolRequested {
                    tool_call_id: id.clone(),
                    name: name.clone(),
                    input: call.args.clone(),
                    vendor: Some(json!({ "stepId": step.id, "summary": step.content })),
                }));
            }
            self.open.insert(
                vendor_id.clone(),
                OpenTool {
                    id,
                    name: name.clone(),
                    input: call.args.clone(),
                    began: Instant::now(),
                },
            );
        }
        let status = match step.status.as_str() {
            "DONE" => ToolStatus::Ok,
            "ERROR" => ToolStatus::Error,
            "CANCELED" => ToolStatus::Error,
            _ => return,
        };
        let open = self.open.remove(&vendor_id).expect("opened above");
        self.finished.insert(vendor_id);
        // The SDK does not surface a tool's output text; its final arguments carry the results
        // (exit_code and combined_output for commands, diff_block for edits).
        let output = if status == ToolStatus::Error && !step.error.is_empty() {
            json!(step.error)
        } else {
            call.args.clone()
        };
        if status == ToolStatus::Ok && FILE_WRITE_TOOLS.contains(&call.name.as_str()) {
            self.artifact(call);
        }
        let duration_ms = open.began.elapsed().as_millis() as u64;
        out.push(EventBody::ToolCompleted(tool_calls::complete(
            &mut self.tool_calls,
            (open.id, open.name, open.input),
            (status, output),
            duration_ms,
        )));
    }

    /// A model step at ERROR is a tool call the policies refused. Ours were reported when they
    /// were decided; one refused inside the harness (e.g. a write outside the workspaces) names
    /// no tool, so it is reported under the step's id.
    fn denied_step(&mut self, step: &Step, out: &mut Vec<EventBody>) {
        if self.finished.contains(&step.id) {
            return;
        }
        self.finished.insert(step.id.clone());
        if self.reported_denials > 0 {
            self.reported_denials -= 1;
            return;
        }
        let message = if step.error.is_empty() {
            step.content.clone()
        } else {
            step.error.clone()
        };
        let name = "unknown".to_string();
        out.push(EventBody::ToolRequested(ToolRequested {
            tool_call_id: step.id.clone(),
            name: name.clone(),
            input: Value::Null,
            vendor: Some(json!({ "stepId": step.id })),
        }));
        out.push(EventBody::ToolCompleted(tool_calls::complete(
            &mut self.tool_calls,
            (step.id.clone(), name, Value::Null),
            (ToolStatus::Denied, json!(message)),
            0,
        )));
    }

    /// The events for an approval the policies asked for, before it is decided.
    pub fn approval_requested(&mut self, id: &str, name: &str, input: &Value) -> EventBody {
        EventBody::ToolRequested(ToolRequested {
            tool_call_id: id.to_string(),
            name: name.to_string(),
            input: input.clone(),
            vendor: None,
        })
    }

    /// Records a decision; a denial completes the call at once.
    pub fn approval_decided(
        &mut self,
        id: &str,
        name: &str,
        input: &Value,
        allowed: bool,
        message: &str,
    ) -> Option<EventBody> {
        if allowed {
            self.approved.push_back((name.to_string(), id.to_string()));
            return None;
        }
        self.reported_denials += 1;
        Some(EventBody::ToolCompleted(tool_calls::complete(
            &mut self.tool_calls,
            (id.to_string(), name.to_string(), input.clone()),
            (ToolStatus::Denied, json!(message)),
            0,
        )))
    }

    fn artifact(&mut self, call: &SdkToolCall) {
        let Some(path) = call
            .args
            .get("file_path")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| call.canonical_path.clone())
        else {
            return;
        };
        let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(&path));
        let change = if !path.exists() {
            ArtifactChange::Deleted
        } else if is_new_file_diff(call.args.get("diff_block")) || call.name == "create_file" {
            ArtifactChange::Created
        } else {
            ArtifactChange::Modified
        };
        let shown = artifacts::relative_path(&path, &self.working_directory);
        match self.artifacts.iter_mut().find(|a| a.path == shown) {
            // Created then edited is still created.
            Some(a)
                if a.change == ArtifactChange::Created && change == ArtifactChange::Modified => {}
            Some(a) => a.change = change,
            None => self.artifacts.push(Artifact {
                path: shown,
                change,
            }),
        }
    }

    /// Unfinished tool calls when the turn ends (cancel, error): completed as errors.
    pub fn close_open(&mut self, why: &str) -> Vec<EventBody> {
        let mut out = vec![];
        for (_, open) in self.open.drain() {
            let duration_ms = open.began.elapsed().as_millis() as u64;
            out.push(EventBody::ToolCompleted(tool_calls::complete(
                &mut self.tool_calls,
                (open.id, open.name, open.input),
                (ToolStatus::Error, json!(why)),
                duration_ms,
            )));
        }
        out
    }
}

/// A diff that only inserts lines at the top of an empty file: the file was created.
fn is_new_file_diff(diff: Option<&Value>) -> bool {
    let Some(blocks) = diff.and_then(Value::as_array) else {
        return false;
    };
    !blocks.is_empty()
        && blocks.iter().all(|b| {
            b["start_line"].as_u64().unwrap_or(0) == 0
                && b["end_line"].as_u64().unwrap_or(0) == 0
                && b["lines"].as_array().is_some_and(|lines| {
                    lines
                        .iter()
                        .all(|l| l["action"].as_str() == Some("LINE_ACTION_INSERT"))
                })
        })
}

/// `Error 429, Message: ...` in an SDK error text.
pub fn http_code_in(message: &str) -> Option<u16> {
    let i = message.find("Error ")?;
    let digits: String = message[i + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|c| (100..600).contains(c))
}

/// HTTP status of a model API failure → our error kind.
pub fn kind_for_http(code: u16) -> TaskErrorKind {
    match code {
        400 | 401 | 403 => TaskErrorKind::Auth,
        404 => TaskErrorKind::Model,
        429 => TaskErrorKind::RateLimit,
        _ => TaskErrorKind::Vendor,
    }
}

/// A bridge error event → our error, using the last model API failure the steps reported.
pub fn task_error(
    kind: &str,
    exception: Option<&str>,
    message: &str,
    last_api_error: Option<&(u16, String)>,
) -> TaskError {
    let code = last_api_error
        .map(|(c, _)| *c)
        .filter(|c| *c != 0)
        .or_else(|| http_code_in(message));
    let (kind, text) = match kind {
        "auth" => (
            TaskErrorKind::Auth,
            format!("the model API rejected the credentials: {message}"),
        ),
        "execution" => match code {
            Some(c) => {
                let k = kind_for_http(c);
                let what = match k {
                    TaskErrorKind::Auth => "the model API rejected the credentials",
                    TaskErrorKind::Model => "the model was not found",
                    TaskErrorKind::RateLimit => {
                        "the model API is rate limiting (retries exhausted)"
                    }
                    _ => "the model API failed",
                };
                (k, format!("{what} (HTTP {c}): {message}"))
            }
            None => (TaskErrorKind::Vendor, message.to_string()),
        },
        "validation" => (
            if message.contains("API key") || message.contains("Vertex") {
                TaskErrorKind::Auth
            } else {
                TaskErrorKind::Vendor
            },
            format!("the SDK refused the configuration: {message}"),
        ),
        "harnessMissing" => (
            TaskErrorKind::Process,
            format!("the SDK's localharness binary is missing: {message}"),
        ),
        "packageMissing" => (
            TaskErrorKind::Process,
            format!("google-antigravity is not installed for this Python: {message}"),
        ),
        "sessionNotFound" => (
            TaskErrorKind::Vendor,
            format!("the session to resume was not found: {message}"),
        ),
        "config" | "protocol" => (TaskErrorKind::Protocol, message.to_string()),
        _ => (TaskErrorKind::Vendor, message.to_string()),
    };
    TaskError {
        kind,
        message: text,
        vendor_code: match code {
            Some(c) => Some(json!(c)),
            None => exception.map(|e| json!(e)),
        },
    }
}

pub fn usage(u: Option<&SdkUsage>) -> Usage {
    let Some(u) = u else {
        return Usage::default();
    };
    Usage {
        input_tokens: u.prompt_token_count,
        // Gemini bills thinking tokens as output.
        output_tokens: u.candidates_token_count + u.thoughts_token_count,
        cached_input_tokens: u.cached_content_token_count,
        cost_usd: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::antigravity::wire::BridgeEvent;

    fn steps(sample: &str) -> Vec<Step> {
        sample
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match serde_json::from_str::<BridgeEvent>(l).unwrap() {
                BridgeEvent::Step { step } => step,
                other => panic!("not a step: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn text_deltas_then_one_message() {
        let mut m = Mapper::new("/w".into());
        let evs: Vec<EventBody> = steps(concat!(
            r#"{"type":"step","step":{"id":"t:0","trajectory_id":"t","type":"TEXT_RESPONSE","source":"USER","status":"DONE","content":"hi","content_delta":"hi"}}"#, "\n",
            r#"{"type":"step","step":{"id":"t:1","step_index":1,"type":"TEXT_RESPONSE","source":"MODEL","status":"ACTIVE","content":"Hel","content_delta":"Hel"}}"#, "\n",
            r#"{"type":"step","step":{"id":"t:1","step_index":1,"type":"TEXT_RESPONSE","source":"MODEL","status":"ACTIVE","content":"Hello","content_delta":"lo"}}"#, "\n",
            r#"{"type":"step","step":{"id":"t:1","step_index":1,"type":"TEXT_RESPONSE","source":"MODEL","status":"DONE","content":"Hello"}}"#, "\n",
        ))
        .iter()
        .flat_map(|s| m.step(s))
        .collect();
        let v = serde_json::to_value(&evs).unwrap();
        assert_eq!(v[0]["data"]["text"], "Hel");
        assert_eq!(v[1]["data"]["text"], "lo");
        assert_eq!(v[2]["type"], "agent.message");
        assert_eq!(evs.len(), 3, "the user's echo is not output");
        assert_eq!(m.last_message.as_deref(), Some("Hello"));
        assert_eq!(m.turns(), 1);
    }

    #[test]
    fn edit_tool_is_one_call_and_an_artifact() {
        let dir = std::env::temp_dir().join(format!("agy-map-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hello.txt");
        std::fs::write(&file, "hi\n").unwrap();
        let f = file.display();
        let mut m = Mapper::new(dir.clone());
        let active = format!(
            r#"{{"type":"step","step":{{"id":"t:1","type":"TOOL_CALL","source":"MODEL","status":"ACTIVE","content":"File creation","tool_calls":[{{"name":"edit_file","args":{{"file_path":"{f}"}},"id":"t:1"}}]}}}}"#
        );
        let done = format!(
            r#"{{"type":"step","step":{{"id":"t:1","type":"TOOL_CALL","source":"MODEL","status":"DONE","tool_calls":[{{"name":"edit_file","args":{{"file_path":"{f}","diff_block":[{{"start_line":0,"end_line":0,"lines":[{{"text":"hi","action":"LINE_ACTION_INSERT"}}]}}]}},"id":"t:1"}}]}}}}"#
        );
        let mut evs = vec![];
        for s in steps(&format!("{active}\n{active}\n{done}\n{done}\n")) {
            evs.extend(m.step(&s));
        }
        let v = serde_json::to_value(&evs).unwrap();
        assert_eq!(evs.len(), 2, "{v}");
        assert_eq!(v[0]["type"], "agent.tool.requested");
        assert_eq!(v[1]["data"]["status"], "ok");
        assert_eq!(
            m.artifacts,
            vec![Artifact {
                path: "hello.txt".into(),
                change: ArtifactChange::Created
            }]
        );
        assert_eq!(m.tool_calls.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn approved_call_keeps_the_approval_id_and_denials_are_not_doubled() {
        let mut m = Mapper::new("/w".into());
        assert!(m
            .approval_decided("approval-1", "run_command", &json!({}), true, "")
            .is_none());
        let evs = m.step(&steps(r#"{"type":"step","step":{"id":"t:2","type":"TOOL_CALL","source":"MODEL","status":"DONE","tool_calls":[{"name":"run_command","args":{"exit_code":0},"id":"t:2"}]}}"#)[0]);
        let v = serde_json::to_value(&evs).unwrap();
        assert_eq!(evs.len(), 1, "requested went out with the approval: {v}");
        assert_eq!(v[0]["data"]["toolCallId"], "approval-1");

        assert!(m
            .approval_decided("approval-2", "run_command", &json!({}), false, "no")
            .is_some());
        let denied = r#"{"type":"step","step":{"id":"t:3","type":"TEXT_RESPONSE","source":"MODEL","status":"ERROR","error":"Denied by user"}}"#;
        assert!(m.step(&steps(denied)[0]).is_empty());
        // One refused inside the harness is still reported.
        let other = denied.replace("t:3", "t:4");
        assert_eq!(m.step(&steps(&other)[0]).len(), 2);
    }

    #[test]
    fn error_kinds() {
        let k = |kind: &str, msg: &str, last: Option<(u16, String)>| {
            task_error(kind, None, msg, last.as_ref()).kind
        };
        assert_eq!(k("auth", "Error 400", None), TaskErrorKind::Auth);
        assert_eq!(
            k(
                "execution",
                "Error 404, Message: models/x is not found",
                None
            ),
            TaskErrorKind::Model
        );
        assert_eq!(
            k("execution", "model unreachable", Some((429, "x".into()))),
            TaskErrorKind::RateLimit
        );
        assert_eq!(k("execution", "boom", None), TaskErrorKind::Vendor);
        assert_eq!(
            k("validation", "A Gemini API key is required", None),
            TaskErrorKind::Auth
        );
    }
}
