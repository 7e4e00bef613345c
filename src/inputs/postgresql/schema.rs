//! The `postgresql` input's measurements, as data. Only a column named in its measurement
//! becomes a tag or field (the original's rule); every field is a float, as the original sends
//! them (it converts each value with `cast.ToFloat64`).

use crate::inputs::host::{field, tag};
use crate::inputs::{FieldSpec, MeasurementSpec, TagSpec};
use crate::point::Category;

macro_rules! ff {
    ($n:literal, $u:literal, $d:literal) => {
        field!($n, Float, $u, $d)
    };
}

const SERVER: TagSpec = tag!(
    "server",
    "`host:port` of the address (the socket directory for a unix socket)."
);
const DB: TagSpec = tag!("db", "The database.");
const TABLE: TagSpec = tag!("table", "The table.");
const SCHEMA: TagSpec = tag!("schema", "The table's schema.");

const DB_TAGS: &[TagSpec] = &[SERVER, DB];
const SERVER_TAGS: &[TagSpec] = &[SERVER];
const TABLE_TAGS: &[TagSpec] = &[SERVER, DB, TABLE, SCHEMA];

pub const DB_FIELDS: &[FieldSpec] = &[
    ff!(
        "numbackends",
        "count",
        "Backends connected to this database."
    ),
    ff!("xact_commit", "count", "Transactions committed."),
    ff!("xact_rollback", "count", "Transactions rolled back."),
    ff!("blks_read", "count", "Disk blocks read."),
    ff!(
        "blks_hit",
        "count",
        "Disk blocks found in the buffer cache (no read needed)."
    ),
    ff!("tup_returned", "count", "Rows returned by queries."),
    ff!("tup_fetched", "count", "Rows fetched by queries."),
    ff!("tup_inserted", "count", "Rows inserted."),
    ff!("tup_updated", "count", "Rows updated."),
    ff!("tup_deleted", "count", "Rows deleted."),
    ff!("deadlocks", "count", "Deadlocks detected."),
    ff!(
        "temp_bytes",
        "digital,B",
        "Bytes written to temporary files."
    ),
    ff!("temp_files", "count", "Temporary files created."),
    ff!(
        "database_size",
        "digital,B",
        "Disk space the database takes (`pg_database_size`)."
    ),
    ff!(
        "wraparound",
        "count",
        "Transactions left until transaction ID wraparound (2^31 − age of `datfrozenxid`)."
    ),
    ff!(
        "session_time",
        "time,ms",
        "Time sessions spent in this database (PostgreSQL 14 and later)."
    ),
    ff!(
        "active_time",
        "time,ms",
        "Time spent executing statements (PostgreSQL 14 and later)."
    ),
    ff!(
        "idle_in_transaction_time",
        "time,ms",
        "Time spent idle in a transaction (PostgreSQL 14 and later)."
    ),
    ff!(
        "sessions",
        "count",
        "Sessions established (PostgreSQL 14 and later)."
    ),
    ff!(
        "sessions_abandoned",
        "count",
        "Sessions ended because the client went away (PostgreSQL 14 and later)."
    ),
    ff!(
        "sessions_fatal",
        "count",
        "Sessions ended by fatal errors (PostgreSQL 14 and later)."
    ),
    ff!(
        "sessions_killed",
        "count",
        "Sessions ended by an operator (PostgreSQL 14 and later)."
    ),
];

pub const LOCK_TAGS: &[TagSpec] = &[
    SERVER,
    DB,
    TABLE,
    SCHEMA,
    tag!("locktype", "The lockable object's type."),
    tag!("mode", "The lock mode."),
];
pub const LOCK_FIELDS: &[FieldSpec] = &[ff!(
    "lock_count",
    "count",
    "Locks held or awaited on the table in this mode."
)];

pub const STAT_FIELDS: &[FieldSpec] = &[
    ff!("seq_scan", "count", "Sequential scans of the table."),
    ff!(
        "seq_tup_read",
        "count",
        "Live rows fetched by sequential scans."
    ),
    ff!("idx_scan", "count", "Index scans of the table."),
    ff!(
        "idx_tup_fetch",
        "count",
        "Live rows fetched by index scans."
    ),
    ff!("n_tup_ins", "count", "Rows inserted."),
    ff!("n_tup_upd", "count", "Rows updated."),
    ff!("n_tup_del", "count", "Rows deleted."),
    ff!(
        "n_tup_hot_upd",
        "count",
        "Rows updated without an index update (HOT)."
    ),
    ff!("n_live_tup", "count", "Estimated live rows."),
    ff!("n_dead_tup", "count", "Estimated dead rows."),
    ff!("vacuum_count", "count", "Manual vacuums of the table."),
    ff!("autovacuum_count", "count", "Vacuums by autovacuum."),
    ff!("analyze_count", "count", "Manual analyzes of the table."),
    ff!("autoanalyze_count", "count", "Analyzes by autovacuum."),
];

