// SPDX-License-Identifier: MIT
/*
 * Unit tests of the HTTP/2 codec's two bridges to HTTP/1.1 and back to the
 * wire: the h2c upgrade (an HTTP/1.1 request becomes stream 1, its
 * HTTP2-Settings apply) and the encoder that writes stored messages back
 * as frames for the pcap export (checked by decoding them again).
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

#include "formats/formats.h"

/* SETTINGS_MAX_FRAME_SIZE = 32768, base64url without padding */
#define SETTINGS_32K "AAUAAIAA"

#define UPGRADE_GET \
	"GET /x?q=1 HTTP/1.1\r\n" \
	"Host: h.example:8080\r\n" \
	"Connection: Upgrade, HTTP2-Settings\r\n" \
	"Upgrade: h2c\r\n" \
	"HTTP2-Settings: " SETTINGS_32K "\r\n" \
	"User-Agent: curl/7.88.1\r\n" \
	"Accept: */*\r\n" \
	"TE: trailers\r\n" \
	"Keep-Alive: 5\r\n" \
	"\r\n"

#define SWITCHING \
	"HTTP/1.1 101 Switching Protocols\r\n" \
	"Connection: Upgrade\r\n" \
	"Upgrade: h2c\r\n" \
	"\r\n"

static struct dt_http1_head *head_of(const char *text, bool is_request)
{
	struct dt_http1_head *h = malloc(sizeof(*h));

	assert_non_null(h);
	assert_true(dt_http1_parse_head((const uint8_t *)text, strlen(text),
					is_request, 0, h) > 0);
	return h;
}

static bool agreed(const char *req, const char *resp)
{
	struct dt_http1_head *rq = head_of(req, true);
	struct dt_http1_head *rs = head_of(resp, false);
	bool ok = dt_h2c_upgrade_agreed(rq, rs);

	free(rq);
	free(rs);
	return ok;
}

static void test_upgrade_agreed(void **state)
{
	(void)state;
	assert_true(agreed(UPGRADE_GET, SWITCHING));
	assert_true(agreed("GET / HTTP/1.1\r\nUpgrade: websocket ,H2C\r\n"
			   "http2-settings: \r\n\r\n",
			   "HTTP/1.1 101 OK\r\nupgrade: h2c\r\n\r\n"));
	/* the 101 goes elsewhere, or there is none */
	assert_false(agreed(UPGRADE_GET, "HTTP/1.1 101 OK\r\n"
					 "Upgrade: websocket\r\n\r\n"));
	assert_false(agreed(UPGRADE_GET, "HTTP/1.1 200 OK\r\n"
					 "Upgrade: h2c\r\n\r\n"));
	/* h2c must be a whole token; HTTP2-Settings exactly once */
	assert_false(agreed("GET / HTTP/1.1\r\nUpgrade: h2cx\r\n"
			    "HTTP2-Settings: \r\n\r\n", SWITCHING));
	assert_false(agreed("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
			    SWITCHING));
	assert_false(agreed("GET / HTTP/1.1\r\nUpgrade: h2c\r\n"
			    "HTTP2-Settings: \r\nHTTP2-Settings: \r\n\r\n",
			    SWITCHING));
}

/* ---------------------------------------------------------------------- */

