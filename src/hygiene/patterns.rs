//! Credentials recognised by their shape, declared or not: Anthropic/OpenAI `sk-…` keys, Google
//! `AIza…` keys, GitHub and Slack tokens, AWS access key ids, JWTs, `Bearer …` values.
//!
//! Each pattern is anchored at an ASCII word boundary, so that a shape inside a longer word is
//! not one ("agent-task-0123…" holds no `sk-` key; "diff.tsx" no `xox` token).

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

/// The literal each pattern starts with (ASCII case ignored: a superset, so never a miss).
const TRIGGERS: [&str; 12] = [
    "sk-",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "AKIA",
    "eyJ",
    "bearer",
];

/// How much of a trailing word a text stream holds back because it could be the start of a
/// credential (the longest common credential, an `sk-ant-` key, is about 110 characters).
const PATTERN_HOLD_MAX: usize = 256;

/// A string with no trigger cannot match, and skips the regex: most event text is like that, and
/// the regex costs a pool checkout per call from worker threads.
fn triggers() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(TRIGGERS)
            .expect("literals compile")
    })
}

fn regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?-u:\b)(?:",
            r"sk-ant-[A-Za-z0-9_\-]{8,}",
            r"|sk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{20,}",
            r"|AIza[0-9A-Za-z_\-]{30,}",
            r"|gh[pousr]_[A-Za-z0-9]{20,}",
            r"|github_pat_[A-Za-z0-9_]{20,}",
            r"|xox[abprs]-[A-Za-z0-9\-]{10,}",
            r"|AKIA[0-9A-Z]{16}(?-u:\b)",
            r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*",
            r")",
        ))
        .expect("credential patterns compile")
    })
}

/// Where credential shapes are in `s`, in order.
pub fn spans(s: &str, out: &mut Vec<Range<usize>>) {
    if triggers().is_match(s) {
        out.extend(regex().find_iter(s).map(|m| m.range()));
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The characters a credential is made of.
fn is_token(b: u8) -> bool {
    is_word(b) || matches!(b, b'-' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Whether `t` starts with a trigger, or is the start of one (ASCII case ignored).
fn starts_a_trigger(t: &[u8]) -> bool {
    TRIGGERS.iter().any(|tr| {
        let k = t.len().min(tr.len());
        t[..k].eq_ignore_ascii_case(&tr.as_bytes()[..k])
    })
}

/// Where the part of `text` that could be the unfinished start of a credential begins (the
/// text's length when there is none): its trailing word, from a word boundary where a trigger
/// starts (or could, once more text comes), or a trailing `Bearer ` still waiting for its token.
pub fn hold_from(text: &str) -> usize {
    let b = text.as_bytes();
    let n = b.len();
    let mut run = n;
    while run > 0 && is_token(b[run - 1]) && n - run < PATTERN_HOLD_MAX {
        run -= 1;
    }
    // "Bearer" and the spaces after it, before the trailing word (or at the very end).
    let before = text[..run].trim_end_matches(|c: char| c.is_ascii_whitespace());
    if before.len() < run && before.len() >= 6 {
        let at = before.len() - 6;
        let boundary = at == 0 || !is_word(b[at - 1]);
        if boundary && b[at..before.len()].eq_ignore_ascii_case(b"bearer") {
            return at;
        }
    }
    (run..n)
        .find(|&i| (i == 0 || !is_word(b[i - 1])) && starts_a_trigger(&b[i..]))
        .unwrap_or(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(s: &str) -> Vec<&str> {
        let mut v = vec![];
        spans(s, &mut v);
        v.into_iter().map(|r| &s[r]).collect()
    }

    #[test]
    fn shapes_inside_longer_words_are_not_credentials() {
        for plain in [
            "agent-task-0123456789abcdefghijklmnop",
            "diff.tsx",
            "the task-runner-abcdefghijklmnopqrstuvwxyz",
            "AKIAABCDEFGHIJKLMNOPQRSTU",
            "a_sk-abcdefghijklmnopqrstuvwxyz",
        ] {
            assert_eq!(redacted(plain), Vec::<&str>::new(), "{plain}");
        }
        assert_eq!(
            redacted("key=sk-ant-api03-abcdefgh, Authorization: Bearer abcdefghijklmnop"),
            ["sk-ant-api03-abcdefgh", "Bearer abcdefghijklmnop"]
        );
    }

    #[test]
    fn what_a_stream_holds_back() {
        assert_eq!(hold_from("plain words. "), 13);
        assert_eq!(hold_from("the key is sk-ant-api03-abc"), 11);
        assert_eq!(hold_from("the key is s"), 11);
        assert_eq!(hold_from("Authorization: Bearer "), 15);
        assert_eq!(hold_from("Authorization: Bearer abcdef"), 15);
        assert_eq!(hold_from("Authorization: Bea"), 15);
        // Inside a word, nothing starts.
        assert_eq!(hold_from("agent-task"), 10);
        assert_eq!(hold_from("the"), 3);
    }
}
