//! `cpu`: CPU time by mode in percent over the interval, from `/proc/stat`; the average core
//! temperature from hwmon `coretemp`; and `load5s`, the runnable-task estimate over 5 s.
//!
//! Every `usage_*` is `100·Δmode/Δtotal` with `total = user+nice+system+idle+iowait+irq+
//! softirq+steal` (guest time is already in user and nice); `usage_user` excludes guest and
//! `usage_nice` guest_nice, as the original does. The first collection primes the counters and
//! emits nothing.
//!
//! Fixes against the original: the temperature is looked for again every 10 minutes instead of
//! being switched off for good after one failure.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use super::{
    CpuTicks, FileBuf, HOST_TAG, Roots, SoftErrors, add_tags, field, host_input_config, put,
    read_stat, tag,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, Input, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits,
    MeasurementSpec, entry, run_periodic,
};
use crate::point::{Category, Point, Value};

const NAME: &str = "cpu";

config_struct! {
    "CPU usage by mode, core temperature and the 5-second load."
    pub struct CpuConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Also emit one point per CPU (tag `cpu=cpuN`)."
        pub percpu: bool = false,
        "Emit `core_temperature` (average of the hwmon `coretemp` core sensors)."
        pub enable_temperature: bool = true,
        "Emit `load5s`: the number of runnable tasks over the last 5 seconds, estimated every 5 seconds from the 1-minute load."
        pub enable_load5s: bool = true,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(CpuConfig, input: CpuInput::build);

struct CpuInput {
    interval: Duration,
    load5s: bool,
    collector: CpuCollector,
}

impl CpuInput {
    /// The input: the collection loop, with the `load5s` sampler beside it when enabled.
    fn build(cfg: &CpuConfig) -> Result<Box<dyn Input>, InputError> {
        Ok(Box::new(CpuInput {
            interval: cfg.interval.get(),
            load5s: cfg.enable_load5s,
            collector: CpuCollector::new(cfg, Roots::from_env()),
        }))
    }
}

impl Input for CpuInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> crate::inputs::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let CpuInput {
                interval,
                load5s,
                collector,
            } = *self;
            if !load5s {
                return run_periodic(Box::new(collector), interval, ctx).await;
            }
            let slot = collector.load5s.clone();
            let roots = collector.roots.clone();
            let mut shutdown = ctx.shutdown.clone();
            let sampler = async move {
                let mut est = Load5s::default();
                let mut buf = FileBuf::default();
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = shutdown.wait() => return,
                    }
                    // /proc/loadavg is one short line that never waits on a disk.
                    let path = roots.proc("loadavg");
                    if let Ok(l) = buf.parse::<procfs::LoadAverage>(&path) {
                        slot.store(est.next(f64::from(l.one)), Ordering::Relaxed);
                    }
                }
            };
            // The sampler only ends at shutdown; the collection loop's result is the input's.
            tokio::select! {
                r = run_periodic(Box::new(collector), interval, ctx) => r,
                () = sampler => Ok(()),
            }
        })
    }
}

/// Inverts the kernel's 1-minute load EMA (updated every 5 s:
/// `L1 = L1_prev·e^(-5/60) + n·(1−e^(-5/60))`, in fixed point 1884/2048) to estimate the
/// runnable tasks `n` of the last 5 seconds.
#[derive(Debug, Default)]
pub struct Load5s {
    prev: Option<f64>,
}

impl Load5s {
    pub fn next(&mut self, l1: f64) -> i64 {
        let n = match self.prev {
            None => l1,
            Some(p) => (2048.0 * l1 - 1884.0 * p) / 164.0,
        };
        self.prev = Some(l1);
        n.round().max(0.0) as i64
    }
}

/// The hwmon `coretemp` core sensors.
#[derive(Debug, Default)]
struct Sensors {
    inputs: Vec<PathBuf>,
    scanned: Option<Instant>,
}

impl Sensors {
    fn scan(&mut self, roots: &Roots, buf: &mut FileBuf) {
        self.inputs.clear();
        self.scanned = Some(Instant::now());
        let Ok(rd) = std::fs::read_dir(roots.sys("class/hwmon")) else {
            return;
        };
        for e in rd.flatten() {
            let dir = e.path();
            let is_coretemp = buf
                .read_str(&dir.join("name"))
                .map(|n| n.trim() == "coretemp")
                .unwrap_or(false);
            if !is_coretemp {
                continue;
            }
            let Ok(files) = std::fs::read_dir(&dir) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let Some(stem) = name.strip_suffix("_label") else {
                    continue;
                };
                let core = buf
                    .read_str(&f.path())
                    .map(|l| l.trim().starts_with("Core"))
                    .unwrap_or(false);
                if core {
                    self.inputs.push(dir.join(format!("{stem}_input")));
                }
            }
        }
        self.inputs.sort();
    }

    /// Average °C, or `None` without sensors.
    fn average(&mut self, roots: &Roots, buf: &mut FileBuf) -> Option<f64> {
        let stale = self
            .scanned
            .is_none_or(|t| self.inputs.is_empty() && t.elapsed() > Duration::from_secs(600));
        if stale {
            self.scan(roots, buf);
        }
        let mut sum = 0.0;
        let mut n = 0u32;
        for p in &self.inputs {
            if let Some(v) = buf
                .read_str(p)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
            {
                sum += v / 1000.0;
                n += 1;
            }
        }
        (n > 0).then(|| sum / f64::from(n))
    }
}

