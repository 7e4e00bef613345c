//! The `redis` input's measurements, as data: what `datakit doc redis` shows and the tests
//! check emitted points against.

use crate::inputs::host::{field, tag};
use crate::inputs::{FieldSpec, MeasurementSpec, TagSpec};
use crate::point::Category;

const COMMON_TAGS: &[TagSpec] = &[
    tag!("host", "The configured `host` of the server."),
    tag!(
        "server",
        "The server's address, `host:port` (or the unix socket path)."
    ),
];

/// Tags of the `redis` metric points: the common ones, those `INFO` gives, and those of each
/// kind of point.
const REDIS_TAGS: &[TagSpec] = &[
    tag!("host", "The configured `host` of the server."),
    tag!(
        "server",
        "The server's address, `host:port` (or the unix socket path)."
    ),
    tag!("redis_version", "Redis version (`INFO` points)."),
    tag!(
        "redis_mode",
        "`standalone`, `sentinel` or `cluster` (`INFO` points)."
    ),
    tag!(
        "role",
        "`master`, or `slave` for a replica (`INFO` points)."
    ),
    tag!("os", "Operating system of the server (`INFO` points)."),
    tag!("maxmemory_policy", "The eviction policy (`INFO` points)."),
    tag!(
        "error_type",
        "Error prefix, `ERR`, `WRONGTYPE`, ... (`errorstat` points)."
    ),
    tag!("command_type", "Command of a latency-percentile point."),
    tag!(
        "quantile",
        "Quantile of a latency-percentile point (`0.5`, `0.99`, `0.999`)."
    ),
    tag!(
        "method",
        "Command of a command-stats point (`get`, `client|list`)."
    ),
    tag!("db_name", "Database of a keyspace point (`db0`)."),
    tag!("slave_id", "Replica number, on a master's replica points."),
    tag!(
        "slave_addr",
        "Replica address, on a master's replica points."
    ),
    tag!(
        "slave_state",
        "Replica state (`online`, ...), on a master's replica points."
    ),
    tag!(
        "master_addr",
        "The master's address, on a replica's points."
    ),
];

