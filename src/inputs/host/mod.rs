//! The host inputs DataKit enables by default on Linux: `cpu`, `mem`, `swap`, `disk`, `diskio`,
//! `net`, `system`, `host_processes` and `hostobject`.
//!
//! Every input reads `/proc` and `/sys` under configurable roots ([`Roots`]: `HOST_PROC`,
//! `HOST_SYS`, ... as the original's container mode sets them) through `procfs-core` parsers fed
//! from one reused buffer per collector ([`FileBuf`]): one read per file per collection. A file
//! or value that is missing (old kernels, containers) drops that value or point and counts an
//! error in the agent's stats; it never fails the whole collection unless nothing could be read.
//!
//! Rates and percentages are computed over the interval from counters kept in the collector:
//! the first collection only primes them.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Collect, CollectCtx, InputError, TagSpec, Validation};
use crate::config::duration::Dur;
use crate::point::{Point, Value};

pub mod cpu;
pub mod disk;
pub mod diskio;
pub mod hostobject;
pub mod ifaddrs;
pub mod mem;
pub mod net;
pub mod processes;
pub mod swap;
pub mod system;

/// A field spec in one line: `field!("name", Uint, "digital,B", "Description.")`.
macro_rules! field {
    ($name:literal, $kind:ident, $unit:literal, $desc:literal) => {
        $crate::inputs::FieldSpec {
            name: $name,
            kind: $crate::inputs::FieldType::$kind,
            unit: $unit,
            description: $desc,
        }
    };
}
/// A tag spec in one line.
macro_rules! tag {
    ($name:literal, $desc:literal) => {
        $crate::inputs::TagSpec {
            name: $name,
            description: $desc,
        }
    };
}

/// Implements [`InputConfig`](crate::inputs::InputConfig) for the options of a host input
/// that has an `interval: Dur` and `tags` and works every `interval`.
///
/// - `collector: C::new` — the input runs the collector `C::new(&options, Roots::from_env())`
///   every interval ([`periodic`]); the constructor returns the collector, or `Result<_, InputError>` when
///   the options can fail to compile (see [`IntoCollector`]);
/// - `input: f` — instead `f(&options)` builds the input (`cpu` runs a sampler beside its
///   collector);
/// - `validate: f` — checks run by `f(&options, &mut Validation)` after the common ones
///   (`interval` longer than zero, no empty tag key).
///
/// `host_processes` has two intervals of its own and implements the trait by hand.
macro_rules! host_input_config {
    ($config:ty, collector: $new:path $(, validate: $check:path)? $(,)?) => {
        $crate::inputs::host::host_input_config!(
            @impl $config,
            |c: &$config| {
                let roots = $crate::inputs::host::Roots::from_env();
                $crate::inputs::host::periodic(c.interval, $new(c, roots))
            }
            $(, $check)?
        );
    };
    ($config:ty, input: $build:path $(, validate: $check:path)? $(,)?) => {
        $crate::inputs::host::host_input_config!(@impl $config, $build $(, $check)?);
    };
    (@impl $config:ty, $build:expr $(, $check:path)?) => {
        impl $crate::inputs::InputConfig for $config {
            fn interval(&self) -> Option<$crate::config::duration::Dur> {
                Some(self.interval)
            }
            fn set_interval(&mut self, interval: $crate::config::duration::Dur) {
                self.interval = interval;
            }
            fn validate(&self, v: &mut $crate::inputs::Validation) {
                $crate::inputs::host::check_interval(v, "interval", self.interval);
                $crate::inputs::host::check_tags(v, &self.tags);
                $($check(self, v);)?
            }
            fn as_any(&self) -> &dyn ::std::any::Any {
                self
            }
            fn build(
                &self,
            ) -> Result<Box<dyn $crate::inputs::Input>, $crate::inputs::InputError> {
                ($build)(self)
            }
        }
    };
}
pub(crate) use field;
pub(crate) use host_input_config;
pub(crate) use tag;

/// The `host` tag every point gets from the agent's global host tags.
pub const HOST_TAG: TagSpec = tag!("host", "Hostname (added by the agent's global host tags).");

