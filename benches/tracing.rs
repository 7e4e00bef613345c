//! The ddtrace receiver's CPU per span (see BENCHMARKS.md), on one thread:
//! - `ddtrace_v04/decode`: a `/v0.4/traces` msgpack body of 50 realistic traces (10 spans each,
//!   10–20 tags, a 1–5 KB SQL statement on every fourth span) decoded;
//! - `ddtrace_v04/pipeline_keep`: decoded, converted (ids, tag mapping) and through the span
//!   pipeline into `tracing` points, every trace kept (the span's JSON written for each);
//! - `ddtrace_v04/pipeline_sample_1pct`: the same with `sampling_rate = 0.01`: what dropping
//!   costs;
//! - `ddtrace_v05/pipeline_keep`: the v0.5 (string table) body of the same traces, kept.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::inputs::ddtrace::{Converter, DdtraceConfig, decode, encode};
use datakit::inputs::trace::{PipelineOptions, SpanPipeline};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TRACES: usize = 50;
const SPANS: usize = 10;

fn traces() -> Vec<decode::DdTrace<'static>> {
    (0..TRACES)
        .map(|i| {
            encode::sample_trace(
                0x1234_5678_9abc_0000 + i as u64 * 7919,
                SPANS,
                1_795_000_000_000_000_000,
            )
        })
        .collect()
}

fn pipeline(rate: Option<f64>) -> SpanPipeline {
    SpanPipeline::new(PipelineOptions {
        source: "ddtrace",
        sampling_rate: rate,
        hostname: "bench-host".into(),
        ..PipelineOptions::default()
    })
}

fn bench(c: &mut Criterion) {
    let t = traces();
    let v04 = encode::v04(&t);
    let v05 = encode::v05(&t);
    let conv = Converter::new(&DdtraceConfig::default()).unwrap();
    let spans = (TRACES * SPANS) as u64;
    eprintln!("v0.4 body: {} bytes for {spans} spans", v04.len());

    let mut g = c.benchmark_group("ddtrace_v04");
    g.throughput(Throughput::Elements(spans));
    g.bench_function("decode", |b| {
        b.iter(|| black_box(decode::msgpack_v04(black_box(&v04)).unwrap()))
    });
    for (name, rate) in [
        ("pipeline_keep", None),
        ("pipeline_sample_1pct", Some(0.01)),
    ] {
        let p = pipeline(rate);
        g.bench_function(name, |b| {
            b.iter(|| {
                let traces = decode::msgpack_v04(black_box(&v04)).unwrap();
                let c = conv.convert_for(traces, "10.0.0.1", Some(&p));
                black_box(p.process(c.traces).points.len())
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("ddtrace_v05");
    g.throughput(Throughput::Elements(spans));
    let p = pipeline(None);
    g.bench_function("pipeline_keep", |b| {
        b.iter(|| {
            let traces = decode::msgpack_v05(black_box(&v05))
                .map(decode::merge_traces)
                .unwrap();
            let c = conv.convert(traces, "10.0.0.1");
            black_box(p.process(c.traces).points.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
