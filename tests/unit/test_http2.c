// SPDX-License-Identifier: MIT
/*
 * Unit tests of the HTTP/2 codec: frames, the client preface, header
 * blocks (encoded by nghttp2's own HPACK deflater, stateful like a real
 * peer's), streams paired by id, bodies, trailers, resets, pushes,
 * mid-connection joins, and every way of splitting the bytes.
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

#define MAX_STREAMS 32

/* ---------------------------------------------------------------------- */
/* Building wire bytes                                                    */
/* ---------------------------------------------------------------------- */

static void settings_put(struct wire *w, uint16_t id, uint32_t value)
{
	uint8_t s[6] = { (uint8_t)(id >> 8), (uint8_t)id,
			 (uint8_t)(value >> 24), (uint8_t)(value >> 16),
			 (uint8_t)(value >> 8), (uint8_t)value };

	frame_put(w, DT_H2_SETTINGS, 0, 0, s, sizeof(s));
}

/* Both sides of a connection as a peer would write them. */
struct conv {
	struct wire client, server;
	nghttp2_hd_deflater *cdef, *sdef;
};

static void conv_init(struct conv *cv, bool preface)
{
	memset(cv, 0, sizeof(*cv));
	assert_int_equal(nghttp2_hd_deflate_new(&cv->cdef, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&cv->sdef, 4096), 0);
	if (!preface)
		return;
	wire_put(&cv->client, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	frame_put(&cv->client, DT_H2_SETTINGS, 0, 0, NULL, 0);
	frame_put(&cv->server, DT_H2_SETTINGS, 0, 0, NULL, 0);
	frame_put(&cv->server, DT_H2_SETTINGS, DT_H2_FLAG_ACK, 0, NULL, 0);
	frame_put(&cv->client, DT_H2_SETTINGS, DT_H2_FLAG_ACK, 0, NULL, 0);
}

static void conv_free(struct conv *cv)
{
	wire_free(&cv->client);
	wire_free(&cv->server);
	nghttp2_hd_deflate_del(cv->cdef);
	nghttp2_hd_deflate_del(cv->sdef);
}

static const char *const get_req[] = {
	":method", "GET", ":scheme", "http", ":authority", "localhost:8080",
	":path", "/index.html", "user-agent", "curl/7.88.1", "accept", "*/*",
	NULL,
};

static const char *const ok_resp[] = {
	":status", "200", "content-type", "text/html", "server", "nginx",
	NULL,
};

/* ---------------------------------------------------------------------- */
/* Decoding and comparing                                                 */
/* ---------------------------------------------------------------------- */

/* The streams a run produced and the error that ended it. */
struct result {
	struct dt_h2_stream *s[MAX_STREAMS];
	size_t n;
	int rc;
};

static void result_free(struct result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		dt_h2_stream_free(r->s[i]);
	memset(r, 0, sizeof(*r));
}

static void drain(struct dt_h2_conn *c, struct result *r)
{
	struct dt_h2_stream *s;

	while (dt_h2_conn_next_stream(c, &s) == 1) {
		assert_true(r->n < MAX_STREAMS);
		r->s[r->n++] = s;
	}
}

/* Per direction: the bytes received and not consumed yet. */
struct pending {
	uint8_t *buf;
	size_t len;
};

/* Appends data to what dir has pending and feeds it all, as the recorder
 * does; the bytes are copied to an exact-size buffer so that sanitizers
 * and valgrind see any read past them. */
static int feed(struct dt_h2_conn *c, struct pending *pd, enum dt_h2_dir dir,
		const uint8_t *data, size_t n)
{
	uint8_t *buf = malloc(pd->len + n + 1);
	size_t used = 0;
	int rc;

	assert_non_null(buf);
	if (pd->len)
		memcpy(buf, pd->buf, pd->len);
	if (n)
		memcpy(buf + pd->len, data, n);
	rc = dt_h2_conn_feed(c, dir, buf, pd->len + n, &used);
	assert_true(used <= pd->len + n);
	free(pd->buf);
	pd->len = pd->len + n - used;
	pd->buf = malloc(pd->len + 1);
	assert_non_null(pd->buf);
	if (pd->len)
		memcpy(pd->buf, buf + used, pd->len);
	free(buf);
	return rc;
}

/* A step of a conversation: bytes of one direction. */
struct step {
	enum dt_h2_dir dir;
	const uint8_t *p;
	size_t len;
};

/*
 * Feeds the steps in order; step cut_step arrives in two pieces split at
 * cut (or in one-byte pieces when bytewise). Closes the connection and
 * collects the streams.
 */
static void run(const struct dt_h2_opts *o, const struct step *steps,
		size_t nsteps, size_t cut_step, size_t cut, bool bytewise,
		struct result *r)
{
	struct pending pd[2] = { { NULL, 0 }, { NULL, 0 } };
	struct dt_h2_conn *c;
	size_t i, k;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(dt_h2_conn_new(&c, o), 0);
	for (i = 0; i < nsteps && !rc; i++) {
		const struct step *st = &steps[i];
		struct pending *p = &pd[st->dir];

		if (bytewise) {
			for (k = 0; k < st->len && !rc; k++)
				rc = feed(c, p, st->dir, st->p + k, 1);
		} else if (i == cut_step) {
			rc = feed(c, p, st->dir, st->p, cut);
			if (!rc)
				rc = feed(c, p, st->dir, st->p + cut,
					  st->len - cut);
		} else {
			rc = feed(c, p, st->dir, st->p, st->len);
		}
		drain(c, r);
	}
	r->rc = rc;
	if (!rc) {
		/* whole frames only: nothing left over at the end */
		assert_int_equal(pd[0].len, 0);
		assert_int_equal(pd[1].len, 0);
	}
	dt_h2_conn_close(c);
	drain(c, r);
	dt_h2_conn_free(c);
	free(pd[0].buf);
	free(pd[1].buf);
}

static void fields_print(FILE *f, const char *what,
			 const struct dt_h2_fields *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		fprintf(f, " %s[%s=%s]", what, fs->v[i].name, fs->v[i].value);
}

static void message_print(FILE *f, const struct dt_h2_message *m)
{
	fprintf(f, " flags=%x", m->flags);
	fields_print(f, "p", &m->pseudo);
	fields_print(f, "h", &m->headers);
	fields_print(f, "t", &m->trailers);
	fprintf(f, " body(%zu/%llu)=", m->body_len,
		(unsigned long long)m->body_wire);
	if (m->body_len)
		fwrite(m->body, 1, m->body_len, f);
}

/* Everything a run produced, as text, for comparing runs. Owned by the
 * caller (free()). */
static char *result_text(const struct result *r)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fprintf(f, "rc=%d n=%zu\n", r->rc, r->n);
	for (i = 0; i < r->n; i++) {
		fprintf(f, "stream %u flags=%x rst=%u/%u\n req", r->s[i]->id,
			r->s[i]->flags, r->s[i]->rst_error, r->s[i]->rst_by);
		message_print(f, &r->s[i]->request);
		fprintf(f, "\n resp");
		message_print(f, &r->s[i]->response);
		fputc('\n', f);
	}
	fclose(f);
	return text;
}

