//! `host_processes`: one object per process (`host_processes`, category object) every
//! `object_interval`, and optionally one metric point per process every `metric_interval`.
//!
//! Per process it reads `/proc/<pid>/stat` (times, faults, memory, threads, start),
//! `/proc/<pid>/status` (owner, context switches, memory details), `/proc/<pid>/io`, counts
//! `/proc/<pid>/fd` (`open_files`), and for objects reads the `cwd` link. The command line and
//! the container ID (`/proc/<pid>/cgroup`) are read once per process, not every pass.
//! `status` and `io` are scanned for the few keys needed rather than parsed into maps.
//!
//! Fixes against the original:
//! - `username` is the owner's name (from `HOST_ETC/passwd`, else the numeric uid); the
//!   original's inverted check gave `nobody` for every process it could look up;
//! - `enable_open_files` works: `false` skips the `/proc/<pid>/fd` scan (default `true`, what the
//!   original always did);
//! - `process_name` filters objects too, not only metrics;
//! - `metric_interval` is kept in its own range under protect mode ([10s, 1m]) and
//!   `min_run_time` is not clamped.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regex::Regex;
use rustix::fd::OwnedFd;
use rustix::fs::OFlags;

use super::{
    FileBuf, HOST_TAG, Roots, SoftErrors, add_tags, check_interval, check_regexes, check_tags,
    compile_all, field, percent, put, tag,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    IntervalLimits, MeasurementSpec, Validation, entry, run_periodic,
};
use crate::point::lp::parse_u64;
use crate::point::{Category, Point, Value};

const NAME: &str = "host_processes";

/// Protect-mode range of `object_interval`.
pub const OBJECT_LIMITS: IntervalLimits = IntervalLimits {
    min: Duration::from_secs(30),
    max: Duration::from_secs(15 * 60),
};
/// Protect-mode range of `metric_interval`.
pub const METRIC_LIMITS: IntervalLimits = IntervalLimits {
    min: Duration::from_secs(10),
    max: Duration::from_secs(60),
};

config_struct! {
    "Processes as objects (and optionally metrics)."
    pub struct ProcessesConfig {
        "How often the process objects are sent."
        pub object_interval: Dur = Dur::from_secs(300),
        "How often the process metrics are sent (with `open_metric`)."
        pub metric_interval: Dur = Dur::from_secs(30),
        "Regular expressions of the process names to collect (`/proc/<pid>/status` Name); empty: all."
        pub process_name: Vec<String> = Vec::new(),
        "Skip processes that started less than this long ago."
        pub min_run_time: Dur = Dur::from_secs(600),
        "Also send one metric point per process every `metric_interval`."
        pub open_metric: bool = false,
        "Add `listen_ports` to objects: the TCP ports the process listens on."
        pub enable_listen_ports: bool = false,
        "Count each process's open files (`open_files`)."
        pub enable_open_files: bool = true,
        "Only processes that run in a container (with a container ID)."
        pub only_container_processes: bool = false,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

impl InputConfig for ProcessesConfig {
    fn extra_intervals(&mut self) -> Vec<(&'static str, &mut Dur, IntervalLimits)> {
        vec![
            ("object_interval", &mut self.object_interval, OBJECT_LIMITS),
            ("metric_interval", &mut self.metric_interval, METRIC_LIMITS),
        ]
    }
    fn validate(&self, v: &mut Validation) {
        check_interval(v, "object_interval", self.object_interval);
        if self.open_metric {
            check_interval(v, "metric_interval", self.metric_interval);
        }
        check_tags(v, &self.tags);
        check_regexes(v, "process_name", &self.process_name);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let roots = Roots::from_env();
        let metric = if self.open_metric {
            Some(ProcCollector::new(self, roots.clone(), Kind::Metric)?)
        } else {
            None
        };
        Ok(Box::new(ProcessesInput {
            object: ProcCollector::new(self, roots, Kind::Object)?,
            object_interval: self.object_interval.get(),
            metric,
            metric_interval: self.metric_interval.get(),
        }))
    }
}

struct ProcessesInput {
    object: ProcCollector,
    object_interval: Duration,
    metric: Option<ProcCollector>,
    metric_interval: Duration,
}

impl Input for ProcessesInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> crate::inputs::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let s = *self;
            let objects = run_periodic(Box::new(s.object), s.object_interval, ctx.clone());
            match s.metric {
                None => objects.await,
                Some(m) => {
                    let metrics = run_periodic(Box::new(m), s.metric_interval, ctx);
                    tokio::try_join!(objects, metrics).map(|_| ())
                }
            }
        })
    }
}

/// Which form a collector emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Metric,
}

/// What a process keeps for its lifetime (read once).
#[derive(Debug, Clone)]
struct Fixed {
    cmdline: String,
    container_id: Option<String>,
}

