//! Line protocol decode and encode throughput, against the `influxdb-line-protocol` crate in
//! the same run. Two 1 000-line bodies:
//!
//! - metric: `cpu` points as the cpu input writes them (4 tags, 4 float and 2 int fields,
//!   nanosecond timestamp), about 190 bytes a line;
//! - logging: `nginx` access-log points (3 tags, a ~150-byte message string with escaped
//!   quotes, 2 int fields, timestamp), about 260 bytes a line.
//!
//! Run: `cargo bench --bench line_protocol` (figures in BENCHMARKS.md). Throughput is
//! reported in elements = points. Every benchmark runs twice: `wall/…` measures elapsed time,
//! `cpu/…` the CPU time of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`), which is what a
//! "per core" figure means on a machine shared with other work.

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::point::lp::{self, DecodeOptions, Encoder, Lines, PointRef, Precision};
use datakit::point::{Point, Value};
use influxdb_line_protocol::LineProtocolBuilder;

#[path = "support/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpu;

const N: usize = 1000;

fn metric_body() -> String {
    let mut s = String::new();
    for i in 0..N {
        let f = i as f64;
        s.push_str(&format!(
            "cpu,cpu=cpu{},host=host-{:03}.example.com,region=eu-west-1,az=eu-west-1{} usage_user={},usage_system={},usage_idle={},usage_iowait={},load5s={}i,cores={}i {}\n",
            i % 8,
            i % 100,
            ["a", "b", "c"][i % 3],
            12.5 + f / 1000.0,
            3.125 + (i % 17) as f64 / 8.0,
            84.0 - f / 200.0,
            0.01 * (i % 10) as f64,
            i % 50,
            8,
            1_700_000_000_000_000_000i64 + i as i64 * 10_000_000
        ));
    }
    s
}

fn logging_body() -> String {
    let mut s = String::new();
    for i in 0..N {
        s.push_str(&format!(
            "nginx,host=web-{:02},service=nginx,status=info message=\"192.168.{}.{} - - [25/Nov/2026:08:12:{:02} +0000] \\\"GET /api/v1/items/{}?page={} HTTP/1.1\\\" 200 {} \\\"-\\\" \\\"Mozilla/5.0 (X11; Linux x86_64)\\\"\",http_code=200i,bytes={}i {}\n",
            i % 20,
            i % 256,
            (i * 7) % 256,
            i % 60,
            i,
            i % 9,
            1000 + i,
            1000 + i,
            1_700_000_000_000_000_000i64 + i as i64 * 1_000_000
        ));
    }
    s
}

fn decode_benches<M: Measurement>(c: &mut Criterion<M>, clock: &str, name: &str, body: &str) {
    // Sanity: every reader takes every line.
    assert_eq!(
        Lines::new(body.as_bytes(), Precision::Nanosecond, 0)
            .filter(|r| r.is_ok())
            .count(),
        N
    );
    assert_eq!(
        influxdb_line_protocol::parse_lines(body)
            .filter(|r| r.is_ok())
            .count(),
        N
    );
    let mut g = c.benchmark_group(format!("{clock}/decode/{name}"));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("ours_borrowed", |b| {
        let mut p = PointRef::default();
        b.iter(|| {
            let mut lines = Lines::new(black_box(body.as_bytes()), Precision::Nanosecond, 0);
            let mut n = 0usize;
            while let Some(r) = lines.next_into(&mut p) {
                n += usize::from(r.is_ok()) + p.fields.len();
            }
            n
        })
    });
    g.bench_function("ours_owned", |b| {
        let opts = DecodeOptions::default();
        b.iter(|| lp::decode(black_box(body.as_bytes()), &opts).map(|d| d.points.len()))
    });
    g.bench_function("influxdb_line_protocol", |b| {
        b.iter(|| {
            influxdb_line_protocol::parse_lines(black_box(body))
                .map(|r| r.map(|l| l.field_set.len()).unwrap_or(0))
                .sum::<usize>()
        })
    });
    g.finish();
}

fn iox_encode(points: &[Point], buf: Vec<u8>) -> Vec<u8> {
    let mut b = LineProtocolBuilder::new_with(buf);
    for p in points {
        let mut m = b.measurement(&p.name);
        for (k, v) in &p.tags {
            m = m.tag(k, v);
        }
        let mut fields = p.fields.iter();
        let Some((k, v)) = fields.next() else {
            b = m.field("x", 0i64).close_line();
            continue;
        };
        let mut f = match v {
            Value::Int(x) => m.field(k, *x),
            Value::Uint(x) => m.field(k, *x),
            Value::Float(x) => m.field(k, *x),
            Value::Bool(x) => m.field(k, *x),
            Value::Str(x) => m.field(k, x.as_str()),
            _ => m.field(k, 0i64),
        };
        for (k, v) in fields {
            f = match v {
                Value::Int(x) => f.field(k, *x),
                Value::Uint(x) => f.field(k, *x),
                Value::Float(x) => f.field(k, *x),
                Value::Bool(x) => f.field(k, *x),
                Value::Str(x) => f.field(k, x.as_str()),
                _ => f.field(k, 0i64),
            };
        }
        b = if p.time != 0 {
            f.timestamp(p.time).close_line()
        } else {
            f.close_line()
        };
    }
    b.build()
}

fn encode_benches<M: Measurement>(c: &mut Criterion<M>, clock: &str, name: &str, body: &str) {
    let points = lp::decode(body.as_bytes(), &DecodeOptions::default())
        .unwrap()
        .points;
    let mut g = c.benchmark_group(format!("{clock}/encode/{name}"));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("ours_unsorted", |b| {
        let mut enc = Encoder::new().sorted(false);
        b.iter(|| {
            enc.clear();
            for p in black_box(&points) {
                let _ = enc.encode(p);
            }
            enc.len()
        })
    });
    g.bench_function("ours_sorted", |b| {
        let mut enc = Encoder::new();
        b.iter(|| {
            enc.clear();
            for p in black_box(&points) {
                let _ = enc.encode(p);
            }
            enc.len()
        })
    });
    g.bench_function("influxdb_line_protocol", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            buf.clear();
            buf = iox_encode(black_box(&points), std::mem::take(&mut buf));
            buf.len()
        })
    });
    g.finish();
}

fn all<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let metric = metric_body();
    let logging = logging_body();
    decode_benches(c, clock, "metric", &metric);
    decode_benches(c, clock, "logging", &logging);
    encode_benches(c, clock, "metric", &metric);
    encode_benches(c, clock, "logging", &logging);
}

fn wall(c: &mut Criterion) {
    let (metric, logging) = (metric_body(), logging_body());
    eprintln!(
        "metric body: {} bytes ({} per line); logging body: {} bytes ({} per line)",
        metric.len(),
        metric.len() / N,
        logging.len(),
        logging.len() / N
    );
    all(c, "wall");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    all(c, "cpu");
}

criterion_group!(wall_clock, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_clock, cpu_time);
