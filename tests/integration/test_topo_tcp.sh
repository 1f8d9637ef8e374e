#!/bin/bash
# `deetune topo` shows TCP-level trouble on its edges (issue 7, criterion 3):
#   - connects to a closed loopback port count as failed connects (refused)
#     on the edge from the client to that port;
#   - a transfer between two network namespaces joined by a veth pair that
#     loses 30% of its packets (netem, see add_loss) counts retransmits on
#     its edge.
# Both run during one capture window; they repeat until it ends, so the
# test does not depend on when the probes attach.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLOSED_PORT=19320
NS_PORT=19321
DURATION=8
NS_A=dt-topo-a-$$
NS_B=dt-topo-b-$$
VETH_A=dtta$$
VETH_B=dttb$$
ADDR_A=10.253.7.1
ADDR_B=10.253.7.2

require_root_bpf
need_cmd python3 jq ip tc ss
require_free_port "$CLOSED_PORT"

# python3 -c "$NAMED_PY..." NAME ARGS...: the process names itself NAME
# (the comm the probes report, so its edges stand out from the rest of
# the host's traffic). The helpers below exec python3, so that the pid
# started in the background is the one to stop.
NAMED_PY='
import ctypes, sys
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
'

# Connects to the closed port every 100 ms: each attempt is refused.
refused_connects()
{
	exec python3 -c "$NAMED_PY"'
import socket, time
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[2])), 1).close()
        sys.exit("something listens on port %s" % sys.argv[2])
    except ConnectionRefusedError:
        pass
    time.sleep(0.1)
' dt-topo-cl "$CLOSED_PORT"
}

# Reads and discards what each connection sends.
sink_server()
{
	exec python3 -c "$NAMED_PY"'
import socket
srv = socket.create_server((sys.argv[2], int(sys.argv[3])))
while True:
    c, _ = srv.accept()
    with c:
        while c.recv(65536):
            pass
' dt-topo-rx "$ADDR_B" "$NS_PORT"
}

# Sends 256 KiB of random bytes per connection, over and over.
bulk_sender()
{
	exec python3 -c "$NAMED_PY"'
import os, socket
data = os.urandom(256 * 1024)
while True:
    with socket.create_connection((sys.argv[2], int(sys.argv[3])), 30) as s:
        s.sendall(data)
' dt-topo-tx "$ADDR_B" "$NS_PORT"
}

# Loses 30% of the packets from A to B: netem on A's side or, on kernels
# built without sch_netem, a BPF filter dropping at random where B
# receives (dropping in A's egress instead would tell A's TCP, which would
# just send again, not retransmit).
add_loss()
{
	local out
	if out=$(ip netns exec "$NS_A" tc qdisc add dev "$VETH_A" root \
		netem loss 30% 2>&1); then
		return 0
	fi
	grep -q "qdisc kind is unknown" <<<"$out" ||
		fail "tc qdisc add netem: $out"
	need_cmd clang gcc
	cat >drop.bpf.c <<'EOF_BPF'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int drop_random(struct __sk_buff *skb)
{
	return bpf_get_prandom_u32() % 100 < 30 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
EOF_BPF
	must clang -O2 -target bpf -I"/usr/include/$(gcc -dumpmachine)" \
		-c drop.bpf.c -o drop.bpf.o
	must ip netns exec "$NS_B" tc qdisc add dev "$VETH_B" clsact
	must ip netns exec "$NS_B" tc filter add dev "$VETH_B" ingress bpf da \
		obj drop.bpf.o sec tc
}

# --- two namespaces joined by a lossy veth pair -------------------------

# The namespaces go with everything in them; the processes first.
on_exit "ip netns del $NS_B 2>/dev/null"
on_exit "ip netns del $NS_A 2>/dev/null"
must ip netns add "$NS_A"
must ip netns add "$NS_B"
must ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" \
	netns "$NS_B"
must ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A"
must ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B"
for ns in "$NS_A" "$NS_B"; do
	must ip -n "$ns" link set lo up
done
must ip -n "$NS_A" link set "$VETH_A" up
must ip -n "$NS_B" link set "$VETH_B" up
add_loss

ip netns exec "$NS_B" bash -c "$(declare -p NAMED_PY ADDR_B NS_PORT); \
	$(declare -f sink_server); sink_server" &
SINK_PID=$!
on_exit "kill_wait $SINK_PID"
for ((i = 0; i < 100; i++)); do
	ip netns exec "$NS_B" ss -Htln "( sport = :$NS_PORT )" | grep -q . &&
		break
	sleep 0.1
done
[ "$i" -lt 100 ] || fail "the sink server in $NS_B did not start"

# --- capture -------------------------------------------------------------

"$DEETUNE" topo --duration "${DURATION}s" --format json -o topo.json \
	2>topo.err &
TOPO_PID=$!
on_exit "kill_wait $TOPO_PID"

refused_connects &
REFUSED_PID=$!
on_exit "kill_wait $REFUSED_PID"
ip netns exec "$NS_A" bash -c "$(declare -p NAMED_PY ADDR_B NS_PORT); \
	$(declare -f bulk_sender); bulk_sender" &
SENDER_PID=$!
on_exit "kill_wait $SENDER_PID"

rc=0
wait "$TOPO_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "deetune topo exited $rc: $(cat topo.err)"
kill_wait "$REFUSED_PID"
kill_wait "$SENDER_PID"
jq -e . topo.json >/dev/null ||
	fail "topo.json is not JSON: $(head -c 500 topo.json)"

# --- refused connects -----------------------------------------------------

closed_edges=$(jq -c --arg a "127.0.0.1:$CLOSED_PORT" \
	'[.edges[] | select(.server_addr == $a)]' topo.json)
refused=$(jq '[.[].connect_failures.refused] | add // 0' <<<"$closed_edges")
[ "$refused" -ge 1 ] ||
	fail "no refused connect on the edge to port $CLOSED_PORT: $closed_edges"
jq -e 'any(.[]; .client == "dt-topo-cl" and .connect_failures.refused >= 1)' \
	<<<"$closed_edges" >/dev/null ||
	fail "refused connects not on the client dt-topo-cl's edge: $closed_edges"
other=$(jq '[.[] | .connect_failures.timeout + .connect_failures.other] |
	add // 0' <<<"$closed_edges")
[ "$other" -eq 0 ] ||
	fail "connects to a closed port counted as timeout/other: $closed_edges"
jq -e --arg s "$(jq -r '.[0].server' <<<"$closed_edges")" \
	'any(.nodes[]; .id == $s and .kind == "external")' topo.json \
	>/dev/null || fail "the closed port's node is not external: $(cat topo.json)"

# --- retransmits over the lossy link --------------------------------------

lossy_edges=$(jq -c --arg a "$ADDR_B:$NS_PORT" \
	'[.edges[] | select(.server_addr == $a)]' topo.json)
retransmits=$(jq '[.[].retransmits] | add // 0' <<<"$lossy_edges")
[ "$retransmits" -ge 1 ] ||
	fail "no retransmits on the edge to $ADDR_B:$NS_PORT: $lossy_edges"
connects=$(jq '[.[].connects] | add // 0' <<<"$lossy_edges")
[ "$connects" -ge 1 ] ||
	fail "no connects on the edge to $ADDR_B:$NS_PORT: $lossy_edges"

echo "refused connects to port $CLOSED_PORT: $refused;" \
	"retransmits over the 30%-loss veth: $retransmits in $connects connects"
