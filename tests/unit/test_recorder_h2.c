// SPDX-License-Identifier: MIT
/*
 * Unit tests of the HTTP/2 decoder of the recorder (recorder/h2_pair.c,
 * recorder/h2_exchange.c) and of the stored form of HTTP/2 messages
 * (formats/http2_store.c). Connections are driven through the decoder's
 * interface as the assembler does: bytes appended to a direction's stream
 * with the time they arrived, then on_data; exchanges come out through a
 * real assembler's emit path.
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
#include <pcap/pcap.h>
#include <unistd.h>

#include "recorder/pcap_io.h"
#include "recorder/recorder_int.h"
#include "tests/unit/h2_helpers.h"

/* the traced process is the server: it reads requests */
#define REQ DT_DIR_INGRESS
#define RESP DT_DIR_EGRESS

/* ---------------------------------------------------------------------- */
/* Wire bytes                                                             */
/* ---------------------------------------------------------------------- */

static void settings_put(struct wire *w)
{
	static const uint8_t s[6] = { 0, DT_H2_SETTINGS_MAX_CONCURRENT_STREAMS,
				      0, 0, 0, 100 };

	frame_put(w, DT_H2_SETTINGS, 0, 0, s, sizeof(s));
}

/* ---------------------------------------------------------------------- */
/* A connection driven like the assembler does                            */
/* ---------------------------------------------------------------------- */

struct seen {
	struct dt_exchange x[8];
	size_t n;
};

static int keep_exchange(void *ctx, struct dt_exchange *x)
{
	struct seen *sn = ctx;

	assert_true(sn->n < 8);
	sn->x[sn->n] = *x;
	/* the assembler releases x after the call: take its buffers */
	dt_exchange_init(x);
	sn->n++;
	return 0;
}

struct fixture {
	struct dt_assembler *a;
	struct dt_conn c;
	struct seen seen;
	nghttp2_hd_deflater *cdef, *sdef;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(dt_assembler_new(&f->a, 0, keep_exchange, &f->seen),
			 0);
	f->c.req_dir = REQ;
	assert_int_equal(nghttp2_hd_deflate_new(&f->cdef, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&f->sdef, 4096), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->seen.n; i++)
		dt_exchange_release(&f->seen.x[i]);
	if (f->c.state)
		dt_proto_http2.conn_free(f->c.state);
	for (int d = 0; d < 2; d++) {
		free(f->c.s[d].buf);
		free(f->c.s[d].marks);
	}
	nghttp2_hd_deflate_del(f->cdef);
	nghttp2_hd_deflate_del(f->sdef);
	dt_assembler_free(f->a);
	free(f);
	return 0;
}

/* Bytes of direction dir arriving at time ts, as stream_add() keeps them. */
static void arrive(struct fixture *f, int dir, const struct wire *w,
		   uint64_t ts)
{
	struct dt_stream *s = &f->c.s[dir];

	s->buf = realloc(s->buf, s->len + w->len);
	s->marks = realloc(s->marks, (s->nmarks + 1) * sizeof(*s->marks));
	assert_non_null(s->buf);
	assert_non_null(s->marks);
	memcpy(s->buf + s->len, w->p, w->len);
	s->len += w->len;
	s->marks[s->nmarks++] = (struct dt_mark){ s->next, ts };
	s->next += w->len;
}

static void deliver(struct fixture *f, int dir, struct wire *w, uint64_t ts)
{
	arrive(f, dir, w, ts);
	free(w->p);
	memset(w, 0, sizeof(*w));
	if (!f->c.state) {
		f->c.state = dt_proto_http2.conn_new();
		assert_non_null(f->c.state);
	}
	assert_int_equal(dt_proto_http2.on_data(f->a, &f->c, dir), 0);
}

static void open_conn(struct fixture *f, uint64_t ts)
{
	struct wire w = { 0 };

	settings_put(&w);
	deliver(f, RESP, &w, ts);
	wire_put(&w, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	settings_put(&w);
	deliver(f, REQ, &w, ts);
}

static void assert_bytes(const uint8_t *got, size_t len, const char *want,
			 size_t want_len)
{
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);
}

#define ASSERT_STORED(p, n, lit) assert_bytes(p, n, lit, sizeof(lit) - 1)

