#!/usr/bin/python3
"""Checks a pcap that `deetune export --pcap` wrote from HTTP/2 exchanges:
tshark must decode them as HTTP/2. argv: the pcap, the server port, the
`deetune cat --raw` output of the session, the served directory, and a
path fetched alone on its connection whose body is compared byte for byte.

Every request is a HEADERS frame tshark decodes (method and path as
recorded), every response a HEADERS with the recorded status, and the DATA
frames carry exactly the recorded body bytes."""
import json
import os
import subprocess
import sys
from collections import Counter

pcap, port, cat_file, www, whole_path = sys.argv[1:6]
xs = [json.loads(line) for line in open(cat_file)]


def tshark(*args):
    out = subprocess.run(["tshark", "-r", pcap, "-d",
                          "tcp.port==%s,http2" % port] + list(args),
                         capture_output=True, check=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


errors = []
fields = ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
want = Counter((x["attrs"]["method"], x["attrs"]["path"]) for x in xs)
got = Counter(tuple(r) for r in tshark("-Y", "http2.headers.method", *fields,
                                       "-e", "http2.headers.method",
                                       "-e", "http2.headers.path"))
if got != want:
    errors.append("requests decoded %s, recorded %s" % (
        sorted((got - want).items())[:5], sorted((want - got).items())[:5]))
statuses = Counter()
for r in tshark("-Y", "http2.headers.status", *fields,
                "-e", "http2.headers.status"):
    statuses.update(r[0].split("|"))
want_st = Counter(str(x["response"]["status"]) for x in xs)
if statuses != want_st:
    errors.append("statuses decoded %s, recorded %s" % (statuses, want_st))

data = 0
for types, lengths in tshark("-Y", "http2", *fields, "-e", "http2.type",
                             "-e", "http2.length"):
    for t, n in zip(types.split("|"), lengths.split("|")):
        data += int(n) if t == "0" else 0
body = sum(x["request"]["body_len"] + x["response"]["body_len"] for x in xs)
if data != body:
    errors.append("DATA frames carry %d bytes, recorded bodies %d" %
                  (data, body))

streams = tshark("-Y", 'http2.headers.path == "%s"' % whole_path, *fields,
                 "-e", "tcp.stream")
if len(streams) != 1:
    errors.append("%s on %d connections" % (whole_path, len(streams)))
else:
    hexes = tshark("-Y", "tcp.stream == %s && http2.type == 0" %
                   streams[0][0], *fields, "-e", "http2.data.data")
    # tshark shows a body spread over DATA frames reassembled, in place
    # of its last frame's data
    values = [v for r in hexes for h in r for v in h.split("|")]
    got_body = bytes.fromhex(max(values, key=len)) if values else b""
    served = open(os.path.join(www, whole_path.lstrip("/")), "rb").read()
    if got_body != served:
        errors.append("%s: %d bytes in the pcap, %d served" %
                      (whole_path, len(got_body), len(served)))
if errors:
    sys.exit("\n".join(errors))
print("pcap: %d streams decoded as HTTP/2, %d body bytes" % (len(xs), data))
