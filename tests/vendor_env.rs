//! Vendor environments by allowlist, through the real binary: a sidecar started with other
//! programs' credentials in its environment (`OPENAI_API_KEY` for a Claude task,
//! `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`, `DATABASE_URL`, `NODE_OPTIONS`) runs fake vendors that
//! dump the environment they were given; each gets the basics, its own credentials, what the task
//! names in `passEnv` and `env`, and nothing else. The probes a diagnosis runs too.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use support::fakes::Fakes;

/// What the sidecar's environment holds that no vendor should see unless named.
const FOREIGN: &[(&str, &str)] = &[
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-planted"),
    ("GITHUB_TOKEN", "ghp_plantedplantedplanted"),
    ("DATABASE_URL", "postgres://u:p@db/planted"),
    ("NODE_OPTIONS", "--require /tmp/planted.js"),
    ("GEMINI_API_KEY", "gemini-planted"),
];

fn configure(cmd: &mut tokio::process::Command) {
    for (k, v) in FOREIGN {
        cmd.env(k, v);
    }
    cmd.env("ANTHROPIC_API_KEY", "anthropic-own-key")
        .env("ARK_HOST_NAMED", "named-by-the-host")
        .env("LC_ALL", "C.UTF-8");
}

/// Every environment the fakes dumped into `dir` (`<pid>.env`, JSON).
fn dumped(dir: &Path) -> Vec<BTreeMap<String, String>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "env"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn vendors_get_only_their_allowlisted_environment() {
    let f = Fakes::new();
    let mut s = f.sidecar_with(&[], configure);
    for runtime in ["claude", "codex"] {
        let mut params = f.run_env(runtime, runtime, json!({ "FAKE_MODE": "ok" }), json!({}));
        params["task"]["runtimeOptions"][runtime]["passEnv"] =
            json!(["ARK_HOST_NAMED", "ARK_UNSET"]);
        params["task"]["runtimeOptions"][runtime]["env"]["ARK_TASK_VALUE"] = json!("from-the-task");
        let out = s.run(params).await;
        assert_eq!(
            out.result()["finishReason"],
            "completed",
            "{}",
            out.result()
        );
    }
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));

    // The runs, and the probes before them (`--version`, `auth status`): each a dump.
    let envs = dumped(&f.state);
    let (claude, codex): (Vec<_>, Vec<_>) = envs
        .iter()
        .partition(|e| e.contains_key("ANTHROPIC_API_KEY"));
    assert!(!claude.is_empty() && !codex.is_empty(), "{envs:?}");
    for env in claude.iter().chain(&codex) {
        for (k, _) in FOREIGN {
            assert!(!env.contains_key(*k), "{k} reached a vendor: {env:?}");
        }
        assert!(env.contains_key("PATH") && env.contains_key("HOME"));
        assert_eq!(env["LC_ALL"], "C.UTF-8");
    }
    // What ran for the task (not the task-independent `--version` probe) got what it named.
    let for_task = |envs: &[&BTreeMap<String, String>]| {
        let named: Vec<_> = envs
            .iter()
            .filter(|e| {
                e.get("ARK_TASK_VALUE")
                    .is_some_and(|v| v == "from-the-task")
            })
            .copied()
            .collect();
        assert!(!named.is_empty(), "{envs:?}");
        for env in &named {
            assert_eq!(env["ARK_HOST_NAMED"], "named-by-the-host", "passEnv");
            assert!(!env.contains_key("ARK_UNSET"));
        }
        named[0].clone()
    };
    let (claude, codex) = (&for_task(&claude), &for_task(&codex));
    // Each its own key, not the other's.
    assert!(!claude.contains_key("OPENAI_API_KEY"), "{claude:?}");
    assert_eq!(codex["OPENAI_API_KEY"], "fake-openai-key-for-tests");
    assert!(codex.contains_key("CODEX_HOME"));
    // Anything else is the basics, the vendor's own prefixes, or the sidecar's process marker.
    let expected = |k: &str| {
        [
            "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
        ]
        .contains(&k)
            || ["LC_", "XDG_", "ANTHROPIC_", "CLAUDE_CODE_", "OPENAI_", "CODEX_", "FAKE_"]
                .iter()
                .any(|p| k.starts_with(p))
            || k.to_ascii_lowercase().ends_with("_proxy")
            || ["ARK_HOST_NAMED", "ARK_TASK_VALUE", "AGENT_RUNTIME_KIT_VENDOR"].contains(&k)
            || k == "IS_SANDBOX"
            // Set by a pyenv `python3` shim on the way to the fake, not by the sidecar.
            || ["PWD", "SHLVL"].contains(&k)
            || k.trim_start_matches('_').starts_with("PYENV")
    };
    for env in [claude, codex] {
        let extra: Vec<_> = env.keys().filter(|k| !expected(k)).collect();
        assert!(
            extra.is_empty(),
            "unexpected variables reached a vendor: {extra:?}"
        );
    }
}

/// A program that says it is version `version` and writes its environment to `<dir>/<name>.env`.
fn env_dumping_program(dir: &Path, name: &str, version: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let out = dir.join(format!("{name}.env"));
    std::fs::write(
        &path,
        format!("#!/bin/sh\nenv > '{}'\necho '{version}'\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn probes_get_the_same_allowlisted_environment() {
    let f = Fakes::new();
    let claude = env_dumping_program(&f.root, "probe-claude", "2.1.400 (Claude Code)");
    let python = env_dumping_program(&f.root, "probe-python", "{}");
    let mut s = support::Sidecar::spawn_with(
        &[
            "--claude-path",
            claude.to_str().unwrap(),
            "--antigravity-python",
            python.to_str().unwrap(),
        ],
        |cmd| {
            configure(cmd);
            cmd.env("HOME", f.root.join("home"))
                .env("XDG_CACHE_HOME", f.root.join("cache"))
                .env("XDG_STATE_HOME", f.root.join("state-home"));
        },
    );
    for runtime in ["claude", "antigravity"] {
        let r = s.call("diagnose", json!({ "runtime": runtime })).await;
        assert!(r["result"].is_object(), "{r}");
    }
    s.close_stdin();
    assert_eq!(s.wait_exit().await, Some(0));
    for (name, own) in [
        ("probe-claude", "ANTHROPIC_API_KEY"),
        ("probe-python", "PATH"),
    ] {
        let text = std::fs::read_to_string(f.root.join(format!("{name}.env")))
            .unwrap_or_else(|e| panic!("{name} did not run: {e}"));
        let env: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        for (k, _) in FOREIGN {
            if !(name == "probe-python" && *k == "GEMINI_API_KEY") {
                assert!(!env.contains_key(k), "{k} reached {name}: {text}");
            }
        }
        assert!(env.contains_key(own), "{own} missing for {name}: {text}");
        assert!(!env.contains_key("ARK_HOST_NAMED"), "{name}: {text}");
    }
}
