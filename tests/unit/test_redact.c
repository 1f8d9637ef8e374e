// SPDX-License-Identifier: MIT
/*
 * Unit tests of the redaction module: every built-in rule on realistic
 * bytes (curl requests, Set-Cookie responses behind interim heads, chunked
 * JSON bodies, pipelined Redis commands, captured MySQL handshakes, SQL
 * password literals), user rules, rule errors, and hostile inputs. Each
 * test compares the whole exchange with what it must become, so a byte
 * changed where it should not be fails as surely as one left unmasked.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "redact/redact.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static struct dt_redactor *redactor(const char *const *rules, size_t n,
				    bool builtin)
{
	struct dt_redactor *r = NULL;
	char err[256] = "";

	if (dt_redactor_new(&r, rules, n, builtin, err, sizeof(err)))
		fail_msg("rules rejected: %s", err);
	assert_non_null(r);
	return r;
}

static void exchange_make(struct dt_exchange *x, uint32_t protocol,
			  const void *req, size_t req_len, const void *resp,
			  size_t resp_len)
{
	dt_exchange_init(x);
	x->protocol = protocol;
	assert_int_equal(dt_exchange_set_request(x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(x, resp, resp_len), 0);
}

/* in[0..len) with every occurrence of each secret starred; caller frees */
static uint8_t *starred(const void *in, size_t len,
			const char *const *secrets, size_t n)
{
	uint8_t *out = malloc(len + 1);

	assert_non_null(out);
	memcpy(out, in, len);
	for (size_t i = 0; i < n; i++) {
		size_t sl = strlen(secrets[i]);
		uint8_t *p = out, *hit;

		while ((hit = memmem(p, len - (size_t)(p - out), secrets[i],
				     sl))) {
			memset(hit, '*', sl);
			p = hit + sl;
		}
	}
	return out;
}

/* The bytes must equal want exactly (same length, same bytes). */
static void assert_bytes(const uint8_t *got, size_t got_len,
			 const void *want, size_t want_len)
{
	assert_int_equal(got_len, want_len);
	if (memcmp(got, want, want_len)) {
		size_t i = 0;

		while (((const uint8_t *)want)[i] == got[i])
			i++;
		fail_msg("byte %zu differs: got '%.*s' want '%.*s'", i,
			 (int)(want_len - i > 40 ? 40 : want_len - i),
			 (const char *)got + i,
			 (int)(want_len - i > 40 ? 40 : want_len - i),
			 (const char *)want + i);
	}
}

/* x->request (or response) must be orig with exactly the secrets
 * starred. */
static void assert_starred(const uint8_t *got, size_t got_len,
			   const char *orig, const char *const *secrets,
			   size_t n)
{
	uint8_t *want = starred(orig, strlen(orig), secrets, n);

	assert_bytes(got, got_len, want, strlen(orig));
	free(want);
}

/* Runs rules over one exchange; returns the spans count. */
static int apply_rules(const char *const *rules, size_t n, bool builtin,
		       struct dt_exchange *x)
{
	struct dt_redactor *r = redactor(rules, n, builtin);
	int ret = dt_redactor_apply(r, x);

