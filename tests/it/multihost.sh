#!/usr/bin/env bash
# multihost.sh - the engine across hosts (docs/protocol.md §1, §10; docs/bench.md "Scale-out
# on one machine").
#
# The broker, the merger, the two shards and the client each run in a network namespace of
# their own (a "host"), joined by veth pairs to a bridge in a hub namespace, over tcp:// with
# CURVE on (one server certificate for the broker and the merger, one certificate per peer
# and for the client). Traffic between hosts is delayed by 2 ms one way (4 ms round trip):
# tc netem on every host's link, or, on a kernel without sch_netem, TAP devices served by
# tests/it/delay_hub.py in place of the veth pairs and the bridge (net_lib.sh delay_links);
# without either the links are not delayed. The output says which (`# links: ...`).
# `cadre send` streams 3000 records of the noise_floor corpus. Checks:
#   - every peer is ready at the broker, and the connections to the broker's backend and the
#     merger's shard socket come from the other hosts' addresses (ss in their namespaces);
#   - where the links are delayed, no TCP round trip to the broker's backend took less than
#     4 ms (ss -ti minrtt);
#   - every record is acknowledged once and the merger applied exactly the journal;
#   - the assignments, identities and campaigns equal `cadre cluster`'s on the same corpus,
#     byte for byte;
#   - a client whose key is not authorized gets no answer;
#   - every process stops cleanly.
# Exits 77 (skipped, SKIP_RETURN_CODE in CMake) when network namespaces cannot be made: not
# root, no iproute2, or `ip netns add` refused. Processes, namespaces (with their veth pairs
# and bridge) and the temporary directory are removed on every exit path; namespaces a
# killed run left behind (named after a pid that is gone) are removed at the start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}"
SKIP=77
SHARDS=2
EVERY=1000
TOTAL=3000
DELAY_MS=2
HB_MS=200
LIVENESS=3
NET=10.232.0   # the /24 inside the test's own namespaces
STEM=cmh       # namespace names (net_lib.sh):
PREFIX=$STEM$$ # unique to this run
HOSTS=(hub broker merger shard0 shard1 client)
declare -A ADDR=([broker]=$NET.1 [merger]=$NET.2 [shard0]=$NET.10 [shard1]=$NET.11
    [client]=$NET.100)
CFG=$TMP/cadre.yaml
LOGDIR=$TMP # where spawn puts the logs (engine_lib.sh)
source "$(dirname "$0")/net_lib.sh"

# Processes first (engine_cleanup kills every one spawned, and removes $TMP), then the
# namespaces; an exit status such as 77 is kept.
# shellcheck disable=SC2317
multihost_cleanup() {
    engine_cleanup
    net_cleanup
}
trap multihost_cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "skipped: $*"
    exit "$SKIP"
}

query() { on client "$CADRE" query --config "$CFG" "$@"; }
applied() {
    query health --timeout-ms 3000 2>/dev/null | sed -n 's/.*"applied": \([0-9]*\).*/\1/p'
}
answers() { [ -n "$(applied)" ]; }

# peers_from SERVER PORT HOST...: SERVER's namespace has an established TCP connection on
# PORT from each HOST's address.
peers_from() {
    local server=$1 port=$2 h conns
    shift 2
    conns=$(on "$server" ss -Htn state established "( sport = :$port )")
    for h in "$@"; do
        grep -q " ${ADDR[$h]}:" <<<"$conns" || {
            echo "  no connection to :$port from $h (${ADDR[$h]}); established: $conns" >&2
            return 1
        }
    done
}

# rtts_at_least HOST PORT MS: HOST's connections on PORT exist and none has seen a round trip
# shorter than MS ms.
rtts_at_least() {
    local r
    r=$(link_rtts "$1" "$2")
    [ -n "$r" ] || return 1
    echo "# shortest round trip of each connection to $1:$2 (ms): $(echo $r)"
    awk -v ms="$3" '$1 < ms { bad = 1 } END { exit bad }' <<<"$r"
}

