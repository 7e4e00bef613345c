//! Script values: what expressions evaluate to.
//!
//! Strings are [`SStr`]: short ones live inline (no allocation), longer ones are shared
//! (`Arc<str>`), so copying a value never copies text. Lists and maps have reference semantics
//! in the language; they live in a per-run [`Heap`] and a value holds their index. The heap is
//! dropped with the run, so reference cycles (`l[0] = l`) cannot leak memory.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::point::Value as PValue;

const INLINE: usize = 22;

/// An immutable string: inline up to 22 bytes, else shared.
#[derive(Clone)]
pub enum SStr {
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Arc<str>),
}

impl SStr {
    pub fn new(s: &str) -> SStr {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            SStr::Inline {
                len: s.len() as u8,
                buf,
            }
        } else {
            SStr::Shared(Arc::from(s))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            // The inline bytes were copied from a `&str`, so they are valid UTF-8.
            SStr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..*len as usize]).unwrap_or_default()
            }
            SStr::Shared(a) => a,
        }
    }
}

impl From<String> for SStr {
    fn from(s: String) -> SStr {
        if s.len() <= INLINE {
            SStr::new(&s)
        } else {
            SStr::Shared(Arc::from(s))
        }
    }
}

impl From<&str> for SStr {
    fn from(s: &str) -> SStr {
        SStr::new(s)
    }
}

impl std::ops::Deref for SStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for SStr {
    fn eq(&self, o: &SStr) -> bool {
        self.as_str() == o.as_str()
    }
}
impl Eq for SStr {}
impl PartialOrd for SStr {
    fn partial_cmp(&self, o: &SStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for SStr {
    fn cmp(&self, o: &SStr) -> std::cmp::Ordering {
        self.as_str().cmp(o.as_str())
    }
}
impl fmt::Debug for SStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl fmt::Display for SStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A runtime value.
#[derive(Clone, Debug, Default)]
pub enum Val {
    /// `nil`, undefined names, and the result of functions that return nothing.
    #[default]
    Nil,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(SStr),
    /// A list in the run's heap.
    List(u32),
    /// A map in the run's heap.
    Map(u32),
}

pub type Map = BTreeMap<SStr, Val>;

/// Deeper nesting than this is cut off when comparing or printing (cycles are possible).
pub const MAX_NESTING: usize = 64;

/// The lists and maps of one run.
#[derive(Default, Debug)]
pub struct Heap {
    pub lists: Vec<Vec<Val>>,
    pub maps: Vec<Map>,
}

impl Heap {
    pub fn new_list(&mut self, items: Vec<Val>) -> Val {
        self.lists.push(items);
        Val::List((self.lists.len() - 1) as u32)
    }
    pub fn new_map(&mut self, m: Map) -> Val {
        self.maps.push(m);
        Val::Map((self.maps.len() - 1) as u32)
    }
    pub fn list(&self, id: u32) -> &[Val] {
        self.lists.get(id as usize).map_or(&[], |v| v.as_slice())
    }
    pub fn list_mut(&mut self, id: u32) -> Option<&mut Vec<Val>> {
        self.lists.get_mut(id as usize)
    }
    pub fn map(&self, id: u32) -> Option<&Map> {
        self.maps.get(id as usize)
    }
    pub fn map_mut(&mut self, id: u32) -> Option<&mut Map> {
        self.maps.get_mut(id as usize)
    }
    /// Number of objects allocated in this run.
    pub fn objects(&self) -> usize {
        self.lists.len() + self.maps.len()
    }
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(SStr::new(s))
    }

    /// The name `value_type()` returns.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Nil => "",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Bool(_) => "bool",
            Val::Str(_) => "str",
            Val::List(_) => "list",
            Val::Map(_) => "map",
        }
    }

    /// The type name in error messages (`nil` for nil).
    pub fn err_type(&self) -> &'static str {
        match self {
            Val::Nil => "nil",
            v => v.type_name(),
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Val::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Truthiness for `if`/`for` conditions.
    pub fn truthy(&self, heap: &Heap) -> bool {
        match self {
            Val::Nil => false,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
            Val::List(id) => !heap.list(*id).is_empty(),
            Val::Map(id) => heap.map(*id).is_some_and(|m| !m.is_empty()),
        }
    }

    /// A number as f64 for numeric comparisons (bools count as 0/1).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// From a point field.
    pub fn from_point(v: &PValue) -> Val {
        match v {
            PValue::Int(i) => Val::Int(*i),
            PValue::Uint(u) => Val::Int(*u as i64),
            PValue::Float(f) => Val::Float(*f),
            PValue::Bool(b) => Val::Bool(*b),
            PValue::Str(s) => Val::str(s),
            PValue::Bytes(b) => Val::str(&String::from_utf8_lossy(b)),
        }
    }

    /// For writing into a point: `None` for nil; lists and maps become compact JSON text.
    pub fn to_point(&self, heap: &Heap) -> Option<PValue> {
        Some(match self {
            Val::Nil => return None,
            Val::Int(i) => PValue::Int(*i),
            Val::Float(f) => PValue::Float(*f),
            Val::Bool(b) => PValue::Bool(*b),
            Val::Str(s) => PValue::Str(s.as_str().to_string()),
            Val::List(_) | Val::Map(_) => PValue::Str(to_json(self, heap)),
        })
    }

    /// The text of a value as functions that read "a key as text" see it.
    pub fn to_text(&self, heap: &Heap) -> String {
        match self {
            Val::Nil => String::new(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => fmt_float_f(*f),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.as_str().to_string(),
            Val::List(_) | Val::Map(_) => to_json(self, heap),
        }
    }
}

/// Text of a point field value (ints as decimal, floats Go-style).
pub fn point_text(v: &PValue) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match v {
        PValue::Str(s) => Cow::Borrowed(s.as_str()),
        PValue::Int(i) => Cow::Owned(i.to_string()),
        PValue::Uint(u) => Cow::Owned(u.to_string()),
        PValue::Float(f) => Cow::Owned(fmt_float_f(*f)),
        PValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        PValue::Bytes(b) => String::from_utf8_lossy(b),
    }
}

