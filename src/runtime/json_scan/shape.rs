//! The shape of the last line scanned: its bytes outside its string values.
//!
//! The lines of a streamed answer differ from one another only inside string values (the token,
//! an id or uuid). A line that repeats the remembered line's bytes outside its string values, and
//! whose string values are valid JSON strings, is valid JSON with the same members in the same
//! places (shifted by how much longer or shorter each string before them is): everything that
//! makes up its structure (brackets, keys, colons, commas, numbers, literals, whitespace) was
//! checked when the remembered line was scanned. So it is read by comparing bytes and finding
//! where its strings end, instead of scanning it; a member's place in it is worked out only when
//! the member is asked for.

use super::scanner::string_rest;
use super::{Member, ESCAPED_STRING, NONE, PLAIN_STRING};

/// Longer lines are not remembered (the copy stays small; a token line is a few hundred bytes).
const MAX_SHAPE_BYTES: usize = 4096;
/// Most string values in a remembered line.
const MAX_STRINGS: usize = 32;

#[derive(Default)]
pub(super) struct Shape {
    /// The remembered line; empty when there is none.
    pub(super) text: Vec<u8>,
    /// Its string values: (opening quote, one past the closing quote, whether it has escapes),
    /// in order.
    strings: Vec<(u32, u32, bool)>,
    /// Its kept members, where they are in it.
    pub(super) members: Vec<Member>,
    /// For each member: how many string values end at or before its value's start and its
    /// value's end (what shifts them in a matching line), and which string value it is
    /// ([`NONE`]: not a string).
    placing: Vec<([u8; 2], u8)>,
    /// For the line matched last: `shift[k]` is how much later than in the remembered line
    /// everything after its first `k` string values is, and `escaped[k]` whether string value `k`
    /// has escapes.
    shift: Vec<i64>,
    escaped: Vec<bool>,
}

impl Shape {
    /// Remembers `text`, just scanned into `members` and `strings`, as the current line; `false`
    /// if it is too long or has too many strings to be remembered (then there is no shape).
    pub(super) fn remember(
        &mut self,
        text: &[u8],
        strings: &[(u32, u32, bool)],
        members: &[Member],
    ) -> bool {
        self.text.clear();
        self.strings.clear();
        self.members.clear();
        self.placing.clear();
        if text.len() > MAX_SHAPE_BYTES || strings.len() > MAX_STRINGS {
            return false;
        }
        self.text.extend_from_slice(text);
        self.strings.extend_from_slice(strings);
        self.members.extend_from_slice(members);
        self.shift.clear();
        self.shift.resize(strings.len() + 1, 0);
        self.escaped.clear();
        self.escaped
            .extend(strings.iter().map(|&(_, _, escaped)| escaped));
        let ended_by = |at: u32| strings.partition_point(|s| s.1 <= at) as u8;
        for m in members {
            let string = match m.value_kind {
                PLAIN_STRING | ESCAPED_STRING => strings
                    .binary_search_by_key(&m.value.0, |&(from, _, _)| from)
                    .map_or(NONE, |i| i as u8),
                _ => NONE,
            };
            self.placing
                .push(([ended_by(m.value.0), ended_by(m.value.1)], string));
        }
        true
    }

    /// Whether `line` has the remembered shape; if so it is the current line.
    pub(super) fn matches(&mut self, line: &[u8]) -> bool {
        if self.text.is_empty() {
            return false;
        }
        let n = self.strings.len();
        let (shifts, escaped) = (&mut self.shift[1..=n], &mut self.escaped[..n]);
        let (mut t, mut l, mut shift) = (0, 0, 0);
        for (k, &(from, to, base_escaped)) in self.strings.iter().enumerate() {
            // The same bytes up to the end of the string: the same string (the first unescaped
            // quote after the opening one ends it, as in the remembered line). In a stream most
            // strings (ids, types) repeat; only the token and a uuid or two change.
            let unchanged = &self.text[t..to as usize];
            if line
                .get(l..l + unchanged.len())
                .is_some_and(|b| same_bytes(b, unchanged))
            {
                shifts[k] = shift;
                escaped[k] = base_escaped;
                (t, l) = (to as usize, l + unchanged.len());
                continue;
            }
            // The bytes up to and including the string's opening quote.
            let same = &self.text[t..from as usize + 1];
            if !line
                .get(l..l + same.len())
                .is_some_and(|b| same_bytes(b, same))
            {
                return false;
            }
            l += same.len();
            let Some((end, has_escapes)) = string_rest(line, l) else {
                return false;
            };
            shift += (end - l) as i64 - i64::from(to - from - 1);
            shifts[k] = shift;
            escaped[k] = has_escapes;
            (t, l) = (to as usize, end);
        }
        line.get(l..)
            .is_some_and(|rest| same_bytes(rest, &self.text[t..]))
    }

    /// Member `i` of the remembered line: its value's kind and where it is in the current line.
    #[inline]
    pub(super) fn place(&self, i: usize) -> (u8, (u32, u32)) {
        let m = &self.members[i];
        let ([from, to], string) = self.placing[i];
        let at = |p: u32, k: u8| (i64::from(p) + self.shift[k as usize]) as u32;
        let kind = match string {
            NONE => m.value_kind,
            s if self.escaped[s as usize] => ESCAPED_STRING,
            _ => PLAIN_STRING,
        };
        (kind, (at(m.value.0, from), at(m.value.1, to)))
    }
}

/// `a == b` without a call to `memcmp` (the pieces are short): sixteen bytes at a time (see
/// [`super::special`]), the last sixteen or eight overlapping what was compared.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    if n < 16 {
        let word =
            |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    let block = |s: &[u8], i: usize| -> [u8; 16] { s[i..i + 16].try_into().expect("16 bytes") };
    let mut i = 0;
    while i + 16 < n {
        if !super::special::same16(&block(a, i), &block(b, i)) {
            return false;
        }
        i += 16;
    }
    super::special::same16(&block(a, n - 16), &block(b, n - 16))
}

#[cfg(test)]
mod tests {
    use super::same_bytes;

    /// Equal pieces of every length are equal; one differing byte anywhere is seen.
    #[test]
    fn same_bytes_sees_any_difference() {
        let a: Vec<u8> = (0..48u8).collect();
        for n in 0..a.len() {
            assert!(same_bytes(&a[..n], &a[..n]));
            assert!(!same_bytes(&a[..n], &a[..n + 1]));
            for at in 0..n {
                let mut b = a[..n].to_vec();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a[..n], &b), "{n} {at}");
            }
        }
    }
}
