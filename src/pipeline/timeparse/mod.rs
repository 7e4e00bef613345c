//! Time text: reading and writing dates the way DataKit's pipeline functions do, built on jiff.
//!
//! - `zone`: zone arguments (`""`, `+8`, IANA names), civil fields to Unix nanoseconds, and
//!   zone offsets and abbreviations as text;
//! - `golayout`: Go reference-time layouts (`2006-01-02 15:04:05`), parsed and formatted;
//! - `strftime`: `%Y-%m-%d` directives (itchyny/timefmt-go's set), format only;
//! - `guess`: date text of unknown layout, as `araddon/dateparse` reads it (what
//!   `default_time` falls back to);
//! - `duration`: Go duration text (`1h30m`).
//!
//! This module holds what they share: English month and weekday names and fraction digits.

mod duration;
mod golayout;
mod guess;
mod strftime;
mod zone;

pub use duration::go_duration;
pub use golayout::{GoLayout, go_format, named_layout};
pub use guess::dateparse;
pub use strftime::strftime;
pub use zone::{Zone, civil_offset_to_ns, civil_to_ns, now_in, resolve_zone};

/// English month names, January first.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// English weekday names, Sunday first (as jiff's `to_sunday_zero_offset` counts).
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A month from its English name or 3-letter abbreviation (any case).
pub fn month_from_name(s: &str) -> Option<i64> {
    // Without allocating: this runs for every line a time-parsing script sees.
    if s.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| name_matches(m, s) || (s.eq_ignore_ascii_case("sept") && *m == "September"))
        .map(|i| i as i64 + 1)
}

/// `s` is `full` or (with exactly 3 letters) its abbreviation, in any case.
fn name_matches(full: &str, s: &str) -> bool {
    full.eq_ignore_ascii_case(s)
        || (s.len() == 3 && full.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(s)))
}

/// Whether `s` is an English weekday name or its 3-letter abbreviation (any case).
fn weekday_from_name(s: &str) -> bool {
    s.len() >= 3 && DAYS.iter().any(|d| name_matches(d, s))
}

/// Nanoseconds of a fraction's digits (`25` → 250 000 000); digits past the ninth are dropped.
fn frac_to_ns(d: &str) -> i64 {
    let mut ns = 0i64;
    for (i, c) in d.bytes().take(9).enumerate() {
        ns += (c - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    ns
}
