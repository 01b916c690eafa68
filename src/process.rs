//! Child-process supervision for vendor agents.
//!
//! Every vendor runs in its own process group, with piped stdio, stderr drained into a bounded
//! tail (and `tracing`), and `PR_SET_PDEATHSIG` so it dies with the sidecar. Stopping is bounded:
//! SIGTERM to the group and to every descendant found under the child (tools that started their
//! own session escape the group), a grace period, then SIGKILL, and the child is always reaped.

use std::collections::VecDeque;
use std::io;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio_util::codec::FramedRead;

use crate::framing::LineFrames;
use crate::hygiene;
use crate::protocol::result::ExitInfo;

/// How many stderr lines are kept for error reports.
const STDERR_TAIL_LINES: usize = 40;
/// Longest stderr line kept; a flood of one huge line must not grow memory.
const STDERR_LINE_BYTES: usize = 4096;

/// A running vendor process.
pub struct Supervised {
    child: Child,
    pid: i32,
    name: String,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_drain: Option<tokio::task::JoinHandle<()>>,
    exit: Option<ExitInfo>,
}

/// After the child exits, how long to wait for the rest of its stderr (a grandchild may hold the
/// pipe open forever, so this is bounded).
const STDERR_FLUSH: Duration = Duration::from_millis(500);

impl Supervised {
    /// Spawns `cmd` in a new process group with stdin/stdout/stderr piped.
    /// `name` labels its stderr lines in the logs.
    pub fn spawn(mut cmd: Command, name: &str) -> io::Result<Supervised> {
        cmd.stdin(Stdio::piped())
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
        tracing::debug!(pid, name, "spawned vendor process");
        Ok(Supervised {
            child,
            pid,
            name: name.to_string(),
            stderr_tail,
            stderr_drain,
            exit: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// Stdout as frames of at most `max_line_bytes` (longer lines are skipped, not buffered).
    pub fn take_stdout(
        &mut self,
        max_line_bytes: usize,
    ) -> Option<FramedRead<ChildStdout, LineFrames>> {
        self.child
            .stdout
            .take()
            .map(|out| FramedRead::new(out, LineFrames::new(max_line_bytes)))
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
        let status = self.child.wait().await;
        if let Some(drain) = self.stderr_drain.take() {
            let _ = tokio::time::timeout(STDERR_FLUSH, drain).await;
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
        let tree = descendants(self.pid);
        self.signal_tree(&tree, Signal::SIGTERM);
        let forced = self.wait_timeout(grace).await.is_none();
        // Also after a clean exit: grandchildren may still be alive in the group or in their own session.
        let mut tree = tree;
        tree.extend(descendants(self.pid));
        self.signal_tree(&tree, Signal::SIGKILL);
        let exit = self.wait().await;
        (exit, forced)
    }

    /// SIGKILLs whatever is left of the tree after a normal exit (no grace needed: the vendor is done).
    pub fn kill_leftovers(&self) {
        let tree = descendants(self.pid);
        self.signal_tree(&tree, Signal::SIGKILL);
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

    fn record_exit(&mut self, status: io::Result<std::process::ExitStatus>) -> ExitInfo {
        use std::os::unix::process::ExitStatusExt;
        let (code, signal) = match status {
            Ok(s) => (s.code(), s.signal()),
            Err(_) => (None, None),
        };
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
        // kill_on_drop then lets tokio reap the child.
        if self.exit.is_none() || !descendants(self.pid).is_empty() {
            let tree = descendants(self.pid);
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

/// SIGKILLs every vendor process tree now: for a second signal, when there is no time to be nice.
pub fn kill_all_now() {
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