	dt_redactor_free(r);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Rules                                                                   */
/* ---------------------------------------------------------------------- */

static void expect_bad_rule(const char *rule, const char *msg)
{
	struct dt_redactor *r = (void *)1;
	const char *rules[] = { "header:X-Ok", rule };
	char err[256] = "";

	assert_int_equal(dt_redactor_new(&r, rules, 2, true, err, sizeof(err)),
			 -EINVAL);
	assert_null(r);
	if (strcmp(err, msg))
		fail_msg("%s\n  gave '%s'\n  not  '%s'", rule, err, msg);
}

static void test_bad_rules(void **state)
{
	(void)state;
	expect_bad_rule("xyz", "redaction rule 'xyz': expected header:NAME, "
			"json:PATH or regex:ERE");
	expect_bad_rule("Header:Authorization", "redaction rule "
			"'Header:Authorization': expected header:NAME, "
			"json:PATH or regex:ERE");
	expect_bad_rule("", "redaction rule '': expected header:NAME, "
			"json:PATH or regex:ERE");
	expect_bad_rule("header:", "redaction rule 'header:': a header name "
			"of 1 to 255 characters expected");
	expect_bad_rule("header:X Api", "redaction rule 'header:X Api': not a "
			"header name (letters, digits and !#$%&'*+-.^_`|~ "
			"only)");
	expect_bad_rule("json:a.b", "redaction rule 'json:a.b': bad JSON path "
			"at offset 0: it must start with '$'");
	expect_bad_rule("json:$.a[", "redaction rule 'json:$.a[': bad JSON "
			"path at offset 3: an index, * or a quoted name "
			"expected after '['");
	expect_bad_rule("json:$.a[1", "redaction rule 'json:$.a[1': bad JSON "
			"path at offset 3: ']' expected");
	expect_bad_rule("json:$..", "redaction rule 'json:$..': bad JSON path "
			"at offset 3: a member name expected");
	expect_bad_rule("json:$a", "redaction rule 'json:$a': bad JSON path "
			"at offset 1: '.' or '[' expected");
	expect_bad_rule("json:$['a]", "redaction rule 'json:$['a]': bad JSON "
			"path at offset 1: unterminated quoted name");
	expect_bad_rule("json:$[99999999999]", "redaction rule "
			"'json:$[99999999999]': bad JSON path at offset 1: "
			"index too large");
	expect_bad_rule("regex:", "redaction rule 'regex:': empty regex");
	expect_bad_rule("regex:(", "redaction rule 'regex:(': Unmatched ( or "
			"\\(");
	expect_bad_rule("regex:(a)\\1", "redaction rule 'regex:(a)\\1': "
			"backreferences are not supported");
	expect_bad_rule("regex:a**", "redaction rule 'regex:a**': a "
			"quantifier follows a quantifier");
	expect_bad_rule("regex:a{1001}", "redaction rule 'regex:a{1001}': "
			"repetition count above 1000");
	/* the session-1 finding: nested repetitions multiply regcomp's tree */
	expect_bad_rule("regex:((a{1,100}){1,100}){1,100}", "redaction rule "
			"'regex:((a{1,100}){1,100}){1,100}': too complex "
			"(repetitions multiply its size)");
}

static void test_long_rules(void **state)
{
	char *rule = malloc(8192), *err = malloc(9000);
	const char *rules[1] = { rule };
	struct dt_redactor *r;

	(void)state;
	assert_non_null(rule);
	assert_non_null(err);
	/* 64 steps: one more than the matcher's bit set holds */
	strcpy(rule, "json:$");
	for (int i = 0; i < 64; i++)
		strcat(rule, ".a");
	assert_int_equal(dt_redactor_new(&r, rules, 1, false, err, 9000),
			 -EINVAL);
	assert_non_null(strstr(err, "': bad JSON path at offset 127: more "
			       "than 63 steps"));
	memset(rule, 'a', 8000);
	memcpy(rule, "regex:", 6);
	rule[8000] = '\0';
	assert_int_equal(dt_redactor_new(&r, rules, 1, false, err, 9000),
			 -EINVAL);
	assert_non_null(strstr(err, "aaa': regex longer than 4096 "
			       "characters"));
	/* a long message is cut to the caller's buffer, NUL-terminated */
	err[100] = 'x';
	assert_int_equal(dt_redactor_new(&r, rules, 1, false, err, 100),
			 -EINVAL);
	assert_int_equal(strlen(err), 99);
	assert_int_equal(err[100], 'x');
	free(err);
	free(rule);
}

static void test_good_rules(void **state)
{
	const char *rules[] = {
		"header:X-Api-Key", "json:$", "json:$.a.b", "json:$.a[0]",
		"json:$.a[*].b", "json:$..name", "json:$['a b'][\"c\"].*",
		"json:$..[2]", "regex:token=[A-Za-z0-9]+",
		"regex:^secret: .*$",
	};
	struct dt_redactor *r;

	(void)state;
	r = redactor(rules, ARRAY_SIZE(rules), true);
	dt_redactor_free(r);
	r = redactor(NULL, 0, false);
	dt_redactor_free(r);
	dt_redactor_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* HTTP                                                                    */
/* ---------------------------------------------------------------------- */

static const char curl_request[] =
	"GET /api/v1/orders?limit=10 HTTP/1.1\r\n"
	"Host: shop.example:8080\r\n"
	"User-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n"
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln\r\n"
	"cookie: session=9f8e7d6c; theme=dark\r\n"
	"Proxy-Authorization:Basic dXNlcjpwYXNz  \r\n"
	"X-API-KEY: k-123456\r\n"
	"\r\n";

static const char ok_response[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.22.1\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static void test_http_curl_request(void **state)
{
	const char *secrets[] = {
		"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln",
		"session=9f8e7d6c; theme=dark", "Basic dXNlcjpwYXNz",
		"k-123456",
	};
	const char *rules[] = { "header:x-api-key" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, curl_request, strlen(curl_request),
		      ok_response, strlen(ok_response));
	assert_int_equal(apply_rules(rules, 1, true, &x), 4);
	assert_starred(x.request, x.request_len, curl_request, secrets, 4);
	assert_bytes(x.response, x.response_len, ok_response,
		     strlen(ok_response));
	/* masking again changes nothing more */
	assert_int_equal(apply_rules(rules, 1, true, &x), 0);
	assert_starred(x.request, x.request_len, curl_request, secrets, 4);
	dt_exchange_release(&x);

	/* without the built-in rules only the user's header goes */
	exchange_make(&x, DT_PROTO_HTTP1, curl_request, strlen(curl_request),
		      NULL, 0);
	assert_int_equal(apply_rules(rules, 1, false, &x), 1);
	assert_starred(x.request, x.request_len, curl_request, secrets + 3, 1);
	dt_exchange_release(&x);
}

static void test_http_set_cookie_after_interim(void **state)
{
	static const char resp[] =
		"HTTP/1.1 100 Continue\r\n"
		"\r\n"
		"HTTP/1.1 103 Early Hints\r\n"
		"Link: </app.css>; rel=preload\r\n"
		"Set-Cookie: early=e4rly-v4lue\r\n"
		"\r\n"
		"HTTP/1.1 201 Created\r\n"
		"Content-Type: application/json\r\n"
		"SET-COOKIE: sid=s3cr3t-sid; Path=/; HttpOnly; Secure\r\n"
		"Set-Cookie: csrf=t0k3n; SameSite=Strict\r\n"
		"Content-Length: 11\r\n"
		"\r\n"
		"{\"id\":4242}";
	static const char req[] =
		"POST /login HTTP/1.1\r\n"
		"Host: shop\r\n"
		"Expect: 100-continue\r\n"
		"Content-Type: application/x-www-form-urlencoded\r\n"
		"Content-Length: 26\r\n"
		"\r\n"
		"user=alice&password=wonder";
	const char *secrets[] = {
		"early=e4rly-v4lue",
		"sid=s3cr3t-sid; Path=/; HttpOnly; Secure",
		"csrf=t0k3n; SameSite=Strict", "4242",
	};
	const char *rules[] = { "json:$.id", "regex:password=[^&]*" };
	const char *req_secrets[] = { "password=wonder" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req, strlen(req), resp,
		      strlen(resp));
	assert_int_equal(apply_rules(rules, 2, true, &x), 5);
	assert_starred(x.response, x.response_len, resp, secrets, 4);
	assert_starred(x.request, x.request_len, req, req_secrets, 1);
	dt_exchange_release(&x);
}

/* A chunked JSON body whose password value is split over three chunks,
 * one boundary inside an escape sequence, with a trailer. */
static void test_http_chunked_json(void **state)
{
	static const char req[] =
		"POST /api/session HTTP/1.1\r\n"
		"Host: auth.internal\r\n"
		"Content-Type: application/json; charset=utf-8\r\n"
		"Transfer-Encoding: chunked\r\n"
		"\r\n"
		"19\r\n"
		"{\"user\":\"alice\",\"password\r\n"
		"8;ext=1\r\n"
		"\":\"hunt\\\r\n"
		"A\r\n"
		"\"er2\",\"n\":\r\n"
		"2a\r\n"
		"[1,-2.5e3],\"deep\":{\"password\":7,\"x\":true}}\r\n"
		"0\r\n"
		"Authorization: Bearer trailer-token\r\n"
		"\r\n";
	static const char want[] =
		"POST /api/session HTTP/1.1\r\n"
		"Host: auth.internal\r\n"
		"Content-Type: application/json; charset=utf-8\r\n"
		"Transfer-Encoding: chunked\r\n"
		"\r\n"
		"19\r\n"
		"{\"user\":\"alice\",\"password\r\n"
		"8;ext=1\r\n"
		"\":\"*****\r\n"
		"A\r\n"
		"****\",\"n\":\r\n"
		"2a\r\n"
		"[1,******],\"deep\":{\"password\":*,\"x\":true}}\r\n"
		"0\r\n"
		"Authorization: ********************\r\n"
		"\r\n";
	const char *rules[] = { "json:$..password", "json:$.n[1]" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req, strlen(req), NULL, 0);
	assert_int_equal(apply_rules(rules, 2, true, &x), 4);
	assert_bytes(x.request, x.request_len, want, strlen(want));
	dt_exchange_release(&x);
}

static void test_http_json_paths(void **state)
{
	static const char body[] =
		"{\"a\":{\"b\":\"ab\",\"c\":[\"c0\",\"c1\"]},"
		"\"items\":[{\"token\":\"t0\",\"k\":1},{\"token\":\"t1\"},"
		"{\"token\":{\"inner\":\"t2\",\"n\":12,\"z\":null}}],"
		"\"odd key\":\"ok\",\"esc\\\"aped\":\"e\","
		"\"list\":[[\"l00\",\"l01\"],[\"l10\"]]}";
	static const struct {
		const char *rule, *want;
	} cases[] = {
		{ "json:$.a.b", "\"b\":\"**\"" },
		{ "json:$.a.c[1]", "[\"c0\",\"**\"]" },
		{ "json:$.a.c[*]", "[\"**\",\"**\"]" },
		{ "json:$.items[*].token", "\"inner\":\"**\",\"n\":**" },
		{ "json:$..token", "\"token\":\"**\"},{\"token\":{" },
		{ "json:$.items[0].k", "\"k\":*}" },
		{ "json:$['odd key']", "\"odd key\":\"**\"" },
		{ "json:$.list[*][0]", "[[\"***\",\"l01\"],[\"***\"]]" },
		{ "json:$..[1]", "[\"c0\",\"**\"]" },
		{ "json:$.a.*", "{\"b\":\"**\",\"c\":[\"**\",\"**\"]}" },
	};
	char req[1024];
	struct dt_exchange x;

	(void)state;
	snprintf(req, sizeof(req), "PUT /x HTTP/1.1\r\nContent-Type: "
		 "application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *rules[] = { cases[i].rule };
		size_t stars = 0, head = strlen(req) - strlen(body);

		exchange_make(&x, DT_PROTO_HTTP1, req, strlen(req), NULL, 0);
		assert_true(apply_rules(rules, 1, false, &x) > 0);
		if (!memmem(x.request, x.request_len, cases[i].want,
			    strlen(cases[i].want)))
			fail_msg("%s: got %.*s", cases[i].rule,
				 (int)x.request_len, (const char *)x.request);
		/* only value bytes changed, every one to '*' */
		assert_memory_equal(x.request, req, head);
		for (size_t j = head; j < x.request_len; j++) {
			if (x.request[j] == (uint8_t)req[j])
				continue;
			assert_int_equal(x.request[j], '*');
			stars++;
		}
		assert_true(stars > 0);
		dt_exchange_release(&x);
	}
}

static void test_http_json_detection(void **state)
{
	/* no Content-Type, body parses as JSON: masked */
	static const char sniffed[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
		" {\"password\":\"abc\"}\n";
	/* text that is not JSON: left alone whatever it holds */
	static const char text[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		"Content-Length: 22\r\n\r\n{\"password\":\"abc\"} oops";
	/* declared JSON, cut short by a capture limit inside the value */
	static const char cut[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/problem+json\r\n"
		"Content-Length: 4000\r\n\r\n{\"password\":\"abcdef";
	const char *rules[] = { "json:$.password" };
	const char *secret[] = { "abc" }, *secret_cut[] = { "abcdef" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, sniffed, strlen(sniffed));
	assert_int_equal(apply_rules(rules, 1, false, &x), 1);
	assert_starred(x.response, x.response_len, sniffed, secret, 1);
	dt_exchange_release(&x);

	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, text, strlen(text));
	assert_int_equal(apply_rules(rules, 1, false, &x), 0);
	assert_bytes(x.response, x.response_len, text, strlen(text));
	dt_exchange_release(&x);

	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, cut, strlen(cut));
	assert_int_equal(apply_rules(rules, 1, false, &x), 1);
	assert_starred(x.response, x.response_len, cut, secret_cut, 1);
	dt_exchange_release(&x);
}

/* NDJSON, values before nesting past the scanner's depth, a request
 * whose framing is unknown (the rest is scanned line by line). */
static void test_http_json_edges(void **state)
{
	static const char ndjson[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\r\n"
		"{\"a\":\"one\"}\n{\"a\":\"two\"}\n[{\"a\":3}]\n";
	static const char ndjson_want[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\r\n"
		"{\"a\":\"***\"}\n{\"a\":\"***\"}\n[{\"a\":3}]\n";
	static const char unframed[] =
		"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxyz\r\n"
		"GET / HTTP/1.1\r\nCookie: zz\r\n\r\n";
	const char *rules[] = { "json:$.a", "json:$..deep" };
	const char *zz[] = { "zz" };
	char *deep = malloc(8192);
	struct dt_exchange x;
	size_t n;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, ndjson, strlen(ndjson));
	assert_int_equal(apply_rules(rules, 1, false, &x), 2);
	assert_bytes(x.response, x.response_len, ndjson_want,
		     strlen(ndjson_want));
	dt_exchange_release(&x);

	assert_non_null(deep);
	n = (size_t)sprintf(deep, "HTTP/1.1 200 OK\r\n\r\n"
			    "{\"deep\":\"d1\",\"x\":");
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(deep + n, "{\"deep\":\"d2\",\"x\":");
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, deep, n);
	/* the body is cut: it still counts as JSON; past depth 128 the
	 * scanner stops */
	assert_int_equal(apply_rules(rules + 1, 1, false, &x), 128);
	assert_memory_equal(x.response + 19, "{\"deep\":\"**\",", 13);
	assert_non_null(memmem(x.response, x.response_len, "\"d2\"", 4));
	dt_exchange_release(&x);
	free(deep);

	exchange_make(&x, DT_PROTO_HTTP1, unframed, strlen(unframed), NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	assert_starred(x.request, x.request_len, unframed, zz, 1);
	dt_exchange_release(&x);
}

static void test_http_compressed_body(void **state)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
				      0x00, 0x00, 0x00, 0x03, '{', 0x00 };
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Encoding: gzip\r\nContent-Length: 12\r\n\r\n";
	static const char chunked_head[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
	const char *rules[] = { "json:$.password" };
	uint8_t resp[256], want[256];
	size_t hl = strlen(head), n;
	struct dt_exchange x;

	(void)state;
	memcpy(resp, head, hl);
	memcpy(resp + hl, gz, sizeof(gz));
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, resp, hl + sizeof(gz));
	assert_int_equal(apply_rules(rules, 1, false, &x), 1);
	memcpy(want, head, hl);
	memset(want + hl, '*', sizeof(gz));
	assert_bytes(x.response, x.response_len, want, hl + sizeof(gz));
	dt_exchange_release(&x);

	/* without a json rule a compressed body stays */
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, resp, hl + sizeof(gz));
	assert_int_equal(apply_rules(NULL, 0, true, &x), 0);
	assert_bytes(x.response, x.response_len, resp, hl + sizeof(gz));
	dt_exchange_release(&x);

	/* a transfer coding: only the chunk data goes, the framing stays */
	n = (size_t)snprintf((char *)resp, sizeof(resp),
			     "%sc\r\n%12s\r\n0\r\n\r\n", chunked_head, "");
	memcpy(resp + strlen(chunked_head) + 3, gz, sizeof(gz));
	memcpy(want, resp, n);
	memset(want + strlen(chunked_head) + 3, '*', sizeof(gz));
	exchange_make(&x, DT_PROTO_HTTP1, NULL, 0, resp, n);
	assert_int_equal(apply_rules(rules, 1, false, &x), 1);
	assert_bytes(x.response, x.response_len, want, n);
	dt_exchange_release(&x);
}

static void test_http_pipelined_and_head(void **state)
{
	static const char req[] =
		"GET /a HTTP/1.1\r\nAuthorization: Basic YTpi\r\n\r\n"
		"POST /b HTTP/1.1\r\nContent-Length: 16\r\n"
		"Content-Type: application/json\r\n\r\n{\"secret\":\"s3\"}"
		"\r\nHEAD /c HTTP/1.1\r\nCookie: c=1\r\n\r\n";
	/* a HEAD response declares a length but has no body: the next head
	 * follows at once */
	static const char resp[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
		"Set-Cookie: a=b\r\n\r\n"
		"HTTP/1.1 200 OK\r\nSet-Cookie: c=d\r\n\r\n";
	const char *rules[] = { "json:$.secret" };
	const char *req_secrets[] = { "Basic YTpi", "s3", "c=1" };
	const char *resp_secrets[] = { "a=b", "c=d" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req, strlen(req), resp,
		      strlen(resp));
	assert_int_equal(apply_rules(rules, 1, true, &x), 5);
	assert_starred(x.request, x.request_len, req, req_secrets, 3);
	assert_starred(x.response, x.response_len, resp, resp_secrets, 2);
	dt_exchange_release(&x);
}

/* Heads the codec refuses are scanned line by line. */
static void test_http_unparsed_heads(void **state)
{
	static const char cut[] =
		"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer abc.def";
	static const char folded[] =
		"\r\nGET / HTTP/1.1\r\nAuthorization: Digest user=\"u\",\r\n"
		"\tresponse=\"d41d8cd9\"\r\nX-Other: x\r\n\r\n";
	static const char bad[] =
		"HTTP/1.1 200 OK\r\nBad Header: x\r\nSet-Cookie: k=v\r\n\r\n";
	const char *s1[] = { "Bearer abc.def" };
	const char *s2[] = { "Digest user=\"u\",", "response=\"d41d8cd9\"" };
	const char *s3[] = { "k=v" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, cut, strlen(cut), bad, strlen(bad));
	x.flags = DT_XF_TRUNCATED;
	assert_int_equal(apply_rules(NULL, 0, true, &x), 2);
	assert_starred(x.request, x.request_len, cut, s1, 1);
	assert_starred(x.response, x.response_len, bad, s3, 1);
	dt_exchange_release(&x);

	exchange_make(&x, DT_PROTO_HTTP1, folded, strlen(folded), NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 2);
	assert_starred(x.request, x.request_len, folded, s2, 2);
	dt_exchange_release(&x);

	/* an exchange of no known protocol that reads as HTTP */
	exchange_make(&x, DT_PROTO_UNKNOWN, cut, strlen(cut), NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	assert_starred(x.request, x.request_len, cut, s1, 1);
	dt_exchange_release(&x);
}

/* More fields than the codec takes: the line scanner still finds the
 * last one. */
static void test_http_many_fields(void **state)
{
	const char *secret[] = { "Bearer last" };
	char *req = malloc(8192);
	struct dt_exchange x;
	size_t n;

	(void)state;
	assert_non_null(req);
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(req + n, "X-%d: v\r\n", i);
	n += (size_t)sprintf(req + n, "authorization: Bearer last\r\n\r\n");
	exchange_make(&x, DT_PROTO_HTTP1, req, n, NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	assert_starred(x.request, x.request_len, req, secret, 1);
	dt_exchange_release(&x);
	free(req);
}

/* The secret of a header rule is masked where an attribute repeats it. */
static void test_http_attrs(void **state)
{
	static const char req[] =
		"GET /reset?key=k3y-0f-r3s3t HTTP/1.1\r\n"
		"Host: tenant-77.example\r\n"
		"Authorization: Bearer tok-0123456789\r\n\r\n";
	const char *rules[] = { "header:Host", "regex:key=[-a-z0-9]+" };
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req, strlen(req), NULL, 0);
	assert_int_equal(dt_exchange_set_attr(&x, "method", "GET"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "path",
					      "/reset?key=k3y-0f-r3s3t"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "host",
					      "tenant-77.example"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "note",
					      "via tenant-77.example"), 0);
	assert_int_equal(apply_rules(rules, 2, true, &x), 6);
	assert_string_equal(dt_exchange_attr(&x, "method"), "GET");
	assert_string_equal(dt_exchange_attr(&x, "path"),
			    "/reset?****************");
	assert_string_equal(dt_exchange_attr(&x, "host"),
			    "*****************");
	assert_string_equal(dt_exchange_attr(&x, "note"),
			    "via *****************");
	dt_exchange_release(&x);
}

/* ---------------------------------------------------------------------- */
/* Redis                                                                   */
/* ---------------------------------------------------------------------- */

static void test_redis_pipelined(void **state)
{
	static const char req[] =
		"*2\r\n$4\r\nAUTH\r\n$10\r\nhunter2pw!\r\n"
		"*3\r\n$4\r\nauth\r\n$5\r\nalice\r\n$7\r\nalic3pw\r\n"
		"*6\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n"
		"$6\r\nb0bpw!\r\n$7\r\nSETNAME\r\n"
		"*3\r\n$3\r\nSET\r\n$4\r\nAUTH\r\n$5\r\nvalue\r\n"
		"AUTH \"inl ine\"\r\n"
		"hello 2 setname AUTH auth carol c4r0lpw\r\n"
		"*5\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n"
		"$6\r\nrp-s3c\r\n$7\r\nmaxconn\r\n"
		"*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$10\r\nmasterauth\r\n"
		"$6\r\nma-s3c\r\n"
		"*14\r\n$7\r\nMIGRATE\r\n$4\r\nhost\r\n$4\r\n6379\r\n$0\r\n\r\n"
		"$1\r\n0\r\n$4\r\n5000\r\n$4\r\nCOPY\r\n$5\r\nAUTH2\r\n"
		"$2\r\nmu\r\n$6\r\nmig-pw\r\n$4\r\nKEYS\r\n$4\r\nAUTH\r\n"
		"$2\r\nk2\r\n$2\r\nk3\r\n"
		"MIGRATE h 1 k 0 10 AUTH mig2pw\r\n"
		"ACL SETUSER eve on >ev3pw "
		"#5e884898da28047151d0e56f8dc6292773603d0d ~* +@all\r\n";
	const char *secrets[] = {
		"hunter2pw!", "alic3pw", "b0bpw!", "inl ine", "c4r0lpw",
		"rp-s3c", "ma-s3c", "mig-pw", "mig2pw", "ev3pw",
		"5e884898da28047151d0e56f8dc6292773603d0d",
	};
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_REDIS, req, strlen(req), "+OK\r\n", 5);
	assert_int_equal(dt_exchange_set_attr(&x, "command", "AUTH"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "key", "hunter2pw!"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "reply", "status \"OK\""),
			 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 12);
	assert_starred(x.request, x.request_len, req, secrets,
		       ARRAY_SIZE(secrets));
	assert_bytes(x.response, x.response_len, "+OK\r\n", 5);
	assert_string_equal(dt_exchange_attr(&x, "command"), "AUTH");
	assert_string_equal(dt_exchange_attr(&x, "key"), "**********");
	assert_string_equal(dt_exchange_attr(&x, "reply"), "status \"OK\"");
	dt_exchange_release(&x);
}

/* Short passwords, commands cut short by the end of the buffer, a CONFIG
 * SET too long for the stack array of arguments, built-ins off. */
static void test_redis_edges(void **state)
{
	/* the 99-byte password runs to the end: all of it is the password */
	static const char req[] =
		"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
		"*2\r\n$4\r\nAUTH\r\n$99\r\nshort\r\n"
		"*2\r\n$4\r\nAUTH\r\n$3\r\nxyz\r\n";
	static const struct {
		const char *req, *want;
	} cuts[] = {
		{ "\r\n*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$20\r\npass",
		  "\r\n*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$20\r\n****" },
		{ "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n"
		  "$6",
		  "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n"
		  "$6" },
		{ "AUTH sesame", "AUTH ******" },
		{ "AUTH \"ses am", "AUTH \"******" },
		{ "auth 'u' 'ses am", "auth 'u' '******" },
		{ "*2\r\n$4\r\nPING\r\n$4\r\npo",
		  "*2\r\n$4\r\nPING\r\n$4\r\npo" },
		{ "*2\r\n$4\r\nAUTH\r\n$4\r", "*2\r\n$4\r\nAUTH\r\n$4\r" },
	};
	const char *secrets[] = {
		"pw", "short\r\n*2\r\n$4\r\nAUTH\r\n$3\r\nxyz\r\n",
	};
	char big[4096];
	size_t n;
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_REDIS, req, strlen(req), NULL, 0);
	assert_int_equal(dt_exchange_set_attr(&x, "key", "pw"), 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 3);
	assert_starred(x.request, x.request_len, req, secrets, 2);
	assert_string_equal(dt_exchange_attr(&x, "key"), "**");
	dt_exchange_release(&x);

	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		exchange_make(&x, DT_PROTO_REDIS, cuts[i].req,
			      strlen(cuts[i].req), NULL, 0);
		assert_int_equal(apply_rules(NULL, 0, true, &x),
				 strcmp(cuts[i].req, cuts[i].want) != 0);
		assert_bytes(x.request, x.request_len, cuts[i].want,
			     strlen(cuts[i].want));
		dt_exchange_release(&x);
	}

	n = (size_t)snprintf(big, sizeof(big), "*%d\r\n$6\r\nCONFIG\r\n"
			     "$3\r\nSET\r\n", 2 + 2 * 40);
	for (int i = 0; i < 39; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "$7\r\nmaxconn\r\n$2\r\n%02d\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n,
			      "$11\r\nrequirepass\r\n$8\r\nlate-s3c\r\n");
	exchange_make(&x, DT_PROTO_REDIS, big, n, NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	assert_non_null(memmem(x.request, n, "requirepass\r\n$8\r\n********",
			       25));
	dt_exchange_release(&x);

	exchange_make(&x, DT_PROTO_REDIS, req, strlen(req), NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, false, &x), 0);
	assert_bytes(x.request, x.request_len, req, strlen(req));
	dt_exchange_release(&x);
}

/* ---------------------------------------------------------------------- */
/* MySQL                                                                   */
/* ---------------------------------------------------------------------- */

struct capture {
	uint8_t *client, *server;
	size_t client_len, server_len;
};

/* fixtures/mysql/<name> from the working directory or above the test
 * binary. */
static FILE *fixture_open(const char *name)
{
	char path[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "fixtures/mysql/%s", name);
	f = fopen(path, "rb");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (f || n <= 0)
		return f;
	exe[n] = '\0';
	for (int up = 0; up < 6 && !f; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/fixtures/mysql/%s", exe, name);
		f = fopen(path, "rb");
	}
	return f;
}

static void append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n)
{
	*buf = realloc(*buf, *len + n);
	assert_non_null(*buf);
	memcpy(*buf + *len, p, n);
	*len += n;
}

