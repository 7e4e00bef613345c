//! Inputs (collectors): their metadata as data, and the registry that maps an input name in
//! `[[inputs.NAME]]` to its typed options.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

use crate::config::decode::{self, DecodeSite};
use crate::config::duration::Dur;
use crate::config::schema::{ConfType, SectionDoc};
use crate::diag::{Diagnostic, Severity};

pub mod confd;
pub mod container;
pub mod ddtrace;
pub mod dk;
pub mod exec;
pub mod host;
pub mod logging;
pub mod memcached;
pub mod mysql;
pub mod nginx;
pub mod opentelemetry;
pub mod postgresql;
pub mod prom;
pub mod redis;
pub mod routes;
pub mod socket;
pub mod statsd;
#[cfg(feature = "test-inputs")]
pub mod testing;
pub mod trace;
pub mod zipkin;

use crate::ingest::{FeedOptions, Ingest, Origin};
use crate::point::{Category, Point};
use crate::stats::{InputStats, Stats};
use crate::workdir::Workdir;

pub use crate::shutdown::Shutdown;

/// The range protect mode keeps an input's interval in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalLimits {
    pub min: Duration,
    pub max: Duration,
}

/// The type of a field, as the docs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Int,
    Uint,
    Float,
    Bool,
    String,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Int => "int",
            FieldType::Uint => "uint",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::String => "string",
        }
    }
    /// Whether a value has this type.
    pub fn matches(self, v: &crate::point::Value) -> bool {
        use crate::point::Value;
        matches!(
            (self, v),
            (FieldType::Int, Value::Int(_))
                | (FieldType::Uint, Value::Uint(_))
                | (FieldType::Float, Value::Float(_))
                | (FieldType::Bool, Value::Bool(_))
                | (FieldType::String, Value::Str(_))
        )
    }
}

/// A tag an input emits.
#[derive(Debug, Clone, Copy)]
pub struct TagSpec {
    pub name: &'static str,
    pub description: &'static str,
}

/// A field an input emits.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldType,
    /// Unit in the original's notation (`percent,percent`, `digital,B`, `time,ms`, `count`, `-`).
    pub unit: &'static str,
    pub description: &'static str,
}

/// A measurement an input emits: the schema its points follow.
#[derive(Debug, Clone, Copy)]
pub struct MeasurementSpec {
    pub name: &'static str,
    pub category: Category,
    pub description: &'static str,
    pub tags: &'static [TagSpec],
    pub fields: &'static [FieldSpec],
}

/// What an input is, as data: read by `check-config`, the docs and the samples.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The name in `[[inputs.NAME]]`.
    pub name: &'static str,
    /// Group in docs (`host`, `log`, `prom`, `self`, ...).
    pub catalog: &'static str,
    /// One line for lists.
    pub description: &'static str,
    /// Only one instance may run; further instances are ignored with a warning.
    pub singleton: bool,
    /// The allowed interval range under protect mode, when the input has an interval.
    pub interval: Option<IntervalLimits>,
    /// The measurements it emits.
    pub measurements: &'static [MeasurementSpec],
}

/// Problems an input finds in its own options beyond their types (a bad regex, a value out of
/// range). Keys are relative to the instance: `interval`, `logfiles[1]`, `tags.env`.
#[derive(Debug, Default)]
pub struct Validation {
    pub issues: Vec<ValidationIssue>,
}

/// One problem found by [`InputConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    pub severity: Severity,
    /// The key it is about, relative to the instance.
    pub key: String,
    pub message: String,
    /// Other keys the check read besides `key` (a check of one key against another): when one
    /// of them failed to decode, the check saw its default and the issue is not reported.
    pub reads: Vec<String>,
}

impl ValidationIssue {
    /// Notes that the check also read `keys`.
    pub fn reads(&mut self, keys: &[&str]) {
        self.reads.extend(keys.iter().map(|k| k.to_string()));
    }
}

