//! InfluxDB line protocol as DataKit reads and writes it.
//!
//! - [`decode`] / [`Lines`]: bodies to points. [`Lines`] yields borrowed [`PointRef`]s (no copy
//!   of names, keys or values unless they hold escapes); [`decode`] gives owned [`Point`]s and
//!   knows strict (first bad line fails the body) and loose (bad lines reported, good ones kept)
//!   mode.
//! - [`Encoder`]: points to canonical line protocol in a reusable buffer.
//!
//! The grammar is the one of the original's vendored parser (InfluxDB 1.x `models/points.go`,
//! forked with `u` integers, `"…"b` binary and `[…]` arrays); where this parser deliberately
//! differs, `tests/data/lp/DIFFERENCES.md` says so.
//!
//! [`Point`]: crate::point::Point

mod decode;
pub(crate) use decode::parse_u64;
mod encode;
mod float;
mod put;

pub use decode::{
    DecodeOptions, Decoded, LineError, Lines, ParseErrorKind, PointRef, ValueRef, decode,
    decode_str,
};
pub use encode::{EncodeError, Encoder, to_line, write_float};

/// The unit of the timestamps in a body (`precision` query argument of the write API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Nanoseconds (`n`), the default.
    #[default]
    Nanosecond,
    /// Microseconds (`u`).
    Microsecond,
    /// Milliseconds (`ms`).
    Millisecond,
    /// Seconds (`s`).
    Second,
    /// Minutes (`m`).
    Minute,
    /// Hours (`h`).
    Hour,
    /// Guess per timestamp, as the original's write API does when `precision` is absent:
    /// `< 1e10` seconds, `< 1e13` milliseconds, `< 1e16` microseconds, else nanoseconds.
    Auto,
}

impl Precision {
    /// Parses `n|u|ms|s|m|h`; anything else is `None` (the original treats it as `n`, see
    /// [`Precision::parse_lenient`]).
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "n" | "ns" => Precision::Nanosecond,
            "u" | "us" => Precision::Microsecond,
            "ms" => Precision::Millisecond,
            "s" => Precision::Second,
            "m" => Precision::Minute,
            "h" => Precision::Hour,
            _ => return None,
        })
    }

    /// The original's reading of the `precision` argument: unknown strings mean nanoseconds.
    pub fn parse_lenient(s: &str) -> Precision {
        Precision::parse(s).unwrap_or(Precision::Nanosecond)
    }

    /// The name used in query strings.
    pub const fn as_str(self) -> &'static str {
        match self {
            Precision::Nanosecond => "n",
            Precision::Microsecond => "u",
            Precision::Millisecond => "ms",
            Precision::Second => "s",
            Precision::Minute => "m",
            Precision::Hour => "h",
            Precision::Auto => "auto",
        }
    }

    /// Nanoseconds per unit (the unit guessed for `ts` when `Auto`).
    pub fn multiplier(self, ts: i64) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
            // Go integer division, as `detectTimestampPrecision` does it.
            Precision::Auto => {
                if ts / 1_000_000_000 < 10 {
                    1_000_000_000
                } else if ts / 1_000_000_000_000 < 10 {
                    1_000_000
                } else if ts / 1_000_000_000_000_000 < 10 {
                    1_000
                } else {
                    1
                }
            }
        }
    }

    /// `ts` in this unit as nanoseconds, or `None` when that leaves the range the original
    /// accepts (`i64::MIN + 2 ..= i64::MAX - 1`).
    pub fn to_nanos(self, ts: i64) -> Option<i64> {
        let ns = ts.checked_mul(self.multiplier(ts))?;
        (MIN_NANO_TIME..=MAX_NANO_TIME).contains(&ns).then_some(ns)
    }
}

/// Smallest timestamp the original accepts (InfluxDB `models.MinNanoTime`).
pub const MIN_NANO_TIME: i64 = i64::MIN + 2;
/// Largest timestamp the original accepts (InfluxDB `models.MaxNanoTime`).
pub const MAX_NANO_TIME: i64 = i64::MAX - 1;
/// Longest series key (measurement + tags, and with each field key + 4) the parser accepts.
pub const MAX_KEY_LENGTH: usize = 65535;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_names_and_multipliers() {
        for (s, p, m) in [
            ("n", Precision::Nanosecond, 1),
            ("u", Precision::Microsecond, 1_000),
            ("ms", Precision::Millisecond, 1_000_000),
            ("s", Precision::Second, 1_000_000_000),
            ("m", Precision::Minute, 60_000_000_000),
            ("h", Precision::Hour, 3_600_000_000_000),
        ] {
            assert_eq!(Precision::parse(s), Some(p));
            assert_eq!(p.as_str(), s);
            assert_eq!(p.multiplier(0), m);
        }
        assert_eq!(Precision::parse("w"), None);
        assert_eq!(Precision::parse_lenient("d"), Precision::Nanosecond);
    }

    #[test]
    fn auto_precision_guesses_like_the_original() {
        let p = Precision::Auto;
        assert_eq!(p.to_nanos(1_700_000_000), Some(1_700_000_000_000_000_000));
        assert_eq!(
            p.to_nanos(1_700_000_000_123),
            Some(1_700_000_000_123_000_000)
        );
        assert_eq!(
            p.to_nanos(1_700_000_000_123_456),
            Some(1_700_000_000_123_456_000)
        );
        assert_eq!(
            p.to_nanos(1_700_000_000_123_456_789),
            Some(1_700_000_000_123_456_789)
        );
    }

    #[test]
    fn out_of_range_times_are_refused() {
        assert_eq!(Precision::Second.to_nanos(i64::MAX / 10), None);
        assert_eq!(Precision::Nanosecond.to_nanos(i64::MAX), None);
        assert_eq!(Precision::Nanosecond.to_nanos(i64::MIN + 1), None);
        assert_eq!(
            Precision::Nanosecond.to_nanos(i64::MIN + 2),
            Some(i64::MIN + 2)
        );
    }
}
