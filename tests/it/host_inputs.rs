//! Host inputs: their values against Debian's `prometheus-node-exporter` and simpler tools
//! (`free`, `df`, `/proc/loadavg`) scraped in the same test; bad options in `check-config`;
//! the daemon running them by default.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datakit::inputs::{Collect, CollectCtx};
use datakit::point::{Point, Value};
use serde_json::Value as Json;

use crate::support::prom::Scrape;
use crate::support::servers::{http_get, node_exporter_for_host_inputs};
use crate::support::{Agent, Workdir};

fn ctx() -> CollectCtx {
    CollectCtx {
        now_ns: datakit::clock::now_ns(),
        agent_stats: Arc::new(datakit::stats::Stats::new()),
        hostname: "truth".into(),
    }
}

fn num(p: &Point, k: &str) -> f64 {
    match p.get_field(k) {
        Some(Value::Int(v)) => *v as f64,
        Some(Value::Uint(v)) => *v as f64,
        Some(Value::Float(v)) => *v,
        other => panic!("{}: field {k} is {other:?}", p.name),
    }
}

fn find<'a>(pts: &'a [Point], name: &str, tag: Option<(&str, &str)>) -> &'a Point {
    pts.iter()
        .find(|p| p.name == name && tag.is_none_or(|(k, v)| p.get_tag(k) == Some(v)))
        .unwrap_or_else(|| panic!("no {name} point with {tag:?} in {pts:#?}"))
}

/// `|a − b| ≤ tol`, with a message naming the value.
fn close(what: &str, ours: f64, theirs: f64, tol: f64) {
    assert!(
        (ours - theirs).abs() <= tol,
        "{what}: ours {ours} vs reference {theirs} (tolerance {tol})"
    );
}

