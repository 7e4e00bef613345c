//! IO path: `Vec<Point>` → encoded, gzipped bodies handed to an output (issue target:
//! ≥ 1.5 M points/s on the project's 2-core machine). Run: `cargo bench --bench io`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::io::body::{BodyBuilder, Encoding};
use datakit::point::{Category, Point, Value};

/// 1 000 points shaped like the `cpu` input's: 4 tags, 10 float fields.
fn cpu_points() -> Vec<Point> {
    (0..1000)
        .map(|i| {
            let mut p = Point::new(Category::Metric, "cpu");
            p.set_tag("host", "web-01.example.com");
            p.set_tag("cpu", format!("cpu{}", i % 8));
            p.set_tag("zone", "cn-hangzhou-b");
            p.set_tag("ip", "10.1.2.3");
            for (n, f) in [
                "usage_user",
                "usage_system",
                "usage_idle",
                "usage_iowait",
                "usage_irq",
                "usage_softirq",
                "usage_steal",
                "usage_guest",
                "usage_nice",
                "usage_total",
            ]
            .iter()
            .enumerate()
            {
                p.set_field(*f, Value::Float((i * 7 + n) as f64 * 0.173));
            }
            p.time = 1_700_000_000_000_000_000 + i as i64 * 10_000_000_000;
            p
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pts = cpu_points();
    let mut g = c.benchmark_group("io_encode_gzip_1000_points");
    g.throughput(Throughput::Elements(pts.len() as u64));
    for (name, encoding, gzip) in [
        ("protobuf_gzip1", Encoding::Protobuf, Some(1)),
        ("line_protocol_gzip1", Encoding::LineProtocol, Some(1)),
        ("protobuf_raw", Encoding::Protobuf, None),
    ] {
        let b = BodyBuilder {
            category: Category::Metric,
            encoding,
            max_raw: 1 << 20,
            gzip,
            created: 0,
        };
        g.bench_function(name, |bench| {
            bench.iter(|| b.build(std::hint::black_box(&pts)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
