// SPDX-License-Identifier: MIT
/*
 * Unit tests of the diff engine's grouping and limits, the three report
 * writers (text, JSON, JUnit: content, escaping, schema), and
 * dt_diff_sessions() over session files: pairing by link_id, missing and
 * unmatched replays, learned noise, rules files and bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diff/diff_int.h"
#include "tests/unit/diff_helpers.h"

static const char ok_json[] = "HTTP/1.1 200 OK\r\nContent-Type: "
			      "application/json\r\n\r\n{\"v\":1,\"t\":\"a\"}";
static const char changed_json[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				   "application/json\r\n\r\n{\"v\":2,\"t\":\"b\"}";
static const char noise_json[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				 "application/json\r\n\r\n{\"v\":1,\"t\":\"c\"}";

/* An HTTP GET of path; its response resp. */
static void xch_get(struct dt_exchange *x, uint64_t id, uint64_t link,
		    const char *path, const char *resp)
{
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	xch_http(x, id, link, req, resp);
	/* as the recorder sets them, from bytes the parser may refuse */
	assert_int_equal(dt_exchange_set_attr(x, "method", "GET"), 0);
	assert_int_equal(dt_exchange_set_attr(x, "path", path), 0);
}

/* Adds a pair to d: recorded id, replayed (or not) with resp. */
static void add_get(struct dt_diff *d, uint64_t id, const char *path,
		    const char *rec_resp, const char *rep_resp)
{
	struct dt_exchange rec, rep;

	xch_get(&rec, id, 0, path, rec_resp);
	xch_get(&rep, id + 1000, id, path, rep_resp ? rep_resp : "");
	assert_int_equal(dt_diff_add(d, &rec, rep_resp ? &rep : NULL), 0);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
}

/* A report with every outcome and hostile bytes in a path. */
static struct dt_diff_report *mixed_report(void)
{
	struct dt_diff_rules *rules = rules_of("{\"ignore\": [\"$.t\"]}");
	struct dt_diff_opts opts = { .rules = rules };
	struct dt_diff_report *r;
	struct dt_exchange rec;
	struct dt_diff *d;

	assert_int_equal(dt_diff_new(&d, &opts), 0);
	assert_int_equal(dt_diff_set_labels(d, "rec.dtsess", "rep&<1>.dtsess",
					    NULL), 0);
	add_get(d, 1, "/a", ok_json, ok_json);
	add_get(d, 2, "/a?x=1", ok_json, changed_json);
	add_get(d, 3, "/a", ok_json, noise_json);
	add_get(d, 4, "/b", ok_json, NULL);
	add_get(d, 5, "/x<&\"'\x1b]0;pwn\x07", ok_json, changed_json);
	xch_get(&rec, 6, 0, "/c", ok_json);
	rec.flags = DT_XF_INCOMPLETE;
	assert_int_equal(dt_diff_add(d, &rec, NULL), 0);
	dt_exchange_release(&rec);
	dt_diff_add_unmatched(d);
	assert_int_equal(dt_diff_warn(d, "%s has no trailer", "rep\n.dtsess"),
			 0);
	assert_int_equal(dt_diff_finish(d, &r), 0);
	dt_diff_rules_free(rules);
	return r;
}

static void test_engine_counts(void **state)
{
	struct dt_diff_report *r = mixed_report();
	const struct dt_diff_endpoint *a;

	(void)state;
	assert_int_equal(r->exchanges, 6);
	assert_int_equal(r->counts[DT_DIFF_SAME], 1);
	assert_int_equal(r->counts[DT_DIFF_DIFFER], 2);
	assert_int_equal(r->counts[DT_DIFF_NOISE_ONLY], 1);
	assert_int_equal(r->counts[DT_DIFF_FAILED], 1);
	assert_int_equal(r->counts[DT_DIFF_SKIPPED], 1);
	assert_int_equal(r->unmatched_replays, 1);
	assert_int_equal(dt_diff_exit_code(r), 1);
	/* endpoints in the order first seen; the query is not part of it */
	assert_int_equal(r->nendpoints, 4);
	a = &r->endpoints[0];
	assert_string_equal(a->name, "GET /a");
	assert_string_equal(r->endpoints[1].name, "GET /b");
	assert_string_equal(r->endpoints[2].name, "GET /x<&\"'\\x1b]0;pwn\\x07");
	assert_string_equal(r->endpoints[3].name, "GET /c");
	assert_int_equal(a->counts[DT_DIFF_SAME], 1);
	assert_int_equal(a->counts[DT_DIFF_DIFFER], 1);
	assert_int_equal(a->counts[DT_DIFF_NOISE_ONLY], 1);
	/* only what did not compare the same is listed, in recorded order */
	assert_int_equal(a->nexchanges, 2);
	assert_int_equal(a->exchanges[0].recorded_id, 2);
	assert_int_equal(a->exchanges[0].replayed_id, 1002);
	assert_int_equal(a->exchanges[1].outcome, DT_DIFF_NOISE_ONLY);
	assert_int_equal(r->endpoints[1].exchanges[0].replayed_id, 0);
	assert_string_equal(r->warnings[0], "rep\\n.dtsess has no trailer");
	dt_diff_report_free(r);
}

