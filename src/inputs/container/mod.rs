//! `container`: the running containers of a Docker engine, through the Docker Engine API on
//! its unix socket ([`docker`]): one `docker_containers` metric per container every
//! `metric_collect_interval` (CPU, memory, network, block IO, with the original's names), the
//! container object list (`docker_containers`, category object) every
//! `object_collect_interval`, and a `kubernetes` count of containers per namespace when
//! containers carry Kubernetes' labels.
//!
//! Differences from the original, on purpose:
//! - statistics are read with the engine's `one-shot` (no second-long wait per container),
//!   so CPU usage is measured between two collections, over the whole interval, rather than
//!   over the engine's last second; a container's first collection has no CPU usage fields;
//! - `network_bytes_*` sum the container's interfaces but `lo` from the engine's statistics
//!   (the original sends 0 there: its sums were lost to a shadowed variable); containers
//!   without networks in the engine's statistics are read from `/proc/<pid>/net/dev`, as the
//!   original does;
//! - containerd and CRI-O endpoints and Kubernetes (pods, workloads, events, label
//!   extraction, pod annotations) are not supported yet: their keys are reported by
//!   `check-config` as having no effect, and an endpoint that is not a Docker engine is an
//!   error of the input.
//!
//! Logs ([`logs`]): each running container's json-file log, read by the `logging` input's
//! tailer (positions, rotation, multiline, Pipeline by source).

pub mod docker;
pub mod filter;
pub mod logs;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, FieldSpec, FieldType, InputConfig, InputEntry, InputError, InputSpec,
    IntervalLimits, MeasurementSpec, TagSpec, Validation, entry_with_compat,
};
use crate::point::{Category, Point, Value};
use docker::{Client, DockerError, Inspect, Stats, Summary};

/// The measurement of the metrics and of the objects (as the original).
pub const MEASUREMENT: &str = "docker_containers";
/// The longest `message` of an object (as the original).
const MAX_MESSAGE: usize = 256 * 1024;
/// How long one request to the engine may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const LIMITS: IntervalLimits = IntervalLimits {
    min: Duration::from_secs(10),
    max: Duration::from_secs(300),
};

