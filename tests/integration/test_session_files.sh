#!/bin/bash
# Session files written by real recordings read back safely: a recorder
# killed with SIGKILL leaves a file that reads back up to its last frame;
# truncated, bit-flipped and foreign files are rejected with a message and
# exit 1 (a file cut exactly between frames reads as an interrupted
# recording), never a crash or a hang; `cat` prints exactly the exchanges
# of the intact frames before the damage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18301
require_root_bpf
need_cmd nginx curl python3 jq

start_nginx http "$PORT"
DAMAGE=$WORK/damage
mkdir -p "$DAMAGE"

# read_back CMD FILE: runs `deetune CMD FILE` into $WORK/rb.out/.err and
# sets RB_RC; fails on a hang, a crash or a sanitizer report.
read_back()
{
	RB_RC=0
	timeout 30 "$DEETUNE" "$@" >"$WORK/rb.out" 2>"$WORK/rb.err" || RB_RC=$?
	[ "$RB_RC" -ne 124 ] || fail "deetune $* hung (killed after 30 s)"
	[ "$RB_RC" -lt 128 ] ||
		fail "deetune $* died of signal $((RB_RC - 128)):"$'\n'"$(cat "$WORK/rb.err")"
	assert_no_sanitizer "$WORK/rb.err"
}

layout()
{
	python3 "$LIB_DIR/session_layout.py" "$1"
}

# expect_read FILE RC LINES: `cat` and `inspect` of FILE exit RC; cat
# prints exactly the first LINES exchanges of the complete session
# ("any": some prefix of them). RC 1 needs an error message on stderr,
# RC 0 the no-trailer warning.
expect_read()
{
	local file=$1 want_rc=$2 want_lines=$3 what n
	what="$(basename "$file") ($(stat -c %s "$file") bytes)"
	read_back cat "$file"
	[ "$RB_RC" -eq "$want_rc" ] ||
		fail "cat $what: exit $RB_RC, expected $want_rc:"$'\n'"$(cat "$WORK/rb.err")"
	n=$(count_lines "$WORK/rb.out")
	if [ "$want_lines" != any ] && [ "$n" -ne "$want_lines" ]; then
		fail "cat $what printed $n exchanges, expected $want_lines" \
			$'\n'"$(cat "$WORK/rb.err")"
	fi
	head -n "$n" "$FULL_CAT" | cmp -s - "$WORK/rb.out" ||
		fail "cat $what printed exchanges that are not the session's first $n"
	if [ "$want_rc" -eq 0 ]; then
		grep -q "^deetune cat: warning: .*has no trailer" "$WORK/rb.err" ||
			fail "cat $what: no 'has no trailer' warning:" \
				$'\n'"$(cat "$WORK/rb.err")"
	else
		grep -q '^deetune cat: ' "$WORK/rb.err" ||
			fail "cat $what: exit 1 without a 'deetune cat:' message:" \
				$'\n'"$(cat "$WORK/rb.err")"
	fi
	echo "cat $what: exit $RB_RC, $n exchanges: $(tail -n 1 "$WORK/rb.err")"

	read_back inspect "$file"
	[ "$RB_RC" -eq "$want_rc" ] ||
		fail "inspect $what: exit $RB_RC, expected $want_rc:" \
			$'\n'"$(cat "$WORK/rb.out" "$WORK/rb.err")"
	if [ "$want_rc" -eq 0 ]; then
		grep -q 'no trailer' "$WORK/rb.out" ||
			fail "inspect $what does not say 'no trailer':" \
				$'\n'"$(cat "$WORK/rb.out")"
	else
		[ -s "$WORK/rb.err" ] ||
			fail "inspect $what: exit 1 without a message on stderr"
	fi
}

