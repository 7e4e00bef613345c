use super::convert::DdMessage;
use super::decode::DdSpan;
use super::*;
use crate::inputs::trace::{SpanMessage, Trace};

fn span(trace_id: u64, span_id: u64, parent_id: u64) -> DdSpan<'static> {
    DdSpan {
        service: "web".into(),
        name: "flask.request".into(),
        resource: "GET\n/x".into(),
        trace_id,
        span_id,
        parent_id,
        start: 1_700_000_000_000_000_000,
        duration: 1_234_567,
        span_type: "web".into(),
        ..DdSpan::default()
    }
}

fn convert(cfg: &DdtraceConfig, traces: Vec<Vec<DdSpan<'static>>>) -> convert::Converted<'static> {
    Converter::new(cfg).unwrap().convert(traces, "127.0.0.1")
}

fn one(cfg: &DdtraceConfig, s: DdSpan<'static>) -> crate::inputs::trace::Span<DdMessage<'static>> {
    let mut c = convert(cfg, vec![vec![s]]);
    c.traces.remove(0).remove(0)
}

#[test]
fn trace_ids_follow_the_options() {
    let mut root = span(0xa3f1c2d4e5f60718, 5, 0);
    root.meta
        .push(("_dd.p.tid".into(), "6565a1b200000000".into()));
    let d = DdtraceConfig::default();
    // 128-bit: `_dd.p.tid` then 16 hex digits; span ids decimal.
    let s = one(&d, root.clone());
    assert_eq!(s.trace_id, "6565a1b200000000a3f1c2d4e5f60718");
    assert_eq!(
        (s.span_id_text.as_str(), s.parent_id_text.as_str()),
        ("5", "0")
    );
    // Off: the low 64 bits in decimal.
    let no128 = DdtraceConfig {
        trace_128_bit_id: false,
        ..d.clone()
    };
    assert_eq!(
        one(&no128, root.clone()).trace_id,
        0xa3f1c2d4e5f60718u64.to_string()
    );
    // trace_id_64_bit_hex: 16 hex digits, `_dd.p.tid` ignored, span ids hex.
    let hex = DdtraceConfig {
        trace_id_64_bit_hex: true,
        ..d.clone()
    };
    let s = one(&hex, root.clone());
    assert_eq!(s.trace_id, "a3f1c2d4e5f60718");
    assert_eq!(s.span_id_text, "0000000000000005");
    assert_eq!(s.parent_id_text, "0");
    // compatible_otel: span ids in hex only.
    let otel = DdtraceConfig {
        compatible_otel: true,
        trace_128_bit_id: false,
        ..d
    };
    let s = one(&otel, span(10, 255, 16));
    assert_eq!(s.trace_id, "10");
    assert_eq!(
        (s.span_id_text.as_str(), s.parent_id_text.as_str()),
        ("00000000000000ff", "0000000000000010")
    );
}

#[test]
fn the_trace_id_of_the_first_span_names_every_span() {
    let mut root = span(1, 1, 0);
    root.meta.push(("_dd.p.tid".into(), "ff".into()));
    let c = convert(&DdtraceConfig::default(), vec![vec![root, span(1, 2, 1)]]);
    assert!(
        c.traces[0]
            .iter()
            .all(|s| s.trace_id == "ff0000000000000001")
    );
}

#[test]
fn the_tracers_sampling_priority_drops_or_tags() {
    let d = DdtraceConfig::default();
    for (p, drop) in [
        (-1.0, true),
        (-3.0, true),
        (0.0, true),
        (1.0, false),
        (2.0, false),
        (3.0, false),
    ] {
        let mut s = span(1, 1, 0);
        s.metrics.push((convert::KEY_PRIORITY.into(), p));
        let c = convert(&d, vec![vec![span(1, 2, 1), s]]);
        assert_eq!(c.rejected, if drop { 2 } else { 0 }, "{p}");
        if !drop {
            let want = match p as i64 {
                1 => Some("sampler_keep"),
                2 => Some("user_keep"),
                _ => None,
            };
            assert_eq!(c.traces[0][1].tag("sampling_rate"), want, "{p}");
        }
    }
}

#[test]
fn traces_the_sampler_drops_are_left_out_before_their_spans_are_built() {
    use crate::inputs::trace::{PipelineOptions, SpanPipeline};
    let pipeline = |close: bool| {
        let mut o = PipelineOptions {
            source: "ddtrace",
            sampling_rate: Some(0.3),
            hostname: "h".into(),
            ..PipelineOptions::default()
        };
        if close {
            let rules = [("nobody".to_string(), vec!["^$".to_string()])].into();
            o.close_resource = crate::inputs::trace::CloseResource::compile(&rules).unwrap();
        }
        SpanPipeline::new(o)
    };
    let body: Vec<_> = (0..300u64)
        .map(|i| {
            let mut t = super::encode::sample_trace(0x9e37_79b9 + i * 7919, 3, 1_000);
            match i % 10 {
                // An error, the tracer's "keep", RUM: the sampler does not decide these.
                0 => t[1].error = 1,
                1 => t[0].metrics.push((convert::KEY_PRIORITY.into(), 2.0)),
                2 => t[2].meta.push(("_dd.origin".into(), "rum".into())),
                _ => {}
            }
            t
        })
        .collect();
    let conv = Converter::new(&DdtraceConfig::default()).unwrap();
    let points = |p: &SpanPipeline, early: bool| {
        let c = conv.convert_for(body.clone(), "10.0.0.1", early.then_some(p));
        let out = p.process(c.traces);
        (out.points, c.sampled + out.sampled)
    };
    let p = pipeline(false);
    let (late, late_sampled) = points(&p, false);
    let (early, early_sampled) = points(&p, true);
    assert!(late_sampled > 300 && late_sampled < 900, "{late_sampled}");
    assert_eq!((&early, early_sampled), (&late, late_sampled));
    // With another filter configured, every trace goes the whole way (same result).
    let p = pipeline(true);
    let c = conv.convert_for(body.clone(), "10.0.0.1", Some(&p));
    assert_eq!(c.sampled, 0);
    assert_eq!(p.process(c.traces).sampled, late_sampled);
}

#[test]
fn meta_keys_become_tags_and_leave_the_message() {
    let cfg = DdtraceConfig {
        customer_tags: vec!["team.name".into(), "reg:^k8s\\.".into()],
        ..DdtraceConfig::default()
    };
    let mut s = span(1, 1, 0);
    s.meta = vec![
        ("http.status_code".into(), "500".into()),
        ("runtime-id".into(), "rid".into()),
        ("db.type".into(), "mysql".into()),
        ("peer.hostname".into(), "db1".into()),
        ("team.name".into(), "core".into()),
        ("k8s.pod".into(), "p-1".into()),
        ("error.stack".into(), "x".repeat(1500).into()),
        ("other.key".into(), "stays".into()),
    ];
    s.metrics = vec![("_dd.measured".into(), 1.0), ("rate".into(), 0.25)];
    s.error = 1;
    let sp = one(&cfg, s);
    let tags: Vec<(&str, &str)> = sp
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("http_status_code", "500"),
            ("runtime_id", "rid"),
            ("runtime-id", "rid"),
            ("db_host", "db1"),
            ("db_system", "mysql"),
            ("team_name", "core"),
            ("k8s_pod", "p-1"),
        ]
    );
    assert_eq!(sp.fields.len(), 1);
    assert_eq!(sp.fields[0].0, "error_stack");
    assert_eq!(sp.resource, "GET /x");
    assert_eq!(
        sp.head_tags,
        vec![("remote_ip".to_string(), "127.0.0.1".to_string())]
    );
    let mut msg = String::new();
    sp.message.write_json(&mut msg);
    assert_eq!(
        msg,
        r#"{"service":"web","name":"flask.request","resource":"GET\n/x","start":1700000000000000000,"duration":1234567,"error":1,"meta":{"peer.hostname":"db1","other.key":"stays"},"metrics":{"_dd.measured":1,"rate":0.25},"type":"web"}"#
    );
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
    assert!(v.get("trace_id").is_none());
}

