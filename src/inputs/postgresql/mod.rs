//! `postgresql`: metrics of one PostgreSQL server with the original's names (measurement
//! `postgresql` per database, `postgresql_bgwriter`, `postgresql_connection`,
//! `postgresql_replication`, `postgresql_conflict`, `postgresql_archiver`, `postgresql_slru`,
//! `postgresql_replication_slot`, `postgresql_io` by server version; `postgresql_lock`,
//! `postgresql_stat`, `postgresql_index`, `postgresql_size`, `postgresql_statio` for the tables
//! `relations` names; custom queries; the `collector` up-metric), and with
//! `[inputs.postgresql.log]` the server's log through the log tailer with `postgresql.p`.
//!
//! Every interval, on a scrape-lane thread, one connection (kept between collections, made
//! again after any failure) runs the queries of the enabled metric sets; relations in other
//! databases get a connection per database, kept too. Every call has `timeout` as its
//! deadline. A failure to connect or authenticate sends `up = 0` and is counted with the
//! target in the message (password masked), in `datakit monitor` and `lasterror`; a failed
//! query (a view the server lacks, a permission) skips its metric set and is counted too.
//!
//! The client is [`wire`], the protocol's simple-query subset written for this input (TLS
//! with rustls, cleartext, MD5 and SCRAM-SHA-256): the collections are blocking calls on a
//! scrape thread, where `tokio-postgres` would have needed a connection task on the async
//! workers and 31 more crates.

pub mod address;
mod schema;
pub mod wire;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::{
    Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits,
    MeasurementSpec, Validation, entry_with_compat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};
use address::Address;
use wire::{Conn, Params, PgError, Rows, SslMode, Tls};

const NAME: &str = "postgresql";

config_struct! {
    "The tables whose lock, statistics, index, size and I/O points are sent (`postgresql_lock`, `postgresql_stat`, `postgresql_index`, `postgresql_size`, `postgresql_statio`)."
    pub struct RelationConfig {
        "Databases to look in; empty: those matching `database_regex`, or the address's database."
        pub databases: Vec<String> = Vec::new(),
        "A regular expression (PostgreSQL's `~`) choosing the databases when `databases` is empty."
        pub database_regex: String = String::new(),
        "The table's name."
        pub relation_name: String = String::new(),
        "A regular expression (PostgreSQL's `~`) for table names; used when `relation_name` is empty."
        pub relation_regex: String = String::new(),
        "Schemas to look in; empty: all."
        pub schemas: Vec<String> = Vec::new(),
        "For `postgresql_lock` only: the relation kinds (`r` table, `i` index, `S` sequence, `t` TOAST table, `p` partitioned table, `m` materialized view, `c` composite type, `f` foreign table); empty: all."
        pub relkind: Vec<String> = Vec::new(),
    }
}

config_struct! {
    "A query whose rows become points."
    pub struct CustomQueryConfig {
        "The SQL (one statement; its first result set is read)."
        pub sql: String = String::new(),
        "The measurement of the points."
        pub metric: String = String::new(),
        "Columns sent as tags."
        pub tags: Vec<String> = Vec::new(),
        "Columns sent as fields (floats; NULL values are left out)."
        pub fields: Vec<String> = Vec::new(),
        "How often the query runs; 0 or unset: the input's `interval`."
        pub interval: Dur = Dur::from_secs(0),
    }
}

config_struct! {
    "PostgreSQL's log files, tailed with a Pipeline script."
    pub struct PgLogConfig {
        "Log files or globs; empty tails none."
        pub files: Vec<String> = Vec::new(),
        "The Pipeline script; empty uses the built-in `postgresql.p`."
        pub pipeline: String = String::new(),
        "Lines whose `status` is one of these are dropped."
        pub ignore: Vec<String> = Vec::new(),
        "The files' encoding (`utf-8`, `gbk`, ...); empty: UTF-8."
        pub character_encoding: String = String::new(),
        "A regular expression that starts a new entry; empty: the agent's automatic detection."
        pub multiline_match: String = String::new(),
    }
}

