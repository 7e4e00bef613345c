//! The Datadog tracers' payloads: `/v0.4/traces` (and `/v0.3`, `/v0.2`) as MessagePack or
//! JSON arrays of traces, `/v0.5/traces` as MessagePack with a string table, `/v0.1/spans` as
//! a JSON array of spans.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;

use super::msgpack::{MsgpackError, Reader};

/// One span as the tracer sent it. Its strings borrow from the MessagePack body when they
/// are valid UTF-8 (JSON bodies and repaired strings are owned): a span's strings are copied
/// once, into the point, and only for the spans kept.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DdSpan<'a> {
    pub service: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub resource: Cow<'a, str>,
    pub trace_id: u64,
    pub span_id: u64,
    pub parent_id: u64,
    pub start: i64,
    pub duration: i64,
    pub error: i32,
    #[serde(deserialize_with = "pairs")]
    pub meta: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    #[serde(deserialize_with = "pairs")]
    pub metrics: Vec<(Cow<'a, str>, f64)>,
    #[serde(rename = "type")]
    pub span_type: Cow<'a, str>,
}

/// A JSON object (or `null`) as key/value pairs, sorted by key.
fn pairs<'de, 'a, D, V>(d: D) -> Result<Vec<(Cow<'a, str>, V)>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    let m: Option<HashMap<String, Option<V>>> = Option::deserialize(d)?;
    let mut v: Vec<(Cow<'a, str>, V)> = m
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((Cow::Owned(k), v?)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

pub type DdTrace<'a> = Vec<DdSpan<'a>>;

/// Why a payload could not be decoded: the format, where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("msgpack{}: {source}", at(.trace, .span, .key))]
    Msgpack {
        trace: Option<usize>,
        span: Option<usize>,
        key: Option<String>,
        source: MsgpackError,
    },
    #[error("JSON: {0}")]
    Json(String),
    #[error("neither JSON ({json}) nor msgpack ({msgpack})")]
    Neither { json: String, msgpack: String },
    #[error("msgpack: {extra} bytes after the payload's end (at byte {at})")]
    Trailing { at: usize, extra: usize },
}

fn at(trace: &Option<usize>, span: &Option<usize>, key: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(t) = trace {
        s.push_str(&format!(" in trace {t}"));
    }
    if let Some(sp) = span {
        s.push_str(&format!(", span {sp}"));
    }
    if let Some(k) = key {
        s.push_str(&format!(", key `{k}`"));
    }
    s
}

/// Where the decoder is, for errors (the key as its raw bytes: made text only for an error).
#[derive(Default)]
struct Place<'a> {
    trace: Option<usize>,
    span: Option<usize>,
    key: Option<&'a [u8]>,
}

impl Place<'_> {
    fn wrap(&self, source: MsgpackError) -> DecodeError {
        DecodeError::Msgpack {
            trace: self.trace,
            span: self.span,
            key: self.key.map(|k| String::from_utf8_lossy(k).into_owned()),
            source,
        }
    }
}

fn end(r: &Reader<'_>, len: usize) -> Result<(), DecodeError> {
    if r.at_end() {
        Ok(())
    } else {
        Err(DecodeError::Trailing {
            at: r.pos(),
            extra: len - r.pos(),
        })
    }
}

/// `/v0.4/traces` MessagePack: an array of traces, each an array of span maps.
pub fn msgpack_v04(buf: &[u8]) -> Result<Vec<DdTrace<'_>>, DecodeError> {
    let mut r = Reader::new(buf);
    let mut place = Place::default();
    let n = r.array_len().map_err(|e| place.wrap(e))?;
    let mut traces = Vec::with_capacity(n);
    for t in 0..n {
        place.trace = Some(t);
        place.span = None;
        let m = r.array_len().map_err(|e| place.wrap(e))?;
        let mut trace = Vec::with_capacity(m);
        for s in 0..m {
            place.span = Some(s);
            trace.push(span_map(&mut r, &mut place)?);
        }
        traces.push(trace);
    }
    end(&r, buf.len())?;
    Ok(traces)
}

fn span_map<'a>(r: &mut Reader<'a>, place: &mut Place<'a>) -> Result<DdSpan<'a>, DecodeError> {
    place.key = None;
    let n = r.map_len().map_err(|e| place.wrap(e))?;
    let mut span = DdSpan::default();
    for _ in 0..n {
        place.key = None;
        let key = r.str_bytes().map_err(|e| place.wrap(e))?;
        place.key = Some(key);
        let res = match key {
            b"service" => r.str().map(|v| span.service = v),
            b"name" => r.str().map(|v| span.name = v),
            b"resource" => r.str().map(|v| span.resource = v),
            b"trace_id" => r.u64().map(|v| span.trace_id = v),
            b"span_id" => r.u64().map(|v| span.span_id = v),
            b"parent_id" => r.u64().map(|v| span.parent_id = v),
            b"start" => r.i64().map(|v| span.start = v),
            b"duration" => r.i64().map(|v| span.duration = v),
            b"error" => r.i32().map(|v| span.error = v),
            b"type" => r.str().map(|v| span.span_type = v),
            b"meta" => (|| {
                let n = r.map_len()?;
                span.meta.reserve(n);
                for _ in 0..n {
                    let k = r.str()?;
                    let v = r.str()?;
                    span.meta.push((k, v));
                }
                Ok(())
            })(),
            b"metrics" => (|| {
                let n = r.map_len()?;
                span.metrics.reserve(n);
                for _ in 0..n {
                    let k = r.str()?;
                    let v = r.f64()?;
                    span.metrics.push((k, v));
                }
                Ok(())
            })(),
            // meta_struct, span_links, ...: not part of the original's span.
            _ => r.skip(),
        };
        res.map_err(|e| place.wrap(e))?;
    }
    place.key = None;
    Ok(span)
}