config_struct! {
    "Containers of a Docker engine: metrics and objects."
    pub struct ContainerConfig {
        "Container engine endpoints (`unix://` sockets). An endpoint whose socket does not \
         exist is skipped; one that is not a Docker engine (containerd, CRI-O) is an error."
        pub endpoints: Vec<String> = vec!["unix:///var/run/docker.sock".into()],
        "A further Docker endpoint (the original's older key, added to `endpoints`)."
        pub docker_endpoint: String = String::new(),
        "How often container metrics are collected (10s to 5m)."
        pub metric_collect_interval: Dur = Dur::from_secs(60),
        "How often the container object list is sent (10s to 5m)."
        pub object_collect_interval: Dur = Dur::from_secs(300),
        "Send the `docker_containers` metrics (the objects are always sent)."
        pub enable_container_metric: bool = true,
        "Most statistics requests in flight at once (the engine answers them at its next \
         sampling, up to a second later: requests are sent together, then their answers read)."
        pub container_max_concurrent: usize = 64,
        "How often running containers are looked for to read their logs (10s to 5m); a \
         container gone is released at the next look, once its log is read to its end."
        pub logging_search_interval: Dur = Dur::from_secs(60),
        "Containers whose logs are read: rules `image:<glob>`, `image_name:<glob>`, \
         `image_short_name:<glob>`, `namespace:<glob>` (empty: all)."
        pub container_include_log: Vec<String> = Vec::new(),
        "Containers whose logs are not read (same rules; they win over the includes)."
        pub container_exclude_log: Vec<String> =
            vec!["image:*logfwd*".into(), "image:*datakit*".into()],
        "Join the lines of multiline records (with the patterns below)."
        pub logging_enable_multiline: bool = true,
        "Detect multiline records with the built-in timestamp patterns."
        pub logging_auto_multiline_detection: bool = true,
        "More first-line patterns for the automatic detection, tried before the built-in ones."
        pub logging_auto_multiline_extra_patterns: Vec<String> = Vec::new(),
        "Regular expression matched against a log's source → the source to use instead."
        pub logging_extra_source_map: BTreeMap<String, String> = BTreeMap::new(),
        "Source → the first-line pattern of its multiline records (wins over detection)."
        pub logging_source_multiline_map: BTreeMap<String, String> = BTreeMap::new(),
        "Remove ANSI escape codes (colours) from log lines."
        pub logging_remove_ansi_escape_codes: bool = false,
        "Read log files found at start without a saved position from their start even when \
         larger than 20 MB."
        pub logging_file_from_beginning: bool = false,
        "Keep only these keys of each log point (`message` is always kept); empty keeps all."
        pub logging_field_white_list: Vec<String> = Vec::new(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

impl ContainerConfig {
    /// `endpoints` and `docker_endpoint`, without repeats.
    pub fn all_endpoints(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for e in self
            .endpoints
            .iter()
            .chain(std::iter::once(&self.docker_endpoint))
        {
            if !e.is_empty() && !v.contains(e) {
                v.push(e.clone());
            }
        }
        v
    }
}

/// Keys of the original this input reads without acting on them.
fn compat(key: &str) -> Option<&'static str> {
    const K8S: &str = "Kubernetes is not supported by this agent yet";
    const DEPRECATED: &str = "deprecated in the original, which ignores it too";
    Some(match key {
        "containerd_address" => {
            "containerd is not supported by this agent yet: only Docker Engine endpoints are"
        }
        "enable_k8s_metric"
        | "enable_pod_metric"
        | "enable_k8s_event"
        | "enable_k8s_node_local"
        | "enable_collect_k8s_job"
        | "extract_k8s_label_as_tags"
        | "extract_k8s_label_as_tags_v2"
        | "extract_k8s_label_as_tags_v2_for_metric"
        | "pod_include_metric"
        | "pod_exclude_metric" => K8S,
        "logging_file_from_beginning_threshold_size" => {
            "the threshold is the `logging` input's, 20 MB: smaller files without a saved position are read from their start"
        }
        "logging_max_open_files" => {
            "each container's log is one open file, released when the container is gone"
        }
        "container_include_metric" | "container_exclude_metric" => {
            "removed from the original: metrics are sent for every running container"
        }
        "logging_min_flush_interval"
        | "logging_max_multiline_life_duration"
        | "logging_blocking_mode"
        | "logging_force_flush_limit"
        | "exclude_pause_container"
        | "disable_k8s_events"
        | "enable_auto_discovery_of_prometheus_pod_annotations"
        | "enable_auto_discovery_of_prometheus_service_annotations"
        | "enable_auto_discovery_of_prometheus_pod_monitors"
        | "enable_auto_discovery_of_prometheus_service_monitors"
        | "keep_exist_prometheus_metric_name"
        | "enable_k8s_self_metric_by_prom" => DEPRECATED,
        _ => return None,
    })
}

impl InputConfig for ContainerConfig {
    fn extra_intervals(&mut self) -> Vec<(&'static str, &mut Dur, IntervalLimits)> {
        vec![
            (
                "metric_collect_interval",
                &mut self.metric_collect_interval,
                LIMITS,
            ),
            (
                "object_collect_interval",
                &mut self.object_collect_interval,
                LIMITS,
            ),
            (
                "logging_search_interval",
                &mut self.logging_search_interval,
                LIMITS,
            ),
        ]
    }

    fn validate(&self, v: &mut Validation) {
        for (i, e) in self.endpoints.iter().enumerate() {
            check_endpoint(v, &format!("endpoints[{i}]"), e);
        }
        if !self.docker_endpoint.is_empty() {
            check_endpoint(v, "docker_endpoint", &self.docker_endpoint);
        }
        for (key, d) in [
            ("metric_collect_interval", self.metric_collect_interval),
            ("object_collect_interval", self.object_collect_interval),
            ("logging_search_interval", self.logging_search_interval),
        ] {
            if d.get().is_zero() {
                v.error(key, "must be longer than 0 (e.g. \"60s\")");
            }
        }
        for k in self.tags.keys() {
            if k.is_empty() {
                v.error("tags", "a tag key must not be empty");
            }
        }
        for (key, rules) in [
            ("container_include_log", &self.container_include_log),
            ("container_exclude_log", &self.container_exclude_log),
        ] {
            for (i, r) in rules.iter().enumerate() {
                if let Err(e) = filter::Filter::new(std::slice::from_ref(r), &[]) {
                    v.error(&format!("{key}[{i}]"), e.to_string());
                }
            }
        }
        let regexes = self
            .logging_auto_multiline_extra_patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("logging_auto_multiline_extra_patterns[{i}]"), p))
            .chain(
                self.logging_extra_source_map
                    .keys()
                    .map(|k| (format!("logging_extra_source_map.{k}"), k)),
            )
            .chain(
                self.logging_source_multiline_map
                    .iter()
                    .map(|(k, p)| (format!("logging_source_multiline_map.{k}"), p)),
            );
        for (key, p) in regexes {
            if let Err(e) = crate::config::validate::check_regex(p) {
                v.error(&key, format!("invalid regular expression: {e}"));
            }
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn build(&self) -> Result<Box<dyn crate::inputs::Input>, InputError> {
        let collector = ContainerCollector::new(self)?;
        let tick = collector.tick();
        let clients = self
            .all_endpoints()
            .iter()
            .map(|e| Client::new(e, REQUEST_TIMEOUT).map_err(|e| InputError::Setup(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(ContainerInput {
            collector,
            tick,
            logs: Some((clients, self.log_options()?)),
        }))
    }
}

impl ContainerConfig {
    fn log_options(&self) -> Result<logs::LogOptions, InputError> {
        let setup = |e: String| InputError::Setup(e);
        let extra_source_map = self
            .logging_extra_source_map
            .iter()
            .map(|(re, src)| {
                regex::Regex::new(re)
                    .map(|r| (r, src.clone()))
                    .map_err(|e| setup(format!("logging_extra_source_map `{re}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(logs::LogOptions {
            search_every: self
                .logging_search_interval
                .get()
                .max(Duration::from_secs(1)),
            filter: filter::Filter::new(&self.container_include_log, &self.container_exclude_log)
                .map_err(|e| setup(e.to_string()))?,
            multiline: self.logging_enable_multiline,
            auto_multiline: self.logging_auto_multiline_detection,
            extra_patterns: self.logging_auto_multiline_extra_patterns.clone(),
            source_multiline: self.logging_source_multiline_map.clone(),
            extra_source_map,
            from_beginning: self.logging_file_from_beginning,
            remove_ansi: self.logging_remove_ansi_escape_codes,
            white_list: self.logging_field_white_list.clone(),
            tags: self.tags.clone(),
        })
    }
}

/// The running input: the metrics and objects every tick, the container logs beside them.
struct ContainerInput {
    collector: ContainerCollector,
    tick: Duration,
    logs: Option<(Vec<Client>, logs::LogOptions)>,
}

impl crate::inputs::Input for ContainerInput {
    fn run(
        self: Box<Self>,
        ctx: crate::inputs::InputCtx,
    ) -> crate::inputs::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let ContainerInput {
                collector,
                tick,
                logs,
            } = *self;
            let logs = logs.map(|(c, o)| tokio::spawn(logs::run(c, o, ctx.clone())));
            let r = crate::inputs::run_periodic(Box::new(collector), tick, ctx).await;
            if let Some(h) = logs {
                let _ = h.await;
            }
            r
        })
    }
}

fn check_endpoint(v: &mut Validation, key: &str, e: &str) {
    match Client::new(e, REQUEST_TIMEOUT) {
        Err(err) => {
            v.error(key, err.to_string());
        }
        Ok(c) => {
            let p = c.path().to_string_lossy();
            if p.contains("containerd") || p.contains("crio") {
                v.warning(
                    key,
                    format!("`{e}` looks like a containerd or CRI-O socket: only Docker Engine endpoints are supported; it will fail if it exists"),
                );
            }
        }
    }
}

/// One endpoint and what is remembered of it between collections.
struct Endpoint {
    endpoint: String,
    client: Client,
    /// The engine's version (asked once it answers).
    version: Option<String>,
    /// The previous CPU reading of each container: (container total, system total) in ns.
    prev_cpu: HashMap<String, (u64, u64)>,
    /// Whether "socket not found" was logged since it was last found.
    missing_logged: bool,
}

/// The collector: every tick, metrics (each `metric_collect_interval`) and objects (each
/// `object_collect_interval`, and at the first collection).
pub struct ContainerCollector {
    endpoints: Vec<Endpoint>,
    metrics: bool,
    max_concurrent: usize,
    metric_every: Duration,
    object_every: Duration,
    last_metric: Option<Instant>,
    last_object: Option<Instant>,
    tags: BTreeMap<String, String>,
}

impl ContainerCollector {
    pub fn new(cfg: &ContainerConfig) -> Result<ContainerCollector, InputError> {
        let endpoints = cfg
            .all_endpoints()
            .into_iter()
            .map(|e| {
                Client::new(&e, REQUEST_TIMEOUT)
                    .map(|client| Endpoint {
                        endpoint: e,
                        client,
                        version: None,
                        prev_cpu: HashMap::new(),
                        missing_logged: false,
                    })
                    .map_err(|e| InputError::Setup(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ContainerCollector {
            endpoints,
            metrics: cfg.enable_container_metric,
            max_concurrent: cfg.container_max_concurrent.max(1),
            metric_every: cfg.metric_collect_interval.get(),
            object_every: cfg.object_collect_interval.get(),
            last_metric: None,
            last_object: None,
            tags: cfg.tags.clone(),
        })
    }

    /// How often the collector must run.
    pub fn tick(&self) -> Duration {
        let t = if self.metrics {
            self.metric_every.min(self.object_every)
        } else {
            self.object_every
        };
        t.max(Duration::from_secs(1))
    }

    /// Sends metrics and objects at the next collection whatever the intervals say (tests,
    /// benchmarks).
    pub fn force_next(&mut self) {
        self.last_metric = None;
        self.last_object = None;
    }

    /// Leaves the objects out of the next collection (benchmarks: metrics alone).
    pub fn objects_not_due(&mut self) {
        self.last_object = Some(Instant::now());
    }
}

/// Whether `every` has passed since `last` (allowing for a tick that comes a little early).
fn due(last: Option<Instant>, every: Duration, now: Instant) -> bool {
    last.is_none_or(|l| now.duration_since(l) + Duration::from_millis(500) >= every)
}

impl Collect for ContainerCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let now = Instant::now();
        let metrics = self.metrics && due(self.last_metric, self.metric_every, now);
        let objects = due(self.last_object, self.object_every, now);
        if !metrics && !objects {
            return Ok(Vec::new());
        }
        let host = HostInfo::read();
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for ep in &mut self.endpoints {
            if !ep.client.path().exists() {
                if !ep.missing_logged {
                    tracing::info!(endpoint = %ep.endpoint, "container engine socket not found; skipped until it appears");
                    ep.missing_logged = true;
                }
                ep.prev_cpu.clear();
                continue;
            }
            ep.missing_logged = false;
            let what = What {
                metrics,
                objects,
                max_concurrent: self.max_concurrent,
            };
            if let Err(e) = collect_endpoint(ep, &host, what, ctx, &mut out) {
                errors.push(format!("{}: {e}", ep.endpoint));
            }
        }
        for p in &mut out {
            for (k, v) in &self.tags {
                p.set_tag(k.clone(), v.clone());
            }
        }
        if metrics {
            self.last_metric = Some(now);
        }
        if objects {
            self.last_object = Some(now);
        }
        if !errors.is_empty() {
            let msg = errors.join("; ");
            if out.is_empty() {
                return Err(msg);
            }
            tracing::warn!(error = %msg, "container endpoints failed");
        }
        Ok(out)
    }
}

/// What is read once per collection from the host.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostInfo {
    /// `MemTotal` in bytes (0 when unreadable).
    pub mem_total: u64,
}

impl HostInfo {
    pub fn read() -> HostInfo {
        let mem_total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| {
                    let rest = l.strip_prefix("MemTotal:")?;
                    let kb = rest.trim().trim_end_matches("kB").trim();
                    kb.parse::<u64>().ok()
                })
            })
            .map_or(0, |kb| kb * 1024);
        HostInfo { mem_total }
    }
}

/// What a collection sends.
#[derive(Debug, Clone, Copy)]
struct What {
    metrics: bool,
    objects: bool,
    max_concurrent: usize,
}

fn collect_endpoint(
    ep: &mut Endpoint,
    host: &HostInfo,
    what: What,
    ctx: &CollectCtx,
    out: &mut Vec<Point>,
) -> Result<(), DockerError> {
    if ep.version.is_none() {
        let v = ep.client.version()?;
        ep.version = Some(v.version);
    }
    let version = ep.version.clone().unwrap_or_default();
    let list = match ep.client.list_running() {
        Ok(l) => l,
        Err(e) => {
            // The engine may have been replaced: ask its version again next time.
            ep.version = None;
            return Err(e);
        }
    };
    // A container that stopped since the list is gone: skipped.
    let found: Vec<(&Summary, Inspect)> = list
        .iter()
        .filter(|c| label(c, "io.kubernetes.docker.type") != "podsandbox")
        .filter_map(|c| match ep.client.inspect(&c.id) {
            Ok(i) => Some((c, i)),
            Err(e) => {
                tracing::debug!(id = %c.id, error = %e, "container inspect failed; skipped");
                None
            }
        })
        .collect();
    let mut seen_cpu = HashMap::with_capacity(found.len());
    let mut per_namespace: BTreeMap<String, i64> = BTreeMap::new();
    for batch in found.chunks(what.max_concurrent) {
        // Every request of the batch is sent before any answer is read.
        let pending: Vec<_> = batch
            .iter()
            .map(|(c, _)| ep.client.send_stats(&c.id))
            .collect();
        for ((c, inspect), p) in batch.iter().zip(pending) {
            let top = match p.and_then(|p| p.finish_json::<Stats>()) {
                Ok(s) => Some(Top::of(&s, inspect, host, ep.prev_cpu.get(&c.id).copied())),
                Err(e) => {
                    tracing::debug!(id = %c.id, error = %e, "container stats failed");
                    None
                }
            };
            if let Some(t) = &top {
                seen_cpu.insert(c.id.clone(), t.cpu_reading);
            }
            let info = info_tags(c, &version);
            if what.metrics {
                let mut p = Point::new(Category::Metric, MEASUREMENT);
                p.tags = info.clone();
                if let Some(t) = &top {
                    t.put(&mut p);
                }
                let ns = label(c, "io.kubernetes.pod.namespace");
                if !ns.is_empty() {
                    *per_namespace.entry(ns.to_string()).or_default() += 1;
                }
                out.push(p);
            }
            if what.objects {
                out.push(object_point(c, info, top.as_ref(), ctx.now_ns));
            }
        }
    }
    ep.prev_cpu = seen_cpu;
    for (ns, n) in per_namespace {
        let mut p = Point::new(Category::Metric, "kubernetes");
        p.tags.push(("namespace".into(), ns));
        p.tags.push(("node_name".into(), ctx.hostname.to_string()));
        p.fields.push(("container".into(), Value::Int(n)));
        out.push(p);
    }
    Ok(())
}

fn label<'a>(c: &'a Summary, key: &str) -> &'a str {
    c.labels.get(key).map_or("", String::as_str)
}

