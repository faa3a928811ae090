#!/usr/bin/env bash
# Runs the libFuzzer targets of a CADRE_FUZZ build one after the other (`make fuzz`,
# docs/fuzzing.md). Environment:
#   BUILD_FUZZ    the CADRE_FUZZ build directory (default build-fuzz)
#   FUZZ_SECONDS  time per target (default 60)
#   FUZZ_TARGETS  targets to run, space-separated (default: every fuzz_* binary built)
#   FUZZ_ARGS     extra libFuzzer options (e.g. -max_len=65536)
# Each target starts from fuzz/corpus/<t>/ and fuzz/regressions/<t>/; inputs that add
# coverage go to BUILD_FUZZ/corpus/<t>/ (not committed), and each crash, leak, timeout or
# out-of-memory input is written to fuzz/regressions/<t>/ by libFuzzer (-artifact_prefix),
# ready to be committed with its fix. Exits 1 when any target found something.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_FUZZ:-build-fuzz}
case $build in /*) ;; *) build=$root/$build ;; esac
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-}
if [ -z "$targets" ]; then
    targets=$(cd "$build/fuzz" && ls fuzz_* 2>/dev/null | grep -v -e '^fuzz_replay_' -e '^fuzz_seed_gen$' |
        sed 's/^fuzz_//' | sort)
fi
[ -n "$targets" ] || { echo "fuzz: no fuzz targets in $build/fuzz" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for t in $targets; do
    bin=$build/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: $bin is missing" >&2; failed+=("$t"); continue; }
    work=$build/corpus/$t
    regress=$root/fuzz/regressions/$t
    mkdir -p "$work" "$regress"
    seeds=("$root/fuzz/corpus/$t")
    # libFuzzer reads every directory given; the regressions are seeds too.
    [ -n "$(ls -A "$regress")" ] && seeds+=("$regress")
    log=$build/fuzz-$t.log
    echo "fuzz: $t for ${seconds}s (log $log)"
    # stdin from /dev/null: no target reads it, and nothing can block on it.
    # shellcheck disable=SC2086
    "$bin" "$work" "${seeds[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$regress/" -print_final_stats=1 ${FUZZ_ARGS:-} </dev/null >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        summary+=("$t: FOUND (exit $rc) after ${runs:-?} runs, $cov; see $log and $regress/")
        grep -m 5 -e 'ERROR:' -e 'property failed' -e 'SUMMARY:' -e 'Test unit written' "$log"
    else
        summary+=("$t: clean, ${runs:-?} runs in ${seconds}s, $cov")
    fi
    # An empty regressions directory is not worth keeping.
    rmdir "$regress" 2>/dev/null || true
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in: ${failed[*]}" >&2
    exit 1
fi
