// SPDX-License-Identifier: MIT
/* Unit tests of the HTTP/1.x codec: head parsing, framing, resync. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/formats.h"

#define KIB 1024
#define MIB (1024 * 1024)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

struct framer_opts {
	bool is_request;
	bool request_was_head;
	bool request_was_connect;
	size_t head_limit;
};

static const struct framer_opts REQUEST = { .is_request = true };
static const struct framer_opts RESPONSE = { .is_request = false };

struct outcome {
	int rc;
	size_t msg_len;
	int status;
	bool body_until_close;
	bool upgraded;
};

static void framer_setup(struct dt_http1_framer *f,
			 const struct framer_opts *o)
{
	dt_http1_framer_init(f, o->is_request);
	f->head_limit = o->head_limit;
	f->request_was_head = o->request_was_head;
	f->request_was_connect = o->request_was_connect;
}

/* Scans a private copy of exactly len bytes so that the sanitizers and
 * valgrind catch any read past len. */
static int scan_exact(struct dt_http1_framer *f, const void *msg, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, msg, len);
	rc = dt_http1_framer_scan(f, copy, len);
	free(copy);
	return rc;
}

static struct outcome outcome_of(const struct dt_http1_framer *f, int rc)
{
	struct outcome o = {
		.rc = rc,
		.msg_len = rc == DT_HTTP1_COMPLETE ? f->msg_len : 0,
		.status = f->status,
		.body_until_close = f->body_until_close,
		.upgraded = f->upgraded,
	};
	return o;
}

static void assert_outcome_equal(struct outcome a, struct outcome b)
{
	assert_int_equal(a.rc, b.rc);
	assert_int_equal(a.msg_len, b.msg_len);
	assert_int_equal(a.status, b.status);
	assert_int_equal(a.body_until_close, b.body_until_close);
	assert_int_equal(a.upgraded, b.upgraded);
}

static struct outcome frame_whole(const void *msg, size_t len,
				  const struct framer_opts *o)
{
	struct dt_http1_framer f;

	framer_setup(&f, o);
	return outcome_of(&f, scan_exact(&f, msg, len));
}

/*
 * Feeding msg as a prefix of every length and then the whole, and byte by
 * byte, must end exactly like one scan of the whole. Returns that outcome.
 */
static struct outcome frame_every_split(const void *msg, size_t len,
					const struct framer_opts *o)
{
	struct outcome whole = frame_whole(msg, len, o);
	struct dt_http1_framer f;
	size_t k;
	int rc;

	for (k = 0; k <= len; k++) {
		framer_setup(&f, o);
		rc = scan_exact(&f, msg, k);
		if (rc == DT_HTTP1_NEED_MORE)
			rc = scan_exact(&f, msg, len);
		assert_outcome_equal(outcome_of(&f, rc), whole);
	}
	framer_setup(&f, o);
	rc = DT_HTTP1_NEED_MORE;
	for (k = 0; k <= len && rc == DT_HTTP1_NEED_MORE; k++)
		rc = scan_exact(&f, msg, k);
	assert_outcome_equal(outcome_of(&f, rc), whole);
	return whole;
}

/* msg (a C string) is one complete message, at every split. */
static struct outcome expect_complete(const char *msg,
				      const struct framer_opts *o)
{
	struct outcome out = frame_every_split(msg, strlen(msg), o);

	assert_int_equal(out.rc, DT_HTTP1_COMPLETE);
	assert_int_equal(out.msg_len, strlen(msg));
	return out;
}

static void expect_rc(const char *msg, const struct framer_opts *o, int rc)
{
	assert_int_equal(frame_every_split(msg, strlen(msg), o).rc, rc);
}

/* Frames a stream of messages; returns how many completed, their lengths
 * in lens, and the outcome of the last scan in *last. */
static size_t frame_stream(const char *stream, const struct framer_opts *o,
			   size_t *lens, size_t max, int *last)
{
	const uint8_t *p = (const uint8_t *)stream;
	size_t left = strlen(stream), n = 0;
	struct dt_http1_framer f;
	int rc = DT_HTTP1_NEED_MORE;

	framer_setup(&f, o);
	while (left && n < max) {
		rc = dt_http1_framer_scan(&f, p, left);
		if (rc != DT_HTTP1_COMPLETE)
			break;
		lens[n++] = f.msg_len;
		p += f.msg_len;
		left -= f.msg_len;
		dt_http1_framer_reset(&f);
		f.request_was_head = o->request_was_head;
	}
	*last = rc;
	return n;
}

