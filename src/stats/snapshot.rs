//! The snapshot schema: what the agent knows about itself at one moment, as the `/v1/monitor`
//! JSON that `datakit monitor` renders and the `dk` input reads. Field names are part of the
//! API: `monitor` reads them from the JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::counters::InputState;

/// The agent process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessSnapshot {
    /// CPU use since the previous snapshot, in % of one core.
    pub cpu_percent: f64,
    pub cpu_seconds_total: f64,
    pub cpu_cores: u64,
    pub rss_bytes: u64,
    pub hwm_bytes: u64,
    pub vms_bytes: u64,
    pub threads: u64,
    pub open_files: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentSnapshot {
    pub version: &'static str,
    pub commit: &'static str,
    pub os_arch: String,
    pub hostname: String,
    pub started_ns: i64,
    pub uptime_secs: f64,
    pub tasks: u64,
    pub data_overuse: i64,
    pub errors_total: u64,
    /// Client-supplied producer names (`?input=`) beyond the cap, counted under `.other`.
    pub client_names_folded: u64,
    /// HTTP API connections closed on arrival (the connection table was full, or the
    /// client's address held its share).
    pub connections_refused: u64,
    pub process: ProcessSnapshot,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSnapshot {
    /// What a supervised input is doing (`starting`, `running`, ...), or `producer` for what
    /// feeds points without being one: the write API under an input name (`v1-write.<input>`,
    /// `influxdb-v1`), `pipeline/create_point`.
    pub state: InputState,
    pub category: Option<&'static str>,
    pub instances: u64,
    pub interval_secs: f64,
    pub feeds: u64,
    pub points: u64,
    pub last_feed_ns: i64,
    pub collects: u64,
    pub avg_cost_secs: f64,
    pub errors: u64,
    pub last_error: Option<String>,
    pub last_error_ns: i64,
    pub crashes: u64,
    /// Instances stalled now: overdue for a collection (or a log read); the state is then
    /// `stalled`.
    pub stalled: u64,
    /// Stalls since the start.
    pub stalls: u64,
    /// Points this input's feeds lost, every category and reason together (see `drops`).
    pub dropped: u64,
    /// A receiver's counters of its own sockets (datagrams, lines, the kernel's drops, ...),
    /// in its order; absent for other inputs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receiver: Vec<(&'static str, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategorySnapshot {
    pub feeds: u64,
    pub points_in: u64,
    pub queued: u64,
    pub points_sent: u64,
    pub bodies_sent: u64,
    pub bytes_raw: u64,
    pub bytes_gzip: u64,
    pub points_queued_on_disk: u64,
    /// Every drop of the category, whatever the reason.
    pub points_dropped: u64,
    /// Drops by reason (only reasons that happened).
    pub dropped: BTreeMap<&'static str, u64>,
    pub time_adjusted: u64,
    /// Bytes in the category's journal not yet delivered (or queued on an output's disk).
    pub journal_bytes: u64,
    /// Points read back from the journal (overflow, or left by a crash).
    pub points_read_back: u64,
}

/// One row of the drop table: points of a category an origin dropped for a reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DropSnapshot {
    pub category: &'static str,
    pub reason: &'static str,
    /// The input (or `v1-write.<input>`, `pipeline/create_point`, `output/<name>`, ...).
    pub origin: String,
    pub points: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputSnapshot {
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub healthy: bool,
    pub last_status: String,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub requests_refused: u64,
    /// Bodies the output said were too large (split in halves and resent).
    pub requests_too_large: u64,
    /// Seconds bodies of `no_drop_categories` waited for room in the full disk queue.
    pub no_drop_waits: u64,
    pub retries: u64,
    pub avg_latency_secs: f64,
    pub last_latency_secs: f64,
    pub points_sent: u64,
    pub bytes_sent: u64,
    pub disk_queue_bytes: u64,
    pub disk_queue_bodies: u64,
    pub disk_queue_dropped_bodies: u64,
    /// Points evicted from (or refused by) the full disk queue: this output's drops of
    /// reason `queue_full`.
    pub disk_queue_dropped_points: u64,
    pub last_error: Option<String>,
    pub last_error_ns: i64,
}

/// Runs of one Pipeline script.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineSnapshot {
    pub category: Option<&'static str>,
    pub points: u64,
    pub dropped: u64,
    pub errors: u64,
    /// Runs stopped at `[pipeline] script_time_limit` (also in `errors`).
    pub timeouts: u64,
    pub avg_cost_secs: f64,
    pub last_error: Option<String>,
}

/// Requests of one HTTP API route, method and status.
#[derive(Debug, Clone, Serialize)]
pub struct HttpSnapshot {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
    pub requests: u64,
    pub avg_latency_secs: f64,
    pub latency_secs_total: f64,
    pub body_bytes: u64,
}

/// An error reported by a part of the agent (or an external tool via the API).
#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub time_ns: i64,
    pub source: String,
    pub message: String,
}

