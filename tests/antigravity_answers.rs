//! The antigravity runtime's richer turns, end to end: the real binary over stdio, the pinned
//! google-antigravity SDK (and its localharness) and a mock Gemini API on 127.0.0.1. The agent's
//! ask_question reaches the host as `input/request` and the answer reaches the model; a question
//! nobody can answer is declined and the model is told; images reach the model's request; a file
//! tool's change is announced when the tool completes, once.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::antigravity::{writes_hello, World};
use support::mock_gemini::{Recorded, Reply};
use support::sidecar::RunOutcome;

/// A 1×1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn ask_question_call() -> Reply {
    Reply::call(
        "ask_question",
        json!({"questions": [
                  {"question": "Which color?", "options": ["Red", "Blue"]},
                  {"question": "Which name?", "options": ["Ada", "Bob"]}],
               "toolSummary": "Color question", "toolAction": "Asking"}),
    )
}

/// What the model got back for its ask_question call.
fn ask_question_result(req: &Recorded) -> String {
    let contents = req.body["contents"].as_array().unwrap();
    contents
        .iter()
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["functionResponse"]["name"] == "ask_question")
        .map(|p| p["functionResponse"]["response"].to_string())
        .collect()
}

fn input_requests(out: &RunOutcome) -> Vec<&Value> {
    out.events
        .iter()
        .filter(|e| e["method"] == "input/request")
        .map(|e| &e["params"])
        .collect()
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_question_answered_by_the_host_reaches_the_model() {
    let mut w = World::scripted(|_| vec![ask_question_call(), Reply::text(&["Blue it is."])]).await;
    let out = w
        .run_answering(
            json!({"goal": "Paint it", "permissions": {"approvals": "host"}}),
            json!({}),
            |_| Some(json!({"answers": {"0": "Blue", "1": "Grace"}})),
        )
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    // The tool's summary text is not the answer.
    assert_eq!(r["output"], "Blue it is.", "{r}");

    let asked = input_requests(&out);
    assert_eq!(asked.len(), 1, "{:?}", out.types());
    let q = &asked[0]["questions"];
    assert_eq!(q[0]["id"], "0");
    assert_eq!(q[0]["text"], "Which color?");
    assert_eq!(q[0]["options"][1]["label"], "Blue");
    assert_eq!(q[1]["text"], "Which name?");
    // The question is a tool call the host saw start, and it completes with the answers.
    let requested = out.of_type("agent.tool.requested");
    let ask = requested
        .iter()
        .find(|t| t["name"] == "ask_question")
        .unwrap();
    assert_eq!(asked[0]["toolCallId"], ask["toolCallId"]);
    let done = out.of_type("agent.tool.completed");
    let done = done.iter().find(|t| t["name"] == "ask_question").unwrap();
    assert_eq!(done["status"], "ok");
    assert_eq!(done["output"]["answers"]["Which color?"], "Blue");

    // The option the host picked, and its own words for the other question, reached the model.
    let reqs = w.mock.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].tool_names().contains(&"ask_question".to_string()));
    let seen = ask_question_result(&reqs[1]);
    assert!(seen.contains("A1: Blue"), "{seen}");
    assert!(seen.contains("A2: Grace"), "{seen}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_unanswered_question_tells_the_model_and_deny_mode_offers_no_tool() {
    let mut w = World::scripted(|_| {
        vec![
            ask_question_call(),
            Reply::text(&["Going with red."]),
            Reply::text(&["Nobody to ask."]),
        ]
    })
    .await;
    let out = w
        .run_answering(
            json!({"goal": "Paint it", "permissions": {"approvals": "host"}}),
            json!({"options": {"approvalTimeoutMs": 500}}),
            |_| None,
        )
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    assert_eq!(input_requests(&out).len(), 1);
    let seen = ask_question_result(&w.mock.requests()[1]);
    assert!(seen.contains("did not answer"), "{seen}");
    assert!(seen.contains("in time"), "{seen}");
    assert!(!seen.contains("User Skipped"), "{seen}");
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["name"], "ask_question");
    assert_eq!(done[0]["status"], "denied");

    // approvals "deny": nobody can answer, so the model is not offered the tool.
    let out = w
        .run_answering(json!({"goal": "Paint it"}), json!({}), |_| None)
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    let tools = w.mock.requests()[2].tool_names();
    assert!(!tools.contains(&"ask_question".to_string()), "{tools:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_live_turn_under_deny_declines_the_question_and_the_model_is_told() {
    let mut w = World::scripted(|_| {
        vec![
            Reply::text(&["Ready."]),
            ask_question_call(),
            Reply::text(&["Going with red."]),
        ]
    })
    .await;
    // Opened by a host that answers: the conversation has the ask_question tool.
    let first = w
        .run_answering(
            json!({"goal": "Hello", "session": {"keepAlive": true},
                   "permissions": {"approvals": "host"}}),
            json!({}),
            |_| panic!("no question in the first turn"),
        )
        .await;
    let session = first.result()["sessionId"].as_str().unwrap().to_string();
    // This turn has nobody to answer: the question is declined without asking the host.
    let out = w
        .run_answering(
            json!({"goal": "Paint it", "session": {"resume": session},
                   "permissions": {"approvals": "deny"}}),
            json!({}),
            |q| panic!("the host was asked under deny: {q}"),
        )
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["sessionSource"], "live", "{r}");
    assert!(input_requests(&out).is_empty());
    let seen = ask_question_result(&w.mock.requests()[2]);
    assert!(
        seen.contains(
            "A1: No answer: the user did not answer (declined by policy (approvals: deny)"
        ),
        "{seen}"
    );
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "denied", "{done:?}");
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn an_image_attachment_reaches_the_model_and_gif_is_refused() {
    let mut w = World::scripted(|_| vec![Reply::text(&["A red pixel."])]).await;
    std::fs::write(w.work().join("notes.md"), "NOTES-MARKER-7").unwrap();
    let out = w
        .run_answering(
            json!({"goal": "What is this?", "attachments": [
                {"type": "image", "data": PNG_B64},
                {"type": "file", "path": "notes.md"}]}),
            json!({}),
            |_| None,
        )
        .await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.result()
    );
    let req = &w.mock.requests()[0];
    let parts: Vec<Value> = req.body["contents"][0]["parts"].as_array().unwrap().clone();
    let image = parts
        .iter()
        .find(|p| p.get("inlineData").is_some())
        .unwrap_or_else(|| panic!("no image part: {parts:?}"));
    assert_eq!(image["inlineData"]["mimeType"], "image/png");
    assert_eq!(image["inlineData"]["data"], PNG_B64);
    let text = req.texts();
    assert!(text.contains("What is this?"), "{text}");
    assert!(text.contains("NOTES-MARKER-7"), "{text}");

    // GIF: the SDK takes PNG, JPEG and WebP only; refused before anything starts.
    let gif = "R0lGODlhAQABAAAAACw=";
    let p = w.params_with(
        json!({"goal": "x", "attachments": [{"type": "image", "data": gif}]}),
        json!({}),
    );
    let id = w.sidecar.request("run", p).await;
    let resp = w.sidecar.response(&id).await;
    assert_eq!(resp["error"]["code"], -32012, "{resp}");
    assert_eq!(
        resp["error"]["data"]["field"], "task.attachments[0]",
        "{resp}"
    );
    assert_eq!(w.mock.requests().len(), 1);
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_file_tool_change_is_announced_when_the_tool_completes_once() {
    let mut w = World::scripted(writes_hello).await;
    let out = w
        .run_answering(json!({"goal": "Write hello.txt"}), json!({}), |_| None)
        .await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    let types = out.types();
    let changed: Vec<usize> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| *t == "agent.file.changed")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(changed.len(), 1, "announced once: {types:?}");
    let tool_done = types
        .iter()
        .position(|t| t == "agent.tool.completed")
        .unwrap();
    let message = types.iter().position(|t| t == "agent.message").unwrap();
    // Right after its tool, before the model's next answer (not from the end-of-turn listing).
    assert_eq!(changed[0], tool_done + 1, "{types:?}");
    assert!(changed[0] < message, "{types:?}");
    let ev = out.of_type("agent.file.changed")[0];
    assert_eq!(ev["path"], "hello.txt");
    assert_eq!(ev["change"], "added");
    assert!(
        ev["diff"].as_str().unwrap().contains("+hi from mock"),
        "{ev}"
    );
    assert_eq!(
        r["artifacts"],
        json!([{"path": "hello.txt", "change": "created"}])
    );
}

