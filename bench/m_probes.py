"""Measure 6: the per-event cost of the probes.

bench/syscall_load.c makes syscalls in a tight loop and reports its own
CPU time (which includes the BPF programs, since they run in the
syscall). Conditions, interleaved:
  baseline    no probes
  deetune     `deetune record --server port:P`: the workload's port is
              selected, every payload is copied and recorded
  unselected  `deetune record --server port:OTHER`: probes attached but
              the workload is not selected (what every other process on
              the host pays)
  tcpdump     tcpdump capturing port P (pingpong only)
Added CPU per syscall = (CPU with - CPU without) / syscalls; for the
captured case the recorder's own CPU during the loop is added too.
A separate pass with kernel.bpf_stats_enabled=1 reads run_time_ns and
run_cnt of the recorder's programs (/proc/PID/fdinfo): the time the BPF
programs themselves take per syscall (bpf_stats adds a little itself,
so it is not used for the CPU figures).
"""
import capture
import loads
import procs
import runner
import stats

# (mode, row id, label) of the rows; pingpong uses a TCP port
WORKLOADS = (("pingpong", "6a", "captured socket syscall"),
             ("pingpong", "6b", "unselected socket syscall"),
             ("devnull", "6c", "write() to /dev/null"),
             ("getppid", "6d", "getppid() (not hooked)"))


def count(bench, mode):
    """Iterations of workload mode (BENCH_PINGPONG, BENCH_SYSCALLS)."""
    return bench.cfg.pingpong_count if mode == "pingpong" else \
        bench.cfg.syscall_count


def _syscall_load(bench, mode, port):
    return loads.syscall_load(bench.cfg.syscall_load, mode,
                              count(bench, mode),
                              port if mode == "pingpong" else None)


def _workload(bench, mode, port, cap=None):
    """One syscall_load run; adds the capturer's CPU during it."""
    before = procs.cpu_seconds(cap.proc.pid) if cap else None
    res = _syscall_load(bench, mode, port)
    if cap:
        after = procs.cpu_seconds(cap.proc.pid)
        res["capture_cpu_ns"] = int(
            (sum(after) - sum(before)) * 1e9)
    else:
        res["capture_cpu_ns"] = 0
    res["ns_per_syscall"] = res["cpu_ns"] / res["syscalls"]
    res["total_ns_per_syscall"] = (res["cpu_ns"] + res["capture_cpu_ns"]) \
        / res["syscalls"]
    return res


def run_condition(bench, cond, port, other_port, modes):
    """The workloads modes under condition cond (see the module's
    docstring; "daemon-idle" is the daemon with no task, measure 7)."""
    sel = other_port if cond == "unselected" else port
    kind = {"deetune": "deetune", "unselected": "deetune",
            "tcpdump": "tcpdump", "daemon-idle": "daemon-idle"}.get(cond)
    cap = bench.capturer(kind, "probe-" + cond, port, sel)
    if cap:
        cap.start()
    out = {"foreign_bpf": bench.check_foreign(cap)}
    for mode in modes:
        out[mode] = _workload(bench, mode, port, cap)
    if cap:
        capres = cap.stop()
        out["capture"] = capres
        runner.discard(cap)
    return out


def bpf_pass(bench, port, sel_port, kind="deetune"):
    """BPF program time per syscall of each workload (bpf_stats on)
    under a capturer of kind."""
    cap = bench.capturer(kind, "probe-bpfstats", port, sel_port)
    cap.start()
    out = {}
    try:
        for mode in ("pingpong", "devnull", "getppid"):
            before = cap.prog_stats()
            res = _syscall_load(bench, mode, port)
            progs, total = capture.prog_delta(before, cap.prog_stats())
            out[mode] = {"syscalls": res["syscalls"],
                         "bpf_ns_per_syscall": total / res["syscalls"],
                         "programs": progs}
    finally:
        cap.stop()
        runner.discard(cap)
    return out


def _bpf_stats(bench, port, other_port):
    """Both passes with kernel.bpf_stats_enabled=1."""
    with capture.bpf_stats() as enabled:
        if not enabled:
            return None
        return {"captured": bpf_pass(bench, port, port),
                "unselected": bpf_pass(bench, port, other_port)}


def per_event(bench):
    port = bench.cfg.ports["syscall"]
    other = bench.cfg.ports["unselected"]
    conds = ("baseline", "deetune", "unselected", "tcpdump")
    runs = {c: [] for c in conds}
    all_modes = ("pingpong", "devnull", "getppid")
    for rnd in range(bench.cfg.rounds):
        for cond in conds:
            modes = ("pingpong",) if cond == "tcpdump" else all_modes
            res = run_condition(bench, cond, port, other, modes)
            runs[cond].append(res)
            procs.log("probe round %d/%d %-10s %s" % (
                rnd + 1, bench.cfg.rounds, cond, ", ".join(
                    "%s %.0f ns" % (m, res[m]["total_ns_per_syscall"])
                    for m in modes)))
    bpf = _bpf_stats(bench, port, other)
    captured = [r["capture"]["exchanges"] for r in runs["deetune"]]
    rows = []
    for mode, ident, label in WORKLOADS:
        probe_cond = "deetune" if ident == "6a" else "unselected"
        sel = {"baseline": runs["baseline"], "deetune": runs[probe_cond]}
        if ident == "6a":
            sel["tcpdump"] = runs["tcpdump"]
        row = runner.row(ident, label, "ns/call", sel,
                         (mode, "total_ns_per_syscall"), better="lower")
        row["notes"] = _note(ident, mode, sel, bpf, probe_cond, captured,
                             count(bench, mode))
        rows.append(row)
    return {"runs": runs, "bpf_stats": bpf, "rows": rows}


def caller_note(mode, base_runs, probe_runs):
    """"+N ns in the caller": CPU per syscall added to the workload."""
    base = stats.median(stats.field(base_runs, mode, "ns_per_syscall"))
    inproc = stats.median(stats.field(probe_runs, mode, "ns_per_syscall"))
    return "%+.0f ns in the caller" % (inproc - base)


def bpf_note(bpf_mode):
    """The BPF programs' own time per syscall, from one bpf_pass() mode:
    all their time over the workload's syscalls, and per run of the
    sys_enter and sys_exit programs. The probes also run for every other
    syscall on the host, so on a busy machine the first figure grows with
    the runs per workload syscall, given when above 1.1."""
    progs = bpf_mode["programs"]
    enter = progs.get("dt_sys_enter", {})
    note = "BPF %.0f ns/call (enter %.0f + exit %.0f)" % (
        bpf_mode["bpf_ns_per_syscall"], enter.get("ns_per_run") or 0,
        progs.get("dt_sys_exit", {}).get("ns_per_run") or 0)
    runs = (enter.get("run_cnt") or 0) / bpf_mode["syscalls"]
    if runs > 1.1:
        note += " with %.1f runs per call (other processes)" % runs
    return note


def _note(ident, mode, sel, bpf, probe_cond, captured, iterations):
    parts = [caller_note(mode, sel["baseline"], sel["deetune"])]
    if ident == "6a":
        rec = stats.median([r[mode]["capture_cpu_ns"] / r[mode]["syscalls"]
                            for r in sel["deetune"]])
        parts.append("+%.0f ns in the recorder" % rec)
    if bpf:
        key = "captured" if probe_cond == "deetune" else "unselected"
        parts.append(bpf_note(bpf[key][mode]))
    if ident == "6a":
        parts.append("recorded %s of %d exchanges per run" % (
            "/".join(str(c) for c in captured), iterations))
    return "; ".join(parts)
