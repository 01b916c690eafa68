//! Redaction that neither leaks nor mangles (issue 15, item 4), through the binary's stdio:
//! - a secret split across output deltas never goes out whole or in recognisable halves, to the
//!   host or to a `--record` file;
//! - escaped, base64 and URL-encoded forms of a known secret are redacted, and so are map keys;
//! - vendor stderr is redacted before its lines are cut;
//! - secrets learned from a task live with that task; the environment's stay;
//! - MCP tool arguments never reach the debug log before their secrets are learned;
//! - an approver sees the whole command, only the secret replaced;
//! - ordinary text ("Author: Jane Doe" with GIT_AUTHOR_NAME set, "agent-task", "diff.tsx")
//!   passes unchanged.
//!
//! `redaction_cost_is_flat` (ignored) measures events/s with 0 and 8,000 known secrets.

mod support;

use std::time::Instant;

use serde_json::{json, Value};
use support::fakes::Fakes;
use support::Sidecar;

const ENV_SECRET: &str = "EnvSecretQ7w8e9r0t1y2u3i4o5p6";
const TASK_SECRET: &str = "TaskSecretZ1x2c3v4b5n6m7a8s9d0";
const SHAPED_TAIL: &str = "ShapedKeyTailABCDEFGHIJKLMNOP";
const ORDINARY: &str = "Author: Jane Doe <jane.doe@example.com>, see diff.tsx and agent-task-0123456789abcdefghij; KEYTIMEOUT=1";

fn halves(secret: &str) -> [&str; 2] {
    let mid = secret.len() / 2;
    [&secret[..mid], &secret[mid..]]
}

fn delta(text: &str) -> Value {
    json!({"event": "agent.output.delta", "data": {"text": text}})
}

/// Every string and key in `v`.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

