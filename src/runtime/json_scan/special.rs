//! Which bytes a JSON string cannot hold raw, found sixteen at a time.

/// Whether a JSON string cannot hold byte `b` raw (`"`, `\\` or a control character).
#[cfg_attr(not(test), allow(dead_code))]
pub(super) fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The index of the first byte at or after `from` that a JSON string cannot hold raw (`"`, `\\`
/// or a control character), or `bytes.len()` if there is none. Shared by the scanner and the
/// output escaper (`server/event_line.rs`): on x86_64 sixteen bytes at a time with SSE2, which
/// every x86_64 CPU has; elsewhere eight at a time (SWAR).
pub fn find_special(bytes: &[u8], from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
    return unsafe { find_special_sse2(bytes, from) };
    #[cfg(not(target_arch = "x86_64"))]
    return find_special_swar(bytes, from);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn find_special_sse2(bytes: &[u8], mut from: usize) -> usize {
    use std::arch::x86_64::*;
    /// One bit per special byte of `chunk`.
    #[target_feature(enable = "sse2")]
    fn special_bits(chunk: &[u8; 16]) -> u32 {
        // SAFETY: `chunk` is 16 readable bytes; an unaligned load has no other requirement.
        let x = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        // x ≤ 0x1F (unsigned) exactly when min(x, 0x1F) == x.
        let hits = _mm_or_si128(
            _mm_or_si128(
                _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8)),
                _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8)),
            ),
            _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x),
        );
        _mm_movemask_epi8(hits) as u32
    }
    let chunk = |at: usize| -> &[u8; 16] { bytes[at..at + 16].try_into().expect("16 bytes") };
    let len = bytes.len();
    while from + 16 <= len {
        let bits = special_bits(chunk(from));
        if bits != 0 {
            return from + bits.trailing_zeros() as usize;
        }
        from += 16;
    }
    if from >= len {
        return len;
    }
    let bits = if len >= 16 {
        // The last sixteen bytes, overlapping what was seen: the bits before `from` dropped.
        special_bits(chunk(len - 16)) >> (from - (len - 16))
    } else {
        // Fewer than sixteen bytes in all: a copy padded with a plain byte.
        let mut padded = [b'a'; 16];
        padded[..len - from].copy_from_slice(&bytes[from..]);
        special_bits(&padded)
    };
    match bits {
        0 => len,
        bits => from + bits.trailing_zeros() as usize,
    }
}

/// Whether two 16-byte blocks are equal: one SSE2 comparison on x86_64.
#[inline(always)]
pub(super) fn same16(a: &[u8; 16], b: &[u8; 16]) -> bool {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of the x86_64 baseline.
    return unsafe { same16_sse2(a, b) };
    #[cfg(not(target_arch = "x86_64"))]
    return a == b;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn same16_sse2(a: &[u8; 16], b: &[u8; 16]) -> bool {
    use std::arch::x86_64::*;
    // SAFETY: both are 16 readable bytes; an unaligned load has no other requirement.
    let (x, y) = unsafe {
        (
            _mm_loadu_si128(a.as_ptr().cast()),
            _mm_loadu_si128(b.as_ptr().cast()),
        )
    };
    _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xFFFF
}

/// [`find_special`] eight bytes at a time (SWAR), then one at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn find_special_swar(bytes: &[u8], mut from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = bytes.get(from..from + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Each test sets a byte's high bit for a match; the lowest flagged byte is exact (a
        // borrow only ever flags bytes above a true match).
        let special = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | has_zero(x ^ (ONES * b'"' as u64))
            | has_zero(x ^ (ONES * b'\\' as u64));
        if special != 0 {
            return from + (special.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < bytes.len() && !is_special(bytes[from]) {
        from += 1;
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways find the first special byte wherever it sits (across the sixteen- and eight-byte
    /// steps and the tail), from any start.
    #[test]
    fn finds_the_first_special_byte_from_any_start() {
        let plain = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for len in 0..plain.len() {
            for at in 0..=len {
                for special in [b'"', b'\\', 0, 0x1F, b'\n'] {
                    let mut bytes = plain[..len].to_vec();
                    if at < len {
                        bytes[at] = special;
                    }
                    bytes.extend_from_slice("é\u{7f}".as_bytes());
                    for from in 0..=bytes.len() {
                        let expected = (from..bytes.len())
                            .find(|&i| is_special(bytes[i]))
                            .unwrap_or(bytes.len());
                        assert_eq!(find_special(&bytes, from), expected, "{bytes:?} {from}");
                        assert_eq!(find_special_swar(&bytes, from), expected);
                    }
                }
            }
        }
    }
}
