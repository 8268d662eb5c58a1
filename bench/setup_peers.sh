#!/usr/bin/env bash
# Creates the venv the end-to-end benchmark (bench/e2e.py) runs the peers in:
#   ~/.cache/ffq-bench-venv (or $FFQ_BENCH_VENV), made with --system-site-packages so it
#   sees the system python3's torch==2.13.0, plus pinned PyPI packages. A constraint file
#   pins torch to the installed version, so pip can never replace or upgrade it.
# Usage: bench/setup_peers.sh            (idempotent; prints the venv's python at the end)
set -euo pipefail
PY="${PYTHON:-python3}"
VENV="${FFQ_BENCH_VENV:-$HOME/.cache/ffq-bench-venv}"
TORCH=2.13.0
QUANTO=0.2.7
TORCHAO=0.18.0

have="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)"
if [ "$have" != "$TORCH" ]; then
    echo "setup_peers: $PY needs torch==$TORCH (found '${have:-none}'); install it first" >&2
    exit 1
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages "$VENV"
constraints="$VENV/constraints.txt"
printf 'torch==%s\n' "$TORCH" > "$constraints"
pip_install() {
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" "$@"
}
installed() {  # installed NAME VERSION
    [ "$("$VENV/bin/python" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p')" = "$2" ]
}
installed torchao "$TORCHAO" || pip_install "torchao==$TORCHAO"
installed optimum-quanto "$QUANTO" || pip_install "optimum-quanto==$QUANTO"
# Never a different torch: fail loudly if anything above changed it.
now="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
[ "$now" = "$TORCH" ] || { echo "setup_peers: torch changed to $now" >&2; exit 1; }
echo "$VENV/bin/python"
