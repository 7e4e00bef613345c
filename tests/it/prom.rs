//! The `prom` input: the parser against a corpus (expected dumps, and Python's
//! `prometheus_client` parser as an independent reference), and the agent scraping a real
//! `prometheus-node-exporter` end to end.
//!
//! `UPDATE_GENERATED=1 cargo test --test it prom` rewrites the corpus's `.expected` files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datakit::inputs::prom::convert::Converter;
use datakit::inputs::prom::parse::{Exposition, Format, parse};
use datakit::point::Value;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{self, free_port, http_get};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prom")
}

fn format_of(path: &Path) -> Format {
    if path.extension().is_some_and(|e| e == "om") {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "prom" || e == "om"))
        .collect();
    v.sort();
    assert!(v.len() >= 8, "corpus files: {v:?}");
    v
}

/// A readable dump of what the parser and the default converter make of a body.
fn dump(e: &Exposition<'_>) -> String {
    let mut out = String::new();
    for f in e.families() {
        out.push_str(&format!("family {} {}", f.name, f.kind));
        if let Some(h) = &f.help {
            out.push_str(&format!(" help={h:?}"));
        }
        if let Some(u) = f.unit {
            out.push_str(&format!(" unit={u:?}"));
        }
        out.push('\n');
        for s in e.samples(f) {
            let labels: Vec<String> = e
                .labels(s)
                .iter()
                .map(|l| format!("{}={:?}", l.name, l.value))
                .collect();
            out.push_str(&format!(
                "  {}{{{}}} {:?}",
                s.name,
                labels.join(","),
                s.value
            ));
            if let Some(t) = s.timestamp_ns {
                out.push_str(&format!(" @{t}"));
            }
            out.push('\n');
        }
    }
    for err in &e.errors {
        out.push_str(&format!("error {err}\n"));
    }
    out.push_str("points\n");
    let c = Converter::default().convert(e, &[], 0);
    for p in &c.points {
        let tags: Vec<String> = p.tags.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let fields: Vec<String> = p
            .fields
            .iter()
            .map(|(k, v)| match v {
                Value::Float(x) => format!("{k}={x:?}"),
                other => format!("{k}={other:?}"),
            })
            .collect();
        out.push_str(&format!(
            "  {} [{}] {} @{}\n",
            p.name,
            tags.join(","),
            fields.join(","),
            p.time
        ));
    }
    out.push_str(&format!(
        "skipped non_finite={} tag_conflicts={}\n",
        c.non_finite, c.tag_conflicts
    ));
    out
}

#[test]
fn corpus_parses_to_the_expected_dumps() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for path in corpus() {
        let body = std::fs::read_to_string(&path).unwrap();
        let got = dump(&parse(&body, format_of(&path)));
        let expected_path = path.with_extension(format!(
            "{}.expected",
            path.extension().unwrap().to_str().unwrap()
        ));
        if update {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if want != got {
            stale.push(format!(
                "{}:\n--- expected\n{want}\n--- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(rewrite with UPDATE_GENERATED=1 after checking the differences)",
        stale.join("\n")
    );
}

/// A sample as the two parsers are compared: name, labels, value, timestamp.
type Key = (String, Vec<(String, String)>, u64, Option<i64>);

/// Bits of a value for comparison: one NaN, and -0 as 0 (Python reads `-0` as the integer 0).
fn value_bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

/// The Python parser's samples of `path`, or its error.
fn python_samples(fmt: &str, path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let ok = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 with the PyPI package `prometheus-client` is needed: tests/run installs it in a virtual environment and puts it on PATH (`tests/run --install-only` prints that PATH)"
    );
    let out = Command::new("python3")
        .arg(data_dir().join("py_parse.py"))
        .arg(fmt)
        .arg(path)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

fn python_keys(samples: &[serde_json::Value]) -> BTreeSet<Key> {
    samples
        .iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            labels.sort();
            let v: f64 = s["value"].as_str().unwrap().parse().unwrap();
            (
                s["name"].as_str().unwrap().to_string(),
                labels,
                value_bits(v),
                s["ts_ns"].as_i64(),
            )
        })
        .collect()
}

fn our_keys(e: &Exposition<'_>, om: bool) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for f in e.families() {
        for s in e.samples(f) {
            let mut labels: Vec<(String, String)> = e
                .labels(s)
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            labels.sort();
            // The text format's timestamps are milliseconds; Python hands them back as float
            // seconds, so they are compared at millisecond precision.
            let ts = s
                .timestamp_ns
                .map(|t| if om { t } else { t / 1_000_000 * 1_000_000 });
            out.insert((s.name.to_string(), labels, value_bits(s.value), ts));
        }
    }
    out
}

