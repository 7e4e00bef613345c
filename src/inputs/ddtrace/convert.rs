//! Datadog spans → the shared span model, with the original's rules: trace ids (64 or 128
//! bits, decimal or hex), the tracer's sampling priority, the well-known meta keys and
//! `customer_tags` made tags, and the span's JSON for `message`.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};

use regex::Regex;

use super::DdtraceConfig;
use super::decode::{DdSpan, DdTrace};
use crate::inputs::InputError;
use crate::inputs::trace::{
    SAMPLER_KEEP, Span, SpanMessage, SpanPipeline, Trace, USER_KEEP, ids, json_str, source_type,
};
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

/// What a body's traces became (their messages borrow from the body).
#[derive(Debug, Default)]
pub struct Converted<'a> {
    pub traces: Vec<Trace<DdMessage<'a>>>,
    /// Spans of traces the tracer's sampling priority rejects.
    pub rejected: usize,
    /// Spans cut by `trace_max_spans`.
    pub truncated: usize,
    /// Spans of traces the sampler drops, left out before their spans were built.
    pub sampled: usize,
}

/// What became of one trace.
enum Outcome<'a> {
    /// Its spans, and how many `trace_max_spans` cut.
    Kept(Trace<DdMessage<'a>>, usize),
    /// The sampler drops it: the spans it had after the cut, and the cut.
    Sampled(usize, usize),
    /// The tracer's sampling priority rejects it.
    Rejected,
}

