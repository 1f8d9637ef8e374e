"""The printed table and the goals of issues 9 and 6 (the daemon), from
the measures' rows.

A row is a dict: id, label, unit, better ("higher"/"lower"), notes, and
for each condition present ("baseline", "deetune", "tcpdump", "daemon") a
summary {"median", "min", "max", ...}; or "na" with the reason it has no
figures.
"""
import stats

# measures 7 and 8: a throughput change this small is no change
IDLE_TOLERANCE = 0.05

COLUMNS = ("baseline", "deetune", "tcpdump", "daemon")


def _num(val, unit):
    if val is None:
        return "-"
    if unit in ("req/s", "q/s"):
        return "%.1fk" % (val / 1000) if val >= 1000 else "%.0f" % val
    if unit == "cores":
        return "%.3f" % val
    if unit == "%":
        return "%.1f%%" % val
    return "%.0f" % val


def cell(summary, unit):
    """median (min-max), or - when the condition was not measured."""
    if not summary:
        return "-"
    med = _num(summary["median"], unit)
    if summary["n"] < 2:
        return med
    return "%s (%s-%s)" % (med, _num(summary["min"], unit),
                           _num(summary["max"], unit))


def change(row, cond):
    """Relative change of cond's median against the baseline's."""
    base = (row.get("baseline") or {}).get("median")
    val = (row.get(cond) or {}).get("median")
    r = stats.ratio(val, base)
    return None if r is None else r - 1.0


def _pct(val):
    return "-" if val is None else "%+.1f%%" % (100.0 * val)


def table(rows):
    """The table as text: one line per row; a condition no row has (the
    daemon when its measures did not run) gets no columns."""
    cols = [c for c in COLUMNS if c == "baseline" or any(row.get(c)
                                                         for row in rows)]
    head = ["#", "measure", "unit"] + cols + \
        ["%s/base" % c for c in cols[1:]] + ["notes"]
    lines = []
    for row in rows:
        if "na" in row:
            # no figures: the reason spans the value columns
            lines.append([row["id"], row["label"], row.get("unit", ""),
                          row["na"]])
            continue
        lines.append([row["id"], row["label"], row["unit"]] +
                     [cell(row.get(c), row["unit"]) for c in cols] +
                     [_pct(change(row, c)) for c in cols[1:]] +
                     [row.get("notes", "")])
    full = [head] + [line for line in lines if len(line) == len(head)]
    widths = [max(len(str(line[i])) for line in full)
              for i in range(len(head) - 1)] + [0]
    out = []
    for line in [head] + lines:
        out.append("  ".join(str(v).ljust(w) for v, w in
                             zip(line, widths)).rstrip())
    out.insert(1, "-" * min(160, len(out[0])))
    return "\n".join(out)


def _find(rows, ident, label_part):
    for row in rows:
        if row["id"] == ident and label_part in row["label"]:
            return row
    return None


def _median(row, cond):
    return ((row or {}).get(cond) or {}).get("median")


