#!/bin/bash
# gRPC field names: `deetune cat --proto-descriptors SET` names the
# protobuf fields of requests by the method's input type and of responses
# by its output type, with SET made by protoc from a .proto written here.
# The calls are those of test_grpc.sh (tests/integration/grpc_app.py):
# unary, server-streaming and failing. HelloReply leaves out `index` so
# that a field the descriptor set does not declare keeps its number only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=19960
# Debian's python3-grpcio: a python3 earlier on PATH may lack it
PY=/usr/bin/python3
APP=$(dirname "$0")/grpc_app.py
require_root_bpf
need_cmd jq protoc "$PY"
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
require_free_port "$PORT"

cat >"$WORK/greeter.proto" <<'PROTO'
syntax = "proto3";
package deetune.test;

message HelloRequest {
  string name = 1;
  int32 count = 2;
}

message HelloReply {
  string text = 1;
}

service Greeter {
  rpc SayHello(HelloRequest) returns (HelloReply);
  rpc ListHellos(HelloRequest) returns (stream HelloReply);
  rpc Fail(HelloRequest) returns (HelloReply);
}
PROTO
must protoc --proto_path="$WORK" --descriptor_set_out="$WORK/greeter.pb" \
	--include_imports "$WORK/greeter.proto"

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
"$DEETUNE" cat --proto-descriptors "$WORK/greeter.pb" grpc.dtsess \
	>named.jsonl 2>cat.stderr || fail "cat failed: $(cat cat.stderr)"
assert_no_sanitizer cat.stderr

check()
{
	local what=$1 filter=$2 want=$3 got
	got=$(jq -c "$filter" named.jsonl | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$what: got $got"$'\n'"want $want"
}

check "request fields" \
	'.request.grpc.messages[0].fields | map([.name, .field, (.string // .value)])' \
	'[["name",1,"ada"],["count",2,0]] [["name",1,"bob"],["count",2,3]] [["name",1,"x"],["count",2,0]] '
check "streamed reply fields, index undeclared" \
	'select(.request.grpc.method == "ListHellos") |
	 [.response.grpc.messages[].fields | map([.name, .field])]' \
	'[[["text",1],[null,2]],[["text",1],[null,2]],[["text",1],[null,2]]] '
check "unary reply" \
	'select(.request.grpc.method == "SayHello") |
	 .response.grpc.messages[0].fields[0] | [.name, .string]' \
	'["text","hello ada"] '

# without the set, or with a set that does not declare the service, the
# fields keep their numbers only
"$DEETUNE" cat grpc.dtsess >plain.jsonl
[ "$(jq -c '[.. | objects | select(has("name") and has("wire"))] | length' \
	plain.jsonl | tr '\n' ' ')" = "0 0 0 " ] ||
	fail "fields named without a descriptor set"
sed 's/package deetune.test;/package other;/' "$WORK/greeter.proto" \
	>"$WORK/other.proto"
must protoc --proto_path="$WORK" --descriptor_set_out="$WORK/other.pb" \
	"$WORK/other.proto"
"$DEETUNE" cat --proto-descriptors "$WORK/other.pb" grpc.dtsess >other.jsonl
cmp -s plain.jsonl other.jsonl ||
	fail "a set without the service changed the output"

# a file that is not a descriptor set is refused before any output
rc=0
"$DEETUNE" cat --proto-descriptors "$WORK/greeter.proto" grpc.dtsess \
	>bad.out 2>bad.err || rc=$?
if [ "$rc" -ne 2 ] || [ -s bad.out ] || ! grep -q 'greeter.proto' bad.err; then
	fail "a .proto as descriptor set: exit $rc, $(cat bad.err)"
fi
echo "gRPC: fields named from a descriptor set in requests and responses"
