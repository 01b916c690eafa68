//! agent-runtime-kit: run an agentic coding task through Claude Code, Codex or Antigravity with
//! one JSON-RPC protocol on stdio.
//!
//! The data path: host line → a front end (`server` for JSON-RPC, `mcp`, `cli`) → `core`
//! (admission, validation, the running tasks) → `runtime::*` → vendor process (`process`) → the
//! runtime's mapping → `runtime::EventSink` → the front end → host. Wire types live in
//! `protocol`; redaction and truncation in `hygiene`.

// Every `unsafe` block is one the OS requires (spawning, signals, ids) and says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod cli;
pub mod core;
pub(crate) mod framing;
pub mod hygiene;
pub mod mcp;
pub mod private_dir;
pub mod process;
pub mod protocol;
pub(crate) mod record;
pub mod runtime;
pub mod schema;
pub mod server;
