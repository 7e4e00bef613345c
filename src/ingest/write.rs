//! Bodies of points from clients (the write API): a line-protocol body, or points the handler
//! decoded from JSON or protobuf. Here the stage also answers what only a client asks for:
//! `strict` (any checker warning refuses the body), `loose` (bad lines are skipped and listed),
//! `dry` (nothing is fed), echo (the accepted points are returned).
//!
//! [`plan`] decides how a body goes through the stage. When every output of the category takes
//! one encoding, and the request wants neither an echo nor a dry run, line protocol goes
//! straight from the body into that encoding: each line is decoded borrowed, checked by a
//! read-only scan, and encoded with the global tags it lacks — no owned point, no allocation
//! per point. A line becomes an owned point only when the checker must fix it, its time must
//! be corrected, or a script must see it (those take the stage's owned path).
//!
//! A body with fewer than [`SINGLE_PASS_LINES`] lines is handled in one pass before anything is
//! fed (a bad line in strict mode refuses it all). A larger one is read twice, so that it never
//! sits in memory as points: the first pass finds bad lines (and warnings in strict mode), the
//! second feeds the points in chunks of [`FEED_CHUNK`].

use super::scripts::{Selected, lookup_name};
use super::{FeedError, FeedOptions, Ingest, Origin, Rules, ScriptChoice, WhenFull};
use crate::filter::RuleSet;
use crate::io::{EncodedPoints, Encoding, Feed};
use crate::point::lp::{Lines, PointRef};
use crate::point::{
    Category, CheckCounts, Checker, Extended, LineError, Point, PointView, Precision, Warn,
};
use crate::stats::DropReason;

/// Points are fed in chunks of this size, so a large body never holds all its points at once.
pub const FEED_CHUNK: usize = 1000;

/// Bodies with fewer lines than this are decoded in one pass (their points fit in a few MB).
pub const SINGLE_PASS_LINES: usize = 4 * FEED_CHUNK;

/// What a client's write asks for.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    pub category: Category,
    /// `source`: points of that lookup name go through `<source>.p` (the original's map
    /// entry; other points follow the category's rules).
    pub source: Option<&'a str>,
    pub precision: Precision,
    pub strict: bool,
    pub loose: bool,
    pub dry: bool,
    pub echo: bool,
    /// Add the global host tags the points lack (off with `ignore_global_host_tags`).
    pub global_tags: bool,
}

/// A client's body.
pub enum WriteBody<'a> {
    /// Line protocol, as received (decompressed).
    Lines(&'a [u8]),
    /// Points decoded by the handler (JSON, protobuf); an empty vector is "no points".
    Points(Vec<Point>),
}

/// A line skipped in loose mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Data a write lost while the write went on: a tag or field the category's rules dropped
/// (a string field of a metric point), or a whole point left without a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The point's line in a line-protocol body, or its place (1-based) in a JSON or protobuf
    /// body.
    pub line: usize,
    pub measurement: String,
    /// The original's warning type (`invalid_field_value_type`, ...), or `no_field` for a point
    /// dropped whole.
    pub reason: &'static str,
    pub message: String,
}

/// The outcome for the client.
#[derive(Debug, Default)]
pub struct Accepted {
    /// Points accepted.
    pub count: usize,
    /// The accepted points, only when the request asked for an echo.
    pub echo: Vec<Point>,
    /// Bad lines skipped in loose mode (the first 100).
    pub rejected: Vec<Rejected>,
    /// What the point rules dropped (the first 100).
    pub lost: Vec<Lost>,
    /// Points dropped whole for want of a field, and tags or fields dropped, in all.
    pub lost_points: usize,
    pub lost_values: usize,
}

impl Accepted {
    /// Whether the rules dropped anything: the answer then says what (a partial write).
    pub fn is_partial(&self) -> bool {
        self.lost_points > 0 || self.lost_values > 0
    }