# unauthorized_refused: a client with a certificate the servers do not know gets no health
# answer from the merger (CURVE drops the handshake).
unauthorized_refused() {
    local cfg2=$TMP/stranger.yaml
    "$CADRE" keygen "$TMP/keys" stranger >/dev/null || return 1
    sed "s|client_secret_key_file: .*|client_secret_key_file: $TMP/keys/stranger_secret|" \
        "$CFG" >"$cfg2"
    ! on client "$CADRE" query --config "$cfg2" health --timeout-ms 1500 >/dev/null 2>&1
}

# --- the test -------------------------------------------------------------------------------

why=$(net_usable) || skip "$why"
sweep_stale
make_hosts || skip "cannot make network namespaces: $(cat "$TMP/netns.err" 2>/dev/null)"
delay_links "$DELAY_MS" || {
    echo "  cannot delay the links" >&2
    exit 1
}
echo "# links: $LINKS"

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate $((TOTAL / 30)) \
    --out "$TMP/corpus.msgpack" >/dev/null
"$CADRE" cluster "$TMP/corpus.msgpack" --reconcile-every "$EVERY" --out "$TMP/exp.assign.jsonl" \
    --identities "$TMP/exp.ids.jsonl" --campaigns "$TMP/exp.camps.jsonl" --quiet

check "CURVE certificates made" curve_setup
write_tcp_config
check "the configuration loads" expect_exit 0 "$BROKER" --config "$CFG" --check-config

spawn merger ip netns exec "$(ns merger)" "$MERGER" --config "$CFG" --cert "${CERT[merger]}"
spawn broker ip netns exec "$(ns broker)" "$BROKER" --config "$CFG"
for ((k = 0; k < SHARDS; k++)); do
    spawn "shard$k" ip netns exec "$(ns "shard$k")" "$SHARD" --config "$CFG" --id "$k" \
        --cert "${CERT[shard$k]}"
done
check "the merger answers across the bridge" wait_until 30 answers
check "every peer is ready at the broker" wait_until 30 bash -c "
    grep -q 'broker: merger 0 ready' '$TMP/broker.log' &&
        grep -q 'broker: shard 0 ready' '$TMP/broker.log' &&
        grep -q 'broker: shard 1 ready' '$TMP/broker.log'"
check "the peers reach the broker from their hosts over TCP" \
    peers_from broker 7002 merger shard0 shard1
check "the shards reach the merger from their hosts over TCP" peers_from merger 7003 shard0 shard1
if ((LINKS_DELAYED)); then
    check "no TCP round trip to the broker's backend took less than $((2 * DELAY_MS)) ms" \
        rtts_at_least broker 7002 $((2 * DELAY_MS))
fi

rc=0
on client "$CADRE" send --config "$CFG" --timeout-ms 60000 "$TMP/corpus.msgpack" \
    >"$TMP/send.out" 2>"$TMP/send.err" || rc=$?
check "cadre send completes with status 0" test "$rc" -eq 0
check "every record acknowledged once, flushed at the last one" \
    grep -q "^$TOTAL acknowledged, 0 refused, 0 unreadable, flushed at seq $TOTAL\$" \
    "$TMP/send.out"
check "the merger applied exactly the journal" test "$(applied)" = "$TOTAL"
query assignments --out "$TMP/got.assign.jsonl" || true
query identities --out "$TMP/got.ids.jsonl" || true
query campaigns --out "$TMP/got.camps.jsonl" || true
check "assignments equal cadre cluster's" cmp "$TMP/got.assign.jsonl" "$TMP/exp.assign.jsonl"
check "identities equal cadre cluster's" cmp "$TMP/got.ids.jsonl" "$TMP/exp.ids.jsonl"
check "campaigns equal cadre cluster's" cmp "$TMP/got.camps.jsonl" "$TMP/exp.camps.jsonl"
check "a client with an unknown key gets no answer" unauthorized_refused
check "every process exits 0" stop_engine "$SHARDS"
if [ "$FAIL" -ne 0 ]; then
    for name in broker merger shard0 shard1; do
        echo "--- $name.log, warnings and errors (the last 20)"
        grep -E '^[BMS][0-9]+ [0-9]+ [^ ]+ [EW] ' "$LOGDIR/$name.log" | tail -n 20
    done
    tail -n 3 "$TMP/send.err"
fi
finish
