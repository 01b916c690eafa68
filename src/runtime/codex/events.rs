//! Codex app-server progress notifications → the richer turn events: reasoning, retries, rate
//! limits, plans, compaction, status, collab sub-agents. Pure functions and the sub-agent
//! book-keeping; mapping.rs calls them and emits.
//!
//! Shapes from `codex app-server generate-json-schema` of the pinned 0.171.0 (and the captured
//! transcripts in testdata/):
//! - `item/reasoning/summaryTextDelta | textDelta {itemId, delta}`; a `reasoning` item carries
//!   `summary: [string]` and `content: [string]`.
//! - `item/commandExecution/outputDelta {itemId, delta}`.
//! - `error {error: {message, codexErrorInfo}, willRetry}`; `codexErrorInfo` is a string
//!   (`rateLimitExceeded`, `serverOverloaded`, …) or `{httpConnectionFailed | responseStream…:
//!   {httpStatusCode}}`.
//! - `turn/plan/updated {plan: [{step, status: pending|inProgress|completed}], explanation}`.
//! - `model/rerouted {fromModel, toModel, reason}`; `mcpServer/startupStatus/updated {name,
//!   status: starting|ready|failed|cancelled, error}`; `warning {message}`.
//! - `account/rateLimits/updated {rateLimits: {primary, secondary: {usedPercent, resetsAt,
//!   windowDurationMins}, rateLimitReachedType}}`: the account's quota, not a retry (codex's own
//!   waits come as `error {willRetry: true}`), so a status warning when a window is nearly or
//!   fully used, once per level.
//! - `collabAgentToolCall {tool: spawnAgent|wait|closeAgent|…, prompt, receiverThreadIds,
//!   agentsStates: {threadId: {status}}}`: a spawn starts a sub-agent in its own thread; a later
//!   call's `agentsStates` tells when it ended (multi_agent v1).
//! - `subAgentActivity {id, kind: started|interacted|interrupted|completed, agentThreadId,
//!   agentPath, model?, reasoningEffort?}` on the parent's thread (multi_agent_v2, seen from the
//!   real 0.171.0): `started`'s id is the `collaboration.spawn_agent` call's; `completed` (id
//!   `subagent-completed-<child turn>`) comes when the child's turn ends, also after the parent's
//!   own turn has completed (codex does not wait for its sub-agents).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::protocol::event::{
    PlanEntry, PlanStatus, PlanUpdated, Retry, RetryReason, Status, StatusKind, Subagent,
};
use crate::protocol::result::Usage;

/// A reasoning item's text: its summary, or its raw content when there is no summary.
pub fn reasoning_text(item: &Value) -> Option<String> {
    let join = |k: &str| {
        item[k]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.as_str().or_else(|| p["text"].as_str()))
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .unwrap_or_default()
    };
    let summary = join("summary");
    let text = if summary.is_empty() {
        join("content")
    } else {
        summary
    };
    (!text.is_empty()).then_some(text)
}

/// `error {willRetry: true}` → `agent.retry`.
pub fn retry_of(error: &Value, attempt: u32) -> Retry {
    let info = &error["codexErrorInfo"];
    let http_status = info
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v["httpStatusCode"].as_u64())
        .map(|s| s as u16);
    let reason = match (info.as_str(), http_status) {
        (Some("rateLimitExceeded" | "usageLimitExceeded"), _) | (_, Some(429)) => {
            RetryReason::RateLimit
        }
        (Some("serverOverloaded"), _) | (_, Some(529 | 503)) => RetryReason::Overloaded,
        (Some("internalServerError"), _) | (_, Some(_)) => RetryReason::Server,
        _ => RetryReason::Network,
    };
    Retry {
        attempt,
        max_attempts: None,
        delay_ms: None,
        http_status,
        reason,
        message: error["message"]
            .as_str()
            .unwrap_or("the model request failed; codex retries")
            .to_string(),
    }
}

/// `turn/plan/updated` → the whole plan.
pub fn plan_of(params: &Value) -> PlanUpdated {
    let entries = params["plan"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| PlanEntry {
            text: s["step"].as_str().unwrap_or_default().to_string(),
            status: match s["status"].as_str().unwrap_or_default() {
                "inProgress" | "in_progress" => PlanStatus::InProgress,
                "completed" => PlanStatus::Completed,
                _ => PlanStatus::Pending,
            },
        })
        .collect();
    PlanUpdated { entries }
}

pub fn rerouted(params: &Value) -> Status {
    let from = params["fromModel"].as_str().unwrap_or_default();
    let to = params["toModel"].as_str().unwrap_or_default();
    Status {
        kind: StatusKind::Model,
        message: format!("codex rerouted the turn from {from} to {to}"),
        data: Some(json!({ "requested": from, "model": to, "reason": params["reason"] })),
    }
}

/// `mcpServer/startupStatus/updated`: a status only when a server failed.
pub fn mcp_failed(params: &Value) -> Option<Status> {
    let status = params["status"].as_str()?;
    if status != "failed" {
        return None;
    }
    let name = params["name"].as_str().unwrap_or_default();
    let mut message = format!("MCP server {name}: failed");
    if let Some(e) = params["error"].as_str() {
        message.push_str(": ");
        message.push_str(e);
    }
    Some(Status {
        kind: StatusKind::McpServer,
        message,
        data: Some(
            json!({ "name": name, "status": status, "failureReason": params["failureReason"] }),
        ),
    })
}

