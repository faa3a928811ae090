#!/usr/bin/env bash
# Rebuilds the seed corpora of fuzz/corpus/ (docs/fuzzing.md): the text seeds from the test
# fixtures, the docs and a few lines of the shared Cowrie data (sweetie-2020, MIT licence; the
# radec73 set may not be redistributed), then the binary seeds with fuzz_seed_gen (made with
# cadre's encoders from the observation seeds). Run it from anywhere after a build:
#   bash fuzz/seeds.sh [BUILD_DIR]      (default: build)
# and commit what changed. Not part of any test; the committed corpora are what CI replays.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
corpus=$root/fuzz/corpus
shared=${SHARED_DIR:-$root/../shared}
sweetie=$shared/realdata/sweetie-2020/cowrie
cd "$root"

# One file per line of a file: DIR PREFIX FILE (blank lines skipped).
split_lines() {
    local dir=$1 prefix=$2 file=$3 n=0
    mkdir -p "$dir"
    while IFS= read -r line || [ -n "$line" ]; do
        [ -z "$line" ] && continue
        n=$((n + 1))
        printf '%s' "$line" >"$dir/$(printf '%s-%02d' "$prefix" "$n")"
    done <"$file"
}

rm -rf "$corpus"
mkdir -p "$corpus"

# obs_json: the mixed fixture (good and malformed records), generated records with every
# field, an assignment, and edge cases of the number and string rules.
split_lines "$corpus/obs_json" mixed tests/fixtures/records/mixed.jsonl
"$build/cadre" gen fixtures/campaigns/keystroke_overlap.yaml --seed 0 --out /dev/stdout 2>/dev/null |
    sed -n 1,3p >"$corpus/gen.jsonl.tmp"
split_lines "$corpus/obs_json" gen "$corpus/gen.jsonl.tmp"
rm -f "$corpus/gen.jsonl.tmp"
printf '%s' '{"id": "att-1", "identity": "i-1", "campaign": null}' >"$corpus/obs_json/assign"
printf '%s' '{"id": "e\u00e9\ud83d\ude00", "asn": -9223372036854775808, "kd_simhash": "00000000000000FF", "sessions": [{"phase": "recon", "start": -0.0, "duration": 5e-324, "credentials": [["", ""]], "commands": ["\u0001"]}], "truth": {"actor": null, "campaign": "c"}}' \
    >"$corpus/obs_json/edges"
printf '%s' '{"id": "att-2", "op": "delete"}' >"$corpus/obs_json/delete"

printf '%s' '{"id": "a", "op": "append", "fingerprints": {"jarm": "x", "ssh_client": null}, "append_at": {"ja3": 1.5, "fingerprints.jarm": null}, "sessions": []}' \
    >"$corpus/obs_json/append"

