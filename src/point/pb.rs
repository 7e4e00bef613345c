//! DataWay's protobuf point format (`point.proto`): `PBPoints{arr=1: PBPoint}`,
//! `PBPoint{name=1, fields=2: Field, time=3}`, `Field{key=1, i=2, u=3, f=4, b=5, d=6, is_tag=8,
//! s=11}`. Encoded by hand (no intermediate structs, no allocation per point) and decoded for the
//! write API's `application/protobuf` bodies.

use super::{Category, Point, PointView, Value, ValueView};

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_field_size(tag_len: usize, len: usize) -> usize {
    tag_len + varint_len(len as u64) + len
}

/// An array's JSON text: how arrays travel in the string field (see `pb_put_value`).
fn array_text(items: &[Value]) -> String {
    serde_json::Value::Array(items.iter().map(Value::to_json).collect()).to_string()
}

fn pb_value_size(v: ValueView<'_>) -> usize {
    match v {
        ValueView::Array(a) => len_field_size(1, array_text(a).len()),
        ValueView::Int(i) => 1 + varint_len(i as u64),
        ValueView::Uint(u) => 1 + varint_len(u),
        ValueView::Float(_) => 1 + 8,
        ValueView::Bool(_) => 2,
        ValueView::Bytes(b) => len_field_size(1, b.len()),
        ValueView::Str(s) => len_field_size(1, s.len()),
    }
}

#[inline]
fn put_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn pb_put_value(out: &mut Vec<u8>, v: ValueView<'_>) {
    match v {
        // Arrays (DataKit's line-protocol extension) travel as their JSON text in the string
        // field: the original wraps them in a `google.protobuf.Any` whose schema DataWay does
        // not publish; a string keeps the values readable instead of dropping them.
        ValueView::Array(a) => put_bytes(out, 0x5a, array_text(a).as_bytes()),
        ValueView::Int(i) => {
            out.push(0x10);
            put_varint(out, i as u64);
        }
        ValueView::Uint(u) => {
            out.push(0x18);
            put_varint(out, u);
        }
        ValueView::Float(f) => {
            out.push(0x21);
            out.extend_from_slice(&f.to_le_bytes());
        }
        ValueView::Bool(b) => {
            out.push(0x28);
            out.push(u8::from(b));
        }
        ValueView::Bytes(b) => put_bytes(out, 0x32, b),
        ValueView::Str(s) => put_bytes(out, 0x5a, s.as_bytes()),
    }
}

fn pb_tag_field_size(k: &str, v: &str) -> usize {
    len_field_size(1, k.len()) + len_field_size(1, v.len()) + 2
}

/// Appends one `PBPoints.arr` entry for `p`, in one pass: the entry's length is written after
/// its content, in the two bytes left for it (moved when it needs one or three).
pub fn pb_append_point(out: &mut Vec<u8>, p: &(impl PointView + ?Sized)) {
    out.push(0x0a);
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let start = out.len();
    put_bytes(out, 0x0a, p.name().as_bytes());
    for (k, v) in p.tags() {
        out.push(0x12);
        put_varint(out, pb_tag_field_size(k, v) as u64);
        put_bytes(out, 0x0a, k.as_bytes());
        put_bytes(out, 0x5a, v.as_bytes());
        out.push(0x40);
        out.push(1);
    }
    for (k, v) in p.fields() {
        out.push(0x12);
        put_varint(out, (len_field_size(1, k.len()) + pb_value_size(v)) as u64);
        put_bytes(out, 0x0a, k.as_bytes());
        pb_put_value(out, v);
    }
    if p.time() != 0 {
        out.push(0x18);
        put_varint(out, p.time() as u64);
    }
    let len = out.len() - start;
    if (128..16384).contains(&len) {
        out[len_at] = (len as u8) | 0x80;
        out[len_at + 1] = (len >> 7) as u8;
    } else {
        let mut v = Vec::with_capacity(10);
        put_varint(&mut v, len as u64);
        out.splice(len_at..start, v);
    }
}

/// Why a protobuf body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid protobuf at byte {offset}: {reason}")]
pub struct PbError {
    pub offset: usize,
    pub reason: &'static str,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: &'static str) -> PbError {
        PbError {
            offset: self.base + self.pos,
            reason,
        }
    }
    fn done(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn varint(&mut self) -> Result<u64, PbError> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.b.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(self.err("varint overflow"));
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }
    fn bytes(&mut self) -> Result<(&'a [u8], usize), PbError> {
        let len = usize::try_from(self.varint()?).map_err(|_| self.err("length overflow"))?;
        let start = self.pos;
        let end = start
            .checked_add(len)
            .ok_or_else(|| self.err("length overflow"))?;
        if end > self.b.len() {
            return Err(self.err("truncated field"));
        }
        self.pos = end;
        Ok((&self.b[start..end], self.base + start))
    }
    fn fixed64(&mut self) -> Result<[u8; 8], PbError> {
        let end = self.pos + 8;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or_else(|| self.err("truncated fixed64"))?;
        self.pos = end;
        let mut out = [0u8; 8];
        out.copy_from_slice(s);
        Ok(out)
    }
    fn skip(&mut self, wire: u64) -> Result<(), PbError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed64().map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => {
                if self.pos + 4 > self.b.len() {
                    return Err(self.err("truncated fixed32"));
                }
                self.pos += 4;
                Ok(())
            }
            _ => Err(self.err("unsupported wire type")),
        }
    }
}

