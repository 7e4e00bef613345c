//! Test support: the stage over an IO that delivers line protocol to a recording sink.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Ingest, ScriptSet, Scripts, Settings};
use crate::io::Io;
use crate::io::testing::Recorder;
use crate::stats::Stats;
use crate::workdir::Workdir;

/// A running stage: scripts from `workdir` (with `default_pipeline`), global tag `host=h1`,
/// time correction on; IO batches 100 points or every 50 ms into the recorder.
pub(crate) struct Stage {
    pub(crate) io: Io,
    pub(crate) ingest: Ingest,
    pub(crate) rec: Arc<Recorder>,
    pub(crate) stats: Arc<Stats>,
}

pub(crate) fn stage(workdir: &Workdir, default_pipeline: &[(&str, &str)]) -> Stage {
    stage_over(workdir, default_pipeline, crate::io::testing::setup(None))
}

/// [`stage`] over an IO set up by the test.
pub(crate) fn stage_over(
    workdir: &Workdir,
    default_pipeline: &[(&str, &str)],
    (io, rec, stats): (Io, Arc<Recorder>, Arc<Stats>),
) -> Stage {
    let defaults: BTreeMap<String, String> = default_pipeline
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let scripts = Scripts::new(ScriptSet::load(workdir, &defaults, stats.clone()));
    let ingest = Ingest::new(
        io.queues(),
        scripts,
        Settings {
            global_tags: vec![("host".into(), "h1".into())],
            time_correction: true,
        },
    );
    Stage {
        io,
        ingest,
        rec,
        stats,
    }
}

impl Stage {
    /// Stops IO (delivering everything) and returns the points delivered.
    pub(crate) async fn finish(self) -> (Vec<crate::point::Point>, Arc<Stats>) {
        self.io
            .shutdown(std::time::Instant::now() + std::time::Duration::from_secs(5))
            .await;
        (self.rec.points(), self.stats)
    }
}
