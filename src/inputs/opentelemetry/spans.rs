//! OTLP spans → the shared span model ([`crate::inputs::trace::Span`]), mapped as the
//! original maps them:
//!
//! - ids in hex (`0` for none), or, with `compatible_ddtrace`, the decimal number of their last
//!   8 bytes (as ddtrace writes ids); `resource` and `operation` are the span's name;
//! - `service` from the resource's `service.name` (else `unknown_service`); with
//!   `split_service_name`, a span with `db.system`, `rpc.system` or `messaging.system` gets
//!   that system as `service` and the application's name as `base_service` (the system
//!   stays an attribute, so `db_host`, `db_system` and `source_type` still see it: the
//!   original removes it first with `clean_message`, and so loses them);
//! - `status` is `error` for the status code ERROR, else `ok`; `span_kind` from the kind;
//! - attributes of the resource, the scope, the span and its events whose keys are the
//!   well-known ones ([`WELL_KNOWN`]), listed in `customer_tags` (or match one of its `reg:`
//!   expressions, or every key with `customer_tags_all`) become keys of the point, `.` written
//!   `_`: strings as tags (fields above 1024 bytes), numbers and booleans as fields, arrays
//!   and maps as JSON fields; `http_status_code` always a tag. A later one of the same key
//!   wins (span over scope over resource). The others stay in the span's `message`;
//! - the first `exception` event gives `error_type`, `error_message`, `error_stack`;
//! - `db_host` from `net.peer.name` or `server.address` of a span with `db.system`;
//!   `source_type` is `web` for HTTP and RPC spans, `db` for databases, `message_queue` for
//!   messaging, else `custom`;
//! - `message` is the span in OTLP/JSON, holding the attributes not taken as keys; with
//!   `clean_message` the keys already on the point (ids, name, kind, times, status, the
//!   exception event, `service.name`) are left out of it.
//!
//! Unlike the original (which hands each resource's spans to its filters as one trace), the
//! spans of a request are grouped by trace id, so that the sampler keeps or drops traces
//! whole. A span without a valid trace id (16 bytes, not all zero) or span id (8 bytes, not
//! all zero) is rejected, as OTLP defines them: counted, and reported back to the client as
//! a partial success.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine;
use regex::Regex;

use super::otlp::common::v1::{AnyValue, KeyValue, any_value};
use super::otlp::trace::v1::{ResourceSpans, Span as OtelSpan, status::StatusCode};
use crate::inputs::trace::{self, Span, SpanMessage, Trace, json_str};
use crate::point::Value;

/// Attribute keys taken as the point's keys whatever `customer_tags` says (the original's
/// list; newer semantic-convention names first where both exist).
pub const WELL_KNOWN: &[(&str, &str)] = &[
    ("db.system", "db_system"),
    ("db.operation", "db_operation"),
    ("db.name", "db_name"),
    ("db.statement", "db_statement"),
    ("server.address", "server_address"),
    ("net.host.name", "net_host_name"),
    ("server.port", "server_port"),
    ("net.host.port", "net_host_port"),
    ("network.peer.address", "network_peer_address"),
    ("network.peer.port", "network_peer_port"),
    ("network.transport", "network_transport"),
    ("http.request.method", "http_method"),
    ("http.method", "http_method"),
    ("error.type", "error_type"),
    ("http.response.status_code", "http_status_code"),
    ("http.status_code", "http_status_code"),
    ("http.route", "http_route"),
    ("http.target", "http_target"),
    ("http.scheme", "http_scheme"),
    ("http.url", "http_url"),
    ("url.full", "url_full"),
    ("url.scheme", "url_scheme"),
    ("url.path", "url_path"),
    ("url.query", "url_query"),
    ("client.address", "client_address"),
    ("client.port", "client_port"),
    ("messaging.system", "messaging_system"),
    ("messaging.operation", "messaging_operation"),
    ("messaging.message.id", "messaging_message.id"),
    ("messaging.destination.name", "messaging_destination.name"),
    ("rpc.service", "rpc_service"),
    ("rpc.system", "rpc_system"),
    ("exception", "exception"),
    ("exception.type", "exception_type"),
    ("exception.message", "exception_message"),
    ("exception.stacktrace", "exception_stacktrace"),
    ("container.name", "container_name"),
    ("process.pid", "process_pid"),
    ("project", "project"),
    ("version", "version"),
    ("env", "env"),
    ("host", "host"),
    ("pod_name", "pod_name"),
    ("pod_namespace", "pod_namespace"),
];

/// A tag value longer than this becomes a field (as every receiver does).
const MAX_TAG_VALUE: usize = 1024;

