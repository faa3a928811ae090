#!/usr/bin/env bash
# realdata-report.sh - replays both shared Cowrie datasets (../shared/realdata) end to end
# through the embedded engine (`cadre run --input cowrie`) and scores the campaigns against
# the weak labels (`cadre eval-weak`), under the default settings and under the variants the
# Cowrie report compares: generic cutoffs off, campaign handoff off, both off. Then sweeps the
# HASSH cutoff with `cadre cluster` (the same core, tested equal to `cadre run`) to show how
# the default was chosen. Writes Markdown tables to standard output (docs/realdata.md holds a
# copy) and the raw JSON reports to OUTDIR.
#   usage: tools/realdata-report.sh [OUTDIR]     (needs a built tree in build/: make build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
OUT=${1:-$B/realdata}
DATA=${REALDATA:-../shared/realdata}
SWEEP=${SWEEP:-"0 8 12 16 19 20 28 50 69 70 100 253 518 636"}
mkdir -p "$OUT"

variant_config() { # name -> config file path (empty for the defaults)
    case $1 in
    defaults) echo "" ;;
    cutoffs-off) printf 'clustering:\n  generic_cutoff: {ja3: 0, ja4: 0, hassh: 0, payload: 0, c2: 0}\n' >"$OUT/$1.yaml" && echo "$OUT/$1.yaml" ;;
    handoff-off) printf 'clustering:\n  campaign: {weights: {handoff: 0}}\n' >"$OUT/$1.yaml" && echo "$OUT/$1.yaml" ;;
    both-off) printf 'clustering:\n  generic_cutoff: {ja3: 0, ja4: 0, hassh: 0, payload: 0, c2: 0}\n  campaign: {weights: {handoff: 0}}\n' >"$OUT/$1.yaml" && echo "$OUT/$1.yaml" ;;
    esac
}

for ds in sweetie-2020 radec73-2024; do
    files=$(ls "$DATA/$ds/cowrie/"*)
    obs=$OUT/$ds.obs.jsonl
    # shellcheck disable=SC2086
    $B/cadre ingest cowrie $files --out "$obs" 2>"$OUT/$ds.ingest.txt"
    for v in defaults cutoffs-off handoff-off both-off; do
        cfg=$(variant_config $v)
        args=(--input cowrie --out "$OUT/$ds.$v.assign.jsonl" --quiet)
        [ -n "$cfg" ] && args+=(--config "$cfg")
        # shellcheck disable=SC2086
        $B/cadre run $files "${args[@]}" >/dev/null
        for level in campaign identity; do
            $B/cadre eval-weak --labels "$DATA/$ds/labels_weak.tsv" --observations "$obs" \
                --assignments "$OUT/$ds.$v.assign.jsonl" --level $level --format json \
                >"$OUT/$ds.$v.$level.json"
        done
    done
    for c in $SWEEP; do
        printf 'generic_cutoff: {hassh: %s}\n' "$c" >"$OUT/sweep.yaml"
        $B/cadre cluster "$obs" --config "$OUT/sweep.yaml" --out "$OUT/$ds.sweep$c.assign.jsonl" --quiet >/dev/null
        $B/cadre eval-weak --labels "$DATA/$ds/labels_weak.tsv" --observations "$obs" \
            --assignments "$OUT/$ds.sweep$c.assign.jsonl" --format json >"$OUT/$ds.sweep$c.campaign.json"
    done
done

python3 - "$OUT" "$SWEEP" <<'PY'
import json, sys
out, sweep = sys.argv[1], sys.argv[2].split()
def load(p):
    with open(p) as f:
        return json.load(f)
def ops(r):
    return "; ".join("%s %d IPs in %d (main %d/%d, purity %.2f)" % (o["name"], o["ips"], o["clusters"],
                     o["main_share"], o["main_size"], o["purity"]) for o in r["truth_operations"])
def fus(r):
    return "; ".join("%d IPs: " % f["size"] + " + ".join("%s ×%d" % (k, v) for k, v in sorted(f["operations"].items()))
                     for f in r["fusions"]) or "none"
for ds in ("sweetie-2020", "radec73-2024"):
    print("\n### %s\n" % ds)
    print(open("%s/%s.ingest.txt" % (out, ds)).read().strip().splitlines()[-1] + "\n")
    print("| settings | identities | campaigns | largest identity (IPs) | largest campaign (IPs) | C-operations: IPs in campaigns (main share/size, purity) | fusions | ARI | V | pairwise F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v in ("defaults", "cutoffs-off", "handoff-off", "both-off"):
        c = load("%s/%s.%s.campaign.json" % (out, ds, v)); i = load("%s/%s.%s.identity.json" % (out, ds, v))
        m = c["metrics"]
        print("| %s | %d | %d | %d | %d | %s | %s | %.3f | %.3f | %.3f |" % (
            v, c["observations"]["identities"], c["observations"]["campaigns"],
            i["observations"]["largest_size"], c["observations"]["largest_size"], ops(c), fus(c),
            m["adjusted_rand_index"], m["v_measure"], m["pairwise_f1"]))
print("\n### HASSH cutoff sweep (`cadre cluster`, other cutoffs at their defaults, campaign level)\n")
print("| hassh cutoff | " + " | ".join("%s: campaigns / largest / C-ops fragments / fusions / ARI" % ds for ds in ("sweetie-2020", "radec73-2024")) + " |")
print("|---|---|---|")
for c in sweep:
    row = []
    for ds in ("sweetie-2020", "radec73-2024"):
        r = load("%s/%s.sweep%s.campaign.json" % (out, ds, c))
        frag = ", ".join("%s %d" % (o["name"], o["clusters"]) for o in r["truth_operations"])
        row.append("%d / %d / %s / %d / %.3f" % (r["observations"]["campaigns"], r["observations"]["largest_size"],
                                                 frag, len(r["fusions"]), r["metrics"]["adjusted_rand_index"]))
    print("| %s | %s |" % (c if c != "0" else "0 (off)", " | ".join(row)))
PY
