#!/bin/bash
# Load beyond capacity, in two recordings.
#  1. nginx serves files of 300 bytes to 1 MiB, each request of a
#     connection another one, to 32 connections at once, recorded through
#     a 64 KiB ring buffer: events are dropped, counted per cause in the
#     trailer and shown by `deetune inspect`, and every exchange not
#     flagged incomplete is byte for byte what nginx served.
#  2. 32 connections each leave 4 MiB of an upload unfinished (128 MiB
#     in all) under a 52 MiB memory bound, 8 MiB of it for buffered
#     streams (deetune-daemon(8), RESOURCE BOUNDS): the connections fed least
#     recently are evicted (counted, shown by inspect, their exchanges
#     flagged incomplete), the bytes the assembler buffered stay under
#     the bound, and the recorder's RSS grows by far less than the
#     uploads.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=19230
# Peak RSS allowed in 1: libbpf, the ring, the session writer and, in the
# sanitizer build, ASan's shadow memory.
MAX_HWM_KB=$((256 * 1024))
# Growth allowed in 2 over the RSS when recording starts: the bound, the
# ring, and the writer's buffers; well under the uploads' 128 MiB.
MAX_GROWTH_KB=$((56 * 1024))
# ASan keeps freed memory in quarantine (256 MiB by default), which
# would hide what the recorder itself holds.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
require_root_bpf
need_cmd nginx curl wrk python3 jq

start_nginx http "$PORT"

# rss_kb FIELD: VmHWM (peak) or VmRSS (now) of the running recorder
rss_kb()
{
	sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$REC_PID/status"
}

# assert_rss_bounded KB
assert_rss_bounded()
{
	echo "recorder peak RSS: $(($1 / 1024)) MiB"
	[ "$1" -le "$MAX_HWM_KB" ] ||
		fail "recorder peak RSS $(($1 / 1024)) MiB above $((MAX_HWM_KB / 1024)) MiB"
}

# inspect_stat NAME KEY: a trailer statistic of $WORK/NAME.dtsess
inspect_stat()
{
	jq -r ".stats[\"$2\"]" "$WORK/$1.inspect.json"
}

# --- 1. more events than the ring buffer drains ---------------------------

start_record drops --server "port:$PORT" --ringbuf-size 65536 \
	-o "$WORK/drops.dtsess"
wrk -t2 -c32 -d3s -s "$LIB_DIR/fault/rotate.lua" "http://127.0.0.1:$PORT/" \
	>"$WORK/wrk.out" || fail "wrk failed: $(cat "$WORK/wrk.out")"
sleep 1 # let the recorder drain what is in flight
hwm=$(rss_kb VmHWM)
stop_record
assert_rss_bounded "$hwm"
grep -q "dropped" "$REC_ERR" ||
	fail "the recorder's summary does not mention drops:"$'\n'"$(cat "$REC_ERR")"

"$DEETUNE" inspect "$WORK/drops.dtsess" >"$WORK/drops.inspect" ||
	fail "deetune inspect failed"
"$DEETUNE" inspect --json "$WORK/drops.dtsess" >"$WORK/drops.inspect.json"
grep '^drops:' "$WORK/drops.inspect" ||
	fail "inspect shows no drops line:"$'\n'"$(cat "$WORK/drops.inspect")"
grep -Eq '^drops: .*ringbuf_full [1-9]' "$WORK/drops.inspect" ||
	fail "no event dropped for a full ring buffer:"$'\n'"$(cat "$WORK/drops.inspect")"
[ "$(inspect_stat drops drops.ringbuf_full)" -gt 0 ] ||
	fail "the trailer counts no ring buffer drop"
cat_session "$WORK/drops.dtsess" "$WORK/drops.jsonl" --raw
must python3 "$LIB_DIR/fault/check_overload.py" "$WORK/drops.jsonl" "$WWW"

# --- 2. more unfinished requests than the memory bound --------------------

start_record evict --server "port:$PORT" --ringbuf-size 1048576 \
	--max-memory 52M -o "$WORK/evict.dtsess"
rss0=$(rss_kb VmRSS)
must python3 "$LIB_DIR/fault/hold_client.py" "$PORT" 32 4 32 1
sleep 1
hwm=$(rss_kb VmHWM)
stop_record
echo "recorder RSS: $((rss0 / 1024)) MiB at the start, peak $((hwm / 1024)) MiB"
[ $((hwm - rss0)) -le "$MAX_GROWTH_KB" ] ||
	fail "recorder RSS grew by $(((hwm - rss0) / 1024)) MiB, more than $((MAX_GROWTH_KB / 1024)) MiB"

"$DEETUNE" inspect "$WORK/evict.dtsess" >"$WORK/evict.inspect" ||
	fail "deetune inspect failed"
"$DEETUNE" inspect --json "$WORK/evict.dtsess" >"$WORK/evict.inspect.json"
grep '^drops:' "$WORK/evict.inspect"
grep -Eq '^drops: .*evicted [1-9]' "$WORK/evict.inspect" ||
	fail "no connection evicted:"$'\n'"$(cat "$WORK/evict.inspect")"
max=$(inspect_stat evict buffered_bytes_max)
echo "assembler buffered at most $((max >> 20)) MiB"
[ "$max" -le $((8 << 20)) ] ||
	fail "the assembler buffered $max bytes, above its 8 MiB bound"
# evicted uploads are exchanges flagged incomplete, never whole
cat_session "$WORK/evict.dtsess" "$WORK/evict.jsonl"
[ "$(jq -s 'map(select(.flags | index("incomplete") | not)) | length' \
	"$WORK/evict.jsonl")" = 0 ] ||
	fail "an unfinished upload was recorded without the incomplete flag"
echo ok
