//! The text of `SHOW ENGINE INNODB STATUS`, read into the `mysql_innodb` fields the original
//! takes from it (semaphores, transactions, file I/O, the insert buffer, the log, memory, the
//! buffer pool and row operations). Lines it does not know are passed over; a number that
//! does not read as one counts as 0, as in the original.

use std::collections::BTreeMap;

/// A number as the status prints it: an integer, or the integer part of a decimal.
fn num(s: Option<&&str>) -> i64 {
    let Some(s) = s else { return 0 };
    if let Ok(v) = s.parse::<i64>() {
        return v;
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => f as i64,
        _ => 0,
    }
}

/// Adds to a counter, saturating: the numbers come from the server's text.
fn add(r: &mut BTreeMap<&'static str, i64>, k: &'static str, v: i64) {
    let e = r.entry(k).or_default();
    *e = e.saturating_add(v);
}

fn all_numeric(words: &[&str]) -> bool {
    !words.is_empty() && words.iter().all(|w| w.parse::<i64>().is_ok())
}

/// The fields read from the status text.
pub fn parse(text: &str) -> BTreeMap<&'static str, i64> {
    let mut r: BTreeMap<&'static str, i64> = BTreeMap::new();
    for k in [
        "semaphore_waits",
        "semaphore_wait_time",
        "current_transactions",
        "active_transactions",
        "tables_in_use",
        "locked_tables",
        "lock_structs",
        "locked_transactions",
    ] {
        r.insert(k, 0);
    }
    let mut txn_seen = false;
    let mut prev = String::new();
    let mut buffer_id: i64 = -1;
    for raw in text.lines() {
        let line = raw.trim();
        let w: Vec<&str> = line
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_matches(|c| c == ',' || c == ';' || c == '[' || c == ']'))
            .collect();
        let at = |i: usize| num(w.get(i));
        if line.starts_with("---BUFFER POOL") {
            buffer_id = at(2);
        }
        let mut set = |k: &'static str, v: i64| {
            r.insert(k, v);
        };
        if line.starts_with("Mutex spin waits") {
            set("mutex_spin_waits", at(3));
            set("mutex_spin_rounds", at(5));
            set("mutex_os_waits", at(8));
        } else if line.starts_with("RW-shared spins") && line.contains(';') {
            set("s_lock_spin_waits", at(2));
            set("x_lock_spin_waits", at(8));
            set("s_lock_os_waits", at(5));
            set("x_lock_os_waits", at(11));
        } else if line.starts_with("RW-shared spins") {
            set("s_lock_spin_waits", at(2));
            set("s_lock_spin_rounds", at(4));
            set("s_lock_os_waits", at(7));
        } else if line.starts_with("RW-excl spins") {
            set("x_lock_spin_waits", at(2));
            set("x_lock_spin_rounds", at(4));
            set("x_lock_os_waits", at(7));
        } else if line.find("seconds the semaphore:").is_some_and(|i| i > 0) {
            add(&mut r, "semaphore_waits", 1);
            add(&mut r, "semaphore_wait_time", at(9).saturating_mul(1000));
        } else if line.starts_with("Trx id counter") {
            txn_seen = true;
        } else if line.starts_with("History list length") {
            set("history_list_length", at(3));
        } else if txn_seen && line.starts_with("---TRANSACTION") {
            add(&mut r, "current_transactions", 1);
            if line.find("ACTIVE").is_some_and(|i| i > 0) {
                add(&mut r, "active_transactions", 1);
            }
        } else if line
            .find("read views open inside InnoDB")
            .is_some_and(|i| i > 0)
        {
            set("read_views", at(0));
        } else if line.starts_with("mysql tables in use") {
            add(&mut r, "tables_in_use", at(4));
            add(&mut r, "locked_tables", at(6));
        } else if txn_seen && line.find("lock struct(s)").is_some_and(|i| i > 0) {
            if line.starts_with("LOCK WAIT") {
                add(&mut r, "lock_structs", at(2));
                add(&mut r, "locked_transactions", 1);
            } else if line.starts_with("ROLLING BACK") {
                add(&mut r, "lock_structs", at(2));
            } else {
                add(&mut r, "lock_structs", at(0));
            }
        } else if line.find(" OS file reads, ").is_some_and(|i| i > 0) {
            set("os_file_reads", at(0));
            set("os_file_writes", at(4));
            set("os_file_fsyncs", at(8));
        } else if line.starts_with("Pending normal aio reads:") {
            let (reads, writes) = match w.len() {
                8 => (Some(at(4)), Some(at(7))),
                14 => (Some(at(4)), Some(at(10))),
                16 if all_numeric(&w[4..8]) && all_numeric(&w[11..15]) => (
                    Some(
                        [4, 5, 6, 7]
                            .iter()
                            .fold(0i64, |a, i| a.saturating_add(at(*i))),
                    ),
                    Some(
                        [11, 12, 13, 14]
                            .iter()
                            .fold(0i64, |a, i| a.saturating_add(at(*i))),
                    ),
                ),
                16 if all_numeric(&w[4..9]) && all_numeric(&w[12..15]) => {
                    (Some(at(4)), Some(at(12)))
                }
                18 => (Some(at(4)), Some(at(12))),
                22 => (Some(at(4)), Some(at(16))),
                _ => (None, None),
            };
            if let (Some(a), Some(b)) = (reads, writes) {
                set("pending_normal_aio_reads", a);
                set("pending_normal_aio_writes", b);
            }
        } else if line.starts_with("ibuf aio reads") {
            if w.len() == 10 {
                set("pending_ibuf_aio_reads", at(3));
                set("pending_aio_log_ios", at(6));
                set("pending_aio_sync_ios", at(9));
            } else if w.len() == 7 {
                set("pending_ibuf_aio_reads", 0);
                set("pending_aio_log_ios", 0);
                set("pending_aio_sync_ios", 0);
            }
        } else if line.starts_with("Pending flushes (fsync)") {
            if w.len() == 4 {
                set("pending_buffer_pool_flushes", at(3));
            } else {
                set("pending_log_flushes", at(4));
                set("pending_buffer_pool_flushes", at(7));
            }
        } else if line.starts_with("Ibuf for space 0: size ") {
            set("ibuf_size", at(5));
            set("ibuf_free_list", at(9));
            set("ibuf_segment_size", at(12));
        } else if line.starts_with("Ibuf: size ") {
            set("ibuf_size", at(2));
            set("ibuf_free_list", at(6));
            set("ibuf_segment_size", at(9));
            if line.contains("merges") {
                set("ibuf_merges", at(10));
            }
        } else if line.find(", delete mark ").is_some_and(|i| i > 0)
            && prev.starts_with("merged operations:")
        {
            let (a, b, c) = (at(1), at(4), at(6));
            set("ibuf_merged_inserts", a);
            set("ibuf_merged_delete_marks", b);
            set("ibuf_merged_deletes", c);
            set("ibuf_merged", a.saturating_add(b).saturating_add(c));
        } else if line.find(" merged recs, ").is_some_and(|i| i > 0) {
            set("ibuf_merged_inserts", at(0));
            set("ibuf_merged", at(2));
            set("ibuf_merges", at(5));
        } else if line.starts_with("Hash table size ") {
            set("hash_index_cells_total", at(3));
            let used = if line.find("used cells").is_some_and(|i| i > 0) {
                at(6)
            } else {
                0
            };
            set("hash_index_cells_used", used);
        } else if line.find(" log i/o's done, ").is_some_and(|i| i > 0) {
            set("log_writes", at(0));
        } else if line.find(" pending log writes, ").is_some_and(|i| i > 0) {
            set("pending_log_writes", at(0));
            set("pending_checkpoint_writes", at(4));
        } else if line.starts_with("Log sequence number") {
            set("lsn_current", at(3));
        } else if line.starts_with("Log flushed up to") {
            set("lsn_flushed", at(4));
        } else if line.starts_with("Last checkpoint at") {
            set("lsn_last_checkpoint", at(3));
        } else if line.starts_with("Total memory allocated")
            && line
                .find("in additional pool allocated")
                .is_some_and(|i| i > 0)
        {
            set("mem_total", at(3));
            set("mem_additional_pool", at(8));
        } else if line.starts_with("Adaptive hash index ") {
            set("mem_adaptive_hash", at(3));
        } else if line.starts_with("Page hash           ") {
            set("mem_page_hash", at(2));
        } else if line.starts_with("Dictionary cache    ") {
            set("mem_dictionary", at(2));
        } else if line.starts_with("File system         ") {
            set("mem_file_system", at(2));
        } else if line.starts_with("Lock system         ") {
            set("mem_lock_system", at(2));
        } else if line.starts_with("Recovery system     ") {
            set("mem_recovery_system", at(2));
        } else if line.starts_with("Threads             ") {
            set("mem_thread_hash", at(1));
        } else if line.starts_with("Buffer pool size ") {
            if buffer_id == -1 {
                set("buffer_pool_pages_total", at(3));
            }
        } else if line.starts_with("Free buffers") {
            if buffer_id == -1 {
                set("buffer_pool_pages_free", at(2));
            }
        } else if line.starts_with("Database pages") {
            if buffer_id == -1 {
                set("buffer_pool_pages_data", at(2));
            }
        } else if line.starts_with("Modified db pages") {
            if buffer_id == -1 {
                set("buffer_pool_pages_dirty", at(3));
            }
        } else if line.starts_with("Pages read ahead") {
            // Not the "Pages read" line below.
        } else if line.starts_with("Pages read") {
            if buffer_id == -1 {
                set("pages_read", at(2));
                set("pages_created", at(4));
                set("pages_written", at(6));
            }
        } else if line.starts_with("Number of rows inserted") {
            set("rows_inserted", at(4));
            set("rows_updated", at(6));
            set("rows_deleted", at(8));
            set("rows_read", at(10));
        } else if line.find(" queries inside InnoDB, ").is_some_and(|i| i > 0) {
            set("queries_inside", at(0));
            set("queries_queued", at(4));
        }
        prev.clear();
        prev.push_str(line);
    }
    if let (Some(cur), Some(last)) = (r.get("lsn_current"), r.get("lsn_last_checkpoint")) {
        let age = cur.saturating_sub(*last);
        r.insert("checkpoint_age", age);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "
=====================================
2026-12-08 03:00:00 0x7f INNODB MONITOR OUTPUT
=====================================
----------
SEMAPHORES
----------
RW-shared spins 604733, rounds 8107431, OS waits 241268
RW-excl spins 604734, rounds 8107432, OS waits 241269
------------
TRANSACTIONS
------------
Trx id counter 1170664159
Purge done for trx's n:o < 35 undo n:o < 0 state: running
History list length 132
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 421, not started
---TRANSACTION 422, ACTIVE 3 sec
mysql tables in use 2, locked 2
LOCK WAIT 12 lock struct(s), heap size 3024, undo log entries 5
--------
FILE I/O
--------
Pending normal aio reads: 0, aio writes: 0,
 ibuf aio reads:, log i/o's:, sync i/o's:
Pending flushes (fsync) log: 0; buffer pool: 1
8782182 OS file reads, 15635445 OS file writes, 947800 OS fsyncs
-------------------------------------
INSERT BUFFER AND ADAPTIVE HASH INDEX
-------------------------------------
Ibuf: size 1, free list len 4634, seg size 4636, 7 merges
merged operations:
 insert 593983, delete mark 387006, delete 73092
Hash table size 4425293, used cells 4229064, node heap has 1 buffer(s)
---
LOG
---
Log sequence number 272588624
Log flushed up to   272588600
Last checkpoint at  272588000
0 pending log writes, 0 pending chkp writes
3430041 log i/o's done, 17.44 log i/o's/second
----------------------
BUFFER POOL AND MEMORY
----------------------
Total large memory allocated 167772160
Dictionary memory allocated 853272
Buffer pool size   8065
Free buffers       7000
Database pages     1065
Modified db pages  3
Pages read ahead 0.00/s, evicted without access 0.00/s
Pages read 920, created 145, written 300
--------------
ROW OPERATIONS
--------------
0 queries inside InnoDB, 0 queries in queue
1 read views open inside InnoDB
Number of rows inserted 50678311, updated 66425915, deleted 20605903, read 454561562
";

    #[test]
    fn the_status_text_gives_the_fields() {
        let r = parse(STATUS);
        let want = [
            ("s_lock_spin_waits", 604733),
            ("s_lock_spin_rounds", 8107431),
            ("s_lock_os_waits", 241268),
            ("x_lock_os_waits", 241269),
            ("history_list_length", 132),
            ("current_transactions", 2),
            ("active_transactions", 1),
            ("tables_in_use", 2),
            ("locked_tables", 2),
            ("lock_structs", 12),
            ("locked_transactions", 1),
            ("pending_normal_aio_reads", 0),
            ("pending_ibuf_aio_reads", 0),
            ("pending_log_flushes", 0),
            ("pending_buffer_pool_flushes", 1),
            ("os_file_reads", 8782182),
            ("os_file_fsyncs", 947800),
            ("ibuf_size", 1),
            ("ibuf_free_list", 4634),
            ("ibuf_segment_size", 4636),
            ("ibuf_merges", 7),
            ("ibuf_merged", 593983 + 387006 + 73092),
            ("hash_index_cells_used", 4229064),
            ("lsn_current", 272588624),
            ("lsn_flushed", 272588600),
            ("checkpoint_age", 624),
            ("log_writes", 3430041),
            ("buffer_pool_pages_total", 8065),
            ("buffer_pool_pages_free", 7000),
            ("buffer_pool_pages_data", 1065),
            ("buffer_pool_pages_dirty", 3),
            ("pages_read", 920),
            ("pages_written", 300),
            ("read_views", 1),
            ("rows_read", 454561562),
            ("queries_queued", 0),
        ];
        for (k, v) in want {
            assert_eq!(r.get(k), Some(&v), "{k}");
        }
    }

    #[test]
    fn huge_numbers_saturate() {
        // Found by the fuzz target: sums of numbers past the 64-bit range.
        let r = parse(
            "mysql tables in use 9999999999999999999999, locked 1\nmysql tables in use 9223372036854775807, locked 1\n",
        );
        assert_eq!(r.get("tables_in_use"), Some(&i64::MAX));
        assert_eq!(r.get("locked_tables"), Some(&2));
    }

    #[test]
    fn garbage_gives_only_the_zero_counters() {
        let r = parse("Mutex spin waits\nPending normal aio reads: x\n\u{0}\u{fffd}");
        assert_eq!(r.get("mutex_spin_waits"), Some(&0));
        assert!(!r.contains_key("pending_normal_aio_reads"));
        assert_eq!(r.get("semaphore_waits"), Some(&0));
    }
}
