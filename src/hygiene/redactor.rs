//! An immutable matcher for known secrets (every form of each, see `forms.rs`) plus the
//! credential patterns, shared read-only. It is made of at most two literal sets: the
//! environment's (built once, possibly large) and the one learned from host input (rebuilt when
//! that changes, usually small), so that a task's secrets coming and going never rebuilds the
//! environment's automaton. Redacting a string is one Aho-Corasick pass per set (and the pattern
//! regex only when a trigger literal is there), whatever the number of secrets.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use super::forms::forms;
use super::names::MIN_SECRET_LEN;
use super::patterns;

pub const REDACTED: &str = "[redacted]";

#[derive(Default, Clone)]
pub struct Redactor {
    sets: Vec<Arc<Literals>>,
}

/// The forms of a set of secrets.
pub struct Literals {
    /// How many secrets (not forms) it knows.
    secrets: usize,
    literals: AhoCorasick,
    /// Every form, sorted: the forms that start with a given text are a contiguous run.
    sorted: Vec<Box<str>>,
    /// The first 4 bytes of every form of 4 bytes or more, sorted: most positions of a text
    /// start no form, and a search of these few keys says so before the search of `sorted`
    /// (a sorted slice, not a hash set: hashing every position of every streamed delta showed
    /// up in the relay's profile, and the keys are few).
    heads: Vec<[u8; 4]>,
    longest: usize,
}

impl Redactor {
    /// A matcher for `secrets` (values shorter than [`MIN_SECRET_LEN`] are left out).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Redactor::from_sets(Literals::new(secrets).into_iter().map(Arc::new).collect())
    }

    /// A matcher for the secrets of every set.
    pub fn from_sets(sets: Vec<Arc<Literals>>) -> Self {
        Redactor { sets }
    }

    /// How many known secrets (each matched in all its forms).
    pub fn secret_count(&self) -> usize {
        self.sets.iter().map(|s| s.secrets).sum()
    }

    pub fn redact(&self, s: &str) -> String {
        self.redact_cow(s).into_owned()
    }

    /// Every known secret and credential shape in `s` replaced by `[redacted]`; `s` itself
    /// (borrowed, no allocation) when there is none, the common case.
    pub fn redact_cow<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let spans = self.spans(s);
        if spans.is_empty() {
            return Cow::Borrowed(s);
        }
        Cow::Owned(replace(s, &spans))
    }

    /// Where secrets are in `s`: sorted, not overlapping.
    fn spans(&self, s: &str) -> Vec<Range<usize>> {
        let mut spans = vec![];
        let mut sources = 0;
        for set in &self.sets {
            let before = spans.len();
            spans.extend(set.literals.find_iter(s).map(|m| m.range()));
            sources += usize::from(spans.len() > before);
        }
        let before = spans.len();
        patterns::spans(s, &mut spans);
        sources += usize::from(spans.len() > before);
        if sources < 2 {
            return spans;
        }
        spans.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for r in spans {
            match merged.last_mut() {
                Some(last) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// For a text stream: how much of `buf` can go out now, redacted, and where the rest (held
    /// back) starts. Held back is the longest end of `buf` that could be the start of a secret
    /// the next piece completes: the start of a known secret's form, or of a credential shape.
    pub fn split_stream<'a>(&self, buf: &'a str) -> (Cow<'a, str>, usize) {
        let mut hold = self
            .sets
            .iter()
            .map(|set| set.hold_from(buf))
            .fold(patterns::hold_from(buf), usize::min);
        let spans = self.spans(buf);
        // A secret complete in `buf` goes out whole (redacted), even if a held end starts in it.
        if let Some(r) = spans.iter().find(|r| r.start < hold && hold < r.end) {
            hold = r.end;
        }
        let spans: Vec<Range<usize>> = spans.into_iter().filter(|r| r.end <= hold).collect();
        let ready = &buf[..hold];
        if spans.is_empty() {
            return (Cow::Borrowed(ready), hold);
        }
        (Cow::Owned(replace(ready, &spans)), hold)
    }
}

impl Literals {
    /// The forms of `secrets` (values shorter than [`MIN_SECRET_LEN`] are left out); `None` when
    /// there is none.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Option<Self> {
        let mut seen = HashSet::new();
        let mut all: Vec<String> = vec![];
        for s in secrets {
            if s.len() >= MIN_SECRET_LEN && seen.insert(s.clone()) {
                all.extend(forms(&s));
            }
        }
        let secrets = seen.len();
        all.sort_unstable();
        all.dedup();
        if all.is_empty() {
            return None;
        }
        let literals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&all)
            .ok()?;
        let mut heads: Vec<[u8; 4]> = all
            .iter()
            .filter_map(|f| f.as_bytes().get(..4)?.try_into().ok())
            .collect();
        heads.sort_unstable();
        heads.dedup();
        let longest = all.iter().map(String::len).max().unwrap_or(0);
        Some(Literals {
            secrets,
            literals,
            sorted: all.into_iter().map(String::into_boxed_str).collect(),
            heads,
            longest,
        })
    }

    /// Where the longest end of `text` that is the start (or the whole) of a known form begins.
    fn hold_from(&self, text: &str) -> usize {
        let n = text.len();
        let b = text.as_bytes();
        (n.saturating_sub(self.longest)..n)
            .find(|&i| {
                if !text.is_char_boundary(i) {
                    return false;
                }
                if let Some(head) = b.get(i..i + 4) {
                    let head = <&[u8; 4]>::try_from(head).expect("4 bytes");
                    if self.heads.binary_search(head).is_err() {
                        return false;
                    }
                }
                self.starts_a_form(&text[i..])
            })
            .unwrap_or(n)
    }

    /// Whether some form starts with `t`.
    fn starts_a_form(&self, t: &str) -> bool {
        let at = self.sorted.partition_point(|f| &**f < t);
        self.sorted.get(at).is_some_and(|f| f.starts_with(t))
    }
}

