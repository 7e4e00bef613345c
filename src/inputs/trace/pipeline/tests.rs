use std::cell::Cell;
use std::collections::BTreeMap;

use super::*;
use crate::inputs::trace::CloseResource;
use crate::point::Value;

thread_local! {
    static WRITES: Cell<usize> = const { Cell::new(0) };
}

/// A message that counts how often it is written.
#[derive(Debug, Clone, Default)]
struct Counted(&'static str);

impl SpanMessage for Counted {
    fn write_json(&self, out: &mut String) {
        WRITES.with(|w| w.set(w.get() + 1));
        out.push_str(self.0);
    }
}

fn span(trace: &str, id: u64, parent: u64, service: &str) -> Span<Counted> {
    Span {
        trace_id: trace.into(),
        span_id: id,
        parent_id: parent,
        span_id_text: id.to_string(),
        parent_id_text: parent.to_string(),
        service: service.into(),
        resource: format!("GET /r{id}"),
        operation: "op".into(),
        source_type: crate::inputs::trace::SOURCE_WEB,
        start_ns: 1_700_000_000_123_456_789,
        duration_ns: 2_500_000,
        message: Counted("{\"m\":1}"),
        ..Span::default()
    }
}

fn opts() -> PipelineOptions {
    PipelineOptions {
        source: "ddtrace",
        hostname: "agent-host".into(),
        ..PipelineOptions::default()
    }
}

#[test]
fn span_types_follow_the_parent_chain_across_services() {
    // 1 (a) ─ 2 (a) ─ 3 (a); 2 ─ 4 (b); 5's parent is not in the trace.
    let t = vec![
        span("t", 1, 0, "a"),
        span("t", 2, 1, "a"),
        span("t", 3, 2, "a"),
        span("t", 4, 2, "b"),
        span("t", 5, 99, "a"),
    ];
    assert_eq!(
        span_types(&t),
        vec!["entry", "local", "exit", "entry", "entry"]
    );
}

#[test]
fn a_kept_span_becomes_a_point_with_the_original_schema() {
    let mut o = opts();
    o.tags = vec![("env".into(), "cfg".into()), ("team".into(), "x".into())];
    let mut s = span("42", 1, 0, "svc");
    s.head_tags = vec![("remote_ip".into(), "10.0.0.1".into())];
    s.tags = vec![
        ("env".into(), "prod".into()),
        ("http_status_code".into(), "404".into()),
        ("service".into(), "not-this".into()),
    ];
    s.fields = vec![("error_stack".into(), Value::Str("x".repeat(2000)))];
    let p = SpanPipeline::new(o);
    let out = p.process(vec![vec![s]]);
    assert_eq!(out.points.len(), 1);
    let pt = &out.points[0];
    assert_eq!(pt.name, "ddtrace");
    assert_eq!(pt.category, Category::Tracing);
    assert_eq!(pt.time, 1_700_000_000_123_456_789);
    let tags: Vec<(&str, &str)> = pt
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("remote_ip", "10.0.0.1"),
            ("service", "svc"),
            ("operation", "op"),
            ("source", "ddtrace"),
            ("span_type", "entry"),
            ("source_type", "web"),
            // Config tags come before the span's and win.
            ("env", "cfg"),
            ("team", "x"),
            ("http_status_code", "404"),
            ("http_status_class", "4xx"),
            ("status", "ok"),
            ("dk_fingerprint", "agent-host"),
        ]
    );
    assert_eq!(pt.get_field("trace_id"), Some(&Value::Str("42".into())));
    assert_eq!(pt.get_field("span_id"), Some(&Value::Str("1".into())));
    assert_eq!(pt.get_field("parent_id"), Some(&Value::Str("0".into())));
    assert_eq!(
        pt.get_field("resource"),
        Some(&Value::Str("GET /r1".into()))
    );
    assert_eq!(
        pt.get_field("start"),
        Some(&Value::Int(1_700_000_000_123_456))
    );
    assert_eq!(pt.get_field("duration"), Some(&Value::Int(2500)));
    assert_eq!(
        pt.get_field("message"),
        Some(&Value::Str("{\"m\":1}".into()))
    );
    assert!(matches!(pt.get_field("error_stack"), Some(Value::Str(s)) if s.len() == 2000));
    assert!(pt.get_field("dk_sampling_rate").is_none(), "no sampler");
}

#[test]
fn del_message_leaves_the_message_out() {
    let p = SpanPipeline::new(PipelineOptions {
        del_message: true,
        ..opts()
    });
    let out = p.process(vec![vec![span("1", 1, 0, "a")]]);
    assert!(out.points[0].get_field("message").is_none());
}

fn trace_of(id: &str, n: u64) -> Trace<Counted> {
    (1..=n).map(|i| span(id, i, i - 1, "svc")).collect()
}

