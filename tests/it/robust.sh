#!/usr/bin/env bash
# robust.sh - fault injection against the engine run as separate processes over ipc://
# (STYLE §4, docs/protocol.md "Robustness"):
#   1. garbage on every bound socket: the broker answers clients with ERROR and the right
#      code; the backend, the merger's shard socket and its query socket drop what they
#      cannot use with a "dropped" log line; every process stays up;
#   2. a corpus sent afterwards still gives what `cadre cluster` gives (events and final
#      assignments, byte for byte);
#   3. heartbeats: a stopped shard (SIGSTOP) and a killed one (kill -9) are declared dead
#      within liveness x heartbeat_ms; the killed one, restarted, is ready again and a
#      further corpus gives what `cadre cluster` gives over the union of the inputs;
#   4. SIGHUP and SIGPIPE stop nothing; SIGTERM stops every role with status 0 within
#      shutdown_timeout_ms.
# shellcheck disable=SC2154  # PID_<name> is set by engine_lib.sh's spawn (printf -v)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${POKE:?path to cadre_poke}" "${FIXTURES_DIR:?}"
SHARDS=2
HB=200
LIVENESS=3
SHUTDOWN_MS=2000
SLACK_MS=3000 # scheduling and sanitizer headroom on top of every protocol deadline
CFG=$TMP/cadre.yaml
ROLES=(broker merger shard0 shard1)

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# wait_log MS FILE PATTERN [COUNT]: polls until FILE has COUNT (default 1) lines matching
# the extended regex PATTERN; fails after MS milliseconds.
wait_log() {
    local deadline=$(($(now_ms) + $1)) file=$2 pattern=$3 want=${4:-1} got
    while :; do
        got=$(grep -cE -- "$pattern" "$file" 2>/dev/null) || got=0
        [ "$got" -ge "$want" ] && return 0
        if [ "$(now_ms)" -ge "$deadline" ]; then
            echo "  no '$pattern' (x$want) in $(basename "$file") within $1 ms; its tail:" >&2
            tail -n 5 "$file" | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.02
    done
}

# all_alive: every role still runs.
all_alive() {
    local r var ok=0
    for r in "${ROLES[@]}"; do
        var="PID_$r"
        kill -0 "${!var}" 2>/dev/null || {
            echo "  $r (${!var}) is gone; its log:" >&2
            tail -n 10 "$TMP/$r.log" | sed 's/^/    /' >&2
            ok=1
        }
    done
    return $ok
}

# ingest_error CODE FIELD FRAME...: sends one message of FRAMEs to the broker's ingest; the
# answer must be ERROR (command 0x1F) with that code, and that field unless FIELD is "-".
ingest_error() {
    local code=$1 field=$2
    shift 2
    "$POKE" "ipc://$TMP/ingest" "$@" --wait 10000 > "$TMP/reply" 2>&1 || {
        sed 's/^/    /' "$TMP/reply" >&2
        return 1
    }
    if ! grep -qx '0 text CADRE01' "$TMP/reply" || ! grep -qx '1 hex 1f' "$TMP/reply" ||
        ! grep -qF "\"code\":\"$code\"" "$TMP/reply" ||
        { [ "$field" != - ] && ! grep -qF "\"field\":\"$field\"" "$TMP/reply"; }; then
        echo "  wanted ERROR $code${field/#-/}, got:" >&2
        sed 's/^/    /' "$TMP/reply" >&2
        return 1
    fi
}

# refused_frame SOCKET FRAME...: a message with a frame over the socket's size limit gets no
# answer at all: ZeroMQ closes the connection before the frame is buffered.
refused_frame() {
    local sock=$1
    shift
    local rc=0
    "$POKE" "ipc://$TMP/$sock" "$@" --wait 1500 >"$TMP/reply" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] && grep -qx 'no reply' "$TMP/reply"
}

# query_error FRAME...: a QUERY whose body cannot be used is answered with REPLY {error}.
query_error() {
    "$POKE" "ipc://$TMP/query" "$@" --wait 10000 >"$TMP/reply" 2>&1 &&
        grep -qx '1 hex 31' "$TMP/reply" && grep -q '"error"' "$TMP/reply" || {
        sed 's/^/    /' "$TMP/reply" >&2
        return 1
    }
}

