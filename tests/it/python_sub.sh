#!/usr/bin/env bash
# python_sub.sh - the protocol is usable without cadre's code: examples/python/subscribe.py
# (Debian's python3-zmq and python3-msgpack only) subscribes to the events of the engine run
# as separate processes over ipc://, and must decode every event of a stream with merges,
# unmerges and re-links - the same events, byte for byte, as `cadre cluster --events` - and
# refuse malformed envelopes.
# shellcheck disable=SC2154  # PID_<name> is set by engine_lib.sh's spawn (printf -v)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}" "${SOURCE_DIR:?source directory}"
SUBSCRIBE=$SOURCE_DIR/examples/python/subscribe.py
SHARDS=2
EVERY=25

# Debian's interpreter first: its dist-packages hold python3-zmq and python3-msgpack, which
# an interpreter earlier on PATH (pyenv, a virtualenv) may not see.
PY=
for cand in ${PYTHON:-} /usr/bin/python3 python3; do
    if "$cand" -c 'import zmq, msgpack' 2>/dev/null; then
        PY=$cand
        break
    fi
done
if [ -z "$PY" ]; then
    echo "not ok - python3 with zmq and msgpack (\`make deps\` installs python3-zmq python3-msgpack)"
    exit 1
fi
echo "# using $PY"

# exited_0 NAME: reaps the background process recorded as PID_NAME (it has finished) and
# succeeds when it exited 0.
exited_0() {
    local var="PID_$1" rc=0
    wait "${!var}" || rc=$?
    [ "$rc" -eq 0 ] || {
        echo "  $1 exited $rc:" >&2
        sed 's/^/    /' "$TMP/$1.log" >&2
        return 1
    }
}

# pysub NAME OUT ARGS...: starts subscribe.py with its JSON lines in OUT, and waits until it
# reports its connection.
pysub() {
    local name=$1 out=$2
    shift 2
    # shellcheck disable=SC2016  # expanded by the inner sh
    spawn "$name" sh -c 'out=$1; shift; exec "$@" > "$out"' sh "$out" "$PY" "$SUBSCRIBE" "$@"
    wait_until 10 grep -q '^subscribed to ' "$TMP/$name.log"
}

# --- a stream that merges, unmerges and re-links identities ------------------------------
# From a generated corpus: its first 300 records; bridges (a copy of every 3rd record with a
# HASSH, under a new id, carrying the next one's HASSH: two identities merge); changed
# upserts of every 5th record (they leave their identity: linked with a prior); 300 more
# records; then deletes of every bridge (the merged identities split again).
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 20 --seed 5 \
    --out "$TMP/corpus.jsonl" > /dev/null
head -n 300 "$TMP/corpus.jsonl" > "$TMP/first"
sed -n '301,600p' "$TMP/corpus.jsonl" > "$TMP/next"
awk 'match($0, /"hassh": "[^"]*"/) { n++; line[n] = $0; hs[n] = substr($0, RSTART, RLENGTH) }
     END {
         for (k = 1; k < n; k += 3) {
             if (hs[k] == hs[k + 1]) continue
             l = line[k]
             sub(/"hassh": "[^"]*"/, hs[k + 1], l)
             sub(/"id": "/, "\"id\": \"bridge-", l)
             print l
         }
     }' "$TMP/first" > "$TMP/bridges"
awk 'NR % 5 == 0 {
         l = $0
         sub(/"ja3": "/, "\"ja3\": \"9", l)
         sub(/"hassh": "/, "\"hassh\": \"changed-", l)
         print l
     }' "$TMP/first" > "$TMP/changed"
# The first "id" of a line is the observation's (keys are sorted, sessions come later).
awk 'match($0, /"id": "[^"]*"/) { print "{" substr($0, RSTART, RLENGTH) ", \"op\": \"delete\"}" }' \
    "$TMP/bridges" > "$TMP/unbridge"
cat "$TMP/first" "$TMP/bridges" "$TMP/changed" "$TMP/next" "$TMP/unbridge" > "$TMP/stream.jsonl"

"$CADRE" cluster "$TMP/stream.jsonl" --reconcile-every "$EVERY" --events "$TMP/ref.jsonl" --quiet
N=$(wc -l < "$TMP/ref.jsonl")
NCAMP=$(grep -c '"topic": "campaign\.' "$TMP/ref.jsonl" || true)
grep '"topic": "campaign\.' "$TMP/ref.jsonl" > "$TMP/ref-campaign.jsonl" || true
has_topics() {
    local t
    for t in identity.formed identity.observation.linked identity.merged identity.unmerged \
        identity.campaign.assigned campaign.formed campaign.identity.assigned campaign.merged; do
        grep -q "\"topic\": \"$t\"" "$1" || {
            echo "  no $t event" >&2
            return 1
        }
    done
}
check "the reference stream has merges, unmerges and re-links ($N events)" has_topics \
    "$TMP/ref.jsonl"

# --- the engine, two Python subscribers, the stream ------------------------------------------
write_config "$TMP/cadre.yaml" "$TMP" "$SHARDS" "liveness: 3
clustering:
  reconcile_every: $EVERY"
