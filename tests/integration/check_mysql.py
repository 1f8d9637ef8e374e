#!/usr/bin/env python3
"""Checks `deetune cat --raw` output of a MySQL recording against the
server's general log and counters and what the clients printed.

    check_mysql.py --cat CAT --port PORT --unix PATH --log LOG
                   --status-before F --status-after F --password PW...
                   [--cli JSONL] [--stmt JSONL]... [--slap-sql SQL]

The reference for which commands went to the server is its general log
(LOG: the part written while recording): mariadbd logs every command it
receives, per connection (its thread id), with the SQL text, except
COM_PING and COM_STATISTICS. So:
  - each logged connection is one recorded connection (conn_id), found by
    the handshake exchange's response.connection_id; its recorded
    exchanges, in order, are its logged commands: Connect = handshake
    (user, schema; "Access denied" = a handshake answered by ERR 1045),
    Query = COM_QUERY with that request.sql, Init DB = COM_INIT_DB,
    Prepare = COM_STMT_PREPARE with that SQL, Execute = COM_STMT_EXECUTE,
    Reset stmt, Close stmt, Quit = COM_QUIT; COM_PING exchanges and
    COM_STMT_PREPAREs answered by ERR, which the log leaves out, are left
    out of the comparison;
  - SHOW GLOBAL STATUS, taken before the recording started and after it
    stopped (on connections that were not recorded; the second one counts
    itself in Connections), cross-checks the totals: handshakes =
    Connections - 1, COM_STMT_PREPARE/EXECUTE/CLOSE/RESET exchanges =
    Com_stmt_prepare/execute/close/reset, COM_PING = Com_admin_commands.
Client output:
  --cli     JSON lines {via, sql, stdout, stderr, rc} of mariadb client
            runs of "SQL; SELECT ROW_COUNT() AS affected_rows" with
            --table --column-type-info: column names and types, rows, the
            affected rows of an OK, the error code, SQL state and message
            of an ERR, as the client printed them;
  --stmt    mysql_stmt_client.c output: statement ids, parameters with
            their types, affected rows, result columns and rows;
  --slap-sql the query mysqlslap ran: each run answered as the mariadb
            client saw it.
No password (--password, repeatable) may appear in any recorded byte, nor
the mysql_native_password token it makes with a greeting's scramble; the
auth response of every handshake response must be zeroed.
Generic checks on every exchange: protocol, server address and process,
no flags, raw bytes framed as whole packets (sequence ids in order) whose
command byte, SQL and OK/ERR/result set match the parsed fields.
Prints every problem found and exits 1 when there is one.
"""
import argparse
import collections
import hashlib
import json
import re
import sys

from checklib import Checker, raw

PREVIEW_ROWS = 16
ROW_COUNT_SQL = "SELECT ROW_COUNT() AS affected_rows"

COMMANDS = {
    0x01: "COM_QUIT", 0x02: "COM_INIT_DB", 0x03: "COM_QUERY",
    0x0e: "COM_PING", 0x16: "COM_STMT_PREPARE", 0x17: "COM_STMT_EXECUTE",
    0x19: "COM_STMT_CLOSE", 0x1a: "COM_STMT_RESET",
}
NO_RESPONSE = ("COM_QUIT", "COM_STMT_CLOSE")
LOGGED = {
    "Query": "COM_QUERY", "Init DB": "COM_INIT_DB",
    "Prepare": "COM_STMT_PREPARE", "Execute": "COM_STMT_EXECUTE",
    "Close stmt": "COM_STMT_CLOSE", "Reset stmt": "COM_STMT_RESET",
    "Quit": "COM_QUIT",
}
TYPE_NAMES = {
    0: "DECIMAL", 1: "TINY", 2: "SHORT", 3: "LONG", 4: "FLOAT", 5: "DOUBLE",
    6: "NULL", 7: "TIMESTAMP", 8: "LONGLONG", 9: "INT24", 10: "DATE",
    11: "TIME", 12: "DATETIME", 13: "YEAR", 15: "VARCHAR", 16: "BIT",
    245: "JSON", 246: "NEWDECIMAL", 247: "ENUM", 248: "SET",
    249: "TINY_BLOB", 250: "MEDIUM_BLOB", 251: "LONG_BLOB", 252: "BLOB",
    253: "VAR_STRING", 254: "STRING", 255: "GEOMETRY",
}
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_PLUGIN_AUTH_LENENC = 1 << 21