# ref_echoed REF: the last ERROR carried the client's ref.
ref_echoed() {
    grep -qx "2 hex $(printf '%016x' "$1")" "$TMP/reply"
}

# dropped ENDPOINT LOG PATTERN FRAME...: sends one message of FRAMEs to ENDPOINT (no answer
# expected) and waits for one more line matching PATTERN in LOG than there was before.
dropped() {
    local ep=$1 log=$2 pattern=$3 before
    shift 3
    before=$(grep -cE -- "$pattern" "$log") || before=0
    "$POKE" "ipc://$TMP/$ep" "$@" || return 1
    wait_log 10000 "$log" "$pattern" $((before + 1))
}

# same_as_cluster NAME CORPUS [CLUSTER_ARGS...]: `cadre query assignments` equals `cadre
# cluster`'s assignments of CORPUS.
same_as_cluster() {
    local name=$1 corpus=$2
    shift 2
    "$CADRE" cluster "$corpus" --out "$TMP/$name.want.jsonl" --quiet "$@" &&
        "$CADRE" query --config "$CFG" assignments --out "$TMP/$name.got.jsonl" &&
        cmp "$TMP/$name.want.jsonl" "$TMP/$name.got.jsonl"
}

# stop_within NAME MS: SIGTERM, then the process must exit 0 within MS.
stop_within() {
    local var="PID_$1" t0 rc=0
    t0=$(now_ms)
    kill -TERM "${!var}" 2>/dev/null || true
    while kill -0 "${!var}" 2>/dev/null; do
        if [ $(($(now_ms) - t0)) -gt "$2" ]; then
            echo "  $1 still runs $2 ms after SIGTERM" >&2
            return 1
        fi
        sleep 0.02
    done
    wait "${!var}" || rc=$?
    echo "  $1 stopped in $(($(now_ms) - t0)) ms with status $rc"
    if [ "$rc" -ne 0 ]; then
        tail -n 20 "$TMP/$1.log" | sed 's/^/    /' >&2
        return 1
    fi
}

# --- corpora and the engine ------------------------------------------------------------------
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 10 --seed 7 \
    --out "$TMP/a.msgpack" > /dev/null
"$CADRE" gen "$FIXTURES_DIR/campaigns/lone_wolf.yaml" --replicate 5 --seed 8 \
    --out "$TMP/b.msgpack" > /dev/null
NA=$("$CADRE" check "$TMP/a.msgpack" | sed -n 's/^\([0-9]*\) records.*/\1/p')
NB=$("$CADRE" check "$TMP/b.msgpack" | sed -n 's/^\([0-9]*\) records.*/\1/p')
cat "$TMP/a.msgpack" "$TMP/b.msgpack" > "$TMP/ab.msgpack"
# The engine reconciles at each FLUSH: after A, and at the end of B. `cadre cluster`
# reconciles every NA records and at the end - the same points, since B is shorter than A.
check "the second corpus is shorter than the first ($NB < $NA)" test "$NB" -lt "$NA"
"$CADRE" cluster "$TMP/ab.msgpack" --reconcile-every "$NA" --events "$TMP/ab.events.jsonl" --quiet
NEV=$(wc -l < "$TMP/ab.events.jsonl")

write_config "$CFG" "$TMP" "$SHARDS" "liveness: $LIVENESS
shutdown_timeout_ms: $SHUTDOWN_MS"
check "the configuration has heartbeat_ms $HB" bash -c "
    '$BROKER' --config '$CFG' --check-config | grep -qx 'heartbeat_ms: $HB'"
start_engine "$CFG" "$SHARDS"
check "every role reports ready" wait_until 20 bash -c "
    grep -q 'merger 0 ready' '$TMP/broker.log' && grep -q 'shard 0 ready' '$TMP/broker.log' &&
    grep -q 'shard 1 ready' '$TMP/broker.log'"
