//! Hostile input over stdio: property tests (proptest) that throw arbitrary bytes, arbitrary JSON
//! and arbitrary requests at the real binary, and checks of paths and options that must be refused
//! with a clear -32602 / -32012 before anything starts.
//!
//! The property: the server never dies, never writes anything but JSON-RPC on stdout, and every
//! request with an id gets exactly one reply.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use support::fakes::Fakes;
use support::Sidecar;

/// Draws `n` values of `strategy` from a fixed seed (reproducible; no shrinking: a failure prints
/// the offending input).
fn sample<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize, seed: u8) -> Vec<T> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("2.0"),
            Just("run"),
            Just("cancel"),
            Just("fixture"),
            Just("jsonrpc"),
            Just("method"),
            Just("id"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    ".{0,8}",
                    "(jsonrpc|id|method|params|result|error|task|goal|runtime|taskId)"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A request (with an id we track) whose parts are each either right or arbitrary.
fn arb_request() -> impl Strategy<Value = (Value, Value)> {
    let method = prop_oneof![
        Just(json!("capabilities")),
        Just(json!("diagnose")),
        Just(json!("run")),
        Just(json!("cancel")),
        Just(json!("approval/request")),
        ".{0,12}".prop_map(Value::from),
        arb_json(),
    ];
    let task = prop::collection::btree_map(
        prop_oneof![
            Just("goal".to_string()),
            Just("workingDirectory".to_string()),
            Just("permissions".to_string()),
            Just("mcpServers".to_string()),
            Just("outputSchema".to_string()),
            Just("maxTurns".to_string()),
            Just("timeoutMs".to_string()),
            Just("session".to_string()),
            Just("runtimeOptions".to_string()),
            ".{0,8}",
        ],
        arb_json(),
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    let params = prop_oneof![
        arb_json(),
        (
            prop_oneof![
                Just(json!("fixture")),
                Just(json!("claude")),
                Just(json!("codex")),
                Just(json!("antigravity")),
                arb_json()
            ],
            task,
            prop_oneof![Just(None), ".{0,6}".prop_map(Some)],
        )
            .prop_map(|(runtime, mut task, task_id)| {
                // A goal most of the time, so that some runs are valid and really start.
                if task.get("goal").is_none() {
                    task["goal"] = json!("hello");
                }
                task["timeoutMs"] = json!(2000);
                let mut p = json!({ "runtime": runtime, "task": task });
                if let Some(t) = task_id {
                    p["taskId"] = json!(t);
                }
                p
            }),
    ];
    let jsonrpc = prop_oneof![4 => Just(json!("2.0")), 1 => arb_json()];
    (method, params, jsonrpc, any::<u32>()).prop_map(|(method, params, jsonrpc, n)| {
        let id = json!(format!("h-{n}"));
        (
            id.clone(),
            json!({ "jsonrpc": jsonrpc, "id": id, "method": method, "params": params }),
        )
    })
}

/// A sidecar whose vendor runtimes point at nothing (so `diagnose` and `run` answer fast).
fn sidecar(extra: &[&str]) -> Sidecar {
    let mut args = vec![
        "--claude-path",
        "/nonexistent/claude",
        "--codex-path",
        "/nonexistent/codex",
        "--antigravity-python",
        "/nonexistent/python",
        "--log-level",
        "error",
    ];
    args.extend_from_slice(extra);
    Sidecar::spawn_with(&args, |cmd| {
        cmd.env_remove("RUST_LOG");
    })
}

/// Collects replies until every id in `expected` has one (and a little longer, to catch
/// duplicates); returns how many replies each id got.
async fn replies(s: &mut Sidecar, expected: &[Value]) -> HashMap<String, usize> {
    let mut count: HashMap<String, usize> = HashMap::new();
    let want: Vec<String> = expected.iter().map(|v| v.to_string()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut done_at: Option<tokio::time::Instant> = None;
    loop {
        let limit = done_at.unwrap_or(deadline);
        let msg = match tokio::time::timeout_at(limit, s.next()).await {
            Ok(Some(m)) => m,
            Ok(None) => panic!("the sidecar died"),
            Err(_) => break,
        };
        let members = match msg {
            Value::Array(items) => items,
            one => vec![one],
        };
        for m in members {
            if m.get("method").is_some() {
                continue; // events, approval requests
            }
            *count.entry(m["id"].to_string()).or_default() += 1;
        }
        if done_at.is_none() && want.iter().all(|w| count.contains_key(w)) {
            done_at = Some(tokio::time::Instant::now() + Duration::from_millis(300));
        }
    }
    count
}

#[tokio::test]
async fn arbitrary_bytes_never_kill_the_server() {
    let mut s = sidecar(&["--max-message-bytes", "4096"]);
    let lines = sample(
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..200),
            1 => prop::collection::vec(any::<u8>(), 4000..9000),
            2 => "[{}\\[\\]\":,0-9a-z\\\\ ]{0,60}".prop_map(|s| s.into_bytes()),
        ],
        300,
        1,
    );
    let mut probes = vec![];
    for (i, mut line) in lines.into_iter().enumerate() {
        line.retain(|b| *b != b'\n');
        line.push(b'\n');
        s.send_raw(&line).await;
        if i % 10 == 0 {
            let id = json!(format!("probe-{i}"));
            s.send(&json!({"jsonrpc": "2.0", "id": id, "method": "capabilities"}))
                .await;
            probes.push(id);
        }
    }
    let got = replies(&mut s, &probes).await;
    for p in &probes {
        assert_eq!(got.get(&p.to_string()), Some(&1), "probe {p}: {got:?}");
    }
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn arbitrary_json_and_requests_get_exactly_one_reply_per_id() {
    let f = Fakes::new();
    let mut s = sidecar(&[]);
    let values = sample(arb_json(), 250, 2);
    for v in &values {
        s.send(v).await;
    }
    let requests = sample(arb_request(), 300, 3);
    let mut ids = vec![];
    for (i, (id, mut req)) in requests.into_iter().enumerate() {
        // Runs that really start must not all share one working directory's name space.
        if let Some(task) = req
            .pointer_mut("/params/task")
            .and_then(Value::as_object_mut)
        {
            if !task.contains_key("workingDirectory") {
                task.insert("workingDirectory".into(), json!(f.work));
            }
        }
        if ids.contains(&id) {
            continue;
        }
        // Every few, a batch of two.
        if i % 7 == 0 {
            let second = json!(format!("{}-b", id.as_str().unwrap()));
            let mut other = req.clone();
            other["id"] = second.clone();
            s.send(&json!([req, other])).await;
            ids.push(second);
        } else {
            s.send(&req).await;
        }
        ids.push(id);
    }
    let got = replies(&mut s, &ids).await;
    for id in &ids {
        assert_eq!(got.get(&id.to_string()), Some(&1), "request {id}: {got:?}");
    }
    assert_eq!(s.wait_exit().await, Some(0));
}

fn code(r: &Value) -> i64 {
    r["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error: {r}"))
}

#[tokio::test]
async fn paths_options_and_mcp_shapes_are_refused_clearly() {
    let f = Fakes::new();
    let file = f.root.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut s = f.sidecar();
    let run = |runtime: &str, task: Value| {
        let mut t = json!({ "goal": "g", "workingDirectory": f.work });
        for (k, v) in task.as_object().unwrap() {
            t[k] = v.clone();
        }
        json!({ "runtime": runtime, "task": t })
    };
    let expect = |r: &Value, c: i64, path: &str| {
        assert_eq!(code(r), c, "{r}");
        let at = r["error"]["data"]["path"]
            .as_str()
            .or(r["error"]["data"]["field"].as_str())
            .unwrap_or_default();
        assert!(at.starts_with(path), "{path} vs {r}");
        assert!(!r["error"]["message"].as_str().unwrap().is_empty());
    };

    for runtime in ["fixture", "claude", "codex"] {
        let r = s
            .call(
                "run",
                run(runtime, json!({ "workingDirectory": "/no/such/dir" })),
            )
            .await;
        expect(&r, -32602, "task.workingDirectory");
        let r = s
            .call("run", run(runtime, json!({ "workingDirectory": file })))
            .await;
        expect(&r, -32602, "task.workingDirectory");
        let r = s
            .call(
                "run",
                run(runtime, json!({ "additionalDirectories": [file] })),
            )
            .await;
        // fixture cannot take extra directories at all; the others check the path.
        assert!(matches!(code(&r), -32602 | -32012), "{r}");
    }

    // runtimeOptions that try to smuggle command-line flags or environment.
    let smuggle = [
        (
            "claude",
            json!({ "runtimeOptions": { "claude": { "--dangerously-skip-permissions": true } } }),
            -32012,
            "task.runtimeOptions.claude",
        ),
        (
            "claude",
            json!({ "runtimeOptions": { "claude": { "extraArgs": ["--permission-mode", "bypassPermissions"] } } }),
            -32012,
            "task.runtimeOptions.claude",
        ),
        (
            "claude",
            json!({ "model": "--dangerously-skip-permissions" }),
            -32602,
            "task.model",
        ),
        (
            "claude",
            json!({ "runtimeOptions": { "claude": { "fallbackModel": "--permission-mode=bypassPermissions" } } }),
            -32602,
            "task.runtimeOptions.claude.fallbackModel",
        ),
        (
            "claude",
            json!({ "permissions": { "disallowedTools": ["Bash", "--dangerously-skip-permissions"] } }),
            -32602,
            "task.permissions.disallowedTools[1]",
        ),
        (
            "claude",
            json!({ "session": { "resume": "--fork-session" } }),
            -32602,
            "task.session.resume",
        ),
        (
            "claude",
            json!({ "runtimeOptions": { "claude": { "env": { "PATH=/evil:/bin HOME": "x" } } } }),
            -32602,
            "task.runtimeOptions.claude.env",
        ),
        (
            "claude",
            json!({ "runtimeOptions": { "claude": { "env": { "A": "x\u{0}y" } } } }),
            -32602,
            "task.runtimeOptions.claude.env",
        ),
        (
            "codex",
            json!({ "runtimeOptions": { "codex": { "config": { "sandbox_mode": "danger-full-access" } } } }),
            -32012,
            "task.runtimeOptions.codex.config.sandbox_mode",
        ),
        (
            "codex",
            json!({ "runtimeOptions": { "codex": { "config": { "a=b --dangerously-bypass-approvals-and-sandbox": 1 } } } }),
            -32602,
            "task.runtimeOptions.codex.config",
        ),
        (
            "codex",
            json!({ "runtimeOptions": { "codex": { "env": { "X=Y": "1" } } } }),
            -32602,
            "task.runtimeOptions.codex.env",
        ),
        (
            "codex",
            json!({ "runtimeOptions": { "codex": { "args": ["--yolo"] } } }),
            -32012,
            "task.runtimeOptions.codex",
        ),
    ];
    for (runtime, task, c, path) in smuggle {
        let r = s.call("run", run(runtime, task.clone())).await;
        assert_eq!(code(&r), c, "{task} → {r}");
        let at = r["error"]["data"]["path"]
            .as_str()
            .or(r["error"]["data"]["field"].as_str())
            .unwrap_or_default();
        assert!(at.starts_with(path), "{task}: {path} vs {r}");
    }

    // MCP server entries with bad shapes.
    for (servers, path) in [
        (json!({ "x": "npx server" }), "task"),
        (json!({ "x": { "command": 5 } }), "task"),
        (json!({ "x": { "type": "http" } }), "task"),
        (
            json!({ "x": { "command": "a", "url": "http://x" } }),
            "task",
        ),
        (json!({ "x": { "type": "sse", "url": "http://x" } }), "task"),
        (
            json!({ "x": { "command": "a", "env": { "K": 1 } } }),
            "task",
        ),
        (
            json!({ "x": { "command": "  " } }),
            "task.mcpServers.x.command",
        ),
        (
            json!({ "x": { "type": "http", "url": "file:///etc/passwd" } }),
            "task.mcpServers.x.url",
        ),
        (json!([{ "command": "a" }]), "task"),
    ] {
        let r = s
            .call("run", run("claude", json!({ "mcpServers": servers })))
            .await;
        expect(&r, -32602, path);
    }
    // Nothing was started by any of these.
    assert!(f.noted_pids().is_empty(), "{:?}", f.noted_pids());
    assert_eq!(s.wait_exit().await, Some(0));
}
