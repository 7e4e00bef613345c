//! Datadog spans → the shared span model, with the original's rules: trace ids (64 or 128
//! bits, decimal or hex), the tracer's sampling priority, the well-known meta keys and
//! `customer_tags` made tags, and the span's JSON for `message`.

use std::collections::HashMap;
use std::io::Write;

use regex::Regex;

use super::DdtraceConfig;
use super::decode::{DdSpan, DdTrace};
use crate::inputs::InputError;
use crate::inputs::trace::{SAMPLER_KEEP, Span, SpanMessage, Trace, USER_KEEP, ids, source_type};
use crate::point::Value;

/// The meta key of the high 64 bits of a 128-bit trace id (lower-case hex, no padding).
pub const TRACE_ID_UPPER: &str = "_dd.p.tid";
/// The metric of the tracer's sampling decision.
pub const KEY_PRIORITY: &str = "_sampling_priority_v1";
/// Meta values longer than this become fields rather than tags.
const MAX_TAG_VALUE: usize = 1024;

/// Meta keys always kept as tags, and their tag names (the original's table).
pub const DD_TAGS: &[(&str, &str)] = &[
    ("http.url", "http_url"),
    ("http.hostname", "http_hostname"),
    ("http.route", "http_route"),
    ("http.status_code", "http_status_code"),
    ("http.method", "http_method"),
    ("http.client_ip", "http_client_ip"),
    ("sampling.priority", "sampling_priority"),
    ("span.kind", "span_kind"),
    ("error", "error"),
    ("runtime.name", "runtime_name"),
    ("dd.version", "dd_version"),
    ("dd.env", "dd_env"),
    ("error.message", "error_message"),
    ("error.stack", "error_stack"),
    ("error.type", "error_type"),
    ("system.pid", "pid"),
    ("error.msg", "error_message"),
    ("project", "project"),
    ("version", "version"),
    ("env", "env"),
    ("host", "host"),
    ("pod_name", "pod_name"),
    ("pod_namespace", "pod_namespace"),
    ("_dd.base_service", "base_service"),
    ("db.type", "db_system"),
    ("db.instance", "db_name"),
    ("db.operation", "db_operation"),
    ("out.host", "out_host"),
];

/// What a body's traces became.
#[derive(Debug, Default)]
pub struct Converted {
    pub traces: Vec<Trace<DdMessage>>,
    /// Spans of traces the tracer's sampling priority rejects.
    pub rejected: usize,
    /// Spans cut by `trace_max_spans`.
    pub truncated: usize,
}

/// The conversion settings of one instance.
#[derive(Debug, Clone)]
pub struct Converter {
    /// Span ids in hex (`compatible_otel`, `trace_id_64_bit_hex`).
    span_hex: bool,
    trace_128: bool,
    /// `trace_id_64_bit_hex`: `_dd.p.tid` is ignored.
    ignore_tid: bool,
    max_spans: Option<usize>,
    tag_names: HashMap<String, String>,
    tag_regexes: Vec<Regex>,
}

impl Converter {
    pub fn new(cfg: &DdtraceConfig) -> Result<Converter, InputError> {
        let mut tag_names: HashMap<String, String> = DD_TAGS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut tag_regexes = Vec::new();
        for t in &cfg.customer_tags {
            if let Some(re) = t.strip_prefix("reg:") {
                tag_regexes.push(
                    Regex::new(re)
                        .map_err(|e| InputError::Setup(format!("customer_tags `{t}`: {e}")))?,
                );
            } else {
                tag_names.insert(t.clone(), t.replace('.', "_"));
            }
        }
        Ok(Converter {
            span_hex: cfg.compatible_otel || cfg.trace_id_64_bit_hex,
            trace_128: cfg.trace_128_bit_id,
            ignore_tid: cfg.trace_id_64_bit_hex,
            max_spans: usize::try_from(cfg.trace_max_spans).ok().filter(|n| *n > 0),
            tag_names,
            tag_regexes,
        })
    }

    /// The tag name of meta key `k`, if it is kept as a tag.
    fn tag_name(&self, k: &str) -> Option<String> {
        if let Some(n) = self.tag_names.get(k) {
            return Some(n.clone());
        }
        self.tag_regexes
            .iter()
            .any(|r| r.is_match(k))
            .then(|| k.replace('.', "_"))
    }

    /// Converts every trace of a body; `remote_ip` is the tracer's address.
    pub fn convert(&self, traces: Vec<DdTrace>, remote_ip: &str) -> Converted {
        let mut out = Converted {
            traces: Vec::with_capacity(traces.len()),
            ..Converted::default()
        };
        for trace in traces {
            if trace.is_empty() {
                continue;
            }
            let n = trace.len();
            match self.trace(trace, remote_ip) {
                Ok((t, cut)) => {
                    out.truncated += cut;
                    out.traces.push(t);
                }
                Err(()) => out.rejected += n,
            }
        }
        out
    }

