// SPDX-License-Identifier: MIT
/*
 * The recorded session in memory: the chosen exchanges, each protocol's
 * in the order their requests started, and for the protocols whose
 * connections keep order (Redis, MySQL) grouped per recorded connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer/replayer_int.h"

static const uint32_t batch_protocols[3] = {
	DT_PROTO_HTTP1, DT_PROTO_REDIS, DT_PROTO_MYSQL,
};

struct rp_batch *rp_session_batch(struct rp_session *s, uint32_t protocol)
{
	/* an http(s):// target answers both versions: one engine, one
	 * batch, each transfer taking its exchange's version */
	if (protocol == DT_PROTO_HTTP2)
		protocol = DT_PROTO_HTTP1;
	for (size_t i = 0; i < 3; i++)
		if (batch_protocols[i] == protocol)
			return &s->batch[i];
	return NULL;
}

static int item_add(struct rp_session *s, size_t *cap, struct dt_exchange *x)
{
	struct rp_item *grown, *it;

	if (s->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;

		grown = realloc(s->items, ncap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->items = grown;
		*cap = ncap;
	}
	it = &s->items[s->n++];
	memset(it, 0, sizeof(*it));
	/* the item takes over x's buffers */
	it->rec = *x;
	dt_exchange_init(x);
	/* HTTP and Redis responses are not needed to replay; MySQL's are,
	 * to learn the prepared statements (rp_mysql_plan frees them) */
	if (it->rec.protocol != DT_PROTO_MYSQL) {
		free(it->rec.response);
		it->rec.response = NULL;
		it->rec.response_len = 0;
	}
	return 0;
}

static bool is_mysql_handshake(const struct dt_exchange *x)
{
	const char *cmd = dt_exchange_attr(x, "request.command");

	return x->protocol == DT_PROTO_MYSQL && cmd && !strcmp(cmd, "handshake");
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A MySQL connection's handshake carries its schema and client flags: it
 * is kept while reading even when --match leaves it out, and dropped now
 * unless --match chose another exchange of its connection.
 */
static int prune_handshakes(struct rp_session *s)
{
	uint64_t *conns = malloc((s->n ? s->n : 1) * sizeof(*conns));
	size_t nconns = 0, kept = 0;

	if (!conns)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].rec.protocol == DT_PROTO_MYSQL &&
		    !s->items[i].unselected)
			conns[nconns++] = s->items[i].rec.conn_id;
	qsort(conns, nconns, sizeof(*conns), by_u64);
	for (size_t i = 0; i < s->n; i++) {
		struct rp_item *it = &s->items[i];

		if (it->unselected &&
		    !bsearch(&it->rec.conn_id, conns, nconns, sizeof(*conns),
			     by_u64)) {
			dt_exchange_release(&it->rec);
			continue;
		}
		s->items[kept++] = *it;
	}
	s->n = kept;
	free(conns);
	return 0;
}

static int read_all(struct rp_session *s, struct dt_session_reader *r,
		    const struct dt_replay_opts *o)
{
	struct dt_exchange x;
	size_t cap = 0;
	bool selected;
	int rc, ret = 0;

	dt_exchange_init(&x);
	while (!ret && (rc = dt_session_reader_next(r, &x)) == 1) {
		selected = !o->select || o->select(&x, o->select_ctx);
		if (!selected && !is_mysql_handshake(&x))
			continue;
		if (!rp_session_batch(s, x.protocol)) {
			s->unknown++;
			continue;
		}
		ret = item_add(s, &cap, &x);
		if (!ret)
			s->items[s->n - 1].unselected = !selected;
	}
	if (!ret && o->select)
		ret = prune_handshakes(s);
	dt_exchange_release(&x);
	if (ret) {
		fprintf(stderr, "deetune replay: out of memory reading %s\n",
			o->session_label);
		return ret;
	}
	if (rc < 0) {
		fprintf(stderr, "deetune replay: %s: %s; not replayed\n",
			o->session_label, dt_session_reader_error(r));
		return -EBADMSG;
	}
	if (!dt_session_reader_has_trailer(r))
		fprintf(stderr, "deetune replay: warning: %s has no trailer "
			"(recording was interrupted); replaying its %zu "
			"readable exchanges\n", o->session_label, s->n);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct rp_item *x = *(struct rp_item *const *)a;
	const struct rp_item *y = *(struct rp_item *const *)b;

	if (x->rec.req_start_ns != y->rec.req_start_ns)
		return x->rec.req_start_ns < y->rec.req_start_ns ? -1 : 1;
	return x->rec.id < y->rec.id ? -1 : x->rec.id > y->rec.id;
}

