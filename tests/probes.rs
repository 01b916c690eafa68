//! Diagnose probes (`--version`, `auth status`, `login status`) against fake vendors that hang or
//! flood: the sidecar answers within the probe deadline with a clear diagnosis, keeps its memory,
//! and leaves no probe process behind, even when it is SIGKILLed in the middle of one.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::fakes::{alive, peak_rss_kib, survivors_of};
use support::Sidecar;

/// The probe deadline (process::PROBE_TIMEOUT), as diagnoses state it.
const PROBE_DEADLINE: &str = "10 s";

/// A shell-script vendor in `dir`: `--version` prints `version`; every other command notes its
/// pid and its grandchildren's in `dir/pids` and hangs (a grandchild in its own session, out of
/// the process group, and one in the group).
fn hanging_vendor(dir: &Path, name: &str, version: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let pids = dir.join("pids");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\n\
         echo $$ >> '{pids}'\n\
         setsid sleep 1000.4711 & echo $! >> '{pids}'\n\
         sleep 1000.4712 & echo $! >> '{pids}'\n\
         wait\n",
        pids = pids.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn noted(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Waits up to `secs` for every noted pid to be gone; returns the survivors.
async fn survivors(dir: &Path, secs: u64) -> Vec<String> {
    survivors_of(|| noted(dir), secs).await
}

fn claude_sidecar(claude: &Path, dir: &Path) -> Sidecar {
    Sidecar::spawn_with(&["--claude-path", claude.to_str().unwrap()], |cmd| {
        cmd.env("HOME", dir).current_dir(dir);
    })
}

fn diagnosis(reply: &Value) -> &Value {
    &reply["result"]["runtimes"][0]
}

#[tokio::test]
async fn a_hanging_auth_status_becomes_a_clear_diagnosis_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let claude = hanging_vendor(dir.path(), "claude", "2.1.332 (Claude Code)");
    let mut s = claude_sidecar(&claude, dir.path());
    let began = Instant::now();
    let reply = s.call("diagnose", json!({"runtime": "claude"})).await;
    let took = began.elapsed();
    let d = diagnosis(&reply);
    assert_eq!(d["status"], "error", "{reply}");
    assert_eq!(
        d["message"],
        format!("`claude auth status` did not answer within {PROBE_DEADLINE}."),
        "{d}"
    );
    assert!(
        d["remedy"]
            .as_str()
            .unwrap()
            .contains("Run `claude auth status` in a terminal"),
        "{d}"
    );
    assert_eq!(d["binary"]["version"], "2.1.332 (Claude Code)", "{d}");
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(30),
        "answered at the deadline, not before nor long after: {took:?}"
    );
    // The hung probe and its grandchildren were killed at the deadline, not left behind.
    assert_eq!(noted(dir.path()).len(), 3, "the fake noted its tree");
    let left = survivors(dir.path(), 5).await;
    assert!(left.is_empty(), "probe processes left behind: {left:?}");
    // And a run is refused with that diagnosis rather than started against a hanging CLI.
    let refused = s
        .call(
            "run",
            json!({"taskId": "t", "runtime": "claude", "task": {"goal": "x", "workingDirectory": dir.path()}}),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32011, "{refused}");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
    assert!(survivors(dir.path(), 5).await.is_empty());
}

#[tokio::test]
async fn a_probe_dies_with_a_sigkilled_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let claude = hanging_vendor(dir.path(), "claude", "2.1.332 (Claude Code)");
    let mut s = claude_sidecar(&claude, dir.path());
    s.request("diagnose", json!({"runtime": "claude"})).await;
    // Wait until `claude auth status` and its grandchildren are up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while noted(dir.path()).len() < 3 {
        assert!(Instant::now() < deadline, "the probe started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let tree = noted(dir.path());
    assert!(tree.iter().all(|p| alive(*p)), "the probe hangs: {tree:?}");
    s.child.kill().await.unwrap(); // SIGKILL: no code in the sidecar runs
    let left = survivors(dir.path(), 5).await;
    assert!(
        left.is_empty(),
        "the probe survived the sidecar's SIGKILL: {left:?}"
    );
}

#[tokio::test]
async fn a_flood_of_version_output_is_cut_at_the_cap_and_does_not_grow_the_sidecar() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    // 400 MB of version lines, then a logged-in status.
    std::fs::write(
        &claude,
        "#!/bin/sh\n\
         if [ \"$1\" = --version ]; then yes '2.1.332 (Claude Code)' | head -c 400000000; exit 0; fi\n\
         echo '{\"loggedIn\": true, \"authMethod\": \"fake\", \"apiProvider\": \"firstParty\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut s = claude_sidecar(&claude, dir.path());
    let began = Instant::now();
    let reply = s.call("diagnose", json!({"runtime": "claude"})).await;
    let took = began.elapsed();
    let d = diagnosis(&reply);
    let peak = peak_rss_kib(s.child.id().unwrap());
    eprintln!("peak RSS after a 400 MB --version: {peak} KiB");
    assert!(
        peak < 64 * 1024,
        "peak RSS {peak} KiB after a 400 MB --version (read: 1 MiB at most)"
    );
    // A version line is a few bytes: one that goes on past the cap is a broken binary, killed at
    // the cap rather than read to its end.
    assert_eq!(d["status"], "error", "{reply}");
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.starts_with("`claude --version` failed (killed: more than 1048576 bytes of output)"),
        "{msg}"
    );
    assert!(
        took < Duration::from_secs(5),
        "killed at the cap, not read to its end: {took:?}"
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn a_hanging_codex_login_status_becomes_a_clear_diagnosis() {
    let dir = tempfile::tempdir().unwrap();
    let codex = hanging_vendor(dir.path(), "codex", "codex-cli 0.171.0");
    std::fs::create_dir(dir.path().join("codex-home")).unwrap();
    let mut s = Sidecar::spawn_with(&["--codex-path", codex.to_str().unwrap()], |cmd| {
        // No key anywhere: codex's own login is asked.
        cmd.env("HOME", dir.path())
            .env("CODEX_HOME", dir.path().join("codex-home"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .current_dir(dir.path());
    });
    let reply = s.call("diagnose", json!({"runtime": "codex"})).await;
    let d = diagnosis(&reply);
    assert_eq!(d["status"], "error", "{reply}");
    assert_eq!(
        d["message"],
        format!("`codex login status` did not answer within {PROBE_DEADLINE}."),
        "{d}"
    );
    assert!(d["remedy"].as_str().unwrap().contains("codex login status"));
    let left = survivors(dir.path(), 5).await;
    assert!(left.is_empty(), "probe processes left behind: {left:?}");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}

#[tokio::test]
async fn a_missing_or_silent_binary_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-claude");
    let mut s = claude_sidecar(&missing, dir.path());
    let reply = s.call("diagnose", json!({"runtime": "claude"})).await;
    let d = diagnosis(&reply);
    assert_eq!(d["status"], "missingBinary", "{reply}");
    assert!(
        d["message"].as_str().unwrap().contains("does not exist"),
        "{d}"
    );
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));

    // A `--version` that names no version.
    let odd = hanging_vendor(dir.path(), "claude-odd", "Claude Code (nightly)");
    let mut s = claude_sidecar(&odd, dir.path());
    let reply = s.call("diagnose", json!({"runtime": "claude"})).await;
    let d = diagnosis(&reply);
    assert_eq!(d["status"], "unsupportedVersion", "{reply}");
    assert!(d["message"].as_str().unwrap().contains("names none"), "{d}");
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
}
