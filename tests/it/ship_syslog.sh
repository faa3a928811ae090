#!/usr/bin/env bash
# ship_syslog.sh - `cadre ship --listen-syslog` as a DECNET SWARM master's listener
# (docs/ship.md, "Receiving syslog over TLS"): two workers' forwarders (tests/it/syslog_fwd.py,
# DECNET's framing over mutual TLS) send the lines of a generated DECNET log to the shipper,
# which spools them per worker in STATE/syslog and feeds an engine (broker, shard, merger on
# ipc://). The shipper is killed with kill -9 once the first part of the lines is spooled and
# restarted on the same state; the forwarders then send the rest. Checks: the engine's
# partitions equal `cadre ingest decnet` + `cadre cluster` of the same lines, and what was sent
# (--tee) merges into exactly ingest's observations (ship_check.py); the spools rotate at a
# small --spool-max-bytes and every rotated spool is deleted once read and acknowledged; a
# client certificate of an unknown CA is refused, logged, and nothing it sent arrives; the
# summary counts the messages of each worker; bad option combinations are refused.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"
# shellcheck source=tests/it/pki_lib.sh
source "$(dirname "$0")/pki_lib.sh"
: "${SOURCE_DIR:?}" "${FIXTURES_DIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
FWD="$(dirname "$0")/syslog_fwd.py"
ST=$TMP/state
LOG=$TMP/all.log
SPOOL_MAX=16384

check "a PKI made with the openssl CLI" make_pki
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --format decnet --replicate 3 \
    --out "$LOG" >/dev/null 2>&1 || exit 1
N=$(grep -c . "$LOG")
K=$((N * 2 / 5))

CFG=$TMP/cadre.yaml
write_config "$CFG" "$TMP" 1
start_engine "$CFG" 1
wait_until 30 health_answers "$CFG" || exit 1

