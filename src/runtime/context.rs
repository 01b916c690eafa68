//! What a runtime gets to run one task: the task, an event sink, a cancel token and an approval
//! broker. Nothing here knows JSON-RPC; the server (or the one-shot CLI) plugs in behind the traits.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::hygiene::{self, Hygiene, TextStream, Truncated};
use crate::protocol::event::{EventBody, TextData, ToolRequested, VendorEvent};
use crate::protocol::methods::{
    ApprovalParams, ApprovalResponse, Decision, InputRequestParams, InputResponse, Question,
};
use crate::protocol::task::{AgentTask, ApprovalMode, RunOptions};

/// Where a task's events go (the JSON-RPC writer, the terminal, a recorder).
#[async_trait]
pub trait EventOutput: Send + Sync {
    /// Delivers one event (a [`crate::protocol::Event`] serialized and cleaned); awaiting it applies the host's
    /// back-pressure.
    async fn send(&self, event: Value);

    /// Delivers one event as the sink built it. Outputs that write JSON text override this to
    /// serialize the event straight into their output (`serde_json::to_writer`), without a `Value`
    /// for its envelope.
    async fn send_event(&self, event: OutEvent<'_>) {
        self.send(event.to_value()).await
    }
}

/// One outgoing event, cleaned. Serializes to the [`crate::protocol::Event`] object with its keys
/// in sorted order (`data`, `parentToolCallId`, `seq`, `taskId`, `time`, `type`): the bytes a
/// `Value` map would give.
#[derive(serde::Serialize)]
pub struct OutEvent<'a> {
    pub data: EventData,
    #[serde(rename = "parentToolCallId", skip_serializing_if = "Option::is_none")]
    pub parent_tool_call_id: Option<&'a str>,
    pub seq: u64,
    #[serde(rename = "taskId")]
    pub task_id: &'a str,
    pub time: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

/// An event's `data`, cleaned: a `Value`, or the text of an output delta, which skips the `Value`
/// tree (a streamed answer is made of thousands of deltas). Both serialize to the same bytes.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum EventData {
    Text(CleanText),
    Value(Value),
}

/// `{"text": ...}`, with `textTruncated` beside it when the text was cut: what
/// [`Hygiene::clean`] makes of a `{"text": ...}` object.
#[derive(serde::Serialize)]
pub struct CleanText {
    text: String,
    #[serde(rename = "textTruncated", skip_serializing_if = "Option::is_none")]
    text_truncated: Option<Truncated>,
}

impl OutEvent<'_> {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("events serialize")
    }
}

/// Asks the host to approve a tool call, or to answer the agent's questions.
#[async_trait]
pub trait ApprovalHost: Send + Sync {
    async fn ask(&self, params: ApprovalParams) -> Result<ApprovalResponse, String>;

    /// Sends `input/request`. Dropping the future before it resolves withdraws the request
    /// (`$/cancelRequest`), and a late answer is ignored.
    async fn ask_input(&self, _params: InputRequestParams) -> Result<InputResponse, String> {
        Err("this host cannot answer questions".into())
    }
}

/// Why a task's cancel token fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StopReason {
    None = 0,
    Cancelled = 1,
    Timeout = 2,
    IdleTimeout = 3,
    Shutdown = 4,
}

/// The task's stop signal: a token plus the reason it fired.
#[derive(Clone, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<AtomicU8>,
}

impl Stop {
    /// Fires the token; the first reason wins.
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.compare_exchange(
            StopReason::None as u8,
            reason as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.token.cancel();
    }

