//! Probes: the short-lived commands a diagnosis runs (`claude --version`, `claude auth status`,
//! `codex login status`, the Antigravity bridge's `--check`).
//!
//! A probe is supervised like a vendor, because it is one: [`Supervised`] gives it its own process
//! group, the guardian's marker and PR_SET_PDEATHSIG, so it dies with the sidecar even when the
//! sidecar is SIGKILLed. On top of that it has a deadline (a probe that does not answer is killed,
//! with its tree, and the caller gets [`ProbeError::TimedOut`] to turn into a diagnosis) and a
//! bounded appetite: stdout is read up to a cap and a probe that says more is killed (a version
//! line or a JSON status is a few bytes; 400 MB of `--version` is a broken or hostile binary),
//! stderr is drained into the vendor's bounded tail, so the sidecar never grows. And it runs in a
//! fresh private directory (0700, ours), never in the shared temp dir or wherever the sidecar was
//! started: vendors read project files from their cwd (codex: `AGENTS.md`), and a probe is asked
//! about the installation, not about any project.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::Supervised;

/// How long a probe may take unless its runtime says otherwise. These commands answer in well
/// under a second; one that is silent for 10 s is waiting for something (a prompt, a lock, a
/// proxy, the network) and will not answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a probe's stdout is read before it is killed (1 MiB; a version line or a JSON
/// status is a few bytes).
pub const PROBE_OUTPUT_CAP: usize = 1 << 20;

/// What a probe that ran to its end said.
#[derive(Debug)]
pub struct ProbeOutput {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// At most the cap's worth of stdout (lossy UTF-8).
    pub stdout: String,
    /// Whether stdout went on past the cap (the probe was then killed).
    pub truncated: bool,
    /// The last lines of stderr, secrets redacted (the vendor stderr tail: bounded).
    pub stderr: Vec<String>,
}

impl ProbeOutput {
    /// Exit 0, and within the output cap (a probe cut at the cap may still have exited 0 before
    /// the kill reached it: its answer is not whole).
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.truncated
    }

    /// How it ended, for a message: `exit 2`, `signal 9`.
    pub fn ending(&self) -> String {
        if self.truncated {
            return format!("killed: more than {PROBE_OUTPUT_CAP} bytes of output");
        }
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            (None, None) => "unknown exit".into(),
        }
    }
}

/// Why a probe has no output to show.
#[derive(Debug)]
pub enum ProbeError {
    /// It could not be started (not executable, not a program for this machine, ...).
    Spawn(io::Error),
    /// It did not finish within the deadline and was killed.
    TimedOut(Duration),
}

impl ProbeError {
    /// One sentence for a diagnosis, about the command shown as `label` (`claude auth status`).
    pub fn describe(&self, label: &str) -> String {
        match self {
            ProbeError::Spawn(e) => format!("cannot run `{label}`: {e}"),
            ProbeError::TimedOut(t) => {
                format!("`{label}` did not answer within {}", show_duration(*t))
            }
        }
    }

    /// What to do about a probe that hangs (for a failed start, the runtime's install remedy fits
    /// better, so this is only about timeouts).
    pub fn hang_remedy(label: &str) -> String {
        format!(
            "Run `{label}` in a terminal to see what it waits for (a prompt, a lock, a proxy or \
             the network), fix that, and diagnose again."
        )
    }
}

fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Runs `cmd` as a supervised probe in a fresh private cwd: stdin closed, stdout read up to `cap`
/// bytes (past that the whole tree is killed), the whole tree killed at `timeout` (and whatever it
/// left behind killed after a normal exit). `label` names it in the logs.
pub async fn run_probe(
    mut cmd: Command,
    label: &str,
    timeout: Duration,
    cap: usize,
) -> Result<ProbeOutput, ProbeError> {
    // Removed when the probe is over (after its tree is gone: every path below waits for it).
    let cwd = crate::private_dir::tempdir("ark-probe-").map_err(ProbeError::Spawn)?;
    cmd.current_dir(cwd.path());
    let mut child = Supervised::spawn(cmd, label).map_err(ProbeError::Spawn)?;
    // A probe is asked nothing: EOF at once for one that reads stdin.
    drop(child.take_stdin());
    let stdout = child.take_stdout_bytes();
    let answer = tokio::time::timeout(timeout, async {
        let (kept, truncated) = match stdout {
            Some(out) => read_capped(out, cap).await,
            None => (Vec::new(), false),
        };
        let exit = if truncated {
            tracing::warn!(label, cap, "probe output past the cap; killing it");
            child.terminate(Duration::ZERO).await.0
        } else {
            child.wait().await
        };
        (kept, truncated, exit)
    })
    .await;
    match answer {
        Ok((kept, truncated, exit)) => {
            child.kill_leftovers();
            Ok(ProbeOutput {
                code: exit.code,
                signal: exit.signal,
                stdout: String::from_utf8_lossy(&kept).into_owned(),
                truncated,
                stderr: exit.stderr_tail,
            })
        }
        Err(_) => {
            tracing::warn!(label, ?timeout, "probe did not answer; killing it");
            // No grace: it has had its time.
            child.terminate(Duration::ZERO).await;
            Err(ProbeError::TimedOut(timeout))
        }
    }
}

