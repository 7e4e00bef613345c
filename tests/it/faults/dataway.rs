//! DataWay misbehaving while the agent keeps running: status sequences, 413, 400, hangs and
//! resets, slowness.

use std::collections::HashSet;
use std::time::Duration;

use super::standin::{Action, Key, Request, Standin};
use super::writers::{Report, Spec, Writers};
use super::{
    TOKEN, assert_all_answered, assert_not_stalled, assert_protocol, conf, context, dropped,
    dropped_metric, first_keys, seed, tally, wait_arrived, wait_until, workdir,
};
use crate::support::Agent;
use crate::support::servers::http_post;

/// Two writers posting 100–500 points per body to `/v1/write/metric`.
fn metric_writers(seed: u64) -> Spec {
    Spec {
        first: 0,
        count: 2,
        category: "metric",
        points: (100, 500),
        pause_ms: (20, 60),
        pad: 24,
        seed,
    }
}

/// Runs the writers until the stand-in's script is used up and `more` further bodies are
/// acknowledged; their ledger.
fn write_through_script(a: &Agent, dw: &Standin, spec: &Spec, more: u64) -> Report {
    let w = Writers::start(&a.api(), spec);
    wait_until(
        Duration::from_secs(90),
        "the stand-in's script to be used up",
        || dw.script_left() == 0,
        || format!("{} actions left\n{}", dw.script_left(), context(a)),
    );
    w.wait_bodies(w.bodies_acked() + more, Duration::from_secs(60), || {
        context(a)
    });
    let r = w.stop();
    assert_all_answered(&r, a);
    r
}

/// Requests in the order they arrived.
fn by_arrival(dw: &Standin) -> Vec<Request> {
    let mut v = dw.requests();
    v.sort_by_key(|r| r.at);
    v
}

/// For every answer with `Retry-After`: the time until the same body (same first point, same
/// number of points) came again. Panics when it never came again.
fn retry_after_gaps(reqs: &[Request]) -> Vec<(String, u64, Duration)> {
    let mut out = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        let (Some(secs), Some(answered)) = (r.retry_after, r.answered_at) else {
            continue;
        };
        let again = reqs[i + 1..]
            .iter()
            .find(|q| q.first == r.first && q.points == r.points && q.at > answered)
            .unwrap_or_else(|| {
                panic!(
                    "the body answered {} ({} points from {:?}) was never sent again",
                    r.action, r.points, r.first
                )
            });
        out.push((r.action.clone(), secs, again.at - answered));
    }
    out
}

/// 500, 502, 503, 503 + `Retry-After`, 429 + `Retry-After` in a seeded order, some 200s
/// between, then 200: nothing is lost, and a body answered with `Retry-After: s` is not sent
/// again before `s` seconds. Run with `max_retry_count` 1 (the default: a failed body goes
/// straight to the disk queue) and 3 (retried in place first).
#[test]
fn status_sequences_lose_nothing_and_honour_retry_after() {
    let test = "dataway::status_sequences_lose_nothing_and_honour_retry_after";
    let seed = seed(test);
    for retries in [1, 3] {
        statuses(test, seed, retries);
    }
}