static ssize_t parse(const char *s, bool is_request,
		     struct dt_http1_head *head)
{
	return dt_http1_parse_head((const uint8_t *)s, strlen(s), is_request,
				   0, head);
}

static void assert_slice(struct dt_slice s, const char *expected)
{
	assert_int_equal(s.len, strlen(expected));
	assert_memory_equal(s.ptr, expected, s.len);
}

static const char REQ_GET[] =
	"GET /index.html?q=1 HTTP/1.1\r\n"
	"Host: example.com\r\n"
	"User-Agent: curl/7.88\r\n"
	"\r\n";

static const char REQ_POST[] =
	"POST /api/orders HTTP/1.1\r\n"
	"Host: example.com\r\n"
	"Content-Length: 11\r\n"
	"\r\n"
	"hello world";

static const char REQ_CHUNKED[] =
	"POST /upload HTTP/1.1\r\n"
	"Host: example.com\r\n"
	"Transfer-Encoding: chunked\r\n"
	"Trailer: X-Checksum\r\n"
	"\r\n"
	"5;name=value\r\n"
	"hello\r\n"
	"6 ; ext=\"quoted;\"\r\n"
	" world\r\n"
	"0;last\r\n"
	"X-Checksum: abc\r\n"
	"X-Other: 1\r\n"
	"\r\n";

