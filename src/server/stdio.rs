//! The process's stdin and stdout as async streams for [`super::serve`].
//!
//! `tokio::io::stdin()`/`stdout()` run every read and write on the blocking thread pool: the
//! reader parks a pool thread in read(2) for the life of the process, so the first reply needs a
//! second pool thread to be created just to write it, and every flush is a hop between threads.
//! When stdin or stdout is a pipe or a Unix stream socket (what a host spawning the sidecar gives
//! it: Python and Rust use pipes, Node socket pairs), it is set non-blocking and driven by the
//! runtime's reactor instead, as Node does with its own stdio. Anything else (a terminal, a file)
//! keeps tokio's blocking-pool streams.
//!
//! The non-blocking flag belongs to the open file, which another process may share (a pipe handed
//! down by a shell): [`restore_blocking`] clears it again before the process exits.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

pub type Input = Box<dyn AsyncRead + Unpin + Send>;
pub type Output = Box<dyn AsyncWrite + Unpin + Send>;

static STDIN_CHANGED: AtomicBool = AtomicBool::new(false);
static STDOUT_CHANGED: AtomicBool = AtomicBool::new(false);

/// Stdin, read through the reactor when it is a pipe or a Unix stream socket.
/// Must be called inside the runtime.
pub fn stdin() -> Input {
    through_reactor(
        std::io::stdin().as_fd(),
        &STDIN_CHANGED,
        |fd| Ok(Box::new(pipe::Receiver::from_owned_fd(fd)?) as Input),
        |s| Box::new(s) as Input,
    )
    .unwrap_or_else(|| Box::new(tokio::io::stdin()))
}

/// Stdout, written through the reactor when it is a pipe or a Unix stream socket.
/// Must be called inside the runtime.
pub fn stdout() -> Output {
    through_reactor(
        std::io::stdout().as_fd(),
        &STDOUT_CHANGED,
        |fd| Ok(Box::new(pipe::Sender::from_owned_fd(fd)?) as Output),
        |s| Box::new(s) as Output,
    )
    .unwrap_or_else(|| Box::new(tokio::io::stdout()))
}

/// A duplicate of `fd` registered with the reactor, or None (and the file left in blocking mode)
/// when it is neither a pipe nor a Unix stream socket, or cannot be registered.
fn through_reactor<T>(
    fd: BorrowedFd<'_>,
    changed: &AtomicBool,
    pipe: impl FnOnce(OwnedFd) -> std::io::Result<T>,
    socket: impl FnOnce(tokio::net::UnixStream) -> T,
) -> Option<T> {
    let kind = kind(fd);
    if matches!(kind, Kind::Other) {
        return None;
    }
    let dup = fd.try_clone_to_owned().ok()?;
    let stream = match kind {
        Kind::Pipe => pipe(dup).ok(),
        _ => {
            let s = std::os::unix::net::UnixStream::from(dup);
            s.set_nonblocking(true)
                .and_then(|()| tokio::net::UnixStream::from_std(s))
                .ok()
                .map(socket)
        }
    };
    match stream {
        Some(_) => changed.store(true, Ordering::SeqCst),
        // Registration failed, maybe after the flag was set on the shared open file.
        None => set_blocking(fd.as_raw_fd()),
    }
    stream
}

/// Puts stdin and stdout back in blocking mode if [`stdin`]/[`stdout`] changed them.
pub fn restore_blocking() {
    if STDIN_CHANGED.swap(false, Ordering::SeqCst) {
        set_blocking(libc::STDIN_FILENO);
    }
    if STDOUT_CHANGED.swap(false, Ordering::SeqCst) {
        set_blocking(libc::STDOUT_FILENO);
    }
}

enum Kind {
    Pipe,
    UnixStream,
    Other,
}

fn kind(fd: BorrowedFd<'_>) -> Kind {
    let raw = fd.as_raw_fd();
    // SAFETY: fstat/getsockopt only write into the buffers given, and `raw` is open (borrowed).
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(raw, &mut st) != 0 {
            return Kind::Other;
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFIFO => Kind::Pipe,
            libc::S_IFSOCK
                if sockopt(raw, libc::SO_DOMAIN) == Some(libc::AF_UNIX)
                    && sockopt(raw, libc::SO_TYPE) == Some(libc::SOCK_STREAM) =>
            {
                Kind::UnixStream
            }
            _ => Kind::Other,
        }
    }
}

fn sockopt(fd: RawFd, option: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

fn set_blocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor number; at worst it fails with EBADF.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}
