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

/// The shortest piece of a known secret that [`Redactor::redact_fragments`] hides.
pub const FRAGMENT_MIN: usize = 4;

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
    /// Whether some form starts with this byte: checked first at every position (a table look-up
    /// turns away nearly every position of ordinary text before any search).
    firsts: [bool; 256],
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

    /// `s` redacted as [`redact_cow`](Self::redact_cow) does, and also any piece of a known
    /// secret of [`FRAGMENT_MIN`] bytes or more at its start, at its end, or as the whole of it.
    /// For text that cannot be held back (a raw vendor line carries one piece of a streamed
    /// answer): a secret split across two such lines would otherwise go out in halves. Only known
    /// values count here, not credential shapes, so ordinary text is touched only where it
    /// shares four bytes with an edge of a configured secret.
    pub fn redact_fragments<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let whole = self.redact_cow(s);
        let t: &str = &whole;
        if t.len() >= FRAGMENT_MIN && self.sets.iter().any(|set| set.contains_piece(t)) {
            return Cow::Owned(REDACTED.to_string());
        }
        let head = self
            .sets
            .iter()
            .map(|set| set.ends_a_form(t))
            .max()
            .unwrap_or(0);
        let tail = self
            .sets
            .iter()
            .map(|set| set.starts_a_form_from(t, head))
            .min()
            .unwrap_or(t.len());
        if head == 0 && tail == t.len() {
            return whole;
        }
        let mut out = String::with_capacity(t.len());
        if head > 0 {
            out.push_str(REDACTED);
        }
        out.push_str(&t[head..tail]);
        if tail < t.len() {
            out.push_str(REDACTED);
        }
        Cow::Owned(out)
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
        let mut firsts = [false; 256];
        for f in &all {
            if let Some(&b) = f.as_bytes().first() {
                firsts[usize::from(b)] = true;
            }
        }
        let longest = all.iter().map(String::len).max().unwrap_or(0);
        Some(Literals {
            secrets,
            literals,
            sorted: all.into_iter().map(String::into_boxed_str).collect(),
            heads,
            firsts,
            longest,
        })
    }

    /// Where the longest end of `text` that is the start (or the whole) of a known form begins.
    fn hold_from(&self, text: &str) -> usize {
        let n = text.len();
        let b = text.as_bytes();
        (n.saturating_sub(self.longest)..n)
            .find(|&i| {
                if !self.firsts[usize::from(b[i])] || !text.is_char_boundary(i) {
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

    /// Whether `t` is a piece of the inside of some form.
    fn contains_piece(&self, t: &str) -> bool {
        self.sorted
            .iter()
            .any(|f| f.len() > t.len() && f.contains(t))
    }

    /// The length of the longest start of `t` (at least [`FRAGMENT_MIN`] bytes, shorter than
    /// the form) that is the end of some form; 0 when none is.
    fn ends_a_form(&self, t: &str) -> usize {
        let longest = t.len().min(self.longest.saturating_sub(1));
        (FRAGMENT_MIN..=longest)
            .rev()
            .filter(|&k| t.is_char_boundary(k))
            .find(|&k| {
                self.sorted
                    .iter()
                    .any(|f| f.len() > k && f.ends_with(&t[..k]))
            })
            .unwrap_or(0)
    }

    /// Where the longest end of `t` (from `from` on, at least [`FRAGMENT_MIN`] bytes, shorter
    /// than the form) that is the start of some form begins; `t.len()` when none is.
    fn starts_a_form_from(&self, t: &str, from: usize) -> usize {
        let n = t.len();
        let lo = from.max(n.saturating_sub(self.longest.saturating_sub(1)));
        (lo..=n.saturating_sub(FRAGMENT_MIN))
            .filter(|&i| n >= FRAGMENT_MIN && t.is_char_boundary(i))
            .find(|&i| {
                let end = &t[i..];
                let at = self.sorted.partition_point(|f| &**f < end);
                self.sorted[at..]
                    .iter()
                    .take_while(|f| f.starts_with(end))
                    .any(|f| f.len() > end.len())
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
    fn fragments_of_a_known_secret_at_the_edges_are_hidden() {
        let secret = "s3cret-Value-0123456789";
        let r = Redactor::new([secret.to_string()]);
        let f = |s: &str| r.redact_fragments(s).into_owned();
        // Split across two raw lines, each half is hidden; so is a middle piece.
        assert_eq!(f("the key is s3cret-Va"), "the key is [redacted]");
        assert_eq!(f("lue-0123456789 and more"), "[redacted] and more");
        assert_eq!(f("ue-01234"), "[redacted]");
        assert_eq!(f(&format!("x {secret} y")), "x [redacted] y");
        // Ordinary text, and pieces shorter than four bytes, are left alone.
        assert_eq!(f("token 12 s3c"), "token 12 s3c");
        assert_eq!(f("89 is a number"), "89 is a number");
        assert_eq!(f("nothing here"), "nothing here");
        assert!(matches!(r.redact_fragments("plain"), Cow::Borrowed(_)));
    }

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
