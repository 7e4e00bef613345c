//! `container`: the CPU one collection (discovery and metrics, and the objects) costs this
//! process with 50 running containers (issue target: ≤ 50 ms of CPU per collection).
//! Run as root: `cargo bench --bench container` (needs Debian's `docker.io` and
//! `busybox-static`, as the tests; it starts a private `dockerd` in a temporary directory and
//! removes it at the end). `CONTAINERS=n` changes the number of containers.
//!
//! `BENCH_ENDPOINT=unix:///path/docker.sock` (with `BENCH_DOCKERD_PID`) measures an engine
//! already running with its containers instead.
//!
//! The figure is this thread's CPU (user + system, the thread CPU-time clock) per collection,
//! over 20 collections; the engine's own CPU for answering them is printed beside it
//! (`/proc/<dockerd>/stat`), for information.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datakit::inputs::container::{ContainerCollector, ContainerConfig};
use datakit::inputs::{Collect, CollectCtx};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const IMAGE: &str = "dkc-busybox:bench";

struct Engine {
    child: Child,
    dir: tempfile::TempDir,
}

impl Engine {
    fn start() -> Engine {
        let dir = tempfile::Builder::new()
            .prefix("dkc-bench-")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let ns = format!("dkcb{}", std::process::id());
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("root"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("docker.pid"))
            .arg("--host")
            .arg(format!("unix://{}", d.join("docker.sock").display()))
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}p")])
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            .args(["--storage-driver", "vfs", "--shutdown-timeout", "1"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd (Debian package docker.io) must be installed; run as root");
        let e = Engine { child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !e.cli(&["version"]).status().is_ok_and(|s| s.success()) {
            assert!(Instant::now() < deadline, "dockerd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        e
    }

    fn endpoint(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_HOST", self.endpoint())
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) {
        let st = self.cli(args).status().unwrap();
        assert!(st.success(), "docker {args:?}");
    }

    fn import(&self) {
        let root = self.dir.path().join("image");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy("/usr/bin/busybox", root.join("bin/busybox")).unwrap();
        for a in ["sh", "sleep"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
        let tar = self.dir.path().join("image.tar");
        let st = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        self.run(&["import", &tar.to_string_lossy(), IMAGE]);
    }

    /// The engine's CPU so far, in seconds.
    fn cpu(&self) -> f64 {
        proc_cpu(self.child.id())
    }
}

/// A process's CPU so far (user + system), in seconds.
fn proc_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime, stime at fields 14 and 15 (1-based): 12 and 13 after the command name.
    // SAFETY: sysconf reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / ticks
}

impl Drop for Engine {
    fn drop(&mut self) {
        let out = Command::new("docker")
            .env("DOCKER_HOST", self.endpoint())
            .args(["ps", "-aq"])
            .output();
        if let Ok(out) = out {
            let ids = String::from_utf8_lossy(&out.stdout).to_string();
            let mut args = vec!["rm", "-f"];
            args.extend(ids.split_whitespace());
            if args.len() > 2 {
                let _ = self.cli(&args).status();
            }
        }
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
    }
}

/// This thread's CPU time (the clock the other benches' `support/thread_cpu.rs` reads).
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn main() {
    // Test runners list and run benchmark targets too (`--list`, no `--bench`): this one
    // starts an engine and 50 containers, so it runs only when asked for.
    let args: Vec<String> = std::env::args().collect();
    let asked =
        args.iter().any(|a| a == "--bench") || std::env::var_os("CONTAINER_BENCH").is_some();
    if args.iter().any(|a| a == "--list") || !asked {
        return;
    }
    if !Path::new("/usr/bin/busybox").exists() {
        panic!("/usr/bin/busybox missing: install Debian's busybox-static");
    }
    let n: usize = std::env::var("CONTAINERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let given = std::env::var("BENCH_ENDPOINT").ok();
    let pid: Option<u32> = std::env::var("BENCH_DOCKERD_PID")
        .ok()
        .and_then(|p| p.parse().ok());
    let e = given.is_none().then(Engine::start);
    let endpoint = given.unwrap_or_else(|| e.as_ref().map(Engine::endpoint).unwrap_or_default());
    let engine_cpu = || match (&e, pid) {
        (Some(e), _) => e.cpu(),
        (None, Some(p)) => proc_cpu(p),
        (None, None) => 0.0,
    };
    for i in (0..n).filter(|_| e.is_some()) {
        let e = e.as_ref().unwrap();
        if i == 0 {
            e.import();
        }
        e.run(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            &format!("c{i}"),
            "--label",
            "bench=1",
            IMAGE,
            "sleep",
            "1000000",
        ]);
    }
    let ctx = CollectCtx {
        now_ns: datakit::clock::now_ns(),
        agent_stats: Arc::new(datakit::stats::Stats::new()),
        hostname: "bench".into(),
    };
    let mut c = ContainerCollector::new(&ContainerConfig {
        endpoints: vec![endpoint],
        ..ContainerConfig::default()
    })
    .unwrap();
    c.force_next();
    let pts = c.collect(&ctx).unwrap();
    let n = pts.len() / 2;
    assert!(n > 0, "no container found");
    const ROUNDS: u32 = 20;
    for (what, objects) in [("metrics", false), ("metrics + objects", true)] {
        let (mut cpu, mut wall, mut engine) = (Duration::ZERO, Duration::ZERO, 0.0);
        for _ in 0..ROUNDS {
            c.force_next();
            if !objects {
                c.objects_not_due();
            }
            let (c0, w0, e0) = (thread_cpu(), Instant::now(), engine_cpu());
            let pts = c.collect(&ctx).unwrap();
            cpu += thread_cpu() - c0;
            wall += w0.elapsed();
            engine += engine_cpu() - e0;
            assert_eq!(pts.len(), if objects { 2 * n } else { n });
        }
        println!(
            "container ({n} containers, {what}): {:.1} ms CPU per collection (ours), {:.0} ms wall, dockerd {:.0} ms CPU",
            cpu.as_secs_f64() * 1e3 / f64::from(ROUNDS),
            wall.as_secs_f64() * 1e3 / f64::from(ROUNDS),
            engine * 1e3 / f64::from(ROUNDS),
        );
    }
}
