#!/usr/bin/env bash
# Usage: benches/prom_scrape_cost.sh [SECONDS]   (default 300; needs prometheus-node-exporter)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# CPU cost of the prom input in the daemon: the agent scrapes a local prometheus-node-exporter
# every 10 s and ships to the DataWay stand-in (benches/tools/dataway_stub.py). The same agent
# without any input is measured first as the baseline. Each run warms up for 15 s, then
# benches/tools/idle_probe.py measures CPU (utime+stime of the agent only) over SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-300}
bin=$(datakit_bin)
wd=$(mktemp -d)
agent= dw_pid= ne=
cleanup() { stop_pids "$agent" "$dw_pid" "$ne"; rm -rf "$wd"; }
trap cleanup EXIT
start_dataway "$wd"
apiport=$(free_port); neport=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$neport" 2>/dev/null & ne=$!
agent_conf "$wd" "$apiport" "$dwport"
wait_ready "http://127.0.0.1:$neport/metrics"
lines=$(curl -s "http://127.0.0.1:$neport/metrics" | grep -vc '^#')

measure() {
  "$bin" --workdir "$wd" run >/dev/null 2>&1 & agent=$!
  sleep 15
  python3 "$tools/idle_probe.py" "$agent" "$secs"
  stop_pids "$agent"; agent=
}

echo "baseline (no input), ${secs}s:"
measure
cat > "$wd/conf.d/prom.conf" <<CONF
[[inputs.prom]]
  urls = ["http://127.0.0.1:$neport/metrics"]
  interval = "10s"
CONF
echo "prom scraping node_exporter ($lines samples) every 10 s, ${secs}s:"
measure
echo "DataWay stand-in received: $(curl -s "http://127.0.0.1:$dwport/stats")"
