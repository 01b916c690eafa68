//! Test support: a host that spawns the real binary and talks to it over stdin/stdout.
//! Mock model servers for the vendor runtimes live beside this file, each with the one test world
//! (vendor binary, private dirs, environment) that the vendor's end-to-end tests share.
#![allow(dead_code)]

pub mod antigravity;
pub mod claude;
pub mod codex;
pub mod fakes;
pub mod mock_claude;
pub mod mock_codex;
pub mod mock_gemini;
pub mod sidecar;

pub use sidecar::Sidecar;

/// Path of a pinned vendor binary from `tests/vendors/install.sh`. Every test that calls this is
/// `#[ignore = "needs pinned vendors (bash tests/vendors/install.sh)"]`: a plain `cargo test` lists
/// it as ignored, and `tests/run.sh` (CI) runs it with `--include-ignored` after installing the
/// vendors. A test that runs asked for the vendors, so without them it fails; it never passes unrun.
pub fn vendor(var: &str) -> std::path::PathBuf {
    match std::env::var_os(var) {
        Some(p) if std::path::Path::new(&p).exists() => p.into(),
        Some(p) => panic!(
            "{var}={} does not exist; install the pinned vendors: \
             eval \"$(bash tests/vendors/install.sh)\"",
            std::path::Path::new(&p).display()
        ),
        None => panic!(
            "{var} is not set: this test needs the pinned vendors; run \
             eval \"$(bash tests/vendors/install.sh)\" first (or bash tests/run.sh)"
        ),
    }
}

/// Every live pid whose command line contains `needle` (for "no process left behind" checks).
pub fn pids_matching(needle: &str) -> Vec<i32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        if stat
            .rsplit(')')
            .next()
            .map(|r| r.trim_start().starts_with('Z'))
            == Some(true)
        {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// Waits up to `secs` for no live process to match `needle`; returns the survivors.
pub async fn wait_gone(needle: &str, secs: u64) -> Vec<i32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let left = pids_matching(needle);
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every live pid whose command line contains `needle` and whose environment contains
/// `env_needle` (tells one test's vendor processes from a parallel test's).
pub fn pids_matching_env(needle: &str, env_needle: &str) -> Vec<i32> {
    pids_matching(needle)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|e| String::from_utf8_lossy(&e).contains(env_needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to `secs` for no process to match [`pids_matching_env`]; returns the survivors.
pub async fn wait_gone_env(needle: &str, env_needle: &str, secs: u64) -> Vec<i32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let left = pids_matching_env(needle, env_needle);
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