const REDIS_FIELDS: &[FieldSpec] = &[
    field!(
        "aof_rewrites_consecutive_failures",
        Float,
        "count",
        "`INFO` Persistence: `aof_rewrites_consecutive_failures`."
    ),
    field!(
        "number_of_cached_scripts",
        Float,
        "count",
        "`INFO` Memory: `number_of_cached_scripts`."
    ),
    field!(
        "number_of_functions",
        Float,
        "count",
        "`INFO` Memory: `number_of_functions`."
    ),
    field!(
        "number_of_libraries",
        Float,
        "count",
        "`INFO` Memory: `number_of_libraries`."
    ),
    field!(
        "used_memory_functions",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_functions`."
    ),
    field!(
        "used_memory_scripts_eval",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_scripts_eval`."
    ),
    field!(
        "used_memory_vm_eval",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_vm_eval`."
    ),
    field!(
        "used_memory_vm_functions",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_vm_functions`."
    ),
    field!(
        "used_memory_vm_total",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_vm_total`."
    ),
    field!(
        "reply_buffer_expands",
        Float,
        "count",
        "`INFO` Stats: `reply_buffer_expands`."
    ),
    field!(
        "reply_buffer_shrinks",
        Float,
        "count",
        "`INFO` Stats: `reply_buffer_shrinks`."
    ),
    field!(
        "redis_git_sha1",
        Float,
        "-",
        "`INFO` Server: `redis_git_sha1`, sent because it reads as a number (0 for builds without git)."
    ),
    field!(
        "redis_git_dirty",
        Float,
        "-",
        "`INFO` Server: `redis_git_dirty`."
    ),
    field!("arch_bits", Float, "-", "`INFO` Server: `arch_bits`."),
    field!(
        "server_time_usec",
        Float,
        "timeStamp,usec",
        "`INFO` Server: `server_time_usec`."
    ),
    field!(
        "uptime_in_seconds",
        Float,
        "time,s",
        "`INFO` Server: `uptime_in_seconds`."
    ),
    field!(
        "uptime_in_days",
        Float,
        "time,d",
        "`INFO` Server: `uptime_in_days`."
    ),
    field!("hz", Float, "frequency,Hz", "`INFO` Server: `hz`."),
    field!(
        "configured_hz",
        Float,
        "frequency,Hz",
        "`INFO` Server: `configured_hz`."
    ),
    field!("lru_clock", Float, "time,ms", "`INFO` Server: `lru_clock`."),
    field!(
        "io_threads_active",
        Float,
        "bool",
        "`INFO` Server: `io_threads_active`."
    ),
    field!(
        "shutdown_in_milliseconds",
        Float,
        "time,ms",
        "`INFO` Server: `shutdown_in_milliseconds`."
    ),
    field!(
        "connected_clients",
        Float,
        "count",
        "`INFO` Clients: `connected_clients`."
    ),
    field!(
        "cluster_connections",
        Float,
        "count",
        "`INFO` Clients: `cluster_connections`."
    ),
    field!(
        "maxclients",
        Float,
        "count",
        "`INFO` Clients: `maxclients`."
    ),
    field!(
        "client_recent_max_input_buffer",
        Float,
        "digital,B",
        "`INFO` Clients: `client_recent_max_input_buffer`."
    ),
    field!(
        "client_recent_max_output_buffer",
        Float,
        "digital,B",
        "`INFO` Clients: `client_recent_max_output_buffer`."
    ),
    field!(
        "blocked_clients",
        Float,
        "count",
        "`INFO` Clients: `blocked_clients`."
    ),
    field!(
        "tracking_clients",
        Float,
        "count",
        "`INFO` Clients: `tracking_clients`."
    ),
    field!(
        "clients_in_timeout_table",
        Float,
        "count",
        "`INFO` Clients: `clients_in_timeout_table`."
    ),
    field!(
        "total_blocking_keys",
        Float,
        "count",
        "`INFO` Clients: `total_blocking_keys`."
    ),
    field!(
        "total_blocking_keys_on_nokey",
        Float,
        "count",
        "`INFO` Clients: `total_blocking_keys_on_nokey`."
    ),
    field!(
        "used_memory",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory`."
    ),
    field!(
        "used_memory_rss",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_rss`."
    ),
    field!(
        "used_memory_peak",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_peak`."
    ),
    field!(
        "used_memory_peak_perc",
        Float,
        "percent,percent",
        "`INFO` Memory: `used_memory_peak_perc`."
    ),
    field!(
        "used_memory_overhead",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_overhead`."
    ),
    field!(
        "used_memory_startup",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_startup`."
    ),
    field!(
        "used_memory_dataset",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_dataset`."
    ),
    field!(
        "used_memory_dataset_perc",
        Float,
        "percent,percent",
        "`INFO` Memory: `used_memory_dataset_perc`."
    ),
    field!(
        "total_system_memory",
        Float,
        "digital,B",
        "`INFO` Memory: `total_system_memory`."
    ),
    field!(
        "used_memory_lua",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_lua`."
    ),
    field!(
        "used_memory_scripts",
        Float,
        "digital,B",
        "`INFO` Memory: `used_memory_scripts`."
    ),
    field!(
        "maxmemory",
        Float,
        "digital,B",
        "`INFO` Memory: `maxmemory`."
    ),
    field!(
        "mem_fragmentation_ratio",
        Float,
        "percent,percent_decimal",
        "`INFO` Memory: `mem_fragmentation_ratio` (a ratio)."
    ),
    field!(
        "mem_fragmentation_bytes",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_fragmentation_bytes`."
    ),
    field!(
        "allocator_frag_ratio",
        Float,
        "percent,percent_decimal",
        "`INFO` Memory: `allocator_frag_ratio` (a ratio)."
    ),
    field!(
        "allocator_frag_bytes",
        Float,
        "digital,B",
        "`INFO` Memory: `allocator_frag_bytes`."
    ),
    field!(
        "allocator_rss_ratio",
        Float,
        "percent,percent_decimal",
        "`INFO` Memory: `allocator_rss_ratio` (a ratio)."
    ),
    field!(
        "allocator_rss_bytes",
        Float,
        "digital,B",
        "`INFO` Memory: `allocator_rss_bytes`."
    ),
    field!(
        "rss_overhead_ratio",
        Float,
        "percent,percent_decimal",
        "`INFO` Memory: `rss_overhead_ratio` (a ratio)."
    ),
    field!(
        "rss_overhead_bytes",
        Float,
        "digital,B",
        "`INFO` Memory: `rss_overhead_bytes`."
    ),
    field!(
        "allocator_allocated",
        Float,
        "digital,B",
        "`INFO` Memory: `allocator_allocated`."
    ),
    field!(
        "allocator_active",
        Float,
        "digital,B",
        "`INFO` Memory: `allocator_active`."
    ),
    field!(
        "allocator_resident",
        Float,
        "digital,B",
        "`INFO` Memory: `allocator_resident`."
    ),
    field!(
        "mem_not_counted_for_evict",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_not_counted_for_evict`."
    ),
    field!(
        "mem_clients_slaves",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_clients_slaves`."
    ),
    field!(
        "mem_clients_normal",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_clients_normal`."
    ),
    field!(
        "mem_cluster_links",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_cluster_links`."
    ),
    field!(
        "mem_aof_buffer",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_aof_buffer`."
    ),
    field!(
        "mem_replication_backlog",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_replication_backlog`."
    ),
    field!(
        "mem_total_replication_buffers",
        Float,
        "digital,B",
        "`INFO` Memory: `mem_total_replication_buffers`."
    ),
    field!(
        "active_defrag_running",
        Float,
        "bool",
        "`INFO` Memory: `active_defrag_running`."
    ),
    field!(
        "lazyfree_pending_objects",
        Float,
        "count",
        "`INFO` Memory: `lazyfree_pending_objects`."
    ),
    field!(
        "lazyfreed_objects",
        Float,
        "count",
        "`INFO` Memory: `lazyfreed_objects`."
    ),
    field!("loading", Float, "bool", "`INFO` Persistence: `loading`."),
    field!(
        "async_loading",
        Float,
        "bool",
        "`INFO` Persistence: `async_loading`."
    ),
    field!(
        "current_cow_peak",
        Float,
        "digital,B",
        "`INFO` Persistence: `current_cow_peak`."
    ),
    field!(
        "current_cow_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `current_cow_size`."
    ),
    field!(
        "current_cow_size_age",
        Float,
        "time,s",
        "`INFO` Persistence: `current_cow_size_age`."
    ),
    field!(
        "current_fork_perc",
        Float,
        "percent,percent",
        "`INFO` Persistence: `current_fork_perc`."
    ),
    field!(
        "current_save_keys_processed",
        Float,
        "count",
        "`INFO` Persistence: `current_save_keys_processed`."
    ),
    field!(
        "current_save_keys_total",
        Float,
        "count",
        "`INFO` Persistence: `current_save_keys_total`."
    ),
    field!(
        "rdb_changes_since_last_save",
        Float,
        "count",
        "`INFO` Persistence: `rdb_changes_since_last_save`."
    ),
    field!(
        "rdb_bgsave_in_progress",
        Float,
        "bool",
        "`INFO` Persistence: `rdb_bgsave_in_progress`."
    ),
    field!(
        "rdb_last_bgsave_status",
        Int,
        "-",
        "Last RDB save: 0 ok, -1 failed."
    ),
    field!(
        "rdb_last_save_time",
        Float,
        "timeStamp,second",
        "`INFO` Persistence: `rdb_last_save_time`."
    ),
    field!(
        "rdb_last_bgsave_time_sec",
        Float,
        "time,s",
        "`INFO` Persistence: `rdb_last_bgsave_time_sec`."
    ),
    field!(
        "rdb_current_bgsave_time_sec",
        Float,
        "time,s",
        "`INFO` Persistence: `rdb_current_bgsave_time_sec`."
    ),
    field!(
        "rdb_last_cow_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `rdb_last_cow_size`."
    ),
    field!(
        "rdb_last_load_keys_expired",
        Float,
        "count",
        "`INFO` Persistence: `rdb_last_load_keys_expired`."
    ),
    field!(
        "rdb_last_load_keys_loaded",
        Float,
        "count",
        "`INFO` Persistence: `rdb_last_load_keys_loaded`."
    ),
    field!(
        "aof_enabled",
        Float,
        "bool",
        "`INFO` Persistence: `aof_enabled`."
    ),
    field!(
        "aof_rewrite_in_progress",
        Float,
        "bool",
        "`INFO` Persistence: `aof_rewrite_in_progress`."
    ),
    field!(
        "aof_rewrite_scheduled",
        Float,
        "bool",
        "`INFO` Persistence: `aof_rewrite_scheduled`."
    ),
    field!(
        "aof_last_rewrite_time_sec",
        Float,
        "time,s",
        "`INFO` Persistence: `aof_last_rewrite_time_sec`."
    ),
    field!(
        "aof_current_rewrite_time_sec",
        Float,
        "time,s",
        "`INFO` Persistence: `aof_current_rewrite_time_sec`."
    ),
    field!(
        "aof_last_bgrewrite_status",
        Int,
        "-",
        "Last AOF rewrite: 0 ok, -1 failed."
    ),
    field!(
        "aof_last_write_status",
        Int,
        "-",
        "Last AOF write: 0 ok, -1 failed."
    ),
    field!(
        "aof_last_cow_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `aof_last_cow_size`."
    ),
    field!(
        "module_fork_in_progress",
        Float,
        "bool",
        "`INFO` Persistence: `module_fork_in_progress`."
    ),
    field!(
        "module_fork_last_cow_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `module_fork_last_cow_size`."
    ),
    field!(
        "aof_rewrites",
        Float,
        "count",
        "`INFO` Persistence: `aof_rewrites`."
    ),
    field!(
        "rdb_saves",
        Float,
        "count",
        "`INFO` Persistence: `rdb_saves`."
    ),
    field!(
        "aof_current_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `aof_current_size`."
    ),
    field!(
        "aof_base_size",
        Float,
        "digital,B",
        "`INFO` Persistence: `aof_base_size`."
    ),
    field!(
        "aof_pending_rewrite",
        Float,
        "bool",
        "`INFO` Persistence: `aof_pending_rewrite`."
    ),
    field!(
        "aof_buffer_length",
        Float,
        "digital,B",
        "`INFO` Persistence: `aof_buffer_length`."
    ),
    field!(
        "aof_rewrite_buffer_length",
        Float,
        "digital,B",
        "`INFO` Persistence: `aof_rewrite_buffer_length`."
    ),
    field!(
        "aof_pending_bio_fsync",
        Float,
        "count",
        "`INFO` Persistence: `aof_pending_bio_fsync`."
    ),
    field!(
        "aof_delayed_fsync",
        Float,
        "count",
        "`INFO` Persistence: `aof_delayed_fsync`."
    ),
    field!(
        "loading_start_time",
        Float,
        "timeStamp,second",
        "`INFO` Persistence: `loading_start_time`."
    ),
    field!(
        "loading_total_bytes",
        Float,
        "digital,B",
        "`INFO` Persistence: `loading_total_bytes`."
    ),
    field!(
        "loading_rdb_used_mem",
        Float,
        "digital,B",
        "`INFO` Persistence: `loading_rdb_used_mem`."
    ),
    field!(
        "loading_loaded_bytes",
        Float,
        "digital,B",
        "`INFO` Persistence: `loading_loaded_bytes`."
    ),
    field!(
        "loading_loaded_perc",
        Float,
        "percent,percent",
        "`INFO` Persistence: `loading_loaded_perc`."
    ),
    field!(
        "loading_eta_seconds",
        Float,
        "time,s",
        "`INFO` Persistence: `loading_eta_seconds`."
    ),
    field!(
        "total_connections_received",
        Float,
        "count",
        "`INFO` Stats: `total_connections_received`."
    ),
    field!(
        "total_commands_processed",
        Float,
        "count",
        "`INFO` Stats: `total_commands_processed`."
    ),
    field!(
        "instantaneous_ops_per_sec",
        Float,
        "count",
        "`INFO` Stats: `instantaneous_ops_per_sec`."
    ),
    field!(
        "total_net_input_bytes",
        Float,
        "digital,B",
        "`INFO` Stats: `total_net_input_bytes`."
    ),
    field!(
        "total_net_output_bytes",
        Float,
        "digital,B",
        "`INFO` Stats: `total_net_output_bytes`."
    ),
    field!(
        "total_net_repl_input_bytes",
        Float,
        "digital,B",
        "`INFO` Stats: `total_net_repl_input_bytes`."
    ),
    field!(
        "total_net_repl_output_bytes",
        Float,
        "digital,B",
        "`INFO` Stats: `total_net_repl_output_bytes`."
    ),
    field!(
        "instantaneous_input_kbps",
        Float,
        "traffic,B/S",
        "`INFO` Stats: `instantaneous_input_kbps`."
    ),
    field!(
        "instantaneous_output_kbps",
        Float,
        "traffic,B/S",
        "`INFO` Stats: `instantaneous_output_kbps`."
    ),
    field!(
        "instantaneous_input_repl_kbps",
        Float,
        "traffic,B/S",
        "`INFO` Stats: `instantaneous_input_repl_kbps`."
    ),
    field!(
        "instantaneous_output_repl_kbps",
        Float,
        "traffic,B/S",
        "`INFO` Stats: `instantaneous_output_repl_kbps`."
    ),
    field!(
        "rejected_connections",
        Float,
        "count",
        "`INFO` Stats: `rejected_connections`."
    ),
    field!("sync_full", Float, "count", "`INFO` Stats: `sync_full`."),
    field!(
        "sync_partial_ok",
        Float,
        "count",
        "`INFO` Stats: `sync_partial_ok`."
    ),
    field!(
        "sync_partial_err",
        Float,
        "count",
        "`INFO` Stats: `sync_partial_err`."
    ),
    field!(
        "expired_keys",
        Float,
        "count",
        "`INFO` Stats: `expired_keys`."
    ),
    field!(
        "expired_stale_perc",
        Float,
        "percent,percent",
        "`INFO` Stats: `expired_stale_perc`."
    ),
    field!(
        "expired_time_cap_reached_count",
        Float,
        "count",
        "`INFO` Stats: `expired_time_cap_reached_count`."
    ),
    field!(
        "expire_cycle_cpu_milliseconds",
        Float,
        "time,ms",
        "`INFO` Stats: `expire_cycle_cpu_milliseconds`."
    ),
    field!(
        "evicted_keys",
        Float,
        "count",
        "`INFO` Stats: `evicted_keys`."
    ),
    field!(
        "evicted_clients",
        Float,
        "count",
        "`INFO` Stats: `evicted_clients`."
    ),
    field!(
        "total_eviction_exceeded_time",
        Float,
        "time,ms",
        "`INFO` Stats: `total_eviction_exceeded_time`."
    ),
    field!(
        "current_eviction_exceeded_time",
        Float,
        "time,ms",
        "`INFO` Stats: `current_eviction_exceeded_time`."
    ),
    field!(
        "keyspace_hits",
        Float,
        "count",
        "`INFO` Stats: `keyspace_hits`."
    ),
    field!(
        "keyspace_misses",
        Float,
        "count",
        "`INFO` Stats: `keyspace_misses`."
    ),
    field!(
        "pubsub_channels",
        Float,
        "count",
        "`INFO` Stats: `pubsub_channels`."
    ),
    field!(
        "pubsub_patterns",
        Float,
        "count",
        "`INFO` Stats: `pubsub_patterns`."
    ),
    field!(
        "pubsubshard_channels",
        Float,
        "count",
        "`INFO` Stats: `pubsubshard_channels`."
    ),
    field!(
        "latest_fork_usec",
        Float,
        "time,μs",
        "`INFO` Stats: `latest_fork_usec`."
    ),
    field!(
        "total_forks",
        Float,
        "count",
        "`INFO` Stats: `total_forks`."
    ),
    field!(
        "migrate_cached_sockets",
        Float,
        "count",
        "`INFO` Stats: `migrate_cached_sockets`."
    ),
    field!(
        "slave_expires_tracked_keys",
        Float,
        "count",
        "`INFO` Stats: `slave_expires_tracked_keys`."
    ),
    field!(
        "active_defrag_hits",
        Float,
        "count",
        "`INFO` Stats: `active_defrag_hits`."
    ),
    field!(
        "active_defrag_misses",
        Float,
        "count",
        "`INFO` Stats: `active_defrag_misses`."
    ),
    field!(
        "active_defrag_key_hits",
        Float,
        "count",
        "`INFO` Stats: `active_defrag_key_hits`."
    ),
    field!(
        "active_defrag_key_misses",
        Float,
        "count",
        "`INFO` Stats: `active_defrag_key_misses`."
    ),
    field!(
        "total_active_defrag_time",
        Float,
        "time,ms",
        "`INFO` Stats: `total_active_defrag_time`."
    ),
    field!(
        "current_active_defrag_time",
        Float,
        "time,ms",
        "`INFO` Stats: `current_active_defrag_time`."
    ),
    field!(
        "tracking_total_keys",
        Float,
        "count",
        "`INFO` Stats: `tracking_total_keys`."
    ),
    field!(
        "tracking_total_items",
        Float,
        "count",
        "`INFO` Stats: `tracking_total_items`."
    ),
    field!(
        "tracking_total_prefixes",
        Float,
        "count",
        "`INFO` Stats: `tracking_total_prefixes`."
    ),
    field!(
        "unexpected_error_replies",
        Float,
        "count",
        "`INFO` Stats: `unexpected_error_replies`."
    ),
    field!(
        "total_error_replies",
        Float,
        "count",
        "`INFO` Stats: `total_error_replies`."
    ),
    field!(
        "dump_payload_sanitizations",
        Float,
        "count",
        "`INFO` Stats: `dump_payload_sanitizations`."
    ),
    field!(
        "total_reads_processed",
        Float,
        "count",
        "`INFO` Stats: `total_reads_processed`."
    ),
    field!(
        "total_writes_processed",
        Float,
        "count",
        "`INFO` Stats: `total_writes_processed`."
    ),
    field!(
        "io_threaded_reads_processed",
        Float,
        "count",
        "`INFO` Stats: `io_threaded_reads_processed`."
    ),
    field!(
        "io_threaded_writes_processed",
        Float,
        "count",
        "`INFO` Stats: `io_threaded_writes_processed`."
    ),
    field!(
        "stat_reply_buffer_shrinks",
        Float,
        "count",
        "`INFO` Stats: `stat_reply_buffer_shrinks`."
    ),
    field!(
        "stat_reply_buffer_expands",
        Float,
        "count",
        "`INFO` Stats: `stat_reply_buffer_expands`."
    ),
    field!(
        "eventloop_cycles",
        Float,
        "count",
        "`INFO` Stats: `eventloop_cycles`."
    ),
    field!(
        "eventloop_duration_sum",
        Float,
        "time,μs",
        "`INFO` Stats: `eventloop_duration_sum`."
    ),
    field!(
        "eventloop_duration_cmd_sum",
        Float,
        "time,μs",
        "`INFO` Stats: `eventloop_duration_cmd_sum`."
    ),
    field!(
        "instantaneous_eventloop_cycles_per_sec",
        Float,
        "count",
        "`INFO` Stats: `instantaneous_eventloop_cycles_per_sec`."
    ),
    field!(
        "instantaneous_eventloop_duration_usec",
        Float,
        "time,μs",
        "`INFO` Stats: `instantaneous_eventloop_duration_usec`."
    ),
    field!(
        "acl_access_denied_auth",
        Float,
        "count",
        "`INFO` Stats: `acl_access_denied_auth`."
    ),
    field!(
        "acl_access_denied_cmd",
        Float,
        "count",
        "`INFO` Stats: `acl_access_denied_cmd`."
    ),
    field!(
        "acl_access_denied_key",
        Float,
        "count",
        "`INFO` Stats: `acl_access_denied_key`."
    ),
    field!(
        "acl_access_denied_channel",
        Float,
        "count",
        "`INFO` Stats: `acl_access_denied_channel`."
    ),
    field!(
        "master_repl_offset",
        Float,
        "count",
        "`INFO` Replication: `master_repl_offset`."
    ),
    field!(
        "second_repl_offset",
        Float,
        "count",
        "`INFO` Replication: `second_repl_offset`."
    ),
    field!(
        "repl_backlog_active",
        Float,
        "bool",
        "`INFO` Replication: `repl_backlog_active`."
    ),
    field!(
        "repl_backlog_size",
        Float,
        "digital,B",
        "`INFO` Replication: `repl_backlog_size`."
    ),
    field!(
        "repl_backlog_first_byte_offset",
        Float,
        "count",
        "`INFO` Replication: `repl_backlog_first_byte_offset`."
    ),
    field!(
        "repl_backlog_histlen",
        Float,
        "digital,B",
        "`INFO` Replication: `repl_backlog_histlen`."
    ),
    field!(
        "master_last_io_seconds_ago",
        Float,
        "time,s",
        "`INFO` Replication: `master_last_io_seconds_ago`."
    ),
    field!(
        "master_sync_in_progress",
        Float,
        "bool",
        "`INFO` Replication: `master_sync_in_progress`."
    ),
    field!(
        "slave_read_repl_offset",
        Float,
        "count",
        "`INFO` Replication: `slave_read_repl_offset`."
    ),
    field!(
        "slave_repl_offset",
        Float,
        "count",
        "`INFO` Replication: `slave_repl_offset`."
    ),
    field!(
        "slave_priority",
        Float,
        "count",
        "`INFO` Replication: `slave_priority`."
    ),
    field!(
        "slave_read_only",
        Float,
        "count",
        "`INFO` Replication: `slave_read_only`."
    ),
    field!(
        "replica_announced",
        Float,
        "count",
        "`INFO` Replication: `replica_announced`."
    ),
    field!(
        "master_sync_total_bytes",
        Float,
        "digital,B",
        "`INFO` Replication: `master_sync_total_bytes`."
    ),
    field!(
        "master_sync_read_bytes",
        Float,
        "digital,B",
        "`INFO` Replication: `master_sync_read_bytes`."
    ),
    field!(
        "master_sync_left_bytes",
        Float,
        "digital,B",
        "`INFO` Replication: `master_sync_left_bytes`."
    ),
    field!(
        "master_sync_perc",
        Float,
        "percent,percent",
        "`INFO` Replication: `master_sync_perc`."
    ),
    field!(
        "master_sync_last_io_seconds_ago",
        Float,
        "time,s",
        "`INFO` Replication: `master_sync_last_io_seconds_ago`."
    ),
    field!(
        "master_link_down_since_seconds",
        Float,
        "time,s",
        "`INFO` Replication: `master_link_down_since_seconds`."
    ),
    field!(
        "connected_slaves",
        Float,
        "count",
        "`INFO` Replication: `connected_slaves`."
    ),
    field!(
        "min_slaves_good_slaves",
        Float,
        "count",
        "`INFO` Replication: `min_slaves_good_slaves`."
    ),
    field!(
        "used_cpu_sys",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_sys`."
    ),
    field!(
        "used_cpu_user",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_user`."
    ),
    field!(
        "used_cpu_sys_children",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_sys_children`."
    ),
    field!(
        "used_cpu_user_children",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_user_children`."
    ),
    field!(
        "used_cpu_sys_main_thread",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_sys_main_thread`."
    ),
    field!(
        "used_cpu_user_main_thread",
        Float,
        "time,s",
        "`INFO` CPU: `used_cpu_user_main_thread`."
    ),
    field!(
        "errorstat",
        Int,
        "count",
        "Errors of this `error_type` since start (`INFO` Errorstats; a point of its own, tagged `error_type`)."
    ),
    field!(
        "latency_percentiles_usec",
        Float,
        "time,μs",
        "Latency of `command_type` at `quantile` (`INFO` Latencystats; a point of its own; only with `latency_percentiles`)."
    ),
    field!(
        "cluster_enabled",
        Float,
        "bool",
        "`INFO` Cluster: `cluster_enabled`."
    ),
    field!(
        "info_latency_ms",
        Int,
        "time,ms",
        "How long `INFO ALL` took to answer."
    ),
    field!(
        "used_cpu_sys_percent",
        Float,
        "percent,percent",
        "System CPU over the last interval, from the change of `used_cpu_sys` (from the second collection on)."
    ),
    field!(
        "used_cpu_user_percent",
        Float,
        "percent,percent",
        "User CPU over the last interval, from the change of `used_cpu_user` (from the second collection on)."
    ),
    field!(
        "client_biggest_input_buf",
        Float,
        "digital,B",
        "`INFO` Clients (Redis before 5): `client_biggest_input_buf`."
    ),
    field!(
        "client_longest_output_list",
        Float,
        "count",
        "`INFO` Clients (Redis before 5): `client_longest_output_list`."
    ),
    field!(
        "max_idle",
        Int,
        "time,s",
        "Longest idle time among the clients (`CLIENT LIST`)."
    ),
    field!(
        "max_multi",
        Int,
        "count",
        "Most commands queued in one client's MULTI (`CLIENT LIST`)."
    ),
    field!(
        "max_obl",
        Int,
        "digital,B",
        "Largest output buffer among the clients (`CLIENT LIST`)."
    ),
    field!(
        "max_qbuf",
        Int,
        "digital,B",
        "Largest query buffer among the clients (`CLIENT LIST`)."
    ),
    field!(
        "max_totmem",
        Int,
        "digital,B",
        "Most memory used by one client (`CLIENT LIST`)."
    ),
    field!(
        "multi_avg",
        Float,
        "count",
        "Commands queued in MULTI per client (`CLIENT LIST`)."
    ),
    field!(
        "multi_total",
        Float,
        "count",
        "Commands queued in MULTI, all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_cmds",
        Float,
        "count",
        "Commands run by the connected clients (`CLIENT LIST` tot-cmds)."
    ),
    field!(
        "total_netin",
        Float,
        "digital,B",
        "Bytes read from the connected clients (`CLIENT LIST` tot-net-in)."
    ),
    field!(
        "total_netout",
        Float,
        "digital,B",
        "Bytes sent to the connected clients (`CLIENT LIST` tot-net-out)."
    ),
    field!(
        "total_obl",
        Float,
        "digital,B",
        "Output buffers of all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_psub",
        Float,
        "count",
        "Pattern subscriptions of all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_ssub",
        Float,
        "count",
        "Shard channel subscriptions of all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_qbuf",
        Float,
        "digital,B",
        "Query buffers of all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_sub",
        Float,
        "count",
        "Channel subscriptions of all clients (`CLIENT LIST`)."
    ),
    field!(
        "total_totmem",
        Float,
        "digital,B",
        "Memory used by all clients (`CLIENT LIST`)."
    ),
    field!(
        "calls",
        Float,
        "count",
        "Calls of `method` that ran (`INFO` Commandstats)."
    ),
    field!(
        "usec",
        Float,
        "time,μs",
        "CPU time spent in `method` (`INFO` Commandstats)."
    ),
    field!(
        "usec_per_call",
        Float,
        "time,μs",
        "CPU time per call of `method` (`INFO` Commandstats)."
    ),
    field!(
        "rejected_calls",
        Float,
        "count",
        "Calls of `method` refused before running (`INFO` Commandstats)."
    ),
    field!(
        "failed_calls",
        Float,
        "count",
        "Calls of `method` that failed while running (`INFO` Commandstats)."
    ),
    field!(
        "master_link_status",
        Int,
        "-",
        "A replica's link to its master: 1 up, 0 down."
    ),
    field!(
        "slave_offset",
        Float,
        "count",
        "Replication offset of replica `slave_id` (on a master)."
    ),
    field!(
        "slave_lag",
        Float,
        "time,s",
        "Lag of replica `slave_id` (on a master)."
    ),
    field!(
        "keys",
        Float,
        "count",
        "Keys in `db_name` (`INFO` Keyspace)."
    ),
    field!(
        "expires",
        Float,
        "count",
        "Keys with an expiry in `db_name` (`INFO` Keyspace)."
    ),
    field!(
        "avg_ttl",
        Float,
        "time,ms",
        "Average time to live of the keys with an expiry in `db_name` (`INFO` Keyspace)."
    ),
    field!(
        "subexpiry",
        Float,
        "count",
        "Hash fields with an expiry in `db_name` (`INFO` Keyspace, Redis 7.4 and later)."
    ),
    field!(
        "flag_closing_asap",
        Int,
        "count",
        "Clients with flag `A` (closing as soon as possible)."
    ),
    field!(
        "flag_tracking_broadcast_mode",
        Int,
        "count",
        "Clients with flag `B` (tracking in broadcast mode)."
    ),
    field!(
        "flag_master_connection",
        Int,
        "count",
        "Clients with flag `M` (the master)."
    ),
    field!(
        "flag_normal",
        Int,
        "count",
        "Clients with flag `N` (no specific flag)."
    ),
    field!(
        "flag_monitor_mode",
        Int,
        "count",
        "Clients with flag `O` (in MONITOR)."
    ),
    field!(
        "flag_pubsub_subscriber",
        Int,
        "count",
        "Clients with flag `P` (Pub/Sub subscribers)."
    ),
    field!(
        "flag_tracking_redir_invalid",
        Int,
        "count",
        "Clients with flag `R` (tracking redirect invalid)."
    ),
    field!(
        "flag_replica_connection",
        Int,
        "count",
        "Clients with flag `S` (replicas)."
    ),
    field!(
        "flag_tracking_no_touch",
        Int,
        "count",
        "Clients with flag `T` (no-touch mode)."
    ),
    field!(
        "flag_unix_socket",
        Int,
        "count",
        "Clients with flag `U` (over a unix socket)."
    ),
    field!(
        "flag_blocked_on_command",
        Int,
        "count",
        "Clients with flag `b` (blocked in a command)."
    ),
    field!(
        "flag_closing_after_reply",
        Int,
        "count",
        "Clients with flag `c` (closing after the reply)."
    ),
    field!(
        "flag_transaction_dirty",
        Int,
        "count",
        "Clients with flag `d` (watched keys changed: EXEC will fail)."
    ),
    field!(
        "flag_eviction_exempt",
        Int,
        "count",
        "Clients with flag `e` (exempt from client eviction)."
    ),
    field!(
        "flag_vm_io_wait",
        Int,
        "count",
        "Clients with flag `i` (waiting for VM I/O, old versions)."
    ),
    field!(
        "flag_cluster_readonly",
        Int,
        "count",
        "Clients with flag `r` (read-only cluster replica mode)."
    ),
    field!(
        "flag_client_side_caching",
        Int,
        "count",
        "Clients with flag `t` (client-side caching)."
    ),
    field!(
        "flag_unblocked",
        Int,
        "count",
        "Clients with flag `u` (unblocked)."
    ),
    field!(
        "flag_in_transaction",
        Int,
        "count",
        "Clients with flag `x` (in MULTI)."
    ),
];

