//! The CLI's progress messages → the richer turn events: sub-agents, retries, rate limits,
//! compaction, MCP server and model status, plans. Pure functions and the sub-agent book-keeping;
//! mapping.rs calls them and emits.
//!
//! What Claude Code 2.1.332 emits (captured in testdata/10_*.jsonl against the mock API):
//! - the `Agent` tool runs a background sub-agent: `system/task_started {task_id, tool_use_id,
//!   description}`, then the sub-agent's `assistant`/`user` lines with `parent_tool_use_id` (no
//!   stream events), then `system/task_updated`, `system/task_notification {task_id, tool_use_id,
//!   status, summary, usage}`, `system/background_tasks_changed`. The tool's own result comes at
//!   once (`tool_use_result.status: "async_launched"`).
//! - `system/api_retry {attempt, max_retries, retry_delay_ms, error_status, error}` before each retry.
//! - `system/compact_boundary {compact_metadata: {trigger, pre_tokens, post_tokens}}`.
//! - Plans: TodoWrite is disabled in `-p` mode and no other tool feeds a plan (the model is offered
//!   Agent, Bash, Edit, ListAgents, Read, ReportFindings, ScheduleWakeup, Skill, ToolSearch,
//!   Workflow, Write); a TodoWrite call, where a CLI still allows it, is mapped.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::protocol::event::{
    CompactionTrigger, ContextCompacted, PlanEntry, PlanStatus, PlanUpdated, Retry, RetryReason,
    Status, StatusKind, Subagent,
};
use crate::protocol::result::ToolStatus;

/// One sub-agent tool call (`Agent`/`Task`), by its tool_use id.
#[derive(Debug, Default)]
struct Entry {
    /// The CLI's task id (`task_started.task_id`, `agent_id` on its messages) once known.
    task_id: Option<String>,
    description: Option<String>,
    started: bool,
}

/// The sub-agents of a turn: which started, which are still running.
#[derive(Debug, Default)]
pub struct Subagents {
    running: HashMap<String, Entry>,
}

impl Subagents {
    /// The main agent called a sub-agent tool.
    pub fn requested(&mut self, tool_use_id: &str, input: &Value) {
        self.running.insert(
            tool_use_id.to_string(),
            Entry {
                description: input["description"].as_str().map(str::to_string),
                ..Entry::default()
            },
        );
    }

    /// `system/task_started`: the start event, unless the sub-agent's messages already gave it.
    pub fn started(&mut self, v: &Value) -> Option<Subagent> {
        let tool_use_id = v["tool_use_id"].as_str()?;
        let entry = self.running.entry(tool_use_id.to_string()).or_default();
        if entry.task_id.is_none() {
            entry.task_id = v["task_id"].as_str().map(str::to_string);
        }
        if entry.description.is_none() {
            entry.description = v["description"].as_str().map(str::to_string);
        }
        start(tool_use_id, entry)
    }

    /// A sub-agent's message: the start event if this is the first sign of it.
    pub fn seen_message(&mut self, parent: &str, v: &Value) -> Option<Subagent> {
        let entry = self.running.entry(parent.to_string()).or_default();
        if entry.task_id.is_none() {
            entry.task_id = v["agent_id"].as_str().map(str::to_string);
        }
        if entry.description.is_none() {
            entry.description = v["task_description"].as_str().map(str::to_string);
        }
        start(parent, entry)
    }

    /// `system/task_notification`: the sub-agent ended.
    pub fn completed(&mut self, v: &Value) -> Option<Subagent> {
        let tool_use_id = match v["tool_use_id"].as_str() {
            Some(id) => id.to_string(),
            None => {
                let task_id = v["task_id"].as_str()?;
                self.running
                    .iter()
                    .find(|(_, e)| e.task_id.as_deref() == Some(task_id))
                    .map(|(id, _)| id.clone())?
            }
        };
        let entry = self.running.remove(&tool_use_id)?;
        Some(Subagent {
            subagent_id: entry
                .task_id
                .or_else(|| v["task_id"].as_str().map(str::to_string))
                .unwrap_or_else(|| tool_use_id.clone()),
            parent_tool_call_id: tool_use_id,
            description: entry.description,
            status: v["status"].as_str().map(str::to_string),
            usage: None,
        })
    }

    /// The sub-agent tool's own result. A background launch leaves it running; a foreground run
    /// (or a refused call) is over.
    pub fn tool_result(
        &mut self,
        tool_use_id: &str,
        status: ToolStatus,
        tool_use_result: &Value,
    ) -> Option<Subagent> {
        let launched =
            tool_use_result["status"] == "async_launched" || tool_use_result["isAsync"] == true;
        if launched && status == ToolStatus::Ok {
            let entry = self.running.get_mut(tool_use_id)?;
            if entry.task_id.is_none() {
                entry.task_id = tool_use_result["agentId"].as_str().map(str::to_string);
            }
            return None;
        }
        let entry = self.running.remove(tool_use_id)?;
        // Never started (a denied call): nothing was bracketed, nothing to close.
        entry.started.then(|| Subagent {
            subagent_id: entry.task_id.unwrap_or_else(|| tool_use_id.to_string()),
            parent_tool_call_id: tool_use_id.to_string(),
            description: entry.description,
            status: Some(
                match status {
                    ToolStatus::Ok => "completed",
                    ToolStatus::Denied => "denied",
                    _ => "failed",
                }
                .to_string(),
            ),
            usage: None,
        })
    }