/// Reasoning and tool-output deltas are text streams too, each held back on its own, interleaved
/// with the output stream; a stream's held text goes out (redacted) before the next other event.
#[tokio::test]
async fn a_secret_split_across_reasoning_or_tool_output_deltas_never_goes_out() {
    let mut s = Sidecar::spawn_with(&[], |c| {
        c.env("ARK_TEST_API_KEY", ENV_SECRET);
    });
    let e = ENV_SECRET;
    let reasoning = |t: &str| json!({"event": "agent.reasoning.delta", "data": {"text": t}});
    let output = |t: &str| json!({"event": "agent.tool.output.delta", "data": {"toolCallId": "c1", "text": t}});
    let steps = vec![
        reasoning("I will use "),
        reasoning(&e[..10]),
        output(&format!("$ echo {}", &e[..7])),
        delta("Answer: "),
        reasoning(&format!("{} now.", &e[10..])),
        output(&format!("{}\n", &e[7..])),
        json!({"event": "agent.message", "data": {"text": "done"}}),
    ];
    let out = s
        .run(json!({"taskId": "streams", "runtime": "fixture", "task": {
            "goal": "streams",
            "runtimeOptions": {"fixture": {"script": {"steps": steps, "result": {"output": "ok"}}}}
        }}))
        .await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let joined = |t: &str| -> String {
        out.of_type(t)
            .iter()
            .map(|d| d["text"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        joined("agent.reasoning.delta"),
        "I will use [redacted] now."
    );
    assert_eq!(joined("agent.tool.output.delta"), "$ echo [redacted]\n");
    assert!(out
        .of_type("agent.tool.output.delta")
        .iter()
        .all(|d| d["toolCallId"] == "c1"));
    // Every held stream went out before the message that ended them.
    let types = out.types();
    let message = types.iter().position(|t| t == "agent.message").unwrap();
    let last_delta = types.iter().rposition(|t| t.ends_with(".delta")).unwrap();
    assert!(last_delta < message, "{types:?}");
    for part in halves(ENV_SECRET) {
        assert!(!s.stdout_text().contains(part), "{part:?} went out");
    }
}

#[tokio::test]
async fn a_secret_split_across_deltas_never_goes_out_whole_or_in_halves() {
    let record = tempfile::tempdir().unwrap();
    let mut s = Sidecar::spawn_with(&["--record", record.path().to_str().unwrap()], |c| {
        c.env("ARK_TEST_API_KEY", ENV_SECRET)
            .env("GIT_AUTHOR_NAME", "Jane Doe")
            .env("GIT_AUTHOR_EMAIL", "jane.doe@example.com")
            .env("GIT_COMMITTER_NAME", "Jane Doe")
            .env("KEYTIMEOUT", "1")
            .env("RUST_LOG", "debug");
    });
    let (e, t) = (ENV_SECRET, TASK_SECRET);
    let steps = vec![
        delta("The key is "),
        delta(&e[..5]),
        delta(&e[5..17]),
        delta(&format!("{} and the task's is {}", &e[17..], &t[..12])),
        delta(&format!("{}. {ORDINARY} sk-ant-", &t[12..])),
        delta(&format!("api03-{}", &SHAPED_TAIL[..9])),
        delta(&format!("{} done", &SHAPED_TAIL[9..])),
        // Ends the stream with part of a secret held back: it goes out, redacted, before this.
        delta(&format!(" then {}", &e[..20])),
        delta(&e[20..]),
    ];
    let out = s
        .run(json!({"taskId": "split", "runtime": "fixture", "task": {
            "goal": "split secrets",
            "mcpServers": {"m": {"command": "srv", "env": {"MY_TOKEN": TASK_SECRET}}},
            "runtimeOptions": {"fixture": {"script": {"steps": steps, "result": {"output": "ok"}}}}
        }}))
        .await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let text = out.streamed();
    assert_eq!(
        text,
        format!(
            "The key is [redacted] and the task's is [redacted]. {ORDINARY} [redacted] done then [redacted]"
        )
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
    let mut everything = vec![s.stdout_text(), s.stderr_text()];
    let recorded = files_under(record.path());
    assert!(!recorded.is_empty(), "a recording was written");
    assert!(recorded.iter().any(|r| r.contains(ORDINARY)));
    everything.extend(recorded);
    for where_ in &everything {
        for part in halves(ENV_SECRET)
            .into_iter()
            .chain(halves(TASK_SECRET))
            .chain(halves(SHAPED_TAIL))
        {
            assert!(!where_.contains(part), "{part:?} went out: {where_}");
        }
    }
}

#[tokio::test]
async fn escaped_encoded_and_keyed_forms_are_redacted() {
    let secret = "pa\"ss\\wörd/+?&=0123456789";
    let json_escaped = serde_json::to_string(secret).unwrap();
    let json_escaped = &json_escaped[1..json_escaped.len() - 1];
    let ascii_escaped = json_escaped.replace('ö', "\\u00f6");
    let b64 = |data: String, url: bool| {
        let alphabet: &[u8] = if url {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        } else {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        };
        let mut out = String::new();
        for c in data.as_bytes().chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..=c.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    };
    let url_encoded: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut forms = vec![json_escaped.to_string(), ascii_escaped, url_encoded];
    for prefix in ["", "u:", "user:"] {
        for url in [false, true] {
            forms.push(b64(format!("{prefix}{secret}"), url));
        }
    }
    let output = forms.join(" | ");
    let mut s = Sidecar::spawn_with(&[], |c| {
        c.env("ARK_TEST_PASSWORD", secret);
    });
    let out = s
        .run(json!({"runtime": "fixture", "task": {"goal": "forms",
            "runtimeOptions": {"fixture": {"script": {"steps": [
                {"tool": {"name": "Read", "input": {"headers": {secret: "v"}, "plain": {"k": 1}}, "output": output}}
            ]}}}}}))
        .await;
    let done = out.of_type("agent.tool.completed")[0];
    let redacted = vec!["[redacted]"; forms.len()].join(" | ");
    let shown = done["output"].as_str().unwrap();
    assert!(
        shown == redacted || shown.matches("[redacted]").count() == forms.len(),
        "{shown}"
    );
    for f in &forms {
        assert!(!shown.contains(f.as_str()), "{f} in {shown}");
    }
    assert_eq!(
        out.of_type("agent.tool.requested")[0]["input"],
        json!({"headers": {"[redacted]": "v"}, "plain": {"k": 1}})
    );
    let mut all = vec![];
    for e in &out.events {
        strings(e, &mut all);
    }
    strings(&out.response, &mut all);
    for s in all {
        assert!(!s.contains(secret), "{s}");
    }
}

/// With `includeVendorEvents`, each raw vendor line goes out too, and it cannot be held back: a
/// secret split across two lines must not go out in halves there either, nor may the raw lines
/// release the output stream's held-back end early.
#[tokio::test]
async fn raw_vendor_events_never_carry_a_split_secret() {
    let f = Fakes::new();
    let mut s = f.sidecar_with(&[], |c| {
        c.env("ARK_PLANTED_API_KEY", ENV_SECRET);
    });
    let e = ENV_SECRET;
    let pieces = [
        "The key is ".to_string(),
        e[..11].to_string(),
        e[11..20].to_string(),
        format!("{} and {ORDINARY}", &e[20..]),
    ];
    let mut params = f.run_env(
        "claude",
        "raw",
        json!({"FAKE_MODE": "split", "FAKE_PIECES": serde_json::to_string(&pieces).unwrap()}),
        json!({}),
    );
    params["options"] = json!({"includeVendorEvents": true});
    let out = s.run(params).await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let text = out.streamed();
    assert_eq!(text, format!("The key is [redacted] and {ORDINARY}"));
    let raw = out.of_type("agent.vendor.event");
    assert!(raw.len() >= 4, "{:?}", out.types());
    // Ordinary text in a raw line is untouched.
    assert!(raw.iter().any(|r| r.to_string().contains("Jane Doe")));
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
    let stdout = s.stdout_text();
    for part in [&e[..8], &e[11..19], &e[e.len() - 8..]] {
        assert!(!stdout.contains(part), "{part:?} went out: {stdout}");
    }
}

#[tokio::test]
async fn vendor_stderr_is_redacted_before_its_lines_are_cut() {
    let f = Fakes::new();
    let secret = "Zq7kPLANTEDstderrSecretValue0123";
    let mut s = f.sidecar_with(&[], |c| {
        c.env("ARK_PLANTED_API_KEY", secret)
            .env("RUST_LOG", "debug");
    });
    // "debug: using key " (17) + 4071 pad: the secret starts at byte 4088, across the 4 KiB cut.
    let out = s
        .run(f.run_env(
            "claude",
            "stderr",
            json!({"FAKE_MODE": "leak", "FAKE_SECRET": secret, "FAKE_STDERR_PAD": "4071"}),
            json!({}),
        ))
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "error", "{r}");
    let tail = r["exit"]["stderrTail"].to_string();
    assert!(
        tail.contains("xxxx[redact"),
        "{}",
        &tail[tail.len().saturating_sub(600)..]
    );
    s.close_stdin();
    s.wait_exit().await;
    for text in [s.stdout_text(), s.stderr_text()] {
        for part in [&secret[..8], &secret[..6], &secret[secret.len() - 8..]] {
            assert!(!text.contains(part), "{part} went out");
        }
    }
}

#[tokio::test]
async fn a_tasks_secrets_live_with_the_task_and_the_environments_stay() {
    let mut s = Sidecar::spawn_with(&[], |c| {
        c.env("ARK_TEST_API_KEY", ENV_SECRET);
    });
    let echo = |with_secret: bool| {
        let mut task = json!({"goal": "echo",
        "runtimeOptions": {"fixture": {"script": {"steps": [
            {"event": "agent.message", "data": {"text": format!("{ENV_SECRET} {TASK_SECRET}")}}
        ]}}}});
        if with_secret {
            task["mcpServers"] = json!({"m": {"command": "srv", "env": {"MY_TOKEN": TASK_SECRET}}});
        }
        json!({"runtime": "fixture", "task": task})
    };
    let first = s.run(echo(true)).await;
    assert_eq!(
        first.of_type("agent.message")[0]["text"],
        "[redacted] [redacted]"
    );
    // Another task, which was never given the task secret: only the environment's is redacted.
    let second = s.run(echo(false)).await;
    assert_eq!(
        second.of_type("agent.message")[0]["text"],
        format!("[redacted] {TASK_SECRET}")
    );
}

#[tokio::test]
async fn mcp_tool_arguments_never_reach_the_log_before_their_secrets_are_learned() {
    let secret = "McpPasswordValue-5e4d3c2b1a";
    let mut s = Sidecar::spawn_with(&["mcp"], |c| {
        c.env("RUST_LOG", "trace");
    });
    s.mcp_initialize().await;
    let r = s
        .call(
            "tools/call",
            json!({"name": "run_task", "arguments": {
                "runtime": "fixture", "goal": "mcp",
                "metadata": {"password": secret},
                "runtimeOptions": {"fixture": {"script": {"steps": [
                    {"event": "agent.message", "data": {"text": format!("it is {secret}")}}
                ], "result": {"output": format!("said {secret}")}}}}
            }}),
        )
        .await;
    assert_eq!(r["result"]["isError"], false, "{r}");
    assert!(r.to_string().contains("said [redacted]"), "{r}");
    s.close_stdin();
    s.wait_exit().await;
    assert!(!s.stdout_text().contains(secret));
    let log = s.stderr_text();
    assert!(!log.contains(secret), "{log}");
    assert!(!log.contains(&secret[..12]), "{log}");
}

#[tokio::test]
async fn an_approver_sees_the_whole_command_with_only_the_secret_replaced() {
    let mut s = Sidecar::spawn_with(&[], |c| {
        c.env("ARK_TEST_API_KEY", ENV_SECRET);
    });
    let tail = "x".repeat(20_000);
    let command = format!(
        "curl -H 'Authorization: Bearer {ENV_SECRET}' https://example.com/api && echo {tail}"
    );
    let mut asked = vec![];
    let out = s
        .run_with(
            json!({"runtime": "fixture", "task": {"goal": "approve",
            "permissions": {"approvals": "host"},
            "runtimeOptions": {"fixture": {"script": {"steps": [
                {"approval": {"name": "Bash", "input": {"command": command}, "output": "ran"}}
            ]}}}}}),
            |params| {
                asked.push(params.clone());
                Some(json!({"decision": "allow"}))
            },
        )
        .await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0]["input"]["command"],
        format!("curl -H 'Authorization: [redacted]' https://example.com/api && echo {tail}")
    );
}