/// How close the account is to its limits: 0 fine, 1 at 90 % or more of a window, 2 reached.
pub fn rate_limit_level(limits: &Value) -> u8 {
    if !limits["rateLimitReachedType"].is_null() {
        return 2;
    }
    let used = ["primary", "secondary"]
        .iter()
        .filter_map(|w| limits[w]["usedPercent"].as_u64())
        .max()
        .unwrap_or(0);
    match used {
        100.. => 2,
        90..=99 => 1,
        _ => 0,
    }
}

pub fn rate_limit_status(limits: &Value, level: u8) -> Status {
    Status {
        kind: StatusKind::Warning,
        message: if level >= 2 {
            "the account's rate limit is reached".to_string()
        } else {
            "the account is close to its rate limit".to_string()
        },
        data: Some(json!({
            "primary": limits["primary"],
            "secondary": limits["secondary"],
            "rateLimitReachedType": limits["rateLimitReachedType"],
        })),
    }
}

/// What a `subAgentActivity` item means for the bracket.
#[derive(Debug)]
pub enum Activity {
    Started(Subagent),
    Ended(Subagent),
}

/// Collab sub-agents: child thread → the spawning tool call.
#[derive(Debug, Default)]
pub struct Collab {
    children: HashMap<String, String>,
    ended: HashSet<String>,
    /// Each child thread's latest `thread/tokenUsage/updated` total (its own requests).
    usage: HashMap<String, Usage>,
}

/// Statuses of a collab agent that mean it is over.
fn is_over(status: &str) -> bool {
    matches!(
        status,
        "completed" | "errored" | "shutdown" | "interrupted" | "notFound"
    )
}

impl Collab {
    /// The tool call whose sub-agent runs in `thread_id`, if any.
    pub fn parent_of(&self, thread_id: &str) -> Option<&str> {
        self.children.get(thread_id).map(String::as_str)
    }

    /// A completed `collabAgentToolCall`: the sub-agents it started, then those it saw end.
    pub fn on_item(&mut self, item: &Value) -> (Vec<Subagent>, Vec<Subagent>) {
        let mut started = vec![];
        let mut ended = vec![];
        let call_id = item["id"].as_str().unwrap_or_default();
        if item["tool"] == "spawnAgent" {
            for t in item["receiverThreadIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if self.children.contains_key(t) {
                    continue;
                }
                self.children.insert(t.to_string(), call_id.to_string());
                started.push(Subagent {
                    subagent_id: t.to_string(),
                    parent_tool_call_id: call_id.to_string(),
                    description: item["prompt"].as_str().map(str::to_string),
                    status: None,
                    usage: None,
                });
            }
        }
        for (thread, state) in item["agentsStates"].as_object().into_iter().flatten() {
            let status = state["status"].as_str().unwrap_or_default();
            let Some(parent) = self.children.get(thread) else {
                continue;
            };
            if is_over(status) && self.ended.insert(thread.clone()) {
                ended.push(Subagent {
                    subagent_id: thread.clone(),
                    parent_tool_call_id: parent.clone(),
                    description: None,
                    status: Some(status.to_string()),
                    usage: None,
                });
            }
        }
        (started, ended)
    }

    /// A `subAgentActivity` item (multi_agent_v2): a sub-agent started (by the `spawn_agent`
    /// call whose id the item has), ended, or set to work again by a follow-up after it ended
    /// (then started anew, so every `started` has its `completed`).
    pub fn on_activity(&mut self, item: &Value) -> Option<Activity> {
        let thread = item["agentThreadId"].as_str()?;
        let subagent = |parent: &str, status: Option<&str>| Subagent {
            subagent_id: thread.to_string(),
            parent_tool_call_id: parent.to_string(),
            description: item["agentPath"].as_str().map(str::to_string),
            status: status.map(str::to_string),
            usage: None,
        };
        match item["kind"].as_str()? {
            "started" if !self.children.contains_key(thread) => {
                let call_id = item["id"].as_str()?;
                self.children
                    .insert(thread.to_string(), call_id.to_string());
                Some(Activity::Started(subagent(call_id, None)))
            }
            "interacted" if self.ended.remove(thread) => {
                let parent = self.children.get(thread)?;
                Some(Activity::Started(subagent(parent, None)))
            }
            kind @ ("completed" | "interrupted") => {
                let parent = self.children.get(thread)?;
                let mut s = subagent(parent, Some(kind));
                s.description = None;
                s.usage = self.usage.get(thread).cloned();
                self.ended
                    .insert(thread.to_string())
                    .then_some(Activity::Ended(s))
            }
            _ => None,
        }
    }

    /// A child thread's `thread/tokenUsage/updated`: what it has used so far.
    pub fn on_usage(&mut self, thread: &str, token_usage: &Value) {
        let total = &token_usage["total"];
        let n = |k: &str| total[k].as_u64().unwrap_or(0);
        self.usage.insert(
            thread.to_string(),
            Usage {
                input_tokens: n("inputTokens"),
                output_tokens: n("outputTokens"),
                cached_input_tokens: n("cachedInputTokens"),
                cost_usd: None,
            },
        );
    }

    /// Sub-agents started and not seen to end, by the tool call that started them.
    pub fn pending(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .children
            .iter()
            .filter(|(t, _)| !self.ended.contains(*t))
            .map(|(_, p)| p.clone())
            .collect();
        v.sort();
        v
    }
}
