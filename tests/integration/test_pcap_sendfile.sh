#!/bin/bash
# nginx with `sendfile on`: the recorder never sees static bodies, so those
# exchanges are flagged incomplete. Exported, each shows its hole (tshark:
# "previous segment not captured") instead of passing for whole, and
# imports back with the same bytes and flags. tcpdump, capturing the same
# traffic, sees the bodies: its import holds the whole responses, of which
# the recorded ones are the beginning.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18721
require_root_bpf
need_cmd nginx curl tcpdump tshark jq python3

start_nginx sendfile "$PORT" on
start_record sendfile --server "port:$PORT" -o "$WORK/s.dtsess"
start_tcpdump "$WORK/lo" "tcp port $PORT"

base=http://127.0.0.1:$PORT
curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	"$base/static/256k.bin" "$base/inline" "$base/static/small.txt" \
	"$base/static/256k.bin"
curl -sS -o /dev/null "$base/static/small.txt"

sleep 1
stop_tcpdump "$WORK/lo"
stop_record

cat_session "$WORK/s.dtsess" "$WORK/s.jsonl" --raw
holes=$(jq -s 'map(select(.flags | index("incomplete"))) | length' \
	"$WORK/s.jsonl")
[ "$(count_lines "$WORK/s.jsonl")" = 5 ] && [ "$holes" = 4 ] ||
	fail "expected 5 exchanges, 4 incomplete:"$'\n'"$(jq -c '[.request.path, .flags]' "$WORK/s.jsonl")"

# Exported: every checksum right, nothing malformed, one lost segment per
# incomplete exchange, the sizes of the lost bodies skipped.
"$DEETUNE" export --pcap -o "$WORK/s.pcap" "$WORK/s.dtsess" \
	2>"$WORK/export.err" || fail "export: $(cat "$WORK/export.err")"
assert_no_sanitizer "$WORK/export.err"
grep -q "^exported: 5 exchanges (2 connections, [0-9]* packets, 4 with a hole)" \
	"$WORK/export.err" || fail "export summary: $(cat "$WORK/export.err")"
bad=$(tshark -r "$WORK/s.pcap" -d "tcp.port==$PORT,http" \
	-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y '_ws.malformed || tcp.checksum.status != 1 || ip.checksum.status != 1' \
	2>/dev/null)
[ -z "$bad" ] || fail "tshark: malformed packets or bad checksums:"$'\n'"$bad"
lost=$(tshark -r "$WORK/s.pcap" -Y tcp.analysis.lost_segment 2>/dev/null |
	wc -l)
[ "$lost" = 4 ] || fail "tshark shows $lost lost segments, not 4"
# the server's sequence numbers jump over both 256 KiB bodies, one small
# file's and nothing else
skipped=$(tshark -r "$WORK/s.pcap" -T fields -e tcp.srcport -e tcp.stream \
	-e tcp.seq -e tcp.len 2>/dev/null |
	awk -v port="$PORT" '$1 == port {
		if (($2 in nxt) && $3 > nxt[$2])
			jump += $3 - nxt[$2]
		n = $3 + $4 < 1 ? 1 : $3 + $4
		if (!($2 in nxt) || n > nxt[$2])
			nxt[$2] = n
	} END { print jump + 0 }')
small=$(stat -c %s "$WWW/static/small.txt")
[ "$skipped" = $((2 * 262144 + 2 * small)) ] ||
	fail "the server's sequence numbers skip $skipped bytes, not the bodies' $((2 * 262144 + 2 * small))"

normalize()
{
	"$DEETUNE" cat --raw "$1" | jq -cS -s 'map({protocol,
		client: .client.addr, server: .server.addr,
		request: .request.raw, response: (.response.raw // null),
		flags: ((.flags - ["sendfile"]) | sort)})
		| group_by([.client, .server])'
}

"$DEETUNE" import -o "$WORK/back.dtsess" "$WORK/s.pcap" 2>"$WORK/import.err" ||
	fail "import: $(cat "$WORK/import.err")"
assert_no_sanitizer "$WORK/import.err"
[ "$(normalize "$WORK/back.dtsess")" = "$(normalize "$WORK/s.dtsess")" ] ||
	fail "session -> pcap -> session changed the exchanges"

# tcpdump saw what sendfile() sent: whole responses, beginning with what
# the recorder kept.
"$DEETUNE" import -o "$WORK/lo.dtsess" "$WORK/lo.pcap" 2>"$WORK/import.err" ||
	fail "import of tcpdump's capture: $(cat "$WORK/import.err")"
cat_session "$WORK/lo.dtsess" "$WORK/lo.jsonl" --raw
python3 - "$WORK/s.jsonl" "$WORK/lo.jsonl" "$WWW/static" <<'EOF' ||
import base64, json, os, sys
def load(path):
    out = {}
    for line in open(path):
        x = json.loads(line)
        key = (x["client"]["addr"], x["server"]["addr"])
        out.setdefault(key, []).append(x)
    return out
def raw(msg):
    return base64.b64decode(msg["raw"]) if msg else b""
rec, cap = load(sys.argv[1]), load(sys.argv[2])
assert rec.keys() == cap.keys(), (sorted(rec), sorted(cap))
for key in rec:
    assert len(rec[key]) == len(cap[key]), key
    for r, c in zip(rec[key], cap[key]):
        assert c["flags"] == [], c["flags"]
        assert raw(r["request"]) == raw(c["request"]), r["request"]["path"]
        resp = raw(c["response"])
        assert resp.startswith(raw(r["response"])), r["request"]["path"]
        name = r["request"]["path"].rsplit("/", 1)[1]
        if r["request"]["path"].startswith("/static/"):
            body = resp[resp.index(b"\r\n\r\n") + 4:]
            with open(os.path.join(sys.argv[3], name), "rb") as f:
                assert body == f.read(), name
print("tcpdump's import holds the whole responses")
EOF
	fail "tcpdump's import does not complete the recorded exchanges"
echo ok
