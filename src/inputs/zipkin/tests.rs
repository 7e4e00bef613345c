use super::model::{Api, ZSpan, to_span};
use super::*;
use crate::inputs::trace::SpanMessage;

#[test]
fn spans_map_as_the_original_maps_them() {
    let ignore = vec![Regex::new("^secret").unwrap()];
    let z = ZSpan {
        trace_id_high: 0,
        trace_id: 0xab,
        id: 2,
        parent_id: 0,
        name: "get /x".into(),
        timestamp: 1_700_000_000_000_001,
        duration: 77,
        local_endpoint: Some(model::Endpoint {
            service_name: "svc".into(),
            ..Default::default()
        }),
        tags: vec![
            ("http.method".into(), "GET".into()),
            ("error".into(), "".into()),
            ("secret.key".into(), "x".into()),
        ],
        ..ZSpan::default()
    };
    let s = to_span(z.clone(), Api::V2, &ignore);
    assert_eq!(s.trace_id, "00000000000000ab");
    assert_eq!(
        (s.span_id_text.as_str(), s.parent_id_text.as_str()),
        ("0000000000000002", "0")
    );
    assert_eq!(s.service, "svc");
    assert_eq!(s.resource, "get /x");
    assert!(s.error);
    assert_eq!(s.start_ns, 1_700_000_000_000_001_000);
    assert_eq!(s.duration_ns, 77_000);
    assert_eq!(
        s.tags,
        vec![
            ("http_method".to_string(), "GET".to_string()),
            ("error".to_string(), String::new())
        ]
    );
    let mut out = String::new();
    s.message.write_json(&mut out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["traceId"], "00000000000000ab");
    assert_eq!(v["localEndpoint"]["serviceName"], "svc");
    assert_eq!(v["tags"]["secret.key"], "x");
    assert!(v.get("parentId").is_none());
    // Without an endpoint: the original's names for an unknown service.
    let mut anon = z;
    anon.local_endpoint = None;
    assert_eq!(
        to_span(anon.clone(), Api::V2, &[]).service,
        "zipkin_v2_unknow_service"
    );
    assert_eq!(
        to_span(anon, Api::V1Thrift, &[]).service,
        "zipkin_core_v1_unknown_service"
    );
    let hi = ZSpan {
        trace_id_high: 1,
        trace_id: 2,
        ..ZSpan::default()
    };
    assert_eq!(
        to_span(hi, Api::V2, &[]).trace_id,
        "00000000000000010000000000000002"
    );
}

#[test]
fn options_are_checked() {
    let (cfg, diags) = crate::inputs::confd::decode_for_test(
        "zipkin",
        "[[inputs.zipkin]]\n  pathV1 = \"api/v1\"\n  ignore_tags = [\"(\"]\n  [inputs.zipkin.storage]\n    path = \"x\"\n",
    );
    assert!(cfg.is_none());
    let all = diags.join("\n");
    for want in [
        "pathV1`: `api/v1` must start with `/`",
        "ignore_tags[0]`: invalid regular expression",
        "storage` has no effect in this agent",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    let (cfg, diags) = crate::inputs::confd::decode_for_test("zipkin", "[[inputs.zipkin]]\n");
    assert!(cfg.is_some() && diags.is_empty(), "{diags:?}");
}

/// Found by the zipkin_thrift fuzz target: annotation times far apart overflowed the duration.
#[test]
fn extreme_annotation_times_do_not_overflow() {
    let mut z = ZSpan {
        annotations: vec![(i64::MIN + 1, "a".into()), (i64::MAX, "b".into())],
        ..ZSpan::default()
    };
    model::v1_times(&mut z);
    assert_eq!((z.timestamp, z.duration), (i64::MIN + 1, i64::MAX));
}
