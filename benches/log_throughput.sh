#!/usr/bin/env bash
# Log tailing throughput: 1 M nginx access-log lines (../shared/tools/gen_nginx_log.py) copied
# into a file the `logging` input tails (source nginx, the built-in nginx.p script), delivered
# to the fake DataWay (../shared/tools/fake_dataway.py); ../shared/tools/log_throughput.sh
# reports lines/s end to end, the agent's CPU seconds and its peak RSS.
# Usage: benches/log_throughput.sh [LINES]   (default 1000000; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
tools=${TOOLS:-../shared/tools}
[ -f "$tools/log_throughput.sh" ] || { echo "log_throughput.sh not found in $tools (set TOOLS)" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || cargo build --release -q
wd=$(mktemp -d)
trap 'rm -rf "$wd"' EXIT
. benches/lib.sh
dwport=$(free_port); apiport=$(free_port)
agent_conf "$wd" "$apiport" "$dwport"
cat > "$wd/conf.d/nginx.conf" <<CONF
[[inputs.logging]]
  logfiles = ["/tmp/bench/tail/access.log"]
  source = "nginx"
CONF
log="$wd/access.log"
python3 "$tools/gen_nginx_log.py" "$lines" > "$log"
echo "tailing $lines nginx lines ($(du -h "$log" | cut -f1)) with $(git rev-parse --short HEAD)"
# The tool finds the agent with pgrep -f; the workdir makes the match unique.
AGENT_MATCH="workdir $wd run" bash "$tools/log_throughput.sh" \
  "exec ${DATAKIT_BIN:-$PWD/target/release/datakit} --workdir $wd run > $wd/agent.out 2>&1" "$log" "$lines" "$dwport"
