//! Reading the relays' per-token vendor lines without building a JSON tree.
//!
//! A streamed answer is hundreds of thousands of small vendor lines, each read for three or four
//! fields. Deserializing them (even typed and borrowed with serde) was the largest cost of a relay.
//! A [`Reader`] checks that a line is one valid JSON object and notes where the members of the
//! root object and of the objects nested in it (two levels down) are, as offsets: nothing is
//! built or copied. Two ways, both exact:
//! - [`scanner`]: a validating one-pass scan of the whole line;
//! - [`shape`]: the lines of a stream mostly differ from the line before only inside their string
//!   values (the token, an id). A line whose bytes outside its string values repeat the last
//!   scanned line's, and whose string values are valid, is valid JSON with the same members, so
//!   it is checked by comparing bytes and reading its strings; anything else is scanned.
//!
//! It is strict where it could disagree with `serde_json` (the slow path every other line takes):
//! keys with escapes, lone surrogate escapes, deep nesting or too many members make it answer
//! `None`, and the caller then takes the `serde_json` way; a repeated key reads as its last
//! value, as in a `serde_json::Value` map. So a line is either read the same both ways or not
//! read here.

mod scanner;
mod shape;
mod special;

use std::borrow::Cow;
use std::cell::Cell;

pub use special::find_special;

/// Most members kept per line, over all kept objects (more: `None`, the slow path takes it).
const MAX_MEMBERS: usize = 32;
/// Most objects and arrays nested in one another that `serde_json` reads (its recursion limit,
/// 128, lets 127 through).
const MAX_DEPTH: usize = 127;
/// Members are kept for the root object (depth 0) and for objects that are member values down to
/// this depth; deeper ones (and objects inside arrays) are checked but not kept.
const KEPT_DEPTH: usize = 2;
/// Lookups remembered per line (see [`Reader::hints`]).
const HINTS: usize = 8;
/// A value that is neither a kept object nor a string.
const NONE: u8 = u8::MAX;
/// A string value without escapes: its text is the raw text inside the quotes.
const PLAIN_STRING: u8 = NONE - 1;
/// A string value with escapes to resolve.
const ESCAPED_STRING: u8 = NONE - 2;
/// Kept objects get ids below this; the root is 0.
const MAX_OBJECTS: u8 = ESCAPED_STRING;

/// Where one member of a kept object is in the line.
#[derive(Clone, Copy, Default)]
struct Member {
    /// The key's length and first bytes ([`key_head`]): finding a key compares two integers.
    head: (u32, u64),
    /// The kept object it belongs to.
    parent: u8,
    /// What its value is: the kept object's id, [`PLAIN_STRING`], [`ESCAPED_STRING`] or [`NONE`]
    /// (anything else).
    value_kind: u8,
    /// The key, inside its quotes (in the remembered line, for a shape's member).
    key: (u32, u32),
    /// The value's raw text.
    value: (u32, u32),
}

/// Reads lines one at a time; reuse one per stream (it keeps the last line's shape).
pub struct Reader {
    /// The last line's kept members, when it was scanned and not remembered as a shape.
    members: [Member; MAX_MEMBERS],
    len: usize,
    /// The last line has the shape's members (placed by [`shape::Shape::place`]).
    shaped: bool,
    /// Where the members asked for first, second, ... on the line before were among the shape's
    /// members ([`NONE`]: not known): a caller asks for the same members of every line of a
    /// shape, so the `k`-th question is most often answered by checking one member. Cleared
    /// when the shape changes.
    hints: [Cell<u8>; HINTS],
    /// How many members were asked for on this line.
    asked: Cell<usize>,
    /// Where the last scanned line's string values are (scratch for the shape).
    strings: Vec<(u32, u32, bool)>,
    shape: shape::Shape,
}

/// One kept object of the line a [`Reader`] last read.
#[derive(Clone, Copy)]
pub struct Object<'r, 'a> {
    reader: &'r Reader,
    text: &'a str,
    id: u8,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            members: [Member::default(); MAX_MEMBERS],
            len: 0,
            shaped: false,
            hints: Default::default(),
            asked: Cell::new(0),
            strings: Vec::new(),
            shape: shape::Shape::default(),
        }
    }
}

