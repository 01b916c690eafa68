//! Benchmarks of the sidecar itself, each against a baseline measured in the same run on the same
//! machine: `cargo bench --bench sidecar` (builds the release binary). Prints a table of figures
//! and ratios; nothing here is a pass/fail test.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_agent-runtime-kit");

fn main() {
    let events = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000usize);
    println!(
        "agent-runtime-kit benchmarks ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!();
    // BENCH_ONLY=claude,codex runs a subset (fixture, claude, codex, cancel, startup, memory).
    let only = std::env::var("BENCH_ONLY").ok();
    let on = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == name))
    };
    if on("fixture") {
        event_relay(events);
    }
    if on("claude") {
        claude_relay(events);
    }
    if on("codex") {
        codex_relay(events);
    }
    if on("cancel") {
        cancel(false);
        cancel(true);
    }
    if on("startup") {
        startup();
    }
    if on("memory") {
        memory();
    }
}

fn spawn_sidecar(args: &[&str]) -> std::process::Child {
    // BENCH_BIN runs another build of the sidecar (e.g. a copy of the previous commit's) for a
    // before/after in one session.
    let bin = std::env::var("BENCH_BIN").unwrap_or_else(|_| BIN.to_string());
    Command::new(bin)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sidecar")
}

/// Fixture events relayed to a host reading stdout, against `cat` relaying the same bytes.
fn event_relay(n: usize) {
    let steps: Vec<Value> = (0..n)
        .map(|i| json!({"event": "agent.output.delta", "data": {"text": format!("token {i} ")}}))
        .collect();
    let script = json!({"steps": steps, "result": {"output": "done"}});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.json");
    std::fs::write(&path, serde_json::to_vec(&script).unwrap()).unwrap();
    let request = json!({"jsonrpc":"2.0","id":1,"method":"run","params":{"runtime":"fixture",
        "task":{"goal":"bench","runtimeOptions":{"fixture":{"path": path.to_str().unwrap()}}}}});

    let mut child = spawn_sidecar(&[]);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = LineReader::new(child.stdout.take().unwrap());
    let began = Instant::now();
    writeln!(stdin, "{request}").unwrap();
    let seen = out.until_response();
    let response: Value = serde_json::from_slice(&seen.response.expect("a response")).unwrap();
    assert_eq!(
        response["result"]["finishReason"], "completed",
        "{response}"
    );
    let (count, bytes) = (seen.count, seen.bytes);
    let first = seen.first.map(|f| f - began);
    let sidecar = began.elapsed();
    // The fixture reads and checks its whole script (once, in `prepare`) before the first event:
    // reported apart from the streaming rate.
    let load = first.unwrap_or_default();
    drop(stdin);
    let _ = child.wait();

    // Baseline: the same volume of event lines through `cat` (the pipe's limit).
    let sample = format!(
        "{}\n",
        json!({"jsonrpc":"2.0","method":"event","params":{"taskId":"00000000-0000-0000-0000-000000000000","seq":123456,
            "time":"2026-01-01T00:00:00.000000000Z","type":"agent.output.delta","data":{"text":"token 123456 "}}})
    );
    let blob = sample.repeat(count.max(1));
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut cat_in = cat.stdin.take().unwrap();
    let mut cat_out = cat.stdout.take().unwrap();
    let began = Instant::now();
    let writer = std::thread::spawn(move || {
        cat_in.write_all(blob.as_bytes()).unwrap();
    });
    let mut sink = Vec::with_capacity(bytes + 1024);
    cat_out.read_to_end(&mut sink).unwrap();
    let cat_time = began.elapsed();
    writer.join().unwrap();
    let _ = cat.wait();

    let ours = count as f64 / sidecar.as_secs_f64();
    let base = count as f64 / cat_time.as_secs_f64();
    println!("event relay: {count} events, {:.1} MB", bytes as f64 / 1e6);
    println!("  script load (request → first event) {:>8.0} ms", ms(load));
    println!(
        "  streaming (first event → result) {:>12.0} events/s  ({:.3}× cat)",
        count as f64 / (sidecar - load).as_secs_f64(),
        count as f64 / (sidecar - load).as_secs_f64() / base
    );
    println!("  sidecar (fixture → stdout)  {:>12.0} events/s", ours);
    println!("  cat of the same lines        {:>12.0} events/s", base);
    println!("  ratio sidecar / cat          {:>12.3}", ours / base);
    println!();
}

