//! A JSON-RPC 2.0 peer over a vendor's stdio, one message per line: the shared piece for vendors
//! that speak JSON-RPC (`codex app-server` now, Agent Client Protocol agents next).
//!
//! Both sides send requests. Ours get ids from a counter and are answered through [`Peer::request`];
//! the vendor's notifications and requests come out of an [`Inbox`], in order, as [`Incoming`], and
//! its requests are answered with [`Peer::respond`] / [`Peer::respond_error`] (their ids are from
//! the vendor's own space and are echoed back as given). It knows nothing of any vendor.
//!
//! Each line is read once into a small borrowed [`Envelope`]: `params` is kept as raw JSON text
//! that the caller reads into its own type ([`Message::params`]), so a frequent notification
//! (a streamed token) never becomes a `Value` tree. The `"jsonrpc"` member is written on every
//! message and not required on input: some vendors (codex) leave it out.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::process::{StdinLines, STDIN_QUEUE};
use crate::runtime::jsonl::{JsonLines, VendorLine};

/// A message from the vendor that is not a response to us.
#[derive(Debug)]
pub enum Incoming {
    Notification(Message),
    /// A request to us; answer it with its `id`.
    Request {
        id: Value,
        message: Message,
    },
}

/// A notification or request: the whole line as read, with where its method and params (raw
/// JSON) are in it. The line is the reader's own, kept without a copy.
#[derive(Debug)]
pub struct Message {
    line: String,
    method: Method,
    params: Option<Range<usize>>,
}

/// Where a message's method name is: in its line, or (written with escapes) decoded beside it.
#[derive(Debug)]
enum Method {
    InLine(Range<usize>),
    Decoded(String),
}

impl Message {
    /// The method's name.
    pub fn method(&self) -> &str {
        match &self.method {
            Method::InLine(r) => &self.line[r.clone()],
            Method::Decoded(m) => m,
        }
    }

    /// The params read into `T` (borrowing from them where `T` borrows). Absent params read as
    /// `null`.
    pub fn params<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        let params = self.params.clone().map_or("null", |r| &self.line[r]);
        serde_json::from_str(params)
    }

    /// The params as a `Value` (`Null` when absent).
    pub fn params_value(&self) -> Value {
        self.params().unwrap_or(Value::Null)
    }

    /// The whole message as the vendor wrote it.
    pub fn raw(&self) -> Value {
        serde_json::from_str(&self.line).unwrap_or(Value::Null)
    }
}

/// The vendor's notifications and requests, in order. The reader hands over every message it has
/// at hand in one batch (one channel message and at most one wake-up of the consumer per read of
/// the pipe, not one per line: a streamed answer is hundreds of thousands of lines).
///
/// At most [`INBOX_LIMIT`] messages wait in it: then the reader stops reading until the
/// consumer catches up, and the vendor waits on its full pipe (back-pressure), instead of the
/// sidecar buffering a whole streamed answer (and paying for fresh memory on every line of it).
/// So a consumer that waits for an answer without taking what comes before it must expect fewer
/// than that many messages first (a handshake's few).
#[derive(Debug)]
pub struct Inbox {
    batches: mpsc::UnboundedReceiver<Vec<Incoming>>,
    batch: std::vec::IntoIter<Incoming>,
    /// Room for messages not yet taken; a batch's share is given back when the batch is taken.
    room: Arc<Semaphore>,
}

/// Most messages waiting in an [`Inbox`]: about a megabyte of typical lines.
pub const INBOX_LIMIT: usize = 4096;

impl Inbox {
    /// The next message; `None` once the vendor's output has closed and every message is taken.
    /// Cancel-safe (a `select!` branch): nothing is lost when the future is dropped.
    pub async fn recv(&mut self) -> Option<Incoming> {
        loop {
            if let Some(message) = self.batch.next() {
                return Some(message);
            }
            let batch = self.batches.recv().await?;
            self.room.add_permits(batch.len());
            self.batch = batch.into_iter();
        }
    }

