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

/// At most one `true` per period: for warnings that would otherwise repeat on every request.
pub struct Throttle(std::sync::atomic::AtomicI64);

impl Throttle {
    pub const fn new() -> Throttle {
        Throttle(std::sync::atomic::AtomicI64::new(i64::MIN))
    }

    /// True when `period_secs` have passed since the last `true` (and on the first call).
    pub fn ready(&self, period_secs: i64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let now = now_secs() as i64;
        let prev = self.0.load(Relaxed);
        now.saturating_sub(prev) >= period_secs
            && self.0.compare_exchange(prev, now, Relaxed, Relaxed).is_ok()
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
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

    #[test]
    fn a_throttle_lets_one_through_per_period() {
        let t = Throttle::new();
        assert!(t.ready(60));
        assert!(!t.ready(60));
        assert!(t.ready(0));
    }
}
