//! `container` against a real Docker engine (a private `dockerd`, see `support::docker`):
//! the metrics against `docker stats --no-stream`'s own readings, the object list against
//! `docker ps`, containers that stop leaving the list, and `check-config` on the original's
//! keys.

use std::sync::Arc;
use std::time::Duration;

use datakit::inputs::container::{ContainerCollector, ContainerConfig, MEASUREMENT};
use datakit::inputs::{Collect, CollectCtx};
use datakit::point::{Category, Point, Value};

use crate::support::Workdir;
use crate::support::docker::{Dockerd, IMAGE, parse_size};

fn ctx() -> CollectCtx {
    CollectCtx {
        now_ns: datakit::clock::now_ns(),
        agent_stats: Arc::new(datakit::stats::Stats::new()),
        hostname: "node-1".into(),
    }
}

fn collector(d: &Dockerd) -> ContainerCollector {
    ContainerCollector::new(&ContainerConfig {
        endpoints: vec![d.endpoint()],
        ..ContainerConfig::default()
    })
    .unwrap()
}

fn num(p: &Point, k: &str) -> f64 {
    match p.get_field(k) {
        Some(Value::Int(v)) => *v as f64,
        Some(Value::Float(v)) => *v,
        other => panic!("{}: field {k} is {other:?}", p.name),
    }
}

fn of<'a>(pts: &'a [Point], cat: Category, name: &str) -> &'a Point {
    pts.iter()
        .find(|p| {
            p.category == cat && p.name == MEASUREMENT && p.get_tag("container_name") == Some(name)
        })
        .unwrap_or_else(|| panic!("no {cat:?} point for {name} in {pts:#?}"))
}

/// `docker stats --no-stream` by container name: (CPU %, memory bytes, net rx, net tx,
/// block read, block write).
fn docker_stats(d: &Dockerd) -> Vec<(String, [f64; 6])> {
    let out = d.run(&["stats", "--no-stream", "--format", "{{json .}}"]);
    out.lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| j[k].as_str().unwrap().to_string();
            let pair = |k: &str| {
                let v = s(k);
                let (a, b) = v.split_once(" / ").unwrap();
                (parse_size(a), parse_size(b))
            };
            let cpu: f64 = s("CPUPerc").trim_end_matches('%').parse().unwrap();
            let mem = parse_size(s("MemUsage").split(" / ").next().unwrap());
            let (rx, tx) = pair("NetIO");
            let (br, bw) = pair("BlockIO");
            (s("Name"), [cpu, mem, rx, tx, br, bw])
        })
        .collect()
}

