#!/usr/bin/env bash
# deploy.sh - the systemd units and the example configuration of deploy/ (deploy/README.md):
# `cmake --install` into a temporary prefix puts every binary and unit in place, every unit
# parses and carries the keys the deployment relies on (type, restarts, stop timeout,
# hardening, user), each ExecStart names an installed binary, and every role accepts the
# example configuration with --check-config.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?build directory}" "${SOURCE_DIR:?source directory}"
: "${BROKER:?}" "${SHARD:?}" "${MERGER:?}"
DEPLOY=$SOURCE_DIR/deploy
PREFIX=$TMP/prefix
UNITS=(cadre-broker.service cadre-shard@.service cadre-merger.service cadre-ship.service
    cadre.target)
SERVICES=(cadre-broker.service cadre-shard@.service cadre-merger.service)
EXAMPLE=$DEPLOY/cadre.example.yaml

# --- install into a temporary prefix ------------------------------------------------------
check "cmake --install into a temporary prefix" bash -c "
    cmake --install '$BUILD_DIR' --prefix '$PREFIX' > '$TMP/install.log' 2>&1 ||
        { cat '$TMP/install.log' >&2; exit 1; }"
for b in cadre cadre-broker cadre-shard cadre-merger; do
    check "installs bin/$b" test -x "$PREFIX/bin/$b"
done
for u in "${UNITS[@]}"; do
    check "installs lib/systemd/system/$u as written" cmp -s "$DEPLOY/$u" \
        "$PREFIX/lib/systemd/system/$u"
done
check "installs the example configuration" cmp -s "$EXAMPLE" \
    "$PREFIX/share/doc/cadre/cadre.example.yaml"
check "the installed broker runs" bash -c "'$PREFIX/bin/cadre-broker' --version | grep -q '^cadre-broker '"

# --- unit syntax and keys -----------------------------------------------------------------

# unit_syntax FILE: every line is blank, a comment, a known [Section] or Key=value, and every
# key sits inside a section.
unit_syntax() {
    awk '
        /^[ \t]*$/ || /^[#;]/ { next }
        /^\[(Unit|Service|Install)\]$/ { section = $0; next }
        /^[A-Za-z][A-Za-z0-9]*=/ { if (section == "") { bad = 1; print FILENAME ":" NR ": key outside a section" } next }
        { bad = 1; print FILENAME ":" NR ": not a unit line: " $0 }
        END { exit bad }
    ' "$1"
}

# unit_value FILE SECTION KEY: prints the last value of KEY in SECTION (systemd: last wins).
unit_value() {
    awk -v want="[$2]" -v key="$3" '
        /^\[/ { section = $0; next }
        section == want && index($0, key "=") == 1 { value = substr($0, length(key) + 2) }
        END { if (value == "") exit 1; print value }
    ' "$1"
}

# unit_is FILE SECTION KEY VALUE: the key is set to exactly VALUE.
unit_is() {
    local got
    got=$(unit_value "$1" "$2" "$3") || {
        echo "  $(basename "$1"): no $3= in [$2]" >&2
        return 1
    }
    [ "$got" = "$4" ] || {
        echo "  $(basename "$1"): $3=$got, wanted $4" >&2
        return 1
    }
}

# seconds_of SPAN: a systemd time span of seconds and minutes ("30s", "1min 30s", "90").
seconds_of() {
    local total=0 word n
    for word in $1; do
        n=${word%%[a-z]*}
        case ${word#"$n"} in
        "" | s | sec) total=$((total + n)) ;;
        m | min) total=$((total + 60 * n)) ;;
        *) return 1 ;;
        esac
    done
    echo "$total"
}

# stop_timeout_above FILE: TimeoutStopSec exceeds the example's shutdown_timeout_ms.
stop_timeout_above() {
    local span secs ms
    span=$(unit_value "$1" Service TimeoutStopSec) || return 1
    secs=$(seconds_of "$span") || return 1
    ms=$("$BROKER" --config "$EXAMPLE" --check-config | awk '/^shutdown_timeout_ms:/ { print $2 }')
    [ -n "$ms" ] && [ $((secs * 1000)) -gt "$ms" ]
}

