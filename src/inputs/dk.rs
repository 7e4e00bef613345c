//! `dk`: the agent's own metrics as measurement `dk` (the original's name), one point per
//! metric family label set, fields named after the families (`datakit_cpu_usage`, ...).

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;

use super::{
    Collect, CollectCtx, FieldSpec, FieldType, Input, InputConfig, InputEntry, InputError,
    InputSpec, IntervalLimits, MeasurementSpec, TagSpec, Validation, entry,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};

/// Families sent by default: the original's list plus IO, output and memory families.
pub const DEFAULT_FILTER: &[&str] = &[
    "datakit_http.*",
    "datakit_goroutine.*",
    "datakit_cpu_.*",
    "datakit_.*_alloc_bytes",
    "datakit_open_files",
    "datakit_uptime_seconds",
    "datakit_data_overuse",
    "datakit_process_.*",
    "datakit_election_status",
    "datakit_mem_stat",
    "datakit_threads",
    "datakit_inputs_.*",
    "datakit_io_.*",
    "datakit_output_.*",
];

config_struct! {
    "The agent's own metrics."
    pub struct DkConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(30),
        "Regular expressions (whole-name matches) of the metric families to send; empty sends all."
        pub metric_name_filter: Vec<String> = DEFAULT_FILTER.iter().map(|s| s.to_string()).collect(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

fn compile(filter: &[String]) -> Result<Vec<Regex>, (usize, String)> {
    filter
        .iter()
        .enumerate()
        .map(|(i, f)| Regex::new(&format!("^(?:{f})$")).map_err(|e| (i, e.to_string())))
        .collect()
}

impl InputConfig for DkConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        for (i, f) in self.metric_name_filter.iter().enumerate() {
            if let Err(e) = crate::config::validate::check_regex(f) {
                v.error(
                    &format!("metric_name_filter[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let filter = compile(&self.metric_name_filter).map_err(|(_, e)| InputError::Setup(e))?;
        super::periodic(
            self.interval,
            DkCollector {
                filter,
                tags: self.tags.clone(),
            },
        )
    }
}

struct DkCollector {
    filter: Vec<Regex>,
    tags: BTreeMap<String, String>,
}

impl DkCollector {
    fn wanted(&self, name: &str) -> bool {
        self.filter.is_empty() || self.filter.iter().any(|r| r.is_match(name))
    }
}

impl Collect for DkCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let snap = ctx.agent_stats.snapshot();
        // One point per label set; every family with that label set is a field of it.
        let mut points: BTreeMap<Vec<(&'static str, String)>, Point> = BTreeMap::new();
        for fam in snap.families() {
            if !self.wanted(fam.name) {
                continue;
            }
            for (labels, v) in fam.samples {
                let p = points.entry(labels.clone()).or_insert_with(|| {
                    let mut p = Point::new(Category::Metric, "dk");
                    for (k, v) in &self.tags {
                        p.set_tag(k.clone(), v.clone());
                    }
                    for (k, v) in &labels {
                        p.set_tag(*k, v.clone());
                    }
                    p
                });
                p.set_field(fam.name, Value::Float(v));
            }
        }
        Ok(points.into_values().collect())
    }
}

const TAGS: &[TagSpec] = &[
    TagSpec {
        name: "host",
        description: "Hostname of the agent.",
    },
    TagSpec {
        name: "hostname",
        description: "Hostname (on `datakit_uptime_seconds`).",
    },
    TagSpec {
        name: "version",
        description: "Agent version (on `datakit_uptime_seconds`).",
    },
    TagSpec {
        name: "os_arch",
        description: "OS and architecture (on `datakit_uptime_seconds`).",
    },
    TagSpec {
        name: "type",
        description: "Memory kind of `datakit_mem_stat`: `rss`, `hwm` or `vms`.",
    },
    TagSpec {
        name: "input",
        description: "Input name (input families); the origin of dropped points (an input, `v1-write.<input>`, `pipeline/create_point`, `io`, `output/<name>`).",
    },
    TagSpec {
        name: "name",
        description: "Input name (feed families).",
    },
    TagSpec {
        name: "counter",
        description: "A receiver's counter (`datakit_input_receiver`): `datagrams`, `kernel_drops`, ...",
    },
    TagSpec {
        name: "source",
        description: "Input name (`datakit_error_total`).",
    },
    TagSpec {
        name: "category",
        description: "Data category (`metric`, `logging`, ...).",
    },
    TagSpec {
        name: "status",
        description: "Outcome: `total`, `ok`, `queued_on_disk`, `dropped`; for outputs `ok`, `failed`, `refused`; for `datakit_election_status` the election status.",
    },
    TagSpec {
        name: "enc",
        description: "`raw` or `gzip` bytes.",
    },
    TagSpec {
        name: "reason",
        description: "Why points were dropped: `election`, `pipeline`, `ignore_status`, `empty`, `invalid`, `no_field`, `shutdown`, `too_large`, `refused_4xx`, `send_failed`, `expired`, `queue_full`, `sampled`, `filtered`, `unsupported`.",
    },
    TagSpec {
        name: "output",
        description: "Output name (`dataway`, `influxdb-0`, `file`).",
    },
    TagSpec {
        name: "id",
        description: "This agent's election id (election families).",
    },
    TagSpec {
        name: "elected_id",
        description: "The current leader's id (`datakit_election_status`).",
    },
    TagSpec {
        name: "namespace",
        description: "Election namespace (election families).",
    },
];

macro_rules! f {
    ($name:literal, $unit:literal, $desc:literal) => {
        FieldSpec {
            name: $name,
            kind: FieldType::Float,
            unit: $unit,
            description: $desc,
        }
    };
}

const FIELDS: &[FieldSpec] = &[
    f!(
        "datakit_election_status",
        "timeStamp,sec",
        "When this agent was elected leader, 0 when it is not (tag `status`: `success`, `defeat`, `disabled`, `banned`)."
    ),
    f!(
        "datakit_election_pause_total",
        "count",
        "Times the election-aware inputs were stopped on losing leadership."
    ),
    f!(
        "datakit_election_resume_total",
        "count",
        "Times the election-aware inputs were started on being elected."
    ),
    f!(
        "datakit_election_inputs",
        "count",
        "Election-aware input instances."
    ),
    f!("datakit_uptime_seconds", "time,s", "Uptime of the agent."),
    f!(
        "datakit_cpu_usage",
        "percent,percent",
        "CPU use of the agent since the previous collection, in % of one core."
    ),
    f!("datakit_cpu_cores", "count", "CPU cores of the host."),
    f!(
        "datakit_mem_stat",
        "digital,B",
        "Memory of the agent process (see tag `type`)."
    ),
    f!(
        "datakit_open_files",
        "count",
        "Open file descriptors of the agent."
    ),
    f!(
        "datakit_goroutines",
        "count",
        "Live async tasks of the agent."
    ),
    f!("datakit_threads", "count", "OS threads of the agent."),
    f!(
        "datakit_data_overuse",
        "timeStamp,sec",
        "0, or when DataWay reported the workspace over its quota."
    ),
    f!(
        "datakit_inputs_instance",
        "count",
        "Running instances of an input."
    ),
    f!(
        "datakit_inputs_crash_total",
        "count",
        "Crashes of an input."
    ),
    f!(
        "datakit_inputs_stall_total",
        "count",
        "Stalls of an input: an instance overdue for a collection or a log read (once per episode)."
    ),
    f!(
        "datakit_inputs_stalled",
        "count",
        "Instances of an input stalled now."
    ),
    f!(
        "datakit_input_receiver",
        "count",
        "A receiver's counter of its own sockets, by input and `counter` (statsd: datagrams, tcp_connections, bytes, lines, series, kernel_drops, rcvbuf_bytes)."
    ),
    f!(
        "datakit_input_dropped_point_total",
        "count",
        "Points dropped, by origin, category and reason."
    ),
    f!("datakit_io_feed_total", "count", "Feeds of an input."),
    f!(
        "datakit_io_feed_point_total",
        "count",
        "Points fed by an input."
    ),
    f!(
        "datakit_io_last_feed_timestamp_seconds",
        "timeStamp,sec",
        "Last feed of an input."
    ),
    f!("datakit_error_total", "count", "Errors of an input."),
    f!(
        "datakit_io_queue_points",
        "count",
        "Points waiting in IO for a category."
    ),
    f!(
        "datakit_io_dataway_point_total",
        "count",
        "Points of a category by outcome (see tag `status`)."
    ),
    f!(
        "datakit_io_dataway_point_bytes_total",
        "digital,B",
        "Bytes delivered for a category (see tag `enc`)."
    ),
    f!(
        "datakit_io_dropped_point_total",
        "count",
        "Points dropped for a category (see tag `reason`)."
    ),
    f!(
        "datakit_io_point_time_adjusted_total",
        "count",
        "Timestamps reset to now for a category."
    ),
    f!(
        "datakit_output_requests_total",
        "count",
        "Requests of an output by outcome."
    ),
    f!(
        "datakit_output_latency_seconds",
        "time,s",
        "Average request latency of an output."
    ),
    f!(
        "datakit_output_healthy",
        "bool",
        "1 when the output's last send succeeded."
    ),
    f!(
        "datakit_io_disk_queue_bytes",
        "digital,B",
        "Bytes in an output's on-disk queue."
    ),
    f!(
        "datakit_io_disk_queue_dropped_point_total",
        "count",
        "Points evicted from an output's full on-disk queue."
    ),
    f!(
        "datakit_client_names_folded_total",
        "count",
        "Writes whose client-chosen input name was counted under `<prefix>.other` (the 256-name cap)."
    ),
    f!(
        "datakit_http_connections_refused_total",
        "count",
        "HTTP API connections closed on arrival (connection table full, or the client address held its share)."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "dk",
    category: Category::Metric,
    description: "The agent's own metrics: one point per label set, one field per metric family.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<DkConfig>(InputSpec {
    name: "dk",
    catalog: "host",
    description: "The agent's own metrics: CPU, memory, inputs, points in/out/dropped per category, outputs.",
    singleton: true,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(5),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn emits_declared_fields_and_tags_only() {
        let stats = Arc::new(crate::stats::Stats::new());
        stats
            .input("cpu")
            .record_feed(Category::Metric, 3, crate::clock::now_ns());
        let cfg = DkConfig {
            metric_name_filter: vec![],
            ..DkConfig::default()
        };
        let mut c = DkCollector {
            filter: compile(&cfg.metric_name_filter).unwrap(),
            tags: BTreeMap::new(),
        };
        let ctx = CollectCtx {
            now_ns: 1,
            agent_stats: stats,
            hostname: "h".into(),
        };
        let pts = c.collect(&ctx).unwrap();
        assert!(pts.len() > 5);
        for p in &pts {
            assert_eq!(p.name, "dk");
            for (k, v) in &p.fields {
                let spec = FIELDS
                    .iter()
                    .find(|f| f.name == k)
                    .unwrap_or_else(|| panic!("undeclared field {k}"));
                assert!(spec.kind.matches(v));
            }
            for (k, _) in &p.tags {
                assert!(TAGS.iter().any(|t| t.name == k), "undeclared tag {k}");
            }
        }
        let cpu = pts
            .iter()
            .find(|p| p.get_field("datakit_cpu_usage").is_some())
            .unwrap();
        assert!(cpu.tags.is_empty());
        assert!(pts.iter().any(|p| p.get_tag("type") == Some("rss")));
    }

    #[test]
    fn default_filter_compiles_and_filters() {
        let c = DkCollector {
            filter: compile(&DkConfig::default().metric_name_filter).unwrap(),
            tags: BTreeMap::new(),
        };
        assert!(c.wanted("datakit_cpu_usage"));
        assert!(c.wanted("datakit_io_queue_points"));
        assert!(!c.wanted("something_else"));
    }
}
