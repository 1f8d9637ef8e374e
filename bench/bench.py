#!/usr/bin/env python3
"""DeeTune's benchmark suite (bench/README.md); bench/run.sh starts it.

    bench.py DEETUNE SYSCALL_LOAD WORK_DIR CAPTURE_DIR

Starts nginx, redis-server and mariadbd on loopback in WORK_DIR (capture
files go to CAPTURE_DIR, a tmpfs when there is one), runs the
measures of issue 9, prints one table and the goals, and writes all of it
(with every run's figures) as JSON. Settings come from the environment,
see load_config().
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import traceback

import capture
import m_daemon
import m_db
import m_http
import m_probes
import procs
import report
import runner
import servers

HERE = os.path.dirname(os.path.abspath(__file__))

# measure id -> (title, function); run in this order
MEASURES = (
    ("1", "wrk -> nginx at saturation", m_http.saturation),
    ("2", "wrk -> nginx at half the saturation rate", m_http.half_load),
    ("3r", "redis-benchmark", m_db.redis),
    ("3m", "mysqlslap", m_db.mysql),
    ("4", "recorder footprint at 10k exchanges/s", m_http.footprint),
    ("6", "per-event cost of the probes", m_probes.per_event),
    ("5", "replay rate", m_http.replay),
    ("7", "deetune daemon with no task", m_daemon.idle),
    ("8", "deetune daemon task vs deetune record", m_daemon.task),
    ("9", "deetune daemon memory under hostile load", m_daemon.hostile),
)


class Config:
    pass


def _env(name, default, kind=int):
    val = os.environ.get(name)
    return kind(val) if val not in (None, "") else default


def load_config(syscall_load):
    c = Config()
    c.seconds = _env("BENCH_SECONDS", 5)              # each load run
    c.http_rounds = _env("BENCH_HTTP_ROUNDS", 5)      # measures 1 and 2
    c.rounds = _env("BENCH_ROUNDS", 3)                # the others
    c.settle = _env("BENCH_SETTLE", 0.5, float)       # after `recording:`
    c.half_rate = _env("BENCH_HALF_RATE", 0)          # 0: half of measure 1
    c.footprint_rate = _env("BENCH_FOOTPRINT_RATE", 10000)
    c.redis_test_seconds = _env("BENCH_REDIS_SECONDS", 1.5, float)
    c.mysql_seconds = _env("BENCH_MYSQL_SECONDS", 3.0, float)
    c.pingpong_count = _env("BENCH_PINGPONG", 200000)
    c.syscall_count = _env("BENCH_SYSCALLS", 2000000)
    # measure 9: uploads that never finish, normal traffic beside them
    c.hostile_conns = _env("BENCH_HOSTILE_CONNS", 200)
    c.hostile_seconds = _env("BENCH_HOSTILE_SECONDS", 15)
    c.hostile_rate = _env("BENCH_HOSTILE_RATE", 5000)
    c.hostile_max_memory = _env("BENCH_HOSTILE_MAX_MEMORY", "64M", str)
    base = _env("BENCH_PORT_BASE", 18580)
    c.ports = {"nginx": base, "redis": base + 1, "mariadb": base + 2,
               "syscall": base + 3, "unselected": base + 4}
    only = os.environ.get("BENCH_ONLY", "")
    c.only = set(only.replace(",", " ").split()) if only else None
    c.syscall_load = syscall_load
    return c


def _wanted(cfg, ident):
    if cfg.only is None:
        return True
    return ident in cfg.only or ident.rstrip("rm") in cfg.only


def _bpf_tracing_programs():
    """Names of BPF tracing programs loaded right now (another recorder
    or tracer would slow every condition, the baseline included)."""
    try:
        out = subprocess.run(["bpftool", "prog", "show", "-j"],
                             stdout=subprocess.PIPE, timeout=20,
                             stderr=subprocess.DEVNULL).stdout
        progs = json.loads(out or b"[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return sorted(p.get("name", "?") for p in progs
                  if p.get("type") in ("tracing", "raw_tracepoint",
                                       "tracepoint", "kprobe",
                                       "perf_event"))


def _process_cpu():
    """{(pid, comm): CPU seconds} of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        comm = head.partition("(")[2]
        out[(pid, comm)] = (int(fields[11]) + int(fields[12])) / \
            procs.CLK_TCK
    return out


