// SPDX-License-Identifier: MIT
/*
 * Unit tests of the JSON side of the diff module: structural diff and the
 * paths it reports, path patterns (wildcards, "..", quoting), and field
 * patterns over difference fields.
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

#define MAX_SEEN 64

static struct dt_jpath *path_of(const char *text);

/* What dt_json_diff() reported: "path: expected -> actual" lines. */
struct seen {
	size_t n;
	char *lines[MAX_SEEN];
};

static int collect(void *ctx, const char *path, const json_t *a,
		   const json_t *b)
{
	struct seen *s = ctx;
	char *ea = a ? dt_json_render(a, 100) : strdup("-");
	char *eb = b ? dt_json_render(b, 100) : strdup("-");
	struct dt_sbuf line = { 0 };

	assert_true(s->n < MAX_SEEN);
	dt_sbuf_printf(&line, "%s: %s -> %s", path, ea, eb);
	s->lines[s->n++] = dt_sbuf_take(&line);
	free(ea);
	free(eb);
	return 0;
}

static void seen_release(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	s->n = 0;
}

/* Diffs two JSON texts and checks the lines reported, in order. */
static void expect_diff(const char *a, const char *b, ...)
{
	json_t *ja = json_loads(a, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	json_t *jb = json_loads(b, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	struct seen s = { 0 };
	const char *line;
	size_t i = 0;
	va_list ap;

	assert_non_null(ja);
	assert_non_null(jb);
	assert_int_equal(dt_json_diff(ja, jb, "$", collect, &s), 0);
	va_start(ap, b);
	while ((line = va_arg(ap, const char *))) {
		if (i >= s.n)
			fail_msg("missing line %zu: %s", i, line);
		assert_string_equal(s.lines[i], line);
		i++;
	}
	va_end(ap);
	assert_int_equal(s.n, i);
	assert_int_equal(dt_json_equal(ja, jb), s.n == 0);
	seen_release(&s);
	json_decref(ja);
	json_decref(jb);
}

static void test_json_diff_paths(void **state)
{
	(void)state;
	expect_diff("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}", NULL);
	expect_diff("{\"items\":[{\"price\":1},{\"price\":2.5}]}",
		    "{\"items\":[{\"price\":1},{\"price\":3}]}",
		    "$.items[1].price: 2.5 -> 3", NULL);
	expect_diff("{\"a\":1,\"gone\":true}", "{\"a\":1,\"new\":null}",
		    "$.gone: true -> -", "$.new: - -> null", NULL);
	expect_diff("[1,2,3]", "[1,5]", "$[1]: 2 -> 5", "$[2]: 3 -> -",
		    NULL);
	expect_diff("{\"a\":{\"b\":1}}", "{\"a\":[1]}",
		    "$.a: {\"b\":1} -> [1]", NULL);
	expect_diff("\"x\"", "\"y\"", "$: \"x\" -> \"y\"", NULL);
	expect_diff("{\"s\":\"1\"}", "{\"s\":1}", "$.s: \"1\" -> 1", NULL);
}

static void test_json_numbers(void **state)
{
	(void)state;
	/* JSON does not tell 1 from 1.0 */
	expect_diff("{\"n\":1}", "{\"n\":1.0}", NULL);
	expect_diff("[0.1]", "[0.2]", "$[0]: 0.1 -> 0.2", NULL);
	expect_diff("[2.0]", "[2.5]", "$[0]: 2.0 -> 2.5", NULL);
	expect_diff("[9007199254740993]", "[9007199254740992]",
		    "$[0]: 9007199254740993 -> 9007199254740992", NULL);
	expect_diff("[true]", "[false]", "$[0]: true -> false", NULL);
}

static void test_json_path_quoting(void **state)
{
	(void)state;
	expect_diff("{\"with space\":1,\"it's\":2,\"x.y\":3,\"9a\":4,"
		    "\"_ok-1\":5,\"\":6}",
		    "{\"with space\":0,\"it's\":0,\"x.y\":0,\"9a\":0,"
		    "\"_ok-1\":0,\"\":0}",
		    "$['with space']: 1 -> 0", "$['it\\'s']: 2 -> 0",
		    "$['x.y']: 3 -> 0", "$['9a']: 4 -> 0", "$._ok-1: 5 -> 0",
		    "$['']: 6 -> 0", NULL);
	/* control characters never reach a terminal */
	expect_diff("{\"a\\nb\":1,\"\\u009b\":1}",
		    "{\"a\\nb\":2,\"\\u009b\":2}", "$['a\\u000ab']: 1 -> 2",
		    "$['\\u009b']: 1 -> 2", NULL);
}

/* Keys with a NUL (jansson's parser refuses them; Redis map keys may
 * hold one) show escaped and read back. */
static void test_json_nul_key(void **state)
{
	json_t *a = json_object(), *b = json_object();
	struct seen s = { 0 };
	struct dt_jpath *p;

	(void)state;
	assert_int_equal(json_object_setn_new(a, "c\0d", 3, json_integer(1)),
			 0);
	assert_int_equal(json_object_setn_new(b, "c\0d", 3, json_integer(2)),
			 0);
	assert_int_equal(dt_json_diff(a, b, "$", collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "$['c\\u0000d']: 1 -> 2");
	p = path_of("$['c\\u0000d']");
	seen_release(&s);
	dt_jpath_free(p);
	json_decref(a);
	json_decref(b);
}

static void test_json_render(void **state)
{
	json_t *v = json_loads("{\"k\":[1,2.5,\"x\\u0001\"],\"s\":\"long "
			       "text\"}", 0, NULL);
	json_t *s = json_string("tab\there \"q\"");
	char *text;

	(void)state;
	text = dt_json_render(v, 100);
	assert_string_equal(text, "{\"k\":[1,2.5,\"x\\\\u0001\"],\"s\":\"long "
			    "text\"}");
	free(text);
	text = dt_json_render(v, 10);
	assert_string_equal(text, "{\"k\":[1,2....");
	free(text);
	text = dt_json_render(s, 100);
	assert_string_equal(text, "\"tab\\there \\\"q\\\"\"");
	free(text);
	json_decref(v);
	json_decref(s);
}

static struct dt_jpath *path_of(const char *text)
{
	struct dt_jpath *p = NULL;
	char err[128];

	if (dt_jpath_parse(text, strlen(text), &p, err, sizeof(err)))
		fail_msg("'%s' did not parse: %s", text, err);
	return p;
}

static bool matches(const char *pattern, const char *path)
{
	struct dt_jpath *pp = path_of(pattern), *tp = path_of(path);
	bool m = dt_jpath_match(pp, tp);

	dt_jpath_free(pp);
	dt_jpath_free(tp);
	return m;
}

static void test_jpath_match(void **state)
{
	(void)state;
	assert_true(matches("$", "$.a.b"));
	assert_true(matches("$.a", "$.a"));
	assert_true(matches("$.a", "$.a.b[2]"));	/* covers below */
	assert_false(matches("$.a.b", "$.a"));
	assert_false(matches("$.a", "$.ab"));
	assert_true(matches("$.items[*].updated_at",
			    "$.items[12].updated_at"));
	assert_false(matches("$.items[*].updated_at", "$.items[12].price"));
	assert_true(matches("$.items[3]", "$.items[3].x"));
	assert_false(matches("$.items[3]", "$.items[4].x"));
	assert_true(matches("$..id", "$.id"));
	assert_true(matches("$..id", "$.a[1].b.id"));
	assert_true(matches("$..id", "$.a.id.b"));
	assert_false(matches("$..id", "$.a.ids"));
	assert_true(matches("$.*.x", "$.q.x"));
	assert_true(matches("$.*.x", "$[3].x"));
	assert_false(matches("$.*.x", "$.x"));
	assert_true(matches("$..[*].t", "$.a[0].t"));
	assert_true(matches("$..a..b", "$.x.a.y.z.b"));
	assert_false(matches("$..a..b", "$.x.b.a"));
	assert_true(matches("$['with space']", "$['with space'].z"));
	assert_true(matches("$[\"it's\"]", "$['it\\'s']"));
	assert_true(matches("$['\\u00e9t\\u00e9']", "$.été"));
	/* a key that looks like a wildcard is a key */
	assert_false(matches("$['*']", "$.a"));
	assert_true(matches("$['*']", "$['*']"));
}

static void expect_bad_path(const char *text, const char *msg)
{
	struct dt_jpath *p = NULL;
	char err[128] = "";

	assert_int_equal(dt_jpath_parse(text, strlen(text), &p, err,
					 sizeof(err)), -EINVAL);
	assert_null(p);
	if (!strstr(err, msg))
		fail_msg("'%s': '%s' lacks '%s'", text, err, msg);
}

static void test_jpath_errors(void **state)
{
	char long_path[DT_JPATH_MAX_TEXT + 8];

	(void)state;
	expect_bad_path("", "'$' expected");
	expect_bad_path("a.b", "'$' expected");
	expect_bad_path("$.", "name or '*' expected at the end");
	expect_bad_path("$a", "'.' or '[' expected at offset 1");
	expect_bad_path("$[", "unterminated '['");
	expect_bad_path("$[1", "']' expected");
	expect_bad_path("$[x]", "index, '*' or quoted name expected");
	expect_bad_path("$['a", "unterminated quoted name");
	expect_bad_path("$['a'", "']' expected");
	expect_bad_path("$['\\q']", "unknown escape at offset 3");
	expect_bad_path("$['\\u12']", "\\u needs 4 hex digits");
	expect_bad_path("$['\\ud800']", "surrogate");
	expect_bad_path("$[99999999999999999999999]", "index too large");
	expect_bad_path("$...a", "name or '*' expected");
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '$';
	long_path[1] = '.';
	long_path[sizeof(long_path) - 1] = '\0';
	expect_bad_path(long_path, "longer than");
}

/* Every path the diff reports reads back as a pattern matching it. */
static int roundtrip(void *ctx, const char *path, const json_t *a,
		     const json_t *b)
{
	size_t *n = ctx;
	struct dt_jpath *p = path_of(path);

	(void)a;
	(void)b;
	assert_true(dt_jpath_match(p, p));
	dt_jpath_free(p);
	(*n)++;
	return 0;
}

static void test_paths_read_back(void **state)
{
	json_t *a = json_loads("{\"a b\":{\"'\\\\\":[1,{\"\\u0080\\ufffe\":1,"
			       "\"ok\":1}]},\"\\t\":1,\"*\":1}", 0, NULL);
	json_t *b = json_loads("{\"a b\":{\"'\\\\\":[2,{\"\\u0080\\ufffe\":2,"
			       "\"ok\":2}]},\"\\t\":2,\"*\":2}", 0, NULL);
	size_t n = 0;

	(void)state;
	assert_int_equal(dt_json_diff(a, b, "$", roundtrip, &n), 0);
	assert_int_equal(n, 5);
	json_decref(a);
	json_decref(b);
}

static int stop_at_second(void *ctx, const char *path, const json_t *a,
			  const json_t *b)
{
	int *calls = ctx;

	(void)path;
	(void)a;
	(void)b;
	return ++*calls == 2 ? -ECANCELED : 0;
}

static void test_json_diff_stops(void **state)
{
	json_t *a = json_loads("[1,2,3]", 0, NULL);
	json_t *b = json_loads("[4,5,6]", 0, NULL);
	int calls = 0;

	(void)state;
	assert_int_equal(dt_json_diff(a, b, "$", stop_at_second, &calls),
			 -ECANCELED);
	assert_int_equal(calls, 2);
	json_decref(a);
	json_decref(b);
}

static bool field_matches(const char *pattern, const char *field,
			  const char *parent, bool literal)
{
	struct dt_field_pattern p;
	struct dt_field f;
	char err[128];
	bool m;

	if (dt_field_pattern_init(&p, pattern, literal, err, sizeof(err)))
		fail_msg("pattern '%s': %s", pattern, err);
	assert_int_equal(dt_field_init(&f, field, parent), 0);
	m = dt_field_pattern_match(&p, &f);
	dt_field_release(&f);
	dt_field_pattern_release(&p);
	return m;
}

static void test_field_patterns(void **state)
{
	struct dt_field_pattern p;
	char err[128];

	(void)state;
	assert_true(field_matches("status", "status", NULL, false));
	assert_true(field_matches("header.x-request-id", "header.X-Request-ID",
				  NULL, false));
	assert_true(field_matches("header.x-*", "header.x-trace", NULL, false));
	assert_false(field_matches("header.x-*", "header.etag", NULL, false));
	assert_true(field_matches("header", "header.etag", NULL, false));
	assert_true(field_matches("columns", "columns[2].name", NULL, false));
	assert_false(field_matches("column", "columns[2].name", NULL, false));
	/* a part covers the JSON paths into it */
	assert_true(field_matches("body", "$.a.b", "body", false));
	assert_false(field_matches("body", "$.a.b", "value", false));
	assert_false(field_matches("status", "$.status", "body", false));
	assert_true(field_matches("$.a", "$.a.b", "body", false));
	assert_false(field_matches("$.a", "status", NULL, false));
	/* learned fields are literal: no glob */
	assert_false(field_matches("header.x-*", "header.x-trace", NULL, true));
	assert_true(field_matches("header.x-*", "header.x-*", NULL, true));
	assert_true(field_matches("$[3]", "$[3].updated", "rows", true));
	assert_int_equal(dt_field_pattern_init(&p, "", false, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(dt_field_pattern_init(&p, "$.[", false, err,
					       sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_diff_paths),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_path_quoting),
		cmocka_unit_test(test_json_nul_key),
		cmocka_unit_test(test_json_render),
		cmocka_unit_test(test_jpath_match),
		cmocka_unit_test(test_jpath_errors),
		cmocka_unit_test(test_paths_read_back),
		cmocka_unit_test(test_json_diff_stops),
		cmocka_unit_test(test_field_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
