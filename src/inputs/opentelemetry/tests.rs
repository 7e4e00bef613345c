use super::*;

fn validate_keys(c: &OpentelemetryConfig) -> Vec<String> {
    crate::inputs::validation_issues(c)
        .into_iter()
        .map(|l| l.split(": ").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn compat_keys_say_why() {
    assert!(compat_key("jmarshaler").is_some());
    assert!(compat_key("http.metric_api").is_none());
    assert!(compat_key("storage.path").is_some());
    assert!(compat_key("tracing_metric_enable").is_some());
    assert!(compat_key("http.trace_api").is_none());
}

#[test]
fn bad_options_are_refused() {
    let mut c = OpentelemetryConfig::default();
    c.grpc.addr = "localhost".into();
    c.http.http_status_ok = 204;
    c.customer_tags = vec!["reg:(".into()];
    c.grpc.max_payload = 0;
    let keys = validate_keys(&c);
    for k in [
        "grpc.addr",
        "http.http_status_ok",
        "customer_tags[0]",
        "grpc.max_payload",
    ] {
        assert!(keys.iter().any(|e| e == k), "{k}: {keys:?}");
    }
    assert!(validate_keys(&OpentelemetryConfig::default()).is_empty());
}

#[test]
fn responses_in_json() {
    assert_eq!(
        response_json(Signal::Traces, &ExportTraceServiceResponse::default()),
        "{}"
    );
    let r = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "bad \"ids\"".into(),
        }),
    };
    let v: serde_json::Value = serde_json::from_str(&response_json(Signal::Traces, &r)).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "2");
    let v: serde_json::Value = serde_json::from_str(&response_json(Signal::Metrics, &r)).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "2");
    assert_eq!(v["partialSuccess"]["errorMessage"], "bad \"ids\"");
}
