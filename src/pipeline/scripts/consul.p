# Consul agent log, possibly behind a syslog prefix: "[time] [LEVEL] source: message".
# Fields: time, status, source, msg.
grok(_, """%{TIMESTAMP_ISO8601:time} \[%{LOGLEVEL:status}\]\s+%{DATA:source}: %{GREEDYLINES:msg}""")
lowercase(status)
default_time(time)
