#!/bin/bash
# Replays a recorded nginx session: against the same nginx and a second
# one serving the same files (every exchange replayed and linked, statuses
# and bodies as recorded), at --speed 1 (the recorded gaps kept within
# 5 ms), with --diff (no difference; JUnit and JSON reports), at --speed
# max --concurrency 32 (faster than recorded, on several connections),
# with --match, header and host rewriting, --rate, --concurrency 1,
# progress on a terminal; then targets that are down, silent or answer
# garbage, SIGINT, malformed sessions and bad usage: clear messages, the
# documented exit codes, a readable (partial) output.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=18941
PORT_B=18942
PORT_DOWN=18949
require_root_bpf
need_cmd nginx curl python3 jq script

CLIENT=$LIB_DIR/test_replay_client.py
CHECK=$LIB_DIR/test_replay_check.py

start_nginx http "$PORT_A"
WWW_A=$WWW
NGINX_DIR=$WORK/nginx-b
ACCESS_LOG=$NGINX_DIR/access.log
WWW=$NGINX_DIR/www
start_nginx http "$PORT_B"
# the second instance serves the first one's (random) files
cp -a "$WWW_A/." "$WWW/"
require_free_port "$PORT_DOWN"

# replay_ok NAME ARGS...: replay that must exit 0.
replay_ok()
{
	replay "$@"
	[ "$RC" -eq 0 ] ||
		fail "deetune replay ${*:2} exited $RC:"$'\n'"$(cat "$WORK/$1.err")"
}

# Fails unless NAME.err mentions TEXT.
err_has()
{
	grep -qF -- "$2" "$WORK/$1.err" ||
		fail "expected '$2' in the message of $1:"$'\n'"$(cat "$WORK/$1.err")"
}

# --- the recording: 60 paced requests over 3 keep-alive connections ------

start_record rec --server "port:$PORT_A" -o "$WORK/s.dtsess"
must python3 "$CLIENT" http "$PORT_A" 3 60 10 60
sleep 0.5
stop_record
cat_session "$WORK/s.dtsess" "$WORK/s.jsonl" --raw
[ "$(count_lines "$WORK/s.jsonl")" -eq 60 ] ||
	fail "recorded $(count_lines "$WORK/s.jsonl") exchanges, expected 60"

# --- against the same nginx, then the second one at recorded pace --------

replay_ok same "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/same.dtsess" --speed max
grep -Eq '^replayed: 60 exchanges in .* \(60 answered, 0 failed, 0 skipped\)' \
	"$WORK/same.err" || fail "summary: $(cat "$WORK/same.err")"
cat_session "$WORK/same.dtsess" "$WORK/same.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/same.jsonl" --count 60 \
	--server-port "$PORT_A" --same-status --same-body

# A machine starved of CPU (other work on it) can stall any process for
# tens of milliseconds: the pacing is judged on the best of three runs.
for attempt in 1 2 3; do
	access_mark
	replay_ok paced "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
		-o "$WORK/paced.dtsess"
	cat_session "$WORK/paced.dtsess" "$WORK/paced.jsonl" --raw
	[ "$(access_since | wc -l)" -eq 60 ] ||
		fail "nginx B logged $(access_since | wc -l) requests, expected 60"
	must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/paced.jsonl" \
		--server-port "$PORT_B" --same-status --same-body
	python3 "$CHECK" "$WORK/s.jsonl" "$WORK/paced.jsonl" --pacing 5 &&
		break
	[ "$attempt" -lt 3 ] || fail "--speed 1 missed the recorded pacing"
done
# the stored request is what was sent: Host is the target's
[ "$(jq -r '.request.headers.Host' "$WORK/paced.jsonl" | sort -u)" = \
	"127.0.0.1:$PORT_B" ] || fail "Host not rewritten to the target"
# metadata: the command and the source
"$DEETUNE" inspect "$WORK/paced.dtsess" >"$WORK/paced.inspect"
grep -q "^command: .*deetune replay" "$WORK/paced.inspect" ||
	fail "no command in the metadata: $(cat "$WORK/paced.inspect")"

# --- --diff: the same content compares the same -------------------------

replay_ok diff "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/diff.dtsess" --speed max --diff --junit "$WORK/junit.xml" \
	--json "$WORK/report.json" >"$WORK/diff.out"
[ -s "$WORK/diff.out" ] || fail "--diff printed no report"
must python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' \
	"$WORK/junit.xml"
jq -e . "$WORK/report.json" >/dev/null || fail "--json wrote no JSON"
replay_ok noise "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/noise.dtsess" --speed max --diff --learn-noise -q \
	>"$WORK/noise.out"
[ ! -s "$WORK/noise.out" ] || fail "--diff -q printed: $(cat "$WORK/noise.out")"
cat_session "$WORK/noise.dtsess.noise" "$WORK/noise2.jsonl"
[ "$(count_lines "$WORK/noise2.jsonl")" -eq 60 ] ||
	fail "--learn-noise did not replay a second time"

