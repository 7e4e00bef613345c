//! `datakit run` end to end: the real binary, a fake DataWay, outages, crashes, signals.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::dataway::FakeDataway;
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

/// datakit.conf sending to `dw` with fast batching, plus `extra`.
fn main_conf(dw: &FakeDataway, extra: &str) -> String {
    format!(
        "default_enabled_inputs = []\n\
         [dataway]\n  urls = [\"{}\"]\n  retry_delay = \"100ms\"\n\
         [dataway.wal]\n  fail_cache_clean_interval = \"2s\"\n\
         [io]\n  flush_interval = \"100ms\"\n  max_cache_count = 500\n\
         {extra}\n",
        dw.url()
    )
}

/// Sequence numbers of `test` points received from instance `name`.
fn seqs(dw: &FakeDataway, name: &str) -> BTreeSet<i64> {
    dw.points_named("test")
        .iter()
        .filter(|p| p.tags.get("instance").map(String::as_str) == Some(name))
        .filter_map(|p| p.fields.get("seq").and_then(|v| v.as_i64()))
        .collect()
}

fn acked(w: &Workdir, file: &str) -> i64 {
    std::fs::read_to_string(w.path().join(file))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn missing(got: &BTreeSet<i64>, upto: i64) -> Vec<i64> {
    (1..=upto).filter(|s| !got.contains(s)).take(20).collect()
}

#[test]
fn fresh_workdir_writes_dk_metrics_to_files_and_says_so() {
    let w = Workdir::new();
    let mut a = Agent::start(&w, &[]);
    a.wait_stdout(Duration::from_secs(20), |o| {
        o.contains("data goes to files in")
    });
    let out = a.stdout();
    // Every default-enabled input starts: dk, the host inputs and statsd.
    assert!(
        out.contains(
            "[cpu, disk, diskio, dk, host_processes, hostobject, mem, net, statsd, swap, system]"
        ),
        "{out}"
    );
    assert!(out.contains("no DataWay is configured"), "{out}");
    let file = w.path().join("data/out/metric.lp");
    let t0 = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("datakit_cpu_usage=")
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no dk points in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stop(), Some(0));
    assert!(!w.path().join(".pid").exists(), "pid file removed on exit");
    assert!(a.log().contains("datakit stopped"), "{}", a.log());
}

#[test]
fn points_reach_dataway_with_the_protocol_dataway_checks() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &main_conf(&dw, "[global_host_tags]\n  zone = \"z1\"\n"),
    );
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"a\"\n  interval = \"50ms\"\n  points_per_tick = 10\n",
    );
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(Duration::from_secs(20), "100 test points", |p| {
        p.iter().filter(|p| p.name == "test").count() >= 100
    });
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let p = &dw.points_named("test")[0];
    assert_eq!(p.category, "metric");
    assert_eq!(
        p.tags.get("zone").map(String::as_str),
        Some("z1"),
        "global host tags"
    );
    assert!(p.tags.contains_key("host"));
    assert!(p.time > 1_600_000_000_000_000_000, "nanosecond timestamps");
    assert!(
        p.user_agent.starts_with("datakit-linux-"),
        "{}",
        p.user_agent
    );
    // Everything the input fed arrived, in order of sequence numbers, without gaps.
    let got = seqs(&dw, "a");
    let max = *got.iter().max().unwrap();
    assert!(missing(&got, max).is_empty());
}