    /// One sentence for a partial write: how much was dropped, and the first loss.
    pub fn partial_message(&self) -> String {
        let mut m = format!(
            "partial write: the point rules dropped {} point(s) and {} tag(s) or field(s)",
            self.lost_points, self.lost_values
        );
        if let Some(l) = self.lost.first() {
            m.push_str(&format!(
                "; first at line {} (`{}`): {}: {}",
                l.line, l.measurement, l.reason, l.message
            ));
        }
        m
    }
}

/// How many losses an answer lists.
const LOST_LISTED: usize = 100;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the body is empty")]
    EmptyBody,
    #[error(
        "{message} (line {line}, column {column}); body ({body_len} bytes) refused: add `loose` to keep the good lines"
    )]
    BadLine {
        message: String,
        line: usize,
        column: usize,
        body_len: usize,
    },
    /// Strict mode: the first checker warning.
    #[error("{0}")]
    Warning(String),
    #[error("{0}")]
    NoPoints(&'static str),
    #[error("the agent is stopping")]
    Closed,
    /// The journal is at its cap (DataWay has been away long enough to fill it): come back later.
    #[error("{0}")]
    Busy(String),
}

impl From<FeedError> for WriteError {
    fn from(e: FeedError) -> WriteError {
        match e {
            FeedError::Closed => WriteError::Closed,
            FeedError::Full(m) => WriteError::Busy(m),
        }
    }
}

/// How a body goes through the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Lines encoded straight into the outputs' one encoding.
    Encoded(Encoding),
    /// Owned points through the stage.
    Owned,
}

/// The one decision of how a write goes through the stage.
pub fn plan(ingest: &Ingest, req: &WriteRequest<'_>, body: &WriteBody<'_>) -> Plan {
    match body {
        WriteBody::Lines(_) if !req.dry && !req.echo => ingest
            .inner
            .queues
            .encoding(req.category)
            .map_or(Plan::Owned, Plan::Encoded),
        _ => Plan::Owned,
    }
}

impl Ingest {
    /// Checks and feeds a client's body through the stage (see the module docs).
    pub async fn write(
        &self,
        origin: &Origin,
        req: &WriteRequest<'_>,
        body: WriteBody<'_>,
    ) -> Result<Accepted, WriteError> {
        if let WriteBody::Lines(b) = &body
            && b.iter().all(|c| c.is_ascii_whitespace())
        {
            return Err(WriteError::EmptyBody);
        }
        let plan = plan(self, req, &body);
        let mut w = Writer::new(self, origin, req);
        let mut rejected = Vec::new();
        match (body, plan) {
            (WriteBody::Points(points), _) => {
                if points.is_empty() {
                    return Err(WriteError::NoPoints("no points in the body"));
                }
                let mut checked = Vec::with_capacity(points.len());
                for (i, mut p) in points.into_iter().enumerate() {
                    if p.time == 0 {
                        p.time = w.now;
                    }
                    if w.check(&mut p, i + 1)? {
                        checked.push(p);
                    }
                }
                for p in checked {
                    w.push(p).await?;
                }
            }
            (WriteBody::Lines(b), Plan::Encoded(enc)) => {
                write_encoded(&mut w, b, enc, &mut rejected).await?
            }
            (WriteBody::Lines(b), Plan::Owned) => write_owned(&mut w, b, &mut rejected).await?,
        }
        w.flush().await?;
        self.inner.stats.record_check(&w.counts);
        let acc = Accepted {
            count: w.count,
            echo: w.echo,
            rejected,
            lost: w.lost,
            lost_points: w.lost_points,
            lost_values: w.lost_values,
        };
        if acc.is_partial() {
            log_partial(origin.name(), &acc);
        }
        Ok(acc)
    }
}

/// Checks a client's points and feeds them in bounded chunks.
struct Writer<'s> {
    ingest: &'s Ingest,
    origin: &'s Origin,
    req: &'s WriteRequest<'s>,
    checker: &'s Checker,
    opts: FeedOptions<'s>,
    now: i64,
    counts: CheckCounts,
    warns: Vec<Warn>,
    chunk: Vec<Point>,
    echo: Vec<Point>,
    count: usize,
    /// Feed nothing before the end of the body.
    hold: bool,
    lost: Vec<Lost>,
    lost_points: usize,
    lost_values: usize,
}

