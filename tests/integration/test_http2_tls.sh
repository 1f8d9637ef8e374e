#!/bin/bash
# HTTP/2 over TLS (ALPN h2): nginx with a certificate made here, curl
# --http2 -k (small files, a 1 MiB body, a 404, a POST) and h2load with 4
# connections of 8 concurrent streams. The uprobes on the system libssl
# hand the h2 decoder the plaintext: every stream nginx logged is one
# exchange, flagged tls and nothing else, paired by stream id, with the
# served bodies byte for byte. Exported to a pcap, tshark decodes them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=19950
LOAD_N=200
require_root_bpf
need_cmd nginx curl h2load openssl jq python3 tshark

make_cert "$NGINX_DIR" localhost
start_nginx h2tls "$PORT"
head -c 20000 /dev/urandom | base64 -w0 >"$WORK/post.txt"
access_mark
start_record h2tls --server "port:$PORT" -o "$WORK/s.dtsess"

base=https://127.0.0.1:$PORT
h2get()
{
	curl -sSk --http2 -o "$WORK/curl.out" \
		-w '%{http_code} %{http_version}\n' "$@"
}
codes=$(h2get "$base/index.html"
	h2get "$base/api/orders/7.json"
	h2get "$base/big.bin"
	h2get "$base/missing"
	h2get --data-binary @"$WORK/post.txt" "$base/index.html")
[ "$codes" = $'200 2\n200 2\n200 2\n404 2\n200 2' ] ||
	fail "curl over h2 with TLS: $codes"
h2load -n "$LOAD_N" -c 4 -m 8 "$base/static/small.txt" \
	>"$WORK/h2load.out" 2>&1 || fail "h2load: $(cat "$WORK/h2load.out")"
grep -q "$LOAD_N succeeded, 0 failed" "$WORK/h2load.out" ||
	fail "h2load: $(cat "$WORK/h2load.out")"
grep -q 'Application protocol: h2' "$WORK/h2load.out" ||
	fail "h2load did not negotiate h2: $(cat "$WORK/h2load.out")"
sleep 1 # let the recorder drain what is in flight
stop_record

access_since >"$WORK/access.log"
logged=$(count_lines "$WORK/access.log")
want=$((5 + LOAD_N))
[ "$logged" = "$want" ] || fail "nginx logged $logged requests, want $want"
[ "$(recorded_count)" = "$want" ] ||
	fail "recorded $(recorded_count) exchanges, want $want"
cat_session "$WORK/s.dtsess" "$WORK/h2.jsonl" --raw
[ "$(jq -c 'select(.flags != ["tls"])' "$WORK/h2.jsonl" | wc -l)" = 0 ] ||
	fail "exchanges not flagged exactly tls: $(jq -c \
		'select(.flags != ["tls"]) | [.id, .flags]' "$WORK/h2.jsonl" |
		head -5)"
jq -c '.flags = []' "$WORK/h2.jsonl" >"$WORK/h2.noflags.jsonl"
python3 "$LIB_DIR/check_h2.py" "$WWW" "$WORK/post.txt" "$want" \
	/static/small.txt "$LOAD_N" <"$WORK/h2.noflags.jsonl" ||
	fail "check_h2.py failed"
got=$(jq -r 'select(.request.method == "POST") | .request.body' \
	"$WORK/h2.jsonl")
[ "$got" = "$(cat "$WORK/post.txt")" ] || fail "cat of the POST body"

# The pcap export writes the plaintext as cleartext HTTP/2 frames, which
# tshark decodes (told the port is HTTP/2: it is no usual one).
"$DEETUNE" export --pcap -o "$WORK/h2.pcap" "$WORK/s.dtsess" \
	2>"$WORK/export.err" || fail "export: $(cat "$WORK/export.err")"
must python3 "$LIB_DIR/check_h2_pcap.py" "$WORK/h2.pcap" "$PORT" \
	"$WORK/h2.jsonl" "$WWW" /big.bin
echo "h2 over TLS: $want streams recorded in plaintext, flagged tls, byte-exact"
