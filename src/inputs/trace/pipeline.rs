//! Spans → filters → `tracing` points.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::options::PipelineOptions;
use super::{
    SAMPLER_DROP, SOURCE_WEB, SPAN_TYPE_ENTRY, SPAN_TYPE_EXIT, SPAN_TYPE_LOCAL, STATUS_ERROR,
    STATUS_OK, Span, SpanMessage, Trace, USER_DROP, USER_KEEP, http_status_class, ids,
};
use crate::point::{Category, Point, PointView, ValueView};

/// How long a resource stays "seen" for `keep_rare_resource` (the original's hour).
const RARE_WINDOW: Duration = Duration::from_secs(3600);
/// Most resources remembered for `keep_rare_resource`; past it the oldest half is forgotten.
const RARE_MAX: usize = 100_000;

/// What one call of [`SpanPipeline::process`] made.
#[derive(Debug, Default)]
pub struct Processed {
    /// The kept spans' points ([`SpanPipeline::process`]; empty from
    /// [`SpanPipeline::process_with`], which hands them on as they are built).
    pub points: Vec<Point>,
    /// Spans of traces the sampler dropped.
    pub sampled: usize,
    /// Spans of traces `close_resource` or `omit_err_status` dropped, and why (the first).
    pub filtered: usize,
    pub filtered_why: Option<String>,
}

/// The span pipeline of one receiver instance.
#[derive(Debug)]
pub struct SpanPipeline {
    opts: PipelineOptions,
    threshold: Option<u64>,
    /// `keep_rare_resource`: when each service+resource+source type was last seen.
    rare: Mutex<HashMap<String, Instant>>,
}

/// What the filters decided for a trace.
enum Verdict {
    Keep,
    Sampled,
    Filtered(String),
}

