#!/usr/bin/env bash
# Every test, on a fresh machine: installs what the tests need (numpy and safetensors in .venv for
# the Python round trip of datasets; Mesa's software Vulkan and Xvfb for the viewer), runs the
# whole cargo test suite, runs the viewer's window once under Xvfb, and prints the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import numpy, safetensors" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
export MORAVEC_PYTHON="$PWD/.venv/bin/python"
# The viewer renders with Mesa's software Vulkan (lavapipe): headless into an image in its tests,
# and in a window under Xvfb below.
if ! { command -v xvfb-run >/dev/null && ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; }; then
  sudo=$(command -v sudo || true)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    mesa-vulkan-drivers libvulkan1 xvfb xauth libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 \
    libxkbcommon-x11-0 >/dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
# The windowed mode once, under a virtual display: 30 frames, a screenshot of the window, exit.
shot=$(mktemp --suffix=.png)
window=0
if xvfb-run -a -s "-screen 0 1024x768x24" target/debug/view --scene cart_platform --seed 3 \
     --frames 30 --width 400 --height 300 --screenshot "$shot" >>"$log" 2>&1 && [ -s "$shot" ]; then
  echo "test result: ok. 1 passed; 0 failed (view in a window under Xvfb)" | tee -a "$log"
else
  echo "test result: FAILED. 0 passed; 1 failed (view in a window under Xvfb)" | tee -a "$log"
  window=1
fi
rm -f "$shot"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit $window
