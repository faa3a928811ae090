#!/usr/bin/env bash
# crash.sh - kill -9 the merger, a shard and the broker (one per run) in the middle of a
# stream, restart it, and check that the final state equals an uninterrupted run: the same
# assignments, identity and campaign records as `cadre cluster` on the same input, with no
# acknowledged observation lost (ARCHITECTURE "Durability and recovery").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}" "${SOURCE_DIR:?}" "${POKE:?}"

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
        cmp "$dir/got.ids.jsonl" "$TMP/exp.ids.jsonl" &&
        cmp "$dir/got.camps.jsonl" "$TMP/exp.camps.jsonl" || rc=1
    return $rc
}

check "kill -9 the merger mid-stream: same final state, nothing lost" crash_run merger
check "kill -9 a shard mid-stream: same final state, nothing lost" crash_run shard1
check "kill -9 the broker mid-stream: same final state, nothing lost" crash_run broker

# The same with a fleet's stream of appends (split records, resends, deletes and re-appends):
# the broker merges each into the current record, so its crash must lose no acknowledged append
# and double none (tests/it/appendify.py). `cadre send` names itself as a producer (PSUBMIT), so
# what it resends after the broker's restart and the broker had already journaled is
# acknowledged, not journaled again: a replayed delete and re-append would otherwise move the
# record's input sequence, and the ids formed on it (docs/protocol.md §4).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 150 --seed 3 \
    --out "$TMP/whole.jsonl" >/dev/null
"$PYTHON" "$SOURCE_DIR/tests/it/appendify.py" "$TMP/whole.jsonl" "$TMP/appends.jsonl" 5
CORPUS="$TMP/appends.jsonl"
TOTAL=$(grep -c . "$CORPUS")
"$CADRE" cluster "$CORPUS" --reconcile-every "$EVERY" --out "$TMP/exp.assign.jsonl" \
    --identities "$TMP/exp.ids.jsonl" --campaigns "$TMP/exp.camps.jsonl" --quiet
check "appends: kill -9 the broker mid-stream: same final state, nothing lost" \
    crash_run broker appends-broker
check "appends: kill -9 the merger mid-stream: same final state, nothing lost" \
    crash_run merger appends-merger
check "appends: kill -9 a shard mid-stream: same final state, nothing lost" \
    crash_run shard1 appends-shard1
# resubmit_run: a producer's write, delete and re-write of one id, journaled and then resent
# whole after a kill -9 of the broker (as `cadre send` resends what it has no ACK for), are
# acknowledged without being journaled again: the next new input gets the next seq.
resubmit_run() {
    local dir="$TMP/resubmit" out
    mkdir -p "$dir"
    LOGDIR=$dir
    local cfg="$dir/cadre.yaml"
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 30 health_answers "$cfg" || return 1
    local x y
    x=$(sed -n 1p "$TMP/whole.jsonl")
    y=$(sed -n 2p "$TMP/whole.jsonl")
    local del="{\"id\": $(jq_id "$x"), \"op\": \"delete\"}"
    local -a v=(--text CADRE01 --hex 14 --u64 77)
    local -a round=("${v[@]}" --u64 1 --json "$x" --then "${v[@]}" --u64 2 --json "$del"
        --then "${v[@]}" --u64 3 --json "$x")
    out=$("$POKE" "ipc://$dir/ingest" "${round[@]}" --wait 20000 --replies 3) || return 1
    [ "$(grep -c '^3 hex 000000000000000[123]$' <<<"$out")" -eq 3 ] || {
        echo "  first round: $out" >&2
        return 1
    }
    kill -KILL "$PID_broker"
    wait "$PID_broker" 2>/dev/null || true
    spawn broker "$BROKER" --config "$cfg"
    out=$("$POKE" "ipc://$dir/ingest" "${round[@]}" --then "${v[@]}" --u64 4 --json "$y" \
        --wait 20000 --replies 4) || return 1
    stop_engine 1 || return 1
    [ "$(grep -c '^3 hex 0000000000000003$' <<<"$out")" -eq 3 ] &&
        [ "$(tail -1 <<<"$out")" = "3 hex 0000000000000004" ] || {
        echo "  resent round: $out" >&2
        return 1
    }
}

# jq_id LINE: the JSON string of LINE's "id".
jq_id() {
    "$PYTHON" -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["id"]))' "$1"
}

check "a producer's resubmissions after a broker crash are not journaled again" resubmit_run

# lost_journal_run: the merger's snapshot names its records by journal seq (docs/storage.md
# "Merger snapshot"). With the broker's journal gone (a data directory restored in part), a
# restarted merger cannot restore: it says which records are missing and exits 1, instead of
# serving a model without them.
lost_journal_run() {
    local dir="$TMP/lost" rc=0
    mkdir -p "$dir"
    LOGDIR=$dir
    local cfg="$dir/cadre.yaml"
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 30 health_answers "$cfg" || return 1
    head -n 300 "$TMP/whole.jsonl" >"$dir/part.jsonl"
    "$CADRE" send --config "$cfg" "$dir/part.jsonl" >/dev/null 2>&1 || return 1
    stop_engine 1 || return 1
    rm -rf "$dir/data/broker"
    spawn broker "$BROKER" --config "$cfg"
    spawn merger "$MERGER" --config "$cfg"
    wait "$PID_merger" || rc=$?
    stop_pid broker || return 1
    [ "$rc" -eq 1 ] && grep -q "journal lacks .* records the snapshot names" "$dir/merger.log" || {
        echo "  merger exited $rc:" >&2
        tail -n 5 "$dir/merger.log" | sed 's/^/    /' >&2
        return 1
    }
}
check "a merger whose snapshot names records the journal lacks stops with an error" \
    lost_journal_run
finish
