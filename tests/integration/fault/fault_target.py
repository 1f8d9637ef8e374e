#!/usr/bin/env python3
"""A target that fails the replay on purpose.

    fault_target.py MODE PORT READY_FILE

listens on 127.0.0.1:PORT, writes READY_FILE once it does, and serves
every connection in one way:

  timeout   reads the requests and never answers
  reset     accepts, then closes with SO_LINGER 0 (the peer sees RST)
  garbage   answers each read with bytes that are no protocol's
  partial   answers the start of a reply promising more (HTTP and RESP
            at once), then closes
  trickle   answers the same start, then one more byte every 200 ms,
            forever: only a timeout on the whole reply ends it

It runs until killed.
"""
import os
import socket
import struct
import sys
import threading
import time

GARBAGE = bytes(range(256)) * 4  # no HTTP status line, no RESP type byte
# the start of a reply promising far more than will come
HTTP_START = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc"
RESP_START = b"$1000000\r\nabc"


def serve_timeout(conn):
    # keep the connection open and swallow whatever comes
    while conn.recv(65536):
        pass


def serve_reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))


def serve_garbage(conn):
    while conn.recv(65536):
        conn.sendall(b"\x00\xff" + GARBAGE)


def reply_start(conn):
    """The start of a reply in the protocol of the request read."""
    first = conn.recv(65536)
    if not first:
        return False
    conn.sendall(RESP_START if first[:1] in b"*$" else HTTP_START)
    return True


def serve_partial(conn):
    reply_start(conn)


def serve_trickle(conn):
    if not reply_start(conn):
        return
    while True:
        time.sleep(0.2)
        conn.sendall(b"x")


def handle(mode, conn):
    try:
        {"timeout": serve_timeout, "reset": serve_reset,
         "garbage": serve_garbage, "partial": serve_partial,
         "trickle": serve_trickle}[mode](conn)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(mode, conn),
                         daemon=True).start()


if __name__ == "__main__":
    main()
