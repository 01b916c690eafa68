//! From a line of input to the reply: JSON-RPC 2.0 envelope checks, batches, and method dispatch
//! through jsonrpsee's `RpcModule`.
//!
//! jsonrpsee's `Id` cannot hold every id JSON-RPC allows (negative or fractional numbers), and its
//! envelope errors carry no `data`. So this module checks the envelope itself, calls the module
//! with an internal id, and puts the host's id back on the reply. Methods are registered once,
//! by the names declared in `protocol::methods`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::host::HostRequests;
use super::params::parse_params;
use super::tasks::{shutting_down, Tasks};
use super::transport::Outbound;
use crate::framing::Frame;
use crate::hygiene::Hygiene;
use crate::protocol::methods::{
    self, CapabilitiesParams, DiagnoseParams, DiagnoseResult, Method, RunParams, ServerInfo,
};
use crate::protocol::runtime_info::RuntimeInfo;
use crate::protocol::{ErrorCode, RpcError, RunOptions, PROTOCOL_VERSION};
use crate::runtime::{ApprovalHost, EventOutput, OutEvent};

/// What the method handlers share.
pub struct ServerState {
    pub tasks: Arc<Tasks>,
    pub host: Arc<HostRequests>,
    pub out: Outbound,
}

pub struct Dispatcher {
    module: RpcModule<ServerState>,
    state: Arc<ServerState>,
}

/// Events go out as `event` notifications through the writer.
struct NotificationOutput(Outbound);

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

impl Dispatcher {
    pub fn new(state: ServerState) -> Self {
        let state = Arc::new(state);
        let mut module = RpcModule::from_arc(state.clone());
        // Serialized once, straight from the registry (the reply splices it in as it is).
        register::<methods::Capabilities, _, _, _>(
            &mut module,
            |p: CapabilitiesParams, s| async move {
                capabilities_of(&s.tasks, &p)
                    .map(|c| serde_json::value::to_raw_value(&c).expect("capabilities serialize"))
            },
        );
        register::<methods::Diagnose, _, _, _>(&mut module, |p: DiagnoseParams, s| async move {
            diagnose(&s.tasks, p).await
        });
        register::<methods::Run, _, _, _>(&mut module, |p: RunParams, s| async move {
            let out: Arc<dyn EventOutput> = Arc::new(NotificationOutput(s.out.clone()));
            let host: Arc<dyn ApprovalHost> = s.host.clone();
            s.tasks.run(p, out, Some(host)).await
        });
        register::<methods::Cancel, _, _, _>(
            &mut module,
            |p: methods::CancelParams, s| async move {
                s.tasks
                    .cancel(&p.task_id)
                    .map(|r| serde_json::to_value(r).expect("serializes"))
            },
        );
        Dispatcher { module, state }
    }

    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Handles one input frame to completion (a `run` request completes when its task ends),
    /// writing whatever reply it needs.
    pub async fn handle(&self, frame: Frame) {
        let reply = match frame {
            Frame::Line(line) => self.handle_line(&line).await,
            Frame::TooLong => Some(Reply::Value(error_reply(
                Value::Null,
                RpcError::new(
                    ErrorCode::ParseError,
                    "message longer than --max-message-bytes; discarded",
                    Value::Null,
                ),
            ))),
            Frame::InvalidUtf8 => Some(Reply::Value(error_reply(
                Value::Null,
                RpcError::new(
                    ErrorCode::ParseError,
                    "message is not valid UTF-8",
                    Value::Null,
                ),
            ))),
        };
        if let Some(reply) = reply {
            self.state.out.send_line(reply.into_line()).await;
        }
    }

