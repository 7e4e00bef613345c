#!/usr/bin/env bash
# Usage: benches/otlp_ingest.sh [SECONDS]   (default 20; needs wrk, and python3 with
#        opentelemetry-proto: the test environment's, `tests/run --install-only`)
#        SIGNAL=metrics posts metrics instead of traces; SAMPLE=0.01 runs the sampler (traces);
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        JOURNAL=off runs without the write-ahead journal (default: on, as the agent ships).
# The opentelemetry receiver end to end over OTLP/HTTP protobuf: wrk posts an export request to
# /otel/v1/traces (64 traces × 8 realistic spans = 512 spans: benches/tools/gen_otlp.py) or
# /otel/v1/metrics (512 data points of sums, gauges and histograms) over 8 connections for
# SECONDS; the agent decodes, maps, runs the span pipeline and delivers the points to the
# DataWay stand-in (benches/tools/dataway_stub.py), which counts them. Reports items/s
# accepted (wrk) and points delivered (stand-in), the agent's CPU per accepted item (utime +
# stime from /proc) and its peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-20}
signal=${SIGNAL:-traces}
venv=${DATAKIT_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/datakit-tests}/venv
py=python3
[ -x "$venv/bin/python3" ] && py=$venv/bin/python3
bin=$(datakit_bin)
wd=$(mktemp -d)
agent= dw_pid=
cleanup() { stop_pids "$agent" "$dw_pid"; rm -rf "$wd"; }
trap cleanup EXIT
start_dataway "$wd"
apiport=$(free_port)
agent_conf "$wd" "$apiport" "$dwport"
{
  echo "[[inputs.opentelemetry]]"
  if [ -n "${SAMPLE:-}" ]; then
    printf '  [inputs.opentelemetry.sampler]\n    sampling_rate = %s\n' "$SAMPLE"
  fi
  printf '  [inputs.opentelemetry.grpc]\n    addr = ""\n'
} > "$wd/conf.d/otel.conf"
if [ "$signal" = metrics ]; then
  read -r per_body points_per_body < <("$py" benches/tools/gen_otlp.py "$wd/body.pb" metrics 512)
  path=/otel/v1/metrics category=metric
else
  per_body=$("$py" benches/tools/gen_otlp.py "$wd/body.pb" traces 64 8)
  points_per_body=$per_body path=/otel/v1/traces category=tracing
fi
env "$(journal_env)" "$bin" --workdir "$wd" run > "$wd/agent.out" 2>&1 & agent=$!
wait_ready "http://127.0.0.1:$apiport/v1/ping"
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/x-protobuf' --data-binary '' "http://127.0.0.1:$apiport$path")" = 200 ] && break
  sleep 0.1
done
ticks() { python3 -c 'import sys; print(sum(map(int, open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[11:13])))' "$agent"; }
t0=$(ticks)
LP_FILE="$wd/body.pb" LP_PATH=$path LP_TYPE=application/x-protobuf \
  wrk -t2 -c8 -d"${secs}s" -s "$tools/post_body.lua" "http://127.0.0.1:$apiport" | tee "$wd/wrk.out"
t1=$(ticks)
hwm=$(awk '/VmHWM/{print $2}' "/proc/$agent/status")
# Stopping flushes what the agent still holds, so every accepted item is delivered.
kill -TERM "$agent"; wait "$agent" || true
agent=
rate=$(awk '/^Requests\/sec/{print $2}' "$wd/wrk.out")
total=$(awk '/requests in/{print $1}' "$wd/wrk.out")
non2xx=$(awk '/Non-2xx/{print $5}' "$wd/wrk.out")
delivered=$(curl -s "http://127.0.0.1:$dwport/stats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1],{}).get("points",0))' "$category")
python3 - "$rate" "$total" "${non2xx:-0}" "$delivered" "$((t1 - t0))" "$(getconf CLK_TCK)" "$hwm" "$per_body" "$points_per_body" "$secs" "$signal" <<'PY'
import sys
rate, total, non2xx, delivered, ticks, hz, hwm, per, pts, secs = map(float, sys.argv[1:11])
what = "spans" if sys.argv[11] == "traces" else "data points"
ok_bodies = total - non2xx
accepted = ok_bodies * per
print(f"accepted: {rate * per * (ok_bodies / total if total else 0):,.0f} {what}/s (non-2xx responses: {non2xx:.0f})")
print(f"delivered to the DataWay stand-in: {delivered:,.0f} points, {delivered / secs:,.0f}/s"
      f" ({delivered / (ok_bodies * pts) if ok_bodies else 0:.3f} of the {ok_bodies * pts:,.0f} points of the accepted bodies)")
per_item = ticks / hz * 1e6 / accepted if accepted else 0
print(f"agent CPU while wrk ran: {ticks / hz:.2f} s, {per_item:.2f} µs per accepted {what[:-1]}")
print(f"agent peak RSS: {hwm / 1024:.0f} MB")
PY
