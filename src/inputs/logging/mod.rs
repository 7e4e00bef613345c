//! `logging`: tails log files (and listens on TCP/UDP sockets), turns each line or multiline
//! record into a `logging` point named after `source`, runs the source's Pipeline script,
//! and feeds IO.
//!
//! Nothing read is lost: a file's position is saved (in `<workdir>/cache/logging/`) only once
//! IO has acknowledged the batch holding its lines (delivered, queued on disk, or dropped and
//! counted), so after a crash or a restart the lines after the saved position are read
//! again: at-least-once, with the batches IO had not yet acknowledged as the window of
//! repeats. Feeding waits while IO is full, and so does reading (backpressure).
//!
//! - [`tailer`]: discovery, reading, rotation, truncation, copies;
//! - [`positions`]: the saved positions;
//! - [`multiline`]: joining lines into records;
//! - [`decode`]: character encodings, ANSI escape codes;
//! - [`glob`]: `logfiles` and `ignore` patterns;
//! - [`socket`]: lines from TCP connections and UDP datagrams.

pub mod decode;
pub mod glob;
pub mod multiline;
pub mod positions;
pub mod socket;
pub mod tailer;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    MeasurementSpec, TagSpec, Validation, entry,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::ingest::{FeedOptions, ScriptChoice};
use crate::pipeline::RunOptions;
use crate::point::{Category, Point, Value};
use decode::Charset;
use multiline::Matcher;
use positions::{Entry, FileId, Store};

/// Records read per round before they are fed. A feed is one slot of IO's queue (16 per
/// category), so this bounds what a stalled IO holds of ours: 16 x 250 points, about 10 MB
/// of parsed nginx points; four feeds make one 1 000-point batch.
const BATCH: usize = 250;
/// How long an idle tailer sleeps when file-system events wake it.
const IDLE_WAIT: Duration = Duration::from_millis(500);
/// How long an idle tailer sleeps without file-system events.
const IDLE_WAIT_POLLING: Duration = Duration::from_millis(250);
/// Glob scans: with file-system events (which hasten them), and without.
const SCAN_INTERVAL: Duration = Duration::from_secs(10);
const SCAN_INTERVAL_POLLING: Duration = Duration::from_secs(2);
/// Positions are written at most this often (and when the input stops).
const SAVE_EVERY: Duration = Duration::from_millis(100);

