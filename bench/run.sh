#!/usr/bin/env bash
# run.sh - `make bench`: generates the corpora, runs every measurement of docs/bench.md, checks
# every result against the truth (or against cadre cluster / the brute-force reference) in the
# same run, and writes $BENCH_OUT/results.csv and results.md. Not part of `make test`.
#
# Knobs (environment):
#   BENCH_SIZES           batch sizes (default "1000 10000 100000 1000000 10000000")
#   BENCH_RUNS            runs per measurement, the median is reported (default 3)
#   BENCH_STREAM_SECONDS  length of the streaming measurement (default 300)
#   BENCH_OUT             output directory (default build/bench)
#   BENCH_MEM_MIB         skip a batch size whose projected memory exceeds this (default
#                         90% of MemAvailable)
#   BENCH_CAP_S           a measurement projected to take longer than this is skipped and
#                         said so; every command is also killed after it (default 900)
#   BENCH_REF_N           size of the brute-force comparison (default 20000)
#   BENCH_SKEW_SIZES      sizes of the skewed corpora (default "100000 1000000"; only sizes
#                         that are also in BENCH_SIZES run)
#   BENCH_SKEW_PAYLOAD    holders of the skewed payload (default 100000)
#   BENCH_SKEW_KINDS      skewed corpora to run (default "payload hassh c2")
#   BENCH_SCALE_N         corpus size of the scale-out runs (default: the largest of
#                         BENCH_SIZES up to 1000000)
#   BENCH_SHARDS          shard counts of the scale-out runs (default "1 2 4")
#   BENCH_RECONCILE_EVERY clustering.reconcile_every of the streaming engine (default 1000)
#   BENCH_STREAM_RATE     offered rate of the streaming client, obs/s, 0 = as fast as acks
#                         allow (default 0)
#   BENCH_STREAM_LAT_RATE offered rate of the second streaming run (default: half the
#                         sustained rate of the first, at most 100000)
#   BENCH_STREAM_RECONCILE_MS broker.reconcile_ms of the second streaming run's engine: a
#                         reconciliation point whenever inputs have waited this long
#                         (default 10; 0 = only reconcile_every and FLUSH reconcile)
#   BENCH_STREAM_FLUSH_MS the second streaming run also sends FLUSH every this many ms, one at
#                         a time (default 0: none; the engine's reconcile_ms does it)
#   BENCH_STREAM_MAX_RATE sizes the streaming corpus: SECONDS x this many records (default
#                         30000); a cached batch corpus that large is reused
#   BENCH_DECNET_COPIES   copies of noise_floor in the DECNET-format twin of the DECNET ingest
#                         row (default 2000, ~200 MB of lines; 0 skips the row)
#   BENCH_JSONL_COPIES    copies of noise_floor in the JSON Lines corpus of the jsonl_check row
#                         (default 10000, ~270 MB; 0 skips the row)
#   BENCH_SHIP_SECONDS    length of the shipper latency run (default 60; 0 skips it)
#   BENCH_SHIP_RATE       lines per second the shipper run's writer offers (default 5000)
#   BENCH_THROTTLE_N      corpus size of the throttled scale-out rows (default 30000; 0 skips)
#   BENCH_THROTTLE_SHARDS shard counts of the throttled scale-out rows (default "1 2 4 8")
#   BENCH_THROTTLE_QUOTA_US / BENCH_THROTTLE_PERIOD_US  each shard's cgroup v1 CPU quota
#                         (cpu.cfs_quota_us / cpu.cfs_period_us; default 1000 / 100000: 1% of
#                         a core)
#   BENCH_MULTIHOST_N     corpus size of the multi-host row (default 30000; 0 skips)
#   BENCH_MULTIHOST_DELAY_MS  delay of every host's link in the multi-host row (default 2; tc
#                         netem, where the kernel has sch_netem)
#   BENCH_KEEP            1 keeps the corpora and outputs of every run (default: corpora only)
# The whole script is one compound command, read before anything runs: editing this file
# while a bench is running does not change the running bench.
{
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${BUILD:-build}
SIZES=${BENCH_SIZES:-1000 10000 100000 1000000 10000000}
RUNS=${BENCH_RUNS:-3}
STREAM_S=${BENCH_STREAM_SECONDS:-300}
OUT=${BENCH_OUT:-$B/bench}
CAP_S=${BENCH_CAP_S:-900}
REF_N=${BENCH_REF_N:-20000}
SKEW_SIZES=${BENCH_SKEW_SIZES:-100000 1000000}
SKEW_PAYLOAD=${BENCH_SKEW_PAYLOAD:-100000}
SKEW_KINDS=${BENCH_SKEW_KINDS:-payload hassh c2}
SHARD_COUNTS=${BENCH_SHARDS:-1 2 4}
RECONCILE_EVERY=${BENCH_RECONCILE_EVERY:-1000}
STREAM_RATE=${BENCH_STREAM_RATE:-0}
STREAM_MAX_RATE=${BENCH_STREAM_MAX_RATE:-30000}
DECNET_COPIES=${BENCH_DECNET_COPIES:-2000}
JSONL_COPIES=${BENCH_JSONL_COPIES:-10000}
PY=${BENCH_PYTHON:-/usr/bin/python3}
SPEC=fixtures/campaigns/noise_floor.yaml
CADRE=$B/cadre
for f in "$CADRE" "$B/cadre-broker" "$B/cadre-shard" "$B/cadre-merger" "$B/cadre_ref_bench" \
    "$B/cadre_stream_bench" "$B/cadre_ship_bench" "$B/cadre_route_stat" /usr/bin/time; do
    [ -x "$f" ] || { echo "bench: $f is missing (make build; apt-get install time)" >&2; exit 1; }
done
if [ -z "${BENCH_SCALE_N:-}" ]; then
    BENCH_SCALE_N=0
    for n in $SIZES; do ((n <= 1000000 && n > BENCH_SCALE_N)) && BENCH_SCALE_N=$n; done
fi
SCALE_N=$BENCH_SCALE_N

mkdir -p "$OUT/corpora" "$OUT/work"
OUT=$(cd "$OUT" && pwd)
CORP=$OUT/corpora
WORK=$OUT/work
CSV=$OUT/results.csv
NOTES=$OUT/notes.txt
LOG=$OUT/bench.log
: >"$NOTES"
echo "measurement,n,runs,median_s,obs_per_s,peak_rss_mib,ratio,verified,command" >"$CSV"
BENCH_T0=$SECONDS
ENGINE_PIDS=()
CGROUPS=() # cgroup directories this run made (cg_remove_all)
cleanup() {
    local p
    for p in "${ENGINE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${ENGINE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    cg_remove_all
    net_cleanup_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Defined with their sections below; no-ops until then.
cg_remove_all() { :; }
net_cleanup_all() { :; }

say() { printf '[bench %5ds] %s\n' "$((SECONDS - BENCH_T0))" "$*" | tee -a "$LOG" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; say "note: $*"; }
# csv_row MEASUREMENT N RUNS MEDIAN OBS_PER_S RSS_MIB RATIO VERIFIED COMMAND
csv_row() {
    local cmd=${9//\"/\"\"} ver=${8//\"/\"\"}
    printf '%s,%s,%s,%s,%s,%s,%s,"%s","%s"\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$ver" "$cmd" >>"$CSV"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -n1; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "" }'; }
count_records() { "$CADRE" check "$1" 2>/dev/null | sed -n 's/^\([0-9]*\) records.*/\1/p'; }
# Relative path for the table's command column.
rel() { local p=$1; printf '%s' "${p#"$ROOT"/}"; }

# corpus N: path of the cached noise_floor corpus with ceil(N/30) copies (N rounded up to 30).
corpus() {
    local n=$1 copies
    copies=$(((n + 29) / 30))
    local f=$CORP/noise_floor-$n.msgpack
    if [ ! -s "$f" ]; then
        say "gen $f ($copies copies)"
        "$CADRE" gen "$SPEC" --replicate "$copies" --out "$f.tmp.msgpack" --summary |
            sed -n 's/.*(\([0-9]*\) observations).*/\1/p' >"$f.count"
        mv "$f.tmp.msgpack" "$f"
    fi
    printf '%s' "$f"
}
# n_of CORPUS: its number of observations (from gen's summary, else counted).
n_of() { local f=$1; [ -s "$f.count" ] || count_records "$f" >"$f.count"; cat "$f.count"; }

# timed LABEL CMD...: one run under /usr/bin/time and `timeout CAP_S`; sets T_WALL, T_RSS_KIB,
# T_CPU_S (user + system CPU seconds of the command), T_RC. The command's output goes to $WORK/LABEL.out / .err.
timed() {
    local label=$1
    shift
    local tf=$WORK/$label.time tpid
    set +e
    /usr/bin/time -f '%e %M %U %S' -o "$tf" timeout "$CAP_S" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" &
    tpid=$!
    T_ANON_KIB=$(anon_sampler "$tpid")
    wait "$tpid"
    T_RC=$?
    set -e
    local u sy
    read -r T_WALL T_RSS_KIB u sy < <(tail -n1 "$tf")
    T_CPU_S=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
    # `timeout` is the timed process: its RSS is the child's, as /usr/bin/time reports the
    # largest of the process tree's waited-for children (getrusage RUSAGE_CHILDREN).
}

# anon_sampler PID: until PID exits, samples every 0.2 s the anonymous resident memory
# (RssAnon + RssShmem, /proc/PID/status) of PID's process tree and prints the largest sum,
# KiB: the peak RSS without the file-backed pages, i.e. without the LMDB maps.
anon_sampler() {
    local root=$1 max=0 sum p pids k
    while kill -0 "$root" 2>/dev/null; do
        pids="$root $(pgrep -P "$root" | tr '\n' ' ')"
        for p in $(pgrep -P "$root"); do pids+=" $(pgrep -P "$p" | tr '\n' ' ')"; done
        sum=0
        for p in $pids; do
            k=$(awk '/^(RssAnon|RssShmem):/ { s += $2 } END { print s + 0 }' "/proc/$p/status" 2>/dev/null || echo 0)
            sum=$((sum + ${k:-0}))
        done
        ((sum > max)) && max=$sum
        sleep 0.2
    done
    echo "$max"
}

# projected PREV_N PREV_S N: linear projection (a lower bound when the cost grows faster).
projected() { awk -v a="$1" -v t="$2" -v n="$3" 'BEGIN { printf "%.0f", t * n / a }'; }
# MEM_MIB: what the runs may use, 90% of MemAvailable at the start; a size whose memory
# projects past it is skipped (it would swap or be killed, not measured).
MEM_MIB=${BENCH_MEM_MIB:-$(awk '/^MemAvailable:/ { printf "%.0f", $2 / 1024 * 0.9 }' /proc/meminfo)}

# repeat MEASUREMENT N CORPUS_FOR_RATE PROJECTED -- CMD...: runs CMD RUNS times (once when the
# projection times RUNS exceeds the cap), sets R_MED, R_RSS (MiB, max), R_RUNS, R_FAIL.
repeat() {
    local m=$1 n=$2 proj=$3
    shift 4
    local runs=$RUNS walls=() rss=() anon=() k
    if [ -n "$proj" ] && ((proj * RUNS > CAP_S)); then runs=1; fi
    R_FAIL=""
    for ((k = 1; k <= runs; k++)); do
        [ -n "${PRE_RUN:-}" ] && eval "$PRE_RUN"
        timed "$m-$n-$k" "$@"
        if ((T_RC != 0)); then
            R_FAIL="exit $T_RC$( ((T_RC == 124)) && echo " (killed after ${CAP_S} s)")"
            say "$m n=$n run $k failed: $R_FAIL; $(tail -n2 "$WORK/$m-$n-$k.err" | tr '\n' ' ')"
            break
        fi
        walls+=("$T_WALL")
        rss+=("$T_RSS_KIB")
        anon+=("$T_ANON_KIB")
        [ -n "${POST_RUN:-}" ] && eval "$POST_RUN"
        say "$m n=$n run $k: ${T_WALL} s, $((T_RSS_KIB / 1024)) MiB"
    done
    R_RUNS=${#walls[@]}
    R_MED=$(echo "${walls[*]:-}" | median)
    R_RSS=$(awk -v k="$(echo "${rss[*]:-}" | maxof)" 'BEGIN { if (k != "") printf "%.0f", k / 1024 }')
    R_ANON=$(awk -v k="$(echo "${anon[*]:-}" | maxof)" 'BEGIN { if (k != "") printf "%.0f", k / 1024 }')
}

scores() { # CORPUS ASSIGNMENTS: "ARI identity X, campaign Y"
    local i c
    i=$("$CADRE" score "$1" "$2" --level identity --layer identity | sed -n 's/.*"adjusted_rand_index": \([^,]*\),.*/\1/p')
    c=$("$CADRE" score "$1" "$2" --level campaign --layer campaign | sed -n 's/.*"adjusted_rand_index": \([^,]*\),.*/\1/p')
    printf 'ARI identity %.4f campaign %.4f' "$i" "$c"
}

# The embedded engine runs with its defaults (no --config): shards one per two cores, LMDB
# maps of 64/16/64 GiB (address space, not memory), enough for 10^7 observations.

# ------------------------------------------------------------------------------------------
# (a) batch scaling: cadre cluster and cadre run per size
say "batch scaling: sizes $SIZES, $RUNS runs"
prev_n_cl="" prev_t_cl="" prev_n_run="" prev_t_run="" prev_m_cl="" prev_m_run=""
for size in $SIZES; do
    f=$(corpus "$size")
    n=$(n_of "$f")
    cl_out=$WORK/cluster-$size.jsonl
    proj=""
    [ -n "$prev_n_cl" ] && proj=$(projected "$prev_n_cl" "$prev_t_cl" "$n")
    cl_ok=0
    mproj=""
    [ -n "$prev_m_cl" ] && mproj=$(projected "$prev_n_cl" "$prev_m_cl" "$n")
    if [ -n "$proj" ] && ((proj > CAP_S)); then
        csv_row batch_cluster "$n" 0 "" "" "" "" "skipped: projected $proj s" \
            "cadre cluster $(rel "$f") --out ASSIGN --quiet"
    elif [ -n "$mproj" ] && ((mproj > MEM_MIB)); then
        csv_row batch_cluster "$n" 0 "" "" "" "" \
            "skipped: projected $mproj MiB of memory, $MEM_MIB MiB available" \
            "cadre cluster $(rel "$f") --out ASSIGN --quiet"
    else
        repeat batch_cluster "$n" "$proj" -- "$CADRE" cluster "$f" --out "$cl_out" --quiet
        if [ -n "$R_FAIL" ]; then
            csv_row batch_cluster "$n" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL" \
                "cadre cluster $(rel "$f") --out ASSIGN --quiet"
        else
            ver=$(scores "$f" "$cl_out")
            csv_row batch_cluster "$n" "$R_RUNS" "$R_MED" "$(div "$n" "$R_MED")" "$R_RSS" "" "$ver" \
                "cadre cluster $(rel "$f") --out ASSIGN --quiet"
            prev_n_cl=$n prev_t_cl=$R_MED prev_m_cl=$R_RSS cl_ok=1
        fi
    fi
    run_out=$WORK/run-$size.jsonl
    data=$WORK/run-data
    proj=""
    [ -n "$prev_n_run" ] && proj=$(projected "$prev_n_run" "$prev_t_run" "$n")
    cmd="cadre run $(rel "$f") --data-dir DIR --out ASSIGN --quiet"
    mproj=""
    [ -n "$prev_m_run" ] && mproj=$(projected "$prev_n_run" "$prev_m_run" "$n")
    if [ -n "$proj" ] && ((proj > CAP_S)); then
        csv_row batch_run "$n" 0 "" "" "" "" "skipped: projected $proj s" "$cmd"
        continue
    fi
    if [ -n "$mproj" ] && ((mproj > MEM_MIB)); then
        csv_row batch_run "$n" 0 "" "" "" "" \
            "skipped: projected $mproj MiB of anonymous memory, $MEM_MIB MiB available" "$cmd"
        continue
    fi
    PRE_RUN='rm -rf "$data"' POST_RUN='DATA_KIB=$(du -sk "$data" | cut -f1)' \
        repeat batch_run "$n" "$proj" -- "$CADRE" run "$f" --data-dir "$data" \
        --out "$run_out" --quiet
    rm -rf "$data"
    if [ -n "$R_FAIL" ]; then
        csv_row batch_run "$n" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL" "$cmd"
        continue
    fi
    if ((cl_ok)) && cmp -s "$run_out" "$cl_out"; then
        ver="identical to cadre cluster; $(scores "$f" "$run_out")"
    elif ((cl_ok)); then
        ver="DIFFERS from cadre cluster; $(scores "$f" "$run_out")"
    else
        ver=$(scores "$f" "$run_out")
    fi
    csv_row batch_run "$n" "$R_RUNS" "$R_MED" "$(div "$n" "$R_MED")" "$R_RSS" "" \
        "$ver; peak RSS without file-backed pages (LMDB maps excluded) $R_ANON MiB" "$cmd"
    csv_row batch_run_lmdb_mib "$n" 1 "" "" "$((DATA_KIB / 1024))" "" "size of the data directory after the run (not in peak RSS)" "du -sk DIR"
    prev_n_run=$n prev_t_run=$R_MED prev_m_run=${R_ANON:-$R_RSS}
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$run_out"
done

# ------------------------------------------------------------------------------------------
# (b) brute-force reference vs cadre at REF_N observations, in the same run
say "brute-force ratio at $REF_N"
f=$(corpus "$REF_N")
n=$(n_of "$f")
repeat ref_allpairs "$n" "" -- "$B/cadre_ref_bench" "$f" --out "$WORK/ref.jsonl"
ref_t=$R_MED ref_fail=$R_FAIL ref_rss=$R_RSS ref_runs=$R_RUNS
repeat ref_cadre_cluster "$n" "" -- "$CADRE" cluster "$f" --out "$WORK/ref-cluster.jsonl" --quiet
cl_t=$R_MED cl_rss=$R_RSS cl_runs=$R_RUNS
PRE_RUN='rm -rf "$WORK/ref-data"' \
    repeat ref_cadre_run "$n" "" -- "$CADRE" run "$f" --data-dir "$WORK/ref-data" --out "$WORK/ref-run.jsonl" --quiet
rm -rf "$WORK/ref-data"
run_t=$R_MED run_rss=$R_RSS run_runs=$R_RUNS
if [ -z "$ref_fail" ]; then
    pc=$("$PY" bench/partcmp.py "$WORK/ref.jsonl" "$WORK/ref-cluster.jsonl" || true)
    pr=$("$PY" bench/partcmp.py "$WORK/ref.jsonl" "$WORK/ref-run.jsonl" || true)
    csv_row ref_allpairs "$n" "$ref_runs" "$ref_t" "$(div "$n" "$ref_t")" "$ref_rss" "" "$(scores "$f" "$WORK/ref.jsonl")" \
        "cadre_ref_bench $(rel "$f") --out ASSIGN"
    csv_row ref_vs_cluster "$n" "$cl_runs" "$cl_t" "$(div "$n" "$cl_t")" "$cl_rss" "$(ratio "$ref_t" "$cl_t")" \
        "partition vs reference: $pc" "cadre cluster $(rel "$f") --out ASSIGN --quiet"
    csv_row ref_vs_run "$n" "$run_runs" "$run_t" "$(div "$n" "$run_t")" "$run_rss" "$(ratio "$ref_t" "$run_t")" \
        "partition vs reference: $pr" "cadre run $(rel "$f") --out ASSIGN --quiet"
else
    csv_row ref_allpairs "$n" 0 "" "" "" "" "FAILED: $ref_fail" "cadre_ref_bench $(rel "$f")"
fi

# ------------------------------------------------------------------------------------------
# (c) skewed corpora against the unskewed corpus of the same size
for size in $SKEW_SIZES; do
    case " $SIZES " in *" $size "*) ;; *) continue ;; esac
    base=$(corpus "$size")
    n=$(n_of "$base")
    base_cl=$(awk -F, -v n="$n" '$1 == "batch_cluster" && $2 == n { print $4 }' "$CSV")
    base_run=$(awk -F, -v n="$n" '$1 == "batch_run" && $2 == n { print $4 }' "$CSV")
    k=$((SKEW_PAYLOAD < n ? SKEW_PAYLOAD : n))
    for kind in $SKEW_KINDS; do
        sf=$CORP/skew-$kind-$size.msgpack
        if [ ! -s "$sf" ]; then
            say "skewed corpus $sf"
            if [ "$kind" = payload ]; then
                "$PY" bench/skew.py payload "$k" "$base" "$sf.tmp"
            else
                "$PY" bench/skew.py "$kind" "$base" "$sf.tmp"
            fi
            mv "$sf.tmp" "$sf"
        fi
        desc="one payload held by $k observations"
        [ "$kind" = hassh ] && desc="one HASSH held by all $n observations"
        [ "$kind" = c2 ] && desc="one C2 held by all $n observations, each with its own HASSH"
        repeat "skew_${kind}_cluster" "$n" "" -- "$CADRE" cluster "$sf" --out "$WORK/skew-cl.jsonl" --quiet
        if [ -n "$R_FAIL" ]; then
            csv_row "skew_${kind}_cluster" "$n" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL ($desc)" "cadre cluster $(rel "$sf") --quiet"
            continue
        fi
        csv_row "skew_${kind}_cluster" "$n" "$R_RUNS" "$R_MED" "$(div "$n" "$R_MED")" "$R_RSS" "$(ratio "$R_MED" "$base_cl")" \
            "$desc; ratio = skewed / unskewed time; $(scores "$sf" "$WORK/skew-cl.jsonl")" \
            "python3 bench/skew.py $kind ...; cadre cluster $(rel "$sf") --out ASSIGN --quiet"
        PRE_RUN='rm -rf "$WORK/skew-data"' \
            repeat "skew_${kind}_run" "$n" "" -- "$CADRE" run "$sf" --data-dir "$WORK/skew-data" --out "$WORK/skew-run.jsonl" --quiet
        rm -rf "$WORK/skew-data"
        if [ -n "$R_FAIL" ]; then
            csv_row "skew_${kind}_run" "$n" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL ($desc)" "cadre run $(rel "$sf") --quiet"
            continue
        fi
        same="DIFFERS from cadre cluster"
        cmp -s "$WORK/skew-run.jsonl" "$WORK/skew-cl.jsonl" && same="identical to cadre cluster"
        csv_row "skew_${kind}_run" "$n" "$R_RUNS" "$R_MED" "$(div "$n" "$R_MED")" "$R_RSS" "$(ratio "$R_MED" "$base_run")" \
            "$desc; $same" "cadre run $(rel "$sf") --out ASSIGN --quiet"
    done
done

# ------------------------------------------------------------------------------------------
# The multi-process engine (broker + SHARDS shards + merger over ipc://, as tests/it do).
# engine_start DIR SHARDS RECONCILE_EVERY [RECONCILE_MS]: writes DIR/cadre.yaml, starts the
# processes, waits for the merger's health answer.
engine_start() {
    local dir=$1 shards=$2 every=$3 rms=${4:-0} k
    rm -rf "$dir"
    mkdir -p "$dir/data"
    cat >"$dir/cadre.yaml" <<YAML
data_dir: $dir/data
shards: $shards
log_level: warn
broker:
  ingest: ipc://$dir/ingest
  backend: ipc://$dir/backend
  map_size_mb: 262144
  reconcile_ms: $rms
shard:
  map_size_mb: 65536
merger:
  shards: ipc://$dir/merger-shards
  events: ipc://$dir/events
  query: ipc://$dir/query
  map_size_mb: 262144
clustering:
  reconcile_every: $every
YAML
    ENGINE_PIDS=()
    "$B/cadre-merger" --config "$dir/cadre.yaml" 2>"$dir/merger.log" &
    ENGINE_PIDS+=($!)
    "$B/cadre-broker" --config "$dir/cadre.yaml" 2>"$dir/broker.log" &
    ENGINE_PIDS+=($!)
    for ((k = 0; k < shards; k++)); do
        "$B/cadre-shard" --config "$dir/cadre.yaml" --id "$k" 2>"$dir/shard$k.log" &
        ENGINE_PIDS+=($!)
    done
    for ((k = 0; k < 300; k++)); do
        "$CADRE" query --config "$dir/cadre.yaml" health --timeout-ms 500 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: the engine in $dir did not start" >&2
    return 1
}
# engine_rss_mib: the sum of the processes' peak RSS (VmHWM), MiB.
engine_rss_mib() {
    local p s=0 k
    for p in "${ENGINE_PIDS[@]}"; do
        k=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        s=$((s + ${k:-0}))
    done
    echo $((s / 1024))
}
# engine_cpu: "merger 12.3 s, broker 4.5 s, shard 3.1 s": user + system CPU of each engine
# process so far (/proc/PID/stat fields 14 and 15, in clock ticks).
engine_cpu() {
    local p out="" hz
    hz=$(getconf CLK_TCK)
    for p in "${ENGINE_PIDS[@]}"; do
        [ -r "/proc/$p/stat" ] || continue
        out+=$(awk -v hz="$hz" '{ sub(/^[0-9]+ \(/, ""); name = $1; sub(/\).*/, "", name);
            sub(/^[^)]*\) /, ""); printf "%s%s %.1f s", sep, name, ($12 + $13) / hz }' \
            "/proc/$p/stat")
        out+=", "
    done
    echo "${out%, }"
}
engine_stop() {
    local p
    for p in "${ENGINE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${ENGINE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    ENGINE_PIDS=()
}

