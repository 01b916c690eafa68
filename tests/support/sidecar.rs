//! A scripted host: spawns `agent-runtime-kit`, writes JSON-RPC lines, reads and sorts replies.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

pub const BIN: &str = env!("CARGO_BIN_EXE_agent-runtime-kit");
/// How long any single wait may take before the test fails (vendor runs can be slow on 2 cores).
pub const WAIT: Duration = Duration::from_secs(120);

pub struct Sidecar {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Raw stdout lines, for checks on the bytes themselves.
    pub raw: Arc<Mutex<Vec<String>>>,
    /// Everything the sidecar wrote to stderr.
    pub stderr: Arc<Mutex<String>>,
    buffered: VecDeque<Value>,
    next_id: u64,
}

/// A run's outcome as a host sees it.
#[derive(Debug)]
pub struct RunOutcome {
    pub events: Vec<Value>,
    /// The `run` response: `{"result": ...}` or `{"error": ...}`.
    pub response: Value,
}

/// An event as `(type, parentToolCallId, data)`.
pub type Marked = (String, Option<String>, Value);

/// Where the first event of type `kind` is in `events`.
pub fn position(events: &[Marked], kind: &str) -> usize {
    events
        .iter()
        .position(|(t, _, _)| t == kind)
        .unwrap_or_else(|| panic!("no {kind}: {events:?}"))
}

impl RunOutcome {
    pub fn result(&self) -> &Value {
        &self.response["result"]
    }

    /// The streamed main output: every `agent.output.delta` text, joined.
    pub fn streamed(&self) -> String {
        self.of_type("agent.output.delta")
            .iter()
            .filter_map(|d| d["text"].as_str())
            .collect()
    }

