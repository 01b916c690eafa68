//! Newline-delimited framing with a size limit, for our stdin and for vendor stdout.
//!
//! `LinesCodec` does the work, but a `FramedRead` ends its stream after the first decode error,
//! and `LinesCodec` reports an over-long line and invalid UTF-8 as errors. One bad line must not end
//! the session, so [`LineFrames`] turns those two errors into items. `LinesCodec` keeps discarding
//! an over-long line up to its newline, so memory stays bounded by the limit.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, LinesCodec, LinesCodecError};

/// One input line, or why there isn't one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line without its `\n` (and without a trailing `\r`).
    Line(String),
    /// A line longer than the limit; it is being discarded up to its newline.
    TooLong,
    /// A line that is not UTF-8; it was dropped.
    InvalidUtf8,
}

pub struct LineFrames {
    inner: LinesCodec,
}

impl LineFrames {
    pub fn new(max_line_bytes: usize) -> Self {
        LineFrames {
            inner: LinesCodec::new_with_max_length(max_line_bytes),
        }
    }

    fn convert(
        r: Result<Option<String>, LinesCodecError>,
    ) -> Result<Option<Frame>, std::io::Error> {
        match r {
            Ok(line) => Ok(line.map(Frame::Line)),
            Err(LinesCodecError::MaxLineLengthExceeded) => Ok(Some(Frame::TooLong)),
            Err(LinesCodecError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Ok(Some(Frame::InvalidUtf8))
            }
            Err(LinesCodecError::Io(e)) => Err(e),
        }
    }
}

impl Decoder for LineFrames {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        Self::convert(self.inner.decode(src))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        Self::convert(self.inner.decode_eof(src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(max: usize, input: &[u8]) -> Vec<Frame> {
        let mut codec = LineFrames::new(max);
        let mut buf = BytesMut::from(input);
        let mut out = vec![];
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f);
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn bad_lines_become_items_and_the_next_line_survives() {
        let frames = decode_all(8, b"ok\r\n0123456789abc\n\xff\xfe\nafter\n");
        assert_eq!(
            frames,
            vec![
                Frame::Line("ok".into()),
                Frame::TooLong,
                Frame::InvalidUtf8,
                Frame::Line("after".into())
            ]
        );
    }
}
