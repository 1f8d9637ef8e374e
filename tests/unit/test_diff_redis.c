// SPDX-License-Identifier: MIT
/*
 * Unit tests of Redis comparison: RESP2/RESP3 replies as JSON (every type,
 * hostile input), and reply type and value differences.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff/diff_int.h"
#include "tests/unit/diff_helpers.h"

/* Parses len bytes of RESP and checks the JSON text and type byte. */
static void expect_json(const char *resp, size_t len, const char *json,
			int type)
{
	json_t *v = NULL;
	int got_type = 0;
	char *text;
	ssize_t used = dt_resp_to_json((const uint8_t *)resp, len, &v,
				       &got_type);

	if (used < 0)
		fail_msg("'%s' did not parse: %zd", resp, used);
	assert_int_equal(used, len);
	assert_int_equal(got_type, type);
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(text, json);
	free(text);
	json_decref(v);
}

#define JSON_OF(resp, json, type) \
	expect_json(resp, sizeof(resp) - 1, json, type)

static void test_resp_types(void **state)
{
	(void)state;
	JSON_OF("+OK\r\n", "\"OK\"", '+');
	JSON_OF("-ERR unknown command\r\n", "{\"error\":\"ERR unknown "
		"command\"}", '-');
	JSON_OF(":-42\r\n", "-42", ':');
	JSON_OF(":9223372036854775807\r\n", "9223372036854775807", ':');
	JSON_OF("$5\r\nhel\rl\r\n", "\"hel\\rl\"", '$');
	JSON_OF("$0\r\n\r\n", "\"\"", '$');
	JSON_OF("$-1\r\n", "null", '$');
	JSON_OF("*-1\r\n", "null", '*');
	JSON_OF("*0\r\n", "[]", '*');
	JSON_OF("*3\r\n$1\r\na\r\n:1\r\n*1\r\n+x\r\n", "[\"a\",1,[\"x\"]]",
		'*');
	JSON_OF("_\r\n", "null", '_');
	JSON_OF(",3.5\r\n", "3.5", ',');
	JSON_OF(",-inf\r\n", "\"-inf\"", ',');
	JSON_OF(",nan\r\n", "\"nan\"", ',');
	JSON_OF("#t\r\n", "true", '#');
	JSON_OF("#f\r\n", "false", '#');
	JSON_OF("=15\r\ntxt:Some string\r\n", "\"Some string\"", '=');
	JSON_OF("(3492890328409238509324850943850943825024385\r\n",
		"\"3492890328409238509324850943850943825024385\"", '(');
	JSON_OF("!21\r\nSYNTAX invalid syntax\r\n",
		"{\"error\":\"SYNTAX invalid syntax\"}", '!');
	JSON_OF("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n",
		"{\"first\":1,\"second\":2}", '%');
	/* keys that are not strings become text */
	JSON_OF("%2\r\n:1\r\n+a\r\n*1\r\n:2\r\n+b\r\n",
		"{\"1\":\"a\",\"[2]\":\"b\"}", '%');
	JSON_OF("~2\r\n+a\r\n+b\r\n", "[\"a\",\"b\"]", '~');
	JSON_OF(">3\r\n+message\r\n+ch\r\n+hi\r\n",
		"[\"message\",\"ch\",\"hi\"]", '>');
	/* attributes describe the value after them and are skipped */
	JSON_OF("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:5\r\n",
		"5", ':');
	/* binary: not UTF-8, kept apart from any string */
	JSON_OF("$3\r\n\xff\x00\\\r\n", "{\"binary\":\"\\\\xff\\\\x00\\\\\\\\\"}",
		'$');
}

static void expect_bad(const char *resp, size_t len)
{
	json_t *v = (void *)1;
	int type;

	assert_int_equal(dt_resp_to_json((const uint8_t *)resp, len, &v,
					 &type), -EBADMSG);
	assert_null(v);
}

#define BAD(resp) expect_bad(resp, sizeof(resp) - 1)

