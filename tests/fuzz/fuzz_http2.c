// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the HTTP/2 codec (frames, HPACK through nghttp2,
 * streams) and the gRPC helpers over what it decodes.
 *
 * Input: byte 0 holds options (bit 0 midstream, bits 1-2 the stream
 * limit, bit 3 small body and field caps), byte 1 seeds the sizes of the
 * pieces bytes arrive in; then chunks, each a byte (bit 0 the direction,
 * the rest its length) and that many bytes. The chunks are fed to one
 * connection whole and to another in pieces, as the recorder would get
 * them: splitting must never change a result. Every raw direction goes
 * through the frame parser and resync as well.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_INPUT (64 * 1024)

/* One direction's bytes received and not consumed yet. */
struct pending {
	uint8_t buf[MAX_INPUT];
	size_t len;
};

struct side_run {
	struct dt_h2_conn *conn;
	struct pending pd[2];
	uint64_t hash;		/* of the streams finished, in order */
	size_t streams;
	int rc;
};

static uint32_t rng_next(uint32_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 17;
	*rng ^= *rng << 5;
	return *rng;
}

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull;
}

static void hash_fields(uint64_t *h, const struct dt_h2_fields *fs)
{
	size_t i, bytes = 0;

	hash_bytes(h, &fs->n, sizeof(fs->n));
	for (i = 0; i < fs->n; i++) {
		CHECK(fs->v[i].name[fs->v[i].name_len] == '\0');
		CHECK(fs->v[i].value[fs->v[i].value_len] == '\0');
		hash_bytes(h, fs->v[i].name, fs->v[i].name_len + 1);
		hash_bytes(h, fs->v[i].value, fs->v[i].value_len + 1);
		bytes += fs->v[i].name_len + fs->v[i].value_len +
			 DT_H2_FIELD_OVERHEAD;
	}
	CHECK(bytes == fs->bytes);
}

/* The gRPC helpers over a message: never fail unexpectedly. */
static void grpc_check(const struct dt_h2_message *m)
{
	const struct dt_h2_field *path = dt_h2_fields_find(&m->pseudo, ":path");
	struct dt_grpc_message gm;
	struct dt_slice svc, method;
	char text[DT_GRPC_MESSAGE_MAX];
	size_t off = 0;
	ssize_t n;
	json_t *j;
	int code, rc;

	if (path && !dt_grpc_parse_path(path->value, &svc, &method))
		CHECK(svc.len > 0 && method.len > 0);
	rc = dt_grpc_status(m, &code, text, sizeof(text));
	CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
	if (rc == 0)
		CHECK(code >= 0 && code <= 99 && strlen(text) < sizeof(text));
	dt_grpc_is_grpc(m);
	while (off < m->body_len) {
		n = dt_grpc_message_next(m->body + off, m->body_len - off, 0,
					 &gm);
		if (n <= 0)
			break;
		CHECK((size_t)n == DT_GRPC_PREFIX_LEN + gm.length);
		if (!gm.compressed && dt_pb_decode(gm.data.ptr, gm.data.len, 8,
						   &j) == 0)
			json_decref(j);
		off += (size_t)n;
	}
}

static void message_hash(uint64_t *h, const struct dt_h2_message *m,
			 const struct dt_h2_opts *o)
{
	CHECK(m->body_len <= o->max_body && m->body_len <= m->body_wire);
	CHECK(m->pseudo.bytes <= o->max_fields &&
	      m->headers.bytes <= o->max_fields &&
	      m->trailers.bytes <= o->max_fields);
	hash_bytes(h, &m->flags, sizeof(m->flags));
	hash_fields(h, &m->pseudo);
	hash_fields(h, &m->headers);
	hash_fields(h, &m->trailers);
	hash_bytes(h, &m->body_wire, sizeof(m->body_wire));
	hash_bytes(h, &m->body_len, sizeof(m->body_len));
	if (m->body_len)
		hash_bytes(h, m->body, m->body_len);
	grpc_check(m);
}

