#!/usr/bin/python3
"""decnet_rt.py - helpers of the DECNET round-trip test (tests/it/decnet.sh).

  decnet_rt.py spec SEED        prints a random campaign DSL spec (1-4 campaigns of 1-3
                                actors with colliding fingerprints, C2s and payloads, handoff
                                phases, pauses, rotations, keystroke hashes), the shape of
                                tests/unit/test_equivalence.c's s_random_spec, mirrored with
                                Python's random; C2 values are host names or addresses, or
                                empty
  decnet_rt.py records A B      compares two observation files (JSON Lines) record by record,
                                whatever their order; exit 1 on any difference
  decnet_rt.py strip IN OUT     the generator's records less what DECNET lines cannot carry:
                                asn, hassh and kd_simhash removed, ids "decnet:<ip>"
  decnet_rt.py parts A B        compares two assignment files as partitions of the same ids
                                (identity and campaign layers); exit 1 when either differs
"""
import json
import random
import sys

PHASES = ["reconnaissance", "resource_development", "weaponization", "delivery",
          "social_engineering", "exploitation", "persistence", "defense_evasion",
          "command_and_control", "pivoting", "discovery", "privilege_escalation", "execution",
          "credential_access", "lateral_movement", "collection", "exfiltration", "impact",
          "objectives"]
HANDOFF = ["command_and_control", "persistence", "discovery", "lateral_movement"]
KDS = ["9e3779b97f4a7c15", "9e3779b97f4a7c14", "0000000000000000", "9e3779b97f4a7cea"]
C2S = ["c2-a.example.net", "198.51.100.77", ""]
PAYLOADS = ["pay-a", "pay-b", ""]
JA3S = [None, "ja3-a", "ja3-b", "ja3-c", "ja3-d", "ja3-e", ""]
HASSHS = [None, "hassh-a", "hassh-b", "hassh-c", ""]
COMMANDS = ["ls", "id", "whoami", "uname -a", "cat /etc/passwd | grep \"root]\""]
DWELLS = ["0", "1", "5", "600", "3600", "14400", "0.25"]


def chance(r, pct):
    return r.randrange(100) < pct


