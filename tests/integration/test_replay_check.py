#!/usr/bin/env python3
"""Checks a replayed session against the recorded one, for the replay tests.

    test_replay_check.py RECORDED.jsonl REPLAYED.jsonl [checks...]

Both files are `deetune cat --raw` outputs. Always checked: every
recorded exchange is replayed exactly once (link_id), with the same
protocol, no replayed exchange links elsewhere, and none failed (no
replay.error) unless --failed is given. Checks:

  --server-port P   replayed exchanges went to 127.0.0.1:P, from deetune
  --same-status     HTTP: the replayed status is the recorded one
  --same-body       HTTP: the replayed body bytes are the recorded ones
                    (chunked framing included) for responses of GETs
  --same-reply      Redis: the replayed reply bytes are the recorded ones
  --same-result     MySQL: the response.* attributes are the recorded ones
                    (but for connection ids, capabilities, statement ids)
  --conn-order      Redis, MySQL: each recorded connection was replayed on
                    one connection of its own, in recorded order
  --pacing MS       request start times keep the recorded gaps: each
                    replayed start, relative to the first, within MS ms of
                    the recorded one
  --failed          every exchange failed: flag no-response and a
                    replay.error (printed once)
  --count N         the recording holds N exchanges
Prints a one-line summary; exits 1 with the problems otherwise.
"""
import argparse
import base64
import json
import sys

IGNORED_MYSQL = {"response.connection_id", "response.server_caps",
                 "response.stmt_id", "response.server_version",
                 "response.auth_plugin"}

problems = []


def problem(msg):
    if len(problems) < 30:
        problems.append(msg)


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def raw(msg):
    if not msg or "raw" not in msg:
        return b""
    return base64.b64decode(msg["raw"])


def http_split(data):
    """(status, body) of the final response in data."""
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return None, b""
        status = int(data.split(b" ", 2)[1])
        if 100 <= status < 200:
            data = data[end + 4:]
            continue
        return status, data[end + 4:]


def check_links(rec, rep, args):
    by_id = {x["id"]: x for x in rec}
    seen = {}
    for x in rep:
        link = x.get("link_id")
        if link not in by_id:
            problem("replayed exchange %d links to %r" % (x["id"], link))
            continue
        if link in seen:
            problem("recorded exchange %d replayed twice" % link)
        seen[link] = x
        if x["protocol"] != by_id[link]["protocol"]:
            problem("exchange %d replayed as %s" % (link, x["protocol"]))
        error = x["attrs"].get("replay.error")
        if args.failed:
            if not error or "no-response" not in x["flags"]:
                problem("exchange %d did not fail" % link)
        elif error:
            problem("exchange %d failed: %s" % (link, error))
    for x in rec:
        if x["id"] not in seen:
            problem("recorded exchange %d not replayed" % x["id"])
    return seen


def check_endpoints(pairs, port):
    for rec, rep in pairs:
        if rep["server"]["addr"] != "127.0.0.1:%d" % port:
            problem("exchange %d went to %s" % (rec["id"],
                                                rep["server"]["addr"]))
        if rep["client"]["comm"] != "deetune":
            problem("exchange %d sent by %r" % (rec["id"],
                                                rep["client"]["comm"]))


def check_http(pairs, args):
    for rec, rep in pairs:
        rs, rb = http_split(raw(rec["response"]))
        ps, pb = http_split(raw(rep["response"]))
        if args.same_status and rs != ps:
            problem("exchange %d: status %s, recorded %s" % (rec["id"], ps,
                                                             rs))
        method = (rec["request"] or {}).get("method")
        if args.same_body and method == "GET" and rb != pb:
            problem("exchange %d: body of %d bytes differs from the "
                    "recorded %d" % (rec["id"], len(pb), len(rb)))


def check_redis(pairs):
    for rec, rep in pairs:
        if raw(rec["response"]) != raw(rep["response"]):
            problem("exchange %d: reply %r, recorded %r" % (
                rec["id"], raw(rep["response"])[:60],
                raw(rec["response"])[:60]))