/// The fields of `/proc/<pid>/status` used here.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatusLite {
    pub name: String,
    pub uid: Option<u32>,
    pub voluntary_ctxt_switches: Option<u64>,
    pub nonvoluntary_ctxt_switches: Option<u64>,
    /// VmRSS, VmSize, VmHWM, VmData, VmStk, VmLck, VmSwap in bytes.
    pub vm: [Option<u64>; 7],
}

const VM_NAMES: [&str; 7] = ["rss", "vms", "hwm", "data", "stack", "locked", "swap"];

/// `PF_KTHREAD` in the `flags` of `/proc/<pid>/stat`: a kernel thread.
const PF_KTHREAD: u32 = 0x0020_0000;

/// The fields of `/proc/<pid>/stat` used here (numbered as in proc(5)).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatLite {
    /// (2) `comm`, between the first `(` and the last `)`.
    pub comm: String,
    /// (3)
    pub state: char,
    /// (9)
    pub flags: u32,
    /// (10)–(13)
    pub minflt: u64,
    pub cminflt: u64,
    pub majflt: u64,
    pub cmajflt: u64,
    /// (14), (15) in clock ticks.
    pub utime: u64,
    pub stime: u64,
    /// (20)
    pub num_threads: i64,
    /// (22) in clock ticks after boot.
    pub starttime: u64,
    /// (23) in bytes.
    pub vsize: u64,
    /// (24) in pages.
    pub rss: u64,
    /// (42), since Linux 2.6.18.
    pub delayacct_blkio_ticks: Option<u64>,
}

impl StatLite {
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }
}

/// An optionally negative decimal number.
fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.split_first() {
        Some((b'-', rest)) => 0i64.checked_sub_unsigned(parse_u64(rest)?),
        _ => i64::try_from(parse_u64(b)?).ok(),
    }
}

/// `b` without leading and trailing ASCII white space.
fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses `/proc/<pid>/stat` (as procfs's `Stat` does: the command name may hold spaces and
/// parentheses, so the fields start after the last `)`). `None` when a field up to `rss` is
/// missing or not a number.
pub fn parse_stat(b: &[u8]) -> Option<StatLite> {
    let b = trim(b);
    let open = memchr::memchr(b'(', b)?;
    let close = memchr::memrchr(b')', b)?;
    let comm = String::from_utf8_lossy(b.get(open + 1..close)?).into_owned();
    let mut it = b.get(close + 2..)?.split(|c| *c == b' ');
    let state = char::from(*it.next()?.first()?);
    let mut f = [0u64; 25];
    let mut num_threads = 0;
    for (field, slot) in f.iter_mut().enumerate().skip(4) {
        let tok = it.next()?;
        match field {
            9..=15 | 22..=24 => *slot = parse_u64(tok)?,
            20 => num_threads = parse_i64(tok)?,
            _ => {}
        }
    }
    // Fields 25..=41 are not used; 42 is delayacct_blkio_ticks.
    let delayacct_blkio_ticks = match it.nth(42 - 25) {
        Some(t) => Some(parse_u64(t)?),
        None => None,
    };
    Some(StatLite {
        comm,
        state,
        flags: u32::try_from(f[9]).ok()?,
        minflt: f[10],
        cminflt: f[11],
        majflt: f[12],
        cmajflt: f[13],
        utime: f[14],
        stime: f[15],
        num_threads,
        starttime: f[22],
        vsize: f[23],
        rss: f[24],
        delayacct_blkio_ticks,
    })
}

/// The lines of `text` (split at `\n` with memchr).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line)
    })
}

/// Scans `/proc/<pid>/status` for the keys used here (each line `Key:<tab>value`).
pub fn parse_status(text: &[u8]) -> StatusLite {
    let mut s = StatusLite::default();
    for line in lines(text) {
        // Only lines whose key starts with N, U, V, v or n matter: skip the rest unsearched.
        if !matches!(line.first(), Some(b'N' | b'U' | b'V' | b'v' | b'n')) {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (k, v) = (&line[..colon], &line[colon + 1..]);
        let vm = |v: &[u8]| {
            let v = trim(v);
            parse_u64(trim(v.strip_suffix(b"kB").unwrap_or(v))).map(|kb| kb * 1024)
        };
        match k {
            b"Name" => s.name = String::from_utf8_lossy(v).trim().to_string(),
            b"Uid" => {
                s.uid = v
                    .split(u8::is_ascii_whitespace)
                    .find(|t| !t.is_empty())
                    .and_then(parse_u64)
                    .and_then(|u| u32::try_from(u).ok())
            }
            b"voluntary_ctxt_switches" => s.voluntary_ctxt_switches = parse_u64(trim(v)),
            b"nonvoluntary_ctxt_switches" => s.nonvoluntary_ctxt_switches = parse_u64(trim(v)),
            b"VmRSS" => s.vm[0] = vm(v),
            b"VmSize" => s.vm[1] = vm(v),
            b"VmHWM" => s.vm[2] = vm(v),
            b"VmData" => s.vm[3] = vm(v),
            b"VmStk" => s.vm[4] = vm(v),
            b"VmLck" => s.vm[5] = vm(v),
            b"VmSwap" => s.vm[6] = vm(v),
            _ => {}
        }
    }
    s
}

/// `syscr`, `syscw`, `read_bytes`, `write_bytes` of `/proc/<pid>/io`.
pub fn parse_io(text: &[u8]) -> [Option<u64>; 4] {
    let mut out = [None; 4];
    for line in lines(text) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let i = match &line[..colon] {
            b"syscr" => 0,
            b"syscw" => 1,
            b"read_bytes" => 2,
            b"write_bytes" => 3,
            _ => continue,
        };
        out[i] = parse_u64(trim(&line[colon + 1..]));
    }
    out
}

