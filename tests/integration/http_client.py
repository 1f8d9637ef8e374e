#!/usr/bin/env python3
"""HTTP/1.1 client for DeeTune's integration tests (python3 stdlib only).

    http_client.py [--host ADDR] PORT WWW OUT SCENARIO

Runs SCENARIO over ONE TCP connection to ADDR:PORT (default 127.0.0.1),
checks every response against the files under WWW (the site's root), and
writes what went over the wire, byte for byte:

    OUT.sent   every byte the client sent, in order
    OUT.recv   every byte the client received, in order
    OUT.json   {"addr": "127.0.0.1:43210", "port": 43210,
                "exchanges": [{"method", "path", "status",
                               "req": [start, end], "resp": [start, end]}]}

where req and resp are the byte ranges of each request in OUT.sent and of
its response (interim 1xx responses included) in OUT.recv, so that a
checker can compare them with what `deetune cat --raw` recorded.
Scenarios:
    keepalive  small JSON, 1 MiB body, gzip (chunked) JSON, 404, POST to a
               `return 201` location, POST to a static file (error_page),
               then one more small JSON, one request after another
    pipeline   eight requests written with ONE send() call, then the
               eight responses read back
    extras     HEAD, conditional GET answered 304, 204, and a POST with
               Expect: 100-continue (interim 100 response)
    sendfile   static files (sent by nginx with sendfile), an in-memory
               response and a 404, one after another
Exits 0 when every response was as expected, 1 (with a message) otherwise.
"""
import gzip
import json
import os
import socket
import sys

from capture_conn import CaptureConn, Failure

TIMEOUT = 20


class Conn(CaptureConn):
    """A connection that keeps a copy of every byte in each direction."""

    def __init__(self, host, port):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        assert sock.family == family
        local = sock.getsockname()
        super().__init__(sock, f"[{local[0]}]:{local[1]}"
                         if family == socket.AF_INET6
                         else f"{local[0]}:{local[1]}")
        self.port = local[1]

    def close(self):
        """Half-closes, checks the server sent nothing more, closes."""
        self.sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.recv += chunk
            self.buf += chunk
        self.sock.close()
        if self.buf:
            raise Failure(f"{len(self.buf)} unexpected bytes after the "
                          f"last response: {bytes(self.buf[:80])!r}")


class Response:
    def __init__(self, status, headers, body, chunked):
        self.status = status
        self.headers = headers  # lower-case name -> last value
        self.body = body        # de-chunked
        self.chunked = chunked


