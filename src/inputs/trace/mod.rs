//! The span model and span pipeline every trace receiver shares (ddtrace, Zipkin,
//! OpenTelemetry).
//!
//! A receiver decodes its wire format into [`Span`]s grouped by trace, with the span's own
//! tags already mapped (its `customer_tags`, the receiver's well-known attributes), and hands
//! them to [`SpanPipeline::process`]. The pipeline
//!
//! 1. finds each span's `span_type` (`entry`, `local`, `exit`) from the trace's parent chain;
//! 2. runs the original's trace filters, in its order: `close_resource` (drop), errors go
//!    through untouched, `omit_err_status` (drop), `keep_rare_resource` (keep), RUM traces go
//!    through, then the `sampler` (keep or drop the whole trace by its id's hash, the same hash
//!    as the original's so several agents agree);
//! 3. counts what it dropped through the one drop event (reasons `sampled` and `filtered`);
//! 4. builds the `tracing` points of the kept spans, with the original's schema
//!    ([`MEASUREMENT_TAGS`], [`MEASUREMENT_FIELDS`]): the span's JSON (`message`) is written only
//!    for the spans kept, so dropping costs less than keeping.
//!
//! The receiver then feeds the points through `ctx.ingest` (category `tracing`).

pub mod bound;
pub mod ids;
pub mod options;
mod pipeline;
pub mod spec;

pub use options::{CloseResource, PipelineOptions, SamplerConfig};
pub use pipeline::{Processed, SpanPipeline, SpanPoint};

use crate::point::Value;

/// Where a span sits in its trace (tag `span_type`).
pub const SPAN_TYPE_ENTRY: &str = "entry";
pub const SPAN_TYPE_LOCAL: &str = "local";
pub const SPAN_TYPE_EXIT: &str = "exit";

/// Span status tag values.
pub const STATUS_OK: &str = "ok";
pub const STATUS_ERROR: &str = "error";

/// `source_type` values.
pub const SOURCE_APP: &str = "app";
pub const SOURCE_FRAMEWORK: &str = "framework";
pub const SOURCE_CACHE: &str = "cache";
pub const SOURCE_MSGQUE: &str = "message_queue";
pub const SOURCE_CUSTOM: &str = "custom";
pub const SOURCE_DB: &str = "db";
pub const SOURCE_WEB: &str = "web";

/// The tracer's sampling decision, as the tag `sampling_rate` carries it.
pub const SAMPLER_DROP: &str = "sampler_drop";
pub const SAMPLER_KEEP: &str = "sampler_keep";
pub const USER_DROP: &str = "user_drop";
pub const USER_KEEP: &str = "user_keep";

/// The `source_type` of a span from its type (the original's table; unknown types are
/// `custom`).
pub fn source_type(span_type: &str) -> &'static str {
    let lower;
    let t = if span_type.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = span_type.to_ascii_lowercase();
        lower.as_str()
    } else {
        span_type
    };
    match t {
        "consul" => SOURCE_APP,
        ".net" | "datanucleus" | "django" | "express" | "flask" | "go-gin" | "graphql"
        | "hibernate" | "laravel" | "soap" | "spring" => SOURCE_FRAMEWORK,
        "cache" | "memcached" | "redis" => SOURCE_CACHE,
        "aerospike" | "cassandra" | "db" | "elasticsearch" | "influxdb" | "leveldb" | "mongodb"
        | "mysql" | "pymysql" | "sql" => SOURCE_DB,
        "go-nsq" | "kafka" | "mqtt" | "queue" | "rabbitmq" | "rocketmq" => SOURCE_MSGQUE,
        "dns" | "grpc" | "http" | "http2" | "rpc" | "web" => SOURCE_WEB,
        _ => SOURCE_CUSTOM,
    }
}

