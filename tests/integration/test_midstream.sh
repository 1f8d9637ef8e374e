#!/bin/bash
# Joins open connections: a client connects to nginx (keep-alive), redis
# and mariadb and sends requests before the recorder starts, leaves one
# request half-sent, and carries on once recording. The session must hold
# the requests sent whole after the start, byte for byte, flagged
# midstream, and nothing invented from the half-seen one.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

HTTP_PORT=18801
REDIS_PORT=18802
MYSQL_PORT=18803
require_root_bpf
need_cmd nginx redis-server redis-cli mariadbd mariadb-install-db mariadb \
	python3

start_nginx http "$HTTP_PORT"

require_free_port "$REDIS_PORT"
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
	--appendonly no --dir "$WORK/redis" \
	--logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"

require_free_port "$MYSQL_PORT"
DB_DIR=$WORK/mysql
SOCK=$DB_DIR/mysqld.sock
mkdir -p "$DB_DIR"
must mariadb-install-db --no-defaults --datadir="$DB_DIR/data" \
	--auth-root-authentication-method=normal --skip-test-db --user=root \
	>"$DB_DIR/install.log"
mariadbd --no-defaults --datadir="$DB_DIR/data" --user=root \
	--port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$SOCK" \
	--pid-file="$DB_DIR/mysqld.pid" --log-error="$DB_DIR/error.log" \
	--skip-log-bin --skip-name-resolve --innodb-buffer-pool-size=32M \
	>"$DB_DIR/stdout" 2>&1 &
MYSQLD_PID=$!
on_exit "kill_wait $MYSQLD_PID"

for ((i = 0; ; i++)); do
	[ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ] &&
		[ -S "$SOCK" ] &&
		mariadb --no-defaults -S "$SOCK" -u root -e 'SELECT 1' \
			>/dev/null 2>&1 && break
	[ "$i" -lt 300 ] || fail "redis-server or mariadbd did not start:" \
		$'\n'"$(cat "$WORK/redis/redis.log" "$DB_DIR/error.log")"
	sleep 0.1
done
PASS=ms-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mariadb --no-defaults -S "$SOCK" -u root -e "CREATE DATABASE ms;
	CREATE USER 'ms'@'127.0.0.1' IDENTIFIED BY '$PASS';
	GRANT ALL ON ms.* TO 'ms'@'127.0.0.1'" || fail "CREATE USER failed"

# The client: its traffic before the start, then it waits for "go".
CLIENT=$WORK/client
python3 "$LIB_DIR/midstream_client.py" --http "$HTTP_PORT" "$WWW" \
	--redis "$REDIS_PORT" --mysql "$MYSQL_PORT" ms "$PASS" ms "$CLIENT" \
	>"$WORK/client.log" 2>&1 &
CLIENT_PID=$!
on_exit "kill_wait $CLIENT_PID"
for ((i = 0; ; i++)); do
	[ -e "$CLIENT.ready" ] && break
	if ! kill -0 "$CLIENT_PID" 2>/dev/null || [ "$i" -ge 400 ]; then
		fail "the client did not get ready:"$'\n'"$(cat "$WORK/client.log")"
	fi
	sleep 0.05
done

start_record midstream --server "port:$HTTP_PORT" \
	--server "port:$REDIS_PORT" --server "port:$MYSQL_PORT" \
	-o "$WORK/s.dtsess"
touch "$CLIENT.go"
rc=0
wait "$CLIENT_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "the client failed:"$'\n'"$(cat "$WORK/client.log")"

sleep 1 # let the recorder drain what is in flight
stop_record

cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
n=$(count_lines "$WORK/cat.jsonl")
echo "session has $n exchanges"
must python3 "$LIB_DIR/check_midstream.py" --cat "$WORK/cat.jsonl" \
	--capture "$CLIENT.json"
echo ok