# --- --speed max --concurrency 32 ------------------------------------------

start_record big --server "port:$PORT_A" -o "$WORK/big.dtsess"
must python3 "$CLIENT" http "$PORT_A" 8 400 2 8
sleep 0.5
stop_record
cat_session "$WORK/big.dtsess" "$WORK/big.jsonl"
span_ms=$(jq -s '(map(.timing.req_start_ns) | max - min) / 1e6 | floor' \
	"$WORK/big.jsonl")
start=$(date +%s%N)
replay_ok max "$WORK/big.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/max.dtsess" --speed max --concurrency 32 -q
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ ! -s "$WORK/max.err" ] || fail "--quiet printed: $(cat "$WORK/max.err")"
cat_session "$WORK/max.dtsess" "$WORK/max.jsonl"
must python3 "$CHECK" "$WORK/big.jsonl" "$WORK/max.jsonl" --count 400 \
	--same-status
conns=$(jq -s 'map(.conn_id) | unique | length' "$WORK/max.jsonl")
echo "recorded over $span_ms ms; replayed at max speed in $took_ms ms" \
	"over $conns connections"
[ "$conns" -gt 1 ] && [ "$conns" -le 32 ] ||
	fail "--concurrency 32 used $conns connections"
[ $((took_ms * 2)) -lt "$span_ms" ] ||
	fail "--speed max took $took_ms ms for a recording of $span_ms ms"

# --- --match, header and host rewriting -------------------------------------

replay_ok match "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/match.dtsess" --speed max --match 'GET /api/*' \
	--set-header 'X-Replay: yes' --set-header 'x-seq: replaced' \
	--drop-header cookie --host replay.example
cat_session "$WORK/match.dtsess" "$WORK/match.jsonl" --raw
want=$(jq -s 'map(select(.request.method == "GET" and
	(.request.path | startswith("/api/")))) | length' "$WORK/s.jsonl")
[ "$want" -gt 0 ] && [ "$(count_lines "$WORK/match.jsonl")" -eq "$want" ] ||
	fail "--match replayed $(count_lines "$WORK/match.jsonl"), expected $want"
jq -e -s 'all(.[]; .request.headers["X-Replay"] == "yes" and
	.request.headers.Host == "replay.example" and
	.request.headers["X-Seq"] == "replaced" and
	(.request.headers | has("Cookie") | not) and
	.response.status == 200)' "$WORK/match.jsonl" >/dev/null ||
	fail "header edits not applied: $(head -n 1 "$WORK/match.jsonl")"

# --- --rate and --concurrency ---------------------------------------------------

replay_ok rate "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/rate.dtsess" --speed max --rate 50/s
cat_session "$WORK/rate.dtsess" "$WORK/rate.jsonl"
# 50 a second: starts 20 ms apart, never much closer
min_gap=$(jq -s '[.[].timing.req_start_ns] | sort | . as $t |
	[range(1; length) | $t[.] - $t[. - 1]] | min / 1e6 | floor' \
	"$WORK/rate.jsonl")
[ "$min_gap" -ge 15 ] || fail "--rate 50/s: requests $min_gap ms apart"
replay_ok serial "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/serial.dtsess" --speed max --concurrency 1
cat_session "$WORK/serial.dtsess" "$WORK/serial.jsonl"
# one at a time: each starts after the previous one's response ended
jq -e -s 'sort_by(.timing.req_start_ns) | . as $x |
	all(range(1; length); $x[.].timing.req_start_ns >=
		$x[. - 1].timing.resp_end_ns)' "$WORK/serial.jsonl" >/dev/null ||
	fail "--concurrency 1 had requests in flight together"

# --- progress: on a terminal only, for runs longer than a second ---------

script -qec "'$DEETUNE' replay '$WORK/s.dtsess' --target \
	http://127.0.0.1:$PORT_B -o '$WORK/tty.dtsess'" "$WORK/tty.log" \
	>/dev/null
assert_no_sanitizer "$WORK/tty.log"
grep -Eq 'replaying: [0-9]+/60 exchanges, 0 failed, [0-9]+/s, ETA' \
	"$WORK/tty.log" || fail "no progress line on a terminal"
! grep -q 'replaying:' "$WORK/paced.err" ||
	fail "progress line printed when stderr is not a terminal"

# --- the target is down ------------------------------------------------------

replay down "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_DOWN" \
	-o "$WORK/down.dtsess" --speed max --retries 1
[ "$RC" -eq 2 ] || fail "target down: exit $RC, expected 2"
err_has down "http://127.0.0.1:$PORT_DOWN: cannot connect"
cat_session "$WORK/down.dtsess" "$WORK/down.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/down.jsonl" --failed

# --- targets that answer badly: exit 1, each request failed ----------------

# start_bad_server MODE: test_replay_server.py on PORT_DOWN.
start_bad_server()
{
	local i
	: >"$WORK/server-$1.out"
	python3 "$LIB_DIR/test_replay_server.py" "$PORT_DOWN" "$1" \
		>"$WORK/server-$1.out" &
	BAD_PID=$!
	on_exit "kill_wait $BAD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$WORK/server-$1.out" && return 0
		sleep 0.1
	done
	fail "test_replay_server.py $1 did not start"
}

start_bad_server silent
replay silent "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_DOWN" \
	-o "$WORK/silent.dtsess" --speed max --match 'GET /api/*' \
	--timeout 300ms
[ "$RC" -eq 1 ] || fail "silent target: exit $RC, expected 1"
cat_session "$WORK/silent.dtsess" "$WORK/silent.jsonl"
jq -e -s 'length > 0 and all(.[]; (.flags | index("no-response")) and
	(.attrs["replay.error"] | test("[Tt]imeout|timed out")))' \
	"$WORK/silent.jsonl" >/dev/null ||
	fail "silent target: $(head -n 1 "$WORK/silent.jsonl")"
