//! Codex app-server notifications → our events, and the running totals a result is built from.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{json, Value};

use super::artifacts;
use super::events::{self as richer, Activity, Collab};
use crate::protocol::event::{
    CompactionTrigger, ContextCompacted, EventBody, TextData, ToolOutputDelta, ToolRequested,
    VendorTurn,
};
use crate::protocol::result::{ArtifactChange, ToolCallRecord, ToolStatus, Usage};
use crate::runtime::{tool_calls, EventSink};

/// What the run loop should do after a notification.
#[derive(Debug)]
pub enum Flow {
    Continue,
    /// Our turn ended (`turn/completed`); the turn object.
    TurnCompleted(Value),
    /// One more model request would exceed `maxTurns`.
    MaxTurnsReached,
}

/// The params of an `item/agentMessage/delta` notification, read typed and borrowed: a streamed
/// answer is thousands of them. Only the fields the `Value` way reads; others are skipped.
#[derive(Deserialize)]
pub struct AgentDelta<'a> {
    #[serde(rename = "turnId", default, borrow)]
    pub turn_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub delta: Cow<'a, str>,
}

impl AgentDelta<'_> {
    pub const METHOD: &'static str = "item/agentMessage/delta";
}

/// Tools seen so far, by item id: name and input (the approval handler reads them).
pub type ToolIndex = Arc<Mutex<HashMap<String, (String, Value)>>>;

/// Token counts as codex reports them (`TokenUsageBreakdown`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Tokens {
    total: u64,
    input: u64,
    cached: u64,
    output: u64,
}

impl Tokens {
    fn of(v: &Value) -> Tokens {
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Tokens {
            total: n("totalTokens"),
            input: n("inputTokens"),
            cached: n("cachedInputTokens"),
            output: n("outputTokens"),
        }
    }
    fn minus(self, o: Tokens) -> Tokens {
        Tokens {
            total: self.total.saturating_sub(o.total),
            input: self.input.saturating_sub(o.input),
            cached: self.cached.saturating_sub(o.cached),
            output: self.output.saturating_sub(o.output),
        }
    }
}

pub struct TurnState {
    events: EventSink,
    /// The working directory: `agent.file.changed` paths are relative to it.
    wd: PathBuf,
    pub turn_id: Option<String>,
    /// The last complete assistant message.
    pub last_message: Option<String>,
    pub tool_calls: Vec<ToolCallRecord>,
    open: HashMap<String, Instant>,
    /// Tool items of collab sub-agents not completed yet, since when (for their records).
    subagent_open: HashMap<String, Instant>,
    pub tools: ToolIndex,
    /// Files codex's fileChange items reported, as given (absolute paths).
    pub patched: Vec<(PathBuf, ArtifactChange)>,
    /// The thread's total before this task's first model request, and the latest total.
    baseline: Option<Tokens>,
    latest: Option<Tokens>,
    /// Model responses in this task.
    pub responses: u32,
    tools_since_response: u32,
    max_turns: Option<u32>,
    /// Since when codex has been retrying without progress, and why.
    pub retrying_since: Option<Instant>,
    pub retry_message: Option<String>,
    /// The last non-retried `error` notification.
    pub last_error: Option<Value>,
    /// `error {willRetry}` notifications so far (the attempt number of the next `agent.retry`).
    retries: u32,
    /// The last rate-limit level reported (see [`richer::rate_limit_level`]).
    rate_limit_level: u8,
    /// Collab sub-agents by their threads.
    collab: Collab,
}

impl TurnState {
    pub fn new(events: EventSink, wd: PathBuf, max_turns: Option<u32>) -> Self {
        TurnState {
            events,
            wd,
            turn_id: None,
            last_message: None,
            tool_calls: vec![],
            open: HashMap::new(),
            subagent_open: HashMap::new(),
            tools: ToolIndex::default(),
            patched: vec![],
            baseline: None,
            latest: None,
            responses: 0,
            tools_since_response: 0,
            max_turns,
            retrying_since: None,
            retry_message: None,
            last_error: None,
            retries: 0,
            rate_limit_level: 0,
            collab: Collab::default(),
        }
    }

