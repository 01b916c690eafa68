//! A mock Anthropic Messages API on 127.0.0.1 for the claude runtime's tests.
//!
//! Each `POST /v1/messages` takes the next scripted [`Reply`] (the last one repeats when the script
//! runs out) and is recorded, so tests can assert on what the real CLI sent. Replies stream as
//! Anthropic SSE (`message_start` … `message_stop`), fail with an HTTP error and Anthropic's error
//! body, or stall mid-stream (bytes stop, the connection stays open) for cancel and idle tests.
//! It accepts whatever request shape the CLI sends (extra `system`-role messages, betas, tools).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio_stream::wrappers::ReceiverStream;

#[derive(Debug, Clone)]
pub enum Block {
    /// Text, streamed as these deltas.
    Text(Vec<String>),
    /// Extended thinking, streamed as these `thinking_delta`s, then a `signature_delta`.
    Thinking(Vec<String>),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

#[derive(Debug, Clone)]
pub enum Reply {
    Message {
        blocks: Vec<Block>,
        stop_reason: String,
        /// Pause between SSE events.
        delay: Duration,
    },
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// Streams these text deltas, then sends nothing more and never ends the response.
    Stall { deltas: Vec<String> },
}

impl Reply {
    /// A text answer, streamed word by word.
    pub fn text(text: &str) -> Reply {
        Reply::Message {
            blocks: vec![Block::Text(
                text.split_inclusive(' ').map(str::to_string).collect(),
            )],
            stop_reason: "end_turn".into(),
            delay: Duration::ZERO,
        }
    }

    /// A tool call (the model then waits for the tool result).
    pub fn tool(name: &str, input: Value) -> Reply {
        Reply::Message {
            blocks: vec![Block::ToolUse {
                id: format!("toolu_{}", uuid::Uuid::new_v4().simple()),
                name: name.into(),
                input,
            }],
            stop_reason: "tool_use".into(),
            delay: Duration::ZERO,
        }
    }

