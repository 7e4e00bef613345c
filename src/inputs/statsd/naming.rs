//! From aggregated series to points: the original's naming rule, and the statistics it
//! computes for timings (which this input delivers, and the original drops).
//!
//! The rule ([`Naming::split`], [`STATISTICS`]):
//!
//! 1. The series name (after the template: `jvm.heap_memory` → `jvm_heap_memory`) is split at
//!    the first `metric_separator`: the head is the measurement, the rest the field
//!    (`jvm_heap_memory` → measurement `jvm`, field `heap_memory`). A name without the
//!    separator is both (`requests` → `requests`, field `requests`).
//! 2. With `metric_mapping` (`"prefix:measurement"`), a name that starts with a prefix gets that
//!    measurement and the rest of the name as its field (`jvm_:jvm`: `jvm_thread_count` →
//!    `jvm`, `thread_count`); a name that matches no prefix is not split at all. The longest
//!    prefix wins (the original tried them in a random order).
//! 3. A name that leaves an empty measurement or field (`jvm_` with `jvm_:jvm`, `a_`) makes no
//!    point: it is dropped and counted.
//! 4. Timings, histograms and distributions give one field per statistic, named
//!    `<field>_<statistic>`: `count`, `sum`, `mean`, `stddev`, `lower`, `upper`, and
//!    `p<percentile>` for each of `percentiles` (`p50`, `p90`, `p99_9`: a `.` becomes `_`).
//! 5. A template that names a field (`measurement.field`) gives the measurement and the field
//!    directly: no split.
//!
//! Every point has the tag `metric_type` (`counter`, `gauge`, `set`, `timing`, `histogram`,
//! `distribution`) unless `drop_tags` removes it. Series of one flush with the same measurement
//! and tags become one point with several fields.

use std::collections::HashMap;

use super::aggregate::{Slot, decode_key};
use super::parse::Kind;
use super::running::RunningStats;
use crate::point::{Category, Point, Value};

/// A statistic of a timing, histogram or distribution over the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Count,
    Sum,
    Mean,
    Stddev,
    Lower,
    Upper,
}

/// The statistics every timing, histogram and distribution reports, in field order: the
/// field suffix and what it is. The fields are `<name>_<suffix>`, then one `<name>_p<percentile>`
/// per `percentiles` entry. The docs' field table is checked against this list.
pub const STATISTICS: &[(Stat, &str, &str)] = &[
    (
        Stat::Count,
        "count",
        "values in the interval, each sampled one (`@0.1`) counted `1/rate` times",
    ),
    (Stat::Sum, "sum", "sum of the values"),
    (Stat::Mean, "mean", "mean of the values"),
    (
        Stat::Stddev,
        "stddev",
        "population standard deviation of the values",
    ),
    (Stat::Lower, "lower", "smallest value"),
    (Stat::Upper, "upper", "largest value"),
];

impl Stat {
    fn value(self, s: &RunningStats) -> Value {
        match self {
            Stat::Count => Value::Int(s.count()),
            Stat::Sum => Value::Float(s.sum()),
            Stat::Mean => Value::Float(s.mean()),
            Stat::Stddev => Value::Float(s.stddev()),
            Stat::Lower => Value::Float(s.lower()),
            Stat::Upper => Value::Float(s.upper()),
        }
    }
}

/// The field suffix of percentile `p`: `p50`, `p99_9`.
pub fn percentile_name(p: f64) -> String {
    format!("p{p}").replace('.', "_")
}

/// How series are named and tagged on the way out (the original's accumulator).
#[derive(Debug, Clone, Default)]
pub struct Naming {
    /// `metric_separator`.
    pub separator: String,
    /// `metric_mapping`, longest prefix first.
    pub mapping: Vec<(String, String)>,
    /// `percentiles`, with their field suffixes.
    pub percentiles: Vec<(f64, String)>,
    /// `tags`: set on every point (they replace tags of the same key).
    pub tags: Vec<(String, String)>,
    pub drop_tags: Vec<String>,
    /// `statsd_source_key`, `statsd_host_key`, `save_above_key`.
    pub source_key: String,
    pub host_key: String,
    pub save_above_key: bool,
}