impl Validation {
    pub fn error(&mut self, key: &str, message: impl Into<String>) -> &mut ValidationIssue {
        self.push(Severity::Error, key, message.into())
    }
    pub fn warning(&mut self, key: &str, message: impl Into<String>) -> &mut ValidationIssue {
        self.push(Severity::Warning, key, message.into())
    }
    fn push(&mut self, severity: Severity, key: &str, message: String) -> &mut ValidationIssue {
        self.issues.push(ValidationIssue {
            severity,
            key: key.to_string(),
            message,
            reads: Vec::new(),
        });
        let last = self.issues.len() - 1;
        &mut self.issues[last]
    }
}

/// An input's decoded options.
pub trait InputConfig: Debug + Send + Sync + Any {
    /// The collection interval, for inputs that have one.
    fn interval(&self) -> Option<Dur> {
        None
    }
    fn set_interval(&mut self, _interval: Dur) {}
    /// Further intervals besides `interval`, by key, with the range protect mode keeps each in.
    fn extra_intervals(&mut self) -> Vec<(&'static str, &mut Dur, IntervalLimits)> {
        Vec::new()
    }
    /// Semantic checks beyond types.
    fn validate(&self, _v: &mut Validation) {}
    fn as_any(&self) -> &dyn Any;
    /// Whether the input takes part in leader election, like the original's `ElectionInput`:
    /// with `[election] enable`, only the elected agent runs it (the supervisor starts and
    /// stops it), and its points get the election tags instead of the host tags.
    fn election_enabled(&self) -> bool {
        false
    }
    /// A runnable input from these options (called again for every restart after a crash).
    fn build(&self) -> Result<Box<dyn Input>, InputError>;
}

/// Why an input stopped or could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Failed(String),
    #[error("IO is shut down")]
    Closed,
}

impl From<crate::ingest::FeedError> for InputError {
    fn from(e: crate::ingest::FeedError) -> Self {
        match e {
            crate::ingest::FeedError::Closed => InputError::Closed,
            e => InputError::Failed(e.to_string()),
        }
    }
}

impl From<crate::io::Closed> for InputError {
    fn from(_: crate::io::Closed) -> Self {
        InputError::Closed
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A running collector. `run` returns when `ctx.shutdown` fires (Ok), or with an error, which
/// the supervisor counts as a crash and answers with a restart.
pub trait Input: Send {
    fn run(self: Box<Self>, ctx: InputCtx) -> BoxFuture<Result<(), InputError>>;
}

/// What an input is given to run.
#[derive(Clone)]
pub struct InputCtx {
    pub name: &'static str,
    /// The ingest stage: the only way to the outputs.
    pub ingest: Ingest,
    /// This input as the stage knows it (its counters; the election gate when it takes part).
    pub origin: Origin,
    pub stats: Arc<InputStats>,
    pub agent_stats: Arc<Stats>,
    pub shutdown: Shutdown,
    pub workdir: Workdir,
    pub hostname: Arc<str>,
    /// The HTTP API's routes that inputs serve: receivers register theirs here (see
    /// [`routes`]).
    pub routes: routes::Routes,
}

/// A collector that takes a snapshot every interval (host metrics, `dk`). `collect` runs on a
/// collection thread ([`exec`]), so a slow `/proc` read never stalls other inputs.
pub trait Collect: Send + 'static {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String>;
}

/// What `collect` gets.
pub struct CollectCtx {
    /// When this collection started (Unix ns, read after the tick): points without a time get
    /// it.
    pub now_ns: i64,
    pub agent_stats: Arc<Stats>,
    pub hostname: Arc<str>,
}

/// The loop of an input that works every `interval` on a collection thread of its
/// [`exec::Lane`] (so slow reads never stall other inputs, and neither log tailing nor the
/// async runtime's blocking pool can hold them up): [`Periodic::next`] waits for the tick,
/// runs the work there with the input's state, and records the time it took. The watchdog
/// holds the instance `stalled` while no collection has completed for
/// [`collection_allowance`](crate::stats::watchdog::collection_allowance) (three intervals, at
/// least 5 s).
pub struct Periodic<S> {
    tick: tokio::time::Interval,
    state: Option<S>,
    lane: exec::Lane,
    beat: crate::stats::watchdog::Beat,
    allowance: Duration,
}

impl<S: Send + 'static> Periodic<S> {
    /// Work on the [`exec::Lane::Host`] threads.
    pub fn new(interval: Duration, state: S, ctx: &InputCtx) -> Self {
        Periodic::on(exec::Lane::Host, interval, state, ctx)
    }

