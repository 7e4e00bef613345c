//! `statsd`: receives statsd and DogStatsD metrics and reports them aggregated every
//! interval, as the original does (on by default, UDP `:8125`).
//!
//! ```text
//! UDP / TCP / unixgram ─> listen (chunks of whole lines, with where they came from)
//!   ─ bounded queue (allowed_pending_messages; full: dropped, counted `queue_full`) ─>
//! parse thread: parse (lines, DogStatsD) ─> aggregate (series: counters, gauges, sets,
//!   timings/histograms/distributions)
//! every interval: flush (delete_* / max_ttl) ─> naming (measurement, field, tags) ─> ingest
//! ```
//!
//! - [`listen`]: the sockets, the queue, the kernel's receive buffer and drop count;
//! - [`parse`]: the line format; [`template`]: Graphite templates; [`aggregate`]: the series;
//!   [`running`]: timing statistics; [`naming`]: series to points.
//!
//! Every line that makes no metric is counted through the one drop event: malformed lines
//! (`invalid`, with the sender, line and byte in the message), DogStatsD events and service
//! checks (`unsupported`, as the original never delivers them), chunks the queue had no room
//! for (`queue_full`, by their lines), datagrams or TCP lines over 64 KiB (`too_large`), series
//! whose name leaves no measurement or field (`invalid`). `datakit monitor` shows them with
//! the receiver's own counters (datagrams, bytes, lines, series, the kernel's drops at the
//! socket, the receive buffer granted).
//!
//! Differences from the original, on purpose (the README lists them for users): timings,
//! histograms and distributions are delivered as statistics (the original computed them and
//! dropped them); TCP works (`protocol = "tcp"`; the original refused it); `templates` is
//! read; the Unix socket also runs with TCP and may be relative to the workdir; the
//! receive buffer has a default size and the kernel's drops are reported; a socket that
//! cannot be bound is retried instead of failing the input; what is aggregated when the input
//! stops is delivered.

