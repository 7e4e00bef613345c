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
//! Every file-tailing instance of the agent runs on the same few threads: the tailing
//! workers take turns at the instances ([`pool`]), one inotify instance wakes them
//! ([`watch`]), one thread saves the positions ([`commit`]). However many instances there
//! are, the agent has those threads and no more.
//!
//! - [`tailer`]: discovery, reading, rotation, truncation, copies;
//! - [`pool`]: the tailing workers, turns, stuck reads;
//! - [`watch`]: the agent's one file-system watcher;
//! - [`commit`]: acknowledged positions to the store;
//! - [`positions`]: the saved positions;
//! - [`multiline`]: joining lines into records;
//! - [`decode`]: character encodings, ANSI escape codes;
//! - [`glob`]: `logfiles` and `ignore` patterns;
//! - [`socket`]: lines from TCP connections and UDP datagrams.

pub mod commit;
pub mod decode;
pub mod glob;
pub mod multiline;
pub mod pool;
pub mod positions;
pub mod socket;
pub mod tailer;
pub mod watch;

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
            Some(Matcher::shared(&patterns).map_err(|e| InputError::Setup(e.to_string()))?)
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
                docker_json: false,
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

impl Input for Logging {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let Logging {
                shared,
                opts,
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
            let result = match files {
                Some(files) => tail_files(shared, opts, files, &ctx, None).await,
                None => {
                    let mut sd = ctx.shutdown.clone();
                    sd.wait().await;
                    Ok(())
                }
            };
            for t in tasks {
                t.abort();
            }
            result
        })
    }
}

/// Tails the files of one instance on the agent's tailing workers until the input is told
/// to stop (or IO closes). A panic of a turn resumes here, where the supervisor sees it.
async fn tail_files(
    shared: Arc<Shared>,
    opts: tailer::Options,
    files: glob::FileSet,
    ctx: &InputCtx,
    retire: Option<Arc<AtomicBool>>,
) -> Result<(), InputError> {
    let path = ctx.workdir.cache().join("logging").join("positions.json");
    // Loading the positions and matching them against this instance's globs is file and
    // CPU work (a thousand instances of one source each look through the source's
    // entries): it runs on a blocking thread, so the runtime's workers keep ticking the
    // periodic inputs meanwhile — two instances at a time, so a thousand starting at once
    // do not start a thousand threads.
    static SETUP: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let permit = SETUP.acquire().await;
    let wait = opts.multiline_wait;
    let (store, t) = match tokio::task::spawn_blocking(move || {
        let store = positions::shared(&path);
        let t = {
            let st = positions::lock(&store);
            tailer::Tailer::new(opts, files, &st)
        };
        (store, t)
    })
    .await
    {
        Ok(v) => v,
        // A panic resumes in the input's task, where the supervisor catches it.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(InputError::Failed(format!("setting up the tailer: {e}"))),
    };
    drop(permit);
    let lane = commit::global().open(store, &shared.source, ctx.stats.clone());
    let label = match &retire {
        Some(_) => format!("container logs (source {})", shared.source),
        None => format!("logging (source {})", shared.source),
    };
    let beat = Arc::new(ctx.agent_stats.watchdog().beat(
        ctx.stats.clone(),
        label.clone(),
        crate::stats::watchdog::Watched::Tailing,
    ));
    let (done_tx, mut done) = tokio::sync::oneshot::channel();
    let pool = pool::global();
    let job_ctx = ctx.clone();
    let job_beat = beat.clone();
    let id = pool.add_with(&label, Some(beat), move |id| {
        Box::new(TailJob {
            t,
            last_counters: tailer::Counters::default(),
            shared,
            ctx: job_ctx,
            lane,
            beat: job_beat,
            id,
            sub: None,
            idle: IDLE_WAIT,
            done: Some(done_tx),
            retire: retire.map(|flag| Retire {
                flag,
                since: None,
                wait,
            }),
        })
    });
    let mut sd = ctx.shutdown.clone();
    let ended = tokio::select! {
        r = &mut done => r,
        _ = sd.wait() => {
            // The job sees the signal at its next turn: give it one now.
            pool.wake(id);
            done.await
        }
    };
    match ended {
        Ok(None) | Err(_) => Ok(()),
        Ok(Some(panic)) => std::panic::resume_unwind(panic),
    }
}

/// A tailing instance another input starts (the `container` input, one per container log).
pub(crate) struct TailParams {
    pub source: String,
    pub service: String,
    /// The script's file name (empty: `<source>.p`).
    pub pipeline: String,
    pub tags: Vec<(String, String)>,
    pub white_list: Vec<String>,
    pub opts: tailer::Options,
    pub files: glob::FileSet,
    /// Once set, the instance ends when it has read everything ([`Retire`]).
    pub retire: Arc<AtomicBool>,
}

/// Runs a [`TailParams`] instance on the tailing workers until it retires or the input stops.
pub(crate) async fn tail(p: TailParams, ctx: &InputCtx) -> Result<(), InputError> {
    let shared = Arc::new(Shared {
        source: p.source,
        service: p.service,
        pipeline: p.pipeline,
        tags: p.tags,
        run_opts: RunOptions::default(),
        white_list: p.white_list,
        charset: p.opts.charset,
        remove_ansi: p.opts.remove_ansi,
    });
    tail_files(shared, p.opts, p.files, ctx, Some(p.retire)).await
}

