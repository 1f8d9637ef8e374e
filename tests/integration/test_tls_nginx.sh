#!/bin/bash
# Records HTTPS: nginx with a certificate made here, curl -k (keep-alive,
# a POST, a 1 MiB body), Python's ssl module (the _ex calls) and wrk over
# TLS. The uprobes on the system libssl must give every exchange nginx
# logged, in plaintext, flagged tls, byte for byte what was served, and no
# exchange made of ciphertext. A TLS client without OpenSSL (wget with
# GnuTLS, when installed so) is reported once and not recorded.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=19701
require_root_bpf
need_cmd nginx curl wrk openssl python3

make_cert "$NGINX_DIR" localhost
start_nginx https "$PORT"
access_mark
start_record tls --server "port:$PORT" -o "$WORK/s.dtsess"

base=https://127.0.0.1:$PORT
# Five requests on one keep-alive connection (gzip makes JSON chunked).
curl -sSk -w '%{http_code} %{num_connects}\n' -H 'Accept-Encoding: gzip' \
	-o /dev/null "$base/api/orders/12.json" \
	-o /dev/null "$base/api/orders/13.json?page=2" \
	-o /dev/null "$base/not-here" \
	-o "$WORK/big.bin" "$base/big.bin" \
	-o /dev/null "$base/data.json" \
	>"$WORK/curl.out"
[ "$(cut -d' ' -f2 "$WORK/curl.out" | tr -d '\n')" = 10000 ] ||
	fail "curl did not reuse its connection: $(cat "$WORK/curl.out")"
cmp -s "$WORK/big.bin" "$WWW/big.bin" || fail "curl got a different big.bin"
head -c 5000 /dev/urandom | base64 -w0 >"$WORK/post.body"
curl -sSk -o /dev/null --data-binary "@$WORK/post.body" "$base/submit"

# Python's ssl module: the SSL_read_ex/SSL_write_ex calls.
must python3 "$LIB_DIR/tls_client.py" "$PORT" "$WWW" /index.html \
	/api/orders/3.json /static/256k.bin /big.bin

# Concurrency over TLS: four connections for two seconds.
wrk -t1 -c4 -d2s -s "$NGINX_FIXTURES/wrk-mixed.lua" "$base/" >"$WORK/wrk.out"

sleep 1 # let the recorder drain what is in flight
stop_record

session_vs_access_log "$WORK/s.dtsess" 100
[ "$N" = "$LOGGED" ] || fail "nginx logged $LOGGED requests, recorded $N"

must python3 "$LIB_DIR/check_tls.py" "$WORK/cat.jsonl" "$WORK/access.log" \
	"$WWW" "$WORK/post.body"
if grep -q 'without a shared OpenSSL' "$REC_ERR"; then
	fail "a process was reported as not capturable:"$'\n'"$(cat "$REC_ERR")"
fi

# A TLS client without OpenSSL (Debian's wget uses GnuTLS) is reported
# once per process, and nothing of its ciphertext is recorded.
wget_libs=""
if command -v wget >/dev/null; then
	wget_libs=$(ldd "$(command -v wget)")
fi
if grep -q gnutls <<<"$wget_libs" && ! grep -q libssl <<<"$wget_libs"; then
	start_record wget --server comm:wget -o "$WORK/w.dtsess"
	wget -q --no-check-certificate -O "$WORK/wget.out" "$base/index.html" ||
		fail "wget failed"
	sleep 1
	stop_record
	[ "$(grep -c 'uses TLS without a shared OpenSSL' "$REC_ERR")" = 1 ] ||
		fail "wget not reported exactly once:"$'\n'"$(cat "$REC_ERR")"
	msg='uses TLS without a shared OpenSSL: its traffic cannot be recorded'
	grep -Eq "^deetune: pid [0-9]+ \(wget\) $msg in plaintext\$" \
		"$REC_ERR" || fail "unexpected report: $(cat "$REC_ERR")"
	cat_session "$WORK/w.dtsess" "$WORK/w.jsonl"
	[ "$(count_lines "$WORK/w.jsonl")" = 0 ] ||
		fail "wget's ciphertext was recorded: $(head -c 500 "$WORK/w.jsonl")"
fi
