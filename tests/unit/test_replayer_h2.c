// SPDX-License-Identifier: MIT
/*
 * Unit tests of HTTP/2 replay's pure parts: a stored HTTP/2 request
 * rebuilt for libcurl (pseudo-header fields, connection-specific headers,
 * te: trailers, content-length, edits, the body), the stored form of what
 * is sent, and libcurl's header lines split into the head and the
 * trailers of the stored response with its attributes.
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
	return build_from_copy(rp_h2_request_build, "staging:8443", r, msg,
			       len, edits, nedits, err);
}

static const char grpc_request[] =
	":method: POST\r\n"
	":scheme: http\r\n"
	":path: /pkg.Greeter/SayHello\r\n"
	":authority: prod:50051\r\n"
	"content-type: application/grpc\r\n"
	"te: trailers\r\n"
	"connection: close\r\n"
	"grpc-timeout: 5S\r\n"
	"\r\n"
	"\x00\x00\x00\x00\x05\x0a\x03""ada";

static void test_grpc_request(void **state)
{
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(&r, LIT(grpc_request), NULL, 0, err), 0);
	assert_true(r.h2);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.target, "/pkg.Greeter/SayHello");
	/* :authority and :scheme come from the target; connection is
	 * connection-specific; te: trailers is what gRPC needs */
	assert_int_equal(r.nheaders, 4);
	assert_header(&r, 0, "Host", "staging:8443");
	assert_header(&r, 1, "content-type", "application/grpc");
	assert_header(&r, 2, "te", "trailers");
	assert_header(&r, 3, "grpc-timeout", "5S");
	assert_int_equal(r.body_len, 10);
	assert_memory_equal(r.body, "\x00\x00\x00\x00\x05\x0a\x03""ada", 10);
	assert_true(r.has_body);
	/* none recorded: none sent */
	assert_true(r.no_length);
	rp_http_request_release(&r);
}

static void test_get_with_length_and_edits(void **state)
{
	struct dt_header_edit edits[2];
	struct rp_http_request r;
	char err[256] = "";

	(void)state;
	assert_int_equal(dt_header_edit_parse(&edits[0], "x-env: staging",
					      false, err, sizeof(err)), 0);
	assert_int_equal(dt_header_edit_parse(&edits[1], "cookie", true, err,
					      sizeof(err)), 0);
	assert_int_equal(build(&r, LIT(":method: GET\r\n"
				       ":path: /a?b=1\r\n"
				       "te: gzip\r\n"
				       "cookie: s=1\r\n"
				       "content-length: 0\r\n"
				       "host: old\r\n"
				       "\r\n"), edits, 2, err), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.target, "/a?b=1");
	assert_int_equal(r.nheaders, 2);
	assert_header(&r, 0, "Host", "staging:8443");
	assert_header(&r, 1, "x-env", "staging");
	assert_int_equal(r.body_len, 0);
	assert_null(r.body);
	/* a recorded content-length (0 here) is sent again */
	assert_false(r.no_length);
	assert_true(r.has_body);
	rp_http_request_release(&r);
	dt_header_edit_release(&edits[0]);
	dt_header_edit_release(&edits[1]);
}

static void test_not_replayable(void **state)
{
	static const char *const bad[] = {
		"",					/* nothing */
		":method: GET\r\n:path: /\r\n",		/* no blank line */
		":path: /\r\n\r\n",			/* no :method */
		":method: GET\r\n\r\n",			/* no :path */
		"GET / HTTP/1.1\r\n\r\n",		/* not fields */
		":method: GET\r\n:path: /\r",		/* cut in a line */
	};
	struct rp_http_request r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(build(&r, (const uint8_t *)bad[i],
				       strlen(bad[i]), NULL, 0, err), -EBADMSG);
		assert_true(err[0] != '\0');
		assert_null(r.method);
		assert_int_equal(r.nheaders, 0);
	}
}

