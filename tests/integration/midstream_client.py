#!/usr/bin/env python3
"""Pooled-connection client for test_midstream.sh (python3 stdlib only):
connections opened and used BEFORE the recording starts, used again
after.

    midstream_client.py --http PORT WWW --redis PORT
                        --mysql PORT USER PASSWORD DB  OUT

Opens one connection to each server (nginx, redis-server, mariadbd, on
127.0.0.1; two to mariadbd) and sends a few requests on each ("before");
then sends the first half of one more request on each but the second
mariadbd one (the "straddler"), writes OUT.ready and waits for OUT.go to
appear (the recorder has started). Then it sends the rest of each
straddler, reads its response, and sends more requests ("after": one at a
time, and a pipeline on HTTP and Redis).

Writes, per connection NAME (http, redis, mysql, mysql_idle), every byte
sent and received in OUT-NAME.sent / OUT-NAME.recv, and OUT.json:
    [{"name", "protocol", "addr", "sent", "recv",
      "straddle": {"req": [start, end], "resp": [start, end]} or {},
      "exchanges": [{"what", "req": [start, end], "resp": [start, end]}]}]
with byte ranges in .sent and .recv: "exchanges" are the requests sent
whole after the start, in order.
Exits 0 when every response was as expected, 1 (with a message) otherwise.
"""
import hashlib
import json
import os
import socket
import sys
import time

from capture_conn import Failure
import http_client
import redis_client

TIMEOUT = 20
GO_WAIT = 60


