//! Pipeline scripts managed in the console, pulled from DataWay as the original agent pulls
//! them: `GET /v1/datakit/pull?token=…&remote_pipelines=true&ts=<T>&relation_ts=<R>` on the
//! first DataWay URL, at start and every `[pipeline] remote_pull_interval` (at least 10 s).
//! The answer is
//!
//! ```json
//! {"remote_pipelines": {
//!    "update_time": 1700000000, "pipelines": [
//!      {"name": "nginx.p", "base64text": "…", "category": "logging", "asDefault": false}],
//!    "relation_update_time": 1700000001, "relation": [
//!      {"category": "logging", "source": "web", "name": "nginx.p"}]}}
//! ```
//!
//! `T` is the `update_time` of the scripts in place (0 on the first pull after a start, so a
//! start always takes DataWay's whole set, as the original does). An answer whose
//! `update_time` is `T` or not positive changes no script; `1` removes every pulled script;
//! another replaces them all. `relation_update_time` -1 leaves the relation (which script a
//! source's points go through, before any input's own choice) as it is; another value
//! replaces it. A script marked `asDefault` is its category's default unless
//! `[pipeline.default_pipeline]` names one.
//!
//! The scripts are kept as files under `<workdir>/pipeline_remote/<category>/` (with the
//! answer's times, defaults and relation in `pipeline_remote/remote.json`), where the script
//! store finds them first (precedence: remote > gitrepo > workdir > built-in), so a start
//! without DataWay still runs them. Each change reloads the stage's scripts at once. A pull
//! that fails — no answer, a status other than 200, a body that does not read, a script whose
//! base64 or name is bad — changes nothing and is counted; the error is shown in
//! `datakit monitor`'s errors. A DataWay URL other than the one the scripts came from (another
//! workspace) removes them before the first pull.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::config::MainConfig;
use crate::net::{ClientOptions, Proxy, TlsOptions, dataway};
use crate::pipeline::store::{category_dir, remote_dir, script_name};
use crate::point::Category;
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::workdir::Workdir;

/// The shortest pull interval (the original's floor).
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// The largest answer read.
const MAX_BODY: u64 = 64 << 20;

/// `update_time` that removes every pulled script.
const DELETE_ALL: i64 = 1;

const STATE_FILE: &str = "remote.json";

/// Why a pull changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    #[error("remote Pipeline pull: {0}")]
    Transport(String),
    #[error("remote Pipeline pull: HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("remote Pipeline pull: the answer is not the remote_pipelines JSON: {0}")]
    Body(String),
    #[error("remote Pipeline pull: script {name:?} ({category}): {why}")]
    Script {
        name: String,
        category: String,
        why: String,
    },
    #[error("remote Pipeline pull: saving the scripts under {path}: {error}")]
    Save { path: String, error: String },
    #[error("remote Pipeline pull setup: {0}")]
    Setup(String),
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    remote_pipelines: Option<Remote>,
}

#[derive(Debug, Deserialize)]
struct Remote {
    #[serde(default)]
    update_time: i64,
    #[serde(default)]
    pipelines: Option<Vec<Unit>>,
    #[serde(default)]
    relation_update_time: i64,
    #[serde(default)]
    relation: Option<Vec<Relation>>,
}

#[derive(Debug, Deserialize)]
struct Unit {
    name: String,
    #[serde(default)]
    base64text: String,
    #[serde(default)]
    category: String,
    #[serde(default, rename = "asDefault")]
    as_default: bool,
}

#[derive(Debug, Deserialize)]
struct Relation {
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    name: String,
}

/// What the pulled scripts came with, kept in `pipeline_remote/remote.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The DataWay URL they came from.
    pub site: String,
    pub update_time: i64,
    /// Default script per category (`asDefault`).
    pub defaults: BTreeMap<String, String>,
    pub relation_update_time: i64,
    /// Category → source → script.
    pub relation: BTreeMap<String, BTreeMap<String, String>>,
}

