"""Running a load under each capture condition, interleaved.

Conditions are "baseline" (nothing captures), "deetune" (`deetune record
--server port:N`), "tcpdump" (`tcpdump -i lo -w FILE tcp port N`), and for
the daemon measures "daemon" (`deetune daemon` with one task on port N)
and "daemon-idle" (the daemon with no task). A
measure runs them in turn, A B C A B C ..., so that slow drifts of the
machine (other processes, thermal, page cache) hit every condition alike,
and reports medians.
"""
import os

import capture
import procs
import stats

CONDITIONS = ("baseline", "deetune", "tcpdump")
# seconds a daemon task lasts beyond the settling time and the load (the
# load tool's start and exit), so that it ends by itself after the load
TASK_MARGIN = 1.5


class Bench:
    """What every measure needs: the deetune binary, the directory for
    capture files, the servers and the settings (durations, rounds)."""

    def __init__(self, deetune, capture_dir, servers, cfg):
        self.deetune = deetune
        self.capture_dir = capture_dir
        self.servers = servers
        self.cfg = cfg
        self.seq = 0
        self.baseline_rps = None   # wrk at saturation, set by measure 1
        self.runs = 0
        self.foreign_runs = 0      # runs with others' BPF tracing programs

    def check_foreign(self, cap):
        """Names of BPF tracing programs loaded now that are not cap's;
        counts the run as disturbed when there are any."""
        ours = set(cap.prog_stats()) if cap else set()
        foreign = sorted(name for pid_, name in
                         capture.tracing_programs().items()
                         if pid_ not in ours)
        self.runs += 1
        self.foreign_runs += bool(foreign)
        return foreign

    def stem(self, tag):
        """A fresh path prefix for one run's capture files."""
        self.seq += 1
        return os.path.join(self.capture_dir, "%03d-%s" % (self.seq, tag))

    def capturer(self, kind, tag, port, selector_port=None):
        """A capturer for condition kind (None for the baseline). A
        daemon task ends by its duration: the settling time, one load
        run and TASK_MARGIN s."""
        return capture.make(kind, self.deetune, self.stem(tag),
                            selector_port or port, self.cfg.settle,
                            self.cfg.settle + self.cfg.seconds + TASK_MARGIN)


class NginxCounter:
    """Requests nginx served during a run (its access log)."""

    def __init__(self, nginx):
        self.nginx = nginx

    def begin(self):
        self.nginx.reset_log()

    def end(self):
        return self.nginx.logged_requests()


class ServerCounter:
    """Commands (Redis) or statements (MariaDB) a server processed
    during a run, from its own counters, read outside the capture."""

    def __init__(self, server):
        self.server = server
        self.start = None

    def begin(self):
        self.start = self.server.served()

    def end(self):
        return self.server.served() - self.start - self.server.READ_COST


def discard(cap):
    """Run files are large and measured already: remove them."""
    for attr in ("pcap", "session"):
        path = getattr(cap, attr, None)
        if path and os.path.exists(path):
            os.unlink(path)


def one_run(bench, cond, tag, port, counter, load, post=None):
    """load() under condition cond; returns {"load", "served", "capture"}.
    post(cap, result) may look at the run's files before they go."""
    counter.begin()
    cap = bench.capturer(cond, tag, port)
    if cap:
        cap.start()
    foreign = bench.check_foreign(cap)
    res = {"load": load(), "foreign_bpf": foreign}
    if cap:
        res["capture"] = cap.stop()
    res["served"] = counter.end()
    if cap:
        if post:
            post(cap, res)
        discard(cap)
    return res


def interleave(bench, tag, port, conditions, rounds, counter, load,
               post=None):
    """rounds x (each condition in turn); returns {cond: [run, ...]}."""
    runs = {c: [] for c in conditions}
    for rnd in range(rounds):
        for cond in conditions:
            res = one_run(bench, cond, "%s-%s" % (tag, cond), port, counter,
                          load, post)
            runs[cond].append(res)
            procs.log("%s round %d/%d %-8s %s" % (
                tag, rnd + 1, rounds, cond, brief(res)))
    return runs


def brief(res):
    """One progress line for a run."""
    load = res["load"]
    parts = []
    if "rps" in load:
        parts.append("%.0f/s" % load["rps"])
    if "p99_us" in load:
        parts.append("p99 %.0f us" % load["p99_us"])
    for test in ("SET", "GET"):
        if test in load:
            parts.append("%s %.0f/s" % (test, load[test]["rps"]))
    cap = res.get("capture")
    if cap and "exchanges" in cap:
        parts.append("recorded %d of %d" % (cap["exchanges"],
                                            res["served"]))
    if cap and "packets" in cap:
        parts.append("pkts %s dropped %s" % (cap["packets"]["captured"],
                                             cap["packets"]["dropped"]))
    if cap:
        parts.append("cpu %.2f" % cap["cpu_cores"])
    return ", ".join(parts)


def completeness(runs):
    """What the recorder kept over a list of deetune runs."""
    caps = [r["capture"] for r in runs]
    drops = sum(sum(c["drops"].values()) for c in caps)
    return {
        "recorded": sum(c["exchanges"] for c in caps),
        "served": sum(r["served"] for r in runs),
        "drops": drops,
        "dropped_events": sum(c["dropped_events"] for c in caps),
        "incomplete": sum(c["incomplete"] for c in caps),
        "midstream": sum(c["flags"].get("midstream", 0) for c in caps),
    }


def completeness_note(comp, unit="exchanges"):
    pct = 100.0 * comp["recorded"] / comp["served"] if comp["served"] \
        else 0.0
    note = "recorded %d of %d %s (%.2f%%), drops %d, incomplete %d" % (
        comp["recorded"], comp["served"], unit, pct, comp["drops"],
        comp["incomplete"])
    if comp["midstream"]:
        note += ", midstream %d" % comp["midstream"]
    return note


def tcpdump_note(runs):
    caps = [r["capture"] for r in runs]
    dropped = sum(c["packets"]["dropped"] or 0 for c in caps)
    return "tcpdump dropped %d pkts" % dropped


def cpu_note(runs_by_cond):
    parts = []
    for cond, runs in runs_by_cond.items():
        if cond != "baseline" and runs:
            med = stats.median(stats.field(runs, "capture", "cpu_cores"))
            parts.append("%s %.2f" % (cond, med))
    return "capture CPU (cores): " + ", ".join(parts) if parts else ""


def row(ident, label, unit, runs_by_cond, path, notes="", better="higher",
        scale=1.0):
    """A table row: the summary of the value at path for each condition."""
    out = {"id": ident, "label": label, "unit": unit, "better": better,
           "notes": notes}
    for cond, runs in runs_by_cond.items():
        vals = [v * scale if v is not None else None
                for v in stats.field(runs, *path)]
        out[cond] = stats.summary(vals)
    # each run against the baseline run of its own round
    base = stats.field(runs_by_cond.get("baseline", []), *path)
    out["paired_change"] = {}
    for cond, runs in runs_by_cond.items():
        vals = stats.field(runs, *path)
        if cond == "baseline" or len(vals) != len(base):
            continue
        out["paired_change"][cond] = stats.summary(
            [stats.ratio(v, b) - 1.0 if stats.ratio(v, b) is not None
             else None for v, b in zip(vals, base)])
    return out
