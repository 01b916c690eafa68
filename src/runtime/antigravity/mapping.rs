//! SDK steps → our events, results and error kinds.
//!
//! The SDK reports a turn as a stream of cumulative `Step` snapshots (one per update of a step):
//! text steps carry `content_delta`, thinking steps `thinking_delta`, tool steps go
//! ACTIVE → DONE/ERROR under one id, SYSTEM steps at ERROR are model API failures (one per retry),
//! and a FINISH step carries the structured output (its literal "Finished" text is not output).
//!
//! Thinking (a THINKING step's `thinking_delta`, then the same step's `thinking`) is reasoning.
//! A SYSTEM error step whose text says "Encountered retryable error" is a retry the harness is
//! about to make (`agent.retry`); the others are the failure itself. Steps of a child trajectory
//! (`parent_trajectory_id` set: a sub-agent run by the `invoke_subagent` tool) are marked with
//! that tool call, bracketed by `agent.subagent.started` / `completed`, and their text is never
//! the main output. In the pinned SDK (0.1.22) `invoke_subagent` returns at once and the sub-agent
//! runs in the background: its first step comes after the call is done, and steps name their
//! parent trajectory, not the call, so a child belongs to the oldest `invoke_subagent` of its
//! parent trajectory no child has claimed (the latest one once all are claimed: one call can
//! start several). It is over at its complete response (`is_complete_response` on a DONE model
//! step), or when the harness tells the parent "Subagent <id> has gone idle", or when its call
//! fails. The harness itself keeps the parent's turn open until then (it wakes the parent with
//! that message), so the turn needs no waiting of ours.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use super::wire::{SdkToolCall, SdkUsage, Step};
use crate::protocol::event::{
    CompactionTrigger, ContextCompacted, EventBody, FileChange, FileChanged, Retry, RetryReason,
    Subagent, TextData, ToolRequested,
};
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

/// An event and the sub-agent tool call it happened in (`None`: the main agent).
#[derive(Debug)]
pub struct Emitted {
    pub parent: Option<String>,
    pub body: EventBody,
}

/// The SDK tool that runs a sub-agent in a child trajectory.
const SUBAGENT_TOOL: &str = "invoke_subagent";

/// What an invoke_subagent call asked for: `Subagents[0].Role` / `Prompt` (the pinned SDK's
/// schema), or an older `task` / `prompt`. The pinned SDK's steps leave the arguments out.
fn subagent_description(args: &Value) -> Option<String> {
    let first = &args["Subagents"][0];
    ["Role", "Prompt"]
        .iter()
        .find_map(|k| first[k].as_str())
        .or_else(|| {
            ["task", "prompt", "description", "name"]
                .iter()
                .find_map(|k| args[k].as_str())
        })
        .map(str::to_string)
}