    /// Work on the threads of `lane`.
    pub fn on(lane: exec::Lane, interval: Duration, state: S, ctx: &InputCtx) -> Self {
        ctx.stats.interval_ns.store(
            u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let beat = ctx.agent_stats.watchdog().beat(
            ctx.stats.clone(),
            ctx.name,
            crate::stats::watchdog::Watched::Collection { interval },
        );
        let allowance = crate::stats::watchdog::collection_allowance(interval);
        beat.expect(Instant::now(), allowance);
        Periodic {
            tick,
            state: Some(state),
            lane,
            beat,
            allowance,
        }
    }

    /// The first tick after a whole interval instead of at once (a receiver reports what it
    /// received over an interval; at start it has nothing).
    pub fn after_first_interval(mut self) -> Self {
        self.tick.reset();
        self
    }

    /// The state, unless a `work` was cut short by the stop (it keeps the state).
    pub fn into_state(self) -> Option<S> {
        self.state
    }

    /// Waits for the next tick and runs `work` on the state; `None` once the input is told to
    /// stop (also while `work` runs: a job stuck until its timeout does not hold up shutdown).
    /// A panic in `work` resumes here, in the input's task, where the supervisor catches it.
    pub async fn next<R: Send + 'static>(
        &mut self,
        ctx: &mut InputCtx,
        work: impl FnOnce(&mut S) -> R + Send + 'static,
    ) -> Option<R> {
        tokio::select! {
            _ = self.tick.tick() => {}
            _ = ctx.shutdown.wait() => return None,
        }
        let mut state = self.state.take()?;
        let started = Instant::now();
        let job = exec::run(self.lane, move || {
            let r = work(&mut state);
            (state, r)
        });
        tokio::pin!(job);
        let (state, r) = tokio::select! {
            j = &mut job => j,
            _ = ctx.shutdown.wait() => {
                // A collection under way usually ends in moments: it is given that long, so
                // its points are fed before IO stops (not left in the journal for the next
                // start); a stuck one does not hold up the shutdown.
                let _ = tokio::time::timeout(STOP_GRACE, job).await;
                return None;
            }
        };
        self.state = Some(state);
        ctx.stats.record_collect(started.elapsed());
        self.beat.progress(Instant::now(), Some(self.allowance));
        Some(r)
    }
}

/// How long a collection under way at shutdown may still take.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Runs `c` every `interval` until shutdown, feeding what it returns (grouped by category)
/// through the ingest stage on the collection's thread.
pub async fn run_periodic(
    c: Box<dyn Collect>,
    interval: Duration,
    mut ctx: InputCtx,
) -> Result<(), InputError> {
    let mut periodic = Periodic::new(interval, c, &ctx);
    loop {
        let (agent_stats, hostname) = (ctx.agent_stats.clone(), ctx.hostname.clone());
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some(result) = periodic
            .next(&mut ctx, move |c| -> Result<_, String> {
                // The time of this collection: read once the tick has come.
                let cctx = CollectCtx {
                    now_ns: crate::clock::now_ns(),
                    agent_stats,
                    hostname,
                };
                let points = c.collect(&cctx)?;
                Ok(feed_by_category(&ingest, &origin, points, cctx.now_ns))
            })
            .await
        else {
            return Ok(());
        };
        match result {
            Ok(fed) => fed?,
            Err(e) => {
                tracing::warn!(input = ctx.name, error = %e, "collection failed");
                ctx.stats.record_error(&e);
                ctx.agent_stats.record_error(ctx.name, e);
            }
        }
    }
}

/// An input that runs one collector every interval ([`run_periodic`]).
struct CollectEvery {
    interval: Duration,
    collector: Box<dyn Collect>,
}

impl Input for CollectEvery {
    fn run(self: Box<Self>, ctx: InputCtx) -> BoxFuture<Result<(), InputError>> {
        Box::pin(run_periodic(self.collector, self.interval, ctx))
    }
}

/// What a collector's constructor returns: the collector, or the collector or a setup error
/// (when the options hold regular expressions or templates to compile).
pub trait IntoCollector {
    fn into_collector(self) -> Result<Box<dyn Collect>, InputError>;
}

