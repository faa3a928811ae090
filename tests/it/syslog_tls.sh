#!/usr/bin/env bash
# syslog_tls.sh - `cadre syslog-recv` (common/syslog_tls.c) against a forwarder speaking
# DECNET's SWARM transport (tests/it/syslog_fwd.py: RFC 5425 octet counting over mutual TLS),
# on loopback with ports the kernel picks. A PKI like DECNET's (a CA, worker certificates whose
# CN names the worker, the master's certificate) is made with the openssl CLI, plus a rogue CA
# and a certificate without a CN. Checks: every line of two concurrent workers (TLS 1.3 and
# 1.2, split at odd byte boundaries and across TLS records, back-to-back batches, frames up to
# the cap) arrives once, in order, with its worker's CN; an unknown CA, no certificate and no
# CN are refused and logged; a bad length, an LF-framed line and an 11-digit length close only
# their connection while another worker keeps going; an oversized frame is refused at its
# header; a connection over the cap is refused and a slot frees when one closes; silent and
# handshake-less connections are closed; a connection stalled inside a TLS record or its
# ClientHello holds up no other; the counters say all of it; bad options and files are
# refused at start.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
FWD="$(dirname "$0")/syslog_fwd.py"
# shellcheck source=tests/it/pki_lib.sh
source "$(dirname "$0")/pki_lib.sh"

check "a PKI made with the openssl CLI" make_pki

# --- helpers ---------------------------------------------------------------------------
# start_recv NAME OPTIONS...: cadre syslog-recv on 127.0.0.1:0 writing $TMP/NAME.out; waits
# for its "listening on" line and sets ADDR_NAME.
start_recv() {
    local name=$1
    shift
    spawn "$name" "$CADRE" syslog-recv --listen 127.0.0.1:0 --ca "$PKI/ca.crt" \
        --cert "$PKI/master.crt" --key "$PKI/master.key" --out "$TMP/$name.out" "$@"
    wait_until 30 grep -q 'listening on 127.0.0.1:[0-9]' "$TMP/$name.log" || return 1
    printf -v "ADDR_$name" '%s' \
        "$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$TMP/$name.log")"
}

# fwd NAME SCENARIO: runs a forwarder scenario against receiver NAME.
fwd() {
    local var="ADDR_$1"
    timeout 120 "$PY" "$FWD" "${!var}" "$PKI" "$TMP/$1.out" "$2"
}

# stat NAME KEY: one counter of receiver NAME's final stats line.
stat() {
    sed -n "s/.*cadre syslog-recv: stats.* $2=\([0-9]*\).*/\1/p" "$TMP/$1.log"
}

# stat_is NAME KEY OP VALUE: e.g. stat_is main refused_cap -ge 1.
stat_is() {
    local got
    got=$(stat "$1" "$2")
    if ! [ -n "$got" ] || ! [ "$got" "$3" "$4" ]; then
        echo "  $1: $2=${got:-missing}, wanted $3 $4" >&2
        return 1
    fi
}

# logged NAME PATTERN: receiver NAME's log has a line matching PATTERN (grep -E).
logged() {
    if ! grep -Eq "$2" "$TMP/$1.log"; then
        echo "  $1's log lacks /$2/; it has:" >&2
        grep 'syslog-tls' "$TMP/$1.log" | tail -n 20 | sed 's/^/    /' >&2
        return 1
    fi
}

# never_arrived NAME SCN: no message of scenario SCN was written by receiver NAME.
never_arrived() {
    if grep -q "scn=\"$2\"" "$TMP/$1.out"; then
        echo "  a message of $2 arrived" >&2
        return 1
    fi
}

# --- the main receiver: 32 KiB frames, 4 connections ------------------------------------
check "receiver starts on a free port" start_recv main --max-frame 32768 --max-conns 4
check "lines of two workers arrive in order with their CN" fwd main lines
check "a certificate of an unknown CA is refused" fwd main unknown_ca
check "a client without a certificate is refused" fwd main no_cert
check "a certificate without a CN is refused" fwd main no_cn
check "a bad length closes only its connection" fwd main bad_length
check "a frame over the cap is refused at its header" fwd main oversize
check "a connection ending inside a frame" fwd main truncated
check "a connection over the cap is refused, a freed slot is taken" fwd main cap
check "a connection stalled inside a TLS record holds up nobody" fwd main stall
check "main receiver stops on TERM" stop_pid main

