#!/bin/bash
# DeeTune demo (`make demo`, as root). Starts the three-tier demo app on
# loopback (scripts/stack.sh: nginx on 127.0.0.1:18480 -> the orders
# backend on :18481 -> redis-server on :18482 and mariadbd on :18483),
# records all four tiers with `deetune record` while curl calls the API
# (and, separately, the front door alone), shows what was recorded and,
# when `deetune topo` exists, the service topology while traffic runs.
# Then replays the front door's recording against a second, fresh copy of
# the app (a "candidate" on :18484-18487: no differences) and against the
# first one, whose state has moved on (differences, then explained by a
# noise rules file), diffing each time. Everything started here is
# stopped on exit; the files stay in the printed /tmp directory.
set -euo pipefail

DEETUNE=${1:?usage: scripts/demo.sh path/to/deetune}
REPO=$(cd "$(dirname "$0")/.." && pwd)
STACK=$REPO/scripts/stack.sh
PORT=18480
CANDIDATE_PORT=18484
TOPO_SECONDS=5

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
export DEETUNE # stack.sh finds the backend next to it
[ "$(id -u)" -eq 0 ] || die "recording uses eBPF: run me as root"
command -v jq >/dev/null || die "jq is missing (run 'make deps')"

DIR=$(mktemp -d /tmp/deetune-demo.XXXXXX)
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
	"$STACK" stop "$DIR/candidate" || true
	"$STACK" stop "$DIR/app" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading "Starting the demo app"
"$STACK" start "$DIR/app" "$PORT"
# shellcheck source=/dev/null
. "$DIR/app/stack.env"
echo "nginx          $BASE_URL (reverse proxy, keep-alive upstream)"
echo "orders backend $BACKEND_URL ($BACKEND_BIN)"
echo "redis-server   127.0.0.1:$REDIS_PORT (cache)"
echo "mariadbd       127.0.0.1:$MYSQL_PORT (database)"
echo "working directory: $DIR"

# record NAME SEL...: `deetune record` in the background until SIGINT.
record()
{
	local name=$1 i
	shift
	"$DEETUNE" record "$@" -o "$DIR/$name.dtsess" 2>"$DIR/$name.log" &
	pids+=("$!")
	for ((i = 0; ; i++)); do
		grep -q '^recording:' "$DIR/$name.log" && return 0
		if ! kill -0 "$!" 2>/dev/null || [ "$i" -ge 200 ]; then
			die "deetune record did not start: $(cat "$DIR/$name.log")"
		fi
		sleep 0.1
	done
}

heading "Recording every tier, and the front door on its own"
tiers=(--server "port:$NGINX_PORT" --server "port:$BACKEND_PORT"
	--server "port:$REDIS_PORT" --server "port:$MYSQL_PORT")
echo "\$ deetune record ${tiers[*]} -o $DIR/app.dtsess"
record app "${tiers[@]}"
echo "\$ deetune record --server port:$NGINX_PORT -o $DIR/front.dtsess"
record front --server "port:$NGINX_PORT"
rec_pids=("${pids[@]}")

# traffic: one round of calls on keep-alive connections; prints its counts.
traffic()
{
	local i items=() orders=0
	for i in 1 2 3 4 5 6 7 8 1 2 3 99; do
		items+=(-o /dev/null "$BASE_URL/api/items/$i")
	done
	curl -s "${items[@]}"
	for i in 1 2 3 4 5; do
		curl -s -o /dev/null -H 'Content-Type: application/json' \
			-d "{\"item_id\":$i,\"qty\":$((i * 2))}" \
			"$BASE_URL/api/orders"
		orders=$((orders + 1))
	done
	curl -s -o /dev/null "$BASE_URL/api/fail" -o /dev/null \
		"$BASE_URL/api/fail"
	curl -s -o /dev/null "$BASE_URL/health"
	echo "curl: 20 requests: 12 GET /api/items/ID (8 cache misses, 3 hits, 1 unknown: 404),"
	echo "      $orders POST /api/orders (201), 2 GET /api/fail (500, injected), 1 GET /health"
}

heading "Calling the API"
traffic
sleep 1 # the last responses reach the recorders
kill -INT "${rec_pids[@]}"
for pid in "${rec_pids[@]}"; do
	wait "$pid" || die "deetune record exited with $?: $(cat "$DIR"/*.log)"
