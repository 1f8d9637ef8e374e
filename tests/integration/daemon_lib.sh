# shellcheck shell=bash
# Helpers for tests/integration/test_daemon_*.sh, sourced after lib.sh:
# a private `deetune daemon` (socket and state dir in the test's scratch
# directory, never the default paths), `deetune task` against it, Redis
# and MariaDB servers on private ports, and a scan of a session file's
# decompressed bytes.

# start_daemon NAME [ARGS...]: runs `deetune daemon` with its socket at
# $DAEMON_SOCKET (default $WORK/NAME.sock) and its state in
# $WORK/NAME.state, stderr in $WORK/NAME.daemon.err; waits (20 s at most)
# until it answers `task list`. Sets DAEMON_PID, DAEMON_ERR and exports
# DEETUNE_SOCKET for `deetune task`.
start_daemon()
{
	local name=$1 i rc=0
	shift
	DAEMON_ERR=$WORK/$name.daemon.err
	export DEETUNE_SOCKET=${DAEMON_SOCKET:-$WORK/$name.sock}
	mkdir -p "$WORK/$name.state"
	# --no-http: tests run side by side; none needs the HTTP API
	"$DEETUNE" daemon --socket "$DEETUNE_SOCKET" \
		--state-dir "$WORK/$name.state" --no-http "$@" \
		>"$WORK/$name.daemon.out" 2>>"$DAEMON_ERR" &
	DAEMON_PID=$!
	on_exit "kill_wait $DAEMON_PID"
	for ((i = 0; i < 200; i++)); do
		if [ -S "$DEETUNE_SOCKET" ] &&
			"$DEETUNE" task list >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID" || rc=$?
			fail "deetune daemon $* exited ($rc) before serving:" \
				$'\n'"$(cat "$DAEMON_ERR")"
		fi
		sleep 0.1
	done
	fail "deetune daemon $* did not answer on $DEETUNE_SOCKET in 20 s:" \
		$'\n'"$(cat "$DAEMON_ERR")"
}

# stop_daemon: SIGTERM; the daemon must stop its tasks and exit 0 within
# 30 s, without a sanitizer report.
stop_daemon()
{
	local i rc=0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DAEMON_PID" 2>/dev/null &&
		fail "deetune daemon still running 30 s after SIGTERM"
	wait "$DAEMON_PID" || rc=$?
	[ "$rc" -eq 0 ] ||
		fail "deetune daemon exited $rc after SIGTERM:"$'\n'"$(cat "$DAEMON_ERR")"
	assert_no_sanitizer "$DAEMON_ERR"
}

# task ARGS...: `deetune task ARGS...` against the test's daemon.
task()
{
	"$DEETUNE" task "$@"
}

# start_task ARGS...: `task start ARGS...`; prints the id, fails unless
# it is a number.
start_task()
{
	local id
	id=$(task start "$@") || fail "task start $* failed"
	[[ "$id" =~ ^[0-9]+$ ]] || fail "task start $* printed '$id', not an id"
	echo "$id"
}

# task_json ID: the task as `task show --json` prints it.
task_json()
{
	task show --json "$1" || fail "task show $1 failed"
}

# task_state ID: "done: count", "running", "failed: disk full", ...
task_state()
{
	task_json "$1" | jq -r 'if .reason == "" or .reason == .state
		then .state else .state + ": " + .reason end'
}

# wait_task ID SECONDS [RC]: `task wait --timeout` must end with exit RC
# (0 unless given); prints the state line.
wait_task()
{
	local id=$1 secs=$2 want=${3:-0} rc=0 out
	out=$(task wait --timeout "${secs}s" "$id" 2>&1) || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "task wait $id: exit $rc, expected $want: $out" \
			$'\n'"daemon log:"$'\n'"$(cat "$DAEMON_ERR")"
	echo "$out"
}

# assert_task_state ID STATE: task_state ID must be STATE.
assert_task_state()
{
	local got
	got=$(task_state "$1")
	[ "$got" = "$2" ] || fail "task $1 is '$got', expected '$2':" \
		$'\n'"$(task show "$1" 2>&1)"
}

# assert_task_file ID CAT: `deetune cat` of the task's finished file into
# CAT (complete: exit 0, nothing on stderr); its exchange count must be
# the task's own.
assert_task_file()
{
	local id=$1 out=$2 file n want
	file=$(task_json "$id" | jq -r .output)
	cat_session "$file" "$out"
	n=$(count_lines "$out")
	want=$(task_json "$id" | jq .exchanges)
	[ "$n" -eq "$want" ] ||
		fail "task $id says $want exchanges, cat of $file shows $n"
	"$DEETUNE" inspect "$file" >"$out.inspect" ||
		fail "inspect $file failed:"$'\n'"$(cat "$out.inspect")"
	grep -q 'trailer ok' "$out.inspect" ||
		fail "$file has no trailer:"$'\n'"$(cat "$out.inspect")"
}

