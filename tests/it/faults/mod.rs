//! The fault suite (issue 21, durability): the real agent between sequence-numbered writers and
//! a DataWay stand-in that misbehaves on a script, killed with SIGKILL at random moments.
//!
//! What it proves, scenario by scenario (each prints its figures):
//!
//! - **No acknowledged point is lost.** A point is acknowledged when the write API answered its
//!   body 200. Whatever DataWay does (5xx, 429 and `Retry-After`, 413, hangs, resets, closed
//!   connections, slowness, not listening) and however often the agent is killed, every
//!   acknowledged point reaches DataWay — except the ones DataWay itself refuses for good (a
//!   400, a single point over its size limit): exactly those are lost, and they are counted
//!   (`/v1/monitor`, `/metrics`) and logged with DataWay's message.
//! - **Duplicates only inside the at-least-once window.** Only a kill makes the agent send a
//!   point again: no duplicate without a kill between the point's taking and its last copy,
//!   and with DataWay up (phase 2 of [`kills`]) only a point delivered at most
//!   [`kills::WINDOW`] before the kill, once per kill (twice for a tailed line). Duplicates are
//!   counted and printed, per kill.
//! - **Writers do not wait for DataWay.** Whether DataWay refuses, hangs or answers in 2 s,
//!   writes are answered in milliseconds (the journal takes the overflow).
//! - The agent speaks DataWay's protocol in every request (token, path, content type, gzip,
//!   `X-Points`): the stand-in records violations and each scenario asserts there are none.
//!
//! Randomness (the scripts, the writers, the moments of the kills) comes from one seed per test,
//! printed first as `fault seed: N`. To replay a failure:
//!
//! ```text
//! FAULT_SEED=N cargo nextest run --test it faults::<module>::<scenario> --no-capture
//! ```
//!
//! The writers' points are `faultw,w=<writer>,pad=<…> seq=<n>i <time>` (metric; the padding is
//! a tag because the agent drops string fields of metrics) or
//! `faultw,w=<writer> seq=<n>i,pad="…" <time>` (logging); the tailed file's lines are
//! `tail-<n> …`. The stand-in identifies every point it accepts by (writer, n).

mod dataway;
mod kills;
mod standin;
mod writers;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::support::servers::http_get;
use crate::support::{Agent, Workdir};
use standin::{Key, Standin};

/// The workspace token the agent is given (and the stand-in requires).
pub const TOKEN: &str = "tkn_fault0123456789abcdef0123456789";

/// The seed of a test: `FAULT_SEED`, else the clock; printed so that a failure can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("FAULT_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FAULT_SEED={s:?} is not a number")),
        Err(_) => datakit::clock::now_ns() as u64 % 1_000_000_000,
    };
    eprintln!(
        "[{test}] fault seed: {seed} (replay: FAULT_SEED={seed} cargo nextest run --test it faults::{test})"
    );
    seed
}

/// The agent's `datakit.conf`: no inputs, DataWay at `url`, fast batching and retries, then
/// `extra` (more sections).
pub fn conf(url: &str, timeout: &str, retries: u32, extra: &str) -> String {
    format!(
        "default_enabled_inputs = []\n\
         [dataway]\n  urls = [\"{url}\"]\n  timeout_v2 = \"{timeout}\"\n  max_retry_count = {retries}\n  retry_delay = \"100ms\"\n\
         [dataway.wal]\n  fail_cache_clean_interval = \"1s\"\n\
         [io]\n  flush_interval = \"100ms\"\n\
         {extra}\n"
    )
}

