//! The wall clock: the one place the agent reads "now" as a Unix time.
//!
//! Everything that stamps a point, a record, a body or a status with the current time goes
//! through [`now_ns`] (or [`now_secs`]), so there is a single definition of what "now" means.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch. Saturates: 0 for a clock set before 1970, `i64::MAX`
/// past the year 2262.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Seconds since the Unix epoch (0 before 1970).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_2020() {
        let now = now_ns();
        assert!(now > 1_577_836_800_000_000_000, "{now}");
        assert!(now_secs() >= (now / 1_000_000_000) as u64);
    }
}
