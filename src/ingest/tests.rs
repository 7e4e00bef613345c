//! The stage's steps, each seen from what reaches the outputs and what is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::testing::{Stage, stage, stage_over};
use super::write::{WriteBody, WriteError, WriteRequest};
use super::*;
use crate::io::diskq;
use crate::io::testing::{TestIo, setup_with};
use crate::point::{Precision, Value};
use crate::stats::DropReason;
use crate::workdir::Workdir;

fn workdir_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Workdir) {
    let dir = tempfile::tempdir().unwrap();
    let w = Workdir::new(dir.path());
    for (path, text) in files {
        let p = w.pipeline().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir, w)
}

fn metric(name: &str, seq: i64) -> Point {
    let mut p = Point::new(Category::Metric, name);
    p.set_tag("cpu", "cpu-total");
    p.set_field("seq", Value::Int(seq));
    p.time = crate::clock::now_ns();
    p
}

fn write_req(cat: Category) -> WriteRequest<'static> {
    WriteRequest {
        category: cat,
        source: None,
        precision: Precision::Auto,
        strict: false,
        loose: false,
        dry: false,
        echo: false,
        global_tags: true,
    }
}

async fn feed(st: &Stage, origin: &Origin, cat: Category, points: Vec<Point>) {
    st.ingest
        .feed_acked(origin, cat, points, &FeedOptions::default())
        .await
        .unwrap()
        .await
        .unwrap();
}

struct TestGate {
    open: AtomicBool,
    tags: Vec<(String, String)>,
}

impl Gate for TestGate {
    fn admit(&self) -> bool {
        self.open.load(Relaxed)
    }
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `[pipeline.default_pipeline] metric = "x.p"` shapes the points of host inputs, which feed
/// through the stage like every producer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_pipeline_shapes_input_points() {
    let (_d, w) = workdir_with(&[
        ("metric/x.p", "add_key(shaped, true)\n"),
        ("metric/mem.p", "add_key(by_name, true)\n"),
    ]);
    let st = stage(&w, &[("metric", "x.p")]);
    let origin = st.ingest.origin("cpu");
    feed(
        &st,
        &origin,
        Category::Metric,
        vec![metric("cpu", 1), metric("mem", 2)],
    )
    .await;
    let (points, stats) = st.finish().await;
    let cpu = points.iter().find(|p| p.name == "cpu").unwrap();
    assert_eq!(cpu.get_field("shaped"), Some(&Value::Bool(true)));
    let mem = points.iter().find(|p| p.name == "mem").unwrap();
    assert_eq!(
        mem.get_field("by_name"),
        Some(&Value::Bool(true)),
        "mem.p first"
    );
    assert!(mem.get_field("shaped").is_none());
    assert_eq!(cpu.get_tag("host"), Some("h1"), "global tags added");
    let snap = stats.snapshot();
    assert_eq!(snap.pipeline["metric/x.p"].points, 1);
    assert_eq!(snap.inputs["cpu"].points, 2);
}

/// A host point that breaks the metric rules is fixed by the checker (the string field is
/// dropped), or dropped and counted when nothing is left of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_fixes_or_drops_input_points() {
    let (_d, w) = workdir_with(&[]);
    let st = stage(&w, &[]);
    let origin = st.ingest.origin("cpu");
    let mut fixed = metric("cpu", 1);
    fixed.set_field("name", Value::Str("x".into()));
    let mut empty = Point::new(Category::Metric, "cpu");
    empty.set_field("only", Value::Str("string".into()));
    feed(&st, &origin, Category::Metric, vec![fixed, empty]).await;
    let (points, stats) = st.finish().await;
    assert_eq!(points.len(), 1);
    assert!(
        points[0].get_field("name").is_none(),
        "string field dropped"
    );
    assert_eq!(points[0].get_field("seq"), Some(&Value::Int(1)));
    let snap = stats.snapshot();
    assert_eq!(snap.point_checks["invalid_field_value_type"], 2);
    assert_eq!(snap.io["metric"].dropped["no_field"], 1);
    assert_eq!(snap.inputs["cpu"].dropped, 1);
}

