//! The `opentelemetry` input driven by the real OpenTelemetry Python SDK: a small program's
//! nested spans (with events, a link and an error) exported by
//! `opentelemetry-exporter-otlp-proto-http` and by `opentelemetry-exporter-otlp-proto-grpc`
//! arrive at the fake DataWay as `tracing` points with the original's mapping. OTLP/JSON and
//! bad bodies are sent by hand: answered with OTLP's statuses, counted.

use std::collections::BTreeMap;
use std::time::Duration;

use prost::Message;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::free_port;
use crate::support::{Agent, Workdir};
use crate::tracing::{field_str, python, request, tag};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn agent(dw: &FakeDataway, conf: &str, grpc_conf: &str) -> (Workdir, Agent, String) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    let grpc = format!("127.0.0.1:{}", free_port());
    w.write(
        "conf.d/opentelemetry.conf",
        &format!("[[inputs.opentelemetry]]\n{conf}\n  [inputs.opentelemetry.grpc]\n    addr = \"{grpc}\"\n{grpc_conf}"),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    let t0 = std::time::Instant::now();
    let url = format!("{}/otel/v1/traces", a.api());
    while request(
        "POST",
        &url,
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .0 != 200
        || std::net::TcpStream::connect(&grpc).is_err()
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "OTLP not served");
        std::thread::sleep(Duration::from_millis(100));
    }
    (w, a, grpc)
}

/// A program instrumented with the OpenTelemetry SDK, exporting over `MODE` (`http` or
/// `grpc`), gzip: one trace of three spans. Prints the ids and what the SDK logged.
const APP: &str = r#"
import json, logging, os
records = []
class Keep(logging.Handler):
    def emit(self, r):
        records.append("%s %s: %s" % (r.levelname, r.name, r.getMessage()))
logging.getLogger("opentelemetry").addHandler(Keep(level=logging.WARNING))

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind

mode = os.environ["MODE"]
if mode == "grpc":
    import grpc
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint="http://" + os.environ["GRPC"], insecure=True,
                                compression=grpc.Compression.Gzip, timeout=10)
else:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=os.environ["AGENT"] + "/otel/v1/traces",
                                compression=Compression.Gzip, timeout=10)

provider = TracerProvider(resource=Resource.create(
    {"service.name": "shop-" + mode, "project": "p1", "runtime_id": "rt-1"}))
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("shop.lib", "1.0")

with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes={
        "http.request.method": "GET", "http.response.status_code": 200,
        "user.id": "u-1", "team.name": "core", "retries": 3}) as root:
    root.add_event("cache miss", {"cache.key": "orders:1"})
    with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT, attributes={
            "db.system": "postgresql", "server.address": "db1",
            "db.statement": "SELECT * FROM orders"}) as db:
        pass
    try:
        with tracer.start_as_current_span("charge", links=[Link(db.get_span_context(), {"why": "after"})]) as pay:
            raise ValueError("card declined")
    except ValueError:
        pass

provider.force_flush()
provider.shutdown()
hexid = lambda s: format(s.get_span_context().span_id, "016x")
print(json.dumps({"trace": format(root.get_span_context().trace_id, "032x"),
                  "root": hexid(root), "db": hexid(db), "pay": hexid(pay), "logs": records}))
"#;

fn float(v: &Val) -> Option<f64> {
    match v {
        Val::F(f) => Some(*f),
        _ => None,
    }
}

fn drops(a: &Agent) -> BTreeMap<String, u64> {
    let (_, _, body) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out = BTreeMap::new();
    for d in v["drops"].as_array().cloned().unwrap_or_default() {
        if d["origin"] == "opentelemetry" {
            *out.entry(d["reason"].as_str().unwrap_or("").to_string())
                .or_default() += d["points"].as_u64().unwrap_or(0);
        }
    }
    out
}