/// Deep equality as `==` sees it: numbers and bools compare numerically at the top level;
/// inside lists and maps the element types must match too.
pub fn equal(a: &Val, b: &Val, heap: &Heap) -> bool {
    match (a, b) {
        (
            Val::Int(_) | Val::Float(_) | Val::Bool(_),
            Val::Int(_) | Val::Float(_) | Val::Bool(_),
        ) => a.as_f64() == b.as_f64(),
        _ => deep_equal(a, b, heap, 0),
    }
}

/// Deep, type-sensitive equality (`[1] == [1.0]` is false).
pub fn deep_equal(a: &Val, b: &Val, heap: &Heap, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    match (a, b) {
        (Val::Nil, Val::Nil) => true,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::List(x), Val::List(y)) => {
            if x == y {
                return true;
            }
            let (l1, l2) = (heap.list(*x), heap.list(*y));
            l1.len() == l2.len()
                && l1
                    .iter()
                    .zip(l2)
                    .all(|(p, q)| deep_equal(p, q, heap, depth + 1))
        }
        (Val::Map(x), Val::Map(y)) => {
            if x == y {
                return true;
            }
            match (heap.map(*x), heap.map(*y)) {
                (Some(m1), Some(m2)) => {
                    m1.len() == m2.len()
                        && m1.iter().all(|(k, v)| {
                            m2.get(k.as_str())
                                .is_some_and(|w| deep_equal(v, w, heap, depth + 1))
                        })
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Compact JSON with sorted keys (maps are ordered already). Floats use Go's JSON rules.
pub fn to_json(v: &Val, heap: &Heap) -> String {
    let mut out = String::new();
    write_json(&mut out, v, heap, 0);
    out
}

fn write_json(out: &mut String, v: &Val, heap: &Heap, depth: usize) {
    if depth > MAX_NESTING {
        out.push_str("null");
        return;
    }
    match v {
        Val::Nil => out.push_str("null"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(f) => {
            if f.is_finite() {
                out.push_str(&fmt_float_json_go(*f));
            } else {
                out.push_str("null");
            }
        }
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Str(s) => write_json_str(out, s),
        Val::List(id) => {
            out.push('[');
            for (i, x) in heap.list(*id).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x, heap, depth + 1);
            }
            out.push(']');
        }
        Val::Map(id) => {
            out.push('{');
            if let Some(m) = heap.map(*id) {
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(out, k);
                    out.push(':');
                    write_json(out, x, heap, depth + 1);
                }
            }
            out.push('}');
        }
    }
}

/// A JSON string literal without HTML escaping (Go's `SetEscapeHTML(false)`).
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[last..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        last = i + c.len_utf8();
    }
    out.push_str(&s[last..]);
    out.push('"');
}

/// Go `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn fmt_float_f(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        let s = format!("{f}");
        if s == "-0" { "-0".into() } else { s }
    }
}

