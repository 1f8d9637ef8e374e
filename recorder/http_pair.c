// SPDX-License-Identifier: MIT
/*
 * HTTP/1 pairing: frames the request and response streams of a connection
 * with the formats codec and pairs responses with requests in FIFO order
 * (keep-alive and pipelining). A gap resets the pairing instead of shifting
 * it: requests waiting at the gap are flushed as incomplete, and a response
 * is only paired with a request that had been read before it started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/recorder_int.h"

/* dt_pending.kind of requests whose response framing differs */
enum { REQ_OTHER, REQ_HEAD, REQ_CONNECT };

struct http_conn {
	struct dt_http1_framer req, resp;
	struct dt_pending_queue q;
	/* 1xx interim responses kept for the final one */
	uint8_t *interim;
	size_t interim_len;
	uint64_t interim_start_ts;
	bool req_sync, resp_sync;   /* false: look for a message start */
	/* true while the first message after a resync is unconfirmed */
	bool req_probing, resp_probing;
	bool upgraded;              /* no longer HTTP (101, CONNECT) */
	bool resp_sendfile;         /* the current response used sendfile */
	bool started;
	/* A response sent before its request was read whole (nginx's
	 * `return`, a 413, an early 401), kept until the request ends. */
	struct dt_exchange *early;
};

static void *http_conn_new(void)
{
	struct http_conn *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	dt_http1_framer_init(&h->req, true);
	dt_http1_framer_init(&h->resp, false);
	return h;
}

static void http_conn_free(void *state)
{
	struct http_conn *h = state;

	if (!h)
		return;
	dt_pending_clear(&h->q);
	free(h->interim);
	if (h->early) {
		dt_exchange_release(h->early);
		free(h->early);
	}
	free(h);
}

/* Summary attributes from the parsed heads; unparsable bytes get none. */
static int set_summary(struct dt_exchange *x)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	const struct dt_http1_header *host;
	char status[8];
	int ret = -ENOMEM;

	if (!head)
		return -ENOMEM;
	if (x->request_len &&
	    dt_http1_parse_head(x->request, x->request_len, true, 0, head) > 0) {
		if (dt_set_slice_attr(x, "method", head->method.ptr, head->method.len) ||
		    dt_set_slice_attr(x, "path", head->target.ptr, head->target.len))
			goto out;
		host = dt_http1_find_header(head, "Host");
		if (host && dt_set_slice_attr(x, "host", host->value.ptr,
						 host->value.len))
			goto out;
	}
	if (x->response_len &&
	    dt_http1_parse_final_response(x->response, x->response_len,
					  head) >= 0) {
		snprintf(status, sizeof(status), "%d", head->status);
		if (dt_exchange_set_attr(x, "status", status))
			goto out;
	}
	ret = 0;
out:
	free(head);
	return ret;
}

static int emit_pair(struct dt_assembler *a, struct dt_conn *c,
		     struct dt_pending *p, const uint8_t *resp,
		     size_t resp_len, uint64_t resp_start, uint64_t resp_end,
		     uint32_t flags)
{
	return dt_pair_emit(a, c, DT_PROTO_HTTP1, set_summary, p, resp,
			    resp_len, resp_start, resp_end, flags);
}

static int flush_pending(struct dt_assembler *a, struct dt_conn *c,
			 uint32_t flags)
{
	struct http_conn *h = c->state;

	return dt_pair_flush(a, c, DT_PROTO_HTTP1, set_summary, &h->q, flags);
}

static void interim_reset(struct http_conn *h)
{
	free(h->interim);
	h->interim = NULL;
	h->interim_len = 0;
	h->resp_sendfile = false;
}

/* Keeps the n response bytes (after any interim ones) for the request
 * still being read. */
static int keep_early(struct dt_conn *c, size_t n, uint64_t start,
		      uint32_t flags)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct http_conn *h = c->state;
	struct dt_exchange *x = malloc(sizeof(*x));
	uint8_t *all;

	if (!x)
		return -ENOMEM;
	dt_exchange_init(x);
	all = realloc(h->interim, h->interim_len + n);
	if (!all) {
		free(x);
		return -ENOMEM;
	}
	memcpy(all + h->interim_len, s->buf, n);
	x->response = all;
	x->response_len = h->interim_len + n;
	x->resp_start_ns = h->interim_len ? h->interim_start_ts : start;
	x->flags = flags | (h->resp_sendfile ?
			    DT_XF_SENDFILE | DT_XF_INCOMPLETE : 0);
	dt_stream_consume(s, n, NULL, &x->resp_end_ns);
	h->interim = NULL;
	interim_reset(h);
	h->early = x;
	return 0;
}

