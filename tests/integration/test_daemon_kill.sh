#!/bin/bash
# SIGKILL of the daemon while a task records: the task's file reads back
# up to its last flushed frame (no trailer, so readers warn that the
# recording was interrupted), and a daemon restarted on the same state
# directory lists the task as interrupted, keeps the tasks that had ended
# as they were, and numbers new tasks after the old ones.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

PORT=19421
require_root_bpf
need_cmd nginx curl python3 jq

start_nginx http "$PORT"
start_daemon kill
start_traffic "$PORT" /api/orders/1.json /data.json /api/orders/2.json

ended=$(start_task --server "port:$PORT" --count 10 -o "$WORK/ended.dtsess")
wait_task "$ended" 30
running=$(start_task --server "port:$PORT" -o "$WORK/killed.dtsess")
sleep 3 # the daemon flushes a frame at least every second
[ "$(task_json "$running" | jq .exchanges)" -gt 0 ] ||
	fail "no exchange recorded in 3 s of traffic: $(task show "$running")"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
kill_wait "$TRAFFIC_PID"

echo "== the killed task's file reads back up to its last frame"
L=$(python3 "$LIB_DIR/session_layout.py" "$WORK/killed.dtsess")
echo "layout: $(jq -c '{size, header_len, frames: (.frames | length),
	frames_end, trailer}' <<<"$L")"
[ "$(jq .trailer <<<"$L")" = false ] || fail "the killed task wrote a trailer"
[ "$(jq '.frames_end == .size' <<<"$L")" = true ] ||
	fail "the killed task left a partial frame: $L"
want=$(jq '[.frames[].records] | add // 0' <<<"$L")
[ "$want" -gt 0 ] || fail "no frame flushed after 3 s of traffic: $L"
rc=0
"$DEETUNE" cat "$WORK/killed.dtsess" >"$WORK/killed.jsonl" \
	2>"$WORK/killed.err" || rc=$?
[ "$rc" -eq 0 ] || fail "cat of the killed file: exit $rc:"$'\n'"$(cat "$WORK/killed.err")"
n=$(count_lines "$WORK/killed.jsonl")
[ "$n" -eq "$want" ] || fail "cat read $n exchanges of the $want in complete frames"
grep -q "^deetune cat: warning: .*killed.dtsess has no trailer (recording was interrupted); read $n exchanges" \
	"$WORK/killed.err" ||
	fail "cat of the killed file: no trailer warning:"$'\n'"$(cat "$WORK/killed.err")"
assert_only_server "$WORK/killed.jsonl" http "$PORT"
rc=0
"$DEETUNE" inspect "$WORK/killed.dtsess" >"$WORK/killed.inspect" 2>&1 || rc=$?
{ [ "$rc" -eq 0 ] && grep -q 'no trailer' "$WORK/killed.inspect"; } ||
	fail "inspect of the killed file: exit $rc:"$'\n'"$(cat "$WORK/killed.inspect")"
echo "killed file: $n exchanges read back"

echo "== a restarted daemon reports the task as interrupted"
start_daemon kill
task list
assert_task_state "$running" "interrupted: daemon restarted"
assert_task_state "$ended" "done: count"
[ "$(task list --json | jq -r '.[0].state')" = interrupted ] ||
	fail "ended tasks are not listed after the interrupted one"
[ "$(task_json "$running" | jq .ended_ns)" -gt 0 ] ||
	fail "the interrupted task has no end time"
[ "$(task_json "$running" | jq -r .output)" = "$WORK/killed.dtsess" ] ||
	fail "the interrupted task lost its output path"
out=$(wait_task "$running" 5 1)
echo "$out"
[ "$out" = "task $running: interrupted: daemon restarted ($(task_json \
	"$running" | jq .exchanges) exchanges, $(task_json "$running" |
	jq .bytes_written) bytes in $WORK/killed.dtsess)" ] ||
	fail "task wait printed: $out"
# Restarting did not touch the file.
cmp -s <("$DEETUNE" cat "$WORK/killed.dtsess" 2>/dev/null) "$WORK/killed.jsonl" ||
	fail "the killed task's file changed after the restart"

echo "== and goes on working"
start_traffic "$PORT" /api/orders/3.json
new=$(start_task --server "port:$PORT" --count 5 -o "$WORK/new.dtsess")
{ [ "$new" -gt "$running" ] && [ "$new" -gt "$ended" ]; } ||
	fail "the new task got id $new after $ended and $running"
wait_task "$new" 30
kill_wait "$TRAFFIC_PID"
assert_task_state "$new" "done: count"
assert_task_file "$new" "$WORK/new.jsonl"
[ "$(count_lines "$WORK/new.jsonl")" -eq 5 ] || fail "the new task: not 5 exchanges"
stop_daemon
echo ok
