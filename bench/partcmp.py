#!/usr/bin/python3
"""partcmp.py A B - compares two assignment files (JSON Lines {id, identity, campaign}) as
partitions of the same observations, whatever the labels are called. Prints
"identity: equal|DIFFERENT, campaign: equal|DIFFERENT" and exits 0 when both are equal, 1
otherwise (2 when the id sets differ). Used by `make bench` to check the brute-force reference
against cadre (docs/bench.md)."""
import json
import sys


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                out[r["id"]] = (r["identity"], r["campaign"])
    return out


def same(a, b, ids, k):
    fwd, back = {}, {}
    for i in ids:
        x, y = a[i][k], b[i][k]
        if fwd.setdefault(x, y) != y or back.setdefault(y, x) != x:
            return False
    return True


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: partcmp.py A B\n")
        return 2
    a, b = load(argv[1]), load(argv[2])
    if a.keys() != b.keys():
        print("different observation sets")
        return 2
    ids = sorted(a)
    r = [same(a, b, ids, 0), same(a, b, ids, 1)]
    print(f"identity: {'equal' if r[0] else 'DIFFERENT'}, campaign: {'equal' if r[1] else 'DIFFERENT'}")
    return 0 if all(r) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
