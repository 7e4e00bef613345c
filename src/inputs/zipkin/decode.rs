//! Zipkin's wire formats: v2 JSON and protobuf (`/api/v2/spans`), v1 JSON and Thrift
//! (`/api/v1/spans`). Every error says where: the span's index and key, a byte offset, or a
//! JSON line and column.

use serde::Deserialize;

use super::model::{Endpoint, ZSpan, v1_times};

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipkinError {
    #[error("JSON: {0}")]
    Json(String),
    #[error("JSON span {span}: `{key}`: {what}")]
    BadId {
        span: usize,
        key: &'static str,
        what: String,
    },
    #[error("protobuf at byte {offset}: {what}")]
    Proto { offset: usize, what: String },
    #[error("thrift at byte {offset}: {what}")]
    Thrift { offset: usize, what: String },
}

fn json_err(e: serde_json::Error) -> ZipkinError {
    ZipkinError::Json(format!("{e} (line {}, column {})", e.line(), e.column()))
}

/// A hex id of 1–16 digits (`None` key: absent or empty).
fn hex_id(s: &str, span: usize, key: &'static str) -> Result<u64, ZipkinError> {
    if s.is_empty() {
        return Ok(0);
    }
    if s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ZipkinError::BadId {
            span,
            key,
            what: format!("`{s}` is not a hex id of at most 16 digits"),
        });
    }
    u64::from_str_radix(s, 16).map_err(|e| ZipkinError::BadId {
        span,
        key,
        what: e.to_string(),
    })
}

