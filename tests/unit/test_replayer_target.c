// SPDX-License-Identifier: MIT
/*
 * Unit tests of replay targets: URL parsing, formatting without
 * credentials, redaction, the credentials file and the environment. Every
 * error message is checked not to show the password.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "replayer/replayer.h"

#define SECRET "Sup3rS3cret"

static void parse_ok(const char *url, struct dt_target *t)
{
	char err[512] = "";

	assert_int_equal(dt_target_parse(t, url, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* Parsing fails, with a message that names the problem (what) and does
 * not show the secret. */
static void parse_fails(const char *url, const char *what)
{
	struct dt_target t;
	char err[512] = "";

	assert_int_equal(dt_target_parse(&t, url, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, what));
	assert_null(strstr(err, SECRET));
	assert_null(strstr(err, "S3cret"));
}

static void test_http(void **state)
{
	struct dt_target t;

	(void)state;
	parse_ok("http://127.0.0.1:8080", &t);
	assert_int_equal(t.scheme, DT_TARGET_HTTP);
	assert_int_equal(t.protocol, DT_PROTO_HTTP1);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 8080);
	assert_false(t.has_password);
	parse_ok("HTTP://Example.COM/", &t);
	assert_string_equal(t.host, "Example.COM");
	assert_int_equal(t.port, 80);
	parse_ok("http://[::1]:81", &t);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 81);
	assert_false(t.tls);
	/* https: the same scheme and protocol (HTTP/2 exchanges go to it
	 * too), over TLS, port 443 by default */
	parse_ok("HTTPS://staging.example", &t);
	assert_int_equal(t.scheme, DT_TARGET_HTTP);
	assert_int_equal(t.protocol, DT_PROTO_HTTP1);
	assert_true(t.tls);
	assert_int_equal(t.port, 443);
	parse_ok("https://127.0.0.1:8443/", &t);
	assert_int_equal(t.port, 8443);
	assert_true(t.tls);
}

static void test_redis(void **state)
{
	struct dt_target t;

	(void)state;
	parse_ok("redis://localhost", &t);
	assert_int_equal(t.scheme, DT_TARGET_REDIS);
	assert_int_equal(t.protocol, DT_PROTO_REDIS);
	assert_int_equal(t.port, 6379);
	assert_int_equal(t.redis_db, -1);
	assert_false(t.has_password);

	parse_ok("redis://:" SECRET "@10.0.0.2:6380/3", &t);
	assert_string_equal(t.host, "10.0.0.2");
	assert_int_equal(t.port, 6380);
	assert_int_equal(t.redis_db, 3);
	assert_true(t.has_password);
	assert_string_equal(t.password, SECRET);
	assert_string_equal(t.user, "");

	parse_ok("redis://app:" SECRET "@h", &t);
	assert_string_equal(t.user, "app");
	assert_string_equal(t.password, SECRET);

	/* the legacy form: a password alone */
	parse_ok("redis://" SECRET "@h/0", &t);
	assert_string_equal(t.user, "");
	assert_string_equal(t.password, SECRET);
	assert_int_equal(t.redis_db, 0);
}

static void test_mysql(void **state)
{
	struct dt_target t;

	(void)state;
	parse_ok("mysql://app@db.internal/shop", &t);
	assert_int_equal(t.scheme, DT_TARGET_MYSQL);
	assert_int_equal(t.protocol, DT_PROTO_MYSQL);
	assert_string_equal(t.user, "app");
	assert_false(t.has_password);
	assert_int_equal(t.port, 3306);
	assert_string_equal(t.db, "shop");

	/* percent-decoded; a raw '@' or '/' in the password is fine too */
	parse_ok("mysql://a%20b:p%40ss%2Fw@[fe80::1]:3307/my%2Ddb", &t);
	assert_string_equal(t.user, "a b");
	assert_string_equal(t.password, "p@ss/w");
	assert_string_equal(t.host, "fe80::1");
	assert_int_equal(t.port, 3307);
	assert_string_equal(t.db, "my-db");
	parse_ok("mysql://u:a/b@c@host:1/db", &t);
	assert_string_equal(t.password, "a/b@c");
	assert_string_equal(t.host, "host");
	assert_string_equal(t.db, "db");

	/* an empty password is a password */
	parse_ok("mysql://u:@h", &t);
	assert_true(t.has_password);
	assert_string_equal(t.password, "");
}

