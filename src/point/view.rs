//! Read-only views of a point: what the encoders and the checker's scan read, so that owned
//! [`Point`]s and borrowed [`PointRef`]s (straight from a request body) share one encoder and
//! one set of rules.

use super::lp::{PointRef, ValueRef};
use super::{Category, Point, Value};

/// A field value as encoders and the checker see it (owned and borrowed points alike).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueView<'v> {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(&'v str),
    Bytes(&'v [u8]),
    Array(&'v [Value]),
}

impl ValueView<'_> {
    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueView::Int(v) => Value::Int(v),
            ValueView::Uint(v) => Value::Uint(v),
            ValueView::Float(v) => Value::Float(v),
            ValueView::Bool(v) => Value::Bool(v),
            ValueView::Str(s) => Value::Str(s.to_string()),
            ValueView::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueView::Array(a) => Value::Array(a.to_vec()),
        }
    }
}

impl<'v> From<&'v Value> for ValueView<'v> {
    #[inline]
    fn from(v: &'v Value) -> Self {
        match v {
            Value::Int(x) => ValueView::Int(*x),
            Value::Uint(x) => ValueView::Uint(*x),
            Value::Float(x) => ValueView::Float(*x),
            Value::Bool(x) => ValueView::Bool(*x),
            Value::Str(x) => ValueView::Str(x),
            Value::Bytes(x) => ValueView::Bytes(x),
            Value::Array(x) => ValueView::Array(x),
        }
    }
}

impl<'v> From<&'v ValueRef<'_>> for ValueView<'v> {
    #[inline]
    fn from(v: &'v ValueRef<'_>) -> Self {
        match v {
            ValueRef::Int(x) => ValueView::Int(*x),
            ValueRef::Uint(x) => ValueView::Uint(*x),
            ValueRef::Float(x) => ValueView::Float(*x),
            ValueRef::Bool(x) => ValueView::Bool(*x),
            ValueRef::Str(x) => ValueView::Str(x),
            ValueRef::Bytes(x) => ValueView::Bytes(x),
            ValueRef::Array(x) => ValueView::Array(x),
        }
    }
}

/// A point, read-only: name, tags and fields in order, time.
pub trait PointView {
    fn name(&self) -> &str;
    fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone;
    fn fields(&self) -> impl Iterator<Item = (&str, ValueView<'_>)> + Clone;
    fn tag_count(&self) -> usize;
    fn field_count(&self) -> usize;
    /// Unix nanoseconds; 0 when unset.
    fn time(&self) -> i64;

    /// Tag keys, then field keys.
    fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.tags()
            .map(|(k, _)| k)
            .chain(self.fields().map(|(k, _)| k))
    }

    /// True when the producer guarantees that no key repeats, tags and fields together (the
    /// checker then skips that test); `false` when it does not know.
    fn keys_distinct(&self) -> bool {
        false
    }

    /// True if `key` is a tag or a field.
    fn has_key(&self, key: &str) -> bool {
        self.keys().any(|k| k == key)
    }

    /// An owned copy.
    fn to_owned_point(&self, category: Category) -> Point {
        let mut p = Point::new(category, self.name());
        p.tags.reserve_exact(self.tag_count());
        p.tags
            .extend(self.tags().map(|(k, v)| (k.to_string(), v.to_string())));
        p.fields.reserve_exact(self.field_count());
        p.fields
            .extend(self.fields().map(|(k, v)| (k.to_string(), v.to_value())));
        p.time = self.time();
        p
    }
}

impl PointView for Point {
    #[inline]
    fn name(&self) -> &str {
        &self.name
    }
    #[inline]
    fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    #[inline]
    fn fields(&self) -> impl Iterator<Item = (&str, ValueView<'_>)> + Clone {
        self.fields
            .iter()
            .map(|(k, v)| (k.as_str(), ValueView::from(v)))
    }
    #[inline]
    fn tag_count(&self) -> usize {
        self.tags.len()
    }
    #[inline]
    fn field_count(&self) -> usize {
        self.fields.len()
    }
    #[inline]
    fn time(&self) -> i64 {
        self.time
    }
}

impl PointView for PointRef<'_> {
    #[inline]
    fn name(&self) -> &str {
        &self.name
    }
    #[inline]
    fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
    #[inline]
    fn fields(&self) -> impl Iterator<Item = (&str, ValueView<'_>)> + Clone {
        self.fields
            .iter()
            .map(|(k, v)| (k.as_ref(), ValueView::from(v)))
    }
    #[inline]
    fn tag_count(&self) -> usize {
        self.tags.len()
    }
    #[inline]
    fn field_count(&self) -> usize {
        self.fields.len()
    }
    #[inline]
    fn time(&self) -> i64 {
        self.time
    }
}

/// A point seen with extra tags after its own and another time: how a borrowed point is
/// encoded with the agent's global tags without being copied.
pub struct Extended<'a, P: ?Sized> {
    pub point: &'a P,
    pub extra_tags: &'a [(&'a str, &'a str)],
    pub time: i64,
}

impl<P: PointView + ?Sized> PointView for Extended<'_, P> {
    #[inline]
    fn name(&self) -> &str {
        self.point.name()
    }
    #[inline]
    fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.point.tags().chain(self.extra_tags.iter().copied())
    }
    #[inline]
    fn fields(&self) -> impl Iterator<Item = (&str, ValueView<'_>)> + Clone {
        self.point.fields()
    }
    #[inline]
    fn tag_count(&self) -> usize {
        self.point.tag_count() + self.extra_tags.len()
    }
    #[inline]
    fn field_count(&self) -> usize {
        self.point.field_count()
    }
    #[inline]
    fn time(&self) -> i64 {
        self.time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::lp::{DecodeOptions, Lines, Precision};

    #[test]
    fn owned_borrowed_and_extended_views_agree() {
        let body = b"m,a=1,b=x\\ y f=1i,g=\"s\",h=2.5,u=3u,t=true 1700000000000000000\n";
        let mut lines = Lines::new(body, Precision::Nanosecond, 0);
        let mut r = PointRef::default();
        lines.next_into(&mut r).unwrap().unwrap();
        let owned = crate::point::lp::decode(body, &DecodeOptions::default())
            .unwrap()
            .points
            .remove(0);
        assert_eq!(r.to_owned_point(owned.category), owned);
        assert_eq!(owned.to_owned_point(owned.category), owned);
        assert!(r.has_key("g") && r.has_key("b") && !r.has_key("z"));

        let extra = [("host", "h1")];
        let e = Extended {
            point: &r,
            extra_tags: &extra,
            time: 5,
        };
        let mut want = owned.clone();
        want.tags.push(("host".into(), "h1".into()));
        want.time = 5;
        assert_eq!(e.tag_count(), 3);
        assert_eq!(e.to_owned_point(owned.category), want);
    }
}
