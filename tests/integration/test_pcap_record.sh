#!/bin/bash
# Real HTTP (nginx), Redis (redis-server) and MySQL (mariadbd) traffic,
# recorded by `deetune record` while tcpdump captures it on loopback.
#   export: tshark reads the pcap without malformed packets or bad
#     checksums, and counts as many HTTP requests and responses, Redis
#     commands and MySQL queries as the session holds; the HTTP bodies it
#     reassembles are the recorded ones.
#   round trip: session -> pcap -> import -> the same exchanges.
#   tcpdump: its capture, imported, gives the exchanges the recorder got.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

HTTP_PORT=18711
REDIS_PORT=18712
MYSQL_PORT=18713
require_root_bpf
need_cmd nginx curl redis-server redis-cli mariadbd mariadb \
	mariadb-install-db tcpdump tshark jq python3

# --- servers --------------------------------------------------------------

start_nginx http "$HTTP_PORT"

require_free_port "$REDIS_PORT"
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
	--appendonly no --dir "$WORK/redis" --logfile "$WORK/redis/log" &
REDIS_PID=$!
on_exit "kill_wait $REDIS_PID"

require_free_port "$MYSQL_PORT"
MDB=$WORK/mariadb
mkdir -p "$MDB"
must mariadb-install-db --no-defaults --datadir="$MDB/data" --user=root \
	--auth-root-authentication-method=normal --skip-test-db >/dev/null
mariadbd --no-defaults --datadir="$MDB/data" --user=root \
	--port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$MDB/sock" \
	--pid-file="$MDB/pid" --log-error="$MDB/err.log" --skip-name-resolve \
	>"$MDB/stdout" 2>&1 &
MYSQL_PID=$!
on_exit "kill_wait $MYSQL_PID"

sql()
{
	mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u root "$@"
}

for ((i = 0; ; i++)); do
	[ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ] &&
		sql -e 'SELECT 1' >/dev/null 2>&1 && break
	kill -0 "$REDIS_PID" && kill -0 "$MYSQL_PID" && [ "$i" -lt 200 ] ||
		fail "redis-server or mariadbd did not start:"$'\n'"$(cat \
			"$WORK/redis/log" "$MDB/err.log" 2>/dev/null)"
	sleep 0.1
done

# --- record and capture ---------------------------------------------------

start_record pcap --server "port:$HTTP_PORT" --server "port:$REDIS_PORT" \
	--server "port:$MYSQL_PORT" -o "$WORK/s.dtsess"
start_tcpdump "$WORK/lo" \
	"tcp port $HTTP_PORT or tcp port $REDIS_PORT or tcp port $MYSQL_PORT"

base=http://127.0.0.1:$HTTP_PORT
curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	-o /dev/null "$base/api/orders/1.json" "$base/api/orders/2.json" \
	"$base/big.bin" "$base/not-here" "$base/data.json" "$base/index.html"
head -c 20000 /dev/urandom | base64 -w0 >"$WORK/post.body"
curl -sS -o /dev/null --data-binary "@$WORK/post.body" "$base/submit"
curl -sS -o /dev/null -I "$base/other.html"
curl -sS -o /dev/null "$base/nocontent"
# a credential both the recorder and the import of tcpdump's capture mask
SECRET=pcap-secret-7f3a9c
curl -sS -o /dev/null -H "Authorization: Bearer $SECRET" "$base/index.html"
if have_ipv6_loopback; then
	curl -sS -o /dev/null "http://[::1]:$HTTP_PORT/api/orders/3.json"
fi

rcli()
{
	redis-cli -p "$REDIS_PORT" "$@" >/dev/null
}
rcli SET greeting hello
rcli GET greeting
rcli INCR counter
rcli RPUSH list a b c
rcli LRANGE list 0 -1
head -c 60000 /dev/urandom | base64 -w0 | rcli -x SET big
rcli GET big
rcli GET missing

sql -e "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY,
	item VARCHAR(64), note TEXT);
	INSERT INTO shop.orders VALUES (1, 'widget', REPEAT('n', 3000)),
	(2, 'gadget', NULL);" >/dev/null
sql -e "SELECT * FROM shop.orders; SELECT COUNT(*) FROM shop.orders;
	SELECT item FROM shop.orders WHERE id = 42" >/dev/null
sql -e "SELECT nope FROM shop.orders" >/dev/null 2>&1 || true

sleep 1 # in flight: to the recorder and to tcpdump
stop_tcpdump "$WORK/lo"
stop_record

cat_session "$WORK/s.dtsess" "$WORK/s.jsonl" --raw
count()
{
	jq -s "map(select($1)) | length" "$WORK/s.jsonl"
}
n_http=$(count '.protocol == "http"')
n_redis=$(count '.protocol == "redis"')
n_mysql=$(count '.protocol == "mysql"')
n_queries=$(count '.request.command == "COM_QUERY"')
n_incomplete=$(count '.flags | index("incomplete")')
echo "session: $n_http http, $n_redis redis, $n_mysql mysql" \
	"($n_queries queries), $n_incomplete incomplete"
[ "$n_http" -ge 10 ] && [ "$n_redis" -ge 8 ] && [ "$n_queries" -ge 5 ] ||
	fail "too little traffic recorded:"$'\n'"$(jq -c '[.protocol, .request.path // .attrs.command // .request.command]' "$WORK/s.jsonl")"

# --- export, tshark ---------------------------------------------------------

"$DEETUNE" export --pcap -o "$WORK/s.pcap" "$WORK/s.dtsess" \
	2>"$WORK/export.err" || fail "export: $(cat "$WORK/export.err")"