impl Reader {
    /// Reads `text` as one JSON object (surrounding whitespace allowed): its root object, or
    /// `None` if it is anything else, is not valid JSON, or is a case left to `serde_json` (see
    /// the module docs). A line without the remembered shape is scanned only if
    /// `worth_scanning` (a cheap filter for the lines the caller wants) says so.
    pub fn read_if<'r, 'a>(
        &'r mut self,
        text: &'a str,
        worth_scanning: impl FnOnce(&str) -> bool,
    ) -> Option<Object<'r, 'a>> {
        u32::try_from(text.len()).ok()?;
        self.asked.set(0);
        if self.shape.matches(text.as_bytes()) {
            self.shaped = true;
        } else {
            self.shaped = false;
            self.hints.iter().for_each(|h| h.set(NONE));
            if !worth_scanning(text) {
                return None;
            }
            self.len = scanner::scan(text.as_bytes(), &mut self.members, &mut self.strings)?;
            self.shaped =
                self.shape
                    .remember(text.as_bytes(), &self.strings, &self.members[..self.len]);
        }
        Some(Object {
            reader: self,
            text,
            id: 0,
        })
    }
}

impl<'r, 'a> Object<'r, 'a> {
    /// The members of the line, and the text their keys are in (a shape's are in the remembered
    /// line: the same keys).
    fn members(&self) -> (&'r [Member], &[u8]) {
        let r = self.reader;
        match r.shaped {
            true => (&r.shape.members, &r.shape.text),
            false => (&r.members[..r.len], self.text.as_bytes()),
        }
    }

    // Inlined into the accessors, and they into their callers: with a constant key the key's
    // head is worked out at compile time.
    #[inline(always)]
    /// Member `key`'s value: its kind (see [`Member::value_kind`]) and where it is in the line.
    fn member(&self, key: &str) -> Option<(u8, (u32, u32))> {
        let head = key_head(key.as_bytes(), 0, key.len());
        let (members, keys) = self.members();
        let is_it = |m: &Member| {
            m.parent == self.id
                && m.head == head
                && (key.len() <= 8 || keys[m.key.0 as usize..m.key.1 as usize] == *key.as_bytes())
        };
        let r = self.reader;
        if !r.shaped {
            return members
                .iter()
                .rev()
                .find(|m| is_it(m))
                .map(|m| (m.value_kind, m.value));
        }
        // Within one shape the answer to a question never changes: the hint is it, if it fits.
        let asked = r.asked.replace(r.asked.get() + 1);
        let hint = r.hints.get(asked).map(Cell::get);
        let i = match hint {
            Some(h) if members.get(h as usize).is_some_and(is_it) => h as usize,
            _ => {
                let i = members.iter().rposition(is_it)?;
                if let Some(hint) = r.hints.get(asked) {
                    hint.set(i as u8);
                }
                i
            }
        };
        Some(r.shape.place(i))
    }

    /// The raw JSON text of member `key`; the last one if the key repeats, as in a
    /// `serde_json::Value` map.
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let (_, (from, to)) = self.member(key)?;
        Some(&self.text[from as usize..to as usize])
    }

    /// Member `key` as an object (kept when it is at most [`KEPT_DEPTH`] levels down).
    #[inline(always)]
    pub fn object(&self, key: &str) -> Option<Object<'r, 'a>> {
        let (kind, _) = self.member(key)?;
        (kind < MAX_OBJECTS).then_some(Object { id: kind, ..*self })
    }

    /// Member `key` as a string without escapes to resolve (the common case: no allocation).
    #[inline(always)]
    pub fn plain_str(&self, key: &str) -> Option<&'a str> {
        let (kind, (from, to)) = self.member(key)?;
        (kind == PLAIN_STRING).then(|| &self.text[from as usize + 1..to as usize - 1])
    }

    /// Member `key` as a string, escapes resolved.
    #[inline(always)]
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        let (kind, (from, to)) = self.member(key)?;
        let raw = &self.text[from as usize..to as usize];
        match kind {
            PLAIN_STRING => Some(Cow::Borrowed(&raw[1..raw.len() - 1])),
            ESCAPED_STRING => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
            _ => None,
        }
    }
}

