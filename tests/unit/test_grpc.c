// SPDX-License-Identifier: MIT
/*
 * Unit tests of the gRPC helpers (message splitting, paths, status) and
 * the schemaless protobuf decoder. gRPC calls go through the HTTP/2
 * decoder with header blocks from nghttp2's deflater.
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
#include <nghttp2/nghttp2.h>

#include "formats/formats.h"
#include "tests/unit/h2_helpers.h"

/* A string literal's bytes without its NUL: literals may hold NULs. */
#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* A private copy of exactly len bytes, so that the sanitizers and valgrind
 * catch any read past len. Owned by the caller (free()). */
static uint8_t *copy_exact(const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, data, len);
	return copy;
}

/* ---------------------------------------------------------------------- */
/* Message splitting                                                      */
/* ---------------------------------------------------------------------- */

static ssize_t next_exact(const void *data, size_t len, uint32_t max,
			  struct dt_grpc_message *m, uint8_t **copy)
{
	*copy = copy_exact(data, len);
	return dt_grpc_message_next(*copy, len, max, m);
}

static void test_message_next(void **state)
{
	static const uint8_t two[] = {
		0, 0, 0, 0, 3, 0x08, 0x96, 0x01,	/* field 1 = 150 */
		1, 0, 0, 0, 2, 0xab, 0xcd,		/* compressed */
		0, 0, 0, 0, 0,				/* empty */
	};
	struct dt_grpc_message m;
	uint8_t *copy;
	size_t i;

	(void)state;
	assert_int_equal(next_exact(two, sizeof(two), 0, &m, &copy), 8);
	assert_false(m.compressed);
	assert_int_equal(m.length, 3);
	assert_ptr_equal(m.data.ptr, copy + 5);
	assert_int_equal(m.data.len, 3);
	free(copy);
	assert_int_equal(next_exact(two + 8, sizeof(two) - 8, 0, &m, &copy),
			 7);
	assert_true(m.compressed);
	assert_memory_equal(m.data.ptr, "\xab\xcd", 2);
	free(copy);
	assert_int_equal(next_exact(two + 15, 5, 0, &m, &copy), 5);
	assert_int_equal(m.length, 0);
	assert_int_equal(m.data.len, 0);
	free(copy);

	/* every cut short prefix waits, showing what it has */
	for (i = 0; i < 8; i++) {
		assert_int_equal(next_exact(two, i, 0, &m, &copy), 0);
		assert_int_equal(m.data.len, i > 5 ? i - 5 : 0);
		assert_int_equal(m.length, i >= 5 ? 3 : 0);
		free(copy);
	}
}

static void test_message_bounds(void **state)
{
	struct dt_grpc_message m;
	uint8_t *copy;

	(void)state;
	/* flag byte 2 fails at once */
	assert_int_equal(next_exact(LIT("\x02"), 0, &m, &copy), -EBADMSG);
	free(copy);
	/* a length past the limit fails before its data arrives */
	assert_int_equal(next_exact(LIT("\0\0\0\0\x11"), 16, &m, &copy),
			 -E2BIG);
	free(copy);
	assert_int_equal(next_exact(LIT("\0\0\0\0\x10"), 16, &m, &copy), 0);
	free(copy);
	/* the default limit: 4 MiB */
	assert_int_equal(next_exact(LIT("\0\0\x40\0\x01"), 0, &m, &copy),
			 -E2BIG);
	free(copy);
	assert_int_equal(next_exact(LIT("\0\0\x40\0\0"), 0, &m, &copy), 0);
	free(copy);
	assert_int_equal(next_exact(LIT("\0\xff\xff\xff\xff"), UINT32_MAX, &m,
				    &copy), 0);
	assert_int_equal(m.length, UINT32_MAX);
	free(copy);
	assert_int_equal(dt_grpc_message_next(NULL, 0, 0, &m), 0);
}

