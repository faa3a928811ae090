#!/usr/bin/env python3
"""subscribe.py - a cadre event subscriber written against the wire protocol alone.

cadre's merger publishes every change of its stable ids on a ZeroMQ PUB socket
(`merger.events` in the deployment's configuration). Each event is two frames:

    frame 0   the topic, e.g. "identity.merged" (subscriptions filter on its prefix)
    frame 1   the MessagePack envelope {id, payload, topic, ts, type, v}

(docs/events.md, docs/protocol.md). This example uses nothing of cadre's code: only
Debian's python3-zmq and python3-msgpack, the stack a consumer such as DECNET would use.
It checks every envelope strictly (the six keys, v == 1, the topic frame equal to the
envelope's topic, the type equal to the topic's leaf, the payload's keys and value types
for that topic) and prints each event as one JSON line. The lines are byte-identical to
`cadre cluster --events` (the keys sorted, Python's json.dumps separators and float repr).

    python3 subscribe.py --endpoint ipc:///run/cadre/events.sock --topic campaign. --count 10

Exit status: 0 after --count events (or after --timeout seconds without an event when no
count is given), 1 when fewer than --count events arrived before the timeout, 65 on a
malformed event (EX_DATAERR), 2 on a usage error. "subscribed to ENDPOINT" goes to stderr
once the connection's handshake is done, so a caller knows when publishing may start.
"""

import argparse
import json
import math
import sys

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

EX_DATAERR = 65
ENVELOPE_VERSION = 1
ENVELOPE_KEYS = {"id", "payload", "topic", "ts", "type", "v"}

# topic -> (type, payload keys holding one id, keys holding an id or None, key of a list)
TOPICS = {
    "identity.formed": ("formed", {"identity_uuid"}, set(), "observation_uuids"),
    "identity.observation.linked": (
        "linked", {"identity_uuid", "observation_uuid"}, {"prior_identity_uuid"}, None),
    "identity.merged": ("merged", {"loser_uuid", "winner_uuid"}, set(), None),
    "identity.unmerged": ("unmerged", {"former_winner_uuid", "resurrected_uuid"}, set(), None),
    "identity.campaign.assigned": (
        "assigned", {"campaign_uuid", "identity_uuid"}, {"prior_campaign_uuid"}, None),
    "campaign.formed": ("formed", {"campaign_uuid"}, set(), "identity_uuids"),
    "campaign.identity.assigned": (
        "assigned", {"campaign_uuid", "identity_uuid"}, {"prior_campaign_uuid"}, None),
    "campaign.merged": ("merged", {"loser_uuid", "winner_uuid"}, set(), None),
    "campaign.unmerged": ("unmerged", {"former_winner_uuid", "resurrected_uuid"}, set(), None),
}


class Malformed(Exception):
    """An event that breaks docs/events.md."""


def decode_event(frames):
    """Checks one published message and returns its envelope as a dict."""
    if len(frames) != 2:
        raise Malformed(f"{len(frames)} frames, expected 2 (topic, envelope)")
    try:
        topic = frames[0].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"topic frame is not UTF-8: {exc}") from exc
    try:
        env = msgpack.unpackb(frames[1], raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several types for bad input
        raise Malformed(f"envelope is not one MessagePack value: {exc}") from exc
    if not isinstance(env, dict):
        raise Malformed(f"envelope is a {type(env).__name__}, not a map")
    if set(env) != ENVELOPE_KEYS:
        raise Malformed(f"envelope keys {sorted(env)}, expected {sorted(ENVELOPE_KEYS)}")
    v = env["v"]
    if not isinstance(v, int) or isinstance(v, bool) or v != ENVELOPE_VERSION:
        raise Malformed(f"envelope version {v!r}, expected {ENVELOPE_VERSION}")
    if env["topic"] != topic:
        raise Malformed(f"topic frame {topic!r} but envelope topic {env['topic']!r}")
    if topic not in TOPICS:
        raise Malformed(f"unknown topic {topic!r}")
    etype, ids, priors, members = TOPICS[topic]
    if env["type"] != etype:
        raise Malformed(f"type {env['type']!r} on {topic}, expected {etype!r}")
    if not isinstance(env["id"], str) or not env["id"]:
        raise Malformed("id is not a non-empty string")
    ts = env["ts"]
    if not isinstance(ts, float) or not math.isfinite(ts):
        raise Malformed(f"ts {ts!r} is not a finite float")
    payload = env["payload"]
    if not isinstance(payload, dict):
        raise Malformed("payload is not a map")
    want = ids | priors | ({members} if members else set())
    if set(payload) != want:
        raise Malformed(f"{topic} payload keys {sorted(payload)}, expected {sorted(want)}")
    for key in ids:
        if not isinstance(payload[key], str):
            raise Malformed(f"{key} is not a string")
    for key in priors:
        if payload[key] is not None and not isinstance(payload[key], str):
            raise Malformed(f"{key} is neither a string nor null")
    if members and not (isinstance(payload[members], list)
                        and all(isinstance(m, str) for m in payload[members])):
        raise Malformed(f"{members} is not a list of strings")
    return env


def connect(sock, endpoint, timeout_ms):
    """Connects and waits until the ZeroMQ handshake with the publisher succeeded. The
    monitor is attached before connecting, so the event cannot be missed."""
    mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    try:
        sock.connect(endpoint)
        if not mon.poll(timeout_ms):
            return False
        recv_monitor_message(mon)
        return True
    finally:
        sock.disable_monitor()
        mon.close(linger=0)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print and check cadre events (docs/events.md).")
    ap.add_argument("--endpoint", required=True,
                    help="the merger's events endpoint (merger.events), e.g. ipc:///run/cadre/events.sock")
    ap.add_argument("--topic", default="",
                    help="topic prefix to subscribe to (default: every topic)")
    ap.add_argument("--count", type=int, default=0,
                    help="stop after this many events (default: run until --timeout)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds without an event before giving up (default 10)")
    args = ap.parse_args(argv)
    if args.count < 0 or args.timeout <= 0:
        ap.error("--count wants >= 0 and --timeout > 0")

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)  # never drop an event for want of buffer
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt_string(zmq.SUBSCRIBE, args.topic)
    timeout_ms = int(args.timeout * 1000)
    try:
        if not connect(sock, args.endpoint, timeout_ms):
            print(f"subscribe.py: no connection to {args.endpoint}", file=sys.stderr)
            return 1
        print(f"subscribed to {args.endpoint}", file=sys.stderr, flush=True)
        got = 0
        while args.count == 0 or got < args.count:
            if not sock.poll(timeout_ms):
                if args.count:
                    print(f"subscribe.py: {got} of {args.count} events", file=sys.stderr)
                    return 1
                return 0
            frames = sock.recv_multipart()
            try:
                env = decode_event(frames)
            except Malformed as exc:
                print(f"subscribe.py: malformed event {got + 1}: {exc}", file=sys.stderr)
                return EX_DATAERR
            if args.topic and not env["topic"].startswith(args.topic):
                print(f"subscribe.py: {env['topic']} is outside {args.topic!r}", file=sys.stderr)
                return EX_DATAERR
            print(json.dumps(env, sort_keys=True), flush=True)
            got += 1
        return 0
    finally:
        sock.close(linger=0)
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
