//! Sequence-numbered writers: threads that post line-protocol bodies to the agent's write API,
//! every point `faultw,w=<writer>,... seq=<n>i <time>` with `n` counting up per writer, and
//! keep the ledger of what the agent acknowledged.
//!
//! - A point is *acknowledged* only when its body was answered 200.
//! - On 429 the writer waits `Retry-After` and sends the same body again.
//! - When the connection fails (the agent was killed, or is not up yet) the body's fate is
//!   unknown: it may have been journaled before the kill, so it may arrive, but it is neither
//!   acknowledged nor lost. The next body gets new sequence numbers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::standin::Key;

/// What the writers do.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Writer ids `first..first + count`.
    pub first: u32,
    pub count: u32,
    /// `metric` or `logging`.
    pub category: &'static str,
    /// Points per body (inclusive range).
    pub points: (usize, usize),
    /// Pause between two bodies of one writer (inclusive range, ms).
    pub pause_ms: (u64, u64),
    /// Bytes of padding per point (a tag for metrics, whose string fields the agent drops; a
    /// string field `pad` for logging).
    pub pad: usize,
    pub seed: u64,
}

/// The writers' ledger.
#[derive(Default)]
struct Ledger {
    acked: HashSet<Key>,
    /// Per writer, its acknowledged bodies in order: (first seq, end seq, when answered).
    acks: HashMap<u32, Vec<(u64, u64, Instant)>>,
    unknown: HashSet<Key>,
    /// Time to answer, of every request the agent answered.
    latencies: Vec<Duration>,
    /// Answers other than 200 and 429 (status, body).
    refused: Vec<(u16, String)>,
    /// The first few connection errors.
    errors: Vec<String>,
}

struct Shared {
    url: String,
    stop: AtomicBool,
    ledger: Mutex<Ledger>,
    bodies_acked: AtomicU64,
    answered_429: AtomicU64,
    conn_errors: AtomicU64,
}

/// Running writers; [`Writers::stop`] ends them and returns the ledger.
pub struct Writers {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// What the writers did.
#[derive(Debug, Default)]
pub struct Report {
    pub acked: HashSet<Key>,
    pub acks: HashMap<u32, Vec<(u64, u64, Instant)>>,
    pub unknown: HashSet<Key>,
    pub latencies: Vec<Duration>,
    pub refused: Vec<(u16, String)>,
    /// The first few connection errors.
    pub errors: Vec<String>,
    pub bodies_acked: u64,
    pub answered_429: u64,
    pub conn_errors: u64,
}

impl Report {
    /// When the body of `k` was acknowledged.
    pub fn acked_at(&self, k: &Key) -> Option<Instant> {
        let bodies = self.acks.get(&k.0)?;
        let i = bodies.partition_point(|(_, end, _)| *end <= k.1);
        bodies
            .get(i)
            .filter(|(start, _, _)| *start <= k.1)
            .map(|(_, _, at)| *at)
    }

    /// p50, p99 and max of the answer times, in ms.
    pub fn latency_ms(&self) -> (f64, f64, f64) {
        let mut v: Vec<f64> = self
            .latencies
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        if v.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.99), v[v.len() - 1])
    }
}

impl Writers {
    /// Starts `spec.count` writers posting to `<api>/v1/write/<category>`.
    pub fn start(api: &str, spec: &Spec) -> Writers {
        let shared = Arc::new(Shared {
            url: format!("{api}/v1/write/{}", spec.category),
            stop: AtomicBool::new(false),
            ledger: Mutex::new(Ledger::default()),
            bodies_acked: AtomicU64::new(0),
            answered_429: AtomicU64::new(0),
            conn_errors: AtomicU64::new(0),
        });
        let threads = (spec.first..spec.first + spec.count)
            .map(|id| {
                let shared = shared.clone();
                let spec = spec.clone();
                std::thread::Builder::new()
                    .name(format!("writer-{id}"))
                    .spawn(move || write_loop(&shared, &spec, id))
                    .unwrap()
            })
            .collect();
        Writers { shared, threads }
    }

    /// Bodies acknowledged so far.
    pub fn bodies_acked(&self) -> u64 {
        self.shared.bodies_acked.load(Relaxed)
    }