    /// The next message of the batch already handed over, without waiting (at most a batch:
    /// a consumer that drains with this still gets back to its other work between batches).
    pub fn next_at_hand(&mut self) -> Option<Incoming> {
        self.batch.next()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("{peer} answered {method} with error {code}: {message}")]
    Rpc {
        peer: &'static str,
        method: String,
        code: i64,
        message: String,
    },
    #[error("{peer} closed its output before answering {method}")]
    Closed { peer: &'static str, method: String },
}

/// One line as JSON-RPC: a request (method and id), a notification (method, no id or a null
/// one) or a response (id, no method). Unknown members are ignored.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// What the reader makes of one line.
enum Parsed {
    Incoming(Incoming),
    Response {
        id: Value,
        answer: Result<Value, (i64, String)>,
    },
    /// Neither: ignored.
    Other,
}

/// Reads one line, which a message keeps (the line is given back with the error when it is not
/// JSON-RPC).
fn parse(line: String) -> Result<Parsed, (String, serde_json::Error)> {
    let e: Envelope<'_> = match serde_json::from_str(&line) {
        Ok(e) => e,
        Err(err) => return Err((line, err)),
    };
    let (method, params) = match &e.method {
        Some(Cow::Borrowed(m)) => (Some(Method::InLine(span_in(&line, m))), e.params),
        Some(Cow::Owned(m)) => (Some(Method::Decoded(m.clone())), e.params),
        None => (None, None),
    };
    let params = params.map(|p| span_in(&line, p.get()));
    let (id, result, error) = (e.id, e.result, e.error);
    Ok(match (method, id) {
        (Some(method), id) => {
            let message = Message {
                line,
                method,
                params,
            };
            Parsed::Incoming(match id {
                Some(id) => Incoming::Request { id, message },
                None => Incoming::Notification(message),
            })
        }
        (None, Some(id)) => {
            let answer = match error {
                Some(err) => Err((
                    err.get("code").and_then(Value::as_i64).unwrap_or(0),
                    err.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                )),
                None => Ok(result.unwrap_or(Value::Null)),
            };
            Parsed::Response { id, answer }
        }
        (None, None) => Parsed::Other,
    })
}

/// Where `part`, a slice of `whole` (serde borrowed it from there), lies in `whole`.
fn span_in(whole: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// Our requests waiting for their answer, by id: the method (for errors) and the waiter.
type Waiter = (String, oneshot::Sender<Result<Value, CallError>>);
type Waiters = Arc<Mutex<HashMap<u64, Waiter>>>;

/// Our side of the connection. Cheap to clone; every clone writes to the same stream.
#[derive(Clone)]
pub struct Peer {
    /// Names the vendor in errors.
    name: &'static str,
    writer: StdinLines,
    waiters: Waiters,
    next_id: Arc<AtomicU64>,
}

impl Peer {
    /// Starts the reader over `reader` (lines of at most `max_line_bytes`); the inbox yields
    /// the vendor's notifications and requests until its output closes. `on_line` runs when
    /// lines were read (a runtime's idle watchdog): once per batch of lines read together, not
    /// once per line (it reads the clock).
    pub fn start(
        name: &'static str,
        writer: impl AsyncWrite + Unpin + Send + 'static,
        reader: impl AsyncRead + Unpin + Send + 'static,
        max_line_bytes: usize,
        on_line: impl Fn() + Send + 'static,
    ) -> (Peer, Inbox) {
        let peer = Peer {
            name,
            writer: StdinLines::new(writer, STDIN_QUEUE),
            waiters: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(INBOX_LIMIT));
        tokio::spawn(read_loop(
            name,
            JsonLines::new(reader, max_line_bytes),
            peer.waiters.clone(),
            Handover {
                tx,
                room: room.clone(),
            },
            on_line,
        ));
        let inbox = Inbox {
            batches: rx,
            batch: Vec::new().into_iter(),
            room,
        };
        (peer, inbox)
    }

    /// Sends a request and waits for its answer.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.waiters().insert(id, (method.to_string(), tx));
        let sent = self
            .write(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        if !sent {
            self.waiters().remove(&id);
        }
        rx.await.unwrap_or_else(|_| {
            Err(CallError::Closed {
                peer: self.name,
                method: method.to_string(),
            })
        })
    }

    /// Sends a notification (no params).
    pub async fn notify(&self, method: &str) -> bool {
        self.write(&json!({ "jsonrpc": "2.0", "method": method }))
            .await
    }

    /// Answers one of the vendor's requests.
    pub async fn respond(&self, id: &Value, result: Value) -> bool {
        self.write(&json!({ "jsonrpc": "2.0", "id": id, "result": result }))
            .await
    }

    pub async fn respond_error(&self, id: &Value, code: i64, message: &str) -> bool {
        self.write(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message },
        }))
        .await
    }

    /// Closes our output (the vendor's stdin) once what was sent is written; later writes fail.
    pub async fn close(&self) {
        self.writer.close().await;
    }

    /// Our output, for [`crate::process::Supervised::wind_down`].
    pub fn output(&self) -> &StdinLines {
        &self.writer
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiter>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues one message as a line; `false` once the stream is closed or broken.
    async fn write(&self, msg: &Value) -> bool {
        self.writer.send(msg).await
    }
}

