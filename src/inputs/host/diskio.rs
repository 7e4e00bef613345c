//! `diskio`: block device I/O counters from `/proc/diskstats` (sector = 512 B), with read and
//! write throughput over the interval. Devices whose counters are all zero are skipped.
//! udev properties (`/run/udev/data/b<maj>:<min>`) give the serial number, extra tags and name
//! templates; they are read once per device, not every collection.
//!
//! Fixes against the original:
//! - the `name` tag is the kernel name (`sda`), as documented; the original emitted `/dev/sda`;
//! - `serial` and `device_tags` really read udev data (the original looked the device up by
//!   its bare name and so reported `unknown` and no tags);
//! - rates divide by the exact elapsed time, not by whole seconds of wall clock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use regex::Regex;

use super::{
    FileBuf, HOST_TAG, Roots, add_tags, check_regexes, compile_all, elapsed_secs, field,
    host_input_config, put, rate, tag,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputError, InputSpec, IntervalLimits, MeasurementSpec,
    Validation, entry,
};
use crate::point::{Category, Point, Value};

const NAME: &str = "diskio";

config_struct! {
    "Block device I/O."
    pub struct DiskioConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Regular expressions of the devices to collect, matched against the kernel name (`sda1`) or any udev link (`/dev/disk/by-id/...`); empty: all."
        pub devices: Vec<String> = Vec::new(),
        "Do not add the `serial` tag."
        pub skip_serial_number: bool = false,
        "udev properties (e.g. `ID_FS_TYPE`) added as tags."
        pub device_tags: Vec<String> = Vec::new(),
        "Templates of the `name` tag over udev properties (`$ID_FS_LABEL`, `${DM_NAME}`; `$device` is the kernel name). The first template whose variables all exist is used; else the kernel name."
        pub name_templates: Vec<String> = Vec::new(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(
    DiskioConfig,
    collector: DiskioCollector::new,
    validate: DiskioConfig::check_devices_and_templates,
);

impl DiskioConfig {
    /// The `devices` expressions and the `name_templates`.
    fn check_devices_and_templates(&self, v: &mut Validation) {
        check_regexes(v, "devices", &self.devices);
        for (i, t) in self.name_templates.iter().enumerate() {
            if template_vars(t).is_err() {
                v.error(
                    &format!("name_templates[{i}]"),
                    format!("unclosed `${{` in template `{t}`"),
                );
            }
        }
    }
}

/// A name template with an unclosed `${`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unclosed `${{` in a name template")]
pub struct UnclosedBrace;

/// The variables of a name template, or an error for an unclosed `${`.
pub fn template_vars(t: &str) -> Result<Vec<&str>, UnclosedBrace> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or(UnclosedBrace)?;
            out.push(&r[..end]);
            rest = &r[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                out.push(&rest[..end]);
            }
            rest = &rest[end..];
        }
    }
    Ok(out)
}

/// Expands a template; `None` when a variable is missing.
pub fn expand_template(t: &str, props: &BTreeMap<String, String>, device: &str) -> Option<String> {
    let mut out = t.to_string();
    let mut vars = template_vars(t).ok()?;
    // Longest first, so `$ID_FS` does not eat into `$ID_FS_LABEL`.
    vars.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in vars {
        let val = if v == "device" {
            device
        } else {
            props.get(v)?.as_str()
        };
        out = out
            .replace(&format!("${{{v}}}"), val)
            .replace(&format!("${v}"), val);
    }
    Some(out)
}

/// What udev knows about a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Udev {
    pub props: BTreeMap<String, String>,
    /// Device links as paths (`/dev/disk/by-id/...`).
    pub links: Vec<String>,
}

/// Parses a udev database file (`E:KEY=VALUE`, `S:link`).
pub fn parse_udev(text: &str) -> Udev {
    let mut u = Udev::default();
    for line in text.lines() {
        if let Some(kv) = line.strip_prefix("E:") {
            if let Some((k, v)) = kv.split_once('=') {
                u.props.insert(k.to_string(), v.to_string());
            }
        } else if let Some(l) = line.strip_prefix("S:") {
            u.links.push(format!("/dev/{l}"));
        }
    }
    u
}

/// The cached facts of one device.
#[derive(Debug, Clone)]
struct DevInfo {
    udev: Udev,
    serial: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    read_bytes: u64,
    write_bytes: u64,
}

pub struct DiskioCollector {
    roots: Roots,
    devices: Vec<Regex>,
    serial: bool,
    device_tags: Vec<String>,
    name_templates: Vec<String>,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    info: HashMap<(i32, i32), DevInfo>,
    prev: HashMap<String, Counters>,
    prev_at: Option<Instant>,
}

impl DiskioCollector {
    pub fn new(cfg: &DiskioConfig, roots: Roots) -> Result<Self, InputError> {
        Ok(DiskioCollector {
            roots,
            devices: compile_all("devices", &cfg.devices)?,
            serial: !cfg.skip_serial_number,
            device_tags: cfg.device_tags.clone(),
            name_templates: cfg.name_templates.clone(),
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            info: HashMap::new(),
            prev: HashMap::new(),
            prev_at: None,
        })
    }

