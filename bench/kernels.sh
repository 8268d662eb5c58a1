#!/usr/bin/env bash
# Builds and runs the libffqrt kernel benchmark next to torch.
# Usage: bench/kernels.sh [BUILD_DIR] [--quick]     (BUILD_DIR defaults to ./build)
# Run it on an otherwise idle machine: it measures wall-clock throughput on both cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
python3 -c 'import torch' 2>/dev/null || pip install torch==2.13.0
[ -f "$build/build.ninja" ] || meson setup "$build" "$root"
ninja -C "$build" bench/ffqrt_bench_kernels
ninja -C "$build" runtime/libffqrt.so
exec python3 "$root/bench/kernels.py" --bench "$build/bench/ffqrt_bench_kernels" --lib "$build/runtime/libffqrt.so" "$@"
