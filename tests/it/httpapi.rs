//! The HTTP API of a running agent: write endpoints, ping, metrics, monitor, protection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::dataway::FakeDataway;
use crate::support::servers::{http_get, http_post};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn agent_with(dw: &FakeDataway, extra: &str) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n  auto_timestamp_correction = false\n{extra}\n",
            dw.url()
        ),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

/// A request with headers, returning (status, headers, body).
fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Vec<(String, String)>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = agent.run(req.body(body).unwrap()).unwrap();
    let hs = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = resp.status().as_u16();
    (
        status,
        hs,
        resp.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn ping_ntp_and_the_404_page() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    let (s, h, body) = request("GET", &format!("{}/v1/ping", a.api()), &[], vec![]);
    assert_eq!(s, 200);
    let v = json(&body);
    assert_eq!(v["content"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(!v["content"]["host"].as_str().unwrap().is_empty());
    assert!(
        h.iter()
            .any(|(k, v)| k == "x-datakit" && v.starts_with(env!("CARGO_PKG_VERSION")))
    );
    let (s, _, body) = request("GET", &format!("{}/v1/ntp", a.api()), &[], vec![]);
    assert_eq!(s, 200);
    assert!(json(&body)["timestamp_sec"].as_u64().unwrap() > 1_700_000_000);
    let (s, _, body) = request("GET", &format!("{}/nowhere", a.api()), &[], vec![]);
    assert_eq!(s, 404);
    assert!(body.contains("Welcome to DataKit"), "{body}");
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn write_line_protocol_in_every_form() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "[global_host_tags]\n  zone = \"z1\"\n");
    let url = |q: &str| format!("{}/v1/write/metric{q}", a.api());

    // Plain, with seconds precision.
    let (s, _, body) = request(
        "POST",
        &url("?precision=s"),
        &[],
        b"lp,t=plain v=1i 1700000000\n".to_vec(),
    );
    assert_eq!(s, 200, "{body}");
    assert!(body.is_empty(), "empty body on success");
    // Gzip.
    let gz = datakit::io::body::gzip(b"lp,t=gzip v=2i\nlp,t=gzip v=3i\n", 6);
    let (s, _, body) = request("POST", &url(""), &[("Content-Encoding", "gzip")], gz);
    assert_eq!(s, 200, "{body}");
    // Without global tags.
    let (s, _, _) = request(
        "POST",
        &url("?ignore_global_host_tags=1"),
        &[],
        b"lp,t=noglobal v=4i\n".to_vec(),
    );
    assert_eq!(s, 200);
    // JSON.
    let j = br#"[{"measurement":"lp","tags":{"t":"json"},"fields":{"v":5,"s":1.5},"time":1700000000000000000}]"#;
    let (s, _, body) = request(
        "POST",
        &url(""),
        &[("Content-Type", "application/json")],
        j.to_vec(),
    );
    assert_eq!(s, 200, "{body}");
    // Protobuf.
    let mut p = datakit::point::Point::new(datakit::point::Category::Metric, "lp");
    p.set_tag("t", "pb");
    p.set_field("v", datakit::point::Value::Int(6));
    let mut pb = Vec::new();
    datakit::point::pb::pb_append_point(&mut pb, &p);
    let (s, _, body) = request(
        "POST",
        &url(""),
        &[(
            "Content-Type",
            "application/protobuf; proto=com.guance.Point",
        )],
        pb,
    );
    assert_eq!(s, 200, "{body}");

    dw.wait_for(Duration::from_secs(20), "6 written points", |p| {
        p.iter().filter(|p| p.name == "lp").count() >= 6
    });
    let pts = dw.points_named("lp");
    let by_t = |t: &str| {
        pts.iter()
            .find(|p| p.tags.get("t").map(String::as_str) == Some(t))
            .unwrap()
            .clone()
    };
    assert_eq!(by_t("plain").time, 1_700_000_000_000_000_000, "precision=s");
    assert_eq!(
        by_t("plain").tags.get("zone").map(String::as_str),
        Some("z1"),
        "global tags"
    );
    assert!(
        !by_t("noglobal").tags.contains_key("zone"),
        "ignore_global_host_tags"
    );
    assert_eq!(by_t("json").time, 1_700_000_000_000_000_000);
    assert_eq!(by_t("pb").fields.get("v").and_then(|v| v.as_i64()), Some(6));
    assert_eq!(
        pts.iter()
            .filter(|p| p.tags.get("t").map(String::as_str) == Some("gzip"))
            .count(),
        2
    );
    assert_eq!(a.stop(), Some(0));
}

/// Many large writes, in bodies the API reads in one pass and in two: every point arrives once
/// with its own and the global tags, points the checker must fix arrive fixed, and the bodies
/// to DataWay share a few kept-alive connections.
#[test]
fn large_writes_arrive_whole_over_kept_alive_connections() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "[global_host_tags]\n  zone = \"z1\"\n");
    let url = format!("{}/v1/write/metric", a.api());
    let body = |from: usize, n: usize| {
        let mut b = String::new();
        for i in from..from + n {
            match i % 100 {
                // The checker drops a string field of a metric (the point stays).
                1 => b.push_str(&format!(
                    "big,k=v\\ w seq={i}i,s=\"str\" 1700000000000000000\n"
                )),
                // No timestamp: the agent's time.
                2 => b.push_str(&format!("big,k=notime seq={i}i\n")),
                // Its own zone wins over the global one.
                3 => b.push_str(&format!("big,zone=own seq={i}i 1700000000000000000\n")),
                _ => b.push_str(&format!(
                    "big,k=v,host=h{} seq={i}i,f=1.5 1700000000000000000\n",
                    i % 7
                )),
            }
        }
        b.into_bytes()
    };
    let (per, small) = (1_500, 12);
    for r in 0..small {
        let (s, _, msg) = request("POST", &url, &[], body(r * per, per));
        assert_eq!(s, 200, "{msg}");
    }
    // More lines than one pass takes: checked first, then fed in chunks.
    let total = small * per + 9_000;
    let (s, _, msg) = request("POST", &url, &[], body(small * per, 9_000));
    assert_eq!(s, 200, "{msg}");
    dw.wait_for(Duration::from_secs(30), "every written point", |p| {
        p.iter().filter(|p| p.name == "big").count() >= total
    });
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let pts = dw.points_named("big");
    let mut seqs: Vec<i64> = pts
        .iter()
        .map(|p| p.fields["seq"].as_i64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (0..total as i64).collect::<Vec<_>>(),
        "each point once"
    );
    for p in &pts {
        let seq = p.fields["seq"].as_i64().unwrap();
        let zone = p.tags.get("zone").map(String::as_str);
        match seq % 100 {
            1 => {
                assert_eq!(p.tags.get("k").map(String::as_str), Some("v w"));
                assert!(!p.fields.contains_key("s"), "string field dropped");
            }
            2 => assert!(
                p.time > 1_750_000_000_000_000_000,
                "stamped now: {}",
                p.time
            ),
            3 => assert_eq!(zone, Some("own")),
            n => {
                assert_eq!(p.time, 1_700_000_000_000_000_000);
                assert_eq!(zone, Some("z1"), "global tag");
                assert_eq!(
                    p.tags.get("host").map(String::as_str),
                    Some(format!("h{}", seq % 7).as_str()),
                    "a point's own host wins ({n})"
                );
                assert!(p.fields.contains_key("f"));
            }
        }
    }
    // Answers are read to their end, so connections are kept: a few for all the bodies.
    assert!(dw.requests().len() >= 10, "{:?}", dw.requests().len());
    assert!(
        dw.connections() <= 4,
        "{} connections for {} requests",
        dw.connections(),
        dw.requests().len()
    );
}

