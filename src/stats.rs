//! Self-metrics: what the agent counts about itself. Written with atomics on the hot paths,
//! read as a [`Snapshot`] (the `/v1/monitor` JSON, the `monitor` command, the `dk` input) or
//! as Prometheus text (`/metrics`).
//!
//! Every drop anywhere in the agent is counted here, so it shows in `datakit monitor`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::point::Category;

/// Nanoseconds since the Unix epoch.
pub fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an input instance is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
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
}

impl InputState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => InputState::Running,
            2 => InputState::Restarting,
            3 => InputState::Stopped,
            4 => InputState::Paused,
            5 => InputState::Exited,
            _ => InputState::Starting,
        }
    }
}

/// Counters of one input (all its instances together).
#[derive(Debug, Default)]
pub struct InputStats {
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
    /// Data the input read but dropped on purpose (filters), counted per point.
    pub dropped: AtomicU64,
    state: AtomicU8,
    last_error: Mutex<Option<(i64, String)>>,
}

impl InputStats {
    pub fn set_state(&self, s: InputState) {
        self.state.store(s as u8, Relaxed);
    }
    pub fn state(&self) -> InputState {
        InputState::from_u8(self.state.load(Relaxed))
    }
    /// One feed of `points` points of category `cat`.
    pub fn record_feed(&self, cat: Category, points: usize) {
        self.feeds.fetch_add(1, Relaxed);
        self.points.fetch_add(points as u64, Relaxed);
        self.last_feed_ns.store(unix_nanos(), Relaxed);
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
        *lock(&self.last_error) = Some((unix_nanos(), msg.into()));
    }
    pub fn last_error(&self) -> Option<(i64, String)> {
        lock(&self.last_error).clone()
    }
    fn category(&self) -> Option<Category> {
        match self.last_category.load(Relaxed) {
            0 => None,
            n => Category::ALL.get(n as usize - 1).copied(),
        }
    }
}

/// IO counters of one category.
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
    /// Points dropped: refused by an output (4xx), expired, evicted from a full disk queue,
    /// invalid, or too large to send. Each reason also has its own counter below.
    pub points_dropped: AtomicU64,
    pub dropped_4xx: AtomicU64,
    pub dropped_expired: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub dropped_invalid: AtomicU64,
    pub dropped_too_large: AtomicU64,
    /// Timestamps moved to now by `auto_timestamp_correction`.
    pub time_adjusted: AtomicU64,
}

/// Why points were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The output refused the body (HTTP 4xx).
    Refused,
    /// Older than `drop_expired_package_at`.
    Expired,
    /// Evicted from a full disk queue.
    QueueFull,
    /// Failed validation.
    Invalid,
    /// A single point larger than the body size limit.
    TooLarge,
}

impl CategoryStats {
    pub fn record_drop(&self, reason: DropReason, points: u64) {
        self.points_dropped.fetch_add(points, Relaxed);
        let c = match reason {
            DropReason::Refused => &self.dropped_4xx,
            DropReason::Expired => &self.dropped_expired,
            DropReason::QueueFull => &self.dropped_queue_full,
            DropReason::Invalid => &self.dropped_invalid,
            DropReason::TooLarge => &self.dropped_too_large,
        };
        c.fetch_add(points, Relaxed);
    }
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
    pub latency_ns_sum: AtomicU64,
    pub latency_count: AtomicU64,
    pub last_latency_ns: AtomicU64,
    pub healthy: AtomicBool,
    pub points_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub disk_queue_bytes: AtomicU64,
    pub disk_queue_bodies: AtomicU64,
    pub disk_queue_dropped_bodies: AtomicU64,
    pub disk_queue_dropped_points: AtomicU64,
    pub retries: AtomicU64,
    last_status: Mutex<String>,
    last_error: Mutex<Option<(i64, String)>>,
}