config_struct! {
    "Collects PostgreSQL metrics and, optionally, its log."
    pub struct PostgresqlConfig {
        "The server: a URL (`postgres://user:password@host:port/dbname?sslmode=disable`) or libpq keywords (`host=... user=... password=... dbname=... sslmode=...`). `sslmode` `prefer` (the default) uses TLS when the server offers it; `require` insists; `verify-ca` and `verify-full` check the certificate against `sslrootcert`. `sslcert` and `sslkey` give a client certificate. A host starting with `/` is a unix socket directory."
        pub address: String = "postgres://datakit:PASSWORD@localhost/postgres?sslmode=disable".into(),
        "The `server` tag instead of `host:port`."
        pub outputaddress: String = String::new(),
        "Databases left out of the per-database points (`postgresql`, `postgresql_conflict`); do not combine with `databases`."
        pub ignored_databases: Vec<String> = Vec::new(),
        "The only databases of the per-database points; do not combine with `ignored_databases`."
        pub databases: Vec<String> = Vec::new(),
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Limit for connecting and for each query's answer."
        pub timeout: Dur = Dur::from_secs(10),
        "Measurements not collected (`postgresql_bgwriter`, `postgresql_lock`, ...)."
        pub metric_exclude_list: Vec<String> = Vec::new(),
        "Leader election: with `[election] enable`, only the elected agent collects (the log is tailed on every agent), and the points get the election tags instead of the host tags."
        pub election: bool = true,
        "Tables with per-table points."
        pub relations: Vec<RelationConfig> = Vec::new(),
        "Queries whose rows become points."
        pub custom_queries: Vec<CustomQueryConfig> = Vec::new(),
        "The server's log."
        pub log: PgLogConfig = PgLogConfig::default(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

/// Keys of the original's `postgresql` that this input reads without acting on them.
fn compat(key: &str) -> Option<&'static str> {
    const DBM: &str = "database monitoring (statement metrics, samples, activity and explain plans: `postgresql_dbm_*`) is not supported by this input";
    let top = key.split('.').next().unwrap_or(key);
    Some(match top {
        "dbm" | "dbm_metric" | "dbm_sample" | "dbm_activity" => DBM,
        "object" => {
            "the `database` object and the `postgresql` custom object of the original are not sent by this input"
        }
        "max_lifetime" => "deprecated in the original: connections are kept until they fail",
        _ => return None,
    })
}

/// The collections of one server, in the original's order.
#[derive(Debug, Clone, Copy)]
struct MetricSet {
    spec: &'static MeasurementSpec,
    /// The server version it needs.
    since: (u32, u32),
}

const SETS: &[MetricSet] = &[
    MetricSet {
        spec: &schema::POSTGRESQL,
        since: (0, 0),
    },
    MetricSet {
        spec: &schema::REPLICATION,
        since: (9, 1),
    },
    MetricSet {
        spec: &schema::BGWRITER,
        since: (0, 0),
    },
    MetricSet {
        spec: &schema::CONNECTION,
        since: (0, 0),
    },
    MetricSet {
        spec: &schema::REPLICATION_SLOT,
        since: (14, 0),
    },
    MetricSet {
        spec: &schema::SLRU,
        since: (13, 0),
    },
    MetricSet {
        spec: &schema::CONFLICT,
        since: (9, 2),
    },
    MetricSet {
        spec: &schema::ARCHIVER,
        since: (9, 4),
    },
    MetricSet {
        spec: &schema::IO,
        since: (16, 0),
    },
];

/// The per-table collections `relations` turns on, with the column its schema filter reads.
const RELATION_SETS: &[(&MeasurementSpec, &str)] = &[
    (&schema::LOCK, "nspname"),
    (&schema::STAT, "schemaname"),
    (&schema::INDEX, "schemaname"),
    (&schema::SIZE, "nspname"),
    (&schema::STATIO, "schemaname"),
];

/// Every name `metric_exclude_list` knows.
fn excludable() -> impl Iterator<Item = &'static str> {
    SETS.iter()
        .map(|s| s.spec.name)
        .chain(RELATION_SETS.iter().map(|(m, _)| m.name))
}

/// `'text'` as an SQL literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn quote_list(items: &[String]) -> String {
    items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
}

const NOT_SYSTEM_DB: &str = "datname not ilike 'template%' AND datname not ilike 'rdsadmin' AND datname not ilike 'azure_maintenance' AND datname not ilike 'postgres'";

fn db_filter(column: &str, ignored: &[String], only: &[String]) -> String {
    if !ignored.is_empty() {
        format!(" AND {column} NOT IN ({})", quote_list(ignored))
    } else if !only.is_empty() {
        format!(" AND {column} IN ({})", quote_list(only))
    } else {
        String::new()
    }
}

/// The query of a metric set on a server of `version`.
fn set_query(
    name: &str,
    version: (u32, u32),
    ignored: &[String],
    only: &[String],
) -> Option<String> {
    Some(match name {
        "postgresql" => format!(
            "SELECT psd.*, 2^31 - age(datfrozenxid) AS wraparound, psd.datname AS db, \
             pg_database_size(psd.datname) AS database_size \
             FROM pg_stat_database psd JOIN pg_database pd ON psd.datname = pd.datname \
             WHERE {}{}",
            NOT_SYSTEM_DB.replace("datname", "psd.datname"),
            db_filter("psd.datname", ignored, only)
        ),
        "postgresql_replication" if version >= (10, 0) => {
            "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() \
             THEN 0 ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())) END AS replication_delay, \
             abs(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())) AS replication_delay_bytes \
             WHERE (SELECT pg_is_in_recovery())"
                .to_string()
        }
        "postgresql_replication" => {
            let mut q = "SELECT CASE WHEN pg_last_xlog_receive_location() IS NULL OR pg_last_xlog_receive_location() = pg_last_xlog_replay_location() \
             THEN 0 ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())) END AS replication_delay"
                .to_string();
            if version >= (9, 2) {
                q.push_str(", abs(pg_xlog_location_diff(pg_last_xlog_receive_location(), pg_last_xlog_replay_location())) AS replication_delay_bytes");
            }
            q.push_str(" WHERE (SELECT pg_is_in_recovery())");
            q
        }
        "postgresql_bgwriter" => "SELECT * FROM pg_stat_bgwriter".to_string(),
        "postgresql_connection" => "WITH max_con AS (SELECT setting::float FROM pg_settings WHERE name = 'max_connections') \
             SELECT MAX(setting) AS max_connections, SUM(numbackends)/MAX(setting) AS percent_usage_connections \
             FROM pg_stat_database, max_con"
            .to_string(),
        "postgresql_replication_slot" => "SELECT stat.slot_name, slot_type, \
             CASE WHEN active THEN 'active' ELSE 'inactive' END, \
             spill_txns, spill_count, spill_bytes, stream_txns, stream_count, stream_bytes, total_txns, total_bytes \
             FROM pg_stat_replication_slots AS stat \
             JOIN pg_replication_slots ON pg_replication_slots.slot_name = stat.slot_name"
            .to_string(),
        "postgresql_slru" => "SELECT name, blks_zeroed, blks_hit, blks_read, blks_written, blks_exists, flushes, truncates FROM pg_stat_slru".to_string(),
        "postgresql_conflict" => {
            let f = db_filter("datname", ignored, only);
            format!(
                "SELECT datname AS db, confl_tablespace, confl_lock, confl_snapshot, confl_bufferpin, confl_deadlock \
                 FROM pg_stat_database_conflicts{}",
                f.strip_prefix(" AND").map(|w| format!(" WHERE{w}")).unwrap_or_default()
            )
        }
        "postgresql_archiver" => {
            "SELECT archived_count, failed_count AS archived_failed_count FROM pg_stat_archiver".to_string()
        }
        "postgresql_io" => "SELECT backend_type, object, context, evictions, extend_time, extends, fsync_time, fsyncs, \
             hits, read_time, reads, write_time, writes FROM pg_stat_io LIMIT 200"
            .to_string(),
        _ => return None,
    })
}

