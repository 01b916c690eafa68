//! The claude runtime's richer turn events end to end: the sidecar → the real pinned Claude Code
//! CLI → the mock Messages API (tests/support/mock_claude.rs). Thinking, retries, sub-agents.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use support::mock_claude::{Block, MockClaude, Reply};
use support::sidecar::assert_well_formed;
use support::Sidecar;

/// A mock API, a private HOME and a working directory (as tests/claude_runtime.rs sets them up).
struct World {
    dir: tempfile::TempDir,
    mock: MockClaude,
    claude: PathBuf,
}

impl World {
    async fn new(script: Vec<Reply>) -> World {
        let claude = support::vendor("ARK_TEST_CLAUDE");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.claude")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        World {
            dir,
            mock: MockClaude::start(script).await,
            claude,
        }
    }

    fn sidecar(&self, env: &[(&str, &str)]) -> Sidecar {
        let home = self.dir.path().join("home");
        let claude = self.claude.display().to_string();
        Sidecar::spawn_with(&["--claude-path", &claude], |cmd| {
            for var in [
                "ANTHROPIC_AUTH_TOKEN",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "CLAUDE_CODE_USE_BEDROCK",
                "CLAUDE_CODE_USE_VERTEX",
                "CLAUDE_CODE_MAX_RETRIES",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("ANTHROPIC_BASE_URL", &self.mock.url)
                .env("ANTHROPIC_API_KEY", "dummy-test-key-0123456789")
                .env("HOME", &home)
                .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
                .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
                .env("DISABLE_AUTOUPDATER", "1")
                .env("DISABLE_TELEMETRY", "1")
                .env("DISABLE_ERROR_REPORTING", "1")
                .current_dir(self.dir.path().join("work"));
            for (k, v) in env {
                cmd.env(k, v);
            }
        })
    }

    fn run_params(&self, task_id: &str, goal: &str) -> Value {
        json!({ "taskId": task_id, "runtime": "claude",
                "task": { "goal": goal, "workingDirectory": self.dir.path().join("work") } })
    }
}

#[tokio::test]
#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]
async fn capture_raw() {
    let w = World::new(vec![
        Reply::error(429, "rate_limit_error", "slow down"),
        Reply::Message {
            blocks: vec![
                Block::Thinking(vec!["Let me ".into(), "think.".into()]),
                Block::ToolUse {
                    id: "toolu_agent1".into(),
                    name: "Agent".into(),
                    input: json!({"description": "count files", "prompt": "Count the files", "subagent_type": "general-purpose"}),
                },
            ],
            stop_reason: "tool_use".into(),
            delay: Duration::ZERO,
        },
        Reply::text("sub-agent says three"),
    ])
    .await;
    let mut s = w.sidecar(&[("CLAUDE_CODE_MAX_RETRIES", "2")]);
    let mut params = w.run_params("cap", "use a sub-agent");
    params["options"] = json!({ "includeVendorEvents": true });
    let out = s.run(params).await;
    let dump = |name: &str, events: &[Value]| {
        let mut f = String::new();
        for e in events {
            if e["params"]["type"] == "agent.vendor.event" {
                f.push_str(
                    &json!({"dir": "<stdout", "msg": e["params"]["data"]["raw"]}).to_string(),
                );
                f.push('\n');
            }
        }
        std::fs::write(format!("/tmp/cap_{name}.jsonl"), f).unwrap();
    };
    dump("subagent", &out.events);
    let sid = out.result()["sessionId"].as_str().unwrap().to_string();
    w.mock
        .push(vec![Reply::text("Summary: the user asked to count files.")]);
    let mut params = w.run_params("cap2", "/compact");
    params["task"]["session"] = json!({"resume": sid});
    params["options"] = json!({ "includeVendorEvents": true });
    let out = s.run(params).await;
    dump("compact", &out.events);
    for e in &out.events {
        println!("EV {:.600}", e.to_string());
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for r in w.mock.requests() {
        let _ = r;
    }
}