/// A trace id of up to 32 hex digits: (high, low).
fn hex_trace_id(s: &str, span: usize) -> Result<(u64, u64), ZipkinError> {
    if s.len() > 16 {
        if s.len() > 32 {
            return Err(ZipkinError::BadId {
                span,
                key: "traceId",
                what: format!("`{s}` is longer than 32 hex digits"),
            });
        }
        let (hi, lo) = s.split_at(s.len() - 16);
        Ok((hex_id(hi, span, "traceId")?, hex_id(lo, span, "traceId")?))
    } else {
        Ok((0, hex_id(s, span, "traceId")?))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JEndpoint {
    service_name: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    port: Option<i32>,
}

impl From<JEndpoint> for Endpoint {
    fn from(e: JEndpoint) -> Endpoint {
        Endpoint {
            service_name: e.service_name.unwrap_or_default(),
            ipv4: e.ipv4.unwrap_or_default(),
            ipv6: e.ipv6.unwrap_or_default(),
            port: e.port.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JAnnotation {
    timestamp: i64,
    value: String,
    endpoint: Option<JEndpoint>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JSpanV2 {
    trace_id: String,
    parent_id: Option<String>,
    id: String,
    kind: Option<String>,
    name: Option<String>,
    timestamp: Option<i64>,
    duration: Option<i64>,
    local_endpoint: Option<JEndpoint>,
    remote_endpoint: Option<JEndpoint>,
    annotations: Option<Vec<JAnnotation>>,
    tags: Option<std::collections::BTreeMap<String, String>>,
    debug: Option<bool>,
    shared: Option<bool>,
}

/// `/api/v2/spans` JSON: an array of spans.
pub fn json_v2(buf: &[u8]) -> Result<Vec<ZSpan>, ZipkinError> {
    let v: Vec<Option<JSpanV2>> = serde_json::from_slice(buf).map_err(json_err)?;
    let mut out = Vec::with_capacity(v.len());
    for (i, s) in v.into_iter().enumerate() {
        let Some(s) = s else { continue };
        let (hi, lo) = hex_trace_id(&s.trace_id, i)?;
        out.push(ZSpan {
            trace_id_high: hi,
            trace_id: lo,
            id: hex_id(&s.id, i, "id")?,
            parent_id: hex_id(s.parent_id.as_deref().unwrap_or(""), i, "parentId")?,
            kind: s.kind.unwrap_or_default(),
            name: s.name.unwrap_or_default(),
            timestamp: s.timestamp.unwrap_or_default(),
            duration: s.duration.unwrap_or_default(),
            local_endpoint: s.local_endpoint.map(Into::into),
            remote_endpoint: s.remote_endpoint.map(Into::into),
            annotations: s
                .annotations
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.timestamp, a.value))
                .collect(),
            tags: s.tags.unwrap_or_default().into_iter().collect(),
            debug: s.debug.unwrap_or_default(),
            shared: s.shared.unwrap_or_default(),
            ..ZSpan::default()
        });
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JBinaryAnnotation {
    key: String,
    value: serde_json::Value,
    endpoint: Option<JEndpoint>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JSpanV1 {
    trace_id: String,
    parent_id: Option<String>,
    id: String,
    name: String,
    annotations: Option<Vec<JAnnotation>>,
    binary_annotations: Option<Vec<JBinaryAnnotation>>,
    timestamp: Option<i64>,
    duration: Option<i64>,
    debug: Option<bool>,
}

/// `/api/v1/spans` JSON: an array of v1 spans, brought to the v2 model.
pub fn json_v1(buf: &[u8]) -> Result<Vec<ZSpan>, ZipkinError> {
    let v: Vec<Option<JSpanV1>> = serde_json::from_slice(buf).map_err(json_err)?;
    let mut out = Vec::with_capacity(v.len());
    for (i, s) in v.into_iter().enumerate() {
        let Some(s) = s else { continue };
        let (hi, lo) = hex_trace_id(&s.trace_id, i)?;
        let annotations = s.annotations.unwrap_or_default();
        let binary = s.binary_annotations.unwrap_or_default();
        let service = annotations
            .iter()
            .filter_map(|a| a.endpoint.as_ref())
            .chain(binary.iter().filter_map(|b| b.endpoint.as_ref()))
            .filter_map(|e| e.service_name.clone())
            .find(|n| !n.is_empty());
        let tags: Vec<(String, String)> = binary
            .into_iter()
            .map(|b| {
                let v = match b.value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (b.key, v)
            })
            .collect();
        let mut z = ZSpan {
            trace_id_high: hi,
            trace_id: lo,
            id: hex_id(&s.id, i, "id")?,
            parent_id: hex_id(s.parent_id.as_deref().unwrap_or(""), i, "parentId")?,
            name: s.name,
            timestamp: s.timestamp.unwrap_or_default(),
            duration: s.duration.unwrap_or_default(),
            annotations: annotations
                .into_iter()
                .map(|a| (a.timestamp, a.value))
                .collect(),
            v1_resource: tags
                .iter()
                .find(|(k, _)| k == "path.http")
                .map(|(_, v)| v.clone()),
            tags,
            debug: s.debug.unwrap_or_default(),
            v1_service: service,
            ..ZSpan::default()
        };
        v1_times(&mut z);
        out.push(z);
    }
    Ok(out)
}

/// A decoder of one of the formats.
pub type Decoder = fn(&[u8]) -> Result<Vec<ZSpan>, ZipkinError>;

/// A protobuf reader over a byte slice.
struct Pb<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole body, for errors.
    base: usize,
}

impl<'a> Pb<'a> {
    fn err(&self, what: impl Into<String>) -> ZipkinError {
        ZipkinError::Proto {
            offset: self.base + self.pos,
            what: what.into(),
        }
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn varint(&mut self) -> Result<u64, ZipkinError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }
    fn fixed64(&mut self) -> Result<u64, ZipkinError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated fixed64"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }
    fn bytes(&mut self) -> Result<Pb<'a>, ZipkinError> {
        let n = self.varint()? as usize;
        let start = self.pos;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| {
                self.err(format!(
                    "truncated: {n} bytes announced, {} left",
                    self.buf.len() - start
                ))
            })?;
        self.pos = end;
        Ok(Pb {
            buf: &self.buf[start..end],
            pos: 0,
            base: self.base + start,
        })
    }
    fn string(&mut self) -> Result<String, ZipkinError> {
        let b = self.bytes()?;
        Ok(String::from_utf8_lossy(b.buf).into_owned())
    }
    /// (field, wire type), or an error for a wire type protobuf does not have.
    fn key(&mut self) -> Result<(u64, u8), ZipkinError> {
        let k = self.varint()?;
        Ok((k >> 3, (k & 7) as u8))
    }
    fn skip(&mut self, wire: u8) -> Result<(), ZipkinError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed64().map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => {
                if self.pos + 4 > self.buf.len() {
                    return Err(self.err("truncated fixed32"));
                }
                self.pos += 4;
                Ok(())
            }
            w => Err(self.err(format!("wire type {w} is not valid here"))),
        }
    }
    /// The field must have wire type `want`.
    fn expect(&self, field: u64, wire: u8, want: u8) -> Result<(), ZipkinError> {
        if wire == want {
            Ok(())
        } else {
            Err(self.err(format!(
                "field {field} has wire type {wire}, expected {want}"
            )))
        }
    }
}

fn id_bytes(p: &Pb<'_>, b: &[u8], field: &str) -> Result<(u64, u64), ZipkinError> {
    let be = |s: &[u8]| s.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x));
    match b.len() {
        0 => Ok((0, 0)),
        8 => Ok((0, be(b))),
        16 => Ok((be(&b[..8]), be(&b[8..]))),
        n => Err(p.err(format!("{field} has {n} bytes, expected 8 or 16"))),
    }
}

