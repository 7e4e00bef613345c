# MySQL error log (5.7 and 8.0) and slow query log (one multi-line record per query).
# Error log fields: time, thread_id, status, msg (8.0 adds err_code, subsystem).
# Slow log fields: time, db_user, db_host, db_ip, query_id, query_time, lock_time,
# rows_sent, rows_examined, db_slow_statement.
if grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{INT:thread_id}\s+\[%{WORD:status}\] \[%{NOTSPACE:err_code}\] \[%{WORD:subsystem}\] %{GREEDYDATA:msg}""") {
} elif grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{INT:thread_id}\s+\[%{WORD:status}\] %{GREEDYDATA:msg}""") {
} elif grok(_, """^# Time: %{NOTSPACE:time}\n# User@Host: %{DATA:db_user} @ %{DATA:db_host} \[%{DATA:db_ip}\](\s+Id:\s+%{INT:query_id})?\n# Query_time: %{NUMBER:query_time}\s+Lock_time: %{NUMBER:lock_time}\s+Rows_sent: %{INT:rows_sent}\s+Rows_examined: %{INT:rows_examined}[^\n]*\n%{GREEDYLINES:db_slow_statement}""") {
    cast(query_time, "float")
    cast(lock_time, "float")
    cast(rows_sent, "int")
    cast(rows_examined, "int")
    cast(query_id, "int")
    trim(db_slow_statement)
    status = "warning"
    add_key(status)
} elif grok(_, """%{INT:date} %{TIME:clock} %{GREEDYDATA:msg}""") {
    # 5.5 style: 240203  8:15:00 [Note] ...
    grok(msg, """\[%{WORD:status}\] %{GREEDYDATA:msg}""")
    drop_key(date)
    drop_key(clock)
}

lowercase(status)
group_in(status, ["note", "system"], "info")
default_time(time)
