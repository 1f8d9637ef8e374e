#!/usr/bin/env python3
"""Checks `deetune cat --raw` output of a Redis recording against what the
server counted and the bytes the test clients (redis_client.py) really sent
and received.

    check_redis.py --cat CAT --port PORT --unix PATH
                   --stats-before F --stats-after F
                   [--bench-before F --bench-after F]
                   [--cli FILE --times T0 T1 T2 T3] [--capture JSON]...

F are outputs of `INFO commandstats`. --stats-before is taken before the
recording started and --stats-after after it stopped, both on connections
that were not recorded; the INFO commands in between were. The server
counts in cmdstat_* (calls + rejected_calls) every command it ran or
rejected, except unknown commands and those queued in a transaction that
EXEC aborted: the clients list those as "uncounted". So the commands
recorded, per name, must be
    after - before - the before INFO itself + uncounted.
--bench-before/--bench-after bracket redis-benchmark (both recorded, via
redis-cli): its connections hold bench-after - bench-before - 1 commands.
--cli lists, in order, the commands redis-cli ran and their reply types
("GET bulk"), with "unix" when over the Unix socket. --times are the
clock (ns since the epoch) when redis-cli started, when redis-benchmark
started, when it ended and when redis-cli ended: requests starting in
[T0, T1) and [T2, T3) are redis-cli's, in [T1, T2) redis-benchmark's.

Asserts, for every exchange: protocol redis, the server's address (port or
unix:PATH) and process, no flags, request and response raw bytes that are
one command and whole RESP values, request.command/args and attrs
(command, key, reply) as the raw bytes say, response.type/error/summary
consistent with the reply; and for each client capture: its exchanges, in
order, are its commands with exactly their bytes, the concatenated
request.raw equals all it sent and response.raw all it received except the
pushes (pub/sub messages), which are in no exchange.
Prints every problem found and exits 1 when there is one.
"""
import argparse
import base64
import collections
import json
import re
import sys

from checklib import Checker, raw

TYPE_NAMES = {
    "+": "status", "-": "error", ":": "integer", "$": "bulk", "*": "array",
    "_": "null", ",": "double", "#": "boolean", "!": "blob_error",
    "=": "verbatim", "(": "big_number", "%": "map", "~": "set", ">": "push",
}



class Bad(Exception):
    pass


# --- RESP ---------------------------------------------------------------

def line_at(data, pos):
    end = data.find(b"\r\n", pos)
    if end < 0:
        raise Bad(f"no CRLF after offset {pos}")
    return data[pos:end], end + 2


def value_at(data, pos):
    """Parses one value (attributes before it included) at data[pos:]:
    returns (type char, element count or None, value bytes or None,
    end)."""
    line, pos = line_at(data, pos)
    if not line:
        raise Bad("empty reply line")
    t, body = chr(line[0]), line[1:]
    if t == "|":
        for _ in range(2 * int(body)):
            pos = value_at(data, pos)[3]
        return value_at(data, pos)
    if t in "+-:,#(_":
        return t, None, body, pos
    if t in "$!=":
        n = int(body)
        if n < 0:
            return t, None, None, pos
        if data[pos + n:pos + n + 2] != b"\r\n":
            raise Bad("bulk string not followed by CRLF")
        return t, None, data[pos:pos + n], pos + n + 2
    if t in "*~>%":
        n = int(body)
        if n < 0:
            return t, None, None, pos
        for _ in range(2 * n if t == "%" else n):
            pos = value_at(data, pos)[3]
        return t, n, None, pos
    raise Bad(f"bad type byte {t!r}")


def values_in(data):
    """Every value in data, which must hold whole values only."""
    out, pos = [], 0
    while pos < len(data):
        t, n, v, end = value_at(data, pos)
        out.append((t, n, v, data[pos:end]))
        pos = end
    return out


