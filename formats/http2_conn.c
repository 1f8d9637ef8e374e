// SPDX-License-Identifier: MIT
/*
 * An HTTP/2 connection seen from outside: both directions' frames, their
 * header blocks, and the streams they make up, paired by stream id.
 *
 * A stream is created by the first frame with content (HEADERS, DATA,
 * PUSH_PROMISE) that names it, from either side: the two directions may
 * reach the decoder in either order. Each side sends in order, so a stream
 * id at or below the highest its initiator has used, and not open, was
 * finished (or evicted): later frames for it are dropped. After a
 * mid-connection join the streams below the first one the decoder saw
 * opened may have begun before the join: they are created as their frames
 * come.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/http2_int.h"

#define BODY_MIN_ALLOC 4096

struct h2_side {
	struct dt_h2_framer framer;
	struct dt_hpack hpack;
	/* the header block being received (CONTINUATION expected) */
	bool in_block;
	uint8_t block_type;		/* HEADERS or PUSH_PROMISE */
	bool block_end_stream;
	uint32_t block_stream;
	uint32_t block_promised;
};

struct dt_h2_conn {
	struct dt_h2_opts opts;
	struct h2_side side[2];		/* enum dt_h2_dir */
	int error;			/* sticky feed error */
	int64_t goaway;
	struct dt_h2_stream **open;	/* oldest first, opts.max_streams */
	size_t nopen;
	struct dt_h2_stream *done;	/* finished, oldest first */
	struct dt_h2_stream **done_tail;
	/* per initiator (enum dt_h2_dir): the highest stream id it used,
	 * the first it opened with HEADERS */
	uint32_t max_id[2];
	uint32_t first_id[2];
	uint64_t now;			/* dt_h2_conn_set_time() */
};

void dt_h2_opts_init(struct dt_h2_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_body = 1024 * 1024;
	opts->max_fields = 64 * 1024;
	opts->max_streams = 256;
	opts->max_table = 64 * 1024;
}

int dt_h2_conn_new(struct dt_h2_conn **out, const struct dt_h2_opts *opts)
{
	struct dt_h2_conn *c = calloc(1, sizeof(*c));
	uint32_t table;
	int dir;

	if (!c)
		return -ENOMEM;
	c->opts = *opts;
	if (c->opts.max_streams == 0)
		c->opts.max_streams = 1;
	c->goaway = -1;
	c->done_tail = &c->done;
	/* midstream: the table size agreed may have been any up to max */
	table = opts->midstream ? opts->max_table : DT_HPACK_DEFAULT_TABLE;
	c->open = calloc(c->opts.max_streams, sizeof(*c->open));
	if (!c->open)
		goto fail;
	for (dir = 0; dir < 2; dir++) {
		dt_h2_framer_init(&c->side[dir].framer, dir == DT_H2_CLIENT,
				  opts->midstream);
		if (dt_hpack_init(&c->side[dir].hpack, table, opts->max_fields))
			goto fail;
	}
	*out = c;
	return 0;
fail:
	dt_h2_conn_free(c);
	return -ENOMEM;
}

static void message_release(struct dt_h2_message *m)
{
	dt_h2_fields_release(&m->pseudo);
	dt_h2_fields_release(&m->headers);
	dt_h2_fields_release(&m->trailers);
	free(m->body);
}

void dt_h2_stream_free(struct dt_h2_stream *s)
{
	if (!s)
		return;
	message_release(&s->request);
	message_release(&s->response);
	free(s);
}

void dt_h2_conn_free(struct dt_h2_conn *c)
{
	struct dt_h2_stream *s;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nopen; i++)
		dt_h2_stream_free(c->open[i]);
	while ((s = c->done)) {
		c->done = s->next;
		dt_h2_stream_free(s);
	}
	dt_hpack_release(&c->side[0].hpack);
	dt_hpack_release(&c->side[1].hpack);
	free(c->open);
	free(c);
}

int64_t dt_h2_conn_goaway(const struct dt_h2_conn *c)
{
	return c->goaway;
}

void dt_h2_conn_set_time(struct dt_h2_conn *c, uint64_t ts)
{
	c->now = ts;
}

static size_t message_held(const struct dt_h2_message *m)
{
	return m->body_len + m->pseudo.bytes + m->headers.bytes +
	       m->trailers.bytes;
}

size_t dt_h2_conn_held(const struct dt_h2_conn *c)
{
	size_t held = 0;

	for (size_t i = 0; i < c->nopen; i++)
		held += message_held(&c->open[i]->request) +
			message_held(&c->open[i]->response);
	return held;
}

int dt_h2_conn_next_stream(struct dt_h2_conn *c, struct dt_h2_stream **out)
{
	struct dt_h2_stream *s = c->done;

	if (!s)
		return 0;
	c->done = s->next;
	if (!c->done)
		c->done_tail = &c->done;
	s->next = NULL;
	*out = s;
	return 1;
}

