#!/usr/bin/env bash
# cli.sh - black-box checks of `cadre gen` and `cadre check` on the real binary.
source "$(dirname "$0")/lib.sh"
: "${CADRE:?path to the cadre binary}" "${FIXTURES_DIR:?}" "${SHARED_DIR:?}"
SPECS="$FIXTURES_DIR/campaigns"
VEC="$SHARED_DIR/testvectors/generator"

gen_matches_vector() {
    local name=$1 seed=$2
    "$CADRE" gen "$SPECS/$name.yaml" --seed "$seed" --out "$TMP/$name.jsonl" >/dev/null &&
        cmp -s "$TMP/$name.jsonl" "$VEC/$name.seed$seed.jsonl"
}
for f in "$VEC"/*.jsonl; do
    base=$(basename "$f" .jsonl)
    name=${base%.seed*}
    seed=${base##*.seed}
    check "gen $name seed $seed is byte-identical to the vector" gen_matches_vector "$name" "$seed"
done

check "gen writes msgpack that check reads back" bash -c "
    '$CADRE' gen '$SPECS/noise_floor.yaml' --out '$TMP/nf.msgpack' >/dev/null &&
    '$CADRE' check '$TMP/nf.msgpack' | grep -q '^30 records, 30 good, 0 bad'"

check "replicate 1000 gives 30000 good records" bash -c "
    '$CADRE' gen '$SPECS/noise_floor.yaml' --replicate 1000 --out '$TMP/rep.msgpack' >/dev/null &&
    '$CADRE' check '$TMP/rep.msgpack' | grep -q '^30000 records, 30000 good, 0 bad'"

check "summary names every campaign" bash -c "
    '$CADRE' gen '$SPECS/noise_floor.yaml' --out '$TMP/s.jsonl' --summary > '$TMP/summary' &&
    grep -q 'multi-operator-001' '$TMP/summary' && grep -q 'noise scanners *18' '$TMP/summary'"

check "gen without a spec is a usage error" expect_exit 2 "$CADRE" gen
check "gen with a bad seed is a usage error" expect_exit 2 "$CADRE" gen "$SPECS/lone_wolf.yaml" --seed x
check "unknown command is a usage error" expect_exit 2 "$CADRE" frobnicate

printf 'campaign:\n  id: x\n  actors: []\n  phases: []\n' > "$TMP/bad.yaml"
check "an invalid spec exits 65 naming file:line:col" bash -c "
    rc=0; '$CADRE' gen '$TMP/bad.yaml' 2> '$TMP/bad.err' >/dev/null || rc=\$?
    [ \$rc -eq 65 ] && grep -q 'bad.yaml:[0-9]*:[0-9]*:' '$TMP/bad.err'"

# A stream with a bad record in the middle: the good ones around it all survive.
head -n 2 "$VEC/noise_floor.seed0.jsonl" > "$TMP/mixed.jsonl"
echo '{"id": "att-broken", "sessions": [{"phase": "nonsense", "start": 1.0}]}' >> "$TMP/mixed.jsonl"
tail -n 3 "$VEC/noise_floor.seed0.jsonl" >> "$TMP/mixed.jsonl"
check "check reports the bad record and keeps the rest" bash -c "
    rc=0; '$CADRE' check '$TMP/mixed.jsonl' > '$TMP/mixed.out' 2> '$TMP/mixed.err' || rc=\$?
    [ \$rc -eq 65 ] && grep -q '^6 records, 5 good, 1 bad' '$TMP/mixed.out' &&
    grep -q ':3: record .att-broken.: field .sessions\[0\].phase.' '$TMP/mixed.err'"

finish
