#!/usr/bin/env bash
# ship.sh - `cadre ship` on the real binaries (docs/ship.md): --once on Cowrie logs (plain
# and gzip) gives the engine the partitions of cadre ingest + cadre cluster; a second run
# with the same state sends nothing again, a grown file only what it gained; a gzip file is
# read once; --input obs (JSON Lines and MessagePack); --decky for events without a sensor;
# bad lines named; following a file as it grows, is renamed away and recreated, or is
# truncated in place; TERM saves the state; usage errors, a held state directory, a state of
# another input kind. (tests/it/ship_crash.sh: kill -9 and rotations at random points.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
: "${TESTDATA_DIR:?}" "${SHARED_DIR:?}" "${SOURCE_DIR:?}" "${FIXTURES_DIR:?}"
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
SMALL="$TESTDATA_DIR/cowrie/small.jsonl"
REAL="$SHARED_DIR/realdata/radec73-2024/cowrie"

CFG=$TMP/cadre.yaml
write_config "$CFG" "$TMP" 1
start_engine "$CFG" 1
wait_until 30 health_answers "$CFG" || exit 1

# ship ARGS...: `cadre ship --config CFG ARGS...`, output in last.out / last.err.
ship() { expect_exit 0 "$CADRE" ship --config "$CFG" "$@"; }
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}
# partitions_of FILE...: the engine's assignments have the partitions of cadre ingest +
# cadre cluster of the Cowrie FILEs.
partitions_of() {
    "$CADRE" query --config "$CFG" assignments --out "$TMP/got.jsonl" &&
        "$CADRE" ingest cowrie "$@" --out "$TMP/all.jsonl" 2>/dev/null &&
        "$CADRE" cluster "$TMP/all.jsonl" --out "$TMP/want.jsonl" --quiet &&
        "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$TMP/want.jsonl" "$TMP/got.jsonl" >/dev/null
}

t_once() {
    mkdir -p "$TMP/once"
    cp "$REAL/cowrie.json.2024-04-01" "$TMP/once/cowrie.json"
    gzip -c "$REAL/cowrie.json.2024-04-02" >"$TMP/once/cowrie.json.2.gz"
    ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json" "$TMP/once/cowrie.json.2.gz" &&
        err_has "0 bad," && partitions_of "$TMP/once/cowrie.json" "$TMP/once/cowrie.json.2.gz" &&
        grep -q "^unit .* d $TMP/once/cowrie.json.2.gz$" "$TMP/once/state/offsets" &&
        grep -q "^unit .* - $TMP/once/cowrie.json$" "$TMP/once/state/offsets"
}
check "--once: plain and gzip logs give the engine the partitions of ingest + cluster" t_once

t_resume() {
    ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json" "$TMP/once/cowrie.json.2.gz" &&
        err_has "0 records read, 0 bad, 0 observations sent" &&
        head -n 50 "$REAL/cowrie.json.2024-04-03" >>"$TMP/once/cowrie.json" &&
        ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json" "$TMP/once/cowrie.json.2.gz" &&
        err_has "50 records read, 0 bad" &&
        partitions_of "$TMP/once/cowrie.json" "$TMP/once/cowrie.json.2.gz"
}
check "--once again: nothing sent twice, a grown file sends only what it gained" t_resume

t_gz_once() {
    # The compressed rotation of the followed file: known by its first bytes, not read again.
    gzip -c "$TMP/once/cowrie.json" >"$TMP/once/cowrie.json.1.gz" &&
        ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json.1.gz" &&
        err_has "0 records read" &&
        ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json.1.gz" "$TMP/once/cowrie.json" &&
        err_has "0 records read" && err_has "cowrie.json.1.gz: holds what" &&
        head -n 20 "$REAL/cowrie.json.2024-04-04" >>"$TMP/once/cowrie.json" &&
        ship --once --state "$TMP/once/state" "$TMP/once/cowrie.json.1.gz" "$TMP/once/cowrie.json" &&
        err_has "20 records read"
}
check "a gzip copy of a file read before is recognised by its first bytes" t_gz_once

