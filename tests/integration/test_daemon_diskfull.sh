#!/bin/bash
# A task writing to a full filesystem (a 256 KiB tmpfs, filled by large
# incompressible HTTP responses) ends "failed: disk full" and leaves a
# readable file; a task on another service writing elsewhere at the same
# time records every exchange and ends normally; the daemon keeps serving.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

HTTP_PORT=19431
REDIS_PORT=19432
require_root_bpf
need_cmd nginx curl redis-cli mount umount python3 jq

start_nginx http "$HTTP_PORT"
start_redis "$REDIS_PORT"
# 24 KiB of random bytes per response: frames cannot compress below it.
head -c 24576 /dev/urandom >"$WWW/r24k.bin"

start_daemon full
SMALL=$WORK/small
mkdir "$SMALL"
mount -t tmpfs -o size=256k,mode=0755 deetune-test "$SMALL" ||
	skip "cannot mount a tmpfs here"
# Lazily: the daemon may still hold the failed file open when this runs.
on_exit "umount -l $SMALL"

# A few responses a second, so that frames (flushed each second) are
# smaller than the filesystem and some of them fit before it is full.
http_traffic()
{
	while :; do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/r24k.bin" || true
		sleep 0.1
	done
}

redis_traffic()
{
	local i=0
	while :; do
		i=$((i + 1))
		redis-cli -p "$REDIS_PORT" SET "seq:$i" "$i" >/dev/null || true
		sleep 0.01
	done
}

full=$(start_task --server "port:$HTTP_PORT" -o "$SMALL/full.dtsess")
other=$(start_task --server "port:$REDIS_PORT" -o "$WORK/other.dtsess")
http_traffic &
HTTP_PID=$!
on_exit "kill_wait $HTTP_PID"
redis_traffic &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"

wait_task "$full" 60 1
kill_wait "$HTTP_PID"
assert_task_state "$full" "failed: disk full"
[ "$(task_state "$other")" = running ] ||
	fail "the other task ended with the full one: $(task_state "$other")"
df -k "$SMALL"

echo "== the failed task's file is readable"
rc=0
"$DEETUNE" cat "$SMALL/full.dtsess" >"$WORK/full.jsonl" 2>"$WORK/full.err" || rc=$?
assert_no_sanitizer "$WORK/full.err"
[ "$rc" -eq 0 ] ||
	fail "cat of the disk-full file: exit $rc:"$'\n'"$(cat "$WORK/full.err")"
n=$(count_lines "$WORK/full.jsonl")
echo "disk-full file: $n exchanges; $(cat "$WORK/full.err")"
[ "$n" -gt 0 ] || fail "no exchange fitted in the disk-full file"
[ "$n" -eq "$(task_json "$full" | jq .exchanges)" ] ||
	fail "the task counts $(task_json "$full" | jq .exchanges) exchanges, its file holds $n"
assert_only_server "$WORK/full.jsonl" http "$HTTP_PORT"
"$DEETUNE" inspect "$SMALL/full.dtsess" >"$WORK/full.inspect" ||
	fail "inspect of the disk-full file failed"

echo "== the daemon still answers, the other task goes on to the end"
task list
sleep 1
redis_before=$(task_json "$other" | jq .exchanges)
sleep 1
[ "$(task_json "$other" | jq .exchanges)" -gt "$redis_before" ] ||
	fail "the other task stopped recording after the disk filled"
kill_wait "$REDIS_PID"
sleep 1 # let the last exchanges drain
task stop "$other"
assert_task_state "$other" stopped
assert_task_file "$other" "$WORK/other.jsonl"
assert_only_server "$WORK/other.jsonl" redis "$REDIS_PORT"
jq -r '.request.args[0] | ltrimstr("seq:")' "$WORK/other.jsonl" \
	>"$WORK/other.seq"
assert_contiguous other "$WORK/other.seq"
# All of them: the run reaches the last SET the client sent.
last=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'seq:*' |
	sed 's/^seq://' | sort -n | tail -n 1)
[ "$(tail -n 1 "$WORK/other.seq")" = "$last" ] ||
	fail "the other task ends at $(tail -n 1 "$WORK/other.seq"), the client sent up to $last"
[ "$(head -n 1 "$WORK/other.seq")" = 1 ] ||
	fail "the other task starts at $(head -n 1 "$WORK/other.seq"), not 1"

echo "== a new task still starts"
id=$(start_task --server "port:$HTTP_PORT" --duration 1s -o "$WORK/after.dtsess")
wait_task "$id" 30
assert_task_state "$id" "done: duration"
stop_daemon
echo ok
