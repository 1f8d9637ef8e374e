// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the MySQL codec.
 *
 * Input: byte 0 holds options (bit 0: joined mid-stream, bit 1: tiny
 * summary limits), bytes 1-2 seed the sizes of the pieces the streams
 * arrive in, then chunks: a 2-byte header (bit 0: direction, the other 15
 * bits: length) and the chunk's bytes, in capture order. The session is
 * fed as the recorder does (unconsumed bytes kept and passed again), once
 * in whole chunks and once in random pieces; every event is checked
 * (ranges within the streams, in order, never released early), its
 * summary rendered, its bytes decoded again on their own and redacted.
 * Without resynchronisation both runs must give the same events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/mysql.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_EVENTS 4096

struct stream {
	const uint8_t *all;      /* every byte of the direction */
	size_t len;
	uint8_t *pending;        /* bytes not consumed yet */
	size_t npending;
	uint64_t base;           /* stream offset of pending[0] */
	uint64_t retain;
	uint64_t seen_end;
};

struct ctx {
	struct dt_mysql_conn *c;
	struct stream s[2];
	uint32_t rng;
	/* a digest of each event, to compare runs */
	uint64_t digest[MAX_EVENTS];
	size_t nevents;
};

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint64_t hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static void check_summary(struct ctx *x, const struct dt_mysql_event *ev,
			  uint64_t *h)
{
	struct dt_exchange ex;
	size_t i;

	dt_exchange_init(&ex);
	CHECK(dt_mysql_summary_to_attrs(ev->summary, &ex) == 0);
	for (i = 0; i < ex.nattrs; i++) {
		*h = hash(*h, ex.attrs[i].key, strlen(ex.attrs[i].key));
		*h = hash(*h, ex.attrs[i].value, strlen(ex.attrs[i].value));
	}
	dt_exchange_release(&ex);
	if (ev->summary->request.sql) {
		const struct dt_mysql_request *rq = &ev->summary->request;
		char norm[128];

		CHECK(strlen(rq->sql) <= rq->sql_len);
		dt_mysql_sql_normalize(rq->sql, rq->sql_len, norm, sizeof(norm),
				       DT_MYSQL_SQL_UPPER_KEYWORDS);
		CHECK(strlen(norm) < sizeof(norm));
		dt_mysql_sql_kind(rq->sql, rq->sql_len);
	}
	(void)x;
}

/* The exchange's bytes decoded alone, and its request redacted. */
static void check_bytes(struct ctx *x, const struct dt_mysql_event *ev)
{
	const uint8_t *req = x->s[DT_MYSQL_CLIENT].all + ev->req_start;
	const uint8_t *resp = x->s[DT_MYSQL_SERVER].all + ev->resp_start;
	size_t req_len = ev->req_end - ev->req_start;
	size_t resp_len = ev->resp_end - ev->resp_start;
	struct dt_mysql_summary *sum;
	uint8_t *copy;
	int ret;

	ret = dt_mysql_decode_exchange(req, req_len, resp, resp_len, 0, NULL,
				       &sum);
	CHECK(ret == 0 || ret == -EBADMSG);
	CHECK((ret == 0) == (sum != NULL));
	dt_mysql_summary_free(sum);
	copy = malloc(req_len ? req_len : 1);
	CHECK(copy);
	memcpy(copy, req, req_len);
	CHECK(dt_mysql_redact_auth(copy, req_len) <= req_len);
	free(copy);
}

static void drain(struct ctx *x)
{
	struct dt_mysql_event ev;
	int d;

	while (dt_mysql_next_event(x->c, &ev) == 1) {
		uint64_t h = 0xcbf29ce484222325ull;

		CHECK(ev.summary);
		CHECK(ev.req_start <= ev.req_end);
		CHECK(ev.resp_start <= ev.resp_end);
		CHECK(ev.req_end <= x->s[DT_MYSQL_CLIENT].len);
		CHECK(ev.resp_end <= x->s[DT_MYSQL_SERVER].len);
		CHECK(ev.req_start >= x->s[DT_MYSQL_CLIENT].retain);
		CHECK(ev.resp_start >= x->s[DT_MYSQL_SERVER].retain);
		if (ev.req_end > ev.req_start) {
			CHECK(ev.req_start >= x->s[DT_MYSQL_CLIENT].seen_end);
			x->s[DT_MYSQL_CLIENT].seen_end = ev.req_end;
		}
		if (ev.resp_end > ev.resp_start) {
			CHECK(ev.resp_start >= x->s[DT_MYSQL_SERVER].seen_end);
			x->s[DT_MYSQL_SERVER].seen_end = ev.resp_end;
		}
		h = hash(h, &ev.flags, sizeof(ev.flags));
		h = hash(h, &ev.req_start, sizeof(ev.req_start));
		h = hash(h, &ev.req_end, sizeof(ev.req_end));
		h = hash(h, &ev.resp_start, sizeof(ev.resp_start));
		h = hash(h, &ev.resp_end, sizeof(ev.resp_end));
		check_summary(x, &ev, &h);
		check_bytes(x, &ev);
		if (x->nevents < MAX_EVENTS)
			x->digest[x->nevents] = h;
		x->nevents++;
		dt_mysql_event_release(&ev);
	}
	for (d = 0; d < 2; d++) {
		uint64_t r = dt_mysql_retain_offset(x->c, d);

		CHECK(r >= x->s[d].retain);
		x->s[d].retain = r;
	}
}

