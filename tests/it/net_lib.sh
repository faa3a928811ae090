# shellcheck shell=bash
# shellcheck disable=SC2034  # sets variables its callers read
# net_lib.sh - the engine's "hosts" as network namespaces, for tests/it/partition.sh,
# tests/it/multihost.sh and the multi-host row of bench/run.sh (sourced, not run).
#
# Every host is a namespace of its own with eth0 on a bridge in a hub namespace (veth pairs);
# everything is made from inside the namespaces, so nothing is added to the caller's. The
# caller sets, before calling anything:
#   TMP     a directory for error output, certificates and the configuration
#   STEM    the namespace names' stem (a few letters); PREFIX=$STEM$$ makes them unique to
#           the run, and sweep_stale removes the ones of earlier runs whose pid is gone
#   HOSTS   (hub host...): the hub first; the last host probes for sch_netem
#   ADDR    host -> IPv4 address in one /24 (every host but the hub)
#   CADRE   the cadre binary (curve_setup)
# and, for write_tcp_config: CFG, SHARDS, HB_MS, LIVENESS, EVERY (and CURVE_YAML from
# curve_setup). The caller removes the namespaces with net_cleanup on every exit path.
: "${STEM:?namespace stem}" "${PREFIX:?namespace prefix}"

# ns HOST: HOST's namespace name.
ns() { echo "$PREFIX-$1"; }

# on HOST COMMAND...: runs COMMAND inside HOST's namespace. For a background process use
# `ip netns exec "$(ns HOST)"` itself: it execs the command, so the job's pid is the
# command's own (a shell function would put a subshell in between).
on() {
    local host=$1
    shift
    ip netns exec "$(ns "$host")" "$@"
}

# net_cleanup: stops the delay hub, if any, and removes every namespace of HOSTS (their veth
# pairs, TAP devices and bridge go with them).
# shellcheck disable=SC2317  # called through traps
net_cleanup() {
    local h
    if [ -n "${HUB_PID:-}" ]; then
        kill -TERM "$HUB_PID" 2>/dev/null || true
        wait "$HUB_PID" 2>/dev/null || true
        HUB_PID=""
    fi
    for h in "${HOSTS[@]}"; do
        ip netns del "$(ns "$h")" 2>/dev/null || true
    done
}

# net_usable: why namespaces cannot be used here (printed, status 1), or status 0.
net_usable() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "network namespaces need root"
        return 1
    fi
    if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
        echo "iproute2 (ip, tc) not installed"
        return 1
    fi
}

