# PostgreSQL server log with the usual prefixes ('%m [%p] ' and '%m [%p] %q%u@%d ').
# Fields: time, tz, process_id, remote_host, db, user, status, msg.
add_pattern("log_date", "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}%{SPACE}%{HOUR}:%{MINUTE}:%{SECOND}%{SPACE}(?:CST|UTC|GMT|[A-Z]{2,5}|[+-]\\d+)?")
if grok(_, """%{log_date:time} \[%{INT:process_id}\] %{DATA:user}@%{DATA:db} %{WORD:status}:\s+%{GREEDYDATA:msg}""") {
} elif grok(_, """%{log_date:time} \[%{INT:process_id}\] (\[%{NOTSPACE:remote_host}\] )?%{WORD:status}:\s+%{GREEDYDATA:msg}""") {
}
grok(time, "%{TZ:tz}$")
nullif(remote_host, "")
cast(process_id, "int")
group_in(status, ["LOG", "INFO", "STATEMENT", "DETAIL", "HINT", "CONTEXT"], "info")
group_in(status, ["DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"], "debug")
group_in(status, ["NOTICE"], "notice")
group_in(status, ["WARNING"], "warning")
group_in(status, ["ERROR"], "error")
group_in(status, ["FATAL", "PANIC"], "critical")
default_time(time)
