#!/usr/bin/env bash
# Usage: benches/http_ingest.sh [SECONDS]   (default 20; needs wrk and python3)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        JOURNAL=off runs without the write-ahead journal (default: on, as the agent ships).
# HTTP ingest throughput: wrk posts 1 000-point line-protocol bodies to /v1/write/metric over 8
# connections for SECONDS; the agent delivers to the DataWay stand-in
# (benches/tools/dataway_stub.py), which counts the points. Reports points/s accepted (wrk) and
# delivered (stand-in), the agent's CPU per accepted point and its peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-20}
bin=$(datakit_bin)
wd=$(mktemp -d)
agent= dw_pid=
cleanup() { stop_pids "$agent" "$dw_pid"; rm -rf "$wd"; }
trap cleanup EXIT
start_dataway "$wd"
apiport=$(free_port)
agent_conf "$wd" "$apiport" "$dwport"
# 1 000 points, cpu-like: 4 tags, 10 fields, distinct series.
python3 - "$wd/body.lp" <<'PY'
import sys, time
t = int(time.time()) * 10**9
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        f.write(f"cpu,host=web-{i%50:02d}.example.com,cpu=cpu{i%8},zone=cn-hangzhou-b,ip=10.1.2.{i%250} "
                + ",".join(f"usage_{k}={(i*7+n)*0.173:.3f}" for n, k in enumerate(
                    ["user","system","idle","iowait","irq","softirq","steal","guest","nice","total"]))
                + f" {t + i}\n")
PY
env "$(journal_env)" "$bin" --workdir "$wd" run > "$wd/agent.out" 2>&1 & agent=$!
wait_ready "http://127.0.0.1:$apiport/v1/ping"
# utime + stime of the agent, in clock ticks.
ticks() { python3 -c 'import sys; print(sum(map(int, open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[11:13])))' "$agent"; }
t0=$(ticks)
LP_FILE="$wd/body.lp" LP_PATH=/v1/write/metric wrk -t2 -c8 -d"${secs}s" -s "$tools/post_body.lua" \
  "http://127.0.0.1:$apiport" | tee "$wd/wrk.out"
t1=$(ticks)
hwm=$(awk '/VmHWM/{print $2}' "/proc/$agent/status")
# Stopping flushes what the agent still holds, so every accepted point is delivered.
kill -TERM "$agent"; wait "$agent" || true
agent=
rate=$(awk '/^Requests\/sec/{print $2}' "$wd/wrk.out")
total=$(awk '/requests in/{print $1}' "$wd/wrk.out")
non2xx=$(awk '/Non-2xx/{print $5}' "$wd/wrk.out")
delivered=$(curl -s "http://127.0.0.1:$dwport/stats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("metric",{}).get("points",0))')
python3 - "$rate" "$total" "${non2xx:-0}" "$delivered" "$((t1 - t0))" "$(getconf CLK_TCK)" "$hwm" <<'PY'
import sys
rate, total, non2xx, delivered, ticks, hz, hwm = map(float, sys.argv[1:])
accepted = (total - non2xx) * 1000
ok = (total - non2xx) / total if total else 0
print(f"accepted: {rate * 1000 * ok:,.0f} points/s (non-2xx responses: {non2xx:.0f})")
print(f"delivered to the DataWay stand-in: {delivered:,.0f} points"
      f" ({delivered / accepted if accepted else 0:.3f} of the {accepted:,.0f} accepted)")
per_point = ticks / hz * 1e6 / accepted if accepted else 0
print(f"agent CPU while wrk ran: {ticks / hz:.2f} s, {per_point:.2f} µs per accepted point")
print(f"agent peak RSS: {hwm / 1024:.0f} MB")
PY
