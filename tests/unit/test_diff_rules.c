// SPDX-License-Identifier: MIT
/*
 * Unit tests of rules files: parsing (and the messages of bad files),
 * endpoint sections, header defaults, ignore patterns and regex
 * normalisers.
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

static void expect_error(const char *json, const char *msg)
{
	struct dt_diff_rules *rules = (void *)1;
	char err[256] = "";

	assert_int_equal(dt_diff_rules_parse(json, strlen(json), &rules, err,
					     sizeof(err)), -EINVAL);
	assert_null(rules);
	if (strcmp(err, msg))
		fail_msg("%s\n  gave '%s'\n  not  '%s'", json, err, msg);
}

static void test_rules_syntax_errors(void **state)
{
	(void)state;
	expect_error("", "1:0: '[' or '{' expected near end of file");
	expect_error("{\n  \"ignore\": [\"$.a\",]\n}",
		     "2:20: unexpected token near ']'");
	expect_error("{\"ignore\": [], \"ignore\": []}",
		     "1:23: duplicate object key near '\"ignore\"'");
	expect_error("[]", "the rules must be a JSON object");
}

static void test_rules_semantic_errors(void **state)
{
	(void)state;
	expect_error("{\"ignroe\": []}", "ignroe: unknown key \"ignroe\"");
	expect_error("{\"ignore\": \"$.a\"}",
		     "ignore: a list of strings expected");
	expect_error("{\"ignore\": [1]}", "ignore: entry 0 is not a string");
	expect_error("{\"ignore\": [\"$.a[\"]}",
		     "ignore: '$.a[': unterminated '[' at the end");
	expect_error("{\"ignore\": [\"\"]}", "ignore: '': empty pattern");
	expect_error("{\"ignore_headers\": [\"X Bad\"]}",
		     "ignore_headers: entry 0: 'X Bad' is not a header name");
	expect_error("{\"compare_headers\": [\"\"]}",
		     "compare_headers: entry 0: a header name of 1 to 255 "
		     "characters expected");
	expect_error("{\"normalize\": [{\"regex\": \"(\", \"replace\": \"\"}]}",
		     "normalize[0]: \"regex\": Unmatched ( or \\(");
	expect_error("{\"normalize\": [{\"regex\": \"a\"}]}",
		     "normalize[0]: \"replace\": a string expected");
	expect_error("{\"normalize\": [{\"regex\": \"\", \"replace\": \"\"}]}",
		     "normalize[0]: \"regex\" is empty");
	expect_error("{\"normalize\": [{\"regex\": \"a\", \"replace\": \"b\", "
		     "\"in\": \"body\"}]}",
		     "normalize[0]: unknown key \"in\"");
	expect_error("{\"normalize\": {}}",
		     "normalize: a list of {\"regex\", \"replace\"} expected");
	expect_error("{\"match\": \"GET *\"}",
		     "\"match\" belongs in an \"endpoints\" entry");
	expect_error("{\"endpoints\": {}}",
		     "endpoints: a list of objects expected");
	expect_error("{\"endpoints\": [{\"ignore\": []}]}",
		     "endpoints[0]: \"match\": a string expected");
	expect_error("{\"endpoints\": [{\"match\": \"*\", \"endpoints\": []}]}",
		     "endpoints[0]: \"endpoints\" inside \"endpoints\"");
	expect_error("{\"endpoints\": [{\"match\": \"*\"}, {\"match\": \"GET /\","
		     " \"ignore\": [\"$..\"]}]}",
		     "endpoints[1].ignore: '$..': name or '*' expected at the "
		     "end");
	expect_error("{\"endpoints\": [{\"match\": \"*\", \"normalize\": "
		     "[{\"regex\": \"[\", \"replace\": \"\"}]}]}",
		     "endpoints[0].normalize[0]: \"regex\": Invalid regular "
		     "expression");
}

static void expect_regex(const char *re, const char *msg)
{
	char err[128] = "";
	int ret = dt_regex_check(re, strlen(re), err, sizeof(err));

	if (!msg) {
		if (ret)
			fail_msg("'%s' refused: %s", re, err);
		return;
	}
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, msg);
}

/* regcomp() copies repeated trees: patterns that would blow it up are
 * refused before it runs (the fuzzer found one asking for 23 GB). */
