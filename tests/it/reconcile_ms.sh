#!/usr/bin/env bash
# reconcile_ms.sh - broker.reconcile_ms makes reconciliation points by time.
#
# With clustering.reconcile_every 0 and no FLUSH (`cadre send --no-flush`) nothing else
# ever makes a reconciliation point, so the assignments can only appear through the time
# trigger. Two bursts: the first after an idle engine, the second while the first one's
# points have just passed; both must be reconciled, with the partition `cadre cluster`
# gives the same records.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}"
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 5 \
    --out "$TMP/gen.jsonl" >/dev/null
head -n 60 "$TMP/gen.jsonl" >"$TMP/a.jsonl"
sed -n '61,120p' "$TMP/gen.jsonl" >"$TMP/b.jsonl"
cat "$TMP/a.jsonl" "$TMP/b.jsonl" >"$TMP/all.jsonl"
"$CADRE" cluster "$TMP/all.jsonl" --out "$TMP/expected.jsonl" --quiet

CFG="$TMP/cadre.yaml"
write_config "$CFG" "$TMP" 1 "" "reconcile_ms: 100"
check "the configuration loads" expect_exit 0 "$BROKER" --config "$CFG" --check-config
sed 's/reconcile_ms: 100/reconcile_ms: -1/' "$CFG" >"$TMP/bad.yaml"
check "a negative reconcile_ms is refused" expect_exit 78 "$BROKER" --config "$TMP/bad.yaml" \
    --check-config
start_engine "$CFG" 1
check "merger answers" wait_until 30 health_answers "$CFG"

# assigned N: N observations have an identity (an applied observation is listed with a
# null identity until a reconciliation has seen it).
assigned() {
    "$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl" 2>/dev/null &&
        [ "$(grep -c '"identity": "' "$TMP/got.jsonl")" -eq "$1" ]
}
check "the first burst is acknowledged without a flush" \
    expect_exit 0 "$CADRE" send --config "$CFG" --no-flush "$TMP/a.jsonl"
check "it is reconciled by time" wait_until 30 assigned 60
check "the second burst is acknowledged without a flush" \
    expect_exit 0 "$CADRE" send --config "$CFG" --no-flush "$TMP/b.jsonl"
check "it is reconciled by time too" wait_until 30 assigned 120
# same_partition A B: both assignment files group the same ids together at both layers (ids
# may differ: time points are other reconciliation points than cadre cluster's).
same_partition() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def groups(path, key):
    g = {}
    for line in open(path):
        r = json.loads(line)
        g.setdefault(r[key], set()).add(r["id"])
    return sorted(sorted(v) for v in g.values())
a, b = sys.argv[1], sys.argv[2]
sys.exit(0 if all(groups(a, k) == groups(b, k) for k in ("identity", "campaign")) else 1)
PY
}
check "the partition is cadre cluster's" same_partition "$TMP/got.jsonl" "$TMP/expected.jsonl"
check "every process exits 0" stop_engine 1
finish
