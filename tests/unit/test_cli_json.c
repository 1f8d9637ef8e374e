// SPDX-License-Identifier: MIT
/* Unit tests of the cli helpers: durations, numbers, UTF-8 cleaning,
 * terminal text, base64 and the exchange JSON of `deetune cat`. Links
 * cli/util.c and cli/json_out.c (see the Makefile rule for test_cli_*). */
#include <errno.h>
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

static void assert_duration(const char *s, int want_rc, uint64_t want_ns)
{
	uint64_t ns = 12345;

	assert_int_equal(cli_parse_duration(s, &ns), want_rc);
	if (!want_rc)
		assert_true(ns == want_ns);
}

static void test_duration(void **state)
{
	(void)state;
	assert_duration("30s", 0, 30000000000ull);
	assert_duration("500ms", 0, 500000000ull);
	assert_duration("2m", 0, 120000000000ull);
	assert_duration("1h", 0, 3600000000000ull);
	assert_duration("10", 0, 10000000000ull);
	assert_duration("0", 0, 0);
	assert_duration("7ns", 0, 7);
	assert_duration("3us", 0, 3000);
	assert_duration("18446744073709551615ns", 0, UINT64_MAX);
	assert_duration("18446744073s", 0, 18446744073000000000ull);
	static const char *const bad[] = {
		"", "s", "-1s", "+1s", " 1s", "1s ", "1.5s", "1S", "1sec",
		"10x", "1.5.s", "18446744073709551616ns", "18446744074s",
		"99999999999999999999999h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_duration(bad[i], -EINVAL, 0);
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cli_parse_u64("1714564800000000000", &v), 0);
	assert_true(v == 1714564800000000000ull);
	assert_int_equal(cli_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cli_parse_u64("18446744073709551616", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("12a", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("-1", &v), -EINVAL);
}

static void test_utf8_sequence_len(void **state)
{
	static const struct {
		const char *bytes;
		size_t n, want;
	} cases[] = {
		{ "a", 1, 1 },
		{ "\xc3\xa9", 2, 2 },
		{ "\xe2\x82\xac", 3, 3 },
		{ "\xf0\x9f\x98\x80", 4, 4 },
		{ "\xf4\x8f\xbf\xbf", 4, 4 },   /* U+10FFFF */
		{ "\x80", 1, 0 },               /* stray continuation */
		{ "\xc0\x80", 2, 0 },           /* overlong NUL */
		{ "\xc1\xbf", 2, 0 },           /* overlong */
		{ "\xe0\x80\x80", 3, 0 },       /* overlong */
		{ "\xed\xa0\x80", 3, 0 },       /* surrogate U+D800 */
		{ "\xf0\x80\x80\x80", 4, 0 },   /* overlong */
		{ "\xf4\x90\x80\x80", 4, 0 },   /* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\xe2\x82", 2, 0 },           /* cut short */
		{ "\xc3\x28", 2, 0 },           /* bad continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(dt_utf8_seq_len(
			(const uint8_t *)cases[i].bytes, cases[i].n),
			cases[i].want);
}

static void test_json_text(void **state)
{
	static const char valid[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 "
				    "\0 end";
	static const char bad[] = "a\xff" "b\xed\xa0\x80" "c\xe2\x82";
	static const char want[] = "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
				   "\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd";
	json_t *s;

	(void)state;
	s = cli_json_text(valid, sizeof(valid) - 1);
	assert_non_null(s);
	assert_int_equal(json_string_length(s), sizeof(valid) - 1);
	assert_memory_equal(json_string_value(s), valid, sizeof(valid) - 1);
	json_decref(s);

	s = cli_json_text(bad, sizeof(bad) - 1);
	assert_non_null(s);
	assert_string_equal(json_string_value(s), want);
	json_decref(s);

	s = cli_json_text(NULL, 0);
	assert_non_null(s);
	assert_string_equal(json_string_value(s), "");
	json_decref(s);
}

/* Every byte string becomes a JSON string and a JSON key. */
static void test_json_text_random(void **state)
{
	uint8_t buf[48];
	uint32_t seed = 7;
	json_t *s, *o;

	(void)state;
	for (int n = 0; n < 5000; n++) {
		size_t len = n % sizeof(buf);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		s = cli_json_text(buf, len);
		assert_non_null(s);
		json_decref(s);
		o = json_object();
		assert_int_equal(cli_json_set_text_key(o, buf, len,
						       json_true()), 0);
		assert_int_equal(json_object_size(o), 1);
		json_decref(o);
	}
}

static void test_terminal_safe(void **state)
{
	char out[16];

	(void)state;
	cli_terminal_safe(out, sizeof(out), "a\x1b[31m\x7f" "b", 8);
	assert_string_equal(out, "a?[31m?b");
	cli_terminal_safe(out, sizeof(out), "\xc2\x9b" "x\xff", 4);
	assert_string_equal(out, "??x?");   /* C1 CSI, stray byte */
	cli_terminal_safe(out, sizeof(out), "caf\xc3\xa9", 5);
	assert_string_equal(out, "caf\xc3\xa9");
	cli_terminal_safe(out, 4, "ab\xc3\xa9", 4);   /* no half character */
	assert_string_equal(out, "ab");
	cli_terminal_safe(out, 4, "abcdef", 6);
	assert_string_equal(out, "abc");
}

static int b64_value(char c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(alphabet, c);

	return c && p ? (int)(p - alphabet) : -1;
}

/* A plain decoder for checking round trips; asserts canonical padding. */
static size_t b64_decode(const char *s, uint8_t *out)
{
	size_t len = strlen(s), n = 0;

	assert_int_equal(len % 4, 0);
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;

		for (int j = 0; j < 4; j++) {
			int d = b64_value(s[i + j]);

			if (s[i + j] == '=') {
				assert_true(i + 4 == len && j >= 2);
				pad++;
				d = 0;
			} else {
				assert_int_equal(pad, 0);
				assert_true(d >= 0);
			}
			v = v << 6 | (uint32_t)d;
		}
		out[n++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)v;
	}
	return n;
}

static void test_base64(void **state)
{
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t in[300], back[300];
	json_t *s;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		s = cli_json_base64(vectors[i][0], strlen(vectors[i][0]));
		assert_non_null(s);
		assert_string_equal(json_string_value(s), vectors[i][1]);
		json_decref(s);
	}
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		s = cli_json_base64(in, len);
		assert_non_null(s);
		assert_int_equal(json_string_length(s), (len + 2) / 3 * 4);
		assert_int_equal(b64_decode(json_string_value(s), back), len);
		assert_memory_equal(back, in, len);
		json_decref(s);
	}
}

static void test_u64(void **state)
{
	json_t *v;

	(void)state;
	v = cli_json_u64(INT64_MAX);
	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) == INT64_MAX);
	json_decref(v);
	v = cli_json_u64(UINT64_MAX);
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) > 1.8e19);
	json_decref(v);
}

