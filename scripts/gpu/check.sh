#!/usr/bin/env bash
# The GPU check, one command, on a machine with an NVIDIA GPU (a few minutes; 7.5 at most):
# the smoke preset's data, suite, training of every model, VoE scoring and planning, once on
# the CPU and once on CUDA (`bench device-check`); the total loss of each model's first three
# training steps must agree within 1e-3 (relative), and the table adds training samples/s and
# scoring movies/s on both devices, the relative accuracy each run scores, and the GPU memory
# used (peak, from nvidia-smi). Writes results/gpu-check/device-check.csv (or $1).
#
# Build the binary on a machine with the CUDA toolkit first (scripts/gpu/build.sh) and bring
# target-cuda/release/bench and target-cuda/gpu-lib/ (about 53 MiB) to the GPU machine; it
# needs no Rust there, only the driver and CUDA 13's cuBLAS and cuRAND (system libraries or
# NVIDIA's Python wheels, found below). DEVICE=cpu MORAVEC_BENCH=target/release/bench runs
# the same script without a GPU (with an nvidia-smi on PATH), to try it.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${MORAVEC_BENCH:-target-cuda/release/bench}
device=${DEVICE:-cuda}
out=${1:-results/gpu-check}
work=${WORK:-${TMPDIR:-/tmp}/moravec-gpu-check}
if [ ! -x "$bin" ]; then
    echo "check.sh: $bin is missing: build it with scripts/gpu/build.sh and bring it here" >&2
    exit 2
fi
if ! command -v nvidia-smi >/dev/null; then
    echo "check.sh: nvidia-smi not found: this check needs a machine with an NVIDIA GPU" >&2
    exit 2
fi

# CUDA 13's cuBLAS and cuRAND, where the system's loader does not know them: NVIDIA's wheels.
libs="$PWD/target-cuda/gpu-lib"
for so in libcublas.so.13 libcublasLt.so.13 libcurand.so.10; do
    if ! ldconfig -p 2>/dev/null | grep -q "$so"; then
        dir=$( (python3 - "$so" 2>/dev/null <<'PY'
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
for root in roots:
    for hit in glob.glob(os.path.join(root, "nvidia", "*", "lib", sys.argv[1])):
        print(os.path.dirname(hit))
        raise SystemExit
PY
            ) || true)
        if [ -z "$dir" ]; then
            dir=$(find /opt /usr/local /usr/lib -name "$so" 2>/dev/null | head -1 | xargs -r dirname)
        fi
        if [ -n "$dir" ]; then
            libs="$libs:$dir"
        else
            echo "check.sh: warning: $so not found; the CUDA run will fail to load it" >&2
        fi
    fi
done
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1 | tr -d ' ')
mem_log=$(mktemp)
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$mem_log" &
smi=$!
trap 'kill $smi 2>/dev/null || true; rm -f "$mem_log"' EXIT

status=0
timeout 450 "$bin" device-check --device "$device" --preset smoke --work "$work" --out "$out" \
    || status=$?
kill "$smi" 2>/dev/null || true
wait "$smi" 2>/dev/null || true

peak=$(tr -d ' ' <"$mem_log" | sort -n | tail -1)
peak=${peak:-$idle}
if [ -f "$out/device-check.csv" ]; then
    echo "$device,all,gpu_memory_used_mib,$idle,$peak,$((peak - idle)),,true" >>"$out/device-check.csv"
fi
echo "GPU memory used: ${peak} MiB at the peak, ${idle} MiB before the runs"
if [ "$status" -ne 0 ]; then
    echo "check.sh: the device check failed (exit $status)" >&2
fi
exit "$status"