/// DataWay answers 503 for 60 s under load, then 200: every acknowledged point arrives.
#[test]
fn a_dataway_outage_loses_nothing() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw, ""));
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"seq\"\n  interval = \"50ms\"\n  points_per_tick = 200\n  state_file = \"seq.state\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    std::thread::sleep(Duration::from_secs(60));
    let during = acked(&w, "seq.state");
    assert!(
        during > 50_000,
        "the input kept feeding during the outage ({during} acknowledged)"
    );
    assert!(seqs(&dw, "seq").is_empty());
    dw.set_status(200);
    dw.wait_for(Duration::from_secs(90), "the outage backlog", |_| {
        seqs(&dw, "seq").len() as i64 >= during
    });
    assert_eq!(a.stop(), Some(0));
    let last = acked(&w, "seq.state");
    assert!(last >= during);
    // What was acknowledged before the stop and queued on disk is replayed by the next run.
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(Duration::from_secs(60), "every acknowledged point", |_| {
        missing(&seqs(&dw, "seq"), last).is_empty()
    });
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert!(
        dw.points_named("test").iter().any(|p| p.replay),
        "backlog replayed with X-Fail-Cache-Retry"
    );
}

/// The same outage with a `kill -9` of the agent in the middle and a restart.
#[test]
fn kill_9_during_an_outage_loses_nothing() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw, ""));
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"seq\"\n  interval = \"50ms\"\n  points_per_tick = 200\n  state_file = \"seq.state\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    std::thread::sleep(Duration::from_secs(20));
    a.kill9();
    let at_kill = acked(&w, "seq.state");
    assert!(at_kill > 10_000, "{at_kill}");
    let mut a = Agent::start(&w, &[]);
    std::thread::sleep(Duration::from_secs(10));
    dw.set_status(200);
    dw.wait_for(
        Duration::from_secs(90),
        "every point acknowledged before the kill",
        |_| missing(&seqs(&dw, "seq"), at_kill).is_empty(),
    );
    assert_eq!(a.stop(), Some(0));
    let last = acked(&w, "seq.state");
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(Duration::from_secs(60), "every acknowledged point", |_| {
        missing(&seqs(&dw, "seq"), last).is_empty()
    });
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
}

/// 400 from DataWay: the body is dropped and counted, never retried, and the agent carries on.
#[test]
fn refused_bodies_are_dropped_and_counted() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(400);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &main_conf(&dw, "[outputs.file]\n  enable = true\n").replace(
            "default_enabled_inputs = []",
            "default_enabled_inputs = [\"dk\"]",
        ),
    );
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"a\"\n  interval = \"100ms\"\n[[inputs.dk]]\n  interval = \"5s\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    let file = w.path().join("data/out/metric.lp");
    let t0 = Instant::now();
    let dropped = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let n: f64 = text
            .lines()
            .filter(|l| l.starts_with("dk,") && l.contains("reason=refused_4xx"))
            .filter_map(|l| l.split("datakit_io_dropped_point_total=").nth(1))
            .filter_map(|v| v.split([' ', ',']).next()?.parse().ok())
            .fold(0.0, f64::max);
        if n > 0.0 {
            break n;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no drop counted:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(dropped > 0.0);
    // Never retried: one request per body.
    let before = dw.requests().len();
    dw.set_status(200);
    dw.wait_for(
        Duration::from_secs(20),
        "points after DataWay accepts again",
        |p| !p.is_empty(),
    );
    assert!(before > 0);
    assert_eq!(a.stop(), Some(0));
    assert!(
        dw.points().iter().all(|p| !p.replay),
        "4xx bodies are never queued for replay"
    );
}

#[test]
fn a_second_agent_on_the_same_workdir_is_refused() {
    let w = Workdir::new();
    let mut a = Agent::start(&w, &[]);
    a.wait_stdout(Duration::from_secs(20), |o| o.contains("running"));
    let mut b = Agent::start(&w, &[]);
    assert_eq!(b.wait(Duration::from_secs(20)), Some(1));
    let err = b.stderr();
    assert!(
        err.contains(&format!("another datakit (pid {}) is running", a.pid())),
        "{err}"
    );
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn the_log_flag_sends_the_daemon_log_to_that_file() {
    let w = Workdir::new();
    let log = w.path().join("my.log");
    let log_s = log.to_str().unwrap();
    let mut a = Agent::start(
        &w,
        &[("DATAKIT_LOG", log_s), ("DATAKIT_LOG_LEVEL", "debug")],
    );
    a.wait_stdout(Duration::from_secs(20), |o| o.contains("running"));
    assert!(a.stdout().contains(log_s), "{}", a.stdout());
    assert_eq!(a.stop(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("datakit started"), "{text}");
    assert!(text.contains("DEBUG"), "the flag's level applies: {text}");
}

#[test]
fn a_bad_config_stops_the_start_with_exit_78() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "[io]\nmax_cache_count = \"x\"\n");
    let mut a = Agent::start(&w, &[]);
    assert_eq!(a.wait(Duration::from_secs(20)), Some(78));
    let err = a.stderr();
    assert!(err.contains("datakit.conf:2:19"), "{err}");
    assert!(err.contains("datakit check-config"), "{err}");
}