/// A run_command call writing `file` in the working directory (appending a line).
fn run_command_call(work: &Path, file: &str) -> Reply {
    Reply::call(
        "run_command",
        json!({"CommandLine": format!("echo ran >> {}/{file}", work.display()),
               "Cwd": work.display().to_string(), "WaitMsBeforeAsync": 5000,
               "toolSummary": "Run", "toolAction": "Running"}),
    )
}

/// Runs a task answering each `approval/request` with the next of `decisions`, and returns the
/// outcome and the requests the host saw.
async fn run_deciding(
    w: &mut World,
    goal: &str,
    decisions: Vec<Value>,
) -> (RunOutcome, Vec<Value>) {
    let p = w.params_with(
        json!({"goal": goal, "permissions": {"approvals": "host"}}),
        json!({}),
    );
    let mut asked = vec![];
    let mut decisions = decisions.into_iter();
    let out = w
        .sidecar
        .run_answering(
            p,
            |req| {
                asked.push(req.clone());
                decisions.next()
            },
            |_| None,
        )
        .await;
    (out, asked)
}

/// `allowForSession` covers the same command for the rest of the session: the second identical
/// call runs without asking the host.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn allow_for_session_covers_the_same_command_again() {
    let mut w = World::scripted(|work| {
        vec![
            run_command_call(work, "twice.txt"),
            run_command_call(work, "twice.txt"),
            Reply::text(&["Done."]),
        ]
    })
    .await;
    let (out, asked) = run_deciding(
        &mut w,
        "Run it twice",
        vec![json!({"decision": "allowForSession"})],
    )
    .await;
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    assert_eq!(asked.len(), 1, "asked once: {asked:?}");
    assert_eq!(
        std::fs::read_to_string(w.work().join("twice.txt")).unwrap(),
        "ran\nran\n"
    );
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done.len(), 2, "{:?}", out.types());
    assert!(done.iter().all(|d| d["status"] == "ok"), "{done:?}");
}