static void test_errors_hide_password(void **state)
{
	(void)state;
	parse_fails("ftp://h", "unsupported scheme");
	parse_fails("https://u:" SECRET "@h", "takes no credentials");
	parse_fails("rediss://:" SECRET "@h", "unsupported scheme");
	parse_fails("h:80", "expected http://");
	parse_fails("redis://:" SECRET "@", "missing host");
	parse_fails("redis://:" SECRET "@h:0", "port out of range");
	parse_fails("redis://:" SECRET "@h:65536", "port out of range");
	parse_fails("redis://:" SECRET "@h:80x", "invalid port");
	parse_fails("redis://:" SECRET "@h:", "invalid port");
	parse_fails("redis://:" SECRET "@h/one", "Redis database");
	parse_fails("redis://:" SECRET "@h?db=1", "query");
	parse_fails("mysql://u:" SECRET "@h/a%2Fb", "database name");
	parse_fails("mysql://u:" SECRET "%zz@h", "invalid password");
	parse_fails("mysql://u:" SECRET "%00@h", "invalid password");
	parse_fails("mysql://u:" SECRET "@h%/db", "invalid host");
	parse_fails("mysql://u:" SECRET "@[::1/db", "IPv6");
	parse_fails("mysql://u:" SECRET "@[::1]x/db", "IPv6");
	parse_fails("http://u:" SECRET "@h", "no credentials");
	parse_fails("http://h/api", "no path");
}

static void test_format(void **state)
{
	struct dt_target t;
	char buf[300];

	(void)state;
	parse_ok("mysql://app:" SECRET "@[::1]:3307/shop", &t);
	assert_int_equal(dt_target_format(&t, buf, sizeof(buf)),
			 (int)strlen("mysql://app@[::1]:3307/shop"));
	assert_string_equal(buf, "mysql://app@[::1]:3307/shop");
	parse_ok("redis://:" SECRET "@h/2", &t);
	dt_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "redis://h:6379/2");
	parse_ok("http://h", &t);
	dt_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "http://h:80");
	assert_int_equal(dt_target_format(&t, buf, 5), -ENOSPC);
	parse_ok("https://h", &t);
	dt_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "https://h:443");
}

