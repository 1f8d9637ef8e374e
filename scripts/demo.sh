#!/bin/bash
# DeeTune demo (`make demo`, as root): starts a small JSON API (nginx) on
# 127.0.0.1:18480, records it with `deetune record` for 10 seconds while
# curl (and wrk, when installed) call it, then shows what was recorded.
# Everything started here is stopped on exit; the session file stays in
# the printed /tmp directory for you to explore.
set -euo pipefail

DEETUNE=${1:?usage: scripts/demo.sh path/to/deetune}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PORT=18480
BASE=http://127.0.0.1:$PORT
DURATION=10

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
[ "$(id -u)" -eq 0 ] || die "recording uses eBPF: run me as root"
for c in nginx curl; do
	command -v "$c" >/dev/null || die "$c is missing (run 'make deps')"
done
if ss -Htln "( sport = :$PORT )" | grep -q .; then
	die "port $PORT is in use; stop what listens there first"
fi

DIR=$(mktemp -d /tmp/deetune-demo.XXXXXX)
SESSION=$DIR/demo.dtsess
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
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading "Starting the demo service"
mkdir -p "$DIR/nginx/tmp"
sed -e "s|@PORT@|$PORT|g" -e "s|@ROOT@|$REPO/fixtures/demo/www|g" \
	"$REPO/fixtures/demo/site.conf.in" >"$DIR/nginx/site.conf"
sed -e "s|@DIR@|$DIR/nginx|g" -e "s|@USER@|user root;|" \
	-e "s|@SENDFILE@|off|" -e "s|@SITE@|$DIR/nginx/site.conf|" \
	"$REPO/fixtures/nginx/nginx.conf.in" >"$DIR/nginx/nginx.conf"
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" \
	>"$DIR/nginx/stdout" 2>&1 &
pids+=("$!")
for ((i = 0; ; i++)); do
	curl -s -o /dev/null "$BASE/health" && break
	[ "$i" -lt 100 ] || die "nginx did not start: $(cat "$DIR/nginx/error.log")"
	sleep 0.1
done
echo "orders API (nginx) listening on $BASE"
echo "working directory: $DIR"

heading "Recording port $PORT for $DURATION s"
echo "\$ deetune record --server port:$PORT --duration ${DURATION}s -o $SESSION"
"$DEETUNE" record --server "port:$PORT" --duration "${DURATION}s" \
	-o "$SESSION" 2>"$DIR/record.log" &
rec_pid=$!
pids+=("$rec_pid")
for ((i = 0; ; i++)); do
	grep -q '^recording:' "$DIR/record.log" && break
	if ! kill -0 "$rec_pid" 2>/dev/null || [ "$i" -ge 200 ]; then
		die "deetune record did not start: $(cat "$DIR/record.log")"
	fi
	sleep 0.1
done
grep '^recording:' "$DIR/record.log"

heading "Calling the API"
requests=0
for round in 1 2 3 4 5; do
	# several requests on one keep-alive connection...
	curl -s -o /dev/null "$BASE/api/v1/orders" \
		-o /dev/null "$BASE/api/v1/orders/42" \
		-o /dev/null "$BASE/api/v1/orders/7" \
		-o /dev/null "$BASE/api/v1/orders/999"
	# ...and one connection per request
	curl -s -o /dev/null "$BASE/health"
	curl -s -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"customer\":\"demo\",\"round\":$round}" "$BASE/api/v1/orders"
	curl -s -o /dev/null "$BASE/no/such/page"
	requests=$((requests + 7))
done
echo "curl: $requests requests (keep-alive and one-shot, GET and POST, 200/201/404)"
if command -v wrk >/dev/null; then
	wrk -t1 -c2 -d2s -s "$REPO/fixtures/demo/wrk.lua" "$BASE/" |
		sed -n 's/^ *\([0-9]* requests in .*\)/wrk: \1/p'
fi

heading "Waiting for the recording to end (--duration ${DURATION}s)"
rc=0
wait "$rec_pid" || rc=$?
grep -v '^recording:' "$DIR/record.log" || true
[ "$rc" -eq 0 ] || die "deetune record exited with $rc"

heading "deetune inspect $SESSION"
"$DEETUNE" inspect "$SESSION"

heading "First 3 exchanges (deetune cat $SESSION | head -n 3)"
"$DEETUNE" cat "$SESSION" >"$DIR/demo.jsonl"
if command -v jq >/dev/null; then
	head -n 3 "$DIR/demo.jsonl" | jq -c '{request: (.request.method + " " +
		.request.path), status: .response.status, duration_ns}'
else
	head -n 3 "$DIR/demo.jsonl" | cut -c 1-300
fi

heading "Done"
echo "The session stays in $SESSION; try:"
echo "  $DEETUNE cat --raw $SESSION | less"
echo "The demo service is stopped."
