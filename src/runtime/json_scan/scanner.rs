//! The full, validating one-pass scan of a line (the way every new shape of line is read).

use super::{
    find_special, key_head, Member, ESCAPED_STRING, KEPT_DEPTH, MAX_DEPTH, MAX_MEMBERS,
    MAX_OBJECTS, NONE, PLAIN_STRING,
};

/// Scans `b` as one JSON object (surrounding whitespace allowed): fills `members` with the
/// members of the kept objects (root id 0) and `strings` with where every string value is
/// (opening quote, one past the closing one) and whether it has escapes, in order. Returns the number of members, or `None`
/// (see the module docs).
pub(super) fn scan(
    b: &[u8],
    members: &mut [Member; MAX_MEMBERS],
    strings: &mut Vec<(u32, u32, bool)>,
) -> Option<usize> {
    strings.clear();
    let mut s = Scanner {
        b,
        i: 0,
        members,
        len: 0,
        objects: 0,
        strings,
    };
    s.ws();
    s.object(0, true)?;
    s.ws();
    (s.i == b.len()).then_some(s.len)
}

/// The rest of a string literal from `i`, just after its opening quote: one past its closing
/// quote, and whether it has escapes; `None` if it is not a valid JSON string (or has a
/// surrogate escape, whose validity is left to `serde_json`).
#[inline(always)]
pub(super) fn string_rest(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = find_special(b, i);
        let c = *b.get(i)?;
        i += 1;
        match c {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                match *b.get(i)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 1,
                    b'u' => {
                        let hex = b.get(i + 1..i + 5)?;
                        let hex = std::str::from_utf8(hex).ok()?;
                        let code = u16::from_str_radix(hex, 16).ok()?;
                        // Surrogates: whether a pair is valid is serde_json's call.
                        if (0xD800..=0xDFFF).contains(&code) || hex.starts_with(['+', '-']) {
                            return None;
                        }
                        i += 5;
                    }
                    _ => return None,
                }
            }
            // A raw control character.
            _ => return None,
        }
    }
}

struct Scanner<'s> {
    b: &'s [u8],
    i: usize,
    members: &'s mut [Member; MAX_MEMBERS],
    len: usize,
    objects: u8,
    strings: &'s mut Vec<(u32, u32, bool)>,
}

impl Scanner<'_> {
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

    /// An object at `depth`; its members are kept if `keep`. Returns its kept id, or [`NONE`].
    fn object(&mut self, depth: usize, keep: bool) -> Option<u8> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let id = if keep {
            let id = self.objects;
            self.objects = Some(id + 1).filter(|&n| n < MAX_OBJECTS)?;
            id
        } else {
            NONE
        };
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(id);
        }
        loop {
            self.ws();
            self.eat(b'"')?;
            let k = self.i;
            let (end, escaped) = string_rest(self.b, k)?;
            if escaped {
                // An escaped key: whether it equals another is serde_json's call.
                return None;
            }
            self.i = end;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let v = self.i;
            let value_kind = self.value(depth + 1, keep && depth < KEPT_DEPTH)?;
            if keep {
                *self.members.get_mut(self.len)? = Member {
                    head: key_head(self.b, k, end - 1),
                    parent: id,
                    value_kind,
                    key: (k as u32, end as u32 - 1),
                    value: (v as u32, self.i as u32),
                };
                self.len += 1;
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(id);
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
            self.value(depth + 1, false)?;
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

    /// A value; its kind (see [`Member::value_kind`]).
    #[inline(always)]
    fn value(&mut self, depth: usize, keep: bool) -> Option<u8> {
        match self.peek()? {
            b'"' => {
                let from = self.i;
                let (end, escaped) = string_rest(self.b, from + 1)?;
                self.i = end;
                self.strings.push((from as u32, end as u32, escaped));
                Some(if escaped {
                    ESCAPED_STRING
                } else {
                    PLAIN_STRING
                })
            }
            b'{' => self.object(depth, keep),
            b'[' => self.array(depth).map(|_| NONE),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<u8> {
        self.b[self.i..].starts_with(word).then(|| {
            self.i += word.len();
            NONE
        })
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - from
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<u8> {
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
        Some(NONE)
    }
}
