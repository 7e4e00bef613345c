//! Supervisor behaviour, with the test inputs and an in-memory sink.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::supervisor::{Base, MAX_CRASHES, Supervisor};
use crate::inputs::confd::{InputInstance, Origin};
use crate::inputs::testing::TestInputConfig;
use crate::io::body::{Body, Encoding};
use crate::io::output::{DeliveryPolicy, Output, SendOutcome, Sink};
use crate::io::{Io, IoSettings};
use crate::stats::{InputState, Stats};

struct Mem(Mutex<Vec<Body>>);

impl Sink for Arc<Mem> {
    fn encoding(&self) -> Encoding {
        Encoding::LineProtocol
    }
    fn gzip(&self) -> Option<u32> {
        None
    }
    fn send(&self, b: &Body, _: bool) -> SendOutcome {
        self.0.lock().unwrap().push(b.clone());
        SendOutcome::Sent
    }
}

fn setup() -> (Io, Supervisor, Arc<Stats>, Arc<Mem>, tempfile::TempDir) {
    let stats = Arc::new(Stats::new());
    let mem = Arc::new(Mem(Mutex::new(vec![])));
    let out = Output::new(
        "mem",
        Box::new(mem.clone()),
        Arc::new(crate::stats::OutputStats::new("mem", "test", "mem")),
        stats.clone(),
        None,
        DeliveryPolicy {
            attempts: 1,
            retry_delay: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            expire_after: Duration::from_secs(60),
            no_drop: Vec::new(),
        },
    );
    let io = Io::start(
        IoSettings {
            max_cache_count: 10,
            flush_interval: Duration::from_millis(20),
            workers: 1,
            max_raw_body_size: 1 << 20,
            journal: None,
            no_drop: Vec::new(),
        },
        vec![Arc::new(out)],
        stats.clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workdir = crate::workdir::Workdir::new(dir.path());
    let scripts = crate::ingest::Scripts::new(crate::ingest::ScriptSet::load(
        &workdir,
        &Default::default(),
        stats.clone(),
    ));
    let ingest = crate::ingest::Ingest::new(
        io.queues(),
        scripts,
        crate::ingest::Settings {
            global_tags: vec![],
            time_correction: false,
        },
    );
    let sup = Supervisor::new(Base {
        ingest,
        stats: stats.clone(),
        workdir,
        hostname: "h".into(),
        election: None,
        routes: crate::inputs::routes::Routes::new(),
    })
    .with_first_backoff(Duration::from_millis(10));
    (io, sup, stats, mem, dir)
}

fn instance(cfg: TestInputConfig) -> InputInstance {
    InputInstance {
        entry: &crate::inputs::testing::TEST_INPUT,
        origin: Origin::DefaultEnabled,
        fingerprint: 1,
        config: Box::new(cfg),
    }
}

fn lines_of(mem: &Mem, name: &str) -> usize {
    mem.0
        .lock()
        .unwrap()
        .iter()
        .map(|b| {
            String::from_utf8_lossy(&b.payload)
                .lines()
                .filter(|l| l.contains(&format!("instance={name}")))
                .count()
        })
        .sum()
}

async fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_input_is_restarted_then_stopped_after_six_crashes() {
    let (io, mut sup, stats, mem, _dir) = setup();
    sup.start(instance(TestInputConfig {
        name: "bad".into(),
        interval: crate::config::Dur::from_millis(5),
        panic_after: 2,
        ..TestInputConfig::default()
    }));
    sup.start(instance(TestInputConfig {
        name: "good".into(),
        interval: crate::config::Dur::from_millis(5),
        ..TestInputConfig::default()
    }));
    let s = stats.input("testinput");
    assert!(
        wait_for(Duration::from_secs(10), || s.crashes.load(Relaxed)
            >= u64::from(MAX_CRASHES))
        .await,
        "crashes: {}",
        s.crashes.load(Relaxed)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.crashes.load(Relaxed),
        u64::from(MAX_CRASHES),
        "no restart after the sixth crash"
    );
    assert!(s.last_error().unwrap().1.contains("panics as configured"));
    // Each restart collected once before panicking again: the bad instance produced points.
    assert!(lines_of(&mem, "bad") >= MAX_CRASHES as usize);
    let good_before = lines_of(&mem, "good");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        lines_of(&mem, "good") > good_before,
        "the other instance kept running"
    );
    assert_eq!(
        stats
            .snapshot()
            .errors
            .iter()
            .filter(|e| e.message.contains("crashed"))
            .count(),
        6
    );
    sup.shutdown().await;
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erroring_input_counts_as_a_crash() {
    let (io, mut sup, stats, _mem, _dir) = setup();
    sup.start(instance(TestInputConfig {
        name: "err".into(),
        interval: crate::config::Dur::from_millis(5),
        error_after: 1,
        ..TestInputConfig::default()
    }));
    let s = stats.input("testinput");
    // A collection error is logged and counted, but the input keeps running (not a crash).
    assert!(wait_for(Duration::from_secs(5), || s.errors.load(Relaxed) >= 1).await);
    assert_eq!(s.crashes.load(Relaxed), 0);
    assert_eq!(s.state(), InputState::Running);
    sup.shutdown().await;
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(s.state(), InputState::Exited);
}

/// Runs its own runtime: a runtime waits for blocking threads when dropped, so the test (like
/// the daemon) must shut it down with a timeout.
#[test]
fn a_blocked_input_does_not_stall_the_others() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (io, mut sup, _stats, mem, _dir) = setup();
        for n in 0..4 {
            sup.start(instance(TestInputConfig {
                name: format!("blocked{n}"),
                interval: crate::config::Dur::from_millis(5),
                block: true,
                ..TestInputConfig::default()
            }));
        }
        sup.start(instance(TestInputConfig {
            name: "live".into(),
            interval: crate::config::Dur::from_millis(5),
            ..TestInputConfig::default()
        }));
        assert!(wait_for(Duration::from_secs(5), || lines_of(&mem, "live") >= 50).await);
        // Stopping gives up on the blocked instances after the grace period instead of hanging.
        let t0 = Instant::now();
        sup.shutdown().await;
        assert!(t0.elapsed() < Duration::from_secs(15));
        io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    });
    let t0 = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(200));
    assert!(t0.elapsed() < Duration::from_secs(2));
}