# expect_garbage FILE: not a session at all: exit 1 with a message, and
# no exchange printed.
expect_garbage()
{
	local file=$1 cmd
	for cmd in cat inspect; do
		read_back "$cmd" "$file"
		[ "$RB_RC" -eq 1 ] ||
			fail "$cmd $(basename "$file"): exit $RB_RC, expected 1:" \
				$'\n'"$(cat "$WORK/rb.err")"
		[ -s "$WORK/rb.err" ] ||
			fail "$cmd $(basename "$file"): no message on stderr"
		[ "$cmd" != cat ] || [ ! -s "$WORK/rb.out" ] ||
			fail "cat $(basename "$file") printed exchanges"
	done
	echo "$(basename "$file"): $(head -n 1 "$WORK/rb.err")"
}

# records_before OFFSET: exchanges in the frames of the complete session
# that end at or before OFFSET.
records_before()
{
	jq --argjson o "$1" '[.frames[] | select(.end <= $o) | .records] |
		add // 0' <<<"$L"
}

# expect_cut NAME OFFSET: the complete session cut after OFFSET bytes.
# Cut where the header or a frame ends, it is an interrupted recording
# (exit 0); cut anywhere else, it is damaged (exit 1). Either way cat
# prints the exchanges of the frames before the cut.
expect_cut()
{
	local file=$DAMAGE/cut-$1.dtsess off=$2 rc=1
	head -c "$off" "$WORK/full.dtsess" >"$file"
	if [ "$(jq --argjson o "$off" \
		'any(.header_len, .frames[].end; . == $o)' <<<"$L")" = true ]; then
		rc=0
	fi
	expect_read "$file" "$rc" "$(records_before "$off")"
}

# expect_flip NAME OFFSET LINES: the complete session with the byte at
# OFFSET inverted is damaged (exit 1); cat prints LINES exchanges.
expect_flip()
{
	local file=$DAMAGE/flip-$1.dtsess
	python3 - "$WORK/full.dtsess" "$file" "$2" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[int(sys.argv[3])] ^= 0xFF
open(sys.argv[2], "wb").write(data)
EOF
	expect_read "$file" 1 "$3"
}

echo "== SIGKILL while recording: reads back up to the last frame"
start_traffic "$PORT" /api/orders/1.json /data.json /api/orders/2.json
start_record killed --server "port:$PORT" -o "$WORK/killed.dtsess"
sleep 2.5 # the recorder flushes a frame at least every second
kill -KILL "$REC_PID"
wait "$REC_PID" 2>/dev/null || true
kill_wait "$TRAFFIC_PID"
L=$(layout "$WORK/killed.dtsess")
echo "layout: $(jq -c '{size, header_len, frames: (.frames | length),
	frames_end, trailer}' <<<"$L")"
[ "$(jq .trailer <<<"$L")" = false ] || fail "killed recorder wrote a trailer"
[ "$(jq '.frames_end == .size' <<<"$L")" = true ] ||
	fail "the killed recorder left a partial frame: $L"
want=$(jq '[.frames[].records] | add // 0' <<<"$L")
[ "$want" -gt 0 ] || fail "no frame flushed after 2.5 s of traffic: $L"
read_back cat "$WORK/killed.dtsess"
[ "$RB_RC" -eq 0 ] ||
	fail "cat of the killed session: exit $RB_RC:"$'\n'"$(cat "$WORK/rb.err")"
n=$(count_lines "$WORK/rb.out")
[ "$n" -eq "$want" ] ||
	fail "cat read $n exchanges of the $want in complete frames"
grep -q "^deetune cat: warning: .*killed.dtsess has no trailer (recording was interrupted); read $n exchanges" \
	"$WORK/rb.err" ||
	fail "cat of the killed session: no trailer warning:"$'\n'"$(cat "$WORK/rb.err")"
read_back inspect "$WORK/killed.dtsess"
[ "$RB_RC" -eq 0 ] ||
	fail "inspect of the killed session: exit $RB_RC:"$'\n'"$(cat "$WORK/rb.err")"
grep -q 'no trailer' "$WORK/rb.out" ||
	fail "inspect of the killed session:"$'\n'"$(cat "$WORK/rb.out")"
grep -q 'unknown (no trailer)' "$WORK/rb.out" ||
	fail "inspect shows drop counts without a trailer:"$'\n'"$(cat "$WORK/rb.out")"
echo "killed session: $n exchanges read back"

echo "== a complete session"
start_traffic "$PORT" /api/orders/3.json /data.json /api/orders/4.json
start_record full --server "port:$PORT" -o "$WORK/full.dtsess"
sleep 3
kill_wait "$TRAFFIC_PID"
sleep 0.5
stop_record
FULL_CAT=$WORK/full.jsonl
cat_session "$WORK/full.dtsess" "$FULL_CAT"
N=$(count_lines "$FULL_CAT")
L=$(layout "$WORK/full.dtsess")
echo "layout: $(jq -c '{size, header_len, frames: (.frames | length),
	frames_end, trailer}' <<<"$L")"
[ "$(jq .trailer <<<"$L")" = true ] || fail "finished session has no trailer"
[ "$(jq '[.frames[].records] | add' <<<"$L")" = "$N" ] ||
	fail "frames hold $(jq '[.frames[].records] | add' <<<"$L") records, cat printed $N"
[ "$(jq '.frames | length' <<<"$L")" -ge 2 ] ||
	fail "3 s of recording gave fewer than 2 frames: $L"
S=$(jq .size <<<"$L")
H=$(jq .header_len <<<"$L")
E=$(jq .frames_end <<<"$L")
F1_OFF=$(jq '.frames[0].offset' <<<"$L")
F1_END=$(jq '.frames[0].end' <<<"$L")
F1_N=$(jq '.frames[0].records' <<<"$L")
F2_END=$(jq '.frames[1].end' <<<"$L")
LAST_OFF=$(jq '.frames[-1].offset' <<<"$L")
LAST_N=$(jq '.frames[-1].records' <<<"$L")

echo "== truncated"
expect_cut 10-bytes 10
expect_cut in-header $((H - 1))
expect_cut header-only "$H"
expect_cut in-frame-header $((F1_OFF + 10))
expect_cut first-frame "$F1_END"
expect_cut mid-second-frame $(((F1_END + F2_END) / 2))
expect_cut half $((S / 2))
expect_cut no-index "$E"
expect_cut in-index $(((E + S - 36) / 2))
expect_cut in-trailer $((S - 20))
expect_cut minus-1 $((S - 1))

echo "== bit flips"
expect_flip magic 0 0
expect_flip header-meta $((H - 6)) 0
expect_flip frame-magic $((F1_OFF + 1)) 0
expect_flip frame-length $((F1_OFF + 5)) 0
expect_flip second-frame $(((F1_END + F2_END) / 2)) "$F1_N"
expect_flip last-frame $(((LAST_OFF + E) / 2)) $((N - LAST_N))
expect_flip index $(((E + S - 36) / 2)) any
expect_flip trailer $((S - 10)) any
expect_flip trailer-crc $((S - 1)) any

echo "== not session files"
head -c 4096 /dev/urandom >"$DAMAGE/random.bin"
expect_garbage "$DAMAGE/random.bin"
: >"$DAMAGE/empty.dtsess"
expect_garbage "$DAMAGE/empty.dtsess"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$DAMAGE/text.dtsess"
expect_garbage "$DAMAGE/text.dtsess"
for cmd in cat inspect; do
	read_back "$cmd" "$DAMAGE/does-not-exist.dtsess"
	[ "$RB_RC" -eq 1 ] || [ "$RB_RC" -eq 2 ] ||
		fail "$cmd of a missing file: exit $RB_RC"
	[ -s "$WORK/rb.err" ] || fail "$cmd of a missing file: no message"
done
read_back cat "$DAMAGE"
[ "$RB_RC" -eq 1 ] || [ "$RB_RC" -eq 2 ] || fail "cat of a directory: exit $RB_RC"
echo ok
