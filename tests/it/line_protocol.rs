//! Line protocol against outside truth: a shared corpus (`tests/data/lp/corpus.txt`) read by
//! our decoder, by the `influxdb-line-protocol` crate and by a real InfluxDB 1.6 server, and
//! round trips proven with proptest. Every place where the other readers differ is annotated
//! in the corpus and explained in `tests/data/lp/DIFFERENCES.md`.
//!
//! `LP_CORPUS_REPORT=1` prints every reader's verdict for every case.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use datakit::point::lp::{self, DecodeOptions, Encoder, Lines, Precision};
use datakit::point::{Category, Point, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::support::Workdir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Err,
}

impl Verdict {
    fn parse(s: &str) -> Verdict {
        match s {
            "ok" => Verdict::Ok,
            "err" => Verdict::Err,
            _ => panic!("bad verdict {s:?}"),
        }
    }
    fn of(ok: bool) -> Verdict {
        if ok { Verdict::Ok } else { Verdict::Err }
    }
}

#[derive(Debug)]
struct Case {
    lineno: usize,
    raw: String,
    body: String,
    ours: Verdict,
    /// Expected verdict of the other readers where it differs from ours, with the reason id.
    iox: Option<(Verdict, Option<String>)>,
    influx: Option<(Verdict, Option<String>)>,
}

/// Expands the corpus notation: ⏎ ␍ ␉ ␀ and `{c<N>}` (the character c repeated N times).
fn expand(s: &str) -> String {
    let s = s
        .replace('⏎', "\n")
        .replace('␍', "\r")
        .replace('␉', "\t")
        .replace('␀', "\0");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let mut chars = inner.chars();
        let c = chars.next();
        match (c, chars.as_str().parse::<usize>()) {
            (Some(c), Ok(n)) => {
                out.push_str(&rest[..open]);
                out.extend(std::iter::repeat_n(c, n));
            }
            _ => out.push_str(&rest[..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn corpus() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lp/corpus.txt");
    let text = std::fs::read_to_string(path).expect("corpus");
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let verdict = cols.next().unwrap();
        let raw = cols.next().unwrap_or("").to_string();
        let notes = cols.next().unwrap_or("");
        let mut case = Case {
            lineno: i + 1,
            body: expand(&raw),
            raw,
            ours: Verdict::parse(verdict),
            iox: None,
            influx: None,
        };
        for note in notes.split_whitespace() {
            let (who, what) = note.split_once('=').expect("who=verdict");
            let (v, reason) = match what.split_once('(') {
                Some((v, r)) => (v, Some(r.trim_end_matches(')').to_string())),
                None => (what, None),
            };
            let slot = match who {
                "iox" => &mut case.iox,
                "influx" => &mut case.influx,
                _ => panic!("corpus line {}: unknown reader {who}", i + 1),
            };
            *slot = Some((Verdict::parse(v), reason));
        }
        cases.push(case);
    }
    cases
}

fn differences() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/lp/DIFFERENCES.md"
    ))
    .expect("DIFFERENCES.md")
}

fn ours(body: &str) -> Verdict {
    Verdict::of(Lines::new(body.as_bytes(), Precision::Nanosecond, 0).all(|r| r.is_ok()))
}

fn iox(body: &str) -> Verdict {
    Verdict::of(influxdb_line_protocol::parse_lines(body).all(|r| r.is_ok()))
}

fn expected(ours: Verdict, other: &Option<(Verdict, Option<String>)>) -> Verdict {
    other.as_ref().map_or(ours, |(v, _)| *v)
}

fn report() -> bool {
    std::env::var_os("LP_CORPUS_REPORT").is_some()
}

#[test]
fn corpus_is_large_and_every_difference_is_documented() {
    let cases = corpus();
    let ok = cases.iter().filter(|c| c.ours == Verdict::Ok).count();
    let err = cases.len() - ok;
    assert!(cases.len() >= 200, "{} cases", cases.len());
    assert!(ok >= 80 && err >= 80, "{ok} valid, {err} invalid");
    let doc = differences();
    for c in &cases {
        for (_, reason) in [&c.iox, &c.influx].into_iter().flatten() {
            if let Some(r) = reason {
                assert!(
                    doc.contains(&format!("## {r} ")),
                    "corpus line {}: {r} is not in DIFFERENCES.md",
                    c.lineno
                );
            }
        }
    }
}

