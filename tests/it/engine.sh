#!/usr/bin/env bash
# engine.sh - differential test of the three ways to run the engine. For each corpus:
#   (a) `cadre cluster`, one process, no sockets;
#   (b) `cadre run --shards 4`, every role a thread over inproc://;
#   (c) cadre-merger, cadre-broker and 3 cadre-shard processes over ipc://, fed by
#       `cadre send`, watched by `cadre sub`, read back with `cadre query`;
# the assignments, events, identity and campaign records must be byte-identical. Then the
# same with a reconciliation every 50 inputs, where ids merge, unmerge and split mid-stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}" "${SOURCE_DIR:?}"
SHARDS=3
OUTPUTS=(assignments events identities campaigns)

# make_stream CORPUS OUT: a stream with upserts, changed upserts, deletes and re-upserts
# built from a generated corpus:
#   1. its first 2000 records;
#   2. bridges: a copy of every 4th record that has a HASSH, under a new id, carrying the
#      HASSH of the next such record, so two identities merge;
#   3. changed upserts of every 5th record (same id, another JA3 and HASSH), which leave
#      their identity;
#   4. the next 1000 records;
#   5. deletes of every other bridge (the merged identities split again: unmerges) and of
#      every 7th record;
#   6. re-upserts of every 11th record as first written.
make_stream() {
    local c=$1 out=$2 d="$TMP/stream.parts"
    mkdir -p "$d"
    head -n 2000 "$c" >"$d/first"
    sed -n '2001,3000p' "$c" >"$d/next"
    awk 'match($0, /"hassh": "[^"]*"/) { n++; line[n] = $0; hs[n] = substr($0, RSTART, RLENGTH) }
         END {
             for (k = 1; k < n; k += 4) {
                 if (hs[k] == hs[k + 1]) continue
                 l = line[k]
                 sub(/"hassh": "[^"]*"/, hs[k + 1], l)
                 sub(/"id": "/, "\"id\": \"bridge-", l)
                 print l
             }
         }' "$d/first" >"$d/bridges"
    awk 'NR % 5 == 0 {
             l = $0
             sub(/"ja3": "/, "\"ja3\": \"9", l)
             sub(/"hassh": "/, "\"hassh\": \"changed-", l)
             print l
         }' "$d/first" >"$d/changed"
    # The first "id" of a line is the observation's (keys are sorted, sessions come later).
    local del='if (match($0, /"id": "[^"]*"/)) print "{" substr($0, RSTART, RLENGTH) ", \"op\": \"delete\"}"'
    awk "NR % 2 == 0 { $del }" "$d/bridges" >"$d/unbridge"
    awk "NR % 7 == 0 { $del }" "$d/first" >"$d/deletes"
    awk 'NR % 11 == 0' "$d/first" >"$d/again"
    cat "$d/first" "$d/bridges" "$d/changed" "$d/next" "$d/unbridge" "$d/deletes" \
        "$d/again" >"$out"
}

# run_cluster CORPUS NAME [OPTION...]: (a), outputs in $TMP/NAME.*
run_cluster() {
    local corpus=$1 out="$TMP/$2"
    shift 2
    "$CADRE" cluster "$corpus" --out "$out.assignments" --events "$out.events" \
        --identities "$out.identities" --campaigns "$out.campaigns" --quiet "$@"
}

# run_embedded CORPUS NAME [OPTION...]: (b), outputs in $TMP/NAME.*
run_embedded() {
    local corpus=$1 out="$TMP/$2"
    shift 2
    "$CADRE" run "$corpus" --shards 4 --out "$out.assignments" --events "$out.events" \
        --identities "$out.identities" --campaigns "$out.campaigns" --quiet "$@" \
        2>"$out.run.log"
}

# events_arrived FILE CONFIG: the subscriber wrote as many events as the merger published.
events_arrived() {
    local want
    want=$(health_field "$2" events) || return 1
    [ -n "$want" ] && [ "$(wc -l <"$1")" -eq "$want" ]
}