#[test]
fn corpus_agrees_with_the_python_parser() {
    let mut files = corpus();
    files.push(data_dir().join("node_exporter.prom"));
    for path in files {
        let fmt = format_of(&path);
        let body = std::fs::read_to_string(&path).unwrap();
        let e = parse(&body, fmt);
        let py = python_samples(
            if fmt == Format::OpenMetrics {
                "om"
            } else {
                "text"
            },
            &path,
        );
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if e.error_count > 0 {
            // Python refuses the whole body; we skip the bad lines only.
            assert!(
                py.is_err(),
                "{name}: Python accepted what we flag: {:?}",
                e.errors
            );
            continue;
        }
        let py = py.unwrap_or_else(|err| panic!("{name}: Python failed: {err}"));
        let ours = our_keys(&e, fmt == Format::OpenMetrics);
        let theirs = python_keys(&py);
        assert_eq!(ours.len(), e.sample_count(), "{name}: duplicate samples");
        assert_eq!(theirs.len(), py.len(), "{name}: duplicate Python samples");
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        let only_theirs: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{name}: only ours {only_ours:?}\nonly Python {only_theirs:?}"
        );
    }
}

// ---- end to end ----------------------------------------------------------------------------

/// datakit.conf sending to `dw` with fast batching.
fn main_conf(dw: &FakeDataway) -> String {
    format!(
        "default_enabled_inputs = []\n\
         [dataway]\n  urls = [\"{}\"]\n\
         [io]\n  flush_interval = \"100ms\"\n  max_cache_count = 5000\n",
        dw.url()
    )
}

/// An HTTP proxy in front of an exporter that records every body it passes on and serves it
/// gzip-compressed: the exact bytes the agent parsed, for an exact comparison.
struct Tap {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Tap {
    fn start(upstream: String) -> Tap {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (b, h) = (bodies.clone(), heads.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(s) = conn else { continue };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let Some((200, body)) = http_get(&upstream) else {
                    continue;
                };
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(body.as_bytes()).unwrap();
                let gz = gz.finish().unwrap();
                let mut w = &s;
                let _ = write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                     Content-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    gz.len()
                );
                let _ = w.write_all(&gz);
                b.lock().unwrap().push(body);
                h.lock().unwrap().push(head);
            }
        });
        Tap {
            port,
            bodies,
            heads,
        }
    }
}

/// Series key of a converted sample: measurement, field, labels with `le` and `quantile` as
/// numbers. (Python's text parser appends `_total` to counters that lack it; node_exporter's
/// counters all have it, so names compare as they are.)
type Series = (String, String, Vec<(String, String)>);

fn norm_label(k: &str, v: &str) -> String {
    if k == "le" || k == "quantile" {
        format!("{:?}", v.parse::<f64>().unwrap())
    } else {
        v.to_string()
    }
}

/// The original's default split, written independently of the input's code.
fn split(name: &str) -> (String, String) {
    let t = name.trim_start_matches('_');
    match t.find('_') {
        Some(i) if i + 1 < t.len() => (t[..i].to_string(), t[i + 1..].to_string()),
        Some(i) => (t[..i].to_string(), t[..i].to_string()),
        None => (t.to_string(), t.to_string()),
    }
}

