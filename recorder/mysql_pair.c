// SPDX-License-Identifier: MIT
/*
 * MySQL: the formats codec frames and pairs both streams itself (the
 * protocol is strictly request/response, with exchanges whose response
 * spans many packets or is absent); this file feeds it the captured bytes,
 * slices each exchange's raw bytes out of the streams by offset, and
 * redacts credentials before anything leaves the recorder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/recorder_int.h"

struct mysql_conn {
	struct dt_mysql_conn *codec;
	uint64_t fed[2];       /* stream offset up to which bytes were fed */
	uint64_t req_done;     /* client bytes up to here went out */
	bool started[2];
};

static void *mysql_conn_new(void)
{
	return calloc(1, sizeof(struct mysql_conn));
}

static void mysql_conn_free(void *state)
{
	struct mysql_conn *m = state;

	if (!m)
		return;
	dt_mysql_conn_free(m->codec);
	free(m);
}

static enum dt_mysql_dir codec_dir(const struct dt_conn *c, int dir)
{
	return dir == c->req_dir ? DT_MYSQL_CLIENT : DT_MYSQL_SERVER;
}

/* Copies stream bytes [from, to) into dst (NULL when empty). */
static int slice(const struct dt_stream *s, uint64_t from, uint64_t to,
		 uint8_t **dst, size_t *len)
{
	*dst = NULL;
	*len = 0;
	if (to <= from)
		return 0;
	if (from < s->base || to - s->base > s->len)
		return -ERANGE;
	*dst = malloc(to - from);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, s->buf + (from - s->base), to - from);
	*len = to - from;
	return 0;
}

static int emit_event(struct dt_assembler *a, struct dt_conn *c,
		      struct dt_mysql_event *ev)
{
	const struct dt_stream *qs = &c->s[c->req_dir];
	const struct dt_stream *rs = &c->s[!c->req_dir];
	struct mysql_conn *m = c->state;
	struct dt_exchange x;
	int ret;

	if (ev->req_end > m->req_done)
		m->req_done = ev->req_end;
	dt_exchange_init(&x);
	x.protocol = DT_PROTO_MYSQL;
	/* the connection decides "midstream"; the codec's copy is the same */
	x.flags = ev->flags & ~DT_XF_MIDSTREAM;
	ret = slice(qs, ev->req_start, ev->req_end, &x.request,
		    &x.request_len);
	if (!ret)
		ret = slice(rs, ev->resp_start, ev->resp_end, &x.response,
			    &x.response_len);
	if (ret == -ERANGE) {
		/* bytes already dropped: keep the summary, flag the loss */
		x.flags |= DT_XF_INCOMPLETE;
		ret = 0;
	}
	if (!ret && ev->summary->request.has_auth && x.request)
		dt_mysql_redact_auth(x.request, x.request_len);
	if (!ret)
		ret = dt_mysql_summary_to_attrs(ev->summary, &x);
	if (ret) {
		dt_exchange_release(&x);
		return ret;
	}
	if (x.request_len) {
		x.req_start_ns = dt_stream_time_at(qs, ev->req_start);
		x.req_end_ns = dt_stream_time_at(qs, ev->req_end - 1);
	}
	if (x.response_len) {
		x.resp_start_ns = dt_stream_time_at(rs, ev->resp_start);
		x.resp_end_ns = dt_stream_time_at(rs, ev->resp_end - 1);
	}
	return dt_assembler_emit(a, c, &x);
}

static int drain(struct dt_assembler *a, struct dt_conn *c)
{
	struct mysql_conn *m = c->state;
	struct dt_mysql_event ev;
	int ret = 0;

	while (dt_mysql_next_event(m->codec, &ev) == 1) {
		if (!ret)
			ret = emit_event(a, c, &ev);
		dt_mysql_event_release(&ev);
	}
	return ret;
}

/* Drops the bytes no future exchange needs. */
static void trim(struct dt_conn *c, int dir)
{
	struct mysql_conn *m = c->state;
	struct dt_stream *s = &c->s[dir];
	uint64_t keep = dt_mysql_retain_offset(m->codec, codec_dir(c, dir));

	if (keep > m->fed[dir])
		keep = m->fed[dir];
	if (keep > s->base)
		dt_stream_consume(s, keep - s->base, NULL, NULL);
}

static int open_codec(struct dt_conn *c)
{
	struct mysql_conn *m = c->state;
	struct dt_mysql_opts opts;

	dt_mysql_opts_init(&opts);
	opts.midstream = c->resync_start;
	return dt_mysql_conn_new(&m->codec, &opts);
}

