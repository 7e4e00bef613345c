# PostgreSQL's server log, with the fields of the original's postgresql script: time,
# process_id, db_name, application_name, user, remote_host, session_id and status (the level
# as the server writes it; INFO when the line has none). Lines with the original's
# log_line_prefix '%m [%p] %d [%a] %u [%h] %c ' give every field; lines with the default
# '%m [%p] ' give time, process_id and status.
add_pattern("pg_time", "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}%{SPACE}%{HOUR}:%{MINUTE}:%{SECOND}(?:%{SPACE}(?:[A-Z]{2,5}|[+-]\\d+))?")
add_pattern("pg_level", "(?:LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG[1-5]|STATEMENT|DETAIL|HINT|CONTEXT)")
if grok(_, """^%{pg_time:time}\s+\[%{INT:process_id}\]\s+%{NOTSPACE:db_name}?\s*\[%{DATA:application_name}\]\s+%{USER:user}?\s*\[\[?%{IPORHOST:remote_host}?\]?\]\s+%{NOTSPACE:session_id}\s+%{pg_level:status}:""") {
} elif grok(_, """^%{pg_time:time}\s+\[%{INT:process_id}\]\s+%{pg_level:status}:""") {
} else {
  grok(_, """^%{pg_time:time}\s+\[%{INT:process_id}\]""")
}
nullif(remote_host, "")
nullif(session_id, "")
nullif(application_name, "")
nullif(user, "")
nullif(db_name, "")
if !status {
  add_key(status, "INFO")
}
default_time(time)
