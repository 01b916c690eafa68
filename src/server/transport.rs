//! Lines in, lines out. One reader of the input, one writer that owns the output.
//!
//! The writer is the only code that touches stdout, so lines never interleave. Its queue is
//! bounded: when the host stops reading, senders wait (back-pressure) instead of buffering.

use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

use crate::framing::{Frame, LineFrames};

/// Messages waiting for the writer.
const OUTBOUND_QUEUE: usize = 1024;
/// Messages the writer takes off the queue at once (one wake-up for a burst).
const BATCH: usize = 256;
/// The output buffer: large writes, few syscalls.
const WRITE_BUFFER: usize = 256 * 1024;

/// A handle to the writer. Cloneable; the writer stops when every handle is dropped.
#[derive(Clone)]
pub struct Outbound {
    tx: mpsc::Sender<String>,
}

impl Outbound {
    /// Queues one message; waits while the queue is full.
    pub async fn send(&self, message: &Value) {
        let line = serde_json::to_string(message).expect("JSON values serialize");
        self.send_line(line).await
    }

    /// Queues one message already serialized as JSON (one line, no newline).
    pub async fn send_line(&self, line: String) {
        if self.tx.send(line).await.is_err() {
            tracing::debug!("output closed; message dropped");
        }
    }
}

/// Starts the writer task over `out`. Returns the handle and the task to await at shutdown
/// (it ends after the last handle is dropped and everything queued is written and flushed).
pub fn spawn_writer<W>(out: W) -> (Outbound, tokio::task::JoinHandle<()>)
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<String>(OUTBOUND_QUEUE);
    let task = tokio::spawn(async move {
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, out);
        let mut batch = Vec::with_capacity(BATCH);
        'write: while rx.recv_many(&mut batch, BATCH).await > 0 {
            for line in batch.drain(..) {
                if write_line(&mut out, &line).await.is_err() {
                    break 'write;
                }
            }
            // Flush when nothing else is waiting, so bursts go out in few writes. Yield once first:
            // an emitter that is mid-burst on another task gets to queue more, and the flush (a
            // blocking-pool hop for stdout) then carries hundreds of lines instead of a few.
            if rx.is_empty() {
                tokio::task::yield_now().await;
                if rx.is_empty() && out.flush().await.is_err() {
                    break;
                }
            }
        }
        let _ = out.flush().await;
    });
    (Outbound { tx }, task)
}

async fn write_line<W: AsyncWrite + Unpin>(out: &mut W, line: &str) -> std::io::Result<()> {
    // U+2028/U+2029 are legal raw in JSON but split lines in Node's readline: escape them.
    // Both encode as E2 80 A8/A9: look for the lead byte (memchr) before decoding chars.
    if line.as_bytes().contains(&0xE2) && line.contains(['\u{2028}', '\u{2029}']) {
        let escaped = line
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        out.write_all(escaped.as_bytes()).await?;
    } else {
        out.write_all(line.as_bytes()).await?;
    }
    out.write_all(b"\n").await
}

/// The input as frames of at most `max_message_bytes`.
pub fn frames<R>(input: R, max_message_bytes: usize) -> impl Stream<Item = Frame>
where
    R: AsyncRead + Unpin,
{
    FramedRead::new(input, LineFrames::new(max_message_bytes))
        .take_while(|r| futures::future::ready(r.is_ok()))
        .map(|r| r.expect("errors end the stream above"))
}
