//! The `prom` input's parser on a real scrape: `tests/data/prom/node_exporter.prom`, the full
//! output of Debian's prometheus-node-exporter 1.5 with its default collectors (1 073 lines,
//! 507 samples, 57 KB).
//!
//! Run: `cargo bench --bench prom`; `benches/prom_vs_python.sh` runs it next to Python's
//! `prometheus_client` parser on the same file and prints the ratio (figures in
//! BENCHMARKS.md). Cases:
//!
//! - `parse`: the body to families, samples and labels (borrowed from the body);
//! - `parse_convert`: plus the conversion to DataKit points (naming rule, tags, merging).
//!
//! Each runs twice: `wall/…` measures elapsed time, `cpu/…` the CPU time of the benchmark
//! thread (`CLOCK_THREAD_CPUTIME_ID`), the per-core figure on a machine shared with other work.

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::inputs::prom::convert::Converter;
use datakit::inputs::prom::parse::{Format, parse};

#[path = "support/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpu;

fn body() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/prom/node_exporter.prom"
    );
    std::fs::read_to_string(path).expect("tests/data/prom/node_exporter.prom")
}

fn benches<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let body = body();
    let e = parse(&body, Format::Text);
    assert_eq!(e.error_count, 0);
    assert!(e.sample_count() > 500);
    let conv = Converter::default();
    let tags = vec![("instance".to_string(), "127.0.0.1:9100".to_string())];
    let mut g = c.benchmark_group(format!("{clock}/node_exporter"));
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| black_box(parse(black_box(&body), Format::Text)))
    });
    g.bench_function("parse_convert", |b| {
        b.iter(|| {
            let e = parse(black_box(&body), Format::Text);
            black_box(conv.convert(&e, &tags, 1))
        })
    });
    g.finish();
}

fn wall(c: &mut Criterion) {
    benches(c, "wall");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    benches(c, "cpu");
}

criterion_group!(wall_group, wall);
criterion_group! {
    name = cpu_group;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_group, cpu_group);
