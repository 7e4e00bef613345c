//! `kill -9` at random moments, many times, with writers writing throughout and DataWay
//! refusing or away most of the time.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::standin::{Action, Key, Standin, TAIL};
use super::writers::{Spec, Writers};
use super::{TOKEN, assert_protocol, conf, context, seed, tally, wait_arrived, workdir};
use crate::support::Agent;
use crate::support::servers::free_port;

/// The at-least-once window: a point is sent again after a kill only if it was delivered at
/// most this long before the kill. The journal saves its commit position every 100 ms while
/// records finish and on each sync tick (`fsync_interval`, 1 s) otherwise; a body is finished
/// once every body of its batch is; this bound leaves room for a loaded machine.
pub const WINDOW: Duration = Duration::from_secs(3);

/// What DataWay does during one life of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Mode {
    /// Answers 200.
    Up,
    /// Answers 503.
    Refusing,
    /// Not listening: connections are refused.
    Down,
}

impl Mode {
    /// Mostly refusing or away.
    fn pick(rng: &mut fastrand::Rng) -> Mode {
        match rng.u32(0..10) {
            0..5 => Mode::Refusing,
            5..8 => Mode::Down,
            _ => Mode::Up,
        }
    }

    /// Sets the stand-in to this mode (only while no agent runs: no connection is cut in the
    /// middle of an answer, which would make a duplicate that no kill explains).
    fn apply(self, dw: &Standin) {
        match self {
            Mode::Up => {
                dw.reset_script(Action::Accept);
                dw.set_listening(true);
            }
            Mode::Refusing => {
                dw.reset_script(Action::status(503));
                dw.set_listening(true);
            }
            Mode::Down => dw.set_listening(false),
        }
    }
}

/// Kill times and modes of a run of lives.
struct Lives {
    kills: Vec<Instant>,
    modes: HashMap<Mode, usize>,
}

/// `n` lives of the agent on `w`, each in a seeded mode and killed with SIGKILL after a seeded
/// time (150 ms – 1.5 s: some before its API is up, some in the middle of replaying the last
/// life's journal); the kill times.
fn kill_loop(
    w: &crate::support::Workdir,
    env: &[(&str, &str)],
    dw: &Standin,
    rng: &mut fastrand::Rng,
    n: usize,
    test: &str,
    progress: impl Fn() -> u64,
) -> Lives {
    let mut lives = Lives {
        kills: Vec::new(),
        modes: HashMap::new(),
    };
    for i in 0..n {
        let mode = Mode::pick(rng);
        mode.apply(dw);
        *lives.modes.entry(mode).or_default() += 1;
        let before = progress();
        let mut a = Agent::start(w, env);
        let life = Duration::from_millis(rng.u64(150..1500));
        std::thread::sleep(life);
        a.kill9();
        lives.kills.push(Instant::now());
        eprintln!(
            "[{test}] life {i}: DataWay {mode:?}, killed after {life:?}, {} more acknowledged",
            progress() - before
        );
    }
    lives
}

/// Every copy but the last of every duplicated point must have arrived within [`WINDOW`]
/// before a kill. The largest such distance, and the copies outside the window.
fn window_check(
    deliveries: &HashMap<Key, Vec<Instant>>,
    kills: &[Instant],
) -> (Duration, Vec<String>) {
    let mut widest = Duration::ZERO;
    let mut outside = Vec::new();
    for (k, times) in deliveries.iter().filter(|(_, t)| t.len() > 1) {
        let mut times = times.clone();
        times.sort();
        for t in &times[..times.len() - 1] {
            match kills.iter().find(|kt| **kt >= *t) {
                Some(kt) => {
                    let d = *kt - *t;
                    widest = widest.max(d);
                    if d > WINDOW {
                        outside.push(format!("{k:?} delivered {d:?} before a kill, sent again"));
                    }
                }
                None => outside.push(format!("{k:?} sent again with no kill after it")),
            }
        }
    }
    (widest, outside)
}

