# MySQL and MariaDB logs: the error log (MySQL 5.7 and 8.0, MariaDB, the 5.5 layout), the
# slow query log (one multi-line record per query, MySQL's and MariaDB's layouts) and the
# general query log.
# Error log fields: time, thread_id, status, msg (MySQL 8.0 adds err_code, subsystem).
# Slow log fields: time, db_user, db_host, db_ip, query_id, query_time, lock_time,
# rows_sent, rows_examined, thread_id, killed, errno, bytes_sent, bytes_received,
# db_slow_statement.
# General log fields: time, thread_id, operation, raw_query.
add_pattern("mariadb_time", "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}\\s+%{HOUR}:%{MINUTE}:%{SECOND}")
add_pattern("slow_user", "# User@Host: %{DATA:db_user} @ %{DATA:db_host} \\[%{DATA:db_ip}\\](\\s+Id:\\s+%{INT:query_id})?")
add_pattern("slow_times", "# Query_time: %{NUMBER:query_time}\\s+Lock_time: %{NUMBER:lock_time}\\s+Rows_sent: %{INT:rows_sent}\\s+Rows_examined: %{INT:rows_examined}[^\\n]*")

if grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{INT:thread_id}\s+\[%{WORD:status}\] \[%{NOTSPACE:err_code}\] \[%{WORD:subsystem}\] %{GREEDYDATA:msg}""") {
} elif grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{INT:thread_id}\s+\[%{WORD:status}\] %{GREEDYDATA:msg}""") {
} elif grok(_, """^%{mariadb_time:time}\s+%{INT:thread_id}\s+\[%{WORD:status}\] %{GREEDYDATA:msg}""") {
    # MariaDB: "2026-12-08  3:15:29 0 [Note] ..." (the hour not padded).
    time = replace(time, "\\s+", " ")
} elif grok(_, """^# Time: %{NOTSPACE:time}\n%{slow_user}\n%{slow_times}\n(# Thread_id: %{INT:thread_id}\s+Killed: %{INT:killed}\s+Errno: %{INT:errno}\n)?(# Bytes_sent: %{INT:bytes_sent}\s+Bytes_received: %{INT:bytes_received}\n)?%{GREEDYLINES:db_slow_statement}""") {
    # MySQL's slow log.
    status = "warning"
    add_key(status)
} elif grok(_, """^(# Time: [^\n]*\n)?%{slow_user}\n# Thread_id: %{INT:thread_id}[^\n]*\n%{slow_times}\n(# Rows_affected: \d+\s+Bytes_sent: %{INT:bytes_sent}[^\n]*\n)?(# [^\n]*\n)*%{GREEDYLINES:db_slow_statement}""") {
    # MariaDB's slow log: its time is that of `SET timestamp`.
    grok(db_slow_statement, """SET timestamp=%{INT:time};""")
    status = "warning"
    add_key(status)
} elif grok(_, """%{INT:date} %{TIME:clock} %{GREEDYDATA:msg}""") {
    # 5.5 style: 240203  8:15:00 [Note] ...
    grok(msg, """\[%{WORD:status}\] %{GREEDYDATA:msg}""")
    drop_key(date)
    drop_key(clock)
} elif grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{INT:thread_id}\s+%{WORD:operation}\s+%{GREEDYDATA:raw_query}""") {
    # The general query log.
}

if db_slow_statement != nil {
    cast(query_time, "float")
    cast(lock_time, "float")
    cast(rows_sent, "int")
    cast(rows_examined, "int")
    # An optional part that is not there leaves its keys empty.
    nullif(query_id, "")
    if query_id != nil {
        cast(query_id, "int")
    }
    cast(killed, "int")
    cast(errno, "int")
    cast(bytes_sent, "int")
    cast(bytes_received, "int")
    nullif(killed, 0)
    nullif(errno, 0)
    nullif(bytes_sent, 0)
    nullif(bytes_received, 0)
    nullif(db_host, "")
    nullif(db_ip, "")
    trim(db_slow_statement)
}

# As the original: the thread as an integer, left out when 0.
cast(thread_id, "int")
nullif(thread_id, 0)

lowercase(status)
group_in(status, ["note", "system"], "info")
default_time(time)