/// The state of the scripts pulled so far (empty when none, or unreadable).
pub fn read_state(workdir: &Workdir) -> State {
    std::fs::read(remote_dir(workdir).join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// A category of an answer: the original's names (`logging`, `metric`, …) and its short
/// ones (`L`, `M`, …).
fn category(name: &str) -> Option<Category> {
    Category::parse(name)
}

/// A script name DataWay may give: a plain file name.
fn check_name(name: &str) -> Result<String, String> {
    let n = script_name(name);
    if name.is_empty()
        || n.contains('/')
        || n.contains('\\')
        || n.contains('\0')
        || n.starts_with('.')
    {
        return Err("not a plain file name".into());
    }
    Ok(n)
}

/// Pulls the console's scripts.
pub struct Puller {
    agent: ureq::Agent,
    url: String,
    site: String,
    workdir: Workdir,
    stats: Arc<Stats>,
    /// Reloads the stage's scripts after a change.
    reload: Box<dyn Fn() + Send>,
    first: bool,
    interval: Duration,
}

impl Puller {
    /// A puller of the first DataWay URL; `None` without DataWay.
    pub fn new(
        c: &MainConfig,
        workdir: &Workdir,
        hostname: &str,
        stats: Arc<Stats>,
        reload: Box<dyn Fn() + Send>,
    ) -> Result<Option<Puller>, PullError> {
        let Some(site) = c.dataway.urls.first() else {
            return Ok(None);
        };
        let (base, query) = dataway::split_url(site).map_err(PullError::Setup)?;
        let agent = ClientOptions {
            proxy: Proxy::setting("[dataway] http_proxy", &c.dataway.http_proxy),
            tls: TlsOptions::verify(!c.dataway.tls_insecure),
            user_agent: Some(dataway::user_agent(hostname)),
            ..ClientOptions::output(c.dataway.timeout_v2.get())
        }
        .build()
        .map_err(|e| PullError::Setup(e.to_string()))?;
        let sep = if query.is_empty() { "" } else { "&" };
        Ok(Some(Puller {
            agent,
            url: format!("{base}/v1/datakit/pull?{query}{sep}remote_pipelines=true"),
            site: site.clone(),
            workdir: workdir.clone(),
            stats,
            reload,
            first: true,
            interval: c.pipeline.remote_pull_interval.get().max(MIN_INTERVAL),
        }))
    }

    /// Removes scripts pulled from another DataWay URL (another workspace): call before the
    /// scripts are first loaded.
    pub fn forget_other_site(&self) {
        let st = read_state(&self.workdir);
        let dir = remote_dir(&self.workdir);
        if st.site != self.site && dir.exists() {
            tracing::info!(dir = %dir.display(), "remote Pipeline: the scripts were pulled from another DataWay URL; removed");
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), "remote Pipeline: cannot remove: {e}");
            }
        }
    }

    fn fetch(&self, ts: i64, relation_ts: i64) -> Result<Vec<u8>, PullError> {
        let url = format!("{}&ts={ts}&relation_ts={relation_ts}", self.url);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| PullError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| PullError::Transport(format!("reading the answer: {e}")))?;
        if status != 200 {
            let body = super::pull::answer_excerpt(&body);
            return Err(PullError::Status { status, body });
        }
        Ok(body)
    }

    /// One pull (blocking): the answer's scripts and relation in place and the stage's scripts
    /// reloaded, or the failure recorded (nothing changed). Returns whether anything changed.
    pub fn pull_once(&mut self) -> Result<bool, PullError> {
        let r = self.pull_inner();
        if let Err(e) = &r {
            self.stats.record_error("pipeline_remote", e.to_string());
        }
        r
    }

    fn pull_inner(&mut self) -> Result<bool, PullError> {
        let mut st = read_state(&self.workdir);
        if st.site != self.site {
            st = State {
                site: self.site.clone(),
                ..State::default()
            };
        }
        let ts = if self.first { 0 } else { st.update_time };
        let body = self.fetch(ts, st.relation_update_time)?;
        let answer: Answer =
            serde_json::from_slice(&body).map_err(|e| PullError::Body(e.to_string()))?;
        let Some(remote) = answer.remote_pipelines else {
            return Err(PullError::Body("remote_pipelines is null".into()));
        };
        let dir = remote_dir(&self.workdir);
        let mut changed = false;
        if remote.update_time == DELETE_ALL {
            if !list_scripts(&dir).is_empty() || !st.defaults.is_empty() {
                remove_scripts(&dir)?;
                changed = true;
            }
            st.defaults.clear();
            st.update_time = DELETE_ALL;
        } else if remote.update_time > 0 && remote.update_time != ts {
            let (files, defaults) = decode(remote.pipelines.unwrap_or_default())?;
            if files != list_scripts(&dir) || defaults != st.defaults {
                write_scripts(&dir, &files)?;
                tracing::info!(
                    scripts = files.len(),
                    "remote Pipeline: DataWay's scripts written"
                );
                changed = true;
            }
            st.defaults = defaults;
            st.update_time = remote.update_time;
        }
        if remote.relation_update_time != -1 {
            let mut rel: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for r in remote.relation.unwrap_or_default() {
                let Some(cat) = category(&r.category) else {
                    continue;
                };
                if r.source.is_empty() || r.name.is_empty() {
                    continue;
                }
                rel.entry(cat.as_str().to_string())
                    .or_default()
                    .insert(r.source, script_name(&r.name));
            }
            if rel != st.relation {
                changed = true;
            }
            st.relation = rel;
            st.relation_update_time = remote.relation_update_time;
        }
        save_state(&dir, &st)?;
        self.first = false;
        if changed {
            (self.reload)();
            tracing::info!(
                update_time = st.update_time,
                relation_update_time = st.relation_update_time,
                "remote Pipeline: DataWay's scripts in place"
            );
        }
        Ok(changed)
    }

    /// Pulls now, then every interval, until `stop`.
    pub async fn run(self, stop: Shutdown) {
        super::pull::run(self, stop).await
    }
}

