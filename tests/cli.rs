//! The one-shot commands, as a person or a script uses them.

use std::process::Command;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_agent-runtime-kit");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
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
    let (code, stdout, _) = run(&["diagnose", "--runtime", "fixture"]);
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
