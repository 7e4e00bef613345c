//! Aggregation over one flush interval, as the original aggregates: a series is a metric type,
//! a name (after the template) and its tags (bucket tags, template tags, `metric_type`, then
//! the DogStatsD tags of the line, a later one of the same key winning), and each series keeps
//!
//! - counters: the sum of the values (each divided by its sample rate), as a float, or as an
//!   integer sum of the values truncated with `set_counter_int`;
//! - gauges: the last value; a signed value (`+3`, `-3`) adds to it;
//! - sets: the distinct members;
//! - timings, histograms and distributions: [`RunningStats`] (a value sampled at `@0.1`
//!   counts 10 times).
//!
//! A series is found by its key bytes, built into a reused buffer: a line of a known series
//! allocates nothing.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use super::parse::{Kind, LineError, LineParser, Record, Sample, SampleValue, TagRef, Why};
use super::running::RunningStats;
use super::template::{Applied, Templates};

/// How lines become series.
#[derive(Debug)]
pub struct AggOptions {
    /// DogStatsD extensions: `#` tags, events, service checks, distributions.
    pub datadog: bool,
    /// Distributions (`|d`) are aggregated (with `datadog`); otherwise they are dropped and
    /// counted.
    pub distributions: bool,
    /// `metric_separator`: joins the parts of a name.
    pub separator: String,
    /// `templates`; `None` applies the original's default (`measurement*`) quickly.
    pub templates: Option<Templates>,
    /// `convert_names`: `.` becomes `_` and `-` becomes `__` in names.
    pub convert_names: bool,
    pub set_counter_int: bool,
    pub percentile_limit: usize,
    /// Remember when each series was last updated (for `max_ttl`).
    pub track_updates: bool,
}

impl Default for AggOptions {
    fn default() -> Self {
        AggOptions {
            datadog: true,
            distributions: true,
            separator: "_".into(),
            templates: None,
            convert_names: false,
            set_counter_int: false,
            percentile_limit: 1000,
            track_updates: false,
        }
    }
}

/// What a series holds.
#[derive(Debug, Clone)]
pub enum Slot {
    Counter(f64),
    CounterInt(i64),
    Gauge(f64),
    Set(HashSet<Box<str>>),
    Sampled(RunningStats),
}

#[derive(Debug, Clone)]
struct Entry {
    slot: Slot,
    updated: Option<Instant>,
}

/// A refused line of a chunk: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Offset in the chunk of the line's first byte.
    pub line_start: usize,
    /// Offset in the chunk of the byte the error is about.
    pub at: usize,
    pub why: String,
    /// The line (at most 120 characters of it).
    pub excerpt: String,
}

/// What the lines of a chunk were, beyond the samples taken.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    pub lines: u64,
    pub samples: u64,
    /// Lines (or parts of lines) refused, with the first one.
    pub invalid: u64,
    pub first_invalid: Option<Problem>,
    /// DogStatsD events and service checks: recognised, not collected.
    pub events: u64,
    pub first_event: Option<String>,
    pub service_checks: u64,
    pub first_service_check: Option<String>,
    /// Distributions while `datadog_distributions` (or `datadog_extensions`) is off.
    pub distributions_off: u64,
}

impl Outcome {
    pub fn add(&mut self, o: Outcome) {
        self.lines += o.lines;
        self.samples += o.samples;
        self.invalid += o.invalid;
        self.events += o.events;
        self.service_checks += o.service_checks;
        self.distributions_off += o.distributions_off;
        if self.first_invalid.is_none() {
            self.first_invalid = o.first_invalid;
        }
        if self.first_event.is_none() {
            self.first_event = o.first_event;
        }
        if self.first_service_check.is_none() {
            self.first_service_check = o.first_service_check;
        }
    }
}

/// The series of one input instance.
#[derive(Debug)]
pub struct Aggregator {
    opts: AggOptions,
    parser: LineParser,
    series: HashMap<Box<[u8]>, Entry>,
    key: Vec<u8>,
    name: String,
    applied: Applied,
}

