#!/usr/bin/env python3
"""Checks a recording of malformed_client.py's traffic:

    check_fault.py CAT.jsonl CONNS.json

CAT is `deetune cat --raw` of the session, CONNS what the client logged.
Per client connection (by its port):
  - nothing invented: at most one exchange per request sent, every
    recorded request a slice of the bytes sent, every response a slice
    of the bytes received;
  - its whole exchanges come first, byte for byte and unflagged;
  - every other exchange is flagged (malformed, incomplete, no-response
    or truncated), and there are as many as the connection's "expect"
    says: none ("nothing"), at least one ("marked"), or any number.
A connection the client reset before reading its response ("read_part")
may show the whole response the server wrote, unflagged: what the client
received must then be its start.
"""
import base64
import json
import sys

MARKS = {"malformed", "incomplete", "no-response", "truncated"}


def raw(msg):
    return base64.b64decode(msg["raw"]) if msg and "raw" in msg else b""


def check_conn(conn, xs, errors):
    case = conn["case"]
    sent = base64.b64decode(conn["sent"])
    received = base64.b64decode(conn["received"])
    healthy = [(base64.b64decode(q), base64.b64decode(r))
               for q, r in conn["healthy"]]

    def err(msg):
        errors.append(f"{case} (port {conn['port']}): {msg}")

    if len(xs) > conn["requests"]:
        err(f"{len(xs)} exchanges for {conn['requests']} requests")
    read_part = conn.get("read_part", False)
    for x in xs:
        resp = raw(x["response"])
        if raw(x["request"]) not in sent:
            err(f"exchange {x['id']}: request bytes never sent")
        if resp not in received and not (read_part and
                                         resp.startswith(received)):
            err(f"exchange {x['id']}: response bytes never received")
    for i, (req, resp) in enumerate(healthy):
        if i >= len(xs):
            err(f"healthy exchange {i} missing")
            return
        x = xs[i]
        if x["flags"] or raw(x["request"]) != req or \
                raw(x["response"]) != resp:
            err(f"exchange {x['id']} is not healthy exchange {i}: "
                f"flags {x['flags']}")
    rest = xs[len(healthy):]
    for x in rest:
        if not MARKS & set(x["flags"]) and not read_part:
            err(f"exchange {x['id']} unflagged: {x['flags']}")
    if conn["expect"] == "nothing" and rest:
        err(f"{len(rest)} exchanges beyond the whole ones")
    if conn["expect"] == "marked" and not rest:
        err("not marked: no flagged exchange")
    print(f"{case}: {len(healthy)} whole, flagged: "
          f"{[sorted(x['flags']) for x in rest]}")


def main():
    xs = [json.loads(line) for line in open(sys.argv[1])]
    conns = json.load(open(sys.argv[2]))
    errors = []
    for conn in conns:
        port = ":%d" % conn["port"]
        check_conn(conn, [x for x in xs if x["client"]["addr"].endswith(port)],
                   errors)
    if errors:
        sys.exit("\n".join(errors))


if __name__ == "__main__":
    main()