/* ---------------------------------------------------------------------- */
/* Streams                                                                */
/* ---------------------------------------------------------------------- */

static enum dt_h2_dir initiator(uint32_t id)
{
	return (id & 1) ? DT_H2_CLIENT : DT_H2_SERVER;
}

static struct dt_h2_message *message_of(struct dt_h2_stream *s,
					enum dt_h2_dir dir)
{
	return dir == DT_H2_CLIENT ? &s->request : &s->response;
}

/* A frame of m was decoded now. */
static void message_stamp(const struct dt_h2_conn *c, struct dt_h2_message *m)
{
	if (!m->first_ts)
		m->first_ts = c->now;
	m->last_ts = c->now;
}

/* Moves open[i] to the finished streams. */
static void stream_finish(struct dt_h2_conn *c, size_t i)
{
	struct dt_h2_stream *s = c->open[i];
	struct dt_h2_message *first = message_of(s, initiator(s->id));

	memmove(c->open + i, c->open + i + 1,
		(c->nopen - i - 1) * sizeof(*c->open));
	c->nopen--;
	if (!(s->request.flags & s->response.flags & DT_H2_MSG_END_STREAM) &&
	    !(s->flags & DT_H2_STREAM_RESET))
		s->flags |= DT_H2_STREAM_INCOMPLETE;
	if (c->opts.midstream && !(first->flags & DT_H2_MSG_HEADERS))
		s->flags |= DT_H2_STREAM_MIDSTREAM;
	*c->done_tail = s;
	c->done_tail = &s->next;
}

static ssize_t stream_find(const struct dt_h2_conn *c, uint32_t id)
{
	size_t i;

	/* newest first: frames mostly name recent streams */
	for (i = c->nopen; i-- > 0;)
		if (c->open[i]->id == id)
			return (ssize_t)i;
	return -1;
}

static void stream_finish_id(struct dt_h2_conn *c, uint32_t id)
{
	ssize_t i = stream_find(c, id);

	if (i >= 0)
		stream_finish(c, (size_t)i);
}

static bool stream_before_join(const struct dt_h2_conn *c, enum dt_h2_dir p,
			       uint32_t id)
{
	return c->opts.midstream && (c->first_id[p] == 0 || id < c->first_id[p]);
}

static int stream_create(struct dt_h2_conn *c, uint32_t id,
			 struct dt_h2_stream **out)
{
	struct dt_h2_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->id = id;
	if (c->nopen == c->opts.max_streams)
		stream_finish(c, 0);
	c->open[c->nopen++] = s;
	*out = s;
	return 0;
}

/*
 * The open stream a content frame of dir names, created if new. *out is
 * NULL when the frame belongs to a finished stream. opens: the frame is
 * a HEADERS or PUSH_PROMISE of the stream's initiator.
 */
static int stream_for(struct dt_h2_conn *c, uint32_t id, enum dt_h2_dir dir,
		      bool opens, struct dt_h2_stream **out)
{
	enum dt_h2_dir p = initiator(id);
	ssize_t i = stream_find(c, id);

	*out = NULL;
	if (i >= 0) {
		*out = c->open[i];
		return 0;
	}
	if (id <= c->max_id[p] && !stream_before_join(c, p, id))
		return 0;
	if (dir == p && id > c->max_id[p])
		c->max_id[p] = id;
	if (dir == p && opens && c->first_id[p] == 0)
		c->first_id[p] = id;
	return stream_create(c, id, out);
}

/* A message ended; the stream finishes with its second one. */
static void message_end(struct dt_h2_conn *c, struct dt_h2_stream *s,
			struct dt_h2_message *m)
{
	m->flags |= DT_H2_MSG_END_STREAM;
	if (s->request.flags & s->response.flags & DT_H2_MSG_END_STREAM)
		stream_finish_id(c, s->id);
}


void dt_h2_conn_close(struct dt_h2_conn *c)
{
	while (c->nopen)
		stream_finish(c, 0);
}

/* ---------------------------------------------------------------------- */
/* Frames                                                                 */
/* ---------------------------------------------------------------------- */

static int body_append(struct dt_h2_message *m, const struct dt_slice *data,
		       size_t max)
{
	size_t take = data->len, cap;
	uint8_t *body;

	m->body_wire += data->len;
	if (take > max - m->body_len) {
		take = max - m->body_len;
		m->flags |= DT_H2_MSG_BODY_TRUNCATED;
	}
	if (take == 0)
		return 0;
	if (take > m->body_cap - m->body_len) {
		cap = m->body_cap ? m->body_cap : BODY_MIN_ALLOC;
		while (cap - m->body_len < take && cap < max)
			cap = cap > max / 2 ? max : cap * 2;
		body = realloc(m->body, cap);
		if (!body)
			return -ENOMEM;
		m->body = body;
		m->body_cap = cap;
	}
	memcpy(m->body + m->body_len, data->ptr, take);
	m->body_len += take;
	return 0;
}

