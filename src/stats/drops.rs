//! The one drop event: every point the agent gives up on — refused by election, dropped by a
//! script or a filter, invalid, too large, refused by an output, evicted from a full disk
//! queue — is reported here as a [`PointsDropped`], and nowhere else. The event
//!
//! - counts the points per category and reason (the `/metrics` family
//!   `datakit_io_dropped_point_total`),
//! - counts them per category and reason on the origin that dropped them (an input, the write
//!   API, an output: `datakit_input_dropped_point_total`, and the `drops` table of `/v1/monitor`
//!   and `datakit monitor`),
//! - and logs, at most once per [`LOG_EVERY`] per category and reason, with the number of points
//!   dropped since the last line, so a flood of drops never floods the log.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::point::Category;

/// Why points were dropped. Each reason is reachable; a test of the ingest stage proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// An election-aware input fed while this agent was not the elected leader.
    Election,
    /// A Pipeline script called `drop()`.
    Pipeline,
    /// The logging status is in the input's `ignore_status`.
    StatusIgnored,
    /// Nothing to make a point of (a blank socket line).
    Empty,
    /// Not a valid point: a bad line-protocol line, a point the checker refused in strict mode,
    /// or one the outputs' encoding cannot write (a NaN field in line protocol).
    Invalid,
    /// No field left once the checker applied the category's rules (a metric point whose only
    /// fields were strings).
    NoField,
    /// Fed while the agent was stopping and IO no longer took points.
    Shutdown,
    /// One point larger than the body size limit (`[dataway] max_raw_body_size`).
    TooLarge,
    /// The output refused the body for good (HTTP 4xx).
    Refused,
    /// The output failed and has no disk queue to keep the body in.
    SendFailed,
    /// Older than `[dataway] drop_expired_package_at` when replayed from the disk queue.
    Expired,
    /// Evicted from a full disk queue, or the disk queue could not take the body; or, at a
    /// receiver, records its bounded queue had no room for.
    QueueFull,
    /// Read by a receiver that does not collect it, as in the original: DogStatsD events and
    /// service checks, distributions with `datadog_distributions` off.
    Unsupported,
    /// A trace the sampler dropped, or the tracer marked to drop (its sampling priority).
    Sampled,
    /// A filter rule matched the point (`[io.filters]` or DataWay's rules; the rule is the
    /// drop's detail and is counted in `datakit monitor`'s Filters table), or a receiver's own
    /// filter dropped a trace (`close_resource`, `omit_err_status`).
    Filtered,
}

impl DropReason {
    pub const ALL: [DropReason; 15] = [
        DropReason::Election,
        DropReason::Pipeline,
        DropReason::StatusIgnored,
        DropReason::Empty,
        DropReason::Invalid,
        DropReason::NoField,
        DropReason::Shutdown,
        DropReason::TooLarge,
        DropReason::Refused,
        DropReason::SendFailed,
        DropReason::Expired,
        DropReason::QueueFull,
        DropReason::Unsupported,
        DropReason::Sampled,
        DropReason::Filtered,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// The `reason` label.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::Election => "election",
            DropReason::Pipeline => "pipeline",
            DropReason::StatusIgnored => "ignore_status",
            DropReason::Empty => "empty",
            DropReason::Invalid => "invalid",
            DropReason::NoField => "no_field",
            DropReason::Shutdown => "shutdown",
            DropReason::TooLarge => "too_large",
            DropReason::Refused => "refused_4xx",
            DropReason::SendFailed => "send_failed",
            DropReason::Expired => "expired",
            DropReason::QueueFull => "queue_full",
            DropReason::Unsupported => "unsupported",
            DropReason::Sampled => "sampled",
            DropReason::Filtered => "filtered",
        }
    }

    pub fn parse(s: &str) -> Option<DropReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

type Table = [[AtomicU64; DropReason::COUNT]; Category::ALL.len()];

fn new_table() -> Box<Table> {
    Box::new(std::array::from_fn(|_| {
        std::array::from_fn(|_| AtomicU64::new(0))
    }))
}

/// Dropped points by category and reason. The table is made on the first drop, so an origin
/// that never drops costs one pointer.
#[derive(Debug, Default)]
pub struct DropCounts {
    table: OnceLock<Box<Table>>,
}

impl DropCounts {
    fn add(&self, cat: Category, reason: DropReason, n: u64) {
        self.table.get_or_init(new_table)[cat.index()][reason.index()].fetch_add(n, Relaxed);
    }

    /// One count.
    pub fn get(&self, cat: Category, reason: DropReason) -> u64 {
        self.table
            .get()
            .map_or(0, |t| t[cat.index()][reason.index()].load(Relaxed))
    }

    /// Every count of one category.
    pub fn category_total(&self, cat: Category) -> u64 {
        self.table
            .get()
            .map_or(0, |t| t[cat.index()].iter().map(|c| c.load(Relaxed)).sum())
    }

    /// Every count.
    pub fn total(&self) -> u64 {
        self.table.get().map_or(0, |t| {
            t.iter()
                .flat_map(|row| row.iter())
                .map(|c| c.load(Relaxed))
                .sum()
        })
    }