fn statuses(test: &str, seed: u64, retries: u32) {
    let mut rng = fastrand::Rng::with_seed(seed ^ u64::from(retries));
    let dw = Standin::start(TOKEN);
    let mut faults = vec![
        Action::status(500),
        Action::status(500),
        Action::status(502),
        Action::status(503),
        Action::status_after(503, 1),
        Action::status_after(429, 1),
        Action::status_after(429, 1),
    ];
    rng.shuffle(&mut faults);
    let mut script = Vec::new();
    for f in faults {
        for _ in 0..rng.usize(0..3) {
            script.push(Action::Accept);
        }
        script.push(f);
    }
    eprintln!(
        "[{test}] max_retry_count {retries}, script: {:?}",
        script.iter().map(|a| a.name()).collect::<Vec<_>>()
    );
    dw.push(script);
    let w = workdir(&conf(&dw.url(), "2s", retries, ""));
    let mut a = Agent::start_bound(&w, &[]);
    let r = write_through_script(&a, &dw, &metric_writers(seed), 10);
    wait_arrived(&dw, &r.acked, Duration::from_secs(60), &a);
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&r.acked, &r.unknown, &dw.counts());
    let reqs = by_arrival(&dw);
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] {} requests ({} replayed from the disk queue)",
        reqs.len(),
        reqs.iter().filter(|q| q.replay).count()
    );
    assert_not_stalled(test, &r);
    let gaps = retry_after_gaps(&reqs);
    for (action, _, gap) in &gaps {
        eprintln!("[{test}] {action}: sent again after {gap:?}");
    }
    assert_eq!(gaps.len(), 3, "three answers carried Retry-After");
    for (action, secs, gap) in &gaps {
        assert!(
            *gap >= Duration::from_secs(*secs),
            "max_retry_count {retries}: answered {action}, the body came again after {gap:?}"
        );
    }
    assert!(t.lost.is_empty(), "lost: {:?}", first_keys(&t.lost));
    assert_eq!(t.duplicates, 0, "no kill, no duplicate");
    assert_protocol(&dw);
}

/// DataWay answers 413 to bodies of more than 100 points (or 64 KiB): the agent splits them
/// until they fit and everything arrives; a single point over 64 KiB cannot fit and is dropped
/// and counted as `too_large`.
#[test]
fn too_large_bodies_are_split_and_one_huge_point_is_dropped_and_counted() {
    let test = "dataway::too_large_bodies_are_split_and_one_huge_point_is_dropped_and_counted";
    let seed = seed(test);
    let max_points = 100;
    let dw = Standin::start(TOKEN);
    dw.set_default(Action::TooLarge {
        max_points,
        max_bytes: 64 << 10,
    });
    let w = workdir(&conf(&dw.url(), "2s", 2, ""));
    let mut a = Agent::start_bound(&w, &[]);
    let writers = Writers::start(&a.api(), &metric_writers(seed));
    writers.wait_bodies(30, Duration::from_secs(60), || context(&a));
    // One logging point of 100 KiB.
    let huge = (99_u32, 0_u64);
    let line = format!(
        "faultw,w={} seq={}i,pad=\"{}\"\n",
        huge.0,
        huge.1,
        "h".repeat(100 << 10)
    );
    let (status, text) =
        http_post(&format!("{}/v1/write/logging", a.api()), &line).expect("the agent answers");
    assert_eq!(status, 200, "{text}");
    let r = writers.stop();
    assert_all_answered(&r, &a);
    wait_arrived(&dw, &r.acked, Duration::from_secs(90), &a);
    wait_until(
        Duration::from_secs(30),
        "the huge point to be counted as dropped (too_large)",
        || dropped(&a, "logging", "too_large") == 1,
        || format!("{}\n{}", super::monitor(&a)["io"]["logging"], context(&a)),
    );
    assert_eq!(dropped_metric(&a, "logging", "too_large"), 1);
    assert_eq!(dropped(&a, "metric", "too_large"), 0);
    // The drop's log line names the reason and DataWay's answer.
    let log = a.log();
    assert!(
        log.lines().any(|l| l.contains("too_large")
            && l.contains("one point of")
            && l.contains("at most 100 points")),
        "the drop is logged with DataWay's message\n{}",
        context(&a)
    );
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let mut acked = r.acked.clone();
    acked.insert(huge);
    let t = tally(&acked, &r.unknown, &dw.counts());
    let reqs = dw.requests();
    let too_large = reqs.iter().filter(|q| q.status == Some(413)).count();
    eprintln!("{}", t.line(test));
    let largest_raw = reqs
        .iter()
        .filter(|q| q.status == Some(200))
        .map(|q| q.raw_bytes)
        .max()
        .unwrap_or(0);
    eprintln!(
        "[{test}] {} requests, {too_large} answered 413; largest body accepted: {} points, {largest_raw} bytes (limits {max_points} points, 64 KiB)",
        reqs.len(),
        dw.max_accepted_body()
    );
    assert_not_stalled(test, &r);
    assert!(too_large > 0, "bodies were over the limit");
    assert!(dw.max_accepted_body() as usize <= max_points);
    assert_eq!(t.lost, HashSet::from([huge]), "only the huge point is lost");
    assert_eq!(t.duplicates, 0);
    assert_protocol(&dw);
}

