#!/usr/bin/env bash
# Builds `bench` with candle's CUDA backend on this (GPU-less) Debian 12 machine, into
# target-cuda/, for a machine that has an NVIDIA driver, CUDA 13's libraries and no registry.
#
# - nvcc: Debian 12's CUDA toolkit (11.8, in `non-free`), installed with apt when missing.
# - Kernels: CUDA 11.8 cannot emit Hopper's sm_90a, which candle's kernel builder asks for at
#   compute capability 90, so they are built for compute capability 8.0: PTX that the driver
#   compiles for the card it finds (Hopper included) when the program loads them.
# - Libraries: the GPU machine's CUDA is 13, so the bindings are CUDA 13's (cudarc loads
#   libcuda, libcublas and libcurand at run time); the one library linked at build time,
#   libcudart.so.11.0 (candle's statically built MoE kernels need it), is copied beside the binary
#   (under 1 MiB). `scripts/gpu/check.sh` puts that folder on LD_LIBRARY_PATH.
#
# Output: target-cuda/release/bench and target-cuda/gpu-lib/ (what to carry: about 40 MiB).
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

export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-80}"
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}"
cargo build --release -p moravec-bench --features cuda --target-dir target-cuda

mkdir -p target-cuda/gpu-lib
cudart=$(ldd target-cuda/release/bench | awk '/libcudart/ {print $3}')
if [ -n "$cudart" ]; then
    cp -L "$cudart" target-cuda/gpu-lib/
fi
ls -la target-cuda/release/bench target-cuda/gpu-lib/
