# shellcheck shell=bash
# Helpers for tests/integration/test_*.sh; source it after
# `set -euo pipefail`. tests/run.sh starts each test in a fresh scratch
# directory (the current directory) with DEETUNE set to the binary. A test
# exits 0 to pass, 77 to skip, anything else to fail; everything it started
# is stopped by the EXIT trap installed here.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LIB_DIR/../.." && pwd)
NGINX_FIXTURES=$REPO_DIR/fixtures/nginx
WORK=$(pwd)
: "${DEETUNE:?DEETUNE must name the deetune binary}"

# --- outcome ------------------------------------------------------------

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

skip()
{
	echo "SKIP: $*"
	exit 77
}

# Runs "$@"; fails the test with the command's output when it fails.
must()
{
	local out
	if ! out=$("$@" 2>&1); then
		fail "command failed: $*"$'\n'"$out"
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}

# --- cleanup ------------------------------------------------------------

_cleanups=()

# Registers a command to run at exit, last registered first.
on_exit()
{
	_cleanups+=("$1")
}

_run_cleanups()
{
	local rc=$? i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[i]}" || true
	done
	return "$rc"
}
trap _run_cleanups EXIT
# timeout(1) and ^C must still run the cleanups.
trap 'exit 143' TERM
trap 'exit 130' INT

# Stops a background process we started: SIGTERM, then SIGKILL after 5 s.
kill_wait()
{
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# --- preconditions ------------------------------------------------------

need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			fail "$c is not installed (run 'make deps')"
	done
}

# eBPF tests need root and a kernel that lets us load BPF. Under CI=true
# they must run, so a missing capability is a failure, never a skip.
require_root_bpf()
{
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="not root"
	elif ! why=$(python3 "$LIB_DIR/bpf_probe.py"); then
		:
	else
		return 0
	fi
	[ "${CI:-}" = true ] && fail "CI=true but eBPF is unavailable: $why"
	skip "$why"
}

# Fails unless nothing listens on 127.0.0.1:PORT (nor ::1:PORT).
require_free_port()
{
	local port=$1
	if ss -Htln "( sport = :$port )" 2>/dev/null | grep -q .; then
		fail "port $port is already in use: $(ss -Htlnp "( sport = :$port )")"
	fi
}

have_ipv6_loopback()
{
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' \
		2>/dev/null
}

# --- nginx --------------------------------------------------------------

# Replaces @KEY@ in a template with the values of KEY=value arguments.
render_template()
{
	local template=$1 kv args=()
	shift
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$template"
}

# start_nginx SITE PORT [SENDFILE]: generates the static content
# (fixtures/nginx/mkwww.sh) and serves fixtures/nginx/SITE.site.in on
# 127.0.0.1:PORT (and [::1]:PORT when IPv6 loopback works), logging to
# $WORK/nginx/access.log. Returns once nginx answers HTTP.
NGINX_DIR=$WORK/nginx
ACCESS_LOG=$NGINX_DIR/access.log
# shellcheck disable=SC2034 # the site's root, for the tests
WWW=$NGINX_DIR/www
start_nginx()
{
	local site=$1 port=$2 sendfile=${3:-off} user="" listen6=""
	need_cmd nginx curl
	require_free_port "$port"
	mkdir -p "$NGINX_DIR/tmp"
	must "$NGINX_FIXTURES/mkwww.sh" "$NGINX_DIR"
	[ "$(id -u)" -eq 0 ] && user="user root;"
	have_ipv6_loopback && listen6="listen [::1]:$port;"
	render_template "$NGINX_FIXTURES/$site.site.in" "PORT=$port" \
		"DIR=$NGINX_DIR" "LISTEN6=$listen6" >"$NGINX_DIR/site.conf"
	render_template "$NGINX_FIXTURES/nginx.conf.in" "DIR=$NGINX_DIR" \
		"USER=$user" "SENDFILE=$sendfile" \
		"SITE=$NGINX_DIR/site.conf" >"$NGINX_DIR/nginx.conf"
	nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		-e "$NGINX_DIR/error.log" >"$NGINX_DIR/stdout" 2>&1 &
	NGINX_PID=$!
	on_exit "kill_wait $NGINX_PID"
	wait_http "http://127.0.0.1:$port/" "$NGINX_PID" ||
		fail "nginx did not start:"$'\n'"$(cat "$NGINX_DIR/stdout" \
			"$NGINX_DIR/error.log" 2>/dev/null)"
}

