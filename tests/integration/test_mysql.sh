#!/bin/bash
# Records a real mariadbd on a loopback port and a Unix socket: the mariadb
# client (result sets, OK, ERR, a CALL with two result sets, USE, a failed
# login), mariadb-admin ping, mysqlslap with concurrency, and a C client
# using server-side prepared statements, over TCP and over the socket.
# Checks the session against the server's general log (every command, per
# connection), SHOW GLOBAL STATUS and what the clients printed, and that
# it holds no password material.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT=18701
require_root_bpf
need_cmd mariadbd mariadb-install-db mariadb mariadb-admin mysqlslap \
	mariadb_config cc python3 jq

# --- mariadbd -----------------------------------------------------------

require_free_port "$PORT"
DB_DIR=$WORK/mysql
SOCK=$DB_DIR/mysqld.sock
GENERAL_LOG=$DB_DIR/general.log
mkdir -p "$DB_DIR"
must mariadb-install-db --no-defaults --datadir="$DB_DIR/data" \
	--auth-root-authentication-method=normal --skip-test-db --user=root \
	>"$DB_DIR/install.log"
# The general log lists every command the server receives: the reference
# the recording is checked against.
mariadbd --no-defaults --datadir="$DB_DIR/data" --user=root \
	--port="$PORT" --bind-address=127.0.0.1 --socket="$SOCK" \
	--pid-file="$DB_DIR/mysqld.pid" --log-error="$DB_DIR/error.log" \
	--skip-log-bin --skip-name-resolve --innodb-buffer-pool-size=32M \
	--general-log=1 --general-log-file="$GENERAL_LOG" --log-output=FILE \
	>"$DB_DIR/stdout" 2>&1 &
MYSQLD_PID=$!
on_exit "kill_wait $MYSQLD_PID"

root()
{
	mariadb --no-defaults -S "$SOCK" -u root "$@"
}

for ((i = 0; ; i++)); do
	[ -S "$SOCK" ] && root -e 'SELECT 1' >/dev/null 2>&1 && break
	if ! kill -0 "$MYSQLD_PID" 2>/dev/null || [ "$i" -ge 300 ]; then
		fail "mariadbd did not start:"$'\n'"$(cat "$DB_DIR/error.log")"
	fi
	sleep 0.1
done

# A user with a password, reached over TCP (dt@127.0.0.1) and the socket
# (dt@localhost); the password is new for each run.
PASS=dt-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WRONG=wrong-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
root <"$REPO_DIR/fixtures/mysql/schema.sql" ||
	fail "fixtures/mysql/schema.sql failed"
for host in 127.0.0.1 localhost; do
	root -e "CREATE USER 'dt'@'$host' IDENTIFIED BY '$PASS';
		GRANT ALL ON dt.* TO 'dt'@'$host'" || fail "CREATE USER failed"
done

read -ra mariadb_flags <<<"$(mariadb_config --cflags --libs | tr "\n" " ")"
must cc -std=gnu11 -Wall -Wextra -Werror -o "$WORK/mysql_stmt_client" \
	"$LIB_DIR/mysql_stmt_client.c" "${mariadb_flags[@]}"

# Server counters before (this connection is not recorded) and the log's
# length: what comes after it is the recording's.
root -N -B -e 'SHOW GLOBAL STATUS' >"$WORK/status.before"
log_start=$(stat -c %s "$GENERAL_LOG")

start_record mysql --server "port:$PORT" --server "unix:$SOCK" \
	-o "$WORK/s.dtsess"

# --- traffic --------------------------------------------------------------

tcp=(-h 127.0.0.1 -P "$PORT")
sock=(-S "$SOCK")

# cli VIA SQL: the mariadb client runs SQL, then asks for ROW_COUNT() on
# the same connection (what an OK reported, as the client saw it); its
# output (column types, then rows) is kept for check_mysql.py.
: >"$WORK/cli.jsonl"
ncli=0
cli()
{
	local via=$1 sql=$2 out rc=0 args
	ncli=$((ncli + 1))
	out=$WORK/cli.$ncli
	if [ "$via" = unix ]; then args=("${sock[@]}"); else args=("${tcp[@]}"); fi
	mariadb --no-defaults "${args[@]}" -u dt -p"$PASS" -D dt \
		--default-character-set=utf8mb4 --table --column-type-info \
		-e "$sql; SELECT ROW_COUNT() AS affected_rows" \
		>"$out.out" 2>"$out.err" || rc=$?
	jq -cn --arg via "$via" --arg sql "$sql" --arg out "$out.out" \
		--arg err "$out.err" --argjson rc "$rc" \
		'{via: $via, sql: $sql, stdout: $out, stderr: $err, rc: $rc}' \
		>>"$WORK/cli.jsonl"
}
while IFS= read -r sql; do
	[ -n "$sql" ] && cli tcp "$sql"
