#!/bin/bash
# deetune diff on MySQL: two mariadbd seeded with the same data
# (fixtures/diff/mysql-seed.sql), then one price changed on the second. A
# session recorded against the first and replayed against the second
# reports exactly the changed row value; replayed against the first,
# nothing. Rows of a query without ORDER BY compare as a multiset with
# --unordered-rows.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=19121
PORT_B=19122
require_root_bpf
need_cmd mariadbd mariadb-install-db mariadb jq xmllint
"$DEETUNE" replay --help >/dev/null 2>&1 ||
	fail "this build has no 'deetune replay'"

PASS=dt-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# start_db PORT: a seeded mariadbd on 127.0.0.1:PORT, user dt.
start_db()
{
	local port=$1 dir=$WORK/db-$1 pid i
	require_free_port "$port"
	mkdir -p "$dir"
	must mariadb-install-db --no-defaults --datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--user=root >"$dir/install.log"
	mariadbd --no-defaults --datadir="$dir/data" --user=root \
		--port="$port" --bind-address=127.0.0.1 \
		--socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
		--log-error="$dir/error.log" --skip-log-bin \
		--skip-name-resolve --innodb-buffer-pool-size=32M \
		>"$dir/stdout" 2>&1 &
	pid=$!
	on_exit "kill_wait $pid"
	for ((i = 0; ; i++)); do
		mariadb --no-defaults -S "$dir/mysqld.sock" -u root \
			-e 'SELECT 1' >/dev/null 2>&1 && break
		if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 300 ]; then
			fail "mariadbd did not start:"$'\n'"$(cat \
				"$dir/error.log")"
		fi
		sleep 0.1
	done
	mariadb --no-defaults -S "$dir/mysqld.sock" -u root \
		<"$REPO_DIR/fixtures/diff/mysql-seed.sql" ||
		fail "mysql-seed.sql failed on port $port"
	mariadb --no-defaults -S "$dir/mysqld.sock" -u root -e \
		"CREATE USER 'dt'@'127.0.0.1' IDENTIFIED BY '$PASS';
		 GRANT ALL ON shop.* TO 'dt'@'127.0.0.1'" ||
		fail "CREATE USER failed on port $port"
}

start_db "$PORT_A"
start_db "$PORT_B"
mariadb --no-defaults -S "$WORK/db-$PORT_B/mysqld.sock" -u root \
	-e "UPDATE shop.items SET price = 4.75 WHERE id = 2" ||
	fail "UPDATE on B failed"

start_record mysql --server "port:$PORT_A" -o "$WORK/rec.dtsess"
for sql in "SELECT id, name, price FROM items ORDER BY id" \
	"SELECT name, stock FROM items" \
	"SELECT COUNT(*) AS n FROM items WHERE stock > 0" \
	"SELECT * FROM no_such_table" \
	"UPDATE items SET stock = stock WHERE id = 1"; do
	mariadb --no-defaults -h 127.0.0.1 -P "$PORT_A" -u dt -p"$PASS" \
		-D shop -e "$sql" >/dev/null 2>&1 || true
done
sleep 1
stop_record

export DEETUNE_MYSQL_PASSWORD=$PASS
for t in a b; do
	port=$PORT_A
	[ "$t" = b ] && port=$PORT_B
	must "$DEETUNE" replay "$WORK/rec.dtsess" --quiet --speed max \
		--target "mysql://dt@127.0.0.1:$port/shop" -o "$WORK/on-$t.dtsess"
done

rc=0
"$DEETUNE" diff --unordered-rows "$WORK/rec.dtsess" "$WORK/on-b.dtsess" \
	--json "$WORK/b.json" --junit "$WORK/b.xml" >"$WORK/b.out" \
	2>"$WORK/b.err" || rc=$?
assert_no_sanitizer "$WORK/b.err"
cat "$WORK/b.out"
[ "$rc" = 1 ] || fail "diff against B exited $rc:"$'\n'"$(cat "$WORK/b.err")"
items=$(jq -r '.endpoints[] | select(.differ + .failed > 0) |
	"\(.name): " + ([.exchanges[].items[] |
	"\(.field) \(.expected) \(.actual)"] | join("; "))' "$WORK/b.json")
[ "$items" = 'mysql SELECT id, name, price FROM items ORDER BY id: $[1].price "4.25" "4.75"' ] ||
	fail "unexpected differences: $items"
[ "$(jq '.summary.differ + .summary.failed' "$WORK/b.json")" = 1 ] ||
	fail "unexpected summary: $(jq -c .summary "$WORK/b.json")"
# the other four queries compare the same (handshakes are skipped)
[ "$(jq '[.endpoints[] | select(.name | test("^mysql (SELECT|UPDATE)")) |
	.same] | add' "$WORK/b.json")" = 4 ] ||
	fail "not 4 queries the same: $(jq -c .endpoints "$WORK/b.json")"
must xmllint --noout --schema "$REPO_DIR/fixtures/diff/junit.xsd" "$WORK/b.xml"

rc=0
"$DEETUNE" diff --unordered-rows "$WORK/rec.dtsess" "$WORK/on-a.dtsess" \
	>"$WORK/a.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "diff against A exited $rc:"$'\n'"$(cat "$WORK/a.out")"
echo "diff: the changed MySQL row found, nothing else"