# wait_http URL PID: polls URL for up to 10 s while PID lives.
wait_http()
{
	local url=$1 pid=$2 i code
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
		[ "$code" != 000 ] && [ -n "$code" ] && return 0
		sleep 0.1
	done
	return 1
}

# access_mark: remembers the access log's length; access_since prints the
# lines logged after the mark (the readiness probes are before it).
# nginx appends to its log, so the mark stays valid.
ACCESS_MARK=0
access_mark()
{
	ACCESS_MARK=$(wc -l <"$ACCESS_LOG")
}

access_since()
{
	# nginx logs a request after sending its response: give the last
	# one a moment to reach the file.
	sleep 0.3
	tail -n +"$((ACCESS_MARK + 1))" "$ACCESS_LOG"
}

# --- deetune record -----------------------------------------------------

# start_record NAME ARGS...: runs `deetune record ARGS...` in the background
# with stderr in $WORK/NAME.stderr and waits (20 s at most) for its
# `recording:` line. Sets REC_PID and REC_ERR.
start_record()
{
	local name=$1 i rc=0
	shift
	REC_ERR=$WORK/$name.stderr
	: >"$REC_ERR"
	"$DEETUNE" record "$@" >"$WORK/$name.stdout" 2>"$REC_ERR" &
	REC_PID=$!
	on_exit "kill_wait $REC_PID"
	for ((i = 0; i < 400; i++)); do
		grep -q '^recording:' "$REC_ERR" && return 0
		if ! kill -0 "$REC_PID" 2>/dev/null; then
			wait "$REC_PID" || rc=$?
			fail "deetune record $* exited ($rc) before recording:" \
				$'\n'"$(cat "$REC_ERR")"
		fi
		sleep 0.05
	done
	fail "deetune record $* printed no 'recording:' line in 20 s:" \
		$'\n'"$(cat "$REC_ERR")"
}

# wait_record SECONDS: waits for the recorder to exit by itself; sets
# REC_RC, or fails when it is still running after SECONDS.
wait_record()
{
	local secs=$1 i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$REC_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$REC_PID" 2>/dev/null &&
		fail "deetune record still running after ${secs} s:" \
			$'\n'"$(cat "$REC_ERR")"
	REC_RC=0
	wait "$REC_PID" || REC_RC=$?
}

# Asserts the recorder exited 0 and printed its `recorded:` summary.
assert_record_ok()
{
	[ "$REC_RC" -eq 0 ] ||
		fail "deetune record exited $REC_RC:"$'\n'"$(cat "$REC_ERR")"
	grep -q '^recorded:' "$REC_ERR" ||
		fail "deetune record printed no 'recorded:' summary:" \
			$'\n'"$(cat "$REC_ERR")"
	assert_no_sanitizer "$REC_ERR"
}

# stop_record: SIGINT, wait (30 s at most), assert a clean exit 0.
stop_record()
{
	kill -INT "$REC_PID" 2>/dev/null || true
	wait_record 30
	assert_record_ok
}

# Exchanges counted in the `recorded: N exchanges` line.
recorded_count()
{
	sed -n 's/^recorded: \([0-9][0-9]*\) exchanges.*/\1/p' "$REC_ERR"
}

assert_no_sanitizer()
{
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; then
		fail "sanitizer report in $1:"$'\n'"$(cat "$1")"
	fi
}

# --- TLS ----------------------------------------------------------------

# make_cert DIR CN: DIR/key.pem and DIR/cert.pem, a self-signed
# certificate for CN valid for 127.0.0.1 and localhost, for a day.
make_cert()
{
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 1 -subj "/CN=$2" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$1/key.pem" -out "$1/cert.pem" 2>"$WORK/openssl.err" ||
		fail "openssl req failed: $(cat "$WORK/openssl.err")"
}

# --- tcpdump ------------------------------------------------------------

# start_tcpdump OUT FILTER: captures loopback into OUT.pcap (messages in
# OUT.err) until stop_tcpdump. In immediate mode libpcap gives each packet
# a slot of the snapshot length: a snapshot just above lo's MTU and a large
# buffer keep bursts of 64 KiB loopback segments from being dropped.
start_tcpdump()
{
	local out=$1 i
	: >"$out.err"
	tcpdump -i lo -w "$out.pcap" --immediate-mode -U -s 65600 -B 131072 \
		"$2" 2>"$out.err" &
	TCPDUMP_PID=$!
	on_exit "kill_wait $TCPDUMP_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$out.err" && return 0
		sleep 0.1
	done
	fail "tcpdump did not start: $(cat "$out.err")"
}