impl OutputStats {
    pub fn new(name: impl Into<String>, kind: &'static str, target: impl Into<String>) -> Self {
        OutputStats {
            name: name.into(),
            kind,
            target: target.into(),
            requests_ok: AtomicU64::new(0),
            requests_failed: AtomicU64::new(0),
            requests_refused: AtomicU64::new(0),
            latency_ns_sum: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            last_latency_ns: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            points_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            disk_queue_bytes: AtomicU64::new(0),
            disk_queue_bodies: AtomicU64::new(0),
            disk_queue_dropped_bodies: AtomicU64::new(0),
            disk_queue_dropped_points: AtomicU64::new(0),
            retries: AtomicU64::new(0),
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
        *lock(&self.last_error) = Some((unix_nanos(), msg.into()));
    }
    pub fn last_status(&self) -> String {
        lock(&self.last_status).clone()
    }
    pub fn last_error(&self) -> Option<(i64, String)> {
        lock(&self.last_error).clone()
    }
}

/// Counters of one HTTP API route, method and status.
#[derive(Debug, Default, Clone, Copy)]
struct HttpCounter {
    requests: u64,
    latency_ns: u64,
    body_bytes: u64,
}

/// Counters of one Pipeline script.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Category index + 1 (0 = unknown).
    category: AtomicU8,
    pub points: AtomicU64,
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
    pub cost_ns: AtomicU64,
    last_error: Mutex<Option<(i64, String)>>,
}

impl PipelineStats {
    pub fn record_run(&self, cat: Category, cost: Duration, dropped: bool) {
        self.record_runs(cat, 1, cost, u64::from(dropped));
    }
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
        *lock(&self.last_error) = Some((unix_nanos(), msg.into()));
    }
}

/// An error reported by a part of the agent (or an external tool via the API).
#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub time_ns: i64,
    pub source: String,
    pub message: String,
}

/// How many recent errors are kept.
const MAX_ERRORS: usize = 64;

/// Samples of the agent process, for CPU % between two snapshots.
#[derive(Debug, Default, Clone, Copy)]
struct CpuSample {
    at: Option<Instant>,
    ticks: u64,
}

