//! From a line of input to the reply: the JSON-RPC 2.0 envelope, batches, and method dispatch
//! through jsonrpsee's `RpcModule`.
//!
//! A line is parsed once, into a borrowed [`Envelope`] whose members stay raw JSON text; a
//! method's params go from that text straight into its typed params (no `Value` in between, no
//! re-serialised request). jsonrpsee's `Id` cannot hold every id JSON-RPC allows (negative or
//! fractional numbers), and its envelope errors carry no `data`, so this module checks the
//! envelope itself, calls the method's jsonrpsee callback with an internal id, and puts the host's
//! id back on the reply, exactly as the host wrote it. Methods are registered once, by the names
//! declared in `protocol::methods`.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use jsonrpsee::types::{ErrorObjectOwned, Id, Params};
use jsonrpsee::{ConnectionId, Extensions, MethodCallback, RpcModule};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::host::HostRequests;
use super::transport::Outbound;
use crate::core::{parse_str_at, Core, Refusal, SessionNotifier, StrError};
use crate::framing::Frame;
use crate::hygiene::Hygiene;
use crate::protocol::methods::{
    self, CapabilitiesParams, DiagnoseParams, Method, RunParams, SessionCloseResult, SessionClosed,
    SessionListResult,
};
use crate::protocol::{ErrorCode, RpcError, RunOptions};
use crate::runtime::{ApprovalHost, EventOutput, OutEvent};

/// What the method handlers share.
pub struct ServerState {
    pub core: Arc<Core>,
    pub host: Arc<HostRequests>,
    pub out: Outbound,
}

pub struct Dispatcher {
    module: RpcModule<ServerState>,
    state: Arc<ServerState>,
}

/// Events go out as `event` notifications through the writer.
struct NotificationOutput(Outbound);

/// `session/closed` notifications, through the same writer as events.
pub(super) struct SessionNotifications(pub(super) Outbound);

#[async_trait]
impl SessionNotifier for SessionNotifications {
    async fn closed(&self, closed: SessionClosed) {
        self.0
            .send(&json!({
                "jsonrpc": "2.0",
                "method": methods::SessionClosedNotification::NAME,
                "params": closed,
            }))
            .await;
    }
}

#[async_trait]
impl EventOutput for NotificationOutput {
    async fn send(&self, event: Value) {
        self.0
            .send(&json!({ "jsonrpc": "2.0", "method": methods::EventNotification::NAME, "params": event }))
            .await;
    }

    /// Every event of a task: serialized once, straight into the output (the bytes `send` writes).
    async fn send_event(&self, event: OutEvent<'_>) {
        #[derive(serde::Serialize)]
        struct Notification<'a> {
            jsonrpc: &'static str,
            method: &'static str,
            params: OutEvent<'a>,
        }
        self.0
            .send(&Notification {
                jsonrpc: "2.0",
                method: methods::EventNotification::NAME,
                params: event,
            })
            .await;
    }
}

/// One JSON-RPC message, its members as the raw JSON text the host wrote. `Some` means present,
/// even as `null` (an `"id": null` request is not a notification).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The first byte of a raw JSON value tells its type.
fn first_byte(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or_default()
}

impl Dispatcher {
    pub fn new(state: ServerState) -> Self {
        let state = Arc::new(state);
        let mut module = RpcModule::from_arc(state.clone());
        // Serialized once, straight from the registry (the reply splices it in as it is).
        register::<methods::Capabilities, _, _, _>(
            &mut module,
            |p: CapabilitiesParams, s| async move {
                s.core
                    .capabilities(p.runtime.as_deref())
                    .map(|c| serde_json::value::to_raw_value(&c).expect("capabilities serialize"))
            },
        );
        register::<methods::Diagnose, _, _, _>(&mut module, |p: DiagnoseParams, s| async move {
            s.core.diagnose(&p).await
        });
        register::<methods::Run, _, _, _>(&mut module, |p: RunParams, s| async move {
            let admitted = s.core.admit(p).await;
            // The reader may go on: a `cancel` for this task, read next, now finds it.
            super::admission::admitted();
            let out: Arc<dyn EventOutput> = Arc::new(NotificationOutput(s.out.clone()));
            let host: Arc<dyn ApprovalHost> = s.host.clone();
            Ok(admitted?.run(out, Some(host)).await)
        });
        register::<methods::Cancel, _, _, _>(
            &mut module,
            |p: methods::CancelParams, s| async move { s.core.cancel(&p.task_id) },
        );
        register::<methods::Steer, _, _, _>(&mut module, |p: methods::SteerParams, s| async move {
            s.core.steer(&p.task_id, p.text)
        });
        register::<methods::SessionOpen, _, _, _>(
            &mut module,
            |p: methods::SessionOpenParams, s| async move { s.core.open_session(p).await },
        );
        register::<methods::SessionClose, _, _, _>(
            &mut module,
            |p: methods::SessionCloseParams, s| async move {
                s.core.close_session(&p.session_id).await?;
                Ok(SessionCloseResult {
                    session_id: p.session_id,
                    closed: true,
                })
            },
        );
        register::<methods::SessionList, _, _, _>(
            &mut module,
            |_: methods::SessionListParams, s| async move {
                Ok(SessionListResult {
                    sessions: s.core.list_sessions(),
                })
            },
        );
        Dispatcher { module, state }
    }