/// The length and first eight bytes (zero-padded) of the key at `bytes[from..to]`: equal for
/// equal keys, and for keys up to eight bytes long equal only for equal keys.
#[inline(always)]
fn key_head(bytes: &[u8], from: usize, to: usize) -> (u32, u64) {
    let len = to - from;
    let head = match bytes.get(from..from + 8) {
        Some(word) => {
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            word & u64::MAX
                .checked_shr(8 * (8 - len.min(8)) as u32)
                .unwrap_or(0)
        }
        None => bytes[from..to.min(from + 8)]
            .iter()
            .rev()
            .fold(0, |word, &b| word << 8 | u64::from(b)),
    };
    (len as u32, head)
}

#[cfg(test)]
mod tests {
    use super::special::is_special;
    use super::*;

    impl Reader {
        /// [`Reader::read_if`] with nothing filtered out.
        fn read<'r, 'a>(&'r mut self, text: &'a str) -> Option<Object<'r, 'a>> {
            self.read_if(text, |_| true)
        }
    }
    use serde_json::{Map, Value};

    impl<'a> Object<'_, 'a> {
        fn keys(&self) -> Vec<String> {
            let (members, keys) = self.members();
            members
                .iter()
                .filter(|m| m.parent == self.id)
                .map(|m| {
                    String::from_utf8(keys[m.key.0 as usize..m.key.1 as usize].to_vec()).unwrap()
                })
                .collect()
        }
    }

    /// Every kept member of `o` reads as serde_json reads it, and `o` has every key `map` has;
    /// the same for kept nested objects.
    fn agrees(o: Object<'_, '_>, map: &Map<String, Value>) {
        for k in o.keys() {
            let k = k.as_str();
            let parsed: Value = serde_json::from_str(o.get(k).unwrap()).unwrap();
            assert_eq!(map[k], parsed, "{k}");
            if let (Some(inner), Value::Object(m)) = (o.object(k), &map[k]) {
                agrees(inner, m);
            }
        }
        assert!(map.keys().all(|k| o.get(k).is_some()));
    }

    /// Reads `line` with `reader` (which may remember the shape of a line read before) and
    /// checks it against serde_json: accepted only if serde_json accepts it, and then read the
    /// same. Returns whether it was accepted.
    fn check(reader: &mut Reader, line: &str) -> bool {
        let serde = serde_json::from_str::<Value>(line).ok();
        match reader.read(line) {
            Some(o) => {
                let v = serde.unwrap_or_else(|| panic!("accepted invalid JSON: {line}"));
                agrees(o, v.as_object().unwrap());
                true
            }
            None => false,
        }
    }

    /// [`check`] with a new reader, then with one that remembers `before`'s shape; both must
    /// agree on whether the line is accepted.
    fn read_and_check_after(before: &str, line: &str) -> bool {
        let fresh = check(&mut Reader::default(), line);
        let mut primed = Reader::default();
        primed.read(before);
        assert_eq!(check(&mut primed, line), fresh, "after {before}: {line}");
        fresh
    }

    fn read_and_check(line: &str) -> bool {
        read_and_check_after(line, line)
    }

    #[test]
    fn reads_fields_and_agrees_with_serde_json_on_validity() {
        let mut reader = Reader::default();
        let o = reader
            .read(r#" {"a": "x\"y", "b": {"c": [1, -2.5e3, true, null], "d": {"e": {"f": 1}}}, "d": "plain"} "#)
            .unwrap();
        assert_eq!(o.str("a").as_deref(), Some("x\"y"));
        assert_eq!(o.plain_str("a"), None);
        assert_eq!(o.plain_str("d"), Some("plain"));
        assert_eq!(
            o.get("b"),
            Some(r#"{"c": [1, -2.5e3, true, null], "d": {"e": {"f": 1}}}"#)
        );
        assert!(o.get("c").is_none());
        let b = o.object("b").unwrap();
        assert_eq!(b.get("c"), Some("[1, -2.5e3, true, null]"));
        // Two levels below the root are kept; the third is not (it is only checked).
        let d = b.object("d").unwrap();
        assert_eq!(d.get("e"), Some(r#"{"f": 1}"#));
        assert!(d.object("e").is_none());
        assert!(o.object("a").is_none());
        assert_eq!(
            Reader::default().read(r#"{"a":1,"a":2}"#).unwrap().get("a"),
            Some("2")
        );
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
            r#"{"a":{"\u0061":1}}"#,
            r#"{"a":"\ud800"}"#,
        ] {
            assert!(Reader::default().read(bad).is_none(), "{bad}");
        }
    }

    /// Keys of every length, near the end of the text or not, are found, and only by themselves.
    #[test]
    fn keys_are_found_by_their_whole_text() {
        let alphabet = "abcdefghijklmnopqrstuvwxyz";
        for len in 0..20 {
            let key = &alphabet[..len];
            let longer = &alphabet[..len + 1];
            let other = format!("{}X", &alphabet[..len.saturating_sub(1)]);
            for line in [
                format!(r#"{{"{key}":1}}"#),
                format!(r#"{{"{longer}":2,"{key}":1,"{other}":3}}"#),
                format!(r#"{{"{other}":3,"{key}":1,"padding-padding":true}}"#),
            ] {
                let mut reader = Reader::default();
                let o = reader.read(&line).unwrap();
                assert_eq!(o.get(key), Some("1"), "{line}");
                assert_eq!(o.get(&format!("{key}Y")), None, "{line}");
            }
        }
    }

    #[test]
    fn too_many_members_or_too_deep_is_left_to_serde_json() {
        let read = |text: &str| Reader::default().read(text).is_some();
        let many = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
            format!("{{{}}}", members.join(","))
        };
        assert!(read(&many(MAX_MEMBERS)));
        assert!(!read(&many(MAX_MEMBERS + 1)));
        // Members of objects that are not kept do not count.
        let inside_array = format!(r#"{{"a":[{}]}}"#, many(100));
        assert!(read(&inside_array));
        let deep =
            |n: usize| format!("{}{}", r#"{"a":"#.repeat(n), "}".repeat(n)).replace(":}", ":1}");
        let deep_array =
            |n: usize| format!(r#"{{"a":{}1{}}}"#, "[".repeat(n - 1), "]".repeat(n - 1));
        for line in [deep(MAX_DEPTH), deep_array(MAX_DEPTH)] {
            assert!(read_and_check(&line), "{line}");
        }
        for line in [deep(MAX_DEPTH + 1), deep_array(MAX_DEPTH + 1)] {
            assert!(!read(&line), "{line}");
            assert!(serde_json::from_str::<Value>(&line).is_err());
        }
    }

    /// Every special byte at every offset of a string (across the sixteen- and eight-byte steps)
    /// is seen.
    #[test]
    fn special_bytes_are_found_wherever_they_sit() {
        let plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for len in 0..plain.len() {
            for at in 0..len {
                for special in [
                    "\t", "\u{1}", "\u{1f}", "\\n", "\\q", "\"", "é", "\u{7f}", "\u{ff}",
                ] {
                    let mut text = plain[..len].to_string();
                    text.replace_range(at..at + 1, special);
                    let line = format!(r#"{{"k":"{text}","n":{{"m":"{text}"}}}}"#);
                    let accepted = read_and_check(&line);
                    assert_eq!(
                        accepted,
                        serde_json::from_str::<Value>(&line).is_ok(),
                        "{line}"
                    );
                    let bytes = text.as_bytes();
                    let expected = bytes
                        .iter()
                        .position(|&b| is_special(b))
                        .unwrap_or(bytes.len());
                    assert_eq!(find_special(bytes, 0), expected, "{text:?}");
                }
            }
        }
    }

    /// One reader over a stream of lines of one shape: each is read the shape way (only string
    /// values differ from the line before), with its members where they are in that line.
    #[test]
    fn a_stream_of_one_shape_reads_each_line_right() {
        let mut reader = Reader::default();
        let texts = [
            "a",
            "",
            "longer text here",
            "esc\\\"aped\\n",
            "é 😀",
            "\\u00e9",
        ];
        for (i, text) in texts.iter().enumerate() {
            let line = format!(
                r#"{{"type":"stream_event","event":{{"delta":{{"type":"text_delta","text":"{text}"}},"index":0}},"uuid":"u-{i}","end":[1,{{"x":"{text}"}}]}}"#
            );
            if i > 0 {
                assert!(reader.shape.matches(line.as_bytes()));
            }
            assert!(check(&mut reader, &line), "{line}");
            // Again: every string the same as in the remembered line (escapes and all).
            assert!(reader.shape.matches(line.as_bytes()));
            assert!(check(&mut reader, &line), "{line}");
            let o = reader.read(&line).unwrap();
            let delta = o.object("event").unwrap().object("delta").unwrap();
            let expected: Value = serde_json::from_str(&format!(r#""{text}""#)).unwrap();
            assert_eq!(delta.str("text").unwrap(), expected.as_str().unwrap());
            assert_eq!(o.plain_str("uuid"), Some(format!("u-{i}").as_str()));
        }
        // A repeated key reads as its last value, the shape way too (and with a hint).
        for (a, b) in [("1", "2"), ("3", "4"), ("5", "6")] {
            let line = format!(r#"{{"a":"{a}","b":{{"a":"{a}"}},"a":"{b}"}}"#);
            let o = reader.read(&line).unwrap();
            assert_eq!((o.plain_str("a"), o.plain_str("b")), (Some(b), None));
            assert_eq!(o.object("b").unwrap().plain_str("a"), Some(a));
            assert_eq!(o.plain_str("a"), Some(b));
        }
        // Not the same outside the strings (a number changed): scanned, and read right.
        let other = r#"{"type":"stream_event","event":{"delta":{"type":"text_delta","text":"x"},"index":1},"uuid":"u","end":[1,{"x":"y"}]}"#;
        assert!(check(&mut reader, other));
        assert_eq!(
            reader
                .read(other)
                .unwrap()
                .object("event")
                .unwrap()
                .get("index"),
            Some("1")
        );
        // Same outside the strings but a string is not valid, or runs on: refused.
        for bad in [
            "{\"type\":\"stream_event\",\"event\":{\"delta\":{\"type\":\"text_delta\",\"text\":\"tab\there\"},\"index\":1},\"uuid\":\"u\",\"end\":[1,{\"x\":\"y\"}]}",
            r#"{"type":"stream_event","event":{"delta":{"type":"text_delta","text":"\q"},"index":1},"uuid":"u","end":[1,{"x":"y"}]}"#,
            r#"{"type":"stream_event","event":{"delta":{"type":"text_delta","text":"x"},"index":1},"uuid":"u\","end":[1,{"x":"y"}]}"#,
        ] {
            assert!(!check(&mut reader, bad), "{bad}");
        }
    }

    proptest::proptest! {
        /// Any text in a line's string values, read the shape way after the line it was made
        /// from: accepted only if serde_json accepts it, and read the same.
        #[test]
        fn string_values_of_any_text_read_right_the_shape_way(
            a in "[a\"\\\\u0-9A-F\t\n\u{1}é😀,:}{ ]{0,12}",
            b in "[a\"\\\\u0-9A-F\t\n\u{1}é😀,:}{ ]{0,12}",
        ) {
            let line = |a: &str, b: &str| format!(
                r#"{{"type":"stream_event","event":{{"delta":{{"type":"text_delta","text":"{a}"}}}},"uuid":"{b}","n":1}}"#
            );
            read_and_check_after(&line("x", "y"), &line(&a, &b));
        }


        /// Any edit of a valid line: the scan accepts only what serde_json accepts, with the same
        /// members at every kept level.
        #[test]
        fn never_accepts_what_serde_json_rejects(
            pos in 0usize..200,
            edit in 0u8..3,
            ch in proptest::sample::select(vec!['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.', 'u', 'n', ' ', '\t', 'a'])
        ) {
            let base = r#"{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"to\"k\u00e9n 1 ","x":{"y":[{"z":1}]}}},"parent_tool_use_id":null,"n":[1,2.5,-3e2,true,false,null,{}]}"#;
            let mut s: Vec<char> = base.chars().collect();
            let p = pos % s.len();
            match edit {
                0 => { s.remove(p); }
                1 => s.insert(p, ch),
                _ => s[p] = ch,
            }
            let line: String = s.into_iter().collect();
            // Read new, and after the unedited line (the shape way when only a string changed).
            read_and_check_after(base, &line);
        }
    }
}
