//! Admission in input order.
//!
//! Each input line is handled in its own task, so a `cancel` written right after its `run` could
//! otherwise overtake it and find no task. The reader waits until the handler of a line has been
//! admitted (a `run` registered its task id, or failed before that) before it reads the next line
//! (for at most a bounded time: see `ADMISSION_WAIT`).
//! The signal travels in a task-local, so the method handlers need no extra parameter.

use std::cell::RefCell;

use tokio::sync::oneshot;

tokio::task_local! {
    static ADMITTED: RefCell<Option<oneshot::Sender<()>>>;
}

/// Runs `fut` with an admission signal; the returned receiver fires when `fut` calls
/// [`admitted`] or finishes.
pub fn scope<F: std::future::Future>(
    fut: F,
) -> (
    impl std::future::Future<Output = F::Output>,
    oneshot::Receiver<()>,
) {
    let (tx, rx) = oneshot::channel();
    (ADMITTED.scope(RefCell::new(Some(tx)), fut), rx)
}

/// Tells the reader it may go on. Harmless outside a scope and when called twice.
pub fn admitted() {
    let _ = ADMITTED.try_with(|cell| {
        if let Some(tx) = cell.borrow_mut().take() {
            let _ = tx.send(());
        }
    });
}