/// All self-metrics of the agent.
pub struct Stats {
    started: Instant,
    started_unix_ns: i64,
    hostname: RwLock<String>,
    inputs: RwLock<BTreeMap<String, Arc<InputStats>>>,
    io: [CategoryStats; Category::ALL.len()],
    outputs: RwLock<Vec<Arc<OutputStats>>>,
    errors: Mutex<VecDeque<LastError>>,
    errors_total: AtomicU64,
    http: Mutex<BTreeMap<(String, &'static str, u16), HttpCounter>>,
    checks: Mutex<crate::point::CheckCounts>,
    pipelines: RwLock<BTreeMap<String, Arc<PipelineStats>>>,
    cpu: Mutex<CpuSample>,
    /// Counts live async tasks (set by the daemon from its runtime).
    task_counter: std::sync::OnceLock<Box<dyn Fn() -> u64 + Send + Sync>>,
    /// Set when DataWay reports the workspace is over its quota (unix seconds), else 0.
    pub data_overuse: AtomicI64,
    election: Mutex<crate::election::ElectionSnapshot>,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("uptime", &self.uptime())
            .finish_non_exhaustive()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Self {
        Stats {
            started: Instant::now(),
            started_unix_ns: unix_nanos(),
            hostname: RwLock::new(String::new()),
            inputs: RwLock::new(BTreeMap::new()),
            io: Default::default(),
            outputs: RwLock::new(Vec::new()),
            errors: Mutex::new(VecDeque::new()),
            errors_total: AtomicU64::new(0),
            http: Mutex::new(BTreeMap::new()),
            checks: Mutex::new(crate::point::CheckCounts::default()),
            pipelines: RwLock::new(BTreeMap::new()),
            cpu: Mutex::new(CpuSample::default()),
            task_counter: std::sync::OnceLock::new(),
            data_overuse: AtomicI64::new(0),
            election: Mutex::new(crate::election::ElectionSnapshot::default()),
        }
    }

    /// Replaces the election state.
    pub fn set_election(&self, e: crate::election::ElectionSnapshot) {
        *lock(&self.election) = e;
    }

    /// Changes the election state in place.
    pub fn update_election(&self, f: impl FnOnce(&mut crate::election::ElectionSnapshot)) {
        f(&mut lock(&self.election));
    }

    /// Sets how live tasks are counted (once).
    pub fn set_task_counter(&self, f: Box<dyn Fn() -> u64 + Send + Sync>) {
        let _ = self.task_counter.set(f);
    }

    pub fn set_hostname(&self, h: &str) {
        *self.hostname.write().unwrap_or_else(|e| e.into_inner()) = h.to_string();
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The stats of input `name`, created on first use.
    pub fn input(&self, name: &str) -> Arc<InputStats> {
        if let Some(s) = self
            .inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return s.clone();
        }
        self.inputs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    pub fn category(&self, c: Category) -> &CategoryStats {
        &self.io[c.index()]
    }

    pub fn add_output(&self, o: Arc<OutputStats>) {
        self.outputs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(o);
    }

    /// One HTTP API request: its route (the path for known routes), method, status, time and
    /// body size.
    pub fn record_http(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        latency: Duration,
        body_bytes: u64,
    ) {
        let mut m = lock(&self.http);
        let key = (route.to_string(), method, status);
        let c = m.entry(key).or_default();
        c.requests += 1;
        c.latency_ns += u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        c.body_bytes += body_bytes;
    }

    /// The stats of Pipeline script `name` (`<category>/<script>`), created on first use.
    pub fn pipeline(&self, name: &str) -> Arc<PipelineStats> {
        if let Some(s) = self
            .pipelines
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return s.clone();
        }
        self.pipelines
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// Adds the outcome of point checks (fixes and drops of tags and fields).
    pub fn record_check(&self, c: &crate::point::CheckCounts) {
        lock(&self.checks).merge(c);
    }

    /// Records an error from `source` (an input, an output, an external tool).
    pub fn record_error(&self, source: &str, message: impl Into<String>) {
        self.errors_total.fetch_add(1, Relaxed);
        let mut q = lock(&self.errors);
        if q.len() == MAX_ERRORS {
            q.pop_front();
        }
        q.push_back(LastError {
            time_ns: unix_nanos(),
            source: source.to_string(),
            message: message.into(),
        });
    }

    /// Reads the agent's own process figures from /proc/self.
    fn process(&self) -> ProcessSnapshot {
        let mut p = ProcessSnapshot::default();
        if let Ok(me) = procfs::process::Process::myself() {
            if let Ok(stat) = me.stat() {
                let ticks = stat.utime + stat.stime;
                let now = Instant::now();
                let mut last = lock(&self.cpu);
                let tps = procfs::ticks_per_second().max(1) as f64;
                let (from_ticks, from_at) = match last.at {
                    Some(at) => (last.ticks, at),
                    None => (0, self.started),
                };
                let wall = now.duration_since(from_at).as_secs_f64();
                if wall > 0.0 {
                    p.cpu_percent = (ticks.saturating_sub(from_ticks) as f64 / tps) / wall * 100.0;
                }
                *last = CpuSample {
                    at: Some(now),
                    ticks,
                };
                p.cpu_seconds_total = ticks as f64 / tps;
                p.threads = stat.num_threads.max(0) as u64;
                p.vms_bytes = stat.vsize;
            }
            if let Ok(status) = me.status() {
                p.rss_bytes = status.vmrss.unwrap_or(0) * 1024;
                p.hwm_bytes = status.vmhwm.unwrap_or(0) * 1024;
            }
            if let Ok(n) = me.fd_count() {
                p.open_files = n as u64;
            }
        }
        p.cpu_cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        p
    }

    /// Everything, for `/v1/monitor`, `datakit monitor` and the `dk` input.
    pub fn snapshot(&self) -> Snapshot {
        let inputs = self
            .inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, s)| {
                let collects = s.collects.load(Relaxed);
                let last = s.last_error();
                (
                    name.clone(),
                    InputSnapshot {
                        state: s.state(),
                        category: s.category().map(|c| c.as_str()),
                        instances: s.instances.load(Relaxed),
                        interval_secs: s.interval_ns.load(Relaxed) as f64 / 1e9,
                        feeds: s.feeds.load(Relaxed),
                        points: s.points.load(Relaxed),
                        last_feed_ns: s.last_feed_ns.load(Relaxed),
                        collects,
                        avg_cost_secs: if collects > 0 {
                            s.collect_cost_ns.load(Relaxed) as f64 / collects as f64 / 1e9
                        } else {
                            0.0
                        },
                        errors: s.errors.load(Relaxed),
                        last_error: last.as_ref().map(|l| l.1.clone()),
                        last_error_ns: last.map_or(0, |l| l.0),
                        crashes: s.crashes.load(Relaxed),
                        dropped: s.dropped.load(Relaxed),
                    },
                )
            })
            .collect();
        let io = Category::ALL
            .iter()
            .filter_map(|&c| {
                let s = self.category(c);
                let snap = CategorySnapshot {
                    feeds: s.feeds.load(Relaxed),
                    points_in: s.points_in.load(Relaxed),
                    queued: s.queued.load(Relaxed).max(0) as u64,
                    points_sent: s.points_sent.load(Relaxed),
                    bodies_sent: s.bodies_sent.load(Relaxed),
                    bytes_raw: s.bytes_raw.load(Relaxed),
                    bytes_gzip: s.bytes_gzip.load(Relaxed),
                    points_queued_on_disk: s.points_queued_on_disk.load(Relaxed),
                    points_dropped: s.points_dropped.load(Relaxed),
                    dropped_4xx: s.dropped_4xx.load(Relaxed),
                    dropped_expired: s.dropped_expired.load(Relaxed),
                    dropped_queue_full: s.dropped_queue_full.load(Relaxed),
                    dropped_invalid: s.dropped_invalid.load(Relaxed),
                    dropped_too_large: s.dropped_too_large.load(Relaxed),
                    time_adjusted: s.time_adjusted.load(Relaxed),
                };
                (snap.feeds > 0 || snap.points_dropped > 0).then(|| (c.as_str().to_string(), snap))
            })
            .collect();
        let outputs = self
            .outputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|o| {
                let n = o.latency_count.load(Relaxed);
                let last = o.last_error();
                OutputSnapshot {
                    name: o.name.clone(),
                    kind: o.kind,
                    target: o.target.clone(),
                    healthy: o.healthy.load(Relaxed),
                    last_status: o.last_status(),
                    requests_ok: o.requests_ok.load(Relaxed),
                    requests_failed: o.requests_failed.load(Relaxed),
                    requests_refused: o.requests_refused.load(Relaxed),
                    retries: o.retries.load(Relaxed),
                    avg_latency_secs: if n > 0 {
                        o.latency_ns_sum.load(Relaxed) as f64 / n as f64 / 1e9
                    } else {
                        0.0
                    },
                    last_latency_secs: o.last_latency_ns.load(Relaxed) as f64 / 1e9,
                    points_sent: o.points_sent.load(Relaxed),
                    bytes_sent: o.bytes_sent.load(Relaxed),
                    disk_queue_bytes: o.disk_queue_bytes.load(Relaxed),
                    disk_queue_bodies: o.disk_queue_bodies.load(Relaxed),
                    disk_queue_dropped_bodies: o.disk_queue_dropped_bodies.load(Relaxed),
                    disk_queue_dropped_points: o.disk_queue_dropped_points.load(Relaxed),
                    last_error: last.as_ref().map(|l| l.1.clone()),
                    last_error_ns: last.map_or(0, |l| l.0),
                }
            })
            .collect();
        let http = lock(&self.http)
            .iter()
            .map(|((route, method, status), c)| HttpSnapshot {
                route: route.clone(),
                method,
                status: *status,
                requests: c.requests,
                avg_latency_secs: if c.requests > 0 {
                    c.latency_ns as f64 / c.requests as f64 / 1e9
                } else {
                    0.0
                },
                latency_secs_total: c.latency_ns as f64 / 1e9,
                body_bytes: c.body_bytes,
            })
            .collect();
        Snapshot {
            agent: AgentSnapshot {
                version: crate::build_info::VERSION,
                commit: crate::build_info::COMMIT,
                os_arch: crate::build_info::os_arch(),
                hostname: self
                    .hostname
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
                started_ns: self.started_unix_ns,
                uptime_secs: self.uptime().as_secs_f64(),
                tasks: self.task_counter.get().map_or(0, |f| f()),
                data_overuse: self.data_overuse.load(Relaxed),
                errors_total: self.errors_total.load(Relaxed),
                process: self.process(),
            },
            inputs,
            io,
            outputs,
            http,
            point_checks: lock(&self.checks)
                .iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            pipeline: self.pipeline_snapshot(),
            errors: lock(&self.errors).iter().cloned().collect(),
            election: lock(&self.election).clone(),
        }
    }

    fn pipeline_snapshot(&self) -> BTreeMap<String, PipelineSnapshot> {
        self.pipelines
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, p)| {
                let points = p.points.load(Relaxed);
                let cat = p.category.load(Relaxed);
                let snap = PipelineSnapshot {
                    category: cat
                        .checked_sub(1)
                        .and_then(|i| Category::ALL.get(i as usize))
                        .map(|c| c.as_str()),
                    points,
                    dropped: p.dropped.load(Relaxed),
                    errors: p.errors.load(Relaxed),
                    avg_cost_secs: if points > 0 {
                        p.cost_ns.load(Relaxed) as f64 / points as f64 / 1e9
                    } else {
                        0.0
                    },
                    last_error: lock(&p.last_error).clone().map(|l| l.1),
                };
                (name.clone(), snap)
            })
            .collect()
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric, using the original's
    /// family names where one exists.
    pub fn render_prometheus(&self) -> String {
        self.snapshot().to_prometheus()
    }
}