start_engine "$TMP/cadre.yaml" "$SHARDS"
check "every role reports ready" wait_until 20 bash -c "
    grep -q 'merger 0 ready' '$TMP/broker.log' && grep -q 'shard 0 ready' '$TMP/broker.log' &&
    grep -q 'shard 1 ready' '$TMP/broker.log'"
check "subscribe.py connects (every topic)" pysub suball "$TMP/py-all.jsonl" \
    --endpoint "ipc://$TMP/events" --count "$N" --timeout 30
check "subscribe.py connects (topic prefix campaign.)" pysub subcamp "$TMP/py-campaign.jsonl" \
    --endpoint "ipc://$TMP/events" --topic campaign. --count "$NCAMP" --timeout 30
check "cadre send streams the corpus" expect_exit 0 "$CADRE" send --config "$TMP/cadre.yaml" \
    "$TMP/stream.jsonl"

check "the subscribers finish" wait_until 30 bash -c "! kill -0 $PID_suball 2>/dev/null &&
    ! kill -0 $PID_subcamp 2>/dev/null"
check "subscribe.py exits 0 after its count (every topic)" exited_0 suball
check "subscribe.py exits 0 after its count (campaign.)" exited_0 subcamp
check "subscribe.py decoded as many events as cadre cluster --events ($N)" \
    test "$(wc -l < "$TMP/py-all.jsonl")" -eq "$N"
check "its events are byte-identical to cadre cluster --events" cmp "$TMP/ref.jsonl" \
    "$TMP/py-all.jsonl"
check "the prefix subscriber got exactly the campaign.* events ($NCAMP)" cmp \
    "$TMP/ref-campaign.jsonl" "$TMP/py-campaign.jsonl"
check "no subscriber complained" bash -c "! grep -v '^subscribed to ' '$TMP/suball.log' '$TMP/subcamp.log'"
check "the engine stops cleanly" stop_engine "$SHARDS"

# --- malformed envelopes ---------------------------------------------------------------------
# A stand-in publisher (an XPUB, so it sees the subscription arrive before it sends) sends
# one bad message; subscribe.py must exit 65 naming the problem.
cat > "$TMP/fake_pub.py" << 'EOF'
import sys

import msgpack
import zmq

endpoint, case = sys.argv[1], sys.argv[2]
good = {"id": "e-1", "topic": "identity.merged", "type": "merged", "ts": 1.5, "v": 1,
        "payload": {"loser_uuid": "I-2", "winner_uuid": "I-1"}}
topic = b"identity.merged"
env = dict(good)
if case == "version":
    env["v"] = 2
elif case == "missing-key":
    del env["ts"]
elif case == "extra-key":
    env["extra"] = 1
elif case == "topic-mismatch":
    topic = b"identity.unmerged"
elif case == "payload-key":
    env["payload"] = {"loser_uuid": "I-2"}
elif case == "type":
    env["type"] = "formed"
frames = [topic, msgpack.packb(env, use_bin_type=True)]
if case == "truncated":
    frames[1] = frames[1][:-3]
elif case == "one-frame":
    frames = [topic]
elif case == "not-a-map":
    frames[1] = msgpack.packb([1, 2, 3])
ctx = zmq.Context()
pub = ctx.socket(zmq.XPUB)
pub.setsockopt(zmq.LINGER, 5000)
pub.bind(endpoint)
if not pub.poll(20000):
    sys.exit("fake_pub: nobody subscribed")
pub.recv()  # the subscription
pub.send_multipart(frames)
pub.close()
ctx.term()
EOF
bad_envelope() {
    local case=$1 ep="ipc://$TMP/fake-$1" rc=0
    "$PY" "$TMP/fake_pub.py" "$ep" "$case" &
    local pub=$!
    ENGINE_PIDS+=("$pub")
    timeout 30 "$PY" "$SUBSCRIBE" --endpoint "$ep" --timeout 20 > "$TMP/bad-$case.out" \
        2> "$TMP/bad-$case.err" || rc=$?
    wait "$pub" || true
    if [ "$rc" -ne 65 ] || ! grep -q 'malformed event 1' "$TMP/bad-$case.err"; then
        echo "  exit $rc:" >&2
        sed 's/^/    /' "$TMP/bad-$case.err" >&2
        return 1
    fi
}
for c in version missing-key extra-key topic-mismatch payload-key type truncated one-frame \
    not-a-map; do
    check "subscribe.py refuses a malformed event ($c) with 65" bad_envelope "$c"
done
check "subscribe.py accepts the stand-in's well-formed event" bash -c "
    '$PY' '$TMP/fake_pub.py' 'ipc://$TMP/fake-good' good & pub=\$!
    timeout 30 '$PY' '$SUBSCRIBE' --endpoint 'ipc://$TMP/fake-good' --count 1 --timeout 20 \
        > '$TMP/good.out' 2> '$TMP/good.err'; rc=\$?; wait \$pub; [ \$rc -eq 0 ] &&
    grep -qx '{\"id\": \"e-1\", \"payload\": {\"loser_uuid\": \"I-2\", \"winner_uuid\": \"I-1\"}, \"topic\": \"identity.merged\", \"ts\": 1.5, \"type\": \"merged\", \"v\": 1}' '$TMP/good.out'"
check "subscribe.py: a usage error exits 2" expect_exit 2 "$PY" "$SUBSCRIBE"

finish