    pub fn reason(&self) -> StopReason {
        match self.reason.load(Ordering::SeqCst) {
            1 => StopReason::Cancelled,
            2 => StopReason::Timeout,
            3 => StopReason::IdleTimeout,
            4 => StopReason::Shutdown,
            _ => StopReason::None,
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when the task must stop.
    pub async fn stopped(&self) {
        self.token.cancelled().await
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

/// Numbers, cleans and delivers a task's events. Cheap to clone; all clones share one sequence.
#[derive(Clone)]
pub struct EventSink {
    inner: Arc<SinkInner>,
}

/// What must change only in delivery order: the next seq, and the output text held back so
/// that a secret split across two deltas goes out whole (redacted).
#[derive(Default)]
struct Ordered {
    seq: u64,
    /// Every text stream with text held back: the main output, and each reasoning, tool-output
    /// or sub-agent stream, in the order they started.
    streams: Vec<(StreamKey, TextStream)>,
    /// Counts pieces of streamed text, so a delayed flush knows whether more came meanwhile.
    pieces: u64,
}

/// One stream of text deltas: its event type, the sub-agent it runs in, its tool call.
#[derive(Clone, PartialEq, Eq)]
struct StreamKey {
    kind: &'static str,
    parent: Option<String>,
    tool_call_id: Option<String>,
}

impl StreamKey {
    /// The delta's `data` around its (cleaned) text.
    fn data(
        &self,
        text: String,
        text_truncated: Option<Truncated>,
        rest: Option<Map<String, Value>>,
    ) -> EventData {
        if rest.is_none() && self.tool_call_id.is_none() {
            return EventData::Text(CleanText {
                text,
                text_truncated,
            });
        }
        let mut data = Value::Object(rest.unwrap_or_default());
        if let Some(id) = &self.tool_call_id {
            data["toolCallId"] = Value::String(id.clone());
        }
        data["text"] = Value::String(text);
        if let Some(t) = text_truncated {
            data["textTruncated"] = serde_json::to_value(t).expect("markers serialize");
        }
        EventData::Value(data)
    }
}

/// A short tail held back (the start of a word that could begin a credential, such as "s", "ak"
/// or "Bea") goes out after this long without a next piece or event: ordinary text must not wait
/// for a model that pauses. Four characters say nothing of a secret (every `sk-a…` key starts so);
/// a longer held tail waits for the next piece or event.
const SHORT_HOLD_FLUSH: Duration = Duration::from_millis(150);
const SHORT_HOLD_MAX: usize = 4;

struct SinkInner {
    task_id: String,
    // Held across the send so that seq order is delivery order, whoever emits.
    ordered: tokio::sync::Mutex<Ordered>,
    out: Arc<dyn EventOutput>,
    hygiene: Hygiene,
    include_vendor_events: bool,
    closed: AtomicBool,
    started_sent: AtomicBool,
    /// Vendor lines and events so far: the idle watchdog sees activity as this count changing.
    /// (A count, not a time: a clock read per streamed delta showed in the relay's profile.)
    activity: AtomicU64,
    /// Paths already sent in `agent.file.changed` (so the end-of-turn listing does not repeat them).
    files_announced: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl EventSink {
    pub fn new(task_id: String, out: Arc<dyn EventOutput>, options: &RunOptions) -> Self {
        EventSink {
            inner: Arc::new(SinkInner {
                task_id,
                ordered: Default::default(),
                out,
                hygiene: Hygiene::new(options.max_field_bytes()),
                include_vendor_events: options.include_vendor_events,
                closed: AtomicBool::new(false),
                started_sent: AtomicBool::new(false),
                activity: AtomicU64::new(0),
                files_announced: Default::default(),
            }),
        }
    }

    pub fn task_id(&self) -> &str {
        &self.inner.task_id
    }

    /// Whether an `agent.file.changed` for `path` went out in this task already.
    pub fn file_announced(&self, path: &str) -> bool {
        self.inner
            .files_announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(path)
    }

    /// Emits one event. Ignored once the task's terminal event is out (a late background emitter
    /// must not put an event after it).
    pub async fn emit(&self, body: EventBody) {
        self.emit_within(None, body).await
    }

    /// Emits one event caused inside a sub-agent (`parent`: the tool call that started it), or
    /// in the main agent (`None`).
    pub async fn emit_within(&self, parent: Option<&str>, body: EventBody) {
        // Text streams are cleaned as strings (no `Value` tree: a streamed answer is thousands
        // of deltas), each held back where a secret could be split across two pieces.
        let key = |kind, tool_call_id| StreamKey {
            kind,
            parent: parent.map(str::to_string),
            tool_call_id,
        };
        let vendor_rest = |v: Option<Value>| v.map(|v| Map::from_iter([("vendor".to_string(), v)]));
        let body = match body {
            EventBody::OutputDelta(TextData { text, vendor }) => {
                return self
                    .delta(key("agent.output.delta", None), text, vendor_rest(vendor))
                    .await
            }
            EventBody::ReasoningDelta(TextData { text, vendor }) => {
                return self
                    .delta(
                        key("agent.reasoning.delta", None),
                        text,
                        vendor_rest(vendor),
                    )
                    .await
            }
            EventBody::ToolOutputDelta(d) => {
                return self
                    .delta(
                        key("agent.tool.output.delta", Some(d.tool_call_id)),
                        d.text,
                        None,
                    )
                    .await
            }
            other => other,
        };
        if let EventBody::FileChanged(f) = &body {
            self.inner
                .files_announced
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(f.path.clone());
        }
        let v = serde_json::to_value(&body).expect("events serialize");
        let Value::Object(mut map) = v else {
            unreachable!("an adjacently tagged enum serializes to an object")
        };
        let mut data = map.remove("data").unwrap_or(Value::Null);
        let kind = match map.remove("type") {
            Some(Value::String(k)) => k,
            _ => String::new(),
        };
        self.inner.hygiene.clean(&mut data);
        self.deliver(&kind, EventData::Value(data), parent).await
    }

    /// Emits an event of type `kind` with `data` as given, cleaned (redacted, long fields cut with
    /// their marker). Callers make sure `data` fits `kind` (the fixture runtime checks scripts
    /// before it plays them).
    pub async fn emit_raw(&self, kind: &str, mut data: Value) {
        // Text streams go through their hold-back like a runtime's deltas.
        if matches!(
            kind,
            "agent.output.delta" | "agent.reasoning.delta" | "agent.tool.output.delta"
        ) {
            let tagged = serde_json::json!({ "type": kind, "data": &data });
            if let Ok(body) = serde_json::from_value::<EventBody>(tagged) {
                return self.emit_within(None, body).await;
            }
        }
        self.inner.hygiene.clean(&mut data);
        self.deliver(kind, EventData::Value(data), None).await
    }

    /// One piece of a text stream (`rest`: the delta's other members, e.g. `vendor`). What could
    /// be the start of a secret is held back until the stream's next piece or the next event.
    async fn delta(&self, key: StreamKey, text: String, rest: Option<Map<String, Value>>) {
        self.touch();
        let mut ordered = self.inner.ordered.lock().await;
        if self.inner.closed.load(Ordering::SeqCst) {
            return;
        }
        let r = hygiene::current();
        ordered.pieces += 1;
        let at = match ordered.streams.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                ordered.streams.push((key.clone(), TextStream::default()));
                ordered.streams.len() - 1
            }
        };
        if let Some(ready) = ordered.streams[at].1.push(&r, text) {
            self.send_delta(&mut ordered, &key, ready, rest).await;
        }
        let held = ordered.streams[at].1.held_len();
        if held == 0 {
            ordered.streams.remove(at);
        } else if held <= SHORT_HOLD_MAX {
            let (sink, piece) = (self.clone(), ordered.pieces);
            tokio::spawn(async move {
                tokio::time::sleep(SHORT_HOLD_FLUSH).await;
                sink.flush_if_still(piece).await;
            });
        }
    }

    /// Sends the text still held back if no piece came after `piece`.
    async fn flush_if_still(&self, piece: u64) {
        let mut ordered = self.inner.ordered.lock().await;
        if ordered.pieces != piece || self.inner.closed.load(Ordering::SeqCst) {
            return;
        }
        self.flush_streams(&mut ordered).await;
    }

    /// Sends what every stream holds back (a stream ends where another event comes).
    async fn flush_streams(&self, ordered: &mut Ordered) {
        let r = hygiene::current();
        for (key, mut stream) in std::mem::take(&mut ordered.streams) {
            if let Some(held) = stream.flush(&r) {
                self.send_delta(ordered, &key, held, None).await;
            }
        }
    }

    /// Sends a piece of streamed text, already redacted, cut to the field limit.
    async fn send_delta(
        &self,
        ordered: &mut Ordered,
        key: &StreamKey,
        mut text: String,
        rest: Option<Map<String, Value>>,
    ) {
        let text_truncated = self.inner.hygiene.cut_text(&mut text);
        let rest = rest.map(|rest| {
            let mut v = Value::Object(rest);
            self.inner.hygiene.clean(&mut v);
            match v {
                Value::Object(m) => m,
                _ => unreachable!("a cleaned object stays an object"),
            }
        });
        let data = key.data(text, text_truncated, rest);
        self.send_ordered(ordered, key.kind, data, key.parent.as_deref())
            .await
    }

    /// Numbers and sends one cleaned event, after the output text held back (the stream of
    /// deltas ends where another event comes).
    async fn deliver(&self, kind: &str, data: EventData, parent: Option<&str>) {
        self.touch();
        // Held across the send, so that seq order is delivery order whoever emits.
        let mut ordered = self.inner.ordered.lock().await;
        if self.inner.closed.load(Ordering::SeqCst) {
            return;
        }
        self.flush_streams(&mut ordered).await;
        self.send_ordered(&mut ordered, kind, data, parent).await
    }

    async fn send_ordered(
        &self,
        ordered: &mut Ordered,
        kind: &str,
        data: EventData,
        parent: Option<&str>,
    ) {
        if kind == "agent.task.completed" || kind == "agent.task.failed" {
            self.inner.closed.store(true, Ordering::SeqCst);
        }
        if kind == "agent.task.started" {
            self.inner.started_sent.store(true, Ordering::SeqCst);
        }
        let time = now_rfc3339();
        let event = OutEvent {
            data,
            parent_tool_call_id: parent,
            seq: ordered.seq,
            task_id: &self.inner.task_id,
            time: &time,
            kind,
        };
        ordered.seq += 1;
        self.inner.out.send_event(event).await;
    }

    /// Whether `agent.task.started` went out.
    pub fn started_sent(&self) -> bool {
        self.inner.started_sent.load(Ordering::SeqCst)
    }

    /// Emits `agent.vendor.event` with the raw vendor message, when the host asked for them.
    ///
    /// A raw line is a side channel next to the events mapped from it: it does not end the text
    /// streams (that would send their held-back ends, perhaps the first half of a secret whose
    /// second half is in the next line), and as it cannot be held back itself, pieces of known
    /// secrets at the edges of its strings are hidden ([`Hygiene::clean_raw`]). So a raw event
    /// may come before the end of a delta held back from the line before it.
    pub async fn vendor_event(&self, raw: &Value) {
        self.touch();
        if !self.inner.include_vendor_events {
            return;
        }
        let mut raw = raw.clone();
        self.inner.hygiene.clean_raw(&mut raw);
        let data = serde_json::to_value(VendorEvent { raw }).expect("events serialize");
        let mut ordered = self.inner.ordered.lock().await;
        if self.inner.closed.load(Ordering::SeqCst) {
            return;
        }
        self.send_ordered(
            &mut ordered,
            "agent.vendor.event",
            EventData::Value(data),
            None,
        )
        .await
    }

    /// Whether the host asked for `agent.vendor.event` (every raw vendor message).
    pub fn includes_vendor_events(&self) -> bool {
        self.inner.include_vendor_events
    }

    /// Records vendor activity for the idle watchdog (call on every vendor line).
    pub fn touch(&self) {
        self.inner.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// A count that changes whenever there is vendor activity or an event (see [`IdleClock`]).
    pub fn activity(&self) -> u64 {
        self.inner.activity.load(Ordering::Relaxed)
    }
}

/// How long a task has been idle, as seen by a watchdog that looks every so often: activity is
/// a change of [`EventSink::activity`] since the last look, dated to that look. So idleness is
/// never overstated, and understated by at most the time between two looks.
pub struct IdleClock {
    seen: u64,
    since: Instant,
}

impl IdleClock {
    pub fn new(events: &EventSink) -> Self {
        IdleClock {
            seen: events.activity(),
            since: Instant::now(),
        }
    }

    /// Time since the activity count last changed, as of this look.
    pub fn idle_for(&mut self, events: &EventSink) -> Duration {
        let now = events.activity();
        if now != self.seen {
            self.seen = now;
            self.since = Instant::now();
        }
        self.since.elapsed()
    }
}

/// The current UTC time in RFC 3339 with nanoseconds, as the `time` crate writes it (trailing
/// zeros of the fraction dropped). Every event carries one, so the date and time of day are
/// formatted once per second per thread and only the fraction per call.
pub fn now_rfc3339() -> String {
    use std::cell::RefCell;
    use std::time::{SystemTime, UNIX_EPOCH};
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return String::new();
    };
    let (secs, nanos) = (now.as_secs(), now.subsec_nanos());
    SECOND.with_borrow_mut(|(cached, prefix)| {
        if *cached != secs {
            *prefix = second_prefix(secs);
            *cached = secs;
        }
        with_fraction(prefix, nanos)
    })
}

/// "YYYY-MM-DDTHH:MM:SS" of a Unix second.
fn second_prefix(secs: u64) -> String {
    let whole = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    whole.trim_end_matches('Z').to_string()
}

/// `prefix` plus the fraction of a second (trailing zeros dropped, none for 0) and "Z".
fn with_fraction(prefix: &str, nanos: u32) -> String {
    let mut out = String::with_capacity(prefix.len() + 11);
    out.push_str(prefix);
    if nanos != 0 {
        // Nine digits by hand: `write!` went through the formatting machinery for every event.
        let mut digits = [b'0'; 9];
        let mut n = nanos;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[..len]).expect("ASCII digits"));
    }
    out.push('Z');
    out
}

/// Decides tool approvals for one task: deny outright, or ask the host.
#[derive(Clone)]
pub struct Approvals {
    mode: ApprovalMode,
    host: Option<Arc<dyn ApprovalHost>>,
    timeout: Duration,
    events: EventSink,
    stop: Stop,
    granted: SessionGrants,
}

/// What the host allowed "for the session" (`allowForSession`): shared by every turn of a
/// session, so a live session's later turns don't ask again.
#[derive(Clone, Default)]
pub struct SessionGrants(Arc<std::sync::Mutex<std::collections::HashSet<String>>>);

impl SessionGrants {
    /// The grant a call falls under: for a shell tool, the exact command (allowing `git status`
    /// must not allow `git push`); for any other tool, its name.
    fn key(name: &str, input: &Value) -> String {
        match input.get("command") {
            Some(Value::String(c)) => format!("{name}\u{0}{}", c.trim()),
            Some(Value::Array(argv)) => format!("{name}\u{0}{}", Value::Array(argv.clone())),
            _ => name.to_string(),
        }
    }

