//! The forms in which a known secret can reach output: as it is, escaped inside a JSON string
//! (a vendor's raw line, a tool input quoted in a tool output), base64-encoded (an HTTP basic
//! `Authorization`, a config blob, a `.netrc` dump) and URL-encoded (a query string, a DSN).
//! The matcher looks for each of them.

use super::names::MIN_SECRET_LEN;

/// `secret` and every encoded form of it that differs from it, without repeats.
pub fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    let mut push = |form: String| {
        if form.len() >= MIN_SECRET_LEN && !out.contains(&form) {
            out.push(form);
        }
    };
    let json = json_escaped(secret, false);
    push(json_escaped(secret, true));
    if secret.contains('/') {
        push(json.replace('/', "\\/"));
    }
    // A JSON string inside a JSON string (a tool's JSON output quoted in a vendor line).
    push(json_escaped(&json, false));
    push(json);
    for alphabet in [STANDARD, URL_SAFE] {
        for align in 0..3 {
            push(base64_middle(secret.as_bytes(), align, alphabet));
        }
    }
    push(percent_encoded(secret, b"0123456789ABCDEF", false));
    push(percent_encoded(secret, b"0123456789abcdef", false));
    push(percent_encoded(secret, b"0123456789ABCDEF", true));
    out
}

/// The inside of the JSON string literal of `s` (no quotes). `ascii_only` writes every
/// non-ASCII character as `\uXXXX` (UTF-16 pairs above the BMP), as Python's `json.dumps` does.
fn json_escaped(s: &str, ascii_only: bool) -> String {
    let quoted = serde_json::to_string(s).expect("strings serialize");
    let inner = &quoted[1..quoted.len() - 1];
    if !ascii_only {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that depend only on `secret` when it starts `align` bytes (0, 1 or 2)
/// after a 3-byte group boundary of the encoded data: the characters that also carry bits of
/// the bytes around it (unknown) are left out, so the form matches wherever the secret sits.
fn base64_middle(secret: &[u8], align: usize, alphabet: &[u8; 64]) -> String {
    let mut data = vec![0u8; align];
    data.extend_from_slice(secret);
    let encoded = base64_unpadded(&data, alphabet);
    // Characters 0..skip carry bits of the `align` bytes before the secret; the last one, when
    // the bits do not end on a character boundary, bits of the byte after it.
    let skip = (align * 8).div_ceil(6);
    let whole = data.len() * 8 / 6;
    encoded.get(skip..whole).unwrap_or_default().to_string()
}

fn base64_unpadded(data: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `s` with every byte outside the unreserved set (`A-Z a-z 0-9 - . _ ~`) percent-encoded in
/// `hex` digits; `form` writes a space as `+` (HTML forms).
fn percent_encoded(s: &str, hex: &[u8; 16], form: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(hex[usize::from(b >> 4)] as char);
            out.push(hex[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form is found in the real encoding of the secret with 0, 1 or 2 bytes before it and
    /// any bytes after it, by both alphabets.
    #[test]
    fn base64_forms_are_found_at_every_alignment() {
        let secret = "s3cr3t-Value/with+odd?bytes";
        let forms = forms(secret);
        for before in ["", "a", "ab", "abc", "user:"] {
            for after in ["", "x", "xy", "\n"] {
                let data = format!("{before}{secret}{after}");
                for alphabet in [STANDARD, URL_SAFE] {
                    let encoded = base64_unpadded(data.as_bytes(), alphabet);
                    assert!(
                        forms.iter().any(|f| encoded.contains(f.as_str())),
                        "{before:?}+secret+{after:?} → {encoded}"
                    );
                }
            }
        }
    }

    #[test]
    fn escaped_and_url_encoded_forms() {
        let forms = forms("pa\"ss\\wörd/1 2");
        for expected in [
            r#"pa\"ss\\wörd/1 2"#,
            r#"pa\"ss\\w\u00f6rd/1 2"#,
            r#"pa\"ss\\wörd\/1 2"#,
            r#"pa\\\"ss\\\\wörd/1 2"#,
            "pa%22ss%5Cw%C3%B6rd%2F1%202",
            "pa%22ss%5cw%c3%b6rd%2f1%202",
            "pa%22ss%5Cw%C3%B6rd%2F1+2",
        ] {
            assert!(
                forms.iter().any(|f| f == expected),
                "{expected} in {forms:?}"
            );
        }
        // A plain secret has only its base64 forms besides itself (at most 3 alignments × 2
        // alphabets).
        let plain = super::forms("abcdefghijkl");
        assert!(plain.len() <= 1 + 6, "{plain:?}");
        assert!(plain.iter().all(|f| !f.contains(['%', '\\'])), "{plain:?}");
    }
}

#[cfg(test)]
pub(super) mod tests_support {
    /// Standard base64 without padding, for tests elsewhere in `hygiene`.
    pub fn base64(data: &[u8]) -> String {
        super::base64_unpadded(data, super::STANDARD)
    }
}
