#!/usr/bin/env bash
# Usage: benches/statsd_udp.sh [SECONDS] [RATE...]   (defaults 10, and 100000 250000 500000
#        750000 1000000 lines/s)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        SERIES=N sends N series (default 1000); JOURNAL=off runs without the journal.
# The statsd input under UDP load: the release agent with one `statsd` instance on a loopback
# port (default options: 10 s interval, 4 MiB receive buffer asked, 128 queued chunks),
# delivering to the DataWay stand-in; benches/tools/statsd_load.py sends DogStatsD datagrams
# at each rate for SECONDS and reports the loss at the socket and at the queue and the agent's
# CPU per line. Then the idle cost of the enabled input: the same agent idle, against one with
# no input, each over 60 s with benches/tools/idle_probe.py.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-10}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(100000 250000 500000 750000 1000000)
bin=$(datakit_bin)
wd=$(mktemp -d)
pid= dw_pid=
trap 'stop_pids "$pid" "$dw_pid"; rm -rf "$wd"' EXIT
start_dataway "$wd"
apiport=$(free_port)
port=$(free_port)
start_agent() {
  agent_conf "$wd" "$apiport" "$dwport"
  if [ "$1" = statsd ]; then
    cat > "$wd/conf.d/statsd.conf" <<CONF
[[inputs.statsd]]
  service_address = "127.0.0.1:$port"
  service_unix_address = ""
CONF
  else
    rm -f "$wd/conf.d/statsd.conf"
  fi
  env "$(journal_env)" "$bin" --workdir "$wd" run >"$wd/agent.out" 2>&1 & pid=$!
  wait_ready "http://127.0.0.1:$apiport/v1/ping"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
start_agent statsd
python3 "$tools/statsd_load.py" --pid "$pid" --port "$port" --api "$apiport" \
  --seconds "$secs" --series "${SERIES:-1000}" "${rates[@]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_pids "$pid"
# Idle: a fresh agent with the statsd input, then one without; 10 s to settle, 60 s measured.
for what in statsd none; do
  rm -rf "$wd/cache" "$wd/data"
  start_agent "$what"
  sleep 10
  printf '%-7s ' "$what"; python3 "$tools/idle_probe.py" "$pid" 60
  stop_pids "$pid"
done