static const char request[] =
	"GET /api/x?y=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";
static const char response[] =
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: \xff\r\nSet-Cookie: b=2\r\n"
	"set-cookie: c=3\r\nSet-Cookie: d=4\r\nContent-Length: 5\r\n\r\nhello";

static void exchange_fill(struct dt_exchange *x)
{
	dt_exchange_init(x);
	x->id = 3;
	x->conn_id = 7;
	x->protocol = DT_PROTO_HTTP1;
	x->flags = DT_XF_INCOMPLETE | DT_XF_SENDFILE | (1u << 9);
	x->client.family = DT_FAMILY_IPV6;
	x->client.addr[15] = 1;
	x->client.port = 43210;
	x->client.pid = 1234;
	memcpy(x->client.comm, "curl", 5);
	x->server.family = DT_FAMILY_NONE;
	x->req_start_ns = 1000;
	x->req_end_ns = 1100;
	x->resp_start_ns = 1500;
	x->resp_end_ns = 2500;
	assert_int_equal(dt_exchange_set_request(x, request,
						 sizeof(request) - 1), 0);
	assert_int_equal(dt_exchange_set_response(x, response,
						  sizeof(response) - 1), 0);
	assert_int_equal(dt_exchange_set_attr(x, "path", "/api/x?y=1"), 0);
}

