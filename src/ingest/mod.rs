//! The ingest stage: the one door between "points collected" and "points queued".
//!
//! Every producer — an input, the write API, a receiver, a script's `create_point()` — hands
//! over `(origin, category, points or a line-protocol body, options, optional ack)` and nothing
//! else. The stage does, in this order and in this one place:
//!
//! ```text
//!  producer ──(origin, category, points | body, options, ack?)──┐
//!                                                               v
//!   1. election: admit (a paused election-aware input's points are dropped: `election`),
//!      and which tags the points get (the election tags, or the global host tags)
//!   2. script: looked up per point by the original's rules, once per run of points that
//!      share a lookup name; `drop()` → dropped (`pipeline`, `ignore_status`); points made by
//!      `create_point()` regrouped by category and fed as `pipeline/create_point`
//!   3. checker: the category's rule set (inputs' or the write API's); a point left without
//!      fields is dropped (`no_field`)
//!   4. tags: the tags of step 1 the point lacks (unless turned off)
//!   5. filters: a point matching a rule of its category (`[io.filters]` or DataWay's) is
//!      dropped (`filtered`, the rule counted in `datakit monitor`)
//!   6. time: now when unset; moved to now when more than 2 h off
//!      (`auto_timestamp_correction`)
//!   7. queue: IO's queue of the category (waits while it is full) ─────> io
//! ```
//!
//! Every point lost on the way is one [`PointsDropped`](crate::stats::PointsDropped) event
//! (category, reason, origin), counted and shown in `datakit monitor`.
//!
//! Line-protocol bodies of the write API ([`write`]) take a faster path when the stage can:
//! lines are checked and encoded straight from the body into the outputs' encoding, and only
//! a point the checker must fix, or that a script must see, becomes an owned point. The
//! stage decides ([`write::plan`]), not the handler.

pub mod filters;
pub mod pull;
pub mod refer;
pub mod remote;
pub mod scripts;
pub mod views;
pub mod write;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::sync::oneshot;

use crate::config::MainConfig;
use crate::filter::RuleSet;
pub use crate::io::WhenFull;
use crate::io::{Ack, DurableError, Feed, Queues};
use crate::pipeline::RunOptions;
use crate::point::{CheckCounts, CheckOptions, Checker, Point, Value};
use crate::stats::{DropOrigin, DropReason, InputStats, PointsDropped, Stats};

pub use crate::point::Category;
pub use scripts::{ScriptChoice, ScriptSet, Scripts};
pub use views::ViewFeed;

/// Two hours: the distance from now beyond which timestamps are corrected.
const TIME_CORRECTION: i64 = 2 * 3600 * 1_000_000_000;

/// The input name of points made by `create_point()` in a script (the original's).
pub const PIPELINE_CREATED: &str = "pipeline/create_point";

/// What the stage holds back: leader election, as election-aware inputs see it. The
/// election module implements it; the stage knows nothing else of elections.
pub trait Gate: Send + Sync {
    /// Whether points may pass now (this agent leads, or election does not gate).
    fn admit(&self) -> bool;
    /// The tags added instead of the global host tags.
    fn tags(&self) -> &[(String, String)];
}

/// Why a feed was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// IO is shutting down (the points were dropped and counted).
    #[error("the agent is stopping")]
    Closed,
    /// The journal is at its cap: the producer should come back later (nothing was taken).
    #[error("{0}")]
    Full(String),
}

/// Who feeds: a producer's counters (looked up once, kept for its life) and, for an
/// election-aware input, the election gate.
#[derive(Clone)]
pub struct Origin {
    stats: Arc<InputStats>,
    gate: Option<Arc<dyn Gate>>,
}

impl Origin {
    pub fn new(stats: Arc<InputStats>) -> Origin {
        Origin { stats, gate: None }
    }

    /// This origin with its points admitted, and tagged, by `gate`.
    pub fn gated(mut self, gate: Arc<dyn Gate>) -> Origin {
        self.gate = Some(gate);
        self
    }

    pub fn name(&self) -> &str {
        self.stats.name()
    }

    pub fn stats(&self) -> &Arc<InputStats> {
        &self.stats
    }
}

/// Which checker rule set applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// The rules of the original's inputs for the category.
    #[default]
    Input,
    /// The rules of the original's `POST /v1/write/:category` (only metric, logging and object
    /// have their own set).
    WriteApi,
}

