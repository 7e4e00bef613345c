//! Appending short byte strings without a `memcpy` call.
//!
//! Line-protocol output is made of many short pieces (keys, tag values, numbers: mostly under
//! 16 bytes); `extend_from_slice` calls the C library's `memmove` for each, and that call was
//! a fifth of the encoder's time. Pieces of up to 32 bytes (a 19-digit timestamp, a host name)
//! are copied here with at most two overlapping 16-, 8- or 4-byte moves.

/// Appends `b` to `buf`.
#[inline(always)]
pub(super) fn put(buf: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n > 32 {
        buf.extend_from_slice(b);
        return;
    }
    buf.reserve(32);
    let len = buf.len();
    let src = b.as_ptr();
    // SAFETY: after `reserve(32)` the capacity is at least `len + 32 >= len + n`. Every write
    // below lands in `[len, len + n)` (for n >= 16: `[0, 16)` and `[n - 16, n)`; for
    // 8 <= n < 16: `[0, 8)` and `[n - 8, n)`; for 4 <= n < 8: `[0, 4)` and `[n - 4, n)`; else
    // each byte below n), and every read in `b`'s `[0, n)`.
    // Those bytes are initialised by the writes before `set_len`.
    unsafe {
        let dst = buf.as_mut_ptr().add(len);
        if n >= 16 {
            let lo = src.cast::<u128>().read_unaligned();
            let hi = src.add(n - 16).cast::<u128>().read_unaligned();
            dst.cast::<u128>().write_unaligned(lo);
            dst.add(n - 16).cast::<u128>().write_unaligned(hi);
        } else if n >= 8 {
            let lo = src.cast::<u64>().read_unaligned();
            let hi = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(lo);
            dst.add(n - 8).cast::<u64>().write_unaligned(hi);
        } else if n >= 4 {
            let lo = src.cast::<u32>().read_unaligned();
            let hi = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(lo);
            dst.add(n - 4).cast::<u32>().write_unaligned(hi);
        } else {
            for i in 0..n {
                *dst.add(i) = *src.add(i);
            }
        }
        buf.set_len(len + n);
    }
}

/// The eight decimal digits of `x < 10^8` as byte values 0–9, the most significant digit in the
/// lowest byte (SWAR: pairs, then digits, each split with a multiply and a shift).
#[inline(always)]
fn eight_digits(x: u32) -> u64 {
    debug_assert!(x < 100_000_000);
    // [x / 10^4, x % 10^4] in 32-bit lanes.
    let v = (x / 10_000) as u64 | (((x % 10_000) as u64) << 32);
    // Each lane (< 10^4) into [lane / 100, lane % 100] in 16-bit lanes: n / 100 ==
    // (n * 5243) >> 19 for n < 43 699.
    let hundreds = ((v * 5243) >> 19) & 0x0000_007f_0000_007f;
    let v = hundreds | ((v - hundreds * 100) << 16);
    // Each 16-bit lane (< 100) into [lane / 10, lane % 10] bytes: n / 10 == (n * 103) >> 10
    // for n < 179.
    let tens = ((v * 103) >> 10) & 0x000f_000f_000f_000f;
    tens | ((v - tens * 10) << 8)
}

const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// Appends the decimal digits of `x < 10^8` without leading zeros ("0" for 0).
#[inline(always)]
fn put_short_u32(buf: &mut Vec<u8>, x: u32) {
    if x < 100 {
        // One or two digits (most counters, percentages' integer parts): one multiply.
        let tens = (x * 103) >> 10;
        let word = if x < 10 {
            b'0' as u64 + x as u64
        } else {
            (b'0' as u64 + tens as u64) | ((b'0' as u64 + (x - tens * 10) as u64) << 8)
        };
        put_word(buf, word, 1 + (x >= 10) as usize);
        return;
    }
    let d = eight_digits(x);
    // Leading zero digits are the low zero bytes; keep at least one digit.
    let lead = ((d | (1 << 56)).trailing_zeros() / 8) as usize;
    let ascii = (d + ASCII_ZEROS) >> (lead * 8);
    put_word(buf, ascii, 8 - lead);
}