impl<'s> Writer<'s> {
    fn new(ingest: &'s Ingest, origin: &'s Origin, req: &'s WriteRequest<'s>) -> Writer<'s> {
        let script = match req.source {
            Some(s) => ScriptChoice::Map(s, s),
            None => ScriptChoice::Auto,
        };
        Writer {
            ingest,
            origin,
            req,
            checker: ingest.checker(Rules::WriteApi, req.category),
            opts: FeedOptions {
                global_tags: req.global_tags,
                script,
                rules: Rules::WriteApi,
                prechecked: true,
                durable: Some(WhenFull::Refuse),
                ..FeedOptions::default()
            },
            now: crate::clock::now_ns(),
            counts: CheckCounts::default(),
            warns: Vec::new(),
            chunk: Vec::new(),
            echo: Vec::new(),
            count: 0,
            hold: false,
            lost: Vec::new(),
            lost_points: 0,
            lost_values: 0,
        }
    }

    fn note_lost(&mut self, line: usize, p: &Point, reason: &'static str, message: String) {
        if self.lost.len() < LOST_LISTED {
            self.lost.push(Lost {
                line,
                measurement: p.name.clone(),
                reason,
                message,
            });
        }
    }

    fn drop_invalid(&self, n: usize, detail: &str) {
        self.ingest.dropped(
            self.origin.stats.as_ref(),
            self.req.category,
            DropReason::Invalid,
            n,
            Some(detail),
        );
    }

    /// Checks one point (at `line` of the body); in strict mode the first warning is the
    /// error. Otherwise what the rules drop is noted for the answer, and a point left without
    /// a field is dropped (and counted): `Ok(false)`.
    fn check(&mut self, p: &mut Point, line: usize) -> Result<bool, WriteError> {
        self.warns.clear();
        self.checker.check_into(p, &mut self.warns);
        self.counts.record(&self.warns);
        if self.req.strict
            && let Some(w) = self.warns.first()
        {
            let msg = w.to_string();
            self.drop_invalid(1, &msg);
            return Err(WriteError::Warning(msg));
        }
        let warns = std::mem::take(&mut self.warns);
        for w in warns
            .iter()
            .filter(|w| w.action == crate::point::check::Action::Dropped)
        {
            self.lost_values += 1;
            self.note_lost(line, p, w.kind.as_str(), w.message.clone());
        }
        self.warns = warns;
        if p.fields.is_empty() {
            self.lost_points += 1;
            let why = "no field left after the point rules".to_string();
            self.note_lost(line, p, "no_field", why.clone());
            self.ingest.dropped(
                self.origin.stats.as_ref(),
                self.req.category,
                DropReason::NoField,
                1,
                Some(&why),
            );
            return Ok(false);
        }
        Ok(true)
    }

    /// Takes one checked point: into the echo, and into the chunk fed through the stage.
    async fn push(&mut self, p: Point) -> Result<(), WriteError> {
        self.count += 1;
        if self.req.echo {
            self.echo.push(p.clone());
        }
        if !self.req.dry {
            if self.chunk.capacity() == 0 {
                self.chunk.reserve_exact(FEED_CHUNK);
            }
            self.chunk.push(p);
            if self.chunk.len() >= FEED_CHUNK && !self.hold {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), WriteError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let pts = std::mem::take(&mut self.chunk);
        self.ingest
            .feed(self.origin, self.req.category, pts, &self.opts)
            .await
            .map_err(WriteError::from)?;
        self.admitted();
        Ok(())
    }

    /// Part of the body is queued: the rest waits for room in the journal rather than being
    /// refused, so the body is queued whole or not at all.
    fn admitted(&mut self) {
        if self.opts.durable == Some(WhenFull::Refuse) {
            self.opts.durable = Some(WhenFull::Wait);
        }
    }

    /// Before a body fed in several chunks is queued: refused whole (429) when the journal
    /// lacks room for all of it (about its size once encoded).
    fn admit(&self, body_len: usize) -> Result<(), WriteError> {
        if self.opts.durable != Some(WhenFull::Refuse) || self.req.dry {
            return Ok(());
        }
        let Some(journal) = self.ingest.inner.queues.journal(self.req.category) else {
            return Ok(());
        };
        let need = body_len as u64 * 3 / 2;
        let room = journal.room();
        if need > room {
            return Err(WriteError::Busy(format!(
                "the {} journal has room for {room} bytes, not the {need} this body needs: try again later",
                self.req.category
            )));
        }
        Ok(())
    }

    /// The answer to a body with a bad line in strict mode: every line is counted as dropped.
    fn refuse_body(&self, body: &[u8], e: &LineError) -> WriteError {
        let total = line_count(body);
        let message = e.original_message(body);
        self.drop_invalid(total, &message);
        WriteError::BadLine {
            message,
            line: e.line,
            column: e.column,
            body_len: body.len(),
        }
    }

    /// Loose mode: counts the bad lines and lists the first 100 for the answer.
    fn note_rejected(&self, body: &[u8], errors: &[LineError], rejected: &mut Vec<Rejected>) {
        let Some(first) = errors.first() else {
            return;
        };
        self.drop_invalid(errors.len(), &first.original_message(body));
        for e in errors.iter().take(100) {
            rejected.push(Rejected {
                line: e.line,
                column: e.column,
                message: e.original_message(body),
            });
        }
    }

    /// A large body's first pass: finds bad lines (refusing the body for one unless `loose`)
    /// and, with `strict`, warnings, before anything is fed. Returns the number of good lines.
    fn first_pass(
        &mut self,
        body: &[u8],
        rejected: &mut Vec<Rejected>,
    ) -> Result<usize, WriteError> {
        let cat = self.req.category;
        let mut lines = Lines::new(body, self.req.precision, self.now);
        let mut pt = PointRef::default();
        let mut errors = Vec::new();
        let mut good = 0usize;
        while let Some(r) = lines.next_into(&mut pt) {
            match r {
                Ok(()) => {
                    good += 1;
                    if self.req.strict && !self.checker.is_clean_distinct(&pt) {
                        let mut p = pt.to_owned_point(cat);
                        self.check(&mut p, lines.line())?;
                    }
                }
                Err(e) if !self.req.loose => return Err(self.refuse_body(body, &e)),
                Err(e) => errors.push(e),
            }
        }
        self.note_rejected(body, &errors, rejected);
        Ok(good)
    }
}