static void test_exchange_http(void **state)
{
	struct dt_exchange x;
	json_t *o, *req, *resp, *h, *cookies, *flags;

	(void)state;
	exchange_fill(&x);
	o = cli_exchange_to_json(&x, true);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "duration_ns")),
			 1500);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "client"), "addr")), "[::1]:43210");
	assert_true(json_is_null(json_object_get(
		json_object_get(o, "server"), "addr")));

	req = json_object_get(o, "request");
	assert_string_equal(json_string_value(json_object_get(req, "method")),
			    "GET");
	assert_string_equal(json_string_value(json_object_get(req, "path")),
			    "/api/x?y=1");
	assert_string_equal(json_string_value(json_object_get(req, "version")),
			    "HTTP/1.1");
	assert_int_equal(json_integer_value(json_object_get(req, "body_len")),
			 0);
	assert_int_equal(json_integer_value(json_object_get(req, "len")),
			 sizeof(request) - 1);

	resp = json_object_get(o, "response");
	assert_int_equal(json_integer_value(json_object_get(resp, "status")),
			 200);
	assert_int_equal(json_integer_value(json_object_get(resp, "body_len")),
			 5);
	h = json_object_get(resp, "headers");
	cookies = json_object_get(h, "Set-Cookie");
	assert_true(json_is_array(cookies));
	assert_int_equal(json_array_size(cookies), 3);
	assert_string_equal(json_string_value(json_array_get(cookies, 2)),
			    "d=4");
	assert_string_equal(json_string_value(json_object_get(h, "set-cookie")),
			    "c=3");
	assert_string_equal(json_string_value(json_object_get(h, "X")),
			    "\xef\xbf\xbd");
	assert_non_null(json_object_get(resp, "raw"));

	flags = json_object_get(o, "flags");
	assert_int_equal(json_array_size(flags), 3);
	assert_string_equal(json_string_value(json_array_get(flags, 0)),
			    "incomplete");
	assert_string_equal(json_string_value(json_array_get(flags, 2)),
			    "0x200");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "attrs"), "path")), "/api/x?y=1");

	char *line = json_dumps(o, JSON_COMPACT);
	assert_non_null(line);
	assert_null(strchr(line, '\n'));
	free(line);
	json_decref(o);
	dt_exchange_release(&x);
}

/* Without --raw no raw bytes; bytes that are not HTTP keep only len. */
static void test_exchange_unparsed(void **state)
{
	struct dt_exchange x;
	json_t *o, *req;

	(void)state;
	exchange_fill(&x);
	assert_int_equal(dt_exchange_set_request(&x, "\x16\x03\x01", 3), 0);
	dt_exchange_set_response(&x, NULL, 0);
	o = cli_exchange_to_json(&x, false);
	assert_non_null(o);
	req = json_object_get(o, "request");
	assert_int_equal(json_object_size(req), 1);
	assert_int_equal(json_integer_value(json_object_get(req, "len")), 3);
	assert_true(json_is_null(json_object_get(o, "response")));
	assert_int_equal(json_integer_value(json_object_get(o, "duration_ns")),
			 0);
	json_decref(o);

	x.protocol = DT_PROTO_REDIS;
	assert_int_equal(dt_exchange_set_request(&x, request,
						 sizeof(request) - 1), 0);
	o = cli_exchange_to_json(&x, true);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "protocol")),
			    "redis");
	req = json_object_get(o, "request");
	assert_null(json_object_get(req, "method"));
	assert_non_null(json_object_get(req, "raw"));
	json_decref(o);
	dt_exchange_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_utf8_sequence_len),
		cmocka_unit_test(test_json_text),
		cmocka_unit_test(test_json_text_random),
		cmocka_unit_test(test_terminal_safe),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_exchange_http),
		cmocka_unit_test(test_exchange_unparsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
