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
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::watch;
use tokio_util::codec::FramedRead;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::framing::LineFrames;
use crate::hygiene;
use crate::protocol::result::ExitInfo;

/// How many stderr lines are kept for error reports.
const STDERR_TAIL_LINES: usize = 40;
/// Longest stderr line kept; a flood of one huge line must not grow memory.
const STDERR_LINE_BYTES: usize = 4096;

/// The environment variable that marks every process of a vendor's tree.
pub const MARKER_VAR: &str = "AGENT_RUNTIME_KIT_VENDOR";

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
/// host made it for the same reason. Best effort: an error changes nothing.
fn widen_pipe(fd: std::os::fd::RawFd) {
    const SIZE: libc::c_int = 256 * 1024;
    // SAFETY: fcntl on a descriptor we own; F_SETPIPE_SZ only resizes the pipe's buffer (and
    // fails with EBADF/EINVAL/EPERM on anything else, which we ignore).
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, SIZE);
    }
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
        unsafe {
            // SAFETY: prctl is async-signal-safe and touches only the child.
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl.
                if libc::getppid() == 1 {
                    libc::_exit(1);
                }
                Ok(())
            });
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
        if let Some(out) = &stdout {
            use std::os::fd::AsRawFd;
            widen_pipe(out.as_raw_fd());
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

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// Stdout as frames of at most `max_line_bytes` (longer lines are skipped, not buffered).
    /// It ends at EOF or once the vendor has exited and the pipe is drained (see [`VendorStdout`]).
    pub fn take_stdout(
        &mut self,
        max_line_bytes: usize,
    ) -> Option<FramedRead<VendorStdout, LineFrames>> {
        let exited = self.exited.clone();
        self.stdout.take().map(|out| {
            FramedRead::new(
                VendorStdout {
                    inner: out,
                    exited: Box::pin(exited.cancelled_owned()),
                    drained: None,
                },
                LineFrames::new(max_line_bytes),
            )
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

/// Process groups of vendor processes not yet reaped.
fn live_groups() -> &'static Mutex<std::collections::HashSet<i32>> {
    static LIVE: std::sync::OnceLock<Mutex<std::collections::HashSet<i32>>> =
        std::sync::OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// A vendor's stdout that ends when the vendor is done, not when the last holder of the pipe is.
///
/// A tool the vendor started in the background inherits its stdout; when the vendor exits, the
/// pipe stays open as long as that grandchild lives, and a plain reader would wait forever. Once
/// the vendor has been reaped, everything it wrote is already in the pipe: so after its exit, a
/// pipe that stays empty for [`DRAINED_AFTER_EXIT`] is the end of its output.
pub struct VendorStdout {
    inner: ChildStdout,
    exited: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Armed when the pipe is found empty after the exit; reset by any data.
    drained: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// How long the pipe must stay empty after the vendor's exit (covers a readiness event that is
/// still on its way when the exit is seen).
const DRAINED_AFTER_EXIT: Duration = Duration::from_millis(100);

impl AsyncRead for VendorStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Poll::Ready(r) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            this.drained = None;
            return Poll::Ready(r);
        }
        if this.exited.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let timer = this
            .drained
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(DRAINED_AFTER_EXIT)));
        match timer.as_mut().poll(cx) {
            // End of the vendor's output (nothing written to `buf` reads as EOF).
            Poll::Ready(()) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// This sidecar's random token, the first part of every marker it hands out.
fn sidecar_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Live pids whose environment has an entry for which `matches` holds (read from
/// `/proc/<pid>/environ`; processes of other users are unreadable and skipped).
fn marked(matches: impl Fn(&[u8]) -> bool) -> Vec<i32> {
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

fn start_guardian() {
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

async fn drain_stderr(
    err: impl AsyncRead + Unpin,
    name: String,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    // Read in bounded chunks so a single endless line cannot grow memory.
    let mut reader = BufReader::with_capacity(64 * 1024, err);
    let mut line = Vec::with_capacity(256);
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(b) => b,
            Err(_) => break,
        };
        let n = buf.len();
        let mut consumed = 0;
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\n' {
                push_stderr_line(&name, &tail, &line);
                line.clear();
            } else if line.len() < STDERR_LINE_BYTES {
                line.push(b);
            }
            consumed = i + 1;
        }
        debug_assert_eq!(consumed, n);
        reader.consume(n);
    }
    if !line.is_empty() {
        push_stderr_line(&name, &tail, &line);
    }
}

fn push_stderr_line(name: &str, tail: &Mutex<VecDeque<String>>, line: &[u8]) {
    let text = String::from_utf8_lossy(line)
        .trim_end_matches('\r')
        .to_string();
    if text.is_empty() {
        return;
    }
    tracing::debug!(target: "vendor_stderr", vendor = name, "{}", hygiene::redact(&text));
    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
    if t.len() == STDERR_TAIL_LINES {
        t.pop_front();
    }
    t.push_back(text);
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

/// Reads lines of a small child output (for `--version` and the like) with a deadline.
pub async fn capture_output(
    mut cmd: Command,
    timeout: Duration,
) -> io::Result<(Option<i32>, String, String)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd.spawn()?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => {
            let out = out?;
            Ok((
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
    }
}