/* The handshake of a captured connection (fixtures/mysql/README): the
 * client packets before its first command, the server packets before
 * that. */
static void capture_handshake(const char *name, struct capture *cap)
{
	FILE *f = fixture_open(name);
	uint8_t hdr[5], *data;

	memset(cap, 0, sizeof(*cap));
	if (!f)
		fail_msg("fixture %s not found", name);
	while (fread(hdr, 1, 5, f) == 5) {
		size_t len = hdr[1] | hdr[2] << 8 | hdr[3] << 16 |
			     (size_t)hdr[4] << 24;

		data = malloc(len);
		assert_non_null(data);
		assert_int_equal(fread(data, 1, len, f), len);
		if (hdr[0] == 'C' && len > 3 && data[3] == 0) {
			free(data);
			break;
		}
		if (hdr[0] == 'C')
			append(&cap->client, &cap->client_len, data, len);
		else
			append(&cap->server, &cap->server_len, data, len);
		free(data);
	}
	fclose(f);
	assert_true(cap->client_len > 0 && cap->server_len > 0);
}

static void assert_changed_only(const uint8_t *got, const uint8_t *orig,
				size_t len, size_t from, size_t to)
{
	for (size_t i = 0; i < len; i++) {
		if (i >= from && i < to)
			assert_int_equal(got[i], '*');
		else
			assert_int_equal(got[i], orig[i]);
	}
}

