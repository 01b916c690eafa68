//! The CLI's stdout lines → our events, and its `result` line → our AgentResult.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use super::artifacts::{self, Artifacts};
use super::events::{self as richer, Subagents};
use super::wire::{str_at, tool_result_text};
use crate::protocol::event::{EventBody, TaskStarted, TextData, ToolRequested, VendorTurn};
use crate::protocol::result::{
    AgentResult, ExitInfo, FinishReason, TaskError, TaskErrorKind, ToolCallRecord, ToolStatus,
    Usage,
};
use crate::protocol::task::AgentTask;
use crate::runtime::{tool_calls, EventSink};

/// What the run loop should do after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// The API rejected the credentials and the CLI is about to retry (it retries 401s, with
    /// back-off, up to CLAUDE_CODE_MAX_RETRIES times): stop the turn now, it cannot succeed.
    AuthFailed,
}

/// An API error the CLI reported on a (synthetic) assistant message.
#[derive(Debug, Clone, Default)]
struct ApiError {
    /// The CLI's classification: `authentication_failed`, `rate_limit`, `model_not_found`, ...
    code: Option<String>,
    status: Option<u64>,
    text: String,
}

struct PendingTool {
    name: String,
    input: Value,
    began: Instant,
    /// For file tools: the target, and whether it existed when the call was requested.
    file: Option<(String, bool)>,
    /// The sub-agent's tool call this call was made in, if any.
    parent: Option<String>,
}

pub struct Mapper {
    wd: PathBuf,
    task: AgentTask,
    session_id: Option<String>,
    model: Option<String>,
    permission_mode: Option<String>,
    claude_version: Option<String>,
    /// The last assistant text of the main agent (not of sub-agents, not API error notices).
    last_text: String,
    turns: u32,
    usage: Usage,
    /// Usage of the model turn being streamed (main agent only).
    turn_usage: Option<(String, Usage)>,
    tools: HashMap<String, PendingTool>,
    /// Tool calls we denied through `can_use_tool`, with the message.
    denied: HashMap<String, String>,
    tool_calls: Vec<ToolCallRecord>,
    artifacts: Artifacts,
    api_error: Option<ApiError>,
    /// The HTTP status of a 401/403 retry notice, when one was seen.
    auth_retry: Option<u64>,
    seen_messages: HashSet<String>,
    /// Sub-agents started and not yet ended, and the other richer-turn state.
    subagents: Subagents,
    /// Retry notices seen (a `rate_limit_event` has no attempt number of its own).
    retries: u32,
    /// Models already reported through `agent.status { kind: model }`.
    models_reported: HashSet<String>,
}

impl Mapper {
    pub fn new(task: &AgentTask, wd: PathBuf) -> Self {
        Mapper {
            wd,
            task: task.clone(),
            session_id: None,
            model: None,
            permission_mode: None,
            claude_version: None,
            last_text: String::new(),
            turns: 0,
            usage: Usage::default(),
            turn_usage: None,
            tools: HashMap::new(),
            denied: HashMap::new(),
            tool_calls: vec![],
            artifacts: Artifacts::default(),
            api_error: None,
            auth_retry: None,
            seen_messages: HashSet::new(),
            subagents: Subagents::default(),
            retries: 0,
            models_reported: HashSet::new(),
        }
    }

    /// The sub-agents (by the tool call that started them) that have not ended yet. Claude Code
    /// runs its `Agent` tool in the background: the main `result` can come before them, and the
    /// turn is not over until this is empty (the turn loop, turn.rs, reads on after a `result`).
    pub fn pending_subagents(&self) -> Vec<String> {
        self.subagents.pending()
    }

    #[cfg(test)]
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// A `can_use_tool` we answered with deny: its tool_result is then reported as `denied`.
    pub fn note_denied(&mut self, tool_use_id: &str, message: &str) {
        self.denied
            .insert(tool_use_id.to_string(), message.to_string());
    }

    pub fn auth_retry(&self) -> Option<u64> {
        self.auth_retry
    }

