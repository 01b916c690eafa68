//! Finding the native codex binary and building its `app-server` command line and environment.
//!
//! The npm package's `codex` is a Node shim that spawns (or execs) the native binary; with it in
//! between, our signals reach Node, not codex. So a shim is resolved to the native binary of the
//! platform package it would have started.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::options::CodexOptions;
use crate::runtime::vendor_binary::find_program;

/// Flags on every run: no plugin marketplace, no remote plugins, no apps, no analytics, so that
/// nothing leaves the machine except the model requests (verified with strace on 0.171.0).
pub const OFFLINE_FLAGS: &[&str] = &[
    "--disable",
    "plugins",
    "--disable",
    "remote_plugin",
    "--disable",
    "apps",
    "-c",
    "analytics.enabled=false",
];

/// The codex binary to run: the configured path (`--codex-path`, `AGENT_RUNTIME_KIT_CODEX_PATH`)
/// or `codex` on PATH, resolved to the native binary when it is the npm shim.
pub fn resolve(configured: Option<&Path>) -> Option<PathBuf> {
    find_program(configured, "codex").ok().map(native)
}

/// `path`, or the native binary behind it when it is the npm shim.
pub fn native(path: PathBuf) -> PathBuf {
    native_behind_shim(&path).unwrap_or(path)
}

/// If `path` is the npm shim (`@openai/codex/bin/codex.js`, a script), the native binary of the
/// platform package beside it.
fn native_behind_shim(path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    let mut head = [0u8; 2];
    use std::io::Read;
    std::fs::File::open(&real)
        .ok()?
        .read_exact(&mut head)
        .ok()?;
    if &head != b"#!" {
        return None;
    }
    // <node_modules>/@openai/codex/bin/codex.js
    let pkg = real.parent()?.parent()?;
    let (plat, triple) = platform()?;
    let scoped = format!("codex-{plat}");
    let roots = [
        pkg.join("node_modules").join("@openai"),
        pkg.parent()?.to_path_buf(),
    ];
    roots
        .iter()
        .map(|r| {
            r.join(&scoped)
                .join("vendor")
                .join(triple)
                .join("bin")
                .join("codex")
        })
        .find(|p| p.is_file())
}

fn platform() -> Option<(&'static str, &'static str)> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some(("linux-x64", "x86_64-unknown-linux-musl")),
        ("linux", "aarch64") => Some(("linux-arm64", "aarch64-unknown-linux-musl")),
        ("macos", "x86_64") => Some(("darwin-x64", "x86_64-apple-darwin")),
        ("macos", "aarch64") => Some(("darwin-arm64", "aarch64-apple-darwin")),
        _ => None,
    }
}

/// `codex app-server` over stdio with the offline flags and the task's overrides, in codex's
/// allowlisted environment (OPENAI_API_KEY is how users configure codex) plus `passEnv` and
/// `runtimeOptions.codex.env`.
pub fn app_server(binary: &Path, opts: &CodexOptions, cwd: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("app-server").args(OFFLINE_FLAGS);
    for (k, v) in opts.overrides() {
        cmd.arg("-c").arg(format!("{k}={v}"));
    }
    super::env::vendor_env(opts).apply(&mut cmd);
    cmd.current_dir(cwd);
    cmd
}

/// The value of environment variable `name` as codex will see it (task extras win).
pub fn env_value(opts: &CodexOptions, name: &str) -> Option<String> {
    super::env::vendor_env(opts).value(name)
}