fn pb_endpoint(mut p: Pb<'_>) -> Result<Endpoint, ZipkinError> {
    let mut e = Endpoint::default();
    while !p.done() {
        let (f, w) = p.key()?;
        match f {
            1 => {
                p.expect(f, w, 2)?;
                e.service_name = p.string()?;
            }
            2 => {
                p.expect(f, w, 2)?;
                let b = p.bytes()?;
                if b.buf.len() == 4 {
                    e.ipv4 =
                        std::net::Ipv4Addr::new(b.buf[0], b.buf[1], b.buf[2], b.buf[3]).to_string();
                }
            }
            3 => {
                p.expect(f, w, 2)?;
                let b = p.bytes()?;
                if let Ok(a) = <[u8; 16]>::try_from(b.buf) {
                    e.ipv6 = std::net::Ipv6Addr::from(a).to_string();
                }
            }
            4 => {
                p.expect(f, w, 0)?;
                e.port = p.varint()? as i32;
            }
            _ => p.skip(w)?,
        }
    }
    Ok(e)
}

const KINDS: [&str; 5] = ["", "CLIENT", "SERVER", "PRODUCER", "CONSUMER"];

fn pb_span(mut p: Pb<'_>) -> Result<ZSpan, ZipkinError> {
    let mut z = ZSpan::default();
    while !p.done() {
        let (f, w) = p.key()?;
        match f {
            1..=3 => {
                p.expect(f, w, 2)?;
                let b = p.bytes()?;
                let name = ["trace_id", "parent_id", "id"][f as usize - 1];
                let (hi, lo) = id_bytes(&b, b.buf, name)?;
                match f {
                    1 => (z.trace_id_high, z.trace_id) = (hi, lo),
                    2 if hi == 0 => z.parent_id = lo,
                    3 if hi == 0 => z.id = lo,
                    _ => return Err(b.err(format!("{name} has 16 bytes, expected 8"))),
                }
            }
            4 => {
                p.expect(f, w, 0)?;
                z.kind = KINDS.get(p.varint()? as usize).unwrap_or(&"").to_string();
            }
            5 => {
                p.expect(f, w, 2)?;
                z.name = p.string()?;
            }
            6 => {
                p.expect(f, w, 1)?;
                z.timestamp = p.fixed64()? as i64;
            }
            7 => {
                p.expect(f, w, 0)?;
                z.duration = p.varint()? as i64;
            }
            8 | 9 => {
                p.expect(f, w, 2)?;
                let e = pb_endpoint(p.bytes()?)?;
                if f == 8 {
                    z.local_endpoint = Some(e);
                } else {
                    z.remote_endpoint = Some(e);
                }
            }
            10 => {
                p.expect(f, w, 2)?;
                let mut a = p.bytes()?;
                let (mut ts, mut v) = (0i64, String::new());
                while !a.done() {
                    let (f, w) = a.key()?;
                    match (f, w) {
                        (1, 1) => ts = a.fixed64()? as i64,
                        (2, 2) => v = a.string()?,
                        (_, w) => a.skip(w)?,
                    }
                }
                z.annotations.push((ts, v));
            }
            11 => {
                p.expect(f, w, 2)?;
                let mut e = p.bytes()?;
                let (mut k, mut v) = (String::new(), String::new());
                while !e.done() {
                    let (f, w) = e.key()?;
                    match (f, w) {
                        (1, 2) => k = e.string()?,
                        (2, 2) => v = e.string()?,
                        (_, w) => e.skip(w)?,
                    }
                }
                z.tags.push((k, v));
            }
            12 => {
                p.expect(f, w, 0)?;
                z.debug = p.varint()? != 0;
            }
            13 => {
                p.expect(f, w, 0)?;
                z.shared = p.varint()? != 0;
            }
            _ => p.skip(w)?,
        }
    }
    Ok(z)
}

