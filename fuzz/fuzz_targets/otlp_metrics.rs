//! Fuzzes the opentelemetry receiver's OTLP metrics decoders: the first byte picks protobuf
//! (even) or OTLP/JSON (odd), the rest is the body. Arbitrary bytes decode or fail, never
//! panic; what decodes maps into `otel_service` points, each with a field, and every data
//! point is a point (a histogram's buckets more) or rejected.
#![no_main]

use datakit::inputs::opentelemetry::otlp::collector::metrics::v1::ExportMetricsServiceRequest;
use datakit::inputs::opentelemetry::{json, metrics};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let req = if sel & 1 == 0 {
        match ExportMetricsServiceRequest::decode(body) {
            Ok(r) => r,
            Err(_) => return,
        }
    } else {
        match json::metrics_request(body) {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                return;
            }
        }
    };
    let m = metrics::map(req.resource_metrics, "127.0.0.1");
    assert!(m.points.len() + m.rejected >= m.data_points);
    for p in &m.points {
        assert_eq!(p.name, metrics::MEASUREMENT);
        assert!(!p.fields.is_empty());
    }
});
