#!/usr/bin/env bash
# realdata.sh - both shared Cowrie datasets end to end through the embedded engine with the
# default settings (`cadre run --input cowrie`), scored against their weak labels with
# `cadre eval-weak`: the quality docs/realdata.md reports must hold. No campaign may fuse two
# weak-label operations, and no operation may land in more campaigns than documented (fewer
# is an improvement: update docs/realdata.md and these bounds).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
: "${CADRE:?path to the cadre binary}" "${SHARED_DIR:?}" "${SOURCE_DIR:?}"
DATA=$SHARED_DIR/realdata

# replay DATASET: runs the engine on the dataset's logs and writes its eval-weak report.
replay() {
    local ds=$1
    # shellcheck disable=SC2046
    "$CADRE" ingest cowrie $(ls "$DATA/$ds/cowrie/"*) --out "$TMP/$ds.obs.jsonl" 2>"$TMP/$ds.ingest.err" &&
        # shellcheck disable=SC2046
        "$CADRE" run --input cowrie $(ls "$DATA/$ds/cowrie/"*) --out "$TMP/$ds.assign.jsonl" \
            --quiet >/dev/null 2>"$TMP/$ds.run.err" &&
        "$CADRE" eval-weak --labels "$DATA/$ds/labels_weak.tsv" --observations "$TMP/$ds.obs.jsonl" \
            --assignments "$TMP/$ds.assign.jsonl" --format json >"$TMP/$ds.json"
}

# holds DATASET PYTHON: the Python expression holds of the report r (a dict).
holds() {
    python3 - "$TMP/$1.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = {o["name"]: o for o in r["truth_operations"]}
ok = eval(sys.argv[2])
if not ok:
    print("report: observations %s, operations %s, fusions %s" % (
        r["observations"], {k: v["clusters"] for k, v in ops.items()}, r["fusions"]), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

check "sweetie-2020 replays through cadre run --input cowrie" replay sweetie-2020
check "sweetie-2020: 972 observations, every one assigned" \
    holds sweetie-2020 'r["observations"]["count"] == 972 and r["observations"]["unassigned"] == 0'
check "sweetie-2020: no campaign fuses two operations" holds sweetie-2020 'r["fusions"] == []'
check "sweetie-2020: C1+C2 in at most 5 campaigns, its main one pure and >= 132 IPs" \
    holds sweetie-2020 'ops["C1+C2"]["clusters"] <= 5 and ops["C1+C2"]["main_share"] >= 132 and ops["C1+C2"]["purity"] == 1.0'
check "sweetie-2020: no library-sized campaign (largest <= 132 IPs)" \
    holds sweetie-2020 'r["observations"]["largest_size"] <= 132'

check "radec73-2024 replays through cadre run --input cowrie" replay radec73-2024
check "radec73-2024: 1729 observations, every one assigned" \
    holds radec73-2024 'r["observations"]["count"] == 1729 and r["observations"]["unassigned"] == 0'
check "radec73-2024: no campaign fuses two operations" holds radec73-2024 'r["fusions"] == []'
check "radec73-2024: C1 in at most 2 campaigns, C4 in 1, C3 in at most 35" \
    holds radec73-2024 'ops["C1"]["clusters"] <= 2 and ops["C4"]["clusters"] == 1 and ops["C3"]["clusters"] <= 35'
check "radec73-2024: the libssh HASSHes are generic (largest campaign <= 78 IPs)" \
    holds radec73-2024 'r["observations"]["largest_size"] <= 78'

# Two batches into one running engine (the first 8 days, then the rest): `cadre send --input
# cowrie` appends, so a source seen in both batches keeps both (docs/schema.md "Appends"),
# and the partitions are those of all files at once.
two_batches() {
    local dir=$TMP/twob files first rest pid rc=0
    mkdir -p "$dir/data"
    printf 'data_dir: %s/data\nshards: 1\nbroker:\n  ingest: ipc://%s/ingest\n  backend: ipc://%s/backend\nmerger:\n  shards: ipc://%s/ms\n  events: ipc://%s/ev\n  query: ipc://%s/q\n' \
        "$dir" "$dir" "$dir" "$dir" "$dir" "$dir" >"$dir/cadre.yaml"
    files=$(ls "$DATA/radec73-2024/cowrie/"*)
    first=$(echo "$files" | grep -E 'json\.2024-04-0[1-8]$')
    rest=$(echo "$files" | grep -vE 'json\.2024-04-0[1-8]$')
    [ "$(echo "$first" | wc -l)" -eq 8 ] || return 1
    "$CADRE" run --listen --config "$dir/cadre.yaml" 2>"$dir/run.log" &
    pid=$!
    # shellcheck disable=SC2086
    timeout 120 "$CADRE" send --config "$dir/cadre.yaml" --input cowrie $first \
        --timeout-ms 60000 >"$dir/send1" 2>&1 &&
        # shellcheck disable=SC2086
        timeout 120 "$CADRE" send --config "$dir/cadre.yaml" --input cowrie $rest \
            --timeout-ms 60000 >"$dir/send2" 2>&1 &&
        "$CADRE" query --config "$dir/cadre.yaml" assignments --out "$dir/got.jsonl" || rc=1
    kill -TERM "$pid" && wait "$pid" || rc=1
    "$CADRE" cluster "$TMP/radec73-2024.obs.jsonl" --out "$dir/want.jsonl" --quiet || rc=1
    [ "$rc" -eq 0 ] && python3 "$SOURCE_DIR/bench/partcmp.py" "$dir/want.jsonl" "$dir/got.jsonl"
}
check "radec73-2024 in two batches: the partitions of all files at once" two_batches

finish