    /// The collab sub-agents (by the tool call that spawned them) not seen to end: codex ends
    /// the parent's turn without waiting for them, so the turn loop does.
    pub fn pending_subagents(&self) -> Vec<String> {
        self.collab.pending()
    }

    /// What this task used: the thread's total now minus its total before the task's first request
    /// (so a resumed thread's history is not counted, and repeated updates do not double-count).
    pub fn usage(&self) -> Usage {
        let (Some(base), Some(latest)) = (self.baseline, self.latest) else {
            return Usage::default();
        };
        let d = latest.minus(base);
        Usage {
            input_tokens: d.input,
            output_tokens: d.output,
            cached_input_tokens: d.cached,
            cost_usd: None,
        }
    }

    fn progress(&mut self) {
        self.retrying_since = None;
    }

    /// An `item/agentMessage/delta` read typed: what [`on_notification`](Self::on_notification)
    /// does with the same notification read as a `Value`.
    pub async fn on_agent_delta(&mut self, d: AgentDelta<'_>) {
        let ours = match (d.turn_id.as_deref(), &self.turn_id) {
            (Some(t), Some(mine)) => t == mine,
            _ => true,
        };
        if ours {
            self.progress();
            self.events
                .emit(EventBody::OutputDelta(TextData {
                    text: d.delta.into_owned(),
                    vendor: None,
                }))
                .await;
        }
    }