/* Decodes the steps whole, then with every step cut at every byte and
 * bytewise: the results must all be the same. Fills r with the whole
 * run's. */
static void run_all_splits(const struct dt_h2_opts *o,
			   const struct step *steps, size_t nsteps,
			   struct result *r)
{
	struct result other;
	char *want, *got;
	size_t i, cut;

	run(o, steps, nsteps, SIZE_MAX, 0, false, r);
	want = result_text(r);
	for (i = 0; i < nsteps; i++) {
		for (cut = 0; cut <= steps[i].len; cut++) {
			run(o, steps, nsteps, i, cut, false, &other);
			got = result_text(&other);
			assert_string_equal(got, want);
			free(got);
			result_free(&other);
		}
	}
	run(o, steps, nsteps, SIZE_MAX, 0, true, &other);
	got = result_text(&other);
	assert_string_equal(got, want);
	free(got);
	result_free(&other);
	free(want);
}

static void assert_field(const struct dt_h2_fields *fs, const char *name,
			 const char *value)
{
	const struct dt_h2_field *f = dt_h2_fields_find(fs, name);

	assert_non_null(f);
	assert_string_equal(f->value, value);
	assert_int_equal(f->value_len, strlen(value));
}

static void assert_body(const struct dt_h2_message *m, const char *want)
{
	assert_int_equal(m->body_len, strlen(want));
	assert_memory_equal(m->body, want, m->body_len);
}

static struct dt_h2_opts opts_default(void)
{
	struct dt_h2_opts o;

	dt_h2_opts_init(&o);
	return o;
}

#define STEP(d, w) { (d), (w).p, (w).len }

/* ---------------------------------------------------------------------- */
/* Frames                                                                 */
/* ---------------------------------------------------------------------- */

static void test_preface(void **state)
{
	const uint8_t *p = (const uint8_t *)DT_H2_PREFACE;
	size_t i;

	(void)state;
	assert_int_equal(dt_h2_preface_check(p, DT_H2_PREFACE_LEN), 1);
	for (i = 0; i < DT_H2_PREFACE_LEN; i++)
		assert_int_equal(dt_h2_preface_check(p, i), 0);
	assert_int_equal(dt_h2_preface_check((const uint8_t *)"GET / HTTP/1.1",
					     14), -EBADMSG);
	assert_int_equal(dt_h2_preface_check((const uint8_t *)"PRI * HTTP/1", 12),
			 -EBADMSG);
}

/* Parses w's frame from an exact-size copy. */
static ssize_t parse_exact(const struct wire *w, size_t len, uint32_t max,
			   struct dt_h2_frame *f, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, w->p, len);
	return dt_h2_frame_parse(*copy, len, max, f);
}

/* The frame in w parses to its whole size, and every prefix needs more. */
static void assert_frame_whole(const struct wire *w, struct dt_h2_frame *f,
			       uint8_t **copy)
{
	struct dt_h2_frame g;
	uint8_t *c;
	size_t i;

	for (i = 0; i < w->len; i++) {
		assert_int_equal(parse_exact(w, i, 0, &g, &c), 0);
		free(c);
	}
	assert_int_equal(parse_exact(w, w->len, 0, f, copy), (ssize_t)w->len);
}

