# Redis server log: "<pid>:<role> <date> <level symbol> <message>".
# Fields: pid, role (M master, S replica, C child, X sentinel), time, status, msg.
add_pattern("redis_date", "%{MONTHDAY} %{MONTH} %{YEAR}? *%{TIME}")
if grok(_, """%{INT:pid}:%{WORD:role} %{redis_date:time} %{NOTSPACE:level} %{GREEDYDATA:msg}""") {
    group_in(level, ["."], "debug", status)
    group_in(level, ["-"], "info", status)
    group_in(level, ["*"], "notice", status)
    group_in(level, ["#"], "warning", status)
    drop_key(level)
    group_in(role, ["M"], "master")
    group_in(role, ["S"], "slave")
    group_in(role, ["C"], "child")
    group_in(role, ["X"], "sentinel")
    cast(pid, "int")
}
default_time(time)