/// Lines of `body` (a last line without its newline counts; the empty text after a final
/// newline does not).
fn line_count(body: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', body).count() + usize::from(body.last().is_some_and(|&b| b != b'\n'))
}

/// Logs a partial write, at most once every 10 s (with the writes since the last line).
fn log_partial(origin: &str, acc: &Accepted) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
    static SINCE: AtomicU64 = AtomicU64::new(0);
    let writes = SINCE.fetch_add(1, Relaxed) + 1;
    if LOGGED.ready(10) {
        SINCE.store(0, Relaxed);
        tracing::warn!(
            origin,
            writes,
            "{} (at most one line every 10 s; the counts are in `datakit monitor`)",
            acc.partial_message()
        );
    }
}

fn no_points() -> WriteError {
    WriteError::NoPoints("no valid points in the body")
}

/// Line protocol into owned points: for echoes, dry runs, and outputs that need several
/// encodings. A small body is decoded whole, then checked and fed; a large one is read twice.
async fn write_owned(
    w: &mut Writer<'_>,
    body: &[u8],
    rejected: &mut Vec<Rejected>,
) -> Result<(), WriteError> {
    let cat = w.req.category;
    if memchr::memchr_iter(b'\n', body).count() < SINGLE_PASS_LINES {
        // Decoded whole first: in strict mode a bad line refuses the body before anything is
        // fed.
        let mut points = Vec::new();
        let mut errors = Vec::new();
        let mut pt = PointRef::default();
        let mut lines = Lines::new(body, w.req.precision, w.now);
        while let Some(r) = lines.next_into(&mut pt) {
            match r {
                Ok(()) => points.push((lines.line(), pt.take_point(cat))),
                Err(e) if !w.req.loose => return Err(w.refuse_body(body, &e)),
                Err(e) => errors.push(e),
            }
        }
        w.note_rejected(body, &errors, rejected);
        if points.is_empty() {
            return Err(no_points());
        }
        let mut checked = Vec::with_capacity(points.len());
        for (line, mut p) in points {
            if w.check(&mut p, line)? {
                checked.push(p);
            }
        }
        for p in checked {
            w.push(p).await?;
        }
        return Ok(());
    }
    if w.first_pass(body, rejected)? == 0 {
        return Err(no_points());
    }
    w.admit(body.len())?;
    let mut pt = PointRef::default();
    let mut lines = Lines::new(body, w.req.precision, w.now);
    while let Some(r) = lines.next_into(&mut pt) {
        if r.is_ok() {
            let mut p = pt.take_point(cat);
            if w.check(&mut p, lines.line())? {
                w.push(p).await?;
            }
        }
    }
    Ok(())
}

