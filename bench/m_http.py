"""Measures on wrk -> nginx: 1 saturation, 2 half load, 4 footprint at
10k exchanges/s, 5 replay rate."""
import json
import os
import re
import resource
import subprocess
import time

import capture
import loads
import procs
import runner
import servers
import stats
from runner import CONDITIONS


def _http_rows(ident, title, runs):
    """req/s, p50 and p99 rows for a set of interleaved wrk runs."""
    notes = runner.completeness_note(runner.completeness(runs["deetune"]))
    notes += "; " + runner.tcpdump_note(runs["tcpdump"])
    return [
        runner.row(ident, title + " req/s", "req/s", runs,
                   ("load", "rps"), notes),
        runner.row(ident, title + " p50", "us", runs, ("load", "p50_us"),
                   better="lower"),
        runner.row(ident, title + " p99", "us", runs, ("load", "p99_us"),
                   runner.cpu_note(runs), better="lower"),
    ]


def saturation(bench):
    """1: wrk -t2 -c32 as fast as nginx answers."""
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    loads.wrk(nginx.url, 2)  # warm-up: caches, CPU frequency
    runs = runner.interleave(
        bench, "sat", nginx.port, CONDITIONS, bench.cfg.http_rounds,
        runner.NginxCounter(nginx), lambda: loads.wrk(nginx.url, secs))
    bench.baseline_rps = stats.median(
        stats.field(runs["baseline"], "load", "rps"))
    return {"runs": runs,
            "completeness": runner.completeness(runs["deetune"]),
            "rows": _http_rows("1", "saturation", runs)}