static void frame_put(uint8_t **w, size_t *len, uint8_t type, uint8_t flags,
		      uint32_t id, const void *payload, size_t n)
{
	uint8_t h[9] = {
		(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
		(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
		(uint8_t)id,
	};

	*w = realloc(*w, *len + sizeof(h) + n);
	assert_non_null(*w);
	memcpy(*w + *len, h, sizeof(h));
	if (n)
		memcpy(*w + *len + sizeof(h), payload, n);
	*len += sizeof(h) + n;
}

/* Feeds all of buf[0..len) to dir; 0 or the codec's error. */
static int feed_all(struct dt_h2_conn *c, enum dt_h2_dir dir,
		    const uint8_t *buf, size_t len)
{
	size_t used;
	int rc = dt_h2_conn_feed(c, dir, buf, len, &used);

	if (!rc)
		assert_int_equal(used, len);
	return rc;
}

static void assert_field(const struct dt_h2_fields *fs, size_t i,
			 const char *name, const char *value)
{
	assert_true(i < fs->n);
	assert_string_equal(fs->v[i].name, name);
	assert_string_equal(fs->v[i].value, value);
}

static struct dt_h2_conn *upgraded_conn(const char *req, int expect)
{
	struct dt_h2_opts o;
	struct dt_h2_conn *c;

	dt_h2_opts_init(&o);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	dt_h2_conn_set_time(c, 1234);
	assert_int_equal(dt_h2_conn_upgrade(c, (const uint8_t *)req,
					    strlen(req)), expect);
	return c;
}

/* The server answers stream 1 in one 20000-byte DATA frame: past the
 * default frame size, allowed by the client's HTTP2-Settings. */
static void test_upgrade_stream1(void **state)
{
	/* :status 200 (static index 8), then a literal "x-a: b" */
	static const uint8_t status_200[] = { 0x88, 0x00, 0x03, 'x', '-', 'a',
					      0x01, 'b' };
	static const uint8_t get3[] = { 0x82, 0x86, 0x84 }; /* GET http / */
	static uint8_t body[20000];
	struct dt_h2_conn *c = upgraded_conn(UPGRADE_GET, 0);
	uint8_t *srv = NULL, *cli = NULL;
	size_t srv_len = 0, cli_len = 0;
	struct dt_h2_stream *s;
	struct dt_h2_message *rq;

	(void)state;
	memset(body, 'b', sizeof(body));
	frame_put(&srv, &srv_len, DT_H2_SETTINGS, 0, 0, NULL, 0);
	frame_put(&srv, &srv_len, DT_H2_HEADERS, DT_H2_FLAG_END_HEADERS, 1,
		  status_200, sizeof(status_200));
	frame_put(&srv, &srv_len, DT_H2_DATA, DT_H2_FLAG_END_STREAM, 1, body,
		  sizeof(body));
	cli = malloc(DT_H2_PREFACE_LEN);
	assert_non_null(cli);
	memcpy(cli, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	cli_len = DT_H2_PREFACE_LEN;
	frame_put(&cli, &cli_len, DT_H2_SETTINGS, 0, 0, NULL, 0);
	frame_put(&cli, &cli_len, DT_H2_HEADERS,
		  DT_H2_FLAG_END_HEADERS | DT_H2_FLAG_END_STREAM, 3, get3,
		  sizeof(get3));

	dt_h2_conn_set_time(c, 5000);
	assert_int_equal(feed_all(c, DT_H2_SERVER, srv, srv_len), 0);
	assert_int_equal(feed_all(c, DT_H2_CLIENT, cli, cli_len), 0);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 1);
	assert_int_equal(s->flags, 0);
	rq = &s->request;
	assert_int_equal(rq->flags, DT_H2_MSG_HEADERS | DT_H2_MSG_END_STREAM);
	assert_int_equal(rq->first_ts, 1234);
	assert_int_equal(rq->last_ts, 1234);
	assert_int_equal(rq->pseudo.n, 4);
	assert_field(&rq->pseudo, 0, ":method", "GET");
	assert_field(&rq->pseudo, 1, ":scheme", "http");
	assert_field(&rq->pseudo, 2, ":authority", "h.example:8080");
	assert_field(&rq->pseudo, 3, ":path", "/x?q=1");
	/* lower case, without the connection's fields and the upgrade's */
	assert_int_equal(rq->headers.n, 3);
	assert_field(&rq->headers, 0, "user-agent", "curl/7.88.1");
	assert_field(&rq->headers, 1, "accept", "*/*");
	assert_field(&rq->headers, 2, "te", "trailers");
	assert_int_equal(rq->body_len, 0);
	assert_int_equal(dt_h2_message_status(&s->response), 200);
	assert_field(&s->response.headers, 0, "x-a", "b");
	assert_int_equal(s->response.body_len, sizeof(body));
	assert_int_equal(s->response.first_ts, 5000);
	dt_h2_stream_free(s);
	/* the client's next stream, unanswered */
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 0);
	dt_h2_conn_close(c);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 3);
	assert_int_equal(s->flags, DT_H2_STREAM_INCOMPLETE);
	assert_field(&s->request.pseudo, 2, ":path", "/");
	dt_h2_stream_free(s);
	dt_h2_conn_free(c);

	/* without the settings the same frame is too large */
	c = upgraded_conn("GET / HTTP/1.1\r\nUpgrade: h2c\r\n"
			  "HTTP2-Settings:\r\n\r\n", 0);
	assert_int_equal(feed_all(c, DT_H2_SERVER, srv, srv_len), -E2BIG);
	dt_h2_conn_close(c);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 1);
	assert_int_equal(s->flags, DT_H2_STREAM_INCOMPLETE);
	/* no Host: no :authority */
	assert_int_equal(s->request.pseudo.n, 3);
	assert_field(&s->request.pseudo, 2, ":path", "/");
	dt_h2_stream_free(s);
	dt_h2_conn_free(c);
	free(srv);
	free(cli);
}