static void test_path(void **state)
{
	static const char *const bad[] = {
		"", "helloworld.Greeter/SayHello", "/", "//SayHello",
		"/helloworld.Greeter", "/helloworld.Greeter/",
		"/a/b/c", "/a/b/",
	};
	struct dt_slice svc, method;
	size_t i;

	(void)state;
	assert_int_equal(dt_grpc_parse_path("/helloworld.Greeter/SayHello",
					    &svc, &method), 0);
	assert_int_equal(svc.len, 18);
	assert_memory_equal(svc.ptr, "helloworld.Greeter", 18);
	assert_int_equal(method.len, 8);
	assert_memory_equal(method.ptr, "SayHello", 8);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dt_grpc_parse_path(bad[i], &svc, &method),
				 -EBADMSG);
}

/* ---------------------------------------------------------------------- */
/* Calls through the HTTP/2 decoder                                       */
/* ---------------------------------------------------------------------- */

static const char *const call_req[] = {
	":method", "POST", ":scheme", "http", ":path",
	"/helloworld.Greeter/SayHello", ":authority", "localhost:50051",
	"content-type", "application/grpc", "te", "trailers", NULL,
};

static const char *const call_resp[] = {
	":status", "200", "content-type", "application/grpc+proto", NULL,
};

/* Decodes one call: client bytes, then server bytes; owned by caller. */
static struct dt_h2_stream *decode_call(const struct wire *client,
					const struct wire *server)
{
	struct dt_h2_opts o;
	struct dt_h2_conn *c;
	struct dt_h2_stream *s = NULL;
	size_t used;

	dt_h2_opts_init(&o);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT, client->p,
					 client->len, &used), 0);
	assert_int_equal(used, client->len);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, server->p,
					 server->len, &used), 0);
	assert_int_equal(used, server->len);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	dt_h2_conn_free(c);
	return s;
}

/* Splits body into messages; returns their count. */
static size_t split_messages(const uint8_t *body, size_t len,
			     struct dt_grpc_message *out, size_t max)
{
	size_t off = 0, n = 0;
	ssize_t rc;

	while (off < len) {
		assert_true(n < max);
		rc = dt_grpc_message_next(body + off, len - off, 0, &out[n]);
		assert_true(rc > 0);
		off += (size_t)rc;
		n++;
	}
	return n;
}

/* A server-streaming call: three messages whose prefixes and data straddle
 * DATA frames, then trailers with a percent-encoded message. */