    /// The names of the result's `toolCalls`, in order.
    pub fn tool_call_names(&self) -> Vec<String> {
        self.result()["toolCalls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    }

    /// Every event as `(type, parentToolCallId, data)`: what sub-agent tests look at.
    pub fn marked(&self) -> Vec<Marked> {
        self.events
            .iter()
            .filter(|e| e["method"] == "event")
            .map(|e| &e["params"])
            .map(|p| {
                (
                    p["type"].as_str().unwrap_or_default().to_string(),
                    p["parentToolCallId"].as_str().map(str::to_string),
                    p["data"].clone(),
                )
            })
            .collect()
    }
    pub fn types(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| e["params"]["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }
    /// Asserts that the events are well formed and that the task ended with `finish_reason`;
    /// returns the result.
    #[track_caller]
    pub fn assert_finished(&self, finish_reason: &str) -> &Value {
        assert_well_formed(&self.events);
        let r = self.result();
        assert_eq!(r["finishReason"], finish_reason, "{r}");
        r
    }
    pub fn of_type(&self, t: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["params"]["type"] == t)
            .map(|e| &e["params"]["data"])
            .collect()
    }
}

impl Sidecar {
    pub fn spawn(args: &[&str]) -> Sidecar {
        Self::spawn_with(args, |_| {})
    }

    /// Spawns with extra configuration of the command (env, cwd).
    pub fn spawn_with(args: &[&str], configure: impl FnOnce(&mut Command)) -> Sidecar {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("RUST_LOG", "info")
            .kill_on_drop(true);
        configure(&mut cmd);
        let mut child = cmd.spawn().expect("spawn agent-runtime-kit");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        let raw = Arc::new(Mutex::new(vec![]));
        let raw2 = raw.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let line = String::from_utf8(buf.clone()).expect("stdout is UTF-8");
                assert!(line.ends_with('\n'), "every line ends with a newline");
                let line = line.trim_end_matches('\n').to_string();
                raw2.lock().unwrap().push(line.clone());
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carries only JSON ({e}): {line}"));
                let members = match &v {
                    Value::Array(items) => items.clone(),
                    one => vec![one.clone()],
                };
                for m in members {
                    assert_eq!(
                        m["jsonrpc"], "2.0",
                        "every message says jsonrpc 2.0: {line}"
                    );
                }
                let _ = tx.send(v);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr2 = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            loop {
                match stderr_pipe.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => stderr2
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        Sidecar {
            child,
            stdin,
            lines,
            raw,
            stderr,
            buffered: VecDeque::new(),
            next_id: 1,
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.unwrap();
        stdin.flush().await.unwrap();
    }

    pub async fn send(&mut self, msg: &Value) {
        let mut line = serde_json::to_vec(msg).unwrap();
        line.push(b'\n');
        self.send_raw(&line).await;
    }

    /// Sends a request with a fresh numeric id; returns the id.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        id
    }

    /// Closes stdin (EOF): the sidecar then shuts down.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next message, in arrival order.
    pub async fn next(&mut self) -> Option<Value> {
        if let Some(v) = self.buffered.pop_front() {
            return Some(v);
        }
        tokio::time::timeout(WAIT, self.lines.recv())
            .await
            .expect("the sidecar answered in time")
    }

    /// Waits for the response with `id`, keeping other messages for later.
    pub async fn response(&mut self, id: &Value) -> Value {
        let mut kept = VecDeque::new();
        let found = loop {
            let v = match self.buffered.pop_front() {
                Some(v) => v,
                None => tokio::time::timeout(WAIT, self.lines.recv())
                    .await
                    .expect("response in time")
                    .expect("sidecar still running"),
            };
            if v.get("method").is_none() && &v["id"] == id {
                break v;
            }
            kept.push_back(v);
        };
        kept.extend(self.buffered.drain(..));
        self.buffered = kept;
        found
    }

    /// One request, its response.
    /// The MCP handshake (`initialize`, then `notifications/initialized`), for `mcp` mode;
    /// the server's `initialize` result.
    pub async fn mcp_initialize(&mut self) -> Value {
        let init = self
            .call(
                "initialize",
                serde_json::json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "ark-test", "version": "0"}
                }),
            )
            .await;
        self.send(&serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        init
    }

    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        self.response(&id).await
    }

    /// Runs a task and collects its events until its response. `approve` answers each
    /// `approval/request` (with the request's params) or, when it returns `None`, leaves it unanswered.
    pub async fn run_with(
        &mut self,
        params: Value,
        approve: impl FnMut(&Value) -> Option<Value>,
    ) -> RunOutcome {
        self.run_answering(params, approve, |_| None).await
    }

    /// [`Self::run_with`], also answering each `input/request` with `answer` (its params in;
    /// `None` leaves it unanswered).
    pub async fn run_answering(
        &mut self,
        params: Value,
        mut approve: impl FnMut(&Value) -> Option<Value>,
        mut answer: impl FnMut(&Value) -> Option<Value>,
    ) -> RunOutcome {
        let id = self.request("run", params.clone()).await;
        let mut events = vec![];
        let mut kept = VecDeque::new();
        let mut task_id: Option<String> = None;
        loop {
            let v = match self.buffered.pop_front() {
                Some(v) => v,
                None => tokio::time::timeout(WAIT, self.lines.recv())
                    .await
                    .expect("run finished in time")
                    .expect("sidecar still running"),
            };
            if v.get("method").is_none() && v["id"] == id {
                self.buffered.extend(kept);
                return RunOutcome {
                    events,
                    response: v,
                };
            }
            match v["method"].as_str() {
                Some("event") => {
                    let tid = v["params"]["taskId"].as_str().unwrap().to_string();
                    let mine = match &task_id {
                        Some(t) => *t == tid,
                        None => {
                            let wanted = params.get("taskId").and_then(Value::as_str);
                            if wanted.is_none_or(|w| w == tid) {
                                task_id = Some(tid);
                                true
                            } else {
                                false
                            }
                        }
                    };
                    if mine {
                        events.push(v);
                    } else {
                        kept.push_back(v);
                    }
                }
                Some("approval/request") => {
                    if let Some(answer) = approve(&v["params"]) {
                        let reply = json!({"jsonrpc": "2.0", "id": v["id"], "result": answer});
                        self.send(&reply).await;
                    }
                    events.push(v);
                }
                Some("input/request") => {
                    if let Some(answers) = answer(&v["params"]) {
                        let reply = json!({"jsonrpc": "2.0", "id": v["id"], "result": answers});
                        self.send(&reply).await;
                    }
                    events.push(v);
                }
                _ => kept.push_back(v),
            }
        }
    }

    pub async fn run(&mut self, params: Value) -> RunOutcome {
        self.run_with(params, |_| Some(json!({"decision": "deny"})))
            .await
    }

    /// Waits for the process to exit; returns its code.
    pub async fn wait_exit(&mut self) -> Option<i32> {
        self.stdin = None;
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("sidecar exited in time")
            .unwrap()
            .code()
    }

    /// Everything still unread, until the sidecar closes stdout.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out: Vec<Value> = self.buffered.drain(..).collect();
        while let Ok(Some(v)) = tokio::time::timeout(WAIT, self.lines.recv()).await {
            out.push(v);
        }
        out
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout_text(&self) -> String {
        self.raw.lock().unwrap().join("\n")
    }
}

/// Asserts the event list of one task is well formed: seq 0.. without gaps, one started event
/// first, exactly one terminal event, last.
pub fn assert_well_formed(events: &[Value]) {
    let evs: Vec<&Value> = events.iter().filter(|e| e["method"] == "event").collect();
    assert!(!evs.is_empty(), "a task has events");
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["params"]["seq"], json!(i), "seq has no gaps: {e}");
    }
    assert_eq!(evs[0]["params"]["type"], "agent.task.started");
    let terminal: Vec<_> = evs
        .iter()
        .filter(|e| {
            let t = e["params"]["type"].as_str().unwrap();
            t == "agent.task.completed" || t == "agent.task.failed"
        })
        .collect();
    assert_eq!(terminal.len(), 1, "exactly one terminal event");
    let last = evs.last().unwrap()["params"]["type"].as_str().unwrap();
    assert!(last == "agent.task.completed" || last == "agent.task.failed");
}