pub const INDEX_TAGS: &[TagSpec] = &[SERVER, DB, TABLE, SCHEMA, tag!("pg_index", "The index.")];
pub const INDEX_FIELDS: &[FieldSpec] = &[
    ff!("idx_scan", "count", "Scans of the index."),
    ff!("idx_tup_read", "count", "Index entries returned by scans."),
    ff!(
        "idx_tup_fetch",
        "count",
        "Live table rows fetched by simple scans of the index."
    ),
];

pub const SIZE_FIELDS: &[FieldSpec] = &[
    ff!(
        "table_size",
        "digital,B",
        "The table with its TOAST data (no free space or visibility map)."
    ),
    ff!("index_size", "digital,B", "The indexes of the table."),
    ff!(
        "total_size",
        "digital,B",
        "The table, its indexes and its TOAST data."
    ),
];

pub const STATIO_FIELDS: &[FieldSpec] = &[
    ff!(
        "heap_blks_read",
        "count",
        "Disk blocks read from the table."
    ),
    ff!("heap_blks_hit", "count", "Buffer hits in the table."),
    ff!(
        "idx_blks_read",
        "count",
        "Disk blocks read from the table's indexes."
    ),
    ff!(
        "idx_blks_hit",
        "count",
        "Buffer hits in the table's indexes."
    ),
    ff!(
        "toast_blks_read",
        "count",
        "Disk blocks read from the table's TOAST table."
    ),
    ff!(
        "toast_blks_hit",
        "count",
        "Buffer hits in the table's TOAST table."
    ),
    ff!(
        "tidx_blks_read",
        "count",
        "Disk blocks read from the TOAST table's index."
    ),
    ff!(
        "tidx_blks_hit",
        "count",
        "Buffer hits in the TOAST table's index."
    ),
];

pub const REPLICATION_FIELDS: &[FieldSpec] = &[
    ff!(
        "replication_delay",
        "time,s",
        "Seconds since the last replayed transaction, on a standby (0 when all received WAL is replayed)."
    ),
    ff!(
        "replication_delay_bytes",
        "digital,B",
        "WAL received but not yet replayed, on a standby."
    ),
];

pub const SLOT_TAGS: &[TagSpec] = &[
    SERVER,
    DB,
    tag!("slot_name", "The replication slot."),
    tag!("slot_type", "`physical` or `logical`."),
];
pub const SLOT_FIELDS: &[FieldSpec] = &[
    ff!(
        "spill_txns",
        "count",
        "Transactions spilled to disk while decoding."
    ),
    ff!("spill_count", "count", "Times transactions were spilled."),
    ff!("spill_bytes", "digital,B", "Decoded data spilled to disk."),
    ff!(
        "stream_txns",
        "count",
        "In-progress transactions streamed to the output plugin."
    ),
    ff!("stream_count", "count", "Times transactions were streamed."),
    ff!("stream_bytes", "digital,B", "Data decoded for streaming."),
    ff!(
        "total_txns",
        "count",
        "Decoded transactions sent to the output plugin."
    ),
    ff!(
        "total_bytes",
        "digital,B",
        "Decoded data sent to the output plugin."
    ),
];

pub const SLRU_TAGS: &[TagSpec] = &[SERVER, tag!("name", "The SLRU cache.")];
pub const SLRU_FIELDS: &[FieldSpec] = &[
    ff!(
        "blks_zeroed",
        "count",
        "Blocks zeroed during initializations."
    ),
    ff!("blks_hit", "count", "Blocks found in the cache."),
    ff!("blks_read", "count", "Blocks read from disk."),
    ff!("blks_written", "count", "Blocks written to disk."),
    ff!("blks_exists", "count", "Blocks checked for existence."),
    ff!("flushes", "count", "Flushes of dirty data."),
    ff!("truncates", "count", "Truncates."),
];