    pub async fn on_notification(&mut self, method: &str, params: &Value) -> Flow {
        let ours = |p: &Value, turn_id: &Option<String>| match (p.get("turnId"), turn_id) {
            (Some(Value::String(t)), Some(mine)) => t == mine,
            _ => true,
        };
        // A collab sub-agent's thread: its events, marked with the tool call that spawned it.
        if let Some(parent) = params["threadId"]
            .as_str()
            .and_then(|t| self.collab.parent_of(t))
            .map(str::to_string)
        {
            self.on_subagent_notification(method, params, &parent).await;
            return Flow::Continue;
        }
        // A sub-agent's end is reported on the parent's thread, in whatever turn it is then
        // (after the turn we started has completed, when the parent did not wait for it).
        let item = &params["item"];
        if matches!(method, "item/started" | "item/completed")
            && item["type"] == "subAgentActivity"
            && item["kind"] != "started"
        {
            self.on_activity(item).await;
            return Flow::Continue;
        }
        match method {
            "item/reasoning/summaryTextDelta" | "item/reasoning/textDelta"
                if ours(params, &self.turn_id) =>
            {
                self.progress();
                if let Some(d) = params["delta"].as_str() {
                    self.events
                        .emit(EventBody::ReasoningDelta(TextData {
                            text: d.to_string(),
                            vendor: None,
                        }))
                        .await;
                }
            }
            "item/commandExecution/outputDelta" if ours(params, &self.turn_id) => {
                self.progress();
                if let (Some(id), Some(d)) = (params["itemId"].as_str(), params["delta"].as_str()) {
                    self.events
                        .emit(EventBody::ToolOutputDelta(ToolOutputDelta {
                            tool_call_id: id.to_string(),
                            text: d.to_string(),
                        }))
                        .await;
                }
            }
            "turn/plan/updated" if ours(params, &self.turn_id) => {
                self.events
                    .emit(EventBody::PlanUpdated(richer::plan_of(params)))
                    .await;
            }
            "model/rerouted" if ours(params, &self.turn_id) => {
                self.events
                    .emit(EventBody::Status(richer::rerouted(params)))
                    .await;
            }
            "warning" => {
                if let Some(message) = params["message"].as_str() {
                    self.events
                        .emit(EventBody::Status(crate::protocol::event::Status {
                            kind: crate::protocol::event::StatusKind::Warning,
                            message: message.to_string(),
                            data: None,
                        }))
                        .await;
                }
            }
            "mcpServer/startupStatus/updated" => {
                if let Some(status) = richer::mcp_failed(params) {
                    self.events.emit(EventBody::Status(status)).await;
                }
            }
            "account/rateLimits/updated" => {
                let limits = &params["rateLimits"];
                let level = richer::rate_limit_level(limits);
                if level != self.rate_limit_level {
                    self.rate_limit_level = level;
                    if level > 0 {
                        self.events
                            .emit(EventBody::Status(richer::rate_limit_status(limits, level)))
                            .await;
                    }
                }
            }
            "turn/started" if self.turn_id.is_none() => {
                self.turn_id = params["turn"]["id"].as_str().map(str::to_string);
            }
            "item/agentMessage/delta" if ours(params, &self.turn_id) => {
                self.progress();
                if let Some(d) = params["delta"].as_str() {
                    self.events
                        .emit(EventBody::OutputDelta(TextData {
                            text: d.to_string(),
                            vendor: None,
                        }))
                        .await;
                }
            }
            "item/started" if ours(params, &self.turn_id) => {
                self.progress();
                let item = &params["item"];
                if let Some((id, name, input)) = tool_of(item) {
                    self.tools_since_response += 1;
                    self.request_tool(&id, &name, &input, item).await;
                    if item["type"] == "subAgentActivity" {
                        self.on_activity(item).await;
                    }
                    if self.over_max_turns(self.responses) {
                        return Flow::MaxTurnsReached;
                    }
                }
            }
            "item/completed" if ours(params, &self.turn_id) => {
                self.progress();
                self.item_completed(&params["item"]).await;
            }
            "thread/tokenUsage/updated" if ours(params, &self.turn_id) => {
                self.progress();
                let usage = &params["tokenUsage"];
                let total = Tokens::of(&usage["total"]);
                if self.baseline.is_none() {
                    self.baseline = Some(total.minus(Tokens::of(&usage["last"])));
                }
                // Codex repeats the last figures on some transitions (interrupt): not a new response.
                if self.latest.map(|l| l.total) != Some(total.total) {
                    self.latest = Some(total);
                    self.responses += 1;
                    self.events
                        .emit(EventBody::VendorTurn(VendorTurn {
                            turn: self.responses,
                            usage: self.usage(),
                            vendor_turn_id: params["turnId"].as_str().map(str::to_string),
                            vendor: Some(json!({ "last": usage["last"] })),
                        }))
                        .await;
                    // Codex runs a response's tools while it streams, so they come before its usage
                    // update; a response that called tools is followed by another request.
                    let called_tools = self.tools_since_response > 0;
                    self.tools_since_response = 0;
                    if called_tools && self.over_max_turns(self.responses) {
                        return Flow::MaxTurnsReached;
                    }
                }
            }
            "error" if ours(params, &self.turn_id) => {
                let message = params["error"]["message"].as_str().map(str::to_string);
                if params["willRetry"].as_bool() == Some(true) {
                    self.retrying_since.get_or_insert_with(Instant::now);
                    self.retry_message = message;
                    self.retries += 1;
                    self.events
                        .emit(EventBody::Retry(richer::retry_of(
                            &params["error"],
                            self.retries,
                        )))
                        .await;
                } else {
                    self.last_error = Some(params["error"].clone());
                }
            }
            "turn/completed" => {
                let turn = &params["turn"];
                let mine = match (&self.turn_id, turn["id"].as_str()) {
                    (Some(m), Some(t)) => m == t,
                    _ => true,
                };
                if mine {
                    self.close_open_tools(turn["status"].as_str().unwrap_or_default())
                        .await;
                    return Flow::TurnCompleted(turn.clone());
                }
            }
            _ => {}
        }
        Flow::Continue
    }

