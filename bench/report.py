#!/usr/bin/python3
"""report.py CSV NOTES - derives the scaling figures from the raw rows bench/run.sh wrote
(time per observation, the fitted exponent, the N-host model), appends them to CSV as rows,
and prints results.md: the targets of issue 6 with their status, then every row.
Standard library only."""
import csv
import math
import os
import re
import sys

FIELDS = ["measurement", "n", "runs", "median_s", "obs_per_s", "peak_rss_mib", "ratio",
          "verified", "command"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fit_loglog(points):
    """Least squares slope of log t over log n; None with fewer than two points."""
    pts = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t and t > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def fit_amdahl(points):
    """t(s) = a + b / s by least squares over (1/s, t); None with fewer than two points."""
    if len(points) < 2:
        return None
    xs = [1.0 / s for s, _ in points]
    ys = [t for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def field(text, pattern):
    m = re.search(pattern, text)
    return num(m.group(1)) if m else None


def throttled(rows):
    """The throttle_shards_S rows that ran, by S, with their figures parsed from `verified`."""
    out = []
    for r in rows:
        if not r["measurement"].startswith("throttle_shards_") or not num(r["median_s"]):
            continue
        v = r["verified"]
        out.append({
            "s": int(r["measurement"].rsplit("_", 1)[1]), "n": int(r["n"]),
            "median_s": num(r["median_s"]), "obs_per_s": num(r["obs_per_s"]) or 0,
            "verified": v.split(";", 1)[0],
            "client": field(v, r"client ([0-9.]+)"), "broker": field(v, r"broker ([0-9.]+)"),
            "merger": field(v, r"merger ([0-9.]+)"), "shards": field(v, r"shards ([0-9.]+) in all"),
            "busiest": field(v, r"busiest shard ([0-9.]+);"),
            "used": field(v, r"used ([0-9.]+)% of its quota"),
            "throttled": field(v, r"throttled in ([0-9.]+)% of periods"),
            "quota": field(v, r"quota ([0-9.]+)% of a core"),
            "entries": field(v, r"routing: busiest shard ([0-9]+) entries"),
            "keys": field(v, r"routing: busiest shard [0-9]+ entries, ([0-9]+) keys"),
        })
    out.sort(key=lambda t: t["s"])
    one = out[0] if out and out[0]["s"] == 1 else None
    for t in out:
        t["speedup"] = one["median_s"] / t["median_s"] if one else None
    return out


def fit_shard_cost(thr):
    """A shard's CPU as a per-KEYS-entry cost a and a per-key cost b (busiest shard's CPU =
    entries x a + keys x b), least squares over the runs; None when it cannot be fitted or a
    cost comes out negative."""
    pts = [(t["entries"], t["keys"], t["busiest"] * t["n"]) for t in thr
           if t["entries"] and t["keys"] is not None and t["busiest"] is not None]
    if len(pts) < 2:
        return None
    sxx = sum(e * e for e, _, _ in pts)
    sxy = sum(e * k for e, k, _ in pts)
    syy = sum(k * k for _, k, _ in pts)
    sxz = sum(e * z for e, _, z in pts)
    syz = sum(k * z for _, k, z in pts)
    det = sxx * syy - sxy * sxy
    if not det:
        return None
    a, b = (sxz * syy - syz * sxy) / det, (syz * sxx - sxz * sxy) / det
    return (a, b) if a >= 0 and b >= 0 else None


def throttled_section(thr):
    """Markdown: the throttled scale-out rows side by side, and where the bottleneck is."""
    if not thr:
        return []

    def f(v, fmt="{:.1f}"):
        return "" if v is None else fmt.format(v)
    fit = fit_shard_cost(thr)
    one = thr[0] if thr[0]["s"] == 1 else None
    for t in thr:
        t["model"] = None
        if fit and one and one["entries"] and t["entries"]:
            a, b = fit
            t["model"] = (a * one["entries"] + b * one["keys"]) / (a * t["entries"] + b * t["keys"])
    out = ["", "## Throttled scale-out: where the time goes", "",
           f"Every shard process has {f(thr[0]['quota'])}% of a core (cgroup v1 CPU quota); the broker, "
           "the merger and the client are unthrottled. CPU is in microseconds per observation over "
           "the `cadre send`. The busiest shard's KEYS entries and keys come from the routing "
           "(`cadre_route_stat`); the routing model is the speed-up the shards allow if their CPU "
           "were all that counted: the busiest shard's work with 1 shard over its work with S, its "
           "work being entries x a + keys x b with a and b fitted below.", "",
           "| shards | obs/s | speed-up | busiest shard: entries, keys | routing model | busiest shard "
           "| all shards | client | broker | merger | busiest shard's quota used | periods throttled "
           "| result |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in thr:
        out.append(f"| {t['s']} | {t['obs_per_s']:.0f} | {f(t['speedup'], '{:.2f}x')} | "
                   f"{f(t['entries'], '{:.0f}')}, {f(t['keys'], '{:.0f}')} | {f(t['model'], '{:.2f}x')} | "
                   f"{f(t['busiest'], '{:.2f}')} | {f(t['shards'])} | {f(t['client'])} | {f(t['broker'])} | "
                   f"{f(t['merger'])} | {f(t['used'], '{:.0f}%')} | {f(t['throttled'], '{:.0f}%')} | "
                   f"{t['verified']} |")
    top = thr[-1]
    serial = sum(v for v in (top["client"], top["broker"], top["merger"]) if v)
    cores = os.cpu_count() or 1
    lines = []
    if top["used"] is not None and top["used"] >= 90:
        lines.append(f"At {top['s']} shards the busiest shard used {top['used']:.0f}% of its quota: the "
                     "shards are still the bottleneck.")
    elif top["used"] is not None:
        lines.append(f"At {top['s']} shards the busiest shard used only {top['used']:.0f}% of its quota: "
                     "the shards are not the only bottleneck any more (the serial roles, or the "
                     "barrier at the end, make up the rest).")
    if one and top["entries"] and one["entries"]:
        lines.append(f"A record goes to every shard that owns one of its keys, so the busiest of "
                     f"{top['s']} shards receives {top['entries']:.0f} KEYS entries against "
                     f"{one['entries']:.0f} for 1 shard ({one['entries'] / top['entries']:.2f}x fewer), "
                     f"while its keys drop {one['keys'] / top['keys']:.2f}x.")
    if fit:
        lines.append(f"Fitted over the runs, a shard spends ~{fit[0]:.1f} us per KEYS entry and "
                     f"~{fit[1]:.1f} us per key: the per-entry cost, paid again on every shard a "
                     f"record reaches, is what keeps the model at {f(top['model'], '{:.2f}x')} for "
                     f"{top['s']} shards.")
    if serial:
        lines.append(f"The serial roles spend {serial:.1f} us per observation at {top['s']} shards "
                     f"(client {f(top['client'])}, broker {f(top['broker'])}, merger "
                     f"{f(top['merger'])}): even with {cores} cores to themselves they cap the engine "
                     f"near {cores * 1e6 / serial:.0f} obs/s.")
    out += ["", " ".join(lines)]
    return out


def main(argv):
    path, notes_path = argv[1], argv[2]
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["measurement"].startswith(("fit_", "per_obs_", "model_"))]
    derived = []

    for m in ("batch_cluster", "batch_run"):
        pts = [(int(r["n"]), num(r["median_s"])) for r in rows
               if r["measurement"] == m and num(r["median_s"])]
        for n, t in pts:
            derived.append({"measurement": f"per_obs_us_{m[6:]}", "n": n, "ratio": f"{1e6 * t / n:.2f}",
                            "verified": "microseconds per observation (median_s / n)",
                            "command": m})
        big = [(n, t) for n, t in pts if n >= 10000]
        e = fit_loglog(big)
        derived.append({"measurement": f"fit_exponent_{m[6:]}", "n": ",".join(str(n) for n, _ in big),
                        "ratio": "" if e is None else f"{e:.3f}",
                        "verified": "least-squares slope of log(time) on log(n) over n >= 10^4"
                        + ("" if e is not None else " (fewer than two sizes)"),
                        "command": m})

    for prefix in ("scale_procs_shards_", "scale_embedded_shards_", "throttle_shards_"):
        one = next((num(r["median_s"]) for r in rows if r["measurement"] == prefix + "1"), None)
        for r in rows:
            if r["measurement"].startswith(prefix) and one and num(r["median_s"]):
                r["ratio"] = f"{one / num(r['median_s']):.2f}"
                if "speed-up" not in r["verified"]:
                    r["verified"] += "; ratio = speed-up over 1 shard"

    # The multi-host row against the same engine over ipc:// on one host (scale-out row, same n).
    ipc = {r["n"]: num(r["median_s"]) for r in rows if r["measurement"] == "scale_procs_shards_2"}
    for r in rows:
        if r["measurement"] == "multihost_shards_2" and num(r["median_s"]) and ipc.get(r["n"]):
            r["ratio"] = f"{ipc[r['n']] / num(r['median_s']):.2f}"
            if "ratio = " not in r["verified"]:
                r["verified"] += "; ratio = throughput / that of scale_procs_shards_2 (ipc://, one host)"

    scale = [(int(r["measurement"].rsplit("_", 1)[1]), num(r["median_s"]), int(r["n"]))
             for r in rows if r["measurement"].startswith("scale_procs_shards_") and num(r["median_s"])]
    fit = fit_amdahl([(s, t) for s, t, _ in scale])
    if fit and scale:
        a, b = fit
        n = scale[0][2]
        for hosts in (1, 2, 4, 8, 16):
            t = a + b / hosts
            derived.append({"measurement": "model_hosts", "n": hosts,
                            "median_s": f"{t:.3f}", "obs_per_s": f"{n / t:.1f}" if t > 0 else "",
                            "verified": f"model t(N) = a + b/N fitted on the shard-process runs: "
                                        f"a = {a:.3f} s serial (broker, merger, client), b = {b:.3f} s "
                                        f"shard work for {n} obs; N = shard hosts, one shard each; "
                                        f"ceiling {n / a:.0f} obs/s" if a > 0 else "serial part fitted <= 0: "
                                        "the runs do not separate serial and parallel work",
                            "command": "bench/report.py"})

    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows + derived:
            w.writerow({k: r.get(k, "") for k in FIELDS})

    def find(m, n=None):
        for r in rows + derived:
            if r["measurement"] == m and (n is None or str(r["n"]) == str(n)):
                return r
        return None

    def status(ok):
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    out = ["# cadre benchmark results", "",
           "Written by `make bench` (bench/run.sh, docs/bench.md). Times are wall-clock medians of "
           "`runs` runs; peak RSS is `/usr/bin/time -f %M` (the LMDB data directory is listed "
           "separately, `batch_run_lmdb_mib`).", "", "## Targets (issue 6)", "",
           "| target | measured | status |", "|---|---|---|"]
    big = find("batch_run", 10000020)
    if big and num(big["median_s"]):
        t, rss = num(big["median_s"]), num(big["peak_rss_mib"]) or 0
        anon = rss
        if "(LMDB maps excluded) " in big["verified"]:
            anon = num(big["verified"].split("(LMDB maps excluded) ", 1)[1].split(" ", 1)[0]) or rss
        out.append(f"| 10^7 obs batch (`cadre run`) < 60 s, RSS < 4 GiB (LMDB map excluded) | {t:.1f} s, "
                   f"{anon:.0f} MiB without LMDB pages ({rss:.0f} MiB with) | "
                   f"{status(t < 60 and anon < 4096)} |")
    else:
        out.append(f"| 10^7 obs batch (`cadre run`) < 60 s, RSS < 4 GiB | "
                   f"{big['verified'] if big else 'not run'} | {status(False) if big else 'n/a'} |")
    s = find("stream_ingest")
    v = num(s["obs_per_s"]) if s else None
    out.append(f"| sustained ingest >= 100,000 obs/s with acks (second half of the run) | {'' if v is None else f'{v:.0f} obs/s'} | "
               f"{status(None if v is None else v >= 100000)} |")
    for m, what in (("stream_at_rate", "at a fixed offered rate"), ("stream", "at the highest rate")):
        s = find(m + "_latency_p99_ms")
        v = num(s["ratio"]) if s else None
        rate = find(m + "_ingest")
        offered = ""
        if rate and "offered " in rate["verified"]:
            offered = " (" + rate["verified"].split("offered ", 1)[1].split(";", 1)[0] + ")"
        out.append(f"| ack -> identity event p99 <= 50 ms, {what}{offered} | {'' if v is None else f'{v:.1f} ms'} | "
                   f"{status(None if v is None else v <= 50)} |")
    s = find("ship_latency_p99_ms")
    if s:
        v = num(s["ratio"])
        rate = num(s["obs_per_s"])
        out.append(f"| `cadre ship`: line written -> identity event p99 <= 1 s at 5,000 lines/s (issue 12; "
                   f"{'' if rate is None else f'{rate:.0f} lines/s written'}) | "
                   f"{'' if v is None else f'{v:.1f} ms'} | "
                   f"{status(None if v is None or rate is None else v <= 1000 and rate >= 4900)} |")
    for m, what in (("ref_vs_cluster", "`cadre cluster`"), ("ref_vs_run", "`cadre run`")):
        s = find(m)
        v = num(s["ratio"]) if s else None
        out.append(f"| {what} >= 1000x the all-pairs reference at {s['n'] if s else '20000'} obs | "
                   f"{'' if v is None else f'{v:.0f}x'} | {status(None if v is None else v >= 1000)} |")
    for m in ("fit_exponent_cluster", "fit_exponent_run"):
        s = find(m)
        v = num(s["ratio"]) if s else None
        out.append(f"| near-linear: {m} (n = {s['n'] if s else ''}) <= 1.15 | {'' if v is None else f'{v:.3f}'} | "
                   f"{status(None if v is None else v <= 1.15)} |")
    s = find("decnet_ingest")
    v = num(s["ratio"]) if s else None
    out.append(f"| `cadre ingest decnet` >= 150 MB/s of log lines (issue 12) | "
               f"{'' if v is None else f'{v:.0f} MB/s'} | {status(None if v is None else v >= 150)} |")
    thr = throttled(rows)
    if thr:
        top = thr[-1]
        one = thr[0] if thr[0]["s"] == 1 else None
        if one and top["s"] > 1:
            v = top["speedup"]
            out.append(f"| throttled scale-out: {top['s']} CPU-throttled shard processes >= 5x the "
                       f"throughput of 1 (issue 13; the shards' bottleneck below) | {v:.2f}x "
                       f"({top['obs_per_s']:.0f} vs {one['obs_per_s']:.0f} obs/s) | "
                       f"{status(v >= 5) if top['s'] == 8 else 'n/a (not 8 shards)'} |")
    s = find("jsonl_check")
    v = num(s["ratio"]) if s else None
    out.append(f"| `cadre check` of JSON Lines >= 250 MB/s (issue 13 item 5; jansson alone read ~50 MB/s) | "
               f"{'' if v is None else f'{v:.0f} MB/s'} | {status(None if v is None else v >= 250)} |")
    for r in rows:
        if r["measurement"].startswith("skew_") and num(r["ratio"]):
            v = num(r["ratio"])
            out.append(f"| skew not quadratic: {r['measurement']} n={r['n']} time ratio to unskewed <= 2 | "
                       f"{v:.2f} | {status(v <= 2)} |")
    out += throttled_section(thr)
    out += ["", "## All measurements", "",
            "| " + " | ".join(FIELDS) + " |", "|" + "---|" * len(FIELDS)]
    for r in rows + derived:
        out.append("| " + " | ".join(str(r.get(k, "")).replace("|", "\\|") for k in FIELDS) + " |")
    out += ["", "## Notes", ""]
    with open(notes_path) as f:
        out += [f"- {line.rstrip()}" for line in f if line.strip()]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