static const char *attr(const struct dt_exchange *x, const char *key)
{
	const char *v = dt_exchange_attr(x, key);

	return v ? v : "(none)";
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */
/* ---------------------------------------------------------------------- */

static const char *const get_req[] = {
	":method", "GET", ":scheme", "http", ":authority", "svc:8080",
	":path", "/a", "accept", "*/*", NULL,
};
static const char *const post_req[] = {
	":method", "POST", ":scheme", "http", ":authority", "svc:8080",
	":path", "/up", NULL,
};
static const char *const ok_resp[] = {
	":status", "200", "content-type", "text/plain", NULL,
};

/* Two streams interleaved, bodies in several DATA frames, trailers: each
 * is one exchange in the stored form, with its own times. */
static void test_interleaved_streams(void **state)
{
	static const char *const trailers[] = { "x-sum", "42", NULL };
	struct fixture *f = *state;
	struct wire w = { 0 };
	const struct dt_exchange *x;

	open_conn(f, 1000);
	headers_put(&w, f->cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 2000);
	headers_put(&w, f->cdef, 3, 0, post_req);
	data_put(&w, 3, 0, "part1,");
	deliver(f, REQ, &w, 3000);
	headers_put(&w, f->sdef, 1, 0, ok_resp);
	data_put(&w, 1, 0, "hel");
	deliver(f, RESP, &w, 4000);
	data_put(&w, 3, DT_H2_FLAG_END_STREAM, "part2");
	deliver(f, REQ, &w, 5000);
	data_put(&w, 1, DT_H2_FLAG_END_STREAM, "lo");
	deliver(f, RESP, &w, 6000);
	assert_int_equal(f->seen.n, 1);
	headers_put(&w, f->sdef, 3, 0, ok_resp);
	data_put(&w, 3, 0, "stored");
	headers_put(&w, f->sdef, 3, DT_H2_FLAG_END_STREAM, trailers);
	deliver(f, RESP, &w, 7000);
	assert_int_equal(f->seen.n, 2);

	x = &f->seen.x[0];
	assert_int_equal(x->protocol, DT_PROTO_HTTP2);
	assert_int_equal(x->flags, 0);
	ASSERT_STORED(x->request, x->request_len,
		      ":method: GET\r\n:scheme: http\r\n:authority: svc:8080\r\n"
		      ":path: /a\r\naccept: */*\r\n\r\n");
	ASSERT_STORED(x->response, x->response_len,
		      ":status: 200\r\ncontent-type: text/plain\r\n\r\nhello");
	assert_string_equal(attr(x, "method"), "GET");
	assert_string_equal(attr(x, "path"), "/a");
	assert_string_equal(attr(x, "host"), "svc:8080");
	assert_string_equal(attr(x, "status"), "200");
	assert_string_equal(attr(x, "h2.stream_id"), "1");
	/* times: the captures that carried the first and last frames */
	assert_int_equal(x->req_end_ns - x->req_start_ns, 0);
	assert_int_equal(x->resp_start_ns - x->req_start_ns, 2000);
	assert_int_equal(x->resp_end_ns - x->req_start_ns, 4000);

	x = &f->seen.x[1];
	assert_int_equal(x->flags, 0);
	ASSERT_STORED(x->request, x->request_len,
		      ":method: POST\r\n:scheme: http\r\n:authority: svc:8080\r\n"
		      ":path: /up\r\n\r\npart1,part2");
	ASSERT_STORED(x->response, x->response_len,
		      ":status: 200\r\ncontent-type: text/plain\r\n\r\nstored");
	assert_string_equal(attr(x, "h2.trailers"), "x-sum: 42\r\n");
	assert_string_equal(attr(x, "h2.stream_id"), "3");
	assert_int_equal(x->req_end_ns - x->req_start_ns, 2000);
	assert_int_equal(x->resp_end_ns - x->resp_start_ns, 0);
	assert_int_equal(x->resp_start_ns - x->req_start_ns, 4000);
}

/* A gRPC call: service and method from the path, status and message
 * (percent-decoded) from the trailers. */
static void test_grpc_status(void **state)
{
	static const char *const req[] = {
		":method", "POST", ":scheme", "http", ":path",
		"/pkg.Greeter/SayHello", "content-type", "application/grpc",
		NULL,
	};
	static const char *const resp[] = {
		":status", "200", "content-type", "application/grpc", NULL,
	};
	static const char *const trailers[] = {
		"grpc-status", "5", "grpc-message", "not%20found", NULL,
	};
	struct fixture *f = *state;
	struct wire w = { 0 };
	const struct dt_exchange *x;

	open_conn(f, 1);
	headers_put(&w, f->cdef, 1, 0, req);
	frame_put(&w, DT_H2_DATA, DT_H2_FLAG_END_STREAM, 1,
		  "\0\0\0\0\2\x08\x01", 7);
	deliver(f, REQ, &w, 2);
	headers_put(&w, f->sdef, 1, 0, resp);
	headers_put(&w, f->sdef, 1, DT_H2_FLAG_END_STREAM, trailers);
	deliver(f, RESP, &w, 3);
	assert_int_equal(f->seen.n, 1);
	x = &f->seen.x[0];
	assert_string_equal(attr(x, "grpc.service"), "pkg.Greeter");
	assert_string_equal(attr(x, "grpc.method"), "SayHello");
	assert_string_equal(attr(x, "grpc.status"), "5");
	assert_string_equal(attr(x, "grpc.message"), "not found");
	assert_string_equal(attr(x, "h2.trailers"),
			    "grpc-status: 5\r\ngrpc-message: not%20found\r\n");
	/* the body stays as sent: the length prefix and the message */
	assert_memory_equal(x->request + x->request_len - 7,
			    "\0\0\0\0\2\x08\x01", 7);
}

/* The connection ends with a stream open: it comes out flagged. */
static void test_close_flushes_open_streams(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };
	const struct dt_exchange *x;

	open_conn(f, 1);
	headers_put(&w, f->cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 2);
	assert_int_equal(f->seen.n, 0);
	assert_true(dt_proto_http2.held(f->c.state) > 0);
	assert_int_equal(dt_proto_http2.on_close(f->a, &f->c), 0);
	assert_int_equal(f->seen.n, 1);
	x = &f->seen.x[0];
	assert_int_equal(x->flags, DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE);
	assert_int_equal(x->response_len, 0);
	assert_string_equal(attr(x, "path"), "/a");
	assert_int_equal(dt_proto_http2.held(f->c.state), 0);
}