# json_diff: the obs_json seeds, the mixed fixture as a stream (LF and CRLF), and edge cases
# of the number, string, key and structure rules on which simdjson and jansson could differ.
mkdir -p "$corpus/json_diff"
cp "$corpus"/obs_json/* "$corpus/json_diff/"
cp tests/fixtures/records/mixed.jsonl "$corpus/json_diff/mixed.jsonl"
sed 's/$/\r/' tests/fixtures/records/mixed.jsonl >"$corpus/json_diff/mixed-crlf.jsonl"
cat >"$corpus/json_diff/numbers.jsonl" <<'EOF'
{"id": "a", "asn": -0, "kd_simhash": 9223372036854775807, "sessions": [{"phase": "delivery", "start": -0.0, "duration": 5e-324}]}
{"id": "a", "sessions": [{"phase": "delivery", "start": 1e-400, "duration": 2.4703282292062328e-324}]}
{"id": "a", "sessions": [{"phase": "delivery", "start": 1.7976931348623157e308, "duration": 1E+2}]}
{"id": "a", "sessions": [{"phase": "delivery", "start": 3.14159265358979323846264338327950288419716939937510582097494459}]}
{"id": "a", "x": [1e309, 9223372036854775808, 01, 1., .5, -, 1e, 0x10]}
{"id": "a", "asn": 9223372036854775808}
{"id": "a", "asn": 1.0}
{"id": "a", "kd_simhash": -1}
{"id": "a", "x": 1e99999999999999999999}
EOF
cat >"$corpus/json_diff/strings.jsonl" <<'EOF'
{"id": "\u00e9\ud83d\ude00", "x": "\u0000", "y": ["\" \\ \/ \b \f \n \r \t"]}
{"id": "a", "x": "\ud800"}
{"id": "a", "x": "\udc00\u0041"}
{"id": "a", "ip": "a\u0000b"}
{"id": "a", "\u0000": 1}
{"id": "a", "i\u0064": "b"}
{"id": "a", "x": {"y": 1, "y": 2}}
{"id": "a", "fingerprints": {"jarm": "a", "jarm": "b"}}
{"id": "a"} x
{"id": "a"}}
{"id": "a",}
{"id": "a", "x": [1 2]}
{"id": "a", "op": "delete", "sessions": 5}
EOF
printf '{"id": "\xff"}\n{"id": "a\tb"}\n{"id": "a\0b"}\n\xef\xbb\xbf{"id": "a"}\n{"id": "a", "x": "\xed\xa0\x80"}' \
    >"$corpus/json_diff/bytes.jsonl"

# append: streams of appends to one id (sessions with and without ids, disagreeing fields,
# fingerprints), and an upsert among them.
mkdir -p "$corpus/append"
cat >"$corpus/append/fleet.jsonl" <<'EOF'
{"id": "a", "op": "append", "ip": "203.0.113.1", "ja3": "771,4865", "sessions": [{"id": "s1", "phase": "reconnaissance", "start": 100.0}]}
{"id": "a", "op": "append", "ip": "203.0.113.2", "hassh": "h1", "fingerprints": {"jarm": "j1"}, "sessions": [{"id": "s2", "phase": "delivery", "start": 50.0, "commands": ["wget x"]}]}
{"id": "a", "op": "append", "asn": 64512, "truth": {"campaign": "c1"}, "fingerprints": {"jarm": "j0", "tcp_syn": "t"}, "sessions": [{"phase": "exploitation", "start": 75.5, "credentials": [["root", "toor"]]}]}
{"id": "a", "op": "append", "sessions": [{"id": "s1", "phase": "reconnaissance", "start": 100.0, "duration": 3.0}]}
{"id": "a", "kd_simhash": "0123456789abcdef", "sessions": [{"phase": "exploitation", "start": 75.5, "credentials": [["root", "toor"]]}]}
EOF
cat >"$corpus/append/no-sessions.jsonl" <<'EOF'
{"id": "b", "op": "append", "ja4": "t13d", "fingerprints": {"ja4h": "z"}}
{"id": "b", "op": "append", "ja4": "t12d", "append_at": {"ja4": 1.0}}
EOF

# obs_stream: whole streams, LF and CRLF.
mkdir -p "$corpus/obs_stream"
cp tests/fixtures/records/mixed.jsonl "$corpus/obs_stream/mixed.jsonl"
sed 's/$/\r/' tests/fixtures/records/mixed.jsonl >"$corpus/obs_stream/mixed-crlf.jsonl"

# cowrie: the adapter's fixture and real sessions: telnet with commands, wget with a
# download, public-key logins, and the truncated tail of cowrie.json.3.
mkdir -p "$corpus/cowrie"
cp tests/fixtures/cowrie/small.jsonl "$corpus/cowrie/small.jsonl"
grep -h '"session":"f399de283f0f"' "$sweetie/cowrie.json.2019-12-08" >"$corpus/cowrie/telnet.jsonl"
grep -h -m 12 '"session":"76bc054f6066"' "$sweetie/cowrie.json.1" >"$corpus/cowrie/wget.jsonl"
grep -h '"session":"55489694e384"' "$sweetie"/cowrie.json.* >"$corpus/cowrie/pubkey.jsonl"
tail -c 1500 "$sweetie/cowrie.json.3" | tail -n +2 >"$corpus/cowrie/truncated.jsonl"

# fatt: fatt records, "--", then the Cowrie sessions they join.
mkdir -p "$corpus/fatt"
{ cat tests/fixtures/cowrie/fatt.jsonl; echo '--'; cat tests/fixtures/cowrie/fatt_sessions.jsonl; } \
    >"$corpus/fatt/joined.jsonl"
cp tests/fixtures/cowrie/fatt.jsonl "$corpus/fatt/fatt-only.jsonl"

# decnet: DECNET-LOGS.md §1.11's lines with noise, the parser defects of its §2.4, fingerprint
# lines, cadre syslog-recv's WORKER TAB MSG lines, and the head of two DECNET-format twins
# (cadre gen --format decnet: mixed services; SSH with commands, C2 and payloads).
mkdir -p "$corpus/decnet"
cp tests/fixtures/decnet/* "$corpus/decnet/"
"$build/cadre" gen fixtures/campaigns/noise_floor.yaml --format decnet --out "$corpus/twin.tmp"
head -n 40 "$corpus/twin.tmp" >"$corpus/decnet/twin.log"
"$build/cadre" gen fixtures/campaigns/multi_operator.yaml --format decnet --out "$corpus/twin.tmp"
head -n 25 "$corpus/twin.tmp" >"$corpus/decnet/twin_ssh.log"
rm -f "$corpus/twin.tmp"

# textin: plain and gzip text (whole, and cut short), lines longer than the target's limit.
mkdir -p "$corpus/textin"
cp tests/fixtures/cowrie/small.jsonl "$corpus/textin/plain.jsonl"
gzip -9 -n -c tests/fixtures/cowrie/small.jsonl >"$corpus/textin/small.jsonl.gz"
head -c 300 "$corpus/textin/small.jsonl.gz" >"$corpus/textin/cut.jsonl.gz"
printf 'a\r\n\nb\0c\nlast-without-newline' >"$corpus/textin/short-lines"

# syslog_frame: 2 bytes of frame cap - 1 (big-endian), 1 byte of chunking seed, then the
# stream: DECNET forwarder lines back to back (UTF-8, an empty frame, leading zeros), a frame
# of exactly the cap, and the refusals (an LF-framed line, a bad length, 11 digits, a length
# over the cap, a space without a length, a stream ending inside a frame).
mkdir -p "$corpus/syslog_frame"
sf() { printf '%b' "$2" >"$corpus/syslog_frame/$1"; }
# frame TEXT: TEXT as one octet-counted frame (its length in bytes, not characters).
frame() { printf '%d %s' "$(printf '%s' "$1" | wc -c)" "$1"; }
{
    printf '\xff\xff\x07'
    frame '<13>1 2026-01-02T03:04:05.000000+00:00 decky-01 ssh - login [decnet@55555 src_ip="203.0.113.9" username="root"] failed password'
    printf '0 '
    frame $'<14>1 2026-01-02T03:04:06.000000+00:00 decky-02 http - request - caf\xc3\xa9 \xe2\x9c\x93'
    printf '0005 hello'
} >"$corpus/syslog_frame/decnet"
sf exact-cap '\x00\x04\x015 abcde5 fghij'
sf lf-framed '\x7f\xff\x03<13>1 2026-01-02T03:04:05Z host app - - - plain LF\n'
sf bad-length '\x7f\xff\x095 hello12x hello'
sf eleven-digits '\xff\xff\x0200000000001 x'
sf over-cap '\x00\x63\x0b2 ab101 '
sf bare-space '\x00\xff\x0c3 abc 3 abc'
sf truncated '\x00\xff\x0d3 abc100 abc'

# weak_labels: a hand-made labels file in the shape of the shared labels_weak.tsv (C-labels,
# a generic G-label, several labels on one line), and malformed lines.
mkdir -p "$corpus/weak_labels"
printf 'session\tsrc_ip\tfirst_ts\tlabels\ns1\t203.0.113.1\t2019-12-03T04:04:45.992378Z\tC1_mdrfckr_authorized_keys\ns2\t203.0.113.2\t2019-12-03T04:50:24.932913Z\tC1b_cred_nproc_nproc,C2_echo321_var03522123\ns3\t203.0.113.3\t2019-12-03T05:17:24.780138Z\tG1_telnet_prompt_walk_generic\ns4\t203.0.113.1\t2019-12-03T05:18:00Z\tC4_mikrotik_ip_cloud_print,,\n' \
    >"$corpus/weak_labels/labels.tsv"
printf 'session\tsrc_ip\tfirst_ts\tlabels\r\ns1\t\tx\tC1\r\nonly\ttwo\n\ns5\t203.0.113.9\tt\tC12ab_x\textra\n' \
    >"$corpus/weak_labels/malformed.tsv"

# dsl: the DSL fixtures (good, bad, warnings), the smaller scenarios, and includes of
# fuzz/dsl_include/.
mkdir -p "$corpus/dsl"
for f in tests/fixtures/dsl/*.yaml; do cp "$f" "$corpus/dsl/$(basename "$f")"; done
for f in lone_wolf handoff_only paused_campaign keystroke_overlap; do
    cp "fixtures/campaigns/$f.yaml" "$corpus/dsl/$f.yaml"
done
for f in middle self broken missing; do
    printf 'include_fixtures:\n  - %s.yaml\nextra_noise_scanners: 1\n' "$f" >"$corpus/dsl/include-$f.yaml"
done

# cfg_yaml: the deployment example and docs/config.md's; ccfg_yaml: docs/config.md's.
mkdir -p "$corpus/cfg_yaml" "$corpus/ccfg_yaml"
cp deploy/cadre.example.yaml "$corpus/cfg_yaml/example.yaml"
awk '/^```yaml/{n++; on=1; next} /^```/{on=0} on{print > (dir "/config-" n ".yaml")}' \
    dir="$corpus/cfg_yaml" docs/config.md
mv "$corpus/cfg_yaml/config-1.yaml" "$corpus/ccfg_yaml/clustering.yaml"
printf 'curve:\n  enabled: true\n  secret_key_file: /etc/cadre/keys/server_secret\n  public_key_file: /etc/cadre/keys/server\n  authorized_keys_dir: /etc/cadre/authorized\nlog_level: debug\n' \
    >"$corpus/cfg_yaml/curve.yaml"
printf 'identity: {threshold: 0.5}\ncampaign: {weights: {keystroke: 0.9}}\n' >"$corpus/ccfg_yaml/refused.yaml"

# The binary seeds.
"$build/fuzz/fuzz_seed_gen" "$corpus"
find "$corpus" -type f | wc -l | xargs echo "seed files:"
du -sh "$corpus"
