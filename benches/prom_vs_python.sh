#!/usr/bin/env bash
# Parse speed of the prom input's parser against Python's prometheus_client on the same file
# (tests/data/prom/node_exporter.prom, a full node_exporter scrape), in the same run.
# Both are timed in CPU time of the parsing thread, so load from other work on the machine
# does not count. Python consumes every family and sample (its parser is a generator).
# Usage: benches/prom_vs_python.sh [file]   (needs python3 with the PyPI package prometheus-client)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
file=${1:-tests/data/prom/node_exporter.prom}
[ "$file" = tests/data/prom/node_exporter.prom ] || { echo "the criterion bench reads tests/data/prom/node_exporter.prom" >&2; exit 2; }

py_us=$(python3 - "$file" <<'PY'
import sys, time
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8").read()
def run():
    n = 0
    for fam in text_string_to_metric_families(text):
        n += len(fam.samples)
    return n
run()
best = None
for _ in range(7):
    t0 = time.thread_time(); k = 20
    for _ in range(k):
        run()
    dt = (time.thread_time() - t0) / k
    best = dt if best is None else min(best, dt)
print(f"{best * 1e6:.1f}")
PY
)

cargo bench --bench prom -- 'cpu/node_exporter/' >/dev/null 2>&1
est() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['$2']['point_estimate']/1000, 2))" "$1"; }
crit=$(target_dir)/criterion
ours_us=$(est "$crit/cpu_node_exporter/parse/new/estimates.json" median)
conv_us=$(est "$crit/cpu_node_exporter/parse_convert/new/estimates.json" median)
bytes=$(wc -c < "$file"); lines=$(wc -l < "$file")
echo "file: $file ($bytes bytes, $lines lines)"
echo "python prometheus_client $(python3 -c 'import importlib.metadata as m; print(m.version("prometheus-client"))'): ${py_us} µs cpu (best of 7 × 20)"
echo "ours, parse:               ${ours_us} µs cpu (criterion median)"
echo "ours, parse + convert:     ${conv_us} µs cpu"
python3 -c "print(f'ratio python / ours: parse {$py_us/$ours_us:.1f}x, parse+convert {$py_us/$conv_us:.1f}x')"
