// SPDX-License-Identifier: MIT
/*
 * Redis pairing: frames commands and replies with the RESP codec and pairs
 * them in FIFO order (pipelining, MULTI/EXEC). Pub/sub messages are pushes,
 * not replies, and are left out; a (P|S)SUBSCRIBE of N channels is answered
 * by N confirmations, kept together as its response.
 *
 * Replies carry no marker that would let a reader find the start of one in
 * the middle of a stream, so after a gap (or when joining a connection) the
 * reply stream restarts at the first write that began after the next
 * complete request was read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recorder/recorder_int.h"

#define MAX_ARGS 4

struct redis_conn {
	struct dt_resp_framer req, resp;
	struct dt_pending_queue q;
	/* replies of a multi-reply command gathered so far */
	uint8_t *acc;
	size_t acc_len;
	uint64_t acc_start_ts;
	bool req_sync, resp_sync;
	bool subscribed;       /* RESP2 pub/sub mode */
	bool started;
};

static void *redis_conn_new(void)
{
	struct redis_conn *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	dt_resp_framer_init(&r->req, true);
	dt_resp_framer_init(&r->resp, false);
	return r;
}

static void redis_conn_free(void *state)
{
	struct redis_conn *r = state;

	if (!r)
		return;
	dt_pending_clear(&r->q);
	free(r->acc);
	free(r);
}

static void acc_reset(struct redis_conn *r)
{
	free(r->acc);
	r->acc = NULL;
	r->acc_len = 0;
}

/* "command" (upper case), "key" (first argument), "reply" (a summary of
 * the reply) and "error" for error replies. */
static int redis_summarize(struct dt_exchange *x)
{
	struct dt_slice argv[MAX_ARGS];
	char cmd[64], reply[DT_RESP_SUMMARY_MAX];
	size_t argc = 0, n;
	int type;

	if (x->request_len &&
	    dt_resp_parse_command(x->request, x->request_len, argv, MAX_ARGS,
				  &argc) > 0 && argc > 0) {
		n = argv[0].len < sizeof(cmd) - 1 ? argv[0].len :
						    sizeof(cmd) - 1;
		for (size_t i = 0; i < n; i++)
			cmd[i] = toupper(argv[0].ptr[i]);
		cmd[n] = '\0';
		if (dt_exchange_set_attr(x, "command", cmd))
			return -ENOMEM;
		if (argc > 1 && dt_set_slice_attr(x, "key", argv[1].ptr,
						  argv[1].len))
			return -ENOMEM;
	}
	if (!x->response_len)
		return 0;
	if (dt_resp_summarize(x->response, x->response_len, reply,
			      sizeof(reply)) >= 0 &&
	    dt_exchange_set_attr(x, "reply", reply))
		return -ENOMEM;
	type = dt_resp_reply_type(x->response, x->response_len);
	if ((type == '-' || type == '!') &&
	    dt_exchange_set_attr(x, "error", "1"))
		return -ENOMEM;
	return 0;
}

/* How many replies a command expects: one, except for the pub/sub
 * (un)subscriptions, which get one per channel (-1: until the server
 * reports no subscription left). *subscribe is set for the commands that
 * put a RESP2 connection in pub/sub mode. */
static int64_t replies_expected(const struct dt_pending *p, bool *subscribe)
{
	struct dt_slice argv[MAX_ARGS];
	size_t argc = 0;
	const char *name;

	if (dt_resp_parse_command(p->bytes, p->len, argv, MAX_ARGS, &argc) <= 0
	    || !argc)
		return 1;
	name = (const char *)argv[0].ptr;
	if (argv[0].len >= 9 && argv[0].len <= 12 &&
	    !strncasecmp(name + argv[0].len - 9, "subscribe", 9)) {
		bool unsub = argv[0].len >= 11 &&
			     !strncasecmp(name + argv[0].len - 11, "unsubscribe",
					  11);

		*subscribe = !unsub;
		if (argc > 1)
			return argc - 1;
		return unsub ? -1 : 1;
	}
	return 1;
}

/* Masks the passwords of AUTH and HELLO ... AUTH user pass in place with
 * '*' (same length, so the framing stays intact) before anything is
 * stored. */
static void redact_auth(struct dt_pending *p)
{
	struct dt_slice argv[8];
	size_t argc = 0, pw = 0;

	if (dt_resp_parse_command(p->bytes, p->len, argv, 8, &argc) <= 0 ||
	    argc < 2 || argc > 8)
		return;
	if (argv[0].len == 4 && !strncasecmp((const char *)argv[0].ptr,
					     "AUTH", 4))
		pw = argc - 1;
	for (size_t i = 1; i + 2 < argc && argv[0].len == 5 &&
	     !strncasecmp((const char *)argv[0].ptr, "HELLO", 5); i++)
		if (argv[i].len == 4 &&
		    !strncasecmp((const char *)argv[i].ptr, "AUTH", 4))
			pw = i + 2;
	if (pw)
		memset((uint8_t *)argv[pw].ptr, '*', argv[pw].len);
}

