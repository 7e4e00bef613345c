//! `system`: load, CPU count, overall CPU and memory use, logged-in users, processes and uptime
//! (measurement `system`); connection tracking (`conntrack`); and file handles (`filefd`).
//!
//! Sources: `/proc/loadavg`, `/proc/stat`, `/proc/meminfo`, `/proc/uptime`, utmp
//! (`HOST_RUN/utmp`, else `HOST_VAR/run/utmp`), the `/proc/<pid>` directories,
//! `/proc/sys/net/netfilter/nf_conntrack_{count,max}`, `/proc/net/stat/nf_conntrack` and
//! `/proc/sys/fs/file-nr`.
//!
//! Fixes against the original: `cpu_total_usage` has its own baseline (the original shared one
//! with `hostobject`, so each reset the other's interval); without `nf_conntrack` loaded the
//! `conntrack` point has `entries = entries_limit = -1` as in the original and no `stat_*`
//! fields instead of failing.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    CpuTicks, FileBuf, HOST_TAG, HostError, Roots, SoftErrors, add_tags, busy_percent, field,
    host_input_config, is_pid, mem_used, percent, put, read_stat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputSpec, IntervalLimits, MeasurementSpec, entry,
};
use crate::point::{Category, Point, Value};

const NAME: &str = "system";

config_struct! {
    "Load, CPU and memory use, users, processes, uptime, connection tracking and file handles."
    pub struct SystemConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(SystemConfig, collector: SystemCollector::new);

/// Logged-in users: `USER_PROCESS` (7) records of a utmp file (384-byte records).
pub fn count_utmp_users(bytes: &[u8]) -> i64 {
    bytes
        .chunks_exact(384)
        .filter(|r| i16::from_ne_bytes([r[0], r[1]]) == 7)
        .count() as i64
}

/// Sums of the per-CPU rows of `/proc/net/stat/nf_conntrack` (hex columns), by column name.
pub fn parse_conntrack_stat(text: &str) -> BTreeMap<String, u64> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return BTreeMap::new();
    };
    let names: Vec<&str> = header.split_whitespace().collect();
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        for (name, v) in names.iter().zip(line.split_whitespace()) {
            if let Ok(v) = u64::from_str_radix(v, 16) {
                *sums.entry((*name).to_string()).or_default() += v;
            }
        }
    }
    sums
}

/// `allocated` and `maximum` of `/proc/sys/fs/file-nr`.
pub fn parse_file_nr(text: &str) -> Option<(i64, i64)> {
    let mut it = text.split_whitespace();
    let allocated = it.next()?.parse().ok()?;
    let _unused = it.next()?;
    let max = it.next()?.parse().ok()?;
    Some((allocated, max))
}

/// The conntrack `stat_*` fields and the column each is summed from.
const CONNTRACK_STATS: &[(&str, &str)] = &[
    ("stat_found", "found"),
    ("stat_invalid", "invalid"),
    ("stat_ignore", "ignore"),
    ("stat_insert", "insert"),
    ("stat_insert_failed", "insert_failed"),
    ("stat_drop", "drop"),
    ("stat_early_drop", "early_drop"),
    ("stat_search_restart", "search_restart"),
];

pub struct SystemCollector {
    roots: Roots,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    prev_cpu: Option<CpuTicks>,
    errors: SoftErrors,
}

impl SystemCollector {
    pub fn new(cfg: &SystemConfig, roots: Roots) -> Self {
        SystemCollector {
            roots,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            prev_cpu: None,
            errors: SoftErrors::default(),
        }
    }

    fn read_int(&mut self, rel: &str) -> Result<i64, HostError> {
        let p = self.roots.proc(rel);
        let s = self.buf.read_str(&p)?;
        s.trim().parse().map_err(|e| HostError::parse(&p, e))
    }