static void test_frame_types(void **state)
{
	static const uint8_t padded_headers[] = {
		3,			/* pad length */
		0x80, 0, 0, 1, 15,	/* exclusive on stream 1, weight 16 */
		0x82, 0x86,		/* :method GET, :scheme http */
		0, 0, 0,		/* padding */
	};
	static const uint8_t promise[] = { 1, 0, 0, 0, 2, 0x82, 0 };
	static const uint8_t goaway[] = { 0, 0, 0, 7, 0, 0, 0, 2, 'h', 'i' };
	static const uint8_t rst[] = { 0, 0, 0, 8 };
	static const uint8_t wu[] = { 0x80, 0, 0x10, 0 };
	struct dt_h2_frame f;
	struct wire w = { 0 };
	uint8_t *copy;

	(void)state;
	frame_put(&w, DT_H2_HEADERS,
		  DT_H2_FLAG_PADDED | DT_H2_FLAG_PRIORITY |
		  DT_H2_FLAG_END_HEADERS, 3, padded_headers,
		  sizeof(padded_headers));
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.type, DT_H2_HEADERS);
	assert_int_equal(f.stream_id, 3);
	assert_int_equal(f.length, sizeof(padded_headers));
	assert_int_equal(f.pad_len, 3);
	assert_true(f.exclusive);
	assert_int_equal(f.dependency, 1);
	assert_int_equal(f.weight, 15);
	assert_int_equal(f.payload.len, 2);
	assert_ptr_equal(f.payload.ptr, copy + 9 + 6);
	assert_memory_equal(f.payload.ptr, "\x82\x86", 2);
	free(copy);
	wire_free(&w);

	frame_put(&w, DT_H2_PUSH_PROMISE, DT_H2_FLAG_PADDED, 1, promise,
		  sizeof(promise));
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.promised_id, 2);
	assert_int_equal(f.payload.len, 1);
	assert_int_equal(f.payload.ptr[0], 0x82);
	free(copy);
	wire_free(&w);

	frame_put(&w, DT_H2_GOAWAY, 0, 0, goaway, sizeof(goaway));
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.last_stream_id, 7);
	assert_int_equal(f.error_code, 2);
	assert_int_equal(f.payload.len, 2);
	assert_memory_equal(f.payload.ptr, "hi", 2);
	free(copy);
	wire_free(&w);

	frame_put(&w, DT_H2_RST_STREAM, 0, 5, rst, sizeof(rst));
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.error_code, 8);
	free(copy);
	wire_free(&w);

	/* the reserved bit is ignored */
	frame_put(&w, DT_H2_WINDOW_UPDATE, 0, 0, wu, sizeof(wu));
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.window_increment, 4096);
	free(copy);
	wire_free(&w);

	/* unknown types are framed with their payload */
	frame_put(&w, 0xfa, 0xff, 9, "xyz", 3);
	assert_frame_whole(&w, &f, &copy);
	assert_int_equal(f.type, 0xfa);
	assert_int_equal(f.payload.len, 3);
	assert_string_equal(dt_h2_frame_type_name(0xfa), "UNKNOWN");
	assert_string_equal(dt_h2_frame_type_name(DT_H2_CONTINUATION),
			    "CONTINUATION");
	free(copy);
	wire_free(&w);
}

struct bad_frame {
	uint8_t type, flags;
	uint32_t stream;
	const char *payload;
	size_t len;
};

static void test_frame_malformed(void **state)
{
	static const struct bad_frame bad[] = {
		{ DT_H2_DATA, 0, 0, "x", 1 },		/* no stream */
		{ DT_H2_DATA, DT_H2_FLAG_PADDED, 1, "\x02x", 2 },
		{ DT_H2_DATA, DT_H2_FLAG_PADDED, 1, "", 0 },
		{ DT_H2_HEADERS, DT_H2_FLAG_PRIORITY, 1, "\0\0\0", 3 },
		{ DT_H2_HEADERS, DT_H2_FLAG_PADDED, 1, "\x05\x82", 2 },
		{ DT_H2_PRIORITY, 0, 1, "\0\0\0\0", 4 },
		{ DT_H2_RST_STREAM, 0, 1, "\0\0\0", 3 },
		{ DT_H2_RST_STREAM, 0, 0, "\0\0\0\0", 4 },
		{ DT_H2_SETTINGS, 0, 0, "\0\0\0\0\0", 5 },
		{ DT_H2_SETTINGS, 0, 1, "", 0 },
		{ DT_H2_SETTINGS, DT_H2_FLAG_ACK, 0, "\0\1\0\0\0\0", 6 },
		{ DT_H2_PUSH_PROMISE, 0, 1, "\0\0", 2 },
		{ DT_H2_PUSH_PROMISE, 0, 1, "\0\0\0\0", 4 }, /* promised 0 */
		{ DT_H2_PING, 0, 0, "1234567", 7 },
		{ DT_H2_PING, 0, 3, "12345678", 8 },
		{ DT_H2_GOAWAY, 0, 0, "1234567", 7 },
		{ DT_H2_WINDOW_UPDATE, 0, 0, "\0\0\0", 3 },
		{ DT_H2_CONTINUATION, 0, 0, "", 0 },
	};
	struct dt_h2_frame f;
	struct wire w = { 0 };
	uint8_t *copy;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		frame_put(&w, bad[i].type, bad[i].flags, bad[i].stream,
			  bad[i].payload, bad[i].len);
		assert_int_equal(parse_exact(&w, w.len, 0, &f, &copy),
				 -EBADMSG);
		free(copy);
		wire_free(&w);
	}
}

static void test_frame_size_limit(void **state)
{
	static uint8_t big[DT_H2_DEFAULT_MAX_FRAME + 1];
	struct dt_h2_frame f;
	struct dt_h2_framer fr;
	struct wire w = { 0 };
	bool preface;
	uint8_t *copy;

	(void)state;
	frame_put(&w, DT_H2_DATA, 0, 1, big, sizeof(big));
	/* the header alone decides */
	assert_int_equal(parse_exact(&w, 9, 0, &f, &copy), -E2BIG);
	free(copy);
	assert_int_equal(parse_exact(&w, w.len, 0, &f, &copy), -E2BIG);
	free(copy);
	assert_int_equal(parse_exact(&w, w.len, 32768, &f, &copy),
			 (ssize_t)w.len);
	free(copy);
	/* a length field cannot exceed 16 MiB - 1; the limit is clamped */
	assert_int_equal(parse_exact(&w, 9, UINT32_MAX, &f, &copy), 0);
	free(copy);

	dt_h2_framer_init(&fr, false, false);
	assert_int_equal(dt_h2_framer_next(&fr, w.p, w.len, &f, &preface),
			 -E2BIG);
	assert_int_equal(dt_h2_framer_set_max_frame(&fr, 16383), -EBADMSG);
	assert_int_equal(dt_h2_framer_set_max_frame(&fr, 1u << 24), -EBADMSG);
	assert_int_equal(dt_h2_framer_set_max_frame(&fr, 20000), 0);
	assert_int_equal(dt_h2_framer_next(&fr, w.p, w.len, &f, &preface),
			 (ssize_t)w.len);
	assert_false(preface);
	/* limits never shrink: frames in flight stay valid */
	assert_int_equal(dt_h2_framer_set_max_frame(&fr, 16384), 0);
	assert_int_equal(fr.max_frame_size, 20000);

	/* joined mid-connection, any legal size goes */
	dt_h2_framer_init(&fr, true, true);
	assert_false(fr.expect_preface);
	assert_int_equal(fr.max_frame_size, DT_H2_MAX_FRAME);
	wire_free(&w);
}

