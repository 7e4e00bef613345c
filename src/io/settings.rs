//! IO settings taken from the main config.

use std::time::Duration;

use crate::config::MainConfig;

/// How IO batches and encodes.
#[derive(Debug, Clone)]
pub struct IoSettings {
    /// A batch is handed over once more than this many points wait.
    pub max_cache_count: usize,
    /// ... or this long after the last hand-over.
    pub flush_interval: Duration,
    /// Worker threads that encode and deliver.
    pub workers: usize,
    /// The largest body before gzip; larger batches are split.
    pub max_raw_body_size: usize,
    /// The write-ahead journal of durable feeds (`None`: off).
    pub journal: Option<JournalSettings>,
    /// Categories that wait rather than drop at the journal's cap
    /// (`[dataway.wal] no_drop_categories`).
    pub no_drop: Vec<crate::point::Category>,
}

/// Where and how durable feeds are journaled.
#[derive(Debug, Clone)]
pub struct JournalSettings {
    /// One directory per category under this one.
    pub dir: std::path::PathBuf,
    /// Unfinished records a category may keep, in bytes.
    pub capacity_bytes: u64,
    /// Appends are synced this often (zero: each append).
    pub fsync_interval: Duration,
    /// Durable feeds go on in memory when the queue has room (else they are always read back).
    pub fast_path: bool,
}

impl IoSettings {
    /// From the main config; `wal_root` is the directory of the queues and journals.
    pub fn from_config(c: &MainConfig, wal_root: &std::path::Path) -> IoSettings {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        IoSettings {
            max_cache_count: c.io.max_cache_count.max(1) as usize,
            flush_interval: c.io.flush_interval.get().max(Duration::from_millis(10)),
            workers: if c.io.flush_workers == 0 {
                cores.clamp(1, 4)
            } else {
                c.io.flush_workers as usize
            },
            max_raw_body_size: c.dataway.max_raw_body_size as usize,
            journal: c.dataway.wal.journal.then(|| JournalSettings {
                dir: wal_root.join("journal"),
                capacity_bytes: (c.dataway.wal.max_capacity_gb * (1u64 << 30) as f64) as u64,
                fsync_interval: c.dataway.wal.fsync_interval.get(),
                fast_path: c.dataway.wal.mem_cap >= 0,
            }),
            no_drop: c.dataway.wal.no_drop(),
        }
    }
}