/// The span kind names of `span_kind`.
fn kind_name(kind: i32) -> Option<&'static str> {
    Some(match kind {
        0 => "unspecified",
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => return None,
    })
}

/// How attribute keys become the point's keys (`customer_tags`, `customer_tags_all`).
#[derive(Debug, Clone)]
pub struct KeyMap {
    exact: HashMap<String, String>,
    regs: Vec<Regex>,
    all: bool,
}

impl KeyMap {
    /// `customer_tags` entries are keys, or `reg:` and a regular expression (checked by the
    /// config's validation).
    pub fn new(customer_tags: &[String], all: bool) -> Result<KeyMap, regex::Error> {
        let mut exact: HashMap<String, String> = WELL_KNOWN
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let mut regs = Vec::new();
        for t in customer_tags {
            if let Some(re) = t.strip_prefix("reg:") {
                regs.push(Regex::new(re)?);
            } else {
                exact.insert(t.clone(), t.replace('.', "_"));
            }
        }
        Ok(KeyMap { exact, regs, all })
    }

    /// The point's key for attribute `key`, or `None` when it stays in the message.
    pub fn key(&self, key: &str) -> Option<String> {
        if let Some(k) = self.exact.get(key) {
            return Some(k.clone());
        }
        if self.all || self.regs.iter().any(|r| r.is_match(key)) {
            return Some(key.replace('.', "_"));
        }
        None
    }
}

/// What the mapping takes from the input's options.
#[derive(Debug, Clone)]
pub struct MapOptions {
    pub keys: KeyMap,
    pub compatible_ddtrace: bool,
    pub split_service_name: bool,
    pub clean_message: bool,
    pub del_message: bool,
}

/// The spans of a request, grouped by trace, and what was rejected.
#[derive(Debug, Default)]
pub struct Mapped {
    pub traces: Vec<Trace<SpanJson>>,
    pub rejected: usize,
    /// Why the first rejected span was (for the client and the agent's log).
    pub rejected_why: Option<String>,
}

/// A span's `message`: the span in OTLP/JSON, with the attributes not taken as keys.
#[derive(Debug, Clone, Default)]
pub struct SpanJson {
    span: Option<OtelSpan>,
    clean: bool,
}