static void test_regex_guard(void **state)
{
	static const char stacked[] = "a quantifier follows a quantifier";
	static const char complex[] = "too complex (repetitions multiply "
				      "its size)";
	char deep[200];

	(void)state;
	expect_regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
		     "[0-9a-f]{12}", NULL);
	expect_regex("^[0-9]+\\.[0-9]{3}$", NULL);
	expect_regex("(a|b)*c{0,5}|[]{}()*+?]x{2,}", NULL);
	expect_regex("[[:digit:]]+ \\( a{ b{x} )", NULL);
	expect_regex("x++", stacked);
	expect_regex("(a|v++++++++++++++++++++++++++++b)*c{0,5}", stacked);
	expect_regex("a{2}{3}", stacked);
	expect_regex("a*?", stacked);
	expect_regex("a{1001}", "repetition count above 1000");
	expect_regex("((a{100}){100}){100}", complex);
	expect_regex("(x)\\1", "backreferences are not supported");
	memset(deep, 0, sizeof(deep));
	for (size_t i = 0; i < 16; i++)
		memcpy(deep + 4 * i, "((a)", 4);
	expect_regex(deep, NULL);	/* unbalanced: regcomp's to refuse */
	memset(deep, 0, sizeof(deep));
	for (size_t i = 0; i < 33; i++)
		deep[i] = '(';
	expect_regex(deep, "groups nested too deep");
	/* a '+' per level doubles the tree */
	snprintf(deep, sizeof(deep), "%s", "((((((((((((((((a+)+)+)+)+)+)+)+)+)+)"
		 "+)+)+)+)+)+)+");
	expect_regex(deep, complex);
	expect_error("{\"normalize\": [{\"regex\": \"(ab+)+\\\\1\", "
		     "\"replace\": \"\"}]}",
		     "normalize[0]: \"regex\": backreferences are not supported");
}

static const char full_rules[] =
	"{\n"
	"  \"comment\": \"rules for the orders service\",\n"
	"  \"ignore\": [\"$.meta.generated_at\", \"$..trace_id\"],\n"
	"  \"ignore_headers\": [\"X-Request-Id\"],\n"
	"  \"compare_headers\": [\"Server\"],\n"
	"  \"normalize\": [\n"
	"    {\"regex\": \"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
	"[0-9a-f]{12}\", \"replace\": \"<uuid>\"}\n"
	"  ],\n"
	"  \"endpoints\": [\n"
	"    {\"match\": \"GET /api/orders/*\", \"ignore\": [\"$.total\"],\n"
	"     \"compare_headers\": [\"ETag\"]},\n"
	"    {\"match\": \"redis *\", \"ignore\": [\"$[*]\"]}\n"
	"  ]\n"
	"}\n";

static bool ignored(const struct dt_diff_rules *r, const char *endpoint,
		    const char *field, const char *parent)
{
	struct dt_rules_scope s;
	struct dt_field f;
	bool hit;

	assert_int_equal(dt_rules_scope_init(&s, r, endpoint), 0);
	assert_int_equal(dt_field_init(&f, field, parent), 0);
	hit = dt_rules_ignore(&s, &f);
	dt_field_release(&f);
	dt_rules_scope_release(&s);
	return hit;
}

static bool header_skipped(const struct dt_diff_rules *r,
			   const char *endpoint, const char *name)
{
	struct dt_rules_scope s;
	bool skipped;

	assert_int_equal(dt_rules_scope_init(&s, r, endpoint), 0);
	skipped = dt_rules_header_skipped(&s, name);
	dt_rules_scope_release(&s);
	return skipped;
}

static void test_rules_sections(void **state)
{
	struct dt_diff_rules *r = rules_of(full_rules);

	(void)state;
	assert_int_equal(r->nsections, 3);
	assert_true(ignored(r, "GET /x", "$.meta.generated_at", "body"));
	assert_true(ignored(r, "GET /x", "$.a[2].trace_id", "body"));
	assert_false(ignored(r, "GET /x", "$.meta.other", "body"));
	assert_true(ignored(r, "GET /x", "header.x-request-id", NULL));
	assert_false(ignored(r, "GET /x", "header.x-request", NULL));
	/* endpoint sections add to the top level where they match */
	assert_true(ignored(r, "GET /api/orders/12", "$.total", "body"));
	assert_false(ignored(r, "GET /api/users/12", "$.total", "body"));
	assert_true(ignored(r, "redis GET", "$[3]", "value"));
	assert_false(ignored(r, "GET /api/orders/12", "$[3]", "body"));
	dt_diff_rules_free(r);
}

static void test_rules_headers(void **state)
{
	struct dt_diff_rules *r = rules_of(full_rules);

	(void)state;
	/* defaults */
	assert_true(header_skipped(NULL, "GET /", "date"));
	assert_true(header_skipped(NULL, "GET /", "connection"));
	assert_true(header_skipped(NULL, "GET /", "etag"));
	assert_true(header_skipped(NULL, "GET /", "server"));
	assert_false(header_skipped(NULL, "GET /", "content-type"));
	assert_false(header_skipped(NULL, "GET /", "x-request-id"));
	/* compare_headers brings one back, where it applies */
	assert_false(header_skipped(r, "GET /", "server"));
	assert_true(header_skipped(r, "GET /", "etag"));
	assert_false(header_skipped(r, "GET /api/orders/1", "etag"));
	assert_true(header_skipped(r, "GET /api/orders/1", "date"));
	/* ignored headers are compared (their differences are noise) */
	assert_false(header_skipped(r, "GET /", "x-request-id"));
	dt_diff_rules_free(r);
}