pub mod aggregate;
pub mod listen;
pub mod naming;
pub mod parse;
pub mod running;
pub mod template;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{
    FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    IntervalLimits, MeasurementSpec, TagSpec, Validation, entry_with_compat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::ingest::FeedOptions;
use crate::point::Category;
use crate::stats::DropReason;
use aggregate::{AggOptions, Aggregator, Outcome};
use listen::{Chunk, Reporter, Shared, Sockets};
use naming::Naming;
use parse::Kind;
use template::Templates;

/// The percentiles of the original's sample config.
pub const DEFAULT_PERCENTILES: [f64; 6] = [50.0, 90.0, 99.0, 99.9, 99.95, 100.0];

config_struct! {
    "Receives statsd and DogStatsD metrics (UDP, TCP, a Unix datagram socket) and reports them aggregated every interval."
    pub struct StatsdConfig {
        "How often the aggregated metrics are reported (and, with the `delete_*` options, reset)."
        pub interval: Dur = Dur::from_secs(10),
        "`udp` (also `udp4`, `udp6`) or `tcp` (also `tcp4`, `tcp6`): what `service_address` listens with."
        pub protocol: String = "udp".into(),
        "Address to listen on: `:8125` is every address, IPv4 and IPv6 (as the original); `127.0.0.1:8125` only this host's applications. Empty: no UDP or TCP listener."
        pub service_address: String = ":8125".into(),
        "A Unix datagram socket to listen on as well (any `protocol`); a relative path is under the workdir. Empty: none."
        pub service_unix_address: String = "/var/run/datakit/statsd.sock".into(),
        "A tag whose key is removed from the points (unless `save_above_key`). The original derives a feed name from it and its host key and then does not use that name."
        pub statsd_source_key: String = String::new(),
        "Like `statsd_source_key`, for the host."
        pub statsd_host_key: String = String::new(),
        "Keep the tags named by `statsd_source_key` and `statsd_host_key` on the points."
        pub save_above_key: bool = false,
        "Chunks of received lines (one datagram each under light load, up to 64 KiB of them under load) that may wait for the parser; when the queue is full, what arrives is dropped and counted (`queue_full`)."
        pub allowed_pending_messages: usize = 128,
        "Percentiles reported for timings, histograms and distributions: field `<name>_p<percentile>` (`.` written `_`: `p99_9`)."
        pub percentiles: Vec<f64> = DEFAULT_PERCENTILES.to_vec(),
        "Values kept per timing, histogram or distribution for its percentiles; past it, new values replace random ones (the statistics besides the percentiles count every value)."
        pub percentile_limit: usize = 1000,
        "Reset gauges after each report; otherwise the last value is reported again until `max_ttl`."
        pub delete_gauges: bool = true,
        "Reset counters after each report; otherwise they keep adding up."
        pub delete_counters: bool = true,
        "Reset sets after each report."
        pub delete_sets: bool = true,
        "Reset timings and histograms after each report (distributions are always reset, as in the original)."
        pub delete_timings: bool = true,
        "Counters as integer sums (each value truncated) instead of floats."
        pub set_counter_int: bool = false,
        "Joins the dotted parts of a name (`jvm.heap.used` → `jvm_heap_used`), and splits the measurement from the field at its first occurrence. Empty means `_`."
        pub metric_separator: String = "_".into(),
        "In names, write `.` as `_` and `-` as `__` (after `templates`)."
        pub convert_names: bool = false,
        "DogStatsD extensions: `|#tag:value` tags, `|c:`/`|T` metadata, packed values, events and service checks (recognised and counted as not collected, as in the original)."
        pub datadog_extensions: bool = true,
        "DogStatsD distributions (`|d`), reported like timings; off: they are counted as not collected. Needs `datadog_extensions`."
        pub datadog_distributions: bool = true,
        "Receive buffer of the UDP and Unix sockets, in bytes (the kernel doubles it). Past `net.core.rmem_max` only when the agent runs as root. 0 keeps the system's default. What a full buffer drops is counted by the kernel and shown as `kernel_drops`."
        pub read_buffer_size: usize = 4 * 1024 * 1024,
        "Tag keys removed from every point (`runtime-id`, `metric_type`)."
        pub drop_tags: Vec<String> = Vec::new(),
        "`\"prefix:measurement\"` entries: a name that starts with a prefix gets that measurement and the rest of the name as its field (`jvm_:jvm`). With any entry, names that match none are not split."
        pub metric_mapping: Vec<String> = Vec::new(),
        "Graphite templates, `[separator] [filter] template [tag=value,...]`: parts `measurement`, `field`, a tag name or empty; `measurement*`/`field*` take the rest (`servers.* .host.measurement*`). None: every part is the measurement."
        pub templates: Vec<String> = Vec::new(),
        "Most TCP connections at once (`protocol = \"tcp\"`); more are closed at once."
        pub max_tcp_connections: usize = 250,
        "TCP keep-alive on accepted connections."
        pub tcp_keep_alive: bool = false,
        "With a `delete_*` option off, how long a series not updated is still reported; 0 is for ever."
        pub max_ttl: Dur = Dur::from_secs(0),
        "Tags added to every point; they replace tags of the same key from the metrics."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

/// Keys of the original's `statsd` that do nothing here.
fn compat(key: &str) -> Option<&'static str> {
    Some(match key {
        "source" => "the original's feed name: points are counted under the input's name, `statsd`",
        "parse_data_dog_tags" => {
            "deprecated, and never read by the original either (its field had no TOML name): use `datadog_extensions`"
        }
        "udp_packet_size" => "deprecated in the original: a datagram is read whole, up to 64 KiB",
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Udp,
    Tcp,
}

fn proto(p: &str) -> Option<Proto> {
    match p {
        "udp" | "udp4" | "udp6" => Some(Proto::Udp),
        "tcp" | "tcp4" | "tcp6" => Some(Proto::Tcp),
        _ => None,
    }
}

impl StatsdConfig {
    fn separator(&self) -> &str {
        if self.metric_separator.is_empty() {
            "_"
        } else {
            &self.metric_separator
        }
    }

    fn templates(&self) -> Result<Option<Templates>, String> {
        if self.templates.iter().all(|t| t.trim().is_empty()) {
            return Ok(None);
        }
        Templates::new(&self.templates)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn naming(&self) -> Naming {
        let (mapping, _) = Naming::parse_mapping(&self.metric_mapping);
        Naming {
            separator: self.separator().to_string(),
            mapping,
            percentiles: self
                .percentiles
                .iter()
                .map(|&p| (p, naming::percentile_name(p)))
                .collect(),
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            drop_tags: self.drop_tags.clone(),
            source_key: self.statsd_source_key.clone(),
            host_key: self.statsd_host_key.clone(),
            save_above_key: self.save_above_key,
        }
    }

    /// Which series each flush removes, by [`Kind`].
    fn delete(&self) -> [bool; 6] {
        let mut d = [true; 6];
        d[Kind::Counter.index()] = self.delete_counters;
        d[Kind::Gauge.index()] = self.delete_gauges;
        d[Kind::Set.index()] = self.delete_sets;
        d[Kind::Timing.index()] = self.delete_timings;
        d[Kind::Histogram.index()] = self.delete_timings;
        d
    }
}

/// `host:port`, `[v6]:port` or `:port`.
fn check_address(a: &str) -> Result<(), String> {
    let (_, port) = a
        .rsplit_once(':')
        .ok_or_else(|| format!("`{a}` has no port; write host:port or :port"))?;
    port.parse::<u16>()
        .map(|_| ())
        .map_err(|_| format!("invalid port `{port}` in `{a}`"))
}

impl InputConfig for StatsdConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        if self.interval.get().is_zero() {
            v.error("interval", "must be more than 0");
        }
        if proto(&self.protocol).is_none() {
            v.error(
                "protocol",
                format!(
                    "unknown protocol `{}`; use udp, udp4, udp6, tcp, tcp4 or tcp6",
                    self.protocol
                ),
            );
        }
        if !self.service_address.is_empty()
            && let Err(e) = check_address(&self.service_address)
        {
            v.error("service_address", e);
        }
        if self.service_address.is_empty() && self.service_unix_address.is_empty() {
            v.error(
                "service_address",
                "no `service_address` and no `service_unix_address`: this instance receives nothing",
            )
            .reads(&["service_unix_address"]);
        }
        if self.allowed_pending_messages == 0 {
            v.error("allowed_pending_messages", "must be at least 1");
        }
        if self.percentile_limit == 0 {
            v.error("percentile_limit", "must be at least 1");
        }
        for (i, p) in self.percentiles.iter().enumerate() {
            if !(0.0..=100.0).contains(p) {
                v.error(
                    &format!("percentiles[{i}]"),
                    format!("{p} is not a percentile (0 to 100)"),
                );
            }
        }
        if self.max_tcp_connections == 0 && proto(&self.protocol) == Some(Proto::Tcp) {
            v.error("max_tcp_connections", "must be at least 1")
                .reads(&["protocol"]);
        }
        for (i, m) in self.metric_mapping.iter().enumerate() {
            match m.split_once(':') {
                None => {
                    v.warning(
                        &format!("metric_mapping[{i}]"),
                        format!("`{m}` is not `prefix:measurement`: ignored"),
                    );
                }
                Some(("", _)) => {
                    v.warning(
                        &format!("metric_mapping[{i}]"),
                        format!("`{m}` has an empty prefix: every name matches it"),
                    );
                }
                _ => {}
            }
        }
        for (i, t) in self.templates.iter().enumerate() {
            if let Err(e) = Templates::new(std::slice::from_ref(t)) {
                v.error(&format!("templates[{i}]"), e.to_string());
            }
        }
        if self.datadog_distributions && !self.datadog_extensions {
            v.warning(
                "datadog_distributions",
                "has no effect without `datadog_extensions`",
            )
            .reads(&["datadog_extensions"]);
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let templates = self.templates().map_err(InputError::Setup)?;
        let proto = proto(&self.protocol)
            .ok_or_else(|| InputError::Setup(format!("unknown protocol `{}`", self.protocol)))?;
        Ok(Box::new(Statsd {
            interval: self.interval.get(),
            proto,
            protocol: self.protocol.clone(),
            service_address: self.service_address.clone(),
            service_unix_address: self.service_unix_address.clone(),
            allowed_pending: self.allowed_pending_messages.max(1),
            read_buffer: self.read_buffer_size,
            max_tcp_connections: self.max_tcp_connections,
            tcp_keep_alive: self.tcp_keep_alive,
            agg: AggOptions {
                datadog: self.datadog_extensions,
                distributions: self.datadog_distributions,
                separator: self.separator().to_string(),
                templates,
                convert_names: self.convert_names,
                set_counter_int: self.set_counter_int,
                percentile_limit: self.percentile_limit.max(1),
                track_updates: !self.max_ttl.get().is_zero(),
            },
            naming: self.naming(),
            delete: self.delete(),
            max_ttl: Some(self.max_ttl.get()).filter(|d| !d.is_zero()),
        }))
    }
}

struct Statsd {
    interval: Duration,
    proto: Proto,
    protocol: String,
    service_address: String,
    service_unix_address: String,
    allowed_pending: usize,
    read_buffer: usize,
    max_tcp_connections: usize,
    tcp_keep_alive: bool,
    agg: AggOptions,
    naming: Naming,
    delete: [bool; 6],
    max_ttl: Option<Duration>,
}

impl Input for Statsd {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run(*self, ctx))
    }
}

/// What the flush reads and keeps between intervals.
struct Flusher {
    agg: Arc<Mutex<Aggregator>>,
    naming: Naming,
    delete: [bool; 6],
    max_ttl: Option<Duration>,
    report: Reporter,
    sockets: Arc<Sockets>,
    /// The kernel's drops at the last report.
    kernel_drops: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Flusher {
    /// Reports what was aggregated since the last flush; runs on a blocking thread.
    fn flush(&mut self, ctx: &FlushCtx) -> Result<(), crate::ingest::FeedError> {
        let now = crate::clock::now_ns();
        let series = lock(&self.agg).flush(self.delete, self.max_ttl);
        let report = &self.report;
        report.counters.set(listen::C_SERIES, series.len() as u64);
        let built = self.naming.build(series, now);
        if let Some(name) = &built.first_dropped {
            report.dropped(
                DropReason::Invalid,
                built.dropped,
                &format!(
                    "metric `{name}`: no measurement or no field is left after the split at `{}` (or `metric_mapping`)",
                    self.naming.separator
                ),
            );
        }
        if let Some(name) = &built.first_non_finite {
            report.dropped(
                DropReason::Invalid,
                built.non_finite,
                &format!("metric `{name}`: its value is no longer a finite number"),
            );
        }
        let drops = self.sockets.kernel_drops();
        report.counters.set(listen::C_KERNEL_DROPS, drops);
        if drops > self.kernel_drops {
            report.error(format!(
                "the kernel dropped {} datagrams at the socket since the last report: its receive buffer ({} bytes) was full; raise read_buffer_size (as root), or send less",
                drops - self.kernel_drops,
                report.counters.get(listen::C_RCVBUF).map_or(0, |c| c.load(std::sync::atomic::Ordering::Relaxed))
            ));
        }
        self.kernel_drops = drops;
        ctx.ingest
            .feed_blocking(
                &ctx.origin,
                Category::Metric,
                built.points,
                &FeedOptions::default(),
                false,
            )
            .map(|_| ())
    }
}

struct FlushCtx {
    ingest: crate::ingest::Ingest,
    origin: crate::ingest::Origin,
}

/// Reports what the parser made of a chunk.
fn report_outcome(r: &Reporter, chunk: &Chunk, o: &Outcome, last_error: &mut Option<Instant>) {
    r.counters.add(listen::C_LINES, o.lines);
    if let Some(p) = &o.first_invalid {
        let msg = format!(
            "{}: {}: `{}`",
            chunk.locate(p.line_start, p.at),
            p.why,
            p.excerpt
        );
        r.dropped(DropReason::Invalid, o.invalid, &msg);
        // The drop event logs at its own pace; the last error changes at most every second.
        if last_error.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last_error = Some(Instant::now());
            let more = if o.invalid > 1 {
                format!(" ({} bad lines in this chunk)", o.invalid)
            } else {
                String::new()
            };
            r.last_error(format!("malformed statsd line, dropped{more}: {msg}"));
        }
    }
    if let Some(title) = &o.first_event {
        r.dropped(
            DropReason::Unsupported,
            o.events,
            &format!("DogStatsD event `{title}`: events are not collected (nor by the original)"),
        );
    }
    if let Some(name) = &o.first_service_check {
        r.dropped(
            DropReason::Unsupported,
            o.service_checks,
            &format!(
                "DogStatsD service check `{name}`: service checks are not collected (nor by the original)"
            ),
        );
    }
    r.dropped(
        DropReason::Unsupported,
        o.distributions_off,
        "DogStatsD distributions (`|d`) while datadog_distributions or datadog_extensions is off",
    );
}

/// The parser: chunks from the queue into the aggregator, until every sender is gone.
fn parse_loop(mut rx: mpsc::Receiver<Chunk>, agg: Arc<Mutex<Aggregator>>, report: Reporter) {
    let mut last_error = None;
    while let Some(chunk) = rx.blocking_recv() {
        let o = lock(&agg).add_chunk(&chunk.data);
        report_outcome(&report, &chunk, &o, &mut last_error);
        drop(chunk);
        if rx.is_empty() {
            crate::idle::thread_idle();
        }
    }
}

async fn run(s: Statsd, mut ctx: InputCtx) -> Result<(), InputError> {
    let report = Reporter {
        counters: ctx.stats.receiver(listen::COUNTERS),
        stats: ctx.stats.clone(),
        agent_stats: ctx.agent_stats.clone(),
        name: ctx.name,
    };
    let (tx, rx) = mpsc::channel::<Chunk>(s.allowed_pending);
    let sockets = Arc::new(Sockets::default());
    let shared = Arc::new(Shared {
        queue: tx,
        report: report.clone(),
        allowed_pending: s.allowed_pending,
        read_buffer: s.read_buffer,
        sockets: sockets.clone(),
    });
    let agg = Arc::new(Mutex::new(Aggregator::new(s.agg)));
    let parser = {
        let (agg, report) = (agg.clone(), report.clone());
        std::thread::Builder::new()
            .name("statsd-parse".into())
            .spawn(move || parse_loop(rx, agg, report))
            .map_err(|e| InputError::Setup(format!("cannot start the parser thread: {e}")))?
    };
    let mut listeners = Vec::new();
    if !s.service_address.is_empty() {
        let (sh, addr, p, sd) = (
            shared.clone(),
            s.service_address.clone(),
            s.protocol.clone(),
            ctx.shutdown.clone(),
        );
        listeners.push(match s.proto {
            Proto::Udp => tokio::spawn(listen::udp(sh, addr, p, sd)),
            Proto::Tcp => tokio::spawn(listen::tcp(
                sh,
                addr,
                p,
                s.max_tcp_connections,
                s.tcp_keep_alive,
                sd,
            )),
        });
    }
    if !s.service_unix_address.is_empty() {
        let path = ctx.workdir.join_config_path(&s.service_unix_address);
        listeners.push(tokio::spawn(listen::unixgram(
            shared.clone(),
            path,
            ctx.shutdown.clone(),
        )));
    }
    // The listeners hold the queue now: once they end, so does the parser.
    drop(shared);
    let flush_ctx = Arc::new(FlushCtx {
        ingest: ctx.ingest.clone(),
        origin: ctx.origin.clone(),
    });
    let flusher = Flusher {
        agg,
        naming: s.naming,
        delete: s.delete,
        max_ttl: s.max_ttl,
        report,
        sockets,
        kernel_drops: 0,
    };
    let mut periodic = super::Periodic::new(s.interval, flusher, &ctx).after_first_interval();
    let mut result = Ok(());
    loop {
        let fctx = flush_ctx.clone();
        let Some(fed) = periodic.next(&mut ctx, move |f| f.flush(&fctx)).await else {
            break;
        };
        if let Err(e) = fed {
            result = Err(e.into());
            break;
        }
        if parser.is_finished() {
            result = Err(InputError::Failed("the statsd parser stopped".into()));
            break;
        }
    }
    // Stopping: the listeners end with the shutdown signal (they watch it), which ends the
    // parser once it has read what is left in the queue; what it aggregated is reported one
    // last time. (A failed feed stops the input the same way.)
    if result.is_err() {
        for l in &listeners {
            l.abort();
        }
    }
    for l in listeners {
        let _ = l.await;
    }
    let flusher = periodic.into_state();
    let last = tokio::task::spawn_blocking(move || {
        let parsed = parser.join();
        let fed = flusher.map(|mut f| f.flush(&flush_ctx));
        (parsed, fed)
    })
    .await;
    match last {
        Ok((Err(panic), _)) => std::panic::resume_unwind(panic),
        Ok((Ok(()), Some(Err(e)))) if result.is_ok() => result = Err(e.into()),
        Ok(_) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => {}
    }
    result
}

const TAGS: &[TagSpec] = &[
    TagSpec {
        name: "metric_type",
        description: "`counter`, `gauge`, `set`, `timing`, `histogram` or `distribution` (removable with `drop_tags`).",
    },
    TagSpec {
        name: "<tag>",
        description: "The metric's own tags: `name,key=value` in the name, a template's tags, DogStatsD `|#key:value` (a valueless `|#key` is `key=true`); then the input's `tags`. `drop_tags` removes any.",
    },
];

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "<counter>",
        kind: FieldType::Float,
        unit: "count",
        description: "A counter (`|c`): the sum of the interval's values, each divided by its sample rate (`@0.1`). An integer with `set_counter_int`.",
    },
    FieldSpec {
        name: "<gauge>",
        kind: FieldType::Float,
        unit: "-",
        description: "A gauge (`|g`): the last value; a signed value (`+3`, `-3`) changes it.",
    },
    FieldSpec {
        name: "<set>",
        kind: FieldType::Int,
        unit: "count",
        description: "A set (`|s`): the number of distinct members in the interval.",
    },
    FieldSpec {
        name: "<timer>_count",
        kind: FieldType::Int,
        unit: "count",
        description: "A timing (`|ms`), histogram (`|h`) or distribution (`|d`): values in the interval, each sampled one (`@0.1`) counted `1/rate` times.",
    },
    FieldSpec {
        name: "<timer>_sum",
        kind: FieldType::Float,
        unit: "-",
        description: "Sum of the values.",
    },
    FieldSpec {
        name: "<timer>_mean",
        kind: FieldType::Float,
        unit: "-",
        description: "Mean of the values.",
    },
    FieldSpec {
        name: "<timer>_stddev",
        kind: FieldType::Float,
        unit: "-",
        description: "Population standard deviation of the values.",
    },
    FieldSpec {
        name: "<timer>_lower",
        kind: FieldType::Float,
        unit: "-",
        description: "Smallest value.",
    },
    FieldSpec {
        name: "<timer>_upper",
        kind: FieldType::Float,
        unit: "-",
        description: "Largest value.",
    },
    FieldSpec {
        name: "<timer>_p<percentile>",
        kind: FieldType::Float,
        unit: "-",
        description: "The value at each of `percentiles` (`_p50`, `_p90`, `_p99`, `_p99_9`, `_p99_95`, `_p100` by default) among at most `percentile_limit` values kept.",
    },
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "<measurement>",
    category: Category::Metric,
    description: "Named after each metric by the rule in the notes below: `bar.hits:1|c` is measurement `bar`, field `hits`, tag `metric_type=counter`. Series of one measurement and tags in one report are one point.",
    tags: TAGS,
    fields: FIELDS,
}];

