// SPDX-License-Identifier: MIT
/*
 * Unit tests of MySQL comparison from summary attributes: result kinds,
 * error codes, affected rows, columns, rows in order and as multisets
 * (--unordered-rows, ORDER BY detection), noise in rows.
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

static const char cols2[] =
	"[{\"name\":\"id\",\"type\":\"LONG\",\"table\":\"t\",\"schema\":\"prod\"},"
	"{\"name\":\"name\",\"type\":\"VAR_STRING\",\"table\":\"t\","
	"\"schema\":\"prod\"}]";

/* A MySQL exchange with attrs given as key, value pairs, NULL-ended. The
 * recorded one (link 0) has wire bytes; a replay holds attributes only,
 * as the replayer writes them. */
static void xch_mysql(struct dt_exchange *x, uint64_t id, uint64_t link,
		      ...)
{
	const char *key, *value;
	va_list ap;

	xch_init(x, DT_PROTO_MYSQL, id, link, "\x03", 1, link ? "" : "\x01",
		 link ? 0 : 1);
	va_start(ap, link);
	while ((key = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		assert_int_equal(dt_exchange_set_attr(x, key, value), 0);
	}
	va_end(ap);
}

/* A result set of SQL, with the columns, row count and preview given. */
static void xch_rows(struct dt_exchange *x, uint64_t id, uint64_t link,
		     const char *sql, const char *cols, const char *nrows,
		     const char *preview)
{
	xch_mysql(x, id, link, "request.command", "COM_QUERY",
		  "request.sql", sql, "response.kind", "resultset",
		  "response.columns", cols, "response.rows", nrows,
		  "response.preview", preview, NULL);
}

static struct dt_diff_report *
diff_and_release(const struct dt_diff_rules *rules, bool unordered,
		 struct dt_exchange *rec, struct dt_exchange *rep)
{
	struct dt_diff_report *r = diff_pair(rules, unordered, rec, rep, NULL);

	dt_exchange_release(rec);
	dt_exchange_release(rep);
	return r;
}

static struct dt_diff_report *diff_rows(const struct dt_diff_rules *rules,
					bool unordered, const char *sql,
					const char *cols_a, const char *rows_a,
					const char *cols_b, const char *rows_b,
					const char *count_b)
{
	struct dt_exchange rec, rep;
	char count_a[16];
	json_t *p = json_loads(rows_a, 0, NULL);

	assert_non_null(p);
	snprintf(count_a, sizeof(count_a), "%zu", json_array_size(p));
	json_decref(p);
	xch_rows(&rec, 1, 0, sql, cols_a, count_a, rows_a);
	xch_rows(&rep, 2, 1, sql, cols_b, count_b ? count_b : count_a, rows_b);
	return diff_and_release(rules, unordered, &rec, &rep);
}

static const char sql[] = "SELECT id,  name\n FROM t /* all */";

static void test_mysql_same(void **state)
{
	static const char rows[] = "[[\"1\",\"ann\"],[\"2\",null]]";
	/* schema and table names are not compared */
	struct dt_diff_report *r = diff_rows(NULL, false, sql, cols2, rows,
		"[{\"name\":\"id\",\"type\":\"LONG\",\"table\":\"t2\","
		"\"schema\":\"staging\"},{\"name\":\"name\",\"type\":"
		"\"VAR_STRING\",\"table\":\"t2\",\"schema\":\"staging\"}]",
		rows, NULL);

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	assert_string_equal(r->endpoints[0].name,
			    "mysql SELECT id, name FROM t");
	assert_int_equal(r->endpoints[0].protocol, DT_PROTO_MYSQL);
	dt_diff_report_free(r);
}

static void test_mysql_rows_ordered(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_rows(NULL, false, sql, cols2,
		      "[[\"1\",\"ann\"],[\"2\",\"bob\"],[\"3\",\"cy\"]]", cols2,
		      "[[\"1\",\"ann\"],[\"2\",\"BOB\"],[\"3\",null]]", NULL);
	x = only_exchange(r);
	assert_string_equal(x->request, "SELECT id, name FROM t");
	assert_int_equal(x->nitems, 2);
	expect_values(expect_item(x, "$[1].name", DT_DIFF_UNEXPLAINED),
		      "\"bob\"", "\"BOB\"");
	expect_values(expect_item(x, "$[2].name", DT_DIFF_UNEXPLAINED),
		      "\"cy\"", "null");
	dt_diff_report_free(r);
	/* a row more: the count differs, the common rows compare */
	r = diff_rows(NULL, false, sql, cols2, "[[\"1\",\"ann\"]]", cols2,
		      "[[\"1\",\"ann\"],[\"2\",\"bob\"]]", "2");
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_values(expect_item(x, "rows", DT_DIFF_UNEXPLAINED), "1", "2");
	dt_diff_report_free(r);
	/* in order unless asked: the same rows moved differ */
	r = diff_rows(NULL, false, sql, cols2, "[[\"1\",\"a\"],[\"2\",\"b\"]]",
		      cols2, "[[\"2\",\"b\"],[\"1\",\"a\"]]", NULL);
	assert_int_equal(only_exchange(r)->differences, 4);
	dt_diff_report_free(r);
}

static void test_mysql_rows_unordered(void **state)
{
	static const char a[] = "[[\"1\",\"a\"],[\"2\",\"b\"],[\"2\",\"b\"]]";
	static const char b[] = "[[\"2\",\"b\"],[\"1\",\"a\"],[\"2\",\"b\"]]";
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_rows(NULL, true, sql, cols2, a, cols2, b, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
	/* a multiset: duplicates count */
	r = diff_rows(NULL, true, sql, cols2, a, cols2,
		      "[[\"2\",\"b\"],[\"1\",\"a\"],[\"1\",\"a\"]]", NULL);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 2);
	expect_values(expect_item(x, "$[2]", DT_DIFF_UNEXPLAINED),
		      "{\"id\":\"2\",\"name\":\"b\"}", NULL);
	assert_string_equal(x->items[0].note, "no such row in the replay");
	assert_string_equal(x->items[1].note, "only in the replay");
	expect_values(&x->items[1], NULL, "{\"id\":\"1\",\"name\":\"a\"}");
	dt_diff_report_free(r);
}

static void expect_order_kept(const char *query, bool kept)
{
	struct dt_diff_report *r = diff_rows(NULL, true, query, cols2,
		"[[\"1\",\"a\"],[\"2\",\"b\"]]", cols2,
		"[[\"2\",\"b\"],[\"1\",\"a\"]]", NULL);

	if ((only_outcome(r) == DT_DIFF_DIFFER) != kept)
		fail_msg("%s: order %s", query, kept ? "not kept" : "kept");
	dt_diff_report_free(r);
}

static void test_mysql_order_by(void **state)
{
	(void)state;
	expect_order_kept("SELECT * FROM t ORDER BY id", true);
	expect_order_kept("select * from t order\n  by id desc", true);
	expect_order_kept("SELECT * FROM (SELECT * FROM t) s ORDER BY 1", true);
	expect_order_kept("SELECT * FROM t", false);
	expect_order_kept("SELECT * FROM t -- ORDER BY id", false);
	expect_order_kept("SELECT * FROM t /* ORDER BY id */", false);
	expect_order_kept("SELECT 'x ORDER BY y' FROM t", false);
	expect_order_kept("SELECT \"a\\\" order by \" FROM t", false);
	expect_order_kept("SELECT `order by` FROM t", false);
	expect_order_kept("SELECT reorder by FROM t", false);
}

static void test_mysql_unordered_noise(void **state)
{
	static const char cols[] =
		"[{\"name\":\"id\",\"type\":\"LONG\"},"
		"{\"name\":\"updated\",\"type\":\"DATETIME\"},"
		"{\"name\":\"token\",\"type\":\"VAR_STRING\"}]";
	struct dt_diff_rules *rules = rules_of(
		"{\"ignore\": [\"$[*].updated\"], \"normalize\": [{\"regex\": "
		"\"^tok-[0-9]+$\", \"replace\": \"tok\"}]}");
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_rows(rules, true, "SELECT * FROM t", cols,
		      "[[\"1\",\"2024-01-01 00:00:00\",\"x\"],"
		      "[\"2\",\"2024-01-01 00:00:00\",\"tok-1\"]]", cols,
		      "[[\"2\",\"2024-01-01 00:00:00\",\"tok-9\"],"
		      "[\"1\",\"2025-05-05 00:00:00\",\"x\"]]", NULL);
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_NOISE_ONLY);
	assert_int_equal(x->nitems, 2);
	/* members of rows matched once noise is out, by recorded index */
	expect_values(expect_item(x, "$[0].updated", DT_DIFF_BY_RULE),
		      "\"2024-01-01 00:00:00\"", "\"2025-05-05 00:00:00\"");
	expect_values(expect_item(x, "$[1].token", DT_DIFF_BY_NORMALIZER),
		      "\"tok-1\"", "\"tok-9\"");
	dt_diff_report_free(r);
	dt_diff_rules_free(rules);
}

