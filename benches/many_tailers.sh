#!/usr/bin/env bash
# Usage: benches/many_tailers.sh [INSTANCES] [LINES]   (defaults 1000 and 1000000)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary;
#        IDLE=S measures the idle CPU over S seconds (default 20); TIMEOUT=S gives up on the
#        lines after S seconds (default 300).
# Many `logging` instances (issue 22, findings 1 and 2): INSTANCES instances, each tailing its
# own file (source nginx, so the built-in nginx.p runs on every line, as in
# benches/log_throughput.sh), cpu and mem every second, [io] flush_interval 1 s. Once the agent
# has started every instance, benches/tools/many_tailers.py reports its threads, RSS, inotify
# instances, idle CPU and how often cpu and mem collected; then it spreads LINES nginx lines (benches/tools/gen_nginx_log.py)
# over the files and reports the time until 99 % and 100 % had arrived at the DataWay
# stand-in, lines/s, CPU per line and peak RSS. INSTANCES=1 is the single-file throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
n=${1:-1000}
lines=${2:-1000000}
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
  flush_interval = "1s"
CONF
python3 - "$wd" "$n" <<'PY'
import sys
wd, n = sys.argv[1], int(sys.argv[2])
with open(f"{wd}/conf.d/logs.conf", "w") as f:
    for i in range(n):
        path = f"{wd}/tail/f{i}.log"
        open(path, "w").close()
        f.write(f'[[inputs.logging]]\n  logfiles = ["{path}"]\n  source = "nginx"\n')
with open(f"{wd}/conf.d/host.conf", "w") as f:
    f.write('[[inputs.cpu]]\n  interval = "1s"\n[[inputs.mem]]\n  interval = "1s"\n')
PY
log="$wd/access.log"
python3 "$tools/gen_nginx_log.py" "$lines" > "$log"
built=$("$bin" --version 2>/dev/null | awk '/^commit:/{print $2}')
echo "$n instances, $lines nginx lines ($(du -h "$log" | cut -f1)) with $bin (commit ${built:-unknown})"
files=()
for ((i = 0; i < n; i++)); do files+=("$wd/tail/f$i.log"); done
python3 "$tools/many_tailers.py" --log "$log" --lines "$lines" --files "${files[@]}" \
  --ready-url "http://127.0.0.1:$apiport/v1/ping" --idle "${IDLE:-20}" \
  --timeout "${TIMEOUT:-300}" --agent-log "$wd/agent.out" \
  -- env "ENV_DATAWAY={dataway}?token=tkn_bench" "$(journal_env)" "$bin" --workdir "$wd" run &
driver=$!
wait "$driver" ||
  { rc=$?; driver=; echo "the agent's last log lines:" >&2; tail -n 5 "$wd/agent.out" >&2; exit "$rc"; }
driver=
