//! The wall clock: the one place the agent reads "now" as a Unix time.
//!
//! Everything that stamps a point, a record or a status with the current time goes through
//! [`now_ns`], so tests and readers have a single definition of what "now" means.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch. Saturates: 0 for a clock set before 1970, `i64::MAX`
/// past the year 2262.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_2020() {
        let now = now_ns();
        assert!(now > 1_577_836_800_000_000_000, "{now}");
    }
}
