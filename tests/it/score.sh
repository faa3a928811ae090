#!/usr/bin/env bash
# score.sh - black-box checks of `cadre score` (SPEC §9) on the real binary.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
: "${CADRE:?path to the cadre binary}" "${FIXTURES_DIR:?}" "${SHARED_DIR:?}"
VEC="$SHARED_DIR/testvectors/generator/noise_floor.seed0.jsonl"

ALL_ONE='{"adjusted_rand_index": 1, "homogeneity": 1, "completeness": 1, "singleton_recall": 1,'
ALL_ONE+=' "pairwise_precision": 1, "pairwise_recall": 1, "pairwise_f1": 1, "v_measure": 1}'

# obs ID CAMPAIGN: one observation line with truth labels at all three levels.
obs() {
    printf '{"id": "%s", "truth": {"campaign": "%s", "identity": "i-%s", "actor": "a-%s"}}\n' \
        "$1" "$2" "$2" "$2"
}
# asg ID CAMPAIGN: one assignment line (identity derived from the campaign).
asg() {
    printf '{"id": "%s", "campaign": "%s", "identity": "x-%s"}\n' "$1" "$2" "$2"
}
# score WANT ARGS...: runs `cadre score ARGS...` and expects exit code WANT.
score() {
    local want=$1
    shift
    expect_exit "$want" "$CADRE" score "$@"
}
# out_is TEXT: the last stdout equals TEXT. out_has / err_has TEXT: stdout / stderr contain it.
out_is() {
    [ "$(cat "$TMP/last.out")" = "$1" ] || {
        echo "  stdout: $(cat "$TMP/last.out")" >&2
        return 1
    }
}
out_has() { grep -qF -- "$1" "$TMP/last.out"; }
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}

# --- a small corpus: K1 of tests/unit/test_metrics.c ----------------------------------------
truth=(0 0 0 1 1 2 2 2 2 3 4 4)
pred=(5 5 1 1 1 2 2 9 9 3 8 6)
: >"$TMP/k1.jsonl"
: >"$TMP/k1.asg.jsonl"
for i in "${!truth[@]}"; do
    obs "o$i" "c${truth[$i]}" >>"$TMP/k1.jsonl"
    asg "o$i" "k${pred[$i]}" >>"$TMP/k1.asg.jsonl"
done
K1_RE='^\{"adjusted_rand_index": 0.40000000000000002, "homogeneity": 0.8951104929871[0-9]*, '
K1_RE+='"completeness": 0.7286539879224[0-9]*, "singleton_recall": 1, '
K1_RE+='"pairwise_precision": 0.66666666666666663, "pairwise_recall": 0.36363636363636365, '
K1_RE+='"pairwise_f1": 0.4705882352941[0-9]*, "v_measure": 0.80335028634322[0-9]*\}$'
t_known_values() {
    # exact pair-count values bit for bit; entropy values to 13 digits; keys in order
    score 0 "$TMP/k1.jsonl" "$TMP/k1.asg.jsonl" && grep -Eq "$K1_RE" "$TMP/last.out" &&
        [ "$(wc -l <"$TMP/last.out")" -eq 1 ]
}
check "known values, one line, keys in order" t_known_values

# --- a generated corpus scored against its own truth ----------------------------------------
# every generated record has a top-level "att-" id and all three truth labels, in this order
NF_RE='.*"id": "(att-[^"]*)".*"truth": \{"actor": "([^"]*)", "campaign": "([^"]*)", '
NF_RE+='"identity": "([^"]*)"\}.*'
sed -E "s/$NF_RE/{\"id\": \"\\1\", \"campaign\": \"p-\\3\", \"identity\": \"q-\\4\"}/" \
    "$VEC" >"$TMP/nf.asg.jsonl"
t_perfect() { score 0 "$VEC" "$TMP/nf.asg.jsonl" && out_is "$ALL_ONE"; }
check "perfect relabelled campaign assignment scores exactly 1" t_perfect
t_identity() {
    score 0 --level identity --layer identity "$VEC" "$TMP/nf.asg.jsonl" && out_is "$ALL_ONE"
}
check "identity level against the identity layer scores exactly 1" t_identity
t_cross() {
    score 0 "$VEC" "$TMP/nf.asg.jsonl" --layer=identity &&
        out_has '"homogeneity": 1,' && ! out_has '"completeness": 1,'
}
check "campaign truth against the identity layer is homogeneous, not complete" t_cross
t_reversed() {
    tac "$TMP/nf.asg.jsonl" >"$TMP/nf.rev.jsonl" &&
        score 0 "$VEC" "$TMP/nf.rev.jsonl" && out_is "$ALL_ONE"
}
check "assignments in another order score the same" t_reversed
t_stdin() {
    # shellcheck disable=SC2016 # $1.. expand in the inner shell
    expect_exit 0 bash -c '"$1" score - "$2" <"$3"' _ "$CADRE" "$TMP/nf.asg.jsonl" "$VEC" &&
        out_is "$ALL_ONE"
}
check "corpus from standard input" t_stdin
t_msgpack() {
    "$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --seed 0 \
        --out "$TMP/nf.msgpack" >/dev/null &&
        score 0 "$TMP/nf.msgpack" "$TMP/nf.asg.jsonl" && out_is "$ALL_ONE"
}
check "a msgpack corpus from cadre gen (same seed, same ids)" t_msgpack

