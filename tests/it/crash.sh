#!/usr/bin/env bash
# crash.sh - kill -9 the merger, a shard and the broker (one per run) in the middle of a
# stream, restart it, and check that the final state equals an uninterrupted run: the same
# assignments, identity and campaign records as `cadre cluster` on the same input, with no
# acknowledged observation lost (ARCHITECTURE "Durability and recovery").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}" "${SOURCE_DIR:?}"

SHARDS=3
EVERY=500
CORPUS="$TMP/corpus.msgpack"
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 400 --out "$CORPUS" >/dev/null
TOTAL=12000
"$CADRE" cluster "$CORPUS" --reconcile-every "$EVERY" --out "$TMP/exp.assign.jsonl" \
    --identities "$TMP/exp.ids.jsonl" --campaigns "$TMP/exp.camps.jsonl" --quiet

# merger_applied CONFIG: the merger's applied counter (0 while it does not answer).
merger_applied() {
    local v
    v=$(health_field "$1" applied 2>/dev/null)
    echo "${v:-0}"
}

past() {
    [ "$(merger_applied "$1")" -ge "$2" ]
}

send_done() {
    ! kill -0 "$SEND_PID" 2>/dev/null
}

# crash_run ROLE: one deployment, ROLE killed with SIGKILL once the merger applied a third
# of the corpus, restarted, and the stream finished.
crash_run() {
    local role=$1 dir="$TMP/${2:-$1}" rc=0
    mkdir -p "$dir"
    LOGDIR=$dir
    local cfg="$dir/cadre.yaml"
    write_config "$cfg" "$dir" "$SHARDS" "clustering:
  reconcile_every: $EVERY"
    start_engine "$cfg" "$SHARDS"
    wait_until 30 health_answers "$cfg" || return 1
    "$CADRE" send --config "$cfg" --window 200 --timeout-ms 60000 "$CORPUS" \
        >"$dir/send.out" 2>"$dir/send.err" &
    SEND_PID=$!
    ENGINE_PIDS+=("$SEND_PID")
    wait_until 60 past "$cfg" $((TOTAL / 3)) || return 1
    if send_done; then
        echo "  the stream ended before the crash; nothing was tested" >&2
        return 1
    fi
    local var="PID_$role"
    kill -KILL "${!var}"
    wait "${!var}" 2>/dev/null || true
    case $role in
    merger) spawn merger "$MERGER" --config "$cfg" ;;
    broker) spawn broker "$BROKER" --config "$cfg" ;;
    shard1) spawn shard1 "$SHARD" --config "$cfg" --id 1 ;;
    esac
    wait "$SEND_PID" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "  cadre send exited $rc:" >&2
        sed 's/^/    /' "$dir/send.err" >&2
        return 1
    fi
    grep -q "^$TOTAL acknowledged, 0 refused" "$dir/send.out" || {
        echo "  send: $(cat "$dir/send.out")" >&2
        return 1
    }
    "$CADRE" query --config "$cfg" assignments --out "$dir/got.assign.jsonl" &&
        "$CADRE" query --config "$cfg" identities --out "$dir/got.ids.jsonl" &&
        "$CADRE" query --config "$cfg" campaigns --out "$dir/got.camps.jsonl" || return 1
    stop_engine "$SHARDS" || rc=1
    cmp "$dir/got.assign.jsonl" "$TMP/exp.assign.jsonl" &&
        cmp <(unseq "$dir/got.ids.jsonl") <(unseq "$TMP/exp.ids.jsonl") &&
        cmp <(unseq "$dir/got.camps.jsonl") <(unseq "$TMP/exp.camps.jsonl") || rc=1
    return $rc
}

# unseq FILE: identity or campaign records without their formed_seq when UNSEQ is set. After a
# broker crash the client resends what was not acknowledged; a window holding a delete and a
# later write of the same id is not a no-op when replayed (the replay re-creates, deletes and
# re-creates), so the stream counts more inputs and reconciliation points move. The final
# partitions, ids and members are the same; only which input formed a record, and so the order
# of the records, may differ.
unseq() {
    if [ -n "${UNSEQ:-}" ]; then
        sed 's/"formed_seq": [0-9]*, //' "$1" | sort
    else
        cat "$1"
    fi
}

check "kill -9 the merger mid-stream: same final state, nothing lost" crash_run merger
check "kill -9 a shard mid-stream: same final state, nothing lost" crash_run shard1
check "kill -9 the broker mid-stream: same final state, nothing lost" crash_run broker

# The same with a fleet's stream of appends (split records, resends, re-appends): the broker
# merges each into the current record, so its crash must lose no acknowledged append and
# double none (tests/it/appendify.py).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 150 --seed 3 \
    --out "$TMP/whole.jsonl" >/dev/null
"$PYTHON" "$SOURCE_DIR/tests/it/appendify.py" "$TMP/whole.jsonl" "$TMP/appends.jsonl" 5
CORPUS="$TMP/appends.jsonl"
TOTAL=$(grep -c . "$CORPUS")
"$CADRE" cluster "$CORPUS" --reconcile-every "$EVERY" --out "$TMP/exp.assign.jsonl" \
    --identities "$TMP/exp.ids.jsonl" --campaigns "$TMP/exp.camps.jsonl" --quiet
UNSEQ=1 # the append stream deletes and re-appends ids (see unseq)
check "appends: kill -9 the broker mid-stream: same final state, nothing lost" \
    crash_run broker appends-broker
check "appends: kill -9 the merger mid-stream: same final state, nothing lost" \
    crash_run merger appends-merger
check "appends: kill -9 a shard mid-stream: same final state, nothing lost" \
    crash_run shard1 appends-shard1
finish