done
pids=()
grep -h '^recorded:' "$DIR/app.log" "$DIR/front.log"

heading "deetune inspect $DIR/app.dtsess"
"$DEETUNE" inspect "$DIR/app.dtsess"

"$DEETUNE" cat "$DIR/app.dtsess" >"$DIR/app.jsonl"
heading "Exchanges per tier (client process -> server, protocol)"
jq -r '"\(.client.comm) -> \(.server.addr) \(.protocol)"' "$DIR/app.jsonl" |
	sort | uniq -c | sort -rn
heading "One request through the tiers (deetune cat $DIR/app.dtsess | jq ...)"
jq -c 'select(.protocol == "http" and .request.path == "/api/items/1") |
	{via: "\(.client.comm) -> \(.server.addr)",
	 request: (.request.method + " " + .request.path),
	 status: .response.status}' "$DIR/app.jsonl" | head -n 2
jq -c 'select(.protocol == "redis") |
	{redis: ([.request.command] + .request.args | join(" ")),
	 reply: .response.summary}' "$DIR/app.jsonl" | head -n 3
jq -c 'select(.protocol == "mysql" and .request.command == "COM_QUERY") |
	{sql: .request.sql, result: .response.kind, rows: .response.rows} |
	with_entries(select(.value != null))' "$DIR/app.jsonl" | head -n 2
if "$DEETUNE" cat --raw "$DIR/app.dtsess" | grep -qF "$MYSQL_PASSWORD"; then
	die "the database password is in the session"
fi
echo "The database password does not appear in the session."

if "$DEETUNE" topo --help >/dev/null 2>&1; then
	# Name the backend after what it does, not its (truncated) comm.
	topo=(topo "${tiers[@]}" --service "orders=pid:$BACKEND_PID"
		--duration "${TOPO_SECONDS}s" --format table)
	heading "deetune ${topo[*]} (traffic running)"
	"$DEETUNE" "${topo[@]}" >"$DIR/topo.txt" 2>"$DIR/topo.log" &
	topo_pid=$!
	pids+=("$topo_pid")
	sleep 1 # the probes attach
	while kill -0 "$topo_pid" 2>/dev/null; do
		traffic >/dev/null
	done
	wait "$topo_pid" || die "deetune topo failed: $(cat "$DIR/topo.log")"
	pids=()
	cat "$DIR/topo.txt"
fi

heading "Replaying the front door against a fresh candidate on :$CANDIDATE_PORT"
"$STACK" start "$DIR/candidate" "$CANDIDATE_PORT"
replay()
{
	local target=$1 out=$2 rc=0
	shift 2
	echo "\$ deetune replay $DIR/front.dtsess --target $target --concurrency 1 --speed max -o $out --diff $*"
	"$DEETUNE" replay "$DIR/front.dtsess" --target "$target" \
		--concurrency 1 --speed max -o "$out" --diff "$@" || rc=$?
	echo "(exit status $rc)"
	[ "$rc" -le 1 ] || die "deetune replay failed"
}
replay "http://127.0.0.1:$CANDIDATE_PORT" "$DIR/candidate.dtsess"

heading "Replaying it against the first app, whose cache and tables moved on"
replay "$BASE_URL" "$DIR/again.dtsess"

heading "The same with noise rules: cache status and fresh ids are expected"
cat >"$DIR/rules.json" <<'EOF'
{
  "comment": "the cache may be warm; order ids and counts grow",
  "ignore_headers": ["X-Cache"],
  "endpoints": [{"match": "POST /api/orders", "ignore": ["$.id", "$.orders"]}]
}
EOF
cat "$DIR/rules.json"
echo "\$ deetune diff --rules $DIR/rules.json $DIR/front.dtsess $DIR/again.dtsess"
rc=0
"$DEETUNE" diff --rules "$DIR/rules.json" "$DIR/front.dtsess" \
	"$DIR/again.dtsess" >"$DIR/rules-diff.txt" || rc=$?
tail -n 1 "$DIR/rules-diff.txt"
echo "(exit status $rc; the whole report is in $DIR/rules-diff.txt)"

heading "Done"
echo "The sessions stay in $DIR; try:"
echo "  $DEETUNE cat $DIR/app.dtsess | jq ."
echo "The demo app is stopped."