/// DataWay refuses one body with 400: exactly its points are lost, counted as `refused_4xx`,
/// and the log names DataWay's message; every other acknowledged point arrives.
#[test]
fn a_body_refused_with_400_loses_exactly_its_points_counted_and_logged() {
    let test = "dataway::a_body_refused_with_400_loses_exactly_its_points_counted_and_logged";
    let seed = seed(test);
    let mut rng = fastrand::Rng::with_seed(seed);
    let message = format!("fault suite refuses this body on purpose (seed {seed})");
    let dw = Standin::start(TOKEN);
    dw.push((0..rng.usize(2..8)).map(|_| Action::Accept));
    dw.push([Action::Status {
        code: 400,
        retry_after: None,
        message: message.clone(),
    }]);
    let w = workdir(&conf(&dw.url(), "2s", 3, ""));
    let mut a = Agent::start_bound(&w, &[]);
    let r = write_through_script(&a, &dw, &metric_writers(seed), 10);
    let refused: HashSet<Key> = dw
        .requests()
        .iter()
        .flat_map(|q| q.refused.iter().copied())
        .collect();
    assert!(!refused.is_empty(), "a body was refused");
    let strays: HashSet<&Key> = refused.difference(&r.acked).collect();
    assert!(
        strays.is_empty(),
        "the refused body holds {} points no writer had acknowledged (first: {:?}); requests: {:?}\n{}",
        strays.len(),
        strays.iter().take(5).collect::<Vec<_>>(),
        dw.requests()
            .iter()
            .map(|q| format!("{} {} pts from {:?}", q.action, q.points, q.first))
            .collect::<Vec<_>>(),
        context(&a)
    );
    let expected: HashSet<Key> = r.acked.difference(&refused).copied().collect();
    wait_arrived(&dw, &expected, Duration::from_secs(60), &a);
    let n = refused.len() as u64;
    wait_until(
        Duration::from_secs(30),
        "the refused points to be counted (refused_4xx)",
        || dropped(&a, "metric", "refused_4xx") == n,
        || format!("{}\n{}", super::monitor(&a)["io"]["metric"], context(&a)),
    );
    assert_eq!(dropped_metric(&a, "metric", "refused_4xx"), n);
    wait_until(
        Duration::from_secs(10),
        "the drop's log line, with DataWay's message",
        || {
            a.log()
                .lines()
                .any(|l| l.contains("refused_4xx") && l.contains(&message))
        },
        || context(&a),
    );
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&r.acked, &r.unknown, &dw.counts());
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] refused body: {} points, counted refused_4xx {n}",
        refused.len()
    );
    assert_eq!(
        t.lost, refused,
        "exactly the refused body's points are lost"
    );
    assert_eq!(t.duplicates, 0);
    assert_protocol(&dw);
}

