#!/usr/bin/env python3
"""Paced clients for the replay tests (python3 stdlib only).

    test_replay_client.py http PORT CONNS REQUESTS GAP_MIN_MS GAP_MAX_MS
    test_replay_client.py redis PORT

http: CONNS keep-alive connections to 127.0.0.1:PORT take turns sending
REQUESTS requests in all (GET of JSON, gzip-chunked JSON, a 404, HEAD, a
POST with a body, a POST with a chunked body), one every GAP_MIN_MS to
GAP_MAX_MS milliseconds (a fixed pseudo-random sequence), each waiting
for its response. The gaps are what `replay --speed 1` must keep.

redis: one connection to 127.0.0.1:PORT: writes and reads of every reply
type, a binary value, an unknown command, MULTI/EXEC, then a pipeline of
200 commands sent at once; a second connection interleaved with the
first. Every reply is read before the next paced command.

Exits 0, or 1 with a message when the server did not answer as expected.
"""
import http.client
import random
import socket
import sys
import time

TIMEOUT = 20


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def chunked(body, size):
    for i in range(0, len(body), size):
        part = body[i:i + size]
        yield b"%x\r\n%s\r\n" % (len(part), part)
    yield b"0\r\n\r\n"


def http_request(conn, i):
    kind = i % 6
    if kind == 0:
        conn.request("GET", "/api/orders/%d.json" % (i % 20 + 1),
                     headers={"X-Seq": str(i), "Cookie": "session=abc"})
        want = 200
    elif kind == 1:
        conn.request("GET", "/data.json",
                     headers={"Accept-Encoding": "gzip", "X-Seq": str(i)})
        want = 200
    elif kind == 2:
        conn.request("GET", "/missing/%d" % i, headers={"X-Seq": str(i)})
        want = 404
    elif kind == 3:
        conn.request("HEAD", "/static/small.txt", headers={"X-Seq": str(i)})
        want = 200
    elif kind == 4:
        body = b"field=%d&pad=%s" % (i, b"x" * (i % 50))
        conn.request("POST", "/submit", body=body,
                     headers={"Content-Type":
                              "application/x-www-form-urlencoded",
                              "X-Seq": str(i)})
        want = 201
    else:
        body = b'{"seq":%d,"data":"%s"}' % (i, b"y" * 300)
        conn.putrequest("POST", "/api/submit")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("X-Seq", str(i))
        conn.endheaders()
        for piece in chunked(body, 128):
            conn.send(piece)
        want = 201
    resp = conn.getresponse()
    resp.read()
    if resp.status != want:
        fail("request %d: status %d, expected %d" % (i, resp.status, want))


def run_http(port, nconns, nreq, gap_min, gap_max):
    rng = random.Random(42)
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
             for _ in range(nconns)]
    for i in range(nreq):
        http_request(conns[i % nconns], i)
        time.sleep(rng.uniform(gap_min, gap_max) / 1000.0)
    for c in conns:
        c.close()


def resp_read(sock, buf):
    """Reads one RESP reply; returns (reply bytes, rest of buf)."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            data = sock.recv(65536)
            if not data:
                fail("redis closed the connection")
            buf += data

    def line_end(pos):
        nonlocal buf
        while True:
            i = buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            data = sock.recv(65536)
            if not data:
                fail("redis closed the connection")
            buf += data

    def value(pos):
        end = line_end(pos)
        kind, arg = buf[pos:pos + 1], buf[pos + 1:end]
        pos = end + 2
        if kind in (b"+", b"-", b":"):
            return pos
        if kind == b"$":
            n = int(arg)
            if n < 0:
                return pos
            need(pos + n + 2)
            return pos + n + 2
        if kind == b"*":
            for _ in range(max(int(arg), 0)):
                pos = value(pos)
            return pos
        fail("unexpected reply type %r" % kind)

    end = value(0)
    return buf[:end], buf[end:]


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Redis:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=TIMEOUT)
        self.buf = b""

    def call(self, *args):
        self.sock.sendall(command(*args))
        reply, self.buf = resp_read(self.sock, self.buf)
        time.sleep(0.01)
        return reply

    def pipeline(self, cmds):
        self.sock.sendall(b"".join(command(*c) for c in cmds))
        return [self.read() for _ in cmds]

    def read(self):
        reply, self.buf = resp_read(self.sock, self.buf)
        return reply


def expect(got, want):
    if got != want:
        fail("reply %r, expected %r" % (got, want))


def run_redis(port):
    a, b = Redis(port), Redis(port)
    expect(a.call("SET", "greeting", "hello"), b"+OK\r\n")
    expect(b.call("INCR", "counter"), b":1\r\n")
    expect(a.call("GET", "greeting"), b"$5\r\nhello\r\n")
    expect(b.call("INCR", "counter"), b":2\r\n")
    a.call("SET", "bin", bytes(range(256)))
    expect(a.call("GET", "bin")[:6], b"$256\r\n")
    expect(a.call("GET", "nothere"), b"$-1\r\n")
    a.call("RPUSH", "list", "x", "y", "z")
    expect(a.call("LRANGE", "list", 0, -1),
           b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n")
    b.call("HSET", "hash", "f1", "v1", "f2", "v2")
    b.call("HGETALL", "hash")
    expect(a.call("NOSUCHCOMMAND", "x")[:1], b"-")
    expect(b.call("MULTI"), b"+OK\r\n")
    expect(b.call("INCR", "counter"), b"+QUEUED\r\n")
    expect(b.call("GET", "greeting"), b"+QUEUED\r\n")
    expect(b.call("EXEC"), b"*2\r\n:3\r\n$5\r\nhello\r\n")
    replies = a.pipeline([("INCR", "piped")] * 200)
    expect(replies[-1], b":200\r\n")
    expect(a.call("PING"), b"+PONG\r\n")


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "http":
        run_http(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                 float(sys.argv[5]), float(sys.argv[6]))
    elif len(sys.argv) == 3 and sys.argv[1] == "redis":
        run_redis(int(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
