"""syslog_fwd.py - a forwarder speaking DECNET's SWARM transport (RFC 5425 octet counting,
`LEN SP MSG`, over mutual TLS, no hostname check) and the scenarios of tests/it/syslog_tls.sh.

usage: syslog_fwd.py HOST:PORT PKI_DIR OUT_FILE SCENARIO
       FWD_FILE=LOG FWD_RANGE=FROM:TO syslog_fwd.py HOST:PORT PKI_DIR - file

PKI_DIR holds ca.crt and <name>.crt/<name>.key pairs (made by syslog_tls.sh). OUT_FILE is
what `cadre syslog-recv --out` writes: one `WORKER TAB MSG` line per message, MSG escaped
(backslash, LF, CR, TAB). Each scenario sends, then waits (against a deadline, polling the
output) for what must arrive, or for the receiver to close a connection it must close, and
exits 0 when everything held, 1 with the first reason otherwise. Every message carries
scn="<scenario>" so the shell can also check afterwards that a refused one never arrived.

The file scenario (tests/it/ship_syslog.sh) plays two SWARM workers forwarding a DECNET log:
the lines of FWD_FILE (a `cadre gen --format decnet` log) belong to worker-a or worker-b by
their HOSTNAME (deckies in order of first appearance, alternately), except that every line of
one session (cadre's session="..." parameter) goes where the session's first line went, so
a decky's lines under its cosmetic hostname stay on its worker. Lines FROM to TO-1
(0-based, over the whole file) are sent, each worker on its own connection, in batches of
at most 500 lines as DECNET's forwarder sends them; both connections then close. What
arrived is the receiver's business to show (its log says when each connection ended).
"""
import os
import re
import socket
import ssl
import sys
import time

DEADLINE_S = 20.0  # the longest any wait may take (the receiver answers in milliseconds)
MAX_FRAME = 32768  # the receiver's --max-frame in the main instance

ADDR, PKI, OUT, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
HOST, PORT = ADDR.rsplit(":", 1)
PORT = int(PORT)


class Failed(Exception):
    """A scenario's expectation did not hold; the scenario stops there."""


def fail(msg):
    raise Failed(msg)


