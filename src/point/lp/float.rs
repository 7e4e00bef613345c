//! Float parsing and formatting for line protocol.
//!
//! Parsing takes the exact fast path (Clinger) for up to 19 digits and a power of ten up to
//! 22, and falls back to the standard library (correctly rounded) otherwise. Formatting gives
//! what Go's `strconv.FormatFloat(v, 'f', -1, 64)` gives: the shortest digits that read back
//! to `v`, never an exponent.

use super::ParseErrorKind;
use super::put::put;

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
    if write_short(v, out) {
        return;
    }
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

/// The common metric case without Ryu: `|v| < 2^33` with at most 6 decimals. Then `v * 1e6`
/// is an integer M below 2^53 and `M / 1e6` (one correctly rounded division) reads back as
/// `v`; as the gap between two 6-decimal numbers (1e-6) exceeds the spacing of doubles there
/// (at most 2^-20), M/10^6 is the only decimal of at most 6 decimals that reads back as `v`,
/// hence also the shortest one.
#[inline]
fn write_short(v: f64, out: &mut Vec<u8>) -> bool {
    let a = v.abs();
    // Also false for NaN (callers pass finite values).
    if a.is_nan() || a >= 8_589_934_592.0 {
        return false;
    }
    let m = a * 1e6;
    let mi = m as u64;
    if mi as f64 != m || (mi as f64) / 1e6 != a {
        return false;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    put(out, itoa::Buffer::new().format(mi / 1_000_000).as_bytes());
    let mut frac = mi % 1_000_000;
    if frac != 0 {
        let mut digits = [b'0'; 7];
        digits[0] = b'.';
        for d in digits[1..].iter_mut().rev() {
            *d = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        let mut end = 7;
        while digits[end - 1] == b'0' {
            end -= 1;
        }
        put(out, &digits[..end]);
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