/* The request being read was answered early: pair them now. */
static int pair_early(struct dt_assembler *a, struct dt_conn *c)
{
	struct http_conn *h = c->state;
	struct dt_exchange *x = h->early;
	int ret;

	h->early = NULL;
	ret = emit_pair(a, c, dt_pending_pop(&h->q), x->response,
			x->response_len, x->resp_start_ns, x->resp_end_ns,
			x->flags);
	dt_exchange_release(x);
	free(x);
	return ret;
}

/* The request just read is the one an early response answered. */
static int answer_early(struct dt_assembler *a, struct dt_conn *c)
{
	struct http_conn *h = c->state;

	if (h->early && h->q.head == h->q.tail)
		return pair_early(a, c);
	return 0;
}

/* Takes the first n bytes of the request stream as a waiting request. */
static int take_request(struct dt_conn *c, size_t n, uint32_t flags)
{
	struct http_conn *h = c->state;
	struct dt_pending *p;
	size_t skip = 0;

	p = dt_pending_take(&h->q, &c->s[c->req_dir], n, flags);
	if (!p)
		return -ENOMEM;
	/* empty lines may precede a request line (RFC 9112 2.2) */
	while (skip < p->len && (p->bytes[skip] == '\r' ||
				 p->bytes[skip] == '\n'))
		skip++;
	if (p->len - skip >= 5 && !memcmp(p->bytes + skip, "HEAD ", 5))
		p->kind = REQ_HEAD;
	else if (p->len - skip >= 8 && !memcmp(p->bytes + skip, "CONNECT ", 8))
		p->kind = REQ_CONNECT;
	return 0;
}

static int on_requests(struct dt_assembler *a, struct dt_conn *c)
{
	struct dt_stream *s = &c->s[c->req_dir];
	struct http_conn *h = c->state;
	int r;

	while (s->len && !h->upgraded) {
		if (!h->req_sync) {
			size_t off = dt_http1_resync(s->buf, s->len, true);

			dt_stream_consume(s, off, NULL, NULL);
			if (!s->len)
				return 0;
			h->req_sync = true;
			h->req_probing = true;
			dt_http1_framer_reset(&h->req);
		}
		r = dt_http1_framer_scan(&h->req, s->buf, s->len);
		if (r == DT_HTTP1_NEED_MORE)
			return 0;
		if (r < 0 && h->req_probing) {
			/* a false start found by resync: look further on */
			dt_stream_consume(s, 1, NULL, NULL);
			h->req_sync = false;
			continue;
		}
		h->req_probing = false;
		if (r < 0) {
			/* e.g. a header line past the limit, that the server
			 * may well have answered already */
			dt_assembler_count_malformed(a);
			r = take_request(c, s->len, DT_XF_MALFORMED);
			h->req_sync = false;
		} else {
			r = take_request(c, h->req.msg_len, 0);
			dt_http1_framer_reset(&h->req);
		}
		if (!r)
			r = answer_early(a, c);
		if (r)
			return r;
	}
	return 0;
}

/* A complete response of n bytes at the front of the response stream. */
static int finish_response(struct dt_assembler *a, struct dt_conn *c,
			   size_t n, uint32_t flags)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct http_conn *h = c->state;
	struct dt_pending *p;
	uint64_t start, end;
	uint8_t *all;
	int ret;

	dt_stream_consume(s, 0, &start, NULL);
	/* A marker of lost requests: responses that started before the next
	 * request was read answer the lost ones and can't be paired. */
	while (h->q.head && h->q.head->lost && h->q.head->next &&
	       start >= h->q.head->next->start_ts) {
		p = dt_pending_pop(&h->q);
		if (!p->len) {
			dt_pending_free(p);
			continue;
		}
		ret = emit_pair(a, c, p, NULL, 0, 0, 0, 0);
		if (ret)
			return ret;
	}
	p = h->q.head;
	if (!p && c->s[c->req_dir].len && h->req_sync && !h->early)
		return keep_early(c, n, start, flags);
	if (!p || p->lost || start < p->start_ts) {
		dt_assembler_count_unpaired(a);
		dt_stream_consume(s, n, NULL, NULL);
		interim_reset(h);
		return 0;
	}
	dt_pending_pop(&h->q);
	all = realloc(h->interim, h->interim_len + n);
	if (!all) {
		dt_pending_free(p);
		return -ENOMEM;
	}
	memcpy(all + h->interim_len, s->buf, n);
	if (h->interim_len)
		start = h->interim_start_ts;
	dt_stream_consume(s, n, NULL, &end);
	if (h->resp_sendfile)
		flags |= DT_XF_SENDFILE | DT_XF_INCOMPLETE;
	ret = emit_pair(a, c, p, all, h->interim_len + n, start, end, flags);
	h->interim = all;
	interim_reset(h);
	return ret;
}

