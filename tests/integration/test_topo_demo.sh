#!/bin/bash
# `deetune topo` over the three-tier demo app (issue 7, criterion 1):
# traffic through nginx -> backend -> redis-server + mariadbd shows exactly
# the edges client->nginx, nginx->backend, backend->redis, backend->mysql,
# with request counts equal to what was sent and error counts equal to the
# injected errors; `--format dot` renders with Graphviz.
# Ports 19500-19503 (nginx, backend, redis-server, mariadbd).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BASEPORT=19500

require_root_bpf
need_cmd nginx curl redis-server mariadbd dot python3 pgrep
for p in 0 1 2 3; do
	require_free_port $((BASEPORT + p))
done

STACK=$WORK/stack
on_exit "'$REPO_DIR/scripts/stack.sh' stop '$STACK' >/dev/null 2>&1"
DEETUNE_DEMO_BACKEND=${DEETUNE_DEMO_BACKEND:-$(dirname "$DEETUNE")/deetune-demo-backend} \
	must "$REPO_DIR/scripts/stack.sh" start "$STACK" "$BASEPORT" >/dev/null
# shellcheck disable=SC1091
. "$STACK/stack.env"

# A client with a name of its own (comm is the name it was run by), so
# that no other process on the host can be taken for it.
ln -s "$(command -v curl)" "$WORK/topoclient"

# Name each tier by its processes: other tests' nginx or curl never match.
RULES=$WORK/services
{
	echo "client=comm:topoclient"
	for pid in $NGINX_PID $(pgrep -P "$NGINX_PID"); do
		echo "nginx=pid:$pid"
	done
	echo "backend=pid:$BACKEND_PID"
	echo "redis=pid:$REDIS_PID"
	echo "mysql=pid:$MYSQL_PID"
} >"$RULES"

SERVERS=(--server "port:$NGINX_PORT" --server "port:$BACKEND_PORT"
	 --server "port:$REDIS_PORT" --server "port:$MYSQL_PORT")

# start_topo NAME ARGS...: `deetune topo ARGS...` in the background,
# stdout in NAME.out, stderr in NAME.err, once its probes are attached.
start_topo()
{
	local name=$1 i
	shift
	"$DEETUNE" topo "${SERVERS[@]}" --services "$RULES" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	TOPO_PID=$!
	on_exit "kill_wait $TOPO_PID"
	for ((i = 0; i < 400; i++)); do
		grep -q '^observing:' "$WORK/$name.err" && return 0
		kill -0 "$TOPO_PID" 2>/dev/null ||
			fail "deetune topo exited early:"$'\n'"$(cat "$WORK/$name.err")"
		sleep 0.05
	done
	fail "deetune topo printed no 'observing:' line:"$'\n'"$(cat "$WORK/$name.err")"
}

# stop_topo NAME: SIGINT, then a clean exit 0 within 30 s.
stop_topo()
{
	local name=$1 i rc=0
	kill -INT "$TOPO_PID"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TOPO_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$TOPO_PID" 2>/dev/null && fail "deetune topo ignored SIGINT"
	wait "$TOPO_PID" || rc=$?
	[ "$rc" -eq 0 ] ||
		fail "deetune topo exited $rc:"$'\n'"$(cat "$WORK/$name.err")"
	assert_no_sanitizer "$WORK/$name.err"
}

# client GET|POST PATH COUNT: COUNT requests over one connection; prints
# the status codes.
client()
{
	local method=$1 path=$2 count=$3 args=() i
	for ((i = 0; i < count; i++)); do
		if [ "$method" = POST ]; then
			args+=(-X POST -H 'Content-Type: application/json'
			       --data '{"item_id":1,"qty":2}')
		fi
		args+=(-o /dev/null -w '%{http_code}\n' "$BASE_URL$path")
		[ "$method" = POST ] && [ $((i + 1)) -lt "$count" ] &&
			args+=(--next)
	done
	"$WORK/topoclient" -s "${args[@]}"
}

start_topo json --duration 5m --format json -o "$WORK/topo.json"

codes=$(
	# first time: Redis GET, MySQL SELECT, Redis SET each
	for id in 1 2 3 4 5 6 7 8; do client GET "/api/items/$id" 1; done
	# cached: Redis GET only
	for id in 1 2 3 4 5 6 7 8; do client GET "/api/items/$id" 1; done
	# MySQL INSERT, Redis INCR each
	client POST /api/orders 4
	# the injected errors: Redis INCR, then 500
	client GET /api/fail 5
)
expected=$(printf '200\n%.0s' $(seq 16); printf '201\n%.0s' $(seq 4);
	   printf '500\n%.0s' $(seq 5))