def spec(seed):
    r = random.Random(seed)
    out = ["corpus:", "  campaigns:"]
    for c in range(1 + r.randrange(4)):
        st = {"c2": r.choice(C2S) if chance(r, 50) else None,
              "payload": r.choice(PAYLOADS) if chance(r, 30) else None,
              "kd": r.choice(KDS) if chance(r, 30) else None,
              "hour": r.randrange(24),
              "prev": r.choice([0, 40, 80]), "handoff": r.choice([0, 40, 80])}
        days = 1 + r.randrange(4)
        out += ["    - campaign:", f"        id: camp-{c}", f"        duration_days: {days}"]
        if chance(r, 30):
            a = r.randrange(days)
            out.append(f"        pause_windows: [[{a}, {a + r.randrange(3)}]]")
        out.append("        actors:")
        n_actors = 1 + r.randrange(3)
        for a in range(n_actors):
            out += [f"          - id: act-{a}", f"            asn: {64512 + r.randrange(4)}"]
            if chance(r, 40):
                out += ["            ip_pool: rotating",
                        f"            rotation_count: {1 + r.randrange(4)}"]
                if chance(r, 50):
                    out.append("            rotation_asns: [64520, 64521]")
            else:
                out.append("            ip_pool: sticky")
            for key, pool in (("ja3", JA3S), ("hassh", HASSHS)):
                v = r.choice(pool)
                if v is not None:
                    out.append(f"            {key}: \"{v}\"")
            hours = [(st["hour"] + r.randrange(4)) % 24 if chance(r, 80) else r.randrange(24)
                     for _ in range(1 + r.randrange(3))]
            out.append(f"            hours_active_utc: {hours}")
            out.append(f"            jitter_seconds: {r.choice([0, 60, 600])}")
            if chance(r, 30):
                out.append(f"            active_days: "
                           f"{[r.randrange(days + 1) for _ in range(1 + r.randrange(3))]}")
            if st["kd"] and chance(r, 70):
                out.append(f"            kd_simhash: \"{st['kd']}\"")
            elif chance(r, 30):
                out.append(f"            kd_simhash: \"{r.choice(KDS)}\"")
        out.append("        phases:")
        for _ in range(1 + r.randrange(8)):
            phase = r.choice(HANDOFF) if chance(r, st["handoff"]) else r.choice(PHASES)
            sig = []
            if chance(r, 30):
                cmds = [json.dumps(r.choice(COMMANDS)) for _ in range(r.randrange(4))]
                sig.append(f"commands: [{', '.join(cmds)}]")
            if chance(r, 30):
                creds = "[\"root\", \"toor\"]" + (", [\"admin\", \"adm]in\\\"\"]"
                                                  if chance(r, 50) else "")
                sig.append(f"credentials: [{creds}]")
            if st["c2"] is not None and chance(r, 70):
                sig.append(f"c2_callback: \"{st['c2']}\"")
            elif chance(r, 25):
                sig.append(f"c2_callback: \"{r.choice(C2S)}\"")
            if st["payload"] is not None and chance(r, 50):
                sig.append(f"payload_hash: \"{st['payload']}\"")
            elif chance(r, 20):
                sig.append(f"payload_hash: \"{r.choice(PAYLOADS)}\"")
            prev = ", decky: previous_success" if chance(r, st["prev"]) else ""
            out += [f"          - name: {phase}",
                    f"            actor: act-{r.randrange(n_actors)}",
                    f"            tool_signature: {{{', '.join(sig)}}}",
                    f"            target_selector: {{count: {r.randrange(5)}{prev}}}",
                    f"            dwell_seconds: {r.choice(DWELLS)}"]
    out += ["  noise:", f"    scanner_count: {r.randrange(6)}"]
    return "\n".join(out) + "\n"


def load(path):
    recs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                recs[r["id"]] = r
    return recs


def records(a_path, b_path):
    a, b = load(a_path), load(b_path)
    bad = 0
    if a.keys() != b.keys():
        print(f"ids differ: {sorted(a.keys() ^ b.keys())[:5]}")
        return 1
    for k in sorted(a):
        if a[k] != b[k]:
            bad += 1
            if bad <= 3:
                fields = [f for f in set(a[k]) | set(b[k]) if a[k].get(f) != b[k].get(f)]
                print(f"{k}: fields {sorted(fields)} differ")
    print(f"{len(a)} records, {bad} differ")
    return 1 if bad else 0


def strip(in_path, out_path):
    with open(in_path) as f, open(out_path, "w") as out:
        for line in f:
            if line.strip():
                r = json.loads(line)
                r["id"] = "decnet:" + r["ip"]
                r["asn"] = r["hassh"] = None
                r.pop("kd_simhash", None)
                out.write(json.dumps(r, sort_keys=True) + "\n")
    return 0


def parts(a_path, b_path):
    def assignments(path):
        out = {}
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    out[r["id"]] = (r["identity"], r["campaign"])
        return out

    a, b = assignments(a_path), assignments(b_path)
    if a.keys() != b.keys():
        print("different observation sets")
        return 1

    def same(k):
        fwd, back = {}, {}
        for i in a:
            x, y = a[i][k], b[i][k]
            if fwd.setdefault(x, y) != y or back.setdefault(y, x) != x:
                return False
        return True

    r = [same(0), same(1)]
    print(f"identity: {'equal' if r[0] else 'DIFFERENT'}, "
          f"campaign: {'equal' if r[1] else 'DIFFERENT'}")
    return 0 if all(r) else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "spec":
        sys.stdout.write(spec(int(argv[2])))
        return 0
    if len(argv) == 4 and argv[1] in ("records", "strip", "parts"):
        return {"records": records, "strip": strip, "parts": parts}[argv[1]](argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
