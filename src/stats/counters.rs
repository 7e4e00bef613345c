//! The counters: written with relaxed atomics on the hot paths, one struct per thing counted
//! (an input, a category's IO, an output, a Pipeline script).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

use super::drops::{DropCounts, DropOrigin};
use crate::point::Category;

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ns() -> i64 {
    crate::clock::now_ns()
}

/// What an input instance is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
    /// Not a supervised input: a producer that feeds the ingest stage on its own (the write
    /// API under an input name, `pipeline/create_point`, a tool reporting errors through the
    /// API). Counted, never started or stopped. Every entry starts here until the supervisor
    /// sets a state.
    Producer,
    Starting,
    Running,
    /// Crashed and waiting to be restarted.
    Restarting,
    /// Crashed too often: stopped until the agent restarts.
    Stopped,
    /// Paused because this agent is not the elected leader.
    Paused,
    /// Finished on its own (or shut down).
    Exited,
    /// Running, but overdue: an instance has not completed a collection (or a log read) in
    /// time (see [`super::watchdog`]). Never stored: [`InputStats::shown_state`] derives it.
    Stalled,
}

impl InputState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => InputState::Starting,
            2 => InputState::Running,
            3 => InputState::Restarting,
            4 => InputState::Stopped,
            5 => InputState::Paused,
            6 => InputState::Exited,
            7 => InputState::Stalled,
            _ => InputState::Producer,
        }
    }
}

/// Counters of one input (all its instances together), or of another producer that feeds the
/// ingest stage (the write API under its `input` name, `pipeline/create_point`).
#[derive(Debug)]
pub struct InputStats {
    name: String,
    pub instances: AtomicU64,
    pub interval_ns: AtomicU64,
    pub feeds: AtomicU64,
    pub points: AtomicU64,
    pub last_feed_ns: AtomicI64,
    /// Category of the last feed (index into `Category::ALL`, +1; 0 = none yet).
    last_category: AtomicU8,
    pub collects: AtomicU64,
    pub collect_cost_ns: AtomicU64,
    pub errors: AtomicU64,
    pub crashes: AtomicU64,
    /// Instances the watchdog holds stalled now.
    pub stalled: AtomicU64,
    /// Stalls (episodes) since the start.
    pub stalls: AtomicU64,
    /// Points this producer's feeds lost, by category and reason (see [`super::PointsDropped`]).
    pub drops: DropCounts,
    state: AtomicU8,
    last_error: Mutex<Option<(i64, String)>>,
    /// A receiver's counters of its own socket work (see [`ReceiverCounters`]).
    receiver: std::sync::OnceLock<std::sync::Arc<ReceiverCounters>>,
}

/// Counters a receiver keeps about its sockets (datagrams, bytes, lines, the kernel's drops
/// for its socket, its receive buffer), by name, in the order named; `monitor` shows them
/// next to the input. Relaxed atomics: written on the receive path.
#[derive(Debug)]
pub struct ReceiverCounters {
    names: &'static [&'static str],
    values: Box<[AtomicU64]>,
}

impl ReceiverCounters {
    fn new(names: &'static [&'static str]) -> ReceiverCounters {
        ReceiverCounters {
            names,
            values: names.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }
    /// The counter at index `i` of the names (out of range: none).
    pub fn get(&self, i: usize) -> Option<&AtomicU64> {
        self.values.get(i)
    }
    pub fn add(&self, i: usize, n: u64) {
        if let Some(c) = self.values.get(i) {
            c.fetch_add(n, Relaxed);
        }
    }
    pub fn set(&self, i: usize, n: u64) {
        if let Some(c) = self.values.get(i) {
            c.store(n, Relaxed);
        }
    }
    /// (name, value) of every counter.
    pub fn values(&self) -> Vec<(&'static str, u64)> {
        self.names
            .iter()
            .zip(self.values.iter())
            .map(|(n, v)| (*n, v.load(Relaxed)))
            .collect()
    }
}