/// SIGHUP reloads input configs: unchanged inputs keep running, changed ones restart.
#[test]
fn sighup_restarts_only_changed_inputs() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw, ""));
    w.write(
        "conf.d/a.conf",
        "[[inputs.testinput]]\n  name = \"a\"\n  interval = \"100ms\"\n",
    );
    w.write(
        "conf.d/b.conf",
        "[[inputs.testinput]]\n  name = \"b\"\n  interval = \"100ms\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(Duration::from_secs(20), "points from a and b", |_| {
        seqs(&dw, "a").len() > 5 && seqs(&dw, "b").len() > 5
    });
    w.write(
        "conf.d/b.conf",
        "[[inputs.testinput]]\n  name = \"c\"\n  interval = \"100ms\"\n",
    );
    a.signal(Signal::HUP);
    dw.wait_for(Duration::from_secs(20), "points from c", |_| {
        seqs(&dw, "c").len() > 5
    });
    let log = a.log();
    assert!(log.contains("SIGHUP: inputs reloaded"), "{log}");
    assert!(log.contains("kept=1"), "{log}");
    // `a` kept running: its sequence continued, it did not restart from 1.
    let a_seqs = seqs(&dw, "a");
    assert!(missing(&a_seqs, *a_seqs.iter().max().unwrap()).is_empty());
    let b_max = *seqs(&dw, "b").iter().max().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(*seqs(&dw, "b").iter().max().unwrap(), b_max, "b stopped");
    assert_eq!(a.stop(), Some(0));
}

/// A clean stop delivers what is still batched.
#[test]
fn sigterm_flushes_pending_batches() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &main_conf(&dw, "").replace("flush_interval = \"100ms\"", "flush_interval = \"1h\""),
    );
    w.write(
        "conf.d/a.conf",
        "[[inputs.testinput]]\n  name = \"a\"\n  interval = \"100ms\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_stdout(Duration::from_secs(20), |o| o.contains("running"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(dw.points().is_empty(), "nothing sent before the hour is up");
    assert_eq!(a.stop(), Some(0));
    let got = seqs(&dw, "a");
    assert!(got.len() >= 10, "{got:?}");
    assert!(missing(&got, *got.iter().max().unwrap()).is_empty());
}

/// The README's example of `datakit run` on a fresh workdir is the program's real output (the
/// pid, the workdir, the version and the port aside).
#[test]
fn the_readme_shows_the_real_output_of_run() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("$ datakit --workdir /tmp/datakit run\n")
        .expect("the README's run example");
    let block = &readme[start..];
    let block = &block[..block.find("```").unwrap()];
    let want: Vec<&str> = block.lines().skip(1).filter(|l| *l != "^C").collect();
    let w = Workdir::new();
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let pid = a.pid();
    a.signal(Signal::INT);
    assert_eq!(a.wait(Duration::from_secs(30)), Some(0));
    let root = w.path().display().to_string();
    let got = a
        .stdout()
        .replace(&root, "/tmp/datakit")
        .replace(&format!("pid {pid},"), "pid 4242,")
        .replace(&format!("127.0.0.1:{}", a.port), "127.0.0.1:9529")
        .replace(datakit::app::build_info::VERSION, "0.1.0");
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got, want);
}