#[test]
fn bad_bodies_get_errors_that_name_the_line() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    let url = |cat: &str, q: &str| format!("{}/v1/write/{cat}{q}", a.api());
    let body = b"ok1 v=1i\nbad v=1x\nok2 v=2i\n".to_vec();

    // Strict (the default): the whole body is refused, the message names line and column.
    let (s, _, resp) = request("POST", &url("metric", ""), &[], body.clone());
    assert_eq!(s, 400);
    let v = json(&resp);
    assert_eq!(v["error_code"], "datakit.invalidLinePoint");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("unable to parse 'bad v=1x'") && msg.contains("line 2, column"),
        "{msg}"
    );

    // Loose: good lines are kept, bad ones listed.
    let (s, _, resp) = request("POST", &url("metric", "?loose=1"), &[], body);
    assert_eq!(s, 200);
    let v = json(&resp);
    assert_eq!(v["content"]["accepted"], 2);
    assert_eq!(v["content"]["rejected"][0]["line"], 2);
    dw.wait_for(Duration::from_secs(20), "the good lines", |p| {
        p.iter().any(|p| p.name == "ok2")
    });
    assert!(dw.points_named("bad").is_empty());

    // A large body (read in two passes): a bad line near the end refuses all of it...
    let mut big: String = (0..5000).map(|i| format!("big,n=a v={i}i\n")).collect();
    big.push_str("big v=oops\n");
    let (s, _, resp) = request("POST", &url("metric", ""), &[], big.clone().into_bytes());
    assert_eq!(s, 400, "{resp}");
    assert!(
        json(&resp)["message"]
            .as_str()
            .unwrap()
            .contains("line 5001"),
        "{resp}"
    );
    // ...unless loose, which keeps the 5 000 good lines.
    let (s, _, resp) = request("POST", &url("metric", "?loose=1"), &[], big.into_bytes());
    assert_eq!(s, 200);
    assert_eq!(json(&resp)["content"]["accepted"], 5000);
    dw.wait_for(Duration::from_secs(20), "5 000 big points", |p| {
        p.iter().filter(|p| p.name == "big").count() >= 5000
    });
    assert_eq!(
        dw.points_named("big").len(),
        5000,
        "the refused body fed nothing"
    );

    for (cat, q, body, status, code) in [
        (
            "profiling",
            "",
            b"m v=1i".to_vec(),
            400,
            "datakit.invalidCategory",
        ),
        ("metric", "", b"  \n".to_vec(), 400, "datakit.emptyBody"),
        (
            "metric",
            "?precision=x",
            b"m v=1i".to_vec(),
            400,
            "datakit.invalidPrecision",
        ),
        (
            "metric",
            "?strict=1",
            b"m s=\"text\"".to_vec(),
            400,
            "datakit.pointGotWarning",
        ),
        (
            "metric",
            "?encoding=br",
            b"m v=1i".to_vec(),
            400,
            "datakit.decodeBodyFailed",
        ),
    ] {
        let (s, _, resp) = request("POST", &url(cat, q), &[], body);
        assert_eq!(s, status, "{cat}{q}: {resp}");
        assert_eq!(json(&resp)["error_code"], code, "{cat}{q}");
    }
    let (s, _, resp) = request(
        "POST",
        &url("metric", ""),
        &[("Content-Type", "application/json")],
        b"{".to_vec(),
    );
    assert_eq!(
        (s, json(&resp)["error_code"].as_str().unwrap()),
        (400, "datakit.invalidJsonPoint")
    );

    // echo returns the points after checks: the metric rule drops string fields.
    let (s, _, resp) = request(
        "POST",
        &url("metric", "?echo=lp&dry=1&precision=n"),
        &[],
        b"m,host=h s=\"x\",v=1i 1\n".to_vec(),
    );
    assert_eq!(s, 200);
    assert_eq!(resp, "m,host=h v=1i 1\n");
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn influxdb_compatible_endpoints() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    let (s, h, _) = request("GET", &format!("{}/ping", a.api()), &[], vec![]);
    assert_eq!(s, 204);
    assert!(h.iter().any(|(k, _)| k == "x-influxdb-version"));
    let (s, _, _) = request(
        "POST",
        &format!("{}/query?q=CREATE%20DATABASE%20telegraf", a.api()),
        &[],
        vec![],
    );
    assert_eq!(s, 200);
    let (s, _, body) = request(
        "POST",
        &format!("{}/write?db=telegraf&precision=ms", a.api()),
        &[],
        b"v1w,a=b x=1 1700000000000".to_vec(),
    );
    assert_eq!(s, 204, "{body}");
    let (s, _, body) = request(
        "POST",
        &format!("{}/api/v2/write?org=o&bucket=b&precision=s", a.api()),
        &[("Authorization", "Token x")],
        b"v2w,a=b x=2 1700000000".to_vec(),
    );
    assert_eq!(s, 204, "{body}");
    let (s, _, body) = request(
        "POST",
        &format!("{}/write", a.api()),
        &[],
        b"v1w x=".to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("unable to parse"),
        "{body}"
    );
    dw.wait_for(Duration::from_secs(20), "both points", |p| {
        p.iter().any(|p| p.name == "v1w") && p.iter().any(|p| p.name == "v2w")
    });
    assert_eq!(dw.points_named("v1w")[0].time, 1_700_000_000_000_000_000);
    assert_eq!(dw.points_named("v2w")[0].time, 1_700_000_000_000_000_000);
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn metrics_monitor_and_lasterror() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    request(
        "POST",
        &format!("{}/v1/write/metric", a.api()),
        &[],
        b"m v=1i".to_vec(),
    );
    let (s, _, body) = request(
        "POST",
        &format!("{}/v1/lasterror", a.api()),
        &[],
        br#"{"input":"ext","source":"ext-src","err_content":"disk on fire"}"#.to_vec(),
    );
    assert_eq!(s, 200, "{body}");
    let (s, _, _) = request(
        "POST",
        &format!("{}/v1/lasterror", a.api()),
        &[],
        br#"{"input":""}"#.to_vec(),
    );
    assert_eq!(s, 400);

    let (s, h, text) = request("GET", &format!("{}/metrics", a.api()), &[], vec![]);
    assert_eq!(s, 200);
    assert!(
        h.iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain; version=0.0.4"))
    );
    for family in [
        "datakit_uptime_seconds",
        "datakit_io_feed_total",
        "datakit_http_api_total",
        "datakit_mem_stat",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing"
        );
    }
    assert!(
        text.contains(
            "datakit_http_api_total{api=\"/v1/write/metric\",method=\"POST\",status=\"200\"} 1"
        ),
        "{text}"
    );

    let (s, _, body) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    assert_eq!(s, 200);
    let v = json(&body);
    assert_eq!(v["inputs"]["v1-write.metric"]["points"], 1);
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "disk on fire" && e["source"] == "ext-src")
    );
    assert_eq!(v["inputs"]["lasterror.ext"]["last_error"], "disk on fire");
    assert!(v["agent"]["process"]["rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn non_loopback_clients_reach_only_public_apis() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    // A proxy header makes a loopback request count as remote, as in the original.
    let remote = [("X-Forwarded-For", "203.0.113.9")];
    let (s, _, body) = request("GET", &format!("{}/metrics", a.api()), &remote, vec![]);
    assert_eq!(s, 403);
    assert_eq!(json(&body)["error_code"], "datakit.publicAccessDisabled");
    let (s, _, _) = request("GET", &format!("{}/v1/ping", a.api()), &remote, vec![]);
    assert_eq!(s, 200);
    let (s, _, _) = request(
        "POST",
        &format!("{}/v1/write/logging", a.api()),
        &remote,
        b"app message=\"hi\"".to_vec(),
    );
    assert_eq!(s, 200);
    assert_eq!(a.stop(), Some(0));

    // `public_apis` replaces the default list.
    let (_w, mut a) = agent_with(&dw, "[http_api]\n  public_apis = [\"/metrics\"]\n");
    let (s, _, _) = request("GET", &format!("{}/metrics", a.api()), &remote, vec![]);
    assert_eq!(s, 200);
    let (s, _, _) = request(
        "POST",
        &format!("{}/v1/write/logging", a.api()),
        &remote,
        b"app message=\"hi\"".to_vec(),
    );
    assert_eq!(s, 403);
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn the_rate_limit_answers_429_and_recovers() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(
        &dw,
        "[http_api]\n  request_rate_limit = 5.0\n  request_rate_limit_burst = 5\n",
    );
    // /v1/ntp: the start-up check used /v1/ping, which has its own bucket.
    let url = format!("{}/v1/ntp", a.api());
    let codes: Vec<u16> = (0..12)
        .map(|_| request("GET", &url, &[], vec![]).0)
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 5, "{codes:?}");
    assert!(codes.contains(&429));
    let (s, _, body) = request("GET", &url, &[], vec![]);
    assert_eq!(s, 429);
    assert_eq!(json(&body)["error_code"], "datakit.reachMaxAPILimit");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        request("GET", &url, &[], vec![]).0,
        200,
        "recovers once tokens refill"
    );
    assert_eq!(a.stop(), Some(0));
}

