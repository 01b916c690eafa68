//! The shape of the last line scanned: its bytes outside its string values.
//!
//! The lines of a streamed answer differ from one another only inside string values (the token,
//! an id or uuid). A line that repeats the remembered line's bytes outside its string values, and
//! whose string values are valid JSON strings, is valid JSON with the same members in the same
//! places (shifted by how much longer or shorter each string before them is): everything that
//! makes up its structure (brackets, keys, colons, commas, numbers, literals, whitespace) was
//! checked when the remembered line was scanned. So it is read by comparing bytes and finding
//! where its strings end, instead of scanning it.

use super::scanner::string_rest;
use super::{Member, ESCAPED_STRING, MAX_MEMBERS, NONE, PLAIN_STRING};

/// Longer lines are not remembered (the copy stays small; a token line is a few hundred bytes).
const MAX_SHAPE_BYTES: usize = 4096;
/// Most string values in a remembered line.
const MAX_STRINGS: usize = 32;

#[derive(Default)]
pub(super) struct Shape {
    /// The remembered line; empty when there is none.
    text: Vec<u8>,
    /// Its string values: (opening quote, one past the closing quote), in order.
    strings: Vec<(u32, u32)>,
    /// Its kept members, each with how many string values end at or before its key's start, its
    /// key's end, its value's start and its value's end (what shifts each of them), and which
    /// string value it is ([`NONE`]: not a string).
    members: Vec<(Member, [u8; 4], u8)>,
}

impl Shape {
    /// Remembers `text`, just scanned into `members` and `strings`.
    pub(super) fn remember(&mut self, text: &[u8], strings: &[(u32, u32)], members: &[Member]) {
        self.text.clear();
        self.strings.clear();
        self.members.clear();
        if text.len() > MAX_SHAPE_BYTES || strings.len() > MAX_STRINGS {
            return;
        }
        self.text.extend_from_slice(text);
        self.strings.extend_from_slice(strings);
        let ended_by = |at: u32| strings.partition_point(|s| s.1 <= at) as u8;
        self.members.extend(members.iter().map(|m| {
            let string = match m.value_kind {
                PLAIN_STRING | ESCAPED_STRING => strings
                    .binary_search_by_key(&m.value.0, |s| s.0)
                    .map_or(NONE, |i| i as u8),
                _ => NONE,
            };
            let shifts = [
                ended_by(m.key.0),
                ended_by(m.key.1),
                ended_by(m.value.0),
                ended_by(m.value.1),
            ];
            (*m, shifts, string)
        }));
    }

    /// If `line` has the remembered shape: fills `members` with its members and returns how many.
    pub(super) fn matches(
        &self,
        line: &[u8],
        members: &mut [Member; MAX_MEMBERS],
    ) -> Option<usize> {
        if self.text.is_empty() {
            return None;
        }
        // shift[k]: how much later than in the remembered line everything after the first k
        // string values is.
        let mut shift = [0i64; MAX_STRINGS + 1];
        let mut escaped = [false; MAX_STRINGS];
        let (mut t, mut l) = (0, 0);
        for (k, &(from, to)) in self.strings.iter().enumerate() {
            // The bytes up to and including the string's opening quote.
            let same = &self.text[t..from as usize + 1];
            if line.get(l..l + same.len())? != same {
                return None;
            }
            l += same.len();
            let (end, has_escapes) = string_rest(line, l)?;
            shift[k + 1] = shift[k] + (end - (l - 1)) as i64 - i64::from(to - from);
            escaped[k] = has_escapes;
            (t, l) = (to as usize, end);
        }
        if line.get(l..)? != &self.text[t..] {
            return None;
        }
        for (slot, (m, shifts, string)) in members.iter_mut().zip(&self.members) {
            let at = |p: u32, k: u8| (i64::from(p) + shift[k as usize]) as u32;
            *slot = Member {
                value_kind: match *string {
                    NONE => m.value_kind,
                    s if escaped[s as usize] => ESCAPED_STRING,
                    _ => PLAIN_STRING,
                },
                key: (at(m.key.0, shifts[0]), at(m.key.1, shifts[1])),
                value: (at(m.value.0, shifts[2]), at(m.value.1, shifts[3])),
                ..*m
            };
        }
        Some(self.members.len())
    }
}
