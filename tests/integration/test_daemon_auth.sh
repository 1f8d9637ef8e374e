#!/bin/bash
# Who may talk to the daemon: root and members of its group (--group).
# A user outside the group is refused twice over: by the socket's mode
# (0660 root:GROUP, so connect() fails) and, with the socket opened to
# everyone, by the daemon itself (SO_PEERCRED). A member starts, shows,
# lists and stops a task, and the daemon writes the member's file as the
# member: where the member cannot write, neither does the daemon.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

PORT=19411
require_root_bpf
need_cmd useradd userdel groupadd groupdel setpriv jq stat

# --- a group, a member and an outsider, removed at exit -----------------

tag=$$
GROUP=dtgrp$tag
MEMBER=dtmem$tag
OUTSIDER=dtout$tag
groupadd --system "$GROUP" || fail "groupadd $GROUP failed"
on_exit "groupdel $GROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -G "$GROUP" \
	"$MEMBER" || fail "useradd $MEMBER failed"
on_exit "userdel $MEMBER"
useradd --system --no-create-home --shell /usr/sbin/nologin "$OUTSIDER" ||
	fail "useradd $OUTSIDER failed"
on_exit "userdel $OUTSIDER"
OUTSIDER_UID=$(id -u "$OUTSIDER")
MEMBER_UID=$(id -u "$MEMBER")

# as USER CMD...: runs CMD with USER's uid, primary and supplementary
# groups, from /, keeping the environment (DEETUNE_SOCKET).
as()
{
	local user=$1
	shift
	(cd / && setpriv --reuid="$user" --regid="$(id -g "$user")" \
		--init-groups "$@")
}

# The scratch directory is root's alone; the socket and the member's
# output need a place the users can reach.
PUB=$(mktemp -d /tmp/deetune-auth.XXXXXX)
on_exit "rm -rf $PUB"
chmod 0755 "$PUB"
mkdir -m 0700 "$PUB/member-out"
chown "$MEMBER" "$PUB/member-out"
mkdir -m 0700 "$PUB/root-only"

DAEMON_SOCKET=$PUB/run/deetune.sock
mkdir -m 0755 "$PUB/run"
start_daemon auth --group "$GROUP"
perm=$(stat -c '%a %U:%G' "$DAEMON_SOCKET")
[ "$perm" = "660 root:$GROUP" ] || fail "socket is $perm, not 660 root:$GROUP"

# expect_refused WHAT RC_FILE MESSAGE: the outsider's command (output in
# $WORK/out.err) exited 2 with MESSAGE.
expect_refused()
{
	local what=$1 rc=$2 msg=$3
	[ "$rc" -eq 2 ] ||
		fail "$what: outsider got exit $rc:"$'\n'"$(cat "$WORK/out.err")"
	grep -qF "$msg" "$WORK/out.err" ||
		fail "$what: outsider's message:"$'\n'"$(cat "$WORK/out.err")" \
			$'\n'"expected: $msg"
	echo "$what: $(cat "$WORK/out.err")"
}

echo "== the outsider cannot connect to the 0660 socket"
rc=0
as "$OUTSIDER" "$DEETUNE" task list >"$WORK/out.out" 2>"$WORK/out.err" || rc=$?
expect_refused "socket mode" "$rc" \
	"deetune task: permission denied on $DAEMON_SOCKET: needs root or membership of the daemon's group"

echo "== with the socket open to all, the daemon refuses the outsider"
chmod 0666 "$DAEMON_SOCKET"
chmod 0755 "$(dirname "$DAEMON_SOCKET")"
for cmd in "task list" "task show 1" \
	"task start --server port:$PORT -o /tmp/deetune-auth-$tag.dtsess"; do
	rc=0
	# shellcheck disable=SC2086 # words of the command
	as "$OUTSIDER" "$DEETUNE" $cmd >"$WORK/out.out" 2>"$WORK/out.err" || rc=$?
	expect_refused "$cmd" "$rc" \
		"deetune task: permission denied: uid $OUTSIDER_UID is neither root nor in group $GROUP"
	[ ! -s "$WORK/out.out" ] || fail "$cmd: outsider got output"
