#!/bin/bash
# deetune diff's command line and bad input: usage errors, unreadable or
# damaged files, bad rules files, unwritable reports. Each exits 2 with a
# message naming what is wrong, and nothing crashes. Needs no root: no
# session is valid here, every run stops at the first bad input.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# expect_diff RC MESSAGE ARGS...: deetune diff ARGS exits RC and prints
# MESSAGE (a grep -F pattern) on stderr.
expect_diff()
{
	local want=$1 msg=$2 rc=0
	shift 2
	"$DEETUNE" diff "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	assert_no_sanitizer "$WORK/err"
	[ "$rc" = "$want" ] ||
		fail "diff $* exited $rc, not $want:"$'\n'"$(cat "$WORK/err")"
	grep -qF -- "$msg" "$WORK/err" ||
		fail "diff $*: no '$msg' in:"$'\n'"$(cat "$WORK/err")"
}

"$DEETUNE" diff --help >"$WORK/help" || fail "diff --help failed"
grep -q '^usage: deetune diff \[options\] RECORDED REPLAYED' "$WORK/help" ||
	fail "diff --help prints no usage"

expect_diff 2 "expected RECORDED and REPLAYED, got 0 arguments"
expect_diff 2 "expected RECORDED and REPLAYED, got 3 arguments" a b c
expect_diff 2 "unrecognized option '--bogus'" --bogus a b
expect_diff 2 "option '--rules' requires an argument" a b --rules
expect_diff 2 "--json and --junit cannot both go to standard output" \
	--json - --junit - a b

expect_diff 2 "deetune diff: cannot read $WORK/none.dtsess: No such file" \
	"$WORK/none.dtsess" "$WORK/none.dtsess"
expect_diff 2 "cannot read $WORK: Is a directory" "$WORK" "$WORK"
printf 'not a session file at all\n' >"$WORK/junk"
expect_diff 2 "deetune diff: $WORK/junk: " "$WORK/junk" "$WORK/junk"
: >"$WORK/empty"
expect_diff 2 "deetune diff: $WORK/empty: " "$WORK/empty" "$WORK/empty"
expect_diff 2 "deetune diff: $WORK/junk: " --learn-noise "$WORK/junk" \
	"$WORK/junk" "$WORK/junk"

# rules files: JSON errors with line and column, others by entry
printf '{\n  "ignore": [\n    "$.a",\n  ]\n}\n' >"$WORK/syntax.json"
expect_diff 2 "$WORK/syntax.json: 4:3: unexpected token near ']'" \
	--rules "$WORK/syntax.json" "$WORK/junk" "$WORK/junk"
printf '{"ignroe": ["$.a"]}' >"$WORK/typo.json"
expect_diff 2 "$WORK/typo.json: ignroe: unknown key \"ignroe\"" \
	--rules "$WORK/typo.json" "$WORK/junk" "$WORK/junk"
printf '{"normalize": [{"regex": "a++", "replace": ""}]}' >"$WORK/re.json"
expect_diff 2 "normalize[0]: \"regex\": a quantifier follows a quantifier" \
	--rules "$WORK/re.json" "$WORK/junk" "$WORK/junk"
printf '{"endpoints": [{"match": "GET *", "ignore": ["$.a["]}]}' \
	>"$WORK/path.json"
expect_diff 2 "endpoints[0].ignore: '\$.a[': unterminated '['" \
	--rules "$WORK/path.json" "$WORK/junk" "$WORK/junk"
expect_diff 2 "cannot read $WORK/nothere.json" \
	--rules "$WORK/nothere.json" "$WORK/junk" "$WORK/junk"
head -c $((5 << 20)) /dev/zero >"$WORK/big.json"
expect_diff 2 "cannot read $WORK/big.json: larger than 4 MiB" \
	--rules "$WORK/big.json" "$WORK/junk" "$WORK/junk"

echo "diff: usage and bad input give exit 2 with clear messages"
