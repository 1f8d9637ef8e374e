#!/bin/bash
# Records real nginx traffic (keep-alive, pipelining, 1 MiB body, chunked
# gzip, 404, POST bodies, HEAD/304/204, Expect: 100-continue, IPv6, wrk
# concurrency) and checks that the session holds every request nginx
# logged, each once, byte for byte as the clients saw it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18101
require_root_bpf
need_cmd nginx curl wrk python3 jq

start_nginx http "$PORT"
access_mark
start_record http --server "port:$PORT" -o "$WORK/s.dtsess"

# curl: several URLs on one keep-alive connection (gzip makes the JSON
# answers chunked), then a POST.
base=http://127.0.0.1:$PORT
curl -sS -w '%{http_code} %{num_connects}\n' -H 'Accept-Encoding: gzip' \
	-o /dev/null "$base/api/orders/12.json" \
	-o /dev/null "$base/api/orders/13.json?page=2&sort=desc" \
	-o /dev/null "$base/not-here" \
	-o /dev/null "$base/big.bin" \
	-o /dev/null "$base/data.json" \
	>"$WORK/curl.out"
# One new connection, then four reuses of it.
[ "$(cut -d' ' -f2 "$WORK/curl.out" | tr -d '\n')" = 10000 ] ||
	fail "curl did not reuse its connection: $(cat "$WORK/curl.out")"
head -c 5000 /dev/urandom | base64 -w0 >"$WORK/post.body"
curl -sS -o /dev/null --data-binary "@$WORK/post.body" "$base/submit"

# Byte-exact clients: one connection each.
captures=()
for scenario in keepalive pipeline extras; do
	must python3 "$LIB_DIR/http_client.py" "$PORT" "$WWW" \
		"$WORK/$scenario" "$scenario"
	captures+=(--capture "$WORK/$scenario")
done
if have_ipv6_loopback; then
	must python3 "$LIB_DIR/http_client.py" --host ::1 "$PORT" "$WWW" \
		"$WORK/ipv6" keepalive
	captures+=(--capture "$WORK/ipv6")
fi

# Concurrency: four connections for two seconds, paced by the script.
wrk -t1 -c4 -d2s -s "$NGINX_FIXTURES/wrk-mixed.lua" "$base/" >"$WORK/wrk.out"

sleep 1 # let the recorder drain what is in flight
stop_record

session_vs_access_log "$WORK/s.dtsess" 1000

must python3 "$LIB_DIR/check_session.py" --cat "$WORK/cat.jsonl" \
	--access "$WORK/access.log" --port "$PORT" "${captures[@]}"

# Without --raw, cat prints the same exchanges without the raw bytes.
cat_session "$WORK/s.dtsess" "$WORK/plain.jsonl"
[ "$(jq -s 'map(select(.request.raw or .response.raw)) | length' \
	"$WORK/plain.jsonl")" = 0 ] || fail "cat without --raw printed raw bytes"
[ "$(jq -c 'del(.request.raw, .response.raw)' "$WORK/cat.jsonl" | md5sum)" = \
	"$(jq -c . "$WORK/plain.jsonl" | md5sum)" ] ||
	fail "cat and cat --raw disagree beyond the raw fields"

# cat reads the session from stdin too.
"$DEETUNE" cat - <"$WORK/s.dtsess" >"$WORK/stdin.jsonl" ||
	fail "deetune cat - failed"
cmp -s "$WORK/stdin.jsonl" "$WORK/plain.jsonl" ||
	fail "deetune cat - differs from deetune cat FILE"

# inspect agrees on the count and found the trailer.
"$DEETUNE" inspect "$WORK/s.dtsess" >"$WORK/inspect.out" ||
	fail "deetune inspect failed"
grep -Eq "^exchanges: +$N " "$WORK/inspect.out" ||
	fail "inspect does not report $N exchanges:"$'\n'"$(cat "$WORK/inspect.out")"
grep -q 'trailer ok' "$WORK/inspect.out" ||
	fail "inspect does not report the trailer:"$'\n'"$(cat "$WORK/inspect.out")"
echo ok
