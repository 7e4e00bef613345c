//! OTLP/JSON, decoded into the same messages as OTLP/protobuf ([`super::otlp`]).
//!
//! The encoding's rules (OTLP specification, "JSON Protobuf Encoding"): field names in
//! lowerCamelCase (the proto's snake_case names are taken too, as protobuf's JSON mapping
//! takes them); trace and span ids as hex strings, not base64; other bytes as base64; 64-bit
//! integers as decimal strings or numbers; enums as integers (their names are taken too);
//! fields of unknown names are ignored, as receivers must; `null` is the field's default.
//! An error says where: the JSON's line and column for bad JSON, else the path of the value
//! (`resourceSpans[0].scopeSpans[1].spans[2].traceId`).

use std::fmt;

use base64::Engine;
use serde_json::{Map, Value};

use super::otlp::collector::logs::v1::ExportLogsServiceRequest;
use super::otlp::collector::metrics::v1::ExportMetricsServiceRequest;
use super::otlp::collector::trace::v1::ExportTraceServiceRequest;
use super::otlp::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use super::otlp::logs::v1 as l;
use super::otlp::metrics::v1 as m;
use super::otlp::resource::v1::Resource;
use super::otlp::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, span::Event, span::Link, status::StatusCode,
};

/// Deepest nesting of values taken (`arrayValue` in `kvlistValue` in ...).
const MAX_DEPTH: usize = 64;

/// Why an OTLP/JSON body could not be decoded, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    #[error("JSON: {0}")]
    Syntax(String),
    #[error("at {path}: {what}")]
    Value { path: String, what: String },
}

/// Where a value sits: a chain of keys and indexes, written only for an error.
#[derive(Clone, Copy)]
struct P<'a> {
    parent: Option<&'a P<'a>>,
    key: &'a str,
    idx: Option<usize>,
}

impl<'a> P<'a> {
    const ROOT: P<'static> = P {
        parent: None,
        key: "",
        idx: None,
    };
    fn k(&'a self, key: &'a str) -> P<'a> {
        P {
            parent: Some(self),
            key,
            idx: None,
        }
    }
    fn i(&self, idx: usize) -> P<'a> {
        P {
            idx: Some(idx),
            ..*self
        }
    }
    fn depth(&self) -> usize {
        let mut n = 0;
        let mut p = self.parent;
        while let Some(q) = p {
            n += 1;
            p = q.parent;
        }
        n
    }
    fn err<T>(&self, what: impl Into<String>) -> Result<T, JsonError> {
        Err(JsonError::Value {
            path: self.to_string(),
            what: what.into(),
        })
    }
}

impl fmt::Display for P<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut cur = Some(self);
        while let Some(c) = cur {
            if c.parent.is_some() {
                parts.push(c);
            }
            cur = c.parent;
        }
        if parts.is_empty() {
            return f.write_str("the top");
        }
        for (n, c) in parts.iter().rev().enumerate() {
            if n > 0 {
                f.write_str(".")?;
            }
            f.write_str(c.key)?;
            if let Some(i) = c.idx {
                write!(f, "[{i}]")?;
            }
        }
        Ok(())
    }
}

type R<T> = Result<T, JsonError>;

/// Decodes an `ExportTraceServiceRequest` in OTLP/JSON.
pub fn trace_request(body: &[u8]) -> R<ExportTraceServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| JsonError::Syntax(e.to_string()))?;
    let p = P::ROOT;
    let m = obj(&v, &p)?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(m, &p, "resourceSpans", "resource_spans", resource_spans)?,
    })
}

/// Decodes an `ExportMetricsServiceRequest` in OTLP/JSON (exemplars are skipped: they are
/// not written to points).
pub fn metrics_request(body: &[u8]) -> R<ExportMetricsServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| JsonError::Syntax(e.to_string()))?;
    let p = P::ROOT;
    let o = obj(&v, &p)?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: list(
            o,
            &p,
            "resourceMetrics",
            "resource_metrics",
            resource_metrics,
        )?,
    })
}

