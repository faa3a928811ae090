#!/usr/bin/env bash
# eval_weak.sh - black-box checks of `cadre eval-weak` (docs/eval-weak.md) on the real binary.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
: "${CADRE:?path to the cadre binary}" "${SHARED_DIR:?}"

# --- fixtures: the hand-made case of tests/unit/test_weak.c -----------------------------------
T=$'\t'
cat >"$TMP/labels.tsv" <<EOF
session${T}src_ip${T}first_ts${T}labels
s1${T}10.0.0.1${T}t${T}C1_a
s2${T}10.0.0.2${T}t${T}C1b_x,C2_y
s3${T}10.0.0.3${T}t${T}C2_y
s4${T}10.0.0.4${T}t${T}C3_z
s5${T}10.0.0.6${T}t${T}C3_z
s6${T}10.0.0.6${T}t${T}G1_g
s7${T}10.0.0.7${T}t${T}G1_g
s8${T}10.0.0.9${T}t${T}C3_z
s9${T}10.0.0.8${T}t
EOF
: >"$TMP/obs.jsonl"
: >"$TMP/asg.jsonl"
# obs ID IP CAMPAIGN: one observation and its assignment.
obs() {
    printf '{"id": "%s", "ip": "%s"}\n' "$1" "$2" >>"$TMP/obs.jsonl"
    printf '{"id": "%s", "identity": "I0", "campaign": "%s"}\n' "$1" "$3" >>"$TMP/asg.jsonl"
}
obs cowrie:10.0.0.1 10.0.0.1 K1
obs cowrie:10.0.0.2 10.0.0.2 K1
obs cowrie:10.0.0.3 10.0.0.3 K2
obs cowrie:10.0.0.4 10.0.0.4 K2
obs cowrie:10.0.0.5 10.0.0.5 K2
obs cowrie:10.0.0.6@s 10.0.0.6 K3
obs cowrie:10.0.0.6~2 10.0.0.6 K1
obs cowrie:10.0.0.7 10.0.0.7 K3

ew() {
    local want=$1
    shift
    expect_exit "$want" "$CADRE" eval-weak "$@"
}
out_has() {
    grep -qF -- "$1" "$TMP/last.out" || {
        echo "  stdout lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.out" >&2
        return 1
    }
}
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}
ARGS=(--labels "$TMP/labels.tsv" --observations "$TMP/obs.jsonl" --assignments "$TMP/asg.jsonl")

t_text() {
    ew 0 "${ARGS[@]}" &&
        out_has "truth operations: C1+C2 (3 IPs), C3 (2 IPs)" &&
        out_has "  C1+C2: 3 IPs in the labels, 3 scored; labels C1 1, C1b 1, C2 2" &&
        out_has "  C1+C2: 3 IPs in 2 campaigns; main campaign K1 holds 2 (66.7%); purity 2/2 labelled (100.0%), 2 IPs in all" &&
        out_has "  C3: 2 IPs in 2 campaigns; main campaign K2 holds 1 (50.0%); purity 1/2 labelled (50.0%), 3 IPs in all" &&
        out_has "fusions (campaigns holding IPs of different truth operations): 1" &&
        out_has "  FUSED K2 (3 IPs, 2 labelled): C1+C2 1, C3 1" &&
        out_has "split IPs: 1 " && out_has "  split: 10.0.0.6" &&
        out_has "  absent: 10.0.0.9" &&
        out_has "  G1: 2 IPs in the labels, 1 also truth-labelled; 2 IPs in 1 campaign" &&
        out_has "metrics over 5 labelled IPs" &&
        out_has "  pairwise_precision  0.500000" && out_has "  pairwise_recall     0.250000" &&
        out_has "  adjusted_rand_index 0.090909"
}
check "text report: groups, spread, fusion, split, absent, generic, metrics" t_text

t_bad_line() {
    ew 0 "${ARGS[@]}" && err_has "$TMP/labels.tsv:10: column 4 (labels): missing" &&
        out_has "labels: 9 lines (1 bad), 7 IPs: 5 labelled and scored, 1 generic only"
}
check "a short label line is named by file:line and column, skipped and counted" t_bad_line

