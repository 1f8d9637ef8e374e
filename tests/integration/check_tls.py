#!/usr/bin/env python3
"""Checks a recording of nginx over HTTPS (test_tls_nginx.sh).

    check_tls.py CAT ACCESS_LOG WWW POST_BODY

CAT is `deetune cat --raw` output, ACCESS_LOG the access-log lines of the
recording window (fixtures/nginx/nginx.conf.in's format), WWW the site's
root, POST_BODY the body the test POSTed to /submit. Asserts:
  - every exchange is HTTP flagged exactly "tls" (nothing malformed,
    incomplete or made of ciphertext), raw lengths match;
  - the multiset of (method, target, status) equals the access log's;
  - every 200 answer for a file holds that file byte for byte (after
    undoing chunked transfer and gzip); every POST body is POST_BODY.
Prints every problem found and exits 1 when there is one.
"""
import collections
import gzip
import json
import os
import sys
import urllib.parse

from checklib import Checker, raw


def split_message(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


def dechunk(body):
    out = bytearray()
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2:]


def served_body(resp):
    headers, body = split_message(resp)
    if headers is None:
        return None
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def load_access(path):
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            request = fields[9].strip('"').split(" ")
            out.append((request[0], request[1] if len(request) > 1 else "",
                        int(fields[6])))
    return out


def check_exchange(ck, x, www, post_body):
    n = x.get("id")
    req, resp = x.get("request", {}), x.get("response", {})
    ck.check(x.get("protocol") == "http", f"exchange {n}: not http: {x}")
    ck.check(x.get("flags") == ["tls"],
             f"exchange {n}: flags {x.get('flags')}, expected ['tls']")
    req_raw, resp_raw = raw(req), raw(resp)
    if not ck.check(req_raw is not None and resp_raw is not None,
                    f"exchange {n}: no raw bytes"):
        return
    ck.check(len(req_raw) == req.get("len") and
             len(resp_raw) == resp.get("len"),
             f"exchange {n}: len fields disagree with the raw bytes")
    if req.get("method") == "POST":
        _, body = split_message(req_raw)
        ck.check(body == post_body, f"exchange {n}: POST body differs")
        return
    path = urllib.parse.urlsplit(req.get("path", "")).path
    file = os.path.join(www, path.lstrip("/"))
    if resp.get("status") != 200 or not os.path.isfile(file):
        return
    with open(file, "rb") as f:
        want = f.read()
    try:
        got = served_body(resp_raw)
    except (ValueError, OSError, EOFError) as e:
        ck.error(f"exchange {n}: {path}: cannot decode the body: {e}")
        return
    ck.check(got == want, f"exchange {n}: {path}: body differs from the "
             f"file ({len(got or b'')} bytes, file {len(want)})")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    cat, access, www, post_path = sys.argv[1:]
    ck = Checker("check_tls")
    with open(post_path, "rb") as f:
        post_body = f.read()
    exchanges = []
    with open(cat, encoding="utf-8") as f:
        for line in f:
            exchanges.append(json.loads(line))
    for x in exchanges:
        check_exchange(ck, x, www, post_body)
    recorded = collections.Counter(
        (x.get("request", {}).get("method"), x.get("request", {}).get("path"),
         x.get("response", {}).get("status")) for x in exchanges)
    logged = collections.Counter(load_access(access))
    for key in (recorded - logged):
        ck.error(f"recorded but not logged: {key} x{(recorded - logged)[key]}")
    for key in (logged - recorded):
        ck.error(f"logged but not recorded: {key} x{(logged - recorded)[key]}")
    return ck.report(f"{len(exchanges)} exchanges ok")


if __name__ == "__main__":
    sys.exit(main())