/// The tags metrics and objects share (the original's `buildInfoKVs` and the ECS labels).
fn info_tags(c: &Summary, version: &str) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = Vec::with_capacity(12);
    let mut put = |k: &str, v: &str| t.push((k.to_string(), v.to_string()));
    put("container_id", &c.id);
    put("container_runtime", "docker");
    put("container_runtime_version", version);
    put("state", &c.state);
    put("image", &c.image);
    put("container_runtime_name", c.name());
    let k8s = !label(c, "io.kubernetes.pod.uid").is_empty();
    put("container_type", if k8s { "kubernetes" } else { "docker" });
    let k8s_name = label(c, "io.kubernetes.container.name");
    put(
        "container_name",
        if k8s_name.is_empty() {
            c.name()
        } else {
            k8s_name
        },
    );
    for (tag, key) in [
        ("pod_uid", "io.kubernetes.pod.uid"),
        ("pod_name", "io.kubernetes.pod.name"),
        ("namespace", "io.kubernetes.pod.namespace"),
        ("task_family", "com.amazonaws.ecs.task-definition-family"),
        ("task_version", "com.amazonaws.ecs.task-definition-version"),
        ("task_arn", "com.amazonaws.ecs.task-arn"),
    ] {
        let v = label(c, key);
        if !v.is_empty() {
            put(tag, v);
        }
    }
    let cluster = label(c, "com.amazonaws.ecs.cluster");
    if let Some(i) = cluster.rfind("cluster/") {
        let name = &cluster[i + "cluster/".len()..];
        if !name.is_empty() {
            put("aws_ecs_cluster_name", name);
        }
    }
    t
}

