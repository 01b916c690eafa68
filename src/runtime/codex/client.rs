//! A client for `codex app-server` over stdio.
//!
//! Codex's framing: one JSON message per line, JSON-RPC shaped but without the `"jsonrpc"` field.
//! Our requests carry our ids; codex's requests to us (approvals) carry ids from its own space,
//! which we echo back in our answer. A reader task resolves responses to our requests and hands
//! notifications and server requests, in order, to the run loop.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use memchr::memmem;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::{mpsc, oneshot};

use crate::runtime::json_scan;
use crate::runtime::jsonl::{JsonLines, VendorLine};
use crate::runtime::text_burst::TextBurst;
use crate::runtime::EventSink;

/// A message from codex that is not a response to us.
#[derive(Debug)]
pub enum Incoming {
    /// Consecutive `item/agentMessage/delta` notifications of one turn (`turnId`, if given),
    /// read without a `Value` tree: only when the host did not ask for raw vendor events.
    AgentDeltas {
        turn_id: Option<String>,
        texts: TextBurst,
    },
    /// `raw["params"]` are the params: not cloned out, a delta line is parsed once and moved.
    Notification { method: String, raw: Value },
    Request {
        id: Value,
        method: String,
        params: Value,
        raw: Value,
    },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("codex answered {method} with error {code}: {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    #[error("codex closed its output before answering {0}")]
    Closed(String),
}

type Pending = Arc<Mutex<HashMap<u64, (String, oneshot::Sender<Result<Value, CallError>>)>>>;

#[derive(Clone)]
pub struct Client {
    stdin: Arc<tokio::sync::Mutex<Option<ChildStdin>>>,
    pending: Pending,
    next_id: Arc<AtomicU64>,
}

impl Client {
    /// Starts the reader; the receiver yields codex's notifications and requests until its stdout
    /// closes. `events` (when given) is touched on every line, for the idle watchdog.
    pub fn start<R: AsyncRead + Unpin + Send + 'static>(
        stdin: ChildStdin,
        stdout: R,
        max_line_bytes: usize,
        events: Option<EventSink>,
    ) -> (Client, mpsc::UnboundedReceiver<Incoming>) {
        let client = Client {
            stdin: Arc::new(tokio::sync::Mutex::new(Some(stdin))),
            pending: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(read_loop(
            JsonLines::new(stdout, max_line_bytes),
            client.pending.clone(),
            tx,
            events,
        ));
        (client, rx)
    }

    /// Sends a request and waits for its answer.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, (method.to_string(), tx));
        if !self
            .write(&json!({ "id": id, "method": method, "params": params }))
            .await
        {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            return Err(CallError::Closed(method.to_string()));
        }
        rx.await
            .unwrap_or_else(|_| Err(CallError::Closed(method.to_string())))
    }

    pub async fn notify(&self, method: &str) -> bool {
        self.write(&json!({ "method": method })).await
    }

    /// Answers one of codex's requests.
    pub async fn respond(&self, id: &Value, result: Value) -> bool {
        self.write(&json!({ "id": id, "result": result })).await
    }

    pub async fn respond_error(&self, id: &Value, code: i64, message: &str) -> bool {
        self.write(&json!({ "id": id, "error": { "code": code, "message": message } }))
            .await
    }

    /// Closes codex's stdin: app-server then shuts down gracefully (and kills its tool processes).
    pub async fn close(&self) {
        if let Some(mut stdin) = self.stdin.lock().await.take() {
            let _ = stdin.shutdown().await;
        }
    }

    async fn write(&self, msg: &Value) -> bool {
        let mut line = serde_json::to_vec(msg).expect("messages serialize");
        line.push(b'\n');
        let mut guard = self.stdin.lock().await;
        let Some(stdin) = guard.as_mut() else {
            return false;
        };
        let ok = stdin.write_all(&line).await.is_ok() && stdin.flush().await.is_ok();
        if !ok {
            *guard = None;
        }
        ok
    }
}

/// Most deltas handed over as one message.
const DELTA_BURST: usize = 512;

