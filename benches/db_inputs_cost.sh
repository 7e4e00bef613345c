#!/usr/bin/env bash
# Usage: benches/db_inputs_cost.sh [SECONDS] [INPUT...]   (default 120 s; inputs redis memcached nginx postgresql mysql)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# Cost of one collection of a database input against an idle private server (Debian's
# redis-server, memcached, nginx, postgresql, mariadb-server), and the memory the input adds: the release agent (or DATAKIT_BIN)
# with no input is measured first, then with one instance of each input collecting every
# second (protect mode off), each run warmed up for 10 s, then measured over SECONDS with
# benches/tools/idle_probe.py (CPU of the agent process only; the server's own CPU is not
# counted). Each input is measured with one instance and with five (against one server):
# CPU per collection = (CPU with five − CPU without) / (5 × seconds); RSS is given for the
# first instance (which also warms the IO path and starts a scrape thread: the agent without
# input never sends anything) and for each further one ((five − one) / 4).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-120}
shift || true
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(redis memcached nginx postgresql mysql)
bin=$(datakit_bin)
wd=$(mktemp -d)
agent= dw_pid= srv=
cleanup() { stop_pids "$agent" "$dw_pid" "$srv"; rm -rf "$wd"; }
trap cleanup EXIT
start_dataway "$wd"
apiport=$(free_port)
agent_conf "$wd" "$apiport" "$dwport"
printf 'protect_mode = false\n%s' "$(cat "$wd/conf.d/datakit.conf")" > "$wd/conf.d/datakit.conf"

measure() {
  "$bin" --workdir "$wd" run >/dev/null 2>&1 & agent=$!
  sleep 10
  python3 "$tools/idle_probe.py" "$agent" "$secs"
  stop_pids "$agent"; agent=
}

field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$2"; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
base=$(measure)
echo "no input, ${secs}s: $base"
for input in "${inputs[@]}"; do
  port=$(free_port)
  case $input in
    redis)
      redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$wd" \
        --logfile "$wd/redis.log" & srv=$!
      conf="[[inputs.redis]]
  host = \"127.0.0.1\"
  port = $port
  interval = \"1s\""
      ;;
    memcached)
      memcached -l 127.0.0.1 -p "$port" -U 0 $([ "$(id -u)" = 0 ] && echo -u root) & srv=$!
      conf="[[inputs.memcached]]
  servers = [\"127.0.0.1:$port\"]
  interval = \"1s\"
  extra_stats = [\"slabs\", \"items\"]"
      ;;
    nginx)
      mkdir -p "$wd/nginx/logs" "$wd/nginx/tmp"
      cat > "$wd/nginx/nginx.conf" <<NGX
daemon off;
master_process off;
pid $wd/nginx/nginx.pid;
error_log $wd/nginx/logs/error.log error;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $wd/nginx/tmp/body; proxy_temp_path $wd/nginx/tmp/proxy;
  fastcgi_temp_path $wd/nginx/tmp/fastcgi; uwsgi_temp_path $wd/nginx/tmp/uwsgi; scgi_temp_path $wd/nginx/tmp/scgi;
  server { listen 127.0.0.1:$port; location = /basic_status { stub_status; } }
}
NGX
      /usr/sbin/nginx -p "$wd/nginx" -e "$wd/nginx/logs/error.log" -c "$wd/nginx/nginx.conf" & srv=$!
      conf="[[inputs.nginx]]
  url = \"http://127.0.0.1:$port/basic_status\"
  interval = \"1s\""
      ;;
    postgresql)
      # A private cluster (initdb), run as the postgres user when this runs as root (the
      # server refuses root); the agent connects over TCP with a SCRAM password.
      pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
      asp=(); [ "$(id -u)" = 0 ] && asp=(runuser -u postgres --)
      mkdir -p "$wd/pg"; [ "$(id -u)" = 0 ] && chown postgres "$wd/pg" && chmod 755 "$wd"
      echo benchpw > "$wd/pg/pw"; [ "$(id -u)" = 0 ] && chown postgres "$wd/pg/pw"
      "${asp[@]}" "$pgbin/initdb" -D "$wd/pg/data" -U postgres --no-sync --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$wd/pg/pw" >/dev/null
      "${asp[@]}" "$pgbin/postgres" -D "$wd/pg/data" -k "$wd/pg" -p "$port" \
        -c listen_addresses=127.0.0.1 -c fsync=off >"$wd/pg/log" 2>&1 & srv=$!
      for _ in $(seq 100); do grep -q "ready to accept" "$wd/pg/log" 2>/dev/null && break; sleep 0.1; done
      conf="[[inputs.postgresql]]
  address = \"postgres://postgres:benchpw@127.0.0.1:$port/postgres?sslmode=disable\"
  interval = \"1s\""
      ;;
    mysql)
      # A private MariaDB with the input's user; every default metric set (innodb included).
      mariadb-install-db --datadir="$wd/mysql" --user="$(id -un)" --auth-root-authentication-method=normal \
        --skip-test-db >/dev/null
      printf '%s\n' "CREATE USER 'datakit'@'%' IDENTIFIED BY 'dkpw';" \
        "GRANT SELECT, PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'datakit'@'%';" > "$wd/mysql-init.sql"
      TMPDIR="$wd" /usr/sbin/mariadbd --no-defaults --datadir="$wd/mysql" --socket="$wd/mysqld.sock" \
        --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" --skip-name-resolve --skip-log-bin \
        --innodb-buffer-pool-size=16M --pid-file="$wd/mysqld.pid" --log-error="$wd/mysqld.err" \
        --init-file="$wd/mysql-init.sql" --tmpdir="$wd" & srv=$!
      for _ in $(seq 100); do grep -q "ready for connections" "$wd/mysqld.err" 2>/dev/null && break; sleep 0.1; done
      conf="[[inputs.mysql]]
  host = \"127.0.0.1\"
  port = $port
  user = \"datakit\"
  pass = \"dkpw\"
  interval = \"1s\""
      ;;
    *) echo "unknown input $input" >&2; exit 2 ;;
  esac
  sleep 1
  printf '%s\n' "$conf" > "$wd/conf.d/$input.conf"
  one=$(measure)
  for i in 2 3 4 5; do printf '%s\n' "$conf" >> "$wd/conf.d/$input.conf"; done
  five=$(measure)
  rm -f "$wd/conf.d/$input.conf"
  stop_pids "$srv"; srv=
  python3 - "$input" "$base" "$one" "$five" <<'PY'
import sys
def kv(s): return {k: float(v) for k, v in (x.split("=") for x in s.split())}
name, b, one, five = sys.argv[1], kv(sys.argv[2]), kv(sys.argv[3]), kv(sys.argv[4])
print(f"{name}, 1 instance every 1 s: {sys.argv[3]}")
print(f"{name}, 5 instances every 1 s: {sys.argv[4]}")
per = (five["cpu_s"] - b["cpu_s"]) / five["secs"] / 5 * 1000
print(f"{name}: {per:.2f} ms agent CPU per collection (5 instances against the baseline)")
print(f"{name}: RSS {(one['rss_kb'] - b['rss_kb']) / 1024:.2f} MB for the first instance (IO paths warmed, a scrape thread), "
      f"{(five['rss_kb'] - one['rss_kb']) / 4 / 1024:.2f} MB for each further one")
PY
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
