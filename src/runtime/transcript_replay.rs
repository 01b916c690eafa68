//! Test support for the mapper tests (`claude/mapping_tests.rs`, `codex/mapping_tests.rs`):
//! captured vendor transcripts, and an event sink that keeps what the mapper emits.
//!
//! The transcripts (each runtime's `testdata/`) were captured from the real pinned vendors against
//! mock model servers (see the vendor notes in the design docs). One JSON object a line:
//! `{"t": secs, "dir": ..., "msg": {...}}`, where `dir` is the direction (claude: `>stdin`,
//! `<stdout`, `<stderr` (with `raw` instead of `msg`), `argv`, `exit`; codex: `->` for us → codex,
//! `<-` for codex → us, `exit`).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;

use crate::runtime::{EventOutput, EventSink};

/// One line of a transcript.
pub(crate) struct Line {
    pub(crate) dir: String,
    /// The message (`Null` on a `<stderr` line).
    pub(crate) msg: Value,
    /// A `<stderr` line's text.
    pub(crate) raw: Option<String>,
}

/// The lines of a transcript, in order.
pub(crate) fn lines(transcript: &str) -> Vec<Line> {
    transcript
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a transcript line is JSON");
            Line {
                dir: v["dir"].as_str().expect("every line has a dir").to_string(),
                msg: v["msg"].take(),
                raw: v["raw"].as_str().map(str::to_string),
            }
        })
        .collect()
}

/// Keeps every event sent to it, as the host would read it.
#[derive(Default)]
pub(crate) struct Collected(Mutex<Vec<Value>>);

#[async_trait]
impl EventOutput for Collected {
    async fn send(&self, event: Value) {
        self.0.lock().unwrap().push(event);
    }
}

impl Collected {
    /// Every event's `type`, in order.
    pub(crate) fn types(&self) -> Vec<String> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Every event as the host reads it, in order.
    pub(crate) fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    /// The `data` of every event of type `kind`, in order.
    pub(crate) fn data_of(&self, kind: &str) -> Vec<Value> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .map(|e| e["data"].clone())
            .collect()
    }

    /// The text of every `agent.output.delta`, joined.
    pub(crate) fn streamed_text(&self) -> String {
        self.data_of("agent.output.delta")
            .iter()
            .filter_map(|d| d["text"].as_str().map(str::to_string))
            .collect()
    }
}

/// A sink with default run options (no raw vendor events) over a [`Collected`].
pub(crate) fn sink() -> (EventSink, Arc<Collected>) {
    let out = Arc::new(Collected::default());
    let sink = EventSink::new("task-1".into(), out.clone(), &Default::default());
    (sink, out)
}