impl<C: Collect> IntoCollector for C {
    fn into_collector(self) -> Result<Box<dyn Collect>, InputError> {
        Ok(Box::new(self))
    }
}

impl<C: Collect> IntoCollector for Result<C, InputError> {
    fn into_collector(self) -> Result<Box<dyn Collect>, InputError> {
        Ok(Box::new(self?))
    }
}

/// The input that runs `collector` every `interval`.
pub fn periodic(
    interval: Dur,
    collector: impl IntoCollector,
) -> Result<Box<dyn Input>, InputError> {
    Ok(Box::new(CollectEvery {
        interval: interval.get(),
        collector: collector.into_collector()?,
    }))
}

/// Feeds `points` (of any categories) from a blocking thread, one feed per category; points
/// without a time get `now_ns`.
fn feed_by_category(
    ingest: &Ingest,
    origin: &Origin,
    mut points: Vec<Point>,
    now_ns: i64,
) -> Result<(), crate::ingest::FeedError> {
    for p in points.iter_mut().filter(|p| p.time == 0) {
        p.time = now_ns;
    }
    points.sort_by_key(|p| p.category);
    let mut rest = points;
    while !rest.is_empty() {
        let cat = rest[0].category;
        let split = rest
            .iter()
            .position(|p| p.category != cat)
            .unwrap_or(rest.len());
        let tail = rest.split_off(split);
        ingest.feed_blocking(origin, cat, rest, &FeedOptions::default(), false)?;
        rest = tail;
    }
    Ok(())
}

/// Decodes one `[[inputs.NAME]]` table into the input's options.
pub type DecodeFn =
    fn(Spanned<DeValue<'_>>, &DecodeSite<'_>, &mut Vec<Diagnostic>) -> Option<Box<dyn InputConfig>>;

/// An input in the registry.
pub struct InputEntry {
    pub spec: InputSpec,
    /// Documentation of the input's options.
    pub options: fn() -> Option<&'static SectionDoc>,
    /// The options an instance gets from `default_enabled_inputs`.
    pub default_config: fn() -> Box<dyn InputConfig>,
    /// Decodes one `[[inputs.NAME]]` table, reporting problems against the file.
    pub decode: DecodeFn,
    /// The default options as a TOML table (the body of the sample config).
    pub default_toml: fn() -> Result<toml::Table, toml::ser::Error>,
    /// Keys of the original's input this one reads without acting on them (a key relative
    /// to the instance, `udp_packet_size`), with why: reported as "has no effect", not as
    /// unknown.
    pub compat: fn(&str) -> Option<&'static str>,
    /// What the input's page says besides its options and measurements (a naming rule, the
    /// differences from the original).
    pub notes: &'static [&'static str],
}

impl InputEntry {
    /// This entry with notes for its page.
    pub const fn with_notes(mut self, notes: &'static [&'static str]) -> Self {
        self.notes = notes;
        self
    }
}

fn no_compat(_: &str) -> Option<&'static str> {
    None
}

impl std::fmt::Debug for InputEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputEntry")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// A registry entry for options type `T`.
pub const fn entry<T>(spec: InputSpec) -> InputEntry
where
    T: InputConfig + ConfType + DeserializeOwned + Serialize + Default,
{
    InputEntry {
        spec,
        options: <T as ConfType>::section,
        default_config: default_boxed::<T>,
        decode: decode_input::<T>,
        default_toml: default_toml::<T>,
        compat: no_compat,
        notes: &[],
    }
}

/// A registry entry for options type `T` whose input reads the original's keys in `compat`
/// without effect.
pub const fn entry_with_compat<T>(
    spec: InputSpec,
    compat: fn(&str) -> Option<&'static str>,
) -> InputEntry
where
    T: InputConfig + ConfType + DeserializeOwned + Serialize + Default,
{
    let mut e = entry::<T>(spec);
    e.compat = compat;
    e
}

fn default_boxed<T: InputConfig + Default>() -> Box<dyn InputConfig> {
    Box::new(T::default())
}

fn default_toml<T: Serialize + Default>() -> Result<toml::Table, toml::ser::Error> {
    toml::Table::try_from(T::default())
}

