"""Measure 3: redis-benchmark and mysqlslap with and without capture."""
import loads
import procs
import runner
from runner import CONDITIONS


def _calibrated(rate, seconds, step):
    """Requests for about `seconds` at `rate`, a multiple of step."""
    return max(step, int(rate * seconds / step) * step)


def redis(bench):
    """3a: SET/GET without pipelining, 3b: with -P 16."""
    srv = bench.servers["redis"]
    rows, out = [], {}
    for ident, pipeline, probe in (("3a", 1, 50000), ("3b", 16, 500000)):
        first = loads.redis_benchmark(srv.port, probe, pipeline)
        rate = min(first["SET"]["rps"], first["GET"]["rps"])
        count = _calibrated(rate, bench.cfg.redis_test_seconds, 10000)
        runs = runner.interleave(
            bench, "redis-P%d" % pipeline, srv.port, CONDITIONS,
            bench.cfg.rounds, runner.ServerCounter(srv),
            lambda: loads.redis_benchmark(srv.port, count, pipeline))
        comp = runner.completeness(runs["deetune"])
        suffix = " -P16" if pipeline > 1 else ""
        notes = runner.completeness_note(comp, "commands")
        rows.append(runner.row(ident, "redis SET%s req/s" % suffix, "req/s",
                               runs, ("load", "SET", "rps"), notes))
        rows.append(runner.row(ident, "redis GET%s req/s" % suffix, "req/s",
                               runs, ("load", "GET", "rps"),
                               runner.cpu_note(runs) + "; " +
                               runner.tcpdump_note(runs["tcpdump"])))
        out["P%d" % pipeline] = {"requests_per_test": count, "runs": runs,
                                 "completeness": comp}
    out["rows"] = rows
    return out


def mysql(bench):
    """3c: mysqlslap, 8 clients, point and range selects."""
    srv = bench.servers["mariadb"]
    first = loads.mysqlslap(srv.port, 20000)
    count = _calibrated(first["rps"], bench.cfg.mysql_seconds, 10000)
    runs = runner.interleave(
        bench, "mysqlslap", srv.port, CONDITIONS, bench.cfg.rounds,
        runner.ServerCounter(srv), lambda: loads.mysqlslap(srv.port, count))
    comp = runner.completeness(runs["deetune"])
    procs.log("mysqlslap: %d queries per run" % count)
    notes = runner.completeness_note(comp, "statements") + \
        " (exchanges include each connection's COM_QUIT/setup); " + \
        runner.cpu_note(runs) + "; " + runner.tcpdump_note(runs["tcpdump"])
    return {"queries_per_run": count, "runs": runs, "completeness": comp,
            "rows": [runner.row("3c", "mysqlslap c=8 queries/s", "q/s",
                                runs, ("load", "rps"), notes)]}