/// Text of a line for messages: at most 120 bytes, lossy.
pub fn excerpt(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(&line[..line.len().min(120)]);
    let mut s = s.trim_end().to_string();
    if line.len() > 120 {
        s.push('…');
    }
    s
}

fn put(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

/// A series key read back: type, name, field (`value` unless a template named one) and tags
/// (sorted by key).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRef<'a> {
    pub kind: Kind,
    pub name: &'a str,
    pub field: &'a str,
    pub tags: SmallVec<[TagRef<'a>; 16]>,
}

/// Reads a key built by [`Aggregator`].
pub fn decode_key(key: &[u8]) -> Option<SeriesRef<'_>> {
    fn take<'a>(b: &mut &'a [u8]) -> Option<&'a str> {
        let (len, rest) = b.split_at_checked(4)?;
        let n = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let (s, rest) = rest.split_at_checked(n)?;
        *b = rest;
        std::str::from_utf8(s).ok()
    }
    let (&k, mut b) = key.split_first()?;
    let kind = *Kind::ALL.get(k as usize)?;
    let name = take(&mut b)?;
    let field = take(&mut b)?;
    let mut tags = SmallVec::new();
    while !b.is_empty() {
        let k = take(&mut b)?;
        let v = take(&mut b)?;
        tags.push((k, v));
    }
    Some(SeriesRef {
        kind,
        name,
        field,
        tags,
    })
}

/// `key=value` of a bucket (`name,key=value`): exactly one `=`, else skipped (the original's
/// `parseKeyValue`).
fn bucket_tag(s: &str) -> Option<TagRef<'_>> {
    let (k, v) = s.split_once('=')?;
    (!k.is_empty() && !v.contains('=')).then_some((k, v))
}

