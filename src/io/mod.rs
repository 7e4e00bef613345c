//! IO: from collected points to delivered bodies.
//!
//! ```text
//! Feeder::feed ──> per-category bounded queue ──> batcher (max_cache_count | flush_interval)
//!    ──> worker threads: encode (line protocol | protobuf), gzip, split at max_raw_body_size
//!    ──> Output::deliver: send with retries ── failure ──> disk queue ──> replay in order
//! ```
//! Feeding waits when a queue is full (backpressure), so memory stays bounded. A feed can ask
//! for an acknowledgement that fires once its points are delivered, queued on disk, or dropped
//! and counted — the basis of at-least-once sources such as the log tailer.
//!
//! When every output of a category takes one encoding, a feeder can also hand out a
//! [`PointEncoder`]: points pushed into it (borrowed ones too, such as lines of a write request)
//! get the same global tags and time handling as fed points and are encoded at once; the batch
//! then carries their bytes, and bodies are gzipped straight from them. The write API feeds line
//! protocol this way, so its points never exist as owned [`Point`]s.

pub mod body;
pub mod diskq;
pub mod output;
pub mod sinks;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use crate::config::MainConfig;
use crate::point::{Category, Extended, Point, PointView, Value};
use crate::stats::{DropReason, Stats, unix_nanos};
use crate::workdir::Workdir;
use body::{BodyBuilder, EncodedPoints, Encoding};
use output::{DeliveryPolicy, Output};

/// Feeds waiting in one category's queue before feeders wait. Feeds are small (an input's
/// collection, or a chunk of at most 1 000 points from the write API), so this bounds memory.
const FEED_QUEUE: usize = 16;
/// Batches waiting for a worker before batchers wait.
const BATCH_QUEUE: usize = 8;
/// Two hours: the distance from now beyond which timestamps are corrected.
const TIME_CORRECTION: i64 = 2 * 3600 * 1_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("output `{name}`: {message}")]
    Output { name: String, message: String },
    #[error(transparent)]
    Queue(#[from] diskq::QueueError),
}

/// Feeding failed: IO is shutting down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("IO is shut down")]
pub struct Closed;

/// Fires when the fed points are delivered, queued on disk, or dropped and counted.
pub type Ack = oneshot::Receiver<()>;

struct FeedItem {
    points: Vec<Point>,
    encoded: Option<EncodedPoints>,
    ack: Option<oneshot::Sender<()>>,
}

impl FeedItem {
    fn owned(points: Vec<Point>, ack: Option<oneshot::Sender<()>>) -> FeedItem {
        FeedItem {
            points,
            encoded: None,
            ack,
        }
    }
}

/// Points waiting in a batcher, or handed to a worker.
#[derive(Default)]
struct Batch {
    points: Vec<Point>,
    encoded: Vec<EncodedPoints>,
    acks: Vec<oneshot::Sender<()>>,
}

impl Batch {
    /// Points in both forms.
    fn count(&self) -> usize {
        self.points.len() + self.encoded.iter().map(EncodedPoints::len).sum::<usize>()
    }

    fn add(&mut self, item: FeedItem) {
        if self.points.is_empty() {
            self.points = item.points;
        } else {
            self.points.extend(item.points);
        }
        self.encoded.extend(item.encoded);
        self.acks.extend(item.ack);
    }
}

struct FeederInner {
    txs: Vec<mpsc::Sender<FeedItem>>,
    stats: Arc<Stats>,
    global_tags: Vec<(String, String)>,
    time_correction: bool,
    /// Per category: the encoding every output that takes it uses, when they agree.
    encodings: Vec<Option<Encoding>>,
}

/// The handle inputs and the HTTP API feed points through. Cheap to clone.
#[derive(Clone)]
pub struct Feeder {
    inner: Arc<FeederInner>,
    /// Set for election-aware inputs: their points get the election tags instead of the host
    /// tags, and are refused (and counted) while this agent is not the leader.
    elected: Option<Arc<crate::election::Gate>>,
}

/// How a feed is treated.
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    /// Add the global host tags (on by default; the write API's `ignore_global_host_tags`
    /// turns it off).
    pub global_tags: bool,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions { global_tags: true }
    }
}