#[test]
fn metrics_agree_with_docker_stats_and_objects_with_docker_ps() {
    let d = Dockerd::start();
    // A CPU-bound loop held to half a CPU; 20 MB in a tmpfs under a 64 MiB limit; an idle
    // container with Kubernetes' and other labels.
    let busy = d.start_container("busy", &["--cpus", "0.5"], "while :; do :; done");
    d.start_container(
        "mem",
        &["-m", "64m"],
        "head -c 20000000 /dev/zero > /dev/shm/x; dd if=/dev/zero of=/f bs=1M count=4 2>/dev/null; sync; sleep 100000",
    );
    d.start_container(
        "idle",
        &[
            "--label",
            "io.kubernetes.pod.namespace=prod",
            "--label",
            "io.kubernetes.pod.name=web-0",
            "--label",
            "team=a",
        ],
        "sleep 100000",
    );
    // One that has exited is not listed.
    d.start_container("done", &[], "true");
    std::thread::sleep(Duration::from_secs(2));

    let mut c = collector(&d);
    let first = c.collect(&ctx()).unwrap();
    // The object list: every running container, once, named by its id.
    let objects: Vec<&Point> = first
        .iter()
        .filter(|p| p.category == Category::Object)
        .collect();
    let running = d.run(&["ps", "-q", "--no-trunc"]);
    let mut want: Vec<&str> = running.lines().collect();
    want.sort();
    let mut got: Vec<&str> = objects.iter().map(|p| p.get_tag("name").unwrap()).collect();
    got.sort();
    assert_eq!(got, want, "objects vs docker ps");
    let o = of(&first, Category::Object, "busy");
    assert_eq!(o.get_tag("name"), Some(busy.as_str()));
    assert_eq!(o.get_tag("container_id"), Some(busy.as_str()));
    assert_eq!(o.get_tag("image"), Some(IMAGE));
    assert_eq!(o.get_tag("state"), Some("running"));
    assert_eq!(o.get_tag("container_runtime"), Some("docker"));
    assert_eq!(o.get_tag("container_type"), Some("docker"));
    let version = d.run(&["version", "--format", "{{.Server.Version}}"]);
    assert_eq!(
        o.get_tag("container_runtime_version"),
        Some(version.as_str())
    );
    assert!(
        (0.0..30.0).contains(&num(o, "age")),
        "age {}",
        num(o, "age")
    );
    let Some(Value::Str(msg)) = o.get_field("message") else {
        panic!("no message")
    };
    let m: serde_json::Value = serde_json::from_str(msg).unwrap();
    assert_eq!(m["container_id"], busy.as_str());
    let idle = of(&first, Category::Object, "idle");
    assert_eq!(idle.get_tag("namespace"), Some("prod"));
    assert_eq!(idle.get_tag("pod_name"), Some("web-0"));
    let Some(Value::Str(labels)) = idle.get_field("df_label") else {
        panic!("no df_label")
    };
    assert!(labels.contains("\"team:a\""), "{labels}");
    // First collection: no CPU usage yet (no previous reading).
    assert!(
        of(&first, Category::Metric, "busy")
            .get_field("cpu_usage")
            .is_none()
    );
    // The per-namespace count.
    let k8s = first
        .iter()
        .find(|p| p.name == "kubernetes")
        .expect("kubernetes point");
    assert_eq!(k8s.get_tag("namespace"), Some("prod"));
    assert_eq!(k8s.get_tag("node_name"), Some("node-1"));
    assert_eq!(num(k8s, "container"), 1.0);

    // Ours over 3 s, then docker stats' own reading (over about its last second).
    std::thread::sleep(Duration::from_secs(3));
    c.force_next();
    let second = c.collect(&ctx()).unwrap();
    let theirs = docker_stats(&d);
    assert_eq!(theirs.len(), 3, "{theirs:?}");
    for (name, [cpu, mem, rx, tx, br, bw]) in theirs {
        let p = of(&second, Category::Metric, &name);
        let close = |what: &str, ours: f64, reference: f64, tol: f64| {
            assert!(
                (ours - reference).abs() <= tol,
                "{name} {what}: ours {ours} vs docker stats {reference} (tolerance {tol})"
            );
        };
        // Ours is the average over the 3 s between collections, theirs the engine's last
        // second: on a loaded machine the throttled loop's share moves between them.
        close("cpu_usage", num(p, "cpu_usage"), cpu, 25.0);
        close("mem_usage", num(p, "mem_usage"), mem, (mem * 0.1).max(2e6));
        close("network_bytes_rcvd", num(p, "network_bytes_rcvd"), rx, 1e3);
        close("network_bytes_sent", num(p, "network_bytes_sent"), tx, 1e3);
        let or0 = |k: &str| p.get_field(k).map_or(0.0, |_| num(p, k));
        close(
            "block_read_byte",
            or0("block_read_byte"),
            br,
            (br * 0.05).max(1e4),
        );
        close(
            "block_write_byte",
            or0("block_write_byte"),
            bw,
            (bw * 0.05).max(1e4),
        );
        assert!(num(p, "cpu_numbers") >= 1.0);
    }
    let busy_m = of(&second, Category::Metric, "busy");
    assert_eq!(num(busy_m, "cpu_limit_millicores"), 500.0);
    assert!(
        (25.0..=60.0).contains(&num(busy_m, "cpu_usage")),
        "a loop held to half a CPU: {}",
        num(busy_m, "cpu_usage")
    );
    let mem_m = of(&second, Category::Metric, "mem");
    assert_eq!(num(mem_m, "mem_limit"), 64.0 * 1024.0 * 1024.0);
    assert!(
        num(mem_m, "mem_usage") >= 19e6,
        "{}",
        num(mem_m, "mem_usage")
    );

    // A stopped container leaves the lists.
    d.run(&["rm", "-f", "idle"]);
    c.force_next();
    let third = c.collect(&ctx()).unwrap();
    assert!(
        !third
            .iter()
            .any(|p| p.get_tag("container_name") == Some("idle")),
        "a removed container is still listed"
    );
    assert!(!third.iter().any(|p| p.name == "kubernetes"));
}

