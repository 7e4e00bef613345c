//! The entry to IO: one bounded queue per category. The ingest stage sends a [`Feed`] (owned
//! points, points already encoded for the outputs, an optional acknowledgement) into the
//! queue of its category.
//!
//! Two ways in:
//! - [`Queues::send`]: waits while the queue is full (backpressure), so memory stays bounded
//!   whatever the producers do. Inputs whose data can be read again (files, `/proc`) use it.
//! - [`Queues::send_durable`]: the feed is first appended to the category's write-ahead journal
//!   ([`super::journal`]), so it survives a crash of the process; then it goes on in memory if
//!   the queue has room, or waits in the journal and is read back in order — the producer gets
//!   its answer at once either way. Only a full journal pushes back
//!   ([`DurableError::Full`]). The write API and receivers use it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use super::body::{EncodedPoints, Encoding};
use super::journal::{Journal, JournalError, Mark, RecordParts, Spilled};
use crate::point::{Category, Point};
use crate::stats::Stats;

/// Feeds waiting in one category's queue before senders wait (or, for durable feeds, before
/// they wait in the journal). Feeds are small (an input's collection, or a chunk of at most
/// 1 000 points), so this bounds memory.
pub(super) const FEED_QUEUE: usize = 16;

/// Sending failed: IO is shutting down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("IO is shut down")]
pub struct Closed;

/// What a durable feed does when the journal of its category is at its cap (the outputs have
/// not kept up for long enough to fill `[dataway.wal] max_capacity_gb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Refused at once ([`DurableError::Full`], nothing taken): the producer tells its client
    /// to come back (the write API answers 429 with `Retry-After`).
    Refuse,
    /// Waits for room (a log tailer: the file keeps the lines meanwhile).
    Wait,
    /// Refused (the producer drops and counts the points) unless the category is in
    /// `[dataway.wal] no_drop_categories`: then it waits.
    #[default]
    Shed,
}

/// How long a feed waiting for room in a full journal sleeps between tries.
const FULL_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// What became of a feed offered to the journal.
enum Journaled {
    /// In the journal (and handed on, or waiting there).
    Taken,
    /// To be sent the ordinary way.
    Memory(Feed),
    /// The journal is full: given back.
    Full(Feed, JournalError),
}

/// Logs (at most once a minute per category) that a journal cannot be written.
fn journal_failed(cat: Category, e: &JournalError) {
    static LAST: [crate::clock::Throttle; Category::ALL.len()] =
        [const { crate::clock::Throttle::new() }; Category::ALL.len()];
    if LAST[cat.index()].ready(60) {
        tracing::error!(category = %cat, error = %e, "the journal cannot be written: points are kept in memory only until delivered");
    }
}

/// Why a durable feed was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// The journal is at its cap: try again later.
    #[error(transparent)]
    Full(JournalError),
    #[error(transparent)]
    Closed(#[from] Closed),
}

/// Fires when the fed points are delivered, queued on disk, or dropped and counted.
pub type Ack = oneshot::Receiver<()>;

/// What goes into a category's queue: points in either form, and who to tell once they are
/// durable.
#[derive(Debug, Default)]
pub struct Feed {
    pub points: Vec<Point>,
    pub encoded: Option<EncodedPoints>,
    pub ack: Option<oneshot::Sender<()>>,
    /// The journal records these points are (told when IO is done with them).
    pub mark: Option<Mark>,
}

impl Feed {
    /// Owned points, with an optional acknowledgement.
    pub fn owned(points: Vec<Point>, ack: Option<oneshot::Sender<()>>) -> Feed {
        Feed {
            points,
            ack,
            ..Feed::default()
        }
    }

