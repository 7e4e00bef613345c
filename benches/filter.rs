//! Filters (see BENCHMARKS.md, "Filters"), CPU time of one thread:
//! - `filter/rules_20`: 20 rules of the logging category (the kinds of rules consoles hand out:
//!   equality, `in` lists, `re()`, `match` lists, numeric ranges, `and`/`or`) checked on 250
//!   logging points shaped as nginx.p leaves them (8 tags, 9 fields); no point matches, so every
//!   rule is evaluated on every point (the worst case for points kept);
//! - `filter/rules_20_half_dropped`: the same with every other point matching the last rule;
//! - `stage/no_filters`, `stage/rules_20`: the 250 points through the ingest stage (checker,
//!   global tags, time, filters) without and with the 20 rules: the stage's cost of filtering.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::filter::{Filters, RuleSet, Source};
use datakit::ingest::{FeedOptions, Ingest, ScriptChoice, ScriptSet, Scripts, Settings};
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

const RULES: [&str; 20] = [
    "{ source = 'mysql' and status = 'debug' }",
    "{ source = 'redis' }",
    "{ service in ['billing', 'auth', 'search', 'cart'] and status = 'info' }",
    "{ host in ['db-01', 'db-02', 'db-03'] }",
    "{ source = 'nginx' and status_code >= 600 }",
    "{ source = 'nginx' and http_url match ['^/healthz', '^/metrics$'] }",
    "{ client_ip = re(`^10\\.255\\.`) }",
    "{ http_method = 'OPTIONS' }",
    "{ status = 'debug' }",
    "{ browser in ['curl', 'kube-probe'] and source = 'nginx' }",
    "{ zone = 'cn-beijing-a' or zone = 'cn-beijing-b' }",
    "{ service = nil and source = 'app' }",
    "{ bytes > 100000000 }",
    "{ message match ['Deprecated', 'is deprecated'] and source = 'php' }",
    "{ source = 'nginx', http_version = '0.9' }",
    "{ filepath = '/var/log/nginx/debug.log' }",
    "{ env != 'production' and env != nil and source = 'nginx' }",
    "{ (status = 'warning' or status = 'notice') and source = 'syslog' }",
    "{ category != 'logging' }",
    "{ log_read_lines < 0 or trace_id = 'drop' }",
];

/// A logging point as nginx.p leaves it.
fn point(i: usize) -> Point {
    let mut p = Point::new(Category::Logging, "nginx");
    for (k, v) in [
        ("service", "nginx"),
        ("status", "info"),
        ("http_method", "GET"),
        ("http_version", "1.1"),
        ("browser", "Chrome"),
        ("host", "web-01.example.com"),
        ("zone", "cn-hangzhou-b"),
        ("env", "production"),
    ] {
        p.tags.push((k.into(), v.into()));
    }
    p.fields.push((
        "message".into(),
        Value::Str(format!(
            "10.0.0.{} - - [07/Dec/2026:10:00:00 +0800] \"GET /api/v1/items/{i} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"",
            i % 250
        )),
    ));
    p.fields.push((
        "client_ip".into(),
        Value::Str(format!("10.0.0.{}", i % 250)),
    ));
    p.fields
        .push(("http_url".into(), Value::Str(format!("/api/v1/items/{i}"))));
    p.fields.push(("status_code".into(), Value::Int(200)));
    p.fields.push(("bytes".into(), Value::Int(512)));
    p.fields
        .push(("agent".into(), Value::Str("Mozilla/5.0".into())));
    p.fields.push((
        "filepath".into(),
        Value::Str("/var/log/nginx/access.log".into()),
    ));
    p.fields
        .push(("log_read_lines".into(), Value::Int(i as i64)));
    p.fields
        .push(("trace_id".into(), Value::Str(format!("{:016x}", i * 7919))));
    p.time = datakit::clock::now_ns();
    p
}

fn rules() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "logging".to_string(),
        RULES.iter().map(|s| s.to_string()).collect(),
    )])
}

fn stage() -> (Ingest, Arc<Stats>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(Stats::new());
    let set = ScriptSet::load(
        &Workdir::new(dir.path()),
        &Default::default(),
        stats.clone(),
    );
    let ingest = Ingest::new(
        datakit::io::Queues::detached(stats.clone(), None),
        Scripts::new(set),
        Settings {
            global_tags: vec![("host".into(), "web-01.example.com".into())],
            time_correction: true,
        },
    );
    (ingest, stats, dir)
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let (set, rejected) = RuleSet::new(Category::Logging, &rules()["logging"]);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(set.rules().len(), 20);
    let kept: Vec<Point> = (0..BATCH).map(point).collect();
    assert!(
        kept.iter().all(|p| set.first_match(p).is_none()),
        "no point matches"
    );
    let half: Vec<Point> = (0..BATCH)
        .map(|i| {
            let mut p = point(i);
            if i % 2 == 0 {
                p.set_field("trace_id", Value::Str("drop".into()));
            }
            p
        })
        .collect();
    assert_eq!(
        half.iter()
            .filter(|p| set.first_match(*p) == Some(19))
            .count(),
        BATCH / 2
    );

    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("rules_20", |b| {
        b.iter(|| {
            for p in &kept {
                black_box(set.first_match(black_box(p)));
            }
        })
    });
    g.bench_function("rules_20_half_dropped", |b| {
        b.iter(|| {
            for p in &half {
                black_box(set.first_match(black_box(p)));
            }
        })
    });
    g.finish();

    let (ingest, stats, _dir) = stage();
    let origin = ingest.origin("logging");
    let opts = FeedOptions {
        script: ScriptChoice::Never,
        ..FeedOptions::default()
    };
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("no_filters", |b| {
        b.iter_batched(
            || kept.clone(),
            |pts| black_box(ingest.prepare_only(&origin, Category::Logging, pts, &opts)),
            criterion::BatchSize::LargeInput,
        )
    });
    let (f, problems) = Filters::compile(&rules());
    assert!(problems.is_empty());
    stats.filters.install(f, Source::Local, &[]);
    assert_eq!(
        ingest
            .prepare_only(&origin, Category::Logging, kept.clone(), &opts)
            .len(),
        BATCH
    );
    g.bench_function("rules_20", |b| {
        b.iter_batched(
            || kept.clone(),
            |pts| black_box(ingest.prepare_only(&origin, Category::Logging, pts, &opts)),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
