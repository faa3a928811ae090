#!/usr/bin/python3
"""appendify.py CORPUS OUT [SEED [WHOLE_OUT]] - turns a generated corpus (cadre JSON Lines) into a stream of
appends, as a fleet of sensors would send it (docs/schema.md "Appends"):

  - every record is split into 1-3 appends (op "append", same id), each carrying a share of
    its sessions; its fingerprints, ip and asn go with the append holding its earliest
    session, so the merged record has the original's values;
  - about one append in five is sent twice, the second time later in the stream
    (idempotent: nothing changes);
  - the appends of different records are interleaved at random, and the appends of one
    record come in a random order among themselves (order-free);
  - about one record in ten is deleted after all its appends and appended again from
    scratch, and one in ten first written whole as an upsert, then appended to.

With WHOLE_OUT, every record first gets further fingerprints (docs/schema.md: jarm, ja4h,
ssh_client from pools of 40 values, so each links a few records across identities; one kind
the engine does not use) and the records so changed are written to WHOLE_OUT before being split.

Merging the appends of a record gives the original record up to the order of its sessions
(canonical: by start, then id) and its append_at provenance, so clustering the stream gives
the partitions of clustering the corpus (checked by tests/it/engine.sh)."""
import json
import random
import sys


def split(rec, rng):
    sessions = rec.get("sessions") or []
    k = min(len(sessions), rng.randint(1, 3)) or 1
    parts = [[] for _ in range(k)]
    for i, s in enumerate(sessions):
        parts[i % k if i < k else rng.randrange(k)].append(s)
    earliest = min(range(k), key=lambda j: min((s["start"] for s in parts[j]), default=1e300))
    out = []
    for j, part in enumerate(parts):
        a = {"id": rec["id"], "op": "append", "sessions": part}
        if j == earliest:
            for key in ("ip", "asn", "ja3", "ja4", "hassh", "kd_simhash", "truth",
                        "fingerprints"):
                if rec.get(key) is not None:
                    a[key] = rec[key]
        out.append(a)
    return out


def main(argv):
    src, dst = argv[1], argv[2]
    rng = random.Random(int(argv[3]) if len(argv) > 3 else 7)
    recs = [json.loads(line) for line in open(src) if line.strip()]
    if len(argv) > 4:
        # Pools large enough that a value is held by a few records (below the generic
        # cutoff of 16): a value held by many would be generic and link nothing.
        pools = {"jarm": ["j%d" % i for i in range(40)] + [""],
                 "ja4h": ["h%d" % i for i in range(40)],
                 "ssh_client": ["SSH-2.0-c%d" % i for i in range(40)], "unused_kind": ["u1"]}
        for rec in recs:
            fps = {}
            for kind, pool in pools.items():
                if rng.random() < 0.15:
                    fps[kind] = rng.choice(pool)
            if fps:
                rec["fingerprints"] = fps
        with open(argv[4], "w") as out:
            for rec in recs:
                out.write(json.dumps(rec, sort_keys=True) + "\n")
    queues = []
    for n, rec in enumerate(recs):
        appends = split(rec, rng)
        rng.shuffle(appends)
        q = []
        if n % 10 == 3:
            q.append(rec)  # upserted whole first; the appends then change nothing
        q.extend(appends)
        if n % 10 == 7:
            q.append({"id": rec["id"], "op": "delete"})
            again = split(rec, rng)
            rng.shuffle(again)
            q.extend(again)
        for a in list(appends):
            if rng.random() < 0.2:
                q.append(a)  # resent later: changes nothing
        queues.append(q)
    with open(dst, "w") as out:
        live = [q for q in queues if q]
        while live:
            q = rng.choice(live)
            out.write(json.dumps(q.pop(0), sort_keys=True) + "\n")
            if not q:
                live.remove(q)


if __name__ == "__main__":
    main(sys.argv)