static void test_mysql_handshake_captured(void **state)
{
	struct dt_mysql_summary *sum;
	struct capture cap;
	struct dt_exchange x;
	size_t user;

	(void)state;
	/* mysql_native_password: a 20-byte scramble after "app\0" 0x14 */
	capture_handshake("text.chunks", &cap);
	exchange_make(&x, DT_PROTO_MYSQL, cap.client, cap.client_len,
		      cap.server, cap.server_len);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	user = (size_t)((uint8_t *)memmem(cap.client, cap.client_len, "app",
					  4) - cap.client);
	assert_int_equal(cap.client[user + 4], 20);
	assert_changed_only(x.request, cap.client, cap.client_len, user + 5,
			    user + 25);
	assert_bytes(x.response, x.response_len, cap.server, cap.server_len);
	/* the masked handshake still decodes: lengths are intact */
	assert_int_equal(dt_mysql_decode_exchange(x.request, x.request_len,
						  x.response, x.response_len,
						  0, NULL, &sum), 0);
	assert_string_equal(sum->request.user, "app");
	assert_string_equal(sum->request.schema, "shop");
	dt_mysql_summary_free(sum);
	dt_exchange_release(&x);
	free(cap.client);
	free(cap.server);

	/* client_ed25519: an auth switch, answered by a 64-byte signature */
	capture_handshake("ed25519.chunks", &cap);
	exchange_make(&x, DT_PROTO_MYSQL, cap.client, cap.client_len,
		      cap.server, cap.server_len);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 2);
	user = (size_t)((uint8_t *)memmem(cap.client, cap.client_len, "edu",
					  4) - cap.client);
	for (size_t i = 0; i < cap.client_len; i++) {
		bool secret = (i >= user + 5 && i < user + 25) ||
			      i >= cap.client_len - 64;

		assert_int_equal(x.request[i], secret ? '*' : cap.client[i]);
	}
	dt_exchange_release(&x);
	free(cap.client);
	free(cap.server);
}