static void test_call_across_frames(void **state)
{
	static const uint8_t request[] = { 0, 0, 0, 0, 7, 0x0a, 0x05, 'w',
					   'o', 'r', 'l', 'd' };
	static const uint8_t replies[] = {
		0, 0, 0, 0, 4, 0x08, 0x01, 0x10, 0x02,
		0, 0, 0, 0, 3, 0x1a, 0x01, 'x',
		0, 0, 0, 0, 2, 0x08, 0x7f,
	};
	static const size_t cuts[] = { 3, 11, 19, sizeof(replies) };
	static const char *const trailers[] = {
		"grpc-status", "5", "grpc-message", "not%20found%3A%20x%zz%",
		NULL,
	};
	struct dt_grpc_message msgs[4];
	nghttp2_hd_deflater *cd, *sd;
	struct wire client = { 0 }, server = { 0 };
	struct dt_h2_stream *s;
	struct dt_slice svc, method;
	const struct dt_h2_field *path;
	char text[DT_GRPC_MESSAGE_MAX];
	size_t i, off = 0;
	int code;

	(void)state;
	assert_int_equal(nghttp2_hd_deflate_new(&cd, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&sd, 4096), 0);
	wire_put(&client, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	headers_put(&client, cd, 1, 0, call_req);
	frame_put(&client, 0, 0, 1, request, 4);
	frame_put(&client, 0, DT_H2_FLAG_END_STREAM, 1, request + 4,
		  sizeof(request) - 4);
	headers_put(&server, sd, 1, 0, call_resp);
	for (i = 0; i < 4; i++) {
		frame_put(&server, 0, 0, 1, replies + off, cuts[i] - off);
		off = cuts[i];
	}
	headers_put(&server, sd, 1, DT_H2_FLAG_END_STREAM, trailers);
	s = decode_call(&client, &server);

	assert_true(dt_grpc_is_grpc(&s->request));
	assert_true(dt_grpc_is_grpc(&s->response));
	path = dt_h2_fields_find(&s->request.pseudo, ":path");
	assert_non_null(path);
	assert_int_equal(dt_grpc_parse_path(path->value, &svc, &method), 0);
	assert_memory_equal(method.ptr, "SayHello", method.len);

	assert_int_equal(split_messages(s->request.body, s->request.body_len,
					msgs, 4), 1);
	assert_int_equal(msgs[0].length, 7);
	assert_int_equal(split_messages(s->response.body, s->response.body_len,
					msgs, 4), 3);
	assert_int_equal(msgs[0].length, 4);
	assert_memory_equal(msgs[1].data.ptr, "\x1a\x01x", 3);
	assert_int_equal(msgs[2].length, 2);

	assert_int_equal(dt_grpc_status(&s->response, &code, text,
					sizeof(text)), 0);
	assert_int_equal(code, 5);
	assert_string_equal(dt_grpc_status_name(code), "NOT_FOUND");
	/* invalid escapes are kept as sent */
	assert_string_equal(text, "not found: x%zz%");
	/* a small buffer cuts the message */
	assert_int_equal(dt_grpc_status(&s->response, &code, text, 5), 0);
	assert_string_equal(text, "not ");
	assert_int_equal(dt_grpc_status(&s->request, &code, text,
					sizeof(text)), -ENOENT);
	assert_string_equal(text, "");
	dt_h2_stream_free(s);
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
	free(client.p);
	free(server.p);
}

/* An error answered with headers only: the status is in HEADERS. */
static void test_trailers_only(void **state)
{
	static const char *const only[] = {
		":status", "200", "content-type", "application/grpc",
		"grpc-status", "12", "grpc-message", "unknown method", NULL,
	};
	static const char *const bad_status[] = {
		":status", "200", "grpc-status", "1x", NULL,
	};
	static const char *const plain[] = {
		":status", "200", "content-type", "application/grpcx", NULL,
	};
	nghttp2_hd_deflater *cd, *sd;
	struct wire client = { 0 }, server = { 0 };
	struct dt_h2_stream *s;
	char text[64];
	int code = -1;

	(void)state;
	assert_int_equal(nghttp2_hd_deflate_new(&cd, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&sd, 4096), 0);
	wire_put(&client, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	headers_put(&client, cd, 1, DT_H2_FLAG_END_STREAM, call_req);
	headers_put(&client, cd, 3, DT_H2_FLAG_END_STREAM, call_req);
	headers_put(&client, cd, 5, DT_H2_FLAG_END_STREAM, call_req);
	headers_put(&server, sd, 1, DT_H2_FLAG_END_STREAM, only);
	headers_put(&server, sd, 3, DT_H2_FLAG_END_STREAM, bad_status);
	headers_put(&server, sd, 5, DT_H2_FLAG_END_STREAM, plain);
	{
		struct dt_h2_opts o;
		struct dt_h2_conn *c;
		size_t used;

		dt_h2_opts_init(&o);
		assert_int_equal(dt_h2_conn_new(&c, &o), 0);
		assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT, client.p,
						 client.len, &used), 0);
		assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, server.p,
						 server.len, &used), 0);
		assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
		assert_int_equal(dt_grpc_status(&s->response, &code, text,
						sizeof(text)), 0);
		assert_int_equal(code, 12);
		assert_string_equal(dt_grpc_status_name(code), "UNIMPLEMENTED");
		assert_string_equal(text, "unknown method");
		assert_int_equal(s->response.trailers.n, 0);
		assert_true(dt_grpc_is_grpc(&s->response));
		dt_h2_stream_free(s);
		assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
		assert_int_equal(dt_grpc_status(&s->response, &code, text,
						sizeof(text)), -EBADMSG);
		dt_h2_stream_free(s);
		assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
		assert_false(dt_grpc_is_grpc(&s->response));
		dt_h2_stream_free(s);
		dt_h2_conn_free(c);
	}
	assert_null(dt_grpc_status_name(17));
	assert_null(dt_grpc_status_name(-1));
	assert_string_equal(dt_grpc_status_name(16), "UNAUTHENTICATED");
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
	free(client.p);
	free(server.p);
}