assert_no_sanitizer "$WORK/export.err"
decode=(-d "tcp.port==$HTTP_PORT,http" -d "tcp.port==$REDIS_PORT,resp"
	-d "tcp.port==$MYSQL_PORT,mysql")

tshark_count()
{
	# two passes: a message counts once, not in each of its segments
	tshark -2 -r "$WORK/s.pcap" "${decode[@]}" -Y "$1" 2>/dev/null | wc -l
}

bad=$(tshark -r "$WORK/s.pcap" "${decode[@]}" -o tcp.check_checksum:TRUE \
	-o ip.check_checksum:TRUE -Y '_ws.malformed || tcp.checksum.status != 1 ||
	ip.checksum.status != 1' 2>/dev/null)
[ -z "$bad" ] || fail "tshark: malformed packets or bad checksums:"$'\n'"$bad"
if [ "$n_incomplete" = 0 ]; then
	[ "$(tshark_count 'tcp.analysis.lost_segment ||
		tcp.analysis.ack_lost_segment || tcp.analysis.retransmission ||
		tcp.analysis.out_of_order')" = 0 ] ||
		fail "tshark's TCP analysis flags a session without losses"
fi
[ "$(tshark_count http.request)" = "$n_http" ] ||
	fail "tshark sees $(tshark_count http.request) HTTP requests, the session $n_http"
[ "$(tshark_count http.response)" = "$(count '.protocol == "http" and .response')" ] ||
	fail "tshark sees $(tshark_count http.response) HTTP responses"
[ "$(tshark_count "resp && tcp.dstport == $REDIS_PORT")" = "$n_redis" ] ||
	fail "tshark sees $(tshark_count "resp && tcp.dstport == $REDIS_PORT") Redis commands, the session $n_redis"
[ "$(tshark_count mysql.query)" = "$n_queries" ] ||
	fail "tshark sees $(tshark_count mysql.query) MySQL queries, the session $n_queries"
[ "$(tshark_count mysql.command)" = "$(count '.protocol == "mysql" and
		.request.command != "handshake"')" ] ||
	fail "tshark sees $(tshark_count mysql.command) MySQL commands"

# The bodies tshark reassembles are the recorded ones (no gzip asked for:
# each body is the bytes after the head).
mkdir -p "$WORK/objects"
tshark -r "$WORK/s.pcap" "${decode[@]}" -q \
	--export-objects "http,$WORK/objects" >/dev/null 2>&1
python3 - "$WORK/s.jsonl" "$WORK/objects" <<'EOF' || fail "HTTP bodies differ"
import base64, collections, hashlib, json, os, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    x = json.loads(line)
    if x["protocol"] != "http" or not x["response"]:
        continue
    if x["request"].get("method") == "HEAD":
        continue
    raw = base64.b64decode(x["response"]["raw"])
    body = raw[raw.index(b"\r\n\r\n") + 4:]
    if body:
        want[hashlib.md5(body).hexdigest()] += 1
got = collections.Counter()
for name in os.listdir(sys.argv[2]):
    with open(os.path.join(sys.argv[2], name), "rb") as f:
        got[hashlib.md5(f.read()).hexdigest()] += 1
missing = want - got
if missing or not want:
    sys.exit(f"{sum(missing.values())} of {sum(want.values())} response "
             f"bodies not among tshark's {sum(got.values())} objects")
print(f"{sum(want.values())} response bodies as tshark reassembles them")
EOF

# --- round trip, tcpdump ----------------------------------------------------

# The exchanges of a session, connection by connection, without what an
# import cannot know (process identities, connection ids, times).
normalize()
{
	"$DEETUNE" cat --raw "$1" | jq -cS -s 'map({protocol,
		client: .client.addr, server: .server.addr,
		request: .request.raw, response: (.response.raw // null),
		flags: ((.flags - ["sendfile"]) | sort)})
		| group_by([.client, .server])'
}

# import_same NAME PCAP: imports PCAP and compares with the session.
import_same()
{
	local name=$1 pcap=$2
	"$DEETUNE" import -o "$WORK/$name.dtsess" "$pcap" \
		2>"$WORK/$name.import.err" ||
		fail "import $pcap: $(cat "$WORK/$name.import.err")"
	assert_no_sanitizer "$WORK/$name.import.err"
	normalize "$WORK/$name.dtsess" >"$WORK/$name.norm"
	if ! cmp -s "$WORK/s.norm" "$WORK/$name.norm"; then
		diff <(jq -c '.[][]' "$WORK/s.norm" | cut -c1-300) \
			<(jq -c '.[][]' "$WORK/$name.norm" | cut -c1-300) | head -20
		fail "$name: the imported exchanges differ from the recorded ones"
	fi
	echo "$name: $(cat "$WORK/$name.import.err")"
}

normalize "$WORK/s.dtsess" >"$WORK/s.norm"
import_same roundtrip "$WORK/s.pcap"
import_same tcpdump "$WORK/lo.pcap"

# the import redacts like the recorder; without the built-ins the
# credential is there, so the masking above is the rules' doing
SECRETS=("$SECRET")
cat_session "$WORK/tcpdump.dtsess" "$WORK/tcpdump.jsonl" --raw
assert_no_secret "$WORK/tcpdump.jsonl"
"$DEETUNE" import --no-default-redaction -o "$WORK/plain.dtsess" \
	"$WORK/lo.pcap" 2>"$WORK/plain.err" ||
	fail "import --no-default-redaction: $(cat "$WORK/plain.err")"
cat_session "$WORK/plain.dtsess" "$WORK/plain.jsonl" --raw
! assert_no_secret "$WORK/plain.jsonl" 2>/dev/null ||
	fail "import --no-default-redaction lost the Authorization header"
echo ok
