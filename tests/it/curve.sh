#!/usr/bin/env bash
# curve.sh - CURVE between the engine's processes (docs/protocol.md §1, docs/config.md
# "curve"). Certificates made with `cadre keygen`: one server certificate (broker and
# merger), one per shard, one for the merger's connection to the broker, one allowed
# client and one stranger. The engine runs over ipc:// with curve.enabled, every process
# reading the same file and naming its own certificate with --cert. Then:
#   - the allowed client's corpus gives `cadre cluster`'s assignments, and its events
#     reach an allowed subscriber;
#   - a client whose key is not authorized, one holding the wrong server key and one
#     without CURVE all time out, and the broker journals nothing of theirs;
#   - configuration mistakes are refused before anything runs;
#   - every process stops cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}" "${POKE:?}"
SHARDS=2
KEYS=$TMP/keys
AUTH=$TMP/authorized
PEERS=$TMP/peers
DIR=$TMP/engine
CFG=$DIR/cadre.yaml
LOGDIR=$DIR # where spawn puts the logs (engine_lib.sh)

# curve_yaml SERVER_PUBLIC: the curve section, the clients' default certificate the allowed
# one's.
curve_yaml() {
    printf 'curve:\n  enabled: true\n'
    printf '  secret_key_file: %s/server_secret\n  public_key_file: %s/server\n' "$KEYS" "$KEYS"
    printf '  server_public_key_file: %s\n' "$1"
    printf '  client_secret_key_file: %s/client_secret\n' "$KEYS"
    printf '  authorized_keys_dir: %s\n' "$AUTH"
    printf '  peer_keys_dir: %s\n' "$PEERS"
}

make_keys() {
    local name
    for name in server other-server shard0 shard1 merger client stranger; do
        "$CADRE" keygen "$KEYS" "$name" >/dev/null || return 1
    done
    mkdir -p "$AUTH" "$PEERS"
    # Peers: each certificate named after the one role it may hold. Clients apart.
    cp "$KEYS/shard0" "$PEERS/shard-0"
    cp "$KEYS/shard1" "$PEERS/shard-1"
    cp "$KEYS/merger" "$PEERS/merger"
    cp "$KEYS/client" "$AUTH/"
    [ "$(stat -c %a "$KEYS/client_secret")" = 600 ]
}

# A second keygen of an existing name is refused and leaves the pair as it was.
keygen_keeps() {
    local before
    before=$(cat "$KEYS/client_secret")
    expect_exit 1 "$CADRE" keygen "$KEYS" client && grep -q 'exists already' "$TMP/last.err" &&
        [ "$(cat "$KEYS/client_secret")" = "$before" ]
}

# Configuration mistakes: exit 78 before binding.
config_refused() {
    local bad=$TMP/no-auth.yaml
    grep -v authorized_keys_dir "$CFG" >"$bad"
    expect_exit 78 "$BROKER" --config "$bad" --check-config &&
        grep -q 'curve.authorized_keys_dir' "$TMP/last.err" &&
        expect_exit 78 "$MERGER" --config "$bad" --check-config &&
        grep -v server_public_key_file "$CFG" >"$bad" &&
        expect_exit 78 "$SHARD" --config "$bad" --id 0 --check-config &&
        grep -q 'curve.server_public_key_file' "$TMP/last.err" &&
        expect_exit 78 "$CADRE" run "$TMP/a.jsonl" --config "$CFG" &&
        expect_exit 78 "$CADRE" query --config "$CFG" --cert "$KEYS/nothing" health &&
        grep -q "$KEYS/nothing" "$TMP/last.err" &&
        expect_exit 2 "$CADRE" query --endpoint "ipc://$DIR/query" --cert "$KEYS/client" health
}

# A role whose certificate cannot be loaded stops at once, naming the file.
bad_cert_fails() {
    local rc=0
    timeout 20 "$SHARD" --config "$CFG" --id 0 --cert "$AUTH/shard0" 2>"$TMP/badcert.log" || rc=$?
    # The public file alone carries no secret key.
    [ "$rc" -eq 1 ] && grep -q "$AUTH/shard0" "$TMP/badcert.log"
}