int dt_h2_conn_open_upgraded(struct dt_h2_conn *c, struct dt_h2_message *req,
			     const struct dt_slice *body)
{
	struct dt_h2_stream *s;
	int rc;

	if (c->nopen || c->max_id[DT_H2_CLIENT] || c->max_id[DT_H2_SERVER])
		return -EINVAL;
	rc = stream_for(c, 1, DT_H2_CLIENT, true, &s);
	if (rc)
		return rc;
	s->request = *req;
	memset(req, 0, sizeof(*req));
	s->request.flags |= DT_H2_MSG_HEADERS | DT_H2_MSG_END_STREAM;
	message_stamp(c, &s->request);
	return body_append(&s->request, body, c->opts.max_body);
}

static int data_handle(struct dt_h2_conn *c, enum dt_h2_dir dir,
		       const struct dt_h2_frame *f)
{
	struct dt_h2_stream *s;
	struct dt_h2_message *m;
	int rc;

	rc = stream_for(c, f->stream_id, dir, false, &s);
	if (rc || !s)
		return rc;
	m = message_of(s, dir);
	if (m->flags & DT_H2_MSG_END_STREAM)
		return 0;
	message_stamp(c, m);
	rc = body_append(m, &f->payload, c->opts.max_body);
	if (rc)
		return rc;
	if (f->flags & DT_H2_FLAG_END_STREAM)
		message_end(c, s, m);
	return 0;
}

/* A response's interim (1xx) header block. */
static bool block_is_interim(const struct dt_h2_fields *block)
{
	const struct dt_h2_field *st = dt_h2_fields_find(block, ":status");

	return st && st->value_len == 3 && st->value[0] == '1';
}

/* The decoded block becomes the message's headers, or its trailers when
 * it has headers already. */
static int message_take_block(struct dt_h2_message *m, struct dt_hpack *h,
			      bool is_response)
{
	if (h->failed)
		m->flags |= DT_H2_MSG_UNDECODABLE;
	if (h->truncated)
		m->flags |= DT_H2_MSG_FIELDS_TRUNCATED;
	if (m->flags & DT_H2_MSG_HEADERS) {
		m->flags |= DT_H2_MSG_TRAILERS;
		/* trailer blocks may repeat: they share one budget */
		if (h->block.bytes > h->max_fields - m->trailers.bytes) {
			m->flags |= DT_H2_MSG_FIELDS_TRUNCATED;
			dt_h2_fields_release(&h->block);
			return 0;
		}
		return dt_h2_fields_move(&m->trailers, &m->trailers, &h->block);
	}
	if (is_response && block_is_interim(&h->block)) {
		dt_h2_fields_release(&h->block);
		return 0;
	}
	m->flags |= DT_H2_MSG_HEADERS;
	return dt_h2_fields_move(&m->pseudo, &m->headers, &h->block);
}

/* A PUSH_PROMISE's block is the request of the stream it reserves; a
 * second promise of the same stream is dropped. */
static int block_deliver_push(struct dt_h2_conn *c, struct h2_side *sd)
{
	struct dt_h2_stream *s;
	int rc;

	rc = stream_for(c, sd->block_promised, DT_H2_SERVER, true, &s);
	if (rc || !s || (s->request.flags & DT_H2_MSG_HEADERS)) {
		dt_h2_fields_release(&sd->hpack.block);
		return rc;
	}
	s->flags |= DT_H2_STREAM_PUSHED;
	message_stamp(c, &s->request);
	rc = message_take_block(&s->request, &sd->hpack, false);
	message_end(c, s, &s->request);
	return rc;
}

static int block_deliver(struct dt_h2_conn *c, enum dt_h2_dir dir)
{
	struct h2_side *sd = &c->side[dir];
	struct dt_h2_stream *s;
	struct dt_h2_message *m;
	int rc;

	if (sd->block_type == DT_H2_PUSH_PROMISE)
		return block_deliver_push(c, sd);
	rc = stream_for(c, sd->block_stream, dir, true, &s);
	if (rc || !s) {
		dt_h2_fields_release(&sd->hpack.block);
		return rc;
	}
	m = message_of(s, dir);
	if (m->flags & DT_H2_MSG_END_STREAM) {
		dt_h2_fields_release(&sd->hpack.block);
		return 0;
	}
	message_stamp(c, m);
	rc = message_take_block(m, &sd->hpack, dir == DT_H2_SERVER);
	if (!rc && sd->block_end_stream)
		message_end(c, s, m);
	return rc;
}

