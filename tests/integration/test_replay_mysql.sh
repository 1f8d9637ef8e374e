#!/bin/bash
# Replays a recorded mariadbd session against a second mariadbd seeded the
# same way: the mariadb client's queries (result sets, OK, ERR, a CALL
# with two result sets, USE) and a C client's server-side prepared
# statements (typed parameters, binary result sets, reset, close), each
# recorded connection on a connection of its own, in order, with the
# recorded default schema. Every replayed result (kind, error code,
# affected rows, columns, rows) is the recorded one. Then wrong credentials
# and a server that is down: exit 2, a message without the password, a
# readable output session.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=18961
PORT_B=18962
PORT_DOWN=18969
require_root_bpf
need_cmd mariadbd mariadb-install-db mariadb mariadb-admin mariadb_config \
	cc python3 jq

CHECK=$LIB_DIR/test_replay_check.py
PASS=dt-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WRONG=wrong-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# start_mariadb NAME PORT: a server in WORK/NAME with the schema of
# fixtures/mysql/schema.sql and the user dt (password PASS) over TCP.
start_mariadb()
{
	local name=$1 port=$2 dir=$WORK/$1 i
	require_free_port "$port"
	mkdir -p "$dir"
	must mariadb-install-db --no-defaults --datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--user=root >"$dir/install.log"
	mariadbd --no-defaults --datadir="$dir/data" --user=root \
		--port="$port" --bind-address=127.0.0.1 --socket="$dir/sock" \
		--pid-file="$dir/pid" --log-error="$dir/error.log" \
		--skip-log-bin --skip-name-resolve \
		--innodb-buffer-pool-size=32M >"$dir/stdout" 2>&1 &
	on_exit "kill_wait $!"
	for ((i = 0; ; i++)); do
		[ -S "$dir/sock" ] && mariadb --no-defaults -S "$dir/sock" \
			-u root -e 'SELECT 1' >/dev/null 2>&1 && break
		[ "$i" -lt 300 ] ||
			fail "mariadbd $name did not start:"$'\n'"$(cat "$dir/error.log")"
		sleep 0.1
	done
	mariadb --no-defaults -S "$dir/sock" -u root \
		<"$REPO_DIR/fixtures/mysql/schema.sql" ||
		fail "fixtures/mysql/schema.sql failed on $name"
	mariadb --no-defaults -S "$dir/sock" -u root -e \
		"CREATE USER 'dt'@'127.0.0.1' IDENTIFIED BY '$PASS';
		 GRANT ALL ON dt.* TO 'dt'@'127.0.0.1'" ||
		fail "CREATE USER failed on $name"
}

start_mariadb a "$PORT_A"
start_mariadb b "$PORT_B"
require_free_port "$PORT_DOWN"
must cc -std=gnu11 -Wall -Wextra -Werror -o "$WORK/mysql_stmt_client" \
	"$LIB_DIR/mysql_stmt_client.c" $(mariadb_config --cflags --libs)

SECRETS=("$PASS" "$WRONG")

# --- the recording ------------------------------------------------------------

start_record rec --server "port:$PORT_A" -o "$WORK/s.dtsess"
tcp=(--no-defaults -h 127.0.0.1 -P "$PORT_A" -u dt -p"$PASS")
# One connection per statement: a replay keeps only the timing between
# connections, so they are spaced more widely than a busy machine stalls.
while IFS= read -r sql; do
	[ -n "$sql" ] || continue
	mariadb "${tcp[@]}" -D dt -e "$sql" >/dev/null 2>&1 || true
	sleep 0.2
done <"$REPO_DIR/fixtures/mysql/queries.sql"
# several commands on one connection, USE among them
mariadb "${tcp[@]}" -e "USE dt; SELECT COUNT(*) FROM orders;
	UPDATE orders SET qty = qty + 1 WHERE id = 2; SELECT qty FROM orders
	WHERE id = 2; SELECT DATABASE()" >/dev/null
mariadb-admin "${tcp[@]}" ping >/dev/null
"$WORK/mysql_stmt_client" 127.0.0.1 "$PORT_A" dt "$PASS" dt ps_tcp \
	>"$WORK/stmt.jsonl" || fail "mysql_stmt_client failed"
sleep 0.5
stop_record
cat_session "$WORK/s.dtsess" "$WORK/s.jsonl" --raw
n=$(count_lines "$WORK/s.jsonl")
echo "recorded $n exchanges"
stmt=$(jq -s 'map(select(.attrs["request.command"] ==
	"COM_STMT_EXECUTE")) | length' "$WORK/s.jsonl")
[ "$stmt" -ge 6 ] || fail "recorded $stmt statement executions"

# --- against the second server, the password from the environment ---------

RC=0
DEETUNE_MYSQL_PASSWORD=$PASS "$DEETUNE" replay "$WORK/s.dtsess" \
	--target "mysql://dt@127.0.0.1:$PORT_B" -o "$WORK/b.dtsess" \
	2>"$WORK/b.err" || RC=$?
assert_no_sanitizer "$WORK/b.err"
[ "$RC" -eq 0 ] || fail "replay exited $RC:"$'\n'"$(cat "$WORK/b.err")"
cat_session "$WORK/b.dtsess" "$WORK/b.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/b.jsonl" --count "$n" \
	--server-port "$PORT_B" --same-result --conn-order
assert_no_secret "$WORK/b.jsonl"
# the second server holds what the first one does
for db in a b; do
	mariadb --no-defaults -S "$WORK/$db/sock" -u root -N -B -D dt -e \
		'SELECT * FROM orders ORDER BY id; SELECT * FROM ps_tcp ORDER BY i' \
		>"$WORK/$db.rows"
done
cmp -s "$WORK/a.rows" "$WORK/b.rows" ||
	fail "the servers' tables differ:"$'\n'"$(diff "$WORK/a.rows" "$WORK/b.rows")"

# --- wrong credentials, server down ------------------------------------------------

printf 'mysql=dt:%s\n' "$WRONG" >"$WORK/creds"
replay wrong "$WORK/s.dtsess" --target "mysql://127.0.0.1:$PORT_B/dt" \
	--credentials-file "$WORK/creds" -o "$WORK/wrong.dtsess" --speed max
[ "$RC" -eq 2 ] || fail "wrong password: exit $RC, expected 2"
grep -q "mysql://dt@127.0.0.1:$PORT_B/dt: cannot connect: Access denied" \
	"$WORK/wrong.err" || fail "wrong password: $(cat "$WORK/wrong.err")"
cat_session "$WORK/wrong.dtsess" "$WORK/wrong.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/wrong.jsonl" --failed
assert_no_secret "$WORK/wrong.jsonl"

replay down "$WORK/s.dtsess" --target "mysql://dt:$WRONG@127.0.0.1:$PORT_DOWN" \
	-o "$WORK/down.dtsess" --speed max --timeout 2s
[ "$RC" -eq 2 ] || fail "server down: exit $RC, expected 2"
grep -q "mysql://dt@127.0.0.1:$PORT_DOWN: cannot connect" "$WORK/down.err" ||
	fail "server down: $(cat "$WORK/down.err")"
cat_session "$WORK/down.dtsess" "$WORK/down.jsonl" --raw
must python3 "$CHECK" "$WORK/s.jsonl" "$WORK/down.jsonl" --failed
"$DEETUNE" inspect "$WORK/down.dtsess" >"$WORK/down.inspect"
! grep -qF "$WRONG" "$WORK/down.inspect" ||
	fail "the password is in the output's metadata"
echo ok
