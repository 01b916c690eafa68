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

#[derive(Debug, Clone, PartialEq)]
pub enum VendorLine {
    Json(Value),
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

    /// Offers `fast` the lines already read (no I/O, no waiting), up to `max` of them; a line it
    /// takes (`true`) is consumed. Stops at the first line it does not take,
    /// which the next call of [`next_or`](Self::next_or) returns. A streamed answer arrives as
    /// hundreds of lines per read: taken here, they cost one wake-up and one hand-off, not one
    /// each.
    pub fn drain_fast(&mut self, mut fast: impl FnMut(&str) -> bool, max: usize) {
        use bytes::Buf;
        // Only called right after a line came out of the codec, so it holds no partial state
        // (no half-searched or half-discarded line): complete lines can be taken straight from
        // the buffer, borrowed, and the codec goes on from wherever this stops.
        for _ in 0..max {
            if self.pending.is_some() {
                return;
            }
            let Some(end) = memchr::memchr(b'\n', &self.buffer) else {
                return;
            };
            if end > self.max_line_bytes {
                return;
            }
            let line = &self.buffer[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Ok(line) = std::str::from_utf8(line) else {
                return;
            };
            if !fast(line) {
                // Not ours: left in the buffer for the codec.
                return;
            }
            self.buffer.advance(end + 1);
        }
    }

    /// The next line, or `None` at EOF (or on a read error, which for a pipe means the same).
    pub async fn next(&mut self) -> Option<VendorLine> {
        match self.next_or(|_| None::<std::convert::Infallible>).await? {
            Ok(never) => match never {},
            Err(line) => Some(line),
        }
    }

    /// Like [`next`](Self::next), but first offers each complete line to `fast`: a line it takes
    /// (`Some`) comes back as `Ok` without being parsed into a `Value` (a runtime's typed,
    /// borrowed parse of its most frequent line); every other line comes back as
    /// `Err(VendorLine)`, exactly as `next` returns it.
    pub async fn next_or<T>(
        &mut self,
        mut fast: impl FnMut(&str) -> Option<T>,
    ) -> Option<Result<T, VendorLine>> {
        loop {
            let frame = match self.next_frame().await {
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    tracing::debug!("vendor stdout read error: {e}");
                    return self.pending.take().map(|t| Err(VendorLine::Text(t)));
                }
                None => return self.pending.take().map(|t| Err(VendorLine::Text(t))),
            };
            let line = match frame {
                Frame::Line(l) => l,
                Frame::TooLong => {
                    self.pending = None;
                    return Some(Err(VendorLine::TooLong));
                }
                Frame::InvalidUtf8 => {
                    self.pending = None;
                    return Some(Err(VendorLine::Text("<invalid UTF-8>".into())));
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
            if let Some(t) = fast(&candidate) {
                return Some(Ok(t));
            }
            match serde_json::from_str::<Value>(&candidate) {
                Ok(v) => return Some(Err(VendorLine::Json(v))),
                Err(e) if e.is_eof() && candidate.trim_start().starts_with('{') => {
                    if candidate.len() > self.max_line_bytes {
                        return Some(Err(VendorLine::TooLong));
                    }
                    self.pending = Some(candidate);
                }
                Err(_) => return Some(Err(VendorLine::Text(candidate))),
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

    #[tokio::test]
    async fn drained_lines_keep_their_order_with_the_others() {
        let input = "f1\nf2\n{\"slow\":1}\nf3\nbanner\nf4\nf5\n";
        let fast = |l: &str| l.strip_prefix('f').map(str::to_string);
        let mut r = JsonLines::new(input.as_bytes(), 100);
        let mut seen = vec![];
        while let Some(line) = r.next_or(fast).await {
            match line {
                Ok(first) => {
                    let mut burst = vec![first];
                    r.drain_fast(|l| fast(l).map(|t| burst.push(t)).is_some(), 2);
                    seen.push(format!("fast {burst:?}"));
                }
                Err(other) => seen.push(format!("{other:?}")),
            }
        }
        assert_eq!(
            seen,
            [
                r#"fast ["1", "2"]"#,
                r#"Json(Object {"slow": Number(1)})"#,
                r#"fast ["3"]"#,
                r#"Text("banner")"#,
                r#"fast ["4", "5"]"#,
            ]
        );
    }
}
