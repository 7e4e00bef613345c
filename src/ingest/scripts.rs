//! Scripts in the stage: every category's Pipeline scripts (the workdir's, git-managed ones and
//! the built-in ones), which script a point goes through, and running a batch with each
//! script's runs, drops, errors and cost counted.
//!
//! Which script, as the original decides it, per point:
//! 1. a name to look the script up by: for `tracing` and `profiling` the `service` tag, for
//!    `security` the `category` tag, for `keyevent` the `df_source` tag, for `rum`
//!    `<app_id>_<measurement>`, for every other category the measurement;
//! 2. the console's relation (pulled from DataWay, `ingest::remote`): when it names a script
//!    for that name, that script;
//! 3. the producer's map (the logging input's `pipeline` option, the write API's `source`):
//!    when it has that name, its script (`-` for none);
//! 4. else `<name>.p`; when there is no such script (or it does not compile), the category's
//!    `[pipeline.default_pipeline]` script, else the console's default script for it.
//!
//! A script that does not compile lets points pass unchanged; its error is logged and counted
//! once per loaded version of the scripts (a reload loads a new version).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::pipeline::store::{ScriptStore, script_name};
use crate::pipeline::{Program, RunOptions};
use crate::point::{Category, Point, PointView, ValueView};
use crate::stats::{DropReason, PipelineStats, Stats};
use crate::workdir::Workdir;

/// The producer's part in choosing scripts.
#[derive(Debug, Clone, Copy, Default)]
pub enum ScriptChoice<'a> {
    /// The original's rules (above), with an optional map entry: points whose lookup name is
    /// `.0` go through script `.1` (`-`: none; empty: the rules alone).
    #[default]
    Auto,
    Map(&'a str, &'a str),
    /// No script (points a script made with `create_point()`).
    Never,
}

/// A script picked for points, with its counters.
#[derive(Clone)]
pub(crate) struct Selected {
    pub(crate) program: Arc<Program>,
    pub(crate) stats: Arc<PipelineStats>,
}

/// One loaded version of every category's scripts.
pub struct ScriptSet {
    stores: Vec<ScriptStore>,
    defaults: BTreeMap<Category, String>,
    /// The console's relation: category → lookup name → script.
    relation: HashMap<Category, HashMap<String, String>>,
    stats: Arc<Stats>,
    /// Counters per `<category>/<script>` (as many as there are scripts).
    handles: Mutex<HashMap<(Category, String), Arc<PipelineStats>>>,
    /// Scripts whose compile error was reported (once per version).
    reported: Mutex<HashSet<(Category, String)>>,
    /// How long one run may take on one point (`[pipeline] script_time_limit`).
    time_limit: Option<std::time::Duration>,
}

