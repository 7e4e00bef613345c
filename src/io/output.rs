//! An output: a sink (DataWay, InfluxDB, file) plus what makes delivery dependable — retries,
//! an on-disk queue for bodies the sink could not take, and in-order replay once it recovers.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::body::{Body, Encoding, SplitError};
use super::diskq::DiskQueue;
use crate::point::Category;
use crate::stats::{DropReason, OutputStats, PointsDropped, Stats};

/// The result of one attempt to send a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted (2xx).
    Sent,
    /// Refused for good (4xx): retrying cannot help; the body is dropped and counted.
    Refused { status: String, reason: String },
    /// The body is too large for the output (HTTP 413): it is split in halves and resent.
    TooLarge { status: String, reason: String },
    /// Not delivered (5xx, timeout, connection refused, 429): worth retrying, after
    /// `retry_after` when the answer said when (`Retry-After`).
    Failed {
        status: String,
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Gzip level of the halves of a gzipped body when the sink does not say (it always does for
/// gzipped bodies).
const DEFAULT_GZIP_LEVEL: u32 = 6;

/// How often a body of a `no_drop` category retries while the disk queue is full.
const NO_DROP_RETRY: Duration = Duration::from_secs(1);

/// The longest `Retry-After` honoured: a longer one is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Where bodies go.
pub trait Sink: Send + Sync {
    /// How this sink wants points encoded.
    fn encoding(&self) -> Encoding;
    /// Gzip level for bodies, or `None`.
    fn gzip(&self) -> Option<u32>;
    /// Whether this sink takes points of `cat`.
    fn accepts(&self, _cat: Category) -> bool {
        true
    }
    /// One attempt; `replay` is true for bodies coming back from the disk queue.
    fn send(&self, body: &Body, replay: bool) -> SendOutcome;
}

/// Retry and expiry settings.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Attempts per send before the body is queued on disk (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled each time.
    pub retry_delay: Duration,
    /// The longest wait between replay attempts while the sink is down.
    pub max_backoff: Duration,
    /// Queued bodies older than this are dropped instead of sent.
    pub expire_after: Duration,
    /// Categories whose bodies wait for room in a full disk queue instead of evicting the
    /// oldest (`[dataway.wal] no_drop_categories`): the worker keeps the body and tries to send
    /// it again every second, so the journal fills and producers are pushed back.
    pub no_drop: Vec<Category>,
}

/// A sink with its queue and counters.
pub struct Output {
    pub name: String,
    sink: Box<dyn Sink>,
    pub stats: Arc<OutputStats>,
    io_stats: Arc<Stats>,
    queue: Option<DiskQueue>,
    policy: DeliveryPolicy,
    healthy: AtomicBool,
    wake: (Mutex<bool>, Condvar),
    /// The sink said when to come back (`Retry-After`) to a send whose body then went to the
    /// disk queue: the replay loop sends nothing before then.
    retry_at: Mutex<Option<Instant>>,
    /// Set when IO stops: bodies waiting for room in a full queue give up waiting.
    stop_waiting: AtomicBool,
}

fn now_secs() -> u32 {
    crate::clock::now_secs() as u32
}

impl Output {
    pub fn new(
        name: impl Into<String>,
        sink: Box<dyn Sink>,
        stats: Arc<OutputStats>,
        io_stats: Arc<Stats>,
        queue: Option<DiskQueue>,
        policy: DeliveryPolicy,
    ) -> Output {
        io_stats.add_output(stats.clone());
        if let Some(q) = &queue {
            stats.disk_queue_bytes.store(q.pending_bytes(), Relaxed);
            stats.disk_queue_bodies.store(q.len(), Relaxed);
        }
        Output {
            name: name.into(),
            sink,
            stats,
            io_stats,
            queue,
            policy,
            healthy: AtomicBool::new(true),
            wake: (Mutex::new(false), Condvar::new()),
            retry_at: Mutex::new(None),
            stop_waiting: AtomicBool::new(false),
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.sink.encoding()
    }
    pub fn gzip(&self) -> Option<u32> {
        self.sink.gzip()
    }
    pub fn accepts(&self, cat: Category) -> bool {
        self.sink.accepts(cat)
    }
    pub fn has_queue(&self) -> bool {
        self.queue.is_some()
    }

    fn set_healthy(&self, h: bool) {
        self.healthy.store(h, Relaxed);
        self.stats.healthy.store(h, Relaxed);
    }

    fn attempt(&self, body: &Body, replay: bool) -> SendOutcome {
        let t = Instant::now();
        let out = self.sink.send(body, replay);
        let status = match &out {
            SendOutcome::Sent => "ok",
            SendOutcome::Refused { status, .. }
            | SendOutcome::TooLarge { status, .. }
            | SendOutcome::Failed { status, .. } => status.as_str(),
        };
        self.stats.record_request(t.elapsed(), status);
        out
    }

    fn record_sent(&self, body: &Body) {
        let c = self.io_stats.category(body.category);
        c.points_sent.fetch_add(u64::from(body.points), Relaxed);
        c.bodies_sent.fetch_add(1, Relaxed);
        c.bytes_raw.fetch_add(u64::from(body.raw_len), Relaxed);
        c.bytes_gzip.fetch_add(body.payload.len() as u64, Relaxed);
        self.stats.requests_ok.fetch_add(1, Relaxed);
        self.stats
            .points_sent
            .fetch_add(u64::from(body.points), Relaxed);
        self.stats
            .bytes_sent
            .fetch_add(body.payload.len() as u64, Relaxed);
    }

    /// The drop event for `points` points of `category`, with this output as the origin.
    fn drop_points(&self, category: Category, reason: DropReason, points: u32, detail: &str) {
        self.io_stats.points_dropped(PointsDropped {
            category,
            reason,
            count: u64::from(points),
            origin: self.stats.as_ref(),
            detail: Some(detail),
        });
    }

    fn record_refused(&self, body: &Body, status: &str, reason: &str) {
        self.stats.requests_refused.fetch_add(1, Relaxed);
        let why = format!("{status}: {reason}");
        self.stats.record_error(why.clone());
        self.drop_points(body.category, DropReason::Refused, body.points, &why);
    }

    /// Delivers `body`: sends it (with retries) when the sink is up, otherwise — or when the
    /// retries fail — puts it in the disk queue. Returns once the body is sent, queued on disk,
    /// or dropped (and counted). `shutting_down` skips the waits between retries.
    pub fn deliver(&self, body: Body, shutting_down: &AtomicBool) {
        if self.queue.is_some() && !self.healthy.load(Relaxed) {
            self.enqueue(&body);
            return;
        }
        let attempts = self.policy.attempts.max(1);
        for n in 0..attempts {
            match self.attempt(&body, false) {
                SendOutcome::Sent => {
                    self.record_sent(&body);
                    self.set_healthy(true);
                    return;
                }
                SendOutcome::Refused { status, reason } => {
                    self.record_refused(&body, &status, &reason);
                    return;
                }
                SendOutcome::TooLarge { status, reason } => {
                    self.split(body, &status, &reason, shutting_down);
                    return;
                }
                SendOutcome::Failed {
                    status,
                    reason,
                    retry_after,
                } => {
                    self.stats.requests_failed.fetch_add(1, Relaxed);
                    self.stats.record_error(format!("{status}: {reason}"));
                    if n + 1 < attempts && !shutting_down.load(Relaxed) {
                        self.stats.retries.fetch_add(1, Relaxed);
                        let delay = match retry_after {
                            Some(d) => d.min(MAX_RETRY_AFTER),
                            None => {
                                self.policy.retry_delay.saturating_mul(1 << n.min(10))
                                    + Duration::from_millis(fastrand::u64(0..100))
                            }
                        };
                        std::thread::sleep(delay);
                    } else {
                        tracing::warn!(output = %self.name, category = %body.category, %status, %reason, "send failed");
                        if let Some(d) = retry_after {
                            // The replay of the queued body waits as it was told.
                            let at = Instant::now() + d.min(MAX_RETRY_AFTER);
                            let mut r = self.retry_at.lock().unwrap_or_else(|e| e.into_inner());
                            *r = Some(r.map_or(at, |prev| prev.max(at)));
                        }
                        break;
                    }
                }
            }
        }
        if self.queue.is_some() {
            self.set_healthy(false);
            self.enqueue(&body);
        } else {
            let why = self.stats.last_error().map(|e| e.1).unwrap_or_default();
            self.drop_points(body.category, DropReason::SendFailed, body.points, &why);
        }
    }

    /// A body the sink said is too large: its halves are delivered (each split again if need
    /// be); a single point too large is dropped and counted.
    fn split(&self, body: Body, status: &str, reason: &str, shutting_down: &AtomicBool) {
        self.stats.requests_too_large.fetch_add(1, Relaxed);
        match body.halves(self.gzip().unwrap_or(DEFAULT_GZIP_LEVEL)) {
            Ok((a, b)) => {
                tracing::debug!(output = %self.name, category = %body.category, points = body.points, bytes = body.raw_len, "too large for the output: split in halves");
                self.deliver(a, shutting_down);
                self.deliver(b, shutting_down);
            }
            Err(e) => {
                let why = match e {
                    SplitError::OnePoint => format!(
                        "{status}: one point of {} bytes is larger than the output takes: {reason}",
                        body.raw_len
                    ),
                    e => format!("{status}: {e}"),
                };
                self.stats.record_error(why.clone());
                self.drop_points(body.category, DropReason::TooLarge, body.points, &why);
            }
        }
    }

    fn enqueue(&self, body: &Body) {
        let Some(q) = &self.queue else { return };
        if self.policy.no_drop.contains(&body.category) {
            let len = Body::disk_len(body);
            let mut waited = false;
            while !q.fits(len) && !self.stop_waiting.load(Relaxed) {
                if !waited {
                    waited = true;
                    tracing::warn!(output = %self.name, category = %body.category, "the disk queue is full: this category is in no_drop_categories, so its bodies wait (producers are pushed back)");
                }
                self.stats.no_drop_waits.fetch_add(1, Relaxed);
                std::thread::sleep(NO_DROP_RETRY);
                // The output may be back: the body goes straight out.
                if let SendOutcome::Sent = self.attempt(body, true) {
                    self.record_sent(body);
                    return;
                }
            }
        }
        let io = &self.io_stats;
        let stats = &self.stats;
        let mut evicted = |rec: &[u8]| {
            let pts = Body::points_on_disk(rec);
            stats.disk_queue_dropped_bodies.fetch_add(1, Relaxed);
            if let Some(b) = Body::from_disk(rec) {
                self.drop_points(
                    b.category,
                    DropReason::QueueFull,
                    pts,
                    "the oldest body of a full disk queue",
                );
            }
        };
        match q.push(&body.to_disk(), &mut evicted) {
            Ok(()) => {
                io.category(body.category)
                    .points_queued_on_disk
                    .fetch_add(u64::from(body.points), Relaxed);
            }
            Err(e) => {
                tracing::error!(output = %self.name, error = %e, points = body.points, "cannot queue the body on disk, dropped");
                stats.record_error(e.to_string());
                self.drop_points(
                    body.category,
                    DropReason::QueueFull,
                    body.points,
                    &e.to_string(),
                );
            }
        }
        stats.disk_queue_bytes.store(q.pending_bytes(), Relaxed);
        stats.disk_queue_bodies.store(q.len(), Relaxed);
        let (m, cv) = &self.wake;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_one();
    }

    /// IO is stopping: bodies waiting for room in a full disk queue stop waiting (they then
    /// evict the oldest, counted).
    pub fn stop_waiting(&self) {
        self.stop_waiting.store(true, Relaxed);
    }

    /// Wakes the replay loop (at shutdown).
    pub fn wake(&self) {
        let (m, cv) = &self.wake;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    fn wait(&self, d: Duration) {
        let (m, cv) = &self.wake;
        let mut woken = m.lock().unwrap_or_else(|e| e.into_inner());
        if !*woken {
            woken = cv
                .wait_timeout(woken, d)
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        *woken = false;
    }

    /// Replays queued bodies in order until `stop`; run on a dedicated thread.
    pub fn replay_loop(&self, stop: &AtomicBool) {
        let Some(q) = &self.queue else { return };
        let mut backoff = self.policy.retry_delay.max(Duration::from_millis(100));
        while !stop.load(Relaxed) {
            let rec = match q.peek() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    self.wait(Duration::from_secs(1));
                    continue;
                }
                Err(e) => {
                    tracing::error!(output = %self.name, error = %e, "disk queue read failed");
                    self.wait(Duration::from_secs(5));
                    continue;
                }
            };
            let commit = |o: &Output| {
                if let Err(e) = q.commit() {
                    tracing::error!(output = %o.name, error = %e, "disk queue commit failed");
                }
                o.stats.disk_queue_bytes.store(q.pending_bytes(), Relaxed);
                o.stats.disk_queue_bodies.store(q.len(), Relaxed);
            };
            let Some(body) = Body::from_disk(&rec) else {
                tracing::error!(output = %self.name, "unreadable body in the disk queue, skipped");
                self.stats.disk_queue_dropped_bodies.fetch_add(1, Relaxed);
                commit(self);
                continue;
            };
            let told = self
                .retry_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(until) = told.filter(|t| *t > Instant::now()) {
                sleep_until(until, stop);
                continue;
            }
            let age = now_secs().saturating_sub(body.created);
            if Duration::from_secs(u64::from(age)) > self.policy.expire_after {
                self.drop_points(
                    body.category,
                    DropReason::Expired,
                    body.points,
                    "older than drop_expired_package_at",
                );
                commit(self);
                continue;
            }
            match self.attempt(&body, true) {
                SendOutcome::Sent => {
                    self.record_sent(&body);
                    self.set_healthy(true);
                    backoff = self.policy.retry_delay.max(Duration::from_millis(100));
                    commit(self);
                }
                SendOutcome::Refused { status, reason } => {
                    self.record_refused(&body, &status, &reason);
                    commit(self);
                }
                SendOutcome::TooLarge { status, reason } => {
                    // The halves go the ordinary way (sent, or queued again at the end).
                    commit(self);
                    self.split(body, &status, &reason, stop);
                }
                SendOutcome::Failed {
                    status,
                    reason,
                    retry_after,
                } => {
                    self.stats.requests_failed.fetch_add(1, Relaxed);
                    self.stats.record_error(format!("{status}: {reason}"));
                    self.set_healthy(false);
                    // The output said when to come back: not sooner.
                    if let Some(d) = retry_after {
                        backoff = backoff.max(d.min(MAX_RETRY_AFTER));
                    }
                    tracing::debug!(output = %self.name, %status, %reason, wait = %crate::config::duration::format_duration(backoff), "replay failed");
                    // New bodies must not cut the backoff short; only a stop does.
                    sleep_until(Instant::now() + backoff, stop);
                    backoff = (backoff * 2).min(self.policy.max_backoff);
                }
            }
        }
    }
}

/// Sleeps until `until`, or until `stop` is set.
fn sleep_until(until: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= until || stop.load(Relaxed) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50).min(until - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers its first send "failed, come back in 300 ms", then accepts; records when it
    /// was called.
    struct ComeBackLater(Arc<Mutex<Vec<Instant>>>);

    impl Sink for ComeBackLater {
        fn encoding(&self) -> Encoding {
            Encoding::LineProtocol
        }
        fn gzip(&self) -> Option<u32> {
            None
        }
        fn send(&self, _body: &Body, _replay: bool) -> SendOutcome {
            let mut calls = self.0.lock().unwrap();
            calls.push(Instant::now());
            if calls.len() == 1 {
                return SendOutcome::Failed {
                    status: "429".into(),
                    reason: "slow down".into(),
                    retry_after: Some(Duration::from_millis(300)),
                };
            }
            SendOutcome::Sent
        }
    }

    /// The regression: with one attempt per send (the default `max_retry_count`), a 429 with
    /// `Retry-After` put the body in the disk queue, and the replay loop sent it again at once.
    #[test]
    fn retry_after_on_the_last_attempt_holds_the_replay_of_the_queued_body() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(Stats::new());
        let out = Arc::new(Output::new(
            "cbl",
            Box::new(ComeBackLater(calls.clone())),
            Arc::new(OutputStats::new("cbl", "test", "mem")),
            stats,
            Some(DiskQueue::open(dir.path(), Default::default()).unwrap()),
            DeliveryPolicy {
                attempts: 1,
                retry_delay: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                expire_after: Duration::from_secs(3600),
                no_drop: Vec::new(),
            },
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let replay = {
            let (out, stop) = (out.clone(), stop.clone());
            std::thread::spawn(move || out.replay_loop(&stop))
        };
        let payload = b"m seq=1i 1\n".to_vec();
        out.deliver(
            Body {
                category: Category::Metric,
                encoding: Encoding::LineProtocol,
                gzipped: false,
                raw_len: payload.len() as u32,
                payload,
                points: 1,
                created: now_secs(),
            },
            &AtomicBool::new(false),
        );
        let t0 = Instant::now();
        while calls.lock().unwrap().len() < 2 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Relaxed);
        out.wake();
        replay.join().unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2, "the queued body was sent again");
        let gap = calls[1] - calls[0];
        assert!(
            gap >= Duration::from_millis(300),
            "sent again after {gap:?}"
        );
    }
}
