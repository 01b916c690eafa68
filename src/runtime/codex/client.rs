//! `codex app-server` as a JSON-RPC peer over its stdio ([`crate::runtime::jsonrpc_peer`]).
//!
//! Codex's framing is one JSON message per line, JSON-RPC shaped but without the `"jsonrpc"`
//! member: the server never writes it (the peer does not require it on input) and accepts client
//! messages with or without it (the peer always writes it). Our requests carry our ids; codex's
//! requests to us (approvals) carry ids from its own space, echoed back in our answer.

use tokio::io::AsyncRead;
use tokio::process::ChildStdin;

use crate::runtime::EventSink;

pub use crate::runtime::jsonrpc_peer::{CallError, Inbox, Incoming, Peer as Client};

/// Starts the client over codex's stdin and stdout; the inbox yields codex's notifications and
/// requests until its stdout closes. `events` (when given) is touched on every line, for the idle
/// watchdog.
pub fn start<R: AsyncRead + Unpin + Send + 'static>(
    stdin: ChildStdin,
    stdout: R,
    max_line_bytes: usize,
    events: Option<EventSink>,
) -> (Client, Inbox) {
    Client::start(super::NAME, stdin, stdout, max_line_bytes, move || {
        if let Some(e) = &events {
            e.touch();
        }
    })
}
