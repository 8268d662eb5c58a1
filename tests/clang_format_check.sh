#!/usr/bin/env bash
# tests/clang_format_check.sh [CLANG_FORMAT]: exit 1 and list the files of
# src/ and runtime/ that .clang-format would change (the test 'clang-format',
# suite style; scripts/test installs clang-format). To lay a file out:
# clang-format -i --style=file FILE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cf="${1:-clang-format}"
if ! command -v "$cf" >/dev/null; then
    echo "SKIP: $cf not found"
    exit 77
fi
cd "$root"
bad=0
while IFS= read -r f; do
    if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
        echo "needs formatting: $f"
        bad=1
    fi
done < <(git ls-files 'src/*.c' 'src/*.h' 'runtime/*.c' 'runtime/*.h')
exit $bad