#[test]
fn the_sampler_keeps_whole_traces_by_the_id_hash_and_writes_no_message_for_dropped_ones() {
    let p = SpanPipeline::new(PipelineOptions {
        sampling_rate: Some(0.1),
        ..opts()
    });
    // Threshold 1000: ids with id % 10000 <= 1000 are kept.
    let traces = vec![
        trace_of("20500", 3), // 500: kept
        trace_of("1500", 2),  // 1500: dropped
        trace_of("9999", 4),  // dropped
        trace_of("11000", 1), // 1000: kept
    ];
    WRITES.with(|w| w.set(0));
    let out = p.process(traces);
    assert_eq!(out.points.len(), 4);
    assert_eq!(out.sampled, 6);
    assert_eq!(WRITES.with(|w| w.get()), 4, "messages of kept spans only");
    let ids: Vec<_> = out
        .points
        .iter()
        .map(|p| p.get_field("trace_id").cloned())
        .collect();
    assert_eq!(
        ids.iter()
            .filter(|i| **i == Some(Value::Str("20500".into())))
            .count(),
        3
    );
    // The first span of each kept trace carries the rate.
    assert_eq!(
        out.points[0].get_field("dk_sampling_rate"),
        Some(&Value::Float(0.1))
    );
    assert!(out.points[1].get_field("dk_sampling_rate").is_none());
}

#[test]
fn the_tracers_decision_and_errors_go_around_the_sampler() {
    let p = SpanPipeline::new(PipelineOptions {
        sampling_rate: Some(0.0),
        ..opts()
    });
    let mut keep = trace_of("5", 2);
    keep[0].sampling = Some(USER_KEEP);
    let mut err = trace_of("6", 2);
    err[1].error = true;
    let mut drop = trace_of("0", 1); // 0 % 10000 <= 0 would keep it...
    drop[0].sampling = Some(SAMPLER_DROP); // ...but the tracer said drop.
    let mut rum = trace_of("7", 1);
    rum[0].rum = true;
    let out = p.process(vec![keep, err, drop, rum, trace_of("8", 3)]);
    assert_eq!(out.points.len(), 5);
    assert_eq!(out.sampled, 4);
    let error_points = out
        .points
        .iter()
        .filter(|p| p.get_tag("status") == Some("error"))
        .count();
    assert_eq!(error_points, 1);
}

#[test]
fn close_resource_and_omit_err_status_drop_whole_traces() {
    let mut map = BTreeMap::new();
    map.insert("svc".to_string(), vec!["^GET /r2$".to_string()]);
    map.insert("*".to_string(), vec!["health".to_string()]);
    let p = SpanPipeline::new(PipelineOptions {
        close_resource: CloseResource::compile(&map).unwrap(),
        omit_err_status: vec!["404".into()],
        ..opts()
    });
    let closed = trace_of("1", 3); // its span 2 has resource GET /r2
    let mut other_service = trace_of("2", 3);
    for s in &mut other_service {
        s.service = "other".into();
    }
    let mut health = trace_of("3", 1);
    health[0].service = "any".into();
    health[0].resource = "/healthz".into();
    let mut not_found = trace_of("4", 1);
    not_found[0].tags = vec![("http_status_code".into(), "404".into())];
    // An error trace with the omitted code is kept: errors skip the later filters.
    let mut not_found_err = not_found.clone();
    not_found_err[0].error = true;
    not_found_err[0].trace_id = "5".into();
    let out = p.process(vec![
        closed,
        other_service,
        health,
        not_found,
        not_found_err,
    ]);
    assert_eq!(out.filtered, 3 + 1 + 1);
    assert_eq!(out.points.len(), 3 + 1);
    assert!(
        out.filtered_why
            .as_deref()
            .is_some_and(|w| w.contains("close_resource")),
        "{:?}",
        out.filtered_why
    );
}

#[test]
fn a_rare_resource_goes_around_the_sampler_once_an_hour() {
    let p = SpanPipeline::new(PipelineOptions {
        sampling_rate: Some(0.0),
        keep_rare_resource: true,
        ..opts()
    });
    // Trace id 5 is sampled out at rate 0; its entry resource is new the first time only.
    let out = p.process(vec![trace_of("5", 2), trace_of("5", 2)]);
    assert_eq!(out.points.len(), 2);
    assert_eq!(out.sampled, 2);
    let mut other = trace_of("5", 1);
    other[0].resource = "GET /other".into();
    assert_eq!(p.process(vec![other]).points.len(), 1);
}

/// A view says its keys are distinct only when they are: a head tag or a sampling-rate field
/// that repeats a key makes it say it does not know (the checker then looks).
#[test]
fn span_views_claim_distinct_keys_only_when_they_are() {
    let pipeline = SpanPipeline::new(PipelineOptions {
        sampling_rate: Some(1.0),
        ..opts()
    });
    let mut plain = span("t1", 1, 0, "a");
    plain.head_tags = vec![("remote_ip".into(), "10.0.0.1".into())];
    plain.tags = vec![
        ("service".into(), "dup".into()),
        ("env".into(), "prod".into()),
    ];
    let mut head = span("t2", 1, 0, "a");
    head.head_tags = vec![("service".into(), "x".into())];
    let mut twice = span("t3", 1, 0, "a");
    twice.head_tags = vec![("ip".into(), "1".into()), ("ip".into(), "2".into())];
    let mut rate = span("t4", 1, 0, "a");
    rate.fields = vec![("dk_sampling_rate".into(), Value::Int(3))];
    let mut seen = Vec::new();
    pipeline.process_with(
        vec![vec![plain], vec![head], vec![twice], vec![rate]],
        |v| {
            let keys: Vec<&str> = v.keys().collect();
            let unique = keys.iter().collect::<std::collections::HashSet<_>>().len() == keys.len();
            assert!(!v.keys_distinct() || unique, "{keys:?}");
            seen.push((v.keys_distinct(), unique));
        },
    );
    assert_eq!(
        seen,
        [(true, true), (false, false), (false, false), (false, false)]
    );
}