/// The agent process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessSnapshot {
    /// CPU use since the previous snapshot, in % of one core.
    pub cpu_percent: f64,
    pub cpu_seconds_total: f64,
    pub cpu_cores: u64,
    pub rss_bytes: u64,
    pub hwm_bytes: u64,
    pub vms_bytes: u64,
    pub threads: u64,
    pub open_files: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentSnapshot {
    pub version: &'static str,
    pub commit: &'static str,
    pub os_arch: String,
    pub hostname: String,
    pub started_ns: i64,
    pub uptime_secs: f64,
    pub tasks: u64,
    pub data_overuse: i64,
    pub errors_total: u64,
    pub process: ProcessSnapshot,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSnapshot {
    pub state: InputState,
    pub category: Option<&'static str>,
    pub instances: u64,
    pub interval_secs: f64,
    pub feeds: u64,
    pub points: u64,
    pub last_feed_ns: i64,
    pub collects: u64,
    pub avg_cost_secs: f64,
    pub errors: u64,
    pub last_error: Option<String>,
    pub last_error_ns: i64,
    pub crashes: u64,
    pub dropped: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategorySnapshot {
    pub feeds: u64,
    pub points_in: u64,
    pub queued: u64,
    pub points_sent: u64,
    pub bodies_sent: u64,
    pub bytes_raw: u64,
    pub bytes_gzip: u64,
    pub points_queued_on_disk: u64,
    pub points_dropped: u64,
    pub dropped_4xx: u64,
    pub dropped_expired: u64,
    pub dropped_queue_full: u64,
    pub dropped_invalid: u64,
    pub dropped_too_large: u64,
    pub time_adjusted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputSnapshot {
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub healthy: bool,
    pub last_status: String,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub requests_refused: u64,
    pub retries: u64,
    pub avg_latency_secs: f64,
    pub last_latency_secs: f64,
    pub points_sent: u64,
    pub bytes_sent: u64,
    pub disk_queue_bytes: u64,
    pub disk_queue_bodies: u64,
    pub disk_queue_dropped_bodies: u64,
    pub disk_queue_dropped_points: u64,
    pub last_error: Option<String>,
    pub last_error_ns: i64,
}

/// Runs of one Pipeline script.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineSnapshot {
    pub category: Option<&'static str>,
    pub points: u64,
    pub dropped: u64,
    pub errors: u64,
    pub avg_cost_secs: f64,
    pub last_error: Option<String>,
}

/// Requests of one HTTP API route, method and status.
#[derive(Debug, Clone, Serialize)]
pub struct HttpSnapshot {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
    pub requests: u64,
    pub avg_latency_secs: f64,
    pub latency_secs_total: f64,
    pub body_bytes: u64,
}

/// Everything the agent knows about itself at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub agent: AgentSnapshot,
    pub inputs: BTreeMap<String, InputSnapshot>,
    pub io: BTreeMap<String, CategorySnapshot>,
    pub outputs: Vec<OutputSnapshot>,
    pub http: Vec<HttpSnapshot>,
    /// Tag and field fixes and drops by the point checker, by the original's warning type.
    pub point_checks: BTreeMap<String, u64>,
    /// Pipeline scripts that ran, by `<category>/<script>`.
    pub pipeline: BTreeMap<String, PipelineSnapshot>,
    pub errors: Vec<LastError>,
    /// Leader election.
    pub election: crate::election::ElectionSnapshot,
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// One metric family: its samples, each a label set and a value.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    /// `gauge` or `counter`.
    pub kind: &'static str,
    pub help: &'static str,
    pub samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

struct Families(Vec<Family>);

impl Families {
    fn family(&mut self, name: &'static str, kind: &'static str, help: &'static str) {
        self.0.push(Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        });
    }
    fn sample(&mut self, labels: &[(&'static str, &str)], v: f64) {
        if let Some(f) = self.0.last_mut() {
            f.samples
                .push((labels.iter().map(|(k, v)| (*k, v.to_string())).collect(), v));
        }
    }
}

impl Snapshot {
    /// Every metric family, using the original's family names where one exists.
    pub fn families(&self) -> Vec<Family> {
        let mut p = Families(Vec::with_capacity(32));
        let a = &self.agent;
        p.family("datakit_uptime_seconds", "gauge", "Uptime of the agent.");
        p.sample(
            &[
                ("hostname", &a.hostname),
                ("version", a.version),
                ("os_arch", &a.os_arch),
            ],
            a.uptime_secs.floor(),
        );
        p.family(
            "datakit_cpu_usage",
            "gauge",
            "CPU use of the agent, in % of one core.",
        );
        p.sample(&[], a.process.cpu_percent);
        p.family("datakit_cpu_cores", "gauge", "CPU cores of the host.");
        p.sample(&[], a.process.cpu_cores as f64);
        p.family(
            "datakit_mem_stat",
            "gauge",
            "Memory of the agent process, in bytes.",
        );
        p.sample(&[("type", "rss")], a.process.rss_bytes as f64);
        p.sample(&[("type", "hwm")], a.process.hwm_bytes as f64);
        p.sample(&[("type", "vms")], a.process.vms_bytes as f64);
        p.family(
            "datakit_open_files",
            "gauge",
            "Open file descriptors of the agent.",
        );
        p.sample(&[], a.process.open_files as f64);
        p.family(
            "datakit_goroutines",
            "gauge",
            "Live async tasks of the agent (the Go agent's goroutine count).",
        );
        p.sample(&[], a.tasks as f64);
        p.family("datakit_threads", "gauge", "OS threads of the agent.");
        p.sample(&[], a.process.threads as f64);
        p.family(
            "datakit_data_overuse",
            "gauge",
            "0, or when DataWay reported the workspace over its quota (unix seconds).",
        );
        p.sample(&[], a.data_overuse as f64);

        p.family(
            "datakit_inputs_instance",
            "gauge",
            "Running instances per input.",
        );
        for (name, i) in &self.inputs {
            p.sample(&[("input", name)], i.instances as f64);
        }
        p.family(
            "datakit_inputs_crash_total",
            "counter",
            "Input crashes (panics and errors).",
        );
        for (name, i) in &self.inputs {
            p.sample(&[("input", name)], i.crashes as f64);
        }
        p.family(
            "datakit_inputs_dropped_total",
            "counter",
            "Points an input dropped on purpose (filters such as `ignore_status`, blank socket lines).",
        );
        for (name, i) in &self.inputs {
            p.sample(&[("input", name)], i.dropped as f64);
        }
        p.family("datakit_io_feed_total", "counter", "Feeds per input.");
        for (name, i) in &self.inputs {
            p.sample(
                &[
                    ("name", name),
                    ("category", i.category.unwrap_or("unknown")),
                ],
                i.feeds as f64,
            );
        }
        p.family(
            "datakit_io_feed_point_total",
            "counter",
            "Points fed per input.",
        );
        for (name, i) in &self.inputs {
            p.sample(
                &[
                    ("name", name),
                    ("category", i.category.unwrap_or("unknown")),
                ],
                i.points as f64,
            );
        }
        p.family(
            "datakit_io_last_feed_timestamp_seconds",
            "gauge",
            "Last feed per input (unix seconds).",
        );
        for (name, i) in &self.inputs {
            p.sample(
                &[
                    ("name", name),
                    ("category", i.category.unwrap_or("unknown")),
                ],
                (i.last_feed_ns / 1_000_000_000) as f64,
            );
        }
        p.family("datakit_error_total", "counter", "Errors per input.");
        for (name, i) in &self.inputs {
            p.sample(
                &[
                    ("source", name),
                    ("category", i.category.unwrap_or("unknown")),
                ],
                i.errors as f64,
            );
        }

        p.family(
            "datakit_io_queue_points",
            "gauge",
            "Points waiting in IO, per category.",
        );
        for (cat, c) in &self.io {
            p.sample(&[("category", cat)], c.queued as f64);
        }
        p.family(
            "datakit_io_dataway_point_total",
            "counter",
            "Points per category and outcome.",
        );
        for (cat, c) in &self.io {
            p.sample(
                &[("category", cat), ("status", "total")],
                c.points_in as f64,
            );
            p.sample(&[("category", cat), ("status", "ok")], c.points_sent as f64);
            p.sample(
                &[("category", cat), ("status", "queued_on_disk")],
                c.points_queued_on_disk as f64,
            );
            p.sample(
                &[("category", cat), ("status", "dropped")],
                c.points_dropped as f64,
            );
        }
        p.family(
            "datakit_io_dataway_point_bytes_total",
            "counter",
            "Bytes delivered per category, before (raw) and after gzip.",
        );
        for (cat, c) in &self.io {
            p.sample(&[("category", cat), ("enc", "raw")], c.bytes_raw as f64);
            p.sample(&[("category", cat), ("enc", "gzip")], c.bytes_gzip as f64);
        }
        p.family(
            "datakit_io_dropped_point_total",
            "counter",
            "Dropped points per category and reason.",
        );
        for (cat, c) in &self.io {
            for (reason, v) in [
                ("refused_4xx", c.dropped_4xx),
                ("expired", c.dropped_expired),
                ("queue_full", c.dropped_queue_full),
                ("invalid", c.dropped_invalid),
                ("too_large", c.dropped_too_large),
            ] {
                p.sample(&[("category", cat), ("reason", reason)], v as f64);
            }
        }
        p.family(
            "datakit_io_point_time_adjusted_total",
            "counter",
            "Timestamps reset to now.",
        );
        for (cat, c) in &self.io {
            p.sample(&[("category", cat)], c.time_adjusted as f64);
        }

        p.family(
            "datakit_output_requests_total",
            "counter",
            "Requests per output and outcome.",
        );
        for o in &self.outputs {
            for (status, v) in [
                ("ok", o.requests_ok),
                ("failed", o.requests_failed),
                ("refused", o.requests_refused),
            ] {
                p.sample(&[("output", &o.name), ("status", status)], v as f64);
            }
        }
        p.family(
            "datakit_output_latency_seconds",
            "gauge",
            "Average request latency per output.",
        );
        for o in &self.outputs {
            p.sample(&[("output", &o.name)], o.avg_latency_secs);
        }
        p.family(
            "datakit_output_healthy",
            "gauge",
            "1 when the output's last send succeeded.",
        );
        for o in &self.outputs {
            p.sample(&[("output", &o.name)], if o.healthy { 1.0 } else { 0.0 });
        }
        p.family(
            "datakit_io_disk_queue_bytes",
            "gauge",
            "Bytes in the output's on-disk queue.",
        );
        for o in &self.outputs {
            p.sample(&[("output", &o.name)], o.disk_queue_bytes as f64);
        }
        p.family(
            "datakit_io_disk_queue_dropped_point_total",
            "counter",
            "Points evicted from a full on-disk queue.",
        );
        for o in &self.outputs {
            p.sample(&[("output", &o.name)], o.disk_queue_dropped_points as f64);
        }
        p.family(
            "datakit_point_check_total",
            "counter",
            "Tag and field fixes and drops by the point checker, by warning type.",
        );
        for (kind, n) in &self.point_checks {
            p.sample(&[("type", kind)], *n as f64);
        }
        let e = &self.election;
        p.family(
            "datakit_election_status",
            "gauge",
            "Election status: when this agent was elected (unix seconds), else 0.",
        );
        p.sample(
            &[
                ("elected_id", &e.leader),
                ("id", &e.id),
                ("namespace", &e.namespace),
                ("status", e.status.as_str()),
            ],
            (e.elected_ns / 1_000_000_000) as f64,
        );
        p.family(
            "datakit_election_pause_total",
            "counter",
            "Times the election-aware inputs were stopped because leadership was lost.",
        );
        p.sample(
            &[("id", &e.id), ("namespace", &e.namespace)],
            e.pause_total as f64,
        );
        p.family(
            "datakit_election_resume_total",
            "counter",
            "Times the election-aware inputs were started because this agent was elected.",
        );
        p.sample(
            &[("id", &e.id), ("namespace", &e.namespace)],
            e.resume_total as f64,
        );
        p.family(
            "datakit_election_inputs",
            "gauge",
            "Election-aware input instances.",
        );
        p.sample(&[("namespace", &e.namespace)], e.inputs as f64);
        p.family(
            "datakit_http_api_total",
            "counter",
            "HTTP API requests per route, method and status.",
        );
        for h in &self.http {
            let status = h.status.to_string();
            p.sample(
                &[("api", &h.route), ("method", h.method), ("status", &status)],
                h.requests as f64,
            );
        }
        p.family(
            "datakit_http_api_elapsed_seconds_total",
            "counter",
            "Time spent answering HTTP API requests.",
        );
        for h in &self.http {
            let status = h.status.to_string();
            p.sample(
                &[("api", &h.route), ("method", h.method), ("status", &status)],
                h.latency_secs_total,
            );
        }
        p.family(
            "datakit_http_api_req_size_bytes_total",
            "counter",
            "Request body bytes received by the HTTP API.",
        );
        for h in &self.http {
            let status = h.status.to_string();
            p.sample(
                &[("api", &h.route), ("method", h.method), ("status", &status)],
                h.body_bytes as f64,
            );
        }
        p.0
    }

    /// Prometheus text exposition (format 0.0.4) of this snapshot.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(8192);
        for f in self.families() {
            let _ = writeln!(
                out,
                "# HELP {} {}\n# TYPE {} {}",
                f.name, f.help, f.name, f.kind
            );
            for (labels, v) in &f.samples {
                out.push_str(f.name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (k, val)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", label(val));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {v}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reflects_counters_and_renders_prometheus() {
        let s = Stats::new();
        s.set_hostname("h1");
        let i = s.input("cpu");
        i.instances.store(1, Relaxed);
        i.record_feed(Category::Metric, 5);
        i.record_collect(Duration::from_millis(2));
        i.record_error("boom \"quoted\"");
        s.category(Category::Metric).points_in.fetch_add(5, Relaxed);
        s.category(Category::Metric).feeds.fetch_add(1, Relaxed);
        s.category(Category::Metric)
            .record_drop(DropReason::Refused, 2);
        s.record_error("cpu", "boom");

        let snap = s.snapshot();
        let cpu = &snap.inputs["cpu"];
        assert_eq!((cpu.points, cpu.feeds, cpu.errors), (5, 1, 1));
        assert_eq!(cpu.category, Some("metric"));
        assert!((cpu.avg_cost_secs - 0.002).abs() < 1e-9);
        assert_eq!(snap.io["metric"].dropped_4xx, 2);
        assert_eq!(snap.errors.len(), 1);
        assert!(snap.agent.process.rss_bytes > 0);

        let text = snap.to_prometheus();
        assert!(
            text.contains("datakit_io_feed_total{name=\"cpu\",category=\"metric\"} 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "datakit_io_dropped_point_total{category=\"metric\",reason=\"refused_4xx\"} 2\n"
        ));
        assert!(text.contains("# TYPE datakit_cpu_usage gauge\n"));
        assert!(!text.contains("logging"), "idle categories are not listed");
    }

    #[test]
    fn error_ring_is_bounded() {
        let s = Stats::new();
        for n in 0..(MAX_ERRORS + 10) {
            s.record_error("x", format!("e{n}"));
        }
        let snap = s.snapshot();
        assert_eq!(snap.errors.len(), MAX_ERRORS);
        assert_eq!(snap.errors[0].message, "e10");
        assert_eq!(snap.agent.errors_total, (MAX_ERRORS + 10) as u64);
    }
}
