#!/usr/bin/env bash
# Idle cost of the daemon running the nine host inputs at their default intervals (cpu, mem,
# swap, disk, diskio, net, system every 10 s; host_processes and hostobject every 5 min):
# CPU % of one core and RSS, measured by ../shared/tools/idle_cost.sh.
# Usage: benches/host_idle.sh [SECONDS]   (default 120; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
tool=${IDLE_COST:-../shared/tools/idle_cost.sh}
[ -x "$tool" ] || [ -f "$tool" ] || { echo "idle_cost.sh not found at $tool (set IDLE_COST)" >&2; exit 1; }
cargo build --release -q
wd=$(mktemp -d)
mkdir -p "$wd/conf.d"
cat > "$wd/conf.d/datakit.conf" <<CONF
default_enabled_inputs = ["cpu", "mem", "swap", "disk", "diskio", "net", "system", "host_processes", "hostobject"]
CONF
target/release/datakit --workdir "$wd" run >"$wd/stdout" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$wd"' EXIT
sleep 1
echo "datakit run (pid $pid): the nine host inputs, data to $wd/data/out, measured over ${secs}s"
bash "$tool" "$pid" "$secs"
echo "points written: $(cat "$wd"/data/out/*.lp 2>/dev/null | wc -l)"
