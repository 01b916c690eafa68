//! Which bytes a JSON string cannot hold raw, found sixteen at a time.

/// Whether a JSON string cannot hold byte `b` raw (`"`, `\\` or a control character).
pub(super) fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The index of the first byte at or after `from` that a JSON string cannot hold raw (`"`, `\\`
/// or a control character), or `bytes.len()` if there is none: sixteen bytes at a time with
/// SSE2 (part of every x86_64), then eight at a time (SWAR), then one at a time. Shared by the
/// scanner and the output escaper (`server/event_line.rs`).
pub fn find_special(bytes: &[u8], mut from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        let (at, found) = unsafe { skip_plain_sse2(bytes, from) };
        if found {
            return at;
        }
        from = at;
    }
    while let Some(chunk) = bytes.get(from..from + 8) {
        if let Some(at) = first_special(chunk) {
            return from + at;
        }
        from += 8;
    }
    while from < bytes.len() && !is_special(bytes[from]) {
        from += 1;
    }
    from
}

/// [`find_special`] sixteen bytes at a time while sixteen are left: `(index, true)` of the first
/// special byte, or `(index, false)` where fewer than sixteen bytes are left.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn skip_plain_sse2(bytes: &[u8], mut from: usize) -> (usize, bool) {
    use std::arch::x86_64::*;
    let quote = _mm_set1_epi8(b'"' as i8);
    let backslash = _mm_set1_epi8(b'\\' as i8);
    let control = _mm_set1_epi8(0x1F);
    while from + 16 <= bytes.len() {
        // SAFETY: the 16 bytes at `from` are inside `bytes` (checked just above); an unaligned
        // load has no other requirement.
        let x = unsafe { _mm_loadu_si128(bytes.as_ptr().add(from).cast()) };
        // x ≤ 0x1F (unsigned) exactly when min(x, 0x1F) == x.
        let hits = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(x, control), x),
        );
        let mask = _mm_movemask_epi8(hits);
        if mask != 0 {
            return (from + mask.trailing_zeros() as usize, true);
        }
        from += 16;
    }
    (from, false)
}

/// Where the first byte of an 8-byte `chunk` that a JSON string cannot hold raw is, if any:
/// SWAR, each test setting a byte's high bit for a match. The lowest flagged byte is exact (a
/// borrow only ever flags bytes above a true match).
fn first_special(chunk: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    let special = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
        | has_zero(x ^ (ONES * b'"' as u64))
        | has_zero(x ^ (ONES * b'\\' as u64));
    (special != 0).then(|| (special.trailing_zeros() / 8) as usize)
}