/// A container's figures from one statistics reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Top {
    /// (percent of one CPU, millicores) when there is a previous reading to compare with.
    pub cpu: Option<(f64, i64)>,
    pub cpu_cores: i64,
    pub cpu_limit_millicores: i64,
    pub mem_usage: i64,
    pub mem_capacity: i64,
    pub mem_limit: i64,
    pub net_rcvd: i64,
    pub net_sent: i64,
    pub block_read: i64,
    pub block_write: i64,
    /// This reading, for the next one: (container total, system total).
    pub cpu_reading: (u64, u64),
}

impl Top {
    /// The figures of `s`; CPU usage against the engine's previous reading when it gave one,
    /// else against `prev`.
    pub fn of(s: &Stats, inspect: &Inspect, host: &HostInfo, prev: Option<(u64, u64)>) -> Top {
        let cur = (
            s.cpu_stats.cpu_usage.total_usage,
            s.cpu_stats.system_cpu_usage,
        );
        let pre = if s.precpu_stats.system_cpu_usage > 0 {
            Some((
                s.precpu_stats.cpu_usage.total_usage,
                s.precpu_stats.system_cpu_usage,
            ))
        } else {
            prev
        };
        let mut online = s.cpu_stats.online_cpus as f64;
        if online == 0.0 {
            online = s.cpu_stats.cpu_usage.percpu_usage.len() as f64;
        }
        let cpu = pre.filter(|p| cur.1 > p.1 && cur.0 >= p.0).map(|p| {
            let cpu_delta = (cur.0 - p.0) as f64;
            let sys_delta = (cur.1 - p.1) as f64;
            let share = cpu_delta / sys_delta * online;
            (share * 100.0, (share * 1e3) as i64)
        });
        let mem = &s.memory_stats;
        let inactive = mem
            .stats
            .get("total_inactive_file")
            .filter(|&&v| v < mem.usage)
            .or_else(|| mem.stats.get("inactive_file").filter(|&&v| v < mem.usage))
            .copied()
            .unwrap_or(0);
        let (mut br, mut bw) = (0i64, 0i64);
        for e in &s.blkio_stats.io_service_bytes_recursive {
            match e.op.as_bytes().first() {
                Some(b'r' | b'R') => br = br.saturating_add(to_i64(e.value)),
                Some(b'w' | b'W') => bw = bw.saturating_add(to_i64(e.value)),
                _ => {}
            }
        }
        let (rx, tx) = if s.networks.is_empty() {
            proc_net_dev(inspect.pid())
        } else {
            s.networks
                .iter()
                .filter(|(n, _)| n.as_str() != "lo")
                .fold((0u64, 0u64), |(r, t), (_, n)| {
                    (r.saturating_add(n.rx_bytes), t.saturating_add(n.tx_bytes))
                })
        };
        Top {
            cpu,
            cpu_cores: to_i64(s.cpu_stats.online_cpus),
            cpu_limit_millicores: inspect.cpu_limit_millicores(),
            mem_usage: to_i64(mem.usage - inactive),
            mem_capacity: to_i64(host.mem_total),
            mem_limit: inspect.memory_limit(),
            net_rcvd: to_i64(rx),
            net_sent: to_i64(tx),
            block_read: br,
            block_write: bw,
            cpu_reading: cur,
        }
    }