# exec_installed FILE BINARY: ExecStart runs /usr/local/bin/BINARY with the shared config,
# and that binary is what `cmake --install` put under the prefix's bin/.
exec_installed() {
    local cmd path
    cmd=$(unit_value "$1" Service ExecStart) || return 1
    path=${cmd%% *}
    [ "$path" = "/usr/local/bin/$2" ] && [ -x "$PREFIX/bin/${path##*/}" ] &&
        [[ $cmd == *" --config /etc/cadre/cadre.yaml"* ]]
}

for u in "${UNITS[@]}"; do
    check "$u: every line is a section, a key or a comment" unit_syntax "$DEPLOY/$u"
    check "$u: has a Description" bash -c "grep -q '^Description=.' '$DEPLOY/$u'"
done
for u in "${SERVICES[@]}"; do
    f=$DEPLOY/$u
    check "$u: Type=notify" unit_is "$f" Service Type notify
    check "$u: NotifyAccess=main" unit_is "$f" Service NotifyAccess main
    check "$u: Restart=on-failure" unit_is "$f" Service Restart on-failure
    check "$u: no restart on a configuration error (78)" unit_is "$f" Service RestartPreventExitStatus 78
    check "$u: TimeoutStopSec above shutdown_timeout_ms" stop_timeout_above "$f"
    check "$u: User=cadre" unit_is "$f" Service User cadre
    check "$u: NoNewPrivileges=yes" unit_is "$f" Service NoNewPrivileges yes
    check "$u: UMask=0077" unit_is "$f" Service UMask 0077
    check "$u: ProtectSystem=strict" unit_is "$f" Service ProtectSystem strict
    check "$u: ProtectHome=yes" unit_is "$f" Service ProtectHome yes
    check "$u: PrivateTmp=yes" unit_is "$f" Service PrivateTmp yes
    check "$u: ReadWritePaths=/var/lib/cadre" unit_is "$f" Service ReadWritePaths /var/lib/cadre
    check "$u: part of cadre.target" unit_is "$f" Unit PartOf cadre.target
    check "$u: WantedBy=cadre.target" unit_is "$f" Install WantedBy cadre.target
done
check "cadre-broker.service: ExecStart is the installed cadre-broker" exec_installed \
    "$DEPLOY/cadre-broker.service" cadre-broker
check "cadre-merger.service: ExecStart is the installed cadre-merger" exec_installed \
    "$DEPLOY/cadre-merger.service" cadre-merger
check "cadre-shard@.service: ExecStart is the installed cadre-shard" exec_installed \
    "$DEPLOY/cadre-shard@.service" cadre-shard
check "cadre-shard@.service: the instance is the shard id" bash -c "
    grep -q '^ExecStart=/usr/local/bin/cadre-shard --config /etc/cadre/cadre.yaml --id %i$' \
        '$DEPLOY/cadre-shard@.service'"
# The log shipper: the roles' keys, but home directories readable (Cowrie lives there) and
# bad arguments not retried either.
f=$DEPLOY/cadre-ship.service
for kv in "Service Type notify" "Service NotifyAccess main" "Service Restart on-failure" \
    "Service RestartPreventExitStatus 2 78" "Service User cadre" "Service NoNewPrivileges yes" \
    "Service UMask 0077" "Service ProtectSystem strict" "Service ProtectHome read-only" \
    "Service PrivateTmp yes" "Service ReadWritePaths /var/lib/cadre" "Unit PartOf cadre.target" \
    "Install WantedBy cadre.target"; do
    read -r sec key val <<<"$kv"
    check "cadre-ship.service: $key=$val" unit_is "$f" "$sec" "$key" "$val"
done
check "cadre-ship.service: TimeoutStopSec above shutdown_timeout_ms" stop_timeout_above "$f"
check "cadre-ship.service: ExecStart is the installed cadre ship with its state directory" \
    bash -c "grep -q '^ExecStart=/usr/local/bin/cadre ship --config /etc/cadre/cadre.yaml --state /var/lib/cadre/ship \\\$CADRE_SHIP_ARGS$' '$f'"