impl Feeder {
    /// This feeder for an election-aware input gated by `gate`.
    pub fn elected(&self, gate: Arc<crate::election::Gate>) -> Feeder {
        Feeder {
            inner: self.inner.clone(),
            elected: Some(gate),
        }
    }

    /// Whether points may be fed now (always, unless election holds them back).
    fn admit(&self, points: usize) -> bool {
        match &self.elected {
            Some(g) if !g.open() => {
                g.refuse(points);
                false
            }
            _ => true,
        }
    }

    /// The tags added to every point (global host tags, or election tags).
    fn tags(&self) -> &[(String, String)] {
        match &self.elected {
            Some(g) => g.tags(),
            None => &self.inner.global_tags[..],
        }
    }

    /// Whether a point's time must be replaced by `now` (with `__orig_time` kept).
    fn needs_correction(&self, time: i64, now: i64) -> bool {
        self.inner.time_correction && (time - now).abs() > TIME_CORRECTION
    }

    /// Category, global tags and time for one point; true when its time was corrected.
    fn prepare_point(&self, p: &mut Point, cat: Category, opts: FeedOptions, now: i64) -> bool {
        p.category = cat;
        if opts.global_tags {
            for (k, v) in self.tags() {
                p.add_tag_if_absent(k, v);
            }
        }
        if p.time == 0 {
            p.time = now;
        } else if self.needs_correction(p.time, now) {
            p.set_field("__orig_time", Value::Int(p.time));
            p.time = now;
            return true;
        }
        false
    }

    fn prepare(&self, input: &str, cat: Category, points: &mut [Point], opts: FeedOptions) {
        let now = unix_nanos();
        let mut adjusted = 0;
        for p in points.iter_mut() {
            adjusted += u64::from(self.prepare_point(p, cat, opts, now));
        }
        self.record_feed(input, cat, points.len(), adjusted);
    }

    fn record_feed(&self, input: &str, cat: Category, n: usize, adjusted: u64) {
        let cstats = self.inner.stats.category(cat);
        if adjusted > 0 {
            cstats.time_adjusted.fetch_add(adjusted, Relaxed);
        }
        self.inner.stats.input(input).record_feed(cat, n);
        cstats.feeds.fetch_add(1, Relaxed);
        cstats.points_in.fetch_add(n as u64, Relaxed);
        cstats.queued.fetch_add(n as i64, Relaxed);
    }

    /// An encoder for points of `cat`, when every output that takes `cat` uses one encoding:
    /// points pushed into it are prepared as [`feed`](Feeder::feed) prepares them and encoded
    /// at once, then fed with [`feed_encoded`](Feeder::feed_encoded).
    pub fn encoder(&self, cat: Category, opts: FeedOptions, bytes: usize) -> Option<PointEncoder> {
        let encoding = self.inner.encodings[cat.index()]?;
        Some(PointEncoder {
            feeder: self.clone(),
            category: cat,
            opts,
            now: unix_nanos(),
            points: EncodedPoints::new(encoding, bytes),
            adjusted: 0,
            unencodable: 0,
        })
    }

    /// Feeds what `enc` encoded (see [`encoder`](Feeder::encoder)); waits while the queue is
    /// full.
    pub async fn feed_encoded(&self, input: &str, enc: PointEncoder) -> Result<(), Closed> {
        let cat = enc.category;
        if enc.unencodable > 0 {
            self.inner
                .stats
                .category(cat)
                .record_drop(DropReason::Invalid, enc.unencodable);
        }
        let n = enc.points.len();
        if n == 0 || !self.admit(n) {
            return Ok(());
        }
        self.record_feed(input, cat, n, enc.adjusted);
        self.inner.txs[cat.index()]
            .send(FeedItem {
                points: Vec::new(),
                encoded: Some(enc.points),
                ack: None,
            })
            .await
            .map_err(|_| {
                self.unqueue(cat, n);
                Closed
            })
    }

    fn unqueue(&self, cat: Category, n: usize) {
        self.inner
            .stats
            .category(cat)
            .queued
            .fetch_sub(n as i64, Relaxed);
    }

    /// Feeds points of `cat` from `input`; waits while the queue is full.
    pub async fn feed(&self, input: &str, cat: Category, points: Vec<Point>) -> Result<(), Closed> {
        self.feed_with(input, cat, points, FeedOptions::default())
            .await
    }

