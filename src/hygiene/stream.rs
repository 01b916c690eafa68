//! One text stream (a task's `agent.output.delta` texts): a secret split across two pieces must
//! not go out in halves. Each piece is appended to what was held back; what cannot be the start
//! of a secret goes out (redacted), the rest waits for the next piece or the end of the stream.

use std::borrow::Cow;

use super::redactor::Redactor;

#[derive(Default)]
pub struct TextStream {
    held: String,
}

impl TextStream {
    /// Takes the next piece; returns the text that can go out now, redacted (`None`: all of it
    /// held back). An empty piece with nothing held goes out as it is. The piece is taken owned:
    /// in the common case (nothing held, nothing to redact) it goes out as it came, uncopied.
    pub fn push(&mut self, r: &Redactor, mut piece: String) -> Option<String> {
        if self.held.is_empty() {
            if piece.is_empty() {
                return Some(piece);
            }
            let (ready, at) = r.split_stream(&piece);
            let redacted = match ready {
                Cow::Owned(text) => Some(text),
                Cow::Borrowed(_) => None,
            };
            self.held.push_str(&piece[at..]);
            if at == 0 {
                return None;
            }
            return Some(redacted.unwrap_or_else(|| {
                piece.truncate(at);
                piece
            }));
        }
        self.held.push_str(&piece);
        let (ready, at) = r.split_stream(&self.held);
        if at == 0 {
            return None;
        }
        let ready = ready.into_owned();
        self.held.drain(..at);
        Some(ready)
    }

    /// How many bytes are held back.
    pub fn held_len(&self) -> usize {
        self.held.len()
    }

    /// The end of the stream: what was held back, redacted (`None`: nothing).
    pub fn flush(&mut self, r: &Redactor) -> Option<String> {
        if self.held.is_empty() {
            return None;
        }
        let held = std::mem::take(&mut self.held);
        Some(r.redact(&held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the cut points, the joined output is the redacted whole, and no output piece
    /// holds a recognisable part of the secret.
    #[test]
    fn a_secret_split_anywhere_never_goes_out_in_parts() {
        let secret = "s3cret-Value-0123456789";
        let r = Redactor::new([secret.to_string()]);
        let text = format!("before {secret} after sk-ant-api03-abcdefghijkl end");
        for a in 1..text.len() {
            for b in a..text.len() {
                let mut stream = TextStream::default();
                let mut outs = vec![];
                for piece in [&text[..a], &text[a..b], &text[b..]] {
                    outs.extend(stream.push(&r, piece.to_string()));
                }
                outs.extend(stream.flush(&r));
                assert_eq!(
                    outs.concat(),
                    "before [redacted] after [redacted] end",
                    "cut at {a},{b}"
                );
                for o in &outs {
                    for half in [&secret[..8], &secret[secret.len() - 8..], "abcdefgh"] {
                        assert!(!o.contains(half), "{o:?} at {a},{b}");
                    }
                }
            }
        }
    }
}
