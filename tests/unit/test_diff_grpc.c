// SPDX-License-Identifier: MIT
/*
 * Unit tests of HTTP/2 and gRPC comparison: stored HTTP/2 responses
 * compared as HTTP/1 ones are (status, headers, JSON bodies) plus their
 * trailers; gRPC status and message; protobuf messages decoded without a
 * schema and compared field by field, differences named by field path;
 * rules and normalisers on those names; bodies that do not decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff_helpers.h"

static const char grpc_req[] =
	":method: POST\r\n:scheme: http\r\n:authority: a\r\n"
	":path: /pkg.Greeter/SayHello\r\n"
	"content-type: application/grpc\r\nte: trailers\r\n\r\n";

static const char grpc_head[] =
	":status: 200\r\ncontent-type: application/grpc\r\n\r\n";

/* A stored HTTP/2 exchange: head lines, body bytes, trailers attribute
 * (NULL: none) and grpc.status (NULL: none). */
static void xch_h2(struct dt_exchange *x, uint64_t id, uint64_t link_id,
		   const char *head, const void *body, size_t blen,
		   const char *trailers, const char *grpc_status)
{
	size_t hlen = strlen(head);
	uint8_t *resp = malloc(hlen + blen + 1);

	assert_non_null(resp);
	memcpy(resp, head, hlen);
	if (blen)
		memcpy(resp + hlen, body, blen);
	xch_init(x, DT_PROTO_HTTP2, id, link_id, grpc_req,
		 sizeof(grpc_req) - 1, resp, hlen + blen);
	free(resp);
	assert_int_equal(dt_exchange_set_attr(x, "method", "POST"), 0);
	assert_int_equal(dt_exchange_set_attr(x, "path",
					      "/pkg.Greeter/SayHello"), 0);
	if (trailers)
		assert_int_equal(dt_exchange_set_attr(x, "h2.trailers",
						      trailers), 0);
	if (grpc_status)
		assert_int_equal(dt_exchange_set_attr(x, "grpc.status",
						      grpc_status), 0);
}

/* A gRPC message: the 5-byte prefix, then len bytes of protobuf. */
static size_t grpc_msg(uint8_t *out, const char *pb, size_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, pb, len);
	return len + 5;
}

#define PB(s) s, sizeof(s) - 1

/* Two gRPC exchanges whose bodies are the messages given, status 0. */
struct pair {
	struct dt_exchange rec, rep;
};

static void grpc_pair(struct pair *p, const uint8_t *a, size_t alen,
		      const uint8_t *b, size_t blen)
{
	xch_h2(&p->rec, 1, 0, grpc_head, a, alen, "grpc-status: 0\r\n", "0");
	xch_h2(&p->rep, 1, 1, grpc_head, b, blen, "grpc-status: 0\r\n", "0");
}

static void pair_release(struct pair *p)
{
	dt_exchange_release(&p->rec);
	dt_exchange_release(&p->rep);
}

static struct dt_diff_report *diff_of(struct pair *p, const char *rules_json)
{
	struct dt_diff_rules *rules = rules_json ? rules_of(rules_json) : NULL;
	struct dt_diff_report *r = diff_pair(rules, false, &p->rec, &p->rep,
					     NULL);

	dt_diff_rules_free(rules);
	return r;
}

