//! `protocol/` stays true to the code: the committed schema equals the generated one, the example
//! exchanges are what the binary really says, and every message in them validates against the schema.
//! Run with UPDATE_PROTOCOL=1 to rewrite the files from the code.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::Sidecar;

fn update() -> bool {
    std::env::var("UPDATE_PROTOCOL").as_deref() == Ok("1")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generated_schema() -> Value {
    let out = std::process::Command::new(support::sidecar::BIN)
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn committed_schema_matches_the_code() {
    let path = root().join("protocol/schema/protocol.schema.json");
    let generated = generated_schema();
    if update() {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&generated).unwrap() + "\n",
        )
        .unwrap();
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(committed == generated, "protocol/schema/protocol.schema.json is stale: run UPDATE_PROTOCOL=1 cargo test --test protocol_drift");
}

/// One example exchange: what the host sends (replies to approval requests are sent when asked).
struct Scenario {
    name: &'static str,
    about: &'static str,
    host: Vec<Value>,
    /// How many messages the sidecar writes in this exchange.
    expect: usize,
}

fn scenarios() -> Vec<Scenario> {
    let script = json!({"steps": [
        {"event": "agent.output.delta", "data": {"text": "Hello, "}},
        {"event": "agent.output.delta", "data": {"text": "world."}},
        {"tool": {"name": "Bash", "input": {"command": "ls"}, "output": "README.md src", "status": "ok"}},
        {"event": "agent.message", "data": {"text": "Hello, world."}}],
        "result": {"output": "Hello, world.", "sessionId": "fx-session-1", "usage": {"inputTokens": 12, "outputTokens": 5, "costUsd": 0.0}, "turns": 2}});
    vec![
        Scenario {
            name: "capabilities",
            about: "What the server and the fixture runtime support.",
            host: vec![json!({"jsonrpc":"2.0","id":1,"method":"capabilities","params":{"runtime":"fixture"}})],
            expect: 1,
        },
        Scenario {
            name: "diagnose",
            about: "Readiness of the fixture runtime.",
            host: vec![json!({"jsonrpc":"2.0","id":1,"method":"diagnose","params":{"runtime":"fixture"}})],
            expect: 1,
        },
        Scenario {
            name: "run",
            about: "A task: started, streamed text, a tool call, the message, the terminal event, then the result.",
            host: vec![json!({"jsonrpc":"2.0","id":1,"method":"run","params":{"taskId":"task-1","runtime":"fixture",
                "task":{"goal":"Say hello","workingDirectory":".","runtimeOptions":{"fixture":{"script":script}}}}})],
            expect: 8,
        },
        Scenario {
            name: "approval",
            about: "approvals: host — the sidecar asks the host before a tool runs.",
            host: vec![
                json!({"jsonrpc":"2.0","id":1,"method":"run","params":{"taskId":"task-2","runtime":"fixture",
                    "task":{"goal":"Write a file","workingDirectory":".","permissions":{"sandbox":"workspace-write","approvals":"host"},
                    "runtimeOptions":{"fixture":{"script":{"steps":[{"approval":{"name":"Write","input":{"path":"notes.txt"},"output":"wrote notes.txt"}}],
                    "result":{"output":"Done.","sessionId":"fx-session-2"}}}}}}}),
                json!({"jsonrpc":"2.0","id":"ark-1","result":{"decision":"allow"}}),
            ],
            expect: 7,
        },
        Scenario {
            name: "cancel",
            about: "Cancel a running task: the cancel reply, then the run's result with finishReason cancelled.",
            host: vec![
                json!({"jsonrpc":"2.0","id":1,"method":"run","params":{"taskId":"task-3","runtime":"fixture",
                    "task":{"goal":"Take your time","workingDirectory":".","runtimeOptions":{"fixture":{"script":{"steps":[{"delayMs":60000}],"result":{"sessionId":"fx-session-3"}}}}}}}),
                json!({"jsonrpc":"2.0","id":2,"method":"cancel","params":{"taskId":"task-3"}}),
            ],
            expect: 4,
        },
        Scenario {
            name: "errors",
            about: "Requests refused before anything starts, each with its code and data.kind.",
            host: vec![
                json!({"jsonrpc":"2.0","id":1,"method":"run","params":{"runtime":"nosuch","task":{"goal":"x"}}}),
                json!({"jsonrpc":"2.0","id":2,"method":"run","params":{"runtime":"fixture","task":{"goal":"x","temperature":1}}}),
                json!({"jsonrpc":"2.0","id":3,"method":"run","params":{"runtime":"fixture","task":{"goal":"x","runtimeOptions":{"fixture":{"speed":2}}}}}),
                json!({"jsonrpc":"2.0","id":4,"method":"cancel","params":{"taskId":"unknown-task"}}),
                json!({"jsonrpc":"2.0","id":5,"method":"frobnicate"}),
            ],
            expect: 5,
        },
        Scenario {
            name: "sessions",
            about: "A live session: opened ahead of the first turn (prewarm), two turns in the same process (the second sees the first), the list, then close with its session/closed notification.",
            host: vec![
                json!({"jsonrpc":"2.0","id":1,"method":"session/open","params":{"runtime":"fixture",
                    "task":{"workingDirectory":".","runtimeOptions":{"fixture":{"turns":[{"steps":[
                        {"event":"agent.output.delta","data":{"text":"Nice to meet you, Ada."}}],
                        "result":{"output":"Nice to meet you, Ada.","sessionId":"fx-live-1"}}]}}}}}),
                json!({"jsonrpc":"2.0","id":2,"method":"run","params":{"taskId":"turn-1","runtime":"fixture",
                    "task":{"goal":"My name is Ada.","session":{"resume":"fx-live-1"}}}}),
                json!({"jsonrpc":"2.0","id":3,"method":"run","params":{"taskId":"turn-2","runtime":"fixture",
                    "task":{"goal":"What is my name?","session":{"resume":"fx-live-1"}}}}),
                json!({"jsonrpc":"2.0","id":4,"method":"session/list","params":{}}),
                json!({"jsonrpc":"2.0","id":5,"method":"session/close","params":{"sessionId":"fx-live-1"}}),
            ],
            expect: 13,
        },
    ]
}

/// Replaces what changes from run to run.
fn normalize(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match k.as_str() {
                    "time" => *val = json!("2026-01-01T00:00:00Z"),
                    "durationMs" | "idleMs" => *val = json!(0),
                    "workingDirectory" if val.is_string() => *val = json!("/work/project"),
                    "input"
                        if val
                            .get("path")
                            .is_some_and(|p| p.as_str().is_some_and(|p| p.starts_with('/'))) =>
                    {
                        val["path"] = json!("/work/project")
                    }
                    _ => normalize(val),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

async fn play(s: &Scenario) -> Vec<Value> {
    let mut side = Sidecar::spawn(&[]);
    let mut lines = vec![];
    let mut got = vec![];
    for msg in &s.host {
        if msg.get("method").is_none() {
            // A reply: wait for the request it answers.
            loop {
                let v = side.next().await.unwrap();
                let asked = v["id"] == msg["id"] && v.get("method").is_some();
                got.push(v);
                if asked {
                    break;
                }
            }
        }
        side.send(msg).await;
        lines.push(json!({"from": "host", "message": msg}));
        // Keep the exchange in a readable order: the sidecar's answers to this line come next.
        if s.name == "errors" {
            got.push(side.next().await.unwrap());
        }
        if s.name == "cancel" && msg["method"] == "run" {
            got.push(side.next().await.unwrap());
        }
        if s.name == "sessions" {
            // Each request of a conversation waits for the answer to the one before.
            loop {
                let v = side.next().await.unwrap();
                let answered = v["id"] == msg["id"] && v.get("method").is_none();
                got.push(v);
                if answered {
                    break;
                }
            }
        }
    }
    while got.len() < s.expect {
        got.push(side.next().await.unwrap());
    }
    // Interleave: each host line after the sidecar message that prompted it.
    let mut out = vec![];
    let mut host = lines.into_iter();
    out.push(host.next().unwrap());
    for mut v in got {
        normalize(&mut v);
        out.push(json!({"from": "sidecar", "message": v}));
        if host_line_follows(s.name, &out) {
            if let Some(h) = host.next() {
                out.push(h);
            }
        }
    }
    out.extend(host);
    assert_eq!(side.wait_exit().await, Some(0));
    out
}

/// Whether the next host line belongs right after the sidecar message just pushed.
fn host_line_follows(name: &str, out: &[Value]) -> bool {
    let Some(last) = out.last().map(|l| &l["message"]) else {
        return false;
    };
    match name {
        "errors" => last.get("error").is_some(),
        "approval" => last["method"] == "approval/request",
        "cancel" => last["params"]["type"] == "agent.task.started",
        "sessions" => last.get("id").is_some() && last.get("method").is_none(),
        _ => false,
    }
}

fn validator(bundle: &Value, schema: &Value) -> jsonschema::Validator {
    let mut s = schema.clone();
    s["$defs"] = bundle["$defs"].clone();
    jsonschema::validator_for(&s).unwrap()
}

/// Every message of an exchange must fit the schema of its method.
/// `invalid_input`: the host lines are wrong on purpose (the errors example).
fn check_against_schema(bundle: &Value, exchange: &[Value], invalid_input: bool) {
    let methods = &bundle["methods"];
    let mut asked: std::collections::HashMap<String, String> = Default::default();
    for line in exchange {
        let m = &line["message"];
        let (schema, what) = if let Some(method) = m["method"].as_str() {
            if let Some(id) = m.get("id") {
                asked.insert(id.to_string(), method.to_string());
            }
            match methods.get(method) {
                Some(_) if invalid_input && line["from"] == "host" => continue,
                Some(entry) => (entry["params"].clone(), format!("{method} params")),
                None => continue, // an unknown method, on purpose
            }
        } else if m.get("result").is_some() {
            let method = asked.get(&m["id"].to_string()).cloned().unwrap_or_default();
            (
                methods[&method]["result"].clone(),
                format!("{method} result"),
            )
        } else {
            continue;
        };
        let target = if m.get("method").is_some() {
            &m["params"]
        } else {
            &m["result"]
        };
        let v = validator(bundle, &schema);
        let errors: Vec<String> = v.iter_errors(target).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{what} does not fit the schema: {errors:?}\n{target}"
        );
    }
}

#[tokio::test]
async fn examples_are_real_exchanges_that_fit_the_schema() {
    let bundle = generated_schema();
    let dir = root().join("protocol/examples");
    for s in scenarios() {
        let exchange = play(&s).await;
        check_against_schema(&bundle, &exchange, s.name == "errors");
        let mut text = format!("{}\n", json!({"about": s.about}));
        for line in &exchange {
            text.push_str(&serde_json::to_string(line).unwrap());
            text.push('\n');
        }
        let path = dir.join(format!("{}.jsonl", s.name));
        if update() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale: run UPDATE_PROTOCOL=1 cargo test --test protocol_drift\n{text}",
            path.display()
        );
    }
}
