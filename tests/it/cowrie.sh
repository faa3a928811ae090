#!/usr/bin/env bash
# cowrie.sh - black-box checks of the Cowrie adapter on the real binary: `cadre ingest
# cowrie` (plain, gzip, stdin, file order, --flush-idle, --group), and Cowrie logs replayed
# end to end through the embedded engine (`cadre run --input cowrie`, on a fixture and on
# one real radec73-2024 file) and through a running engine (`cadre send --input cowrie`).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"
: "${CADRE:?}" "${TESTDATA_DIR:?}" "${SHARED_DIR:?}"
SMALL="$TESTDATA_DIR/cowrie/small.jsonl"
REAL="$SHARED_DIR/realdata/radec73-2024/cowrie/cowrie.json.2024-04-01"

# ingest ARGS...: runs `cadre ingest cowrie ARGS...`, stdout in last.out, stderr in last.err.
ingest() { expect_exit 0 "$CADRE" ingest cowrie "$@"; }
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}
lines_of() { wc -l <"$1" | tr -d ' '; }

t_ingest() {
    ingest "$SMALL" && err_has "15 lines, 1 bad, 5 sessions (7 cadre sessions), 4 observations" &&
        err_has "small.jsonl:15: " && [ "$(lines_of "$TMP/last.out")" -eq 4 ] &&
        grep -q '"id": "aa01#3".*"c2": "198.51.100.23"\|"c2": "198.51.100.23".*"id": "aa01#3"' \
            "$TMP/last.out"
}
check "ingest: the fixture's counts, the truncated line reported, split ids" t_ingest

t_gzip() {
    ingest "$SMALL" && cp "$TMP/last.out" "$TMP/plain.out" &&
        gzip -c "$SMALL" >"$TMP/small.jsonl.gz" &&
        ingest "$TMP/small.jsonl.gz" && cmp -s "$TMP/plain.out" "$TMP/last.out" &&
        expect_exit 0 "$CADRE" ingest cowrie - <"$TMP/small.jsonl.gz" &&
        cmp -s "$TMP/plain.out" "$TMP/last.out"
}
check "ingest: gzip file and gzip on stdin give the plain file's output" t_gzip

t_order() {
    head -n 11 "$SMALL" >"$TMP/part1.json"
    tail -n +12 "$SMALL" >"$TMP/part2.json"
    ingest "$TMP/part1.json" "$TMP/part2.json" && cp "$TMP/last.out" "$TMP/in_order.out" &&
        ingest "$TMP/part2.json" "$TMP/part1.json" && cmp -s "$TMP/in_order.out" "$TMP/last.out"
}
check "ingest: files in any order give the same output" t_order

t_flush() {
    ingest "$SMALL" --flush-idle 3600 && [ "$(lines_of "$TMP/last.out")" -eq 5 ] &&
        grep -q '"id": "cowrie:192.0.2.10~2"' "$TMP/last.out" && err_has "5 observations"
}
check "ingest --flush-idle: a source returning after the window gets ~2" t_flush

t_group() {
    ingest "$SMALL" --group ip-sensor && grep -q '"id": "cowrie:192.0.2.10@pot-a"' "$TMP/last.out"
}
check "ingest --group ip-sensor: ids carry the sensor" t_group

t_usage() {
    expect_exit 2 "$CADRE" ingest cowrie "$SMALL" --group nope &&
        expect_exit 2 "$CADRE" ingest cowrie "$SMALL" --flush-idle -1 &&
        expect_exit 2 "$CADRE" run --input bogus "$SMALL" &&
        expect_exit 2 "$CADRE" run "$SMALL" "$SMALL" &&
        expect_exit 1 "$CADRE" ingest cowrie "$TMP/missing.json"
}
check "usage errors and a missing file" t_usage

t_run_fixture() {
    expect_exit 0 "$CADRE" run --input cowrie "$SMALL" --fatt "$TESTDATA_DIR/cowrie/fatt.jsonl" \
        --out "$TMP/asg.jsonl" && [ "$(lines_of "$TMP/asg.jsonl")" -eq 4 ] &&
        grep -q "4 records acknowledged, 0 refused" "$TMP/last.out" && err_has "4 observations"
}
check "run --input cowrie: the fixture end to end" t_run_fixture

t_run_real() {
    local ips
    ips=$(python3 -c 'import json,sys; print(len({json.loads(l)["src_ip"] for l in open(sys.argv[1])}))' "$REAL")
    expect_exit 0 "$CADRE" run --input cowrie "$REAL" --out "$TMP/real.asg.jsonl" &&
        [ "$(lines_of "$TMP/real.asg.jsonl")" -eq "$ips" ] &&
        grep -q "^$ips records acknowledged, 0 refused" "$TMP/last.out" &&
        err_has "308 lines, 0 bad, 61 sessions (63 cadre sessions), $ips observations"
}
check "run --input cowrie: one real radec73-2024 file, one assignment per source IP" t_run_real

t_send() {
    local dir="$TMP/eng" cfg="$TMP/eng/cadre.yaml"
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 20 health_answers "$cfg" &&
        expect_exit 0 timeout 60 "$CADRE" send --config "$cfg" --input cowrie "$SMALL" &&
        grep -q "^4 acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/last.out" &&
        stop_engine 1
}
check "send --input cowrie: the fixture to a running engine" t_send

finish