/* A HEADERS, PUSH_PROMISE or CONTINUATION fragment. The block is decoded
 * even for a stream that is gone: HPACK state spans the connection. */
static int block_fragment(struct dt_h2_conn *c, enum dt_h2_dir dir,
			  const struct dt_h2_frame *f)
{
	struct h2_side *sd = &c->side[dir];
	bool final = f->flags & DT_H2_FLAG_END_HEADERS;
	int rc;

	rc = dt_hpack_decode(&sd->hpack, f->payload.ptr, f->payload.len, final);
	if (rc)
		return rc;
	sd->in_block = !final;
	return final ? block_deliver(c, dir) : 0;
}

static int block_start(struct dt_h2_conn *c, enum dt_h2_dir dir,
		       const struct dt_h2_frame *f)
{
	struct h2_side *sd = &c->side[dir];

	if (f->type == DT_H2_PUSH_PROMISE &&
	    (dir != DT_H2_SERVER || initiator(f->promised_id) != DT_H2_SERVER))
		return -EBADMSG;
	sd->block_type = f->type;
	sd->block_stream = f->stream_id;
	sd->block_promised = f->promised_id;
	sd->block_end_stream = f->type == DT_H2_HEADERS &&
			       (f->flags & DT_H2_FLAG_END_STREAM);
	return block_fragment(c, dir, f);
}

static void rst_handle(struct dt_h2_conn *c, enum dt_h2_dir dir,
		       const struct dt_h2_frame *f)
{
	ssize_t i = stream_find(c, f->stream_id);
	struct dt_h2_stream *s;

	if (i < 0)
		return;
	s = c->open[i];
	s->flags |= DT_H2_STREAM_RESET;
	s->rst_error = f->error_code;
	s->rst_by = dir;
	stream_finish(c, (size_t)i);
}

/* Settings bound what the other side sends. */
int dt_h2_conn_apply_settings(struct dt_h2_conn *c, enum dt_h2_dir dir,
			      const struct dt_slice *settings)
{
	struct h2_side *peer = &c->side[!dir];
	const uint8_t *p;
	uint32_t value;
	size_t off;

	for (off = 0; off + 6 <= settings->len; off += 6) {
		p = settings->ptr + off;
		value = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
			(uint32_t)p[4] << 8 | p[5];
		switch (p[0] << 8 | p[1]) {
		case DT_H2_SETTINGS_HEADER_TABLE_SIZE:
			dt_hpack_set_table(&peer->hpack,
					   value < c->opts.max_table ?
					   value : c->opts.max_table);
			break;
		case DT_H2_SETTINGS_MAX_FRAME_SIZE:
			if (dt_h2_framer_set_max_frame(&peer->framer, value))
				return -EBADMSG;
			break;
		}
	}
	return 0;
}

static int frame_handle(struct dt_h2_conn *c, enum dt_h2_dir dir,
			const struct dt_h2_frame *f)
{
	struct h2_side *sd = &c->side[dir];

	if (sd->in_block != (f->type == DT_H2_CONTINUATION))
		return -EBADMSG;
	switch (f->type) {
	case DT_H2_DATA:
		return data_handle(c, dir, f);
	case DT_H2_HEADERS: case DT_H2_PUSH_PROMISE:
		return block_start(c, dir, f);
	case DT_H2_CONTINUATION:
		if (f->stream_id != sd->block_stream)
			return -EBADMSG;
		return block_fragment(c, dir, f);
	case DT_H2_RST_STREAM:
		rst_handle(c, dir, f);
		return 0;
	case DT_H2_SETTINGS:
		if (f->flags & DT_H2_FLAG_ACK)
			return 0;
		return dt_h2_conn_apply_settings(c, dir, &f->payload);
	case DT_H2_GOAWAY:
		c->goaway = f->error_code;
		return 0;
	}
	return 0;
}

int dt_h2_conn_feed(struct dt_h2_conn *c, enum dt_h2_dir dir,
		    const uint8_t *buf, size_t len, size_t *used)
{
	struct dt_h2_frame f;
	bool preface;
	ssize_t n;
	int rc;

	*used = 0;
	if (c->error)
		return c->error;
	if (dir != DT_H2_CLIENT && dir != DT_H2_SERVER)
		return -EINVAL;
	while (*used < len) {
		n = dt_h2_framer_next(&c->side[dir].framer, buf + *used,
				      len - *used, &f, &preface);
		if (n == 0)
			break;
		if (n < 0) {
			c->error = (int)n;
			return c->error;
		}
		rc = preface ? 0 : frame_handle(c, dir, &f);
		if (rc) {
			c->error = rc;
			return rc;
		}
		*used += (size_t)n;
	}
	return 0;
}