    /// Handles one input frame to completion (a `run` request completes when its task ends),
    /// writing whatever reply it needs.
    pub async fn handle(&self, frame: Frame) {
        let reply = match frame {
            Frame::Line(line) => self.handle_line(&line).await,
            Frame::TooLong => Some(parse_error(
                "message longer than --max-message-bytes; discarded",
            )),
            Frame::InvalidUtf8 => Some(parse_error("message is not valid UTF-8")),
        };
        if let Some(reply) = reply {
            self.state.out.send_line(reply).await;
        }
    }

    async fn handle_line(&self, line: &str) -> Option<String> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        if !line.starts_with('[') {
            return self.handle_message(line).await;
        }
        let items: Vec<&RawValue> = match serde_json::from_str(line) {
            Ok(items) => items,
            Err(e) => return Some(parse_error(&format!("invalid JSON: {e}"))),
        };
        if items.is_empty() {
            return Some(error_line(
                None,
                RpcError::new(ErrorCode::InvalidRequest, "empty batch", Value::Null),
            ));
        }
        // A batch: its members run concurrently; the replies go out together (JSON-RPC §6).
        let replies: Vec<String> =
            futures::future::join_all(items.iter().map(|m| self.handle_message(m.get())))
                .await
                .into_iter()
                .flatten()
                .collect();
        (!replies.is_empty()).then(|| format!("[{}]", replies.join(",")))
    }

    /// One request, notification or response. Returns the reply line to send, if any.
    async fn handle_message(&self, text: &str) -> Option<String> {
        let envelope: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) if e.is_syntax() || e.is_eof() => {
                return Some(parse_error(&format!("invalid JSON: {e}")))
            }
            Err(_) => {
                return Some(error_line(
                    None,
                    invalid_request("a message must be a JSON object"),
                ))
            }
        };
        if envelope.method.is_none() && (envelope.result.is_some() || envelope.error.is_some()) {
            if let Some(id) = envelope.id {
                self.state
                    .host
                    .on_response(id, envelope.result, envelope.error);
            }
            return None;
        }
        if let Some(id) = envelope.id {
            if !matches!(first_byte(id), b'"' | b'-' | b'0'..=b'9' | b'n') {
                return Some(error_line(
                    None,
                    invalid_request("id must be a string, a number or null"),
                ));
            }
        }
        let id = envelope.id;
        let method = match check_envelope(&envelope) {
            Ok(method) => method,
            Err(reason) => return Some(error_line(Some(reply_id(id)), invalid_request(reason))),
        };
        if self.state.core.is_shutting_down() && method != methods::Cancel::NAME {
            return id.map(|id| error_line(Some(id), Refusal::ShuttingDown.into()));
        }
        if method != methods::Run::NAME {
            super::admission::admitted();
        }
        let response = self.call(&method, envelope.params).await;
        // A notification gets no reply, whatever happened (JSON-RPC §4.1).
        let id = id?;
        Some(match response {
            Ok(raw) => reply_line(id, &raw),
            Err(e) => error_line(Some(id), e),
        })
    }

    /// Calls the method's jsonrpsee callback with the params text as the host wrote it.
    async fn call(
        &self,
        method: &str,
        params: Option<&RawValue>,
    ) -> Result<Box<RawValue>, RpcError> {
        let Some(MethodCallback::Async(callback)) = self.module.method(method) else {
            return Err(RpcError::new(
                ErrorCode::MethodNotFound,
                format!("unknown method {method:?}"),
                json!({ "method": method }),
            ));
        };
        let params = Params::new(params.map(RawValue::get)).into_owned();
        let call = callback(
            Id::Number(0),
            params,
            ConnectionId(0),
            usize::MAX,
            Extensions::new(),
        );
        match AssertUnwindSafe(call).catch_unwind().await {
            Ok(response) => Ok(response.into_json()),
            Err(_) => Err(RpcError::internal("the handler panicked")),
        }
    }
}

/// The method name of a valid JSON-RPC 2.0 request, or why it is not one.
fn check_envelope<'a>(envelope: &Envelope<'a>) -> Result<Cow<'a, str>, &'static str> {
    let version = envelope
        .jsonrpc
        .map(|v| serde_json::from_str::<&str>(v.get()));
    if !matches!(version, Some(Ok("2.0"))) {
        return Err("jsonrpc must be \"2.0\"");
    }
    let method = match envelope.method {
        None => return Err("a request needs a method"),
        Some(m) => {
            serde_json::from_str::<Cow<str>>(m.get()).map_err(|_| "method must be a string")?
        }
    };
    match envelope.params.map(first_byte) {
        None | Some(b'{' | b'[') => Ok(method),
        Some(_) => Err("params must be an object or an array"),
    }
}

