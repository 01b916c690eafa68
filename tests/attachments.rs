//! `task.attachments` in and the workspace listing out (issue 17), through the binary: the fixture
//! echoes what it received; the real pinned Claude Code CLI and `codex app-server` carry the
//! image to the mock model servers; a file a shell command wrote is an artifact and an
//! `agent.file.changed` with its diff; a missing attachment is -32602 naming it, and a type the
//! runtime cannot send is -32012.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use support::sidecar::RunOutcome;
use support::Sidecar;

/// A real 1×1 PNG (the CLIs may inspect what they are given).
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn png_bytes() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG_1X1)
        .unwrap()
}

fn workdir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let wd = d.path().canonicalize().unwrap();
    (d, wd)
}

fn error_of(response: &Value) -> (i64, &Value) {
    let e = &response["error"];
    (e["code"].as_i64().unwrap_or_default(), &e["data"])
}

#[tokio::test]
async fn the_fixture_echoes_what_it_received() {
    let (_d, wd) = workdir();
    std::fs::write(wd.join("pic.png"), png_bytes()).unwrap();
    std::fs::write(wd.join("notes.md"), "# notes\n").unwrap();
    let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x01\x00\x01\x00");
    let mut s = Sidecar::spawn(&[]);
    let out = s
        .run(json!({ "runtime": "fixture", "task": {
            "goal": "look", "workingDirectory": wd,
            "attachments": [
                { "type": "image", "path": "pic.png" },
                { "type": "image", "data": gif, "mediaType": "image/gif" },
                { "type": "file", "path": "notes.md" },
            ] } }))
        .await;
    let r = out.assert_finished("completed");
    assert_eq!(
        r["vendor"]["attachments"],
        json!([
            { "type": "image", "mediaType": "image/png", "bytes": png_bytes().len(), "path": "pic.png" },
            { "type": "image", "mediaType": "image/gif", "bytes": 10, "path": null },
            { "type": "file", "bytes": 8, "path": "notes.md" },
        ])
    );
    // The goal may be empty when attachments carry the request.
    let out = s
        .run(json!({ "runtime": "fixture", "task": {
            "goal": "", "workingDirectory": wd, "attachments": [{ "type": "file", "path": "notes.md" }] } }))
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
}

/// A turn in a live session reads its own attachments at admission, like a new run.
#[tokio::test]
async fn a_live_session_turn_takes_attachments() {
    let (_d, wd) = workdir();
    std::fs::write(wd.join("pic.png"), png_bytes()).unwrap();
    let mut s = Sidecar::spawn(&[]);
    let first = s
        .run(json!({ "taskId": "t1", "runtime": "fixture", "task": {
            "goal": "hello", "workingDirectory": wd, "session": { "keepAlive": true } } }))
        .await;
    let r = first.result();
    assert_eq!(r["sessionLive"], true, "{r}");
    assert!(r["vendor"]["attachments"].is_null(), "{r}");
    let session = r["sessionId"].as_str().unwrap().to_string();
    let turn = |attachments: Value| {
        json!({ "runtime": "fixture", "task": {
            "goal": "and this?", "workingDirectory": wd, "attachments": attachments,
            "session": { "resume": session, "keepAlive": true } } })
    };
    let r = s
        .call(
            "run",
            turn(json!([{ "type": "image", "path": "gone.png" }])),
        )
        .await;
    assert_eq!(error_of(&r).1["path"], "task.attachments[0].path", "{r}");
    let out = s
        .run(turn(json!([{ "type": "image", "path": "pic.png" }])))
        .await;
    let r = out.result();
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert_eq!(
        r["vendor"]["attachments"][0]["mediaType"], "image/png",
        "{r}"
    );
}

