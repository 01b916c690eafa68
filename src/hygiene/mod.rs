//! Payload hygiene: secret redaction and truncation, in one place.
//!
//! Every event, result, error and log line passes through here before it leaves the process.
//! Redaction runs before truncation, so a secret cut in half by truncation is never half-shown.
//!
//! - `names.rs` which variable and field names mark a secret (and which only look like it);
//! - `learn.rs` learning secrets from host input at intake, held by a lease;
//! - `registry.rs` the known secrets (the environment's for good, host input's per lease) and the
//!   one matcher built from them, read lock-free;
//! - `forms.rs` the escaped, base64 and URL-encoded forms matched for each secret;
//! - `patterns.rs` credentials recognised by shape;
//! - `redactor.rs` the matcher;
//! - `stream.rs` the hold-back that keeps a secret split across output deltas whole.

mod forms;
mod learn;
mod names;
mod patterns;
mod redactor;
mod registry;
mod stream;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub use learn::{learn_secrets, learn_secrets_in_json, learn_secrets_in_map};
pub use names::{is_secret_name, MIN_SECRET_LEN};
pub use redactor::{Redactor, REDACTED};
pub use registry::{current, SecretLease};
pub use stream::TextStream;

pub fn redact(s: &str) -> String {
    current().redact(s)
}

/// `value` with every known secret and credential shape replaced, in strings and map keys, and
/// nothing cut: what an approver is shown (only the secret's own span is hidden).
pub fn redact_value(value: &Value) -> Value {
    let r = current();
    let mut v = value.clone();
    Hygiene::new(usize::MAX).clean_with(&r, &mut v);
    v
}

/// The marker beside a truncated object field `f`: `fTruncated: {"bytes": N, "truncated": true}`
/// (N = the original length in bytes). Fields in the order a `Value` map writes them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Truncated {
    bytes: usize,
    truncated: bool,
}

impl Truncated {
    fn new(bytes: usize) -> Self {
        Truncated {
            bytes,
            truncated: true,
        }
    }
}

/// Redaction plus truncation, configured per task.
#[derive(Clone, Copy)]
pub struct Hygiene {
    max_field_bytes: usize,
}

impl Hygiene {
    pub fn new(max_field_bytes: usize) -> Self {
        Hygiene { max_field_bytes }
    }

    /// Redacts every string in `value` and truncates strings longer than the limit.
    /// A truncated object field `f` gets a sibling `fTruncated: {"truncated": true, "bytes": N}`
    /// (N = the original length in bytes); a truncated string inside an array ends with
    /// `…[truncated, N bytes]`.
    pub fn clean(&self, value: &mut Value) {
        self.clean_with(&current(), value);
    }

    /// [`clean`](Self::clean) for a raw vendor message, where each string may hold one piece of
    /// a streamed text that no hold-back keeps whole: pieces of a known secret at a string's
    /// edges are hidden too ([`Redactor::redact_fragments`]).
    pub fn clean_raw(&self, value: &mut Value) {
        let r = current();
        hide_fragments(&r, value);
        self.clean_with(&r, value);
    }

    /// Cleans the string of a `{"text": ...}` object: what [`clean`](Self::clean) does to that
    /// object's `text`, whose `textTruncated` marker it returns.
    pub fn clean_text(&self, text: &mut String) -> Option<Truncated> {
        self.clean_string(&current(), text).map(Truncated::new)
    }

    /// Cuts an already redacted text (a piece of a [`TextStream`]) to the limit; its
    /// `textTruncated` marker when it was cut.
    pub fn cut_text(&self, text: &mut String) -> Option<Truncated> {
        let (t, original) = truncate(std::mem::take(text), self.max_field_bytes);
        *text = t;
        original.map(Truncated::new)
    }

    pub(crate) fn clean_with(&self, r: &Redactor, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(n) = self.clean_string(r, s) {
                    s.push_str(&format!("…[truncated, {n} bytes]"));
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.clean_with(r, v)),
            Value::Object(map) => self.clean_object(r, map),
            _ => {}
        }
    }

    fn clean_object(&self, r: &Redactor, map: &mut Map<String, Value>) {
        let mut markers = vec![];
        let mut renamed = vec![];
        for (k, v) in map.iter_mut() {
            if let Cow::Owned(key) = r.redact_cow(k) {
                renamed.push((k.clone(), key));
            }
            if let Value::String(s) = v {
                if let Some(n) = self.clean_string(r, s) {
                    markers.push((k.clone(), n));
                }
            } else {
                self.clean_with(r, v);
            }
        }
        // A key that holds a secret ({"<token>": true}) goes out under its redacted name; two
        // that redact alike keep apart as `[redacted]`, `[redacted]#2`, …
        let mut names = std::collections::HashMap::new();
        for (old, new) in renamed {
            let Some(v) = map.remove(&old) else { continue };
            let mut name = new.clone();
            let mut n = 1;
            while map.contains_key(&name) {
                n += 1;
                name = format!("{new}#{n}");
            }
            names.insert(old, name.clone());
            map.insert(name, v);
        }
        for (k, n) in markers {
            let k = names.get(&k).cloned().unwrap_or(k);
            let marker = serde_json::to_value(Truncated::new(n)).expect("markers serialize");
            map.insert(format!("{k}Truncated"), marker);
        }
    }

    /// Redacts, then truncates, `s` in place; returns the redacted length if it was cut.
    /// Left untouched (no allocation) when there is nothing to do.
    fn clean_string(&self, r: &Redactor, s: &mut String) -> Option<usize> {
        if let Cow::Owned(red) = r.redact_cow(s) {
            *s = red;
        }
        if s.len() <= self.max_field_bytes {
            return None;
        }
        let (t, original) = truncate(std::mem::take(s), self.max_field_bytes);
        *s = t;
        original
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary; returns the original length if it cut.
fn truncate(mut s: String, max: usize) -> (String, Option<usize>) {
    if s.len() <= max {
        return (s, None);
    }
    let n = s.len();
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    (s, Some(n))
}

/// A `tracing` writer that redacts each formatted log line before it reaches stderr.
pub struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Every string value in `value` with the known secrets' pieces at its edges hidden.
fn hide_fragments(r: &Redactor, value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(t) = r.redact_fragments(s) {
                *s = t;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| hide_fragments(r, v)),
        Value::Object(map) => map.values_mut().for_each(|v| hide_fragments(r, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_redacted_and_kept_apart() {
        let r = Redactor::new(["key-secret-0123456789".to_string()]);
        let mut v = json!({
            "key-secret-0123456789": "x".repeat(10),
            "sk-ant-api03-abcdefghijkl": 1,
            "plain": {"nested key-secret-0123456789": true}
        });
        Hygiene::new(4).clean_with(&r, &mut v);
        assert_eq!(
            v,
            json!({
                "[redacted]": "xxxx",
                "[redacted]Truncated": {"truncated": true, "bytes": 10},
                "[redacted]#2": 1,
                "plain": {"nested [redacted]": true}
            })
        );
    }

    #[test]
    fn long_fields_are_truncated_with_a_marker() {
        let h = Hygiene::new(64);
        let mut v = json!({ "output": "é".repeat(100), "list": ["x".repeat(100)] });
        h.clean(&mut v);
        assert!(v["output"].as_str().unwrap().len() <= 64);
        assert_eq!(
            v["outputTruncated"],
            json!({ "truncated": true, "bytes": 200 })
        );
        assert!(v["list"][0]
            .as_str()
            .unwrap()
            .ends_with("…[truncated, 100 bytes]"));
    }
}
