//! `hostobject`: the host as an object (class `HOST`) every interval: OS, kernel, CPU model,
//! memory, disks, network interfaces, uptime, agent version and the running inputs, with CPU,
//! memory, disk and traffic summaries.
//!
//! Sources: `/proc/stat`, `/proc/meminfo`, `/proc/loadavg`, `/proc/cpuinfo` (+ cpufreq), the
//! disk mounts as `disk` filters them, `/proc/diskstats`, `/proc/net/dev`, `getifaddrs(3)` and
//! `/sys/class/net` for the interfaces, sysinfo for the OS release and kernel (read once an
//! hour with the CPU models), and the agent's own stats.
//!
//! Fixes against the original: `cpu_usage` has its own baseline (not shared with `system`);
//! rates divide by the exact elapsed time; the first collection sends the object without the
//! interval figures (`cpu_usage`, `*_per_sec`) instead of failing; the stray `Scheck` field is
//! gone.
//!
//! Left out: cloud metadata sync (it queries cloud provider metadata endpoints), the
//! `dk_upgrader` probe and the election part of `message`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::json;

use super::disk::{self, MountFilter};
use super::{
    CpuTicks, FileBuf, HOST_TAG, Roots, SoftErrors, add_tags, busy_percent, elapsed_secs, field,
    host_input_config, mem_used, percent, put, rate, read_stat, tag, virtual_interfaces,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputError, InputSpec, IntervalLimits, MeasurementSpec,
    Validation, entry,
};
use crate::point::{Category, Point, Value};

const NAME: &str = "hostobject";