/// A paused election-aware input's points are dropped (reason `election`); a leading one's
/// get the election tags instead of the host tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_election_gate_admits_and_tags() {
    let (_d, w) = workdir_with(&[]);
    let st = stage(&w, &[]);
    let gate = Arc::new(TestGate {
        open: AtomicBool::new(false),
        tags: vec![("election_namespace".into(), "ns1".into())],
    });
    let origin = st.ingest.origin("elected").gated(gate.clone());
    feed(
        &st,
        &origin,
        Category::Metric,
        vec![metric("m", 1), metric("m", 2)],
    )
    .await;
    gate.open.store(true, Relaxed);
    feed(&st, &origin, Category::Metric, vec![metric("m", 3)]).await;
    let (points, stats) = st.finish().await;
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].get_tag("election_namespace"), Some("ns1"));
    assert_eq!(
        points[0].get_tag("host"),
        None,
        "election tags replace host tags"
    );
    let snap = stats.snapshot();
    assert_eq!(snap.io["metric"].dropped["election"], 2);
    assert_eq!(snap.election.points_refused, 2);
}

/// Points a script makes with `create_point()` go to their own category, as
/// `pipeline/create_point`, once, without running scripts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_points_are_regrouped_by_category() {
    let (_d, w) = workdir_with(&[(
        "metric/m.p",
        "create_point(\"made\", {\"t\": \"v\"}, {\"n\": 1}, category=\"L\")\n",
    )]);
    let st = stage(&w, &[]);
    let origin = st.ingest.origin("in");
    feed(&st, &origin, Category::Metric, vec![metric("m", 1)]).await;
    let (points, stats) = st.finish().await;
    let made: Vec<&Point> = points.iter().filter(|p| p.name == "made").collect();
    assert_eq!(made.len(), 1, "{points:?}");
    assert_eq!(made[0].get_tag("host"), Some("h1"));
    let snap = stats.snapshot();
    assert_eq!(snap.inputs[PIPELINE_CREATED].points, 1);
    assert_eq!(snap.inputs[PIPELINE_CREATED].category, Some("logging"));
    assert_eq!(snap.inputs["in"].points, 1);
}

