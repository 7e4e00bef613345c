#!/usr/bin/env bash
# Usage: benches/log_throughput.sh [LINES]   (default 1000000)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        FLUSH_INTERVAL=10s runs with another [io] flush_interval (default 1s);
#        JOURNAL=off runs without the write-ahead journal (default: on, as the agent ships).
# Log tailing throughput: LINES nginx access-log lines (benches/tools/gen_nginx_log.py) copied
# into a file the `logging` input tails (source nginx, the built-in nginx.p script), delivered
# to the DataWay stand-in; benches/tools/log_throughput.py reports the time until 99 % and
# 100 % of the lines had arrived, lines/s, the agent's CPU seconds and its peak RSS.
#
# The agent sends a batch once more than [io] max_cache_count (1 000) points wait, or every
# [io] flush_interval (10 s by default). The last partial batch of a run therefore waits for
# the interval, which would dominate the time to the last point; the bench sets the interval
# to 1 s (FLUSH_INTERVAL) and also reports the 99 % time, which does not depend on it.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
lines=${1:-1000000}
bin=$(datakit_bin)
wd=$(mktemp -d)
driver=
trap 'stop_pids "$driver"; rm -rf "$wd"' EXIT
apiport=$(free_port)
mkdir -p "$wd/conf.d" "$wd/tail"
cat > "$wd/conf.d/datakit.conf" <<CONF
default_enabled_inputs = []
[http_api]
  listen = "127.0.0.1:$apiport"
[io]
  flush_interval = "${FLUSH_INTERVAL:-1s}"
CONF
cat > "$wd/conf.d/nginx.conf" <<CONF
[[inputs.logging]]
  logfiles = ["$wd/tail/access.log"]
  source = "nginx"
CONF
log="$wd/access.log"
python3 "$tools/gen_nginx_log.py" "$lines" > "$log"
built=$("$bin" --version 2>/dev/null | awk '/^commit:/{print $2}')
echo "tailing $lines nginx lines ($(du -h "$log" | cut -f1)) with $bin (commit ${built:-unknown}), flush_interval ${FLUSH_INTERVAL:-1s}"
# The driver stops the agent and the stand-in it started; it runs in the background so that a
# signal to this script reaches it through the trap. {dataway} is the stand-in's URL.
python3 "$tools/log_throughput.py" --log "$log" --lines "$lines" --tail "$wd/tail/access.log" \
  --ready-url "http://127.0.0.1:$apiport/v1/ping" --agent-log "$wd/agent.out" \
  -- env "ENV_DATAWAY={dataway}?token=tkn_bench" "$(journal_env)" "$bin" --workdir "$wd" run &
driver=$!
wait "$driver" ||
  { rc=$?; driver=; echo "the agent's last log lines:" >&2; tail -n 20 "$wd/agent.out" >&2; exit "$rc"; }
driver=
