// SPDX-License-Identifier: MIT
/*
 * Unit tests of recorded HTTP requests rebuilt for sending: header edits,
 * Host rewriting, hop-by-hop headers, bodies (chunked ones de-chunked),
 * and requests that cannot be replayed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replayer/replayer_int.h"
#include "tests/unit/replayer_helpers.h"

static int build(struct rp_http_request *r, const uint8_t *msg, size_t len,
		 const struct dt_header_edit *edits, size_t nedits, char *err)
{
	return build_from_copy(rp_http_request_build, "target:8080", r, msg,
			       len, edits, nedits, err);
}

static void test_get_rewrites_host_and_drops_hop_by_hop(void **state)
{
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(&r, LIT("GET /a/../b?x=1%20 HTTP/1.1\r\n"
				       "Host: prod.example\r\n"
				       "Connection: keep-alive, X-Hop\r\n"
				       "Accept: */*\r\n"
				       "keep-alive: timeout=5\r\n"
				       "X-Empty:\r\n"
				       "TE: trailers\r\n"
				       "Cookie: a=1\r\n\r\n"),
			       NULL, 0, err), 0);
	assert_string_equal(r.method, "GET");
	/* the target as recorded, not normalised */
	assert_string_equal(r.target, "/a/../b?x=1%20");
	assert_int_equal(r.version_minor, 1);
	assert_int_equal(r.nheaders, 4);
	assert_header(&r, 0, "Host", "target:8080");
	assert_header(&r, 1, "Accept", "*/*");
	assert_header(&r, 2, "X-Empty", "");
	assert_header(&r, 3, "Cookie", "a=1");
	assert_false(r.has_body);
	assert_null(r.body);
	rp_http_request_release(&r);
}

static void test_edits(void **state)
{
	struct dt_header_edit e[4];
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(dt_header_edit_parse(&e[0], "x-trace:  abc ", false,
					      err, sizeof(err)), 0);
	assert_int_equal(dt_header_edit_parse(&e[1], "Cookie", true, err,
					      sizeof(err)), 0);
	assert_int_equal(dt_header_edit_parse(&e[2], "X-New: 1", false, err,
					      sizeof(err)), 0);
	/* an edit of Host goes last: it beats the rewrite */
	assert_int_equal(dt_header_edit_parse(&e[3], "host: edited", false,
					      err, sizeof(err)), 0);
	assert_string_equal(e[0].name, "x-trace");
	assert_string_equal(e[0].value, "abc ");
	assert_null(e[1].value);
	assert_int_equal(build(&r, LIT("POST /p HTTP/1.0\r\n"
				       "X-Trace: 1\r\n"
				       "cookie: a\r\n"
				       "Accept: x\r\n"
				       "X-TRACE: 2\r\n"
				       "COOKIE: b\r\n\r\n"),
			       e, 4, err), 0);
	assert_int_equal(r.version_minor, 0);
	assert_int_equal(r.nheaders, 4);
	/* replaced in place; the second X-Trace is gone */
	assert_header(&r, 0, "Host", "edited");
	assert_header(&r, 1, "X-Trace", "abc ");
	assert_header(&r, 2, "Accept", "x");
	assert_header(&r, 3, "X-New", "1");
	rp_http_request_release(&r);
	for (size_t i = 0; i < 4; i++)
		dt_header_edit_release(&e[i]);
}