static void test_framer_preface(void **state)
{
	struct dt_h2_framer fr;
	struct dt_h2_frame f;
	struct wire w = { 0 };
	bool preface;
	size_t i;

	(void)state;
	wire_put(&w, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	frame_put(&w, DT_H2_SETTINGS, 0, 0, NULL, 0);
	dt_h2_framer_init(&fr, true, false);
	for (i = 0; i < DT_H2_PREFACE_LEN; i++)
		assert_int_equal(dt_h2_framer_next(&fr, w.p, i, &f, &preface),
				 0);
	assert_int_equal(dt_h2_framer_next(&fr, w.p, w.len, &f, &preface),
			 DT_H2_PREFACE_LEN);
	assert_true(preface);
	assert_int_equal(dt_h2_framer_next(&fr, w.p + 24, w.len - 24, &f,
					   &preface), 9);
	assert_false(preface);
	assert_int_equal(f.type, DT_H2_SETTINGS);

	/* HTTP/1 is not HTTP/2 */
	dt_h2_framer_init(&fr, true, false);
	assert_int_equal(dt_h2_framer_next(&fr, (const uint8_t *)"GET / ", 6,
					   &f, &preface), -EBADMSG);
	/* the server side has none */
	dt_h2_framer_init(&fr, false, false);
	assert_int_equal(dt_h2_framer_next(&fr, w.p + 24, w.len - 24, &f,
					   &preface), 9);
	wire_free(&w);
}

static void test_resync(void **state)
{
	struct wire w = { 0 };
	nghttp2_hd_deflater *d;
	size_t start;

	(void)state;
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	/* the tail of a DATA payload, then frames */
	wire_put(&w, "\xff\xfe tail of some body bytes", 26);
	start = w.len;
	headers_put(&w, d, 5, 0, ok_resp);
	data_put(&w, 5, DT_H2_FLAG_END_STREAM, "hello");
	assert_int_equal(dt_h2_resync(w.p, w.len), start);
	assert_int_equal(dt_h2_resync(w.p + start, w.len - start), 0);
	/* a frame cut short by the end counts */
	assert_int_equal(dt_h2_resync(w.p + start, 12), 0);
	/* nothing plausible */
	assert_int_equal(dt_h2_resync((const uint8_t *)"\xff\xff\xff\xff\xff"
				      "\xff\xff\xff\xff\xff\xff", 11), 3);
	nghttp2_hd_deflate_del(d);
	wire_free(&w);
}

/* ---------------------------------------------------------------------- */
/* Streams                                                                */
/* ---------------------------------------------------------------------- */

static void test_get_every_split(void **state)
{
	struct dt_h2_opts o = opts_default();
	struct result r;
	struct conv cv;
	struct dt_h2_stream *s;

	(void)state;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.server, cv.sdef, 1, 0, ok_resp);
	data_put(&cv.server, 1, 0, "<html>");
	data_put(&cv.server, 1, DT_H2_FLAG_END_STREAM, "</html>");
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 1);
	s = r.s[0];
	assert_int_equal(s->id, 1);
	assert_int_equal(s->flags, 0);
	assert_int_equal(s->request.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS);
	assert_int_equal(s->request.pseudo.n, 4);
	assert_field(&s->request.pseudo, ":method", "GET");
	assert_field(&s->request.pseudo, ":path", "/index.html");
	assert_field(&s->request.pseudo, ":scheme", "http");
	assert_field(&s->request.pseudo, ":authority", "localhost:8080");
	assert_int_equal(s->request.headers.n, 2);
	assert_string_equal(s->request.headers.v[0].name, "user-agent");
	assert_field(&s->request.headers, "accept", "*/*");
	assert_int_equal(s->request.body_len, 0);
	assert_int_equal(dt_h2_message_status(&s->response), 200);
	assert_int_equal(dt_h2_message_status(&s->request), -1);
	assert_field(&s->response.headers, "server", "nginx");
	assert_body(&s->response, "<html></html>");
	assert_int_equal(s->response.body_wire, 13);
	assert_int_equal(s->response.trailers.n, 0);
	result_free(&r);
	conv_free(&cv);
}