static const char RESP_CL[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static const char RESP_CHUNKED[] =
	"HTTP/1.1 200 OK\r\n"
	"Transfer-Encoding: gzip, Chunked\r\n"
	"\r\n"
	"4\r\nWiki\r\n"
	"5\r\npedia\r\n"
	"E\r\n in\r\n\r\nchunks.\r\n"
	"0\r\n"
	"\r\n";

/* ---------------------------------------------------------------------- */
/* Framing                                                                */
/* ---------------------------------------------------------------------- */

static void test_request_without_body(void **state)
{
	struct outcome out = expect_complete(REQ_GET, &REQUEST);

	assert_int_equal(out.status, 0);
	assert_false(out.body_until_close);
	expect_complete("GET / HTTP/1.0\r\n\r\n", &REQUEST);
	expect_complete("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &REQUEST);
	expect_complete("CONNECT db.example:5432 HTTP/1.1\r\n\r\n", &REQUEST);
}

static void test_request_content_length(void **state)
{
	expect_complete(REQ_POST, &REQUEST);
	expect_complete("PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
			&REQUEST);
}

static void test_request_chunked(void **state)
{
	expect_complete(REQ_CHUNKED, &REQUEST);
	/* Transfer-Encoding wins over Content-Length */
	expect_complete("POST / HTTP/1.1\r\nContent-Length: 100\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"
			"1\r\na\r\n0\r\n\r\n", &REQUEST);
	/* codings on two lines: the last one counts */
	expect_complete("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
			"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			&REQUEST);
}

static void test_response_content_length(void **state)
{
	struct outcome out = expect_complete(RESP_CL, &RESPONSE);

	assert_int_equal(out.status, 200);
	assert_false(out.body_until_close);
	assert_false(out.upgraded);
}

static void test_response_chunked(void **state)
{
	assert_int_equal(expect_complete(RESP_CHUNKED, &RESPONSE).status,
			 200);
	expect_complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			"\r\n0\r\n\r\n", &RESPONSE);
	/* upper-case hex, leading zeros, trailer with a bare LF */
	expect_complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			"\r\n00A\r\n0123456789\r\nb\r\n0123456789a\r\n"
			"0\r\nX: y\n\n", &RESPONSE);
}

static void test_bare_lf_lines(void **state)
{
	expect_complete("GET / HTTP/1.1\nHost: x\n\n", &REQUEST);
	expect_complete("GET / HTTP/1.1\r\nHost: x\n\r\n", &REQUEST);
	expect_complete("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
			"3\nabc\n0\n\n", &RESPONSE);
}

static void test_leading_empty_lines(void **state)
{
	struct dt_http1_head head;
	static const char msg[] = "\r\n\n\r\nGET /a HTTP/1.1\r\n\r\n";

	expect_complete(msg, &REQUEST);
	assert_int_equal(parse(msg, true, &head), strlen(msg));
	assert_slice(head.method, "GET");
	/* a CR not followed by LF is no empty line */
	expect_rc("\r\rGET / HTTP/1.1\r\n\r\n", &REQUEST, -EBADMSG);
}

static void test_pipelined_requests(void **state)
{
	char stream[1024];
	size_t lens[8];
	int last;

	snprintf(stream, sizeof(stream), "%s%s%s%s", REQ_GET, REQ_POST,
		 REQ_CHUNKED, "GET /partial HT");
	assert_int_equal(frame_stream(stream, &REQUEST, lens, 8, &last), 3);
	assert_int_equal(lens[0], strlen(REQ_GET));
	assert_int_equal(lens[1], strlen(REQ_POST));
	assert_int_equal(lens[2], strlen(REQ_CHUNKED));
	assert_int_equal(last, DT_HTTP1_NEED_MORE);
	/* and the three together keep the split invariant */
	snprintf(stream, sizeof(stream), "%s%s%s", REQ_GET, REQ_POST,
		 REQ_CHUNKED);
	assert_int_equal(frame_every_split(stream, strlen(stream),
					   &REQUEST).msg_len,
			 strlen(REQ_GET));
}

static void test_keep_alive_responses(void **state)
{
	char stream[1024];
	size_t lens[8];
	int last;

	snprintf(stream, sizeof(stream), "%s%s%s%s", RESP_CL,
		 "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n"
		 "ETag: \"x\"\r\n\r\n",
		 RESP_CHUNKED);
	assert_int_equal(frame_stream(stream, &RESPONSE, lens, 8, &last), 4);
	assert_int_equal(lens[0], strlen(RESP_CL));
	assert_int_equal(lens[1], strlen("HTTP/1.1 204 No Content\r\n"
					 "Content-Length: 7\r\n\r\n"));
	assert_int_equal(lens[2], strlen("HTTP/1.1 304 Not Modified\r\n"
					 "Content-Length: 9\r\n"
					 "ETag: \"x\"\r\n\r\n"));
	assert_int_equal(lens[3], strlen(RESP_CHUNKED));
	assert_int_equal(last, DT_HTTP1_COMPLETE);
}

static void test_head_response_has_no_body(void **state)
{
	static const char head_resp[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
		"Transfer-Encoding: chunked\r\n\r\n";
	struct framer_opts o = { .request_was_head = true };
	char stream[512];
	size_t lens[4];
	int last;

	assert_int_equal(expect_complete(head_resp, &o).status, 200);
	/* without the HEAD the same head announces a body */
	expect_rc(head_resp, &RESPONSE, DT_HTTP1_NEED_MORE);
	/* the next response follows right after the head */
	snprintf(stream, sizeof(stream), "%s%s", head_resp, head_resp);
	assert_int_equal(frame_stream(stream, &o, lens, 4, &last), 2);
	assert_int_equal(lens[0], strlen(head_resp));
	assert_int_equal(lens[1], strlen(head_resp));
}

static void test_interim_responses(void **state)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char hints[] =
		"HTTP/1.1 103 Early Hints\r\n"
		"Link: </style.css>; rel=preload; as=style\r\n\r\n";
	struct dt_http1_framer f;
	char stream[512];
	const uint8_t *p = (const uint8_t *)stream;
	size_t len;

	assert_int_equal(expect_complete(cont, &RESPONSE).status, 100);
	assert_int_equal(expect_complete(hints, &RESPONSE).status, 103);

	len = (size_t)snprintf(stream, sizeof(stream), "%s%s%s", cont, hints,
			       RESP_CL);
	dt_http1_framer_init(&f, false);
	assert_int_equal(dt_http1_framer_scan(&f, p, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.status, 100);
	assert_int_equal(f.msg_len, strlen(cont));
	p += f.msg_len;
	len -= f.msg_len;
	dt_http1_framer_reset(&f);
	assert_int_equal(dt_http1_framer_scan(&f, p, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.status, 103);
	p += f.msg_len;
	len -= f.msg_len;
	dt_http1_framer_reset(&f);
	assert_int_equal(dt_http1_framer_scan(&f, p, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.status, 200);
	assert_int_equal(f.msg_len, len);
}

static void test_expect_continue_request(void **state)
{
	static const char head[] =
		"PUT /blob HTTP/1.1\r\nExpect: 100-continue\r\n"
		"Content-Length: 4\r\n\r\n";
	char full[256];
	struct dt_http1_framer f;

	snprintf(full, sizeof(full), "%sdata", head);
	dt_http1_framer_init(&f, true);
	assert_int_equal(scan_exact(&f, head, strlen(head)),
			 DT_HTTP1_NEED_MORE);
	assert_int_equal(scan_exact(&f, full, strlen(full)),
			 DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, strlen(full));
	expect_complete(full, &REQUEST);
}

static void test_no_content_and_not_modified(void **state)
{
	assert_int_equal(expect_complete("HTTP/1.1 204 No Content\r\n\r\n",
					 &RESPONSE).status, 204);
	assert_int_equal(expect_complete("HTTP/1.1 304 Not Modified\r\n"
					 "Content-Length: 512\r\n\r\n",
					 &RESPONSE).status, 304);
}

static void test_upgrade_and_connect(void **state)
{
	static const char switching[] =
		"HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	static const char established[] =
		"HTTP/1.1 200 Connection established\r\n\r\n";
	struct framer_opts connect = { .request_was_connect = true };
	struct outcome out;
	char stream[512];

	snprintf(stream, sizeof(stream), "%s\x81\x05hello", switching);
	out = frame_every_split(stream, strlen(stream), &RESPONSE);
	assert_int_equal(out.rc, DT_HTTP1_COMPLETE);
	assert_int_equal(out.msg_len, strlen(switching));
	assert_true(out.upgraded);

	snprintf(stream, sizeof(stream), "%s\x16\x03\x01", established);
	out = frame_every_split(stream, strlen(stream), &connect);
	assert_int_equal(out.msg_len, strlen(established));
	assert_true(out.upgraded);

	/* a refused CONNECT is an ordinary response */
	out = expect_complete("HTTP/1.1 407 Proxy Authentication Required\r\n"
			      "Content-Length: 2\r\n\r\nno", &connect);
	assert_false(out.upgraded);
	/* a 200 that does not answer a CONNECT runs until close */
	out = frame_whole(established, strlen(established), &RESPONSE);
	assert_int_equal(out.rc, DT_HTTP1_NEED_MORE);
	assert_true(out.body_until_close);
	assert_false(out.upgraded);
}

static void test_body_until_close(void **state)
{
	static const char resp[] =
		"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
		"<html>body delimited by close";
	struct dt_http1_framer f;
	size_t len = strlen(resp);

	assert_true(frame_every_split(resp, len, &RESPONSE).body_until_close);
	dt_http1_framer_init(&f, false);
	assert_int_equal(scan_exact(&f, resp, 20), DT_HTTP1_NEED_MORE);
	assert_false(f.body_until_close);
	assert_int_equal(scan_exact(&f, resp, len - 5), DT_HTTP1_NEED_MORE);
	assert_true(f.body_until_close);
	assert_int_equal(scan_exact(&f, resp, len), DT_HTTP1_NEED_MORE);
	assert_int_equal(dt_http1_framer_eof(&f, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, len);
	/* further scans report the same message */
	assert_int_equal(scan_exact(&f, resp, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, len);

	/* a Content-Length body cut short is not complete at close */
	dt_http1_framer_init(&f, false);
	assert_int_equal(scan_exact(&f, RESP_CL, strlen(RESP_CL) - 1),
			 DT_HTTP1_NEED_MORE);
	assert_int_equal(dt_http1_framer_eof(&f, strlen(RESP_CL) - 1),
			 DT_HTTP1_NEED_MORE);
	/* nor is a head cut short */
	dt_http1_framer_init(&f, false);
	assert_int_equal(scan_exact(&f, resp, 10), DT_HTTP1_NEED_MORE);
	assert_int_equal(dt_http1_framer_eof(&f, 10), DT_HTTP1_NEED_MORE);
	/* and a request without length has no body */
	assert_int_equal(frame_whole("DELETE /x HTTP/1.1\r\n\r\n", 22,
				     &REQUEST).msg_len, 22);
}

static void test_many_tiny_chunks(void **state)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	const size_t nchunks = 20000;
	size_t len = strlen(head), cap = len + nchunks * 12 + 16, k;
	struct dt_http1_framer f;
	uint8_t *buf = malloc(cap);
	int rc = DT_HTTP1_NEED_MORE;

	assert_non_null(buf);
	memcpy(buf, head, len);
	for (k = 0; k < nchunks; k++)
		len += (size_t)sprintf((char *)buf + len, "1;e=%zu\r\n%c\r\n",
				       k % 10, (char)('a' + k % 26));
	memcpy(buf + len, "0\r\n\r\n", 5);
	len += 5;

	/* byte by byte: a framer that rescanned would take minutes here */
	dt_http1_framer_init(&f, false);
	for (k = 1; k <= len && rc == DT_HTTP1_NEED_MORE; k++)
		rc = dt_http1_framer_scan(&f, buf, k);
	assert_int_equal(rc, DT_HTTP1_COMPLETE);
	assert_int_equal(k - 1, len);
	assert_int_equal(f.msg_len, len);
	free(buf);
}

static void test_large_body_in_pieces(void **state)
{
	static const char head[] =
		"POST /big HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n";
	size_t hlen = strlen(head), len = hlen + MIB, k;
	struct dt_http1_framer f;
	uint8_t *buf = calloc(1, len + 100);

	assert_non_null(buf);
	memcpy(buf, head, hlen);
	dt_http1_framer_init(&f, true);
	for (k = 0; k + 16 * KIB < len; k += 16 * KIB)
		assert_int_equal(dt_http1_framer_scan(&f, buf, k),
				 DT_HTTP1_NEED_MORE);
	/* bytes of the next request in the buffer do not matter */
	assert_int_equal(dt_http1_framer_scan(&f, buf, len + 100),
			 DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, len);
	free(buf);
}

static void test_bad_content_length(void **state)
{
	static const char *const bad[] = {
		"abc", "-1", "+5", "", "1 2", "0x10", "5;", "5,",
		"18446744073709551616", "9223372036854775808",
		"4611686018427387905", "99999999999999999999999999",
	};
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		expect_rc(msg, &REQUEST, -EBADMSG);
		snprintf(msg, sizeof(msg),
			 "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		expect_rc(msg, &RESPONSE, -EBADMSG);
	}
	/* 2^62 is the largest accepted length */
	expect_rc("POST / HTTP/1.1\r\nContent-Length: 4611686018427387904\r\n"
		  "\r\n", &REQUEST, DT_HTTP1_NEED_MORE);
}

static void test_duplicate_content_length(void **state)
{
	expect_rc("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
		  "Content-Length: 6\r\n\r\nhello!", &REQUEST, -EBADMSG);
	expect_rc("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
		  &RESPONSE, -EBADMSG);
	expect_complete("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
			"content-length: 5\r\n\r\nhello", &REQUEST);
	expect_complete("HTTP/1.1 200 OK\r\nContent-Length: 5 ,5\r\n\r\n"
			"hello", &RESPONSE);
}

static void test_transfer_encoding_rules(void **state)
{
	static const char gzip_resp[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
		"Content-Length: 3\r\n\r\nabc";
	struct outcome out;

	expect_rc("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		  &REQUEST, -EBADMSG);
	expect_rc("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n"
		  "\r\n", &REQUEST, -EBADMSG);
	expect_rc("POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n",
		  &REQUEST, -EBADMSG);
	/* HTTP/1.0 has no transfer codings: the framing is faulty */
	expect_rc("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\nabc", &REQUEST, -EBADMSG);
	/* a response with such framing runs until close */
	out = frame_every_split(gzip_resp, strlen(gzip_resp), &RESPONSE);
	assert_int_equal(out.rc, DT_HTTP1_NEED_MORE);
	assert_true(out.body_until_close);
	/* empty list members do not count as codings */
	expect_complete("POST / HTTP/1.1\r\nTransfer-Encoding: chunked , ,\r\n"
			"\r\n0\r\n\r\n", &REQUEST);
}

static void test_bad_chunks(void **state)
{
	static const char *const bad[] = {
		"zz\r\n",
		"\r\n",
		";ext\r\n",
		"5\r\nhelloX\r\n0\r\n\r\n",
		"5\rX",
		"5 x\r\n",
		"10000000000000000\r\n",
		"4000000000000001\r\n",
		"-1\r\n",
	};
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n%s", bad[i]);
		expect_rc(msg, &RESPONSE, -EBADMSG);
	}
	/* the largest chunk size accepted: 2^62 */
	expect_rc("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "4000000000000000\r\nabc", &RESPONSE, DT_HTTP1_NEED_MORE);
}

static void test_trailer_limit(void **state)
{
	struct framer_opts o = { .is_request = true, .head_limit = 200 };
	char msg[1024];
	size_t n;

	n = (size_t)snprintf(msg, sizeof(msg), "POST / HTTP/1.1\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n0\r\nX: ");
	memset(msg + n, 'a', 300);
	strcpy(msg + n + 300, "\r\n\r\n");
	expect_rc(msg, &o, -E2BIG);
	strcpy(msg + n + 100, "\r\n\r\n");
	expect_complete(msg, &o);
}

static void test_garbage(void **state)
{
	static const char *const bad_requests[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"get / HTTP/1.1\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.x\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET / HTTP/1.1\r\rHost: x\r\n\r\n",
		"GET /\r\n\r\n",
		"TOOLONGMETHODNAMEXXXX / HTTP/1.1\r\n\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"PING\r\n",
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
	};
	static const char *const bad_responses[] = {
		"SSH-2.0-OpenSSH_9.2\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 099 Odd\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"+OK\r\n",
	};
	static const char nul_value[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	size_t i;

	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++)
		expect_rc(bad_requests[i], &REQUEST, -EBADMSG);
	for (i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]); i++)
		expect_rc(bad_responses[i], &RESPONSE, -EBADMSG);
	/* NUL in a field value (strlen cannot carry it) */
	assert_int_equal(frame_every_split(nul_value, sizeof(nul_value) - 1,
					   &REQUEST).rc, -EBADMSG);
}

static void test_garbage_rejected_early(void **state)
{
	struct dt_http1_framer f;

	/* no need to wait for 64 KiB of a TLS handshake or binary data */
	dt_http1_framer_init(&f, true);
	assert_int_equal(scan_exact(&f, "\x16\x03\x01", 3), -EBADMSG);
	dt_http1_framer_init(&f, false);
	assert_int_equal(scan_exact(&f, "HTTP/1.1 2x", 11), -EBADMSG);
	dt_http1_framer_init(&f, true);
	assert_int_equal(scan_exact(&f, "POST /a", 7), DT_HTTP1_NEED_MORE);
}

static uint8_t *big_header_request(size_t len)
{
	static const char start[] = "GET / HTTP/1.1\r\nX-Big: ";
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, 'a', len);
	memcpy(buf, start, strlen(start));
	return buf;
}

static void test_head_too_large(void **state)
{
	uint8_t *buf = big_header_request(MIB);
	struct dt_http1_framer f;
	struct dt_http1_head head;
	size_t k;
	int rc = DT_HTTP1_NEED_MORE;

	dt_http1_framer_init(&f, true);
	assert_int_equal(dt_http1_framer_scan(&f, buf, MIB), -E2BIG);
	assert_int_equal(dt_http1_parse_head(buf, MIB, true, 0, &head),
			 -E2BIG);

	/* in pieces: refused as soon as 64 KiB are there */
	dt_http1_framer_init(&f, true);
	for (k = 16 * KIB; k <= MIB && rc == DT_HTTP1_NEED_MORE;
	     k += 16 * KIB)
		rc = dt_http1_framer_scan(&f, buf, k);
	assert_int_equal(rc, -E2BIG);
	assert_int_equal(k - 16 * KIB, 64 * KIB);
	free(buf);
}

static void test_head_limit_exact(void **state)
{
	uint8_t *buf = big_header_request(100);
	struct framer_opts o = { .is_request = true, .head_limit = 100 };
	struct dt_http1_head head;

	memcpy(buf + 96, "\r\n\r\n", 4);
	assert_int_equal(frame_every_split(buf, 100, &o).msg_len, 100);
	assert_int_equal(dt_http1_parse_head(buf, 100, true, 100, &head),
			 100);
	o.head_limit = 99;
	assert_int_equal(frame_every_split(buf, 100, &o).rc, -E2BIG);
	assert_int_equal(dt_http1_parse_head(buf, 100, true, 99, &head),
			 -E2BIG);
	free(buf);
}

static void test_too_many_headers(void **state)
{
	char msg[8192];
	struct dt_http1_head head;
	size_t n, i;

	n = (size_t)sprintf(msg, "GET / HTTP/1.1\r\n");
	for (i = 0; i < DT_HTTP1_MAX_HEADERS; i++)
		n += (size_t)sprintf(msg + n, "X-%zu: %zu\r\n", i, i);
	strcpy(msg + n, "\r\n");
	assert_int_equal(parse(msg, true, &head), strlen(msg));
	assert_int_equal(head.nheaders, DT_HTTP1_MAX_HEADERS);
	strcpy(msg + n, "One-More: x\r\n\r\n");
	assert_int_equal(parse(msg, true, &head), -E2BIG);
	assert_int_equal(frame_whole(msg, strlen(msg), &REQUEST).rc, -E2BIG);
}

static void test_sticky_results(void **state)
{
	struct dt_http1_framer f;
	char stream[256];
	size_t len;

	len = (size_t)snprintf(stream, sizeof(stream), "%s%s", REQ_POST,
			       REQ_GET);
	dt_http1_framer_init(&f, true);
	f.head_limit = 4096;
	assert_int_equal(scan_exact(&f, stream, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, strlen(REQ_POST));
	assert_int_equal(scan_exact(&f, stream, len), DT_HTTP1_COMPLETE);
	assert_int_equal(f.msg_len, strlen(REQ_POST));
	/* a buffer shorter than what was scanned is a caller error */
	assert_int_equal(scan_exact(&f, stream, 3), -EINVAL);

	dt_http1_framer_reset(&f);
	assert_true(f.is_request);
	assert_int_equal(f.head_limit, 4096);
	assert_int_equal(scan_exact(&f, "BAD\x01", 4), -EBADMSG);
	assert_int_equal(scan_exact(&f, REQ_GET, strlen(REQ_GET)), -EBADMSG);
	dt_http1_framer_reset(&f);
	f.head_limit = 8;
	assert_int_equal(scan_exact(&f, REQ_GET, strlen(REQ_GET)), -E2BIG);
	assert_int_equal(scan_exact(&f, REQ_GET, strlen(REQ_GET)), -E2BIG);
	dt_http1_framer_reset(&f);
	f.head_limit = 0;
	assert_int_equal(scan_exact(&f, REQ_GET, strlen(REQ_GET)),
			 DT_HTTP1_COMPLETE);
}

/* ---------------------------------------------------------------------- */
/* Heads                                                                  */
/* ---------------------------------------------------------------------- */

static void test_parse_request_head(void **state)
{
	struct dt_http1_head head;

	assert_int_equal(parse(REQ_POST, true, &head),
			 strlen(REQ_POST) - strlen("hello world"));
	assert_true(head.is_request);
	assert_slice(head.method, "POST");
	assert_slice(head.target, "/api/orders");
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.nheaders, 2);
	assert_slice(head.headers[0].name, "Host");
	assert_slice(head.headers[0].value, "example.com");
	assert_slice(head.headers[1].name, "Content-Length");
	assert_slice(head.headers[1].value, "11");
	assert_int_equal(head.head_len, strlen(REQ_POST) - 11);

	assert_int_equal(parse("M-SEARCH * HTTP/1.0\r\nMAN: x\r\n\r\n", true,
			       &head), 31);
	assert_slice(head.method, "M-SEARCH");
	assert_slice(head.target, "*");
	assert_int_equal(head.version_minor, 0);
}

static void test_parse_response_head(void **state)
{
	struct dt_http1_head head;

	assert_true(parse(RESP_CL, false, &head) > 0);
	assert_false(head.is_request);
	assert_int_equal(head.status, 200);
	assert_slice(head.reason, "OK");
	assert_int_equal(head.nheaders, 2);

	assert_int_equal(parse("HTTP/1.1 404\r\n\r\n", false, &head), 16);
	assert_int_equal(head.status, 404);
	assert_slice(head.reason, "");
	assert_int_equal(parse("HTTP/1.0 503 Service Unavailable\nX:\n\n",
			       false, &head), 37);
	assert_slice(head.reason, "Service Unavailable");
	assert_slice(head.headers[0].name, "X");
	assert_slice(head.headers[0].value, "");
}

static void test_parse_head_incomplete(void **state)
{
	struct dt_http1_head head;
	size_t k, len = strlen(REQ_GET);

	for (k = 0; k < len; k++)
		assert_int_equal(dt_http1_parse_head((const uint8_t *)REQ_GET,
						     k, true, 0, &head), 0);
	assert_int_equal(parse("\x16\x03\x01", true, &head), -EBADMSG);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n", true, &head), -EBADMSG);
	assert_int_equal(parse("GET / HTTP/1.1\r\n", false, &head), -EBADMSG);
}

static void test_header_lookup(void **state)
{
	struct dt_http1_head head;
	const struct dt_http1_header *h;

	assert_true(parse("GET / HTTP/1.1\r\ncontent-TYPE:  \t text/html; "
			  "charset=utf-8 \t\r\nX-Empty:\r\n"
			  "Accept: a\r\nACCEPT: b\r\n\r\n", true, &head) > 0);
	h = dt_http1_find_header(&head, "Content-Type");
	assert_non_null(h);
	assert_slice(h->value, "text/html; charset=utf-8");
	h = dt_http1_find_header(&head, "x-empty");
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	/* the first of repeated fields */
	assert_slice(dt_http1_find_header(&head, "accept")->value, "a");
	assert_null(dt_http1_find_header(&head, "Content-Length"));
	assert_null(dt_http1_find_header(&head, "Content-Typ"));
	assert_null(dt_http1_find_header(&head, "Content-Tipe"));
	assert_null(dt_http1_find_header(&head, ""));
}

/* ---------------------------------------------------------------------- */
/* Recognising message starts                                             */
/* ---------------------------------------------------------------------- */

static size_t resync(const char *s, bool is_request)
{
	return dt_http1_resync((const uint8_t *)s, strlen(s), is_request);
}

static void test_resync_request_mid_body(void **state)
{
	static const char body_tail[] =
		"ORDER NOW: GET /x IS a path, POST it\r\nHTTP/1.1 \"}";
	char stream[512];
	size_t off, lens[2];
	int last;

	snprintf(stream, sizeof(stream), "%s%s", body_tail, REQ_POST);
	off = resync(stream, true);
	assert_int_equal(off, strlen(body_tail));
	assert_int_equal(frame_stream(stream + off, &REQUEST, lens, 2, &last),
			 1);
	assert_int_equal(lens[0], strlen(REQ_POST));

	assert_int_equal(resync(REQ_GET, true), 0);
	/* a request hidden in a line that does not end after the version */
	assert_int_equal(resync("xxGET /path HTTP/1.1 yy", true), 23);
	assert_int_equal(resync("no request here at all", true), 22);
	assert_int_equal(resync("", true), 0);
}

static void test_resync_response(void **state)
{
	static const char junk[] = "HTTP/1.1 is great; HTTP/2 too. HTTP/1.1 2";
	char stream[512];

	snprintf(stream, sizeof(stream), "%s%s", junk, RESP_CL);
	/* the last "HTTP/1.1 2" above is cut by junk's end: "HTTP/1.1 2H" */
	assert_int_equal(resync(stream, false), strlen(junk));
	assert_int_equal(resync(RESP_CL, false), 0);
	assert_int_equal(dt_http1_resync((const uint8_t *)"\0H\0", 3, false),
			 3);
}

static void test_resync_keeps_partial_tail(void **state)
{
	/* a start cut by the end of the buffer is kept for the next call */
	assert_int_equal(resync("binary\x01\x02GET /a HT", true), 8);
	assert_int_equal(resync("tail... HTTP/1.", false), 8);
	assert_int_equal(resync("tail... HTTP/1.1 20", false), 8);
	/* but not once the bytes there rule it out */
	assert_int_equal(resync("tail... HTTP/1.1 2000", false), 21);
}

static void test_looks_like_request(void **state)
{
	static const char *const yes[] = {
		"G", "GET", "GET ", "GET /", "GET / HTTP/1.", REQ_GET,
		"POST /api HTTP/1.0\r", "M-SEARCH * HTTP/1.1\r\n",
		"PROPFIND /dav/ HTTP/1.1\n", "BREW /pot HTTP/1.1\r\n",
	};
	static const char *const no[] = {
		"", "get /", "HTTP/1.1 200 OK\r\n", "\x16\x03\x01",
		"*1\r\n$4\r\nPING\r\n", "PING\r\n", "SET k v\r\n",
		"GET / HTTP/1.1x", "GET /\r\n", " GET /",
		"ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(dt_http1_looks_like_request(
			(const uint8_t *)yes[i], strlen(yes[i])));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(dt_http1_looks_like_request(
			(const uint8_t *)no[i], strlen(no[i])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_without_body),
		cmocka_unit_test(test_request_content_length),
		cmocka_unit_test(test_request_chunked),
		cmocka_unit_test(test_response_content_length),
		cmocka_unit_test(test_response_chunked),
		cmocka_unit_test(test_bare_lf_lines),
		cmocka_unit_test(test_leading_empty_lines),
		cmocka_unit_test(test_pipelined_requests),
		cmocka_unit_test(test_keep_alive_responses),
		cmocka_unit_test(test_head_response_has_no_body),
		cmocka_unit_test(test_interim_responses),
		cmocka_unit_test(test_expect_continue_request),
		cmocka_unit_test(test_no_content_and_not_modified),
		cmocka_unit_test(test_upgrade_and_connect),
		cmocka_unit_test(test_body_until_close),
		cmocka_unit_test(test_many_tiny_chunks),
		cmocka_unit_test(test_large_body_in_pieces),
		cmocka_unit_test(test_bad_content_length),
		cmocka_unit_test(test_duplicate_content_length),
		cmocka_unit_test(test_transfer_encoding_rules),
		cmocka_unit_test(test_bad_chunks),
		cmocka_unit_test(test_trailer_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_garbage_rejected_early),
		cmocka_unit_test(test_head_too_large),
		cmocka_unit_test(test_head_limit_exact),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_sticky_results),
		cmocka_unit_test(test_parse_request_head),
		cmocka_unit_test(test_parse_response_head),
		cmocka_unit_test(test_parse_head_incomplete),
		cmocka_unit_test(test_header_lookup),
		cmocka_unit_test(test_resync_request_mid_body),
		cmocka_unit_test(test_resync_response),
		cmocka_unit_test(test_resync_keeps_partial_tail),
		cmocka_unit_test(test_looks_like_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
