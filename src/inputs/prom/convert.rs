//! Metric families → DataKit points: the original's naming rule, filters and tag handling.
//!
//! Naming ([`Converter::names`]), first match wins:
//! 1. a `[[measurements]]` rule whose `prefix` starts the family name: measurement = the rule's
//!    `name` (or the prefix without trailing `_`), field = the rest of the name;
//! 2. `measurement_name`: that measurement, field = the full name;
//! 3. otherwise leading `_` are dropped, the measurement is the text before the first `_` and
//!    the field the rest (the whole name with `keep_exist_metric_name`); a name without `_` is
//!    both measurement and field.
//!
//! An empty measurement becomes `prom`; `measurement_prefix` is prepended last.
//!
//! Fields per type: counter, gauge, untyped → `<field>` (OpenMetrics counters keep their
//! `_total`: `<field>_total`); stateset → `<field>_state` (1 or 0; its state label carries the
//! metric's name, which the field therefore cannot); summary → `<field>_sum`, `<field>_count` and `<field>` per
//! quantile with tag `quantile`; histogram → `<field>_sum`, `<field>_count` and `<field>_bucket`
//! per bucket with tag `le` (gauge histograms: `_gsum`, `_gcount`, `_bucket`); info → no point,
//! its labels become tags of every point. `quantile` and `le` are written as Go's
//! `fmt.Sprint(float64)` writes them (`0.5`, `1`, `1e-05`, `+Inf`), as the original does.
//! `_created` samples and NaN/±Inf values are skipped.
//!
//! Tags, highest precedence first: the input's `tags`, the sample's labels, labels of `info`
//! families, then the target's tags (`instance`, `host`). Then `tags_ignore` drops keys,
//! `tags_rename` renames them, and `ignore_tag_kv_match` drops the whole sample when a tag
//! value matches.
//!
//! Samples that share measurement, tags and timestamp become one point with several fields
//! (`_sum` and `_count` of a summary, but also gauges of one measurement with the same
//! labels): the same series as the original's one-point-per-sample, in fewer lines. A point
//! holds at most [`MAX_FIELDS_PER_POINT`] fields.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use regex::RegexSet;
use smallvec::SmallVec;

use super::parse::{Exposition, Family, MetricType, Sample};
use crate::point::{Category, Point, Value};

/// Fields merged into one point at most (the point limit is 1024).
pub const MAX_FIELDS_PER_POINT: usize = 256;

/// A `[[measurements]]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub prefix: String,
    pub name: String,
}

/// What the converter does, from the input's options (regexes compiled). The default is the
/// input's default: everything kept, sample timestamps honoured.
#[derive(Debug, Clone)]
pub struct Options {
    pub measurement_prefix: String,
    pub measurement_name: String,
    pub rules: Vec<Rule>,
    pub keep_exist_metric_name: bool,
    /// Types to keep; empty keeps all.
    pub metric_types: Vec<MetricType>,
    /// Family names to keep (unanchored search, as the original's `MatchString`).
    pub name_filter: Option<RegexSet>,
    /// Family names to drop; wins over `name_filter`.
    pub name_filter_ignore: Option<RegexSet>,
    /// The input's own tags (highest precedence).
    pub tags: Vec<(String, String)>,
    pub tags_ignore: Vec<String>,
    pub tags_rename: Vec<(String, String)>,
    pub overwrite_exist_tags: bool,
    /// Tag key → patterns; a sample with a matching value is dropped.
    pub ignore_tag_kv: Vec<(String, RegexSet)>,
    /// Emit logging points with tag `service` (this value, or the measurement when empty).
    pub as_logging: Option<String>,
    pub honor_timestamps: bool,
    pub disable_info_tag: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            measurement_prefix: String::new(),
            measurement_name: String::new(),
            rules: Vec::new(),
            keep_exist_metric_name: false,
            metric_types: Vec::new(),
            name_filter: None,
            name_filter_ignore: None,
            tags: Vec::new(),
            tags_ignore: Vec::new(),
            tags_rename: Vec::new(),
            overwrite_exist_tags: false,
            ignore_tag_kv: Vec::new(),
            as_logging: None,
            honor_timestamps: true,
            disable_info_tag: false,
        }
    }
}