/// The container ID in the first line of `/proc/<pid>/cgroup`: the last path segment, or the
/// `<id>` of `...-<id>.scope`; only 64-character IDs count.
pub fn container_id(cgroup: &str) -> Option<String> {
    let line = cgroup.lines().next()?;
    let path = line.splitn(3, ':').nth(2)?;
    let last = path.rsplit('/').next()?;
    let id = match last.strip_suffix(".scope") {
        Some(s) => s.rsplit('-').next()?,
        None => last,
    };
    (id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.')))
    .then(|| id.to_string())
}

/// The state word of a `stat` state letter, as the original names it.
pub fn state_word(c: char) -> &'static str {
    match c {
        'R' => "running",
        'S' => "sleep",
        'D' | 'U' => "blocked",
        'I' => "idle",
        'T' | 't' => "stop",
        'W' => "wait",
        'L' => "lock",
        'Z' => "zombie",
        _ => "",
    }
}

/// uid → user name from a passwd file.
pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// TCP ports in LISTEN state by socket inode, from `/proc/net/tcp` text.
pub fn listen_inodes(text: &str, out: &mut HashMap<u64, u16>) {
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let port = f[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        if let (Some(port), Ok(inode)) = (port, f[9].parse::<u64>()) {
            out.insert(inode, port);
        }
    }
}

pub struct ProcCollector {
    kind: Kind,
    roots: Roots,
    names: Vec<Regex>,
    min_run: Duration,
    open_files: bool,
    listen_ports: bool,
    only_containers: bool,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    tps: f64,
    page_size: u64,
    btime: Option<u64>,
    users: HashMap<u32, String>,
    users_loaded: Option<Instant>,
    fixed: HashMap<(i32, u64), Fixed>,
    prev: HashMap<(i32, u64), (u64, Instant)>,
    /// Whether the size of `/proc/<pid>/fd` is the number of open files (Linux ≥ 6.2).
    fd_dir_size_counts: bool,
    errors: SoftErrors,
}

impl ProcCollector {
    pub fn new(cfg: &ProcessesConfig, roots: Roots, kind: Kind) -> Result<Self, InputError> {
        let si = super::system_info();
        Ok(ProcCollector {
            kind,
            roots,
            names: compile_all("process_name", &cfg.process_name)?,
            min_run: cfg.min_run_time.get(),
            open_files: cfg.enable_open_files,
            listen_ports: cfg.enable_listen_ports && kind == Kind::Object,
            only_containers: cfg.only_container_processes,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            tps: si.ticks_per_second as f64,
            page_size: si.page_size,
            btime: None,
            users: HashMap::new(),
            users_loaded: None,
            fixed: HashMap::new(),
            prev: HashMap::new(),
            // This process has open files, so a size of 0 means the kernel does not count.
            fd_dir_size_counts: rustix::fs::stat("/proc/self/fd").is_ok_and(|s| s.st_size > 0),
            errors: SoftErrors::default(),
        })
    }

