#!/usr/bin/env bash
# ship_crash.sh - `cadre ship` loses nothing and doubles nothing (docs/ship.md): a writer
# appends Cowrie sessions to two sensors' logs and rotates them (sensor s1 by rename, s2 by
# copytruncate, older rotations gzip'd, some sessions written in two halves), while the
# shipper and the broker are killed with kill -9 at random points and restarted. Once the
# shipper has caught up, the engine's assignments have the partitions of `cadre ingest
# cowrie` of every file written + `cadre cluster`, with as many observations, and what the
# shipper sent (--tee) merges into exactly the observations of `cadre ingest` (no part lost,
# none counted twice, no session id sent with two contents: tests/it/ship_check.py).
# A second run checks that nothing counts as sent before its ACK: the broker is down while
# the shipper emits, the shipper is killed, both restart.
# SHIP_CRASH_SEED=N replays one run (the seed is printed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${SOURCE_DIR:?}"

PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
SEED=${SHIP_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "# seed $SEED"
SESSIONS=${SHIP_CRASH_SESSIONS:-900}
RATE=${SHIP_CRASH_RATE:-120}
WRITER="$SOURCE_DIR/tests/it/cowrie_writer.py"

# caught_up STATE DIR...: the shipper's state shows every file of the sensor directories
# read and acknowledged: the current logs to their size with no part in flight, every other
# file finished.
caught_up() {
    "$PYTHON" - "$@" <<'PY'
import os, sys
state, dirs = sys.argv[1], sys.argv[2:]
try:
    lines = open(state).read().splitlines()
except FileNotFoundError:
    sys.exit(1)
units, cur = [], None
for line in lines[1:]:
    w = line.split(" ")
    if w[0] == "unit":
        cur = {"dev": int(w[1]), "ino": int(w[2]), "commit": int(w[5]), "done": w[7] == "d", "cuts": 0}
        units.append(cur)
    elif w[0] == "cut":
        cur["cuts"] += 1
live = {}
for d in dirs:
    st = os.stat(os.path.join(d, "cowrie.json"))
    live[(st.st_dev, st.st_ino)] = st.st_size
for (dev, ino), size in live.items():
    if size and not any(u["dev"] == dev and u["ino"] == ino and u["commit"] == size and not u["cuts"] for u in units):
        sys.exit(1)
for u in units:
    if (u["dev"], u["ino"]) not in live and not u["done"]:
        sys.exit(1)
PY
}

# kill_wait NAME: kill -9 of a spawned process, reaped.
kill_wait() {
    local var="PID_$1"
    kill -KILL "${!var}" 2>/dev/null || true
    wait "${!var}" 2>/dev/null || true
}

progress() { cat "$TMP/progress" 2>/dev/null || echo 0; }
past() { [ "$(progress)" -ge "$1" ] || ! kill -0 "$WRITER_PID" 2>/dev/null; }

t_crash() {
    local dir=$TMP/run cfg rc=0 k target at n_ship=0
    mkdir -p "$dir/logs"
    LOGDIR=$dir
    cfg=$dir/cadre.yaml
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 30 health_answers "$cfg" || return 1
    ship_cmd=("$CADRE" ship --config "$cfg" --state "$dir/state" --rotate-wait-ms 300
        --idle-ms 50 --tee "$dir/tee.jsonl" "$dir/logs/s1/cowrie.json" "$dir/logs/s2/cowrie.json")
    spawn ship0 "${ship_cmd[@]}"
    "$PYTHON" "$WRITER" "$dir/logs" s1,s2 "$SESSIONS" "$SEED" --rotate-every 70 \
        --rotate-style rename,copy --gzip-old --rate "$RATE" --progress "$TMP/progress" \
        --split-every 40 --split-ms 150 2>"$dir/writer.log" &
    WRITER_PID=$!
    ENGINE_PIDS+=("$WRITER_PID")
    # A few kills at random points of the stream, each target down while the writer goes on
    # (rotations included), then restarted.
    local points=() targets=(ship broker ship ship broker)
    for k in "${!targets[@]}"; do points+=($((RANDOM % (SESSIONS - 100) + 20))); done
    mapfile -t points < <(printf '%s\n' "${points[@]}" | sort -n)
    for k in "${!targets[@]}"; do
        target=${targets[$k]}
        at=${points[$k]}
        wait_until 60 past "$at" || return 1
        if [ "$target" = ship ]; then
            kill_wait "ship$n_ship"
        else
            kill_wait broker
        fi
        echo "  kill -9 $target at session $(progress)"
        wait_until 60 past $((at + RANDOM % 40)) || return 1
        if [ "$target" = ship ]; then
            n_ship=$((n_ship + 1))
            spawn "ship$n_ship" "${ship_cmd[@]}"
        else
            spawn broker "$BROKER" --config "$cfg"
        fi
    done
    wait "$WRITER_PID" || { echo "  the writer failed: $(cat "$dir/writer.log")" >&2; return 1; }
    finish_run "$dir" "$cfg" "ship$n_ship" "$dir/logs/s1" "$dir/logs/s2" || rc=1
    compare "$dir" || rc=1
    "$PYTHON" "$SOURCE_DIR/tests/it/ship_check.py" "$dir/tee.jsonl" "$dir/all.jsonl" >"$dir/check.out" || rc=1
    sed 's/^/  sent: /' "$dir/check.out"
    return $rc
}

# compare DIR: DIR/got.jsonl (the engine's assignments) has DIR/want.jsonl's observations
# and partitions.
compare() {
    local want got
    want=$(grep -c . "$1/want.jsonl")
    got=$(grep -c . "$1/got.jsonl")
    echo "  $(head -n 1 "$1/ingest.err"); engine: $got observations"
    [ "$want" = "$got" ] || {
        echo "  the engine holds $got observations, cadre ingest makes $want" >&2
        return 1
    }
    "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$1/want.jsonl" "$1/got.jsonl" | sed 's/^/  /'
    "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$1/want.jsonl" "$1/got.jsonl" >/dev/null
}

# finish_run DIR CFG SHIPNAME LOGS...: the shipper caught up and stopped, the engine's
# assignments queried and stopped, the logs ingested and clustered.
finish_run() {
    local dir=$1 cfg=$2 name=$3 rc=0
    shift 3
    wait_until 90 caught_up "$dir/state/offsets" "$@" || {
        cat "$dir/state/offsets" >&2
        return 1
    }
    stop_pid "$name" || rc=1
    "$CADRE" send --config "$cfg" /dev/null >/dev/null || return 1
    "$CADRE" query --config "$cfg" assignments --out "$dir/got.jsonl" || return 1
    stop_engine 1 || rc=1
    local files=()
    for d in "$@"; do files+=("$d"/*); done
    "$CADRE" ingest cowrie "${files[@]}" --out "$dir/all.jsonl" 2>"$dir/ingest.err" || return 1
    "$CADRE" cluster "$dir/all.jsonl" --out "$dir/want.jsonl" --quiet || return 1
    return $rc
}

check "ship: kill -9 of the shipper and the broker amid writes and rotations loses and doubles nothing" t_crash

tee_lines() { [ "$(grep -c . "$1" 2>/dev/null)" -ge "$2" ]; }

t_unacked() {
    local dir=$TMP/unacked cfg rc=0
    mkdir -p "$dir/logs"
    LOGDIR=$dir
    cfg=$dir/cadre.yaml
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 30 health_answers "$cfg" || return 1
    kill_wait broker
    ship_cmd=("$CADRE" ship --config "$cfg" --state "$dir/state" --idle-ms 50
        --tee "$dir/tee.jsonl" "$dir/logs/s1/cowrie.json")
    spawn ship0 "${ship_cmd[@]}"
    # Every other session in two writes: the shipper cuts some sessions into parts.
    "$PYTHON" "$WRITER" "$dir/logs" s1 40 "$SEED" --split-every 2 --split-ms 120 >/dev/null ||
        return 1
    # Sent (the tee is written as a part is sent) into a broker that is not there.
    wait_until 30 tee_lines "$dir/tee.jsonl" 20 || return 1
    kill_wait ship0
    spawn broker "$BROKER" --config "$cfg"
    spawn ship1 "${ship_cmd[@]}"
    finish_run "$dir" "$cfg" ship1 "$dir/logs/s1" || rc=1
    compare "$dir" || rc=1
    # The restart sent the very parts sent before (their cuts were kept): no session id
    # with two contents, no part counted twice.
    "$PYTHON" "$SOURCE_DIR/tests/it/ship_check.py" "$dir/tee.jsonl" "$dir/all.jsonl" >"$dir/check.out" || rc=1
    sed 's/^/  sent: /' "$dir/check.out"
    return $rc
}
check "ship: what the broker never acknowledged is sent again, the same parts, after the shipper's restart" t_unacked
finish