    /// The tool calls of sub-agents still running, sorted.
    pub fn pending(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.running.keys().cloned().collect();
        ids.sort();
        ids
    }
}

fn start(tool_use_id: &str, entry: &mut Entry) -> Option<Subagent> {
    if entry.started {
        return None;
    }
    entry.started = true;
    Some(Subagent {
        subagent_id: entry
            .task_id
            .clone()
            .unwrap_or_else(|| tool_use_id.to_string()),
        parent_tool_call_id: tool_use_id.to_string(),
        description: entry.description.clone(),
        status: None,
        usage: None,
    })
}

/// The tools that run a sub-agent: `Agent` (2.1.x), `Task` (earlier CLIs).
pub fn is_subagent_tool(name: &str) -> bool {
    matches!(name, "Agent" | "Task")
}

/// init's `mcp_servers` entries that did not start.
pub fn failed_mcp_servers(servers: &Value) -> Vec<Status> {
    servers
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let status = s["status"].as_str()?;
            if !matches!(status, "failed" | "needs-auth") {
                return None;
            }
            let name = s["name"].as_str().unwrap_or_default();
            Some(Status {
                kind: StatusKind::McpServer,
                message: format!("MCP server {name}: {status}"),
                data: Some(json!({ "name": name, "status": status })),
            })
        })
        .collect()
}

/// A status when `got` is not the model `asked` for. An alias (`sonnet` →
/// `claude-sonnet-5-5`) is the same model.
pub fn rerouted(asked: &str, got: &str, source: &str) -> Option<Status> {
    if got == asked || got.contains(asked) || asked.contains(got) {
        return None;
    }
    Some(Status {
        kind: StatusKind::Model,
        message: format!("the model in use is {got}, not {asked}"),
        data: Some(json!({ "requested": asked, "model": got, "source": source })),
    })
}

pub fn permission_mode(mode: &str) -> Status {
    Status {
        kind: StatusKind::PermissionMode,
        message: format!("the permission mode is now {mode}"),
        data: Some(json!({ "permissionMode": mode })),
    }
}

/// `system/informational` at level warning or error → a warning status.
pub fn informational(v: &Value) -> Option<Status> {
    let level = v["level"].as_str().unwrap_or_default();
    if !matches!(level, "warning" | "error") {
        return None;
    }
    Some(Status {
        kind: StatusKind::Warning,
        message: v["content"].as_str().unwrap_or_default().to_string(),
        data: Some(json!({ "level": level, "tag": v["tag"] })),
    })
}

/// Why the API call is being retried, from its HTTP status and the CLI's error code.
pub fn retry_reason(status: Option<u64>, code: &str) -> RetryReason {
    match status {
        Some(429) => RetryReason::RateLimit,
        Some(529) => RetryReason::Overloaded,
        _ if code.contains("rate_limit") => RetryReason::RateLimit,
        _ if code.contains("overloaded") => RetryReason::Overloaded,
        Some(_) => RetryReason::Server,
        None => RetryReason::Network,
    }
}

/// `system/api_retry` → `agent.retry`.
pub fn api_retry(v: &Value, seen: u32) -> Retry {
    let status = v["error_status"].as_u64();
    let code = v["error"].as_str().unwrap_or_default();
    let attempt = v["attempt"].as_u64().map(|a| a as u32).unwrap_or(seen);
    let max = v["max_retries"].as_u64().map(|m| m as u32);
    let delay = v["retry_delay_ms"].as_u64();
    let what = match (status, code.is_empty()) {
        (Some(s), false) => format!("API error {s} ({code})"),
        (Some(s), true) => format!("API error {s}"),
        (None, false) => format!("API error ({code})"),
        (None, true) => "API connection error".to_string(),
    };
    let mut message = format!("{what}; retry {attempt}");
    if let Some(max) = max {
        message.push_str(&format!(" of {max}"));
    }
    if let Some(d) = delay {
        message.push_str(&format!(" in {d} ms"));
    }
    Retry {
        attempt,
        max_attempts: max,
        delay_ms: delay,
        http_status: status.map(|s| s as u16),
        reason: retry_reason(status, code),
        message,
    }
}

/// A `rate_limit_event` with `status: rejected`: the CLI waits until the window resets.
pub fn rate_limited(info: &Value, attempt: u32, now_secs: u64) -> Retry {
    let resets = info["resetsAt"].as_u64();
    let kind = info["rateLimitType"].as_str().unwrap_or("usage");
    Retry {
        attempt,
        max_attempts: None,
        delay_ms: resets.map(|r| r.saturating_sub(now_secs) * 1000),
        http_status: None,
        reason: RetryReason::RateLimit,
        message: match resets {
            Some(r) => format!("{kind} rate limit reached; it resets at {r} (Unix time)"),
            None => format!("{kind} rate limit reached"),
        },
    }
}

