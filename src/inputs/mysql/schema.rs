//! The `mysql` input's measurements, as data: what `datakit doc mysql` shows and the tests
//! check emitted points against. Names, types and units are the original's.

use crate::inputs::host::{field, tag};
use crate::inputs::{FieldSpec, MeasurementSpec, TagSpec};
use crate::point::Category;

const MYSQL_FIELDS: &[FieldSpec] = &[
    field!(
        "parser_max_mem_size",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `parser_max_mem_size`."
    ),
    field!(
        "myisam_mmap_size",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `myisam_mmap_size`."
    ),
    field!(
        "global_connection_memory_limit",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `global_connection_memory_limit`."
    ),
    field!(
        "max_seeks_for_key",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `max_seeks_for_key`."
    ),
    field!(
        "max_join_size",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `max_join_size`."
    ),
    field!(
        "connection_memory_limit",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `connection_memory_limit`."
    ),
    field!(
        "Ssl_ctx_verify_depth",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Ssl_ctx_verify_depth`."
    ),
    field!(
        "Mysqlx_ssl_ctx_verify_depth",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Mysqlx_ssl_ctx_verify_depth`."
    ),
    field!(
        "max_write_lock_count",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `max_write_lock_count`."
    ),
    field!(
        "sql_select_limit",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `sql_select_limit`."
    ),
    field!(
        "Slow_queries",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Slow_queries`."
    ),
    field!(
        "Questions",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Questions`."
    ),
    field!("Queries", Int, "count", "`SHOW GLOBAL STATUS`: `Queries`."),
    field!(
        "Com_select",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_select`."
    ),
    field!(
        "Com_insert",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_insert`."
    ),
    field!(
        "Com_update",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_update`."
    ),
    field!(
        "Com_delete",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_delete`."
    ),
    field!(
        "Com_replace",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_replace`."
    ),
    field!(
        "Com_load",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_load`."
    ),
    field!(
        "Com_commit",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_commit`."
    ),
    field!(
        "Com_rollback",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_rollback`."
    ),
    field!(
        "Com_insert_select",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_insert_select`."
    ),
    field!(
        "Com_update_multi",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_update_multi`."
    ),
    field!(
        "Com_delete_multi",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_delete_multi`."
    ),
    field!(
        "Com_replace_select",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Com_replace_select`."
    ),
    field!(
        "Connections",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Connections`."
    ),
    field!(
        "Max_used_connections",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Max_used_connections`."
    ),
    field!(
        "Aborted_clients",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Aborted_clients`."
    ),
    field!(
        "Aborted_connects",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Aborted_connects`."
    ),
    field!(
        "Open_files",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Open_files`."
    ),
    field!(
        "Open_tables",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Open_tables`."
    ),
    field!(
        "Bytes_sent",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Bytes_sent`."
    ),
    field!(
        "Bytes_received",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Bytes_received`."
    ),
    field!(
        "Qcache_hits",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_hits`."
    ),
    field!(
        "Qcache_inserts",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_inserts`."
    ),
    field!(
        "Qcache_lowmem_prunes",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_lowmem_prunes`."
    ),
    field!(
        "Table_locks_waited",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Table_locks_waited`."
    ),
    field!(
        "Created_tmp_tables",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Created_tmp_tables`."
    ),
    field!(
        "Created_tmp_disk_tables",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Created_tmp_disk_tables`."
    ),
    field!(
        "Created_tmp_files",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Created_tmp_files`."
    ),
    field!(
        "Threads_connected",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Threads_connected`."
    ),
    field!(
        "Threads_running",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Threads_running`."
    ),
    field!(
        "Key_buffer_bytes_unflushed",
        Int,
        "digital,B",
        "Key cache bytes not yet flushed to disk: `Key_blocks_not_flushed` × `key_cache_block_size`."
    ),
    field!(
        "Key_buffer_bytes_used",
        Int,
        "digital,B",
        "Key cache bytes in use: `Key_blocks_used` × `key_cache_block_size`."
    ),
    field!(
        "Key_read_requests",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Key_read_requests`."
    ),
    field!(
        "Key_reads",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Key_reads`."
    ),
    field!(
        "Key_write_requests",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Key_write_requests`."
    ),
    field!(
        "Key_writes",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Key_writes`."
    ),
    field!(
        "Key_buffer_size",
        Int,
        "digital,B",
        "The variable `key_buffer_size`, under this name when the key cache counters are there."
    ),
    field!(
        "Key_cache_utilization",
        Float,
        "percent,percent",
        "Share of the key cache in use: 1 − `Key_blocks_unused` × `key_cache_block_size` / `key_buffer_size`."
    ),
    field!(
        "max_connections",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `max_connections`."
    ),
    field!(
        "query_cache_size",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `query_cache_size`."
    ),
    field!(
        "table_open_cache",
        Int,
        "count",
        "`SHOW GLOBAL VARIABLES`: `table_open_cache`."
    ),
    field!(
        "thread_cache_size",
        Int,
        "digital,B",
        "`SHOW GLOBAL VARIABLES`: `thread_cache_size`."
    ),
    field!(
        "Binlog_space_usage_bytes",
        Int,
        "digital,B",
        "Total size of the binary logs (`SHOW BINARY LOGS`), when `log_bin` is on."
    ),
    field!(
        "Binlog_cache_disk_use",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Binlog_cache_disk_use`."
    ),
    field!(
        "Binlog_cache_use",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Binlog_cache_use`."
    ),
    field!(
        "Handler_commit",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_commit`."
    ),
    field!(
        "Handler_delete",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_delete`."
    ),
    field!(
        "Handler_prepare",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_prepare`."
    ),
    field!(
        "Handler_read_first",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_first`."
    ),
    field!(
        "Handler_read_key",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_key`."
    ),
    field!(
        "Handler_read_next",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_next`."
    ),
    field!(
        "Handler_read_prev",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_prev`."
    ),
    field!(
        "Handler_read_rnd",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_rnd`."
    ),
    field!(
        "Handler_read_rnd_next",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_read_rnd_next`."
    ),
    field!(
        "Handler_rollback",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_rollback`."
    ),
    field!(
        "Handler_update",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_update`."
    ),
    field!(
        "Handler_write",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Handler_write`."
    ),
    field!(
        "Opened_tables",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Opened_tables`."
    ),
    field!(
        "Qcache_total_blocks",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_total_blocks`."
    ),
    field!(
        "Qcache_free_blocks",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Qcache_free_blocks`."
    ),
    field!(
        "Qcache_free_memory",
        Int,
        "digital,B",
        "`SHOW GLOBAL STATUS`: `Qcache_free_memory`."
    ),
    field!(
        "Qcache_not_cached",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_not_cached`."
    ),
    field!(
        "Qcache_queries_in_cache",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Qcache_queries_in_cache`."
    ),
    field!(
        "Select_full_join",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Select_full_join`."
    ),
    field!(
        "Select_full_range_join",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Select_full_range_join`."
    ),
    field!(
        "Select_range",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Select_range`."
    ),
    field!(
        "Select_range_check",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Select_range_check`."
    ),
    field!(
        "Select_scan",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Select_scan`."
    ),
    field!(
        "Sort_merge_passes",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Sort_merge_passes`."
    ),
    field!(
        "Sort_range",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Sort_range`."
    ),
    field!(
        "Sort_rows",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Sort_rows`."
    ),
    field!(
        "Sort_scan",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Sort_scan`."
    ),
    field!(
        "Table_locks_immediate",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Table_locks_immediate`."
    ),
    field!(
        "Threads_cached",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Threads_cached`."
    ),
    field!(
        "Threads_created",
        Int,
        "count",
        "`SHOW GLOBAL STATUS`: `Threads_created`."
    ),
];

const INNODB_FIELDS: &[FieldSpec] = &[
    field!(
        "lock_deadlocks",
        Int,
        "count",
        "InnoDB counter `lock_deadlocks`: the status variable `Innodb_lock_deadlocks` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_timeouts",
        Int,
        "count",
        "InnoDB counter `lock_timeouts`: the status variable `Innodb_lock_timeouts` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_row_lock_current_waits",
        Int,
        "count",
        "InnoDB counter `lock_row_lock_current_waits`: the status variable `Innodb_lock_row_lock_current_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_row_lock_time",
        Int,
        "time,ms",
        "InnoDB counter `lock_row_lock_time`: the status variable `Innodb_lock_row_lock_time` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_row_lock_time_max",
        Int,
        "time,ms",
        "InnoDB counter `lock_row_lock_time_max`: the status variable `Innodb_lock_row_lock_time_max` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_row_lock_waits",
        Int,
        "count",
        "InnoDB counter `lock_row_lock_waits`: the status variable `Innodb_lock_row_lock_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "lock_row_lock_time_avg",
        Int,
        "time,ms",
        "InnoDB counter `lock_row_lock_time_avg`: the status variable `Innodb_lock_row_lock_time_avg` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_size",
        Int,
        "count",
        "InnoDB counter `buffer_pool_size`: the status variable `Innodb_buffer_pool_size` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_reads",
        Int,
        "count",
        "InnoDB counter `buffer_pool_reads`: the status variable `Innodb_buffer_pool_reads` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_read_requests",
        Int,
        "count",
        "InnoDB counter `buffer_pool_read_requests`: the status variable `Innodb_buffer_pool_read_requests` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_write_requests",
        Int,
        "count",
        "InnoDB counter `buffer_pool_write_requests`: the status variable `Innodb_buffer_pool_write_requests` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_wait_free",
        Int,
        "count",
        "InnoDB counter `buffer_pool_wait_free`: the status variable `Innodb_buffer_pool_wait_free` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_read_ahead",
        Int,
        "count",
        "InnoDB counter `buffer_pool_read_ahead`: the status variable `Innodb_buffer_pool_read_ahead` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_read_ahead_evicted",
        Int,
        "count",
        "InnoDB counter `buffer_pool_read_ahead_evicted`: the status variable `Innodb_buffer_pool_read_ahead_evicted` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_pages_total",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `buffer_pool_pages_total` as the original reads it (a status variable `Innodb_buffer_pool_pages_total`, when there is one, takes precedence)."
    ),
    field!(
        "buffer_pool_pages_misc",
        Int,
        "count",
        "InnoDB counter `buffer_pool_pages_misc`: the status variable `Innodb_buffer_pool_pages_misc` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_pages_data",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `buffer_pool_pages_data` as the original reads it (a status variable `Innodb_buffer_pool_pages_data`, when there is one, takes precedence)."
    ),
    field!(
        "buffer_pool_pages_dirty",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `buffer_pool_pages_dirty` as the original reads it (a status variable `Innodb_buffer_pool_pages_dirty`, when there is one, takes precedence)."
    ),
    field!(
        "buffer_pool_bytes_dirty",
        Int,
        "count",
        "`buffer_pool_pages_dirty` × `Innodb_page_size`."
    ),
    field!(
        "buffer_pool_pages_free",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `buffer_pool_pages_free` as the original reads it (a status variable `Innodb_buffer_pool_pages_free`, when there is one, takes precedence)."
    ),
    field!(
        "buffer_pages_created",
        Int,
        "count",
        "InnoDB counter `buffer_pages_created`: the status variable `Innodb_buffer_pages_created` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pages_written",
        Int,
        "count",
        "InnoDB counter `buffer_pages_written`: the status variable `Innodb_buffer_pages_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pages_read",
        Int,
        "count",
        "InnoDB counter `buffer_pages_read`: the status variable `Innodb_buffer_pages_read` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_data_reads",
        Int,
        "count",
        "InnoDB counter `buffer_data_reads`: the status variable `Innodb_buffer_data_reads` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_data_written",
        Int,
        "count",
        "InnoDB counter `buffer_data_written`: the status variable `Innodb_buffer_data_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_data_reads",
        Int,
        "count",
        "InnoDB counter `os_data_reads`: the status variable `Innodb_os_data_reads` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_data_writes",
        Int,
        "count",
        "InnoDB counter `os_data_writes`: the status variable `Innodb_os_data_writes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_data_fsyncs",
        Int,
        "count",
        "InnoDB counter `os_data_fsyncs`: the status variable `Innodb_os_data_fsyncs` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_log_bytes_written",
        Int,
        "count",
        "InnoDB counter `os_log_bytes_written`: the status variable `Innodb_os_log_bytes_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_log_fsyncs",
        Int,
        "count",
        "InnoDB counter `os_log_fsyncs`: the status variable `Innodb_os_log_fsyncs` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_log_pending_fsyncs",
        Int,
        "count",
        "InnoDB counter `os_log_pending_fsyncs`: the status variable `Innodb_os_log_pending_fsyncs` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "os_log_pending_writes",
        Int,
        "count",
        "InnoDB counter `os_log_pending_writes`: the status variable `Innodb_os_log_pending_writes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "trx_rseg_history_len",
        Int,
        "count",
        "InnoDB counter `trx_rseg_history_len`: the status variable `Innodb_trx_rseg_history_len` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "log_waits",
        Int,
        "count",
        "InnoDB counter `log_waits`: the status variable `Innodb_log_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "log_write_requests",
        Int,
        "count",
        "InnoDB counter `log_write_requests`: the status variable `Innodb_log_write_requests` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "log_writes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `log_writes` as the original reads it (a status variable `Innodb_log_writes`, when there is one, takes precedence)."
    ),
    field!(
        "log_padded",
        Int,
        "count",
        "InnoDB counter `log_padded`: the status variable `Innodb_log_padded` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "adaptive_hash_searches",
        Int,
        "count",
        "InnoDB counter `adaptive_hash_searches`: the status variable `Innodb_adaptive_hash_searches` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "adaptive_hash_searches_btree",
        Int,
        "count",
        "InnoDB counter `adaptive_hash_searches_btree`: the status variable `Innodb_adaptive_hash_searches_btree` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "file_num_open_files",
        Int,
        "count",
        "InnoDB counter `file_num_open_files`: the status variable `Innodb_file_num_open_files` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_insert",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_insert`: the status variable `Innodb_ibuf_merges_insert` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_delete_mark",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_delete_mark`: the status variable `Innodb_ibuf_merges_delete_mark` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_delete",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_delete`: the status variable `Innodb_ibuf_merges_delete` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_discard_insert",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_discard_insert`: the status variable `Innodb_ibuf_merges_discard_insert` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_discard_delete_mark",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_discard_delete_mark`: the status variable `Innodb_ibuf_merges_discard_delete_mark` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges_discard_delete",
        Int,
        "count",
        "InnoDB counter `ibuf_merges_discard_delete`: the status variable `Innodb_ibuf_merges_discard_delete` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "ibuf_merges",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_merges` as the original reads it (a status variable `Innodb_ibuf_merges`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_size",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_size` as the original reads it (a status variable `Innodb_ibuf_size`, when there is one, takes precedence)."
    ),
    field!(
        "innodb_activity_count",
        Int,
        "count",
        "InnoDB counter `innodb_activity_count`: the status variable `Innodb_innodb_activity_count` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_dblwr_writes",
        Int,
        "count",
        "InnoDB counter `innodb_dblwr_writes`: the status variable `Innodb_innodb_dblwr_writes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_dblwr_pages_written",
        Int,
        "count",
        "InnoDB counter `innodb_dblwr_pages_written`: the status variable `Innodb_innodb_dblwr_pages_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_page_size",
        Int,
        "count",
        "InnoDB counter `innodb_page_size`: the status variable `Innodb_innodb_page_size` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_s_spin_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_s_spin_waits`: the status variable `Innodb_innodb_rwlock_s_spin_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_x_spin_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_x_spin_waits`: the status variable `Innodb_innodb_rwlock_x_spin_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_sx_spin_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_sx_spin_waits`: the status variable `Innodb_innodb_rwlock_sx_spin_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_s_spin_rounds",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_s_spin_rounds`: the status variable `Innodb_innodb_rwlock_s_spin_rounds` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_x_spin_rounds",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_x_spin_rounds`: the status variable `Innodb_innodb_rwlock_x_spin_rounds` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_sx_spin_rounds",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_sx_spin_rounds`: the status variable `Innodb_innodb_rwlock_sx_spin_rounds` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_s_os_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_s_os_waits`: the status variable `Innodb_innodb_rwlock_s_os_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_x_os_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_x_os_waits`: the status variable `Innodb_innodb_rwlock_x_os_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "innodb_rwlock_sx_os_waits",
        Int,
        "count",
        "InnoDB counter `innodb_rwlock_sx_os_waits`: the status variable `Innodb_innodb_rwlock_sx_os_waits` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "dml_inserts",
        Int,
        "count",
        "InnoDB counter `dml_inserts`: the status variable `Innodb_dml_inserts` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "dml_deletes",
        Int,
        "count",
        "InnoDB counter `dml_deletes`: the status variable `Innodb_dml_deletes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "dml_updates",
        Int,
        "count",
        "InnoDB counter `dml_updates`: the status variable `Innodb_dml_updates` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "active_transactions",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `active_transactions` as the original reads it (a status variable `Innodb_active_transactions`, when there is one, takes precedence)."
    ),
    field!(
        "buffer_pool_bytes_data",
        Int,
        "digital,B",
        "`buffer_pool_pages_data` × `Innodb_page_size`."
    ),
    field!(
        "buffer_pool_pages_flushed",
        Int,
        "count",
        "InnoDB counter `buffer_pool_pages_flushed`: the status variable `Innodb_buffer_pool_pages_flushed` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "buffer_pool_read_ahead_rnd",
        Int,
        "count",
        "InnoDB counter `buffer_pool_read_ahead_rnd`: the status variable `Innodb_buffer_pool_read_ahead_rnd` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "checkpoint_age",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `checkpoint_age` as the original reads it (a status variable `Innodb_checkpoint_age`, when there is one, takes precedence)."
    ),
    field!(
        "current_transactions",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `current_transactions` as the original reads it (a status variable `Innodb_current_transactions`, when there is one, takes precedence)."
    ),
    field!(
        "data_fsyncs",
        Int,
        "count",
        "InnoDB counter `data_fsyncs`: the status variable `Innodb_data_fsyncs` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "data_pending_fsyncs",
        Int,
        "count",
        "InnoDB counter `data_pending_fsyncs`: the status variable `Innodb_data_pending_fsyncs` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "data_pending_reads",
        Int,
        "count",
        "InnoDB counter `data_pending_reads`: the status variable `Innodb_data_pending_reads` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "data_pending_writes",
        Int,
        "count",
        "InnoDB counter `data_pending_writes`: the status variable `Innodb_data_pending_writes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "data_read",
        Int,
        "digital,B",
        "InnoDB counter `data_read`: the status variable `Innodb_data_read` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "data_written",
        Int,
        "digital,B",
        "InnoDB counter `data_written`: the status variable `Innodb_data_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "dblwr_pages_written",
        Int,
        "count",
        "InnoDB counter `dblwr_pages_written`: the status variable `Innodb_dblwr_pages_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "dblwr_writes",
        Int,
        "digital,B",
        "InnoDB counter `dblwr_writes`: the status variable `Innodb_dblwr_writes` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "hash_index_cells_total",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `hash_index_cells_total` as the original reads it (a status variable `Innodb_hash_index_cells_total`, when there is one, takes precedence)."
    ),
    field!(
        "hash_index_cells_used",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `hash_index_cells_used` as the original reads it (a status variable `Innodb_hash_index_cells_used`, when there is one, takes precedence)."
    ),
    field!(
        "history_list_length",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `history_list_length` as the original reads it (a status variable `Innodb_history_list_length`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_free_list",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_free_list` as the original reads it (a status variable `Innodb_ibuf_free_list`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_merged",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_merged` as the original reads it (a status variable `Innodb_ibuf_merged`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_merged_delete_marks",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_merged_delete_marks` as the original reads it (a status variable `Innodb_ibuf_merged_delete_marks`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_merged_deletes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_merged_deletes` as the original reads it (a status variable `Innodb_ibuf_merged_deletes`, when there is one, takes precedence)."
    ),
    field!(
        "ibuf_merged_inserts",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `ibuf_merged_inserts` as the original reads it (a status variable `Innodb_ibuf_merged_inserts`, when there is one, takes precedence)."
    ),
    field!(
        "lock_structs",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `lock_structs` as the original reads it (a status variable `Innodb_lock_structs`, when there is one, takes precedence)."
    ),
    field!(
        "locked_tables",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `locked_tables` as the original reads it (a status variable `Innodb_locked_tables`, when there is one, takes precedence)."
    ),
    field!(
        "locked_transactions",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `locked_transactions` as the original reads it (a status variable `Innodb_locked_transactions`, when there is one, takes precedence)."
    ),
    field!(
        "lsn_current",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `lsn_current` as the original reads it (a status variable `Innodb_lsn_current`, when there is one, takes precedence)."
    ),
    field!(
        "lsn_flushed",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `lsn_flushed` as the original reads it (a status variable `Innodb_lsn_flushed`, when there is one, takes precedence)."
    ),
    field!(
        "lsn_last_checkpoint",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `lsn_last_checkpoint` as the original reads it (a status variable `Innodb_lsn_last_checkpoint`, when there is one, takes precedence)."
    ),
    field!(
        "mem_adaptive_hash",
        Int,
        "digital,B",
        "`SHOW ENGINE INNODB STATUS`, `mem_adaptive_hash` as the original reads it (a status variable `Innodb_mem_adaptive_hash`, when there is one, takes precedence)."
    ),
    field!(
        "mem_additional_pool",
        Int,
        "digital,B",
        "`SHOW ENGINE INNODB STATUS`, `mem_additional_pool` as the original reads it (a status variable `Innodb_mem_additional_pool`, when there is one, takes precedence)."
    ),
    field!(
        "mem_dictionary",
        Int,
        "digital,B",
        "`SHOW ENGINE INNODB STATUS`, `mem_dictionary` as the original reads it (a status variable `Innodb_mem_dictionary`, when there is one, takes precedence)."
    ),
    field!(
        "mem_file_system",
        Int,
        "digital,B",
        "`SHOW ENGINE INNODB STATUS`, `mem_file_system` as the original reads it (a status variable `Innodb_mem_file_system`, when there is one, takes precedence)."
    ),
    field!(
        "mem_lock_system",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `mem_lock_system` as the original reads it (a status variable `Innodb_mem_lock_system`, when there is one, takes precedence)."
    ),
    field!(
        "mem_page_hash",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `mem_page_hash` as the original reads it (a status variable `Innodb_mem_page_hash`, when there is one, takes precedence)."
    ),
    field!(
        "mem_recovery_system",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `mem_recovery_system` as the original reads it (a status variable `Innodb_mem_recovery_system`, when there is one, takes precedence)."
    ),
    field!(
        "mem_thread_hash",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `mem_thread_hash` as the original reads it (a status variable `Innodb_mem_thread_hash`, when there is one, takes precedence)."
    ),
    field!(
        "mem_total",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `mem_total` as the original reads it (a status variable `Innodb_mem_total`, when there is one, takes precedence)."
    ),
    field!(
        "os_file_fsyncs",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `os_file_fsyncs` as the original reads it (a status variable `Innodb_os_file_fsyncs`, when there is one, takes precedence)."
    ),
    field!(
        "os_file_reads",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `os_file_reads` as the original reads it (a status variable `Innodb_os_file_reads`, when there is one, takes precedence)."
    ),
    field!(
        "os_file_writes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `os_file_writes` as the original reads it (a status variable `Innodb_os_file_writes`, when there is one, takes precedence)."
    ),
    field!(
        "os_log_written",
        Int,
        "digital,B",
        "InnoDB counter `os_log_written`: the status variable `Innodb_os_log_written` when there is one, else `INFORMATION_SCHEMA.INNODB_METRICS`."
    ),
    field!(
        "pages_created",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pages_created` as the original reads it (a status variable `Innodb_pages_created`, when there is one, takes precedence)."
    ),
    field!(
        "pages_read",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pages_read` as the original reads it (a status variable `Innodb_pages_read`, when there is one, takes precedence)."
    ),
    field!(
        "pages_written",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pages_written` as the original reads it (a status variable `Innodb_pages_written`, when there is one, takes precedence)."
    ),
    field!(
        "pending_aio_log_ios",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_aio_log_ios` as the original reads it (a status variable `Innodb_pending_aio_log_ios`, when there is one, takes precedence)."
    ),
    field!(
        "pending_aio_sync_ios",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_aio_sync_ios` as the original reads it (a status variable `Innodb_pending_aio_sync_ios`, when there is one, takes precedence)."
    ),
    field!(
        "pending_buffer_pool_flushes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_buffer_pool_flushes` as the original reads it (a status variable `Innodb_pending_buffer_pool_flushes`, when there is one, takes precedence)."
    ),
    field!(
        "pending_checkpoint_writes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_checkpoint_writes` as the original reads it (a status variable `Innodb_pending_checkpoint_writes`, when there is one, takes precedence)."
    ),
    field!(
        "pending_ibuf_aio_reads",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_ibuf_aio_reads` as the original reads it (a status variable `Innodb_pending_ibuf_aio_reads`, when there is one, takes precedence)."
    ),
    field!(
        "pending_log_flushes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_log_flushes` as the original reads it (a status variable `Innodb_pending_log_flushes`, when there is one, takes precedence)."
    ),
    field!(
        "pending_log_writes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_log_writes` as the original reads it (a status variable `Innodb_pending_log_writes`, when there is one, takes precedence)."
    ),
    field!(
        "pending_normal_aio_reads",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_normal_aio_reads` as the original reads it (a status variable `Innodb_pending_normal_aio_reads`, when there is one, takes precedence)."
    ),
    field!(
        "pending_normal_aio_writes",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `pending_normal_aio_writes` as the original reads it (a status variable `Innodb_pending_normal_aio_writes`, when there is one, takes precedence)."
    ),
    field!(
        "queries_inside",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `queries_inside` as the original reads it (a status variable `Innodb_queries_inside`, when there is one, takes precedence)."
    ),
    field!(
        "queries_queued",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `queries_queued` as the original reads it (a status variable `Innodb_queries_queued`, when there is one, takes precedence)."
    ),
    field!(
        "read_views",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `read_views` as the original reads it (a status variable `Innodb_read_views`, when there is one, takes precedence)."
    ),
    field!(
        "rows_deleted",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `rows_deleted` as the original reads it (a status variable `Innodb_rows_deleted`, when there is one, takes precedence)."
    ),
    field!(
        "rows_inserted",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `rows_inserted` as the original reads it (a status variable `Innodb_rows_inserted`, when there is one, takes precedence)."
    ),
    field!(
        "rows_read",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `rows_read` as the original reads it (a status variable `Innodb_rows_read`, when there is one, takes precedence)."
    ),
    field!(
        "rows_updated",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `rows_updated` as the original reads it (a status variable `Innodb_rows_updated`, when there is one, takes precedence)."
    ),
    field!(
        "s_lock_os_waits",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `s_lock_os_waits` as the original reads it (a status variable `Innodb_s_lock_os_waits`, when there is one, takes precedence)."
    ),
    field!(
        "s_lock_spin_rounds",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `s_lock_spin_rounds` as the original reads it (a status variable `Innodb_s_lock_spin_rounds`, when there is one, takes precedence)."
    ),
    field!(
        "s_lock_spin_waits",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `s_lock_spin_waits` as the original reads it (a status variable `Innodb_s_lock_spin_waits`, when there is one, takes precedence)."
    ),
    field!(
        "semaphore_wait_time",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `semaphore_wait_time` as the original reads it (a status variable `Innodb_semaphore_wait_time`, when there is one, takes precedence)."
    ),
    field!(
        "semaphore_waits",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `semaphore_waits` as the original reads it (a status variable `Innodb_semaphore_waits`, when there is one, takes precedence)."
    ),
    field!(
        "tables_in_use",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `tables_in_use` as the original reads it (a status variable `Innodb_tables_in_use`, when there is one, takes precedence)."
    ),
    field!(
        "x_lock_os_waits",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `x_lock_os_waits` as the original reads it (a status variable `Innodb_x_lock_os_waits`, when there is one, takes precedence)."
    ),
    field!(
        "x_lock_spin_rounds",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `x_lock_spin_rounds` as the original reads it (a status variable `Innodb_x_lock_spin_rounds`, when there is one, takes precedence)."
    ),
    field!(
        "x_lock_spin_waits",
        Int,
        "count",
        "`SHOW ENGINE INNODB STATUS`, `x_lock_spin_waits` as the original reads it (a status variable `Innodb_x_lock_spin_waits`, when there is one, takes precedence)."
    ),
];

const REPLICATION_FIELDS: &[FieldSpec] = &[
    field!(
        "Slave_IO_Running",
        Bool,
        "count",
        "`SHOW SLAVE STATUS`: `Slave_IO_Running` is `Yes`."
    ),
    field!(
        "Slave_SQL_Running",
        Bool,
        "count",
        "`SHOW SLAVE STATUS`: `Slave_SQL_Running` is `Yes`."
    ),
    field!(
        "Last_Errno",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Last_Errno`."
    ),
    field!(
        "Skip_Counter",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Skip_Counter`."
    ),
    field!(
        "Exec_Master_Log_Pos",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Exec_Master_Log_Pos`."
    ),
    field!(
        "Relay_Log_Space",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Relay_Log_Space`."
    ),
    field!(
        "Seconds_Behind_Master",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Seconds_Behind_Master`."
    ),
    field!(
        "Last_IO_Errno",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Last_IO_Errno`."
    ),
    field!(
        "Last_SQL_Errno",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Last_SQL_Errno`."
    ),
    field!(
        "Master_Server_Id",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Master_Server_Id`."
    ),
    field!(
        "SQL_Delay",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `SQL_Delay`."
    ),
    field!(
        "Auto_Position",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Auto_Position`."
    ),
    field!(
        "Replicas_connected",
        Int,
        "count",
        "Replication worker threads (`performance_schema.threads` named `%worker`)."
    ),
    field!(
        "count_transactions_in_queue",
        Int,
        "count",
        "Group replication: `count_transactions_in_queue` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_checked",
        Int,
        "count",
        "Group replication: `count_transactions_checked` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_conflicts_detected",
        Int,
        "count",
        "Group replication: `count_conflicts_detected` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_rows_validating",
        Int,
        "count",
        "Group replication: `count_transactions_rows_validating` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_remote_in_applier_queue",
        Int,
        "count",
        "Group replication: `count_transactions_remote_in_applier_queue` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_remote_applied",
        Int,
        "count",
        "Group replication: `count_transactions_remote_applied` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_local_proposed",
        Int,
        "count",
        "Group replication: `count_transactions_local_proposed` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
    field!(
        "count_transactions_local_rollback",
        Int,
        "count",
        "Group replication: `count_transactions_local_rollback` of `performance_schema.replication_group_member_stats` (with `group_replication`)."
    ),
];

const REPLICATION_LOG_FIELDS: &[FieldSpec] = &[
    field!(
        "status",
        String,
        "-",
        "`info`, as on every logging point without a status of its own."
    ),
    field!(
        "Master_Host",
        String,
        "N/A",
        "`SHOW SLAVE STATUS`: `Master_Host`."
    ),
    field!(
        "Master_User",
        String,
        "N/A",
        "`SHOW SLAVE STATUS`: `Master_User`."
    ),
    field!(
        "Master_Port",
        Int,
        "count",
        "`SHOW SLAVE STATUS`: `Master_Port`."
    ),
    field!(
        "Master_Log_File",
        String,
        "N/A",
        "`SHOW SLAVE STATUS`: `Master_Log_File`."
    ),
    field!(
        "Executed_Gtid_Set",
        String,
        "N/A",
        "`SHOW SLAVE STATUS`: `Executed_Gtid_Set`."
    ),
];

const COMMON_TAGS: &[TagSpec] = &[
    tag!(
        "host",
        "The configured `host` when it is not this host (not `localhost` or a loopback address); else the agent's host name."
    ),
    tag!("server", "The server, `host:port`."),
    tag!("service_name", "The `service` option, when set."),
];

const SCHEMA_TAGS: &[TagSpec] = &[
    tag!(
        "host",
        "The configured `host` when it is not this host (not `localhost` or a loopback address); else the agent's host name."
    ),
    tag!("server", "The server, `host:port`."),
    tag!("service_name", "The `service` option, when set."),
    tag!("schema_name", "The schema (database)."),
];

const SCHEMA_FIELDS: &[FieldSpec] = &[
    field!(
        "schema_size",
        Float,
        "digital,MB",
        "Data and index size of the schema's tables (`information_schema.tables`), in MiB."
    ),
    field!(
        "query_run_time_avg",
        Int,
        "time,μs",
        "Average run time of the schema's statements (`performance_schema.events_statements_summary_by_digest`), in microseconds; only with `performance_schema` on."
    ),
];

const TABLE_TAGS: &[TagSpec] = &[
    tag!(
        "host",
        "The configured `host` when it is not this host (not `localhost` or a loopback address); else the agent's host name."
    ),
    tag!("server", "The server, `host:port`."),
    tag!("service_name", "The `service` option, when set."),
    tag!("table_schema", "The table's schema."),
    tag!("table_name", "The table."),
    tag!("table_type", "`BASE TABLE`, `VIEW`, `SYSTEM VIEW`, ..."),
    tag!("engine", "Storage engine (`NONE` for a view)."),
    tag!(
        "table_version",
        "The `.frm` version of the table (`0` when unknown)."
    ),
];

const TABLE_FIELDS: &[FieldSpec] = &[
    field!(
        "table_rows",
        Int,
        "count",
        "Rows of the table (an estimate for InnoDB)."
    ),
    field!(
        "data_length",
        Int,
        "count",
        "Size of the table's data, in bytes."
    ),
    field!(
        "index_length",
        Int,
        "count",
        "Size of the table's indexes, in bytes."
    ),
    field!(
        "data_free",
        Int,
        "count",
        "Allocated but unused bytes of the table."
    ),
];

const USER_TAGS: &[TagSpec] = &[
    tag!(
        "host",
        "The configured `host` when it is not this host (not `localhost` or a loopback address); else the agent's host name."
    ),
    tag!("server", "The server, `host:port`."),
    tag!("service_name", "The `service` option, when set."),
    tag!("user", "The account's user name (`mysql.user`)."),
];

const USER_FIELDS: &[FieldSpec] = &[
    field!(
        "bytes_received",
        Int,
        "count",
        "Bytes received from the user's connections (`performance_schema.status_by_user`)."
    ),
    field!(
        "bytes_sent",
        Int,
        "count",
        "Bytes sent to the user's connections."
    ),
    field!(
        "max_execution_time_exceeded",
        Int,
        "count",
        "SELECTs of the user that ran over their execution timeout (MySQL)."
    ),
    field!(
        "max_execution_time_set",
        Int,
        "count",
        "SELECTs of the user run with an execution timeout (MySQL)."
    ),
    field!(
        "max_execution_time_set_failed",
        Int,
        "count",
        "SELECTs of the user whose execution timeout could not be set (MySQL)."
    ),
    field!(
        "sort_rows",
        Int,
        "count",
        "Rows the user's statements sorted."
    ),
    field!(
        "sort_scan",
        Int,
        "count",
        "Sorts of the user's statements done by scanning a table."
    ),
    field!(
        "table_open_cache_hits",
        Int,
        "count",
        "Open-table cache hits of the user's statements (MySQL)."
    ),
    field!(
        "table_open_cache_misses",
        Int,
        "count",
        "Open-table cache misses of the user's statements (MySQL)."
    ),
    field!(
        "table_open_cache_overflows",
        Int,
        "count",
        "Open-table cache overflows of the user's statements (MySQL)."
    ),
    field!(
        "slow_queries",
        Int,
        "count",
        "The user's statements that took longer than `long_query_time`."
    ),
    field!(
        "current_connect",
        Int,
        "count",
        "The user's connections now (`performance_schema.users`)."
    ),
    field!(
        "total_connect",
        Int,
        "count",
        "The user's connections since the server started."
    ),
];

const UP_TAGS: &[TagSpec] = &[
    tag!(
        "host",
        "The configured `host` when it is not this host (not `localhost` or a loopback address); else the agent's host name."
    ),
    tag!("server", "The server, `host:port`."),
    tag!("service_name", "The `service` option, when set."),
    tag!("job", "Always `mysql`."),
    tag!(
        "instance",
        "The server's address, `host:port` (or the unix socket path)."
    ),
];

const UP_FIELDS: &[FieldSpec] = &[field!(
    "up",
    Int,
    "-",
    "1 when the server answered `SHOW GLOBAL STATUS` in the last collection, 0 otherwise."
)];

const LOG_TAGS: &[TagSpec] = &[
    tag!("service", "`mysql`."),
    tag!(
        "status",
        "Set by `mysql.p`: the level of an error-log line (`info` for notes), `warning` for a slow-log entry."
    ),
];

const LOG_FIELDS: &[FieldSpec] = &[
    field!(
        "message",
        String,
        "-",
        "The log record (a slow-log entry is one multi-line record)."
    ),
    field!(
        "filepath",
        String,
        "-",
        "Path of the file the record was read from."
    ),
    field!(
        "log_read_lines",
        Int,
        "count",
        "Lines read from this file since it was opened."
    ),
    field!(
        "thread_id",
        Int,
        "-",
        "Thread of the record (left out when 0)."
    ),
    field!(
        "operation",
        String,
        "-",
        "General log: the command (`Query`, `Connect`, ...)."
    ),
    field!("raw_query", String, "-", "General log: the statement."),
    field!(
        "err_code",
        String,
        "-",
        "MySQL 8.0 error log: the error code (`MY-010055`)."
    ),
    field!(
        "subsystem",
        String,
        "-",
        "MySQL 8.0 error log: the subsystem (`Server`, `InnoDB`, ...)."
    ),
    field!("query_id", Int, "-", "Slow log: the connection id (MySQL)."),
    field!(
        "bytes_sent",
        Int,
        "digital,B",
        "Slow log: bytes sent (left out when 0)."
    ),
    field!(
        "bytes_received",
        Int,
        "digital,B",
        "Slow log: bytes received (MySQL; left out when 0)."
    ),
    field!(
        "killed",
        Int,
        "-",
        "Slow log: the kill code (MySQL; left out when 0)."
    ),
    field!(
        "errno",
        Int,
        "-",
        "Slow log: the error number (MySQL; left out when 0)."
    ),
    field!("msg", String, "-", "Text of an error-log line."),
    field!(
        "db_user",
        String,
        "-",
        "Slow log: the account, `user[user]`."
    ),
    field!("db_host", String, "-", "Slow log: the client's host name."),
    field!("db_ip", String, "-", "Slow log: the client's address."),
    field!(
        "query_time",
        Float,
        "time,s",
        "Slow log: run time of the statement."
    ),
    field!(
        "lock_time",
        Float,
        "time,s",
        "Slow log: time spent waiting for locks."
    ),
    field!("rows_sent", Int, "count", "Slow log: rows sent."),
    field!("rows_examined", Int, "count", "Slow log: rows examined."),
    field!(
        "db_slow_statement",
        String,
        "-",
        "Slow log: the statement(s)."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "mysql",
        category: Category::Metric,
        description: "Global status and variables (`SHOW GLOBAL STATUS`, `SHOW GLOBAL VARIABLES`, `SHOW BINARY LOGS` when `log_bin` is on): one point per collection with the listed ones a server has. As in the original, a value that reads as an unsigned integer is sent unsigned (`u` in line protocol; the agent's point checker turns it signed, or drops one over the signed range, when unsigned fields are off).",
        tags: COMMON_TAGS,
        fields: MYSQL_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_schema",
        category: Category::Metric,
        description: "Per schema: its size, and (another point) the average run time of its statements.",
        tags: SCHEMA_TAGS,
        fields: SCHEMA_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_innodb",
        category: Category::Metric,
        description: "InnoDB, with `innodb = true`: `INFORMATION_SCHEMA.INNODB_METRICS` (enabled counters), `SHOW ENGINE INNODB STATUS`, and the `Innodb_*` status variables (without the prefix; they take precedence).",
        tags: COMMON_TAGS,
        fields: INNODB_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_table_schema",
        category: Category::Metric,
        description: "Per table outside the system schemas (`information_schema.tables`; only those named in `tables` when it is not empty).",
        tags: TABLE_TAGS,
        fields: TABLE_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_user_status",
        category: Category::Metric,
        description: "Per user of `mysql.user` (only those named in `users` when it is not empty): its status counters and connections from `performance_schema` (present only with `performance_schema` on).",
        tags: USER_TAGS,
        fields: USER_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_replication",
        category: Category::Metric,
        description: "With `replication = true`: `SHOW SLAVE STATUS` of a replica and the replication worker threads; with `group_replication = true`, the group member statistics.",
        tags: COMMON_TAGS,
        fields: REPLICATION_FIELDS,
    },
    MeasurementSpec {
        name: "mysql_replication_log",
        category: Category::Logging,
        description: "With `replication = true`, on a replica: where it replicates from.",
        tags: COMMON_TAGS,
        fields: REPLICATION_LOG_FIELDS,
    },
    MeasurementSpec {
        name: "collector",
        category: Category::Metric,
        description: "Whether the server answered (one point per collection).",
        tags: UP_TAGS,
        fields: UP_FIELDS,
    },
    MeasurementSpec {
        name: "mysql",
        category: Category::Logging,
        description: "Records of the `[inputs.mysql.log]` files (error log, slow log), cut by `mysql.p` (multi-line records start at `multiline_match`).",
        tags: LOG_TAGS,
        fields: LOG_FIELDS,
    },
];

/// The fields of the `mysql` point.
pub fn mysql_fields() -> &'static [FieldSpec] {
    MYSQL_FIELDS
}

/// The fields of the `mysql_innodb` point.
pub fn innodb_fields() -> &'static [FieldSpec] {
    INNODB_FIELDS
}

/// A field of `mysql_replication`, by its column name.
pub fn replication_field(name: &str) -> Option<&'static FieldSpec> {
    REPLICATION_FIELDS.iter().find(|f| f.name == name)
}

/// A field of `mysql_replication_log`, by its column name.
pub fn replication_log_field(name: &str) -> Option<&'static FieldSpec> {
    REPLICATION_LOG_FIELDS.iter().find(|f| f.name == name)
}

/// A field of `mysql_user_status`, by its lower-cased status name.
pub fn user_field(name: &str) -> Option<&'static FieldSpec> {
    USER_FIELDS[..11].iter().find(|f| f.name == name)
}