# ------------------------------------------------------------------------------------------
# (d) streaming: sustained acked ingest and ack -> identity event latency, 1 shard process.
# Two runs on fresh engines: at the highest rate the acks allow (throughput; the latency then
# includes the queue of up to broker.max_lag inputs), then at a fixed offered rate
# (BENCH_STREAM_LAT_RATE, default half the sustained rate of the first run, at most 100,000).
say "streaming: $STREAM_S s, reconcile_every $RECONCILE_EVERY"
need=$((STREAM_S * STREAM_MAX_RATE))
sc=""
for size in $SIZES; do
    if [ -s "$CORP/noise_floor-$size.msgpack" ] && ((size >= need)); then
        sc=$CORP/noise_floor-$size.msgpack
        break
    fi
done
[ -n "$sc" ] || sc=$(corpus "$need")
# stream_run LABEL RATE FLUSH_MS: one run; rows LABEL_ingest and LABEL_latency_p99_ms; sets S_RATE to
# the sustained rate (second half of the period).
stream_run() {
    local label=$1 rate=$2 flush_ms=$3 rms=$4 dir=$WORK/stream rc rss cmd ver j sent
    S_RATE=""
    engine_start "$dir" 1 "$RECONCILE_EVERY" "$rms"
    set +e
    timeout $((STREAM_S + CAP_S)) "$B/cadre_stream_bench" --ingest "ipc://$dir/ingest" --events "ipc://$dir/events" \
        "$sc" --seconds "$STREAM_S" --rate "$rate" --flush-ms "$flush_ms" --sent "$WORK/stream-sent.msgpack" \
        >"$WORK/$label.json" 2>"$WORK/$label.err"
    rc=$?
    set -e
    rss=$(engine_rss_mib)
    local cpu
    cpu=$(engine_cpu)
    cmd="cadre_stream_bench --ingest ipc://... --events ipc://... $(rel "$sc") --seconds $STREAM_S --rate $rate --flush-ms $flush_ms (broker + 1 shard + merger, reconcile_every $RECONCILE_EVERY, reconcile_ms $rms)"
    # Where the merger's time went (health report `timings`, docs/protocol.md §9).
    local tm
    tm=$("$CADRE" query --config "$dir/cadre.yaml" health 2>/dev/null | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["timings"]
print("merger: %d reconciliations, apply %.1f s, reconcile %.1f s, snapshot %.1f s" % (
    t["reconciliations"], t["apply_s"], t["reconcile_s"], t["snapshot_s"]))' 2>/dev/null || echo "merger timings unavailable")
    if ((rc == 0)); then
        "$CADRE" query --config "$dir/cadre.yaml" assignments --out "$WORK/stream-assign.jsonl"
        ver=$(scores "$WORK/stream-sent.msgpack" "$WORK/stream-assign.jsonl")
        j=$WORK/$label.json
        get() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$j"; }
        sent=$(get acked)
        S_RATE=$(get obs_per_s_2nd_half)
        csv_row "${label}_ingest" "$sent" 1 "$(get seconds)" "$S_RATE" "$rss" "" \
            "obs_per_s = acks/s over the second half; whole period $(get obs_per_s) obs/s; offered $( ((rate > 0)) && echo "$rate obs/s" || echo "as fast as acked"); broker.reconcile_ms $rms (0: off); FLUSH every $flush_ms ms (0: none), $(get flushes) answered; final flush $(get flush_s) s; client CPU $(get client_cpu_s) s; engine CPU: $cpu; $tm; $ver" "$cmd"
        csv_row "${label}_latency_p99_ms" "$sent" 1 "" "" "" "$(get lat_ms_p99)" \
            "ratio = p99 ack -> identity event in ms; p50 $(get lat_ms_p50) ms, p90 $(get lat_ms_p90) ms, max $(get lat_ms_max) ms; $(get matched) matched, $(get missing) missing; submit -> ack p99 $(get ack_ms_p99) ms" "$cmd"
        sed "s/^/$label: /" "$WORK/$label.err" >>"$NOTES"
    else
        csv_row "${label}_ingest" "" 0 "" "" "$rss" "" "FAILED: exit $rc: $(tr '\n' ' ' <"$WORK/$label.err")" "$cmd"
    fi
    engine_stop
    rm -rf "$dir" "$WORK/stream-sent.msgpack" "$WORK/stream-assign.jsonl"
    say "$label done: $(cat "$WORK/$label.json" 2>/dev/null)"
}
stream_run stream "$STREAM_RATE" 0 0
lat_rate=${BENCH_STREAM_LAT_RATE:-}
if [ -z "$lat_rate" ] && [ -n "$S_RATE" ]; then
    lat_rate=$(awk -v r="$S_RATE" 'BEGIN { r = int(r / 2); print (r > 100000 ? 100000 : (r < 1 ? 1 : r)) }')
fi
[ -n "$lat_rate" ] && [ "$lat_rate" != 0 ] && stream_run stream_at_rate "$lat_rate" "${BENCH_STREAM_FLUSH_MS:-0}" \
    "${BENCH_STREAM_RECONCILE_MS:-10}"

# ------------------------------------------------------------------------------------------
# (e) scale-out: the same corpus through 1, 2, 4 shard processes (cadre send, end to end
# including the final reconciliation) and through the embedded engine with --shards 1, 2, 4.
if ((SCALE_N > 0)); then
    f=$(corpus "$SCALE_N")
    n=$(n_of "$f")
    cl_ref=$WORK/cluster-$SCALE_N.jsonl
    [ -s "$cl_ref" ] || "$CADRE" cluster "$f" --out "$cl_ref" --quiet
    for s in $SHARD_COUNTS; do
        dir=$WORK/scale
        walls=() rss=() ver="" fail=""
        for ((k = 1; k <= RUNS; k++)); do
            engine_start "$dir" "$s" 0
            timed "scale-procs-$s-$k" "$CADRE" send --config "$dir/cadre.yaml" "$f"
            if ((T_RC != 0)); then fail="exit $T_RC"; engine_stop; break; fi
            walls+=("$T_WALL")
            rss+=("$(engine_rss_mib)")
            "$CADRE" query --config "$dir/cadre.yaml" assignments --out "$WORK/scale.jsonl"
            if cmp -s "$WORK/scale.jsonl" "$cl_ref"; then ver="identical to cadre cluster"; else ver="DIFFERS from cadre cluster"; fi
            engine_stop
            say "scale processes shards=$s run $k: $T_WALL s"
        done
        cmd="cadre send --config CFG $(rel "$f") (broker + $s shard processes + merger, ipc://)"
        if [ -n "$fail" ]; then
            csv_row "scale_procs_shards_$s" "$n" "${#walls[@]}" "" "" "" "" "FAILED: $fail" "$cmd"
            continue
        fi
        med=$(echo "${walls[*]}" | median)
        csv_row "scale_procs_shards_$s" "$n" "${#walls[@]}" "$med" "$(div "$n" "$med")" "$(echo "${rss[*]}" | maxof)" "" \
            "$ver; RSS = sum of the processes' peaks" "$cmd"
        rm -rf "$dir"
    done
    for s in $SHARD_COUNTS; do
        PRE_RUN='rm -rf "$WORK/scale-data"' \
            repeat "scale_embedded_shards_$s" "$n" "" -- "$CADRE" run "$f" --shards "$s" \
            --data-dir "$WORK/scale-data" --out "$WORK/scale-run.jsonl" --quiet
        rm -rf "$WORK/scale-data"
        cmd="cadre run $(rel "$f") --shards $s --out ASSIGN --quiet"
        if [ -n "$R_FAIL" ]; then
            csv_row "scale_embedded_shards_$s" "$n" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL" "$cmd"
            continue
        fi
        ver="DIFFERS from cadre cluster"
        cmp -s "$WORK/scale-run.jsonl" "$cl_ref" && ver="identical to cadre cluster"
        csv_row "scale_embedded_shards_$s" "$n" "$R_RUNS" "$R_MED" "$(div "$n" "$R_MED")" "$R_RSS" "" "$ver" "$cmd"
    done
fi

# ------------------------------------------------------------------------------------------
# (f) the log shipper: a Cowrie log written at a fixed rate, followed by `cadre ship`, each new
# source timed from the write of its first line to its first identity event (issue 12).
SHIP_S=${BENCH_SHIP_SECONDS:-60}
SHIP_RATE=${BENCH_SHIP_RATE:-5000}
if ((SHIP_S > 0)); then
    dir=$WORK/ship
    say "shipper latency: $SHIP_S s at $SHIP_RATE lines/s"
    engine_start "$dir" 1 "$RECONCILE_EVERY" 0
    : >"$dir/cowrie.json"
    "$CADRE" ship --config "$dir/cadre.yaml" --state "$dir/state" "$dir/cowrie.json" \
        2>"$dir/ship.log" &
    ship_pid=$!
    ENGINE_PIDS+=("$ship_pid")
    set +e
    timeout $((SHIP_S + CAP_S)) "$B/cadre_ship_bench" --log "$dir/cowrie.json" \
        --events "ipc://$dir/events" --rate "$SHIP_RATE" --seconds "$SHIP_S" \
        >"$WORK/ship.json" 2>"$WORK/ship.err"
    rc=$?
    set -e
    rss=$(engine_rss_mib)
    cpu=$(engine_cpu)
    cmd="cadre ship --config CFG --state DIR LOG & cadre_ship_bench --log LOG --events ipc://... --rate $SHIP_RATE --seconds $SHIP_S (broker + 1 shard + merger, reconcile_every $RECONCILE_EVERY, reconcile_ms 0: the shipper FLUSHes)"
    # Verification: once the shipper has acknowledged the whole log, the engine's partitions
    # are those of cadre ingest + cadre cluster of the same log.
    size=$(stat -c %s "$dir/cowrie.json")
    for ((k = 0; k < 600; k++)); do
        awk -v s="$size" '$1 == "unit" && $6 == s { f = 1 } END { exit !f }' \
            "$dir/state/offsets" 2>/dev/null && break
        sleep 0.1
    done
    kill -TERM "$ship_pid" 2>/dev/null || true
    wait "$ship_pid" 2>/dev/null || true
    ver="not verified"
    if "$CADRE" send --config "$dir/cadre.yaml" /dev/null >/dev/null 2>&1 &&
        "$CADRE" query --config "$dir/cadre.yaml" assignments --out "$WORK/ship-got.jsonl"; then
        "$CADRE" ingest cowrie "$dir/cowrie.json" --out "$WORK/ship-all.jsonl" 2>/dev/null
        "$CADRE" cluster "$WORK/ship-all.jsonl" --out "$WORK/ship-want.jsonl" --quiet
        ver="partitions vs cadre ingest + cluster of the log: $("$PY" bench/partcmp.py "$WORK/ship-want.jsonl" "$WORK/ship-got.jsonl" || true)"
    fi
    engine_stop
    if ((rc == 0)); then
        j=$WORK/ship.json
        get() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$j"; }
        csv_row ship_latency_p99_ms "$(get sources)" 1 "$(get seconds)" "$(get lines_per_s)" "$rss" "$(get lat_ms_p99)" \
            "ratio = p99 line written -> identity event in ms, new sources; p50 $(get lat_ms_p50) ms, p90 $(get lat_ms_p90) ms, max $(get lat_ms_max) ms; $(get matched) matched, $(get missing) missing; obs_per_s = lines/s written ($SHIP_RATE offered, $(get lines) lines, $(get sessions) sessions); $(tail -n 1 "$dir/ship.log" | sed 's/^cadre ship: //'); engine CPU: $cpu; $ver" "$cmd"
    else
        csv_row ship_latency_p99_ms "" 0 "" "" "$rss" "" "FAILED: exit $rc: $(tr '\n' ' ' <"$WORK/ship.err")" "$cmd"
    fi
    rm -rf "$dir"
    say "shipper latency done: $(cat "$WORK/ship.json" 2>/dev/null)"
fi

# ------------------------------------------------------------------------------------------
# (g) DECNET ingest: `cadre ingest decnet` on the DECNET-format twin of noise_floor
# (BENCH_DECNET_COPIES copies, ~100 KB of lines each), in MB of lines per second; verified
# by the number of observations it reports against the generator's.
if ((DECNET_COPIES > 0)); then
    dlog=$CORP/noise_floor-decnet-$DECNET_COPIES.log
    if [ ! -s "$dlog" ]; then
        say "gen $dlog ($DECNET_COPIES copies)"
        "$CADRE" gen "$SPEC" --format decnet --replicate "$DECNET_COPIES" --out "$dlog.tmp" \
            --summary | sed -n 's/.*(\([0-9]*\) observations).*/\1/p' >"$dlog.count"
        mv "$dlog.tmp" "$dlog"
    fi
    want=$(cat "$dlog.count")
    mb=$(awk -v b="$(stat -c %s "$dlog")" 'BEGIN { printf "%.1f", b / 1e6 }')
    cmd="cadre ingest decnet $(rel "$dlog") --format msgpack --out /dev/null"
    repeat decnet_ingest "$want" "" -- "$CADRE" ingest decnet "$dlog" --format msgpack --out /dev/null
    if [ -n "$R_FAIL" ]; then
        csv_row decnet_ingest "$want" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL" "$cmd"
    else
        got=$(sed -n 's/.* \([0-9]*\) observations$/\1/p' "$WORK/decnet_ingest-$want-$R_RUNS.err" | tail -n1)
        ver="$got observations reported, $want generated"
        [ "$got" = "$want" ] || ver="WRONG: $ver"
        csv_row decnet_ingest "$want" "$R_RUNS" "$R_MED" "$(div "$want" "$R_MED")" "$R_RSS" \
            "$(div "$mb" "$R_MED")" "$ver; $mb MB of log lines; ratio = MB/s" "$cmd"
    fi
fi

# ------------------------------------------------------------------------------------------
# (h) throttled scale-out (issue 13): broker + S shard processes + merger over ipc://, each
# shard in a cgroup v1 CPU cgroup of its own with a fixed quota, the broker, the merger and
# the client unthrottled; the same batch corpus streamed with `cadre send`, S in
# BENCH_THROTTLE_SHARDS. On a 2-core machine unthrottled shards cannot show scale-out: S
# shard processes share the same two cores with everything else. With a quota each shard is a
# slow "host" of its own, and the rate the shards allow grows with S until the serial roles
# (broker, merger, client) or the routing's balance bound it. Per-role CPU comes from a
# cpuacct cgroup per process (nanoseconds), else from /proc/PID/stat.
THR_N=${BENCH_THROTTLE_N:-30000}
THR_SHARDS=${BENCH_THROTTLE_SHARDS:-1 2 4 8}
THR_QUOTA=${BENCH_THROTTLE_QUOTA_US:-1000}
THR_PERIOD=${BENCH_THROTTLE_PERIOD_US:-100000}
CG_CPU=/sys/fs/cgroup/cpu
CG_ACCT=/sys/fs/cgroup/cpuacct
CG_TAG=cadre-bench-$$

# cg_make HIERARCHY NAME PID: a cgroup HIERARCHY/cadre-bench-<pid>-NAME holding every thread
# of PID (cgroup.procs); sets CG_DIR to its directory (not printed: a command substitution
# would record it in a subshell's CGROUPS).
cg_make() {
    CG_DIR=$1/$CG_TAG-$2
    mkdir "$CG_DIR" || return 1
    CGROUPS+=("$CG_DIR")
    echo "$3" >"$CG_DIR/cgroup.procs"
}
# cg_remove_all: removes every cgroup this run made (its processes are gone or going: a
# cgroup with a task left cannot be removed, so each is retried for 5 s).
cg_remove_all() {
    local d k
    for d in "${CGROUPS[@]}"; do
        for ((k = 0; k < 50; k++)); do
            [ -d "$d" ] || break
            rmdir "$d" 2>/dev/null && break
            sleep 0.1
        done
        [ -d "$d" ] && echo "bench: could not remove cgroup $d" >&2
    done
    CGROUPS=()
}
# cpu_ns PID ACCT_DIR: CPU nanoseconds of PID so far, from ACCT_DIR/cpuacct.usage when given,
# else user + system from /proc/PID/stat.
cpu_ns() {
    if [ -n "$2" ]; then
        cat "$2/cpuacct.usage"
        return
    fi
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^[^)]*\) /, ""); printf "%.0f", ($12 + $13) * 1e9 / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}
# throttle_skip REASON: the rows of this section, skipped.
throttle_skip() {
    local s
    for s in $THR_SHARDS; do
        csv_row "throttle_shards_$s" "" 0 "" "" "" "" "skipped: $1" \
            "cadre send --config CFG CORPUS (broker + $s CPU-throttled shard processes + merger)"
    done
    note "throttled scale-out skipped: $1"
}