def context(name=None, maximum=None):
    """A client context as DECNET's forwarder makes it: TLS 1.2+, our certificate, the
    receiver verified against ca.crt, no hostname check."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if maximum:
        ctx.maximum_version = maximum
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(PKI, "ca.crt"))
    if name:
        ctx.load_cert_chain(os.path.join(PKI, name + ".crt"), os.path.join(PKI, name + ".key"))
    return ctx


def connect(name=None, maximum=None):
    sock = socket.create_connection((HOST, PORT), timeout=DEADLINE_S)
    return context(name, maximum).wrap_socket(sock)


def frame(msg):
    return str(len(msg)).encode() + b" " + msg


def line(scn, i, extra=b""):
    return (b'<13>1 2026-01-02T03:04:05.000000+00:00 decky-01 ssh - login [decnet@55555 scn="'
            + scn.encode() + b'" n="' + str(i).encode() + b'" src_ip="203.0.113.9"] '
            + extra)


def escape(msg):
    return (msg.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
            .replace(b"\t", b"\\t"))


def received(worker, scn):
    """The messages of one scenario the receiver wrote for worker, in order (escaped)."""
    try:
        with open(OUT, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    tag = b'scn="' + scn.encode() + b'"'
    prefix = worker.encode() + b"\t"
    return [ln[len(prefix):] for ln in data.split(b"\n")
            if ln.startswith(prefix) and tag in ln]


def wait_for(worker, scn, want, ordered=True):
    """Waits until the receiver wrote exactly the messages want (raw) for worker: in order
    (the messages of one connection), or in any order (those of several connections)."""
    want = [escape(m) for m in want]
    deadline = time.monotonic() + DEADLINE_S
    got = []
    while time.monotonic() < deadline:
        got = received(worker, scn)
        if len(got) >= len(want):
            break
        time.sleep(0.02)
    if not ordered:
        got, want = sorted(got), sorted(want)
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
        fail("%s/%s: %d messages wanted, %d written (first difference at %s)"
             % (scn, worker, len(want), len(got), first))


def closed_by_receiver(sock):
    """True when the receiver closes the connection (EOF, reset or a TLS alert) before the
    deadline; a connection still open then is a failure."""
    sock.settimeout(DEADLINE_S)
    try:
        data = sock.recv(1)
        return data == b""
    except (ssl.SSLError, ConnectionError, OSError) as e:
        if isinstance(e, socket.timeout):
            return False
        return True


def refused(name, scn, maximum=None):
    """A client the receiver must refuse: its handshake fails, or the connection is closed
    right after it (the shell checks that what it sent never arrived)."""
    try:
        s = connect(name, maximum)
    except (ssl.SSLError, ConnectionError, OSError) as e:
        print("  %s: handshake refused (%s)" % (scn, e))
        return
    # TLS 1.3: the client's handshake may end before the receiver has checked its
    # certificate, so the refusal arrives as an alert or an EOF on the next read.
    try:
        s.sendall(frame(line(scn, 0)))
    except (ssl.SSLError, ConnectionError, OSError):
        return
    ok = closed_by_receiver(s)
    s.close()
    if not ok:
        fail("%s: the receiver kept the connection open" % scn)


# ------------------------------------------------------------------------------------------
# Scenarios


def sc_lines():
    """Two workers at once (TLS 1.3 and TLS 1.2), DECNET lines with UTF-8, an LF, a TAB and a
    backslash inside, frames of 20000 bytes and of exactly --max-frame (several TLS records
    each), empty frames, written split at odd byte boundaries (each write is its own TLS
    record, so frames are split across records) and as back-to-back batches."""
    msgs = {"worker-a": [], "worker-b": []}
    for w in msgs:
        for i in range(400):
            extra = b"caf\xc3\xa9 \xe2\x9c\x93 login as root"
            if i % 50 == 7:
                extra = b"a\ttab, a back\\slash and an\nLF inside the frame"
            msgs[w].append(line("lines", i, extra))
        big = line("lines", 400, b"")
        msgs[w].append(big + b"x" * (20000 - len(big)))
        msgs[w].append(big + b"y" * (MAX_FRAME - len(big)))
        msgs[w].append(line("lines", 402, b"the last one"))
    a = connect("worker-a", ssl.TLSVersion.TLSv1_3)
    b = connect("worker-b", ssl.TLSVersion.TLSv1_2)
    if a.version() != "TLSv1.3" or b.version() != "TLSv1.2":
        fail("lines: negotiated %s and %s" % (a.version(), b.version()))
    stream_a = b"".join(frame(m) for m in msgs["worker-a"])
    # worker-b's stream carries empty frames too; the receiver skips them.
    stream_b = b"".join(frame(m) + (b"0 " if i % 100 == 3 else b"")
                        for i, m in enumerate(msgs["worker-b"]))
    sizes = [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 997, 4099, 16411]
    pa = pb = k = 0
    batch = len(stream_b) // 23 + 1  # batches ending at arbitrary places, mid-frame too
    while pa < len(stream_a) or pb < len(stream_b):
        if pa < len(stream_a):
            n = sizes[k % len(sizes)]
            a.sendall(stream_a[pa:pa + n])
            pa += n
        if pb < len(stream_b) and (k % 40 == 0 or pa >= len(stream_a)):
            b.sendall(stream_b[pb:pb + batch])
            pb += batch
        k += 1
    wait_for("worker-a", "lines", msgs["worker-a"])
    wait_for("worker-b", "lines", msgs["worker-b"])
    a.unwrap()  # a TLS close_notify
    a.close()
    b.close()   # no close_notify, as DECNET's forwarder drops a connection


def sc_unknown_ca():
    """A certificate from another CA, with a worker's CN: refused."""
    refused("rogue-worker-a", "unknown_ca", ssl.TLSVersion.TLSv1_3)
    refused("rogue-worker-a", "unknown_ca", ssl.TLSVersion.TLSv1_2)