static DEFAULT_RUN: RunOptions = RunOptions {
    step_budget: crate::pipeline::DEFAULT_STEP_BUDGET,
    ignore_status: Vec::new(),
    disable_add_status_field: false,
};

/// How a feed is treated.
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions<'a> {
    /// Add the global host tags (or the election tags) the point lacks; the write API's
    /// `ignore_global_host_tags` and prom's `disable_host_tag` turn it off.
    pub global_tags: bool,
    pub script: ScriptChoice<'a>,
    pub run: &'a RunOptions,
    /// Keep only these keys of each point after its script (and `message`); empty keeps all.
    pub keep_keys: &'a [String],
    pub rules: Rules,
    /// The points were checked with the same rules by the producer (the write API checks
    /// before anything is fed, to answer `strict` requests): only points a script changed are
    /// checked again.
    pub prechecked: bool,
    /// Journal the points before the feed returns (they survive a crash of the process from
    /// then on, and a slow output never makes the producer wait), with what to do when the
    /// journal is at its cap. `None`: kept in memory until delivered; the feed waits while the
    /// queue is full. Without a journal (`[dataway.wal] journal = false`) every feed is `None`.
    pub durable: Option<WhenFull>,
}

impl Default for FeedOptions<'_> {
    fn default() -> Self {
        FeedOptions {
            global_tags: true,
            script: ScriptChoice::Auto,
            run: &DEFAULT_RUN,
            keep_keys: &[],
            rules: Rules::Input,
            prechecked: false,
            durable: Some(WhenFull::Shed),
        }
    }
}

/// Settings the stage takes from the main config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Global host tags, `host` first.
    pub global_tags: Vec<(String, String)>,
    /// `[io] auto_timestamp_correction`.
    pub time_correction: bool,
}

