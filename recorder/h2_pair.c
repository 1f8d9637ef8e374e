// SPDX-License-Identifier: MIT
/*
 * HTTP/2 (and so gRPC) decoding: both directions of a connection go
 * through one formats codec, which pairs request and response by stream
 * id; each stream that finishes becomes an exchange (h2_exchange.c).
 *
 * The codec has no clock: each direction is fed as soon as its bytes
 * arrive, with the time of the newest capture, so that a frame is stamped
 * with the time its last byte was read. HPACK state cannot survive lost
 * bytes: a gap or a codec error ends the streams in flight (flagged) and
 * starts a fresh codec as on a joined connection, whose directions look
 * for a frame boundary again where bytes were lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/recorder_int.h"

/* Body bytes kept per message: the assembler's default message bound. */
#define H2_MAX_BODY (64u << 20)
/* Bytes a joined connection is searched for frames before giving up. */
#define H2_DETECT_PROBE 65536

struct h2_conn {
	struct dt_h2_conn *codec;	/* NULL until bytes come */
	bool joined;			/* the codec starts mid-connection */
	bool sync[2];			/* by DT_DIR_*: at a frame boundary */
	bool started;
};

static void *h2_conn_new(void)
{
	return calloc(1, sizeof(struct h2_conn));
}

static void h2_conn_free(void *state)
{
	struct h2_conn *h = state;

	if (!h)
		return;
	dt_h2_conn_free(h->codec);
	free(h);
}

static size_t h2_held(const void *state)
{
	const struct h2_conn *h = state;

	return h->codec ? dt_h2_conn_held(h->codec) : 0;
}

static int codec_start(struct h2_conn *h)
{
	struct dt_h2_opts opts;

	dt_h2_opts_init(&opts);
	opts.midstream = h->joined;
	opts.max_body = H2_MAX_BODY;
	return dt_h2_conn_new(&h->codec, &opts);
}

/* Emits the streams the codec finished, with flags added (a codec error
 * passes DT_XF_MALFORMED here, counted once by its caller). */
static int emit_finished(struct dt_assembler *a, struct dt_conn *c,
			 uint32_t flags)
{
	struct h2_conn *h = c->state;
	struct dt_h2_stream *s;
	struct dt_exchange x;
	int ret = 0;

	while (!ret && dt_h2_conn_next_stream(h->codec, &s) == 1) {
		ret = dt_h2_stream_to_exchange(s, h->joined, &x);
		dt_h2_stream_free(s);
		if (ret)
			break;
		if (x.flags & DT_XF_MALFORMED)
			dt_assembler_count_malformed(a);
		x.flags |= flags;
		ret = dt_assembler_emit(a, c, &x);
	}
	return ret;
}

/* Ends every stream in flight (flags added) and drops the codec: the next
 * bytes start a fresh one that joins mid-connection. */
static int codec_restart(struct dt_assembler *a, struct dt_conn *c,
			 uint32_t flags)
{
	struct h2_conn *h = c->state;
	int ret;

	if (!h->codec)
		return 0;
	dt_h2_conn_close(h->codec);
	ret = emit_finished(a, c, flags);
	dt_h2_conn_free(h->codec);
	h->codec = NULL;
	h->joined = true;
	return ret;
}

/* The HTTP/1 request is stream 1; the bytes after it and after the 101
 * start at frame boundaries (the client's with the preface). */