config_struct! {
    "Log files and sockets to collect."
    pub struct LoggingConfig {
        "Files to tail: absolute paths or globs (`*`, `?`, `[abc]`, `{a,b}`, `**` for any number \
         of directories). New files that match are picked up within seconds."
        pub logfiles: Vec<String> = Vec::new(),
        "Sockets to read lines from: `tcp://host:port` or `udp://host:port` (no scheme means \
         TCP)."
        pub sockets: Vec<String> = Vec::new(),
        "Globs of files to leave out (a glob without `/` is matched against the file name)."
        pub ignore: Vec<String> = Vec::new(),
        "The log source: the measurement name, and the default Pipeline script `<source>.p`."
        pub source: String = "default".into(),
        "The `service` tag (default: the source)."
        pub service: String = String::new(),
        "The Pipeline script (default: `<source>.p`)."
        alias("pipeline_path")
        pub pipeline: String = String::new(),
        "Statuses (after normalisation: `emerg`, `alert`, `critical`, `error`, `warning`, \
         `notice`, `info`, `debug`, `OK`) whose points are dropped (and counted)."
        pub ignore_status: Vec<String> = Vec::new(),
        "Character encoding of the files: `utf-8`, `utf-16le`, `utf-16be`, `utf-16` (byte order \
         mark, else little endian), `gbk`, `gb18030`, or empty."
        pub character_encoding: String = String::new(),
        "Remove ANSI escape codes (colours) from lines."
        pub remove_ansi_escape_codes: bool = false,
        "A regular expression for the first line of a multiline record (Java stack traces, \
         Python tracebacks): lines that do not match are appended to the record before them."
        alias("match")
        pub multiline_match: String = String::new(),
        "Detect multiline records with the built-in timestamp patterns (tried after \
         `multiline_match` and `auto_multiline_extra_patterns`)."
        pub auto_multiline_detection: bool = true,
        "More first-line patterns for the automatic detection, tried before the built-in ones."
        pub auto_multiline_extra_patterns: Vec<String> = Vec::new(),
        "How long an open multi-line record waits for more lines before it is sent (the lines \
         of a stack trace written seconds apart stay one record). Only with `multiline_match` \
         or `auto_multiline_detection`."
        pub multiline_max_wait: Dur = Dur(tailer::DEFAULT_WAIT),
        "Most files this instance keeps open; -1 for no limit."
        pub max_open_files: i64 = 500,
        "Files not modified for this long are not opened, and open ones are closed at their end \
         (reopened from their position when they change); 0 keeps them open."
        pub ignore_dead_log: Dur = Dur::from_secs(3600),
        "Read files found at start without a saved position from their start even when larger \
         than 20 MB (smaller ones always are; files created later always are)."
        pub from_beginning: bool = false,
        "Keep only these keys of each point (`message` is always kept); empty keeps all."
        pub field_white_list: Vec<String> = Vec::new(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

impl LoggingConfig {
    fn patterns(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.multiline_match.is_empty() {
            v.push(self.multiline_match.clone());
        }
        if self.auto_multiline_detection {
            v.extend(self.auto_multiline_extra_patterns.iter().cloned());
            v.extend(multiline::AUTO_PATTERNS.iter().map(|s| s.to_string()));
        }
        v
    }

    fn service(&self) -> &str {
        if self.service.is_empty() {
            &self.source
        } else {
            &self.service
        }
    }
}

impl InputConfig for LoggingConfig {
    fn validate(&self, v: &mut Validation) {
        if self.logfiles.is_empty() && self.sockets.is_empty() {
            v.warning(
                "logfiles",
                "no `logfiles` and no `sockets`: this instance collects nothing",
            )
            .reads(&["sockets"]);
        }
        for (i, f) in self.logfiles.iter().enumerate() {
            if !f.starts_with('/') {
                v.warning(
                    &format!("logfiles[{i}]"),
                    format!("`{f}` is relative: it is resolved against the agent's working directory; use an absolute path"),
                );
            }
            if let Err(e) = glob::check(&glob::clean(f)) {
                v.error(&format!("logfiles[{i}]"), e.to_string());
            }
        }
        for (i, f) in self.ignore.iter().enumerate() {
            if let Err(e) = glob::check(f) {
                v.error(&format!("ignore[{i}]"), e.to_string());
            }
        }
        for (i, s) in self.sockets.iter().enumerate() {
            if let Err(e) = socket::parse(s) {
                v.error(&format!("sockets[{i}]"), e);
            }
        }
        if self.source.is_empty() {
            v.error("source", "must not be empty (it is the measurement name)");
        }
        if Charset::parse(&self.character_encoding).is_none() {
            v.error(
                "character_encoding",
                format!(
                    "unknown encoding `{}`; use {}",
                    self.character_encoding,
                    Charset::NAMES
                ),
            );
        }
        if !self.multiline_match.is_empty()
            && let Err(e) = crate::config::validate::check_regex(&self.multiline_match)
        {
            v.error(
                "multiline_match",
                format!("invalid regular expression: {e}"),
            );
        }
        for (i, p) in self.auto_multiline_extra_patterns.iter().enumerate() {
            if let Err(e) = crate::config::validate::check_regex(p) {
                v.error(
                    &format!("auto_multiline_extra_patterns[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
        if self.multiline_max_wait.get().is_zero()
            || self.multiline_max_wait.get() > Duration::from_secs(300)
        {
            v.error(
                "multiline_max_wait",
                "must be longer than 0 and at most 5m (e.g. \"3s\")",
            );
        }
        if self.max_open_files == 0 || self.max_open_files < -1 {
            v.error("max_open_files", "must be positive, or -1 for no limit");
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let patterns = self.patterns();
        let matcher = if patterns.is_empty() {
            None
        } else {
            Some(Arc::new(
                Matcher::new(&patterns).map_err(|e| InputError::Setup(e.to_string()))?,
            ))
        };
        let files = glob::FileSet::new(&self.logfiles, &self.ignore)
            .map_err(|e| InputError::Setup(e.to_string()))?;
        let charset = Charset::parse(&self.character_encoding).ok_or_else(|| {
            InputError::Setup(format!(
                "unknown character_encoding `{}`",
                self.character_encoding
            ))
        })?;
        let sockets = self
            .sockets
            .iter()
            .map(|s| socket::parse(s).map_err(InputError::Setup))
            .collect::<Result<Vec<_>, _>>()?;
        let dead = self.ignore_dead_log.get();
        Ok(Box::new(Logging {
            shared: Arc::new(Shared {
                source: self.source.clone(),
                service: self.service().to_string(),
                pipeline: std::path::Path::new(&self.pipeline)
                    .file_name()
                    .map_or(self.pipeline.clone(), |n| n.to_string_lossy().into_owned()),
                tags: self
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                run_opts: RunOptions {
                    ignore_status: self
                        .ignore_status
                        .iter()
                        .map(|s| match s.to_ascii_lowercase().as_str() {
                            "ok" => "OK".to_string(),
                            l => l.to_string(),
                        })
                        .collect(),
                    ..RunOptions::default()
                },
                white_list: self.field_white_list.clone(),
                charset,
                remove_ansi: self.remove_ansi_escape_codes,
            }),
            opts: tailer::Options {
                source: self.source.clone(),
                charset,
                remove_ansi: self.remove_ansi_escape_codes,
                matcher,
                from_beginning: self.from_beginning,
                ignore_dead_log: (!dead.is_zero()).then_some(dead),
                max_open_files: usize::try_from(self.max_open_files).ok(),
                scan_interval: SCAN_INTERVAL,
                multiline_wait: self.multiline_max_wait.get(),
            },
            files: Some(files).filter(|_| !self.logfiles.is_empty()),
            sockets,
        }))
    }
}

/// What the tailer thread and the socket tasks share.
pub(crate) struct Shared {
    source: String,
    service: String,
    /// The script's file name (empty: `<source>.p`).
    pipeline: String,
    tags: Vec<(String, String)>,
    run_opts: RunOptions,
    white_list: Vec<String>,
    charset: Charset,
    remove_ansi: bool,
}

impl Shared {
    /// Text of one socket line.
    fn text(&self, bytes: &[u8]) -> String {
        let cs = match self.charset.wide() {
            Some(_) => Charset::Utf8,
            None => self.charset,
        };
        let mut t = decode::decode(bytes, cs);
        if self.remove_ansi {
            decode::strip_ansi(&mut t);
        }
        decode::trim_end(&mut t);
        t
    }

    /// A `logging` point for one record.
    fn point(&self, text: String, path: Option<&str>, line: u64, time: i64) -> Point {
        let mut p = Point::new(Category::Logging, self.source.clone());
        p.tags.reserve(self.tags.len() + 3);
        for (k, v) in &self.tags {
            p.tags.push((k.clone(), v.clone()));
        }
        if !self.tags.iter().any(|(k, _)| k == "service") {
            p.tags.push(("service".into(), self.service.clone()));
        }
        p.tags.push(("status".into(), "info".into()));
        p.fields.reserve(3);
        p.fields.push(("message".into(), Value::Str(text)));
        if let Some(path) = path {
            p.fields
                .push(("filepath".into(), Value::Str(path.to_string())));
            p.fields
                .push(("log_read_lines".into(), Value::Int(line as i64)));
        }
        p.time = time;
        p
    }

    /// How the stage treats this input's points: the source's script (or the `pipeline`
    /// option), `ignore_status`, the field white list.
    fn feed_options(&self) -> FeedOptions<'_> {
        FeedOptions {
            script: ScriptChoice::Map(&self.source, &self.pipeline),
            run: &self.run_opts,
            keep_keys: &self.white_list,
            ..FeedOptions::default()
        }
    }
}

struct Logging {
    shared: Arc<Shared>,
    opts: tailer::Options,
    files: Option<glob::FileSet>,
    sockets: Vec<socket::Listen>,
}

/// Positions to save once `ack` fires.
struct Commit {
    ack: Option<crate::io::Ack>,
    updates: Vec<Entry>,
    released: Vec<FileId>,
    rotated: Vec<positions::Rotated>,
}

impl Input for Logging {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let Logging {
                shared,
                mut opts,
                files,
                sockets,
            } = *self;
            let mut tasks = Vec::new();
            for s in sockets {
                let (shared, ctx) = (shared.clone(), ctx.clone());
                tasks.push(tokio::spawn(
                    async move { socket::serve(s, shared, ctx).await },
                ));
            }
            let mut result = Ok(());
            if let Some(files) = files {
                let path = ctx.workdir.cache().join("logging").join("positions.json");
                let store = positions::shared(&path);
                let (wake, watcher) = Wake::start(&files);
                if watcher.is_none() {
                    opts.scan_interval = SCAN_INTERVAL_POLLING;
                }
                let t = {
                    let st = positions::lock(&store);
                    tailer::Tailer::new(opts, files, &st)
                };
                let (tx, rx) = std::sync::mpsc::channel::<Commit>();
                let committer = {
                    let store = store.clone();
                    let stats = ctx.stats.clone();
                    let source = shared.source.clone();
                    tokio::task::spawn_blocking(move || commit_loop(&store, rx, &stats, &source))
                };
                let (shared2, ctx2) = (shared.clone(), ctx.clone());
                let joined = tokio::task::spawn_blocking(move || {
                    let r = tail_loop(t, &shared2, &ctx2, &tx, &wake);
                    drop(watcher);
                    r
                })
                .await;
                result = match joined {
                    Ok(r) => r,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => Ok(()),
                };
                // The committer ends once IO has acknowledged (or given up on) every batch;
                // it is detached: acknowledgements arrive while IO shuts down.
                drop(committer);
            } else {
                let mut sd = ctx.shutdown.clone();
                sd.wait().await;
            }
            for t in tasks {
                t.abort();
            }
            result
        })
    }
}

/// Wake-ups from the file system: a new file makes the tailer scan at once, new data makes
/// it read at once.
struct Wake {
    rx: std::sync::mpsc::Receiver<()>,
    scan: Arc<AtomicBool>,
    polling: bool,
}

impl Wake {
    fn start(files: &glob::FileSet) -> (Wake, Option<notify::RecommendedWatcher>) {
        use notify::{EventKind, RecursiveMode, Watcher};
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let scan = Arc::new(AtomicBool::new(false));
        let scan2 = scan.clone();
        let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev {
                if matches!(
                    ev.kind,
                    EventKind::Create(_)
                        | EventKind::Remove(_)
                        | EventKind::Modify(notify::event::ModifyKind::Name(_))
                ) {
                    scan2.store(true, Relaxed);
                }
                let _ = tx.try_send(());
            }
        });
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "file-system events unavailable; scanning for log files every {SCAN_INTERVAL_POLLING:?}");
                return (
                    Wake {
                        rx,
                        scan,
                        polling: true,
                    },
                    None,
                );
            }
        };
        let mut all = true;
        for (dir, recursive) in files.watch_dirs() {
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if let Err(e) = watcher.watch(&dir, mode) {
                all = false;
                tracing::debug!(dir = %dir.display(), error = %e, "cannot watch a log directory; scanning it instead");
            }
        }
        (
            Wake {
                rx,
                scan,
                polling: !all,
            },
            if all { Some(watcher) } else { None },
        )
    }

    /// Waits for an event or `max`; true when a scan is wanted.
    fn wait(&self, max: Duration) -> bool {
        let _ = self.rx.recv_timeout(max);
        self.scan.swap(false, Relaxed)
    }
}

