#!/bin/bash
# Three recording tasks in one daemon at once, on three services with
# different policies, while traffic flows to all three the whole time:
# HTTP (nginx) with --count, Redis with --duration, MySQL (mariadbd) with
# --max-bytes. Each task ends for the reason its policy names, and each
# file holds exactly its own traffic: only its protocol and server port,
# and an unbroken run of the numbered requests the clients sent.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

HTTP_PORT=19401
REDIS_PORT=19402
MYSQL_PORT=19403
HTTP_COUNT=900
REDIS_DURATION=5
MYSQL_MAX_BYTES=48K
require_root_bpf
need_cmd nginx curl redis-cli mariadb python3 jq

start_nginx http "$HTTP_PORT"
start_redis "$REDIS_PORT"
start_mariadb "$MYSQL_PORT"
PASS=dt-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mysql_root -e "CREATE USER 'dt'@'127.0.0.1' IDENTIFIED BY '$PASS'" ||
	fail "CREATE USER failed"

# Numbered traffic, forever: each request carries its number, so that a
# file can be checked to hold a run of them without a gap.
http_traffic()
{
	local i=0
	while :; do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/orders/1.json?seq=$((i + 1))" \
			-o /dev/null "http://127.0.0.1:$HTTP_PORT/data.json?seq=$((i + 2))" \
			-o /dev/null "http://127.0.0.1:$HTTP_PORT/other.html?seq=$((i + 3))" ||
			true
		i=$((i + 3))
	done
}

redis_traffic()
{
	local i=0
	while :; do
		i=$((i + 1))
		redis-cli -p "$REDIS_PORT" SET "seq:$i" "$i" >/dev/null || true
	done
}

# Five queries per connection; the pad makes the bytes grow quickly.
mysql_traffic()
{
	local i=0 j sql
	while :; do
		sql=""
		for j in 1 2 3 4 5; do
			sql+="SELECT $((i + j)) AS seq, REPEAT(MD5(RAND()), 8) AS pad;"
		done
		i=$((i + 5))
		mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u dt \
			-p"$PASS" -e "$sql" >/dev/null 2>&1 || true
	done
}

