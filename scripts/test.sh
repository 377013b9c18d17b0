#!/usr/bin/env bash
# Every test, on a fresh machine: installs what the tests need (numpy and safetensors in .venv for
# the Python round trip of datasets), then runs the whole cargo test suite and prints the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import numpy, safetensors" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
export MORAVEC_PYTHON="$PWD/.venv/bin/python"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