/// The stream-json lines a Claude Code CLI writes for one answer of `n` streamed text deltas
/// (shapes as captured in /work/shared/design/vendors/claude/transcripts/01b_partial.jsonl).
fn claude_lines(n: usize) -> String {
    let sid = "6a8692df-2b27-46ca-8e6e-5780265bbc2b";
    let mid = "msg_d56be90675354b5daeb2";
    let mut lines = vec![
        json!({"type":"system","subtype":"init","cwd":"/tmp","session_id":sid,"tools":["Bash","Edit","Read"],
            "mcp_servers":[],"model":"claude-opus-5-5","permissionMode":"default","apiKeySource":"ANTHROPIC_API_KEY",
            "claude_code_version":"2.1.332","output_style":"default","uuid":"5b525485-ba63-4c91-b032-7823ea4c499b"}),
        json!({"type":"stream_event","event":{"type":"message_start","message":{"id":mid,"type":"message","role":"assistant",
            "model":"claude-opus-5-5","content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":100,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}},
            "session_id":sid,"parent_tool_use_id":null,"uuid":"a9323667-ad3a-4299-8e4a-181f39ba1e48"}),
        json!({"type":"stream_event","event":{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}},
            "session_id":sid,"parent_tool_use_id":null,"uuid":"275a04c2-ea35-429a-9989-78bf0be271ca","api_message_id":mid}),
    ];
    for i in 0..n {
        lines.push(json!({"type":"stream_event","event":{"type":"content_block_delta","index":0,
            "delta":{"type":"text_delta","text":format!("token {i} ")}},"session_id":sid,"parent_tool_use_id":null,
            "uuid":format!("1fad27db-b3eb-4283-a51c-{i:012}"),"api_message_id":mid}));
    }
    lines.extend([
        json!({"type":"assistant","message":{"id":mid,"type":"message","role":"assistant","model":"claude-opus-5-5",
            "content":[{"type":"text","text":"the answer"}],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":100,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},
            "parent_tool_use_id":null,"session_id":sid,"uuid":"aa868e28-9802-46c8-8704-277a530e7c07"}),
        json!({"type":"stream_event","event":{"type":"content_block_stop","index":0},"session_id":sid,"parent_tool_use_id":null,
            "uuid":"aa868e28-9802-46c8-8704-277a530e7c08","api_message_id":mid}),
        json!({"type":"stream_event","event":{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
            "usage":{"output_tokens":12}},"session_id":sid,"parent_tool_use_id":null,"uuid":"3bec4fd8-42c5-4063-a1bd-c848d8394117"}),
        json!({"type":"stream_event","event":{"type":"message_stop"},"session_id":sid,"parent_tool_use_id":null,
            "uuid":"721b9f4e-4e1b-4e96-ab1c-9c1c84f8e8f3"}),
        json!({"type":"result","subtype":"success","is_error":false,"duration_ms":65,"duration_api_ms":65,"num_turns":1,
            "result":"the answer","stop_reason":"end_turn","session_id":sid,"total_cost_usd":0.00064,
            "usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":12},
            "permission_denials":[],"uuid":"0fe18bfd-471a-4b90-b76a-92955212c622"}),
    ]);
    let mut text = String::new();
    for l in lines {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    text
}

/// One relay measured at the receiving end: `events` received, `total` seconds from the start
/// (request written, or query begun) to the end, and `streaming` seconds from the first event to
/// the end: the relay itself, without the fake vendor's start-up (a Python interpreter, which the
/// sidecar and the SDK both wait for) or the handshake.
#[derive(Clone, Copy)]
struct Relay {
    events: usize,
    total: f64,
    streaming: f64,
}

/// The receiving end of every relay here, the same for the sidecar and for `cat`: it reads the
/// output in large chunks and finds each line (memchr), and looks no further into a line than
/// whether it is a response (`{"id":`), so the work per line is equal on both sides and small
/// next to the relay's. (A host that reads a `String` per line and searches it, as an earlier
/// version of this bench did, spent more time per line than the sidecar, in the same process
/// that timed it.)
struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// `buf[..len]` is read and not yet looked at; it starts at a line start.
    len: usize,
}