static void test_mysql_preview_cut(void **state)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;

	(void)state;
	/* whole previews of one row each: the rows differ */
	r = diff_rows(NULL, true, sql, cols2, "[[\"1\",\"a\"]]", cols2,
		      "[[\"9\",\"z\"]]", NULL);
	assert_int_equal(only_exchange(r)->differences, 2);
	dt_diff_report_free(r);
	/* the previews hold 1 of 5 rows: a multiset compares only whole */
	xch_rows(&rec, 1, 0, sql, cols2, "5", "[[\"1\",\"a\"]]");
	xch_rows(&rep, 2, 1, sql, cols2, "5", "[[\"9\",\"z\"]]");
	r = diff_and_release(NULL, true, &rec, &rep);
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
}

static void test_mysql_columns(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	r = diff_rows(NULL, false, sql, cols2, "[]",
		      "[{\"name\":\"id\",\"type\":\"LONGLONG\"},"
		      "{\"name\":\"full_name\",\"type\":\"VAR_STRING\"}]", "[]",
		      NULL);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 2);
	expect_values(expect_item(x, "columns[0].type", DT_DIFF_UNEXPLAINED),
		      "\"LONG\"", "\"LONGLONG\"");
	expect_values(expect_item(x, "columns[1].name", DT_DIFF_UNEXPLAINED),
		      "\"name\"", "\"full_name\"");
	dt_diff_report_free(r);
	r = diff_rows(NULL, false, sql, cols2, "[[\"1\",\"a\"]]",
		      "[{\"name\":\"id\",\"type\":\"LONG\"}]", "[[\"1\"]]", NULL);
	x = only_exchange(r);
	expect_values(expect_item(x, "columns", DT_DIFF_UNEXPLAINED),
		      "2: id, name", "1: id");
	/* without the same columns, rows compare as arrays */
	expect_values(expect_item(x, "$[0][1]", DT_DIFF_UNEXPLAINED), "\"a\"",
		      NULL);
	dt_diff_report_free(r);
	/* duplicate names: arrays too */
	r = diff_rows(NULL, false, "SELECT 1, 1", "[{\"name\":\"1\",\"type\":"
		      "\"LONG\"},{\"name\":\"1\",\"type\":\"LONG\"}]",
		      "[[\"1\",\"1\"]]", "[{\"name\":\"1\",\"type\":\"LONG\"},"
		      "{\"name\":\"1\",\"type\":\"LONG\"}]", "[[\"1\",\"2\"]]",
		      NULL);
	expect_item(only_exchange(r), "$[0][1]", DT_DIFF_UNEXPLAINED);
	dt_diff_report_free(r);
}

