//! A mock OpenAI Responses API for the codex runtime's tests: `POST /v1/responses` answers with the
//! next scripted reply as server-sent events (or an HTTP error), and records every request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

/// One scripted model response.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An assistant message, streamed as these text deltas.
    Text(Vec<String>),
    /// A reasoning item (its summary streamed as these deltas), then an assistant message.
    Reasoned(Vec<String>, Vec<String>),
    /// A call of codex's shell tool (`exec_command {"cmd": ...}`).
    Shell(String),
    /// A call of any tool by name, with these arguments.
    Call(String, Value),
    /// A call of a tool inside a namespace (codex's `collaboration` tools: `spawn_agent`, …),
    /// with these arguments.
    NamespacedCall(String, String, Value),
    /// A hosted web search the model ran (a `web_search_call` output item with this action),
    /// then an assistant message with this text.
    WebSearch(Value, String),
    /// This reply, after a pause (a slow model: a sub-agent still working when the main one is done).
    Delayed(std::time::Duration, Box<Reply>),
    /// An HTTP error status with a JSON error body.
    Status(u16, Value),
    /// Starts the stream, then never sends another byte.
    Stall,
    /// Starts the stream, then closes it before `response.completed` (codex reconnects).
    Truncate,
    /// An assistant message `USERS=<n>`: how many user messages the request carried (codex's own
    /// context blocks, `<environment_context>` and the like, not counted), so a test can tell
    /// whether the model saw earlier turns.
    CountUsers,
}

impl Reply {
    pub fn text(t: &str) -> Reply {
        Reply::Text(vec![t.to_string()])
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: Value,
    pub authorization: Option<String>,
    /// Whether a sub-agent's thread sent it (it named a parent thread).
    pub subagent: bool,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    requests: Vec<Recorded>,
    next: u64,
    /// Replies for requests of sub-agent threads, when set.
    subagent_script: Option<VecDeque<Reply>>,
}

#[derive(Clone)]
pub struct MockResponses {
    inner: Arc<Mutex<Inner>>,
    /// `http://127.0.0.1:PORT/v1`, what codex's provider `base_url` needs.
    pub base_url: String,
}

/// Tokens each response reports.
pub const INPUT_TOKENS: u64 = 100;
pub const CACHED_TOKENS: u64 = 10;
pub const OUTPUT_TOKENS: u64 = 5;

impl MockResponses {
    pub async fn start(script: Vec<Reply>) -> MockResponses {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.into(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/v1/responses", post(respond))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockResponses {
            inner,
            base_url: format!("http://127.0.0.1:{port}/v1"),
        }
    }