impl ScriptSet {
    /// Loads every category's scripts; compile errors show when a script is first picked (and
    /// in `datakit pipeline check`).
    pub fn load(
        workdir: &Workdir,
        default_pipeline: &BTreeMap<String, String>,
        stats: Arc<Stats>,
    ) -> ScriptSet {
        let stores = Category::ALL
            .iter()
            .map(|c| ScriptStore::load(workdir, *c))
            .collect();
        let remote = super::remote::read_state(workdir);
        // A local default wins over the console's (as in the original).
        let mut defaults: BTreeMap<Category, String> = remote
            .defaults
            .iter()
            .filter_map(|(cat, script)| Some((Category::parse(cat)?, script.clone())))
            .collect();
        defaults.extend(
            default_pipeline
                .iter()
                .filter_map(|(cat, script)| Some((Category::parse(cat)?, script.clone()))),
        );
        let relation = remote
            .relation
            .into_iter()
            .filter_map(|(cat, m)| Some((Category::parse(&cat)?, m.into_iter().collect())))
            .collect();
        ScriptSet {
            stores,
            defaults,
            relation,
            stats,
            handles: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashSet::new()),
            time_limit: None,
        }
    }

    /// The scripts as the daemon would load them, for a command that only looks at them.
    pub fn load_detached(
        workdir: &Workdir,
        default_pipeline: &BTreeMap<String, String>,
    ) -> ScriptSet {
        ScriptSet::load(workdir, default_pipeline, Arc::new(Stats::new()))
    }

    /// Stops each run that takes longer than `limit` on a point (`None`: no limit); the point
    /// is then handled as after any script error.
    pub fn with_time_limit(mut self, limit: Option<std::time::Duration>) -> ScriptSet {
        self.time_limit = limit;
        self
    }

    fn store(&self, cat: Category) -> &ScriptStore {
        &self.stores[cat.index()]
    }

    /// Whether no point of `cat` can go through a script (no script, no default): the stage
    /// then skips the lookups.
    pub fn is_empty(&self, cat: Category) -> bool {
        self.store(cat).is_empty() && !self.defaults.contains_key(&cat)
    }

    fn handle(&self, cat: Category, program: &Program) -> Arc<PipelineStats> {
        let mut h = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        h.entry((cat, program.name.clone()))
            .or_insert_with(|| {
                self.stats
                    .pipeline(&format!("{}/{}", cat.as_str(), program.name))
            })
            .clone()
    }

    /// Script `name` of `cat`, compiled; a compile error is reported once and gives `None`.
    fn get(&self, cat: Category, name: &str) -> Option<Selected> {
        match self.store(cat).get(name)? {
            Ok(program) => Some(Selected {
                stats: self.handle(cat, &program),
                program,
            }),
            Err(e) => {
                let first = self
                    .reported
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((cat, e.script.clone()));
                if first {
                    let label = format!("{}/{}", cat.as_str(), e.script);
                    self.stats.pipeline(&label).record_error(e.to_string());
                    tracing::warn!(script = %label, error = %e, "Pipeline script does not compile; its points pass unchanged");
                }
                None
            }
        }
    }

    /// The script for points of `cat` whose lookup name is `basis`.
    pub(crate) fn select(
        &self,
        cat: Category,
        basis: &str,
        choice: ScriptChoice<'_>,
    ) -> Option<Selected> {
        let related = self.relation.get(&cat).and_then(|m| m.get(basis));
        let name = match choice {
            ScriptChoice::Never => return None,
            _ if related.is_some() => script_name(related?),
            ScriptChoice::Map(from, to) if from == basis && to == "-" => return None,
            ScriptChoice::Map(from, to) if from == basis && !to.is_empty() => script_name(to),
            _ => script_name(basis),
        };
        if let Some(s) = self.get(cat, &name) {
            return Some(s);
        }
        let default = self.defaults.get(&cat)?;
        self.get(cat, default)
    }

    /// Which script points of `cat` whose lookup name is `basis` go through, and why (what
    /// `datakit pipeline which` prints). `explicit` is the producer's choice for them (a
    /// logging input's `pipeline` option).
    pub fn explain(&self, cat: Category, basis: &str, explicit: Option<&str>) -> Choice {
        let related = self.relation.get(&cat).and_then(|m| m.get(basis));
        let (name, rule) = match (related, explicit) {
            (Some(r), _) => (script_name(r), Rule::Relation),
            (None, Some("-")) => {
                return Choice {
                    rule: Rule::NoneChosen,
                    script: None,
                };
            }
            (None, Some(e)) if !e.is_empty() => (script_name(e), Rule::Input),
            _ => (script_name(basis), Rule::Name),
        };
        let found = |name: &str, rule: Rule| {
            let store = self.store(cat);
            store.source(name).map(|_| Choice {
                rule,
                script: Some(ChosenScript {
                    name: name.to_string(),
                    origin: store.origin(name),
                    path: store.path(name).map(|p| p.to_path_buf()),
                    compile_error: store.get(name).and_then(|r| r.err()).map(|e| e.to_string()),
                }),
            })
        };
        if let Some(c) = found(&name, rule) {
            return c;
        }
        match self.defaults.get(&cat) {
            Some(d) => found(d, Rule::Default).unwrap_or(Choice {
                rule: Rule::Missing(vec![name, d.clone()]),
                script: None,
            }),
            None => Choice {
                rule: Rule::Missing(vec![name]),
                script: None,
            },
        }
    }

    /// The script the producer names for points of `source` (the logging input's lookup: its
    /// `pipeline` option, else `<source>.p`, else the category's default).
    pub fn script_for(
        &self,
        cat: Category,
        source: &str,
        explicit: Option<&str>,
    ) -> Option<Arc<Program>> {
        let choice = match explicit {
            Some(e) => ScriptChoice::Map(source, e),
            None => ScriptChoice::Auto,
        };
        self.select(cat, source, choice).map(|s| s.program)
    }
}