# sweep_stale: removes the namespaces of earlier runs that were killed before their cleanup
# (<STEM><pid>-<host>, the pid no longer running).
sweep_stale() {
    local name pid
    for name in $(ip netns list 2>/dev/null | sed -n "s/^\\(${STEM}[0-9]*-[a-z0-9]*\\).*/\\1/p"); do
        pid=${name#"$STEM"}
        pid=${pid%%-*}
        if [ "$pid" != $$ ] && ! kill -0 "$pid" 2>/dev/null; then
            ip netns del "$name" 2>/dev/null || true
        fi
    done
}

# make_hosts: the hub with its bridge, and one namespace per host with eth0 on the bridge.
# Everything is made from inside the namespaces: nothing is added to the caller's. The
# reason of a failure is in $TMP/netns.err.
make_hosts() {
    local h
    ip netns add "$(ns hub)" 2>"$TMP/netns.err" || return 1
    ip -n "$(ns hub)" link add br0 type bridge || return 1
    ip -n "$(ns hub)" link set br0 up || return 1
    for h in "${HOSTS[@]:1}"; do
        ip netns add "$(ns "$h")" || return 1
        ip -n "$(ns hub)" link add "to-$h" type veth peer name eth0 netns "$(ns "$h")" &&
            ip -n "$(ns hub)" link set "to-$h" master br0 &&
            ip -n "$(ns hub)" link set "to-$h" up &&
            ip -n "$(ns "$h")" addr add "${ADDR[$h]}/24" dev eth0 &&
            ip -n "$(ns "$h")" link set eth0 up &&
            ip -n "$(ns "$h")" link set lo up || return 1
    done
}

# netem_works: sch_netem can be attached (after modprobe where the module is not loaded).
netem_works() {
    local probe_ns dev=(dev eth0) probe=(root netem delay 1ms)
    probe_ns=$(ns "${HOSTS[-1]}")
    if tc -n "$probe_ns" qdisc add "${dev[@]}" "${probe[@]}" 2>/dev/null; then
        tc -n "$probe_ns" qdisc del "${dev[@]}" root
        return 0
    fi
    command -v modprobe >/dev/null && modprobe sch_netem 2>/dev/null &&
        tc -n "$probe_ns" qdisc add "${dev[@]}" "${probe[@]}" 2>/dev/null &&
        tc -n "$probe_ns" qdisc del "${dev[@]}" root
}

# bpf_loss HOST: 1% random loss on HOST's eth0 without netem: htb sends what a classic BPF
# classifier picks (a random number that is 0 modulo 100) to a class whose pfifo holds
# nothing, so it is dropped. For kernels built without sch_netem (htb, cls_bpf only).
bpf_loss() {
    local t=(tc -n "$(ns "$1")") rand=$((0xfffff000 + 56)) # SKF_AD_OFF + SKF_AD_RANDOM
    "${t[@]}" qdisc add dev eth0 root handle 1: htb default 10 r2q 100000 &&
        "${t[@]}" class add dev eth0 parent 1: classid 1:10 htb rate 10gbit &&
        "${t[@]}" class add dev eth0 parent 1: classid 1:20 htb rate 10gbit &&
        "${t[@]}" qdisc add dev eth0 parent 1:20 handle 20: pfifo limit 0 &&
        "${t[@]}" filter add dev eth0 parent 1: bpf \
            bytecode "5,32 0 0 $rand,148 0 0 100,21 0 1 0,6 0 0 4294967295,6 0 0 0" classid 1:20
}

# delay_links MS: every host's traffic to another host is delayed by MS ms one way (2 x MS
# round trip), and LINKS says how; LINKS_DELAYED is 1 when it is. With sch_netem: netem on
# every host's eth0. Without it (a kernel built without it, as on the development machine
# and CI) the veth pairs and the bridge are replaced by TAP devices served by
# tests/it/delay_hub.py, a user-space Ethernet hub in the hub namespace that forwards every
# frame MS ms after it read it (eth0 then has an MTU of 65000, so the hub moves as few frames
# as the veth pairs' segmentation offload would; HUB_PID is its pid, which net_cleanup
# stops). Without netem, python3 or /dev/net/tun the links stay undelayed and LINKS says so.
# Fails only when a delay was possible but could not be set up.
# shellcheck disable=SC2034  # LINKS and LINKS_DELAYED are read by the caller
LINKS=""
LINKS_DELAYED=0
HUB_PID=""
delay_links() {
    local h k py=python3
    if netem_works; then
        for h in "${HOSTS[@]:1}"; do
            tc -n "$(ns "$h")" qdisc add dev eth0 root netem delay "${1}ms" || return 1
        done
        LINKS="netem: ${1} ms delay on every host's link (${1} ms one way, $((2 * $1)) ms round trip)"
        LINKS_DELAYED=1
        return 0
    fi
    [ -x /usr/bin/python3 ] && py=/usr/bin/python3
    if ! command -v "$py" >/dev/null || [ ! -c /dev/net/tun ]; then
        LINKS="no sch_netem in this kernel, no python3 or /dev/net/tun for delay_hub.py: links NOT delayed"
        return 0
    fi
    for h in "${HOSTS[@]:1}"; do
        ip -n "$(ns hub)" link del "to-$h" || return 1 # and the host's eth0 with it
    done
    local taps=()
    for h in "${HOSTS[@]:1}"; do taps+=("tap-$h"); done
    ip netns exec "$(ns hub)" "$py" "$(dirname "${BASH_SOURCE[0]}")/delay_hub.py" \
        --delay-ms "$1" "${taps[@]}" >"$TMP/delay_hub.out" 2>"$TMP/delay_hub.err" &
    HUB_PID=$!
    for ((k = 0; k < 100; k++)); do
        grep -q '^ready$' "$TMP/delay_hub.out" 2>/dev/null && break
        kill -0 "$HUB_PID" 2>/dev/null || break
        sleep 0.05
    done
    grep -q '^ready$' "$TMP/delay_hub.out" 2>/dev/null || {
        echo "  delay_hub.py did not start: $(cat "$TMP/delay_hub.err")" >&2
        return 1
    }
    for h in "${HOSTS[@]:1}"; do
        ip -n "$(ns hub)" link set "tap-$h" netns "$(ns "$h")" name eth0 &&
            ip -n "$(ns "$h")" link set eth0 mtu 65000 &&
            ip -n "$(ns "$h")" addr add "${ADDR[$h]}/24" dev eth0 &&
            ip -n "$(ns "$h")" link set eth0 up || return 1
    done
    LINKS="no sch_netem in this kernel: tests/it/delay_hub.py (TAP devices, a user-space hub) delays every frame by ${1} ms (${1} ms one way, $((2 * $1)) ms round trip)"
    LINKS_DELAYED=1
}

# link_rtts HOST PORT: the smallest TCP round-trip time (ms) each of HOST's established
# connections on local port PORT has seen, one per line (ss -ti minrtt).
link_rtts() {
    on "$1" ss -Htin state established "( sport = :$2 )" | sed -n 's/.* minrtt:\([0-9.]*\).*/\1/p'
}

# link_down HOST / link_up HOST: the hub's end of HOST's veth pair goes down / up. Nothing
# crosses the link meanwhile; TCP connections stay open (no reset reaches either end). (Not
# named cut/restore: a sourced function named cut would hide cut(1) from the caller.)
link_down() { ip -n "$(ns hub)" link set "to-$1" down; }
link_up() { ip -n "$(ns hub)" link set "to-$1" up; }

# --- CURVE ----------------------------------------------------------------------------------

# curve_setup: certificates for every process (`cadre keygen`) and the configuration's curve
# section in CURVE_YAML; CERT[role] is the --cert each process connects with. One server
# certificate (broker and merger); the shards, the merger's connection to the broker and the
# client each have their own: the peers' in the peer directory under their role's name, the
# client's in the client directory (docs/protocol.md §1).
declare -gA CERT # --cert of each process
curve_setup() {
    local keys=$TMP/keys auth=$TMP/authorized peers=$TMP/peers name k
    local names=(server merger client)
    for ((k = 0; k < SHARDS; k++)); do names+=("shard$k"); done
    for name in "${names[@]}"; do
        "$CADRE" keygen "$keys" "$name" >/dev/null || return 1
    done
    mkdir -p "$auth" "$peers"
    cp "$keys/merger" "$peers/merger"
    CERT=([merger]=$keys/merger_secret)
    for ((k = 0; k < SHARDS; k++)); do
        cp "$keys/shard$k" "$peers/shard-$k"
        CERT[shard$k]=$keys/shard${k}_secret
    done
    cp "$keys/client" "$auth/"
    CURVE_YAML=$(
        printf 'curve:\n  enabled: true\n'
        printf '  secret_key_file: %s/server_secret\n' "$keys"
        printf '  public_key_file: %s/server\n' "$keys"
        printf '  server_public_key_file: %s/server\n' "$keys"
        printf '  client_secret_key_file: %s/client_secret\n' "$keys"
        printf '  authorized_keys_dir: %s\n' "$auth"
        printf '  peer_keys_dir: %s\n' "$peers"
    )
}

# write_tcp_config: one file for every host; each binds or connects the addresses it has.
write_tcp_config() {
    mkdir -p "$TMP/data"
    cat >"$CFG" <<EOF
data_dir: $TMP/data
shards: $SHARDS
heartbeat_ms: $HB_MS
liveness: $LIVENESS
broker:
  ingest: tcp://${ADDR[broker]}:7001
  backend: tcp://${ADDR[broker]}:7002
merger:
  shards: tcp://${ADDR[merger]}:7003
  events: tcp://${ADDR[merger]}:7004
  query: tcp://${ADDR[merger]}:7005
$CURVE_YAML
clustering:
  reconcile_every: $EVERY
EOF
}