static size_t packet(uint8_t *out, uint8_t seq, const void *payload,
		     size_t n)
{
	out[0] = (uint8_t)n;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)(n >> 16);
	out[3] = seq;
	memcpy(out + 4, payload, n);
	return n + 4;
}

static void test_mysql_change_user(void **state)
{
	static const uint8_t change[] =
		"\x11" "bob\0" "\x14" "ABCDEFGHIJKLMNOPQRST" "shop\0"
		"\x21\x00" "mysql_native_password";
	/* the server asks for a cleartext password: it goes in packet 3 */
	static const uint8_t clear[] = "pl41n-text\0";
	uint8_t req[256], want[256];
	size_t n = 0, auth;
	struct dt_exchange x;

	(void)state;
	n += packet(req, 0, change, sizeof(change));
	n += packet(req + n, 3, clear, sizeof(clear));
	memcpy(want, req, n);
	auth = 4 + 1 + 4 + 1;
	memset(want + auth, '*', 20);
	/* the terminating zero was zero already */
	memset(want + 4 + sizeof(change) + 4, '*', strlen((const char *)clear));
	exchange_make(&x, DT_PROTO_MYSQL, req, n, "\x07\0\0\x01\0\0\0\x02\0\0",
		      11);
	assert_int_equal(dt_exchange_set_attr(&x, "request.user", "bob"), 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 2);
	assert_bytes(x.request, x.request_len, want, n);
	assert_string_equal(dt_exchange_attr(&x, "request.user"), "bob");
	dt_exchange_release(&x);
}

