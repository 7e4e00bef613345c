//! Float parsing and formatting for line protocol.
//!
//! Parsing takes the exact fast path (Clinger) for up to 19 digits and a power of ten up to
//! 22, and falls back to the standard library (correctly rounded) otherwise. Formatting gives
//! what Go's `strconv.FormatFloat(v, 'f', -1, 64)` gives: the shortest digits that read back
//! to `v`, never an exponent.

use super::ParseErrorKind;
use super::put::{put_micros, put_u64};

pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses `-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`; the error carries the offset in `tok`.
#[inline]
pub(super) fn parse(tok: &[u8]) -> Result<f64, (usize, ParseErrorKind)> {
    let n = tok.len();
    let mut i = 0;
    let neg = tok.first() == Some(&b'-');
    if neg {
        i = 1;
    }
    let mut mant: u64 = 0;
    let int_start = i;
    while i < n && tok[i].is_ascii_digit() {
        mant = mant.wrapping_mul(10).wrapping_add((tok[i] - b'0') as u64);
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < n && tok[i] == b'.' {
        i += 1;
        let fs = i;
        while i < n && tok[i].is_ascii_digit() {
            mant = mant.wrapping_mul(10).wrapping_add((tok[i] - b'0') as u64);
            i += 1;
        }
        frac_digits = i - fs;
    }
    if int_digits + frac_digits == 0 {
        return Err((int_start.min(n), ParseErrorKind::InvalidNumber));
    }
    let mut exp: i64 = 0;
    if i < n && (tok[i] == b'e' || tok[i] == b'E') {
        let epos = i;
        i += 1;
        let mut eneg = false;
        if i < n && (tok[i] == b'+' || tok[i] == b'-') {
            eneg = tok[i] == b'-';
            i += 1;
        }
        let es = i;
        while i < n && tok[i].is_ascii_digit() {
            if exp < 1_000_000 {
                exp = exp * 10 + (tok[i] - b'0') as i64;
            }
            i += 1;
        }
        if i == es {
            return Err((epos, ParseErrorKind::InvalidFloat));
        }
        if eneg {
            exp = -exp;
        }
    }
    if i != n {
        return Err((i, ParseErrorKind::InvalidNumber));
    }
    let e10 = exp - frac_digits as i64;
    if int_digits + frac_digits <= 19 && mant <= (1u64 << 53) && (-22..=22).contains(&e10) {
        let m = mant as f64;
        let v = if e10 >= 0 {
            m * POW10[e10 as usize]
        } else {
            m / POW10[(-e10) as usize]
        };
        return Ok(if neg { -v } else { v });
    }
    // The token is ASCII by construction.
    let s = std::str::from_utf8(tok).map_err(|_| (0, ParseErrorKind::InvalidNumber))?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err((0, ParseErrorKind::InvalidFloat)),
    }
}

/// Appends `v` (finite) as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
#[inline]
pub fn write(v: f64, out: &mut Vec<u8>) {
    if !write_short(v, out) {
        write_ryu(v, out);
    }
}

/// [`write`] for every finite value: Ryu's shortest digits, laid out without an exponent.
fn write_ryu(v: f64, out: &mut Vec<u8>) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    let Some(e) = memchr::memchr(b'e', s) else {
        // `123.0` → `123`; `0.25` stays.
        match s.strip_suffix(b".0") {
            Some(t) => out.extend_from_slice(t),
            None => out.extend_from_slice(s),
        }
        return;
    };
    // `d.ddde±x` → plain decimal.
    let (mant, exp) = (&s[..e], &s[e + 1..]);
    let (neg, mant) = match mant.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mant),
    };
    let mut digits: smallvec::SmallVec<[u8; 24]> = smallvec::SmallVec::new();
    digits.extend(mant.iter().copied().filter(|c| *c != b'.'));
    let int_len = 1 + std::str::from_utf8(exp)
        .ok()
        .and_then(|x| x.parse::<i64>().ok())
        .unwrap_or(0);
    if neg {
        out.push(b'-');
    }
    let nd = digits.len() as i64;
    if int_len <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-int_len) as usize));
        out.extend_from_slice(&digits);
    } else if int_len >= nd {
        out.extend_from_slice(&digits);
        out.extend(std::iter::repeat_n(b'0', (int_len - nd) as usize));
    } else {
        out.extend_from_slice(&digits[..int_len as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[int_len as usize..]);
    }
}