    fn covers(&self, name: &str, input: &Value) -> bool {
        let key = Self::key(name, input);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
    }

    fn grant(&self, name: &str, input: &Value) {
        let key = Self::key(name, input);
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
    }
}

impl Approvals {
    pub fn new(
        mode: ApprovalMode,
        host: Option<Arc<dyn ApprovalHost>>,
        timeout: Duration,
        events: EventSink,
        stop: Stop,
    ) -> Self {
        Approvals {
            mode,
            host,
            timeout,
            events,
            stop,
            granted: SessionGrants::default(),
        }
    }

    /// Shares a session's grants (a live session passes the same grants to every turn).
    pub fn with_grants(mut self, granted: SessionGrants) -> Self {
        self.granted = granted;
        self
    }

    pub fn mode(&self) -> ApprovalMode {
        self.mode
    }

    /// The task's events (a runtime tells the host what it could not do with an answer).
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// Asks for a decision. With `approvals: "deny"` (or no host) the answer is deny without asking;
    /// with `"host"` an `agent.approval.requested` event goes out and the host is asked. No answer in
    /// time, an error reply, or a stopped task count as deny.
    pub async fn decide(&self, tool_call_id: &str, name: &str, input: &Value) -> ApprovalResponse {
        let deny = |message: &str| ApprovalResponse {
            decision: Decision::Deny,
            message: Some(message.to_string()),
            updated_input: None,
        };
        let host = match (&self.mode, &self.host) {
            (ApprovalMode::Host, Some(h)) => h.clone(),
            _ => return deny("denied by policy (approvals: deny)"),
        };
        if self.granted.covers(name, input) {
            return ApprovalResponse {
                decision: Decision::Allow,
                message: Some("allowed for the session".into()),
                updated_input: None,
            };
        }
        self.events
            .emit(EventBody::ApprovalRequested(ToolRequested {
                tool_call_id: tool_call_id.to_string(),
                name: name.to_string(),
                input: input.clone(),
                vendor: None,
            }))
            .await;
        // Redacted like the event, but never cut: the approver sees the whole command, with
        // only a secret's own span replaced.
        let params = ApprovalParams {
            task_id: self.events.task_id().to_string(),
            tool_call_id: tool_call_id.to_string(),
            name: name.to_string(),
            input: hygiene::redact_value(input),
        };
        let answer = tokio::select! {
            r = tokio::time::timeout(self.timeout, host.ask(params)) => match r {
                Ok(Ok(resp)) => resp,
                Ok(Err(e)) => deny(&format!("host approval failed: {e}")),
                Err(_) => deny("host did not answer the approval request in time"),
            },
            _ = self.stop.stopped() => deny("task stopped while waiting for approval"),
        };
        if answer.decision == Decision::AllowForSession {
            self.granted.grant(name, input);
        }
        if answer.decision == Decision::Abort {
            // The core owns `abort` for every runtime: the call is denied and the task stops as
            // a host cancel would, so it ends with `finishReason: "cancelled"`.
            self.stop.stop(StopReason::Cancelled);
        }
        answer
    }
}

impl Approvals {
    /// Asks the host the agent's questions (`input/request`). `Err` says why they were declined
    /// (tell the agent): `approvals: "deny"`, no host, no answer within the approval timeout, an
    /// error reply, or the task stopping (which withdraws the request).
    pub async fn ask_questions(
        &self,
        tool_call_id: Option<&str>,
        questions: Vec<Question>,
    ) -> Result<InputResponse, String> {
        let host = match (&self.mode, &self.host) {
            (ApprovalMode::Host, Some(h)) => h.clone(),
            _ => return Err("declined by policy (approvals: deny): no user to ask".into()),
        };
        let params = InputRequestParams {
            task_id: self.events.task_id().to_string(),
            tool_call_id: tool_call_id.map(str::to_string),
            questions,
        };
        tokio::select! {
            r = tokio::time::timeout(self.timeout, host.ask_input(params)) => match r {
                Ok(Ok(answers)) => Ok(answers),
                Ok(Err(e)) => Err(format!("the host did not answer: {e}")),
                Err(_) => Err("the host did not answer in time".into()),
            },
            _ = self.stop.stopped() => Err("the task stopped while waiting for an answer".into()),
        }
    }
}

/// Everything a runtime gets for one task.
pub struct RunContext {
    pub task_id: String,
    pub task: AgentTask,
    pub options: RunOptions,
    /// The task's working directory, absolute and known to exist.
    pub working_directory: PathBuf,
    pub events: EventSink,
    pub stop: Stop,
    pub approvals: Approvals,
    /// Text the host adds to the running turn (`steer`); empty unless the runtime declares it.
    pub steer: super::live::Steering,
    /// `task.attachments`, read and checked at admission (empty when none).
    pub attachments: std::sync::Arc<[super::attachments::Loaded]>,
}

#[cfg(test)]
mod time_tests {
    use super::{now_rfc3339, second_prefix, with_fraction};
    use time::format_description::well_known::Rfc3339;