if ((THR_N > 0)); then
    if [ "$(id -u)" -ne 0 ]; then
        throttle_skip "cgroups need root"
    elif [ ! -w "$CG_CPU/cpu.cfs_quota_us" ] && [ ! -e "$CG_CPU/cpu.cfs_quota_us" ]; then
        throttle_skip "no cgroup v1 CPU controller at $CG_CPU (cpu.cfs_quota_us)"
    else
        f=$(corpus "$THR_N")
        n=$(n_of "$f")
        cl_ref=$WORK/cluster-$THR_N.jsonl
        [ -s "$cl_ref" ] || "$CADRE" cluster "$f" --out "$cl_ref" --quiet
        acct=""
        [ -e "$CG_ACCT/cpuacct.usage" ] && acct=$CG_ACCT
        pct=$(awk -v q="$THR_QUOTA" -v p="$THR_PERIOD" 'BEGIN { printf "%.1f", 100 * q / p }')
        say "throttled scale-out: $n observations, shards $THR_SHARDS, quota $THR_QUOTA/$THR_PERIOD us ($pct% of a core) per shard"
        # How the routing spreads the corpus: the busiest shard's KEYS entries and keys.
        declare -A ROUTE=()
        while read -r line; do
            s=$(sed -n 's/.*"shards": \([0-9]*\).*/\1/p' <<<"$line")
            ROUTE[$s]=$(sed -n 's/.*"max_entries": \([0-9]*\), "max_keys": \([0-9]*\).*/\1 entries, \2 keys/p' <<<"$line")
            ROUTE[$s]+=" (all shards: $(sed -n 's/.*"entries": \([0-9]*\),.*/\1/p' <<<"$line") entries, $(sed -n 's/.*"keys": \([0-9]*\),.*/\1/p' <<<"$line") keys)"
        done < <("$B/cadre_route_stat" "$f" $THR_SHARDS)
        dir=$WORK/throttle
        for s in $THR_SHARDS; do
            walls=() rss=() fail="" ver=""
            cu_client=() cu_broker=() cu_merger=() cu_shards=() cu_busiest=() used=() thr=()
            for ((k = 1; k <= RUNS; k++)); do
                engine_start "$dir" "$s" 0
                # ENGINE_PIDS: merger, broker, shard 0 .. s-1 (engine_start's order).
                ACCT=() C0=()
                roles=(merger broker)
                for ((j = 0; j < s; j++)); do roles+=("shard$j"); done
                qdirs=()
                for ((j = 0; j < ${#roles[@]}; j++)); do
                    p=${ENGINE_PIDS[$j]}
                    ACCT[$j]=""
                    if [ -n "$acct" ]; then
                        cg_make "$acct" "${roles[$j]}" "$p" || { fail="cannot make a cpuacct cgroup"; break; }
                        ACCT[$j]=$CG_DIR
                    fi
                    if ((j >= 2)); then
                        cg_make "$CG_CPU" "${roles[$j]}" "$p" || { fail="cannot make a CPU cgroup"; break; }
                        q=$CG_DIR
                        echo "$THR_PERIOD" >"$q/cpu.cfs_period_us" && echo "$THR_QUOTA" >"$q/cpu.cfs_quota_us" ||
                            fail="cannot set the CPU quota"
                        qdirs+=("$q")
                    fi
                    C0[$j]=$(cpu_ns "$p" "${ACCT[$j]}")
                done
                if [ -n "$fail" ]; then engine_stop; cg_remove_all; break; fi
                timed "throttle-$s-$k" "$CADRE" send --config "$dir/cadre.yaml" "$f"
                if ((T_RC != 0)); then fail="exit $T_RC"; engine_stop; cg_remove_all; break; fi
                # CPU of each role over the send, microseconds per observation.
                sh_all=0 sh_max=0
                for ((j = 0; j < ${#roles[@]}; j++)); do
                    d=$(($(cpu_ns "${ENGINE_PIDS[$j]}" "${ACCT[$j]}") - C0[$j]))
                    case $j in
                    0) cu_merger+=("$(awk -v d="$d" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')") ;;
                    1) cu_broker+=("$(awk -v d="$d" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')") ;;
                    *) sh_all=$((sh_all + d)); ((d > sh_max)) && sh_max=$d ;;
                    esac
                done
                cu_client+=("$(awk -v c="$T_CPU_S" -v n="$n" 'BEGIN { printf "%.1f", c * 1e6 / n }')")
                cu_shards+=("$(awk -v d="$sh_all" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')")
                cu_busiest+=("$(awk -v d="$sh_max" -v n="$n" 'BEGIN { printf "%.2f", d / 1e3 / n }')")
                # Quota used by the busiest shard (its CPU over what the quota allowed during the
                # send), and the share of periods in which the shards were throttled.
                used+=("$(awk -v d="$sh_max" -v w="$T_WALL" -v q="$THR_QUOTA" -v p="$THR_PERIOD" \
                    'BEGIN { printf "%.0f", 100 * d / 1e9 / (w * q / p) }')")
                thr+=("$(cat "${qdirs[@]/%//cpu.stat}" | awk '$1 == "nr_periods" { p += $2 } $1 == "nr_throttled" { t += $2 }
                    END { printf "%.0f", p ? 100 * t / p : 0 }')")
                walls+=("$T_WALL")
                rss+=("$(engine_rss_mib)")
                "$CADRE" query --config "$dir/cadre.yaml" assignments --out "$WORK/throttle.jsonl"
                if cmp -s "$WORK/throttle.jsonl" "$cl_ref"; then
                    [ "$ver" = "DIFFERS from cadre cluster" ] || ver="identical to cadre cluster"
                else
                    ver="DIFFERS from cadre cluster"
                fi
                engine_stop
                cg_remove_all
                say "throttled shards=$s run $k: $T_WALL s, busiest shard $(echo "${cu_busiest[-1]}") us/obs, quota used ${used[-1]}%"
            done
            cmd="cadre send --config CFG $(rel "$f") (broker + $s shard processes + merger, ipc://; each shard in a CPU cgroup: cpu.cfs_quota_us $THR_QUOTA, cpu.cfs_period_us $THR_PERIOD)"
            if [ -n "$fail" ]; then
                csv_row "throttle_shards_$s" "$n" "${#walls[@]}" "" "" "" "" "FAILED: $fail" "$cmd"
                continue
            fi
            med=$(echo "${walls[*]}" | median)
            csv_row "throttle_shards_$s" "$n" "${#walls[@]}" "$med" "$(div "$n" "$med")" "$(echo "${rss[*]}" | maxof)" "" \
                "$ver; quota $pct% of a core per shard; CPU us/obs (medians): client $(echo "${cu_client[*]}" | median), broker $(echo "${cu_broker[*]}" | median), merger $(echo "${cu_merger[*]}" | median), shards $(echo "${cu_shards[*]}" | median) in all, busiest shard $(echo "${cu_busiest[*]}" | median); busiest shard used $(echo "${used[*]}" | median)% of its quota, shards throttled in $(echo "${thr[*]}" | median)% of periods; routing: busiest shard ${ROUTE[$s]:-?} of $n records" \
                "$cmd"
            rm -rf "$dir"
        done
    fi
fi

# ------------------------------------------------------------------------------------------
# (i) multi-host: the broker, the merger, two shards and the client each in a network
# namespace of its own, joined by veth pairs to a bridge (tests/it/net_lib.sh, as
# tests/it/multihost.sh), over tcp:// with CURVE on, traffic between hosts delayed by
# BENCH_MULTIHOST_DELAY_MS one way (tc netem; without sch_netem, TAP devices served by
# tests/it/delay_hub.py, whose CPU the row gives; without either the row says the links were
# not delayed). The batch corpus streamed with `cadre send` from the client's namespace, timed
# end to end; verified against cadre cluster.
MH_N=${BENCH_MULTIHOST_N:-30000}
MH_DELAY=${BENCH_MULTIHOST_DELAY_MS:-2}
if ((MH_N > 0)); then
    mh_cmd="ip netns exec CLIENT cadre send --config CFG CORPUS (broker, merger, 2 shards, client: one network namespace each, joined by veth pairs and a bridge, or by delay_hub.py TAPs; tcp://, CURVE on)"
    TMP=$WORK/multihost STEM=cbm PREFIX=cbm$$ SHARDS=2 HB_MS=1000 LIVENESS=3 EVERY=0
    HOSTS=(hub broker merger shard0 shard1 client)
    declare -A ADDR=([broker]=10.233.0.1 [merger]=10.233.0.2 [shard0]=10.233.0.10
        [shard1]=10.233.0.11 [client]=10.233.0.100)
    CFG=$TMP/cadre.yaml
    source tests/it/net_lib.sh
    MH_HOSTS=0
    # shellcheck disable=SC2317  # called through the trap
    net_cleanup_all() { ((MH_HOSTS)) && net_cleanup; MH_HOSTS=0; }
    why=""
    why=$(net_usable) || true
    if [ -z "$why" ]; then
        rm -rf "$TMP"
        mkdir -p "$TMP"
        sweep_stale
        MH_HOSTS=1
        if ! make_hosts; then
            why="cannot make network namespaces: $(cat "$TMP/netns.err" 2>/dev/null)"
        elif ! delay_links "$MH_DELAY"; then
            why="netem is there but could not be attached"
        fi
    fi
    if [ -n "$why" ]; then
        net_cleanup_all
        csv_row multihost_shards_2 "" 0 "" "" "" "" "skipped: $why" "$mh_cmd"
        note "multi-host row skipped: $why"
    else
        note "multi-host links: $LINKS"
        f=$(corpus "$MH_N")
        n=$(n_of "$f")
        cl_ref=$WORK/cluster-$MH_N.jsonl
        [ -s "$cl_ref" ] || "$CADRE" cluster "$f" --out "$cl_ref" --quiet
        curve_setup
        walls=() rss=() fail="" ver="" cu_client=() cu_broker=() cu_merger=() cu_shards=() cu_hub=()
        acct=""
        [ -e "$CG_ACCT/cpuacct.usage" ] && acct=$CG_ACCT
        for ((k = 1; k <= RUNS; k++)); do
            rm -rf "$TMP/data"
            write_tcp_config
            ENGINE_PIDS=()
            ip netns exec "$(ns merger)" "$B/cadre-merger" --config "$CFG" --cert "${CERT[merger]}" 2>"$TMP/merger.log" &
            ENGINE_PIDS+=($!)
            ip netns exec "$(ns broker)" "$B/cadre-broker" --config "$CFG" 2>"$TMP/broker.log" &
            ENGINE_PIDS+=($!)
            for j in 0 1; do
                ip netns exec "$(ns "shard$j")" "$B/cadre-shard" --config "$CFG" --id "$j" \
                    --cert "${CERT[shard$j]}" 2>"$TMP/shard$j.log" &
                ENGINE_PIDS+=($!)
            done
            up=0
            for ((j = 0; j < 300; j++)); do
                if on client "$CADRE" query --config "$CFG" health --timeout-ms 500 >/dev/null 2>&1 &&
                    [ "$(grep -c -e 'broker: merger 0 ready' -e 'broker: shard [01] ready' "$TMP/broker.log")" -ge 3 ]; then
                    up=1
                    break
                fi
                sleep 0.1
            done
            if ((!up)); then fail="the engine did not start across the namespaces"; engine_stop; break; fi
            roles=(merger broker shard0 shard1)
            ACCT=() C0=()
            for ((j = 0; j < 4; j++)); do
                ACCT[$j]=""
                if [ -n "$acct" ]; then
                    cg_make "$acct" "mh-${roles[$j]}" "${ENGINE_PIDS[$j]}" || { fail="cannot make a cpuacct cgroup"; break; }
                    ACCT[$j]=$CG_DIR
                fi
                C0[$j]=$(cpu_ns "${ENGINE_PIDS[$j]}" "${ACCT[$j]}")
            done
            if [ -n "$fail" ]; then engine_stop; cg_remove_all; break; fi
            hub0=0
            [ -n "$HUB_PID" ] && hub0=$(cpu_ns "$HUB_PID" "")
            timed "multihost-$k" ip netns exec "$(ns client)" "$CADRE" send --config "$CFG" "$f"
            if ((T_RC != 0)); then fail="exit $T_RC: $(tail -n 2 "$WORK/multihost-$k.err" | tr '\n' ' ')"; engine_stop; cg_remove_all; break; fi
            sh_all=0
            for ((j = 0; j < 4; j++)); do
                d=$(($(cpu_ns "${ENGINE_PIDS[$j]}" "${ACCT[$j]}") - C0[$j]))
                us=$(awk -v d="$d" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')
                case $j in
                0) cu_merger+=("$us") ;;
                1) cu_broker+=("$us") ;;
                *) sh_all=$((sh_all + d)) ;;
                esac
            done
            cu_shards+=("$(awk -v d="$sh_all" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')")
            cu_client+=("$(awk -v c="$T_CPU_S" -v n="$n" 'BEGIN { printf "%.1f", c * 1e6 / n }')")
            if [ -n "$HUB_PID" ]; then
                cu_hub+=("$(awk -v d="$(($(cpu_ns "$HUB_PID" "") - hub0))" -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')")
            fi
            walls+=("$T_WALL")
            rss+=("$(engine_rss_mib)")
            on client "$CADRE" query --config "$CFG" assignments --out "$WORK/multihost.jsonl"
            if cmp -s "$WORK/multihost.jsonl" "$cl_ref"; then
                [ "$ver" = "DIFFERS from cadre cluster" ] || ver="identical to cadre cluster"
            else
                ver="DIFFERS from cadre cluster"
            fi
            engine_stop
            cg_remove_all
            say "multi-host run $k: $T_WALL s ($LINKS)"
        done
        net_cleanup_all
        if [ -n "$fail" ]; then
            csv_row multihost_shards_2 "$n" "${#walls[@]}" "" "" "" "" "FAILED: $fail; links: $LINKS" "$mh_cmd"
        else
            med=$(echo "${walls[*]}" | median)
            csv_row multihost_shards_2 "$n" "${#walls[@]}" "$med" "$(div "$n" "$med")" "$(echo "${rss[*]}" | maxof)" "" \
                "$ver; links: $LINKS; CURVE on, tcp://; CPU us/obs (medians): client $(echo "${cu_client[*]}" | median), broker $(echo "${cu_broker[*]}" | median), merger $(echo "${cu_merger[*]}" | median), shards $(echo "${cu_shards[*]}" | median) in all$( ((${#cu_hub[@]})) && echo ", delay hub $(echo "${cu_hub[*]}" | median)")" \
                "$mh_cmd"
        fi
        rm -rf "$TMP"
    fi
fi

# (j) JSON Lines decoding: `cadre check` on noise_floor written as JSON Lines
# (BENCH_JSONL_COPIES copies, ~27 KB of lines each), in MB of lines per second; verified by
# the summary it prints against the generator's count (every record good).
if ((JSONL_COPIES > 0)); then
    jf=$CORP/noise_floor-jsonl-$JSONL_COPIES.jsonl
    if [ ! -s "$jf" ]; then
        say "gen $jf ($JSONL_COPIES copies)"
        "$CADRE" gen "$SPEC" --replicate "$JSONL_COPIES" --out "$jf.tmp.jsonl" --summary |
            sed -n 's/.*(\([0-9]*\) observations).*/\1/p' >"$jf.count"
        mv "$jf.tmp.jsonl" "$jf"
    fi
    want=$(cat "$jf.count")
    mb=$(awk -v b="$(stat -c %s "$jf")" 'BEGIN { printf "%.1f", b / 1e6 }')
    cmd="cadre check $(rel "$jf")"
    repeat jsonl_check "$want" "" -- "$CADRE" check "$jf"
    if [ -n "$R_FAIL" ]; then
        csv_row jsonl_check "$want" "$R_RUNS" "" "" "" "" "FAILED: $R_FAIL" "$cmd"
    else
        got=$(tail -n1 "$WORK/jsonl_check-$want-$R_RUNS.out")
        ver="cadre check: $got; $want generated"
        [ "$got" = "$want records, $want good, 0 bad" ] || ver="WRONG: $ver"
        csv_row jsonl_check "$want" "$R_RUNS" "$R_MED" "$(div "$want" "$R_MED")" "$R_RSS" \
            "$(div "$mb" "$R_MED")" "$ver; $mb MB of JSON Lines; ratio = MB/s" "$cmd"
    fi
fi

# ------------------------------------------------------------------------------------------
note "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
note "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)'); total bench time $((SECONDS - BENCH_T0)) s"
"$PY" bench/report.py "$CSV" "$NOTES" >"$OUT/results.md"
[ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$WORK"/*.jsonl "$WORK"/*.out
say "wrote $OUT/results.md and $OUT/results.csv"
cat "$OUT/results.md"
exit 0
}
