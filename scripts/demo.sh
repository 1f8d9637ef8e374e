#!/bin/bash
# DeeTune demo (`make demo`, as root): starts a small JSON API (nginx) on
# 127.0.0.1:18480, a cache (redis-server) on 127.0.0.1:18481 and a
# database (mariadbd) on 127.0.0.1:18482, both also on a Unix socket;
# records all three in one session with `deetune record` for 10 seconds
# while curl (and wrk, when installed), redis-cli, redis-benchmark, the
# mariadb client and mysqlslap call them; then shows what was recorded.
# Everything started here is stopped on exit; the session file stays in
# the printed /tmp directory for you to explore.
set -euo pipefail

DEETUNE=${1:?usage: scripts/demo.sh path/to/deetune}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PORT=18480
REDIS_PORT=18481
MYSQL_PORT=18482
BASE=http://127.0.0.1:$PORT
DURATION=10
# The database user's password: the recording must not hold it.
MYSQL_PASSWORD=demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

if [ -t 1 ]; then
	bold=$(printf '\033[1m') plain=$(printf '\033[0m')
else
	bold="" plain=""
fi

heading()
{
	printf '\n%s== %s%s\n' "$bold" "$*" "$plain"
}

die()
{
	echo "demo: $*" >&2
	exit 1
}

[ -x "$DEETUNE" ] || die "$DEETUNE is not executable (run 'make' first)"
DEETUNE=$(cd "$(dirname "$DEETUNE")" && pwd)/$(basename "$DEETUNE")
[ "$(id -u)" -eq 0 ] || die "recording uses eBPF: run me as root"
for c in nginx curl redis-server redis-cli redis-benchmark mariadbd \
	mariadb-install-db mariadb mysqlslap; do
	command -v "$c" >/dev/null || die "$c is missing (run 'make deps')"
done
for p in "$PORT" "$REDIS_PORT" "$MYSQL_PORT"; do
	if ss -Htln "( sport = :$p )" | grep -q .; then
		die "port $p is in use; stop what listens there first"
	fi
done