/// Reads to the end or until more than `cap` bytes came, keeping the first `cap`; `true` when it
/// stopped at the cap (the caller kills the writer: it would otherwise block on a full pipe).
async fn read_capped(mut from: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, false),
            Ok(n) => n,
        };
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        if n > room {
            return (kept, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(script);
        c
    }

    #[tokio::test]
    async fn a_probe_answers_with_its_output_and_exit() {
        let out = run_probe(
            sh("echo '2.1.332 (Claude Code)'; echo warn >&2; exit 3"),
            "t",
            PROBE_TIMEOUT,
            PROBE_OUTPUT_CAP,
        )
        .await
        .unwrap();
        assert_eq!(out.stdout, "2.1.332 (Claude Code)\n");
        assert_eq!(out.stderr, vec!["warn".to_string()]);
        assert_eq!(out.code, Some(3));
        assert_eq!(out.ending(), "exit 3");
        assert!(!out.truncated);
    }

    #[tokio::test]
    async fn a_hanging_probe_times_out_and_is_killed_with_its_tree() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The shell and a grandchild in its own session (out of the group) both hang.
        let script = format!(
            "setsid sleep 301 & echo $! >> {p}; echo $$ >> {p}; sleep 300",
            p = pids.display()
        );
        let began = std::time::Instant::now();
        let err = run_probe(
            sh(&script),
            "hang",
            Duration::from_millis(500),
            PROBE_OUTPUT_CAP,
        )
        .await
        .unwrap_err();
        assert!(began.elapsed() < Duration::from_secs(5));
        assert_eq!(err.describe("x y"), "`x y` did not answer within 500 ms");
        let noted: Vec<i32> = std::fs::read_to_string(&pids)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(noted.len(), 2);
        let alive = |pid: &i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while noted.iter().any(alive) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            !noted.iter().any(alive),
            "the probe's tree is gone: {noted:?}"
        );
    }

    #[tokio::test]
    async fn output_past_the_cap_kills_the_probe() {
        let began = std::time::Instant::now();
        // Endless output: only the kill at the cap ends it.
        let out = run_probe(sh("yes v; echo end"), "big", Duration::from_secs(30), 1000)
            .await
            .unwrap();
        assert!(began.elapsed() < Duration::from_secs(10));
        assert!(!out.success());
        assert_eq!(out.stdout.len(), 1000);
        assert!(out.truncated);
        assert!(
            out.ending().starts_with("killed: more than"),
            "{}",
            out.ending()
        );
    }

    #[tokio::test]
    async fn a_probe_runs_in_a_fresh_private_directory() {
        use std::os::unix::fs::MetadataExt;
        let out = run_probe(
            sh("pwd; ls -A | wc -l"),
            "pwd",
            PROBE_TIMEOUT,
            PROBE_OUTPUT_CAP,
        )
        .await
        .unwrap();
        let mut lines = out.stdout.lines();
        let cwd = std::path::PathBuf::from(lines.next().unwrap());
        assert_eq!(lines.next().map(str::trim), Some("0"), "empty");
        assert_ne!(cwd, std::env::temp_dir());
        assert_ne!(cwd, std::env::current_dir().unwrap());
        assert!(!cwd.exists(), "removed after the probe: {}", cwd.display());
        // While it ran it was ours and 0700: checked by creating one the same way.
        let d = crate::private_dir::tempdir("ark-probe-").unwrap();
        assert_eq!(std::fs::metadata(d.path()).unwrap().mode() & 0o777, 0o700);
    }

    #[tokio::test]
    async fn a_program_that_cannot_start_says_so() {
        let err = run_probe(
            Command::new("/nonexistent/claude"),
            "claude --version",
            PROBE_TIMEOUT,
            PROBE_OUTPUT_CAP,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ProbeError::Spawn(_)));
        assert!(err
            .describe("claude --version")
            .starts_with("cannot run `claude --version`"));
    }
}