/// An id as the point shows it.
pub fn id_text(id: &[u8], ddtrace: bool) -> String {
    if ddtrace {
        if id.len() >= 8 {
            return id_number(id).to_string();
        }
        return "0".into();
    }
    if id.is_empty() {
        return "0".into();
    }
    let mut s = String::with_capacity(id.len() * 2);
    for b in id {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The number of an id's last 8 bytes (big-endian): what the pipeline links parents with.
fn id_number(id: &[u8]) -> u64 {
    id[id.len().saturating_sub(8)..]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn valid_id(id: &[u8], len: usize) -> bool {
    id.len() == len && id.iter().any(|b| *b != 0)
}

fn str_value(v: &Option<AnyValue>) -> Option<&str> {
    match v.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|a| a.key == key)
}

/// Sets `k` (a later value of the same key wins).
fn set(tags: &mut Vec<(String, String)>, fields: &mut Vec<(String, Value)>, k: String, v: Kv) {
    tags.retain(|(t, _)| *t != k);
    fields.retain(|(f, _)| *f != k);
    match v {
        Kv::Tag(s) => tags.push((k, s)),
        Kv::Field(f) => fields.push((k, f)),
    }
}

enum Kv {
    Tag(String),
    Field(Value),
}

/// The point's value of an attribute taken as key `k`.
fn kv_of(k: &str, v: &AnyValue) -> Option<Kv> {
    use any_value::Value as V;
    Some(match v.value.as_ref()? {
        V::StringValue(s) if s.len() > MAX_TAG_VALUE => Kv::Field(Value::Str(s.clone())),
        V::StringValue(s) => Kv::Tag(s.clone()),
        V::BytesValue(b) => {
            let s = String::from_utf8_lossy(b).into_owned();
            if s.len() > MAX_TAG_VALUE {
                Kv::Field(Value::Str(s))
            } else {
                Kv::Tag(s)
            }
        }
        V::IntValue(i) if k == "http_status_code" => Kv::Tag(i.to_string()),
        V::IntValue(i) => Kv::Field(Value::Int(*i)),
        V::DoubleValue(d) => Kv::Field(Value::Float(*d)),
        V::BoolValue(b) => Kv::Field(Value::Bool(*b)),
        V::ArrayValue(_) | V::KvlistValue(_) => {
            let mut s = String::new();
            any_json(&mut s, v);
            Kv::Field(Value::Str(s))
        }
    })
}

/// Maps every span of a request.
pub fn map(resources: Vec<ResourceSpans>, remote_ip: &str, o: &MapOptions) -> Mapped {
    let mut out = Mapped::default();
    let mut by_trace: HashMap<Vec<u8>, usize> = HashMap::new();
    for rs in resources {
        let mut res_attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
        let service = attr(&res_attrs, "service.name")
            .and_then(|a| str_value(&a.value))
            .unwrap_or("unknown_service")
            .to_string();
        let mut runtime_id = attr(&res_attrs, "runtime_id")
            .and_then(|a| str_value(&a.value))
            .map(str::to_string);
        if o.clean_message {
            res_attrs.retain(|a| a.key != "service.name" && a.key != "runtime_id");
        }
        for ss in rs.scope_spans {
            let scope_attrs = ss.scope.map(|s| s.attributes).unwrap_or_default();
            for (i, span) in ss.spans.into_iter().enumerate() {
                if !valid_id(&span.trace_id, 16) || !valid_id(&span.span_id, 8) {
                    out.rejected += 1;
                    out.rejected_why.get_or_insert_with(|| {
                        format!(
                            "span {i} (`{}`) of service `{service}`: {}",
                            span.name,
                            if valid_id(&span.trace_id, 16) {
                                "its span id is not 8 bytes, or all zero"
                            } else {
                                "its trace id is not 16 bytes, or all zero"
                            }
                        )
                    });
                    continue;
                }
                let key = span.trace_id.clone();
                let s = one(
                    span,
                    &service,
                    &mut runtime_id,
                    &res_attrs,
                    &scope_attrs,
                    remote_ip,
                    o,
                );
                match by_trace.get(&key) {
                    Some(&t) => out.traces[t].push(s),
                    None => {
                        by_trace.insert(key, out.traces.len());
                        out.traces.push(vec![s]);
                    }
                }
            }
        }
    }
    out
}

fn one(
    mut span: OtelSpan,
    app_service: &str,
    runtime_id: &mut Option<String>,
    res_attrs: &[KeyValue],
    scope_attrs: &[KeyValue],
    remote_ip: &str,
    o: &MapOptions,
) -> Span<SpanJson> {
    let dd = o.compatible_ddtrace;
    let trace_id = id_text(&span.trace_id, dd);
    let mut head_tags = Vec::with_capacity(2);
    if !remote_ip.is_empty() {
        head_tags.push(("remote_ip".to_string(), remote_ip.to_string()));
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut service = app_service.to_string();
    if o.split_service_name
        && let Some(pos) = span.attributes.iter().position(|a| {
            matches!(
                a.key.as_str(),
                "db.system" | "rpc.system" | "messaging.system"
            ) && str_value(&a.value).is_some_and(|s| !s.is_empty())
        })
    {
        service = str_value(&span.attributes[pos].value)
            .unwrap_or_default()
            .to_string();
        head_tags.push(("base_service".to_string(), app_service.to_string()));
    }
    if runtime_id.is_none()
        && let Some(pos) = span.attributes.iter().position(|a| a.key == "runtime_id")
    {
        *runtime_id = str_value(&span.attributes[pos].value).map(str::to_string);
        if o.clean_message {
            span.attributes.remove(pos);
        }
    }
    if let Some(r) = runtime_id {
        fields.push(("runtime_id".into(), Value::Str(r.clone())));
    }
    if let Some(pos) = span.events.iter().position(|e| e.name == "exception") {
        let ev = &mut span.events[pos];
        for (key, alias) in [
            ("exception.type", "error_type"),
            ("exception.message", "error_message"),
            ("exception.stacktrace", "error_stack"),
        ] {
            if let Some(i) = ev.attributes.iter().position(|a| a.key == key) {
                let v = str_value(&ev.attributes[i].value)
                    .unwrap_or_default()
                    .to_string();
                fields.push((alias.to_string(), Value::Str(v)));
                if o.clean_message {
                    ev.attributes.remove(i);
                }
            }
        }
        if o.clean_message {
            span.events.remove(pos);
        }
    }
    if let Some(k) = kind_name(span.kind) {
        tags.push(("span_kind".into(), k.into()));
    }
    // Attributes taken as keys; the others go to the message.
    let mut merged: Vec<KeyValue> = Vec::new();
    let span_attrs = std::mem::take(&mut span.attributes);
    let db_host = if span_attrs.iter().any(|a| a.key == "db.system") {
        span_attrs
            .iter()
            .find(|a| a.key == "net.peer.name" || a.key == "server.address")
            .and_then(|a| str_value(&a.value))
            .map(str::to_string)
    } else {
        None
    };
    let mut event_attrs = Vec::new();
    for ev in &mut span.events {
        event_attrs.append(&mut ev.attributes);
    }
    for list in [res_attrs, scope_attrs, &span_attrs[..], &event_attrs[..]] {
        for a in list {
            let taken = o.keys.key(&a.key).and_then(|k| {
                let v = kv_of(&k, a.value.as_ref()?)?;
                Some((k, v))
            });
            match taken {
                Some((k, v)) => set(&mut tags, &mut fields, k, v),
                None if !o.del_message => merged.push(a.clone()),
                None => {}
            }
        }
    }
    if let Some(h) = db_host
        && !tags.iter().any(|(k, _)| k == "db_host")
    {
        tags.push(("db_host".into(), h));
    }
    let source_type = tags
        .iter()
        .find_map(|(k, _)| match k.as_str() {
            "http_scheme" | "http_method" | "rpc_system" => Some(trace::SOURCE_WEB),
            "db_system" => Some(trace::SOURCE_DB),
            "messaging_system" => Some(trace::SOURCE_MSGQUE),
            _ => None,
        })
        .unwrap_or(trace::SOURCE_CUSTOM);
    let error = span
        .status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32);
    let start = i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX);
    let end = i64::try_from(span.end_time_unix_nano).unwrap_or(i64::MAX);
    let message = if o.del_message {
        SpanJson::default()
    } else {
        span.attributes = merged;
        // The trace id among the attributes, for text search (as the original adds it).
        span.attributes.push(KeyValue {
            key: "trace_id".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(trace_id.clone())),
            }),
        });
        SpanJson {
            span: None,
            clean: o.clean_message,
        }
    };
    let mut s = Span {
        span_id: id_number(&span.span_id),
        parent_id: id_number(&span.parent_span_id),
        span_id_text: id_text(&span.span_id, dd),
        parent_id_text: id_text(&span.parent_span_id, dd),
        trace_id,
        service,
        resource: span.name.clone(),
        operation: span.name.clone(),
        source_type,
        start_ns: start,
        duration_ns: end.saturating_sub(start).max(0),
        error,
        head_tags,
        tags,
        fields,
        sampling: None,
        rum: false,
        message,
    };
    if !o.del_message {
        s.message.span = Some(span);
    }
    s
}