/// Points encoded for the outputs as the lines are read, with the stage's tags and time.
struct Encoded<'s> {
    tags: &'s [(String, String)],
    /// The category's filter rules, if any, and what they dropped.
    rules: Option<&'s RuleSet>,
    hits: super::Hits,
    global_tags: bool,
    points: EncodedPoints,
    /// Times moved to now.
    adjusted: u64,
    /// Points the encoding cannot write.
    unencodable: u64,
}

impl Encoded<'_> {
    /// Adds a line without copying it: the global tags it lacks are encoded after its own.
    fn push_borrowed(&mut self, p: &PointRef<'_>) {
        let mut extra: smallvec::SmallVec<[(&str, &str); 8]> = smallvec::SmallVec::new();
        if self.global_tags {
            for (k, v) in self.tags {
                if !p.has_key(k) {
                    extra.push((k.as_str(), v.as_str()));
                }
            }
        }
        let view = Extended {
            point: p,
            extra_tags: &extra,
            time: p.time(),
        };
        if let Some(i) = self.rules.and_then(|r| r.first_match(&view)) {
            super::note_hit(&mut self.hits, i);
            return;
        }
        if self.points.push(&view).is_err() {
            self.unencodable += 1;
        }
    }

    /// Adds an owned point, tagged and timed as the stage does.
    fn push_owned(&mut self, ingest: &Ingest, mut p: Point, now: i64) {
        if self.global_tags {
            super::add_tags(&mut p, self.tags);
        }
        if let Some(i) = self.rules.and_then(|r| r.first_match(&p)) {
            super::note_hit(&mut self.hits, i);
            return;
        }
        self.adjusted += u64::from(ingest.set_time(&mut p, now));
        if self.points.push(&p).is_err() {
            self.unencodable += 1;
        }
    }
}