[ "$codes" = "$expected" ] ||
	fail "unexpected status codes from the demo app:"$'\n'"$codes"
# the last exchanges travel through the ring buffer
sleep 1
stop_topo json

python3 - "$WORK/topo.json" <<'EOF' || fail "topology: see above; JSON: $(cat "$WORK/topo.json")"
import json, sys

doc = json.load(open(sys.argv[1]))
ours = {"client", "nginx", "backend", "redis", "mysql"}
want = {
    ("client", "nginx", "http"): (25, 5, 0, 5),
    ("nginx", "backend", "http"): (25, 5, 0, 5),
    ("backend", "redis", "redis"): (33, 0, 0, 0),
    ("backend", "mysql", "mysql"): (12, 0, 0, 0),
}
bad = []
got = {}
kinds = {n["id"]: n["kind"] for n in doc["nodes"]}
for e in doc["edges"]:
    key = (e["client"], e["server"], e["protocol"])
    # TCP events are host-wide: other processes' connects show up as
    # "tcp" edges to external nodes (another nginx is named "nginx" by its
    # comm, too); anything else touching the demo's nodes must be one of
    # the four
    if e["client"] not in ours and e["server"] not in ours:
        continue
    if e["protocol"] == "tcp" and kinds[e["server"]] == "external":
        continue
    if key not in want:
        bad.append("unexpected edge %s -> %s (%s): %s" % (key + (e,)))
        continue
    got[key] = e
for key, (req, err, e4, e5) in want.items():
    e = got.get(key)
    if e is None:
        bad.append("missing edge %s -> %s (%s)" % key)
        continue
    have = (e["requests"], e["errors"], e["errors_4xx"], e["errors_5xx"])
    if have != (req, err, e4, e5):
        bad.append("%s -> %s (%s): requests, errors, 4xx, 5xx = %s, want %s"
                   % (key + (have, (req, err, e4, e5))))
    lat = e["latency_seconds"]
    if lat["count"] != req or lat["buckets"][-1]["count"] != req:
        bad.append("%s -> %s (%s): latency count %s" % (key + (lat["count"],)))
    if not (lat["p50"] and 0 < lat["p50"] <= lat["p90"] <= lat["p99"]):
        bad.append("%s -> %s (%s): percentiles %s" % (key + (lat,)))
    if not (e["bytes_sent"] > 0 and e["bytes_received"] > 0):
        bad.append("%s -> %s (%s): no bytes" % key)
nodes = {n["id"]: n for n in doc["nodes"]}
for name in ours:
    n = nodes.get(name)
    if n is None or n["kind"] != "service" or not n["pids"]:
        bad.append("node %s: %s" % (name, n))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF

# listening addresses of the servers
python3 - "$WORK/topo.json" "$NGINX_PORT" "$BACKEND_PORT" "$REDIS_PORT" \
	"$MYSQL_PORT" <<'EOF' || fail "listen addresses: $(cat "$WORK/topo.json")"
import json, sys

nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
for name, port in zip(("nginx", "backend", "redis", "mysql"), sys.argv[2:]):
    if "127.0.0.1:" + port not in nodes[name]["listen"]:
        print("%s does not list 127.0.0.1:%s: %s" % (name, port, nodes[name]),
              file=sys.stderr)
        sys.exit(1)
EOF

# Graphviz renders the dot output
start_topo dot --duration 5m --format dot
client GET /api/items/1 3 >/dev/null
client GET /api/fail 1 >/dev/null
sleep 1
stop_topo dot
dot -Tsvg "$WORK/dot.out" >"$WORK/topo.svg" 2>"$WORK/dot.err" ||
	fail "dot -Tsvg failed: $(cat "$WORK/dot.err")"$'\n'"$(cat "$WORK/dot.out")"
grep -q '<svg' "$WORK/topo.svg" || fail "dot wrote no SVG"
grep -q '"client" -> "nginx" \[label="http\\n4 req, 25.0% err' "$WORK/dot.out" ||
	fail "dot output lacks the client -> nginx edge:"$'\n'"$(cat "$WORK/dot.out")"
echo "ok: four edges with the counts sent, errors as injected; dot renders"
