#!/usr/bin/python3
"""Checks the HTTP/2 exchanges test_http2.sh recorded: `deetune cat --raw`
lines on stdin; argv: the served directory, the POST body file, the number
of exchanges expected, the path h2load fetched and how many times.

Every stream is one exchange, unflagged, paired by stream id (unique per
connection), and the bodies stored are exactly the files served."""
import base64
import json
import os
import sys
from collections import defaultdict

www, post_file, want, load_path, load_n = sys.argv[1:6]
want, load_n = int(want), int(load_n)
post = open(post_file, "rb").read()
xs = [json.loads(line) for line in sys.stdin]
errors = []


def err(x, msg):
    errors.append("exchange %s (%s): %s" % (x.get("id"), x["attrs"].get("path"),
                                            msg))


def split(raw):
    data = base64.b64decode(raw)
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no blank line"
    return head.decode().split("\r\n"), body


if len(xs) != want:
    errors.append("%d exchanges, want %d" % (len(xs), want))
ids = defaultdict(set)
paths = defaultdict(int)
for x in xs:
    a = x["attrs"]
    if x["protocol"] != "http2" or x["flags"]:
        err(x, "protocol %s flags %s" % (x["protocol"], x["flags"]))
    sid = int(a["h2.stream_id"])
    if sid % 2 != 1 or sid in ids[x["conn_id"]]:
        err(x, "stream id %d odd and unique per connection" % sid)
    ids[x["conn_id"]].add(sid)
    t = x["timing"]
    if not (0 < t["req_start_ns"] <= t["resp_start_ns"] <= t["resp_end_ns"]):
        err(x, "timing %s" % t)
    req_head, req_body = split(x["request"]["raw"])
    resp_head, resp_body = split(x["response"]["raw"])
    if ":method: " + a["method"] not in req_head or \
       resp_head[0] != ":status: " + a["status"]:
        err(x, "heads %s / %s" % (req_head, resp_head[:1]))
    path = a["path"]
    paths[path] += 1
    local = os.path.join(www, path.lstrip("/"))
    if a["method"] == "POST" and req_body != post:
        err(x, "POST body of %d bytes, sent %d" % (len(req_body), len(post)))
    if os.path.exists(local):
        served = open(local, "rb").read()
        if a["status"] != "200" or resp_body != served:
            err(x, "status %s, body %d bytes, file %d" %
                (a["status"], len(resp_body), len(served)))
        if x["response"]["body_len"] != len(served):
            err(x, "cat body_len %s" % x["response"]["body_len"])
    elif a["status"] != "404":
        err(x, "status %s for a missing file" % a["status"])
if paths[load_path] < load_n:
    errors.append("%d exchanges for %s, want %d" %
                  (paths[load_path], load_path, load_n))
if errors:
    sys.exit("\n".join(errors[:20]))
print("%d exchanges over %d connections, bodies byte-exact" %
      (len(xs), len(ids)))
