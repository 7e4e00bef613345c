//! IO: from queued points to delivered bodies.
//!
//! ```text
//! Queues::send ──> per-category bounded queue ──> batcher (> max_cache_count | flush_interval)
//!    ──> worker threads: encode (line protocol | protobuf), gzip, split at max_raw_body_size
//!    ──> Output::deliver: send with retries ── failure ──> disk queue ──> replay in order
//! ```
//!
//! IO takes points from the ingest stage only (which has already run scripts, checked the
//! points and added tags and time). Sending waits when a queue is full (backpressure), so
//! memory stays bounded. A feed can carry an acknowledgement that fires once its points are
//! delivered, queued on disk, or dropped and counted — the basis of at-least-once sources such
//! as the log tailer. When every output of a category takes one encoding ([`Queues::encoding`]),
//! points may arrive already encoded ([`body::EncodedPoints`]); bodies are then gzipped straight
//! from those bytes.
//!
//! - [`queue`]: the category queues (the entry);
//! - [`batcher`]: batches per category;
//! - [`worker`]: encoding and delivery threads;
//! - [`body`]: encodings, bodies and their on-disk form;
//! - [`output`]: retries, the disk queue, replay; [`diskq`]: the disk queue itself;
//! - [`sinks`]: DataWay, InfluxDB, files; [`outputs`]: which ones the config asks for.

mod batcher;
pub mod body;
pub mod diskq;
pub mod output;
pub mod outputs;
pub mod queue;
pub mod segment;
pub mod settings;
pub mod sinks;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use crate::point::Category;
use crate::stats::Stats;
use batcher::Batch;
use output::Output;

pub use body::{EncodedPoints, Encoding};
pub use outputs::build_outputs;
pub use queue::{Ack, Closed, Feed, Queues};
pub use settings::IoSettings;

/// Batches waiting for a worker before batchers wait.
const BATCH_QUEUE: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("output `{name}`: {message}")]
    Output { name: String, message: String },
    #[error(transparent)]
    Queue(#[from] diskq::QueueError),
}

/// The running IO module.
pub struct Io {
    queues: Queues,
    shutdown: watch::Sender<bool>,
    batchers: Vec<tokio::task::JoinHandle<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
    replayers: Vec<std::thread::JoinHandle<()>>,
    outputs: Vec<Arc<Output>>,
    stop_replay: Arc<AtomicBool>,
    shutting_down: Arc<AtomicBool>,
}

/// What the shutdown managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Everything fed was delivered, queued on disk or dropped and counted.
    pub complete: bool,
}

impl Io {
    /// Starts batchers (async tasks on the current runtime), worker threads and replay threads.
    pub fn start(settings: IoSettings, outputs: Vec<Arc<Output>>, stats: Arc<Stats>) -> Io {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (batch_tx, batch_rx) = mpsc::channel::<(Category, Batch)>(BATCH_QUEUE);
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let shutting_down = Arc::new(AtomicBool::new(false));
        let stop_replay = Arc::new(AtomicBool::new(false));

        let mut txs = Vec::with_capacity(Category::ALL.len());
        let mut batchers = Vec::with_capacity(Category::ALL.len());
        for cat in Category::ALL {
            let (tx, rx) = mpsc::channel::<Feed>(queue::FEED_QUEUE);
            txs.push(tx);
            batchers.push(tokio::spawn(batcher::batcher(
                cat,
                rx,
                batch_tx.clone(),
                settings.max_cache_count,
                settings.flush_interval,
                shutdown_rx.clone(),
            )));
        }
        drop(batch_tx);

        let shared = Arc::new(worker::Shared {
            outputs: outputs.clone(),
            stats: stats.clone(),
            origin: stats.origin("io"),
            max_raw: settings.max_raw_body_size,
            shutting_down: shutting_down.clone(),
        });
        let mut workers = Vec::new();
        for n in 0..settings.workers.max(1) {
            let rx = batch_rx.clone();
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dk-io-{n}"))
                .spawn(move || {
                    loop {
                        let batch = {
                            let mut rx = rx.lock().unwrap_or_else(|e| e.into_inner());
                            rx.blocking_recv()
                        };
                        let Some((cat, batch)) = batch else { break };
                        shared.process(cat, batch);
                        crate::idle::thread_idle();
                    }
                });
            match spawned {
                Ok(h) => workers.push(h),
                Err(e) => tracing::error!(error = %e, "cannot start an IO worker thread"),
            }
        }
        let mut replayers = Vec::new();
        for o in outputs.iter().filter(|o| o.has_queue()) {
            let o = o.clone();
            let stop = stop_replay.clone();
            match std::thread::Builder::new()
                .name(format!("dk-replay-{}", o.name))
                .spawn(move || o.replay_loop(&stop))
            {
                Ok(h) => replayers.push(h),
                Err(e) => tracing::error!(error = %e, "cannot start a replay thread"),
            }
        }
        let encodings = Category::ALL
            .iter()
            .map(|&cat| {
                let mut takers = outputs.iter().filter(|o| o.accepts(cat));
                let first = takers.next()?.encoding();
                takers.all(|o| o.encoding() == first).then_some(first)
            })
            .collect();
        Io {
            queues: Queues::new(txs, stats, encodings),
            shutdown,
            batchers,
            workers,
            replayers,
            outputs,
            stop_replay,
            shutting_down,
        }
    }

    /// The senders into the category queues (for the ingest stage).
    pub fn queues(&self) -> Queues {
        self.queues.clone()
    }

    /// Flushes every batch and delivers (or queues) it, then stops, within `deadline`.
    pub async fn shutdown(self, deadline: Instant) -> ShutdownReport {
        self.shutting_down.store(true, Relaxed);
        let _ = self.shutdown.send(true);
        let mut complete = true;
        for b in self.batchers {
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, b).await.is_err() {
                complete = false;
            }
        }
        drop(self.queues);
        if !join_threads(self.workers, deadline).await {
            complete = false;
        }
        self.stop_replay.store(true, Relaxed);
        for o in &self.outputs {
            o.wake();
        }
        join_threads(self.replayers, deadline).await;
        ShutdownReport { complete }
    }
}

/// Joins OS threads without blocking the runtime; false when `deadline` came first.
async fn join_threads(threads: Vec<std::thread::JoinHandle<()>>, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let joined = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    });
    tokio::time::timeout(left, joined).await.is_ok()
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