/// The class of an HTTP status code (`2xx`), or `None` for a code that does not start with
/// 1 to 5.
pub fn http_status_class(code: &str) -> Option<&'static str> {
    Some(match code.as_bytes().first()? {
        b'1' => "1xx",
        b'2' => "2xx",
        b'3' => "3xx",
        b'4' => "4xx",
        b'5' => "5xx",
        _ => return None,
    })
}

/// Writes a span's original content as JSON (the `message` field). Called only for the spans
/// the pipeline keeps, into a buffer the pipeline reuses from span to span.
pub trait SpanMessage {
    fn write_json(&self, out: &mut String);
}

/// No message (receivers configured with `del_message`, tests).
impl SpanMessage for () {
    fn write_json(&self, _out: &mut String) {}
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it (`\"`, `\\`, the short
/// forms `\b \t \n \f \r`, other control characters as `\u00xx`; nothing else), so the
/// `message` of a span is the same text whichever writer made it.
pub fn json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none needs escaping (most of a span's text).
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            if !word_needs_escape(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => {
                i += 1;
                continue;
            }
        };
        // Every byte escaped is ASCII, so `start..i` are character boundaries.
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether one of the 8 bytes of `w` is below 0x20, `"` or `\` (exact as to "any": the
/// classic has-zero-byte and has-less-than tests).
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b & HIGH;
    (below_space | quote | backslash) != 0
}

/// One span, as a receiver decoded it.
#[derive(Debug, Clone, Default)]
pub struct Span<M> {
    /// The trace id as the point shows it (field `trace_id`).
    pub trace_id: String,
    /// Numeric span and parent ids: the parent chain (`span_type`) is found with these.
    pub span_id: u64,
    pub parent_id: u64,
    /// The ids as the point shows them (fields `span_id`, `parent_id`; `0` for a root).
    pub span_id_text: String,
    pub parent_id_text: String,
    pub service: String,
    /// Field `resource` (new lines replaced by spaces by the receiver, as the original does).
    pub resource: String,
    /// Tag `operation`: the span's name.
    pub operation: String,
    pub source_type: &'static str,
    /// Start, Unix ns (the point's time; field `start` is in µs).
    pub start_ns: i64,
    pub duration_ns: i64,
    pub error: bool,
    /// Tags the receiver puts before the common ones (ddtrace: `remote_ip`, `sampling_rate`).
    pub head_tags: Vec<(String, String)>,
    /// The span's own tags after the common ones (mapped attributes, `customer_tags`).
    pub tags: Vec<(String, String)>,
    /// The span's own fields (attribute values longer than 1024 bytes).
    pub fields: Vec<(String, Value)>,
    /// The tracer's sampling decision (`sampling_rate` tag), when it sent one.
    pub sampling: Option<&'static str>,
    /// The span's `_dd.origin` is `rum`: the trace goes around the sampler.
    pub rum: bool,
    /// The original content, written to `message` unless `del_message`.
    pub message: M,
}

impl<M> Span<M> {
    /// The value of tag `key` among the span's own tags.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.head_tags
            .iter()
            .chain(self.tags.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The spans of one trace (as the tracer sent them together).
pub type Trace<M> = Vec<Span<M>>;

#[cfg(test)]
mod tests {
    use super::json_str;

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "SELECT a, b FROM t WHERE x = 'y'".repeat(40),
            "quote \" backslash \\ slash / del \u{7f} é 中文 🙂".into(),
        ];
        // Every control character, alone and at each place of an 8-byte word.
        for c in 0u8..0x20 {
            let ch = char::from(c);
            cases.push(ch.to_string());
            for at in 0..17 {
                let mut s = "x".repeat(at);
                s.push(ch);
                s.push_str("tail-of-text");
                cases.push(s);
            }
        }
        for (i, s) in cases.iter().enumerate() {
            let mut out = String::from("prefix:");
            json_str(&mut out, s);
            let want = format!("prefix:{}", serde_json::to_string(s).unwrap());
            assert_eq!(out, want, "case {i}: {s:?}");
        }
    }
}
