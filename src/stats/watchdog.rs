//! The watchdog: work that must make progress by a deadline holds a [`Beat`] — a periodic
//! input's next collection, a log-tailing instance's read. A thread of its own
//! (`dk-watchdog`, started with the first beat) looks at every beat twice a second; a beat
//! past its deadline is a **stall**: its input shows the state `stalled` (in `/v1/monitor`
//! and `datakit monitor`), the stall is logged once, and counted
//! (`datakit_inputs_stall_total`, `datakit_inputs_stalled` for the instances stalled now).
//! The stall ends when the work makes progress again (logged too).
//!
//! The watchdog only observes: it runs on no thread the work uses, so it keeps seeing (and
//! saying) what is stuck however stuck the rest is.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::InputStats;

/// How often beats are looked at.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);
/// A periodic input is stalled when no collection has completed for this many intervals...
pub const OVERDUE_INTERVALS: u32 = 3;
/// ... and at least this long.
pub const OVERDUE_MIN: Duration = Duration::from_secs(5);

/// How long a periodic input with `interval` may go without completing a collection.
pub fn collection_allowance(interval: Duration) -> Duration {
    (interval.saturating_mul(OVERDUE_INTERVALS)).max(OVERDUE_MIN)
}

/// No deadline.
const NONE: i64 = i64::MAX;

/// Nanoseconds of `t` since the first call (a monotonic scale for atomics).
fn mono(t: Instant) -> i64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    i64::try_from(t.saturating_duration_since(base).as_nanos()).unwrap_or(NONE - 1)
}

/// What a beat watches, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// A periodic input's collections, every `interval`.
    Collection { interval: Duration },
    /// A log-tailing instance: its reads, and its turns on the tailing workers.
    Tailing,
}

struct BeatState {
    stats: Arc<InputStats>,
    /// The instance, for the log: the input's name, and what tells its instances apart.
    label: String,
    watched: Watched,
    times: Mutex<Times>,
}

struct Times {
    /// When the work must have made progress (on the [`mono`] scale), or [`NONE`].
    deadline: i64,
    /// When the work began to be awaited (for the log).
    since: i64,
    /// When the current stall began, while stalled.
    stalled_at: Option<i64>,
}

impl BeatState {
    fn times(&self) -> std::sync::MutexGuard<'_, Times> {
        super::counters::lock(&self.times)
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

fn since(from: i64, to: i64) -> Duration {
    round(Duration::from_nanos(u64::try_from(to - from).unwrap_or(0)))
}

#[derive(Default)]
struct Inner {
    beats: Mutex<Vec<Arc<BeatState>>>,
}

/// The beats of one agent (kept in its [`super::Stats`]).
#[derive(Default)]
pub struct Watchdog {
    inner: Arc<Inner>,
    thread: OnceLock<()>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

impl Watchdog {
    /// A beat of an instance of the input counted in `stats`, with no deadline yet;
    /// `label` names the instance in the log.
    pub fn beat(&self, stats: Arc<InputStats>, label: impl Into<String>, watched: Watched) -> Beat {
        let state = Arc::new(BeatState {
            stats,
            label: label.into(),
            watched,
            times: Mutex::new(Times {
                deadline: NONE,
                since: mono(Instant::now()),
                stalled_at: None,
            }),
        });
        super::counters::lock(&self.inner.beats).push(state.clone());
        self.thread.get_or_init(|| {
            let weak = Arc::downgrade(&self.inner);
            let spawned = std::thread::Builder::new()
                .name("dk-watchdog".into())
                .spawn(move || watch(weak));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the watchdog thread; stalled inputs are not reported");
            }
        });
        Beat {
            state,
            owner: Arc::downgrade(&self.inner),
        }
    }

    /// Looks at every beat once (the watchdog thread calls this every [`CHECK_EVERY`]).
    pub fn check(&self, now: Instant) {
        check(&self.inner, now);
    }
}

fn watch(inner: Weak<Inner>) {
    loop {
        std::thread::sleep(CHECK_EVERY);
        let Some(inner) = inner.upgrade() else { return };
        check(&inner, Instant::now());
        drop(inner);
        crate::idle::thread_idle();
    }
}

fn check(inner: &Inner, now: Instant) {
    let now_m = mono(now);
    let beats: Vec<Arc<BeatState>> = super::counters::lock(&inner.beats).clone();
    for b in beats {
        let waited = {
            let mut t = b.times();
            if t.deadline == NONE || now_m <= t.deadline || t.stalled_at.is_some() {
                continue;
            }
            t.stalled_at = Some(now_m);
            b.stats.stalled.fetch_add(1, Relaxed);
            b.stats.stalls.fetch_add(1, Relaxed);
            since(t.since, now_m)
        };
        let waited = crate::config::duration::format_duration(waited);
        match b.watched {
            Watched::Collection { interval } => tracing::warn!(
                input = %b.label,
                interval = %crate::config::duration::format_duration(interval),
                "input stalled: no collection has completed for {waited}; shown as `stalled` until one does"
            ),
            Watched::Tailing => tracing::warn!(
                input = %b.label,
                "log tailing stalled: a read of this instance's files (or its turn to read) has waited {waited}; shown as `stalled` until it is done"
            ),
        }
    }
}

/// The deadline of one piece of work; dropped with the work (an instance that stops).
pub struct Beat {
    state: Arc<BeatState>,
    owner: Weak<Inner>,
}

impl std::fmt::Debug for Beat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beat")
            .field("label", &self.state.label)
            .finish_non_exhaustive()
    }
}