/// Python's finite samples of a body, by series (value, and whether it is a counter); also
/// how many were NaN/Inf.
fn python_series(body: &str) -> (BTreeMap<Series, (f64, bool)>, usize) {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), body).unwrap();
    let samples = python_samples("text", tmp.path()).expect("Python parses the scrape");
    let mut out = BTreeMap::new();
    let mut non_finite = 0;
    for s in &samples {
        let v: f64 = s["value"].as_str().unwrap().parse().unwrap();
        if !v.is_finite() {
            non_finite += 1;
            continue;
        }
        let (m, f) = split(s["name"].as_str().unwrap());
        let mut labels: Vec<(String, String)> = s["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), norm_label(k, v.as_str().unwrap())))
            .collect();
        labels.sort();
        let counter = s["type"] == "counter";
        let prev = out.insert((m, f, labels), (v, counter));
        assert!(prev.is_none(), "two Python samples for one series: {s}");
    }
    (out, non_finite)
}

/// The agent's fields from points tagged `via=<via>`, by series (without the tags the agent
/// adds: the global host tags, `instance`, and the test's `via`).
fn agent_series(points: &[Received], via: &str) -> BTreeMap<Series, f64> {
    // The global host tags, as the up-metric shows them.
    let global: BTreeSet<(String, String)> = points
        .iter()
        .find(|p| p.name == "collector")
        .map(|p| {
            p.tags
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "job" | "instance" | "via"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for p in points
        .iter()
        .filter(|p| p.name != "collector" && p.tags.get("via").map(String::as_str) == Some(via))
    {
        let labels: Vec<(String, String)> = p
            .tags
            .iter()
            .filter(|(k, v)| {
                !matches!(k.as_str(), "instance" | "via")
                    && !global.contains(&((*k).clone(), (*v).clone()))
            })
            .map(|(k, v)| (k.clone(), norm_label(k, v)))
            .collect();
        for (f, v) in &p.fields {
            let Val::F(x) = v else {
                panic!("non-float field {f}={v:?} in {p:?}")
            };
            let prev = out.insert((p.name.clone(), f.clone(), labels.clone()), *x);
            assert!(prev.is_none(), "field {f} of {} sent twice", p.name);
        }
    }
    out
}

#[test]
fn node_exporter_scraped_by_the_agent_matches_python_prometheus_client() {
    let ne = servers::node_exporter();
    let ne_url = format!("{}/metrics", ne.base());
    let tap = Tap::start(ne_url.clone());
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    // One scrape each: the first tick fires at start, the next one in five minutes.
    w.write(
        "conf.d/prom.conf",
        &format!(
            "[[inputs.prom]]\n  urls = [\"http://127.0.0.1:{}/metrics\"]\n  interval = \"5m\"\n  [inputs.prom.tags]\n    via = \"tap\"\n\
             [[inputs.prom]]\n  urls = [\"{ne_url}\"]\n  interval = \"5m\"\n  [inputs.prom.tags]\n    via = \"direct\"\n",
            tap.port
        ),
    );
    let before = http_get(&ne_url).unwrap().1;
    let mut a = Agent::start(&w, &[]);
    let up_of = |p: &[Received], via: &str| {
        p.iter()
            .any(|r| r.name == "collector" && r.tags.get("via").map(String::as_str) == Some(via))
    };
    dw.wait_for(Duration::from_secs(60), "both up-metrics", |p| {
        up_of(p, "tap") && up_of(p, "direct")
    });
    let after = http_get(&ne_url).unwrap().1;
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();

    // The up-metric of each target.
    for (via, port) in [("tap", tap.port), ("direct", ne.port)] {
        let up: Vec<&Received> = points
            .iter()
            .filter(|p| p.name == "collector" && p.tags.get("via").map(String::as_str) == Some(via))
            .collect();
        assert_eq!(up.len(), 1, "{via}: one scrape");
        assert_eq!(up[0].fields.get("up"), Some(&Val::I(1)), "{via}");
        assert_eq!(up[0].tags.get("job").map(String::as_str), Some("prom"));
        assert_eq!(
            up[0].tags.get("instance").cloned(),
            Some(format!("127.0.0.1:{port}"))
        );
    }

    // Through the tap: exactly the body the agent parsed, so every series and every value
    // must match Python's reading of it.
    let bodies = tap.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "the agent scraped the tap once");
    let head = tap.heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.contains("accept-encoding: gzip"), "{head}");
    assert!(head.contains("accept: text/plain;version=0.0.4"), "{head}");
    let (want, non_finite) = python_series(&bodies[0]);
    let got = agent_series(&points, "tap");
    assert!(want.len() > 500, "node_exporter gave {} series", want.len());
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(10)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(10)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(got.len(), want.len(), "same series count");
    let wrong: Vec<_> = want
        .iter()
        .filter(|(k, (v, _))| got[*k].to_bits() != v.to_bits())
        .take(10)
        .collect();
    assert!(wrong.is_empty(), "values differ: {wrong:?}");
    println!(
        "tap: {} series equal to Python's ({non_finite} NaN/Inf samples skipped by both)",
        got.len()
    );
    for p in points.iter().filter(|p| p.tags.contains_key("via")) {
        assert!(p.tags.contains_key("host"), "global host tag: {p:?}");
    }

    // Direct: the same series as a scrape taken right before or right after the agent's, and
    // every counter between its values in those two scrapes. Gauges move both ways between
    // scrapes (the exporter's own Go heap, running processes), so their values are checked by
    // the exact comparison through the tap only.
    let (b, _) = python_series(&before);
    let (c, _) = python_series(&after);
    let got = agent_series(&points, "direct");
    let keys: BTreeSet<&Series> = got.keys().collect();
    let same_as = |m: &BTreeMap<Series, (f64, bool)>| keys == m.keys().collect::<BTreeSet<_>>();
    assert!(
        same_as(&b) || same_as(&c),
        "series differ: agent {}, before {}, after {}",
        got.len(),
        b.len(),
        c.len()
    );
    let mut counters = 0;
    for (k, v) in &got {
        if let (Some((x, true)), Some((y, _))) = (b.get(k), c.get(k)) {
            counters += 1;
            assert!(x <= v && v <= y, "counter {k:?}: {v} not within [{x}, {y}]");
        }
    }
    assert!(counters > 50, "{counters} counters");
    println!(
        "direct: {} series, {counters} counters within bounds",
        got.len()
    );
}