/// A `rate_limit_event` with `status: allowed_warning`.
pub fn rate_limit_warning(info: &Value) -> Status {
    let kind = info["rateLimitType"].as_str().unwrap_or("usage");
    Status {
        kind: StatusKind::Warning,
        message: format!("close to the {kind} rate limit"),
        data: Some(info.clone()),
    }
}

/// `compact_boundary`'s `compact_metadata` → `agent.context.compacted`.
pub fn compacted(meta: &Value) -> ContextCompacted {
    ContextCompacted {
        trigger: if meta["trigger"] == "manual" {
            CompactionTrigger::Manual
        } else {
            CompactionTrigger::Auto
        },
        pre_tokens: meta["pre_tokens"].as_u64(),
        post_tokens: meta["post_tokens"].as_u64(),
    }
}

/// The plan a tool call states: TodoWrite's `todos`, or the `plan` of ExitPlanMode, which is
/// what Claude Code 2.1.332 offers in `-p` mode (TodoWrite is disabled there; EnterPlanMode and
/// ExitPlanMode are deferred tools the model finds through ToolSearch).
pub fn plan_of(tool: &str, input: &Value) -> Option<PlanUpdated> {
    match tool {
        "TodoWrite" => todos(input),
        "ExitPlanMode" => input["plan"].as_str().map(markdown_plan),
        _ => None,
    }
}

/// A markdown plan → one entry per list item (`- [x]` is completed, any other item pending), or
/// one entry with the whole text when it has no list.
fn markdown_plan(plan: &str) -> PlanUpdated {
    let entries: Vec<PlanEntry> = plan.lines().filter_map(list_item).collect();
    let entries = if entries.is_empty() && !plan.trim().is_empty() {
        vec![PlanEntry {
            text: plan.trim().to_string(),
            status: PlanStatus::Pending,
        }]
    } else {
        entries
    };
    PlanUpdated { entries }
}

/// A markdown list item (`-`, `*`, `+` or `1.` / `1)`, with an optional task box) as an entry.
fn list_item(line: &str) -> Option<PlanEntry> {
    let line = line.trim_start();
    let rest = if let Some(r) = line.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let r = line[digits..].strip_prefix(['.', ')']);
        r.filter(|_| digits > 0)?
    };
    let rest = rest.strip_prefix(' ')?.trim();
    let (status, text) = if let Some(t) = rest.strip_prefix("[x] ").or(rest.strip_prefix("[X] ")) {
        (PlanStatus::Completed, t)
    } else {
        (
            PlanStatus::Pending,
            rest.strip_prefix("[ ] ").unwrap_or(rest),
        )
    };
    (!text.is_empty()).then(|| PlanEntry {
        text: text.trim().to_string(),
        status,
    })
}

fn todos(input: &Value) -> Option<PlanUpdated> {
    let entries = input["todos"]
        .as_array()?
        .iter()
        .map(|t| PlanEntry {
            text: t["content"].as_str().unwrap_or_default().to_string(),
            status: match t["status"].as_str().unwrap_or_default() {
                "in_progress" => PlanStatus::InProgress,
                "completed" => PlanStatus::Completed,
                _ => PlanStatus::Pending,
            },
        })
        .collect();
    Some(PlanUpdated { entries })
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(tool: &str, input: Value) -> Vec<(String, PlanStatus)> {
        plan_of(tool, &input)
            .map(|p| p.entries.into_iter().map(|e| (e.text, e.status)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn exit_plan_mode_list_items_are_entries() {
        let md = "## Plan\n\n1. Read `src/lib.rs`\n2) Fix the bug\n- [x] Reproduce it\n* [ ] Add a test\n\nThen ship.";
        assert_eq!(
            plan("ExitPlanMode", json!({ "plan": md })),
            vec![
                ("Read `src/lib.rs`".into(), PlanStatus::Pending),
                ("Fix the bug".into(), PlanStatus::Pending),
                ("Reproduce it".into(), PlanStatus::Completed),
                ("Add a test".into(), PlanStatus::Pending),
            ]
        );
    }

    #[test]
    fn a_plan_without_a_list_is_one_entry_and_other_tools_are_none() {
        assert_eq!(
            plan("ExitPlanMode", json!({ "plan": "  Just rewrite it.\n" })),
            vec![("Just rewrite it.".into(), PlanStatus::Pending)]
        );
        // "-1" or "2024." are not list items.
        assert_eq!(
            plan("ExitPlanMode", json!({ "plan": "-1 degrees\n2024.\n" })),
            vec![("-1 degrees\n2024.".into(), PlanStatus::Pending)]
        );
        assert!(plan_of("Bash", &json!({ "plan": "- x" })).is_none());
        assert_eq!(
            plan(
                "TodoWrite",
                json!({ "todos": [{ "content": "a", "status": "in_progress" }] })
            ),
            vec![("a".into(), PlanStatus::InProgress)]
        );
    }
}