def inline_words(line):
    """Splits an inline command as Redis does (quotes kept apart, escapes
    as sent)."""
    words, i = [], 0
    while i < len(line):
        if line[i:i + 1] in b" \t":
            i += 1
            continue
        q = line[i:i + 1]
        if q in (b'"', b"'"):
            j = line.index(q, i + 1)
            words.append(line[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(line) and line[j:j + 1] not in b" \t":
                j += 1
            words.append(line[i:j])
            i = j
    return words


def command_words(data):
    """The words of the one command in data (blank lines before it
    allowed)."""
    pos = 0
    while data[pos:pos + 2] == b"\r\n":
        pos += 2
    if data[pos:pos + 1] != b"*":
        line, end = line_at(data, pos)
        if end != len(data):
            raise Bad("bytes after the inline command")
        return inline_words(line)
    line, pos = line_at(data, pos)
    words = []
    for _ in range(int(line[1:])):
        line, pos = line_at(data, pos)
        if line[:1] != b"$":
            raise Bad("command element is not a bulk string")
        n = int(line[1:])
        words.append(data[pos:pos + n])
        if data[pos + n:pos + n + 2] != b"\r\n":
            raise Bad("argument not followed by CRLF")
        pos += n + 2
    if pos != len(data):
        raise Bad(f"{len(data) - pos} bytes after the command")
    return words


def cat_arg(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode()}



# --- per exchange ---------------------------------------------------------

def check_timing(ck, x, where):
    t = x.get("timing") or {}
    names = ("req_start_ns", "req_end_ns", "resp_start_ns", "resp_end_ns")
    if not ck.check(all(isinstance(t.get(k), int) for k in names),
                    f"{where}: timing incomplete: {t}"):
        return
    ck.check(x.get("start_ns") == t["req_start_ns"],
             f"{where}: start_ns != req_start_ns")
    ck.check(0 < t["req_start_ns"] <= t["req_end_ns"] <= t["resp_end_ns"]
             and t["req_start_ns"] <= t["resp_start_ns"] <= t["resp_end_ns"],
             f"{where}: timing {t}")
    ck.check(x.get("duration_ns") == t["resp_end_ns"] - t["req_start_ns"],
             f"{where}: duration_ns {x.get('duration_ns')}")


def check_request(ck, x, where):
    req = x.get("request")
    data = raw(req)
    if not ck.check(data is not None, f"{where}: no request raw"):
        return
    ck.check(req.get("len") == len(data), f"{where}: request.len "
             f"{req.get('len')}, raw {len(data)} bytes")
    try:
        words = command_words(data)
    except (Bad, ValueError) as e:
        ck.error(f"{where}: request raw is not one command ({e}): "
                 f"{data[:80]!r}")
        return
    cmd = words[0].decode("latin-1").upper()
    ck.check(req.get("command") == cmd,
             f"{where}: request.command {req.get('command')!r}, raw {cmd!r}")
    args = [cat_arg(w) for w in words[1:]]
    ck.check(req.get("args") == args,
             f"{where}: request.args {str(req.get('args'))[:200]}, raw "
             f"{str(args)[:200]}")
    attrs = x.get("attrs") or {}
    ck.check(attrs.get("command") == cmd,
             f"{where}: attrs.command {attrs.get('command')!r}")
    if len(words) > 1:
        key = words[1].decode("utf-8", "replace")
        ck.check(attrs.get("key") == key,
                 f"{where}: attrs.key {attrs.get('key')!r}, raw {key!r}")


def check_response(ck, x, where):
    resp = x.get("response")
    data = raw(resp)
    if not ck.check(data is not None, f"{where}: no response raw"):
        return
    ck.check(resp.get("len") == len(data), f"{where}: response.len "
             f"{resp.get('len')}, raw {len(data)} bytes")
    try:
        values = values_in(data)
    except (Bad, ValueError) as e:
        ck.error(f"{where}: response raw is not whole RESP values ({e}): "
                 f"{data[:80]!r}")
        return
    if not ck.check(values, f"{where}: empty response"):
        return
    cmd = (x.get("request") or {}).get("command", "")
    ck.check(len(values) == 1 or cmd.endswith("SUBSCRIBE"),
             f"{where}: {cmd} answered by {len(values)} values")
    t, n, v, _ = values[0]
    want = TYPE_NAMES[t]
    ck.check(resp.get("type") == want,
             f"{where}: response.type {resp.get('type')!r}, raw {want!r}")
    ck.check(resp.get("error") is (t in "-!"),
             f"{where}: response.error {resp.get('error')!r} for {want}")
    summary = resp.get("summary")
    if not ck.check(isinstance(summary, str) and summary,
                    f"{where}: response.summary {summary!r}"):
        return
    ck.check((x.get("attrs") or {}).get("reply") == summary,
             f"{where}: attrs.reply differs from response.summary")
    if v is None and n is None:
        ck.check(summary == "nil", f"{where}: nil reply summarised "
                 f"{summary!r}")
    elif n is not None:
        ck.check(f"({n})" in summary, f"{where}: {want} of {n} "
                 f"summarised {summary!r}")
    elif len(v) <= 64 and re.fullmatch(rb"[ -~]*", v) and b'"' not in v:
        ck.check(v.decode() in summary, f"{where}: {want} {v!r} "
                 f"summarised {summary!r}")
    if t in "-!":
        ck.check((x.get("attrs") or {}).get("error") == "1",
                 f"{where}: error reply without attrs.error")


def check_exchange(ck, x, port, unix, partial):
    """partial: a message of the exchange was larger than the probes copy
    in one call; it must be flagged incomplete, its bytes are checked
    against the client's capture."""
    where = f"exchange {x.get('id')}"
    ck.check(x.get("protocol") == "redis",
             f"{where}: protocol {x.get('protocol')!r}")
    server = x.get("server") or {}
    client = x.get("client") or {}
    addrs = (f"127.0.0.1:{port}", f"unix:{unix}")
    ck.check(server.get("addr") in addrs,
             f"{where}: server addr {server.get('addr')!r}, not {addrs}")
    if server.get("addr") == addrs[1]:
        ck.check(client.get("addr") == addrs[1],
                 f"{where}: client addr {client.get('addr')!r} on {unix}")
    ck.check(server.get("comm") == "redis-server",
             f"{where}: server comm {server.get('comm')!r}")
    if partial:
        ck.check(x.get("flags") == ["incomplete"],
                 f"{where}: flags {x.get('flags')}, expected incomplete: a "
                 f"message exceeded the per-call copy limit")
        return
    ck.check(x.get("flags") == [], f"{where}: flags {x.get('flags')}")
    check_timing(ck, x, where)
    check_request(ck, x, where)
    check_response(ck, x, where)


def check_clients_known(ck, exchanges):
    """Every client ran on this host: its process must be named."""
    unknown = collections.Counter(
        (x.get("conn_id"), (x.get("client") or {}).get("addr"))
        for x in exchanges if not (x.get("client") or {}).get("pid"))
    if unknown:
        ck.error(f"{sum(unknown.values())} exchanges on {len(unknown)} "
                 f"connections name no client process (pid 0), though "
                 f"every client ran on this host: (conn_id, client addr): "
                 f"count {dict(list(unknown.items())[:12])}")


# --- accounting -----------------------------------------------------------

def load_stats(path):
    """calls + rejected_calls per command name as cat shows it (the
    container of a subcommand: config|get counts as CONFIG)."""
    out = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"cmdstat_([^:]+):calls=(\d+),.*rejected_calls=(\d+)",
                         line.strip())
            if m:
                name = m.group(1).split("|")[0].upper()
                out[name] += int(m.group(2)) + int(m.group(3))
    return out


def check_counts(ck, exchanges, args, captures):
    got = collections.Counter((x.get("request") or {}).get("command")
                              for x in exchanges)
    want = load_stats(args.stats_after)
    want.subtract(load_stats(args.stats_before))
    want["INFO"] -= 1
    for conn in captures:
        want.update(conn["uncounted"])
    want = +want
    ck.check(sum(got.values()) == sum(want.values()),
             f"{sum(got.values())} exchanges recorded, the server ran "
             f"{sum(want.values())} commands")
    if got != want:
        ck.error(f"commands recorded but not run: {dict(got - want)}; run "
                 f"but not recorded: {dict(want - got)}")
    if args.bench_before:
        n = sum(load_stats(args.bench_after).values()) - \
            sum(load_stats(args.bench_before).values()) - 1
        bench = [x for x in exchanges if in_window(x, args.times[1:3])]
        ck.check(len(bench) == n, f"redis-benchmark: {len(bench)} exchanges "
                 f"recorded, the server ran {n} commands")
        ck.check(n > 1000, f"redis-benchmark: only {n} commands")
        ck.check(all((x.get("client") or {}).get("comm") in
                     ("redis-benchmark", "") for x in bench),
                 "redis-benchmark: other clients' exchanges in its window")
        print(f"check_redis: redis-benchmark {len(bench)} exchanges, server "
              f"{n}")


def in_window(x, window):
    return window[0] <= x.get("start_ns", 0) < window[1]


def check_cli(ck, exchanges, path, unix, times):
    want = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                want.append((words[0].upper(), words[1],
                             len(words) > 2 and words[2] == "unix"))
    mine = [x for x in exchanges
            if in_window(x, times[0:2]) or in_window(x, times[2:4])]
    got = [((x.get("request") or {}).get("command"),
            (x.get("response") or {}).get("type"),
            (x.get("server") or {}).get("addr") == f"unix:{unix}")
           for x in mine]
    ck.check(got == want, f"redis-cli: recorded {got}, ran {want}")
    ck.check(all((x.get("client") or {}).get("comm") in ("redis-cli", "")
                 for x in mine),
             "redis-cli: other clients' exchanges in its time window")


# --- client captures ------------------------------------------------------

def compare_bytes(ck, what, got, want):
    if got == want:
        return True
    n = min(len(got), len(want))
    i = next((k for k in range(n) if got[k] != want[k]), n)
    ck.error(f"{what}: recorded {len(got)} bytes, real {len(want)}; first "
             f"difference at offset {i}: recorded "
             f"{got[max(0, i - 16):i + 32]!r}, real "
             f"{want[max(0, i - 16):i + 32]!r}")
    return False


def check_capture(ck, exchanges, conn, partial):
    """Compares the exchanges of one client connection with its capture;
    adds to partial the ids of those expected incomplete."""
    with open(conn["sent"], "rb") as f:
        sent = f.read()
    with open(conn["recv"], "rb") as f:
        recv = f.read()
    name = f"{conn['name']} ({conn['addr']})"
    if conn["unix"]:
        mine = [x for x in exchanges
                if (x.get("client") or {}).get("pid") == conn["pid"] and
                (x.get("server") or {}).get("addr") == conn["addr"]]
    else:
        mine = [x for x in exchanges
                if (x.get("client") or {}).get("addr") == conn["addr"]]
    mine.sort(key=lambda x: x["id"])
    want = [e["command"] for e in conn["exchanges"]]
    got = [(x.get("request") or {}).get("command") for x in mine]
    same = ck.check(got == want, f"{name}: recorded commands {got}, client "
                    f"sent {want}")
    pushes = [recv[a:b] for a, b in conn["pushes"]]
    replies = bytearray(recv)
    for a, b in reversed(conn["pushes"]):
        del replies[a:b]
    all_req = b"".join(raw(x.get("request")) or b"" for x in mine)
    all_resp = b"".join(raw(x.get("response")) or b"" for x in mine)
    if not any(e["over_limit"] for e in conn["exchanges"]):
        compare_bytes(ck, f"{name}: all requests", all_req, sent)
        compare_bytes(ck, f"{name}: all replies (pushes left out)",
                      all_resp, bytes(replies))
    for x in mine:
        resp = raw(x.get("response")) or b""
        for p in pushes:
            ck.check(p not in resp, f"{name} exchange {x['id']}: holds the "
                     f"push {p[:60]!r}")
    if not same:
        return
    for x, e in zip(mine, conn["exchanges"]):
        where = f"{name} exchange {x['id']} ({e['command']})"
        real_req = sent[e["req"][0]:e["req"][1]]
        real_resp = b"".join(recv[a:b] for a, b in e["resp"])
        req = raw(x.get("request")) or b""
        resp = raw(x.get("response")) or b""
        if e["over_limit"]:
            partial.add(x["id"])
            ck.check(real_req.startswith(req) and real_resp.startswith(resp)
                     and len(req) + len(resp) < len(real_req) +
                     len(real_resp),
                     f"{where}: holds {len(req)}+{len(resp)} bytes; must "
                     f"be proper prefixes of the real {len(real_req)}+"
                     f"{len(real_resp)}")
            continue
        compare_bytes(ck, f"{where}: request", req, real_req)
        compare_bytes(ck, f"{where}: response", resp, real_resp)
        ck.check((x.get("request") or {}).get("args") == e["args"],
                 f"{where}: args {str(x['request'].get('args'))[:200]}, "
                 f"client sent {str(e['args'])[:200]}")
        ck.check((x.get("response") or {}).get("type") == e["type"],
                 f"{where}: response.type "
                 f"{(x.get('response') or {}).get('type')!r}, client got "
                 f"{e['type']!r}")
        if e["command"].endswith("SUBSCRIBE") and len(e["resp"]) > 1:
            check_subscription(ck, where, x, e)


def check_subscription(ck, where, x, e):
    """A (un)subscription to N channels is answered by N confirmations,
    all in the one exchange."""
    try:
        values = values_in(raw(x["response"]) or b"")
    except (Bad, ValueError):
        values = []
    ck.check(len(values) == len(e["resp"]),
             f"{where}: response holds {len(values)} confirmations, the "
             f"server sent {len(e['resp'])}")
    kinds = [v[3].split(b"\r\n")[2] if len(v[3].split(b"\r\n")) > 2 else b""
             for v in values]
    want = e["command"].lower().encode()
    ck.check(all(k == want for k in kinds),
             f"{where}: confirmations {kinds}, expected {want!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cat", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--unix", required=True)
    ap.add_argument("--stats-before", required=True)
    ap.add_argument("--stats-after", required=True)
    ap.add_argument("--bench-before")
    ap.add_argument("--bench-after")
    ap.add_argument("--cli")
    ap.add_argument("--times", type=int, nargs=4)
    ap.add_argument("--capture", action="append", default=[])
    args = ap.parse_args()

    ck = Checker("check_redis")
    exchanges = []
    with open(args.cat, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                exchanges.append(json.loads(line))
            except ValueError as e:
                ck.error(f"cat line {n} is not JSON ({e}): {line[:200]!r}")
    captures = []
    for path in args.capture:
        with open(path, encoding="utf-8") as f:
            captures += json.load(f)
    ids = [x.get("id") for x in exchanges]
    ck.check(ids == list(range(1, len(ids) + 1)),
             f"ids are not 1..{len(ids)} in order")
    partial = set()
    for conn in captures:
        check_capture(ck, exchanges, conn, partial)
    for x in exchanges:
        check_exchange(ck, x, args.port, args.unix, x.get("id") in partial)
    check_clients_known(ck, exchanges)
    check_counts(ck, exchanges, args, captures)
    if args.cli:
        check_cli(ck, exchanges, args.cli, args.unix, args.times)

    return ck.report(f"{len(exchanges)} exchanges ok ({len(captures)} "
          f"byte-exact connections)")


if __name__ == "__main__":
    sys.exit(main())