/* Lost response bytes end the stream in flight, flagged; the next stream
 * still decodes when its header block does not need the lost state. */
static void test_gap_restarts(void **state)
{
	static const char *const literal[] = { ":status", "204", NULL };
	struct fixture *f = *state;
	struct wire w = { 0 };
	nghttp2_hd_deflater *fresh;

	open_conn(f, 1);
	headers_put(&w, f->cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&w, f->cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 2);
	headers_put(&w, f->sdef, 1, 0, ok_resp);
	deliver(f, RESP, &w, 3);
	/* bytes of the response direction lost: the assembler drops what
	 * the decoder does not keep, and later bytes start past the hole */
	assert_int_equal(dt_proto_http2.on_gap(f->a, &f->c, RESP, 100,
					       DT_XF_INCOMPLETE), 0);
	assert_int_equal(f->seen.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_true(f->seen.x[i].flags & DT_XF_INCOMPLETE);
	dt_stream_consume(&f->c.s[RESP], f->c.s[RESP].len, NULL, NULL);
	/* garbage before a frame boundary, then a stream the new codec can
	 * decode: its block uses the static table only */
	wire_put(&w, "\x01\x02", 2);
	assert_int_equal(nghttp2_hd_deflate_new(&fresh, 0), 0);
	headers_put(&w, fresh, 5, DT_H2_FLAG_END_STREAM, literal);
	nghttp2_hd_deflate_del(fresh);
	settings_put(&w);
	deliver(f, RESP, &w, 4);
	headers_put(&w, f->cdef, 5, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 5);
	assert_int_equal(f->seen.n, 3);
	assert_string_equal(attr(&f->seen.x[2], "status"), "204");
	assert_string_equal(attr(&f->seen.x[2], "h2.stream_id"), "5");
}

/* Bytes that break HTTP/2 are counted and end the streams in flight as
 * malformed; decoding goes on from the next frame boundary. */
static void test_malformed_frame(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };
	struct dt_assembler_stats st;

	open_conn(f, 1);
	headers_put(&w, f->cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 2);
	/* a PING of 3 bytes: a frame size error */
	frame_put(&w, DT_H2_PING, 0, 0, "abc", 3);
	deliver(f, RESP, &w, 3);
	assert_int_equal(f->seen.n, 1);
	assert_true(f->seen.x[0].flags & DT_XF_MALFORMED);
	dt_assembler_get_stats(f->a, &st);
	assert_true(st.malformed >= 1);
}

