#!/bin/bash
# Replays a recorded redis-server session against a second redis-server
# that needs a password (given by a credentials file, then by the
# environment): every command replayed on a connection of its own per
# recorded connection, in order, pipelined, each reply byte for byte the
# recorded one. Then a wrong password and a server that is down: exit 2,
# a message that names the target and not the password, a readable
# output session.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=18951
PORT_B=18952
PORT_DOWN=18959
require_root_bpf
need_cmd redis-server redis-cli python3 jq

CHECK=$LIB_DIR/test_replay_check.py
PASS=pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WRONG=wrong-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# start_redis NAME PORT [ARGS...]
start_redis()
{
	local name=$1 port=$2 dir=$WORK/$1 i
	shift 2
	require_free_port "$port"
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$port" --save '' \
		--appendonly no --dir "$dir" --logfile "$dir/redis.log" "$@" &
	on_exit "kill_wait $!"
	for ((i = 0; ; i++)); do
		redis-cli -p "$port" PING 2>/dev/null | grep -Eq 'PONG|NOAUTH' &&
			break
		[ "$i" -lt 100 ] ||
			fail "redis-server $name did not start:"$'\n'"$(cat "$dir/redis.log")"
		sleep 0.1
	done
}

start_redis a "$PORT_A"
start_redis b "$PORT_B" --requirepass "$PASS"
require_free_port "$PORT_DOWN"

SECRETS=("$PASS" "$WRONG")

# --- the recording ------------------------------------------------------------

start_record rec --server "port:$PORT_A" -o "$WORK/s.dtsess"
must python3 "$LIB_DIR/test_replay_client.py" redis "$PORT_A"
redis-cli -p "$PORT_A" SET from-cli 1 >/dev/null
sleep 0.5
stop_record
cat_session "$WORK/s.dtsess" "$WORK/s.jsonl" --raw
n=$(count_lines "$WORK/s.jsonl")
[ "$n" -ge 218 ] || fail "recorded only $n exchanges"
echo "recorded $n exchanges"

# --- against the second server ----------------------------------------------

printf '# replay test\nredis=%s\n' "$PASS" >"$WORK/creds"
chmod 600 "$WORK/creds"
replay b "$WORK/s.dtsess" --target "redis://127.0.0.1:$PORT_B" \
	--credentials-file "$WORK/creds" -o "$WORK/b.dtsess"
[ "$RC" -eq 0 ] || fail "replay exited $RC:"$'\n'"$(cat "$WORK/b.err")"
cat_session "$WORK/b.dtsess" "$WORK/b.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/b.jsonl" --count "$n" \
	--server-port "$PORT_B" --same-reply --conn-order
[ "$(redis-cli -p "$PORT_B" -a "$PASS" --no-auth-warning GET piped)" = 200 ] ||
	fail "the pipeline did not reach the second server"
# the stored requests are the recorded ones
[ "$(jq -r '.request.raw' "$WORK/s.jsonl" | md5sum)" = \
	"$(jq -s -r 'sort_by(.link_id) | .[].request.raw' "$WORK/b.jsonl" |
		md5sum)" ] || fail "replayed requests differ from the recorded"
assert_no_secret "$WORK/b.jsonl"

# the environment is read as well; --speed max keeps each connection's order
redis-cli -p "$PORT_B" -a "$PASS" --no-auth-warning FLUSHALL >/dev/null
RC=0
DEETUNE_REDIS_PASSWORD=$PASS "$DEETUNE" replay "$WORK/s.dtsess" \
	--target "redis://127.0.0.1:$PORT_B/0" -o "$WORK/env.dtsess" \
	--speed max --concurrency 8 2>"$WORK/env.err" || RC=$?
[ "$RC" -eq 0 ] || fail "replay with the environment exited $RC"
cat_session "$WORK/env.dtsess" "$WORK/env.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/env.jsonl" --conn-order

# --- wrong password, server down -------------------------------------------------

replay wrong "$WORK/s.dtsess" \
	--target "redis://:$WRONG@127.0.0.1:$PORT_B" -o "$WORK/wrong.dtsess"
[ "$RC" -eq 2 ] || fail "wrong password: exit $RC, expected 2"
grep -q "redis://127.0.0.1:$PORT_B: authentication failed" "$WORK/wrong.err" ||
	fail "wrong password: $(cat "$WORK/wrong.err")"
cat_session "$WORK/wrong.dtsess" "$WORK/wrong.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/wrong.jsonl" --failed
"$DEETUNE" inspect "$WORK/wrong.dtsess" >"$WORK/wrong.inspect"
grep -q 'redis://:\*\*\*@127.0.0.1' "$WORK/wrong.inspect" ||
	fail "the command line is not redacted: $(cat "$WORK/wrong.inspect")"
! grep -qF "$WRONG" "$WORK/wrong.inspect" ||
	fail "the password is in the output's metadata"
assert_no_secret "$WORK/wrong.jsonl"

# a server that answers with bytes that are not RESP: each command fails,
# the replay goes on over new connections
: >"$WORK/garbage.out"
python3 "$LIB_DIR/test_replay_server.py" "$PORT_DOWN" garbage \
	>"$WORK/garbage.out" &
bad=$!
on_exit "kill_wait $bad"
for ((i = 0; i < 100; i++)); do
	grep -q listening "$WORK/garbage.out" && break
	sleep 0.1
done
replay garbage "$WORK/s.dtsess" --target "redis://127.0.0.1:$PORT_DOWN" \
	-o "$WORK/garbage.dtsess" --speed max --timeout 2s
[ "$RC" -eq 1 ] || fail "garbage server: exit $RC, expected 1"
cat_session "$WORK/garbage.dtsess" "$WORK/garbage.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/garbage.jsonl" --failed
grep -q 'not RESP' "$WORK/garbage.jsonl" ||
	fail "garbage server: $(head -n 1 "$WORK/garbage.jsonl")"
kill_wait "$bad"

replay down "$WORK/s.dtsess" --target "redis://127.0.0.1:$PORT_DOWN" \
	-o "$WORK/down.dtsess" --speed max --retries 2 --timeout 2s
[ "$RC" -eq 2 ] || fail "server down: exit $RC, expected 2"
grep -q "redis://127.0.0.1:$PORT_DOWN: cannot connect" "$WORK/down.err" ||
	fail "server down: $(cat "$WORK/down.err")"
cat_session "$WORK/down.dtsess" "$WORK/down.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/down.jsonl" --failed
echo ok