t_decky_bad() {
    mkdir -p "$TMP/decky"
    sed 's/"sensor":"pot-a",//' "$SMALL" | head -n 14 >"$TMP/decky/a.json"
    printf 'not json\n' >>"$TMP/decky/a.json"
    ship --once --decky pot-x --tee "$TMP/decky/tee.jsonl" "$TMP/decky/a.json" &&
        grep -q '"decky": "pot-x"' "$TMP/decky/tee.jsonl" &&
        ! grep -q '"decky": "pot-a"' "$TMP/decky/tee.jsonl" &&
        grep -q '"op": "append"' "$TMP/decky/tee.jsonl" &&
        err_has "a.json:15: " && err_has "15 records read, 1 bad"
}
check "--decky names the sensor of events without one; bad lines are named; appends" t_decky_bad

t_obs() {
    local d=$TMP/obs rc=0
    mkdir -p "$d"
    "$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 2 --out "$d/a.jsonl" \
        >/dev/null || return 1
    "$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --replicate 2 --seed 5 \
        --out "$d/b.msgpack" >/dev/null || return 1
    "$CADRE" cluster "$d/a.jsonl" --out "$d/a.want" --quiet || return 1
    # An engine of its own, so the partitions are those of these observations alone.
    write_config "$d/cadre.yaml" "$d" 1
    LOGDIR=$d
    spawn omerger "$MERGER" --config "$d/cadre.yaml"
    spawn obroker "$BROKER" --config "$d/cadre.yaml"
    spawn oshard0 "$SHARD" --config "$d/cadre.yaml" --id 0
    LOGDIR=$TMP
    wait_until 30 health_answers "$d/cadre.yaml" || return 1
    expect_exit 0 "$CADRE" ship --config "$d/cadre.yaml" --once --input obs "$d/a.jsonl" &&
        "$CADRE" query --config "$d/cadre.yaml" assignments --out "$d/a.got" &&
        "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$d/a.want" "$d/a.got" >/dev/null &&
        expect_exit 0 "$CADRE" ship --config "$d/cadre.yaml" --once --input obs --op append \
            --tee "$d/b.tee" "$d/b.msgpack" &&
        [ "$(grep -c '"op": "append"' "$d/b.tee")" = "$("$CADRE" check "$d/b.msgpack" |
            sed -n 's/^\([0-9]*\) records.*/\1/p')" ] || rc=1
    stop_pid oshard0 || rc=1
    stop_pid omerger || rc=1
    stop_pid obroker || rc=1
    return $rc
}
check "--input obs: JSON Lines and MessagePack sent as they are (--op append: as appends)" t_obs

# own_engine DIR NAME: an engine of its own in DIR (processes NAMEmerger, NAMEbroker,
# NAMEshard0), so the partitions are those of one test's observations alone.
own_engine() {
    write_config "$1/cadre.yaml" "$1" 1
    LOGDIR=$1
    spawn "${2}merger" "$MERGER" --config "$1/cadre.yaml"
    spawn "${2}broker" "$BROKER" --config "$1/cadre.yaml"
    spawn "${2}shard0" "$SHARD" --config "$1/cadre.yaml" --id 0
    LOGDIR=$TMP
    wait_until 30 health_answers "$1/cadre.yaml"
}
own_engine_stop() {
    LOGDIR=$1
    local rc=0
    stop_pid "${2}shard0" || rc=1
    stop_pid "${2}merger" || rc=1
    stop_pid "${2}broker" || rc=1
    LOGDIR=$TMP
    return $rc
}
# acked_to STATE FILE: the state shows FILE (by inode) acknowledged to its size, no part in
# flight, every other unit finished.
acked_to() {
    "$PYTHON" - "$1" "$2" <<'PYEOF'
import os, sys
st = os.stat(sys.argv[2])
units, ok_live = [], False
for line in open(sys.argv[1]).read().splitlines()[1:]:
    w = line.split(" ")
    if w[0] == "unit":
        units.append([int(w[1]), int(w[2]), int(w[5]), w[7] == "d", 0])
    elif w[0] == "cut":
        units[-1][4] += 1
for dev, ino, commit, done, cuts in units:
    if (dev, ino) == (st.st_dev, st.st_ino):
        ok_live = commit == st.st_size and cuts == 0
    elif not done:
        sys.exit(1)
sys.exit(0 if ok_live else 1)
PYEOF
}