    /// [`feed`](Feeder::feed) with options.
    pub async fn feed_with(
        &self,
        input: &str,
        cat: Category,
        mut points: Vec<Point>,
        opts: FeedOptions,
    ) -> Result<(), Closed> {
        if points.is_empty() || !self.admit(points.len()) {
            return Ok(());
        }
        self.prepare(input, cat, &mut points, opts);
        let n = points.len();
        self.inner.txs[cat.index()]
            .send(FeedItem::owned(points, None))
            .await
            .map_err(|_| {
                self.unqueue(cat, n);
                Closed
            })
    }

    /// Like [`feed`](Feeder::feed), returning an [`Ack`] that fires once the points are durable.
    pub async fn feed_acked(
        &self,
        input: &str,
        cat: Category,
        mut points: Vec<Point>,
    ) -> Result<Ack, Closed> {
        let (tx, rx) = oneshot::channel();
        if points.is_empty() || !self.admit(points.len()) {
            let _ = tx.send(());
            return Ok(rx);
        }
        self.prepare(input, cat, &mut points, FeedOptions::default());
        let n = points.len();
        self.inner.txs[cat.index()]
            .send(FeedItem::owned(points, Some(tx)))
            .await
            .map_err(|_| {
                self.unqueue(cat, n);
                Closed
            })?;
        Ok(rx)
    }

    /// [`feed`](Feeder::feed) from a blocking thread (never from an async task).
    pub fn feed_blocking(
        &self,
        input: &str,
        cat: Category,
        mut points: Vec<Point>,
    ) -> Result<(), Closed> {
        if points.is_empty() || !self.admit(points.len()) {
            return Ok(());
        }
        self.prepare(input, cat, &mut points, FeedOptions::default());
        let n = points.len();
        self.inner.txs[cat.index()]
            .blocking_send(FeedItem::owned(points, None))
            .map_err(|_| {
                self.unqueue(cat, n);
                Closed
            })
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }
}

/// Points of one category encoded as they are made (see [`Feeder::encoder`]).
pub struct PointEncoder {
    feeder: Feeder,
    category: Category,
    opts: FeedOptions,
    now: i64,
    points: EncodedPoints,
    adjusted: u64,
    unencodable: u64,
}

impl PointEncoder {
    /// Points encoded so far.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points encoded so far, leaving this encoder empty (with room for about `bytes`
    /// bytes) for more.
    pub fn take(&mut self, bytes: usize) -> PointEncoder {
        let fresh = PointEncoder {
            feeder: self.feeder.clone(),
            category: self.category,
            opts: self.opts,
            now: self.now,
            points: EncodedPoints::new(self.points.encoding(), bytes),
            adjusted: 0,
            unencodable: 0,
        };
        std::mem::replace(self, fresh)
    }

    /// Adds a point without copying it: the global tags it lacks are encoded after its own,
    /// and a missing time becomes now. (A time to correct takes the owned path.)
    pub fn push(&mut self, p: &(impl PointView + ?Sized)) {
        let time = p.time();
        if time != 0 && self.feeder.needs_correction(time, self.now) {
            self.push_point(p.to_owned_point(self.category));
            return;
        }
        let mut extra: smallvec::SmallVec<[(&str, &str); 8]> = smallvec::SmallVec::new();
        if self.opts.global_tags {
            for (k, v) in self.feeder.tags() {
                if !p.has_key(k) {
                    extra.push((k.as_str(), v.as_str()));
                }
            }
        }
        let view = Extended {
            point: p,
            extra_tags: &extra,
            time: if time == 0 { self.now } else { time },
        };
        if self.points.push(&view).is_err() {
            self.unencodable += 1;
        }
    }

    /// Adds an owned point, prepared as [`Feeder::feed`] prepares it.
    pub fn push_point(&mut self, mut p: Point) {
        let adjusted = self
            .feeder
            .prepare_point(&mut p, self.category, self.opts, self.now);
        self.adjusted += u64::from(adjusted);
        if self.points.push(&p).is_err() {
            self.unencodable += 1;
        }
    }
}

