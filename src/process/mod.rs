//! Child-process supervision for vendor agents.
//!
//! Every vendor runs in its own process group, with piped stdio, stderr drained into a bounded
//! tail (and `tracing`), and `PR_SET_PDEATHSIG` so it dies with the sidecar. Stopping is bounded:
//! SIGTERM to the group and to every descendant found under the child (tools that started their
//! own session escape the group), a grace period, then SIGKILL, and the child is always reaped.
//!
//! A vendor's tree is found two ways. Walking `/proc` parent links finds the live descendants, but
//! not a grandchild that was orphaned (its parent exited, it now belongs to init) and left the
//! process group with `setsid`. So every vendor also gets an environment marker,
//! `AGENT_RUNTIME_KIT_VENDOR=<sidecar token>.<n>`, which its whole tree inherits: whatever carries
//! it is killed with the tree. The same marker lets the *guardian* (a tiny process the sidecar
//! starts beside itself, see [`enable_guardian`]) kill every vendor tree when the sidecar itself
//! dies by SIGKILL, which no code in the sidecar can handle.
//!
//! A grandchild that keeps the vendor's stdout open must not keep a run waiting for an EOF that
//! never comes: [`VendorStdout`] ends once the vendor has exited and its pipe is drained.

use std::collections::VecDeque;
use std::io;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::watch;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::framing::LineFrames;

pub mod background;
mod guardian;
mod probe;
mod stderr;
mod stdin;
mod stdout;
mod tree;

use crate::hygiene;
use crate::protocol::result::ExitInfo;
use guardian::start_guardian;
pub use guardian::{enable_guardian, guard, GUARDIAN_ARG};
pub use probe::{run_probe, ProbeError, ProbeOutput, PROBE_OUTPUT_CAP, PROBE_TIMEOUT};
use stderr::drain_stderr;
pub use stdin::{StdinLines, STDIN_QUEUE};
pub use stdout::VendorStdout;
pub use tree::{descendants, kill_all_now, proc_parents, MARKER_VAR};
use tree::{live_groups, marked, sidecar_token};

/// (exit code, signal) of a reaped child.
type Status = Option<(Option<i32>, Option<i32>)>;

/// A running vendor process.
pub struct Supervised {
    pid: i32,
    name: String,
    /// `MARKER_VAR=<value>` as it appears in `/proc/<pid>/environ` of the whole tree.
    marker: String,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    /// Set by the waiter task once the child is reaped.
    status: watch::Receiver<Status>,
    /// Cancelled once the child is reaped (for [`VendorStdout`]).
    exited: CancellationToken,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_drain: Option<tokio::task::JoinHandle<()>>,
    exit: Option<ExitInfo>,
}

/// Vendors stream fast (a token per line): a 256 KiB pipe instead of Linux's 64 KiB default lets
/// a read take ~4× more lines per wake-up (fewer reads and futex wake-ups). Not more: what the
/// pipes hold is slack before back-pressure reaches the vendor when the host stops reading
/// (tests/faults.rs `a_host_that_stops_reading_loses_nothing`). Our own stdout is left as the
/// host made it for the same reason. Best effort: an error changes nothing. Linux only (the
/// call site is gated too): macOS pipes size themselves and have no F_SETPIPE_SZ.
#[cfg(target_os = "linux")]
fn widen_pipe(pipe: &impl std::os::fd::AsFd) {
    use nix::fcntl::{fcntl, FcntlArg};
    let _ = fcntl(pipe.as_fd(), FcntlArg::F_SETPIPE_SZ(256 * 1024));
}

/// After the child exits, how long to wait for the rest of its stderr (a grandchild may hold the
/// pipe open forever, so this is bounded).
const STDERR_FLUSH: Duration = Duration::from_millis(500);
/// How long stderr may stay open after the child was reaped before its leftovers are killed.
const LEFTOVER_CHECK: Duration = Duration::from_millis(20);