start_curve_engine() {
    local k
    spawn merger "$MERGER" --config "$CFG" --cert "$KEYS/merger_secret"
    spawn broker "$BROKER" --config "$CFG"
    for ((k = 0; k < SHARDS; k++)); do
        spawn "shard$k" "$SHARD" --config "$CFG" --id "$k" --cert "$KEYS/shard${k}_secret"
    done
    wait_until 30 health_answers "$CFG" &&
        wait_until 30 grep -q 'broker: merger 0 ready' "$DIR/broker.log"
}

# refused NAME SEND-ARGS...: a send that never gets through: exit 1, nothing acknowledged.
refused() {
    local name=$1
    shift
    local rc=0
    timeout 60 "$CADRE" send "$TMP/b.jsonl" --timeout-ms 1500 "$@" >"$TMP/$name.out" \
        2>"$TMP/$name.err" || rc=$?
    [ "$rc" -eq 1 ] && grep -q '^0 acknowledged, 0 refused, 0 unreadable, not flushed' \
        "$TMP/$name.out"
}

allowed_send() {
    timeout 120 "$CADRE" send --config "$CFG" "$TMP/a.jsonl" >"$TMP/a.send" &&
        grep -q "^$(grep -c . "$TMP/a.jsonl") acknowledged, 0 refused, 0 unreadable, flushed at seq $(grep -c . "$TMP/a.jsonl")\$" \
            "$TMP/a.send"
}

same_as_cluster() {
    "$CADRE" cluster "$TMP/a.jsonl" --out "$TMP/a.cluster" --quiet &&
        "$CADRE" query --config "$CFG" assignments --out "$TMP/a.engine" &&
        [ -s "$TMP/a.cluster" ] && cmp "$TMP/a.cluster" "$TMP/a.engine"
}