/* Later blocks refer to the dynamic table the earlier ones filled. */
static void test_hpack_state_and_interleaving(void **state)
{
	static const char *const post[] = {
		":method", "POST", ":scheme", "https", ":authority", "api",
		":path", "/upload", "content-type", "application/json",
		"x-trace", "abc", NULL,
	};
	struct dt_h2_opts o = opts_default();
	struct result r;
	struct conv cv;
	size_t n1, n2;

	(void)state;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, 0, post);
	n1 = cv.client.len;
	headers_put(&cv.client, cv.cdef, 3, 0, post);
	n2 = cv.client.len - n1;
	/* the second block is mostly indices: much shorter */
	assert_true(n2 < (n1 - DT_H2_PREFACE_LEN - 18) / 2);
	data_put(&cv.client, 3, 0, "{\"b\":");
	data_put(&cv.client, 1, 0, "{\"a\":");
	data_put(&cv.client, 3, DT_H2_FLAG_END_STREAM, "2}");
	data_put(&cv.client, 1, DT_H2_FLAG_END_STREAM, "1}");
	/* stream 3 answered first, and its response headers go first */
	headers_put(&cv.server, cv.sdef, 3, 0, ok_resp);
	headers_put(&cv.server, cv.sdef, 1, 0, ok_resp);
	data_put(&cv.server, 3, DT_H2_FLAG_END_STREAM, "three");
	data_put(&cv.server, 1, DT_H2_FLAG_END_STREAM, "one");
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.s[0]->id, 3);
	assert_int_equal(r.s[1]->id, 1);
	assert_field(&r.s[0]->request.headers, "x-trace", "abc");
	assert_field(&r.s[0]->request.pseudo, ":path", "/upload");
	assert_body(&r.s[0]->request, "{\"b\":2}");
	assert_body(&r.s[1]->request, "{\"a\":1}");
	assert_body(&r.s[0]->response, "three");
	assert_body(&r.s[1]->response, "one");
	assert_field(&r.s[1]->response.headers, "content-type", "text/html");
	result_free(&r);
	conv_free(&cv);
}

/* A block across HEADERS (padded, with priority) and two CONTINUATIONs,
 * 100-continue dropped, trailers kept. */
static void test_continuation_interim_trailers(void **state)
{
	static const char *const cont[] = { ":status", "100", NULL };
	static const char *const trailers[] = {
		"grpc-status", "0", "grpc-message", "", NULL,
	};
	struct dt_h2_opts o = opts_default();
	uint8_t block[1024], first[64];
	struct result r;
	struct conv cv;
	size_t n;

	(void)state;
	conv_init(&cv, true);
	n = hpack_encode(cv.cdef, get_req, block, sizeof(block));
	assert_true(n > 6);
	first[0] = 2;				/* pad length */
	memcpy(first + 1, "\0\0\0\0\x20", 5);	/* priority */
	memcpy(first + 6, block, 3);
	memset(first + 9, 0, 2);
	frame_put(&cv.client, DT_H2_HEADERS,
		  DT_H2_FLAG_PADDED | DT_H2_FLAG_PRIORITY |
		  DT_H2_FLAG_END_STREAM, 1, first, 11);
	frame_put(&cv.client, DT_H2_CONTINUATION, 0, 1, block + 3, 2);
	frame_put(&cv.client, DT_H2_CONTINUATION, DT_H2_FLAG_END_HEADERS, 1,
		  block + 5, n - 5);
	headers_put(&cv.server, cv.sdef, 1, 0, cont);
	headers_put(&cv.server, cv.sdef, 1, 0, ok_resp);
	data_put(&cv.server, 1, 0, "body");
	headers_put(&cv.server, cv.sdef, 1, DT_H2_FLAG_END_STREAM, trailers);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 1);
	assert_field(&r.s[0]->request.pseudo, ":path", "/index.html");
	assert_int_equal(r.s[0]->request.headers.n, 2);
	assert_int_equal(dt_h2_message_status(&r.s[0]->response), 200);
	assert_int_equal(r.s[0]->response.pseudo.n, 1);
	assert_body(&r.s[0]->response, "body");
	assert_int_equal(r.s[0]->response.trailers.n, 2);
	assert_field(&r.s[0]->response.trailers, "grpc-status", "0");
	assert_int_equal(r.s[0]->response.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS |
			 DT_H2_MSG_TRAILERS);
	result_free(&r);
	conv_free(&cv);
}

static void test_reset_and_goaway(void **state)
{
	static const uint8_t cancel[] = { 0, 0, 0, 8 };
	static const uint8_t goaway[] = { 0, 0, 0, 3, 0, 0, 0, 0 };
	struct dt_h2_opts o = opts_default();
	struct dt_h2_conn *c;
	struct dt_h2_stream *s;
	struct conv cv;
	size_t used;

	(void)state;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, 0, get_req);
	headers_put(&cv.client, cv.cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	frame_put(&cv.client, DT_H2_RST_STREAM, 0, 1, cancel, 4);
	/* frames for a stream that is gone are dropped */
	data_put(&cv.client, 1, DT_H2_FLAG_END_STREAM, "late");
	frame_put(&cv.client, DT_H2_GOAWAY, 0, 0, goaway, 8);

	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_goaway(c), -1);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT, cv.client.p,
					 cv.client.len, &used), 0);
	assert_int_equal(used, cv.client.len);
	assert_int_equal(dt_h2_conn_goaway(c), 0);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 1);
	assert_int_equal(s->flags, DT_H2_STREAM_RESET);
	assert_int_equal(s->rst_error, 8);
	assert_int_equal(s->rst_by, DT_H2_CLIENT);
	assert_int_equal(s->request.body_len, 0);
	dt_h2_stream_free(s);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 0);
	/* the connection ends before stream 3 is answered */
	dt_h2_conn_close(c);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 1);
	assert_int_equal(s->id, 3);
	assert_int_equal(s->flags, DT_H2_STREAM_INCOMPLETE);
	assert_int_equal(s->request.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS);
	assert_int_equal(s->response.flags, 0);
	dt_h2_stream_free(s);
	assert_int_equal(dt_h2_conn_next_stream(c, &s), 0);
	dt_h2_conn_free(c);
	conv_free(&cv);
}