static void query_exchange(struct dt_exchange *x, uint8_t command,
			   const char *sql)
{
	size_t n = strlen(sql);
	uint8_t *req = malloc(n + 5);

	assert_non_null(req);
	req[0] = (uint8_t)(n + 1);
	req[1] = (uint8_t)((n + 1) >> 8);
	req[2] = (uint8_t)((n + 1) >> 16);
	req[3] = 0;
	req[4] = command;
	memcpy(req + 5, sql, n);
	exchange_make(x, DT_PROTO_MYSQL, req, n + 5, NULL, 0);
	assert_int_equal(dt_exchange_set_attr(x, "request.sql", sql), 0);
	free(req);
}

static void test_mysql_sql_literals(void **state)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "CREATE USER 'app'@'%' IDENTIFIED BY 's3cr3t'",
		  "CREATE USER 'app'@'%' IDENTIFIED BY '******'" },
		{ "create user app identified with caching_sha2_password "
		  "by \"p\\\"w'x\" , bob IDENTIFIED BY 'it''s'",
		  "create user app identified with caching_sha2_password "
		  "by \"******\" , bob IDENTIFIED BY '*****'" },
		{ "ALTER USER u IDENTIFIED WITH 'mysql_native_password' AS "
		  "'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
		  "ALTER USER u IDENTIFIED WITH 'mysql_native_password' AS "
		  "'*****************************************'" },
		{ "GRANT ALL ON *.* TO u IDENTIFIED BY PASSWORD '*ABCDEF'",
		  "GRANT ALL ON *.* TO u IDENTIFIED BY PASSWORD '*******'" },
		{ "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('n3w')",
		  "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('***')" },
		{ "SET PASSWORD = 'mine'", "SET PASSWORD = '****'" },
		{ "set password for `u`@`h`='x1' REPLACE 'old1'",
		  "set password for `u`@`h`='**' REPLACE '****'" },
		{ "ALTER USER u IDENTIFIED VIA ed25519 USING PASSWORD('e1') OR "
		  "unix_socket",
		  "ALTER USER u IDENTIFIED VIA ed25519 USING PASSWORD('**') OR "
		  "unix_socket" },
		{ "CHANGE MASTER TO MASTER_USER='repl', MASTER_PASSWORD='rp'",
		  "CHANGE MASTER TO MASTER_USER='repl', MASTER_PASSWORD='**'" },
		{ "CREATE USER u IDENTIFIED BY _utf8mb4'abc'",
		  "CREATE USER u IDENTIFIED BY _utf8mb4'***'" },
		{ "/*!80000 CREATE USER u IDENTIFIED BY 'v8' */",
		  "/*!80000 CREATE USER u IDENTIFIED BY '**' */" },
		/* keywords in strings and comments do not count */
		{ "SELECT 'IDENTIFIED BY', \"PASSWORD(\" "
		  "-- IDENTIFIED BY 'no'\n"
		  "/* PASSWORD('no') */ # SET PASSWORD = 'no'\n",
		  "SELECT 'IDENTIFIED BY', \"PASSWORD(\" "
		  "-- IDENTIFIED BY 'no'\n"
		  "/* PASSWORD('no') */ # SET PASSWORD = 'no'\n" },
		{ "SELECT * FROM t WHERE id = 'IDENTIFIED BY'",
		  "SELECT * FROM t WHERE id = 'IDENTIFIED BY'" },
		{ "CREATE USER u IDENTIFIED BY RANDOM PASSWORD",
		  "CREATE USER u IDENTIFIED BY RANDOM PASSWORD" },
		/* cut short by a capture limit */
		{ "CREATE USER u IDENTIFIED BY 'abc\\", 
		  "CREATE USER u IDENTIFIED BY '****" },
	};
	struct dt_exchange x;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (uint8_t cmd = DT_MYSQL_COM_QUERY;;
		     cmd = DT_MYSQL_COM_STMT_PREPARE) {
			bool same = !strcmp(cases[i].sql, cases[i].want);

			query_exchange(&x, cmd, cases[i].sql);
			assert_int_equal(apply_rules(NULL, 0, true, &x) > 0,
					 !same);
			assert_bytes(x.request + 5, x.request_len - 5,
				     cases[i].want, strlen(cases[i].want));
			assert_int_equal(x.request[4], cmd);
			assert_string_equal(dt_exchange_attr(&x,
							     "request.sql"),
					    cases[i].want);
			dt_exchange_release(&x);
			if (cmd == DT_MYSQL_COM_STMT_PREPARE)
				break;
		}
	}
}