/* Joined mid-connection: a request block referring to HPACK entries sent
 * before the join cannot be decoded; the stream is still paired, flagged
 * incomplete (not malformed), and says which side lacks its fields. */
static void test_joined_undecodable(void **state)
{
	static const char *const literal[] = { ":status", "204", NULL };
	struct fixture *f = *state;
	struct wire w = { 0 }, before = { 0 };
	nghttp2_hd_deflater *fresh;
	const struct dt_exchange *x;

	f->c.resync_start = true;
	/* the first block, sent before the join, fills the client's table */
	headers_put(&before, f->cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	free(before.p);
	headers_put(&w, f->cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 10);
	assert_int_equal(nghttp2_hd_deflate_new(&fresh, 0), 0);
	headers_put(&w, fresh, 3, DT_H2_FLAG_END_STREAM, literal);
	nghttp2_hd_deflate_del(fresh);
	deliver(f, RESP, &w, 20);
	assert_int_equal(f->seen.n, 1);
	x = &f->seen.x[0];
	assert_int_equal(x->flags, DT_XF_INCOMPLETE);
	assert_string_equal(attr(x, "h2.undecodable"), "request");
	assert_string_equal(attr(x, "status"), "204");
	assert_string_equal(attr(x, "path"), "(none)");
	assert_int_equal(x->resp_end_ns - x->req_start_ns, 10);
}

static const char upgrade_req[] =
	"GET /u HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nAccept: */*\r\n\r\n";

/* HTTP/1 bytes into a connection its decoder holds. */
static void deliver_http1(struct fixture *f, int dir, const char *text,
			  uint64_t ts)
{
	struct wire w = { 0 };

	wire_put(&w, text, strlen(text));
	arrive(f, dir, &w, ts);
	free(w.p);
	if (!f->c.proto) {
		f->c.proto = &dt_proto_http1;
		f->c.state = dt_proto_http1.conn_new();
		assert_non_null(f->c.state);
	}
	assert_int_equal(f->c.proto->on_data(f->a, &f->c, dir), 0);
}

/* An h2c upgrade: the HTTP/1 decoder reads the request and the 101 and
 * hands the connection to the HTTP/2 one, which takes the request as
 * stream 1 and decodes the frames that came with the 101. The 101 is not
 * recorded. */
static void test_h2c_upgrade(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };
	const struct dt_exchange *x;

	deliver_http1(f, REQ, upgrade_req, 1000);
	wire_put(&w, "HTTP/1.1 101 Switching Protocols\r\n"
		 "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 71);
	settings_put(&w);
	headers_put(&w, f->sdef, 1, 0, ok_resp);
	data_put(&w, 1, DT_H2_FLAG_END_STREAM, "up!");
	arrive(f, RESP, &w, 1010);
	free(w.p);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dt_proto_http1.on_data(f->a, &f->c, RESP), 0);
	assert_ptr_equal(f->c.proto, &dt_proto_http2);
	assert_int_equal(f->seen.n, 1);
	x = &f->seen.x[0];
	assert_int_equal(x->protocol, DT_PROTO_HTTP2);
	assert_int_equal(x->flags, 0);
	assert_string_equal(attr(x, "h2.stream_id"), "1");
	assert_string_equal(attr(x, "method"), "GET");
	assert_string_equal(attr(x, "host"), "svc");
	assert_string_equal(attr(x, "status"), "200");
	ASSERT_STORED(x->request, x->request_len,
		      ":method: GET\r\n:scheme: http\r\n:authority: svc\r\n"
		      ":path: /u\r\naccept: */*\r\n\r\n");
	ASSERT_STORED(x->response, x->response_len,
		      ":status: 200\r\ncontent-type: text/plain\r\n\r\nup!");
	assert_int_equal(x->resp_end_ns - x->req_start_ns, 10);

	/* then HTTP/2 from the client's preface on */
	wire_put(&w, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	settings_put(&w);
	headers_put(&w, f->cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	deliver(f, REQ, &w, 1020);
	headers_put(&w, f->sdef, 3, 0, ok_resp);
	data_put(&w, 3, DT_H2_FLAG_END_STREAM, "3");
	deliver(f, RESP, &w, 1030);
	assert_int_equal(f->seen.n, 2);
	assert_string_equal(attr(&f->seen.x[1], "h2.stream_id"), "3");
	assert_string_equal(attr(&f->seen.x[1], "path"), "/a");
	assert_int_equal(f->seen.x[1].flags, 0);
}

/* A 101 to another protocol, or one that does not agree: HTTP/1 keeps the
 * connection and records the 101. */
static void test_upgrade_not_h2c(void **state)
{
	struct fixture *f = *state;

	deliver_http1(f, REQ, upgrade_req, 1000);
	deliver_http1(f, RESP, "HTTP/1.1 101 Switching Protocols\r\n"
		      "Upgrade: websocket\r\n\r\n\x81\x00", 1010);
	assert_ptr_equal(f->c.proto, &dt_proto_http1);
	assert_int_equal(f->seen.n, 1);
	assert_int_equal(f->seen.x[0].protocol, DT_PROTO_HTTP1);
	assert_string_equal(attr(&f->seen.x[0], "status"), "101");
	dt_proto_http1.conn_free(f->c.state);
	f->c.state = NULL;
}

static void test_upgrade_state(void **state)
{
	static const char sw[] = "HTTP/1.1 101 OK\r\nUpgrade: h2c\r\n\r\n";
	static const char bad[] = "GET / HTTP/1.1\r\nUpgrade: h2c\r\n"
				  "HTTP2-Settings: A\r\n\r\n";
	void *st = NULL;

	(void)state;
	assert_int_equal(dt_h2_upgrade_state(&st, (const uint8_t *)upgrade_req,
					     sizeof(upgrade_req) - 1,
					     (const uint8_t *)sw,
					     sizeof(sw) - 1, 5), 1);
	assert_non_null(st);
	assert_true(dt_proto_http2.held(st) > 0);
	dt_proto_http2.conn_free(st);
	/* not agreed, not parsable, bad HTTP2-Settings: 0, nothing made */
	st = NULL;
	assert_int_equal(dt_h2_upgrade_state(&st, (const uint8_t *)upgrade_req,
					     sizeof(upgrade_req) - 1,
					     (const uint8_t *)"HTTP/1.1 101 OK"
							      "\r\n\r\n", 19, 5),
			 0);
	assert_int_equal(dt_h2_upgrade_state(&st, (const uint8_t *)"GET",
					     3, (const uint8_t *)sw,
					     sizeof(sw) - 1, 5), 0);
	assert_int_equal(dt_h2_upgrade_state(&st, (const uint8_t *)bad,
					     sizeof(bad) - 1,
					     (const uint8_t *)sw,
					     sizeof(sw) - 1, 5), 0);
	assert_null(st);
}

static void test_detect(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };

	/* the server's SETTINGS first: wait for the client's preface */
	f->c.req_dir = -1;
	settings_put(&w);
	arrive(f, RESP, &w, 1);
	free(w.p);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dt_proto_http2.detect(&f->c, RESP), -EAGAIN);
	wire_put(&w, "PRI * HTTP/2.0\r\n", 16);
	arrive(f, REQ, &w, 2);
	assert_int_equal(dt_proto_http2.detect(&f->c, REQ), -EAGAIN);
	free(w.p);
	memset(&w, 0, sizeof(w));
	wire_put(&w, "\r\nSM\r\n\r\n", 8);
	arrive(f, REQ, &w, 3);
	assert_int_equal(dt_proto_http2.detect(&f->c, REQ), 1);
	assert_int_equal(f->c.req_dir, REQ);
	free(w.p);
}