const UP_TAGS: &[TagSpec] = &[
    tag!("job", "Always `redis`."),
    tag!(
        "instance",
        "The server's address, `host:port` (or the unix socket path)."
    ),
];

const UP_FIELDS: &[FieldSpec] = &[field!(
    "up",
    Int,
    "-",
    "1 when the server answered `INFO` in the last collection, 0 otherwise."
)];

const CONFIG_TAGS: &[TagSpec] = &[
    tag!("host", "The configured `host` of the server."),
    tag!(
        "server",
        "The server's address, `host:port` (or the unix socket path)."
    ),
    tag!(
        "class",
        "Client class and limit of a `client-output-buffer-limit` point (`normal.hard`, `replica.soft`, `pubsub.soft`)."
    ),
];

/// Every `CONFIG GET *` key is a field of its own; these are the ones the input sets itself.
const CONFIG_FIELDS: &[FieldSpec] = &[
    field!(
        "status",
        String,
        "-",
        "`info`, which the agent gives every logging point without a status."
    ),
    field!(
        "client_output_buffer_limit_bytes",
        Float,
        "digital,B",
        "Output buffer limit of `class` (a point of its own)."
    ),
    field!(
        "client_output_buffer_limit_overcome_seconds",
        Float,
        "time,s",
        "How long the soft limit of `class` may be exceeded (a point of its own)."
    ),
    field!(
        "requirepass",
        String,
        "-",
        "`******` when a password is set, `not-set` otherwise (likewise `masterauth`, `tls_key_file_pass`, `tls_client_key_file_pass`)."
    ),
    field!(
        "maxmemory",
        Int,
        "digital,B",
        "An example of the other keys: numbers as integers, `yes` as 1, `no` as -1, empty as `not-set`, other values as text."
    ),
];

