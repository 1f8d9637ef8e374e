#!/usr/bin/env python3
"""Redis client for DeeTune's integration tests (python3 stdlib only).

    redis_client.py (--port PORT | --unix PATH) [--tcp-port PORT] OUT SCENARIO

Runs SCENARIO over ONE main connection to 127.0.0.1:PORT or to the Unix
socket PATH; some scenarios open a side connection over TCP (--tcp-port,
default PORT) to change data or publish messages while the main one waits.
Every connection writes what went over the wire, byte for byte:

    OUT.sent, OUT.recv   (side connection: OUT-side.sent, OUT-side.recv)
    OUT.json             a list with one object per connection:
        {"name", "addr" ("127.0.0.1:43210" or "unix:PATH"), "pid",
         "unix": bool, "uncounted": [COMMAND...],
         "exchanges": [{"command", "args", "type", "value", "over_limit",
                        "req": [start, end], "resp": [[start, end]...]}],
         "pushes": [[start, end]...]}

req is the command's byte range in .sent, resp the ranges in .recv of the
reply (a SUBSCRIBE of two channels has two confirmations), pushes the
ranges of pub/sub messages and other pushes, which answer no command.
over_limit marks a command or reply that one system call moved whole while
larger than the probes copy per call: it must be recorded incomplete.
args are the arguments as `deetune cat` prints them: a string, or
{"base64": ...} when not UTF-8. type is the reply type as cat names it.
uncounted names the commands the server does not count in INFO
commandstats (unknown commands, commands queued in an aborted MULTI).

Scenarios:
    resp2       every RESP2 reply type (status, error, integer, bulk, nil
                bulk, empty and ~1 MiB binary bulk, arrays: empty, nested via
                EVAL and COMMAND INFO, nil via an aborted WATCH/MULTI/EXEC),
                an unknown command, inline commands, a blank line, a
                pipeline of eight commands in one send(), MULTI/EXEC
    resp3       HELLO 3, then map, set, double, boolean, null, big number,
                verbatim, attribute, a push before a reply (DEBUG PROTOCOL
                needs enable-debug-command local), MULTI/EXEC, a pipeline
    subscribe   RESP2 SUBSCRIBE to two channels, messages published by the
                side connection, PING while subscribed, UNSUBSCRIBE,
                PSUBSCRIBE/PUNSUBSCRIBE
    subscribe3  the same after HELLO 3, with GET while subscribed
    big         a 3 MiB value set and read back (one system call moves
                more than the probes copy: "over_limit"), then smaller
                commands and a 512 KiB value
Exits 0 when every reply was as expected, 1 (with a message) otherwise.
"""
import base64
import json
import os
import socket
import sys

from capture_conn import CaptureConn, Failure

TIMEOUT = 20
# The probes copy at most 64 chunks of 16 KiB per system call: a message
# moved by one larger call is recorded incomplete.
COPY_LIMIT = 256 * 16384  # DT_MAX_CHUNKS_PER_CALL * DT_CHUNK_SIZE

# `deetune cat`'s names of the reply types.
TYPE_NAMES = {
    b"+": "status", b"-": "error", b":": "integer", b"$": "bulk",
    b"*": "array", b"_": "null", b",": "double", b"#": "boolean",
    b"!": "blob_error", b"=": "verbatim", b"(": "big_number", b"%": "map",
    b"~": "set", b">": "push",
}


MESSAGES = (b"message", b"pmessage", b"smessage")
CONFIRMATIONS = (b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe",
                 b"ssubscribe", b"sunsubscribe")
# call(expect=ANY): any value of the expected type
ANY = object()