    fn username(&mut self, uid: u32) -> String {
        if !self.users.contains_key(&uid)
            && self
                .users_loaded
                .is_none_or(|t| t.elapsed() > Duration::from_secs(60))
        {
            self.users_loaded = Some(Instant::now());
            if let Ok(text) = self.buf.read_str(&self.roots.etc.join("passwd")) {
                self.users = parse_passwd(text);
            }
        }
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    fn fixed(&mut self, fd: &OwnedFd, dir: &Path, key: (i32, u64)) -> Fixed {
        if let Some(f) = self.fixed.get(&key) {
            return f.clone();
        }
        let cmdline = self
            .buf
            .read_at(fd, dir, "cmdline")
            .map(|b| {
                let s: Vec<String> = b
                    .split(|c| *c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                s.join(" ")
            })
            .unwrap_or_default();
        let container_id = self
            .buf
            .read_at(fd, dir, "cgroup")
            .ok()
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(container_id);
        let f = Fixed {
            cmdline,
            container_id,
        };
        self.fixed.insert(key, f.clone());
        f
    }

    /// Open descriptors of a process: the size of `/proc/<pid>/fd` (Linux ≥ 6.2 reports the
    /// count there), else a listing. With `socket_ports`, the listing also collects the ports
    /// of listening sockets.
    fn count_fds(
        &self,
        fd: &OwnedFd,
        dir: &Path,
        socket_ports: Option<(&HashMap<u64, u16>, &mut Vec<u16>)>,
    ) -> Option<i64> {
        if socket_ports.is_none()
            && self.fd_dir_size_counts
            && let Ok(st) = rustix::fs::statat(fd, "fd", rustix::fs::AtFlags::empty())
        {
            return Some(st.st_size);
        }
        let rd = std::fs::read_dir(dir.join("fd")).ok()?;
        let mut n = 0;
        match socket_ports {
            None => n = rd.count() as i64,
            Some((inodes, ports)) => {
                for e in rd.flatten() {
                    n += 1;
                    if let Ok(t) = std::fs::read_link(e.path())
                        && let Some(i) = t
                            .to_str()
                            .and_then(|s| s.strip_prefix("socket:["))
                            .and_then(|s| s.strip_suffix(']'))
                            .and_then(|s| s.parse::<u64>().ok())
                        && let Some(p) = inodes.get(&i)
                        && !ports.contains(p)
                    {
                        ports.push(*p);
                    }
                }
            }
        }
        Some(n)
    }

    fn read_btime(&mut self) -> Result<u64, String> {
        if let Some(b) = self.btime {
            return Ok(b);
        }
        let text = self
            .buf
            .read_str(&self.roots.proc("stat"))
            .map_err(|e| e.to_string())?;
        let b = text
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or("no btime in /proc/stat")?;
        self.btime = Some(b);
        Ok(b)
    }

    fn mem_total(&mut self) -> Result<u64, super::HostError> {
        let path = self.roots.proc("meminfo");
        let text = self.buf.read_str(&path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| super::HostError::parse(&path, "no MemTotal"))
    }

    fn listen_map(&mut self) -> HashMap<u64, u16> {
        let mut m = HashMap::new();
        for f in ["net/tcp", "net/tcp6"] {
            if let Ok(text) = self.buf.read_str(&self.roots.proc(f)) {
                listen_inodes(text, &mut m);
            }
        }
        m
    }
}

impl Collect for ProcCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let btime = self.read_btime()?;
        let mem_total = match self.mem_total() {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.record(ctx, NAME, e);
                None
            }
        };
        let listen = self.listen_ports.then(|| self.listen_map());
        let now = Instant::now();
        let now_unix = ctx.now_ns as f64 / 1e9;
        // One handle on /proc lists it and opens each /proc/<pid> relative to it (no walk
        // from `/` per process).
        let mut proc_dir = rustix::fs::open(
            &self.roots.proc,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .and_then(rustix::fs::Dir::new)
        .map_err(|e| format!("reading {}: {e}", self.roots.proc.display()))?;
        let mut pids: Vec<i32> = Vec::with_capacity(256);
        while let Some(Ok(e)) = proc_dir.read() {
            if let Some(pid) =
                parse_u64(e.file_name().to_bytes()).and_then(|p| i32::try_from(p).ok())
            {
                pids.push(pid);
            }
        }
        pids.sort_unstable();
        let proc_fd = proc_dir
            .fd()
            .map_err(|e| format!("reading {}: {e}", self.roots.proc.display()))?;
        // Kernel threads all share one descriptor table (kthreadd's, itself init_task's):
        // counted once per collection.
        let mut kernel_thread_fds = None;
        let mut pid_buf = itoa::Buffer::new();
        let mut out = Vec::with_capacity(pids.len());
        let mut seen = HashSet::with_capacity(pids.len());
        let mut next_prev = HashMap::with_capacity(pids.len());
        for pid in pids {
            let pid_str = pid_buf.format(pid);
            let dir: PathBuf = self.roots.proc.join(pid_str);
            // A process can exit at any point: every read failure skips it quietly.
            let Ok(fd) = rustix::fs::openat(
                proc_fd,
                pid_str,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            ) else {
                continue;
            };
            let Some(stat) = self
                .buf
                .read_at(&fd, &dir, "stat")
                .ok()
                .and_then(parse_stat)
            else {
                continue;
            };
            let start_secs = btime as f64 + stat.starttime as f64 / self.tps;
            let age = (now_unix - start_secs).max(0.0);
            if age < self.min_run.as_secs_f64() {
                continue;
            }
            let Ok(status) = self.buf.read_at(&fd, &dir, "status").map(parse_status) else {
                continue;
            };
            let name = if status.name.is_empty() {
                stat.comm.clone()
            } else {
                status.name.clone()
            };
            if !self.names.is_empty() && !self.names.iter().any(|r| r.is_match(&name)) {
                continue;
            }
            let key = (pid, stat.starttime);
            let fixed = self.fixed(&fd, &dir, key);
            if self.only_containers && fixed.container_id.is_none() {
                continue;
            }
            if self.kind == Kind::Metric && fixed.cmdline.is_empty() {
                continue;
            }
            seen.insert(key);
            let ticks = stat.utime + stat.stime;
            let cpu_secs = ticks as f64 / self.tps;
            let cpu_usage = if age > 0.0 {
                100.0 * cpu_secs / age
            } else {
                0.0
            };
            let cpu_top = match self.prev.get(&key) {
                Some((t, at)) => {
                    let wall = now.duration_since(*at).as_secs_f64();
                    if wall > 0.0 {
                        100.0 * (ticks.saturating_sub(*t) as f64 / self.tps) / wall
                    } else {
                        cpu_usage
                    }
                }
                None => cpu_usage,
            };
            next_prev.insert(key, (ticks, now));

            let mut p = Point::new(
                match self.kind {
                    Kind::Object => Category::Object,
                    Kind::Metric => Category::Metric,
                },
                NAME,
            );
            // Every tag and field below, so the vectors are allocated once.
            p.tags.reserve(6 + self.tags.len());
            p.fields.reserve(OBJECT_FIELDS.len());
            let user = match status.uid {
                Some(uid) => self.username(uid),
                None => String::new(),
            };
            p.tags.push(("process_name".into(), name.clone()));
            p.tags.push(("username".into(), user));
            if let Some(id) = &fixed.container_id {
                p.tags.push(("container_id".into(), id.clone()));
            }
            let rss = stat.rss * self.page_size;
            put(&mut p, "rss", rss);
            put(&mut p, "vms", stat.vsize);
            if let Some(total) = mem_total {
                put(
                    &mut p,
                    "mem_used_percent",
                    percent(rss as f64, total as f64),
                );
            }
            put(&mut p, "cpu_usage", cpu_usage);
            put(&mut p, "cpu_usage_top", cpu_top);
            put(&mut p, "threads", Value::Int(stat.num_threads));
            let mut ports = Vec::new();
            if self.open_files || listen.is_some() {
                let n = if listen.is_none() && stat.is_kernel_thread() {
                    if kernel_thread_fds.is_none() {
                        kernel_thread_fds = self.count_fds(&fd, &dir, None);
                    }
                    kernel_thread_fds
                } else {
                    let sockets = listen.as_ref().map(|m| (m, &mut ports));
                    self.count_fds(&fd, &dir, sockets)
                };
                if let Some(n) = n
                    && self.open_files
                {
                    put(&mut p, "open_files", Value::Int(n));
                }
            }
            if let Ok(io) = self.buf.read_at(&fd, &dir, "io").map(parse_io) {
                for (k, v) in [
                    "proc_syscr",
                    "proc_syscw",
                    "proc_read_bytes",
                    "proc_write_bytes",
                ]
                .iter()
                .zip(io)
                {
                    if let Some(v) = v {
                        put(&mut p, k, v);
                    }
                }
            }
            if let Some(v) = status.voluntary_ctxt_switches {
                put(&mut p, "voluntary_ctxt_switches", Value::Int(v as i64));
            }
            if let Some(v) = status.nonvoluntary_ctxt_switches {
                put(&mut p, "nonvoluntary_ctxt_switches", Value::Int(v as i64));
            }
            put(&mut p, "page_minor_faults", stat.minflt);
            put(&mut p, "page_major_faults", stat.majflt);
            put(&mut p, "page_children_minor_faults", stat.cminflt);
            put(&mut p, "page_children_major_faults", stat.cmajflt);
            match self.kind {
                Kind::Metric => {
                    p.tags.push(("pid".into(), pid.to_string()));
                    p.tags.push(("cmdline".into(), fixed.cmdline.clone()));
                }
                Kind::Object => {
                    let state = state_word(stat.state);
                    p.tags.push(("state".into(), state.into()));
                    p.tags
                        .push(("name".into(), format!("{}_{pid}", ctx.hostname)));
                    put(&mut p, "pid", Value::Int(i64::from(pid)));
                    let cmdline = if fixed.cmdline.is_empty() {
                        format!("({name})")
                    } else {
                        fixed.cmdline.clone()
                    };
                    put(&mut p, "cmdline", cmdline);
                    put(
                        &mut p,
                        "start_time",
                        Value::Int((start_secs * 1000.0) as i64),
                    );
                    put(&mut p, "started_duration", Value::Int(age as i64));
                    put(&mut p, "state_zombie", stat.state == 'Z');
                    let cwd = rustix::fs::readlinkat(&fd, "cwd", Vec::new())
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    put(&mut p, "work_directory", cwd);
                    if listen.is_some() {
                        ports.sort_unstable();
                        put(
                            &mut p,
                            "listen_ports",
                            serde_json::to_string(&ports).unwrap_or_else(|_| "[]".into()),
                        );
                    }
                    let message = message(&p, &status, &stat, self.tps);
                    put(&mut p, "message", message);
                }
            }
            add_tags(&mut p, &self.tags);
            out.push(p);
        }
        self.prev = next_prev;
        self.fixed.retain(|k, _| seen.contains(k));
        if out.is_empty() && !self.names.is_empty() {
            tracing::debug!(input = NAME, "no process matches `process_name`");
        }
        Ok(out)
    }
}

