#!/usr/bin/env bash
# decnet.sh - black-box checks of the DECNET adapter and the generator's DECNET-format twin:
# `cadre ingest decnet` on plain, gzip, standard input and pipes, in any file order, with
# --flush-idle, bad, native and address-less lines, the state file; and, for every fixture
# and 20 random DSL specs, `cadre gen --format decnet | cadre ingest decnet` gives back
# exactly the observations cadre_decnet_view predicts, and `cadre cluster` on them gives the
# partitions (both layers, over source IPs) of clustering the generator's own records less
# what DECNET lines cannot carry (asn, hassh, kd_simhash; docs/decnet.md §5).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"
: "${CADRE:?}" "${BUILD_DIR:?}" "${SOURCE_DIR:?}" "${FIXTURES_DIR:?}"
VIEW="$BUILD_DIR/cadre_decnet_view"
RT="$SOURCE_DIR/tests/tools/decnet_rt.py"
PY=/usr/bin/python3

ingest() { expect_exit 0 "$CADRE" ingest decnet "$@"; }
err_has() {
    grep -qF -- "$1" "$TMP/last.err" || {
        echo "  stderr lacks: $1" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
        return 1
    }
}
lines_of() { wc -l <"$1" | tr -d ' '; }

# A small twin to exercise the reader: the noise_floor fixture.
"$CADRE" gen "$FIXTURES_DIR/campaigns/noise_floor.yaml" --format decnet \
    --decnet-state "$TMP/nf.state.json" >"$TMP/nf.log"
N_NF=$(lines_of "$TMP/nf.log")

t_plain() {
    ingest "$TMP/nf.log" --decnet-state "$TMP/nf.state.json" &&
        err_has "$N_NF lines, 0 bad, 66 sessions, 30 observations" &&
        [ "$(lines_of "$TMP/last.out")" -eq 30 ] && cp "$TMP/last.out" "$TMP/nf.out" &&
        "$CADRE" check "$TMP/nf.out" >/dev/null
}
check "ingest: the noise_floor twin gives 30 valid observations" t_plain

t_gzip_stdin_pipe() {
    gzip -c "$TMP/nf.log" >"$TMP/nf.log.1.gz" &&
        ingest "$TMP/nf.log.1.gz" --decnet-state "$TMP/nf.state.json" &&
        cmp -s "$TMP/nf.out" "$TMP/last.out" &&
        expect_exit 0 "$CADRE" ingest decnet - --decnet-state "$TMP/nf.state.json" \
            <"$TMP/nf.log.1.gz" && cmp -s "$TMP/nf.out" "$TMP/last.out" &&
        ingest <(cat "$TMP/nf.log") --decnet-state "$TMP/nf.state.json" &&
        cmp -s "$TMP/nf.out" "$TMP/last.out"
}
check "ingest: gzip, gzip on stdin and a pipe give the plain file's output" t_gzip_stdin_pipe

t_order() {
    local half=$((N_NF / 2))
    head -n "$half" "$TMP/nf.log" >"$TMP/part1.log"
    tail -n +$((half + 1)) "$TMP/nf.log" | gzip -c >"$TMP/part2.log.gz"
    ingest "$TMP/part2.log.gz" "$TMP/part1.log" --decnet-state "$TMP/nf.state.json" &&
        cmp -s "$TMP/nf.out" "$TMP/last.out" &&
        ingest "$TMP/part1.log" "$TMP/part2.log.gz" --decnet-state "$TMP/nf.state.json" &&
        cmp -s "$TMP/nf.out" "$TMP/last.out"
}
check "ingest: a rotated gzip part and a plain part, in either order, give the same output" \
    t_order

t_syslog_recv() {
    # cadre syslog-recv's output: "WORKER TAB MSG", backslash, LF, CR and TAB escaped
    sed -e 's/\\/\\\\/g' -e 's/^/worker-01\t/' "$TMP/nf.log" >"$TMP/nf.tsv" &&
        expect_exit 0 "$CADRE" ingest decnet - --decnet-state "$TMP/nf.state.json" \
            <"$TMP/nf.tsv" && cmp -s "$TMP/nf.out" "$TMP/last.out"
}
check "ingest: cadre syslog-recv's WORKER TAB MSG lines give the log's output" t_syslog_recv

