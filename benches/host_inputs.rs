//! One collection of each host input and of all nine together, on this machine's real /proc
//! (issue target: all nine ≤ 3 ms of CPU). Run: `cargo bench --bench host_inputs`.
//!
//! Criterion reports wall time per collection; the CPU time (user + system of this process
//! over 1 000 collections of all nine) is printed at the end, since reading /proc is mostly
//! kernel time.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::Criterion;
use datakit::inputs::CollectCtx;
use datakit::inputs::host::default_collectors;

// The daemon's allocator, so allocation costs are the daemon's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn ctx() -> CollectCtx {
    CollectCtx {
        now_ns: datakit::clock::now_ns(),
        agent_stats: Arc::new(datakit::stats::Stats::new()),
        hostname: "bench".into(),
    }
}

fn bench(c: &mut Criterion) {
    let cx = ctx();
    let mut g = c.benchmark_group("host_inputs");
    for (name, mut col) in default_collectors() {
        let _ = col.collect(&cx); // prime the counters
        g.bench_function(name, |b| b.iter(|| black_box(col.collect(&cx))));
    }
    let mut all = default_collectors();
    g.bench_function("all_nine", |b| {
        b.iter(|| {
            for (_, col) in all.iter_mut() {
                black_box(col.collect(&cx).ok());
            }
        })
    });
    g.finish();
}

/// utime + stime of this process, in seconds.
fn cpu_seconds() -> f64 {
    let st = procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .expect("own /proc/self/stat");
    (st.utime + st.stime) as f64 / procfs::ticks_per_second() as f64
}

fn cpu_per_collection() {
    let cx = ctx();
    let mut all = default_collectors();
    for (_, col) in all.iter_mut() {
        let _ = col.collect(&cx);
    }
    for (name, col) in all.iter_mut() {
        let n = 300;
        let cpu0 = cpu_seconds();
        for _ in 0..n {
            black_box(col.collect(&cx).ok());
        }
        println!(
            "host_inputs/{name} CPU: {:.3} ms per collection",
            (cpu_seconds() - cpu0) * 1000.0 / n as f64
        );
    }
    let n = 1000;
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut points = 0;
    for _ in 0..n {
        for (_, col) in all.iter_mut() {
            points += col.collect(&cx).map(|p| p.len()).unwrap_or(0);
        }
    }
    let cpu = cpu_seconds() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    println!(
        "host_inputs/all_nine CPU: {:.3} ms per collection ({:.3} ms wall, {} points each), over {n} collections",
        cpu * 1000.0 / n as f64,
        wall * 1000.0 / n as f64,
        points / n
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    // `cargo bench` passes --bench; `cargo test --all-targets` only smoke-runs the benchmarks.
    if std::env::args().any(|a| a == "--bench") {
        cpu_per_collection();
    }
    c.final_summary();
}
