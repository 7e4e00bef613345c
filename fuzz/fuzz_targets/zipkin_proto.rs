//! Fuzzes the zipkin receiver's v2 protobuf decoder: arbitrary bytes decode or fail with an error
//! that says where, never panic; what decodes goes through the conversion and the span
//! pipeline into points that carry the schema's keys, and a message that is JSON.
#![no_main]

use datakit::inputs::trace::{PipelineOptions, SpanPipeline};
use datakit::inputs::zipkin::decode;
use datakit::inputs::zipkin::model::{self, Api};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut all = Vec::new();
    match decode::proto_v2(data) {
        Ok(spans) => all.push((Api::V2, spans)),
        Err(decode::ZipkinError::Proto { offset, .. }) => assert!(offset <= data.len()),
        Err(e) => panic!("not a protobuf error: {e}"),
    }
    let pipeline = SpanPipeline::new(PipelineOptions {
        source: "zipkin",
        sampling_rate: Some(0.5),
        hostname: "h".into(),
        ..PipelineOptions::default()
    });
    for (api, spans) in all {
        let n = spans.len();
        let traces: Vec<Vec<_>> = model::group(spans)
            .into_iter()
            .map(|t| t.into_iter().map(|z| model::to_span(z, api, &[])).collect())
            .collect();
        let out = pipeline.process(traces);
        assert_eq!(out.points.len() + out.sampled + out.filtered, n);
        for p in &out.points {
            for k in ["trace_id", "span_id", "parent_id", "resource", "start", "duration"] {
                assert!(p.get_field(k).is_some(), "{k}");
            }
            if let Some(datakit::point::Value::Str(m)) = p.get_field("message") {
                let v: Result<serde_json::Value, _> = serde_json::from_str(m);
                assert!(v.is_ok(), "message is not JSON: {m}");
            }
        }
    }
});