#[test]
fn python_sdk_spans_arrive_over_http_and_grpc() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a, grpc) = agent(
        &dw,
        "  customer_tags = [\"reg:^team\\\\.\", \"retries\"]\n  [inputs.opentelemetry.tags]\n    cluster = \"c1\"\n",
        "",
    );
    let mut ids = BTreeMap::new();
    for mode in ["http", "grpc"] {
        let out = python(
            APP,
            &[
                ("MODE", mode.to_string()),
                ("AGENT", a.api()),
                ("GRPC", grpc.clone()),
            ],
        );
        let v: serde_json::Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(
            v["logs"],
            serde_json::json!([]),
            "{mode}: the exporter logged"
        );
        ids.insert(mode, v);
    }
    dw.wait_for(Duration::from_secs(20), "the spans", |p| {
        p.iter().filter(|p| p.name == "opentelemetry").count() >= 6
    });
    std::thread::sleep(Duration::from_millis(300));
    let pts = dw.points_named("opentelemetry");
    assert_eq!(pts.len(), 6, "3 spans by each transport, once");
    for (mode, v) in &ids {
        let trace = v["trace"].as_str().unwrap();
        let spans: Vec<&Received> = pts
            .iter()
            .filter(|p| field_str(p, "trace_id") == Some(trace))
            .collect();
        assert_eq!(spans.len(), 3, "{mode}");
        let by = |id: &str| {
            let want = v[id].as_str().unwrap();
            *spans
                .iter()
                .find(|p| field_str(p, "span_id") == Some(want))
                .unwrap_or_else(|| panic!("{mode}: no {id}"))
        };
        let (root, db, pay) = (by("root"), by("db"), by("pay"));
        let service = format!("shop-{mode}");
        for p in [root, db, pay] {
            assert_eq!(p.category, "tracing");
            assert_eq!(tag(p, "source"), Some("opentelemetry"));
            assert_eq!(tag(p, "project"), Some("p1"), "{mode}");
            assert_eq!(tag(p, "cluster"), Some("c1"), "{mode}");
            assert_eq!(tag(p, "remote_ip"), Some("127.0.0.1"), "{mode}");
            assert_eq!(field_str(p, "runtime_id"), Some("rt-1"), "{mode}");
            assert!(
                p.fields
                    .get("start")
                    .and_then(Val::as_i64)
                    .is_some_and(|s| s > 1_600_000_000_000_000),
                "{mode}"
            );
            assert!(p.fields.get("duration").and_then(Val::as_i64).is_some());
        }
        // The root: the well-known and customer attributes as keys, the rest in `message`.
        assert_eq!(tag(root, "service"), Some(service.as_str()));
        assert_eq!(field_str(root, "resource"), Some("GET /orders"));
        assert_eq!(tag(root, "operation"), Some("GET /orders"));
        assert_eq!(field_str(root, "parent_id"), Some("0"));
        assert_eq!(tag(root, "span_type"), Some("entry"));
        assert_eq!(tag(root, "span_kind"), Some("server"));
        assert_eq!(tag(root, "http_method"), Some("GET"));
        assert_eq!(tag(root, "http_status_code"), Some("200"));
        assert_eq!(tag(root, "http_status_class"), Some("2xx"));
        assert_eq!(tag(root, "source_type"), Some("web"));
        assert_eq!(tag(root, "team_name"), Some("core"));
        assert_eq!(root.fields.get("retries").and_then(Val::as_i64), Some(3));
        assert_eq!(tag(root, "status"), Some("ok"));
        let m: serde_json::Value =
            serde_json::from_str(field_str(root, "message").unwrap()).unwrap();
        let keys: Vec<&str> = m["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["key"].as_str())
            .collect();
        assert!(
            keys.contains(&"user.id") && keys.contains(&"cache.key"),
            "{m}"
        );
        assert!(
            !keys.contains(&"service.name") && !keys.contains(&"team.name"),
            "{m}"
        );
        assert_eq!(m["events"][0]["name"], "cache miss", "{m}");
        assert!(m.get("traceId").is_none(), "clean_message: {m}");
        // The database span: split_service_name, db_host.
        assert_eq!(field_str(db, "parent_id"), field_str(root, "span_id"));
        assert_eq!(tag(db, "service"), Some("postgresql"));
        assert_eq!(tag(db, "base_service"), Some(service.as_str()));
        assert_eq!(tag(db, "db_host"), Some("db1"));
        assert_eq!(tag(db, "source_type"), Some("db"));
        assert_eq!(tag(db, "span_kind"), Some("client"));
        assert_eq!(
            tag(db, "span_type"),
            Some("entry"),
            "another service's child"
        );
        // The failed span: error, the exception event's keys, the link in `message`.
        assert_eq!(tag(pay, "status"), Some("error"));
        assert_eq!(tag(pay, "service"), Some(service.as_str()));
        assert_eq!(field_str(pay, "error_type"), Some("ValueError"));
        assert_eq!(field_str(pay, "error_message"), Some("card declined"));
        assert!(field_str(pay, "error_stack").is_some_and(|s| s.contains("Traceback")));
        let m: serde_json::Value =
            serde_json::from_str(field_str(pay, "message").unwrap()).unwrap();
        assert_eq!(m["links"][0]["spanId"], v["db"], "{m}");
        assert_eq!(m["links"][0]["attributes"][0]["key"], "why", "{m}");
    }
    let (_, _, mon) = request("GET", &format!("{}/v1/monitor", a.api()), &[], vec![]);
    let mon: serde_json::Value = serde_json::from_str(&mon).unwrap();
    let s = mon.to_string();
    assert!(
        s.contains("grpc_exports") && s.contains("http_exports"),
        "{s}"
    );
    assert!(drops(&a).is_empty(), "{:?}", drops(&a));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}