static int on_requests(struct dt_assembler *a, struct dt_conn *c)
{
	struct dt_stream *s = &c->s[c->req_dir];
	struct redis_conn *r = c->state;
	bool subscribe = false;
	struct dt_pending *p;
	int ret;

	while (s->len) {
		if (!r->req_sync) {
			dt_stream_consume(s, dt_resp_resync(s->buf, s->len),
					  NULL, NULL);
			if (!s->len)
				return 0;
			r->req_sync = true;
			dt_resp_framer_reset(&r->req);
		}
		ret = dt_resp_framer_scan(&r->req, s->buf, s->len);
		if (ret == DT_RESP_NEED_MORE)
			return 0;
		if (ret < 0) {
			dt_assembler_count_malformed(a);
			p = dt_pending_take(&r->q, s, s->len, DT_XF_MALFORMED);
			r->req_sync = false;
		} else {
			p = dt_pending_take(&r->q, s, r->req.msg_len, 0);
			dt_resp_framer_reset(&r->req);
		}
		if (!p)
			return -ENOMEM;
		redact_auth(p);
		/* from here on, pushes may arrive instead of replies */
		p->expect = replies_expected(p, &subscribe);
		if (subscribe)
			r->subscribed = true;
	}
	return 0;
}

/* Joining a reply stream: skip to the first write that began after the
 * oldest waiting request started. */
static void resync_replies(struct dt_stream *s, struct redis_conn *r)
{
	uint64_t since;
	size_t i;

	if (!r->q.head)
		goto drop;
	since = r->q.head->start_ts;
	for (i = 0; i < s->nmarks; i++) {
		if (s->marks[i].ts >= since && s->marks[i].off >= s->base) {
			dt_stream_consume(s, s->marks[i].off - s->base, NULL,
					  NULL);
			r->resp_sync = true;
			dt_resp_framer_reset(&r->resp);
			return;
		}
	}
drop:
	dt_stream_consume(s, s->len, NULL, NULL);
}

/* One complete reply of n bytes at the front of the reply stream; a
 * malformed one (flags) ends the exchange whatever else was due. */
static int take_reply(struct dt_assembler *a, struct dt_conn *c, size_t n,
		      int64_t subscriptions, uint32_t flags)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct redis_conn *r = c->state;
	struct dt_pending *p = r->q.head;
	uint64_t start, end;
	uint8_t *nb;

	while (p && p->lost) {
		/* replies to requests lost in a gap can't be told apart */
		dt_pending_free(dt_pending_pop(&r->q));
		p = r->q.head;
	}
	dt_stream_consume(s, 0, &start, NULL);
	if (!p || start < p->start_ts) {
		dt_assembler_count_unpaired(a);
		dt_stream_consume(s, n, NULL, NULL);
		return 0;
	}
	nb = realloc(r->acc, r->acc_len + n);
	if (!nb)
		return -ENOMEM;
	if (!r->acc_len)
		r->acc_start_ts = start;
	memcpy(nb + r->acc_len, s->buf, n);
	r->acc = nb;
	r->acc_len += n;
	dt_stream_consume(s, n, NULL, &end);
	if (p->expect > 0)
		p->expect--;
	if (!flags && (p->expect > 0 || (p->expect < 0 && subscriptions > 0)))
		return 0;
	p = dt_pending_pop(&r->q);
	n = r->acc_len;
	r->acc_len = 0;
	return dt_pair_emit(a, c, DT_PROTO_REDIS, redis_summarize, p, r->acc,
			    n, r->acc_start_ts, end, flags);
}

static int on_replies(struct dt_assembler *a, struct dt_conn *c)
{
	struct dt_stream *s = &c->s[!c->req_dir];
	struct redis_conn *r = c->state;
	enum dt_resp_push kind;
	int64_t subs = -1;
	int ret;

	while (s->len) {
		if (!r->resp_sync) {
			resync_replies(s, r);
			if (!r->resp_sync)
				return 0;
		}
		ret = dt_resp_framer_scan(&r->resp, s->buf, s->len);
		if (ret == DT_RESP_NEED_MORE)
			return 0;
		if (ret < 0) {
			/* e.g. a bulk length of 2^62: the request gets what
			 * came as its reply, flagged */
			dt_assembler_count_malformed(a);
			r->resp_sync = false;
			return take_reply(a, c, s->len, -1, DT_XF_MALFORMED);
		}
		kind = dt_resp_push_classify(s->buf, r->resp.msg_len,
					     r->subscribed, &subs);
		if (kind == DT_RESP_PUSH_SUBSCRIPTION)
			r->subscribed = subs > 0;
		if (kind == DT_RESP_PUSH_MESSAGE || kind == DT_RESP_PUSH_OTHER)
			dt_stream_consume(s, r->resp.msg_len, NULL, NULL);
		else if ((ret = take_reply(a, c, r->resp.msg_len, subs, 0)))
			return ret;
		dt_resp_framer_reset(&r->resp);
	}
	return 0;
}

