//! Durations as the original agent writes them: Go duration strings (`"10s"`, `"1m30s"`,
//! `"1.5h"`, `"300ms"`).
//!
//! A bare number (`interval = 10`) is refused, in a file as in the environment, with the fix in
//! the message (`write "10s"`). The original gives it three meanings: nanoseconds for its
//! `time.Duration` keys (`[io] flush_interval`, the interval of `cpu`, `mem`, `disk`, ...),
//! seconds for the keys of its own duration type (the interval of `swap`, `system`, ...), and a
//! decoding error of the whole file for `[http_api] timeout`, which it reads as a string. Only
//! `0` needs no unit.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration read from configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn from_secs(s: u64) -> Self {
        Dur(Duration::from_secs(s))
    }
    pub const fn from_millis(ms: u64) -> Self {
        Dur(Duration::from_millis(ms))
    }
    pub const fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for Dur {
    fn from(d: Duration) -> Self {
        Dur(d)
    }
}

/// Valid durations, for messages.
const EXAMPLES: &str = "e.g. \"10s\", \"1m30s\" or \"500ms\"";

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration: write a number and a unit, {EXAMPLES}")]
    Empty,
    #[error("negative durations are not allowed: write a positive one, {EXAMPLES}")]
    Negative,
    #[error(
        "missing unit in duration `{0}`: write \"{0}s\" for seconds (units: ns, us, ms, s, m, h)"
    )]
    MissingUnit(String),
    #[error("unknown unit `{unit}` in duration `{input}`: use ns, us, ms, s, m or h, {EXAMPLES}")]
    UnknownUnit { unit: String, input: String },
    #[error("invalid duration `{0}`: write a number and a unit, {EXAMPLES}")]
    Invalid(String),
    #[error("duration `{0}` is too large")]
    Overflow(String),
}

/// Parses a Go duration string (`time.ParseDuration` syntax, sign excluded).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let s = match s.as_bytes()[0] {
        b'-' => {
            // "-0" is zero in Go; anything else negative is refused here.
            if s[1..].trim_start_matches(['0', '.']).is_empty() {
                return Ok(Duration::ZERO);
            }
            return Err(DurationError::Negative);
        }
        b'+' => &s[1..],
        _ => s,
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0; // nanoseconds
    if bytes.is_empty() {
        return Err(DurationError::Invalid(input.to_string()));
    }
    while i < bytes.len() {
        // number: digits [ '.' digits ]
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &s[start..i];
        let mut frac_part = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let fs = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &s[fs..i];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(DurationError::Invalid(input.to_string()));
        }
        let us = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() && bytes[i] != b'.' {
            i += 1;
        }
        let unit = &s[us..i];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(input.to_string()));
        }
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    unit: unit.to_string(),
                    input: input.to_string(),
                });
            }
        };
        let overflow = || DurationError::Overflow(input.to_string());
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| overflow())?
        };
        let mut part = int.checked_mul(scale).ok_or_else(overflow)?;
        if !frac_part.is_empty() {
            // Fractions are exact to the nanosecond (extra digits truncated, as Go does).
            let digits = frac_part.len().min(30);
            let frac: u128 = frac_part[..digits].parse().map_err(|_| overflow())?;
            let denom = 10u128.pow(digits as u32);
            part = part
                .checked_add(frac.checked_mul(scale).ok_or_else(overflow)? / denom)
                .ok_or_else(overflow)?;
        }
        total = total.checked_add(part).ok_or_else(overflow)?;
    }
    if total > u64::MAX as u128 * 1_000_000_000 {
        return Err(DurationError::Overflow(input.to_string()));
    }
    Ok(Duration::new(
        (total / 1_000_000_000) as u64,
        (total % 1_000_000_000) as u32,
    ))
}

/// Formats a duration the short way round-trippable by [`parse_duration`]:
/// `10s`, `1m30s`, `1h`, `250ms`, `1.5s`.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if !ns.is_multiple_of(1_000_000_000) {
        if ns < 1_000 {
            return format!("{ns}ns");
        }
        if ns < 1_000_000 && ns.is_multiple_of(1_000) {
            return format!("{}us", ns / 1_000);
        }
        if ns < 1_000_000_000 && ns.is_multiple_of(1_000_000) {
            return format!("{}ms", ns / 1_000_000);
        }
        if ns < 60_000_000_000 {
            let s = format!("{:.9}", d.as_secs_f64());
            return format!("{}s", s.trim_end_matches('0').trim_end_matches('.'));
        }
        return format!("{ns}ns");
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    let h = secs / 3600;
    if h > 0 {
        out.push_str(&format!("{h}h"));
        secs %= 3600;
    }
    let m = secs / 60;
    if m > 0 {
        out.push_str(&format!("{m}m"));
        secs %= 60;
    }
    if secs > 0 {
        out.push_str(&format!("{secs}s"));
    }
    out
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl std::str::FromStr for Dur {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(Dur)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"10s\", \"1m30s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            // A bare number reads as its text does from the environment: `0` is zero, anything
            // else lacks its unit (see the module documentation).
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("10s", Duration::from_secs(10)),
            ("1m30s", Duration::from_secs(90)),
            ("1.5h", Duration::from_secs(5400)),
            ("300ms", Duration::from_millis(300)),
            ("2us", Duration::from_micros(2)),
            ("2\u{b5}s", Duration::from_micros(2)),
            ("7ns", Duration::from_nanos(7)),
            ("0", Duration::ZERO),
            ("+5s", Duration::from_secs(5)),
            (".5s", Duration::from_millis(500)),
            ("1h2m3s4ms", Duration::new(3723, 4_000_000)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_duration(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn refuses_bad_durations() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("-1s"), Err(DurationError::Negative));
        assert_eq!(
            parse_duration("10"),
            Err(DurationError::MissingUnit("10".into()))
        );
        assert!(
            DurationError::MissingUnit("10".into())
                .to_string()
                .contains("write \"10s\"")
        );
        assert!(matches!(
            parse_duration("10d"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("s"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn bare_numbers_read_as_their_text_does() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            d: Dur,
        }
        let read = |v: &str| toml::from_str::<T>(&format!("d = {v}")).map(|t| t.d);
        assert_eq!(read("\"10s\"").unwrap(), Dur::from_secs(10));
        assert_eq!(read("0").unwrap(), Dur::default());
        for (v, msg) in [
            ("10", "write \"10s\""),
            ("1.5", "write \"1.5s\""),
            ("-3", "negative durations are not allowed"),
        ] {
            let e = read(v).unwrap_err().to_string();
            assert!(e.contains(msg), "{v}: {e}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in [
            "10s", "1m30s", "1h", "12h", "250ms", "1.5s", "7ns", "2us", "0s", "1h0m1s",
        ] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{s}");
        }
        assert_eq!(format_duration(Duration::from_secs(3601)), "1h1s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