#[test]
fn long_traces_are_cut_at_trace_max_spans() {
    let cfg = DdtraceConfig {
        trace_max_spans: 2,
        ..DdtraceConfig::default()
    };
    let c = convert(&cfg, vec![(1..=5).map(|i| span(1, i, i - 1)).collect()]);
    assert_eq!(c.truncated, 3);
    let t: &Trace<DdMessage<'_>> = &c.traces[0];
    assert_eq!(t.len(), 2);
    assert!(
        t[1].message
            .0
            .meta
            .iter()
            .any(|(k, v)| k == "__datakit_span_truncated"
                && v.contains("got spans 5, max span limit is 2(3 spans truncated)"))
    );
}

fn decode_toml(text: &str) -> (Option<Box<dyn InputConfig>>, Vec<String>) {
    let (r, diags) = crate::inputs::confd::decode_for_test("ddtrace", text);
    (r, diags)
}

#[test]
fn options_are_checked_and_the_originals_other_keys_reported() {
    let (cfg, diags) = decode_toml(
        r#"
[[inputs.ddtrace]]
  endpoints = ["/v0.4/traces", "/v0.9/traces"]
  customer_tags = ["reg:("]
  trace_max_spans = 0
  omit_err_status = ["40x"]
  tracing_metric_enable = true
  [inputs.ddtrace.sampler]
    sampling_rate = 1.5
  [inputs.ddtrace.close_resource]
    "*" = ["[a"]
  [inputs.ddtrace.storage]
    path = "./x"
"#,
    );
    assert!(cfg.is_none(), "{diags:?}");
    let all = diags.join("\n");
    for want in [
        "endpoints[1]`: unknown endpoint `/v0.9/traces`",
        "customer_tags[0]`: invalid regular expression",
        "trace_max_spans`: must be at least 1",
        "omit_err_status[0]`: `40x` is not an HTTP status code",
        "sampler.sampling_rate`: must be between 0 and 1, found 1.5",
        "close_resource.*[0]`: invalid regular expression",
        "storage` has no effect in this agent",
        "tracing_metric_enable` has no effect in this agent",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    let (cfg, diags) = decode_toml("[[inputs.ddtrace]]\n  del_message = true\n");
    assert!(cfg.is_some(), "{diags:?}");
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn metrics_in_the_message_read_as_rust_writes_them() {
    for v in [
        0.0,
        -0.0,
        1.0,
        -7.0,
        4242.0,
        0.25,
        1e15,
        9_007_199_254_740_991.0,
        1e17,
        -1e300,
        5e-324,
    ] {
        let mut s = span(1, 1, 0);
        s.metrics = vec![("m".into(), v)];
        let mut msg = String::new();
        one(&DdtraceConfig::default(), s)
            .message
            .write_json(&mut msg);
        assert!(
            msg.contains(&format!("\"metrics\":{{\"m\":{v}}}")),
            "{v}: {msg}"
        );
    }
}