/// Events/s of a fixture relay with 0 known secrets, with 8,000 in the sidecar's environment and
/// with 8,000 learned from the task's input (an MCP server's `env`): one matcher per set, so the
/// rate should not depend on the count. Prints its figures.
#[tokio::test]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn redaction_cost_is_flat() {
    let n = 20_000;
    let steps: Vec<Value> = (0..n)
        .map(|i| delta(&format!("token {i} of an ordinary answer, ")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&json!({"steps": steps, "result": {"output": "done"}})).unwrap(),
    )
    .unwrap();
    let secrets = |n: usize| {
        (0..n).map(|i| {
            (
                format!("ARK_BENCH_{i}_TOKEN"),
                format!("bench-secret-{i:05}-{:016x}", i * 7919),
            )
        })
    };
    let mut rates = vec![];
    for (label, in_env, in_task) in [
        ("no known secrets", 0, 0),
        ("8,000 in the environment", 8_000, 0),
        ("8,000 learned from the task", 0, 8_000),
    ] {
        let mut s = Sidecar::spawn_with(&[], |c| {
            for (k, v) in secrets(in_env) {
                c.env(k, v);
            }
        });
        // Warm up: the first event builds the environment's matcher.
        s.run(json!({"runtime": "fixture", "task": {"goal": "warm up"}}))
            .await;
        let env: serde_json::Map<String, Value> =
            secrets(in_task).map(|(k, v)| (k, json!(v))).collect();
        let began = Instant::now();
        let out = s
            .run(json!({"runtime": "fixture", "task": {"goal": "bench",
                "mcpServers": {"m": {"command": "srv", "env": env}},
                "runtimeOptions": {"fixture": {"path": path.to_str().unwrap()}}}}))
            .await;
        let took = began.elapsed();
        // The rate while streaming (first delta to last, by the events' own times), apart from
        // the time to the first event (admission, learning, the script's load).
        let times: Vec<f64> = out
            .events
            .iter()
            .filter(|e| e["params"]["type"] == "agent.output.delta")
            .map(|e| seconds_of_day(e["params"]["time"].as_str().unwrap()))
            .collect();
        assert_eq!(times.len(), n);
        let streaming = times[n - 1] - times[0];
        let rate = (n - 1) as f64 / streaming;
        println!(
            "{label:>28}: {n} deltas streamed at {rate:.0} events/s ({:.0} ms to the first, {took:.2?} in all)",
            (took.as_secs_f64() - streaming) * 1e3
        );
        rates.push(rate);
    }
    println!(
        "ratio to none: environment {:.2}, task {:.2}",
        rates[1] / rates[0],
        rates[2] / rates[0]
    );
}

/// The seconds since midnight of an RFC 3339 UTC time ("…THH:MM:SS.fffZ").
fn seconds_of_day(t: &str) -> f64 {
    let clock = &t[t.find('T').unwrap() + 1..t.len() - 1];
    let mut parts = clock.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}
