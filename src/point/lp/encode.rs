//! Line protocol encoder: canonical lines into a reusable buffer.
//!
//! What it writes (the original's `LineProto()`): tags with an empty value are left out; keys
//! are sorted when [`Encoder::sorted`] is on (the default, as the original); escapes are the
//! fewest that read back exactly: `,` and space in the measurement; `,`, space and `=` in tag
//! keys, tag values and field keys; `"` and `\` in string values. Ints are `42i`, uints `42u`,
//! floats the shortest decimal without exponent, booleans `true`/`false`, bytes
//! `"<base64>"b`, arrays `[e1,e2]`; the timestamp in nanoseconds, left out when 0. Every line
//! ends with `\n`.
//!
//! A point that no parser could read back the same is refused with an [`EncodeError`] and
//! the buffer is left as it was: no fields, NaN or ±Inf floats (the original skips those too),
//! an empty measurement, a newline in a name or key, a name or key that ends with a backslash,
//! and a few backslash sequences the original's field-key scanner cannot express.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::float;
use super::put::{put, put_i64, put_u64};
use crate::point::{Point, PointRef, PointView, Value, ValueView};

/// Why a point was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("point `{0}` has no fields")]
    NoFields(String),
    #[error("field `{0}` is NaN or infinite")]
    NonFiniteFloat(String),
    #[error("the measurement is empty")]
    EmptyName,
    #[error("{what} {text:?} cannot be written as line protocol: {why}")]
    Unrepresentable {
        what: &'static str,
        text: String,
        why: &'static str,
    },
    #[error("array field `{0}` mixes element types or holds arrays or bytes")]
    InvalidArray(String),
}

/// Encodes points as line protocol into an internal buffer that is reused between batches.
#[derive(Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
    sort: bool,
    lines: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

// Bytes that need attention when writing each kind of text.
const C_MEAS: u8 = 1; // , space \ \n
const C_TAG: u8 = 2; // , space = \ \n
const C_FKEY: u8 = 4; // , space = \ \n
const C_STR: u8 = 8; // " \

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = C_MEAS | C_TAG | C_FKEY;
    t[b' ' as usize] = C_MEAS | C_TAG | C_FKEY;
    t[b'=' as usize] = C_TAG | C_FKEY;
    t[b'\\' as usize] = C_MEAS | C_TAG | C_FKEY | C_STR;
    t[b'\n' as usize] = C_MEAS | C_TAG | C_FKEY;
    t[b'"' as usize] = C_STR;
    t
};

#[inline(always)]
fn clean(s: &[u8], mask: u8) -> bool {
    s.iter().all(|&c| CLASS[c as usize] & mask == 0)
}

fn unrep(what: &'static str, text: &str, why: &'static str) -> EncodeError {
    EncodeError::Unrepresentable {
        what,
        text: text.to_string(),
        why,
    }
}

impl Encoder {
    /// An encoder that sorts tags and fields by key.
    pub fn new() -> Encoder {
        Encoder {
            buf: Vec::new(),
            sort: true,
            lines: 0,
        }
    }

    /// Whether tags and fields are written sorted by key (default) or in point order.
    pub fn sorted(mut self, sort: bool) -> Encoder {
        self.sort = sort;
        self
    }

    /// An encoder holding `buf`, `lines` lines this encoder (or one like it) wrote.
    pub fn from_encoded(buf: Vec<u8>, lines: usize) -> Encoder {
        Encoder {
            buf,
            sort: true,
            lines,
        }
    }