/// `/v0.5/traces`: `[strings, traces]`, each span a 12-element array whose strings are
/// indexes into `strings`.
pub fn msgpack_v05(buf: &[u8]) -> Result<Vec<DdTrace<'_>>, DecodeError> {
    let mut r = Reader::new(buf);
    let mut place = Place::default();
    let top = r.array_len().map_err(|e| place.wrap(e))?;
    if top != 2 {
        return Err(place.wrap(r.err(
            0,
            format!("expected an array of 2 (strings, traces), found {top} elements"),
        )));
    }
    let n = r.array_len().map_err(|e| place.wrap(e))?;
    let mut dict = Vec::with_capacity(n);
    for _ in 0..n {
        dict.push(r.str().map_err(|e| place.wrap(e))?);
    }
    let n = r.array_len().map_err(|e| place.wrap(e))?;
    let mut traces = Vec::with_capacity(n);
    for t in 0..n {
        place.trace = Some(t);
        place.span = None;
        let m = r.array_len().map_err(|e| place.wrap(e))?;
        let mut trace = Vec::with_capacity(m);
        for s in 0..m {
            place.span = Some(s);
            trace.push(span_v05(&mut r, &dict).map_err(|e| place.wrap(e))?);
        }
        traces.push(trace);
    }
    end(&r, buf.len())?;
    Ok(traces)
}

fn dict_str<'a>(r: &mut Reader<'a>, dict: &[Cow<'a, str>]) -> Result<Cow<'a, str>, MsgpackError> {
    let at = r.pos();
    let i = r.u32()? as usize;
    dict.get(i).cloned().ok_or_else(|| {
        r.err(
            at,
            format!("string index {i} out of the table's {} strings", dict.len()),
        )
    })
}

fn span_v05<'a>(r: &mut Reader<'a>, dict: &[Cow<'a, str>]) -> Result<DdSpan<'a>, MsgpackError> {
    let at = r.pos();
    let n = r.array_len()?;
    if n != 12 {
        return Err(r.err(at, format!("a span needs exactly 12 elements, found {n}")));
    }
    let mut s = DdSpan {
        service: dict_str(r, dict)?,
        name: dict_str(r, dict)?,
        resource: dict_str(r, dict)?,
        trace_id: r.u64()?,
        span_id: r.u64()?,
        parent_id: r.u64()?,
        start: r.i64()?,
        duration: r.i64()?,
        error: r.i32()?,
        ..DdSpan::default()
    };
    let n = r.map_len()?;
    s.meta.reserve(n);
    for _ in 0..n {
        let k = dict_str(r, dict)?;
        let v = dict_str(r, dict)?;
        s.meta.push((k, v));
    }
    let n = r.map_len()?;
    s.metrics.reserve(n);
    for _ in 0..n {
        let k = dict_str(r, dict)?;
        let v = r.f64()?;
        s.metrics.push((k, v));
    }
    s.span_type = dict_str(r, dict)?;
    Ok(s)
}

fn json_err(e: serde_json::Error) -> DecodeError {
    DecodeError::Json(format!("{} (line {}, column {})", e, e.line(), e.column()))
}

/// A JSON array of traces.
pub fn json_traces(buf: &[u8]) -> Result<Vec<DdTrace<'static>>, DecodeError> {
    let v: Vec<Option<Vec<Option<DdSpan<'static>>>>> =
        serde_json::from_slice(buf).map_err(json_err)?;
    Ok(v.into_iter()
        .map(|t| t.unwrap_or_default().into_iter().flatten().collect())
        .collect())
}

/// `/v0.1/spans`: a JSON array of spans, grouped into traces by trace id.
pub fn json_spans(buf: &[u8]) -> Result<Vec<DdTrace<'static>>, DecodeError> {
    let v: Vec<Option<DdSpan<'static>>> = serde_json::from_slice(buf).map_err(json_err)?;
    Ok(group_by_trace(v.into_iter().flatten()))
}

/// Spans grouped by trace id, in the order each trace first appears.
pub fn group_by_trace<'a>(spans: impl IntoIterator<Item = DdSpan<'a>>) -> Vec<DdTrace<'a>> {
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut out: Vec<DdTrace<'a>> = Vec::new();
    for s in spans {
        let i = *index.entry(s.trace_id).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[i].push(s);
    }
    out
}

/// Merges chunks of one trace sent apart in a body (the original does this for v0.5).
pub fn merge_traces(traces: Vec<DdTrace<'_>>) -> Vec<DdTrace<'_>> {
    if traces.len() < 2 {
        return traces;
    }
    group_by_trace(traces.into_iter().flatten())
}

/// The media type of a `Content-Type` value (before `;`, trimmed, lower case).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A `/v0.2`..`/v0.4` body by its content type: msgpack, JSON, or (another type) JSON else
/// msgpack, as the original tries them.
pub fn by_content_type<'a>(media: &str, buf: &'a [u8]) -> Result<Vec<DdTrace<'a>>, DecodeError> {
    match media {
        "application/msgpack" => msgpack_v04(buf),
        "application/json" | "text/json" | "" => json_traces(buf),
        _ => json_traces(buf).or_else(|j| {
            msgpack_v04(buf).map_err(|m| DecodeError::Neither {
                json: j.to_string(),
                msgpack: m.to_string(),
            })
        }),
    }
}

#[cfg(test)]
mod tests;