/* ---------------------------------------------------------------------- */
/* Protobuf                                                               */
/* ---------------------------------------------------------------------- */

/* Decodes and compares the compact JSON to want. */
static void assert_pb(const uint8_t *data, size_t len, int depth,
		      const char *want)
{
	uint8_t *copy = copy_exact(data, len);
	json_t *j = NULL;
	char *text;

	assert_int_equal(dt_pb_decode(copy, len, depth, &j), 0);
	free(copy);
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
	json_decref(j);
}

static void assert_pb_bad(const uint8_t *data, size_t len)
{
	uint8_t *copy = copy_exact(data, len);
	json_t *j = NULL;

	assert_int_equal(dt_pb_decode(copy, len, 0, &j), -EBADMSG);
	assert_null(j);
	free(copy);
}

static void test_pb_scalars(void **state)
{
	(void)state;
	assert_pb(LIT(""), 0, "[]");
	assert_pb(LIT("\x08\x96\x01"), 0,
		  "[{\"field\":1,\"wire\":\"varint\",\"value\":150}]");
	/* fixed64 and fixed32 little-endian */
	assert_pb(LIT("\x11\x01\x02\x03\x04\x05\x06\x07\x08"
		      "\x1d\xff\xff\xff\xff"), 0,
		  "[{\"field\":2,\"wire\":\"i64\",\"value\":578437695752307201},"
		  "{\"field\":3,\"wire\":\"i32\",\"value\":4294967295}]");
	/* the largest field number */
	assert_pb(LIT("\xf8\xff\xff\xff\x0f\x00"), 0,
		  "[{\"field\":536870911,\"wire\":\"varint\",\"value\":0}]");
}