    /// Points in both forms.
    pub fn len(&self) -> usize {
        self.points.len() + self.encoded.as_ref().map_or(0, EncodedPoints::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The journal record of these points: their encoding when they are encoded, else
    /// protobuf (the encoding that keeps every value as it is).
    fn record(&self) -> Vec<u8> {
        let mut e = match &self.encoded {
            Some(e) if self.points.is_empty() => return e.to_record(),
            // Both forms (not produced today): one record in the encoded form.
            Some(e) => EncodedPoints::from_record(&e.to_record())
                .unwrap_or_else(|_| EncodedPoints::new(e.encoding(), 0)),
            None => EncodedPoints::new(Encoding::Protobuf, self.points.len() * 256),
        };
        for p in &self.points {
            let _ = e.push(p);
        }
        e.to_record()
    }
}

/// A feed whose points are all encoded ([`Queues::seal`]): its journal record is those
/// points, written from the feed's own buffer.
struct Sealed(Feed);

impl RecordParts for Sealed {
    fn record_head(&self, out: &mut Vec<u8>) {
        match &self.0.encoded {
            Some(e) => e.record_head(out),
            None => EncodedPoints::new(Encoding::Protobuf, 0).record_head(out),
        }
    }
    fn record_body(&self) -> &[u8] {
        self.0.encoded.as_ref().map_or(&[], EncodedPoints::as_bytes)
    }
}

struct Inner {
    txs: Vec<mpsc::Sender<Feed>>,
    stats: Arc<Stats>,
    /// Per category: the encoding every output that takes it uses, when they agree.
    encodings: Vec<Option<Encoding>>,
    /// Per category: its journal (none: durable feeds are sent as ordinary ones).
    journals: Vec<Option<Arc<Journal>>>,
    /// Durable feeds may go on in memory (`[dataway.wal] mem_cap` ≥ 0).
    fast_path: bool,
    /// Per category: waits instead of dropping at the journal's cap.
    no_drop: Vec<bool>,
}

/// The senders into IO's category queues. Cheap to clone.
#[derive(Clone)]
pub struct Queues {
    inner: Arc<Inner>,
}

impl Queues {
    pub(super) fn new(
        txs: Vec<mpsc::Sender<Feed>>,
        stats: Arc<Stats>,
        encodings: Vec<Option<Encoding>>,
        journals: Vec<Option<Arc<Journal>>>,
        fast_path: bool,
        no_drop: Vec<bool>,
    ) -> Queues {
        Queues {
            inner: Arc::new(Inner {
                txs,
                stats,
                encodings,
                journals,
                fast_path,
                no_drop,
            }),
        }
    }

    /// Queues nothing reads (sends fail with [`Closed`]), no journal: for measuring what
    /// happens before points are queued.
    #[doc(hidden)]
    pub fn detached(stats: Arc<Stats>, encoding: Option<Encoding>) -> Queues {
        let txs = Category::ALL
            .iter()
            .map(|_| mpsc::channel::<Feed>(1).0)
            .collect();
        let n = Category::ALL.len();
        Queues::new(
            txs,
            stats,
            vec![encoding; n],
            vec![None; n],
            true,
            vec![false; n],
        )
    }

    /// The encoding every output of `cat` takes, when they agree on one: points of `cat` may
    /// then be encoded before they are queued ([`Feed::encoded`]).
    pub fn encoding(&self, cat: Category) -> Option<Encoding> {
        self.inner.encodings[cat.index()]
    }

    /// The journal of `cat`, when durable feeds are journaled.
    pub fn journal(&self, cat: Category) -> Option<&Arc<Journal>> {
        self.inner.journals[cat.index()].as_ref()
    }

    pub(super) fn record(&self, cat: Category, n: usize) {
        let c = self.inner.stats.category(cat);
        c.feeds.fetch_add(1, Relaxed);
        c.points_in.fetch_add(n as u64, Relaxed);
        c.queued.fetch_add(n as i64, Relaxed);
    }

    fn unrecord(&self, cat: Category, n: usize) {
        let c = self.inner.stats.category(cat);
        c.points_in.fetch_sub(n as u64, Relaxed);
        c.queued.fetch_sub(n as i64, Relaxed);
    }

    /// Queues `feed` for `cat`; waits while the queue is full. On [`Closed`] the points were
    /// not taken (the caller reports the drop).
    pub async fn send(&self, cat: Category, feed: Feed) -> Result<(), Closed> {
        let n = feed.len();
        self.record(cat, n);
        self.inner.txs[cat.index()].send(feed).await.map_err(|_| {
            self.unrecord(cat, n);
            Closed
        })
    }

    /// [`send`](Queues::send) from a blocking thread (never from an async task).
    pub fn send_blocking(&self, cat: Category, feed: Feed) -> Result<(), Closed> {
        let n = feed.len();
        self.record(cat, n);
        self.inner.txs[cat.index()]
            .blocking_send(feed)
            .map_err(|_| {
                self.unrecord(cat, n);
                Closed
            })
    }

    /// Takes `feed` for `cat` once it is in the journal (see the module docs); never waits for
    /// room in memory. Its acknowledgement fires when it is in the journal. Without a journal
    /// (durability off), the same as [`send`](Queues::send). At the journal's cap, `when_full`
    /// says what happens.
    pub async fn send_durable(
        &self,
        cat: Category,
        feed: Feed,
        when_full: WhenFull,
    ) -> Result<(), DurableError> {
        let mut feed = feed;
        loop {
            match self.journal_feed(cat, feed) {
                Journaled::Taken => return Ok(()),
                Journaled::Memory(f) => return Ok(self.send(cat, f).await?),
                Journaled::Full(f, e) => {
                    feed = self.full(cat, f, e, when_full)?;
                    tokio::time::sleep(FULL_RETRY).await;
                }
            }
        }
    }

    /// [`send_durable`](Queues::send_durable) from a blocking thread.
    pub fn send_durable_blocking(
        &self,
        cat: Category,
        feed: Feed,
        when_full: WhenFull,
    ) -> Result<(), DurableError> {
        let mut feed = feed;
        loop {
            match self.journal_feed(cat, feed) {
                Journaled::Taken => return Ok(()),
                Journaled::Memory(f) => return Ok(self.send_blocking(cat, f)?),
                Journaled::Full(f, e) => {
                    feed = self.full(cat, f, e, when_full)?;
                    std::thread::sleep(FULL_RETRY);
                }
            }
        }
    }

    /// A feed the journal of `cat` had no room for: given back to wait and try again, or the
    /// error to answer.
    fn full(
        &self,
        cat: Category,
        feed: Feed,
        e: JournalError,
        when_full: WhenFull,
    ) -> Result<Feed, DurableError> {
        let waits = match when_full {
            WhenFull::Refuse => false,
            WhenFull::Wait => true,
            WhenFull::Shed => self.inner.no_drop[cat.index()],
        };
        if !waits {
            return Err(DurableError::Full(e));
        }
        if self.inner.txs[cat.index()].is_closed() {
            return Err(DurableError::Closed(Closed));
        }
        Ok(feed)
    }

    /// Whether `cat` waits rather than drops at its journal's cap (`no_drop_categories`).
    pub fn no_drop(&self, cat: Category) -> bool {
        self.inner.no_drop[cat.index()]
    }

    /// Appends `feed` to the journal of `cat` and hands it on in memory when there is room.
    /// Gives it back to be sent the ordinary way when `cat` has no journal, or when the journal
    /// cannot be written (logged: the points are then kept in memory only); gives it back with
    /// the error when the journal is full.
    fn journal_feed(&self, cat: Category, feed: Feed) -> Journaled {
        let Some(journal) = self.journal(cat).cloned() else {
            return Journaled::Memory(feed);
        };
        let mut feed = feed;
        let record = self.seal(cat, &mut feed);
        let n = feed.len();
        let ack = feed.ack.take();
        let tx = &self.inner.txs[cat.index()];
        let fast = self.inner.fast_path;
        let hand = |mark: Mark, mut f: Feed| {
            if !fast {
                return Some(mark);
            }
            f.mark = Some(mark);
            match tx.try_send(f) {
                Ok(()) => None,
                // It waits in the journal; the spill reader reads it back.
                Err(TrySendError::Full(f) | TrySendError::Closed(f)) => f.mark,
            }
        };
        let appended = match record {
            // The record is the feed's encoded points: written from where they are.
            None => journal
                .append_item(Sealed(feed), |mark, Sealed(f)| hand(mark, f))
                .map_err(|(Sealed(f), e)| (f, e)),
            Some(record) => {
                let mut pending = Some(feed);
                journal
                    .append(&record, |mark| match pending.take() {
                        Some(f) => hand(mark, f),
                        None => Some(mark),
                    })
                    .map_err(|e| (pending.unwrap_or_default(), e))
            }
        };
        match appended {
            Ok(()) => {
                self.record(cat, n);
                if let Some(a) = ack {
                    let _ = a.send(());
                }
                Journaled::Taken
            }
            Err((mut f, e)) => {
                f.ack = ack;
                if let JournalError::Full { .. } = e {
                    return Journaled::Full(f, e);
                }
                journal_failed(cat, &e);
                Journaled::Memory(f)
            }
        }
    }

    /// Makes `feed` ready for the journal. Owned points are encoded once, in the outputs'
    /// encoding when the category has one: the feed then goes on encoded (the batcher does
    /// not encode them again) and its record is its encoded points (`None`: written from the
    /// feed). Otherwise the record, in protobuf (which keeps every value as it is).
    fn seal(&self, cat: Category, feed: &mut Feed) -> Option<Vec<u8>> {
        if feed.points.is_empty() {
            return match &feed.encoded {
                Some(_) => None,
                None => Some(EncodedPoints::new(Encoding::Protobuf, 0).to_record()),
            };
        }
        if feed.encoded.is_none()
            && let Some(enc) = self.encoding(cat)
        {
            let mut e = EncodedPoints::new(enc, feed.points.len() * 256);
            let mut ok = true;
            for (i, p) in feed.points.iter().enumerate() {
                if e.push(p).is_err() {
                    ok = false;
                    break;
                }
                if i == 0 {
                    // Room for the rest at about the first point's size.
                    let first = e.as_bytes().len();
                    e.reserve((feed.points.len() - 1) * (first + first / 4));
                }
            }
            if ok {
                feed.points = Vec::new();
                feed.encoded = Some(e);
                return None;
            }
            // A point the outputs cannot encode: the batcher counts it; the record keeps all.
        }
        Some(feed.record())
    }

    /// A record read back from the journal of `cat`, as a feed for the queue: encoded when the
    /// category's outputs take the record's encoding, else decoded into owned points.
    pub(super) fn spilled_feed(&self, cat: Category, s: Spilled) -> Option<Feed> {
        let points = match EncodedPoints::from_record(&s.payload) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(category = %cat, error = %e, "journal record skipped");
                s.mark.done();
                return None;
            }
        };
        if self.encoding(cat) == Some(points.encoding()) {
            return Some(Feed {
                encoded: Some(points),
                mark: Some(s.mark),
                ..Feed::default()
            });
        }
        let owned = match points.encoding() {
            Encoding::Protobuf => {
                crate::point::pb::decode_points(points.as_bytes(), cat).map_err(|e| e.to_string())
            }
            Encoding::LineProtocol => crate::point::lp::decode(
                points.as_bytes(),
                &crate::point::lp::DecodeOptions {
                    category: cat,
                    ..Default::default()
                },
            )
            .map(|d| d.points)
            .map_err(|e| e.to_string()),
        };
        match owned {
            Ok(points) => Some(Feed {
                points,
                mark: Some(s.mark),
                ..Feed::default()
            }),
            Err(e) => {
                tracing::error!(category = %cat, error = %e, "journal record skipped");
                s.mark.done();
                None
            }
        }
    }

    /// The sender of `cat`'s queue (for the spill reader).
    pub(super) fn tx(&self, cat: Category) -> &mpsc::Sender<Feed> {
        &self.inner.txs[cat.index()]
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }
}