static void drain(struct side_run *r, const struct dt_h2_opts *o)
{
	struct dt_h2_stream *s;

	while (dt_h2_conn_next_stream(r->conn, &s) == 1) {
		CHECK(s->id != 0 && s->next == NULL);
		hash_bytes(&r->hash, &s->id, sizeof(s->id));
		hash_bytes(&r->hash, &s->flags, sizeof(s->flags));
		hash_bytes(&r->hash, &s->rst_error, sizeof(s->rst_error));
		message_hash(&r->hash, &s->request, o);
		message_hash(&r->hash, &s->response, o);
		r->streams++;
		dt_h2_stream_free(s);
	}
}

static void feed(struct side_run *r, int dir, const uint8_t *p, size_t n)
{
	struct pending *pd = &r->pd[dir];
	size_t used;
	int rc;

	if (r->rc)
		return;
	memcpy(pd->buf + pd->len, p, n);
	pd->len += n;
	rc = dt_h2_conn_feed(r->conn, dir, pd->buf, pd->len, &used);
	CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
	CHECK(used <= pd->len);
	memmove(pd->buf, pd->buf + used, pd->len - used);
	pd->len -= used;
	r->rc = rc;
}

/* The frame parser over one direction's raw bytes, and resync. */
static void frames_check(const uint8_t *p, size_t len)
{
	struct dt_h2_frame f;
	size_t off = 0, r;
	ssize_t n;

	r = dt_h2_resync(p, len);
	CHECK(r <= len);
	if (r < len)
		CHECK(dt_h2_resync(p + r, len - r) == 0);
	while (off < len) {
		n = dt_h2_frame_parse(p + off, len - off, DT_H2_MAX_FRAME, &f);
		CHECK(n <= (ssize_t)(len - off));
		if (n <= 0)
			break;
		CHECK(f.payload.len <= f.length);
		CHECK(f.payload.len == 0 ||
		      (f.payload.ptr >= p + off + DT_H2_FRAME_HEADER_LEN &&
		       f.payload.ptr + f.payload.len <= p + off + n));
		off += (size_t)n;
	}
}

static void run_init(struct side_run *r, const struct dt_h2_opts *o)
{
	r->pd[0].len = r->pd[1].len = 0;
	r->hash = 0xcbf29ce484222325ull;
	r->streams = 0;
	r->rc = 0;
	CHECK(dt_h2_conn_new(&r->conn, o) == 0);
}

/* static: the pending buffers are large */
static struct side_run whole, pieces;
static uint8_t raw[2][MAX_INPUT];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 1, 2, 4, 256 };
	struct dt_h2_opts o;
	size_t off, n, k, step, rawlen[2] = { 0, 0 };
	uint32_t rng;
	int dir;

	if (size < 2 || size > MAX_INPUT)
		return 0;
	dt_h2_opts_init(&o);
	o.midstream = data[0] & 1;
	o.max_streams = limits[(data[0] >> 1) & 3];
	if (data[0] & 8) {
		o.max_body = 64;
		o.max_fields = 64;
	}
	rng = 0x9e3779b9u ^ data[1];
	run_init(&whole, &o);
	run_init(&pieces, &o);

	for (off = 2; off < size; off += n) {
		dir = data[off] & 1;
		n = data[off] >> 1;
		off++;
		if (n > size - off)
			n = size - off;
		memcpy(raw[dir] + rawlen[dir], data + off, n);
		rawlen[dir] += n;
		feed(&whole, dir, data + off, n);
		for (k = 0; k < n; k += step) {
			step = 1 + rng_next(&rng) % 16;
			if (step > n - k)
				step = n - k;
			feed(&pieces, dir, data + off + k, step);
		}
		drain(&whole, &o);
		drain(&pieces, &o);
		CHECK(whole.rc == pieces.rc);
		CHECK(whole.hash == pieces.hash);
	}
	dt_h2_conn_close(whole.conn);
	dt_h2_conn_close(pieces.conn);
	drain(&whole, &o);
	drain(&pieces, &o);
	CHECK(whole.hash == pieces.hash && whole.streams == pieces.streams);
	dt_h2_conn_free(whole.conn);
	dt_h2_conn_free(pieces.conn);

	frames_check(raw[0], rawlen[0]);
	frames_check(raw[1], rawlen[1]);
	return 0;
}