config_struct! {
    "The host object."
    pub struct HostObjectConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(300),
        "Also list virtual network interfaces (lo, bridges, veth, ...)."
        pub enable_net_virtual_interfaces: bool = false,
        "Regular expression of file system types left out of the disk list."
        pub ignore_fstypes: String = disk::DEFAULT_IGNORE_FSTYPES.into(),
        "Regular expression of mount points left out of the disk list."
        pub ignore_mountpoints: String = disk::DEFAULT_IGNORE_MOUNTPOINTS.into(),
        "Devices left out of the disk list."
        pub exclude_device: Vec<String> = Vec::new(),
        "Leave file systems of size 0 out of the disk list."
        pub ignore_zero_bytes_disk: bool = true,
        "Small text files (up to 4 KiB) whose content is sent in `message.host.config_file`."
        pub config_path: Vec<String> = Vec::new(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(
    HostObjectConfig,
    collector: HostObjectCollector::new,
    validate: HostObjectConfig::check_filters_and_paths,
);

impl HostObjectConfig {
    /// The disk filters and the `config_path` entries.
    fn check_filters_and_paths(&self, v: &mut Validation) {
        disk::validate_filters(v, &self.ignore_fstypes, &self.ignore_mountpoints, &[]);
        for (i, p) in self.config_path.iter().enumerate() {
            if !p.starts_with('/') {
                v.warning(
                    &format!("config_path[{i}]"),
                    format!("`{p}` is not an absolute path; it is read relative to the agent's working directory"),
                );
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Totals {
    disk_read: u64,
    disk_written: u64,
    net_recv: u64,
    net_sent: u64,
}

pub struct HostObjectCollector {
    roots: Roots,
    filter: MountFilter,
    skip_zero: bool,
    virtual_ok: bool,
    config_path: Vec<String>,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    prev_cpu: Option<CpuTicks>,
    prev: Option<Totals>,
    prev_at: Option<Instant>,
    /// CPU models and OS release: read again once an hour, not every collection.
    statics: Option<(Instant, Vec<serde_json::Value>, serde_json::Value)>,
    errors: SoftErrors,
}

impl HostObjectCollector {
    pub fn new(cfg: &HostObjectConfig, roots: Roots) -> Result<Self, InputError> {
        let opt = |key: &str, p: &str| -> Result<Option<Regex>, InputError> {
            super::compile_opt(key, p)
        };
        Ok(HostObjectCollector {
            roots,
            filter: MountFilter {
                ignore_fstypes: opt("ignore_fstypes", &cfg.ignore_fstypes)?,
                ignore_mountpoints: opt("ignore_mountpoints", &cfg.ignore_mountpoints)?,
                only_fstypes: Vec::new(),
                exclude_device: cfg.exclude_device.clone(),
                extra_device: Vec::new(),
                only_physical_device: false,
            },
            skip_zero: cfg.ignore_zero_bytes_disk,
            virtual_ok: cfg.enable_net_virtual_interfaces,
            config_path: cfg.config_path.clone(),
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            prev_cpu: None,
            prev: None,
            prev_at: None,
            statics: None,
            errors: SoftErrors::default(),
        })
    }

    fn cpus(&mut self) -> Vec<serde_json::Value> {
        let Ok(info) = self
            .buf
            .parse::<procfs::CpuInfo>(&self.roots.proc("cpuinfo"))
        else {
            return Vec::new();
        };
        (0..info.num_cores())
            .map(|i| {
                let max_khz = self
                    .buf
                    .read_str(&self.roots.sys(&format!(
                        "devices/system/cpu/cpu{i}/cpufreq/cpuinfo_max_freq"
                    )))
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok());
                let mhz = max_khz.map(|k| k / 1000.0).or_else(|| {
                    info.get_field(i, "cpu MHz")
                        .and_then(|s| s.trim().parse::<f64>().ok())
                });
                let cache_kb = info
                    .get_field(i, "cache size")
                    .and_then(|s| s.trim().trim_end_matches("KB").trim().parse::<i64>().ok());
                json!({
                    "vendor_id": info.vendor_id(i).unwrap_or_default(),
                    "module_name": info.model_name(i).unwrap_or_default(),
                    "cores": 1,
                    "mhz": mhz.unwrap_or(0.0),
                    "cache_size": cache_kb.unwrap_or(0),
                })
            })
            .collect()
    }

    fn interfaces(&mut self, virt: &std::collections::HashSet<String>) -> Vec<serde_json::Value> {
        let Ok(list) = super::ifaddrs::interfaces() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for n in list {
            let dir = self.roots.sys("class/net").join(&n.name);
            if !self.virtual_ok && virt.contains(&n.name) && !dir.join("bonding").exists() {
                continue;
            }
            let mtu = self
                .buf
                .read_str(&dir.join("mtu"))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
            let mut ip4 = Vec::new();
            let mut ip6 = Vec::new();
            for (addr, prefix) in &n.addrs {
                if addr.is_loopback() {
                    continue;
                }
                let s = format!("{addr}/{prefix}");
                if addr.is_ipv4() {
                    ip4.push(s);
                } else {
                    ip6.push(s);
                }
            }
            out.push(json!({
                "mtu": mtu,
                "name": n.name,
                "mac": n.mac.unwrap_or_default(),
                "flags": super::ifaddrs::flag_names(n.flags),
                "ip4": ip4.first().cloned().unwrap_or_default(),
                "ip6": ip6.first().cloned().unwrap_or_default(),
                "ip4_all": ip4,
                "ip6_all": ip6,
            }));
        }
        out
    }

    fn totals(&mut self, virt: &std::collections::HashSet<String>) -> Option<Totals> {
        let disks: procfs::DiskStats = self.buf.parse(&self.roots.proc("diskstats")).ok()?;
        let (disk_read, disk_written) = disks.0.iter().fold((0u64, 0u64), |(r, w), d| {
            (r + d.sectors_read * 512, w + d.sectors_written * 512)
        });
        let devs: procfs::net::InterfaceDeviceStatus =
            self.buf.parse(&self.roots.proc("net/dev")).ok()?;
        let (net_recv, net_sent) = devs
            .0
            .values()
            .filter(|d| !virt.contains(&d.name))
            .fold((0u64, 0u64), |(r, s), d| {
                (r + d.recv_bytes, s + d.sent_bytes)
            });
        Some(Totals {
            disk_read,
            disk_written,
            net_recv,
            net_sent,
        })
    }

    fn config_files(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for p in &self.config_path {
            let Ok(meta) = std::fs::metadata(p) else {
                continue;
            };
            if !meta.is_file() || meta.len() > 4096 {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(p)
                && !text.contains('\0')
            {
                m.insert(p.clone(), json!(text));
            }
        }
        m
    }
}

fn os_meta() -> serde_json::Value {
    let like = sysinfo::System::distribution_id_like();
    let id = sysinfo::System::distribution_id();
    let family = [
        "debian", "rhel", "fedora", "suse", "arch", "alpine", "gentoo",
    ]
    .iter()
    .find(|f| id == **f || like.iter().any(|l| l == *f))
    .map(|f| f.to_string())
    .unwrap_or_else(|| id.clone());
    json!({
        "host_name": sysinfo::System::host_name().unwrap_or_default(),
        "os": std::env::consts::OS,
        "platform": id,
        "platform_family": family,
        "platform_version": sysinfo::System::os_version().unwrap_or_default(),
        "os_long_version": sysinfo::System::long_os_version().unwrap_or_default(),
        "kernel_release": sysinfo::System::kernel_version().unwrap_or_default(),
        "arch": sysinfo::System::cpu_arch(),
    })
}

/// Whether the agent runs in a container.
fn in_container() -> bool {
    std::path::Path::new("/.dockerenv").exists()
        || std::path::Path::new("/run/.containerenv").exists()
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

impl Collect for HostObjectCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let stat = read_stat(&self.roots, &mut self.buf).map_err(|e| e.to_string())?;
        let mut p = Point::new(Category::Object, "HOST");
        let arch = rustix::system::uname()
            .machine()
            .to_string_lossy()
            .into_owned();
        p.tags.push(("name".into(), ctx.hostname.to_string()));
        p.tags.push(("os".into(), std::env::consts::OS.into()));
        p.tags.push(("arch".into(), arch));
        let ip = crate::host::primary_ip();
        p.tags.push(("unicast_ip".into(), ip.clone()));

        let secs = elapsed_secs(&mut self.prev_at, Instant::now());
        let cur = CpuTicks::from_procfs(&stat.total);
        if let Some(prev) = self.prev_cpu
            && let Some(u) = busy_percent(&prev, &cur)
        {
            put(&mut p, "cpu_usage", u);
        }
        self.prev_cpu = Some(cur);
        put(&mut p, "start_time", Value::Uint(stat.btime * 1000));
        put(&mut p, "datakit_ver", crate::build_info::VERSION);
        put(
            &mut p,
            "num_cpu",
            Value::Int(std::thread::available_parallelism().map_or(1, |n| n.get()) as i64),
        );

        let mut mem_json = json!({});
        match self
            .buf
            .parse::<procfs::Meminfo>(&self.roots.proc("meminfo"))
        {
            Ok(m) => {
                put(
                    &mut p,
                    "mem_used_percent",
                    percent(mem_used(&m) as f64, m.mem_total as f64),
                );
                mem_json = json!({"memory_total": m.mem_total, "swap_total": m.swap_total});
            }
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        match self
            .buf
            .parse::<procfs::LoadAverage>(&self.roots.proc("loadavg"))
        {
            Ok(l) => put(&mut p, "load", f64::from(l.five)),
            Err(e) => self.errors.record(ctx, NAME, e),
        }

        let mut disks_json = Vec::new();
        match disk::read_mounts(&self.roots, &mut self.buf) {
            Ok(mounts) => {
                let rows = disk::measure(&self.roots, &mounts, &self.filter, false);
                let (mut total, mut used) = (0u64, 0u64);
                for r in &rows {
                    if self.skip_zero && r.usage.total == 0 {
                        continue;
                    }
                    total += r.usage.total;
                    used += r.usage.used;
                    let u = &r.usage;
                    disks_json.push(json!({
                        "device": r.device,
                        "total": u.total,
                        "used": u.used,
                        "free": u.free,
                        "used_percent": percent(u.used as f64, u.total as f64),
                        "inodes_total": u.inodes_total,
                        "inodes_free": u.inodes_free,
                        "inodes_used": u.inodes_total.saturating_sub(u.inodes_free),
                        "inodes_used_percent": percent(u.inodes_total.saturating_sub(u.inodes_free) as f64, u.inodes_total as f64),
                        "fstype": r.mount.fstype,
                        "mountpoint": r.mount.mount_point,
                    }));
                }
                put(&mut p, "disk_total", Value::Uint(total));
                put(
                    &mut p,
                    "disk_used_percent",
                    percent(used as f64, total as f64),
                );
            }
            Err(e) => self.errors.record(ctx, NAME, e),
        }

        let virt = virtual_interfaces(&self.roots);
        let totals = self.totals(&virt);
        if let (Some(prev), Some(cur), Some(s)) = (self.prev, totals, secs) {
            for (k, a, b) in [
                ("diskio_read_bytes_per_sec", prev.disk_read, cur.disk_read),
                (
                    "diskio_write_bytes_per_sec",
                    prev.disk_written,
                    cur.disk_written,
                ),
                ("net_recv_bytes_per_sec", prev.net_recv, cur.net_recv),
                ("net_send_bytes_per_sec", prev.net_sent, cur.net_sent),
            ] {
                if let Some(r) = rate(a, b, s) {
                    put(&mut p, k, Value::Int(r));
                }
            }
        }
        self.prev = totals;

        let level = tracing::level_filters::LevelFilter::current()
            .to_string()
            .to_ascii_lowercase();
        put(&mut p, "logging_level", level);
        put(&mut p, "is_docker", Value::Int(i64::from(in_container())));

        let uptime = self
            .buf
            .parse::<procfs::Uptime>(&self.roots.proc("uptime"))
            .ok()
            .map(|u| u.uptime as u64);
        let snap = ctx.agent_stats.snapshot();
        let collectors: Vec<serde_json::Value> = snap
            .inputs
            .iter()
            .filter(|(_, s)| s.instances > 0)
            .map(|(name, s)| {
                json!({
                    "name": name,
                    "instances": s.instances,
                    "state": s.state,
                    "category": s.category,
                    "feeds": s.feeds,
                    "points": s.points,
                    "last_feed_ns": s.last_feed_ns,
                    "errors": s.errors,
                    "last_err": s.last_error,
                    "last_err_ns": s.last_error_ns,
                    "crashes": s.crashes,
                })
            })
            .collect();
        let fresh = self
            .statics
            .as_ref()
            .is_some_and(|(at, _, _)| at.elapsed() < Duration::from_secs(3600));
        if !fresh {
            self.statics = Some((Instant::now(), self.cpus(), os_meta()));
        }
        let (cpus, mut meta) = self
            .statics
            .as_ref()
            .map(|(_, c, m)| (c.clone(), m.clone()))
            .unwrap_or_default();
        if let Some(m) = meta.as_object_mut() {
            m.insert("boot_time".into(), json!(stat.btime));
            m.insert("uptime".into(), json!(uptime));
        }
        let message = json!({
            "host": {
                "meta": meta,
                "cpu": cpus,
                "mem": mem_json,
                "net": self.interfaces(&virt),
                "disk": disks_json,
                "config_file": self.config_files(),
            },
            "collectors": collectors,
            "config": {"ip": ip},
        });
        put(&mut p, "message", message.to_string());
        add_tags(&mut p, &self.tags);
        Ok(vec![p])
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!(
        "message",
        String,
        "-",
        "JSON: `host` (meta, cpu, mem, net, disk, config_file), `collectors` (the running inputs) and `config`."
    ),
    field!(
        "start_time",
        Uint,
        "timeStamp,msec",
        "Boot time of the host (Unix ms)."
    ),
    field!("datakit_ver", String, "-", "Version of the agent."),
    field!(
        "cpu_usage",
        Float,
        "percent,percent",
        "CPU in use over the interval (every mode but idle)."
    ),
    field!(
        "mem_used_percent",
        Float,
        "percent,percent",
        "Used memory in % of total."
    ),
    field!("load", Float, "-", "Load average over 5 minutes."),
    field!("num_cpu", Int, "count", "CPUs the agent may run on."),
    field!(
        "disk_total",
        Uint,
        "digital,B",
        "Total size of the listed file systems."
    ),
    field!(
        "disk_used_percent",
        Float,
        "percent,percent",
        "Used space of the listed file systems in % of their size."
    ),
    field!(
        "diskio_read_bytes_per_sec",
        Int,
        "traffic,B/S",
        "Bytes read per second from all block devices over the interval."
    ),
    field!(
        "diskio_write_bytes_per_sec",
        Int,
        "traffic,B/S",
        "Bytes written per second to all block devices over the interval."
    ),
    field!(
        "net_recv_bytes_per_sec",
        Int,
        "traffic,B/S",
        "Bytes received per second by the non-virtual interfaces over the interval."
    ),
    field!(
        "net_send_bytes_per_sec",
        Int,
        "traffic,B/S",
        "Bytes sent per second by the non-virtual interfaces over the interval."
    ),
    field!("logging_level", String, "-", "Log level of the agent."),
    field!(
        "is_docker",
        Int,
        "-",
        "1 when the agent runs in a container."
    ),
];

const TAGS: &[crate::inputs::TagSpec] = &[
    HOST_TAG,
    tag!("name", "Hostname (the object's name)."),
    tag!("os", "Operating system (`linux`)."),
    tag!("arch", "Machine architecture (`x86_64`)."),
    tag!(
        "unicast_ip",
        "The address the host uses to reach the network."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "HOST",
    category: Category::Object,
    description: "The host: system facts and resource summaries.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<HostObjectConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "The host as an object: OS, kernel, CPUs, memory, disks, network interfaces, uptime, agent version and running inputs.",
    singleton: true,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(10),
        max: Duration::from_secs(30 * 60),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_host_object_has_the_declared_shape() {
        let ctx = super::super::tests::ctx();
        ctx.agent_stats
            .input("cpu")
            .instances
            .store(1, std::sync::atomic::Ordering::Relaxed);
        let mut c =
            HostObjectCollector::new(&HostObjectConfig::default(), Roots::default()).unwrap();
        let first = c.collect(&ctx).unwrap();
        assert!(
            first[0].get_field("cpu_usage").is_none(),
            "first collection primes"
        );
        // CPU counters move in clock ticks: collect again until some time was counted.
        let mut pts = c.collect(&ctx).unwrap();
        for _ in 0..500 {
            if pts[0].get_field("cpu_usage").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            pts = c.collect(&ctx).unwrap();
        }
        let p = &pts[0];
        assert_eq!(p.name, "HOST");
        assert!(p.get_field("cpu_usage").is_some());
        assert!(p.get_field("net_recv_bytes_per_sec").is_some());
        let msg: serde_json::Value =
            serde_json::from_str(p.get_field("message").unwrap().as_str().unwrap()).unwrap();
        assert!(
            !msg["host"]["meta"]["kernel_release"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        assert!(!msg["host"]["cpu"].as_array().unwrap().is_empty());
        assert_eq!(msg["collectors"][0]["name"], "cpu");
        let problems = super::super::tests::schema_problems(MEASUREMENTS, &pts, &[]);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
