#!/usr/bin/env bash
# ingest.sh - ingest throughput of the engine, embedded (`cadre run`) and as separate
# processes over ipc:// (broker + SHARDS shards + merger, fed by `cadre send`), on the same
# corpus, with the result checked against `cadre cluster`. Not part of `make test`.
#   usage: bench/ingest.sh [COPIES [SHARDS]]   (COPIES of noise_floor's 30 observations)
# Needs a built tree in build/ (make build). Prints one line per run with the wall time and
# the records per second.
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${1:-3334}
SHARDS=${2:-4}
B=build
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cadre-bench.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
CORPUS=$TMP/corpus.msgpack
$B/cadre gen fixtures/campaigns/noise_floor.yaml --replicate "$COPIES" --out "$CORPUS" >/dev/null
N=$((COPIES * 30))

now() { date +%s.%N; }
rate() { awk -v n="$N" -v a="$1" -v b="$2" 'BEGIN { printf "%.2f s, %.0f records/s", b - a, n / (b - a) }'; }

t0=$(now)
$B/cadre cluster "$CORPUS" --out "$TMP/cluster.jsonl" --quiet
t1=$(now)
echo "cadre cluster (one thread, no journal): $N records, $(rate "$t0" "$t1")"

t0=$(now)
$B/cadre run "$CORPUS" --shards "$SHARDS" --out "$TMP/run.jsonl" --quiet
t1=$(now)
cmp -s "$TMP/run.jsonl" "$TMP/cluster.jsonl" || { echo "embedded result differs" >&2; exit 1; }
echo "cadre run (embedded, $SHARDS shards): $N records, $(rate "$t0" "$t1")"

CFG=$TMP/cadre.yaml
mkdir -p "$TMP/data"
cat >"$CFG" <<YAML
data_dir: $TMP/data
shards: $SHARDS
log_level: warn
broker:
  ingest: ipc://$TMP/ingest
  backend: ipc://$TMP/backend
merger:
  shards: ipc://$TMP/merger-shards
  events: ipc://$TMP/events
  query: ipc://$TMP/query
YAML
$B/cadre-merger --config "$CFG" 2>"$TMP/merger.log" & PIDS+=($!)
$B/cadre-broker --config "$CFG" 2>"$TMP/broker.log" & PIDS+=($!)
for ((k = 0; k < SHARDS; k++)); do
    $B/cadre-shard --config "$CFG" --id "$k" 2>"$TMP/shard$k.log" & PIDS+=($!)
done
until $B/cadre query --config "$CFG" health --timeout-ms 500 >/dev/null 2>&1; do sleep 0.1; done
t0=$(now)
$B/cadre send --config "$CFG" "$CORPUS" >/dev/null
t1=$(now)
$B/cadre query --config "$CFG" assignments --out "$TMP/procs.jsonl"
cmp -s "$TMP/procs.jsonl" "$TMP/cluster.jsonl" || { echo "multi-process result differs" >&2; exit 1; }
echo "processes over ipc:// ($SHARDS shards): $N records, $(rate "$t0" "$t1")"
