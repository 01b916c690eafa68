//! One test's world for the claude runtime: the pinned Claude Code CLI, a mock Messages API
//! (mock_claude.rs), a private HOME/CLAUDE_CONFIG_DIR and a working directory. The sidecar gets
//! a dummy key and the mock's URL; ambient credentials and cloud switches are removed, and
//! non-essential traffic, telemetry, error reporting and auto-update are off, so nothing leaves
//! 127.0.0.1.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tokio::process::Command;

use super::mock_claude::{MockClaude, Reply};
use super::Sidecar;

/// Variables that would point the CLI at a real account or another API, or change its retries.
const AMBIENT: [&str; 5] = [
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_MAX_RETRIES",
];

pub struct World {
    pub dir: tempfile::TempDir,
    pub mock: MockClaude,
    /// The pinned CLI (`ARK_TEST_CLAUDE`).
    pub claude: PathBuf,
}

impl World {
    pub async fn new(script: Vec<Reply>) -> World {
        let claude = super::vendor("ARK_TEST_CLAUDE");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.claude")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        World {
            dir,
            mock: MockClaude::start(script).await,
            claude,
        }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn sidecar(&self) -> Sidecar {
        self.sidecar_with(&self.claude, &[])
    }

    /// The pinned CLI with `env` on top of the world's environment.
    pub fn sidecar_env(&self, env: &[(&str, &str)]) -> Sidecar {
        self.sidecar_with(&self.claude, env)
    }

    /// The sidecar, configured as a test user would configure the CLI: through the environment.
    /// `claude` replaces the pinned CLI (a wrapper, a fake); in `env` an empty value removes the
    /// variable.
    pub fn sidecar_with(&self, claude: &Path, env: &[(&str, &str)]) -> Sidecar {
        let claude = claude.display().to_string();
        Sidecar::spawn_with(&["--claude-path", &claude], |cmd| {
            self.configure(cmd);
            for (k, v) in env {
                if v.is_empty() {
                    cmd.env_remove(k);
                } else {
                    cmd.env(k, v);
                }
            }
        })
    }

    /// The world's environment and working directory on `cmd`.
    pub fn configure(&self, cmd: &mut Command) {
        for var in AMBIENT {
            cmd.env_remove(var);
        }
        cmd.envs(self.env_vars()).current_dir(self.work());
    }

    /// What the CLI's environment sets: the mock, a dummy key, the private HOME and config dir,
    /// and no traffic beyond the mock (also for tests that hand it to the runtime as options).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let home = self.home();
        vec![
            ("ANTHROPIC_BASE_URL", self.mock.url.clone()),
            ("ANTHROPIC_API_KEY", "dummy-test-key-0123456789".into()),
            ("HOME", home.display().to_string()),
            (
                "CLAUDE_CONFIG_DIR",
                home.join(".claude").display().to_string(),
            ),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
        ]
    }

    /// `run` params for `task`, in the world's working directory unless the task names one.
    pub fn run_params(&self, task_id: &str, task: Value) -> Value {
        let mut task = task;
        if task.get("workingDirectory").is_none() {
            task["workingDirectory"] = json!(self.work());
        }
        json!({ "taskId": task_id, "runtime": "claude", "task": task })
    }

    /// `run` params for a task that is only `goal`.
    pub fn goal(&self, task_id: &str, goal: &str) -> Value {
        self.run_params(task_id, json!({ "goal": goal }))
    }
}