/// The query of a per-table set for one `relations` entry (`None` without a name or regex).
fn relation_query(measurement: &str, schema_col: &str, r: &RelationConfig) -> Option<String> {
    let mut filter = if !r.relation_name.is_empty() {
        format!("( relname = {}", quote(&r.relation_name))
    } else if !r.relation_regex.is_empty() {
        format!("( relname ~ {}", quote(&r.relation_regex))
    } else {
        return None;
    };
    if !r.schemas.is_empty() {
        filter.push_str(&format!(
            " AND {schema_col} = ANY(array[{}]::text[])",
            quote_list(&r.schemas)
        ));
    }
    if measurement == "postgresql_lock" && !r.relkind.is_empty() {
        filter.push_str(&format!(
            " AND relkind = ANY(array[{}])",
            quote_list(&r.relkind)
        ));
    }
    filter.push_str(" )");
    Some(match measurement {
        "postgresql_lock" => format!(
            "SELECT mode, locktype, pn.nspname AS schema, pd.datname AS db, pc.relname AS table, count(*) AS lock_count \
             FROM pg_locks l JOIN pg_database pd ON (l.database = pd.oid) JOIN pg_class pc ON (l.relation = pc.oid) \
             LEFT JOIN pg_namespace pn ON (pn.oid = pc.relnamespace) \
             WHERE {filter} AND l.mode IS NOT NULL AND pc.relname NOT LIKE 'pg^_%' ESCAPE '^' \
             GROUP BY pd.datname, pc.relname, pn.nspname, locktype, mode"
        ),
        "postgresql_stat" => format!(
            "SELECT relname AS table, schemaname AS schema, * FROM pg_stat_user_tables WHERE {filter}"
        ),
        "postgresql_index" => format!(
            "SELECT relname AS table, schemaname AS schema, indexrelname AS pg_index, idx_scan, idx_tup_read, idx_tup_fetch \
             FROM pg_stat_user_indexes WHERE {filter}"
        ),
        "postgresql_size" => format!(
            "SELECT current_database() AS db, s.schemaname AS schema, s.table, s.partition_of, s.relpages, s.reltuples, \
             s.relallvisible, s.relation_size + s.toast_size AS table_size, s.relation_size, s.index_size, s.toast_size, \
             s.relation_size + s.index_size + s.toast_size AS total_size \
             FROM (SELECT N.nspname AS schemaname, relname AS table, I.inhparent::regclass::text AS partition_of, \
             C.relpages, C.reltuples, C.relallvisible, pg_relation_size(C.oid) AS relation_size, \
             CASE WHEN C.relhasindex THEN pg_indexes_size(C.oid) ELSE 0 END AS index_size, \
             CASE WHEN C.reltoastrelid > 0 THEN pg_relation_size(C.reltoastrelid) ELSE 0 END AS toast_size \
             FROM pg_class C LEFT JOIN pg_namespace N ON (N.oid = C.relnamespace) \
             LEFT JOIN pg_inherits I ON (I.inhrelid = C.oid) \
             WHERE NOT (nspname = ANY('{{pg_catalog,information_schema}}')) AND relkind = 'r' AND {filter} LIMIT 300) AS s"
        ),
        "postgresql_statio" => format!(
            "SELECT relname AS table, schemaname AS schema, heap_blks_read, heap_blks_hit, idx_blks_read, idx_blks_hit, \
             toast_blks_read, toast_blks_hit, tidx_blks_read, tidx_blks_hit FROM pg_statio_user_tables WHERE {filter}"
        ),
        _ => return None,
    })
}

