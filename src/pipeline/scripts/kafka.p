# Kafka broker/connect log4j lines: "[time] LEVEL message (logger)".
# Fields: time, status, msg, name.
if grok(_, """\[%{TIMESTAMP_ISO8601:time}\] %{LOGLEVEL:status} %{GREEDYDATA:msg} \(%{NOTSPACE:name}\)$""") {
} else {
    grok(_, """\[%{TIMESTAMP_ISO8601:time}\] %{LOGLEVEL:status} %{GREEDYLINES:msg}""")
}
lowercase(status)
default_time(time)
