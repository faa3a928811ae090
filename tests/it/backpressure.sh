#!/usr/bin/env bash
# backpressure.sh - a stopped merger slows `cadre send` down instead of losing records.
#
# The broker pauses ingest while the merger trails the journal by more than broker.max_lag
# (100 here). The test feeds one `cadre send --window 50 --progress` of 5000 records
# through a FIFO: after the first 1000 have been submitted it stops the merger (SIGSTOP),
# writes the rest, and checks that the acknowledged count plateaus within max_lag + window
# of where it was, for longer than the merger's liveness (so the broker declares it dead).
# After SIGCONT the send must complete with every record acknowledged exactly once and the
# final assignments equal to `cadre cluster`'s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}"
SHARDS=2
TOTAL=5000
FIRST=1000
MAX_LAG=100
WINDOW=50

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 200 \
    --out "$TMP/gen.jsonl" >/dev/null
head -n "$TOTAL" "$TMP/gen.jsonl" >"$TMP/corpus.jsonl"
"$CADRE" cluster "$TMP/corpus.jsonl" --out "$TMP/expected.jsonl" --quiet

CFG="$TMP/cadre.yaml"
write_config "$CFG" "$TMP" "$SHARDS" "" "max_lag: $MAX_LAG"

# acked: the last acknowledged count `cadre send --progress` reported.
acked() {
    sed -n 's/^progress: [0-9]* submitted, \([0-9]*\) acknowledged$/\1/p' "$TMP/send.err" |
        tail -n 1
}
# submitted_at_least N: the sender has submitted N records.
submitted_at_least() {
    local s
    s=$(sed -n 's/^progress: \([0-9]*\) submitted.*/\1/p' "$TMP/send.err" | tail -n 1)
    [ -n "$s" ] && [ "$s" -ge "$1" ]
}
# plateau: the acknowledged count is the same in 10 reports over at least a second
# (reports come every 100 ms while the sender waits).
PLATEAU=
plateau() {
    local a b
    a=$(acked)
    sleep 1
    b=$(acked)
    PLATEAU=$b
    [ -n "$a" ] && [ "$a" = "$b" ]
}

check "the configuration loads" expect_exit 0 "$BROKER" --config "$CFG" --check-config
start_engine "$CFG" "$SHARDS"
check "merger answers" wait_until 30 health_answers "$CFG"

mkfifo "$TMP/in.fifo"
"$CADRE" send --config "$CFG" --window "$WINDOW" --progress --timeout-ms 60000 \
    "$TMP/in.fifo" >"$TMP/send.out" 2>"$TMP/send.err" &
SEND=$!
ENGINE_PIDS+=("$SEND")
exec 3>"$TMP/in.fifo"
head -n "$FIRST" "$TMP/corpus.jsonl" >&3
check "the first $FIRST records are submitted" wait_until 30 submitted_at_least "$FIRST"
kill -STOP "$PID_merger"
tail -n +$((FIRST + 1)) "$TMP/corpus.jsonl" >&3 &
WRITER=$!
exec 3>&-

check "acknowledgements stop while the merger is stopped" wait_until 20 plateau
STOPPED_AT=$PLATEAU
echo "  plateau at $STOPPED_AT acknowledged (stopped after $FIRST submitted)"
check "the plateau is below the total" test "${STOPPED_AT:-$TOTAL}" -lt "$TOTAL"
check "the plateau is within max_lag + window of the stop" \
    test "${STOPPED_AT:-$TOTAL}" -le $((FIRST + MAX_LAG + WINDOW))
check "the plateau holds past the merger's liveness" plateau
check "the broker declared the merger dead" grep -q 'merger dead' "$TMP/broker.log"

kill -CONT "$PID_merger"
rc=0
wait "$SEND" || rc=$?
wait "$WRITER" || true
check "cadre send completes after SIGCONT" test "$rc" -eq 0
check "the broker takes the merger back" grep -q 'merger 0 heard again' "$TMP/broker.log"
check "every record acknowledged once, flushed at the last one" \
    grep -q "^$TOTAL acknowledged, 0 refused, 0 unreadable, flushed at seq $TOTAL\$" \
    "$TMP/send.out"
check "the merger applied exactly the journal" \
    test "$(health_field "$CFG" applied)" -eq "$TOTAL"
check "the merger dropped nothing" test "$(health_field "$CFG" dropped)" -eq 0
check "the health report times the stages" \
    python3 -c 'import json, sys
t = json.loads(sys.stdin.read())["timings"]
assert t["reconciliations"] >= 1 and t["apply_s"] > 0 and t["reconcile_s"] > 0, t
assert t["last_reconcile_s"] <= t["reconcile_s"] and t["snapshot_s"] >= t["last_snapshot_s"] >= 0, t' \
    < <("$CADRE" query --config "$CFG" health)
"$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl"
check "assignments equal cadre cluster's" cmp "$TMP/got.jsonl" "$TMP/expected.jsonl"
check "every process exits 0" stop_engine "$SHARDS"

finish
