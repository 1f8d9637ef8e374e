// SPDX-License-Identifier: MIT
/*
 * Unit tests of the replayer's two sessions: loading the recorded one
 * (selection, order, grouping per connection, damaged files) and writing
 * the replayed one (exchanges linked to the recorded ones, written from
 * several threads, failures, the trailer).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "replayer/replayer_int.h"

#define SEC 1000000000ull

/* --- a recorded session built in memory ---------------------------------- */

struct mem {
	uint8_t *data;
	size_t len;
};

static int mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;
	uint8_t *grown = realloc(m->data, m->len + len);

	if (!grown)
		return -ENOMEM;
	memcpy(grown + m->len, buf, len);
	m->data = grown;
	m->len += len;
	return 0;
}

struct rec {
	uint32_t protocol;
	uint64_t conn_id;
	uint64_t start;   /* seconds after 1000 s; 0: unknown */
	const char *method;
	const char *command; /* MySQL request.command */
};

/* ids 1..n in this order; each has a request, a response, "method". */
static const struct rec mixed[] = {
	{ DT_PROTO_HTTP1, 1, 5, "GET", NULL },
	{ DT_PROTO_REDIS, 7, 2, NULL, NULL },
	{ DT_PROTO_HTTP1, 1, 3, "POST", NULL },
	{ DT_PROTO_MYSQL, 9, 4, NULL, NULL },
	{ DT_PROTO_REDIS, 8, 1, NULL, NULL },
	{ DT_PROTO_UNKNOWN, 3, 1, NULL, NULL },
	{ DT_PROTO_REDIS, 7, 6, NULL, NULL },
	{ DT_PROTO_HTTP1, 2, 0, "GET", NULL },
	{ DT_PROTO_MYSQL, 9, 7, NULL, NULL },
};
#define NRECS (sizeof(mixed) / sizeof(mixed[0]))

static void build(struct mem *m, bool trailer, const struct rec *recs,
		  size_t nrecs)
{
	struct dt_session_sink sink = { mem_write, m };
	struct dt_session_writer *w;
	struct dt_attr meta = { "command", "test" };
	struct dt_exchange x;

	memset(m, 0, sizeof(*m));
	/* one exchange per frame, so that a cut loses some of them */
	assert_int_equal(dt_session_writer_new(&w, &sink, &meta, 1,
					       &(struct dt_session_writer_opts){
						       .frame_bytes = 1 }),
			 0);
	for (size_t i = 0; i < nrecs; i++) {
		dt_exchange_init(&x);
		x.id = i + 1;
		x.protocol = recs[i].protocol;
		x.conn_id = recs[i].conn_id;
		x.req_start_ns = recs[i].start ? (1000 + recs[i].start) * SEC :
						 0;
		assert_int_equal(dt_exchange_set_request(&x, "req", 3), 0);
		assert_int_equal(dt_exchange_set_response(&x, "resp", 4), 0);
		if (recs[i].method)
			assert_int_equal(dt_exchange_set_attr(&x, "method",
							      recs[i].method),
					 0);
		if (recs[i].command)
			assert_int_equal(dt_exchange_set_attr(&x,
					 "request.command", recs[i].command), 0);
		assert_int_equal(dt_session_writer_append(w, &x), 0);
		dt_exchange_release(&x);
	}
	if (trailer)
		assert_int_equal(dt_session_writer_finish(w, NULL, 0), 0);
	else
		assert_int_equal(dt_session_writer_flush(w), 0);
	dt_session_writer_free(w);
}

static void build_session(struct mem *m, bool trailer)
{
	build(m, trailer, mixed, NRECS);
}

static bool not_post(const struct dt_exchange *x, void *ctx)
{
	const char *m = dt_exchange_attr(x, "method");

	(void)ctx;
	return !m || strcmp(m, "POST");
}

