//! Points: the unit of data every part of the agent moves.
//!
//! A point is a name (measurement, log source, object class), string tags, typed fields, a
//! timestamp in nanoseconds and a category. Tags and fields share one key space: setting a tag
//! removes a field of the same key and the other way round.
//!
//! - [`lp`]: line protocol. [`lp::decode`] turns a body into points (strict or loose, every
//!   refused line with line, column and [`ParseErrorKind`]); [`lp::Lines`] yields borrowed
//!   [`PointRef`]s without copying; [`Encoder`] writes canonical lines into a reused buffer.
//! - [`check`]: the original's validation ([`Checker`], [`CheckOptions::for_category`],
//!   [`CheckOptions::for_write_api`]); every fix or drop is a [`Warn`] to count
//!   ([`CheckCounts`]).

mod category;
pub mod check;
pub mod lp;
pub mod pb;
pub mod view;

pub use category::{Category, UnknownCategory};
pub use check::{CheckCounts, CheckOptions, Checker, Warn, WarnKind};
pub use lp::{Decoded, Encoder, LineError, ParseErrorKind, PointRef, Precision, ValueRef};
pub use view::{Extended, PointView, ValueView};

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// Binary data (line protocol `"<base64>"b`).
    Bytes(Vec<u8>),
    /// A homogeneous array of basic values (DataKit's line protocol extension `[1i,2i]`,
    /// `["a","b"]`, `[1.5,2]`). Elements are never `Array` or `Bytes`, and all have one type.
    Array(Vec<Value>),
}

impl Value {
    /// The type as the docs and errors name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
        }
    }
    /// The value as JSON (non-finite floats as null, bytes as lossy UTF-8 text).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => (*i).into(),
            Value::Uint(u) => (*u).into(),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Bool(b) => (*b).into(),
            Value::Str(s) => s.clone().into(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned().into(),
            Value::Array(a) => a.iter().map(Value::to_json).collect::<Vec<_>>().into(),
        }
    }

    /// [`Value::to_json`] as text: how arrays reach Pipeline scripts and protobuf bodies.
    pub fn json_text(&self) -> String {
        self.to_json().to_string()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Uint(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}

/// Tags of a point, in insertion order.
pub type Tags = Vec<(String, String)>;
/// Fields of a point, in insertion order.
pub type Fields = Vec<(String, Value)>;

/// One data point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub name: String,
    pub tags: Tags,
    pub fields: Fields,
    /// Unix time in nanoseconds; 0 means "not set" (the receiver stamps it).
    pub time: i64,
    pub category: Category,
}

impl Point {
    /// A point with no tags or fields, time unset.
    pub fn new(category: Category, name: impl Into<String>) -> Point {
        Point {
            name: name.into(),
            tags: Tags::new(),
            fields: Fields::new(),
            time: 0,
            category,
        }
    }

    pub fn get_tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_field(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_field_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.fields
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sets tag `key`, replacing a tag or field of the same key.
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.tags.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        self.fields.retain(|(k, _)| *k != key);
        self.tags.push((key, value));
    }

    /// Sets field `key`, replacing a tag or field of the same key.
    pub fn set_field(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.fields.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        self.tags.retain(|(k, _)| *k != key);
        self.fields.push((key, value));
    }

    /// Adds a tag only if the point has no key `key` yet (global tags: existing keys win).
    pub fn add_tag_if_absent(&mut self, key: &str, value: &str) {
        if !self.has_key(key) {
            self.tags.push((key.to_string(), value.to_string()));
        }
    }

    /// Removes tag or field `key`; true if it existed.
    pub fn remove(&mut self, key: &str) -> bool {
        let (t, f) = (self.tags.len(), self.fields.len());
        self.tags.retain(|(k, _)| k != key);
        self.fields.retain(|(k, _)| k != key);
        t != self.tags.len() || f != self.fields.len()
    }

    /// True if `key` is a tag or a field.
    pub fn contains(&self, key: &str) -> bool {
        self.has_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_fields_share_one_key_space() {
        let mut p = Point::new(Category::Logging, "nginx");
        p.set_field("status", "info");
        p.set_tag("status", "warn");
        assert_eq!(p.get_tag("status"), Some("warn"));
        assert!(p.get_field("status").is_none());
        p.set_field("status", Value::Int(3));
        assert!(p.get_tag("status").is_none());
        assert_eq!(p.get_field("status"), Some(&Value::Int(3)));
        p.add_tag_if_absent("status", "x");
        assert!(p.get_tag("status").is_none());
        p.add_tag_if_absent("host", "h");
        assert_eq!(p.get_tag("host"), Some("h"));
        assert!(p.remove("host"));
        assert!(!p.remove("host"));
    }
}
