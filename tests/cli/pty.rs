//! Running the binary with a terminal on stdout or stderr: a pseudo-terminal whose other end the
//! test reads, so what a person sees (styles, the diagnose table) is tested as they see it.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Which of the child's streams is the terminal (the other is a pipe).
#[derive(Clone, Copy, PartialEq)]
pub enum Tty {
    Stdout,
    Stderr,
}

/// Runs `cmd` with `which` on a fresh pseudo-terminal; returns (exit code, what the terminal
/// showed, what the other stream carried).
pub fn run_on_terminal(mut cmd: Command, which: Tty) -> (Option<i32>, String, String) {
    let (mut master, slave) = open_pty();
    let slave = Stdio::from(slave);
    match which {
        Tty::Stdout => cmd.stdout(slave).stderr(Stdio::piped()),
        Tty::Stderr => cmd.stderr(slave).stdout(Stdio::piped()),
    };
    let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
    // Our copy of the terminal's child end goes with `cmd`.
    drop(cmd);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Ends with EIO once every holder of the child end closed it.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut other = String::new();
    match which {
        Tty::Stdout => child.stderr.take().unwrap().read_to_string(&mut other),
        Tty::Stderr => child.stdout.take().unwrap().read_to_string(&mut other),
    }
    .unwrap();
    let code = child.wait().unwrap().code();
    let mut shown = Vec::new();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(300)) {
        shown.extend(chunk);
    }
    (code, String::from_utf8_lossy(&shown).into_owned(), other)
}

fn open_pty() -> (File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two file descriptors into the two ints we pass; the name, termios and
    // window size pointers may be null (defaults).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            // null_mut: macOS declares termios and winsize *mut, Linux *const (which it coerces to).
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else.
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