    /// The original's fields (`buildTopKVs`).
    fn put(&self, p: &mut Point) {
        let f = &mut p.fields;
        if let Some((pct, milli)) = self.cpu {
            f.push(("cpu_usage".into(), Value::Float(pct)));
            f.push(("cpu_usage_millicores".into(), Value::Int(milli)));
            if self.cpu_cores != 0 {
                f.push((
                    "cpu_usage_base100".into(),
                    Value::Float(pct / self.cpu_cores as f64),
                ));
            }
            if self.cpu_limit_millicores != 0 {
                f.push((
                    "cpu_usage_base_limit".into(),
                    Value::Float(milli as f64 / self.cpu_limit_millicores as f64 * 100.0),
                ));
            }
        }
        f.push(("cpu_numbers".into(), Value::Int(self.cpu_cores)));
        if self.cpu_limit_millicores != 0 {
            f.push((
                "cpu_limit_millicores".into(),
                Value::Int(self.cpu_limit_millicores),
            ));
        }
        f.push(("mem_usage".into(), Value::Int(self.mem_usage)));
        if self.mem_capacity != 0 && self.mem_capacity != i64::MAX {
            f.push(("mem_capacity".into(), Value::Int(self.mem_capacity)));
            f.push((
                "mem_used_percent".into(),
                Value::Float(self.mem_usage as f64 / self.mem_capacity as f64 * 100.0),
            ));
        }
        if self.mem_limit != 0 {
            f.push(("mem_limit".into(), Value::Int(self.mem_limit)));
            f.push((
                "mem_used_percent_base_limit".into(),
                Value::Float(self.mem_usage as f64 / self.mem_limit as f64 * 100.0),
            ));
        }
        f.push(("network_bytes_rcvd".into(), Value::Int(self.net_rcvd)));
        f.push(("network_bytes_sent".into(), Value::Int(self.net_sent)));
        if self.block_read != 0 {
            f.push(("block_read_byte".into(), Value::Int(self.block_read)));
        }
        if self.block_write != 0 {
            f.push(("block_write_byte".into(), Value::Int(self.block_write)));
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Received and sent bytes of a process's network namespace but `lo` (`/proc/<pid>/net/dev`),
/// 0 when unreadable.
fn proc_net_dev(pid: i64) -> (u64, u64) {
    if pid <= 0 {
        return (0, 0);
    }
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/dev")) else {
        return (0, 0);
    };
    parse_net_dev(&text)
}

/// Sums the receive and transmit bytes of `/proc/net/dev` text, `lo` left out.
pub fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let cols: Vec<&str> = rest.split_whitespace().collect();
        if cols.len() < 9 {
            continue;
        }
        rx = rx.saturating_add(cols[0].parse().unwrap_or(0));
        tx = tx.saturating_add(cols[8].parse().unwrap_or(0));
    }
    (rx, tx)
}

