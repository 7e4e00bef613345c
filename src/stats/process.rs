//! The agent's own process as `/proc/self` shows it: CPU use between two samples, memory,
//! threads and open files.

use std::sync::Mutex;
use std::time::Instant;

use super::counters::lock;
use super::snapshot::ProcessSnapshot;

/// Seconds since the process started: the system's uptime less the process's start (in clock
/// ticks after boot).
fn process_age_secs(start_ticks: u64, ticks_per_sec: f64) -> Option<f64> {
    use procfs::Current;
    let up = procfs::Uptime::current().ok()?.uptime;
    let age = up - start_ticks as f64 / ticks_per_sec;
    (age > 0.0).then_some(age)
}

/// The previous CPU sample, for CPU % between two snapshots.
#[derive(Debug, Default, Clone, Copy)]
struct CpuSample {
    at: Option<Instant>,
    ticks: u64,
}

/// Samples `/proc/self`; CPU % is over the time since the previous sample (or since `started`).
#[derive(Debug)]
pub(super) struct ProcessProbe {
    started: Instant,
    last: Mutex<CpuSample>,
}

impl ProcessProbe {
    pub(super) fn new(started: Instant) -> ProcessProbe {
        ProcessProbe {
            started,
            last: Mutex::new(CpuSample::default()),
        }
    }

    pub(super) fn sample(&self) -> ProcessSnapshot {
        let mut p = ProcessSnapshot::default();
        if let Ok(me) = procfs::process::Process::myself() {
            if let Ok(stat) = me.stat() {
                let ticks = stat.utime + stat.stime;
                let now = Instant::now();
                let mut last = lock(&self.last);
                let tps = procfs::ticks_per_second().max(1) as f64;
                // The first sample covers the process's whole life: all its CPU over all its
                // time (not over the time since these stats were made).
                let (from_ticks, wall) = match last.at {
                    Some(at) => (last.ticks, now.duration_since(at).as_secs_f64()),
                    None => (
                        0,
                        process_age_secs(stat.starttime, tps)
                            .unwrap_or_else(|| now.duration_since(self.started).as_secs_f64()),
                    ),
                };
                if wall > 0.0 {
                    p.cpu_percent = (ticks.saturating_sub(from_ticks) as f64 / tps) / wall * 100.0;
                }
                *last = CpuSample {
                    at: Some(now),
                    ticks,
                };
                p.cpu_seconds_total = ticks as f64 / tps;
                p.threads = stat.num_threads.max(0) as u64;
                p.vms_bytes = stat.vsize;
            }
            if let Ok(status) = me.status() {
                p.rss_bytes = status.vmrss.unwrap_or(0) * 1024;
                p.hwm_bytes = status.vmhwm.unwrap_or(0) * 1024;
            }
            if let Ok(n) = me.fd_count() {
                p.open_files = n as u64;
            }
        }
        p.cpu_cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        p
    }
}
