//! The guardian: a tiny process beside the sidecar that kills every vendor tree when the sidecar
//! dies by a signal no code in the sidecar can handle (SIGKILL, OOM).

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::tree::{marked, sidecar_token, MARKER_VAR};

/// Whether vendor processes get a guardian (the binary turns it on; library users and unit tests
/// that spawn vendors directly do not re-execute themselves).
static GUARDIAN_ENABLED: AtomicBool = AtomicBool::new(false);

/// The argument that makes the binary run as a guardian.
pub const GUARDIAN_ARG: &str = "__guardian";

/// Asks for a guardian process beside the sidecar (started with the first vendor). When the
/// sidecar dies, even by SIGKILL, the guardian sees its stdin close and SIGKILLs every process
/// carrying this sidecar's marker. Call once, from `main`.
pub fn enable_guardian() {
    GUARDIAN_ENABLED.store(true, Ordering::SeqCst);
}

pub(super) fn start_guardian() {
    static GUARDIAN: OnceLock<Option<std::process::ChildStdin>> = OnceLock::new();
    if !GUARDIAN_ENABLED.load(Ordering::SeqCst) {
        return;
    }
    GUARDIAN.get_or_init(|| {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe().ok()?;
        let spawned = std::process::Command::new(exe)
            .arg(GUARDIAN_ARG)
            .arg(sidecar_token())
            .env_remove(MARKER_VAR)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group: a Ctrl-C or a kill of the sidecar's group must not take it along.
            .process_group(0)
            .spawn();
        match spawned {
            // Never waited for: it exits only after the sidecar is gone. The write end of its stdin
            // lives in this static (close-on-exec, so no vendor inherits it) until the sidecar exits.
            Ok(mut child) => child.stdin.take(),
            Err(e) => {
                tracing::warn!("cannot start the guardian process: {e}");
                None
            }
        }
    });
}

/// The guardian's whole life: wait for the sidecar to go (stdin EOF), then SIGKILL every process
/// that carries the sidecar's marker. Repeats a few times, for processes forked meanwhile.
pub fn guard(token: &str) {
    use std::io::Read;
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    let prefix = format!("{MARKER_VAR}={token}.");
    for _ in 0..5 {
        let found = marked(|entry| entry.starts_with(prefix.as_bytes()));
        if found.is_empty() {
            return;
        }
        for p in found {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
