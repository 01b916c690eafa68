//! Codex collab sub-agents through the real pinned `codex app-server` and a mock Responses API.
//! Codex 0.171.0 offers no sub-agent tool by default: `[features] multi_agent_v2 = true` in
//! `CODEX_HOME/config.toml` (the sidecar refuses host `features.*` overrides) makes it offer the
//! namespaced `collaboration` tools. A `collaboration.spawn_agent` call starts the sub-agent in a
//! thread of its own; its model requests carry `x-codex-parent-thread-id`, so the mock answers
//! them from a script of their own.
//!
//! Also here (same setup): the model's own hosted web search, as codex reports it.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::codex::World;
use support::mock_codex::{MockResponses, Reply, INPUT_TOKENS};
use support::sidecar::{assert_well_formed, position};

/// A codex world whose own config turns collab sub-agents on.
fn world() -> World {
    let w = World::new();
    std::fs::write(
        w.root.join("codex-home/config.toml"),
        "[features]\nmulti_agent_v2 = true\n",
    )
    .unwrap();
    w
}

/// The run request: a goal for a sub-agent, sandboxed, approvals denied.
fn run(w: &World, id: &str, mock: &MockResponses) -> Value {
    w.run(
        id,
        mock,
        json!({ "goal": "use a sub-agent to count the files",
                "permissions": { "sandbox": "workspace-write", "approvals": "deny" } }),
    )
}

fn spawn_agent() -> Reply {
    Reply::NamespacedCall(
        "collaboration".into(),
        "spawn_agent".into(),
        json!({"task_name": "counter", "message": "count the files"}),
    )
}

/// The parent answers and its turn completes while the sub-agent is still working (codex does
/// not wait for it): the task waits, and everything the sub-agent does is marked with the
/// `spawn_agent` call, bracketed by `agent.subagent.started/completed`, and kept out of `output`.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_sub_agent_that_outlives_the_parent_turn_is_waited_for_and_marked() {
    let env = world();
    let mock = MockResponses::start(vec![spawn_agent(), Reply::text("MAIN-DONE")]).await;
    mock.answer_subagents(vec![
        Reply::Shell("echo sub > sub.txt".into()),
        Reply::Delayed(
            Duration::from_millis(1500),
            Box::new(Reply::text("SUBAGENT-ANSWER three files")),
        ),
    ]);
    let mut s = env.sidecar();
    let out = s.run(run(&env, "sub", &mock)).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "MAIN-DONE", "{r}");

    let evs = out.marked();
    // The spawn is a tool call of the parent's own.
    let spawn: Vec<_> = evs
        .iter()
        .filter(|(t, _, d)| t == "agent.tool.requested" && d["name"] == "collab.spawnAgent")
        .collect();
    assert_eq!(spawn.len(), 1, "{evs:?}");
    assert_eq!(spawn[0].1, None);
    let call = spawn[0].2["toolCallId"].as_str().unwrap().to_string();
    assert_eq!(spawn[0].2["input"]["agentPath"], "/root/counter");

    let started = position(&evs, "agent.subagent.started");
    let (_, parent, data) = &evs[started];
    assert_eq!(parent.as_deref(), Some(call.as_str()));
    assert_eq!(data["parentToolCallId"], call.as_str());
    assert_eq!(data["description"], "/root/counter");
    let thread = data["subagentId"].as_str().unwrap().to_string();
    assert!(!thread.is_empty());

    let completed = position(&evs, "agent.subagent.completed");
    let (_, parent, data) = &evs[completed];
    assert_eq!(parent.as_deref(), Some(call.as_str()));
    assert_eq!(data["subagentId"], thread.as_str());
    assert_eq!(data["status"], "completed");
    // Its two model requests, not the parent's.
    assert_eq!(data["usage"]["inputTokens"], 2 * INPUT_TOKENS, "{data}");
    assert!(started < completed);

    // Inside the bracket: the sub-agent's command and answer, each with the spawning call.
    let inside: Vec<_> = evs
        .iter()
        .filter(|(_, p, _)| p.as_deref() == Some(call.as_str()))
        .map(|(t, _, d)| (t.as_str(), d))
        .collect();
    let command: Vec<_> = inside
        .iter()
        .filter(|(t, d)| *t == "agent.tool.completed" && d["name"] == "commandExecution")
        .collect();
    assert_eq!(command.len(), 1, "{inside:?}");
    assert_eq!(command[0].1["status"], "ok");
    let said = position(&evs, "agent.message");
    let messages: Vec<_> = evs
        .iter()
        .enumerate()
        .filter(|(_, (t, _, _))| t == "agent.message")
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    for (i, (_, parent, m)) in &messages {
        let sub = m["text"].as_str().unwrap().contains("SUBAGENT-ANSWER");
        assert_eq!(parent.is_some(), sub, "{m}");
        if sub {
            assert!(
                *i < completed,
                "the sub-agent's answer comes inside its bracket"
            );
        }
    }
    assert!(said < completed);
    // Nothing of the sub-agent in the streamed main output or the result.
    let streamed = out.streamed();
    assert!(!streamed.contains("SUBAGENT"), "{streamed}");
    assert!(!r["output"].as_str().unwrap().contains("SUBAGENT"));
    // The audit holds every call the task ran, the sub-agent's too (as on claude and antigravity).
    assert_eq!(
        out.tool_call_names(),
        vec!["collab.spawnAgent", "commandExecution"],
        "{r}"
    );

    // The task ended after the sub-agent's work, not with the parent's turn.
    assert_eq!(
        std::fs::read_to_string(env.work.join("sub.txt")).unwrap(),
        "sub\n"
    );
    let reqs = mock.requests();
    assert_eq!(reqs.iter().filter(|r| r.subagent).count(), 2);
    assert_eq!(reqs.iter().filter(|r| !r.subagent).count(), 2);
    assert_eq!(s.wait_exit().await, Some(0));
}

