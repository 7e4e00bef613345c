//! `host_processes`: one object per process (`host_processes`, category object) every
//! `object_interval`, and optionally one metric point per process every `metric_interval`.
//!
//! Per process it reads `/proc/<pid>/stat` (times, faults, memory, threads, start),
//! `/proc/<pid>/status` (owner, context switches, memory details), `/proc/<pid>/io`, counts
//! `/proc/<pid>/fd` (`open_files`), and for objects reads the `cwd` link. The command line and
//! the container ID (`/proc/<pid>/cgroup`) are read once per process, not every pass.
//! `status` and `io` are scanned for the few keys needed rather than parsed into maps.
//!
//! Fixes against the original:
//! - `username` is the owner's name (from `HOST_ETC/passwd`, else the numeric uid); the
//!   original's inverted check gave `nobody` for every process it could look up;
//! - `enable_open_files` works: `false` skips the `/proc/<pid>/fd` scan (default `true`, what the
//!   original always did);
//! - `process_name` filters objects too, not only metrics;
//! - `metric_interval` is kept in its own range under protect mode ([10s, 1m]) and
//!   `min_run_time` is not clamped.
//!
//! The input's parts: `config` (options and their checks), `parse` (the `/proc` text
//! formats), `collector` (one pass over `/proc`: a point per process, as an object or a
//! metric), `message` (the object's JSON `message`), `spec` (the declared measurements).

use std::time::Duration;

use crate::inputs::{Input, InputCtx, InputEntry, InputError, InputSpec, entry, run_periodic};

mod collector;
mod config;
mod message;
mod parse;
mod spec;

pub use collector::ProcCollector;
pub use config::{METRIC_LIMITS, OBJECT_LIMITS, ProcessesConfig};
pub use parse::{
    StatLite, StatusLite, container_id, listen_inodes, parse_io, parse_passwd, parse_stat,
    parse_status, state_word,
};
pub use spec::MEASUREMENTS;

const NAME: &str = "host_processes";

/// Which form a collector emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Metric,
}

/// The running input: the object loop, and the metric loop with `open_metric`.
struct ProcessesInput {
    object: ProcCollector,
    object_interval: Duration,
    metric: Option<ProcCollector>,
    metric_interval: Duration,
}

impl Input for ProcessesInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> crate::inputs::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let s = *self;
            let objects = run_periodic(Box::new(s.object), s.object_interval, ctx.clone());
            match s.metric {
                None => objects.await,
                Some(m) => {
                    let metrics = run_periodic(Box::new(m), s.metric_interval, ctx);
                    tokio::try_join!(objects, metrics).map(|_| ())
                }
            }
        })
    }
}

pub const ENTRY: InputEntry = entry::<ProcessesConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Processes of the host as objects (every 5 minutes) and optionally as metrics.",
    singleton: true,
    interval: None,
    measurements: MEASUREMENTS,
});