def packets(data):
    """(seq, payload) of each packet; None when data is not whole
    packets."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        n = int.from_bytes(data[pos:pos + 3], "little")
        if pos + 4 + n > len(data):
            return None
        out.append((data[pos + 3], data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


def where(x):
    req = x.get("request") or {}
    return (f"exchange {x.get('id')} (conn {x.get('conn_id')}, "
            f"{req.get('command')} {str(req.get('sql', ''))[:60]!r})")


# --- every exchange ---------------------------------------------------------

def check_framing(ck, x):
    """The raw bytes are whole packets and say what the parsed fields
    say."""
    w = where(x)
    req, resp = x.get("request") or {}, x.get("response")
    data = raw(req)
    if not ck.check(data is not None and req.get("len") == len(data),
                    f"{w}: request raw missing or len {req.get('len')} "
                    f"wrong"):
        return
    pk = packets(data)
    if not ck.check(pk, f"{w}: request raw is not whole packets"):
        return
    cmd = req.get("command")
    if cmd != "handshake":
        ok = ck.check(len(pk) == 1 and pk[0][0] == 0 and pk[0][1],
                      f"{w}: a command is one packet with sequence 0")
        if ok:
            payload = pk[0][1]
            ck.check(COMMANDS.get(payload[0]) == cmd,
                     f"{w}: command byte {payload[0]:#x}, cat says {cmd}")
            if cmd in ("COM_QUERY", "COM_STMT_PREPARE"):
                ck.check(payload[1:].decode("utf-8", "replace") ==
                         req.get("sql"), f"{w}: request.sql differs from "
                         f"the raw bytes {payload[1:80]!r}")
            if cmd == "COM_INIT_DB":
                ck.check(payload[1:].decode() == req.get("schema"),
                         f"{w}: request.schema {req.get('schema')!r}")
    if cmd in NO_RESPONSE:
        ck.check(resp is None, f"{w}: {cmd} has a response {resp}")
        return
    data = raw(resp)
    if not ck.check(data is not None and resp.get("len") == len(data),
                    f"{w}: response raw missing or len wrong"):
        return
    pk = packets(data)
    if not ck.check(pk, f"{w}: response raw is not whole packets"):
        return
    if cmd == "handshake":
        return
    seqs = [s for s, _ in pk]
    ck.check(seqs == [(i + 1) & 0xff for i in range(len(pk))],
             f"{w}: response sequence ids {seqs[:10]}")
    first = pk[0][1][:1]
    kind = resp.get("kind")
    want = {b"\x00": "ok", b"\xff": "err"}.get(first, "resultset")
    if cmd == "COM_STMT_PREPARE" and first == b"\x00":
        want = kind  # the statement's OK: checked against the client
    ck.check(kind == want, f"{w}: response.kind {kind!r}, raw says {want}")
    if first == b"\xff" and len(pk[0][1]) >= 3:
        code = int.from_bytes(pk[0][1][1:3], "little")
        ck.check(resp.get("error_code") == code,
                 f"{w}: error_code {resp.get('error_code')}, raw {code}")


def check_exchange(ck, x, port, unix):
    w = where(x)
    ck.check(x.get("protocol") == "mysql",
             f"{w}: protocol {x.get('protocol')!r}")
    server = x.get("server") or {}
    client = x.get("client") or {}
    addrs = (f"127.0.0.1:{port}", f"unix:{unix}")
    ck.check(server.get("addr") in addrs, f"{w}: server addr "
             f"{server.get('addr')!r}")
    if server.get("addr") == addrs[1]:
        ck.check(client.get("addr") == addrs[1],
                 f"{w}: client addr {client.get('addr')!r}")
    ck.check(server.get("comm") == "mariadbd",
             f"{w}: server comm {server.get('comm')!r}")
    ck.check(x.get("flags") == [], f"{w}: flags {x.get('flags')}")
    t = x.get("timing") or {}
    ck.check(0 < t.get("req_start_ns", 0) <= t.get("req_end_ns", 0),
             f"{w}: request timing {t}")
    # a handshake's response starts with the greeting, before the request
    first = 0 if (x.get("request") or {}).get("command") == "handshake" \
        else t.get("req_start_ns", 0)
    if x.get("response") is not None:
        ck.check(0 < first <= t.get("resp_start_ns", 0) <=
                 t.get("resp_end_ns", 0) or
                 (first == 0 and 0 < t.get("resp_start_ns", 0) <=
                  t.get("resp_end_ns", 0)), f"{w}: response timing {t}")
    check_framing(ck, x)


def check_clients_known(ck, exchanges):
    unknown = collections.Counter(
        (x.get("conn_id"), (x.get("client") or {}).get("addr"))
        for x in exchanges if not (x.get("client") or {}).get("pid"))
    if unknown:
        ck.error(f"{sum(unknown.values())} exchanges on {len(unknown)} "
                 f"connections name no client process (pid 0), though "
                 f"every client ran on this host: (conn_id, client addr): "
                 f"count {dict(list(unknown.items())[:12])}")


# --- passwords ------------------------------------------------------------

def greeting_scramble(data):
    """The 20-byte scramble of the server greeting at the start of a
    handshake's response bytes, or None."""
    pk = packets(data or b"")
    if not pk or pk[0][0] != 0 or pk[0][1][:1] != b"\x0a":
        return None
    p = pk[0][1]
    pos = p.index(b"\x00", 1) + 1 + 4
    part1 = p[pos:pos + 8]
    pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
    part2 = p[pos:pos + 12]
    return part1 + part2 if len(part2) == 12 else None