/// The object of one container (the original's `buildObjectPoint`).
fn object_point(c: &Summary, info: Vec<(String, String)>, top: Option<&Top>, now_ns: i64) -> Point {
    let mut p = Point::new(Category::Object, MEASUREMENT);
    p.tags = info;
    let mut labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    labels.sort();
    p.fields.push((
        "df_label".into(),
        Value::Str(serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into())),
    ));
    p.fields
        .push(("df_label_permission".into(), Value::Str("read_only".into())));
    p.fields
        .push(("df_label_source".into(), Value::Str("datakit".into())));
    if let Some(t) = top {
        t.put(&mut p);
    }
    p.set_tag("name", c.id.clone());
    let age = (now_ns / 1_000_000_000).saturating_sub(c.created).max(0);
    p.fields.push(("age".into(), Value::Int(age)));
    // `message`: every tag and field so far, as JSON (keys sorted).
    let mut m: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for (k, v) in &p.tags {
        m.insert(k, serde_json::Value::String(v.clone()));
    }
    for (k, v) in &p.fields {
        m.insert(k, v.to_json());
    }
    let mut msg = serde_json::to_string(&m).unwrap_or_default();
    if msg.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    p.fields.push(("message".into(), Value::Str(msg)));
    p
}

const fn tag(name: &'static str, description: &'static str) -> TagSpec {
    TagSpec { name, description }
}