static int redis_on_data(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	struct redis_conn *r = c->state;

	if (!r->started) {
		r->started = true;
		r->req_sync = r->resp_sync = !c->resync_start;
	}
	/* requests first: a reply is paired with what was read before it */
	if (dir != c->req_dir)
		return on_replies(a, c);
	return on_requests(a, c);
}

static int redis_on_gap(struct dt_assembler *a, struct dt_conn *c, int dir,
			uint64_t n, uint32_t why)
{
	struct redis_conn *r = c->state;
	struct dt_pending *p;
	int ret = 0;

	if (dir == c->req_dir) {
		p = dt_pending_take(&r->q, &c->s[dir], c->s[dir].len,
				    why | DT_XF_INCOMPLETE);
		if (!p)
			return -ENOMEM;
		p->lost = true;
		r->req_sync = false;
		dt_resp_framer_reset(&r->req);
		return 0;
	}
	p = dt_pending_pop(&r->q);
	if (p) {
		ret = dt_pair_emit(a, c, DT_PROTO_REDIS, redis_summarize, p,
				   r->acc, r->acc_len, r->acc_start_ts, 0,
				   why | DT_XF_INCOMPLETE);
	}
	if (!ret)
		ret = dt_pair_flush(a, c, DT_PROTO_REDIS, redis_summarize,
				    &r->q, DT_XF_INCOMPLETE);
	acc_reset(r);
	r->resp_sync = false;
	return ret;
}

static size_t redis_held(const void *state)
{
	const struct redis_conn *r = state;

	return r->q.bytes + r->acc_len;
}

static int redis_on_close(struct dt_assembler *a, struct dt_conn *c)
{
	struct redis_conn *r = c->state;
	struct dt_pending *p;
	int ret = 0;

	if (r->acc_len && (p = dt_pending_pop(&r->q)))
		ret = dt_pair_emit(a, c, DT_PROTO_REDIS, redis_summarize, p,
				   r->acc, r->acc_len, r->acc_start_ts, 0,
				   DT_XF_INCOMPLETE);
	acc_reset(r);
	if (!ret && c->s[c->req_dir].len && r->req_sync &&
	    !dt_pending_take(&r->q, &c->s[c->req_dir], c->s[c->req_dir].len,
			     DT_XF_INCOMPLETE))
		ret = -ENOMEM;
	if (!ret)
		ret = dt_pair_flush(a, c, DT_PROTO_REDIS, redis_summarize,
				    &r->q, 0);
	return ret;
}

/* "*<count>\r\n$": the start of a command even when its lengths are out
 * of bounds, which the framer then reports as malformed. */
static bool command_start(const uint8_t *b, size_t len)
{
	size_t i = 1;

	while (i < len && i < 12 && isdigit(b[i]))
		i++;
	return i > 1 && i + 2 < len && b[i] == '\r' && b[i + 1] == '\n' &&
	       b[i + 2] == '$';
}

/* Clients speak first with an array of bulk strings (or an inline
 * command); joined connections look for a complete command. */
static int redis_detect(struct dt_conn *c, int dir)
{
	const struct dt_stream *s = &c->s[dir];

	if (!c->resync_start) {
		if (s->len < 4)
			return -EAGAIN;
		if (s->buf[0] != '*' ||
		    !(dt_resp_looks_like_request(s->buf, s->len) ||
		      command_start(s->buf, s->len)))
			return 0;
		c->req_dir = dir;
		return 1;
	}
	/* a reply may look like a command: trust the server port if known */
	if (c->req_dir >= 0 && dir != c->req_dir)
		return -EAGAIN;
	if (dt_resp_resync(s->buf, s->len) < s->len) {
		c->req_dir = dir;
		return 1;
	}
	return s->len < 65536 ? -EAGAIN : 0;
}

const struct dt_proto_ops dt_proto_redis = {
	.name = "redis",
	.detect = redis_detect,
	.conn_new = redis_conn_new,
	.conn_free = redis_conn_free,
	.on_data = redis_on_data,
	.on_gap = redis_on_gap,
	.on_close = redis_on_close,
	.held = redis_held,
};