static void test_detect_other_protocols(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };

	wire_put(&w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	arrive(f, REQ, &w, 1);
	assert_int_equal(dt_proto_http2.detect(&f->c, REQ), 0);
	free(w.p);
}

/* A joined connection: a request HEADERS frame tells the client side. */
static void test_detect_joined(void **state)
{
	struct fixture *f = *state;
	struct wire w = { 0 };

	f->c.req_dir = -1;
	f->c.resync_start = true;
	wire_put(&w, "tail of a frame", 15);
	headers_put(&w, f->cdef, 7, 0, get_req);
	data_put(&w, 7, DT_H2_FLAG_END_STREAM, "body");
	arrive(f, DT_DIR_EGRESS, &w, 1);
	assert_int_equal(dt_proto_http2.detect(&f->c, DT_DIR_EGRESS), 1);
	assert_int_equal(f->c.req_dir, DT_DIR_EGRESS);
	free(w.p);
}

/* Field bytes the lines cannot carry are replaced, and flagged. */
static void test_store_cleans_fields(void **state)
{
	struct dt_h2_field v[3] = {
		{ (char *)":status", (char *)"200", 7, 3 },
		{ (char *)"bad name:", (char *)"a\r\nb\0c", 9, 6 },
		{ (char *)"", (char *)"empty", 0, 5 },
	};
	struct dt_h2_message m = { 0 };
	struct dt_http1_header fields[4];
	uint8_t *buf;
	size_t len, n;
	bool cleaned = false, blank;
	ssize_t head;

	(void)state;
	m.pseudo = (struct dt_h2_fields){ 1, v, 0 };
	m.headers = (struct dt_h2_fields){ 2, v + 1, 0 };
	m.body = (uint8_t *)"\r\n\r\nbody";
	m.body_len = 8;
	assert_int_equal(dt_h2_store_message(&m, &buf, &len, &cleaned), 0);
	assert_true(cleaned);
	ASSERT_STORED(buf, len, ":status: 200\r\nbad_name_: a__b_c\r\n"
		      "_: empty\r\n\r\n\r\n\r\nbody");
	head = dt_h2_stored_fields_parse(buf, len, fields, 4, &n, &blank);
	assert_int_equal(head, len - 8);
	assert_true(blank);
	assert_int_equal(n, 3);
	assert_int_equal(fields[1].name.len, 9);
	assert_memory_equal(fields[1].value.ptr, "a__b_c", 6);
	free(buf);
}