    /// Tool items that never got their `item/completed` (codex drops them when a turn is
    /// interrupted): completed here as errors, so every request has its completion.
    async fn close_open_tools(&mut self, turn_status: &str) {
        let mut open: Vec<(String, Instant)> = self.open.drain().collect();
        open.sort_by_key(|(_, began)| *began);
        for (id, began) in open {
            let (name, input) = self
                .tools
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id)
                .cloned()
                .unwrap_or_default();
            let status = if turn_status.is_empty() {
                "incomplete"
            } else {
                turn_status
            };
            let mut completed = tool_calls::complete(
                &mut self.tool_calls,
                (id, name, input),
                (ToolStatus::Error, json!({ "status": status })),
                began.elapsed().as_millis() as u64,
            );
            completed.vendor = Some(json!({ "turnStatus": turn_status }));
            self.events.emit(EventBody::ToolCompleted(completed)).await;
        }
    }

    /// A `subAgentActivity` item: `agent.subagent.started` inside the spawning call, or
    /// `agent.subagent.completed`.
    async fn on_activity(&mut self, item: &Value) {
        let (parent, body) = match self.collab.on_activity(item) {
            Some(Activity::Started(s)) => {
                (s.parent_tool_call_id.clone(), EventBody::SubagentStarted(s))
            }
            Some(Activity::Ended(s)) => (
                s.parent_tool_call_id.clone(),
                EventBody::SubagentCompleted(s),
            ),
            None => return,
        };
        self.events.emit_within(Some(&parent), body).await;
    }

    /// A notification of a collab sub-agent's thread: its messages, reasoning and tools, each
    /// marked with `parent`; never the main output. Its tool calls are in the task's records
    /// (`toolCalls` is the audit of everything the task ran, as on the other runtimes).
    async fn on_subagent_notification(&mut self, method: &str, params: &Value, parent: &str) {
        let item = &params["item"];
        let within = Some(parent);
        match method {
            "item/started" => {
                if let Some((id, name, input)) = tool_of(item) {
                    self.subagent_open.insert(id.clone(), Instant::now());
                    self.events
                        .emit_within(
                            within,
                            EventBody::ToolRequested(ToolRequested {
                                tool_call_id: id,
                                name,
                                input,
                                vendor: Some(json!({ "itemType": item["type"] })),
                            }),
                        )
                        .await;
                }
            }
            "item/completed" => {
                let body = match item["type"].as_str().unwrap_or_default() {
                    "agentMessage" => Some(EventBody::Message(TextData {
                        text: item["text"].as_str().unwrap_or_default().to_string(),
                        vendor: None,
                    })),
                    "reasoning" => richer::reasoning_text(item)
                        .map(|text| EventBody::Reasoning(TextData { text, vendor: None })),
                    _ => tool_of(item).map(|call| {
                        let began = self.subagent_open.remove(&call.0);
                        let ms = began.map_or(0, |b| b.elapsed().as_millis() as u64);
                        let mut completed =
                            tool_calls::complete(&mut self.tool_calls, call, outcome_of(item), ms);
                        completed.vendor =
                            Some(json!({ "itemType": item["type"], "status": item["status"] }));
                        EventBody::ToolCompleted(completed)
                    }),
                };
                if let Some(body) = body {
                    self.events.emit_within(within, body).await;
                }
                if item["type"] == "fileChange" && outcome_of(item).0 == ToolStatus::Ok {
                    self.patched.extend(changes_of(item));
                    for f in artifacts::file_events(&self.wd, item) {
                        let body = EventBody::FileChanged(f);
                        self.events.emit_within(within, body).await;
                    }
                }
            }
            "item/reasoning/summaryTextDelta" | "item/reasoning/textDelta" => {
                if let Some(d) = params["delta"].as_str() {
                    let body = EventBody::ReasoningDelta(TextData {
                        text: d.to_string(),
                        vendor: None,
                    });
                    self.events.emit_within(within, body).await;
                }
            }
            "item/commandExecution/outputDelta" => {
                if let (Some(id), Some(d)) = (params["itemId"].as_str(), params["delta"].as_str()) {
                    let body = EventBody::ToolOutputDelta(ToolOutputDelta {
                        tool_call_id: id.to_string(),
                        text: d.to_string(),
                    });
                    self.events.emit_within(within, body).await;
                }
            }
            // The sub-agent's own tokens: its `agent.subagent.completed` usage (the task's usage
            // stays the thread we started).
            "thread/tokenUsage/updated" => {
                if let Some(thread) = params["threadId"].as_str() {
                    self.collab.on_usage(thread, &params["tokenUsage"]);
                }
            }
            _ => {}
        }
    }

    fn over_max_turns(&self, responses: u32) -> bool {
        matches!(self.max_turns, Some(max) if responses >= max)
    }

    async fn request_tool(&mut self, id: &str, name: &str, input: &Value, item: &Value) {
        if self.open.contains_key(id) {
            return;
        }
        self.open.insert(id.to_string(), Instant::now());
        self.tools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), (name.to_string(), input.clone()));
        self.events
            .emit(EventBody::ToolRequested(ToolRequested {
                tool_call_id: id.to_string(),
                name: name.to_string(),
                input: input.clone(),
                vendor: Some(json!({ "itemType": item["type"] })),
            }))
            .await;
    }

    async fn item_completed(&mut self, item: &Value) {
        match item["type"].as_str().unwrap_or_default() {
            "reasoning" => {
                if let Some(text) = richer::reasoning_text(item) {
                    self.events
                        .emit(EventBody::Reasoning(TextData { text, vendor: None }))
                        .await;
                }
                return;
            }
            // Codex compacts on its own when the context fills (we never ask it to).
            "contextCompaction" => {
                self.events
                    .emit(EventBody::ContextCompacted(ContextCompacted {
                        trigger: CompactionTrigger::Auto,
                        pre_tokens: None,
                        post_tokens: None,
                    }))
                    .await;
                return;
            }
            _ => {}
        }
        if item["type"] == "agentMessage" {
            let text = item["text"].as_str().unwrap_or_default().to_string();
            self.events
                .emit(EventBody::Message(TextData {
                    text: text.clone(),
                    vendor: item
                        .get("phase")
                        .filter(|p| !p.is_null())
                        .map(|p| json!({ "phase": p })),
                }))
                .await;
            self.last_message = Some(text);
            return;
        }
        let Some((id, name, input)) = tool_of(item) else {
            return;
        };
        // Some tools (a command refused by the sandbox) complete without having started.
        if !self.open.contains_key(&id) {
            self.request_tool(&id, &name, &input, item).await;
        }
        if item["type"] == "subAgentActivity" {
            self.on_activity(item).await;
        }
        let began = self.open.remove(&id);
        let (status, output) = outcome_of(item);
        if item["type"] == "fileChange" && status == ToolStatus::Ok {
            self.patched.extend(changes_of(item));
            // As soon as known, not at the end of the turn (the listing then skips these paths).
            for f in artifacts::file_events(&self.wd, item) {
                self.events.emit(EventBody::FileChanged(f)).await;
            }
        }
        let duration_ms = item["durationMs"]
            .as_u64()
            .or_else(|| began.map(|b| b.elapsed().as_millis() as u64))
            .unwrap_or(0);
        let mut completed = tool_calls::complete(
            &mut self.tool_calls,
            (id, name, input),
            (status, output),
            duration_ms,
        );
        completed.vendor = Some(json!({ "itemType": item["type"], "status": item["status"] }));
        let call_id = completed.tool_call_id.clone();
        self.events.emit(EventBody::ToolCompleted(completed)).await;
        if item["type"] == "collabAgentToolCall" {
            let (started, ended) = self.collab.on_item(item);
            for s in started {
                self.events
                    .emit_within(Some(&call_id), EventBody::SubagentStarted(s))
                    .await;
            }
            for s in ended {
                let parent = s.parent_tool_call_id.clone();
                self.events
                    .emit_within(Some(&parent), EventBody::SubagentCompleted(s))
                    .await;
            }
        }
    }
}

