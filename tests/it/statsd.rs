//! The `statsd` input end to end: the Python `statsd` and `datadog` (DogStatsD) clients send to
//! a running agent, and the aggregated points are checked at the fake DataWay, value by value;
//! bad input is counted by reason and shown by `datakit monitor`, and nothing else is lost.
//!
//! The clients sample at random (`rate < 1` sends a value only sometimes); each script makes
//! `random()` return 0, so every sampled value is sent and counts `1/rate` times.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::free_port;
use crate::support::{Agent, Workdir, datakit, stdout};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

/// An agent with a `statsd` instance configured by `statsd_conf` (a body for
/// `[[inputs.statsd]]`).
fn agent(dw: &FakeDataway, statsd_conf: &str) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write(
        "conf.d/statsd.conf",
        &format!("[[inputs.statsd]]\n{statsd_conf}\n"),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

fn python(script: &str) {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed (tests/run installs the packages in a virtual environment and puts it on PATH; `tests/run --install-only` prints that PATH):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The agent's `/v1/monitor` snapshot.
fn snapshot(a: &Agent) -> serde_json::Value {
    let out = datakit()
        .args([
            "--color",
            "never",
            "monitor",
            "--json",
            "--to",
            &format!("127.0.0.1:{}", a.port),
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// A receiver counter of the `statsd` input.
fn counter(snap: &serde_json::Value, name: &str) -> u64 {
    snap["inputs"]["statsd"]["receiver"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p[0] == name)
        .and_then(|p| p[1].as_u64())
        .unwrap_or(0)
}

/// Waits until the input has read `lines` lines (blank ones are not lines).
fn wait_lines(a: &Agent, lines: u64) {
    let t0 = Instant::now();
    loop {
        let snap = snapshot(a);
        let got = counter(&snap, "lines");
        if got >= lines {
            assert_eq!(got, lines, "more lines than sent: {snap}");
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{got} of {lines} lines read: {snap}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Points dropped by the input for `reason`.
fn dropped(snap: &serde_json::Value, reason: &str) -> u64 {
    snap["drops"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["origin"] == "statsd" && d["reason"] == reason)
        .filter_map(|d| d["points"].as_u64())
        .sum()
}

/// The one point of `name` with `metric_type` `mt` and tag `key=value` (if given).
fn point<'a>(pts: &'a [Received], name: &str, mt: &str, tag: Option<(&str, &str)>) -> &'a Received {
    let found: Vec<&Received> = pts
        .iter()
        .filter(|p| {
            p.name == name
                && p.tags.get("metric_type").map(String::as_str) == Some(mt)
                && tag.is_none_or(|(k, v)| p.tags.get(k).map(String::as_str) == Some(v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name}/{mt}/{tag:?} in {pts:#?}");
    found[0]
}

fn f(p: &Received, k: &str) -> f64 {
    match p.fields.get(k) {
        Some(Val::F(v)) => *v,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

fn i(p: &Received, k: &str) -> i64 {
    match p.fields.get(k) {
        Some(Val::I(v)) => *v,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

const SAMPLE_ALL: &str = "import random\nrandom.random = lambda: 0.0\n";

#[test]
fn statsd_and_dogstatsd_clients_are_aggregated_as_the_original_names_them() {
    let dw = FakeDataway::start(TOKEN);
    let port = free_port();
    // No report before the stop: the one at the stop holds everything sent.
    let (_w, mut a) = agent(
        &dw,
        &format!(
            "service_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"\"\ninterval = \"1m\"\n"
        ),
    );
    python(&format!(
        r#"{SAMPLE_ALL}
import statsd
c = statsd.StatsClient("127.0.0.1", {port})
c.incr("shop.orders")
c.incr("shop.orders", 4)
c.incr("shop.orders", 2, rate=0.5)
c.decr("shop.orders")
c.gauge("shop.stock", 40)
c.gauge("shop.stock", 2, delta=True)
c.gauge("shop.stock", -5, delta=True)
for u in ["ann", "bob", "ann", "cy"]:
    c.set("shop.visitors", u)
with c.pipeline() as p:
    for v in range(1, 101):
        p.timing("shop.checkout", v)
c.timing("shop.checkout", 1000, rate=0.25)
"#
    ));
    python(&format!(
        r#"{SAMPLE_ALL}
from datadog.dogstatsd import DogStatsd
import datadog.dogstatsd.base as base
base.random = lambda: 0.0
d = DogStatsd(host="127.0.0.1", port={port}, disable_telemetry=True, constant_tags=["app:web"])
d.increment("api.requests", tags=["route:/a", "code:200"])
d.increment("api.requests", 3, tags=["code:200", "route:/a"])
d.increment("api.requests", 2, sample_rate=0.5, tags=["route:/b", "code:500"])
d.gauge("api.queue", 7, tags=["route:/a"])
d.histogram("api.size", 100, tags=["route:/a"])
d.histogram("api.size", 300, tags=["route:/a"])
d.distribution("api.latency", 0.5, tags=["route:/a"])
d.distribution("api.latency", 1.5, tags=["route:/a"])
d.distribution("api.latency", 2.5, tags=["route:/a"])
d.timing("api.db", 12, tags=["flag"])
d.set("api.users", "u1")
d.set("api.users", "u2")
d.set("api.users", "u1")
d.event("Deploy", "version 2 is out", tags=["route:/a"])
d.service_check("api.up", 0, tags=["route:/a"])
d.close_socket()
"#
    ));
    // statsd: 4 + 3 + 4 + 100 + 1 lines; DogStatsD: 15.
    wait_lines(&a, 112 + 15);
    let snap = snapshot(&a);
    assert_eq!(
        dropped(&snap, "unsupported"),
        2,
        "the event and the service check"
    );
    assert_eq!(dropped(&snap, "invalid"), 0, "{snap}");
    assert_eq!(a.stop(), Some(0));
    let pts = dw.points();
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());

    // statsd: `shop.orders` is measurement `shop`, field `orders`.
    let orders = point(&pts, "shop", "counter", None);
    assert_eq!(f(orders, "orders"), 1.0 + 4.0 + 2.0 / 0.5 - 1.0);
    let stock = point(&pts, "shop", "gauge", None);
    assert_eq!(f(stock, "stock"), 40.0 + 2.0 - 5.0);
    assert_eq!(i(point(&pts, "shop", "set", None), "visitors"), 3);
    let t = point(&pts, "shop", "timing", None);
    // 1..=100 once each, and 1000 sampled at 0.25: four times.
    assert_eq!(i(t, "checkout_count"), 104);
    assert_eq!(f(t, "checkout_sum"), 5050.0 + 4000.0);
    assert_eq!(f(t, "checkout_mean"), 9050.0 / 104.0);
    assert_eq!(f(t, "checkout_lower"), 1.0);
    assert_eq!(f(t, "checkout_upper"), 1000.0);
    // The sorted values: 1..=100 then 1000 ×4; the value at index len * p / 100.
    assert_eq!(f(t, "checkout_p50"), 53.0);
    assert_eq!(f(t, "checkout_p90"), 94.0);
    assert_eq!(f(t, "checkout_p99"), 1000.0);
    assert_eq!(f(t, "checkout_p99_9"), 1000.0);
    assert_eq!(f(t, "checkout_p99_95"), 1000.0);
    assert_eq!(f(t, "checkout_p100"), 1000.0);
    let mean = 9050.0 / 104.0;
    let var = ((1..=100)
        .map(|v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        + 4.0 * (1000.0 - mean) * (1000.0 - mean))
        / 104.0;
    assert!((f(t, "checkout_stddev") - var.sqrt()).abs() < 1e-9);
    assert_eq!(t.fields.len(), 6 + 6, "six statistics and six percentiles");

    // DogStatsD: tags in any order are one series; the constant tags are on every point.
    let a200 = point(&pts, "api", "counter", Some(("route", "/a")));
    assert_eq!(f(a200, "requests"), 4.0);
    assert_eq!(a200.tags.get("code").map(String::as_str), Some("200"));
    assert_eq!(a200.tags.get("app").map(String::as_str), Some("web"));
    let b500 = point(&pts, "api", "counter", Some(("route", "/b")));
    assert_eq!(f(b500, "requests"), 4.0);
    assert_eq!(f(point(&pts, "api", "gauge", None), "queue"), 7.0);
    let h = point(&pts, "api", "histogram", None);
    assert_eq!((i(h, "size_count"), f(h, "size_sum")), (2, 400.0));
    assert_eq!((f(h, "size_p50"), f(h, "size_p90")), (300.0, 300.0));
    let d = point(&pts, "api", "distribution", None);
    assert_eq!(i(d, "latency_count"), 3);
    assert_eq!(f(d, "latency_mean"), 1.5);
    assert_eq!(f(d, "latency_p50"), 1.5);
    assert_eq!(f(d, "latency_lower"), 0.5);
    let db = point(&pts, "api", "timing", None);
    assert_eq!(f(db, "db_sum"), 12.0);
    assert_eq!(db.tags.get("flag").map(String::as_str), Some("true"));
    assert_eq!(i(point(&pts, "api", "set", None), "users"), 2);
    for p in &pts {
        assert!(p.tags.contains_key("host"), "global host tags: {p:?}");
        assert_eq!(p.category, "metric");
    }
    let names: std::collections::BTreeSet<&str> = pts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["api", "shop"].into(), "no event, no service check");
}

#[test]
fn reports_come_every_interval_and_the_delete_options_keep_series() {
    let dw = FakeDataway::start(TOKEN);
    let port = free_port();
    let (_w, mut a) = agent(
        &dw,
        &format!(
            "service_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"\"\ninterval = \"1s\"\n\
             delete_counters = false\ndelete_gauges = false\n"
        ),
    );
    let send = |lines: &str| {
        python(&format!(
            r#"
import statsd
c = statsd.StatsClient("127.0.0.1", {port})
with c.pipeline() as p:
{lines}
"#
        ))
    };
    // One datagram each: a report holds all of it or none of it.
    send("    p.incr('w.hits', 2)\n    p.gauge('w.temp', 20)\n    p.incr('x.reset', 1)");
    let first = |pts: &[Received]| {
        pts.iter()
            .filter(|p| p.name == "w" && p.tags["metric_type"] == "counter")
            .count()
    };
    dw.wait_for(Duration::from_secs(10), "the first report", |p| {
        first(p) >= 1
    });
    send("    p.incr('w.hits', 3)");
    dw.wait_for(Duration::from_secs(10), "a report with 5 hits", |p| {
        p.iter()
            .any(|p| p.name == "w" && p.fields.get("hits") == Some(&Val::F(5.0)))
    });
    assert_eq!(a.stop(), Some(0));
    let pts = dw.points();
    let hits: Vec<(i64, f64)> = pts
        .iter()
        .filter(|p| p.name == "w" && p.fields.contains_key("hits"))
        .map(|p| (p.time, f(p, "hits")))
        .collect();
    // Counters keep adding up: 2 until the second datagram, then 5, report after report.
    assert!(hits.len() >= 2, "{hits:?}");
    let mut last = 0.0;
    for w in hits.windows(2) {
        assert!(w[1].0 > w[0].0, "one report per interval: {hits:?}");
    }
    for (_, h) in &hits {
        assert!(*h == 2.0 || *h == 5.0, "{hits:?}");
        assert!(*h >= last, "{hits:?}");
        last = *h;
    }
    // The gauge is reported again with its last value; the other counter is not kept.
    let temps: Vec<f64> = pts
        .iter()
        .filter(|p| p.name == "w" && p.fields.contains_key("temp"))
        .map(|p| f(p, "temp"))
        .collect();
    assert!(
        temps.len() >= 2 && temps.iter().all(|t| *t == 20.0),
        "{temps:?}"
    );
    let resets = pts.iter().filter(|p| p.name == "x").count();
    assert!(
        resets >= 2,
        "delete_counters = false keeps every counter: {resets}"
    );
}

#[test]
fn bad_input_is_counted_by_reason_and_shown_and_the_rest_arrives() {
    let dw = FakeDataway::start(TOKEN);
    let port = free_port();
    let (_w, mut a) = agent(
        &dw,
        &format!(
            "service_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"\"\ninterval = \"1m\"\n"
        ),
    );
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = ("127.0.0.1", port);
    // The largest datagram UDP over IPv4 carries, full of lines: read whole.
    let fill = "big.fill:1|c\n".repeat(65_507 / 13);
    let fill_lines = 65_507 / 13;
    let mut good = 0;
    let send = |d: &[u8]| {
        c.send_to(d, to).unwrap();
    };
    for n in 0..50u32 {
        send(format!("ok.count:1|c|#n:{}", n % 5).as_bytes());
        good += 1;
        match n % 5 {
            0 => send(b"no colon here"),
            1 => send(&[0xff, 0xfe, b'\n', 0x00, 0x80, 0xc3, 0x28]),
            2 => send(b"ok.count:abc|c\nok.count:1|zz"),
            3 => send(b"ok.gauge:+|g"),
            _ => send(fill.as_bytes()),
        }
    }
    // Every bad line is one invalid point: 10 + 20 (the garbage datagram is two lines) +
    // 20 + 10.
    wait_lines(&a, 50 + 10 + 20 + 20 + 10 + 10 * fill_lines as u64);
    let snap = snapshot(&a);
    assert_eq!(dropped(&snap, "invalid"), 60, "{snap}");
    assert_eq!(counter(&snap, "datagrams"), 100);
    assert_eq!(counter(&snap, "kernel_drops"), 0, "{snap}");
    let err = snap["inputs"]["statsd"]["last_error"].to_string();
    assert!(
        err.contains("UDP datagram from 127.0.0.1:") && err.contains(", line "),
        "{err}"
    );
    // `datakit monitor` shows the drops and the receiver's counters.
    let out = datakit()
        .args([
            "--color",
            "never",
            "monitor",
            "--once",
            "--to",
            &format!("127.0.0.1:{}", a.port),
        ])
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    let text = stdout(&out);
    for want in [
        "Receivers",
        "datagrams",
        "kernel_drops",
        "rcvbuf_bytes",
        "invalid",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert_eq!(a.stop(), Some(0));
    let pts = dw.points_named("ok");
    let total: f64 = pts.iter().map(|p| f(p, "count")).sum();
    assert_eq!(total, f64::from(good), "nothing else lost: {pts:?}");
    assert_eq!(pts.len(), 5, "one series per tag value");
    let big = dw.points_named("big");
    assert_eq!(
        f(point(&big, "big", "counter", None), "fill"),
        10.0 * fill_lines as f64
    );
}

#[test]
fn the_tcp_client_is_read_and_connections_are_limited() {
    let dw = FakeDataway::start(TOKEN);
    let port = free_port();
    let (_w, mut a) = agent(
        &dw,
        &format!(
            "protocol = \"tcp\"\nservice_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"\"\n\
             interval = \"1m\"\nmax_tcp_connections = 1\ntcp_keep_alive = true\n"
        ),
    );
    // The listener may take a moment after the API answers.
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no TCP listener");
        std::thread::sleep(Duration::from_millis(50));
    }
    python(&format!(
        r#"
import socket, statsd, time
c = statsd.TCPStatsClient("127.0.0.1", {port})
c.incr("tcp.hits", 2)
c.timing("tcp.rt", 5)
# A second connection while the first is open is closed by the agent.
s = socket.create_connection(("127.0.0.1", {port}))
s.settimeout(5)
assert s.recv(10) == b"", "closed at once"
s.close()
with c.pipeline() as p:
    p.incr("tcp.hits", 3)
    p.gauge("tcp.depth", 9)
c.close()
"#
    ));
    wait_lines(&a, 4);
    let snap = snapshot(&a);
    let err = snap["inputs"]["statsd"]["last_error"].to_string();
    assert!(err.contains("max_tcp_connections"), "{err}");
    assert_eq!(a.stop(), Some(0));
    let pts = dw.points();
    assert_eq!(f(point(&pts, "tcp", "counter", None), "hits"), 5.0);
    assert_eq!(f(point(&pts, "tcp", "gauge", None), "depth"), 9.0);
    assert_eq!(i(point(&pts, "tcp", "timing", None), "rt_count"), 1);
}

#[test]
fn the_unix_socket_and_every_address_of_the_default_listen_and_too_large_datagrams() {
    let dw = FakeDataway::start(TOKEN);
    let port = free_port();
    // `:port` as the default `:8125`: IPv4 and IPv6 clients both reach it.
    let (w, mut a) = agent(
        &dw,
        &format!(
            "service_address = \":{port}\"\nservice_unix_address = \"run/statsd.sock\"\ninterval = \"1m\"\n"
        ),
    );
    let sock = w.path().join("run/statsd.sock");
    let t0 = Instant::now();
    while !sock.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no unix socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    python(&format!(
        r#"
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"uds.big:1|c\n" * 10000, "{0}")
from datadog.dogstatsd import DogStatsd
DogStatsd(socket_path="{0}", disable_telemetry=True).increment("uds.hits", tags=["via:uds"])
import statsd
statsd.StatsClient("127.0.0.1", {port}).incr("uds.hits")
try:
    statsd.StatsClient("::1", {port}, ipv6=True).incr("uds.hits")
    v6 = 1
except OSError:
    v6 = 0  # no IPv6 on this host
open("{1}", "w").write(str(v6))
"#,
        sock.display(),
        w.path().join("v6").display()
    ));
    let v6: u64 = std::fs::read_to_string(w.path().join("v6"))
        .unwrap()
        .parse()
        .unwrap();
    wait_lines(&a, 2 + v6);
    // A Unix datagram may be longer than 64 KiB: dropped whole, and counted.
    assert_eq!(dropped(&snapshot(&a), "too_large"), 1);
    assert_eq!(a.stop(), Some(0));
    let pts = dw.points_named("uds");
    assert_eq!(
        f(point(&pts, "uds", "counter", Some(("via", "uds"))), "hits"),
        1.0
    );
    let plain: f64 = pts
        .iter()
        .filter(|p| !p.tags.contains_key("via"))
        .map(|p| f(p, "hits"))
        .sum();
    assert_eq!(plain, 1.0 + v6 as f64);
    assert!(!sock.exists(), "the socket file is removed at the stop");
}
