# Shared by the benches/*.sh scripts (sourced, not run).

# A TCP port on 127.0.0.1 that is free now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# WD/conf.d/datakit.conf for an agent with no default inputs, its HTTP API on 127.0.0.1:APIPORT
# (no rate limit) and the fake DataWay on 127.0.0.1:DWPORT.
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