/// `/api/v2/spans` protobuf: `ListOfSpans` (zipkin.proto3).
pub fn proto_v2(buf: &[u8]) -> Result<Vec<ZSpan>, ZipkinError> {
    let mut p = Pb {
        buf,
        pos: 0,
        base: 0,
    };
    let mut out = Vec::new();
    while !p.done() {
        let (f, w) = p.key()?;
        if f == 1 {
            p.expect(f, w, 2)?;
            out.push(pb_span(p.bytes()?)?);
        } else {
            p.skip(w)?;
        }
    }
    Ok(out)
}

/// A Thrift binary protocol reader.
struct Th<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

const T_STOP: u8 = 0;
const T_BOOL: u8 = 2;
const T_BYTE: u8 = 3;
const T_DOUBLE: u8 = 4;
const T_I16: u8 = 6;
const T_I32: u8 = 8;
const T_I64: u8 = 10;
const T_STRING: u8 = 11;
const T_STRUCT: u8 = 12;
const T_MAP: u8 = 13;
const T_SET: u8 = 14;
const T_LIST: u8 = 15;

impl Th<'_> {
    fn err(&self, what: impl Into<String>) -> ZipkinError {
        ZipkinError::Thrift {
            offset: self.pos,
            what: what.into(),
        }
    }
    fn take(&mut self, n: usize) -> Result<&[u8], ZipkinError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| {
                self.err(format!(
                    "truncated: {n} bytes announced, {} left",
                    self.buf.len().saturating_sub(self.pos)
                ))
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ZipkinError> {
        Ok(self.take(1)?[0])
    }
    fn i16(&mut self) -> Result<i16, ZipkinError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, ZipkinError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, ZipkinError> {
        let b = self.take(8)?;
        Ok(i64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    }
    fn len(&mut self) -> Result<usize, ZipkinError> {
        let at = self.pos;
        let n = self.i32()?;
        let left = self.buf.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= left)
            .ok_or(ZipkinError::Thrift {
                offset: at,
                what: format!("size {n} is negative or larger than the {left} bytes left"),
            })
    }
    fn binary(&mut self) -> Result<Vec<u8>, ZipkinError> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }
    fn string(&mut self) -> Result<String, ZipkinError> {
        Ok(String::from_utf8_lossy(&self.binary()?).into_owned())
    }
    fn field(&mut self) -> Result<Option<(u8, i16)>, ZipkinError> {
        let t = self.u8()?;
        if t == T_STOP {
            return Ok(None);
        }
        Ok(Some((t, self.i16()?)))
    }
    fn expect(&self, id: i16, t: u8, want: u8) -> Result<(), ZipkinError> {
        if t == want {
            Ok(())
        } else {
            Err(self.err(format!("field {id} has type {t}, expected {want}")))
        }
    }
    fn skip(&mut self, t: u8) -> Result<(), ZipkinError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.err("nested deeper than 64 levels"));
        }
        match t {
            T_BOOL | T_BYTE => {
                self.take(1)?;
            }
            T_DOUBLE | T_I64 => {
                self.take(8)?;
            }
            T_I16 => {
                self.take(2)?;
            }
            T_I32 => {
                self.take(4)?;
            }
            T_STRING => {
                self.binary()?;
            }
            T_STRUCT => {
                while let Some((ft, _)) = self.field()? {
                    self.skip(ft)?;
                }
            }
            T_MAP => {
                let (k, v) = (self.u8()?, self.u8()?);
                let n = self.len()?;
                for _ in 0..n {
                    self.skip(k)?;
                    self.skip(v)?;
                }
            }
            T_SET | T_LIST => {
                let e = self.u8()?;
                let n = self.len()?;
                for _ in 0..n {
                    self.skip(e)?;
                }
            }
            t => return Err(self.err(format!("unknown thrift type {t}"))),
        }
        self.depth -= 1;
        Ok(())
    }
    fn list_of_structs(&mut self) -> Result<usize, ZipkinError> {
        let e = self.u8()?;
        if e != T_STRUCT {
            return Err(self.err(format!("a list of type {e}, expected structs (12)")));
        }
        self.len()
    }
    fn endpoint(&mut self) -> Result<Endpoint, ZipkinError> {
        let mut e = Endpoint::default();
        while let Some((t, id)) = self.field()? {
            match id {
                1 => {
                    self.expect(id, t, T_I32)?;
                    e.ipv4 = std::net::Ipv4Addr::from(self.i32()? as u32).to_string();
                }
                2 => {
                    self.expect(id, t, T_I16)?;
                    e.port = i32::from(self.i16()?);
                }
                3 => {
                    self.expect(id, t, T_STRING)?;
                    e.service_name = self.string()?;
                }
                _ => self.skip(t)?,
            }
        }
        Ok(e)
    }
    fn span(&mut self) -> Result<ZSpan, ZipkinError> {
        let mut z = ZSpan::default();
        let mut services: Vec<String> = Vec::new();
        let mut binary_services: Vec<String> = Vec::new();
        while let Some((t, id)) = self.field()? {
            match id {
                1 | 4 | 5 | 10 | 11 | 12 => {
                    self.expect(id, t, T_I64)?;
                    let v = self.i64()?;
                    match id {
                        1 => z.trace_id = v as u64,
                        4 => z.id = v as u64,
                        5 => z.parent_id = v as u64,
                        10 => z.timestamp = v,
                        11 => z.duration = v,
                        _ => z.trace_id_high = v as u64,
                    }
                }
                3 => {
                    self.expect(id, t, T_STRING)?;
                    z.name = self.string()?;
                }
                6 => {
                    self.expect(id, t, T_LIST)?;
                    let n = self.list_of_structs()?;
                    for _ in 0..n {
                        let (mut ts, mut v) = (0, String::new());
                        while let Some((t, id)) = self.field()? {
                            match (id, t) {
                                (1, T_I64) => ts = self.i64()?,
                                (2, T_STRING) => v = self.string()?,
                                (3, T_STRUCT) => services.push(self.endpoint()?.service_name),
                                (_, t) => self.skip(t)?,
                            }
                        }
                        z.annotations.push((ts, v));
                    }
                }
                8 => {
                    self.expect(id, t, T_LIST)?;
                    let n = self.list_of_structs()?;
                    for _ in 0..n {
                        let (mut k, mut v) = (String::new(), Vec::new());
                        while let Some((t, id)) = self.field()? {
                            match (id, t) {
                                (1, T_STRING) => k = self.string()?,
                                (2, T_STRING) => v = self.binary()?,
                                (4, T_STRUCT) => {
                                    binary_services.push(self.endpoint()?.service_name)
                                }
                                (_, t) => self.skip(t)?,
                            }
                        }
                        // Every annotation type's bytes as text, as the original takes them.
                        z.tags.push((k, String::from_utf8_lossy(&v).into_owned()));
                    }
                }
                9 => {
                    self.expect(id, t, T_BOOL)?;
                    z.debug = self.u8()? != 0;
                }
                _ => self.skip(t)?,
            }
        }
        z.v1_service = services
            .into_iter()
            .chain(binary_services)
            .find(|s| !s.is_empty());
        z.v1_resource = z
            .tags
            .iter()
            .find(|(k, _)| k == "path.http")
            .map(|(_, v)| v.clone());
        v1_times(&mut z);
        Ok(z)
    }
}

/// `/api/v1/spans` Thrift: a binary-protocol list of `zipkincore.Span`.
pub fn thrift_v1(buf: &[u8]) -> Result<Vec<ZSpan>, ZipkinError> {
    let mut t = Th {
        buf,
        pos: 0,
        depth: 0,
    };
    let n = t.list_of_structs()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(t.span()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
