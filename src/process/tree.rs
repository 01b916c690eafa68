//! Finding a vendor's whole process tree: `/proc` parent links for live descendants, and the
//! environment marker for what left the tree (orphaned, `setsid`).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// The environment variable that marks every process of a vendor's tree.
pub const MARKER_VAR: &str = "AGENT_RUNTIME_KIT_VENDOR";

/// This sidecar's random token, the first part of every marker it hands out.
pub(super) fn sidecar_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Live pids whose environment has an entry for which `matches` holds (read from
/// `/proc/<pid>/environ`; processes of other users are unreadable and skipped).
pub(super) fn marked(matches: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let me = std::process::id() as i32;
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        if pid == me {
            return None;
        }
        let env = std::fs::read(e.path().join("environ")).ok()?;
        env.split(|b| *b == 0).any(&matches).then_some(pid)
    })
    .collect()
}

/// Process groups of vendor processes not yet reaped.
pub(super) fn live_groups() -> &'static Mutex<HashSet<i32>> {
    static LIVE: OnceLock<Mutex<HashSet<i32>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// SIGKILLs every vendor process tree now: for a second signal, when there is no time to be nice.
pub fn kill_all_now() {
    let prefix = format!("{MARKER_VAR}={}.", sidecar_token());
    for p in marked(|entry| entry.starts_with(prefix.as_bytes())) {
        let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
    }
    let groups: Vec<i32> = live_groups()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    for pid in groups {
        for p in descendants(pid) {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Every live descendant of `pid`, found by walking `/proc` parent links.
pub fn descendants(pid: i32) -> Vec<i32> {
    if pid <= 0 {
        return vec![];
    }
    let table = proc_parents();
    let mut out = vec![];
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &table {
            if parent == p && !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// (pid, ppid) of every process, from `/proc/*/stat`.
pub fn proc_parents() -> Vec<(i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // The command name may contain spaces and parentheses: parse after the last ')'.
        let rest = &stat[stat.rfind(')')? + 2..];
        let mut fields = rest.split(' ');
        let state = fields.next()?;
        if state == "Z" {
            return None;
        }
        let ppid: i32 = fields.next()?.parse().ok()?;
        Some((pid, ppid))
    })
    .collect()
}