static void test_resp_hostile(void **state)
{
	char deep[4 * (DT_RESP_MAX_DEPTH + 1) + 8];
	char want[2 * DT_RESP_MAX_DEPTH + 8];
	size_t i, n = 0;

	(void)state;
	BAD("");
	BAD("?x\r\n");
	BAD("+OK");
	BAD("+OK\r");
	BAD("+OK\rX");
	BAD("$5\r\nhel");
	BAD("$5\r\nhelloXX");
	BAD("$-2\r\n");
	BAD("$x\r\nab\r\n");
	BAD(":99999999999999999999\r\n");
	BAD(":\r\n");
	BAD(":-\r\n");
	BAD("#x\r\n");
	BAD("_x\r\n");
	BAD(",1.5x\r\n");
	BAD("=3\r\ntxt\r\n");
	BAD("*3\r\n:1\r\n:2\r\n");
	/* a count the bytes cannot hold fails before any element */
	BAD("*2147483647\r\n:1\r\n");
	BAD("%1000\r\n+a\r\n+b\r\n");
	BAD("*-5\r\n");
	BAD("|1\r\n+a\r\n");
	/* nesting past DT_RESP_MAX_DEPTH */
	for (i = 0; i <= DT_RESP_MAX_DEPTH; i++) {
		memcpy(deep + n, "*1\r\n", 4);
		n += 4;
	}
	memcpy(deep + n, ":1\r\n", 4);
	expect_bad(deep, n + 4);
	/* one level less is fine */
	memset(want, '[', DT_RESP_MAX_DEPTH);
	want[DT_RESP_MAX_DEPTH] = '1';
	memset(want + DT_RESP_MAX_DEPTH + 1, ']', DT_RESP_MAX_DEPTH);
	want[2 * DT_RESP_MAX_DEPTH + 1] = '\0';
	expect_json(deep + 4, n, want, '*');
}

/* A Redis exchange: command, recorded reply, replayed reply. */
static struct dt_diff_report *diff_redis(const struct dt_diff_rules *rules,
					 const char *cmd, const char *a,
					 const char *b)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;

	xch_init(&rec, DT_PROTO_REDIS, 3, 0, cmd, strlen(cmd), a, strlen(a));
	xch_init(&rep, DT_PROTO_REDIS, 9, 3, cmd, strlen(cmd), b, strlen(b));
	r = diff_pair(rules, false, &rec, &rep, NULL);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	return r;
}

static const char get_cmd[] = "*2\r\n$3\r\nget\r\n$6\r\nuser:1\r\n";

static void test_redis_same(void **state)
{
	struct dt_diff_report *r = diff_redis(NULL, get_cmd,
					      "$3\r\nann\r\n", "$3\r\nann\r\n");

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	/* the command, upper case, names the endpoint */
	assert_string_equal(r->endpoints[0].name, "redis GET");
	assert_int_equal(r->endpoints[0].protocol, DT_PROTO_REDIS);
	dt_diff_report_free(r);
}

static void test_redis_values(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_redis(NULL, get_cmd, "$3\r\nann\r\n", "$3\r\nbob\r\n");
	x = only_exchange(r);
	assert_string_equal(x->request, "GET user:1");
	expect_values(expect_item(x, "$", DT_DIFF_UNEXPLAINED), "\"ann\"",
		      "\"bob\"");
	dt_diff_report_free(r);
	r = diff_redis(NULL, "*2\r\n$6\r\nlrange\r\n$1\r\nl\r\n",
		       "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
		       "*2\r\n$1\r\na\r\n$1\r\nB\r\n");
	x = only_exchange(r);
	assert_int_equal(x->nitems, 2);
	expect_values(expect_item(x, "$[1]", DT_DIFF_UNEXPLAINED), "\"b\"",
		      "\"B\"");
	expect_values(expect_item(x, "$[2]", DT_DIFF_UNEXPLAINED), "\"c\"",
		      NULL);
	dt_diff_report_free(r);
	r = diff_redis(NULL, "*2\r\n$7\r\nhgetall\r\n$1\r\nh\r\n",
		       "%2\r\n+name\r\n+ann\r\n+age\r\n:30\r\n",
		       "%2\r\n+age\r\n:31\r\n+name\r\n+ann\r\n");
	expect_values(expect_item(only_exchange(r), "$.age",
				  DT_DIFF_UNEXPLAINED), "30", "31");
	dt_diff_report_free(r);
	r = diff_redis(NULL, get_cmd, "-ERR a\r\n", "-ERR b\r\n");
	expect_values(expect_item(only_exchange(r), "$.error",
				  DT_DIFF_UNEXPLAINED), "\"ERR a\"", "\"ERR b\"");
	dt_diff_report_free(r);
}