static void test_listing_limits(void **state)
{
	struct dt_diff_report *r;
	struct dt_diff *d;
	uint64_t i;

	(void)state;
	assert_int_equal(dt_diff_new(&d, NULL), 0);
	for (i = 1; i <= DT_DIFF_MAX_LISTED + 20; i++)
		add_get(d, i, "/many", ok_json, changed_json);
	assert_int_equal(dt_diff_finish(d, &r), 0);
	assert_int_equal(r->endpoints[0].counts[DT_DIFF_DIFFER],
			 DT_DIFF_MAX_LISTED + 20);
	assert_int_equal(r->endpoints[0].nexchanges, DT_DIFF_MAX_LISTED);
	assert_int_equal(r->endpoints[0].unlisted, 20);
	dt_diff_report_free(r);
}

/* What a writer writes, as a string (free it). */
static char *written(int (*writer)(FILE *, const struct dt_diff_report *),
		     const struct dt_diff_report *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(writer(f, r), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void expect_in(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' not in:\n%s", part, text);
}

static void test_text_report(void **state)
{
	struct dt_diff_report *r = mixed_report();
	char *text = written(dt_diff_write_text, r);

	(void)state;
	expect_in(text, "GET /a\n  #2 (replay #1002) GET /a?x=1: differ\n"
		  "    $.v: 1 -> 2\n    $.t: \"a\" -> \"b\"  [noise: rule]\n"
		  "  #3 (replay #1003) GET /a: noise-only ($.t)\n");
	expect_in(text, "GET /b\n  #4 GET /b: failed: not replayed\n");
	expect_in(text, "  #6 GET /c: skipped: recorded exchange flagged "
		  "incomplete\n");
	/* the endpoint column as wide as the widest name */
	expect_in(text, "ENDPOINT                     SAME    NOISE   DIFFER   "
		  "FAILED  SKIPPED\nGET /a                          1        1  "
		  "      1        0        0\n");
	expect_in(text, "\n6 exchanges: 1 same, 1 noise-only, 2 differ, "
		  "1 failed, 1 skipped; 1 replayed exchanges match no "
		  "recorded one\n");
	/* nothing from the sessions reaches the terminal raw */
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x07'));
	free(text);
	dt_diff_report_free(r);
}

static void test_text_report_clean(void **state)
{
	struct dt_diff_report *r;
	struct dt_diff *d;
	char *text;

	(void)state;
	assert_int_equal(dt_diff_new(&d, NULL), 0);
	add_get(d, 1, "/", ok_json, ok_json);
	assert_int_equal(dt_diff_finish(d, &r), 0);
	text = written(dt_diff_write_text, r);
	assert_string_equal(text, "ENDPOINT     SAME    NOISE   DIFFER   "
			    "FAILED  SKIPPED\nGET /           1        0        "
			    "0        0        0\n\n1 exchanges: 1 same, 0 "
			    "noise-only, 0 differ, 0 failed, 0 skipped\n");
	assert_int_equal(dt_diff_exit_code(r), 0);
	free(text);
	dt_diff_report_free(r);
}

static void test_json_report(void **state)
{
	struct dt_diff_report *r = mixed_report();
	char *text = written(dt_diff_write_json, r);
	json_error_t err;
	json_t *doc = json_loads(text, 0, &err), *ep, *x, *it;

	(void)state;
	if (!doc)
		fail_msg("JSON report does not parse: %s", err.text);
	assert_string_equal(json_string_value(json_object_get(doc, "replayed")),
			    "rep&<1>.dtsess");
	assert_true(json_is_null(json_object_get(doc, "noise_from")));
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 doc, "summary"), "noise_only")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 doc, "summary"), "unmatched_replays")), 1);
	ep = json_array_get(json_object_get(doc, "endpoints"), 0);
	assert_string_equal(json_string_value(json_object_get(ep, "protocol")),
			    "http");
	assert_int_equal(json_integer_value(json_object_get(ep, "differ")), 1);
	x = json_array_get(json_object_get(ep, "exchanges"), 0);
	assert_int_equal(json_integer_value(json_object_get(x, "id")), 2);
	assert_int_equal(json_integer_value(json_object_get(x, "replay_id")),
			 1002);
	assert_string_equal(json_string_value(json_object_get(x, "outcome")),
			    "differ");
	assert_int_equal(json_integer_value(json_object_get(x, "differences")),
			 1);
	it = json_array_get(json_object_get(x, "items"), 1);
	assert_string_equal(json_string_value(json_object_get(it, "field")),
			    "$.t");
	assert_true(json_is_true(json_object_get(it, "noise")));
	assert_string_equal(json_string_value(json_object_get(it,
						"explained_by")), "rule");
	it = json_array_get(json_object_get(x, "items"), 0);
	assert_true(json_is_null(json_object_get(it, "explained_by")));
	assert_string_equal(json_string_value(json_object_get(it, "expected")),
			    "1");
	ep = json_array_get(json_object_get(doc, "endpoints"), 1);
	x = json_array_get(json_object_get(ep, "exchanges"), 0);
	assert_true(json_is_null(json_object_get(x, "replay_id")));
	assert_string_equal(json_string_value(json_object_get(x, "reason")),
			    "not replayed");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(doc, "warnings"), 0)),
			    "rep\\n.dtsess has no trailer");
	json_decref(doc);
	free(text);
	dt_diff_report_free(r);
}