/// IO settings taken from the main config.
#[derive(Debug, Clone)]
pub struct IoSettings {
    pub max_cache_count: usize,
    pub flush_interval: Duration,
    pub workers: usize,
    pub global_tags: Vec<(String, String)>,
    pub time_correction: bool,
    pub max_raw_body_size: usize,
}

impl IoSettings {
    /// From the main config; `hostname` and `ip` replace `$datakit_hostname`/`$datakit_ip`.
    pub fn from_config(c: &MainConfig, hostname: &str, ip: &str) -> IoSettings {
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
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        IoSettings {
            max_cache_count: c.io.max_cache_count.max(1) as usize,
            flush_interval: c.io.flush_interval.get().max(Duration::from_millis(10)),
            workers: if c.io.flush_workers == 0 {
                cores.clamp(1, 4)
            } else {
                c.io.flush_workers as usize
            },
            global_tags: tags,
            time_correction: c.io.auto_timestamp_correction,
            max_raw_body_size: c.dataway.max_raw_body_size as usize,
        }
    }
}

/// The outputs the config asks for, in order: every DataWay URL, every InfluxDB, then the file
/// sink (always when nothing else is configured). Also returns a line describing each.
pub fn build_outputs(
    c: &MainConfig,
    workdir: &Workdir,
    hostname: &str,
    stats: &Arc<Stats>,
) -> Result<Vec<(Arc<Output>, String)>, IoError> {
    let mut outs = Vec::new();
    let gzip_level = c.io.gzip_level.clamp(1, 9);
    let policy = |attempts: u32| DeliveryPolicy {
        attempts,
        retry_delay: c.dataway.retry_delay.get(),
        max_backoff: c
            .dataway
            .wal
            .fail_cache_clean_interval
            .get()
            .max(Duration::from_secs(1)),
        expire_after: c.dataway.drop_expired_package_at.get(),
    };
    let queue_opts = diskq::Options {
        capacity_bytes: (c.dataway.wal.max_capacity_gb * (1u64 << 30) as f64) as u64,
        segment_bytes: 20 << 20,
        fsync: diskq::Fsync::Always,
    };
    let queue_root = if c.dataway.wal.path.is_empty() {
        workdir.cache().join("queue")
    } else {
        workdir.join_config_path(&c.dataway.wal.path)
    };
    let encoding =
        body::Encoding::from_config(&c.dataway.content_encoding).unwrap_or(Encoding::Protobuf);
    for (i, url) in c.dataway.urls.iter().enumerate() {
        let name = if c.dataway.urls.len() == 1 {
            "dataway".to_string()
        } else {
            format!("dataway-{i}")
        };
        let err = |message: String| IoError::Output {
            name: name.clone(),
            message,
        };
        let sink = sinks::dataway::Dataway::new(
            url,
            encoding,
            c.dataway.gzip.then_some(gzip_level),
            c.dataway.timeout_v2.get(),
            &c.dataway.http_proxy,
            c.dataway.tls_insecure,
            hostname,
            stats.clone(),
        )
        .map_err(err)?;
        let target = sinks::redact(url);
        let ostats = Arc::new(crate::stats::OutputStats::new(&name, "dataway", &target));
        let queue = diskq::DiskQueue::open(queue_root.join(&name), queue_opts.clone())?;
        let out = Output::new(
            &name,
            Box::new(sink),
            ostats,
            stats.clone(),
            Some(queue),
            policy(c.dataway.max_retry_count.clamp(1, 10) as u32),
        );
        outs.push((Arc::new(out), format!("DataWay {target}")));
    }
    for (i, o) in c.outputs.influxdb.iter().enumerate() {
        let name = format!("influxdb-{i}");
        let sink =
            sinks::influxdb::Influx::new(o, gzip_level).map_err(|message| IoError::Output {
                name: name.clone(),
                message,
            })?;
        let target = sinks::redact(&o.url);
        let ostats = Arc::new(crate::stats::OutputStats::new(&name, "influxdb", &target));
        let queue = diskq::DiskQueue::open(queue_root.join(&name), queue_opts.clone())?;
        let out = Output::new(
            &name,
            Box::new(sink),
            ostats,
            stats.clone(),
            Some(queue),
            policy(3),
        );
        outs.push((
            Arc::new(out),
            format!("InfluxDB {target} (API {})", o.version),
        ));
    }
    if outs.is_empty() || c.outputs.file.enable {
        let dir = workdir.join_config_path(&c.outputs.file.path);
        let sink = sinks::file::FileSink::new(
            dir.clone(),
            c.outputs.file.max_size_mb.max(1) << 20,
            c.outputs.file.max_files as u32,
        )
        .map_err(|e| IoError::Output {
            name: "file".into(),
            message: format!("{}: {e}", dir.display()),
        })?;
        let ostats = Arc::new(crate::stats::OutputStats::new(
            "file",
            "file",
            dir.display().to_string(),
        ));
        let out = Output::new(
            "file",
            Box::new(sink),
            ostats,
            stats.clone(),
            None,
            policy(1),
        );
        outs.push((Arc::new(out), format!("files in {}", dir.display())));
    }
    Ok(outs)
}

