// SPDX-License-Identifier: MIT
/*
 * Recorded MySQL connections decoded into what to replay. A connection's
 * command exchanges are fed, in order, to one formats codec as the two
 * byte streams of a connection, the way the recorder fed them: the codec
 * then knows the prepared statements, so a COM_STMT_EXECUTE that reuses
 * the parameter types of an earlier one still decodes, and the summaries
 * keep values whole (up to the codec's 1 MiB cap) where the recorder kept
 * a preview. The codec joins the streams as it joins an open connection
 * (midstream): its handshake, where the server speaks first and the two
 * sides take turns, is decoded on its own (dt_mysql_decode_exchange),
 * which orders those packets itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replayer/mysql_int.h"

/* Above the codec's caps: it clamps them to its maximum. */
static void plan_opts(struct dt_mysql_opts *o, bool midstream)
{
	dt_mysql_opts_init(o);
	o->midstream = midstream;
	o->max_rows = 0;
	o->max_value = SIZE_MAX;
	o->max_sql = SIZE_MAX;
	o->max_params = SIZE_MAX;
	o->max_results = 1;
}

static int set_op(struct rp_item *it, struct dt_mysql_summary **sum)
{
	struct rp_mysql_op *op = calloc(1, sizeof(*op));

	if (!op)
		return -ENOMEM;
	op->sum = *sum;
	*sum = NULL;
	it->op = op;
	return 0;
}

/* Where each item's request went in the client stream. */
struct fed {
	uint64_t off;
	size_t len;          /* 0: not fed (a handshake) */
};

/* Gives the event to the item whose request holds the event's first
 * client byte, unless it has one already; items [0, nfed) were fed. */
static int attach(struct rp_conn *c, const struct fed *fed, size_t nfed,
		  struct dt_mysql_event *ev, size_t *cursor)
{
	size_t i = *cursor;

	while (i + 1 < nfed && fed[i + 1].off <= ev->req_start)
		i++;
	*cursor = i;
	if (fed[i].off > ev->req_start ||
	    ev->req_start >= fed[i].off + fed[i].len || c->items[i]->op)
		return 0;
	return set_op(c->items[i], &ev->summary);
}

static int drain(struct dt_mysql_conn *codec, struct rp_conn *c,
		 const struct fed *fed, size_t nfed, size_t *cursor)
{
	struct dt_mysql_event ev;
	int ret = 0;

	while (dt_mysql_next_event(codec, &ev) == 1) {
		if (!ret)
			ret = attach(c, fed, nfed, &ev, cursor);
		dt_mysql_event_release(&ev);
	}
	return ret;
}

/* Feeds bytes at stream offset *off; bytes the codec leaves (a packet cut
 * short) are dropped, so the next feed reports a gap and it resyncs. */
static int feed(struct dt_mysql_conn *codec, enum dt_mysql_dir dir,
		uint64_t *off, const uint8_t *buf, size_t len)
{
	size_t used = 0;
	int ret;

	if (!len)
		return 0;
	ret = dt_mysql_feed(codec, dir, *off, buf, len, &used);
	*off += len;
	return ret;
}

static bool is_handshake(const struct rp_item *it)
{
	const char *cmd = dt_exchange_attr(&it->rec, "request.command");

	return cmd && !strcmp(cmd, "handshake");
}

static int decode_handshake(struct rp_item *it)
{
	struct dt_mysql_summary *sum = NULL;
	struct dt_mysql_opts opts;
	int ret;

	plan_opts(&opts, false);
	ret = dt_mysql_decode_exchange(it->rec.request, it->rec.request_len,
				       it->rec.response, it->rec.response_len,
				       0, &opts, &sum);
	if (ret == -EBADMSG)
		return 0; /* marked as not decoding */
	if (!ret)
		ret = set_op(it, &sum);
	dt_mysql_summary_free(sum);
	return ret;
}

static int feed_item(struct dt_mysql_conn *codec, uint64_t off[2],
		     struct fed *fed, const struct rp_item *it)
{
	int ret;