/// Decodes an `ExportLogsServiceRequest` in OTLP/JSON.
pub fn logs_request(body: &[u8]) -> R<ExportLogsServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| JsonError::Syntax(e.to_string()))?;
    let p = P::ROOT;
    let o = obj(&v, &p)?;
    Ok(ExportLogsServiceRequest {
        resource_logs: list(o, &p, "resourceLogs", "resource_logs", resource_logs)?,
    })
}

fn resource_logs(v: &Value, p: &P) -> R<l::ResourceLogs> {
    let o = obj(v, p)?;
    Ok(l::ResourceLogs {
        resource: message(o, p, "resource", "resource", resource)?,
        scope_logs: list(o, p, "scopeLogs", "scope_logs", scope_logs)?,
        schema_url: string(o, p, "schemaUrl", "schema_url")?,
    })
}

fn scope_logs(v: &Value, p: &P) -> R<l::ScopeLogs> {
    let o = obj(v, p)?;
    Ok(l::ScopeLogs {
        scope: message(o, p, "scope", "scope", scope)?,
        log_records: list(o, p, "logRecords", "log_records", log_record)?,
        schema_url: string(o, p, "schemaUrl", "schema_url")?,
    })
}

fn log_record(v: &Value, p: &P) -> R<l::LogRecord> {
    let o = obj(v, p)?;
    Ok(l::LogRecord {
        time_unix_nano: u64_field(o, p, "timeUnixNano", "time_unix_nano")?,
        observed_time_unix_nano: u64_field(
            o,
            p,
            "observedTimeUnixNano",
            "observed_time_unix_nano",
        )?,
        severity_number: enum_field(o, p, "severityNumber", "severity_number", |s| {
            l::SeverityNumber::from_str_name(s).map(|n| n as i32)
        })?,
        severity_text: string(o, p, "severityText", "severity_text")?,
        body: message(o, p, "body", "body", any_value)?,
        attributes: list(o, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            o,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
        flags: u32_field(o, p, "flags", "flags")?,
        trace_id: id_field(o, p, "traceId", "trace_id", 16)?,
        span_id: id_field(o, p, "spanId", "span_id", 8)?,
        event_name: string(o, p, "eventName", "event_name")?,
    })
}

fn resource_metrics(v: &Value, p: &P) -> R<m::ResourceMetrics> {
    let o = obj(v, p)?;
    Ok(m::ResourceMetrics {
        resource: message(o, p, "resource", "resource", resource)?,
        scope_metrics: list(o, p, "scopeMetrics", "scope_metrics", scope_metrics)?,
        schema_url: string(o, p, "schemaUrl", "schema_url")?,
    })
}

fn scope_metrics(v: &Value, p: &P) -> R<m::ScopeMetrics> {
    let o = obj(v, p)?;
    Ok(m::ScopeMetrics {
        scope: message(o, p, "scope", "scope", scope)?,
        metrics: list(o, p, "metrics", "metrics", metric)?,
        schema_url: string(o, p, "schemaUrl", "schema_url")?,
    })
}

fn temporality(o: &Map<String, Value>, p: &P) -> R<i32> {
    enum_field(
        o,
        p,
        "aggregationTemporality",
        "aggregation_temporality",
        |s| m::AggregationTemporality::from_str_name(s).map(|t| t as i32),
    )
}

fn metric(v: &Value, p: &P) -> R<m::Metric> {
    use m::metric::Data;
    let o = obj(v, p)?;
    let data = if let Some(x) = get(o, "gauge", "gauge") {
        let q = p.k("gauge");
        let g = obj(x, &q)?;
        Some(Data::Gauge(m::Gauge {
            data_points: list(g, &q, "dataPoints", "data_points", number_point)?,
        }))
    } else if let Some(x) = get(o, "sum", "sum") {
        let q = p.k("sum");
        let g = obj(x, &q)?;
        Some(Data::Sum(m::Sum {
            data_points: list(g, &q, "dataPoints", "data_points", number_point)?,
            aggregation_temporality: temporality(g, &q)?,
            is_monotonic: match get(g, "isMonotonic", "is_monotonic") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return q
                        .k("isMonotonic")
                        .err(format!("a boolean was expected, found {}", kind(other)));
                }
            },
        }))
    } else if let Some(x) = get(o, "histogram", "histogram") {
        let q = p.k("histogram");
        let g = obj(x, &q)?;
        Some(Data::Histogram(m::Histogram {
            data_points: list(g, &q, "dataPoints", "data_points", histogram_point)?,
            aggregation_temporality: temporality(g, &q)?,
        }))
    } else if let Some(x) = get(o, "exponentialHistogram", "exponential_histogram") {
        let q = p.k("exponentialHistogram");
        let g = obj(x, &q)?;
        Some(Data::ExponentialHistogram(m::ExponentialHistogram {
            data_points: list(g, &q, "dataPoints", "data_points", exp_point)?,
            aggregation_temporality: temporality(g, &q)?,
        }))
    } else if let Some(x) = get(o, "summary", "summary") {
        let q = p.k("summary");
        let g = obj(x, &q)?;
        Some(Data::Summary(m::Summary {
            data_points: list(g, &q, "dataPoints", "data_points", summary_point)?,
        }))
    } else {
        None
    };
    Ok(m::Metric {
        name: string(o, p, "name", "name")?,
        description: string(o, p, "description", "description")?,
        unit: string(o, p, "unit", "unit")?,
        metadata: list(o, p, "metadata", "metadata", key_value)?,
        data,
    })
}

