//! The batcher of one category: takes feeds from the category's queue and hands batches to
//! the workers once more than `max_cache_count` points wait (as the original flushes) or every
//! `flush_interval`; at shutdown it takes what is already queued and hands the rest over.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::body::EncodedPoints;
use super::journal::Mark;
use super::queue::Feed;
use crate::point::{Category, Point};

/// Points waiting in a batcher, or handed to a worker.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) points: Vec<Point>,
    pub(super) encoded: Vec<EncodedPoints>,
    pub(super) acks: Vec<oneshot::Sender<()>>,
    /// Journal records these points are: done once the batch is.
    pub(super) marks: Vec<Mark>,
}

impl Batch {
    /// Points in both forms.
    pub(super) fn count(&self) -> usize {
        self.points.len() + self.encoded.iter().map(EncodedPoints::len).sum::<usize>()
    }

    fn add(&mut self, item: Feed) {
        if self.points.is_empty() {
            self.points = item.points;
        } else {
            self.points.extend(item.points);
        }
        self.encoded.extend(item.encoded);
        self.acks.extend(item.ack);
        self.marks.extend(item.mark);
    }
}

pub(super) async fn batcher(
    cat: Category,
    mut rx: mpsc::Receiver<Feed>,
    out: mpsc::Sender<(Category, Batch)>,
    max: usize,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pending = Batch::default();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Some(item) => {
                    pending.add(item);
                    // The original flushes once *more* than `max_cache_count` points wait.
                    if pending.count() > max {
                        if out.send((cat, std::mem::take(&mut pending))).await.is_err() {
                            return;
                        }
                        tick.reset();
                    }
                }
                None => break,
            },
            _ = tick.tick() => {
                if pending.count() > 0 && out.send((cat, std::mem::take(&mut pending))).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => {
                // Take what is already queued, then stop taking more.
                rx.close();
                while let Some(item) = rx.recv().await {
                    pending.add(item);
                }
                break;
            }
        }
    }
    // Owned points in batches of at most `max`; encoded points, the acknowledgements and the
    // journal marks go with the last batch.
    let mut points = std::mem::take(&mut pending.points);
    while points.len() > max {
        let rest = points.split_off(max);
        let b = Batch {
            points: std::mem::replace(&mut points, rest),
            ..Batch::default()
        };
        if out.send((cat, b)).await.is_err() {
            return;
        }
    }
    pending.points = points;
    if pending.count() > 0 {
        let _ = out.send((cat, pending)).await;
    } else {
        for a in pending.acks {
            let _ = a.send(());
        }
        for m in pending.marks {
            m.done();
        }
    }
}
