// SPDX-License-Identifier: MIT
/*
 * Connection state of the MySQL codec: the queue of requests waiting for
 * their responses (FIFO: a client may send commands without waiting for
 * COM_STMT_CLOSE-like commands that have no response, or pipeline), the
 * dispatch of whole payloads to the request and response code, events,
 * and losing / regaining sync.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

void dt_mysql_opts_init(struct dt_mysql_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_rows = 16;
	opts->max_value = 256;
	opts->max_sql = 64 * 1024;
	opts->max_params = 256;
	opts->max_results = 8;
}

static size_t clamp(size_t v, size_t max)
{
	return v < max ? v : max;
}

int dt_mysql_conn_new(struct dt_mysql_conn **out,
		      const struct dt_mysql_opts *opts)
{
	struct dt_mysql_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	else
		dt_mysql_opts_init(&c->opts);
	c->opts.max_rows = clamp(c->opts.max_rows, MYSQL_OPT_ROWS_MAX);
	c->opts.max_value = clamp(c->opts.max_value, MYSQL_OPT_VALUE_MAX);
	c->opts.max_sql = clamp(c->opts.max_sql, MYSQL_OPT_SQL_MAX);
	c->opts.max_params = clamp(c->opts.max_params, DT_MYSQL_MAX_PARAMS);
	c->opts.max_results = clamp(c->opts.max_results,
				    MYSQL_OPT_RESULTS_MAX);
	/* a response's kind comes from its first result */
	if (!c->opts.max_results)
		c->opts.max_results = 1;
	c->deprecate_eof = -1;
	c->resp.state = RS_DONE;
	if (c->opts.midstream) {
		c->midstream = true;
		c->phase = PH_COMMAND;
		c->dir[DT_MYSQL_CLIENT].mode = MODE_RESYNC;
		c->dir[DT_MYSQL_SERVER].mode = MODE_DISCARD;
	}
	*out = c;
	return 0;
}

void dt_mysql_conn_assume_command_phase(struct dt_mysql_conn *c,
					uint64_t caps)
{
	c->phase = PH_COMMAND;
	if (!caps)
		return;
	c->caps = caps;
	c->caps_known = true;
	c->deprecate_eof = (caps & DT_MYSQL_CLIENT_DEPRECATE_EOF) ? 1 : 0;
}

struct mysql_request *dt_mysql_request_new(unsigned cmd)
{
	struct mysql_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cmd = cmd;
	r->sum = dt_mysql_summary_new(cmd);
	if (!r->sum) {
		free(r);
		return NULL;
	}
	return r;
}

void dt_mysql_request_free(struct mysql_request *r)
{
	if (!r)
		return;
	dt_mysql_summary_free(r->sum);
	free(r);
}

static void events_free(struct dt_mysql_conn *c)
{
	while (c->ev_head) {
		struct mysql_event_node *n = c->ev_head;

		c->ev_head = n->next;
		dt_mysql_event_release(&n->ev);
		free(n);
	}
	c->ev_tail = NULL;
}

