#!/usr/bin/env bash
# CPU cost of the prom input in the daemon: the release agent scrapes a local
# prometheus-node-exporter every 10 s and ships to a fake DataWay (../shared/tools/fake_dataway.py).
# The same agent without any input is measured first as the baseline. Each run warms up for
# 15 s, then ../shared/tools/idle_cost.sh measures CPU (utime+stime of the agent only) over
# SECONDS. Usage: benches/prom_scrape_cost.sh [seconds]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
tools=${TOOLS:-../shared/tools}
cargo build --release -q
bin=$PWD/target/release/datakit
wd=$(mktemp -d)
cleanup() { kill "${agent:-}" "${dw:-}" "${ne:-}" 2>/dev/null || true; rm -rf "$wd"; }
trap cleanup EXIT
. benches/lib.sh
dwport=$(free_port); apiport=$(free_port); neport=$(free_port)
python3 "$tools/fake_dataway.py" "$dwport" & dw=$!
prometheus-node-exporter --web.listen-address="127.0.0.1:$neport" 2>/dev/null & ne=$!
agent_conf "$wd" "$apiport" "$dwport"
sleep 1
lines=$(curl -s "http://127.0.0.1:$neport/metrics" | grep -vc '^#')

measure() {
  "$bin" --workdir "$wd" run >/dev/null 2>&1 & agent=$!
  sleep 15
  "$tools/idle_cost.sh" "$agent" "$secs"
  kill "$agent"; wait "$agent" 2>/dev/null || true
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
echo "fake DataWay received: $(curl -s "http://127.0.0.1:$dwport/stats")"
