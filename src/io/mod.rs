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
pub mod journal;
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
pub use outputs::{build_outputs, wal_root};
pub use queue::{Ack, Closed, DurableError, Feed, Queues, WhenFull};
pub use settings::{IoSettings, JournalSettings};

/// Batches waiting for a worker before batchers wait.
const BATCH_QUEUE: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("output `{name}`: {message}")]
    Output { name: String, message: String },
    #[error(transparent)]
    Queue(#[from] diskq::QueueError),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
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
    /// Journal readers (tasks) and the journal sync thread.
    spill_readers: Vec<tokio::task::JoinHandle<()>>,
    spill_ctl: watch::Sender<SpillMode>,
    journal_sync: Option<std::thread::JoinHandle<()>>,
    journals: Vec<Arc<journal::Journal>>,
}

/// What the shutdown managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Everything fed was delivered, queued on disk or dropped and counted.
    pub complete: bool,
    /// Bytes of journaled points left for the next start (not read back in time, or in
    /// batches still in flight at the deadline).
    pub journal_left: u64,
}

impl Io {
    /// Starts batchers (async tasks on the current runtime), worker threads and replay threads,
    /// and opens the journals (their unfinished records are read back into the queues).
    pub fn start(
        settings: IoSettings,
        outputs: Vec<Arc<Output>>,
        stats: Arc<Stats>,
    ) -> Result<Io, IoError> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (spill_ctl, spill_rx) = watch::channel(SpillMode::Run);
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
        let mut journals: Vec<Option<Arc<journal::Journal>>> = vec![None; Category::ALL.len()];
        let mut fast_path = true;
        if let Some(js) = &settings.journal {
            fast_path = js.fast_path;
            for cat in Category::ALL {
                let j = journal::Journal::open(
                    js.dir.join(cat.as_str()),
                    cat,
                    journal::JournalOptions {
                        capacity_bytes: js.capacity_bytes,
                        sync_each_append: js.fsync_interval.is_zero(),
                        ..journal::JournalOptions::default()
                    },
                )?;
                journals[cat.index()] = Some(j);
            }
        }
        let no_drop = Category::ALL
            .iter()
            .map(|c| settings.no_drop.contains(c))
            .collect();
        let queues = Queues::new(txs, stats, encodings, journals.clone(), fast_path, no_drop);
        let journals: Vec<Arc<journal::Journal>> = journals.into_iter().flatten().collect();
        let spill_readers = journals
            .iter()
            .map(|j| tokio::spawn(spill_reader(j.clone(), queues.clone(), spill_rx.clone())))
            .collect();
        let journal_sync = match &settings.journal {
            Some(js) if !journals.is_empty() => {
                // Syncs every fsync_interval; saves commit positions every SAVE_EVERY, so that a
                // record finished just after a save (by a finish) is not left for the sync.
                let sync_every = js.fsync_interval.max(journal::SAVE_EVERY);
                let (js_list, stop) = (journals.clone(), stop_replay.clone());
                let jstats = queues.stats().clone();
                std::thread::Builder::new()
                    .name("dk-journal".into())
                    .spawn(move || {
                        let mut next_sync = Instant::now();
                        while !stop.load(Relaxed) {
                            let sync = Instant::now() >= next_sync;
                            if sync {
                                next_sync = Instant::now() + sync_every;
                            }
                            for j in &js_list {
                                if sync {
                                    j.tick();
                                } else {
                                    j.save_commit();
                                }
                                jstats
                                    .category(j.category())
                                    .journal_bytes
                                    .store(j.pending_bytes(), Relaxed);
                            }
                            let until = Instant::now() + journal::SAVE_EVERY;
                            while Instant::now() < until && !stop.load(Relaxed) {
                                std::thread::sleep(std::time::Duration::from_millis(25));
                            }
                        }
                    })
                    .map_err(
                        |e| tracing::error!(error = %e, "cannot start the journal sync thread"),
                    )
                    .ok()
            }
            _ => None,
        };
        Ok(Io {
            queues,
            shutdown,
            batchers,
            workers,
            replayers,
            outputs,
            stop_replay,
            shutting_down,
            spill_readers,
            spill_ctl,
            journal_sync,
            journals,
        })
    }

    /// The senders into the category queues (for the ingest stage).
    pub fn queues(&self) -> Queues {
        self.queues.clone()
    }

    /// Reads back what waits in the journals, flushes every batch and delivers (or queues) it,
    /// then stops, within `deadline`. Journal records not read back by two thirds of the time
    /// left stay there for the next start.
    pub async fn shutdown(self, deadline: Instant) -> ShutdownReport {
        self.shutting_down.store(true, Relaxed);
        let _ = self.spill_ctl.send(SpillMode::Drain);
        let drain_until =
            Instant::now() + deadline.saturating_duration_since(Instant::now()) * 2 / 3;
        let mut readers = Vec::new();
        for mut r in self.spill_readers {
            let left = drain_until.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, &mut r).await.is_err() {
                readers.push(r);
            }
        }
        let _ = self.spill_ctl.send(SpillMode::Stop);
        for r in readers {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = tokio::time::timeout(left, r).await;
        }
        for o in &self.outputs {
            o.stop_waiting();
        }
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
        join_threads(self.journal_sync.into_iter().collect(), deadline).await;
        let mut journal_left = 0;
        for j in &self.journals {
            j.close();
            journal_left += j.pending_bytes();
        }
        ShutdownReport {
            complete,
            journal_left,
        }
    }
}

/// What the spill readers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpillMode {
    /// Read back whenever records wait on disk.
    Run,
    /// IO is stopping: read back what waits, then end.
    Drain,
    /// End now (what is left stays in the journal for the next start).
    Stop,
}

/// Reads back, in order, the records of `journal` that wait on disk (spilled when the queue was
/// full, or left by a crash) and queues them, waiting for room; at shutdown drains them, or
/// stops where it is (what is left stays in the journal).
async fn spill_reader(
    journal: Arc<journal::Journal>,
    queues: Queues,
    mut mode: watch::Receiver<SpillMode>,
) {
    let cat = journal.category();
    loop {
        let now = *mode.borrow_and_update();
        if now == SpillMode::Stop {
            return;
        }
        if !journal.has_spilled() {
            if now == SpillMode::Drain {
                return;
            }
            tokio::select! {
                _ = journal.spilled.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = mode.changed() => {}
            }
            continue;
        }
        let j = journal.clone();
        let read = match tokio::task::spawn_blocking(move || j.read_spilled()).await {
            Ok(r) => r,
            Err(_) => return,
        };
        let spilled = match read {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(category = %cat, error = %e, "journal: cannot read back; retrying in 1 s");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    _ = mode.changed() => {}
                }
                continue;
            }
        };
        let replayed = spilled.replayed;
        let Some(feed) = queues.spilled_feed(cat, spilled) else {
            continue;
        };
        if replayed {
            // Left by an earlier run: counted as it comes in now.
            queues.record(cat, feed.len());
        }
        queues
            .stats()
            .category(cat)
            .points_read_back
            .fetch_add(feed.len() as u64, Relaxed);
        let send = queues.tx(cat).send(feed);
        tokio::pin!(send);
        loop {
            tokio::select! {
                sent = &mut send => {
                    if sent.is_err() {
                        return;
                    }
                    break;
                }
                // Stopped: the feed (and its mark) is dropped unfinished, read back at the next
                // start.
                changed = mode.changed() => {
                    if changed.is_err() || *mode.borrow() == SpillMode::Stop {
                        return;
                    }
                }
            }
        }
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
