//! Script values: what expressions evaluate to.
//!
//! Strings are [`SStr`]: short ones live inline (no allocation), longer ones are shared
//! (`Arc<str>`), so copying a value never copies text. Lists and maps have reference semantics
//! in the language; they live in a per-run [`Heap`] and a value holds their index. The heap is
//! dropped with the run, so reference cycles (`l[0] = l`) cannot leak memory.

use std::borrow::Borrow;
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
    #[inline]
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

    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            // The inline bytes were copied from a `&str`, so they are valid UTF-8.
            SStr::Inline { len, buf } => {
                let bytes = &buf[..(*len as usize).min(INLINE)];
                // SAFETY: inline bytes are only ever copied from a whole `&str` (see `new`),
                // so they are valid UTF-8. This is on every key comparison, hence unchecked.
                unsafe { std::str::from_utf8_unchecked(bytes) }
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

/// String equality that rejects most unequal pairs without calling `memcmp`.
#[inline]
pub fn str_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.is_empty() || a.as_bytes()[0] == b.as_bytes()[0]) && a == b
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

/// A map value. Small maps (most log objects) keep their entries in insertion order and are
/// searched with cheap comparisons; bigger ones are kept sorted and binary-searched. Iteration
/// is always in key order, which JSON output and `for` loops rely on.
#[derive(Debug, Clone, Default)]
pub struct Map {
    entries: Vec<(SStr, Val)>,
    sorted: bool,
}

/// Maps up to this size stay unsorted.
const SMALL_MAP: usize = 16;

impl Map {
    pub fn new() -> Map {
        Map {
            entries: Vec::new(),
            sorted: true,
        }
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.sorted = true;
    }

    fn index_of(&self, k: &str) -> Option<usize> {
        if self.sorted && self.entries.len() > SMALL_MAP {
            self.entries
                .binary_search_by(|(e, _)| e.as_str().cmp(k))
                .ok()
        } else {
            self.entries.iter().position(|(e, _)| str_eq(e, k))
        }
    }

    pub fn get(&self, k: &str) -> Option<&Val> {
        self.index_of(k).map(|i| &self.entries[i].1)
    }

    pub fn contains_key(&self, k: &str) -> bool {
        self.index_of(k).is_some()
    }

    /// Sets `k`; returns the previous value.
    pub fn insert(&mut self, k: SStr, v: Val) -> Option<Val> {
        if let Some(i) = self.index_of(&k) {
            return Some(std::mem::replace(&mut self.entries[i].1, v));
        }
        if self.sorted && self.entries.len() > SMALL_MAP {
            let i = self
                .entries
                .binary_search_by(|(e, _)| e.as_str().cmp(&k))
                .unwrap_or_else(|i| i);
            self.entries.insert(i, (k, v));
        } else {
            if self.entries.last().is_some_and(|(last, _)| *last > k) {
                self.sorted = false;
            }
            self.entries.push((k, v));
            if self.entries.len() > SMALL_MAP && !self.sorted {
                self.sort();
            }
        }
        None
    }

