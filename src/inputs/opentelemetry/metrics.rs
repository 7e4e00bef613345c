//! OTLP metrics → `metric` points of measurement `otel_service`, as the original writes them.
//!
//! Every data point is a point; its tags are the attributes of the resource, then the scope
//! (and `scope_name`), then the data point (`.` written `_`; the first of a key wins, as in
//! the original), with `remote_ip` and `unit`. Values of attributes are written as text:
//! strings as they are (cut at 32 KiB), doubles with 3 decimals, integers, booleans, arrays and
//! maps as OTLP/JSON. The SDK's descriptive resource attributes (`telemetry.sdk.*`,
//! `process.command_line`, `process.runtime.*`, ...) are left out, as the original leaves them.
//!
//! - a gauge's or a sum's point: field `<metric name>`, the value (float or integer);
//! - a histogram's point: fields `<name>_count`, `<name>_sum`, `<name>_min`, `<name>_max` on
//!   one point, and, when it has buckets, one point per bucket with `<name>_bucket` (the
//!   cumulative count up to that bound) and tag `le` (the bound, `+Inf` for the last);
//! - an exponential histogram's point: `<name>_count`, `<name>_sum`, `<name>_min`,
//!   `<name>_max`, and `<name>_avg` (sum / count) when its count is above 0;
//! - a summary's point: `<name>_count` and `<name>_sum`.
//!
//! Temporality is not converted, as in the original: a cumulative sum is written as the
//! running total the SDK reports, a delta sum as the increase over its interval (the
//! `start_time`..`time` of the point). The point's time is the data point's time.
//!
//! A data point with neither value (a number point without `asInt`/`asDouble`) is rejected:
//! counted, and reported back as a partial success.

use super::otlp::common::v1::{KeyValue, any_value};
use super::otlp::metrics::v1::{ResourceMetrics, metric::Data, number_data_point};
use crate::point::{Category, Point, Value};

/// The measurement of every OTLP metric point.
pub const MEASUREMENT: &str = "otel_service";

/// Resource attributes the original leaves out of metric points.
const LEFT_OUT: &[&str] = &[
    "process.command_line",
    "process.executable.path",
    "process.runtime.description",
    "process.runtime.name",
    "process.runtime.version",
    "telemetry.distro.name",
    "telemetry.distro.version",
    "telemetry.sdk.language",
    "telemetry.sdk.name",
    "telemetry.sdk.version",
];

/// The longest attribute value kept as a tag (the original's 32 KiB).
const MAX_VALUE: usize = 32 << 10;

/// The points of a request, and what was rejected.
#[derive(Debug, Default)]
pub struct Mapped {
    pub points: Vec<Point>,
    /// Data points in the request (for the counters).
    pub data_points: usize,
    pub rejected: usize,
    pub rejected_why: Option<String>,
}

/// The text of an attribute's value, as a tag holds it.
fn tag_value(v: &Option<super::otlp::common::v1::AnyValue>) -> Option<String> {
    use any_value::Value as V;
    let av = v.as_ref()?;
    Some(match av.value.as_ref()? {
        V::StringValue(s) => cut(s).to_string(),
        V::BytesValue(b) => cut(&String::from_utf8_lossy(b)).to_string(),
        V::DoubleValue(d) => format!("{d:.3}"),
        V::IntValue(i) => i.to_string(),
        V::BoolValue(b) => b.to_string(),
        V::ArrayValue(_) | V::KvlistValue(_) => {
            let mut s = String::new();
            super::spans::any_json(&mut s, av);
            cut(&s).to_string()
        }
    })
}

