#!/bin/bash
# `deetune task` on its own (no root, no BPF, no daemon needed): help,
# usage errors found before anything is sent, the socket chosen by
# --socket (before or after the subcommand) and DEETUNE_SOCKET, and a
# clear message with exit 2 for each way of not getting an answer: no
# socket, nobody listening, a peer that hangs up or answers garbage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_cmd python3

# expect RC MESSAGE ARGS...: `deetune task ARGS...` exits RC and its
# stderr holds MESSAGE (a fixed string); stdout is empty unless RC is 0.
expect()
{
	local want=$1 msg=$2 rc=0
	shift 2
	"$DEETUNE" task "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	assert_no_sanitizer "$WORK/err"
	[ "$rc" -eq "$want" ] ||
		fail "task $*: exit $rc, expected $want:"$'\n'"$(cat "$WORK/err")"
	[ -z "$msg" ] || grep -qF -- "$msg" "$WORK/err" ||
		fail "task $*: stderr lacks '$msg':"$'\n'"$(cat "$WORK/err")"
	[ "$want" -eq 0 ] || [ ! -s "$WORK/out" ] ||
		fail "task $*: output on failure: $(cat "$WORK/out")"
}

echo "== help"
expect 0 "" --help
grep -q '^usage: deetune task ' "$WORK/out" || fail "task --help: $(cat "$WORK/out")"
for sub in start list show stop wait; do
	expect 0 "" "$sub" --help
	grep -q "^usage: deetune task $sub" "$WORK/out" ||
		fail "task $sub --help: $(cat "$WORK/out")"
done
expect 2 "usage: deetune task"
expect 2 "'frobnicate' is not a task subcommand" frobnicate

echo "== usage errors, caught before connecting"
export DEETUNE_SOCKET=$WORK/none.sock
expect 2 "--server and -o are required" start -o x.dtsess
expect 2 "--server and -o are required" start --server port:80
expect 2 "port:x" start --server port:x -o x.dtsess
expect 2 "" start --server port:80 --client bogus:1 -o x.dtsess
expect 2 "--match" start --server port:80 --match '' -o x.dtsess
expect 2 "invalid duration 'soon'" start --server port:80 -d soon -o x.dtsess
expect 2 "invalid count '0'" start --server port:80 -n 0 -o x.dtsess
expect 2 "invalid size '5X'" start --server port:80 --max-bytes 5X -o x.dtsess
expect 2 "invalid size '99999999999T'" start --server port:80 \
	--max-bytes 99999999999T -o x.dtsess
expect 2 "--sample must be" start --server port:80 --sample 1.5 -o x.dtsess
expect 2 "--sample must be" start --server port:80 --sample 0 -o x.dtsess
expect 2 "unrecognized option '--bogus'" list --bogus
expect 2 "unexpected argument 'x'" list x
expect 2 "usage: deetune task show" show
expect 2 "invalid task id 'abc'" show abc
expect 2 "invalid task id '0'" stop 0
expect 2 "unexpected argument '2'" wait 1 2
expect 2 "invalid duration '-1'" wait --timeout -1 1
expect 2 "--timeout is for \`task wait\` only" show --timeout 1s 1

echo "== which socket, and nobody there"
none="no daemon listening on $WORK/none.sock (start it with \`deetune daemon\`)"
expect 2 "deetune task: $none" list
expect 2 "deetune task: $none" start --server port:80 -o x.dtsess
expect 2 "no daemon listening on $WORK/a.sock" --socket "$WORK/a.sock" list
expect 2 "no daemon listening on $WORK/b.sock" --socket="$WORK/b.sock" show 1
expect 2 "no daemon listening on $WORK/c.sock" wait 1 --socket "$WORK/c.sock"
: >"$WORK/file.sock"
expect 2 "no daemon listening on $WORK/file.sock" --socket "$WORK/file.sock" list
expect 2 "socket path too long" --socket "$WORK/$(printf 'x%.0s' {1..120})" list

# fake_peer MODE PATH: a Unix socket at PATH that, for each connection,
# hangs up at once ("close"), answers a line that is not JSON
# ("garbage"), or binds without listening ("nolisten").
fake_peer()
{
	python3 - "$@" <<'EOF' &
import os, socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
if mode == "nolisten":
    time.sleep(60)
s.listen(4)
while True:
    c, _ = s.accept()
    if mode == "garbage":
        c.recv(65536)
        c.sendall(b"hello\n")
    c.close()
EOF
	on_exit "kill_wait $!"
	for ((i = 0; i < 50; i++)); do
		[ -S "$2" ] && return 0
		sleep 0.1
	done
	fail "the fake peer did not bind $2"
}
fake_peer nolisten "$WORK/nolisten.sock"
expect 2 "no daemon listening on $WORK/nolisten.sock" \
	--socket "$WORK/nolisten.sock" list
fake_peer close "$WORK/close.sock"
expect 2 "the daemon on $WORK/close.sock closed the connection without answering" \
	--socket "$WORK/close.sock" list
fake_peer garbage "$WORK/garbage.sock"
expect 2 "the daemon on $WORK/garbage.sock sent a malformed response" \
	--socket "$WORK/garbage.sock" show 1
echo ok