# --- degenerate partitions (R§11) -------------------------------------------------------------
{ obs m1 s1; obs m2 s2; } >"$TMP/merge.jsonl"
{ asg m1 k; asg m2 k; } >"$TMP/merge.asg.jsonl"
MERGED='{"adjusted_rand_index": 0, "homogeneity": 0, "completeness": 1, "singleton_recall": 0,'
MERGED+=' "pairwise_precision": 0, "pairwise_recall": 1, "pairwise_f1": 0, "v_measure": 0}'
t_merge() { score 0 "$TMP/merge.jsonl" "$TMP/merge.asg.jsonl" && out_is "$MERGED"; }
check "false merge: ARI 0, homogeneity 0, completeness 1, recall 0" t_merge
: >"$TMP/empty.jsonl"
t_empty() { score 0 "$TMP/empty.jsonl" "$TMP/empty.jsonl" && out_is "$ALL_ONE"; }
check "empty inputs score 1" t_empty

# --- the corpus is replayed: upserts replace, deletes remove ------------------------------------
{
    obs r1 wrong
    obs r2 c
    obs r3 gone
    printf '{"op": "delete", "id": "r3"}\n'
    obs r1 c
} >"$TMP/replay.jsonl"
{ asg r1 k; asg r2 k; } >"$TMP/replay.asg.jsonl"
t_replay() { score 0 "$TMP/replay.jsonl" "$TMP/replay.asg.jsonl" && out_is "$ALL_ONE"; }
check "replayed corpus: the last upsert wins, deleted ids are not items" t_replay

# --- item sets that differ: exit 65, naming the id -----------------------------------------------
head -n 29 "$TMP/nf.asg.jsonl" >"$TMP/missing.jsonl"
last_id=$(tail -n 1 "$TMP/nf.asg.jsonl" | sed -E 's/.*"id": "([^"]*)".*/\1/')
t_missing() {
    score 65 "$VEC" "$TMP/missing.jsonl" && err_has "'$last_id' has no assignment" &&
        [ ! -s "$TMP/last.out" ]
}
check "an observation without an assignment" t_missing
{ cat "$TMP/nf.asg.jsonl"; asg att-stranger k; } >"$TMP/extra.jsonl"
t_extra() { score 65 "$VEC" "$TMP/extra.jsonl" && err_has "'att-stranger', which is not"; }
check "an assignment for an unknown id" t_extra
{ cat "$TMP/nf.asg.jsonl"; tail -n 1 "$TMP/nf.asg.jsonl"; } >"$TMP/dup.jsonl"
t_dup() { score 65 "$VEC" "$TMP/dup.jsonl" && err_has "duplicate assignment for '$last_id'"; }
check "a duplicate assignment" t_dup
{ obs r1 c; obs r2 c; printf '{"op": "delete", "id": "r2"}\n'; } >"$TMP/deleted.jsonl"
t_deleted() {
    score 65 "$TMP/deleted.jsonl" "$TMP/replay.asg.jsonl" &&
        err_has "'r2', which is not in the corpus"
}
check "an assignment for a deleted observation" t_deleted
{ obs t1 c; printf '{"id": "t2"}\n'; } >"$TMP/notruth.jsonl"
{ asg t1 k; asg t2 k; } >"$TMP/notruth.asg.jsonl"
t_notruth() {
    score 65 --level actor "$TMP/notruth.jsonl" "$TMP/notruth.asg.jsonl" &&
        err_has "observation 't2' has no truth actor label"
}
check "an observation without a truth label at the level" t_notruth
{ obs t1 c; obs t2 c; } >"$TMP/twotruth.jsonl"
{ asg t1 k; printf '{"id": "t2", "campaign": null, "identity": "x"}\n'; } >"$TMP/nolayer.jsonl"
t_nolayer() {
    score 65 "$TMP/twotruth.jsonl" "$TMP/nolayer.jsonl" &&
        err_has "assignment for 't2' has no campaign"
}
check "an assignment without the layer" t_nolayer

# --- malformed records: reported, nothing scored -------------------------------------------------
{ obs b1 c; printf '{"id": "b2", "sessions": "nope"}\n'; obs b3 c; } >"$TMP/bad.jsonl"
{ asg b1 k; asg b2 k; asg b3 k; } >"$TMP/bad.asg.jsonl"
t_bad_obs() {
    score 65 "$TMP/bad.jsonl" "$TMP/bad.asg.jsonl" &&
        err_has "bad.jsonl:2" && err_has "sessions" && [ ! -s "$TMP/last.out" ]
}
check "a malformed corpus record: exit 65 naming the record" t_bad_obs
{ obs b1 c; obs b3 c; } >"$TMP/good.jsonl"
{ asg b1 k; printf '{"campaign": "k"}\n'; asg b3 k; } >"$TMP/bad.asg2.jsonl"
t_bad_asg() {
    score 65 "$TMP/good.jsonl" "$TMP/bad.asg2.jsonl" &&
        err_has "bad.asg2.jsonl:2" && [ ! -s "$TMP/last.out" ]
}
check "a malformed assignment record: exit 65 naming the record" t_bad_asg

t_capped() {
    # a wrong --format makes every byte a bad record: the report is capped, then counted
    score 65 --format msgpack "$VEC" "$TMP/nf.asg.jsonl" &&
        err_has "more malformed records" && [ "$(wc -l <"$TMP/last.err")" -le 50 ]
}
check "a flood of malformed records is reported briefly" t_capped

# --- usage ------------------------------------------------------------------------------------
check "no arguments is a usage error" score 2
check "an unknown level is a usage error" score 2 --level planet "$VEC" "$TMP/nf.asg.jsonl"
check "an unknown option is a usage error" score 2 --frobnicate "$VEC" "$TMP/nf.asg.jsonl"
check "a third path is a usage error" score 2 "$VEC" "$VEC" "$VEC"
check "--help succeeds" score 0 --help
check "a missing file fails" score 1 "$TMP/nope.jsonl" "$TMP/nf.asg.jsonl"

finish