    /// One trace; `Err` when the tracer's sampling priority rejects it.
    fn trace(&self, mut trace: DdTrace, remote_ip: &str) -> Result<(Trace<DdMessage>, usize), ()> {
        let mut cut = 0;
        if let Some(max) = self.max_spans
            && trace.len() > max
        {
            cut = trace.len() - max;
            let total = trace.len();
            trace.truncate(max);
            if let Some(last) = trace.last_mut() {
                last.meta.push((
                    "__datakit_span_truncated".into(),
                    format!(
                        "large trace that got spans {total}, max span limit is {max}({cut} spans truncated)"
                    ),
                ));
            }
        }
        let mut trace_id = String::new();
        let mut spans = Vec::with_capacity(trace.len());
        for dd in trace {
            let priority = dd
                .metrics
                .iter()
                .find(|(k, _)| k == KEY_PRIORITY)
                .map(|(_, v)| *v);
            let sampling = match priority {
                Some(p) if p == -1.0 || p == -3.0 || p == 0.0 => return Err(()),
                // The original's table is keyed by the priority as an integer.
                Some(p) => match p as i64 {
                    1 => Some(SAMPLER_KEEP),
                    2 => Some(USER_KEEP),
                    _ => None,
                },
                None => None,
            };
            if trace_id.is_empty() {
                trace_id = self.trace_id(&dd);
            }
            spans.push(self.span(dd, &trace_id, remote_ip, sampling));
        }
        Ok((spans, cut))
    }

    fn trace_id(&self, dd: &DdSpan) -> String {
        if self.ignore_tid {
            return ids::padded_hex(dd.trace_id);
        }
        if self.trace_128
            && let Some((_, hi)) = dd.meta.iter().find(|(k, _)| k == TRACE_ID_UPPER)
        {
            return format!("{hi}{}", ids::padded_hex(dd.trace_id));
        }
        dd.trace_id.to_string()
    }

    fn span(
        &self,
        mut dd: DdSpan,
        trace_id: &str,
        remote_ip: &str,
        sampling: Option<&'static str>,
    ) -> Span<DdMessage> {
        let mut head_tags = Vec::with_capacity(2);
        if !remote_ip.is_empty() {
            head_tags.push(("remote_ip".to_string(), remote_ip.to_string()));
        }
        if let Some(s) = sampling {
            head_tags.push(("sampling_rate".to_string(), s.to_string()));
        }
        let mut tags = Vec::new();
        let mut fields = Vec::new();
        let mut rum = false;
        let peer_host = dd
            .meta
            .iter()
            .find(|(k, _)| k == "peer.hostname")
            .map(|(_, v)| v.clone());
        let mut kept = Vec::with_capacity(dd.meta.len());
        for (k, v) in std::mem::take(&mut dd.meta) {
            if k == "_dd.origin" && v == "rum" {
                rum = true;
            }
            if k == "runtime-id" {
                tags.push(("runtime_id".to_string(), v.clone()));
                tags.push(("runtime-id".to_string(), v));
                continue;
            }
            if k == "db.type"
                && let Some(h) = peer_host.as_ref().filter(|h| !h.is_empty())
            {
                tags.push(("db_host".to_string(), h.clone()));
            }
            match self.tag_name(&k) {
                Some(name) if v.len() > MAX_TAG_VALUE => fields.push((name, Value::Str(v))),
                Some(name) => tags.push((name, v)),
                None => kept.push((k, v)),
            }
        }
        dd.meta = kept;
        // The original means to let RUM traces around the sampler but looks for `_dd.origin`
        // among the point's tags, where no mapped key keeps its dot: here the span's meta
        // decides (a difference on purpose, in the README).
        let resource = if dd.resource.contains('\n') {
            dd.resource.replace('\n', " ")
        } else {
            dd.resource.clone()
        };
        Span {
            trace_id: trace_id.to_string(),
            span_id: dd.span_id,
            parent_id: dd.parent_id,
            span_id_text: ids::format_span_id(dd.span_id, self.span_hex),
            parent_id_text: ids::format_span_id(dd.parent_id, self.span_hex),
            service: dd.service.clone(),
            resource,
            operation: dd.name.clone(),
            source_type: source_type(&dd.span_type),
            start_ns: dd.start,
            duration_ns: dd.duration,
            error: dd.error != 0,
            head_tags,
            tags,
            fields,
            sampling,
            rum,
            message: DdMessage(dd),
        }
    }
}

/// A Datadog span's JSON as the original writes it in `message`: its ids left out, the meta
/// keys made tags removed.
#[derive(Debug, Clone)]
pub struct DdMessage(pub DdSpan);

fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a `str` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

impl SpanMessage for DdMessage {
    fn write_json(&self, out: &mut Vec<u8>) {
        let s = &self.0;
        out.extend_from_slice(b"{\"service\":");
        json_str(out, &s.service);
        out.extend_from_slice(b",\"name\":");
        json_str(out, &s.name);
        out.extend_from_slice(b",\"resource\":");
        json_str(out, &s.resource);
        let _ = write!(
            out,
            ",\"start\":{},\"duration\":{},\"error\":{},\"meta\":",
            s.start, s.duration, s.error
        );
        if s.meta.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            out.push(b'{');
            for (i, (k, v)) in s.meta.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, k);
                out.push(b':');
                json_str(out, v);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b",\"metrics\":");
        if s.metrics.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            out.push(b'{');
            for (i, (k, v)) in s.metrics.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, k);
                out.push(b':');
                if v.is_finite() {
                    let _ = write!(out, "{v}");
                } else {
                    out.extend_from_slice(b"null");
                }
            }
            out.push(b'}');
        }
        out.extend_from_slice(b",\"type\":");
        json_str(out, &s.span_type);
        out.push(b'}');
    }
}
