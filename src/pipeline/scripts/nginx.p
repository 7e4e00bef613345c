# nginx access log (common and combined formats) and error log.
# Fields: client_ip, http_ident, http_auth, time, http_method, http_url, http_version,
# status_code, bytes, referrer, agent (+ user_agent() fields); error log: time, status, msg,
# client_ip, server, http_method, http_url, http_version, upstream, ip_or_host.
add_pattern("date2", "%{YEAR}[./]%{MONTHNUM}[./]%{MONTHDAY} %{TIME}")
add_pattern("access_common", """%{NOTSPACE:client_ip} %{NOTSPACE:http_ident} %{NOTSPACE:http_auth} \[%{HTTPDATE:time}\] "%{DATA:http_method} %{GREEDYDATA:http_url} HTTP/%{NUMBER:http_version}" %{INT:status_code} %{INT:bytes}""")

if grok(_, '''%{access_common} "%{NOTSPACE:referrer}" "%{GREEDYDATA:agent}"''') {
    user_agent(agent)
} elif grok(_, "%{access_common}") {
} elif grok(_, '''%{date2:time} \[%{LOGLEVEL:status}\] %{GREEDYDATA:msg}, client: %{NOTSPACE:client_ip}, server: %{NOTSPACE:server}, request: "%{DATA:http_method} %{GREEDYDATA:http_url} HTTP/%{NUMBER:http_version}", (upstream: "%{GREEDYDATA:upstream}", )?host: "%{NOTSPACE:ip_or_host}"''') {
} elif grok(_, '''%{date2:time} \[%{LOGLEVEL:status}\] %{GREEDYDATA:msg}, client: %{NOTSPACE:client_ip}, server: %{NOTSPACE:server}, request: "%{GREEDYDATA:http_method} %{GREEDYDATA:http_url} HTTP/%{NUMBER:http_version}", host: "%{NOTSPACE:ip_or_host}"''') {
} else {
    grok(_, """%{date2:time} \[%{LOGLEVEL:status}\] %{GREEDYDATA:msg}""")
}

group_in(status, ["warn", "notice"], "warning")
group_in(status, ["error", "crit", "alert", "emerg"], "error")

cast(status_code, "int")
cast(bytes, "int")

group_between(status_code, [200, 299], "OK", status)
group_between(status_code, [300, 399], "notice", status)
group_between(status_code, [400, 499], "warning", status)
group_between(status_code, [500, 599], "error", status)

nullif(http_ident, "-")
nullif(http_auth, "-")
nullif(upstream, "")
default_time(time)
