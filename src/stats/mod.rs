//! Self-metrics: what the agent counts about itself. Written with atomics on the hot paths
//! ([`counters`]), read as a [`Snapshot`] ([`snapshot`]: the `/v1/monitor` JSON, the `monitor`
//! command, the `dk` input) or as Prometheus text ([`prometheus`]: `/metrics`).
//!
//! Every point the agent gives up on is reported through one event, [`Stats::points_dropped`]
//! ([`drops`]), so every drop shows in `datakit monitor`, by category, reason and origin.

pub mod counters;
pub mod drops;
mod process;
pub mod prometheus;
pub mod snapshot;
pub mod watchdog;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::clock::now_ns;
use crate::point::Category;
use counters::{HttpCounter, lock};

pub use counters::{
    CategoryStats, InputState, InputStats, OutputStats, PipelineStats, ReceiverCounters,
};
pub use drops::{DropCounts, DropOrigin, DropReason, NamedOrigin, PointsDropped};
pub use prometheus::Family;
pub use snapshot::{
    AgentSnapshot, CategorySnapshot, DropSnapshot, ElectionSnapshot, ElectionStatus,
    FilterRuleSnapshot, FilterSnapshot, HttpSnapshot, InputSnapshot, LastError, OutputSnapshot,
    PipelineSnapshot, ProcessSnapshot, ReferSnapshot, ReferTableSnapshot, Snapshot,
};

/// How many recent errors are kept.
const MAX_ERRORS: usize = 64;

/// All self-metrics of the agent.
pub struct Stats {
    started: Instant,
    started_unix_ns: i64,
    hostname: RwLock<String>,
    inputs: RwLock<BTreeMap<String, Arc<InputStats>>>,
    /// Client-supplied names folded into an `other` entry ([`Stats::client_input`]).
    client_names_folded: AtomicU64,
    /// HTTP API connections closed on arrival.
    connections_refused: AtomicU64,
    io: [CategoryStats; Category::ALL.len()],
    drops: drops::DropLedger,
    /// Producers that are not inputs and drop points (`output/<name>` are with the outputs).
    origins: RwLock<Vec<Arc<NamedOrigin>>>,
    outputs: RwLock<Vec<Arc<OutputStats>>>,
    errors: Mutex<VecDeque<LastError>>,
    errors_total: AtomicU64,
    http: Mutex<BTreeMap<(String, &'static str, u16), HttpCounter>>,
    checks: Mutex<crate::point::CheckCounts>,
    pipelines: RwLock<BTreeMap<String, Arc<PipelineStats>>>,
    process: process::ProcessProbe,
    /// Counts live async tasks (set by the daemon from its runtime).
    task_counter: std::sync::OnceLock<Box<dyn Fn() -> u64 + Send + Sync>>,
    /// Set when DataWay reports the workspace is over its quota (unix seconds), else 0.
    pub data_overuse: AtomicI64,
    election: Mutex<ElectionSnapshot>,
    watchdog: watchdog::Watchdog,
    /// The filter rules in place (the ingest stage reads them; the puller swaps them).
    pub filters: crate::filter::Current,
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

/// The average, in seconds, of `n` durations adding up to `sum_ns` (0 without any).
fn avg_secs(sum_ns: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        sum_ns as f64 / n as f64 / 1e9
    }
}

/// The entry of `name` in `map`, created on first use (a read lock on the common path).
/// Producers named by clients, per prefix, before new names share one `other` entry.
pub const MAX_CLIENT_NAMES: usize = 256;

fn get_or_insert<T>(
    map: &RwLock<BTreeMap<String, Arc<T>>>,
    name: &str,
    make: impl FnOnce() -> T,
) -> Arc<T> {
    if let Some(s) = map.read().unwrap_or_else(|e| e.into_inner()).get(name) {
        return s.clone();
    }
    map.write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(name.to_string())
        .or_insert_with(|| Arc::new(make()))
        .clone()
}

impl Stats {
    pub fn new() -> Self {
        let started = Instant::now();
        Stats {
            started,
            started_unix_ns: now_ns(),
            hostname: RwLock::new(String::new()),
            inputs: RwLock::new(BTreeMap::new()),
            client_names_folded: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
            io: Default::default(),
            drops: drops::DropLedger::default(),
            origins: RwLock::new(Vec::new()),
            outputs: RwLock::new(Vec::new()),
            errors: Mutex::new(VecDeque::new()),
            errors_total: AtomicU64::new(0),
            http: Mutex::new(BTreeMap::new()),
            checks: Mutex::new(crate::point::CheckCounts::default()),
            pipelines: RwLock::new(BTreeMap::new()),
            process: process::ProcessProbe::new(started),
            task_counter: std::sync::OnceLock::new(),
            data_overuse: AtomicI64::new(0),
            election: Mutex::new(ElectionSnapshot::default()),
            watchdog: watchdog::Watchdog::default(),
            filters: crate::filter::Current::default(),
        }
    }

