#!/bin/bash
# HTTPS replay: nginx serves HTTPS with a certificate made here; curl's
# requests are recorded in plaintext (uprobes on libssl), replayed against
# a second HTTPS nginx serving the same files with --cacert (the test's
# CA verifies it) and with --insecure: no difference, exit 0. Verifying
# against the wrong CA fails every request with the certificate error,
# said once on stderr, and exits 2 (the target never accepted a
# connection), as deetune-replay(1) documents.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=19910
PORT_B=19911
require_root_bpf
need_cmd nginx curl openssl jq

make_cert "$NGINX_DIR" deetune-test-a
start_nginx https "$PORT_A"
WWW_A=$WWW
NGINX_DIR=$WORK/nginx-b
ACCESS_LOG=$NGINX_DIR/access.log
WWW=$NGINX_DIR/www
# the second instance has the same certificate: one CA file verifies both
mkdir -p "$NGINX_DIR"
cp "$WORK/nginx/cert.pem" "$WORK/nginx/key.pem" "$NGINX_DIR/"
start_nginx https "$PORT_B"
cp -a "$WWW_A/." "$WWW/"
make_cert "$WORK/other" deetune-test-other

start_record tls --server "port:$PORT_A" -o "$WORK/s.dtsess"
base=https://127.0.0.1:$PORT_A
curl -sSf --cacert "$WORK/nginx/cert.pem" -H 'Accept-Encoding: gzip' \
	-o /dev/null "$base/index.html" \
	-o /dev/null "$base/api/orders/12.json" \
	-o /dev/null "$base/api/orders/13.json?page=2" \
	-o /dev/null "$base/static/256k.bin" ||
	fail "curl over TLS failed"
curl -sS --cacert "$WORK/nginx/cert.pem" -o /dev/null "$base/not-here"
curl -sSf --cacert "$WORK/nginx/cert.pem" -o /dev/null \
	--data-binary '{"order":12}' -H 'Content-Type: application/json' \
	"$base/submit"
sleep 0.5
stop_record
cat_session "$WORK/s.dtsess" "$WORK/s.jsonl"
[ "$(count_lines "$WORK/s.jsonl")" -eq 6 ] ||
	fail "recorded $(count_lines "$WORK/s.jsonl") exchanges, want 6"
[ "$(jq -c '.flags' "$WORK/s.jsonl" | sort -u)" = '["tls"]' ] ||
	fail "exchanges not flagged tls: $(jq -c .flags "$WORK/s.jsonl")"

# diff_same NAME: the replay NAME.dtsess compares equal to the recording
diff_same()
{
	local rc=0
	"$DEETUNE" diff "$WORK/s.dtsess" "$WORK/$1.dtsess" >"$WORK/$1.diff" \
		2>&1 || rc=$?
	assert_no_sanitizer "$WORK/$1.diff"
	[ "$rc" -eq 0 ] || fail "diff of $1 exited $rc:"$'\n'"$(cat "$WORK/$1.diff")"
	grep -q '6 exchanges: 6 same' "$WORK/$1.diff" ||
		fail "diff of $1: $(cat "$WORK/$1.diff")"
}

target=https://127.0.0.1:$PORT_B
access_mark
replay cacert "$WORK/s.dtsess" --target "$target" \
	--cacert "$WORK/nginx/cert.pem" -o "$WORK/cacert.dtsess"
[ "$RC" -eq 0 ] || fail "replay --cacert exited $RC: $(cat "$WORK/cacert.err")"
diff_same cacert
# the requests went to the second nginx, over TLS
[ "$(access_since | wc -l)" -eq 6 ] ||
	fail "the second nginx logged $(access_since | wc -l) requests, want 6"

replay insecure "$WORK/s.dtsess" --target "$target" --insecure \
	-o "$WORK/insecure.dtsess"
[ "$RC" -eq 0 ] || fail "replay --insecure exited $RC: $(cat "$WORK/insecure.err")"
diff_same insecure

# The wrong CA: no request gets through; each says why.
replay wrongca "$WORK/s.dtsess" --target "$target" \
	--cacert "$WORK/other/cert.pem" -o "$WORK/wrongca.dtsess"
[ "$RC" -eq 2 ] || fail "replay with the wrong CA exited $RC, want 2:"$'\n'"$(cat "$WORK/wrongca.err")"
grep -q "^deetune replay: https://127.0.0.1:$PORT_B: cannot connect: SSL certificate problem" \
	"$WORK/wrongca.err" ||
	fail "no certificate error on stderr: $(cat "$WORK/wrongca.err")"
cat_session "$WORK/wrongca.dtsess" "$WORK/wrongca.jsonl"
[ "$(count_lines "$WORK/wrongca.jsonl")" -eq 6 ] ||
	fail "wrong CA: $(count_lines "$WORK/wrongca.jsonl") exchanges written"
bad=$(jq -c 'select((.flags | index("no-response")) == null or
		    (.attrs["replay.error"] | test("certificate|unreachable")
		     | not))' "$WORK/wrongca.jsonl")
[ -z "$bad" ] || fail "wrong CA: exchanges without the error: $bad"
jq -e -s 'map(.attrs["replay.error"]) | any(test("certificate"))' \
	"$WORK/wrongca.jsonl" >/dev/null ||
	fail "no exchange names the certificate problem"
rc=0
"$DEETUNE" diff "$WORK/s.dtsess" "$WORK/wrongca.dtsess" >"$WORK/wrongca.diff" \
	2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "diff of the failed replay exited $rc"

# --cacert wants a readable file and an https target
replay nofile "$WORK/s.dtsess" --target "$target" \
	--cacert "$WORK/missing.pem" -o "$WORK/x.dtsess"
if [ "$RC" -ne 2 ] || ! grep -q 'missing.pem' "$WORK/nofile.err"; then
	fail "--cacert of a missing file: $RC $(cat "$WORK/nofile.err")"
fi
replay plain "$WORK/s.dtsess" --target "http://127.0.0.1:$PORT_B" \
	--insecure -o "$WORK/x.dtsess"
[ "$RC" -eq 2 ] || fail "--insecure with an http target exited $RC"
echo "HTTPS: replayed with --cacert and --insecure, wrong CA refused"
