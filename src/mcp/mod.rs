//! `agent-runtime-kit mcp`: the Model Context Protocol over stdio, with the official Rust SDK
//! (`rmcp`), so that any MCP host (an editor, Claude Desktop or Code, Codex, an agent framework)
//! can hand a coding task to Claude, Codex or Antigravity with no custom client.
//!
//! - `server.rs` the tools (`run_task`, `list_runtimes`, `diagnose`) over the shared core;
//! - `args.rs` their argument types (the tools' input schemas are generated from them);
//! - `progress.rs` task events → `notifications/progress`;
//! - `elicit.rs` approvals and questions → form elicitations to the client;
//! - `rounds.rs` the same as input-required round trips (protocol 2026-07-28);
//! - `results.rs` results and refusals → `CallToolResult`.
//!
//! The protocol is rmcp's business; this module only maps. Logs go to stderr, as for `serve`.

pub mod args;
pub mod elicit;
pub mod policy;
pub mod progress;
pub mod results;
pub mod rounds;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;

use crate::core::{Core, STOP_DEADLINE};

pub use policy::Policy;
pub use server::McpServer;

/// Serves MCP on stdin/stdout until the host closes stdin or `shutdown` resolves; then stops every
/// task and waits (bounded) for them to wind down, so that no vendor process outlives the server.
pub async fn serve_stdio(
    core: Arc<Core>,
    default_runtime: Option<String>,
    policy: Policy,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let server = McpServer::new(core.clone(), default_runtime, policy);
    let calls = server.calls();
    let service = server
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| anyhow::anyhow!("MCP initialization failed: {e}"))?;
    let stopper = service.cancellation_token();
    let waiting = service.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        r = &mut waiting => {
            tracing::info!(reason = ?r, "the MCP host closed the connection; shutting down");
            wind_down(&core, &calls).await;
        }
        _ = shutdown => {
            // Cancelled tasks answer their calls (finishReason "cancelled") before we close.
            tracing::info!("signal received; shutting down");
            wind_down(&core, &calls).await;
            stopper.cancel();
            let _ = waiting.await;
        }
    }
    Ok(())
}

/// Stops every task and waits until every tool call has its answer (each task is bounded by the
/// core's stop deadline). rmcp writes the answers already handed to it when it is cancelled.
async fn wind_down(core: &Core, calls: &tokio_util::task::TaskTracker) {
    core.shutdown();
    calls.close();
    if tokio::time::timeout(STOP_DEADLINE + Duration::from_secs(5), calls.wait())
        .await
        .is_err()
    {
        tracing::error!("tool calls still unanswered after the stop deadline; closing anyway");
    }
    // Live sessions kept by `keepAlive` end with the server: nothing left behind.
    if tokio::time::timeout(STOP_DEADLINE, core.close_sessions())
        .await
        .is_err()
    {
        tracing::error!("live sessions still closing after the stop deadline");
    }
}
