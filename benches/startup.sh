#!/usr/bin/env bash
# Usage: benches/startup.sh   (needs hyperfine)
#        DATAKIT_BIN=path measures that binary; NO_BUILD=1 skips building the release binary.
# Start-up cost of the CLI: `datakit --version` and `check-config` on a 50-file conf.d.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
bin=$(datakit_bin)
wd=$(mktemp -d)
trap 'rm -rf "$wd"' EXIT
mkdir -p "$wd/conf.d"
cp conf.d/datakit.conf "$wd/conf.d/"
for i in $(seq 1 50); do
  # Every file holds a real input with its default regex filters (validated on load).
  printf '[[inputs.dk]]\n  interval = "30s"\n  [inputs.dk.tags]\n    file = "%s"\n' "$i" > "$wd/conf.d/in$i.conf"
done
hyperfine -N --warmup 5 "$bin --version" "$bin --workdir $wd check-config" "$bin --workdir $wd check-config --json"