/* SQL over several packets: a literal across the 16 MiB boundary. */
static void test_mysql_sql_multipacket(void **state)
{
	const size_t full = 0xffffff, tail = 20;
	size_t n = 4 + full + 4 + tail, lit;
	uint8_t *req = malloc(n);
	struct dt_exchange x;

	(void)state;
	assert_non_null(req);
	memcpy(req, "\xff\xff\xff\x00\x03", 5);
	memset(req + 5, ' ', full - 1);
	lit = 4 + full - 30;
	memcpy(req + lit, "SET PASSWORD = 'abcdefghijklmnopqrstuvw", 40);
	memcpy(req + 4 + full, "\x14\x00\x00\x01", 4);
	memcpy(req + 4 + full + 4, "xyz';               ", tail);
	exchange_make(&x, DT_PROTO_MYSQL, req, n, NULL, 0);
	assert_int_equal(apply_rules(NULL, 0, true, &x), 1);
	assert_memory_equal(x.request + lit, "SET PASSWORD = '", 16);
	for (size_t i = lit + 16; i < 4 + full; i++)
		assert_int_equal(x.request[i], '*');
	assert_memory_equal(x.request + 4 + full, "\x14\x00\x00\x01***'", 8);
	dt_exchange_release(&x);
	free(req);
}

/* ---------------------------------------------------------------------- */
/* Regex rules                                                             */
/* ---------------------------------------------------------------------- */

static void test_regex_rules(void **state)
{
	static const uint8_t req[] = "GET /?api_key=AK-1 HTTP/1.1\r\n"
				     "X-Note: api_key=AK-2\r\n\r\n";
	static const uint8_t bin[] = { 'a', 'p', 'i', '_', 'k', 'e', 'y', '=',
				       'A', 'K', 0, 'k', 'e', 'y', '=', 'Z',
				       '\r', '\n', 'x' };
	const char *rules[] = { "regex:api_key=[A-Z0-9-]+", "regex:key=.*",
				"regex:x*" };
	uint8_t want[sizeof(bin)];
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req, sizeof(req) - 1, bin,
		      sizeof(bin));
	assert_int_equal(dt_exchange_set_attr(&x, "path", "/?api_key=AK-1"),
			 0);
	assert_true(apply_rules(rules, 3, false, &x) > 0);
	assert_non_null(memmem(x.request, x.request_len,
			       "GET /?************ HTTP/1.1\r\n", 29));
	assert_non_null(memmem(x.request, x.request_len,
			       "X-Note: ************\r\n\r\n", 24));
	/* NUL bytes do not end the search; CR and LF stay */
	memcpy(want, "**********\0*****\r\n*", sizeof(want));
	assert_bytes(x.response, x.response_len, want, sizeof(want));
	assert_string_equal(dt_exchange_attr(&x, "path"), "/?************");
	dt_exchange_release(&x);

	/* regex rules apply to every protocol */
	exchange_make(&x, DT_PROTO_MYSQL, "\x05\0\0\0\x03key=", 9, NULL, 0);
	assert_int_equal(apply_rules(rules + 1, 1, false, &x), 1);
	assert_bytes(x.request, x.request_len, "\x05\0\0\0\x03****", 9);
	dt_exchange_release(&x);
}

/* Long lines are searched in overlapping windows: matches longer than a
 * window, across window ends, and anchors that hold at line ends only. */
static void test_regex_windows(void **state)
{
	const size_t n = 40000;
	const char *token[] = { "regex:eyJ[A-Za-z0-9._-]+" };
	/* accepted only at its end: found whole up to the 256 bytes of
	 * lookahead each start gets */
	const char *across[] = { "regex:k-[0-9]{250}-z" };
	const char *anchors[] = { "regex:^x", "regex:x$" };
	const char *slow[] = { "regex:[a-z]+@example" };
	char *line = malloc(n + 1), *want = malloc(n + 1);
	struct dt_exchange x;
	size_t i;

	(void)state;
	assert_non_null(line);
	assert_non_null(want);
	/* a 30000-byte token in the middle of a 40000-byte line */
	memset(line, ' ', n);
	memset(line + 5000, 'A', 30000);
	memcpy(line + 5000, "eyJ", 3);
	memcpy(want, line, n);
	memset(want + 5000, '*', 30000);
	exchange_make(&x, DT_PROTO_UNKNOWN, line, n, NULL, 0);
	assert_int_equal(apply_rules(token, 1, false, &x), 1);
	assert_bytes(x.request, x.request_len, want, n);
	dt_exchange_release(&x);

	/* a 254-byte match at every offset around the first windows' ends */
	for (size_t at = 100; at < 1400; at += 7) {
		memset(line, '.', 2000);
		memcpy(line + at, "k-", 2);
		memset(line + at + 2, '7', 250);
		memcpy(line + at + 252, "-z", 2);
		memcpy(want, line, 2000);
		memset(want + at, '*', 254);
		exchange_make(&x, DT_PROTO_UNKNOWN, line, 2000, NULL, 0);
		assert_int_equal(apply_rules(across, 1, false, &x), 1);
		assert_bytes(x.request, x.request_len, want, 2000);
		dt_exchange_release(&x);
	}

	/* "^" and "$" at the line's ends, not at windows' */
	memset(line, 'x', 3000);
	memcpy(line + 3000, "\nxx", 3);
	exchange_make(&x, DT_PROTO_UNKNOWN, line, 3003, NULL, 0);
	assert_int_equal(apply_rules(anchors, 2, false, &x), 4);
	for (i = 0; i < 3003; i++)
		assert_int_equal(x.request[i],
				 i == 0 || i == 2999 || i >= 3001 ? '*' :
				 (uint8_t)line[i]);
	dt_exchange_release(&x);

	/* a pattern that keeps failing late stays linear */
	memset(line, 'a', n);
	exchange_make(&x, DT_PROTO_UNKNOWN, line, n, NULL, 0);
	assert_int_equal(apply_rules(slow, 1, false, &x), 0);
	dt_exchange_release(&x);
	free(line);
	free(want);
}

/* ---------------------------------------------------------------------- */
/* Hostile inputs                                                          */
/* ---------------------------------------------------------------------- */

/* Applies every kind of rule and checks the invariants: same lengths,
 * every changed byte a '*'. */
static void apply_hostile(uint32_t protocol, const uint8_t *req,
			  size_t req_len, const uint8_t *resp, size_t resp_len)
{
	const char *rules[] = { "header:X-A", "json:$..a", "json:$[*]",
				"json:$.b[0].*", "regex:[0-9]{3}" };
	struct dt_exchange x;

	exchange_make(&x, protocol, req, req_len, resp, resp_len);
	assert_int_equal(dt_exchange_set_attr(&x, "request.sql", "AUTH"), 0);
	assert_true(apply_rules(rules, ARRAY_SIZE(rules), true, &x) >= 0);
	assert_int_equal(x.request_len, req_len);
	assert_int_equal(x.response_len, resp_len);
	for (size_t i = 0; i < req_len; i++)
		assert_true(x.request[i] == req[i] || x.request[i] == '*');
	for (size_t i = 0; i < resp_len; i++)
		assert_true(x.response[i] == resp[i] || x.response[i] == '*');
	dt_exchange_release(&x);
}