/* A 101 to h2c of n bytes: the request waiting becomes HTTP/2's stream 1
 * and the connection goes on as HTTP/2 (the 101 is not recorded: HTTP/2
 * drops interim responses). Returns 1 when switched (c->state is no
 * longer h), 0 when this is not an h2c upgrade, or a negative errno. */
static int switch_to_h2c(struct dt_assembler *a, struct dt_conn *c, size_t n)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct http_conn *h = c->state;
	struct dt_pending *p = h->q.head;
	void *state;
	int r;

	if (!p || p->lost)
		return 0;
	r = dt_h2_upgrade_state(&state, p->bytes, p->len, s->buf, n,
				p->start_ts);
	if (r <= 0)
		return r;
	dt_stream_consume(s, n, NULL, NULL);
	r = dt_assembler_switch_protocol(a, c, &dt_proto_http2, state);
	return r < 0 ? r : 1;
}

/* Keeps a 1xx interim response until the final response arrives. */
static int keep_interim(struct dt_conn *c, size_t n)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct http_conn *h = c->state;
	uint8_t *nb = realloc(h->interim, h->interim_len + n);

	if (!nb)
		return -ENOMEM;
	if (!h->interim_len)
		dt_stream_consume(s, 0, &h->interim_start_ts, NULL);
	memcpy(nb + h->interim_len, s->buf, n);
	h->interim = nb;
	h->interim_len += n;
	dt_stream_consume(s, n, NULL, NULL);
	return 0;
}

static void prepare_response_framer(struct http_conn *h)
{
	struct dt_pending *p = h->q.head;

	h->resp.request_was_head = p && p->kind == REQ_HEAD;
	h->resp.request_was_connect = p && p->kind == REQ_CONNECT;
}

static int on_responses(struct dt_assembler *a, struct dt_conn *c)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct http_conn *h = c->state;
	int r;

	while (s->len) {
		if (h->upgraded) {
			dt_stream_consume(s, s->len, NULL, NULL);
			return 0;
		}
		if (!h->resp_sync) {
			size_t off = dt_http1_resync(s->buf, s->len, false);

			dt_stream_consume(s, off, NULL, NULL);
			if (!s->len)
				return 0;
			h->resp_sync = true;
			h->resp_probing = true;
			dt_http1_framer_reset(&h->resp);
		}
		prepare_response_framer(h);
		r = dt_http1_framer_scan(&h->resp, s->buf, s->len);
		if (r == DT_HTTP1_NEED_MORE)
			return 0;
		if (r < 0 && h->resp_probing) {
			dt_stream_consume(s, 1, NULL, NULL);
			h->resp_sync = false;
			continue;
		}
		h->resp_probing = false;
		if (r < 0) {
			dt_assembler_count_malformed(a);
			h->resp_sync = false;
			r = finish_response(a, c, s->len, DT_XF_MALFORMED);
		} else if (h->resp.status >= 100 && h->resp.status < 200 &&
			   h->resp.status != 101) {
			r = keep_interim(c, h->resp.msg_len);
		} else {
			if (h->resp.upgraded) {
				r = switch_to_h2c(a, c, h->resp.msg_len);
				if (r)
					return r < 0 ? r : 0; /* h is gone */
				h->upgraded = true;
			}
			r = finish_response(a, c, h->resp.msg_len, 0);
		}
		dt_http1_framer_reset(&h->resp);
		if (r)
			return r;
	}
	return 0;
}

static int http_on_data(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	struct http_conn *h = c->state;

	/* a fresh connection starts in sync; a joined one looks first */
	if (!h->started) {
		h->started = true;
		h->req_sync = !c->resync_start;
		h->resp_sync = !c->resync_start;
	}
	if (dir == c->req_dir)
		return on_requests(a, c);
	return on_responses(a, c);
}

/* Can a hole of n bytes be inside the body of the response being read?
 * True when its head says Content-Length and the hole fits; the response
 * is complete once the body bytes plus holes reach that length. */
static bool hole_fits_body(struct dt_stream *s, uint64_t n, bool *complete)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	const struct dt_http1_header *cl;
	unsigned long long want;
	char num[24];
	ssize_t hl;
	bool fits = false;

	if (!head)
		return false;
	hl = dt_http1_parse_head(s->buf, s->len, false, 0, head);
	if (hl <= 0 || dt_http1_find_header(head, "Transfer-Encoding"))
		goto out;
	cl = dt_http1_find_header(head, "Content-Length");
	if (!cl || cl->value.len == 0 || cl->value.len >= sizeof(num))
		goto out;
	memcpy(num, cl->value.ptr, cl->value.len);
	num[cl->value.len] = '\0';
	if (sscanf(num, "%llu", &want) != 1)
		goto out;
	if (s->len - hl + s->holes + n <= want) {
		fits = true;
		s->holes += n;
		*complete = s->len - hl + s->holes == want;
	}