check "cadre-ship.service: the files and input default to Cowrie's log, /etc/default/cadre-ship overrides them" \
    bash -c "grep -q '^Environment=\"CADRE_SHIP_ARGS=--input cowrie /var/log/cowrie/cowrie.json\"$' '$f' &&
        grep -q '^EnvironmentFile=-/etc/default/cadre-ship$' '$f'"
check "cadre.target: WantedBy=multi-user.target" unit_is "$DEPLOY/cadre.target" Install \
    WantedBy multi-user.target

# systemd's own parser, where the host has it: the installed units, with ExecStart pointed
# at the temporary prefix, must load without a single complaint (an unknown key or section
# is only a warning there, so any output fails).
verify_units() {
    local dir=$TMP/verify
    mkdir -p "$dir"
    for u in "${UNITS[@]}"; do
        sed "s|/usr/local/bin/|$PREFIX/bin/|" "$PREFIX/lib/systemd/system/$u" > "$dir/$u"
    done
    (cd "$dir" && timeout 60 systemd-analyze verify ./cadre-broker.service \
        ./cadre-merger.service ./cadre-shard@0.service ./cadre-shard@3.service \
        ./cadre-ship.service ./cadre.target) > "$TMP/verify.log" 2>&1
    local rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$TMP/verify.log" ]; then
        sed 's/^/    /' "$TMP/verify.log" >&2
        return 1
    fi
}
# systemd (and so systemd-analyze) is one of the packages `make test` installs.
check "systemd-analyze verify accepts every unit" verify_units

# --- the example configuration --------------------------------------------------------------
check "the broker accepts the example configuration" expect_exit 0 "$BROKER" --config \
    "$EXAMPLE" --check-config
check "the merger accepts the example configuration" expect_exit 0 "$MERGER" --config \
    "$EXAMPLE" --check-config
shards=$("$BROKER" --config "$EXAMPLE" --check-config | awk '/^shards:/ { print $2 }')
check "the example has shards" test -n "$shards"
for ((k = 0; k < ${shards:-0}; k++)); do
    check "shard $k accepts the example configuration" expect_exit 0 "$SHARD" --config \
        "$EXAMPLE" --check-config --id "$k"
done
check "a shard id past the example's shards is refused" expect_exit 2 "$SHARD" --config \
    "$EXAMPLE" --check-config --id "${shards:-0}"
check "the example uses tcp:// endpoints" bash -c "
    '$BROKER' --config '$EXAMPLE' --check-config | grep -E '^  (ingest|backend|shards|events|query):' |
        grep -vq 'tcp://' && exit 1; exit 0"
check "the example keeps state under /var/lib/cadre" bash -c "
    '$BROKER' --config '$EXAMPLE' --check-config | grep -q '^data_dir: \"/var/lib/cadre\"$'"
sed 's/^shards:/shard_count:/' "$EXAMPLE" > "$TMP/typo.yaml"
check "a misspelt key in the example exits 78" expect_exit 78 "$BROKER" --config \
    "$TMP/typo.yaml" --check-config

# Type=notify works only if the roles really send READY=1: start the broker with a
# NOTIFY_SOCKET we listen on (a Python datagram socket) and wait for the notice.
notify_ready() {
    local dir=$TMP/notify
    mkdir -p "$dir/data"
    printf 'data_dir: %s/data\nshards: 1\nbroker:\n  ingest: ipc://%s/i\n  backend: ipc://%s/b\n' \
        "$dir" "$dir" "$dir" >"$dir/cfg.yaml"
    "$PY" - "$dir/notify.sock" "$BROKER" "$dir/cfg.yaml" <<'PYEOF'
import os, socket, subprocess, sys
path, broker, cfg = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([broker, "--config", cfg], env=env, stderr=subprocess.DEVNULL)
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
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
check "cadre-broker tells systemd READY=1 and STOPPING=1" notify_ready

finish