static void test_load_groups_and_orders(void **state)
{
	struct dt_replay_opts o;
	struct rp_session s;
	struct rp_batch *http, *redis, *mysql;
	struct rp_pacer p;
	struct mem m;

	(void)state;
	build_session(&m, true);
	dt_replay_opts_init(&o);
	o.session = m.data;
	o.session_len = m.len;
	o.session_label = "mem";
	o.select = not_post;
	assert_int_equal(rp_session_load(&s, &o), 0);
	assert_int_equal(s.n, NRECS - 2);      /* the POST and the unknown */
	assert_int_equal(s.unknown, 1);
	assert_int_equal(s.rec_t0, 1001 * SEC);

	http = rp_session_batch(&s, DT_PROTO_HTTP1);
	redis = rp_session_batch(&s, DT_PROTO_REDIS);
	mysql = rp_session_batch(&s, DT_PROTO_MYSQL);
	assert_null(rp_session_batch(&s, DT_PROTO_UNKNOWN));
	/* by start time; unknown starts first */
	assert_int_equal(http->n, 2);
	assert_int_equal(http->items[0]->rec.id, 8);
	assert_int_equal(http->items[1]->rec.id, 1);
	assert_int_equal(http->nconns, 0);
	/* responses are kept for MySQL only */
	assert_null(http->items[1]->rec.response);
	assert_int_equal(http->items[1]->rec.request_len, 3);
	assert_non_null(mysql->items[0]->rec.response);
	/* per recorded connection, in recorded order */
	assert_int_equal(redis->n, 3);
	assert_int_equal(redis->nconns, 2);
	assert_int_equal(redis->conns[0].conn_id, 7);
	assert_int_equal(redis->conns[0].n, 2);
	assert_int_equal(redis->conns[0].items[0]->rec.id, 2);
	assert_int_equal(redis->conns[0].items[1]->rec.id, 7);
	assert_int_equal(redis->conns[1].conn_id, 8);
	assert_int_equal(mysql->nconns, 1);
	assert_int_equal(mysql->conns[0].n, 2);

	/* due times: the recorded gaps halved */
	rp_pacer_init(&p, s.rec_t0, 50 * SEC, 2);
	rp_session_schedule(&s, &p);
	assert_int_equal(http->items[0]->due, 50 * SEC);
	assert_int_equal(http->items[1]->due, 52 * SEC);
	assert_int_equal(redis->conns[0].items[1]->due, 52 * SEC + SEC / 2);
	rp_session_release(&s);
	free(m.data);
}

static bool only_queries(const struct dt_exchange *x, void *ctx)
{
	const char *cmd = dt_exchange_attr(x, "request.command");

	(void)ctx;
	return cmd && !strcmp(cmd, "COM_QUERY");
}

/* --match keeps a MySQL connection's handshake with its chosen exchanges,
 * and only then. */
static void test_load_keeps_handshakes(void **state)
{
	static const struct rec mysql[] = {
		{ DT_PROTO_MYSQL, 9, 1, NULL, "handshake" },
		{ DT_PROTO_MYSQL, 10, 2, NULL, "handshake" },
		{ DT_PROTO_MYSQL, 9, 3, NULL, "COM_QUERY" },
		{ DT_PROTO_MYSQL, 10, 4, NULL, "COM_PING" },
		{ DT_PROTO_MYSQL, 9, 5, NULL, "COM_QUIT" },
	};
	struct dt_replay_opts o;
	struct rp_session s;
	struct rp_batch *b;
	struct mem m;

	(void)state;
	build(&m, true, mysql, 5);
	dt_replay_opts_init(&o);
	o.session = m.data;
	o.session_len = m.len;
	o.session_label = "mem";
	o.select = only_queries;
	assert_int_equal(rp_session_load(&s, &o), 0);
	b = rp_session_batch(&s, DT_PROTO_MYSQL);
	assert_int_equal(b->n, 2);
	assert_int_equal(b->nconns, 1);
	assert_int_equal(b->conns[0].conn_id, 9);
	assert_int_equal(b->conns[0].items[0]->rec.id, 1);
	assert_int_equal(b->conns[0].items[1]->rec.id, 3);
	rp_session_release(&s);
	free(m.data);
}