static int upgraded_state(struct h2_conn **out, const uint8_t *req,
			  size_t req_len, uint64_t ts)
{
	struct h2_conn *h = h2_conn_new();
	int ret;

	if (!h)
		return -ENOMEM;
	h->started = true;
	h->sync[0] = h->sync[1] = true;
	ret = codec_start(h);
	if (!ret) {
		dt_h2_conn_set_time(h->codec, ts);
		ret = dt_h2_conn_upgrade(h->codec, req, req_len);
	}
	if (ret) {
		h2_conn_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

/* The request's head and the 101's, parsed: whether they agree on h2c. */
static int upgrade_agreed(const uint8_t *req, size_t req_len,
			  const uint8_t *resp, size_t resp_len)
{
	struct dt_http1_head *heads = malloc(2 * sizeof(*heads));
	bool agreed;

	if (!heads)
		return -ENOMEM;
	agreed = dt_http1_parse_head(req, req_len, true, 0, &heads[0]) > 0 &&
		 dt_http1_parse_head(resp, resp_len, false, 0, &heads[1]) > 0 &&
		 dt_h2c_upgrade_agreed(&heads[0], &heads[1]);
	free(heads);
	return agreed;
}

int dt_h2_upgrade_state(void **state, const uint8_t *req, size_t req_len,
			const uint8_t *resp, size_t resp_len, uint64_t ts)
{
	struct h2_conn *h;
	int ret = upgrade_agreed(req, req_len, resp, resp_len);

	if (ret <= 0)
		return ret;
	ret = upgraded_state(&h, req, req_len, ts);
	/* a request HTTP/2 cannot take (chunked, bad HTTP2-Settings) stays
	 * with HTTP/1 */
	if (ret == -EBADMSG)
		return 0;
	if (ret)
		return ret;
	*state = h;
	return 1;
}

/* Brings dir's bytes to a frame boundary; false while none is found. */
static bool dir_sync(struct h2_conn *h, struct dt_stream *s, int dir)
{
	if (h->sync[dir])
		return true;
	dt_stream_consume(s, dt_h2_resync(s->buf, s->len), NULL, NULL);
	h->sync[dir] = s->len > 0;
	return h->sync[dir];
}

/* Feeds the whole frames buffered in direction dir. */
static int dir_feed(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	struct h2_conn *h = c->state;
	struct dt_stream *s = &c->s[dir];
	enum dt_h2_dir hd = dir == c->req_dir ? DT_H2_CLIENT : DT_H2_SERVER;
	size_t used;
	int ret;

	if (!s->len || !dir_sync(h, s, dir))
		return 0;
	if (!h->codec && (ret = codec_start(h)))
		return ret;
	dt_h2_conn_set_time(h->codec,
			    dt_stream_time_at(s, s->base + s->len - 1));
	ret = dt_h2_conn_feed(h->codec, hd, s->buf, s->len, &used);
	dt_stream_consume(s, used, NULL, NULL);
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		/* not HTTP/2 from here: skip past the bad frame's start */
		dt_assembler_count_malformed(a);
		dt_stream_consume(s, 1, NULL, NULL);
		h->sync[dir] = false;
		return codec_restart(a, c, DT_XF_MALFORMED | DT_XF_INCOMPLETE);
	}
	return emit_finished(a, c, 0);
}

static int h2_on_data(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	struct h2_conn *h = c->state;
	int ret;

	if (!h->started) {
		h->started = true;
		h->joined = c->resync_start;
		h->sync[0] = h->sync[1] = !c->resync_start;
		/* both sides may hold bytes from before the detection */
		ret = dir_feed(a, c, c->req_dir);
		return ret ? ret : dir_feed(a, c, !c->req_dir);
	}
	return dir_feed(a, c, dir);
}

/* Lost bytes break HPACK: the streams in flight end here. */
static int h2_on_gap(struct dt_assembler *a, struct dt_conn *c, int dir,
		     uint64_t n, uint32_t why)
{
	struct h2_conn *h = c->state;

	(void)n;
	if (!h || c->req_dir < 0)
		return 0;
	h->sync[dir] = false;
	return codec_restart(a, c, why | DT_XF_INCOMPLETE);
}

static int h2_on_close(struct dt_assembler *a, struct dt_conn *c)
{
	return codec_restart(a, c, 0);
}

/* The first byte of a header block says which side sent it: requests
 * start with a pseudo-header the static table holds at 1 to 7 (:authority,
 * :method, :path, :scheme), responses with :status (8 to 14), whether
 * indexed (0x80), literal with indexing (0x40, 6-bit index) or without
 * (0x00 and 0x10, 4-bit index). Returns 1, 0 or -1 when it can't tell. */
static int block_is_request(const struct dt_slice *b)
{
	unsigned int idx;

	if (!b->len)
		return -1;
	if (b->ptr[0] & 0x80)
		idx = b->ptr[0] & 0x7f;
	else if (b->ptr[0] & 0x40)
		idx = b->ptr[0] & 0x3f;
	else if (!(b->ptr[0] & 0x20))
		idx = b->ptr[0] & 0x0f;
	else
		return -1;	/* a table size update first */
	if (idx >= 1 && idx <= 7)
		return 1;
	return idx >= 8 && idx <= 14 ? 0 : -1;
}

/*
 * A joined connection: frames from a plausible boundary on, at least two
 * whole. When the selector did not say which side is the client, a
 * HEADERS frame tells. Returns 1, 0 (not HTTP/2) or -EAGAIN.
 */
static int detect_joined(struct dt_conn *c, int dir)
{
	const struct dt_stream *s = &c->s[dir];
	size_t len = s->len < H2_DETECT_PROBE ? s->len : H2_DETECT_PROBE;
	size_t off = dt_h2_resync(s->buf, len);
	int frames = 0, side = c->req_dir >= 0 ? c->req_dir == dir : -1;
	struct dt_h2_frame f;
	ssize_t n = 0;

	while (off < len && (n = dt_h2_frame_parse(s->buf + off, len - off,
						    0, &f)) > 0) {
		if (f.type > DT_H2_CONTINUATION)
			return 0;
		if (side < 0 && f.type == DT_H2_HEADERS)
			side = block_is_request(&f.payload);
		off += (size_t)n;
		frames++;
	}
	if (frames >= 2 && side >= 0) {
		c->req_dir = side ? dir : !dir;
		return 1;
	}
	if (n < 0 && frames)
		return 0;
	return s->len < H2_DETECT_PROBE ? -EAGAIN : 0;
}

/* A server's first frame: SETTINGS on stream 0, not an ACK. */
static bool server_settings_start(const uint8_t *b, size_t len)
{
	uint32_t flen = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];

	return len >= DT_H2_FRAME_HEADER_LEN && b[3] == DT_H2_SETTINGS &&
	       b[4] == 0 && !memcmp(b + 5, "\0\0\0\0", 4) && flen % 6 == 0 &&
	       flen <= DT_H2_DEFAULT_MAX_FRAME;
}

/* A fresh connection starts with the client preface; the server may send
 * its SETTINGS first, and then the preface is awaited. */
static int h2_detect(struct dt_conn *c, int dir)
{
	const struct dt_stream *s = &c->s[dir];
	int r;

	if (c->resync_start)
		return detect_joined(c, dir);
	if (!s->len)
		return -EAGAIN;
	r = dt_h2_preface_check(s->buf, s->len);
	if (r > 0) {
		c->req_dir = dir;
		return 1;
	}
	if (r == 0)
		return -EAGAIN;
	if (s->len < DT_H2_FRAME_HEADER_LEN)
		return s->buf[0] == 0 ? -EAGAIN : 0;
	return server_settings_start(s->buf, s->len) ? -EAGAIN : 0;
}

const struct dt_proto_ops dt_proto_http2 = {
	.name = "http2",
	.detect = h2_detect,
	.conn_new = h2_conn_new,
	.conn_free = h2_conn_free,
	.on_data = h2_on_data,
	.on_gap = h2_on_gap,
	.on_close = h2_on_close,
	.held = h2_held,
};