static int by_conn(const void *a, const void *b)
{
	const struct rp_item *x = *(struct rp_item *const *)a;
	const struct rp_item *y = *(struct rp_item *const *)b;

	if (x->rec.conn_id != y->rec.conn_id)
		return x->rec.conn_id < y->rec.conn_id ? -1 : 1;
	return x->rec.id < y->rec.id ? -1 : x->rec.id > y->rec.id;
}

/* Groups the batch's items per recorded connection; conns[i].items point
 * into one array sorted by connection. */
static int group_conns(struct rp_batch *b)
{
	struct rp_item **sorted;
	size_t i, start;

	sorted = malloc(b->n * sizeof(*sorted));
	b->conns = calloc(b->n, sizeof(*b->conns));
	if (!sorted || !b->conns) {
		free(sorted);
		return -ENOMEM;
	}
	memcpy(sorted, b->items, b->n * sizeof(*sorted));
	qsort(sorted, b->n, sizeof(*sorted), by_conn);
	for (start = 0, i = 1; i <= b->n; i++) {
		if (i < b->n && sorted[i]->rec.conn_id ==
					sorted[start]->rec.conn_id)
			continue;
		b->conns[b->nconns++] = (struct rp_conn){
			.conn_id = sorted[start]->rec.conn_id,
			.items = sorted + start,
			.n = i - start,
		};
		start = i;
	}
	return 0;
}

static int build_batches(struct rp_session *s)
{
	struct rp_batch *b;
	size_t i;
	int ret = 0;

	for (i = 0; i < s->n; i++) {
		b = rp_session_batch(s, s->items[i].rec.protocol);
		b->n++;
		if (s->items[i].rec.req_start_ns &&
		    (!s->rec_t0 || s->items[i].rec.req_start_ns < s->rec_t0))
			s->rec_t0 = s->items[i].rec.req_start_ns;
	}
	for (i = 0; i < 3; i++) {
		b = &s->batch[i];
		b->protocol = batch_protocols[i];
		if (b->n && !(b->items = malloc(b->n * sizeof(*b->items))))
			return -ENOMEM;
		b->n = 0;
	}
	for (i = 0; i < s->n; i++) {
		b = rp_session_batch(s, s->items[i].rec.protocol);
		b->items[b->n++] = &s->items[i];
	}
	for (i = 0; !ret && i < 3; i++) {
		b = &s->batch[i];
		if (!b->n)
			continue;
		qsort(b->items, b->n, sizeof(*b->items), by_start);
		if (b->protocol != DT_PROTO_HTTP1)
			ret = group_conns(b);
	}
	return ret;
}

int rp_session_load(struct rp_session *s, const struct dt_replay_opts *o)
{
	struct dt_session_reader *r;
	char err[256] = "";
	int ret;

	memset(s, 0, sizeof(*s));
	ret = dt_session_reader_open(&r, o->session, o->session_len, err,
				     sizeof(err));
	if (ret) {
		fprintf(stderr, "deetune replay: %s: %s\n", o->session_label,
			err[0] ? err : strerror(-ret));
		return -EBADMSG;
	}
	ret = read_all(s, r, o);
	dt_session_reader_free(r);
	if (!ret && (ret = build_batches(s)))
		fprintf(stderr, "deetune replay: out of memory\n");
	if (ret)
		rp_session_release(s);
	return ret;
}

void rp_session_schedule(struct rp_session *s, const struct rp_pacer *p)
{
	for (size_t i = 0; i < s->n; i++)
		s->items[i].due = rp_pacer_due(p, s->items[i].rec.req_start_ns);
}

void rp_session_release(struct rp_session *s)
{
	for (size_t i = 0; i < 3; i++) {
		struct rp_batch *b = &s->batch[i];

		if (b->nconns)
			free(b->conns[0].items);
		free(b->conns);
		free(b->items);
	}
	for (size_t i = 0; i < s->n; i++)
		dt_exchange_release(&s->items[i].rec);
	free(s->items);
	memset(s, 0, sizeof(*s));
}