    pub fn error(status: u16, error_type: &str, message: &str) -> Reply {
        Reply::Error {
            status,
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    /// Every text in the request (system blocks, message strings and text blocks, tool results).
    pub fn all_text(&self) -> String {
        let mut out = String::new();
        collect_text(&self.body["system"], &mut out);
        collect_text(&self.body["messages"], &mut out);
        out
    }

    pub fn system_text(&self) -> String {
        let mut out = String::new();
        collect_text(&self.body["system"], &mut out);
        out
    }

    pub fn tool_names(&self) -> Vec<String> {
        self.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect()
    }
}

fn collect_text(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| collect_text(x, out)),
        Value::Object(o) => {
            for k in ["text", "content"] {
                if let Some(x) = o.get(k) {
                    collect_text(x, out);
                }
            }
        }
        _ => {}
    }
}

struct MockState {
    script: Mutex<VecDeque<Reply>>,
    /// The answer to every request a sub-agent makes (its system text says `cc_is_subagent=true`),
    /// so that the main agent's script does not depend on who asks first.
    subagent: Mutex<Option<Reply>>,
    /// Sub-agents' replies in order, before `subagent` (a sub-agent that calls a tool, then ends).
    subagent_script: Mutex<std::collections::VecDeque<Reply>>,
    last: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

pub struct MockClaude {
    pub url: String,
    state: Arc<MockState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for MockClaude {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl MockClaude {
    pub async fn start(script: Vec<Reply>) -> MockClaude {
        let state = Arc::new(MockState {
            script: Mutex::new(script.into()),
            subagent: Mutex::new(None),
            subagent_script: Mutex::new(Default::default()),
            last: Mutex::new(None),
            requests: Mutex::new(vec![]),
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/messages/count_tokens", post(count_tokens))
            .fallback(other)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockClaude { url, state, server }
    }

    /// The `POST /v1/messages` requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with("/v1/messages") && !r.path.contains("count_tokens"))
            .cloned()
            .collect()
    }

    /// Answers sub-agents' requests with `reply`, outside the script.
    pub fn answer_subagents(&self, reply: Reply) {
        *self.state.subagent.lock().unwrap() = Some(reply);
    }

    /// Answers sub-agents' requests with `replies` in order, then with
    /// [`answer_subagents`](Self::answer_subagents)'s reply (or the main script's).
    pub fn script_subagents(&self, replies: Vec<Reply>) {
        self.state.subagent_script.lock().unwrap().extend(replies);
    }

    /// Appends replies to the script.
    pub fn push(&self, replies: Vec<Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }
}

async fn record(state: &MockState, req: Request) -> Recorded {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let r = Recorded {
        path,
        headers,
        body,
    };
    state.requests.lock().unwrap().push(r.clone());
    r
}

async fn other(State(state): State<Arc<MockState>>, req: Request) -> Response {
    record(&state, req).await;
    (
        StatusCode::NOT_FOUND,
        Json(json!({"type": "error", "error": {"type": "not_found_error", "message": "mock: no such route"}})),
    )
        .into_response()
}

async fn count_tokens(State(state): State<Arc<MockState>>, req: Request) -> Response {
    record(&state, req).await;
    Json(json!({"input_tokens": 10})).into_response()
}

async fn messages(State(state): State<Arc<MockState>>, req: Request) -> Response {
    let recorded = record(&state, req).await;
    if recorded.body["stream"] != true {
        if let Some(error) = scripted_error(&state) {
            return error;
        }
        return non_streaming(&recorded);
    }
    let for_subagent = recorded.system_text().contains("cc_is_subagent=true");
    let scripted = for_subagent
        .then(|| state.subagent_script.lock().unwrap().pop_front())
        .flatten();
    let subagent_reply = scripted.or_else(|| state.subagent.lock().unwrap().clone());
    let reply = if let (true, Some(r)) = (for_subagent, subagent_reply) {
        r
    } else {
        let next = state.script.lock().unwrap().pop_front();
        let mut last = state.last.lock().unwrap();
        match next {
            Some(r) => {
                *last = Some(r.clone());
                r
            }
            None => last.clone().unwrap_or_else(|| Reply::text("ok")),
        }
    };
    let model = recorded.body["model"]
        .as_str()
        .unwrap_or("claude-mock")
        .to_string();
    match reply {
        Reply::Error {
            status,
            error_type,
            message,
        } => (
            StatusCode::from_u16(status).unwrap(),
            [("request-id", "req_mock")],
            Json(json!({"type": "error", "error": {"type": error_type, "message": message}})),
        )
            .into_response(),
        Reply::Message {
            blocks,
            stop_reason,
            delay,
        } => stream(model, blocks, Some(stop_reason), delay),
        Reply::Stall { deltas } => stream(model, vec![Block::Text(deltas)], None, Duration::ZERO),
    }
}

fn sse(data: Value) -> Result<Event, Infallible> {
    let kind = data["type"].as_str().unwrap_or("message").to_string();
    Ok(Event::default().event(kind).data(data.to_string()))
}

/// Streams a message; with `stop_reason: None` it stalls after the blocks' first deltas.
fn stream(
    model: String,
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    delay: Duration,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let mut events = vec![json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})];
        for (i, block) in blocks.iter().enumerate() {
            match block {
                Block::Text(deltas) => {
                    events.push(json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}));
                    for d in deltas {
                        events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": d}}));
                    }
                }
                Block::Thinking(deltas) => {
                    events.push(json!({"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}));
                    for d in deltas {
                        events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": d}}));
                    }
                    events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}}));
                }
                Block::ToolUse { id, name, input } => {
                    events.push(json!({"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}));
                    events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": input.to_string()}}));
                }
            }
            if stop_reason.is_some() {
                events.push(json!({"type": "content_block_stop", "index": i}));
            }
        }
        if let Some(stop) = &stop_reason {
            events.push(json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 12}}));
            events.push(json!({"type": "message_stop"}));
        }
        for e in events {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tx.send(sse(e)).await.is_err() {
                return;
            }
        }
        if stop_reason.is_none() {
            // Stall: keep the response open, silent, until the client goes away.
            tx.closed().await;
        }
    });
    Sse::new(ReceiverStream::new(rx)).into_response()
}

/// The scripted error a non-streaming request meets (the CLI falls back to one after a failed
/// stream): the next reply if it is an error, or the last one repeating. Anything else is left
/// for the model turns.
fn scripted_error(state: &MockState) -> Option<Response> {
    let mut script = state.script.lock().unwrap();
    let mut last = state.last.lock().unwrap();
    let error = match script.front() {
        Some(Reply::Error { .. }) => {
            let e = script.pop_front();
            *last = e.clone();
            e
        }
        None => last.clone().filter(|r| matches!(r, Reply::Error { .. })),
        Some(_) => None,
    }?;
    let Reply::Error {
        status,
        error_type,
        message,
    } = error
    else {
        return None;
    };
    Some(
        (
            StatusCode::from_u16(status).unwrap(),
            [("request-id", "req_mock")],
            Json(json!({"type": "error", "error": {"type": error_type, "message": message}})),
        )
            .into_response(),
    )
}

/// A non-streaming request that meets no scripted error (the CLI's `set_model` checks the model
/// with one): answered at once with a short message, off the script.
fn non_streaming(recorded: &Recorded) -> Response {
    let model = recorded.body["model"].as_str().unwrap_or("claude-mock");
    Json(json!({
        "id": format!("msg_{}", uuid::Uuid::new_v4().simple()), "type": "message",
        "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }))
    .into_response()
}

impl MockClaude {
    /// The streaming `POST /v1/messages` requests so far: the model turns (not the CLI's
    /// non-streaming checks, such as `set_model`'s).
    pub fn turn_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.body["stream"] == true)
            .collect()
    }
}