fn hwm_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// A 2 GB body (announced, then streamed without Content-Length) and a gzip bomb are refused
/// with 413 while the agent's memory stays small.
#[test]
fn huge_bodies_are_refused_without_growing_memory() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    // Content-Length over the limit: refused before reading.
    let mut s = TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    write!(
        s,
        "POST /v1/write/metric HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n"
    )
    .unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    // Chunked, 2 GB of line protocol: the agent stops reading at the limit.
    let mut s = TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /v1/write/metric HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = "m,host=h value=1i\n".repeat(3600); // ~64 KiB
    let mut sent: u64 = 0;
    while sent < 2 << 30 {
        if write!(s, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
            break; // the agent answered and closed
        }
        sent += chunk.len() as u64;
    }
    let mut resp = Vec::new();
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "after {sent} bytes: {text}"
    );
    assert!(
        sent < 1 << 30,
        "the agent stopped taking the body early ({sent} bytes sent)"
    );

    // A gzip bomb: 256 KiB compressed, 256 MiB inflated (32 times the limit).
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![b'a'; 1 << 20];
    for _ in 0..256 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    let (st, _, body) = request(
        "POST",
        &format!("{}/v1/write/metric", a.api()),
        &[("Content-Encoding", "gzip")],
        bomb,
    );
    assert_eq!(st, 413, "{body}");
    assert_eq!(json(&body)["error_code"], "datakit.bodyTooLarge");

    let hwm = hwm_kb(a.pid());
    assert!(hwm < 64 * 1024, "peak RSS {hwm} kB");
    assert_eq!(a.stop(), Some(0));
}

