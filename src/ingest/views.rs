//! Points a producer builds as borrowed views ([`PointView`]) rather than owned [`Point`]s: the
//! trace receivers' spans. When the stage can ([`Ingest::view_feed`]: no script for the
//! category, every output of the category takes one encoding), each view is checked by the
//! checker's read-only scan and encoded straight into the outputs' encoding with the global
//! tags it lacks — no owned point, no allocation per key. A view the checker must fix, or whose
//! time must be corrected, becomes an owned point and takes the stage's steps as any other.
//!
//! The result is what [`Ingest::feed`] makes of the same points: the same checks, tags,
//! filters and time, counted the same way, and the same bytes for the outputs.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::{FeedError, FeedOptions, Hits, Ingest, Origin, Rules, ScriptChoice, WhenFull};
use crate::filter::Filters;
use crate::io::{EncodedPoints, Feed};
use crate::point::{Category, CheckCounts, Extended, PointView, Warn};
use crate::stats::DropReason;

/// Points of one feed, encoded as they are pushed; queued by [`ViewFeed::send`].
pub struct ViewFeed {
    ingest: Ingest,
    origin: Origin,
    cat: Category,
    filters: Arc<Filters>,
    global_tags: bool,
    durable: Option<WhenFull>,
    now: i64,
    points: EncodedPoints,
    counts: CheckCounts,
    warns: Vec<Warn>,
    hits: Hits,
    no_field: usize,
    adjusted: u64,
    unencodable: usize,
}

impl Ingest {
    /// A feed of views of `cat` from `origin`, encoded as they come, with room for about
    /// `bytes` bytes; `None` when the stage must see owned points (a script may run on the
    /// category, `keep_keys`, checked rules other than the inputs', or the outputs of the
    /// category take different encodings, or an election holds the origin's points back):
    /// then feed owned points.
    pub fn view_feed(
        &self,
        origin: &Origin,
        cat: Category,
        opts: &FeedOptions<'_>,
        bytes: usize,
    ) -> Option<ViewFeed> {
        let scripted = !matches!(opts.script, ScriptChoice::Never)
            && !self.inner.scripts.current().is_empty(cat);
        if scripted || !opts.keep_keys.is_empty() || opts.rules != Rules::Input || opts.prechecked {
            return None;
        }
        if origin.gate.as_ref().is_some_and(|g| !g.admit()) {
            return None;
        }
        let encoding = self.inner.queues.encoding(cat)?;
        Some(ViewFeed {
            ingest: self.clone(),
            origin: origin.clone(),
            cat,
            filters: self.inner.stats.filters.get(),
            global_tags: opts.global_tags,
            durable: opts.durable,
            now: crate::clock::now_ns(),
            points: EncodedPoints::new(encoding, bytes),
            counts: CheckCounts::default(),
            warns: Vec::new(),
            hits: Hits::new(),
            no_field: 0,
            adjusted: 0,
            unencodable: 0,
        })
    }
}

impl ViewFeed {
    /// Points encoded so far.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Takes one point through the stage's steps 3 to 6 (checker, tags, filters, time) and
    /// encodes it.
    pub fn push(&mut self, v: &(impl PointView + ?Sized)) {
        let ingest = &self.ingest;
        let checker = ingest.checker(Rules::Input, self.cat);
        let tags = ingest.tags_for(&self.origin);
        let rules = self.filters.for_category(self.cat);
        let far = v.time() != 0 && ingest.needs_correction(v.time(), self.now);
        let clean = if v.keys_distinct() {
            checker.is_clean_distinct(v)
        } else {
            checker.is_clean(v)
        };
        if !far && clean {
            self.counts.points += 1;
            let mut extra: smallvec::SmallVec<[(&str, &str); 8]> = smallvec::SmallVec::new();
            if self.global_tags {
                for (k, val) in tags {
                    if !v.has_key(k) {
                        extra.push((k.as_str(), val.as_str()));
                    }
                }
            }
            let view = Extended {
                point: v,
                extra_tags: &extra,
                time: if v.time() == 0 { self.now } else { v.time() },
            };
            if let Some(i) = rules.and_then(|r| r.first_match(&view)) {
                super::note_hit(&mut self.hits, i);
                return;
            }
            if self.points.push(&view).is_err() {
                self.unencodable += 1;
            }
            return;
        }
        let mut p = v.to_owned_point(self.cat);
        self.warns.clear();
        checker.check_into(&mut p, &mut self.warns);
        self.counts.record(&self.warns);
        if p.fields.is_empty() {
            self.no_field += 1;
            return;
        }
        if self.global_tags {
            super::add_tags(&mut p, tags);
        }
        if let Some(i) = rules.and_then(|r| r.first_match(&p)) {
            super::note_hit(&mut self.hits, i);
            return;
        }
        self.adjusted += u64::from(ingest.set_time(&mut p, self.now));
        if self.points.push(&p).is_err() {
            self.unencodable += 1;
        }
    }

    /// Counts what the steps dropped and queues the points (through the journal for a
    /// durable feed), as [`Ingest::feed`] does.
    pub async fn send(self) -> Result<(), FeedError> {
        let ViewFeed {
            ingest,
            origin,
            cat,
            filters,
            durable,
            now,
            mut points,
            counts,
            mut hits,
            no_field,
            adjusted,
            unencodable,
            ..
        } = self;
        let stats = origin.stats.as_ref();
        if let Some(r) = filters.for_category(cat) {
            ingest.count_filtered(&origin, cat, r, &mut hits);
        }
        ingest.dropped(
            stats,
            cat,
            DropReason::NoField,
            no_field,
            Some("no field left after the checker"),
        );
        ingest.dropped(
            stats,
            cat,
            DropReason::Invalid,
            unencodable,
            Some("the outputs' encoding cannot write the point"),
        );
        if adjusted > 0 {
            ingest
                .inner
                .stats
                .category(cat)
                .time_adjusted
                .fetch_add(adjusted, Relaxed);
        }
        ingest.inner.stats.record_check(&counts);
        let n = points.len();
        if n == 0 {
            return Ok(());
        }
        origin.stats.record_feed(cat, n, now);
        // Room was made for every span of the body: the feed waits in the queues with what
        // the sampler kept only.
        points.shrink_to_fit();
        let feed = Feed {
            encoded: Some(points),
            ..Feed::default()
        };
        ingest.queue(&origin, cat, feed, durable).await
    }
}