    async fn handle_line(&self, line: &str) -> Option<Reply> {
        if line.trim().is_empty() {
            return None;
        }
        let message: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return Some(Reply::Value(error_reply(
                    Value::Null,
                    RpcError::new(
                        ErrorCode::ParseError,
                        format!("invalid JSON: {e}"),
                        Value::Null,
                    ),
                )))
            }
        };
        crate::hygiene::learn_secrets(&message);
        match message {
            Value::Array(items) if items.is_empty() => Some(Reply::Value(error_reply(
                Value::Null,
                RpcError::new(ErrorCode::InvalidRequest, "empty batch", Value::Null),
            ))),
            // A batch: its members run concurrently; the replies go out together (JSON-RPC §6).
            Value::Array(items) => {
                let replies: Vec<String> =
                    futures::future::join_all(items.into_iter().map(|m| self.handle_message(m)))
                        .await
                        .into_iter()
                        .flatten()
                        .map(Reply::into_line)
                        .collect();
                (!replies.is_empty()).then(|| Reply::Line(format!("[{}]", replies.join(","))))
            }
            other => self.handle_message(other).await,
        }
    }

    /// One request, notification or response. Returns the reply to send, if any.
    async fn handle_message(&self, message: Value) -> Option<Reply> {
        let Value::Object(obj) = message else {
            return Some(Reply::Value(error_reply(
                Value::Null,
                invalid_request("a message must be a JSON object"),
            )));
        };
        if !obj.contains_key("method") && (obj.contains_key("result") || obj.contains_key("error"))
        {
            self.state.host.on_response(&obj);
            return None;
        }
        let id = obj.get("id").cloned();
        let reply_id = id.clone().unwrap_or(Value::Null);
        if let Some(bad) = envelope_problem(&obj) {
            let reply_id = if bad.0 { Value::Null } else { reply_id };
            return Some(Reply::Value(error_reply(reply_id, invalid_request(bad.1))));
        }
        let method = obj["method"]
            .as_str()
            .expect("checked by envelope_problem")
            .to_string();
        if self.state.tasks.is_shutting_down() && method != methods::Cancel::NAME {
            return id.map(|id| Reply::Value(error_reply(id, shutting_down())));
        }
        if method != methods::Run::NAME {
            super::admission::admitted();
        }
        // Only the request text lives on while the method runs (a `run` lasts as long as its
        // task): the parsed message is dropped here, not held across the call.
        let request = {
            let mut obj = obj;
            let request = json!({
                "jsonrpc": "2.0",
                "id": 0,
                "method": method,
                "params": obj.remove("params").unwrap_or_else(|| json!({})),
            });
            request.to_string()
        };
        let call = self.module.raw_json_request(&request, 1);
        let response = match AssertUnwindSafe(call).catch_unwind().await {
            Ok(Ok((raw, _))) => Ok(raw),
            Ok(Err(e)) => Err(error_reply(Value::Null, RpcError::internal(e.to_string()))),
            Err(_) => Err(error_reply(
                Value::Null,
                RpcError::internal("the handler panicked"),
            )),
        };
        // A notification gets no reply, whatever happened (JSON-RPC §4.1).
        let id = id?;
        let mut reply = match response {
            Ok(raw) => match success_line(&id, &raw) {
                Some(line) => return Some(Reply::Line(line)),
                None => serde_json::from_str::<Value>(raw.get()).unwrap_or_else(|e| {
                    error_reply(Value::Null, RpcError::internal(e.to_string()))
                }),
            },
            Err(reply) => reply,
        };
        reply["id"] = id;
        if let Some(err) = reply.get_mut("error") {
            add_kind(err);
        }
        Some(Reply::Value(reply))
    }
}

/// Registers a method by its declared name with typed params; errors become JSON-RPC errors.
fn register<M, F, Fut, T>(module: &mut RpcModule<ServerState>, handler: F)
where
    M: Method,
    M::Params: Send + 'static,
    F: Fn(M::Params, Arc<ServerState>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, RpcError>> + Send + 'static,
    T: serde::Serialize + Clone + Send + 'static,
{
    module
        .register_async_method(M::NAME, move |params, state, _| {
            let handler = handler.clone();
            async move {
                let parsed = parse_params::<M::Params>(params.as_str());
                let result = match parsed {
                    Ok(p) => handler(p, state).await,
                    Err(e) => Err(e),
                };
                result.map_err(to_error_object)
            }
        })
        .expect("each method is registered once");
}

pub fn capabilities(tasks: &Tasks, p: CapabilitiesParams) -> Result<Value, RpcError> {
    Ok(serde_json::to_value(capabilities_of(tasks, &p)?).expect("capabilities serialize"))
}

/// [`methods::CapabilitiesResult`] over the registry's infos, shared: they hold every runtime's
/// options schema, which a clone would copy only to serialize and drop it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CapabilitiesReply {
    protocol_version: u32,
    server: ServerInfo,
    #[serde(serialize_with = "serialize_infos")]
    runtimes: Vec<Arc<RuntimeInfo>>,
}

fn serialize_infos<S: serde::Serializer>(
    infos: &[Arc<RuntimeInfo>],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(infos.iter().map(|i| &**i))
}

fn capabilities_of(tasks: &Tasks, p: &CapabilitiesParams) -> Result<CapabilitiesReply, RpcError> {
    let registry = tasks.registry();
    let runtimes = match &p.runtime {
        Some(name) => vec![registry.info(name)?],
        None => registry.infos().cloned().collect(),
    };
    Ok(CapabilitiesReply {
        protocol_version: PROTOCOL_VERSION,
        server: ServerInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        runtimes,
    })
}

