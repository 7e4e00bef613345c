//! Loads the reference tables Pipeline scripts look up (`crate::refertable`) from
//! `[pipeline] refer_table_url`: at start, then every `refer_table_pull_interval` (at least
//! 1 s, as the original), as the original agent does. The URL is `http://` or `https://` (a GET
//! answered 200 with the tables' JSON, as the original reads it) or, beyond the original,
//! `file:///path` or an absolute path (a file the agent reads).
//!
//! A load that fails — no answer, a status other than 200, a body over [`MAX_BODY`], a document
//! that does not read — keeps the tables in place; it is counted and its error shown in
//! `datakit monitor`. A new document replaces every table at once and is saved as
//! `<workdir>/data/.refer_table`, from where the next start takes its tables until the source
//! answers (so a restart while the source is down still enriches points).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::MainConfig;
use crate::net::{ClientOptions, Proxy, TlsOptions};
use crate::refertable::{Source, Tables, current, source};
use crate::shutdown::Shutdown;
use crate::workdir::Workdir;

/// The largest document read (a larger one is refused whole, the tables in place kept).
pub const MAX_BODY: u64 = 256 << 20;

/// The shortest interval between loads (the original's floor).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Why a load brought no tables.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("reference tables from {url}: {message}")]
    Transport { url: String, message: String },
    #[error("reference tables from {url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("reference tables from {url}: larger than {MAX_BODY} bytes; not loaded")]
    TooLarge { url: String },
    #[error("reference tables from {url}: {error}")]
    Document {
        url: String,
        error: crate::refertable::TableError,
    },
    #[error("reference tables: {0}")]
    Setup(String),
}

/// Loads the tables into [`current`].
pub struct Loader {
    source: Source,
    url: String,
    agent: Option<ureq::Agent>,
    cache: PathBuf,
    last: Option<Vec<u8>>,
    interval: Duration,
}

impl Loader {
    /// A loader for `[pipeline] refer_table_url`; `None` when it is empty.
    pub fn new(c: &MainConfig, workdir: &Workdir) -> Result<Option<Loader>, LoadError> {
        let url = c.pipeline.refer_table_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let src = source(url).map_err(LoadError::Setup)?;
        let agent = match &src {
            Source::Http(_) => Some(
                ClientOptions {
                    proxy: Proxy::Direct,
                    tls: TlsOptions::verify(true),
                    ..ClientOptions::output(Duration::from_secs(60))
                }
                .build()
                .map_err(|e| LoadError::Setup(e.to_string()))?,
            ),
            Source::File(_) => None,
        };
        current().status().url = url.to_string();
        Ok(Some(Loader {
            source: src,
            url: url.to_string(),
            agent,
            cache: workdir.data().join(".refer_table"),
            last: None,
            interval: c.pipeline.refer_table_pull_interval.get().max(MIN_INTERVAL),
        }))
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The tables of the last run's document (`data/.refer_table`), until the source answers.
    pub fn load_cache(&mut self) {
        let Ok(body) = std::fs::read(&self.cache) else {
            return;
        };
        match Tables::parse(&body) {
            Ok(t) => {
                let n = t.tables().len();
                current().install(t);
                current().status().from_cache = true;
                self.last = Some(body);
                tracing::info!(file = %self.cache.display(), tables = n, "reference tables: the last run's tables taken from disk until the source answers");
            }
            Err(e) => {
                tracing::warn!(file = %self.cache.display(), "reference tables: the saved copy does not read, ignored: {e}")
            }
        }
    }

    fn fetch(&self) -> Result<Vec<u8>, LoadError> {
        match (&self.source, &self.agent) {
            (Source::Http(url), Some(agent)) => {
                let mut resp = agent.get(url).call().map_err(|e| LoadError::Transport {
                    url: self.url.clone(),
                    message: e.to_string(),
                })?;
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY + 1)
                    .read_to_vec()
                    .map_err(|e| LoadError::Transport {
                        url: self.url.clone(),
                        message: format!("reading the answer: {e}"),
                    })?;
                if status != 200 {
                    let body = super::pull::answer_excerpt(&body);
                    return Err(LoadError::Status {
                        url: self.url.clone(),
                        status,
                        body,
                    });
                }
                if body.len() as u64 > MAX_BODY {
                    return Err(LoadError::TooLarge {
                        url: self.url.clone(),
                    });
                }
                Ok(body)
            }
            (Source::File(path), _) => read_file(path).map_err(|e| match e {
                FileError::TooLarge => LoadError::TooLarge {
                    url: self.url.clone(),
                },
                FileError::Io(message) => LoadError::Transport {
                    url: self.url.clone(),
                    message,
                },
            }),
            (Source::Http(_), None) => Err(LoadError::Setup("no HTTP client".into())),
        }
    }

    /// One load (blocking): new tables in place, or the failure counted (the tables kept).
    /// Returns whether the tables changed.
    pub fn load_once(&mut self) -> Result<bool, LoadError> {
        let r = self.fetch().and_then(|body| {
            if self.last.as_deref() == Some(&body[..]) {
                return Ok((body, None));
            }
            let t = Tables::parse(&body).map_err(|error| LoadError::Document {
                url: self.url.clone(),
                error,
            })?;
            Ok((body, Some(t)))
        });
        let mut st = current().status();
        st.pulls += 1;
        let (body, tables) = match r {
            Ok(x) => x,
            Err(e) => {
                st.failures += 1;
                st.last_error = Some(e.to_string());
                return Err(e);
            }
        };
        st.pulled_ns = crate::clock::now_ns();
        st.last_error = None;
        // The source answered: the tables in place are its (a saved copy it still matches
        // included).
        st.from_cache = false;
        let Some(t) = tables else {
            return Ok(false);
        };
        drop(st);
        let (n, rows): (usize, usize) =
            (t.tables().len(), t.tables().iter().map(|t| t.rows()).sum());
        current().install(t);
        tracing::info!(
            tables = n,
            rows,
            "reference tables loaded from {}",
            self.url
        );
        if let Err(e) = save(&self.cache, &body) {
            tracing::warn!(file = %self.cache.display(), "reference tables: cannot save a copy: {e}");
        }
        self.last = Some(body);
        Ok(true)
    }

    /// Loads now, then every interval, until `stop`.
    pub async fn run(self, stop: Shutdown) {
        super::pull::run(self, stop).await
    }
}

impl super::pull::Pull for Loader {
    type Error = LoadError;
    const WHAT: &'static str = "reference tables";
    fn pull(&mut self) -> Result<bool, LoadError> {
        self.load_once()
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn failed(&self, e: &LoadError) {
        log_failure(e);
    }
}

enum FileError {
    TooLarge,
    Io(String),
}

fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| FileError::Io(e.to_string()))?;
    let mut body = Vec::new();
    f.take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| FileError::Io(e.to_string()))?;
    if body.len() as u64 > MAX_BODY {
        return Err(FileError::TooLarge);
    }
    Ok(body)
}

/// Logs a failed load at most once a minute.
fn log_failure(e: &LoadError) {
    static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
    if LOGGED.ready(60) {
        tracing::warn!("{e}; the tables in place are kept");
    }
}

fn save(path: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}
