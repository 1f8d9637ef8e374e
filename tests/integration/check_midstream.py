#!/usr/bin/env python3
"""Checks `deetune cat --raw` output of a recording that joined open
connections (midstream_client.py) against the bytes the client exchanged.

    check_midstream.py --cat CAT --capture JSON

For each connection of the capture (found by its client address):
  - the recorded exchanges are the requests sent whole after the
    recording started, in order, each holding exactly its request and
    response bytes (no response for COM_QUIT), with the connection's
    protocol and the flag "midstream" alone;
  - the one request cut by the start (its first half sent before), when
    the connection has one, is either not recorded or recorded first,
    flagged incomplete and midstream, with bytes from the straddler only;
  - nothing else: no exchange invented from the bytes of the
    straddler, its response or a resynchronisation.
The session holds no exchange of other connections.
Prints every problem found and exits 1 when there is one.
"""
import argparse
import json
import sys

from checklib import Checker, raw



def describe(x):
    req = x.get("request") or {}
    return (f"exchange {x.get('id')} ({req.get('method') or ''}"
            f"{req.get('command') or ''} {req.get('path') or ''}"
            f"{str(req.get('sql') or '')[:40]} {x.get('flags')})")


def check_straddler(ck, name, x, conn, sent, recv):
    req, resp = raw(x.get("request")) or b"", raw(x.get("response")) or b""
    s = conn["straddle"]
    real_req = sent[s["req"][0]:s["req"][1]]
    real_resp = recv[s["resp"][0]:s["resp"][1]]
    ck.check("incomplete" in x.get("flags", []) and
             "midstream" in x.get("flags", []),
             f"{name}: {describe(x)} holds the request cut by the start: it "
             f"must be flagged incomplete and midstream")
    ck.check(real_req.endswith(req) and (not resp or resp == real_resp),
             f"{name}: {describe(x)}: bytes {req[:60]!r} / {resp[:60]!r} "
             f"are not the straddler's {real_req!r}")


def check_connection(ck, exchanges, conn):
    with open(conn["sent"], "rb") as f:
        sent = f.read()
    with open(conn["recv"], "rb") as f:
        recv = f.read()
    name = f"{conn['name']} ({conn['addr']})"
    mine = sorted((x for x in exchanges
                   if (x.get("client") or {}).get("addr") == conn["addr"]),
                  key=lambda x: x["id"])
    want = conn["exchanges"]
    if conn["straddle"] and len(mine) == len(want) + 1:
        check_straddler(ck, name, mine[0], conn, sent, recv)
        mine = mine[1:]
    if not ck.check(len(mine) == len(want),
                    f"{name}: {len(mine)} exchanges recorded "
                    f"({[describe(x) for x in mine][:8]}), the client sent "
                    f"{len(want)} whole requests after the start "
                    f"({[e['what'] for e in want]})"):
        return
    for x, e in zip(mine, want):
        where = f"{name}: {describe(x)}, sent as {e['what']!r}"
        ck.check(x.get("protocol") == conn["protocol"],
                 f"{where}: protocol {x.get('protocol')!r}")
        ck.check(x.get("flags") == ["midstream"],
                 f"{where}: flags {x.get('flags')}, expected [midstream]")
        req = raw(x.get("request"))
        ck.check(req == sent[e["req"][0]:e["req"][1]],
                 f"{where}: request bytes {(req or b'')[:60]!r} differ "
                 f"from the client's {sent[e['req'][0]:e['req'][0] + 60]!r}")
        real_resp = recv[e["resp"][0]:e["resp"][1]]
        if not real_resp:
            ck.check(x.get("response") is None,
                     f"{where}: a response where there was none")
            continue
        resp = raw(x.get("response"))
        ck.check(resp == real_resp,
                 f"{where}: response bytes {(resp or b'')[:60]!r} differ "
                 f"from the client's {real_resp[:60]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cat", required=True)
    ap.add_argument("--capture", required=True)
    args = ap.parse_args()

    ck = Checker("check_midstream")
    with open(args.cat, encoding="utf-8") as f:
        exchanges = [json.loads(line) for line in f if line.strip()]
    with open(args.capture, encoding="utf-8") as f:
        conns = json.load(f)
    for conn in conns:
        check_connection(ck, exchanges, conn)
    addrs = {c["addr"] for c in conns}
    others = [describe(x) for x in exchanges
              if (x.get("client") or {}).get("addr") not in addrs]
    ck.check(not others, f"exchanges of other connections: {others[:10]}")

    return ck.report(f"{len(exchanges)} exchanges on {len(conns)} "
                     f"joined connections ok")


if __name__ == "__main__":
    sys.exit(main())