/// The collector: previous counters per CPU row.
pub struct CpuCollector {
    roots: Roots,
    percpu: bool,
    temperature: bool,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    prev_total: Option<CpuTicks>,
    prev_cpus: Vec<CpuTicks>,
    sensors: Sensors,
    /// The latest load5s estimate (-1: none yet, or disabled).
    load5s: Arc<AtomicI64>,
    errors: SoftErrors,
}

impl CpuCollector {
    pub fn new(cfg: &CpuConfig, roots: Roots) -> Self {
        CpuCollector {
            roots,
            percpu: cfg.percpu,
            temperature: cfg.enable_temperature,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            prev_total: None,
            prev_cpus: Vec::new(),
            sensors: Sensors::default(),
            load5s: Arc::new(AtomicI64::new(-1)),
            errors: SoftErrors::default(),
        }
    }
}

/// The `usage_*` fields of a row over one interval; `None` if no time passed or a counter
/// went backwards (CPU hot-plug).
pub fn usage(prev: &CpuTicks, cur: &CpuTicks) -> Option<Vec<(&'static str, f64)>> {
    let dt = cur.total().checked_sub(prev.total())?;
    if dt == 0 {
        return None;
    }
    let dt = dt as f64;
    let d = |a: u64, b: u64| a.saturating_sub(b) as f64;
    let pct = |x: f64| {
        let v = 100.0 * x / dt;
        if (0.0..=100.0).contains(&v) { v } else { 0.0 }
    };
    let user = d(
        cur.user.saturating_sub(cur.guest),
        prev.user.saturating_sub(prev.guest),
    );
    let nice = d(
        cur.nice.saturating_sub(cur.guest_nice),
        prev.nice.saturating_sub(prev.guest_nice),
    );
    let system = d(cur.system, prev.system);
    let idle = d(cur.idle, prev.idle);
    let iowait = d(cur.iowait, prev.iowait);
    let irq = d(cur.irq, prev.irq);
    let softirq = d(cur.softirq, prev.softirq);
    let steal = d(cur.steal, prev.steal);
    let guest = d(cur.guest, prev.guest);
    let guest_nice = d(cur.guest_nice, prev.guest_nice);
    let fields = vec![
        ("usage_user", pct(user)),
        ("usage_nice", pct(nice)),
        ("usage_system", pct(system)),
        ("usage_idle", pct(idle)),
        ("usage_iowait", pct(iowait)),
        ("usage_irq", pct(irq)),
        ("usage_softirq", pct(softirq)),
        ("usage_steal", pct(steal)),
        ("usage_guest", pct(guest)),
        ("usage_guest_nice", pct(guest_nice)),
    ];
    let total: f64 = fields
        .iter()
        .filter(|(k, _)| *k != "usage_idle")
        .map(|(_, v)| v)
        .sum();
    let mut fields = fields;
    fields.push((
        "usage_total",
        if (0.0..=100.0).contains(&total) {
            total
        } else {
            0.0
        },
    ));
    Some(fields)
}