pub async fn diagnose(tasks: &Tasks, p: DiagnoseParams) -> Result<Value, RpcError> {
    let runtimes = match &p.runtime {
        Some(name) => vec![tasks.registry().get(name)?],
        None => tasks.registry().all().cloned().collect(),
    };
    let diagnoses = futures::future::join_all(runtimes.iter().map(|r| r.diagnose(&p))).await;
    let mut value = serde_json::to_value(DiagnoseResult {
        runtimes: diagnoses,
    })
    .expect("serializes");
    crate::hygiene::Hygiene::new(crate::protocol::RunOptions::DEFAULT_MAX_FIELD_BYTES)
        .clean(&mut value);
    Ok(value)
}

/// A reply to write: a JSON value, or a line already serialized.
enum Reply {
    Value(Value),
    Line(String),
}

impl Reply {
    /// The reply as one line. Error messages get the hygiene of events first.
    fn into_line(self) -> String {
        match self {
            Reply::Value(mut reply) => {
                redact_errors(&mut reply);
                serde_json::to_string(&reply).expect("JSON values serialize")
            }
            Reply::Line(line) => line,
        }
    }
}

/// jsonrpsee's success response (`{"jsonrpc":"2.0","result":…,"id":0}`) as our reply line, with
/// the host's id and the result spliced in as jsonrpsee wrote it: the same bytes as parsing the
/// response into a `Value` and serializing it again (keys in the same order), without doing so
/// (a `capabilities` reply is 14 KB, a `run` result can be megabytes). None for anything else.
fn success_line(id: &Value, response: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Response<'a> {
        #[serde(borrow)]
        result: Option<&'a RawValue>,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        id: &'a Value,
        jsonrpc: &'static str,
        result: &'a RawValue,
    }
    let result = serde_json::from_str::<Response>(response.get())
        .ok()?
        .result?;
    Some(
        serde_json::to_string(&Line {
            id,
            jsonrpc: "2.0",
            result,
        })
        .expect("serializes"),
    )
}

/// Returns `(id_unusable, reason)` when the envelope is not a valid JSON-RPC 2.0 request.
fn envelope_problem(obj: &Map<String, Value>) -> Option<(bool, &'static str)> {
    match obj.get("id") {
        None | Some(Value::Null | Value::String(_) | Value::Number(_)) => {}
        Some(_) => return Some((true, "id must be a string, a number or null")),
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some((false, "jsonrpc must be \"2.0\""));
    }
    match obj.get("method") {
        Some(Value::String(_)) => {}
        Some(_) => return Some((false, "method must be a string")),
        None => return Some((false, "a request needs a method")),
    }
    match obj.get("params") {
        None | Some(Value::Object(_) | Value::Array(_)) => None,
        Some(_) => Some((false, "params must be an object or an array")),
    }
}

fn invalid_request(reason: &str) -> RpcError {
    RpcError::new(
        ErrorCode::InvalidRequest,
        format!("invalid request: {reason}"),
        Value::Null,
    )
}

pub fn error_reply(id: Value, e: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": e })
}

fn to_error_object(e: RpcError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(e.code, e.message, Some(e.data))
}

/// Error messages can quote host input (a path, a value): they get the same hygiene as events.
fn redact_errors(reply: &mut Value) {
    let hygiene = Hygiene::new(RunOptions::DEFAULT_MAX_FIELD_BYTES);
    match reply {
        Value::Array(items) => items.iter_mut().for_each(redact_errors),
        Value::Object(obj) => {
            if let Some(err) = obj.get_mut("error") {
                hygiene.clean(err);
            }
        }
        _ => {}
    }
}

/// Errors that jsonrpsee makes itself (unknown method) carry no `data.kind`: add it.
fn add_kind(err: &mut Value) {
    let code = err["code"].as_i64().unwrap_or_default();
    if err.get("data").and_then(|d| d.get("kind")).is_some() {
        return;
    }
    if let Some(c) = ErrorCode::ALL.iter().find(|c| i64::from(c.code()) == code) {
        let mut data = match err.get("data") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        data.insert("kind".into(), json!(c.kind()));
        err["data"] = Value::Object(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::CapabilitiesResult;
    use crate::runtime::{builtin, RuntimeConfig};

    /// The borrowed reply has exactly the shape of the declared `CapabilitiesResult`.
    #[test]
    fn capabilities_reply_is_a_capabilities_result() {
        let tasks = Tasks::new(builtin(&RuntimeConfig::default()), ".".into(), 1, None);
        for runtime in [None, Some("fixture".to_string())] {
            let reply = capabilities(&tasks, CapabilitiesParams { runtime }).unwrap();
            let typed: CapabilitiesResult = serde_json::from_value(reply.clone()).unwrap();
            assert_eq!(serde_json::to_value(typed).unwrap(), reply);
        }
        let all = capabilities(&tasks, CapabilitiesParams { runtime: None }).unwrap();
        assert_eq!(all["runtimes"].as_array().unwrap().len(), 4);
    }
}