static void test_upgrade_body_and_errors(void **state)
{
	struct dt_h2_conn *c;
	struct dt_h2_stream *s;

	(void)state;
	/* a POST's Content-Length body rides in the upgrade request; the
	 * settings may be padded */
	c = upgraded_conn("POST /p HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
			  "HTTP2-Settings: AAUAAIAA==\r\nContent-Length: 5\r\n"
			  "\r\nhello", 0);
	dt_h2_conn_close(c);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->request.body_len, 5);
	assert_memory_equal(s->request.body, "hello", 5);
	assert_field(&s->request.headers, 0, "content-length", "5");
	assert_int_equal(s->request.headers.n, 1);
	dt_h2_stream_free(s);
	/* a second upgrade on the same connection */
	assert_int_equal(dt_h2_conn_upgrade(c, (const uint8_t *)UPGRADE_GET,
					    strlen(UPGRADE_GET)), -EINVAL);
	dt_h2_conn_free(c);

	/* chunked, no HTTP2-Settings, bad base64url, settings not a
	 * multiple of 6 bytes, a frame size out of range, not a request */
	dt_h2_conn_free(upgraded_conn("POST / HTTP/1.1\r\nUpgrade: h2c\r\n"
				      "HTTP2-Settings:\r\nTransfer-Encoding: "
				      "chunked\r\n\r\n0\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
				      -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nHTTP2-Settings: "
				      "AAU+AIAA\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nHTTP2-Settings: "
				      "A\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nHTTP2-Settings: "
				      "AAUAAA\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nHTTP2-Settings: "
				      "AAUAAAAB\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("HTTP/1.1 101 OK\r\n\r\n", -EBADMSG));
	dt_h2_conn_free(upgraded_conn("GET / HTTP/1.1\r\nHost", -EBADMSG));
}

/* ---------------------------------------------------------------------- */

/* Checks the frames of one side's output and returns the offset past
 * the preface when it starts with one. */
static void assert_frames(const uint8_t *w, size_t len, bool preface,
			  uint32_t id, size_t *data_frames, size_t *cont)
{
	size_t off = preface ? DT_H2_PREFACE_LEN : 0, ends = 0;
	struct dt_h2_frame f;
	ssize_t n;

	if (preface)
		assert_int_equal(dt_h2_preface_check(w, len), 1);
	*data_frames = *cont = 0;
	while (off < len) {
		n = dt_h2_frame_parse(w + off, len - off, 0, &f);
		assert_true(n > 0);
		off += (size_t)n;
		if (f.type == DT_H2_SETTINGS) {
			assert_int_equal(f.length, 0);
			continue;
		}
		assert_int_equal(f.stream_id, id);
		*data_frames += f.type == DT_H2_DATA;
		*cont += f.type == DT_H2_CONTINUATION;
		if (f.flags & DT_H2_FLAG_END_STREAM &&
		    f.type != DT_H2_CONTINUATION) {
			ends++;
			/* the last frame of its message ... */
			assert_true(off == len || f.type == DT_H2_HEADERS);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(ends, 1);
}

/* A stored message: field lines, a blank line, the body. */
static uint8_t *stored(const char *lines, size_t body_len, size_t *len)
{
	size_t n = strlen(lines);
	uint8_t *m = malloc(n + 2 + body_len);

	assert_non_null(m);
	memcpy(m, lines, n);
	memcpy(m + n, "\r\n", 2);
	for (size_t i = 0; i < body_len; i++)
		m[n + 2 + i] = (uint8_t)(i * 7);
	*len = n + 2 + body_len;
	return m;
}

static void assert_stored_equal(const struct dt_h2_message *m,
				const uint8_t *want, size_t want_len)
{
	uint8_t *got;
	size_t len;
	bool cleaned = false;

	assert_int_equal(dt_h2_store_message(m, &got, &len, &cleaned), 0);
	assert_false(cleaned);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, len);
	free(got);
}

/* Two streams encoded and decoded again: a request with a big header
 * block (CONTINUATION) and a 40000-byte response with trailers (three
 * DATA frames), then a bodiless exchange whose header blocks refer to the
 * first ones' table entries. */
static void test_encode_roundtrip(void **state)
{
	static char big[20000 + 64];
	const char *trailers = "grpc-status: 0\r\ngrpc-message: ok\r\n";
	struct dt_h2_encoder *e;
	struct dt_h2_conn *c;
	struct dt_h2_opts o;
	struct dt_h2_stream *s;
	uint8_t *req1, *resp1, *req2, *resp2, *w[4];
	size_t req1_len, resp1_len, req2_len, resp2_len, wl[4], nd, nc;

	(void)state;
	strcpy(big, ":method: POST\r\n:path: /a\r\nx-big: ");
	nd = strlen(big);
	memset(big + nd, 'v', 20000);
	strcpy(big + nd + 20000, "\r\n");
	req1 = stored(big, 3, &req1_len);
	resp1 = stored(":status: 200\r\ncontent-type: application/grpc\r\n",
		       40000, &resp1_len);
	req2 = stored(":method: GET\r\n:path: /a\r\nx-big: x\r\n", 0,
		      &req2_len);
	resp2 = stored(":status: 204\r\n", 0, &resp2_len);

	assert_int_equal(dt_h2_encoder_new(&e), 0);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_CLIENT, 1, req1,
					      req1_len, NULL, &w[0], &wl[0]),
			 0);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 1, resp1,
					      resp1_len, trailers, &w[1],
					      &wl[1]), 0);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_CLIENT, 3, req2,
					      req2_len, "", &w[2], &wl[2]), 0);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 3, resp2,
					      resp2_len, NULL, &w[3], &wl[3]),
			 0);
	dt_h2_encoder_free(e);
	assert_frames(w[0], wl[0], true, 1, &nd, &nc);
	assert_int_equal(nd, 1);
	assert_int_equal(nc, 1);
	assert_frames(w[1], wl[1], false, 1, &nd, &nc);
	assert_int_equal(nd, 3);
	assert_int_equal(nc, 0);
	assert_frames(w[2], wl[2], false, 3, &nd, &nc);
	assert_int_equal(nd, 0);
	/* the dynamic table at work: x-big's 20000 bytes are not repeated */
	assert_true(wl[2] < 64);

	dt_h2_opts_init(&o);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(feed_all(c, i % 2 ? DT_H2_SERVER :
						     DT_H2_CLIENT, w[i],
					  wl[i]), 0);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 1);
	assert_int_equal(s->flags, 0);
	assert_stored_equal(&s->request, req1, req1_len);
	assert_stored_equal(&s->response, resp1, resp1_len);
	assert_int_equal(s->response.trailers.n, 2);
	assert_field(&s->response.trailers, 1, "grpc-message", "ok");
	dt_h2_stream_free(s);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 3);
	assert_stored_equal(&s->request, req2, req2_len);
	assert_stored_equal(&s->response, resp2, resp2_len);
	assert_int_equal(s->request.flags,
			 DT_H2_MSG_HEADERS | DT_H2_MSG_END_STREAM);
	dt_h2_stream_free(s);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 0);
	dt_h2_conn_free(c);
	for (int i = 0; i < 4; i++)
		free(w[i]);
	free(req1);
	free(resp1);
	free(req2);
	free(resp2);
}