impl Ingest {
    /// Queues points encoded by [`write_encoded`], after the origin's and the category's counts.
    async fn send_encoded(
        &self,
        origin: &Origin,
        cat: Category,
        enc: &mut Encoded<'_>,
        room: usize,
        durable: Option<WhenFull>,
    ) -> Result<(), WriteError> {
        if enc.unencodable > 0 {
            self.dropped(
                origin.stats.as_ref(),
                cat,
                DropReason::Invalid,
                std::mem::take(&mut enc.unencodable) as usize,
                Some("the outputs' encoding cannot write the point"),
            );
        }
        if let Some(r) = enc.rules {
            self.count_filtered(origin, cat, r, &mut enc.hits);
        }
        if enc.adjusted > 0 {
            self.inner.stats.category(cat).time_adjusted.fetch_add(
                std::mem::take(&mut enc.adjusted),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        let n = enc.points.len();
        if n == 0 {
            return Ok(());
        }
        let encoding = enc.points.encoding();
        let points = std::mem::replace(&mut enc.points, EncodedPoints::new(encoding, room));
        let feed = Feed {
            encoded: Some(points),
            ..Feed::default()
        };
        self.queue(origin, cat, feed, durable).await?;
        // Counted once queued: a refused body is not the producer's feed.
        origin.stats.record_feed(cat, n, crate::clock::now_ns());
        Ok(())
    }
}

/// Line protocol straight into the outputs' encoding (see the module docs).
async fn write_encoded(
    w: &mut Writer<'_>,
    body: &[u8],
    encoding: Encoding,
    rejected: &mut Vec<Rejected>,
) -> Result<(), WriteError> {
    let cat = w.req.category;
    let lines_in_body = memchr::memchr_iter(b'\n', body).count() + 1;
    let small = lines_in_body <= SINGLE_PASS_LINES;
    // A small body is fed only once every line is read: a bad line may still refuse it all.
    w.hold = small;
    // Room for one feed of encoded points: protobuf takes up to about 1.5 times the bytes of
    // the lines (numbers in full width, keys framed).
    let room = {
        let feeds = if small {
            1
        } else {
            lines_in_body.div_ceil(FEED_CHUNK)
        };
        body.len() / feeds * 3 / 2 + 64
    };
    let filters = w.ingest.inner.stats.filters.get();
    let mut enc = Encoded {
        tags: w.ingest.tags_for(w.origin),
        rules: filters.for_category(cat),
        hits: super::Hits::new(),
        global_tags: w.req.global_tags,
        points: EncodedPoints::new(encoding, room),
        adjusted: 0,
        unencodable: 0,
    };
    if !small {
        let good = w.first_pass(body, rejected)?;
        if good == 0 {
            return Err(no_points());
        }
        w.admit(body.len())?;
    }
    let set = w.ingest.inner.scripts.current();
    let scripted = !set.is_empty(cat);
    let mut last: Option<(String, Option<Selected>)> = None;
    let mut errors = Vec::new();
    let mut pt = PointRef::default();
    let mut lines = Lines::new(body, w.req.precision, w.now);
    while let Some(r) = lines.next_into(&mut pt) {
        match r {
            Ok(()) => {
                // A point a script must see goes the stage's owned way.
                if scripted && let Some(name) = lookup_name(cat, &pt) {
                    let selected = match &last {
                        Some((n, s)) if *n == *name => s.is_some(),
                        _ => {
                            let s = set.select(cat, &name, w.opts.script);
                            let found = s.is_some();
                            last = Some((name.into_owned(), s));
                            found
                        }
                    };
                    if selected {
                        let mut p = pt.to_owned_point(cat);
                        if w.check(&mut p, lines.line())? {
                            w.push(p).await?;
                        }
                        continue;
                    }
                }
                let far = pt.time != 0 && w.ingest.needs_correction(pt.time, w.now);
                if !far && w.checker.is_clean_distinct(&pt) {
                    w.counts.points += 1;
                    enc.push_borrowed(&pt);
                } else {
                    let mut p = pt.to_owned_point(cat);
                    if !w.check(&mut p, lines.line())? {
                        continue;
                    }
                    enc.push_owned(w.ingest, p, w.now);
                }
                w.count += 1;
                if !small && enc.points.len() >= FEED_CHUNK {
                    w.ingest
                        .send_encoded(w.origin, cat, &mut enc, room, w.opts.durable)
                        .await?;
                    w.admitted();
                }
            }
            // A large body's bad lines were found by the first pass.
            Err(_) if !small => {}
            Err(e) if !w.req.loose => return Err(w.refuse_body(body, &e)),
            Err(e) => errors.push(e),
        }
    }
    if small {
        w.note_rejected(body, &errors, rejected);
        if w.count == 0 {
            return Err(no_points());
        }
    }
    w.ingest
        .send_encoded(w.origin, cat, &mut enc, room, w.opts.durable)
        .await
}