static void test_pb_varint_edges(void **state)
{
	(void)state;
	/* int32 -1: ten bytes, past INT64_MAX as a string */
	assert_pb(LIT("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), 0,
		  "[{\"field\":1,\"wire\":\"varint\","
		  "\"value\":\"18446744073709551615\"}]");
	assert_pb(LIT("\x08\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), 0,
		  "[{\"field\":1,\"wire\":\"varint\","
		  "\"value\":9223372036854775807}]");
	/* overlong (non-minimal) encodings read as their value */
	assert_pb(LIT("\x08\x80\x80\x80\x00"), 0,
		  "[{\"field\":1,\"wire\":\"varint\",\"value\":0}]");
	assert_pb(LIT("\x88\x00\x01"), 0,
		  "[{\"field\":1,\"wire\":\"varint\",\"value\":1}]");
	/* past 64 bits: a tenth byte above 1, an eleventh byte */
	assert_pb_bad(LIT("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"));
	assert_pb_bad(LIT("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"));
	/* truncated */
	assert_pb_bad(LIT("\x08"));
	assert_pb_bad(LIT("\x08\x96"));
	assert_pb_bad(LIT("\x80"));
	assert_pb_bad(LIT("\x11\x01\x02\x03\x04\x05\x06\x07"));
	assert_pb_bad(LIT("\x1d\x01\x02\x03"));
	assert_pb_bad(LIT("\x12\x03" "ab"));
	assert_pb_bad(LIT("\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));
	/* field 0, past 2^29-1, groups and unknown wire types */
	assert_pb_bad(LIT("\x00\x01"));
	assert_pb_bad(LIT("\x80\x80\x80\x80\x10\x00"));
	assert_pb_bad(LIT("\x0b\x0c"));
	assert_pb_bad(LIT("\x0c"));
	assert_pb_bad(LIT("\x0e\x00"));
	assert_pb_bad(LIT("\x0f\x00"));
}

static void test_pb_length_delimited(void **state)
{
	(void)state;
	/* nested message, UTF-8 text, bytes, empty */
	assert_pb(LIT("\x1a\x03\x08\x96\x01"
		      "\x22\x06h\xc3\xa9llo"
		      "\x2a\x03\xff\x00\x80"
		      "\x32\x00"), 0,
		  "[{\"field\":3,\"wire\":\"len\",\"message\":"
		  "[{\"field\":1,\"wire\":\"varint\",\"value\":150}]},"
		  "{\"field\":4,\"wire\":\"len\",\"string\":\"h\xc3\xa9llo\"},"
		  "{\"field\":5,\"wire\":\"len\",\"bytes\":\"ff0080\"},"
		  "{\"field\":6,\"wire\":\"len\",\"string\":\"\"}]");
	/* "hello" does not parse as a message: text */
	assert_pb(LIT("\x0a\x05hello"), 0,
		  "[{\"field\":1,\"wire\":\"len\",\"string\":\"hello\"}]");
	/* a surrogate is not UTF-8 */
	assert_pb(LIT("\x0a\x03\xed\xa0\x80"), 0,
		  "[{\"field\":1,\"wire\":\"len\",\"bytes\":\"eda080\"}]");
	/* NUL is text */
	assert_pb(LIT("\x0a\x02\x00\x00"), 0,
		  "[{\"field\":1,\"wire\":\"len\",\"string\":\"\\u0000\\u0000\"}]");
}

/* Wraps buf[0..*len) as field 1 of a message, in place. */
static void pb_wrap(uint8_t *buf, size_t *len, size_t size)
{
	uint8_t head[4];
	size_t n = 0, v = *len;

	head[n++] = 0x0a;
	do {
		head[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	assert_true(*len + n <= size);
	memmove(buf + n, buf, *len);
	memcpy(buf, head, n);
	*len += n;
}

static void test_pb_depth(void **state)
{
	uint8_t buf[512];
	size_t len = 2, i;
	json_t *j = NULL, *cur, *last;
	int depth = 0;

	(void)state;
	/* 70 levels of field 1 wrapping field 2 = 1 */
	memcpy(buf, "\x10\x01", 2);
	for (i = 0; i < 70; i++)
		pb_wrap(buf, &len, sizeof(buf));
	assert_int_equal(dt_pb_decode(buf, len, 0, &j), 0);
	cur = j;
	while (json_array_size(cur) == 1 &&
	       json_object_get(json_array_get(cur, 0), "message")) {
		cur = json_object_get(json_array_get(cur, 0), "message");
		depth++;
	}
	/* the top level is depth 1: 63 nested levels, then the rest is text
	 * (its bytes are all ASCII) */
	assert_int_equal(depth, DT_PB_MAX_DEPTH - 1);
	last = json_array_get(cur, 0);
	assert_non_null(json_object_get(last, "string"));
	json_decref(j);
	/* depths above the limit are clamped to it */
	assert_int_equal(dt_pb_decode(buf, len, 1000, &j), 0);
	json_decref(j);

	/* a depth of 2: one nested level */
	assert_pb(LIT("\x0a\x05\x0a\x03\x08\x80\x01"), 2,
		  "[{\"field\":1,\"wire\":\"len\",\"message\":"
		  "[{\"field\":1,\"wire\":\"len\",\"bytes\":\"088001\"}]}]");
	assert_pb(LIT("\x0a\x05\x0a\x03\x08\x80\x01"), 1,
		  "[{\"field\":1,\"wire\":\"len\",\"bytes\":\"0a03088001\"}]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_next),
		cmocka_unit_test(test_message_bounds),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_call_across_frames),
		cmocka_unit_test(test_trailers_only),
		cmocka_unit_test(test_pb_scalars),
		cmocka_unit_test(test_pb_varint_edges),
		cmocka_unit_test(test_pb_length_delimited),
		cmocka_unit_test(test_pb_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