struct Collectors(Vec<(&'static str, Box<dyn Collect>)>);

impl Collectors {
    fn all() -> Self {
        Collectors(datakit::inputs::host::default_collectors())
    }
    /// One collection of every input: name → points.
    fn collect(&mut self, ctx: &CollectCtx) -> BTreeMap<&'static str, Vec<Point>> {
        self.0
            .iter_mut()
            .map(|(n, c)| (*n, c.collect(ctx).unwrap_or_else(|e| panic!("{n}: {e}"))))
            .collect()
    }
}

fn scrape(base: &str) -> Scrape {
    let (status, body) = http_get(&format!("{base}/metrics")).expect("node-exporter answers");
    assert_eq!(status, 200);
    Scrape::parse(&body)
}

#[test]
fn values_agree_with_node_exporter_free_df_and_loadavg() {
    let ne = node_exporter_for_host_inputs();
    let mut cs = Collectors::all();
    let c = ctx();
    // Ours and theirs back to back, twice, so the CPU windows nearly coincide.
    cs.collect(&c);
    let ne0 = scrape(&ne.base());
    std::thread::sleep(Duration::from_secs(3));
    let ours = cs.collect(&c);
    let ne1 = scrape(&ne.base());

    // CPU: the share of each mode over the window, from node-exporter's seconds.
    let cpu = find(&ours["cpu"], "cpu", Some(("cpu", "cpu-total")));
    let secs = |s: &Scrape, mode: &str| s.sum("node_cpu_seconds_total", &[("mode", mode)]);
    let modes = [
        "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
    ];
    let total: f64 = modes.iter().map(|m| secs(&ne1, m) - secs(&ne0, m)).sum();
    assert!(total > 0.0);
    for (mode, field) in [
        ("idle", "usage_idle"),
        ("user", "usage_user"),
        ("system", "usage_system"),
    ] {
        let theirs = 100.0 * (secs(&ne1, mode) - secs(&ne0, mode)) / total;
        // Two readers 1-2 ms apart on a busy 2-core machine: a few points of difference.
        close(&format!("cpu {field}"), num(cpu, field), theirs, 8.0);
    }

    // Memory: equal totals; moving values within 256 MiB.
    let mem = find(&ours["mem"], "mem", None);
    let nm = |k: &str| ne1.get(&format!("node_memory_{k}_bytes"), &[]).unwrap();
    close("mem total", num(mem, "total"), nm("MemTotal"), 0.0);
    let mib = 1024.0 * 1024.0;
    close("mem free", num(mem, "free"), nm("MemFree"), 256.0 * mib);
    close(
        "mem available",
        num(mem, "available"),
        nm("MemAvailable"),
        256.0 * mib,
    );
    let used = nm("MemTotal") - nm("MemFree") - nm("Buffers") - nm("Cached") - nm("SReclaimable");
    close("mem used", num(mem, "used"), used, 256.0 * mib);
    let swap = find(&ours["swap"], "swap", None);
    close("swap total", num(swap, "total"), nm("SwapTotal"), 0.0);

    // File systems: the size is exact, free space moves with the other builds on this disk.
    let root = find(&ours["disk"], "disk", Some(("mount_point", "/")));
    let fs = |k: &str| ne1.get(k, &[("mountpoint", "/")]).unwrap();
    close(
        "disk / total",
        num(root, "total"),
        fs("node_filesystem_size_bytes"),
        0.0,
    );
    close(
        "disk / free",
        num(root, "free"),
        fs("node_filesystem_avail_bytes"),
        512.0 * mib,
    );
    let used = fs("node_filesystem_size_bytes") - fs("node_filesystem_free_bytes");
    close("disk / used", num(root, "used"), used, 512.0 * mib);

    // Network counters of every interface both list.
    let mut compared = 0;
    for p in ours["net"]
        .iter()
        .filter(|p| p.get_tag("interface") != Some("all"))
    {
        let dev = p.get_tag("interface").unwrap();
        let Some(rx) = ne1.get("node_network_receive_bytes_total", &[("device", dev)]) else {
            continue;
        };
        close(
            &format!("{dev} bytes_recv"),
            num(p, "bytes_recv"),
            rx,
            1024.0 * 1024.0,
        );
        let tx = ne1
            .get("node_network_transmit_bytes_total", &[("device", dev)])
            .unwrap();
        close(
            &format!("{dev} bytes_sent"),
            num(p, "bytes_sent"),
            tx,
            1024.0 * 1024.0,
        );
        let pk = ne1
            .get("node_network_receive_packets_total", &[("device", dev)])
            .unwrap();
        close(
            &format!("{dev} packets_recv"),
            num(p, "packets_recv"),
            pk,
            1000.0,
        );
        compared += 1;
    }
    assert!(compared > 0, "no interface in common: {:?}", ours["net"]);
    let all = find(&ours["net"], "net", Some(("interface", "all")));
    let estab = ne1.get("node_netstat_Tcp_CurrEstab", &[]).unwrap();
    close("tcp_currestab", num(all, "tcp_currestab"), estab, 20.0);

    // Disk counters.
    let mut compared = 0;
    for p in &ours["diskio"] {
        let dev = p.get_tag("name").unwrap();
        let Some(reads) = ne1.get("node_disk_reads_completed_total", &[("device", dev)]) else {
            continue;
        };
        close(
            &format!("{dev} reads"),
            num(p, "reads"),
            reads,
            100.0 + reads * 0.01,
        );
        let rb = ne1
            .get("node_disk_read_bytes_total", &[("device", dev)])
            .unwrap();
        close(
            &format!("{dev} read_bytes"),
            num(p, "read_bytes"),
            rb,
            64.0 * mib + rb * 0.01,
        );
        let wb = ne1
            .get("node_disk_written_bytes_total", &[("device", dev)])
            .unwrap();
        close(
            &format!("{dev} write_bytes"),
            num(p, "write_bytes"),
            wb,
            64.0 * mib + wb * 0.01,
        );
        let io = ne1
            .get("node_disk_io_time_seconds_total", &[("device", dev)])
            .unwrap();
        close(
            &format!("{dev} io_time"),
            num(p, "io_time") / 1000.0,
            io,
            5.0 + io * 0.01,
        );
        compared += 1;
    }
    assert!(compared > 0, "no disk in common: {:?}", ours["diskio"]);

    // system, conntrack, filefd.
    let sys = find(&ours["system"], "system", None);
    let n_cpus = ne1
        .all("node_cpu_seconds_total", &[("mode", "idle")])
        .count() as f64;
    close("n_cpus", num(sys, "n_cpus"), n_cpus, 0.0);
    let load1 = ne1.get("node_load1", &[]).unwrap();
    close("load1", num(sys, "load1"), load1, 0.5);
    let boot = ne1.get("node_boot_time_seconds", &[]).unwrap();
    let now = datakit::clock::now_ns() as f64 / 1e9;
    close("uptime", num(sys, "uptime"), now - boot, 5.0);
    let fd = find(&ours["system"], "filefd", None);
    close(
        "filefd allocated",
        num(fd, "allocated"),
        ne1.get("node_filefd_allocated", &[]).unwrap(),
        300.0,
    );
    if let Some(limit) = ne1.get("node_nf_conntrack_entries_limit", &[]) {
        let ct = find(&ours["system"], "conntrack", None);
        close("conntrack limit", num(ct, "entries_limit"), limit, 0.0);
    }

    // Simpler tools: free, df, /proc/loadavg.
    let free = std::process::Command::new("free")
        .arg("-b")
        .output()
        .unwrap();
    let free = String::from_utf8_lossy(&free.stdout).into_owned();
    let mem_line: Vec<f64> = free
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    close("free total", num(mem, "total"), mem_line[0], 0.0);
    let df = std::process::Command::new("df")
        .args(["-B1", "--output=size,avail", "/"])
        .output()
        .unwrap();
    let df = String::from_utf8_lossy(&df.stdout).into_owned();
    let df: Vec<f64> = df
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    close("df size", num(root, "total"), df[0], 0.0);
    close("df avail", num(root, "free"), df[1], 512.0 * mib);
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap();
    let l5: f64 = loadavg.split_whitespace().nth(1).unwrap().parse().unwrap();
    close("load5", num(sys, "load5"), l5, 0.2);
}

#[test]
fn host_object_describes_this_machine() {
    let mut cs = Collectors::all();
    let c = ctx();
    let pts = cs.collect(&c);
    let host = find(&pts["hostobject"], "HOST", None);
    let msg: Json =
        serde_json::from_str(host.get_field("message").unwrap().as_str().unwrap()).unwrap();
    let uname = rustix::system::uname();
    assert_eq!(
        msg["host"]["meta"]["kernel_release"].as_str().unwrap(),
        uname.release().to_str().unwrap()
    );
    assert_eq!(host.get_tag("arch"), uname.machine().to_str().ok());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string());
    if let Some(model) = model {
        assert_eq!(msg["host"]["cpu"][0]["module_name"], Json::String(model));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        msg["host"]["mem"]["memory_total"],
        Json::from(total_kb * 1024)
    );
    assert!(
        msg["host"]["disk"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["mountpoint"] == "/")
    );
    assert_eq!(
        host.get_field("datakit_ver").and_then(|v| v.as_str()),
        Some(datakit::build_info::VERSION)
    );
}

