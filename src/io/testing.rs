//! Test support: a sink that records bodies and can be told to fail, and an IO over it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::body::{self, Encoding};
use super::output::{DeliveryPolicy, Output, SendOutcome, Sink};
use super::{Io, IoSettings, diskq};
use crate::point::{Category, Point, Value};
use crate::stats::{OutputStats, Stats};

/// A sink that records bodies and can be told to fail.
pub(crate) struct Recorder {
    pub(crate) bodies: Mutex<Vec<body::Body>>,
    pub(crate) fail: AtomicBool,
    pub(crate) refuse: AtomicBool,
    pub(crate) calls: AtomicU32,
    pub(crate) encoding: Encoding,
    /// Answers 413 to bodies of more than this many points (`u32::MAX`: never).
    pub(crate) too_large_over: AtomicU32,
    /// Sends wait while this is set (a DataWay that does not answer).
    pub(crate) hold: AtomicBool,
}

impl Sink for Arc<Recorder> {
    fn encoding(&self) -> Encoding {
        self.encoding
    }
    fn gzip(&self) -> Option<u32> {
        None
    }
    fn send(&self, b: &body::Body, _replay: bool) -> SendOutcome {
        self.calls.fetch_add(1, Relaxed);
        while self.hold.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let over = self.too_large_over.load(Relaxed);
        if b.points > over {
            return SendOutcome::TooLarge {
                status: "413".into(),
                reason: "too large".into(),
            };
        }
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
                retry_after: None,
            };
        }
        self.bodies.lock().unwrap().push(b.clone());
        SendOutcome::Sent
    }
}

impl Recorder {
    /// Every point delivered so far, decoded from the (line-protocol) bodies.
    pub(crate) fn points(&self) -> Vec<Point> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| {
                crate::point::lp::decode(&b.payload, &Default::default())
                    .unwrap()
                    .points
            })
            .collect()
    }

    /// The `seq` fields of every delivered point, sorted.
    pub(crate) fn seqs(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .points()
            .iter()
            .filter_map(|p| match p.get_field("seq") {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }
}

/// How a test IO is set up.
pub(crate) struct TestIo {
    /// A disk queue in this directory, with these options.
    pub(crate) queue: Option<(std::path::PathBuf, diskq::Options)>,
    /// Queued bodies older than this are dropped.
    pub(crate) expire_after: Duration,
    pub(crate) max_raw_body_size: usize,
    /// A journal for durable feeds in this directory.
    pub(crate) journal: Option<super::JournalSettings>,
    /// Categories that wait at the journal's cap.
    pub(crate) no_drop: Vec<Category>,
}

impl Default for TestIo {
    fn default() -> Self {
        TestIo {
            queue: None,
            expire_after: Duration::from_secs(3600),
            max_raw_body_size: 1 << 20,
            journal: None,
            no_drop: Vec::new(),
        }
    }
}

/// An IO delivering line protocol to a [`Recorder`] (with a disk queue in `queue_dir`), batches
/// of 100 points or every 50 ms, two workers.
pub(crate) fn setup(queue_dir: Option<&std::path::Path>) -> (Io, Arc<Recorder>, Arc<Stats>) {
    setup_with(TestIo {
        queue: queue_dir.map(|d| (d.to_path_buf(), diskq::Options::default())),
        ..TestIo::default()
    })
}

/// [`setup`] with other settings.
pub(crate) fn setup_with(t: TestIo) -> (Io, Arc<Recorder>, Arc<Stats>) {
    let stats = Arc::new(Stats::new());
    let rec = Arc::new(Recorder {
        bodies: Mutex::new(vec![]),
        fail: AtomicBool::new(false),
        refuse: AtomicBool::new(false),
        calls: AtomicU32::new(0),
        encoding: Encoding::LineProtocol,
        too_large_over: AtomicU32::new(u32::MAX),
        hold: AtomicBool::new(false),
    });
    let ostats = Arc::new(OutputStats::new("rec", "test", "mem"));
    let queue = t.queue.map(|(d, o)| diskq::DiskQueue::open(&d, o).unwrap());
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
            expire_after: t.expire_after,
            no_drop: t.no_drop.clone(),
        },
    );
    let settings = IoSettings {
        max_cache_count: 100,
        flush_interval: Duration::from_millis(50),
        workers: 2,
        max_raw_body_size: t.max_raw_body_size,
        journal: t.journal,
        no_drop: t.no_drop,
    };
    (
        Io::start(settings, vec![Arc::new(out)], stats.clone()).unwrap(),
        rec,
        stats,
    )
}

/// `n` metric points `m` with `seq` = `from..from + n`, timed.
pub(crate) fn pts(n: usize, from: usize) -> Vec<Point> {
    (from..from + n)
        .map(|i| {
            let mut p = Point::new(Category::Metric, "m");
            p.set_field("seq", Value::Int(i as i64));
            p.time = 1_700_000_000_000_000_000 + i as i64;
            p
        })
        .collect()
}
