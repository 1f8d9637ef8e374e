#!/bin/bash
# Replay against targets that fail: one that never answers, one that
# resets every connection, one that answers garbage, one that answers the
# start of a reply and closes, one that trickles a reply forever, and a
# port nobody listens on. Every request gets an error result in OUT, the
# run ends, and the exit status is the one deetune-replay(1) documents: 1
# when requests failed on a target that was reached, 2 when it never was.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

BASE_PORT=19210
need_cmd python3 jq

must python3 "$LIB_DIR/fault/replay_pcap.py" "$WORK/f.pcap"
"$DEETUNE" import -o "$WORK/f.dtsess" "$WORK/f.pcap" 2>"$WORK/import.err" ||
	fail "import failed: $(cat "$WORK/import.err")"
total=$("$DEETUNE" cat "$WORK/f.dtsess" | wc -l)
[ "$total" -eq 12 ] || fail "the session holds $total exchanges, not 12"

# start_target MODE PORT: fault_target.py in the background.
start_target()
{
	local mode=$1 port=$2 i pid
	require_free_port "$port"
	python3 "$LIB_DIR/fault/fault_target.py" "$mode" "$port" \
		"$WORK/$mode.ready" 2>"$WORK/$mode.target.err" &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; i < 100; i++)); do
		[ -f "$WORK/$mode.ready" ] && return 0
		sleep 0.05
	done
	fail "fault target $mode did not start: $(cat "$WORK/$mode.target.err")"
}

# check_replay NAME PORT WANT_RC: replays the session against PORT (both
# protocols) with a 1 s timeout; asserts the exit status, that it ended in
# time, and that OUT holds one failed exchange per recorded one.
check_replay()
{
	local name=$1 port=$2 want=$3 t0 t1 out
	out=$WORK/$name.dtsess
	t0=$(date +%s)
	RC=0
	timeout 60 "$DEETUNE" replay "$WORK/f.dtsess" -o "$out" --speed max \
		--timeout 1s --target "http://127.0.0.1:$port" \
		--target "redis://127.0.0.1:$port" 2>"$WORK/$name.err" || RC=$?
	t1=$(date +%s)
	assert_no_sanitizer "$WORK/$name.err"
	[ "$RC" -ne 124 ] || fail "$name: replay still running after 60 s"
	[ "$RC" -eq "$want" ] ||
		fail "$name: replay exited $RC, want $want:"$'\n'"$(cat "$WORK/$name.err")"
	[ $((t1 - t0)) -le 20 ] || fail "$name: replay took $((t1 - t0)) s"
	grep -q "^replayed: $total exchanges .*(0 answered, $total failed" \
		"$WORK/$name.err" ||
		fail "$name: summary:"$'\n'"$(cat "$WORK/$name.err")"
	cat_session "$out" "$WORK/$name.jsonl"
	# one exchange per recorded one, each failed: an error saying why,
	# flagged no-response or incomplete, never a whole answer
	jq -se --argjson n "$total" '
		length == $n and
		(map(.link_id) | unique | length) == $n and
		all(.[]; (.attrs["replay.error"] // "") != "" and
			(.flags | index("no-response") or index("incomplete")))
	' "$WORK/$name.jsonl" >/dev/null ||
		fail "$name: OUT is not one failed exchange per request:"$'\n'"$(cat "$WORK/$name.jsonl")"
	echo "$name: exit $RC, $total errors: $(jq -r '.attrs["replay.error"]' \
		"$WORK/$name.jsonl" | sed 's/^[A-Z]* [^:]*: //' | sort | uniq -c |
		tr -s ' ' | tr '\n' ';')"
}

port=$BASE_PORT
for mode in timeout reset garbage partial trickle; do
	port=$((port + 1))
	start_target "$mode" "$port"
	check_replay "$mode" "$port" 1
done

# nothing listens: the target is unreachable
port=$((port + 1))
require_free_port "$port"
check_replay refused "$port" 2
grep -q "^deetune replay: http://127.0.0.1:$port: " "$WORK/refused.err" ||
	fail "refused: no message naming the target:"$'\n'"$(cat "$WORK/refused.err")"
echo ok
