#!/bin/bash
# gRPC replay and diff (issue 10, criterion 3): a python3-grpcio server
# answers a unary call, a server-streaming call of three replies and a
# call failing with NOT_FOUND; the recording is replayed over HTTP/2
# against a second instance of the same server (no difference, exit 0)
# and against one whose unary reply differs in exactly one protobuf field
# (the diff names that field and nothing else, exit 1); then over TLS to
# an instance serving gRPC with a certificate made here (HTTP/2 negotiated
# with ALPN, --cacert), no difference. The replayed
# exchanges are stored as the recorder stores them: trailers, grpc-status
# and grpc-message included.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_REC=19900
PORT_SAME=19901
PORT_CHANGED=19902
PORT_TLS=19903
# Debian's python3-grpcio: a python3 earlier on PATH may lack it
PY=/usr/bin/python3
APP=$LIB_DIR/grpc_app.py
require_root_bpf
need_cmd jq openssl "$PY"
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"

# start_server NAME PORT [changed]
start_server()
{
	local name=$1 port=$2 pid i
	require_free_port "$port"
	"$PY" "$APP" serve "$port" "${@:3}" >"$WORK/$name.log" 2>&1 &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; i < 100; i++)); do
		grep -q serving "$WORK/$name.log" && return 0
		kill -0 "$pid" 2>/dev/null ||
			fail "gRPC server $name exited: $(cat "$WORK/$name.log")"
		sleep 0.1
	done
	fail "gRPC server $name did not start"
}

start_server rec "$PORT_REC"
start_server same "$PORT_SAME"
start_server changed "$PORT_CHANGED" changed
make_cert "$WORK/tls" deetune-grpc-test
start_server tls "$PORT_TLS" "tls=$WORK/tls"

start_record grpc --server port:"$PORT_REC" -o grpc.dtsess
must "$PY" "$APP" call "$PORT_REC"
stop_record
[ "$(recorded_count)" -eq 3 ] ||
	fail "recorded $(recorded_count) exchanges, want 3"

# An identical server: every call the same, exit 0.
replay same grpc.dtsess --target "http://127.0.0.1:$PORT_SAME" \
	-o same.dtsess
[ "$RC" -eq 0 ] || fail "replay exited $RC: $(cat same.err)"
"$DEETUNE" cat same.dtsess >same.jsonl
# in the recorded order (replies are written as they come)
got=$(jq -sc 'sort_by(.link_id)[] | [.protocol, .request.grpc.method,
	      .response.status, .attrs["grpc.status"], .attrs["grpc.message"],
	      .response.trailers["grpc-status"],
	      [.response.grpc.messages[].len]]' same.jsonl | tr '\n' ' ')
want='["http2","SayHello",200,"0",null,"0",[13]] ["http2","ListHellos",200,"0",null,"0",[16,16,16]] ["http2","Fail",200,"5","no greeting for ünknown",null,[]] '
[ "$got" = "$want" ] || fail "replayed exchanges: got $got"$'\n'"want $want"
rc=0
"$DEETUNE" diff grpc.dtsess same.dtsess >same.diff 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "diff against an identical server exited $rc:"$'\n'"$(cat same.diff)"
assert_no_sanitizer same.diff
grep -q '3 exchanges: 3 same' same.diff || fail "$(cat same.diff)"

# One field of the unary reply differs: exactly that field is named.
replay changed grpc.dtsess --target "http://127.0.0.1:$PORT_CHANGED" \
	-o changed.dtsess
[ "$RC" -eq 0 ] || fail "replay exited $RC: $(cat changed.err)"
rc=0
"$DEETUNE" diff --json changed.json grpc.dtsess changed.dtsess \
	>changed.diff 2>&1 || rc=$?
assert_no_sanitizer changed.diff
[ "$rc" -eq 1 ] || fail "diff exited $rc, want 1:"$'\n'"$(cat changed.diff)"
got=$(jq -c '[.endpoints[].exchanges[]? | select(.outcome != "same") |
	      [.request, .outcome, .differences, .noise,
	       [.items[] | [.field, .expected, .actual, .noise]]]]' changed.json)
want='[["POST /deetune.test.Greeter/SayHello","differ",1,0,[["grpc.message[0].2","1","2",false]]]]'
[ "$got" = "$want" ] || fail "differences: got $got"$'\n'"want $want"$'\n'"$(cat changed.diff)"

# The rules explain it by its name.
printf '{"ignore": ["grpc.message[[]*].2"]}\n' >rules.json
rc=0
"$DEETUNE" diff --rules rules.json grpc.dtsess changed.dtsess \
	>rules.diff 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "diff with the field ignored exited $rc:"$'\n'"$(cat rules.diff)"
# Over TLS: ALPN h2, the certificate verified with the test's CA.
replay tls grpc.dtsess --target "https://127.0.0.1:$PORT_TLS" \
	--cacert "$WORK/tls/cert.pem" -o tls.dtsess
[ "$RC" -eq 0 ] || fail "replay over TLS exited $RC: $(cat tls.err)"
[ "$("$DEETUNE" cat tls.dtsess | jq -r '.request.scheme' | sort -u)" = https ] ||
	fail "not replayed over https"
rc=0
"$DEETUNE" diff grpc.dtsess tls.dtsess >tls.diff 2>&1 || rc=$?
assert_no_sanitizer tls.diff
[ "$rc" -eq 0 ] || fail "diff of the TLS replay exited $rc:"$'\n'"$(cat tls.diff)"
echo "gRPC: replayed over HTTP/2 (h2c and TLS), diff names grpc.message[0].2 and only it"