/// The write API's lines encoded straight from the body arrive exactly as the same points
/// fed owned: global tags they lack, a missing time stamped, a far time corrected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_writes_match_owned_feeds() {
    let (_d, w) = workdir_with(&[]);
    let st = stage(&w, &[]);
    let now = crate::clock::now_ns();
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
        let opts = FeedOptions {
            global_tags,
            ..FeedOptions::default()
        };
        let src = if global_tags { "owned" } else { "owned-nt" };
        let origin = st.ingest.origin("t");
        st.ingest
            .feed(&origin, Category::Metric, points(src), &opts)
            .await
            .unwrap();
        let src = if global_tags { "enc" } else { "enc-nt" };
        let mut enc = crate::point::Encoder::new();
        for p in points(src) {
            enc.encode(&p).unwrap();
        }
        // The point without a time is written without one: the stage stamps it.
        let body = enc.take();
        assert!(String::from_utf8_lossy(&body).contains("seq=1i\n"));
        let req = WriteRequest {
            global_tags,
            precision: Precision::Nanosecond,
            ..write_req(Category::Metric)
        };
        let plan = write::plan(&st.ingest, &req, &WriteBody::Lines(&body));
        assert_eq!(
            plan,
            write::Plan::Encoded(crate::io::Encoding::LineProtocol)
        );
        let acc = st
            .ingest
            .write(&origin, &req, WriteBody::Lines(&body))
            .await
            .unwrap();
        assert_eq!(acc.count, 4);
    }
    let (delivered, stats) = st.finish().await;
    let mut got: std::collections::BTreeMap<String, Vec<Point>> = Default::default();
    for mut p in delivered {
        let src = p.get_tag("src").unwrap().to_string();
        p.remove("src");
        if p.time != now {
            assert!(p.time >= now, "stamped or corrected to now");
            p.time = 0;
        }
        got.entry(src).or_default().push(p);
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

/// Points fed as views ([`Ingest::view_feed`], the trace receivers' way) arrive exactly as the
/// same points fed owned: global tags they lack, a missing time stamped, a far time corrected,
/// a value the checker must fix fixed, a point without fields and a filtered one dropped and
/// counted alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_feeds_match_owned_feeds() {
    let (_d, w) = workdir_with(&[]);
    let st = stage(&w, &[]);
    install_filters(&st, &[("T", &["{ seq = 6 }"])]);
    let now = crate::clock::now_ns();
    let points = |src: &str| {
        let mut v = Vec::new();
        let cases = [
            (now, None, "plain"),
            (0, None, "plain"),
            (1_000, None, "plain"),
            (now, Some("own"), "plain"),
            (now, None, "two\nlines"),
            (now, None, "plain"),
            (now, None, "plain"),
        ];
        for (i, (time, host, tag)) in cases.into_iter().enumerate() {
            let mut p = Point::new(Category::Tracing, "ddtrace");
            p.set_tag("src", src);
            p.set_tag("t", tag);
            if let Some(h) = host {
                p.set_tag("host", h);
            }
            // The last has no field: the checker's drop.
            if i < 6 {
                p.set_field("seq", Value::Int(i as i64 + 1));
                p.set_field("message", Value::Str(format!("{{\"span\":{i}}}")));
            }
            p.time = time;
            v.push(p);
        }
        v
    };
    let opts = FeedOptions {
        durable: None,
        ..FeedOptions::default()
    };
    let owned = st.ingest.origin("owned");
    st.ingest
        .feed(&owned, Category::Tracing, points("owned"), &opts)
        .await
        .unwrap();
    let viewed = st.ingest.origin("viewed");
    let mut f = st
        .ingest
        .view_feed(&viewed, Category::Tracing, &opts, 1024)
        .expect("no script, one encoding: the view path");
    for p in points("viewed") {
        f.push(&p);
    }
    assert_eq!(f.len(), 5, "one filtered, one without fields");
    f.send().await.unwrap();
    let (delivered, stats) = st.finish().await;
    let mut got: std::collections::BTreeMap<String, Vec<Point>> = Default::default();
    for mut p in delivered {
        let src = p.get_tag("src").unwrap().to_string();
        p.remove("src");
        if p.time != now {
            assert!(p.time >= now, "stamped or corrected to now");
            p.time = 0;
        }
        got.entry(src).or_default().push(p);
    }
    for v in got.values_mut() {
        v.sort_by_key(|p| format!("{p:?}"));
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got["owned"].len(), 5);
    assert_eq!(got["owned"], got["viewed"]);
    assert!(
        got["viewed"]
            .iter()
            .any(|p| p.get_tag("t") == Some("two lines"))
    );
    assert_eq!(
        got["viewed"]
            .iter()
            .filter(|p| p.get_tag("host") == Some("h1"))
            .count(),
        4
    );
    let s = stats.snapshot();
    assert_eq!(s.io["tracing"].time_adjusted, 2);
    assert_eq!(s.inputs["owned"].points, s.inputs["viewed"].points);
    for origin in ["owned", "viewed"] {
        let dropped = |reason: &str| {
            s.drops
                .iter()
                .filter(|d| d.reason == reason && d.origin == origin)
                .map(|d| d.points)
                .sum::<u64>()
        };
        assert_eq!(
            (dropped("filtered"), dropped("no_field")),
            (1, 1),
            "{origin}"
        );
    }
}