const CLIENT_FIELDS: &[FieldSpec] = &[
    field!("addr", String, "-", "Client address."),
    field!(
        "laddr",
        String,
        "-",
        "Server address the client connected to."
    ),
    field!("flags", String, "-", "Client flags."),
    field!("db", String, "-", "Current database (`db0`)."),
    field!("events", String, "-", "File descriptor events."),
    field!("cmd", String, "-", "Last command."),
    field!("user", String, "-", "ACL user."),
    field!("name", String, "-", "Name set with CLIENT SETNAME."),
    field!("fd", Int, "-", "File descriptor."),
    field!("id", Int, "-", "Client id."),
    field!("age", Int, "time,s", "Connection age."),
    field!("idle", Int, "time,s", "Idle time."),
    field!("sub", Int, "count", "Channel subscriptions."),
    field!("psub", Int, "count", "Pattern subscriptions."),
    field!("ssub", Int, "count", "Shard channel subscriptions."),
    field!(
        "multi",
        Int,
        "count",
        "Commands queued in MULTI (-1 outside one)."
    ),
    field!("watch", Int, "count", "Watched keys."),
    field!("qbuf", Int, "digital,B", "Query buffer length."),
    field!("qbuf-free", Int, "digital,B", "Free query buffer."),
    field!(
        "argv-mem",
        Int,
        "digital,B",
        "Memory of the next command's arguments."
    ),
    field!(
        "multi-mem",
        Int,
        "digital,B",
        "Memory of queued MULTI commands."
    ),
    field!("obl", Int, "digital,B", "Output buffer length."),
    field!("oll", Int, "count", "Output list length."),
    field!("omem", Int, "digital,B", "Output buffer memory."),
    field!(
        "tot-mem",
        Int,
        "digital,B",
        "Total memory of the client's buffers."
    ),
    field!("redir", Int, "-", "Client id of the tracking redirection."),
    field!("resp", Int, "-", "RESP protocol version."),
    field!("rbp", Int, "digital,B", "Peak read buffer size."),
    field!("rbs", Int, "digital,B", "Read buffer size."),
    field!("io-thread", Int, "-", "I/O thread of the client."),
    field!("tot-netin", Int, "digital,B", "Bytes read from the client."),
    field!("tot-netout", Int, "digital,B", "Bytes sent to the client."),
    field!("tot-cmds", Int, "count", "Commands the client ran."),
    field!(
        "status",
        String,
        "-",
        "Log level from the flags: `critical` (b), `warn` (O, R, x), `info`, `ok`, `debug`."
    ),
    field!("message", String, "-", "The client's line of CLIENT LIST."),
];

