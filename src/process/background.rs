//! Wind-downs that outlive the request they belong to.
//!
//! A runtime answers a task as soon as the vendor's result is in and lets the vendor finish
//! (flush its session file, exit, be reaped) afterwards, here. Shutdown waits for them
//! ([`finish`]), bounded, so that answering early never leaves a process behind nor cuts a
//! session file short; a vendor still running at the deadline dies with its supervisor (the
//! `Supervised` drop kills its process group), and the guardian covers a SIGKILLed sidecar.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio_util::task::TaskTracker;

fn tracker() -> &'static TaskTracker {
    static TRACKER: OnceLock<TaskTracker> = OnceLock::new();
    TRACKER.get_or_init(TaskTracker::new)
}

/// Runs `wind_down` in the background; [`finish`] waits for it.
pub fn spawn(wind_down: impl Future<Output = ()> + Send + 'static) {
    tracker().spawn(wind_down);
}

/// Waits up to `deadline` for every background wind-down (at shutdown). The tracker is global
/// and never closed for good (`TaskTracker::wait` needs it closed), so its length is polled.
pub async fn finish(deadline: Duration) {
    let t = tracker();
    let drained = tokio::time::timeout(deadline, async {
        while !t.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    if drained.await.is_err() {
        tracing::warn!("vendor wind-downs still running after {deadline:?}; killing them");
    }
}
