#!/usr/bin/env python3
"""Hostile load for measure 9: uploads that never finish.

    slow_uploads.py PORT CONNECTIONS BODY_BYTES CHUNK_BYTES INTERVAL_MS

Opens CONNECTIONS connections to 127.0.0.1:PORT, sends on each the head
of `PUT /upload/N` announcing a BODY_BYTES body, then every INTERVAL_MS
another CHUNK_BYTES of it, stopping one byte short: no request ever
completes, so a recorder that keeps requests until they end has to
buffer all of it (or drop streams). Prints `ready` once every connection
is open, runs until SIGTERM/SIGINT, then prints what it sent as one JSON
line and closes everything.
"""
import json
import signal
import socket
import sys
import time


class Upload:
    def __init__(self, port, index, body_bytes):
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        self.sock.sendall((
            "PUT /upload/%d HTTP/1.1\r\nHost: bench\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: %d\r\n\r\n" % (index, body_bytes)).encode())
        self.sock.setblocking(False)
        self.left = body_bytes - 1

    def trickle(self, chunk):
        """Sends up to one chunk without blocking; returns bytes sent."""
        want = min(len(chunk), self.left)
        if want <= 0:
            return 0
        try:
            sent = self.sock.send(chunk[:want])
        except BlockingIOError:
            return 0
        self.left -= sent
        return sent


def _stop(_signum, _frame):
    raise SystemExit(0)


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: slow_uploads.py PORT CONNECTIONS BODY_BYTES "
                 "CHUNK_BYTES INTERVAL_MS")
    port, conns, body, chunk_len, interval_ms = map(int, sys.argv[1:])
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    chunk = b"x" * chunk_len
    uploads = [Upload(port, i, body) for i in range(conns)]
    print("ready", flush=True)
    sent, t0 = 0, time.monotonic()
    tick = t0
    try:
        while True:
            for up in uploads:
                sent += up.trickle(chunk)
            tick += interval_ms / 1000.0
            time.sleep(max(0.0, tick - time.monotonic()))
    finally:
        secs = time.monotonic() - t0
        print(json.dumps({"connections": conns, "body_bytes": body,
                          "sent_bytes": sent, "seconds": secs}), flush=True)
        for up in uploads:
            up.sock.close()


if __name__ == "__main__":
    main()
