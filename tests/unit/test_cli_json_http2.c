// SPDX-License-Identifier: MIT
/* Unit tests of the `cat` JSON of HTTP/2 and gRPC exchanges
 * (cli/json_http2.c): fields from the stored form, trailers from their
 * attribute, bodies, gRPC messages decoded as protobuf, and stored bytes
 * that do not parse. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "formats/formats.h"

static json_t *exchange_json(const char *req, size_t req_len,
			     const char *resp, size_t resp_len,
			     const char *const *attrs)
{
	struct dt_exchange x;
	json_t *o;

	dt_exchange_init(&x);
	x.protocol = DT_PROTO_HTTP2;
	assert_int_equal(dt_exchange_set_request(&x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(&x, resp, resp_len), 0);
	for (; attrs && attrs[0]; attrs += 2)
		assert_int_equal(dt_exchange_set_attr(&x, attrs[0], attrs[1]),
				 0);
	o = cli_exchange_to_json(&x, false);
	assert_non_null(o);
	dt_exchange_release(&x);
	return o;
}

static void assert_json(json_t *o, const char *path_fmt, const char *want)
{
	json_t *v = json_object_get(o, path_fmt);
	char *got;

	assert_non_null(v);
	got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define LIT(s) s, sizeof(s) - 1

static void test_http2_fields(void **state)
{
	static const char *const attrs[] = {
		"h2.trailers", "x-sum: 1\r\nx-sum: 2\r\n", NULL,
	};
	json_t *o, *rq, *rs;

	(void)state;
	o = exchange_json(LIT(":method: POST\r\n:path: /a?b\r\n:scheme: http\r\n"
			      ":authority: h:1\r\nx-a: 1\r\nx-a: 2\r\n\r\nbody"),
			  LIT(":status: 404\r\nserver: s\r\n\r\n\xff\x01"),
			  attrs);
	rq = json_object_get(o, "request");
	rs = json_object_get(o, "response");
	assert_json(o, "protocol", "\"http2\"");
	assert_json(rq, "method", "\"POST\"");
	assert_json(rq, "path", "\"/a?b\"");
	assert_json(rq, "authority", "\"h:1\"");
	assert_json(rq, "scheme", "\"http\"");
	assert_json(rq, "headers", "{\"x-a\":[\"1\",\"2\"]}");
	assert_json(rq, "body", "\"body\"");
	assert_json(rq, "body_len", "4");
	assert_null(json_object_get(rq, "trailers"));
	assert_json(rs, "status", "404");
	assert_json(rs, "headers", "{\"server\":\"s\"}");
	assert_json(rs, "trailers", "{\"x-sum\":[\"1\",\"2\"]}");
	assert_json(rs, "body", "{\"base64\":\"/wE=\"}");
	json_decref(o);
}

static void test_grpc_messages(void **state)
{
	static const char *const attrs[] = {
		"grpc.service", "pkg.Svc", "grpc.method", "Get",
		"grpc.status", "5", "grpc.message", "not found", NULL,
	};
	/* field 1 varint 150; then a compressed message; then one cut */
	static const char req[] =
		":method: POST\r\ncontent-type: application/grpc\r\n\r\n"
		"\0\0\0\0\3\x08\x96\x01"
		"\1\0\0\0\2ab"
		"\0\0\0\0\x09xyz";
	static const char resp[] =
		":status: 200\r\ncontent-type: application/grpc\r\n\r\n"
		"\0\0\0\0\5\x12\3hi!";
	json_t *o, *g;

	(void)state;
	o = exchange_json(req, sizeof(req) - 1, resp, sizeof(resp) - 1, attrs);
	g = json_object_get(json_object_get(o, "request"), "grpc");
	assert_json(g, "service", "\"pkg.Svc\"");
	assert_json(g, "method", "\"Get\"");
	assert_json(g, "messages",
		    "[{\"compressed\":false,\"len\":3,\"fields\":"
		    "[{\"field\":1,\"wire\":\"varint\",\"value\":150}]},"
		    "{\"compressed\":true,\"len\":2,\"raw\":\"YWI=\"},"
		    "{\"compressed\":false,\"len\":9,\"cut\":true,"
		    "\"raw\":\"eHl6\"}]");
	assert_null(json_object_get(json_object_get(o, "request"), "body"));
	g = json_object_get(json_object_get(o, "response"), "grpc");
	assert_json(g, "status", "5");
	assert_json(g, "status_name", "\"NOT_FOUND\"");
	assert_json(g, "message", "\"not found\"");
	assert_json(g, "messages",
		    "[{\"compressed\":false,\"len\":5,\"fields\":"
		    "[{\"field\":2,\"wire\":\"len\",\"string\":\"hi!\"}]}]");
	json_decref(o);
}

/* Bytes that are not the stored form keep len only, as for HTTP/1. */
static void test_unparsable(void **state)
{
	static const char *const attrs[] = { "h2.trailers", "garbage", NULL };
	json_t *o, *rq;

	(void)state;
	o = exchange_json(LIT("no field line"), LIT("a: b\r\n"), attrs);
	rq = json_object_get(o, "request");
	assert_json(rq, "len", "13");
	assert_null(json_object_get(rq, "method"));
	assert_null(json_object_get(json_object_get(o, "response"),
				    "headers"));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http2_fields),
		cmocka_unit_test(test_grpc_messages),
		cmocka_unit_test(test_unparsable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
