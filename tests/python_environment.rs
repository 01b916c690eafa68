//! The sidecar installed by the wheel into a Python environment (`<prefix>/bin`) uses what the
//! extras put in that same environment:
//! - `[claude]`: the claude-agent-sdk wheel bundles Claude Code at
//!   `site-packages/claude_agent_sdk/_bundled/claude`, used when no `claude` is on PATH and named
//!   in `diagnose`;
//! - `[antigravity]`: google-antigravity is installed for the environment's `python3`, which the
//!   antigravity runtime uses before any `python3` on PATH.
//!
//! The environment is laid out as pip lays out a venv, with the real binary (hard-linked: the
//! sidecar finds its environment from its own path), a fake `claude`, and a link to a real Python.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_agent-runtime-kit");

fn environment(claude_version: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let env = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let bin = env.path().join("bin/agent-runtime-kit");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    if std::fs::hard_link(BIN, &bin).is_err() {
        std::fs::copy(BIN, &bin).unwrap();
    }
    let claude = env
        .path()
        .join("lib/python3.11/site-packages/claude_agent_sdk/_bundled/claude");
    std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
    std::fs::write(
        &claude,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  --version) echo '{claude_version} (Claude Code)' ;;\n  \
             auth) echo '{{\"loggedIn\":true,\"authMethod\":\"test\"}}' ;;\nesac\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    (env, bin, claude)
}

fn diagnose_claude(bin: &Path) -> (Option<i32>, Value) {
    diagnose(bin, "claude")
}

fn diagnose(bin: &Path, runtime: &str) -> (Option<i32>, Value) {
    let out = Command::new(bin)
        .args(["diagnose", "--runtime", runtime, "--json"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AGENT_RUNTIME_KIT_LOG", "warn")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code(), json["runtimes"][0].clone())
}

#[test]
fn the_sdk_s_bundled_claude_is_used_when_none_is_on_path() {
    let (_env, bin, claude) = environment("2.1.332");
    let (code, d) = diagnose_claude(&bin);
    assert_eq!(code, Some(0), "{d}");
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(d["binary"]["path"], claude.display().to_string());
    assert_eq!(d["binary"]["version"], "2.1.332 (Claude Code)");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("bundled with the claude-agent-sdk"),
        "{message}"
    );
    assert!(message.contains("its version is supported"), "{message}");
}

#[test]
fn a_bundled_claude_too_old_is_reported_with_the_pip_upgrade() {
    let (_env, bin, _claude) = environment("2.0.9");
    let (code, d) = diagnose_claude(&bin);
    assert_eq!(code, Some(1), "{d}");
    assert_eq!(d["status"], "unsupportedVersion", "{d}");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("its version is not supported"),
        "{d}"
    );
    assert!(
        d["remedy"]
            .as_str()
            .unwrap()
            .contains("pip install --upgrade claude-agent-sdk"),
        "{d}"
    );
}

#[test]
fn without_the_sdk_claude_is_missing_as_before() {
    let (env, bin, _claude) = environment("2.1.332");
    std::fs::remove_dir_all(env.path().join("lib")).unwrap();
    let (code, d) = diagnose_claude(&bin);
    assert_eq!(code, Some(1), "{d}");
    assert_eq!(d["status"], "missingBinary", "{d}");
}

#[test]
fn antigravity_uses_the_environment_s_python_before_path() {
    let (env, bin, _claude) = environment("2.1.332");
    let python = env.path().join("bin/python3");
    let real = which_python();
    std::os::unix::fs::symlink(&real, &python).unwrap();
    let (_code, d) = diagnose(&bin, "antigravity");
    // Whatever that Python has installed, it is the one diagnosed.
    assert_eq!(d["binary"]["path"], python.display().to_string(), "{d}");
}

fn which_python() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
