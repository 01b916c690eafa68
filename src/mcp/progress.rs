//! Task events → MCP progress notifications.
//!
//! When the `tools/call` carries a progress token, every event of the task goes out as a
//! `notifications/progress` for that token: `progress` counts the events (it must increase),
//! `message` is a one-line summary a host can show as is, and `_meta["agent-runtime-kit/event"]`
//! carries the whole event (the same object a JSON-RPC host gets), for hosts that want the detail.
//! Without a token nothing is sent: MCP allows progress only for requests that asked for it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use rmcp::model::{NotificationMetaObject, ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::Value;

use crate::runtime::EventOutput;

/// The `_meta` key under which each progress notification carries the full event.
pub const EVENT_META_KEY: &str = "agent-runtime-kit/event";
/// Longest progress message, in characters (deltas and tool inputs can be long).
const MESSAGE_CHARS: usize = 200;

pub struct ProgressOutput {
    peer: Peer<RoleServer>,
    /// The token of the `tools/call` now waiting for the task: under protocol 2026-07-28 a task
    /// that asks its client something spans several calls (`rounds.rs`), each with its own.
    token: std::sync::Mutex<Option<ProgressToken>>,
    count: AtomicU64,
    /// Set once the host cancelled the call: it no longer expects notifications for it.
    muted: AtomicBool,
}

impl ProgressOutput {
    pub fn new(peer: Peer<RoleServer>, token: Option<ProgressToken>) -> Self {
        ProgressOutput {
            peer,
            token: std::sync::Mutex::new(token),
            count: AtomicU64::new(0),
            muted: AtomicBool::new(false),
        }
    }

    /// The call now waiting for the task (`None`: none, between two rounds).
    pub fn set_token(&self, token: Option<ProgressToken>) {
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = token;
    }

    pub fn mute(&self) {
        self.muted.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl EventOutput for ProgressOutput {
    async fn send(&self, event: Value) {
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(token) = token else { return };
        if self.muted.load(Ordering::SeqCst) {
            return;
        }
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let mut meta = NotificationMetaObject::new();
        let message = summary(&event);
        meta.0 .0.insert(EVENT_META_KEY.into(), event);
        let mut param = ProgressNotificationParam::new(token, n as f64);
        param.message = Some(message);
        param.meta = Some(meta);
        if let Err(e) = self.peer.notify_progress(param).await {
            // The host went away; the task's result will not reach it either.
            tracing::debug!("progress notification not sent: {e}");
        }
    }
}

/// One line a person can read: what happened in this event.
pub fn summary(event: &Value) -> String {
    let d = &event["data"];
    let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let line = match event["type"].as_str().unwrap_or_default() {
        "agent.task.started" => format!(
            "started: {} · {} · {}",
            s(&d["runtime"]),
            d["model"].as_str().unwrap_or("default model"),
            s(&d["workingDirectory"])
        ),
        "agent.output.delta" | "agent.message" => s(&d["text"]),
        "agent.tool.requested" => format!("tool {}: {}", s(&d["name"]), compact(&d["input"])),
        "agent.tool.completed" => format!(
            "tool {} {}: {}",
            s(&d["name"]),
            s(&d["status"]),
            compact(&d["output"])
        ),
        "agent.approval.requested" => format!("approval requested for {}", s(&d["name"])),
        "agent.vendor.turn" => format!("turn {} done", d["turn"]),
        "agent.vendor.event" => "vendor event".to_string(),
        "agent.task.completed" => "completed".to_string(),
        "agent.task.failed" => format!(
            "{}{}",
            s(&d["finishReason"]),
            d["error"]["message"]
                .as_str()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    };
    clip(&line.replace('\n', " "))
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > MESSAGE_CHARS {
        format!("{}…", s.chars().take(MESSAGE_CHARS).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_read_as_one_line() {
        let e = json!({"type": "agent.tool.requested", "data": {"name": "Bash", "input": {"command": "ls\n-la"}}});
        assert_eq!(summary(&e), r#"tool Bash: {"command":"ls\n-la"}"#);
        let e = json!({"type": "agent.task.failed", "data": {"finishReason": "timeout", "error": {"message": "too long"}}});
        assert_eq!(summary(&e), "timeout: too long");
        let long = "x".repeat(500);
        let e = json!({"type": "agent.message", "data": {"text": long}});
        assert_eq!(summary(&e).chars().count(), MESSAGE_CHARS + 1);
    }
}