/// What a [`LineReader`] saw up to a response (or the end): lines before it, when the first
/// bytes came, and the response line.
struct Lines {
    count: usize,
    /// Bytes of the counted lines, newlines included.
    bytes: usize,
    first: Option<Instant>,
    response: Option<Vec<u8>>,
}

impl<R: Read> LineReader<R> {
    fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: vec![0; 1 << 20],
            len: 0,
        }
    }

    /// Reads lines until a response line (kept, not counted) or the end of the output.
    fn until_response(&mut self) -> Lines {
        self.read_lines(true)
    }

    /// Counts every line to the end of the output.
    fn count_to_end(&mut self) -> usize {
        self.read_lines(false).count
    }

    fn read_lines(&mut self, stop_at_response: bool) -> Lines {
        let mut seen = Lines {
            count: 0,
            bytes: 0,
            first: None,
            response: None,
        };
        loop {
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', &self.buf[..self.len]) {
                let line = &self.buf[start..nl];
                start = nl + 1;
                if stop_at_response && line.starts_with(br#"{"id":"#) {
                    seen.response = Some(line.to_vec());
                    self.buf.copy_within(start..self.len, 0);
                    self.len -= start;
                    return seen;
                }
                seen.count += 1;
                seen.bytes += line.len() + 1;
            }
            self.buf.copy_within(start..self.len, 0);
            self.len -= start;
            if self.len == self.buf.len() {
                let longer = self.buf.len() * 2;
                self.buf.resize(longer, 0);
            }
            match self.inner.read(&mut self.buf[self.len..]).unwrap() {
                0 => return seen,
                n => {
                    seen.first.get_or_insert_with(Instant::now);
                    self.len += n;
                }
            }
        }
    }
}

/// Time for a host to receive every event of one `run` (request → response), on a sidecar whose
/// runtime preflight is already cached by a warm-up run.
fn timed_run(
    child_stdin: &mut std::process::ChildStdin,
    out: &mut LineReader<impl Read>,
    id: u64,
    params: Value,
) -> Relay {
    let req = json!({"jsonrpc":"2.0","id": id,"method":"run","params": params});
    let began = Instant::now();
    writeln!(child_stdin, "{req}").unwrap();
    let seen = out.until_response();
    let response: Value =
        serde_json::from_slice(&seen.response.expect("sidecar closed its output")).unwrap();
    assert_eq!(response["id"], id);
    assert_eq!(
        response["result"]["finishReason"], "completed",
        "run failed: {response}"
    );
    Relay {
        events: seen.count,
        total: began.elapsed().as_secs_f64(),
        streaming: seen.first.map_or(0.0, |f| f.elapsed().as_secs_f64()),
    }
}