    pub async fn on_line(&mut self, events: &EventSink, v: &Value) -> Action {
        match v["type"].as_str().unwrap_or_default() {
            "system" => return self.on_system(events, v).await,
            "rate_limit_event" => self.on_rate_limit(events, v).await,
            "stream_event" => self.on_stream_event(events, v).await,
            "assistant" => self.on_assistant(events, v).await,
            "user" => self.on_user(events, v).await,
            _ => {}
        }
        Action::Continue
    }

    async fn on_system(&mut self, events: &EventSink, v: &Value) -> Action {
        match v["subtype"].as_str().unwrap_or_default() {
            // Re-sent at the start of every turn with the same id: only the first counts.
            "init" if self.session_id.is_none() => {
                self.session_id = str_at(v, "/session_id").map(str::to_string);
                self.model = str_at(v, "/model").map(str::to_string);
                self.permission_mode = str_at(v, "/permissionMode").map(str::to_string);
                self.claude_version = str_at(v, "/claude_code_version").map(str::to_string);
                events
                    .emit(EventBody::TaskStarted(TaskStarted {
                        runtime: super::NAME.into(),
                        model: self.model.clone().or_else(|| self.task.model.clone()),
                        working_directory: self.wd.display().to_string(),
                        permissions: self.task.permissions(),
                        session_id: self.session_id.clone(),
                        metadata: self.task.metadata.clone(),
                        vendor: Some(json!({
                            "permissionMode": v["permissionMode"],
                            "tools": v["tools"],
                            "mcpServers": v["mcp_servers"],
                            "additionalDirectories": v["additional_directories"],
                            "claudeCodeVersion": v["claude_code_version"],
                            "apiKeySource": v["apiKeySource"],
                        })),
                    }))
                    .await;
                for status in richer::failed_mcp_servers(&v["mcp_servers"]) {
                    events.emit(EventBody::Status(status)).await;
                }
                if let (Some(asked), Some(got)) = (self.task.model.as_deref(), &self.model) {
                    if let Some(status) = richer::rerouted(asked, got, "init") {
                        self.models_reported.insert(got.clone());
                        events.emit(EventBody::Status(status)).await;
                    }
                }
            }
            "api_retry" => {
                let status = v["error_status"].as_u64();
                if v["error"] == "authentication_failed" || matches!(status, Some(401 | 403)) {
                    self.auth_retry = Some(status.unwrap_or(401));
                    return Action::AuthFailed;
                }
                self.retries += 1;
                events
                    .emit(EventBody::Retry(richer::api_retry(v, self.retries)))
                    .await;
            }
            // A mode change after the start (ExitPlanMode, a host's set_permission_mode).
            "status" => {
                if let Some(mode) = v["permissionMode"].as_str() {
                    if self.session_id.is_some() && self.permission_mode.as_deref() != Some(mode) {
                        events
                            .emit(EventBody::Status(richer::permission_mode(mode)))
                            .await;
                    }
                    self.permission_mode = Some(mode.to_string());
                }
            }
            // The CLI's own warnings (e.g. auto mode refusing everything behind a gateway).
            "informational" => {
                if let Some(status) = richer::informational(v) {
                    events.emit(EventBody::Status(status)).await;
                }
            }
            "compact_boundary" => {
                events
                    .emit(EventBody::ContextCompacted(richer::compacted(
                        &v["compact_metadata"],
                    )))
                    .await;
            }
            "task_started" => {
                if let Some(started) = self.subagents.started(v) {
                    let parent = started.parent_tool_call_id.clone();
                    events
                        .emit_within(Some(&parent), EventBody::SubagentStarted(started))
                        .await;
                }
            }
            "task_notification" => {
                if let Some(done) = self.subagents.completed(v) {
                    let parent = done.parent_tool_call_id.clone();
                    events
                        .emit_within(Some(&parent), EventBody::SubagentCompleted(done))
                        .await;
                }
            }
            _ => {}
        }
        Action::Continue
    }