static void test_load_damaged(void **state)
{
	struct dt_replay_opts o;
	struct rp_session s;
	struct mem m;

	(void)state;
	build_session(&m, true);
	dt_replay_opts_init(&o);
	o.session_label = "mem";
	/* cut inside the last frames: nothing is replayed */
	o.session = m.data;
	o.session_len = m.len - 40;
	assert_int_equal(rp_session_load(&s, &o), -EBADMSG);
	assert_int_equal(s.n, 0);
	assert_null(s.items);
	/* not a session */
	o.session = (const uint8_t *)"GET / HTTP/1.1\r\n\r\n";
	o.session_len = 18;
	assert_int_equal(rp_session_load(&s, &o), -EBADMSG);
	o.session_len = 0;
	assert_int_equal(rp_session_load(&s, &o), -EBADMSG);
	free(m.data);

	/* no trailer (the recorder was killed): replayed, with a warning */
	build_session(&m, false);
	o.session = m.data;
	o.session_len = m.len;
	assert_int_equal(rp_session_load(&s, &o), 0);
	assert_int_equal(s.n, NRECS - 1);
	rp_session_release(&s);
	free(m.data);
}

/* --- the replayed session ------------------------------------------------- */

static char out_path[64];

static int teardown_out(void **state)
{
	(void)state;
	if (out_path[0])
		unlink(out_path);
	out_path[0] = '\0';
	return 0;
}

static void open_out(struct rp_output *o)
{
	struct dt_attr meta[] = { { "command", "deetune replay x" },
				  { "source", "s.dtsess" } };
	int fd;

	snprintf(out_path, sizeof(out_path), "/tmp/dt-replay-XXXXXX");
	fd = mkstemp(out_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rp_output_open(o, out_path, meta, 2), 0);
}

static void recorded_item(struct rp_item *it, uint64_t id)
{
	memset(it, 0, sizeof(*it));
	dt_exchange_init(&it->rec);
	it->rec.id = id;
	it->rec.protocol = DT_PROTO_MYSQL;
	it->rec.flags = DT_XF_MIDSTREAM;
	assert_int_equal(dt_exchange_set_request(&it->rec, "\3SELECT 1", 9),
			 0);
	assert_int_equal(dt_exchange_set_response(&it->rec, "resp", 4), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "request.sql",
					      "SELECT 1"), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "response.kind",
					      "resultset"), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "status", "200"), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "reply", "x"), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "error", "1"), 0);
	assert_int_equal(dt_exchange_set_attr(&it->rec, "key", "k"), 0);
}

static void test_exchange_begin(void **state)
{
	struct rp_item it;
	struct dt_exchange x;

	(void)state;
	recorded_item(&it, 42);
	assert_int_equal(rp_exchange_begin(&x, &it), 0);
	assert_int_equal(x.link_id, 42);
	assert_int_equal(x.id, 0);
	assert_int_equal(x.protocol, DT_PROTO_MYSQL);
	assert_int_equal(x.flags, 0);
	assert_int_equal(x.request_len, 9);
	assert_memory_equal(x.request, "\3SELECT 1", 9);
	assert_null(x.response);
	/* the request's summary, not the response's */
	assert_int_equal(x.nattrs, 2);
	assert_string_equal(dt_exchange_attr(&x, "request.sql"), "SELECT 1");
	assert_string_equal(dt_exchange_attr(&x, "key"), "k");
	dt_exchange_release(&x);
	dt_exchange_release(&it.rec);
}

#define NTHREADS 4
#define PER_THREAD 250

struct writer {
	struct rp_ctx *ctx;
	struct rp_item *it;
};