/// The object's `message`: every tag and field, plus `memory` and `cpu` details, written
/// straight into one string (no intermediate JSON map).
fn message(p: &Point, status: &StatusLite, stat: &StatLite, tps: f64) -> String {
    use std::fmt::Write as _;
    fn key(out: &mut String, k: &str) {
        if out.len() > 1 {
            out.push(',');
        }
        json_escape(out, k);
        out.push(':');
    }
    let mut out = String::with_capacity(1024);
    out.push('{');
    for (k, v) in &p.tags {
        key(&mut out, k);
        json_escape(&mut out, v);
    }
    for (k, v) in &p.fields {
        key(&mut out, k);
        let _ = match v {
            Value::Int(i) => write!(out, "{i}"),
            Value::Uint(u) => write!(out, "{u}"),
            Value::Float(f) if f.is_finite() => write!(out, "{f}"),
            Value::Float(_) => write!(out, "null"),
            Value::Bool(b) => write!(out, "{b}"),
            Value::Str(s) => {
                json_escape(&mut out, s);
                Ok(())
            }
            Value::Bytes(_) => write!(out, "null"),
            Value::Array(_) => write!(out, "{}", v.json_text()),
        };
    }
    key(&mut out, "memory");
    out.push('{');
    for (i, (name, v)) in VM_NAMES.iter().zip(status.vm).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":{}", v.unwrap_or(0));
    }
    out.push('}');
    key(&mut out, "cpu");
    let _ = write!(
        out,
        "{{\"cpu\":\"cpu\",\"user\":{},\"system\":{},\"iowait\":{}}}",
        stat.utime as f64 / tps,
        stat.stime as f64 / tps,
        stat.delayacct_blkio_ticks.unwrap_or(0) as f64 / tps
    );
    out.push('}');
    out
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx`), without an intermediate String.
fn json_escape(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are character boundaries.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

macro_rules! common_fields {
    () => {
        [
            field!("rss", Uint, "digital,B", "Resident memory."),
            field!("vms", Uint, "digital,B", "Virtual memory."),
            field!(
                "mem_used_percent",
                Float,
                "percent,percent",
                "Resident memory in % of the host's memory."
            ),
            field!(
                "cpu_usage",
                Float,
                "percent,percent",
                "Average CPU use since the process started, in % of one core."
            ),
            field!(
                "cpu_usage_top",
                Float,
                "percent,percent",
                "CPU use since the previous collection, in % of one core (as `top` shows it)."
            ),
            field!("threads", Int, "count", "Threads."),
            field!(
                "open_files",
                Int,
                "count",
                "Open file descriptors (with `enable_open_files`)."
            ),
            field!("proc_syscr", Uint, "count", "Read system calls."),
            field!("proc_syscw", Uint, "count", "Write system calls."),
            field!(
                "proc_read_bytes",
                Uint,
                "digital,B",
                "Bytes read from storage."
            ),
            field!(
                "proc_write_bytes",
                Uint,
                "digital,B",
                "Bytes written to storage."
            ),
            field!(
                "voluntary_ctxt_switches",
                Int,
                "count",
                "Voluntary context switches."
            ),
            field!(
                "nonvoluntary_ctxt_switches",
                Int,
                "count",
                "Involuntary context switches."
            ),
            field!("page_minor_faults", Uint, "count", "Minor page faults."),
            field!("page_major_faults", Uint, "count", "Major page faults."),
            field!(
                "page_children_minor_faults",
                Uint,
                "count",
                "Minor page faults of waited-for children."
            ),
            field!(
                "page_children_major_faults",
                Uint,
                "count",
                "Major page faults of waited-for children."
            ),
        ]
    };
}

const METRIC_FIELDS: &[crate::inputs::FieldSpec] = &common_fields!();

const OBJECT_FIELDS: &[crate::inputs::FieldSpec] = &{
    let c = common_fields!();
    let extra = [
        field!("pid", Int, "-", "Process ID."),
        field!(
            "cmdline",
            String,
            "-",
            "Command line; `(<name>)` for kernel threads."
        ),
        field!(
            "start_time",
            Int,
            "timeStamp,msec",
            "When the process started (Unix ms)."
        ),
        field!(
            "started_duration",
            Int,
            "time,s",
            "Time since the process started."
        ),
        field!(
            "state_zombie",
            Bool,
            "-",
            "Whether the process is a zombie."
        ),
        field!("work_directory", String, "-", "Working directory."),
        field!(
            "listen_ports",
            String,
            "-",
            "JSON array of the TCP ports the process listens on (with `enable_listen_ports`)."
        ),
        field!(
            "message",
            String,
            "-",
            "JSON of the whole object with `memory` and `cpu` details."
        ),
    ];
    let mut out = [c[0]; 25];
    let mut i = 0;
    while i < c.len() {
        out[i] = c[i];
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        out[i + j] = extra[j];
        j += 1;
    }
    out
};

const COMMON_TAGS: [crate::inputs::TagSpec; 4] = [
    HOST_TAG,
    tag!("process_name", "Process name (`/proc/<pid>/status` Name)."),
    tag!(
        "username",
        "Owner of the process (user name, else the numeric uid)."
    ),
    tag!(
        "container_id",
        "ID of the container the process runs in, when it runs in one."
    ),
];

const METRIC_TAGS: &[crate::inputs::TagSpec] = &[
    COMMON_TAGS[0],
    COMMON_TAGS[1],
    COMMON_TAGS[2],
    COMMON_TAGS[3],
    tag!("pid", "Process ID."),
    tag!("cmdline", "Command line."),
];

const OBJECT_TAGS: &[crate::inputs::TagSpec] = &[
    COMMON_TAGS[0],
    COMMON_TAGS[1],
    COMMON_TAGS[2],
    COMMON_TAGS[3],
    tag!(
        "state",
        "Process state: running, sleep, blocked, idle, stop, zombie, ..."
    ),
    tag!("name", "Object name: `<host>_<pid>`."),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: NAME,
        category: Category::Metric,
        description: "Resource use of one process (with `open_metric`).",
        tags: METRIC_TAGS,
        fields: METRIC_FIELDS,
    },
    MeasurementSpec {
        name: NAME,
        category: Category::Object,
        description: "One process of the host.",
        tags: OBJECT_TAGS,
        fields: OBJECT_FIELDS,
    },
];

pub const ENTRY: InputEntry = entry::<ProcessesConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Processes of the host as objects (every 5 minutes) and optionally as metrics.",
    singleton: true,
    default_enabled: true,
    interval: None,
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::super::is_pid;
    use super::*;

    #[test]
    fn status_io_cgroup_and_passwd_parse() {
        let st = parse_status(
            b"Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t33\t33\t33\t33\nVmSize:\t  10000 kB\nVmRSS:\t    2000 kB\nvoluntary_ctxt_switches:\t150\nnonvoluntary_ctxt_switches:\t7\n",
        );
        assert_eq!(st.name, "nginx");
        assert_eq!(st.uid, Some(33));
        assert_eq!(st.vm[0], Some(2000 * 1024));
        assert_eq!(st.vm[1], Some(10000 * 1024));
        assert_eq!(st.voluntary_ctxt_switches, Some(150));
        assert_eq!(
            parse_io(b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n"),
            [Some(3), Some(4), Some(5), Some(6)]
        );
        let id = "a".repeat(64);
        assert_eq!(
            container_id(&format!("0::/system.slice/docker-{id}.scope\n")),
            Some(id.clone())
        );
        assert_eq!(container_id(&format!("12:pids:/docker/{id}\n")), Some(id));
        assert_eq!(container_id("0::/user.slice/session-1.scope\n"), None);
        let users = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
        );
        assert_eq!(users[&33], "www-data");
        assert_eq!(state_word('D'), "blocked");
    }

    /// The former `&str` scanner of `status`, the reference for the byte scanner.
    fn parse_status_reference(text: &str) -> StatusLite {
        const VM_KEYS: [&str; 7] = [
            "VmRSS", "VmSize", "VmHWM", "VmData", "VmStk", "VmLck", "VmSwap",
        ];
        let mut s = StatusLite::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "Name" => s.name = v.to_string(),
                "Uid" => s.uid = v.split_whitespace().next().and_then(|u| u.parse().ok()),
                "voluntary_ctxt_switches" => s.voluntary_ctxt_switches = v.parse().ok(),
                "nonvoluntary_ctxt_switches" => s.nonvoluntary_ctxt_switches = v.parse().ok(),
                _ => {
                    if let Some(i) = VM_KEYS.iter().position(|x| x == &k) {
                        s.vm[i] = v
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<u64>()
                            .ok()
                            .map(|kb| kb * 1024);
                    }
                }
            }
        }
        s
    }

    #[test]
    fn stat_parser_agrees_with_procfs() {
        use procfs::FromRead;
        let mut lines = vec![
            b"1 (a) b) c) S 0 1 1 0 -1 4194560 10 20 30 40 50 60 1 2 20 0 7 0 99 1000 5 1 1 1 1 1 1 1 1 1 1 1 1 1 17 0".to_vec(),
            b"42 (x y) R 1 42 42 0 -1 2097216 1 2 3 4 5 6 7 8 20 0 1 0 12 0 0 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 77 0 0\n".to_vec(),
        ];
        let mut kernel_threads = 0;
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if is_pid(&e.file_name())
                && let Ok(b) = std::fs::read(e.path().join("stat"))
            {
                kernel_threads += usize::from(parse_stat(&b).is_some_and(|s| s.is_kernel_thread()));
                lines.push(b);
            }
        }
        assert!(kernel_threads > 0, "kthreadd at least");
        for b in lines {
            let r = procfs::process::Stat::from_read(&b[..]).unwrap();
            let s = parse_stat(&b).unwrap();
            let text = String::from_utf8_lossy(&b);
            assert_eq!(s.comm, r.comm, "{text}");
            assert_eq!(
                (s.state, s.flags, s.minflt, s.cminflt, s.majflt, s.cmajflt),
                (r.state, r.flags, r.minflt, r.cminflt, r.majflt, r.cmajflt),
                "{text}"
            );
            assert_eq!(
                (s.utime, s.stime, s.num_threads, s.starttime, s.vsize, s.rss),
                (r.utime, r.stime, r.num_threads, r.starttime, r.vsize, r.rss),
                "{text}"
            );
            assert_eq!(s.delayacct_blkio_ticks, r.delayacct_blkio_ticks, "{text}");
        }
        for bad in [
            &b""[..],
            b"1 (x",
            b"1 (x) S 1 2",
            b"1 (x) S 1 1 1 0 -1 z 1 2 3 4 5 6 7 8 20 0 1 0 12 0 0",
        ] {
            assert_eq!(parse_stat(bad), None);
        }
    }

    #[test]
    fn status_and_io_scanners_agree_with_the_str_scanners() {
        let mut n = 0;
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if !is_pid(&e.file_name()) {
                continue;
            }
            if let Ok(b) = std::fs::read(e.path().join("status")) {
                assert_eq!(
                    parse_status(&b),
                    parse_status_reference(&String::from_utf8_lossy(&b))
                );
                n += 1;
            }
            if let Ok(b) = std::fs::read(e.path().join("io")) {
                let text = String::from_utf8_lossy(&b);
                let mut want = [None; 4];
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once(':')
                        && let Some(i) = ["syscr", "syscw", "read_bytes", "write_bytes"]
                            .iter()
                            .position(|x| *x == k)
                    {
                        want[i] = v.trim().parse().ok();
                    }
                }
                assert_eq!(parse_io(&b), want);
            }
        }
        assert!(n > 0);
        let odd = "Name:\tweird \\n name\u{fffd}\nUid:\t12\t12\nVmRSS:\t  12 kB\nVmSwap:\tx kB\nvoluntary_ctxt_switches:\t9\r\n";
        let mut bytes = odd.as_bytes().to_vec();
        bytes.extend_from_slice(b"Name:\t\xff\xfeab\n");
        assert_eq!(
            parse_status(&bytes),
            parse_status_reference(&String::from_utf8_lossy(&bytes))
        );
    }

    #[test]
    fn json_escape_matches_serde_json() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("é✓\u{10ffff}\u{7f}");
        for s in [all.as_str(), "", "plain", "a\"b\\c\n", "\u{1}x\u{1f}"] {
            let mut out = String::from("x");
            json_escape(&mut out, s);
            assert_eq!(out[1..], serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn listen_sockets_parse() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:2513 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:2514 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0\n";
        let mut m = HashMap::new();
        listen_inodes(tcp, &mut m);
        assert_eq!(m.len(), 1);
        assert_eq!(m[&12345], 0x2513);
    }

    #[test]
    fn own_process_is_collected_in_both_forms_with_its_user_name() {
        let cfg = ProcessesConfig {
            min_run_time: Dur::from_secs(0),
            enable_listen_ports: true,
            ..ProcessesConfig::default()
        };
        let ctx = super::super::tests::ctx();
        let me = std::process::id() as i64;
        let uid = rustix::process::getuid().as_raw();
        let expected_user = parse_passwd(&std::fs::read_to_string("/etc/passwd").unwrap())
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string());
        for kind in [Kind::Object, Kind::Metric] {
            let mut c = ProcCollector::new(&cfg, Roots::default(), kind).unwrap();
            let pts = c.collect(&ctx).unwrap();
            let mine = pts
                .iter()
                .find(|p| match kind {
                    Kind::Object => p.get_field("pid") == Some(&Value::Int(me)),
                    Kind::Metric => p.get_tag("pid") == Some(&me.to_string()),
                })
                .expect("this test process is listed");
            assert_eq!(mine.get_tag("username"), Some(expected_user.as_str()));
            assert!(matches!(mine.get_field("rss"), Some(Value::Uint(r)) if *r > 0));
            assert!(matches!(mine.get_field("open_files"), Some(Value::Int(n)) if *n >= 3));
            let problems = super::super::schema_problems(MEASUREMENTS, &pts, &[]);
            assert!(problems.is_empty(), "{problems:?}");
            if kind == Kind::Object {
                let msg: serde_json::Value =
                    serde_json::from_str(mine.get_field("message").unwrap().as_str().unwrap())
                        .unwrap();
                assert!(msg["memory"]["rss"].as_u64().unwrap() > 0);
                assert_eq!(msg["pid"], serde_json::json!(me));
            }
        }
    }

    #[test]
    fn filters_apply_to_objects() {
        let cfg = ProcessesConfig {
            process_name: vec!["^no-such-process$".into()],
            min_run_time: Dur::from_secs(0),
            ..ProcessesConfig::default()
        };
        let mut c = ProcCollector::new(&cfg, Roots::default(), Kind::Object).unwrap();
        assert!(c.collect(&super::super::tests::ctx()).unwrap().is_empty());
    }
}
