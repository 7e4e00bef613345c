#!/usr/bin/env bash
# Usage: benches/host_idle.sh [SECONDS]   (default 120)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# Idle cost of the daemon running the nine host inputs at their default intervals (cpu, mem,
# swap, disk, diskio, net, system every 10 s; host_processes and hostobject every 5 min):
# CPU % of one core and RSS, measured by benches/tools/idle_probe.py.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-120}
bin=$(datakit_bin)
wd=$(mktemp -d)
pid=
trap 'stop_pids "$pid"; rm -rf "$wd"' EXIT
mkdir -p "$wd/conf.d"
cat > "$wd/conf.d/datakit.conf" <<CONF
default_enabled_inputs = ["cpu", "mem", "swap", "disk", "diskio", "net", "system", "host_processes", "hostobject"]
[http_api]
  listen = "127.0.0.1:$(free_port)"
CONF
"$bin" --workdir "$wd" run >"$wd/stdout" 2>&1 & pid=$!
sleep 1
echo "datakit run (pid $pid): the nine host inputs, data to $wd/data/out, measured over ${secs}s"
python3 "$tools/idle_probe.py" "$pid" "$secs"
echo "points written: $(cat "$wd"/data/out/*.lp 2>/dev/null | wc -l)"
