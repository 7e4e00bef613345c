//! One pass over `/proc`: reads every process (skipping those that exit meanwhile), filters
//! them, and builds one point per process — an object with its state, command line, working
//! directory and JSON `message`, or a metric tagged with `pid` and `cmdline`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regex::Regex;
use rustix::fd::OwnedFd;
use rustix::fs::OFlags;

use super::super::{FileBuf, Roots, SoftErrors, add_tags, compile_all, percent, put};
use super::config::ProcessesConfig;
use super::message::message;
use super::parse::{
    container_id, listen_inodes, parse_io, parse_passwd, parse_stat, parse_status, state_word,
};
use super::spec::OBJECT_FIELDS;
use super::{Kind, NAME};
use crate::inputs::{Collect, CollectCtx, InputError};
use crate::point::lp::parse_u64;
use crate::point::{Category, Point, Value};

/// What a process keeps for its lifetime (read once).
#[derive(Debug, Clone)]
struct Fixed {
    cmdline: String,
    container_id: Option<String>,
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
        let si = super::super::system_info();
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

    fn mem_total(&mut self) -> Result<u64, super::super::HostError> {
        let path = self.roots.proc("meminfo");
        let text = self.buf.read_str(&path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| super::super::HostError::parse(&path, "no MemTotal"))
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

#[cfg(test)]
mod tests {
    use super::super::MEASUREMENTS;
    use super::*;
    use crate::config::duration::Dur;
    use crate::inputs::host::tests::ctx;
    use crate::inputs::host::tests::schema_problems;

    #[test]
    fn own_process_is_collected_in_both_forms_with_its_user_name() {
        let cfg = ProcessesConfig {
            min_run_time: Dur::from_secs(0),
            enable_listen_ports: true,
            ..ProcessesConfig::default()
        };
        let ctx = ctx();
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
            let problems = schema_problems(MEASUREMENTS, &pts, &[]);
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
        assert!(c.collect(&ctx()).unwrap().is_empty());
    }
}
