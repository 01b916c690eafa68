//! The process's stdin and stdout as async streams for [`super::serve`].
//!
//! Stdout is std's, written by the transport's writer thread. Stdin is read on a plain thread of its own and handed over through an
//! in-memory pipe: a read of stdin cannot be cancelled, and tokio's `stdin()` does it on the
//! runtime's blocking pool, whose shutdown then waits for the host to write another line (or
//! for the shutdown timeout) after a signal. This thread just ends with the process.

use std::io::Read;

use tokio::io::{AsyncRead, AsyncWriteExt};

/// Bytes read from stdin at a time, and buffered between the thread and the reader.
const CHUNK: usize = 64 * 1024;

/// Stdin, read on its own thread. EOF (or a read error) ends the stream.
pub fn stdin() -> impl AsyncRead + Unpin + Send + 'static {
    let (reader, mut writer) = tokio::io::simplex(CHUNK);
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut input = std::io::stdin().lock();
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        tracing::debug!("stdin: {e}");
                        break;
                    }
                };
                // Waits while the server is behind (the pipe is full); fails once it is gone.
                if futures::executor::block_on(writer.write_all(&buf[..n])).is_err() {
                    break;
                }
            }
            // EOF for the reader (dropping one half of a simplex pipe does not close it).
            let _ = futures::executor::block_on(writer.shutdown());
        });
    if let Err(e) = spawned {
        // Nothing will ever be read: the server waits for a signal.
        tracing::error!("cannot start the stdin thread: {e}");
    }
    reader
}

/// Stdout, for blocking writes on the writer thread (whole lines, so std's line buffering passes
/// them straight through).
pub fn stdout() -> impl std::io::Write + Send + 'static {
    std::io::stdout()
}
