#!/bin/bash
# nginx with `sendfile on`: static file bodies never pass through user
# memory, so the recorder cannot see them. Such exchanges must be flagged
# "sendfile" and "incomplete" and hold only what was really captured (a
# proper prefix of the response), never look complete; responses nginx
# builds in memory on the same connections stay complete and byte-exact,
# and every request is still recorded once.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18401
require_root_bpf
need_cmd nginx curl python3 jq

start_nginx sendfile "$PORT" on
access_mark
start_record sendfile --server "port:$PORT" -o "$WORK/s.dtsess"

must python3 "$LIB_DIR/http_client.py" "$PORT" "$WWW" "$WORK/client" sendfile
base=http://127.0.0.1:$PORT
curl -sS -o /dev/null "$base/static/small.txt" -o /dev/null "$base/inline" \
	-o /dev/null "$base/static/256k.bin"
curl -sS -o "$WORK/256k.copy" "$base/static/256k.bin"
cmp -s "$WORK/256k.copy" "$WWW/static/256k.bin" ||
	fail "nginx served a different /static/256k.bin"

sleep 1
stop_record
access_since >"$WORK/access.log"
cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
must python3 "$LIB_DIR/check_session.py" --cat "$WORK/cat.jsonl" \
	--access "$WORK/access.log" --port "$PORT" --capture "$WORK/client" \
	--sendfile-prefix /static/

# The 256 KiB answers are the interesting ones: well past any chunk size.
big=$(jq -c 'select(.request.path == "/static/256k.bin" and
	.request.method == "GET")' "$WORK/cat.jsonl")
[ "$(jq -s length <<<"$big")" = 4 ] || fail "expected 4 GETs of /static/256k.bin"
jq -e -s 'all(.response.len < 262144)' <<<"$big" >/dev/null ||
	fail "a sendfile response is stored with its body: $(jq -c \
		'{flags, len: .response.len}' <<<"$big")"

# inspect counts the flags.
sendfiles=$(jq -s 'map(select(.flags | index("sendfile"))) | length' \
	"$WORK/cat.jsonl")
"$DEETUNE" inspect "$WORK/s.dtsess" >"$WORK/inspect.out" ||
	fail "deetune inspect failed"
grep -Eq "^flags: .*sendfile $sendfiles(,|$)" "$WORK/inspect.out" ||
	fail "inspect does not count $sendfiles sendfile exchanges:" \
		$'\n'"$(cat "$WORK/inspect.out")"
echo ok
