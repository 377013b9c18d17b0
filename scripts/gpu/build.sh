#!/usr/bin/env bash
# Builds `bench` with candle's CUDA backend on this (GPU-less) Debian 12 machine, into
# target-cuda/, for a machine that has an NVIDIA driver, CUDA 13's libraries and no registry.
#
# - nvcc: Debian 12's CUDA toolkit (11.8, in `non-free`), installed with apt when missing.
# - Kernels: CUDA 11.8 cannot emit Hopper's sm_90a, which candle's kernel builder asks for at
#   compute capability 90, so they are built for compute capability 8.0: PTX that the driver
#   compiles for the card it finds (Hopper included) when the program loads them.
# - Libraries: the GPU machine's CUDA is 13, so the bindings are CUDA 13's, and candle links
#   cuBLAS and cuRAND by name at build time: the binary is linked against CUDA 13's cuBLAS and
#   cuRAND from NVIDIA's wheels on PyPI (unpacked under target-cuda/cuda13, found through
#   CUDA_ROOT), so that it asks for libcublas.so.13 and libcurand.so.10, which the GPU machine's
#   CUDA 13 packages provide. libcudart.so.11.0 (candle's statically built MoE kernels need it)
#   is copied beside the binary (under 1 MiB); `scripts/gpu/check.sh` puts that folder and the
#   machine's CUDA 13 libraries on LD_LIBRARY_PATH.
#
# Output: target-cuda/release/bench and target-cuda/gpu-lib/ (what to carry: about 53 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nvcc >/dev/null; then
    if ! apt-cache policy nvidia-cuda-toolkit | grep -q 'Candidate: [0-9]'; then
        cat >/etc/apt/sources.list.d/moravec-non-free.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        apt-get update -q
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit
fi
nvcc --version | tail -1

cu13=$PWD/target-cuda/cuda13
if [ ! -e "$cu13/lib64/libcublas.so" ]; then
    mkdir -p "$cu13/wheels" "$cu13/lib64"
    python3 -m pip download -q --no-deps "nvidia-cublas>=13,<14" "nvidia-curand>=10.4,<11" \
        "nvidia-cuda-runtime>=13,<14" \
        -d "$cu13/wheels"
    python3 - "$cu13" <<'PY'
import glob, os, sys, zipfile
root = sys.argv[1]
for wheel in glob.glob(os.path.join(root, "wheels", "*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            base = os.path.basename(name)
            if base.startswith(("libcublas.so", "libcublasLt.so", "libcurand.so", "libcudart.so")):
                with open(os.path.join(root, "lib64", base), "wb") as f:
                    f.write(z.read(name))
PY
    (cd "$cu13/lib64" && ln -sf libcublas.so.13 libcublas.so && ln -sf libcublasLt.so.13 libcublasLt.so \
        && ln -sf libcurand.so.10 libcurand.so)
fi
export CUDA_ROOT="$cu13"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-80}"
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}"
cargo build --release -p moravec-bench --features cuda --target-dir target-cuda

mkdir -p target-cuda/gpu-lib
cudart=$(ldd target-cuda/release/bench | awk '/libcudart/ {print $3}')
if [ -n "$cudart" ]; then
    cp -L "$cudart" target-cuda/gpu-lib/
fi
ldd target-cuda/release/bench | grep -E 'cuda|cublas|curand' || true
ls -la target-cuda/release/bench target-cuda/gpu-lib/
