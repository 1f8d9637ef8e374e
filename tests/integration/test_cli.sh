#!/bin/bash
# The command line contract: help and usage, exit code 2 for usage errors
# (checked before anything needs root or BPF), and man pages that render
# without warnings. Runs unprivileged.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd groff

# run EXPECTED_RC ARGS...: runs deetune, checks the exit code, keeps the
# output in $WORK/out and $WORK/err.
run()
{
	local want=$1 rc=0
	shift
	timeout 20 "$DEETUNE" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "deetune $*: exit $rc, expected $want:"$'\n'"$(cat "$WORK/out" "$WORK/err")"
	assert_no_sanitizer "$WORK/err"
}

# Subcommands as listed by `deetune --help` (two-space indented lines).
run 0 --help
grep -qi '^usage: deetune' "$WORK/out" || fail "--help: no usage line"
mapfile -t commands < <(sed -n 's/^  \([a-z][a-z-]*\)  *[^ ].*/\1/p' "$WORK/out")
[ "${#commands[@]}" -ge 3 ] ||
	fail "--help lists ${#commands[@]} commands:"$'\n'"$(cat "$WORK/out")"
for c in record cat inspect; do
	printf '%s\n' "${commands[@]}" | grep -qx "$c" ||
		fail "--help does not list $c"
done

run 0 --version
grep -qx "deetune $(cat "$REPO_DIR/VERSION")" "$WORK/out" ||
	fail "--version printed '$(cat "$WORK/out")'"

run 2
grep -qi usage "$WORK/err" || fail "no arguments: no usage on stderr"
run 2 no-such-command
[ -s "$WORK/err" ] || fail "unknown command: no message"
run 2 --no-such-option
[ -s "$WORK/err" ] || fail "unknown option: no message"

for c in "${commands[@]}"; do
	run 0 "$c" --help
	grep -qi "usage: deetune $c" "$WORK/out" ||
		fail "deetune $c --help prints no usage:"$'\n'"$(cat "$WORK/out")"
	run 2 "$c" --no-such-option
	[ -s "$WORK/err" ] || fail "deetune $c --no-such-option: no message"
done

# record: missing or bad arguments are usage errors, whoever runs it.
run 2 record -o "$WORK/x.dtsess"
grep -q -- --server "$WORK/err" ||
	fail "record without --server does not say what is missing: $(cat "$WORK/err")"
run 2 record --server port:18599
grep -Eq -- '-o|output' "$WORK/err" ||
	fail "record without -o does not say what is missing: $(cat "$WORK/err")"
for sel in foo:1 port: port:0 port:70000 port:http pid:abc addr:1.2.3.4 \
	addr:localhost:80 comm: ''; do
	run 2 record --server "$sel" -o "$WORK/x.dtsess"
	[ -s "$WORK/err" ] || fail "bad selector '$sel': no message"
done
for d in -1s 10x 1.5.s s ''; do
	run 2 record --server port:18599 --duration "$d" -o "$WORK/x.dtsess"
done
for n in -5 abc 5x ''; do
	run 2 record --server port:18599 --count "$n" -o "$WORK/x.dtsess"
done
[ ! -e "$WORK/x.dtsess" ] || fail "a rejected record command created its output"

run 2 cat
run 2 inspect
run 2 cat a.dtsess b.dtsess

# Man pages: deetune(1), one per subcommand (section 1, section 8 for the
# daemon), deetune-session(5); each renders without a single warning.
MAN=$REPO_DIR/man
for page in deetune.1 deetune-session.5; do
	[ -f "$MAN/$page" ] || fail "man/$page is missing"
done
for c in "${commands[@]}"; do
	[ -f "$MAN/deetune-$c.1" ] || [ -f "$MAN/deetune-$c.8" ] ||
		fail "man/deetune-$c.1 is missing"
done
for page in "$MAN"/*.[0-9]; do
	warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	[ -z "$warnings" ] ||
		fail "$(basename "$page") renders with warnings:"$'\n'"$warnings"
done
echo ok