    #[test]
    fn the_cached_clock_writes_what_the_time_crate_writes() {
        let secs = [0u64, 1_700_000_000, 1_800_000_059, 4_102_444_799];
        let nanos = [0u32, 1, 10, 500, 120_000_000, 999_999_999, 123_456_780];
        for s in secs {
            for n in nanos {
                let t = time::OffsetDateTime::from_unix_timestamp_nanos(
                    s as i128 * 1_000_000_000 + n as i128,
                )
                .unwrap();
                assert_eq!(
                    with_fraction(&second_prefix(s), n),
                    t.format(&Rfc3339).unwrap()
                );
            }
        }
        let now = now_rfc3339();
        assert!(now.len() >= 20 && now.ends_with('Z'), "{now}");
    }
}

#[cfg(test)]
mod delta_tests {
    use super::*;
    use serde_json::json;

    struct Recorder(std::sync::Mutex<Vec<Value>>);

    #[async_trait]
    impl EventOutput for Recorder {
        async fn send(&self, event: Value) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[test]
    fn idleness_counts_from_the_look_that_saw_the_last_activity() {
        let sink = EventSink::new(
            "t".into(),
            Arc::new(Recorder(Default::default())),
            &RunOptions::default(),
        );
        let mut clock = IdleClock::new(&sink);
        std::thread::sleep(Duration::from_millis(30));
        assert!(clock.idle_for(&sink) >= Duration::from_millis(30));
        sink.touch();
        // Activity since the last look: idle from this look on.
        assert!(clock.idle_for(&sink) < Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(30));
        assert!(clock.idle_for(&sink) >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_typed_delta_is_cleaned_and_written_as_its_value_would_be() {
        let out = Arc::new(Recorder(Default::default()));
        let options: RunOptions = serde_json::from_value(json!({"maxFieldBytes": 64})).unwrap();
        let sink = EventSink::new("t1".into(), out.clone(), &options);
        let texts = [
            "short".to_string(),
            format!("key sk-ant-api03-abcdefghijklmnop then {}", "é".repeat(60)),
        ];
        for text in &texts {
            sink.emit(EventBody::OutputDelta(TextData {
                text: text.clone(),
                vendor: None,
            }))
            .await;
            sink.emit_raw("agent.output.delta", json!({ "text": text }))
                .await;
        }
        let events = out.0.lock().unwrap();
        assert_eq!(events.len(), 4);
        for (i, pair) in events.chunks(2).enumerate() {
            let (typed, value) = (&pair[0], &pair[1]);
            assert_eq!(typed["data"], value["data"], "{typed}");
            assert_eq!(typed["type"], "agent.output.delta");
            assert_eq!(typed["seq"], json!(2 * i));
            assert_eq!(value["seq"], json!(2 * i + 1));
        }
        assert_eq!(events[0]["data"], json!({ "text": "short" }));
        let cut = &events[2]["data"];
        assert!(cut["text"]
            .as_str()
            .unwrap()
            .starts_with("key [redacted] then"));
        assert_eq!(cut["textTruncated"]["truncated"], true);
    }
}
