//! Regression tests: wrong or lost data (see the module list in `mod.rs`).

use std::time::Duration;

use crate::support::dataway::FakeDataway;
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

/// An agent sending to `dw`, batches flushed every 100 ms, with `extra` appended to
/// datakit.conf and `inputs` as conf.d/inputs.conf.
fn agent_to(dw: &FakeDataway, extra: &str, inputs: &str) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n{extra}\n",
            dw.url()
        ),
    );
    if !inputs.is_empty() {
        w.write("conf.d/inputs.conf", inputs);
    }
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

/// Finding 1: `run_periodic` read the time before waiting for the tick, so every point of a
/// periodic input carried the end of the previous collection, one interval early.
#[test]
fn periodic_points_were_stamped_one_interval_early() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_to(&dw, "", "[[inputs.mem]]\n  interval = \"3s\"\n");
    dw.wait_for(Duration::from_secs(20), "three mem collections", |p| {
        p.iter().filter(|p| p.name == "mem").count() >= 3
    });
    let mem = dw.points_named("mem");
    for p in &mem {
        let age = p.at_ns - p.time;
        assert!(
            (0..1_500_000_000).contains(&age),
            "a mem point arrived {:.1} s after its time (interval 3 s)",
            age as f64 / 1e9
        );
    }
    assert_eq!(a.stop(), Some(0));
}

/// Finding 2: the first CPU sample divided all the CPU the process had used since it started by
/// the few milliseconds since the stats were created (`datakit_cpu_usage=1830` on 2 cores).
#[test]
fn the_first_cpu_sample_counted_cpu_from_before_the_stats_existed() {
    // CPU spent before the stats exist, as the agent spends it loading its config.
    let t0 = std::time::Instant::now();
    let mut x = 0u64;
    while t0.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let stats = datakit::stats::Stats::new();
    let p = stats.snapshot().agent.process;
    assert!(
        p.cpu_percent <= 100.0 * p.cpu_cores as f64 + 1.0,
        "first sample: {}% of one core on {} cores",
        p.cpu_percent,
        p.cpu_cores
    );
    assert!(p.cpu_percent > 0.0, "the busy start shows");
}

/// Finding 3: a metric point whose fields the metric rules dropped (string fields), or that
/// had no valid field left, was answered 200 with nothing said, and disappeared.
#[test]
fn writes_that_lost_data_were_answered_200_without_a_word() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_to(&dw, "", "");
    let body = "cpu usage=1.5,note=\"s\"\ncpu only=\"text\"\ncpu usage=2.5\n";
    let (s, text) =
        crate::support::servers::http_post(&format!("{}/v1/write/metric", a.api()), body).unwrap();
    assert_eq!(s, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a JSON answer that says what was dropped ({e}): {text:?}"));
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with("partial write"), "{text}");
    assert_eq!(v["content"]["accepted"], 2, "{text}");
    assert_eq!(v["content"]["dropped_points"], 1, "{text}");
    assert_eq!(v["content"]["dropped_values"], 2, "{text}");
    let dropped = v["content"]["dropped"].as_array().unwrap();
    assert!(
        dropped
            .iter()
            .any(|d| d["line"] == 2 && d["reason"] == "no_field"),
        "{text}"
    );
    assert!(
        dropped
            .iter()
            .any(|d| d["line"] == 1 && d["reason"] == "invalid_field_value_type"),
        "{text}"
    );
    // The InfluxDB write API answers as InfluxDB does.
    let (s, text) =
        crate::support::servers::http_post(&format!("{}/write?db=x", a.api()), body).unwrap();
    assert_eq!(s, 400, "{text}");
    assert!(
        text.contains("partial write") && text.contains("dropped=1"),
        "{text}"
    );
    let (s, text) = crate::support::servers::http_post(
        &format!("{}/api/v2/write?org=o&bucket=b", a.api()),
        body,
    )
    .unwrap();
    assert_eq!(s, 422, "{text}");
    assert!(text.contains("partial write"), "{text}");
    // The dropped points are counted, and the log says it.
    let (_, mon) = crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    let m: serde_json::Value = serde_json::from_str(&mon).unwrap();
    assert_eq!(m["io"]["metric"]["dropped"]["no_field"], 3, "{mon}");
    assert_eq!(a.stop(), Some(0));
    assert!(a.log().contains("partial write"), "{}", a.log());
}

/// Finding 6: Telegraf sends `CREATE DATABASE` as a form body
/// (`application/x-www-form-urlencoded`), which was answered 501: only `?q=` in the URL worked.
#[test]
fn influx_query_with_a_form_body_was_answered_501() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent_to(&dw, "", "");
    let resp = ureq::post(&format!("{}/query", a.api()))
        .config()
        .http_status_as_error(false)
        .build()
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("q=CREATE+DATABASE+%22telegraf%22")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.into_body().read_to_string().unwrap();
    assert!(text.contains("\"statement_id\":0"), "{text}");
    assert_eq!(a.stop(), Some(0));
}

