#!/bin/bash
# Malformed traffic next to healthy traffic, recorded: clients send real
# nginx a 1 MiB header line, a negative and an absurd Content-Length and
# binary noise, and real redis-server a bulk length of 2^62; fake servers
# answer healthy requests with the same faults (HTTP, RESP) and a MySQL
# packet claiming 16 MiB cut by a close, which a client also sends. The
# recorder keeps running, marks those connections (flags, malformed
# count in the trailer), invents nothing, and records the healthy
# exchanges interleaved with them byte for byte.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

NGINX_PORT=19220
REDIS_PORT=19221
HTTP_PORT=19222
RESP_PORT=19223
MYSQL_PORT=19224
require_root_bpf
need_cmd nginx redis-server redis-cli python3 jq

start_nginx http "$NGINX_PORT"

require_free_port "$REDIS_PORT"
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
	--appendonly no --dir "$WORK/redis" --logfile "$WORK/redis/log" &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"

for p in "$HTTP_PORT" "$RESP_PORT" "$MYSQL_PORT"; do
	require_free_port "$p"
done
python3 "$LIB_DIR/fault/fault_server.py" "$HTTP_PORT" "$RESP_PORT" \
	"$MYSQL_PORT" "$WORK/fault.ready" 2>"$WORK/fault.err" &
on_exit "kill_wait $!"
for ((i = 0; ; i++)); do
	[ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ] &&
		[ -f "$WORK/fault.ready" ] && break
	[ "$i" -lt 100 ] || fail "servers did not start:"$'\n'"$(cat \
		"$WORK/redis/log" "$WORK/fault.err" 2>/dev/null)"
	sleep 0.1
done

start_record malformed --server "port:$NGINX_PORT" \
	--server "port:$REDIS_PORT" --server "port:$HTTP_PORT" \
	--server "port:$RESP_PORT" --server "port:$MYSQL_PORT" \
	-o "$WORK/s.dtsess"
must python3 "$LIB_DIR/fault/malformed_client.py" "$NGINX_PORT" \
	"$REDIS_PORT" "$HTTP_PORT" "$RESP_PORT" "$MYSQL_PORT" \
	"$WORK/conns.json"
sleep 1 # let the recorder drain what is in flight
kill -0 "$REC_PID" 2>/dev/null ||
	fail "the recorder died:"$'\n'"$(cat "$REC_ERR")"
stop_record

cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
"$DEETUNE" inspect "$WORK/s.dtsess" >"$WORK/inspect.out" ||
	fail "deetune inspect failed"
must python3 "$LIB_DIR/fault/check_fault.py" "$WORK/cat.jsonl" \
	"$WORK/conns.json"
malformed=$(sed -n 's/^flags: .* malformed \([0-9]*\).*/\1/p' \
	"$WORK/inspect.out")
[ "${malformed:-0}" -ge 10 ] ||
	fail "inspect shows too few malformed exchanges:"$'\n'"$(cat "$WORK/inspect.out")"
echo "ok ($malformed exchanges flagged malformed)"