# events_arrived: the allowed subscriber got every event the merger published.
events_arrived() {
    local want
    want=$(health_field "$CFG" events) || return 1
    [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$(wc -l <"$TMP/a.events")" -eq "$want" ]
}

# The stranger is never let in: no query answer from the merger either.
stranger_query_refused() {
    expect_exit 1 "$CADRE" query --config "$CFG" --cert "$KEYS/stranger_secret" health \
        --timeout-ms 1000
}

# Impostors (docs/protocol.md §10): keys bound to roles.
READY_MERGER='{"role": "merger", "id": 0, "shards": 2, "applied": 0, "barrier": 0}'
READY_SHARD0='{"role": "shard", "id": 0, "shards": 2, "applied": 0, "barrier": 0}'
client_as_merger() {
    local before ready
    before=$(grep -c 'gate: refused a connection .* cadre-peers' "$DIR/broker.log") || before=0
    ready=$(grep -c 'merger 0 ready' "$DIR/broker.log")
    expect_exit 1 "$POKE" "ipc://$DIR/backend" --cert "$KEYS/client_secret" \
        --server-key "$KEYS/server" --identity merger --text CADRE01 --hex 01 \
        --json "$READY_MERGER" --wait 1500 &&
        wait_until 10 bash -c "[ \$(grep -c 'gate: refused a connection .* cadre-peers' \
            '$DIR/broker.log') -gt $before ]" &&
        [ "$(grep -c 'merger 0 ready' "$DIR/broker.log")" -eq "$ready" ]
}
client_as_shard() {
    expect_exit 1 "$POKE" "ipc://$DIR/merger-shards" --cert "$KEYS/client_secret" \
        --server-key "$KEYS/server" --identity shard-0 --text CADRE01 --hex 01 \
        --json "$READY_SHARD0" --wait 1500 &&
        wait_until 10 grep -q 'gate: refused a connection .* cadre-peers' "$DIR/merger.log"
}
shard_as_other_broker() {
    # Taking over shard 0's routing id is refused by ZeroMQ itself (no handover with keys):
    # nothing is delivered either way.
    expect_exit 1 "$POKE" "ipc://$DIR/backend" --cert "$KEYS/shard1_secret" \
        --server-key "$KEYS/server" --identity shard-0 --text CADRE01 --hex 01 \
        --json "$READY_SHARD0" --wait 1500 &&
        expect_exit 1 "$POKE" "ipc://$DIR/backend" --cert "$KEYS/shard1_secret" \
            --server-key "$KEYS/server" --identity impostor --text CADRE01 --hex 01 \
            --json "$READY_SHARD0" --wait 1500 &&
        wait_until 10 grep -q 'broker: refused READY as shard-0 from a connection whose key is peer:shard-1' \
            "$DIR/broker.log"
}
shard_as_other_merger() {
    local forests='{"blocks": [{"family": 2, "value": "x", "generic": false, "holders": 2, "edges": ["a", "b"]}]}'
    "$POKE" "ipc://$DIR/merger-shards" --cert "$KEYS/shard1_secret" \
        --server-key "$KEYS/server" --identity impostor --text CADRE01 --hex 01 \
        --json "$READY_SHARD0" --then --text CADRE01 --hex 25 --u64 1 --json "$forests" &&
        wait_until 10 grep -q 'merger: refused READY as shard-0 from a connection whose key is peer:shard-1' \
            "$DIR/merger.log" &&
        wait_until 10 grep -q 'merger: dropped FORESTS from an unknown or unauthorized shard' \
            "$DIR/merger.log" &&
        "$POKE" "ipc://$DIR/merger-shards" --cert "$KEYS/shard1_secret" \
            --server-key "$KEYS/server" --identity shard-0 --text CADRE01 --hex 25 --u64 1 \
            --json "$forests"
}

# impostor_dropped: the merger counted exactly the impostor's two messages (its READY and
# its FORESTS), nothing else (nothing got through half-way).
impostor_dropped() {
    [ "$(health_field "$CFG" dropped)" = 2 ]
}

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 20 --out "$TMP/a.jsonl" \
    >/dev/null
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 5 --seed 9 \
    --out "$TMP/b.jsonl" >/dev/null
check "cadre keygen writes the certificates" make_keys
check "cadre keygen never overwrites" keygen_keeps
write_config "$CFG" "$DIR" "$SHARDS" "$(curve_yaml "$KEYS/server")"
write_config "$DIR/wrong-server.yaml" "$DIR" "$SHARDS" "$(curve_yaml "$KEYS/other-server")"
check "configuration mistakes are refused (exit 78)" config_refused
check "a role with an unusable certificate stops, naming it" bad_cert_fails
check "engine starts with CURVE over ipc://" start_curve_engine
spawn sub "$CADRE" sub --config "$CFG" --out "$TMP/a.events"
check "an allowed subscriber completes its handshake" \
    wait_until 30 grep -q '^cadre sub: subscribed' "$DIR/sub.log"
check "a client whose key is not authorized times out" \
    refused stranger --config "$CFG" --cert "$KEYS/stranger_secret"
check "... and is told its key is not authorized" \
    grep -q "failed its handshake (this client's key is not authorized)" "$TMP/stranger.err"
check "a client holding the wrong server key times out" \
    refused wrongkey --config "$DIR/wrong-server.yaml"
check "a client without CURVE times out" refused plain --endpoint "ipc://$DIR/ingest"
check "the stranger gets no query answer" stranger_query_refused
check "a client key cannot connect to the backend as the merger" client_as_merger
check "... nor to the merger's shard socket as a shard" client_as_shard
check "shard 1's key cannot take shard 0's place at the broker" shard_as_other_broker
check "... nor at the merger, nor send FORESTS as shard 0" shard_as_other_merger
check "the allowed client's corpus is acknowledged, nothing else was journaled" allowed_send
check "assignments = cadre cluster" same_as_cluster
check "the allowed subscriber received every event" wait_until 30 events_arrived
check "the merger dropped the impostor's two messages and nothing else" impostor_dropped
check "the subscriber stops cleanly" stop_pid sub
check "every process stops cleanly" stop_engine "$SHARDS"
finish
