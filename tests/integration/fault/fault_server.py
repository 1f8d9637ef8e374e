#!/usr/bin/env python3
"""Servers that answer healthy requests correctly and chosen ones with
malformed replies, for test_fault_malformed.sh:

    fault_server.py HTTP_PORT RESP_PORT MYSQL_PORT READY_FILE

HTTP (keep-alive, Content-Length framing) answers
  GET /bad/negative   Content-Length: -5
  GET /bad/absurd     Content-Length of 30 digits, 3 bytes, close
  GET /bad/longline   a 1 MiB header line, then a whole response
  GET /bad/noise      64 KiB of random bytes, close
  anything else       200 with a body naming the path
RESP answers GET big with a bulk length of 2^62 and 3 bytes, then
closes; any other command with a bulk string echoing its key.
MySQL greets (protocol 10, mysql_native_password), accepts any login,
answers COM_QUERY 'SELECT big' with a packet header claiming 16 MiB, 1000
bytes and a close, and any other command with an OK packet.

READY_FILE is written once all three listen; runs until killed.
"""
import os
import random
import socket
import struct
import sys
import threading

LONG_LINE = b"X-Long: " + b"a" * (1 << 20) + b"\r\n"


def read_until(conn, buf, sep):
    """Reads until sep is in buf; returns (head, rest) or None on EOF."""
    while sep not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk
    i = buf.index(sep) + len(sep)
    return buf[:i], buf[i:]


def read_exact(conn, buf, n):
    while len(buf) < n:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk
    return buf[:n], buf[n:]


# --- HTTP -------------------------------------------------------------

def http_reply(path):
    """(bytes to send, close after)."""
    if path == b"/bad/negative":
        return (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
                False)
    if path == b"/bad/absurd":
        return (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 30 +
                b"\r\n\r\nabc", True)
    if path == b"/bad/longline":
        return (b"HTTP/1.1 200 OK\r\n" + LONG_LINE +
                b"Content-Length: 2\r\n\r\nok", False)
    if path == b"/bad/noise":
        return random.Random(7).randbytes(65536), True
    body = b"healthy " + path
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) +
            body, False)


def serve_http(conn):
    buf = b""
    while True:
        got = read_until(conn, buf, b"\r\n\r\n")
        if got is None:
            return
        head, buf = got
        path = head.split(b" ")[1] if head.count(b" ") >= 2 else b"/"
        reply, close = http_reply(path)
        conn.sendall(reply)
        if close:
            return


# --- RESP -------------------------------------------------------------

def read_command(conn, buf):
    """One RESP array of bulk strings: (args, rest) or None."""
    got = read_until(conn, buf, b"\r\n")
    if got is None:
        return None
    line, buf = got
    args = []
    for _ in range(int(line[1:-2])):
        got = read_until(conn, buf, b"\r\n")
        if got is None:
            return None
        line, buf = got
        got = read_exact(conn, buf, int(line[1:-2]) + 2)
        if got is None:
            return None
        arg, buf = got
        args.append(arg[:-2])
    return args, buf


def serve_resp(conn):
    buf = b""
    while True:
        got = read_command(conn, buf)
        if got is None:
            return
        args, buf = got
        if args == [b"GET", b"big"]:
            conn.sendall(b"$%d\r\nabc" % (1 << 62))
            return
        key = args[1] if len(args) > 1 else b""
        conn.sendall(b"$%d\r\n%s\r\n" % (len(key), key))


# --- MySQL ------------------------------------------------------------

CAPS = 0x1 | 0x2 | 0x4 | 0x200 | 0x2000 | 0x8000 | 0x80000


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def read_packet(conn, buf):
    got = read_exact(conn, buf, 4)
    if got is None:
        return None
    head, buf = got
    got = read_exact(conn, buf, int.from_bytes(head[:3], "little"))
    if got is None:
        return None
    payload, buf = got
    return payload, buf


def greeting():
    salt = b"abcdefghijklmnopqrst"
    return (b"\x0a" + b"5.7.99-fault\x00" + struct.pack("<I", 7) +
            salt[:8] + b"\x00" + struct.pack("<H", CAPS & 0xffff) +
            b"\x21" + struct.pack("<H", 2) + struct.pack("<H", CAPS >> 16) +
            bytes([21]) + b"\x00" * 10 + salt[8:] + b"\x00" +
            b"mysql_native_password\x00")


OK_PACKET = b"\x00\x00\x00\x02\x00\x00\x00"


def serve_mysql(conn):
    conn.sendall(packet(0, greeting()))
    got = read_packet(conn, b"")
    if got is None:
        return
    buf = got[1]
    conn.sendall(packet(2, OK_PACKET))
    while True:
        got = read_packet(conn, buf)
        if got is None:
            return
        cmd, buf = got
        if cmd == b"\x03SELECT big":
            conn.sendall(b"\xff\xff\xff\x01" + b"\x01" * 1000)
            return
        if cmd[:1] == b"\x01":  # COM_QUIT
            return
        conn.sendall(packet(1, OK_PACKET))


# ----------------------------------------------------------------------

def listen(port, serve):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)

    def handle(conn):
        try:
            serve(conn)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            conn.close()

    def loop():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=handle, args=(conn,),
                             daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    http_port, resp_port, mysql_port = map(int, sys.argv[1:4])
    listen(http_port, serve_http)
    listen(resp_port, serve_resp)
    listen(mysql_port, serve_mysql)
    ready = sys.argv[4]
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    threading.Event().wait()


if __name__ == "__main__":
    main()
