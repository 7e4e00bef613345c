use super::*;
use crate::inputs::opentelemetry::json;

const BODY: &str = r#"{"resourceLogs":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"shop"}},
  {"key":"host.name","value":{"stringValue":"web-1"}}]},"schemaUrl":"https://opentelemetry.io/schemas/1.21.0",
 "scopeLogs":[{"scope":{"name":"shop.log"},"logRecords":[
  {"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"card declined: ééé"},
   "attributes":[{"key":"order.id","value":{"intValue":"42"}},{"key":"status","value":{"stringValue":"attr"}}],
   "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},
  {"observedTimeUnixNano":"1700000000000000001","severityNumber":"SEVERITY_NUMBER_WARN2","body":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}},
  {"severityNumber":0,"body":{"doubleValue":1.5}},
  {"severityNumber":99,"severityText":"NOTICE"}
 ]}]}]}"#;

fn opts(max: usize) -> LogOptions {
    LogOptions {
        compatible_ddtrace: false,
        max_message: max,
        tags: vec![("cluster".into(), "c1".into())],
        hostname: "agent-host".into(),
    }
}

fn f<'a>(p: &'a Point, k: &str) -> Option<&'a str> {
    match p.get_field(k) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn records_map_as_the_original_writes_them() {
    let req = json::logs_request(BODY.as_bytes()).unwrap();
    let m = map(req.resource_logs, "10.1.1.1", &opts(500 << 10));
    assert_eq!(m.records, 4);
    assert_eq!(m.points.len(), 4);
    let p = &m.points[0];
    assert_eq!(p.category, Category::Logging);
    assert_eq!(p.name, "shop");
    assert_eq!(p.get_tag("service"), Some("shop"));
    assert_eq!(p.get_tag("host"), Some("web-1"));
    assert_eq!(p.get_tag("status"), Some("error"));
    assert_eq!(p.get_tag("remote_ip"), Some("10.1.1.1"));
    assert_eq!(f(p, "message"), Some("card declined: ééé"));
    assert_eq!(f(p, "trace_id"), Some("5b8efff798038103d269b633813fc60c"));
    assert_eq!(f(p, "span_id"), Some("eee19b7ec3c1b174"));
    assert_eq!(f(p, "order_id"), Some("42"));
    assert_eq!(f(p, "service_name"), Some("shop"));
    assert_eq!(f(p, "scope_name"), Some("shop.log"));
    assert_eq!(f(p, "cluster"), Some("c1"));
    assert_eq!(
        f(p, "schema_url"),
        Some("https://opentelemetry.io/schemas/1.21.0")
    );
    assert!(p.get_field("status").is_none(), "the tag wins");
    assert_eq!(p.time, 1_700_000_000_000_000_000);
    let w = &m.points[1];
    assert_eq!(w.get_tag("status"), Some("warn"));
    assert_eq!(w.time, 1_700_000_000_000_000_001, "observed time");
    assert_eq!(
        f(w, "message"),
        Some(r#"{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}"#)
    );
    assert_eq!(f(w, "trace_id"), Some("0"));
    assert_eq!(m.points[2].get_tag("status"), Some("unknown"));
    assert_eq!(f(&m.points[2], "message"), Some("1.500000"));
    assert_eq!(m.points[3].get_tag("status"), Some("NOTICE"));
}

#[test]
fn long_bodies_are_cut_into_points_a_millisecond_apart() {
    let req = json::logs_request(BODY.as_bytes()).unwrap();
    let m = map(req.resource_logs, "", &opts(8));
    let first: Vec<&Point> = m
        .points
        .iter()
        .filter(|p| p.get_tag("status") == Some("error"))
        .collect();
    let texts: Vec<&str> = first.iter().map(|p| f(p, "message").unwrap()).collect();
    assert_eq!(texts.concat(), "card declined: ééé");
    assert!(texts.iter().all(|t| t.len() <= 8), "{texts:?}");
    assert_eq!(first[1].time - first[0].time, 1_000_000);
}

#[test]
fn no_service_and_log_source() {
    assert_eq!(status(10, "x"), "info");
    let body = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"log.source","value":{"stringValue":"nginx"}}]},"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]},
      {"scopeLogs":[{"logRecords":[{"body":{"stringValue":"y"}}]}]}]}"#;
    let m = map(
        json::logs_request(body.as_bytes()).unwrap().resource_logs,
        "",
        &opts(100),
    );
    assert_eq!(m.points[0].name, "nginx");
    assert_eq!(m.points[0].get_tag("service"), Some("unSetServiceName"));
    assert_eq!(m.points[1].name, "otel_logs");
    assert_eq!(m.points[1].time, 0, "no time: the agent's now");
}
