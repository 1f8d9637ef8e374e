#!/usr/bin/env python3
"""A misbehaving server for the replay tests (python3 stdlib only).

    test_replay_server.py PORT silent|garbage

Listens on 127.0.0.1:PORT until killed. silent: accepts connections and
reads, never answers. garbage: answers whatever arrives with bytes that
are no protocol, then closes. Prints "listening" once ready.
"""
import socket
import sys
import threading


def serve(conn, mode):
    with conn:
        try:
            while conn.recv(65536):
                if mode == "garbage":
                    conn.sendall(b"\x00\x01 this is not a protocol \xff\r\n")
                    return
        except OSError:
            pass


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("silent", "garbage"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode = sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(128)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode),
                         daemon=True).start()


if __name__ == "__main__":
    main()