/// A POST whose answer is binary: (status, body).
fn post_bytes(url: &str, ctype: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("content-type", ctype)
        .send(&body[..])
        .unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_vec().unwrap(),
    )
}

/// `google.rpc.Status`, as a client decodes an OTLP/HTTP error.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// `ExportTraceServiceResponse` with its partial success, as a client decodes it.
#[derive(Clone, PartialEq, prost::Message)]
struct TraceResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<Partial>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Partial {
    #[prost(int64, tag = "1")]
    rejected_spans: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

const JSON_BODY: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
 "scopeSpans":[{"scope":{"name":"hand"},"spans":[
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"by hand","kind":"SPAN_KIND_SERVER",
   "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000",
   "attributes":[{"key":"http.method","value":{"stringValue":"POST"}},{"key":"x","value":{"intValue":"7"}}],
   "unknownField":true},
  {"traceId":"","spanId":"eee19b7ec3c1b175","name":"no trace id"}]}]}]}"#;

/// Raw gRPC calls with bad messages; prints each call's status code.
const GRPC_BAD: &str = r#"
import os, grpc
ch = grpc.insecure_channel(os.environ["GRPC"])
def call(method, body, compression=None):
    f = ch.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        f(body, timeout=10, compression=compression)
        return "OK"
    except grpc.RpcError as e:
        return e.code().name
print("truncated", call("/opentelemetry.proto.collector.trace.v1.TraceService/Export", b"\x0a\x05\x0a"))
print("oversized", call("/opentelemetry.proto.collector.trace.v1.TraceService/Export", b"\x00" * 200000))
print("inflated", call("/opentelemetry.proto.collector.trace.v1.TraceService/Export", b"\x00" * 200000, grpc.Compression.Gzip))
print("profiles", call("/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", b""))
"#;