#[test]
fn our_decoder_gives_the_corpus_verdicts() {
    let mut wrong = Vec::new();
    for c in corpus() {
        let got = ours(&c.body);
        if report() {
            eprintln!("ours {:?}\t{}", got, c.raw);
        }
        if got != c.ours {
            let why: Vec<_> = Lines::new(c.body.as_bytes(), Precision::Nanosecond, 0)
                .filter_map(Result::err)
                .map(|e| e.to_string())
                .collect();
            wrong.push(format!("line {}: {:?} {:?} {why:?}", c.lineno, got, c.raw));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_influxdb_line_protocol_crate_agrees_except_where_documented() {
    let mut wrong = Vec::new();
    for c in corpus() {
        let got = iox(&c.body);
        if report() {
            eprintln!("iox {:?}\t{}", got, c.raw);
        }
        if got != expected(c.ours, &c.iox) {
            wrong.push(format!(
                "line {}: crate says {:?}, corpus expects {:?}: {:?}",
                c.lineno,
                got,
                expected(c.ours, &c.iox),
                c.raw
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A real InfluxDB 1.6 (`influxd` from Debian's `influxdb`, installed by `tests/run`),
/// started on free loopback ports in a temporary directory and stopped afterwards.
struct Influxd {
    child: Child,
    port: u16,
    _dir: Workdir,
}

impl Drop for Influxd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn find_influxd() -> Option<std::path::PathBuf> {
    ["/usr/bin/influxd", "/usr/local/bin/influxd"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

impl Influxd {
    fn start(bin: &std::path::Path) -> Influxd {
        let dir = Workdir::new();
        let (http, rpc) = (free_port(), free_port());
        let root = dir.path().display().to_string();
        let conf = dir.write(
            "influxdb.conf",
            &format!(
                r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"#
            ),
        );
        let mut child = Command::new(bin)
            .arg("run")
            .arg("-config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start influxd");
        // Keep its log for a failure message, without blocking it.
        let stderr = child.stderr.take();
        std::thread::spawn(move || {
            if let Some(s) = stderr {
                for _ in BufReader::new(s).lines() {}
            }
        });
        let server = Influxd {
            child,
            port: http,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = server.agent().get(&server.url("/ping")).call()
                && r.status().as_u16() == 204
            {
                break;
            }
            assert!(Instant::now() < deadline, "influxd did not start in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let r = server
            .agent()
            .post(&server.url("/query"))
            .send_form([("q", "CREATE DATABASE lp")])
            .expect("create database");
        assert_eq!(r.status().as_u16(), 200);
        server
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Whether the server's line protocol parser takes the body. Errors after parsing (field
    /// type conflicts between cases, the field name `time`) count as accepted.
    fn accepts(&self, agent: &ureq::Agent, body: &str) -> (Verdict, String) {
        let mut r = agent
            .post(&self.url("/write?db=lp"))
            .send(body.as_bytes())
            .expect("write");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        match status {
            204 => (Verdict::Ok, text),
            400 if text.contains("unable to parse") => (Verdict::Err, text),
            400 => (Verdict::Ok, text),
            _ => panic!("influxd answered {status}: {text}"),
        }
    }
}

#[test]
fn a_real_influxdb_agrees_except_where_documented() {
    let Some(bin) = find_influxd() else {
        panic!("influxd not found: install Debian's `influxdb` package (tests/run does)");
    };
    let server = Influxd::start(&bin);
    let agent = server.agent();
    let mut wrong = Vec::new();
    for c in corpus() {
        let (got, text) = server.accepts(&agent, &c.body);
        if report() {
            eprintln!("influx {:?}\t{}\t{}", got, c.raw, text.trim());
        }
        if got != expected(c.ours, &c.influx) {
            wrong.push(format!(
                "line {}: influxd says {:?}, corpus expects {:?}: {:?} ({})",
                c.lineno,
                got,
                expected(c.ours, &c.influx),
                c.raw,
                text.trim()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_valid_corpus_line_survives_encode_and_decode() {
    let opts = DecodeOptions::default();
    let mut n = 0;
    for c in corpus().into_iter().filter(|c| c.ours == Verdict::Ok) {
        let points = lp::decode(c.body.as_bytes(), &opts).unwrap().points;
        let mut enc = Encoder::new().sorted(false);
        for p in &points {
            if enc.encode(p).is_err() {
                // Only points the original could not write either.
                assert!(p.fields.is_empty(), "line {}: {p:?}", c.lineno);
            }
        }
        let again = lp::decode(enc.as_bytes(), &opts).unwrap().points;
        let kept: Vec<_> = points
            .into_iter()
            .filter(|p| !p.fields.is_empty())
            .collect();
        assert_eq!(again, kept, "line {}: {:?}", c.lineno, c.raw);
        n += kept.len();
    }
    assert!(n > 150, "{n}");
}

// ---- Round trip: decode(encode(p)) == p for every point that can be written ----

/// Text with the bytes that matter to line protocol, and some unicode.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            30 => prop::char::range('a', 'z'),
            1 => Just(' '),
            1 => Just(','),
            1 => Just('='),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('.'),
            1 => Just('\t'),
            1 => Just('#'),
            1 => Just('é'),
            1 => Just('温'),
            1 => Just('\r'),
            1 => Just('['),
        ],
        1..max,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::Uint),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        text(12).prop_map(Value::Str),
        (text(6), text(6)).prop_map(|(a, b)| Value::Str(format!("{a}\n{b}\r\n"))),
        any::<String>().prop_map(Value::Str),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => scalar(),
        1 => prop::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
        1 => prop_oneof![
            prop::collection::vec(any::<i64>().prop_map(Value::Int), 0..4),
            prop::collection::vec(any::<bool>().prop_map(Value::Bool), 1..4),
            prop::collection::vec(text(6).prop_map(Value::Str), 1..4),
            prop::collection::vec((-1e9f64..1e9).prop_map(Value::Float), 1..4),
        ]
        .prop_map(Value::Array),
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (
        text(10),
        prop::collection::btree_map(text(8), text(8), 0..5),
        prop::collection::btree_map(text(8), value(), 1..6),
        prop_oneof![Just(0i64), lp::MIN_NANO_TIME..=lp::MAX_NANO_TIME],
    )
        .prop_map(|(name, tags, fields, time)| {
            let mut p = Point::new(Category::Metric, name);
            for (k, v) in tags {
                p.tags.push((k, v));
            }
            let tag_keys: BTreeMap<_, _> = p.tags.iter().map(|(k, _)| (k.clone(), ())).collect();
            for (k, v) in fields {
                if !tag_keys.contains_key(&k) {
                    p.fields.push((k, v));
                }
            }
            p.time = time;
            p
        })
}

fn decode_one(bytes: &[u8]) -> Vec<Point> {
    lp::decode(bytes, &DecodeOptions::default())
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(bytes)))
        .points
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_of_encode_is_identity(p in point()) {
        let mut enc = Encoder::new().sorted(false);
        if enc.encode(&p).is_ok() {
            let back = decode_one(enc.as_bytes());
            prop_assert_eq!(back.len(), 1);
            prop_assert_eq!(&back[0], &p);
            // Sorted output reads back to the same tags and fields.
            let mut sorted = Encoder::new();
            sorted.encode(&p).unwrap();
            let mut b = decode_one(sorted.as_bytes()).remove(0);
            let mut q = p.clone();
            for x in [&mut b, &mut q] {
                x.tags.sort_by(|a, b| a.0.cmp(&b.0));
                x.fields.sort_by(|a, b| a.0.cmp(&b.0));
            }
            prop_assert_eq!(b, q);
        }
    }

    #[test]
    fn floats_format_as_go_f_minus_one(v in prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        // Short decimals, the encoder's fast path: m × 10^-k.
        (any::<i64>(), 0..9u32).prop_map(|(m, k)| format!("{}e-{k}", m % 100_000_000_000_000).parse().unwrap()),
    ]) {
        // Go's 'f', -1: no exponent, reads back exactly, and as few significant digits as
        // possible (Rust's `{}` has the same length; it breaks exact ties the other way).
        let mut out = Vec::new();
        lp::write_float(v, &mut out);
        let s = String::from_utf8(out).unwrap();
        prop_assert!(!s.contains(['e', 'E']), "{}", s);
        prop_assert_eq!(s.parse::<f64>().unwrap(), v);
        let significant = |s: &str| {
            let d: String = s.chars().filter(char::is_ascii_digit).collect();
            d.trim_start_matches('0').trim_end_matches('0').len()
        };
        prop_assert_eq!(significant(&s), significant(&format!("{v}")));
    }

    #[test]
    fn any_bytes_decode_without_panic(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let opts = DecodeOptions { strict: false, ..DecodeOptions::default() };
        let d = lp::decode(&body, &opts).unwrap();
        for e in &d.errors {
            prop_assert!(e.offset <= body.len());
            prop_assert!(e.line_start <= e.line_end && e.line_end <= body.len());
        }
        // Every decoded point that can be written reads back the same.
        let mut enc = Encoder::new().sorted(false);
        for p in &d.points {
            if enc.encode(p).is_ok() {
                enc.clear();
                enc.encode(p).unwrap();
                prop_assert_eq!(&decode_one(enc.as_bytes())[0], p);
                enc.clear();
            }
        }
    }
}

#[test]
fn most_generated_points_are_writable() {
    // Guards the round-trip property against a strategy that only makes refused points.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = point();
    let mut ok = 0;
    for _ in 0..1000 {
        let p = strategy.new_tree(&mut runner).unwrap().current();
        if Encoder::new().encode(&p).is_ok() {
            ok += 1;
        }
    }
    assert!(
        ok > 300,
        "only {ok} of 1000 generated points could be written"
    );
}
