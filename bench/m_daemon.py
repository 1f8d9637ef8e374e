"""Measures on the recorder daemon (issue 6): 7 what the daemon costs with
no task, 8 what one task costs against `deetune record`, 9 its memory
under uploads that never finish."""
import json
import os
import signal
import subprocess
import sys
import threading

import capture
import loads
import m_probes
import procs
import runner
import stats

HERE = os.path.dirname(os.path.abspath(__file__))
SLOW_UPLOADS = os.path.join(HERE, "slow_uploads.py")

# measure 9: each upload announces a body larger than anything sent in a
# run and trickles 8 KiB of it every 100 ms (80 KiB/s per connection)
HOSTILE_BODY = 32 << 20
HOSTILE_CHUNK = 8192
HOSTILE_INTERVAL_MS = 100
# how often measure 9 samples the daemon's memory and status
SAMPLE_S = 0.25

IDLE = ("baseline", "daemon-idle")
PROBE_ROWS = (("pingpong", "7c", "daemon idle: socket syscall"),
              ("devnull", "7d", "daemon idle: write() to /dev/null"),
              ("getppid", "7e", "daemon idle: getppid()"))


def _as_daemon(runs):
    """Runs by table column: the daemon's condition shows as "daemon"."""
    return {("daemon" if cond.startswith("daemon") else cond): r
            for cond, r in runs.items()}


def _daemon_cpu(runs):
    return stats.median(stats.field(runs, "capture", "cpu_cores"))


def _wrk_rows(ident, title, runs, notes, p99_notes="", rate_row=False):
    """req/s (or the achieved rate), p50 and p99 rows of wrk runs."""
    cols = _as_daemon(runs)
    first = runner.row(ident, title + (" achieved" if rate_row else
                                       " req/s"), "req/s", cols,
                       ("load", "rps"), notes)
    return [first,
            runner.row(ident, title + " p50", "us", cols,
                       ("load", "p50_us"), better="lower"),
            runner.row(ident, title + " p99", "us", cols,
                       ("load", "p99_us"), p99_notes, better="lower")]


def _idle_probes(bench):
    """7c-7e: measure 6's syscall workloads without and with the idle
    daemon, then its BPF programs' time per syscall (bpf_stats on)."""
    port = bench.cfg.ports["syscall"]
    modes = ("pingpong", "devnull", "getppid")
    runs = {c: [] for c in IDLE}
    for rnd in range(bench.cfg.rounds):
        for cond in IDLE:
            res = m_probes.run_condition(bench, cond, port, port, modes)
            runs[cond].append(res)
            procs.log("idle probe round %d/%d %-11s %s" % (
                rnd + 1, bench.cfg.rounds, cond, ", ".join(
                    "%s %.0f ns" % (m, res[m]["total_ns_per_syscall"])
                    for m in modes)))
    with capture.bpf_stats() as enabled:
        bpf = m_probes.bpf_pass(bench, port, port, "daemon-idle") \
            if enabled else None
    rows = []
    for mode, ident, label in PROBE_ROWS:
        row = runner.row(ident, label, "ns/call", _as_daemon(runs),
                         (mode, "total_ns_per_syscall"), better="lower")
        notes = [m_probes.caller_note(mode, runs["baseline"],
                                      runs["daemon-idle"])]
        if bpf:
            notes.append(m_probes.bpf_note(bpf[mode]))
        row["notes"] = "; ".join(notes)
        rows.append(row)
    return {"runs": runs, "bpf_stats": bpf}, rows


