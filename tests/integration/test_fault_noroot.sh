#!/bin/bash
# Starting the recorder without the privileges BPF needs: as nobody, and
# as root with every capability dropped. Each prints one line saying what
# is missing and exits 2, before creating its output file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=19250
[ "$(id -u)" -eq 0 ] || skip "not root: cannot switch to nobody"
need_cmd setpriv

# nobody must reach the binary (a checkout under /root is private: run a
# copy) and a directory it may write to
OUTDIR=$(mktemp -d /tmp/deetune-noroot.XXXXXX)
on_exit "rm -rf '$OUTDIR'"
chmod 1777 "$OUTDIR"
BIN=$OUTDIR/deetune
install -m 0755 "$(realpath "$DEETUNE")" "$BIN"
setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN" ||
	fail "nobody cannot run $BIN"

# expect_refusal NAME WHY_PATTERN SETPRIV_ARGS...
expect_refusal()
{
	local name=$1 why=$2 rc=0
	shift 2
	setpriv "$@" "$BIN" record --server "port:$PORT" \
		-o "$OUTDIR/$name.dtsess" >"$WORK/$name.out" \
		2>"$WORK/$name.err" || rc=$?
	assert_no_sanitizer "$WORK/$name.err"
	[ "$rc" -eq 2 ] || fail "$name: exit $rc, want 2:"$'\n'"$(cat "$WORK/$name.err")"
	[ "$(wc -l <"$WORK/$name.err")" -eq 1 ] ||
		fail "$name: not one line:"$'\n'"$(cat "$WORK/$name.err")"
	grep -Eq "^deetune record: .*($why)" "$WORK/$name.err" ||
		fail "$name: message does not say what is missing:"$'\n'"$(cat "$WORK/$name.err")"
	[ ! -s "$WORK/$name.out" ] || fail "$name: wrote to stdout"
	[ ! -e "$OUTDIR/$name.dtsess" ] || fail "$name: created its output file"
	echo "$name: $(cat "$WORK/$name.err")"
}

expect_refusal nobody 'needs root|CAP_BPF' \
	--reuid=65534 --regid=65534 --clear-groups
expect_refusal nocaps 'needs root with CAP_BPF' \
	--bounding-set=-all --inh-caps=-all
echo ok