# stop_tcpdump OUT: ends the capture; fails if the kernel dropped packets.
stop_tcpdump()
{
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	grep -q '^0 packets dropped by kernel' "$1.err" ||
		fail "tcpdump lost packets: $(cat "$1.err")"
}

# --- deetune replay -----------------------------------------------------

# Strings no replay message and no `cat --raw` output may contain (set by
# tests that use credentials).
SECRETS=()

# replay NAME ARGS...: `deetune replay ARGS...`, stderr in NAME.err; sets
# RC. Fails on a sanitizer report or a secret in the messages.
replay()
{
	local name=$1 s
	shift
	RC=0
	"$DEETUNE" replay "$@" 2>"$WORK/$name.err" || RC=$?
	assert_no_sanitizer "$WORK/$name.err"
	for s in "${SECRETS[@]}"; do
		! grep -qF -e "$s" "$WORK/$name.err" ||
			fail "a secret shows in the messages of $name"
	done
}

# assert_no_secret JSONL: fails when a secret shows in a `cat --json
# --raw` output, decoded raw bytes included.
assert_no_secret()
{
	python3 - "$1" "${SECRETS[@]}" <<'PY'
import base64, json, sys
path, secrets = sys.argv[1], [s.encode() for s in sys.argv[2:]]
for line in open(path, "rb"):
    blobs = [line]
    for side in ("request", "response"):
        msg = json.loads(line)[side]
        if msg and "raw" in msg:
            blobs.append(base64.b64decode(msg["raw"]))
    if any(s in b for s in secrets for b in blobs):
        sys.exit("a secret is in " + path)
PY
}

# --- deetune cat --------------------------------------------------------

# cat_session FILE OUT [--raw]: `deetune cat` of a complete session into
# OUT; fails unless it exits 0 with nothing on stderr.
cat_session()
{
	local file=$1 out=$2 rc=0
	shift 2
	"$DEETUNE" cat "$@" "$file" >"$out" 2>"$out.stderr" || rc=$?
	[ "$rc" -eq 0 ] ||
		fail "deetune cat $* $file exited $rc:"$'\n'"$(cat "$out.stderr")"
	[ ! -s "$out.stderr" ] ||
		fail "deetune cat $* $file wrote to stderr:"$'\n'"$(cat "$out.stderr")"
}

# session_vs_access_log FILE MIN: `cat --raw` of the session FILE into
# $WORK/cat.jsonl, nginx's access log since access_mark into
# $WORK/access.log; sets N (exchanges) and LOGGED (requests). Fails with
# fewer than MIN requests logged, or when record's summary and cat differ.
session_vs_access_log()
{
	access_since >"$WORK/access.log"
	cat_session "$1" "$WORK/cat.jsonl" --raw
	N=$(count_lines "$WORK/cat.jsonl")
	LOGGED=$(count_lines "$WORK/access.log")
	echo "nginx logged $LOGGED requests; session has $N exchanges"
	[ "$LOGGED" -gt "$2" ] || fail "too little traffic: $LOGGED requests"
	[ "$(recorded_count)" = "$N" ] ||
		fail "record said '$(grep '^recorded:' "$REC_ERR")' but cat shows $N"
}

# Lines (exchanges) in a `deetune cat` output.
count_lines()
{
	wc -l <"$1" | tr -d ' '
}

# --- traffic ------------------------------------------------------------

# curl_loop PORT PATH...: requests the paths over one keep-alive
# connection per round, forever; run it in the background and stop it
# with kill_wait.
curl_loop()
{
	local port=$1 p args=()
	shift
	for p in "$@"; do
		args+=(-o /dev/null "http://127.0.0.1:$port$p")
	done
	while :; do
		curl -s "${args[@]}" || true
	done
}

# start_traffic PORT PATH...: curl_loop in the background; sets TRAFFIC_PID.
start_traffic()
{
	curl_loop "$@" &
	TRAFFIC_PID=$!
	on_exit "kill_wait $TRAFFIC_PID"
}