/// Why a script was chosen (see [`ScriptSet::explain`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The console's relation names it for the source.
    Relation,
    /// The producer names it (a logging input's `pipeline`).
    Input,
    /// The producer says none (`pipeline = "-"`).
    NoneChosen,
    /// `<name>.p`.
    Name,
    /// The category's default (`[pipeline.default_pipeline]`, else the console's).
    Default,
    /// No such script: the names looked for.
    Missing(Vec<String>),
}

/// The script chosen and where it comes from.
#[derive(Debug, Clone)]
pub struct ChosenScript {
    pub name: String,
    pub origin: Option<crate::pipeline::store::Origin>,
    pub path: Option<std::path::PathBuf>,
    /// Why it does not compile (its points then pass unchanged).
    pub compile_error: Option<String>,
}

/// What [`ScriptSet::explain`] says.
#[derive(Debug, Clone)]
pub struct Choice {
    pub rule: Rule,
    pub script: Option<ChosenScript>,
}

/// The name a point's script is looked up by (see the module docs); `None` when the point
/// lacks the key its category looks at.
pub(crate) fn lookup_name<'p>(
    cat: Category,
    p: &'p (impl PointView + ?Sized),
) -> Option<Cow<'p, str>> {
    let key = match cat {
        Category::Tracing | Category::Profiling => "service",
        Category::Security => "category",
        Category::KeyEvent => "df_source",
        Category::Rum => {
            let app = string_key(p, "app_id")?;
            return Some(Cow::Owned(format!("{app}_{}", p.name())));
        }
        _ => return Some(Cow::Borrowed(p.name())),
    };
    string_key(p, key).map(Cow::Borrowed)
}

/// The value of tag `key`, or of a string field `key`.
fn string_key<'p>(p: &'p (impl PointView + ?Sized), key: &str) -> Option<&'p str> {
    if let Some((_, v)) = p.tags().find(|(k, _)| *k == key) {
        return Some(v);
    }
    p.fields().find_map(|(k, v)| match v {
        ValueView::Str(s) if k == key => Some(s),
        _ => None,
    })
}

/// Scripts shared by the stage and replaced as a whole on reload (SIGHUP).
#[derive(Clone)]
pub struct Scripts(Arc<RwLock<Arc<ScriptSet>>>);

impl Scripts {
    pub fn new(set: ScriptSet) -> Scripts {
        Scripts(Arc::new(RwLock::new(Arc::new(set))))
    }
    /// The scripts now (cheap: one `Arc` clone).
    pub fn current(&self) -> Arc<ScriptSet> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn replace(&self, set: ScriptSet) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }
}

/// What running scripts over a batch dropped, by script and reason.
#[derive(Debug, Default)]
pub(crate) struct ScriptDrops {
    pub(crate) drops: Vec<(String, DropReason, u64)>,
}

impl ScriptDrops {
    fn add(&mut self, script: &str, reason: DropReason) {
        match self
            .drops
            .iter_mut()
            .find(|(s, r, _)| *r == reason && s == script)
        {
            Some(e) => e.2 += 1,
            None => self.drops.push((script.to_string(), reason, 1)),
        }
    }
}

/// Runs of one script over consecutive points, timed together: two clock reads and the
/// counters per point would cost more than a short script.
struct Run {
    selected: Selected,
    started: Instant,
    points: u64,
    dropped: u64,
}

impl Run {
    fn finish(self, cat: Category) {
        self.selected
            .stats
            .record_runs(cat, self.points, self.started.elapsed(), self.dropped);
    }
}