    /// Reserves room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
    }

    /// Gives back room beyond the bytes encoded.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Bytes the buffer has room for.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The encoded lines so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes encoded so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Lines encoded since the last [`Encoder::clear`] / [`Encoder::take`].
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Empties the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lines = 0;
    }

    /// Hands out the encoded bytes and starts a new buffer.
    pub fn take(&mut self) -> Vec<u8> {
        self.lines = 0;
        std::mem::take(&mut self.buf)
    }

    /// Appends one point as a line (with `\n`). On error nothing is appended.
    pub fn encode(&mut self, p: &Point) -> Result<(), EncodeError> {
        self.encode_view(p)
    }

    /// Appends one borrowed point as a line (with `\n`). On error nothing is appended.
    pub fn encode_ref(&mut self, p: &PointRef<'_>) -> Result<(), EncodeError> {
        self.encode_view(p)
    }

    /// Appends any [`PointView`] as a line (with `\n`). On error nothing is appended.
    #[inline]
    pub fn encode_view(&mut self, p: &(impl PointView + ?Sized)) -> Result<(), EncodeError> {
        let mark = self.buf.len();
        let r = self.write_point(
            p.name(),
            p.tags(),
            p.tag_count(),
            p.fields(),
            p.field_count(),
            p.time(),
        );
        self.finish(mark, r)
    }

    /// Appends every point that can be written; returns the refused ones with their reason
    /// (the original skips them silently; callers count them).
    pub fn encode_all<'p>(
        &mut self,
        points: impl IntoIterator<Item = &'p Point>,
    ) -> Vec<(usize, EncodeError)> {
        let mut refused = Vec::new();
        for (i, p) in points.into_iter().enumerate() {
            if let Err(e) = self.encode(p) {
                refused.push((i, e));
            }
        }
        refused
    }

    fn finish(&mut self, mark: usize, r: Result<(), EncodeError>) -> Result<(), EncodeError> {
        match r {
            Ok(()) => {
                self.buf.push(b'\n');
                self.lines += 1;
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(mark);
                Err(e)
            }
        }
    }

    #[inline(always)]
    fn write_point<'s, 'v>(
        &mut self,
        name: &str,
        tags: impl Iterator<Item = (&'s str, &'s str)> + Clone,
        tag_count: usize,
        fields: impl Iterator<Item = (&'s str, ValueView<'v>)> + Clone,
        field_count: usize,
        time: i64,
    ) -> Result<(), EncodeError> {
        if field_count == 0 {
            return Err(EncodeError::NoFields(name.to_string()));
        }
        write_measurement(&mut self.buf, name)?;

        // Tags.
        if self.sort && tag_count > 1 && !is_sorted(tags.clone().map(|(k, _)| k)) {
            let mut all: SmallVec<[(&str, &str); 16]> = tags.collect();
            all.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (k, v) in all {
                self.write_tag(k, v)?;
            }
        } else {
            for (k, v) in tags {
                self.write_tag(k, v)?;
            }
        }

        // Fields.
        self.buf.push(b' ');
        if self.sort && field_count > 1 && !is_sorted(fields.clone().map(|(k, _)| k)) {
            let mut all: SmallVec<[(&str, ValueView<'_>); 16]> = fields.collect();
            all.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (i, (k, v)) in all.into_iter().enumerate() {
                self.write_field(i, k, v)?;
            }
        } else {
            for (i, (k, v)) in fields.enumerate() {
                self.write_field(i, k, v)?;
            }
        }

        if time != 0 {
            self.buf.push(b' ');
            put_i64(&mut self.buf, time);
        }
        Ok(())
    }

    #[inline]
    fn write_tag(&mut self, k: &str, v: &str) -> Result<(), EncodeError> {
        if v.is_empty() {
            return Ok(());
        }
        if k.is_empty() {
            return Err(unrep("tag key", k, "it is empty"));
        }
        self.buf.push(b',');
        write_tag_text(&mut self.buf, k, "tag key")?;
        self.buf.push(b'=');
        write_tag_text(&mut self.buf, v, "tag value")
    }

    #[inline(never)]
    fn write_field(&mut self, i: usize, k: &str, v: ValueView<'_>) -> Result<(), EncodeError> {
        if i > 0 {
            self.buf.push(b',');
        }
        write_field_key(&mut self.buf, k)?;
        self.buf.push(b'=');
        let buf = &mut self.buf;
        match v {
            ValueView::Int(x) => {
                put_i64(buf, x);
                buf.push(b'i');
            }
            ValueView::Uint(x) => {
                put_u64(buf, x);
                buf.push(b'u');
            }
            ValueView::Float(x) => {
                if !x.is_finite() {
                    return Err(EncodeError::NonFiniteFloat(k.to_string()));
                }
                float::write(x, buf);
            }
            ValueView::Bool(x) => put(buf, if x { b"true" } else { b"false" }),
            ValueView::Str(s) => write_string(buf, s),
            ValueView::Bytes(b) => {
                use base64::Engine as _;
                buf.push(b'"');
                let start = buf.len();
                let need = base64::encoded_len(b.len(), true).unwrap_or(0);
                buf.resize(start + need, 0);
                let written = base64::engine::general_purpose::STANDARD
                    .encode_slice(b, &mut buf[start..])
                    .unwrap_or(0);
                buf.truncate(start + written);
                buf.extend_from_slice(b"\"b");
            }
            ValueView::Array(items) => write_array(buf, k, items)?,
        }
        Ok(())
    }
}

fn is_sorted<'s>(mut keys: impl Iterator<Item = &'s str>) -> bool {
    let Some(mut prev) = keys.next() else {
        return true;
    };
    for k in keys {
        if k < prev {
            return false;
        }
        prev = k;
    }
    true
}