/// Finding 7: a DataWay answering 429 ("later") lost the data: the body was dropped as a 4xx.
/// 429, and any answer with `Retry-After`, is retried after the time it asks for (from the disk
/// queue); other 4xx stay final, as the original treats them.
#[test]
fn a_429_from_dataway_dropped_the_body() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(429);
    dw.set_retry_after(1);
    let (_w, mut a) = agent_to(&dw, "", "");
    let (s, text) = crate::support::servers::http_post(
        &format!("{}/v1/write/metric", a.api()),
        "busy seq=1i\nbusy seq=2i\n",
    )
    .unwrap();
    assert_eq!(s, 200, "{text}");
    // Refused for a while, then taken.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(dw.points_named("busy").is_empty());
    dw.set_status(200);
    dw.wait_for(
        Duration::from_secs(20),
        "the points refused with 429",
        |p| p.iter().filter(|p| p.name == "busy").count() == 2,
    );
    let (_, mon) = crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    let m: serde_json::Value = serde_json::from_str(&mon).unwrap();
    assert_eq!(m["io"]["metric"]["points_dropped"], 0, "{mon}");
    // A 400 is still final.
    dw.set_retry_after(0);
    dw.set_status(400);
    crate::support::servers::http_post(&format!("{}/v1/write/metric", a.api()), "bad seq=1i\n")
        .unwrap();
    let t0 = std::time::Instant::now();
    loop {
        let (_, mon) =
            crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
        let m: serde_json::Value = serde_json::from_str(&mon).unwrap();
        if m["io"]["metric"]["dropped"]["refused_4xx"] == 1 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{mon}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stop(), Some(0));
}

/// Finding 8: points dropped because the disk queue reached its cap were counted but not
/// logged. The drop is logged (rate-limited) with the output, category, reason and count.
#[test]
fn disk_queue_evictions_were_not_logged() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    // A queue of about 200 bytes: room for one small body, so the next ones evict it.
    let (_w, mut a) = agent_to(&dw, "[dataway.wal]\n  max_capacity_gb = 0.0000002\n", "");
    for i in 0..5 {
        crate::support::servers::http_post(
            &format!("{}/v1/write/metric", a.api()),
            &format!("evict seq={i}i\n"),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    let t0 = std::time::Instant::now();
    loop {
        let (_, mon) =
            crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
        let m: serde_json::Value = serde_json::from_str(&mon).unwrap();
        if m["io"]["metric"]["dropped"]["queue_full"]
            .as_u64()
            .unwrap_or(0)
            > 0
        {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{mon}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stop(), Some(0));
    let log = a.log();
    let line = log
        .lines()
        .find(|l| l.contains("queue_full"))
        .unwrap_or_else(|| panic!("no log line about the queue's drops:\n{log}"));
    assert!(
        line.contains("output/dataway")
            && line.contains("category=metric")
            && line.contains("dropped"),
        "{line}"
    );
}

/// Finding 13: once every queued body was replayed, the disk queue still showed the size of
/// the replayed records (its segment file's size); it shows what is pending.
#[test]
fn a_replayed_disk_queue_still_showed_its_old_size() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    let (_w, mut a) = agent_to(&dw, "", "");
    for i in 0..3 {
        crate::support::servers::http_post(
            &format!("{}/v1/write/metric", a.api()),
            &format!("queued seq={i}i\n"),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = |a: &Agent| -> serde_json::Value {
        let (_, mon) =
            crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
        let m: serde_json::Value = serde_json::from_str(&mon).unwrap();
        m["outputs"][0].clone()
    };
    let t0 = std::time::Instant::now();
    while output(&a)["disk_queue_bodies"].as_u64().unwrap_or(0) < 3 {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", output(&a));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(output(&a)["disk_queue_bytes"].as_u64().unwrap() > 0);
    dw.set_status(200);
    dw.wait_for(Duration::from_secs(20), "the replayed points", |p| {
        p.iter().filter(|p| p.name == "queued").count() == 3
    });
    let t0 = std::time::Instant::now();
    while output(&a)["disk_queue_bodies"] != 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", output(&a));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(output(&a)["disk_queue_bytes"], 0, "{}", output(&a));
    assert_eq!(a.stop(), Some(0));
}

/// Finding 5: a stack trace whose `Exception…` / `\tat …` lines were written a couple of seconds
/// after the line that began the record became one point per line: the open record was emitted
/// after one quiet second. An open record now waits `multiline_max_wait` (3 s) for more lines.
#[test]
fn a_stack_trace_written_after_a_pause_became_one_point_per_line() {
    let dw = FakeDataway::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let (_w, mut a) = agent_to(
        &dw,
        "",
        &format!(
            "[[inputs.logging]]\n  logfiles = [\"{}\"]\n  source = \"app\"\n",
            log.display()
        ),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let append = |text: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append("2026-12-07 10:00:00.123 ERROR request failed\n");
    std::thread::sleep(Duration::from_millis(2000));
    append("java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:10)\n\tat a.B.d(B.java:20)\n");
    append("2026-12-07 10:00:03.000 INFO next record\n");
    dw.wait_for(Duration::from_secs(20), "both records", |p| {
        p.iter().filter(|p| p.name == "app").count() >= 2
    });
    std::thread::sleep(Duration::from_millis(500));
    let msgs: Vec<String> = dw
        .points_named("app")
        .iter()
        .filter_map(|p| match p.fields.get("message") {
            Some(crate::support::dataway::Val::S(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_eq!(msgs[0].lines().count(), 4, "{msgs:#?}");
    assert!(msgs[0].contains("\tat a.B.d"), "{msgs:#?}");
    assert_eq!(a.stop(), Some(0));
}
