//! The daemon (`datakit run`): pid file, IO, supervised inputs, signals, reload, shutdown.

pub mod supervisor;
pub mod trim;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{self, LoadOptions};
use crate::ingest;
use crate::inputs::confd::Loaded;
use crate::io::{Io, IoSettings};
use crate::stats::Stats;
use crate::workdir::Workdir;
use supervisor::{Base, Supervisor};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(
        "another datakit (pid {pid}) is running with this workdir (pid file {path}); stop it first, or use another --workdir"
    )]
    AlreadyRunning { pid: String, path: PathBuf },
    #[error("pid file {path}: {cause}")]
    PidFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot create {path}: {cause}")]
    Workdir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    #[error("the HTTP API cannot start: {0}")]
    Http(crate::httpapi::HttpError),
    #[error("signal handling: {0}")]
    Signal(std::io::Error),
}

impl From<crate::httpapi::HttpError> for AgentError {
    fn from(e: crate::httpapi::HttpError) -> Self {
        AgentError::Http(e)
    }
}

/// The pid file `<workdir>/.pid`, locked for the life of the process (so a second agent on the
/// same workdir is refused even if a stale file is left behind) and removed on exit.
pub struct PidFile {
    path: PathBuf,
    _file: File,
}

impl PidFile {
    pub fn acquire(workdir: &Workdir) -> Result<PidFile, AgentError> {
        let path = workdir.root().join(".pid");
        let err = |source| AgentError::PidFile {
            path: path.clone(),
            cause: source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(AgentError::AlreadyRunning {
                    pid: pid.trim().to_string(),
                    path,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
        file.set_len(0).map_err(err)?;
        file.rewind().map_err(err)?;
        file.write_all(std::process::id().to_string().as_bytes())
            .map_err(err)?;
        file.flush().map_err(err)?;
        Ok(PidFile { path, _file: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Creates the workdir layout.
pub fn create_dirs(w: &Workdir) -> Result<(), AgentError> {
    for d in [w.conf_d(), w.pipeline(), w.data(), w.cache()] {
        std::fs::create_dir_all(&d).map_err(|source| AgentError::Workdir {
            path: d,
            cause: source,
        })?;
    }
    Ok(())
}

/// How the configuration is (re)loaded: the flags the daemon was started with.
#[derive(Debug, Clone, Default)]
pub struct ConfigFlags {
    pub log: Option<String>,
    pub log_level: Option<String>,
}

impl ConfigFlags {
    pub fn load(&self, w: &Workdir) -> Loaded {
        crate::inputs::confd::load(
            w,
            &LoadOptions {
                env: &config::load::process_env,
                log: self.log.clone(),
                log_level: self.log_level.clone(),
                input_names: None,
            },
            crate::inputs::registry(),
        )
    }
}

/// Logs panics (the default hook writes to stderr, which a service does not read).
/// Raises the soft limit on open files to the hard limit (as Go programs, the original among
/// them, do at start): the HTTP API alone may hold 1 024 connections besides the files tailed.
fn raise_open_files_limit() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the one struct passed, which lives on the
    // stack for the duration of the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            let from = r.rlim_cur;
            r.rlim_cur = r.rlim_max.min(1 << 20);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) == 0 {
                tracing::debug!(from, to = r.rlim_cur, "open files limit raised");
            }
        }
    }
}

/// Every category's scripts, with the time limit of a run.
fn load_scripts(
    workdir: &crate::workdir::Workdir,
    cfg: &crate::config::main_conf::PipelineConfig,
    stats: &Arc<Stats>,
) -> ingest::ScriptSet {
    let limit = cfg.script_time_limit.get();
    ingest::ScriptSet::load(workdir, &cfg.default_pipeline, stats.clone())
        .with_time_limit((!limit.is_zero()).then_some(limit))
}

pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        tracing::error!(%thread, location = %at, "panic: {msg}");
    }));
}

/// How long after start-up (or a reload) the pages of start-up code are given back: by then
/// every input has started and run its first collection's set-up.
const STARTUP_SETTLE: Duration = Duration::from_secs(20);

async fn release_startup_pages_after(delay: Duration) {
    tokio::time::sleep(delay).await;
    match tokio::task::spawn_blocking(trim::release_startup_pages).await {
        Ok(Ok(bytes)) => tracing::debug!(bytes, "gave back the pages of start-up code"),
        Ok(Err(e)) => tracing::debug!("cannot give back start-up pages: {e}"),
        Err(_) => {}
    }
}