/// `updatedInput` cannot be given to the SDK's approval callback: the call is denied with a
/// message that says so (nothing runs); `abort` denies and ends the task as cancelled.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn updated_input_is_refused_and_abort_cancels() {
    let mut w = World::scripted(|work| {
        vec![
            run_command_call(work, "edited.txt"),
            Reply::text(&["Understood."]),
            run_command_call(work, "aborted.txt"),
            Reply::text(&["Never reached."]),
        ]
    })
    .await;
    let changed = json!({"decision": "allow",
                         "updatedInput": {"CommandLine": "echo other > other.txt"}});
    let (out, asked) = run_deciding(&mut w, "Run it", vec![changed]).await;
    assert_eq!(asked.len(), 1);
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "{}",
        out.response
    );
    let done = out.of_type("agent.tool.completed");
    assert_eq!(done[0]["status"], "denied", "{done:?}");
    assert!(!w.work().join("edited.txt").exists());
    assert!(!w.work().join("other.txt").exists());
    let told = w.mock.requests()[1].texts();
    assert!(told.to_lowercase().contains("denied"), "{told}");

    let (out, asked) = run_deciding(&mut w, "Run it", vec![json!({"decision": "abort"})]).await;
    assert_eq!(asked.len(), 1);
    assert_eq!(
        out.result()["finishReason"],
        "cancelled",
        "{}",
        out.response
    );
    assert!(!w.work().join("aborted.txt").exists());
}
