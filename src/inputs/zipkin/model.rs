//! One Zipkin span as every format decodes it (the v2 model; v1 spans are brought to it), its
//! conversion to the shared span model, and its `message` (Zipkin v2 JSON).

use std::fmt::Write;

use regex::Regex;

use crate::inputs::trace::{SOURCE_CUSTOM, Span, SpanMessage, ids, json_str};

/// A host as a span names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub service_name: String,
    pub ipv4: String,
    pub ipv6: String,
    pub port: i32,
}

/// A Zipkin span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSpan {
    pub trace_id_high: u64,
    pub trace_id: u64,
    pub id: u64,
    /// 0 for a root span.
    pub parent_id: u64,
    pub kind: String,
    pub name: String,
    /// Start, µs since the epoch.
    pub timestamp: i64,
    /// µs.
    pub duration: i64,
    pub local_endpoint: Option<Endpoint>,
    pub remote_endpoint: Option<Endpoint>,
    pub annotations: Vec<(i64, String)>,
    pub tags: Vec<(String, String)>,
    pub debug: bool,
    pub shared: bool,
    /// v1: the `path.http` binary annotation (the resource), and the service found in the
    /// annotations' hosts.
    pub v1_resource: Option<String>,
    pub v1_service: Option<String>,
}

/// Which API a span came in by (the name of an unknown service differs, as in the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1Json,
    V1Thrift,
    V2,
}

impl Api {
    fn unknown_service(self) -> &'static str {
        match self {
            Api::V1Json => "zipkin_v1_unknown_service",
            Api::V1Thrift => "zipkin_core_v1_unknown_service",
            Api::V2 => "zipkin_v2_unknow_service",
        }
    }
}

/// The `trace_id` as the original writes it: 32 hex digits with high bits, else 16.
pub fn trace_id_text(high: u64, low: u64) -> String {
    if high != 0 {
        format!("{high:016x}{low:016x}")
    } else {
        ids::format_span_id(low, true)
    }
}

/// Converts one span: every tag becomes a point tag (`.` written `_`) unless an
/// `ignore_tags` expression matches its name; `error` among the tags makes the span an error.
pub fn to_span(z: ZSpan, api: Api, ignore: &[Regex]) -> Span<ZMessage> {
    let service = match api {
        Api::V2 => z
            .local_endpoint
            .as_ref()
            .map(|e| e.service_name.clone())
            .filter(|s| !s.is_empty()),
        _ => z.v1_service.clone(),
    }
    .unwrap_or_else(|| api.unknown_service().to_string());
    let error = z.tags.iter().any(|(k, _)| k == "error");
    let tags = z
        .tags
        .iter()
        .map(|(k, v)| (k.replace('.', "_"), v.clone()))
        .filter(|(k, _)| !ignore.iter().any(|r| r.is_match(k)))
        .collect();
    Span {
        trace_id: trace_id_text(z.trace_id_high, z.trace_id),
        span_id: z.id,
        parent_id: z.parent_id,
        span_id_text: ids::format_span_id(z.id, true),
        parent_id_text: ids::format_span_id(z.parent_id, true),
        service,
        resource: z.v1_resource.clone().unwrap_or_else(|| z.name.clone()),
        operation: z.name.clone(),
        source_type: SOURCE_CUSTOM,
        start_ns: z.timestamp.saturating_mul(1000),
        duration_ns: z.duration.saturating_mul(1000),
        error,
        head_tags: Vec::new(),
        tags,
        fields: Vec::new(),
        sampling: None,
        rum: false,
        message: ZMessage(z),
    }
}

/// A span's `message`: Zipkin v2 JSON.
#[derive(Debug, Clone)]
pub struct ZMessage(pub ZSpan);

fn endpoint(out: &mut String, key: &str, e: &Endpoint) {
    let _ = write!(out, ",\"{key}\":{{");
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    if !e.service_name.is_empty() {
        sep(out);
        out.push_str("\"serviceName\":");
        json_str(out, &e.service_name);
    }
    if !e.ipv4.is_empty() {
        sep(out);
        out.push_str("\"ipv4\":");
        json_str(out, &e.ipv4);
    }
    if !e.ipv6.is_empty() {
        sep(out);
        out.push_str("\"ipv6\":");
        json_str(out, &e.ipv6);
    }
    if e.port != 0 {
        sep(out);
        let _ = write!(out, "\"port\":{}", e.port);
    }
    out.push('}');
}

impl SpanMessage for ZMessage {
    fn write_json(&self, out: &mut String) {
        let z = &self.0;
        let _ = write!(
            out,
            "{{\"traceId\":\"{}\"",
            if z.trace_id_high != 0 {
                format!("{:016x}{:016x}", z.trace_id_high, z.trace_id)
            } else {
                format!("{:016x}", z.trace_id)
            }
        );
        if z.parent_id != 0 {
            let _ = write!(out, ",\"parentId\":\"{:016x}\"", z.parent_id);
        }
        let _ = write!(out, ",\"id\":\"{:016x}\"", z.id);
        if !z.kind.is_empty() {
            out.push_str(",\"kind\":");
            json_str(out, &z.kind);
        }
        if !z.name.is_empty() {
            out.push_str(",\"name\":");
            json_str(out, &z.name);
        }
        if z.timestamp != 0 {
            let _ = write!(out, ",\"timestamp\":{}", z.timestamp);
        }
        if z.duration != 0 {
            let _ = write!(out, ",\"duration\":{}", z.duration);
        }
        if let Some(e) = &z.local_endpoint {
            endpoint(out, "localEndpoint", e);
        }
        if let Some(e) = &z.remote_endpoint {
            endpoint(out, "remoteEndpoint", e);
        }
        if !z.annotations.is_empty() {
            out.push_str(",\"annotations\":[");
            for (i, (ts, v)) in z.annotations.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{{\"timestamp\":{ts},\"value\":");
                json_str(out, v);
                out.push('}');
            }
            out.push(']');
        }
        if !z.tags.is_empty() {
            out.push_str(",\"tags\":{");
            for (i, (k, v)) in z.tags.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_str(out, v);
            }
            out.push('}');
        }
        if z.debug {
            out.push_str(",\"debug\":true");
        }
        if z.shared {
            out.push_str(",\"shared\":true");
        }
        out.push('}');
    }
}

/// Spans grouped into traces by trace id, in the order each trace first appears.
pub fn group(spans: Vec<ZSpan>) -> Vec<Vec<ZSpan>> {
    let mut index: std::collections::HashMap<(u64, u64), usize> = Default::default();
    let mut out: Vec<Vec<ZSpan>> = Vec::new();
    for s in spans {
        let i = *index
            .entry((s.trace_id_high, s.trace_id))
            .or_insert_with(|| {
                out.push(Vec::new());
                out.len() - 1
            });
        out[i].push(s);
    }
    out
}

/// A v1 span's start and duration from its annotations when it has none of its own: the
/// earliest annotation, and the span between the earliest and the latest.
pub fn v1_times(z: &mut ZSpan) {
    let ts: Vec<i64> = z
        .annotations
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t != 0)
        .collect();
    let (min, max) = (ts.iter().min().copied(), ts.iter().max().copied());
    if z.timestamp == 0 {
        z.timestamp = min.unwrap_or_else(|| crate::clock::now_ns() / 1000);
    }
    if z.duration == 0
        && let (Some(a), Some(b)) = (min, max)
    {
        z.duration = b.saturating_sub(a);
    }
}
