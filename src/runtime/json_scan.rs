//! A validating one-pass scan of a JSON object line, for the relays' per-token fast paths.
//!
//! A streamed answer is hundreds of thousands of small vendor lines, each read for three or four
//! fields. Deserializing them (even typed and borrowed with serde) was the largest cost of a relay.
//! [`object`] checks the whole line is one valid JSON object and hands back its top-level fields
//! as raw text slices, without building anything. It is strict where it could disagree with
//! `serde_json` (the slow path every other line takes): keys with escapes, lone surrogate escapes,
//! deep nesting or too many fields make it answer `None`, and the caller then takes the
//! `serde_json` way; a repeated key reads as its last value, as in a `serde_json::Value` map. So a line is either read the same both ways or not read here.

use std::borrow::Cow;

/// Most top-level fields kept per object (more: `None`, the slow path takes the line).
const MAX_FIELDS: usize = 16;
/// `serde_json`'s default recursion limit.
const MAX_DEPTH: usize = 128;

/// The top-level fields of a JSON object: raw key (it has no escapes) → raw value text.
pub struct Object<'a> {
    fields: [(&'a str, &'a str); MAX_FIELDS],
    len: usize,
}

impl<'a> Object<'a> {
    /// The raw JSON text of field `key`; the last one if the key repeats, as in a
    /// `serde_json::Value` map.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields[..self.len]
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Field `key` as a string without escapes to resolve (the common case: no allocation).
    pub fn plain_str(&self, key: &str) -> Option<&'a str> {
        let raw = self.get(key)?;
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        (!inner.contains('\\')).then_some(inner)
    }

    /// Field `key` as a string, escapes resolved.
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        string(self.get(key)?)
    }
}

/// A raw JSON string literal's value, escapes resolved (borrowed when it has none).
fn string(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// `text` as one JSON object (surrounding whitespace allowed), or `None` if it is anything else,
/// is not valid JSON, or is a case left to `serde_json` (see the module docs).
pub fn object(text: &str) -> Option<Object<'_>> {
    let mut s = Scanner {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut obj = Object {
        fields: [("", ""); MAX_FIELDS],
        len: 0,
    };
    s.object(0, &mut |key, value| {
        if obj.len == MAX_FIELDS {
            return None;
        }
        obj.fields[obj.len] = (key, value);
        obj.len += 1;
        Some(())
    })?;
    s.ws();
    (s.i == s.b.len()).then_some(obj)
}

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// The text of `self.b[from..self.i]`.
    fn text(&self, from: usize) -> &'a str {
        // Slices start and end at ASCII delimiters: char boundaries, so this cannot panic.
        &self.s[from..self.i]
    }

    /// An object; `field(key, raw value)` for each member at depth 0 only.
    fn object(
        &mut self,
        depth: usize,
        field: &mut dyn FnMut(&'a str, &'a str) -> Option<()>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let k = self.i;
            let escaped = self.string()?;
            if escaped {
                return None;
            }
            let key = self.text(k + 1);
            let key = &key[..key.len() - 1];
            self.ws();
            self.eat(b':')?;
            self.ws();
            let v = self.i;
            self.value(depth + 1)?;
            if depth == 0 {
                field(key, self.text(v))?;
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth, &mut |_, _| Some(())),
            b'[' => self.array(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - from
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// Skips string bytes that need no attention (not `"`, `\\` or a control character), eight
    /// at a time (SWAR: each test sets a byte's high bit for a match).
    fn skip_plain(&mut self) {
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            if let Some(at) = first_special(chunk) {
                self.i += at;
                return;
            }
            self.i += 8;
        }
    }

    /// A string literal; returns whether it has escapes.
    fn string(&mut self) -> Option<bool> {
        self.eat(b'"')?;
        let mut escaped = false;
        loop {
            self.skip_plain();
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => return Some(escaped),
                b'\\' => {
                    escaped = true;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            let hex = std::str::from_utf8(hex).ok()?;
                            let code = u16::from_str_radix(hex, 16).ok()?;
                            // Surrogates: whether a pair is valid is serde_json's call.
                            if (0xD800..=0xDFFF).contains(&code) || hex.starts_with(['+', '-']) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                0..=0x1F => return None,
                _ => {}
            }
        }
    }
}

