//! The entry to IO: one bounded queue per category. The ingest stage sends a [`Feed`] (owned
//! points, points already encoded for the outputs, an optional acknowledgement) into the
//! queue of its category; sending waits while the queue is full (backpressure), so memory
//! stays bounded whatever the producers do.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::sync::{mpsc, oneshot};

use super::body::{EncodedPoints, Encoding};
use crate::point::{Category, Point};
use crate::stats::Stats;

/// Feeds waiting in one category's queue before senders wait. Feeds are small (an input's
/// collection, or a chunk of at most 1 000 points), so this bounds memory.
pub(super) const FEED_QUEUE: usize = 16;

/// Sending failed: IO is shutting down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("IO is shut down")]
pub struct Closed;

/// Fires when the fed points are delivered, queued on disk, or dropped and counted.
pub type Ack = oneshot::Receiver<()>;

/// What goes into a category's queue: points in either form, and who to tell once they are
/// durable.
#[derive(Debug, Default)]
pub struct Feed {
    pub points: Vec<Point>,
    pub encoded: Option<EncodedPoints>,
    pub ack: Option<oneshot::Sender<()>>,
}

impl Feed {
    /// Owned points, with an optional acknowledgement.
    pub fn owned(points: Vec<Point>, ack: Option<oneshot::Sender<()>>) -> Feed {
        Feed {
            points,
            encoded: None,
            ack,
        }
    }

    /// Points in both forms.
    pub fn len(&self) -> usize {
        self.points.len() + self.encoded.as_ref().map_or(0, EncodedPoints::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Inner {
    txs: Vec<mpsc::Sender<Feed>>,
    stats: Arc<Stats>,
    /// Per category: the encoding every output that takes it uses, when they agree.
    encodings: Vec<Option<Encoding>>,
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
    ) -> Queues {
        Queues {
            inner: Arc::new(Inner {
                txs,
                stats,
                encodings,
            }),
        }
    }

    /// Queues nothing reads (sends fail with [`Closed`]): for measuring what happens before
    /// points are queued.
    #[doc(hidden)]
    pub fn detached(stats: Arc<Stats>, encoding: Option<Encoding>) -> Queues {
        let txs = Category::ALL
            .iter()
            .map(|_| mpsc::channel::<Feed>(1).0)
            .collect();
        Queues::new(txs, stats, vec![encoding; Category::ALL.len()])
    }

    /// The encoding every output of `cat` takes, when they agree on one: points of `cat` may
    /// then be encoded before they are queued ([`Feed::encoded`]).
    pub fn encoding(&self, cat: Category) -> Option<Encoding> {
        self.inner.encodings[cat.index()]
    }

    fn record(&self, cat: Category, n: usize) {
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

    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }
}