#[test]
fn failing_targets_are_counted_and_retried_while_others_still_flow() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let file = w.write(
        "metrics.prom",
        "# TYPE app_requests_total counter\napp_requests_total{code=\"200\"} 7\nthis line is bad\n",
    );
    let closed = free_port();
    w.write(
        "conf.d/prom.conf",
        &format!(
            "[[inputs.prom]]\n  urls = [\"http://127.0.0.1:{closed}/metrics\", \"{}\"]\n  interval = \"1s\"\n",
            file.display()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    dw.wait_for(Duration::from_secs(60), "three scrapes", |p| {
        p.iter()
            .filter(|r| r.name == "app")
            .map(|r| r.time)
            .collect::<BTreeSet<_>>()
            .len()
            >= 3
    });
    let (status, body) = http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let prom = &v["inputs"]["prom"];
    assert!(prom["errors"].as_u64().unwrap() >= 4, "{prom}");
    let last = prom["last_error"].as_str().unwrap();
    assert!(
        last.contains(&format!("127.0.0.1:{closed}")) || last.contains("line 3"),
        "{last}"
    );
    assert_eq!(prom["state"], "running", "{prom}");
    assert_eq!(a.stop(), Some(0));

    let points = dw.points();
    let app = points.iter().find(|p| p.name == "app").unwrap();
    assert_eq!(app.fields.get("requests_total"), Some(&Val::F(7.0)));
    let ups: Vec<_> = points.iter().filter(|p| p.name == "collector").collect();
    assert!(ups.iter().any(|p| {
        p.tags.get("instance").cloned() == Some(format!("127.0.0.1:{closed}"))
            && p.fields.get("up") == Some(&Val::I(0))
    }));
    assert!(
        ups.iter()
            .any(|p| !p.tags.contains_key("instance") && p.fields.get("up") == Some(&Val::I(1)))
    );
    // Each failure is logged when it starts, not at every scrape.
    let log = a.log();
    let refused = log
        .lines()
        .filter(|l| l.contains(&format!("127.0.0.1:{closed}/metrics:")))
        .count();
    let bad_line = log.lines().filter(|l| l.contains("line 3:")).count();
    assert_eq!((refused, bad_line), (1, 1), "{log}");
}
