//! `--record DIR`: writes every run (events + result) as a fixture script that the fixture
//! runtime replays identically. What is written has already been through hygiene, so a recording
//! holds no secret that the host could not see.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::runtime::EventOutput;

pub struct Recorder {
    dir: PathBuf,
    inner: Arc<dyn EventOutput>,
    events: Mutex<Vec<Value>>,
}

impl Recorder {
    pub fn new(dir: PathBuf, inner: Arc<dyn EventOutput>) -> Self {
        Recorder {
            dir,
            inner,
            events: Mutex::new(vec![]),
        }
    }

    /// Writes `<dir>/<taskId>.json`. Failures are logged: recording must not fail a run.
    pub fn finish(&self, task_id: &str, result: &Value) {
        let events = std::mem::take(&mut *self.events.lock().unwrap());
        let script = to_script(&events, result);
        let path = script_path(&self.dir, task_id);
        let written = std::fs::create_dir_all(&self.dir).and_then(|_| {
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(&script).expect("serializes"),
            )
        });
        match written {
            Ok(()) => tracing::info!(path = %path.display(), "recorded run"),
            Err(e) => tracing::warn!(path = %path.display(), "could not record run: {e}"),
        }
    }
}

/// Where the recording of task `task_id` goes: `<dir>/<taskId>.json`, the id made file-safe.
pub fn script_path(dir: &Path, task_id: &str) -> PathBuf {
    let name: String = task_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{name}.json"))
}

#[async_trait]
impl EventOutput for Recorder {
    async fn send(&self, event: Value) {
        self.events.lock().unwrap().push(event.clone());
        self.inner.send(event).await;
    }
}

/// Result fields a fixture script carries (see `fixture::ScriptResult`).
const RESULT_FIELDS: [&str; 10] = [
    "output",
    "structuredOutput",
    "sessionId",
    "usage",
    "turns",
    "finishReason",
    "error",
    "artifacts",
    "toolCalls",
    "vendor",
];

/// A fixture script from a run: every non-terminal event as an `event` step, then the result.
pub fn to_script(events: &[Value], result: &Value) -> Value {
    let steps: Vec<Value> = events
        .iter()
        .filter(|e| {
            let t = e["type"].as_str().unwrap_or_default();
            t != "agent.task.completed" && t != "agent.task.failed"
        })
        .map(|e| json!({ "event": e["type"], "data": e["data"] }))
        .collect();
    let mut r = serde_json::Map::new();
    for field in RESULT_FIELDS {
        if let Some(v) = result.get(field) {
            if !v.is_null() {
                r.insert(field.to_string(), v.clone());
            }
        }
    }
    json!({ "steps": steps, "result": r })
}