t_stable() {
    ew 0 "${ARGS[@]}" && cp "$TMP/last.out" "$TMP/first.out" &&
        tac "$TMP/asg.jsonl" >"$TMP/asg.rev.jsonl" &&
        ew 0 --labels "$TMP/labels.tsv" --observations "$TMP/obs.jsonl" \
            --assignments "$TMP/asg.rev.jsonl" &&
        cmp -s "$TMP/first.out" "$TMP/last.out"
}
check "the report does not depend on the order of the assignments" t_stable

t_json() {
    ew 0 "${ARGS[@]}" --format json && [ "$(wc -l <"$TMP/last.out")" -eq 1 ] &&
        python3 - "$TMP/last.out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["level"] == "campaign"
assert r["observations"]["count"] == 8 and r["observations"]["split_ips"] == ["10.0.0.6"]
assert r["labels"]["labelled_ips"] == 5 and r["labels"]["bad_lines"] == 1
assert [g["name"] for g in r["truth_operations"]] == ["C1+C2", "C3"]
assert r["truth_operations"][0]["members"] == {"C1": 1, "C1b": 1, "C2": 2}
assert r["fusions"] == [{"cluster": "K2", "size": 3, "labelled": 2,
                         "operations": {"C1+C2": 1, "C3": 1}}]
assert r["generic"][0]["name"] == "G1" and r["generic"][0]["with_truth"] == 1
m = r["metrics"]
assert m["items"] == 5 and m["pairwise_precision"] == 0.5 and m["pairwise_recall"] == 0.25
assert abs(m["adjusted_rand_index"] - 1 / 11) < 1e-12
EOF
}
check "--format json is one parseable object with the same numbers" t_json

t_identity() {
    ew 0 "${ARGS[@]}" --level identity && out_has "level: identity" &&
        out_has "  FUSED I0 (7 IPs, 5 labelled): C1+C2 3, C3 2" && out_has "split IPs: 0 "
}
check "--level identity scores identities" t_identity

t_missing() {
    ew 1 --labels "$TMP/nope.tsv" --observations "$TMP/obs.jsonl" \
        --assignments "$TMP/asg.jsonl" && err_has "nope.tsv" &&
        ew 1 --labels "$TMP/labels.tsv" --observations "$TMP/nope.jsonl" \
            --assignments "$TMP/asg.jsonl" &&
        ew 1 --labels "$TMP/labels.tsv" --observations "$TMP/obs.jsonl" \
            --assignments "$TMP/nope.jsonl"
}
check "a missing file exits 1" t_missing

t_usage() {
    ew 2 && ew 2 --labels "$TMP/labels.tsv" && ew 2 "${ARGS[@]}" --format xml &&
        ew 2 "${ARGS[@]}" --level actor && ew 2 "${ARGS[@]}" extra &&
        ew 2 "${ARGS[@]}" --level && ew 0 --help && out_has "usage: cadre eval-weak"
}
check "usage errors exit 2, --help exits 0" t_usage

# --- real data: the truth groups do not depend on the clustering ------------------------------
SW="$SHARED_DIR/realdata/sweetie-2020"
if [ -d "$SW/cowrie" ]; then
    t_real() {
        "$CADRE" ingest cowrie "$SW"/cowrie/* --out "$TMP/sw.jsonl" 2>/dev/null &&
            "$CADRE" cluster "$TMP/sw.jsonl" --out "$TMP/sw.asg.jsonl" --quiet >/dev/null &&
            ew 0 --labels "$SW/labels_weak.tsv" --observations "$TMP/sw.jsonl" \
                --assignments "$TMP/sw.asg.jsonl" &&
            out_has "truth operations: C1+C2 (136 IPs), C4 (1 IP), C5 (1 IP)" &&
            out_has "  C1+C2: 136 IPs in the labels, 136 scored; labels C1 34, C1b 134, C2 136" &&
            out_has "labels: 623 lines (0 bad), 336 IPs: 138 labelled and scored, 198 generic only"
    }
    check "sweetie-2020: C1b joins C1 and C2 into one operation; G1 excluded" t_real
fi

finish
