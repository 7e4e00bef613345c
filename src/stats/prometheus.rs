//! The Prometheus text exposition (format 0.0.4) of a [`Snapshot`] (`GET /metrics`), using the
//! original's family names where one exists; the `dk` input reads the same families.

use std::fmt::Write as _;

use super::snapshot::Snapshot;

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
        p.family(
            "datakit_client_names_folded_total",
            "counter",
            "Requests whose client-supplied producer name (`?input=`) was counted under `.other`: \
             past the cap on distinct names.",
        );
        p.sample(&[], a.client_names_folded as f64);
        p.family(
            "datakit_http_connections_refused_total",
            "counter",
            "HTTP API connections closed on arrival: the connection table was full, or the \
             client's address held its share ([http_api] max_connections_per_ip).",
        );
        p.sample(&[], a.connections_refused as f64);
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
            "datakit_inputs_stall_total",
            "counter",
            "Stalls of an input: an instance overdue for a collection (or a log read), \
             counted once per episode.",
        );
        for (name, i) in &self.inputs {
            p.sample(&[("input", name)], i.stalls as f64);
        }
        p.family(
            "datakit_inputs_stalled",
            "gauge",
            "Instances of an input stalled now.",
        );
        for (name, i) in &self.inputs {
            p.sample(&[("input", name)], i.stalled as f64);
        }
        p.family(
            "datakit_input_receiver",
            "gauge",
            "Counters a receiver keeps of its own sockets (statsd: datagrams, tcp_connections, bytes, lines, series, kernel_drops, rcvbuf_bytes).",
        );
        for (name, i) in &self.inputs {
            for (counter, v) in &i.receiver {
                p.sample(&[("input", name), ("counter", counter)], *v as f64);
            }
        }
        p.family(
            "datakit_input_dropped_point_total",
            "counter",
            "Dropped points per origin (input, write API, output), category and reason.",
        );
        for d in &self.drops {
            p.sample(
                &[
                    ("input", &d.origin),
                    ("category", d.category),
                    ("reason", d.reason),
                ],
                d.points as f64,
            );
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
            "datakit_io_journal_bytes",
            "gauge",
            "Bytes of journaled points not yet delivered or queued on disk, per category.",
        );
        for (cat, c) in &self.io {
            p.sample(&[("category", cat)], c.journal_bytes as f64);
        }
        p.family(
            "datakit_io_journal_read_back_point_total",
            "counter",
            "Points read back from the journal (a memory-queue overflow, or left by a crash).",
        );
        for (cat, c) in &self.io {
            p.sample(&[("category", cat)], c.points_read_back as f64);
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
            for (reason, v) in &c.dropped {
                p.sample(&[("category", cat), ("reason", reason)], *v as f64);
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
                ("too_large", o.requests_too_large),
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
            "Bytes waiting in the output's on-disk queue.",
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