static void test_store_request(void **state)
{
	struct rp_http_request r;
	char err[256] = "";
	uint8_t *out;
	size_t len;
	static const char want[] =
		":method: POST\r\n"
		":scheme: https\r\n"
		":authority: staging:8443\r\n"
		":path: /pkg.Greeter/SayHello\r\n"
		"content-type: application/grpc\r\n"
		"te: trailers\r\n"
		"grpc-timeout: 5S\r\n"
		"\r\n"
		"\x00\x00\x00\x00\x05\x0a\x03""ada";

	(void)state;
	assert_int_equal(build(&r, LIT(grpc_request), NULL, 0, err), 0);
	assert_int_equal(rp_h2_request_store(&r, "https", &out, &len), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(out, want, len);
	free(out);
	rp_http_request_release(&r);
}

static void store_response(struct dt_exchange *x, const char *hdr,
			   const void *body, size_t blen, int want)
{
	uint8_t *h = malloc(strlen(hdr) + 1);

	assert_non_null(h);
	memcpy(h, hdr, strlen(hdr));
	dt_exchange_init(x);
	x->protocol = DT_PROTO_HTTP2;
	assert_int_equal(rp_h2_response_store(x, h, strlen(hdr), body, blen),
			 want);
	free(h);
}

static void assert_response(const struct dt_exchange *x, const char *want,
			    size_t len)
{
	assert_int_equal(x->response_len, len);
	assert_memory_equal(x->response, want, len);
}

static void test_response_trailers_split(void **state)
{
	static const char body[] = "\x00\x00\x00\x00\x03\x08\x96\x01";
	static const char want[] =
		":status: 200\r\n"
		"content-type: application/grpc\r\n"
		"grpc-accept-encoding: identity\r\n"
		"\r\n"
		"\x00\x00\x00\x00\x03\x08\x96\x01";
	struct dt_exchange x;

	(void)state;
	/* an interim block, the head, the body, trailers with a blank
	 * line (as curl may hand them) */
	store_response(&x, "HTTP/2 100 \r\n\r\n"
			   "HTTP/2 200 \r\n"
			   "content-type: application/grpc\r\n"
			   "grpc-accept-encoding: identity\r\n"
			   "\r\n"
			   "grpc-status: 3\r\n"
			   "grpc-message: bad%20name\r\n"
			   "\r\n", body, sizeof(body) - 1, 0);
	assert_response(&x, want, sizeof(want) - 1);
	assert_string_equal(dt_exchange_attr(&x, "status"), "200");
	assert_string_equal(dt_exchange_attr(&x, "h2.trailers"),
			    "grpc-status: 3\r\ngrpc-message: bad%20name\r\n");
	assert_string_equal(dt_exchange_attr(&x, "grpc.status"), "3");
	assert_string_equal(dt_exchange_attr(&x, "grpc.message"), "bad name");
	assert_int_equal(x.flags, 0);
	dt_exchange_release(&x);
}

static void test_response_trailers_only(void **state)
{
	static const char want[] =
		":status: 200\r\n"
		"content-type: application/grpc\r\n"
		"grpc-status: 5\r\n"
		"\r\n";
	struct dt_exchange x;

	(void)state;
	/* one header block ending the stream: it is the head */
	store_response(&x, "HTTP/2 200\r\n"
			   "content-type: application/grpc\r\n"
			   "grpc-status: 5\r\n"
			   "\r\n", NULL, 0, 0);
	assert_response(&x, want, sizeof(want) - 1);
	assert_null(dt_exchange_attr(&x, "h2.trailers"));
	assert_string_equal(dt_exchange_attr(&x, "grpc.status"), "5");
	assert_null(dt_exchange_attr(&x, "grpc.message"));
	dt_exchange_release(&x);
}

static void test_response_plain_http2(void **state)
{
	static const char want[] =
		":status: 404\r\n"
		"content-type: text/plain\r\n"
		"\r\n"
		"nope";
	struct dt_exchange x;

	(void)state;
	/* trailers without a blank line, and not gRPC: no grpc.* */
	store_response(&x, "HTTP/2 404 \r\n"
			   "content-type: text/plain\r\n"
			   "\r\n"
			   "x-checksum: 12\r\n"
			   "grpc-status: 0\r\n", "nope", 4, 0);
	assert_response(&x, want, sizeof(want) - 1);
	assert_string_equal(dt_exchange_attr(&x, "status"), "404");
	assert_string_equal(dt_exchange_attr(&x, "h2.trailers"),
			    "x-checksum: 12\r\ngrpc-status: 0\r\n");
	assert_null(dt_exchange_attr(&x, "grpc.status"));
	dt_exchange_release(&x);
}

static void test_response_without_head(void **state)
{
	static const char *const bad[] = {
		"",
		"HTTP/2 100 \r\n\r\n",		/* interim only */
		"content-type: a\r\n\r\n",	/* no status line */
		"HTTP/2 2000\r\n\r\n",		/* not a status */
		"HTTP/2 600\r\n\r\n",
	};
	struct dt_exchange x;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		store_response(&x, bad[i], "b", 1, -EBADMSG);
		assert_null(x.response);
		assert_int_equal(x.nattrs, 0);
		dt_exchange_release(&x);
	}
}

static void test_response_odd_lines(void **state)
{
	static const char want[] =
		":status: 200\r\n"
		"x-a: 1\r\n"
		"\r\n";
	struct dt_exchange x;

	(void)state;
	/* a head line without a colon is dropped */
	store_response(&x, "HTTP/2 200 \r\n"
			   "no colon here\r\n"
			   "x-a: 1\r\n"
			   "\r\n", NULL, 0, 0);
	assert_response(&x, want, sizeof(want) - 1);
	dt_exchange_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grpc_request),
		cmocka_unit_test(test_get_with_length_and_edits),
		cmocka_unit_test(test_not_replayable),
		cmocka_unit_test(test_store_request),
		cmocka_unit_test(test_response_trailers_split),
		cmocka_unit_test(test_response_trailers_only),
		cmocka_unit_test(test_response_plain_http2),
		cmocka_unit_test(test_response_without_head),
		cmocka_unit_test(test_response_odd_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