/// At least 20 SIGKILLs at seeded moments while three writers write throughout; DataWay
/// answers 503 or does not listen for most lives. Then DataWay comes up, and every acknowledged
/// point arrives; duplicates are counted and all inside the at-least-once window.
#[test]
fn kill_9_under_load_with_dataway_down_loses_nothing() {
    let test = "kills::kill_9_under_load_with_dataway_down_loses_nothing";
    let seed = seed(test);
    let mut rng = fastrand::Rng::with_seed(seed);
    let dw = Standin::start(TOKEN);
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("ENV_HTTP_LISTEN", listen.as_str())];
    let api = format!("http://{listen}");
    let w = workdir(&conf(&dw.url(), "2s", 2, ""));
    let spec = Spec {
        first: 0,
        count: 3,
        category: "metric",
        points: (100, 500),
        pause_ms: (20, 80),
        pad: 24,
        seed,
    };
    let writers = Writers::start(&api, &spec);
    let kills = 22;
    let lives = kill_loop(&w, &env, &dw, &mut rng, kills, test, || {
        writers.acked_now() as u64
    });
    // The last life: DataWay up; the writers go on for a while, then everything must arrive.
    Mode::Up.apply(&dw);
    let mut a = Agent::start(&w, &env);
    a.wait_api();
    writers.wait_bodies(writers.bodies_acked() + 20, Duration::from_secs(60), || {
        context(&a)
    });
    let r = writers.stop();
    assert!(r.refused.is_empty(), "{:?}", &r.refused[..r.refused.len().min(5)]);
    wait_arrived(&dw, &r.acked, Duration::from_secs(120), &a);
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&r.acked, &r.unknown, &dw.counts());
    let (widest, outside) = window_check(&dw.deliveries(), &lives.kills);
    let (p50, p99, max) = r.latency_ms();
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] {kills} kills (lives: {:?}), {} bodies acked, {} connection errors; writer latency p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
        lives.modes,
        r.bodies_acked,
        r.conn_errors
    );
    eprintln!(
        "[{test}] duplicates: {} copies; the earliest re-sent copy was delivered {widest:?} before its kill (window {WINDOW:?})",
        t.duplicates
    );
    assert!(
        t.acked > 10_000,
        "too little was acknowledged to prove anything"
    );
    assert!(
        t.lost.is_empty(),
        "{} acknowledged points lost",
        t.lost.len()
    );
    assert!(
        outside.is_empty(),
        "{} duplicates outside the at-least-once window: {:?}",
        outside.len(),
        &outside[..outside.len().min(10)]
    );
    assert_protocol(&dw);
}

/// A writer appends numbered lines to a file the `logging` input tails while the agent is
/// killed again and again (DataWay mostly refusing or away); every line written arrives at
/// least once.
#[test]
fn kill_9_with_the_log_tailer_loses_no_line() {
    let test = "kills::kill_9_with_the_log_tailer_loses_no_line";
    let seed = seed(test);
    let mut rng = fastrand::Rng::with_seed(seed);
    let dw = Standin::start(TOKEN);
    let logs = tempfile::tempdir().unwrap();
    let file = logs.path().join("app.log");
    std::fs::File::create(&file).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("ENV_HTTP_LISTEN", listen.as_str())];
    let w = workdir(&conf(&dw.url(), "2s", 2, ""));
    w.write(
        "conf.d/tail.conf",
        &format!(
            "[[inputs.logging]]\n  logfiles = [\"{}\"]\n  source = \"faulttail\"\n  auto_multiline_detection = false\n",
            file.display()
        ),
    );
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (written, stop, file) = (written.clone(), stop.clone(), file.clone());
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x7a11);
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .unwrap();
            let mut n = 0u64;
            let mut buf = String::new();
            while !stop.load(Relaxed) {
                buf.clear();
                for _ in 0..rng.u64(1..100) {
                    use std::fmt::Write as _;
                    let _ = writeln!(buf, "tail-{n} {}", "t".repeat(rng.usize(10..80)));
                    n += 1;
                }
                f.write_all(buf.as_bytes()).unwrap();
                written.store(n, Relaxed);
                std::thread::sleep(Duration::from_millis(rng.u64(5..30)));
            }
            n
        })
    };
    let kills = 12;
    let lives = kill_loop(&w, &env, &dw, &mut rng, kills, test, || {
        written.load(Relaxed)
    });
    Mode::Up.apply(&dw);
    let mut a = Agent::start(&w, &env);
    a.wait_api();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Relaxed);
    let total = writer.join().unwrap();
    let lines: HashSet<Key> = (0..total).map(|n| (TAIL, n)).collect();
    wait_arrived(&dw, &lines, Duration::from_secs(120), &a);
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&lines, &HashSet::new(), &dw.counts());
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] {total} lines written, {kills} kills (lives: {:?}); {} duplicated copies",
        lives.modes, t.duplicates
    );
    assert!(t.lost.is_empty(), "{} lines lost", t.lost.len());
    assert!(total > 5_000, "too few lines to prove anything: {total}");
    assert_protocol(&dw);
}