    /// The watchdog of overdue work (periodic collections, log reads).
    pub fn watchdog(&self) -> &watchdog::Watchdog {
        &self.watchdog
    }

    /// Replaces the election state.
    pub fn set_election(&self, e: ElectionSnapshot) {
        *lock(&self.election) = e;
    }

    /// Changes the election state in place.
    pub fn update_election(&self, f: impl FnOnce(&mut ElectionSnapshot)) {
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

    /// The stats of input (or producer) `name`, created on first use. Producers look theirs up
    /// once and keep the handle.
    pub fn input(&self, name: &str) -> Arc<InputStats> {
        get_or_insert(&self.inputs, name, || InputStats::new(name))
    }

    /// The stats of a producer named by a client (`?input=` of the write API, `/v1/lasterror`):
    /// `<prefix>.<name>`, created on first use while fewer than [`MAX_CLIENT_NAMES`] exist
    /// under `prefix`; beyond that every new name shares `<prefix>.other` (counted in
    /// `client_names_folded`), so clients cannot grow the agent's memory without bound.
    pub fn client_input(&self, prefix: &str, name: &str) -> Arc<InputStats> {
        let full = format!("{prefix}.{name}");
        if let Some(s) = self
            .inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&full)
        {
            return s.clone();
        }
        let under = format!("{prefix}.");
        let n = self
            .inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .range(under.clone()..)
            .take_while(|(k, _)| k.starts_with(&under))
            .count();
        if n >= MAX_CLIENT_NAMES {
            self.client_names_folded.fetch_add(1, Relaxed);
            return self.input(&format!("{prefix}.other"));
        }
        self.input(&full)
    }