/// Where the first byte of an 8-byte `chunk` that a JSON string cannot hold raw is (`"`, `\\`
/// or a control character), if any: SWAR, each test setting a byte's high bit for a match. The
/// lowest flagged byte is exact (a borrow only ever flags bytes above a true match).
pub fn first_special(chunk: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    let special = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
        | has_zero(x ^ (ONES * b'"' as u64))
        | has_zero(x ^ (ONES * b'\\' as u64));
    (special != 0).then(|| (special.trailing_zeros() / 8) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn reads_fields_and_agrees_with_serde_json_on_validity() {
        let o = object(r#" {"a": "x\"y", "b": {"c": [1, -2.5e3, true, null]}, "d": "plain"} "#)
            .unwrap();
        assert_eq!(o.str("a").as_deref(), Some("x\"y"));
        assert_eq!(o.plain_str("a"), None);
        assert_eq!(o.plain_str("d"), Some("plain"));
        assert_eq!(o.get("b"), Some(r#"{"c": [1, -2.5e3, true, null]}"#));
        assert!(o.get("c").is_none());
        assert_eq!(object(r#"{"a":1,"a":2}"#).unwrap().get("a"), Some("2"));
        for bad in [
            "",
            "[]",
            "{",
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":"tab	here"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":tru}"#,
            r#"{"a":1} x"#,
            r#"{"\u0061":1}"#,
            r#"{"a":"\ud800"}"#,
        ] {
            assert!(object(bad).is_none(), "{bad}");
        }
    }

    /// Every special byte at every offset of a string (across the eight-byte steps) is seen.
    #[test]
    fn special_bytes_are_found_wherever_they_sit() {
        for len in 0..24 {
            for at in 0..len {
                for special in ["\t", "\u{1}", "\u{1f}", "\\n", "\\q", "\"", "é", "\u{7f}"] {
                    let mut text: String = "abcdefghijklmnopqrstuvwx"[..len].to_string();
                    text.replace_range(at..at + 1, special);
                    let line = format!(r#"{{"k":"{text}","n":1}}"#);
                    let serde = serde_json::from_str::<Value>(&line).ok();
                    match object(&line) {
                        Some(o) => {
                            let v = serde.expect("scan accepted invalid JSON");
                            assert_eq!(o.str("k").unwrap(), v["k"].as_str().unwrap(), "{line}");
                        }
                        None => assert!(serde.is_none(), "scan refused valid JSON: {line}"),
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Any edit of a valid line: the scan accepts only what serde_json accepts, as an
        /// object with the same fields.
        #[test]
        fn never_accepts_what_serde_json_rejects(
            pos in 0usize..200,
            edit in 0u8..3,
            ch in proptest::sample::select(vec!['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.', 'u', 'n', ' ', '\t', 'a'])
        ) {
            let base = r#"{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"to\"k\u00e9n 1 "}},"parent_tool_use_id":null,"n":[1,2.5,-3e2,true,false,null,{}]}"#;
            let mut s: Vec<char> = base.chars().collect();
            let p = pos % s.len();
            match edit {
                0 => { s.remove(p); }
                1 => s.insert(p, ch),
                _ => s[p] = ch,
            }
            let line: String = s.into_iter().collect();
            if let Some(o) = object(&line) {
                let v: Value = serde_json::from_str(&line).expect("scan accepted invalid JSON");
                let map = v.as_object().unwrap();
                for (k, _) in &o.fields[..o.len] {
                    let parsed: Value = serde_json::from_str(o.get(k).unwrap()).unwrap();
                    proptest::prop_assert_eq!(&map[*k], &parsed);
                }
                proptest::prop_assert!(map.keys().all(|k| o.get(k).is_some()));
            }
        }
    }
}