#[test]
fn an_endpoint_that_is_not_docker_is_an_error() {
    let w = Workdir::new();
    // A unix socket that answers something else than the Docker API.
    let sock = w.path().join("not-docker.sock");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            use std::io::{Read, Write};
            let mut s = s;
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
        }
    });
    let mut c = ContainerCollector::new(&ContainerConfig {
        endpoints: vec![format!("unix://{}", sock.display())],
        ..ContainerConfig::default()
    })
    .unwrap();
    let err = c.collect(&ctx()).unwrap_err();
    assert!(err.contains("/version") && err.contains("404"), "{err}");
}

#[test]
fn check_config_names_the_originals_unsupported_keys() {
    let w = Workdir::new();
    w.write(
        "conf.d/container.conf",
        r#"
[inputs.container]
  endpoints = ["unix:///var/run/docker.sock", "unix:///var/run/containerd/containerd.sock"]
  enable_pod_metric = true
  logging_max_open_files = 10
  containerd_address = "/run/containerd/containerd.sock"
  metric_collect_interval = "60s"
"#,
    );
    let out = w.cmd(&["check-config"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for key in [
        "enable_pod_metric",
        "logging_max_open_files",
        "containerd_address",
    ] {
        assert!(
            text.contains(&format!("`inputs.container.{key}` has no effect")),
            "{key} not reported:\n{text}"
        );
    }
    assert!(text.contains("containerd or CRI-O"), "{text}");
}

/// datakit.conf sending to `dw` with fast batching; protect mode off so the container search
/// can run every second.
fn main_conf(dw: &crate::support::dataway::FakeDataway) -> String {
    format!(
        "default_enabled_inputs = []\nprotect_mode = false\n\
         [dataway]\n  urls = [\"{}\"]\n  retry_delay = \"100ms\"\n\
         [io]\n  flush_interval = \"100ms\"\n  max_cache_count = 500\n",
        dw.url()
    )
}

fn message(p: &crate::support::dataway::Received) -> String {
    match p.fields.get("message") {
        Some(crate::support::dataway::Val::S(s)) => s.clone(),
        other => panic!("message is {other:?}"),
    }
}

/// The numbers of the `<prefix>-<n>` messages of measurement `name`, sorted (repeats kept).
fn numbers(dw: &crate::support::dataway::FakeDataway, name: &str, prefix: &str) -> Vec<u64> {
    let mut v: Vec<u64> = dw
        .points_named(name)
        .iter()
        .filter_map(|p| message(p).strip_prefix(prefix)?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// Every number of 1..=n exactly once (at most `repeats` repeated).
fn complete(got: &[u64], n: u64, repeats: usize, what: &str) {
    let mut uniq = got.to_vec();
    uniq.dedup();
    let missing: Vec<u64> = (1..=n).filter(|i| uniq.binary_search(i).is_err()).collect();
    assert!(
        missing.is_empty(),
        "{what}: {} missing of {n}, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        got.len() - uniq.len() <= repeats,
        "{what}: {} repeats (at most {repeats})",
        got.len() - uniq.len()
    );
}

#[test]
fn container_logs_arrive_complete_across_rotation_restart_and_removal() {
    use crate::support::dataway::FakeDataway;
    use crate::support::{Agent, Workdir};
    let d = Dockerd::start();
    let dw = FakeDataway::start("tkn_x");
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/container.conf",
        &format!(
            "[[inputs.container]]\n  endpoints = [\"{}\"]\n  logging_search_interval = \"1s\"\n  \
             object_collect_interval = \"5m\"\n  enable_container_metric = false\n  \
             [inputs.container.tags]\n    env = \"test\"\n",
            d.endpoint()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();

    // Numbered lines through several json-file rotations; a stack trace; a 40 000-byte line
    // (the engine cuts it in 16 KiB pieces); a slow writer for the restart.
    let rot = d.start_container(
        "rot",
        &["--log-opt", "max-size=40k", "--log-opt", "max-file=20"],
        "sleep 1; for i in $(seq 1 3000); do echo rot-$i; done; sleep 100000",
    );
    d.start_container(
        "ml",
        &[],
        "printf '2024-05-01 10:00:01,002 ERROR boom\\njava.lang.IllegalStateException: x\\n\\tat a.B(B.java:1)\\n2024-05-01 10:00:02,000 INFO done\\n'; sleep 100000",
    );
    d.start_container("long", &[], "printf '%040000d\\n' 7; sleep 100000");
    d.start_container(
        "slow",
        &[],
        "i=0; while :; do i=$((i+1)); echo slow-$i; sleep 0.02; done",
    );
    dw.wait_for(Duration::from_secs(60), "3000 rot lines", |p| {
        p.iter().filter(|p| p.name == "rot").count() >= 3000
    });
    let r = &dw.points_named("rot")[0];
    assert_eq!(r.tags.get("container_id"), Some(&rot));
    assert_eq!(
        r.tags.get("container_name").map(String::as_str),
        Some("rot")
    );
    assert_eq!(r.tags.get("image").map(String::as_str), Some(IMAGE));
    assert_eq!(r.tags.get("service").map(String::as_str), Some("rot"));
    assert_eq!(r.tags.get("env").map(String::as_str), Some("test"));
    let rotated = std::fs::read_dir(d.log_dir(&rot))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().contains("-json.log."))
        })
        .count();
    assert!(rotated >= 2, "the engine rotated the log {rotated} times");
    complete(&numbers(&dw, "rot", "rot-"), 3000, 0, "rotated log");

    dw.wait_for(
        Duration::from_secs(30),
        "ml records and the long line",
        |p| p.iter().filter(|p| p.name == "ml").count() >= 2 && p.iter().any(|p| p.name == "long"),
    );
    let ml: Vec<String> = dw.points_named("ml").iter().map(message).collect();
    assert_eq!(ml.len(), 2, "{ml:#?}");
    assert_eq!(ml[0].lines().count(), 3, "{:?}", ml[0]);
    assert_eq!(ml[1], "2024-05-01 10:00:02,000 INFO done");
    let long: Vec<String> = dw.points_named("long").iter().map(message).collect();
    assert_eq!(long.len(), 1);
    assert_eq!(long[0].len(), 40_000);

    // The agent stops and starts again: the slow writer's lines continue where they stopped.
    dw.wait_for(Duration::from_secs(30), "slow lines", |p| {
        p.iter().filter(|p| p.name == "slow").count() >= 50
    });
    assert_eq!(a.stop(), Some(0));
    std::thread::sleep(Duration::from_secs(2));
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    std::thread::sleep(Duration::from_secs(2));
    d.run(&["kill", "slow"]);
    let last = d.run(&["logs", "slow"]);
    let n: u64 = last
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("slow-"))
        .unwrap()
        .parse()
        .unwrap();
    dw.wait_for(Duration::from_secs(30), "every slow line", |_| {
        numbers(&dw, "slow", "slow-")
            .last()
            .is_some_and(|&l| l >= n)
    });
    // A clean stop saves the acknowledged positions: nothing lost, nothing repeated.
    complete(
        &numbers(&dw, "slow", "slow-"),
        n,
        0,
        "across an agent restart",
    );

    // A container removed while its log is being read: what it wrote still arrives. The
    // agent is paused (SIGSTOP) while the container writes and is removed.
    d.start_container(
        "gone",
        &[],
        "echo gone-0; sleep 2; for i in $(seq 1 2000); do echo gone-$i; done; sleep 100000",
    );
    dw.wait_for(Duration::from_secs(30), "gone-0", |p| {
        p.iter().any(|p| p.name == "gone")
    });
    a.signal(rustix::process::Signal::STOP);
    let t0 = std::time::Instant::now();
    while d.run(&["logs", "gone"]).lines().count() < 2001 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the container did not write"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d.run(&["rm", "-f", "gone"]);
    a.signal(rustix::process::Signal::CONT);
    dw.wait_for(Duration::from_secs(30), "every gone line", |p| {
        p.iter().filter(|p| p.name == "gone").count() >= 2001
    });
    let mut got = numbers(&dw, "gone", "gone-");
    got.retain(|&n| n > 0);
    complete(&got, 2000, 0, "a removed container");
    assert_eq!(a.stop(), Some(0));
}
