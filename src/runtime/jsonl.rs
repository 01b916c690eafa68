//! Reading a vendor's newline-delimited JSON, tolerantly.
//!
//! Vendors are not perfect peers: Codex app-server has been seen to put a raw newline inside a JSON
//! string (openclaw#107369), CLIs print banners and warnings on stdout, and tool output can make a
//! single line enormous. This reader re-joins a line that ends inside an unterminated JSON value with
//! the lines after it (bounded by the same byte limit), reports non-JSON lines instead of failing,
//! and skips over-long lines without buffering them.

use bytes::BytesMut;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::Decoder;

use crate::framing::{Frame, LineFrames};

/// The default per-line limit for vendor output: the same as the host's `--max-message-bytes`.
/// A line is buffered up to this size before it is known to be too long, and the buffer can grow
/// to twice that, per running task: 64 MiB put a single 100 MB line at 125 MiB of peak RSS
/// (tests/faults.rs). Real vendor lines stay far below: the CLIs cap tool output and images
/// (a 5 MB image is 6.7 MB of base64), and every event field is cut to 8 KiB anyway.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One line of vendor output: JSON (a `Value`, or what a runtime's own parse made of it), or not.
#[derive(Debug, Clone, PartialEq)]
pub enum VendorLine<T = Value> {
    Json(T),
    /// A line that is not JSON (a banner, a warning).
    Text(String),
    /// A line over the limit, skipped.
    TooLong,
}

/// Bytes asked of the pipe per read: a fast vendor's lines are handled a few hundred per wake-up.
const READ_SIZE: usize = 64 * 1024;

pub struct JsonLines<R> {
    reader: R,
    buffer: BytesMut,
    codec: LineFrames,
    eof: bool,
    max_line_bytes: usize,
    /// The start of a JSON value cut by a raw newline, waiting for the rest.
    pending: Option<String>,
}

impl<R: AsyncRead + Unpin> JsonLines<R> {
    pub fn new(reader: R, max_line_bytes: usize) -> Self {
        JsonLines {
            reader,
            buffer: BytesMut::with_capacity(READ_SIZE),
            codec: LineFrames::new(max_line_bytes),
            eof: false,
            max_line_bytes,
            pending: None,
        }
    }

    /// The next frame; `None` at EOF. Cancel-safe: what was read stays in the buffer.
    async fn next_frame(&mut self) -> Option<std::io::Result<Frame>> {
        loop {
            let decoded = if self.eof {
                self.codec.decode_eof(&mut self.buffer)
            } else {
                self.codec.decode(&mut self.buffer)
            };
            match decoded {
                Ok(Some(f)) => return Some(Ok(f)),
                Err(e) => return Some(Err(e)),
                Ok(None) if self.eof => return None,
                Ok(None) => {}
            }
            self.buffer.reserve(READ_SIZE);
            match self.reader.read_buf(&mut self.buffer).await {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The next line, or `None` at EOF (or on a read error, which for a pipe means the same).
    pub async fn next(&mut self) -> Option<VendorLine> {
        self.next_with(|l| serde_json::from_str(l)).await
    }

    /// Like [`next`](Self::next), but each line is read by `parse`: a runtime's own serde parse
    /// (a typed, borrowed struct for its most frequent line, the `Value` way for the rest). A line
    /// `parse` finds cut short (an EOF error) that starts an object is joined with the next ones.
    pub async fn next_with<T>(
        &mut self,
        mut parse: impl FnMut(&str) -> serde_json::Result<T>,
    ) -> Option<VendorLine<T>> {
        self.next_owned_with(|line| match parse(&line) {
            Ok(v) => Ok(v),
            Err(e) => Err((line, e)),
        })
        .await
    }

    /// Like [`next_with`](Self::next_with), but `parse` gets the line itself, to keep it (a
    /// message that holds its line needs no copy), and gives it back with the error when it is
    /// not JSON.
    pub async fn next_owned_with<T>(
        &mut self,
        mut parse: impl FnMut(String) -> Result<T, (String, serde_json::Error)>,
    ) -> Option<VendorLine<T>> {
        loop {
            let frame = match self.next_frame().await {
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    tracing::debug!("vendor stdout read error: {e}");
                    return self.pending.take().map(VendorLine::Text);
                }
                None => return self.pending.take().map(VendorLine::Text),
            };
            let line = match frame {
                Frame::Line(l) => l,
                Frame::TooLong => {
                    self.pending = None;
                    return Some(VendorLine::TooLong);
                }
                Frame::InvalidUtf8 => {
                    self.pending = None;
                    return Some(VendorLine::Text("<invalid UTF-8>".into()));
                }
            };
            let candidate = match self.pending.take() {
                // The raw newline was inside a string: put it back, escaped.
                Some(mut prev) => {
                    prev.push_str("\\n");
                    prev.push_str(&line);
                    prev
                }
                None => line,
            };
            match parse(candidate) {
                Ok(v) => return Some(VendorLine::Json(v)),
                Err((candidate, e)) if e.is_eof() && candidate.trim_start().starts_with('{') => {
                    if candidate.len() > self.max_line_bytes {
                        return Some(VendorLine::TooLong);
                    }
                    self.pending = Some(candidate);
                }
                Err((candidate, _)) => return Some(VendorLine::Text(candidate)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn tolerates_banners_raw_newlines_and_huge_lines() {
        let input = format!(
            "banner\n{{\"a\":\"x\ny\"}}\n{}\n{{\"b\":1}}\n",
            "z".repeat(200)
        );
        let mut r = JsonLines::new(input.as_bytes(), 100);
        assert_eq!(r.next().await, Some(VendorLine::Text("banner".into())));
        assert_eq!(r.next().await, Some(VendorLine::Json(json!({"a": "x\ny"}))));
        assert_eq!(r.next().await, Some(VendorLine::TooLong));
        assert_eq!(r.next().await, Some(VendorLine::Json(json!({"b": 1}))));
        assert_eq!(r.next().await, None);
    }
}