# start_ship NAME: the shipper on 127.0.0.1:0 with the state $ST; waits for its "listening
# on" line and sets ADDR. Long quiet and delay times and small batches, so that a kill right
# after the forwarders finish finds parts cut and not acknowledged, and the tail not cut.
start_ship() {
    spawn "$1" "$CADRE" ship --config "$CFG" --state "$ST" --listen-syslog 127.0.0.1:0 \
        --tls-ca "$PKI/ca.crt" --tls-cert "$PKI/master.crt" --tls-key "$PKI/master.key" \
        --spool-max-bytes "$SPOOL_MAX" --max-batch 50 --idle-ms 1000 --max-delay-ms 1000 \
        --tee "$TMP/tee.jsonl"
    wait_until 30 grep -q 'cadre ship: listening on 127\.0\.0\.1:[0-9]' "$TMP/$1.log" || return 1
    ADDR=$(sed -n 's/.*cadre ship: listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$TMP/$1.log")
}

# fwd FROM:TO OUT: the two workers forward lines FROM..TO-1 of the log; the forwarder's
# report ("file: worker-a N, worker-b M sent") goes to OUT.
fwd() {
    FWD_FILE=$LOG FWD_RANGE=$1 timeout 120 "$PY" "$FWD" "$ADDR" "$PKI" - file >"$2"
}

# ended NAME COUNT: shipper NAME's log shows COUNT worker connections ended (every frame sent
# before the end was read, and spooled in the same turn).
ended() { [ "$(grep -c 'worker-[ab] (127\.0\.0\.1:[0-9]*) disconnected' "$TMP/$1.log")" -ge "$2" ]; }

# caught_up: the state has every spool read to its end and acknowledged (rotated spools: gone
# from the state and from the disk).
caught_up() {
    "$PY" - "$ST" <<'PYEOF'
import os, sys
st = sys.argv[1]
names = os.listdir(os.path.join(st, "syslog"))
if any(not n.endswith(".log") for n in names):
    sys.exit(1)  # a rotated spool is still there
live = {}
for n in names:
    s = os.stat(os.path.join(st, "syslog", n))
    live[(s.st_dev, s.st_ino)] = s.st_size
seen, cuts = set(), 0
for line in open(os.path.join(st, "offsets")).read().splitlines()[1:]:
    w = line.split(" ")
    if w[0] == "cut":
        cuts += 1
        continue
    key = (int(w[1]), int(w[2]))
    if key not in live or int(w[5]) != live[key]:
        sys.exit(1)
    seen.add(key)
sys.exit(0 if cuts == 0 and seen == set(live) else 1)
PYEOF
}

# --- first part, then kill -9 --------------------------------------------------------------
check "the shipper listens on a free port" start_ship ship1
check "the workers forward the first part of the log" fwd "0:$K" "$TMP/fwd1.out"
check "... which the shipper reads to the end of both connections" wait_until 30 ended ship1 2
kill -KILL "$PID_ship1"
wait "$PID_ship1" 2>/dev/null || true
# How far the killed shipper had got (for the reader; the checks below hold either way).
echo "# at the kill: $(ls "$ST/syslog" | tr '\n' ' ')"
caught_up && echo "# note: the shipper had caught up before the kill (nothing was mid-stream)"
# A worker's first part fits one spool write, which rotates it at once; a fast shipper reads,
# acknowledges and deletes those rotated spools (it deletes one only once acknowledged) before
# the kill, leaving no spool at all. The final checks show nothing was lost either way.
spools_or_all_acknowledged() {
    compgen -G "$ST/syslog/worker-[ab].log*" >/dev/null || [ -z "$(ls -A "$ST/syslog")" ]
}
check "the spools survive the kill (or every spool was acknowledged and deleted)" \
    spools_or_all_acknowledged

# --- restart on the same state, the rest of the log ---------------------------------------
check "the shipper restarts on its state" start_ship ship2
check "the workers forward the rest of the log" fwd "$K:$N" "$TMP/fwd2.out"
check "... which the shipper reads to the end" wait_until 30 ended ship2 2
# Rotation is logged after the turn's writes, so a kill right after the forwarders finish may
# come before the first shipper logged one: either shipper's log counts.
check "spools rotated at --spool-max-bytes" \
    grep -Eq 'syslog: .*/worker-[ab]\.log rotated to .*/worker-[ab]\.log\.[0-9]+$' \
    "$TMP/ship1.log" "$TMP/ship2.log"

# A client certificate of another CA naming a known worker: refused, logged, nothing spooled.
check "a certificate of an unknown CA is refused" \
    timeout 60 "$PY" "$FWD" "$ADDR" "$PKI" - unknown_ca
check "... and logged" grep -Eq 'refused 127\.0\.0\.1:[0-9]+: TLS handshake failed: client certificate refused: unable to get local issuer certificate' "$TMP/ship2.log"
check "the shipper catches up, every rotated spool deleted" wait_until 90 caught_up
check "rotated spools were deleted once acknowledged" \
    grep -q 'worker-b\.log\.[0-9]*: rotated spool read and acknowledged ([0-9]* bytes): deleted' "$TMP/ship2.log"
check "the shipper stops on TERM" stop_pid ship2
# The summary counts each worker's messages of the run (the second part).
counted() {
    local w=$1 want got
    want=$(sed -n "s/.*$w \([0-9]*\).*/\1/p" "$TMP/fwd2.out")
    got=$(sed -n "s/.*cadre ship: syslog: $w: \([0-9]*\) messages$/\1/p" "$TMP/ship2.log")
    [ -n "$want" ] && [ "$want" = "$got" ] || {
        echo "  $w: forwarded ${want:-?}, counted ${got:-none}" >&2
        return 1
    }
}
# received_only_forwarded: the receiver took exactly the messages the workers forwarded.
received_only_forwarded() {
    local want got
    want=$(sed -n 's/.*worker-a \([0-9]*\), worker-b \([0-9]*\).*/\1 + \2/p' "$TMP/fwd2.out")
    got=$(sed -n 's/.*cadre ship: syslog stats messages=\([0-9]*\) .*/\1/p' "$TMP/ship2.log")
    [ -n "$want" ] && [ "$((want))" = "$got" ] || {
        echo "  forwarded ${want:-?}, received ${got:-?}" >&2
        return 1
    }
}
# Its one message (scn="unknown_ca", src_ip 203.0.113.9, an address the log does not have)
# was neither received nor sent.
check "nothing of the unknown CA's client arrived" received_only_forwarded
check "... nor was sent" sh -c "! grep -q '203\.0\.113\.9' '$TMP/tee.jsonl'"

check "the summary counts worker-a's messages" counted worker-a
check "the summary counts worker-b's messages" counted worker-b
check "the receiver's counters are printed" grep -Eq 'cadre ship: syslog stats messages=[0-9]+ .* refused_tls=[1-9]' "$TMP/ship2.log"

# --- the engine has what the file route gives ---------------------------------------------
t_partitions() {
    "$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl" &&
        "$CADRE" ingest decnet "$LOG" --out "$TMP/ingest.jsonl" 2>/dev/null &&
        "$CADRE" cluster "$TMP/ingest.jsonl" --out "$TMP/want.jsonl" --quiet &&
        "$PY" "$SOURCE_DIR/bench/partcmp.py" "$TMP/want.jsonl" "$TMP/got.jsonl" >"$TMP/partcmp.out" || {
        sed 's/^/  /' "$TMP/partcmp.out" >&2
        return 1
    }
}
check "the engine's partitions equal ingest decnet + cluster of the same lines" t_partitions
t_sent() {
    "$PY" "$SOURCE_DIR/tests/it/ship_check.py" --firsts "$TMP/tee.jsonl" "$TMP/ingest.jsonl" \
        >"$TMP/check.out" || {
        sed 's/^/  /' "$TMP/check.out" >&2
        return 1
    }
}
check "what was sent merges into exactly ingest's observations" t_sent

# --- refused at start ---------------------------------------------------------------------
tls=(--tls-ca "$PKI/ca.crt" --tls-cert "$PKI/master.crt" --tls-key "$PKI/master.key")
check "--listen-syslog without --state" expect_exit 2 "$CADRE" ship --config "$CFG" \
    --listen-syslog 127.0.0.1:0 "${tls[@]}"
check "--listen-syslog with --input cowrie" expect_exit 2 "$CADRE" ship --config "$CFG" \
    --state "$TMP/st2" --input cowrie --listen-syslog 127.0.0.1:0 "${tls[@]}"
check "--listen-syslog without certificates" expect_exit 2 "$CADRE" ship --config "$CFG" \
    --state "$TMP/st2" --listen-syslog 127.0.0.1:0
check "--tls-ca without --listen-syslog" expect_exit 2 "$CADRE" ship --config "$CFG" \
    --tls-ca "$PKI/ca.crt" "$LOG"
check "a key of another certificate" expect_exit 1 "$CADRE" ship --config "$CFG" \
    --state "$TMP/st2" --listen-syslog 127.0.0.1:0 --tls-ca "$PKI/ca.crt" \
    --tls-cert "$PKI/master.crt" --tls-key "$PKI/worker-a.key"
check "... is named" grep -q 'does not match the certificate' "$TMP/last.err"

stop_engine 1 || FAIL=$((FAIL + 1))
finish
