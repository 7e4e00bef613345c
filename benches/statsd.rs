//! The `statsd` input's per-line work: parsing DogStatsD lines and aggregating them into their
//! series (what the parser thread does for every received line), and the report of an
//! interval (flush and naming, per series).
//!
//! Run: `cargo bench --bench statsd`. The lines are what a JVM tracer and an application send:
//! 1 000 series (100 metric names × 10 tag sets) of counters, gauges, timings, histograms,
//! distributions and sets, three to five DogStatsD tags each, some sampled (`@0.5`), in chunks
//! of about 1 400 bytes (a datagram of the Python and Java clients). Cases:
//!
//! - `parse_aggregate`: chunks of lines into the aggregator (its series already exist, as in
//!   a steady stream); throughput is per line;
//! - `parse_aggregate_new_series`: the same into an empty aggregator each time (the first
//!   lines of an interval);
//! - `report`: flush and name the 1 000 series of an interval (percentiles included);
//!   throughput is per series.
//!
//! Each runs twice: `wall/…` elapsed time, `cpu/…` the CPU time of the benchmark thread
//! (`CLOCK_THREAD_CPUTIME_ID`), the per-core figure on a machine shared with other work.
//! Target (issue 25): ≤ 1 µs of agent CPU per line, all costs included; see BENCHMARKS.md
//! for the end-to-end UDP figure (`benches/statsd_udp.sh`).

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use datakit::inputs::statsd::aggregate::{AggOptions, Aggregator};
use datakit::inputs::statsd::naming::{Naming, percentile_name};

#[path = "support/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpu;

/// Chunks of about 1 400 bytes of DogStatsD lines over 1 000 series; the number of lines.
fn chunks() -> (Vec<Vec<u8>>, u64) {
    let kinds = ["c", "g", "ms", "h", "d", "c|@0.5", "ms|@0.5", "s"];
    let mut lines = Vec::new();
    let mut rng = fastrand::Rng::with_seed(25);
    for round in 0..20 {
        for m in 0..100 {
            let kind = kinds[m % kinds.len()];
            let tagset = (m * 7 + round) % 10;
            let value = if kind == "s" {
                format!("user{}", rng.u32(0..50))
            } else {
                format!("{}", rng.f64() * 100.0)
            };
            lines.push(format!(
                "jvm.app{}.metric_{m}:{value}|{kind}|#env:prod,service:shop-api,host:web-{tagset},route:/api/v{tagset}/items",
                m % 10
            ));
        }
    }
    let n = lines.len() as u64;
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for l in lines {
        if cur.len() + l.len() + 1 > 1400 {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(l.as_bytes());
        cur.push(b'\n');
    }
    out.push(cur);
    (out, n)
}

fn naming() -> Naming {
    Naming {
        separator: "_".into(),
        percentiles: [50.0, 90.0, 99.0, 99.9, 99.95, 100.0]
            .iter()
            .map(|&p| (p, percentile_name(p)))
            .collect(),
        ..Naming::default()
    }
}

fn benches<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let (chunks, lines) = chunks();
    let mut g = c.benchmark_group(format!("{clock}/statsd"));
    g.throughput(Throughput::Elements(lines));
    let mut warm = Aggregator::new(AggOptions::default());
    for ch in &chunks {
        assert_eq!(warm.add_chunk(ch).invalid, 0);
    }
    assert_eq!(warm.len(), 1000);
    g.bench_function("parse_aggregate", |b| {
        b.iter(|| {
            for ch in &chunks {
                black_box(warm.add_chunk(black_box(ch)));
            }
        })
    });
    g.bench_function("parse_aggregate_new_series", |b| {
        b.iter_batched(
            || Aggregator::new(AggOptions::default()),
            |mut a| {
                for ch in &chunks {
                    black_box(a.add_chunk(black_box(ch)));
                }
                a
            },
            BatchSize::LargeInput,
        )
    });
    let n = naming();
    g.throughput(Throughput::Elements(1000));
    g.bench_function("report", |b| {
        b.iter_batched(
            || {
                let mut a = Aggregator::new(AggOptions::default());
                for ch in &chunks {
                    a.add_chunk(ch);
                }
                a
            },
            |mut a| black_box(n.build(a.flush([true; 6], None), 1)),
            BatchSize::LargeInput,
        )
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