def sc_no_cert():
    """No client certificate at all: refused."""
    refused(None, "no_cert", ssl.TLSVersion.TLSv1_3)
    refused(None, "no_cert", ssl.TLSVersion.TLSv1_2)


def sc_no_cn():
    """A certificate of the right CA without a CN: refused (no provenance)."""
    refused("no-cn", "no_cn")


def sc_bad_length():
    """Framing errors close only their own connection: worker-a keeps sending on its
    connection before and after worker-b's bad length, an LF-framed line and an 11-digit
    length are closed too, and worker-b's good frame before the fault arrives."""
    keep = [line("bad_length_keep", i) for i in range(10)]
    a = connect("worker-a")
    a.sendall(b"".join(frame(m) for m in keep[:5]))
    wait_for("worker-a", "bad_length_keep", keep[:5])
    good = line("bad_length", 0, b"before the fault")
    for garbage in (b"12x hello", b"<13>1 2026-01-02T03:04:05Z host app - - - plain LF\n",
                    b"00000000001 x"):
        b = connect("worker-b")
        b.sendall(frame(good) + garbage)
        if not closed_by_receiver(b):
            fail("bad_length: %r did not close its connection" % garbage[:12])
        b.close()
    wait_for("worker-b", "bad_length", [good] * 3)
    a.sendall(b"".join(frame(m) for m in keep[5:]))
    wait_for("worker-a", "bad_length_keep", keep)
    a.close()


def sc_oversize():
    """A MSG-LEN over --max-frame closes the connection at its header, before the body."""
    s = connect("worker-a")
    s.sendall(b"%d " % (MAX_FRAME + 1))
    if not closed_by_receiver(s):
        fail("oversize: a frame over the cap was not refused")
    s.close()


def sc_truncated():
    """A connection that ends inside a frame (the receiver counts it)."""
    s = connect("worker-a")
    s.sendall(frame(line("truncated", 0)) + b"100 abc")
    wait_for("worker-a", "truncated", [line("truncated", 0)])
    s.close()