/// Most messages handed over in one batch: a vendor that writes faster than the consumer reads
/// still gets its messages delivered in steady steps.
const MAX_BATCH: usize = 256;

/// The reader's end of the [`Inbox`].
struct Handover {
    tx: mpsc::UnboundedSender<Vec<Incoming>>,
    room: Arc<Semaphore>,
}

impl Handover {
    /// Hands `batch` over (emptying it), once the inbox has room for it.
    async fn send(&self, batch: &mut Vec<Incoming>) {
        let n = u32::try_from(batch.len()).expect("a batch is at most MAX_BATCH");
        // Never closed; the permits go back when the consumer takes the batch.
        if let Ok(permits) = self.room.acquire_many(n).await {
            permits.forget();
        }
        let _ = self.tx.send(std::mem::take(batch));
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    name: &'static str,
    mut lines: JsonLines<R>,
    waiters: Waiters,
    inbox: Handover,
    on_line: impl Fn(),
) {
    let mut batch = Vec::new();
    while let Some(first) = lines.next_owned_with(parse).await {
        on_line();
        let mut next = Some(first);
        while let Some(line) = next.take() {
            match line {
                VendorLine::Json(Parsed::Incoming(msg)) => batch.push(msg),
                VendorLine::Json(Parsed::Response { id, answer }) => {
                    // What came before the answer goes first.
                    if !batch.is_empty() {
                        inbox.send(&mut batch).await;
                    }
                    answer_waiter(name, &waiters, id, answer);
                }
                VendorLine::Json(Parsed::Other) => {}
                VendorLine::Text(t) => {
                    tracing::debug!(
                        "{name} wrote a line that is not JSON-RPC: {}",
                        crate::hygiene::redact(&t)
                    );
                }
                VendorLine::TooLong => {
                    tracing::warn!("{name} wrote a line over the size limit; skipped");
                }
            }
            // The lines already at hand (read, or readable without waiting) join the batch.
            // Dropping the unfinished read loses nothing: `JsonLines` keeps what it has read.
            if batch.len() < MAX_BATCH {
                next = lines.next_owned_with(parse).now_or_never().flatten();
            }
        }
        if !batch.is_empty() {
            inbox.send(&mut batch).await;
        }
    }
    // EOF: nobody will answer the rest.
    let waiting: Vec<_> = waiters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain()
        .collect();
    for (_, (method, waiter)) in waiting {
        let _ = waiter.send(Err(CallError::Closed { peer: name, method }));
    }
}

/// Hands the vendor's answer to the request waiting for it.
fn answer_waiter(
    name: &'static str,
    waiters: &Waiters,
    id: Value,
    answer: Result<Value, (i64, String)>,
) {
    let waiter = id
        .as_u64()
        .and_then(|n| waiters.lock().unwrap_or_else(|e| e.into_inner()).remove(&n));
    let Some((method, waiter)) = waiter else {
        tracing::debug!("{name} answered a request we did not send (id {id})");
        return;
    };
    let answer = answer.map_err(|(code, message)| CallError::Rpc {
        peer: name,
        method,
        code,
        message,
    });
    let _ = waiter.send(answer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// The vendor's end of an in-memory pipe: reads our lines, writes its own.
    struct Vendor {
        from_us: tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
        to_us: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    }

    impl Vendor {
        async fn read(&mut self) -> Value {
            let line = self.from_us.next_line().await.unwrap().expect("a line");
            serde_json::from_str(&line).unwrap()
        }

        async fn write(&mut self, line: &str) {
            self.to_us.write_all(line.as_bytes()).await.unwrap();
            self.to_us.write_all(b"\n").await.unwrap();
        }
    }

    fn connect() -> (Peer, Inbox, Vendor) {
        let (ours, theirs) = tokio::io::duplex(4096);
        let (our_read, our_write) = tokio::io::split(ours);
        let (their_read, their_write) = tokio::io::split(theirs);
        let (peer, incoming) = Peer::start("vendor", our_write, our_read, 1 << 20, || {});
        let vendor = Vendor {
            from_us: BufReader::new(their_read).lines(),
            to_us: their_write,
        };
        (peer, incoming, vendor)
    }

    #[tokio::test]
    async fn requests_are_matched_to_their_answers_in_any_order() {
        let (peer, _incoming, mut vendor) = connect();
        let (a, b) = (peer.clone(), peer.clone());
        let first = tokio::spawn(async move { a.request("first", json!({"n": 1})).await });
        let req1 = vendor.read().await;
        let second = tokio::spawn(async move { b.request("second", json!([])).await });
        let req2 = vendor.read().await;
        assert_eq!(req1["jsonrpc"], "2.0");
        assert_eq!(req1["method"], "first");
        assert_eq!(req1["params"], json!({"n": 1}));
        assert_ne!(req1["id"], req2["id"]);
        // Answered in reverse order; one without "jsonrpc", one with an error.
        vendor
            .write(&format!(r#"{{"id":{},"result":{{"ok":2}}}}"#, req2["id"]))
            .await;
        vendor
            .write(&format!(
                r#"{{"jsonrpc":"2.0","id":{},"error":{{"code":-32602,"message":"bad"}}}}"#,
                req1["id"]
            ))
            .await;
        assert_eq!(second.await.unwrap().unwrap(), json!({"ok": 2}));
        let err = first.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, CallError::Rpc { code: -32602, message, method, .. } if message == "bad" && method == "first"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "vendor answered first with error -32602: bad"
        );
    }

    #[tokio::test]
    async fn notifications_and_requests_come_in_order_and_requests_are_answered() {
        let (peer, mut incoming, mut vendor) = connect();
        vendor
            .write(r#"{"method":"note","params":{"text":"a\"b","n":1}}"#)
            .await;
        vendor.write("a banner, not JSON").await;
        vendor
            .write(r#"{"jsonrpc":"2.0","id":"srv-1","method":"ask","params":{"q":1}}"#)
            .await;
        vendor.write(r#"{"method":"bare","id":null}"#).await;

        let Some(Incoming::Notification(n)) = incoming.recv().await else {
            panic!("a notification first")
        };
        assert_eq!(n.method(), "note");
        #[derive(Deserialize)]
        struct Note<'a> {
            #[serde(borrow)]
            text: std::borrow::Cow<'a, str>,
        }
        assert_eq!(n.params::<Note<'_>>().unwrap().text, "a\"b");
        assert_eq!(n.raw()["params"]["n"], 1);
        let Some(Incoming::Request { id, message }) = incoming.recv().await else {
            panic!("then the request")
        };
        assert_eq!((id.clone(), message.method()), (json!("srv-1"), "ask"));
        assert_eq!(message.params_value(), json!({"q": 1}));
        let Some(Incoming::Notification(bare)) = incoming.recv().await else {
            panic!("a null id is a notification")
        };
        assert_eq!(bare.params_value(), Value::Null);

        assert!(peer.respond(&id, json!({"decision": "deny"})).await);
        assert_eq!(
            vendor.read().await,
            json!({"jsonrpc": "2.0", "id": "srv-1", "result": {"decision": "deny"}})
        );
        assert!(peer.respond_error(&json!(7), -32601, "no").await);
        assert_eq!(
            vendor.read().await,
            json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "no"}})
        );
        assert!(peer.notify("initialized").await);
        assert_eq!(
            vendor.read().await,
            json!({"jsonrpc": "2.0", "method": "initialized"})
        );
    }

    #[tokio::test]
    async fn a_closed_output_fails_the_waiting_requests_and_ends_the_stream() {
        let (peer, mut incoming, mut vendor) = connect();
        let call = tokio::spawn({
            let peer = peer.clone();
            async move { peer.request("slow", Value::Null).await }
        });
        vendor.read().await;
        drop(vendor);
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "vendor closed its output before answering slow"
        );
        assert!(incoming.recv().await.is_none());
        peer.close().await;
        assert!(!peer.notify("late").await);
    }

    #[tokio::test]
    async fn a_consumer_that_falls_behind_holds_the_vendor_back_and_loses_nothing() {
        let (_peer, mut incoming, mut vendor) = connect();
        let total = 3 * INBOX_LIMIT;
        let writer = tokio::spawn(async move {
            for i in 0..total {
                vendor
                    .write(&format!(r#"{{"method":"n","params":{{"i":{i}}}}}"#))
                    .await;
            }
            vendor
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !writer.is_finished(),
            "the reader should stop reading while the inbox is full"
        );
        for i in 0..total {
            let Some(Incoming::Notification(n)) = incoming.recv().await else {
                panic!("notification {i}")
            };
            assert_eq!(n.params_value()["i"], i);
        }
        drop(writer.await.unwrap());
        assert!(incoming.recv().await.is_none());
    }
}