/// The election status, named as the original names it (the `status` label of
/// `datakit_election_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionStatus {
    /// Election is off: election-aware inputs run as ordinary inputs.
    Disabled,
    /// The node is not in a non-empty `node_whitelist`: election-aware inputs run as ordinary
    /// inputs (as in the original).
    Banned,
    /// Leader.
    Success,
    /// Follower (or candidate).
    Defeat,
}

impl ElectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ElectionStatus::Disabled => "disabled",
            ElectionStatus::Banned => "banned",
            ElectionStatus::Success => "success",
            ElectionStatus::Defeat => "defeat",
        }
    }
    /// The word `datakit monitor` shows.
    pub fn state(self) -> &'static str {
        match self {
            ElectionStatus::Disabled => "disabled",
            ElectionStatus::Banned => "banned",
            ElectionStatus::Success => "leader",
            ElectionStatus::Defeat => "follower",
        }
    }
}

/// The election's part of `/v1/monitor` (the `election` object) and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct ElectionSnapshot {
    /// `disabled`, `banned`, `leader` or `follower`.
    pub state: &'static str,
    /// The original's status word: `disabled`, `banned`, `success` or `defeat`.
    pub status: ElectionStatus,
    /// The current leader's id (empty: unknown or none).
    pub leader: String,
    pub namespace: String,
    /// When the current state began (Unix ns).
    pub since_ns: i64,
    /// This agent's id.
    pub id: String,
    /// `dataway`, `etcd`, or empty when election is off.
    pub backend: String,
    /// When this agent was last elected (Unix ns; 0: not leader).
    pub elected_ns: i64,
    pub pause_total: u64,
    pub resume_total: u64,
    /// Election-aware input instances.
    pub inputs: u64,
    /// Points from election-aware inputs refused after the lease ran out (the drops of reason
    /// `election`).
    pub points_refused: u64,
    pub last_error: Option<String>,
}

impl Default for ElectionSnapshot {
    fn default() -> Self {
        ElectionSnapshot {
            state: ElectionStatus::Disabled.state(),
            status: ElectionStatus::Disabled,
            leader: String::new(),
            namespace: String::new(),
            since_ns: 0,
            id: String::new(),
            backend: String::new(),
            elected_ns: 0,
            pause_total: 0,
            resume_total: 0,
            inputs: 0,
            points_refused: 0,
            last_error: None,
        }
    }
}

/// Everything the agent knows about itself at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub agent: AgentSnapshot,
    pub inputs: BTreeMap<String, InputSnapshot>,
    pub io: BTreeMap<String, CategorySnapshot>,
    /// Dropped points by category, reason and origin (only what happened), largest first.
    pub drops: Vec<DropSnapshot>,
    pub outputs: Vec<OutputSnapshot>,
    pub http: Vec<HttpSnapshot>,
    /// Tag and field fixes and drops by the point checker, by the original's warning type.
    pub point_checks: BTreeMap<String, u64>,
    /// Pipeline scripts that ran, by `<category>/<script>`.
    pub pipeline: BTreeMap<String, PipelineSnapshot>,
    pub errors: Vec<LastError>,
    /// Leader election.
    pub election: ElectionSnapshot,
    /// Filters: where the rules came from and what each filtered.
    pub filters: FilterSnapshot,
    /// Reference tables of `query_refer_table()`: where from, what is loaded.
    pub refer_tables: ReferSnapshot,
}

/// One reference table.
#[derive(Debug, Clone, Serialize)]
pub struct ReferTableSnapshot {
    pub name: String,
    pub columns: usize,
    pub rows: usize,
}

/// The reference tables' part of `/v1/monitor`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReferSnapshot {
    /// `[pipeline] refer_table_url` (empty: none).
    pub url: String,
    /// When the tables last changed (Unix ns; 0: never).
    pub updated_ns: i64,
    /// When the source last answered (Unix ns; 0: never).
    pub pulled_ns: i64,
    pub pulls: u64,
    /// Loads that failed (the tables in place were kept).
    pub failures: u64,
    pub last_error: Option<String>,
    /// The tables in place came from the last run's saved copy (the source has not answered).
    pub from_cache: bool,
    pub tables: Vec<ReferTableSnapshot>,
}

/// One filter rule and the points it dropped.
#[derive(Debug, Clone, Serialize)]
pub struct FilterRuleSnapshot {
    pub category: &'static str,
    pub rule: String,
    pub filtered: u64,
}

/// The filters' part of `/v1/monitor`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FilterSnapshot {
    /// `none`, `local` (`[io.filters]`) or `remote` (pulled from DataWay).
    pub source: &'static str,
    /// When the rules last changed (Unix ns; 0: never).
    pub updated_ns: i64,
    pub updates: u64,
    /// When DataWay last answered a pull (Unix ns; 0: never).
    pub pulled_ns: i64,
    /// Pulls that failed (the rules in place were kept).
    pub pull_failures: u64,
    pub last_error: Option<String>,
    /// Rules left out (they do not parse, or name no category), with why.
    pub problems: Vec<String>,
    pub rules: Vec<FilterRuleSnapshot>,
}