def sc_cap():
    """With --max-conns 4 and four connections open, a fifth is refused; once one closes, a
    new connection gets in."""
    held = []
    for i in range(4):
        s = connect("worker-a")
        s.sendall(frame(line("cap", i)))
        held.append(s)
    wait_for("worker-a", "cap", [line("cap", i) for i in range(4)], ordered=False)
    refused("worker-a", "cap_refused")
    held.pop().close()
    deadline = time.monotonic() + DEADLINE_S
    while True:  # the receiver notices the close within a round; until then it refuses
        try:
            s = connect("worker-a")
            s.sendall(frame(line("cap", 4)))
            break
        except (ssl.SSLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                fail("cap: no connection got in after one closed")
            time.sleep(0.02)
    wait_for("worker-a", "cap", [line("cap", i) for i in range(5)], ordered=False)
    held.append(s)
    for s in held:
        s.close()


def sc_idle():
    """(--idle-ms 300) A worker silent after its first frame is closed, and so is one silent
    from its handshake on."""
    s = connect("worker-a")
    s.sendall(frame(line("idle", 0)))
    wait_for("worker-a", "idle", [line("idle", 0)])
    if not closed_by_receiver(s):
        fail("idle: a worker silent after a frame was not closed")
    s.close()
    s = connect("worker-b")
    if not closed_by_receiver(s):
        fail("idle: a worker silent after its handshake was not closed")
    s.close()


def sc_handshake():
    """(--handshake-ms 300) A TCP connection that never starts TLS is closed."""
    s = socket.create_connection((HOST, PORT), timeout=DEADLINE_S)
    try:
        data = s.recv(1)
        if data != b"":
            fail("handshake: the receiver sent %r" % data)
    except socket.timeout:
        fail("handshake: a connection without a handshake was not closed")
    except (ConnectionError, OSError):
        pass
    s.close()


def bio_connect(name):
    """A TLS connection whose bytes the test handles itself (ssl.MemoryBIO over a plain
    socket), so a TLS record can be cut anywhere: returns (socket, SSLObject, outgoing BIO)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context(name).wrap_bio(incoming, outgoing)
    sock = socket.create_connection((HOST, PORT), timeout=DEADLINE_S)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            data = sock.recv(65536)
            if not data:
                fail("stall: the receiver closed during the handshake")
            incoming.write(data)
    sock.sendall(outgoing.read())
    return sock, tls, outgoing


def sc_stall():
    """A worker that stops in the middle of a TLS record, and a client that stops in the
    middle of its ClientHello, hold up nobody: another worker's frames arrive meanwhile; the
    stalled record's frame arrives once the rest of it does."""
    sock, tls, outgoing = bio_connect("worker-b")
    stalled = line("stall", 0, b"cut inside its TLS record")
    tls.write(frame(stalled))
    record = outgoing.read()
    sock.sendall(record[:len(record) // 2])
    hello_ctx = context("worker-a")
    hello_in, hello_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    hello = hello_ctx.wrap_bio(hello_in, hello_out)
    try:
        hello.do_handshake()
    except ssl.SSLWantReadError:
        pass
    client_hello = hello_out.read()
    raw = socket.create_connection((HOST, PORT), timeout=DEADLINE_S)
    raw.sendall(client_hello[:len(client_hello) // 2])
    flowing = [line("stall_other", i) for i in range(3)]
    a = connect("worker-a")
    for m in flowing:
        a.sendall(frame(m))
        wait_for("worker-a", "stall_other", flowing[:flowing.index(m) + 1])
    wait_for("worker-b", "stall", [])
    sock.sendall(record[len(record) // 2:])
    wait_for("worker-b", "stall", [stalled])
    for s in (a, sock, raw):
        s.close()


def sc_file():
    """Two workers forward their share of a DECNET log's lines FROM:TO (see the top)."""
    with open(os.environ["FWD_FILE"], "rb") as f:
        lines = [ln.rstrip(b"\n") for ln in f if ln.strip()]
    start, stop = (int(x) for x in os.environ["FWD_RANGE"].split(":"))
    owner, sess_owner, names = {}, {}, ["worker-a", "worker-b"]
    share = {n: [] for n in names}
    for i, ln in enumerate(lines):
        host = ln.split(b" ", 3)[2]
        m = re.search(rb' session="([^"]*)"', ln)
        sess = m.group(1) if m else None
        if sess in sess_owner:
            w = sess_owner[sess]
        elif host in owner:
            w = owner[host]
        else:
            w = names[len(owner) % 2]
        owner.setdefault(host, w)
        if sess is not None:
            sess_owner.setdefault(sess, w)
        if start <= i < stop:
            share[w].append(ln)
    conns = {n: connect(n) for n in names if share[n]}
    k = 0
    while any(k < len(share[n]) for n in conns):
        for n, s in conns.items():
            s.sendall(b"".join(frame(m) for m in share[n][k:k + 500]))
        k += 500
    for s in conns.values():
        s.close()  # no close_notify, as DECNET's forwarder drops a connection
    print("  file: %s sent" % ", ".join("%s %d" % (n, len(share[n])) for n in names))


SCENARIOS = {
    "lines": sc_lines, "unknown_ca": sc_unknown_ca, "no_cert": sc_no_cert, "no_cn": sc_no_cn,
    "bad_length": sc_bad_length, "oversize": sc_oversize, "truncated": sc_truncated,
    "cap": sc_cap, "idle": sc_idle, "handshake": sc_handshake, "stall": sc_stall,
    "file": sc_file,
}

if __name__ == "__main__":
    try:
        SCENARIOS[SCENARIO]()
    except Failed as e:
        print("  %s: %s" % (SCENARIO, e), file=sys.stderr)
        sys.exit(1)
