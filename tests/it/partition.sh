#!/usr/bin/env bash
# partition.sh - network partitions between the engine's hosts (docs/protocol.md §7, §10).
#
# The broker, the merger, the two shards and the client each run in their own network
# namespace (a "host"), joined by veth pairs to a bridge in a hub namespace, over tcp://
# with CURVE on. Each host's link delays what it sends by 20 ms ± 5 ms and loses 1% of it
# (tc netem; see impair_links for kernels without sch_netem). `cadre send` streams a
# generated corpus of 5000 records, written into a FIFO at a steady pace:
#   1-2000     shard 1's link is cut (the hub's end of its veth pair set down) once the
#              merger has applied 500, so what is on its way to shard 1 is caught in TCP;
#   2001-3000  written once every side has declared shard 1 dead; then, at least CUT_MS
#              (several liveness periods: liveness × heartbeat_ms = 600 ms here) after the
#              cut, the link is restored;
#   3001-4000  on whole links; the merger's link is cut once it has applied 3200;
#   4001-5000  written once every side has declared the merger dead; the link is restored.
# Checks:
#   - each side declares the cut-off peer dead, and the broker hears it again afterwards;
#   - the broker keeps acknowledging while a peer is cut off (it journals, nothing waits);
#   - every record is acknowledged exactly once (flushed at seq 5000), the merger applied
#     exactly the journal, and the assignments, identities and campaigns equal `cadre
#     cluster`'s on the same corpus, byte for byte;
#   - every process stops cleanly.
# Exits 77 (skipped, SKIP_RETURN_CODE in CMake) when network namespaces cannot be made: not
# root, no iproute2, or `ip netns add` refused. Namespaces, processes and the temporary
# directory are removed on every exit path; namespaces that a killed run left behind
# (named after a pid that is gone) are removed at the start.
# PARTITION_CUT_MS and PARTITION_HB_MS override the cuts' length and heartbeat_ms for a run
# by hand: PARTITION_CUT_MS=150000 PARTITION_HB_MS=100 fills the queues towards the cut-off
# peer (docs/protocol.md §10) and takes about six minutes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${FIXTURES_DIR:?}"
SKIP=77
SHARDS=2
EVERY=500
WINDOW=200 # cadre send --window
TOTAL=5000
CUT_MS=${PARTITION_CUT_MS:-2000} # how long a link stays down at least
HB_MS=${PARTITION_HB_MS:-200}    # heartbeat_ms
LIVENESS=3                       # liveness: dead after 3 x 200 ms of silence
NET=10.231.0                     # the /24 inside the test's own namespaces
STEM=cpt                         # namespace names (net_lib.sh):
PREFIX=$STEM$$                   # unique to this run
HOSTS=(hub broker merger shard0 shard1 client)
declare -A ADDR=([broker]=$NET.1 [merger]=$NET.2 [shard0]=$NET.10 [shard1]=$NET.11
    [client]=$NET.100)
CFG=$TMP/cadre.yaml
LOGDIR=$TMP # where spawn puts the logs (engine_lib.sh)
IMPAIRMENT=none

# --- hosts (tests/it/net_lib.sh) -------------------------------------------------------------

source "$(dirname "$0")/net_lib.sh"

# Processes first (engine_cleanup kills every one spawned, and removes $TMP), then the
# namespaces; an exit status such as 77 is kept.
# shellcheck disable=SC2317
partition_cleanup() {
    engine_cleanup
    net_cleanup
}
trap partition_cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "skipped: $*"
    exit "$SKIP"
}

# impair_links: every host's link delays what it sends by 20 ms ± 5 ms and loses 1% of it,
# with netem. Without sch_netem (a kernel built without it, as on some CI machines) the
# links lose 1% through bpf_loss but have no delay, and the output says so; with neither
# the partitions are still tested, on clean links.
impair_links() {
    local h
    if netem_works; then
        for h in "${HOSTS[@]:1}"; do
            tc -n "$(ns "$h")" qdisc add dev eth0 root netem delay 20ms 5ms loss 1% || return 1
        done
        IMPAIRMENT="netem: 20ms ± 5ms delay, 1% loss"
    elif bpf_loss client 2>/dev/null; then
        for h in broker merger shard0 shard1; do
            bpf_loss "$h" || return 1
        done
        IMPAIRMENT="no sch_netem in this kernel: 1% loss (htb + cls_bpf), no delay"
    else
        IMPAIRMENT="no sch_netem, no cls_bpf: links unimpaired"
    fi
}

# --- probes ---------------------------------------------------------------------------------

query() { on client "$CADRE" query --config "$CFG" "$@"; }

# applied: the merger's applied counter, empty while it does not answer (3 s: a lost SYN is
# sent again after 1 s).
applied() {
    query health --timeout-ms 3000 2>/dev/null | sed -n 's/.*"applied": \([0-9]*\).*/\1/p'
}
applied_at_least() {
    local a
    a=$(applied)
    [ -n "$a" ] && [ "$a" -ge "$1" ]
}

