//! Writing to a vendor's stdin: one JSON message per line, from any number of tasks.
//!
//! A single writer task owns the pipe and is fed by a *bounded* queue: when the vendor stops
//! reading, its pipe fills, the writer blocks, the queue fills, and [`StdinLines::send`] waits.
//! Memory stays bounded however long the vendor stalls (an unbounded queue would grow with every
//! message we keep sending it). Each message is serialized by the sender, so the writer only
//! copies bytes, and lines from concurrent senders never interleave.
//!
//! Closing ([`StdinLines::close`]) writes what was queued before it, then shuts the pipe down:
//! the vendor reads EOF, which most vendors take as "finish and exit". Dropping every handle
//! closes it the same way once the queue is drained.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Messages queued ahead of a vendor that is not reading, before [`StdinLines::send`] waits.
/// Vendors read their stdin promptly; the pipe itself holds 64 KiB more.
pub const STDIN_QUEUE: usize = 64;

enum Op {
    Line(Vec<u8>),
    /// Flush, shut down (EOF), then answer.
    Close(oneshot::Sender<()>),
}

/// A handle on a vendor's stdin. Cheap to clone; every clone writes to the same pipe.
#[derive(Clone)]
pub struct StdinLines {
    queue: mpsc::Sender<Op>,
    broken: Arc<AtomicBool>,
}

impl StdinLines {
    /// Starts the writer task over `pipe` with a queue of `capacity` messages.
    pub fn new(pipe: impl AsyncWrite + Unpin + Send + 'static, capacity: usize) -> StdinLines {
        let (queue, rx) = mpsc::channel(capacity.max(1));
        let broken = Arc::new(AtomicBool::new(false));
        tokio::spawn(write_lines(pipe, rx, broken.clone()));
        StdinLines { queue, broken }
    }

    /// Queues `msg` as one line, waiting while the queue is full. `false` once stdin is closed or
    /// broken (the message is dropped: the vendor will never read it).
    pub async fn send(&self, msg: &impl Serialize) -> bool {
        let mut line = serde_json::to_vec(msg).expect("vendor messages serialize");
        line.push(b'\n');
        self.queue.send(Op::Line(line)).await.is_ok()
    }

    /// Queues `msg` if there is room now; `false` (the message is dropped) when the queue is
    /// full, or stdin is closed or broken. For replies the vendor may never read: waiting for room
    /// would keep one pending message per request, an unbounded queue in disguise.
    pub fn try_send(&self, msg: &impl Serialize) -> bool {
        let mut line = serde_json::to_vec(msg).expect("vendor messages serialize");
        line.push(b'\n');
        self.queue.try_send(Op::Line(line)).is_ok()
    }

    /// Writes what was queued before this call, then closes the pipe (the vendor reads EOF).
    /// Later sends fail. Waits for the vendor to take the queued lines: bound it with a timeout
    /// when the vendor may have stopped reading.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Op::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }

    /// Whether a write failed (the vendor closed its stdin or exited).
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }
}

async fn write_lines(
    mut pipe: impl AsyncWrite + Unpin,
    mut rx: mpsc::Receiver<Op>,
    broken: Arc<AtomicBool>,
) {
    let mut done = None;
    while let Some(op) = rx.recv().await {
        match op {
            Op::Line(line) => {
                if let Err(e) = write_line(&mut pipe, &line).await {
                    tracing::debug!("a vendor's stdin is closed: {e}");
                    broken.store(true, Ordering::Relaxed);
                    break;
                }
            }
            Op::Close(answer) => {
                done = Some(answer);
                break;
            }
        }
    }
    // From here every send fails: nothing more reaches the vendor.
    rx.close();
    let _ = pipe.shutdown().await;
    drop(pipe);
    if let Some(done) = done {
        let _ = done.send(());
    }
}

async fn write_line(pipe: &mut (impl AsyncWrite + Unpin), line: &[u8]) -> std::io::Result<()> {
    pipe.write_all(line).await?;
    pipe.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    #[tokio::test]
    async fn each_message_is_one_line_in_order_and_close_gives_eof() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let stdin = StdinLines::new(ours, 4);
        assert!(stdin.send(&json!({"a": "line\nbreak"})).await);
        assert!(stdin.clone().send(&json!([1, 2])).await);
        stdin.close().await;
        let mut lines = BufReader::new(theirs).lines();
        assert_eq!(
            lines.next_line().await.unwrap().as_deref(),
            Some(r#"{"a":"line\nbreak"}"#)
        );
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("[1,2]"));
        assert_eq!(lines.next_line().await.unwrap(), None, "EOF after close");
        assert!(!stdin.send(&json!("late")).await, "closed: sends fail");
        assert!(!stdin.is_broken(), "closed is not broken");
    }

    #[tokio::test]
    async fn a_vendor_that_stops_reading_makes_send_wait_instead_of_queueing_more() {
        // A 64-byte pipe that nobody reads and a queue of 2: after the pipe and the queue are
        // full, the next send must wait (not grow the queue).
        let (ours, mut theirs) = tokio::io::duplex(64);
        let stdin = StdinLines::new(ours, 2);
        let big = "x".repeat(100);
        let mut sent = 0;
        while let Ok(ok) = tokio::time::timeout(Duration::from_millis(100), stdin.send(&big)).await
        {
            assert!(ok);
            sent += 1;
            assert!(sent < 10, "sends never waited: the queue is unbounded");
        }
        // One line in the writer's hands (partly in the pipe), two queued.
        assert_eq!(sent, 3);
        // The vendor reads again: everything arrives, the waiting send included.
        let waiting = tokio::spawn({
            let stdin = stdin.clone();
            async move { stdin.send(&"last").await }
        });
        let closing = tokio::spawn(async move { stdin.close().await });
        let mut got = String::new();
        theirs.read_to_string(&mut got).await.unwrap();
        assert!(waiting.await.unwrap());
        closing.await.unwrap();
        let lines: Vec<_> = got.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3], r#""last""#);
    }

    #[tokio::test]
    async fn try_send_drops_instead_of_waiting_when_the_queue_is_full() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let stdin = StdinLines::new(ours, 2);
        let big = "x".repeat(100);
        let accepted = (0..100).filter(|_| stdin.try_send(&big)).count();
        // At most the queue plus the line in the writer's hands; never one per call.
        assert!((2..=3).contains(&accepted), "{accepted}");
    }

    #[tokio::test]
    async fn a_vendor_that_closed_its_stdin_breaks_the_writer() {
        let (writer, mut reader) = tokio::net::unix::pipe::pipe().unwrap();
        let stdin = StdinLines::new(writer, 4);
        assert!(stdin.send(&json!({"n": 1})).await);
        let mut buf = [0u8; 8];
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"{\"n\":1}\n");
        drop(reader);
        // The next write hits EPIPE; then sends fail.
        let mut sends = 0;
        while stdin.send(&json!({"n": 2})).await {
            sends += 1;
            assert!(sends < 100, "the writer never noticed the closed pipe");
            tokio::task::yield_now().await;
        }
        assert!(stdin.is_broken());
        stdin.close().await;
    }
}