void dt_mysql_conn_free(struct dt_mysql_conn *c)
{
	int i;

	if (!c)
		return;
	while (c->head) {
		struct mysql_request *r = c->head;

		c->head = r->next;
		dt_mysql_request_free(r);
	}
	for (i = 0; i < 2; i++)
		free(c->dir[i].as.prefix);
	dt_mysql_stmt_clear(c);
	events_free(c);
	free(c);
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */
/* ---------------------------------------------------------------------- */

/* Moves r's summary into a new event with the given server range. */
static int emit(struct dt_mysql_conn *c, struct mysql_request *r,
		uint32_t flags, uint64_t resp_start, uint64_t resp_end,
		enum dt_mysql_result_kind last_kind)
{
	struct mysql_event_node *n = calloc(1, sizeof(*n));
	uint64_t client_off = c->dir[DT_MYSQL_CLIENT].off;

	if (!n)
		return -ENOMEM;
	n->ev.flags = flags | (c->midstream ? DT_XF_MIDSTREAM : 0);
	n->ev.req_start = r->has_bytes ? r->start : client_off;
	n->ev.req_end = r->has_bytes ? r->end : client_off;
	n->ev.resp_start = resp_start;
	n->ev.resp_end = resp_end;
	dt_mysql_summary_finish(r->sum, last_kind);
	n->ev.summary = r->sum;
	r->sum = NULL;
	if (c->ev_tail)
		c->ev_tail->next = n;
	else
		c->ev_head = n;
	c->ev_tail = n;
	return 0;
}

/* Emits the head request with its response so far, dequeues and frees
 * it. */
static int emit_head(struct dt_mysql_conn *c, uint32_t flags)
{
	struct mysql_request *r = c->head;
	uint64_t server_off = c->dir[DT_MYSQL_SERVER].off;
	int ret;

	if (c->resp.started)
		ret = emit(c, r, flags, c->resp.start, c->resp.end,
			   c->resp.last_kind);
	else
		ret = emit(c, r, flags, server_off, server_off, 0);
	c->head = r->next;
	if (!c->head)
		c->tail = NULL;
	c->nrequests--;
	dt_mysql_request_free(r);
	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.state = RS_DONE;
	return ret;
}

int dt_mysql_next_event(struct dt_mysql_conn *c, struct dt_mysql_event *ev)
{
	struct mysql_event_node *n = c->ev_head;

	if (!n)
		return 0;
	c->ev_head = n->next;
	if (!c->ev_head)
		c->ev_tail = NULL;
	*ev = n->ev;
	free(n);
	return 1;
}

void dt_mysql_event_release(struct dt_mysql_event *ev)
{
	dt_mysql_summary_free(ev->summary);
	ev->summary = NULL;
}

/* ---------------------------------------------------------------------- */
/* The request queue                                                      */
/* ---------------------------------------------------------------------- */

int dt_mysql_drain(struct dt_mysql_conn *c)
{
	int ret;

	while (c->head && c->resp.state == RS_DONE) {
		ret = emit_head(c, 0);
		if (!ret && c->head)
			ret = dt_mysql_response_start(c, c->head);
		if (ret)
			return ret;
	}
	return 0;
}

/* Emits every waiting request: flags, plus started_flags for the head
 * when its response began, DT_XF_NO_RESPONSE for the others. */
static int flush(struct dt_mysql_conn *c, uint32_t flags,
		 uint32_t started_flags)
{
	int ret = 0;

	while (c->head && !ret) {
		bool started = c->resp.started;

		ret = emit_head(c, flags | (started ? started_flags
						    : DT_XF_NO_RESPONSE));
	}
	return ret;
}

static void assembly_reset(struct mysql_assembly *as)
{
	free(as->prefix);
	memset(as, 0, sizeof(*as));
}

int dt_mysql_lose_sync(struct dt_mysql_conn *c, bool resync_client,
		       uint32_t flags)
{
	struct mysql_direction *client = &c->dir[DT_MYSQL_CLIENT];
	struct mysql_direction *server = &c->dir[DT_MYSQL_SERVER];

	c->stats.resyncs++;
	assembly_reset(&server->as);
	server->mode = MODE_DISCARD;
	if (resync_client) {
		assembly_reset(&client->as);
		client->mode = MODE_RESYNC;
	}
	if (c->phase == PH_GREETING) {
		c->phase = PH_COMMAND;
		c->midstream = true;
	}
	return flush(c, flags, flags);
}

int dt_mysql_malformed(struct dt_mysql_conn *c, enum dt_mysql_dir dir)
{
	c->stats.malformed++;
	return dt_mysql_lose_sync(c, dir == DT_MYSQL_CLIENT, DT_XF_MALFORMED);
}

int dt_mysql_set_unsupported(struct dt_mysql_conn *c, const char *why)
{
	/* the request that made it so is the last one */
	if (c->tail)
		c->tail->sum->unsupported = why;
	c->unsupported = why;
	return flush(c, 0, 0);
}

static int enqueue(struct dt_mysql_conn *c, struct mysql_request *r)
{
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nrequests++;
	if (c->head == r)
		return dt_mysql_response_start(c, r);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Client payloads                                                        */
/* ---------------------------------------------------------------------- */

/* A client packet the state does not expect: the state is wrong or the
 * packet is, and the packet may well start the next exchange. */
static int lose_client_sync(struct dt_mysql_conn *c)
{
	int ret = dt_mysql_malformed(c, DT_MYSQL_CLIENT);

	return ret ? ret : MYSQL_RETRY;
}

/* A packet with a sequence id past 0: the client's turn inside the head's
 * exchange (authentication data, LOCAL INFILE contents). */
static int client_continuation(struct dt_mysql_conn *c,
			       const struct mysql_payload *pl)
{
	struct mysql_request *r = c->head;

	if (!r || pl->seq != c->resp.seq_next ||
	    (c->resp.state != RS_AUTH && c->resp.state != RS_INFILE))
		return lose_client_sync(c);
	c->resp.seq_next = (uint8_t)(pl->last_seq + 1);
	if (c->resp.state == RS_INFILE) {
		r->end = pl->end;
		if (!pl->total)   /* an empty packet ends the file */
			c->resp.state = RS_FIRST;
		return 0;
	}
	return dt_mysql_request_continue(c, r, pl);
}

static int client_command(struct dt_mysql_conn *c,
			  const struct mysql_payload *pl)
{
	struct mysql_request *r;
	int ret;

	if (c->head && (c->resp.state == RS_AUTH || c->resp.state == RS_INFILE))
		return lose_client_sync(c);
	ret = dt_mysql_response_settle(c);
	if (!ret)
		ret = dt_mysql_drain(c);
	/* that many requests unanswered: the server side was lost */
	if (!ret && c->nrequests >= MYSQL_QUEUE_MAX)
		ret = dt_mysql_lose_sync(c, false, 0);
	if (ret)
		return ret;
	if (!pl->len)
		return dt_mysql_malformed(c, DT_MYSQL_CLIENT);
	r = dt_mysql_request_new(pl->data[0]);
	if (!r)
		return -ENOMEM;
	r->has_bytes = true;
	r->start = pl->start;
	r->end = pl->end;
	ret = dt_mysql_request_parse(c, r, pl);
	if (ret) {
		dt_mysql_request_free(r);
		return ret;
	}
	ret = enqueue(c, r);
	if (ret)
		return ret;
	if (r->cmd == DT_MYSQL_COM_BINLOG_DUMP ||
	    r->cmd == DT_MYSQL_COM_BINLOG_DUMP_GTID)
		return dt_mysql_set_unsupported(c, "replication");
	return dt_mysql_drain(c);
}

int dt_mysql_client_payload(struct dt_mysql_conn *c,
			    const struct mysql_payload *pl)
{
	if (pl->seq != 0)
		return client_continuation(c, pl);
	return client_command(c, pl);
}

/* ---------------------------------------------------------------------- */
/* Server payloads                                                        */
/* ---------------------------------------------------------------------- */

/* The first server packet: the greeting (or an ERR refusing the client)
 * opens the handshake exchange. */
static int greeting(struct dt_mysql_conn *c, const struct mysql_payload *pl)
{
	struct mysql_request *r = dt_mysql_request_new(DT_MYSQL_CMD_HANDSHAKE);
	int ret;

	if (!r)
		return -ENOMEM;
	c->phase = PH_COMMAND;
	r->resp_seq = (uint8_t)(pl->last_seq + 1);
	ret = enqueue(c, r);
	if (ret)
		return ret;
	c->resp.started = true;
	c->resp.start = pl->start;
	c->resp.end = pl->end;
	if (pl->data[0] == 0xff) {
		ret = dt_mysql_response_step(c, r, pl);
		return ret ? ret : dt_mysql_drain(c);
	}
	ret = dt_mysql_parse_greeting(pl->data, pl->len, &r->sum->response,
				      &c->server_caps);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	return ret;
}

/* A server packet while no request waits: MySQL 8 sends an ERR before
 * closing an idle connection; anything else is out of sync. */
static int unsolicited(struct dt_mysql_conn *c, const struct mysql_payload *pl)
{
	struct mysql_request *r;
	struct dt_mysql_result *res;
	int ret;

	if (!pl->len || pl->data[0] != 0xff)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	r = dt_mysql_request_new(DT_MYSQL_CMD_NONE);
	if (!r)
		return -ENOMEM;
	res = dt_mysql_summary_add_result(r->sum, DT_MYSQL_RESULT_ERR,
					  c->opts.max_results, &ret);
	if (res)
		ret = dt_mysql_parse_err(pl->data, pl->len, res);
	if (!ret)
		ret = emit(c, r, 0, pl->start, pl->end, DT_MYSQL_RESULT_ERR);
	dt_mysql_request_free(r);
	return ret == -EBADMSG ? dt_mysql_malformed(c, DT_MYSQL_SERVER) : ret;
}

int dt_mysql_server_payload(struct dt_mysql_conn *c,
			    const struct mysql_payload *pl)
{
	struct mysql_request *r = c->head;
	int ret;

	if (c->phase == PH_GREETING)
		return greeting(c, pl);
	if (!r)
		return unsolicited(c, pl);
	if (pl->seq != c->resp.seq_next || c->resp.state == RS_DONE)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (!c->resp.started) {
		c->resp.started = true;
		c->resp.start = pl->start;
	}
	c->resp.end = pl->end;
	c->resp.seq_next = (uint8_t)(pl->last_seq + 1);
	ret = dt_mysql_response_step(c, r, pl);
	return ret ? ret : dt_mysql_drain(c);
}

bool dt_mysql_expects(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		      uint8_t seq, const uint8_t *first, size_t avail)
{
	if (c->phase != PH_GREETING)
		return true;
	if (dir == DT_MYSQL_SERVER && seq == 0 && avail &&
	    (first[0] == 10 || first[0] == 0xff))
		return true;
	/* not the start of a connection after all; nothing is queued yet,
	 * so losing sync emits nothing and cannot fail */
	dt_mysql_lose_sync(c, true, 0);
	return false;
}

/* ---------------------------------------------------------------------- */
/* End, offsets, state                                                    */
/* ---------------------------------------------------------------------- */

int dt_mysql_close(struct dt_mysql_conn *c)
{
	int ret;

	if (c->unsupported)
		return 0;
	ret = dt_mysql_response_settle(c);
	if (!ret)
		ret = dt_mysql_drain(c);
	if (!ret)
		ret = flush(c, 0, DT_XF_INCOMPLETE);
	return ret;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t dt_mysql_retain_offset(const struct dt_mysql_conn *c,
				enum dt_mysql_dir dir)
{
	const struct mysql_direction *d = &c->dir[dir];
	const struct mysql_event_node *n;
	const struct mysql_request *r;
	uint64_t off = d->off;

	if (d->as.active)
		off = min_u64(off, d->as.start);
	for (n = c->ev_head; n; n = n->next)
		off = min_u64(off, dir == DT_MYSQL_CLIENT ? n->ev.req_start
							  : n->ev.resp_start);
	if (dir == DT_MYSQL_SERVER) {
		if (c->head && c->resp.started)
			off = min_u64(off, c->resp.start);
		return off;
	}
	for (r = c->head; r; r = r->next)
		if (r->has_bytes)
			off = min_u64(off, r->start);
	return off;
}

const char *dt_mysql_conn_unsupported(const struct dt_mysql_conn *c)
{
	return c->unsupported;
}

void dt_mysql_conn_stats(const struct dt_mysql_conn *c,
			 struct dt_mysql_stats *st)
{
	*st = c->stats;
}
