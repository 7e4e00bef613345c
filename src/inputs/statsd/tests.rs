//! The input as a whole: options, and a running instance fed through real sockets.

use std::net::UdpSocket;
use std::time::Duration;

use super::*;
use crate::ingest::testing::stage;
use crate::point::{Point, Value};
use crate::workdir::Workdir;

fn load(text: &str) -> StatsdConfig {
    toml::from_str(text).unwrap()
}

fn issues(c: &StatsdConfig) -> Vec<String> {
    crate::inputs::validation_issues(c)
}

#[test]
fn the_defaults_are_the_originals_sample_and_build() {
    let c = StatsdConfig::default();
    assert!(issues(&c).is_empty(), "{:?}", issues(&c));
    assert_eq!(c.service_address, ":8125");
    assert_eq!(c.protocol, "udp");
    assert_eq!(c.service_unix_address, "/var/run/datakit/statsd.sock");
    assert_eq!(c.percentiles, [50.0, 90.0, 99.0, 99.9, 99.95, 100.0]);
    assert_eq!(c.allowed_pending_messages, 128);
    assert_eq!(c.max_tcp_connections, 250);
    assert!(c.delete_counters && c.delete_gauges && c.delete_sets && c.delete_timings);
    assert!(c.datadog_extensions && c.datadog_distributions);
    assert_eq!(c.interval, Dur::from_secs(10));
    assert!(c.build().is_ok());
}

#[test]
fn bad_options_are_reported() {
    let c = load(
        "protocol = \"sctp\"\nservice_address = \"8125\"\nallowed_pending_messages = 0\n\
         percentile_limit = 0\npercentiles = [50.0, 101.0]\nmetric_mapping = [\"jvm\", \":x\"]\n\
         templates = [\"host.field\"]\ndatadog_extensions = false\n",
    );
    let got = issues(&c);
    let keys: Vec<&str> = got.iter().map(|s| s.split(':').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "protocol",
            "service_address",
            "allowed_pending_messages",
            "percentile_limit",
            "percentiles[1]",
            "metric_mapping[0]",
            "metric_mapping[1]",
            "templates[0]",
            "datadog_distributions",
        ],
        "{got:?}"
    );
    let c = load("service_address = \"\"\nservice_unix_address = \"\"\n");
    assert_eq!(
        issues(&c),
        [
            "service_address: no `service_address` and no `service_unix_address`: this instance receives nothing"
        ]
    );
    let c = load("protocol = \"tcp\"\nmax_tcp_connections = 0\n");
    assert_eq!(issues(&c), ["max_tcp_connections: must be at least 1"]);
}

#[test]
fn the_originals_dead_keys_are_known() {
    for k in ["source", "parse_data_dog_tags", "udp_packet_size"] {
        assert!((ENTRY.compat)(k).is_some(), "{k}");
    }
    assert!((ENTRY.compat)("service_address").is_none());
}

#[test]
fn the_statistics_and_the_docs_agree() {
    let documented: Vec<&str> = FIELDS
        .iter()
        .filter_map(|f| f.name.strip_prefix("<timer>_"))
        .collect();
    let mut want: Vec<&str> = naming::STATISTICS.iter().map(|s| s.1).collect();
    want.push("p<percentile>");
    assert_eq!(documented, want);
}