const SLOWLOG_FIELDS: &[FieldSpec] = &[
    field!("slowlog_id", Int, "-", "Slow-log entry id."),
    field!(
        "slowlog_micros",
        Int,
        "time,μs",
        "How long the command ran."
    ),
    field!("command", String, "-", "The command and its arguments."),
    field!("message", String, "-", "`<command> cost time <n>us`."),
    field!("status", String, "-", "Always `WARNING`."),
    field!(
        "slowlog_avg",
        Float,
        "time,μs",
        "Mean duration of the entries read so far in this reply."
    ),
    field!(
        "slowlog_max",
        Int,
        "time,μs",
        "Longest of the entries read so far in this reply."
    ),
    field!(
        "slowlog_median",
        Int,
        "time,μs",
        "Median of the entries read so far in this reply."
    ),
    field!(
        "slowlog_95percentile",
        Float,
        "time,μs",
        "95th percentile of the entries read so far in this reply."
    ),
    field!(
        "client_addr",
        String,
        "-",
        "Address of the client that ran it (Redis 4 and later)."
    ),
    field!(
        "client_name",
        String,
        "-",
        "Name of the client that ran it (Redis 4 and later)."
    ),
];

const LATENCY_FIELDS: &[FieldSpec] = &[
    field!(
        "status",
        String,
        "-",
        "`info`, which the agent gives every logging point without a status."
    ),
    field!(
        "event_name",
        String,
        "-",
        "Latency event (`command`, `fast-command`, `fork`, ...)."
    ),
    field!(
        "occur_time",
        Int,
        "timeStamp,second",
        "When its latest spike happened (also the point's time)."
    ),
    field!("cost_time", Int, "time,ms", "Latency of the latest spike."),
    field!(
        "max_cost_time",
        Int,
        "time,ms",
        "Highest latency seen for the event."
    ),
    field!(
        "message",
        String,
        "-",
        "`<event> cost time <n>ms,max_cost_time <m>ms`."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "redis",
        category: Category::Metric,
        description: "Every metric point (with `measurement_version = \"v1\"`: `redis_info` for the `INFO` point with its `errorstat` and latency-percentile points, `redis_db`, `redis_command_stat`, `redis_replica`, `redis_clients_stat`). The `INFO` point carries every numeric `INFO` line as a float (`ok`/`err` statuses as 0/-1, `*_kbps` in bytes per second, `maxmemory` 0 as the host's memory); the fields listed are those of Redis 7.",
        tags: REDIS_TAGS,
        fields: REDIS_FIELDS,
    },
    MeasurementSpec {
        name: "collector",
        category: Category::Metric,
        description: "Whether the server answered (one point per collection).",
        tags: UP_TAGS,
        fields: UP_FIELDS,
    },
    MeasurementSpec {
        name: "redis_config",
        category: Category::Logging,
        description: "`CONFIG GET *` every `config_collect_interval`: one point with every key (`-` written `_`), and one per limit of `client-output-buffer-limit`.",
        tags: CONFIG_TAGS,
        fields: CONFIG_FIELDS,
    },
    MeasurementSpec {
        name: "redis_client",
        category: Category::Logging,
        description: "A client of `CLIENT LIST` with one of the flags in `collect_client_list.log_on_flags`.",
        tags: COMMON_TAGS,
        fields: CLIENT_FIELDS,
    },
    MeasurementSpec {
        name: "redis_slowlog",
        category: Category::Logging,
        description: "Slow-log entries (`SLOWLOG GET`), each sent once, from those after the agent started (all with `all_slow_log`).",
        tags: COMMON_TAGS,
        fields: SLOWLOG_FIELDS,
    },
    MeasurementSpec {
        name: "redis_latency",
        category: Category::Logging,
        description: "Latency events (`LATENCY LATEST`; needs `latency-monitor-threshold` set on the server), each spike sent once, at its time.",
        tags: COMMON_TAGS,
        fields: LATENCY_FIELDS,
    },
];
