#!/usr/bin/env python3
"""Requests that stay unfinished, for test_fault_overload.sh:

    hold_client.py PORT CONNS MIB RATE SECONDS

opens CONNS connections to 127.0.0.1:PORT, sends on each the head of a
POST announcing twice MIB MiB of body, then MIB MiB of it, 64 KiB per
connection in turn, RATE MiB per second in all (so that a recorder with
a large enough ring buffer captures every byte); keeps them all open for
SECONDS (a recorder that buffered every unfinished request would hold
CONNS * MIB MiB), then resets them.
"""
import socket
import struct
import sys
import time

PIECE = 64 << 10


def main():
    port, conns, mib, rate, secs = map(int, sys.argv[1:6])
    piece = b"h" * PIECE
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /submit HTTP/1.1\r\nHost: hold\r\n"
                  b"Content-Length: %d\r\n\r\n" % (2 * mib << 20))
        socks.append(s)
    pause = conns * PIECE / (rate << 20)
    for _ in range((mib << 20) // PIECE):
        for s in socks:
            s.sendall(piece)
        time.sleep(pause)
    time.sleep(secs)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()


if __name__ == "__main__":
    main()