/// A client that sends its headers a byte at a time does not hold up others, and is cut off.
#[test]
fn a_slow_client_does_not_block_others() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_with(&dw, "");
    let port = a.port;
    let slow = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        s.write_all(head).unwrap();
        let t0 = Instant::now();
        // Trickle a header byte every 500 ms until the agent hangs up.
        while t0.elapsed() < Duration::from_secs(30) {
            if s.write_all(b"a").is_err() {
                return t0.elapsed();
            }
            std::thread::sleep(Duration::from_millis(500));
            let mut b = [0u8; 64];
            s.set_nonblocking(true).unwrap();
            match s.read(&mut b) {
                Ok(0) => return t0.elapsed(),
                Ok(_) => return t0.elapsed(),
                Err(_) => {}
            }
            s.set_nonblocking(false).unwrap();
        }
        t0.elapsed()
    });
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        let t0 = Instant::now();
        let (s, _) = http_get(&format!("{}/v1/ping", a.api())).unwrap();
        assert_eq!(s, 200);
        assert!(t0.elapsed() < Duration::from_secs(1));
    }
    let cut_after = slow.join().unwrap();
    assert!(
        cut_after < Duration::from_secs(20),
        "slow client cut after {cut_after:?}"
    );
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn tls_when_a_certificate_is_configured() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    let (cert, key) = (w.path().join("cert.pem"), w.path().join("key.pem"));
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl")
        .status
        .success();
    assert!(ok);
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[http_api.tls]\n  cert = \"{}\"\n  privkey = \"{}\"\n",
            dw.url(),
            cert.display(),
            key.display()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_stdout(Duration::from_secs(20), |o| o.contains("HTTP API on"));
    let out = std::process::Command::new("curl")
        .args(["-sk", "--max-time", "5"])
        .arg(format!("https://127.0.0.1:{}/v1/ping", a.port))
        .output()
        .expect("curl");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"version\""),
        "{out:?}"
    );
    let plain = http_post(&format!("http://127.0.0.1:{}/v1/ping", a.port), "");
    assert!(
        plain.is_none_or(|(s, _)| s != 200),
        "plain HTTP is not served on the TLS port"
    );
    assert_eq!(a.stop(), Some(0));
}

