#!/usr/bin/env python3
"""A capture for the replay fault tests, built with the helpers of
fixtures/pcap/make_pcaps.py:

    replay_pcap.py OUT.pcap

two HTTP connections of three requests each and two Redis connections of
three commands each, so that a replay has requests in flight on several
connections of both protocols when its target fails.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "fixtures", "pcap"))
import make_pcaps as mp  # noqa: E402


def main():
    cap = mp.Capture()
    for i in range(2):
        http = mp.Conn(cap, ("192.168.1.10", 51000 + i), mp.HTTP_S)
        redis = mp.Conn(cap, ("10.0.0.5", 43000 + i), mp.REDIS_S)
        http.handshake()
        redis.handshake()
        for j in range(3):
            http.send(0, f"GET /fault/{i}/{j} HTTP/1.1\r\n"
                      "Host: example\r\n\r\n".encode())
            http.send(1, mp.http_response(b"ok %d %d" % (i, j)))
            key = b"k%d%d" % (i, j)
            redis.send(0, b"*2\r\n$3\r\nGET\r\n$3\r\n" + key + b"\r\n")
            redis.send(1, b"$1\r\nv\r\n")
        http.close()
        redis.close()
    mp.write(sys.argv[1], cap.pcap())


if __name__ == "__main__":
    main()
