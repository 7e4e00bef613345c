# MongoDB 4.4+ structured (JSON) log lines.
# Fields: time, status, component, context, msg, attr (JSON text).
if valid_json(_) {
    json(_, `t`.`$date`, time)
    json(_, s, status)
    json(_, c, component)
    json(_, ctx, context)
    json(_, msg)
    json(_, attr)
    group_in(status, ["F"], "critical")
    group_in(status, ["E"], "error")
    group_in(status, ["W"], "warning")
    group_in(status, ["I"], "info")
    group_in(status, ["D", "D1", "D2", "D3", "D4", "D5"], "debug")
} else {
    # Before 4.4: "time severity component [context] message"
    grok(_, """%{TIMESTAMP_ISO8601:time} %{WORD:status} %{NOTSPACE:component}\s+\[%{DATA:context}\] %{GREEDYLINES:msg}""")
    group_in(status, ["F"], "critical")
    group_in(status, ["E"], "error")
    group_in(status, ["W"], "warning")
    group_in(status, ["I"], "info")
    group_in(status, ["D"], "debug")
}
default_time(time)