/// Registers a method by its declared name with typed params; refusals become JSON-RPC errors.
fn register<M, F, Fut, T>(module: &mut RpcModule<ServerState>, handler: F)
where
    M: Method,
    M::Params: DeserializeOwned + Send + 'static,
    F: Fn(M::Params, Arc<ServerState>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Refusal>> + Send + 'static,
    T: serde::Serialize + Clone + Send + 'static,
{
    module
        .register_async_method(M::NAME, move |params, state, _| {
            let handler = handler.clone();
            async move {
                let parsed = parse_params::<M::Params>(params.as_str());
                let result = match parsed {
                    Ok(p) => handler(p, state).await.map_err(RpcError::from),
                    Err(e) => Err(e),
                };
                result.map_err(|e| ErrorObjectOwned::owned(e.code, e.message, Some(e.data)))
            }
        })
        .expect("each method is registered once");
}

/// A method's params, straight from their text into their type (absent = `{}`); by-position
/// params are refused.
fn parse_params<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, RpcError> {
    let text = raw.unwrap_or("{}");
    if !text.trim_start().starts_with('{') {
        return Err(RpcError::invalid_params("", "params must be an object"));
    }
    parse_str_at("", text).map_err(|e| match e {
        StrError::Syntax(e) => RpcError::invalid_params("", e.to_string()),
        StrError::Data(refusal) => refusal.into(),
    })
}

/// The reply to a request, from jsonrpsee's response (`{"jsonrpc":"2.0","id":0,…}`) with the
/// host's id put back as the host wrote it. A success's result is spliced in as jsonrpsee wrote
/// it, without parsing it (a `run` result can be megabytes); an error gets its `data.kind` and
/// the hygiene of events.
fn reply_line(id: &RawValue, response: &RawValue) -> String {
    #[derive(Deserialize)]
    struct Response<'a> {
        #[serde(borrow)]
        result: Option<&'a RawValue>,
        error: Option<RpcErrorObject>,
    }
    #[derive(Deserialize)]
    struct RpcErrorObject {
        code: i32,
        message: String,
        #[serde(default)]
        data: Value,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        id: &'a RawValue,
        jsonrpc: &'static str,
        result: &'a RawValue,
    }
    match serde_json::from_str::<Response>(response.get()) {
        Ok(Response {
            result: Some(result),
            ..
        }) => serde_json::to_string(&Line {
            id,
            jsonrpc: "2.0",
            result,
        })
        .expect("serializes"),
        Ok(Response { error: Some(e), .. }) => error_line(
            Some(id),
            RpcError {
                code: e.code,
                message: e.message,
                data: e.data,
            },
        ),
        _ => error_line(
            Some(id),
            RpcError::internal("the method gave neither a result nor an error"),
        ),
    }
}

/// An error reply line (`id` absent = `null`), with `data.kind` and the hygiene of events: error
/// messages can quote host input (a path, a value).
fn error_line(id: Option<&RawValue>, mut e: RpcError) -> String {
    add_kind(&mut e);
    let mut error = serde_json::to_value(&e).expect("errors serialize");
    Hygiene::new(RunOptions::DEFAULT_MAX_FIELD_BYTES).clean(&mut error);
    #[derive(serde::Serialize)]
    struct Line<'a> {
        error: Value,
        id: &'a RawValue,
        jsonrpc: &'static str,
    }
    serde_json::to_string(&Line {
        error,
        id: reply_id(id),
        jsonrpc: "2.0",
    })
    .expect("serializes")
}

fn reply_id(id: Option<&RawValue>) -> &RawValue {
    id.unwrap_or_else(|| serde_json::from_str("null").expect("null is JSON"))
}

fn parse_error(message: &str) -> String {
    error_line(
        None,
        RpcError::new(ErrorCode::ParseError, message, Value::Null),
    )
}

fn invalid_request(reason: &str) -> RpcError {
    RpcError::new(
        ErrorCode::InvalidRequest,
        format!("invalid request: {reason}"),
        Value::Null,
    )
}

/// Errors that jsonrpsee makes itself carry no `data.kind`: add it.
fn add_kind(e: &mut RpcError) {
    if e.data.get("kind").is_some() {
        return;
    }
    if let Some(c) = ErrorCode::ALL.iter().find(|c| c.code() == e.code) {
        let mut data = match std::mem::take(&mut e.data) {
            Value::Object(m) => m,
            _ => Default::default(),
        };
        data.insert("kind".into(), json!(c.kind()));
        e.data = Value::Object(data);
    }
}
