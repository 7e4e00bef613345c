//! The workers: OS threads that encode each batch once per distinct (encoding, gzip) of the
//! outputs that take its category, deliver the bodies, then acknowledge the feeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::batcher::Batch;
use super::body::{BodyBuilder, Encoding};
use super::output::Output;
use crate::point::Category;
use crate::stats::{DropReason, NamedOrigin, PointsDropped, Stats};

/// What every worker shares.
pub(super) struct Shared {
    pub(super) outputs: Vec<Arc<Output>>,
    pub(super) stats: Arc<Stats>,
    /// The origin of drops made while encoding (points too large, or that the encoding cannot
    /// write).
    pub(super) origin: Arc<NamedOrigin>,
    pub(super) max_raw: usize,
    pub(super) shutting_down: Arc<AtomicBool>,
}

impl Shared {
    fn drop_points(&self, category: Category, reason: DropReason, count: u64) {
        self.stats.points_dropped(PointsDropped {
            category,
            reason,
            count,
            origin: self.origin.as_ref(),
            detail: None,
        });
    }

    /// Encodes `batch`, delivers it to every output that takes `category`, then acknowledges
    /// its feeds.
    pub(super) fn process(&self, category: Category, batch: Batch) {
        let n = batch.count();
        self.stats
            .category(category)
            .queued
            .fetch_sub(n as i64, Relaxed);
        let created = crate::clock::now_secs() as u32;
        let targets: Vec<&Arc<Output>> = self
            .outputs
            .iter()
            .filter(|o| o.accepts(category))
            .collect();
        let mut done: Vec<(Encoding, Option<u32>)> = Vec::new();
        for o in &targets {
            let key = (o.encoding(), o.gzip());
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            let enc = BodyBuilder {
                category,
                encoding: key.0,
                max_raw: self.max_raw,
                gzip: key.1,
                created,
            }
            .build_with(&batch.points, &batch.encoded);
            if enc.too_large > 0 {
                self.drop_points(category, DropReason::TooLarge, enc.too_large);
            }
            if enc.unencodable > 0 {
                self.drop_points(category, DropReason::Invalid, enc.unencodable);
            }
            for o in targets.iter().filter(|o| (o.encoding(), o.gzip()) == key) {
                for b in &enc.bodies {
                    o.deliver(b.clone(), &self.shutting_down);
                }
            }
        }
        for a in batch.acks {
            let _ = a.send(());
        }
        for m in batch.marks {
            m.done();
        }
    }
}