impl super::pull::Pull for Puller {
    type Error = PullError;
    const WHAT: &'static str = "remote Pipeline";
    fn pull(&mut self) -> Result<bool, PullError> {
        self.pull_once()
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn failed(&self, e: &PullError) {
        log_failure(e);
    }
}

type Files = BTreeMap<(String, String), String>;

/// The answer's scripts by (category directory, file name), and the defaults.
fn decode(units: Vec<Unit>) -> Result<(Files, BTreeMap<String, String>), PullError> {
    let mut files = Files::new();
    let mut defaults = BTreeMap::new();
    for u in units {
        let bad = |why: String| PullError::Script {
            name: u.name.clone(),
            category: u.category.clone(),
            why,
        };
        let cat = category(&u.category).ok_or_else(|| bad("unknown category".into()))?;
        let name = check_name(&u.name).map_err(bad)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(u.base64text.trim())
            .map_err(|e| bad(format!("base64text: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        if u.as_default {
            defaults.insert(cat.as_str().to_string(), name.clone());
        }
        files.insert((category_dir(cat).to_string(), name), text);
    }
    Ok((files, defaults))
}

/// The scripts under `dir` now.
fn list_scripts(dir: &Path) -> Files {
    let mut out = Files::new();
    for cat in Category::ALL {
        let d = dir.join(category_dir(cat));
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("p") {
                continue;
            }
            if let (Some(n), Ok(text)) = (
                p.file_name().and_then(|n| n.to_str()),
                std::fs::read_to_string(&p),
            ) {
                out.insert((category_dir(cat).to_string(), n.to_string()), text);
            }
        }
    }
    out
}

fn save_err(path: &Path, e: std::io::Error) -> PullError {
    PullError::Save {
        path: path.display().to_string(),
        error: e.to_string(),
    }
}

/// Replaces every category directory under `dir` with `files` (each written to a temporary
/// name, then renamed).
fn write_scripts(dir: &Path, files: &Files) -> Result<(), PullError> {
    remove_scripts(dir)?;
    for ((cat, name), text) in files {
        let d = dir.join(cat);
        std::fs::create_dir_all(&d).map_err(|e| save_err(&d, e))?;
        let path = d.join(name);
        let tmp: PathBuf = d.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|e| save_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| save_err(&path, e))?;
    }
    Ok(())
}

fn remove_scripts(dir: &Path) -> Result<(), PullError> {
    for cat in Category::ALL {
        let d = dir.join(category_dir(cat));
        match std::fs::remove_dir_all(&d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(save_err(&d, e)),
        }
    }
    Ok(())
}

fn save_state(dir: &Path, st: &State) -> Result<(), PullError> {
    std::fs::create_dir_all(dir).map_err(|e| save_err(dir, e))?;
    let path = dir.join(STATE_FILE);
    let tmp = dir.join(".remote.json.tmp");
    let body = serde_json::to_vec_pretty(st).map_err(|e| PullError::Save {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    std::fs::write(&tmp, body).map_err(|e| save_err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| save_err(&path, e))
}

/// Logs a failed pull at most once a minute.
fn log_failure(e: &PullError) {
    static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
    if LOGGED.ready(60) {
        tracing::warn!("{e}; the scripts in place are kept");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, cat: &str, text: &str, def: bool) -> Unit {
        Unit {
            name: name.into(),
            base64text: base64::engine::general_purpose::STANDARD.encode(text),
            category: cat.into(),
            as_default: def,
        }
    }

    #[test]
    fn scripts_decode_by_category_with_defaults() {
        let (files, defaults) = decode(vec![
            unit("nginx.p", "logging", "add_key(a, 1)", false),
            unit("all", "M", "add_key(b, 2)", true),
        ])
        .unwrap();
        assert_eq!(
            files[&("logging".into(), "nginx.p".into())],
            "add_key(a, 1)"
        );
        assert_eq!(files[&("metric".into(), "all.p".into())], "add_key(b, 2)");
        assert_eq!(defaults["metric"], "all.p");
    }

    #[test]
    fn bad_scripts_refuse_the_answer() {
        for (u, why) in [
            (unit("../x.p", "logging", "", false), "plain file name"),
            (unit(".hidden.p", "logging", "", false), "plain file name"),
            (unit("x.p", "nope", "", false), "unknown category"),
            (
                Unit {
                    base64text: "!!".into(),
                    ..unit("x.p", "logging", "", false)
                },
                "base64text",
            ),
        ] {
            let e = decode(vec![u]).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn scripts_are_written_and_listed_back() {
        let dir = tempfile::tempdir().unwrap();
        let (files, _) = decode(vec![
            unit("a.p", "logging", "x = 1", false),
            unit("b.p", "metric", "y = 2", false),
        ])
        .unwrap();
        write_scripts(dir.path(), &files).unwrap();
        assert_eq!(list_scripts(dir.path()), files);
        let (fewer, _) = decode(vec![unit("a.p", "logging", "x = 3", false)]).unwrap();
        write_scripts(dir.path(), &fewer).unwrap();
        assert_eq!(list_scripts(dir.path()), fewer);
        remove_scripts(dir.path()).unwrap();
        assert!(list_scripts(dir.path()).is_empty());
    }
}
