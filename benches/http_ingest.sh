#!/usr/bin/env bash
# HTTP ingest throughput: wrk posts 1 000-point line-protocol bodies to /v1/write/metric over 8
# connections for 20 s; the agent delivers to the fake DataWay (../shared/tools/fake_dataway.py).
# Reports points/s accepted (wrk) and delivered (fake DataWay counts), and the agent's peak RSS.
# Usage: benches/http_ingest.sh [seconds]   (needs wrk and python3; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
tools=${TOOLS:-../shared/tools}
cargo build --release -q
wd=$(mktemp -d)
cleanup() { kill "${agent:-}" "${dw:-}" 2>/dev/null || true; rm -rf "$wd"; }
trap cleanup EXIT
. benches/lib.sh
dwport=$(free_port); apiport=$(free_port)
python3 "$tools/fake_dataway.py" "$dwport" & dw=$!
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
./target/release/datakit --workdir "$wd" run > "$wd/agent.out" 2>&1 & agent=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$apiport/v1/ping" >/dev/null && break; sleep 0.1; done
LP_FILE="$wd/body.lp" LP_PATH=/v1/write/metric wrk -t2 -c8 -d"${secs}s" -s "$tools/post_lp.lua" \
  "http://127.0.0.1:$apiport" | tee "$wd/wrk.out"
reqs=$(awk '/^Requests\/sec/{print $2}' "$wd/wrk.out")
non2xx=$(awk '/Non-2xx/{print $5}' "$wd/wrk.out"); non2xx=${non2xx:-0}
hwm=$(awk '/VmHWM/{print $2}' "/proc/$agent/status")
kill -TERM "$agent"; wait "$agent" || true; agent=
delivered=$(curl -s "http://127.0.0.1:$dwport/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("metric",{}).get("points",0))')
echo "accepted: $(python3 -c "print(f'{$reqs*1000:,.0f}')") points/s (non-2xx responses: $non2xx)"
echo "delivered to the fake DataWay: $delivered points (every accepted point: $(python3 -c "print(round($delivered/($reqs*1000*$secs),3))") of accepted)"
echo "agent peak RSS: $((hwm/1024)) MB"