fn f64_field(o: &Map<String, Value>, p: &P, camel: &'static str, snake: &'static str) -> R<f64> {
    get(o, camel, snake).map_or(Ok(0.0), |v| f64_of(v, &p.k(camel)))
}

fn opt_f64(
    o: &Map<String, Value>,
    p: &P,
    camel: &'static str,
    snake: &'static str,
) -> R<Option<f64>> {
    get(o, camel, snake)
        .map(|v| f64_of(v, &p.k(camel)))
        .transpose()
}

fn number_point(v: &Value, p: &P) -> R<m::NumberDataPoint> {
    use m::number_data_point::Value as NV;
    let o = obj(v, p)?;
    let value = if let Some(x) = get(o, "asDouble", "as_double") {
        Some(NV::AsDouble(f64_of(x, &p.k("asDouble"))?))
    } else if let Some(x) = get(o, "asInt", "as_int") {
        Some(NV::AsInt(i64_of(x, &p.k("asInt"))?))
    } else {
        None
    };
    Ok(m::NumberDataPoint {
        attributes: list(o, p, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, p, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, p, "timeUnixNano", "time_unix_nano")?,
        exemplars: Vec::new(),
        flags: u32_field(o, p, "flags", "flags")?,
        value,
    })
}

fn histogram_point(v: &Value, p: &P) -> R<m::HistogramDataPoint> {
    let o = obj(v, p)?;
    Ok(m::HistogramDataPoint {
        attributes: list(o, p, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, p, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, p, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, p, "count", "count")?,
        sum: opt_f64(o, p, "sum", "sum")?,
        bucket_counts: list(o, p, "bucketCounts", "bucket_counts", u64_of)?,
        explicit_bounds: list(o, p, "explicitBounds", "explicit_bounds", f64_of)?,
        exemplars: Vec::new(),
        flags: u32_field(o, p, "flags", "flags")?,
        min: opt_f64(o, p, "min", "min")?,
        max: opt_f64(o, p, "max", "max")?,
    })
}

