//! One test's world for the antigravity runtime: the pinned google-antigravity SDK's Python, a
//! mock Gemini API (mock_gemini.rs) reached through GOOGLE_GEMINI_BASE_URL, a private directory
//! (working dir, XDG state and cache) and a running sidecar pointed at both. Ambient Google
//! credentials, Vertex/enterprise switches and a harness override are removed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::mock_gemini::{MockGemini, Reply};
use super::sidecar::{assert_well_formed, RunOutcome};
use super::Sidecar;

/// The model every task names unless it says otherwise.
pub const MODEL: &str = "gemini-mock-flash";

const AMBIENT: [&str; 6] = [
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "ANTIGRAVITY_HARNESS_PATH",
];

/// The model's script for "write hello.txt": a `write_to_file` of "hi from mock\n" to
/// `work`/hello.txt, then "Wrote it.".
pub fn writes_hello(work: &Path) -> Vec<Reply> {
    vec![
        Reply::call(
            "write_to_file",
            json!({"TargetFile": work.join("hello.txt").display().to_string(), "Overwrite": true,
                   "CodeContent": "hi from mock\n", "Description": "create hello",
                   "toolSummary": "File creation", "toolAction": "Creating file"}),
        ),
        Reply::text(&["Wrote it."]),
    ]
}

pub struct World {
    pub sidecar: Sidecar,
    pub mock: MockGemini,
    pub dir: tempfile::TempDir,
}

impl World {
    pub async fn start(script: Vec<Reply>) -> World {
        Self::start_with(|_| script, |_| {}).await
    }

    /// A world whose script is made from the (canonical) working directory.
    pub async fn scripted(script: impl FnOnce(&Path) -> Vec<Reply>) -> World {
        Self::start_with(script, |_| {}).await
    }

    /// `script` gets the (canonical) working directory: tool calls need absolute paths.
    /// `configure` goes over the world's environment.
    pub async fn start_with(
        script: impl FnOnce(&Path) -> Vec<Reply>,
        configure: impl FnOnce(&mut tokio::process::Command),
    ) -> World {
        let python = super::vendor("ARK_TEST_ANTIGRAVITY_PYTHON");
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        let mock = MockGemini::start(script(&work.canonicalize().unwrap())).await;
        let root = dir.path().to_path_buf();
        let url = mock.url.clone();
        let sidecar = Sidecar::spawn_with(&[], |cmd| {
            cmd.env("AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON", &python)
                .env("GEMINI_API_KEY", "dummy-test-key-0123456789")
                .env("GOOGLE_GEMINI_BASE_URL", &url)
                .env("XDG_STATE_HOME", root.join("state"))
                .env("XDG_CACHE_HOME", root.join("cache"))
                .current_dir(root.join("work"));
            for var in AMBIENT {
                cmd.env_remove(var);
            }
            configure(cmd);
        });
        World { sidecar, mock, dir }
    }

    /// The working directory, canonical (what the bridge reports back).
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work").canonicalize().unwrap()
    }

    /// Where this world's bridge and harness live: their HOME is under it.
    pub fn marker(&self) -> String {
        self.dir.path().join("state").display().to_string()
    }

    /// `run` params with a fresh task id; the working directory and model unless `task` names them.
    pub fn params(&self, task: Value) -> Value {
        self.params_with(task, json!({}))
    }

    /// [`World::params`] with `extra` beside `task` (e.g. `options`).
    pub fn params_with(&self, task: Value, extra: Value) -> Value {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut task = task;
        let t = task.as_object_mut().unwrap();
        t.entry("workingDirectory")
            .or_insert(json!(self.work().display().to_string()));
        t.entry("model").or_insert(json!(MODEL));
        let id = format!(
            "agy-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut p = json!({ "taskId": id, "runtime": "antigravity", "task": task });
        for (k, v) in extra.as_object().into_iter().flatten() {
            p[k] = v.clone();
        }
        p
    }

    /// Runs `task` to its end; its events are well formed.
    pub async fn run(&mut self, task: Value) -> RunOutcome {
        let p = self.params(task);
        let out = self.sidecar.run(p).await;
        assert_well_formed(&out.events);
        out
    }

    /// Runs a task answering every `input/request` with `answer` (`None`: left unanswered) and
    /// denying every approval; `extra` goes beside `task`. Its events are well formed.
    pub async fn run_answering(
        &mut self,
        task: Value,
        extra: Value,
        answer: impl FnMut(&Value) -> Option<Value>,
    ) -> RunOutcome {
        let p = self.params_with(task, extra);
        let out = self
            .sidecar
            .run_answering(p, |_| Some(json!({"decision": "deny"})), answer)
            .await;
        let events: Vec<Value> = out
            .events
            .iter()
            .filter(|e| e["method"] == "event")
            .cloned()
            .collect();
        assert_well_formed(&events);
        out
    }
}