/// Why reading a host file failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("reading {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("parsing {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl HostError {
    pub fn parse(path: &Path, message: impl std::fmt::Display) -> Self {
        HostError::Parse {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
    /// True when the file does not exist (a feature this kernel or container does not have).
    pub fn is_not_found(&self) -> bool {
        matches!(self, HostError::Io { cause: source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Where the host's file systems are: `/proc`, `/sys`, ... or, in a container, the host's
/// mounted under `/rootfs` (the original's `HOST_PROC`, `HOST_SYS`, `HOST_ETC`, `HOST_VAR`,
/// `HOST_RUN`, `HOST_DEV`, and `HOST_ROOT` to prefix mount points for `statfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub etc: PathBuf,
    pub var: PathBuf,
    pub run: PathBuf,
    pub dev: PathBuf,
    /// Prefix of mount points (empty: `/`).
    pub root: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots::from_lookup(&|_| None)
    }
}

impl Roots {
    /// The roots from the process environment.
    pub fn from_env() -> Roots {
        Roots::from_lookup(&|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The roots from an environment lookup (tests inject one).
    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Roots {
        let get = |k: &str, d: &str| PathBuf::from(env(k).unwrap_or_else(|| d.to_string()));
        Roots {
            proc: get("HOST_PROC", "/proc"),
            sys: get("HOST_SYS", "/sys"),
            etc: get("HOST_ETC", "/etc"),
            var: get("HOST_VAR", "/var"),
            run: get("HOST_RUN", "/run"),
            dev: get("HOST_DEV", "/dev"),
            root: PathBuf::from(
                env("ENV_HOST_ROOT")
                    .or_else(|| env("HOST_ROOT"))
                    .unwrap_or_default(),
            ),
        }
    }

    /// Every root under `dir` (`dir/proc`, `dir/sys`, ...): fixtures in tests.
    pub fn under(dir: &Path) -> Roots {
        Roots {
            proc: dir.join("proc"),
            sys: dir.join("sys"),
            etc: dir.join("etc"),
            var: dir.join("var"),
            run: dir.join("run"),
            dev: dir.join("dev"),
            root: dir.join("rootfs"),
        }
    }

    pub fn proc(&self, rel: &str) -> PathBuf {
        self.proc.join(rel)
    }
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sys.join(rel)
    }
    /// A mount point as this process reaches it (`HOST_ROOT` + mount point).
    pub fn mount_path(&self, mount_point: &str) -> PathBuf {
        if self.root.as_os_str().is_empty() {
            PathBuf::from(mount_point)
        } else {
            self.root.join(mount_point.trim_start_matches('/'))
        }
    }
}

/// A reused read buffer: a collector reads each file with one `read_to_end` into it.
#[derive(Debug, Default)]
pub struct FileBuf {
    /// Zero-filled once and kept at its size: only `buf[..len]` is the last file read.
    buf: Vec<u8>,
    len: usize,
}

impl FileBuf {
    /// Reads all of `f` into the buffer. /proc and sysfs files are produced whole by the
    /// kernel (seq_file fills the buffer until the end), so a read that leaves room in the
    /// buffer was the last one: one `read` per file instead of two.
    fn fill(&mut self, mut f: std::fs::File) -> std::io::Result<()> {
        if self.buf.len() < 4096 {
            self.buf.resize(4096, 0);
        }
        self.len = 0;
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
            match f.read(&mut self.buf[len..]) {
                Ok(0) => break,
                Ok(n) => {
                    len += n;
                    if len < self.buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.len = len;
        Ok(())
    }

    /// The bytes of the last file read.
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes of `path`.
    pub fn read(&mut self, path: &Path) -> Result<&[u8], HostError> {
        let err = |source| HostError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let f = std::fs::File::open(path).map_err(err)?;
        self.fill(f).map_err(err)?;
        Ok(self.bytes())
    }

    /// The bytes of `name` under the open directory `dir` (`dir_path` names it in errors):
    /// no path walk from `/`, which is most of the cost of opening a `/proc/<pid>` file.
    pub fn read_at(
        &mut self,
        dir: &rustix::fd::OwnedFd,
        dir_path: &Path,
        name: &str,
    ) -> Result<&[u8], HostError> {
        let err = |source: std::io::Error| HostError::Io {
            path: dir_path.join(name),
            cause: source,
        };
        let fd = rustix::fs::openat(
            dir,
            name,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| err(e.into()))?;
        self.fill(std::fs::File::from(fd)).map_err(err)?;
        Ok(self.bytes())
    }

    /// The text of `path` (invalid UTF-8 is an error: /proc files are ASCII).
    pub fn read_str(&mut self, path: &Path) -> Result<&str, HostError> {
        let bytes = self.read(path)?;
        std::str::from_utf8(bytes).map_err(|e| HostError::parse(path, e))
    }

    /// Parses `path` with a `procfs-core` parser.
    pub fn parse<T: procfs::FromRead>(&mut self, path: &Path) -> Result<T, HostError> {
        let bytes = self.read(path)?;
        T::from_read(bytes).map_err(|e| HostError::parse(path, e))
    }

    /// Parses `path` with a `procfs-core` parser that needs system facts.
    pub fn parse_si<T: procfs::FromReadSI>(&mut self, path: &Path) -> Result<T, HostError> {
        let si = system_info();
        let bytes = self.read(path)?;
        T::from_read(bytes, &si).map_err(|e| HostError::parse(path, e))
    }
}

/// Clock ticks per second, page size (the boot time is read from `/proc/stat` where needed).
pub fn system_info() -> procfs::ExplicitSystemInfo {
    procfs::ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: procfs::ticks_per_second().max(1),
        page_size: procfs::page_size().max(1),
        is_little_endian: cfg!(target_endian = "little"),
    }
}

/// Counts a partial failure (a file or value that could not be read) in the agent's stats
/// without failing the collection. Logged once per distinct message.
#[derive(Debug, Default)]
pub struct SoftErrors {
    logged: HashSet<String>,
}

impl SoftErrors {
    pub fn record(&mut self, ctx: &CollectCtx, input: &str, e: impl std::fmt::Display) {
        let msg = e.to_string();
        ctx.agent_stats.input(input).record_error(msg.clone());
        ctx.agent_stats.record_error(input, msg.clone());
        if self.logged.len() < 64 && self.logged.insert(msg.clone()) {
            tracing::warn!(input, "{msg} (the value is skipped)");
        }
    }
}

/// Adds a field without searching: host collectors set each key once.
pub fn put(p: &mut Point, key: &str, v: impl Into<Value>) {
    p.fields.push((key.to_string(), v.into()));
}

/// Adds the user's extra tags; the input's own tags win.
pub fn add_tags(p: &mut Point, tags: &BTreeMap<String, String>) {
    for (k, v) in tags {
        p.add_tag_if_absent(k, v);
    }
}

/// 100·part/total, or 0 when total is 0.
pub fn percent(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        100.0 * part / total
    } else {
        0.0
    }
}

/// Per-second rate of a counter over `secs`; `None` when it went backwards or no time passed.
pub fn rate(prev: u64, cur: u64, secs: f64) -> Option<i64> {
    if cur < prev || secs <= 0.0 {
        return None;
    }
    Some(((cur - prev) as f64 / secs).round() as i64)
}

/// Seconds since `prev`, updating it to now.
pub fn elapsed_secs(prev: &mut Option<Instant>, now: Instant) -> Option<f64> {
    let d = prev.map(|p| now.duration_since(p).as_secs_f64());
    *prev = Some(now);
    d
}

/// Checks the `interval` option: zero is refused; protect mode clamps the rest.
pub fn check_interval(v: &mut Validation, key: &str, d: Dur) {
    if d.get().is_zero() {
        v.error(key, "must be longer than zero (e.g. \"10s\")");
    }
}

/// Checks `tags`: keys must not be empty.
pub fn check_tags(v: &mut Validation, tags: &BTreeMap<String, String>) {
    for k in tags.keys() {
        if k.trim().is_empty() {
            v.error("tags", "tag keys must not be empty");
        }
    }
}

/// Checks a list of regular expressions.
pub fn check_regexes(v: &mut Validation, key: &str, list: &[String]) {
    for (i, p) in list.iter().enumerate() {
        if let Err(e) = crate::config::validate::check_regex(p) {
            v.error(
                &format!("{key}[{i}]"),
                format!("invalid regular expression `{p}`: {e}"),
            );
        }
    }
}

/// Checks one regular expression (empty is allowed: no filter).
pub fn check_one_regex(v: &mut Validation, key: &str, p: &str) {
    if let Err(e) = crate::config::validate::check_regex(p) {
        v.error(key, format!("invalid regular expression `{p}`: {e}"));
    }
}

/// Compiles a list of regexes (validated before, so an error here is a setup error).
pub fn compile_all(key: &str, list: &[String]) -> Result<Vec<regex::Regex>, InputError> {
    list.iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| {
                InputError::Setup(format!("{key}: invalid regular expression `{p}`: {e}"))
            })
        })
        .collect()
}

/// Compiles one optional regex (empty: none).
pub fn compile_opt(key: &str, p: &str) -> Result<Option<regex::Regex>, InputError> {
    if p.is_empty() {
        return Ok(None);
    }
    regex::Regex::new(p)
        .map(Some)
        .map_err(|e| InputError::Setup(format!("{key}: invalid regular expression `{p}`: {e}")))
}

pub use super::{IntoCollector, periodic};

/// Names of the interfaces under `/sys/devices/virtual/net` (lo, bridges, veth, ...).
pub fn virtual_interfaces(roots: &Roots) -> HashSet<String> {
    std::fs::read_dir(roots.sys("devices/virtual/net"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an interface is up (`IFF_UP` in `/sys/class/net/<if>/flags`).
pub fn interface_up(roots: &Roots, buf: &mut FileBuf, name: &str) -> Option<bool> {
    let p = roots.sys("class/net").join(name).join("flags");
    let s = buf.read_str(&p).ok()?;
    let s = s.trim().trim_start_matches("0x");
    u32::from_str_radix(s, 16).ok().map(|f| f & 1 == 1)
}

/// Whether a path's last component is all digits (a `/proc/<pid>` entry).
pub fn is_pid(name: &OsStr) -> bool {
    let b = name.as_encoded_bytes();
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// CPU time counters of one `/proc/stat` line, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

impl CpuTicks {
    pub fn from_procfs(t: &procfs::CpuTime) -> Self {
        CpuTicks {
            user: t.user,
            nice: t.nice,
            system: t.system,
            idle: t.idle,
            iowait: t.iowait.unwrap_or(0),
            irq: t.irq.unwrap_or(0),
            softirq: t.softirq.unwrap_or(0),
            steal: t.steal.unwrap_or(0),
            guest: t.guest.unwrap_or(0),
            guest_nice: t.guest_nice.unwrap_or(0),
        }
    }
    /// user+nice+system+idle+iowait+irq+softirq+steal (guest is already in user and nice).
    pub fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }
}

/// `cpu_total_usage` as the original computes it (gopsutil `cpu.Percent`): busy = everything
/// but idle (iowait counts as busy), over the interval.
pub fn busy_percent(prev: &CpuTicks, cur: &CpuTicks) -> Option<f64> {
    let dt = cur.total().checked_sub(prev.total())? as f64;
    let didle = cur.idle.checked_sub(prev.idle)? as f64;
    if dt <= 0.0 {
        return None;
    }
    Some((100.0 * (dt - didle) / dt).clamp(0.0, 100.0))
}

/// Reads the aggregate `cpu` line and the count of `cpuN` lines of `/proc/stat`.
pub fn read_stat(roots: &Roots, buf: &mut FileBuf) -> Result<procfs::KernelStats, HostError> {
    buf.parse_si(&roots.proc("stat"))
}

/// `used` memory as the original computes it: total − free − buffers − (cached + sreclaimable).
pub fn mem_used(m: &procfs::Meminfo) -> u64 {
    m.mem_total
        .saturating_sub(m.mem_free)
        .saturating_sub(m.buffers)
        .saturating_sub(m.cached + m.s_reclaimable.unwrap_or(0))
}

/// Every input of this module with its default options, as collectors (benchmarks and tests).
pub fn default_collectors() -> Vec<(&'static str, Box<dyn Collect>)> {
    let roots = Roots::from_env();
    vec![
        (
            "cpu",
            Box::new(cpu::CpuCollector::new(
                &cpu::CpuConfig::default(),
                roots.clone(),
            )) as Box<dyn Collect>,
        ),
        (
            "mem",
            Box::new(mem::MemCollector::new(
                &mem::MemConfig::default(),
                roots.clone(),
            )),
        ),
        (
            "swap",
            Box::new(swap::SwapCollector::new(
                &swap::SwapConfig::default(),
                roots.clone(),
            )),
        ),
        (
            "disk",
            Box::new(
                disk::DiskCollector::new(&disk::DiskConfig::default(), roots.clone())
                    .expect("default disk options compile"),
            ),
        ),
        (
            "diskio",
            Box::new(
                diskio::DiskioCollector::new(&diskio::DiskioConfig::default(), roots.clone())
                    .expect("default diskio options compile"),
            ),
        ),
        (
            "net",
            Box::new(
                net::NetCollector::new(&net::NetConfig::default(), roots.clone())
                    .expect("default net options compile"),
            ),
        ),
        (
            "system",
            Box::new(system::SystemCollector::new(
                &system::SystemConfig::default(),
                roots.clone(),
            )),
        ),
        (
            "host_processes",
            Box::new(
                processes::ProcCollector::new(
                    &processes::ProcessesConfig::default(),
                    roots.clone(),
                    processes::Kind::Object,
                )
                .expect("default host_processes options compile"),
            ),
        ),
        (
            "hostobject",
            Box::new(
                hostobject::HostObjectCollector::new(
                    &hostobject::HostObjectConfig::default(),
                    roots,
                )
                .expect("default hostobject options compile"),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests;