# Tracepoint links the daemon holds: with no task the syscall programs
# are detached, so the idle probes cost the host's syscalls nothing.
daemon_tp_links()
{
	grep -l 'link_type:.*raw_tracepoint' /proc/"$DAEMON_PID"/fdinfo/* \
		2>/dev/null | wc -l
}

start_daemon tasks
idle_links=$(daemon_tp_links)
traffic_pids=()
for gen in http_traffic redis_traffic mysql_traffic; do
	"$gen" &
	traffic_pids+=($!)
	on_exit "kill_wait $!"
done
sleep 1 # all three kinds flow before the first task starts

http_id=$(start_task --server "port:$HTTP_PORT" --count "$HTTP_COUNT" \
	-o "$WORK/http.dtsess")
redis_id=$(start_task --server "port:$REDIS_PORT" \
	--duration "${REDIS_DURATION}s" -o "$WORK/redis.dtsess")
# A relative -o is the client's: the daemon gets it made absolute.
mysql_id=$(cd "$WORK" && start_task --server "port:$MYSQL_PORT" \
	--max-bytes "$MYSQL_MAX_BYTES" -o mysql.dtsess)
echo "tasks: http $http_id, redis $redis_id, mysql $mysql_id"
busy_links=$(daemon_tp_links)
echo "tracepoint links: $idle_links idle, $busy_links with tasks"
[ "$busy_links" -ge $((idle_links + 2)) ] ||
	fail "tasks attached no syscall programs ($idle_links -> $busy_links links)"
task list
[ "$(task list --json | jq length)" -eq 3 ] ||
	fail "task list --json: $(task list --json)"
[ "$(task_json "$mysql_id" | jq -r .output)" = "$WORK/mysql.dtsess" ] ||
	fail "relative -o: the task writes to $(task_json "$mysql_id" | jq -r .output)"

wait_task "$http_id" 60
wait_task "$redis_id" 30
wait_task "$mysql_id" 60
for pid in "${traffic_pids[@]}"; do
	kill -0 "$pid" 2>/dev/null || fail "a traffic generator died early"
	kill_wait "$pid"
done
task list
[ "$(daemon_tp_links)" -eq "$idle_links" ] ||
	fail "the syscall programs stay attached with no task: $(daemon_tp_links) links, $idle_links when idle"

# The three ran at the same time, each ended by its own policy.
starts=$(task list --json | jq '[.[].started_ns] | max')
ends=$(task list --json | jq '[.[].ended_ns] | min')
[ "$starts" -lt "$ends" ] || fail "the three tasks never ran at the same time"
assert_task_state "$http_id" "done: count"
assert_task_state "$redis_id" "done: duration"
assert_task_state "$mysql_id" "done: max-bytes"

echo "== HTTP: exactly $HTTP_COUNT exchanges, all its own"
assert_task_file "$http_id" "$WORK/http.jsonl"
[ "$(count_lines "$WORK/http.jsonl")" -eq "$HTTP_COUNT" ] ||
	fail "--count $HTTP_COUNT: $(count_lines "$WORK/http.jsonl") exchanges"
assert_only_server "$WORK/http.jsonl" http "$HTTP_PORT"
[ "$(jq -s -c 'map(.id)' "$WORK/http.jsonl")" = \
	"$(jq -n -c "[range(1; $HTTP_COUNT + 1)]")" ] || fail "ids are not 1..$HTTP_COUNT"
[ "$(jq -s 'map(select(.response.status != 200)) | length' \
	"$WORK/http.jsonl")" = 0 ] || fail "exchanges without a 200 response"
jq -r '.request.path | capture("seq=(?<n>[0-9]+)$").n' "$WORK/http.jsonl" \
	>"$WORK/http.seq"
[ "$(count_lines "$WORK/http.seq")" -eq "$HTTP_COUNT" ] ||
	fail "HTTP exchanges without ?seq=: $(jq -c 'select(.request.path |
		test("seq=") | not) | .request' "$WORK/http.jsonl" | head -n 3)"
assert_contiguous http "$WORK/http.seq"

echo "== Redis: ${REDIS_DURATION}s of SETs, all its own"
assert_task_file "$redis_id" "$WORK/redis.jsonl"
assert_only_server "$WORK/redis.jsonl" redis "$REDIS_PORT"
ms=$(task_json "$redis_id" | jq '(.ended_ns - .started_ns) / 1000000 | floor')
echo "redis task ran $ms ms"
if [ "$ms" -lt $((REDIS_DURATION * 1000)) ] ||
	[ "$ms" -gt $((REDIS_DURATION * 1000 + 1500)) ]; then
	fail "--duration ${REDIS_DURATION}s ended after $ms ms"
fi
bad=$(jq -c 'select(.request.command != "SET") | .request' \
	"$WORK/redis.jsonl" | head -n 3)
[ -z "$bad" ] || fail "the Redis file holds other commands: $bad"
jq -r '.request.args[0] | ltrimstr("seq:")' "$WORK/redis.jsonl" \
	>"$WORK/redis.seq"
assert_contiguous redis "$WORK/redis.seq"

echo "== MySQL: ended at $MYSQL_MAX_BYTES, all its own"
assert_task_file "$mysql_id" "$WORK/mysql.jsonl"
assert_only_server "$WORK/mysql.jsonl" mysql "$MYSQL_PORT"
written=$(task_json "$mysql_id" | jq .bytes_written)
size=$(stat -c %s "$WORK/mysql.dtsess")
echo "mysql task: $written bytes written, file of $size bytes"
# Ended by the limit, not before it came near.
[ "$written" -ge $((48 * 1024 / 2)) ] ||
	fail "--max-bytes $MYSQL_MAX_BYTES ended after $written bytes"
jq -r 'select(.request.sql) | .request.sql' "$WORK/mysql.jsonl" \
	>"$WORK/mysql.sql"
if grep -v '^SELECT [0-9]* AS seq, REPEAT(MD5(RAND()), 8) AS pad$' \
	"$WORK/mysql.sql" | head -n 3 | grep .; then
	fail "the MySQL file holds other queries"
fi
sed 's/^SELECT \([0-9]*\) .*/\1/' "$WORK/mysql.sql" >"$WORK/mysql.seq"
assert_contiguous mysql "$WORK/mysql.seq"

# Ended tasks stay listed; the daemon stops cleanly.
task show "$http_id"
stop_daemon
echo ok
