#!/bin/bash
# HTTP/2 by h2c upgrade: curl --http2 on http:// sends an HTTP/1.1 request
# with Upgrade: h2c, nghttpx (in front of nginx) answers 101 and goes on
# in HTTP/2 with that request as stream 1. The recorder switches the
# connection from the HTTP/1 decoder to the HTTP/2 one: every stream is
# one http2 exchange, stream 1 made of the HTTP/1.1 request (with its
# body, a POST) in HTTP/2 form, bodies byte for byte.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=19970
BACKEND=19971
require_root_bpf
need_cmd nghttpx curl jq python3 tshark
require_free_port "$PORT"

start_nginx http "$BACKEND"
nghttpx -f"127.0.0.1,$PORT;no-tls" -b"127.0.0.1,$BACKEND" --workers=1 \
	--conf=/dev/null --no-ocsp --errorlog-file="$WORK/nghttpx.err" \
	>"$WORK/nghttpx.out" 2>&1 &
NGHTTPX_PID=$!
on_exit "kill_wait $NGHTTPX_PID"
wait_http "http://127.0.0.1:$PORT/" "$NGHTTPX_PID" ||
	fail "nghttpx did not start: $(cat "$WORK/nghttpx.err")"
head -c 5000 /dev/urandom | base64 -w0 >"$WORK/post.txt"
access_mark
start_record up --server "port:$PORT" -o "$WORK/s.dtsess"

base=http://127.0.0.1:$PORT
# Three streams on one connection (1 by the upgrade, then 3 and 5), a
# POST whose body rides in the upgrade request, and a lone GET.
codes=$(curl -sS --http2 -w '%{http_code} %{http_version}\n' \
	-o /dev/null "$base/static/small.txt" \
	-o "$WORK/big.bin" "$base/big.bin" \
	-o /dev/null "$base/missing"
	curl -sS --http2 -w '%{http_code} %{http_version}\n' -o /dev/null \
		--data-binary @"$WORK/post.txt" "$base/static/small.txt"
	curl -sS --http2 -w '%{http_code} %{http_version}\n' -o /dev/null \
		"$base/index.html")
[ "$codes" = $'200 2\n200 2\n404 2\n200 2\n200 2' ] ||
	fail "curl --http2 by upgrade: $codes"
cmp -s "$WORK/big.bin" "$WWW/big.bin" || fail "curl got a different big.bin"
sleep 0.5 # let the recorder drain what is in flight
stop_record

[ "$(count_lines <(access_since))" = 5 ] ||
	fail "nginx logged $(count_lines <(access_since)) requests, want 5"
[ "$(recorded_count)" = 5 ] ||
	fail "recorded $(recorded_count) exchanges, want 5"
cat_session "$WORK/s.dtsess" "$WORK/up.jsonl" --raw
python3 "$LIB_DIR/check_h2.py" "$WWW" "$WORK/post.txt" 5 /index.html 1 \
	<"$WORK/up.jsonl" || fail "check_h2.py failed"

# Stream 1 of each connection is the upgrade request in HTTP/2 form.
got=$(jq -c 'select(.attrs["h2.stream_id"] == "1") |
	[.request.method, .request.path, .request.scheme,
	 .request.authority, (.request.headers | keys)]' "$WORK/up.jsonl")
want="[\"GET\",\"/static/small.txt\",\"http\",\"127.0.0.1:$PORT\",[\"accept\",\"user-agent\"]]
[\"POST\",\"/static/small.txt\",\"http\",\"127.0.0.1:$PORT\",[\"accept\",\"content-length\",\"content-type\",\"user-agent\"]]
[\"GET\",\"/index.html\",\"http\",\"127.0.0.1:$PORT\",[\"accept\",\"user-agent\"]]"
[ "$got" = "$want" ] || fail "upgrade requests as stream 1:"$'\n'"$got"
got=$(jq -r 'select(.request.method == "POST") | .request.body' \
	"$WORK/up.jsonl")
[ "$got" = "$(cat "$WORK/post.txt")" ] || fail "cat of the POST body"

# Exported to a pcap, stream 1 is HTTP/2 frames like the others.
"$DEETUNE" export --pcap -o "$WORK/up.pcap" "$WORK/s.dtsess" \
	2>"$WORK/export.err" || fail "export: $(cat "$WORK/export.err")"
must python3 "$LIB_DIR/check_h2_pcap.py" "$WORK/up.pcap" "$PORT" \
	"$WORK/up.jsonl" "$WWW" /index.html
echo "h2c upgrade: 5 streams recorded as http2, stream 1 from HTTP/1.1"