# acked: the last acknowledged count `cadre send --progress` reported.
acked() {
    sed -n 's/^progress: [0-9]* submitted, \([0-9]*\) acknowledged$/\1/p' "$TMP/send.err" |
        tail -n 1
}
acked_at_least() {
    local a
    a=$(acked)
    [ -n "$a" ] && [ "$a" -ge "$1" ]
}

# mark NAME: the number of lines in NAME's log so far.
mark() { wc -l <"$LOGDIR/$1.log"; }

# logged_since NAME LINE PATTERN: NAME's log has a line matching PATTERN after line LINE.
logged_since() {
    tail -n "+$(($2 + 1))" "$LOGDIR/$1.log" | grep -q -- "$3"
}

# now_ms: wall-clock milliseconds.
now_ms() {
    local us=${EPOCHREALTIME/[.,]/}
    echo $((us / 1000))
}

# hold_until MS: polls the clock until now_ms passes MS (the cut's minimum length).
hold_until() {
    while (($(now_ms) < $1)); do
        sleep 0.1
    done
}

send_done() { ! kill -0 "$SEND" 2>/dev/null; }

# show_logs: the warnings and errors of every process, for a failed run.
show_logs() {
    local name
    for name in broker merger shard0 shard1; do
        echo "--- $name.log, warnings and errors (the last 20)"
        grep -E '^[BMS][0-9]+ [0-9]+ [^ ]+ [EW] ' "$LOGDIR/$name.log" | tail -n 20
    done
    echo "--- cadre send"
    tail -n 3 "$TMP/send.err" 2>/dev/null
}

# need_all_passed: stops the run (failed) when a check failed so far: what follows needs
# the engine up.
need_all_passed() {
    [ "$FAIL" -eq 0 ] && return 0
    show_logs
    finish || exit 1
}

# feed FIRST COUNT: writes records FIRST .. FIRST+COUNT-1 into the sender's FIFO in the
# background, 100 every 50 ms (a paced source: the stream lasts long enough for a link to be
# cut in the middle of it; a full pipe also blocks until the sender reads), once the
# previous writer is done.
FEED_PID=
writer_done() { [ -z "$FEED_PID" ] || ! kill -0 "$FEED_PID" 2>/dev/null; }
feed() {
    local first=$1 end=$(($1 + $2 - 1)) i
    # One writer at a time: two would interleave their lines in the FIFO.
    wait_until 60 writer_done || return 1
    for ((i = first; i <= end; i += 100)); do
        sed -n "$i,$((i + 99 < end ? i + 99 : end))p" "$TMP/corpus.jsonl"
        sleep 0.05
    done >&3 &
    FEED_PID=$!
    ENGINE_PIDS+=("$FEED_PID")
}

# cut_off HOST: cuts HOST's link, and notes when.
T_CUT=0
cut_off() {
    link_down "$1"
    T_CUT=$(now_ms)
}

# feed_while_cut FIRST COUNT: feeds records FIRST .. FIRST+COUNT-1 (after every side
# declared the cut-off peer dead); the broker must acknowledge them while the peer is
# unreachable. `cadre send` stops reporting once it waits for more input from the FIFO: its
# progress line at every 1000th submission is its last, and it has every acknowledgement
# but the window's by then, so the parts end on multiples of 1000.
feed_while_cut() {
    local end=$(($1 + $2 - 1))
    feed "$1" "$2"
    check "... the broker acknowledges records $1-$end meanwhile" \
        wait_until 20 acked_at_least $((end - WINDOW))
}

# restore_after HOST WHO LINE: keeps HOST's link down for CUT_MS in all and restores it; the
# broker must hear WHO again (after line LINE of its log).
restore_after() {
    local host=$1 who=$2 since=$3
    hold_until $((T_CUT + CUT_MS))
    link_up "$host"
    # TCP resends after a back-off that grows with the cut, up to two minutes.
    check "... link restored: the broker hears $who again" \
        wait_until $((20 + CUT_MS / 1000 < 140 ? 20 + CUT_MS / 1000 : 140)) bash -c "
        tail -n +$((since + 1)) '$TMP/broker.log' | grep -q 'broker: $who \(heard again\|ready\)'"
}

# --- the test -------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    skip "iproute2 (ip, tc) not installed"
fi
sweep_stale
make_hosts || skip "cannot make network namespaces: $(cat "$TMP/netns.err" 2>/dev/null)"
impair_links || {
    echo "  cannot impair the links" >&2
    exit 1
}
echo "# links: $IMPAIRMENT"

"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 170 \
    --out "$TMP/gen.jsonl" >/dev/null
head -n "$TOTAL" "$TMP/gen.jsonl" >"$TMP/corpus.jsonl"
"$CADRE" cluster "$TMP/corpus.jsonl" --reconcile-every "$EVERY" --out "$TMP/exp.assign.jsonl" \
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
check "the merger answers across the bridge" wait_until 30 applied_at_least 0
check "every peer is ready at the broker" wait_until 30 bash -c "
    grep -q 'broker: merger 0 ready' '$TMP/broker.log' &&
        grep -q 'broker: shard 0 ready' '$TMP/broker.log' &&
        grep -q 'broker: shard 1 ready' '$TMP/broker.log'"
