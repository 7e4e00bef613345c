//! A criterion measurement of the CPU time of the benchmark thread
//! (`CLOCK_THREAD_CPUTIME_ID`): on a machine shared with other work it leaves out the time
//! other processes hold the core, which wall time counts. Throughputs are per core.
//! Included by the benches with `#[path = "support/thread_cpu.rs"] mod thread_cpu;`.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// CPU time of the calling thread, in nanoseconds.
pub struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (d, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "µs cpu")
        } else {
            (1e6, "ms cpu")
        };
        values.iter_mut().for_each(|v| *v /= d);
        unit
    }
    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let (n, bytes) = match t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (*n, true),
            Throughput::Elements(n) => (*n, false),
            _ => (1, false),
        };
        let n = n as f64;
        let per_s = n * 1e9 / typical;
        let (d, unit) = match (per_s < 1e6, bytes) {
            (true, false) => (1e3, "Kelem/s/core"),
            (false, false) => (1e6, "Melem/s/core"),
            (true, true) => (1e3, "KB/s/core"),
            (false, true) => (1e6, "MB/s/core"),
        };
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v / d);
        unit
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