/// A copy of `benches/fake/<name>` in `dir`, started by the Python interpreter itself: through
/// `#!/usr/bin/env python3` a version manager's shim (pyenv here) adds ~90 ms to every start of
/// the fake, for the sidecar and the SDKs alike, which is no part of a relay.
fn fake_vendor(name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let python = PYTHON.get_or_init(|| {
        let o = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3");
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    });
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/fake")
        .join(name);
    let text = std::fs::read_to_string(source).unwrap();
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    let path = dir.join(name);
    std::fs::write(&path, format!("#!{python}\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `cat` of a file to a reader that counts lines: the pipe's limit for the same bytes.
fn cat_lines(path: &std::path::Path) -> (usize, f64) {
    let began = Instant::now();
    let mut cat = Command::new("cat")
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let n = LineReader::new(cat.stdout.take().unwrap()).count_to_end();
    let _ = cat.wait();
    (n, began.elapsed().as_secs_f64())
}

/// `cat` of a file through a second `cat`: a relay process that does no work at all, i.e. what a
/// second pipe hop alone costs on this machine (the sidecar is always one more hop than `cat`).
fn cat_relay_lines(path: &std::path::Path) -> (usize, f64) {
    let began = Instant::now();
    let mut first = Command::new("cat")
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut relay = Command::new("cat")
        .stdin(Stdio::from(first.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let n = LineReader::new(relay.stdout.take().unwrap()).count_to_end();
    let _ = first.wait();
    let _ = relay.wait();
    (n, began.elapsed().as_secs_f64())
}

/// A fake `claude` streaming `n` text deltas: through the sidecar's claude runtime, through the
/// official Python SDK (when `benches/setup.sh` installed it), and through `cat`.
fn claude_relay(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_vendor("claude.py", dir.path());
    let lines = dir.path().join("lines.jsonl");
    let warmup = dir.path().join("warmup.jsonl");
    std::fs::write(&lines, claude_lines(n)).unwrap();
    std::fs::write(&warmup, claude_lines(10)).unwrap();
    let task = |file: &std::path::Path| {
        json!({"runtime":"claude","task":{"goal":"bench","workingDirectory": dir.path(),
        "runtimeOptions":{"claude":{"env":{"ARK_BENCH_CLAUDE_LINES": file}}}}})
    };

    let rounds = relay_rounds("--claude-path", &fake, task(&warmup), task(&lines), &lines);
    let sdk = std::env::var("ARK_BENCH_PYTHON").ok().and_then(|py| {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/sdk/claude_sdk.py");
        sdk_relay(
            Command::new(py).arg(script),
            [&fake, dir.path(), &lines, &warmup],
            "messages",
        )
    });
    report_relay(
        &format!(
            "claude relay: fake CLI streaming {n} text deltas ({:.1} MB of stream-json)",
            std::fs::metadata(&lines).unwrap().len() as f64 / 1e6
        ),
        "sidecar claude runtime → host",
        &rounds,
        (
            "claude-agent-sdk (Python)",
            "messages",
            "ARK_BENCH_PYTHON",
            sdk,
        ),
    );
}

const CODEX_THREAD: &str = "019a0000-0000-7000-8000-00000000be01";
const CODEX_TURN: &str = "019a0000-0000-7000-8000-00000000be02";

/// What `codex app-server` writes after answering `turn/start` for one answer of `n` streamed
/// text deltas (shapes as captured in /work/shared/design/vendors/codex.md §4.1; the ids are the
/// ones `benches/fake/codex.py` answers thread/start and turn/start with).
fn codex_lines(n: usize) -> String {
    let (t, u, item) = (CODEX_THREAD, CODEX_TURN, "msg_bench_0");
    let mut lines = vec![
        json!({"method":"turn/started","params":{"threadId":t,"turn":{"id":u,"items":[],"status":"inProgress","error":null}}}),
        json!({"method":"item/started","params":{"threadId":t,"turnId":u,"item":{"type":"agentMessage","id":item,"text":""}}}),
    ];
    for i in 0..n {
        lines.push(json!({"method":"item/agentMessage/delta","params":{"threadId":t,"turnId":u,"itemId":item,
            "delta":format!("token {i} ")}}));
    }
    let tokens = json!({"totalTokens":1290,"inputTokens":1234,"cachedInputTokens":1000,"cacheWriteInputTokens":0,
        "outputTokens":56,"reasoningOutputTokens":7});
    lines.extend([
        json!({"method":"item/completed","params":{"threadId":t,"turnId":u,"item":{"type":"agentMessage","id":item,"text":"the answer"}}}),
        json!({"method":"thread/tokenUsage/updated","params":{"threadId":t,"turnId":u,"tokenUsage":{"total":tokens,"last":tokens,
            "modelContextWindow":258400}}}),
        json!({"method":"turn/completed","params":{"threadId":t,"turn":{"id":u,"items":[{"type":"agentMessage","id":item,
            "text":"the answer"}],"status":"completed","error":null,"durationMs":102}}}),
    ]);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// What `codex exec --experimental-json` would write for the same answer. Real exec streams no
/// deltas (vendors/codex.md §3: the agent message comes whole in `item.completed`), so to give the
/// SDK the same N events each delta is an `item.updated` of the agent message carrying only that
/// delta's text (shorter lines than the app-server's: in the SDK's favour).
fn codex_exec_lines(n: usize) -> String {
    let mut lines = vec![
        json!({"type":"thread.started","thread_id":CODEX_THREAD}),
        json!({"type":"turn.started"}),
    ];
    for i in 0..n {
        lines.push(json!({"type":"item.updated","item":{"id":"item_0","type":"agent_message","text":format!("token {i} ")}}));
    }
    lines.extend([
        json!({"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"the answer"}}),
        json!({"type":"turn.completed","usage":{"input_tokens":1234,"cached_input_tokens":1000,"cache_write_input_tokens":0,
            "output_tokens":56,"reasoning_output_tokens":7}}),
    ]);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// A fake `codex` streaming `n` text deltas: through the sidecar's codex runtime (app-server),
/// through the official `@openai/codex-sdk` (`exec --experimental-json`, when `benches/setup.sh`
/// installed it), and through `cat`.
fn codex_relay(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fake = fake_vendor("codex.py", dir.path());
    let lines = dir.path().join("lines.jsonl");
    let warmup = dir.path().join("warmup.jsonl");
    let exec_lines = dir.path().join("exec.jsonl");
    let exec_warmup = dir.path().join("exec-warmup.jsonl");
    std::fs::write(&lines, codex_lines(n)).unwrap();
    std::fs::write(&warmup, codex_lines(10)).unwrap();
    std::fs::write(&exec_lines, codex_exec_lines(n)).unwrap();
    std::fs::write(&exec_warmup, codex_exec_lines(10)).unwrap();
    let task = |file: &std::path::Path| {
        json!({"runtime":"codex","task":{"goal":"bench","workingDirectory": dir.path(),
        "runtimeOptions":{"codex":{"env":{"ARK_BENCH_CODEX_LINES": file, "OPENAI_API_KEY": "bench-not-a-key"}}}}})
    };

    let rounds = relay_rounds("--codex-path", &fake, task(&warmup), task(&lines), &lines);
    let sdk = std::env::var_os("ARK_BENCH_NODE_MODULES").and_then(|_| {
        sdk_relay(
            Command::new("node").arg(root.join("benches/sdk/codex_sdk.mjs")),
            [&fake, dir.path(), &exec_lines, &exec_warmup],
            "events",
        )
    });
    report_relay(
        &format!(
            "codex relay: fake codex streaming {n} text deltas ({:.1} MB of app-server JSON-RPC)",
            std::fs::metadata(&lines).unwrap().len() as f64 / 1e6
        ),
        "sidecar codex runtime → host",
        &rounds,
        (
            "@openai/codex-sdk (Node)",
            "events",
            "ARK_BENCH_NODE_MODULES",
            sdk,
        ),
    );
}

/// One round of a relay comparison: the sidecar's run, then `cat` and `cat | cat` of the same
/// lines (lines, seconds), one right after the other.
struct Round {
    ours: Relay,
    cat: (usize, f64),
    hop: (usize, f64),
}

/// Rounds of one relay comparison (BENCH_ROUNDS, default 5): on one sidecar with `path_flag`
/// pointing at the fake vendor, a warm-up run, then per round a timed run and both baselines
/// over `lines`. This machine's pipe throughput moves by 2-4× from one second to the next (a
/// shared VM), so a single pair of figures says little; ratios are taken within each round and
/// their median reported.
fn relay_rounds(
    path_flag: &str,
    fake: &std::path::Path,
    warmup: Value,
    run: Value,
    lines: &std::path::Path,
) -> Vec<Round> {
    let n = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let mut child = spawn_sidecar(&[path_flag, fake.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = LineReader::new(child.stdout.take().unwrap());
    timed_run(&mut stdin, &mut out, 1, warmup);
    let rounds = (0..n)
        .map(|i| Round {
            ours: timed_run(&mut stdin, &mut out, 2 + i as u64, run.clone()),
            cat: cat_lines(lines),
            hop: cat_relay_lines(lines),
        })
        .collect();
    drop(stdin);
    let _ = child.wait();
    rounds
}

/// The median of `values` (the upper one of an even count).
fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A vendor SDK driver script (`benches/sdk/`): it prints
/// `{"<count_key>": N, "seconds": S, "streamingSeconds": F}` (F: first message → end).
fn sdk_relay(cmd: &mut Command, args: [&std::path::Path; 4], count_key: &str) -> Option<Relay> {
    let o = cmd
        .args(args.map(|a| a.as_os_str()))
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let v: Value = serde_json::from_slice(&o.stdout).ok()?;
    Some(Relay {
        events: v[count_key].as_u64()? as usize,
        total: v["seconds"].as_f64()?,
        streaming: v["streamingSeconds"].as_f64()?,
    })
}

/// Prints a relay comparison: the sidecar's rounds, the SDK (name, unit, the variable
/// `benches/run.sh` sets, the figure if measured), with the ratios. Throughput is the streaming
/// rate (first event → end); the end-to-end time (start → end) is shown beside it. Rates are the
/// medians over the rounds; ratios to `cat` are the medians of each round's own ratio, with their
/// range.
fn report_relay(
    title: &str,
    ours_label: &str,
    rounds: &[Round],
    (sdk_label, unit, sdk_var, sdk): (&str, &str, &str, Option<Relay>),
) {
    let rate = |r: &Relay| r.events as f64 / r.streaming;
    let lines_rate = |(n, s): (usize, f64)| n as f64 / s;
    let ours_rates: Vec<f64> = rounds.iter().map(|r| rate(&r.ours)).collect();
    let ours = median_of(ours_rates.clone());
    // The round whose rate is the median, for its times.
    let typical = &rounds[ours_rates.iter().position(|&r| r == ours).unwrap()].ours;
    println!("{title}; {} rounds", rounds.len());
    let row = |label: &str, unit: &str, rate: f64, r: &Relay| {
        println!(
            "  {label:<31} {rate:>10.0} {unit}/s  ({} {unit} streamed in {:.0} ms; {:.0} ms from the start)",
            r.events,
            r.streaming * 1e3,
            r.total * 1e3
        )
    };
    row(&format!("{ours_label} (median)"), "events", ours, typical);
    match sdk {
        Some(sdk) => {
            row(sdk_label, unit, rate(&sdk), &sdk);
            println!(
                "  ratio sidecar / SDK             {:>10.1}×  (from the start: {:.1}×)",
                ours / rate(&sdk),
                (typical.events as f64 / typical.total) / (sdk.events as f64 / sdk.total)
            );
        }
        None => {
            println!("  {sdk_label:<31} not measured: run `bash benches/run.sh` (sets {sdk_var})")
        }
    }
    // Each side's best round is its least disturbed one: the ratio of the bests is the steadier
    // figure on a machine this noisy; the per-round ratios show the spread.
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    let cats: Vec<f64> = rounds.iter().map(|r| lines_rate(r.cat)).collect();
    let hops: Vec<f64> = rounds.iter().map(|r| lines_rate(r.hop)).collect();
    let per_round: Vec<f64> = ours_rates.iter().zip(&cats).map(|(o, c)| o / c).collect();
    let (lo, hi) = per_round
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    println!(
        "  {ours_label:<31} {:>10.0} events/s  (best round)",
        best(&ours_rates)
    );
    println!(
        "  cat of the same lines           {:>10.0} lines/s  (best round; median {:.0})",
        best(&cats),
        median_of(cats.clone())
    );
    println!(
        "  ratio sidecar / cat             {:>10.3}  (best / best; per round: median {:.3}, {lo:.3}–{hi:.3})",
        best(&ours_rates) / best(&cats),
        median_of(per_round)
    );
    println!(
        "  cat | cat (relay doing nothing) {:>10.0} lines/s  (best round; {:.3}× cat; sidecar / it {:.3})",
        best(&hops),
        best(&hops) / best(&cats),
        best(&ours_rates) / best(&hops)
    );
    println!();
}

/// Cancel → run response, with a fake `claude` that has two grandchildren (one in its process
/// group, one in a session of its own) and hangs; then /proc is checked for any of the three.
/// Median of 10 rounds on one sidecar. `deaf`: the fake ignores the interrupt (the runtime waits
/// its interrupt deadline, then terminates the tree).
fn cancel(deaf: bool) {
    let dir = tempfile::tempdir().unwrap();
    let fake = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fake/claude.py");
    let mut child = spawn_sidecar(&["--claude-path", fake.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let rounds = if deaf { 3 } else { 10 };
    let mut times = vec![];
    let mut survivors = vec![];
    let mut line = String::new();
    for round in 0..rounds {
        let pids = dir.path().join(format!("pids-{round}"));
        let task_id = format!("cancel-{round}");
        let run = json!({"jsonrpc":"2.0","id": 1000 + round,"method":"run","params":{"taskId": task_id,
            "runtime":"claude","task":{"goal":"bench","workingDirectory": dir.path(),
            "runtimeOptions":{"claude":{"env":{"ARK_BENCH_CLAUDE_HANG": pids,
                "ARK_BENCH_CLAUDE_DEAF": if deaf { "1" } else { "" }}}}}}});
        writeln!(stdin, "{run}").unwrap();
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "sidecar closed its output"
            );
            if line.contains("agent.output.delta") {
                break;
            }
            assert!(!line.contains("\"error\""), "run refused: {line}");
        }
        let began = Instant::now();
        let cancel = json!({"jsonrpc":"2.0","id": 2000 + round,"method":"cancel","params":{"taskId": task_id}});
        writeln!(stdin, "{cancel}").unwrap();
        let tag = format!("\"id\":{}", 1000 + round);
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "sidecar closed its output"
            );
            if line.contains(&tag) {
                assert!(
                    line.contains("\"finishReason\":\"cancelled\""),
                    "not cancelled: {line}"
                );
                break;
            }
        }
        times.push(began.elapsed());
        // Right at the response: any of the fake and its grandchildren still alive (not a zombie)?
        let text = std::fs::read_to_string(&pids).unwrap_or_default();
        for pid in text.split_whitespace() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            if matches!(state, Some(s) if s != "Z" && s != "X") {
                survivors.push(pid.to_string());
            }
        }
    }
    drop(stdin);
    let _ = child.wait();
    let mut sorted = times.clone();
    let (med, max) = (median(&mut sorted), *sorted.last().unwrap());
    println!(
        "cancel (fake claude with 2 grandchildren, {}, median of {rounds}):",
        if deaf {
            "ignoring the interrupt"
        } else {
            "answering the interrupt"
        }
    );
    println!(
        "  cancel request → run response   {:>8.1} ms  (max {:.1} ms)",
        ms(med),
        ms(max)
    );
    println!(
        "  processes alive at the response  {:>8}  (of {} checked: fake + 2 grandchildren per round){}",
        survivors.len(),
        rounds * 3,
        if survivors.is_empty() { String::new() } else { format!(": {}", survivors.join(" ")) }
    );
    println!();
}

/// Spawn → first `capabilities` reply, against spawning `/bin/true`.
fn startup() {
    let rounds = 30;
    let mut ours = vec![];
    let mut base = vec![];
    for _ in 0..rounds {
        let began = Instant::now();
        let mut child = spawn_sidecar(&[]);
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc":"2.0","id":1,"method":"capabilities"})
        )
        .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        ours.push(began.elapsed());
        drop(stdin);
        let _ = child.wait();

        let began = Instant::now();
        Command::new("/bin/true").status().unwrap();
        base.push(began.elapsed());
    }
    let (o, b) = (median(&mut ours), median(&mut base));
    println!("startup (median of {rounds}):");
    println!("  spawn → first capabilities reply  {:>8.2} ms", ms(o));
    println!("  spawn → exit of /bin/true          {:>8.2} ms", ms(b));
    println!(
        "  difference                         {:>8.2} ms  (ratio {:.1}×)",
        ms(o) - ms(b),
        ms(o) / ms(b)
    );
    println!();
}

/// Idle RSS, and RSS with 1,000 concurrent fixture tasks, against an idle `cat`.
fn memory() {
    let mut child = spawn_sidecar(&[]);
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc":"2.0","id":0,"method":"capabilities"})
    )
    .unwrap();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(pid);

    let tasks = 1000;
    for i in 0..tasks {
        let req = json!({"jsonrpc":"2.0","id": i + 1,"method":"run","params":{"taskId": format!("m{i}"),"runtime":"fixture",
            "task":{"goal":"hold","runtimeOptions":{"fixture":{"script":{"steps":[{"delayMs":600000}]}}}}}});
        writeln!(stdin, "{req}").unwrap();
    }
    let mut started = 0;
    while started < tasks {
        line.clear();
        out.read_line(&mut line).unwrap();
        if line.contains("agent.task.started") {
            started += 1;
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let busy = rss_kib(pid);
    drop(stdin); // EOF: every task is cancelled and answered
    let began = Instant::now();
    let mut answered = 0;
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains("\"result\"") {
            answered += 1;
        }
    }
    let _ = child.wait();
    let shutdown = began.elapsed();

    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let cat_rss = rss_kib(cat.id());
    drop(cat.stdin.take());
    let _ = cat.wait();

    println!("memory (VmRSS):");
    println!(
        "  idle sidecar                 {:>8.1} MiB  ({:.1}× an idle cat)",
        mib(idle),
        idle as f64 / cat_rss as f64
    );
    println!(
        "  with {tasks} running tasks    {:>8.1} MiB  ({:.1}× idle)",
        mib(busy),
        busy as f64 / idle as f64
    );
    println!("  idle cat (baseline)          {:>8.1} MiB", mib(cat_rss));
    println!(
        "  EOF → {answered} cancelled results written and exit: {:.0} ms",
        ms(shutdown)
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
