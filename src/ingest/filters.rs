//! Where the stage's filter rules come from: `[io.filters]` in `datakit.conf`, or, when that
//! holds no rule, DataWay, pulled as the original agent pulls them: `GET
//! /v1/datakit/pull?token=<token>&filters=true` on the first DataWay URL, at once and then
//! every 30 s (or the `pull_interval` DataWay answers, in nanoseconds). The answer is
//! `{"filters": {"<category>": ["<rule>", ...], ...}, "pull_interval": <ns>}`.
//!
//! A pull that fails (no answer, a status other than 200, a body that is not that JSON) keeps
//! the rules in place and is counted; a body like the last one changes nothing. A new body
//! replaces the rules whole, at once, while points flow (the stage takes the current set once
//! per feed), and is saved as `<workdir>/data/.pull`, from where the next start takes its rules
//! until DataWay answers (the original only writes that file).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::MainConfig;
use crate::filter::{Filters, Problem, Source};
use crate::net::{ClientOptions, Proxy, TlsOptions, dataway};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::workdir::Workdir;

/// The original's pull interval.
pub const PULL_INTERVAL: Duration = Duration::from_secs(30);

/// The shortest and longest interval taken from DataWay's answer.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// The largest answer read.
const MAX_BODY: u64 = 8 << 20;

/// Why a pull brought no rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    #[error("DataWay filter pull: {0}")]
    Transport(String),
    #[error("DataWay filter pull: HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("DataWay filter pull: the answer is not the filters JSON: {0}")]
    Body(String),
    #[error("filter pull setup: {0}")]
    Setup(String),
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    filters: Option<RuleMap>,
    #[serde(default)]
    pull_interval: Option<i64>,
}

/// Rules by category name, as configured or answered.
pub type RuleMap = BTreeMap<String, Vec<String>>;

/// Reads DataWay's answer: the rules (none when `filters` is null or absent) and the pull
/// interval it asks for (`None`: keep the current one).
pub fn parse_answer(body: &[u8]) -> Result<(RuleMap, Option<Duration>), PullError> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| PullError::Body(e.to_string()))?;
    let interval = a
        .pull_interval
        .filter(|ns| *ns > 0)
        .map(|ns| Duration::from_nanos(ns as u64).clamp(MIN_INTERVAL, MAX_INTERVAL));
    Ok((a.filters.unwrap_or_default(), interval))
}

/// Whether `[io.filters]` holds a rule (then DataWay's rules are not pulled).
pub fn has_local(c: &MainConfig) -> bool {
    c.io.filters.values().any(|v| !v.is_empty())
}

fn log_problems(source: &str, problems: &[Problem]) {
    for p in problems {
        tracing::warn!("{source} filters: {p}");
    }
}

/// Puts `[io.filters]` in place (at start and on reload); with none, leaves the rules to the
/// puller (clearing local ones a reload removed).
pub fn install_local(c: &MainConfig, stats: &Stats) {
    if has_local(c) {
        let (f, problems) = Filters::compile(&c.io.filters);
        log_problems("[io.filters]", &problems);
        stats.filters.install(f, Source::Local, &problems);
    } else if stats.filters.status().source == Source::Local {
        stats.filters.install(Filters::default(), Source::None, &[]);
    }
}

/// Pulls DataWay's rules.
pub struct Puller {
    agent: ureq::Agent,
    url: String,
    cache: PathBuf,
    stats: Arc<Stats>,
    last: Option<Vec<u8>>,
    interval: Duration,
}