/// A line a script must see leaves the encoded path for the stage's owned one; the others
/// stay encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_writes_run_scripts_on_the_lines_they_name() {
    let (_d, w) = workdir_with(&[("logging/app.p", "if n == 2 { drop() }\nadd_key(seen, 1)\n")]);
    let st = stage(&w, &[]);
    let origin = st.ingest.origin("v1-write.logging");
    let body = b"app n=1i\nother n=1i\napp n=2i\napp n=3i\n";
    let req = write_req(Category::Logging);
    let acc = st
        .ingest
        .write(&origin, &req, WriteBody::Lines(body))
        .await
        .unwrap();
    assert_eq!(acc.count, 4);
    let (points, stats) = st.finish().await;
    let mut seen: Vec<(String, Option<Value>)> = points
        .iter()
        .map(|p| (p.name.clone(), p.get_field("seen").cloned()))
        .collect();
    seen.sort_by_key(|(n, _)| n.clone());
    assert_eq!(
        seen,
        vec![
            ("app".into(), Some(Value::Int(1))),
            ("app".into(), Some(Value::Int(1))),
            ("other".into(), None),
        ]
    );
    let snap = stats.snapshot();
    assert_eq!(snap.pipeline["logging/app.p"].points, 3);
    assert_eq!(snap.io["logging"].dropped["pipeline"], 1);
    assert!(
        points.iter().all(|p| p.get_field("status").is_some()),
        "the logging rules add status"
    );
}

/// Strict mode refuses a small body for a bad line or a warning before anything is fed, and
/// counts every line as dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_writes_refuse_the_whole_body() {
    let (_d, w) = workdir_with(&[]);
    let st = stage(&w, &[]);
    let origin = st.ingest.origin("v1-write.metric");
    let req = WriteRequest {
        strict: true,
        ..write_req(Category::Metric)
    };
    let e = st
        .ingest
        .write(&origin, &req, WriteBody::Lines(b"m f=1i\nm f=\"str\"\n"))
        .await
        .unwrap_err();
    assert!(matches!(e, WriteError::Warning(_)), "{e:?}");
    let e = st
        .ingest
        .write(&origin, &req, WriteBody::Lines(b"m f=1i\nm f=\n"))
        .await
        .unwrap_err();
    assert!(matches!(e, WriteError::BadLine { line: 2, .. }), "{e:?}");
    let (points, stats) = st.finish().await;
    assert!(points.is_empty(), "nothing of a refused body is fed");
    assert_eq!(stats.snapshot().io["metric"].dropped["invalid"], 3);
}

fn install_filters(st: &Stage, rules: &[(&str, &[&str])]) {
    let map = rules
        .iter()
        .map(|(c, r)| (c.to_string(), r.iter().map(|s| s.to_string()).collect()))
        .collect();
    let (f, problems) = crate::filter::Filters::compile(&map);
    assert!(problems.is_empty(), "{problems:?}");
    st.stats
        .filters
        .install(f, crate::filter::Source::Local, &problems);
}