impl SpanMessage for SpanJson {
    fn write_json(&self, out: &mut String) {
        if let Some(s) = &self.span {
            span_json(out, s, self.clean);
        }
    }
}

/// Writes a field separator and name.
fn name(out: &mut String, first: &mut bool, n: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    out.push('"');
    out.push_str(n);
    out.push_str("\":");
}

fn hex(out: &mut String, b: &[u8]) {
    out.push('"');
    for x in b {
        let _ = write!(out, "{x:02x}");
    }
    out.push('"');
}

/// A span in OTLP/JSON (fields at their default left out, as protobuf's JSON mapping does).
fn span_json(out: &mut String, s: &OtelSpan, clean: bool) {
    out.push('{');
    let mut first = true;
    if !clean {
        if !s.trace_id.is_empty() {
            name(out, &mut first, "traceId");
            hex(out, &s.trace_id);
        }
        if !s.span_id.is_empty() {
            name(out, &mut first, "spanId");
            hex(out, &s.span_id);
        }
    }
    if !s.trace_state.is_empty() {
        name(out, &mut first, "traceState");
        json_str(out, &s.trace_state);
    }
    if !clean && !s.parent_span_id.is_empty() {
        name(out, &mut first, "parentSpanId");
        hex(out, &s.parent_span_id);
    }
    if s.flags != 0 {
        name(out, &mut first, "flags");
        let _ = write!(out, "{}", s.flags);
    }
    if !clean {
        if !s.name.is_empty() {
            name(out, &mut first, "name");
            json_str(out, &s.name);
        }
        if s.kind != 0 {
            name(out, &mut first, "kind");
            let _ = write!(out, "{}", s.kind);
        }
        if s.start_time_unix_nano != 0 {
            name(out, &mut first, "startTimeUnixNano");
            let _ = write!(out, "\"{}\"", s.start_time_unix_nano);
        }
        if s.end_time_unix_nano != 0 {
            name(out, &mut first, "endTimeUnixNano");
            let _ = write!(out, "\"{}\"", s.end_time_unix_nano);
        }
    }
    if !s.attributes.is_empty() {
        name(out, &mut first, "attributes");
        attrs_json(out, &s.attributes);
    }
    dropped(
        out,
        &mut first,
        "droppedAttributesCount",
        s.dropped_attributes_count,
    );
    if !s.events.is_empty() {
        name(out, &mut first, "events");
        out.push('[');
        for (i, e) in s.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            let mut f = true;
            if e.time_unix_nano != 0 {
                name(out, &mut f, "timeUnixNano");
                let _ = write!(out, "\"{}\"", e.time_unix_nano);
            }
            if !e.name.is_empty() {
                name(out, &mut f, "name");
                json_str(out, &e.name);
            }
            if !e.attributes.is_empty() {
                name(out, &mut f, "attributes");
                attrs_json(out, &e.attributes);
            }
            dropped(
                out,
                &mut f,
                "droppedAttributesCount",
                e.dropped_attributes_count,
            );
            out.push('}');
        }
        out.push(']');
    }
    dropped(
        out,
        &mut first,
        "droppedEventsCount",
        s.dropped_events_count,
    );
    if !s.links.is_empty() {
        name(out, &mut first, "links");
        out.push('[');
        for (i, l) in s.links.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            let mut f = true;
            if !l.trace_id.is_empty() {
                name(out, &mut f, "traceId");
                hex(out, &l.trace_id);
            }
            if !l.span_id.is_empty() {
                name(out, &mut f, "spanId");
                hex(out, &l.span_id);
            }
            if !l.trace_state.is_empty() {
                name(out, &mut f, "traceState");
                json_str(out, &l.trace_state);
            }
            if !l.attributes.is_empty() {
                name(out, &mut f, "attributes");
                attrs_json(out, &l.attributes);
            }
            dropped(
                out,
                &mut f,
                "droppedAttributesCount",
                l.dropped_attributes_count,
            );
            if l.flags != 0 {
                name(out, &mut f, "flags");
                let _ = write!(out, "{}", l.flags);
            }
            out.push('}');
        }
        out.push(']');
    }
    dropped(out, &mut first, "droppedLinksCount", s.dropped_links_count);
    if !clean && let Some(st) = &s.status {
        name(out, &mut first, "status");
        out.push('{');
        let mut f = true;
        if !st.message.is_empty() {
            name(out, &mut f, "message");
            json_str(out, &st.message);
        }
        if st.code != 0 {
            name(out, &mut f, "code");
            let _ = write!(out, "{}", st.code);
        }
        out.push('}');
    }
    out.push('}');
}