#[test]
fn json_partial_success_and_bad_bodies() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a, grpc) = agent(&dw, "", "    max_payload = 65536\n");
    let url = format!("{}/otel/v1/traces", a.api());
    let json = [("content-type", "application/json")];
    let pb = [("content-type", "application/x-protobuf")];

    // OTLP/JSON: one span taken, one rejected (no trace id): a partial success.
    let (s, hs, body) = request("POST", &url, &json, JSON_BODY.as_bytes().to_vec());
    assert_eq!(s, 200, "{body}");
    assert!(
        hs.iter()
            .any(|(k, v)| k == "content-type" && v == "application/json")
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "1", "{body}");
    assert!(
        v["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("span 1 (`no trace id`) of service `json-svc`: its trace id is not 16 bytes"),
        "{body}"
    );
    dw.wait_for(Duration::from_secs(20), "the JSON span", |p| {
        p.iter().any(|p| p.name == "opentelemetry")
    });
    let p = &dw.points_named("opentelemetry")[0];
    assert_eq!(
        field_str(p, "trace_id"),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(tag(p, "service"), Some("json-svc"));
    assert_eq!(tag(p, "span_kind"), Some("server"));
    assert_eq!(tag(p, "http_method"), Some("POST"));
    assert_eq!(tag(p, "source_type"), Some("web"));

    // Truncated protobuf: 400 with a google.rpc.Status saying why.
    let (s, body) = post_bytes(&url, "application/x-protobuf", vec![0x0a, 0x05, 0x0a]);
    assert_eq!(s, 400);
    let st = RpcStatus::decode(&body[..]).unwrap();
    assert_eq!(st.code, 3);
    assert!(
        st.message.contains("cannot decode the protobuf body"),
        "{st:?}"
    );
    // JSON that is not OTLP: the path of the value.
    let (s, _, body) = request(
        "POST",
        &url,
        &json,
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":7}]}]}]}"#.to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("at resourceSpans[0].scopeSpans[0].spans[0].spanId: a string was expected"),
        "{body}"
    );
    // A content type OTLP does not have.
    let (s, _, body) = request(
        "POST",
        &url,
        &[("content-type", "text/plain")],
        b"{}".to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("unsupported Content-Type `text/plain`"),
        "{body}"
    );
    // Over grpc.max_payload (after gzip): 413.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &vec![0u8; 200_000]).unwrap();
    let (s, _, _) = request(
        "POST",
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        gz.finish().unwrap(),
    );
    assert_eq!(s, 413);
    // An empty protobuf export: OK, an empty response.
    let (s, _, body) = request("POST", &url, &pb, vec![]);
    assert_eq!(s, 200);
    assert_eq!(
        TraceResponse::decode(body.as_bytes()).unwrap(),
        TraceResponse::default()
    );
    // Metrics: a data point without a value is rejected (a partial success); a truncated
    // message is refused.
    let murl = format!("{}/otel/v1/metrics", a.api());
    let (s, _, body) = request(
        "POST",
        &murl,
        &json,
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"1"},{}]}}]}]}]}"#.to_vec(),
    );
    assert_eq!(s, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "1", "{body}");
    let (s, body) = post_bytes(&murl, "application/x-protobuf", vec![0x0a, 0x09, 0x12]);
    assert_eq!(s, 400);
    assert!(
        RpcStatus::decode(&body[..])
            .unwrap()
            .message
            .contains("/otel/v1/metrics: cannot decode")
    );
    dw.wait_for(Duration::from_secs(20), "the gauge", |p| {
        p.iter().any(|p| p.name == "otel_service")
    });
    // Logs: a body that is not OTLP.
    let (s, _, body) = request(
        "POST",
        &format!("{}/otel/v1/logs", a.api()),
        &json,
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}"#
            .to_vec(),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains(
            "at resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: unknown value `LOUD`"
        ),
        "{body}"
    );
    // gRPC: a truncated message, one over max_payload, one over it once inflated, a service
    // not served.
    let out = python(GRPC_BAD, &[("GRPC", grpc)]);
    assert_eq!(
        out.trim(),
        "truncated INVALID_ARGUMENT\noversized RESOURCE_EXHAUSTED\ninflated RESOURCE_EXHAUSTED\nprofiles UNIMPLEMENTED",
        "{out}"
    );
    // Counted: the rejected span and data point, the six refused bodies, the three refused
    // messages.
    assert_eq!(drops(&a).get("invalid"), Some(&11), "{:?}", drops(&a));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}

/// A program measuring with the OpenTelemetry SDK, exporting over `MODE` once (at shutdown):
/// a counter, an up-down counter, a histogram, a gauge and an exponential histogram.
const METRICS_APP: &str = r#"
import json, logging, os
records = []
class Keep(logging.Handler):
    def emit(self, r):
        records.append("%s %s: %s" % (r.levelname, r.name, r.getMessage()))
