#!/usr/bin/env bash
# Usage: benches/idle.sh [SECONDS] [WARMUP]   (defaults 60 and 30)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# Idle cost of the daemon: the agent on a fresh workdir with only the `dk` input and the
# default file sink, warmed up for WARMUP seconds, then benches/tools/idle_probe.py over
# SECONDS (CPU % of one core, RSS and peak RSS at the end), and its anonymous and file-backed
# RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-60}; warmup=${2:-30}
bin=$(datakit_bin)
wd=$(mktemp -d)
pid=
trap 'stop_pids "$pid"; rm -rf "$wd"' EXIT
port=$(free_port)
mkdir -p "$wd/conf.d"
cat > "$wd/conf.d/datakit.conf" <<CONF
default_enabled_inputs = ["dk"]
[http_api]
  listen = "127.0.0.1:$port"
CONF
"$bin" --workdir "$wd" run >/dev/null 2>&1 & pid=$!
sleep "$warmup"
python3 "$tools/idle_probe.py" "$pid" "$secs"
grep -E '^(RssAnon|RssFile)' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo
