#!/bin/bash
# deetune diff against real nginx: a session recorded from instance A is
# replayed against instance B, whose content differs in exactly three
# places (a JSON field, a status, an added header). diff must report those
# and nothing else, exit 1, and write JUnit XML that validates and names
# them; replayed against A itself it exits 0. A response carrying a
# timestamp and a random id is noise-only with --learn-noise (two replays)
# or with a rules file, and differs without either.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=19101
PORT_B=19102
require_root_bpf
need_cmd nginx curl jq xmllint
"$DEETUNE" replay --help >/dev/null 2>&1 ||
	fail "this build has no 'deetune replay'"
XSD=$REPO_DIR/fixtures/diff/junit.xsd

# start_site NAME PORT: nginx serving fixtures/diff/NAME.site.in.
start_site()
{
	NGINX_DIR=$WORK/$1
	ACCESS_LOG=$NGINX_DIR/access.log
	start_nginx "../diff/$1" "$2"
}

start_site nginx-a "$PORT_A"
start_site nginx-b "$PORT_B"

# record_requests NAME PATH...: a session of the paths asked of A.
record_requests()
{
	local name=$1 p args=()
	shift
	for p in "$@"; do
		args+=(-o /dev/null "http://127.0.0.1:$PORT_A$p")
	done
	start_record "$name" --server "port:$PORT_A" -o "$WORK/$name.dtsess"
	curl -sS "${args[@]}"
	sleep 1 # let the recorder drain
	stop_record
	[ "$(recorded_count)" = $# ] ||
		fail "$name: recorded $(recorded_count) exchanges, not $#"
}

# replay NAME SESSION PORT: replays SESSION against 127.0.0.1:PORT.
replay()
{
	must "$DEETUNE" replay "$WORK/$2.dtsess" \
		--target "http://127.0.0.1:$3" --speed max --quiet \
		-o "$WORK/$1.dtsess"
}

# run_diff NAME EXPECTED-RC ARGS...: deetune diff ARGS, output in NAME.*
run_diff()
{
	local name=$1 want=$2 rc=0
	shift 2
	"$DEETUNE" diff "$@" --json "$WORK/$name.json" \
		--junit "$WORK/$name.xml" >"$WORK/$name.out" \
		2>"$WORK/$name.err" || rc=$?
	assert_no_sanitizer "$WORK/$name.err"
	[ "$rc" = "$want" ] ||
		fail "diff $name exited $rc, not $want:"$'\n'"$(cat \
			"$WORK/$name.out" "$WORK/$name.err")"
	must xmllint --noout --schema "$XSD" "$WORK/$name.xml"
	jq -e . "$WORK/$name.json" >/dev/null ||
		fail "diff $name: the JSON report does not parse"
}

# --- three known differences ---------------------------------------------

record_requests api /api/items /api/status /api/user /hello.txt \
	/api/items?page=2
replay on-b api "$PORT_B"
replay on-a api "$PORT_A"

run_diff b 1 "$WORK/api.dtsess" "$WORK/on-b.dtsess"
cat "$WORK/b.out"
# exactly the three differences, each unexplained
jq -r '.endpoints[].exchanges[] | .items[] |
	"\(.field) \(.expected) \(.actual) \(.noise)"' "$WORK/b.json" |
	sort >"$WORK/b.items"
cat >"$WORK/b.want" <<'WANT'
$.items[1].price 7 7.5 false
$.items[1].price 7 7.5 false
header.x-extra null "yes" false
status 200 500 false
WANT
diff -u "$WORK/b.want" "$WORK/b.items" ||
	fail "diff reported other differences than the three made"
[ "$(jq -c '.summary' "$WORK/b.json")" = \
	'{"exchanges":5,"same":1,"noise_only":0,"differ":4,"failed":0,"skipped":0,"unmatched_replays":0}' ] ||
	fail "unexpected summary: $(jq -c .summary "$WORK/b.json")"
# the endpoint groups the two /api/items requests, query left out
[ "$(jq -r '.endpoints[] | select(.differ > 0) | "\(.name)=\(.differ)"' \
	"$WORK/b.json" | sort | tr '\n' ' ')" = \
	"GET /api/items=2 GET /api/status=1 GET /api/user=1 " ] ||
	fail "unexpected endpoints: $(jq -c '.endpoints' "$WORK/b.json")"
# JUnit: one testcase per endpoint, a failure per differing exchange,
# naming the differences
xp()
{
	xmllint --xpath "$1" "$WORK/b.xml"
}
[ "$(xp 'count(//testcase)')" = 4 ] || fail "JUnit: not 4 testcases"
[ "$(xp 'count(//failure)')" = 4 ] || fail "JUnit: not 4 failures"
[ "$(xp 'string(/testsuites/@failures)')" = 3 ] ||
	fail "JUnit: not 3 failed testcases"
xp 'string(//testcase[@name="GET /api/status"]/failure/@message)' |
	grep -q 'status: 200 -> 500' || fail "JUnit: status change not named"
xp 'string(//testcase[@name="GET /api/user"]/failure)' |
	grep -q 'header.x-extra: (absent) -> "yes"' ||
	fail "JUnit: added header not named"
[ "$(xp 'count(//testcase[@name="GET /api/items"]/failure[contains(@message, "$.items[1].price: 7 -> 7.5")])')" = 2 ] ||
	fail "JUnit: price change not named"
[ "$(xp 'count(//testcase[@name="GET /hello.txt"]/*[self::failure or self::error])')" = 0 ] ||
	fail "JUnit: /hello.txt is not clean"
# the terminal report says the same
grep -q '^5 exchanges: 1 same, 0 noise-only, 4 differ, 0 failed, 0 skipped$' \
	"$WORK/b.out" || fail "unexpected summary line"

run_diff a 0 "$WORK/api.dtsess" "$WORK/on-a.dtsess"
[ "$(jq .summary.same "$WORK/a.json")" = 5 ] ||
	fail "replayed against A, not all the same"
[ "$(xmllint --xpath 'count(//failure|//error)' "$WORK/a.xml")" = 0 ] ||
	fail "JUnit of a clean diff has failures"

# --- noise: a timestamp and a random id ----------------------------------

record_requests ts /ts /ts /ts
replay ts-1 ts "$PORT_A"
replay ts-2 ts "$PORT_A"

run_diff ts-plain 1 "$WORK/ts.dtsess" "$WORK/ts-1.dtsess"
[ "$(jq .summary.differ "$WORK/ts-plain.json")" = 3 ] ||
	fail "timestamps and ids are not reported without noise rules"

run_diff ts-learn 0 "$WORK/ts.dtsess" "$WORK/ts-1.dtsess" \
	--learn-noise "$WORK/ts-2.dtsess"
[ "$(jq .summary.noise_only "$WORK/ts-learn.json")" = 3 ] ||
	fail "--learn-noise: not noise-only"
[ "$(jq -r '[.endpoints[].exchanges[].items[] | .field + "=" + .explained_by] |
	unique | join(" ")' "$WORK/ts-learn.json")" = \
	'$.id=learned $.t=learned header.x-request-id=learned' ] ||
	fail "--learn-noise: unexpected noise fields"
grep -q 'noise-only' "$WORK/ts-learn.out" ||
	fail "the terminal report does not say noise-only"

cat >"$WORK/rules.json" <<'RULES'
{
  "ignore_headers": ["X-Request-Id"],
  "ignore": ["$.id"],
  "normalize": [{"regex": "^[0-9]+\\.[0-9]{3}$", "replace": "<msec>"}]
}
RULES
run_diff ts-rules 0 "$WORK/ts.dtsess" "$WORK/ts-1.dtsess" \
	--rules "$WORK/rules.json"
[ "$(jq .summary.noise_only "$WORK/ts-rules.json")" = 3 ] ||
	fail "rules: not noise-only"
[ "$(jq -r '[.endpoints[].exchanges[].items[] | .field + "=" + .explained_by] |
	unique | join(" ")' "$WORK/ts-rules.json")" = \
	'$.id=rule $.t=normalizer header.x-request-id=rule' ] ||
	fail "rules: unexpected explanations"
# --- whole files: no replay, damage, report files ------------------------

# a recording is no replay of itself: no exchange links to it
run_diff self 1 "$WORK/api.dtsess" "$WORK/api.dtsess"
[ "$(jq -c '[.summary.failed, .summary.unmatched_replays]' \
	"$WORK/self.json")" = '[5,5]' ] || fail "self: $(jq -c .summary \
	"$WORK/self.json")"
[ "$(jq -r '[.endpoints[].exchanges[].reason] | unique | join(",")' \
	"$WORK/self.json")" = "not replayed" ] || fail "self: unexpected reasons"
[ "$(xmllint --xpath 'count(//error)' "$WORK/self.xml")" = 5 ] ||
	fail "self: JUnit has not 5 errors"

# --json -: standard output holds the JSON report alone
"$DEETUNE" diff "$WORK/api.dtsess" "$WORK/on-a.dtsess" --json - \
	>"$WORK/stdout.json" || fail "diff --json - failed"
[ "$(jq .exit_code "$WORK/stdout.json")" = 0 ] ||
	fail "diff --json - did not print the report alone"

# a report that cannot be written is an error
rc=0
"$DEETUNE" diff "$WORK/api.dtsess" "$WORK/on-a.dtsess" \
	--junit "$WORK/no/such/dir/r.xml" >/dev/null 2>"$WORK/nowrite.err" ||
	rc=$?
if [ "$rc" != 2 ] ||
	! grep -q "cannot write the JUnit report" "$WORK/nowrite.err"; then
	fail "unwritable report: exit $rc: $(cat "$WORK/nowrite.err")"
fi

# damage inside a frame of the replay: exit 2, the reader's message
cp "$WORK/on-b.dtsess" "$WORK/damaged.dtsess"
size=$(stat -c %s "$WORK/damaged.dtsess")
printf 'XXXXXXXX' | dd of="$WORK/damaged.dtsess" bs=1 seek=$((size / 2)) \
	conv=notrunc status=none
rc=0
"$DEETUNE" diff "$WORK/api.dtsess" "$WORK/damaged.dtsess" >/dev/null \
	2>"$WORK/damaged.err" || rc=$?
assert_no_sanitizer "$WORK/damaged.err"
if [ "$rc" != 2 ] ||
	! grep -q "deetune diff: $WORK/damaged.dtsess: " "$WORK/damaged.err"; then
	fail "damaged replay: exit $rc: $(cat "$WORK/damaged.err")"
fi

echo "diff: known differences found, noise explained"
