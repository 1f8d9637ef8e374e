#!/bin/bash
# The daemon's HTTP API scraped by a real Prometheus (issue 7, criteria 2
# and 4): traffic through the three-tier demo app (scripts/stack.sh),
# `deetune daemon --http` observing nginx and the backend; /metrics passes
# `promtool check metrics`; a Prometheus started here scrapes it every
# second and a PromQL query through its HTTP API returns a positive
# request rate for the nginx -> backend edge, found by its address in
# /api/v1/topology. /api/v1/topology and /api/v1/tasks answer JSON, other
# paths 404 and other methods 405; every query of the Grafana dashboard
# (contrib/grafana) is valid PromQL, and its request-rate panel has data.
# Ports: 19600 the daemon's HTTP API, 19601 Prometheus, 19602-19605 the
# demo app.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/daemon_lib.sh"

HTTP=127.0.0.1:19600
PROM=127.0.0.1:19601
STACK_BASEPORT=19602
DASHBOARD=$REPO_DIR/contrib/grafana/deetune-dashboard.json

require_root_bpf
need_cmd curl jq promtool prometheus nginx redis-server mariadbd
for p in 19600 19601; do
	require_free_port "$p"
done

# --- the demo app and traffic through it ----------------------------------

must "$REPO_DIR/scripts/stack.sh" start "$WORK/stack" "$STACK_BASEPORT"
on_exit "'$REPO_DIR/scripts/stack.sh' stop '$WORK/stack'"
# shellcheck source=/dev/null
. "$WORK/stack/stack.env"

# daemon_lib's start_daemon passes --no-http first: --http, later, wins.
start_daemon metrics --http "$HTTP" --observe "port:$NGINX_PORT" \
	--observe "port:$BACKEND_PORT"
wait_http "http://$HTTP/metrics" "$DAEMON_PID" ||
	fail "no HTTP API on $HTTP:"$'\n'"$(cat "$DAEMON_ERR")"

# Items (the cache answers after the first), orders and injected errors.
traffic_loop()
{
	while :; do
		curl -s -o /dev/null "$BASE_URL/api/items/1" \
			-o /dev/null "$BASE_URL/api/items/2" \
			-o /dev/null "$BASE_URL/api/fail" || true
		curl -s -o /dev/null -d '{"item_id":3,"qty":1}' \
			"$BASE_URL/api/orders" || true
		sleep 0.05
	done
}
traffic_loop &
TRAFFIC_PID=$!
on_exit "kill_wait $TRAFFIC_PID"

# --- the HTTP API ---------------------------------------------------------

# get PATH OUT: GETs PATH into OUT; prints "STATUS CONTENT-TYPE".
get()
{
	curl -s -o "$2" -w '%{http_code} %{content_type}' "http://$HTTP$1"
}

# The edge nginx -> backend shows in the topology once traffic went by.
for ((i = 0; ; i++)); do
	reply=$(get /api/v1/topology "$WORK/topology.json")
	[ "$reply" = "200 application/json" ] ||
		fail "/api/v1/topology answered '$reply'"
	backend=$(jq -r --arg addr "127.0.0.1:$BACKEND_PORT" \
		'[.edges[] | select(.client == "nginx" and
			.server_addr == $addr and .protocol == "http" and
			.requests > 0)][0].server // empty' \
		"$WORK/topology.json") ||
		fail "/api/v1/topology is not the JSON expected:" \
			$'\n'"$(cat "$WORK/topology.json")"
	[ -n "$backend" ] && break
	[ "$i" -lt 100 ] || fail "no nginx -> 127.0.0.1:$BACKEND_PORT edge:" \
		$'\n'"$(cat "$WORK/topology.json")"
	sleep 0.2
done
echo "the backend's node: $backend"

reply=$(get /api/v1/tasks "$WORK/tasks.json")
[ "$reply" = "200 application/json" ] || fail "/api/v1/tasks answered '$reply'"
jq -e . "$WORK/tasks.json" >/dev/null ||
	fail "/api/v1/tasks is not JSON:"$'\n'"$(cat "$WORK/tasks.json")"