static void test_mysql_kinds(void **state)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	xch_rows(&rec, 1, 0, sql, cols2, "1", "[[\"1\",\"a\"]]");
	xch_mysql(&rep, 2, 1, "request.sql", sql, "response.kind", "err",
		  "response.error_code", "1146", "response.sql_state", "42S02",
		  "response.error_message", "Table 'shop.t' doesn't exist", NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_values(expect_item(x, "kind", DT_DIFF_UNEXPLAINED),
		      "resultset (1 rows)",
		      "err 1146 (42S02) \"Table 'shop.t' doesn't exist\"");
	dt_diff_report_free(r);
	/* errors: the code compares, the message only shows */
	xch_mysql(&rec, 1, 0, "response.kind", "err", "response.error_code",
		  "1146", "response.error_message", "Table 'a' x", NULL);
	xch_mysql(&rep, 2, 1, "response.kind", "err", "response.error_code",
		  "1146", "response.error_message", "Table 'b' x", NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
	xch_mysql(&rec, 1, 0, "response.kind", "err", "response.error_code",
		  "1146", NULL);
	xch_mysql(&rep, 2, 1, "response.kind", "err", "response.error_code",
		  "1054", NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	expect_values(expect_item(only_exchange(r), "error_code",
				  DT_DIFF_UNEXPLAINED), "err 1146", "err 1054");
	dt_diff_report_free(r);
	/* OK: affected rows; the insert id is the server's business */
	xch_mysql(&rec, 1, 0, "request.sql", "UPDATE t SET a=1",
		  "response.kind", "ok", "response.affected_rows", "1",
		  "response.last_insert_id", "7", NULL);
	xch_mysql(&rep, 2, 1, "request.sql", "UPDATE t SET a=1",
		  "response.kind", "ok", "response.affected_rows", "2",
		  "response.last_insert_id", "9", NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_values(expect_item(x, "affected_rows", DT_DIFF_UNEXPLAINED),
		      "1", "2");
	dt_diff_report_free(r);
}

static void test_mysql_skipped(void **state)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	xch_mysql(&rec, 1, 0, "request.command", "handshake",
		  "response.kind", "handshake", NULL);
	xch_mysql(&rep, 2, 1, "response.kind", "handshake", NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_SKIPPED);
	assert_string_equal(x->reason, "connection handshake (a replay makes "
			    "its own)");
	assert_string_equal(r->endpoints[0].name, "mysql handshake");
	dt_diff_report_free(r);
	/* the replayer chose not to send it */
	xch_mysql(&rec, 1, 0, "request.command", "COM_STMT_EXECUTE",
		  "response.kind", "ok", NULL);
	xch_mysql(&rep, 2, 1, "replay.skipped", "not replayed: the parameters "
		  "were not recorded whole", NULL);
	rep.flags = DT_XF_NO_RESPONSE;
	r = diff_and_release(NULL, false, &rec, &rep);
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_SKIPPED);
	assert_string_equal(x->reason, "not replayed: the parameters were not "
			    "recorded whole");
	assert_int_equal(dt_diff_exit_code(r), 0);
	dt_diff_report_free(r);
	/* a replay with no result at all failed */
	xch_mysql(&rec, 1, 0, "response.kind", "ok", NULL);
	xch_mysql(&rep, 2, 1, NULL);
	r = diff_and_release(NULL, false, &rec, &rep);
	assert_int_equal(only_exchange(r)->outcome, DT_DIFF_FAILED);
	dt_diff_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mysql_same),
		cmocka_unit_test(test_mysql_rows_ordered),
		cmocka_unit_test(test_mysql_rows_unordered),
		cmocka_unit_test(test_mysql_order_by),
		cmocka_unit_test(test_mysql_unordered_noise),
		cmocka_unit_test(test_mysql_preview_cut),
		cmocka_unit_test(test_mysql_columns),
		cmocka_unit_test(test_mysql_kinds),
		cmocka_unit_test(test_mysql_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