# Exact counters, each message once: lines 2 x 403, bad_length 10 + 3, truncated 1, cap 5,
# stall 1 + 3.
want_msgs=$((403 * 2 + 10 + 3 + 1 + 5 + 4))
check "every message counted once" stat_is main messages -eq "$want_msgs"
check "the output holds every message once" \
    [ "$(wc -l <"$TMP/main.out" | tr -d ' ')" -eq "$want_msgs" ]
check "empty frames skipped and counted" stat_is main empty -eq 4
check "refusals of unknown CA and no certificate counted" stat_is main refused_tls -ge 4
check "refusal of no CN counted" stat_is main refused_cn -eq 1
check "bad lengths counted" stat_is main closed_frame -eq 3
check "oversized frame counted" stat_is main closed_oversize -eq 1
check "connection over the cap counted" stat_is main refused_cap -ge 1
check "truncated frame counted" stat_is main truncated -eq 1
check "unknown CA logged" logged main 'refused 127\.0\.0\.1:[0-9]+: TLS handshake failed: client certificate refused: unable to get local issuer certificate'
check "no certificate logged" logged main 'refused 127\.0\.0\.1:[0-9]+: TLS handshake failed: peer did not return a certificate'
check "no CN logged" logged main 'refused 127\.0\.0\.1:[0-9]+: the client certificate has no CN'
check "bad length logged" logged main 'closed worker-b \(127\.0\.0\.1:[0-9]+\): bad frame: byte 0x78 at offset [0-9]+ where a length digit or the space belongs'
check "LF framing logged" logged main 'bad frame: byte 0x3c at offset [0-9]+ where a length digit belongs'
check "11-digit length logged" logged main 'bad frame: a length of more than 10 digits'
check "oversized frame logged" logged main 'closed worker-a \(127\.0\.0\.1:[0-9]+\): frame too large: frame length over 32768 bytes'
check "connection over the cap logged" logged main 'refused 127\.0\.0\.1:[0-9]+: 4 connections open \(the cap\)'
check "workers logged with their TLS version" logged main 'worker-b connected from 127\.0\.0\.1:[0-9]+ \(TLSv1\.2, '
for scn in unknown_ca no_cert no_cn cap_refused; do
    check "nothing of $scn arrived" never_arrived main "$scn"
done

# --- timeouts: a receiver closing silent connections after 300 ms -----------------------
check "timeout receiver starts" start_recv short --idle-ms 300 --handshake-ms 300
check "silent workers are closed" fwd short idle
check "a connection without a handshake is closed" fwd short handshake
check "timeout receiver stops on TERM" stop_pid short
check "idle closes counted" stat_is short closed_idle -eq 2
check "handshake timeout counted" stat_is short closed_handshake -eq 1
check "idle close logged" logged short 'closed worker-a \(127\.0\.0\.1:[0-9]+\): silent for 300 ms'
check "handshake timeout logged" logged short 'closed 127\.0\.0\.1:[0-9]+: no TLS handshake within 300 ms'

# --- refused at start --------------------------------------------------------------------
rx() { "$CADRE" syslog-recv --ca "$PKI/ca.crt" --cert "$PKI/master.crt" --key "$PKI/master.key" "$@"; }
check "a key of another certificate" expect_exit 1 "$CADRE" syslog-recv --listen 127.0.0.1:0 \
    --ca "$PKI/ca.crt" --cert "$PKI/master.crt" --key "$PKI/worker-a.key"
check "... is named" grep -q 'does not match the certificate' "$TMP/last.err"
check "a missing CA file" expect_exit 1 rx --listen 127.0.0.1:0 --ca "$TMP/none.crt"
check "... is named" grep -q "none.crt: cannot load the CA" "$TMP/last.err"
check "a listen address without a port" expect_exit 1 rx --listen 127.0.0.1
check "an IPv6 address without brackets" expect_exit 1 rx --listen ::1:0
check "a port out of range" expect_exit 1 rx --listen 127.0.0.1:65536
check "missing options" expect_exit 2 "$CADRE" syslog-recv --listen 127.0.0.1:0
check "a zero frame cap" expect_exit 2 rx --listen 127.0.0.1:0 --max-frame 0
check "--help" expect_exit 0 "$CADRE" syslog-recv --help

finish