need_all_passed

mkfifo "$TMP/in.fifo"
ip netns exec "$(ns client)" "$CADRE" send --config "$CFG" --window "$WINDOW" --progress \
    --timeout-ms 60000 "$TMP/in.fifo" >"$TMP/send.out" 2>"$TMP/send.err" &
SEND=$!
ENGINE_PIDS+=("$SEND")
exec 3>"$TMP/in.fifo"

# Records 1-2000 on whole links. Shard 1 is cut off in the middle of them, as soon as the
# merger has applied 500: what is on its way to shard 1 then waits in TCP.
feed 1 2000
check "records 1-2000 stream through to the merger" wait_until 30 applied_at_least 500
b=$(mark broker) m=$(mark merger) s=$(mark shard1)
cut_off shard1
need_all_passed

# Records 2001-3000 while shard 1 is cut off.
check "shard 1 cut off: the broker declares it dead" \
    wait_until 10 logged_since broker "$b" 'broker: shard 1 dead (silent'
check "... the merger declares it dead" \
    wait_until 10 logged_since merger "$m" 'merger: shard 1 dead'
check "... shard 1 finds the broker silent" \
    wait_until 10 logged_since shard1 "$s" 'shard 1: broker silent'
check "... and the merger silent" wait_until 10 logged_since shard1 "$s" 'shard 1: merger silent'
feed_while_cut 2001 1000
restore_after shard1 "shard 1" "$b"
echo "# shard 1 was cut off having applied up to seq $(tail -n +$((b + 1)) "$TMP/broker.log" |
    grep -m1 -o 'shard 1 ready at [0-9]*' | grep -o '[0-9]*$') of 2000"

# Records 3001-4000 on whole links, once the backlog reached the merger; the merger is cut
# off in the middle of them, as soon as it has applied 3200.
check "... and the stream reaches the merger" wait_until 30 applied_at_least 3000
feed 3001 1000
check "records 3001-4000 stream through to the merger" wait_until 30 applied_at_least 3200
b=$(mark broker) m=$(mark merger) s0=$(mark shard0) s1=$(mark shard1)
cut_off merger

# Records 4001-5000 while the merger is cut off.
check "merger cut off: the broker declares it dead" \
    wait_until 10 logged_since broker "$b" 'broker: merger dead (silent'
check "... the merger finds the broker silent" \
    wait_until 10 logged_since merger "$m" 'merger: broker silent'
check "... and declares both shards dead" wait_until 10 bash -c "
    tail -n +$((m + 1)) '$TMP/merger.log' | grep -q 'merger: shard 0 dead' &&
        tail -n +$((m + 1)) '$TMP/merger.log' | grep -q 'merger: shard 1 dead'"
check "... both shards find the merger silent" wait_until 10 bash -c "
    tail -n +$((s0 + 1)) '$TMP/shard0.log' | grep -q 'shard 0: merger silent' &&
        tail -n +$((s1 + 1)) '$TMP/shard1.log' | grep -q 'shard 1: merger silent'"
feed_while_cut 4001 1000
restore_after merger "merger 0" "$b"
echo "# the merger was cut off with seq $(tail -n +$((b + 1)) "$TMP/broker.log" |
    grep -m1 -o 'merger 0 ready at [0-9]*' | grep -o '[0-9]*$') of 4000 reconciled"

# The end of input: send flushes and returns once everything is reconciled.
check "the rest of the corpus is written" wait_until 60 writer_done
exec 3>&-
check "cadre send completes" wait_until 60 send_done
rc=0
wait "$SEND" || rc=$?
check "... with status 0" test "$rc" -eq 0
check "every record acknowledged once, flushed at the last one" \
    grep -q "^$TOTAL acknowledged, 0 refused, 0 unreadable, flushed at seq $TOTAL\$" \
    "$TMP/send.out"
check "the merger applied exactly the journal" test "$(applied)" = "$TOTAL"
query assignments --out "$TMP/got.assign.jsonl" || true
query identities --out "$TMP/got.ids.jsonl" || true
query campaigns --out "$TMP/got.camps.jsonl" || true
check "assignments equal cadre cluster's" cmp "$TMP/got.assign.jsonl" "$TMP/exp.assign.jsonl"
# same_records GOT WANT: cmp, and on a difference the first differing records of each.
same_records() {
    cmp "$1" "$2" && return 0
    diff "$1" "$2" | head -6 | cut -c1-600 >&2
    return 1
}
check "identities equal cadre cluster's" same_records "$TMP/got.ids.jsonl" "$TMP/exp.ids.jsonl"
check "campaigns equal cadre cluster's" same_records "$TMP/got.camps.jsonl" "$TMP/exp.camps.jsonl"
check "every process exits 0" stop_engine "$SHARDS"
[ "$FAIL" -eq 0 ] || show_logs
finish