/// Shortest decimal digits and exponent of `f` (finite, non-zero): `d.ddd × 10^exp`.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// `d.ddde±XX` with at least two exponent digits, as Go's `%e` prints.
fn exp_form(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::with_capacity(digits.len() + 6);
    if neg {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let _ = write!(
        out,
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
    out
}

/// Go `strconv.FormatFloat(f, 'g', -1, 64)`, which `%v` uses: `1e+21`, `1e+08`, `0.0001`.
pub fn fmt_float_g(f: f64) -> String {
    if !f.is_finite() {
        return fmt_float_f(f);
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // With the shortest precision Go decides with precision 6.
    let (digits, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        return exp_form(f < 0.0, &digits, exp);
    }
    fmt_float_f(f)
}

/// Floats in the debugger's JSON output: plain decimal, or an exponent form (`1e+21`,
/// `1e-07`) outside [1e-6, 1e21), as the original prints them.
pub fn fmt_float_json(f: f64) -> String {
    let a = f.abs();
    if f.is_finite() && a != 0.0 && !(1e-6..1e21).contains(&a) {
        let (digits, exp) = shortest_digits(f);
        return exp_form(f < 0.0, &digits, exp);
    }
    fmt_float_f(f)
}

/// Floats inside composite values turned into JSON text (Go's `encoding/json`: `1e-7`).
pub fn fmt_float_json_go(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let (digits, exp) = shortest_digits(f);
        let mut out = String::new();
        if f < 0.0 {
            out.push('-');
        }
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
        return out;
    }
    fmt_float_f(f)
}

// ---- JSON text to values -------------------------------------------------------------------

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Parses JSON text into a value in `heap` (numbers become floats). `None` if invalid.
pub fn parse_json(text: &str, heap: &mut Heap) -> Option<Val> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = JsonSeed { heap }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

struct JsonSeed<'h> {
    heap: &'h mut Heap,
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_> {
    type Value = Val;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
}

struct KeySeed;
impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = SStr;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<SStr, D::Error> {
        d.deserialize_str(KeySeed)
    }
}
impl<'de> Visitor<'de> for KeySeed {
    type Value = SStr;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SStr, E> {
        Ok(SStr::new(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<SStr, E> {
        Ok(SStr::from(v))
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_> {
    type Value = Val;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Float(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        Ok(Val::str(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(SStr::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        Ok(Val::Nil)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        Ok(Val::Nil)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(v) = seq.next_element_seed(JsonSeed {
            heap: &mut *self.heap,
        })? {
            items.push(v);
        }
        Ok(self.heap.new_list(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let v = map.next_value_seed(JsonSeed {
                heap: &mut *self.heap,
            })?;
            m.insert(k, v);
        }
        Ok(self.heap.new_map(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_strings_are_inline_and_compare_by_content() {
        let a = SStr::new("short");
        let b = SStr::from("a string longer than twenty-two bytes".to_string());
        assert!(matches!(a, SStr::Inline { .. }));
        assert!(matches!(b, SStr::Shared(_)));
        assert_eq!(a, SStr::from("short".to_string()));
        assert_eq!(&*b, "a string longer than twenty-two bytes");
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(fmt_float_f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt_float_f(1e8), "100000000");
        assert_eq!(fmt_float_f(200.0), "200");
        assert_eq!(fmt_float_f(f64::INFINITY), "+Inf");
        assert_eq!(fmt_float_g(1e21), "1e+21");
        assert_eq!(fmt_float_g(1e8), "1e+08");
        assert_eq!(fmt_float_g(123456.0), "123456");
        assert_eq!(fmt_float_g(1234567.0), "1.234567e+06");
        assert_eq!(fmt_float_g(0.0001), "0.0001");
        assert_eq!(fmt_float_g(0.00001), "1e-05");
        assert_eq!(fmt_float_g(1.5), "1.5");
        assert_eq!(fmt_float_json(1e21), "1e+21");
        assert_eq!(fmt_float_json(1e-7), "1e-07");
        assert_eq!(fmt_float_json(1e20), "100000000000000000000");
        assert_eq!(fmt_float_json(0.30000000000000004), "0.30000000000000004");
        assert_eq!(fmt_float_json_go(1e-7), "1e-7");
    }

    #[test]
    fn json_round_trip_sorts_keys() {
        let mut h = Heap::default();
        let v = parse_json(r#"{"z":1,"a":[true,null,"x\"y"],"m":{"b":2.5}}"#, &mut h).unwrap();
        assert_eq!(
            to_json(&v, &h),
            r#"{"a":[true,null,"x\"y"],"m":{"b":2.5},"z":1}"#
        );
        assert!(parse_json("{bad", &mut h).is_none());
        assert!(parse_json("1 2", &mut h).is_none());
        let s = parse_json(r#""<a&b>""#, &mut h).unwrap();
        assert_eq!(to_json(&s, &h), r#""<a&b>""#);
    }

    #[test]
    fn equality_rules() {
        let mut h = Heap::default();
        let l1 = h.new_list(vec![Val::Int(1)]);
        let l2 = h.new_list(vec![Val::Float(1.0)]);
        let l3 = h.new_list(vec![Val::Int(1)]);
        assert!(!equal(&l1, &l2, &h));
        assert!(equal(&l1, &l3, &h));
        assert!(equal(&Val::Int(1), &Val::Float(1.0), &h));
        assert!(equal(&Val::Bool(true), &Val::Int(1), &h));
        assert!(!equal(&Val::Int(1), &Val::str("1"), &h));
        assert!(equal(&Val::Nil, &Val::Nil, &h));
        // A cycle does not hang.
        if let Some(l) = h.list_mut(0) {
            l.push(Val::List(0));
        }
        let _ = to_json(&Val::List(0), &h);
        assert!(!deep_equal(&Val::List(0), &Val::List(2), &h, 0));
    }
}