/// Points from one body, with what was left out.
#[derive(Debug, Default)]
pub struct Converted {
    pub points: Vec<Point>,
    /// Samples turned into fields.
    pub fields: usize,
    /// NaN or ±Inf values skipped.
    pub non_finite: usize,
    /// Samples dropped by `ignore_tag_kv_match`.
    pub dropped_by_tag: usize,
    /// Samples whose field name is also one of their tags (the tag is kept).
    pub tag_conflicts: usize,
}

/// Turns parsed bodies into points.
#[derive(Debug, Clone, Default)]
pub struct Converter {
    opts: Options,
}

type TagRefs<'x> = SmallVec<[(&'x str, Cow<'x, str>); 16]>;

impl Converter {
    pub fn new(opts: Options) -> Converter {
        Converter { opts }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Measurement and field of family `name`.
    pub fn names(&self, name: &str) -> (String, String) {
        let (m, f) = self.split(name);
        let m = if m.is_empty() { "prom" } else { m };
        (
            format!("{}{m}", self.opts.measurement_prefix),
            f.to_string(),
        )
    }

    fn split<'n>(&'n self, name: &'n str) -> (&'n str, &'n str) {
        for r in &self.opts.rules {
            if !r.prefix.is_empty()
                && let Some(rest) = name.strip_prefix(r.prefix.as_str())
            {
                let m = if r.name.is_empty() {
                    r.prefix.trim_end_matches('_')
                } else {
                    r.name.as_str()
                };
                // The original leaves the field empty when the name is the prefix.
                return (m, if rest.is_empty() { name } else { rest });
            }
        }
        if !self.opts.measurement_name.is_empty() {
            return (self.opts.measurement_name.as_str(), name);
        }
        let t = name.trim_start_matches('_');
        if t.is_empty() {
            return ("", name);
        }
        match t.find('_') {
            None => (t, t),
            Some(i) => {
                let (m, rest) = (&t[..i], &t[i + 1..]);
                if rest.is_empty() {
                    (m, m)
                } else if self.opts.keep_exist_metric_name {
                    (m, t)
                } else {
                    (m, rest)
                }
            }
        }
    }

    /// Whether family `f` passes `metric_types` and the name filters.
    pub fn wanted(&self, f: &Family<'_>) -> bool {
        let o = &self.opts;
        if !o.metric_types.is_empty() && !o.metric_types.contains(&f.kind) {
            return false;
        }
        if o.name_filter_ignore
            .as_ref()
            .is_some_and(|s| s.is_match(f.name))
        {
            return false;
        }
        o.name_filter.as_ref().is_none_or(|s| s.is_match(f.name))
    }

    /// Converts `e`. `target_tags` (lowest precedence) describe the scraped target; points
    /// without their own timestamp get `now_ns`.
    pub fn convert(
        &self,
        e: &Exposition<'_>,
        target_tags: &[(String, String)],
        now_ns: i64,
    ) -> Converted {
        let o = &self.opts;
        let category = if o.as_logging.is_some() {
            Category::Logging
        } else {
            Category::Metric
        };
        let mut out = Converted::default();

        let mut info: Vec<(&str, &str)> = Vec::new();
        if !o.disable_info_tag {
            for f in e.families().iter().filter(|f| f.kind == MetricType::Info) {
                if !self.wanted(f) {
                    continue;
                }
                for s in e.samples(f) {
                    for l in e.labels(s) {
                        if !info.iter().any(|(k, _)| *k == l.name) {
                            info.push((l.name, &l.value));
                        }
                    }
                }
            }
        }

        let mut index: HashMap<String, usize> = HashMap::new();
        let mut key = String::new();
        for f in e.families() {
            if f.kind == MetricType::Info || !self.wanted(f) {
                continue;
            }
            let (measurement, base) = self.names(f.name);
            for s in e.samples(f) {
                let suffix = f.suffix(s);
                if suffix == "_created" {
                    continue;
                }
                if !s.value.is_finite() {
                    out.non_finite += 1;
                    continue;
                }
                let Some(tags) = self.tags(e, f, s, suffix, &info, target_tags, &measurement)
                else {
                    out.dropped_by_tag += 1;
                    continue;
                };
                let time = match s.timestamp_ns {
                    Some(t) if o.honor_timestamps => t,
                    _ => now_ns,
                };
                let mut sorted = tags;
                sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                key.clear();
                key.push_str(&measurement);
                let _ = write!(key, "\0{time}");
                for (k, v) in &sorted {
                    key.push('\0');
                    key.push_str(k);
                    key.push('\0');
                    key.push_str(v);
                }
                let field = if f.kind == MetricType::StateSet {
                    // The state label is named after the metric: the field cannot be.
                    format!("{base}_state")
                } else if suffix.is_empty() {
                    base.clone()
                } else {
                    format!("{base}{suffix}")
                };
                // A label of the same name wins over the field, as in the original.
                if sorted.iter().any(|(k, _)| *k == field) {
                    out.tag_conflicts += 1;
                    continue;
                }
                let slot = match index.get(key.as_str()) {
                    Some(&i) if out.points[i].fields.len() < MAX_FIELDS_PER_POINT => i,
                    _ => {
                        let mut p = Point::new(category, measurement.as_str());
                        p.time = time;
                        p.tags = sorted
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                        if category == Category::Logging {
                            p.fields.push(("status".into(), Value::Str("info".into())));
                        }
                        out.points.push(p);
                        let i = out.points.len() - 1;
                        index.insert(key.clone(), i);
                        i
                    }
                };
                out.points[slot].set_field(field, Value::Float(s.value));
                out.fields += 1;
            }
        }
        out
    }

