//! Fuzzes the zipkin receiver's JSON (v2 and v1) decoder: arbitrary bytes decode or fail with an error
//! that says where, never panic; what decodes goes through the conversion and the span
//! pipeline into points that carry the schema's keys, and a message that is JSON.
#![no_main]

use datakit::inputs::trace::{PipelineOptions, SpanPipeline};
use datakit::inputs::zipkin::decode;
use datakit::inputs::zipkin::model::{self, Api};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut all = Vec::new();
    for (api, dec) in [(Api::V2, decode::json_v2 as decode::Decoder), (Api::V1Json, decode::json_v1)] {
        match dec(data) {
            Ok(spans) => all.push((api, spans)),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
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
