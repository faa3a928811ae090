#!/usr/bin/env bash
# explain.sh - black-box checks of `cadre explain` on generated fixture corpora.
source "$(dirname "$0")/lib.sh"
: "${CADRE:?path to the cadre binary}" "${FIXTURES_DIR:?}"
SPECS="$FIXTURES_DIR/campaigns"

for name in vpn_hopping multi_operator delete_split; do
    "$CADRE" gen "$SPECS/$name.yaml" --out "$TMP/$name.jsonl" >/dev/null
done

# row FILE N: the id of the N-th record (0-based) of a generated JSON Lines corpus.
row() {
    sed -n "$(($2 + 1))p" "$1" | grep -o '"id": *"att-[^"]*"' | head -n 1 | sed 's/.*"\(att-[^"]*\)"/\1/'
}

VPN_A=$(row "$TMP/vpn_hopping.jsonl" 0)
VPN_B=$(row "$TMP/vpn_hopping.jsonl" 4)
MO_A=$(row "$TMP/multi_operator.jsonl" 0)
MO_B=$(row "$TMP/multi_operator.jsonl" 1)
DS_DROPPER=$(row "$TMP/delete_split.jsonl" 0)
DS_BEACON=$(row "$TMP/delete_split.jsonl" 2)

"$CADRE" explain "$TMP/vpn_hopping.jsonl" "$VPN_A" "$VPN_B" > "$TMP/vpn.out"
"$CADRE" explain "$TMP/multi_operator.jsonl" "$MO_A" "$MO_B" > "$TMP/mo.out"
"$CADRE" explain "$TMP/delete_split.jsonl" "$DS_DROPPER" "$DS_BEACON" > "$TMP/ds.out"

check "vpn_hopping rows share one identity" \
    grep -q '^identity layer: same identity' "$TMP/vpn.out"
check "vpn_hopping chain links the two rows through a shared ja3 or hassh" \
    grep -Eq "^  $VPN_A --\[(ja3|hassh) \".*\| H=1 .*\]--> $VPN_B\$" "$TMP/vpn.out"
check "vpn_hopping: same identity, hence same campaign" \
    grep -q '^campaign layer: same identity, hence same campaign' "$TMP/vpn.out"

check "multi_operator rows are different identities" \
    grep -q '^identity layer: different identities' "$TMP/mo.out"
check "multi_operator: the fingerprint veto is named" \
    grep -q 'veto: both have a JA3 and they differ' "$TMP/mo.out"
check "multi_operator: the shared C2 is listed as a shared key" \
    grep -q '^    c2 "c2.shared-op.example"' "$TMP/mo.out"
check "multi_operator rows share one campaign" \
    grep -q '^campaign layer: same campaign' "$TMP/mo.out"
check "multi_operator campaign link has I = 1 through the shared C2" \
    grep -Eq '^  identity .*--\[.*c2 "c2.shared-op.example".*\| P=0 I=1 .*\]--> identity ' \
    "$TMP/mo.out"

check "delete_split: dropper and beacon are chained through the bridge row" bash -c "
    grep -q '^  chain of 2 identity edges:' '$TMP/ds.out' &&
    grep -q '^  $DS_DROPPER --\[payload ' '$TMP/ds.out' &&
    grep -Eq -- '--\[c2 \"c2.split-beacon.example\" .*\]--> $DS_BEACON\$' '$TMP/ds.out'"

check "explain of a row with itself" bash -c "
    '$CADRE' explain '$TMP/vpn_hopping.jsonl' '$VPN_A' '$VPN_A' | grep -q 'same observation'"

check "an unknown id exits 65 naming it" bash -c "
    rc=0; '$CADRE' explain '$TMP/vpn_hopping.jsonl' '$VPN_A' att-nope 2> '$TMP/unk.err' >/dev/null || rc=\$?
    [ \$rc -eq 65 ] && grep -q \"unknown observation id 'att-nope'\" '$TMP/unk.err'"
check "explain without both ids is a usage error" \
    expect_exit 2 "$CADRE" explain "$TMP/vpn_hopping.jsonl" "$VPN_A"
check "explain with an unknown option is a usage error" \
    expect_exit 2 "$CADRE" explain "$TMP/vpn_hopping.jsonl" "$VPN_A" "$VPN_B" --frobnicate

# Further fingerprints (docs/schema.md): a shared JARM links two sources that share nothing
# else; the same value under another kind does not; a shared ssh_client is vetoed by
# disagreeing HASSHes.
cat >"$TMP/fp.jsonl" <<'EOF'
{"id": "a", "fingerprints": {"jarm": "2ad2ad16d2ad2ad22c42d42d00000000"}, "sessions": []}
{"id": "b", "fingerprints": {"jarm": "2ad2ad16d2ad2ad22c42d42d00000000"}, "sessions": []}
{"id": "c", "fingerprints": {"ja4h": "2ad2ad16d2ad2ad22c42d42d00000000"}, "sessions": []}
{"id": "d", "hassh": "h1", "fingerprints": {"ssh_client": "SSH-2.0-x"}, "sessions": []}
{"id": "e", "hassh": "h2", "fingerprints": {"ssh_client": "SSH-2.0-x"}, "sessions": []}
EOF
"$CADRE" explain "$TMP/fp.jsonl" a b >"$TMP/fp_ab.out"
"$CADRE" explain "$TMP/fp.jsonl" a c >"$TMP/fp_ac.out"
"$CADRE" explain "$TMP/fp.jsonl" d e >"$TMP/fp_de.out"
check "a shared jarm links two sources, and is named" \
    grep -Eq '^  a --\[jarm "2ad2ad16d2ad2ad22c42d42d00000000".*H=1 .*\]--> b$' "$TMP/fp_ab.out"
check "the same value as another kind links nothing" \
    grep -q '^identity layer: different identities' "$TMP/fp_ac.out"
check "a shared ssh_client is vetoed by differing HASSHes" \
    grep -q 'veto: both have a HASSH and they differ' "$TMP/fp_de.out"
check "... and listed as a shared key" grep -q '^    ssh_client "SSH-2.0-x"' "$TMP/fp_de.out"

finish
