# engine_lib.sh - helpers for the integration tests that run the engine as separate
# processes (sourced after lib.sh, not run). Every process started here is recorded, and
# killed on exit whatever happens, so a failing test leaves nothing running.
: "${CADRE:?path to the cadre binary}" "${BROKER:?}" "${SHARD:?}" "${MERGER:?}"

ENGINE_PIDS=()
# shellcheck disable=SC2317  # called through the trap
engine_cleanup() {
    local pid
    for pid in "${ENGINE_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap engine_cleanup EXIT

# write_config FILE DIR SHARDS [EXTRA_YAML [BROKER_KEYS]]: a deployment with ipc://
# endpoints and its data in DIR, heartbeats every 200 ms. EXTRA_YAML is appended as is;
# BROKER_KEYS ("key: value" lines) go into the broker section.
write_config() {
    local file=$1 dir=$2 shards=$3 extra=${4:-} broker=${5:-}
    mkdir -p "$dir/data"
    {
        printf 'data_dir: %s/data\nshards: %d\nheartbeat_ms: 200\n' "$dir" "$shards"
        printf 'broker:\n  ingest: ipc://%s/ingest\n  backend: ipc://%s/backend\n' "$dir" "$dir"
        if [ -n "$broker" ]; then
            printf '%s\n' "$broker" | sed 's/^/  /'
        fi
        printf 'merger:\n  shards: ipc://%s/merger-shards\n' "$dir"
        printf '  events: ipc://%s/events\n  query: ipc://%s/query\n' "$dir" "$dir"
        if [ -n "$extra" ]; then
            printf '%s\n' "$extra"
        fi
    } >"$file"
}

# spawn NAME COMMAND...: starts COMMAND in the background with stderr in $LOGDIR/NAME.log
# (LOGDIR defaults to $TMP), and records its pid as ${PID_NAME}.
spawn() {
    local name=$1
    shift
    "$@" 2>"${LOGDIR:-$TMP}/$name.log" &
    ENGINE_PIDS+=("$!")
    printf -v "PID_$name" '%s' "$!"
}

# start_engine CONFIG SHARDS: the merger, the broker and the shards, in that order.
start_engine() {
    local cfg=$1 shards=$2 k
    spawn merger "$MERGER" --config "$cfg"
    spawn broker "$BROKER" --config "$cfg"
    for ((k = 0; k < shards; k++)); do
        spawn "shard$k" "$SHARD" --config "$cfg" --id "$k"
    done
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds; fails when
# it has not within SECONDS.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "  timed out waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

# health_answers CONFIG: the merger answers a health query.
health_answers() {
    "$CADRE" query --config "$1" health --timeout-ms 500 >/dev/null 2>&1
}

# health_field CONFIG KEY: one counter of the merger's health report.
health_field() {
    "$CADRE" query --config "$1" health | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"
}

# stop_pid NAME: TERMs the process (it may have stopped already) and checks it exits 0.
stop_pid() {
    local var="PID_$1" rc=0
    kill -TERM "${!var}" 2>/dev/null || true
    wait "${!var}" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "  $1 exited $rc; its log:" >&2
        tail -n 20 "${LOGDIR:-$TMP}/$1.log" | sed 's/^/    /' >&2
        return 1
    fi
}

# stop_engine SHARDS: the shards and the merger first, then the broker (stopped last, it
# sends DISCONNECT to peers that are gone already, so no process is still shutting down
# because of DISCONNECT when its TERM arrives); fails unless every process exits 0.
stop_engine() {
    local k ok=0
    for ((k = 0; k < $1; k++)); do
        stop_pid "shard$k" || ok=1
    done
    stop_pid merger || ok=1
    stop_pid broker || ok=1
    return $ok
}
