//! A mock of the Gemini API's `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, on
//! 127.0.0.1, scripted per test: each request takes the next [`Reply`] (the last one repeats), and
//! every request is recorded so tests can check what reached the "model".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// One scripted model response.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A streamed answer: one SSE chunk per entry (each a list of `parts`), `delay` between chunks.
    Stream {
        chunks: Vec<Vec<Value>>,
        delay: Duration,
    },
    /// An HTTP error in Google's error shape.
    Error {
        code: u16,
        status: &'static str,
        message: String,
    },
    /// No answer for this long (for cancel and timeout tests), then the given reply.
    Hang(Duration, Box<Reply>),
    /// A text answer saying how many user turns the request carried ("user turns: N"): a
    /// follow-up that sees the earlier turns says a larger N (see [`user_turns`]).
    CountUserTurns,
}

impl Reply {
    /// A text answer streamed in the given pieces.
    pub fn text(pieces: &[&str]) -> Reply {
        Reply::Stream {
            chunks: pieces.iter().map(|p| vec![json!({ "text": p })]).collect(),
            delay: Duration::ZERO,
        }
    }
    /// A function call (a tool use) by the model.
    pub fn call(name: &str, args: Value) -> Reply {
        Reply::Stream {
            chunks: vec![vec![
                json!({ "functionCall": { "name": name, "args": args } }),
            ]],
            delay: Duration::ZERO,
        }
    }
    /// A thought, then the given reply's chunks.
    pub fn thinking(thought: &str, then: Reply) -> Reply {
        match then {
            Reply::Stream { mut chunks, delay } => {
                chunks.insert(0, vec![json!({ "text": thought, "thought": true })]);
                Reply::Stream { chunks, delay }
            }
            other => other,
        }
    }
    /// The same stream with `delay` between chunks (so the SDK streams them as separate deltas).
    pub fn paced(self, delay: Duration) -> Reply {
        match self {
            Reply::Stream { chunks, .. } => Reply::Stream { chunks, delay },
            other => other,
        }
    }
    pub fn error(code: u16, status: &'static str, message: &str) -> Reply {
        Reply::Error {
            code,
            status,
            message: message.to_string(),
        }
    }
}

/// A request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub model: String,
    pub api_key: Option<String>,
    pub body: Value,
    /// Whether a sub-agent sent it (see [`is_subagent`]).
    pub subagent: bool,
}

impl Recorded {
    /// Every text of every part of `contents`, in order (user turns, model turns, tool results).
    pub fn texts(&self) -> String {
        self.body
            .get("contents")
            .map(|c| c.to_string())
            .unwrap_or_default()
    }
    pub fn system_instruction(&self) -> String {
        self.body
            .get("systemInstruction")
            .map(|c| c.to_string())
            .unwrap_or_default()
    }
    /// Names of the functions offered to the model.
    pub fn tool_names(&self) -> Vec<String> {
        let mut out = vec![];
        for t in self.body["tools"].as_array().into_iter().flatten() {
            for f in t["functionDeclarations"].as_array().into_iter().flatten() {
                if let Some(n) = f["name"].as_str() {
                    out.push(n.to_string());
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    last: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    /// Replies for sub-agents' requests, when set.
    subagent_script: Mutex<Option<VecDeque<Reply>>>,
}

pub struct MockGemini {
    pub url: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl MockGemini {
    pub async fn start(script: Vec<Reply>) -> MockGemini {
        let inner = Arc::new(Inner {
            script: Mutex::new(script.into()),
            ..Default::default()
        });
        let app = Router::new()
            .route("/v1beta/models/{call}", post(generate))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockGemini { url, inner, server }
    }

    /// Answers the requests of sub-agents (child trajectories run by `invoke_subagent`) from
    /// `replies`, apart from the main script (once spent, a sub-agent gets a plain answer).
    pub fn answer_subagents(&self, replies: Vec<Reply>) {
        self.inner
            .subagent_script
            .lock()
            .unwrap()
            .get_or_insert_with(VecDeque::new)
            .extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }
}

impl Drop for MockGemini {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn generate(
    State(inner): State<Arc<Inner>>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(model) = call.strip_suffix(":streamGenerateContent") else {
        return (
            StatusCode::NOT_FOUND,
            "only :streamGenerateContent is mocked",
        )
            .into_response();
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let subagent = is_subagent(&body);
    inner.requests.lock().unwrap().push(Recorded {
        model: model.to_string(),
        api_key: headers
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
        subagent,
    });
    let sub_reply = match inner.subagent_script.lock().unwrap().as_mut() {
        Some(sub) if subagent => Some(
            sub.pop_front()
                .unwrap_or_else(|| Reply::text(&["(the sub-agent script is spent)"])),
        ),
        _ => None,
    };
    if let Some(reply) = sub_reply {
        return respond(reply).await;
    }
    let next = inner.script.lock().unwrap().pop_front();
    let reply = match next {
        Some(r) => {
            *inner.last.lock().unwrap() = Some(r.clone());
            r
        }
        None => inner
            .last
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| Reply::text(&["(the mock has no script)"])),
    };
    let reply = match reply {
        Reply::CountUserTurns => {
            let n = user_turns(&inner.requests.lock().unwrap().last().unwrap().body);
            Reply::text(&[&format!("user turns: {n}")])
        }
        other => other,
    };
    respond(reply).await
}

async fn respond(mut reply: Reply) -> Response {
    while let Reply::Hang(d, then) = reply {
        tokio::time::sleep(d).await;
        reply = *then;
    }
    match reply {
        Reply::Error {
            code,
            status,
            message,
        } => {
            let body = json!({ "error": { "code": code, "message": message, "status": status } });
            (
                StatusCode::from_u16(code).unwrap(),
                [("content-type", "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Reply::Stream { chunks, delay } => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
            tokio::spawn(async move {
                let n = chunks.len();
                for (i, parts) in chunks.into_iter().enumerate() {
                    let mut c = json!({
                        "candidates": [{ "content": { "role": "model", "parts": parts }, "index": 0 }],
                        "modelVersion": "mock-gemini",
                    });
                    if i + 1 == n {
                        c["candidates"][0]["finishReason"] = json!("STOP");
                        c["usageMetadata"] = json!({
                            "promptTokenCount": 11, "candidatesTokenCount": 7,
                            "thoughtsTokenCount": 2, "totalTokenCount": 20,
                        });
                    }
                    let frame = format!("data: {c}\r\n\r\n");
                    if tx.send(Ok(Bytes::from(frame))).await.is_err() {
                        return;
                    }
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                }
            });
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            });
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Reply::Hang(..) | Reply::CountUserTurns => unreachable!(),
    }
}

/// Whether a request is a sub-agent's: the harness opens the main conversation with the user's
/// `<USER_REQUEST>`, a sub-agent's with the message its parent sent it (google-antigravity 0.1.22).
pub fn is_subagent(body: &Value) -> bool {
    let first = &body["contents"][0];
    first.is_object() && !first.to_string().contains("<USER_REQUEST>")
}

/// How many user messages (`contents` of role `user` with a text part, not tool results) a
/// request carries: what the model saw of the conversation.
pub fn user_turns(body: &Value) -> usize {
    body["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["role"] == "user")
        .filter(|c| {
            c["parts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p.get("text").is_some())
        })
        .count()
}
