# Solr log: "time LEVEL (thread) [context] logger message".
# Fields: time, status, thread, core (context), Location (logger), msg.
if grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{LOGLEVEL:status}\s+\(%{NOTSPACE:thread}\) \[%{DATA:core}\] %{NOTSPACE:Location} %{GREEDYLINES:msg}""") {
} else {
    grok(_, """%{TIMESTAMP_ISO8601:time}\s+%{LOGLEVEL:status}\s+\(%{DATA:thread}\) %{GREEDYLINES:msg}""")
}
lowercase(status)
default_time(time)
