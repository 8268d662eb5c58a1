#!/usr/bin/env bash
# Builds and runs the libffqrt kernel benchmark next to torch's int8.
# Usage: bench/kernels.sh [BUILD_DIR] [--quick] [--threads N] [--isa auto|avx2|avxvnni|avx512vnni|amx]
#        [--peers-isa match|native|avx2|avxvnni|avx512vnni]  (torch's ISA; 'match' = --isa's)
# (BUILD_DIR defaults to ./build). Timings alternate ours / torch over several rounds and
# report medians, so a busy machine slows both sides alike; an idle one gives cleaner numbers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then build=$1; shift; fi
python3 -c 'import torch' 2>/dev/null || pip install torch==2.13.0
[ -f "$build/build.ninja" ] || meson setup "$build" "$root"
ninja -C "$build" bench/ffqrt_bench_kernels runtime/libffqrt.so
exec python3 "$root/bench/kernels.py" --bench "$build/bench/ffqrt_bench_kernels" --lib "$build/runtime/libffqrt.so" "$@"
