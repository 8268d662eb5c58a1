#!/bin/sh
# bench/types.sh: the cost of type inference. Times `ffq autoquant` on the
# largest torchvision model file with and without --no-type-inference.
#
# Usage: bench/types.sh [FFQ_BINARY] [REPETITIONS]
set -eu
FFQ=${1:-build/src/ffq}
N=${2:-50}
PY=${PYTHON:-/usr/bin/python3}  # the interpreter ffq asks for its site-packages
DIR=/usr/lib/python3/dist-packages/torchvision/models
FILE=$(ls -S "$DIR"/*.py | grep -v __init__ | head -n 1)
MOD=torchvision.models.$(basename "$FILE" .py)
OUT=$(mktemp /tmp/ffq-types-bench.XXXXXX.py)
trap 'rm -f "$OUT"' EXIT

run() {  # run N times, print the elapsed seconds
    start=$(date +%s.%N)
    i=0
    while [ "$i" -lt "$N" ]; do
        "$FFQ" autoquant "$FILE" --module "$MOD" --python "$PY" -q -o "$OUT" -f "$@" >/dev/null 2>&1 || true
        i=$((i + 1))
    done
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

run >/dev/null  # warm the page cache
on=$(run)
off=$(run --no-type-inference)
printf 'file: %s (%s lines), %s runs each\n' "$FILE" "$(wc -l < "$FILE")" "$N"
printf 'inference on : %.3f s total, %.2f ms/run\n' "$on" "$(echo "$on * 1000 / $N" | bc -l)"
printf 'inference off: %.3f s total, %.2f ms/run\n' "$off" "$(echo "$off * 1000 / $N" | bc -l)"
printf 'ratio on/off : %.3f\n' "$(echo "$on / $off" | bc -l)"
