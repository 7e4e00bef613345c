# Jenkins log: "time [id=N]<TAB>LEVEL<TAB>source: message".
# Fields: time, thread_id, status, code (source), msg.
grok(_, """%{TIMESTAMP_ISO8601:time} \[id=%{INT:thread_id}\]\s+%{LOGLEVEL:status}\s+%{DATA:code}: %{GREEDYLINES:msg}""")
cast(thread_id, "int")
lowercase(status)
group_in(status, ["severe"], "error")
default_time(time)