/// DataWay holds requests without answering (`timeout_v2` must fire), resets connections after
/// reading a body, closes them without an answer: every body is sent again, nothing is lost.
#[test]
fn hangs_resets_and_closed_connections_are_retried() {
    let test = "dataway::hangs_resets_and_closed_connections_are_retried";
    let seed = seed(test);
    let mut rng = fastrand::Rng::with_seed(seed);
    let dw = Standin::start(TOKEN);
    let mut faults = vec![
        Action::Hang,
        Action::Hang,
        Action::Hang,
        Action::Reset,
        Action::Reset,
        Action::Reset,
        Action::Close,
        Action::Close,
    ];
    rng.shuffle(&mut faults);
    let mut script = Vec::new();
    for f in faults {
        for _ in 0..rng.usize(0..3) {
            script.push(Action::Accept);
        }
        script.push(f);
    }
    eprintln!(
        "[{test}] script: {:?}",
        script.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>()
    );
    dw.push(script);
    let w = workdir(&conf(&dw.url(), "1s", 3, ""));
    let mut a = Agent::start_bound(&w, &[]);
    let r = write_through_script(&a, &dw, &metric_writers(seed), 10);
    wait_arrived(&dw, &r.acked, Duration::from_secs(60), &a);
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&r.acked, &r.unknown, &dw.counts());
    let reqs = by_arrival(&dw);
    let count = |what: &str| reqs.iter().filter(|q| q.action == what).count();
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] {} requests: {} hung, {} reset, {} closed",
        reqs.len(),
        count("hang"),
        count("reset"),
        count("close")
    );
    assert_not_stalled(test, &r);
    assert_eq!((count("hang"), count("reset"), count("close")), (3, 3, 2));
    // A hung request is given up after timeout_v2 (1 s), and its body sent again.
    for (i, q) in reqs.iter().enumerate().filter(|(_, q)| q.action == "hang") {
        let again = reqs[i + 1..]
            .iter()
            .find(|n| n.first == q.first && n.points == q.points)
            .expect("a hung body is sent again");
        let gap = again.at - q.at;
        eprintln!("[{test}] hung body sent again after {gap:?}");
        assert!(gap >= Duration::from_millis(900), "{gap:?}");
    }
    assert!(t.lost.is_empty(), "lost: {:?}", first_keys(&t.lost));
    assert_eq!(
        t.duplicates, 0,
        "nothing was accepted before a hang, reset or close"
    );
    assert_protocol(&dw);
}

/// DataWay answers every write after 2 s while writers keep writing: nothing is lost, and no
/// writer waits for DataWay (the journal takes the backlog): writes are answered with p99 under
/// 300 ms and none over 1 s, where waiting for DataWay would take 2 s.
#[test]
fn a_slow_dataway_stalls_no_writer_and_loses_nothing() {
    let test = "dataway::a_slow_dataway_stalls_no_writer_and_loses_nothing";
    let seed = seed(test);
    let dw = Standin::start(TOKEN);
    dw.set_default(Action::Slow(Duration::from_secs(2)));
    let w = workdir(&conf(&dw.url(), "10s", 2, "  max_cache_count = 10000\n"));
    let mut a = Agent::start_bound(&w, &[]);
    let spec = Spec {
        first: 0,
        count: 3,
        category: "metric",
        points: (100, 300),
        pause_ms: (50, 100),
        pad: 24,
        seed,
    };
    let writers = Writers::start(&a.api(), &spec);
    std::thread::sleep(Duration::from_secs(5));
    let backlog = writers.acked_now();
    let delivered_then = dw.counts().len();
    let r = writers.stop();
    assert_all_answered(&r, &a);
    wait_arrived(&dw, &r.acked, Duration::from_secs(120), &a);
    assert_eq!(a.stop(), Some(0), "{}", context(&a));

    let t = tally(&r.acked, &r.unknown, &dw.counts());
    eprintln!("{}", t.line(test));
    eprintln!(
        "[{test}] after 5 s of writing {delivered_then} of {backlog} acked points had reached DataWay; {} requests",
        dw.requests().len()
    );
    assert!(
        delivered_then < backlog,
        "the writers outran DataWay (else this proves nothing)"
    );
    assert_not_stalled(test, &r);
    assert!(t.lost.is_empty(), "lost: {:?}", first_keys(&t.lost));
    assert_eq!(
        t.duplicates, 0,
        "2 s answers within a 10 s timeout: no resend"
    );
    assert_protocol(&dw);
}