fn dropped(out: &mut String, first: &mut bool, n: &str, count: u32) {
    if count != 0 {
        name(out, first, n);
        let _ = write!(out, "{count}");
    }
}

/// Attributes in OTLP/JSON.
pub fn attrs_json(out: &mut String, attrs: &[KeyValue]) {
    out.push('[');
    for (i, a) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        json_str(out, &a.key);
        if let Some(v) = &a.value {
            out.push_str(",\"value\":");
            any_json(out, v);
        }
        out.push('}');
    }
    out.push(']');
}

/// A value in OTLP/JSON.
pub fn any_json(out: &mut String, v: &AnyValue) {
    use any_value::Value as V;
    match &v.value {
        None => out.push_str("{}"),
        Some(V::StringValue(s)) => {
            out.push_str("{\"stringValue\":");
            json_str(out, s);
            out.push('}');
        }
        Some(V::BoolValue(b)) => {
            let _ = write!(out, "{{\"boolValue\":{b}}}");
        }
        Some(V::IntValue(i)) => {
            let _ = write!(out, "{{\"intValue\":\"{i}\"}}");
        }
        Some(V::DoubleValue(d)) => {
            out.push_str("{\"doubleValue\":");
            if d.is_nan() {
                out.push_str("\"NaN\"");
            } else if d.is_infinite() {
                out.push_str(if *d > 0.0 {
                    "\"Infinity\""
                } else {
                    "\"-Infinity\""
                });
            } else {
                let mut b = ryu::Buffer::new();
                out.push_str(b.format_finite(*d));
            }
            out.push('}');
        }
        Some(V::BytesValue(b)) => {
            out.push_str("{\"bytesValue\":\"");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push_str("\"}");
        }
        Some(V::ArrayValue(a)) => {
            out.push_str("{\"arrayValue\":{\"values\":[");
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                any_json(out, x);
            }
            out.push_str("]}}");
        }
        Some(V::KvlistValue(kv)) => {
            out.push_str("{\"kvlistValue\":{\"values\":");
            attrs_json(out, &kv.values);
            out.push_str("}}");
        }
    }
}

#[cfg(test)]
mod tests;