static void test_body_cap_and_padding(void **state)
{
	static const char *const upload[] = {
		":method", "PUT", ":scheme", "http", ":path", "/f", NULL,
	};
	struct dt_h2_opts o = opts_default();
	uint8_t padded[32];
	struct result r;
	struct conv cv;

	(void)state;
	o.max_body = 10;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, 0, upload);
	padded[0] = 4;
	memcpy(padded + 1, "0123456", 7);
	memset(padded + 8, 0, 4);
	frame_put(&cv.client, DT_H2_DATA, DT_H2_FLAG_PADDED, 1, padded, 12);
	data_put(&cv.client, 1, DT_H2_FLAG_END_STREAM, "789abcdef");
	headers_put(&cv.server, cv.sdef, 1, DT_H2_FLAG_END_STREAM, ok_resp);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.n, 1);
	assert_body(&r.s[0]->request, "0123456789");
	assert_int_equal(r.s[0]->request.body_wire, 16);
	assert_true(r.s[0]->request.flags & DT_H2_MSG_BODY_TRUNCATED);
	assert_int_equal(r.s[0]->response.body_len, 0);
	assert_int_equal(r.s[0]->flags, 0);
	result_free(&r);
	conv_free(&cv);
}

static void test_field_cap(void **state)
{
	static const char *const big[] = {
		":method", "GET", ":scheme", "http", ":path", "/",
		"x-a", "0123456789", "x-b", "0123456789", NULL,
	};
	struct dt_h2_opts o = opts_default();
	struct result r;
	struct conv cv;

	(void)state;
	o.max_fields = 170;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, DT_H2_FLAG_END_STREAM, big);
	/* the same block again: the inflater keeps decoding the dropped
	 * fields, so its table stays right */
	headers_put(&cv.client, cv.cdef, 3, DT_H2_FLAG_END_STREAM, big);
	/* repeated trailer blocks share one budget */
	headers_put(&cv.client, cv.cdef, 5, 0, big + 6);
	headers_put(&cv.client, cv.cdef, 5, 0, big + 6);
	headers_put(&cv.client, cv.cdef, 5, 0, big + 6);
	headers_put(&cv.client, cv.cdef, 5, DT_H2_FLAG_END_STREAM, big + 6);
	{
		struct step steps[] = { STEP(DT_H2_CLIENT, cv.client) };

		run(&o, steps, 1, SIZE_MAX, 0, false, &r);
	}
	assert_int_equal(r.n, 3);
	assert_int_equal(r.s[2]->id, 5);
	assert_int_equal(r.s[2]->request.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS |
			 DT_H2_MSG_TRAILERS | DT_H2_MSG_FIELDS_TRUNCATED);
	assert_int_equal(r.s[2]->request.headers.n, 2);
	assert_int_equal(r.s[2]->request.trailers.n, 2);
	assert_int_equal(r.s[2]->request.trailers.bytes, 2 * (13 + 32));
	assert_int_equal(r.s[1]->id, 3);
	assert_true(r.s[1]->request.flags & DT_H2_MSG_FIELDS_TRUNCATED);
	/* 7+3 + 7+4 + 5+1 + 3+10 + 4 * 32 = 168 bytes fit, x-b does not */
	assert_int_equal(r.s[1]->request.pseudo.n, 3);
	assert_int_equal(r.s[1]->request.headers.n, 1);
	assert_field(&r.s[1]->request.headers, "x-a", "0123456789");
	assert_null(dt_h2_fields_find(&r.s[1]->request.headers, "x-b"));
	result_free(&r);
	conv_free(&cv);
}

static void test_push_promise(void **state)
{
	static const char *const pushed[] = {
		":method", "GET", ":scheme", "http", ":authority",
		"localhost:8080", ":path", "/style.css", NULL,
	};
	struct dt_h2_opts o = opts_default();
	uint8_t payload[512];
	struct result r;
	struct conv cv;
	size_t n;

	(void)state;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	memcpy(payload, "\0\0\0\2", 4);
	n = hpack_encode(cv.sdef, pushed, payload + 4, sizeof(payload) - 4);
	frame_put(&cv.server, DT_H2_PUSH_PROMISE, DT_H2_FLAG_END_HEADERS, 1,
		  payload, n + 4);
	/* fuzzing found a repeated promise piling up fields: dropped */
	n = hpack_encode(cv.sdef, get_req, payload + 4, sizeof(payload) - 4);
	frame_put(&cv.server, DT_H2_PUSH_PROMISE, DT_H2_FLAG_END_HEADERS, 1,
		  payload, n + 4);
	headers_put(&cv.server, cv.sdef, 1, 0, ok_resp);
	headers_put(&cv.server, cv.sdef, 2, 0, ok_resp);
	data_put(&cv.server, 2, DT_H2_FLAG_END_STREAM, "body{}");
	data_put(&cv.server, 1, DT_H2_FLAG_END_STREAM, "<html>");
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.s[0]->id, 2);
	assert_int_equal(r.s[0]->flags, DT_H2_STREAM_PUSHED);
	assert_field(&r.s[0]->request.pseudo, ":path", "/style.css");
	assert_int_equal(r.s[0]->request.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS);
	assert_int_equal(r.s[0]->request.headers.n, 0);
	assert_int_equal(r.s[0]->request.trailers.n, 0);
	assert_body(&r.s[0]->response, "body{}");
	assert_int_equal(r.s[1]->id, 1);
	assert_body(&r.s[1]->response, "<html>");
	result_free(&r);
	conv_free(&cv);
}

static void test_max_streams_evicts_oldest(void **state)
{
	struct dt_h2_opts o = opts_default();
	struct result r;
	struct conv cv;

	(void)state;
	o.max_streams = 2;
	conv_init(&cv, true);
	headers_put(&cv.client, cv.cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.client, cv.cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.client, cv.cdef, 5, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.server, cv.sdef, 1, DT_H2_FLAG_END_STREAM, ok_resp);
	headers_put(&cv.server, cv.sdef, 5, DT_H2_FLAG_END_STREAM, ok_resp);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.n, 3);
	/* 1 evicted by 5; its response later is dropped, not a new stream */
	assert_int_equal(r.s[0]->id, 1);
	assert_int_equal(r.s[0]->flags, DT_H2_STREAM_INCOMPLETE);
	assert_int_equal(r.s[0]->response.flags, 0);
	assert_int_equal(r.s[1]->id, 5);
	assert_int_equal(r.s[1]->flags, 0);
	assert_int_equal(r.s[2]->id, 3);
	assert_int_equal(r.s[2]->flags, DT_H2_STREAM_INCOMPLETE);
	result_free(&r);
	conv_free(&cv);
}