/// What the agent tells the command that runs it, for the user at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// Everything runs; a description (several lines).
    Started(String),
    /// A signal came (`SIGINT`, `SIGTERM`): inputs stop, batches are flushed.
    Stopping(&'static str),
    /// Stopped; `complete`: every batch was delivered or queued on disk; `journal_left`: bytes
    /// of points kept in the journal for the next start.
    Stopped { complete: bool, journal_left: u64 },
}

/// Runs the agent until SIGINT or SIGTERM; SIGHUP reloads the input configs. `events` hears of
/// the start and the stop.
pub async fn run(
    workdir: Workdir,
    loaded: Loaded,
    flags: ConfigFlags,
    mut events: impl FnMut(RunEvent),
) -> Result<(), AgentError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate()).map_err(AgentError::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(AgentError::Signal)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(AgentError::Signal)?;

    raise_open_files_limit();
    let main = loaded.main.clone();
    let hostname = crate::host::hostname(&main);
    let ip = crate::host::primary_ip();
    let stats = Arc::new(Stats::new());
    stats.set_hostname(&hostname);
    // Input configs with errors are skipped (datakit.conf's own errors stop `run` earlier):
    // said in the log and shown by `monitor` with the other errors.
    for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
        tracing::error!("input config skipped: {d}");
        stats.record_error("config", d.to_string());
    }
    let handle = tokio::runtime::Handle::current();
    stats.set_task_counter(Box::new(move || handle.metrics().num_alive_tasks() as u64));

    let outputs = crate::io::build_outputs(&main, &workdir, &hostname, &stats)?;
    let descriptions: Vec<String> = outputs.iter().map(|(_, d)| d.clone()).collect();
    let ingest_settings = ingest::Settings::from_config(&main, &hostname, &ip);
    let election = crate::election::Election::start(
        &main,
        &hostname,
        &ingest_settings.global_tags,
        stats.clone(),
    );
    let io = Io::start(
        IoSettings::from_config(&main, &crate::io::wal_root(&main, &workdir)),
        outputs.into_iter().map(|(o, _)| o).collect(),
        stats.clone(),
    )?;
    // Scripts managed in the console (pulled from DataWay below; kept on disk for restarts).
    let remote_puller = {
        let (wd, cfg, st) = (workdir.clone(), main.pipeline.clone(), stats.clone());
        let reload_into = std::sync::Arc::new(std::sync::OnceLock::<ingest::Scripts>::new());
        let target = reload_into.clone();
        let reload = Box::new(move || {
            if let Some(s) = target.get() {
                s.replace(load_scripts(&wd, &cfg, &st));
            }
        });
        match ingest::remote::Puller::new(&main, &workdir, &hostname, stats.clone(), reload) {
            Ok(Some(p)) => {
                p.forget_other_site();
                Some((p, reload_into))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!("{e}: the console's Pipeline scripts are not pulled");
                stats.record_error("pipeline_remote", e.to_string());
                None
            }
        }
    };
    let scripts = ingest::Scripts::new(load_scripts(&workdir, &main.pipeline, &stats));
    let remote_puller = remote_puller.map(|(p, slot)| {
        let _ = slot.set(scripts.clone());
        p
    });
    let ingest = ingest::Ingest::new(io.queues(), scripts.clone(), ingest_settings);
    // Filter rules: `[io.filters]`, else DataWay's (pulled until the agent stops).
    ingest::filters::install_local(&main, &stats);
    let (stop_pull, pull_stop) = crate::shutdown::Shutdown::new();
    let puller = match ingest::filters::Puller::new(&main, &workdir, &hostname, stats.clone()) {
        Ok(Some(mut p)) => {
            if !ingest::filters::has_local(&main) {
                p.load_cache();
            }
            Some(tokio::spawn(p.run(pull_stop.clone())))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!("{e}: DataWay's filters are not pulled");
            stats.record_error("filters", e.to_string());
            None
        }
    };
    // Reference tables for `query_refer_table()`: `[pipeline] refer_table_url`, loaded until
    // the agent stops (the last run's copy in place until the source answers).
    let refer_loader = match ingest::refer::Loader::new(&main, &workdir) {
        Ok(Some(mut l)) => {
            l.load_cache();
            Some(tokio::spawn(l.run(pull_stop.clone())))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!("{e}: reference tables are not loaded");
            stats.record_error("refer_table", e.to_string());
            None
        }
    };
    let remote_puller = remote_puller.map(|p| tokio::spawn(p.run(pull_stop.clone())));
    let routes = crate::inputs::routes::Routes::new();
    let http = crate::httpapi::HttpApi::start(
        &main.http_api,
        ingest.clone(),
        stats.clone(),
        hostname.as_str().into(),
        routes.clone(),
    )
    .await?;
    let mut sup = Supervisor::new(Base {
        ingest: ingest.clone(),
        stats: stats.clone(),
        workdir: workdir.clone(),
        hostname: hostname.as_str().into(),
        election: Some(election.gate.clone()),
        routes,
    });
    crate::inputs::logging::pool::configure(
        usize::try_from(main.log_tailing.workers).unwrap_or(usize::MAX),
    );
    let names: Vec<&str> = loaded.instances.iter().map(|i| i.name()).collect();
    let summary = format!(
        "{} input instance(s) [{}]; data goes to {}\n  HTTP API on {}",
        names.len(),
        names.join(", "),
        descriptions.join(" and "),
        http.bound.join(", ")
    );
    for inst in loaded.instances {
        sup.start(inst);
    }
    tracing::info!(version = crate::build_info::VERSION, workdir = %workdir.root().display(), %hostname, "datakit started: {}", summary.replace("\n  ", "; "));
    events(RunEvent::Started(summary));
    // Under systemd's Type=notify, `systemctl start` returns now (no-op elsewhere).
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!("cannot tell systemd the agent is ready: {e}");
    }
    let mut trim = tokio::spawn(release_startup_pages_after(STARTUP_SETTLE));

    loop {
        // This thread did the start-up (or the reload) and now waits for signals.
        crate::idle::thread_idle();
        tokio::select! {
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); events(RunEvent::Stopping("SIGTERM")); break; }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); events(RunEvent::Stopping("SIGINT")); break; }
            _ = sighup.recv() => {
                let l = flags.load(&workdir);
                for d in l.diagnostics.iter().filter(|d| d.is_error()) {
                    tracing::error!("reload: {d}");
                }
                if l.main_errors() > 0 {
                    tracing::error!("SIGHUP: datakit.conf has errors; keeping the running configuration");
                    continue;
                }
                if l.input_errors() > 0 {
                    tracing::error!(errors = l.input_errors(), "SIGHUP: the inputs whose configs have errors are skipped; the others are reloaded");
                }
                if l.main != main {
                    tracing::warn!("SIGHUP: datakit.conf changed; input changes are applied now, the rest needs a restart");
                }
                scripts.replace(load_scripts(&workdir, &l.main.pipeline, &stats));
                if l.main.io.filters != main.io.filters {
                    ingest::filters::install_local(&l.main, &stats);
                    tracing::info!("SIGHUP: [io.filters] reloaded");
                }
                let r = sup.reload(l.instances).await;
                tracing::info!(started = ?r.started, stopped = ?r.stopped, kept = r.kept, "SIGHUP: inputs reloaded");
                trim.abort();
                trim = tokio::spawn(release_startup_pages_after(STARTUP_SETTLE));
            }
        }
    }

    trim.abort();
    let _ = stop_pull.send(true);
    if let Some(p) = puller {
        p.abort();
    }
    if let Some(l) = refer_loader {
        l.abort();
    }
    if let Some(p) = remote_puller {
        p.abort();
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let deadline = Instant::now() + main.shutdown_timeout.get().max(Duration::from_secs(1));
    http.shutdown().await;
    let stop_inputs = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        sup.shutdown(),
    );
    if stop_inputs.await.is_err() {
        tracing::warn!("inputs did not stop in time");
    }
    // After the inputs: the leadership is given up once nothing runs under it.
    election
        .stop(
            deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(5)),
        )
        .await;
    let report = io.shutdown(deadline).await;
    // IO has acknowledged (or given up on) every batch: the log positions they reach are
    // saved before the process exits.
    let positions_deadline = deadline.max(Instant::now() + Duration::from_secs(1));
    let flushed = tokio::task::spawn_blocking(move || {
        crate::inputs::logging::flush_positions(positions_deadline)
    })
    .await;
    if !matches!(flushed, Ok(true)) {
        tracing::warn!(
            "log read positions not all saved in time: the last lines read are read again at the next start"
        );
    }
    if report.journal_left > 0 {
        tracing::info!(
            bytes = report.journal_left,
            "points not yet delivered stay in the journal and are sent at the next start"
        );
    }
    if report.complete {
        tracing::info!("datakit stopped: every batch delivered or queued");
    } else {
        tracing::warn!(
            "datakit stopped at the shutdown timeout; batches still in flight were not delivered"
        );
    }
    events(RunEvent::Stopped {
        journal_left: report.journal_left,
        complete: report.complete,
    });
    Ok(())
}

#[cfg(all(test, feature = "test-inputs"))]
mod tests;