fn buckets(v: &Value, p: &P) -> R<m::exponential_histogram_data_point::Buckets> {
    let o = obj(v, p)?;
    let offset = match get(o, "offset", "offset") {
        None => 0,
        Some(x) => {
            let q = p.k("offset");
            let n = i64_of(x, &q)?;
            i32::try_from(n).or_else(|_| q.err(format!("{n} is larger than 32 bits")))?
        }
    };
    Ok(m::exponential_histogram_data_point::Buckets {
        offset,
        bucket_counts: list(o, p, "bucketCounts", "bucket_counts", u64_of)?,
    })
}

fn exp_point(v: &Value, p: &P) -> R<m::ExponentialHistogramDataPoint> {
    let o = obj(v, p)?;
    let scale = match get(o, "scale", "scale") {
        None => 0,
        Some(x) => {
            let q = p.k("scale");
            let n = i64_of(x, &q)?;
            i32::try_from(n).or_else(|_| q.err(format!("{n} is larger than 32 bits")))?
        }
    };
    Ok(m::ExponentialHistogramDataPoint {
        attributes: list(o, p, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, p, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, p, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, p, "count", "count")?,
        sum: opt_f64(o, p, "sum", "sum")?,
        scale,
        zero_count: u64_field(o, p, "zeroCount", "zero_count")?,
        positive: message(o, p, "positive", "positive", buckets)?,
        negative: message(o, p, "negative", "negative", buckets)?,
        flags: u32_field(o, p, "flags", "flags")?,
        exemplars: Vec::new(),
        min: opt_f64(o, p, "min", "min")?,
        max: opt_f64(o, p, "max", "max")?,
        zero_threshold: f64_field(o, p, "zeroThreshold", "zero_threshold")?,
    })
}

fn summary_point(v: &Value, p: &P) -> R<m::SummaryDataPoint> {
    let o = obj(v, p)?;
    Ok(m::SummaryDataPoint {
        attributes: list(o, p, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, p, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, p, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, p, "count", "count")?,
        sum: f64_field(o, p, "sum", "sum")?,
        quantile_values: list(o, p, "quantileValues", "quantile_values", |v, p| {
            let o = obj(v, p)?;
            Ok(m::summary_data_point::ValueAtQuantile {
                quantile: f64_field(o, p, "quantile", "quantile")?,
                value: f64_field(o, p, "value", "value")?,
            })
        })?,
        flags: u32_field(o, p, "flags", "flags")?,
    })
}

fn obj<'v>(v: &'v Value, p: &P) -> R<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        other => p.err(format!("an object was expected, found {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value of a field by its JSON name or its proto name; `null` is no value.
fn get<'v>(m: &'v Map<String, Value>, camel: &str, snake: &str) -> Option<&'v Value> {
    m.get(camel)
        .or_else(|| m.get(snake))
        .filter(|v| !v.is_null())
}

/// The name the path shows for a field.
fn list<T>(
    m: &Map<String, Value>,
    p: &P,
    camel: &'static str,
    snake: &'static str,
    each: impl Fn(&Value, &P) -> R<T>,
) -> R<Vec<T>> {
    let Some(v) = get(m, camel, snake) else {
        return Ok(Vec::new());
    };
    let q = p.k(camel);
    let Value::Array(a) = v else {
        return q.err(format!("an array was expected, found {}", kind(v)));
    };
    a.iter()
        .enumerate()
        .map(|(i, x)| each(x, &q.i(i)))
        .collect()
}

fn message<T>(
    m: &Map<String, Value>,
    p: &P,
    camel: &'static str,
    snake: &'static str,
    each: impl Fn(&Value, &P) -> R<T>,
) -> R<Option<T>> {
    match get(m, camel, snake) {
        None => Ok(None),
        Some(v) => each(v, &p.k(camel)).map(Some),
    }
}

fn string(m: &Map<String, Value>, p: &P, camel: &'static str, snake: &'static str) -> R<String> {
    match get(m, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => p
            .k(camel)
            .err(format!("a string was expected, found {}", kind(v))),
    }
}

