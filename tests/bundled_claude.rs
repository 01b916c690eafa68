//! `pip install agent-runtime-kit[claude]`: the claude-agent-sdk wheel bundles Claude Code at
//! `site-packages/claude_agent_sdk/_bundled/claude`, and the sidecar installed into the same
//! environment (`<prefix>/bin`) uses it when no `claude` is on PATH, saying so in `diagnose`.
//! The environment is laid out as pip lays out a venv, with the real binary (hard-linked: the
//! sidecar finds its environment from its own path) and a fake `claude`.

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
    let out = Command::new(bin)
        .args(["diagnose", "--runtime", "claude", "--json"])
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
