#!/bin/bash
# --protocol: Redis inline commands (which detection does not take for
# Redis) are decoded when the protocol is forced, and not without it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=18651
require_root_bpf
need_cmd redis-server redis-cli python3 jq
require_free_port "$PORT"
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
	--dir "$WORK/redis" --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"
for ((i = 0; i < 100; i++)); do
	[ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && break
	sleep 0.1
done

inline_client()
{
	python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
got = b""
for line in (b"PING\r\n", b"SET k 5\r\n", b"GET k\r\n"):
    s.sendall(line)
    time.sleep(0.1)
    got += s.recv(100)
s.close()
assert got == b"+PONG\r\n+OK\r\n$1\r\n5\r\n", got
PY
}

start_record forced --protocol redis --server port:"$PORT" -o forced.dtsess
inline_client
stop_record
assert_record_ok
"$DEETUNE" cat forced.dtsess >forced.jsonl
got=$(jq -c '[.request.command, .request.args, .response.summary]' \
	forced.jsonl | tr '\n' ' ')
want='["PING",[],"status \"PONG\""] ["SET",["k","5"],"status \"OK\""] ["GET",["k"],"bulk(1) \"5\""] '
[ "$got" = "$want" ] || fail "forced redis: got $got, want $want"

start_record detected --server port:"$PORT" -o detected.dtsess
inline_client
stop_record
assert_record_ok
n=$("$DEETUNE" cat detected.dtsess | wc -l)
[ "$n" -eq 0 ] || fail "without --protocol, inline commands gave $n exchanges"
echo "--protocol redis decoded 3 inline commands; detection alone none"
