#!/usr/bin/env python3
"""Checks `deetune cat --raw` output against nginx's access log and the
bytes the test clients (http_client.py) really sent and received.

    check_session.py --cat CAT --access LOG --port PORT
                     [--capture PREFIX]... [--sendfile-prefix PATH]

CAT is the JSON-lines output of `deetune cat --raw`, LOG the access-log
lines of the recording window (tab-separated, see fixtures/nginx), PORT the
server port. Asserts:
  (a) one exchange per request nginx logged;
  (c) the multiset of (method, target, status) equals the access log's;
  (b) for each client capture PREFIX: the exchanges of its connection (the
      client port), in id order, are its requests in order; the
      concatenated request.raw equals PREFIX.sent and response.raw equals
      PREFIX.recv, and each exchange holds exactly its own bytes;
plus per-exchange consistency (ids 1..N, len == raw length, timings,
parsed fields equal to what the raw bytes say). Exchanges must carry no
flags, except that with --sendfile-prefix, GET responses (200) for paths
under it went through sendfile(): they must be flagged "sendfile" and
"incomplete" and hold a proper prefix of the real response.
Prints every problem found and exits 1 when there is one.
"""
import argparse
import collections
import json
import sys

from checklib import Checker, raw



def load_exchanges(path, ck):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                ck.error(f"cat line {n} is not JSON ({e}): {line[:200]!r}")
    return out


def load_access(path):
    """(port, method, target, status) per logged request, in log order."""
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            request = fields[9].strip('"').split(" ")
            out.append((int(fields[3]), request[0],
                        request[1] if len(request) > 1 else "",
                        int(fields[6])))
    return out



def addr_port(addr):
    return int(addr.rsplit(":", 1)[1])


def summary(x):
    req = x.get("request") or {}
    resp = x.get("response") or {}
    return (req.get("method"), req.get("path"), resp.get("status"))