def wait_go(out):
    with open(out + ".ready", "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + GO_WAIT
    while not os.path.exists(out + ".go"):
        if time.monotonic() > deadline:
            raise Failure("no go signal")
        time.sleep(0.05)


# --- HTTP -----------------------------------------------------------------

class Http:
    name, protocol = "http", "http"

    def __init__(self, port, www):
        self.conn = http_client.Conn("127.0.0.1", port)
        self.s = http_client.Scenario(self.conn, www, f"127.0.0.1:{port}")
        self.straddle = {}
        self.mark = 0

    def get(self, n):
        path = f"/api/orders/{n}.json"
        self.s.call("GET", path, 200, self.s.file(path))

    def before(self):
        self.get(1)
        self.get(2)
        self.req = http_client.request("GET", "/api/orders/3.json",
                                       self.s.host)
        # cut inside the request line
        self.straddle["req"] = [len(self.conn.sent), 0]
        self.conn.send_all(self.req[:10])

    def after(self):
        self.conn.send_all(self.req[10:])
        self.straddle["req"][1] = len(self.conn.sent)
        start = self.conn.consumed()
        resp = http_client.read_response(self.conn, "GET")
        if resp.status != 200:
            raise Failure(f"straddler answered {resp.status}")
        self.straddle["resp"] = [start, self.conn.consumed()]
        self.mark = len(self.s.log)
        self.get(4)
        self.s.call("GET", "/no/such/thing", 404)
        self.get(5)
        self.pipeline([6, 7, 8])

    def pipeline(self, numbers):
        """Requests written with one send(), then their responses."""
        paths = [f"/api/orders/{n}.json" for n in numbers]
        reqs = [http_client.request("GET", p, self.s.host) for p in paths]
        req_start = len(self.conn.sent)
        self.conn.send_once(b"".join(reqs))
        for path, req in zip(paths, reqs):
            resp_start = self.conn.consumed()
            resp = http_client.read_response(self.conn, "GET")
            self.s.expect("GET", path, resp, 200, self.s.file(path),
                          [req_start, req_start + len(req)],
                          [resp_start, self.conn.consumed()])
            req_start += len(req)

    def exchanges(self):
        return [{"what": f"{e['method']} {e['path']}", "req": e["req"],
                 "resp": e["resp"]} for e in self.s.log[self.mark:]]


# --- Redis ------------------------------------------------------------------

class Redis:
    name, protocol = "redis", "redis"

    def __init__(self, port):
        self.conn = redis_client.Conn("redis", port=port)
        self.straddle = {}
        self.mark = 0

    def before(self):
        c = self.conn
        c.call("SET", "ms:k", "before", expect_type="status")
        c.call("GET", "ms:k", expect_type="bulk", expect=b"before")
        self.req = redis_client.encode("SET", "ms:straddle", "value")
        self.straddle["req"] = [len(c.sent), 0]
        c.send_all(self.req[:len(self.req) // 2])

    def after(self):
        c = self.conn
        c.send_all(self.req[len(self.req) // 2:])
        self.straddle["req"][1] = len(c.sent)
        start = c.consumed()
        if c.read_value() != (b"+", b"OK"):
            raise Failure("straddler not answered +OK")
        self.straddle["resp"] = [start, c.consumed()]
        self.mark = len(c.log)
        c.call("GET", "ms:straddle", expect_type="bulk", expect=b"value")
        c.call("INCR", "ms:n", expect_type="integer")
        c.call("HGETALL", "ms:nohash", expect_type="array", expect=[])
        c.call("INCR", "ms:k", expect_type="error")
        c.pipeline([("SET", "ms:p", "1"), ("INCR", "ms:p"), ("GET", "ms:p"),
                    ("DEL", "ms:p")])

    def exchanges(self):
        return [{"what": f"{e['command']} {e['args'][:1]}", "req": e["req"],
                 "resp": [e["resp"][0][0], e["resp"][-1][1]]}
                for e in self.conn.log[self.mark:]]


# --- MySQL ------------------------------------------------------------------

CAPS = (0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000)


def lenenc(p, pos):
    b = p[pos]
    if b < 0xfb:
        return b, pos + 1
    n = {0xfc: 2, 0xfd: 3, 0xfe: 8}[b]
    return int.from_bytes(p[pos + 1:pos + 1 + n], "little"), pos + 1 + n


class Mysql:
    """A client of the text protocol (no CLIENT_DEPRECATE_EOF), logging in
    with mysql_native_password; straddle: leave a request half-sent at
    the start (else the connection is idle then)."""
    protocol = "mysql"

    def __init__(self, name, straddle, port, user, password, db):
        self.name, self.straddles = name, straddle
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=TIMEOUT)
        local = self.sock.getsockname()
        self.addr = f"{local[0]}:{local[1]}"
        self.sent, self.recv, self.buf = bytearray(), bytearray(), bytearray()
        self.log, self.straddle, self.mark = [], {}, 0
        self.login(user, password, db)

    def send_all(self, data):
        self.sock.sendall(data)
        self.sent += data

    def read_packet(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:3], "little")
                if len(self.buf) >= 4 + n:
                    seq, p = self.buf[3], bytes(self.buf[4:4 + n])
                    del self.buf[:4 + n]
                    return seq, p
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("mysql: connection closed by the server")
            self.recv += chunk
            self.buf += chunk

    def consumed(self):
        return len(self.recv) - len(self.buf)

    def packet(self, seq, payload):
        return len(payload).to_bytes(3, "little") + bytes([seq]) + payload

    def login(self, user, password, db):
        _, g = self.read_packet()
        if g[0] != 10:
            raise Failure(f"mysql: greeting {g[:20]!r}")
        pos = g.index(b"\0", 1) + 1 + 4
        scramble = g[pos:pos + 8]
        pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
        scramble += g[pos:pos + 12]
        h1 = hashlib.sha1(password.encode()).digest()
        h3 = hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()
        token = bytes(a ^ b for a, b in zip(h1, h3))
        resp = (CAPS.to_bytes(4, "little") + (1 << 24).to_bytes(4, "little")
                + bytes([45]) + bytes(23) + user.encode() + b"\0" +
                bytes([len(token)]) + token + db.encode() + b"\0" +
                b"mysql_native_password\0")
        self.send_all(self.packet(1, resp))
        _, ok = self.read_packet()
        if ok[0] != 0:
            raise Failure(f"mysql: login answered {ok[:60]!r}")

    def read_response(self):
        """Reads a whole text-protocol response: its first byte's kind."""
        _, p = self.read_packet()
        if p[0] in (0x00, 0xff):
            return {0: "ok", 0xff: "err"}[p[0]]
        ncols, _ = lenenc(p, 0)
        for _ in range(ncols):
            self.read_packet()
        seq, p = self.read_packet()
        if p[0] != 0xfe or len(p) >= 9:
            raise Failure("mysql: no EOF after the column definitions")
        while True:
            seq, p = self.read_packet()
            if p[0] == 0xff:
                return "err"
            if p[0] == 0xfe and len(p) < 9:
                return "resultset"

    def query(self, sql, kind):
        req_start, resp_start = len(self.sent), self.consumed()
        self.send_all(self.packet(0, b"\x03" + sql.encode()))
        got = self.read_response()
        if got != kind:
            raise Failure(f"mysql: {sql!r} answered {got}, expected {kind}")
        self.log.append({"what": sql, "req": [req_start, len(self.sent)],
                         "resp": [resp_start, self.consumed()]})

    def before(self):
        self.query("SELECT 1 AS one", "resultset")
        self.query(f"CREATE TABLE IF NOT EXISTS t_{self.name} (id INT "
                   f"PRIMARY KEY, v VARCHAR(16))", "ok")
        if not self.straddles:
            return
        self.req = self.packet(0, b"\x03SELECT 'straddle' AS s")
        self.straddle["req"] = [len(self.sent), 0]
        self.send_all(self.req[:9])

    def after(self):
        if self.straddles:
            self.send_all(self.req[9:])
            self.straddle["req"][1] = len(self.sent)
            start = self.consumed()
            if self.read_response() != "resultset":
                raise Failure("mysql: straddler not answered a result set")
            self.straddle["resp"] = [start, self.consumed()]
        self.mark = len(self.log)
        t = "t_" + self.name
        self.query(f"INSERT INTO {t} VALUES (1, 'one'), (2, 'two')", "ok")
        self.query(f"SELECT id, v FROM {t} ORDER BY id", "resultset")
        self.query("SELECT * FROM no_such_table", "err")
        self.query(f"UPDATE {t} SET v = 'uno' WHERE id = 1", "ok")

    def exchanges(self):
        return self.log[self.mark:]

    def close(self):
        self.send_all(self.packet(0, b"\x01"))  # COM_QUIT
        self.log.append({"what": "COM_QUIT", "req": [len(self.sent) - 5,
                                                     len(self.sent)],
                         "resp": [self.consumed(), self.consumed()]})
        self.sock.shutdown(socket.SHUT_WR)
        while self.sock.recv(65536):
            pass
        self.sock.close()


def main(argv):
    args = argv[1:]
    if len(args) != 11 or [args[0], args[3], args[5]] != \
            ["--http", "--redis", "--mysql"]:
        sys.stderr.write(__doc__)
        return 2
    http = Http(int(args[1]), args[2])
    redis = Redis(int(args[4]))
    mysql = Mysql("mysql", True, int(args[6]), args[7], args[8], args[9])
    mysql_idle = Mysql("mysql_idle", False, int(args[6]), args[7], args[8],
                       args[9])
    out = args[10]
    clients = [http, redis, mysql, mysql_idle]
    rc = 0
    try:
        for c in clients:
            c.before()
        wait_go(out)
        for c in clients:
            c.after()
        http.conn.close()
        redis.conn.close()
        mysql.close()
        mysql_idle.close()
    except (Failure, OSError, ValueError, KeyError) as e:
        print(f"midstream_client: {e!r}", file=sys.stderr)
        rc = 1
    finally:
        report = []
        for c in clients:
            conn = c if isinstance(c, Mysql) else c.conn
            prefix = f"{out}-{c.name}"
            with open(prefix + ".sent", "wb") as f:
                f.write(conn.sent)
            with open(prefix + ".recv", "wb") as f:
                f.write(conn.recv)
            report.append({"name": c.name, "protocol": c.protocol,
                           "addr": conn.addr, "sent": prefix + ".sent",
                           "recv": prefix + ".recv",
                           "straddle": c.straddle,
                           "exchanges": c.exchanges()})
        with open(out + ".json", "w") as f:
            json.dump(report, f)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
