//! Container logs: every `logging_search_interval` the running containers are listed; each one
//! the include/exclude rules keep gets a tailing instance of the `logging` input's tailer on
//! its json-file log (`LogPath`), with the original's tags, source and multiline rules; a
//! container no longer running has its instance retired (it reads on to the end of what the
//! container wrote, then ends). The engine's rotated files (`<log>.1`, …) are read too, so
//! lines of a file rotated away before a scan saw it are not lost. Positions are the `logging` input's, so a restarted agent or
//! container goes on where it stopped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::docker::{Client, Inspect, Summary};
use super::filter::Filter;
use crate::inputs::logging::decode::Charset;
use crate::inputs::logging::multiline::{AUTO_PATTERNS, Matcher};
use crate::inputs::logging::{TailParams, glob, tail, tailer};
use crate::inputs::{InputCtx, InputError, exec};

/// How container logs are read (from the input's options).
pub struct LogOptions {
    pub search_every: Duration,
    pub filter: Filter,
    pub multiline: bool,
    pub auto_multiline: bool,
    pub extra_patterns: Vec<String>,
    pub source_multiline: BTreeMap<String, String>,
    pub extra_source_map: Vec<(Regex, String)>,
    pub from_beginning: bool,
    pub remove_ansi: bool,
    pub white_list: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The `DATAKIT_LOGS_CONFIG` environment variable of a container: a JSON list of log
/// configurations (the original's keys).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct LogConfig {
    pub disable: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    pub source: String,
    pub service: String,
    pub pipeline: String,
    pub multiline_match: String,
    pub remove_ansi_escape_codes: bool,
    pub from_beginning: bool,
    pub tags: BTreeMap<String, String>,
}

/// A container whose log is to be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub id: String,
    pub log_path: String,
    pub source: String,
    pub service: String,
    pub pipeline: String,
    pub tags: Vec<(String, String)>,
    pub patterns: Vec<String>,
    pub remove_ansi: bool,
    pub from_beginning: bool,
}

/// What the container's `DATAKIT_LOGS_CONFIG` says, or why it cannot be used.
pub fn env_config(inspect: &Inspect) -> Result<Option<LogConfig>, String> {
    let Some(cfg) = &inspect.config else {
        return Ok(None);
    };
    let Some(v) = cfg
        .env
        .iter()
        .find_map(|e| e.strip_prefix("DATAKIT_LOGS_CONFIG="))
    else {
        return Ok(None);
    };
    if v.is_empty() {
        return Ok(None);
    }
    let list: Vec<LogConfig> =
        serde_json::from_str(v).map_err(|e| format!("DATAKIT_LOGS_CONFIG: {e}"))?;
    let mut stdout = None;
    for c in list {
        if c.kind.is_empty() || c.kind == "stdout" {
            stdout = Some(c);
        } else {
            return Err(format!(
                "DATAKIT_LOGS_CONFIG: type `{}` (files inside the container) is not supported by this agent; only `stdout`",
                c.kind
            ));
        }
    }
    Ok(stdout)
}

/// Decides how a container's log is read (the original's `newLogConfigs`): `None` when it is
/// not read (excluded, disabled, no log file).
pub fn plan(
    o: &LogOptions,
    c: &Summary,
    inspect: &Inspect,
    env: Option<&LogConfig>,
) -> Option<Found> {
    let label = |k: &str| c.labels.get(k).map_or("", String::as_str);
    let namespace = label("io.kubernetes.pod.namespace");
    if !o.filter.keeps(&c.image, namespace) || inspect.log_path.is_empty() {
        return None;
    }
    if env.is_some_and(|e| e.disable) {
        return None;
    }
    let k8s_name = label("io.kubernetes.container.name");
    let name = if k8s_name.is_empty() {
        c.name()
    } else {
        k8s_name
    };
    let mut source = env
        .map(|e| e.source.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| name.to_string());
    if let Some((_, s)) = o
        .extra_source_map
        .iter()
        .find(|(re, _)| re.is_match(&source))
    {
        source = s.clone();
    }
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    tags.insert("container_id".into(), c.id.clone());
    tags.insert("container_name".into(), name.to_string());
    tags.insert("image".into(), c.image.clone());
    let pod = label("io.kubernetes.pod.name");
    if !pod.is_empty() {
        tags.insert("pod_name".into(), pod.to_string());
        tags.insert("namespace".into(), namespace.to_string());
    }
    for (k, v) in o
        .tags
        .iter()
        .chain(env.map(|e| &e.tags).into_iter().flatten())
    {
        tags.insert(k.replace('.', "_"), v.clone());
    }
    let mut patterns = Vec::new();
    if o.multiline {
        match env
            .map(|e| e.multiline_match.as_str())
            .filter(|m| !m.is_empty())
        {
            Some(m) => patterns.push(m.to_string()),
            None if o.auto_multiline => {
                patterns.extend(o.extra_patterns.iter().cloned());
                patterns.extend(AUTO_PATTERNS.iter().map(|s| s.to_string()));
            }
            None => {}
        }
        if let Some(m) = o.source_multiline.get(&source) {
            patterns = vec![m.clone()];
        }
    }
    let service = env
        .map(|e| e.service.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| source.clone());
    Some(Found {
        id: c.id.clone(),
        log_path: inspect.log_path.clone(),
        source,
        service,
        pipeline: env.map(|e| e.pipeline.clone()).unwrap_or_default(),
        tags: tags.into_iter().collect(),
        patterns,
        remove_ansi: o.remove_ansi || env.is_some_and(|e| e.remove_ansi_escape_codes),
        from_beginning: o.from_beginning || env.is_some_and(|e| e.from_beginning),
    })
}