def goals(rows, measures):
    """Each goal of issue 9 with the figure measured for it."""
    out = []

    def add(goal, measured, met):
        out.append({"goal": goal, "measured": measured, "met": met})

    sat = _find(rows, "1", "req/s")
    if sat and "na" not in sat:
        dt, td = change(sat, "deetune"), change(sat, "tcpdump")
        comp = measures.get("1", {}).get("completeness", {})
        add("recording 100% of wrk->nginx at saturation costs <= 5% "
            "throughput (tcpdump ~13%)",
            "deetune %s, tcpdump %s at %s req/s; recorded %s of %s "
            "exchanges, %s drops" % (
                _pct(dt), _pct(td), _num(_median(sat, "baseline"), "req/s"),
                comp.get("recorded"), comp.get("served"), comp.get("drops")),
            dt is not None and dt >= -0.05 and
            comp.get("recorded") == comp.get("served"))
    half = measures.get("2", {})
    if "completeness" in half:
        comp = half["completeness"]
        add("every exchange recorded, zero drops, up to at least 30k req/s",
            "at %d req/s offered: recorded %d of %d, %d drops, "
            "%d incomplete" % (half["rate"], comp["recorded"],
                               comp["served"], comp["drops"],
                               comp["incomplete"]),
            comp["recorded"] == comp["served"] and comp["drops"] == 0 and
            half["rate"] >= 30000)
    p99 = _find(rows, "2", "p99")
    if p99 and "na" not in p99:
        dt, td = change(p99, "deetune"), change(p99, "tcpdump")
        add("p99 latency at half load rises by <= 10%",
            "deetune %s (%s -> %s us), tcpdump %s" % (
                _pct(dt), _num(_median(p99, "baseline"), "us"),
                _num(_median(p99, "deetune"), "us"), _pct(td)),
            dt is not None and dt <= 0.10)
    cpu = _find(rows, "4", "CPU")
    if cpu and "na" not in cpu:
        runs = measures["4"]["runs"]["deetune"]
        user = stats.median(stats.field(runs, "capture", "cpu_user_cores"))
        total = _median(cpu, "deetune")
        add("recorder user-space CPU <= 0.25 core at 10k exchanges/s",
            "%.3f cores user, %.3f user+system" % (user, total),
            user <= 0.25)
    rss = _find(rows, "4", "RSS")
    if rss and "na" not in rss:
        peak = _median(rss, "deetune")
        add("recorder peak RSS <= 64 MiB", "%.0f MiB (VmHWM)" % peak,
            peak <= 64)
    rep = _find(rows, "5", "replay")
    if rep:
        if "na" in rep:
            add("replay reaches >= 90% of wrk's rate", rep["na"], None)
        else:
            r = stats.ratio(_median(rep, "deetune"), _median(rep, "baseline"))
            add("replay reaches >= 90% of wrk's rate",
                "%.0f%% of wrk" % (100 * r), r >= 0.9)
    size = _find(rows, "4", "file/raw")
    if size and "na" not in size:
        pct = _median(size, "deetune")
        add("session files <= 25% of the raw bytes (JSON API traffic)",
            "%.1f%% (tcpdump pcap %.0f%%)" % (pct, _median(size, "tcpdump")),
            pct <= 25)
    return out


def daemon_goals(rows, measures):
    """The daemon's targets of issue 6 with the figures measured for
    them (measures 7-9). A throughput loss within IDLE_TOLERANCE counts
    as none: run-to-run noise on a shared 2-core machine is larger."""
    out = []

    def add(goal, measured, met):
        out.append({"goal": goal, "measured": measured, "met": met})

    sat = _find(rows, "7a", "req/s")
    if sat and "na" not in sat:
        dt = change(sat, "daemon")
        add("with no task running, the probes cost close to nothing "
            "(throughput lost <= %.0f%%)" % (100 * IDLE_TOLERANCE),
            "saturation %s (%s -> %s req/s); half-load p99 %s" % (
                _pct(dt), _num(_median(sat, "baseline"), "req/s"),
                _num(_median(sat, "daemon"), "req/s"),
                _pct(change(_find(rows, "7b", "p99") or {}, "daemon"))),
            dt is not None and dt >= -IDLE_TOLERANCE)
    tsk = _find(rows, "8", "req/s")
    if tsk and "na" not in tsk:
        dm, rec = change(tsk, "daemon"), change(tsk, "deetune")
        add("a daemon task costs what `deetune record` costs (within "
            "%.0f points)" % (100 * IDLE_TOLERANCE),
            "daemon task %s, deetune record %s" % (_pct(dm), _pct(rec)),
            None if dm is None or rec is None else
            abs(dm - rec) <= IDLE_TOLERANCE)
    mem = measures.get("9")
    if mem and "runs" in mem:
        peaks = [r["capture"]["peak_rss_kib"] / 1024 for r in mem["runs"]]
        add("the daemon's memory stays under --max-memory (%.0f MiB) "
            "whatever the traffic" % (mem["limit_bytes"] / 2**20),
            "VmHWM %s MiB; %d of %d runs under the limit" % (
                "/".join("%.0f" % p for p in peaks),
                mem["runs_under_limit"], len(peaks)),
            mem["runs_under_limit"] == len(peaks))
    return out


def goals_text(goal_list):
    lines = []
    for g in goal_list:
        mark = {True: "met", False: "NOT MET", None: "n/a"}[g["met"]]
        lines.append("  [%-7s] %s: %s" % (mark, g["goal"], g["measured"]))
    return "\n".join(lines)
