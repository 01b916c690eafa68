//! Bad input gets the right JSON-RPC error and the server keeps serving.

mod support;

use serde_json::{json, Value};
use support::Sidecar;

/// After each bad input, a good request must still be answered.
async fn still_serving(s: &mut Sidecar) {
    let r = s.call("capabilities", json!({})).await;
    assert_eq!(
        r["result"]["protocolVersion"], 2,
        "server still serves: {r}"
    );
}

fn code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error reply: {v}"))
}

#[tokio::test]
async fn malformed_lines_are_answered_and_the_server_survives() {
    let mut s = Sidecar::spawn(&["--max-message-bytes", "4096"]);
    let cases: Vec<(&[u8], i64, &str)> = vec![
        (b"{not json\n", -32700, "invalid JSON"),
        (b"\xff\xfe\xfd\n", -32700, "invalid UTF-8"),
        (b"[]\n", -32600, "empty array"),
        (b"42\n", -32600, "a number"),
        (b"null\n", -32600, "null"),
        (
            b"{\"id\":7,\"method\":\"capabilities\"}\n",
            -32600,
            "no jsonrpc",
        ),
        (
            b"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"capabilities\"}\n",
            -32600,
            "object id",
        ),
        (b"{\"jsonrpc\":\"2.0\",\"id\":8}\n", -32600, "no method"),
        (
            b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"capabilities\",\"params\":3}\n",
            -32600,
            "scalar params",
        ),
    ];
    for (bytes, want, what) in cases {
        s.send_raw(bytes).await;
        let reply = s.next().await.expect("a reply");
        assert_eq!(code(&reply), want, "{what}: {reply}");
        assert!(
            reply["error"]["data"]["kind"].is_string(),
            "{what}: kind given"
        );
        still_serving(&mut s).await;
    }
    // A line over the limit is discarded up to its newline; the next line on the same write is served.
    let mut big = vec![b'{'; 10_000];
    big.extend_from_slice(
        b"\n{\"jsonrpc\":\"2.0\",\"id\":\"after\",\"method\":\"capabilities\"}\n",
    );
    s.send_raw(&big).await;
    let first = s.next().await.unwrap();
    assert_eq!(code(&first), -32700);
    assert_eq!(first["id"], Value::Null);
    let after = s.response(&json!("after")).await;
    assert_eq!(after["result"]["protocolVersion"], 2);
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn ids_of_every_legal_kind_are_echoed() {
    let mut s = Sidecar::spawn(&[]);
    for id in [json!(-5), json!(1.5), json!("str-id"), json!(0)] {
        s.send(&json!({"jsonrpc":"2.0","id": id,"method":"capabilities"}))
            .await;
        let r = s.response(&id).await;
        assert!(r.get("result").is_some(), "{r}");
    }
}

#[tokio::test]
async fn unknown_methods_and_notifications() {
    let mut s = Sidecar::spawn(&[]);
    let r = s.call("nope", json!({})).await;
    assert_eq!(code(&r), -32601);
    assert_eq!(r["error"]["data"]["kind"], "methodNotFound");
    // A notification for an unknown method gets no reply at all.
    s.send(&json!({"jsonrpc":"2.0","method":"nope"})).await;
    s.send(&json!({"jsonrpc":"2.0","id":"next","method":"capabilities"}))
        .await;
    let next = s.next().await.unwrap();
    assert_eq!(
        next["id"], "next",
        "no reply to the notification came first: {next}"
    );
}

/// A fixture script's event steps are checked at admission (their data is kept as text until it
/// plays): a step whose data does not fit its event, or a terminal event, is refused naming the
/// step; a good script of the same shape plays its data as written.
#[tokio::test]
async fn bad_fixture_event_steps_are_refused_naming_the_step() {
    let mut s = Sidecar::spawn(&[]);
    let script = |steps: Value| {
        json!({"runtime": "fixture", "task": {"goal": "x", "runtimeOptions": {"fixture": {
            "script": {"steps": steps, "result": {"output": "done"}}}}}})
    };
    let good = json!({"event": "agent.output.delta", "data": {"text": "one "}});
    for (bad, why) in [
        (
            json!({"event": "agent.output.delta", "data": {"txet": "x"}}),
            "text",
        ),
        (json!({"event": "agent.output.delta"}), "null"),
        (
            json!({"event": "agent.tool.completed", "data": {"name": 3}}),
            "expected a string",
        ),
        (
            json!({"event": "agent.task.completed", "data": {"finishReason": "completed", "usage": {"inputTokens": 1, "outputTokens": 1}}}),
            "terminal",
        ),
    ] {
        let r = s.call("run", script(json!([good, bad]))).await;
        assert_eq!(code(&r), -32602, "{bad}: {r}");
        assert_eq!(
            r["error"]["data"]["path"], "task.runtimeOptions.fixture.script.steps[1]",
            "{r}"
        );
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{bad}: {message}");
        assert!(
            !message.contains(" at line "),
            "no position in the text: {message}"
        );
    }
    let out = s
        .run(script(
            json!([good, {"event": "agent.message", "data": {"text": "one é"}}]),
        ))
        .await;
    assert_eq!(out.result()["finishReason"], "completed");
    let texts: Vec<&Value> = out
        .events
        .iter()
        .map(|e| &e["params"]["data"]["text"])
        .collect();
    assert!(
        texts.contains(&&json!("one ")) && texts.contains(&&json!("one é")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn bad_params_name_the_path() {
    let mut s = Sidecar::spawn(&[]);
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": 5}}))
        .await;
    assert_eq!(code(&r), -32602);
    assert_eq!(r["error"]["data"]["path"], "task.goal");
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": "x", "permissions": {"sandbox": "yolo"}}}))
        .await;
    assert_eq!(code(&r), -32602);
    assert_eq!(r["error"]["data"]["path"], "task.permissions.sandbox");
    let r = s
        .call(
            "run",
            json!({"runtime": "fixture", "task": {"goal": "x", "goall": 1}}),
        )
        .await;
    assert_eq!(code(&r), -32602);
    assert_eq!(r["error"]["data"]["path"], "task.goall");
    let r = s.call("run", json!(["fixture"])).await;
    assert_eq!(code(&r), -32602);
    let r = s.call("cancel", json!({})).await;
    assert_eq!(code(&r), -32602);
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": "x", "workingDirectory": "/no/such/dir"}}))
        .await;
    assert_eq!(code(&r), -32602);
    assert_eq!(r["error"]["data"]["path"], "task.workingDirectory");
    let r = s
        .call(
            "run",
            json!({"runtime": "fixture", "task": {"goal": "x", "outputSchema": {"type": 12}}}),
        )
        .await;
    assert_eq!(code(&r), -32602);
    assert_eq!(r["error"]["data"]["path"], "task.outputSchema");
    still_serving(&mut s).await;
}

#[tokio::test]
async fn domain_errors_have_their_codes_and_data() {
    let mut s = Sidecar::spawn(&["--max-tasks", "1"]);
    let r = s
        .call("run", json!({"runtime": "nosuch", "task": {"goal": "x"}}))
        .await;
    assert_eq!(code(&r), -32010);
    assert_eq!(r["error"]["data"]["kind"], "unknownRuntime");
    assert!(r["error"]["data"]["known"]
        .as_array()
        .unwrap()
        .contains(&json!("fixture")));

    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": "x", "runtimeOptions": {"fixture": {"bogus": 1}}}}))
        .await;
    assert_eq!(code(&r), -32012);
    assert_eq!(
        r["error"]["data"]["field"],
        "task.runtimeOptions.fixture.bogus"
    );
    assert_eq!(r["error"]["data"]["runtime"], "fixture");

    let r = s.call("cancel", json!({"taskId": "never"})).await;
    assert_eq!(code(&r), -32013);
    assert_eq!(r["error"]["data"]["taskId"], "never");

    // A long task occupies the only slot.
    let slow = json!({"taskId": "slow", "runtime": "fixture", "task": {"goal": "x",
        "runtimeOptions": {"fixture": {"script": {"steps": [{"delayMs": 60000}]}}}}});
    let slow_id = s.request("run", slow.clone()).await;
    // Wait until it runs (its started event).
    loop {
        let v = s.next().await.unwrap();
        if v["params"]["type"] == "agent.task.started" {
            break;
        }
    }
    let r = s.call("run", slow).await;
    assert_eq!(code(&r), -32014, "duplicate id: {r}");
    assert_eq!(r["error"]["data"]["taskId"], "slow");
    let r = s
        .call("run", json!({"runtime": "fixture", "task": {"goal": "y"}}))
        .await;
    assert_eq!(code(&r), -32015, "busy: {r}");
    assert_eq!(r["error"]["data"]["limit"], 1);

    let c = s.call("cancel", json!({"taskId": "slow"})).await;
    assert_eq!(c["result"]["state"], "cancelling");
    let done = s.response(&slow_id).await;
    assert_eq!(done["result"]["finishReason"], "cancelled");
    let c = s.call("cancel", json!({"taskId": "slow"})).await;
    assert_eq!(
        c["result"]["state"], "finished",
        "cancel after the end is not an error"
    );
}

#[tokio::test]
async fn requests_after_shutdown_began_are_refused() {
    let mut s = Sidecar::spawn(&[]);
    // A task that takes 1 s to stop keeps the server in its shutdown phase.
    let run = s
        .request("run", json!({"taskId": "t", "runtime": "fixture", "task": {"goal": "x",
            "runtimeOptions": {"fixture": {"script": {"steps": [{"delayMs": 1000, "ignoreCancel": true}]}}}}}))
        .await;
    loop {
        let v = s.next().await.unwrap();
        if v["params"]["type"] == "agent.task.started" {
            break;
        }
    }
    let pid = s.child.id().unwrap() as i32;
    nix_kill(pid, "TERM");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let late = s.request("capabilities", json!({})).await;
    let mut got_late = false;
    let mut got_run = false;
    for v in s.drain().await {
        if v["id"] == late {
            assert_eq!(code(&v), -32016, "{v}");
            assert_eq!(v["error"]["data"]["kind"], "shuttingDown");
            got_late = true;
        }
        if v["id"] == run {
            assert_eq!(v["result"]["finishReason"], "cancelled");
            got_run = true;
        }
    }
    assert!(got_run, "the running task still got its response");
    assert!(
        got_late,
        "a request after the signal is refused, not ignored"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn batches_are_answered_as_one_array() {
    let mut s = Sidecar::spawn(&[]);
    s.send(&json!([
        {"jsonrpc":"2.0","id":1,"method":"capabilities"},
        {"jsonrpc":"2.0","method":"capabilities"},
        {"jsonrpc":"2.0","id":2,"method":"nope"},
        5
    ]))
    .await;
    let reply = s.next().await.unwrap_or_default();
    let arr = reply.as_array().expect("a batch reply is an array");
    assert_eq!(arr.len(), 3, "notifications get no reply: {reply}");
    let codes: Vec<_> = arr.iter().map(|r| r["error"]["code"].as_i64()).collect();
    assert!(
        codes.contains(&None) && codes.contains(&Some(-32601)) && codes.contains(&Some(-32600))
    );
}

fn nix_kill(pid: i32, sig: &str) {
    std::process::Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .unwrap();
}

#[tokio::test]
async fn an_unavailable_runtime_is_refused_with_its_diagnosis() {
    let mut s = Sidecar::spawn(&["--claude-path", "/nonexistent/claude"]);
    let r = s
        .call("run", json!({"runtime": "claude", "task": {"goal": "x"}}))
        .await;
    assert_eq!(code(&r), -32011, "{r}");
    assert_eq!(r["error"]["data"]["kind"], "runtimeUnavailable");
    assert_eq!(r["error"]["data"]["status"], "missingBinary");
    assert!(r["error"]["data"]["remedy"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    still_serving(&mut s).await;
}
