#!/bin/bash
# Connections that end badly while recording: clients resetting nginx
# connections (SO_LINGER 0) after an exchange and while a response is on
# its way, a client half-closing after its request, and redis-server
# killed and restarted under open connections. No exchange is invented
# (check_fault.py), and no connection state leaks: the probes' socket
# table is back to its size before the traffic once the connections
# closed, and the trailer reports no connection still open in the
# assembler.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

NGINX_PORT=19240
REDIS_PORT=19241
require_root_bpf
need_cmd nginx redis-server redis-cli python3 jq bpftool

start_nginx http "$NGINX_PORT"

# start_redis.sh starts redis-server in the background (its pid in
# redis/pid) and returns once it answers; restart.sh, which
# conn_client.py runs, kills it with SIGKILL (the kernel closes its
# connections) and starts a new one.
REDIS_DIR=$WORK/redis
mkdir -p "$REDIS_DIR"
cat >"$WORK/start_redis.sh" <<EOS
redis-server --bind 127.0.0.1 --port $REDIS_PORT --save '' --appendonly no \\
	--dir "$REDIS_DIR" --logfile "$REDIS_DIR/log" >/dev/null 2>&1 &
echo \$! >"$REDIS_DIR/pid"
for i in \$(seq 100); do
	[ "\$(redis-cli -p $REDIS_PORT PING 2>/dev/null)" = PONG ] && exit 0
	sleep 0.1
done
exit 1
EOS
cat >"$WORK/restart.sh" <<EOS
kill -KILL "\$(cat "$REDIS_DIR/pid")"
while redis-cli -p $REDIS_PORT PING >/dev/null 2>&1; do sleep 0.05; done
exec sh "$WORK/start_redis.sh"
EOS
require_free_port "$REDIS_PORT"
# shellcheck disable=SC2016 # the pid is read at exit: restart.sh changes it
on_exit 'kill_wait "$(cat "$REDIS_DIR/pid")"'
sh "$WORK/start_redis.sh" ||
	fail "redis-server did not start:"$'\n'"$(cat "$REDIS_DIR/log")"

start_record conn --server "port:$NGINX_PORT" --server "port:$REDIS_PORT" \
	-o "$WORK/s.dtsess"

# The socks map of this recorder (other recorders may run): the one among
# the maps its file descriptors hold.
socks_map_id()
{
	local id
	while read -r id; do
		if [ "$(bpftool -j map show id "$id" | jq -r .name)" = socks ]; then
			echo "$id"
			return 0
		fi
	done < <(sed -n 's/^map_id:[[:space:]]*//p' /proc/"$REC_PID"/fdinfo/* \
		2>/dev/null | sort -u)
	return 1
}
SOCKS_ID=$(socks_map_id) || fail "no socks map among the recorder's maps"
socks_count()
{
	bpftool -j map dump id "$SOCKS_ID" | jq length
}
baseline=$(socks_count)
echo "socket table: $baseline entries before the traffic"

must python3 "$LIB_DIR/fault/conn_client.py" "$NGINX_PORT" "$REDIS_PORT" \
	"sh $WORK/restart.sh" "$WORK/conns.json"
kill -0 "$REC_PID" 2>/dev/null ||
	fail "the recorder died:"$'\n'"$(cat "$REC_ERR")"

# Every connection of the traffic closed: the probes forget them (the
# redis-cli readiness probes' too). Allow for the close to be seen.
for ((i = 0; i < 50; i++)); do
	after=$(socks_count)
	[ "$after" -le "$baseline" ] && break
	sleep 0.1
done
echo "socket table: $after entries after the traffic"
[ "$after" -le "$baseline" ] ||
	fail "socket table holds $after entries, $baseline before:"$'\n'"$(bpftool -j map dump id "$SOCKS_ID")"
sleep 1 # past the assembler's grace period for closed connections
stop_record

cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
must python3 "$LIB_DIR/fault/check_fault.py" "$WORK/cat.jsonl" \
	"$WORK/conns.json"
"$DEETUNE" inspect --json "$WORK/s.dtsess" >"$WORK/inspect.json" ||
	fail "deetune inspect failed"
open=$(jq '.stats.conns_open' "$WORK/inspect.json")
[ "$open" = 0 ] ||
	fail "the assembler still tracked $open connections at the end:"$'\n'"$(jq -c .stats "$WORK/inspect.json")"
echo ok
