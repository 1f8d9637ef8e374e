#!/bin/bash
# DeeTune's three-tier demo app on loopback, for `make demo` and the
# integration tests:
#
#   curl -> nginx (reverse proxy, keep-alive upstream)
#        -> deetune-demo-backend (demo/*.c, libmicrohttpd)
#             -> redis-server (cache, TCP)
#             -> mariadbd     (database, TCP)
#
# Usage:
#   scripts/stack.sh start DIR [BASEPORT]
#   scripts/stack.sh stop DIR
#
# start creates DIR (a scratch directory: data, configs, logs), starts
# the four servers in the background on 127.0.0.1, waits until each
# answers, writes DIR/stack.env and returns. Ports: nginx BASEPORT
# (default 18480), backend BASEPORT+1, redis-server BASEPORT+2, mariadbd
# BASEPORT+3; each must be free. The backend talks to both servers over
# TCP, so its Redis and MySQL traffic is visible to port selectors; its
# connections (one Redis and one MySQL connection per worker thread, 4)
# are opened before start returns, so no handshake happens during a
# test's traffic. On failure start prints the logs, stops what it
# started and exits 1; bad usage exits 2.
#
# The backend binary is $DEETUNE_DEMO_BACKEND, else deetune-demo-backend
# next to $DEETUNE, else build/deetune-demo-backend.
#
# DIR/stack.env (for `source`; values are shell-quoted):
#   STACK_DIR     DIR
#   NGINX_PORT BACKEND_PORT REDIS_PORT MYSQL_PORT
#   NGINX_PID BACKEND_PID REDIS_PID MYSQL_PID
#   BASE_URL      http://127.0.0.1:NGINX_PORT (what clients call)
#   BACKEND_URL   http://127.0.0.1:BACKEND_PORT
#   ACCESS_LOG    nginx's access log (tab-separated, see fixtures/nginx)
#   MYSQL_SOCKET  mariadbd's Unix socket (root may log in there)
#   MYSQL_USER MYSQL_PASSWORD MYSQL_DB   the backend's account (TCP)
#   BACKEND_BIN   the backend binary
#
# What each request costs downstream (see demo/routes.c), on a fresh
# stack (items 1-8 exist, nothing cached):
#   GET  /api/items/ID   first time: Redis GET, MySQL SELECT, Redis SET;
#                        afterwards (60 s): Redis GET only; unknown ID:
#                        Redis GET, MySQL SELECT, 404
#   POST /api/orders     {"item_id":N,"qty":N}: MySQL INSERT, Redis INCR, 201
#   GET  /api/fail       Redis INCR, then 500 (the injected error)
#   GET  /health         nothing downstream, 200
#
# stop sends SIGTERM to every server in DIR/stack.env, waits up to 10 s
# for each (then SIGKILL), removes stack.env and exits 0; the rest of DIR
# (logs) stays.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_BASEPORT=18480
WAIT_TENTHS=300

usage()
{
	echo "usage: scripts/stack.sh start DIR [BASEPORT] | stop DIR" >&2
	exit 2
}

die()
{
	echo "stack.sh: $*" >&2
	exit 1
}

backend_bin()
{
	if [ -n "${DEETUNE_DEMO_BACKEND:-}" ]; then
		echo "$DEETUNE_DEMO_BACKEND"
	elif [ -n "${DEETUNE:-}" ]; then
		echo "$(dirname "$DEETUNE")/deetune-demo-backend"
	else
		echo "$REPO/build/deetune-demo-backend"
	fi
}

