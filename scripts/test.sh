#!/usr/bin/env bash
# Every test, on a fresh machine: installs what the tests need (numpy and safetensors in .venv for
# the Python round trip of datasets), then runs the whole cargo test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import numpy, safetensors" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
export MORAVEC_PYTHON="$PWD/.venv/bin/python"
cargo test --workspace