/// Appends the first `n <= 8` bytes of `word` (little-endian).
#[inline(always)]
fn put_word(buf: &mut Vec<u8>, word: u64, n: usize) {
    debug_assert!(n <= 8);
    buf.reserve(8);
    let len = buf.len();
    // SAFETY: after `reserve(8)` the capacity is at least `len + 8`; the 8 bytes written are
    // in capacity and the first `n` of them are initialised before `set_len(len + n)`.
    unsafe {
        buf.as_mut_ptr()
            .add(len)
            .cast::<u64>()
            .write_unaligned(word.to_le());
        buf.set_len(len + n);
    }
}

/// Appends the decimal form of `x` (what `itoa` writes), built in registers: a digit buffer
/// on the stack, written a byte or two at a time and then read back a word at a time, stalls
/// on store forwarding.
#[inline]
pub(super) fn put_u64(buf: &mut Vec<u8>, x: u64) {
    const E8: u64 = 100_000_000;
    if x < E8 {
        put_short_u32(buf, x as u32);
    } else if x < E8 * E8 {
        put_short_u32(buf, (x / E8) as u32);
        put_word(buf, eight_digits((x % E8) as u32) + ASCII_ZEROS, 8);
    } else {
        let top = x / (E8 * E8);
        let rest = x % (E8 * E8);
        put_short_u32(buf, top as u32);
        put_word(buf, eight_digits((rest / E8) as u32) + ASCII_ZEROS, 8);
        put_word(buf, eight_digits((rest % E8) as u32) + ASCII_ZEROS, 8);
    }
}

/// [`put_u64`] for signed numbers.
#[inline]
pub(super) fn put_i64(buf: &mut Vec<u8>, x: i64) {
    if x < 0 {
        buf.push(b'-');
    }
    put_u64(buf, x.unsigned_abs());
}

/// Appends `.` and the decimals of `frac / 10^6` (`0 < frac < 10^6`) without trailing zeros.
#[inline]
pub(super) fn put_micros(buf: &mut Vec<u8>, frac: u32) {
    debug_assert!(frac > 0 && frac < 1_000_000);
    // `frac * 100` as eight digits: the six decimals in bytes 0..6, then two zeros.
    let d = eight_digits(frac * 100);
    // Trailing zero decimals are the high zero bytes of the six.
    let keep = 8 - (d.leading_zeros() / 8) as usize;
    put_word(buf, b'.' as u64 | ((d + ASCII_ZEROS) << 8), 1 + keep);
}

#[cfg(test)]
mod tests {
    use super::{put, put_i64, put_micros, put_u64};

    #[test]
    fn integers_are_written_like_itoa() {
        let mut vals: Vec<u64> = vec![0, 1, 9, 10, 99, 100, u64::MAX, u64::MAX - 1];
        for p in 0..20 {
            let t = 10u64.pow(p);
            vals.extend([t - 1, t, t + 1, t.saturating_mul(7) / 3]);
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push(x >> (x % 64));
        }
        for &v in &vals {
            let mut buf = b"#".to_vec();
            put_u64(&mut buf, v);
            assert_eq!(&buf[1..], itoa::Buffer::new().format(v).as_bytes(), "{v}");
            let i = v as i64;
            let mut buf = Vec::new();
            put_i64(&mut buf, i);
            assert_eq!(buf, itoa::Buffer::new().format(i).as_bytes(), "{i}");
        }
        let mut buf = Vec::new();
        put_i64(&mut buf, i64::MIN);
        assert_eq!(buf, b"-9223372036854775808");
    }

    #[test]
    fn micros_drop_trailing_zeros() {
        for frac in 1..1_000_000u32 {
            let mut buf = b"7".to_vec();
            put_micros(&mut buf, frac);
            let want = format!("7.{frac:06}");
            assert_eq!(
                std::str::from_utf8(&buf).unwrap(),
                want.trim_end_matches('0'),
                "{frac}"
            );
        }
    }

    #[test]
    fn every_length_appends_exactly_the_bytes() {
        let src: Vec<u8> = (0u8..70).map(|i| b'a' + i % 26).collect();
        for prefix in [0usize, 1, 7, 15] {
            for n in 0..=src.len() {
                let mut buf = vec![b'#'; prefix];
                put(&mut buf, &src[..n]);
                let mut want = vec![b'#'; prefix];
                want.extend_from_slice(&src[..n]);
                assert_eq!(buf, want, "prefix {prefix}, n {n}");
            }
        }
    }
}