/// A 64-bit unsigned integer: a decimal string or a number.
fn u64_of(v: &Value, p: &P) -> R<u64> {
    match v {
        Value::String(s) => s
            .parse::<u64>()
            .or_else(|_| p.err(format!("`{s}` is not an unsigned 64-bit integer"))),
        Value::Number(n) => match n.as_u64() {
            Some(x) => Ok(x),
            None => p.err(format!("{n} is not an unsigned 64-bit integer")),
        },
        other => p.err(format!("an integer was expected, found {}", kind(other))),
    }
}

fn i64_of(v: &Value, p: &P) -> R<i64> {
    match v {
        Value::String(s) => s
            .parse::<i64>()
            .or_else(|_| p.err(format!("`{s}` is not a 64-bit integer"))),
        Value::Number(n) => match n.as_i64() {
            Some(x) => Ok(x),
            None => p.err(format!("{n} is not a 64-bit integer")),
        },
        other => p.err(format!("an integer was expected, found {}", kind(other))),
    }
}

fn u64_field(m: &Map<String, Value>, p: &P, camel: &'static str, snake: &'static str) -> R<u64> {
    get(m, camel, snake).map_or(Ok(0), |v| u64_of(v, &p.k(camel)))
}

fn u32_field(m: &Map<String, Value>, p: &P, camel: &'static str, snake: &'static str) -> R<u32> {
    let Some(v) = get(m, camel, snake) else {
        return Ok(0);
    };
    let q = p.k(camel);
    let x = u64_of(v, &q)?;
    u32::try_from(x).or_else(|_| q.err(format!("{x} is larger than 32 bits")))
}

/// An enum: its number, or its name as `from_name` knows it.
fn enum_field(
    m: &Map<String, Value>,
    p: &P,
    camel: &'static str,
    snake: &'static str,
    from_name: impl Fn(&str) -> Option<i32>,
) -> R<i32> {
    let Some(v) = get(m, camel, snake) else {
        return Ok(0);
    };
    let q = p.k(camel);
    match v {
        Value::String(s) => from_name(s).map_or_else(|| q.err(format!("unknown value `{s}`")), Ok),
        other => {
            let x = i64_of(other, &q)?;
            i32::try_from(x).or_else(|_| q.err(format!("{x} is not a 32-bit enum value")))
        }
    }
}

fn f64_of(v: &Value, p: &P) -> R<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| p.err(format!("{n} is not a double")), Ok),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => s
                .parse::<f64>()
                .or_else(|_| p.err(format!("`{s}` is not a double"))),
        },
        other => p.err(format!("a number was expected, found {}", kind(other))),
    }
}