/// `s` cut at [`MAX_VALUE`] bytes, on a character boundary.
fn cut(s: &str) -> &str {
    if s.len() <= MAX_VALUE {
        return s;
    }
    let mut end = MAX_VALUE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Adds `attrs` as tags (`.` written `_`), a key already there kept.
fn add_attrs(tags: &mut Vec<(String, String)>, attrs: &[KeyValue], drop_sdk: bool) {
    for a in attrs {
        if drop_sdk && LEFT_OUT.contains(&a.key.as_str()) {
            continue;
        }
        let k = a.key.replace('.', "_");
        if tags.iter().any(|(t, _)| *t == k) {
            continue;
        }
        if let Some(v) = tag_value(&a.value) {
            tags.push((k, v));
        }
    }
}

fn add_tag(tags: &mut Vec<(String, String)>, k: &str, v: &str) {
    if !tags.iter().any(|(t, _)| t == k) {
        tags.push((k.to_string(), v.to_string()));
    }
}

/// One point with `base` tags, the data point's attributes and `unit`, at `time_ns`.
fn point(base: &[(String, String)], attrs: &[KeyValue], unit: &str, time_ns: u64) -> Point {
    let mut p = Point::new(Category::Metric, MEASUREMENT);
    p.tags = base.to_vec();
    add_attrs(&mut p.tags, attrs, false);
    add_tag(&mut p.tags, "unit", unit);
    p.time = i64::try_from(time_ns).unwrap_or(0);
    p
}

/// A bound as the `le` tag writes it: the shortest decimal that reads back the same, never
/// in exponent form (as the original's `FormatFloat(b, 'f', -1, 64)`).
fn bound_text(b: f64) -> String {
    if b.is_infinite() {
        return if b > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    format!("{b}")
}

/// Maps every data point of a request.
pub fn map(resources: Vec<ResourceMetrics>, remote_ip: &str) -> Mapped {
    let mut out = Mapped::default();
    for rm in resources {
        let mut res_tags: Vec<(String, String)> = Vec::new();
        if let Some(r) = &rm.resource {
            add_attrs(&mut res_tags, &r.attributes, true);
        }
        add_tag(&mut res_tags, "remote_ip", remote_ip);
        for sm in rm.scope_metrics {
            let mut base = res_tags.clone();
            if let Some(s) = &sm.scope {
                add_attrs(&mut base, &s.attributes, false);
                add_tag(&mut base, "scope_name", &s.name);
            }
            for metric in sm.metrics {
                let name = &metric.name;
                let unit = &metric.unit;
                match metric.data {
                    None => {}
                    Some(Data::Gauge(g)) => {
                        numbers(&mut out, &base, name, unit, g.data_points);
                    }
                    Some(Data::Sum(s)) => {
                        numbers(&mut out, &base, name, unit, s.data_points);
                    }
                    Some(Data::Summary(s)) => {
                        for dp in s.data_points {
                            out.data_points += 1;
                            let mut p = point(&base, &dp.attributes, unit, dp.time_unix_nano);
                            p.fields
                                .push((format!("{name}_count"), Value::Uint(dp.count)));
                            p.fields.push((format!("{name}_sum"), Value::Float(dp.sum)));
                            out.points.push(p);
                        }
                    }
                    Some(Data::Histogram(h)) => {
                        for dp in h.data_points {
                            out.data_points += 1;
                            let mut p = point(&base, &dp.attributes, unit, dp.time_unix_nano);
                            p.fields.extend([
                                (format!("{name}_min"), Value::Float(dp.min.unwrap_or(0.0))),
                                (format!("{name}_max"), Value::Float(dp.max.unwrap_or(0.0))),
                                (format!("{name}_count"), Value::Uint(dp.count)),
                                (format!("{name}_sum"), Value::Float(dp.sum.unwrap_or(0.0))),
                            ]);
                            let mut buckets = Vec::new();
                            if dp.bucket_counts.len() > 1 && !dp.explicit_bounds.is_empty() {
                                let mut total = 0u64;
                                for (i, c) in dp.bucket_counts.iter().enumerate() {
                                    total = total.saturating_add(*c);
                                    let le = dp
                                        .explicit_bounds
                                        .get(i)
                                        .map_or_else(|| "+Inf".to_string(), |b| bound_text(*b));
                                    let mut b = Point::new(Category::Metric, MEASUREMENT);
                                    b.time = p.time;
                                    b.tags = base.to_vec();
                                    add_attrs(&mut b.tags, &dp.attributes, false);
                                    add_tag(&mut b.tags, "le", &le);
                                    add_tag(&mut b.tags, "unit", unit);
                                    b.fields
                                        .push((format!("{name}_bucket"), Value::Uint(total)));
                                    buckets.push(b);
                                }
                            }
                            out.points.push(p);
                            out.points.append(&mut buckets);
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        for dp in h.data_points {
                            out.data_points += 1;
                            let mut p = point(&base, &dp.attributes, unit, dp.time_unix_nano);
                            let sum = dp.sum.unwrap_or(0.0);
                            p.fields.extend([
                                (format!("{name}_min"), Value::Float(dp.min.unwrap_or(0.0))),
                                (format!("{name}_max"), Value::Float(dp.max.unwrap_or(0.0))),
                                (format!("{name}_count"), Value::Uint(dp.count)),
                                (format!("{name}_sum"), Value::Float(sum)),
                            ]);
                            if dp.count > 0 {
                                p.fields.push((
                                    format!("{name}_avg"),
                                    Value::Float(sum / dp.count as f64),
                                ));
                            }
                            out.points.push(p);
                        }
                    }
                }
            }
        }
    }
    out
}

fn numbers(
    out: &mut Mapped,
    base: &[(String, String)],
    name: &str,
    unit: &str,
    dps: Vec<super::otlp::metrics::v1::NumberDataPoint>,
) {
    for dp in dps {
        out.data_points += 1;
        let v = match dp.value {
            Some(number_data_point::Value::AsDouble(d)) => Value::Float(d),
            Some(number_data_point::Value::AsInt(i)) => Value::Int(i),
            None => {
                out.rejected += 1;
                out.rejected_why
                    .get_or_insert_with(|| format!("a data point of `{name}` has no value"));
                continue;
            }
        };
        let mut p = point(base, &dp.attributes, unit, dp.time_unix_nano);
        p.fields.push((name.to_string(), v));
        out.points.push(p);
    }
}

#[cfg(test)]
mod tests;