#[test]
fn bad_host_options_are_reported_by_check_config() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "default_enabled_inputs = []\n");
    w.write(
        "conf.d/host.conf",
        "[[inputs.net]]\n  interfaces = [\"eth(\"]\n\
         [[inputs.disk]]\n  only_fstypes = [\"etx4\"]\n  ignore_mountpoints = \"[\"\n\
         [[inputs.cpu]]\n  interval = \"1ms\"\n\
         [[inputs.host_processes]]\n  metric_interval = \"1s\"\n  open_metric = true\n\
         [[inputs.host_processes]]\n  process_name = [\"*x\"]\n\
         [[inputs.diskio]]\n  name_templates = [\"${ID_FS\"]\n",
    );
    let out = w.cmd(&["check-config", "--json"]).output().unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(out.status.code(), Some(0), "{report:#}");
    let diags: Vec<(String, String, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let has = |sev: &str, text: &str, line: u64| {
        assert!(
            diags
                .iter()
                .any(|(s, m, l)| s == sev && m.contains(text) && *l == line),
            "no {sev} `{text}` at line {line}: {diags:#?}"
        );
    };
    has(
        "error",
        "`inputs.net[0].interfaces[0]`: invalid regular expression `eth(`",
        2,
    );
    has(
        "error",
        "unknown file system type `etx4`; did you mean `ext4`?",
        4,
    );
    has(
        "error",
        "`inputs.disk[0].ignore_mountpoints`: invalid regular expression",
        5,
    );
    has(
        "warning",
        "interval 1ms of `cpu` is raised to 1s, the input's minimum",
        7,
    );
    has(
        "warning",
        "metric_interval 1s of `host_processes` is raised to 10s",
        9,
    );
    has(
        "error",
        "`inputs.host_processes[1].process_name[0]`: invalid regular expression",
        12,
    );
    has("error", "unclosed `${` in template", 14);
}

#[test]
fn the_daemon_runs_the_host_inputs_by_default() {
    let w = Workdir::new();
    // Built-in defaults, except faster IO flushes and short host_processes/hostobject intervals
    // are not needed: both emit on their first tick.
    w.write(
        "conf.d/datakit.conf",
        "[io]\n  flush_interval = \"500ms\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    let metric = w.path().join("data/out/metric.lp");
    let object = w.path().join("data/out/object.lp");
    let wanted_metrics = [
        "cpu",
        "mem",
        "swap",
        "disk",
        "diskio",
        "net",
        "system",
        "conntrack",
        "filefd",
    ];
    let wanted_objects = ["HOST", "host_processes"];
    let t0 = Instant::now();
    loop {
        let m = std::fs::read_to_string(&metric).unwrap_or_default();
        let o = std::fs::read_to_string(&object).unwrap_or_default();
        let starts =
            |text: &str, name: &str| text.lines().any(|l| l.starts_with(&format!("{name},")));
        let missing: Vec<&str> = wanted_metrics
            .iter()
            .filter(|n| !starts(&m, n))
            .chain(wanted_objects.iter().filter(|n| !starts(&o, n)))
            .copied()
            .collect();
        if missing.is_empty() {
            // Global host tags reach host points.
            assert!(
                m.lines()
                    .any(|l| l.starts_with("mem,") && l.contains("host=")),
                "{m}"
            );
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "missing {missing:?} after 40 s:\n{}\n{}",
            a.stdout(),
            a.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(a.stop(), Some(0));
}