    /// An HTTP API connection closed on arrival.
    pub fn record_connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    /// The stats of `name` if it exists (an input, or a producer that has been looked up).
    pub fn find_input(&self, name: &str) -> Option<Arc<InputStats>> {
        self.inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// A drop origin that is not an input (the ingest stage's own, a receiver's), kept for the
    /// life of the agent and listed in the drop table.
    pub fn origin(&self, name: &str) -> Arc<NamedOrigin> {
        let mut v = self.origins.write().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = v.iter().find(|o| o.name == name) {
            return o.clone();
        }
        let o = Arc::new(NamedOrigin::new(name));
        v.push(o.clone());
        o
    }

    pub fn category(&self, c: Category) -> &CategoryStats {
        &self.io[c.index()]
    }

    /// The one drop event: counts the points on the agent's totals and on the origin, and logs
    /// (at most once per category and reason every [`drops::LOG_EVERY`]).
    pub fn points_dropped(&self, ev: PointsDropped<'_>) {
        self.drops.record(&ev, now_ns());
    }

    /// Points of `cat` dropped for `reason`, every origin together.
    pub fn dropped(&self, cat: Category, reason: DropReason) -> u64 {
        self.drops.totals.get(cat, reason)
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
        get_or_insert(&self.pipelines, name, PipelineStats::default)
    }

    /// Adds the outcome of point checks (fixes and drops of tags and fields).
    pub fn record_check(&self, c: &crate::point::CheckCounts) {
        if c.points > 0 {
            lock(&self.checks).merge(c);
        }
    }

    /// Records an error from `source` (an input, an output, an external tool).
    pub fn record_error(&self, source: &str, message: impl Into<String>) {
        self.errors_total.fetch_add(1, Relaxed);
        let mut q = lock(&self.errors);
        if q.len() == MAX_ERRORS {
            q.pop_front();
        }
        q.push_back(LastError {
            time_ns: now_ns(),
            source: source.to_string(),
            message: message.into(),
        });
    }

    /// Everything, for `/v1/monitor`, `datakit monitor` and the `dk` input.
    pub fn snapshot(&self) -> Snapshot {
        let input_stats: Vec<Arc<InputStats>> = self
            .inputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        // Producers registered ahead of use (the write API's origins, `pipeline/create_point`)
        // show once they have done something.
        let inputs = input_stats
            .iter()
            .filter(|s| {
                s.instances.load(Relaxed) > 0
                    || s.feeds.load(Relaxed) > 0
                    || s.errors.load(Relaxed) > 0
                    || s.drops.total() > 0
            })
            .map(|s| {
                let collects = s.collects.load(Relaxed);
                let last = s.last_error();
                (
                    s.name().to_string(),
                    InputSnapshot {
                        state: s.shown_state(),
                        category: s.category().map(|c| c.as_str()),
                        instances: s.instances.load(Relaxed),
                        interval_secs: s.interval_ns.load(Relaxed) as f64 / 1e9,
                        feeds: s.feeds.load(Relaxed),
                        points: s.points.load(Relaxed),
                        last_feed_ns: s.last_feed_ns.load(Relaxed),
                        collects,
                        avg_cost_secs: avg_secs(s.collect_cost_ns.load(Relaxed), collects),
                        errors: s.errors.load(Relaxed),
                        last_error: last.as_ref().map(|l| l.1.clone()),
                        last_error_ns: last.map_or(0, |l| l.0),
                        crashes: s.crashes.load(Relaxed),
                        stalled: s.stalled.load(Relaxed),
                        stalls: s.stalls.load(Relaxed),
                        dropped: s.drops.total(),
                        receiver: s.receiver_values(),
                    },
                )
            })
            .collect();
        let io = Category::ALL
            .iter()
            .filter_map(|&c| {
                let s = self.category(c);
                let dropped: BTreeMap<&'static str, u64> = DropReason::ALL
                    .iter()
                    .map(|&r| (r.as_str(), self.drops.totals.get(c, r)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                let snap = CategorySnapshot {
                    feeds: s.feeds.load(Relaxed),
                    points_in: s.points_in.load(Relaxed),
                    queued: s.queued.load(Relaxed).max(0) as u64,
                    points_sent: s.points_sent.load(Relaxed),
                    bodies_sent: s.bodies_sent.load(Relaxed),
                    bytes_raw: s.bytes_raw.load(Relaxed),
                    bytes_gzip: s.bytes_gzip.load(Relaxed),
                    points_queued_on_disk: s.points_queued_on_disk.load(Relaxed),
                    points_dropped: dropped.values().sum(),
                    dropped,
                    time_adjusted: s.time_adjusted.load(Relaxed),
                    journal_bytes: s.journal_bytes.load(Relaxed),
                    points_read_back: s.points_read_back.load(Relaxed),
                };
                (snap.feeds > 0 || snap.points_dropped > 0 || snap.journal_bytes > 0)
                    .then(|| (c.as_str().to_string(), snap))
            })
            .collect();
        let outputs: Vec<Arc<OutputStats>> = self
            .outputs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut drops = Vec::new();
        let mut add_drops = |origin: &dyn DropOrigin| {
            for (cat, reason, points) in origin.drop_counts().nonzero() {
                drops.push(DropSnapshot {
                    category: cat.as_str(),
                    reason: reason.as_str(),
                    origin: origin.origin_name().to_string(),
                    points,
                });
            }
        };
        for s in &input_stats {
            add_drops(s.as_ref());
        }
        for o in self
            .origins
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            add_drops(o.as_ref());
        }
        for o in &outputs {
            add_drops(o.as_ref());
        }
        drops.sort_by(|a, b| {
            b.points
                .cmp(&a.points)
                .then_with(|| a.origin.cmp(&b.origin))
        });
        let outputs = outputs
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
                    requests_too_large: o.requests_too_large.load(Relaxed),
                    no_drop_waits: o.no_drop_waits.load(Relaxed),
                    retries: o.retries.load(Relaxed),
                    avg_latency_secs: avg_secs(o.latency_ns_sum.load(Relaxed), n),
                    last_latency_secs: o.last_latency_ns.load(Relaxed) as f64 / 1e9,
                    points_sent: o.points_sent.load(Relaxed),
                    bytes_sent: o.bytes_sent.load(Relaxed),
                    disk_queue_bytes: o.disk_queue_bytes.load(Relaxed),
                    disk_queue_bodies: o.disk_queue_bodies.load(Relaxed),
                    disk_queue_dropped_bodies: o.disk_queue_dropped_bodies.load(Relaxed),
                    disk_queue_dropped_points: Category::ALL
                        .iter()
                        .map(|&c| o.drops.get(c, DropReason::QueueFull))
                        .sum(),
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
                avg_latency_secs: avg_secs(c.latency_ns, c.requests),
                latency_secs_total: c.latency_ns as f64 / 1e9,
                body_bytes: c.body_bytes,
            })
            .collect();
        let mut election = lock(&self.election).clone();
        election.points_refused = Category::ALL
            .iter()
            .map(|&c| self.drops.totals.get(c, DropReason::Election))
            .sum();
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
                client_names_folded: self.client_names_folded.load(Relaxed),
                connections_refused: self.connections_refused.load(Relaxed),
                process: self.process.sample(),
            },
            inputs,
            io,
            drops,
            outputs,
            http,
            point_checks: lock(&self.checks)
                .iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            pipeline: self.pipeline_snapshot(),
            errors: lock(&self.errors).iter().cloned().collect(),
            election,
            filters: self.filter_snapshot(),
            refer_tables: refer_snapshot(),
        }
    }

    fn filter_snapshot(&self) -> FilterSnapshot {
        let st = self.filters.status().clone();
        let f = self.filters.get();
        let rules = f
            .sets()
            .iter()
            .flat_map(|s| {
                s.rules().iter().map(move |r| FilterRuleSnapshot {
                    category: s.category().as_str(),
                    rule: r.text.clone(),
                    filtered: r.hits.load(Relaxed),
                })
            })
            .collect();
        FilterSnapshot {
            source: st.source.as_str(),
            updated_ns: st.updated_ns,
            updates: st.updates,
            pulled_ns: st.pulled_ns,
            pull_failures: st.pull_failures,
            last_error: st.last_error,
            problems: st.problems,
            rules,
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
                    timeouts: p.timeouts.load(Relaxed),
                    avg_cost_secs: avg_secs(p.cost_ns.load(Relaxed), points),
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

fn refer_snapshot() -> ReferSnapshot {
    let cur = crate::refertable::current();
    let st = cur.status().clone();
    let t = cur.get();
    ReferSnapshot {
        url: st.url,
        updated_ns: st.updated_ns,
        pulled_ns: st.pulled_ns,
        pulls: st.pulls,
        failures: st.failures,
        last_error: st.last_error,
        from_cache: st.from_cache,
        tables: t
            .tables()
            .iter()
            .map(|t| ReferTableSnapshot {
                name: t.name.clone(),
                columns: t.columns.len(),
                rows: t.rows(),
            })
            .collect(),
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
        i.record_feed(Category::Metric, 5, now_ns());
        i.record_collect(Duration::from_millis(2));
        i.record_error("boom \"quoted\"");
        s.category(Category::Metric).points_in.fetch_add(5, Relaxed);
        s.category(Category::Metric).feeds.fetch_add(1, Relaxed);
        let out = Arc::new(OutputStats::new("dataway", "dataway", "http://x"));
        s.add_output(out.clone());
        s.points_dropped(PointsDropped {
            category: Category::Metric,
            reason: DropReason::Refused,
            count: 2,
            origin: out.as_ref(),
            detail: None,
        });
        s.points_dropped(PointsDropped {
            category: Category::Metric,
            reason: DropReason::NoField,
            count: 1,
            origin: i.as_ref(),
            detail: None,
        });
        s.record_error("cpu", "boom");

        let snap = s.snapshot();
        let cpu = &snap.inputs["cpu"];
        assert_eq!(
            (cpu.points, cpu.feeds, cpu.errors, cpu.dropped),
            (5, 1, 1, 1)
        );
        assert_eq!(cpu.category, Some("metric"));
        assert!((cpu.avg_cost_secs - 0.002).abs() < 1e-9);
        assert_eq!(snap.io["metric"].dropped["refused_4xx"], 2);
        assert_eq!(snap.io["metric"].points_dropped, 3);
        assert_eq!(
            snap.drops,
            vec![
                DropSnapshot {
                    category: "metric",
                    reason: "refused_4xx",
                    origin: "output/dataway".into(),
                    points: 2
                },
                DropSnapshot {
                    category: "metric",
                    reason: "no_field",
                    origin: "cpu".into(),
                    points: 1
                },
            ]
        );
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
        assert!(text.contains(
            "datakit_input_dropped_point_total{input=\"cpu\",category=\"metric\",reason=\"no_field\"} 1\n"
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