/* Validates the XML against fixtures/diff/junit.xsd when xmllint is
 * installed (CI installs it). */
static void validate_junit(const char *xml)
{
	char path[] = "/tmp/test_diff_junit.XXXXXX", cmd[512];
	const char *xsd = "fixtures/diff/junit.xsd";
	FILE *f;
	int fd;

	if (system("command -v xmllint >/dev/null 2>&1") != 0 ||
	    access(xsd, R_OK) != 0) {
		print_message("xmllint or %s missing: schema not checked\n",
			      xsd);
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(xml, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema %s %s", xsd, path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

static void test_junit_report(void **state)
{
	struct dt_diff_report *r = mixed_report();
	char *xml = written(dt_diff_write_junit, r);

	(void)state;
	expect_in(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<testsuites name=\"deetune diff\" tests=\"4\" failures=\"2\" "
		  "errors=\"1\" skipped=\"1\">\n");
	expect_in(xml, "<property name=\"replayed\" value=\"rep&amp;&lt;1&gt;"
		  ".dtsess\"/>");
	expect_in(xml, "<testcase name=\"GET /a\" classname=\"deetune.diff.http"
		  "\">\n      <failure type=\"difference\" message=\"exchange #2 "
		  "(replay #1002) GET /a?x=1: differ&#10;$.v: 1 -&gt; 2&#10;"
		  "$.t: &quot;a&quot; -&gt; &quot;b&quot; [noise: rule]&#10;\">"
		  "exchange #2 (replay #1002) GET /a?x=1: differ\n$.v: 1 -&gt; 2"
		  "\n$.t: \"a\" -&gt; \"b\" [noise: rule]\n</failure>\n");
	expect_in(xml, "<system-out>1 same, 1 noise-only, 1 differ, 0 failed, "
		  "0 skipped\nexchange #3 (replay #1003) GET /a: noise-only\n"
		  "$.t: \"a\" -&gt; \"c\" [noise: rule]\n</system-out>");
	expect_in(xml, "<error type=\"replay\" message=\"exchange #4 GET /b: "
		  "failed: not replayed&#10;\">");
	expect_in(xml, "<testcase name=\"GET /x&lt;&amp;&quot;'\\x1b]0;pwn\\x07"
		  "\" classname=\"deetune.diff.http\">");
	expect_in(xml, "<testcase name=\"GET /c\" classname=\"deetune.diff.http"
		  "\">\n      <skipped message=\"nothing to compare\"/>\n");
	assert_null(strchr(xml, '\x1b'));
	validate_junit(xml);
	free(xml);
	dt_diff_report_free(r);
}

static void test_junit_unlisted(void **state)
{
	struct dt_diff_report *r;
	struct dt_diff *d;
	uint64_t i;
	char *xml;

	(void)state;
	assert_int_equal(dt_diff_new(&d, NULL), 0);
	for (i = 1; i <= DT_DIFF_MAX_LISTED + 3; i++)
		add_get(d, i, "/many", ok_json, i % 2 ? changed_json : NULL);
	assert_int_equal(dt_diff_finish(d, &r), 0);
	xml = written(dt_diff_write_junit, r);
	expect_in(xml, "<failure type=\"differ\" message=\"2 more exchanges "
		  "differ (not listed)\"/>");
	expect_in(xml, "<error type=\"failed\" message=\"1 more exchanges "
		  "failed (not listed)\"/>");
	validate_junit(xml);
	free(xml);
	dt_diff_report_free(r);
}

static void test_write_errors(void **state)
{
	struct dt_diff_report *r = mixed_report();
	int (*writers[])(FILE *, const struct dt_diff_report *) = {
		dt_diff_write_text, dt_diff_write_json, dt_diff_write_junit,
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		FILE *f = fmemopen(buf, sizeof(buf), "w");

		assert_non_null(f);
		setvbuf(f, NULL, _IONBF, 0);
		assert_int_equal(writers[i](f, r), -EIO);
		fclose(f);
	}
	dt_diff_report_free(r);
}

/* --- session files ------------------------------------------------------ */

static int file_write(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -EIO;
}

/* Writes exchanges to a new temporary session file; finish: with a
 * trailer. Returns its path (free it). */
static char *session_file(struct dt_exchange *xs, size_t n, bool finish)
{
	char *path = strdup("/tmp/test_diff_session.XXXXXX");
	struct dt_session_writer *w;
	struct dt_session_sink sink;
	FILE *f;
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	sink = (struct dt_session_sink){ .write = file_write, .ctx = f };
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dt_session_writer_append(w, &xs[i]), 0);
	if (finish)
		assert_int_equal(dt_session_writer_finish(w, NULL, 0), 0);
	else
		assert_int_equal(dt_session_writer_flush(w), 0);
	dt_session_writer_free(w);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < n; i++)
		dt_exchange_release(&xs[i]);
	return path;
}

static char *text_file(const char *text)
{
	char *path = strdup("/tmp/test_diff_rules.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static char *recorded_file(void)
{
	struct dt_exchange xs[4];

	xch_get(&xs[0], 1, 0, "/a", ok_json);
	xch_get(&xs[1], 2, 0, "/a", ok_json);
	xch_get(&xs[2], 3, 0, "/b", ok_json);
	xch_get(&xs[3], 4, 0, "/b", ok_json);
	return session_file(xs, 4, true);
}

/* Replays of 1 (twice), 2, 4 (in a different order), 99 and one
 * without link: the pairing is by link_id. */
static char *replayed_file(const char *resp2, bool finish)
{
	struct dt_exchange xs[6];

	xch_get(&xs[0], 1, 4, "/b", ok_json);
	xch_get(&xs[1], 2, 2, "/a", resp2);
	xch_get(&xs[2], 3, 1, "/a", ok_json);
	xch_get(&xs[3], 4, 1, "/a", changed_json);
	xch_get(&xs[4], 5, 99, "/z", ok_json);
	xch_get(&xs[5], 6, 0, "/z", ok_json);
	return session_file(xs, 6, finish);
}

static void remove_file(char *path)
{
	unlink(path);
	free(path);
}

static void test_sessions_pairing(void **state)
{
	struct dt_diff_session_opts opts = { 0 };
	char *rec = recorded_file(), *rep = replayed_file(changed_json, true);
	struct dt_diff_report *r = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(dt_diff_sessions(&opts, rec, rep, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r->exchanges, 4);
	assert_int_equal(r->counts[DT_DIFF_SAME], 2);	/* 1 (first), 4 */
	assert_int_equal(r->counts[DT_DIFF_DIFFER], 1);	/* 2 */
	assert_int_equal(r->counts[DT_DIFF_FAILED], 1);	/* 3 */
	/* 99, the one without link and the second replay of 1 */
	assert_int_equal(r->unmatched_replays, 3);
	assert_int_equal(r->endpoints[0].exchanges[0].recorded_id, 2);
	assert_int_equal(r->endpoints[0].exchanges[0].replayed_id, 2);
	assert_string_equal(r->recorded_label, rec);
	assert_null(r->noise_label);
	assert_int_equal(r->nwarnings, 0);
	dt_diff_report_free(r);
	remove_file(rec);
	remove_file(rep);
}

static void test_sessions_noise_and_rules(void **state)
{
	struct dt_diff_session_opts opts = { 0 };
	char *rec = recorded_file(), *rep = replayed_file(noise_json, false);
	char *rep2 = replayed_file(changed_json, true);
	char *rules = text_file("{\"ignore\": [\"$.v\", \"$.t\"]}");
	struct dt_diff_report *r = NULL;
	char err[256] = "";

	(void)state;
	/* exchange 2: t differs between the two replays: noise */
	opts.noise_path = rep2;
	assert_int_equal(dt_diff_sessions(&opts, rec, rep, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r->counts[DT_DIFF_NOISE_ONLY], 1);
	assert_int_equal(r->endpoints[0].exchanges[0].items[0].why,
			 DT_DIFF_BY_LEARNED);
	assert_string_equal(r->noise_label, rep2);
	/* the replay without trailer was read, with a warning */
	assert_int_equal(r->nwarnings, 1);
	expect_in(r->warnings[0], "has no trailer (interrupted?); read 6 "
		  "exchanges");
	dt_diff_report_free(r);
	opts.noise_path = NULL;
	opts.rules_path = rules;
	assert_int_equal(dt_diff_sessions(&opts, rec, rep2, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r->counts[DT_DIFF_NOISE_ONLY], 1);
	assert_int_equal(r->counts[DT_DIFF_DIFFER], 0);
	dt_diff_report_free(r);
	remove_file(rec);
	remove_file(rep);
	remove_file(rep2);
	remove_file(rules);
}

static void expect_sessions_error(const struct dt_diff_session_opts *opts,
				  const char *rec, const char *rep,
				  const char *msg)
{
	struct dt_diff_report *r = (void *)1;
	char err[512] = "";

	assert_true(dt_diff_sessions(opts, rec, rep, &r, err, sizeof(err)) < 0);
	assert_null(r);
	if (!strstr(err, msg))
		fail_msg("'%s' lacks '%s'", err, msg);
}

static void test_sessions_errors(void **state)
{
	struct dt_diff_session_opts opts = { 0 };
	char *rec = recorded_file(), *rep = replayed_file(ok_json, true);
	char *junk = text_file("not a session at all, not at all");
	char *bad_rules = text_file("{\"ignore\": [\n  \"$.a\",\n  3\n]}");
	char msg[512];
	FILE *f;
	long size;

	(void)state;
	expect_sessions_error(&opts, "/nonexistent/rec", rep,
			      "cannot read /nonexistent/rec: No such file or "
			      "directory");
	expect_sessions_error(&opts, rec, "/tmp", "cannot read /tmp: Is a "
			      "directory");
	snprintf(msg, sizeof(msg), "%s: ", junk);
	expect_sessions_error(&opts, junk, rep, msg);
	expect_sessions_error(&opts, rec, junk, msg);
	opts.rules_path = bad_rules;
	snprintf(msg, sizeof(msg), "%s: ignore: entry 1 is not a string",
		 bad_rules);
	expect_sessions_error(&opts, rec, rep, msg);
	opts.rules_path = NULL;
	opts.noise_path = junk;
	expect_sessions_error(&opts, rec, rep, junk);
	opts.noise_path = NULL;
	/* damage inside a frame: the reader's message, and no report */
	f = fopen(rec, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
	fputs("XXXXXXXX", f);
	assert_int_equal(fclose(f), 0);
	snprintf(msg, sizeof(msg), "%s: ", rec);
	expect_sessions_error(&opts, rec, rep, msg);
	remove_file(rec);
	remove_file(rep);
	remove_file(junk);
	remove_file(bad_rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_counts),
		cmocka_unit_test(test_listing_limits),
		cmocka_unit_test(test_text_report),
		cmocka_unit_test(test_text_report_clean),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_junit_report),
		cmocka_unit_test(test_junit_unlisted),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_sessions_pairing),
		cmocka_unit_test(test_sessions_noise_and_rules),
		cmocka_unit_test(test_sessions_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