    /// Appends replies for the next requests.
    pub fn push(&self, replies: Vec<Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Answers the requests of codex's collab sub-agents (threads of their own, whose requests
    /// carry `x-codex-parent-thread-id`) from `replies`, apart from the main script.
    pub fn answer_subagents(&self, replies: Vec<Reply>) {
        let mut i = self.inner.lock().unwrap();
        i.subagent_script
            .get_or_insert_with(VecDeque::new)
            .extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }
}

fn sse(event: Value) -> Bytes {
    Bytes::from(format!(
        "event: {}\ndata: {}\n\n",
        event["type"].as_str().unwrap(),
        event
    ))
}

fn usage() -> Value {
    json!({
        "input_tokens": INPUT_TOKENS,
        "input_tokens_details": { "cached_tokens": CACHED_TOKENS },
        "output_tokens": OUTPUT_TOKENS,
        "output_tokens_details": { "reasoning_tokens": 1 },
        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    })
}

async fn respond(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (reply, n) = {
        let mut guard = inner.lock().unwrap();
        let i = &mut *guard;
        // codex names a sub-agent's parent thread on each of its requests (0.171.0 also sends
        // `x-openai-subagent: collab_spawn`); `prompt_cache_key` is the root thread's for both.
        let subagent = headers.contains_key("x-codex-parent-thread-id");
        i.requests.push(Recorded {
            body,
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            subagent,
        });
        i.next += 1;
        let script = match i.subagent_script.as_mut() {
            Some(sub) if subagent => sub,
            _ => &mut i.script,
        };
        let reply = script
            .pop_front()
            .unwrap_or_else(|| Reply::text("(the mock's script is exhausted)"));
        (reply, i.next)
    };
    let reply = match reply {
        Reply::Delayed(pause, reply) => {
            tokio::time::sleep(pause).await;
            *reply
        }
        reply => reply,
    };
    let rid = format!("resp_{n}");
    let created = sse(json!({ "type": "response.created", "response": { "id": rid } }));
    let completed = sse(json!({
        "type": "response.completed",
        "response": { "id": rid, "usage": usage() },
    }));
    let events: Vec<Bytes> = match reply {
        Reply::Status(code, err) => {
            return Response::builder()
                .status(StatusCode::from_u16(code).unwrap())
                .header("content-type", "application/json")
                .body(Body::from(err.to_string()))
                .unwrap();
        }
        Reply::Stall => {
            let stream = futures::stream::iter(vec![Ok::<_, Infallible>(created)])
                .chain(futures::stream::pending());
            return Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap();
        }
        Reply::Truncate => vec![created],
        Reply::Delayed(..) => unreachable!("unwrapped above"),
        Reply::Reasoned(summary, parts) => {
            let rs = format!("rs_{rid}");
            let text: String = summary.concat();
            let mut ev = vec![
                created,
                sse(json!({
                    "type": "response.output_item.added", "output_index": 0,
                    "item": { "type": "reasoning", "id": rs, "summary": [] },
                })),
                sse(json!({
                    "type": "response.reasoning_summary_part.added", "item_id": rs,
                    "output_index": 0, "summary_index": 0,
                    "part": { "type": "summary_text", "text": "" },
                })),
            ];
            for d in &summary {
                ev.push(sse(json!({
                    "type": "response.reasoning_summary_text.delta", "item_id": rs,
                    "output_index": 0, "summary_index": 0, "delta": d,
                })));
            }
            ev.push(sse(json!({
                "type": "response.output_item.done", "output_index": 0,
                "item": { "type": "reasoning", "id": rs,
                          "summary": [{ "type": "summary_text", "text": text }] },
            })));
            let id = format!("msg_{rid}");
            let answer: String = parts.concat();
            for p in &parts {
                ev.push(sse(json!({
                    "type": "response.output_text.delta", "item_id": id, "output_index": 1,
                    "content_index": 0, "delta": p,
                })));
            }
            ev.push(sse(json!({
                "type": "response.output_item.done", "output_index": 1,
                "item": { "type": "message", "role": "assistant", "id": id,
                          "content": [{ "type": "output_text", "text": answer }] },
            })));
            ev.push(completed);
            ev
        }
        Reply::CountUsers | Reply::Text(_) => {
            let parts = match reply {
                Reply::Text(parts) => parts,
                _ => vec![format!(
                    "USERS={}",
                    user_messages(&body_of(&inner, n)).len()
                )],
            };
            let id = format!("msg_{rid}");
            let text: String = parts.concat();
            let mut ev = vec![
                created,
                sse(json!({
                    "type": "response.output_item.added", "output_index": 0,
                    "item": { "type": "message", "role": "assistant", "id": id, "content": [] },
                })),
                sse(json!({
                    "type": "response.content_part.added", "item_id": id, "output_index": 0,
                    "content_index": 0, "part": { "type": "output_text", "text": "" },
                })),
            ];
            for p in &parts {
                ev.push(sse(json!({
                    "type": "response.output_text.delta", "item_id": id, "output_index": 0,
                    "content_index": 0, "delta": p,
                })));
            }
            ev.push(sse(json!({
                "type": "response.output_item.done", "output_index": 0,
                "item": { "type": "message", "role": "assistant", "id": id,
                          "content": [{ "type": "output_text", "text": text }] },
            })));
            ev.push(completed);
            ev
        }
        Reply::Shell(cmd) => vec![
            created,
            sse(json!({
                "type": "response.output_item.done", "output_index": 0,
                "item": { "type": "function_call", "name": "exec_command",
                          "arguments": json!({ "cmd": cmd }).to_string(),
                          "call_id": format!("call_{rid}") },
            })),
            completed,
        ],
        Reply::Call(name, args) => vec![
            created,
            sse(json!({
                "type": "response.output_item.done", "output_index": 0,
                "item": { "type": "function_call", "name": name,
                          "arguments": args.to_string(),
                          "call_id": format!("call_{rid}") },
            })),
            completed,
        ],
        Reply::WebSearch(action, text) => {
            let ws = format!("ws_{rid}");
            let id = format!("msg_{rid}");
            vec![
                created,
                sse(json!({
                    "type": "response.output_item.added", "output_index": 0,
                    "item": { "type": "web_search_call", "id": ws, "status": "in_progress" },
                })),
                sse(json!({
                    "type": "response.output_item.done", "output_index": 0,
                    "item": { "type": "web_search_call", "id": ws, "status": "completed",
                              "action": action },
                })),
                sse(json!({
                    "type": "response.output_item.done", "output_index": 1,
                    "item": { "type": "message", "role": "assistant", "id": id,
                              "content": [{ "type": "output_text", "text": text }] },
                })),
                completed,
            ]
        }
        Reply::NamespacedCall(namespace, name, args) => vec![
            created,
            sse(json!({
                "type": "response.output_item.done", "output_index": 0,
                "item": { "type": "function_call", "namespace": namespace, "name": name,
                          "arguments": args.to_string(),
                          "call_id": format!("call_{rid}") },
            })),
            completed,
        ],
    };
    let stream = futures::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// The body of the `n`th request (1-based).
fn body_of(inner: &Arc<Mutex<Inner>>, n: u64) -> Value {
    inner.lock().unwrap().requests[n as usize - 1].body.clone()
}

/// The texts of the user's own messages in a request (codex's context blocks left out).
pub fn user_messages(body: &Value) -> Vec<String> {
    texts_of(body, "user")
        .into_iter()
        .filter(|t| !t.trim_start().starts_with('<'))
        .collect()
}

/// The text of every message of `role` in a recorded request's input.
pub fn texts_of(body: &Value, role: &str) -> Vec<String> {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["role"] == role)
        .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["text"].as_str().map(str::to_string))
        .collect()
}