static void *emit_many(void *arg)
{
	struct writer *w = arg;
	struct dt_exchange x;

	for (int i = 0; i < PER_THREAD; i++) {
		assert_int_equal(rp_exchange_begin(&x, w->it), 0);
		x.conn_id = rp_output_conn_id(&w->ctx->out);
		rp_output_emit(&w->ctx->out, &x, RP_ANSWERED);
		dt_exchange_release(&x);
	}
	return NULL;
}

static void read_back(struct rp_ctx *ctx, struct rp_item *it)
{
	static uint8_t buf[1 << 20];
	struct dt_session_reader *r;
	struct dt_exchange x;
	bool seen_id[NTHREADS * PER_THREAD + 2] = { false };
	bool seen_conn[NTHREADS * PER_THREAD + 1] = { false };
	size_t n = 0, nstats;
	const struct dt_attr *stats;
	char err[256];
	FILE *f = fopen(out_path, "rb");
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(dt_session_reader_open(&r, buf, len, err,
						sizeof(err)), 0);
	dt_exchange_init(&x);
	while (dt_session_reader_next(r, &x) == 1) {
		n++;
		assert_true(x.id >= 1 && x.id <= NTHREADS * PER_THREAD + 1);
		assert_false(seen_id[x.id]);
		seen_id[x.id] = true;
		assert_int_equal(x.link_id, it->rec.id);
		if (x.flags & DT_XF_NO_RESPONSE) {
			assert_string_equal(dt_exchange_attr(&x, RP_ATTR_ERROR),
					    "not sent: why");
			assert_int_equal(x.req_start_ns, 123);
			continue;
		}
		assert_true(x.conn_id >= 1 && x.conn_id <= NTHREADS * PER_THREAD);
		assert_false(seen_conn[x.conn_id]);
		seen_conn[x.conn_id] = true;
	}
	assert_int_equal(n, NTHREADS * PER_THREAD + 1);
	assert_true(dt_session_reader_has_trailer(r));
	stats = dt_session_reader_stats(r, &nstats);
	assert_int_equal(nstats, 1);
	assert_string_equal(stats[0].value, "1001");
	dt_exchange_release(&x);
	dt_session_reader_free(r);
	(void)ctx;
}

static void test_output_threads(void **state)
{
	struct rp_ctx *ctx = calloc(1, sizeof(*ctx));
	struct writer w[NTHREADS];
	pthread_t t[NTHREADS];
	struct dt_attr stat = { "exchanges", "1001" };
	uint64_t failed;
	struct rp_item it;

	(void)state;
	assert_non_null(ctx);
	recorded_item(&it, 7);
	open_out(&ctx->out);
	rp_emit_failure(ctx, &it, NULL, NULL, 123, "not sent: why",
			RP_FAILED);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct writer){ ctx, &it };
		assert_int_equal(pthread_create(&t[i], NULL, emit_many, &w[i]),
				 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(rp_output_done(&ctx->out, &failed),
			 NTHREADS * PER_THREAD + 1);
	assert_int_equal(failed, 1);
	assert_int_equal(rp_output_finish(&ctx->out, &stat, 1), 0);
	rp_output_close(&ctx->out);
	read_back(ctx, &it);
	dt_exchange_release(&it.rec);
	free(ctx);
}

static void test_output_errors(void **state)
{
	struct rp_output o;

	(void)state;
	assert_int_equal(rp_output_open(&o, "/nonexistent/dir/out", NULL, 0),
			 -ENOENT);
	open_out(&o);
	/* an exchange that could not be built fails the output */
	rp_output_emit(&o, NULL, RP_ANSWERED);
	assert_int_equal(rp_output_done(&o, NULL), 1);
	assert_int_equal(rp_output_finish(&o, NULL, 0), -ENOMEM);
	rp_output_close(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_groups_and_orders),
		cmocka_unit_test(test_load_keeps_handshakes),
		cmocka_unit_test(test_load_damaged),
		cmocka_unit_test(test_exchange_begin),
		cmocka_unit_test_teardown(test_output_threads, teardown_out),
		cmocka_unit_test_teardown(test_output_errors, teardown_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
