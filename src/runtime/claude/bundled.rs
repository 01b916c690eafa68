//! The Claude Code binary that the `claude-agent-sdk` wheel bundles
//! (`site-packages/claude_agent_sdk/_bundled/claude`, checked in 0.2.189, which bundles 2.1.332),
//! found in the Python environment this sidecar was installed into: `pip install
//! agent-runtime-kit[claude]` puts both there, and `claude` need not be on PATH.
//!
//! The sidecar knows its environment from where it runs: the wheel installs it as
//! `<prefix>/bin/agent-runtime-kit`, beside `<prefix>/lib/python3.X/site-packages` (a virtualenv,
//! a system prefix, or `~/.local` for `pip install --user`).

use std::path::{Path, PathBuf};

/// The bundled `claude` in the Python environment of the running executable, if there is one.
pub fn find() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    in_environment_of(&exe)
}

/// The bundled `claude` in the environment whose `bin/` holds `exe`.
pub fn in_environment_of(exe: &Path) -> Option<PathBuf> {
    let prefix = exe.parent()?.parent()?;
    let mut lib: Vec<PathBuf> = std::fs::read_dir(prefix.join("lib"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path())
        .collect();
    // Newest Python first when an environment has several (python3.12 before python3.11).
    lib.sort_by_key(|p| std::cmp::Reverse(minor(p)));
    lib.into_iter()
        .map(|dir| dir.join("site-packages/claude_agent_sdk/_bundled/claude"))
        .find(|candidate| candidate.is_file())
}

fn minor(dir: &Path) -> u32 {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    name.trim_start_matches("python3.").parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sdk_s_claude_beside_the_environment_s_bin() {
        let env = tempfile::tempdir().unwrap();
        let exe = env.path().join("bin/agent-runtime-kit");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        assert_eq!(in_environment_of(&exe), None, "no lib/ at all");
        for py in ["python3.9", "python3.12", "python3.11"] {
            let dir = env.path().join("lib").join(py);
            std::fs::create_dir_all(dir.join("site-packages")).unwrap();
        }
        assert_eq!(
            in_environment_of(&exe),
            None,
            "no claude-agent-sdk installed"
        );
        let bundled = |py: &str| {
            let p = env
                .path()
                .join("lib")
                .join(py)
                .join("site-packages/claude_agent_sdk/_bundled/claude");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
            p
        };
        let older = bundled("python3.9");
        assert_eq!(in_environment_of(&exe), Some(older));
        let newer = bundled("python3.12");
        assert_eq!(in_environment_of(&exe), Some(newer));
    }
}