impl InputStats {
    pub fn new(name: impl Into<String>) -> InputStats {
        InputStats {
            name: name.into(),
            instances: AtomicU64::new(0),
            interval_ns: AtomicU64::new(0),
            feeds: AtomicU64::new(0),
            points: AtomicU64::new(0),
            last_feed_ns: AtomicI64::new(0),
            last_category: AtomicU8::new(0),
            collects: AtomicU64::new(0),
            collect_cost_ns: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            crashes: AtomicU64::new(0),
            stalled: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            drops: DropCounts::default(),
            state: AtomicU8::new(0),
            last_error: Mutex::new(None),
            receiver: std::sync::OnceLock::new(),
        }
    }
    /// The receiver counters of this input, named `names` on first use (every instance of the
    /// input shares them).
    pub fn receiver(&self, names: &'static [&'static str]) -> std::sync::Arc<ReceiverCounters> {
        self.receiver
            .get_or_init(|| std::sync::Arc::new(ReceiverCounters::new(names)))
            .clone()
    }
    /// The receiver counters, when the input has any.
    pub fn receiver_values(&self) -> Vec<(&'static str, u64)> {
        self.receiver.get().map_or_else(Vec::new, |r| r.values())
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn set_state(&self, s: InputState) {
        self.state.store(s as u8, Relaxed);
    }
    pub fn state(&self) -> InputState {
        InputState::from_u8(self.state.load(Relaxed))
    }
    /// The state to show: `stalled` while the input runs with a stalled instance.
    pub fn shown_state(&self) -> InputState {
        match self.state() {
            InputState::Running if self.stalled.load(Relaxed) > 0 => InputState::Stalled,
            s => s,
        }
    }
    /// One feed of `points` points of category `cat`, at `now_ns`.
    pub fn record_feed(&self, cat: Category, points: usize, now_ns: i64) {
        self.feeds.fetch_add(1, Relaxed);
        self.points.fetch_add(points as u64, Relaxed);
        self.last_feed_ns.store(now_ns, Relaxed);
        self.last_category.store(cat.index() as u8 + 1, Relaxed);
    }
    /// One collection that took `cost`.
    pub fn record_collect(&self, cost: Duration) {
        self.collects.fetch_add(1, Relaxed);
        self.collect_cost_ns
            .fetch_add(u64::try_from(cost.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }
    pub fn record_error(&self, msg: impl Into<String>) {
        self.errors.fetch_add(1, Relaxed);
        *lock(&self.last_error) = Some((now_ns(), msg.into()));
    }
    pub fn last_error(&self) -> Option<(i64, String)> {
        lock(&self.last_error).clone()
    }
    pub(super) fn category(&self) -> Option<Category> {
        match self.last_category.load(Relaxed) {
            0 => None,
            n => Category::ALL.get(n as usize - 1).copied(),
        }
    }
}

impl DropOrigin for InputStats {
    fn origin_name(&self) -> &str {
        &self.name
    }
    fn drop_counts(&self) -> &DropCounts {
        &self.drops
    }
}

/// IO counters of one category. Its drops are in the agent's drop ledger.
#[derive(Debug, Default)]
pub struct CategoryStats {
    /// Feeds and points handed to IO.
    pub feeds: AtomicU64,
    pub points_in: AtomicU64,
    /// Points accepted by IO but not yet encoded into a body.
    pub queued: AtomicI64,
    /// Points and bodies delivered to every output.
    pub points_sent: AtomicU64,
    pub bodies_sent: AtomicU64,
    /// Bytes of delivered bodies before and after gzip.
    pub bytes_raw: AtomicU64,
    pub bytes_gzip: AtomicU64,
    /// Points written to an on-disk queue after a failed send.
    pub points_queued_on_disk: AtomicU64,
    /// Timestamps moved to now by `auto_timestamp_correction`.
    pub time_adjusted: AtomicU64,
    /// Bytes of journal records IO has not finished with (refreshed every `fsync_interval`).
    pub journal_bytes: AtomicU64,
    /// Points read back from the journal: an overflow of the memory queue, or left by a crash.
    pub points_read_back: AtomicU64,
}

/// Counters of one output (a DataWay URL, an InfluxDB, the file sink).
#[derive(Debug)]
pub struct OutputStats {
    pub name: String,
    pub kind: &'static str,
    /// Where it sends (tokens redacted).
    pub target: String,
    pub requests_ok: AtomicU64,
    pub requests_failed: AtomicU64,
    pub requests_refused: AtomicU64,
    /// Answers that the body is too large (HTTP 413): the body was split and resent.
    pub requests_too_large: AtomicU64,
    /// Seconds bodies of `no_drop_categories` waited for room in the full disk queue.
    pub no_drop_waits: AtomicU64,
    pub latency_ns_sum: AtomicU64,
    pub latency_count: AtomicU64,
    pub last_latency_ns: AtomicU64,
    pub healthy: AtomicBool,
    pub points_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub disk_queue_bytes: AtomicU64,
    pub disk_queue_bodies: AtomicU64,
    pub disk_queue_dropped_bodies: AtomicU64,
    pub retries: AtomicU64,
    /// Points this output gave up on, by category and reason.
    pub drops: DropCounts,
    origin: String,
    last_status: Mutex<String>,
    last_error: Mutex<Option<(i64, String)>>,
}

impl OutputStats {
    pub fn new(name: impl Into<String>, kind: &'static str, target: impl Into<String>) -> Self {
        let name = name.into();
        OutputStats {
            origin: format!("output/{name}"),
            name,
            kind,
            target: target.into(),
            requests_ok: AtomicU64::new(0),
            requests_failed: AtomicU64::new(0),
            requests_refused: AtomicU64::new(0),
            requests_too_large: AtomicU64::new(0),
            no_drop_waits: AtomicU64::new(0),
            latency_ns_sum: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            last_latency_ns: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            points_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            disk_queue_bytes: AtomicU64::new(0),
            disk_queue_bodies: AtomicU64::new(0),
            disk_queue_dropped_bodies: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            drops: DropCounts::default(),
            last_status: Mutex::new(String::new()),
            last_error: Mutex::new(None),
        }
    }
    pub fn record_request(&self, latency: Duration, status: &str) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_ns_sum.fetch_add(ns, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
        self.last_latency_ns.store(ns, Relaxed);
        let mut s = lock(&self.last_status);
        if *s != status {
            s.clear();
            s.push_str(status);
        }
    }
    pub fn record_error(&self, msg: impl Into<String>) {
        *lock(&self.last_error) = Some((now_ns(), msg.into()));
    }
    pub fn last_status(&self) -> String {
        lock(&self.last_status).clone()
    }
    pub fn last_error(&self) -> Option<(i64, String)> {
        lock(&self.last_error).clone()
    }
}

impl DropOrigin for OutputStats {
    /// `output/<name>`.
    fn origin_name(&self) -> &str {
        &self.origin
    }
    fn drop_counts(&self) -> &DropCounts {
        &self.drops
    }
}

/// Counters of one HTTP API route, method and status.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct HttpCounter {
    pub(super) requests: u64,
    pub(super) latency_ns: u64,
    pub(super) body_bytes: u64,
}

/// Counters of one Pipeline script.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Category index + 1 (0 = unknown).
    pub(super) category: AtomicU8,
    pub points: AtomicU64,
    /// Points the script dropped (`drop()` or an ignored status); each drop is also a
    /// [`super::PointsDropped`] event of the input that fed the point.
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
    /// Runs stopped at the time limit (also counted in `errors`).
    pub timeouts: AtomicU64,
    pub cost_ns: AtomicU64,
    pub(super) last_error: Mutex<Option<(i64, String)>>,
}

impl PipelineStats {
    /// `points` runs that took `cost` together, `dropped` of them dropped.
    pub fn record_runs(&self, cat: Category, points: u64, cost: Duration, dropped: u64) {
        self.category.store(cat.index() as u8 + 1, Relaxed);
        self.points.fetch_add(points, Relaxed);
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Relaxed);
        }
        self.cost_ns
            .fetch_add(u64::try_from(cost.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }
    pub fn record_error(&self, msg: impl Into<String>) {
        self.errors.fetch_add(1, Relaxed);
        *lock(&self.last_error) = Some((now_ns(), msg.into()));
    }
    /// One run stopped at the time limit; returns how many were before it.
    pub fn record_timeout(&self) -> u64 {
        self.timeouts.fetch_add(1, Relaxed)
    }
}