    fn needs_udev(&self) -> bool {
        self.serial
            || !self.devices.is_empty()
            || !self.device_tags.is_empty()
            || !self.name_templates.is_empty()
    }

    fn dev_info(&mut self, d: &procfs::DiskStat) -> DevInfo {
        let key = (d.major, d.minor);
        if let Some(i) = self.info.get(&key) {
            return i.clone();
        }
        let majmin = format!("{}:{}", d.major, d.minor);
        let udev = self
            .buf
            .read_str(&self.roots.run.join(format!("udev/data/b{majmin}")))
            .map(parse_udev)
            .unwrap_or_default();
        let sysfs = self.roots.sys("dev/block").join(&majmin);
        let serial = udev
            .props
            .get("ID_SERIAL")
            .cloned()
            .or_else(|| {
                ["device/serial", "serial"].iter().find_map(|f| {
                    self.buf
                        .read_str(&sysfs.join(f))
                        .ok()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                })
            })
            .unwrap_or_else(|| "unknown".into());
        let info = DevInfo { udev, serial };
        self.info.insert(key, info.clone());
        info
    }
}

fn all_zero(d: &procfs::DiskStat) -> bool {
    d.reads == 0
        && d.merged == 0
        && d.sectors_read == 0
        && d.time_reading == 0
        && d.writes == 0
        && d.writes_merged == 0
        && d.sectors_written == 0
        && d.time_writing == 0
        && d.in_progress == 0
        && d.time_in_progress == 0
        && d.weighted_time_in_progress == 0
}

/// The counter fields of one diskstats row.
pub fn counter_fields(p: &mut Point, d: &procfs::DiskStat) {
    put(p, "reads", d.reads);
    put(p, "merged_reads", d.merged);
    put(p, "read_bytes", d.sectors_read * 512);
    put(p, "read_time", d.time_reading);
    put(p, "writes", d.writes);
    put(p, "merged_writes", d.writes_merged);
    put(p, "write_bytes", d.sectors_written * 512);
    put(p, "write_time", d.time_writing);
    put(p, "iops_in_progress", d.in_progress);
    put(p, "io_time", d.time_in_progress);
    put(p, "weighted_io_time", d.weighted_time_in_progress);
}