# assert_only_server CAT PROTOCOL PORT: every exchange is PROTOCOL with
# the server on 127.0.0.1:PORT.
assert_only_server()
{
	local bad
	bad=$(jq -c --arg p "$2" --arg a "127.0.0.1:$3" \
		'select(.protocol != $p or .server.addr != $a) |
		{id, protocol, server: .server.addr}' "$1" | head -n 5)
	[ -z "$bad" ] || fail "$1 holds foreign exchanges: $bad"
}

# assert_contiguous NAME SEQS: the sequence numbers (one per line, in
# recording order) are each sent once, in order, without a gap: a task
# holds a contiguous run of what the traffic sent while it ran.
assert_contiguous()
{
	local name=$1 seqs=$2 first last n
	n=$(wc -l <"$seqs")
	[ "$n" -gt 0 ] || fail "$name: no exchange recorded"
	first=$(head -n 1 "$seqs")
	last=$(tail -n 1 "$seqs")
	seq "$first" "$last" | cmp -s - "$seqs" ||
		fail "$name: the $n exchanges are not the run $first..$last" \
			"sent: $(tr '\n' ' ' <"$seqs" | head -c 400)"
	echo "$name: $n exchanges, the run $first..$last"
}

# --- servers ------------------------------------------------------------

# start_redis PORT [ARGS...]: redis-server on 127.0.0.1:PORT in
# $WORK/redis-PORT; ARGS go to redis-server (e.g. --requirepass P).
start_redis()
{
	local port=$1 dir=$WORK/redis-$1 i pid
	shift
	need_cmd redis-server redis-cli
	require_free_port "$port"
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$port" --save '' \
		--appendonly no --dir "$dir" --logfile "$dir/redis.log" "$@" &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; ; i++)); do
		redis-cli -p "$port" PING 2>&1 | grep -Eq 'PONG|NOAUTH' && break
		if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 100 ]; then
			fail "redis-server did not start:"$'\n'"$(cat "$dir/redis.log")"
		fi
		sleep 0.1
	done
}

# start_mariadb PORT: mariadbd on 127.0.0.1:PORT in $WORK/mysql-PORT;
# root connects without a password over the socket $MYSQL_SOCK.
start_mariadb()
{
	local port=$1 dir=$WORK/mysql-$1 i pid
	need_cmd mariadbd mariadb-install-db mariadb
	require_free_port "$port"
	MYSQL_SOCK=$dir/mysqld.sock
	mkdir -p "$dir"
	must mariadb-install-db --no-defaults --datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--user=root >"$dir/install.log"
	mariadbd --no-defaults --datadir="$dir/data" --user=root \
		--port="$port" --bind-address=127.0.0.1 --socket="$MYSQL_SOCK" \
		--pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
		--skip-log-bin --skip-name-resolve --innodb-buffer-pool-size=32M \
		>"$dir/stdout" 2>&1 &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; ; i++)); do
		[ -S "$MYSQL_SOCK" ] && mysql_root -e 'SELECT 1' >/dev/null 2>&1 &&
			break
		if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 300 ]; then
			fail "mariadbd did not start:"$'\n'"$(cat "$dir/error.log")"
		fi
		sleep 0.1
	done
}

# mysql_root ARGS...: the mariadb client as root over the Unix socket
# (no recorded task selects it).
mysql_root()
{
	mariadb --no-defaults -S "$MYSQL_SOCK" -u root "$@"
}

# --- session bytes --------------------------------------------------------

# session_plain FILE OUT: every byte of the session FILE as a reader sees
# it: the header (metadata is stored uncompressed), each frame's payload
# decompressed (zstd -dc), the index and the trailer, concatenated into
# OUT. Fails when a frame does not decompress.
session_plain()
{
	PYTHONPATH=$LIB_DIR python3 - "$1" "$2" <<'EOF' ||
import subprocess, sys
from session_layout import layout, FRAME_HEADER_LEN
data = open(sys.argv[1], "rb").read()
lay = layout(data)
out = [data[:lay["header_len"]]]
for f in lay["frames"]:
    payload = data[f["offset"] + FRAME_HEADER_LEN:f["end"]]
    out.append(data[f["offset"]:f["offset"] + FRAME_HEADER_LEN])
    out.append(subprocess.run(["zstd", "-dc"], input=payload,
                              stdout=subprocess.PIPE, check=True).stdout)
out.append(data[lay["frames_end"]:])
open(sys.argv[2], "wb").write(b"".join(out))
print(f"{sys.argv[1]}: {len(lay['frames'])} frames, {len(data)} bytes, "
      f"{sum(map(len, out))} decompressed")
EOF
		fail "cannot decompress the frames of $1"
}

# assert_absent PLAIN WHAT SECRET...: none of the SECRETs occurs in the
# bytes of PLAIN (a session_plain output).
assert_absent()
{
	local plain=$1 what=$2 s
	shift 2
	for s in "$@"; do
		! grep -aqF -- "$s" "$plain" ||
			fail "$what: '$s' is in the session's bytes"
	done
}

# assert_present PLAIN WHAT TEXT...: each TEXT occurs in PLAIN (the scan
# sees the traffic at all).
assert_present()
{
	local plain=$1 what=$2 s
	shift 2
	for s in "$@"; do
		grep -aqF -- "$s" "$plain" ||
			fail "$what: '$s' is not in the session's bytes"
	done
}