/// The child trajectory in the harness's "… content=Subagent <id> has gone idle. …" message.
fn idle_subagent(text: &str) -> Option<&str> {
    let before = &text[..text.find(" has gone idle")?];
    let id = &before[before.rfind("Subagent ")? + "Subagent ".len()..];
    (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(id)
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
    /// Steps whose complete thought was reported.
    thoughts: HashSet<String>,
    /// Child trajectory → (the invoke_subagent call it runs under, ended).
    children: HashMap<String, (String, bool)>,
    /// Every invoke_subagent call, in order: (our id, its trajectory, what it asked for).
    invokes: Vec<(String, String, Option<String>)>,
    /// Retryable model API failures so far.
    retries: u32,
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
            thoughts: HashSet::new(),
            children: HashMap::new(),
            invokes: vec![],
            retries: 0,
        }
    }

    /// Model responses seen (each model call makes at least one step).
    pub fn turns(&self) -> u32 {
        self.model_steps.len() as u32
    }

    /// The events for one step snapshot.
    pub fn step(&mut self, step: &Step) -> Vec<Emitted> {
        let mut out = vec![];
        if step.is_model() && step.is_top_level() {
            self.model_steps.insert(step.id.clone());
        }
        let parent = self.parent_of(step, &mut out);
        if parent.is_some() && step.is_complete_response && step.status == "DONE" && step.is_model()
        {
            self.end_child(&step.trajectory_id, "completed", &mut out);
        }
        let mut bodies = vec![];
        // The complete thought, once the step moved on from thinking (or finished).
        if !step.thinking.is_empty()
            && (step.kind != "THINKING" || step.status != "ACTIVE")
            && self.thoughts.insert(step.id.clone())
        {
            bodies.push(EventBody::Reasoning(TextData {
                text: step.thinking.clone(),
                vendor: None,
            }));
        }
        match (step.kind.as_str(), step.source.as_str()) {
            ("TEXT_RESPONSE", "MODEL") if step.status == "ERROR" => {
                self.denied_step(step, &mut bodies)
            }
            // A tool the harness runs as a text step (ask_question waits for the user so): its
            // text is the tool's summary, not an answer.
            ("TEXT_RESPONSE", "MODEL") if step.target == "TARGET_ENVIRONMENT" => {}
            ("TEXT_RESPONSE", "MODEL") => {
                let top = parent.is_none();
                // A sub-agent's text is not streamed as output: its complete message is enough.
                if top && !step.content_delta.is_empty() {
                    bodies.push(EventBody::OutputDelta(TextData {
                        text: step.content_delta.clone(),
                        vendor: None,
                    }));
                }
                if step.status == "DONE" && !self.finished.contains(&step.id) {
                    self.finished.insert(step.id.clone());
                    if top {
                        self.last_message = Some(step.content.clone());
                    }
                    bodies.push(EventBody::Message(TextData {
                        text: step.content.clone(),
                        vendor: None,
                    }));
                }
            }
            ("THINKING", _) if !step.thinking_delta.is_empty() => {
                bodies.push(EventBody::ReasoningDelta(TextData {
                    text: step.thinking_delta.clone(),
                    vendor: None,
                }));
            }
            ("TOOL_CALL", _) => {
                for (i, call) in step.tool_calls.iter().enumerate() {
                    if let Some((id, ok)) = self.tool_step(step, i, call, &mut bodies) {
                        if call.name == SUBAGENT_TOOL {
                            self.subagent_ended(&id, ok, &mut out);
                        }
                    }
                }
            }
            // The harness summarised the conversation to fit its context (it has a threshold,
            // no manual trigger through the SDK).
            ("COMPACTION", _) if step.status == "DONE" && self.finished.insert(step.id.clone()) => {
                bodies.push(EventBody::ContextCompacted(ContextCompacted {
                    trigger: CompactionTrigger::Auto,
                    pre_tokens: None,
                    post_tokens: None,
                }));
            }
            ("FINISH", _) if step.structured_output.is_some() => {
                self.structured_output = step.structured_output.clone();
            }
            // The harness tells the parent that a sub-agent is done.
            ("TEXT_RESPONSE", "SYSTEM") if step.content.contains(" has gone idle") => {
                if let Some(child) = idle_subagent(&step.content) {
                    self.end_child(child, "completed", &mut out);
                }
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
                if message.contains("retryable error") {
                    self.retries += 1;
                    bodies.push(EventBody::Retry(retry_of(self.retries, code, &message)));
                } else {
                    self.last_api_error = Some((code, message));
                }
            }
            _ => {}
        }
        // A sub-agent's completion (pushed to `out` by the tool step) follows the tool's own
        // completion.
        let mut all: Vec<Emitted> = vec![];
        let (started, ended): (Vec<Emitted>, Vec<Emitted>) = std::mem::take(&mut out)
            .into_iter()
            .partition(|e| matches!(e.body, EventBody::SubagentStarted(_)));
        all.extend(started);
        all.extend(bodies.into_iter().map(|body| Emitted {
            parent: parent.clone(),
            body,
        }));
        all.extend(ended);
        all
    }

    /// The sub-agent tool call a step happened in; a child trajectory's first step starts it.
    fn parent_of(&mut self, step: &Step, out: &mut Vec<Emitted>) -> Option<String> {
        if step.is_top_level() || step.trajectory_id.is_empty() {
            return None;
        }
        if let Some((parent, _)) = self.children.get(&step.trajectory_id) {
            return Some(parent.clone());
        }
        let claimed: HashSet<&String> = self.children.values().map(|(p, _)| p).collect();
        let mine: Vec<&(String, String, Option<String>)> = self
            .invokes
            .iter()
            .filter(|(_, traj, _)| *traj == step.parent_trajectory_id)
            .collect();
        let invoke = mine
            .iter()
            .find(|(id, _, _)| !claimed.contains(id))
            .or(mine.last());
        let (parent, description) = match invoke {
            Some((id, _, description)) => (id.clone(), description.clone()),
            // No call to hang it on: the parent trajectory stands for it.
            None => (step.parent_trajectory_id.clone(), None),
        };
        self.children
            .insert(step.trajectory_id.clone(), (parent.clone(), false));
        out.push(Emitted {
            parent: Some(parent.clone()),
            body: EventBody::SubagentStarted(Subagent {
                subagent_id: step.trajectory_id.clone(),
                parent_tool_call_id: parent.clone(),
                description,
                status: None,
                usage: None,
            }),
        });
        Some(parent)
    }

    /// The child trajectory `traj` is over.
    fn end_child(&mut self, traj: &str, status: &str, out: &mut Vec<Emitted>) {
        let Some((parent, done)) = self.children.get_mut(traj) else {
            return;
        };
        if *done {
            return;
        }
        *done = true;
        out.push(Emitted {
            parent: Some(parent.clone()),
            body: EventBody::SubagentCompleted(Subagent {
                subagent_id: traj.to_string(),
                parent_tool_call_id: parent.clone(),
                description: None,
                status: Some(status.to_string()),
                usage: None,
            }),
        });
    }

    /// The invoke_subagent call `id` finished: the child trajectories that ran inside it (a
    /// harness that runs sub-agents in the foreground) are over; in the pinned SDK none has
    /// shown up yet.
    fn subagent_ended(&mut self, id: &str, ok: bool, out: &mut Vec<Emitted>) {
        let mut ended: Vec<String> = vec![];
        for (traj, (parent, done)) in self.children.iter_mut() {
            if parent == id && !*done {
                *done = true;
                ended.push(traj.clone());
            }
        }
        ended.sort();
        for traj in ended {
            out.push(Emitted {
                parent: Some(id.to_string()),
                body: EventBody::SubagentCompleted(Subagent {
                    subagent_id: traj,
                    parent_tool_call_id: id.to_string(),
                    description: None,
                    status: Some(if ok { "completed" } else { "failed" }.to_string()),
                    usage: None,
                }),
            });
        }
    }

    /// Child trajectories not seen to end. Only tests read it: the harness ends the parent's
    /// turn after its sub-agents (it wakes the parent when one goes idle), so the run loop has
    /// nothing to wait for.
    #[cfg(test)]
    pub fn pending_subagents(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .children
            .values()
            .filter(|(_, done)| !done)
            .map(|(p, _)| p.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn tool_step(
        &mut self,
        step: &Step,
        index: usize,
        call: &SdkToolCall,
        out: &mut Vec<EventBody>,
    ) -> Option<(String, bool)> {
        let vendor_id = call
            .id
            .clone()
            .unwrap_or_else(|| format!("{}#{index}", step.id));
        if self.finished.contains(&vendor_id) {
            return None;
        }
        let name = tool_name(&call.name, call.server_name.as_deref());
        if !self.open.contains_key(&vendor_id) {
            // A call the host approved was announced with the approval's id: keep that id.
            let approved = self.approved.iter().position(|(n, _)| *n == name);
            let (id, announced) = match approved.and_then(|i| self.approved.remove(i)) {
                Some((_, id)) => (id, true),
                None => (vendor_id.clone(), false),
            };
            if call.name == SUBAGENT_TOOL {
                self.invokes.push((
                    id.clone(),
                    step.trajectory_id.clone(),
                    subagent_description(&call.args),
                ));
            }
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
            _ => return None,
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
        let changed = (status == ToolStatus::Ok && FILE_WRITE_TOOLS.contains(&call.name.as_str()))
            .then(|| self.artifact(call))
            .flatten();
        let duration_ms = open.began.elapsed().as_millis() as u64;
        let id = open.id.clone();
        out.push(EventBody::ToolCompleted(tool_calls::complete(
            &mut self.tool_calls,
            (open.id, open.name, open.input),
            (status, output),
            duration_ms,
        )));
        // The file tool is done: the host hears of the change now, not at the end of the turn
        // (whose listing skips a path already announced).
        if let Some(changed) = changed {
            out.push(EventBody::FileChanged(changed));
        }
        Some((id, status == ToolStatus::Ok))
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

    /// Records the file a write tool changed; its `agent.file.changed`.
    fn artifact(&mut self, call: &SdkToolCall) -> Option<FileChanged> {
        let path = call
            .args
            .get("file_path")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| call.canonical_path.clone())?;
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
                path: shown.clone(),
                change,
            }),
        }
        Some(FileChanged {
            diff: diff_of(&shown, change, call.args.get("diff_block")),
            path: shown,
            change: match change {
                ArtifactChange::Created => FileChange::Added,
                ArtifactChange::Modified => FileChange::Modified,
                ArtifactChange::Deleted => FileChange::Deleted,
            },
        })
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

/// A SYSTEM step's "Encountered retryable error from model provider: …" → `agent.retry`. The
/// harness backs off exponentially (about 4 s, then doubling) and says neither the delay nor the
/// limit.
fn retry_of(attempt: u32, code: u16, message: &str) -> Retry {
    let reason = match code {
        429 => RetryReason::RateLimit,
        503 | 529 => RetryReason::Overloaded,
        100..=599 => RetryReason::Server,
        _ => RetryReason::Network,
    };
    Retry {
        attempt,
        max_attempts: None,
        delay_ms: None,
        http_status: (100..600).contains(&code).then_some(code),
        reason,
        message: message.to_string(),
    }
}

/// The tool's `diff_block` (the harness's own record of the edit: hunks of lines marked
/// INSERT, DELETE or NONE) as a unified diff; `None` when it has none. Hunk positions are the
/// harness's `start_line` (0-based), so a host can show it, if not always `patch` it.
fn diff_of(path: &str, change: ArtifactChange, diff: Option<&Value>) -> Option<String> {
    let blocks = diff?.as_array().filter(|b| !b.is_empty())?;
    let (old, new) = match change {
        ArtifactChange::Created => ("/dev/null".to_string(), format!("b/{path}")),
        ArtifactChange::Deleted => (format!("a/{path}"), "/dev/null".to_string()),
        ArtifactChange::Modified => (format!("a/{path}"), format!("b/{path}")),
    };
    let mut out = format!("--- {old}\n+++ {new}\n");
    for b in blocks {
        let mut body = String::new();
        let (mut removed, mut added) = (0u64, 0u64);
        for l in b["lines"].as_array().into_iter().flatten() {
            let text = l["text"].as_str().unwrap_or_default();
            let mark = match l["action"].as_str() {
                Some("LINE_ACTION_INSERT") => {
                    added += 1;
                    '+'
                }
                Some("LINE_ACTION_DELETE") => {
                    removed += 1;
                    '-'
                }
                _ => {
                    added += 1;
                    removed += 1;
                    ' '
                }
            };
            body.push(mark);
            body.push_str(text);
            body.push('\n');
        }
        let start = b["start_line"].as_u64().unwrap_or(0);
        let at = |n: u64| if n == 0 { start } else { start + 1 };
        out.push_str(&format!(
            "@@ -{},{removed} +{},{added} @@\n{body}",
            at(removed),
            at(added)
        ));
    }
    Some(out)
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
        .map(|e| e.body)
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
            evs.extend(m.step(&s).into_iter().map(|e| e.body));
        }
        let v = serde_json::to_value(&evs).unwrap();
        assert_eq!(evs.len(), 3, "{v}");
        assert_eq!(v[0]["type"], "agent.tool.requested");
        assert_eq!(v[1]["data"]["status"], "ok");
        // The change is announced as the tool completes, with the harness's diff.
        assert_eq!(v[2]["type"], "agent.file.changed");
        assert_eq!(v[2]["data"]["path"], "hello.txt");
        assert_eq!(v[2]["data"]["change"], "added");
        assert_eq!(
            v[2]["data"]["diff"],
            "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1,1 @@\n+hi\n"
        );
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
        let evs: Vec<EventBody> = m.step(&steps(r#"{"type":"step","step":{"id":"t:2","type":"TOOL_CALL","source":"MODEL","status":"DONE","tool_calls":[{"name":"run_command","args":{"exit_code":0},"id":"t:2"}]}}"#)[0]).into_iter().map(|e| e.body).collect();
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

    /// The SDK's own samples (vendors/antigravity/samples) in the bridge's `step` wrapping.
    fn sample_steps(sample: &str, case: Option<&str>) -> Vec<Step> {
        sample
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["driver"] == "step")
            .filter(|v| case.is_none_or(|c| v["case"] == c))
            .map(|mut v| {
                let o = v.as_object_mut().unwrap();
                o.remove("driver");
                o.remove("case");
                serde_json::from_value(v).unwrap()
            })
            .collect()
    }

    fn run(m: &mut Mapper, steps: &[Step]) -> Vec<Value> {
        steps
            .iter()
            .flat_map(|s| m.step(s))
            .map(|e| {
                let mut v = serde_json::to_value(&e.body).unwrap();
                if let Some(p) = e.parent {
                    v["parentToolCallId"] = json!(p);
                }
                v
            })
            .collect()
    }

    #[test]
    fn thoughts_are_reasoning_not_output() {
        let mut m = Mapper::new("/w".into());
        let evs = run(
            &mut m,
            &sample_steps(include_str!("testdata/sdk_thinking_steps.jsonl"), None),
        );
        let of = |t: &str| -> Vec<&Value> { evs.iter().filter(|e| e["type"] == t).collect() };
        assert_eq!(
            of("agent.reasoning.delta")[0]["data"]["text"],
            "Let me think about 2+2."
        );
        assert_eq!(of("agent.reasoning").len(), 1);
        assert_eq!(
            of("agent.reasoning")[0]["data"]["text"],
            "Let me think about 2+2."
        );
        assert!(of("agent.output.delta").iter().all(|d| !d["data"]["text"]
            .as_str()
            .unwrap()
            .is_empty()
            && d["data"].get("vendor").is_none()));
        let first = |t: &str| evs.iter().position(|e| e["type"] == t).unwrap();
        assert!(first("agent.reasoning") < first("agent.output.delta"));
        assert!(!m.last_message.unwrap().contains("think"));
    }

    #[test]
    fn a_retryable_429_is_a_retry_and_the_last_error_is_the_failure() {
        let mut m = Mapper::new("/w".into());
        let evs = run(
            &mut m,
            &sample_steps(
                include_str!("testdata/sdk_error_cases.jsonl"),
                Some("mock_http_429b"),
            ),
        );
        let retries: Vec<&Value> = evs.iter().filter(|e| e["type"] == "agent.retry").collect();
        assert_eq!(retries.len(), 1, "{evs:?}");
        assert_eq!(retries[0]["data"]["attempt"], 1);
        assert_eq!(retries[0]["data"]["httpStatus"], 429);
        assert_eq!(retries[0]["data"]["reason"], "rateLimit");
        let (code, message) = m.last_api_error.unwrap();
        assert_eq!(code, 429);
        assert!(message.contains("model unreachable"), "{message}");
    }

    #[test]
    fn a_child_trajectory_is_a_sub_agent_of_its_invoke_call() {
        let mut m = Mapper::new("/w".into());
        let lines = concat!(
            r#"{"type":"step","step":{"id":"p:1","trajectory_id":"p","type":"TOOL_CALL","source":"MODEL","status":"ACTIVE","tool_calls":[{"name":"invoke_subagent","args":{"task":"count files"},"id":"p:1"}]}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"c:0","trajectory_id":"c","parent_trajectory_id":"p","depth":1,"type":"THINKING","source":"MODEL","status":"ACTIVE","thinking_delta":"hmm"}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"c:1","trajectory_id":"c","parent_trajectory_id":"p","depth":1,"type":"TOOL_CALL","source":"MODEL","status":"DONE","tool_calls":[{"name":"list_dir","args":{},"id":"c:1"}]}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"c:2","trajectory_id":"c","parent_trajectory_id":"p","depth":1,"type":"TEXT_RESPONSE","source":"MODEL","status":"ACTIVE","content":"3 fi","content_delta":"3 fi"}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"c:2","trajectory_id":"c","parent_trajectory_id":"p","depth":1,"type":"TEXT_RESPONSE","source":"MODEL","status":"DONE","content":"3 files"}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"p:1","trajectory_id":"p","type":"TOOL_CALL","source":"MODEL","status":"DONE","tool_calls":[{"name":"invoke_subagent","args":{"task":"count files"},"id":"p:1"}]}}"#,
            "\n",
            r#"{"type":"step","step":{"id":"p:2","trajectory_id":"p","type":"TEXT_RESPONSE","source":"MODEL","status":"DONE","content":"There are 3."}}"#,
            "\n",
        );
        let evs = run(&mut m, &steps(lines));
        let types: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            vec![
                "agent.tool.requested",
                "agent.subagent.started",
                "agent.reasoning.delta",
                "agent.tool.requested",
                "agent.tool.completed",
                "agent.message",
                "agent.tool.completed",
                "agent.subagent.completed",
                "agent.message",
            ]
        );
        // Everything between the brackets carries the invoke_subagent call; the rest does not.
        for (i, e) in evs.iter().enumerate() {
            let inside = (1..=5).contains(&i) || i == 7;
            assert_eq!(e.get("parentToolCallId").is_some(), inside, "{i}: {e}");
        }
        assert_eq!(evs[1]["data"]["subagentId"], "c");
        assert_eq!(evs[1]["data"]["parentToolCallId"], "p:1");
        assert_eq!(evs[1]["data"]["description"], "count files");
        assert_eq!(evs[7]["data"]["status"], "completed");
        assert_eq!(m.last_message.as_deref(), Some("There are 3."));
        assert!(m.pending_subagents().is_empty());
        // A compaction step, seen twice, is one event.
        let compaction = r#"{"type":"step","step":{"id":"p:3","trajectory_id":"p","type":"COMPACTION","source":"SYSTEM","status":"DONE"}}"#;
        let evs = run(&mut m, &steps(&format!("{compaction}\n{compaction}\n")));
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0]["type"], "agent.context.compacted");
        assert_eq!(evs[0]["data"]["trigger"], "auto");
    }

    /// The pinned SDK (0.1.22, as the e2e test sees it): invoke_subagent is done before its child
    /// shows up; each child belongs to its own call; one ends at its complete response, the
    /// other when the harness tells the parent it went idle.
    #[test]
    fn background_sub_agents_belong_to_their_calls_and_end_on_their_own() {
        let mut m = Mapper::new("/w".into());
        let invoke = |n: u32, status: &str| {
            format!(
                r#"{{"type":"step","step":{{"id":"p:{n}","trajectory_id":"p","type":"TOOL_CALL","source":"MODEL","status":"{status}","tool_calls":[{{"name":"invoke_subagent","id":"p:{n}"}}]}}}}"#
            )
        };
        let child = |c: &str, rest: &str| {
            format!(
                r#"{{"type":"step","step":{{"id":"{c}:1","trajectory_id":"{c}","parent_trajectory_id":"p","type":"TEXT_RESPONSE","source":"MODEL",{rest}}}}}"#
            )
        };
        let lines = [
            invoke(1, "ACTIVE"),
            invoke(1, "DONE"),
            child("a", r#""status":"ACTIVE","content":"A","content_delta":"A""#),
            invoke(2, "ACTIVE"),
            invoke(2, "DONE"),
            child("b", r#""status":"ACTIVE","content":"B","content_delta":"B""#),
            child("a", r#""status":"DONE","content":"A done","is_complete_response":true"#),
            r#"{"type":"step","step":{"id":"p:3","trajectory_id":"p","type":"TEXT_RESPONSE","source":"SYSTEM","status":"DONE","content":"[Message] timestamp=2026-11-30T21:22:05Z sender=system priority=MESSAGE_PRIORITY_HIGH content=Subagent b has gone idle. This was the subagent's most recent response: B"}}"#.to_string(),
        ]
        .join("\n");
        let evs = run(&mut m, &steps(&lines));
        let brackets: Vec<(String, String, String)> = evs
            .iter()
            .filter(|e| e["type"].as_str().unwrap().starts_with("agent.subagent."))
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["data"]["subagentId"].as_str().unwrap().to_string(),
                    e["parentToolCallId"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let b = |t: &str, c: &str, p: &str| (format!("agent.subagent.{t}"), c.into(), p.into());
        assert_eq!(
            brackets,
            vec![
                b("started", "a", "p:1"),
                b("started", "b", "p:2"),
                b("completed", "a", "p:1"),
                b("completed", "b", "p:2"),
            ]
        );
        // A child's answer is its message, inside its bracket, never output.
        let a_msg = evs
            .iter()
            .position(|e| e["type"] == "agent.message")
            .unwrap();
        assert_eq!(evs[a_msg]["parentToolCallId"], "p:1");
        assert!(evs.iter().all(|e| e["type"] != "agent.output.delta"));
        assert!(m.last_message.is_none());
        assert!(m.pending_subagents().is_empty());
        assert_eq!(
            idle_subagent("content=Subagent x1 has gone idle. This"),
            Some("x1")
        );
        assert_eq!(idle_subagent("Subagent  has gone idle"), None);
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