static void test_same_messages(void **state)
{
	uint8_t a[64];
	size_t n = 0;
	struct pair p;
	struct dt_diff_report *r;

	(void)state;
	/* {1: "hi", 2: 150} twice */
	n += grpc_msg(a + n, PB("\x0a\x02hi\x10\x96\x01"));
	n += grpc_msg(a + n, PB("\x0a\x02hi\x10\x96\x01"));
	grpc_pair(&p, a, n, a, n);
	r = diff_of(&p, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_SAME);
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_nested_field_named(void **state)
{
	uint8_t a[64], b[64];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* {1: "hi", 2: {1: 7, 2: "x"}} against {1: "hi", 2: {1: 8, 2: "x"}} */
	na = grpc_msg(a, PB("\x0a\x02hi\x12\x05\x08\x07\x12\x01x"));
	nb = grpc_msg(b, PB("\x0a\x02hi\x12\x05\x08\x08\x12\x01x"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_DIFFER);
	x = only_exchange(r);
	assert_int_equal(x->nitems, 1);
	assert_int_equal(x->differences, 1);
	expect_values(expect_item(x, "grpc.message[0].2.1",
				  DT_DIFF_UNEXPLAINED), "7", "8");
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_string_and_missing_fields(void **state)
{
	uint8_t a[64], b[64];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* field 1 changes text, field 3 only in the recording, field 4 only
	 * in the replay (a string "zz" would decode as a message: "q") */
	na = grpc_msg(a, PB("\x0a\x03one\x18\x01"));
	nb = grpc_msg(b, PB("\x0a\x03two\x22\x01q"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	assert_int_equal(x->differences, 3);
	expect_values(expect_item(x, "grpc.message[0].1", DT_DIFF_UNEXPLAINED),
		      "\"one\"", "\"two\"");
	expect_values(expect_item(x, "grpc.message[0].3", DT_DIFF_UNEXPLAINED),
		      "1", NULL);
	expect_values(expect_item(x, "grpc.message[0].4", DT_DIFF_UNEXPLAINED),
		      NULL, "\"q\"");
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_repeated_fields_indexed(void **state)
{
	uint8_t a[64], b[64];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* field 3 repeated: 1, 2, 3 against 1, 5; field 1 once on each side
	 * keeps no index even though it comes between them */
	na = grpc_msg(a, PB("\x18\x01\x08\x09\x18\x02\x18\x03"));
	nb = grpc_msg(b, PB("\x18\x01\x18\x05\x08\x09"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	assert_int_equal(x->differences, 2);
	expect_values(expect_item(x, "grpc.message[0].3[1]",
				  DT_DIFF_UNEXPLAINED), "2", "5");
	expect_values(expect_item(x, "grpc.message[0].3[2]",
				  DT_DIFF_UNEXPLAINED), "3", NULL);
	dt_diff_report_free(r);
	pair_release(&p);
}

/* Regression (fuzzing): an empty message against one with fields, both
 * ways round. */
static void test_empty_message(void **state)
{
	uint8_t a[16], b[16];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	na = grpc_msg(a, "", 0);
	nb = grpc_msg(b, PB("\x08\x01"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	assert_int_equal(x->differences, 1);
	expect_values(expect_item(x, "grpc.message[0].1", DT_DIFF_UNEXPLAINED),
		      NULL, "1");
	dt_diff_report_free(r);
	pair_release(&p);
	grpc_pair(&p, b, nb, a, na);
	r = diff_of(&p, NULL);
	expect_values(expect_item(only_exchange(r), "grpc.message[0].1",
				  DT_DIFF_UNEXPLAINED), "1", NULL);
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_message_count_differs(void **state)
{
	uint8_t a[64], b[64];
	size_t na = 0, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	na += grpc_msg(a + na, PB("\x08\x01"));
	na += grpc_msg(a + na, PB("\x08\x02"));
	nb = grpc_msg(b, PB("\x08\x01"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	assert_int_equal(x->differences, 1);
	expect_values(expect_item(x, "grpc.message[1]", DT_DIFF_UNEXPLAINED),
		      "[{\"field\":1,\"wire\":\"varint\",\"value\":2}]", NULL);
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_status_and_trailers(void **state)
{
	static const char only_head[] =
		":status: 200\r\ncontent-type: application/grpc\r\n"
		"grpc-status: 5\r\ngrpc-message: gone\r\n\r\n";
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* status in the trailers against a trailers-only response: compared
	 * as grpc.status / grpc.message, not as header or trailer fields */
	xch_h2(&p.rec, 1, 0, grpc_head, NULL, 0,
	       "grpc-status: 0\r\nx-cost: 1\r\n", "0");
	xch_h2(&p.rep, 1, 1, only_head, NULL, 0, NULL, "5");
	assert_int_equal(dt_exchange_set_attr(&p.rep, "grpc.message", "gone"),
			 0);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	expect_values(expect_item(x, "grpc.status", DT_DIFF_UNEXPLAINED),
		      "\"0\"", "\"5\"");
	expect_values(expect_item(x, "grpc.message", DT_DIFF_UNEXPLAINED),
		      NULL, "\"gone\"");
	expect_values(expect_item(x, "trailer.x-cost", DT_DIFF_UNEXPLAINED),
		      "\"1\"", NULL);
	assert_int_equal(x->differences, 3);
	assert_null(find_item(x, "header.grpc-status"));
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_rules_on_field_paths(void **state)
{
	uint8_t a[64], b[64];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* {1: "id-17", 2: {1: 7}} against {1: "id-42", 2: {1: 8}} */
	na = grpc_msg(a, PB("\x0a\x05id-17\x12\x02\x08\x07"));
	nb = grpc_msg(b, PB("\x0a\x05id-42\x12\x02\x08\x08"));
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, "{\"ignore\": [\"grpc.message[[]*].2\"],"
			" \"normalize\": [{\"regex\": \"id-[0-9]+\","
			" \"replace\": \"id-N\"}]}");
	assert_int_equal(only_outcome(r), DT_DIFF_NOISE_ONLY);
	x = only_exchange(r);
	assert_int_equal(x->differences, 0);
	assert_int_equal(x->noise, 2);
	expect_item(x, "grpc.message[0].1", DT_DIFF_BY_NORMALIZER);
	expect_item(x, "grpc.message[0].2.1", DT_DIFF_BY_RULE);
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_undecodable_messages(void **state)
{
	uint8_t a[64], b[64];
	size_t na, nb;
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	/* not protobuf (field 0), then compressed: both as bytes */
	na = grpc_msg(a, PB("\x00\x01"));
	na += grpc_msg(a + na, PB("zz"));
	nb = grpc_msg(b, PB("\x00\x02"));
	nb += grpc_msg(b + nb, PB("zz"));
	b[nb - 7] = 1; /* the second message's compressed flag */
	grpc_pair(&p, a, na, b, nb);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	assert_int_equal(x->differences, 2);
	assert_string_equal(expect_item(x, "grpc.message[0]",
					DT_DIFF_UNEXPLAINED)->note,
			    "not protobuf: compared as bytes");
	assert_string_equal(expect_item(x, "grpc.message[1]",
					DT_DIFF_UNEXPLAINED)->note,
			    "compressed: compared as bytes");
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_unframed_replay_fails(void **state)
{
	uint8_t a[64];
	size_t na;
	struct pair p;
	struct dt_diff_report *r;

	(void)state;
	na = grpc_msg(a, PB("\x08\x01"));
	/* a prefix announcing more than the body holds */
	grpc_pair(&p, a, na, a, na - 1);
	r = diff_of(&p, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_FAILED);
	assert_non_null(strstr(only_exchange(r)->reason, "replayed response "
			       "body is not a sequence of gRPC messages"));
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_http2_json_body_and_headers(void **state)
{
	static const char head_a[] =
		":status: 200\r\ncontent-type: application/json\r\n"
		"date: Mon\r\nx-version: 1\r\n\r\n";
	static const char head_b[] =
		":status: 201\r\ncontent-type: application/json\r\n"
		"date: Tue\r\nx-version: 2\r\n\r\n";
	struct pair p;
	struct dt_diff_report *r;
	const struct dt_diff_exchange *x;

	(void)state;
	xch_h2(&p.rec, 1, 0, head_a, "{\"a\": 1, \"b\": [1]}", 18,
	       "x-sum: 9\r\n", NULL);
	xch_h2(&p.rep, 1, 1, head_b, "{\"a\": 1, \"b\": [2]}", 18,
	       "x-sum: 9\r\n", NULL);
	r = diff_of(&p, NULL);
	x = only_exchange(r);
	/* date is ignored by default; trailers equal */
	assert_int_equal(x->differences, 3);
	expect_values(expect_item(x, "status", DT_DIFF_UNEXPLAINED), "200",
		      "201");
	expect_item(x, "header.x-version", DT_DIFF_UNEXPLAINED);
	expect_values(expect_item(x, "$.b[0]", DT_DIFF_UNEXPLAINED), "1", "2");
	dt_diff_report_free(r);
	pair_release(&p);
}

static void test_not_stored_http2(void **state)
{
	struct pair p;
	struct dt_diff_report *r;

	(void)state;
	/* no :status, and no blank line: neither is a stored response */
	xch_h2(&p.rec, 1, 0, "content-type: a\r\n\r\n", NULL, 0, NULL, NULL);
	xch_h2(&p.rep, 1, 1, grpc_head, NULL, 0, NULL, NULL);
	r = diff_of(&p, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_SKIPPED);
	dt_diff_report_free(r);
	pair_release(&p);
	xch_h2(&p.rec, 1, 0, grpc_head, NULL, 0, NULL, NULL);
	xch_h2(&p.rep, 1, 1, ":status: 200\r\n", NULL, 0, NULL, NULL);
	r = diff_of(&p, NULL);
	assert_int_equal(only_outcome(r), DT_DIFF_FAILED);
	dt_diff_report_free(r);
	pair_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_messages),
		cmocka_unit_test(test_nested_field_named),
		cmocka_unit_test(test_string_and_missing_fields),
		cmocka_unit_test(test_repeated_fields_indexed),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_message_count_differs),
		cmocka_unit_test(test_status_and_trailers),
		cmocka_unit_test(test_rules_on_field_paths),
		cmocka_unit_test(test_undecodable_messages),
		cmocka_unit_test(test_unframed_replay_fails),
		cmocka_unit_test(test_http2_json_body_and_headers),
		cmocka_unit_test(test_not_stored_http2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