    /// The non-zero counts, as (category, reason, points).
    pub fn nonzero(&self) -> Vec<(Category, DropReason, u64)> {
        let Some(t) = self.table.get() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (ci, row) in t.iter().enumerate() {
            for (ri, c) in row.iter().enumerate() {
                let n = c.load(Relaxed);
                if n > 0 {
                    out.push((Category::ALL[ci], DropReason::ALL[ri], n));
                }
            }
        }
        out
    }
}

/// Who dropped points: a name and the counters the drops are added to. Inputs, the write API,
/// the ingest stage and outputs each hold one (an input's [`InputStats`](super::InputStats)
/// carries its own).
pub trait DropOrigin {
    fn origin_name(&self) -> &str;
    fn drop_counts(&self) -> &DropCounts;
}

/// The one drop event.
pub struct PointsDropped<'a> {
    pub category: Category,
    pub reason: DropReason,
    pub count: u64,
    pub origin: &'a dyn DropOrigin,
    /// What made the decision, when one thing did: the script that called `drop()`, the output
    /// that refused the body, the first bad line's error.
    pub detail: Option<&'a str>,
}

/// The least time between two log lines about drops of one category and reason.
pub const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The agent-wide side of drops: totals per category and reason, and the log limiter.
#[derive(Debug)]
pub(super) struct DropLedger {
    pub(super) totals: DropCounts,
    /// Per category and reason: when the last log line was written (ns since the epoch).
    last_log: Box<[[AtomicI64; DropReason::COUNT]; Category::ALL.len()]>,
    /// Per category and reason: points dropped since the last log line.
    unlogged: Box<Table>,
}

impl Default for DropLedger {
    fn default() -> Self {
        DropLedger {
            totals: DropCounts::default(),
            last_log: Box::new(std::array::from_fn(|_| {
                std::array::from_fn(|_| AtomicI64::new(i64::MIN))
            })),
            unlogged: new_table(),
        }
    }
}

impl DropLedger {
    pub(super) fn record(&self, ev: &PointsDropped<'_>, now_ns: i64) {
        if ev.count == 0 {
            return;
        }
        self.totals.add(ev.category, ev.reason, ev.count);
        ev.origin
            .drop_counts()
            .add(ev.category, ev.reason, ev.count);
        let (c, r) = (ev.category.index(), ev.reason.index());
        self.unlogged[c][r].fetch_add(ev.count, Relaxed);
        let last = &self.last_log[c][r];
        let prev = last.load(Relaxed);
        let every = LOG_EVERY.as_nanos() as i64;
        if prev != i64::MIN && now_ns.saturating_sub(prev) < every {
            return;
        }
        // One thread wins the right to write this line.
        if last
            .compare_exchange(prev, now_ns, Relaxed, Relaxed)
            .is_err()
        {
            return;
        }
        let points = self.unlogged[c][r].swap(0, Relaxed);
        let since = if prev == i64::MIN {
            String::new()
        } else {
            format!(
                " in the last {}s",
                now_ns.saturating_sub(prev) / 1_000_000_000
            )
        };
        tracing::warn!(
            category = %ev.category,
            reason = ev.reason.as_str(),
            origin = ev.origin.origin_name(),
            detail = ev.detail.unwrap_or(""),
            "{points} point(s) dropped{since} (at most one line per category and reason every {}s; every drop is counted in `datakit monitor`)",
            LOG_EVERY.as_secs()
        );
    }
}

/// A named origin that is not an input (an output, the ingest stage itself).
#[derive(Debug, Default)]
pub struct NamedOrigin {
    pub name: String,
    pub drops: DropCounts,
}

impl NamedOrigin {
    pub fn new(name: impl Into<String>) -> NamedOrigin {
        NamedOrigin {
            name: name.into(),
            drops: DropCounts::default(),
        }
    }
}

impl DropOrigin for NamedOrigin {
    fn origin_name(&self) -> &str {
        &self.name
    }
    fn drop_counts(&self) -> &DropCounts {
        &self.drops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_distinct_labels_and_parse_back() {
        let mut labels: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), DropReason::COUNT);
        for r in DropReason::ALL {
            assert_eq!(DropReason::parse(r.as_str()), Some(r));
            assert_eq!(DropReason::ALL[r.index()], r);
        }
    }

    #[test]
    fn a_drop_counts_on_the_ledger_and_the_origin() {
        let ledger = DropLedger::default();
        let o = NamedOrigin::new("x");
        for _ in 0..3 {
            ledger.record(
                &PointsDropped {
                    category: Category::Logging,
                    reason: DropReason::Pipeline,
                    count: 2,
                    origin: &o,
                    detail: Some("a.p"),
                },
                1,
            );
        }
        assert_eq!(
            ledger.totals.get(Category::Logging, DropReason::Pipeline),
            6
        );
        assert_eq!(o.drops.get(Category::Logging, DropReason::Pipeline), 6);
        assert_eq!(o.drops.total(), 6);
        assert_eq!(
            o.drops.nonzero(),
            vec![(Category::Logging, DropReason::Pipeline, 6)]
        );
        // The first drop logged; the next two are waiting for the next line.
        assert_eq!(
            ledger.unlogged[Category::Logging.index()][DropReason::Pipeline.index()].load(Relaxed),
            4
        );
    }
}