#[tokio::test]
async fn bad_attachments_are_refused_before_anything_starts() {
    let (_d, wd) = workdir();
    std::fs::write(wd.join("pic.png"), png_bytes()).unwrap();
    std::fs::write(wd.join("fake.png"), "not an image").unwrap();
    let fifo = wd.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let mut s = Sidecar::spawn(&[]);
    let run = |attachments: Value| {
        json!({ "runtime": "fixture", "task": {
            "goal": "look", "workingDirectory": wd, "attachments": attachments } })
    };

    let r = s
        .call(
            "run",
            run(json!([{ "type": "image", "path": "pic.png" },
                       { "type": "image", "path": "missing.png" }])),
        )
        .await;
    let (code, data) = error_of(&r);
    assert_eq!(code, -32602, "{r}");
    assert_eq!(data["path"], "task.attachments[1].path", "{r}");
    assert!(
        data["reason"].as_str().unwrap().contains("no such file"),
        "{r}"
    );

    // A FIFO is refused at once, not read (which would block until a writer came).
    let began = Instant::now();
    let r = s
        .call("run", run(json!([{ "type": "file", "path": "fifo" }])))
        .await;
    assert!(began.elapsed() < Duration::from_secs(5));
    let (code, data) = error_of(&r);
    assert_eq!(
        (code, &data["path"]),
        (-32602, &json!("task.attachments[0].path")),
        "{r}"
    );
    assert!(
        data["reason"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{r}"
    );

    let r = s
        .call("run", run(json!([{ "type": "image", "path": "fake.png" }])))
        .await;
    assert_eq!(error_of(&r).0, -32602, "{r}");
    let r = s
        .call(
            "run",
            run(json!([{ "type": "image", "data": "@@not base64@@" }])),
        )
        .await;
    let (code, data) = error_of(&r);
    assert_eq!(
        (code, &data["path"]),
        (-32602, &json!("task.attachments[0].data")),
        "{r}"
    );

    // Antigravity's SDK takes no GIF: -32012 naming the field, before its Python is even
    // looked for.
    std::fs::write(wd.join("anim.gif"), b"GIF89a\x01\0\x01\0\0\0\0;").unwrap();
    let r = s
        .call(
            "run",
            json!({ "runtime": "antigravity", "task": {
                "goal": "look", "workingDirectory": wd,
                "attachments": [{ "type": "image", "path": "anim.gif" }] } }),
        )
        .await;
    let (code, data) = error_of(&r);
    assert_eq!(code, -32012, "{r}");
    assert_eq!(data["field"], "task.attachments[0]", "{r}");
    // Nothing ran: no event went out.
    s.close_stdin();
    assert!(s.drain().await.iter().all(|m| m["method"] != "event"));
}

/// The image content block the mock model received (claude) as `(media_type, data)`.
fn claude_image(body: &Value) -> Option<(String, String)> {
    body["messages"].as_array()?.iter().find_map(|m| {
        m["content"].as_array()?.iter().find_map(|b| {
            (b["type"] == "image").then(|| {
                (
                    b["source"]["media_type"]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                    b["source"]["data"].as_str().unwrap_or_default().into(),
                )
            })
        })
    })
}

fn file_changed<'a>(out: &'a RunOutcome, path: &str) -> Vec<&'a Value> {
    out.of_type("agent.file.changed")
        .into_iter()
        .filter(|e| e["path"] == path)
        .collect()
}