def native_token(password, scramble):
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(scramble + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def auth_response(payload):
    """The auth response bytes of a HandshakeResponse41 payload."""
    caps = int.from_bytes(payload[:4], "little")
    pos = payload.index(b"\x00", 32) + 1  # after the user name
    if caps & CLIENT_PLUGIN_AUTH_LENENC:
        n = payload[pos]
        pos += 1
        if n >= 0xfb:
            raise ValueError("long auth response")
    elif caps & CLIENT_SECURE_CONNECTION:
        n = payload[pos]
        pos += 1
    else:
        n = payload.index(b"\x00", pos) - pos
    return payload[pos:pos + n]


def check_passwords(ck, exchanges, lines, passwords):
    errors = len(ck.errors)
    all_raw = []
    for x in exchanges:
        for side in ("request", "response"):
            data = raw(x.get(side))
            if data:
                all_raw.append((x, side, data))
    for pw in passwords:
        for x, side, data in all_raw:
            ck.check(pw.encode() not in data,
                     f"{where(x)}: the password is in the {side} bytes")
        ck.check(not any(pw in line for line in lines),
                 "the password appears in the cat output")
    handshakes = [x for x in exchanges
                  if (x.get("request") or {}).get("command") == "handshake"]
    for x in handshakes:
        w = where(x)
        scramble = greeting_scramble(raw(x.get("response")))
        if not ck.check(scramble, f"{w}: no greeting scramble in the "
                        f"response bytes"):
            continue
        for pw in passwords:
            token = native_token(pw, scramble)
            ck.check(not any(token in data for _, _, data in all_raw),
                     f"{w}: the password's scramble answer is recorded")
        pk = packets(raw(x.get("request")) or b"") or []
        if not ck.check(pk, f"{w}: no handshake response packet"):
            continue
        try:
            auth = auth_response(pk[0][1])
        except (ValueError, IndexError) as e:
            ck.error(f"{w}: handshake response does not parse ({e})")
            continue
        ck.check(len(auth) == 20 and auth == bytes(20),
                 f"{w}: auth response of {len(auth)} bytes not zeroed: "
                 f"{auth.hex()}")
        for seq, payload in pk[1:]:
            ck.check(payload == bytes(len(payload)),
                     f"{w}: later auth packet {seq} not zeroed")
    if len(ck.errors) == errors:
        print(f"check_mysql: {len(handshakes)} handshakes, no password "
              f"material")


# --- the general log ------------------------------------------------------

LOG_LINE = re.compile(r"^(?:\d{6}\s+\d{1,2}:\d\d:\d\d)?\t+\s*(\d+) "
                      r"([A-Z][A-Za-z]*(?: [A-Za-z]+)?)\t(.*)$")


def load_log(path):
    """Logged commands per thread id, in order: (command, argument). A
    thread that does not start with its Connect began before the log's
    part (the unrecorded connection that read the counters first, whose
    Quit may be logged late): left out."""
    threads = collections.OrderedDict()
    last = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f.read().split("\n"):
            m = LOG_LINE.match(line)
            if m:
                last = [m.group(2), m.group(3)]
                threads.setdefault(int(m.group(1)), []).append(last)
            elif last is not None and line:
                last[1] += "\n" + line
    return collections.OrderedDict(
        (tid, e) for tid, e in threads.items() if e[0][0] == "Connect")


def logged_sequence(entries):
    """A thread's commands as comparable tuples."""
    out = []
    for cmd, arg in entries:
        if cmd == "Connect":
            m = re.match(r"(\S+)@(\S+) on (\S*) using", arg)
            if m:
                out.append(["handshake", m.group(1), m.group(3) or None,
                            False])
            elif arg.startswith("Access denied") and out and \
                    out[-1][0] == "handshake":
                out[-1][3] = True
            else:
                out.append(["Connect?", arg])
        elif cmd in ("Query", "Init DB", "Prepare"):
            out.append([LOGGED[cmd], arg])
        elif cmd in LOGGED:
            out.append([LOGGED[cmd], None])
        else:
            out.append([cmd, arg])
    return [tuple(e) for e in out]


def recorded_sequence(xs):
    """The logged exchanges of a connection as comparable tuples."""
    out = []
    for x in filter(logged, xs):
        req, resp = x.get("request") or {}, x.get("response") or {}
        cmd = req.get("command")
        if cmd == "handshake":
            out.append((cmd, req.get("user"), req.get("schema"),
                        resp.get("error_code") == 1045))
        elif cmd in ("COM_QUERY", "COM_STMT_PREPARE"):
            out.append((cmd, req.get("sql")))
        elif cmd == "COM_INIT_DB":
            out.append((cmd, req.get("schema")))
        else:
            out.append((cmd, None))
    return out


def logged(x):
    """Whether mariadbd logs the command: not COM_PING, nor a
    COM_STMT_PREPARE that failed."""
    req, resp = x.get("request") or {}, x.get("response") or {}
    return not (req.get("command") == "COM_PING" or
                (req.get("command") == "COM_STMT_PREPARE" and
                 resp.get("kind") == "err"))


def match_connections(ck, conns, threads):
    """thread id -> conn_id: by the handshake's connection_id, else (no
    handshake recorded) by the commands."""
    by_thread = {}
    for cid, xs in conns.items():
        hs = [x for x in xs
              if (x.get("request") or {}).get("command") == "handshake"]
        if hs:
            tid = (hs[0].get("response") or {}).get("connection_id")
            ck.check(tid in threads, f"conn {cid}: connection_id {tid} is "
                     f"not in the general log")
            by_thread[tid] = cid
            continue
        srv = (xs[0].get("server") or {}).get("addr")
        ck.error(f"conn {cid} ({srv}, client "
                 f"{(xs[0].get('client') or {}).get('comm')!r}): no "
                 f"handshake exchange, starts with "
                 f"{(xs[0].get('request') or {}).get('command')}")
        seq = recorded_sequence(xs)
        for tid, entries in threads.items():
            if tid not in by_thread and logged_sequence(entries)[1:] == seq:
                by_thread[tid] = cid
                break
    return by_thread


def check_log(ck, conns, threads):
    by_thread = match_connections(ck, conns, threads)
    for tid, entries in threads.items():
        want = logged_sequence(entries)
        if tid not in by_thread:
            ck.error(f"thread {tid}: not recorded: {want[:6]}")
            continue
        got = recorded_sequence(conns[by_thread[tid]])
        if want[0][0] == "handshake" and (not got or got[0][0] !=
                                          "handshake"):
            want = want[1:]  # reported in match_connections
        ck.check(got == want, f"thread {tid} (conn {by_thread[tid]}): "
                 f"recorded {got[:12]}, logged {want[:12]}")
    extra = set(conns) - set(by_thread.values())
    ck.check(not extra, f"recorded connections not in the general log: "
             f"{sorted(extra)}")
    return by_thread


# --- server counters ------------------------------------------------------

def load_status(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("\t")
            if value.isdigit():
                out[name] = int(value)
    return out


def check_status(ck, exchanges, before, after):
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    got = collections.Counter((x.get("request") or {}).get("command")
                              for x in exchanges)
    want = {
        "handshake": delta["Connections"] - 1,
        "COM_STMT_PREPARE": delta["Com_stmt_prepare"],
        "COM_STMT_EXECUTE": delta["Com_stmt_execute"],
        "COM_STMT_CLOSE": delta["Com_stmt_close"],
        "COM_STMT_RESET": delta["Com_stmt_reset"],
        "COM_PING": delta["Com_admin_commands"],
    }
    for cmd, n in want.items():
        ck.check(got[cmd] == n, f"{got[cmd]} {cmd} exchanges recorded, the "
                 f"server counted {n}")
    print(f"check_mysql: server counted {want}; recorded {dict(got)}")


# --- mariadb client -------------------------------------------------------

def parse_tables(text):
    """Result sets printed by `mariadb --table --column-type-info`: a list
    of {"columns": [(name, type)], "rows": [[value or None]]}."""
    results, cur, field = [], None, None
    for line in text.split("\n"):
        m = re.match(r"^Field\s+(\d+):\s+`(.*)`$", line)
        if m:
            if m.group(1) == "1":
                cur = {"columns": [], "rows": [], "header": None}
                results.append(cur)
            field = [m.group(2), None]
            cur["columns"].append(field)
        elif line.startswith("Type:") and field:
            field[1] = line.split()[1]
        elif line.startswith("Flags:") and field:
            if "UNSIGNED" in line.split():
                field[1] += " UNSIGNED"
        elif line.startswith("|") and cur is not None:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cur["header"] is None:
                cur["header"] = cells
            else:
                cur["rows"].append([None if c == "NULL" else c
                                    for c in cells])
    return results


def parse_error(text):
    m = re.search(r"^ERROR (\d+) \((\w+)\)(?: at line \d+)?: (.*)$", text,
                  re.M)
    return (int(m.group(1)), m.group(2), m.group(3)) if m else None


def check_resultset(ck, w, resp, result):
    cols = resp.get("columns") or []
    ck.check([(c.get("name"), c.get("type")) for c in cols] ==
             [tuple(c) for c in result["columns"]],
             f"{w}: columns {[(c.get('name'), c.get('type')) for c in cols]}"
             f", the client saw {result['columns']}")
    ck.check(resp.get("rows") == len(result["rows"]),
             f"{w}: rows {resp.get('rows')}, the client got "
             f"{len(result['rows'])}")
    want = result["rows"][:PREVIEW_ROWS]
    ck.check((resp.get("preview") or []) == want,
             f"{w}: preview {str(resp.get('preview'))[:300]}, the client "
             f"got {str(want)[:300]}")


def find_conn(ck, conns, what, sqls):
    """The one recorded connection whose COM_QUERY SQL is sqls."""
    found = [cid for cid, xs in conns.items()
             if [(x.get("request") or {}).get("sql") for x in xs
                 if (x.get("request") or {}).get("command") == "COM_QUERY"]
             == sqls]
    if ck.check(len(found) == 1, f"{what}: {len(found)} recorded "
                f"connections ran {sqls}"):
        return conns[found[0]]
    return None


def check_cli(ck, conns, path, unix):
    results_of = {}
    with open(path, encoding="utf-8") as f:
        runs = [json.loads(line) for line in f if line.strip()]
    for run in runs:
        with open(run["stdout"], encoding="utf-8") as f:
            results = parse_tables(f.read())
        with open(run["stderr"], encoding="utf-8") as f:
            err = parse_error(f.read())
        sql, what = run["sql"], f"mariadb ({run['via']}) {run['sql'][:50]!r}"
        sqls = [sql] if run["rc"] else [sql, ROW_COUNT_SQL]
        xs = find_conn(ck, conns, what, sqls)
        if xs is None:
            continue
        cmds = [(x.get("request") or {}).get("command") for x in xs]
        ck.check(cmds == ["handshake"] + ["COM_QUERY"] * len(sqls) +
                 ["COM_QUIT"], f"{what}: recorded {cmds}")
        unix_addr = f"unix:{unix}"
        ck.check(((xs[0].get("server") or {}).get("addr") == unix_addr) ==
                 (run["via"] == "unix"), f"{what}: server addr "
                 f"{(xs[0].get('server') or {}).get('addr')}")
        x = next(x for x in xs if (x.get("request") or {}).get("sql") == sql)
        resp, w = x.get("response") or {}, f"{what}: {where(x)}"
        if run["rc"]:
            if not ck.check(err, f"{what}: client failed without ERROR"):
                continue
            ck.check((resp.get("kind"), resp.get("error_code"),
                      resp.get("sql_state"), resp.get("error_message")) ==
                     ("err",) + err, f"{w}: response {resp.get('kind')} "
                     f"{resp.get('error_code')} {resp.get('sql_state')} "
                     f"{resp.get('error_message')!r}, the client saw {err}")
            continue
        own, row_count = results[:-1], results[-1]["rows"][0][0]
        y = next(y for y in xs
                 if (y.get("request") or {}).get("sql") == ROW_COUNT_SQL)
        check_resultset(ck, f"{what}: {where(y)}", y.get("response") or {},
                        results[-1])
        if not own:
            ck.check(resp.get("kind") == "ok" and
                     str(resp.get("affected_rows")) == row_count,
                     f"{w}: response {resp.get('kind')} affected_rows "
                     f"{resp.get('affected_rows')}, the client saw OK, "
                     f"{row_count} rows")
            continue
        ck.check(resp.get("kind") == "resultset",
                 f"{w}: response.kind {resp.get('kind')!r}")
        check_resultset(ck, w, resp, own[0])
        if len(own) > 1:  # a CALL: its result sets, then its OK
            ck.check(resp.get("results") == len(own) + 1,
                     f"{w}: response.results {resp.get('results')!r}, the "
                     f"client saw {len(own)} result sets and an OK")
        results_of[sql] = own[0]
    return results_of


def check_slap(ck, exchanges, sql, results_of):
    mine = [x for x in exchanges
            if (x.get("request") or {}).get("sql") == sql]
    ck.check(len(mine) > 300, f"mysqlslap: only {len(mine)} queries")
    if not ck.check(sql in results_of, f"mysqlslap: the mariadb client did "
                    f"not run {sql!r}"):
        return
    for x in mine:
        resp = x.get("response") or {}
        ck.check(resp.get("kind") == "resultset",
                 f"{where(x)}: response.kind {resp.get('kind')!r}")
        check_resultset(ck, where(x), resp, results_of[sql])


# --- prepared statements --------------------------------------------------

def check_stmt(ck, conns, by_thread, path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    name = path.rsplit("/", 1)[-1]
    cid = by_thread.get(lines[0]["connection_id"])
    if not ck.check(cid is not None, f"{name}: connection "
                    f"{lines[0]['connection_id']} not recorded"):
        return
    xs = [x for x in conns[cid]
          if (x.get("request") or {}).get("command") != "handshake"]
    want = [e["command"] for e in lines[1:]]
    got = [(x.get("request") or {}).get("command") for x in xs]
    if not ck.check(got == want, f"{name}: recorded {got}, the client "
                    f"sent {want}"):
        return
    prepared = {}
    for x, e in zip(xs, lines[1:]):
        req, resp = x.get("request") or {}, x.get("response") or {}
        w = f"{name}: {where(x)}"
        cmd = e["command"]
        if cmd == "COM_STMT_PREPARE":
            ck.check(req.get("sql") == e["sql"], f"{w}: sql differs")
            if "error" in e:
                ck.check((resp.get("kind"), resp.get("error_code")) ==
                         ("err", e["error"]), f"{w}: response "
                         f"{resp.get('kind')} {resp.get('error_code')}, the "
                         f"client got error {e['error']}")
                continue
            prepared[e["stmt_id"]] = e["sql"]
            ck.check((resp.get("stmt_id"), resp.get("params")) ==
                     (e["stmt_id"], e["params"]), f"{w}: response stmt_id "
                     f"{resp.get('stmt_id')!r}, params "
                     f"{resp.get('params')!r}; the client got stmt_id "
                     f"{e['stmt_id']!r} with {e['params']!r} params")
            continue
        if cmd == "COM_QUIT":
            continue
        ck.check(req.get("stmt_id") == e["stmt_id"],
                 f"{w}: stmt_id {req.get('stmt_id')}, client {e['stmt_id']}")
        if cmd == "COM_STMT_RESET":
            ck.check(resp.get("kind") == "ok", f"{w}: {resp.get('kind')}")
        if cmd != "COM_STMT_EXECUTE":
            continue
        ck.check(req.get("sql") == prepared.get(e["stmt_id"]),
                 f"{w}: request.sql {req.get('sql')!r}, the statement "
                 f"prepared {prepared.get(e['stmt_id'])!r}")
        ck.check(req.get("params") == e["params"],
                 f"{w}: params {req.get('params')}, the client bound "
                 f"{e['params']}")
        if "affected_rows" in e:
            ck.check((resp.get("kind"), resp.get("affected_rows")) ==
                     ("ok", e["affected_rows"]), f"{w}: response "
                     f"{resp.get('kind')} {resp.get('affected_rows')}, the "
                     f"client saw {e['affected_rows']} affected rows")
            continue
        ck.check(resp.get("kind") == "resultset", f"{w}: response.kind "
                 f"{resp.get('kind')!r}")
        check_resultset(ck, w, resp, {
            "columns": [[n, TYPE_NAMES.get(t, str(t))] for n, t in
                        zip(e["columns"], e["column_types"])],
            "rows": e["rows"]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cat", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--unix", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--status-before", required=True)
    ap.add_argument("--status-after", required=True)
    ap.add_argument("--password", action="append", default=[])
    ap.add_argument("--cli")
    ap.add_argument("--stmt", action="append", default=[])
    ap.add_argument("--slap-sql")
    args = ap.parse_args()

    ck = Checker("check_mysql", 60)
    with open(args.cat, encoding="utf-8") as f:
        lines = f.read().splitlines()
    exchanges = []
    for n, line in enumerate(lines, 1):
        try:
            exchanges.append(json.loads(line))
        except ValueError as e:
            ck.error(f"cat line {n} is not JSON ({e}): {line[:200]!r}")
    ids = [x.get("id") for x in exchanges]
    ck.check(ids == list(range(1, len(ids) + 1)), "ids are not 1..N")
    conns = collections.OrderedDict()
    for x in exchanges:
        conns.setdefault(x.get("conn_id"), []).append(x)
        check_exchange(ck, x, args.port, args.unix)
    check_clients_known(ck, exchanges)
    check_passwords(ck, exchanges, lines, args.password)
    threads = load_log(args.log)
    by_thread = check_log(ck, conns, threads)
    check_status(ck, exchanges, load_status(args.status_before),
                 load_status(args.status_after))
    results_of = check_cli(ck, conns, args.cli, args.unix) if args.cli \
        else {}
    if args.slap_sql:
        check_slap(ck, exchanges, args.slap_sql, results_of)
    for path in args.stmt:
        check_stmt(ck, conns, by_thread, path)

    return ck.report(f"{len(exchanges)} exchanges on {len(conns)} "
          f"connections ok ({len(threads)} logged)")


if __name__ == "__main__":
    sys.exit(main())