/// `15.10 (Debian 15.10-1)` → (15, 10); `9.6.24` → (9, 6); `11beta3` → (11, 0).
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let first = v.split_whitespace().next()?;
    let mut parts = first.split('.');
    let major_text = parts.next()?;
    let digits: String = major_text
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let major: u32 = digits.parse().ok()?;
    let minor = parts
        .next()
        .map(|m| {
            m.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
        })
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// A value of a field column: the number in the text (`t`/`f` as 1 and 0).
fn number(text: &str) -> Option<f64> {
    match text {
        "t" => Some(1.0),
        "f" => Some(0.0),
        _ => text.trim().parse::<f64>().ok(),
    }
}

/// The points of `rows`: one per row with at least one field; only the columns named in
/// `tags` and `fields` are read. Values a field cannot take are reported in `problems`.
pub fn rows_to_points(
    measurement: &str,
    rows: &Rows,
    tags: &[&str],
    fields: &[&str],
    base_tags: &[(String, String)],
    problems: &mut Vec<String>,
) -> Vec<Point> {
    let mut out = Vec::new();
    for row in &rows.rows {
        let mut p = Point::new(Category::Metric, measurement);
        for (k, v) in base_tags {
            p.set_tag(k.as_str(), v.as_str());
        }
        let mut has_field = false;
        for (col, val) in rows.columns.iter().zip(row) {
            let Some(val) = val else { continue };
            if tags.contains(&col.as_str()) {
                p.set_tag(col.as_str(), val.as_str());
            } else if fields.contains(&col.as_str()) {
                match number(val) {
                    Some(x) => {
                        p.set_field(col.as_str(), Value::Float(x));
                        has_field = true;
                    }
                    None => problems.push(format!(
                        "{measurement}: column `{col}`: `{}` is not a number; the field is left out",
                        val.chars().take(40).collect::<String>()
                    )),
                }
            }
        }
        if has_field {
            out.push(p);
        }
    }
    out
}

impl PostgresqlConfig {
    fn logging(&self) -> Option<super::logging::LoggingConfig> {
        if self.log.files.is_empty() {
            return None;
        }
        Some(super::logging::LoggingConfig {
            logfiles: self.log.files.clone(),
            source: NAME.into(),
            service: NAME.into(),
            pipeline: self.log.pipeline.clone(),
            ignore_status: self.log.ignore.clone(),
            character_encoding: self.log.character_encoding.clone(),
            multiline_match: self.log.multiline_match.clone(),
            tags: self.tags.clone(),
            ..Default::default()
        })
    }

    fn tls(&self, a: &Address) -> Result<Tls, String> {
        if a.is_unix() || a.sslmode == SslMode::Disable || a.sslmode == SslMode::Allow {
            return Ok(Tls::disabled());
        }
        let read = |option: &'static str, path: &str| {
            crate::net::PemSource::file(option, path)
                .der_certificates()
                .map_err(|e| e.to_string())
        };
        let roots = if a.sslrootcert.is_empty() {
            Vec::new()
        } else {
            read("sslrootcert", &a.sslrootcert)?
        };
        let client = match (a.sslcert.is_empty(), a.sslkey.is_empty()) {
            (true, true) => None,
            (false, false) => Some((
                read("sslcert", &a.sslcert)?,
                crate::net::PemSource::file("sslkey", &a.sslkey)
                    .der_private_key()
                    .map_err(|e| e.to_string())?,
            )),
            _ => return Err("`sslcert` and `sslkey` go together".into()),
        };
        Tls::new(a.sslmode, roots, client)
    }
}

fn log_issues(l: &super::logging::LoggingConfig, v: &mut Validation) {
    let mut lv = Validation::default();
    l.validate(&mut lv);
    for i in lv.issues {
        let key = match i.key.as_str() {
            "logfiles" => "log.files".to_string(),
            k if k.starts_with("logfiles[") => format!("log.files{}", &k["logfiles".len()..]),
            "pipeline" => "log.pipeline".to_string(),
            "ignore_status" => "log.ignore".to_string(),
            "character_encoding" => "log.character_encoding".to_string(),
            "multiline_match" => "log.multiline_match".to_string(),
            k => k.to_string(),
        };
        match i.severity {
            crate::diag::Severity::Error => v.error(&key, i.message),
            crate::diag::Severity::Warning => v.warning(&key, i.message),
        };
    }
}