static void test_stored_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"no separator\r\n\r\n", ": value\r\n\r\n", "name: cut",
		"name: x\n\r\n",
	};
	struct dt_http1_header fields[2];
	size_t n;
	bool blank;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dt_h2_stored_fields_parse(
			(const uint8_t *)bad[i], strlen(bad[i]), fields, 2,
			&n, &blank), -EBADMSG);
	/* more fields than room: counted up to max, all read */
	assert_int_equal(dt_h2_stored_fields_parse(
		(const uint8_t *)"a: 1\r\nb: 2\r\nc: 3\r\n", 18, fields, 2, &n,
		&blank), 18);
	assert_int_equal(n, 2);
	assert_false(blank);
}

/* ---------------------------------------------------------------------- */
/* pcap export of HTTP/2 exchanges                                        */
/* ---------------------------------------------------------------------- */

static int sink_write(void *ctx, const void *buf, size_t len)
{
	struct wire *w = ctx;

	wire_put(w, buf, len);
	return 0;
}

static void h2_exchange(struct dt_exchange *x, uint64_t ts, const char *sid,
			const char *req, size_t req_len, const char *resp,
			size_t resp_len)
{
	dt_exchange_init(x);
	x->conn_id = 7;
	x->protocol = DT_PROTO_HTTP2;
	x->client.family = x->server.family = DT_FAMILY_IPV4;
	memcpy(x->client.addr, "\x7f\0\0\x01", 4);
	memcpy(x->server.addr, "\x7f\0\0\x01", 4);
	x->client.port = 40000;
	x->server.port = 8443;
	x->req_start_ns = x->req_end_ns = ts;
	x->resp_start_ns = ts + 10;
	x->resp_end_ns = ts + 20;
	assert_int_equal(dt_exchange_set_request(x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(x, resp, resp_len), 0);
	assert_int_equal(dt_exchange_set_attr(x, "h2.stream_id", sid), 0);
}

/* The TCP payload of each direction of a raw-IPv4 pcap, in order. */
static void pcap_payloads(const char *path, struct wire *client,
			  struct wire *server)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	size_t ihl, doff;

	assert_non_null(p);
	while (pcap_next_ex(p, &h, &pkt) == 1) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		assert_int_equal(pkt[9], 6);
		doff = (size_t)(pkt[ihl + 12] >> 4) * 4;
		wire_put((pkt[ihl] << 8 | pkt[ihl + 1]) == 40000 ? client :
								   server,
			 pkt + ihl + doff, h->caplen - ihl - doff);
	}
	pcap_close(p);
}

static void assert_stored_as(const struct dt_h2_message *m,
			     const uint8_t *want, size_t want_len)
{
	uint8_t *got;
	size_t len;
	bool cleaned = false;

	assert_int_equal(dt_h2_store_message(m, &got, &len, &cleaned), 0);
	assert_bytes(got, len, (const char *)want, want_len);
	free(got);
}