/// A newline at `i` reads back only after an odd run of backslashes (a line continuation in
/// the original's line splitter).
fn escaped_newline(b: &[u8], i: usize) -> bool {
    let run = b[..i].iter().rev().take_while(|c| **c == b'\\').count();
    run % 2 == 1
}

fn write_measurement(buf: &mut Vec<u8>, name: &str) -> Result<(), EncodeError> {
    let b = name.as_bytes();
    match b.first() {
        None => return Err(EncodeError::EmptyName),
        Some(b'\t' | 0) => {
            return Err(unrep(
                "measurement",
                name,
                "it starts with a tab or NUL, which readers skip",
            ));
        }
        Some(b'#') => {
            return Err(unrep(
                "measurement",
                name,
                "a line starting with # is a comment",
            ));
        }
        _ => {}
    }
    if clean(b, C_MEAS) {
        put(buf, b);
        return Ok(());
    }
    if b.last() == Some(&b'\\') {
        return Err(unrep("measurement", name, "it ends with a backslash"));
    }
    for (i, &c) in b.iter().enumerate() {
        match c {
            b',' | b' ' => {
                buf.push(b'\\');
                buf.push(c);
            }
            b'\n' if !escaped_newline(b, i) => {
                return Err(unrep("measurement", name, "it holds a newline"));
            }
            // A backslash before `=` or `"` would be read as an escape: double it.
            b'\\' if matches!(b.get(i + 1), Some(b'=' | b'"')) => buf.extend_from_slice(b"\\\\"),
            _ => buf.push(c),
        }
    }
    Ok(())
}

fn write_tag_text(buf: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), EncodeError> {
    let b = s.as_bytes();
    if clean(b, C_TAG) {
        put(buf, b);
        return Ok(());
    }
    if b.last() == Some(&b'\\') {
        return Err(unrep(what, s, "it ends with a backslash"));
    }
    for (i, &c) in b.iter().enumerate() {
        match c {
            b',' | b' ' | b'=' => {
                buf.push(b'\\');
                buf.push(c);
            }
            b'\n' if !escaped_newline(b, i) => return Err(unrep(what, s, "it holds a newline")),
            _ => buf.push(c),
        }
    }
    Ok(())
}

fn write_field_key(buf: &mut Vec<u8>, s: &str) -> Result<(), EncodeError> {
    let b = s.as_bytes();
    match b.first() {
        None => return Err(unrep("field key", s, "it is empty")),
        Some(b'\t' | 0) => {
            return Err(unrep(
                "field key",
                s,
                "it starts with a tab or NUL, which readers skip",
            ));
        }
        _ => {}
    }
    if clean(b, C_FKEY) {
        put(buf, b);
        return Ok(());
    }
    for (i, &c) in b.iter().enumerate() {
        match c {
            b',' | b' ' | b'=' => {
                buf.push(b'\\');
                buf.push(c);
            }
            b'\n' if !escaped_newline(b, i) => {
                return Err(unrep("field key", s, "it holds a newline"));
            }
            b'\\' => match b.get(i + 1) {
                None => return Err(unrep("field key", s, "it ends with a backslash")),
                Some(b',' | b' ' | b'=') => {
                    return Err(unrep(
                        "field key",
                        s,
                        "a backslash before `,`, space or `=` cannot be escaped in a field key",
                    ));
                }
                Some(b'"') => buf.extend_from_slice(b"\\\\"),
                _ => buf.push(c),
            },
            _ => buf.push(c),
        }
    }
    Ok(())
}

#[inline]
fn write_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let b = s.as_bytes();
    if clean(b, C_STR) {
        buf.extend_from_slice(b);
    } else {
        let mut last = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == b'"' || c == b'\\' {
                buf.extend_from_slice(&b[last..i]);
                buf.push(b'\\');
                buf.push(c);
                last = i + 1;
            }
        }
        buf.extend_from_slice(&b[last..]);
    }
    buf.push(b'"');
}

fn write_array(buf: &mut Vec<u8>, key: &str, items: &[Value]) -> Result<(), EncodeError> {
    buf.push(b'[');
    let first = items.first().map(std::mem::discriminant);
    for (i, v) in items.iter().enumerate() {
        if Some(std::mem::discriminant(v)) != first {
            return Err(EncodeError::InvalidArray(key.to_string()));
        }
        if i > 0 {
            buf.push(b',');
        }
        match v {
            Value::Int(x) => {
                put_i64(buf, *x);
                buf.push(b'i');
            }
            Value::Uint(x) => {
                put_u64(buf, *x);
                buf.push(b'u');
            }
            Value::Float(x) => {
                if !x.is_finite() {
                    return Err(EncodeError::NonFiniteFloat(key.to_string()));
                }
                float::write(*x, buf);
            }
            Value::Bool(x) => put(buf, if *x { b"true" } else { b"false" }),
            Value::Str(s) => write_string(buf, s),
            Value::Bytes(_) | Value::Array(_) => {
                return Err(EncodeError::InvalidArray(key.to_string()));
            }
        }
    }
    buf.push(b']');
    Ok(())
}