done
[ ! -e "/tmp/deetune-auth-$tag.dtsess" ] ||
	fail "the refused start created its file"
[ "$(task list --json | jq length)" -eq 0 ] ||
	fail "a refused request made a task: $(task list --json)"
chmod 0660 "$DAEMON_SOCKET"

echo "== a member of the group is served, and writes as itself"
id=$(as "$MEMBER" "$DEETUNE" task start --server "port:$PORT" \
	-o "$PUB/member-out/m.dtsess") || fail "member: task start failed"
[[ "$id" =~ ^[0-9]+$ ]] || fail "member: task start printed '$id'"
as "$MEMBER" "$DEETUNE" task list >"$WORK/member.list" ||
	fail "member: task list failed"
grep -Eq "^$id +running " "$WORK/member.list" ||
	fail "member: task list:"$'\n'"$(cat "$WORK/member.list")"
as "$MEMBER" "$DEETUNE" task show "$id" >"$WORK/member.show" ||
	fail "member: task show failed"
grep -q "^owner uid: *$MEMBER_UID\$" "$WORK/member.show" ||
	fail "member: task show:"$'\n'"$(cat "$WORK/member.show")"
as "$MEMBER" "$DEETUNE" task stop "$id" >"$WORK/member.stop" ||
	fail "member: task stop failed"
grep -q "^task $id: stopped " "$WORK/member.stop" ||
	fail "member: task stop printed: $(cat "$WORK/member.stop")"
owner=$(stat -c '%U %a' "$PUB/member-out/m.dtsess")
[ "$owner" = "$MEMBER 640" ] || fail "the member's file is $owner, not $MEMBER 640"
as "$MEMBER" "$DEETUNE" inspect "$PUB/member-out/m.dtsess" >/dev/null ||
	fail "member cannot read its own session"

echo "== the daemon does not write where the member cannot"
rc=0
as "$MEMBER" "$DEETUNE" task start --server "port:$PORT" \
	-o "$PUB/root-only/m.dtsess" >"$WORK/out.out" 2>"$WORK/out.err" || rc=$?
[ "$rc" -eq 2 ] ||
	fail "member writing into root's directory: exit $rc:"$'\n'"$(cat "$WORK/out.err")"
grep -q '^deetune task: .*root-only/m.dtsess' "$WORK/out.err" ||
	fail "member writing into root's directory: $(cat "$WORK/out.err")"
[ ! -e "$PUB/root-only/m.dtsess" ] || fail "the daemon created the file anyway"
echo "member refused: $(cat "$WORK/out.err")"

echo "== root is served"
id=$(start_task --server "port:$PORT" -o "$PUB/root-only/r.dtsess")
assert_task_state "$id" running
task stop "$id" | grep -q "^task $id: stopped " || fail "root: task stop"
assert_task_state "$id" stopped
[ "$(stat -c '%U' "$PUB/root-only/r.dtsess")" = root ] ||
	fail "root's file is not root's"
# Stopping an ended task changes nothing.
task stop "$id" >/dev/null || fail "stopping a stopped task failed"
assert_task_state "$id" stopped

echo "== errors the client reports"
rc=0
task show 999 2>"$WORK/err" || rc=$?
{ [ "$rc" -eq 2 ] && [ -s "$WORK/err" ]; } || fail "show 999: exit $rc"
echo "show 999: $(cat "$WORK/err")"
rc=0
task start --server port:x -o "$WORK/x.dtsess" 2>"$WORK/err" || rc=$?
{ [ "$rc" -eq 2 ] && grep -q "port:x" "$WORK/err"; } ||
	fail "bad selector: exit $rc"
rc=0
task --socket "$PUB/no-such.sock" list 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "no daemon: exit $rc"
grep -qF "deetune task: no daemon listening on $PUB/no-such.sock (start it with \`deetune daemon\`)" \
	"$WORK/err" || fail "no daemon: $(cat "$WORK/err")"
stop_daemon
echo ok