static int mysql_on_data(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	struct mysql_conn *m = c->state;
	struct dt_stream *s = &c->s[dir];
	size_t used = 0, off;
	int ret;

	if (!m->codec) {
		ret = open_codec(c);
		if (ret)
			return ret;
		/* joined: the command just found was read after every server
		 * byte held so far, which therefore answers nothing we saw */
		if (c->resync_start && dir == c->req_dir)
			dt_stream_consume(&c->s[!dir], c->s[!dir].len, NULL,
					  NULL);
	}
	if (!m->started[dir]) {
		m->started[dir] = true;
		m->fed[dir] = s->base;
	}
	if (m->fed[dir] < s->base)
		m->fed[dir] = s->base;
	off = m->fed[dir] - s->base;
	ret = dt_mysql_feed(m->codec, codec_dir(c, dir), m->fed[dir],
			    s->buf + off, s->len - off, &used);
	if (ret)
		return ret;
	m->fed[dir] += used;
	ret = drain(a, c);
	trim(c, 0);
	trim(c, 1);
	return ret;
}

static int mysql_on_gap(struct dt_assembler *a, struct dt_conn *c, int dir,
			uint64_t n, uint32_t why)
{
	struct mysql_conn *m = c->state;
	size_t used = 0;
	int ret;

	if (!m->codec && (ret = open_codec(c)))
		return ret;
	/* the bytes after the gap start at next + n; tell the codec */
	m->fed[dir] = c->s[dir].next + n;
	m->started[dir] = true;
	ret = dt_mysql_feed(m->codec, codec_dir(c, dir), m->fed[dir], NULL, 0,
			    &used);
	if (!ret)
		ret = drain(a, c);
	return ret;
}

/* Client bytes no exchange took when the connection ends: a packet cut
 * by the close (one claiming 16 MiB, say) goes out as an incomplete
 * request rather than vanish. */
static int emit_cut_request(struct dt_assembler *a, struct dt_conn *c)
{
	const struct dt_stream *qs = &c->s[c->req_dir];
	struct mysql_conn *m = c->state;
	uint64_t from = m->req_done > qs->base ? m->req_done : qs->base;
	uint64_t to = qs->base + qs->len;
	struct dt_exchange x;
	int ret;

	/* joined streams hold bytes from before the first command found */
	if (to <= from || c->resync_start ||
	    dt_mysql_conn_unsupported(m->codec))
		return 0;
	dt_exchange_init(&x);
	x.protocol = DT_PROTO_MYSQL;
	x.flags = DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE;
	ret = slice(qs, from, to, &x.request, &x.request_len);
	if (ret) {
		dt_exchange_release(&x);
		return ret;
	}
	x.req_start_ns = dt_stream_time_at(qs, from);
	x.req_end_ns = dt_stream_time_at(qs, to - 1);
	return dt_assembler_emit(a, c, &x);
}

static int mysql_on_close(struct dt_assembler *a, struct dt_conn *c)
{
	struct mysql_conn *m = c->state;
	int ret;

	if (!m->codec)
		return 0;
	ret = dt_mysql_close(m->codec);
	if (!ret)
		ret = drain(a, c);
	return ret ? ret : emit_cut_request(a, c);
}

/* The server speaks first (its greeting), which also proves the stream's
 * start on a Unix socket; a joined connection shows a command packet from
 * the client somewhere in its first 64 KiB. */
static int mysql_detect(struct dt_conn *c, int dir)
{
	const struct dt_stream *s = &c->s[dir];
	size_t probe = s->len < 65536 ? s->len : 65536;
	int r;

	r = dt_mysql_detect(s->buf, s->len, DT_MYSQL_SERVER);
	if (r == 1 && !c->midstream) {
		c->req_dir = !dir;
		c->resync_start = false;
		return 1;
	}
	if (!c->resync_start)
		return r == -EAGAIN ? -EAGAIN : 0;
	if (c->req_dir >= 0 && dir != c->req_dir)
		return -EAGAIN;
	for (size_t off = 0; off < probe; off++) {
		r = dt_mysql_detect(s->buf + off, s->len - off,
				    DT_MYSQL_CLIENT);
		if (r == 1) {
			c->req_dir = dir;
			return 1;
		}
	}
	return s->len < 65536 ? -EAGAIN : 0;
}

const struct dt_proto_ops dt_proto_mysql = {
	.name = "mysql",
	.detect = mysql_detect,
	.conn_new = mysql_conn_new,
	.conn_free = mysql_conn_free,
	.on_data = mysql_on_data,
	.on_gap = mysql_on_gap,
	.on_close = mysql_on_close,
};