/// The tailer's thread: read, build points, feed them through the ingest stage (which runs
/// the script on this thread), hand positions to the committer. Returns when the input is
/// told to stop or IO closes.
fn tail_loop(
    mut t: tailer::Tailer,
    shared: &Shared,
    ctx: &InputCtx,
    commits: &std::sync::mpsc::Sender<Commit>,
    wake: &Wake,
) -> Result<(), InputError> {
    // At the journal's cap the tailer waits: the file keeps the lines meanwhile.
    let opts = FeedOptions {
        durable: Some(crate::ingest::WhenFull::Wait),
        ..shared.feed_options()
    };
    let mut out: Vec<tailer::Out> = Vec::with_capacity(BATCH);
    let mut last_counters = t.counters;
    let idle = if wake.polling {
        IDLE_WAIT_POLLING
    } else {
        IDLE_WAIT
    };
    while !ctx.shutdown.is_set() {
        let any = t.poll(Instant::now(), &mut out, BATCH);
        let ack = if out.is_empty() {
            None
        } else {
            let n = out.len() as i64;
            let base = crate::clock::now_ns() - n * 1000;
            let points: Vec<Point> = out
                .drain(..)
                .enumerate()
                .map(|(i, o)| shared.point(o.text, Some(&o.path), o.line, base + i as i64 * 1000))
                .collect();
            match ctx
                .ingest
                .feed_blocking(&ctx.origin, Category::Logging, points, &opts, true)
            {
                Ok(a) => a,
                Err(_) => return Ok(()),
            }
        };
        let updates = t.take_updates();
        let released = t.take_released();
        let rotated = t.take_rotated();
        if ack.is_some() || !updates.is_empty() || !released.is_empty() || !rotated.is_empty() {
            let _ = commits.send(Commit {
                ack,
                updates,
                released,
                rotated,
            });
        }
        if t.counters != last_counters {
            log_counters(&shared.source, &last_counters, &t.counters);
            if t.counters.read_errors > last_counters.read_errors {
                ctx.stats.record_error(format!(
                    "{} log file read errors (see the log)",
                    t.counters.read_errors
                ));
            }
            last_counters = t.counters;
        }
        if !any && wake.wait(idle) {
            t.force_scan();
        }
    }
    Ok(())
}