static void test_encode_errors(void **state)
{
	struct dt_h2_encoder *e;
	uint8_t *w = NULL, *m;
	size_t wl = 0, len;

	(void)state;
	assert_int_equal(dt_h2_encoder_new(&e), 0);
	m = stored(":status: 200\r\n", 0, &len);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 0, m, len,
					      NULL, &w, &wl), -EINVAL);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 0x80000000u,
					      m, len, NULL, &w, &wl), -EINVAL);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 1,
					      (const uint8_t *)"nocolon\r\n\r\n",
					      11, NULL, &w, &wl), -EBADMSG);
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 1, m, len,
					      "bad trailer\r\n", &w, &wl),
			 -EBADMSG);
	assert_null(w);
	/* an empty stored message is an empty header block that ends */
	assert_int_equal(dt_h2_encode_message(e, DT_H2_SERVER, 1, m, 0, NULL,
					      &w, &wl), 0);
	assert_int_equal(wl, 2 * DT_H2_FRAME_HEADER_LEN);
	assert_int_equal(w[DT_H2_FRAME_HEADER_LEN + 3], DT_H2_HEADERS);
	assert_int_equal(w[DT_H2_FRAME_HEADER_LEN + 4],
			 DT_H2_FLAG_END_HEADERS | DT_H2_FLAG_END_STREAM);
	free(w);
	free(m);
	dt_h2_encoder_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_agreed),
		cmocka_unit_test(test_upgrade_stream1),
		cmocka_unit_test(test_upgrade_body_and_errors),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