fn utf8(b: &[u8], at: usize) -> Result<String, PbError> {
    std::str::from_utf8(b)
        .map(str::to_string)
        .map_err(|_| PbError {
            offset: at,
            reason: "invalid UTF-8 in a string",
        })
}

/// Decodes a `PBPoints` body into points of `category`. Fields with a value of a kind this
/// agent does not carry (`google.protobuf.Any`) are skipped.
pub fn decode_points(body: &[u8], category: Category) -> Result<Vec<Point>, PbError> {
    let mut r = Reader {
        b: body,
        pos: 0,
        base: 0,
    };
    let mut out = Vec::new();
    while !r.done() {
        let key = r.varint()?;
        if key == 0x0a {
            let (pt, at) = r.bytes()?;
            out.push(decode_point(pt, at, category)?);
        } else {
            r.skip(key & 7)?;
        }
    }
    Ok(out)
}

fn decode_point(b: &[u8], base: usize, category: Category) -> Result<Point, PbError> {
    let mut r = Reader { b, pos: 0, base };
    let mut p = Point::new(category, "");
    while !r.done() {
        let key = r.varint()?;
        match key {
            0x0a => {
                let (s, at) = r.bytes()?;
                p.name = utf8(s, at)?;
            }
            0x12 => {
                let (f, at) = r.bytes()?;
                decode_field(f, at, &mut p)?;
            }
            0x18 => p.time = r.varint()? as i64,
            _ => r.skip(key & 7)?,
        }
    }
    Ok(p)
}

fn decode_field(b: &[u8], base: usize, p: &mut Point) -> Result<(), PbError> {
    let mut r = Reader { b, pos: 0, base };
    let mut key = String::new();
    let mut val: Option<Value> = None;
    let mut is_tag = false;
    while !r.done() {
        let k = r.varint()?;
        match k {
            0x0a => {
                let (s, at) = r.bytes()?;
                key = utf8(s, at)?;
            }
            0x10 => val = Some(Value::Int(r.varint()? as i64)),
            0x18 => val = Some(Value::Uint(r.varint()?)),
            0x21 => val = Some(Value::Float(f64::from_le_bytes(r.fixed64()?))),
            0x28 => val = Some(Value::Bool(r.varint()? != 0)),
            0x32 => val = Some(Value::Bytes(r.bytes()?.0.to_vec())),
            0x5a => {
                let (s, at) = r.bytes()?;
                val = Some(Value::Str(utf8(s, at)?));
            }
            0x40 => is_tag = r.varint()? != 0,
            _ => r.skip(k & 7)?,
        }
    }
    match (val, is_tag) {
        (Some(Value::Str(s)), true) => p.set_tag(key, s),
        (Some(v), false) => p.set_field(key, v),
        (Some(_), true) => {
            return Err(PbError {
                offset: base,
                reason: "a tag whose value is not a string",
            });
        }
        (None, _) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_value_type() {
        let mut p = Point::new(Category::Metric, "cpu");
        p.set_tag("host", "h1");
        p.set_field("i", Value::Int(-5));
        p.set_field("u", Value::Uint(u64::MAX));
        p.set_field("f", Value::Float(1.25));
        p.set_field("b", Value::Bool(true));
        p.set_field("s", Value::Str("héllo".into()));
        p.set_field("d", Value::Bytes(vec![0, 255]));
        p.time = 1_700_000_000_000_000_001;
        let mut buf = Vec::new();
        pb_append_point(&mut buf, &p);
        pb_append_point(&mut buf, &p);
        let back = decode_points(&buf, Category::Metric).unwrap();
        assert_eq!(back, vec![p.clone(), p]);
    }

    #[test]
    fn entry_lengths_are_minimal_varints_at_every_size() {
        for n in [
            0,
            60,
            100,
            113,
            114,
            115,
            200,
            16_000,
            16_262,
            16_263,
            16_264,
            20_000,
            3 << 20,
        ] {
            let mut p = Point::new(Category::Logging, "m");
            p.set_field("s", Value::Str("x".repeat(n)));
            p.time = 1;
            let mut buf = vec![7];
            pb_append_point(&mut buf, &p);
            let mut r = Reader {
                b: &buf[1..],
                pos: 0,
                base: 0,
            };
            assert_eq!(r.varint().unwrap(), 0x0a);
            let len = r.varint().unwrap() as usize;
            assert_eq!(
                r.pos,
                1 + varint_len(len as u64),
                "size {n}: minimal length"
            );
            assert_eq!(
                r.pos + len,
                buf.len() - 1,
                "size {n}: length covers the entry"
            );
            assert_eq!(
                decode_points(&buf[1..], Category::Logging).unwrap(),
                vec![p]
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_points(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], Category::Metric).is_err());
        assert!(decode_points(&[0x0a, 0x05, 0x0a], Category::Metric).is_err());
        assert!(decode_points(&[0x0a, 0x02, 0x0a, 0x01], Category::Metric).is_err());
        assert_eq!(decode_points(&[], Category::Metric).unwrap(), vec![]);
    }
}