impl Beat {
    /// The work is awaited from `now`, and must have made progress by `now + within` (an
    /// earlier deadline already set is kept).
    pub fn expect(&self, now: Instant, within: Duration) {
        let mut t = self.state.times();
        expect(&mut t, now, within);
    }

    /// The work made progress at `now` (ending a stall) and is next awaited `within` from
    /// now (`None`: nothing is awaited: idle).
    pub fn progress(&self, now: Instant, within: Option<Duration>) {
        let ended = {
            let mut t = self.state.times();
            t.deadline = NONE;
            if let Some(w) = within {
                expect(&mut t, now, w);
            }
            t.stalled_at.take()
        };
        if let Some(at) = ended {
            self.state.stats.stalled.fetch_sub(1, Relaxed);
            tracing::info!(
                input = %self.state.label,
                stalled_for = %crate::config::duration::format_duration(since(at, mono(now))),
                "input makes progress again (no longer stalled)"
            );
        }
    }

    /// Nothing is awaited for now (a stall, if any, goes on until [`progress`](Beat::progress)).
    pub fn idle(&self) {
        self.state.times().deadline = NONE;
    }

    /// Whether the watchdog holds this work stalled now.
    pub fn is_stalled(&self) -> bool {
        self.state.times().stalled_at.is_some()
    }
}

fn expect(t: &mut Times, now: Instant, within: Duration) {
    let d = now.checked_add(within).map_or(NONE - 1, mono);
    if t.deadline == NONE {
        t.since = mono(now);
        t.deadline = d;
    } else {
        t.deadline = t.deadline.min(d);
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        if self.state.times().stalled_at.take().is_some() {
            self.state.stats.stalled.fetch_sub(1, Relaxed);
        }
        if let Some(inner) = self.owner.upgrade() {
            super::counters::lock(&inner.beats).retain(|b| !Arc::ptr_eq(b, &self.state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beat_past_its_deadline_stalls_once_and_recovers_on_progress() {
        let w = Watchdog::default();
        let stats = Arc::new(InputStats::new("cpu"));
        let b = w.beat(
            stats.clone(),
            "cpu",
            Watched::Collection {
                interval: Duration::from_secs(1),
            },
        );
        let t0 = Instant::now();
        b.expect(t0, Duration::from_secs(5));
        w.check(t0 + Duration::from_secs(4));
        assert!(!b.is_stalled());
        w.check(t0 + Duration::from_secs(6));
        w.check(t0 + Duration::from_secs(7));
        assert!(b.is_stalled());
        assert_eq!(stats.stalled.load(Relaxed), 1);
        assert_eq!(stats.stalls.load(Relaxed), 1, "one episode, counted once");
        b.progress(t0 + Duration::from_secs(8), Some(Duration::from_secs(5)));
        assert!(!b.is_stalled());
        assert_eq!(stats.stalled.load(Relaxed), 0);
        w.check(t0 + Duration::from_secs(9));
        assert!(!b.is_stalled());
        // A second episode is counted again; dropping the beat ends it.
        w.check(t0 + Duration::from_secs(14));
        assert_eq!(stats.stalls.load(Relaxed), 2);
        assert_eq!(stats.stalled.load(Relaxed), 1);
        drop(b);
        assert_eq!(stats.stalled.load(Relaxed), 0);
        assert!(super::super::counters::lock(&w.inner.beats).is_empty());
    }

    #[test]
    fn idle_work_never_stalls_and_earlier_deadlines_win() {
        let w = Watchdog::default();
        let stats = Arc::new(InputStats::new("logging"));
        let b = w.beat(stats.clone(), "logging", Watched::Tailing);
        let t0 = Instant::now();
        w.check(t0 + Duration::from_secs(3600));
        assert!(!b.is_stalled());
        b.expect(t0, Duration::from_secs(10));
        b.expect(t0, Duration::from_secs(60));
        w.check(t0 + Duration::from_secs(11));
        assert!(b.is_stalled());
        b.idle();
        assert!(b.is_stalled(), "idle does not end a stall");
        b.progress(t0 + Duration::from_secs(12), None);
        w.check(t0 + Duration::from_secs(3600));
        assert!(!b.is_stalled());
    }

    #[test]
    fn the_allowance_is_three_intervals_and_at_least_five_seconds() {
        assert_eq!(
            collection_allowance(Duration::from_secs(10)),
            Duration::from_secs(30)
        );
        assert_eq!(
            collection_allowance(Duration::from_millis(100)),
            Duration::from_secs(5)
        );
    }
}