def cat_arg(b):
    """An argument as `deetune cat` prints it."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode()}


def encode(*args):
    words = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        out.append(b"$%d\r\n%s\r\n" % (len(w), w))
    return b"".join(out)


class Conn(CaptureConn):
    """A connection that keeps a copy of every byte in each direction and
    logs its commands with the byte ranges of their replies."""

    def __init__(self, name, port=None, unix=None):
        if unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(TIMEOUT)
            sock.connect(unix)
            addr = f"unix:{unix}"
        else:
            sock = socket.create_connection(("127.0.0.1", port),
                                            timeout=TIMEOUT)
            local = sock.getsockname()
            addr = f"{local[0]}:{local[1]}"
        super().__init__(sock, addr, name)
        self.unix = bool(unix)
        self.log = []           # exchanges
        self.pushes = []
        self.uncounted = []
        self.waiting = []       # exchanges sent, reply not read yet
        self.subscribed = False  # RESP2 pub/sub mode

    def read_line(self):
        return self.read_until(b"\r\n")[:-2]

    def read_value(self):
        """One RESP value (attributes before it included): its type byte
        and a Python rendering of it."""
        line = self.read_line()
        t, body = line[:1], line[1:]
        if t == b"|":
            for _ in range(2 * int(body)):
                self.read_value()
            return self.read_value()
        if t in (b"+", b"-", b":", b",", b"#", b"(", b"_"):
            return t, body
        if t in (b"$", b"!", b"="):
            n = int(body)
            if n < 0:
                return t, None
            data = self.read_exact(n + 2)
            if data[-2:] != b"\r\n":
                raise Failure(f"{self.name}: bulk not followed by CRLF")
            return t, data[:-2]
        if t in (b"*", b"~", b">", b"%"):
            n = int(body)
            if n < 0:
                return t, None
            if t == b"%":
                n *= 2
            return t, [self.read_value()[1] for _ in range(n)]
        raise Failure(f"{self.name}: bad reply line {line[:80]!r}")

    # --- commands ---------------------------------------------------

    def send(self, *args, raw=None):
        """Sends one command (raw: its exact bytes, for inline commands)
        and queues it for read_reply()."""
        data = raw if raw is not None else encode(*args)
        start = len(self.sent)
        self.send_all(data)
        x = self._log(args, start, len(self.sent))
        self.waiting.append(x)
        return x

    def _log(self, args, start, end):
        words = [a if isinstance(a, bytes) else str(a).encode()
                 for a in args]
        x = {"command": words[0].decode().upper(),
             "args": [cat_arg(w) for w in words[1:]],
             "req": [start, end], "resp": [], "over_limit": False}
        self.log.append(x)
        return x

    def read_reply(self, replies=1):
        """Reads the reply (or the replies, for (un)subscriptions) of the
        oldest waiting command; pushes in between are kept apart."""
        x = self.waiting.pop(0)
        values = []
        while len(values) < replies:
            start = self.consumed()
            t, v = self.read_value()
            span = [start, self.consumed()]
            if self.is_push(t, v):
                self.pushes.append(span)
                continue
            x["resp"].append(span)
            values.append((t, v))
        x["type"] = TYPE_NAMES[values[0][0]]
        x["value"] = render(values[0][1])
        return values[0] if replies == 1 else values

    def read_push(self):
        start = self.consumed()
        t, v = self.read_value()
        if not self.is_push(t, v):
            raise Failure(f"{self.name}: expected a push, got {t!r} {v!r}")
        self.pushes.append([start, self.consumed()])
        return v

    def is_push(self, t, v):
        """A push answers no command: a RESP3 push other than a
        subscription confirmation, or a RESP2 pub/sub message while
        subscribed. Confirmations update the subscribed state."""
        kind = v[0] if (t in (b"*", b">") and isinstance(v, list) and v and
                        isinstance(v[0], bytes)) else None
        if kind in CONFIRMATIONS:
            self.subscribed = int(v[-1]) > 0
            return False
        if t == b">":
            return True
        return t == b"*" and self.subscribed and kind in MESSAGES

    def pipeline(self, commands):
        """Sends the commands with ONE send() call, then reads their
        replies; returns the reply types."""
        start = len(self.sent)
        data = b"".join(encode(*cmd) for cmd in commands)
        self.send_once(data)
        for cmd in commands:
            x = self._log(cmd, start, start + len(encode(*cmd)))
            self.waiting.append(x)
            start = x["req"][1]
        return [TYPE_NAMES[self.read_reply()[0]] for _ in commands]

    def call(self, *args, expect_type=None, expect=ANY, raw=None,
             replies=1):
        self.send(*args, raw=raw)
        reply = self.read_reply(replies)
        if replies == 1:
            t, v = reply
            if expect_type is not None and TYPE_NAMES[t] != expect_type:
                raise Failure(f"{self.name}: {args[:3]}: reply type "
                              f"{TYPE_NAMES[t]} ({v!r:.80}), expected "
                              f"{expect_type}")
            if expect is not ANY and v != expect:
                raise Failure(f"{self.name}: {args[:3]}: reply {v!r:.80}, "
                              f"expected {expect!r:.80}")
        return reply

    def close(self):
        if self.waiting:
            raise Failure(f"{self.name}: replies not read")
        self.sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.recv += chunk
            self.buf += chunk
        self.sock.close()
        if self.buf:
            raise Failure(f"{self.name}: {len(self.buf)} unexpected bytes "
                          f"after the last reply: {bytes(self.buf[:80])!r}")

    def dump(self, prefix):
        with open(prefix + ".sent", "wb") as f:
            f.write(self.sent)
        with open(prefix + ".recv", "wb") as f:
            f.write(self.recv)
        return {"name": self.name, "addr": self.addr, "pid": os.getpid(),
                "unix": self.unix, "uncounted": self.uncounted,
                "sent": prefix + ".sent", "recv": prefix + ".recv",
                "exchanges": self.log, "pushes": self.pushes}


def render(v):
    """A JSON-able rendering of a reply value, for the log."""
    if isinstance(v, bytes):
        return cat_arg(v)
    if isinstance(v, list):
        return [render(e) for e in v]
    return v


def scenario_resp2(c, side):
    # Under the probes' per-call copy limit with its reply's framing.
    big = os.urandom(COPY_LIMIT - 4096) + b"\xff\xfe\x00"
    c.call("PING", expect_type="status", expect=b"PONG")
    c.call("SET", "k:str", "hello world", expect_type="status", expect=b"OK")
    c.call("GET", "k:str", expect_type="bulk", expect=b"hello world")
    c.call("DEL", "k:n", "k:list", "p:1", "p:n", "p:l", "t:a", "t:w",
           expect_type="integer")
    c.call("GET", "k:missing", expect_type="bulk", expect=None)
    c.call("SET", "k:empty", "", expect_type="status")
    c.call("GET", "k:empty", expect_type="bulk", expect=b"")
    c.call("INCR", "k:n", expect_type="integer", expect=b"1")
    c.call("INCRBY", "k:n", -42, expect_type="integer", expect=b"-41")
    c.call("INCR", "k:str", expect_type="error")
    c.call("NOSUCHCOMMAND", "x", expect_type="error")
    c.uncounted.append("NOSUCHCOMMAND")
    c.call("SET", b"k:bin\xff", big, expect_type="status")
    c.call("GET", b"k:bin\xff", expect_type="bulk", expect=big)
    c.call("RPUSH", "k:list", "a", "b", "c", expect_type="integer",
           expect=b"3")
    c.call("LRANGE", "k:list", 0, -1, expect_type="array",
           expect=[b"a", b"b", b"c"])
    c.call("LRANGE", "k:nolist", 0, -1, expect_type="array", expect=[])
    c.call("EVAL", "return {1, {2, {3, 'x'}}, 'y'}", 0,
           expect_type="array", expect=[b"1", [b"2", [b"3", b"x"]], b"y"])
    c.call("COMMAND", "INFO", "get", expect_type="array")
    # Inline commands, one after a blank line (which Redis skips).
    c.call("PING", raw=b"PING\r\n", expect_type="status")
    c.call("SET", "inline key", "v 1",
           raw=b"\r\nSET \"inline key\" 'v 1'\r\n", expect_type="status")
    c.call("GET", "inline key", expect_type="bulk", expect=b"v 1")
    # A pipeline: eight commands in one send(), then the eight replies.
    types = c.pipeline([("SET", "p:1", "one"), ("GET", "p:1"),
                        ("INCR", "p:n"), ("GET", "p:missing"),
                        ("RPUSH", "p:l", "x", "y"), ("LRANGE", "p:l", 0, -1),
                        ("INCR", "p:1"), ("PING",)])
    if types != ["status", "bulk", "integer", "bulk", "integer", "array",
                 "error", "status"]:
        raise Failure(f"pipeline reply types {types}")
    # A transaction: the queued replies, then EXEC's array.
    c.call("MULTI", expect_type="status", expect=b"OK")
    c.call("SET", "t:a", "1", expect_type="status", expect=b"QUEUED")
    c.call("INCR", "t:a", expect_type="status", expect=b"QUEUED")
    c.call("LRANGE", "k:list", 0, 0, expect_type="status", expect=b"QUEUED")
    c.call("EXEC", expect_type="array", expect=[b"OK", b"2", [b"a"]])
    # An aborted transaction: EXEC answers a nil array.
    c.call("WATCH", "t:w", expect_type="status")
    side.call("SET", "t:w", "changed", expect_type="status")
    c.call("MULTI", expect_type="status")
    c.call("SET", "t:w", "mine", expect_type="status", expect=b"QUEUED")
    c.uncounted.append("SET")
    c.call("EXEC", expect_type="array", expect=None)
    c.call("GET", "t:w", expect_type="bulk", expect=b"changed")


def scenario_resp3(c, side):
    del side
    t, hello = c.call("HELLO", 3, expect_type="map")
    if b"proto" not in hello:
        raise Failure(f"HELLO 3: {hello!r}")
    c.call("DEL", "h3", "s3", "z3", expect_type="integer")
    c.call("HSET", "h3", "f1", "v1", "f2", "v2", expect_type="integer")
    c.call("HGETALL", "h3", expect_type="map")
    c.call("SADD", "s3", "a", "b", "c", expect_type="integer")
    c.call("SMEMBERS", "s3", expect_type="set")
    c.call("ZADD", "z3", "1.5", "m", expect_type="integer")
    c.call("ZSCORE", "z3", "m", expect_type="double", expect=b"1.5")
    c.call("GET", "k3:missing", expect_type="null")
    c.call("EVAL", "redis.setresp(3); return true", 0,
           expect_type="boolean", expect=b"t")
    c.call("EVAL", "redis.setresp(3); return {double=3.25}", 0,
           expect_type="double")
    c.call("EVAL", "redis.setresp(3); return {big_number='123456789"
           "012345678901234567890'}", 0, expect_type="big_number")
    c.call("CLIENT", "INFO", expect_type="verbatim")
    c.call("DEBUG", "PROTOCOL", "attrib", expect_type="bulk")
    c.call("DEBUG", "PROTOCOL", "false", expect_type="boolean",
           expect=b"f")
    # A push, then the reply: the push answers nothing.
    c.call("DEBUG", "PROTOCOL", "push", expect_type="bulk")
    if len(c.pushes) != 1:
        raise Failure(f"DEBUG PROTOCOL push: {len(c.pushes)} pushes")
    c.call("MULTI", expect_type="status")
    c.call("HGETALL", "h3", expect_type="status", expect=b"QUEUED")
    c.call("ZSCORE", "z3", "m", expect_type="status", expect=b"QUEUED")
    c.call("EXEC", expect_type="array")
    types = c.pipeline([("SMEMBERS", "s3"), ("GET", "k3:missing"),
                        ("ZSCORE", "z3", "m"), ("HGETALL", "h3")])
    if types != ["set", "null", "double", "map"]:
        raise Failure(f"RESP3 pipeline reply types {types}")


def scenario_big(c, side):
    del side
    # 3 MiB moved by one system call each way, within the copy limit:
    # recorded byte-exact
    huge = os.urandom(3 * 1024 * 1024)
    c.call("SET", "big:huge", huge, expect_type="status")
    c.call("GET", "big:huge", expect_type="bulk", expect=huge)
    c.call("PING", expect_type="status")
    c.call("GET", "k:str", expect_type="bulk")
    large = os.urandom(COPY_LIMIT // 2)
    c.call("SET", "big:large", large, expect_type="status")
    c.call("GET", "big:large", expect_type="bulk", expect=large)
    c.call("STRLEN", "big:huge", expect_type="integer",
           expect=str(len(huge)).encode())
    c.call("DEL", "big:huge", "big:large", expect_type="integer",
           expect=b"2")


def publish(side, channel, message, receivers):
    side.call("PUBLISH", channel, message, expect_type="integer",
              expect=str(receivers).encode())


def scenario_subscribe(c, side):
    confirmations = c.call("SUBSCRIBE", "ch:1", "ch:2", replies=2)
    for (t, v), ch, n in zip(confirmations, (b"ch:1", b"ch:2"), (1, 2)):
        if v != [b"subscribe", ch, str(n).encode()]:
            raise Failure(f"SUBSCRIBE confirmation {v!r}")
    sent = []
    for i in range(6):
        ch = f"ch:{1 + i % 2}"
        publish(side, ch, f"message {i}", 1)
        sent.append([b"message", ch.encode(), f"message {i}".encode()])
    publish(side, "ch:other", "nobody listens", 0)
    got = [c.read_push() for _ in sent]
    if got != sent:
        raise Failure(f"messages {got!r}, published {sent!r}")
    c.call("PING", expect_type="array", expect=[b"pong", b""])
    c.call("UNSUBSCRIBE", replies=2)
    c.call("PING", expect_type="status", expect=b"PONG")
    c.call("PSUBSCRIBE", "news.*", expect_type="array")
    publish(side, "news.today", "extra", 1)
    if c.read_push() != [b"pmessage", b"news.*", b"news.today", b"extra"]:
        raise Failure("pmessage not received")
    c.call("PUNSUBSCRIBE", "news.*", expect_type="array")
    c.call("GET", "k:str", expect_type="bulk")


def scenario_subscribe3(c, side):
    c.call("HELLO", 3, expect_type="map")
    c.call("SUBSCRIBE", "ch3:a", "ch3:b", replies=2)
    publish(side, "ch3:a", "first", 1)
    # The message is waiting before GET's reply.
    c.call("GET", "k:str", expect_type="bulk")
    if len(c.pushes) != 1:
        raise Failure(f"{len(c.pushes)} pushes before GET's reply")
    publish(side, "ch3:b", "second", 1)
    if c.read_push() != [b"message", b"ch3:b", b"second"]:
        raise Failure("second message not received")
    c.call("PING", expect_type="status", expect=b"PONG")
    c.call("UNSUBSCRIBE", "ch3:a", replies=1)
    publish(side, "ch3:b", "third", 1)
    c.call("UNSUBSCRIBE", replies=1)
    c.call("PING", expect_type="status", expect=b"PONG")


SCENARIOS = {
    "resp2": scenario_resp2,
    "resp3": scenario_resp3,
    "subscribe": scenario_subscribe,
    "subscribe3": scenario_subscribe3,
    "big": scenario_big,
}


NEED_SIDE = ("resp2", "subscribe", "subscribe3")


def main(argv):
    port = unix = tcp_port = None
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--port":
            port = int(args[1])
        elif args[0] == "--unix":
            unix = args[1]
        elif args[0] == "--tcp-port":
            tcp_port = int(args[1])
        else:
            break
        args = args[2:]
    if len(args) != 2 or args[1] not in SCENARIOS or \
            (port is None) == (unix is None):
        sys.stderr.write(__doc__)
        return 2
    out, name = args
    tcp_port = tcp_port or port
    conns = []
    rc = 0
    try:
        c = Conn(name, port=port, unix=unix)
        conns.append((c, out))
        side = None
        if name in NEED_SIDE:
            side = Conn(name + "-side", port=tcp_port)
        if side:
            conns.append((side, out + "-side"))
        SCENARIOS[name](c, side)
        for conn, _ in conns:
            conn.close()
    except (Failure, OSError, ValueError, IndexError) as e:
        print(f"redis_client {name}: {e!r}", file=sys.stderr)
        rc = 1
    finally:
        with open(out + ".json", "w") as f:
            json.dump([conn.dump(prefix) for conn, prefix in conns], f)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
