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
    event_relay(events);
    startup();
    memory();
}

fn spawn_sidecar(args: &[&str]) -> std::process::Child {
    Command::new(BIN)
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
    let stdout = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let began = Instant::now();
    writeln!(stdin, "{request}").unwrap();
    let mut count = 0usize;
    let mut bytes = 0usize;
    for line in stdout.lines() {
        let line = line.unwrap();
        bytes += line.len() + 1;
        if line.contains("\"id\":1") && line.contains("\"result\"") {
            break;
        }
        count += 1;
    }
    let sidecar = began.elapsed();
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
    println!("  sidecar (fixture → stdout)  {:>12.0} events/s", ours);
    println!("  cat of the same lines        {:>12.0} events/s", base);
    println!("  ratio sidecar / cat          {:>12.3}", ours / base);
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