impl Puller {
    /// A puller of the first DataWay URL; `None` without DataWay.
    pub fn new(
        c: &MainConfig,
        workdir: &Workdir,
        hostname: &str,
        stats: Arc<Stats>,
    ) -> Result<Option<Puller>, PullError> {
        let Some(url) = c.dataway.urls.first() else {
            return Ok(None);
        };
        let (base, query) = dataway::split_url(url).map_err(PullError::Setup)?;
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
            url: format!("{base}/v1/datakit/pull?{query}{sep}filters=true"),
            cache: workdir.data().join(".pull"),
            stats,
            last: None,
            interval: PULL_INTERVAL,
        }))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The rules of the last start's answer (`data/.pull`), until DataWay answers.
    pub fn load_cache(&mut self) {
        let Ok(body) = std::fs::read(&self.cache) else {
            return;
        };
        match parse_answer(&body) {
            Ok((map, _)) => {
                let (f, problems) = Filters::compile(&map);
                log_problems("DataWay (saved)", &problems);
                self.stats.filters.install(f, Source::Remote, &problems);
                self.last = Some(body);
                tracing::info!(file = %self.cache.display(), "filters: DataWay's last rules taken from disk until DataWay answers");
            }
            Err(e) => {
                tracing::warn!(file = %self.cache.display(), "filters: the saved rules are not readable, ignored: {e}")
            }
        }
    }

    fn fetch(&self) -> Result<Vec<u8>, PullError> {
        let mut resp = self
            .agent
            .get(&self.url)
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

    /// One pull (blocking): new rules in place, or the failure counted (the rules kept).
    /// Returns whether the rules changed.
    pub fn pull_once(&mut self) -> Result<bool, PullError> {
        if self.stats.filters.status().source == Source::Local {
            return Ok(false);
        }
        let r = self.fetch().and_then(|body| {
            let parsed = parse_answer(&body)?;
            Ok((body, parsed))
        });
        let (body, (map, interval)) = match r {
            Ok(x) => x,
            Err(e) => {
                let mut st = self.stats.filters.status();
                st.pull_failures += 1;
                st.last_error = Some(e.to_string());
                return Err(e);
            }
        };
        self.stats.filters.status().pulled_ns = crate::clock::now_ns();
        if let Some(i) = interval {
            self.interval = i;
        }
        let remote = self.stats.filters.status().source == Source::Remote;
        if remote && self.last.as_deref() == Some(&body[..]) {
            return Ok(false);
        }
        let (f, problems) = Filters::compile(&map);
        log_problems("DataWay", &problems);
        let rules: usize = f.sets().iter().map(|s| s.rules().len()).sum();
        self.stats.filters.install(f, Source::Remote, &problems);
        tracing::info!(rules, "filters: DataWay's rules in place");
        if let Err(e) = save(&self.cache, &body) {
            tracing::warn!(file = %self.cache.display(), "filters: cannot save DataWay's rules: {e}");
        }
        self.last = Some(body);
        Ok(true)
    }

    /// Pulls now, then every interval, until `stop`.
    pub async fn run(self, stop: Shutdown) {
        super::pull::run(self, stop).await
    }
}

impl super::pull::Pull for Puller {
    type Error = PullError;
    const WHAT: &'static str = "filters";
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

/// Logs a failed pull at most once a minute.
fn log_failure(e: &PullError) {
    static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
    if LOGGED.ready(60) {
        tracing::warn!("{e}; the rules in place are kept");
    }
}

fn save(path: &std::path::Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_the_original_writes_them() {
        let (m, i) = parse_answer(
            br#"{"dataways":null,"filters":{"logging":["{ source = 'datakit' }"]},"pull_interval":10000000000,"remote_pipelines":null}"#,
        )
        .unwrap();
        assert_eq!(m["logging"], ["{ source = 'datakit' }"]);
        assert_eq!(i, Some(Duration::from_secs(10)));
        let (m, i) = parse_answer(br#"{"filters":null,"pull_interval":0}"#).unwrap();
        assert!(m.is_empty());
        assert_eq!(i, None);
        let (_, i) = parse_answer(br#"{"pull_interval":5}"#).unwrap();
        assert_eq!(i, Some(MIN_INTERVAL));
        assert!(matches!(parse_answer(b"<html>"), Err(PullError::Body(_))));
        assert!(matches!(
            parse_answer(br#"{"filters":{"logging":"x"}}"#),
            Err(PullError::Body(_))
        ));
    }
}