t_msgpack() {
    ingest "$TMP/nf.log" --decnet-state "$TMP/nf.state.json" --format msgpack \
        --out "$TMP/nf.msgpack" && "$CADRE" check "$TMP/nf.msgpack" | grep -q "^30 records"
}
check "ingest --format msgpack --out" t_msgpack

# DECNET-LOGS.md §1.11's lines and the quirks of §2.4, with noise around them.
cat >"$TMP/quirks.log" <<'LOG'
<134>1 2026-05-02T06:22:48.089309+00:00 decky-03 ftp - connection [relay@55555 src_ip="203.0.113.7" src_port="51514"]
<134>1 2026-05-02T06:22:48.089309+00:00 SRV-DELTA-77 auth-helper - auth_attempt [relay@55555 username="root" principal="root" secret_printable="12]3\"456" secret_b64="MTJdMyI0NTY=" src_ip="203.0.113.7"]
<134>1 2026-05-02T06:22:49+00:00 decky-01 http - http_request_fingerprint [relay@55555 remote_addr="203.0.113.7:51514" ja4h="ge11nn050000_x" headers_ordered="[\"host\"\]"]
<134>1 2026-05-02T06:22:49+00:00 decky-02 smb - connection [relay@55555 src_ip="2001:db8::10" src_port="445"]
<14>1 2026-05-02T06:22:48.089309+00:00 omega-decky 1 - - -  2026-05-02T06:22:48.089286+00:00 SRV-DELTA-77 bash - command [timeQuality tzKnown="1" isSynced="1" syncAccuracy="326228"] CMD uid=0 user=root src=192.168.1.5 pwd=/root cmd=ls /var/www/html
<14>1 2026-05-02T06:22:50+00:00 omega-decky 1 - - -  2026-05-02T06:22:50+00:00 SRV-OMEGA bash - command - CMD uid=0 pwd=/ cmd=ping -c1 8.8.8.8
<134>1 2026-05-02T06:22:50+00:00 decky-03 ftp - auth_attempt [relay@55555 username="u" principal="u" secret_printable="p" secret_b64="cA=="]
<134>1 2026-05-02T06:22:50+00:00 decky-04 mqtt - auth [relay@55555 username="u" secret_b64="cA=="]
<134>1 2026-05-02T06:22:51+00:00 master decnet 4242 decnet.collector - collector started
<134>1 2026-05-02T06:22:52+00:00 decky-01 http - request [relay@55555 body="cut by an LF
in the body"]
LOG
cat >"$TMP/quirks.state.json" <<'JSON'
{"config": {"deckies": [{"name": "decky-05", "ip": "192.168.1.105", "hostname": "SRV-DELTA-77", "services": ["ssh"]}]}}
JSON

t_quirks() {
    ingest "$TMP/quirks.log" --decnet-state "$TMP/quirks.state.json" &&
        err_has "11 lines, 2 bad, 5 sessions, 3 observations" &&
        err_has "quirks.log:10: structured data cut short" &&
        err_has "quirks.log:11: not an RFC 5424 line" &&
        err_has "skipped: 1 not events (diagnostics, native syslog), 3 without an attacker address (bash/command 1, ftp/auth_attempt 1, mqtt/auth 1)" &&
        grep -q '"credentials": \[\["root", "12\]3\\"456"\]\], "decky": "decky-05"' \
            "$TMP/last.out" &&
        grep -q '"id": "decnet:2001:db8::10"' "$TMP/last.out" &&
        grep -q '"id": "decnet:192.168.1.5"' "$TMP/last.out" &&
        ! grep -q '8\.8\.8\.8' "$TMP/last.out" &&
        grep -q '"ja4h": "ge11nn050000_x"' "$TMP/last.out"
}
check "ingest: §1.11 lines and §2.4 quirks (escapes, IPv6, ip:port, no IP from a command)" \
    t_quirks

t_flush() {
    ingest "$TMP/nf.log" --decnet-state "$TMP/nf.state.json" --flush-idle 600 &&
        err_has "at most " && [ "$(lines_of "$TMP/last.out")" -ge 30 ] &&
        grep -q '"id": "decnet:[^"]*~2"' "$TMP/last.out"
}
check "ingest --flush-idle: sources returning after the window get ~2" t_flush

t_unusable() {
    printf 'Dec  1 10:00:00 host sshd[1]: Accepted\nnot syslog\n\n' >"$TMP/syslog.txt"
    printf '<134>1 2026-05-02T06:22:51+00:00 master decnet 42 decnet.x - up\n' >"$TMP/diag.log"
    expect_exit 65 "$CADRE" ingest decnet "$TMP/syslog.txt" &&
        err_has "syslog.txt: every line is bad (2 of 2)" && err_has "no line was usable" &&
        expect_exit 65 "$CADRE" ingest decnet "$TMP/diag.log" &&
        expect_exit 0 "$CADRE" ingest decnet "$TMP/syslog.txt" "$TMP/nf.log" &&
        expect_exit 1 "$CADRE" ingest decnet "$TMP/missing.log" &&
        expect_exit 1 "$CADRE" ingest decnet "$TMP/nf.log" --decnet-state "$TMP/missing.json" &&
        expect_exit 65 "$CADRE" ingest decnet "$TMP/nf.log" --decnet-state "$TMP/syslog.txt" &&
        expect_exit 2 "$CADRE" ingest decnet "$TMP/nf.log" --session-gap 0 &&
        expect_exit 2 "$CADRE" ingest decnet "$TMP/nf.log" --fatt x
}
check "ingest: exit 65 when no line is usable, 1 on unreadable files, 2 on bad options" \
    t_unusable

# The round trip: every fixture and 20 random specs.
roundtrip() { # NAME SPEC SEED
    local name=$1 spec=$2 seed=$3 d="$TMP/rt"
    mkdir -p "$d"
    "$CADRE" gen "$spec" --seed "$seed" --out "$d/direct.jsonl" 2>/dev/null &&
        "$CADRE" gen "$spec" --seed "$seed" --format decnet --decnet-state "$d/state.json" \
            --out "$d/twin.log" 2>/dev/null &&
        "$CADRE" ingest decnet "$d/twin.log" --decnet-state "$d/state.json" \
            --out "$d/got.jsonl" 2>"$d/ingest.err" &&
        "$VIEW" "$d/direct.jsonl" "$d/view.jsonl" &&
        $PY "$RT" strip "$d/direct.jsonl" "$d/stripped.jsonl" &&
        "$CADRE" cluster "$d/stripped.jsonl" --out "$d/a_stripped.jsonl" --quiet &&
        "$CADRE" cluster "$d/got.jsonl" --out "$d/a_got.jsonl" --quiet || {
        echo "  $name: a step failed" >&2
        return 1
    }
    grep -q " 0 bad," "$d/ingest.err" || {
        echo "  $name: bad lines in the twin" >&2
        return 1
    }
    local rec part
    rec=$($PY "$RT" records "$d/view.jsonl" "$d/got.jsonl") || {
        echo "  $name: records: $rec" >&2
        return 1
    }
    part=$($PY "$RT" parts "$d/a_stripped.jsonl" "$d/a_got.jsonl") || {
        echo "  $name: partitions: $part" >&2
        return 1
    }
    RT_OBS=$((RT_OBS + $(lines_of "$d/got.jsonl")))
}

t_fixtures() {
    local f n=0
    RT_OBS=0
    for f in "$FIXTURES_DIR"/campaigns/*.yaml; do
        case $f in *.expected.yaml) continue ;; esac
        roundtrip "$(basename "$f")" "$f" 0 || return 1
        n=$((n + 1))
    done
    echo "  $n fixtures, $RT_OBS observations"
    [ "$n" -ge 12 ]
}
check "round trip: every fixture's twin ingests to its predicted records and partitions" \
    t_fixtures

t_random() {
    local s
    RT_OBS=0
    for s in $(seq 1 20); do
        $PY "$RT" spec "$s" >"$TMP/spec-$s.yaml"
        roundtrip "random spec $s" "$TMP/spec-$s.yaml" "$((s * 7919))" || {
            sed 's/^/    /' "$TMP/spec-$s.yaml" >&2
            return 1
        }
    done
    echo "  20 random specs, $RT_OBS observations"
}
check "round trip: 20 random specs' twins ingest to their predicted records and partitions" \
    t_random

# The comparison can fail: a twin that loses one session's C2 command changes a record.
t_detects() {
    local d="$TMP/rt"
    "$CADRE" gen "$FIXTURES_DIR/campaigns/multi_operator.yaml" --out "$d/direct.jsonl" &&
        "$CADRE" gen "$FIXTURES_DIR/campaigns/multi_operator.yaml" --format decnet \
            --decnet-state "$d/state.json" --out "$d/full.log" &&
        sed '0,/wget -q/{/wget -q/d}' "$d/full.log" >"$d/twin.log" &&
        [ "$(lines_of "$d/twin.log")" -eq $(($(lines_of "$d/full.log") - 1)) ] &&
        "$CADRE" ingest decnet "$d/twin.log" --decnet-state "$d/state.json" \
            --out "$d/got.jsonl" 2>/dev/null && "$VIEW" "$d/direct.jsonl" "$d/view.jsonl" &&
        ! $PY "$RT" records "$d/view.jsonl" "$d/got.jsonl" >/dev/null
}
check "round trip: a twin missing one line is caught" t_detects

# A DECNET log fed to a running engine in two batches (`cadre send --input decnet`: the first
# half of its lines, then the rest, then the rest again) ends in the partitions (both layers)
# of the whole log ingested and clustered at once: the batches are appends, a source's
# sessions of both halves add up, and a batch sent twice changes nothing; `cadre run --input
# decnet` gives them too. The lines are written without cadre's element (docs/decnet.md §5), as
# DECNET writes them: the adapter then numbers a source's sessions in each batch (ssh-1, ...),
# and `cadre send` names each after its content too (`ssh-1@<digest>`).
send_batches() {
    local d="$TMP/send" f n
    mkdir -p "$d"
    LOGDIR=$d
    local cfg="$d/cadre.yaml"
    "$CADRE" gen "$FIXTURES_DIR/campaigns/multi_operator.yaml" --replicate 2 --format decnet \
        --decnet-state "$d/state.json" 2>/dev/null | sed -E 's/\[cadre@32473[^]]*\]//' \
        >"$d/all.log" && ! grep -q 'cadre@' "$d/all.log" || return 1
    n=$(lines_of "$d/all.log")
    head -n $((n / 2)) "$d/all.log" >"$d/a.log"
    tail -n +$((n / 2 + 1)) "$d/all.log" >"$d/b.log"
    "$CADRE" ingest decnet "$d/all.log" --decnet-state "$d/state.json" --out "$d/all.jsonl" \
        2>/dev/null && "$CADRE" cluster "$d/all.jsonl" --out "$d/want.jsonl" --quiet || return 1
    write_config "$cfg" "$d" 1
    start_engine "$cfg" 1
    wait_until 30 health_answers "$cfg" || return 1
    for f in a b b; do
        "$CADRE" send --config "$cfg" --input decnet --decnet-state "$d/state.json" \
            "$d/$f.log" >"$d/send.out" 2>"$d/send.err" &&
            grep -q "^[1-9][0-9]* acknowledged, 0 refused, 0 unreadable, flushed" "$d/send.out" || {
            echo "  send $f.log: $(cat "$d/send.out")" >&2
            sed 's/^/    /' "$d/send.err" >&2
            return 1
        }
    done
    "$CADRE" query --config "$cfg" assignments --out "$d/got.jsonl" || return 1
    stop_engine 1 || return 1
    $PY "$RT" parts "$d/want.jsonl" "$d/got.jsonl" &&
        "$CADRE" run --input decnet "$d/all.log" --decnet-state "$d/state.json" \
            --out "$d/run.jsonl" --quiet >/dev/null 2>&1 &&
        $PY "$RT" parts "$d/want.jsonl" "$d/run.jsonl"
}
check "send --input decnet: two halves (one resent) = the whole log; run --input decnet too" \
    send_batches
check "send/run: DECNET options without --input decnet are refused" \
    expect_exit 2 "$CADRE" send --endpoint ipc:///nonexistent --decnet-state x.json y.log

finish
