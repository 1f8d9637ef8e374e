#!/bin/bash
# HTTP/2 over cleartext (prior knowledge): nghttpd serving files, curl
# requests (small and 1 MiB files, a 404, a POST) and h2load with 4
# connections of 8 concurrent streams. Every stream is recorded as one
# exchange, paired by stream id, with the served bodies byte for byte.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=19800
LOAD_N=200
require_root_bpf
need_cmd nghttpd h2load curl jq python3
require_free_port "$PORT"

WWW=$WORK/www
mkdir -p "$WWW/dir"
echo "hello over h2" >"$WWW/small.txt"
printf '<html><body>%s</body></html>\n' "$(seq 1 400 | tr '\n' ' ')" \
	>"$WWW/dir/page.html"
head -c 1048576 /dev/urandom >"$WWW/big.bin"
head -c 3000 /dev/urandom >"$WWW/load.bin"
head -c 20000 /dev/urandom | base64 -w0 >"$WORK/post.txt"

nghttpd --no-tls -a 127.0.0.1 -d "$WWW" "$PORT" >"$WORK/nghttpd.log" 2>&1 &
NGHTTPD_PID=$!
on_exit "kill_wait $NGHTTPD_PID"
for ((i = 0; i < 100; i++)); do
	curl -sf --http2-prior-knowledge -o /dev/null \
		"http://127.0.0.1:$PORT/small.txt" && break
	sleep 0.1
done

h2get()
{
	curl -sS --http2-prior-knowledge -o "$WORK/curl.out" \
		-w '%{http_code} %{http_version}\n' "$@"
}

start_record h2 --server port:"$PORT" -o h2.dtsess
codes=$(h2get "http://127.0.0.1:$PORT/small.txt"
	h2get "http://127.0.0.1:$PORT/dir/page.html"
	h2get "http://127.0.0.1:$PORT/big.bin"
	h2get "http://127.0.0.1:$PORT/missing"
	h2get --data-binary @"$WORK/post.txt" "http://127.0.0.1:$PORT/small.txt")
[ "$codes" = $'200 2\n200 2\n200 2\n404 2\n200 2' ] ||
	fail "curl over h2c: $codes"
h2load -n "$LOAD_N" -c 4 -m 8 "http://127.0.0.1:$PORT/load.bin" \
	>"$WORK/h2load.out" 2>&1 || fail "h2load: $(cat "$WORK/h2load.out")"
grep -q "$LOAD_N succeeded, 0 failed" "$WORK/h2load.out" ||
	fail "h2load: $(cat "$WORK/h2load.out")"
stop_record

want=$((5 + LOAD_N))
[ "$(recorded_count)" -eq "$want" ] ||
	fail "recorded $(recorded_count) exchanges, want $want"
"$DEETUNE" cat --raw h2.dtsess >h2.jsonl
python3 "$(dirname "$0")/check_h2.py" "$WWW" "$WORK/post.txt" "$want" \
	/load.bin "$LOAD_N" <h2.jsonl || fail "check_h2.py failed"

# cat shows the parsed fields
got=$(jq -c 'select(.attrs.path == "/missing") |
	[.request.method, .request.authority, .response.status,
	 .response.headers["content-type"]]' h2.jsonl)
[ "$got" = "[\"GET\",\"127.0.0.1:$PORT\",404,\"text/html; charset=UTF-8\"]" ] ||
	fail "cat of the 404: $got"
got=$(jq -r 'select(.request.method == "POST") | .request.body' h2.jsonl)
[ "$got" = "$(cat "$WORK/post.txt")" ] || fail "cat of the POST body"
echo "h2c: $want streams recorded, paired and byte-exact"
