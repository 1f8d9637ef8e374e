"""Load generators: wrk, redis-benchmark, mysqlslap, syscall_load.
Each returns a dict of figures parsed from the tool's own output."""
import csv
import io
import json
import os
import re
import time

import procs

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_LUA = os.path.join(HERE, "conf", "wrk.lua")
MYSQLSLAP_SQL = os.path.join(HERE, "conf", "mysqlslap.sql")

WRK_THREADS = 2
WRK_CONNECTIONS = 32


def wrk(url, seconds, rate=None, docs=None):
    """wrk -t2 -c32 for seconds; rate= fixes the offered load (req/s),
    docs= spreads the requests over that many distinct documents."""
    args = []
    if rate:
        args += ["rate=%d" % rate, "threads=%d" % WRK_THREADS]
    if docs:
        args += ["docs=%d" % docs, "threads=%d" % WRK_THREADS]
    out = procs.run(["wrk", "-t%d" % WRK_THREADS, "-c%d" % WRK_CONNECTIONS,
                     "-d%ds" % seconds, "--latency", "-s", WRK_LUA, url,
                     "--"] + args, seconds + 60)
    m = re.search(r"^BENCH_JSON (\{.*\})$", out, re.M)
    if not m:
        raise procs.BenchError("wrk printed no result: " + out[-2000:])
    res = json.loads(m.group(1))
    errors = sum(res["errors"].values())
    lat = res["latency_us"]
    return {"rps": res["requests"] / (res["duration_us"] / 1e6),
            "requests": res["requests"], "errors": errors,
            "p50_us": lat["p50"], "p90_us": lat["p90"], "p99_us": lat["p99"],
            "p999_us": lat["p999"], "mean_us": lat["mean"]}


def redis_benchmark(port, requests, pipeline):
    """redis-benchmark SET then GET, 50 clients, 128-byte values over
    100,000 random keys; returns {"SET": {...}, "GET": {...}}."""
    out = procs.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
                     "-t", "set,get", "-n", str(requests), "-c", "50",
                     "-P", str(pipeline), "-d", "128", "-r", "100000",
                     "--csv"], 300)
    res = {}
    for row in csv.DictReader(io.StringIO(out)):
        res[row["test"]] = {
            "rps": float(row["rps"]),
            "p50_us": float(row["p50_latency_ms"]) * 1000,
            "p99_us": float(row["p99_latency_ms"]) * 1000,
            "requests": requests,
        }
    if set(res) != {"SET", "GET"}:
        raise procs.BenchError("redis-benchmark: unexpected output: " +
                               out[-2000:])
    return res


MYSQLSLAP_CONCURRENCY = 8


def mysqlslap(port, queries):
    """mysqlslap, 8 clients, the point and range selects of
    conf/mysqlslap.sql; returns queries/s."""
    t0 = time.monotonic()
    out = procs.run(["mysqlslap", "--protocol=tcp", "-h127.0.0.1",
                     "-P%d" % port, "-uroot", "--create-schema=bench",
                     "--query=" + MYSQLSLAP_SQL, "--delimiter=;",
                     "--concurrency=%d" % MYSQLSLAP_CONCURRENCY,
                     "--number-of-queries=%d" % queries, "--iterations=1"],
                    300)
    wall = time.monotonic() - t0
    m = re.search(r"Average number of seconds to run all queries: "
                  r"([0-9.]+)", out)
    if not m or float(m.group(1)) <= 0:
        raise procs.BenchError("mysqlslap: unexpected output: " + out)
    secs = float(m.group(1))
    return {"rps": queries / secs, "seconds": secs, "wall_s": wall,
            "requests": queries}


def syscall_load(binary, mode, count, port=None):
    """bench/syscall_load.c: {"syscalls", "wall_ns", "cpu_ns", ...}."""
    argv = [binary, mode] + ([str(port)] if port else []) + [str(count)]
    return json.loads(procs.run(argv, 120))
