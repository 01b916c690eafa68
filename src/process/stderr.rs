//! Draining a vendor's stderr into a bounded tail (and `tracing`), so a chatty vendor never
//! blocks on a full pipe and its last lines can explain a failure.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::hygiene;

/// How many stderr lines are kept for error reports.
const STDERR_TAIL_LINES: usize = 40;
/// Longest stderr line kept; a flood of one huge line must not grow memory.
const STDERR_LINE_BYTES: usize = 4096;
/// Read past the cut, so that a secret that starts before it is seen whole by the redactor
/// before the line is cut (redaction first, then the cut: never half a secret).
const STDERR_LINE_SLACK: usize = 4096;

pub(super) async fn drain_stderr(
    err: impl AsyncRead + Unpin,
    name: String,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    // Read in bounded chunks so a single endless line cannot grow memory.
    let mut reader = BufReader::with_capacity(64 * 1024, err);
    let mut line = Vec::with_capacity(256);
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(b) => b,
            Err(_) => break,
        };
        let n = buf.len();
        let mut consumed = 0;
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\n' {
                push_stderr_line(&name, &tail, &line);
                line.clear();
            } else if line.len() < STDERR_LINE_BYTES + STDERR_LINE_SLACK {
                line.push(b);
            }
            consumed = i + 1;
        }
        debug_assert_eq!(consumed, n);
        reader.consume(n);
    }
    if !line.is_empty() {
        push_stderr_line(&name, &tail, &line);
    }
}

fn push_stderr_line(name: &str, tail: &Mutex<VecDeque<String>>, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches('\r');
    if text.is_empty() {
        return;
    }
    // A line past the limit is redacted before it is cut; the others are redacted when they
    // are read (`stderr_tail`) or logged (only if debug is on: a flood costs nothing more).
    let text = if text.len() > STDERR_LINE_BYTES {
        let mut text = hygiene::redact(text);
        let mut cut = STDERR_LINE_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text
    } else {
        text.to_string()
    };
    tracing::debug!(target: "vendor_stderr", vendor = name, "{}", hygiene::redact(&text));
    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
    if t.len() == STDERR_TAIL_LINES {
        t.pop_front();
    }
    t.push_back(text);
}