    /// The tags of sample `s`, or `None` when `ignore_tag_kv_match` drops it.
    #[allow(clippy::too_many_arguments)]
    fn tags<'x>(
        &'x self,
        e: &'x Exposition<'_>,
        f: &Family<'_>,
        s: &'x Sample<'_>,
        suffix: &str,
        info: &[(&'x str, &'x str)],
        target_tags: &'x [(String, String)],
        measurement: &'x str,
    ) -> Option<TagRefs<'x>> {
        let o = &self.opts;
        let mut t: TagRefs<'x> = SmallVec::new();
        for (k, v) in &o.tags {
            t.push((k.as_str(), Cow::Borrowed(v.as_str())));
        }
        let bound_label = match (f.kind, suffix) {
            (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => Some("le"),
            (MetricType::Summary, "") => Some("quantile"),
            _ => None,
        };
        for l in e.labels(s) {
            if t.iter().any(|(k, _)| *k == l.name) {
                continue;
            }
            let v: Cow<'x, str> = match bound_label {
                Some(b) if b == l.name => match super::parse::parse_float(&l.value) {
                    Some(x) => Cow::Owned(go_float(x)),
                    None => Cow::Borrowed(&*l.value),
                },
                _ => Cow::Borrowed(&*l.value),
            };
            t.push((l.name, v));
        }
        for &(k, v) in info {
            if !t.iter().any(|(x, _)| *x == k) {
                t.push((k, Cow::Borrowed(v)));
            }
        }
        for (k, v) in target_tags {
            if !t.iter().any(|(x, _)| *x == k.as_str()) {
                t.push((k.as_str(), Cow::Borrowed(v.as_str())));
            }
        }
        if !o.tags_ignore.is_empty() {
            t.retain(|(k, _)| !o.tags_ignore.iter().any(|i| i == k));
        }
        for (old, new) in &o.tags_rename {
            if old == new {
                continue;
            }
            let Some(at) = t.iter().position(|(k, _)| *k == old.as_str()) else {
                continue;
            };
            if let Some(clash) = t.iter().position(|(k, _)| *k == new.as_str()) {
                if !o.overwrite_exist_tags {
                    continue;
                }
                t[at].0 = new.as_str();
                t.remove(clash);
            } else {
                t[at].0 = new.as_str();
            }
        }
        for (k, set) in &o.ignore_tag_kv {
            if t.iter()
                .any(|(tk, tv)| *tk == k.as_str() && set.is_match(tv))
            {
                return None;
            }
        }
        if let Some(service) = &o.as_logging
            && !t.iter().any(|(k, _)| *k == "service")
        {
            let v = if service.is_empty() {
                measurement
            } else {
                service.as_str()
            };
            t.push(("service", Cow::Borrowed(v)));
        }
        Some(t)
    }
}

