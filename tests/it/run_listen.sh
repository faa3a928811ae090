#!/usr/bin/env bash
# run_listen.sh - `cadre run --listen --config F` keeps its state in the configuration's
# data_dir: observations acknowledged before a TERM are all there after a restart, the
# directory the user named is never removed, and only a temporary directory cadre made
# itself (no data_dir configured) is removed on exit. Also `cadre run CORPUS --data-dir D`
# and a data_dir that cannot be a directory.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --out "$TMP/all.jsonl" >/dev/null
head -n 12 "$TMP/all.jsonl" >"$TMP/first.jsonl"
tail -n +13 "$TMP/all.jsonl" >"$TMP/second.jsonl"
TOTAL=$(wc -l <"$TMP/all.jsonl" | tr -d ' ')

DIR="$TMP/eng"
CFG="$DIR/cadre.yaml"
write_config "$CFG" "$DIR" 2

# ids FILE: the sorted observation ids of an observation or assignments file.
ids() {
    python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1]) if l.strip()]' \
        "$1" | sort
}

# acked FILE: the acknowledged count of a `cadre send` summary.
acked() { sed -n 's/^\([0-9]*\) acknowledged.*/\1/p' "$1"; }

# start_run NAME CONFIG: `cadre run --listen --config CONFIG` in the background; waits
# until its merger answers.
start_run() {
    spawn "$1" "$CADRE" run --listen --config "$2"
    wait_until 30 health_answers "$2"
}

# has_all ASSIGNMENTS OBSERVATIONS...: every id of the observation files is assigned.
has_all() {
    local asg=$1
    shift
    cat "$@" >"$TMP/want.jsonl"
    ids "$TMP/want.jsonl" >"$TMP/want.ids"
    ids "$asg" >"$TMP/got.ids"
    local missing
    missing=$(comm -23 "$TMP/want.ids" "$TMP/got.ids" | wc -l | tr -d ' ')
    if [ "$missing" -ne 0 ]; then
        echo "  $missing acknowledged observations missing from $asg" >&2
        return 1
    fi
}

t_restart() {
    start_run run1 "$CFG" &&
        expect_exit 0 timeout 60 "$CADRE" send --config "$CFG" "$TMP/first.jsonl" &&
        [ "$(acked "$TMP/last.out")" -eq 12 ] &&
        expect_exit 0 "$CADRE" query --config "$CFG" assignments --out "$TMP/before.jsonl" &&
        has_all "$TMP/before.jsonl" "$TMP/first.jsonl" &&
        stop_pid run1 &&
        start_run run2 "$CFG" &&
        expect_exit 0 "$CADRE" query --config "$CFG" assignments --out "$TMP/after.jsonl" &&
        has_all "$TMP/after.jsonl" "$TMP/first.jsonl" &&
        cmp -s "$TMP/before.jsonl" "$TMP/after.jsonl" &&
        expect_exit 0 timeout 60 "$CADRE" send --config "$CFG" "$TMP/second.jsonl" &&
        [ "$(acked "$TMP/last.out")" -eq $((TOTAL - 12)) ] &&
        stop_pid run2 &&
        start_run run3 "$CFG" &&
        expect_exit 0 "$CADRE" query --config "$CFG" assignments --out "$TMP/final.jsonl" &&
        has_all "$TMP/final.jsonl" "$TMP/all.jsonl" &&
        [ "$(wc -l <"$TMP/final.jsonl" | tr -d ' ')" -eq "$TOTAL" ] &&
        stop_pid run3 && grep -qF "state in $DIR/data" "$TMP/run1.log" &&
        [ -d "$DIR/data/broker" ] && [ -d "$DIR/data/merger" ]
}
check "run --listen --config: every acknowledged observation survives two restarts" t_restart

# Without data_dir in the file: a temporary directory, removed on exit, said so on stderr.
t_temporary() {
    local dir="$TMP/tmpeng" cfg="$TMP/tmpeng/cadre.yaml"
    write_config "$cfg" "$dir" 1
    sed -i '/^data_dir:/d' "$cfg"
    mkdir -p "$TMP/tmpdir"
    TMPDIR="$TMP/tmpdir" start_run run4 "$cfg" &&
        grep -q "is temporary and removed on exit" "$TMP/run4.log" &&
        [ "$(find "$TMP/tmpdir" -mindepth 1 -maxdepth 1 -name 'cadre-run.*' | wc -l)" -eq 1 ] &&
        stop_pid run4 &&
        [ "$(find "$TMP/tmpdir" -mindepth 1 -maxdepth 1 | wc -l)" -eq 0 ]
}
check "run --listen without data_dir: the temporary directory is removed on exit" t_temporary

# A corpus run with --data-dir leaves the directory and its state; the scoring file it
# writes for the metrics is not left behind.
t_batch() {
    expect_exit 0 "$CADRE" run "$TMP/all.jsonl" --data-dir "$TMP/batch" --shards 1 &&
        [ -d "$TMP/batch/broker" ] && [ -d "$TMP/batch/merger" ] &&
        [ "$(find "$TMP/batch" -maxdepth 1 -name 'run-assignments*' | wc -l)" -eq 0 ] &&
        grep -q "adjusted_rand_index" "$TMP/last.out"
}
check "run CORPUS --data-dir: the directory is kept" t_batch

t_bad_dir() {
    : >"$TMP/plainfile"
    expect_exit 1 timeout 60 "$CADRE" run "$TMP/all.jsonl" --data-dir "$TMP/plainfile" &&
        grep -q "data directory $TMP/plainfile: Not a directory" "$TMP/last.err" &&
        expect_exit 1 timeout 60 "$CADRE" run "$TMP/all.jsonl" --data-dir "$TMP/no/such/dir" &&
        grep -q "data directory $TMP/no/such/dir: No such file or directory" "$TMP/last.err"
}
check "run: a data directory that cannot be made is an error, not a hang" t_bad_dir

finish
