//! `--record DIR`: writes every run (events + result) as a fixture script that the fixture
//! runtime replays identically. What is written has already been through hygiene, so a recording
//! holds no secret that the host could not see.
//!
//! Recordings hold the task's text and the tools' output, so they are private: the directory is
//! made (or checked to be) ours with mode 0700 (`private_dir`), each file is new, mode 0600,
//! created with `O_EXCL|O_NOFOLLOW` so a planted symlink is never written through, and a name
//! already taken (a task id used twice, a planted file) gets a `-N` suffix instead of being
//! overwritten.

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

    /// Writes `<dir>/<taskId>.json` (or `<taskId>-N.json` when that name is taken). Failures
    /// are logged: recording must not fail a run.
    pub fn finish(&self, task_id: &str, result: &Value) {
        let events = std::mem::take(&mut *self.events.lock().unwrap());
        let script = to_script(&events, result);
        let bytes = serde_json::to_vec_pretty(&script).expect("serializes");
        let written = crate::private_dir::ensure(&self.dir)
            .and_then(|()| write_new(&self.dir, task_id, &bytes));
        match written {
            Ok(path) => tracing::info!(path = %path.display(), "recorded run"),
            Err(e) => tracing::warn!(dir = %self.dir.display(), "could not record run: {e}"),
        }
    }
}

/// How many `-N` suffixes are tried before giving up on a name (each try is one `open`).
const NAME_TRIES: u32 = 1000;

/// Creates the first free one of `<taskId>.json`, `<taskId>-1.json`, ... in `dir`.
fn write_new(dir: &Path, task_id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let name = file_safe(task_id);
    for n in 0..NAME_TRIES {
        let path = match n {
            0 => dir.join(format!("{name}.json")),
            n => dir.join(format!("{name}-{n}.json")),
        };
        match crate::private_dir::create_new_private_file(&path, bytes) {
            Ok(()) => return Ok(path),
            // O_EXCL: a file, a directory or a (planted) symlink already has this name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{NAME_TRIES} names for task {task_id:?} are taken"),
    ))
}

/// Where the recording of task `task_id` goes unless that name was taken: `<dir>/<taskId>.json`,
/// the id made file-safe.
pub fn script_path(dir: &Path, task_id: &str) -> PathBuf {
    dir.join(format!("{}.json", file_safe(task_id)))
}

fn file_safe(task_id: &str) -> String {
    task_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
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