/// What running a batch through its scripts gave.
#[derive(Default)]
pub(crate) struct BatchRun {
    /// The points left (dropped ones removed), in order.
    pub(crate) kept: Vec<Point>,
    /// Per kept point: whether a script ran on it.
    pub(crate) ran: Vec<bool>,
    /// Points made by `create_point()`.
    pub(crate) extra: Vec<Point>,
    pub(crate) drops: ScriptDrops,
}

/// Runs each point of `points` (all of category `cat`) through its script: dropped points
/// are removed (and tallied), points a script made are collected. A point whose run fails is
/// kept as the script left it (and the error counted).
pub(crate) fn run_batch(
    set: &ScriptSet,
    cat: Category,
    points: Vec<Point>,
    choice: ScriptChoice<'_>,
    opts: &RunOptions,
) -> BatchRun {
    let mut out = BatchRun {
        kept: Vec::with_capacity(points.len()),
        ran: Vec::with_capacity(points.len()),
        ..BatchRun::default()
    };
    let BatchRun {
        kept,
        ran,
        extra,
        drops,
    } = &mut out;
    // The last lookup, reused while consecutive points share their lookup name.
    let mut last: Option<(String, Option<Selected>)> = None;
    let mut run: Option<Run> = None;
    let logging_status = cat == Category::Logging && !opts.ignore_status.is_empty();
    for mut p in points {
        let selected = match lookup_name(cat, &p) {
            None => None,
            Some(name) => match &last {
                Some((n, s)) if *n == *name => s.clone(),
                _ => {
                    let s = set.select(cat, &name, choice);
                    last = Some((name.into_owned(), s.clone()));
                    s
                }
            },
        };
        let Some(selected) = selected else {
            if let Some(r) = run.take() {
                r.finish(cat);
            }
            // Without a script a logging point keeps its status (`info` unless set), and is
            // dropped when that status is ignored.
            if logging_status {
                let status = p.get_tag("status").unwrap_or("info");
                if opts.ignore_status.iter().any(|s| s == status) {
                    drops.add("", DropReason::StatusIgnored);
                    continue;
                }
            }
            kept.push(p);
            ran.push(false);
            continue;
        };
        let same = run
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(&r.selected.program, &selected.program));
        if !same {
            if let Some(r) = run.take() {
                r.finish(cat);
            }
            run = Some(Run {
                selected: selected.clone(),
                started: Instant::now(),
                points: 0,
                dropped: 0,
            });
        }
        let Some(r) = run.as_mut() else { continue };
        r.points += 1;
        match selected.program.run_limited(&mut p, opts, set.time_limit) {
            Ok(o) => {
                extra.extend(o.extra_points);
                if o.dropped {
                    r.dropped += 1;
                    let reason = if o.status_ignored {
                        DropReason::StatusIgnored
                    } else {
                        DropReason::Pipeline
                    };
                    drops.add(&selected.program.name, reason);
                } else {
                    kept.push(p);
                    ran.push(true);
                }
            }
            Err(e) => {
                if e.timed_out && selected.stats.record_timeout() == 0 {
                    tracing::warn!(
                        script = %format!("{}/{}", cat.as_str(), selected.program.name),
                        limit = ?set.time_limit.unwrap_or_default(),
                        error = %e,
                        "a Pipeline script ran past [pipeline] script_time_limit on a point: that run was stopped and the point kept as the script left it (counted; said once per script)"
                    );
                }
                selected.stats.record_error(e.to_string());
                kept.push(p);
                ran.push(true);
            }
        }
    }
    if let Some(r) = run.take() {
        r.finish(cat);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Value;

    fn set_with(
        files: &[(&str, &str)],
        defaults: &[(&str, &str)],
    ) -> (tempfile::TempDir, ScriptSet, Arc<Stats>) {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path());
        for (path, text) in files {
            let p = w.pipeline().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let stats = Arc::new(Stats::new());
        let d = defaults
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let set = ScriptSet::load(&w, &d, stats.clone());
        (dir, set, stats)
    }

    fn run(
        set: &ScriptSet,
        cat: Category,
        points: Vec<Point>,
        choice: ScriptChoice<'_>,
    ) -> (Vec<Point>, Vec<Point>, ScriptDrops) {
        let r = run_batch(set, cat, points, choice, &RunOptions::default());
        (r.kept, r.extra, r.drops)
    }

    #[test]
    fn runs_the_script_counts_and_drops() {
        let (_d, set, stats) = set_with(
            &[
                (
                    "metric/app.p",
                    "if v == 0 { drop() }\nadd_key(\"seen\", true)\n",
                ),
                ("metric/broken.p", "add_key(\n"),
            ],
            &[],
        );
        let pts: Vec<Point> = (0..3)
            .map(|i| {
                let mut p = Point::new(Category::Metric, "app");
                p.set_field("v", i as i64);
                p
            })
            .collect();
        let (kept, _, drops) = run(&set, Category::Metric, pts, ScriptChoice::Auto);
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().all(|p| p.get_field("seen").is_some()));
        assert_eq!(
            drops.drops,
            vec![("app.p".to_string(), DropReason::Pipeline, 1)]
        );
        assert!(
            set.select(Category::Metric, "broken", ScriptChoice::Auto)
                .is_none()
        );
        assert!(
            set.select(Category::Metric, "broken", ScriptChoice::Auto)
                .is_none()
        );
        assert!(
            set.select(Category::Metric, "nothing", ScriptChoice::Auto)
                .is_none()
        );
        let snap = stats.snapshot();
        assert_eq!(snap.pipeline["metric/app.p"].points, 3);
        assert_eq!(snap.pipeline["metric/app.p"].dropped, 1);
        assert_eq!(
            snap.pipeline["metric/broken.p"].errors, 1,
            "reported once per version"
        );
    }

    #[test]
    fn lookup_names_follow_the_category_rules() {
        let mut p = Point::new(Category::Tracing, "ddtrace");
        p.set_tag("service", "shop");
        assert_eq!(lookup_name(Category::Tracing, &p).as_deref(), Some("shop"));
        let mut r = Point::new(Category::Rum, "action");
        r.set_field("app_id", Value::Str("a1".into()));
        assert_eq!(lookup_name(Category::Rum, &r).as_deref(), Some("a1_action"));
        let mut s = Point::new(Category::Security, "scheck");
        assert_eq!(lookup_name(Category::Security, &s), None);
        s.set_tag("category", "system");
        assert_eq!(
            lookup_name(Category::Security, &s).as_deref(),
            Some("system")
        );
        let e = Point::new(Category::KeyEvent, "ev");
        assert_eq!(lookup_name(Category::KeyEvent, &e), None);
        let m = Point::new(Category::Metric, "cpu");
        assert_eq!(lookup_name(Category::Metric, &m).as_deref(), Some("cpu"));
    }

    #[test]
    fn maps_defaults_and_dashes() {
        let (_d, set, _) = set_with(
            &[
                ("metric/x.p", "add_key(x, 1)"),
                ("metric/cpu.p", "add_key(cpu, 1)"),
                ("metric/own.p", "add_key(own, 1)"),
            ],
            &[("metric", "x.p")],
        );
        let name = |b: &str, c| {
            set.select(Category::Metric, b, c)
                .map(|s| s.program.name.clone())
        };
        assert_eq!(name("cpu", ScriptChoice::Auto).as_deref(), Some("cpu.p"));
        assert_eq!(
            name("mem", ScriptChoice::Auto).as_deref(),
            Some("x.p"),
            "the category default"
        );
        assert_eq!(
            name("cpu", ScriptChoice::Map("cpu", "own.p")).as_deref(),
            Some("own.p")
        );
        assert_eq!(name("cpu", ScriptChoice::Map("cpu", "-")), None);
        assert_eq!(
            name("cpu", ScriptChoice::Map("cpu", "")).as_deref(),
            Some("cpu.p")
        );
        assert_eq!(
            name("cpu", ScriptChoice::Map("mem", "own.p")).as_deref(),
            Some("cpu.p")
        );
        assert_eq!(name("cpu", ScriptChoice::Never), None);
        assert!(!set.is_empty(Category::Metric));
        assert!(set.is_empty(Category::Object));
    }
}