def idle(bench):
    """7: `deetune daemon` running with no task against nothing: wrk at
    saturation (7a) and at half that rate (7b), and the syscall
    workloads of measure 6 (7c-7e)."""
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    counter = runner.NginxCounter(nginx)
    loads.wrk(nginx.url, 2)  # warm-up: caches, CPU frequency
    sat = runner.interleave(bench, "idle-sat", nginx.port, IDLE,
                            bench.cfg.http_rounds, counter,
                            lambda: loads.wrk(nginx.url, secs))
    rate = bench.cfg.half_rate or max(1000, int(round(stats.median(
        stats.field(sat["baseline"], "load", "rps")) / 2, -3)))
    half = runner.interleave(bench, "idle-half", nginx.port, IDLE,
                             bench.cfg.http_rounds, counter,
                             lambda: loads.wrk(nginx.url, secs, rate=rate))
    probes, probe_rows = _idle_probes(bench)
    note = "deetune daemon --no-http, no task; daemon CPU %.3f cores"
    rows = _wrk_rows("7a", "daemon idle: saturation", sat,
                     note % _daemon_cpu(sat["daemon-idle"]))
    rows += _wrk_rows("7b", "daemon idle: half load %dk/s" % (rate // 1000),
                      half, note % _daemon_cpu(half["daemon-idle"]),
                      rate_row=True)
    return {"rate": rate, "saturation": sat, "half_load": half,
            "probes": probes, "rows": rows + probe_rows}


def task(bench):
    """8: wrk at saturation with nothing, with `deetune record` and with
    the daemon recording the same port through one task (`task start
    --duration`), interleaved: the two ways of recording side by side."""
    nginx = bench.servers["nginx"]
    secs = bench.cfg.seconds
    conds = ("baseline", "deetune", "daemon")
    loads.wrk(nginx.url, 2)  # warm-up
    runs = runner.interleave(
        bench, "task", nginx.port, conds, bench.cfg.http_rounds,
        runner.NginxCounter(nginx), lambda: loads.wrk(nginx.url, secs))
    notes = "daemon task: %s; deetune record: %s" % (
        runner.completeness_note(runner.completeness(runs["daemon"])),
        runner.completeness_note(runner.completeness(runs["deetune"])))
    return {"runs": runs,
            "completeness": {c: runner.completeness(runs[c])
                             for c in ("deetune", "daemon")},
            "rows": _wrk_rows("8", "task vs record: saturation", runs,
                              notes, runner.cpu_note(runs))}


def size_bytes(text):
    """"64M" -> bytes, as deetune reads a SIZE (powers of 1024)."""
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * mult)


