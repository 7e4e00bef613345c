#!/usr/bin/env bash
# Usage: benches/trace_ingest.sh [SECONDS]   (default 20; needs wrk and python3)
#        SAMPLE=0.01 runs the ddtrace sampler at that rate (default: no sampler);
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        JOURNAL=off runs without the write-ahead journal (default: on, as the agent ships).
# ddtrace receiver throughput end to end: wrk posts a /v0.4/traces msgpack body of 100 realistic
# traces of 5 spans (500 spans; benches/tools/gen_ddtrace.py) over 8 connections for SECONDS; the agent
# decodes, runs the span pipeline and delivers `tracing` points to the DataWay stand-in
# (benches/tools/dataway_stub.py), which counts them. Reports spans/s accepted (wrk) and
# delivered (stand-in), the agent's CPU per accepted span and its peak RSS.
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
{
  echo "[[inputs.ddtrace]]"
  if [ -n "${SAMPLE:-}" ]; then
    printf '  [inputs.ddtrace.sampler]\n    sampling_rate = %s\n' "$SAMPLE"
  fi
} > "$wd/conf.d/ddtrace.conf"
spans_per_body=500
python3 benches/tools/gen_ddtrace.py "$wd/body.msgpack" 100 5
env "$(journal_env)" "$bin" --workdir "$wd" run > "$wd/agent.out" 2>&1 & agent=$!
wait_ready "http://127.0.0.1:$apiport/v1/ping"
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$apiport/v0.4/traces")" = 200 ] && break
  sleep 0.1
done
ticks() { python3 -c 'import sys; print(sum(map(int, open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[11:13])))' "$agent"; }
t0=$(ticks)
LP_FILE="$wd/body.msgpack" LP_PATH=/v0.4/traces LP_TYPE=application/msgpack \
  wrk -t2 -c8 -d"${secs}s" -s "$tools/post_body.lua" "http://127.0.0.1:$apiport" | tee "$wd/wrk.out"
t1=$(ticks)
hwm=$(awk '/VmHWM/{print $2}' "/proc/$agent/status")
# Stopping flushes what the agent still holds, so every accepted span is delivered.
kill -TERM "$agent"; wait "$agent" || true
agent=
rate=$(awk '/^Requests\/sec/{print $2}' "$wd/wrk.out")
total=$(awk '/requests in/{print $1}' "$wd/wrk.out")
non2xx=$(awk '/Non-2xx/{print $5}' "$wd/wrk.out")
delivered=$(curl -s "http://127.0.0.1:$dwport/stats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("tracing",{}).get("points",0))')
python3 - "$rate" "$total" "${non2xx:-0}" "$delivered" "$((t1 - t0))" "$(getconf CLK_TCK)" "$hwm" "$spans_per_body" "$secs" <<'PY'
import sys
rate, total, non2xx, delivered, ticks, hz, hwm, per, secs = map(float, sys.argv[1:])
accepted = (total - non2xx) * per
ok = (total - non2xx) / total if total else 0
print(f"accepted: {rate * per * ok:,.0f} spans/s (non-2xx responses: {non2xx:.0f})")
print(f"delivered to the DataWay stand-in: {delivered:,.0f} points, {delivered / secs:,.0f}/s"
      f" ({delivered / accepted if accepted else 0:.3f} of the {accepted:,.0f} accepted spans)")
per_span = ticks / hz * 1e6 / accepted if accepted else 0
print(f"agent CPU while wrk ran: {ticks / hz:.2f} s, {per_span:.2f} µs per accepted span")
print(f"agent peak RSS: {hwm / 1024:.0f} MB")
PY