def half_load(bench):
    """2: a fixed offered load of about half the saturation rate."""
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    rate = bench.cfg.half_rate
    if not rate:
        base = bench.baseline_rps or loads.wrk(nginx.url, secs)["rps"]
        rate = max(1000, int(round(base / 2, -3)))
    runs = runner.interleave(
        bench, "half", nginx.port, CONDITIONS, bench.cfg.http_rounds,
        runner.NginxCounter(nginx),
        lambda: loads.wrk(nginx.url, secs, rate=rate))
    title = "half load %dk/s" % (rate // 1000)
    rows = _http_rows("2", title, runs)
    rows[0]["label"] = title + " achieved"
    return {"rate": rate, "runs": runs,
            "completeness": runner.completeness(runs["deetune"]),
            "rows": rows}


def _raw_bytes(deetune, session):
    """Sum of request.len + response.len over the session's exchanges
    (`deetune cat`): the bytes that crossed the sockets."""
    total = count = 0
    with subprocess.Popen([deetune, "cat", session], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as cat:
        for line in cat.stdout:
            ex = json.loads(line)
            for side in ("request", "response"):
                total += (ex.get(side) or {}).get("len", 0)
            count += 1
    if cat.returncode != 0:
        raise procs.BenchError("deetune cat %s failed" % session)
    return total, count


def footprint(bench):
    """4: the recorder (and tcpdump) at 10k exchanges/s of distinct JSON
    documents: CPU, peak RSS, bytes per exchange, size vs raw bytes."""
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    rate = bench.cfg.footprint_rate

    def post(cap, res):
        cr = res["capture"]
        if "session" in cr:
            raw, count = _raw_bytes(bench.deetune, cap.session)
            cr["raw_bytes"] = raw
            cr["bytes_per_exchange"] = cr["file_bytes"] / max(1, count)
            cr["size_vs_raw"] = cr["file_bytes"] / raw if raw else None
        else:
            cr["bytes_per_exchange"] = cr["file_bytes"] / max(1, res["served"])
        cr["peak_rss_mib"] = cr["peak_rss_kib"] / 1024
        cr["rss_file_mib"] = cr["rss_kib"].get("RssFile", 0) / 1024

    # bpf_stats on: the BPF time in the traced processes is part of the
    # recorder's footprint (it costs two clock reads per program run)
    with capture.bpf_stats():
        runs = runner.interleave(
            bench, "foot", nginx.port, ("deetune", "tcpdump"),
            bench.cfg.rounds, runner.NginxCounter(nginx),
            lambda: loads.wrk(nginx.url, secs, rate=rate,
                              docs=servers.DOCS), post)
    # tcpdump's file against the same raw bytes as the recorder saw
    raw_per_ex = stats.median([
        r["capture"]["raw_bytes"] / max(1, r["capture"]["exchanges"])
        for r in runs["deetune"]])
    for r in runs["tcpdump"]:
        r["capture"]["size_vs_raw"] = r["capture"]["file_bytes"] / (
            raw_per_ex * max(1, r["served"]))
    comp = runner.completeness(runs["deetune"])
    dt = runs["deetune"]
    user = stats.median(stats.field(dt, "capture", "cpu_user_cores"))
    bpf = stats.median(stats.field(dt, "capture", "bpf_cores"))
    rss_file = stats.median(stats.field(dt, "capture", "rss_file_mib"))
    title = "footprint @%dk/s" % (rate // 1000)
    return {"rate": rate, "runs": runs, "completeness": comp,
            "raw_bytes_per_exchange": raw_per_ex,
            "rows": [
                runner.row("4", title + " CPU", "cores", runs,
                           ("capture", "cpu_cores"),
                           "deetune user %.3f cores, + BPF in the traced "
                           "processes %s cores; %s" % (
                               user, "-" if bpf is None else "%.3f" % bpf,
                               runner.completeness_note(comp)),
                           better="lower"),
                runner.row("4", title + " peak RSS", "MiB", runs,
                           ("capture", "peak_rss_mib"),
                           "deetune: %.0f MiB of it file-backed (the BPF "
                           "ring buffer mapping)" % rss_file,
                           better="lower"),
                runner.row("4", title + " bytes/exchange", "B", runs,
                           ("capture", "bytes_per_exchange"),
                           "raw exchange %.0f B (request + response)" %
                           raw_per_ex, better="lower"),
                runner.row("4", title + " file/raw", "%", runs,
                           ("capture", "size_vs_raw"),
                           "1 KiB JSON bodies, %d distinct documents" %
                           servers.DOCS, better="lower", scale=100.0),
            ]}


def replay_available(deetune):
    res = subprocess.run([deetune, "replay", "--help"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    return res.returncode == 0


def _replay_once(bench, session, exchanges):
    """`deetune replay SESSION --speed max` against nginx: its rate (by
    its own summary line when it prints one, else by the wall clock)
    and the CPU it used (a replayer short of CPU is not the limit)."""
    nginx = bench.servers["nginx"]
    out = bench.stem("replay-out") + ".dtsess"
    argv = [bench.deetune, "replay", session, "--target",
            "http://127.0.0.1:%d" % nginx.port, "--speed", "max", "-o", out]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, timeout=300)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if os.path.exists(out):
        os.unlink(out)
    text = (res.stdout + res.stderr).decode(errors="replace")
    if res.returncode != 0:
        raise procs.BenchError("deetune replay failed (%d): %s" % (
            res.returncode, text.strip()[-2000:]))
    m = re.search(r"replayed: (\d+) exchanges in ([0-9.]+) s \((\d+) "
                  r"answered, (\d+) failed", text)
    answered, secs = (int(m.group(3)), float(m.group(2))) if m else \
        (exchanges, wall)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"rps": answered / secs if secs > 0 else None, "seconds": secs,
            "wall_s": wall, "requests": exchanges, "answered": answered,
            "failed": int(m.group(4)) if m else None,
            "cpu_cores": cpu / wall if wall > 0 else None}


def replay(bench):
    """5: replaying a large recorded session at max speed vs wrk."""
    if not replay_available(bench.deetune):
        return {"available": False, "rows": [{
            "id": "5", "label": "replay --speed max", "unit": "req/s",
            "na": "n/a (deetune replay not implemented yet)"}]}
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    # a large session: wrk at saturation for the usual duration
    rec = bench.capturer("deetune", "replay-src", nginx.port)
    rec.start()
    loads.wrk(nginx.url, secs)
    src = rec.stop()
    runs = {"baseline": [], "deetune": []}
    for rnd in range(bench.cfg.rounds):
        runs["baseline"].append({"load": loads.wrk(nginx.url, secs)})
        runs["deetune"].append({"load": _replay_once(bench, src["session"],
                                                     src["exchanges"])})
        procs.log("replay round %d/%d wrk %.0f/s, replay %.0f/s" % (
            rnd + 1, bench.cfg.rounds, runs["baseline"][-1]["load"]["rps"],
            runs["deetune"][-1]["load"]["rps"]))
    runner.discard(rec)
    cpu = stats.median(stats.field(runs["deetune"], "load", "cpu_cores"))
    failed = sum(r["load"]["failed"] or 0 for r in runs["deetune"])
    return {"available": True, "session_exchanges": src["exchanges"],
            "runs": runs,
            "rows": [runner.row(
                "5", "replay --speed max", "req/s", runs, ("load", "rps"),
                "baseline = wrk -t2 -c32; deetune = replay of %d "
                "exchanges (default concurrency), %d failed, replay used "
                "%.2f cores" % (src["exchanges"], failed, cpu))]}