impl Collect for DiskioCollector {
    fn collect(&mut self, _ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let stats: procfs::DiskStats = self
            .buf
            .parse(&self.roots.proc("diskstats"))
            .map_err(|e| e.to_string())?;
        let secs = elapsed_secs(&mut self.prev_at, Instant::now());
        let mut out = Vec::new();
        let mut next = HashMap::with_capacity(self.prev.len());
        let udev = self.needs_udev();
        if udev && self.info.len() > 4 * stats.0.len().max(16) {
            self.info.clear();
        }
        for d in &stats.0 {
            if all_zero(d) {
                continue;
            }
            let info = udev.then(|| self.dev_info(d));
            if !self.devices.is_empty() {
                let links = info
                    .as_ref()
                    .map(|i| i.udev.links.as_slice())
                    .unwrap_or(&[]);
                let wanted = self
                    .devices
                    .iter()
                    .any(|r| r.is_match(&d.name) || links.iter().any(|l| r.is_match(l)));
                if !wanted {
                    continue;
                }
            }
            let mut p = Point::new(Category::Metric, NAME);
            let name = info
                .as_ref()
                .and_then(|i| {
                    self.name_templates
                        .iter()
                        .find_map(|t| expand_template(t, &i.udev.props, &d.name))
                })
                .unwrap_or_else(|| d.name.clone());
            p.tags.push(("name".into(), name));
            if let Some(i) = &info {
                if self.serial {
                    p.tags.push(("serial".into(), i.serial.clone()));
                }
                for k in &self.device_tags {
                    if let Some(v) = i.udev.props.get(k) {
                        p.add_tag_if_absent(k, v);
                    }
                }
            }
            counter_fields(&mut p, d);
            let cur = Counters {
                read_bytes: d.sectors_read * 512,
                write_bytes: d.sectors_written * 512,
            };
            if let (Some(prev), Some(s)) = (self.prev.get(&d.name), secs) {
                if let Some(r) = rate(prev.read_bytes, cur.read_bytes, s) {
                    put(&mut p, "read_bytes/sec", Value::Int(r));
                }
                if let Some(r) = rate(prev.write_bytes, cur.write_bytes, s) {
                    put(&mut p, "write_bytes/sec", Value::Int(r));
                }
            }
            next.insert(d.name.clone(), cur);
            add_tags(&mut p, &self.tags);
            out.push(p);
        }
        self.prev = next;
        Ok(out)
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!("reads", Uint, "count", "Reads completed."),
    field!("merged_reads", Uint, "count", "Adjacent reads merged."),
    field!("read_bytes", Uint, "digital,B", "Bytes read."),
    field!("read_time", Uint, "time,ms", "Time spent reading."),
    field!("writes", Uint, "count", "Writes completed."),
    field!("merged_writes", Uint, "count", "Adjacent writes merged."),
    field!("write_bytes", Uint, "digital,B", "Bytes written."),
    field!("write_time", Uint, "time,ms", "Time spent writing."),
    field!("iops_in_progress", Uint, "count", "I/Os in flight now."),
    field!(
        "io_time",
        Uint,
        "time,ms",
        "Time the device had I/O in flight."
    ),
    field!(
        "weighted_io_time",
        Uint,
        "time,ms",
        "Time spent doing I/O weighted by the number of I/Os in flight."
    ),
    field!(
        "read_bytes/sec",
        Int,
        "traffic,B/S",
        "Read throughput over the interval."
    ),
    field!(
        "write_bytes/sec",
        Int,
        "traffic,B/S",
        "Write throughput over the interval."
    ),
];

const TAGS: &[crate::inputs::TagSpec] = &[
    HOST_TAG,
    tag!(
        "name",
        "Kernel name of the device (`sda`), or the first matching `name_templates` entry."
    ),
    tag!(
        "serial",
        "Serial number (udev `ID_SERIAL` or sysfs), `unknown` when there is none."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "diskio",
    category: Category::Metric,
    description: "I/O of a block device. udev properties named in `device_tags` are added as tags.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<DiskioConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Block device I/O counters and throughput from /proc/diskstats.",
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
    use crate::inputs::InputConfig;

    fn setup(diskstats: &str) -> (tempfile::TempDir, Roots) {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::under(dir.path());
        std::fs::create_dir_all(&roots.proc).unwrap();
        std::fs::create_dir_all(roots.run.join("udev/data")).unwrap();
        std::fs::write(roots.proc("diskstats"), diskstats).unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/host/udev-b254:0"),
            roots.run.join("udev/data/b254:0"),
        )
        .unwrap();
        (dir, roots)
    }

    const STATS: &str = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n 254       0 vda 794109 32982 24980626 1575313 105413 125203 54799152 275360 0 62288 1862623 61052 31 17909352 11079 12563 870\n";

    #[test]
    fn rows_use_kernel_names_udev_serials_and_skip_idle_devices() {
        let (_d, roots) = setup(STATS);
        let cfg = DiskioConfig {
            device_tags: vec!["ID_PATH".into()],
            name_templates: vec!["$MISSING".into(), "${ID_FS_LABEL}-$device".into()],
            ..DiskioConfig::default()
        };
        let mut c = DiskioCollector::new(&cfg, roots.clone()).unwrap();
        let ctx = super::super::tests::ctx();
        let pts = c.collect(&ctx).unwrap();
        assert_eq!(pts.len(), 1, "loop0 is all zero");
        let p = &pts[0];
        assert_eq!(p.get_tag("name"), Some("rootfs-vda"));
        assert_eq!(p.get_tag("serial"), Some("VIRTIO_1234"));
        assert_eq!(p.get_tag("ID_PATH"), Some("pci-0000:00:04.0"));
        assert_eq!(
            p.get_field("read_bytes"),
            Some(&Value::Uint(24980626 * 512))
        );
        assert!(
            p.get_field("read_bytes/sec").is_none(),
            "the first collection primes"
        );
        let pts = c.collect(&ctx).unwrap();
        assert!(matches!(
            pts[0].get_field("read_bytes/sec"),
            Some(Value::Int(0))
        ));
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &pts, &["ID_PATH"]).is_empty());
    }

    #[test]
    fn device_filters_match_names_and_links() {
        let (_d, roots) = setup(STATS);
        let by_link = DiskioConfig {
            devices: vec!["^/dev/disk/by-id/virtio-VIRTIO_1234$".into()],
            ..DiskioConfig::default()
        };
        let ctx = super::super::tests::ctx();
        let mut c = DiskioCollector::new(&by_link, roots.clone()).unwrap();
        assert_eq!(c.collect(&ctx).unwrap().len(), 1);
        let none = DiskioConfig {
            devices: vec!["^sd".into()],
            skip_serial_number: true,
            ..DiskioConfig::default()
        };
        let mut c = DiskioCollector::new(&none, roots).unwrap();
        assert!(c.collect(&ctx).unwrap().is_empty());
    }

    #[test]
    fn templates_and_validation() {
        assert_eq!(template_vars("${A}-$B_c.x").unwrap(), ["A", "B_c"]);
        assert!(template_vars("${A").is_err());
        let mut v = Validation::default();
        DiskioConfig {
            devices: vec!["sd[".into()],
            name_templates: vec!["${X".into()],
            ..DiskioConfig::default()
        }
        .validate(&mut v);
        assert_eq!(v.issues.len(), 2);
        assert_eq!(v.issues[0].key, "devices[0]");
        assert_eq!(v.issues[1].key, "name_templates[0]");
    }
}