/// A trace or span id: hex, of `len` bytes (or empty).
fn id_field(
    m: &Map<String, Value>,
    p: &P,
    camel: &'static str,
    snake: &'static str,
    len: usize,
) -> R<Vec<u8>> {
    let s = string(m, p, camel, snake)?;
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let q = p.k(camel);
    if s.len() != 2 * len {
        return q.err(format!(
            "`{s}` is not an id of {len} bytes in hex ({} digits)",
            2 * len
        ));
    }
    let mut out = Vec::with_capacity(len);
    for pair in s.as_bytes().chunks_exact(2) {
        match (hex_digit(pair[0]), hex_digit(pair[1])) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return q.err(format!("`{s}` is not hex")),
        }
    }
    Ok(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn bytes_of(v: &Value, p: &P) -> R<Vec<u8>> {
    let Value::String(s) = v else {
        return p.err(format!("base64 was expected, found {}", kind(v)));
    };
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .or_else(|e| p.err(format!("not base64: {e}")))
}

fn resource_spans(v: &Value, p: &P) -> R<ResourceSpans> {
    let m = obj(v, p)?;
    Ok(ResourceSpans {
        resource: message(m, p, "resource", "resource", resource)?,
        scope_spans: list(m, p, "scopeSpans", "scope_spans", scope_spans)?,
        schema_url: string(m, p, "schemaUrl", "schema_url")?,
    })
}

fn resource(v: &Value, p: &P) -> R<Resource> {
    let m = obj(v, p)?;
    Ok(Resource {
        attributes: list(m, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            m,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
        entity_refs: Vec::new(),
    })
}

fn scope(v: &Value, p: &P) -> R<InstrumentationScope> {
    let m = obj(v, p)?;
    Ok(InstrumentationScope {
        name: string(m, p, "name", "name")?,
        version: string(m, p, "version", "version")?,
        attributes: list(m, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            m,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
    })
}

fn scope_spans(v: &Value, p: &P) -> R<ScopeSpans> {
    let m = obj(v, p)?;
    Ok(ScopeSpans {
        scope: message(m, p, "scope", "scope", scope)?,
        spans: list(m, p, "spans", "spans", span)?,
        schema_url: string(m, p, "schemaUrl", "schema_url")?,
    })
}

fn span(v: &Value, p: &P) -> R<Span> {
    let m = obj(v, p)?;
    Ok(Span {
        trace_id: id_field(m, p, "traceId", "trace_id", 16)?,
        span_id: id_field(m, p, "spanId", "span_id", 8)?,
        trace_state: string(m, p, "traceState", "trace_state")?,
        parent_span_id: id_field(m, p, "parentSpanId", "parent_span_id", 8)?,
        flags: u32_field(m, p, "flags", "flags")?,
        name: string(m, p, "name", "name")?,
        kind: enum_field(m, p, "kind", "kind", |s| {
            span::SpanKind::from_str_name(s).map(|k| k as i32)
        })?,
        start_time_unix_nano: u64_field(m, p, "startTimeUnixNano", "start_time_unix_nano")?,
        end_time_unix_nano: u64_field(m, p, "endTimeUnixNano", "end_time_unix_nano")?,
        attributes: list(m, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            m,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
        events: list(m, p, "events", "events", event)?,
        dropped_events_count: u32_field(m, p, "droppedEventsCount", "dropped_events_count")?,
        links: list(m, p, "links", "links", link)?,
        dropped_links_count: u32_field(m, p, "droppedLinksCount", "dropped_links_count")?,
        status: message(m, p, "status", "status", status)?,
    })
}

fn event(v: &Value, p: &P) -> R<Event> {
    let m = obj(v, p)?;
    Ok(Event {
        time_unix_nano: u64_field(m, p, "timeUnixNano", "time_unix_nano")?,
        name: string(m, p, "name", "name")?,
        attributes: list(m, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            m,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
    })
}

fn link(v: &Value, p: &P) -> R<Link> {
    let m = obj(v, p)?;
    Ok(Link {
        trace_id: id_field(m, p, "traceId", "trace_id", 16)?,
        span_id: id_field(m, p, "spanId", "span_id", 8)?,
        trace_state: string(m, p, "traceState", "trace_state")?,
        attributes: list(m, p, "attributes", "attributes", key_value)?,
        dropped_attributes_count: u32_field(
            m,
            p,
            "droppedAttributesCount",
            "dropped_attributes_count",
        )?,
        flags: u32_field(m, p, "flags", "flags")?,
    })
}

fn status(v: &Value, p: &P) -> R<Status> {
    let m = obj(v, p)?;
    Ok(Status {
        message: string(m, p, "message", "message")?,
        code: enum_field(m, p, "code", "code", |s| {
            StatusCode::from_str_name(s).map(|c| c as i32)
        })?,
    })
}

fn key_value(v: &Value, p: &P) -> R<KeyValue> {
    let m = obj(v, p)?;
    Ok(KeyValue {
        key: string(m, p, "key", "key")?,
        value: message(m, p, "value", "value", any_value)?,
    })
}

fn any_value(v: &Value, p: &P) -> R<AnyValue> {
    if p.depth() > MAX_DEPTH {
        return p.err(format!("values nested deeper than {MAX_DEPTH}"));
    }
    let m = obj(v, p)?;
    use any_value::Value as V;
    let value = if let Some(x) = get(m, "stringValue", "string_value") {
        match x {
            Value::String(s) => Some(V::StringValue(s.clone())),
            other => {
                return p
                    .k("stringValue")
                    .err(format!("a string was expected, found {}", kind(other)));
            }
        }
    } else if let Some(x) = get(m, "boolValue", "bool_value") {
        match x {
            Value::Bool(b) => Some(V::BoolValue(*b)),
            other => {
                return p
                    .k("boolValue")
                    .err(format!("a boolean was expected, found {}", kind(other)));
            }
        }
    } else if let Some(x) = get(m, "intValue", "int_value") {
        Some(V::IntValue(i64_of(x, &p.k("intValue"))?))
    } else if let Some(x) = get(m, "doubleValue", "double_value") {
        Some(V::DoubleValue(f64_of(x, &p.k("doubleValue"))?))
    } else if let Some(x) = get(m, "arrayValue", "array_value") {
        let q = p.k("arrayValue");
        let am = obj(x, &q)?;
        Some(V::ArrayValue(ArrayValue {
            values: list(am, &q, "values", "values", any_value)?,
        }))
    } else if let Some(x) = get(m, "kvlistValue", "kvlist_value") {
        let q = p.k("kvlistValue");
        let km = obj(x, &q)?;
        Some(V::KvlistValue(KeyValueList {
            values: list(km, &q, "values", "values", key_value)?,
        }))
    } else if let Some(x) = get(m, "bytesValue", "bytes_value") {
        Some(V::BytesValue(bytes_of(x, &p.k("bytesValue"))?))
    } else {
        None
    };
    Ok(AnyValue { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_of_the_specification_decodes() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
          "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
            "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,"kind":2,
            "attributes":[{"key":"my.span.attr","value":{"intValue":"42"}},{"key":"d","value":{"doubleValue":"NaN"}},
              {"key":"arr","value":{"arrayValue":{"values":[{"boolValue":true},{"bytesValue":"aGk="}]}}}],
            "status":{"code":"STATUS_CODE_ERROR","message":"boom"},"unknownField":{"x":1}}]}]}]}"#;
        let req = trace_request(body).unwrap();
        let s = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.trace_id.len(), 16);
        assert_eq!(s.trace_id[0], 0x5b);
        assert_eq!(s.span_id, [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]);
        assert_eq!(s.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(s.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(s.kind, 2);
        assert_eq!(s.status.as_ref().unwrap().code, 2);
        assert_eq!(
            s.attributes[0].value.as_ref().unwrap().value,
            Some(any_value::Value::IntValue(42))
        );
        let Some(any_value::Value::ArrayValue(a)) = &s.attributes[2].value.as_ref().unwrap().value
        else {
            panic!()
        };
        assert_eq!(
            a.values[1].value,
            Some(any_value::Value::BytesValue(b"hi".to_vec()))
        );
    }

    #[test]
    fn errors_say_where() {
        let e = trace_request(
            br#"{"resourceSpans":[{"scopeSpans":[{},{"spans":[{"traceId":"zz"}]}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "at resourceSpans[0].scopeSpans[1].spans[0].traceId: `zz` is not an id of 16 bytes in hex (32 digits)"
        );
        let e = trace_request(b"{\"resourceSpans\": [\n  {]").unwrap_err();
        assert!(e.to_string().contains("line 2 column 4"), "{e}");
        let e = trace_request(b"[]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "at the top: an object was expected, found an array"
        );
        let e = trace_request(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("spans[0].startTimeUnixNano"), "{e}");
    }

    #[test]
    fn deep_values_are_refused() {
        let mut s =
            String::from(r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":"#);
        for _ in 0..40 {
            s.push_str(r#"{"arrayValue":{"values":["#);
        }
        for _ in 0..40 {
            s.push_str("]}}");
        }
        s.push_str("}]}}]}");
        let e = trace_request(s.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("nested deeper"), "{e}");
    }
}