const fn field(
    name: &'static str,
    kind: FieldType,
    unit: &'static str,
    description: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        unit,
        description,
    }
}

/// The tags metrics and objects share.
macro_rules! info_tags {
    ($($extra:expr),* $(,)?) => {
        &[
            tag("host", "Hostname (added by the agent's global host tags)."),
            tag("container_id", "Container ID."),
            tag("container_name", "Container name from Kubernetes (label `io.kubernetes.container.name`), else `container_runtime_name`."),
            tag("container_runtime_name", "Container name as `docker ps` shows it, else `unknown`."),
            tag("container_runtime", "Container runtime: `docker`."),
            tag("container_runtime_version", "The engine's version."),
            tag("container_type", "`kubernetes` for containers of a Kubernetes pod, else `docker`."),
            tag("image", "The container's image as the engine names it, e.g. `nginx.org/nginx:1.21.0`."),
            tag("state", "The container's state (only `running` containers are collected)."),
            tag("pod_name", "The pod of the container (label `io.kubernetes.pod.name`)."),
            tag("pod_uid", "The pod's uid (label `io.kubernetes.pod.uid`)."),
            tag("namespace", "The pod's namespace (label `io.kubernetes.pod.namespace`)."),
            tag("aws_ecs_cluster_name", "The AWS ECS cluster (label `com.amazonaws.ecs.cluster`)."),
            tag("task_family", "The AWS ECS task family."),
            tag("task_version", "The AWS ECS task version."),
            tag("task_arn", "The AWS ECS task ARN."),
            $($extra,)*
        ]
    };
}

const TOP_FIELDS: [FieldSpec; 15] = [
    field(
        "cpu_usage",
        FieldType::Float,
        "percent,percent",
        "CPU usage between two collections, in percent of one CPU (100 per busy CPU); not in a container's first collection.",
    ),
    field(
        "cpu_usage_millicores",
        FieldType::Int,
        "millicores",
        "The same CPU usage in millicores.",
    ),
    field(
        "cpu_usage_base100",
        FieldType::Float,
        "percent,percent",
        "`cpu_usage` divided by the number of CPUs (at most 100).",
    ),
    field(
        "cpu_usage_base_limit",
        FieldType::Float,
        "percent,percent",
        "CPU usage in percent of the container's CPU limit (only with a limit).",
    ),
    field(
        "cpu_numbers",
        FieldType::Int,
        "count",
        "CPUs online on the host.",
    ),
    field(
        "cpu_limit_millicores",
        FieldType::Int,
        "millicores",
        "The container's CPU limit (`--cpus`, or quota / period; only with a limit).",
    ),
    field(
        "mem_usage",
        FieldType::Int,
        "digital,B",
        "Memory used without the inactive file cache (as `docker stats`).",
    ),
    field(
        "mem_capacity",
        FieldType::Int,
        "digital,B",
        "The host's memory.",
    ),
    field(
        "mem_used_percent",
        FieldType::Float,
        "percent,percent",
        "`mem_usage` in percent of the host's memory.",
    ),
    field(
        "mem_limit",
        FieldType::Int,
        "digital,B",
        "The container's memory limit (only with a limit).",
    ),
    field(
        "mem_used_percent_base_limit",
        FieldType::Float,
        "percent,percent",
        "`mem_usage` in percent of the memory limit (only with a limit).",
    ),
    field(
        "network_bytes_rcvd",
        FieldType::Int,
        "digital,B",
        "Bytes received on the container's interfaces but `lo`.",
    ),
    field(
        "network_bytes_sent",
        FieldType::Int,
        "digital,B",
        "Bytes sent on the container's interfaces but `lo`.",
    ),
    field(
        "block_read_byte",
        FieldType::Int,
        "digital,B",
        "Bytes read from block devices (only when not 0).",
    ),
    field(
        "block_write_byte",
        FieldType::Int,
        "digital,B",
        "Bytes written to block devices (only when not 0).",
    ),
];