fn row(name: &str, fields: Vec<(&'static str, f64)>) -> Point {
    let mut p = Point::new(Category::Metric, NAME);
    p.tags.push(("cpu".into(), name.into()));
    for (k, v) in fields {
        put(&mut p, k, v);
    }
    p
}

impl Collect for CpuCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let stat = read_stat(&self.roots, &mut self.buf).map_err(|e| e.to_string())?;
        let total = CpuTicks::from_procfs(&stat.total);
        let cpus: Vec<CpuTicks> = stat.cpu_time.iter().map(CpuTicks::from_procfs).collect();
        let mut out = Vec::new();
        if let Some(prev) = self.prev_total
            && let Some(fields) = usage(&prev, &total)
        {
            let mut p = row("cpu-total", fields);
            if self.temperature
                && let Some(t) = self.sensors.average(&self.roots, &mut self.buf)
            {
                put(&mut p, "core_temperature", t);
            }
            let l = self.load5s.load(Ordering::Relaxed);
            if l >= 0 {
                put(&mut p, "load5s", Value::Int(l));
            }
            out.push(p);
        }
        if self.percpu {
            if self.prev_cpus.len() == cpus.len() {
                for (i, (prev, cur)) in self.prev_cpus.iter().zip(&cpus).enumerate() {
                    if let Some(fields) = usage(prev, cur) {
                        out.push(row(&format!("cpu{i}"), fields));
                    }
                }
            } else if !self.prev_cpus.is_empty() {
                self.errors.record(
                    ctx,
                    NAME,
                    "the number of CPUs changed; per-CPU rows restart next collection",
                );
            }
            self.prev_cpus = cpus;
        }
        self.prev_total = Some(total);
        for p in &mut out {
            add_tags(p, &self.tags);
        }
        Ok(out)
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!(
        "usage_user",
        Float,
        "percent,percent",
        "CPU in user mode (guest time excluded)."
    ),
    field!(
        "usage_nice",
        Float,
        "percent,percent",
        "CPU in user mode with low priority (nice; guest_nice excluded)."
    ),
    field!(
        "usage_system",
        Float,
        "percent,percent",
        "CPU in kernel mode."
    ),
    field!("usage_idle", Float, "percent,percent", "CPU idle."),
    field!(
        "usage_iowait",
        Float,
        "percent,percent",
        "CPU idle while waiting for I/O."
    ),
    field!(
        "usage_irq",
        Float,
        "percent,percent",
        "CPU servicing hardware interrupts."
    ),
    field!(
        "usage_softirq",
        Float,
        "percent,percent",
        "CPU servicing soft interrupts."
    ),
    field!(
        "usage_steal",
        Float,
        "percent,percent",
        "CPU stolen by the hypervisor for other virtual machines."
    ),
    field!(
        "usage_guest",
        Float,
        "percent,percent",
        "CPU running virtual CPUs of guests."
    ),
    field!(
        "usage_guest_nice",
        Float,
        "percent,percent",
        "CPU running niced guests."
    ),
    field!(
        "usage_total",
        Float,
        "percent,percent",
        "CPU in use: every mode but idle (≈ 100 − usage_idle)."
    ),
    field!(
        "core_temperature",
        Float,
        "temperature,C",
        "Average temperature of the CPU cores (hwmon `coretemp`), on the `cpu-total` row only."
    ),
    field!(
        "load5s",
        Int,
        "-",
        "Runnable tasks over the last 5 seconds, estimated from the 1-minute load (on the `cpu-total` row)."
    ),
];

const TAGS: &[crate::inputs::TagSpec] = &[
    HOST_TAG,
    tag!(
        "cpu",
        "`cpu-total`, or `cpuN` for one CPU when `percpu` is on."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "cpu",
    category: Category::Metric,
    description: "CPU usage by mode over the interval.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<CpuConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "CPU usage by mode (user, system, iowait, steal, ...), core temperature and the 5-second load, from /proc/stat.",
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

    fn ticks(user: u64, system: u64, idle: u64, iowait: u64, guest: u64) -> CpuTicks {
        CpuTicks {
            user,
            system,
            idle,
            iowait,
            guest,
            ..CpuTicks::default()
        }
    }

    #[test]
    fn usage_is_the_share_of_each_mode_over_the_interval() {
        let a = ticks(100, 50, 800, 50, 10);
        let b = ticks(130, 60, 850, 60, 20);
        let u: BTreeMap<_, _> = usage(&a, &b).unwrap().into_iter().collect();
        // Δtotal = 30 + 10 + 50 + 10 = 100 ticks.
        assert_eq!(u["usage_user"], 20.0); // Δ(user − guest) = 120 − 90 − ... = 20
        assert_eq!(u["usage_guest"], 10.0);
        assert_eq!(u["usage_system"], 10.0);
        assert_eq!(u["usage_idle"], 50.0);
        assert_eq!(u["usage_iowait"], 10.0);
        assert_eq!(u["usage_total"], 50.0);
        assert!(usage(&b, &b).is_none(), "no time passed");
        assert!(usage(&b, &a).is_none(), "counters went backwards");
    }

    #[test]
    fn load5s_inverts_the_one_minute_average() {
        let mut l = Load5s::default();
        assert_eq!(l.next(1.0), 1);
        // Steady load of 1 keeps the EMA at 1.
        assert_eq!(l.next(1.0), 1);
        // A burst of 10 tasks moves L1 by (10-1)·164/2048 ≈ 0.72.
        assert_eq!(l.next(1.0 + 9.0 * 164.0 / 2048.0), 10);
    }

    #[test]
    fn first_collection_primes_then_fixture_rows_are_declared() {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::under(dir.path());
        std::fs::create_dir_all(&roots.proc).unwrap();
        let stat = |u: u64| {
            format!(
                "cpu  {u} 0 100 1000 10 0 5 0 0 0\ncpu0 {u} 0 100 1000 10 0 5 0 0 0\nctxt 1\nbtime 1700000000\nprocesses 10\n"
            )
        };
        std::fs::write(roots.proc("stat"), stat(100)).unwrap();
        let cfg = CpuConfig {
            percpu: true,
            enable_temperature: false,
            ..CpuConfig::default()
        };
        let mut c = CpuCollector::new(&cfg, roots.clone());
        let ctx = super::super::tests::ctx();
        assert!(c.collect(&ctx).unwrap().is_empty());
        std::fs::write(roots.proc("stat"), stat(200)).unwrap();
        let pts = c.collect(&ctx).unwrap();
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0].get_tag("cpu"), Some("cpu-total"));
        assert_eq!(pts[1].get_tag("cpu"), Some("cpu0"));
        assert_eq!(pts[0].get_field("usage_user"), Some(&Value::Float(100.0)));
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &pts, &[]).is_empty());
    }
}