done <"$REPO_DIR/fixtures/mysql/queries.sql"
cli unix "SELECT customer, qty FROM orders WHERE qty >= 2 ORDER BY qty"
cli unix "INSERT INTO orders (customer, amount) VALUES ('over the socket', 1.00)"
cli unix "SELECT * FROM no_such_table_either"

# USE (COM_INIT_DB), a failed login, COM_PING.
mariadb --no-defaults "${tcp[@]}" -u dt -p"$PASS" -D dt -e 'USE dt' ||
	fail "mariadb USE failed"
if mariadb --no-defaults "${tcp[@]}" -u dt -p"$WRONG" -D dt -e 'SELECT 1' \
	2>"$WORK/wrong.err"; then
	fail "login with a wrong password succeeded"
fi
grep -q '^ERROR 1045' "$WORK/wrong.err" ||
	fail "wrong password: $(cat "$WORK/wrong.err")"
mariadb-admin --no-defaults "${tcp[@]}" -u dt -p"$PASS" ping >/dev/null ||
	fail "mariadb-admin ping failed"

# mysqlslap: 4 clients at once, twice, on a query the client ran above.
SLAP_SQL="SELECT id, customer FROM orders WHERE amount > 5 ORDER BY id"
grep -qxF "$SLAP_SQL" "$REPO_DIR/fixtures/mysql/queries.sql" ||
	fail "the mysqlslap query is not in fixtures/mysql/queries.sql"
mysqlslap --no-defaults "${tcp[@]}" -u dt -p"$PASS" --create-schema=dt \
	--concurrency=4 --iterations=2 --number-of-queries=200 \
	--query="$SLAP_SQL" >"$WORK/slap.out" 2>&1 ||
	fail "mysqlslap failed:"$'\n'"$(cat "$WORK/slap.out")"

# Prepared statements, over TCP and over the socket.
"$WORK/mysql_stmt_client" 127.0.0.1 "$PORT" dt "$PASS" dt ps_tcp \
	>"$WORK/stmt-tcp.jsonl" || fail "mysql_stmt_client over TCP failed"
"$WORK/mysql_stmt_client" "unix:$SOCK" - dt "$PASS" dt ps_unix \
	>"$WORK/stmt-unix.jsonl" || fail "mysql_stmt_client over the socket failed"

sleep 1 # let the recorder drain what is in flight
stop_record
log_end=$(stat -c %s "$GENERAL_LOG")
root -N -B -e 'SHOW GLOBAL STATUS' >"$WORK/status.after"
tail -c +"$((log_start + 1))" "$GENERAL_LOG" |
	head -c "$((log_end - log_start))" >"$WORK/general.log"

cat_session "$WORK/s.dtsess" "$WORK/cat.jsonl" --raw
n=$(count_lines "$WORK/cat.jsonl")
echo "session has $n exchanges"
[ "$(recorded_count)" = "$n" ] ||
	fail "record said '$(grep '^recorded:' "$REC_ERR")' but cat shows $n"
grep -Eq "^recorded: $n exchanges, .* 0 dropped events, 0 incomplete\$" \
	"$REC_ERR" || fail "recorder summary: $(grep '^recorded:' "$REC_ERR")"

must python3 "$LIB_DIR/check_mysql.py" --cat "$WORK/cat.jsonl" \
	--port "$PORT" --unix "$SOCK" --log "$WORK/general.log" \
	--status-before "$WORK/status.before" \
	--status-after "$WORK/status.after" \
	--password "$PASS" --password "$WRONG" --cli "$WORK/cli.jsonl" \
	--stmt "$WORK/stmt-tcp.jsonl" --stmt "$WORK/stmt-unix.jsonl" \
	--slap-sql "$SLAP_SQL"

echo ok