impl InputConfig for PostgresqlConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        crate::inputs::host::check_interval(v, "interval", self.interval);
        crate::inputs::host::check_interval(v, "timeout", self.timeout);
        crate::inputs::host::check_tags(v, &self.tags);
        match Address::parse(&self.address) {
            Err(e) => {
                v.error("address", e);
            }
            Ok(a) => {
                if a.extra_hosts > 0 {
                    v.warning(
                        "address",
                        "several hosts: only the first is collected (configure one instance per server)",
                    );
                }
                if let Err(e) = self.tls(&a) {
                    v.error("address", format!("TLS: {e}"));
                }
            }
        }
        if !self.databases.is_empty() && !self.ignored_databases.is_empty() {
            v.error(
                "databases",
                "do not combine with `ignored_databases` (the original then uses `ignored_databases` alone)",
            )
            .reads(&["ignored_databases"]);
        }
        for (i, m) in self.metric_exclude_list.iter().enumerate() {
            if !m.is_empty() && !excludable().any(|n| n == m) {
                v.warning(
                    &format!("metric_exclude_list[{i}]"),
                    format!(
                        "`{m}` is not a measurement of this input ({})",
                        excludable().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        for (i, r) in self.relations.iter().enumerate() {
            if r.relation_name.is_empty() && r.relation_regex.is_empty() {
                v.error(
                    &format!("relations[{i}]"),
                    "set `relation_name` or `relation_regex`",
                );
            }
            for (j, k) in r.relkind.iter().enumerate() {
                if !["r", "i", "S", "t", "p", "m", "c", "f"].contains(&k.as_str()) {
                    v.error(
                        &format!("relations[{i}].relkind[{j}]"),
                        format!("`{k}` is not a relation kind (r, i, S, t, p, m, c, f)"),
                    );
                }
            }
        }
        for (i, q) in self.custom_queries.iter().enumerate() {
            if q.sql.trim().is_empty() {
                v.error(&format!("custom_queries[{i}].sql"), "empty");
            }
            if q.metric.trim().is_empty() {
                v.error(
                    &format!("custom_queries[{i}].metric"),
                    "empty: name the measurement",
                );
            }
            if q.fields.is_empty() {
                v.error(
                    &format!("custom_queries[{i}].fields"),
                    "empty: a point needs at least one field column",
                );
            }
            if !q.interval.get().is_zero() {
                crate::inputs::host::check_interval(
                    v,
                    &format!("custom_queries[{i}].interval"),
                    q.interval,
                );
            }
        }
        if let Some(l) = self.logging() {
            log_issues(&l, v);
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let addr = Address::parse(&self.address)
            .map_err(|e| InputError::Setup(format!("address: {e}")))?;
        let tls = self
            .tls(&addr)
            .map_err(|e| InputError::Setup(format!("address: TLS: {e}")))?;
        let log = match self.logging() {
            Some(l) => Some(l.build()?),
            None => None,
        };
        let collector = Collector::new(self, addr, tls);
        Ok(Box::new(PgInput {
            tick: collector.tick,
            collector,
            log,
        }))
    }
}

struct CustomQuery {
    cfg: CustomQueryConfig,
    every: Duration,
    next: Option<Instant>,
}

/// One server's collector: its connections and what it learned about the server.
pub struct Collector {
    addr: Address,
    tls: Tls,
    timeout: Duration,
    conn: Option<Conn>,
    /// Connections to other databases (relations).
    others: HashMap<String, Conn>,
    version: Option<(u32, u32)>,
    aurora: bool,
    sets: Vec<&'static MetricSet>,
    relation_sets: Vec<(&'static MeasurementSpec, &'static str)>,
    relations: Vec<RelationConfig>,
    ignored: Vec<String>,
    only: Vec<String>,
    /// The database of relations without `databases`: the address's, or `postgres`.
    default_db: String,
    custom: Vec<CustomQuery>,
    every: Duration,
    next: Option<Instant>,
    tick: Duration,
    tags: Vec<(String, String)>,
    up_tags: Vec<(String, String)>,
}

/// What one collection gives.
#[derive(Debug, Default)]
pub struct Outcome {
    pub points: Vec<Point>,
    /// The `collector` up-metric (when the metric sets were due).
    pub up: Option<Point>,
    /// Why the server could not be collected (up = 0).
    pub error: Option<String>,
    /// Metric sets or queries that failed: left out of this collection.
    pub partial: Vec<String>,
}

impl Collector {
    pub fn new(cfg: &PostgresqlConfig, addr: Address, tls: Tls) -> Collector {
        let excluded = |name: &str| cfg.metric_exclude_list.iter().any(|m| m == name);
        let server = if cfg.outputaddress.is_empty() {
            addr.server()
        } else {
            cfg.outputaddress.clone()
        };
        let mut tags: Vec<(String, String)> = cfg
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !cfg.tags.contains_key("host") && !addr.is_unix() && !crate::net::is_loopback(&addr.host)
        {
            tags.push(("host".into(), addr.host.clone()));
        }
        if !cfg.tags.contains_key("server") {
            tags.push(("server".into(), server));
        }
        let mut up_tags = vec![
            ("job".to_string(), NAME.to_string()),
            ("instance".to_string(), addr.server()),
        ];
        up_tags.extend(cfg.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        let every = cfg.interval.get();
        let custom: Vec<CustomQuery> = cfg
            .custom_queries
            .iter()
            .map(|q| CustomQuery {
                cfg: q.clone(),
                every: if q.interval.get().is_zero() {
                    every
                } else {
                    q.interval.get()
                },
                next: None,
            })
            .collect();
        let tick = custom.iter().map(|c| c.every).fold(every, Duration::min);
        let default_db = if addr.database.is_empty() {
            "postgres".to_string()
        } else {
            addr.database.clone()
        };
        let timeout = addr
            .connect_timeout
            .map_or(cfg.timeout.get(), |t| t.min(cfg.timeout.get()));
        Collector {
            timeout,
            tls,
            conn: None,
            others: HashMap::new(),
            version: None,
            aurora: false,
            sets: SETS.iter().filter(|s| !excluded(s.spec.name)).collect(),
            relation_sets: RELATION_SETS
                .iter()
                .copied()
                .filter(|(m, _)| !excluded(m.name))
                .collect(),
            relations: cfg.relations.clone(),
            ignored: cfg.ignored_databases.clone(),
            only: cfg.databases.clone(),
            default_db,
            custom,
            every,
            next: None,
            tick,
            tags,
            up_tags,
            addr,
        }
    }

    fn params(&self, database: &str) -> Params {
        let mut options = vec![("application_name".to_string(), "datakit".to_string())];
        for (k, v) in &self.addr.options {
            if let Some(o) = options.iter_mut().find(|(ok, _)| ok == k) {
                o.1 = v.clone();
            } else {
                options.push((k.clone(), v.clone()));
            }
        }
        Params {
            endpoint: self.addr.endpoint(),
            user: self.addr.user.clone(),
            password: self.addr.password.clone(),
            database: database.to_string(),
            options,
            tls: self.tls.clone(),
            timeout: self.timeout,
            target: self.addr.target(database),
        }
    }

    /// The main connection, made if there is none (and the server's version learned).
    fn conn(&mut self) -> Result<&mut Conn, PgError> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let mut c = Conn::connect(&self.params(&self.addr.database))?;
                self.version = parse_version(c.server_version());
                // Aurora has this function (the original called it; asking whether it exists
                // leaves no error in the server's log).
                self.aurora = match c.query(
                    "SELECT to_regproc('aurora_version') IS NOT NULL",
                    "Aurora check",
                ) {
                    Ok(r) => r.rows.first().and_then(|r| r.first()) == Some(&Some("t".into())),
                    Err(e) if !e.breaks_connection() => false,
                    Err(e) => return Err(e),
                };
                c
            }
        };
        Ok(self.conn.insert(conn))
    }

    /// One collection at `now_ns`: the metric sets when due, the custom queries when due.
    pub fn collect(&mut self, now_ns: i64) -> Outcome {
        let now = Instant::now();
        let mut out = Outcome::default();
        let due = |next: Option<Instant>| next.is_none_or(|n| now + Duration::from_millis(50) >= n);
        if due(self.next) {
            self.next = Some(now + self.every);
            let up = match self.collect_metrics(&mut out) {
                Ok(()) => 1,
                Err(e) => {
                    self.conn = None;
                    out.points.clear();
                    out.error = Some(e.to_string());
                    0
                }
            };
            let mut p = Point::new(Category::Metric, "collector");
            for (k, v) in &self.up_tags {
                p.set_tag(k.as_str(), v.as_str());
            }
            p.set_field("up", Value::Int(up));
            p.time = now_ns;
            out.up = Some(p);
        }
        for i in 0..self.custom.len() {
            if !due(self.custom[i].next) {
                continue;
            }
            self.custom[i].next = Some(now + self.custom[i].every);
            if out.error.is_some() {
                continue;
            }
            self.custom_query(i, &mut out);
        }
        for p in out.points.iter_mut() {
            p.time = now_ns;
        }
        out
    }

    fn custom_query(&mut self, i: usize, out: &mut Outcome) {
        let q = &self.custom[i].cfg;
        let (sql, metric) = (q.sql.clone(), q.metric.clone());
        let tags: Vec<String> = q.tags.clone();
        let fields: Vec<String> = q.fields.clone();
        let rows = match self.conn().and_then(|c| c.query(&sql, "custom query")) {
            Ok(r) => r,
            Err(e) => {
                if e.breaks_connection() {
                    self.conn = None;
                }
                out.partial.push(format!("custom query `{metric}`: {e}"));
                return;
            }
        };
        let t: Vec<&str> = tags.iter().map(String::as_str).collect();
        let f: Vec<&str> = fields.iter().map(String::as_str).collect();
        out.points.extend(rows_to_points(
            &metric,
            &rows,
            &t,
            &f,
            &self.tags,
            &mut out.partial,
        ));
    }

    /// A query on the main connection: a server error skips the set (noted in
    /// `out.partial`), a broken connection fails the collection.
    fn optional(
        &mut self,
        out: &mut Outcome,
        sql: &str,
        during: &'static str,
    ) -> Result<Option<Rows>, PgError> {
        match self.conn()?.query(sql, during) {
            Ok(r) => Ok(Some(r)),
            Err(e) if !e.breaks_connection() => {
                out.partial.push(e.to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn collect_metrics(&mut self, out: &mut Outcome) -> Result<(), PgError> {
        self.conn()?;
        let version = self.version.unwrap_or((0, 0));
        for set in self.sets.clone() {
            if version < set.since {
                continue;
            }
            let name = set.spec.name;
            if name == "postgresql_replication" && self.aurora {
                continue;
            }
            let Some(sql) = set_query(name, version, &self.ignored, &self.only) else {
                continue;
            };
            if let Some(rows) = self.optional(out, &sql, name)? {
                let (tags, fields) = names(set.spec);
                out.points.extend(rows_to_points(
                    name,
                    &rows,
                    &tags,
                    &fields,
                    &self.tags,
                    &mut out.partial,
                ));
            }
        }
        if !self.relations.is_empty() && !self.relation_sets.is_empty() {
            self.collect_relations(out)?;
        }
        Ok(())
    }

    fn collect_relations(&mut self, out: &mut Outcome) -> Result<(), PgError> {
        for r in self.relations.clone() {
            let dbs = if !r.databases.is_empty() {
                r.databases.clone()
            } else if !r.database_regex.is_empty() {
                let sql = format!(
                    "SELECT datname FROM pg_database WHERE {NOT_SYSTEM_DB} AND datname ~ {}",
                    quote(&r.database_regex)
                );
                match self.optional(out, &sql, "relations: databases")? {
                    Some(rows) => rows
                        .rows
                        .into_iter()
                        .filter_map(|row| row.into_iter().next().flatten())
                        .collect(),
                    None => continue,
                }
            } else {
                vec![self.default_db.clone()]
            };
            for db in dbs {
                for (spec, schema_col) in self.relation_sets.clone() {
                    let Some(sql) = relation_query(spec.name, schema_col, &r) else {
                        continue;
                    };
                    match self.query_in(&db, &sql, spec.name) {
                        Ok(rows) => {
                            let (tags, fields) = names(spec);
                            let mut base = self.tags.clone();
                            base.push(("db".into(), db.clone()));
                            out.points.extend(rows_to_points(
                                spec.name,
                                &rows,
                                &tags,
                                &fields,
                                &base,
                                &mut out.partial,
                            ));
                        }
                        Err(e) => out.partial.push(e.to_string()),
                    }
                }
            }
        }
        Ok(())
    }

    /// A query in database `db` (its own connection, kept; the main one for the address's
    /// database).
    fn query_in(&mut self, db: &str, sql: &str, during: &'static str) -> Result<Rows, PgError> {
        if db == self.addr.database || (self.addr.database.is_empty() && db == self.addr.user) {
            let r = self.conn()?.query(sql, during);
            if matches!(&r, Err(e) if e.breaks_connection()) {
                self.conn = None;
            }
            return r;
        }
        let mut c = match self.others.remove(db) {
            Some(c) => c,
            None => Conn::connect(&self.params(db))?,
        };
        let r = c.query(sql, during);
        if !matches!(&r, Err(e) if e.breaks_connection()) {
            self.others.insert(db.to_string(), c);
        }
        r
    }
}

fn names(spec: &MeasurementSpec) -> (Vec<&'static str>, Vec<&'static str>) {
    (
        spec.tags.iter().map(|t| t.name).collect(),
        spec.fields.iter().map(|f| f.name).collect(),
    )
}

struct PgInput {
    tick: Duration,
    collector: Collector,
    log: Option<Box<dyn Input>>,
}

impl Input for PgInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let PgInput {
                tick,
                collector,
                log,
            } = *self;
            match log {
                None => run_metrics(tick, collector, ctx).await,
                Some(log) => {
                    let (a, b) =
                        tokio::join!(run_metrics(tick, collector, ctx.clone()), log.run(ctx));
                    a.and(b)
                }
            }
        })
    }
}

async fn run_metrics(
    tick: Duration,
    collector: Collector,
    mut ctx: InputCtx,
) -> Result<(), InputError> {
    let mut periodic = super::Periodic::on(super::exec::Lane::Scrape, tick, collector, &ctx);
    let mut failing: Option<String> = None;
    let mut partial: Vec<String> = Vec::new();
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some((outcome, fed)) = periodic
            .next(&mut ctx, move |c| {
                let mut o = c.collect(crate::clock::now_ns());
                let mut points = std::mem::take(&mut o.points);
                points.extend(o.up.take());
                let fed = if points.is_empty() {
                    Ok(())
                } else {
                    ingest
                        .feed_blocking(
                            &origin,
                            Category::Metric,
                            points,
                            &crate::ingest::FeedOptions::default(),
                            false,
                        )
                        .map(|_| ())
                };
                (o, fed)
            })
            .await
        else {
            return Ok(());
        };
        let now_failing = outcome.error.clone();
        match (&failing, &now_failing) {
            (None, Some(m)) => tracing::warn!(input = ctx.name, "{m}"),
            (Some(a), Some(b)) if a != b => tracing::warn!(input = ctx.name, "{b}"),
            (Some(_), None) => tracing::info!(input = ctx.name, "collecting again"),
            _ => {}
        }
        failing = now_failing;
        // A failed query is logged when it starts failing, not every interval.
        for m in outcome.partial.iter().filter(|m| !partial.contains(m)) {
            tracing::warn!(input = ctx.name, "{m}");
        }
        partial.clone_from(&outcome.partial);
        for msg in outcome.error.into_iter().chain(outcome.partial) {
            ctx.stats.record_error(msg.clone());
            ctx.agent_stats.record_error(ctx.name, msg);
        }
        fed?;
    }
}