/// `v` as Go's `fmt.Sprint(float64)` writes it: the shortest digits that read back as `v`,
/// in exponent form (`1e-05`, `1.5e+06`) when the exponent is below -4 or at least 6.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(mant);
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
        return out;
    }
    let n = digits.len() as i32;
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if n <= exp + 1 {
        out.push_str(&digits);
        for _ in 0..(exp + 1 - n) {
            out.push('0');
        }
    } else {
        let (int, frac) = digits.split_at(exp as usize + 1);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::{Format, parse};
    use super::*;

    fn conv(o: Options, body: &str) -> Vec<String> {
        let e = parse(body, Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let c = Converter::new(Options {
            honor_timestamps: true,
            ..o
        });
        let out = c.convert(&e, &[("instance".into(), "h:1".into())], 7);
        out.points.iter().map(show).collect()
    }

    fn show(p: &Point) -> String {
        let tags: Vec<String> = p.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let fields: Vec<String> = p
            .fields
            .iter()
            .map(|(k, v)| match v {
                Value::Float(x) => format!("{k}={x}"),
                Value::Str(s) => format!("{k}={s:?}"),
                other => format!("{k}={other:?}"),
            })
            .collect();
        format!(
            "{} {} {} {}",
            p.name,
            tags.join(","),
            fields.join(","),
            p.time
        )
    }

    #[test]
    fn go_float_matches_fmt_sprint() {
        let cases = [
            (0.5, "0.5"),
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (0.25, "0.25"),
            (0.005, "0.005"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (2.5e-7, "2.5e-07"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (123.456, "123.456"),
            (-7.5, "-7.5"),
            (1e21, "1e+21"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v}");
        }
    }

    #[test]
    fn default_naming_rule() {
        let c = Converter::default();
        let n = |s: &str| c.names(s);
        assert_eq!(
            n("node_cpu_seconds_total"),
            ("node".into(), "cpu_seconds_total".into())
        );
        assert_eq!(n("__go_gc"), ("go".into(), "gc".into()));
        assert_eq!(n("up"), ("up".into(), "up".into()));
        assert_eq!(n("foo_"), ("foo".into(), "foo".into()));
        assert_eq!(n("___"), ("prom".into(), "___".into()));
        assert_eq!(
            n("job:http_requests:rate5m"),
            ("job:http".into(), "requests:rate5m".into())
        );
        let c = Converter::new(Options {
            keep_exist_metric_name: true,
            measurement_prefix: "p_".into(),
            ..Options::default()
        });
        assert_eq!(
            c.names("node_load1"),
            ("p_node".into(), "node_load1".into())
        );
    }

    #[test]
    fn rules_then_measurement_name() {
        let c = Converter::new(Options {
            rules: vec![
                Rule {
                    prefix: "etcd_network_".into(),
                    name: "etcd_network".into(),
                },
                Rule {
                    prefix: "etcd_server_".into(),
                    name: String::new(),
                },
            ],
            measurement_name: "m".into(),
            ..Options::default()
        });
        assert_eq!(
            c.names("etcd_network_peer_sent_bytes_total"),
            ("etcd_network".into(), "peer_sent_bytes_total".into())
        );
        assert_eq!(
            c.names("etcd_server_has_leader"),
            ("etcd_server".into(), "has_leader".into())
        );
        assert_eq!(
            c.names("etcd_server_"),
            ("etcd_server".into(), "etcd_server_".into())
        );
        assert_eq!(
            c.names("go_goroutines"),
            ("m".into(), "go_goroutines".into())
        );
    }

    #[test]
    fn summary_histogram_and_merging() {
        let body = "# TYPE rpc_duration_seconds summary\n\
            rpc_duration_seconds{quantile=\"0.01\"} 3102\n\
            rpc_duration_seconds{quantile=\"0.5\"} 4773\n\
            rpc_duration_seconds{quantile=\"0.99\"} NaN\n\
            rpc_duration_seconds_sum 1.7560473e+07\n\
            rpc_duration_seconds_count 2693\n\
            # TYPE http_request_duration_seconds histogram\n\
            http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n\
            http_request_duration_seconds_bucket{le=\"1.0\"} 133988\n\
            http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n\
            http_request_duration_seconds_sum 53423\n\
            http_request_duration_seconds_count 144320\n\
            # TYPE rpc_queue gauge\n\
            rpc_queue 4 1395066363000\n";
        assert_eq!(
            conv(Options::default(), body),
            [
                "rpc instance=h:1,quantile=0.01 duration_seconds=3102 7",
                "rpc instance=h:1,quantile=0.5 duration_seconds=4773 7",
                "rpc instance=h:1 duration_seconds_sum=17560473,duration_seconds_count=2693 7",
                "http instance=h:1,le=0.05 request_duration_seconds_bucket=24054 7",
                "http instance=h:1,le=1 request_duration_seconds_bucket=133988 7",
                "http instance=h:1,le=+Inf request_duration_seconds_bucket=144320 7",
                "http instance=h:1 request_duration_seconds_sum=53423,request_duration_seconds_count=144320 7",
                "rpc instance=h:1 queue=4 1395066363000000000",
            ]
        );
    }

    #[test]
    fn tag_precedence_ignore_rename_and_info() {
        let body = "# TYPE target info\ntarget_info{version=\"1.2\",env=\"prod\"} 1\n\
                    m_a{env=\"dev\",k=\"x\",b=\"y\",drop=\"z\"} 1\n\
                    m_b{instance=\"exported\"} 2\n";
        let o = Options {
            tags: vec![("k".into(), "configured".into())],
            tags_ignore: vec!["drop".into()],
            tags_rename: vec![("b".into(), "bee".into()), ("version".into(), "env".into())],
            ..Options::default()
        };
        assert_eq!(
            conv(o, body),
            [
                "m bee=y,env=dev,instance=h:1,k=configured,version=1.2 a=1 7",
                "m env=prod,instance=exported,k=configured,version=1.2 b=2 7",
            ]
        );
        let o = Options {
            tags_rename: vec![("version".into(), "env".into())],
            overwrite_exist_tags: true,
            disable_info_tag: false,
            ..Options::default()
        };
        assert_eq!(
            conv(
                o,
                "# TYPE t info\nt_info{version=\"1.2\"} 1\nm_a{env=\"dev\"} 1\n"
            ),
            ["m env=1.2,instance=h:1 a=1 7"]
        );
        let o = Options {
            disable_info_tag: true,
            ..Options::default()
        };
        assert_eq!(
            conv(o, "# TYPE t info\nt_info{version=\"1.2\"} 1\nm_a 1\n"),
            ["m instance=h:1 a=1 7"]
        );
    }

    #[test]
    fn filters_types_and_tag_value_drops() {
        let body = "# TYPE a_c counter\na_c 1\n# TYPE a_g gauge\na_g{k=\"keep\"} 2\na_g{k=\"skip-me\"} 3\n\
                    # TYPE b_g gauge\nb_g 4\nu_x 5\n";
        let set = |p: &[&str]| Some(RegexSet::new(p).unwrap());
        let o = Options {
            metric_types: vec![MetricType::Gauge],
            name_filter: set(&["^a_", "b"]),
            name_filter_ignore: set(&["b_g"]),
            ignore_tag_kv: vec![("k".into(), RegexSet::new(["^skip"]).unwrap())],
            ..Options::default()
        };
        assert_eq!(conv(o, body), ["a instance=h:1,k=keep g=2 7"]);
    }

    #[test]
    fn as_logging_adds_status_and_service() {
        let o = Options {
            as_logging: Some(String::new()),
            ..Options::default()
        };
        let e = parse("m_a 1\n", Format::Text);
        let out = Converter::new(o).convert(&e, &[], 5);
        assert_eq!(out.points[0].category, Category::Logging);
        assert_eq!(show(&out.points[0]), "m service=m status=\"info\",a=1 5");
    }

    #[test]
    fn a_label_named_like_a_field_keeps_the_label() {
        let out = conv(Options::default(), "m_a{a=\"x\"} 1\nm_b{a=\"x\"} 2\n");
        assert_eq!(out, ["m a=x,instance=h:1 b=2 7"]);
        let e = parse("m_a{a=\"x\"} 1\n", Format::Text);
        let c = Converter::default().convert(&e, &[], 1);
        assert!(c.points.is_empty(), "no point without fields");
        assert_eq!(c.tag_conflicts, 1);
    }

    #[test]
    fn merged_points_are_capped() {
        let mut body = String::new();
        for i in 0..600 {
            body.push_str(&format!("m_f{i} {i}\n"));
        }
        let e = parse(&body, Format::Text);
        let out = Converter::default().convert(&e, &[], 1);
        let sizes: Vec<usize> = out.points.iter().map(|p| p.fields.len()).collect();
        assert_eq!(sizes, [256, 256, 88]);
        assert_eq!(out.fields, 600);
    }
}