/// `source=<name>` runs `<workdir>/pipeline/<category>/<name>.p` on the written points.
#[test]
fn writes_go_through_the_source_pipeline_script() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write(
        "pipeline/logging/myapp.p",
        "grok(_, \"%{WORD:user} %{INT:code:int}\")\nif code == 500 { drop() }\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let body = b"myapp message=\"alice 200\"\nmyapp message=\"bob 500\"\n".to_vec();
    let (s, _, resp) = request(
        "POST",
        &format!("{}/v1/write/logging?source=myapp", a.api()),
        &[],
        body,
    );
    assert_eq!(s, 200, "{resp}");
    dw.wait_for(Duration::from_secs(20), "the shaped log", |p| {
        p.iter().any(|p| p.name == "myapp")
    });
    std::thread::sleep(Duration::from_millis(300));
    let pts = dw.points_named("myapp");
    assert_eq!(pts.len(), 1, "the 500 line was dropped by the script");
    assert_eq!(
        pts[0].fields.get("user"),
        Some(&crate::support::dataway::Val::S("alice".into()))
    );
    assert_eq!(
        pts[0].fields.get("code").and_then(|v| v.as_i64()),
        Some(200)
    );
    assert_eq!(
        pts[0].fields.get("status"),
        Some(&crate::support::dataway::Val::S("info".into()))
    );
    let (_, _, mon) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let v = json(&mon);
    assert_eq!(v["pipeline"]["logging/myapp.p"]["points"], 2);
    assert_eq!(v["pipeline"]["logging/myapp.p"]["dropped"], 1);
    assert_eq!(a.stop(), Some(0));
}