const NOTES: &[&str] = &[
    "One connection per instance, kept between collections (the original kept a pool of up to five and opened a new connection for every query in another database); relations in other databases get one connection per database, kept too. Each query's answer must come within `timeout` (and the address's `connect_timeout`, when smaller).",
    "Every field is a float, as the original sends them (its documentation says int for most). A value a field cannot take (a text column named in a custom query's `fields`) is left out and counted as an error; the original sent 0. Boolean columns give 1 and 0.",
    "The `server` tag is the address's `host:port` (or `outputaddress`); the `host` tag is the address's host when it is not loopback. Without election the original built `server` from the agent's host name for a local server.",
    "Custom queries run on their own `interval` (default: the input's), on the same connection as the metric sets; their points have the input's tags and `server`.",
    "Not supported (reported as having no effect): database monitoring (`dbm`, `dbm_metric`, `dbm_sample`, `dbm_activity`: the `postgresql_dbm_*` logging points), the `database` object and custom object (`object`). The PG* environment variables and `.pgpass` are not read; SASLprep is not applied to SCRAM passwords (ASCII passwords are unaffected); GSSAPI and Kerberos are not spoken.",
    "With `[inputs.postgresql.log]`, the files are tailed like a `logging` input with `source = \"postgresql\"` and `postgresql.p` (its positions, rotation and limits); the log is tailed on every agent, election or not.",
];

