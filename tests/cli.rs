//! The one-shot commands, as a person or a script uses them: each test spawns the binary.

#[path = "cli/pty.rs"]
mod pty;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pty::{run_on_terminal, Tty};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_agent-runtime-kit");

/// The binary with a clean environment for what these tests vary.
fn bin() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("AGENT_RUNTIME_KIT_RUNTIME")
        .env_remove("NO_COLOR")
        .env("AGENT_RUNTIME_KIT_LOG", "warn");
    c
}

fn output(mut c: Command) -> (Option<i32>, String, String) {
    let out = c.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut c = bin();
    c.args(args);
    output(c)
}

/// A `--task` whose fixture script is `steps`, then a completed result with `output`.
fn scripted(steps: Value, output: &str) -> String {
    json!({"runtimeOptions": {"fixture": {"script": {
        "steps": steps, "result": {"output": output}}}}})
    .to_string()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// No panic, no Rust Debug dump or backtrace, whatever happened.
fn assert_no_crash_text(stderr: &str) {
    for bad in [
        "panicked",
        "failed printing",
        "stack backtrace",
        "Error: ",
        "Some(",
    ] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr: {stderr}");
    }
}

#[test]
fn run_streams_the_demo_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hi").unwrap();
    let (code, stdout, stderr) = run(&[
        "run",
        "Explain this repository",
        "--cwd",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Explain this repository"), "{stdout}");
    assert!(
        stdout.contains("hello.txt"),
        "the demo really lists the directory: {stdout}"
    );
    assert!(stderr.contains("completed"), "a summary line: {stderr}");
}

#[test]
fn run_json_prints_events_then_the_result() {
    let (code, stdout, _) = run(&["run", "hi", "--json"]);
    assert_eq!(code, Some(0));
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "agent.task.started");
    let last = lines.last().unwrap();
    assert_eq!(last["result"]["finishReason"], "completed");
    assert_eq!(lines[lines.len() - 2]["type"], "agent.task.completed");
}

