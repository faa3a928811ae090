#!/usr/bin/env bash
# hostile.sh - clients that never read (docs/protocol.md §10), against the engine run as
# separate processes over ipc://:
#   1. a client floods the broker's ingest with garbage and never reads the ERROR replies:
#      the broker drops the replies it cannot queue (counted, logged), and a normal
#      `cadre send` is still served and gives `cadre cluster`'s result;
#   2. the same on the merger's query socket: `cadre query` is still answered;
#   3. an event subscriber that never reads: the merger drops what it cannot queue (after
#      a bounded wait, counted in the health report) instead of growing, and keeps going;
#   4. SIGTERM stops the broker at once while the flooding client still holds its
#      connection.
# shellcheck disable=SC2154  # PID_<name> is set by engine_lib.sh's spawn (printf -v)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${POKE:?path to cadre_poke}" "${FIXTURES_DIR:?}"
SHARDS=1
CFG=$TMP/cadre.yaml
V=(--text CADRE01)
FLOOD=30000 # garbage messages sent without reading a reply: more than limits.client_hwm

# flood NAME SOCKET FRAME...: a client that sends FRAMEs FLOOD times with a receive queue of
# one message and holds its connection for a minute without reading anything.
flood() {
    local name=$1 sock=$2
    shift 2
    spawn "$name" "$POKE" "ipc://$TMP/$sock" "$@" --rcvhwm 1 --repeat "$FLOOD" --hold 60000
}

sent_all() {
    local corpus=$1 n
    n=$("$CADRE" check "$corpus" | sed -n 's/^\([0-9]*\) records.*/\1/p')
    timeout 60 "$CADRE" send --config "$CFG" "$corpus" --timeout-ms 20000 >"$TMP/send.out" &&
        grep -q "^$n acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/send.out"
}

same_as_cluster() {
    "$CADRE" cluster "$1" --out "$TMP/want.jsonl" --quiet &&
        timeout 30 "$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl" &&
        cmp "$TMP/want.jsonl" "$TMP/got.jsonl"
}

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 4 --seed 3 \
    --out "$TMP/a.msgpack" >/dev/null
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 40 --seed 4 \
    --out "$TMP/b.msgpack" >/dev/null
cat "$TMP/a.msgpack" "$TMP/b.msgpack" >"$TMP/ab.msgpack"
# A small events queue, so the stuck subscriber fills it with a modest corpus.
write_config "$CFG" "$TMP" "$SHARDS" "limits:
  events_hwm: 200"
# The roles start under umask 000: their ipc:// socket files must still be 0600.
OLD_UMASK=$(umask)
umask 000
start_engine "$CFG" "$SHARDS"
umask "$OLD_UMASK"
check "the engine starts" wait_until 30 health_answers "$CFG"
modes_private() {
    local f
    for f in ingest backend merger-shards events query; do
        [ "$(stat -c %a "$TMP/$f")" = 600 ] || {
            echo "  $f is $(stat -c %a "$TMP/$f")" >&2
            return 1
        }
    done
}
check "ipc:// socket files are 0600 under umask 000" modes_private

# --- 1. ingest ---------------------------------------------------------------------------
flood ingest_flood ingest "${V[@]}" --hex 77 --zeros 8
check "the broker drops the replies a client does not read, and says so" \
    wait_until 60 grep -q 'broker: a client does not read its replies' "$TMP/broker.log"
check "a normal client is still served while it floods" sent_all "$TMP/a.msgpack"
check "... with cadre cluster's result" same_as_cluster "$TMP/a.msgpack"

# --- 2. queries --------------------------------------------------------------------------
flood query_flood query "${V[@]}" --hex 30 --u64 1 --json '{"what": "health"}'
check "the merger drops the replies a query client does not read, and says so" \
    wait_until 60 grep -q 'merger: a client does not read its replies' "$TMP/merger.log"
check "cadre query is still answered" expect_exit 0 timeout 30 "$CADRE" query --config "$CFG" \
    health --timeout-ms 10000
check "... and counts the dropped replies" \
    bash -c "[ \"\$(sed -n 's/.*\"replies_dropped\": \([0-9]*\).*/\1/p' '$TMP/last.out')\" -gt 0 ]"

# --- 3. events ---------------------------------------------------------------------------
spawn stuck "$POKE" --sub "ipc://$TMP/events" --stuck 120000 --ready "$TMP/stuck.ready"
check "a subscriber that never reads connects" wait_until 10 test -e "$TMP/stuck.ready"
check "a larger corpus is still served" sent_all "$TMP/b.msgpack"
check "... with cadre cluster's result over both" same_as_cluster "$TMP/ab.msgpack"
check "the merger logs the stalled subscriber" \
    grep -q 'merger: an event subscriber has not read for' "$TMP/merger.log"
events_dropped() {
    [ "$(health_field "$CFG" events_dropped)" -gt 0 ]
}
check "... and counts the events it dropped" events_dropped

# --- 4. shutdown -------------------------------------------------------------------------
stop_fast() {
    local t0=$SECONDS rc=0
    kill -TERM "$PID_broker"
    wait "$PID_broker" || rc=$?
    [ "$rc" -eq 0 ] && [ $((SECONDS - t0)) -le 10 ]
}
check "SIGTERM stops the broker while the flooding client still holds on" stop_fast
check "the merger and the shard stop cleanly" bash -c "kill -TERM $PID_merger $PID_shard0 &&
    wait $PID_merger $PID_shard0 2>/dev/null; true"
finish
