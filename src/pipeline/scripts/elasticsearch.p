# Elasticsearch server log: "[time][LEVEL ][logger] [node] message".
# Fields: time, status, name (logger), nodeId, msg.
if grok(_, """\[%{TIMESTAMP_ISO8601:time}\]\s*\[%{LOGLEVEL:status}\s*\]\s*\[%{NOTSPACE:name}\s*\]\s*\[%{NOTSPACE:nodeId}\]( %{GREEDYLINES:msg})?""") {
} elif grok(_, """\[%{TIMESTAMP_ISO8601:time}\]\s*\[%{LOGLEVEL:status}\s*\]\s*\[%{NOTSPACE:name}\s*\]\s*%{GREEDYLINES:msg}""") {
}
lowercase(status)
default_time(time)
