//! Lines in, lines out. One reader of the input, one writer that owns the output.
//!
//! The writer is the only code that touches stdout, so lines never interleave. Senders serialize
//! their message straight into one shared output buffer (no per-line channel message, allocation
//! or task wake-up: a streamed answer is hundreds of thousands of lines); the writer takes the
//! whole buffer at once and writes it in one go. The buffer is bounded: when the host stops
//! reading, senders wait (back-pressure) instead of buffering without limit.
//!
//! The writer is a plain thread doing blocking writes: tokio's stdout would hand every write (and
//! flush) to the blocking pool, two thread hops per chunk, and a chunk is only a few events when
//! the host reads as fast as we write. Senders wake the thread only when it sleeps on an empty
//! buffer; after a write it lingers a moment before it sleeps (see [`LINGER`]), so a stream of
//! events is written a few dozen at a time, not one write and one wake-up each.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::io::AsyncRead;
use tokio::sync::Notify;
use tokio_util::codec::FramedRead;

use crate::framing::{Frame, LineFrames};

/// Senders wait while this much output is waiting for the writer. One message may go past it
/// (a large result is never split or refused), so the buffer holds at most this plus one message.
const HIGH_WATER: usize = 256 * 1024;

/// How long the writer waits for more output after a write before it sleeps until woken. A
/// stream of events (one every few microseconds) then goes out in chunks of a hundred lines or
/// more, with no wake-up per line; a lone message (a reply) finds the writer asleep and is
/// written at once. Each linger is a sleep and a wake-up of this thread, which on this 2-core VM
/// cost more than the writes themselves at 50 µs (perf: ~8 % of a claude relay's CPU in the
/// scheduler); at 400 µs they are a few thousand a second at most, and no event of a stream
/// waits longer than that (invisible to a person; nor does a reply that comes during a linger).
const LINGER: std::time::Duration = std::time::Duration::from_micros(400);

/// A handle to the writer. Cloneable; the writer stops when every handle is dropped.
#[derive(Clone)]
pub struct Outbound {
    handle: Arc<Handle>,
}

/// The senders' side; dropping the last one lets the writer finish.
struct Handle(Arc<Shared>);

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer (when it sleeps): there is output, or the last handle went.
    has_data: Condvar,
    /// Wakes waiting senders: the writer took the buffer, or stopped.
    has_room: Notify,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// Every handle is gone: write what is left and stop.
    senders_gone: bool,
    /// The output failed (the host closed it): drop what comes.
    writer_gone: bool,
    /// The writer sleeps on `has_data` (a wake-up is a syscall: made only when one is needed).
    writer_asleep: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.lock().senders_gone = true;
        self.0.has_data.notify_one();
    }
}

impl Outbound {
    /// Queues one message; waits while the output buffer is full.
    pub async fn send(&self, message: &impl Serialize) {
        self.send_with(|buf| serde_json::to_writer(buf, message))
            .await
    }

    /// Queues one message already serialized as JSON (one line, no newline).
    pub async fn send_line(&self, line: String) {
        self.send_with(|buf| {
            buf.extend_from_slice(line.as_bytes());
            Ok(())
        })
        .await
    }

    /// Queues one message that `write` serializes straight into the output buffer (one line, no
    /// newline). Waits while the buffer is full. A failed `write` leaves nothing behind.
    pub async fn send_with(&self, write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) {
        let shared = &self.handle.0;
        let mut write = Some(|buf: &mut Vec<u8>| {
            write(buf)?;
            buf.push(b'\n');
            Ok(())
        });
        loop {
            // Registered before the check, so a wake-up between the two is not lost.
            let room = shared.has_room.notified();
            if shared.try_append(&mut write) {
                return;
            }
            room.await;
        }
    }
}

impl Shared {
    /// Appends the message `write` makes, unless the buffer is full; `false` means wait for room.
    fn try_append(
        &self,
        write: &mut Option<impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>>,
    ) -> bool {
        let mut state = self.lock();
        if state.writer_gone {
            tracing::debug!("output closed; message dropped");
            return true;
        }
        if state.buf.len() >= HIGH_WATER {
            return false;
        }
        let write = write.take().expect("appended once");
        let start = state.buf.len();
        if let Err(e) = write(&mut state.buf) {
            state.buf.truncate(start);
            tracing::error!("message not serializable; dropped: {e}");
            return true;
        }
        escape_line_separators(&mut state.buf, start);
        let wake = std::mem::take(&mut state.writer_asleep);
        drop(state);
        if wake {
            self.has_data.notify_one();
        }
        true
    }