thread_local! {
    /// The read buffer of a tailing worker, lent to the instance whose turn it takes.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One file-tailing instance, as the tailing workers see it.
struct TailJob {
    t: tailer::Tailer,
    last_counters: tailer::Counters,
    shared: Arc<Shared>,
    ctx: InputCtx,
    lane: commit::Lane,
    beat: Arc<crate::stats::watchdog::Beat>,
    id: pool::JobId,
    /// File-system events (taken at the first turn, on a worker).
    sub: Option<watch::Subscription>,
    /// How long to sleep with nothing to read.
    idle: Duration,
    /// Told when the job ends (with the panic of its last turn, if any).
    done: Option<tokio::sync::oneshot::Sender<Option<Box<dyn Any + Send>>>>,
    /// For an instance that ends on its own (a container's log once the container is gone).
    retire: Option<Retire>,
}

/// When an instance started by another input ends: once told to, it reads on until its files
/// have nothing more and an open multiline record has had time to close (or the files are
/// released), so nothing written before is lost.
struct Retire {
    flag: Arc<AtomicBool>,
    since: Option<Instant>,
    /// The multiline wait of the instance.
    wait: Duration,
}

impl pool::Job for TailJob {
    /// Reads up to one feed of records, feeds them through the ingest stage (which runs the
    /// script on this thread), hands the positions to the committer.
    fn turn(&mut self) -> pool::Turn {
        if self.ctx.shutdown.is_set() {
            return pool::Turn::Done;
        }
        let sub = self.sub.get_or_insert_with(|| {
            let s = watch::global().subscribe(self.t.file_set(), pool::global(), self.id);
            if !s.complete {
                self.t.set_scan_interval(SCAN_INTERVAL_POLLING);
                self.idle = IDLE_WAIT_POLLING;
            }
            s
        });
        if sub.take_scan() {
            self.t.force_scan();
        }
        let mut out: Vec<tailer::Out> = Vec::new();
        let any = SCRATCH.with_borrow_mut(|buf| {
            self.t.swap_scratch(buf);
            let any = self.t.poll(Instant::now(), &mut out, BATCH);
            self.t.swap_scratch(buf);
            any
        });
        // The read is done; feeding (the script, a full journal) is not watched as a read.
        self.beat.progress(Instant::now(), None);
        let shared = &self.shared;
        let ack = if out.is_empty() {
            None
        } else {
            // At the journal's cap the tailer waits: the file keeps the lines meanwhile.
            let opts = FeedOptions {
                durable: Some(crate::ingest::WhenFull::Wait),
                ..shared.feed_options()
            };
            let n = out.len() as i64;
            let base = crate::clock::now_ns() - n * 1000;
            let points: Vec<Point> = out
                .drain(..)
                .enumerate()
                .map(|(i, o)| shared.point(o.text, Some(&o.path), o.line, base + i as i64 * 1000))
                .collect();
            match self.ctx.ingest.feed_blocking(
                &self.ctx.origin,
                Category::Logging,
                points,
                &opts,
                true,
            ) {
                Ok(a) => a,
                Err(_) => return pool::Turn::Done,
            }
        };
        let t = &mut self.t;
        let updates = t.take_updates();
        let released = t.take_released();
        let rotated = t.take_rotated();
        if ack.is_some() || !updates.is_empty() || !released.is_empty() || !rotated.is_empty() {
            self.lane.send(commit::Commit {
                ack,
                updates,
                released,
                rotated,
            });
        }
        if t.counters != self.last_counters {
            log_counters(&shared.source, &self.last_counters, &t.counters);
            if t.counters.read_errors > self.last_counters.read_errors {
                self.ctx.stats.record_error(format!(
                    "{} log file read errors (see the log)",
                    t.counters.read_errors
                ));
            }
            self.last_counters = t.counters;
        }
        if let Some(r) = &mut self.retire
            && r.flag.load(Ordering::Relaxed)
        {
            let now = Instant::now();
            let since = *r.since.get_or_insert(now);
            if !any && (t.open_files() == 0 || now.duration_since(since) >= r.wait + IDLE_WAIT) {
                return pool::Turn::Done;
            }
            if !any {
                return pool::Turn::Sleep(IDLE_WAIT);
            }
        }
        if any {
            pool::Turn::More
        } else {
            pool::Turn::Sleep(self.idle)
        }
    }

    fn end(mut self: Box<Self>, panic: Option<Box<dyn Any + Send>>) {
        // The subscription and the committer's lane end with the job (the lane's last
        // positions are saved once IO has acknowledged them).
        if let Some(tx) = self.done.take() {
            let _ = tx.send(panic);
        }
    }
}

/// Waits (until `deadline`) for the positions of every tailing instance that has ended to be
/// saved: the agent's last step before it exits.
pub fn flush_positions(deadline: Instant) -> bool {
    commit::started().is_none_or(|c| c.flush(deadline))
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