DIR=$(mktemp -d /tmp/deetune-demo.XXXXXX)
SESSION=$DIR/demo.dtsess
REDIS_SOCK=$DIR/redis/redis.sock
MYSQL_SOCK=$DIR/mysql/mysqld.sock
pids=()
cleanup()
{
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading "Starting the demo service"
mkdir -p "$DIR/nginx/tmp"
sed -e "s|@PORT@|$PORT|g" -e "s|@ROOT@|$REPO/fixtures/demo/www|g" \
	"$REPO/fixtures/demo/site.conf.in" >"$DIR/nginx/site.conf"
sed -e "s|@DIR@|$DIR/nginx|g" -e "s|@USER@|user root;|" \
	-e "s|@SENDFILE@|off|" -e "s|@SITE@|$DIR/nginx/site.conf|" \
	"$REPO/fixtures/nginx/nginx.conf.in" >"$DIR/nginx/nginx.conf"
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" \
	>"$DIR/nginx/stdout" 2>&1 &
pids+=("$!")
for ((i = 0; ; i++)); do
	curl -s -o /dev/null "$BASE/health" && break
	[ "$i" -lt 100 ] || die "nginx did not start: $(cat "$DIR/nginx/error.log")"
	sleep 0.1
done
echo "orders API (nginx) listening on $BASE"

mkdir -p "$DIR/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
	--unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save '' \
	--appendonly no --dir "$DIR/redis" --logfile "$DIR/redis/redis.log" &
pids+=("$!")
for ((i = 0; ; i++)); do
	[ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ] && break
	[ "$i" -lt 100 ] || die "redis-server did not start: $(cat "$DIR/redis/redis.log")"
	sleep 0.1
done
echo "cache (redis-server) listening on 127.0.0.1:$REDIS_PORT and $REDIS_SOCK"

mkdir -p "$DIR/mysql"
mariadb-install-db --no-defaults --datadir="$DIR/mysql/data" \
	--auth-root-authentication-method=normal --skip-test-db --user=root \
	>"$DIR/mysql/install.log" 2>&1 ||
	die "mariadb-install-db failed: $(cat "$DIR/mysql/install.log")"
mariadbd --no-defaults --datadir="$DIR/mysql/data" --user=root \
	--port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$MYSQL_SOCK" \
	--pid-file="$DIR/mysql/mysqld.pid" --log-error="$DIR/mysql/error.log" \
	--skip-log-bin --skip-name-resolve --innodb-buffer-pool-size=32M \
	>"$DIR/mysql/stdout" 2>&1 &
pids+=("$!")
mysql_root()
{
	mariadb --no-defaults -S "$MYSQL_SOCK" -u root "$@"
}
for ((i = 0; ; i++)); do
	mysql_root -e 'SELECT 1' >/dev/null 2>&1 && break
	[ "$i" -lt 300 ] || die "mariadbd did not start: $(cat "$DIR/mysql/error.log")"
	sleep 0.1
done
mysql_root <"$REPO/fixtures/demo/shop.sql" || die "loading the shop database failed"
for host in 127.0.0.1 localhost; do
	mysql_root -e "CREATE USER 'demo'@'$host' IDENTIFIED BY '$MYSQL_PASSWORD';
		GRANT ALL ON shop.* TO 'demo'@'$host'" || die "CREATE USER failed"
done
echo "database (mariadbd) listening on 127.0.0.1:$MYSQL_PORT and $MYSQL_SOCK"
echo "working directory: $DIR"

heading "Recording the three services for $DURATION s"
selectors=(--server "port:$PORT" --server "port:$REDIS_PORT"
	--server "unix:$REDIS_SOCK" --server "port:$MYSQL_PORT"
	--server "unix:$MYSQL_SOCK")
echo "\$ deetune record ${selectors[*]} --duration ${DURATION}s -o $SESSION"
"$DEETUNE" record "${selectors[@]}" --duration "${DURATION}s" \
	-o "$SESSION" 2>"$DIR/record.log" &
rec_pid=$!
pids+=("$rec_pid")
for ((i = 0; ; i++)); do
	grep -q '^recording:' "$DIR/record.log" && break
	if ! kill -0 "$rec_pid" 2>/dev/null || [ "$i" -ge 200 ]; then
		die "deetune record did not start: $(cat "$DIR/record.log")"
	fi
	sleep 0.1
done
grep '^recording:' "$DIR/record.log"

heading "Calling the API"
requests=0
for round in 1 2 3 4 5; do
	# several requests on one keep-alive connection...
	curl -s -o /dev/null "$BASE/api/v1/orders" \
		-o /dev/null "$BASE/api/v1/orders/42" \
		-o /dev/null "$BASE/api/v1/orders/7" \
		-o /dev/null "$BASE/api/v1/orders/999"
	# ...and one connection per request
	curl -s -o /dev/null "$BASE/health"
	curl -s -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"customer\":\"demo\",\"round\":$round}" "$BASE/api/v1/orders"
	curl -s -o /dev/null "$BASE/no/such/page"
	requests=$((requests + 7))
done
echo "curl: $requests requests (keep-alive and one-shot, GET and POST, 200/201/404)"
if command -v wrk >/dev/null; then
	wrk -t1 -c2 -d2s -s "$REPO/fixtures/demo/wrk.lua" "$BASE/" |
		sed -n 's/^ *\([0-9]* requests in .*\)/wrk: \1/p'
fi

heading "Calling the cache"
rcli()
{
	redis-cli -p "$REDIS_PORT" "$@" >/dev/null
}
for round in 1 2 3; do
	rcli SET "order:42" "{\"id\":42,\"round\":$round}" EX 60
	rcli GET "order:42"
	rcli GET "order:missing"
	rcli INCR orders:count
	rcli HSET "customer:1" name Ada email ada@example.com
	rcli HGETALL "customer:1"
	rcli LPUSH recent:orders "$round"
	rcli LRANGE recent:orders 0 9
	rcli HINCRBY "customer:1" name 1 # an error: not an integer
done
# the usual local setup: the socket
redis-cli -s "$REDIS_SOCK" GET orders:count >/dev/null
printf 'MULTI\nINCR orders:count\nEXPIRE orders:count 300\nEXEC\n' |
	redis-cli -p "$REDIS_PORT" >/dev/null
echo "redis-cli: 29 commands (one over the Unix socket), a MULTI/EXEC"
redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 4 -P 16 -n 4000 \
	-t get,set -q 2>/dev/null | tr '\r' '\n' |
	sed -n 's/^ *\([A-Z]*: [0-9.]* requests per second\).*/redis-benchmark: \1/p'

heading "Calling the database"
mysql_demo()
{
	mariadb --no-defaults -u demo -p"$MYSQL_PASSWORD" -D shop "$@"
}
n=0
while IFS= read -r sql; do
	mysql_demo -h 127.0.0.1 -P "$MYSQL_PORT" -e "$sql" >/dev/null 2>&1 || true
	n=$((n + 1))
done <"$REPO/fixtures/demo/queries.sql"
mysql_demo -S "$MYSQL_SOCK" -e 'SELECT COUNT(*) FROM orders' >/dev/null
echo "mariadb: $n statements over TCP (one fails: no such table), one over the Unix socket"
mysqlslap --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u demo \
	-p"$MYSQL_PASSWORD" --create-schema=shop --concurrency=4 \
	--iterations=2 --number-of-queries=100 \
	--query="SELECT id, item, amount FROM orders WHERE status = 'paid'" \
	>/dev/null 2>&1 && echo "mysqlslap: 200 queries from 4 concurrent clients"

heading "Waiting for the recording to end (--duration ${DURATION}s)"
rc=0
wait "$rec_pid" || rc=$?
grep -v '^recording:' "$DIR/record.log" || true
[ "$rc" -eq 0 ] || die "deetune record exited with $rc"

heading "deetune inspect $SESSION"
"$DEETUNE" inspect "$SESSION"

"$DEETUNE" cat "$SESSION" >"$DIR/demo.jsonl"
if command -v jq >/dev/null; then
	heading "Exchanges per protocol and server"
	jq -r '"\(.protocol) \(.server.addr)"' "$DIR/demo.jsonl" |
		sort | uniq -c
	heading "A few of each (deetune cat $SESSION | jq ...)"
	jq -cn 'limit(3; inputs | select(.protocol == "http")) |
		{request: (.request.method + " " + .request.path),
		 status: .response.status, duration_ns}' "$DIR/demo.jsonl"
	jq -cn 'limit(4; inputs |
		select(.protocol == "redis" and .client.comm == "redis-cli")) |
		{command: .request.command, args: .request.args,
		 reply: .response.summary, server: .server.addr}' \
		"$DIR/demo.jsonl"
	jq -cn 'limit(6; inputs |
		select(.protocol == "mysql" and .request.command == "COM_QUERY")) |
		{sql: .request.sql, result: .response.kind,
		 rows: .response.rows, affected: .response.affected_rows,
		 error: .response.error_message} |
		with_entries(select(.value != null))' "$DIR/demo.jsonl"
else
	heading "First 3 exchanges (deetune cat $SESSION | head -n 3)"
	head -n 3 "$DIR/demo.jsonl" | cut -c 1-300
fi
if "$DEETUNE" cat --raw "$SESSION" | grep -qF "$MYSQL_PASSWORD"; then
	die "the database password is in the session"
fi
echo "The database password does not appear in the session (handshakes are redacted)."

heading "Done"
echo "The session stays in $SESSION; try:"
echo "  $DEETUNE cat --raw $SESSION | less"
echo "The demo services are stopped."