impl Supervised {
    /// Spawns `cmd` in a new process group with stdin/stdout/stderr piped.
    /// `name` labels its stderr lines in the logs.
    pub fn spawn(mut cmd: Command, name: &str) -> io::Result<Supervised> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let value = format!(
            "{}.{}",
            sidecar_token(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let marker = format!("{MARKER_VAR}={value}");
        start_guardian();
        cmd.env(MARKER_VAR, &value)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        #[cfg(target_os = "linux")]
        {
            // Saved before the fork: see `parent_died`.
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: the hook runs in the forked child before exec and calls only prctl,
            // getppid and _exit, which are async-signal-safe; it allocates nothing.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The sidecar may have died between fork and prctl: then no signal comes.
                    if parent_died(parent) {
                        libc::_exit(1);
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn()?;
        let pid = child.id().map(|p| p as i32).unwrap_or(-1);
        live_groups()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pid);
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_drain = child
            .stderr
            .take()
            .map(|err| tokio::spawn(drain_stderr(err, name.to_string(), stderr_tail.clone())));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        #[cfg(target_os = "linux")]
        if let Some(out) = &stdout {
            widen_pipe(out);
        }
        // The child is reaped by its own task, so that its exit is known to whoever needs it
        // (the stdout reader, `wait`) without anyone holding `&mut Child`. If that task is dropped
        // (runtime shutdown), kill_on_drop still kills the child.
        let (status_tx, status) = watch::channel(None);
        let exited = CancellationToken::new();
        let exited2 = exited.clone();
        tokio::spawn(async move {
            use std::os::unix::process::ExitStatusExt;
            let status = child.wait().await.ok().map(|s| (s.code(), s.signal()));
            let _ = status_tx.send(Some(status.unwrap_or((None, None))));
            exited2.cancel();
        });
        tracing::debug!(pid, name, "spawned vendor process");
        Ok(Supervised {
            pid,
            name: name.to_string(),
            marker,
            stdin,
            stdout,
            status,
            exited,
            stderr_tail,
            stderr_drain,
            exit: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Cancelled once the process has exited and been reaped.
    pub fn exited(&self) -> CancellationToken {
        self.exited.clone()
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// Stdin as a line writer with a bounded queue (see [`StdinLines`]).
    pub fn take_stdin_lines(&mut self) -> Option<StdinLines> {
        self.stdin
            .take()
            .map(|pipe| StdinLines::new(pipe, STDIN_QUEUE))
    }

    /// Stdout as frames of at most `max_line_bytes` (longer lines are skipped, not buffered).
    /// It ends at EOF or once the vendor has exited and the pipe is drained (see [`VendorStdout`]).
    pub fn take_stdout(
        &mut self,
        max_line_bytes: usize,
    ) -> Option<FramedRead<VendorStdout, LineFrames>> {
        self.take_stdout_bytes()
            .map(|out| FramedRead::new(out, LineFrames::new(max_line_bytes)))
    }

    /// Stdout as bytes, ending like [`Supervised::take_stdout`]'s frames.
    pub fn take_stdout_bytes(&mut self) -> Option<VendorStdout> {
        let exited = self.exited.clone();
        self.stdout.take().map(|out| VendorStdout {
            inner: out,
            exited: Box::pin(exited.cancelled_owned()),
            drained: None,
        })
    }

    /// The last lines of stderr, secrets redacted.
    pub fn stderr_tail(&self) -> Vec<String> {
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.iter().map(|l| hygiene::redact(l)).collect()
    }

    /// Waits for the process to exit on its own.
    pub async fn wait(&mut self) -> ExitInfo {
        if let Some(e) = &self.exit {
            return e.clone();
        }
        let mut rx = self.status.clone();
        let status = match rx.wait_for(Option::is_some).await {
            Ok(s) => *s,
            // The waiter task is gone without a status (runtime shutting down).
            Err(_) => None,
        };
        if let Some(mut drain) = self.stderr_drain.take() {
            // The vendor is gone; if its stderr is still open after a moment, a leftover of its
            // tree holds it. Every caller kills the leftovers after the exit anyway: doing it
            // here ends the drain at once instead of after STDERR_FLUSH (cancel → response was
            // ~0.5 s with a grandchild, now a few ms).
            if tokio::time::timeout(LEFTOVER_CHECK, &mut drain)
                .await
                .is_err()
            {
                // The leader is reaped (its pid may be reused): only its group and the tree.
                let tree = self.tree();
                if self.pid > 0 {
                    let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
                }
                for &p in &tree {
                    let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
                    let _ = killpg(Pid::from_raw(p), Signal::SIGKILL);
                }
                let _ = tokio::time::timeout(STDERR_FLUSH, drain).await;
            }
        }
        self.record_exit(status)
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitInfo> {
        tokio::time::timeout(timeout, self.wait()).await.ok()
    }

    /// Stops the process tree: SIGTERM, up to `grace`, then SIGKILL; always reaps.
    /// Returns the exit and whether SIGKILL was needed.
    pub async fn terminate(&mut self, grace: Duration) -> (ExitInfo, bool) {
        let tree = self.tree();
        self.signal_tree(&tree, Signal::SIGTERM);
        let forced = self.wait_timeout(grace).await.is_none();
        // Also after a clean exit: grandchildren may still be alive in the group or in their own session.
        let mut tree = tree;
        tree.extend(self.tree());
        self.signal_tree(&tree, Signal::SIGKILL);
        let exit = self.wait().await;
        (exit, forced)
    }

    /// Ends a run: closes `stdin` (EOF is how vendors are told to finish), gives the vendor up to
    /// `exit_grace` to exit by itself, else stops it with [`Supervised::terminate`] and
    /// `term_grace`; then kills whatever is left of its tree. Returns the exit and whether the
    /// vendor had to be stopped (it did not exit within `exit_grace`).
    ///
    /// Tool processes a vendor started in their own session are not in its process group, and
    /// once the vendor is gone they are no longer its descendants: they are noted before it goes
    /// and killed after.
    pub async fn wind_down(
        &mut self,
        stdin: Option<&StdinLines>,
        exit_grace: Duration,
        term_grace: Duration,
    ) -> (ExitInfo, bool) {
        let tools = descendants(self.pid);
        let deadline = tokio::time::Instant::now() + exit_grace;
        if let Some(stdin) = stdin {
            // A vendor that stopped reading may never take the queued lines: bounded.
            let _ = tokio::time::timeout_at(deadline, stdin.close()).await;
        }
        let exited = tokio::time::timeout_at(deadline, self.wait()).await.ok();
        let (exit, stopped) = match exited {
            Some(exit) => (exit, false),
            None => (self.terminate(term_grace).await.0, true),
        };
        for &p in &tools {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        self.kill_leftovers();
        (exit, stopped)
    }

    /// SIGKILLs whatever is left of the tree after a normal exit (no grace needed: the vendor is done).
    pub fn kill_leftovers(&self) {
        let tree = self.tree();
        self.signal_tree(&tree, Signal::SIGKILL);
    }

    /// Every live process of this vendor's tree: descendants, and orphans that carry its marker.
    pub fn tree(&self) -> Vec<i32> {
        let mut tree = descendants(self.pid);
        for p in marked(|entry| entry == self.marker.as_bytes()) {
            if !tree.contains(&p) {
                tree.push(p);
            }
        }
        tree
    }

    fn signal_tree(&self, tree: &[i32], sig: Signal) {
        if self.pid > 0 {
            let _ = killpg(Pid::from_raw(self.pid), sig);
        }
        if self.exit.is_none() && self.pid > 0 {
            let _ = kill(Pid::from_raw(self.pid), sig);
        }
        for &p in tree {
            let _ = kill(Pid::from_raw(p), sig);
            let _ = killpg(Pid::from_raw(p), sig);
        }
    }

    fn record_exit(&mut self, status: Status) -> ExitInfo {
        let (code, signal) = status.unwrap_or((None, None));
        let exit = ExitInfo {
            code,
            signal,
            stderr_tail: self.stderr_tail(),
        };
        tracing::debug!(pid = self.pid, name = %self.name, ?code, ?signal, "vendor process exited");
        self.exit = Some(exit.clone());
        live_groups()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.pid);
        exit
    }
}

/// Whether the process that was `saved_parent` when this child was forked is gone: the child
/// was then re-parented, to init or to a subreaper (a container's init, `systemd --user`, a
/// supervisor with PR_SET_CHILD_SUBREAPER), so its parent is no longer the saved pid. (Comparing
/// with 1 misses the subreaper case.) Async-signal-safe: called between fork and exec. Linux
/// only, as PR_SET_PDEATHSIG is.
#[cfg(target_os = "linux")]
fn parent_died(saved_parent: libc::pid_t) -> bool {
    nix::unistd::getppid().as_raw() != saved_parent
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // Dropped without terminate() (a cancelled future, a panic): kill the whole tree now.
        // The waiter task reaps the child.
        let tree = self.tree();
        if self.exit.is_none() || !tree.is_empty() {
            self.signal_tree(&tree, Signal::SIGKILL);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::parent_died;

    #[test]
    fn a_child_whose_parent_is_a_subreaper_still_sees_its_parent_as_alive() {
        // What the pre-exec hook sees in a child of a live sidecar: its parent is the saved pid,
        // whatever that pid is (here the test's parent, which is not 1 and may be a subreaper).
        let parent = std::os::unix::process::parent_id() as libc::pid_t;
        assert!(!parent_died(parent));
    }

    #[test]
    fn a_child_reparented_to_anyone_else_sees_its_parent_as_dead() {
        // Re-parented to init, or to a subreaper that is not pid 1: both count as dead.
        let parent = std::os::unix::process::parent_id() as libc::pid_t;
        assert!(parent_died(parent + 1));
        if parent != 1 {
            assert!(parent_died(1));
        }
    }
}