kill_wait "$BAD_PID"

start_bad_server garbage
replay garbage "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_DOWN" \
	-o "$WORK/garbage.dtsess" --speed max
[ "$RC" -eq 1 ] || fail "garbage target: exit $RC, expected 1"
cat_session "$WORK/garbage.dtsess" "$WORK/garbage.jsonl"
[ "$(count_lines "$WORK/garbage.jsonl")" -eq 60 ] &&
	jq -e -s 'all(.[]; .attrs["replay.error"] != null)' \
		"$WORK/garbage.jsonl" >/dev/null ||
	fail "garbage target: $(head -n 1 "$WORK/garbage.jsonl")"
kill_wait "$BAD_PID"

# --- SIGINT: in-flight requests finish, the output is finalized ----------

"$DEETUNE" replay "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	-o "$WORK/int.dtsess" --speed 0.5 2>"$WORK/int.err" &
pid=$!
sleep 1.5
kill -INT "$pid"
RC=0
wait "$pid" || RC=$?
assert_no_sanitizer "$WORK/int.err"
[ "$RC" -eq 2 ] || fail "interrupted replay: exit $RC, expected 2"
grep -q 'interrupted' "$WORK/int.err" || fail "no message: $(cat "$WORK/int.err")"
"$DEETUNE" inspect "$WORK/int.dtsess" | grep -q 'trailer ok' ||
	fail "the interrupted replay's output has no trailer"
cat_session "$WORK/int.dtsess" "$WORK/int.jsonl"
n=$(count_lines "$WORK/int.jsonl")
[ "$n" -gt 0 ] && [ "$n" -lt 60 ] || fail "interrupted replay wrote $n"

# --- malformed sessions and bad usage ----------------------------------------

head -c 4096 /dev/urandom >"$WORK/junk.bin"
replay junk "$WORK/junk.bin" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/junk.out"
[ "$RC" -eq 2 ] || fail "junk session: exit $RC"
err_has junk "junk.bin: "
[ ! -e "$WORK/junk.out" ] || fail "junk session: output written"

size=$(stat -c %s "$WORK/s.dtsess")
head -c $((size / 2)) "$WORK/s.dtsess" >"$WORK/cut.dtsess"
replay cut "$WORK/cut.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/cut.out"
[ "$RC" -eq 2 ] || fail "session cut in a frame: exit $RC"
err_has cut "cut.dtsess: "
: >"$WORK/empty.dtsess"
replay empty "$WORK/empty.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/empty.out"
[ "$RC" -eq 2 ] || fail "empty session: exit $RC"

replay notarget "$WORK/s.dtsess" --target redis://127.0.0.1:1 \
	-o "$WORK/x.out"
[ "$RC" -eq 2 ] || fail "no http target: exit $RC"
err_has notarget "holds 60 http exchanges but no http:// target"

usage_fails()
{
	replay usage "$@"
	[ "$RC" -eq 2 ] || fail "deetune replay $*: exit $RC, expected 2"
	[ -s "$WORK/usage.err" ] || fail "deetune replay $*: no message"
}
usage_fails "$WORK/s.dtsess" -o "$WORK/x.out"
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A"
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	--target "http://127.0.0.1:$PORT_B" -o "$WORK/x.out"
usage_fails "$WORK/s.dtsess" --target ftp://h -o "$WORK/x.out"
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out" --speed 0
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out" --rate -5
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out" --concurrency 0
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out" --set-header 'Bad Header'
usage_fails "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out" --json r.json
usage_fails "$WORK/nonexistent" --target "http://127.0.0.1:$PORT_A" \
	-o "$WORK/x.out"
"$DEETUNE" replay --help | grep -q '^usage: deetune replay' ||
	fail "replay --help"
echo ok
