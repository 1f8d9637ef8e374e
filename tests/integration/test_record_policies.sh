#!/bin/bash
# Recording policies against live nginx traffic: --count N stops after
# exactly N exchanges, --duration stops on time, --match records only the
# matching requests (and all of them), and a selector that matches nothing
# records nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18201
UNUSED_PORT=18299
require_root_bpf
need_cmd nginx curl python3 jq
require_free_port "$UNUSED_PORT"

start_nginx http "$PORT"
base=http://127.0.0.1:$PORT

# exchanges_in FILE: `deetune cat` of a complete session -> line count.
exchanges_in()
{
	cat_session "$1" "$1.jsonl"
	count_lines "$1.jsonl"
}

# Requests that --match must tell apart, several on each connection.
mixed_traffic()
{
	local i
	for i in 1 2 3 4 5; do
		curl -sS -o /dev/null "$base/api/orders/$i.json" \
			-o /dev/null "$base/other.html" \
			-o /dev/null "$base/api/orders/$((i + 5)).json?x=$i" \
			-o /dev/null "$base/index.html" \
			-o /dev/null "$base/api/not-found-$i"
		curl -sS -o /dev/null -d "n=$i" "$base/api/submit"
		curl -sS -o /dev/null -d "n=$i" "$base/submit"
		curl -sS -o /dev/null -I "$base/api/orders/$i.json"
	done
}

echo "== --count 50 stops by itself after exactly 50 exchanges"
access_mark
start_record count --server "port:$PORT" --count 50 -o "$WORK/count.dtsess"
start_traffic "$PORT" /api/orders/1.json /api/orders/2.json /other.html
wait_record 30
sleep 0.5 # traffic goes on after the recorder stopped
kill_wait "$TRAFFIC_PID"
assert_record_ok
logged=$(access_since | wc -l)
[ "$logged" -gt 50 ] || fail "only $logged requests were sent"
n=$(exchanges_in "$WORK/count.dtsess")
[ "$n" -eq 50 ] || fail "--count 50 recorded $n exchanges ($logged sent)"
[ "$(recorded_count)" = 50 ] ||
	fail "summary: $(grep '^recorded:' "$REC_ERR")"
[ "$(jq -s -c 'map(.id)' "$WORK/count.dtsess.jsonl")" = \
	"$(jq -n -c '[range(1; 51)]')" ] || fail "ids are not 1..50"
[ "$(jq -s 'map(select(.response.status != 200)) | length' \
	"$WORK/count.dtsess.jsonl")" = 0 ] ||
	fail "--count recorded exchanges without a 200 response"

echo "== --duration 3s stops 3 to 4 s after 'recording:'"
start_traffic "$PORT" /api/orders/3.json /index.html
start_record duration --server "port:$PORT" --duration 3s \
	-o "$WORK/duration.dtsess"
t0=$(date +%s%N)
wait_record 10
t1=$(date +%s%N)
kill_wait "$TRAFFIC_PID"
assert_record_ok
ms=$(((t1 - t0) / 1000000))
echo "recorder ran for $ms ms after its 'recording:' line"
# Both instants are polled every 50 ms, hence the 50 ms of slack.
if [ "$ms" -lt 2950 ] || [ "$ms" -gt 4050 ]; then
	fail "--duration 3s stopped after $ms ms"
fi
n=$(exchanges_in "$WORK/duration.dtsess")
[ "$n" -gt 0 ] || fail "--duration recorded nothing while traffic ran"

echo "== --match 'GET /api/*' records all GET /api/ requests, nothing else"
access_mark
start_record match --server "port:$PORT" --match 'GET /api/*' \
	-o "$WORK/match.dtsess"
mixed_traffic
sleep 1
stop_record
access_since >"$WORK/match.access"
want=$(awk -F'\t' '$10 ~ /^"GET \/api\// { n++ } END { print n + 0 }' \
	"$WORK/match.access")
others=$(awk -F'\t' '$10 !~ /^"GET \/api\// { n++ } END { print n + 0 }' \
	"$WORK/match.access")
if [ "$want" -eq 0 ] || [ "$others" -eq 0 ]; then
	fail "traffic did not mix: $want matching, $others others"
fi
n=$(exchanges_in "$WORK/match.dtsess")
bad=$(jq -c 'select(.request.method != "GET" or
	(.request.path | startswith("/api/") | not)) | .request' \
	"$WORK/match.dtsess.jsonl")
[ -z "$bad" ] || fail "--match recorded other requests: $bad"
[ "$n" -eq "$want" ] ||
	fail "--match recorded $n exchanges; nginx logged $want GET /api/*"

echo "== --match '/api/*' (path only) records every method"
access_mark
start_record match_path --server "port:$PORT" --match '/api/*' \
	-o "$WORK/match_path.dtsess"
mixed_traffic
sleep 1
stop_record
want=$(access_since |
	awk -F'\t' '$10 ~ /^"[A-Z]+ \/api\// { n++ } END { print n + 0 }')
n=$(exchanges_in "$WORK/match_path.dtsess")
bad=$(jq -c 'select(.request.path | startswith("/api/") | not) | .request' \
	"$WORK/match_path.dtsess.jsonl")
[ -z "$bad" ] || fail "--match '/api/*' recorded other paths: $bad"
methods=$(jq -r '.request.method' "$WORK/match_path.dtsess.jsonl" |
	sort -u | tr '\n' ' ')
[ "$methods" = "GET HEAD POST " ] ||
	fail "--match '/api/*' recorded methods $methods"
[ "$n" -eq "$want" ] ||
	fail "--match '/api/*' recorded $n exchanges; nginx logged $want"

echo "== a selector matching no socket records nothing"
start_record unused --server "port:$UNUSED_PORT" -o "$WORK/unused.dtsess"
mixed_traffic
sleep 1
stop_record
n=$(exchanges_in "$WORK/unused.dtsess")
[ "$n" -eq 0 ] || fail "--server port:$UNUSED_PORT recorded $n exchanges"
[ "$(recorded_count)" = 0 ] ||
	fail "summary: $(grep '^recorded:' "$REC_ERR")"
"$DEETUNE" inspect "$WORK/unused.dtsess" >"$WORK/unused.inspect" ||
	fail "inspect of an empty session failed"
grep -Eq '^exchanges: +0( |$)' "$WORK/unused.inspect" ||
	fail "inspect of the empty session:"$'\n'"$(cat "$WORK/unused.inspect")"
echo ok