static void test_edit_parse_errors(void **state)
{
	struct dt_header_edit e;
	char err[256];

	(void)state;
	assert_int_equal(dt_header_edit_parse(&e, "NoColon", false, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Name: value"));
	assert_int_equal(dt_header_edit_parse(&e, "Bad Name: v", false, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "token"));
	assert_int_equal(dt_header_edit_parse(&e, ": v", false, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(dt_header_edit_parse(&e, "X: a\r\nEvil: 1", false,
					      err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line break"));
	assert_int_equal(dt_header_edit_parse(&e, "X:", true, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(dt_header_edit_parse(&e, "", true, err, sizeof(err)),
			 -EINVAL);
}

static void test_content_length_body(void **state)
{
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(&r, LIT("PUT /x HTTP/1.1\r\n"
				       "Content-Length: 5\r\n"
				       "Content-Type: text/plain\r\n\r\n"
				       "hello"),
			       NULL, 0, err), 0);
	assert_true(r.has_body);
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "hello", 5);
	assert_int_equal(r.nheaders, 2);
	assert_header(&r, 1, "Content-Type", "text/plain");
	rp_http_request_release(&r);

	/* an empty body still sends Content-Length: 0 */
	assert_int_equal(build(&r, LIT("POST /x HTTP/1.1\r\n"
				       "Content-Length: 0\r\n\r\n"),
			       NULL, 0, err), 0);
	assert_true(r.has_body);
	assert_int_equal(r.body_len, 0);
	rp_http_request_release(&r);
}

static void test_chunked_body(void **state)
{
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(&r, LIT("POST /c HTTP/1.1\r\n"
				       "Transfer-Encoding: gzip, chunked\r\n"
				       "\r\n"
				       "5;ext=1\r\nhello\r\n"
				       "A\r\n, chunked!\r\n"
				       "0\r\nX-Trailer: t\r\n\r\n"),
			       NULL, 0, err), 0);
	assert_true(r.has_body);
	assert_int_equal(r.body_len, 15);
	assert_memory_equal(r.body, "hello, chunked!", 15);
	/* Transfer-Encoding went with the framing */
	assert_int_equal(r.nheaders, 1);
	rp_http_request_release(&r);
}

static void test_not_replayable(void **state)
{
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(&r, LIT("POST /x HTTP/1.1\r\n"
				       "Content-Length: 10\r\n\r\nabc"),
			       NULL, 0, err), -EBADMSG);
	assert_non_null(strstr(err, "incomplete"));
	assert_null(r.method);
	assert_int_equal(build(&r, LIT("GET /x HTTP/1.1\r\nHost: a\r\n"), NULL,
			       0, err), -EBADMSG);
	assert_non_null(strstr(err, "incomplete"));
	assert_int_equal(build(&r, LIT("\x16\x03\x01\x02\x00\x01"), NULL, 0,
			       err), -EBADMSG);
	assert_non_null(strstr(err, "not HTTP/1"));
	assert_int_equal(build(&r, LIT("HTTP/1.1 200 OK\r\n\r\n"), NULL, 0,
			       err), -EBADMSG);
	assert_int_equal(build(&r, (const uint8_t *)"", 0, NULL, 0, err),
			 -EBADMSG);
}

static void dechunk_fails(const char *body)
{
	struct rp_buf b = { 0 };
	uint8_t *copy = malloc(strlen(body) + 1);

	assert_non_null(copy);
	memcpy(copy, body, strlen(body));
	assert_int_equal(rp_http_dechunk(copy, strlen(body), &b), -EBADMSG);
	rp_buf_release(&b);
	free(copy);
}

static void test_dechunk(void **state)
{
	struct rp_buf b = { 0 };

	(void)state;
	assert_int_equal(rp_http_dechunk(LIT("3\nabc\n0\n\n"), &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	rp_buf_release(&b);
	dechunk_fails("");
	dechunk_fails("3\r\nab");
	dechunk_fails("3\r\nabcX\r\n0\r\n\r\n");
	dechunk_fails("x\r\nabc\r\n");
	dechunk_fails("fffffffffffffffff\r\n");
	dechunk_fails("3\r\nabc\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_rewrites_host_and_drops_hop_by_hop),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_edit_parse_errors),
		cmocka_unit_test(test_content_length_body),
		cmocka_unit_test(test_chunked_body),
		cmocka_unit_test(test_not_replayable),
		cmocka_unit_test(test_dechunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
