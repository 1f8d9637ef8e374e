#!/usr/bin/env python3
"""Where the recording overhead goes: `bench/run.sh DEETUNE --profile`.

    profile.py DEETUNE WORK_DIR

Starts the benchmark's nginx, then, while wrk saturates it, profiles the
whole machine with `perf record -a -g`, once without and once with
`deetune record` capturing the port, then reads the recorder's BPF
program times over one more run (kernel.bpf_stats_enabled=1 for it). Prints the
top symbols of both profiles, CPU by command, and the BPF figures;
writes the same to bench/results/profile-STAMP.txt (or BENCH_OUT).
"""
import datetime
import os
import signal
import sys
import time

import capture
import loads
import procs
import servers

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))


def _perf_report(data, sort, limit, comm=None):
    """perf report's flat profile; with comm, only that command's
    samples, in percent of them."""
    extra = ["--comms", comm, "--percentage", "relative"] if comm else []
    out = procs.run(["perf", "report", "-i", data, "--stdio",
                     "--no-children", "--sort", sort, "-g", "none",
                     "--percent-limit", str(limit)] + extra, 300,
                    check=False)
    return "\n".join(line for line in out.splitlines()
                     if line.strip() and not line.startswith("#"))


def _bpf_times(rec, nginx):
    """The recorder's BPF program times per run during a wrk run, with
    bpf_stats on (not during perf: the stats read the clock twice per
    program run, which would show in the profile)."""
    with capture.bpf_stats():
        before = rec.prog_stats()
        res = loads.wrk(nginx.url, SECONDS)
        progs, total = capture.prog_delta(before, rec.prog_stats())
    text = ["== BPF programs during a wrk run with deetune record "
            "(%.0f req/s):" % res["rps"]]
    for name, p in sorted(progs.items()):
        text.append("  %-16s %10d runs %8.1f ns/run %6.3f CPU-s" % (
            name, p["run_cnt"], p["ns_per_run"] or 0,
            p["run_time_ns"] / 1e9))
    text.append("  %.2f us of BPF per request, %.2f cores" % (
        total / 1e3 / res["requests"], total / 1e9 / SECONDS))
    return "\n".join(text)


def _profile(work, nginx, recording):
    """perf record -a -g during a saturating wrk run; returns the text."""
    data = os.path.join(work, "perf-%s.data" % (
        "rec" if recording else "base"))
    perf = procs.start(["perf", "record", "-a", "-g", "-F", "999", "-o",
                        data], stderr=data + ".log")
    time.sleep(0.5)
    res = loads.wrk(nginx.url, SECONDS)
    procs.stop(perf, signal.SIGINT, timeout=60)
    title = "with deetune record" if recording else "without recording"
    text = ["== %s: wrk %.0f req/s, p99 %d us" % (title, res["rps"],
                                                    res["p99_us"]),
            "-- CPU by command",
            _perf_report(data, "comm", 1),
            "-- top symbols (all commands)",
            _perf_report(data, "comm,dso,sym", 0.5)]
    for comm in ("nginx", "deetune") if recording else ("nginx",):
        text += ["-- %s's own samples" % comm,
                 _perf_report(data, "dso,sym", 1.5, comm)]
    return "\n".join(text)


def main():
    deetune, work = sys.argv[1:3]
    procs.install_signal_handlers()
    port = int(os.environ.get("BENCH_PORT_BASE", "18580"))
    parts = []
    try:
        nginx = servers.Nginx(work, port)
        nginx.start()
        loads.wrk(nginx.url, 2)
        parts.append(_profile(work, nginx, False))
        rec = capture.Recorder(deetune, os.path.join(work, "profile"),
                               "port:%d" % port, 0.5)
        rec.start()
        parts.append(_profile(work, nginx, True))
        parts.append(_bpf_times(rec, nginx))
        rec.stop()
    finally:
        procs.stop_all()
    text = "\n\n".join(parts)
    print(text)
    out = os.environ.get("BENCH_OUT") or os.path.join(
        HERE, "results", "profile-%s.txt" %
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text + "\n")
    print("\nwritten: " + out)


if __name__ == "__main__":
    try:
        main()
    except procs.BenchError as exc:
        procs.log(str(exc))
        sys.exit(1)