def read_head(conn):
    head = conn.read_until(b"\r\n\r\n").decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise Failure(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def read_chunked(conn):
    body = bytearray()
    while True:
        size_line = conn.read_until(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while conn.read_until(b"\r\n") != b"\r\n":
                pass  # trailer fields
            return bytes(body)
        body += conn.read_exact(size)
        if conn.read_exact(2) != b"\r\n":
            raise Failure("chunk not followed by CRLF")


def read_response(conn, method):
    """Reads one final response (interim 1xx responses are skipped)."""
    while True:
        status, headers = read_head(conn)
        if status >= 200 or status == 101:
            break
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif chunked:
        body = read_chunked(conn)
    elif "content-length" in headers:
        body = conn.read_exact(int(headers["content-length"]))
    else:
        raise Failure(f"response {status} without length on keep-alive")
    return Response(status, headers, body, chunked)


def request(method, path, host, headers=(), body=b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}",
             "User-Agent: deetune-test/1"]
    lines += list(headers)
    if body and not any(h.lower().startswith("content-length:")
                        for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Scenario:
    def __init__(self, conn, www, host):
        self.conn = conn
        self.www = www
        self.host = host
        self.log = []

    def file(self, path):
        with open(os.path.join(self.www, path.lstrip("/")), "rb") as f:
            return f.read()

    def expect(self, method, path, resp, status, body, req_span, resp_span):
        """Checks resp and logs the exchange with the byte ranges of its
        request (in OUT.sent) and response (in OUT.recv)."""
        self.log.append({"method": method, "path": path,
                         "status": resp.status, "req": req_span,
                         "resp": resp_span})
        if resp.status != status:
            raise Failure(f"{method} {path}: status {resp.status}, "
                          f"expected {status}")
        if body is not None and resp.body != body:
            raise Failure(f"{method} {path}: body of {len(resp.body)} "
                          f"bytes differs from the expected {len(body)}")

    def call(self, method, path, status, body=None, headers=(),
             req_body=b""):
        req_start = len(self.conn.sent)
        self.conn.send_all(request(method, path, self.host, headers,
                                   req_body))
        resp_start = self.conn.consumed()
        resp = read_response(self.conn, method)
        self.expect(method, path, resp, status, body,
                    [req_start, len(self.conn.sent)],
                    [resp_start, self.conn.consumed()])
        return resp


def scenario_keepalive(s):
    s.call("GET", "/api/orders/1.json", 200, s.file("/api/orders/1.json"))
    s.call("GET", "/big.bin", 200, s.file("/big.bin"))
    resp = s.call("GET", "/data.json", 200,
                  headers=["Accept-Encoding: gzip"])
    if not resp.chunked or "content-length" in resp.headers:
        raise Failure(f"gzip response not chunked: {resp.headers}")
    if resp.headers.get("content-encoding") != "gzip":
        raise Failure(f"response not gzip-encoded: {resp.headers}")
    if gzip.decompress(resp.body) != s.file("/data.json"):
        raise Failure("gunzipped /data.json differs from the file")
    s.call("GET", "/no/such/thing.json", 404)
    s.call("POST", "/submit", 201, b'{"created":true}\n',
           ["Content-Type: application/json"],
           b'{"order":{"item":"widget","qty":3}}' * 40)
    s.call("POST", "/static/small.txt", 200, s.file("/static/small.txt"),
           ["Content-Type: application/octet-stream"], os.urandom(3000))
    s.call("GET", "/api/orders/2.json?fields=id,qty", 200,
           s.file("/api/orders/2.json"))


def scenario_pipeline(s):
    paths = [f"/api/orders/{i}.json" for i in range(3, 9)]
    calls = [("GET", p, 200, s.file(p), b"") for p in paths]
    calls.insert(3, ("GET", "/missing-in-pipeline", 404, None, b""))
    calls.append(("POST", "/submit", 201, b'{"created":true}\n',
                  b"pipelined=1&x=" + b"y" * 100))
    reqs = [request(m, p, s.host, (), b) for m, p, _, _, b in calls]
    s.conn.send_once(b"".join(reqs))
    req_start = 0
    for (method, path, status, body, _), req in zip(calls, reqs):
        resp_start = s.conn.consumed()
        resp = read_response(s.conn, method)
        s.expect(method, path, resp, status, body,
                 [req_start, req_start + len(req)],
                 [resp_start, s.conn.consumed()])
        req_start += len(req)


def scenario_extras(s):
    resp = s.call("HEAD", "/api/orders/9.json", 200)
    length = int(resp.headers.get("content-length", -1))
    if length != len(s.file("/api/orders/9.json")):
        raise Failure(f"HEAD: content-length {length}")
    etag = s.call("GET", "/api/orders/10.json", 200,
                  s.file("/api/orders/10.json")).headers["etag"]
    s.call("GET", "/api/orders/10.json", 304,
           headers=[f"If-None-Match: {etag}"])
    s.call("GET", "/nocontent", 204)
    # Expect: 100-continue: send the head, wait for the interim answer,
    # then the body; the exchange is both writes and both answers.
    body = b'{"expect":"continue"}' * 10
    req_start, resp_start = len(s.conn.sent), s.conn.consumed()
    s.conn.send_all(request("POST", "/static/small.txt", s.host,
                            ["Expect: 100-continue",
                             "Content-Type: application/json",
                             f"Content-Length: {len(body)}"]))
    status, _ = read_head(s.conn)
    if status != 100:
        raise Failure(f"Expect: 100-continue answered {status}")
    s.conn.send_all(body)
    s.expect("POST", "/static/small.txt", read_response(s.conn, "POST"),
             200, s.file("/static/small.txt"),
             [req_start, len(s.conn.sent)], [resp_start, s.conn.consumed()])
    s.call("GET", "/api/orders/11.json", 200, s.file("/api/orders/11.json"))


def scenario_sendfile(s):
    s.call("GET", "/static/256k.bin", 200, s.file("/static/256k.bin"))
    s.call("GET", "/inline", 200)
    s.call("GET", "/static/small.txt", 200, s.file("/static/small.txt"))
    s.call("GET", "/missing", 404)
    s.call("HEAD", "/static/256k.bin", 200)
    s.call("GET", "/static/256k.bin", 200, s.file("/static/256k.bin"))
    s.call("GET", "/inline", 200)


SCENARIOS = {
    "keepalive": scenario_keepalive,
    "pipeline": scenario_pipeline,
    "extras": scenario_extras,
    "sendfile": scenario_sendfile,
}


def main(argv):
    host = "127.0.0.1"
    if len(argv) > 1 and argv[1] == "--host":
        host = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) != 5 or argv[4] not in SCENARIOS:
        sys.stderr.write(__doc__)
        return 2
    port, www, out, name = int(argv[1]), argv[2], argv[3], argv[4]
    conn = Conn(host, port)
    host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    s = Scenario(conn, www, host_header)
    try:
        SCENARIOS[name](s)
        conn.close()
    except (Failure, OSError, ValueError, KeyError) as e:
        print(f"http_client {name}: {e}", file=sys.stderr)
        return 1
    finally:
        with open(out + ".sent", "wb") as f:
            f.write(conn.sent)
        with open(out + ".recv", "wb") as f:
            f.write(conn.recv)
        with open(out + ".json", "w") as f:
            json.dump({"addr": conn.addr, "port": conn.port,
                       "exchanges": s.log}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