logging.getLogger("opentelemetry").addHandler(Keep(level=logging.WARNING))

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import View, ExponentialBucketHistogramAggregation

mode = os.environ["MODE"]
if mode == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    exporter = OTLPMetricExporter(endpoint="http://" + os.environ["GRPC"], insecure=True, timeout=10)
else:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    exporter = OTLPMetricExporter(endpoint=os.environ["AGENT"] + "/otel/v1/metrics", timeout=10)

reader = PeriodicExportingMetricReader(exporter, export_interval_millis=600000)
provider = MeterProvider(resource=Resource.create({"service.name": "meter-" + mode}),
                         metric_readers=[reader],
                         views=[View(instrument_name="size", aggregation=ExponentialBucketHistogramAggregation())])
meter = provider.get_meter("shop.meter", "1.0")
orders = meter.create_counter("orders", unit="1")
orders.add(3, {"route": "/a"})
orders.add(2, {"route": "/a"})
queue = meter.create_up_down_counter("queue")
queue.add(5)
queue.add(-2)
latency = meter.create_histogram("latency", unit="ms")
for v in (1, 7, 20):
    latency.record(v)
temp = meter.create_gauge("temp", unit="Cel")
temp.set(21.5)
size = meter.create_histogram("size")
size.record(4)
size.record(5)
provider.shutdown()
print(json.dumps({"logs": records}))
"#;

#[test]
fn python_sdk_metrics_arrive_over_http_and_grpc() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a, grpc) = agent(&dw, "", "");
    for mode in ["http", "grpc"] {
        let out = python(
            METRICS_APP,
            &[
                ("MODE", mode.to_string()),
                ("AGENT", a.api()),
                ("GRPC", grpc.clone()),
            ],
        );
        let v: serde_json::Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(
            v["logs"],
            serde_json::json!([]),
            "{mode}: the exporter logged"
        );
    }
    // Per transport: orders, queue, latency + 16 buckets, temp, size.
    dw.wait_for(Duration::from_secs(20), "the metrics", |p| {
        p.iter().filter(|p| p.name == "otel_service").count() >= 42
    });
    std::thread::sleep(Duration::from_millis(300));
    let pts = dw.points_named("otel_service");
    assert_eq!(pts.len(), 42, "every data point once");
    for mode in ["http", "grpc"] {
        let service = format!("meter-{mode}");
        let mine: Vec<&Received> = pts
            .iter()
            .filter(|p| tag(p, "service_name") == Some(service.as_str()))
            .collect();
        assert_eq!(mine.len(), 21, "{mode}");
        let with = |f: &str| {
            mine.iter()
                .filter(|p| p.fields.contains_key(f))
                .copied()
                .collect::<Vec<_>>()
        };
        for p in &mine {
            assert_eq!(p.category, "metric");
            assert_eq!(tag(p, "scope_name"), Some("shop.meter"));
            assert_eq!(tag(p, "remote_ip"), Some("127.0.0.1"));
            assert!(tag(p, "telemetry_sdk_name").is_none(), "{p:?}");
        }
        let orders = with("orders");
        assert_eq!(orders.len(), 1, "{mode}");
        assert_eq!(
            orders[0].fields["orders"].as_i64(),
            Some(5),
            "cumulative sum"
        );
        assert_eq!(tag(orders[0], "route"), Some("/a"));
        assert_eq!(tag(orders[0], "unit"), Some("1"));
        assert_eq!(with("queue")[0].fields["queue"].as_i64(), Some(3));
        assert_eq!(
            with("temp")[0].fields.get("temp").and_then(float),
            Some(21.5)
        );
        assert_eq!(tag(with("temp")[0], "unit"), Some("Cel"));
        let h = with("latency_count");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].fields["latency_count"].as_i64(), Some(3));
        assert_eq!(h[0].fields.get("latency_sum").and_then(float), Some(28.0));
        assert_eq!(h[0].fields.get("latency_min").and_then(float), Some(1.0));
        assert_eq!(h[0].fields.get("latency_max").and_then(float), Some(20.0));
        let buckets = with("latency_bucket");
        assert_eq!(buckets.len(), 16, "{mode}");
        let le = |b: &str| {
            buckets
                .iter()
                .find(|p| tag(p, "le") == Some(b))
                .unwrap_or_else(|| panic!("no le={b}"))
                .fields["latency_bucket"]
                .as_i64()
        };
        assert_eq!(
            (le("0"), le("5"), le("10"), le("25"), le("+Inf")),
            (Some(0), Some(1), Some(2), Some(3), Some(3))
        );
        let e = with("size_count");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].fields["size_count"].as_i64(), Some(2));
        assert_eq!(e[0].fields.get("size_avg").and_then(float), Some(4.5));
    }
    assert!(drops(&a).is_empty(), "{:?}", drops(&a));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}