/// Appends `v` as the original formats floats (`strconv.FormatFloat(v, 'f', -1, 64)`:
/// shortest round-trip digits, never an exponent). `v` must be finite.
pub fn write_float(v: f64, out: &mut Vec<u8>) {
    float::write(v, out);
}

/// The line protocol of one point, or why it cannot be written (convenience for tests, echo
/// and debugging; use [`Encoder`] for batches).
pub fn to_line(p: &Point) -> Result<Cow<'static, str>, EncodeError> {
    let mut e = Encoder::new();
    e.encode(p)?;
    let mut b = e.take();
    b.pop();
    Ok(Cow::Owned(String::from_utf8(b).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Category;

    fn line(p: &Point) -> String {
        to_line(p).unwrap().into_owned()
    }

    #[test]
    fn writes_sorted_minimal_lines() {
        let mut p = Point::new(Category::Metric, "cpu");
        p.set_tag("host", "h 1");
        p.set_tag("az", "a,b=c");
        p.set_tag("empty", "");
        p.set_field("usage", 1.5);
        p.set_field("count", Value::Int(-3));
        p.set_field("big", Value::Uint(u64::MAX));
        p.set_field("ok", true);
        p.set_field("msg", "say \"hi\" \\ bye");
        p.time = 1_700_000_000_000_000_000;
        assert_eq!(
            line(&p),
            r#"cpu,az=a\,b\=c,host=h\ 1 big=18446744073709551615u,count=-3i,msg="say \"hi\" \\ bye",ok=true,usage=1.5 1700000000000000000"#
        );
        let mut e = Encoder::new().sorted(false);
        e.encode(&p).unwrap();
        assert!(
            e.as_bytes()
                .starts_with(b"cpu,host=h\\ 1,az=a\\,b\\=c usage=1.5,count=-3i")
        );
    }

    #[test]
    fn escapes_names_and_keys() {
        let mut p = Point::new(Category::Logging, "my measure,x=y");
        p.set_field("f k,=\"", 1.0);
        assert_eq!(line(&p), r#"my\ measure\,x=y f\ k\,\="=1"#);
        p.name = r#"a\=b"#.into();
        assert_eq!(line(&p), r#"a\\=b f\ k\,\="=1"#);
    }

    #[test]
    fn writes_bytes_arrays_and_no_time() {
        let mut p = Point::new(Category::Logging, "m");
        p.set_field("b", Value::Bytes(b"hello".to_vec()));
        p.set_field("a", Value::Array(vec![Value::Int(1), Value::Int(2)]));
        p.set_field("e", Value::Array(vec![]));
        p.set_field("s", Value::Array(vec!["x\"".into(), "y".into()]));
        assert_eq!(line(&p), r#"m a=[1i,2i],b="aGVsbG8="b,e=[],s=["x\"","y"]"#);
    }

    #[test]
    fn refuses_what_cannot_be_read_back() {
        let mut p = Point::new(Category::Metric, "m");
        assert!(matches!(to_line(&p), Err(EncodeError::NoFields(_))));
        p.set_field("f", f64::NAN);
        assert!(matches!(to_line(&p), Err(EncodeError::NonFiniteFloat(_))));
        p.set_field("f", f64::INFINITY);
        assert!(matches!(to_line(&p), Err(EncodeError::NonFiniteFloat(_))));
        p.set_field("f", 1.0);
        p.name = String::new();
        assert_eq!(to_line(&p), Err(EncodeError::EmptyName));
        for bad in ["a\nb", "#x", "\tx", "x\\"] {
            p.name = bad.into();
            assert!(to_line(&p).is_err(), "{bad:?}");
        }
        p.name = "m".into();
        p.set_tag("t", "v\\");
        assert!(to_line(&p).is_err());
        p.remove("t");
        p.set_field("a\\,b", 1.0);
        assert!(to_line(&p).is_err());
        let mut e = Encoder::new();
        e.encode(&Point::new(Category::Metric, "m")).unwrap_err();
        assert!(e.is_empty());
        p.remove("a\\,b");
        p.set_field("arr", Value::Array(vec![Value::Int(1), Value::Float(1.0)]));
        assert!(matches!(to_line(&p), Err(EncodeError::InvalidArray(_))));
    }
}
