#!/bin/bash
# Redaction before anything reaches disk: with the built-in rules, a
# task's session file holds no Authorization, Cookie or Set-Cookie value,
# no Redis AUTH password, no MySQL password (neither the login's scramble
# answer nor the literal of CREATE USER ... IDENTIFIED BY) in any of its
# bytes, header included and every frame decompressed; the parts around
# them that are no secret (paths, keys, SQL) are still there. A task with
# --redact header:X-Api-Key also masks that header, which the built-in
# rules keep.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

HTTP_PORT=19441
REDIS_PORT=19442
MYSQL_PORT=19443
require_root_bpf
need_cmd nginx curl redis-cli mariadb zstd python3 jq

secret()
{
	echo "$1-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}
BEARER=$(secret bearer)
COOKIE=$(secret cookie)
SET_COOKIE=$(secret setcookie)
API_KEY=$(secret apikey)
REDIS_PASS=$(secret redispw)
MYSQL_PASS=$(secret mysqlpw)
NEW_USER_PASS=$(secret newuserpw)

# nginx answers /login with a Set-Cookie carrying a secret: the test
# site is the fixtures' plus that location.
cp -r "$NGINX_FIXTURES" "$WORK/nginx-fixtures"
NGINX_FIXTURES=$WORK/nginx-fixtures
sed "s|^}\$|\tlocation = /login {\n\t\tadd_header Set-Cookie \"sid=$SET_COOKIE; HttpOnly\";\n\t\treturn 200 '{\"ok\":true}\\\\n';\n\t}\n}|" \
	"$NGINX_FIXTURES/http.site.in" >"$NGINX_FIXTURES/login.site.in"
start_nginx login "$HTTP_PORT"
curl -s -D - -o /dev/null "http://127.0.0.1:$HTTP_PORT/login" |
	grep -q "^Set-Cookie: sid=$SET_COOKIE" || fail "nginx sends no Set-Cookie"

start_redis "$REDIS_PORT" --requirepass "$REDIS_PASS"
start_mariadb "$MYSQL_PORT"
mysql_root -e "CREATE USER 'dt'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASS';
	GRANT ALL ON *.* TO 'dt'@'127.0.0.1'" || fail "CREATE USER failed"

start_daemon redact
http=$(start_task --server "port:$HTTP_PORT" -o "$WORK/http.dtsess")
http_key=$(start_task --server "port:$HTTP_PORT" --redact header:X-Api-Key \
	-o "$WORK/http_key.dtsess")
redis=$(start_task --server "port:$REDIS_PORT" -o "$WORK/redis.dtsess")
mysql=$(start_task --server "port:$MYSQL_PORT" -o "$WORK/mysql.dtsess")

# --- traffic with secrets -------------------------------------------------

base=http://127.0.0.1:$HTTP_PORT
curl -sS -o /dev/null -H "Authorization: Bearer $BEARER" \
	-H "Cookie: session=$COOKIE" -H "X-Api-Key: $API_KEY" \
	"$base/api/orders/7.json?visible=path-marker" ||
	fail "curl failed"
curl -sS -o /dev/null -H "Authorization: Bearer $BEARER" "$base/login" ||
	fail "curl /login failed"

redis-cli -p "$REDIS_PORT" -a "$REDIS_PASS" --no-auth-warning \
	SET visible:key-marker value-marker >/dev/null || fail "redis SET failed"
printf 'AUTH %s\nGET visible:key-marker\n' "$REDIS_PASS" |
	redis-cli -p "$REDIS_PORT" >/dev/null || fail "redis AUTH failed"

mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u dt -p"$MYSQL_PASS" \
	-e "CREATE USER 'visible_user_marker'@'localhost' IDENTIFIED BY '$NEW_USER_PASS';
	SELECT 'visible-sql-marker'" >/dev/null || fail "mariadb as dt failed"

sleep 1.5 # let the daemon drain and flush
for id in "$http" "$http_key" "$redis" "$mysql"; do
	task stop "$id" >/dev/null || fail "task stop $id failed"
done
task list

# --- no secret in any byte -------------------------------------------------

scan()
{
	local name=$1
	assert_task_file "${!name}" "$WORK/$name.jsonl"
	session_plain "$WORK/$name.dtsess" "$WORK/$name.plain"
}

scan http
[ "$(count_lines "$WORK/http.jsonl")" -eq 2 ] ||
	fail "the HTTP task did not record the 2 requests"
assert_absent "$WORK/http.plain" http "$BEARER" "$COOKIE" "$SET_COOKIE"
assert_present "$WORK/http.plain" http path-marker "Authorization: " \
	"Set-Cookie: " "$API_KEY"
assert_absent "$WORK/http.jsonl" "http cat" "$BEARER" "$COOKIE" "$SET_COOKIE"

scan http_key
assert_absent "$WORK/http_key.plain" "http --redact" "$BEARER" "$COOKIE" \
	"$SET_COOKIE" "$API_KEY"
assert_present "$WORK/http_key.plain" "http --redact" path-marker "X-Api-Key: "

scan redis
assert_absent "$WORK/redis.plain" redis "$REDIS_PASS"
assert_present "$WORK/redis.plain" redis AUTH visible:key-marker value-marker
[ "$(jq -s 'map(select(.request.command == "AUTH")) | length' \
	"$WORK/redis.jsonl")" -ge 2 ] || fail "the two AUTHs are not recorded"

scan mysql
assert_absent "$WORK/mysql.plain" mysql "$MYSQL_PASS" "$NEW_USER_PASS"
assert_present "$WORK/mysql.plain" mysql visible_user_marker \
	visible-sql-marker "IDENTIFIED BY"
# Nor the login's answer to the scramble, which a dictionary attack could
# use: it is computed from the greeting recorded in the same file.
"$DEETUNE" cat --raw "$WORK/mysql.dtsess" >"$WORK/mysql.raw.jsonl" ||
	fail "cat --raw of the MySQL file failed"
PYTHONPATH=$LIB_DIR python3 - "$WORK/mysql.raw.jsonl" "$WORK/mysql.plain" \
	"$MYSQL_PASS" <<'EOF' || fail "the MySQL login's password material is recorded"
import base64, json, sys
from check_mysql import greeting_scramble, native_token
plain = open(sys.argv[2], "rb").read()
logins = 0
for line in open(sys.argv[1]):
    x = json.loads(line)
    if (x.get("request") or {}).get("command") != "handshake":
        continue
    raw = base64.b64decode((x.get("response") or {}).get("raw") or "")
    scramble = greeting_scramble(raw)
    if scramble is None:
        sys.exit(f"exchange {x['id']}: no greeting scramble")
    if native_token(sys.argv[3], scramble) in plain:
        sys.exit(f"exchange {x['id']}: the scramble answer is in the file")
    logins += 1
if not logins:
    sys.exit("no login recorded")
print(f"{logins} logins, no scramble answer in the file")
EOF
stop_daemon
echo ok