static void redacts(const char *url, const char *want)
{
	char buf[256];

	dt_target_redact_url(url, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_redact(void **state)
{
	char small[8];

	(void)state;
	redacts("redis://:" SECRET "@h:1/2", "redis://:***@h:1/2");
	redacts("redis://" SECRET "@h", "redis://***@h");
	redacts("mysql://app:" SECRET "@h/db", "mysql://app:***@h/db");
	redacts("mysql://app@h/db", "mysql://app@h/db");
	redacts("mysql://u:a/b@" SECRET "@h/db", "mysql://u:***@h/db");
	redacts("http://h:80", "http://h:80");
	redacts("--target=redis://:" SECRET "@h",
		"--target=redis://:***@h");
	redacts("junk" SECRET "@h", "***@h");
	dt_target_redact_url("redis://:" SECRET "@h", small, sizeof(small));
	assert_string_equal(small, "redis:/");
}

/* ---- credentials -------------------------------------------------------- */

static char cred_path[64];

static void write_creds(const char *text)
{
	int fd;

	snprintf(cred_path, sizeof(cred_path), "/tmp/dt-creds-XXXXXX");
	fd = mkstemp(cred_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int teardown_creds(void **state)
{
	(void)state;
	if (cred_path[0])
		unlink(cred_path);
	cred_path[0] = '\0';
	unsetenv("DEETUNE_REDIS_PASSWORD");
	unsetenv("DEETUNE_MYSQL_PASSWORD");
	return 0;
}

static void two_targets(struct dt_target t[2], const char *redis,
			const char *mysql)
{
	parse_ok(redis, &t[0]);
	parse_ok(mysql, &t[1]);
}

static void test_credentials_file(void **state)
{
	struct dt_target t[2];
	char err[256] = "";

	(void)state;
	write_creds("# comment\n\nredis=" SECRET " with space\r\n"
		    "mysql=app:p=a:ss\n");
	two_targets(t, "redis://h", "mysql://h/db");
	assert_int_equal(dt_credentials_apply(t, 2, cred_path, err,
					      sizeof(err)), 0);
	assert_true(t[0].has_password);
	assert_string_equal(t[0].password, SECRET " with space");
	assert_string_equal(t[1].user, "app");
	assert_string_equal(t[1].password, "p=a:ss");

	/* the URL's password wins; a line for another user is not used */
	two_targets(t, "redis://:url@h", "mysql://other@h/db");
	assert_int_equal(dt_credentials_apply(t, 2, cred_path, err,
					      sizeof(err)), 0);
	assert_string_equal(t[0].password, "url");
	assert_string_equal(t[1].user, "other");
	assert_false(t[1].has_password);
}

static void test_credentials_env(void **state)
{
	struct dt_target t[2];
	char err[256] = "";

	(void)state;
	setenv("DEETUNE_REDIS_PASSWORD", "from-env", 1);
	setenv("DEETUNE_MYSQL_PASSWORD", "my-env", 1);
	write_creds("redis=from-file\n");
	two_targets(t, "redis://h", "mysql://app@h/db");
	assert_int_equal(dt_credentials_apply(t, 2, cred_path, err,
					      sizeof(err)), 0);
	/* the file before the environment */
	assert_string_equal(t[0].password, "from-file");
	assert_string_equal(t[1].password, "my-env");
	assert_string_equal(t[1].user, "app");
	two_targets(t, "redis://h", "mysql://app@h/db");
	assert_int_equal(dt_credentials_apply(t, 2, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(t[0].password, "from-env");
}

static void cred_fails(const char *text, const char *what, unsigned line)
{
	struct dt_target t[2];
	char err[256] = "", where[80];

	write_creds(text);
	two_targets(t, "redis://h", "mysql://h/db");
	assert_int_equal(dt_credentials_apply(t, 2, cred_path, err,
					      sizeof(err)), -EINVAL);
	snprintf(where, sizeof(where), "%s:%u: ", cred_path, line);
	assert_non_null(strstr(err, where));
	assert_non_null(strstr(err, what));
	assert_null(strstr(err, SECRET));
	unlink(cred_path);
	cred_path[0] = '\0';
}

static void test_credentials_errors(void **state)
{
	struct dt_target t[1];
	char err[256] = "", big[1200];

	(void)state;
	cred_fails("redis=x\n" SECRET "\n", "expected KEY=VALUE", 2);
	cred_fails("postgres=" SECRET "\n", "unknown key", 1);
	cred_fails("mysql=" SECRET "\n", "mysql=USER:PASSWORD", 1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "redis=", 6);
	cred_fails(big, "line too long", 1);
	memcpy(big + 300, SECRET, strlen(SECRET));
	big[500] = '\0';
	cred_fails(big, "longer than 255", 1);

	parse_ok("redis://h", &t[0]);
	assert_int_equal(dt_credentials_apply(t, 1, "/nonexistent/creds", err,
					      sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/creds"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_redis),
		cmocka_unit_test(test_mysql),
		cmocka_unit_test(test_errors_hide_password),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_redact),
		cmocka_unit_test_teardown(test_credentials_file,
					  teardown_creds),
		cmocka_unit_test_teardown(test_credentials_env, teardown_creds),
		cmocka_unit_test_teardown(test_credentials_errors,
					  teardown_creds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
