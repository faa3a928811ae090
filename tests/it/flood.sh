#!/usr/bin/env bash
# flood.sh - overload (docs/protocol.md §4, §10), against the engine run as separate
# processes over ipc:// with a small broker.max_lag:
#   - a flooding client submits a large corpus as fast as its window lets it (far more
#     than the engine sustains), while a client floods garbage without reading a reply and
#     an event subscriber never reads;
#   - the flooding client is held back (back-pressure it can see: its window fills and its
#     submissions wait for acknowledgements), nothing it sent is dropped or refused;
#   - a normal client sending a small corpus meanwhile is served;
#   - the resident memory of every role stays under a stated bound the whole time (sampled
#     every 100 ms): broker 160 MiB, each shard 128 MiB, merger 384 MiB (x4 under
#     AddressSanitizer), about three times what they reach on the development machine;
#   - the final identities and campaigns are `cadre cluster`'s over both corpora (as
#     partitions: the two clients' records interleave in no fixed order).
# shellcheck disable=SC2154  # PID_<name> is set by engine_lib.sh's spawn (printf -v)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${POKE:?path to cadre_poke}" "${FIXTURES_DIR:?}" "${SOURCE_DIR:?}"
SHARDS=2
CFG=$TMP/cadre.yaml
WINDOW=5000
MAX_LAG=2000
SCALE=1
if [ -n "${ASAN_OPTIONS:-}" ]; then
    SCALE=4 # AddressSanitizer's shadow memory and quarantine
fi
BOUND_BROKER=$((160 * SCALE))
BOUND_SHARD=$((128 * SCALE))
BOUND_MERGER=$((384 * SCALE))
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 1000 --seed 11 \
    --out "$TMP/flood.msgpack" >/dev/null
"$CADRE" gen "$FIXTURES_DIR/campaigns/lone_wolf.yaml" --replicate 20 --seed 12 \
    --out "$TMP/normal.msgpack" >/dev/null
NF=$("$CADRE" check "$TMP/flood.msgpack" | sed -n 's/^\([0-9]*\) records.*/\1/p')
NN=$("$CADRE" check "$TMP/normal.msgpack" | sed -n 's/^\([0-9]*\) records.*/\1/p')
write_config "$CFG" "$TMP" "$SHARDS" "" "max_lag: $MAX_LAG"
start_engine "$CFG" "$SHARDS"
check "the engine starts" wait_until 30 health_answers "$CFG"

# rss_watch: the peak VmRSS (MiB) of each role, sampled every 100 ms into $TMP/rss.<role>,
# until $TMP/rss.stop exists.
rss_watch() {
    local r var kb
    declare -A peak=([broker]=0 [merger]=0 [shard0]=0 [shard1]=0)
    until [ -e "$TMP/rss.stop" ]; do
        for r in broker merger shard0 shard1; do
            var="PID_$r"
            kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/${!var}/status" 2>/dev/null) || kb=0
            [ -n "$kb" ] && [ "$kb" -gt "${peak[$r]}" ] && peak[$r]=$kb
        done
        for r in broker merger shard0 shard1; do
            echo $((peak[$r] / 1024)) >"$TMP/rss.$r"
        done
        sleep 0.1
    done
}
rss_watch &
WATCH=$!
ENGINE_PIDS+=("$WATCH")

spawn garbage "$POKE" "ipc://$TMP/ingest" --text CADRE01 --hex 77 --zeros 8 --rcvhwm 1 \
    --repeat 20000 --hold 600000
spawn stuck "$POKE" --sub "ipc://$TMP/events" --stuck 600000 --ready "$TMP/stuck.ready"
check "the subscriber that never reads is connected" wait_until 10 test -e "$TMP/stuck.ready"

"$CADRE" send --config "$CFG" --window "$WINDOW" --progress --timeout-ms 120000 \
    "$TMP/flood.msgpack" >"$TMP/flood.out" 2>"$TMP/flood.err" &
FLOOD=$!
ENGINE_PIDS+=("$FLOOD")
# The normal client starts once the flood is under way.
flooding() {
    grep -q '^progress: [1-9][0-9]* submitted' "$TMP/flood.err"
}
check "the flood is under way" wait_until 30 flooding
normal_served() {
    timeout 120 "$CADRE" send --config "$CFG" "$TMP/normal.msgpack" --timeout-ms 100000 \
        >"$TMP/normal.out" &&
        grep -q "^$NN acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/normal.out"
}
check "a normal client is served during the flood" normal_served
frc=0
wait "$FLOOD" || frc=$?
check "the flooding client completes" test "$frc" -eq 0
check "... every record acknowledged, none refused" \
    grep -q "^$NF acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/flood.out"
# Back-pressure the client sees: its window was full (submitted - acknowledged = window)
# and it waited for acknowledgements.
held_back() {
    awk -v w="$WINDOW" '/^progress:/ { if ($2 - $4 >= w) full = 1 } END { exit !full }' \
        "$TMP/flood.err"
}
check "the flooding client was held back at its window" held_back
touch "$TMP/rss.stop"
wait "$WATCH" 2>/dev/null || true
under() {
    local got
    got=$(cat "$TMP/rss.$1")
    echo "  $1 peak RSS $got MiB (bound $2 MiB)"
    [ "$got" -gt 0 ] && [ "$got" -le "$2" ]
}
check "broker memory stayed bounded" under broker "$BOUND_BROKER"
check "shard 0 memory stayed bounded" under shard0 "$BOUND_SHARD"
check "shard 1 memory stayed bounded" under shard1 "$BOUND_SHARD"
check "merger memory stayed bounded" under merger "$BOUND_MERGER"
check "the merger applied every input" test "$(health_field "$CFG" applied)" -eq $((NF + NN))
check "the merger counted the events the stuck subscriber could not take" \
    test "$(health_field "$CFG" events_dropped)" -gt 0
cat "$TMP/flood.msgpack" "$TMP/normal.msgpack" >"$TMP/both.msgpack"
"$CADRE" cluster "$TMP/both.msgpack" --out "$TMP/want.jsonl" --quiet
"$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl"
check "identities and campaigns equal cadre cluster's (as partitions)" \
    "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$TMP/want.jsonl" "$TMP/got.jsonl"
check "every role stops cleanly" stop_engine "$SHARDS"
finish