/// Points of a flush.
#[derive(Debug, Default)]
pub struct Built {
    pub points: Vec<Point>,
    /// Series that made no point (empty measurement or field), with the first one's name.
    pub dropped: u64,
    pub first_dropped: Option<String>,
    /// Series whose value left the finite numbers (a counter or a gauge summed past ±1.8e308),
    /// with the first one's name: no output can write them.
    pub non_finite: u64,
    pub first_non_finite: Option<String>,
}

impl Naming {
    /// `metric_mapping` entries (`prefix:measurement`); the ones without `:` are returned as
    /// errors.
    pub fn parse_mapping(entries: &[String]) -> (Vec<(String, String)>, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for e in entries {
            match e.split_once(':') {
                Some((p, m)) => ok.push((p.to_string(), m.to_string())),
                None => bad.push(e.clone()),
            }
        }
        ok.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        (ok, bad)
    }

    /// Measurement and field of a series name (rules 1 to 3); `None` when one is empty.
    pub fn split<'a>(&'a self, name: &'a str) -> Option<(&'a str, &'a str)> {
        let (m, f) = if self.mapping.is_empty() {
            name.split_once(self.separator.as_str())
                .unwrap_or((name, name))
        } else {
            self.mapping
                .iter()
                .find_map(|(p, m)| name.strip_prefix(p.as_str()).map(|f| (m.as_str(), f)))
                .unwrap_or((name, name))
        };
        (!m.is_empty() && !f.is_empty()).then_some((m, f))
    }

    /// Removes the `statsd_source_key` and `statsd_host_key` tags unless `save_above_key`.
    /// The original derives a feed name from them (`statsd/<source>/<host>`) and then feeds
    /// every point under `source` anyway: only this removal has an effect, here as there.
    fn remove_feed_keys(&self, tags: &mut Vec<(String, String)>) {
        if !self.save_above_key {
            tags.retain(|(k, _)| {
                (self.source_key.is_empty() || *k != self.source_key)
                    && (self.host_key.is_empty() || *k != self.host_key)
            });
        }
    }

    /// Points for the flushed series, stamped `time_ns`. Series of one measurement and tags
    /// become one point with several fields.
    pub fn build(&self, series: Vec<(Box<[u8]>, Slot)>, time_ns: i64) -> Built {
        let mut built = Built::default();
        // (measurement, tags) → index of its point.
        let mut index: HashMap<(String, Vec<(String, String)>), usize> = HashMap::new();
        for (key, slot) in series {
            let Some(r) = decode_key(&key) else {
                continue;
            };
            let (measurement, base) = if r.field != "value" {
                (r.name, r.field)
            } else {
                match self.split(r.name) {
                    Some(mf) => mf,
                    None => {
                        built.dropped += 1;
                        built
                            .first_dropped
                            .get_or_insert_with(|| r.name.to_string());
                        continue;
                    }
                }
            };
            let fields = self.fields(r.kind, base, slot);
            if fields.is_empty() {
                continue;
            }
            if fields
                .iter()
                .any(|(_, v)| matches!(v, Value::Float(x) if !x.is_finite()))
            {
                built.non_finite += 1;
                built
                    .first_non_finite
                    .get_or_insert_with(|| r.name.to_string());
                continue;
            }
            let mut tags: Vec<(String, String)> = r
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            for (k, v) in &self.tags {
                match tags.iter_mut().find(|(tk, _)| tk == k) {
                    Some(slot) => slot.1.clone_from(v),
                    None => tags.push((k.clone(), v.clone())),
                }
            }
            tags.retain(|(k, _)| !self.drop_tags.contains(k));
            self.remove_feed_keys(&mut tags);
            tags.sort();
            let id = (measurement.to_string(), tags);
            let fits = |p: &Point| fields.iter().all(|(k, _)| p.get_field(k).is_none());
            match index.get(&id) {
                Some(&i) if fits(&built.points[i]) => built.points[i].fields.extend(fields),
                _ => {
                    let mut p = Point::new(Category::Metric, id.0.clone());
                    p.tags = id.1.clone();
                    p.fields = fields;
                    p.time = time_ns;
                    built.points.push(p);
                    index.insert(id, built.points.len() - 1);
                }
            }
        }
        built
    }

    /// The fields of one series.
    fn fields(&self, kind: Kind, base: &str, slot: Slot) -> Vec<(String, Value)> {
        match slot {
            Slot::Counter(v) | Slot::Gauge(v) => vec![(base.to_string(), Value::Float(v))],
            Slot::CounterInt(v) => vec![(base.to_string(), Value::Int(v))],
            Slot::Set(m) => vec![(base.to_string(), Value::Int(m.len() as i64))],
            Slot::Sampled(mut s) => {
                if s.count() == 0 {
                    return Vec::new();
                }
                debug_assert!(kind.is_sampled());
                let mut v = Vec::with_capacity(STATISTICS.len() + self.percentiles.len());
                let name = |suffix: &str| format!("{base}_{suffix}");
                for (stat, suffix, _) in STATISTICS {
                    v.push((name(suffix), stat.value(&s)));
                }
                for (p, suffix) in &self.percentiles {
                    if let Some(x) = s.percentile(*p) {
                        v.push((name(suffix), Value::Float(x)));
                    }
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::aggregate::{AggOptions, Aggregator};
    use super::*;

    fn naming() -> Naming {
        Naming {
            separator: "_".into(),
            percentiles: [50.0, 90.0, 99.9]
                .iter()
                .map(|&p| (p, percentile_name(p)))
                .collect(),
            ..Naming::default()
        }
    }

    fn build(n: &Naming, lines: &str) -> Built {
        let mut a = Aggregator::new(AggOptions::default());
        a.add_chunk(lines.as_bytes());
        n.build(a.flush([true; 6], None), 7)
    }

    fn point<'a>(b: &'a Built, name: &str, mt: &str) -> &'a Point {
        b.points
            .iter()
            .find(|p| p.name == name && p.get_tag("metric_type") == Some(mt))
            .unwrap_or_else(|| panic!("{name}/{mt} in {b:?}"))
    }

    #[test]
    fn the_original_split() {
        let n = naming();
        assert_eq!(n.split("bar_hits"), Some(("bar", "hits")));
        assert_eq!(
            n.split("jvm_heap_memory_max"),
            Some(("jvm", "heap_memory_max"))
        );
        assert_eq!(n.split("requests"), Some(("requests", "requests")));
        assert_eq!(n.split("a_"), None);
        assert_eq!(n.split("_a"), None);
        let (mapping, bad) =
            Naming::parse_mapping(&["jvm_:jvm".into(), "jvm_cpu_:jvmcpu".into(), "oops".into()]);
        assert_eq!(bad, ["oops"]);
        let n = Naming {
            mapping,
            ..naming()
        };
        assert_eq!(n.split("jvm_cpu_load"), Some(("jvmcpu", "load")));
        assert_eq!(n.split("jvm_thread_count"), Some(("jvm", "thread_count")));
        assert_eq!(
            n.split("dotnet_cpu"),
            Some(("dotnet_cpu", "dotnet_cpu")),
            "no match: not split"
        );
        assert_eq!(n.split("jvm_"), None);
    }

    #[test]
    fn series_become_points() {
        let b = build(
            &naming(),
            "bar.hits:1|c\nbar.hits:2|c\nbar.misses:1|c\nbar.load:0.5|g\nbar.users:u1|s\nbar.users:u2|s\n",
        );
        assert_eq!(b.dropped, 0);
        assert_eq!(b.points.len(), 3, "counters, gauges, sets");
        let c = point(&b, "bar", "counter");
        assert_eq!(c.get_field("hits"), Some(&Value::Float(3.0)));
        assert_eq!(
            c.get_field("misses"),
            Some(&Value::Float(1.0)),
            "one point, two fields"
        );
        assert_eq!(c.time, 7);
        assert_eq!(
            point(&b, "bar", "gauge").get_field("load"),
            Some(&Value::Float(0.5))
        );
        assert_eq!(
            point(&b, "bar", "set").get_field("users"),
            Some(&Value::Int(2))
        );
    }

    #[test]
    fn timings_give_statistics() {
        let lines: String = (1..=10).map(|i| format!("api.latency:{i}|ms\n")).collect();
        let b = build(&naming(), &lines);
        let p = point(&b, "api", "timing");
        let f = |k: &str| p.get_field(k).cloned();
        assert_eq!(f("latency_count"), Some(Value::Int(10)));
        assert_eq!(f("latency_sum"), Some(Value::Float(55.0)));
        assert_eq!(f("latency_mean"), Some(Value::Float(5.5)));
        assert_eq!(f("latency_lower"), Some(Value::Float(1.0)));
        assert_eq!(f("latency_upper"), Some(Value::Float(10.0)));
        assert_eq!(f("latency_p50"), Some(Value::Float(6.0)));
        assert_eq!(f("latency_p90"), Some(Value::Float(10.0)));
        assert_eq!(f("latency_p99_9"), Some(Value::Float(10.0)));
        let Some(Value::Float(sd)) = f("latency_stddev") else {
            panic!()
        };
        assert!((sd - 8.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.fields.len(), 9);
    }

    #[test]
    fn tags_options_and_feed_keys() {
        let n = Naming {
            tags: vec![("env".into(), "prod".into()), ("keep".into(), "x".into())],
            drop_tags: vec!["runtime-id".into(), "keep".into()],
            source_key: "source_key".into(),
            host_key: "host_key".into(),
            ..naming()
        };
        let b = build(
            &n,
            "jvm.threads:3|g|#env:dev,runtime-id:42,source_key:tomcat,host_key:web1\njvm.threads:4|g|#source_key:kafka\n",
        );
        // Two series that the tag options make alike stay two points (a field holds one
        // value), as the original sent them.
        assert_eq!(b.points.len(), 2);
        for p in &b.points {
            assert_eq!(p.get_tag("env"), Some("prod"), "the option's tags win");
            assert_eq!(p.get_tag("runtime-id"), None);
            assert_eq!(p.get_tag("keep"), None, "drop_tags applies after tags");
            assert_eq!(
                p.get_tag("source_key"),
                None,
                "removed without save_above_key"
            );
            assert_eq!(p.get_tag("host_key"), None);
        }
        let n = Naming {
            save_above_key: true,
            ..n
        };
        let b = build(&n, "a.b:1|c|#source_key:s\n");
        assert_eq!(b.points[0].get_tag("source_key"), Some("s"));
    }

    #[test]
    fn values_past_the_finite_numbers_are_dropped_and_counted() {
        let b = build(&naming(), "a.big:1e308|c\na.big:1e308|c\na.ok:1|c\n");
        assert_eq!(b.non_finite, 1);
        assert_eq!(b.first_non_finite.as_deref(), Some("a_big"));
        assert_eq!(b.points.len(), 1);
        assert_eq!(b.points[0].fields.len(), 1);
    }

    #[test]
    fn empty_names_are_dropped_and_counted() {
        let b = build(&naming(), "a_:1|c\nok_x:1|c\n");
        assert_eq!(b.dropped, 1);
        assert_eq!(b.first_dropped.as_deref(), Some("a_"));
        assert_eq!(b.points.len(), 1);
    }

    #[test]
    fn a_counter_and_a_gauge_of_one_name_without_metric_type_stay_apart() {
        let n = Naming {
            drop_tags: vec!["metric_type".into()],
            ..naming()
        };
        let b = build(&n, "a.b:1|c\na.b:5|g\n");
        assert_eq!(b.points.len(), 2, "one field cannot hold two values");
    }
}
