#!/bin/bash
# `deetune import` of the hand-made captures in fixtures/pcap (reordered,
# duplicated, overlapping and missing segments, a capture started
# mid-connection, a snapshot length, VLAN, Linux cooked v1/v2, raw IPv6,
# pcapng): the exchanges each NAME.expect.json lists, byte for byte, with
# their incomplete flags. Damaged captures and bad usage fail with a clear
# message and exit 2. Then the sessions go back out with `deetune export`
# (tshark reads them without malformed packets or bad checksums, holes
# shown as lost segments) and in again unchanged. Needs no root.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd jq tshark python3
FIX=$REPO_DIR/fixtures/pcap

# The fixtures are generated: they must be what the script writes.
mkdir -p "$WORK/gen"
must python3 "$FIX/make_pcaps.py" "$WORK/gen"
for f in "$WORK"/gen/*; do
	cmp -s "$f" "$FIX/$(basename "$f")" ||
		fail "fixtures/pcap/$(basename "$f") differs from what make_pcaps.py writes"
done

# The exchanges of a session as the expectations list them.
normalize_session()
{
	"$DEETUNE" cat --raw "$1" | jq -cS -s 'map({protocol,
		client: .client.addr, server: .server.addr,
		request: .request.raw, response: (.response.raw // null),
		flags: ((.flags - ["sendfile"]) | sort)})'
}

# import NAME INPUT [ARGS...]: imports into $WORK/NAME.dtsess; fails
# unless it exits 0 with its summary line.
import_ok()
{
	local name=$1 input=$2 rc=0
	shift 2
	"$DEETUNE" import "$@" -o "$WORK/$name.dtsess" "$input" \
		2>"$WORK/$name.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "import $input exited $rc:"$'\n'"$(cat "$WORK/$name.err")"
	grep -q '^imported: ' "$WORK/$name.err" ||
		fail "import $input printed no summary: $(cat "$WORK/$name.err")"
	assert_no_sanitizer "$WORK/$name.err"
}

captures=(reordered duplicated overlapping missing midstream snaplen vlan
	sll sll2 raw6 ng)
for name in "${captures[@]}"; do
	input=$FIX/$name.pcap
	[ -f "$input" ] || input=$FIX/$name.pcapng
	import_ok "$name" "$input"
	[ "$(normalize_session "$WORK/$name.dtsess")" = \
		"$(jq -cS . "$FIX/$name.expect.json")" ] ||
		fail "$name: imported exchanges differ from $name.expect.json:"$'\n'"$(normalize_session "$WORK/$name.dtsess")"
	echo "import $name: ok"
done

# The trailer counts what the reassembler saw.
"$DEETUNE" inspect --json "$WORK/missing.dtsess" >"$WORK/inspect.json"
[ "$(jq -r '.stats["pcap.gaps"]' "$WORK/inspect.json")" = 2 ] ||
	fail "missing: trailer does not count 2 gaps: $(jq -c .stats "$WORK/inspect.json")"
[ "$(jq -r '.stats["pcap.duplicate_bytes"]' "$WORK/inspect.json")" = 0 ] ||
	fail "missing: duplicates counted: $(jq -c .stats "$WORK/inspect.json")"
"$DEETUNE" inspect --json "$WORK/duplicated.dtsess" >"$WORK/inspect.json"
[ "$(jq -r '.stats["pcap.duplicate_bytes"]' "$WORK/inspect.json")" -gt 0 ] ||
	fail "duplicated: no duplicate bytes counted"

# Standard input, standard output, and a capture filter.
"$DEETUNE" import -o - - <"$FIX/reordered.pcap" 2>"$WORK/stdin.err" |
	"$DEETUNE" cat --raw - >"$WORK/stdin.jsonl"
[ "$(jq -c .request.raw "$WORK/stdin.jsonl")" = \
	"$(jq -c '.[0].request' "$FIX/reordered.expect.json")" ] ||
	fail "import from stdin to stdout lost the exchange"
import_ok filtered "$FIX/missing.pcap" --filter 'tcp port 51001'
[ "$(normalize_session "$WORK/filtered.dtsess")" = \
	"$(jq -cS 'map(select(.client | endswith(":51001")))' \
		"$FIX/missing.expect.json")" ] ||
	fail "--filter 'tcp port 51001' did not keep exactly that connection"

# import_fails INPUT PATTERN [ARGS...]: exit 2 with PATTERN on stderr.
import_fails()
{
	local input=$1 pattern=$2 rc=0
	shift 2
	"$DEETUNE" import "$@" -o "$WORK/bad.dtsess" "$input" \
		2>"$WORK/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "import $* $input exited $rc, not 2"
	grep -q "$pattern" "$WORK/bad.err" ||
		fail "import $* $input: no '$pattern' in: $(cat "$WORK/bad.err")"
	assert_no_sanitizer "$WORK/bad.err"
}

rm -f "$WORK/bad.dtsess"
import_fails "$FIX/garbage.pcap" 'cannot read .*garbage.pcap: unknown file format'
import_fails "$FIX/short-header.pcap" 'cannot read .*short-header.pcap: truncated'
[ ! -e "$WORK/bad.dtsess" ] || fail "a session was written for an unreadable capture"
import_fails "$FIX/reordered.pcap" "invalid filter 'tcp prot 80'" --filter 'tcp prot 80'
import_fails "$WORK/absent.pcap" 'cannot read'
# cut inside a record: the exchanges before the cut are kept
import_fails "$FIX/truncated.pcap" 'truncated dump file.*the session holds the 1 exchanges before it'
[ "$("$DEETUNE" cat "$WORK/bad.dtsess" | wc -l)" = 1 ] ||
	fail "the session of a truncated capture does not hold its exchange"
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 105))' \
	>"$WORK/wifi.pcap"
import_fails "$WORK/wifi.pcap" 'link type IEEE802_11 (105) is not supported'
"$DEETUNE" import "$FIX/reordered.pcap" >/dev/null 2>&1 && fail "import without -o succeeded"
"$DEETUNE" import --help | grep -q '^usage: deetune import' || fail "import --help"

# --- export, and back ----------------------------------------------------

# tshark_clean PCAP DECODE...: no malformed packet, every checksum good.
tshark_clean()
{
	local pcap=$1 bad
	shift
	bad=$(tshark -r "$pcap" "$@" -o tcp.check_checksum:TRUE \
		-o ip.check_checksum:TRUE -Y '_ws.malformed ||
		tcp.checksum.status != 1 || ip.checksum.status != 1' 2>&1 |
		grep -v '^Running as user' || true)
	[ -z "$bad" ] || fail "tshark finds problems in $pcap:"$'\n'"$bad"
}

for name in "${captures[@]}"; do
	for link in ethernet raw; do
		"$DEETUNE" export --pcap --linktype "$link" \
			-o "$WORK/$name.$link.pcap" "$WORK/$name.dtsess" \
			2>"$WORK/export.err" ||
			fail "export $name: $(cat "$WORK/export.err")"
		assert_no_sanitizer "$WORK/export.err"
		tshark_clean "$WORK/$name.$link.pcap" -d tcp.port==8080,http
		import_ok "$name.back" "$WORK/$name.$link.pcap"
		[ "$(normalize_session "$WORK/$name.back.dtsess")" = \
			"$(normalize_session "$WORK/$name.dtsess")" ] ||
			fail "$name: session -> pcap ($link) -> session changed the exchanges"
	done
	echo "export $name: ok"
done

# Each incomplete exchange shows its hole: a lost segment in tshark.
lost=$(tshark -r "$WORK/missing.ethernet.pcap" -Y tcp.analysis.lost_segment \
	2>/dev/null | wc -l)
[ "$lost" = 2 ] || fail "expected 2 lost segments in the export of missing, saw $lost"
lost=$(tshark -r "$WORK/reordered.ethernet.pcap" \
	-Y 'tcp.analysis.lost_segment || tcp.analysis.retransmission ||
	    tcp.analysis.out_of_order || tcp.analysis.ack_lost_segment' \
	2>/dev/null | wc -l)
[ "$lost" = 0 ] || fail "tshark's TCP analysis complains about a whole export"

# Selection, standard output.
"$DEETUNE" export --pcap --match '/two' -o - "$WORK/missing.dtsess" \
	2>/dev/null | tshark -r - -d tcp.port==8080,http -Y http.request \
	-T fields -e http.request.uri 2>/dev/null >"$WORK/uris"
[ "$(cat "$WORK/uris")" = /two ] || fail "--match '/two' exported: $(cat "$WORK/uris")"
"$DEETUNE" export --pcap --protocol redis -o "$WORK/none.pcap" \
	"$WORK/missing.dtsess" 2>"$WORK/export.err"
grep -q '^exported: 0 exchanges (0 connections, 0 packets' "$WORK/export.err" ||
	fail "--protocol redis on HTTP traffic: $(cat "$WORK/export.err")"

# Usage errors exit 2; a damaged session exits 1 after exporting its start.
rc=0; "$DEETUNE" export -o x.pcap "$WORK/missing.dtsess" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "export without --pcap exited $rc"
rc=0; "$DEETUNE" export --pcap "$WORK/missing.dtsess" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "export without -o exited $rc"
rc=0; "$DEETUNE" export --pcap --protocol ftp -o x.pcap "$WORK/missing.dtsess" \
	2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "export --protocol ftp exited $rc"
rc=0; "$DEETUNE" export --pcap -o x.pcap "$FIX/garbage.pcap" 2>"$WORK/export.err" || rc=$?
[ "$rc" = 1 ] || fail "export of a non-session exited $rc"
# a session cut inside its index: status 1, the exchanges before exported
size=$(stat -c %s "$WORK/missing.dtsess")
head -c $((size - 40)) "$WORK/missing.dtsess" >"$WORK/cut.dtsess"
rc=0; "$DEETUNE" export --pcap -o "$WORK/cut.pcap" "$WORK/cut.dtsess" \
	2>"$WORK/export.err" || rc=$?
[ "$rc" = 1 ] || fail "export of a cut session exited $rc: $(cat "$WORK/export.err")"
grep -q '^exported: 4 exchanges' "$WORK/export.err" ||
	fail "the cut session's exchanges were not exported: $(cat "$WORK/export.err")"
# a damaged frame: status 1, a pcap of what came before
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[len(d) // 2] ^= 0xff; open(sys.argv[2], "wb").write(d)' \
	"$WORK/missing.dtsess" "$WORK/damaged.dtsess"
rc=0; "$DEETUNE" export --pcap -o "$WORK/damaged.pcap" "$WORK/damaged.dtsess" \
	2>"$WORK/export.err" || rc=$?
[ "$rc" = 1 ] || fail "export of a damaged session exited $rc: $(cat "$WORK/export.err")"
assert_no_sanitizer "$WORK/export.err"
tshark -r "$WORK/damaged.pcap" >/dev/null 2>&1 ||
	fail "the export of a damaged session is not a pcap"
echo ok