/// The tool call an item stands for: (id, name, input). Names: `commandExecution`, `fileChange`,
/// `webSearch`, `mcp__<server>__<tool>` (Claude's spelling, so hosts match MCP tools alike), or a
/// dynamic tool's own name.
fn tool_of(item: &Value) -> Option<(String, String, Value)> {
    let id = item["id"].as_str()?.to_string();
    let (name, input) = match item["type"].as_str()? {
        "commandExecution" => (
            "commandExecution".to_string(),
            json!({ "command": item["command"], "cwd": item["cwd"] }),
        ),
        "fileChange" => {
            let changes: Vec<Value> = item["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| json!({ "path": c["path"], "kind": c["kind"]["type"], "diff": c["diff"] }))
                .collect();
            ("fileChange".to_string(), json!({ "changes": changes }))
        }
        "mcpToolCall" => (
            format!(
                "mcp__{}__{}",
                item["server"].as_str().unwrap_or_default(),
                item["tool"].as_str().unwrap_or_default()
            ),
            item["arguments"].clone(),
        ),
        "webSearch" => (
            "webSearch".to_string(),
            json!({ "query": item["query"], "action": item["action"] }),
        ),
        // multi_agent_v2's `collaboration.spawn_agent`, named as v1's spawn so hosts match both.
        "subAgentActivity" if item["kind"] == "started" => (
            "collab.spawnAgent".to_string(),
            json!({ "agentPath": item["agentPath"], "model": item["model"],
                    "reasoningEffort": item["reasoningEffort"] }),
        ),
        "collabAgentToolCall" => (
            format!("collab.{}", item["tool"].as_str().unwrap_or("agent")),
            json!({ "prompt": item["prompt"], "receiverThreadIds": item["receiverThreadIds"],
                    "model": item["model"] }),
        ),
        "dynamicToolCall" => (
            item["tool"].as_str().unwrap_or("dynamicTool").to_string(),
            item["arguments"].clone(),
        ),
        _ => return None,
    };
    Some((id, name, input))
}

fn outcome_of(item: &Value) -> (ToolStatus, Value) {
    let status = item["status"].as_str().unwrap_or_default();
    match item["type"].as_str().unwrap_or_default() {
        "commandExecution" => {
            let exit = item["exitCode"].as_i64();
            let s = match status {
                "declined" => ToolStatus::Denied,
                "completed" if exit.unwrap_or(0) == 0 => ToolStatus::Ok,
                _ => ToolStatus::Error,
            };
            (
                s,
                json!({ "exitCode": item["exitCode"], "output": item["aggregatedOutput"] }),
            )
        }
        "mcpToolCall" => {
            let s = match status {
                "completed" => ToolStatus::Ok,
                _ => ToolStatus::Error,
            };
            let out = if item["error"].is_null() {
                item["result"].clone()
            } else {
                item["error"].clone()
            };
            (s, out)
        }
        "dynamicToolCall" => {
            let s = match (status, item["success"].as_bool()) {
                ("completed", Some(false)) => ToolStatus::Error,
                ("completed", _) => ToolStatus::Ok,
                _ => ToolStatus::Error,
            };
            (s, item["contentItems"].clone())
        }
        // What the search did (`action`: the queries, the page opened); `results` is only set by
        // codex's standalone search, null for the model's own web_search calls.
        "webSearch" => {
            let mut out = json!({ "query": item["query"], "action": item["action"] });
            if !item["results"].is_null() {
                out["results"] = item["results"].clone();
            }
            (ToolStatus::Ok, out)
        }
        "subAgentActivity" => (
            ToolStatus::Ok,
            json!({ "agentThreadId": item["agentThreadId"], "agentPath": item["agentPath"] }),
        ),
        "collabAgentToolCall" => {
            let s = match status {
                "completed" => ToolStatus::Ok,
                _ => ToolStatus::Error,
            };
            (
                s,
                json!({ "status": status, "agentsStates": item["agentsStates"] }),
            )
        }
        _ => {
            let s = match status {
                "declined" => ToolStatus::Denied,
                "completed" => ToolStatus::Ok,
                _ => ToolStatus::Error,
            };
            (s, json!({ "status": status }))
        }
    }
}

fn changes_of(item: &Value) -> Vec<(PathBuf, ArtifactChange)> {
    let mut out = vec![];
    for c in item["changes"].as_array().into_iter().flatten() {
        let Some(path) = c["path"].as_str() else {
            continue;
        };
        match c["kind"]["type"].as_str() {
            Some("add") => out.push((path.into(), ArtifactChange::Created)),
            Some("delete") => out.push((path.into(), ArtifactChange::Deleted)),
            _ => match c["kind"]["move_path"].as_str() {
                Some(to) => {
                    out.push((path.into(), ArtifactChange::Deleted));
                    out.push((to.into(), ArtifactChange::Created));
                }
                None => out.push((path.into(), ArtifactChange::Modified)),
            },
        }
    }
    out
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
