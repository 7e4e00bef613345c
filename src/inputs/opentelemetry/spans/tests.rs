use super::*;
use crate::inputs::opentelemetry::otlp::common::v1::InstrumentationScope;
use crate::inputs::opentelemetry::otlp::resource::v1::Resource;
use crate::inputs::opentelemetry::otlp::trace::v1::{ScopeSpans, Status, span::Event};

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

fn opts(customer: &[&str], clean: bool) -> MapOptions {
    MapOptions {
        keys: KeyMap::new(
            &customer.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            false,
        )
        .unwrap(),
        compatible_ddtrace: false,
        split_service_name: true,
        clean_message: clean,
        del_message: false,
    }
}

fn span(trace: u8, id: u8, parent: u8, name: &str) -> OtelSpan {
    OtelSpan {
        trace_id: vec![trace; 16],
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: if parent == 0 {
            Vec::new()
        } else {
            vec![0, 0, 0, 0, 0, 0, 0, parent]
        },
        name: name.into(),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_002_500_000,
        ..OtelSpan::default()
    }
}

fn request(spans: Vec<OtelSpan>) -> Vec<ResourceSpans> {
    vec![ResourceSpans {
        resource: Some(Resource {
            attributes: vec![
                kv("service.name", s("shop")),
                kv("project", s("p1")),
                kv("telemetry.sdk.name", s("opentelemetry")),
            ],
            ..Resource::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "lib".into(),
                attributes: vec![kv("team.name", s("core"))],
                ..InstrumentationScope::default()
            }),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }]
}

#[test]
fn spans_map_as_the_original_maps_them() {
    let mut root = span(7, 1, 0, "GET /orders");
    root.attributes = vec![
        kv("http.request.method", s("GET")),
        kv("http.response.status_code", any_value::Value::IntValue(500)),
        kv("user.id", s("u-1")),
        kv("retries", any_value::Value::IntValue(3)),
    ];
    root.status = Some(Status {
        code: 2,
        message: "boom".into(),
    });
    root.events = vec![Event {
        name: "exception".into(),
        attributes: vec![
            kv("exception.type", s("ValueError")),
            kv("exception.message", s("card declined")),
            kv("exception.stacktrace", s("Traceback ...")),
        ],
        ..Event::default()
    }];
    let mut db = span(7, 2, 1, "SELECT orders");
    db.attributes = vec![
        kv("db.system", s("postgresql")),
        kv("server.address", s("db1")),
        kv("db.statement", s("SELECT 1")),
    ];
    let other = span(9, 3, 0, "other");
    let m = map(
        request(vec![root, db, other]),
        "10.0.0.1",
        &opts(&["retries", "reg:^team\\."], true),
    );
    assert_eq!(m.rejected, 0);
    assert_eq!(m.traces.len(), 2, "grouped by trace id");
    let t = &m.traces[0];
    let (r, d) = (&t[0], &t[1]);
    assert_eq!(r.trace_id, "07070707070707070707070707070707");
    assert_eq!(r.span_id_text, "0000000000000001");
    assert_eq!(r.parent_id_text, "0");
    assert_eq!(d.parent_id, r.span_id);
    assert_eq!(r.service, "shop");
    assert_eq!(r.resource, "GET /orders");
    assert_eq!(r.duration_ns, 2_500_000);
    assert!(r.error);
    assert_eq!(r.source_type, "web");
    assert_eq!(r.tag("http_method"), Some("GET"));
    assert_eq!(r.tag("http_status_code"), Some("500"));
    assert_eq!(r.tag("project"), Some("p1"));
    assert_eq!(r.tag("team_name"), Some("core"));
    assert_eq!(r.tag("span_kind"), Some("server"));
    assert_eq!(r.tag("remote_ip"), Some("10.0.0.1"));
    assert!(r.tag("user_id").is_none());
    let f = |s: &Span<SpanJson>, k: &str| {
        s.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(f(r, "retries"), Some(Value::Int(3)));
    assert_eq!(f(r, "error_type"), Some(Value::Str("ValueError".into())));
    assert_eq!(
        f(r, "error_message"),
        Some(Value::Str("card declined".into()))
    );
    // split_service_name
    assert_eq!(d.service, "postgresql");
    assert_eq!(d.tag("base_service"), Some("shop"));
    assert_eq!(d.tag("db_host"), Some("db1"));
    assert_eq!(d.source_type, "db");
    assert_eq!(d.tag("db_statement"), Some("SELECT 1"));
    // The message: what was not taken, in OTLP/JSON, cleaned.
    let mut msg = String::new();
    r.message.write_json(&mut msg);
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
    let keys: Vec<&str> = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["telemetry.sdk.name", "user.id", "trace_id"], "{msg}");
    assert!(
        v.get("traceId").is_none() && v.get("events").is_none(),
        "{msg}"
    );
}

