# Shared by the benches/*.sh scripts (sourced from the repository's root, not run).
# The tools they use are in benches/tools/.

tools=benches/tools

# A TCP port on 127.0.0.1 that the OS reports free now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Cargo's target directory (CARGO_TARGET_DIR or the build.target-dir setting are honoured).
target_dir() {
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# Prints the path of the datakit binary to measure: DATAKIT_BIN if set (nothing is built),
# else the release build, which is built first unless NO_BUILD is set.
datakit_bin() {
  if [ -n "${DATAKIT_BIN:-}" ]; then
    [ -x "$DATAKIT_BIN" ] || { echo "DATAKIT_BIN=$DATAKIT_BIN is not an executable" >&2; return 1; }
    realpath "$DATAKIT_BIN"
    return
  fi
  [ -n "${NO_BUILD:-}" ] || cargo build --release -q >&2
  local bin
  bin="$(target_dir)/release/datakit"
  [ -x "$bin" ] || { echo "$bin not found (build it, or set DATAKIT_BIN)" >&2; return 1; }
  echo "$bin"
}

# Starts the DataWay stand-in on a port the OS picks, with its port file in DIR; sets dw_pid
# and dwport. Further arguments go to the stand-in. Usage: start_dataway DIR [ARGS...]
start_dataway() {
  local dir=$1
  shift
  python3 "$tools/dataway_stub.py" --port-file "$dir/dataway.port" "$@" >/dev/null &
  dw_pid=$!
  local _
  for _ in $(seq 200); do
    [ -s "$dir/dataway.port" ] && break
    kill -0 "$dw_pid" 2>/dev/null || { echo "the DataWay stand-in did not start" >&2; return 1; }
    sleep 0.05
  done
  dwport=$(cat "$dir/dataway.port")
}

# The environment setting of the write-ahead journal: JOURNAL=off measures the agent with
# `[dataway.wal] journal = false` (points kept in memory until delivered), anything else with
# the default (on). Usage: env "$(journal_env)" AGENT...
journal_env() {
  if [ "${JOURNAL:-on}" = off ]; then
    echo ENV_DATAWAY_WAL_JOURNAL=false
  else
    echo ENV_DATAWAY_WAL_JOURNAL=true
  fi
}

# Waits up to 10 s for URL to answer. Usage: wait_ready URL
wait_ready() {
  local _
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "$1 did not answer within 10 s" >&2
  return 1
}

# Ends the processes whose ids are given (those still running), politely first.
# Usage: stop_pids PID...
stop_pids() {
  local p
  for p in "$@"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "$@"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
}

# WD/conf.d/datakit.conf for an agent with no default inputs, its HTTP API on 127.0.0.1:APIPORT
# (no rate limit) and the DataWay stand-in on 127.0.0.1:DWPORT.
# Usage: agent_conf WD APIPORT DWPORT
agent_conf() {
  mkdir -p "$1/conf.d"
  cat > "$1/conf.d/datakit.conf" <<CONF
default_enabled_inputs = []
[http_api]
  listen = "127.0.0.1:$2"
  request_rate_limit = 0.0
[dataway]
  urls = ["http://127.0.0.1:$3?token=tkn_bench"]
CONF
}
