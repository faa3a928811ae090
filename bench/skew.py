#!/usr/bin/python3
"""skew.py - skewed corpora for `make bench` (docs/bench.md, "skewed inputs").

usage: skew.py payload K IN OUT   the first K observations of IN (MessagePack, as written by
                                  `cadre gen --format msgpack`) get one more session carrying
                                  the same payload hash: one payload held by K observations
       skew.py hassh IN OUT       every observation's HASSH becomes the same value
       skew.py c2 IN OUT          every observation gets a HASSH of its own, loses its payload
                                  hashes and C2s, and gets one more session (no decky)
                                  carrying the same C2 host: one C2 held by every identity,
                                  which distinct HASSHes keep apart (the C2 cutoff is off by
                                  default), so the campaign layer sees one key shared by all

Everything else (ids, truth labels, other sessions) is copied unchanged, so the corpus can
still be scored with `cadre score`; the shared value joins observations of different truth
campaigns on purpose, so the metrics drop: the point is the cost, not the quality.
Needs only the standard library and python3-msgpack.
"""
import sys

import msgpack

PAYLOAD = "b" * 64  # sha256-sized hex, held by no generated observation
HASSH = "e" * 32    # md5-sized hex
C2 = "c2.skew.invalid:443"  # a C2 host no generated observation holds


def main(argv):
    if len(argv) == 5 and argv[1] == "payload":
        mode, k, src, dst = "payload", int(argv[2]), argv[3], argv[4]
    elif len(argv) == 4 and argv[1] in ("hassh", "c2"):
        mode, k, src, dst = argv[1], 0, argv[2], argv[3]
    else:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    n = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        pack = msgpack.Packer(use_bin_type=True).pack
        for obs in msgpack.Unpacker(fin, raw=False, strict_map_key=False, max_buffer_size=1 << 26):
            if mode == "hassh":
                obs["hassh"] = HASSH
            elif mode == "c2":
                obs["hassh"] = "%032x" % (n + 1)  # distinct, md5-sized, never "e" * 32
                sessions = [dict(s, payload_hash=None, c2=None) for s in obs.get("sessions") or []]
                extra = dict(sessions[0]) if sessions else {}
                extra.update({"id": None, "phase": "command_and_control", "payload_hash": None,
                              "commands": [], "credentials": [], "c2": C2, "decky": None})
                extra.setdefault("start", 1767225600.0)
                extra.setdefault("duration", 1.0)
                obs["sessions"] = sessions + [extra]
            elif n < k:
                sessions = obs.get("sessions") or []
                extra = dict(sessions[0]) if sessions else {}
                extra.update({"id": None, "phase": "delivery", "payload_hash": PAYLOAD,
                              "commands": [], "credentials": [], "c2": None})
                extra.setdefault("start", 1767225600.0)
                extra.setdefault("duration", 1.0)
                extra.setdefault("decky", None)
                obs["sessions"] = list(sessions) + [extra]
            fout.write(pack(obs))
            n += 1
    if mode == "payload" and n < k:
        sys.stderr.write(f"skew.py: only {n} observations, fewer than {k}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