/// Claude: the image reaches the model as a base64 image block, the file as text; a file written
/// by a Bash command (no file tool) is in `artifacts` and an `agent.file.changed` with its diff,
/// and so is an existing file the command changed.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn claude_sends_the_image_and_reports_a_shell_written_file() {
    use support::mock_claude::Reply;
    let w = support::claude::World::new(vec![
        Reply::tool(
            "Bash",
            json!({"command": "printf 'made by shell\\n' > shell.txt && printf 'one\\nTWO\\n' > old.txt",
                   "description": "write files"}),
        ),
        Reply::text("done"),
    ])
    .await;
    let wd = w.work();
    std::fs::write(wd.join("notes.md"), "NOTES-CONTENT-7\n").unwrap();
    std::fs::write(wd.join("old.txt"), "one\ntwo\n").unwrap();
    let mut s = w.sidecar();
    let out = s
        .run_with(
            json!({ "taskId": "img", "runtime": "claude", "task": {
                "goal": "What is in the image?", "workingDirectory": wd,
                "permissions": { "approvals": "host" },
                "attachments": [
                    { "type": "image", "data": PNG_1X1 },
                    { "type": "file", "path": "notes.md" },
                ] } }),
            |_| Some(json!({"decision": "allow"})),
        )
        .await;
    let r = out.assert_finished("completed");

    let reqs = w.mock.requests();
    let first = &reqs[0];
    assert_eq!(
        claude_image(&first.body),
        Some(("image/png".to_string(), PNG_1X1.to_string())),
        "{}",
        first.body["messages"]
    );
    let text = first.all_text();
    assert!(text.contains("NOTES-CONTENT-7") && text.contains("What is in the image?"));

    assert_eq!(
        std::fs::read_to_string(wd.join("shell.txt")).unwrap(),
        "made by shell\n"
    );
    let arts = r["artifacts"].as_array().unwrap();
    assert!(
        arts.contains(&json!({"path": "shell.txt", "change": "created"})),
        "{r}"
    );
    assert!(
        arts.contains(&json!({"path": "old.txt", "change": "modified"})),
        "{r}"
    );
    let added = file_changed(&out, "shell.txt");
    assert_eq!(added.len(), 1, "{:?}", out.types());
    assert_eq!(added[0]["change"], "added");
    assert!(added[0]["diff"]
        .as_str()
        .unwrap()
        .contains("+made by shell"));
    let modified = file_changed(&out, "old.txt");
    assert_eq!(modified[0]["change"], "modified");
    let diff = modified[0]["diff"].as_str().unwrap();
    assert!(diff.contains("-two\n+TWO\n"), "{diff}");
    // The changes are announced before the terminal event.
    let types = out.types();
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("agent.file.changed") < at("agent.task.completed"));
    assert_eq!(s.wait_exit().await, Some(0));
}

/// Codex: the image goes into `turn/start` as a data URL and reaches the Responses API as an
/// `input_image`; the file as text; a shell-written file is an `agent.file.changed`.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn codex_sends_the_image_and_reports_a_shell_written_file() {
    use support::mock_codex::{MockResponses, Reply};
    let env = support::codex::World::new();
    let wd = env.work.clone();
    std::fs::write(wd.join("pic.png"), png_bytes()).unwrap();
    std::fs::write(wd.join("notes.md"), "NOTES-CONTENT-9\n").unwrap();
    let mock = MockResponses::start(vec![
        Reply::Shell("printf 'made by shell\\n' > shell.txt".into()),
        Reply::text("done"),
    ])
    .await;
    let mut s = env.sidecar();
    let out = s
        .run(env.run(
            "img",
            &mock,
            json!({
                "goal": "What is in the image?",
                "attachments": [
                    { "type": "image", "path": "pic.png", "mediaType": "image/png" },
                    { "type": "file", "path": "notes.md" },
                ],
            }),
        ))
        .await;
    let r = out.assert_finished("completed");

    let body = &mock.requests()[0].body;
    let text = body.to_string();
    let url = format!("data:image/png;base64,{PNG_1X1}");
    let image = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
        .find(|c| c["type"] == "input_image")
        .unwrap_or_else(|| panic!("no input_image in {text}"));
    assert_eq!(image["image_url"], url.as_str());
    assert!(text.contains("NOTES-CONTENT-9") && text.contains("What is in the image?"));

    assert!(
        r["artifacts"]
            .as_array()
            .unwrap()
            .contains(&json!({"path": "shell.txt", "change": "created"})),
        "{r}"
    );
    let added = file_changed(&out, "shell.txt");
    assert_eq!(added.len(), 1, "{:?}", out.types());
    assert!(added[0]["diff"]
        .as_str()
        .unwrap()
        .contains("+made by shell"));
    assert_eq!(s.wait_exit().await, Some(0));
}
