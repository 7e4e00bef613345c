//! OTLP log records → `logging` points, as the original writes them.
//!
//! - measurement: the resource's `log.source`, else its `service.name`, else `otel_logs` (the
//!   original's `source` tag too, which the `logging` checker removes: the measurement is the
//!   source); `service`: `service.name`, else `unSetServiceName`; `host` from `host.name`;
//! - `status` from the severity number (`trace`, `debug`, `info`, `warn`, `error`, `fatal`;
//!   `unknown` when unspecified; the severity text for a number outside OTLP's ranges);
//! - `message`: the body as text (strings and bytes as they are, numbers, booleans, arrays and
//!   maps as OTLP/JSON); a body longer than `log_max` KiB is cut into several points, one
//!   millisecond apart, as the original cuts it (on character boundaries);
//! - the attributes of the resource, the scope and the record are string fields (`.` written
//!   `_`, the first of a key wins), with `schema_url`, `scope_name` and the input's `tags`;
//!   `trace_id` and `span_id` as the spans write them (`0` when none);
//! - tags `remote_ip`, `dk_fingerprint` (the agent's hostname); the point's time is the
//!   record's time, else its observed time.

use super::otlp::common::v1::{AnyValue, KeyValue, any_value};
use super::otlp::logs::v1::ResourceLogs;
use crate::point::{Category, Point, Value};

/// What the mapping takes from the input's options.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub compatible_ddtrace: bool,
    /// `log_max` in bytes (at least 1).
    pub max_message: usize,
    /// The input's `tags`: fields of every record.
    pub tags: Vec<(String, String)>,
    pub hostname: String,
}

/// The points of a request.
#[derive(Debug, Default)]
pub struct Mapped {
    pub points: Vec<Point>,
    pub records: usize,
}

/// The `status` of a severity (OTLP's ranges of 4 numbers per level).
pub fn status(number: i32, text: &str) -> String {
    match number {
        0 => "unknown",
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => return text.to_string(),
    }
    .to_string()
}

/// A value as text (strings as they are; the original's `%f` for doubles).
fn text(v: &AnyValue) -> String {
    use any_value::Value as V;
    match &v.value {
        None => String::new(),
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BytesValue(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(V::DoubleValue(d)) => format!("{d:.6}"),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::ArrayValue(_) | V::KvlistValue(_)) => {
            let mut s = String::new();
            super::spans::any_json(&mut s, v);
            s
        }
    }
}

fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().rev().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn add_fields(fields: &mut Vec<(String, Value)>, attrs: &[KeyValue]) {
    for a in attrs {
        let k = a.key.replace('.', "_");
        if fields.iter().any(|(f, _)| *f == k) {
            continue;
        }
        let v = a.value.as_ref().map(text).unwrap_or_default();
        fields.push((k, Value::Str(v)));
    }
}

fn add_field(fields: &mut Vec<(String, Value)>, k: &str, v: String) {
    if !fields.iter().any(|(f, _)| f == k) {
        fields.push((k.to_string(), Value::Str(v)));
    }
}

/// `s` in pieces of at most `max` bytes, cut on character boundaries (one piece, empty, for
/// an empty `s`).
fn pieces(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while rest.len() > max {
        let mut end = max;
        while end > 0 && !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            // A character longer than `max`: taken whole.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out.push(rest);
    out
}

/// Maps every log record of a request.
pub fn map(resources: Vec<ResourceLogs>, remote_ip: &str, o: &LogOptions) -> Mapped {
    let mut out = Mapped::default();
    for rl in resources {
        let res_attrs = rl.resource.map(|r| r.attributes).unwrap_or_default();
        let service_name = attr_str(&res_attrs, "service.name").unwrap_or("");
        let source = attr_str(&res_attrs, "log.source")
            .filter(|s| !s.is_empty())
            .or((!service_name.is_empty()).then_some(service_name))
            .unwrap_or("otel_logs")
            .to_string();
        let service = if service_name.is_empty() {
            "unSetServiceName".to_string()
        } else {
            service_name.to_string()
        };
        let host = attr_str(&res_attrs, "host.name")
            .filter(|h| !h.is_empty())
            .map(str::to_string);
        let mut res_fields = Vec::new();
        add_fields(&mut res_fields, &res_attrs);
        add_field(&mut res_fields, "schema_url", rl.schema_url.clone());
        for sl in rl.scope_logs {
            let mut base = res_fields.clone();
            if let Some(s) = &sl.scope {
                add_fields(&mut base, &s.attributes);
            }
            add_field(
                &mut base,
                "scope_name",
                sl.scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
            );
            for rec in sl.log_records {
                out.records += 1;
                let mut fields = base.clone();
                add_fields(&mut fields, &rec.attributes);
                for (k, v) in &o.tags {
                    add_field(&mut fields, k, v.clone());
                }
                let body = rec.body.as_ref().map(text).unwrap_or_default();
                let time = if rec.time_unix_nano != 0 {
                    rec.time_unix_nano
                } else {
                    rec.observed_time_unix_nano
                };
                let time = i64::try_from(time).unwrap_or(0);
                let st = status(rec.severity_number, &rec.severity_text);
                let span_id = super::spans::id_text(&rec.span_id, o.compatible_ddtrace);
                let trace_id = super::spans::id_text(&rec.trace_id, o.compatible_ddtrace);
                for (i, piece) in pieces(&body, o.max_message).into_iter().enumerate() {
                    let mut p = Point::new(Category::Logging, source.as_str());
                    p.time = if time == 0 {
                        0
                    } else {
                        time.saturating_add(i as i64 * 1_000_000)
                    };
                    p.tags = vec![
                        ("status".into(), st.clone()),
                        ("service".into(), service.clone()),
                        ("remote_ip".into(), remote_ip.to_string()),
                        ("dk_fingerprint".into(), o.hostname.clone()),
                    ];
                    if let Some(h) = &host {
                        p.tags.push(("host".into(), h.clone()));
                    }
                    let mut f = fields.clone();
                    // Keys of the point's own win over attributes of the same name.
                    f.retain(|(k, _)| {
                        !matches!(k.as_str(), "message" | "span_id" | "trace_id")
                            && !p.tags.iter().any(|(t, _)| t == k)
                    });
                    f.push(("message".into(), Value::Str(piece.to_string())));
                    f.push(("span_id".into(), Value::Str(span_id.clone())));
                    f.push(("trace_id".into(), Value::Str(trace_id.clone())));
                    p.fields = f;
                    out.points.push(p);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