static void test_redis_types(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_redis(NULL, get_cmd, "$3\r\nann\r\n", "$-1\r\n");
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_values(expect_item(x, "type", DT_DIFF_UNEXPLAINED),
		      "bulk \"ann\"", "nil null");
	dt_diff_report_free(r);
	r = diff_redis(NULL, get_cmd, "+OK\r\n", "-ERR wrong\r\n");
	expect_values(expect_item(only_exchange(r), "type",
				  DT_DIFF_UNEXPLAINED), "status \"OK\"",
		      "error {\"error\":\"ERR wrong\"}");
	dt_diff_report_free(r);
	/* a nil is a nil in RESP2 and RESP3, an error an error */
	r = diff_redis(NULL, get_cmd, "$-1\r\n", "_\r\n");
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
	r = diff_redis(NULL, get_cmd, "-ERR x\r\n", "!5\r\nERR x\r\n");
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
	r = diff_redis(NULL, get_cmd, ":1\r\n", ",1\r\n");
	expect_item(only_exchange(r), "type", DT_DIFF_UNEXPLAINED);
	dt_diff_report_free(r);
}

static void test_redis_several_replies(void **state)
{
	static const char sub[] = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n"
				  "$1\r\nb\r\n";
	struct dt_diff_report *r;

	(void)state;
	r = diff_redis(NULL, sub,
		       "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		       "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
		       "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		       "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:2\r\n");
	expect_values(expect_item(only_exchange(r), "$[1][1]",
				  DT_DIFF_UNEXPLAINED), "\"b\"", "\"c\"");
	dt_diff_report_free(r);
}

static void test_redis_not_comparable(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_redis(NULL, get_cmd, "$3\r\nann\r\n", "$9\r\nann\r\n");
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_FAILED);
	assert_string_equal(x->reason, "replayed reply is not RESP");
	dt_diff_report_free(r);
	r = diff_redis(NULL, get_cmd, "junk", "$3\r\nann\r\n");
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_SKIPPED);
	assert_string_equal(x->reason, "recorded reply is not RESP");
	dt_diff_report_free(r);
	/* a command that does not parse still gets a name */
	r = diff_redis(NULL, "\x01\x02", "+OK\r\n", "+OK\r\n");
	assert_string_equal(r->endpoints[0].name,
			    "redis (command not parsed)");
	dt_diff_report_free(r);
}

static void test_redis_rules(void **state)
{
	struct dt_diff_rules *rules = rules_of(
		"{\"endpoints\": [{\"match\": \"redis LRANGE\", "
		"\"ignore\": [\"$[*].ts\"], \"normalize\": [{\"regex\": "
		"\"^sess-[0-9]+$\", \"replace\": \"sess\"}]}]}");
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_redis(rules, "*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n",
		       "*2\r\n%2\r\n+ts\r\n:1\r\n+v\r\n:1\r\n$6\r\nsess-1\r\n",
		       "*2\r\n%2\r\n+ts\r\n:2\r\n+v\r\n:1\r\n$7\r\nsess-22\r\n");
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_NOISE_ONLY);
	expect_item(x, "$[0].ts", DT_DIFF_BY_RULE);
	expect_item(x, "$[1]", DT_DIFF_BY_NORMALIZER);
	dt_diff_report_free(r);
	/* the section does not apply to other commands */
	r = diff_redis(rules, get_cmd, "$6\r\nsess-1\r\n", "$6\r\nsess-2\r\n");
	assert_int_equal(only_exchange(r)->outcome, DT_DIFF_DIFFER);
	dt_diff_report_free(r);
	dt_diff_rules_free(rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp_types),
		cmocka_unit_test(test_resp_hostile),
		cmocka_unit_test(test_redis_same),
		cmocka_unit_test(test_redis_values),
		cmocka_unit_test(test_redis_types),
		cmocka_unit_test(test_redis_several_replies),
		cmocka_unit_test(test_redis_not_comparable),
		cmocka_unit_test(test_redis_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