fn log_counters(source: &str, old: &tailer::Counters, new: &tailer::Counters) {
    if new.truncations > old.truncations {
        tracing::info!(
            source,
            total = new.truncations,
            "log file truncated (copytruncate); read again from its start"
        );
    }
    if new.long_lines_cut > old.long_lines_cut {
        tracing::warn!(
            source,
            total = new.long_lines_cut,
            max = tailer::MAX_LINE_BYTES,
            "log lines longer than the limit were cut into several records"
        );
    }
    if new.copies_recognised > old.copies_recognised {
        tracing::debug!(
            source,
            total = new.copies_recognised,
            "rotated copies recognised"
        );
    }
}

/// Saves positions in the order they were handed over, each once IO has acknowledged its
/// batch, at most every [`SAVE_EVERY`] (a save rewrites the file; with a feed every few
/// milliseconds that was a tenth of the input's CPU). Stops at the first batch IO gave up on
/// (the agent is stopping): positions after it are not saved, so those lines are read again
/// next time.
fn commit_loop(
    store: &Mutex<Store>,
    rx: std::sync::mpsc::Receiver<Commit>,
    stats: &crate::stats::InputStats,
    source: &str,
) {
    use std::sync::mpsc::RecvTimeoutError;
    use tokio::sync::oneshot::error::TryRecvError;
    let save = |stats: &crate::stats::InputStats| {
        if let Err(e) = positions::lock(store).save() {
            tracing::warn!(error = %e, "read positions not saved");
            stats.record_error(e.to_string());
        }
    };
    let mut last_save: Option<Instant> = None;
    let mut unsaved = false;
    let mut save_due = |stats: &crate::stats::InputStats, force: bool| {
        if force || last_save.is_none_or(|t| t.elapsed() >= SAVE_EVERY) {
            save(stats);
            last_save = Some(Instant::now());
            false
        } else {
            true
        }
    };
    let mut next: Option<Commit> = None;
    loop {
        let c = match next.take() {
            Some(c) => c,
            // Something applied is not saved yet: save it when nothing comes for a while.
            None if unsaved => match rx.recv_timeout(SAVE_EVERY) {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => {
                    unsaved = save_due(stats, true);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => break,
            },
        };
        if let Some(mut ack) = c.ack {
            match ack.try_recv() {
                Ok(()) => {}
                Err(TryRecvError::Empty) => {
                    // Save what is applied while waiting (it is set again below).
                    if unsaved {
                        save_due(stats, false);
                    }
                    if ack.blocking_recv().is_err() {
                        break;
                    }
                }
                Err(TryRecvError::Closed) => break,
            }
        }
        {
            let mut st = positions::lock(store);
            for e in c.updates {
                st.set(e);
            }
            for id in c.released {
                st.remove(source, id);
            }
            for r in c.rotated {
                st.add_rotated(r);
            }
        }
        unsaved = true;
        match rx.try_recv() {
            Ok(c) => next = Some(c),
            Err(std::sync::mpsc::TryRecvError::Empty) => unsaved = save_due(stats, false),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
        }
    }
    save(stats);
}

const TAGS: &[TagSpec] = &[
    TagSpec {
        name: "host",
        description: "Hostname of the agent (a global host tag).",
    },
    TagSpec {
        name: "service",
        description: "The `service` option (default: the source).",
    },
    TagSpec {
        name: "status",
        description: "Log level: `info` unless the Pipeline script sets it; normalised to \
                      `emerg`, `alert`, `critical`, `error`, `warning`, `notice`, `info`, \
                      `debug` or `OK`.",
    },
];

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "message",
        kind: FieldType::String,
        unit: "-",
        description: "The line, or the lines of a multiline record joined by `\\n`.",
    },
    FieldSpec {
        name: "filepath",
        kind: FieldType::String,
        unit: "-",
        description: "Path of the file the record was read from (files only).",
    },
    FieldSpec {
        name: "log_read_lines",
        kind: FieldType::Int,
        unit: "count",
        description: "Records read from this file since it was opened (files only).",
    },
];

pub const ENTRY: InputEntry = entry::<LoggingConfig>(InputSpec {
    name: "logging",
    catalog: "log",
    description: "Tail log files and read log sockets, through the source's Pipeline script.",
    singleton: false,
    interval: None,
    measurements: &[MeasurementSpec {
        name: "default",
        category: Category::Logging,
        description: "One log record; the measurement is named after `source`.",
        tags: TAGS,
        fields: FIELDS,
    }],
});

#[cfg(test)]
mod tests;
