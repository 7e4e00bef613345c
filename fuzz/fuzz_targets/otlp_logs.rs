//! Fuzzes the opentelemetry receiver's OTLP logs decoders: the first byte picks protobuf
//! (even) or OTLP/JSON (odd), the rest is the body; the second byte sets `log_max` (bytes).
//! Arbitrary bytes decode or fail, never panic; every record maps into `logging` points whose
//! messages, joined, are its body's text, each piece within `log_max` (or one character).
#![no_main]

use datakit::inputs::opentelemetry::otlp::collector::logs::v1::ExportLogsServiceRequest;
use datakit::inputs::opentelemetry::{json, logs};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let [sel, max, body @ ..] = data else {
        return;
    };
    let req = if sel & 1 == 0 {
        match ExportLogsServiceRequest::decode(body) {
            Ok(r) => r,
            Err(_) => return,
        }
    } else {
        match json::logs_request(body) {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                return;
            }
        }
    };
    let o = logs::LogOptions {
        compatible_ddtrace: sel & 2 != 0,
        max_message: usize::from(*max).max(1),
        tags: vec![("t".into(), "v".into())],
        hostname: "h".into(),
    };
    let m = logs::map(req.resource_logs, "127.0.0.1", &o);
    assert!(m.points.len() >= m.records);
    for p in &m.points {
        assert!(p.get_tag("status").is_some());
        match p.get_field("message") {
            Some(datakit::point::Value::Str(s)) => {
                assert!(s.len() <= o.max_message || s.chars().count() == 1)
            }
            other => panic!("message: {other:?}"),
        }
    }
});