def mysql_result(x):
    return {k: v for k, v in x["attrs"].items()
            if k.startswith("response.") and k not in IGNORED_MYSQL}


def check_mysql(pairs):
    for rec, rep in pairs:
        a, b = mysql_result(rec), mysql_result(rep)
        if a != b:
            problem("exchange %d (%s): %s, recorded %s" % (
                rec["id"], rec["attrs"].get("request.sql") or
                rec["attrs"].get("request.command"), json.dumps(b)[:300],
                json.dumps(a)[:300]))


def check_conn_order(pairs):
    conns = {}
    for rec, rep in sorted(pairs, key=lambda p: p[0]["id"]):
        conns.setdefault(rec["conn_id"], []).append(rep)
    used = {}
    for conn, reps in conns.items():
        ids = {r["conn_id"] for r in reps}
        if len(ids) != 1:
            problem("recorded connection %d replayed on %s" % (conn, ids))
            continue
        rid = ids.pop()
        if rid in used:
            problem("connections %d and %d share replay connection %d" %
                    (conn, used[rid], rid))
        used[rid] = conn
        starts = [r["timing"]["req_start_ns"] for r in reps]
        if starts != sorted(starts):
            problem("recorded connection %d replayed out of order" % conn)


def check_pacing(pairs, ms):
    pairs = [p for p in pairs if p[0]["timing"]["req_start_ns"]]
    pairs.sort(key=lambda p: p[0]["timing"]["req_start_ns"])
    rec0 = pairs[0][0]["timing"]["req_start_ns"]
    rep0 = pairs[0][1]["timing"]["req_start_ns"]
    worst = 0.0
    for rec, rep in pairs:
        want = (rec["timing"]["req_start_ns"] - rec0) / 1e6
        got = (rep["timing"]["req_start_ns"] - rep0) / 1e6
        worst = max(worst, abs(got - want))
        if abs(got - want) > ms:
            problem("exchange %d started %.2f ms after the first, "
                    "recorded %.2f ms" % (rec["id"], got, want))
    span = (pairs[-1][0]["timing"]["req_start_ns"] - rec0) / 1e6
    print("pacing: %d requests over %.0f ms, worst deviation %.2f ms" %
          (len(pairs), span, worst))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recorded")
    ap.add_argument("replayed")
    ap.add_argument("--server-port", type=int)
    ap.add_argument("--same-status", action="store_true")
    ap.add_argument("--same-body", action="store_true")
    ap.add_argument("--same-reply", action="store_true")
    ap.add_argument("--same-result", action="store_true")
    ap.add_argument("--conn-order", action="store_true")
    ap.add_argument("--pacing", type=float)
    ap.add_argument("--failed", action="store_true")
    ap.add_argument("--count", type=int)
    args = ap.parse_args()

    rec, rep = load(args.recorded), load(args.replayed)
    if args.count is not None and len(rec) != args.count:
        problem("the recording holds %d exchanges, expected %d" %
                (len(rec), args.count))
    seen = check_links(rec, rep, args)
    pairs = [(x, seen[x["id"]]) for x in rec if x["id"] in seen]
    if args.failed:
        errors = {p[1]["attrs"].get("replay.error") for p in pairs}
        print("replay errors: %s" % sorted(e for e in errors if e)[:3])
    if args.server_port and not args.failed:
        check_endpoints(pairs, args.server_port)
    if args.same_status or args.same_body:
        check_http(pairs, args)
    if args.same_reply:
        check_redis(pairs)
    if args.same_result:
        check_mysql(pairs)
    if args.conn_order:
        check_conn_order(pairs)
    if args.pacing is not None:
        check_pacing(pairs, args.pacing)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print("checked %d recorded exchanges, %d replayed" % (len(rec),
                                                          len(rep)))


if __name__ == "__main__":
    main()
