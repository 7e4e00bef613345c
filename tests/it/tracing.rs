//! Trace receivers driven by the real tracer libraries: Python's `ddtrace` sends traces of a
//! small instrumented program to the agent, and the spans arrive at the fake DataWay as
//! `tracing` points with the original's schema. Bad bodies are answered with a clear 4xx and
//! counted.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn agent(dw: &FakeDataway, ddtrace: &str) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write("conf.d/ddtrace.conf", ddtrace);
    let a = Agent::start(&w, &[]);
    a.wait_api();
    // The receiver registers its routes once it runs.
    let t0 = std::time::Instant::now();
    while request("GET", &format!("{}/info", a.api()), &[], vec![]).0 != 404
        || request("PUT", &format!("{}/v0.4/traces", a.api()), &[], vec![]).0 != 200
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "ddtrace routes not served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (w, a)
}

/// A request with headers: (status, headers, body).
pub(crate) fn request(
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

/// Runs `script` with the test virtualenv's Python; its stdout.
pub(crate) fn python(script: &str, env: &[(&str, String)]) -> String {
    let mut c = std::process::Command::new("python3");
    c.arg("-c").arg(script);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("python3");
    assert!(
        out.status.success(),
        "python failed (tests/run installs the packages in a virtual environment and puts it on PATH; `tests/run --install-only` prints that PATH):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A program instrumented with ddtrace: one trace of nested spans with an error and tags,
/// and one the program drops (user reject). Prints the ids it made, and every warning or
/// error the tracer logged.
const APP: &str = r#"
import json, logging, os
records = []
class Keep(logging.Handler):
    def emit(self, r):
        records.append("%s %s: %s" % (r.levelname, r.name, r.getMessage()))
h = Keep(level=logging.WARNING)
logging.getLogger("ddtrace").addHandler(h)
logging.getLogger("ddtrace").setLevel(logging.WARNING)

from ddtrace.trace import tracer
from ddtrace.constants import MANUAL_DROP_KEY

ids = {}
with tracer.trace("web.request", service="shop", resource="GET /orders/<id>", span_type="web") as root:
    root.set_tag("http.status_code", "200")
    root.set_tag("http.method", "GET")
    root.set_tag("team.name", "core")
    root.set_tag("untracked.key", "stays-in-message")
    root.set_tag("big", "x" * 3000)
    with tracer.trace("mysql.query", service="shop-db", resource="SELECT *\nFROM orders", span_type="sql") as db:
        db.set_tag("db.type", "mysql")
        with tracer.trace("mysql.fetch", service="shop-db") as fetch:
            pass
    try:
        with tracer.trace("payment.charge", resource="charge") as pay:
            raise ValueError("card declined")
    except ValueError:
        pass
    ids = {"trace": str(root.trace_id), "root": str(root.span_id), "db": str(db.span_id),
           "fetch": str(fetch.span_id), "pay": str(pay.span_id)}

with tracer.trace("dropped.op", service="shop", resource="drop me") as d:
    d.set_tag(MANUAL_DROP_KEY)

tracer.flush()
tracer.shutdown()
print(json.dumps({"ids": ids, "logs": records}))
"#;

pub(crate) fn tag<'a>(p: &'a Received, k: &str) -> Option<&'a str> {
    p.tags.get(k).map(String::as_str)
}

pub(crate) fn field_str<'a>(p: &'a Received, k: &str) -> Option<&'a str> {
    match p.fields.get(k) {
        Some(Val::S(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn monitor_drops(a: &Agent) -> BTreeMap<String, u64> {
    let (_, _, body) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out = BTreeMap::new();
    for d in v["drops"].as_array().cloned().unwrap_or_default() {
        if d["origin"] == "ddtrace" {
            *out.entry(d["reason"].as_str().unwrap_or("").to_string())
                .or_default() += d["points"].as_u64().unwrap_or(0);
        }
    }
    out
}

fn python_ddtrace_app_sends_traces(api_version: &str) {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent(
        &dw,
        "[[inputs.ddtrace]]\n  customer_tags = [\"team.name\"]\n  [inputs.ddtrace.tags]\n    cluster = \"c1\"\n",
    );
    let out = python(
        APP,
        &[
            ("DD_TRACE_AGENT_URL", a.api()),
            ("DD_TRACE_API_VERSION", api_version.to_string()),
            ("DD_ENV", "test".into()),
            ("DD_SERVICE", "shop".into()),
            ("DD_VERSION", "1.2.3".into()),
            ("DD_REMOTE_CONFIGURATION_ENABLED", "false".into()),
            ("DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED", "true".into()),
        ],
    );
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v["logs"],
        serde_json::json!([]),
        "the tracer logged problems"
    );
    let ids = &v["ids"];
    let trace_id: u128 = ids["trace"].as_str().unwrap().parse().unwrap();
    let want_trace = format!("{trace_id:032x}");
    let id = |k: &str| ids[k].as_str().unwrap().to_string();

    dw.wait_for(Duration::from_secs(20), "the app's spans", |p| {
        p.iter().filter(|p| p.name == "ddtrace").count() >= 4
    });
    // Give a wrongly delivered extra span time to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let pts = dw.points_named("ddtrace");
    assert_eq!(pts.len(), 4, "each span once, the dropped trace not at all");
    let by_op = |op: &str| {
        pts.iter()
            .find(|p| tag(p, "operation") == Some(op))
            .unwrap_or_else(|| panic!("no span {op}"))
    };
    let (root, db, fetch, pay) = (
        by_op("web.request"),
        by_op("mysql.query"),
        by_op("mysql.fetch"),
        by_op("payment.charge"),
    );
    for p in &pts {
        assert_eq!(p.category, "tracing");
        assert_eq!(
            field_str(p, "trace_id"),
            Some(want_trace.as_str()),
            "128-bit id"
        );
        assert_eq!(tag(p, "source"), Some("ddtrace"));
        assert_eq!(tag(p, "cluster"), Some("c1"));
        assert!(tag(p, "dk_fingerprint").is_some_and(|h| !h.is_empty()));
        assert!(tag(p, "host").is_some());
        assert!(tag(p, "remote_ip").is_some_and(|ip| ip == "127.0.0.1"));
        assert!(
            p.fields
                .get("start")
                .and_then(Val::as_i64)
                .is_some_and(|s| s > 1_600_000_000_000_000)
        );
        assert!(
            p.fields
                .get("duration")
                .and_then(Val::as_i64)
                .is_some_and(|d| d >= 0)
        );
        let msg: serde_json::Value =
            serde_json::from_str(field_str(p, "message").unwrap()).unwrap();
        assert!(msg.get("trace_id").is_none() && msg["name"].is_string());
        // The point's time is the span's start.
        assert_eq!(p.time / 1000, p.fields["start"].as_i64().unwrap());
    }
    // The parent chain.
    assert_eq!(field_str(root, "span_id"), Some(id("root").as_str()));
    assert_eq!(field_str(root, "parent_id"), Some("0"));
    assert_eq!(field_str(db, "parent_id"), Some(id("root").as_str()));
    assert_eq!(field_str(fetch, "parent_id"), Some(id("db").as_str()));
    assert_eq!(field_str(pay, "parent_id"), Some(id("root").as_str()));
    assert_eq!(field_str(pay, "span_id"), Some(id("pay").as_str()));
    // Where each sits: a new service is an entry, a span with children local, a leaf exit.
    assert_eq!(tag(root, "span_type"), Some("entry"));
    assert_eq!(tag(db, "span_type"), Some("entry"));
    assert_eq!(tag(fetch, "span_type"), Some("exit"));
    assert_eq!(tag(pay, "span_type"), Some("exit"));
    assert_eq!(tag(root, "source_type"), Some("web"));
    assert_eq!(tag(db, "source_type"), Some("db"));
    assert_eq!(tag(fetch, "source_type"), Some("custom"));
    // Tags and fields.
    assert_eq!(tag(root, "service"), Some("shop"));
    assert_eq!(tag(db, "service"), Some("shop-db"));
    assert_eq!(tag(root, "http_status_code"), Some("200"));
    assert_eq!(tag(root, "http_status_class"), Some("2xx"));
    assert_eq!(tag(root, "http_method"), Some("GET"));
    assert_eq!(tag(root, "team_name"), Some("core"));
    assert_eq!(tag(root, "env"), Some("test"));
    assert_eq!(tag(root, "version"), Some("1.2.3"));
    assert!(tag(root, "runtime_id").is_some());
    assert_eq!(tag(root, "sampling_rate"), Some("sampler_keep"));
    assert!(
        field_str(root, "big").is_none() && tag(root, "big").is_none(),
        "not a customer tag"
    );
    assert_eq!(tag(db, "db_system"), Some("mysql"));
    assert_eq!(field_str(db, "resource"), Some("SELECT * FROM orders"));
    assert_eq!(tag(pay, "status"), Some("error"));
    assert_eq!(tag(pay, "error_type"), Some("builtins.ValueError"));
    assert_eq!(tag(pay, "error_message"), Some("card declined"));
    assert!(tag(pay, "error_stack").is_some() || field_str(pay, "error_stack").is_some());
    assert_eq!(tag(root, "status"), Some("ok"));
    let msg: serde_json::Value = serde_json::from_str(field_str(root, "message").unwrap()).unwrap();
    assert_eq!(msg["meta"]["untracked.key"], "stays-in-message");
    assert!(
        msg["meta"].get("team.name").is_none(),
        "a kept tag leaves the message"
    );
    assert_eq!(msg["resource"], "GET /orders/<id>");

    // The dropped trace is counted, not lost silently.
    let drops = monitor_drops(&a);
    assert!(drops.get("sampled").is_some_and(|n| *n >= 1), "{drops:?}");
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn python_ddtrace_v04_traces_arrive_with_the_original_schema() {
    python_ddtrace_app_sends_traces("v0.4");
}

#[test]
fn python_ddtrace_v05_traces_arrive_with_the_original_schema() {
    python_ddtrace_app_sends_traces("v0.5");
}

fn msgpack_str(out: &mut Vec<u8>, s: &str) {
    out.push(0xdb);
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// One v0.4 body of one trace with one span: `meta` as given.
fn v04_one_span(meta: &[(&str, &str)], with_ids: bool) -> Vec<u8> {
    let mut b = vec![0x91, 0x91];
    let n = if with_ids { 6 } else { 4 };
    b.push(0x80 | n);
    msgpack_str(&mut b, "service");
    msgpack_str(&mut b, "svc");
    msgpack_str(&mut b, "name");
    msgpack_str(&mut b, "op");
    msgpack_str(&mut b, "start");
    b.push(0xd3);
    b.extend_from_slice(&1_700_000_000_000_000_000i64.to_be_bytes());
    msgpack_str(&mut b, "meta");
    b.push(0xdf);
    b.extend_from_slice(&(meta.len() as u32).to_be_bytes());
    for (k, v) in meta {
        msgpack_str(&mut b, k);
        msgpack_str(&mut b, v);
    }
    if with_ids {
        msgpack_str(&mut b, "trace_id");
        b.push(0x05);
        msgpack_str(&mut b, "span_id");
        b.push(0x06);
    }
    b
}

#[test]
fn bad_bodies_get_a_clear_4xx_and_are_counted() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent(
        &dw,
        "[[inputs.ddtrace]]\n  max_trace_body_mb = 8\n  customer_tags = [\"huge\"]\n",
    );
    let url = format!("{}/v0.4/traces", a.api());
    let mp = [
        ("content-type", "application/msgpack"),
        ("x-datadog-trace-count", "1"),
    ];

    // Truncated msgpack: where it stopped.
    let good = v04_one_span(&[("k", "v")], true);
    let (s, _, body) = request("POST", &url, &mp, good[..good.len() - 4].to_vec());
    assert_eq!(s, 400, "{body}");
    assert!(
        body.contains(
            "msgpack in trace 0, span 0: at byte 103: truncated: 7 bytes announced, 4 left"
        ),
        "{body}"
    );

    // A content type the tracers do not send, with a body neither JSON nor msgpack.
    let (s, _, body) = request(
        "POST",
        &url,
        &[("content-type", "text/plain")],
        b"hello".to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("neither JSON") && body.contains("nor msgpack"),
        "{body}"
    );

    // JSON with a wrong type: line and column.
    let (s, _, body) = request(
        "POST",
        &url,
        &[("content-type", "application/json")],
        b"[[{\"span_id\": \"x\"}]]".to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("JSON: invalid type") && body.contains("line 1, column"),
        "{body}"
    );

    // Deep nesting inside a span: refused, not recursed into.
    let mut deep = vec![0x91, 0x91, 0x81];
    msgpack_str(&mut deep, "meta_struct");
    deep.extend(std::iter::repeat_n(0x91, 10_000));
    deep.push(0xc0);
    let (s, _, body) = request("POST", &url, &mp, deep);
    assert_eq!(s, 400);
    assert!(body.contains("nested deeper than"), "{body}");

    // A 10 MB body over max_trace_body_mb = 8 (gzip: the limit is on what it inflates to):
    // 413.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &vec![0x91; 10 << 20]).unwrap();
    let gz = gz.finish().unwrap();
    let (s, _, body) = request(
        "POST",
        &url,
        &[
            ("content-type", "application/msgpack"),
            ("content-encoding", "gzip"),
        ],
        gz,
    );
    assert_eq!(s, 413, "{body}");

    // A span without ids and a huge tag value is taken (as the original takes it): the value
    // becomes a field.
    let huge = "h".repeat(200_000);
    let (s, _, body) = request("POST", &url, &mp, v04_one_span(&[("huge", &huge)], false));
    assert_eq!((s, body.as_str()), (200, "{}"));
    dw.wait_for(Duration::from_secs(20), "the span", |p| {
        p.iter().any(|p| p.name == "ddtrace")
    });
    let p = &dw.points_named("ddtrace")[0];
    assert_eq!(field_str(p, "span_id"), Some("0"));
    assert_eq!(field_str(p, "huge").map(str::len), Some(200_000));

    // v0.3 answers as the original: OK.
    let (s, _, body) = request(
        "POST",
        &format!("{}/v0.3/traces", a.api()),
        &mp,
        v04_one_span(&[], true),
    );
    assert_eq!((s, body.as_str()), (200, "OK\n"));
    // Telemetry is taken; stats and /info are not served.
    assert_eq!(
        request(
            "POST",
            &format!("{}/telemetry/proxy/api/v2/apmtelemetry", a.api()),
            &[],
            b"{}".to_vec()
        )
        .0,
        200
    );
    assert_eq!(
        request("PUT", &format!("{}/v0.6/stats", a.api()), &[], vec![]).0,
        404
    );

    // Nothing else was lost: the good bodies' spans arrived; the five bad bodies are counted.
    dw.wait_for(Duration::from_secs(20), "the v0.3 span", |p| {
        p.iter().filter(|p| p.name == "ddtrace").count() == 2
    });
    let drops = monitor_drops(&a);
    assert_eq!(drops.get("invalid"), Some(&5), "{drops:?}");
    let (_, _, mon) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    assert!(
        mon.contains("/v0.4/traces"),
        "the last error is shown: {mon}"
    );
    assert_eq!(a.stop(), Some(0));
}

/// A program instrumented with py_zipkin: one trace per encoding (v2 JSON, v1 JSON, v2
/// protobuf), each a root span with a child and a failing child, posted to the agent with the
/// content type Zipkin's API takes. Prints the trace ids by encoding.
const ZIPKIN_APP: &str = r#"
import json, os, urllib.request
from py_zipkin.zipkin import zipkin_span
from py_zipkin.encoding import Encoding
from py_zipkin.transport import BaseTransportHandler

api = os.environ["AGENT"]
class Post(BaseTransportHandler):
    def __init__(self, path, ctype):
        self.path, self.ctype = path, ctype
    def get_max_payload_bytes(self):
        return None
    def send(self, payload):
        data = payload.encode() if isinstance(payload, str) else payload
        req = urllib.request.Request(api + self.path, data=data, headers={"Content-Type": self.ctype})
        with urllib.request.urlopen(req) as r:
            assert r.status == 200, r.status

out = {}
for enc, path, ctype in [(Encoding.V2_JSON, "/api/v2/spans", "application/json"),
                         (Encoding.V1_JSON, "/api/v1/spans", "application/json"),
                         (Encoding.V2_PROTO3, "/api/v2/spans", "application/x-protobuf")]:
    name = enc.name.lower()
    with zipkin_span(service_name="front-" + name, span_name="GET /users", transport_handler=Post(path, ctype),
                     sample_rate=100.0, encoding=enc) as root:
        root.update_binary_annotations({"http.method": "GET", "project": "shop"})
        with zipkin_span(service_name="front-" + name, span_name="db.query") as child:
            child.update_binary_annotations({"db.type": "mysql"})
        try:
            with zipkin_span(service_name="front-" + name, span_name="charge"):
                raise ValueError("declined")
        except ValueError:
            pass
        out[name] = root.zipkin_attrs.trace_id
print(json.dumps(out))
"#;

#[test]
fn py_zipkin_spans_arrive_by_v1_and_v2_json_and_protobuf() {
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
        "conf.d/zipkin.conf",
        "[[inputs.zipkin]]\n  ignore_tags = [\"^db_\"]\n  [inputs.zipkin.tags]\n    cluster = \"c1\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let t0 = std::time::Instant::now();
    while request(
        "POST",
        &format!("{}/api/v2/spans", a.api()),
        &[("content-type", "application/json")],
        b"[]".to_vec(),
    )
    .0 != 200
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "zipkin routes not served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = python(ZIPKIN_APP, &[("AGENT", a.api())]);
    let ids: BTreeMap<String, String> =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    dw.wait_for(Duration::from_secs(20), "the spans", |p| {
        p.iter().filter(|p| p.name == "zipkin").count() >= 9
    });
    std::thread::sleep(Duration::from_millis(300));
    let pts = dw.points_named("zipkin");
    assert_eq!(pts.len(), 9, "3 spans by each encoding, once");
    for (enc, trace) in &ids {
        let spans: Vec<&Received> = pts
            .iter()
            .filter(|p| field_str(p, "trace_id") == Some(trace.as_str()))
            .collect();
        assert_eq!(spans.len(), 3, "{enc}");
        let by = |op: &str| {
            *spans
                .iter()
                .find(|p| field_str(p, "resource") == Some(op))
                .unwrap_or_else(|| panic!("{enc}: no {op}"))
        };
        let (root, db, charge) = (by("GET /users"), by("db.query"), by("charge"));
        let service = format!("front-{enc}");
        for p in [root, db, charge] {
            assert_eq!(p.category, "tracing");
            assert_eq!(tag(p, "service"), Some(service.as_str()), "{enc}");
            assert_eq!(tag(p, "source"), Some("zipkin"));
            assert_eq!(tag(p, "source_type"), Some("custom"));
            assert_eq!(tag(p, "cluster"), Some("c1"));
            assert!(
                field_str(p, "span_id").is_some_and(|s| s.len() == 16),
                "{enc}"
            );
            assert!(
                p.fields
                    .get("start")
                    .and_then(Val::as_i64)
                    .is_some_and(|s| s > 1_600_000_000_000_000),
                "{enc}"
            );
            assert!(
                p.fields.get("duration").and_then(Val::as_i64).is_some(),
                "{enc}"
            );
            let m: serde_json::Value =
                serde_json::from_str(field_str(p, "message").unwrap()).unwrap();
            assert_eq!(m["traceId"], trace.as_str(), "{enc}");
        }
        assert_eq!(field_str(root, "parent_id"), Some("0"), "{enc}");
        assert_eq!(
            field_str(db, "parent_id"),
            field_str(root, "span_id"),
            "{enc}"
        );
        assert_eq!(
            field_str(charge, "parent_id"),
            field_str(root, "span_id"),
            "{enc}"
        );
        assert_eq!(tag(root, "span_type"), Some("entry"));
        assert_eq!(tag(db, "span_type"), Some("exit"));
        assert_eq!(tag(root, "http_method"), Some("GET"), "{enc}");
        assert_eq!(tag(root, "project"), Some("shop"), "{enc}");
        assert!(tag(db, "db_type").is_none(), "ignore_tags: {enc}");
        assert_eq!(tag(root, "status"), Some("ok"), "{enc}");
        assert_eq!(tag(charge, "status"), Some("error"), "{enc}");
    }
    // Bad bodies: a clear 400 that says where, counted.
    let v2 = format!("{}/api/v2/spans", a.api());
    let (s, _, body) = request(
        "POST",
        &v2,
        &[("content-type", "application/x-protobuf")],
        vec![0x0a, 0x05, 0x0a],
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("protobuf at byte 2: truncated: 5 bytes announced, 1 left"),
        "{body}"
    );
    let (s, _, body) = request(
        "POST",
        &v2,
        &[("content-type", "text/plain")],
        b"[]".to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("unsupported Content-Type `text/plain`"),
        "{body}"
    );
    let (s, _, body) = request(
        "POST",
        &format!("{}/api/v1/spans", a.api()),
        &[("content-type", "application/x-thrift")],
        vec![12, 0, 0, 0, 9],
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("thrift at byte 1: size 9 is negative or larger than the 0 bytes left"),
        "{body}"
    );
    let (_, _, mon) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let v: serde_json::Value = serde_json::from_str(&mon).unwrap();
    let invalid: u64 = v["drops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["origin"] == "zipkin" && d["reason"] == "invalid")
        .map(|d| d["points"].as_u64().unwrap())
        .sum();
    assert_eq!(invalid, 3);
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}
