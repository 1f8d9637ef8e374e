// SPDX-License-Identifier: MIT
/*
 * Unit tests of HTTP comparison: status, headers (case, defaults,
 * repeats), bodies (chunked, gzip, JSON, bytes), what cannot be compared,
 * and noise from rules and from two replays.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "diff/diff_int.h"
#include "tests/unit/diff_helpers.h"

static const char get_items[] = "GET /api/items?page=2 HTTP/1.1\r\n"
				"Host: a\r\n\r\n";

/* Diffs a recorded and a replayed response to get_items. */
static struct dt_diff_report *diff_http(const struct dt_diff_rules *rules,
					const char *rec_resp,
					const char *rep_resp)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;

	xch_http(&rec, 1, 0, get_items, rec_resp);
	xch_http(&rep, 7, 1, get_items, rep_resp);
	r = diff_pair(rules, false, &rec, &rep, NULL);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	return r;
}

static void expect_same(const char *a, const char *b)
{
	struct dt_diff_report *r = diff_http(NULL, a, b);

	if (only_outcome(r) != DT_DIFF_SAME) {
		const struct dt_diff_exchange *x = only_exchange(r);

		for (size_t i = 0; i < x->nitems; i++)
			print_message("%s: %s -> %s\n", x->items[i].field,
				      x->items[i].expected, x->items[i].actual);
		fail_msg("not the same");
	}
	assert_int_equal(r->endpoints[0].nexchanges, 0);
	dt_diff_report_free(r);
}

static void test_same(void **state)
{
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			   "Content-Length: 2\r\n\r\nok";
	struct dt_diff_report *r = diff_http(NULL, resp, resp);

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	assert_int_equal(r->nendpoints, 1);
	/* the endpoint leaves the query out */
	assert_string_equal(r->endpoints[0].name, "GET /api/items");
	assert_int_equal(r->endpoints[0].protocol, DT_PROTO_HTTP1);
	assert_int_equal(r->endpoints[0].counts[DT_DIFF_SAME], 1);
	assert_int_equal(dt_diff_exit_code(r), 0);
	dt_diff_report_free(r);
}

static void test_status(void **state)
{
	struct dt_diff_report *r = diff_http(NULL,
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
	const struct dt_diff_exchange *x;

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_DIFFER);
	x = only_exchange(r);
	assert_int_equal(x->recorded_id, 1);
	assert_int_equal(x->replayed_id, 7);
	assert_string_equal(x->request, "GET /api/items?page=2");
	assert_int_equal(x->nitems, 1);
	assert_int_equal(x->differences, 1);
	expect_values(expect_item(x, "status", DT_DIFF_UNEXPLAINED), "200",
		      "500");
	assert_int_equal(dt_diff_exit_code(r), 1);
	dt_diff_report_free(r);
}

static void test_headers(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* names case-insensitive; hop-by-hop and date-like headers skipped */
	expect_same("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: a/1\r\n"
		    "ETag: \"1\"\r\nConnection: close\r\nKeep-Alive: t=5\r\n"
		    "Last-Modified: x\r\nAge: 1\r\nExpires: 0\r\n"
		    "Content-Length: 0\r\n\r\n",
		    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
		    "Date: Tue, 02 Jan 2024 00:00:00 GMT\r\nServer: b/2\r\n"
		    "ETag: \"2\"\r\nContent-Length: 0\r\n\r\n");
	r = diff_http(NULL,
		      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
		      "X-Gone: yes\r\nContent-Length: 0\r\n\r\n",
		      "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSET-COOKIE: b=3\r\n"
		      "X-Extra: 1\r\nContent-Length: 0\r\n\r\n");
	x = only_exchange(r);
	assert_int_equal(x->nitems, 3);
	/* repeated headers compare joined, in order */
	expect_values(expect_item(x, "header.set-cookie", DT_DIFF_UNEXPLAINED),
		      "\"a=1, b=2\"", "\"a=1, b=3\"");
	expect_values(expect_item(x, "header.x-gone", DT_DIFF_UNEXPLAINED),
		      "\"yes\"", NULL);
	expect_values(expect_item(x, "header.x-extra", DT_DIFF_UNEXPLAINED),
		      NULL, "\"1\"");
	/* recorded order first, then what only the replay has */
	assert_string_equal(x->items[0].field, "header.set-cookie");
	assert_string_equal(x->items[2].field, "header.x-extra");
	dt_diff_report_free(r);
}