# DECNET logs, rotated by copytruncate as DECNET's logrotate does, through the DECNET
# adapter: the partitions of cadre ingest decnet + cadre cluster, nothing lost or doubled.
t_decnet() {
    local d=$TMP/decnet rc=0 n half
    mkdir -p "$d"
    "$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --format decnet --replicate 2 \
        --out "$d/all.log" >/dev/null 2>&1 || return 1
    own_engine "$d" d || return 1
    : >"$d/decnet.log"
    spawn dship "$CADRE" ship --config "$d/cadre.yaml" --input decnet --state "$d/state" \
        --tee "$d/tee.jsonl" --max-batch 100 "$d/decnet.log"
    n=$(grep -c . "$d/all.log")
    half=$((n / 2))
    head -n "$half" "$d/all.log" >>"$d/decnet.log"
    wait_until 30 acked_to "$d/state/offsets" "$d/decnet.log" || rc=1
    cp "$d/decnet.log" "$d/decnet.log.1" && truncate -s 0 "$d/decnet.log"
    tail -n +$((half + 1)) "$d/all.log" >>"$d/decnet.log"
    wait_until 30 acked_to "$d/state/offsets" "$d/decnet.log" || rc=1
    stop_pid dship || rc=1
    "$CADRE" query --config "$d/cadre.yaml" assignments --out "$d/got.jsonl" || rc=1
    own_engine_stop "$d" d || rc=1
    "$CADRE" ingest decnet "$d/decnet.log.1" "$d/decnet.log" --out "$d/ingest.jsonl" \
        2>/dev/null || rc=1
    "$CADRE" cluster "$d/ingest.jsonl" --out "$d/want.jsonl" --quiet || rc=1
    "$PYTHON" "$SOURCE_DIR/bench/partcmp.py" "$d/want.jsonl" "$d/got.jsonl" >/dev/null || rc=1
    "$PYTHON" "$SOURCE_DIR/tests/it/ship_check.py" "$d/tee.jsonl" "$d/ingest.jsonl" \
        >"$d/check.out" || {
        sed 's/^/  /' "$d/check.out" >&2
        rc=1
    }
    grep -q "truncated in place (copytruncate)" "$TMP/dship.log" || rc=1
    # The adapter's session ids may repeat across parts: every one is named after its part.
    grep -q '"id": "[^"]*@[0-9a-f]\{8\}:[0-9]*"' "$d/tee.jsonl" || rc=1
    expect_exit 65 "$CADRE" ship --config "$d/cadre.yaml" --once --input decnet \
        --decnet-state "$d/all.log" "$d/decnet.log" || rc=1
    return $rc
}
check "--input decnet: copytruncate'd DECNET logs give the partitions of ingest decnet + cluster" t_decnet

# observations CONFIG: the merger's observation count.
observations() { health_field "$CFG" observations; }
has_obs() { [ "$(observations)" -ge "$1" ]; }
line_of() { grep -m1 "\"src_ip\":\"$2\"" "$1"; }

t_follow() {
    local d=$TMP/follow before
    mkdir -p "$d"
    before=$(observations)
    spawn follow "$CADRE" ship --config "$CFG" --state "$d/state" --rotate-wait-ms 200 \
        --tee "$d/tee.jsonl" "$d/cowrie.json"
    # Created after the shipper started, then grown.
    sed 's/192\.0\.2\./198.18.0./g' "$SMALL" >"$d/src.json"
    head -n 7 "$d/src.json" >"$d/cowrie.json"
    wait_until 20 has_obs $((before + 1)) || return 1
    # Renamed away and recreated (Cowrie's TimedRotatingFileHandler).
    mv "$d/cowrie.json" "$d/cowrie.json.2024-04-01"
    sed -n '8,9p' "$d/src.json" >"$d/cowrie.json"
    wait_until 20 has_obs $((before + 2)) || return 1
    # Truncated in place after a copy (logrotate's copytruncate), then written again.
    cp "$d/cowrie.json" "$d/cowrie.json.1"
    # Lines the original got between the shipper's last read and the copy.
    sed -n '10,11p' "$d/src.json" >>"$d/cowrie.json.1"
    truncate -s 0 "$d/cowrie.json"
    sed -n '12,13p' "$d/src.json" >>"$d/cowrie.json"
    wait_until 20 has_obs $((before + 3)) || return 1
    # The first rotation, read to its end, is deleted; at the next rotation it is forgotten.
    wait_until 20 finished_units "$d/state/offsets" 2 || return 1
    rm "$d/cowrie.json.2024-04-01"
    mv "$d/cowrie.json" "$d/cowrie.json.2"
    sed -n '14p' "$d/src.json" >"$d/cowrie.json"
    wait_until 20 has_obs $((before + 4)) || return 1
    stop_pid follow || return 1
    grep -q "rotated; the old file is read to its end" "$TMP/follow.log" &&
        grep -q "truncated in place (copytruncate)" "$TMP/follow.log" &&
        [ "$(grep -c '^unit ' "$d/state/offsets")" -eq 3 ] &&
        grep -q '"ip": "198.18.0.12"' "$d/tee.jsonl"
}
finished_units() { [ "$(grep -c '^unit .* d ' "$1" 2>/dev/null)" -ge "$2" ]; }
check "follows a file created late, renamed away, truncated in place; forgets deleted rotations; TERM saves the state" t_follow