async fn read_loop<R: AsyncRead + Unpin>(
    mut lines: JsonLines<R>,
    pending: Pending,
    tx: mpsc::UnboundedSender<Incoming>,
    events: Option<EventSink>,
) {
    // Every raw message is wanted as an event: then every line needs its `Value`.
    let fast = events.as_ref().is_some_and(|e| !e.includes_vendor_events());
    let mut reader = json_scan::Reader::default();
    let mut bursts = Vec::new();
    while let Some(line) = lines
        .next_or(|l| take_delta(fast, &mut reader, &mut bursts, l))
        .await
    {
        if let Some(e) = &events {
            e.touch();
        }
        let line = match line {
            Ok(()) => {
                // The deltas right behind it in the read buffer go with it, grouped by turn.
                lines.drain_fast(
                    |l| take_delta(true, &mut reader, &mut bursts, l).is_some(),
                    DELTA_BURST,
                );
                for (turn_id, texts) in bursts.drain(..) {
                    let _ = tx.send(Incoming::AgentDeltas { turn_id, texts });
                }
                continue;
            }
            Err(line) => line,
        };
        let v = match line {
            VendorLine::Json(v) => v,
            VendorLine::Text(t) => {
                tracing::debug!(
                    "codex wrote a non-JSON line: {}",
                    crate::hygiene::redact(&t)
                );
                continue;
            }
            VendorLine::TooLong => {
                tracing::warn!("codex wrote a line over the size limit; skipped");
                continue;
            }
        };
        let method = v.get("method").and_then(Value::as_str).map(str::to_string);
        let id = v.get("id").cloned().filter(|i| !i.is_null());
        match (method, id) {
            (Some(method), Some(id)) => {
                let params = v.get("params").cloned().unwrap_or(Value::Null);
                let _ = tx.send(Incoming::Request {
                    id,
                    method,
                    params,
                    raw: v,
                });
            }
            (Some(method), None) => {
                let _ = tx.send(Incoming::Notification { method, raw: v });
            }
            (None, Some(id)) => {
                let Some(n) = id.as_u64() else { continue };
                let Some((method, waiter)) =
                    pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&n)
                else {
                    continue;
                };
                let answer = match v.get("error") {
                    Some(err) => Err(CallError::Rpc {
                        method,
                        code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                        message: err
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    }),
                    None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = waiter.send(answer);
            }
            (None, None) => {}
        }
    }
    // EOF: nobody will answer the rest.
    let waiting: Vec<_> = pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain()
        .collect();
    for (_, (method, waiter)) in waiting {
        let _ = waiter.send(Err(CallError::Closed(method)));
    }
}

/// The fast path for an agent message delta line (when `on`): its text added to the last burst
/// if that is of the same turn, else to a new one.
fn take_delta(
    on: bool,
    reader: &mut json_scan::Reader,
    bursts: &mut Vec<(Option<String>, TextBurst)>,
    line: &str,
) -> Option<()> {
    if !on {
        return None;
    }
    let (turn_id, text) = agent_delta(reader, line)?;
    match bursts.last_mut() {
        Some((turn, burst)) if turn.as_deref() == turn_id.as_deref() => burst.push(&text),
        _ => {
            // Sized for a burst of short tokens: fewer regrowths while a read's worth is added.
            let mut burst = TextBurst::with_capacity(64, 1024);
            burst.push(&text);
            bursts.push((turn_id.map(Cow::into_owned), burst));
        }
    }
    Some(())
}

/// `(turnId, delta)` of an `item/agentMessage/delta` notification — the line a streamed answer
/// is made of — read with [`json_scan`]. `None` for every other line (and for any shape the
/// `Value` way would read differently), which then takes the `Value` way.
fn agent_delta<'a>(
    reader: &mut json_scan::Reader,
    line: &'a str,
) -> Option<(Option<Cow<'a, str>>, Cow<'a, str>)> {
    // A line of another shape than the last is scanned only if it has the mark every delta has
    // (inside a JSON string the quotes would be escaped).
    static MARK: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(br#""item/agentMessage/delta""#));
    let l = reader.read_if(line, |l| MARK.find(l.as_bytes()).is_some())?;
    // With a (non-null) id it is a request, not a notification.
    if !matches!(l.get("id"), None | Some("null"))
        || l.plain_str("method")? != "item/agentMessage/delta"
    {
        return None;
    }
    let params = l.object("params")?;
    let turn_id = match params.get("turnId") {
        None => None,
        Some(_) => Some(params.str("turnId")?),
    };
    Some((turn_id, params.str("delta")?))
}

#[cfg(test)]
mod tests {
    use crate::runtime::json_scan::Reader;

    fn agent_delta(line: &str) -> Option<(Option<String>, String)> {
        let (turn, text) = super::agent_delta(&mut Reader::default(), line)?;
        Some((turn.map(|t| t.into_owned()), text.into_owned()))
    }

    #[test]
    fn takes_only_agent_message_delta_notifications() {
        let line = |extra: &str, params: &str| {
            format!(r#"{{"method":"item/agentMessage/delta"{extra},"params":{params}}}"#)
        };
        let p = r#"{"threadId":"t","turnId":"u","itemId":"i","delta":"Hi \"x\"\n"}"#;
        assert_eq!(
            agent_delta(&line("", p)),
            Some((Some("u".into()), "Hi \"x\"\n".into()))
        );
        assert_eq!(
            agent_delta(&line(r#","id":null"#, r#"{"delta":"d"}"#)),
            Some((None, "d".into()))
        );
        // A request (id), a non-string delta or turnId, another method: not taken.
        assert_eq!(agent_delta(&line(r#","id":7"#, p)), None);
        assert_eq!(agent_delta(&line("", r#"{"delta":7}"#)), None);
        assert_eq!(agent_delta(&line("", r#"{"turnId":1,"delta":"d"}"#)), None);
        assert_eq!(
            agent_delta(
                r#"{"method":"item/started","params":{"delta":"item/agentMessage/delta"}}"#
            ),
            None
        );
    }
}