/* Two streams exported and decoded back from the pcap's TCP payloads:
 * HTTP/2 frames (not the stored text) that give the stored messages and
 * trailers again; an incomplete exchange gets no hole. */
static void test_pcap_export_frames(void **state)
{
	static const char req1[] = ":method: GET\r\n:scheme: https\r\n"
				   ":path: /big\r\n\r\n";
	static const char req2[] = ":method: POST\r\n:path: /p\r\n\r\nabc";
	static const char resp2[] = ":status: 204\r\n\r\n";
	char path[] = "/tmp/test_recorder_h2.XXXXXX", err[256];
	struct dt_pcap_export_summary sum;
	struct dt_pcap_export_opts o = { 0 };
	struct dt_session_sink sink;
	struct dt_session_writer *sw;
	struct wire session = { 0 }, cli = { 0 }, srv = { 0 };
	struct dt_exchange x[2];
	struct dt_h2_stream *s[2];
	struct dt_h2_conn *c;
	struct dt_h2_opts ho;
	char resp1[64 + 40000];
	size_t resp1_len, used;
	int fd;

	(void)state;
	resp1_len = (size_t)snprintf(resp1, 64, ":status: 200\r\n\r\n");
	for (size_t i = 0; i < 40000; i++)
		resp1[resp1_len++] = (char)(i * 13);
	h2_exchange(&x[0], 1000000, "1", req1, sizeof(req1) - 1, resp1,
		    resp1_len);
	assert_int_equal(dt_exchange_set_attr(&x[0], "h2.trailers",
					      "grpc-status: 0\r\n"), 0);
	h2_exchange(&x[1], 2000000, "3", req2, sizeof(req2) - 1, resp2,
		    sizeof(resp2) - 1);
	x[1].flags = DT_XF_INCOMPLETE | DT_XF_TLS;
	sink = (struct dt_session_sink){ sink_write, &session };
	assert_int_equal(dt_session_writer_new(&sw, &sink, NULL, 0, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dt_session_writer_append(sw, &x[i]), 0);
		dt_exchange_release(&x[i]);
	}
	assert_int_equal(dt_session_writer_finish(sw, NULL, 0), 0);
	dt_session_writer_free(sw);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	o.session = session.p;
	o.session_len = session.len;
	o.output = path;
	o.link = DT_PCAP_LINK_RAW;
	assert_int_equal(dt_pcap_export_run(&o, &sum, err, sizeof(err)), 0);
	assert_int_equal(sum.exchanges, 2);
	assert_int_equal(sum.holes, 0);
	pcap_payloads(path, &cli, &srv);
	unlink(path);

	dt_h2_opts_init(&ho);
	assert_int_equal(dt_h2_conn_new(&c, &ho), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT, cli.p, cli.len,
					 &used), 0);
	assert_int_equal(used, cli.len);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, srv.p, srv.len,
					 &used), 0);
	assert_int_equal(used, srv.len);
	for (int i = 0; i < 2; i++)
		assert_int_equal(dt_h2_conn_next_stream(c, &s[i]), 1);
	assert_int_equal(s[0]->id, 1);
	assert_int_equal(s[0]->flags, 0);
	assert_stored_as(&s[0]->request, (const uint8_t *)req1,
			 sizeof(req1) - 1);
	assert_stored_as(&s[0]->response, (const uint8_t *)resp1, resp1_len);
	assert_int_equal(s[0]->response.trailers.n, 1);
	assert_string_equal(s[0]->response.trailers.v[0].value, "0");
	assert_int_equal(s[1]->id, 3);
	assert_stored_as(&s[1]->request, (const uint8_t *)req2,
			 sizeof(req2) - 1);
	assert_stored_as(&s[1]->response, (const uint8_t *)resp2,
			 sizeof(resp2) - 1);
	for (int i = 0; i < 2; i++)
		dt_h2_stream_free(s[i]);
	dt_h2_conn_free(c);
	free(session.p);
	free(cli.p);
	free(srv.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interleaved_streams,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_flushes_open_streams,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_restarts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_joined_undecodable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_h2c_upgrade, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_not_h2c, setup,
						teardown),
		cmocka_unit_test(test_upgrade_state),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_other_protocols,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_joined, setup,
						teardown),
		cmocka_unit_test(test_store_cleans_fields),
		cmocka_unit_test(test_stored_parse_rejects),
		cmocka_unit_test(test_pcap_export_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
