//! One test's world for the codex runtime: the pinned `codex app-server`, a private CODEX_HOME and
//! HOME and a working directory. Runs go to a mock Responses API (mock_codex.rs) as a custom model
//! provider with a dummy key from OPENAI_API_KEY; ambient CODEX_API_KEY and
//! AGENT_RUNTIME_KIT_CODEX_PATH are removed.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::mock_codex::MockResponses;
use super::Sidecar;

pub struct World {
    _dir: tempfile::TempDir,
    /// The canonical temporary root: `home`, `codex-home` and `work` are under it.
    pub root: PathBuf,
    pub work: PathBuf,
    /// The pinned binary (`ARK_TEST_CODEX`).
    pub codex: PathBuf,
}

impl World {
    pub fn new() -> World {
        let codex = super::vendor("ARK_TEST_CODEX");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for d in ["home", "codex-home", "work"] {
            std::fs::create_dir(root.join(d)).unwrap();
        }
        World {
            work: root.join("work"),
            root,
            _dir: dir,
            codex,
        }
    }

    /// The private CODEX_HOME (its path is in every codex process's environment).
    pub fn codex_home(&self) -> String {
        self.root.join("codex-home").display().to_string()
    }

    pub fn sidecar(&self) -> Sidecar {
        self.sidecar_with(&self.codex, "dummy")
    }

    /// `codex` replaces the pinned binary (a fake, a missing path); `key` is OPENAI_API_KEY.
    pub fn sidecar_with(&self, codex: &Path, key: &str) -> Sidecar {
        Sidecar::spawn_with(&["--codex-path", codex.to_str().unwrap()], |cmd| {
            cmd.envs(self.env_vars(key))
                .env_remove("CODEX_API_KEY")
                .env_remove("AGENT_RUNTIME_KIT_CODEX_PATH");
        })
    }

    /// What codex's environment sets: the private CODEX_HOME and HOME, and `key` as
    /// OPENAI_API_KEY (also for tests that hand it to the runtime as options).
    pub fn env_vars(&self, key: &str) -> [(&'static str, String); 3] {
        [
            ("CODEX_HOME", self.codex_home()),
            ("HOME", self.root.join("home").display().to_string()),
            ("OPENAI_API_KEY", key.to_string()),
        ]
    }

    /// A run request against `mock` ("say hello" in the working directory, model gpt-5.5, 60 s,
    /// no retries), with `task` merged over it.
    pub fn run(&self, id: &str, mock: &MockResponses, task: Value) -> Value {
        let mut t = json!({
            "goal": "say hello",
            "workingDirectory": self.work,
            "model": "gpt-5.5",
            "timeoutMs": 60000,
            "runtimeOptions": { "codex": { "provider": {
                "id": "mock",
                "baseUrl": mock.base_url,
                "envKey": "OPENAI_API_KEY",
                "requestMaxRetries": 0,
                "streamMaxRetries": 0,
            } } },
        });
        merge(&mut t, task);
        json!({ "taskId": id, "runtime": "codex", "task": t })
    }
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

/// `b` over `a`, objects merged key by key.
pub fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}
