#!/usr/bin/env bash
# Usage: benches/monitor_cost.sh [REQUESTS]   (default 2000)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# Cost to the agent of one `datakit monitor` refresh: the agent runs with its default inputs;
# after a warm-up, REQUESTS requests to /v1/monitor are made one after another (each is what a
# monitor refresh fetches) and the agent's CPU time (utime+stime from /proc) over the run is
# divided by their number. The agent's idle CPU over the same wall time, measured right after,
# is subtracted.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
n=${1:-2000}
bin=$(datakit_bin)
wd=$(mktemp -d)
pid=
trap 'stop_pids "$pid"; rm -rf "$wd"' EXIT
port=$(free_port)
mkdir -p "$wd/conf.d"
printf '[http_api]\n  listen = "127.0.0.1:%s"\n  request_rate_limit = 0.0\n' "$port" > "$wd/conf.d/datakit.conf"
"$bin" --workdir "$wd" run >/dev/null 2>&1 & pid=$!
sleep 15
python3 - "$port" "$n" "$pid" <<'PY'
import http.client, os, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hz = os.sysconf("SC_CLK_TCK")
def ticks():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
c = http.client.HTTPConnection("127.0.0.1", port)
def get():
    c.request("GET", "/v1/monitor"); r = c.getresponse(); body = r.read(); assert r.status == 200
    return len(body)
size = get()
t0, w0 = ticks(), time.monotonic()
for _ in range(n):
    get()
t1, w1 = ticks(), time.monotonic()
wall = w1 - w0
time.sleep(wall)  # idle baseline over the same wall time
t2 = ticks()
busy, idle = (t1 - t0) / hz, (t2 - t1) / hz
print(f"/v1/monitor: {size} bytes; {n} requests in {wall:.2f} s")
print(f"agent CPU: {busy*1e3:.0f} ms with requests, {idle*1e3:.0f} ms idle over the same time")
print(f"cost per request: {(busy - idle) / n * 1e6:.0f} µs CPU")
PY
