//! The ingest stage's own cost (see BENCHMARKS.md), on one thread, in CPU time:
//! - `logging_nginx/script`: the built-in nginx.p run on 250 points as the logging input
//!   builds them (what the stage always costs such points);
//! - `logging_nginx/stage`: the same points through the stage: script lookup and run, the
//!   logging checker, global tags, time;
//! - `logging_nginx/checker`: the logging checker alone on the script's output (the part of
//!   the stage that inputs' points did not go through before it);
//! - `metric_host/stage`: 60 cpu-like points (8 tags, 10 float fields) of a host input through
//!   the stage: no script, the metric checker, global tags, time.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::ingest::{FeedOptions, Ingest, ScriptChoice, ScriptSet, Scripts, Settings};
use datakit::pipeline::{Program, RunOptions, scripts};
use datakit::point::{Category, Point, Value};
use datakit::stats::Stats;
use datakit::workdir::Workdir;

#[path = "support/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpu;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BATCH: usize = 250;

fn nginx_lines(n: usize) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/tools/gen_nginx_log.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(n.to_string())
        .args(["--start", "1795000000"])
        .output()
        .expect("python3 runs benches/tools/gen_nginx_log.py");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A logging point as the logging input builds one.
fn log_point(line: &str, n: i64) -> Point {
    let mut p = Point::new(Category::Logging, "nginx");
    p.tags.push(("service".into(), "nginx".into()));
    p.tags.push(("status".into(), "info".into()));
    p.fields
        .push(("message".into(), Value::Str(line.to_string())));
    p.fields.push((
        "filepath".into(),
        Value::Str("/var/log/nginx/access.log".into()),
    ));
    p.fields.push(("log_read_lines".into(), Value::Int(n)));
    p.time = datakit::clock::now_ns() - 1000 * n;
    p
}

fn cpu_point(i: usize) -> Point {
    let mut p = Point::new(Category::Metric, "cpu");
    p.tags.push(("cpu".into(), format!("cpu{i}")));
    for k in [
        "user", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "nice", "total",
    ] {
        p.fields
            .push((format!("usage_{k}"), Value::Float(i as f64 * 0.37)));
    }
    p
}

fn stage() -> (Ingest, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(Stats::new());
    // As the agent runs scripts: with `[pipeline] script_time_limit` (100 ms);
    // SCRIPT_TIME_LIMIT=off measures without it.
    let limit = match std::env::var("SCRIPT_TIME_LIMIT").as_deref() {
        Ok("off") => None,
        _ => Some(std::time::Duration::from_millis(100)),
    };
    let set = ScriptSet::load(
        &Workdir::new(dir.path()),
        &Default::default(),
        stats.clone(),
    )
    .with_time_limit(limit);
    let ingest = Ingest::new(
        datakit::io::Queues::detached(stats, None),
        Scripts::new(set),
        Settings {
            global_tags: vec![
                ("host".into(), "web-01.example.com".into()),
                ("zone".into(), "cn-hangzhou-b".into()),
            ],
            time_correction: true,
        },
    );
    (ingest, dir)
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let lines = nginx_lines(BATCH);
    assert_eq!(lines.len(), BATCH);
    let (ingest, _dir) = stage();
    let origin = ingest.origin("logging");
    let nginx = Program::compile("nginx.p", scripts::get("nginx.p").unwrap()).unwrap();
    let run = RunOptions::default();
    let opts = FeedOptions {
        script: ScriptChoice::Map("nginx", ""),
        run: &run,
        ..FeedOptions::default()
    };
    // Every line is parsed and kept, or the benchmark measures the wrong thing.
    let batch: Vec<Point> = (0..BATCH).map(|i| log_point(&lines[i], i as i64)).collect();
    let out = ingest.prepare_only(&origin, Category::Logging, batch, &opts);
    assert_eq!(out.len(), BATCH);
    assert!(
        out.iter()
            .all(|p| p.get_field("status_code").is_some() && p.get_tag("host").is_some())
    );

    let mut g = c.benchmark_group("logging_nginx");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("script", |b| {
        b.iter(|| {
            for (i, l) in lines.iter().enumerate() {
                let mut p = log_point(l, i as i64);
                black_box(nginx.run_with(&mut p, &run).unwrap());
                black_box(&p);
            }
        })
    });
    g.bench_function("stage", |b| {
        b.iter(|| {
            let batch: Vec<Point> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| log_point(l, i as i64))
                .collect();
            black_box(ingest.prepare_only(&origin, Category::Logging, batch, &opts));
        })
    });
    // The parts: the logging checker alone on the script's output points.
    let shaped: Vec<Point> = ingest.prepare_only(
        &origin,
        Category::Logging,
        (0..BATCH).map(|i| log_point(&lines[i], i as i64)).collect(),
        &FeedOptions {
            script: ScriptChoice::Map("nginx", ""),
            run: &run,
            global_tags: false,
            ..FeedOptions::default()
        },
    );
    let checker = datakit::point::Checker::new(datakit::point::CheckOptions::logging());
    g.bench_function("checker", |b| {
        b.iter_batched(
            || shaped.clone(),
            |mut pts| {
                let mut warns = Vec::new();
                for p in pts.iter_mut() {
                    checker.check_into(p, &mut warns);
                }
                black_box(pts)
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();

    let origin = ingest.origin("cpu");
    let mut g = c.benchmark_group("metric_host");
    g.throughput(Throughput::Elements(60));
    g.bench_function("stage", |b| {
        b.iter(|| {
            let batch: Vec<Point> = (0..60).map(cpu_point).collect();
            black_box(ingest.prepare_only(
                &origin,
                Category::Metric,
                batch,
                &FeedOptions::default(),
            ));
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