/// The common metric case without Ryu: `2^-20 <= |v| < 2^33` (or 0) and a decimal `M / 10^6`
/// that reads back as `v`. Spacing of doubles there is at most 2^-20 < 10^-6, so at most one
/// decimal of at most 6 decimals reads back as `v`; it is then the shortest one.
///
/// `v = mant * 2^-s` (`mant` the 53-bit significand, 20 <= s <= 72). `M` is `v * 10^6`
/// rounded to an integer, computed exactly in 128 bits, and `M / 10^6` reads back as `v` when
/// it lies within half a spacing of `v`: `|mant * 10^6 - M * 2^s| < 10^6 / 2` (a quarter on
/// a power of two, where the spacing below is half). All integer arithmetic: no division,
/// whose latency was most of this function's time.
#[inline]
fn write_short(v: f64, out: &mut Vec<u8>) -> bool {
    let bits = v.to_bits();
    let micros = if bits << 1 == 0 {
        0 // ±0
    } else {
        let biased = ((bits >> 52) & 0x7ff) as u32;
        // 2^-20 <= |v| < 2^33 (also rules out NaN and infinities).
        if !(1003..1056).contains(&biased) {
            return false;
        }
        let low = bits & ((1 << 52) - 1);
        let mant = (low | (1 << 52)) as u128;
        let s = 1075 - biased;
        let x = mant * 1_000_000;
        let m = (x + (1u128 << (s - 1))) >> s;
        let back = m << s;
        let dist = back.abs_diff(x);
        let limit = if low == 0 { 250_000 } else { 500_000 };
        if dist >= limit {
            return false;
        }
        m as u64
    };
    if v.is_sign_negative() {
        out.push(b'-');
    }
    put_u64(out, micros / 1_000_000);
    let frac = (micros % 1_000_000) as u32;
    if frac != 0 {
        put_micros(out, frac);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        write(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_like_go_f_minus_one() {
        for (v, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (1e16, "10000000000000000"),
            (1e21, "1000000000000000000000"),
            (1.5e-7, "0.00000015"),
            (1e-7, "0.0000001"),
            (123456789012345680.0, "123456789012345680"),
            (f64::MAX, &format!("{}", f64::MAX)),
            (5e-324, &format!("{}", 5e-324)),
            (18446744073709551615.0, "18446744073709552000"),
            (-9223372036854775808.0, "-9223372036854776000"),
            // An exact tie between two shortest forms: Go (and Ryu) pick the even digit.
            (-276_139_275_799_859.62, "-276139275799859.62"),
            (12.517, "12.517"),
            (-0.07, "-0.07"),
            (0.000001, "0.000001"),
            (0.0000001, "0.0000001"),
            (8589934591.5, "8589934591.5"),
            (8589934592.5, "8589934592.5"),
            (1.0000005, "1.0000005"),
            (123456.123456, "123456.123456"),
        ] {
            assert_eq!(fmt(v), want, "{v:e}");
        }
    }

    #[test]
    fn the_short_path_writes_what_ryu_writes() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut short, mut total) = (0, 0);
        for i in 0..400_000u64 {
            let r = next();
            let v = match i % 4 {
                // k-decimal values, as metrics have them
                0 => (r % 10_000_000_000) as f64 / 10f64.powi((r >> 40) as i32 % 8),
                // arbitrary bit patterns
                1 => f64::from_bits(r),
                // values in the short path's range
                2 => f64::from_bits((r & ((1 << 52) - 1)) | ((1003 + (r >> 58) % 53) << 52)),
                // neighbours of k-decimal values
                _ => {
                    let d = (r % 1_000_000_000) as f64 / 10f64.powi((r >> 40) as i32 % 7);
                    f64::from_bits(d.to_bits().wrapping_add((r >> 62).wrapping_sub(1)))
                }
            };
            if !v.is_finite() {
                continue;
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            total += 1;
            if write_short(v, &mut a) {
                short += 1;
                write_ryu(v, &mut b);
                assert_eq!(
                    String::from_utf8(a).unwrap(),
                    String::from_utf8(b).unwrap(),
                    "{v:e} ({:#x})",
                    v.to_bits()
                );
            }
        }
        assert!(
            short * 4 > total,
            "the short path was taken {short} times of {total}"
        );
        for v in [0.5, 0.25, 1.0, 2.0, 8.0, 0.015625, 1024.0, -4.0] {
            let mut a = Vec::new();
            assert!(write_short(v, &mut a), "{v}");
        }
    }

    #[test]
    fn parses_every_accepted_form() {
        for (s, want) in [
            ("1", 1.0),
            ("-1", -1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("1.5e3", 1500.0),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1e+3", 1000.0),
            ("1e-3", 0.001),
            ("1.e2", 100.0),
            ("007.50", 7.5),
            ("-0", -0.0),
            ("1e-400", 0.0),
            ("0.1", 0.1),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("4.9406564584124654e-324", 5e-324),
            ("9007199254740993", 9007199254740992.0),
        ] {
            assert_eq!(parse(s.as_bytes()), Ok(want), "{s}");
        }
    }

    #[test]
    fn refuses_malformed_floats() {
        for s in [
            "-", ".", "-.", "1.2.3", "1e", "1e+", "e5", ".e5", "1e5e5", "1-", "1+2", "1x", "1e400",
            "--1", "1..",
        ] {
            assert!(parse(s.as_bytes()).is_err(), "{s}");
        }
    }
}
