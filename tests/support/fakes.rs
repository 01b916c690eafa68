//! A private world for tests with fake vendors (tests/fakes/vendor.py): the fake linked as
//! `fake-claude` and `fake-codex`, a state directory where each fake notes its pid and its
//! grandchildren's, and helpers to check that none of them survives.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Sidecar;

pub const FAKE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fakes/vendor.py");

pub struct Fakes {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub claude: PathBuf,
    pub codex: PathBuf,
    pub state: PathBuf,
    pub work: PathBuf,
}

impl Fakes {
    pub fn new() -> Fakes {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for d in ["state", "work", "home", "codex-home"] {
            std::fs::create_dir(root.join(d)).unwrap();
        }
        let claude = root.join("fake-claude");
        let codex = root.join("fake-codex");
        std::os::unix::fs::symlink(FAKE, &claude).unwrap();
        std::os::unix::fs::symlink(FAKE, &codex).unwrap();
        Fakes {
            state: root.join("state"),
            work: root.join("work"),
            claude,
            codex,
            root,
            dir,
        }
    }

    pub fn sidecar(&self) -> Sidecar {
        self.sidecar_with(&[], |_| {})
    }

    /// The sidecar with both fakes configured (plus `args`), a private HOME and FAKE_STATE.
    pub fn sidecar_with(
        &self,
        args: &[&str],
        configure: impl FnOnce(&mut tokio::process::Command),
    ) -> Sidecar {
        let mut all = vec![
            "--claude-path",
            self.claude.to_str().unwrap(),
            "--codex-path",
            self.codex.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let root = self.root.clone();
        let state = self.state.clone();
        Sidecar::spawn_with(&all, move |cmd| {
            cmd.env("FAKE_STATE", &state)
                .env("HOME", root.join("home"))
                .env("CODEX_HOME", root.join("codex-home"))
                .env("OPENAI_API_KEY", "fake-openai-key-for-tests")
                .env_remove("CODEX_API_KEY")
                .env_remove("FAKE_MODE")
                .current_dir(root.join("work"));
            configure(cmd);
        })
    }

    /// `run` params for `runtime` ("claude" or "codex") with the fake in `mode`.
    pub fn run(&self, runtime: &str, task_id: &str, mode: &str, task: Value) -> Value {
        self.run_env(runtime, task_id, json!({ "FAKE_MODE": mode }), task)
    }

    /// The fake's `FAKE_STATE` goes in `env`: vendors see only allowlisted variables of the
    /// sidecar's environment.
    pub fn run_env(&self, runtime: &str, task_id: &str, mut env: Value, task: Value) -> Value {
        if let Value::Object(e) = &mut env {
            e.entry("FAKE_STATE")
                .or_insert_with(|| json!(self.state.to_str().unwrap()));
        }
        let mut t = json!({
            "goal": format!("task {task_id}"),
            "workingDirectory": self.work,
            "runtimeOptions": { runtime: { "env": env } },
        });
        if let (Value::Object(t), Value::Object(extra)) = (&mut t, task) {
            for (k, v) in extra {
                t.insert(k, v);
            }
        }
        json!({ "taskId": task_id, "runtime": runtime, "task": t })
    }

    /// Every pid the fakes noted (themselves and their grandchildren).
    pub fn noted_pids(&self) -> Vec<i32> {
        let mut out = vec![];
        for e in std::fs::read_dir(&self.state).unwrap().flatten() {
            if e.path().extension().is_none_or(|x| x != "pids") {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
        out
    }

    /// Waits up to `secs` for every noted pid to be gone; returns the survivors' command lines.
    pub async fn survivors(&self, secs: u64) -> Vec<String> {
        survivors_of(|| self.noted_pids(), secs).await
    }

    /// Asserts that no process the fakes noted is alive (after a short grace).
    pub async fn assert_nothing_left(&self) {
        let left = self.survivors(5).await;
        assert!(left.is_empty(), "processes left behind: {left:?}");
    }
}

impl Default for Fakes {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `pid` is alive (and not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Live descendants of `pid` (walking /proc parent links).
pub fn descendants(pid: i32) -> Vec<i32> {
    let table: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 2..];
            let mut f = rest.split(' ');
            if f.next()? == "Z" {
                return None;
            }
            Some((pid, f.next()?.parse().ok()?))
        })
        .collect();
    let mut out = vec![];
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(c, parent) in &table {
            if parent == p && !out.contains(&c) {
                out.push(c);
                frontier.push(c);
            }
        }
    }
    out
}

/// Peak resident set size of `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// Runs a healthy task on `runtime`: the sidecar still serves after whatever happened before.
pub async fn assert_serves(s: &mut Sidecar, fakes: &Fakes, runtime: &str, task_id: &str) {
    let out = s.run(fakes.run(runtime, task_id, "ok", json!({}))).await;
    super::sidecar::assert_well_formed(&out.events);
    assert_eq!(
        out.result()["finishReason"],
        "completed",
        "a healthy task after the fault: {}",
        out.response
    );
}

/// Waits up to `secs` for every pid `pids` lists (asked again each time) to be gone; returns the
/// survivors' command lines.
pub async fn survivors_of(pids: impl Fn() -> Vec<i32>, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left: Vec<String> = pids()
            .into_iter()
            .filter(|p| alive(*p))
            .map(|p| format!("{p}: {}", cmdline(p)))
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