    fn users(&mut self) -> Result<i64, HostError> {
        let candidates = [self.roots.run.join("utmp"), self.roots.var.join("run/utmp")];
        let mut last = None;
        for p in &candidates {
            match self.buf.read(p) {
                Ok(b) => return Ok(count_utmp_users(b)),
                Err(e) => last = Some(e),
            }
        }
        match last {
            // No utmp: nobody has logged in through a login manager.
            Some(e) if e.is_not_found() => Ok(0),
            Some(e) => Err(e),
            None => Ok(0),
        }
    }

    fn process_count(&self) -> Result<i64, HostError> {
        let rd = std::fs::read_dir(&self.roots.proc).map_err(|source| HostError::Io {
            path: self.roots.proc.clone(),
            cause: source,
        })?;
        Ok(rd.flatten().filter(|e| is_pid(&e.file_name())).count() as i64)
    }

    fn system_point(&mut self, ctx: &CollectCtx) -> Result<Point, String> {
        let mut p = Point::new(Category::Metric, "system");
        let load: procfs::LoadAverage = self
            .buf
            .parse(&self.roots.proc("loadavg"))
            .map_err(|e| e.to_string())?;
        let stat = read_stat(&self.roots, &mut self.buf);
        let n_cpus = match &stat {
            Ok(s) => s.cpu_time.len().max(1) as i64,
            Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()) as i64,
        };
        let (l1, l5, l15) = (
            f64::from(load.one),
            f64::from(load.five),
            f64::from(load.fifteen),
        );
        put(&mut p, "load1", l1);
        put(&mut p, "load5", l5);
        put(&mut p, "load15", l15);
        put(&mut p, "load1_per_core", l1 / n_cpus as f64);
        put(&mut p, "load5_per_core", l5 / n_cpus as f64);
        put(&mut p, "load15_per_core", l15 / n_cpus as f64);
        put(&mut p, "n_cpus", Value::Int(n_cpus));
        match stat {
            Ok(s) => {
                let cur = CpuTicks::from_procfs(&s.total);
                if let Some(prev) = self.prev_cpu
                    && let Some(u) = busy_percent(&prev, &cur)
                {
                    put(&mut p, "cpu_total_usage", u);
                }
                self.prev_cpu = Some(cur);
            }
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        match self
            .buf
            .parse::<procfs::Meminfo>(&self.roots.proc("meminfo"))
        {
            Ok(m) => put(
                &mut p,
                "memory_usage",
                percent(mem_used(&m) as f64, m.mem_total as f64),
            ),
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        match self.users() {
            Ok(n) => put(&mut p, "n_users", Value::Int(n)),
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        match self.process_count() {
            Ok(n) => put(&mut p, "process_count", Value::Int(n)),
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        match self.buf.parse::<procfs::Uptime>(&self.roots.proc("uptime")) {
            Ok(u) => put(&mut p, "uptime", Value::Uint(u.uptime as u64)),
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        Ok(p)
    }

    fn conntrack_point(&mut self, ctx: &CollectCtx) -> Point {
        let mut p = Point::new(Category::Metric, "conntrack");
        let mut errors = std::mem::take(&mut self.errors);
        let mut count = |this: &mut Self, rel: &str| match this.read_int(rel) {
            Ok(v) => v,
            Err(e) if e.is_not_found() => -1,
            Err(e) => {
                errors.record(ctx, NAME, e);
                -1
            }
        };
        let entries = count(self, "sys/net/netfilter/nf_conntrack_count");
        let limit = count(self, "sys/net/netfilter/nf_conntrack_max");
        put(&mut p, "entries", Value::Int(entries));
        put(&mut p, "entries_limit", Value::Int(limit));
        match self.buf.read_str(&self.roots.proc("net/stat/nf_conntrack")) {
            Ok(text) => {
                let sums = parse_conntrack_stat(text);
                for (field, col) in CONNTRACK_STATS {
                    if let Some(v) = sums.get(*col) {
                        put(&mut p, field, Value::Int(*v as i64));
                    }
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => errors.record(ctx, NAME, e),
        }
        self.errors = errors;
        p
    }

    fn filefd_point(&mut self, ctx: &CollectCtx) -> Option<Point> {
        let path = self.roots.proc("sys/fs/file-nr");
        let parsed = match self.buf.read_str(&path) {
            Ok(text) => {
                parse_file_nr(text).ok_or_else(|| HostError::parse(&path, "expected three numbers"))
            }
            Err(e) => Err(e),
        };
        match parsed {
            Ok((allocated, max)) => {
                let mut p = Point::new(Category::Metric, "filefd");
                put(&mut p, "allocated", Value::Int(allocated));
                put(&mut p, "maximum_mega", max as f64 / 1e6);
                Some(p)
            }
            Err(e) => {
                self.errors.record(ctx, NAME, e);
                None
            }
        }
    }
}

impl Collect for SystemCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let mut out = vec![self.system_point(ctx)?, self.conntrack_point(ctx)];
        out.extend(self.filefd_point(ctx));
        for p in &mut out {
            add_tags(p, &self.tags);
        }
        Ok(out)
    }
}

const SYSTEM_FIELDS: &[crate::inputs::FieldSpec] = &[
    field!("load1", Float, "-", "Load average over 1 minute."),
    field!("load5", Float, "-", "Load average over 5 minutes."),
    field!("load15", Float, "-", "Load average over 15 minutes."),
    field!(
        "load1_per_core",
        Float,
        "-",
        "Load average over 1 minute per logical CPU."
    ),
    field!(
        "load5_per_core",
        Float,
        "-",
        "Load average over 5 minutes per logical CPU."
    ),
    field!(
        "load15_per_core",
        Float,
        "-",
        "Load average over 15 minutes per logical CPU."
    ),
    field!("n_cpus", Int, "count", "Logical CPUs online."),
    field!(
        "cpu_total_usage",
        Float,
        "percent,percent",
        "CPU in use over the interval: every mode but idle (iowait counts as in use)."
    ),
    field!(
        "memory_usage",
        Float,
        "percent,percent",
        "Used memory in % of total (as `mem.used_percent`)."
    ),
    field!(
        "n_users",
        Int,
        "count",
        "Logged-in user sessions (utmp USER_PROCESS records)."
    ),
    field!("process_count", Int, "count", "Processes."),
    field!("uptime", Uint, "time,s", "Time since boot."),
];

const CONNTRACK_FIELDS: &[crate::inputs::FieldSpec] = &[
    field!(
        "entries",
        Int,
        "count",
        "Connections tracked now (−1 without nf_conntrack)."
    ),
    field!(
        "entries_limit",
        Int,
        "count",
        "Size of the connection tracking table (−1 without nf_conntrack)."
    ),
    field!(
        "stat_found",
        Int,
        "count",
        "Lookups that found a connection (summed over CPUs)."
    ),
    field!(
        "stat_invalid",
        Int,
        "count",
        "Packets that could not be tracked."
    ),
    field!(
        "stat_ignore",
        Int,
        "count",
        "Packets already tracked or not to be tracked."
    ),
    field!("stat_insert", Int, "count", "Entries inserted."),
    field!(
        "stat_insert_failed",
        Int,
        "count",
        "Entries whose insertion failed (e.g. a duplicate)."
    ),
    field!(
        "stat_drop",
        Int,
        "count",
        "Packets dropped because tracking failed."
    ),
    field!(
        "stat_early_drop",
        Int,
        "count",
        "Entries dropped to make room in a full table."
    ),
    field!(
        "stat_search_restart",
        Int,
        "count",
        "Table lookups restarted by a hash resize."
    ),
];

const FILEFD_FIELDS: &[crate::inputs::FieldSpec] = &[
    field!("allocated", Int, "count", "File handles allocated."),
    field!(
        "maximum_mega",
        Float,
        "count",
        "Maximum of file handles, in millions."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "system",
        category: Category::Metric,
        description: "Basic facts of the running system: load, CPU and memory use, users, processes, uptime.",
        tags: &[HOST_TAG],
        fields: SYSTEM_FIELDS,
    },
    MeasurementSpec {
        name: "conntrack",
        category: Category::Metric,
        description: "Connection tracking (netfilter) counters.",
        tags: &[HOST_TAG],
        fields: CONNTRACK_FIELDS,
    },
    MeasurementSpec {
        name: "filefd",
        category: Category::Metric,
        description: "System-wide file handles.",
        tags: &[HOST_TAG],
        fields: FILEFD_FIELDS,
    },
];

pub const ENTRY: InputEntry = entry::<SystemConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Load, CPU and memory use, users, processes, uptime, connection tracking and file handles.",
    singleton: true,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/data/host/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn fixture_parsers() {
        assert_eq!(count_utmp_users(&data("utmp")), 2);
        let s = parse_conntrack_stat(&String::from_utf8(data("nf_conntrack-stat")).unwrap());
        assert_eq!(s["invalid"], 16);
        assert_eq!(s["found"], 2);
        assert_eq!(s["search_restart"], 8);
        assert_eq!(parse_file_nr("797\t0\t2466170\n"), Some((797, 2466170)));
        assert_eq!(parse_file_nr("797\n"), None);
    }

    #[test]
    fn fixture_root_collects_three_measurements() {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::under(dir.path());
        for d in ["sys/fs", "net/stat", "1", "42"] {
            std::fs::create_dir_all(roots.proc(d)).unwrap();
        }
        std::fs::create_dir_all(&roots.run).unwrap();
        std::fs::write(roots.proc("loadavg"), "0.50 1.00 2.00 3/104 5313\n").unwrap();
        let stat = |idle: u64| {
            format!(
                "cpu  100 0 100 {idle} 0 0 0 0 0 0\ncpu0 50 0 50 {idle} 0 0 0 0 0 0\ncpu1 50 0 50 0 0 0 0 0 0 0\nctxt 1\nbtime 1\nprocesses 1\n"
            )
        };
        std::fs::write(roots.proc("stat"), stat(800)).unwrap();
        std::fs::write(roots.proc("meminfo"), data("meminfo")).unwrap();
        std::fs::write(roots.proc("uptime"), "1234.56 2000.00\n").unwrap();
        std::fs::write(roots.proc("sys/fs/file-nr"), "797\t0\t2466170\n").unwrap();
        std::fs::write(
            roots.proc("net/stat/nf_conntrack"),
            data("nf_conntrack-stat"),
        )
        .unwrap();
        std::fs::write(roots.run.join("utmp"), data("utmp")).unwrap();
        let mut c = SystemCollector::new(&SystemConfig::default(), roots.clone());
        let ctx = super::super::tests::ctx();
        let pts = c.collect(&ctx).unwrap();
        assert_eq!(pts.len(), 3);
        let sys = &pts[0];
        assert_eq!(sys.get_field("n_cpus"), Some(&Value::Int(2)));
        assert_eq!(sys.get_field("load15_per_core"), Some(&Value::Float(1.0)));
        assert_eq!(sys.get_field("n_users"), Some(&Value::Int(2)));
        assert_eq!(sys.get_field("process_count"), Some(&Value::Int(2)));
        assert_eq!(sys.get_field("uptime"), Some(&Value::Uint(1234)));
        assert!(
            sys.get_field("cpu_total_usage").is_none(),
            "first collection primes"
        );
        assert_eq!(pts[1].get_field("entries"), Some(&Value::Int(-1)));
        assert_eq!(pts[1].get_field("stat_invalid"), Some(&Value::Int(16)));
        assert_eq!(pts[2].get_field("allocated"), Some(&Value::Int(797)));
        std::fs::write(roots.proc("stat"), stat(900)).unwrap();
        let pts = c.collect(&ctx).unwrap();
        // 100 more idle ticks and nothing else: 0 % busy.
        assert_eq!(
            pts[0].get_field("cpu_total_usage"),
            Some(&Value::Float(0.0))
        );
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &pts, &[]).is_empty());
        assert_eq!(
            ctx.agent_stats
                .input(NAME)
                .errors
                .load(std::sync::atomic::Ordering::Relaxed),
            0,
            "missing conntrack counts are not errors"
        );
    }
}
