#!/usr/bin/python3
"""delay_hub.py - an Ethernet hub that delays every frame, for kernels without sch_netem
(tests/it/net_lib.sh, hub_links). Standard library only.

usage: delay_hub.py --delay-ms MS TAP...

Creates one TAP device per name in the namespace it runs in (the hub's), prints "ready" on
standard output once they all exist, and then forwards every frame read from one TAP to the
TAP that last sent from the frame's destination MAC address (to every other TAP when it is
unknown, broadcast or multicast), MS milliseconds after it was read. The caller moves each
TAP into its host's namespace (`ip link set TAP netns NS name eth0`): the device keeps its
file descriptor, so the hub goes on serving it there. A host's traffic to another host is
thus delayed by MS one way, as netem on each host's link would delay it. The delay is
constant, so each output is a FIFO and frames leave in the order they came.

Runs until TERM or INT, or until every TAP is gone; the TAPs disappear with the process.
"""
import collections
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
FRAME_MAX = 65536 + 64


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main(argv):
    if len(argv) < 4 or argv[1] != "--delay-ms":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    delay = float(argv[2]) / 1000.0
    fds = [open_tap(name) for name in argv[3:]]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("ready", flush=True)
    where = {}  # MAC -> index of the TAP it was last seen on
    queues = [collections.deque() for _ in fds]  # per output: (due, frame)
    poll = select.poll()
    for fd in fds:
        poll.register(fd, select.POLLIN)
    alive = len(fds)
    while not stop and alive:
        now = time.monotonic()
        due = min((q[0][0] for q in queues if q), default=None)
        timeout = None if due is None else max(0.0, due - now) * 1000.0
        try:
            events = poll.poll(timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, ev in events:
            if ev & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                poll.unregister(fd)
                alive -= 1
                continue
            src = fds.index(fd)
            for _ in range(64):
                try:
                    frame = os.read(fd, FRAME_MAX)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if len(frame) < 14:
                    continue
                where[frame[6:12]] = src
                out = where.get(frame[0:6]) if not frame[0] & 1 else None
                targets = [out] if out is not None else [i for i in range(len(fds)) if i != src]
                for t in targets:
                    if t != src:
                        queues[t].append((now + delay, frame))
        now = time.monotonic()
        for i, q in enumerate(queues):
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    os.write(fds[i], frame)
                except OSError:
                    pass  # the TAP is down or full: dropped, as a link would
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
