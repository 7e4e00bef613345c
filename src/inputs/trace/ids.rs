//! Trace and span ids: how the original writes them, and the number the sampler hashes.

use std::fmt::Write;

/// The 64-bit number of a trace id as the original's sampler computes it, so that agents of
/// either kind keep or drop the same traces: a decimal id is its value; a lower-case hex id of
/// at most 16 digits is its value; anything else (a 128-bit hex id, other text) is the last 8
/// bytes of its text read as a big-endian number (the last 16 digits of its bytes in hex).
pub fn unify_to_u64(id: &str) -> u64 {
    if id.is_empty() {
        return 0;
    }
    let mut is_int = true;
    let mut is_hex = true;
    for b in id.bytes() {
        if !b.is_ascii_digit() {
            is_int = false;
            if !(b'a'..=b'f').contains(&b) {
                is_hex = false;
                break;
            }
        }
    }
    // Go's ParseUint rejects a sign; `u64::from_str_radix` takes a leading `+`, which the
    // checks above already exclude.
    if is_int && let Ok(v) = id.parse::<u64>() {
        return v;
    }
    if is_hex && let Ok(v) = u64::from_str_radix(id, 16) {
        return v;
    }
    let bytes = id.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(8)..];
    tail.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Whether the sampler at `threshold` (rate × 10 000, truncated) keeps the trace `trace_id`.
pub fn sampler_keeps(trace_id: &str, threshold: u64) -> bool {
    unify_to_u64(trace_id) % 10_000 <= threshold
}

/// A span or parent id in `base` 10 or 16 (zero-padded to 16 digits); `0` is always `"0"`.
pub fn format_span_id(id: u64, hex: bool) -> String {
    if id == 0 {
        return "0".into();
    }
    if hex { padded_hex(id) } else { id.to_string() }
}

/// `id` as 16 lower-case hex digits.
pub fn padded_hex(id: u64) -> String {
    let mut s = String::with_capacity(16);
    let _ = write!(s, "{id:016x}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_unify_as_the_original_does() {
        assert_eq!(unify_to_u64(""), 0);
        assert_eq!(unify_to_u64("12345"), 12345);
        assert_eq!(unify_to_u64("00ff"), 0xff);
        assert_eq!(unify_to_u64("abc"), 0xabc);
        // Too large for decimal, then read as hex.
        assert_eq!(unify_to_u64("99999999999999999999"), {
            let b = b"99999999";
            b.iter().fold(0u64, |a, c| (a << 8) | u64::from(*c))
        });
        // A 128-bit hex id: the last 8 characters' bytes.
        let id = "6565a1b200000000a3f1c2d4e5f60718";
        assert_eq!(unify_to_u64(id), u64::from_be_bytes(*b"e5f60718"));
        // Upper case is not hex for the original.
        assert_eq!(unify_to_u64("ABC"), 0x414243);
        assert_eq!(unify_to_u64("+12"), 0x2b3132);
    }

    #[test]
    fn sampler_keeps_by_the_id_modulo_10000() {
        // 10 000 × 0.1 = 1000: kept when id % 10000 <= 1000.
        assert!(sampler_keeps("1000", 1000));
        assert!(sampler_keeps("21000", 1000));
        assert!(!sampler_keeps("1001", 1000));
        assert!(sampler_keeps("0", 0));
        assert!(!sampler_keeps("1", 0));
    }

    #[test]
    fn span_ids_format_in_either_base() {
        assert_eq!(format_span_id(0, true), "0");
        assert_eq!(format_span_id(255, false), "255");
        assert_eq!(format_span_id(255, true), "00000000000000ff");
    }
}
