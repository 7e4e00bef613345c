use super::*;
use crate::inputs::opentelemetry::json;

/// A request with one metric of each kind, in OTLP/JSON.
const BODY: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"shop"}},
  {"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},
  {"key":"host.cpu","value":{"doubleValue":1.23456}}]},
 "scopeMetrics":[{"scope":{"name":"shop.meter"},"metrics":[
  {"name":"orders","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
     {"asInt":"42","timeUnixNano":"1700000000000000000","attributes":[{"key":"route.name","value":{"stringValue":"/a"}},{"key":"service.name","value":{"stringValue":"ignored"}}]},
     {"timeUnixNano":"1700000000000000000"}]}},
  {"name":"temp","unit":"Cel","gauge":{"dataPoints":[{"asDouble":21.5,"timeUnixNano":"1700000000000000000"}]}},
  {"name":"latency","unit":"ms","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","dataPoints":[
     {"count":"4","sum":30.5,"min":1,"max":20,"bucketCounts":["1","2","1"],"explicitBounds":[5,10.5],"timeUnixNano":"1700000000000000000"}]}},
  {"name":"size","exponentialHistogram":{"dataPoints":[{"count":"2","sum":9,"min":4,"max":5,"scale":1,"positive":{"offset":2,"bucketCounts":["1","1"]},"timeUnixNano":"1700000000000000000"}]}},
  {"name":"rpc","summary":{"dataPoints":[{"count":"3","sum":7.5,"quantileValues":[{"quantile":0.5,"value":2}],"timeUnixNano":"1700000000000000000"}]}}
 ]}]}]}"#;

fn field(p: &Point, k: &str) -> Option<Value> {
    p.get_field(k).cloned()
}

#[test]
fn every_kind_maps_with_the_original_names() {
    let req = json::metrics_request(BODY.as_bytes()).unwrap();
    let m = map(req.resource_metrics, "10.0.0.9");
    assert_eq!(m.data_points, 6);
    assert_eq!(m.rejected, 1);
    assert!(m.rejected_why.unwrap().contains("`orders` has no value"));
    // orders, temp, latency + 3 buckets, size, rpc
    assert_eq!(m.points.len(), 8, "{:#?}", m.points);
    for p in &m.points {
        assert_eq!(p.name, "otel_service");
        assert_eq!(p.get_tag("service_name"), Some("shop"), "resource first");
        assert_eq!(p.get_tag("scope_name"), Some("shop.meter"));
        assert_eq!(p.get_tag("remote_ip"), Some("10.0.0.9"));
        assert_eq!(p.get_tag("host_cpu"), Some("1.235"));
        assert!(p.get_tag("telemetry_sdk_name").is_none());
        assert_eq!(p.time, 1_700_000_000_000_000_000);
    }
    let orders = &m.points[0];
    assert_eq!(field(orders, "orders"), Some(Value::Int(42)));
    assert_eq!(orders.get_tag("route_name"), Some("/a"));
    assert_eq!(orders.get_tag("unit"), Some("1"));
    assert_eq!(field(&m.points[1], "temp"), Some(Value::Float(21.5)));
    let h = &m.points[2];
    assert_eq!(field(h, "latency_count"), Some(Value::Uint(4)));
    assert_eq!(field(h, "latency_sum"), Some(Value::Float(30.5)));
    assert_eq!(field(h, "latency_min"), Some(Value::Float(1.0)));
    assert_eq!(field(h, "latency_max"), Some(Value::Float(20.0)));
    let buckets: Vec<(Option<&str>, Option<Value>)> = m.points[3..6]
        .iter()
        .map(|p| (p.get_tag("le"), field(p, "latency_bucket")))
        .collect();
    assert_eq!(
        buckets,
        [
            (Some("5"), Some(Value::Uint(1))),
            (Some("10.5"), Some(Value::Uint(3))),
            (Some("+Inf"), Some(Value::Uint(4)))
        ]
    );
    let e = &m.points[6];
    assert_eq!(field(e, "size_count"), Some(Value::Uint(2)));
    assert_eq!(field(e, "size_avg"), Some(Value::Float(4.5)));
    assert_eq!(e.get_tag("unit"), Some(""));
    let s = &m.points[7];
    assert_eq!(field(s, "rpc_count"), Some(Value::Uint(3)));
    assert_eq!(field(s, "rpc_sum"), Some(Value::Float(7.5)));
}

#[test]
fn bounds_are_written_without_exponents() {
    assert_eq!(bound_text(0.0000001), "0.0000001");
    assert_eq!(bound_text(1e6), "1000000");
    assert_eq!(bound_text(2.5), "2.5");
    assert_eq!(bound_text(f64::INFINITY), "+Inf");
}

#[test]
fn long_attribute_values_are_cut_on_a_character_boundary() {
    let s = "é".repeat(MAX_VALUE);
    let c = cut(&s);
    assert!(c.len() <= MAX_VALUE && c.len() >= MAX_VALUE - 1);
}
