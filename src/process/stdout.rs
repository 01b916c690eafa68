//! A vendor's stdout that ends when the vendor is done (see [`VendorStdout`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::ChildStdout;
use tokio_util::sync::WaitForCancellationFutureOwned;

/// A vendor's stdout that ends when the vendor is done, not when the last holder of the pipe is.
///
/// A tool the vendor started in the background inherits its stdout; when the vendor exits, the
/// pipe stays open as long as that grandchild lives, and a plain reader would wait forever. Once
/// the vendor has been reaped, everything it wrote is already in the pipe: so after its exit, a
/// pipe that stays empty for [`DRAINED_AFTER_EXIT`] is the end of its output.
pub struct VendorStdout {
    pub(super) inner: ChildStdout,
    pub(super) exited: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Armed when the pipe is found empty after the exit; reset by any data.
    pub(super) drained: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// How long the pipe must stay empty after the vendor's exit (covers a readiness event that is
/// still on its way when the exit is seen).
const DRAINED_AFTER_EXIT: Duration = Duration::from_millis(100);

impl AsyncRead for VendorStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Poll::Ready(r) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            this.drained = None;
            return Poll::Ready(r);
        }
        if this.exited.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let timer = this
            .drained
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(DRAINED_AFTER_EXIT)));
        match timer.as_mut().poll(cx) {
            // End of the vendor's output (nothing written to `buf` reads as EOF).
            Poll::Ready(()) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }
}
