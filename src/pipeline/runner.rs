//! Running scripts inside the agent: the scripts of every category, loaded from the workdir
//! (plus the built-in ones), picked per source, and run on batches of points with their
//! outcome counted per script.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::store::ScriptStore;
use super::{Program, RunOptions};
use crate::point::{Category, Point};
use crate::stats::Stats;
use crate::workdir::Workdir;

/// The scripts in use, replaced as a whole on reload (SIGHUP).
#[derive(Clone)]
pub struct SharedPipelines(Arc<std::sync::RwLock<Arc<Pipelines>>>);

impl SharedPipelines {
    pub fn new(p: Pipelines) -> SharedPipelines {
        SharedPipelines(Arc::new(std::sync::RwLock::new(Arc::new(p))))
    }
    /// The scripts now (cheap: one `Arc` clone).
    pub fn current(&self) -> Arc<Pipelines> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn replace(&self, p: Pipelines) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
    }
}

/// Every category's scripts and the `[pipeline.default_pipeline]` choices.
pub struct Pipelines {
    stores: Vec<ScriptStore>,
    defaults: BTreeMap<Category, String>,
    stats: Arc<Stats>,
}

/// What running a batch gave.
#[derive(Debug, Default)]
pub struct Processed {
    /// The points to send (dropped ones removed).
    pub points: Vec<Point>,
    /// Points made by `create_point()`, each in its own category.
    pub extra: Vec<Point>,
}

impl Pipelines {
    /// Loads every category's scripts; compile errors show when a script is first used (and
    /// in `datakit pipeline check`).
    pub fn load(
        workdir: &Workdir,
        cfg: &crate::config::main_conf::PipelineConfig,
        stats: Arc<Stats>,
    ) -> Pipelines {
        let stores = Category::ALL
            .iter()
            .map(|c| ScriptStore::load(workdir, *c))
            .collect();
        let defaults = cfg
            .default_pipeline
            .iter()
            .filter_map(|(cat, script)| Some((Category::parse(cat)?, script.clone())))
            .collect();
        Pipelines {
            stores,
            defaults,
            stats,
        }
    }

    fn store(&self, cat: Category) -> &ScriptStore {
        &self.stores[cat.index()]
    }

    /// The script for points of `source` in `cat`: `explicit`, else `<source>.p`, else the
    /// category's default. Compile errors are logged (once per lookup) and counted.
    pub fn script(
        &self,
        cat: Category,
        source: &str,
        explicit: Option<&str>,
    ) -> Option<Arc<Program>> {
        let default = self.defaults.get(&cat).map(String::as_str);
        match self.store(cat).script_for(source, explicit, default)? {
            Ok(p) => Some(p),
            Err(e) => {
                let name = format!("{}/{}", cat.as_str(), e.script);
                self.stats.pipeline(&name).record_error(e.to_string());
                tracing::warn!(script = %name, error = %e, "Pipeline script does not compile; points pass unchanged");
                None
            }
        }
    }

    /// Runs `prog` on each point. A point whose run fails is kept as the script left it (and
    /// counted); dropped points are removed.
    pub fn run(&self, prog: &Program, points: Vec<Point>, opts: &RunOptions) -> Processed {
        let Some(first) = points.first() else {
            return Processed::default();
        };
        let name = format!("{}/{}", first.category.as_str(), prog.name);
        let stats = self.stats.pipeline(&name);
        let mut out = Processed {
            points: Vec::with_capacity(points.len()),
            extra: Vec::new(),
        };
        // Timed as a batch: two clock reads and the counters per point cost more than a
        // short script.
        let cat = first.category;
        let n = points.len() as u64;
        let mut dropped = 0u64;
        let t0 = Instant::now();
        for mut p in points {
            match prog.run_with(&mut p, opts) {
                Ok(o) => {
                    out.extra.extend(o.extra_points);
                    if o.dropped {
                        dropped += 1;
                    } else {
                        out.points.push(p);
                    }
                }
                Err(e) => {
                    stats.record_error(e.to_string());
                    out.points.push(p);
                }
            }
        }
        stats.record_runs(cat, n, t0.elapsed(), dropped);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_source_script_counts_and_drops() {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path());
        std::fs::create_dir_all(w.pipeline().join("metric")).unwrap();
        std::fs::write(
            w.pipeline().join("metric/app.p"),
            "if v == 0 { drop() }\nadd_key(\"seen\", true)\n",
        )
        .unwrap();
        std::fs::write(w.pipeline().join("metric/broken.p"), "add_key(\n").unwrap();
        let stats = Arc::new(Stats::new());
        let pl = Pipelines::load(&w, &Default::default(), stats.clone());
        let prog = pl.script(Category::Metric, "app", None).expect("app.p");
        let pts: Vec<Point> = (0..3)
            .map(|i| {
                let mut p = Point::new(Category::Metric, "app");
                p.set_field("v", i as i64);
                p
            })
            .collect();
        let out = pl.run(&prog, pts, &RunOptions::default());
        assert_eq!(out.points.len(), 2);
        assert!(out.points.iter().all(|p| p.get_field("seen").is_some()));
        assert!(pl.script(Category::Metric, "broken", None).is_none());
        assert!(pl.script(Category::Metric, "nothing", None).is_none());
        let snap = stats.snapshot();
        assert_eq!(snap.pipeline["metric/app.p"].points, 3);
        assert_eq!(snap.pipeline["metric/app.p"].dropped, 1);
        assert_eq!(snap.pipeline["metric/broken.p"].errors, 1);
    }
}
