//! `run` with `approvals: "host"`: asked on a terminal (a pseudo-terminal driven by
//! tests/cli/answer_on_pty.py), refused up front without one, never silently denied.

use std::process::Command;

use serde_json::json;

fn task() -> serde_json::Value {
    json!({
        "goal": "go",
        "permissions": {"approvals": "host"},
        "runtimeOptions": {"fixture": {"script": {
            "steps": [
                {"approval": {"name": "Bash", "input": {"command": "ls"}, "output": "ok"}},
                {"approval": {"name": "Bash", "input": {"command": "ls"}, "output": "ok"}},
                {"approval": {"name": "Bash", "input": {"command": "make"}, "output": "ok"}},
                {"question": {"questions": [
                    {"id": "c", "text": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]}
                ]}}
            ],
            "result": {"output": "color={{answers.c}}"}
        }}}
    })
}

#[test]
fn approvals_and_questions_are_asked_on_the_terminal() {
    let args = json!(["run", "--runtime", "fixture", "--task", task().to_string()]);
    // allow for the session (the second `ls` is not asked), deny `make` (after one bad answer),
    // then pick option 2.
    let replies = json!([
        ["allow for the [s]ession", "s"],
        ["\"make\"", "what"],
        ["please answer", "d"],
        ["Which color?", "2"]
    ]);
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/cli/answer_on_pty.py"
        ))
        .arg(env!("CARGO_BIN_EXE_agent-runtime-kit"))
        .arg(args.to_string())
        .arg(replies.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("color=Blue"), "{text}");
    assert!(text.contains("EXIT 0"), "{text}");
    assert_eq!(text.matches("approval: Bash").count(), 2, "{text}");
}

#[test]
fn without_a_terminal_host_approvals_are_refused_up_front() {
    let out = Command::new(env!("CARGO_BIN_EXE_agent-runtime-kit"))
        .args(["run", "--runtime", "fixture", "--task", &task().to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(out.stdout.is_empty());
}