/// Filter rules drop what they match on every way through the stage — owned feeds, encoded
/// writes, lines a script sees, points `create_point()` makes — after the global tags are
/// added, and each drop is counted on its rule and as `filtered`; a new set takes over at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_drop_what_the_rules_match_on_every_path() {
    let (_d, w) = workdir_with(&[(
        "logging/app.p",
        "add_key(seen, 1)\nif n == 9 { create_point(\"made\", {\"k\": \"v\"}, {\"n\": 5}, category=\"M\") }\n",
    )]);
    let st = stage(&w, &[]);
    install_filters(
        &st,
        &[
            (
                "metric",
                &["{ measurement = 'made' }", "{ seq > 2 and host = 'h1' }"],
            ),
            (
                "L",
                &[
                    "{ source = 'app' and n = 2 }",
                    "{ seen = 1 and n = 3 }",
                    "{ n = 4 }",
                ],
            ),
        ],
    );
    let origin = st.ingest.origin("t");
    // Owned: seq 3 and 4 dropped (host is the global tag), 1 and 2 kept; a point with its own
    // host is kept.
    let mut own = metric("m", 5);
    own.set_tag("host", "other");
    let mut pts: Vec<Point> = (1..=4).map(|i| metric("m", i)).collect();
    pts.push(own);
    feed(&st, &origin, Category::Metric, pts).await;
    // Encoded (no script for `other`), and through the script (`app`).
    let body = b"other n=4i\nother n=1i\napp n=2i\napp n=3i\napp n=1i\napp n=9i\n";
    let req = write_req(Category::Logging);
    assert_eq!(
        write::plan(&st.ingest, &req, &WriteBody::Lines(body)),
        write::Plan::Encoded(crate::io::Encoding::LineProtocol)
    );
    let wo = st.ingest.origin("w");
    let acc = st
        .ingest
        .write(&wo, &req, WriteBody::Lines(body))
        .await
        .unwrap();
    assert_eq!(acc.count, 6, "filtered points are accepted, then dropped");
    // A new set takes over at once.
    install_filters(&st, &[("metric", &["{ seq = 1 }"])]);
    feed(
        &st,
        &origin,
        Category::Metric,
        vec![metric("m", 1), metric("m", 3)],
    )
    .await;
    let snap = st.stats.snapshot();
    assert_eq!(snap.filters.source, "local");
    assert_eq!(snap.filters.updates, 2);
    assert_eq!(snap.filters.rules.len(), 1);
    assert_eq!(snap.filters.rules[0].filtered, 1);
    let (delivered, stats) = st.finish().await;
    let mut got: Vec<String> = delivered
        .iter()
        .map(|p| {
            let n = p.get_field("seq").or(p.get_field("n")).cloned();
            format!("{}:{:?}", p.name, n)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "app:Some(Int(1))",
            "app:Some(Int(9))",
            "m:Some(Int(1))",
            "m:Some(Int(2))",
            "m:Some(Int(3))",
            "m:Some(Int(5))",
            "other:Some(Int(1))",
        ]
    );
    let snap = stats.snapshot();
    let filtered = |origin: &str, cat: &str| {
        snap.drops
            .iter()
            .filter(|d| d.reason == "filtered" && d.origin == origin && d.category == cat)
            .map(|d| d.points)
            .sum::<u64>()
    };
    assert_eq!(filtered("t", "metric"), 3);
    assert_eq!(filtered("w", "logging"), 3);
    assert_eq!(filtered("pipeline/create_point", "metric"), 1);
}

/// Every reason a point can be dropped for is reachable, and each drop is counted once, on
/// the category, the reason and the origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drop_reason_is_reachable_and_counted() {
    for reason in DropReason::ALL {
        let (origin_name, stats) = provoke(reason).await;
        let snap = stats.snapshot();
        let rows: Vec<_> = snap
            .drops
            .iter()
            .filter(|d| d.reason == reason.as_str())
            .collect();
        assert_eq!(rows.len(), 1, "{reason}: {:?}", snap.drops);
        assert_eq!(rows[0].origin, origin_name, "{reason}");
        assert!(rows[0].points > 0, "{reason}");
        let cat = snap
            .io
            .get(rows[0].category)
            .unwrap_or_else(|| panic!("{reason}: no category row"));
        assert_eq!(cat.dropped[reason.as_str()], rows[0].points, "{reason}");
        let text = snap.to_prometheus();
        assert!(
            text.contains(&format!("reason=\"{}\"", reason.as_str())),
            "{reason} in /metrics"
        );
    }
}

