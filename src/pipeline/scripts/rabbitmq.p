# RabbitMQ log: "date time [level] <pid> message".
# Fields: time, status, pid, msg.
grok(_, """%{TIMESTAMP_ISO8601:time} \[%{LOGLEVEL:status}\] <%{NOTSPACE:pid}> %{GREEDYLINES:msg}""")
lowercase(status)
default_time(time)
