# lib.sh - helpers for the black-box integration tests (sourced, not run).
# Each test gets its own temporary directory, removed on exit.
set -euo pipefail
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cadre-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

# check NAME COMMAND...: runs the command, counts it as passed when it succeeds.
check() {
    local name=$1
    shift
    if "$@"; then
        PASS=$((PASS + 1))
        echo "ok - $name"
    else
        FAIL=$((FAIL + 1))
        echo "not ok - $name"
    fi
}

# expect_exit CODE COMMAND...: succeeds when the command exits with CODE.
expect_exit() {
    local want=$1
    shift
    local got=0
    "$@" >"$TMP/last.out" 2>"$TMP/last.err" || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "  exit $got, wanted $want; stderr:" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    fi
}

# finish: prints the closing count line and exits non-zero on any failure.
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