t_once_silent() {
    local t0=$SECONDS
    expect_exit 1 "$CADRE" ship --endpoint "ipc://$TMP/nobody" --once --timeout-ms 500 "$SMALL" &&
        err_has "the broker stopped answering" && ((SECONDS - t0 < 20))
}
check "--once: a broker that never answers ends the run with exit 1" t_once_silent

t_usage() {
    expect_exit 2 "$CADRE" ship --config "$CFG" &&
        expect_exit 2 "$CADRE" ship --config "$CFG" --input nope x &&
        expect_exit 2 "$CADRE" ship --config "$CFG" --op upsert x &&
        expect_exit 2 "$CADRE" ship --config "$CFG" --window 0 x &&
        expect_exit 2 "$CADRE" ship --config "$CFG" --idle-ms x x &&
        expect_exit 2 "$CADRE" ship "$SMALL"
}
check "usage errors exit 2" t_usage

t_state_errors() {
    local d=$TMP/st
    mkdir -p "$d"
    # Held by a running shipper.
    spawn holder "$CADRE" ship --config "$CFG" --state "$d/a" "$d/none.json"
    wait_until 10 test -e "$d/a/offsets" || return 1
    expect_exit 1 "$CADRE" ship --config "$CFG" --once --state "$d/a" "$SMALL" &&
        err_has "held by another cadre ship" || return 1
    stop_pid holder || return 1
    # Written for another input kind.
    expect_exit 1 "$CADRE" ship --config "$CFG" --once --input obs --state "$d/a" "$SMALL" &&
        err_has "written for --input cowrie" || return 1
    # Damaged.
    mkdir -p "$d/b" && printf 'cadre-ship 1 cowrie\nunit x\n' >"$d/b/offsets"
    expect_exit 1 "$CADRE" ship --config "$CFG" --once --state "$d/b" "$SMALL" &&
        err_has "malformed unit line"
}
check "a state directory held, of another input kind, or damaged is refused" t_state_errors

# Type=notify (deploy/cadre-ship.service): READY=1 once started, STOPPING=1 on TERM, exit 0.
t_notify() {
    "$PYTHON" - "$TMP/notify.sock" "$CADRE" "$CFG" "$TMP/notify-state" "$TMP/none.json" <<'PYEOF'
import os, socket, subprocess, sys
path, cadre, cfg, state, log = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([cadre, "ship", "--config", cfg, "--state", state, log], env=env,
                     stderr=subprocess.DEVNULL)
try:
    msgs = []
    while not any(b"READY=1" in m for m in msgs):
        msgs.append(s.recv(4096))
    p.terminate()
    p.wait(timeout=20)
    msgs.append(s.recv(4096))
    sys.exit(0 if any(b"STOPPING=1" in m for m in msgs) and p.returncode == 0 else 1)
finally:
    if p.poll() is None:
        p.kill()
PYEOF
}
check "READY=1 when started, STOPPING=1 and exit 0 on TERM (Type=notify)" t_notify

stop_engine 1 || FAIL=$((FAIL + 1))
finish