/*
 * Joining mid-connection: the server's table holds an entry added before
 * the join. The block using it is undecodable; the blocks after it decode,
 * including one that refers to an entry added after the join.
 */
static void test_midstream_hpack(void **state)
{
	static const char *const known[] = {
		":status", "200", "x-before", "join", NULL,
	};
	static const char *const fresh[] = {
		":status", "404", "x-after", "join", NULL,
	};
	struct dt_h2_opts o = opts_default();
	struct wire skipped = { 0 };
	struct result r;
	struct conv cv;

	(void)state;
	o.midstream = true;
	conv_init(&cv, false);
	headers_put(&skipped, cv.sdef, 1, DT_H2_FLAG_END_STREAM, known);
	/* recording starts here: requests 3, 5, 7 in flight, some bytes of
	 * the client's stream 3 body still to come */
	data_put(&cv.client, 3, DT_H2_FLAG_END_STREAM, "tail");
	headers_put(&cv.server, cv.sdef, 3, DT_H2_FLAG_END_STREAM, known);
	headers_put(&cv.server, cv.sdef, 5, DT_H2_FLAG_END_STREAM, fresh);
	headers_put(&cv.server, cv.sdef, 7, DT_H2_FLAG_END_STREAM, fresh);
	headers_put(&cv.client, cv.cdef, 9, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.server, cv.sdef, 9, DT_H2_FLAG_END_STREAM, known);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 4);
	/* 3: request body tail, response undecodable */
	assert_int_equal(r.s[0]->id, 3);
	assert_int_equal(r.s[0]->flags, DT_H2_STREAM_MIDSTREAM);
	assert_body(&r.s[0]->request, "tail");
	assert_true(r.s[0]->response.flags & DT_H2_MSG_UNDECODABLE);
	/* 9: x-before is still unknown; the request was seen whole */
	assert_int_equal(r.s[1]->id, 9);
	assert_int_equal(r.s[1]->flags, 0);
	assert_true(r.s[1]->response.flags & DT_H2_MSG_UNDECODABLE);
	assert_field(&r.s[1]->request.pseudo, ":path", "/index.html");
	/* 5 adds x-after to the fresh inflater, 7 refers to it; their
	 * requests were sent before the join */
	assert_int_equal(r.s[2]->id, 5);
	assert_int_equal(r.s[2]->flags,
			 DT_H2_STREAM_MIDSTREAM | DT_H2_STREAM_INCOMPLETE);
	assert_false(r.s[2]->response.flags & DT_H2_MSG_UNDECODABLE);
	assert_field(&r.s[2]->response.headers, "x-after", "join");
	assert_int_equal(r.s[3]->id, 7);
	assert_false(r.s[3]->response.flags & DT_H2_MSG_UNDECODABLE);
	assert_field(&r.s[3]->response.headers, "x-after", "join");
	assert_int_equal(dt_h2_message_status(&r.s[3]->response), 404);
	result_free(&r);
	wire_free(&skipped);
	conv_free(&cv);
}

#define MANY 60

/*
 * Settings bound the other side: a larger frame, and a header table of
 * 8 KiB that the server's encoder fills past the default 4 KiB and then
 * refers back to.
 */