#[test]
fn ids_in_decimal_with_compatible_ddtrace_and_unclean_messages() {
    let mut o = opts(&[], false);
    o.compatible_ddtrace = true;
    o.split_service_name = false;
    let mut sp = span(1, 200, 100, "x");
    sp.trace_id = (1..=16).collect();
    sp.attributes = vec![kv("db.system", s("redis"))];
    let m = map(request(vec![sp]), "", &o);
    let x = &m.traces[0][0];
    assert_eq!(
        x.trace_id,
        u64::from_be_bytes([9, 10, 11, 12, 13, 14, 15, 16]).to_string()
    );
    assert_eq!(x.span_id_text, "200");
    assert_eq!(x.parent_id_text, "100");
    assert_eq!(x.service, "shop");
    let mut msg = String::new();
    x.message.write_json(&mut msg);
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
    assert_eq!(v["spanId"], "00000000000000c8");
    assert_eq!(v["name"], "x");
    assert_eq!(v["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(v["kind"], 2);
}

#[test]
fn spans_without_valid_ids_are_rejected() {
    let mut a = span(1, 1, 0, "ok");
    a.trace_id = vec![0; 16];
    let mut b = span(1, 1, 0, "short");
    b.span_id = vec![1, 2];
    let c = span(1, 3, 0, "fine");
    let m = map(request(vec![a, b, c]), "", &opts(&[], true));
    assert_eq!(m.rejected, 2);
    assert_eq!(m.traces.len(), 1);
    assert!(
        m.rejected_why
            .as_deref()
            .unwrap()
            .contains("trace id is not 16 bytes"),
        "{:?}",
        m.rejected_why
    );
}

#[test]
fn message_json_is_valid_for_every_value_kind() {
    let mut sp = span(1, 1, 0, "v");
    sp.attributes = vec![
        kv("b", any_value::Value::BoolValue(true)),
        kv("d", any_value::Value::DoubleValue(f64::NAN)),
        kv("e", any_value::Value::DoubleValue(1.5)),
        kv("by", any_value::Value::BytesValue(vec![0, 255])),
        kv(
            "arr",
            any_value::Value::ArrayValue(
                crate::inputs::opentelemetry::otlp::common::v1::ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(s("q\"uote")),
                        },
                        AnyValue { value: None },
                    ],
                },
            ),
        ),
    ];
    let m = map(request(vec![sp]), "", &opts(&[], true));
    let mut msg = String::new();
    m.traces[0][0].message.write_json(&mut msg);
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap_or_else(|e| panic!("{e}: {msg}"));
    let a = |k: &str| {
        v["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == k)
            .unwrap_or_else(|| panic!("{k}: {msg}"))["value"]
            .clone()
    };
    assert_eq!(a("b")["boolValue"], true);
    assert_eq!(a("d")["doubleValue"], "NaN");
    assert_eq!(a("e")["doubleValue"], 1.5);
    assert_eq!(a("by")["bytesValue"], "AP8=");
    assert_eq!(
        a("arr")["arrayValue"]["values"][0]["stringValue"],
        "q\"uote"
    );
    assert!(
        a("arr")["arrayValue"]["values"][1]
            .as_object()
            .unwrap()
            .is_empty()
    );
}