    /// `rate_limit_event`: the subscription's rate-limit state. `rejected` means the CLI waits for
    /// the window to reset (an `agent.retry`); `allowed_warning` is a warning; `allowed` is news to
    /// nobody.
    async fn on_rate_limit(&mut self, events: &EventSink, v: &Value) {
        let info = &v["rate_limit_info"];
        match info["status"].as_str().unwrap_or_default() {
            "rejected" => {
                self.retries += 1;
                let retry = richer::rate_limited(info, self.retries, richer::now_secs());
                events.emit(EventBody::Retry(retry)).await;
            }
            "allowed_warning" => {
                events
                    .emit(EventBody::Status(richer::rate_limit_warning(info)))
                    .await;
            }
            _ => {}
        }
    }

    async fn on_stream_event(&mut self, events: &EventSink, v: &Value) {
        if !v["parent_tool_use_id"].is_null() {
            return;
        }
        let ev = &v["event"];
        match ev["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let id = str_at(ev, "/message/id").unwrap_or_default().to_string();
                let u = &ev["message"]["usage"];
                self.turn_usage = Some((id, usage_of(u)));
            }
            "content_block_delta" if ev["delta"]["type"] == "thinking_delta" => {
                if let Some(text) = ev["delta"]["thinking"].as_str() {
                    events
                        .emit(EventBody::ReasoningDelta(TextData {
                            text: text.to_string(),
                            vendor: None,
                        }))
                        .await;
                }
            }
            "content_block_delta" if ev["delta"]["type"] == "text_delta" => {
                if let Some(text) = ev["delta"]["text"].as_str() {
                    events
                        .emit(EventBody::OutputDelta(TextData {
                            text: text.to_string(),
                            vendor: None,
                        }))
                        .await;
                }
            }
            "message_delta" => {
                if let (Some((_, u)), Some(out)) = (
                    self.turn_usage.as_mut(),
                    ev["usage"]["output_tokens"].as_u64(),
                ) {
                    u.output_tokens = out;
                }
            }
            "message_stop" => {
                if let Some((id, u)) = self.turn_usage.take() {
                    self.turns += 1;
                    self.usage.input_tokens += u.input_tokens;
                    self.usage.output_tokens += u.output_tokens;
                    self.usage.cached_input_tokens += u.cached_input_tokens;
                    events
                        .emit(EventBody::VendorTurn(VendorTurn {
                            turn: self.turns,
                            usage: self.usage.clone(),
                            vendor_turn_id: (!id.is_empty()).then_some(id),
                            // The CLI puts `abandoned_blocks` on the line itself, beside the event,
                            // when an interrupt cut the streamed message short (04_interrupt).
                            vendor: v.get("abandoned_blocks").map(|_| json!({"aborted": true})),
                        }))
                        .await;
                }
            }
            _ => {}
        }
    }

    async fn on_assistant(&mut self, events: &EventSink, v: &Value) {
        let parent = v["parent_tool_use_id"].as_str().map(str::to_string);
        let main_agent = parent.is_none();
        let msg = &v["message"];
        if let Some(code) = v["error"].as_str() {
            // An API failure the CLI turned into a synthetic assistant message: not model output.
            let text = msg["content"][0]["text"].as_str().unwrap_or_default();
            self.api_error = Some(ApiError {
                code: Some(code.to_string()),
                status: v["api_error_status"].as_u64(),
                text: text.to_string(),
            });
            return;
        }
        if let Some(id) = msg["id"].as_str() {
            self.seen_messages.insert(id.to_string());
        }
        if let Some(parent) = &parent {
            // A sub-agent's first message can come before its `task_started` (or without one).
            if let Some(started) = self.subagents.seen_message(parent, v) {
                events
                    .emit_within(Some(parent), EventBody::SubagentStarted(started))
                    .await;
            }
        } else {
            self.note_model(events, msg["model"].as_str()).await;
        }
        let within = parent.as_deref();
        for block in msg["content"].as_array().into_iter().flatten() {
            match block["type"].as_str().unwrap_or_default() {
                "text" => {
                    let text = block["text"].as_str().unwrap_or_default().to_string();
                    if text.is_empty() {
                        continue;
                    }
                    if main_agent {
                        self.last_text = text.clone();
                    }
                    // A sub-agent's text is its own message, marked with its parent: never the
                    // main output.
                    events
                        .emit_within(
                            within,
                            EventBody::Message(TextData {
                                text,
                                vendor: v.get("aborted").map(|a| json!({ "aborted": a })),
                            }),
                        )
                        .await;
                }
                "thinking" => {
                    let text = block["thinking"].as_str().unwrap_or_default();
                    if !text.is_empty() {
                        events
                            .emit_within(
                                within,
                                EventBody::Reasoning(TextData {
                                    text: text.to_string(),
                                    vendor: None,
                                }),
                            )
                            .await;
                    }
                }
                "tool_use" => {
                    let id = block["id"].as_str().unwrap_or_default().to_string();
                    let name = block["name"].as_str().unwrap_or_default().to_string();
                    let input = block["input"].clone();
                    let file = artifacts::target(&name, &input).map(|f| {
                        let existed = self.wd.join(&f).exists();
                        (f, existed)
                    });
                    events
                        .emit_within(
                            within,
                            EventBody::ToolRequested(ToolRequested {
                                tool_call_id: id.clone(),
                                name: name.clone(),
                                input: input.clone(),
                                vendor: (!main_agent)
                                    .then(|| json!({ "parentToolUseId": v["parent_tool_use_id"] })),
                            }),
                        )
                        .await;
                    if let Some(plan) = richer::plan_of(&name, &input) {
                        events
                            .emit_within(within, EventBody::PlanUpdated(plan))
                            .await;
                    }
                    if richer::is_subagent_tool(&name) {
                        self.subagents.requested(&id, &input);
                    }
                    self.tools.insert(
                        id,
                        PendingTool {
                            name,
                            input,
                            began: Instant::now(),
                            file,
                            parent: parent.clone(),
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// Reports a model other than the one the session started with (a fallback or reroute), once.
    async fn note_model(&mut self, events: &EventSink, model: Option<&str>) {
        let (Some(model), Some(init)) = (model, self.model.as_deref()) else {
            return;
        };
        // `<synthetic>`: the CLI's own messages (errors, local commands), not a model.
        if model == init || model.starts_with('<') || self.models_reported.contains(model) {
            return;
        }
        if let Some(status) = richer::rerouted(init, model, "message") {
            self.models_reported.insert(model.to_string());
            events.emit(EventBody::Status(status)).await;
        }
    }

    async fn on_user(&mut self, events: &EventSink, v: &Value) {
        let Some(blocks) = v["message"]["content"].as_array() else {
            return;
        };
        for block in blocks.iter().filter(|b| b["type"] == "tool_result") {
            let id = block["tool_use_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let pending = self.tools.remove(&id);
            let parent = pending
                .as_ref()
                .and_then(|p| p.parent.clone())
                .or_else(|| v["parent_tool_use_id"].as_str().map(str::to_string));
            let is_error = block["is_error"].as_bool().unwrap_or(false);
            let rejected = v["tool_result_meta"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| {
                    m["id"] == id.as_str()
                        && (m["permission_decision"]["decision"] == "reject"
                            || m.get("non_execution_kind").is_some())
                });
            let status = if self.denied.contains_key(&id) || (is_error && rejected) {
                ToolStatus::Denied
            } else if is_error {
                ToolStatus::Error
            } else {
                ToolStatus::Ok
            };
            let output = tool_result_text(&block["content"]);
            let (name, input, began) = match &pending {
                Some(p) => (p.name.clone(), p.input.clone(), Some(p.began)),
                None => (String::new(), Value::Null, None),
            };
            if status == ToolStatus::Ok {
                if let Some((file, existed)) = pending.as_ref().and_then(|p| p.file.as_ref()) {
                    let result = &v["tool_use_result"];
                    let change = self.artifacts.record(&self.wd, file, *existed, result);
                    // As soon as known, before the tool's completion (the end-of-turn listing
                    // then skips the path); a sub-agent's write carries its parent.
                    let event = artifacts::file_event(&self.wd, file, change, result);
                    events
                        .emit_within(parent.as_deref(), EventBody::FileChanged(event))
                        .await;
                }
            }
            let duration_ms = began.map(|b| b.elapsed().as_millis() as u64).unwrap_or(0);
            let completed = tool_calls::complete(
                &mut self.tool_calls,
                (id.clone(), name, input),
                (status, output),
                duration_ms,
            );
            events
                .emit_within(parent.as_deref(), EventBody::ToolCompleted(completed))
                .await;
            // A sub-agent tool that ran in the foreground is over when its result is in; one
            // launched in the background ends with its `task_notification`.
            if let Some(done) = self
                .subagents
                .tool_result(&id, status, &v["tool_use_result"])
            {
                events
                    .emit_within(Some(&id), EventBody::SubagentCompleted(done))
                    .await;
            }
        }
    }

    /// The task's result from the CLI's `result` line (or from what was seen, when there is none).
    pub fn finish(self, result: Option<&Value>, exit: &ExitInfo) -> AgentResult {
        let mut r = AgentResult {
            session_id: self.session_id.clone(),
            turns: self.turns,
            usage: self.usage.clone(),
            output: self.last_text.clone(),
            ..Default::default()
        };
        if let (Some(asked), Some(got)) = (self.task.resume(), &r.session_id) {
            r.session_changed = asked != got;
        }
        match result {
            Some(res) => self.apply_result(&mut r, res),
            None => {
                let mut message = match (exit.code, exit.signal) {
                    (_, Some(sig)) => format!("the claude CLI was killed by signal {sig}"),
                    (Some(code), _) => format!("the claude CLI exited with code {code}"),
                    _ => "the claude CLI ended".to_string(),
                };
                message.push_str(" without a result");
                if let Some(last) = exit.stderr_tail.last() {
                    message.push_str(": ");
                    message.push_str(last);
                }
                r.finish_reason = FinishReason::Error;
                r.error = Some(match &self.api_error {
                    Some(api) => api_task_error(api, None),
                    None => TaskError::new(TaskErrorKind::Process, message),
                });
            }
        }
        r.exit = Some(exit.clone());
        r.tool_calls = self.tool_calls;
        r.artifacts = self.artifacts.into_list(&self.wd);
        r
    }

    fn apply_result(&self, r: &mut AgentResult, res: &Value) {
        let subtype = res["subtype"].as_str().unwrap_or_default();
        let is_error = res["is_error"].as_bool().unwrap_or(true);
        if let Some(n) = res["num_turns"].as_u64() {
            r.turns = n as u32;
        }
        if let Some(u) = res.get("usage").filter(|u| u.is_object()) {
            r.usage = usage_of(u);
        }
        r.usage.cost_usd = run_cost(res);
        r.vendor = Some(json!({
            "subtype": subtype,
            "terminalReason": res["terminal_reason"],
            "stopReason": res["stop_reason"],
            "sessionCostUsd": res["total_cost_usd"],
            "permissionDenials": res["permission_denials"],
            "claudeCodeVersion": self.claude_version,
            "permissionMode": self.permission_mode,
        }));
        r.structured_output = res.get("structured_output").cloned();
        let errors = res["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        if !is_error && subtype == "success" {
            if let Some(text) = res["result"].as_str().filter(|t| !t.is_empty()) {
                r.output = text.to_string();
            }
            if self.task.output_schema.is_some() && r.structured_output.is_none() {
                // The CLI validates StructuredOutput calls itself and re-asks once; a model that
                // still does not comply ends in "success" without the output. Say why.
                let mut message = "the model did not produce structured output matching \
                                   outputSchema"
                    .to_string();
                if let Some(last) = self
                    .tool_calls
                    .iter()
                    .rev()
                    .find(|c| c.name == "StructuredOutput" && c.status == ToolStatus::Error)
                {
                    if let Some(why) = last.output.as_ref().and_then(Value::as_str) {
                        message.push_str(": ");
                        message.push_str(why);
                    }
                }
                r.finish_reason = FinishReason::Error;
                r.error = Some(TaskError::new(TaskErrorKind::Schema, message));
                return;
            }
            r.finish_reason = FinishReason::Completed;
            return;
        }
        let vendor_code = json!({
            "subtype": subtype,
            "terminalReason": res["terminal_reason"],
            "apiErrorStatus": res["api_error_status"],
            "apiErrorType": res["api_error_type"],
        });
        let (reason, mut error) = match subtype {
            "error_max_turns" => (
                FinishReason::MaxTurns,
                TaskError::new(
                    TaskErrorKind::MaxTurns,
                    non_empty(errors, "the task reached maxTurns"),
                ),
            ),
            "error_max_budget_usd" => (
                FinishReason::Budget,
                TaskError::new(
                    TaskErrorKind::Budget,
                    non_empty(errors, "the task reached maxBudgetUsd"),
                ),
            ),
            "error_during_execution" => {
                let message = if errors.is_empty() {
                    "the claude CLI failed during execution".to_string()
                } else {
                    errors
                };
                (
                    FinishReason::Error,
                    TaskError::new(TaskErrorKind::Vendor, message),
                )
            }
            // `is_error: true` inside `subtype: "success"`: an API or auth failure.
            _ => {
                let api = self.api_error.clone().unwrap_or_default();
                let api = ApiError {
                    code: api.code,
                    status: res["api_error_status"].as_u64().or(api.status),
                    text: res["result"]
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .unwrap_or(api.text),
                };
                (
                    FinishReason::Error,
                    api_task_error(&api, res["api_error_type"].as_str()),
                )
            }
        };
        error.vendor_code = Some(vendor_code);
        r.finish_reason = reason;
        r.error = Some(error);
    }
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s
    }
}

/// Classifies an API failure by every signal the CLI gives (status, error type, its own code).
fn api_task_error(api: &ApiError, error_type: Option<&str>) -> TaskError {
    let code = api.code.as_deref().unwrap_or_default();
    let kind = match (api.status, error_type, code) {
        (Some(401 | 403), _, _)
        | (_, Some("authentication_error" | "permission_error"), _)
        | (_, _, "authentication_failed" | "billing_error") => TaskErrorKind::Auth,
        (Some(429), _, _) | (_, Some("rate_limit_error"), _) | (_, _, "rate_limit") => {
            TaskErrorKind::RateLimit
        }
        (Some(404), _, _) | (_, Some("not_found_error"), _) | (_, _, "model_not_found") => {
            TaskErrorKind::Model
        }
        _ => TaskErrorKind::Vendor,
    };
    let message = if api.text.is_empty() {
        format!("the API call failed ({})", code)
    } else {
        api.text.clone()
    };
    let mut e = TaskError::new(kind, message);
    e.vendor_code = Some(json!({ "apiErrorStatus": api.status, "error": api.code }));
    e
}

/// Anthropic usage → ours. `inputTokens` counts every input token (fresh, cache writes and cache
/// reads), `cachedInputTokens` the cache reads among them, as the other runtimes report it.
fn usage_of(u: &Value) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    Usage {
        input_tokens: n("input_tokens")
            + n("cache_creation_input_tokens")
            + n("cache_read_input_tokens"),
        output_tokens: n("output_tokens"),
        cached_input_tokens: n("cache_read_input_tokens"),
        cost_usd: None,
    }
}

/// This run's cost. `total_cost_usd` is cumulative over the whole session (it includes the runs
/// before a resume), so prefer the per-result breakdown.
fn run_cost(res: &Value) -> Option<f64> {
    if let Some(per_model) = res["model_usage_since_last_result"].as_object() {
        let costs: Vec<f64> = per_model
            .values()
            .filter_map(|m| m["costUSD"].as_f64())
            .collect();
        if !costs.is_empty() {
            return Some(costs.iter().sum());
        }
    }
    res["total_cost_usd"].as_f64()
}

/// The error of a run stopped early because the API refused the credentials.
pub fn auth_error(status: u64) -> TaskError {
    let mut e = TaskError::new(
        TaskErrorKind::Auth,
        format!(
            "the Anthropic API rejected the credentials (HTTP {status}); the run was stopped \
             instead of waiting out the CLI's retries"
        ),
    );
    e.vendor_code = Some(json!({ "apiErrorStatus": status, "error": "authentication_failed" }));
    e
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