static void test_settings_apply_to_peer(void **state)
{
	static char body[20001], names[MANY][8], values[MANY][64];
	const char *kv[2 * MANY + 3];
	struct dt_h2_opts o = opts_default();
	nghttp2_hd_deflater *big;
	struct result r;
	struct conv cv;
	int i;

	(void)state;
	memset(body, 'z', sizeof(body) - 1);
	kv[0] = ":status";
	kv[1] = "200";
	for (i = 0; i < MANY; i++) {
		snprintf(names[i], sizeof(names[i]), "x-%02d", i);
		memset(values[i], 'a' + i % 26, 60);
		kv[2 + 2 * i] = names[i];
		kv[3 + 2 * i] = values[i];
	}
	kv[2 + 2 * MANY] = NULL;
	conv_init(&cv, false);
	assert_int_equal(nghttp2_hd_deflate_new(&big, 16384), 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(big, 8192), 0);
	wire_put(&cv.client, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
	settings_put(&cv.client, DT_H2_SETTINGS_MAX_FRAME_SIZE, 32768);
	settings_put(&cv.client, DT_H2_SETTINGS_HEADER_TABLE_SIZE, 8192);
	headers_put(&cv.client, cv.cdef, 1, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.server, big, 1, 0, kv);
	data_put(&cv.server, 1, 0, body);
	/* the trailers are all references to the first block's entries */
	headers_put(&cv.server, big, 1, DT_H2_FLAG_END_STREAM, kv + 2);
	assert_true(cv.server.len < 20000 + 2 * 9 + MANY * 64 + 3 * MANY);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run(&o, steps, 2, SIZE_MAX, 0, false, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.s[0]->response.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS |
			 DT_H2_MSG_TRAILERS);
	assert_int_equal(r.s[0]->response.headers.n, MANY);
	assert_int_equal(r.s[0]->response.trailers.n, MANY);
	assert_field(&r.s[0]->response.trailers, "x-00", values[0]);
	assert_field(&r.s[0]->response.trailers, "x-59", values[59]);
	assert_int_equal(r.s[0]->response.body_len, 20000);
	result_free(&r);

	/* without the settings: the table size update is refused (the block
	 * is undecodable), then the frame is too large */
	{
		struct step steps[] = { STEP(DT_H2_SERVER, cv.server) };

		run(&o, steps, 1, SIZE_MAX, 0, false, &r);
	}
	assert_int_equal(r.rc, -E2BIG);
	assert_int_equal(r.n, 1);
	assert_true(r.s[0]->response.flags & DT_H2_MSG_UNDECODABLE);
	assert_int_equal(r.s[0]->flags, DT_H2_STREAM_INCOMPLETE);
	result_free(&r);
	nghttp2_hd_deflate_del(big);
	conv_free(&cv);
}

static void test_connection_errors(void **state)
{
	struct dt_h2_opts o = opts_default();
	struct dt_h2_conn *c;
	struct wire w = { 0 };
	size_t used;

	(void)state;
	/* HTTP/1 from the client */
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT,
					 (const uint8_t *)"GET / HTTP/1.1\r\n",
					 16, &used), -EBADMSG);
	assert_int_equal(used, 0);
	/* sticky, for both directions */
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, NULL, 0, &used),
			 -EBADMSG);
	assert_int_equal(dt_h2_conn_feed(c, 7, NULL, 0, &used), -EBADMSG);
	dt_h2_conn_free(c);

	/* CONTINUATION out of a block; frames inside one */
	frame_put(&w, DT_H2_CONTINUATION, DT_H2_FLAG_END_HEADERS, 1, "\x82", 1);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, w.p, w.len, &used),
			 -EBADMSG);
	dt_h2_conn_free(c);
	wire_free(&w);
	frame_put(&w, DT_H2_HEADERS, 0, 1, "\x88", 1);
	frame_put(&w, DT_H2_DATA, 0, 1, "x", 1);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, w.p, w.len, &used),
			 -EBADMSG);
	assert_int_equal(used, 10);
	dt_h2_conn_close(c);
	dt_h2_conn_free(c);
	wire_free(&w);
	/* CONTINUATION of another stream */
	frame_put(&w, DT_H2_HEADERS, 0, 1, "\x88", 1);
	frame_put(&w, DT_H2_CONTINUATION, DT_H2_FLAG_END_HEADERS, 3, "", 0);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, w.p, w.len, &used),
			 -EBADMSG);
	dt_h2_conn_free(c);
	wire_free(&w);
	/* a push from the client; an invalid SETTINGS_MAX_FRAME_SIZE */
	frame_put(&w, DT_H2_PUSH_PROMISE, DT_H2_FLAG_END_HEADERS, 1,
		  "\0\0\0\2\x82", 5);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT,
					 (const uint8_t *)DT_H2_PREFACE,
					 DT_H2_PREFACE_LEN, &used), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_CLIENT, w.p, w.len, &used),
			 -EBADMSG);
	dt_h2_conn_free(c);
	wire_free(&w);
	settings_put(&w, DT_H2_SETTINGS_MAX_FRAME_SIZE, 100);
	assert_int_equal(dt_h2_conn_new(&c, &o), 0);
	assert_int_equal(dt_h2_conn_feed(c, DT_H2_SERVER, w.p, w.len, &used),
			 -EBADMSG);
	dt_h2_conn_free(c);
	wire_free(&w);
}

/* A header block that is not HPACK at all fails its message only. */
static void test_garbage_block_is_undecodable(void **state)
{
	struct dt_h2_opts o = opts_default();
	struct result r;
	struct conv cv;

	(void)state;
	conv_init(&cv, true);
	/* index 0 is not valid HPACK */
	frame_put(&cv.client, DT_H2_HEADERS,
		  DT_H2_FLAG_END_HEADERS | DT_H2_FLAG_END_STREAM, 1, "\x80", 1);
	headers_put(&cv.client, cv.cdef, 3, DT_H2_FLAG_END_STREAM, get_req);
	headers_put(&cv.server, cv.sdef, 1, DT_H2_FLAG_END_STREAM, ok_resp);
	headers_put(&cv.server, cv.sdef, 3, DT_H2_FLAG_END_STREAM, ok_resp);
	{
		struct step steps[] = {
			STEP(DT_H2_CLIENT, cv.client),
			STEP(DT_H2_SERVER, cv.server),
		};

		run_all_splits(&o, steps, 2, &r);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.s[0]->request.flags,
			 DT_H2_MSG_END_STREAM | DT_H2_MSG_HEADERS |
			 DT_H2_MSG_UNDECODABLE);
	assert_int_equal(r.s[0]->request.pseudo.n, 0);
	assert_int_equal(dt_h2_message_status(&r.s[0]->response), 200);
	/* the next block decodes with a fresh table */
	assert_false(r.s[1]->request.flags & DT_H2_MSG_UNDECODABLE);
	assert_field(&r.s[1]->request.pseudo, ":method", "GET");
	result_free(&r);
	conv_free(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preface),
		cmocka_unit_test(test_frame_types),
		cmocka_unit_test(test_frame_malformed),
		cmocka_unit_test(test_frame_size_limit),
		cmocka_unit_test(test_framer_preface),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_get_every_split),
		cmocka_unit_test(test_hpack_state_and_interleaving),
		cmocka_unit_test(test_continuation_interim_trailers),
		cmocka_unit_test(test_reset_and_goaway),
		cmocka_unit_test(test_body_cap_and_padding),
		cmocka_unit_test(test_field_cap),
		cmocka_unit_test(test_push_promise),
		cmocka_unit_test(test_max_streams_evicts_oldest),
		cmocka_unit_test(test_midstream_hpack),
		cmocka_unit_test(test_settings_apply_to_peer),
		cmocka_unit_test(test_connection_errors),
		cmocka_unit_test(test_garbage_block_is_undecodable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
