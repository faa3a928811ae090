#!/usr/bin/python3
"""ship_check.py [--firsts] TEE INGEST - checks what `cadre ship --tee TEE` sent against `cadre ingest
cowrie` of the same logs (INGEST, JSON Lines), for tests/it/ship_crash.sh.

The appends of TEE are merged the way the broker merges them (docs/schema.md "Appends":
sessions by id). The check fails when
  - one session id of one observation was sent with two different contents: merging would
    keep only one of them (a part sent again after a restart must be the same part);
  - the merged observations are not those of INGEST: the same ids, ip and hassh, and per
    observation the same multiset of (phase, command) and of credentials, the same payload
    hashes, C2 hosts and deckies, the same first start and last end. Multisets catch a part
    counted twice; a session cut into parts (docs/ship.md) keeps all of these.
Lines that do not parse (a shipper killed in the middle of a write) are skipped: the part
they belonged to is sent again, whole, after the restart. Prints one summary line.

--firsts (DECNET input): a DECNET session run's payload hash and C2 host are the first of
the run (docs/decnet.md §3.3), so a run cut into parts has one per part, and the merged
payloads and C2 hosts may be more than ingest's; they must still include all of ingest's."""
import json
import sys
from collections import Counter


def canon(s):
    return json.dumps(s, sort_keys=True)


def summary(sessions):
    cmds, creds, pay, c2, deck = Counter(), Counter(), set(), set(), set()
    first, last = None, None
    for s in sessions:
        for c in s.get("commands") or []:
            cmds[(s.get("phase"), c)] += 1
        for u, p in s.get("credentials") or []:
            creds[(u, p)] += 1
        if s.get("payload_hash"):
            pay.add(s["payload_hash"])
        if s.get("c2"):
            c2.add(s["c2"])
        if s.get("decky"):
            deck.add(s["decky"])
        st, en = s.get("start"), s.get("start", 0) + s.get("duration", 0)
        first = st if first is None or st < first else first
        last = en if last is None or en > last else last
    return cmds, creds, pay, c2, deck, first, last


def main(argv):
    firsts = len(argv) > 1 and argv[1] == "--firsts"
    if firsts:
        argv = argv[:1] + argv[2:]
    if len(argv) != 3:
        sys.stderr.write("usage: ship_check.py [--firsts] TEE INGEST\n")
        return 2
    sent, skipped, resent = {}, 0, 0
    fields = {}
    bad = []
    with open(argv[1]) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            oid = r["id"]
            obs = sent.setdefault(oid, {})
            fv = fields.setdefault(oid, {})
            for k in ("ip", "hassh"):
                if r.get(k) is not None:
                    fv.setdefault(k, set()).add(r[k])
            for s in r.get("sessions") or []:
                c = canon(s)
                old = obs.get(s["id"])
                if old is None:
                    obs[s["id"]] = c
                elif old == c:
                    resent += 1
                else:
                    bad.append("%s: session %s sent with two contents" % (oid, s["id"]))
    want = {}
    with open(argv[2]) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                want[r["id"]] = r
    if set(sent) != set(want):
        bad.append("observations: %d sent, %d in ingest, %d only sent, %d only in ingest" % (
            len(sent), len(want), len(set(sent) - set(want)), len(set(want) - set(sent))))
    parts = 0
    for oid in sorted(set(sent) & set(want)):
        got_s = [json.loads(c) for c in sent[oid].values()]
        parts += sum(1 for s in got_s if "@" in s["id"])
        w = want[oid]
        for k in ("ip", "hassh"):
            g = fields[oid].get(k, set())
            if (w.get(k) is None and g) or (w.get(k) is not None and g != {w[k]}):
                bad.append("%s: %s %s, ingest %s" % (oid, k, sorted(g), w.get(k)))
        a, b = summary(got_s), summary(w.get("sessions") or [])
        names = ("commands", "credentials", "payloads", "c2", "deckies", "first start", "last end")
        for name, x, y in zip(names, a, b):
            same = abs(x - y) < 1e-6 if isinstance(x, float) and isinstance(y, float) else x == y
            if firsts and name in ("payloads", "c2"):
                same = x >= y
            if not same:
                bad.append("%s: %s differ" % (oid, name))
    print("%d observations, %d sessions sent (%d parts of split sessions), %d sent again, "
          "%d lines skipped" % (len(sent), sum(len(v) for v in sent.values()), parts, resent,
                                skipped))
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