/// Builds the key of a sample's series into `key`.
fn build_key(
    key: &mut Vec<u8>,
    name: &mut String,
    applied: &mut Applied,
    opts: &AggOptions,
    kind: Kind,
    bucket: &str,
    line_tags: &[TagRef<'_>],
) -> Result<(), LineError> {
    let mut parts = bucket.split(',');
    let raw = parts.next().unwrap_or("");
    // The template reads the first word of the name.
    let Some(word) = raw.split_whitespace().next() else {
        return Err(LineError {
            at: 0,
            why: Why::EmptyName,
        });
    };
    name.clear();
    let field: &str = match &opts.templates {
        None => {
            for (i, p) in word.split('.').enumerate() {
                if i > 0 {
                    name.push_str(&opts.separator);
                }
                name.push_str(p);
            }
            ""
        }
        Some(t) => {
            t.matching(word).apply(word, &opts.separator, applied);
            name.push_str(&applied.measurement);
            &applied.field
        }
    };
    if name.is_empty() {
        return Err(LineError {
            at: 0,
            why: Why::EmptyName,
        });
    }
    if opts.convert_names && (name.contains('.') || name.contains('-')) {
        *name = name.replace('.', "_").replace('-', "__");
    }
    let field = if field.is_empty() { "value" } else { field };
    // Lowest precedence first: bucket tags, template tags, metric_type, the line's tags.
    let mut tags: SmallVec<[TagRef<'_>; 24]> = SmallVec::new();
    tags.extend(parts.filter_map(bucket_tag));
    if opts.templates.is_some() {
        tags.extend(applied.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    tags.push(("metric_type", kind.metric_type()));
    tags.extend_from_slice(line_tags);
    // Sorted by key (stable: equal keys keep their order), the last of each key kept.
    tags.sort_by(|a, b| a.0.cmp(b.0));
    let mut w = 0;
    for r in 0..tags.len() {
        if w > 0 && tags[w - 1].0 == tags[r].0 {
            tags[w - 1] = tags[r];
        } else {
            tags[w] = tags[r];
            w += 1;
        }
    }
    tags.truncate(w);
    key.clear();
    key.push(kind as u8);
    put(key, name);
    put(key, field);
    for (k, v) in &tags {
        put(key, k);
        put(key, v);
    }
    Ok(())
}

/// How many values a sampled timing counts for: `1/rate` truncated (the original's loop), at
/// least once (the original added a value sampled above 1 no time at all, and then failed on
/// the empty series).
fn times(rate: f64) -> u64 {
    if rate > 0.0 {
        let t = (1.0 / rate).trunc();
        if t >= 1.0 {
            t.min(u64::MAX as f64) as u64
        } else {
            1
        }
    } else {
        1
    }
}

impl Aggregator {
    pub fn new(opts: AggOptions) -> Aggregator {
        Aggregator {
            opts,
            parser: LineParser::new(),
            series: HashMap::new(),
            key: Vec::with_capacity(256),
            name: String::with_capacity(128),
            applied: Applied::default(),
        }
    }

    pub fn options(&self) -> &AggOptions {
        &self.opts
    }

    /// Series held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Reads the lines of `chunk` (lines separated by `\n`) into the series.
    pub fn add_chunk(&mut self, chunk: &[u8]) -> Outcome {
        let mut out = Outcome::default();
        let now = self.opts.track_updates.then(Instant::now);
        let mut start = 0;
        for line in chunk.split(|b| *b == b'\n') {
            self.add_line(line, start, now, &mut out);
            start += line.len() + 1;
        }
        out
    }

    fn add_line(&mut self, line: &[u8], start: usize, now: Option<Instant>, out: &mut Outcome) {
        let Aggregator {
            opts,
            parser,
            series,
            key,
            name,
            applied,
        } = self;
        let mut failed: Option<LineError> = None;
        let mut samples = 0u64;
        let mut off = 0u64;
        let r = parser.parse(line, opts.datadog, |bucket, sample, tags| {
            if sample.kind == Kind::Distribution && !(opts.datadog && opts.distributions) {
                off += 1;
                return;
            }
            match build_key(key, name, applied, opts, sample.kind, bucket, tags) {
                Ok(()) => {
                    samples += 1;
                    aggregate(series, key, sample, opts, now);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        });
        out.samples += samples;
        out.distributions_off += off;
        let error = match r {
            Ok(Record::Blank) => return,
            Ok(Record::Event(title)) => {
                out.lines += 1;
                out.events += 1;
                out.first_event.get_or_insert(title);
                return;
            }
            Ok(Record::ServiceCheck(name)) => {
                out.lines += 1;
                out.service_checks += 1;
                out.first_service_check.get_or_insert(name);
                return;
            }
            Ok(Record::Metrics(_)) => failed,
            Err(e) => Some(e),
        };
        out.lines += 1;
        if let Some(e) = error {
            out.invalid += 1;
            if out.first_invalid.is_none() {
                out.first_invalid = Some(Problem {
                    line_start: start,
                    at: start + e.at,
                    why: e.why.to_string(),
                    excerpt: excerpt(line),
                });
            }
        }
    }

    /// Takes what the flush reports: the series of the types in `delete` leave (the
    /// original's `delete_*` options), the others are copied and stay, except those not
    /// updated for `max_ttl`, which leave after this report (as in the original).
    pub fn flush(
        &mut self,
        delete: [bool; 6],
        max_ttl: Option<Duration>,
    ) -> Vec<(Box<[u8]>, Slot)> {
        let kind_of = |k: &[u8]| k.first().map_or(0, |b| *b as usize);
        if delete.iter().all(|d| *d) {
            return std::mem::take(&mut self.series)
                .into_iter()
                .map(|(k, e)| (k, e.slot))
                .collect();
        }
        let mut out: Vec<(Box<[u8]>, Slot)> = self
            .series
            .extract_if(|k, _| delete.get(kind_of(k)).copied().unwrap_or(true))
            .map(|(k, e)| (k, e.slot))
            .collect();
        out.extend(self.series.iter().map(|(k, e)| (k.clone(), e.slot.clone())));
        if let Some(ttl) = max_ttl.filter(|t| !t.is_zero()) {
            let now = Instant::now();
            self.series
                .retain(|_, e| e.updated.is_none_or(|u| now.duration_since(u) <= ttl));
        }
        out
    }
}

/// One sample into its series (the key is in `key`).
fn aggregate(
    series: &mut HashMap<Box<[u8]>, Entry>,
    key: &[u8],
    sample: Sample<'_>,
    opts: &AggOptions,
    now: Option<Instant>,
) {
    let e = match series.get_mut(key) {
        Some(e) => e,
        None => {
            let slot = match sample.kind {
                Kind::Counter if opts.set_counter_int => Slot::CounterInt(0),
                Kind::Counter => Slot::Counter(0.0),
                Kind::Gauge => Slot::Gauge(0.0),
                Kind::Set => Slot::Set(HashSet::new()),
                _ => Slot::Sampled(RunningStats::default()),
            };
            series.entry(key.into()).or_insert(Entry {
                slot,
                updated: None,
            })
        }
    };
    e.updated = now;
    match (&mut e.slot, sample.value) {
        (Slot::Counter(s), SampleValue::Number(v)) => *s += v,
        // Go's int64(float): truncated toward zero (saturating here).
        (Slot::CounterInt(s), SampleValue::Number(v)) => *s = s.wrapping_add(v as i64),
        (Slot::Gauge(g), SampleValue::Number(v)) => {
            if sample.additive {
                *g += v;
            } else {
                *g = v;
            }
        }
        (Slot::Set(members), SampleValue::Member(m)) if !members.contains(m) => {
            members.insert(m.into());
        }
        (Slot::Sampled(stats), SampleValue::Number(v)) => {
            stats.add_times(v, times(sample.rate), opts.percentile_limit);
        }
        // The key holds the type, so a slot always matches its samples.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(lines: &str) -> (Aggregator, Outcome) {
        let mut a = Aggregator::new(AggOptions::default());
        let o = a.add_chunk(lines.as_bytes());
        (a, o)
    }

    /// Flushed series as (name, field, tags, slot), sorted.
    fn series(a: &mut Aggregator) -> Vec<(String, String, String, Slot)> {
        let mut v: Vec<_> = a
            .flush([true; 6], None)
            .into_iter()
            .map(|(k, s)| {
                let r = decode_key(&k).unwrap();
                let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (r.name.to_string(), r.field.to_string(), tags.join(","), s)
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
        v
    }

    #[test]
    fn counters_sum_and_rates_scale() {
        let (mut a, o) = agg("req.count:1|c\nreq.count:2|c|@0.5\nreq.count:3|c|#env:prod\n");
        assert_eq!((o.lines, o.samples, o.invalid), (3, 3, 0));
        let s = series(&mut a);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].0.as_str(), s[0].2.as_str()),
            ("req_count", "env=prod,metric_type=counter")
        );
        assert!(matches!(s[0].3, Slot::Counter(v) if v == 3.0));
        assert!(matches!(s[1].3, Slot::Counter(v) if v == 5.0));
        assert!(a.is_empty(), "delete_counters empties the cache");
    }

    #[test]
    fn tag_order_does_not_split_a_series() {
        let (mut a, _) = agg("x:1|c|#a:1,b:2\nx:1|c|#b:2,a:1\nx:1|c|#a:0,a:1,b:2\n");
        let s = series(&mut a);
        assert_eq!(s.len(), 1);
        assert!(matches!(s[0].3, Slot::Counter(v) if v == 3.0));
    }

    #[test]
    fn gauges_sets_and_timings() {
        let (mut a, _) = agg(
            "g:5|g\ng:+3|g\ng:-1|g\nh:2|g\nh:9|g\ns:a|s\ns:b|s\ns:a|s\nt:10|ms\nt:20|ms|@0.5\n",
        );
        let s = series(&mut a);
        let by = |n: &str| &s.iter().find(|x| x.0 == n).unwrap().3;
        assert!(matches!(by("g"), Slot::Gauge(v) if *v == 7.0));
        assert!(matches!(by("h"), Slot::Gauge(v) if *v == 9.0));
        assert!(matches!(by("s"), Slot::Set(m) if m.len() == 2));
        let Slot::Sampled(t) = by("t") else { panic!() };
        assert_eq!((t.count(), t.sum()), (3, 50.0));
    }

    #[test]
    fn bucket_tags_template_tags_and_line_tags_in_order() {
        let (mut a, _) = agg("cpu.load,host=a,metric_type=x,bad,k=v=w:1|g|#host:b\n");
        let s = series(&mut a);
        assert_eq!(s[0].0, "cpu_load");
        assert_eq!(s[0].2, "host=b,metric_type=gauge");
    }

    #[test]
    fn refused_lines_are_counted_with_the_first_error() {
        let (mut a, o) =
            agg("good:1|c\nbad\n\n  \nx:1|q\n_e{1,1}:a|b\n_sc|chk|0\nd:1|d\n\u{fffd}\n");
        assert_eq!(o.lines, 7, "blank lines are not lines");
        assert_eq!(o.invalid, 3);
        let p = o.first_invalid.unwrap();
        assert_eq!((p.line_start, p.at), (9, 12));
        assert_eq!(p.why, "no `:` between the name and a value");
        assert_eq!(p.excerpt, "bad");
        assert_eq!((o.events, o.service_checks), (1, 1));
        assert_eq!(o.first_service_check.as_deref(), Some("chk"));
        assert_eq!(o.samples, 2, "the counter and the distribution");
        assert_eq!(series(&mut a).len(), 2);
        let mut off = Aggregator::new(AggOptions {
            distributions: false,
            ..AggOptions::default()
        });
        let o = off.add_chunk(b"d:1|d\n");
        assert_eq!((o.distributions_off, o.samples, o.invalid), (1, 0, 0));
    }

    #[test]
    fn kept_series_stay_until_their_ttl() {
        let mut a = Aggregator::new(AggOptions {
            track_updates: true,
            ..AggOptions::default()
        });
        a.add_chunk(b"g:1|g\nc:1|c\n");
        let mut delete = [true; 6];
        delete[Kind::Gauge.index()] = false;
        assert_eq!(a.flush(delete, Some(Duration::from_secs(3600))).len(), 2);
        assert_eq!(a.len(), 1, "the gauge stays");
        assert_eq!(a.flush(delete, Some(Duration::from_secs(3600))).len(), 1);
        assert_eq!(a.flush(delete, Some(Duration::from_nanos(1))).len(), 1);
        assert!(a.is_empty(), "expired after its last report");
    }

    #[test]
    fn convert_names_and_separator() {
        let mut a = Aggregator::new(AggOptions {
            separator: ".".into(),
            convert_names: true,
            ..AggOptions::default()
        });
        a.add_chunk(b"a.b-c:1|c\n");
        assert_eq!(series(&mut a)[0].0, "a_b__c");
    }

    #[test]
    fn set_counter_int_truncates_each_value() {
        let mut a = Aggregator::new(AggOptions {
            set_counter_int: true,
            ..AggOptions::default()
        });
        a.add_chunk(b"c:1.9|c\nc:2.9|c\n");
        assert!(matches!(series(&mut a)[0].3, Slot::CounterInt(3)));
    }

    #[test]
    fn sampled_timings_count_many_times() {
        assert_eq!(times(0.0), 1);
        assert_eq!(times(0.1), 10);
        assert_eq!(times(0.3), 3);
        assert_eq!(times(2.0), 1);
        assert_eq!(times(1e-30), u64::MAX);
    }
}