out:
	free(head);
	return fits;
}

static int http_on_gap(struct dt_assembler *a, struct dt_conn *c, int dir,
		uint64_t n, uint32_t why)
{
	struct http_conn *h = c->state;
	struct dt_stream *s = &c->s[dir];
	bool complete = false;
	int ret = 0;

	if (!h || c->req_dir < 0)
		return 0;
	if (dir != c->req_dir && h->resp_sync && h->q.head &&
	    hole_fits_body(s, n, &complete)) {
		/* e.g. nginx: head with writev, body with sendfile() */
		h->resp_sendfile |= !!(why & DT_XF_SENDFILE);
		h->q.head->flags |= why & ~DT_XF_SENDFILE;
		if (!complete)
			return 1;
		ret = finish_response(a, c, s->len, DT_XF_INCOMPLETE);
		dt_http1_framer_reset(&h->resp);
		return ret < 0 ? ret : 1;
	}
	if (dir == c->req_dir) {
		/* the damaged request and any lost whole: one marker */
		ret = take_request(c, s->len, why | DT_XF_INCOMPLETE);
		if (ret)
			return ret;
		h->q.tail->lost = true;
		h->req_sync = false;
		dt_http1_framer_reset(&h->req);
		/* an early response answered the damaged request, not the
		 * next one to be read */
		return answer_early(a, c);
	}
	/* response bytes lost: the response in progress is incomplete and
	 * later ones can't be matched to the requests already waiting */
	if (h->q.head && s->len)
		ret = finish_response(a, c, s->len, why | DT_XF_INCOMPLETE);
	if (!ret)
		ret = flush_pending(a, c, DT_XF_INCOMPLETE);
	interim_reset(h);
	h->resp_sync = false;
	dt_http1_framer_reset(&h->resp);
	return ret;
}

static size_t http_held(const void *state)
{
	const struct http_conn *h = state;

	return h->q.bytes + h->interim_len +
	       (h->early ? h->early->response_len : 0);
}

static int http_on_close(struct dt_assembler *a, struct dt_conn *c)
{
	struct http_conn *h = c->state;
	struct dt_stream *rs = &c->s[!c->req_dir];
	struct dt_stream *qs = &c->s[c->req_dir];
	int ret = 0;

	if (rs->len && h->resp_sync && h->q.head) {
		prepare_response_framer(h);
		if (dt_http1_framer_eof(&h->resp, rs->len) == DT_HTTP1_COMPLETE)
			ret = finish_response(a, c, h->resp.msg_len, 0);
		else
			ret = finish_response(a, c, rs->len, DT_XF_INCOMPLETE);
	}
	if (!ret && qs->len && h->req_sync) {
		ret = take_request(c, qs->len, DT_XF_INCOMPLETE);
		if (!ret)
			ret = answer_early(a, c);
	}
	if (!ret)
		ret = flush_pending(a, c, 0);
	return ret;
}

/* A fresh connection must start with a request line or a status line; a
 * joined one may start anywhere, so look for a message start in the first
 * 64 KiB. */
static int http_detect(struct dt_conn *c, int dir)
{
	const struct dt_stream *s = &c->s[dir];
	size_t probe = s->len < 65536 ? s->len : 65536;
	size_t off;

	if (!s->len)
		return -EAGAIN;
	if (!c->resync_start) {
		if (dt_http1_looks_like_request(s->buf, s->len)) {
			if (s->len < 16 && !memchr(s->buf, '\n', s->len))
				return -EAGAIN;
			c->req_dir = dir;
			return 1;
		}
		if (dt_http1_resync(s->buf, probe, false) == 0) {
			c->req_dir = !dir;
			return 1;
		}
		return s->len < 8 ? -EAGAIN : 0;
	}
	/* a joined stream: trust only a whole start line */
	off = dt_http1_resync(s->buf, probe, true);
	if (off < probe && memchr(s->buf + off, '\n', probe - off)) {
		c->req_dir = dir;
		return 1;
	}
	off = dt_http1_resync(s->buf, probe, false);
	if (off < probe && memchr(s->buf + off, '\n', probe - off)) {
		c->req_dir = !dir;
		return 1;
	}
	return s->len < 65536 ? -EAGAIN : 0;
}

const struct dt_proto_ops dt_proto_http1 = {
	.name = "http",
	.detect = http_detect,
	.conn_new = http_conn_new,
	.conn_free = http_conn_free,
	.on_data = http_on_data,
	.on_gap = http_on_gap,
	.on_close = http_on_close,
	.held = http_held,
};