#[test]
fn exit_status_is_nonzero_unless_the_task_completed() {
    let task = json!({"goal": "x", "runtimeOptions": {"fixture": {"script": {"steps": [
        {"fail": {"kind": "rateLimit", "message": "slow down"}}]}}}});
    let (code, _, stderr) = run(&["run", "x", "--task", &task.to_string()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("rateLimit") && stderr.contains("slow down"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["run", "x", "--runtime", "nosuch"]);
    assert_eq!(code, Some(2), "refused before it started");
    assert!(stderr.contains("unknown runtime"), "{stderr}");
}

#[test]
fn capabilities_and_diagnose_print_json() {
    let (code, stdout, _) = run(&["capabilities"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = v["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for name in ["fixture", "claude", "codex", "antigravity"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let (code, stdout, _) = run(&["diagnose", "--runtime", "fixture", "--json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["runtimes"][0]["status"], "ready");
}

#[test]
fn help_explains_itself() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    for word in ["JSON-RPC", "run", "diagnose", "capabilities", "fixture"] {
        assert!(stdout.contains(word), "--help mentions {word}");
    }
}

// --- flags and the task file --------------------------------------------------------------------

#[test]
fn a_flag_overrides_the_task_file() {
    let started = |args: &[&str]| {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(0), "{stderr}");
        json_lines(&stdout)[0]["data"]["permissions"].clone()
    };
    // The issue's case: the task sets only approvals, the flag the sandbox.
    let p = started(&[
        "run",
        "--sandbox",
        "read-only",
        "--task",
        r#"{"permissions":{"approvals":"deny"}}"#,
        "x",
        "--json",
    ]);
    assert_eq!(p["sandbox"], "read-only", "{p}");
    assert_eq!(p["approvals"], "deny", "{p}");
    // The task asks for more than the flag: the flag wins.
    let p = started(&[
        "run",
        "--sandbox",
        "read-only",
        "--task",
        r#"{"goal":"g","permissions":{"sandbox":"full-access"}}"#,
        "--json",
    ]);
    assert_eq!(p["sandbox"], "read-only", "{p}");
    // No flag: the task's own sandbox stands.
    let p = started(&[
        "run",
        "--task",
        r#"{"goal":"g","permissions":{"sandbox":"full-access"}}"#,
        "--json",
    ]);
    assert_eq!(p["sandbox"], "full-access", "{p}");
}

#[test]
fn the_goal_fills_the_task_and_the_task_gives_the_goal() {
    let (code, stdout, stderr) = run(&[
        "run",
        "from the flag",
        "--task",
        r#"{"goal":"from the task"}"#,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("You asked: \"from the flag\""), "{stdout}");
    let (code, stdout, _) = run(&["run", "--task", r#"{"goal":"from the task"}"#]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("You asked: \"from the task\""), "{stdout}");
    let (code, stdout, stderr) = run(&["run"]);
    assert_eq!(code, Some(2), "no goal anywhere is a usage error");
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("error: no goal\nfix: "), "{stderr}");
}

#[test]
fn run_dash_reads_the_goal_from_stdin() {
    let mut child = bin()
        .args(["run", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a goal\nover two lines\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("You asked: \"a goal\nover two lines\""),
        "{stdout}"
    );
}

// --- stdout is the answer -----------------------------------------------------------------------

#[test]
fn the_answer_goes_to_stdout_and_progress_to_stderr() {
    let steps = json!([
        {"tool": {"name": "Read", "input": {"path": "a.txt"}, "output": "contents"}},
        {"event": "agent.output.delta", "data": {"text": "The answer."}}
    ]);
    let (code, stdout, stderr) = run(&["run", "q", "--task", &scripted(steps, "The answer.")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout, "The answer.\n",
        "only the answer, like $(…) captures it"
    );
    assert!(stderr.contains("▶ fixture"), "the header: {stderr}");
    assert!(stderr.contains("⏺ Read"), "the tool line: {stderr}");
    assert!(stderr.contains("— completed"), "the summary: {stderr}");
}

#[test]
fn an_answer_that_was_not_streamed_is_printed_from_the_result() {
    let (code, stdout, _) = run(&[
        "run",
        "q",
        "--task",
        &scripted(json!([]), "Only in the result."),
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "Only in the result.\n");
}

#[test]
fn output_last_message_writes_the_final_message_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("last.txt");
    let steps = json!([{"event": "agent.output.delta", "data": {"text": "Done: 42"}}]);
    let (code, stdout, stderr) = run(&[
        "run",
        "q",
        "--task",
        &scripted(steps, "Done: 42"),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "Done: 42\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "Done: 42");
}

#[test]
fn control_characters_from_the_model_are_made_visible() {
    // OSC 52 sets the clipboard; CR rewrites the line; ESC [ starts any terminal command.
    let evil = "copy\x1b]52;c;cm0gLXJmIH4=\x07 \rhidden\x1b[2J";
    let steps = json!([
        {"tool": {"name": "Bash\x1b[31m", "input": "echo \x1b]0;title\x07", "output": "ok"}},
        {"event": "agent.output.delta", "data": {"text": evil}}
    ]);
    let task = scripted(steps, evil);
    let (code, stdout, stderr) = run(&["run", "q", "--task", &task]);
    assert_eq!(code, Some(0), "{stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains(['\x1b', '\x07', '\r']),
            "raw control character on {name}: {text:?}"
        );
    }
    assert!(stdout.contains("copy\\u{1b}]52;c;"), "{stdout}");
    assert!(stdout.contains("\\u{d}hidden"), "{stdout}");
    assert!(stderr.contains("Bash\\u{1b}[31m"), "{stderr}");
    // --json is for programs: the text is exact there (JSON escapes it).
    let (_, stdout, _) = run(&["run", "q", "--task", &task, "--json"]);
    let deltas: Vec<Value> = json_lines(&stdout)
        .into_iter()
        .filter(|e| e["type"] == "agent.output.delta")
        .collect();
    assert_eq!(deltas[0]["data"]["text"], evil);
}

// --- a closed stdout ----------------------------------------------------------------------------

/// Spawns `args`, reads `lines` lines of stdout, closes it, and returns (exit code, stderr).
fn close_stdout_after(args: &[&str], lines: usize) -> (Option<i32>, String, Duration) {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..lines {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
    }
    drop(stdout);
    let closed = Instant::now();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let code = child.wait().unwrap().code();
    (code, stderr, closed.elapsed())
}

#[test]
fn a_closed_stdout_ends_the_program_quietly() {
    for args in [
        &["capabilities"][..],
        &["diagnose", "--runtime", "fixture"],
        &["schema"],
        &["man"],
        &["completions", "bash"],
    ] {
        let (code, stderr, _) = close_stdout_after(args, 0);
        assert!(matches!(code, Some(0 | 141)), "{args:?}: {code:?} {stderr}");
        assert_no_crash_text(&stderr);
    }
    // `run x | head -1` while the agent still talks: it is stopped, not left working unwatched.
    let steps = json!([
        {"event": "agent.output.delta", "data": {"text": "line 1\n"}},
        {"delayMs": 300},
        {"event": "agent.output.delta", "data": {"text": "line 2\n"}},
        {"delayMs": 60000},
        {"event": "agent.output.delta", "data": {"text": "line 3\n"}}
    ]);
    let task = scripted(steps, "");
    let (code, stderr, took) = close_stdout_after(&["run", "x", "--task", &task], 1);
    assert_eq!(code, Some(141), "{stderr}");
    assert_no_crash_text(&stderr);
    assert!(took < Duration::from_secs(20), "stopped, took {took:?}");
    assert!(stderr.contains("cancelled"), "{stderr}");
}

// --- errors and exit codes ----------------------------------------------------------------------

#[test]
fn every_error_has_one_style_and_no_backtrace() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", "x", "--runtime", "nosuch"],
            "error: unknown runtime \"nosuch\" (known: antigravity, claude, codex, fixture)",
        ),
        (
            &["capabilities", "--runtime", "nosuch"],
            "error: unknown runtime \"nosuch\" (known: ",
        ),
        (
            &["diagnose", "--runtime", "nosuch"],
            "error: unknown runtime \"nosuch\" (known: ",
        ),
        (&["run", "x", "--task", "{"], "error: --task is not JSON"),
        (
            &["run", "x", "--task", r#"{"maxTurns": "many"}"#],
            "error: --task is not a valid AgentTask",
        ),
        (
            &["run", "--sandbox", "nope", "x"],
            "error: invalid value 'nope'",
        ),
    ];
    for (args, start) in cases {
        let mut c = bin();
        c.args(args).env("RUST_BACKTRACE", "1");
        let (code, stdout, stderr) = output(c);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(start), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_no_crash_text(&stderr);
    }
}

#[test]
fn a_refusal_with_a_remedy_prints_the_fix() {
    let (code, _, stderr) = run(&[
        "run",
        "x",
        "--runtime",
        "claude",
        "--claude-path",
        "/nonexistent/claude",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: runtime \"claude\" is unavailable"),
        "{stderr}"
    );
    assert!(lines[1].starts_with("fix: "), "{stderr}");
}

// --- record and replay --------------------------------------------------------------------------

#[test]
fn record_prints_its_file_and_replay_plays_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let steps = json!([
        {"tool": {"name": "Read", "input": {"path": "a"}, "output": "x"}},
        {"event": "agent.output.delta", "data": {"text": "recorded answer"}}
    ]);
    let (code, stdout, stderr) = run(&[
        "--record",
        dir.path().to_str().unwrap(),
        "run",
        "q",
        "--task",
        &scripted(steps, "recorded answer"),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("recorded: "))
        .unwrap_or_else(|| panic!("no recorded: line in {stderr}"));
    let path = line["recorded: ".len()..].split(' ').next().unwrap();
    assert!(std::path::Path::new(path).is_file(), "{path}");
    // No goal, no --task: the recording is enough.
    let (code, replayed, stderr) = run(&["run", "--replay", path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(replayed, stdout);
    assert!(stderr.contains("⏺ Read"), "{stderr}");
    // --replay is the fixture runtime; naming another is a contradiction, refused.
    let (code, _, stderr) = run(&["run", "--replay", path, "--runtime", "claude"]);
    assert_eq!(code, Some(2), "{stderr}");
}

// --- environment --------------------------------------------------------------------------------

#[test]
fn the_default_runtime_comes_from_the_environment() {
    let mut c = bin();
    c.args(["run", "x"])
        .env("AGENT_RUNTIME_KIT_RUNTIME", "nosuch");
    let (code, _, stderr) = output(c);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown runtime \"nosuch\""), "{stderr}");
    // The flag wins over the environment.
    let mut c = bin();
    c.args(["run", "x", "-r", "fixture"])
        .env("AGENT_RUNTIME_KIT_RUNTIME", "nosuch");
    assert_eq!(output(c).0, Some(0));
}

#[test]
fn progress_is_dim_on_a_terminal_unless_no_color() {
    let mut c = bin();
    c.args(["run", "x"]);
    let (code, terminal, stdout) = run_on_terminal(c, Tty::Stderr);
    assert_eq!(code, Some(0));
    assert!(terminal.contains("\x1b[2m▶ fixture"), "{terminal:?}");
    assert!(!stdout.contains('\x1b'), "the answer is never styled");
    let mut c = bin();
    c.args(["run", "x"]).env("NO_COLOR", "1");
    let (code, terminal, _) = run_on_terminal(c, Tty::Stderr);
    assert_eq!(code, Some(0));
    assert!(terminal.contains("▶ fixture"), "{terminal:?}");
    assert!(!terminal.contains('\x1b'), "{terminal:?}");
}

#[test]
fn ctrl_c_cancels_the_task_and_exits_130() {
    let steps = json!([{"delayMs": 60000}]);
    let mut child = bin()
        .args(["run", "wait", "--task", &scripted(steps, "")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut header = String::new();
    stderr.read_line(&mut header).unwrap();
    assert!(header.contains("▶ fixture"), "started: {header}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        rest.contains("— cancelled"),
        "the task's result first: {rest}"
    );
}

// --- diagnose -----------------------------------------------------------------------------------

/// Vendor paths that do not exist: nothing but the fixture is ready.
const NOTHING_INSTALLED: [&str; 6] = [
    "--claude-path",
    "/nonexistent/claude",
    "--codex-path",
    "/nonexistent/codex",
    "--antigravity-python",
    "/nonexistent/python3",
];

#[test]
fn diagnose_exits_nonzero_when_what_was_asked_for_is_not_ready() {
    let (code, _, _) = run(&["diagnose", "--runtime", "fixture"]);
    assert_eq!(code, Some(0));
    let mut args = vec!["diagnose", "--runtime", "claude"];
    args.extend(NOTHING_INSTALLED);
    let (code, stdout, _) = run(&args);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&stdout).expect("JSON when stdout is not a terminal");
    assert_eq!(v["runtimes"][0]["status"], "missingBinary");
    let mut args = vec!["diagnose"];
    args.extend(NOTHING_INSTALLED);
    let (code, _, _) = run(&args);
    assert_eq!(
        code,
        Some(1),
        "only the fixture is ready: nothing to work with"
    );
}

#[test]
fn diagnose_on_a_terminal_is_a_table_with_the_fix() {
    let mut c = bin();
    c.arg("diagnose").args(NOTHING_INSTALLED);
    let (code, table, _) = run_on_terminal(c, Tty::Stdout);
    assert_eq!(code, Some(1));
    assert!(!table.contains('{'), "not JSON: {table}");
    assert!(table.contains("✓ fixture"), "{table}");
    assert!(table.contains("✗ claude"), "{table}");
    assert!(table.contains("fix: "), "{table}");
    let mut c = bin();
    c.args(["diagnose", "--runtime", "fixture", "--json"]);
    let (code, json, _) = run_on_terminal(c, Tty::Stdout);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&json.replace("\r\n", "\n")).unwrap();
    assert_eq!(v["runtimes"][0]["status"], "ready");
}

#[test]
fn diagnose_messages_carry_no_rust_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let failing = dir.path().join("failing");
    std::fs::write(&failing, "#!/bin/sh\necho broken >&2\nexit 3\n").unwrap();
    let mut perms = std::fs::metadata(&failing).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&failing, perms).unwrap();
    let f = failing.to_str().unwrap();
    let (_, stdout, _) = run(&[
        "diagnose",
        "--json",
        "--claude-path",
        f,
        "--codex-path",
        f,
        "--antigravity-python",
        f,
    ]);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    for d in v["runtimes"].as_array().unwrap() {
        let message = d["message"].as_str().unwrap();
        assert!(
            !message.contains("Some(") && !message.contains("None"),
            "{message}"
        );
    }
    assert!(stdout.contains("exit 3"), "{stdout}");
}

// --- completions and the man page ---------------------------------------------------------------

#[test]
fn completions_and_the_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef agent-runtime-kit"),
        ("fish", "complete -c agent-runtime-kit"),
    ] {
        let (code, stdout, _) = run(&["completions", shell]);
        assert_eq!(code, Some(0));
        assert!(stdout.contains(marker), "{shell}: {stdout}");
        assert!(
            stdout.contains("diagnose"),
            "{shell} completes the commands"
        );
    }
    let (code, page, _) = run(&["man"]);
    assert_eq!(code, Some(0));
    assert!(page.contains(".TH agent-runtime-kit 1"), "{page}");
    assert!(
        page.contains("JSON\\-RPC") || page.contains("JSON-RPC"),
        "{page}"
    );
}