if [ "$FAIL" -ne 0 ]; then
    tail -n 5 "$TMP"/*.log >&2
    finish
fi

# --- 1a. garbage on the ingest socket: ERROR with the right code --------------------------
V=(--text CADRE01)
BIG=73400320 # a 70 MiB frame, over the 64 MiB record limit
check "ingest: wrong version -> ERROR version" ingest_error version - \
    --text CADRE02 --hex 10 --u64 5 --json '{}'
check "ingest: empty version frame -> ERROR version" ingest_error version - \
    --empty --hex 10 --u64 5 --json '{}'
check "ingest: unknown command -> ERROR command" ingest_error command - "${V[@]}" --hex 77 --u64 5
check "ingest: a command no client sends (KEYS) -> ERROR command" ingest_error command - \
    "${V[@]}" --hex 20 --json '{"entries": []}'
check "ingest: version frame alone -> ERROR frame" ingest_error frame - "${V[@]}"
check "ingest: SUBMIT without its body -> ERROR frame" ingest_error frame - "${V[@]}" --hex 10 \
    --u64 5
check "ingest: SUBMIT with an extra frame -> ERROR frame" ingest_error frame - "${V[@]}" \
    --hex 10 --u64 5 --json '{}' --json '{}'
check "ingest: a 2-byte ref -> ERROR frame" ingest_error frame - "${V[@]}" --hex 10 --hex 0102 \
    --json '{}'
check "ingest: a 2-byte command frame -> ERROR frame" ingest_error frame - "${V[@]}" --hex 1000 \
    --u64 5 --json '{}'
check "ingest: an empty body -> ERROR frame" ingest_error frame - "${V[@]}" --hex 10 --u64 5 \
    --empty
check "ingest: truncated MessagePack -> ERROR record" ingest_error record - "${V[@]}" --hex 10 \
    --u64 6 --json '{"id": "att-1", "sessions": [{"phase": "delivery", "start": 1.0}]}' \
    --truncate 4
check "ingest: the ERROR carries the client's ref" ref_echoed 6
check "ingest: a body that is not a map -> ERROR record" ingest_error record - "${V[@]}" \
    --hex 10 --u64 7 --json '[1, 2, 3]'
check "ingest: a bad phase -> ERROR record naming sessions[0].phase" ingest_error record \
    'sessions[0].phase' "${V[@]}" --hex 10 --u64 8 \
    --json '{"id": "att-1", "sessions": [{"phase": "nonsense", "start": 1.0}]}'
check "ingest: an integer id -> ERROR record naming id" ingest_error record id "${V[@]}" \
    --hex 10 --u64 9 --json '{"id": 17, "sessions": []}'
check "ingest: a string asn -> ERROR record naming asn" ingest_error record asn "${V[@]}" \
    --hex 10 --u64 10 --json '{"id": "att-2", "asn": "AS1", "sessions": []}'
check "ingest: a 70 MiB frame is refused by the socket (limits.client_message_mb)" \
    refused_frame ingest "${V[@]}" --hex 10 --u64 11 --zeros "$BIG"
check "ingest: a 64 MiB frame (the limit) is read, and refused as a record -> ERROR record" \
    ingest_error record - "${V[@]}" --hex 10 --u64 11 --zeros "$((64 * 1048576))"
check "ingest: FLUSH with a body -> ERROR frame" ingest_error frame - "${V[@]}" --hex 12 \
    --u64 12 --json '{}'
check "every process is up after the ingest garbage" all_alive

# --- 1b. garbage on the backend, the merger's shard socket and its query socket -------------
B=$TMP/broker.log
M=$TMP/merger.log
check "backend: wrong version dropped" dropped backend "$B" "broker: dropped wrong version" \
    --text CADRE02 --hex 02
check "backend: unknown command dropped" dropped backend "$B" "broker: dropped unknown command" \
    "${V[@]}" --hex 77
check "backend: missing command dropped" dropped backend "$B" \
    "broker: dropped missing command frame" "${V[@]}"
check "backend: APPLIED without its seq dropped" dropped backend "$B" \
    "broker: dropped APPLIED with 0 frames" "${V[@]}" --hex 28
check "backend: APPLIED from a peer that never sent READY dropped" dropped backend "$B" \
    "broker: dropped APPLIED from an unknown peer" "${V[@]}" --hex 28 --u64 99
check "backend: GENERIC from a peer that never sent READY dropped" dropped backend "$B" \
    "broker: dropped GENERIC from an unknown peer" "${V[@]}" --hex 23 --u64 1 --json '{}'
check "backend: truncated READY dropped" dropped backend "$B" "broker: dropped bad READY" \
    "${V[@]}" --hex 01 --json '{"role": "shard", "id": 1, "shards": 2, "applied": 0, "barrier": 0}' \
    --truncate 3
check "backend: READY of an unknown role dropped" dropped backend "$B" \
    "broker: dropped READY from bogus" "${V[@]}" --hex 01 \
    --json '{"role": "bogus", "id": 0, "shards": 2, "applied": 0, "barrier": 0}'
check "backend: READY of a shard id out of range dropped" dropped backend "$B" \
    "broker: dropped READY from shard 7" "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 7, "shards": 2, "applied": 0, "barrier": 0}'
check "backend: a 70 MiB frame dropped" dropped backend "$B" \
    "broker: dropped wrong version frame .*\\($BIG bytes\\)" --zeros "$BIG"
check "merger shards: wrong version dropped" dropped merger-shards "$M" \
    "merger: dropped message from a shard: wrong version" --text CADRE02 --hex 02
check "merger shards: unknown command dropped" dropped merger-shards "$M" \
    "merger: dropped message from a shard: unknown command" "${V[@]}" --hex 77
check "merger shards: missing command dropped" dropped merger-shards "$M" \
    "merger: dropped message from a shard: missing command" "${V[@]}"
check "merger shards: FORESTS from a shard that never sent READY dropped" dropped \
    merger-shards "$M" "merger: dropped FORESTS from an unknown or unauthorized shard" "${V[@]}" --hex 25 \
    --u64 1 --json '{"blocks": []}'
check "merger shards: DONE from a shard that never sent READY dropped" dropped \
    merger-shards "$M" "merger: dropped DONE from an unknown or unauthorized shard" "${V[@]}" --hex 26 --u64 1
check "merger shards: truncated READY dropped" dropped merger-shards "$M" \
    "merger: dropped bad READY" "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 1, "shards": 2, "applied": 0, "barrier": 0}' --truncate 3
check "merger shards: a 70 MiB frame dropped" dropped merger-shards "$M" \
    "merger: dropped message from a shard: wrong version frame .*\\($BIG bytes\\)" \
    --zeros "$BIG"
check "query: wrong version dropped" dropped query "$M" \
    "merger: dropped wrong version .* from a query client" --text CADRE02 --hex 30 --u64 1 \
    --json '{"what": "health"}'
check "query: unknown command dropped" dropped query "$M" \
    "merger: dropped unknown command .* from a query client" "${V[@]}" --hex 77
check "query: missing frames dropped" dropped query "$M" \
    "merger: dropped .* from a query client" "${V[@]}" --hex 30
check "query: a SUBMIT dropped" dropped query "$M" "merger: dropped .* from a query client" \
    "${V[@]}" --hex 10 --u64 1 --json '{}'
check "query: a 70 kiB frame is refused by the socket (queries are at most 64 kiB)" \
    refused_frame query "${V[@]}" --hex 30 --u64 1 --zeros 71680
check "query: a 5-byte body claiming 2^32 elements -> {error}, nothing allocated for it" \
    query_error "${V[@]}" --hex 30 --u64 21 --hex ddffffffff
check "backend: READY as the merger from another connection while it is alive is refused" \
    dropped backend "$B" "broker: refused READY as merger from another connection" \
    --identity impostor "${V[@]}" --hex 01 \
    --json '{"role": "merger", "id": 0, "shards": 2, "applied": 0, "barrier": 0}'
check "... and the impostor is sent nothing" expect_exit 1 "$POKE" "ipc://$TMP/backend" \
    --identity impostor2 "${V[@]}" --hex 01 \
    --json '{"role": "merger", "id": 0, "shards": 2, "applied": 0, "barrier": 0}' --wait 1500
check "merger shards: READY as shard 0 from another connection while it is alive is refused" \
    dropped merger-shards "$M" "merger: refused READY as shard-0 from another connection" \
    --identity impostor "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 0, "shards": 2, "applied": 0, "barrier": 0}'
check "every process is up after the garbage" all_alive
check "the merger still answers a health query" expect_exit 0 "$CADRE" query --config "$CFG" \
    health

# --- 2. a normal corpus still clusters as `cadre cluster` does ------------------------------
spawn sub "$POKE" --sub "ipc://$TMP/events" --count "$NEV" --timeout 30000 \
    --ready "$TMP/sub.ready" > "$TMP/events.jsonl"
check "the event subscriber connects" wait_until 10 test -e "$TMP/sub.ready"
check "cadre send streams corpus A" expect_exit 0 "$CADRE" send --config "$CFG" "$TMP/a.msgpack"
check "final assignments after A equal cadre cluster's" same_as_cluster a "$TMP/a.msgpack"

# --- 3. heartbeats ---------------------------------------------------------------------------
DEAD_MS=$((LIVENESS * HB + SLACK_MS))
t0=$(now_ms)
kill -STOP "$PID_shard0"
check "a stopped shard 0 is declared dead (silence) within liveness x heartbeat" wait_log \
    "$DEAD_MS" "$B" "broker: shard 0 dead \\(silent"
echo "  declared dead after $(($(now_ms) - t0)) ms"
kill -CONT "$PID_shard0"

t0=$(now_ms)
kill -KILL "$PID_shard1"
check "a killed shard 1 is declared dead within liveness x heartbeat" wait_log "$DEAD_MS" "$B" \
    "broker: shard 1 dead"
echo "  declared dead after $(($(now_ms) - t0)) ms"
wait "$PID_shard1" 2>/dev/null || true
check "merger shards: FORESTS naming key family 63 (there are 18) are dropped" dropped \
    merger-shards "$M" "merger: dropped FORESTS 1 from shard 1: key family 63" \
    --identity shard-1 "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 1, "shards": 2, "applied": 0, "barrier": 0}' --then \
    "${V[@]}" --hex 25 --u64 1 --json '{"blocks": [{"family": 63, "value": "x", "generic": false, "holders": 2, "edges": ["a", "b"]}]}'
check "backend: APPLIED past the journal from a registered peer is dropped" dropped backend "$B" \
    "broker: dropped APPLIED 999999999 from a backend peer: past the journal" \
    --identity shard-1 "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 1, "shards": 2, "applied": 0, "barrier": 0}' --then \
    "${V[@]}" --hex 28 --u64 999999999
check "backend: READY claiming inputs past the journal is dropped" dropped backend "$B" \
    "broker: dropped READY as shard-1: applied 999999999" \
    --identity shard-1 "${V[@]}" --hex 01 \
    --json '{"role": "shard", "id": 1, "shards": 2, "applied": 999999999, "barrier": 0}'
spawn shard1 "$SHARD" --config "$CFG" --id 1
check "the restarted shard 1 is ready again" wait_log 20000 "$B" "broker: shard 1 ready" 2
check "the broker took it back where the stream stands" bash -c "! grep -q 'behind the stream' '$B'"
check "cadre send streams corpus B" expect_exit 0 "$CADRE" send --config "$CFG" "$TMP/b.msgpack"
check "final assignments after A then B equal cadre cluster's over A+B" same_as_cluster ab \
    "$TMP/ab.msgpack" --reconcile-every "$NA"
check "the subscriber got every event" wait_until 30 bash -c "! kill -0 $PID_sub 2>/dev/null"
sub_rc=0
wait "$PID_sub" || sub_rc=$?
check "the subscriber exits 0" test "$sub_rc" -eq 0
check "the events equal cadre cluster --events over A+B ($NEV)" cmp "$TMP/ab.events.jsonl" \
    "$TMP/events.jsonl"
check "every process is up" all_alive

# --- 4. signals and graceful shutdown --------------------------------------------------------
for r in "${ROLES[@]}"; do
    var="PID_$r"
    kill -HUP "${!var}"
    kill -PIPE "${!var}"
done
check "SIGHUP and SIGPIPE stop no role" all_alive
check "the merger still answers after them" expect_exit 0 "$CADRE" query --config "$CFG" health
for r in shard0 shard1 merger broker; do
    check "SIGTERM stops $r with status 0 within shutdown_timeout_ms" stop_within "$r" \
        $((SHUTDOWN_MS + SLACK_MS))
done

finish