class Sampler(threading.Thread):
    """Reads the daemon's memory (/proc) and status op every SAMPLE_S
    until stopped: the peaks between the start and stop() calls."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.daemon_cap = daemon
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(SAMPLE_S):
            try:
                mem = procs.memory_kib(self.daemon_cap.proc.pid)
                st = self.daemon_cap.status()
            except (OSError, ValueError, procs.BenchError):
                continue
            self.samples.append({"rss_kib": mem, "buffered_bytes":
                                 st["buffered_bytes"],
                                 "evicted": st["drops"]["evicted"]})

    def stop(self):
        self.done.set()
        self.join()

    def peak(self, *path):
        vals = [v for v in stats.field(self.samples, *path) if v is not None]
        return max(vals) if vals else None


def _requests_recorded(deetune, session):
    """{method: [exchanges, with a response]} in a session (deetune cat)."""
    out = {}
    with subprocess.Popen([deetune, "cat", session], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as cat:
        for line in cat.stdout:
            ex = json.loads(line)
            method = (ex.get("request") or {}).get("method", "?")
            counts = out.setdefault(method, [0, 0])
            counts[0] += 1
            counts[1] += ex.get("response") is not None
    if cat.returncode != 0:
        raise procs.BenchError("deetune cat %s failed" % session)
    return out


def _start_uploads(bench, port, log):
    cfg = bench.cfg
    proc = procs.start([sys.executable, "-B", SLOW_UPLOADS, str(port),
                        str(cfg.hostile_conns), str(HOSTILE_BODY),
                        str(HOSTILE_CHUNK), str(HOSTILE_INTERVAL_MS)],
                       stdout=log)
    procs.wait_for(lambda: procs.file_contains(log, "ready"), 30,
                   "slow_uploads.py", proc)
    return proc


def _stop_uploads(proc, log):
    procs.stop(proc, signal.SIGTERM)
    with open(log) as f:
        lines = f.read().splitlines()
    return json.loads(lines[-1]) if len(lines) > 1 else {}


def _hostile_run(bench):
    """One run of measure 9; the figures of a "capture" like the others."""
    nginx = bench.servers["nginx"]
    cfg = bench.cfg
    stem = bench.stem("hostile")
    cap = capture.Daemon(bench.deetune, stem, "port:%d" % nginx.port,
                         cfg.settle, max_memory=cfg.hostile_max_memory)
    counter = runner.NginxCounter(nginx)
    counter.begin()
    cap.start()
    foreign = bench.check_foreign(cap)
    uploads = _start_uploads(bench, nginx.port, stem + ".uploads.log")
    sampler = Sampler(cap)
    sampler.start()
    try:
        load = loads.wrk(nginx.url, cfg.hostile_seconds,
                         rate=cfg.hostile_rate)
    finally:
        sampler.stop()
    served = counter.end()   # the uploads never end: GETs only
    res = cap.stop()
    sent = _stop_uploads(uploads, stem + ".uploads.log")
    methods = _requests_recorded(bench.deetune, cap.session)
    runner.discard(cap)
    res.update(
        peak_rss_mib=res["peak_rss_kib"] / 1024,
        sampled_peak_anon_mib=(sampler.peak("rss_kib", "RssAnon") or 0) /
        1024,
        rss_file_mib=(sampler.peak("rss_kib", "RssFile") or 0) / 1024,
        sampled_peak_buffered_mib=(sampler.peak("buffered_bytes") or 0) /
        (1 << 20),
        evicted=res["drops"]["evicted"],
        status_evicted=res["status"]["drops"]["evicted"],
        gets_recorded=methods.get("GET", [0, 0])[1],
        gets_recorded_pct=100.0 * methods.get("GET", [0, 0])[1] /
        max(1, served), methods=methods)
    return {"load": load, "served": served, "uploads": sent,
            "foreign_bpf": foreign, "samples": sampler.samples,
            "capture": res}


def hostile(bench):
    """9: the daemon's memory with --max-memory (64M) while one task
    records a port that gets uploads which never finish (the assembler
    must buffer them or drop streams) besides paced normal traffic."""
    cfg = bench.cfg
    limit = size_bytes(cfg.hostile_max_memory)
    runs = []
    for rnd in range(cfg.rounds):
        res = _hostile_run(bench)
        runs.append(res)
        cr = res["capture"]
        procs.log("hostile round %d/%d VmHWM %.0f MiB (limit %.0f), "
                  "buffered peak %.0f MiB, evicted %d, GETs %d of %d" % (
                      rnd + 1, cfg.rounds, cr["peak_rss_mib"], limit / 2**20,
                      cr["sampled_peak_buffered_mib"], cr["evicted"],
                      cr["gets_recorded"], res["served"]))
    under = sum(r["capture"]["peak_rss_kib"] * 1024 <= limit for r in runs)
    sent = stats.median([r["uploads"].get("sent_bytes", 0) / 2**20
                         for r in runs])
    med = {k: stats.median(stats.field(runs, "capture", k)) for k in (
        "sampled_peak_anon_mib", "rss_file_mib", "sampled_peak_buffered_mib",
        "status_evicted", "incomplete")}
    served = sum(r["served"] for r in runs)
    gets = sum(r["capture"]["gets_recorded"] for r in runs)
    cols = {"daemon": runs}
    title = "hostile load, --max-memory %s:" % cfg.hostile_max_memory
    return {"limit_bytes": limit, "runs_under_limit": under, "runs": runs,
            "rows": [
                runner.row("9", title + " peak RSS", "MiB", cols,
                           ("capture", "peak_rss_mib"),
                           "VmHWM under the limit in %d of %d runs; at the "
                           "peak RssAnon %.0f MiB + RssFile %.0f MiB (the "
                           "ring buffer's mapping); assembler buffered at "
                           "most %.0f MiB" % (
                               under, len(runs),
                               med["sampled_peak_anon_mib"],
                               med["rss_file_mib"],
                               med["sampled_peak_buffered_mib"]),
                           better="lower"),
                runner.row("9", title + " streams evicted", "streams",
                           cols, ("capture", "evicted"),
                           "task drops.evicted (daemon status: %.0f); %d "
                           "uploads never finishing, %d KiB every %d ms "
                           "each, %.0f MiB sent per run" % (
                               med["status_evicted"], cfg.hostile_conns,
                               HOSTILE_CHUNK // 1024, HOSTILE_INTERVAL_MS,
                               sent), better="lower"),
                runner.row("9", title + " GETs recorded", "%", cols,
                           ("capture", "gets_recorded_pct"),
                           "normal traffic: wrk at %d req/s for %d s; "
                           "recorded %d of %d GETs whole; %.0f incomplete "
                           "exchanges per run (the evicted uploads)" % (
                               cfg.hostile_rate, cfg.hostile_seconds, gets,
                               served, med["incomplete"])),
            ]}