    pub fn remove(&mut self, k: &str) -> Option<Val> {
        self.index_of(k).map(|i| self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> std::vec::IntoIter<(&SStr, &Val)> {
        let mut v: Vec<(&SStr, &Val)> = self.entries.iter().map(|(k, v)| (k, v)).collect();
        if !self.sorted {
            v.sort_by(|a, b| a.0.cmp(b.0));
        }
        v.into_iter()
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &SStr> {
        self.iter().map(|(k, _)| k)
    }

    /// Builds a map from entries in any order; for repeated keys the last one wins.
    pub fn from_entries(mut entries: Vec<(SStr, Val)>) -> Map {
        if entries.len() <= SMALL_MAP {
            let dup = (1..entries.len())
                .any(|j| entries[..j].iter().any(|(k, _)| str_eq(k, &entries[j].0)));
            if dup {
                // Keep the last value of each key, at the key's first position.
                let mut out: Vec<(SStr, Val)> = Vec::with_capacity(entries.len());
                for e in entries {
                    match out.iter_mut().find(|(k, _)| *k == e.0) {
                        Some(slot) => slot.1 = e.1,
                        None => out.push(e),
                    }
                }
                entries = out;
            }
            // Small maps are searched linearly; order only matters when iterating.
            return Map {
                entries,
                sorted: false,
            };
        }
        // Stable, so equal keys keep their order and the last one can be kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(SStr, Val)> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        Map {
            entries: out,
            sorted: true,
        }
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a SStr, &'a Val);
    type IntoIter = std::vec::IntoIter<(&'a SStr, &'a Val)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

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
            // Arrays (a line-protocol extension) reach scripts as JSON text, as in the original.
            PValue::Array(_) => Val::str(&v.json_text()),
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
        PValue::Array(_) => Cow::Owned(v.json_text()),
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

/// Nesting deeper than this is refused (as serde_json does).
const MAX_JSON_DEPTH: usize = 128;

/// Parses JSON text into a value in `heap` (numbers become floats). `None` if invalid.
///
/// A direct parser into script values: short strings and keys land inline in [`SStr`], so a
/// typical log object costs one allocation per long string plus one per container.
pub fn parse_json(text: &str, heap: &mut Heap) -> Option<Val> {
    let mut p = JsonParser {
        s: text,
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value(heap)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct JsonParser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl JsonParser<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn lit(&mut self, word: &[u8], v: Val) -> Option<Val> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn value(&mut self, heap: &mut Heap) -> Option<Val> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => self.object(heap),
            b'[' => self.array(heap),
            b'"' => self.string().map(Val::Str),
            b't' => self.lit(b"true", Val::Bool(true)),
            b'f' => self.lit(b"false", Val::Bool(false)),
            b'n' => self.lit(b"null", Val::Nil),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn object(&mut self, heap: &mut Heap) -> Option<Val> {
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return None;
        }
        self.i += 1;
        // Top-level log objects usually have 5-20 keys; nested ones fewer.
        let mut m: Vec<(SStr, Val)> = Vec::with_capacity(if self.depth == 1 { 16 } else { 4 });
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if self.b.get(self.i) != Some(&b'"') {
                    return None;
                }
                let k = self.string()?;
                self.ws();
                if self.b.get(self.i) != Some(&b':') {
                    return None;
                }
                self.i += 1;
                let v = self.value(heap)?;
                m.push((k, v));
                self.ws();
                match self.b.get(self.i)? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(heap.new_map(Map::from_entries(m)))
    }

    fn array(&mut self, heap: &mut Heap) -> Option<Val> {
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return None;
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
        } else {
            loop {
                items.push(self.value(heap)?);
                self.ws();
                match self.b.get(self.i)? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(heap.new_list(items))
    }

    /// At an opening quote.
    fn string(&mut self) -> Option<SStr> {
        let start = self.i + 1;
        let mut j = start;
        loop {
            match *self.b.get(j)? {
                b'"' => {
                    self.i = j + 1;
                    return Some(SStr::new(&self.s[start..j]));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        // With escapes.
        let mut out = String::with_capacity(j - start + 16);
        out.push_str(&self.s[start..j]);
        loop {
            match *self.b.get(j)? {
                b'"' => {
                    self.i = j + 1;
                    return Some(SStr::from(out));
                }
                b'\\' => {
                    let e = *self.b.get(j + 1)?;
                    j += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\x08'),
                        b'f' => out.push('\x0c'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4(j)?;
                            j += 4;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.b.get(j) == Some(&b'\\')
                                && self.b.get(j + 1) == Some(&b'u')
                            {
                                match self.hex4(j + 2) {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                        j += 6;
                                        char::from_u32(
                                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                                        )
                                    }
                                    _ => None,
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{fffd}'));
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy a run of plain bytes at once (always whole characters).
                    let run_start = j;
                    while let Some(&c) = self.b.get(j) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        j += 1;
                    }
                    out.push_str(&self.s[run_start..j]);
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    }

    fn number(&mut self) -> Option<Val> {
        let start = self.i;
        let b = self.b;
        let mut j = self.i;
        if b[j] == b'-' {
            j += 1;
        }
        let int_start = j;
        match b.get(j)? {
            b'0' => j += 1,
            b'1'..=b'9' => {
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
            }
            _ => return None,
        }
        let int_end = j;
        let mut simple = true;
        if b.get(j) == Some(&b'.') {
            simple = false;
            j += 1;
            let d = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == d {
                return None;
            }
        }
        if matches!(b.get(j), Some(b'e' | b'E')) {
            simple = false;
            j += 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let d = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == d {
                return None;
            }
        }
        self.i = j;
        if simple && int_end - int_start <= 15 {
            // Exact in f64: no float parsing needed.
            let mut v: i64 = 0;
            for &c in &b[int_start..int_end] {
                v = v * 10 + (c - b'0') as i64;
            }
            let v = if b[start] == b'-' { -v } else { v };
            return Some(Val::Float(if v == 0 && b[start] == b'-' {
                -0.0
            } else {
                v as f64
            }));
        }
        self.s[start..j].parse().ok().map(Val::Float)
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
        for bad in [
            "",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "[1 2]",
            "{1:2}",
            "tru",
            "\"a\nb\"",
        ] {
            assert!(parse_json(bad, &mut h).is_none(), "{bad:?}");
        }
        let v = parse_json(
            r#"[-0.5e2, 12345678901234567890, "\u4e2d\ud83d\ude00\n", {}]"#,
            &mut h,
        )
        .unwrap();
        assert_eq!(to_json(&v, &h), r#"[-50,12345678901234567000,"中😀\n",{}]"#);
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse_json(&deep, &mut h).is_none());
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

#[cfg(test)]
mod map_tests {
    use super::*;

    #[test]
    fn small_and_big_maps_iterate_in_key_order_and_keep_the_last_duplicate() {
        for n in [3usize, 16, 17, 40] {
            let entries: Vec<(SStr, Val)> = (0..n)
                .rev()
                .map(|i| (SStr::from(format!("k{i:03}")), Val::Int(i as i64)))
                .chain(std::iter::once((SStr::new("k001"), Val::Int(-1))))
                .collect();
            let mut m = Map::from_entries(entries);
            assert_eq!(m.len(), n, "{n}");
            assert!(matches!(m.get("k001"), Some(Val::Int(-1))));
            let keys: Vec<String> = m.keys().map(|k| k.to_string()).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
            m.insert(SStr::new("a"), Val::Bool(true));
            m.insert(SStr::new("zz"), Val::Bool(false));
            assert!(matches!(m.remove("k000"), Some(Val::Int(0))));
            assert_eq!(m.len(), n + 1);
            assert_eq!(m.keys().next().map(|k| k.to_string()).as_deref(), Some("a"));
            assert!(m.contains_key("zz"));
            assert!(!m.contains_key("k000"));
        }
    }
}
