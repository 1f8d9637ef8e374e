#!/usr/bin/env python3
"""Malformed traffic interleaved with healthy exchanges, for
test_fault_malformed.sh:

    malformed_client.py NGINX REDIS HTTP RESP MYSQL OUT.json

NGINX and REDIS are real servers' ports, HTTP, RESP and MYSQL those of
fault_server.py. One long-lived healthy connection per server runs an
exchange between each two malformed cases; each malformed case runs on a
connection of its own. OUT.json lists every connection:
  {"case", "port" (the client's), "healthy": [[request, response]...]
   (base64, the exchanges that went whole, in order), "requests" (all
   requests sent), "sent", "received" (base64 of every byte), "expect":
   what the recording shows beyond the whole exchanges: "nothing",
   "marked" (at least one flagged exchange) or "any" (flagged ones, if
   any)}
"""
import base64
import json
import random
import socket
import struct
import sys
import time


class Conn:
    """A client connection that logs every byte it moves."""

    def __init__(self, port, case, expect="marked"):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.case = case
        self.expect = expect
        self.read_part = False  # reset before reading all that came
        self.port = self.sock.getsockname()[1]
        self.sent = bytearray()
        self.received = bytearray()
        self.buf = b""
        self.healthy = []
        self.requests = 0

    def send(self, data):
        self.requests += 1
        try:
            self.sock.sendall(data)
            self.sent += data
        except OSError as e:
            # the server may close on a bad request while we still send;
            # the bytes that went out are those it read
            self.sent += data
            print(f"{self.case}: send: {e}", file=sys.stderr)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.received += chunk
        self.buf += chunk

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def drain(self, secs=3.0):
        """Reads whatever comes until the server closes (or secs)."""
        self.sock.settimeout(secs)
        try:
            while True:
                self.fill()
        except (EOFError, OSError):
            pass

    def record(self):
        b64 = lambda b: base64.b64encode(bytes(b)).decode()
        return {"case": self.case, "port": self.port,
                "healthy": [[b64(q), b64(r)] for q, r in self.healthy],
                "requests": self.requests, "sent": b64(self.sent),
                "received": b64(self.received), "expect": self.expect,
                "read_part": self.read_part}


# --- healthy exchanges --------------------------------------------------

def http_exchange(c, path):
    req = b"GET %s HTTP/1.1\r\nHost: fault\r\n\r\n" % path
    c.send(req)
    head = c.until(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    c.healthy.append((req, head + c.exact(length)))


def resp_exchange(c, *args):
    req = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    c.send(req)
    line = c.until(b"\r\n")
    body = c.exact(int(line[1:-2]) + 2) if line[:1] == b"$" else b""
    c.healthy.append((req, line + body))


def mysql_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def mysql_read_packet(c):
    head = c.exact(4)
    return head + c.exact(int.from_bytes(head[:3], "little"))


def mysql_login(c):
    """The handshake: an exchange of its own (greeting and OK)."""
    greeting = mysql_read_packet(c)
    caps = 0x1 | 0x200 | 0x8000 | 0x80000
    # no password: the recorder masks one, and this one compares whole
    req = mysql_packet(1, struct.pack("<IIB", caps, 1 << 24, 0x21) +
                       b"\x00" * 23 + b"fault\x00" + b"\x00" +
                       b"mysql_native_password\x00")
    c.send(req)
    c.healthy.append((req, greeting + mysql_read_packet(c)))


def mysql_query(c, sql):
    req = mysql_packet(0, b"\x03" + sql)
    c.send(req)
    c.healthy.append((req, mysql_read_packet(c)))


# --- the run ------------------------------------------------------------

def main():
    nginx, redis, http, resp, mysql = map(int, sys.argv[1:6])
    conns = []
    noise = random.Random(3).randbytes(65536)

    def new(port, case, expect="marked"):
        c = Conn(port, case, expect)
        conns.append(c)
        return c

    healthy = {"nginx": new(nginx, "healthy-nginx", "nothing"),
               "redis": new(redis, "healthy-redis", "nothing"),
               "http": new(http, "healthy-http", "nothing"),
               "resp": new(resp, "healthy-resp", "nothing"),
               "mysql": new(mysql, "healthy-mysql", "nothing")}
    mysql_login(healthy["mysql"])
    rounds = [0]

    def healthy_round():
        n = rounds[0] = rounds[0] + 1
        http_exchange(healthy["nginx"], b"/data.json")
        resp_exchange(healthy["redis"], b"ECHO", b"round %d" % n)
        http_exchange(healthy["http"], b"/round/%d" % n)
        resp_exchange(healthy["resp"], b"GET", b"key%d" % n)
        mysql_query(healthy["mysql"], b"SELECT %d" % n)

    def bad(port, case, *chunks, expect="marked"):
        c = new(port, case, expect)
        for chunk in chunks:
            c.send(chunk)
        c.drain()
        healthy_round()
        return c

    healthy_round()
    # clients sending malformed requests to the real servers
    bad(nginx, "nginx-long-header-line",
        b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (1 << 20) + b"\r\n\r\n")
    bad(nginx, "nginx-negative-content-length",
        b"POST /submit HTTP/1.1\r\nHost: fault\r\n"
        b"Content-Length: -5\r\n\r\nhello")
    bad(nginx, "nginx-absurd-content-length",
        b"POST /submit HTTP/1.1\r\nHost: fault\r\n"
        b"Content-Length: " + b"9" * 30 + b"\r\n\r\nabc")
    # no decoder takes it: counted, no exchange
    bad(nginx, "nginx-binary-noise", noise, expect="nothing")
    c = new(nginx, "nginx-noise-after-request")
    http_exchange(c, b"/data.json")
    c.send(noise)
    c.drain()
    healthy_round()
    bad(redis, "redis-bulk-2^62", b"*1\r\n$%d\r\nabc" % (1 << 62))
    # servers sending malformed replies to healthy requests
    for what in (b"negative", b"absurd", b"longline", b"noise"):
        bad(http, "http-reply-" + what.decode(),
            b"GET /bad/%s HTTP/1.1\r\nHost: fault\r\n\r\n" % what)
    bad(resp, "resp-reply-bulk-2^62", b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
    c = new(mysql, "mysql-request-16MiB-cut")
    mysql_login(c)
    c.send(b"\xff\xff\xff\x00\x03SELECT " + b"1" * 1000)
    c.sock.close()
    healthy_round()
    c = new(mysql, "mysql-reply-16MiB-cut")
    mysql_login(c)
    c.send(mysql_packet(0, b"\x03SELECT big"))
    c.drain()
    healthy_round()

    for c in conns:
        c.sock.close()
    time.sleep(0.2)
    with open(sys.argv[6], "w") as f:
        json.dump([c.record() for c in conns], f)


if __name__ == "__main__":
    main()
