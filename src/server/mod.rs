//! Front end 1: JSON-RPC 2.0 over stdio — transport (one reader, one writer), dispatch, requests
//! to the host. It knows JSON-RPC and
//! nothing of vendors; tasks are the core's.

mod admission;
mod dispatch;
mod host;
pub mod stdio;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::task::TaskTracker;

use dispatch::{Dispatcher, ServerState};
use host::HostRequests;

use crate::core::Core;

pub struct ServeConfig {
    pub max_message_bytes: usize,
}

/// The longest the reader waits for one line's admission before reading the next.
const ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// How long shutdown waits for in-flight requests after stopping every task. Tasks themselves
/// are bounded by `core::STOP_DEADLINE`; this is the backstop.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// Serves `input`/`output` until the input ends or `shutdown` resolves; then stops every task,
/// waits for their responses to be written, and returns.
pub async fn serve<R, W>(
    input: R,
    output: W,
    core: Arc<Core>,
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, writer) = transport::spawn_writer(output);
    let host = Arc::new(HostRequests::new(out.clone()));
    core.set_session_notifier(Some(Arc::new(dispatch::SessionNotifications(out.clone()))));
    let dispatcher = Arc::new(Dispatcher::new(ServerState {
        core: core.clone(),
        host,
        out,
    }));
    let inflight = TaskTracker::new();
    let mut frames = Box::pin(transport::frames(input, config.max_message_bytes));
    tokio::pin!(shutdown);
    let mut signalled = false;
    loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(frame) => {
                    let d = dispatcher.clone();
                    let (handler, admitted) = admission::scope(async move { d.handle(frame).await });
                    inflight.spawn(handler);
                    // Fires on admission or when the handler ends (the sender drops). Bounded, so
                    // a runtime whose preflight is slow cannot stall the input (and approval
                    // replies for other tasks) for long.
                    let _ = tokio::time::timeout(ADMISSION_WAIT, admitted).await;
                }
                None => {
                    tracing::info!("input closed; shutting down");
                    break;
                }
            },
            _ = &mut shutdown, if !signalled => {
                // Keep reading: late requests get -32016, and host replies still arrive.
                tracing::info!("signal received; shutting down");
                signalled = true;
                core.shutdown();
            }
            _ = tokio::time::sleep(Duration::from_millis(20)), if signalled => {
                if core.running_count() == 0 {
                    break;
                }
            }
        }
    }
    core.shutdown();
    inflight.close();
    // Live sessions close alongside the tasks winding down (a busy one closes when its turn
    // ends); each says `session/closed {reason: "shutdown"}` before the writer goes.
    let drained = async {
        tokio::join!(core.close_sessions(), inflight.wait());
        core.close_sessions().await;
    };
    if tokio::time::timeout(SHUTDOWN_DEADLINE, drained)
        .await
        .is_err()
    {
        tracing::error!("requests still in flight after {SHUTDOWN_DEADLINE:?}; exiting anyway");
    }
    drop(dispatcher);
    // The notifier holds a handle on the writer, which ends only once every handle is gone.
    core.set_session_notifier(None);
    // Everything queued is written unless the host stopped reading altogether.
    if tokio::time::timeout(Duration::from_secs(5), writer)
        .await
        .is_err()
    {
        tracing::warn!("the host is not reading stdout; dropping what is left");
    }
}