static void feed(struct ctx *x, int dir, const uint8_t *p, size_t n)
{
	struct stream *s = &x->s[dir];
	size_t used;

	memcpy(s->pending + s->npending, p, n);
	s->npending += n;
	CHECK(dt_mysql_feed(x->c, dir, s->base, s->pending, s->npending,
			    &used) == 0);
	CHECK(used <= s->npending);
	memmove(s->pending, s->pending + used, s->npending - used);
	s->npending -= used;
	s->base += used;
	drain(x);
}

struct chunk {
	int dir;
	const uint8_t *p;
	size_t len;
};

static size_t parse_chunks(const uint8_t *data, size_t size,
			   struct chunk *out, size_t max)
{
	size_t n = 0, pos = 0;

	while (pos + 2 <= size && n < max) {
		size_t len = (data[pos] >> 1) | (size_t)data[pos + 1] << 7;

		out[n].dir = data[pos] & 1;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		out[n].p = data + pos;
		out[n].len = len;
		pos += len;
		n++;
	}
	return n;
}

/* One run; pieces: feed in random pieces rather than whole chunks. */
static void run(struct ctx *x, const struct dt_mysql_opts *opts,
		const struct chunk *ch, size_t n, uint8_t *const all[2],
		const size_t len[2], bool pieces, uint32_t seed)
{
	size_t i;
	int d;

	memset(x, 0, sizeof(*x));
	x->rng = seed | 1;
	for (d = 0; d < 2; d++) {
		x->s[d].all = all[d];
		x->s[d].len = len[d];
		x->s[d].pending = malloc(len[d] + 1);
		CHECK(x->s[d].pending);
	}
	CHECK(dt_mysql_conn_new(&x->c, opts) == 0);
	for (i = 0; i < n; i++) {
		size_t pos = 0;

		while (pos < ch[i].len) {
			size_t k = ch[i].len - pos;
			uint32_t r = rng_next(&x->rng);

			if (pieces)
				k = 1 + r % ((r & 7) ? 16 : 512);
			if (k > ch[i].len - pos)
				k = ch[i].len - pos;
			feed(x, ch[i].dir, ch[i].p + pos, k);
			pos += k;
		}
	}
	CHECK(dt_mysql_close(x->c) == 0);
	drain(x);
}

static void run_done(struct ctx *x, struct dt_mysql_stats *st)
{
	dt_mysql_conn_stats(x->c, st);
	dt_mysql_conn_free(x->c);
	free(x->s[0].pending);
	free(x->s[1].pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx a, b;
	struct chunk ch[512];
	struct dt_mysql_opts opts;
	struct dt_mysql_stats sa, sb;
	uint8_t *all[2];
	size_t len[2] = { 0, 0 }, n, i;
	uint32_t seed;

	if (size < 3)
		return 0;
	dt_mysql_opts_init(&opts);
	opts.midstream = data[0] & 1;
	if (data[0] & 2) {
		opts.max_rows = 1;
		opts.max_value = 3;
		opts.max_sql = 5;
		opts.max_params = 1;
		opts.max_results = 1;
	}
	seed = data[1] | (uint32_t)data[2] << 8;
	n = parse_chunks(data + 3, size - 3, ch, sizeof(ch) / sizeof(ch[0]));
	all[0] = malloc(size);
	all[1] = malloc(size);
	CHECK(all[0] && all[1]);
	for (i = 0; i < n; i++) {
		memcpy(all[ch[i].dir] + len[ch[i].dir], ch[i].p, ch[i].len);
		len[ch[i].dir] += ch[i].len;
	}
	if (n) {
		dt_mysql_detect(ch[0].p, ch[0].len,
				ch[0].dir ? DT_MYSQL_SERVER : DT_MYSQL_CLIENT);
	}
	run(&a, &opts, ch, n, all, len, false, seed);
	run(&b, &opts, ch, n, all, len, true, seed);
	run_done(&a, &sa);
	run_done(&b, &sb);
	/* in sync, how the bytes were cut never matters */
	if (!opts.midstream && !sa.resyncs && !sb.resyncs) {
		CHECK(a.nevents == b.nevents);
		for (i = 0; i < a.nevents && i < MAX_EVENTS; i++)
			CHECK(a.digest[i] == b.digest[i]);
	}
	free(all[0]);
	free(all[1]);
	return 0;
}