/* Runs the normalisers of rules (for endpoint) over in. */
static char *normalized(const struct dt_diff_rules *r, const void *in,
			size_t len, size_t *out_len)
{
	struct dt_sbuf out = { 0 };
	struct dt_rules_scope s;

	assert_int_equal(dt_rules_scope_init(&s, r, "GET /"), 0);
	assert_int_equal(dt_rules_normalize(&s, in, len, &out), 0);
	dt_rules_scope_release(&s);
	if (out_len)
		*out_len = out.len;
	return dt_sbuf_take(&out);
}

static void expect_normalized(const char *rules, const char *in,
			      const char *out)
{
	struct dt_diff_rules *r = rules_of(rules);
	char *got = normalized(r, in, strlen(in), NULL);

	assert_string_equal(got, out);
	free(got);
	dt_diff_rules_free(r);
}

static void test_normalizers(void **state)
{
	struct dt_diff_rules *r;
	static const char bin[] = "id=1\0id=22\0end";
	size_t len;
	char *got;

	(void)state;
	expect_normalized(full_rules, "order 0a1b2c3d-0000-4000-8000-"
			  "123456789abc shipped",
			  "order <uuid> shipped");
	/* in order, each on the previous one's result */
	expect_normalized("{\"normalize\": [{\"regex\": \"[0-9]+\", "
			  "\"replace\": \"N\"}, {\"regex\": \"N-N\", "
			  "\"replace\": \"range\"}]}",
			  "1-22 and 333", "range and N");
	/* empty matches replace nothing, and do not loop */
	expect_normalized("{\"normalize\": [{\"regex\": \"x*\", "
			  "\"replace\": \"<x>\"}]}", "axxb", "a<x>b");
	/* anchors hold at the start of the value only */
	expect_normalized("{\"normalize\": [{\"regex\": \"^a\", "
			  "\"replace\": \"A\"}]}", "aaa", "Aaa");
	/* a replacement may be empty */
	expect_normalized("{\"normalize\": [{\"regex\": \"[ ]+\", "
			  "\"replace\": \"\"}]}", " a  b ", "ab");
	/* values holding NUL bytes are normalised whole */
	r = rules_of("{\"normalize\": [{\"regex\": \"[0-9]+\", "
		     "\"replace\": \"#\"}]}");
	got = normalized(r, bin, sizeof(bin) - 1, &len);
	assert_int_equal(len, 13);
	assert_memory_equal(got, "id=#\0id=#\0end", 13);
	free(got);
	dt_diff_rules_free(r);
}

static void test_normalize_limit(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's regexec interceptor runs strlen() over the rest of the
	 * input at every match: a million matches over 1 MiB would take
	 * hours. The valgrind run of this test covers the limit. */
	skip();
#endif
	struct dt_diff_rules *r = rules_of("{\"normalize\": [{\"regex\": \".\", "
					   "\"replace\": \"0123456789abcdef"
					   "0123456789abcdef0123456789abcdef"
					   "0123456789abcdef\"}]}");
	size_t len = (DT_NORMALIZE_MAX / 64) + 1024;
	char *big = malloc(len);
	struct dt_sbuf out = { 0 };
	struct dt_rules_scope s;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	assert_int_equal(dt_rules_scope_init(&s, r, "GET /"), 0);
	/* 64 bytes for each byte: past the limit, not grown forever */
	assert_int_equal(dt_rules_normalize(&s, big, len, &out), -E2BIG);
	dt_rules_scope_release(&s);
	dt_sbuf_release(&out);
	free(big);
	dt_diff_rules_free(r);
}

static void test_rules_minimal(void **state)
{
	struct dt_diff_rules *r = rules_of("{}");

	(void)state;
	assert_int_equal(r->nsections, 1);
	assert_false(ignored(r, "GET /", "status", NULL));
	dt_diff_rules_free(r);
	dt_diff_rules_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_syntax_errors),
		cmocka_unit_test(test_rules_semantic_errors),
		cmocka_unit_test(test_regex_guard),
		cmocka_unit_test(test_rules_sections),
		cmocka_unit_test(test_rules_headers),
		cmocka_unit_test(test_normalizers),
		cmocka_unit_test(test_normalize_limit),
		cmocka_unit_test(test_rules_minimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