pub const BGWRITER_FIELDS: &[FieldSpec] = &[
    ff!("checkpoints_timed", "count", "Scheduled checkpoints."),
    ff!("checkpoints_req", "count", "Requested checkpoints."),
    ff!(
        "buffers_checkpoint",
        "count",
        "Buffers written during checkpoints."
    ),
    ff!(
        "buffers_clean",
        "count",
        "Buffers written by the background writer."
    ),
    ff!(
        "maxwritten_clean",
        "count",
        "Cleaning scans stopped for writing too many buffers."
    ),
    ff!(
        "buffers_backend",
        "count",
        "Buffers written by backends themselves."
    ),
    ff!("buffers_alloc", "count", "Buffers allocated."),
    ff!(
        "buffers_backend_fsync",
        "count",
        "Times a backend had to fsync itself."
    ),
    ff!(
        "checkpoint_write_time",
        "time,ms",
        "Time checkpoints spent writing files."
    ),
    ff!(
        "checkpoint_sync_time",
        "time,ms",
        "Time checkpoints spent syncing files."
    ),
];

pub const CONNECTION_FIELDS: &[FieldSpec] = &[
    ff!("max_connections", "count", "`max_connections`."),
    ff!(
        "percent_usage_connections",
        "percent,percent",
        "Backends of all databases as a fraction (0 to 1) of `max_connections`."
    ),
];

pub const CONFLICT_FIELDS: &[FieldSpec] = &[
    ff!(
        "confl_tablespace",
        "count",
        "Queries canceled on a standby for dropped tablespaces."
    ),
    ff!(
        "confl_lock",
        "count",
        "Queries canceled on a standby for lock timeouts."
    ),
    ff!(
        "confl_snapshot",
        "count",
        "Queries canceled on a standby for old snapshots."
    ),
    ff!(
        "confl_bufferpin",
        "count",
        "Queries canceled on a standby for pinned buffers."
    ),
    ff!(
        "confl_deadlock",
        "count",
        "Queries canceled on a standby for deadlocks."
    ),
];

pub const ARCHIVER_FIELDS: &[FieldSpec] = &[
    ff!("archived_count", "count", "WAL files archived."),
    ff!(
        "archived_failed_count",
        "count",
        "Failed attempts to archive WAL files."
    ),
];

pub const IO_TAGS: &[TagSpec] = &[
    SERVER,
    tag!("backend_type", "The kind of backend."),
    tag!("object", "The target object of the I/O."),
    tag!("context", "The context of the I/O."),
];
pub const IO_FIELDS: &[FieldSpec] = &[
    ff!(
        "evictions",
        "count",
        "Blocks written out to make their buffer available."
    ),
    ff!("extend_time", "time,ms", "Time spent extending relations."),
    ff!("extends", "count", "Relation extend operations."),
    ff!("fsync_time", "time,ms", "Time spent in fsync."),
    ff!("fsyncs", "count", "fsync calls."),
    ff!("hits", "count", "Blocks found in a shared buffer."),
    ff!("read_time", "time,ms", "Time spent reading."),
    ff!("reads", "count", "Read operations."),
    ff!("write_time", "time,ms", "Time spent writing."),
    ff!("writes", "count", "Write operations."),
];

const UP_TAGS: &[TagSpec] = &[
    tag!("job", "Always `postgresql`."),
    tag!("instance", "`host:port` of the address."),
];
const UP_FIELDS: &[FieldSpec] = &[field!(
    "up",
    Int,
    "-",
    "1 when the server answered the last collection, 0 otherwise."
)];

const LOG_TAGS: &[TagSpec] = &[
    tag!("service", "`postgresql`."),
    tag!(
        "status",
        "The line's level as PostgreSQL writes it, lowercased by the pipeline stage (`log`, `error`, `fatal`, ...); `info` when the line has none."
    ),
];
const LOG_FIELDS: &[FieldSpec] = &[
    field!("message", String, "-", "The log line."),
    field!(
        "filepath",
        String,
        "-",
        "Path of the file the line was read from."
    ),
    field!(
        "log_read_lines",
        Int,
        "count",
        "Lines read from this file since it was opened."
    ),
    field!(
        "process_id",
        String,
        "-",
        "The backend's process ID (`%p`)."
    ),
    field!(
        "db_name",
        String,
        "-",
        "The database (`%d`), with the original's prefix."
    ),
    field!(
        "application_name",
        String,
        "-",
        "The client's application name (`%a`)."
    ),
    field!("user", String, "-", "The user (`%u`)."),
    field!("remote_host", String, "-", "The client's host (`%h`)."),
    field!("session_id", String, "-", "The session ID (`%c`)."),
];