impl SpanPipeline {
    pub fn new(opts: PipelineOptions) -> SpanPipeline {
        let threshold = opts.sampler_threshold();
        SpanPipeline {
            opts,
            threshold,
            rare: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &PipelineOptions {
        &self.opts
    }

    /// Whether the sampler drops a trace whatever its spans hold, so that a receiver need not
    /// build its spans: `trace_id` as the point shows it, the first span's sampling decision,
    /// whether a span is an error or comes from RUM. `false` when another filter could decide
    /// first (`close_resource`, `omit_err_status`, `keep_rare_resource` configured): such
    /// traces go through [`SpanPipeline::process`], which decides the same way.
    pub fn sampled_out(
        &self,
        trace_id: &str,
        sampling: Option<&str>,
        error: bool,
        rum: bool,
    ) -> bool {
        let o = &self.opts;
        let Some(threshold) = self.threshold else {
            return false;
        };
        if error
            || rum
            || o.keep_rare_resource
            || !o.close_resource.rules.is_empty()
            || !o.omit_err_status.is_empty()
        {
            return false;
        }
        match sampling {
            Some(USER_DROP) | Some(SAMPLER_DROP) => true,
            Some(USER_KEEP) => false,
            _ => !ids::sampler_keeps(trace_id, threshold),
        }
    }

    /// Runs the filters over `traces` and builds the points of the spans kept.
    pub fn process<M: SpanMessage>(&self, traces: Vec<Trace<M>>) -> Processed {
        let mut points = Vec::with_capacity(traces.iter().map(Vec::len).sum());
        let mut out = self.process_with(traces, |v| {
            points.push(v.to_owned_point(Category::Tracing));
        });
        out.points = points;
        out
    }

    /// [`SpanPipeline::process`], handing each kept span's point to `sink` as a view that
    /// borrows the span's strings (`Processed::points` stays empty): the receivers encode it
    /// without an owned point ([`crate::ingest::ViewFeed`]).
    pub fn process_with<M: SpanMessage>(
        &self,
        traces: Vec<Trace<M>>,
        mut sink: impl FnMut(&SpanPoint<'_>),
    ) -> Processed {
        let mut out = Processed::default();
        // The spans' JSON is written here, reused from span to span.
        let mut msg = String::new();
        let mut view = SpanPoint::default();
        for trace in traces {
            if trace.is_empty() {
                continue;
            }
            let types = span_types(&trace);
            match self.verdict(&trace, &types) {
                Verdict::Keep => {}
                Verdict::Sampled => {
                    out.sampled += trace.len();
                    continue;
                }
                Verdict::Filtered(why) => {
                    out.filtered += trace.len();
                    out.filtered_why.get_or_insert(why);
                    continue;
                }
            }
            let rate = self.opts.sampling_rate;
            for (i, (span, ty)) in trace.iter().zip(types).enumerate() {
                msg.clear();
                if !self.opts.del_message {
                    span.message.write_json(&mut msg);
                }
                let mut v = std::mem::take(&mut view).recycle();
                self.point(&mut v, span, ty, &msg);
                if i == 0
                    && let Some(r) = rate
                {
                    v.distinct &= !v.has_key("dk_sampling_rate");
                    v.fields.push(("dk_sampling_rate", ValueView::Float(r)));
                }
                sink(&v);
                view = v.recycle();
            }
        }
        out
    }

    /// The original's filters, in its order; a filter that "skips" ends the run with the trace
    /// kept.
    fn verdict<M>(&self, trace: &Trace<M>, types: &[&'static str]) -> Verdict {
        let o = &self.opts;
        // close_resource
        if !o.close_resource.rules.is_empty() {
            for s in trace {
                if o.close_resource.closes(&s.service, &s.resource) {
                    return Verdict::Filtered(format!(
                        "close_resource: service `{}` resource `{}`",
                        s.service, s.resource
                    ));
                }
            }
        }
        // Traces with an error go through untouched.
        if trace.iter().any(|s| s.error) {
            return Verdict::Keep;
        }
        // omit_err_status
        if !o.omit_err_status.is_empty() {
            for s in trace.iter().filter(|s| s.source_type == SOURCE_WEB) {
                if let Some(code) = s.tag("http_status_code")
                    && o.omit_err_status.iter().any(|c| c == code)
                {
                    return Verdict::Filtered(format!("omit_err_status: {code}"));
                }
            }
        }
        // keep_rare_resource: only with a sampler that drops something.
        if o.keep_rare_resource
            && self.threshold.is_some()
            && let Some((s, _)) = trace
                .iter()
                .zip(types)
                .find(|(_, t)| **t == SPAN_TYPE_ENTRY)
        {
            let key = format!("{}{}{}", s.service, s.resource, s.source_type);
            if !key.is_empty() && self.rare_seen_first(key) {
                return Verdict::Keep;
            }
        }
        // RUM traces go through.
        if trace.iter().any(|s| s.rum) {
            return Verdict::Keep;
        }
        // sampler
        if let Some(threshold) = self.threshold {
            match trace[0].sampling {
                Some(USER_DROP) | Some(SAMPLER_DROP) => return Verdict::Sampled,
                Some(USER_KEEP) => return Verdict::Keep,
                _ => {}
            }
            if !ids::sampler_keeps(&trace[0].trace_id, threshold) {
                return Verdict::Sampled;
            }
        }
        Verdict::Keep
    }

    /// Whether `key` was not seen within the window (then it is a rare resource); notes it.
    fn rare_seen_first(&self, key: String) -> bool {
        let now = Instant::now();
        let mut map = self.rare.lock().unwrap_or_else(|e| e.into_inner());
        let rare = map
            .get(&key)
            .is_none_or(|t| now.duration_since(*t) >= RARE_WINDOW);
        if map.len() >= RARE_MAX && !map.contains_key(&key) {
            let mut times: Vec<Instant> = map.values().copied().collect();
            times.sort();
            let cut = times[times.len() / 2];
            map.retain(|_, t| *t > cut);
        }
        map.insert(key, now);
        rare
    }

    /// The point of one kept span, into `p` (empty); `msg` is the span's JSON (empty with
    /// `del_message`).
    fn point<'a, M>(
        &'a self,
        p: &mut SpanPoint<'a>,
        s: &'a Span<M>,
        span_type: &'static str,
        msg: &'a str,
    ) {
        let o = &self.opts;
        p.name = o.source;
        p.time = s.start_ns;
        // Keys are added first-wins, as the original builds its points: a span's own tag
        // never replaces `service`, nor a config tag a span's.
        p.tags
            .extend(s.head_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // Every key below is added only when absent, but for these: the head tags (one of
        // a receiver's own few, alone) and the keys every point has.
        p.distinct = s.head_tags.iter().enumerate().all(|(i, (k, _))| {
            !FIXED_KEYS.contains(&k.as_str()) && !s.head_tags[..i].iter().any(|(o, _)| o == k)
        });
        p.fields.push(("trace_id", ValueView::Str(&s.trace_id)));
        p.fields
            .push(("parent_id", ValueView::Str(&s.parent_id_text)));
        p.fields.push(("span_id", ValueView::Str(&s.span_id_text)));
        p.tags.push(("service", &s.service));
        p.fields.push(("resource", ValueView::Str(&s.resource)));
        p.tags.push(("operation", &s.operation));
        p.tags.push(("source", o.source));
        p.tags.push(("span_type", span_type));
        p.tags.push(("source_type", s.source_type));
        p.fields.push(("start", ValueView::Int(s.start_ns / 1000)));
        p.fields
            .push(("duration", ValueView::Int(s.duration_ns / 1000)));
        for (k, v) in &o.tags {
            p.add_tag(k, v);
        }
        for (k, v) in &s.tags {
            if !p.has_key(k) {
                p.tags.push((k, v));
            }
        }
        for (k, v) in &s.fields {
            if !p.has_key(k) {
                p.fields.push((k, ValueView::from(v)));
            }
        }
        if let Some(class) = p.tag("http_status_code").and_then(http_status_class) {
            p.add_tag("http_status_class", class);
        }
        p.add_tag("status", if s.error { STATUS_ERROR } else { STATUS_OK });
        if !msg.is_empty() && !p.has_key("message") {
            p.fields.push(("message", ValueView::Str(msg)));
        }
        p.add_tag("dk_fingerprint", &o.hostname);
    }
}

/// The `tracing` point of one kept span, borrowing the span's strings: what
/// [`SpanPipeline::process_with`] hands on (tags and fields in the order the point has them).
#[derive(Debug, Default)]
pub struct SpanPoint<'a> {
    name: &'a str,
    tags: Vec<(&'a str, &'a str)>,
    fields: Vec<(&'a str, ValueView<'a>)>,
    time: i64,
    /// No key repeats (tags and fields together).
    distinct: bool,
}

/// The keys every span's point has, added whatever the point already holds.
const FIXED_KEYS: &[&str] = &[
    "trace_id",
    "parent_id",
    "span_id",
    "service",
    "resource",
    "operation",
    "source",
    "span_type",
    "source_type",
    "start",
    "duration",
];

impl<'a> SpanPoint<'a> {
    /// Empty, keeping the room of its vectors for the next span.
    fn recycle<'b>(self) -> SpanPoint<'b> {
        SpanPoint {
            name: "",
            tags: reuse(self.tags),
            fields: reuse(self.fields),
            time: 0,
            distinct: false,
        }
    }

    fn tag(&self, key: &str) -> Option<&'a str> {
        self.tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn add_tag(&mut self, k: &'a str, v: &'a str) {
        if !self.has_key(k) {
            self.tags.push((k, v));
        }
    }
}

/// `v` emptied, as a vector of another lifetime: std collects a vector's own iterator into
/// elements of the same size and alignment in place, so the allocation is kept.
fn reuse<T, U>(v: Vec<T>) -> Vec<U> {
    v.into_iter().filter_map(|_| None).collect()
}

impl PointView for SpanPoint<'_> {
    #[inline]
    fn name(&self) -> &str {
        self.name
    }
    #[inline]
    fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.tags.iter().copied()
    }
    #[inline]
    fn fields(&self) -> impl Iterator<Item = (&str, ValueView<'_>)> + Clone {
        self.fields.iter().copied()
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
    #[inline]
    fn keys_distinct(&self) -> bool {
        self.distinct
    }
}

/// The `span_type` of each span of a trace (the original's rule over several services): a
/// span whose parent is in the trace is `entry` when the parent is of another service, else
/// `local` when it has children itself, else `exit`; a span whose parent is not in the trace
/// is `entry`.
pub fn span_types<M>(trace: &Trace<M>) -> Vec<&'static str> {
    let mut services: HashMap<u64, &str> = HashMap::with_capacity(trace.len());
    let mut parents: HashSet<u64> = HashSet::with_capacity(trace.len());
    for s in trace {
        services.insert(s.span_id, &s.service);
        parents.insert(s.parent_id);
    }
    trace
        .iter()
        .map(|s| {
            if s.parent_id == 0 {
                return SPAN_TYPE_ENTRY;
            }
            match services.get(&s.parent_id) {
                Some(ps) if *ps != s.service => SPAN_TYPE_ENTRY,
                Some(_) if parents.contains(&s.span_id) => SPAN_TYPE_LOCAL,
                Some(_) => SPAN_TYPE_EXIT,
                None => SPAN_TYPE_ENTRY,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