const OBJECT_FIELDS: [FieldSpec; 20] = {
    let mut a = [TOP_FIELDS[0]; 20];
    let mut i = 0;
    while i < TOP_FIELDS.len() {
        a[i] = TOP_FIELDS[i];
        i += 1;
    }
    a[15] = field(
        "age",
        FieldType::Int,
        "time,s",
        "Seconds since the container was created.",
    );
    a[16] = field(
        "df_label",
        FieldType::String,
        "-",
        "The container's labels as a JSON list of `key:value`.",
    );
    a[17] = field(
        "df_label_permission",
        FieldType::String,
        "-",
        "`read_only`.",
    );
    a[18] = field("df_label_source", FieldType::String, "-", "`datakit`.");
    a[19] = field(
        "message",
        FieldType::String,
        "-",
        "Every tag and field of the object as JSON (at most 256 KiB).",
    );
    a
};

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "container_name",
        category: Category::Logging,
        description: "One log record of a container; the measurement is named after the source (the container's name by default).",
        tags: &[
            tag("host", "Hostname (added by the agent's global host tags)."),
            tag(
                "service",
                "The service: `DATAKIT_LOGS_CONFIG`'s `service`, else the source.",
            ),
            tag(
                "status",
                "Log level: `info` unless the Pipeline script sets it.",
            ),
            tag("container_id", "Container ID."),
            tag(
                "container_name",
                "Container name from Kubernetes (label `io.kubernetes.container.name`), else as `docker ps` shows it.",
            ),
            tag("image", "The container's image."),
            tag(
                "pod_name",
                "The pod (label `io.kubernetes.pod.name`), for containers of a pod.",
            ),
            tag("namespace", "The pod's namespace, for containers of a pod."),
        ],
        fields: &[
            field(
                "message",
                FieldType::String,
                "-",
                "The line, or the lines of a multiline record joined by `\\n` (pieces of a long line joined).",
            ),
            field(
                "filepath",
                FieldType::String,
                "-",
                "The container's json-file log on the host.",
            ),
            field(
                "log_read_lines",
                FieldType::Int,
                "count",
                "Records read from this file since it was opened.",
            ),
        ],
    },
    MeasurementSpec {
        name: MEASUREMENT,
        category: Category::Metric,
        description: "One running container's resource usage.",
        tags: info_tags!(),
        fields: &TOP_FIELDS,
    },
    MeasurementSpec {
        name: MEASUREMENT,
        category: Category::Object,
        description: "One running container, as an object.",
        tags: info_tags!(tag("name", "The container ID (the object's name).")),
        fields: &OBJECT_FIELDS,
    },
    MeasurementSpec {
        name: "kubernetes",
        category: Category::Metric,
        description: "Running containers per Kubernetes namespace (only for containers with Kubernetes' labels).",
        tags: &[
            tag("host", "Hostname (added by the agent's global host tags)."),
            tag("namespace", "The namespace."),
            tag("node_name", "This host's name."),
        ],
        fields: &[field(
            "container",
            FieldType::Int,
            "count",
            "Running containers of the namespace on this host.",
        )],
    },
];

const NOTES: &[&str] = &[
    "Only Docker Engine endpoints are supported: containerd and CRI-O endpoints and Kubernetes (pods, workloads, events, label extraction, pod annotations) are not yet. Their keys are accepted and reported by `check-config` as having no effect.",
    "Logs: each running container's json-file log (the engine's `LogPath`; other log drivers have none) is read with the `logging` input's tailer: saved positions (a restarted agent or container goes on where it stopped), rotation, multiline records, and the Pipeline script of its source. The source is the container's name (`io.kubernetes.container.name` if set), changed by `logging_extra_source_map`; the container's `DATAKIT_LOGS_CONFIG` environment variable (a JSON list, the original's keys `disable`, `source`, `service`, `pipeline`, `multiline_match`, `remove_ansi_escape_codes`, `from_beginning`, `tags`) overrides them for its stdout; entries for files inside the container are refused (reported as the input's error). A container no longer running has its log read to the end of what it wrote, then released. `filepath` and `log_read_lines` are fields, as in the `logging` input.",
    "Statistics are read with the engine's `one-shot`: CPU usage is measured between two collections (over the interval) rather than over the engine's last second, and a container's first collection has no `cpu_usage*` fields.",
    "`network_bytes_rcvd` and `network_bytes_sent` are the sums of the container's interfaces but `lo` (the original sends 0 for containers with networks in the engine's statistics).",
];

pub const ENTRY: InputEntry = entry_with_compat::<ContainerConfig>(
    InputSpec {
        name: "container",
        catalog: "container",
        description: "Running containers of a Docker engine: resource metrics and the container object list.",
        singleton: true,
        interval: None,
        measurements: MEASUREMENTS,
    },
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests;