/// Makes points drop for `reason`; the origin that should be charged, and the stats.
async fn provoke(reason: DropReason) -> (String, Arc<crate::stats::Stats>) {
    let (_d, w) = workdir_with(&[
        ("metric/m.p", "if seq == 1 { drop() }\n"),
        ("logging/l.p", "add_key(status, \"debug\")\n"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let io = match reason {
        DropReason::TooLarge => setup_with(TestIo {
            max_raw_body_size: 10,
            ..TestIo::default()
        }),
        DropReason::Expired => setup_with(TestIo {
            queue: Some((dir.path().to_path_buf(), diskq::Options::default())),
            expire_after: Duration::ZERO,
            ..TestIo::default()
        }),
        DropReason::QueueFull => setup_with(TestIo {
            queue: Some((
                dir.path().to_path_buf(),
                diskq::Options {
                    capacity_bytes: 10,
                    ..diskq::Options::default()
                },
            )),
            ..TestIo::default()
        }),
        _ => setup_with(TestIo::default()),
    };
    let st = stage_over(&w, &[], io);
    let origin = st.ingest.origin("in");
    let expect_origin = match reason {
        DropReason::Election => {
            let gate = Arc::new(TestGate {
                open: AtomicBool::new(false),
                tags: vec![],
            });
            let gated = origin.clone().gated(gate);
            feed(&st, &gated, Category::Metric, vec![metric("m", 0)]).await;
            "in"
        }
        DropReason::Pipeline => {
            feed(&st, &origin, Category::Metric, vec![metric("m", 1)]).await;
            "in"
        }
        DropReason::StatusIgnored => {
            let run = RunOptions {
                ignore_status: vec!["debug".into()],
                ..RunOptions::default()
            };
            let mut p = Point::new(Category::Logging, "l");
            p.set_field("message", Value::Str("x".into()));
            let opts = FeedOptions {
                run: &run,
                ..FeedOptions::default()
            };
            st.ingest
                .feed(&origin, Category::Logging, vec![p], &opts)
                .await
                .unwrap();
            "in"
        }
        DropReason::Empty => {
            st.ingest.empty(&origin, Category::Logging, 2);
            "in"
        }
        DropReason::Unsupported => {
            // A receiver that reads records it does not collect reports them itself.
            st.stats.points_dropped(crate::stats::PointsDropped {
                category: Category::Metric,
                reason,
                count: 1,
                origin: origin.stats().as_ref(),
                detail: Some("a DogStatsD event"),
            });
            "in"
        }
        // A receiver's sampler and filters decide before feeding, and count through the stage
        // (the span pipeline's tests prove what they drop).
        DropReason::Sampled => {
            st.ingest
                .discard(&origin, Category::Tracing, reason, 3, Some("trace"));
            "in"
        }
        DropReason::Filtered => {
            install_filters(&st, &[("metric", &["{ seq = 7 }"])]);
            feed(&st, &origin, Category::Metric, vec![metric("m", 7)]).await;
            "in"
        }
        DropReason::Invalid => {
            let req = WriteRequest {
                loose: true,
                ..write_req(Category::Metric)
            };
            st.ingest
                .write(&origin, &req, WriteBody::Lines(b"m f=1i\nm f=\n"))
                .await
                .unwrap();
            "in"
        }
        DropReason::NoField => {
            let mut p = Point::new(Category::Metric, "cpu");
            p.set_field("only", Value::Str("s".into()));
            feed(&st, &origin, Category::Metric, vec![p]).await;
            "in"
        }
        DropReason::Shutdown => {
            let Stage {
                io,
                ingest,
                rec: _,
                stats,
            } = st;
            io.shutdown(Instant::now() + Duration::from_secs(5)).await;
            assert!(
                ingest
                    .feed(
                        &origin,
                        Category::Metric,
                        vec![metric("m", 5)],
                        &FeedOptions::default()
                    )
                    .await
                    .is_err()
            );
            return ("in".into(), stats);
        }
        DropReason::TooLarge => {
            feed(&st, &origin, Category::Metric, vec![metric("m", 5)]).await;
            "io"
        }
        DropReason::Refused => {
            st.rec.refuse.store(true, Relaxed);
            feed(&st, &origin, Category::Metric, vec![metric("m", 5)]).await;
            "output/rec"
        }
        DropReason::SendFailed => {
            st.rec.fail.store(true, Relaxed);
            feed(&st, &origin, Category::Metric, vec![metric("m", 5)]).await;
            "output/rec"
        }
        DropReason::Expired => {
            st.rec.fail.store(true, Relaxed);
            feed(&st, &origin, Category::Metric, vec![metric("m", 5)]).await;
            // Queued on disk; replayed once the sink is back, by then older than 0 s.
            tokio::time::sleep(Duration::from_millis(1100)).await;
            st.rec.fail.store(false, Relaxed);
            let t0 = Instant::now();
            while st.stats.dropped(Category::Metric, reason) == 0
                && t0.elapsed() < Duration::from_secs(10)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            "output/rec"
        }
        DropReason::QueueFull => {
            st.rec.fail.store(true, Relaxed);
            feed(&st, &origin, Category::Metric, vec![metric("m", 5)]).await;
            "output/rec"
        }
    };
    let (_, stats) = st.finish().await;
    (expect_origin.to_string(), stats)
}