    /// Swaps the queued output into `chunk`, sleeping while there is none; `false` when there is
    /// none and no sender is left. `linger`: wait [`LINGER`] for more first (without being
    /// woken for it).
    fn take(&self, chunk: &mut Vec<u8>, linger: bool) -> bool {
        if linger && self.lock().buf.is_empty() {
            std::thread::sleep(LINGER);
        }
        let mut state = self.lock();
        while state.buf.is_empty() {
            if state.senders_gone {
                return false;
            }
            state.writer_asleep = true;
            state = self.has_data.wait(state).unwrap_or_else(|e| e.into_inner());
            state.writer_asleep = false;
        }
        // Senders fill the (empty, allocated) other buffer meanwhile.
        std::mem::swap(&mut state.buf, chunk);
        true
    }
}

/// U+2028/U+2029 are legal raw in JSON but split lines in Node's readline: escape them in the
/// bytes from `start` on. Both encode as E2 80 A8/A9; most lines have no E2 byte at all.
fn escape_line_separators(buf: &mut Vec<u8>, start: usize) {
    let tail = &buf[start..];
    if memchr::memchr(0xE2, tail).is_none() {
        return;
    }
    let text = String::from_utf8_lossy(tail);
    if !text.contains(['\u{2028}', '\u{2029}']) {
        return;
    }
    let escaped = text
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    buf.truncate(start);
    buf.extend_from_slice(escaped.as_bytes());
}

/// Starts the writer thread over `out`. Returns the handle and a future to await at shutdown
/// (it resolves after the last handle is dropped and everything queued is written and flushed,
/// or the output failed).
pub fn spawn_writer<W>(out: W) -> (Outbound, impl Future<Output = ()>)
where
    W: Write + Send + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        has_data: Condvar::new(),
        has_room: Notify::new(),
    });
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let writer = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || {
            write_loop(&writer, out);
            drop(done_tx);
        });
    if let Err(e) = spawned {
        // Nothing can be written: senders drop what they queue instead of waiting forever.
        tracing::error!("cannot start the output thread: {e}");
        shared.lock().writer_gone = true;
    }
    let done = async move {
        let _ = done_rx.await;
    };
    (
        Outbound {
            handle: Arc::new(Handle(shared)),
        },
        done,
    )
}

fn write_loop(shared: &Shared, mut out: impl Write) {
    let mut chunk = Vec::new();
    let mut wrote = false;
    while shared.take(&mut chunk, wrote) {
        wrote = true;
        shared.has_room.notify_waiters();
        if out.write_all(&chunk).and_then(|()| out.flush()).is_err() {
            tracing::debug!("output closed");
            shared.lock().writer_gone = true;
            shared.has_room.notify_waiters();
            return;
        }
        chunk.clear();
        // One huge message must not pin its buffer for the rest of the session.
        if chunk.capacity() > 4 * HIGH_WATER {
            chunk = Vec::new();
        }
    }
    let _ = out.flush();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lines_arrive_whole_in_order_and_separators_are_escaped() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let (out, writer) = spawn_writer(ours);
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let out = out.clone();
                tokio::spawn(async move {
                    for i in 0..500 {
                        out.send(&serde_json::json!({"t": t, "i": i, "s": "a\u{2028}b"}))
                            .await;
                    }
                })
            })
            .collect();
        drop(out);
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            theirs.read_to_string(&mut text).unwrap();
            text
        });
        for s in senders {
            s.await.unwrap();
        }
        writer.await;
        let text = reader.join().unwrap();
        let mut next = [0; 4];
        for line in text.lines() {
            assert!(line.contains(r#""s":"a\u2028b""#), "{line}");
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = v["t"].as_u64().unwrap() as usize;
            assert_eq!(
                v["i"].as_u64().unwrap() as usize,
                next[t],
                "per-sender order"
            );
            next[t] += 1;
        }
        assert_eq!(next, [500; 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn senders_wait_while_the_host_does_not_read_and_nothing_is_lost() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let (out, writer) = spawn_writer(ours);
        let line = "x".repeat(1000);
        let sender = tokio::spawn(async move {
            for i in 0..4000 {
                out.send(&serde_json::json!({"i": i, "s": line})).await;
            }
        });
        // 4 MB cannot fit in the socket's buffer plus our high-water mark: the sender waits.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!sender.is_finished(), "the sender should wait for the host");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            theirs.read_to_string(&mut text).unwrap();
            text
        });
        sender.await.unwrap();
        writer.await;
        let text = reader.join().unwrap();
        let ids: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["i"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, (0..4000).collect::<Vec<_>>());
    }
}
