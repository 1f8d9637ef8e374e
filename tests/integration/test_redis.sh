#!/bin/bash
# Records a real redis-server on a loopback port and a Unix socket: python
# clients with every RESP2/RESP3 reply type, inline commands, pipelining,
# MULTI/EXEC, pub/sub and values larger than the probes copy per call
# (byte-exact captures); redis-cli, over TCP and the socket;
# redis-benchmark -P 16. Checks that the session holds one
# exchange per command the server ran (INFO commandstats), byte for byte
# as the clients saw them, with pub/sub messages left out.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18601
BENCH_REQUESTS=20000
require_root_bpf
need_cmd redis-server redis-cli redis-benchmark python3 jq

# --- redis-server ---------------------------------------------------------

require_free_port "$PORT"
REDIS_DIR=$WORK/redis
SOCK=$REDIS_DIR/redis.sock
mkdir -p "$REDIS_DIR"
redis-server --bind 127.0.0.1 --port "$PORT" --unixsocket "$SOCK" \
	--unixsocketperm 700 --save '' --appendonly no --dir "$REDIS_DIR" \
	--enable-debug-command local --logfile "$REDIS_DIR/redis.log" &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"
for ((i = 0; ; i++)); do
	[ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && [ -S "$SOCK" ] &&
		break
	if ! kill -0 "$REDIS_PID" 2>/dev/null || [ "$i" -ge 100 ]; then
		fail "redis-server did not start:"$'\n'"$(cat "$REDIS_DIR/redis.log")"
	fi
	sleep 0.1
done

rcli()
{
	redis-cli -p "$PORT" "$@"
}

# Commands counted by the server before the recording: this INFO is not
# recorded, but the server counts it in the final one.
rcli INFO commandstats >"$WORK/stats.before"

start_record redis --server "port:$PORT" --server "unix:$SOCK" \
	-o "$WORK/s.dtsess"

# --- byte-exact python clients --------------------------------------------

captures=()
client()
{
	local name=$1
	shift
	must python3 "$LIB_DIR/redis_client.py" "$@" "$WORK/$name" \
		"${name%%-*}"
	captures+=(--capture "$WORK/$name.json")
}
client resp2 --port "$PORT"
client resp2-unix --unix "$SOCK" --tcp-port "$PORT"
client resp3 --port "$PORT"
client subscribe --port "$PORT"
client subscribe3-unix --unix "$SOCK" --tcp-port "$PORT"
client big --port "$PORT"

# --- redis-cli --------------------------------------------------------------

# cli [-s] TYPE ARGS...: one redis-cli command and its expected reply type,
# logged for check_redis.py; -s goes through the Unix socket.
: >"$WORK/cli.expected"
t_cli=$(date +%s%N)
cli()
{
	local via=() where="" type
	if [ "$1" = -s ]; then
		via=(-s "$SOCK")
		where=unix
		shift
	else
		via=(-p "$PORT")
	fi
	type=$1
	shift
	redis-cli "${via[@]}" "$@" >"$WORK/cli.last" ||
		fail "redis-cli $* failed"
	cat "$WORK/cli.last" >>"$WORK/cli.out"
	echo "$1 $type $where" >>"$WORK/cli.expected"
}
# cli3 TYPE ARGS...: in RESP3, which redis-cli asks for with HELLO 3.
cli3()
{
	redis-cli -3 -p "$PORT" "${@:2}" >>"$WORK/cli.out" ||
		fail "redis-cli -3 ${*:2} failed"
	printf 'HELLO map\n%s %s\n' "$2" "$1" >>"$WORK/cli.expected"
}
cli status SET cli:k value
cli bulk GET cli:k
cli bulk GET cli:missing
cli integer DEL cli:n cli:l cli:h cli:s cli:z
cli integer INCR cli:n
cli error INCR cli:k
cli integer RPUSH cli:l a b c
cli array LRANGE cli:l 0 -1
cli integer HSET cli:h f1 v1 f2 v2
cli integer SADD cli:s x y
cli integer ZADD cli:z 2.5 m
cli3 map HGETALL cli:h
cli3 set SMEMBERS cli:s
cli3 double ZSCORE cli:z m
cli -s bulk GET cli:k
cli -s array EVAL 'return {1, {2, 3}, "x"}' 0
# A transaction over one connection: commands read from stdin, which
# redis-cli reads as its prompt would, after fetching COMMAND DOCS.
printf 'MULTI\nINCR cli:n\nLRANGE cli:l 0 0\nEXEC\n' |
	redis-cli -p "$PORT" >>"$WORK/cli.out" || fail "redis-cli MULTI failed"
printf 'COMMAND array\nMULTI status\nINCR status\nLRANGE status\nEXEC array\n' \
	>>"$WORK/cli.expected"

# --- redis-benchmark ----------------------------------------------------

# The INFO before and after are redis-cli's too. The exchanges are told
# apart by time: redis-benchmark's start between t_bench and t_cli2.
cli bulk INFO commandstats
cp "$WORK/cli.last" "$WORK/bench.before"
t_bench=$(date +%s%N)
redis-benchmark -h 127.0.0.1 -p "$PORT" -c 8 -P 16 -n "$BENCH_REQUESTS" \
	-t get,set -q >"$WORK/bench.out" 2>&1 ||
	fail "redis-benchmark failed:"$'\n'"$(cat "$WORK/bench.out")"
t_cli2=$(date +%s%N)
cli bulk INFO commandstats
cp "$WORK/cli.last" "$WORK/bench.after"
t_end=$(date +%s%N)

sleep 1 # let the recorder drain what is in flight
stop_record
rcli INFO commandstats >"$WORK/stats.after"

cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
n=$(count_lines "$WORK/cat.jsonl")
echo "session has $n exchanges"
[ "$(recorded_count)" = "$n" ] ||
	fail "record said '$(grep '^recorded:' "$REC_ERR")' but cat shows $n"

must python3 "$LIB_DIR/check_redis.py" --cat "$WORK/cat.jsonl" \
	--port "$PORT" --unix "$SOCK" \
	--stats-before "$WORK/stats.before" --stats-after "$WORK/stats.after" \
	--bench-before "$WORK/bench.before" --bench-after "$WORK/bench.after" \
	--cli "$WORK/cli.expected" --times "$t_cli" "$t_bench" "$t_cli2" \
	"$t_end" "${captures[@]}"

# The summary counts the exchanges flagged incomplete (the over-limit ones).
incomplete=$(jq -s 'map(select(.flags | index("incomplete"))) | length' \
	"$WORK/cat.jsonl")
grep -Eq "^recorded: $n exchanges, .* $incomplete incomplete\$" "$REC_ERR" ||
	fail "recorder summary '$(grep '^recorded:' "$REC_ERR")', cat shows" \
		"$incomplete incomplete"
echo ok