/// The page's notes: the naming rule and what differs from the original.
pub const NOTES: &[&str] = &[
    "Naming: the dotted parts of a name are joined with `metric_separator` (`jvm.heap.used` → `jvm_heap_used`, or as `templates` say), then split at its first `metric_separator`: the head is the measurement, the rest the field (`jvm`, `heap_used`); a name without it is both. With `metric_mapping`, a name starting with a prefix gets that measurement and the rest as its field (the longest prefix wins), and names matching none are not split. A name that leaves no measurement or no field (`a_`) is dropped and counted (`invalid`). A template that names a field gives it directly.",
    "Timings, histograms and distributions are reported as statistics, one field each: `<field>_count`, `_sum`, `_mean`, `_stddev`, `_lower`, `_upper` and `_p<percentile>` (`api.latency:12|ms` gives measurement `api`, fields `latency_mean`, `latency_p90`, ...). The original computed them and then dropped them (its accumulator refused points of more than one field); it sent each distribution value as a point of its own, all with the time of the report.",
    "Points carry the time of the report. The original's `source` (feed name) is read and has no effect: points are counted under `statsd`; `statsd_source_key`/`statsd_host_key` only remove those tags, as in the original.",
    "What makes no metric is counted as dropped, by reason, and shown in `datakit monitor`: malformed lines (`invalid`; the message names the sender, the line and the byte), DogStatsD events and service checks (`unsupported`, never delivered by the original either), chunks the full queue had no room for (`queue_full`, counted by lines), datagrams and TCP lines over 64 KiB (`too_large`). The monitor's Receivers table adds datagrams, TCP connections, bytes, lines, series, the receive buffer granted and the kernel's own drops at the socket.",
    "Beyond the original: TCP (`protocol = \"tcp\"`, with `max_tcp_connections` and `tcp_keep_alive`; the original refused it), `templates`, container ids (`|c:`) and packed values (`a:1:2:3|h`) of DogStatsD, a default receive buffer (`read_buffer_size`), ports retried until free, the Unix socket with any protocol, and a last report when the input stops.",
    "Stricter than the original: values must be finite decimal numbers (no `NaN`, `Inf` or hex), a sample rate must be more than 0, and valueless DogStatsD tags each become `tag=true`.",
];

pub const ENTRY: InputEntry = entry_with_compat::<StatsdConfig>(
    InputSpec {
    name: "statsd",
    catalog: "statsd",
    description: "Receives statsd and DogStatsD metrics and reports them aggregated every interval.",
    singleton: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
},
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests;