reply=$(get /metrics "$WORK/metrics.txt")
[ "${reply%% *}" = 200 ] || fail "/metrics answered '$reply'"
case ${reply#* } in
"text/plain; version=0.0.4"*) ;;
*) fail "/metrics has content type '${reply#* }'" ;;
esac
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
	fail "promtool check metrics:"$'\n'"$(cat "$WORK/promtool.out")"
grep -q '^deetune_requests_total{.*client="nginx"' "$WORK/metrics.txt" ||
	fail "no nginx requests in /metrics:"$'\n'"$(cat "$WORK/metrics.txt")"

reply=$(get /no/such/path "$WORK/404.json")
[ "$reply" = "404 application/json" ] || fail "/no/such/path answered '$reply'"
jq -e .error "$WORK/404.json" >/dev/null || fail "404 without a JSON error"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HTTP/metrics")
[ "$code" = 405 ] || fail "POST /metrics answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$HTTP/metrics")
[ "$code" = 200 ] || fail "HEAD /metrics answered $code"

# --- Prometheus -----------------------------------------------------------

mkdir -p "$WORK/prom"
cat >"$WORK/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: deetune
    static_configs:
      - targets: ['$HTTP']
EOF
prometheus --config.file="$WORK/prom/prometheus.yml" \
	--storage.tsdb.path="$WORK/prom/data" --web.listen-address="$PROM" \
	>"$WORK/prom/prometheus.log" 2>&1 &
PROM_PID=$!
on_exit "kill_wait $PROM_PID"
for ((i = 0; ; i++)); do
	curl -sf -o /dev/null "http://$PROM/-/ready" && break
	if ! kill -0 "$PROM_PID" 2>/dev/null || [ "$i" -ge 300 ]; then
		fail "prometheus did not start:"$'\n'"$(cat "$WORK/prom/prometheus.log")"
	fi
	sleep 0.1
done

# promql QUERY: the JSON answer of an instant query; fails unless success.
promql()
{
	local out
	out=$(curl -s -G "http://$PROM/api/v1/query" \
		--data-urlencode "query=$1") || fail "query $1: no answer"
	[ "$(jq -r .status <<<"$out")" = success ] ||
		fail "query $1 failed: $out"
	printf '%s\n' "$out"
}

# first_value QUERY: the first sample's value, or nothing.
first_value()
{
	promql "$1" | jq -r '.data.result[0].value[1] // empty'
}

query="sum(rate(deetune_requests_total{client=\"nginx\",server=\"$backend\",protocol=\"http\"}[10s]))"
for ((i = 0; ; i++)); do
	rate=$(first_value "$query")
	[ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }' && break
	[ "$i" -lt 120 ] || fail "$query stayed '${rate:-empty}' for 60 s:" \
		$'\n'"$(curl -s "http://$PROM/api/v1/targets")"
	sleep 0.5
done
echo "prometheus: $query = $rate"
[ "$(first_value 'up{job="deetune"}')" = 1 ] || fail "the scrape target is not up"

# Every query of the dashboard parses and runs; request rates have data.
jq -r '.panels[].targets[]?.expr' "$DASHBOARD" >"$WORK/dashboard.promql"
[ -s "$WORK/dashboard.promql" ] || fail "no queries in $DASHBOARD"
while IFS= read -r expr; do
	expr=${expr//\$__rate_interval/10s}
	for var in client server protocol cgroup; do
		expr=${expr//\$$var/.*}
	done
	promql "$expr" >/dev/null
done <"$WORK/dashboard.promql"
n=$(promql 'sum by (client, server, protocol) (rate(deetune_requests_total{client=~".*", server=~".*", protocol=~".*"}[10s]))' |
	jq '.data.result | length')
[ "$n" -ge 1 ] || fail "the dashboard's request-rate query has no data"
echo "dashboard: $(wc -l <"$WORK/dashboard.promql") queries ran"

kill_wait "$TRAFFIC_PID"
stop_daemon