/// A free UDP port on 127.0.0.1.
fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_tcp() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `config` until `send` is done and the received lines are parsed, then stops it (the
/// last report) and returns the points delivered and the agent's stats.
async fn run_with(
    config: &str,
    send: impl FnOnce() + Send + 'static,
    lines: u64,
) -> (Vec<Point>, Arc<crate::stats::Stats>) {
    let dir = tempfile::tempdir().unwrap();
    let w = Workdir::new(dir.path());
    let st = stage(&w, &[]);
    let (ingest, stats) = (st.ingest.clone(), st.stats.clone());
    let cfg = load(config);
    assert!(issues(&cfg).is_empty(), "{:?}", issues(&cfg));
    let input = cfg.build().unwrap();
    let (trigger, shutdown) = crate::shutdown::Shutdown::new();
    let istats = stats.input("statsd");
    let ctx = InputCtx {
        name: "statsd",
        ingest: ingest.clone(),
        origin: crate::ingest::Origin::new(istats.clone()),
        stats: istats.clone(),
        agent_stats: stats.clone(),
        shutdown,
        workdir: w,
        hostname: "h1".into(),
        routes: crate::inputs::routes::Routes::new(),
    };
    let task = tokio::spawn(input.run(ctx));
    // Until the listeners are up (the receive buffer is set once a socket is bound).
    let counters = istats.receiver(listen::COUNTERS);
    let t0 = Instant::now();
    while counters.values()[listen::C_RCVBUF].1 == 0 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::task::spawn_blocking(send).await.unwrap();
    let t0 = Instant::now();
    while counters.values()[listen::C_LINES].1 < lines && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    trigger.send(true).unwrap();
    task.await.unwrap().unwrap();
    let (points, stats) = st.finish().await;
    (points, stats)
}

fn field(points: &[Point], name: &str, mt: &str, f: &str) -> Option<Value> {
    points
        .iter()
        .find(|p| {
            p.name == name && p.get_tag("metric_type") == Some(mt) && p.get_field(f).is_some()
        })
        .and_then(|p| p.get_field(f).cloned())
}

fn send_udp(port: u16, datagrams: &[&[u8]]) {
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    for d in datagrams {
        c.send_to(d, ("127.0.0.1", port)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_metrics_are_aggregated_and_reported_when_the_input_stops() {
    let port = free_udp();
    let config = format!(
        "service_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"\"\ninterval = \"1m\"\n"
    );
    let (points, stats) = run_with(
        &config,
        move || {
            send_udp(
                port,
                &[
                    b"bar.hits:1|c\nbar.hits:2|c|@0.5\nbar.load:0.5|g\n",
                    b"bar.users:u1|s\nbar.users:u2|s\nbar.users:u1|s",
                    b"api.latency:10|ms|#env:prod\napi.latency:20|ms|#env:prod",
                    b"bad line\nbar.hits:3|c",
                ],
            )
        },
        10,
    )
    .await;
    assert_eq!(
        field(&points, "bar", "counter", "hits"),
        Some(Value::Float(8.0))
    );
    assert_eq!(
        field(&points, "bar", "gauge", "load"),
        Some(Value::Float(0.5))
    );
    assert_eq!(field(&points, "bar", "set", "users"), Some(Value::Int(2)));
    assert_eq!(
        field(&points, "api", "timing", "latency_count"),
        Some(Value::Int(2))
    );
    assert_eq!(
        field(&points, "api", "timing", "latency_mean"),
        Some(Value::Float(15.0))
    );
    assert_eq!(
        field(&points, "api", "timing", "latency_p50"),
        Some(Value::Float(20.0))
    );
    let api = points.iter().find(|p| p.name == "api").unwrap();
    assert_eq!(api.get_tag("env"), Some("prod"));
    assert_eq!(api.get_tag("host"), Some("h1"), "the global host tags");
    let i = stats.find_input("statsd").unwrap();
    assert_eq!(i.drops.get(Category::Metric, DropReason::Invalid), 1);
    let (_, err) = i.last_error().unwrap();
    assert!(
        err.contains("UDP datagram from 127.0.0.1:")
            && err.contains(
                "(21 bytes), line 1, byte 8: no `:` between the name and a value: `bad line`"
            ),
        "{err}"
    );
    let values = i.receiver_values();
    assert_eq!(values[listen::C_DATAGRAMS], ("datagrams", 4));
    assert_eq!(values[listen::C_LINES], ("lines", 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_unix_sockets_are_read_too() {
    let port = free_tcp();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("statsd.sock");
    let config = format!(
        "protocol = \"tcp\"\nservice_address = \"127.0.0.1:{port}\"\nservice_unix_address = \"{}\"\ninterval = \"1m\"\n",
        sock.display()
    );
    let sock2 = sock.clone();
    let (points, stats) = run_with(
        &config,
        move || {
            use std::io::Write;
            // The TCP listener may come up after the Unix one.
            let t0 = Instant::now();
            let mut c = loop {
                match std::net::TcpStream::connect(("127.0.0.1", port)) {
                    Ok(c) => break c,
                    Err(e) if t0.elapsed() > Duration::from_secs(5) => panic!("{e}"),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            };
            c.write_all(b"q.depth:4|g\nq.depth:+2|g\nq.x:1|zz\n")
                .unwrap();
            c.write_all(b"q.sent:5|c").unwrap();
            drop(c);
            let u = std::os::unix::net::UnixDatagram::unbound().unwrap();
            u.send_to(b"q.sent:1|c\n_e{5,4}:title|text\n_sc|db|0", &sock2)
                .unwrap();
        },
        7,
    )
    .await;
    assert_eq!(
        field(&points, "q", "gauge", "depth"),
        Some(Value::Float(6.0))
    );
    assert_eq!(
        field(&points, "q", "counter", "sent"),
        Some(Value::Float(6.0))
    );
    let i = stats.find_input("statsd").unwrap();
    assert_eq!(i.drops.get(Category::Metric, DropReason::Invalid), 1);
    assert_eq!(i.drops.get(Category::Metric, DropReason::Unsupported), 2);
    let (_, err) = i.last_error().unwrap();
    assert!(
        err.contains("TCP connection from 127.0.0.1:")
            && err.contains(", line 3, byte 31 of the stream: unknown metric type `zz`"),
        "{err}"
    );
    assert!(
        !sock.exists(),
        "the socket file is removed when the input stops"
    );
}

#[test]
fn a_full_queue_drops_the_chunk_counted_by_its_lines() {
    let stats = Arc::new(crate::stats::Stats::new());
    let istats = stats.input("statsd");
    let (tx, _rx) = mpsc::channel(1);
    let shared = Shared {
        queue: tx,
        report: Reporter {
            counters: istats.receiver(listen::COUNTERS),
            stats: istats.clone(),
            agent_stats: stats.clone(),
            name: "statsd",
        },
        allowed_pending: 1,
        read_buffer: 0,
        sockets: Arc::new(Sockets::default()),
    };
    let chunk = |data: &[u8]| Chunk {
        data: data.to_vec(),
        origin: listen::Origin::Datagrams {
            transport: "UDP",
            ends: vec![(data.len(), None)],
        },
    };
    assert!(shared.has_room());
    assert!(shared.offer(chunk(b"a:1|c\n")));
    assert!(
        !shared.has_room(),
        "the reader holds its chunk while the parser is behind"
    );
    assert!(shared.offer(chunk(b"a:1|c\nb:2|c\n\nc:3|c\n")));
    assert_eq!(istats.drops.get(Category::Metric, DropReason::QueueFull), 3);
}
