"""A client socket that keeps a copy of every byte in each direction, so
tests can compare a recording with exactly what went over the wire."""


class Failure(Exception):
    pass


class CaptureConn:
    """sent/recv hold every byte written/read; buf what was read but not
    handed out yet."""

    def __init__(self, sock, addr, name="connection"):
        self.sock = sock
        self.addr = addr
        self.name = name
        self.sent = bytearray()
        self.recv = bytearray()
        self.buf = bytearray()

    def consumed(self):
        """Received bytes handed out so far."""
        return len(self.recv) - len(self.buf)

    def send_all(self, data):
        self.sock.sendall(data)
        self.sent += data

    def send_once(self, data):
        """Writes data with a single send() call."""
        n = self.sock.send(data)
        if n != len(data):
            raise Failure(f"one send() wrote {n} of {len(data)} bytes")
        self.sent += data

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise Failure(f"{self.name}: connection closed by the server")
        self.recv += chunk
        self.buf += chunk

    def read_until(self, delim):
        """Bytes up to and including delim."""
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out