def _busiest_processes():
    """The processes using most CPU over one second, as "cores comm":
    other work on the machine is the main source of noise."""
    before = _process_cpu()
    time.sleep(1)
    after = _process_cpu()
    use = sorted(((after[k] - before[k], k[1]) for k in after
                  if k in before), reverse=True)
    return ["%.2f %s" % (cores, comm) for cores, comm in use[:5]
            if cores >= 0.05]


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _git_rev():
    try:
        return subprocess.run(
            ["git", "-C", HERE, "describe", "--always", "--dirty"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _meta(deetune):
    version = subprocess.run([deetune, "--version"], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "deetune_version": version,
        "git": _git_rev(),
        "loadavg_start": os.getloadavg(),
        "busiest_processes_start": _busiest_processes(),
        "bpf_tracing_programs_start": _bpf_tracing_programs(),
    }


def _out_path():
    path = os.environ.get("BENCH_OUT")
    if path:
        return path
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(HERE, "results", "bench-%s.json" % stamp)


def run_measures(bench):
    """Runs each wanted measure; a failing measure leaves an error row
    and the others still run."""
    results, rows = {}, []
    for ident, title, fn in MEASURES:
        if not _wanted(bench.cfg, ident):
            continue
        t0 = time.monotonic()
        procs.log("measure %s: %s" % (ident, title))
        try:
            res = fn(bench)
        except procs.BenchError as exc:
            procs.log("measure %s failed: %s" % (ident, exc))
            res = {"error": str(exc), "rows": [{
                "id": ident.rstrip("rm"), "label": title, "unit": "",
                "na": "error: %s" % str(exc).splitlines()[0][:100]}]}
        res["seconds"] = time.monotonic() - t0
        results[ident] = res
        rows.extend(res["rows"])
    return results, rows


def _sort_key(row):
    """By id; rows of one id keep the order their measure gave them."""
    return row["id"]


def _summary_text(meta, table, goals, daemon_goals):
    """What is printed (and saved as .txt): context, table, goals."""
    lines = [
        "DeeTune benchmarks, %s, %s, %d CPUs, %.0f s" % (
            meta["date"], meta["kernel"], meta["cpus"], meta["seconds"]),
        "load average %.1f -> %.1f; busy processes (cores) at start: %s; "
        "at end: %s" % (meta["loadavg_start"][0], meta["loadavg_end"][0],
                        ", ".join(meta["busiest_processes_start"]) or "none",
                        ", ".join(meta["busiest_processes_end"]) or "none")]
    if meta["bpf_tracing_programs_start"]:
        lines.append("warning: BPF tracing programs were loaded before the "
                     "run (they slow every condition): " +
                     ", ".join(meta["bpf_tracing_programs_start"]))
    if meta.get("bpf_stats_enabled_start"):
        lines.append("warning: kernel.bpf_stats_enabled was 1 before the "
                     "run (set to 0 for it, put back after)")
    if meta.get("runs_with_foreign_bpf"):
        lines.append("warning: %d of %d runs had other BPF tracing programs "
                     "loaded (another recorder or tracer on the machine)" %
                     (meta["runs_with_foreign_bpf"], meta["runs"]))
    lines += ["cells: median (min-max) of the runs; x/base: change of the "
              "median against the baseline's", "", table]
    if goals:
        lines += ["", "Goals (issue 9):", report.goals_text(goals)]
    if daemon_goals:
        lines += ["", "Goals (issue 6, the daemon):",
                  report.goals_text(daemon_goals)]
    return "\n".join(lines)


def _bpf_stats_enabled():
    try:
        with open(capture.BPF_STATS) as f:
            return f.read().strip() == "1"
    except OSError:
        return None


def _measure(deetune, capture_dir, work, cfg):
    """Starts the servers, runs the measures, stops everything."""
    try:
        srv = servers.start_all(work, cfg.ports)
        bench = runner.Bench(deetune, capture_dir, srv, cfg)
        results, rows = run_measures(bench)
    finally:
        procs.stop_all()
    return results, rows, bench


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: bench.py DEETUNE SYSCALL_LOAD WORK_DIR CAPTURE_DIR")
    deetune, syscall_load, work, capture_dir = sys.argv[1:]
    procs.install_signal_handlers()
    cfg = load_config(syscall_load)
    started = time.monotonic()
    meta = _meta(deetune)
    others = [n for n in meta["bpf_tracing_programs_start"] or []
              if n.startswith("dt_")]
    if others:
        procs.log("warning: deetune BPF programs are already loaded (%s): "
                  "another recording slows every condition" %
                  ", ".join(others))
    meta["bpf_stats_enabled_start"] = _bpf_stats_enabled()
    if meta["bpf_stats_enabled_start"]:
        procs.log("warning: kernel.bpf_stats_enabled was 1 (it slows every "
                  "BPF program run): 0 for the run, put back after")
    # bpf_stats off but where a measure turns it on for its own pass
    with capture.bpf_stats(False):
        results, rows, bench = _measure(deetune, capture_dir, work, cfg)
    meta["runs"] = bench.runs
    meta["runs_with_foreign_bpf"] = bench.foreign_runs
    rows.sort(key=_sort_key)
    goals = report.goals(rows, results)
    daemon_goals = report.daemon_goals(rows, results)
    meta["loadavg_end"] = os.getloadavg()
    meta["busiest_processes_end"] = _busiest_processes()
    meta["seconds"] = time.monotonic() - started
    table = report.table(rows)
    doc = {"meta": meta, "config": vars(cfg) | {"only": sorted(cfg.only)
                                                if cfg.only else None},
           "table": table.splitlines(), "rows": rows, "goals": goals,
           "daemon_goals": daemon_goals,
           "measures": results}
    out = _out_path()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, default=str)
    text = _summary_text(meta, table, goals, daemon_goals)
    with open(os.path.splitext(out)[0] + ".txt", "w") as f:
        f.write(text + "\n")
    print()
    print(text)
    print()
    print("written: %s (and .txt)" % out)
    failed = [r for r in rows if r.get("na", "").startswith("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except procs.BenchError as exc:
        procs.log(str(exc))
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