/// Host inputs go through the ingest stage like the write API: `[pipeline.default_pipeline]`
/// shapes their points, and the metric rules drop the string field a script added (counted by
/// the checker).
#[test]
fn host_points_go_through_the_default_pipeline_and_the_checker() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n[pipeline.default_pipeline]\n  metric = \"all.p\"\n",
            dw.url()
        ),
    );
    w.write("conf.d/cpu.conf", "[[inputs.cpu]]\n  interval = \"1s\"\n");
    w.write(
        "pipeline/metric/all.p",
        "add_key(shaped, 1)\nadd_key(note, \"text\")\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    dw.wait_for(Duration::from_secs(30), "cpu points", |p| {
        p.iter().any(|p| p.name == "cpu")
    });
    let cpu = dw.points_named("cpu");
    assert!(
        cpu.iter()
            .all(|p| p.fields.get("shaped").and_then(|v| v.as_i64()) == Some(1)),
        "the default script ran on every cpu point"
    );
    assert!(
        cpu.iter().all(|p| !p.fields.contains_key("note")),
        "a metric's string field is dropped"
    );
    let (_, _, mon) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let v = json(&mon);
    assert!(v["pipeline"]["metric/all.p"]["points"].as_u64().unwrap() >= 1);
    assert!(
        v["point_checks"]["invalid_field_value_type"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(a.stop(), Some(0));
}

/// DataWay down for long enough to fill the disk queue of a `no_drop` category and then its
/// journal: writers are told to come back (429 with `Retry-After`), in the write API's and in
/// InfluxDB's form, and every write they were told succeeded arrives once DataWay is back.
#[test]
fn a_full_journal_answers_429_with_retry_after_and_loses_nothing() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    let (_w, a) = agent_with(
        &dw,
        "[dataway.wal]\n  max_capacity_gb = 0.00003\n  no_drop_categories = [\"M\"]\n  fail_cache_clean_interval = \"1s\"",
    );
    let body = |from: usize| -> Vec<u8> {
        (from..from + 200)
            .map(|i| format!("full,w=a seq={i}i,pad=\"{}\"\n", "x".repeat(40)))
            .collect::<String>()
            .into_bytes()
    };
    let url = format!("{}/v1/write/metric", a.api());
    let t0 = Instant::now();
    let mut acked = 0;
    let refused = loop {
        let (status, headers, text) = request("POST", &url, &[], body(acked));
        match status {
            200 => acked += 200,
            429 => break (headers, text),
            s => panic!("unexpected {s}: {text}"),
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "never pushed back");
    };
    let (headers, text) = refused;
    assert!(acked > 0);
    assert!(
        headers.iter().any(|(k, v)| k == "retry-after" && v == "1"),
        "{headers:?}"
    );
    assert!(
        text.contains("datakit.journalFull") && text.contains("journal is full"),
        "{text}"
    );
    // The InfluxDB 2.x form too. Its string fields are dropped (as the original does for
    // metrics there), so a body of the same lines would need less room than the refused one
    // and could fit what the IO worker freed meanwhile: this one is large enough to be
    // checked whole against the room before it is fed.
    let v2_body: String = (0..5000)
        .map(|i| format!("full,w=b seq={i}i,n1={i}i,n2={i}i,n3={i}i\n"))
        .collect();
    let (status, headers, text) = request(
        "POST",
        &format!("{}/api/v2/write?bucket=b", a.api()),
        &[],
        v2_body.into_bytes(),
    );
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("too many requests"), "{text}");
    assert!(headers.iter().any(|(k, _)| k == "retry-after"));
    // DataWay is back: everything acknowledged arrives, nothing was dropped.
    dw.set_status(200);
    dw.wait_for(Duration::from_secs(60), "every acknowledged point", |pts| {
        let mut seqs: Vec<i64> = pts
            .iter()
            .filter(|p| p.name == "full" && p.tags.get("w").map(String::as_str) == Some("a"))
            .filter_map(|p| p.fields.get("seq").and_then(|v| v.as_i64()))
            .collect();
        seqs.sort();
        seqs.dedup();
        seqs.len() == acked
    });
    let (_, metrics) = http_get(&format!("{}/metrics", a.api())).unwrap();
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("datakit_io_dropped_point_total") && l.contains("metric")),
        "no metric point dropped:\n{metrics}"
    );
}