static void test_hostile_inputs(void **state)
{
	const size_t deep = 200000;
	uint8_t *buf = malloc(deep + 128), rnd[4096];
	uint32_t seed = 12345;
	size_t n;

	(void)state;
	assert_non_null(buf);
	/* nesting far past the scanner's depth, in a JSON body */
	n = (size_t)sprintf((char *)buf, "POST / HTTP/1.1\r\nContent-Type: "
			    "application/json\r\nContent-Length: %zu\r\n\r\n",
			    deep);
	memset(buf + n, '[', deep);
	apply_hostile(DT_PROTO_HTTP1, buf, n + deep, buf, n + deep);
	/* chunk sizes past any buffer, and overflowing ones */
	n = (size_t)sprintf((char *)buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding:"
			    " chunked\r\n\r\nffffffffffffffffffff\r\n{\"a\":1}"
			    "\r\n7fffffff\r\n{\"a\":\"2\"");
	apply_hostile(DT_PROTO_HTTP1, NULL, 0, buf, n);
	n = (size_t)sprintf((char *)buf, "HTTP/1.1 200 OK\r\nContent-Length:"
			    " 99999999999999999999999\r\n\r\n{\"a\":1}");
	apply_hostile(DT_PROTO_HTTP1, NULL, 0, buf, n);
	/* RESP lengths past the buffer, nested arrays, lone CRs */
	n = (size_t)sprintf((char *)buf, "*3\r\n$4\r\nAUTH\r\n$999999999\r\n"
			    "x\r\n*1\r\n*1\r\n*1\r\n\r\r\rAUTH x\r\n"
			    "*2\r\n$5\r\nHELLO\r\n$4\r\nAUTH\r\n");
	apply_hostile(DT_PROTO_REDIS, buf, n, buf, n);
	/* MySQL packets whose lengths run off the end, a handshake response
	 * whose user name never ends */
	memcpy(buf, "\xff\xff\xff\x01\x8c\xa2\xbf\x00", 8);
	memset(buf + 8, 'u', 100);
	apply_hostile(DT_PROTO_MYSQL, buf, 108, buf, 108);
	apply_hostile(DT_PROTO_MYSQL, (const uint8_t *)"\x01\0\0\0\x03", 5,
		      NULL, 0);
	apply_hostile(DT_PROTO_MYSQL, (const uint8_t *)"\x03\0\0\0\x11", 5,
		      NULL, 0);
	/* random bytes, and random bytes after valid heads */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(rnd); i++) {
			seed = seed * 1103515245u + 12345u;
			rnd[i] = (uint8_t)(seed >> 16);
			if (round % 2 && rnd[i] > 200)
				rnd[i] = (uint8_t)"{}[]\":,\r\n*$"[rnd[i] % 11];
		}
		n = (size_t)(seed % sizeof(rnd));
		for (uint32_t p = DT_PROTO_UNKNOWN; p <= DT_PROTO_MYSQL; p++)
			apply_hostile(p, rnd, n, rnd, sizeof(rnd) - n);
		memcpy(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		       "Content-Type: application/json\r\n\r\n4\r\n", 83);
		memcpy(buf + 83, rnd, n < 1024 ? n : 1024);
		apply_hostile(DT_PROTO_HTTP1, buf, 83 + (n < 1024 ? n : 1024),
			      buf, 83 + (n < 1024 ? n : 1024));
	}
	free(buf);
}

/*
 * Fuzzing findings (fuzz_redact_apply): a second pass must find nothing.
 * 1. A CR inside a Cookie value made the codec refuse the head; the line
 *    scanner masked the value CR and all, the head then parsed, and a
 *    second pass masked the Cookie of the request pipelined after it,
 *    which the first had missed. Now the scan of a refused head covers
 *    the rest of the buffer and keeps CR and NUL bytes.
 * 2. The secret remembered from such a value ended in a CR; masked in an
 *    attribute, it left a shifted copy a second pass matched again.
 */
static void test_fuzz_regressions(void **state)
{
	static const char req1[] =
		"HEAD / HTTP/1.1\r\nCookie: a\r\xff\x05\n\r\n"
		"GET / HTTP/1.1\r\nCookie: bb\r\n\r\n";
	static const char want1[] =
		"HEAD / HTTP/1.1\r\nCookie: *\r**\n\r\n"
		"GET / HTTP/1.1\r\nCookie: **\r\n\r\n";
	static const char req2[] = "GET / HTTP/1.1\r\nX-Api-Key: k-1\r\r\n\n";
	static const char want2[] = "GET / HTTP/1.1\r\nX-Api-Key: ***\r\r\n\n";
	const char *rules[] = { "header:X-Api-Key" };
	struct dt_redactor *r = redactor(rules, 1, true);
	struct dt_exchange x;

	(void)state;
	exchange_make(&x, DT_PROTO_HTTP1, req1, strlen(req1), NULL, 0);
	assert_int_equal(dt_redactor_apply(r, &x), 2);
	assert_bytes(x.request, x.request_len, want1, strlen(want1));
	assert_int_equal(dt_redactor_apply(r, &x), 0);
	dt_exchange_release(&x);

	exchange_make(&x, DT_PROTO_HTTP1, req2, strlen(req2), NULL, 0);
	assert_int_equal(dt_exchange_set_attr(&x, "note",
					      "X-Api-Key: k-1\r\r\nX"), 0);
	assert_int_equal(dt_redactor_apply(r, &x), 2);
	assert_bytes(x.request, x.request_len, want2, strlen(want2));
	assert_string_equal(dt_exchange_attr(&x, "note"),
			    "X-Api-Key: ***\r\r\nX");
	assert_int_equal(dt_redactor_apply(r, &x), 0);
	assert_string_equal(dt_exchange_attr(&x, "note"),
			    "X-Api-Key: ***\r\r\nX");
	dt_exchange_release(&x);
	dt_redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_long_rules),
		cmocka_unit_test(test_good_rules),
		cmocka_unit_test(test_http_curl_request),
		cmocka_unit_test(test_http_set_cookie_after_interim),
		cmocka_unit_test(test_http_chunked_json),
		cmocka_unit_test(test_http_json_paths),
		cmocka_unit_test(test_http_json_detection),
		cmocka_unit_test(test_http_json_edges),
		cmocka_unit_test(test_http_compressed_body),
		cmocka_unit_test(test_http_pipelined_and_head),
		cmocka_unit_test(test_http_unparsed_heads),
		cmocka_unit_test(test_http_many_fields),
		cmocka_unit_test(test_http_attrs),
		cmocka_unit_test(test_redis_pipelined),
		cmocka_unit_test(test_redis_edges),
		cmocka_unit_test(test_mysql_handshake_captured),
		cmocka_unit_test(test_mysql_change_user),
		cmocka_unit_test(test_mysql_sql_literals),
		cmocka_unit_test(test_mysql_sql_multipacket),
		cmocka_unit_test(test_regex_rules),
		cmocka_unit_test(test_regex_windows),
		cmocka_unit_test(test_hostile_inputs),
		cmocka_unit_test(test_fuzz_regressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