static void test_header_values_escaped(void **state)
{
	struct dt_diff_report *r = diff_http(NULL,
		"HTTP/1.1 200 OK\r\nX-A: \x1b[31mred\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: \xff\"q\"\r\nContent-Length: 0\r\n\r\n");
	const struct dt_diff_exchange *x = only_exchange(r);

	(void)state;
	expect_values(expect_item(x, "header.x-a", DT_DIFF_UNEXPLAINED),
		      "\"\\x1b[31mred\"", "\"\\xff\\\"q\\\"\"");
	dt_diff_report_free(r);
}

static void test_chunked_vs_plain(void **state)
{
	(void)state;
	expect_same("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world");
	/* a replay client that de-chunked but kept the header */
	expect_same("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "b\r\nhello world\r\n0\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "hello world");
}

static void test_chunked_differs(void **state)
{
	struct dt_diff_report *r = diff_http(NULL,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello there");
	const struct dt_diff_exchange *x = only_exchange(r);
	const struct dt_diff_item *it;

	(void)state;
	/* Content-Length is left to the body comparison */
	assert_int_equal(x->nitems, 1);
	it = expect_item(x, "body", DT_DIFF_UNEXPLAINED);
	expect_values(it, "\"hello world\"", "\"hello there\"");
	assert_string_equal(it->note, "bodies differ from byte 6 (11 and 11 "
			    "bytes)");
	dt_diff_report_free(r);
}

static void test_body_context(void **state)
{
	char a[300], b[300];
	char ra[400], rb[400];
	struct dt_diff_report *r;
	const struct dt_diff_item *it;

	(void)state;
	memset(a, 'a', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[100] = '\n';
	snprintf(ra, sizeof(ra), "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n"
		 "%.200s", a);
	snprintf(rb, sizeof(rb), "HTTP/1.1 200 OK\r\nContent-Length: 201\r\n\r\n"
		 "%.201s", b);
	r = diff_http(NULL, ra, rb);
	it = expect_item(only_exchange(r), "body", DT_DIFF_UNEXPLAINED);
	/* 16 bytes before, 48 from the difference on, escaped */
	expect_values(it, "...\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			  "aaaaaaaaaaaaaaaa\"...",
		      "...\"aaaaaaaaaaaaaaaa\\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaa\"...");
	assert_string_equal(it->note, "bodies differ from byte 100 (200 and "
			    "201 bytes)");
	dt_diff_report_free(r);
}

/* body gzip-compressed into a malloc'd buffer. */
static uint8_t *gzip_bytes(const char *body, size_t *len)
{
	uLong cap = compressBound((uLong)strlen(body)) + 64;
	uint8_t *out = malloc(cap);
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	assert_non_null(out);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)body;
	zs.avail_in = (uInt)strlen(body);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void test_gzip_json(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				   "application/json\r\nContent-Encoding: gzip\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	const char *body = "{\"items\":[{\"id\":1,\"price\":12.5},"
			   "{\"id\":2,\"price\":7}],\"total\":2}";
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;
	struct dt_sbuf resp = { 0 };
	const struct dt_diff_exchange *x;
	size_t zlen;
	uint8_t *z = gzip_bytes(body, &zlen);

	(void)state;
	/* recorded: gzip, chunked; replayed: decoded by the client, other
	 * member order, one price changed */
	dt_sbuf_puts(&resp, head);
	dt_sbuf_printf(&resp, "%zx\r\n", zlen);
	dt_sbuf_put(&resp, z, zlen);
	dt_sbuf_puts(&resp, "\r\n0\r\n\r\n");
	assert_false(resp.oom);
	xch_init(&rec, DT_PROTO_HTTP1, 1, 0, get_items, strlen(get_items),
		 resp.p, resp.len);
	xch_http(&rep, 2, 1, get_items, "HTTP/1.1 200 OK\r\nContent-Type: "
		 "application/json\r\nContent-Encoding: gzip\r\n"
		 "Content-Length: 57\r\n\r\n{\"total\":2,\"items\":[{\"price\":12.5,"
		 "\"id\":1},{\"id\":2,\"price\":7.5}]}");
	r = diff_pair(NULL, false, &rec, &rep, NULL);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_values(expect_item(x, "$.items[1].price", DT_DIFF_UNEXPLAINED),
		      "7", "7.5");
	dt_diff_report_free(r);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	dt_sbuf_release(&resp);
	free(z);
}

static void test_json_detection(void **state)
{
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* no Content-Type: an object is JSON all the same */
	r = diff_http(NULL, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
			    "{\"a\": 1} ",
		      "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":2}");
	x = only_exchange(r);
	expect_values(expect_item(x, "$.a", DT_DIFF_UNEXPLAINED), "1", "2");
	dt_diff_report_free(r);
	/* JSON spacing is not a difference */
	expect_same("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
		    "[1, 2, {  }]",
		    "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n[1,2,{}]");
	/* broken JSON compares as bytes */
	r = diff_http(NULL, "HTTP/1.1 200 OK\r\nContent-Type: application/json"
			    "\r\nContent-Length: 5\r\n\r\n{\"a\":",
		      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		      "Content-Length: 7\r\n\r\n{\"a\":1}");
	x = only_exchange(r);
	expect_item(x, "body", DT_DIFF_UNEXPLAINED);
	dt_diff_report_free(r);
}

static void test_head_and_interim(void **state)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* no body on either side: Content-Length is what tells */
	xch_http(&rec, 1, 0, "HEAD / HTTP/1.1\r\n\r\n",
		 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
	xch_http(&rep, 2, 1, "HEAD / HTTP/1.1\r\n\r\n",
		 "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
	r = diff_pair(NULL, false, &rec, &rep, NULL);
	x = only_exchange(r);
	expect_values(expect_item(x, "header.content-length",
				  DT_DIFF_UNEXPLAINED), "\"10\"", "\"12\"");
	assert_string_equal(r->endpoints[0].name, "HEAD /");
	dt_diff_report_free(r);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	/* 1xx interim responses before the final one are not compared */
	expect_same("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
		    "Content-Length: 2\r\n\r\nok",
		    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
}

static void test_sendfile_body(void **state)
{
	struct dt_exchange rec, rep;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* the recording has no body (sendfile): only the head compares */
	xch_http(&rec, 1, 0, "GET /f HTTP/1.1\r\n\r\n",
		 "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
	/* the recorder flags such exchanges incomplete too */
	rec.flags = DT_XF_SENDFILE | DT_XF_INCOMPLETE;
	xch_http(&rep, 2, 1, "GET /f HTTP/1.1\r\n\r\n",
		 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde");
	r = diff_pair(NULL, false, &rec, &rep, NULL);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	expect_item(x, "header.content-length", DT_DIFF_UNEXPLAINED);
	dt_diff_report_free(r);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
}

static void expect_verdict(struct dt_exchange *rec, struct dt_exchange *rep,
			   enum dt_diff_outcome outcome, const char *reason)
{
	struct dt_diff_report *r = diff_pair(NULL, false, rec, rep, NULL);
	const struct dt_diff_exchange *x = only_exchange(r);

	assert_int_equal(x->outcome, outcome);
	assert_int_equal(only_outcome(r), outcome);
	assert_string_equal(x->reason, reason);
	assert_int_equal(x->nitems, 0);
	assert_int_equal(dt_diff_exit_code(r), outcome == DT_DIFF_FAILED);
	dt_diff_report_free(r);
}

static void test_not_comparable(void **state)
{
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct dt_exchange rec, rep;

	(void)state;
	xch_http(&rec, 1, 0, get_items, ok);
	xch_http(&rep, 2, 1, get_items, ok);
	expect_verdict(&rec, NULL, DT_DIFF_FAILED, "not replayed");
	assert_int_equal(dt_exchange_set_attr(&rep, "replay.error",
					      "GET /: Connection refused"), 0);
	expect_verdict(&rec, &rep, DT_DIFF_FAILED,
		       "replay failed: GET /: Connection refused");
	dt_exchange_release(&rep);
	xch_http(&rep, 2, 1, get_items, "");
	assert_int_equal(dt_exchange_set_attr(&rep, "replay.skipped",
					      "request\x1b not parsed"), 0);
	expect_verdict(&rec, &rep, DT_DIFF_SKIPPED,
		       "request\\x1b not parsed");
	dt_exchange_release(&rep);
	xch_http(&rep, 2, 1, get_items, "");
	rep.flags = DT_XF_NO_RESPONSE;
	expect_verdict(&rec, &rep, DT_DIFF_FAILED, "replay got no response");
	dt_exchange_release(&rep);
	xch_http(&rep, 2, 1, get_items, "garbage\r\n\r\n");
	expect_verdict(&rec, &rep, DT_DIFF_FAILED,
		       "replayed response is not HTTP/1.x");
	rep.protocol = DT_PROTO_REDIS;
	expect_verdict(&rec, &rep, DT_DIFF_FAILED, "replayed as redis");
	rep.protocol = DT_PROTO_HTTP1;
	dt_exchange_release(&rep);
	xch_http(&rep, 2, 1, get_items, ok);
	rep.flags = DT_XF_TRUNCATED;
	expect_verdict(&rec, &rep, DT_DIFF_FAILED,
		       "replayed response flagged truncated");
	rep.flags = 0;
	/* recordings that hold nothing to compare against are skipped */
	rec.flags = DT_XF_INCOMPLETE | DT_XF_MIDSTREAM;
	expect_verdict(&rec, &rep, DT_DIFF_SKIPPED,
		       "recorded exchange flagged incomplete");
	rec.flags = DT_XF_NO_RESPONSE;
	expect_verdict(&rec, NULL, DT_DIFF_SKIPPED,
		       "recorded exchange flagged no-response");
	rec.flags = 0;
	dt_exchange_release(&rec);
	xch_http(&rec, 1, 0, get_items, "HTTP/2 nonsense");
	expect_verdict(&rec, &rep, DT_DIFF_SKIPPED,
		       "recorded response is not HTTP/1.x");
	dt_exchange_release(&rec);
	xch_http(&rec, 1, 0, get_items, "");
	expect_verdict(&rec, &rep, DT_DIFF_SKIPPED, "no response was recorded");
	rec.protocol = 99;
	assert_int_equal(dt_exchange_set_response(&rec, "x", 1), 0);
	expect_verdict(&rec, &rep, DT_DIFF_SKIPPED,
		       "protocol unknown is not compared");
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
}

static const char ts_rec[] = "HTTP/1.1 200 OK\r\nX-Request-Id: 0a1b\r\n"
			     "Content-Type: application/json\r\n\r\n"
			     "{\"t\":\"1700000000.123\",\"id\":\"0a1b\",\"v\":1}";
static const char ts_rep[] = "HTTP/1.1 200 OK\r\nX-Request-Id: ffee\r\n"
			     "Content-Type: application/json\r\n\r\n"
			     "{\"t\":\"1700000055.999\",\"id\":\"ffee\",\"v\":1}";

static void test_rules_noise(void **state)
{
	struct dt_diff_rules *rules = rules_of(
		"{\"ignore_headers\": [\"X-Request-Id\"], \"ignore\": [\"$.id\"],"
		" \"normalize\": [{\"regex\": \"[0-9]{10}\\\\.[0-9]{3}\","
		" \"replace\": \"<time>\"}]}");
	struct dt_diff_report *r = diff_http(rules, ts_rec, ts_rep);
	const struct dt_diff_exchange *x;

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_NOISE_ONLY);
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_NOISE_ONLY);
	assert_int_equal(x->differences, 0);
	assert_int_equal(x->noise, 3);
	expect_item(x, "header.x-request-id", DT_DIFF_BY_RULE);
	expect_item(x, "$.id", DT_DIFF_BY_RULE);
	expect_values(expect_item(x, "$.t", DT_DIFF_BY_NORMALIZER),
		      "\"1700000000.123\"", "\"1700000055.999\"");
	assert_int_equal(dt_diff_exit_code(r), 0);
	dt_diff_report_free(r);
	dt_diff_rules_free(rules);
	/* without rules, the same pair differs */
	r = diff_http(NULL, ts_rec, ts_rep);
	assert_int_equal(only_exchange(r)->differences, 3);
	assert_int_equal(dt_diff_exit_code(r), 1);
	dt_diff_report_free(r);
}

static void test_rules_byte_body(void **state)
{
	struct dt_diff_rules *rules = rules_of(
		"{\"normalize\": [{\"regex\": \"id=[a-z0-9]+\", "
		"\"replace\": \"id=?\"}]}");
	struct dt_diff_report *r = diff_http(rules,
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello id=abc1",
		"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nhello id=zz999");
	const struct dt_diff_item *it;

	(void)state;
	assert_int_equal(only_outcome(r), DT_DIFF_NOISE_ONLY);
	expect_item(only_exchange(r), "body", DT_DIFF_BY_NORMALIZER);
	dt_diff_report_free(r);
	/* what the normalisers leave is shown from the normalised text */
	r = diff_http(rules,
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello id=abc1",
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhallo id=abc2");
	it = expect_item(only_exchange(r), "body", DT_DIFF_UNEXPLAINED);
	expect_values(it, "\"hello id=?\"", "\"hallo id=?\"");
	assert_string_equal(it->note, "normalised bodies differ from byte 1 "
			    "(13 and 13 bytes)");
	dt_diff_report_free(r);
	/* an empty body normalises to an empty string (a fuzzer found the
	 * context of a difference taken from a NULL buffer) */
	r = diff_http(rules, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	it = expect_item(only_exchange(r), "body", DT_DIFF_UNEXPLAINED);
	expect_values(it, "\"\"", "\"abc\"");
	dt_diff_report_free(r);
	/* "body" ignores the whole body, JSON or not */
	dt_diff_rules_free(rules);
	rules = rules_of("{\"ignore\": [\"body\"]}");
	r = diff_http(rules, ts_rec, "HTTP/1.1 200 OK\r\nX-Request-Id: 0a1b\r\n"
				     "Content-Type: application/json\r\n\r\n{}");
	assert_int_equal(only_outcome(r), DT_DIFF_NOISE_ONLY);
	expect_item(only_exchange(r), "$.t", DT_DIFF_BY_RULE);
	dt_diff_report_free(r);
	dt_diff_rules_free(rules);
}

static void test_learned_noise(void **state)
{
	static const char ts_rep2[] = "HTTP/1.1 200 OK\r\nX-Request-Id: 9999\r\n"
				      "Content-Type: application/json\r\n\r\n"
				      "{\"t\":\"1700000099.000\",\"id\":\"9999\","
				      "\"v\":1}";
	struct dt_exchange rec, rep, rep2;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	xch_http(&rec, 1, 0, get_items, ts_rec);
	xch_http(&rep, 2, 1, get_items, ts_rep);
	xch_http(&rep2, 3, 1, get_items, ts_rep2);
	r = diff_pair(NULL, false, &rec, &rep, &rep2);
	assert_int_equal(only_outcome(r), DT_DIFF_NOISE_ONLY);
	x = only_exchange(r);
	assert_int_equal(x->noise, 3);
	expect_item(x, "header.x-request-id", DT_DIFF_BY_LEARNED);
	expect_item(x, "$.t", DT_DIFF_BY_LEARNED);
	expect_item(x, "$.id", DT_DIFF_BY_LEARNED);
	dt_diff_report_free(r);
	dt_exchange_release(&rep);
	/* a field the two replays agree on is not noise */
	xch_http(&rep, 2, 1, get_items, "HTTP/1.1 200 OK\r\nX-Request-Id: ffee\r\n"
		 "Content-Type: application/json\r\n\r\n"
		 "{\"t\":\"1700000055.999\",\"id\":\"ffee\",\"v\":2}");
	dt_exchange_release(&rep2);
	xch_http(&rep2, 3, 1, get_items, "HTTP/1.1 200 OK\r\nX-Request-Id: 99\r\n"
		 "Content-Type: application/json\r\n\r\n"
		 "{\"t\":\"1700000099.000\",\"id\":\"99\",\"v\":2}");
	r = diff_pair(NULL, false, &rec, &rep, &rep2);
	x = only_exchange(r);
	assert_int_equal(x->outcome, DT_DIFF_DIFFER);
	assert_int_equal(x->differences, 1);
	expect_values(expect_item(x, "$.v", DT_DIFF_UNEXPLAINED), "1", "2");
	dt_diff_report_free(r);
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	dt_exchange_release(&rep2);
}

/* Past DT_DIFF_MAX_ITEMS, differences are counted, and unexplained ones
 * take the place of noise in the list. */
static void test_item_limit(void **state)
{
	struct dt_sbuf a = { 0 }, b = { 0 };
	struct dt_diff_rules *rules = rules_of("{\"ignore\": [\"$.n\"]}");
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;
	size_t i, unexplained = 0;

	(void)state;
	dt_sbuf_puts(&a, "HTTP/1.1 200 OK\r\n\r\n{\"n\":[");
	dt_sbuf_puts(&b, "HTTP/1.1 200 OK\r\n\r\n{\"n\":[");
	for (i = 0; i < 50; i++) {
		dt_sbuf_printf(&a, "%s%zu", i ? "," : "", i);
		dt_sbuf_printf(&b, "%s%zu", i ? "," : "", i + 1);
	}
	dt_sbuf_puts(&a, "],\"z\":[1,2,3]}");
	dt_sbuf_puts(&b, "],\"z\":[4,5,6]}");
	r = diff_http(rules, a.p, b.p);
	x = only_exchange(r);
	assert_int_equal(x->nitems, DT_DIFF_MAX_ITEMS);
	assert_int_equal(x->noise, 50);
	assert_int_equal(x->differences, 3);
	for (i = 0; i < x->nitems; i++)
		unexplained += x->items[i].why == DT_DIFF_UNEXPLAINED;
	assert_int_equal(unexplained, 3);
	expect_item(x, "$.z[2]", DT_DIFF_UNEXPLAINED);
	dt_diff_report_free(r);
	dt_diff_rules_free(rules);
	dt_sbuf_release(&a);
	dt_sbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_header_values_escaped),
		cmocka_unit_test(test_chunked_vs_plain),
		cmocka_unit_test(test_chunked_differs),
		cmocka_unit_test(test_body_context),
		cmocka_unit_test(test_gzip_json),
		cmocka_unit_test(test_json_detection),
		cmocka_unit_test(test_head_and_interim),
		cmocka_unit_test(test_sendfile_body),
		cmocka_unit_test(test_not_comparable),
		cmocka_unit_test(test_rules_noise),
		cmocka_unit_test(test_rules_byte_body),
		cmocka_unit_test(test_learned_noise),
		cmocka_unit_test(test_item_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
