# Tomcat: catalina (JULI) log and the access log valve's common format.
# Catalina fields: time, status, thread_name, report_source, msg.
# Access fields: client_ip, http_auth, time, http_method, http_url, http_version, status_code, bytes.
if grok(_, """^(?P<time>%{MONTHDAY}-%{MONTH}-%{YEAR} %{TIME}) %{LOGLEVEL:status} \[%{DATA:thread_name}\] %{NOTSPACE:report_source} %{GREEDYLINES:msg}""") {
    lowercase(status)
    group_in(status, ["severe"], "error")
} elif grok(_, """%{NOTSPACE:client_ip} %{NOTSPACE:http_ident} %{NOTSPACE:http_auth} \[%{HTTPDATE:time}\] "%{DATA:http_method} %{GREEDYDATA:http_url} HTTP/%{NUMBER:http_version}" %{INT:status_code} (%{INT:bytes}|-)""") {
    cast(status_code, "int")
    cast(bytes, "int")
    group_between(status_code, [200, 299], "OK", status)
    group_between(status_code, [300, 399], "notice", status)
    group_between(status_code, [400, 499], "warning", status)
    group_between(status_code, [500, 599], "error", status)
    nullif(http_ident, "-")
    nullif(http_auth, "-")
}
default_time(time)