/// The running IO module.
pub struct Io {
    feeder: Feeder,
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
            let (tx, rx) = mpsc::channel::<FeedItem>(FEED_QUEUE);
            txs.push(tx);
            batchers.push(tokio::spawn(batcher(
                cat,
                rx,
                batch_tx.clone(),
                settings.max_cache_count,
                settings.flush_interval,
                shutdown_rx.clone(),
            )));
        }
        drop(batch_tx);

        let mut workers = Vec::new();
        for n in 0..settings.workers.max(1) {
            let rx = batch_rx.clone();
            let outs = outputs.clone();
            let stats = stats.clone();
            let sd = shutting_down.clone();
            let max_raw = settings.max_raw_body_size;
            let spawned = std::thread::Builder::new()
                .name(format!("dk-io-{n}"))
                .spawn(move || {
                    loop {
                        let batch = {
                            let mut rx = rx.lock().unwrap_or_else(|e| e.into_inner());
                            rx.blocking_recv()
                        };
                        let Some((cat, batch)) = batch else { break };
                        process(cat, batch, &outs, &stats, max_raw, &sd);
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
        let feeder = Feeder {
            inner: Arc::new(FeederInner {
                txs,
                stats,
                global_tags: settings.global_tags,
                time_correction: settings.time_correction,
                encodings,
            }),
            elected: None,
        };
        Io {
            feeder,
            shutdown,
            batchers,
            workers,
            replayers,
            outputs,
            stop_replay,
            shutting_down,
        }
    }

    pub fn feeder(&self) -> Feeder {
        self.feeder.clone()
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
        drop(self.feeder);
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

async fn batcher(
    cat: Category,
    mut rx: mpsc::Receiver<FeedItem>,
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
    // Owned points in batches of at most `max`; encoded points and the acknowledgements go
    // with the last batch.
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
    }
}

/// Encodes a batch once per distinct (encoding, gzip) and delivers it to every output that
/// takes its category; then acknowledges the feeds.
fn process(
    category: Category,
    batch: Batch,
    outputs: &[Arc<Output>],
    stats: &Stats,
    max_raw: usize,
    shutting_down: &AtomicBool,
) {
    let n = batch.count();
    let cstats = stats.category(category);
    cstats.queued.fetch_sub(n as i64, Relaxed);
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let targets: Vec<&Arc<Output>> = outputs.iter().filter(|o| o.accepts(category)).collect();
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
            max_raw,
            gzip: key.1,
            created,
        }
        .build_with(&batch.points, &batch.encoded);
        if enc.too_large > 0 {
            cstats.record_drop(DropReason::TooLarge, enc.too_large);
            tracing::warn!(category = %category, points = enc.too_large, max_raw, "points larger than the body size limit dropped");
        }
        if enc.unencodable > 0 {
            cstats.record_drop(DropReason::Invalid, enc.unencodable);
        }
        for o in targets.iter().filter(|o| (o.encoding(), o.gzip()) == key) {
            for b in &enc.bodies {
                o.deliver(b.clone(), shutting_down);
            }
        }
    }
    for a in batch.acks {
        let _ = a.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::output::{SendOutcome, Sink};
    use std::sync::atomic::AtomicU32;

    /// A sink that records bodies and can be told to fail.
    struct Recorder {
        bodies: Mutex<Vec<body::Body>>,
        fail: AtomicBool,
        refuse: AtomicBool,
        calls: AtomicU32,
    }

    impl Sink for Arc<Recorder> {
        fn encoding(&self) -> Encoding {
            Encoding::LineProtocol
        }
        fn gzip(&self) -> Option<u32> {
            None
        }
        fn send(&self, b: &body::Body, _replay: bool) -> SendOutcome {
            self.calls.fetch_add(1, Relaxed);
            if self.refuse.load(Relaxed) {
                return SendOutcome::Refused {
                    status: "400".into(),
                    reason: "bad".into(),
                };
            }
            if self.fail.load(Relaxed) {
                return SendOutcome::Failed {
                    status: "503".into(),
                    reason: "down".into(),
                };
            }
            self.bodies.lock().unwrap().push(b.clone());
            SendOutcome::Sent
        }
    }

    fn setup(queue_dir: Option<&std::path::Path>) -> (Io, Arc<Recorder>, Arc<Stats>) {
        let stats = Arc::new(Stats::new());
        let rec = Arc::new(Recorder {
            bodies: Mutex::new(vec![]),
            fail: AtomicBool::new(false),
            refuse: AtomicBool::new(false),
            calls: AtomicU32::new(0),
        });
        let ostats = Arc::new(crate::stats::OutputStats::new("rec", "test", "mem"));
        let queue =
            queue_dir.map(|d| diskq::DiskQueue::open(d, diskq::Options::default()).unwrap());
        let out = Output::new(
            "rec",
            Box::new(rec.clone()),
            ostats,
            stats.clone(),
            queue,
            DeliveryPolicy {
                attempts: 1,
                retry_delay: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                expire_after: Duration::from_secs(3600),
            },
        );
        let settings = IoSettings {
            max_cache_count: 100,
            flush_interval: Duration::from_millis(50),
            workers: 2,
            global_tags: vec![("host".into(), "h1".into())],
            time_correction: true,
            max_raw_body_size: 1 << 20,
        };
        (
            Io::start(settings, vec![Arc::new(out)], stats.clone()),
            rec,
            stats,
        )
    }

    fn pts(n: usize, from: usize) -> Vec<Point> {
        (from..from + n)
            .map(|i| {
                let mut p = Point::new(Category::Metric, "m");
                p.set_field("seq", Value::Int(i as i64));
                p
            })
            .collect()
    }

    fn seqs(rec: &Recorder) -> Vec<i64> {
        let mut v: Vec<i64> = rec
            .bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| {
                String::from_utf8(b.payload.clone())
                    .unwrap()
                    .lines()
                    .map(|l| {
                        l.split("seq=")
                            .nth(1)
                            .unwrap()
                            .split('i')
                            .next()
                            .unwrap()
                            .parse::<i64>()
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        v.sort();
        v
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn points_are_batched_tagged_and_delivered() {
        let (io, rec, stats) = setup(None);
        let f = io.feeder();
        for i in 0..10 {
            f.feed("t", Category::Metric, pts(25, i * 25))
                .await
                .unwrap();
        }
        let ack = f
            .feed_acked("t", Category::Metric, pts(5, 250))
            .await
            .unwrap();
        ack.await.unwrap();
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(seqs(&rec), (0..255).collect::<Vec<_>>());
        let bodies = rec.bodies.lock().unwrap();
        assert!(bodies.len() >= 3, "batched by max_cache_count");
        assert!(String::from_utf8_lossy(&bodies[0].payload).starts_with("m,host=h1 seq="));
        let s = stats.snapshot();
        assert_eq!(s.io["metric"].points_sent, 255);
        assert_eq!(s.io["metric"].queued, 0);
        assert_eq!(s.inputs["t"].points, 255);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_sends_go_to_disk_and_replay_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (io, rec, stats) = setup(Some(dir.path()));
        rec.fail.store(true, Relaxed);
        let f = io.feeder();
        for i in 0..6 {
            let ack = f
                .feed_acked("t", Category::Metric, pts(50, i * 50))
                .await
                .unwrap();
            ack.await.unwrap();
        }
        assert!(stats.snapshot().io["metric"].points_queued_on_disk >= 300);
        rec.fail.store(false, Relaxed);
        let t0 = Instant::now();
        while seqs(&rec).len() < 300 && t0.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(seqs(&rec), (0..300).collect::<Vec<_>>());
        let snap = stats.snapshot();
        assert_eq!(snap.outputs[0].disk_queue_bodies, 0);
        assert!(snap.outputs[0].healthy);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refused_bodies_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (io, rec, stats) = setup(Some(dir.path()));
        rec.refuse.store(true, Relaxed);
        let f = io.feeder();
        f.feed_acked("t", Category::Metric, pts(10, 0))
            .await
            .unwrap()
            .await
            .unwrap();
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
        let s = stats.snapshot();
        assert_eq!(s.io["metric"].dropped_4xx, 10);
        assert_eq!(s.outputs[0].disk_queue_bodies, 0, "4xx is never queued");
        assert_eq!(rec.calls.load(Relaxed), 1, "4xx is never retried");
    }

    /// Points pushed into a [`PointEncoder`] arrive as the same points fed owned do: global
    /// tags the point lacks, a missing time stamped, a far time corrected.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn encoded_feeds_match_owned_feeds() {
        let (io, rec, stats) = setup(None);
        let f = io.feeder();
        let now = unix_nanos();
        let points = |src: &str| {
            let mut v = Vec::new();
            for (i, (time, host)) in [(now, None), (0, None), (1_000, None), (now, Some("own"))]
                .into_iter()
                .enumerate()
            {
                let mut p = Point::new(Category::Metric, "m");
                p.set_tag("src", src);
                if let Some(h) = host {
                    p.set_tag("host", h);
                }
                p.set_field("seq", Value::Int(i as i64));
                p.time = time;
                v.push(p);
            }
            v
        };
        for global_tags in [true, false] {
            let opts = FeedOptions { global_tags };
            let src = if global_tags { "owned" } else { "owned-nt" };
            f.feed_with("t", Category::Metric, points(src), opts)
                .await
                .unwrap();
            let src = if global_tags { "enc" } else { "enc-nt" };
            let mut enc = f.encoder(Category::Metric, opts, 0).expect("one encoding");
            for p in points(src) {
                enc.push(&p);
            }
            f.feed_encoded("t", enc).await.unwrap();
        }
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
        let mut got: std::collections::BTreeMap<String, Vec<Point>> = Default::default();
        for b in rec.bodies.lock().unwrap().iter() {
            for mut p in crate::point::lp::decode(&b.payload, &Default::default())
                .unwrap()
                .points
            {
                let src = p.get_tag("src").unwrap().to_string();
                p.remove("src");
                if p.time != now {
                    assert!(p.time >= now, "stamped or corrected to now");
                    p.time = 0;
                }
                got.entry(src).or_default().push(p);
            }
        }
        for v in got.values_mut() {
            v.sort_by_key(|p| format!("{p:?}"));
        }
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got["owned"], got["enc"]);
        assert_eq!(got["owned-nt"], got["enc-nt"]);
        let tagged = got["enc"]
            .iter()
            .filter(|p| p.get_tag("host") == Some("h1"));
        assert_eq!(
            tagged.count(),
            3,
            "global host tag where the point has none"
        );
        assert!(
            got["enc-nt"]
                .iter()
                .all(|p| p.get_tag("host") != Some("h1"))
        );
        let orig = got["enc"]
            .iter()
            .filter(|p| p.get_field("__orig_time").is_some());
        assert_eq!(orig.count(), 1);
        let s = stats.snapshot();
        assert_eq!(s.io["metric"].time_adjusted, 4);
        assert_eq!(s.io["metric"].points_sent, 16);
        assert_eq!(s.inputs["t"].points, 16);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn far_timestamps_are_corrected() {
        let (io, rec, stats) = setup(None);
        let mut p = pts(1, 0);
        p[0].time = 1_000_000_000; // 1970
        io.feeder()
            .feed_acked("t", Category::Metric, p)
            .await
            .unwrap()
            .await
            .unwrap();
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
        let body = String::from_utf8(rec.bodies.lock().unwrap()[0].payload.clone()).unwrap();
        assert!(body.contains("__orig_time=1000000000i"), "{body}");
        assert_eq!(stats.snapshot().io["metric"].time_adjusted, 1);
    }
}