fn decode_input<T>(
    value: Spanned<DeValue<'_>>,
    site: &DecodeSite<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Box<dyn InputConfig>>
where
    T: InputConfig + ConfType + DeserializeOwned,
{
    if !value.get_ref().is_table() {
        diags.push(
            Diagnostic::error(format!(
                "`{}` must be a table, found {}",
                decode::path_string(&site.path),
                value.get_ref().type_str()
            ))
            .at(site.file.loc(value.span())),
        );
        return None;
    }
    let tree = value.get_ref().clone();
    let span = value.span();
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let decoded = decode::decode::<T>(value, site, diags);
    let cfg = decoded.value?;
    let mut failed = diags.iter().filter(|d| d.is_error()).count() > errors_before;
    let mut v = Validation::default();
    cfg.validate(&mut v);
    // A check that read a key which failed to decode saw its default: the decoding error
    // already says what is wrong there.
    let under_site = |key: &str| {
        let mut full = site.path.clone();
        full.extend(decode::parse_key_path(key));
        full
    };
    v.issues.retain(|i| {
        !std::iter::once(&i.key)
            .chain(&i.reads)
            .any(|k| decoded.failed.touch(&under_site(k)))
    });
    for issue in v.issues {
        let rel = decode::parse_key_path(&issue.key);
        let full = under_site(&issue.key);
        let at = decode::span_of(&tree, span.clone(), &rel, true);
        let text = format!("`{}`: {}", decode::path_string(&full), issue.message);
        let d = match issue.severity {
            Severity::Error => {
                failed = true;
                Diagnostic::error(text)
            }
            Severity::Warning => Diagnostic::warning(text),
        };
        diags.push(d.at(site.file.loc(at)));
    }
    (!failed).then(|| Box::new(cfg) as Box<dyn InputConfig>)
}

static ENTRIES: &[InputEntry] = &[
    dk::ENTRY,
    host::cpu::ENTRY,
    host::mem::ENTRY,
    host::swap::ENTRY,
    host::disk::ENTRY,
    host::diskio::ENTRY,
    host::net::ENTRY,
    host::system::ENTRY,
    host::processes::ENTRY,
    host::hostobject::ENTRY,
    prom::ENTRY,
    postgresql::ENTRY,
    redis::ENTRY,
    memcached::ENTRY,
    mysql::ENTRY,
    nginx::ENTRY,
    logging::ENTRY,
    statsd::ENTRY,
    container::ENTRY,
    socket::ENTRY,
    ddtrace::ENTRY,
    zipkin::ENTRY,
    opentelemetry::ENTRY,
    #[cfg(feature = "test-inputs")]
    testing::TEST_INPUT,
    #[cfg(feature = "test-inputs")]
    testing::TEST_SINGLETON,
];

/// Every input compiled into this binary.
pub fn registry() -> &'static [InputEntry] {
    ENTRIES
}

/// The commented sample config of input `name` (the `conf.d/samples/` files, the docs), or
/// `None` if there is no such input.
pub fn sample(name: &str) -> Option<String> {
    let entry = find(name)?;
    let table = (entry.default_toml)().ok()?;
    let doc = (entry.options)()?;
    Some(crate::config::sample::input_sample(
        entry.spec.name,
        entry.spec.description,
        entry.spec.singleton,
        &table,
        doc,
    ))
}

/// The input called `name`.
pub fn find(name: &str) -> Option<&'static InputEntry> {
    ENTRIES.iter().find(|e| e.spec.name == name)
}

impl InputSpec {
    /// Whether the input is in the default `default_enabled_inputs`.
    pub fn default_enabled(&self) -> bool {
        crate::config::main_conf::DEFAULT_ENABLED_INPUTS.contains(&self.name)
    }
}

/// What an input's `validate` says of `c`, one `key: message` line per issue (for the
/// inputs' unit tests).
#[cfg(test)]
pub(crate) fn validation_issues(c: &dyn InputConfig) -> Vec<String> {
    let mut v = Validation::default();
    c.validate(&mut v);
    v.issues
        .iter()
        .map(|i| format!("{}: {}", i.key, i.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inputs_enabled_by_default_exist() {
        for name in crate::config::main_conf::DEFAULT_ENABLED_INPUTS {
            assert!(find(name).is_some(), "{name}");
        }
    }
}