const fn metric(
    name: &'static str,
    description: &'static str,
    tags: &'static [TagSpec],
    fields: &'static [FieldSpec],
) -> MeasurementSpec {
    MeasurementSpec {
        name,
        category: Category::Metric,
        description,
        tags,
        fields,
    }
}

pub const POSTGRESQL: MeasurementSpec = metric(
    "postgresql",
    "One point per database (`pg_stat_database` with its size and wraparound margin), `template*` and `postgres` left out.",
    DB_TAGS,
    DB_FIELDS,
);
pub const LOCK: MeasurementSpec = metric(
    "postgresql_lock",
    "Locks per table, lock type and mode (`pg_locks`), for the tables `relations` names.",
    LOCK_TAGS,
    LOCK_FIELDS,
);
pub const STAT: MeasurementSpec = metric(
    "postgresql_stat",
    "Table statistics (`pg_stat_user_tables`), for the tables `relations` names.",
    TABLE_TAGS,
    STAT_FIELDS,
);
pub const INDEX: MeasurementSpec = metric(
    "postgresql_index",
    "Index statistics (`pg_stat_user_indexes`), for the tables `relations` names.",
    INDEX_TAGS,
    INDEX_FIELDS,
);
pub const SIZE: MeasurementSpec = metric(
    "postgresql_size",
    "Table sizes (ordinary tables, at most 300 per relation), for the tables `relations` names.",
    TABLE_TAGS,
    SIZE_FIELDS,
);
pub const STATIO: MeasurementSpec = metric(
    "postgresql_statio",
    "Table I/O (`pg_statio_user_tables`), for the tables `relations` names.",
    TABLE_TAGS,
    STATIO_FIELDS,
);
pub const REPLICATION: MeasurementSpec = metric(
    "postgresql_replication",
    "Replication delay, sent by a standby only (PostgreSQL 9.1 and later; not on Aurora).",
    DB_TAGS,
    REPLICATION_FIELDS,
);
pub const REPLICATION_SLOT: MeasurementSpec = metric(
    "postgresql_replication_slot",
    "Replication slots (`pg_stat_replication_slots`, PostgreSQL 14 and later).",
    SLOT_TAGS,
    SLOT_FIELDS,
);
pub const SLRU: MeasurementSpec = metric(
    "postgresql_slru",
    "SLRU caches (`pg_stat_slru`, PostgreSQL 13 and later).",
    SLRU_TAGS,
    SLRU_FIELDS,
);
pub const BGWRITER: MeasurementSpec = metric(
    "postgresql_bgwriter",
    "The background writer and checkpoints (`pg_stat_bgwriter`).",
    SERVER_TAGS,
    BGWRITER_FIELDS,
);
pub const CONNECTION: MeasurementSpec = metric(
    "postgresql_connection",
    "Connections against `max_connections`.",
    SERVER_TAGS,
    CONNECTION_FIELDS,
);
pub const CONFLICT: MeasurementSpec = metric(
    "postgresql_conflict",
    "Queries canceled by recovery conflicts, per database (`pg_stat_database_conflicts`, PostgreSQL 9.2 and later).",
    DB_TAGS,
    CONFLICT_FIELDS,
);
pub const ARCHIVER: MeasurementSpec = metric(
    "postgresql_archiver",
    "WAL archiving (`pg_stat_archiver`, PostgreSQL 9.4 and later).",
    SERVER_TAGS,
    ARCHIVER_FIELDS,
);
pub const IO: MeasurementSpec = metric(
    "postgresql_io",
    "I/O per backend type, object and context (`pg_stat_io`, PostgreSQL 16 and later).",
    IO_TAGS,
    IO_FIELDS,
);

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    POSTGRESQL,
    LOCK,
    STAT,
    INDEX,
    SIZE,
    STATIO,
    REPLICATION,
    REPLICATION_SLOT,
    SLRU,
    BGWRITER,
    CONNECTION,
    CONFLICT,
    ARCHIVER,
    IO,
    metric(
        "collector",
        "Whether the server answered (one point per collection).",
        UP_TAGS,
        UP_FIELDS,
    ),
    MeasurementSpec {
        name: "postgresql",
        category: Category::Logging,
        description: "Lines of the `[inputs.postgresql.log]` files, cut by `postgresql.p` (for the original's `log_line_prefix`, '%m [%p] %d [%a] %u [%h] %c ' with a trailing space, and the shorter '%m [%p] ').",
        tags: LOG_TAGS,
        fields: LOG_FIELDS,
    },
];