# Alive and not a zombie nobody reaped.
alive()
{
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_until PID CMD...: runs CMD every 0.1 s until it succeeds; fails
# when PID dies or after 30 s.
wait_until()
{
	local pid=$1 i
	shift
	for ((i = 0; i < WAIT_TENTHS; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		alive "$pid" || return 1
		sleep 0.1
	done
	return 1
}

env_add()
{
	printf '%s=%q\n' "$1" "$2" >>"$ENV_FILE"
}

# started NAME PID LOG CMD...: records PID, then waits for CMD to succeed.
started()
{
	local name=$1 pid=$2 log=$3
	shift 3
	env_add "${name}_PID" "$pid"
	wait_until "$pid" "$@" && return 0
	tail -n 30 "$log" >&2 || true
	die "$name did not start; the end of its log ($log) is above"
}

start_redis()
{
	mkdir -p "$DIR/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		--appendonly no --dir "$DIR/redis" \
		--logfile "$DIR/redis/redis.log" </dev/null >/dev/null 2>&1 &
	started REDIS $! "$DIR/redis/redis.log" \
		redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING
}

mysql_root()
{
	mariadb --no-defaults -S "$MYSQL_SOCKET" -u root "$@"
}

start_mysql()
{
	local as_user=() log=$DIR/mysql/error.log host
	mkdir -p "$DIR/mysql"
	[ "$(id -u)" -eq 0 ] && as_user=(--user=root)
	mariadb-install-db --no-defaults --datadir="$DIR/mysql/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		"${as_user[@]}" >"$DIR/mysql/install.log" 2>&1 ||
		die "mariadb-install-db failed: $(cat "$DIR/mysql/install.log")"
	mariadbd --no-defaults --datadir="$DIR/mysql/data" "${as_user[@]}" \
		--port="$MYSQL_PORT" --bind-address=127.0.0.1 \
		--socket="$MYSQL_SOCKET" --pid-file="$DIR/mysql/mysqld.pid" \
		--log-error="$log" --skip-log-bin --skip-name-resolve \
		--innodb-buffer-pool-size=32M </dev/null \
		>"$DIR/mysql/stdout" 2>&1 &
	started MYSQL $! "$log" mysql_root -e 'SELECT 1'
	mysql_root <"$REPO/demo/orders.sql" ||
		die "loading demo/orders.sql failed"
	for host in 127.0.0.1 localhost; do
		mysql_root -e "CREATE USER '$MYSQL_USER'@'$host'
			IDENTIFIED BY '$MYSQL_PASSWORD';
			GRANT SELECT, INSERT ON $MYSQL_DB.* TO '$MYSQL_USER'@'$host'" ||
			die "CREATE USER failed"
	done
}

start_backend()
{
	local log=$DIR/backend/backend.log
	mkdir -p "$DIR/backend"
	DEETUNE_DEMO_MYSQL_PASSWORD=$MYSQL_PASSWORD "$BACKEND_BIN" \
		--listen "127.0.0.1:$BACKEND_PORT" \
		--redis "127.0.0.1:$REDIS_PORT" --mysql "127.0.0.1:$MYSQL_PORT" \
		--mysql-user "$MYSQL_USER" --mysql-db "$MYSQL_DB" \
		</dev/null >"$log" 2>&1 &
	started BACKEND $! "$log" curl -sf -o /dev/null "$BACKEND_URL/health"
}

start_nginx()
{
	local d=$DIR/nginx user=""
	mkdir -p "$d/tmp"
	[ "$(id -u)" -eq 0 ] && user="user root;"
	sed -e "s|@PORT@|$NGINX_PORT|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" \
		"$REPO/demo/proxy.site.in" >"$d/site.conf"
	sed -e "s|@DIR@|$d|g" -e "s|@USER@|$user|" -e "s|@SENDFILE@|off|" \
		-e "s|@SITE@|$d/site.conf|" \
		"$REPO/fixtures/nginx/nginx.conf.in" >"$d/nginx.conf"
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null \
		>"$d/stdout" 2>&1 &
	started NGINX $! "$d/error.log" curl -sf -o /dev/null "$BASE_URL/health"
}

start_stack()
{
	local c p
	for c in nginx curl redis-server redis-cli mariadbd mariadb-install-db \
		mariadb; do
		command -v "$c" >/dev/null || die "$c is missing (run 'make deps')"
	done
	[ -x "$BACKEND_BIN" ] ||
		die "$BACKEND_BIN is missing (run 'make')"
	for p in "$NGINX_PORT" "$BACKEND_PORT" "$REDIS_PORT" "$MYSQL_PORT"; do
		if ss -Htln "( sport = :$p )" | grep -q .; then
			die "port $p is in use"
		fi
	done
	[ -e "$ENV_FILE" ] && die "$ENV_FILE exists: a stack runs there?"
	MYSQL_PASSWORD=demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077 && : >"$ENV_FILE")
	# from here on, a failure stops what this start started
	trap stop_stack EXIT
	env_add STACK_DIR "$DIR"
	env_add NGINX_PORT "$NGINX_PORT"
	env_add BACKEND_PORT "$BACKEND_PORT"
	env_add REDIS_PORT "$REDIS_PORT"
	env_add MYSQL_PORT "$MYSQL_PORT"
	env_add BASE_URL "$BASE_URL"
	env_add BACKEND_URL "$BACKEND_URL"
	env_add ACCESS_LOG "$DIR/nginx/access.log"
	env_add MYSQL_SOCKET "$MYSQL_SOCKET"
	env_add MYSQL_USER "$MYSQL_USER"
	env_add MYSQL_PASSWORD "$MYSQL_PASSWORD"
	env_add MYSQL_DB "$MYSQL_DB"
	env_add BACKEND_BIN "$BACKEND_BIN"
	start_redis
	start_mysql
	start_backend
	start_nginx
	trap - EXIT
}

# Stops the servers named in stack.env, front first, and waits for them.
stop_stack()
{
	local name pid i
	[ -f "$ENV_FILE" ] || return 0
	for name in NGINX_PID BACKEND_PID REDIS_PID MYSQL_PID; do
		pid=$(sed -n "s/^$name=\([0-9][0-9]*\)$/\1/p" "$ENV_FILE")
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 100; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -f "$ENV_FILE"
}

[ $# -ge 2 ] || usage
CMD=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
ENV_FILE=$DIR/stack.env
case $CMD in
start)
	[ $# -le 3 ] || usage
	BASE=${3:-$DEFAULT_BASEPORT}
	if ! [[ $BASE =~ ^[0-9]+$ ]] || [ "$BASE" -lt 1024 ] ||
		[ "$BASE" -gt 65532 ]; then
		usage
	fi
	NGINX_PORT=$BASE
	BACKEND_PORT=$((BASE + 1))
	REDIS_PORT=$((BASE + 2))
	MYSQL_PORT=$((BASE + 3))
	BASE_URL=http://127.0.0.1:$NGINX_PORT
	BACKEND_URL=http://127.0.0.1:$BACKEND_PORT
	MYSQL_SOCKET=$DIR/mysql/mysqld.sock
	MYSQL_USER=orders
	MYSQL_DB=orders
	BACKEND_BIN=$(backend_bin)
	start_stack
	;;
stop)
	[ $# -eq 2 ] || usage
	stop_stack
	;;
*)
	usage
	;;
esac
