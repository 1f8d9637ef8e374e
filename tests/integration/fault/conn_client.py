#!/usr/bin/env python3
"""Connections ending badly, for test_fault_conn.sh:

    conn_client.py NGINX_PORT REDIS_PORT RESTART_CMD OUT.json

Against nginx: connections reset by their client (SO_LINGER 0) after a
whole exchange, while the response comes, and while the server waits for
the rest of a request; one half-closed (shutdown(SHUT_WR)) after its
request. Against redis: three
connections with a few commands each, then RESTART_CMD (a shell command
that kills redis-server and starts it again), a command on each old
connection (the server is gone), and new connections.

OUT.json is malformed_client.py's: per connection its case, port, whole
exchanges, requests, bytes sent and received, and what the recording
must show beyond the whole exchanges.
"""
import json
import socket
import struct
import subprocess
import sys

from malformed_client import Conn, http_exchange, resp_exchange


def linger_zero(c):
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    c.sock.close()


def main():
    nginx, redis, restart = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    conns = []

    def new(port, case, expect):
        c = Conn(port, case, expect)
        conns.append(c)
        return c

    # nginx: reset after a whole exchange
    c = new(nginx, "reset-after-exchange", "nothing")
    http_exchange(c, b"/data.json")
    linger_zero(c)
    # reset while the response comes: nginx may have written all of
    # /big.bin into the socket buffers already, which is then what it sent
    c = new(nginx, "reset-while-reading", "any")
    c.send(b"GET /big.bin HTTP/1.1\r\nHost: fault\r\n\r\n")
    c.fill()
    c.read_part = True
    linger_zero(c)
    # reset before the response: nginx waits for the rest of the body
    c = new(nginx, "reset-while-waiting", "any")
    c.send(b"POST /submit HTTP/1.1\r\nHost: fault\r\n"
           b"Content-Length: 100\r\n\r\nabc")
    linger_zero(c)
    # half-close: the request, then no more bytes from the client
    c = new(nginx, "half-close", "nothing")
    http_exchange(c, b"/data.json")
    req = b"GET /data.json HTTP/1.1\r\nHost: fault\r\nConnection: close\r\n\r\n"
    c.send(req)
    c.sock.shutdown(socket.SHUT_WR)
    c.drain()
    c.healthy.append((req, bytes(c.received[len(c.healthy[0][1]):])))
    c.sock.close()

    # redis: connections open across a restart of the server
    old = [new(redis, f"redis-before-restart-{i}", "any") for i in range(3)]
    for i, c in enumerate(old):
        for j in range(3):
            resp_exchange(c, b"ECHO", b"before %d %d" % (i, j))
    subprocess.run(restart, shell=True, check=True)
    for c in old:
        c.send(b"*2\r\n$4\r\nECHO\r\n$5\r\nafter\r\n")
        c.drain(1.0)
        c.sock.close()
    for i in range(3):
        c = new(redis, f"redis-after-restart-{i}", "nothing")
        for j in range(3):
            resp_exchange(c, b"ECHO", b"after %d %d" % (i, j))
        c.sock.close()

    with open(sys.argv[4], "w") as f:
        json.dump([c.record() for c in conns], f)


if __name__ == "__main__":
    main()
