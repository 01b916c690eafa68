//! Writing for people and pipes: stdout that may be closed early (`| head`), stderr that must
//! never panic, the dim style (off with NO_COLOR or off a terminal), and escaping of control
//! characters so that text from a model cannot drive the terminal.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tokio::sync::Notify;

/// The exit code when stdout was closed before everything was written: what a shell reports for
/// a process killed by SIGPIPE (128 + 13), as `yes | head -1` does.
pub const STDOUT_CLOSED: i32 = 141;

static CLOSED: AtomicBool = AtomicBool::new(false);

fn closed_notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Writes to stdout and flushes. False once stdout is closed (the reader went away): from then
/// on nothing more is written and [`stdout_closed`] resolves.
pub fn print(text: &str) -> bool {
    if CLOSED.load(Ordering::SeqCst) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
    {
        return true;
    }
    // Any write error means nobody reads what follows (EPIPE is the usual one): stop quietly.
    CLOSED.store(true, Ordering::SeqCst);
    closed_notify().notify_one();
    false
}

/// Writes a whole answer to stdout; the exit code (0, or [`STDOUT_CLOSED`]).
pub fn print_all(text: &str) -> i32 {
    if print(text) {
        0
    } else {
        STDOUT_CLOSED
    }
}

pub fn is_stdout_closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Resolves once a write to stdout failed.
pub async fn stdout_closed() {
    if is_stdout_closed() {
        return;
    }
    closed_notify().notified().await;
}

/// Writes to stderr, ignoring failure (there is nowhere left to report it).
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// The dim style for progress lines on stderr: only on a terminal, and never with `NO_COLOR`
/// set to anything non-empty (https://no-color.org).
#[derive(Clone, Copy)]
pub struct Style {
    dim: bool,
}

impl Style {
    pub fn for_stderr() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            dim: !no_color && stderr_is_terminal(),
        }
    }

    pub fn dim(self, s: &str) -> String {
        if self.dim {
            format!("\x1b[2m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Makes control characters visible instead of letting the terminal act on them: a model's text
/// could otherwise move the cursor, rewrite what was printed (CR), or set the clipboard (OSC 52).
/// C0 controls other than `\n` and `\t`, DEL and the C1 controls become `\u{1b}`-style text.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    let is_bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !s.chars().any(is_bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_made_visible() {
        assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape_controls("\x1b]52;c;aGk=\x07 x\r\u{9b}\u{7f}"),
            "\\u{1b}]52;c;aGk=\\u{7} x\\u{d}\\u{9b}\\u{7f}"
        );
        assert_eq!(escape_controls("résumé ✓"), "résumé ✓");
    }
}