def parse_head(data):
    """Start line, headers as `deetune cat` shows them, head length."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        value = value.strip(" \t")
        if name in headers:
            old = headers[name]
            headers[name] = (old if isinstance(old, list) else [old]) + \
                [value]
        else:
            headers[name] = value
    return lines[0].split(" ", 2), headers, end + 4


def check_exchange(ck, x, port):
    xid = x.get("id")
    where = f"exchange {xid}"
    ck.check(x.get("protocol") == "http", f"{where}: protocol "
             f"{x.get('protocol')!r}")
    server = x.get("server") or {}
    ck.check(str(server.get("addr", "")).endswith(f":{port}"),
             f"{where}: server addr {server.get('addr')!r}, port {port}")
    ck.check(server.get("comm") == "nginx",
             f"{where}: server comm {server.get('comm')!r}, not nginx")
    t = x.get("timing") or {}
    names = ("req_start_ns", "req_end_ns", "resp_start_ns", "resp_end_ns")
    if not ck.check(all(isinstance(t.get(k), int) for k in names),
                    f"{where}: timing incomplete: {t}"):
        return
    ck.check(x.get("start_ns") == t["req_start_ns"],
             f"{where}: start_ns {x.get('start_ns')} != req_start_ns")
    ck.check(0 < t["req_start_ns"] <= t["req_end_ns"],
             f"{where}: request timing {t}")
    ck.check(t["req_start_ns"] <= t["resp_start_ns"] <= t["resp_end_ns"],
             f"{where}: response timing {t}")
    ck.check(x.get("duration_ns") == t["resp_end_ns"] - t["req_start_ns"],
             f"{where}: duration_ns {x.get('duration_ns')} != "
             f"resp_end_ns - req_start_ns")
    for side in ("request", "response"):
        msg = x.get(side)
        if not ck.check(isinstance(msg, dict), f"{where}: no {side}"):
            continue
        data = raw(msg)
        if ck.check(data is not None, f"{where}: {side} without raw"):
            ck.check(msg.get("len") == len(data),
                     f"{where}: {side}.len {msg.get('len')} but raw has "
                     f"{len(data)} bytes")


def check_parsed(ck, where, msg, data, is_request):
    """The parsed fields of one message agree with its raw bytes."""
    parsed = parse_head(data)
    if not ck.check(parsed is not None, f"{where}: raw has no head"):
        return
    start, headers, head_len = parsed
    if is_request:
        got = (msg.get("method"), msg.get("path"), msg.get("version"))
        want = (start[0], start[1], start[2])
    else:
        got = (msg.get("version"), msg.get("status"), msg.get("reason"))
        want = (start[0], int(start[1]), start[2] if len(start) > 2 else "")
    ck.check(got == want, f"{where}: start line fields {got}, raw {want}")
    ck.check(msg.get("headers") == headers,
             f"{where}: headers {msg.get('headers')} != raw {headers}")
    ck.check(msg.get("body_len") == len(data) - head_len,
             f"{where}: body_len {msg.get('body_len')}, raw has "
             f"{len(data) - head_len} bytes after the head")


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def compare_bytes(ck, what, got, want):
    if got == want:
        return True
    i = first_difference(got, want)
    ck.error(f"{what}: recorded {len(got)} bytes, real {len(want)}; first "
             f"difference at offset {i}: recorded "
             f"{got[max(0, i - 16):i + 32]!r}, real "
             f"{want[max(0, i - 16):i + 32]!r}")
    return False


def is_sendfile(prefix, method, path, status):
    return (prefix is not None and method == "GET" and status == 200 and
            path.startswith(prefix))


def check_flags(ck, x, prefix):
    flags = sorted(x.get("flags") or [])
    method, path, status = summary(x)
    if is_sendfile(prefix, method, path or "", status):
        ck.check("sendfile" in flags and "incomplete" in flags,
                 f"exchange {x.get('id')} ({method} {path}): body sent "
                 f"with sendfile but flags are {flags}")
    else:
        ck.check(flags == [], f"exchange {x.get('id')} ({method} {path} "
                 f"{status}): unexpected flags {flags}")


def check_capture(ck, exchanges, prefix, sendfile_prefix):
    with open(prefix + ".json", encoding="utf-8") as f:
        cap = json.load(f)
    with open(prefix + ".sent", "rb") as f:
        sent = f.read()
    with open(prefix + ".recv", "rb") as f:
        recv = f.read()
    name = f"{prefix.rsplit('/', 1)[-1]} ({cap['addr']})"
    mine = sorted((x for x in exchanges
                   if (x.get("client") or {}).get("addr") == cap["addr"]),
                  key=lambda x: x["id"])
    want = [(e["method"], e["path"], e["status"]) for e in cap["exchanges"]]
    got = [summary(x) for x in mine]
    same = ck.check(got == want, f"{name}: recorded exchanges {got}, "
                    f"client made {want}")
    all_req = b"".join(raw(x["request"]) or b"" for x in mine)
    all_resp = b"".join(raw(x["response"]) or b"" for x in mine)
    has_sendfile = any(is_sendfile(sendfile_prefix, *w) for w in want)
    compare_bytes(ck, f"{name}: all requests", all_req, sent)
    if not has_sendfile:
        compare_bytes(ck, f"{name}: all responses", all_resp, recv)
    if not same:
        return
    for x, e in zip(mine, cap["exchanges"]):
        where = f"{name} exchange {x['id']} ({e['method']} {e['path']})"
        req = raw(x["request"]) or b""
        resp = raw(x["response"]) or b""
        real_req = sent[e["req"][0]:e["req"][1]]
        real_resp = recv[e["resp"][0]:e["resp"][1]]
        if compare_bytes(ck, f"{where}: request", req, real_req):
            check_parsed(ck, f"{where}: request", x["request"], req, True)
        if is_sendfile(sendfile_prefix, *summary(x)):
            ck.check(len(resp) < len(real_resp) and
                     real_resp.startswith(resp),
                     f"{where}: sendfile response holds {len(resp)} bytes; "
                     f"must be a proper prefix of the real "
                     f"{len(real_resp)} bytes")
        elif compare_bytes(ck, f"{where}: response", resp, real_resp):
            if not real_resp.startswith(b"HTTP/1.1 1"):  # no interim
                check_parsed(ck, f"{where}: response", x["response"], resp,
                             False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cat", required=True)
    ap.add_argument("--access", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--capture", action="append", default=[])
    ap.add_argument("--sendfile-prefix")
    args = ap.parse_args()

    ck = Checker("check_session")
    exchanges = load_exchanges(args.cat, ck)
    access = load_access(args.access)
    ids = [x.get("id") for x in exchanges]
    ck.check(ids == list(range(1, len(ids) + 1)),
             f"ids are not 1..{len(ids)} in order: {ids[:20]}...")
    # (a)
    ck.check(len(exchanges) == len(access),
             f"(a) {len(exchanges)} exchanges recorded, nginx logged "
             f"{len(access)} requests")
    # (c)
    got = collections.Counter(summary(x) for x in exchanges)
    want = collections.Counter((m, p, s) for _, m, p, s in access)
    if got != want:
        ck.error(f"(c) (method, path, status) differ: only recorded "
                 f"{dict(got - want)}; only in the access log "
                 f"{dict(want - got)}")
    for x in exchanges:
        check_exchange(ck, x, args.port)
        check_flags(ck, x, args.sendfile_prefix)
    # (b)
    for prefix in args.capture:
        check_capture(ck, exchanges, prefix, args.sendfile_prefix)

    return ck.report(f"{len(exchanges)} exchanges ok "
          f"({len(args.capture)} byte-exact captures)")


if __name__ == "__main__":
    sys.exit(main())