pub const ENTRY: InputEntry = entry_with_compat::<PostgresqlConfig>(
    InputSpec {
        name: NAME,
        catalog: "db",
        description: "PostgreSQL metrics (databases, bgwriter, connections, replication, conflicts, archiver, SLRU, locks and table statistics for chosen tables), custom queries, and its log with postgresql.p.",
        singleton: false,
        interval: Some(IntervalLimits {
            min: Duration::from_secs(10),
            max: Duration::from_secs(600),
        }),
        measurements: schema::MEASUREMENTS,
    },
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(c: &PostgresqlConfig) -> Vec<String> {
        crate::inputs::validation_issues(c)
    }

    #[test]
    fn the_default_validates_and_builds() {
        let c = PostgresqlConfig::default();
        assert!(issues(&c).is_empty(), "{:?}", issues(&c));
        assert!(c.election_enabled());
        assert!(c.build().is_ok());
    }

    #[test]
    fn bad_options_are_reported() {
        let c: PostgresqlConfig = toml::from_str(
            "address = \"host=x user\"\ndatabases = [\"a\"]\nignored_databases = [\"b\"]\n\
             metric_exclude_list = [\"postgresql_nothing\"]\n\
             [[relations]]\nrelkind = [\"z\"]\n\
             [[custom_queries]]\nsql = \"select 1\"\n",
        )
        .unwrap();
        let got = issues(&c);
        let keys: Vec<&str> = got.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "address",
                "databases",
                "metric_exclude_list[0]",
                "relations[0]",
                "relations[0].relkind[0]",
                "custom_queries[0].metric",
                "custom_queries[0].fields"
            ],
            "{got:?}"
        );
        let c: PostgresqlConfig =
            toml::from_str("address = \"postgres://u@h/d?sslmode=verify-full\"\n").unwrap();
        let got = issues(&c);
        assert!(
            got[0].contains("verify-full needs `sslrootcert`"),
            "{got:?}"
        );
    }

    #[test]
    fn the_original_keys_without_effect() {
        for k in ["dbm", "dbm_metric.enabled", "object", "max_lifetime"] {
            assert!(compat(k).is_some(), "{k}");
        }
        assert!(compat("address").is_none());
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("15.10 (Debian 15.10-0+deb12u1)"),
            Some((15, 10))
        );
        assert_eq!(parse_version("9.6.24"), Some((9, 6)));
        assert_eq!(parse_version("11beta3"), Some((11, 0)));
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn rows_become_points_of_the_named_columns() {
        let rows = Rows {
            columns: vec![
                "db".into(),
                "numbackends".into(),
                "other".into(),
                "deadlocks".into(),
            ],
            rows: vec![
                vec![Some("app".into()), Some("3".into()), Some("x".into()), None],
                vec![Some("b".into()), Some("oops".into()), None, None],
            ],
        };
        let mut problems = Vec::new();
        let pts = rows_to_points(
            "postgresql",
            &rows,
            &["db"],
            &["numbackends", "deadlocks"],
            &[("server".into(), "h:5432".into())],
            &mut problems,
        );
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].get_tag("db"), Some("app"));
        assert_eq!(pts[0].get_tag("server"), Some("h:5432"));
        assert_eq!(pts[0].get_field("numbackends"), Some(&Value::Float(3.0)));
        assert_eq!(pts[0].get_field("other"), None);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("`numbackends`: `oops` is not a number"));
    }

    #[test]
    fn relation_filters_quote_their_values() {
        let r = RelationConfig {
            relation_name: "it's".into(),
            schemas: vec!["public".into()],
            relkind: vec!["r".into()],
            ..RelationConfig::default()
        };
        let q = relation_query("postgresql_lock", "nspname", &r).unwrap();
        assert!(q.contains("( relname = 'it''s' AND nspname = ANY(array['public']::text[]) AND relkind = ANY(array['r']) )"), "{q}");
        let q = relation_query("postgresql_stat", "schemaname", &r).unwrap();
        assert!(!q.contains("relkind"));
        assert!(
            relation_query("postgresql_stat", "schemaname", &RelationConfig::default()).is_none()
        );
    }

    #[test]
    fn a_closed_port_is_an_error_naming_the_target_without_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = PostgresqlConfig {
            address: format!("postgres://dk:s3cret@127.0.0.1:{port}/app?sslmode=disable"),
            timeout: Dur::from_secs(1),
            ..PostgresqlConfig::default()
        };
        let addr = Address::parse(&c.address).unwrap();
        let mut col = Collector::new(&c, addr, Tls::disabled());
        let o = col.collect(1);
        let err = o.error.unwrap();
        assert!(
            err.starts_with(&format!(
                "connecting to postgresql://dk:***@127.0.0.1:{port}/app: "
            )),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
        assert_eq!(o.up.unwrap().get_field("up"), Some(&Value::Int(0)));
        assert!(o.points.is_empty());
    }
}