/// The parent waits (`collaboration.wait_agent`): the sub-agent ends inside the parent's turn,
/// its final answer goes to the parent's model, and still only as a sub-agent message to the host.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_parent_that_waits_gets_the_answer_and_the_host_sees_the_bracket() {
    let env = world();
    let mock = MockResponses::start(vec![
        spawn_agent(),
        Reply::NamespacedCall(
            "collaboration".into(),
            "wait_agent".into(),
            json!({"timeout_ms": 30000}),
        ),
        Reply::text("MAIN-DONE"),
    ])
    .await;
    mock.answer_subagents(vec![Reply::text("SUBAGENT-ANSWER three files")]);
    let mut s = env.sidecar();
    let out = s.run(run(&env, "wait", &mock)).await;
    assert_well_formed(&out.events);
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "MAIN-DONE", "{r}");

    let evs = out.marked();
    let completed = position(&evs, "agent.subagent.completed");
    let wait_done = evs
        .iter()
        .position(|(t, _, d)| t == "agent.tool.completed" && d["name"] == "collab.wait")
        .unwrap_or_else(|| panic!("{evs:?}"));
    assert!(completed < wait_done, "{evs:?}");
    let sub: Vec<_> = evs
        .iter()
        .filter(|(t, _, d)| {
            t == "agent.message" && d["text"].as_str().unwrap().contains("SUBAGENT-ANSWER")
        })
        .collect();
    assert_eq!(sub.len(), 1, "{evs:?}");
    assert_eq!(sub[0].1, evs[completed].1);
    // The parent's model got the sub-agent's final answer.
    let last = mock.requests().into_iter().rfind(|r| !r.subagent).unwrap();
    assert!(
        last.body["input"].to_string().contains("SUBAGENT-ANSWER"),
        "the parent's last request lacks the answer"
    );
    assert_eq!(s.wait_exit().await, Some(0));
}

/// A cancel while only a sub-agent still works (the parent's turn is over, the task waits):
/// the task ends cancelled at once, and the sub-agent's command does not outlive it.
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_cancel_while_waiting_for_a_sub_agent_ends_it() {
    let env = world();
    let marker = "sleep 27.1828";
    let mock = MockResponses::start(vec![spawn_agent(), Reply::text("MAIN-DONE")]).await;
    mock.answer_subagents(vec![Reply::Shell(marker.into()), Reply::text("late")]);
    let mut s = env.sidecar();
    let id = s.request("run", run(&env, "cancel-sub", &mock)).await;
    let (mut main_done, mut sub_running) = (false, false);
    while !(main_done && sub_running) {
        let m = s.next().await.expect("sidecar running");
        let p = &m["params"];
        main_done |= p["type"] == "agent.message" && p["data"]["text"] == "MAIN-DONE";
        sub_running |= p["type"] == "agent.tool.requested" && !p["parentToolCallId"].is_null();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !support::pids_matching(marker).is_empty(),
        "the sub-agent's command runs"
    );
    let began = std::time::Instant::now();
    let c = s.call("cancel", json!({ "taskId": "cancel-sub" })).await;
    assert_eq!(c["result"]["state"], "cancelling");
    let r = s.response(&id).await;
    assert_eq!(r["result"]["finishReason"], "cancelled", "{r}");
    assert_eq!(r["result"]["cancel"], "forced", "{r}");
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(support::wait_gone(marker, 5).await, Vec::<i32>::new());
    assert_eq!(s.wait_exit().await, Some(0));
}

/// The model's hosted web search (`web_search_call`): codex reports it as a `webSearch` item,
/// and `agent.tool.completed` carries what it searched (`results` stays null: codex fills it only
/// for its standalone search).
#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn a_hosted_web_search_completes_with_what_it_searched() {
    let env = world();
    let mock = MockResponses::start(vec![Reply::WebSearch(
        json!({"type": "search", "query": "rust serde derive"}),
        "Found it.".into(),
    )])
    .await;
    let mut s = env.sidecar();
    let out = s.run(run(&env, "search", &mock)).await;
    let r = out.result();
    assert_eq!(r["finishReason"], "completed", "{r}");
    assert_eq!(r["output"], "Found it.", "{r}");
    let requested = out.of_type("agent.tool.requested");
    let done = out.of_type("agent.tool.completed");
    assert_eq!(requested.len(), 1, "{:?}", out.types());
    assert_eq!(done.len(), 1, "{:?}", out.types());
    assert_eq!(requested[0]["name"], "webSearch");
    // Codex starts the item before it knows the query (`action: {type: other}`, `query: ""`):
    // the completion is where the search shows.
    assert_eq!(
        requested[0]["input"]["action"]["type"], "other",
        "{}",
        requested[0]
    );
    assert_eq!(done[0]["name"], "webSearch");
    assert_eq!(done[0]["status"], "ok");
    assert_eq!(
        done[0]["output"]["query"], "rust serde derive",
        "{}",
        done[0]
    );
    assert_eq!(done[0]["output"]["action"]["type"], "search", "{}", done[0]);
    assert_eq!(done[0]["output"]["action"]["query"], "rust serde derive");
    assert!(done[0]["output"].get("results").is_none(), "{}", done[0]);
    assert_eq!(s.wait_exit().await, Some(0));
}