    /// Points acknowledged so far.
    pub fn acked_now(&self) -> usize {
        self.shared.ledger.lock().unwrap().acked.len()
    }

    /// The points acknowledged so far.
    pub fn acked_keys(&self) -> HashSet<Key> {
        self.shared.ledger.lock().unwrap().acked.clone()
    }

    /// Waits until `n` bodies are acknowledged, or panics with `context()`.
    pub fn wait_bodies(&self, n: u64, timeout: Duration, context: impl Fn() -> String) {
        let t0 = Instant::now();
        while self.bodies_acked() < n {
            if t0.elapsed() > timeout {
                panic!(
                    "the writers got {} bodies acknowledged in {timeout:?}, {n} expected \
                     ({} connection errors, {} answers 429)\n{}",
                    self.bodies_acked(),
                    self.shared.conn_errors.load(Relaxed),
                    self.shared.answered_429.load(Relaxed),
                    context()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the writers (each finishes the request it is in) and returns the ledger.
    pub fn stop(self) -> Report {
        self.shared.stop.store(true, Relaxed);
        for t in self.threads {
            t.join().expect("a writer panicked");
        }
        let l = std::mem::take(&mut *self.shared.ledger.lock().unwrap());
        Report {
            acked: l.acked,
            acks: l.acks,
            unknown: l.unknown,
            latencies: l.latencies,
            refused: l.refused,
            errors: l.errors,
            bodies_acked: self.shared.bodies_acked.load(Relaxed),
            answered_429: self.shared.answered_429.load(Relaxed),
            conn_errors: self.shared.conn_errors.load(Relaxed),
        }
    }
}

/// One body of `n` points from `seq` on.
pub fn body(spec: &Spec, id: u32, seq: u64, n: usize) -> String {
    use std::fmt::Write as _;
    let pad: String = "p".repeat(spec.pad);
    let mut b = String::with_capacity(n * (spec.pad + 64));
    for s in seq..seq + n as u64 {
        let ts = datakit::clock::now_ns();
        let _ = if spec.category == "metric" {
            writeln!(b, "faultw,w={id},pad={pad} seq={s}i {ts}")
        } else {
            writeln!(b, "faultw,w={id} seq={s}i,pad=\"{pad}\" {ts}")
        };
    }
    b
}

fn write_loop(shared: &Shared, spec: &Spec, id: u32) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut rng = fastrand::Rng::with_seed(spec.seed ^ (u64::from(id) << 32));
    let mut seq = 0u64;
    while !shared.stop.load(Relaxed) {
        let n = rng.usize(spec.points.0..=spec.points.1);
        let keys = || (seq..seq + n as u64).map(|s| (id, s));
        let b = body(spec, id, seq, n);
        loop {
            let t = Instant::now();
            match agent.post(&shared.url).send(b.as_bytes()) {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let text = resp.body_mut().read_to_string().unwrap_or_default();
                    let took = t.elapsed();
                    let mut l = shared.ledger.lock().unwrap();
                    l.latencies.push(took);
                    match status {
                        200 => {
                            l.acked.extend(keys());
                            l.acks.entry(id).or_default().push((
                                seq,
                                seq + n as u64,
                                Instant::now(),
                            ));
                            shared.bodies_acked.fetch_add(1, Relaxed);
                            break;
                        }
                        429 => {
                            drop(l);
                            shared.answered_429.fetch_add(1, Relaxed);
                            if shared.stop.load(Relaxed) {
                                // Refused: not taken, so neither acknowledged nor lost.
                                break;
                            }
                            std::thread::sleep(Duration::from_secs(retry_after.unwrap_or(1)));
                        }
                        _ => {
                            l.refused.push((status, text));
                            break;
                        }
                    }
                }
                Err(e) => {
                    shared.conn_errors.fetch_add(1, Relaxed);
                    let mut l = shared.ledger.lock().unwrap();
                    l.unknown.extend(keys());
                    if l.errors.len() < 5 {
                        l.errors.push(format!("writer {id}: {e}"));
                    }
                    drop(l);
                    std::thread::sleep(Duration::from_millis(25));
                    break;
                }
            }
        }
        seq += n as u64;
        std::thread::sleep(Duration::from_millis(
            rng.u64(spec.pause_ms.0..=spec.pause_ms.1),
        ));
    }
}
