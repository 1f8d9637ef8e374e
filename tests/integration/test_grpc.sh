#!/bin/bash
# gRPC: a python3-grpcio server and client (tests/integration/grpc_app.py)
# make a unary call, a server-streaming call of three replies and a call
# failing with NOT_FOUND and a message. Each call is one exchange; `cat`
# shows the service and method, the status, the message sizes and the
# protobuf fields decoded without a schema.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=19801
# Debian's python3-grpcio: a python3 earlier on PATH may lack it
PY=/usr/bin/python3
APP=$(dirname "$0")/grpc_app.py
require_root_bpf
need_cmd jq "$PY"
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
require_free_port "$PORT"

"$PY" "$APP" serve "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill_wait $SERVER_PID"
for ((i = 0; i < 100; i++)); do
	grep -q serving "$WORK/server.log" && break
	kill -0 "$SERVER_PID" 2>/dev/null ||
		fail "gRPC server exited: $(cat "$WORK/server.log")"
	sleep 0.1
done

start_record grpc --server port:"$PORT" -o grpc.dtsess
must "$PY" "$APP" call "$PORT"
stop_record
[ "$(recorded_count)" -eq 3 ] ||
	fail "recorded $(recorded_count) exchanges, want 3"
"$DEETUNE" cat grpc.dtsess >grpc.jsonl

check()
{
	local what=$1 filter=$2 want=$3 got
	got=$(jq -c "$filter" grpc.jsonl | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$what: got $got"$'\n'"want $want"
}

check "protocol, flags, calls" \
	'[.protocol, .flags, .request.grpc.service, .request.grpc.method,
	  .attrs.path, .response.status]' \
	'["http2",[],"deetune.test.Greeter","SayHello","/deetune.test.Greeter/SayHello",200] ["http2",[],"deetune.test.Greeter","ListHellos","/deetune.test.Greeter/ListHellos",200] ["http2",[],"deetune.test.Greeter","Fail","/deetune.test.Greeter/Fail",200] '
check "status" \
	'[.response.grpc.status, .response.grpc.status_name,
	  .response.grpc.message, .attrs["grpc.status"]]' \
	'[0,"OK",null,"0"] [0,"OK",null,"0"] [5,"NOT_FOUND","no greeting for ünknown","5"] '
check "message sizes" \
	'[[.request.grpc.messages[].len], [.response.grpc.messages[].len]]' \
	'[[7],[13]] [[7],[16,16,16]] [[5],[]] '
check "request fields" \
	'.request.grpc.messages[0].fields |
	 map([.field, .wire, (.string // .value)])' \
	'[[1,"len","ada"],[2,"varint",0]] [[1,"len","bob"],[2,"varint",3]] [[1,"len","x"],[2,"varint",0]] '
check "streamed reply fields" \
	'select(.request.grpc.method == "ListHellos") |
	 [.response.grpc.messages[].fields | map(.string // .value)]' \
	'[["hello bob #0",1],["hello bob #1",2],["hello bob #2",3]] '
check "trailers" '.response.trailers["grpc-status"]' '"0" "0" null '
echo "gRPC: unary, server-streaming and failing calls recorded and decoded"
