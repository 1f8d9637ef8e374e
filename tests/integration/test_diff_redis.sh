#!/bin/bash
# deetune diff on Redis: two redis-servers seeded with the same data, then
# one key changed on the second. A session recorded against the first and
# replayed against the second reports exactly the changed reply; replayed
# against the first, nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=19111
PORT_B=19112
require_root_bpf
need_cmd redis-server redis-cli jq xmllint
"$DEETUNE" replay --help >/dev/null 2>&1 ||
	fail "this build has no 'deetune replay'"

# start_redis PORT: a redis-server on 127.0.0.1:PORT, seeded.
start_redis()
{
	local port=$1 dir=$WORK/redis-$1 pid i
	require_free_port "$port"
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$port" --save '' \
		--appendonly no --dir "$dir" --logfile "$dir/redis.log" &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; ; i++)); do
		[ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && break
		if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 100 ]; then
			fail "redis-server did not start:"$'\n'"$(cat \
				"$dir/redis.log")"
		fi
		sleep 0.1
	done
	redis-cli -p "$port" MSET user:1 ann user:2 bob >/dev/null
	redis-cli -p "$port" RPUSH list a b c >/dev/null
	redis-cli -p "$port" HSET h name ann age 30 >/dev/null
}

start_redis "$PORT_A"
start_redis "$PORT_B"
redis-cli -p "$PORT_B" HSET h age 31 >/dev/null

start_record redis --server "port:$PORT_A" -o "$WORK/rec.dtsess"
for cmd in "GET user:1" "GET user:2" "LRANGE list 0 -1" "HGETALL h" \
	"GET missing" "EXISTS user:1 user:2 nope"; do
	# shellcheck disable=SC2086 # the words of the command
	redis-cli -p "$PORT_A" $cmd >/dev/null
done
sleep 1
stop_record
[ "$(recorded_count)" = 6 ] || fail "recorded $(recorded_count), not 6"

for t in a b; do
	port=$PORT_A
	[ "$t" = b ] && port=$PORT_B
	must "$DEETUNE" replay "$WORK/rec.dtsess" --quiet --speed max \
		--target "redis://127.0.0.1:$port" -o "$WORK/on-$t.dtsess"
done

rc=0
"$DEETUNE" diff "$WORK/rec.dtsess" "$WORK/on-b.dtsess" --json "$WORK/b.json" \
	--junit "$WORK/b.xml" >"$WORK/b.out" 2>"$WORK/b.err" || rc=$?
assert_no_sanitizer "$WORK/b.err"
cat "$WORK/b.out"
[ "$rc" = 1 ] || fail "diff against B exited $rc:"$'\n'"$(cat "$WORK/b.err")"
# HGETALL answers a map (RESP3) or a flat array (RESP2): either way, the
# one changed value and nothing else
items=$(jq -r '.endpoints[] | "\(.name): " + ([.exchanges[].items[] |
	"\(.field) \(.expected) \(.actual)"] | join("; "))' "$WORK/b.json" |
	grep -v ': $' || true)
case $items in
'redis HGETALL: $[3] "30" "31"' | 'redis HGETALL: $.age "30" "31"') ;;
*) fail "unexpected differences: $items" ;;
esac
[ "$(jq -c '[.summary.same, .summary.differ]' "$WORK/b.json")" = '[5,1]' ] ||
	fail "unexpected summary: $(jq -c .summary "$WORK/b.json")"
must xmllint --noout --schema "$REPO_DIR/fixtures/diff/junit.xsd" "$WORK/b.xml"
[ "$(xmllint --xpath 'count(//testcase[@name="redis HGETALL"]/failure)' \
	"$WORK/b.xml")" = 1 ] || fail "JUnit does not name HGETALL"

rc=0
"$DEETUNE" diff --quiet "$WORK/rec.dtsess" "$WORK/on-a.dtsess" || rc=$?
[ "$rc" = 0 ] || fail "diff against A exited $rc"
echo "diff: the changed Redis reply found, nothing else"
