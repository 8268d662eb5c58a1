#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
#
# Runs the libFuzzer targets of a `-Dfuzz=true` build (see meson.build), each
# for SECONDS_PER_TARGET (default 40), two at a time (both cores), starting
# from seed corpora made from tests/cases/ and the operator tables
# (tests/fuzz/seed.py) plus, when present, the kept corpus
# tests/fuzz/corpus-<target>/ (gitignored; longer runs grow it, see README.md).
# New interesting inputs of a short run go to a temporary directory.
#
# With --seed=N (before the targets), the run is reproducible: libFuzzer's
# random seed is N and each target stops after a fixed number of executions
# (SECONDS times the target's nominal rate on our 2-core machines, below),
# so the same commit explores the same inputs on every machine; a machine
# more than 3x slower is cut at 3 x SECONDS and explores less. The test
# command's short run uses it: a finding there reproduces, and the run cannot
# fail on one commit and pass on the next by chance. Without --seed, runs are
# random and timed (exploratory runs, which find new bugs).
#
# Exit status 0 when no target found a crash, leak, timeout or sanitizer
# report; otherwise 1, with the reproducers in tests/fuzz/crashes-<date>/
# (reproduce one with: BUILD_DIR/tests/fuzz/fuzz_<target> FILE).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]}" && pwd)"
secs="${2:-40}"
shift $(( $# >= 2 ? 2 : $# ))
seed=""
targets=()
for a in "$@"; do
    case "$a" in
    --seed=*) seed="${a#--seed=}" ;;
    *) targets+=("$a") ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(compile optable pattern format)

# Nominal executions per second of each target (ASan+UBSan build, one core).
nominal_rate() {
    case "$1" in
    pattern) echo 1000 ;;
    format) echo 300 ;;
    *) echo 250 ;;
    esac
}

work="$(mktemp -d "${TMPDIR:-/tmp}/ffq-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python3 "$here/seed.py" "$root" "$work/seeds" >&2 || exit 2
crashes="$here/crashes-$(date +%Y%m%d)"

run_target() {
    local t="$1" exe="$build/tests/fuzz/fuzz_$1"
    if [ ! -x "$exe" ]; then echo "fuzz_$t: $exe not built" >"$work/$t.log"; echo 2 >"$work/$t.rc"; return; fi
    mkdir -p "$work/new-$t" "$crashes"
    local dirs=("$work/new-$t" "$work/seeds/$t")
    [ -d "$here/corpus-$t" ] && dirs+=("$here/corpus-$t")
    local dict=() limits=("-max_total_time=$secs")
    [ -f "$here/$t.dict" ] && dict=("-dict=$here/$t.dict")
    [ -n "$seed" ] && limits=("-seed=$seed" "-runs=$(($(nominal_rate "$t") * secs))" "-max_total_time=$((3 * secs))")
    ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$exe" "${dict[@]}" "${limits[@]}" -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/$t-" \
        "${dirs[@]}" >"$work/$t.log" 2>&1
    echo $? >"$work/$t.rc"
}

# Two at a time: both cores, and the whole run takes ceil(n/2) * secs.
i=0
for t in "${targets[@]}"; do
    run_target "$t" &
    i=$((i + 1))
    if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait

status=0
for t in "${targets[@]}"; do
    rc="$(cat "$work/$t.rc" 2>/dev/null || echo 2)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/$t.log" | tail -1)"
    if [ "$rc" = 0 ]; then
        echo "fuzz_$t: ok (${execs:-?} runs in ${took:-?}s${seed:+, seed $seed}, ${cov:-cov: ?})"
    else
        status=1
        echo "fuzz_$t: FAILED (exit $rc); reproducers in $crashes:"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz: |ffq: internal error|artifact_prefix|Test unit written)" "$work/$t.log" | head -20 | sed 's/^/    /'
        cp "$work/$t.log" "$crashes/$t-$(date +%H%M%S).log"
    fi
done
rmdir "$crashes" 2>/dev/null || true   # nothing found: leave no empty directory
exit $status
