# Apache httpd access log (common/combined) and error log (2.2 and 2.4 formats).
# Fields: ip_or_host, http_ident, http_auth, time, http_method, http_url, http_version,
# http_code, bytes, referrer, agent (+ user_agent() fields); error log: time, type, status,
# pid, tid, client_ip, msg.
add_pattern("access_common", """%{IPORHOST:ip_or_host} %{NOTSPACE:http_ident} %{NOTSPACE:http_auth} \[%{HTTPDATE:time}\] "%{DATA:http_method} %{GREEDYDATA:http_url} HTTP/%{NUMBER:http_version}" %{INT:http_code} (%{INT:bytes}|-)""")

if grok(_, '''%{access_common} "%{DATA:referrer}" "%{GREEDYDATA:agent}"''') {
    user_agent(agent)
} elif grok(_, "%{access_common}") {
} elif grok(_, """\[%{HTTPDERROR_DATE:time}\] \[%{WORD:type}:%{WORD:status}\] \[pid %{INT:pid}(:tid %{INT:tid})?\]( \[client %{NOTSPACE:client_ip}\])? %{GREEDYDATA:msg}""") {
} else {
    grok(_, """\[%{HTTPDERROR_DATE:time}\] \[%{WORD:status}\]( \[client %{NOTSPACE:client_ip}\])? %{GREEDYDATA:msg}""")
}

cast(http_code, "int")
cast(bytes, "int")
group_between(http_code, [200, 299], "OK", status)
group_between(http_code, [300, 399], "notice", status)
group_between(http_code, [400, 499], "warning", status)
group_between(http_code, [500, 599], "error", status)
group_in(status, ["warn"], "warning")
group_in(status, ["emerg", "alert", "crit"], "error")

nullif(http_ident, "-")
nullif(http_auth, "-")
nullif(referrer, "-")
default_time(time)
