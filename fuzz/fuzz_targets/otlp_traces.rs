//! Fuzzes the opentelemetry receiver's OTLP trace decoders: the first byte picks protobuf
//! (even) or OTLP/JSON (odd), the rest is the body. Arbitrary bytes decode or fail with an
//! error (the JSON's saying where), never panic; what decodes is mapped and goes through the
//! span pipeline into points that carry the schema's keys and a `message` that is JSON; every
//! span is a point, sampled, filtered or rejected.
#![no_main]

use datakit::inputs::opentelemetry::otlp::collector::trace::v1::ExportTraceServiceRequest;
use datakit::inputs::opentelemetry::{json, spans};
use datakit::inputs::trace::{PipelineOptions, SpanPipeline};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let req = if sel & 1 == 0 {
        match ExportTraceServiceRequest::decode(body) {
            Ok(r) => r,
            Err(_) => return,
        }
    } else {
        match json::trace_request(body) {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                return;
            }
        }
    };
    let n: usize = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let o = spans::MapOptions {
        keys: spans::KeyMap::new(&["reg:^a".to_string()], sel & 2 != 0).unwrap(),
        compatible_ddtrace: sel & 4 != 0,
        split_service_name: true,
        clean_message: sel & 8 != 0,
        del_message: false,
    };
    let mapped = spans::map(req.resource_spans, "127.0.0.1", &o);
    let pipeline = SpanPipeline::new(PipelineOptions {
        source: "opentelemetry",
        sampling_rate: Some(0.5),
        hostname: "h".into(),
        ..PipelineOptions::default()
    });
    let rejected = mapped.rejected;
    let out = pipeline.process(mapped.traces);
    assert_eq!(out.points.len() + out.sampled + out.filtered + rejected, n);
    for p in &out.points {
        for k in ["trace_id", "span_id", "parent_id", "resource", "start", "duration"] {
            assert!(p.get_field(k).is_some(), "{k}");
        }
        if let Some(datakit::point::Value::Str(m)) = p.get_field("message") {
            let v: Result<serde_json::Value, _> = serde_json::from_str(m);
            assert!(v.is_ok(), "message is not JSON: {m}");
        }
    }
});