/// One listing: the containers to read, and problems to report (per container).
fn discover(
    clients: &[Client],
    o: &LogOptions,
    known: &HashMap<String, Option<Found>>,
) -> (Vec<(String, Option<Found>)>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for client in clients {
        if !client.path().exists() {
            continue;
        }
        let list = match client.list_running() {
            Ok(l) => l,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        for c in list {
            if c.labels
                .get("io.kubernetes.docker.type")
                .map(String::as_str)
                == Some("podsandbox")
            {
                continue;
            }
            // A container seen before keeps its plan: only new ones are inspected.
            if let Some(f) = known.get(&c.id) {
                out.push((c.id.clone(), f.clone()));
                continue;
            }
            let inspect = match client.inspect(&c.id) {
                Ok(i) => i,
                Err(_) => continue, // gone since the list
            };
            let env = match env_config(&inspect) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(format!("container {}: {e}", c.name()));
                    None
                }
            };
            out.push((c.id.clone(), plan(o, &c, &inspect, env.as_ref())));
        }
    }
    (out, errors)
}

struct Running {
    retire: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// Finds containers and runs their log instances until the input stops.
pub async fn run(clients: Vec<Client>, o: LogOptions, mut ctx: InputCtx) {
    let o = Arc::new(o);
    let clients = Arc::new(clients);
    let mut known: HashMap<String, Option<Found>> = HashMap::new();
    let mut running: HashMap<String, Running> = HashMap::new();
    // Instances reading a gone container's log to its end, by container.
    let mut retiring: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut tick = tokio::time::interval(o.search_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = ctx.shutdown.wait() => break,
        }
        let (c2, o2, k2) = (clients.clone(), o.clone(), known.clone());
        let (found, errors) = exec::run(exec::Lane::Host, move || discover(&c2, &o2, &k2)).await;
        for e in errors {
            tracing::warn!(error = %e, "container logs");
            ctx.stats.record_error(e);
        }
        let now: HashMap<String, Option<Found>> = found.into_iter().collect();
        for (id, r) in running.iter() {
            if !now.contains_key(id) {
                r.retire.store(true, Ordering::Relaxed);
            }
        }
        let gone: Vec<String> = running
            .keys()
            .filter(|id| !now.contains_key(*id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(r) = running.remove(&id) {
                tracing::info!(container = %id, "container gone: its log is read to its end and released");
                retiring.insert(id, r.task);
            }
        }
        retiring.retain(|_, t| !t.is_finished());
        for (id, f) in &now {
            let Some(f) = f else { continue };
            // A container back before its old instance ended is taken at a later look (two
            // instances on one file would read it twice).
            if running.contains_key(id) || retiring.contains_key(id) {
                continue;
            }
            match start(f, &o, &ctx) {
                Ok(r) => {
                    tracing::info!(container = %id, source = %f.source, path = %f.log_path, "container log tailed");
                    running.insert(id.clone(), r);
                }
                Err(e) => {
                    tracing::warn!(container = %id, error = %e, "container log not tailed");
                    ctx.stats.record_error(e.to_string());
                }
            }
        }
        known = now;
    }
    for (_, r) in running {
        let _ = r.task.await;
    }
    for (_, t) in retiring {
        let _ = t.await;
    }
}

fn start(f: &Found, o: &LogOptions, ctx: &InputCtx) -> Result<Running, InputError> {
    let matcher = if f.patterns.is_empty() {
        None
    } else {
        Some(Matcher::shared(&f.patterns).map_err(|e| InputError::Setup(e.to_string()))?)
    };
    // The log and its rotated files (`-json.log.1`, … : renamed by the engine, possibly
    // before a scan saw them under the first name); compressed ones are left out.
    let files = glob::FileSet::new(
        &[f.log_path.clone(), format!("{}.[0-9]*", f.log_path)],
        &["*.gz".to_string()],
    )
    .map_err(|e| InputError::Setup(e.to_string()))?;
    let retire = Arc::new(AtomicBool::new(false));
    let params = TailParams {
        source: f.source.clone(),
        service: f.service.clone(),
        pipeline: f.pipeline.clone(),
        tags: f.tags.clone(),
        white_list: o.white_list.clone(),
        opts: tailer::Options {
            source: f.source.clone(),
            charset: Charset::Utf8,
            remove_ansi: f.remove_ansi,
            matcher,
            from_beginning: f.from_beginning,
            ignore_dead_log: Some(Duration::from_secs(3600)),
            max_open_files: None,
            scan_interval: Duration::from_secs(10),
            multiline_wait: tailer::DEFAULT_WAIT,
            docker_json: true,
        },
        files,
        retire: retire.clone(),
    };
    let ctx = ctx.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = tail(params, &ctx).await {
            tracing::warn!(error = %e, "container log instance ended");
        }
    });
    Ok(Running { retire, task })
}