/// A workdir with `conf` as `conf.d/datakit.conf`.
pub fn workdir(conf: &str) -> Workdir {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", conf);
    w
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// What to show when a wait times out: the agent's output and log tails.
pub fn context(a: &Agent) -> String {
    format!(
        "--- agent stdout (tail)\n{}\n--- agent stderr (tail)\n{}\n--- agent log (tail)\n{}",
        tail(&a.stdout(), 20),
        tail(&a.stderr(), 20),
        tail(&a.log(), 40)
    )
}

/// `GET /v1/monitor`.
pub fn monitor(a: &Agent) -> serde_json::Value {
    let (status, body) =
        http_get(&format!("{}/v1/monitor", a.api())).expect("the agent answers /v1/monitor");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("monitor JSON")
}

/// Points of `category` dropped for `reason`, as `/v1/monitor` counts them.
pub fn dropped(a: &Agent, category: &str, reason: &str) -> u64 {
    monitor(a)["io"][category]["dropped"][reason]
        .as_u64()
        .unwrap_or(0)
}

/// `datakit_io_dropped_point_total{category,reason}` from `/metrics` (0 when absent).
pub fn dropped_metric(a: &Agent, category: &str, reason: &str) -> u64 {
    let (_, text) = http_get(&format!("{}/metrics", a.api())).expect("the agent answers /metrics");
    let series =
        format!("datakit_io_dropped_point_total{{category=\"{category}\",reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Waits until every point of `expected` has reached the stand-in, or panics saying what is
/// missing, with the agent's output.
pub fn wait_arrived(dw: &Standin, expected: &HashSet<Key>, timeout: Duration, a: &Agent) {
    let t0 = Instant::now();
    loop {
        let (missing, first) = dw.missing(expected);
        if missing == 0 {
            return;
        }
        if t0.elapsed() > timeout {
            let reqs = dw.requests();
            let last: Vec<String> = reqs
                .iter()
                .rev()
                .take(10)
                .map(|r| format!("{} {} pts {}", r.category, r.points, r.action))
                .collect();
            panic!(
                "after {timeout:?}, {missing} of {} acknowledged points have not reached DataWay \
                 (first: {first:?}); {} requests, last: {last:?}; violations: {:?}\n{}",
                expected.len(),
                reqs.len(),
                dw.violations(),
                context(a)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Acknowledged, delivered, lost and duplicated points.
#[derive(Debug)]
pub struct Tally {
    pub acked: usize,
    /// Distinct acknowledged points that arrived.
    pub delivered: usize,
    /// Acknowledged points that never arrived.
    pub lost: HashSet<Key>,
    /// Copies beyond the first, over every point that arrived (acknowledged or not).
    pub duplicates: usize,
    /// Points of unknown fate (their write's connection failed) that arrived anyway.
    pub unknown_arrived: usize,
    pub unknown: usize,
}

/// Compares the writers' ledger with what the stand-in accepted.
pub fn tally(acked: &HashSet<Key>, unknown: &HashSet<Key>, counts: &HashMap<Key, usize>) -> Tally {
    let delivered = acked.iter().filter(|k| counts.contains_key(k)).count();
    Tally {
        acked: acked.len(),
        delivered,
        lost: acked
            .iter()
            .filter(|k| !counts.contains_key(k))
            .copied()
            .collect(),
        duplicates: counts.values().map(|c| c.saturating_sub(1)).sum(),
        unknown_arrived: unknown.iter().filter(|k| counts.contains_key(k)).count(),
        unknown: unknown.len(),
    }
}

impl Tally {
    /// One line for the test output.
    pub fn line(&self, test: &str) -> String {
        format!(
            "[{test}] acked {} points, delivered {}, lost {}, duplicates {}; unknown fate {} (arrived {})",
            self.acked,
            self.delivered,
            self.lost.len(),
            self.duplicates,
            self.unknown,
            self.unknown_arrived
        )
    }
}

/// Writers are answered at once whatever DataWay does (the journal takes what DataWay does not):
/// p99 under 300 ms and no answer over 1 s, where waiting for DataWay would take seconds.
/// Prints the figures.
pub fn assert_not_stalled(test: &str, r: &writers::Report) {
    let (p50, p99, max) = r.latency_ms();
    eprintln!(
        "[{test}] {} bodies acked; writer latency p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
        r.bodies_acked
    );
    assert!(p99 < 300.0, "writers stalled: p99 {p99:.1} ms");
    assert!(max < 1000.0, "a writer stalled: {max:.1} ms");
}

/// Every write was answered, 200 (or 429 and then 200): no other status, no connection error
/// (the agent runs throughout).
pub fn assert_all_answered(r: &writers::Report, a: &Agent) {
    assert!(
        r.refused.is_empty() && r.conn_errors == 0,
        "the agent refused writes: {:?}; {} connection errors: {:?}\n{}",
        &r.refused[..r.refused.len().min(5)],
        r.conn_errors,
        r.errors,
        context(a)
    );
}

/// The first few of `s`, in order (for a failure message).
pub fn first_keys(s: &HashSet<Key>) -> Vec<Key> {
    let mut v: Vec<Key> = s.iter().copied().collect();
    v.sort();
    v.truncate(10);
    v
}

/// Asserts the stand-in saw no protocol violation.
pub fn assert_protocol(dw: &Standin) {
    let v = dw.violations();
    assert!(
        v.is_empty(),
        "the agent broke DataWay's protocol {} times: {:?}",
        v.len(),
        &v[..v.len().min(10)]
    );
    assert_eq!(dw.others(), 0, "points DataWay got that no writer wrote");
}

/// Polls `cond` every 50 ms until it holds, or panics after `timeout` saying `what` and
/// `context()`.
pub fn wait_until(
    timeout: Duration,
    what: &str,
    cond: impl Fn() -> bool,
    context: impl Fn() -> String,
) {
    let t0 = Instant::now();
    while !cond() {
        if t0.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for {what}\n{}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