	fed->off = off[DT_MYSQL_CLIENT];
	fed->len = it->rec.request_len;
	ret = feed(codec, DT_MYSQL_CLIENT, &off[DT_MYSQL_CLIENT],
		   it->rec.request, it->rec.request_len);
	if (!ret)
		ret = feed(codec, DT_MYSQL_SERVER, &off[DT_MYSQL_SERVER],
			   it->rec.response, it->rec.response_len);
	return ret;
}

static int decode_conn(struct rp_conn *c)
{
	struct dt_mysql_conn *codec = NULL;
	struct dt_mysql_opts opts;
	uint64_t off[2] = { 0, 0 };
	size_t cursor = 0;
	struct fed *fed;
	int ret;

	fed = calloc(c->n, sizeof(*fed));
	if (!fed)
		return -ENOMEM;
	plan_opts(&opts, true);
	ret = dt_mysql_conn_new(&codec, &opts);
	for (size_t i = 0; !ret && i < c->n; i++) {
		fed[i].off = off[DT_MYSQL_CLIENT];
		if (is_handshake(c->items[i]))
			ret = decode_handshake(c->items[i]);
		else
			ret = feed_item(codec, off, &fed[i], c->items[i]);
		if (!ret)
			ret = drain(codec, c, fed, i + 1, &cursor);
	}
	if (!ret)
		ret = dt_mysql_close(codec);
	if (!ret)
		ret = drain(codec, c, fed, c->n, &cursor);
	dt_mysql_conn_free(codec);
	free(fed);
	return ret;
}

static bool params_replayable(const struct dt_mysql_request *rq)
{
	if (!rq->nparams)
		return true;
	if (!rq->params_decoded || rq->nparams_kept != rq->nparams)
		return false;
	for (size_t i = 0; i < rq->nparams; i++)
		if (rq->params[i].long_data || rq->params[i].truncated ||
		    (!rq->params[i].is_null && !rq->params[i].text))
			return false;
	return true;
}

/* Why the decoded request cannot be replayed, NULL when it can. */
static const char *why_not(const struct dt_mysql_summary *s)
{
	const struct dt_mysql_request *rq = &s->request;

	switch (rq->command) {
	case DT_MYSQL_CMD_HANDSHAKE:
	case DT_MYSQL_COM_PING:
	case DT_MYSQL_COM_QUIT:
	case DT_MYSQL_COM_STATISTICS:
	case DT_MYSQL_COM_RESET_CONNECTION:
		return NULL;
	case DT_MYSQL_COM_INIT_DB:
		return rq->schema ? NULL : "not replayed: no schema recorded";
	case DT_MYSQL_COM_QUERY:
	case DT_MYSQL_COM_STMT_PREPARE:
		if (!rq->sql || rq->sql_truncated)
			return "not replayed: the SQL was not recorded whole";
		return NULL;
	case DT_MYSQL_COM_STMT_EXECUTE:
		if (!rq->has_stmt)
			return "not replayed: no statement id recorded";
		if (!params_replayable(rq))
			return "not replayed: the parameters were not recorded "
			       "whole (prepared before the recording, or sent "
			       "as long data)";
		return NULL;
	case DT_MYSQL_COM_STMT_CLOSE:
	case DT_MYSQL_COM_STMT_RESET:
		return rq->has_stmt ? NULL :
				      "not replayed: no statement id recorded";
	}
	return "not replayed: this command is not replayed";
}

static void mark(struct rp_conn *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct rp_item *it = c->items[i];
		struct rp_mysql_op *op = it->op;

		if (it->rec.flags & DT_XF_MALFORMED)
			it->skip = "not replayed: the recorded request is "
				   "malformed";
		else if (!op)
			it->skip = "not replayed: the recorded request does "
				   "not decode";
		else
			it->skip = why_not(op->sum);
		/* decoded: the recorded response is no longer needed */
		free(it->rec.response);
		it->rec.response = NULL;
		it->rec.response_len = 0;
	}
}

int rp_mysql_plan(struct rp_batch *b)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < b->nconns; i++) {
		ret = decode_conn(&b->conns[i]);
		if (!ret)
			mark(&b->conns[i]);
	}
	return ret;
}

void rp_mysql_plan_release(struct rp_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct rp_mysql_op *op = b->items[i]->op;

		if (!op)
			continue;
		dt_mysql_summary_free(op->sum);
		free(op);
		b->items[i]->op = NULL;
	}
}