/// A program logging through the OpenTelemetry SDK's logging handler at five severities,
/// exporting over `MODE`.
const LOGS_APP: &str = r#"
import json, logging, os
records = []
class Keep(logging.Handler):
    def emit(self, r):
        records.append("%s %s: %s" % (r.levelname, r.name, r.getMessage()))
logging.getLogger("opentelemetry").addHandler(Keep(level=logging.WARNING))

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

mode = os.environ["MODE"]
if mode == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint="http://" + os.environ["GRPC"], insecure=True, timeout=10)
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=os.environ["AGENT"] + "/otel/v1/logs", timeout=10)

provider = LoggerProvider(resource=Resource.create({"service.name": "logger-" + mode, "host.name": "web-1"}))
provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
log = logging.getLogger("shop")
log.propagate = False
log.setLevel(logging.DEBUG)
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
log.debug("cache warm")
log.info("order placed", extra={"order.id": 42})
log.warning("stock low")
log.error("card declined")
log.critical("database gone")
provider.force_flush()
provider.shutdown()
print(json.dumps({"logs": records}))
"#;

#[test]
fn python_sdk_logs_arrive_over_http_and_grpc() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a, grpc) = agent(
        &dw,
        "  [inputs.opentelemetry.tags]\n    cluster = \"c1\"\n",
        "",
    );
    for mode in ["http", "grpc"] {
        let out = python(
            LOGS_APP,
            &[
                ("MODE", mode.to_string()),
                ("AGENT", a.api()),
                ("GRPC", grpc.clone()),
            ],
        );
        let v: serde_json::Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(
            v["logs"],
            serde_json::json!([]),
            "{mode}: the exporter logged"
        );
    }
    dw.wait_for(Duration::from_secs(20), "the log records", |p| {
        p.iter().filter(|p| p.category == "logging").count() >= 10
    });
    std::thread::sleep(Duration::from_millis(300));
    let all: Vec<Received> = dw
        .points()
        .into_iter()
        .filter(|p| p.category == "logging")
        .collect();
    assert_eq!(all.len(), 10, "every record once");
    for mode in ["http", "grpc"] {
        let service = format!("logger-{mode}");
        let mine: Vec<&Received> = all.iter().filter(|p| p.name == service).collect();
        assert_eq!(mine.len(), 5, "{mode}");
        let by = |msg: &str| {
            *mine
                .iter()
                .find(|p| field_str(p, "message") == Some(msg))
                .unwrap_or_else(|| panic!("{mode}: no `{msg}`"))
        };
        for (msg, status) in [
            ("cache warm", "debug"),
            ("order placed", "info"),
            ("stock low", "warn"),
            ("card declined", "error"),
            ("database gone", "fatal"),
        ] {
            let p = by(msg);
            assert_eq!(tag(p, "status"), Some(status), "{mode}: {msg}");
            assert_eq!(tag(p, "service"), Some(service.as_str()));
            assert_eq!(tag(p, "host"), Some("web-1"));
            assert_eq!(tag(p, "remote_ip"), Some("127.0.0.1"));
            assert_eq!(field_str(p, "scope_name"), Some("shop"));
            assert_eq!(field_str(p, "cluster"), Some("c1"));
        }
        assert_eq!(field_str(by("order placed"), "order_id"), Some("42"));
    }
    assert!(drops(&a).is_empty(), "{:?}", drops(&a));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
}