impl Settings {
    /// From the main config; `hostname` and `ip` replace `$datakit_hostname`/`$datakit_ip`.
    pub fn from_config(c: &MainConfig, hostname: &str, ip: &str) -> Settings {
        let mut tags: Vec<(String, String)> = c
            .global_host_tags
            .iter()
            .map(|(k, v)| {
                let v = match v.as_str() {
                    "$datakit_hostname" | "__datakit_hostname" => hostname.to_string(),
                    "$datakit_ip" | "__datakit_ip" => ip.to_string(),
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        // `host` is always this agent's hostname.
        tags.retain(|(k, _)| k != "host");
        tags.insert(0, ("host".to_string(), hostname.to_string()));
        Settings {
            global_tags: tags,
            time_correction: c.io.auto_timestamp_correction,
        }
    }
}

struct Inner {
    queues: Queues,
    stats: Arc<Stats>,
    scripts: Scripts,
    settings: Settings,
    /// Per category: the inputs' rules, and the write API's.
    input_rules: Vec<Checker>,
    write_rules: Vec<Checker>,
    /// The origin of points made by `create_point()`.
    created: Origin,
}

/// The stage. Cheap to clone; every producer holds one.
#[derive(Clone)]
pub struct Ingest {
    inner: Arc<Inner>,
}

/// Points of one feed after the stage, ready for the queues.
#[derive(Default)]
struct Prepared {
    points: Vec<Point>,
    /// Points made by `create_point()`, by category.
    extra: Vec<(Category, Vec<Point>)>,
}

impl Ingest {
    pub fn new(queues: Queues, scripts: Scripts, settings: Settings) -> Ingest {
        let stats = queues.stats().clone();
        let created = Origin::new(stats.input(PIPELINE_CREATED));
        Ingest {
            inner: Arc::new(Inner {
                input_rules: Category::ALL
                    .iter()
                    .map(|&c| Checker::new(CheckOptions::for_category(c)))
                    .collect(),
                write_rules: Category::ALL
                    .iter()
                    .map(|&c| Checker::new(CheckOptions::for_write_api(c)))
                    .collect(),
                queues,
                stats,
                scripts,
                settings,
                created,
            }),
        }
    }

    /// The origin for a producer named by a client under `prefix` (bounded: see
    /// [`Stats::client_input`]).
    pub fn client_origin(&self, prefix: &str, name: &str) -> Origin {
        Origin::new(self.inner.stats.client_input(prefix, name))
    }

    /// The origin for producer `name` (look it up once and keep it).
    pub fn origin(&self, name: &str) -> Origin {
        Origin::new(self.inner.stats.input(name))
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }

    pub fn scripts(&self) -> &Scripts {
        &self.inner.scripts
    }

    fn checker(&self, rules: Rules, cat: Category) -> &Checker {
        match rules {
            Rules::Input => &self.inner.input_rules[cat.index()],
            Rules::WriteApi => &self.inner.write_rules[cat.index()],
        }
    }

    /// The one drop event, for points of this stage.
    fn dropped(
        &self,
        origin: &dyn DropOrigin,
        category: Category,
        reason: DropReason,
        count: usize,
        detail: Option<&str>,
    ) {
        if count > 0 {
            self.inner.stats.points_dropped(PointsDropped {
                category,
                reason,
                count: count as u64,
                origin,
                detail,
            });
        }
    }

    /// Counts the points filter rules dropped: on each rule, and as the one drop event
    /// (reason `filtered`, the rule as its detail).
    fn count_filtered(&self, origin: &Origin, cat: Category, rules: &RuleSet, hits: &mut Hits) {
        for (i, n) in hits.drain(..) {
            let r = &rules.rules()[i];
            r.hits.fetch_add(n as u64, Relaxed);
            self.dropped(
                origin.stats.as_ref(),
                cat,
                DropReason::Filtered,
                n,
                Some(&format!("filter rule {}", r.text)),
            );
        }
    }

    /// The tags the stage adds for `origin`.
    fn tags_for<'a>(&'a self, origin: &'a Origin) -> &'a [(String, String)] {
        match &origin.gate {
            Some(g) => g.tags(),
            None => &self.inner.settings.global_tags,
        }
    }

    /// Step 1: whether `origin` may feed `n` points of `cat` now (else they are dropped).
    fn admit(&self, origin: &Origin, cat: Category, n: usize) -> bool {
        match &origin.gate {
            Some(g) if !g.admit() => {
                self.dropped(
                    origin.stats.as_ref(),
                    cat,
                    DropReason::Election,
                    n,
                    Some("this agent is not the elected leader"),
                );
                false
            }
            _ => true,
        }
    }

    /// Step 5 for one point: now when unset, now (keeping `__orig_time`) when far off. True
    /// when the time was corrected.
    fn set_time(&self, p: &mut Point, now: i64) -> bool {
        if p.time == 0 {
            p.time = now;
        } else if self.needs_correction(p.time, now) {
            p.set_field("__orig_time", Value::Int(p.time));
            p.time = now;
            return true;
        }
        false
    }

    fn needs_correction(&self, time: i64, now: i64) -> bool {
        self.inner.settings.time_correction && (time - now).abs() > TIME_CORRECTION
    }

    /// Steps 2 to 4 over owned points of one category, after admission; `tags` are the tags
    /// step 1 chose (added unless the options turn them off).
    fn prepare(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
        now: i64,
    ) -> Prepared {
        let tags = self.tags_for(origin);
        self.prepare_with(origin, tags, cat, points, opts, now)
    }

    fn prepare_with(
        &self,
        origin: &Origin,
        tags: &[(String, String)],
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
        now: i64,
    ) -> Prepared {
        let mut points = points;
        for p in points.iter_mut() {
            p.category = cat;
        }
        // Step 2: scripts.
        let set = self.inner.scripts.current();
        let mut extra = Vec::new();
        let mut ran = Vec::new();
        let run_scripts = !matches!(opts.script, ScriptChoice::Never) && !set.is_empty(cat);
        if run_scripts {
            let r = scripts::run_batch(&set, cat, points, opts.script, opts.run);
            (points, ran, extra) = (r.kept, r.ran, r.extra);
            for (script, reason, n) in r.drops.drops {
                let detail = (!script.is_empty()).then_some(script.as_str());
                self.dropped(origin.stats.as_ref(), cat, reason, n as usize, detail);
            }
        } else if cat == Category::Logging && !opts.run.ignore_status.is_empty() {
            // No script: a logging point keeps its status, and is dropped when it is ignored.
            let before = points.len();
            points.retain(|p| {
                let status = p.get_tag("status").unwrap_or("info");
                !opts.run.ignore_status.iter().any(|s| s == status)
            });
            self.dropped(
                origin.stats.as_ref(),
                cat,
                DropReason::StatusIgnored,
                before - points.len(),
                None,
            );
        }
        if !opts.keep_keys.is_empty() {
            for p in &mut points {
                let keep = |k: &str| k == "message" || opts.keep_keys.iter().any(|w| w == k);
                p.tags.retain(|(k, _)| keep(k));
                p.fields.retain(|(k, _)| keep(k));
            }
        }
        // Steps 3 to 5.
        let filters = self.inner.stats.filters.get();
        let rules = filters.for_category(cat);
        let mut hits = Hits::new();
        let checker = self.checker(opts.rules, cat);
        let mut counts = CheckCounts::default();
        let mut warns = Vec::new();
        let mut no_field = 0;
        let mut adjusted = 0u64;
        let mut i = 0;
        points.retain_mut(|p| {
            let changed = ran.get(i).copied().unwrap_or(false);
            i += 1;
            if changed || !opts.prechecked {
                warns.clear();
                checker.check_into(p, &mut warns);
                counts.record(&warns);
            }
            if p.fields.is_empty() {
                no_field += 1;
                return false;
            }
            if opts.global_tags {
                add_tags(p, tags);
            }
            if let Some(i) = rules.and_then(|r| r.first_match(p)) {
                note_hit(&mut hits, i);
                return false;
            }
            adjusted += u64::from(self.set_time(p, now));
            true
        });
        if let Some(r) = rules {
            self.count_filtered(origin, cat, r, &mut hits);
        }
        self.dropped(
            origin.stats.as_ref(),
            cat,
            DropReason::NoField,
            no_field,
            Some("no field left after the checker"),
        );
        if adjusted > 0 {
            self.inner
                .stats
                .category(cat)
                .time_adjusted
                .fetch_add(adjusted, Relaxed);
        }
        self.inner.stats.record_check(&counts);
        let extra = self.prepare_created(tags, extra, opts.global_tags, now);
        if !points.is_empty() {
            origin.stats.record_feed(cat, points.len(), now);
        }
        Prepared { points, extra }
    }

    /// Points made by `create_point()`: regrouped by category, then checked, tagged (as their
    /// parents were) and timed; no script runs on them.
    fn prepare_created(
        &self,
        tags: &[(String, String)],
        extra: Vec<Point>,
        global_tags: bool,
        now: i64,
    ) -> Vec<(Category, Vec<Point>)> {
        if extra.is_empty() {
            return Vec::new();
        }
        let mut groups: Vec<(Category, Vec<Point>)> = Vec::new();
        for p in extra {
            match groups.iter_mut().find(|(c, _)| *c == p.category) {
                Some((_, v)) => v.push(p),
                None => groups.push((p.category, vec![p])),
            }
        }
        let opts = FeedOptions {
            global_tags,
            script: ScriptChoice::Never,
            ..FeedOptions::default()
        };
        let created = &self.inner.created;
        groups
            .into_iter()
            .map(|(cat, pts)| {
                let p = self.prepare_with(created, tags, cat, pts, &opts, now);
                (cat, p.points)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Feeds points of `cat` from `origin` through the stage; waits while the queue is full
    /// (a durable feed waits only for the journal).
    pub async fn feed(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
    ) -> Result<(), FeedError> {
        self.feed_inner(origin, cat, points, opts, None).await
    }

    /// Like [`feed`](Ingest::feed), returning an [`Ack`] that fires once the points are
    /// delivered, queued on disk, or dropped and counted (a durable feed: once journaled; at
    /// once when the stage dropped all).
    pub async fn feed_acked(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
    ) -> Result<Ack, FeedError> {
        let (tx, rx) = oneshot::channel();
        self.feed_inner(origin, cat, points, opts, Some(tx)).await?;
        Ok(rx)
    }

    async fn feed_inner(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
        ack: Option<oneshot::Sender<()>>,
    ) -> Result<(), FeedError> {
        if points.is_empty() || !self.admit(origin, cat, points.len()) {
            fire(ack);
            return Ok(());
        }
        let p = self.prepare(origin, cat, points, opts, crate::clock::now_ns());
        for (c, pts) in p.extra {
            let created = &self.inner.created;
            self.queue(created, c, Feed::owned(pts, None), opts.durable)
                .await?;
        }
        if p.points.is_empty() {
            fire(ack);
            return Ok(());
        }
        self.queue(origin, cat, Feed::owned(p.points, ack), opts.durable)
            .await
    }

    /// Step 5: into IO's queue of `cat` (through the journal for a durable feed).
    async fn queue(
        &self,
        origin: &Origin,
        cat: Category,
        feed: Feed,
        durable: Option<WhenFull>,
    ) -> Result<(), FeedError> {
        let n = feed.len();
        let sent = match durable {
            Some(w) => self.inner.queues.send_durable(cat, feed, w).await,
            None => self.inner.queues.send(cat, feed).await.map_err(Into::into),
        };
        self.sent(origin, cat, n, sent, durable)
    }

    /// [`queue`](Ingest::queue) from a blocking thread.
    fn queue_blocking(
        &self,
        origin: &Origin,
        cat: Category,
        feed: Feed,
        durable: Option<WhenFull>,
    ) -> Result<(), FeedError> {
        let n = feed.len();
        let sent = match durable {
            Some(w) => self.inner.queues.send_durable_blocking(cat, feed, w),
            None => self
                .inner
                .queues
                .send_blocking(cat, feed)
                .map_err(Into::into),
        };
        self.sent(origin, cat, n, sent, durable)
    }

    /// [`feed_acked`](Ingest::feed_acked) from a blocking thread (never from an async task):
    /// scripts run on the calling thread, so producers with their own threads keep the work
    /// off the async workers. `None` when nothing needed an acknowledgement.
    pub fn feed_blocking(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
        want_ack: bool,
    ) -> Result<Option<Ack>, FeedError> {
        if points.is_empty() || !self.admit(origin, cat, points.len()) {
            return Ok(None);
        }
        let p = self.prepare(origin, cat, points, opts, crate::clock::now_ns());
        for (c, pts) in p.extra {
            let created = &self.inner.created;
            self.queue_blocking(created, c, Feed::owned(pts, None), opts.durable)?;
        }
        if p.points.is_empty() {
            return Ok(None);
        }
        let (tx, rx) = if want_ack {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        self.queue_blocking(origin, cat, Feed::owned(p.points, tx), opts.durable)?;
        Ok(rx)
    }

    /// What IO said of `n` points: shutting down is a drop (counted); a full journal is a
    /// drop (counted) for a producer that sheds, else the producer's to handle (it is told to
    /// come back).
    fn sent(
        &self,
        origin: &Origin,
        cat: Category,
        n: usize,
        sent: Result<(), DurableError>,
        durable: Option<WhenFull>,
    ) -> Result<(), FeedError> {
        match sent {
            Ok(()) => Ok(()),
            Err(DurableError::Closed(_)) => {
                self.dropped(
                    origin.stats.as_ref(),
                    cat,
                    DropReason::Shutdown,
                    n,
                    Some("IO is shut down"),
                );
                Err(FeedError::Closed)
            }
            Err(DurableError::Full(e)) if durable == Some(WhenFull::Shed) => {
                self.dropped(
                    origin.stats.as_ref(),
                    cat,
                    DropReason::QueueFull,
                    n,
                    Some(&e.to_string()),
                );
                Ok(())
            }
            Err(DurableError::Full(e)) => Err(FeedError::Full(e.to_string())),
        }
    }

    /// Steps 2 to 4 on `points`, without queuing them: for benchmarks of the stage's own cost.
    /// Returns the points left.
    #[doc(hidden)]
    pub fn prepare_only(
        &self,
        origin: &Origin,
        cat: Category,
        points: Vec<Point>,
        opts: &FeedOptions<'_>,
    ) -> Vec<Point> {
        self.prepare(origin, cat, points, opts, crate::clock::now_ns())
            .points
    }

    /// Counts points a producer could not make into points at all (a blank socket line):
    /// the one drop event, reason `empty`.
    pub fn empty(&self, origin: &Origin, cat: Category, n: usize) {
        self.dropped(origin.stats.as_ref(), cat, DropReason::Empty, n, None);
    }

    /// Counts `n` points of `cat` a producer gave up on before feeding them (a receiver's
    /// sampler or filters, a body it could not decode), with what decided it.
    pub fn discard(
        &self,
        origin: &Origin,
        cat: Category,
        reason: DropReason,
        n: usize,
        detail: Option<&str>,
    ) {
        self.dropped(origin.stats.as_ref(), cat, reason, n, detail);
    }
}

/// Points dropped by filter rules in one feed: (rule index, points).
type Hits = smallvec::SmallVec<[(usize, usize); 4]>;

fn note_hit(hits: &mut Hits, rule: usize) {
    match hits.iter_mut().find(|(i, _)| *i == rule) {
        Some(h) => h.1 += 1,
        None => hits.push((rule, 1)),
    }
}

/// Adds the `tags` a point lacks (existing keys win).
fn add_tags(p: &mut Point, tags: &[(String, String)]) {
    p.tags.reserve(tags.len());
    for (k, v) in tags {
        p.add_tag_if_absent(k, v);
    }
}

fn fire(ack: Option<oneshot::Sender<()>>) {
    if let Some(a) = ack {
        let _ = a.send(());
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