# run_processes CORPUS NAME [EXTRA_YAML]: (c), outputs in $TMP/NAME.*
run_processes() {
    local corpus=$1 out="$TMP/$2" extra=${3:-}
    local dir="$TMP/$2.engine"
    local cfg="$dir/cadre.yaml"
    LOGDIR=$dir
    write_config "$cfg" "$dir" "$SHARDS" "$extra"
    start_engine "$cfg" "$SHARDS"
    wait_until 30 health_answers "$cfg" || return 1
    # The subscriber is connected before anything is sent, so it sees every event.
    spawn sub "$CADRE" sub --config "$cfg" --out "$out.events"
    wait_until 30 grep -q '^cadre sub: subscribed' "$dir/sub.log" || return 1
    timeout 120 "$CADRE" send --config "$cfg" "$corpus" >"$out.send" || return 1
    grep -q "^$(grep -c . "$corpus") acknowledged, 0 refused, 0 unreadable, flushed at seq" \
        "$out.send" || return 1
    "$CADRE" query --config "$cfg" assignments --out "$out.assignments" || return 1
    "$CADRE" query --config "$cfg" identities --out "$out.identities" || return 1
    "$CADRE" query --config "$cfg" campaigns --out "$out.campaigns" || return 1
    # members and explain: the identity and campaign of the first observation, checked
    # against the assignments; the explanation against `cadre explain` on the same input.
    local first ident camp second
    first=$(sed -n '1s/.*"id": "\([^"]*\)".*/\1/p' "$out.assignments")
    ident=$(sed -n '1s/.*"identity": "\([^"]*\)".*/\1/p' "$out.assignments")
    camp=$(sed -n '1s/.*"campaign": "\([^"]*\)".*/\1/p' "$out.assignments")
    "$CADRE" query --config "$cfg" members "$ident" >"$out.members_i" || return 1
    grep -F "\"identity\": \"$ident\"" "$out.assignments" |
        sed 's/.*"id": "\([^"]*\)".*/\1/' | cmp -s - "$out.members_i" || return 1
    "$CADRE" query --config "$cfg" members "$camp" >"$out.members_c" || return 1
    grep -F "\"campaign\": \"$camp\"" "$out.assignments" |
        sed 's/.*"identity": "\([^"]*\)".*/\1/' | awk '!seen[$0]++' | cmp -s - "$out.members_c" ||
        return 1
    if [ -z "$extra" ]; then
        second=$(sed -n '2s/.*"id": "\([^"]*\)".*/\1/p' "$out.assignments")
        "$CADRE" query --config "$cfg" explain "$first" "$second" >"$out.explain_q" || return 1
        "$CADRE" explain "$corpus" "$first" "$second" >"$out.explain_c" || return 1
        cmp -s "$out.explain_q" "$out.explain_c" || return 1
    fi
    wait_until 30 events_arrived "$out.events" "$cfg" || return 1
    stop_pid sub || return 1
    stop_engine "$SHARDS"
}

# same A B: every output of run A equals run B's, byte for byte.
same() {
    local f rc=0
    for f in "${OUTPUTS[@]}"; do
        if ! cmp "$TMP/$1.$f" "$TMP/$2.$f"; then
            rc=1
        fi
    done
    [ -s "$TMP/$1.assignments" ] && [ -s "$TMP/$1.events" ] && return $rc
}

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 200 \
    --out "$TMP/noise.jsonl" >/dev/null
make_stream "$TMP/noise.jsonl" "$TMP/stream.jsonl"
# A fleet's stream of appends (docs/schema.md "Appends"): the first 1500 records split into
# appends, interleaved, some resent, some deleted and appended again (tests/it/appendify.py).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
head -n 1500 "$TMP/noise.jsonl" >"$TMP/whole.jsonl"
"$PYTHON" "$SOURCE_DIR/tests/it/appendify.py" "$TMP/whole.jsonl" "$TMP/appends.jsonl" 7
# The same records with further fingerprints (jarm, ja4h, ssh_client: identity keys of their
# own families, docs/schema.md), whole, as the "fps" corpus.
"$PYTHON" "$SOURCE_DIR/tests/it/appendify.py" "$TMP/whole.jsonl" "$TMP/fps-appends.jsonl" 8 \
    "$TMP/fps.jsonl"

for corpus in noise stream appends fps; do
    check "$corpus: cadre cluster" run_cluster "$TMP/$corpus.jsonl" "$corpus.a"
    check "$corpus: cadre run --shards 4" run_embedded "$TMP/$corpus.jsonl" "$corpus.b"
    check "$corpus: broker, merger and $SHARDS shards as processes" \
        run_processes "$TMP/$corpus.jsonl" "$corpus.c"
    check "$corpus: cadre run = cadre cluster" same "$corpus.b" "$corpus.a"
    check "$corpus: processes = cadre cluster" same "$corpus.c" "$corpus.a"
done

# The appends rebuild the records they were split from: the same partitions.
check "appends: the partitions of the whole records" "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" \
    "$TMP/appends.a.assignments" <("$CADRE" cluster "$TMP/whole.jsonl" --out - --quiet)
check "fps: the further fingerprints link observations (fewer identities)" \
    test "$(cut -d'"' -f12 "$TMP/fps.a.assignments" | sort -u | wc -l)" -lt \
    "$("$CADRE" cluster "$TMP/whole.jsonl" --out - --quiet | cut -d'"' -f12 | sort -u | wc -l)"
check "appends: every append counted, none refused" \
    grep -q "^$(grep -c . "$TMP/appends.jsonl") acknowledged, 0 refused" "$TMP/appends.c.send"

# Reconciling every 50 inputs: merges, unmerges and splits happen between reconciliations,
# and the event streams must still agree.
printf 'clustering:\n  reconcile_every: 50\n' >"$TMP/every50.yaml"
check "stream every 50: cadre cluster" \
    run_cluster "$TMP/stream.jsonl" every.a --reconcile-every 50
check "stream every 50: cadre run" \
    run_embedded "$TMP/stream.jsonl" every.b --config "$TMP/every50.yaml"
check "stream every 50: processes" \
    run_processes "$TMP/stream.jsonl" every.c "$(cat "$TMP/every50.yaml")"
check "stream every 50: cadre run = cadre cluster" same every.b every.a
check "stream every 50: processes = cadre cluster" same every.c every.a
for topic in identity.merged identity.unmerged campaign.merged campaign.unmerged; do
    check "stream every 50 has $topic events" grep -q "\"topic\": \"$topic\"" "$TMP/every.a.events"
done

finish