/// The tracer's sampling decision of a span (`_sampling_priority_v1`); `Err` when it
/// rejects the trace.
fn sampling(dd: &DdSpan<'_>) -> Result<Option<&'static str>, ()> {
    let priority = dd
        .metrics
        .iter()
        .find(|(k, _)| k == KEY_PRIORITY)
        .map(|(_, v)| *v);
    Ok(match priority {
        Some(p) if p == -1.0 || p == -3.0 || p == 0.0 => return Err(()),
        // The original's table is keyed by the priority as an integer.
        Some(p) => match p as i64 {
            1 => Some(SAMPLER_KEEP),
            2 => Some(USER_KEEP),
            _ => None,
        },
        None => None,
    })
}

/// The span's `_dd.origin` is `rum`.
fn is_rum(dd: &DdSpan<'_>) -> bool {
    dd.meta.iter().any(|(k, v)| k == "_dd.origin" && v == "rum")
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
    tag_names: HashMap<String, String, BuildHasherDefault<Fnv>>,
    tag_regexes: Vec<Regex>,
}

/// FNV-1a, for the look-up of every meta key in the tag table: a few times faster than the
/// default hasher on such short keys. The table is built from the configuration only, so keys
/// a tracer chooses cannot crowd it.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl Converter {
    pub fn new(cfg: &DdtraceConfig) -> Result<Converter, InputError> {
        let mut tag_names: HashMap<String, String, BuildHasherDefault<Fnv>> = DD_TAGS
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
    pub fn convert<'a>(&self, traces: Vec<DdTrace<'a>>, remote_ip: &str) -> Converted<'a> {
        self.convert_for(traces, remote_ip, None)
    }

    /// [`Converter::convert`], leaving out (and counting in `sampled`) the traces that
    /// `pipeline`'s sampler drops whatever their spans hold: their spans are not built.
    pub fn convert_for<'a>(
        &self,
        traces: Vec<DdTrace<'a>>,
        remote_ip: &str,
        pipeline: Option<&SpanPipeline>,
    ) -> Converted<'a> {
        let mut out = Converted {
            traces: Vec::with_capacity(traces.len()),
            ..Converted::default()
        };
        for trace in traces {
            if trace.is_empty() {
                continue;
            }
            let n = trace.len();
            match self.trace(trace, remote_ip, pipeline) {
                Outcome::Kept(t, cut) => {
                    out.truncated += cut;
                    out.traces.push(t);
                }
                Outcome::Sampled(kept, cut) => {
                    out.truncated += cut;
                    out.sampled += kept;
                }
                Outcome::Rejected => out.rejected += n,
            }
        }
        out
    }

    /// One trace.
    fn trace<'a>(
        &self,
        mut trace: DdTrace<'a>,
        remote_ip: &str,
        pipeline: Option<&SpanPipeline>,
    ) -> Outcome<'a> {
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
                    )
                    .into(),
                ));
            }
        }
        let mut first_sampling = None;
        for (i, dd) in trace.iter().enumerate() {
            match sampling(dd) {
                Err(()) => return Outcome::Rejected,
                Ok(s) if i == 0 => first_sampling = s,
                Ok(_) => {}
            }
        }
        let Some(first) = trace.first() else {
            return Outcome::Kept(Vec::new(), cut);
        };
        let trace_id = self.trace_id(first);
        if let Some(p) = pipeline
            && p.sampled_out(
                &trace_id,
                first_sampling,
                trace.iter().any(|s| s.error != 0),
                trace.iter().any(is_rum),
            )
        {
            return Outcome::Sampled(trace.len(), cut);
        }
        let mut spans = Vec::with_capacity(trace.len());
        for dd in trace {
            // Checked above: no span's priority rejects the trace.
            let s = sampling(&dd).unwrap_or(None);
            spans.push(self.span(dd, &trace_id, remote_ip, s));
        }
        Outcome::Kept(spans, cut)
    }

    fn trace_id(&self, dd: &DdSpan<'_>) -> String {
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

    fn span<'a>(
        &self,
        mut dd: DdSpan<'a>,
        trace_id: &str,
        remote_ip: &str,
        sampling: Option<&'static str>,
    ) -> Span<DdMessage<'a>> {
        let mut head_tags = Vec::with_capacity(2);
        if !remote_ip.is_empty() {
            head_tags.push(("remote_ip".to_string(), remote_ip.to_string()));
        }
        if let Some(s) = sampling {
            head_tags.push(("sampling_rate".to_string(), s.to_string()));
        }
        let mut tags = Vec::with_capacity(dd.meta.len() + 1);
        let mut fields = Vec::new();
        let mut rum = false;
        let meta = std::mem::take(&mut dd.meta);
        let peer_host = meta
            .iter()
            .find(|(k, _)| k == "peer.hostname")
            .map(|(_, v)| v.clone())
            .filter(|h| !h.is_empty());
        // What is not made a tag stays in the message, borrowed from the body.
        let mut kept = Vec::with_capacity(meta.len());
        for (k, v) in meta {
            if k == "_dd.origin" && v == "rum" {
                rum = true;
            }
            if k == "runtime-id" {
                tags.push(("runtime_id".to_string(), v.to_string()));
                tags.push(("runtime-id".to_string(), v.into_owned()));
                continue;
            }
            if k == "db.type"
                && let Some(h) = &peer_host
            {
                tags.push(("db_host".to_string(), h.to_string()));
            }
            match self.tag_name(&k) {
                Some(name) if v.len() > MAX_TAG_VALUE => {
                    fields.push((name, Value::Str(v.into_owned())))
                }
                Some(name) => tags.push((name, v.into_owned())),
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
            dd.resource.to_string()
        };
        Span {
            trace_id: trace_id.to_string(),
            span_id: dd.span_id,
            parent_id: dd.parent_id,
            span_id_text: ids::format_span_id(dd.span_id, self.span_hex),
            parent_id_text: ids::format_span_id(dd.parent_id, self.span_hex),
            service: dd.service.to_string(),
            resource,
            operation: dd.name.to_string(),
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
pub struct DdMessage<'a>(pub DdSpan<'a>);

impl SpanMessage for DdMessage<'_> {
    fn write_json(&self, out: &mut String) {
        let s = &self.0;
        out.push_str("{\"service\":");
        json_str(out, &s.service);
        out.push_str(",\"name\":");
        json_str(out, &s.name);
        out.push_str(",\"resource\":");
        json_str(out, &s.resource);
        let _ = write!(
            out,
            ",\"start\":{},\"duration\":{},\"error\":{},\"meta\":",
            s.start, s.duration, s.error
        );
        if s.meta.is_empty() {
            out.push_str("null");
        } else {
            out.push('{');
            for (i, (k, v)) in s.meta.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_str(out, v);
            }
            out.push('}');
        }
        out.push_str(",\"metrics\":");
        if s.metrics.is_empty() {
            out.push_str("null");
        } else {
            out.push('{');
            for (i, (k, v)) in s.metrics.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                if v.is_finite() {
                    write_f64(out, *v);
                } else {
                    out.push_str("null");
                }
            }
            out.push('}');
        }
        out.push_str(",\"type\":");
        json_str(out, &s.span_type);
        out.push('}');
    }
}

/// `v` as `{v}` writes it, through the integer formatter for whole numbers below 2^53 (the
/// common metrics: 0, 1, a pid), which gives the same text faster.
fn write_f64(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 && !(v == 0.0 && v.is_sign_negative())
    {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}