/// `s` with each span (sorted, not overlapping) replaced by [`REDACTED`].
fn replace(s: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for r in spans {
        out.push_str(&s[at..r.start]);
        out.push_str(REDACTED);
        at = r.end;
    }
    out.push_str(&s[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_patterns_are_redacted() {
        let r = Redactor::new(["supersecretvalue123".to_string(), "short".to_string()]);
        let out = r.redact("a supersecretvalue123 b sk-ant-api03-abcdefghijklmnop c short Bearer abcdefghijklmnopq");
        assert_eq!(out, "a [redacted] b [redacted] c short [redacted]");
        assert_eq!(r.secret_count(), 1);
    }

    #[test]
    fn every_credential_pattern_is_redacted() {
        let r = Redactor::default();
        let samples = [
            "sk-ant-api03-abcdefgh",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "AIzaabcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_abcdefghijklmnopqrstuvwx",
            "gho_abcdefghijklmnopqrstuvwx",
            "ghs_abcdefghijklmnopqrstuvwx",
            "github_pat_abcdefghijklmnopqrstuvwx",
            "xoxb-1234567890-abcdef",
            "AKIAABCDEFGHIJKLMNOP",
            "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abcdefghijk",
            "BEARER abcdefghijklmnop",
            "bearer abcdefghijklmnop",
        ];
        for s in samples {
            assert_eq!(r.redact(&format!("x {s} y")), "x [redacted] y", "{s}");
        }
        assert!(matches!(
            r.redact_cow("token 12345 of the answer"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn encoded_forms_are_redacted() {
        let secret = "pa\"ss/wörd-0123456789";
        let r = Redactor::new([secret.to_string()]);
        let json = serde_json::to_string(&serde_json::json!({ "v": secret })).unwrap();
        assert_eq!(r.redact(&json), r#"{"v":"[redacted]"}"#);
        let url = "https://h/?p=pa%22ss%2Fw%C3%B6rd-0123456789&x=1";
        assert_eq!(r.redact(url), "https://h/?p=[redacted]&x=1");
        for prefix in ["", "u", "us", "user:"] {
            let data = format!("{prefix}{secret}\n");
            let b64 = super::super::forms::tests_support::base64(data.as_bytes());
            let out = r.redact(&b64);
            assert!(out.contains(REDACTED), "{prefix:?}: {b64} → {out}");
        }
    }

    #[test]
    fn a_stream_holds_back_only_what_could_start_a_secret() {
        let r = Redactor::new(["hunter2-is-the-password".to_string()]);
        let (out, at) = r.split_stream("your password is hunter2-is");
        assert_eq!((&*out, at), ("your password is ", 17));
        let (out, at) = r.split_stream("ordinary text here");
        assert_eq!((&*out, at), ("ordinary text here", 18));
        // A complete secret goes out redacted, with what follows it.
        let (out, at) = r.split_stream("x hunter2-is-the-password y");
        assert_eq!((&*out, at), ("x [redacted] y", 27));
    }
}
