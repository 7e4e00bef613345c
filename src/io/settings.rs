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
}

impl IoSettings {
    pub fn from_config(c: &MainConfig) -> IoSettings {
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
        }
    }
}
