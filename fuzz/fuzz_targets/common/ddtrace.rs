//! What every ddtrace decoder's fuzz target checks: arbitrary bytes decode or fail with an
//! error that says where, never panic; what decodes, written back (when the format has a
//! writer), decodes the same; and the spans go through the conversion and the span pipeline
//! into points that carry the schema's keys.

use datakit::inputs::ddtrace::DdtraceConfig;
use datakit::inputs::ddtrace::decode::{DdTrace, DecodeError};
use datakit::inputs::trace::{PipelineOptions, SpanPipeline};

pub fn check(
    data: &[u8],
    decode: fn(&[u8]) -> Result<Vec<DdTrace<'_>>, DecodeError>,
    encode: Option<fn(&[DdTrace<'_>]) -> Vec<u8>>,
) {
    let traces = match decode(data) {
        Ok(t) => t,
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            if let DecodeError::Msgpack { source, .. } = &e {
                assert!(source.offset <= data.len(), "{text}");
            }
            return;
        }
    };
    if let Some(encode) = encode {
        let again = encode(&traces);
        let back = decode(&again).expect("what we wrote decodes");
        let same = back.len() == traces.len()
            && back.iter().zip(&traces).all(|(a, b)| {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        let mut x = x.clone();
                        let mut y = y.clone();
                        // NaN metrics compare unequal to themselves.
                        for m in x.metrics.iter_mut().chain(y.metrics.iter_mut()) {
                            if m.1.is_nan() {
                                m.1 = 0.0;
                            }
                        }
                        x == y
                    })
            });
        assert!(same, "round trip changed the traces");
    }
    let n: usize = traces.iter().map(Vec::len).sum();
    let conv = datakit::inputs::ddtrace::Converter::new(&DdtraceConfig::default())
        .expect("default options")
        .convert(traces, "127.0.0.1");
    let pipeline = SpanPipeline::new(PipelineOptions {
        source: "ddtrace",
        sampling_rate: Some(0.5),
        hostname: "h".into(),
        ..PipelineOptions::default()
    });
    let out = pipeline.process(conv.traces);
    assert!(out.points.len() + out.sampled + out.filtered + conv.rejected + conv.truncated <= n);
    for p in &out.points {
        for k in ["trace_id", "span_id", "parent_id", "resource", "start", "duration"] {
            assert!(p.get_field(k).is_some(), "{k}");
        }
        for k in ["service", "operation", "source", "span_type", "source_type", "status"] {
            assert!(p.get_tag(k).is_some(), "{k}");
        }
        if let Some(datakit::point::Value::Str(m)) = p.get_field("message") {
            assert!(m.starts_with("{\"service\":"));
        }
    }
}
