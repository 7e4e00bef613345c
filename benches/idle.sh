#!/usr/bin/env bash
# Idle cost of the daemon (issue 4): the release agent on a fresh workdir with only the `dk`
# input and the default file sink, warmed up for WARMUP seconds, then
# ../shared/tools/idle_cost.sh over SECONDS (CPU % of one core, RSS and peak RSS at the end).
# Usage: benches/idle.sh [seconds=60] [warmup=30]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; warmup=${2:-30}
tools=${TOOLS:-../shared/tools}
cargo build --release -q
wd=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$wd"' EXIT
. benches/lib.sh
port=$(free_port)
mkdir -p "$wd/conf.d"
cat > "$wd/conf.d/datakit.conf" <<CONF
default_enabled_inputs = ["dk"]
[http_api]
  listen = "127.0.0.1:$port"
CONF
./target/release/datakit --workdir "$wd" run >/dev/null 2>&1 & pid=$!
sleep "$warmup"
"$tools/idle_cost.sh" "$pid" "$secs"
grep -E '^(RssAnon|RssFile)' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo
