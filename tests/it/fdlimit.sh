#!/usr/bin/env bash
# fdlimit.sh - file descriptors (docs/protocol.md §10): the serving roles run with an
# open-file limit of 256 (soft and hard) while a client opens 600 connections to the
# broker's ingest and another 600 to the merger's query socket, holding them. Every role
# survives (libzmq aborts a process whose ipc:// accept() meets EMFILE), the excess is
# refused and logged, and once the flood is gone a corpus still gives `cadre cluster`'s
# result. A role started with a low soft limit raises it to the hard one.
# shellcheck disable=SC2154  # PID_<name> is set by engine_lib.sh's spawn (printf -v)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${POKE:?path to cadre_poke}" "${FIXTURES_DIR:?}"
SHARDS=1
CFG=$TMP/cadre.yaml
V=(--text CADRE01)

all_alive() {
    local r var ok=0
    for r in merger broker shard0; do
        var="PID_$r"
        kill -0 "${!var}" 2>/dev/null || {
            echo "  $r is gone; its log:" >&2
            tail -n 5 "$TMP/$r.log" | sed 's/^/    /' >&2
            ok=1
        }
    done
    return $ok
}

sent_all() {
    local n
    n=$("$CADRE" check "$1" | sed -n 's/^\([0-9]*\) records.*/\1/p')
    timeout 90 "$CADRE" send --config "$CFG" "$1" --timeout-ms 30000 >"$TMP/send.out" &&
        grep -q "^$n acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/send.out"
}

same_as_cluster() {
    "$CADRE" cluster "$1" --out "$TMP/want.jsonl" --quiet &&
        timeout 30 "$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl" &&
        cmp "$TMP/want.jsonl" "$TMP/got.jsonl"
}

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 2 --seed 5 \
    --out "$TMP/a.msgpack" >/dev/null
write_config "$CFG" "$TMP" "$SHARDS"
# The broker and the merger with 256 descriptors in all; the shard as usual.
spawn merger bash -c "ulimit -n 256 && exec '$MERGER' --config '$CFG'"
spawn broker bash -c "ulimit -n 256 && exec '$BROKER' --config '$CFG'"
spawn shard0 "$SHARD" --config "$CFG" --id 0
check "the engine starts" wait_until 30 health_answers "$CFG"

spawn flood_ingest "$POKE" "ipc://$TMP/ingest" "${V[@]}" --hex 02 --connections 600 --hold 5000
spawn flood_query "$POKE" "ipc://$TMP/query" "${V[@]}" --hex 02 --connections 600 --hold 5000
check "the broker refuses the excess connections, and says so" \
    wait_until 30 grep -q 'gate: .*refused\|gate: .*closed at accept' "$TMP/broker.log"
check "so does the merger" \
    wait_until 30 grep -q 'gate: .*refused\|gate: .*closed at accept' "$TMP/merger.log"
flood_done() {
    wait "$PID_flood_ingest" 2>/dev/null || true
    wait "$PID_flood_query" 2>/dev/null || true
}
check "the flooding clients end" flood_done
check "every role survived 1,200 connections with 256 descriptors" all_alive
check "a corpus is then served" sent_all "$TMP/a.msgpack"
check "... with cadre cluster's result" same_as_cluster "$TMP/a.msgpack"
check "every role stops cleanly" stop_engine "$SHARDS"

# A soft limit below the hard one is raised at start.
raised() {
    local cfg2=$TMP/two.yaml
    write_config "$cfg2" "$TMP/two" 1
    spawn broker2 bash -c "ulimit -S -n 64 && exec '$BROKER' --config '$cfg2'"
    wait_until 20 grep -q 'open-file limit' "$TMP/broker2.log" || return 1
    stop_pid broker2 || return 1
    grep -q "open-file limit $(ulimit -H -n)" "$TMP/broker2.log"
}
check "a soft open-file limit below the hard one is raised to it" raised
finish
