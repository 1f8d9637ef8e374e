// SPDX-License-Identifier: MIT
/*
 * Unit tests of the MySQL codec: sessions captured from MariaDB 10.11
 * (the .chunks files in fixtures/mysql, see pcap2chunks.py) and sessions
 * built here packet by packet for what the captures cannot show
 * (CLIENT_DEPRECATE_EOF,
 * TLS, 16 MiB payloads, joins, gaps, hostile bytes).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "formats/mysql.h"

#define C DT_MYSQL_CLIENT
#define S DT_MYSQL_SERVER
#define MAX_PACKET 0xffffffu

/* ---------------------------------------------------------------------- */
/* Byte buffers and sessions                                              */
/* ---------------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_uint(struct buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];
	size_t i;

	for (i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	put(b, tmp, n);
}

static void put_u8(struct buf *b, uint8_t v)
{
	put_uint(b, v, 1);
}

static void put_lenenc(struct buf *b, uint64_t v)
{
	if (v < 0xfb) {
		put_u8(b, (uint8_t)v);
	} else if (v < 0x10000) {
		put_u8(b, 0xfc);
		put_uint(b, v, 2);
	} else if (v < 0x1000000) {
		put_u8(b, 0xfd);
		put_uint(b, v, 3);
	} else {
		put_u8(b, 0xfe);
		put_uint(b, v, 8);
	}
}

static void put_str(struct buf *b, const char *s)
{
	put_lenenc(b, strlen(s));
	put(b, s, strlen(s));
}

static void put_cstr(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

static void put_zero(struct buf *b, size_t n)
{
	uint8_t z[32] = { 0 };

	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		put(b, z, k);
		n -= k;
	}
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The bytes of a connection in capture order, as chunks of one direction
 * (what one syscall carried, or more). */
struct chunk {
	int dir;
	uint8_t *data;
	size_t len;
};

struct session {
	struct chunk *c;
	size_t n, cap;
	uint8_t seq;      /* next sequence id for pkt() */
};

static void sess_bytes(struct session *s, int dir, const void *p, size_t n)
{
	struct chunk *ch;

	if (!s->n || s->c[s->n - 1].dir != dir) {
		if (s->n == s->cap) {
			s->cap = s->cap * 2 + 8;
			s->c = realloc(s->c, s->cap * sizeof(*s->c));
			assert_non_null(s->c);
		}
		s->c[s->n++] = (struct chunk){ .dir = dir };
	}
	ch = &s->c[s->n - 1];
	ch->data = realloc(ch->data, ch->len + n + 1);
	assert_non_null(ch->data);
	memcpy(ch->data + ch->len, p, n);
	ch->len += n;
}

/* Appends one packet; payload lengths of 0xffffff and more are split in
 * packets the protocol's way. Sequence ids: a client packet with seq 0
 * restarts the count. */
static void pkt_seq(struct session *s, int dir, uint8_t seq, const void *p,
		    size_t n)
{
	const uint8_t *bytes = p;
	uint8_t hdr[4];

	for (;;) {
		size_t k = n < MAX_PACKET ? n : MAX_PACKET;

		hdr[0] = (uint8_t)k;
		hdr[1] = (uint8_t)(k >> 8);
		hdr[2] = (uint8_t)(k >> 16);
		hdr[3] = seq++;
		sess_bytes(s, dir, hdr, 4);
		sess_bytes(s, dir, bytes, k);
		bytes += k;
		n -= k;
		if (k < MAX_PACKET)
			break;
	}
	s->seq = seq;
}

static void pkt(struct session *s, int dir, const struct buf *b)
{
	pkt_seq(s, dir, s->seq, b->p, b->len);
}

/* A command: sequence 0. */
static void cmd(struct session *s, const struct buf *b)
{
	pkt_seq(s, C, 0, b->p, b->len);
}

static void cmd_text(struct session *s, uint8_t command, const char *text)
{
	struct buf b = { 0 };

	put_u8(&b, command);
	put(&b, text, strlen(text));
	cmd(s, &b);
	buf_free(&b);
}

static void sess_free(struct session *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->c[i].data);
	free(s->c);
	memset(s, 0, sizeof(*s));
}

static size_t sess_stream_len(const struct session *s, int dir)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->c[i].dir == dir)
			n += s->c[i].len;
	return n;
}

/* One direction's bytes concatenated; caller frees. */
static uint8_t *sess_stream(const struct session *s, int dir, size_t *len)
{
	uint8_t *out = malloc(sess_stream_len(s, dir) + 1);
	size_t i;

	assert_non_null(out);
	*len = 0;
	for (i = 0; i < s->n; i++) {
		if (s->c[i].dir != dir)
			continue;
		memcpy(out + *len, s->c[i].data, s->c[i].len);
		*len += s->c[i].len;
	}
	return out;
}

/* fixtures/mysql/ from the working directory or above the test binary. */
static FILE *fixture_open(const char *name)
{
	char path[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t n;
	FILE *f;
	int up;

	snprintf(path, sizeof(path), "fixtures/mysql/%s", name);
	f = fopen(path, "rb");
	if (f)
		return f;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	for (up = 0; up < 6 && !f; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/fixtures/mysql/%s", exe, name);
		f = fopen(path, "rb");
	}
	if (!f)
		fail_msg("fixture %s not found", name);
	return f;
}

static void sess_load(struct session *s, const char *name)
{
	FILE *f = fixture_open(name);
	uint8_t hdr[5];

	memset(s, 0, sizeof(*s));
	while (fread(hdr, 1, 5, f) == 5) {
		size_t len = hdr[1] | hdr[2] << 8 | hdr[3] << 16 |
			     (size_t)hdr[4] << 24;
		uint8_t *data = malloc(len + 1);

		assert_non_null(data);
		assert_int_equal(fread(data, 1, len, f), len);
		sess_bytes(s, hdr[0] == 'C' ? C : S, data, len);
		free(data);
	}
	fclose(f);
	assert_true(s->n > 0);
}

/* ---------------------------------------------------------------------- */
/* Running a session through the codec as the recorder does              */
/* ---------------------------------------------------------------------- */

enum split {
	SPLIT_CHUNKS = 0,   /* each chunk in one feed */
	SPLIT_BYTES,        /* one byte per feed */
	SPLIT_AT,           /* one chunk cut at global position `at` */
	SPLIT_HEADERS,      /* packet headers and bodies fed apart */
	SPLIT_RANDOM,       /* random piece sizes */
	SPLIT_FIXED,        /* pieces of `at` bytes */
};

struct plan {
	enum split split;
	size_t at;
	uint32_t seed;
	const struct dt_mysql_opts *opts;
	/* bytes [drop_start, drop_end) of a direction never arrive */
	uint64_t drop_start[2], drop_end[2];
	bool no_close;
};

struct rec_event {
	struct dt_mysql_event ev;
	char *text;
};

struct run {
	struct rec_event *ev;
	size_t n;
	const char *unsupported;
	struct dt_mysql_stats st;
};

struct runner {
	struct dt_mysql_conn *c;
	struct run *out;
	struct buf pending[2];
	uint64_t base[2];
	uint64_t retain[2];
	size_t cap;
	uint64_t seen_end[2];
};

static char *event_text(const struct dt_mysql_event *ev)
{
	struct dt_exchange x;
	struct buf b = { 0 };
	char line[128];
	size_t i;

	dt_exchange_init(&x);
	assert_int_equal(dt_mysql_summary_to_attrs(ev->summary, &x), 0);
	snprintf(line, sizeof(line),
		 "flags=%#x req=[%llu,%llu) resp=[%llu,%llu)\n", ev->flags,
		 (unsigned long long)ev->req_start,
		 (unsigned long long)ev->req_end,
		 (unsigned long long)ev->resp_start,
		 (unsigned long long)ev->resp_end);
	put(&b, line, strlen(line));
	for (i = 0; i < x.nattrs; i++) {
		put(&b, x.attrs[i].key, strlen(x.attrs[i].key));
		put(&b, "=", 1);
		put(&b, x.attrs[i].value, strlen(x.attrs[i].value));
		put(&b, "\n", 1);
	}
	put(&b, "", 1);
	dt_exchange_release(&x);
	return (char *)b.p;
}

static void runner_drain(struct runner *rn)
{
	struct dt_mysql_event ev;
	struct run *out = rn->out;
	int d;

	while (dt_mysql_next_event(rn->c, &ev) == 1) {
		assert_non_null(ev.summary);
		assert_true(ev.req_start <= ev.req_end);
		assert_true(ev.resp_start <= ev.resp_end);
		/* nothing an event needs was released before */
		assert_true(ev.req_start >= rn->retain[C]);
		assert_true(ev.resp_start >= rn->retain[S]);
		/* exchanges come in stream order, never overlapping */
		if (ev.req_end > ev.req_start) {
			assert_true(ev.req_start >= rn->seen_end[C]);
			rn->seen_end[C] = ev.req_end;
		}
		if (ev.resp_end > ev.resp_start) {
			assert_true(ev.resp_start >= rn->seen_end[S]);
			rn->seen_end[S] = ev.resp_end;
		}
		if (out->n == rn->cap) {
			rn->cap = rn->cap * 2 + 16;
			out->ev = realloc(out->ev, rn->cap * sizeof(*out->ev));
			assert_non_null(out->ev);
		}
		out->ev[out->n].ev = ev;
		out->ev[out->n].text = event_text(&ev);
		out->n++;
	}
	for (d = 0; d < 2; d++) {
		uint64_t r = dt_mysql_retain_offset(rn->c, d);

		assert_true(r >= rn->retain[d]);
		rn->retain[d] = r;
	}
}

/* Feeds bytes p[0..n) found at stream offset off of dir. */
static void runner_feed(struct runner *rn, int dir, uint64_t off,
			const uint8_t *p, size_t n)
{
	struct buf *pend = &rn->pending[dir];
	size_t used;

	if (off != rn->base[dir] + pend->len) {
		/* bytes were lost: drop what waited, report the gap */
		pend->len = 0;
		rn->base[dir] = off;
	}
	put(pend, p, n);
	assert_int_equal(dt_mysql_feed(rn->c, dir, rn->base[dir], pend->p,
				       pend->len, &used),
			 0);
	assert_true(used <= pend->len);
	if (used)
		memmove(pend->p, pend->p + used, pend->len - used);
	pend->len -= used;
	rn->base[dir] += used;
	runner_drain(rn);
}

/* Feeds [off, off + n) minus the dropped range. */
static void runner_piece(struct runner *rn, const struct plan *pl, int dir,
			 uint64_t off, const uint8_t *p, size_t n)
{
	uint64_t a = pl->drop_start[dir], b = pl->drop_end[dir];

	if (b <= off || a >= off + n) {
		runner_feed(rn, dir, off, p, n);
		return;
	}
	if (a > off)
		runner_feed(rn, dir, off, p, a - off);
	if (b < off + n)
		runner_feed(rn, dir, b, p + (b - off), off + n - b);
}

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Where to cut a chunk: the length of the next piece at p (left bytes
 * to the chunk's end, global: its position over all chunks). For
 * SPLIT_HEADERS, *next_packet is where the next packet header starts. */
static size_t piece_len(const struct plan *pl, uint32_t *rng,
			const uint8_t *p, size_t left, size_t global,
			size_t pos, size_t *next_packet)
{
	size_t plen;

	switch (pl->split) {
	case SPLIT_BYTES:
		return 1;
	case SPLIT_AT:
		return global < pl->at && pl->at < global + left ?
			       pl->at - global :
			       left;
	case SPLIT_HEADERS:
		if (pos < *next_packet)
			return *next_packet - pos < left ? *next_packet - pos
							 : left;
		if (left < 4)
			return left;
		plen = p[0] | p[1] << 8 | (size_t)p[2] << 16;
		*next_packet = pos + 4 + plen;
		return 4;
	case SPLIT_RANDOM:
		return 1 + rng_next(rng) % (left < 64 ? left : 64);
	case SPLIT_FIXED:
		return pl->at < left ? pl->at : left;
	default:
		return left;
	}
}

static void run_session(const struct session *s, const struct plan *pl,
			struct run *out)
{
	struct runner rn = { .out = out };
	uint64_t off[2] = { 0, 0 };
	uint32_t rng = pl->seed ? pl->seed : 1;
	size_t global = 0, i;

	memset(out, 0, sizeof(*out));
	assert_int_equal(dt_mysql_conn_new(&rn.c, pl->opts), 0);
	for (i = 0; i < s->n; i++) {
		const struct chunk *ch = &s->c[i];
		size_t pos = 0, next_packet = 0;

		while (pos < ch->len) {
			size_t n = piece_len(pl, &rng, ch->data + pos,
					     ch->len - pos, global + pos, pos,
					     &next_packet);

			runner_piece(&rn, pl, ch->dir, off[ch->dir] + pos,
				     ch->data + pos, n);
			pos += n;
		}
		off[ch->dir] += ch->len;
		global += ch->len;
	}
	if (!pl->no_close) {
		assert_int_equal(dt_mysql_close(rn.c), 0);
		runner_drain(&rn);
	}
	out->unsupported = dt_mysql_conn_unsupported(rn.c);
	dt_mysql_conn_stats(rn.c, &out->st);
	dt_mysql_conn_free(rn.c);
	buf_free(&rn.pending[0]);
	buf_free(&rn.pending[1]);
}

static void run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		dt_mysql_event_release(&r->ev[i].ev);
		free(r->ev[i].text);
	}
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static const struct dt_mysql_summary *sum_of(const struct run *r, size_t i)
{
	assert_true(i < r->n);
	return r->ev[i].ev.summary;
}

static const struct dt_mysql_result *result_of(const struct run *r, size_t i,
					       size_t k)
{
	const struct dt_mysql_summary *s = sum_of(r, i);

	assert_true(k < s->response.nresults);
	return &s->response.results[k];
}

static void assert_runs_equal(const struct run *a, const struct run *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++)
		assert_string_equal(a->ev[i].text, b->ev[i].text);
}

/* Attribute value in an event's text, NULL when absent (static buffer). */
static const char *attr_of(const struct run *r, size_t i, const char *key)
{
	static char value[70000];
	const char *t, *end;
	size_t klen = strlen(key);

	assert_true(i < r->n);
	for (t = r->ev[i].text; (t = strchr(t, '\n')); ) {
		t++;
		if (!strncmp(t, key, klen) && t[klen] == '=') {
			t += klen + 1;
			end = strchr(t, '\n');
			snprintf(value, sizeof(value), "%.*s", (int)(end - t),
				 t);
			return value;
		}
	}
	return NULL;
}

/* Text after the first line (the flags and ranges). */
static const char *attrs_text(const struct run *r, size_t i)
{
	return strchr(r->ev[i].text, '\n') + 1;
}

static void assert_attr(const struct run *r, size_t i, const char *key,
			const char *want)
{
	const char *got = attr_of(r, i, key);

	if (!want) {
		if (got)
			fail_msg("event %zu: %s=%s, expected none", i, key,
				 got);
		return;
	}
	if (!got)
		fail_msg("event %zu: no %s (expected %s)\n%s", i, key, want,
			 r->ev[i].text);
	assert_string_equal(got, want);
}

static void run_whole(const struct session *s, struct run *out)
{
	struct plan pl = { 0 };

	run_session(s, &pl, out);
}

/* Runs s whole, byte by byte and in random pieces: same events, no
 * crash; returns the whole run. */
static void run_all_ways(const struct session *s, struct run *out)
{
	struct plan pl = { .split = SPLIT_BYTES };
	struct run r;

	run_whole(s, out);
	run_session(s, &pl, &r);
	assert_runs_equal(out, &r);
	run_free(&r);
	pl.split = SPLIT_RANDOM;
	pl.seed = 7;
	run_session(s, &pl, &r);
	assert_runs_equal(out, &r);
	run_free(&r);
}

/* Every byte of both streams belongs to exactly one exchange, in order. */
static void assert_covers(const struct run *r, const struct session *s)
{
	uint64_t next[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct dt_mysql_event *ev = &r->ev[i].ev;

		assert_int_equal(ev->req_start, next[C]);
		assert_int_equal(ev->resp_start, next[S]);
		next[C] = ev->req_end;
		next[S] = ev->resp_end;
	}
	assert_int_equal(next[C], sess_stream_len(s, C));
	assert_int_equal(next[S], sess_stream_len(s, S));
}

/* ---------------------------------------------------------------------- */
/* Captured sessions                                                      */
/* ---------------------------------------------------------------------- */

static void test_text_session(void **state)
{
	struct session s;
	struct run r;
	const struct dt_mysql_result *res;
	const struct dt_mysql_summary *hs;

	(void)state;
	sess_load(&s, "text.chunks");
	run_whole(&s, &r);
	assert_int_equal(r.n, 13);
	assert_covers(&r, &s);
	assert_null(r.unsupported);
	assert_int_equal(r.st.malformed, 0);

	hs = sum_of(&r, 0);
	assert_int_equal(hs->request.command, DT_MYSQL_CMD_HANDSHAKE);
	assert_string_equal(hs->request.user, "app");
	assert_string_equal(hs->request.schema, "shop");
	assert_true(hs->request.has_auth);
	assert_true(hs->request.client_caps & DT_MYSQL_CLIENT_CONNECT_WITH_DB);
	assert_false(hs->request.client_caps & DT_MYSQL_CLIENT_DEPRECATE_EOF);
	assert_string_equal(hs->response.server_version,
			    "5.5.5-10.11.19-MariaDB-0+deb12u1");
	assert_string_equal(hs->response.auth_plugin, "mysql_native_password");
	assert_string_equal(hs->response.kind, "handshake");
	assert_int_equal(r.ev[0].ev.flags, 0);

	assert_attr(&r, 3, "request.sql",
		    "INSERT INTO orders (item, qty) VALUES ('apple', 3), "
		    "('pear', NULL)");
	assert_attr(&r, 3, "request.kind", "insert");
	assert_attr(&r, 3, "response.kind", "ok");
	assert_attr(&r, 3, "response.affected_rows", "2");
	assert_attr(&r, 3, "response.last_insert_id", "1");
	assert_attr(&r, 3, "response.info",
		    "Records: 2  Duplicates: 0  Warnings: 0");

	res = result_of(&r, 4, 0);
	assert_int_equal(res->kind, DT_MYSQL_RESULT_RESULTSET);
	assert_false(res->binary);
	assert_int_equal(res->ncolumns, 3);
	assert_string_equal(res->columns[1].name, "item");
	assert_string_equal(res->columns[1].table, "orders");
	assert_string_equal(res->columns[1].schema, "shop");
	assert_int_equal(res->columns[1].type, DT_MYSQL_TYPE_VAR_STRING);
	assert_int_equal(res->columns[2].type, DT_MYSQL_TYPE_LONG);
	assert_int_equal(res->nrows, 2);
	assert_int_equal(res->nrows_kept, 2);
	assert_string_equal(res->rows[1].text, "apple");
	assert_true(res->rows[5].is_null);
	assert_null(res->rows[5].text);
	assert_attr(&r, 4, "response.preview",
		    "[[\"1\",\"apple\",\"3\"],[\"2\",\"pear\",null]]");

	assert_attr(&r, 5, "response.kind", "err");
	assert_attr(&r, 5, "response.error_code", "1146");
	assert_attr(&r, 5, "response.sql_state", "42S02");
	assert_attr(&r, 5, "response.error_message",
		    "Table 'shop.nosuchtable' doesn't exist");

	/* CALL: two result sets, then the procedure's OK */
	assert_attr(&r, 8, "request.sql", "CALL two()");
	assert_int_equal(sum_of(&r, 8)->response.results_total, 3);
	assert_int_equal(result_of(&r, 8, 0)->kind, DT_MYSQL_RESULT_RESULTSET);
	assert_true(result_of(&r, 8, 0)->status &
		    DT_MYSQL_STATUS_MORE_RESULTS);
	res = result_of(&r, 8, 1);
	assert_int_equal(res->kind, DT_MYSQL_RESULT_RESULTSET);
	assert_string_equal(res->columns[0].name, "b");
	assert_string_equal(res->rows[0].text, "x");
	assert_true(res->rows[1].is_null);
	assert_int_equal(result_of(&r, 8, 2)->kind, DT_MYSQL_RESULT_OK);
	assert_attr(&r, 8, "response.kind", "resultset");
	assert_attr(&r, 8, "response.results", "3");

	assert_attr(&r, 10, "request.command", "COM_INIT_DB");
	assert_attr(&r, 10, "request.schema", "mysql");
	assert_attr(&r, 12, "request.command", "COM_QUIT");
	assert_attr(&r, 12, "response.kind", "none");
	assert_int_equal(r.ev[12].ev.resp_start, r.ev[12].ev.resp_end);
	run_free(&r);
	sess_free(&s);
}

static const struct dt_mysql_value *param_of(const struct run *r, size_t i,
					     size_t k)
{
	const struct dt_mysql_request *rq = &sum_of(r, i)->request;

	assert_true(rq->params_decoded);
	assert_true(k < rq->nparams_kept);
	return &rq->params[k];
}

static void assert_value(const struct dt_mysql_value *v, uint8_t type,
			 const char *text)
{
	assert_int_equal(v->type, type);
	assert_false(v->is_null);
	assert_non_null(v->text);
	assert_string_equal(v->text, text);
}

/* prepared.chunks, event by event (see fixtures/mysql/ps_client.c) */
enum {
	PS_HANDSHAKE = 0,
	PS_PREPARE_INSERT = 3,
	PS_EXECUTE_1 = 4,
	PS_EXECUTE_2 = 5,
	PS_CLOSE_INSERT = 6,
	PS_PREPARE_SELECT = 7,
	PS_SELECT_1 = 8,
	PS_SELECT_2 = 9,
	PS_RESET = 10,
	PS_CURSOR_EXECUTE = 13,
	PS_FETCH = 14,
	PS_LONG_DATA = 18,
	PS_LONG_EXECUTE = 20,
	PS_PING = 22,
	PS_STATISTICS = 23,
	PS_RESET_CONNECTION = 25,
	PS_QUIT = 26,
	PS_EVENTS = 27,
};

static void check_binary_row(const struct dt_mysql_value *row, const char *id,
			     const char *ti, const char *s)
{
	assert_value(&row[0], DT_MYSQL_TYPE_LONG, id);
	assert_value(&row[1], DT_MYSQL_TYPE_TINY, ti);
	assert_value(&row[2], DT_MYSQL_TYPE_SHORT, "65000");
	assert_true(row[2].is_unsigned);
	assert_value(&row[3], DT_MYSQL_TYPE_LONG, "-123456");
	assert_value(&row[4], DT_MYSQL_TYPE_LONGLONG, "18446744073709551615");
	assert_value(&row[5], DT_MYSQL_TYPE_FLOAT, "1.5");
	assert_value(&row[6], DT_MYSQL_TYPE_DOUBLE, "-2.25");
	assert_value(&row[7], DT_MYSQL_TYPE_VAR_STRING, s);
	assert_int_equal(row[8].len, 4);
	assert_memory_equal(row[8].text, "\x00\x01\x02\xff", 4);
	assert_value(&row[9], DT_MYSQL_TYPE_NEWDECIMAL, "12.34");
	assert_value(&row[10], DT_MYSQL_TYPE_DATE, "2024-02-29");
	assert_value(&row[11], DT_MYSQL_TYPE_TIME, "-26:03:04");
	assert_value(&row[12], DT_MYSQL_TYPE_DATETIME,
		     "2024-02-29 13:14:15.123456");
	assert_true(row[13].is_null);
}

static void test_prepared_session(void **state)
{
	struct session s;
	struct run r;
	const struct dt_mysql_summary *sm;
	const struct dt_mysql_result *res;
	const char *insert = "INSERT INTO types (ti,si,i,bi,f,d,s,b,dc,dt,tm,"
			     "dtt,n) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";

	(void)state;
	sess_load(&s, "prepared.chunks");
	run_whole(&s, &r);
	assert_int_equal(r.n, PS_EVENTS);
	assert_covers(&r, &s);
	assert_int_equal(r.st.malformed, 0);

	sm = sum_of(&r, PS_PREPARE_INSERT);
	assert_string_equal(sm->request.command_name, "COM_STMT_PREPARE");
	assert_string_equal(sm->request.sql, insert);
	assert_true(sm->response.has_stmt);
	assert_int_equal(sm->response.nparams, 13);
	assert_int_equal(sm->response.ncolumns, 0);

	/* types bound by the first execute */
	sm = sum_of(&r, PS_EXECUTE_1);
	assert_string_equal(sm->request.sql, insert);
	assert_int_equal(sm->request.stmt_id,
			 sum_of(&r, PS_PREPARE_INSERT)->response.stmt_id);
	assert_int_equal(sm->request.nparams, 13);
	assert_value(param_of(&r, PS_EXECUTE_1, 0), DT_MYSQL_TYPE_TINY, "-5");
	assert_value(param_of(&r, PS_EXECUTE_1, 1), DT_MYSQL_TYPE_SHORT,
		     "65000");
	assert_true(param_of(&r, PS_EXECUTE_1, 1)->is_unsigned);
	assert_value(param_of(&r, PS_EXECUTE_1, 3), DT_MYSQL_TYPE_LONGLONG,
		     "18446744073709551615");
	assert_value(param_of(&r, PS_EXECUTE_1, 4), DT_MYSQL_TYPE_FLOAT, "1.5");
	assert_value(param_of(&r, PS_EXECUTE_1, 6), DT_MYSQL_TYPE_STRING,
		     "hello");
	assert_int_equal(param_of(&r, PS_EXECUTE_1, 7)->len, 4);
	assert_value(param_of(&r, PS_EXECUTE_1, 8), DT_MYSQL_TYPE_NEWDECIMAL,
		     "12.34");
	assert_value(param_of(&r, PS_EXECUTE_1, 10), DT_MYSQL_TYPE_TIME,
		     "-26:03:04");
	assert_true(param_of(&r, PS_EXECUTE_1, 12)->is_null);
	assert_attr(&r, PS_EXECUTE_1, "response.last_insert_id", "1");

	/* the second execute does not bind types: the first one's apply */
	assert_value(param_of(&r, PS_EXECUTE_2, 0), DT_MYSQL_TYPE_TINY, "7");
	assert_value(param_of(&r, PS_EXECUTE_2, 6), DT_MYSQL_TYPE_STRING,
		     "again");
	assert_value(param_of(&r, PS_EXECUTE_2, 11), DT_MYSQL_TYPE_DATETIME,
		     "2024-02-29 13:14:15.123456");

	assert_attr(&r, PS_CLOSE_INSERT, "request.command", "COM_STMT_CLOSE");
	assert_int_equal(r.ev[PS_CLOSE_INSERT].ev.resp_start,
			 r.ev[PS_CLOSE_INSERT].ev.resp_end);

	sm = sum_of(&r, PS_PREPARE_SELECT);
	assert_int_equal(sm->response.ncolumns, 14);
	assert_int_equal(sm->response.nparams, 1);
	assert_string_equal(sm->response.results[0].columns[13].name, "n");

	/* binary result sets; MariaDB sent no metadata for them (cached) */
	res = result_of(&r, PS_SELECT_1, 0);
	assert_true(res->binary);
	assert_int_equal(res->ncolumns, 14);
	assert_int_equal(res->nrows, 2);
	check_binary_row(res->rows, "1", "-5", "hello");
	check_binary_row(res->rows + 14, "2", "7", "again");
	assert_string_equal(attrs_text(&r, PS_SELECT_1),
			    attrs_text(&r, PS_SELECT_2));
	assert_attr(&r, PS_RESET, "request.command", "COM_STMT_RESET");
	assert_attr(&r, PS_RESET, "response.kind", "ok");

	/* a cursor: the execute sends only metadata, the fetch the rows */
	assert_attr(&r, PS_CURSOR_EXECUTE, "response.rows", "0");
	res = result_of(&r, PS_FETCH, 0);
	assert_attr(&r, PS_FETCH, "request.command", "COM_STMT_FETCH");
	assert_int_equal(res->nrows, 2);
	check_binary_row(res->rows + 14, "2", "7", "again");

	/* long data: no response; the execute leaves the value out */
	assert_attr(&r, PS_LONG_DATA, "request.command",
		    "COM_STMT_SEND_LONG_DATA");
	assert_int_equal(sum_of(&r, PS_LONG_DATA)->request.param_id, 1);
	assert_attr(&r, PS_LONG_DATA, "response.kind", "none");
	assert_value(param_of(&r, PS_LONG_EXECUTE, 0), DT_MYSQL_TYPE_STRING,
		     "long");
	assert_true(param_of(&r, PS_LONG_EXECUTE, 1)->long_data);
	assert_attr(&r, PS_LONG_EXECUTE, "request.params",
		    "[{\"type\":\"STRING\",\"value\":\"long\"},{\"type\":"
		    "\"BLOB\",\"value\":null,\"long_data\":true}]");

	assert_attr(&r, PS_PING, "request.command", "COM_PING");
	assert_attr(&r, PS_PING, "response.kind", "ok");
	res = result_of(&r, PS_STATISTICS, 0);
	assert_int_equal(res->kind, DT_MYSQL_RESULT_DATA);
	assert_true(!strncmp(res->info, "Uptime: ", 8));
	assert_attr(&r, PS_RESET_CONNECTION, "request.command",
		    "COM_RESET_CONNECTION");
	assert_attr(&r, PS_QUIT, "request.command", "COM_QUIT");
	run_free(&r);
	sess_free(&s);
}

static void test_local_infile(void **state)
{
	struct session s;
	struct run r;
	const struct dt_mysql_result *res;

	(void)state;
	sess_load(&s, "infile.chunks");
	run_whole(&s, &r);
	assert_int_equal(r.n, 4);
	assert_covers(&r, &s);
	res = result_of(&r, 2, 0);
	assert_int_equal(res->kind, DT_MYSQL_RESULT_LOCAL_INFILE);
	assert_string_equal(res->info, "/tmp/mysqlcap/x.csv");
	res = result_of(&r, 2, 1);
	assert_int_equal(res->kind, DT_MYSQL_RESULT_OK);
	assert_int_equal(res->affected_rows, 3);
	assert_attr(&r, 2, "response.kind", "local_infile");
	/* the file's contents are part of the request */
	assert_true(r.ev[2].ev.req_end - r.ev[2].ev.req_start >
		    strlen("LOAD DATA LOCAL INFILE '/tmp/mysqlcap/x.csv'") +
			    strlen("1,one\n2,two\n3,\\N\n"));
	run_free(&r);
	sess_free(&s);
}

/* Credentials are zeroed in place; everything else stays, and the redacted
 * bytes still decode to the same summary. */
static void test_auth_switch_redacted(void **state)
{
	struct session s;
	struct run r;
	struct dt_mysql_summary *sum;
	uint8_t *client, *server, *req, *copy;
	size_t client_len, server_len, req_len, zeroed, i, changed = 0;
	const struct dt_mysql_event *hs;

	(void)state;
	sess_load(&s, "ed25519.chunks");
	run_whole(&s, &r);
	assert_int_equal(r.n, 3);
	assert_covers(&r, &s);
	hs = &r.ev[0].ev;
	assert_true(sum_of(&r, 0)->request.has_auth);
	assert_string_equal(sum_of(&r, 0)->request.user, "edu");
	assert_string_equal(sum_of(&r, 0)->response.auth_plugin,
			    "client_ed25519");
	assert_attr(&r, 0, "response.auth_plugin", "client_ed25519");

	client = sess_stream(&s, C, &client_len);
	server = sess_stream(&s, S, &server_len);
	req = client + hs->req_start;
	req_len = hs->req_end - hs->req_start;
	copy = malloc(req_len);
	assert_non_null(copy);
	memcpy(copy, req, req_len);
	zeroed = dt_mysql_redact_auth(copy, req_len);
	/* handshake response: 20-byte scramble; auth switch response: the
	 * 64-byte ed25519 signature */
	assert_int_equal(zeroed, 20 + 64);
	for (i = 0; i < req_len; i++)
		changed += copy[i] != req[i];
	assert_true(changed > 70 && changed <= zeroed);
	assert_non_null(memmem(copy, req_len, "edu", 4));
	assert_non_null(memmem(copy, req_len, "shop", 5));
	/* the second packet is all zeros after its header */
	assert_int_equal(copy[req_len - 64 - 4], 64);
	for (i = req_len - 64; i < req_len; i++)
		assert_int_equal(copy[i], 0);

	assert_int_equal(dt_mysql_decode_exchange(
				 copy, req_len, server + hs->resp_start,
				 hs->resp_end - hs->resp_start, 0, NULL, &sum),
			 0);
	assert_string_equal(sum->request.user, "edu");
	assert_string_equal(sum->request.schema, "shop");
	assert_string_equal(sum->response.kind, "handshake");
	assert_string_equal(sum->response.auth_plugin, "client_ed25519");
	dt_mysql_summary_free(sum);

	/* a request that is not an authentication is left alone */
	memcpy(copy, client + r.ev[1].ev.req_start, 13);
	assert_int_equal(dt_mysql_redact_auth(copy, 13), 0);
	assert_memory_equal(copy, client + r.ev[1].ev.req_start, 13);
	free(copy);
	free(client);
	free(server);
	run_free(&r);
	sess_free(&s);
}

static void test_compression_unsupported(void **state)
{
	struct session s;
	struct run r;

	(void)state;
	sess_load(&s, "compress.chunks");
	run_whole(&s, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.unsupported, "compression");
	assert_true(sum_of(&r, 0)->request.client_caps &
		    DT_MYSQL_CLIENT_COMPRESS);
	assert_string_equal(sum_of(&r, 0)->unsupported, "compression");
	assert_attr(&r, 0, "response.unsupported", "compression");
	assert_attr(&r, 0, "request.user", "app");
	/* the compressed packets after it were skipped, all of them */
	assert_int_equal(r.st.skipped[C] + r.ev[0].ev.req_end,
			 sess_stream_len(&s, C));
	assert_int_equal(r.st.skipped[S] + r.ev[0].ev.resp_end,
			 sess_stream_len(&s, S));
	run_free(&r);
	sess_free(&s);
}

/* The same events whatever the pieces the streams arrive in. */
static void check_splits(const char *fixture)
{
	struct session s;
	struct run base, r;
	struct plan pl = { 0 };
	size_t total, at;

	sess_load(&s, fixture);
	run_whole(&s, &base);
	total = sess_stream_len(&s, C) + sess_stream_len(&s, S);
	for (at = 1; at < total; at++) {
		pl.split = SPLIT_AT;
		pl.at = at;
		run_session(&s, &pl, &r);
		assert_runs_equal(&base, &r);
		run_free(&r);
	}
	pl.split = SPLIT_BYTES;
	run_session(&s, &pl, &r);
	assert_runs_equal(&base, &r);
	run_free(&r);
	pl.split = SPLIT_HEADERS;
	run_session(&s, &pl, &r);
	assert_runs_equal(&base, &r);
	run_free(&r);
	for (pl.seed = 1; pl.seed < 20; pl.seed++) {
		pl.split = SPLIT_RANDOM;
		run_session(&s, &pl, &r);
		assert_runs_equal(&base, &r);
		run_free(&r);
	}
	run_free(&base);
	sess_free(&s);
}

static void test_split_every_byte(void **state)
{
	(void)state;
	check_splits("text.chunks");
	check_splits("prepared.chunks");
	check_splits("infile.chunks");
	check_splits("ed25519.chunks");
	check_splits("compress.chunks");
}

/* Each stored exchange decodes on its own to what the live codec saw,
 * given the negotiated capabilities (statement SQL and parameter types
 * excepted: they come from earlier exchanges). */
static void check_decode_exchange(const char *fixture)
{
	struct session s;
	struct run r;
	uint8_t *client, *server;
	size_t client_len, server_len, i;
	uint64_t caps;

	sess_load(&s, fixture);
	run_whole(&s, &r);
	client = sess_stream(&s, C, &client_len);
	server = sess_stream(&s, S, &server_len);
	caps = sum_of(&r, 0)->request.client_caps &
	       sum_of(&r, 0)->response.server_caps;
	for (i = 0; i < r.n; i++) {
		const struct dt_mysql_event *ev = &r.ev[i].ev;
		struct dt_mysql_summary *sum;
		struct dt_mysql_event one = { .summary = NULL };
		char *text, *want_resp, *got_resp;

		assert_int_equal(dt_mysql_decode_exchange(
					 client + ev->req_start,
					 ev->req_end - ev->req_start,
					 server + ev->resp_start,
					 ev->resp_end - ev->resp_start, caps,
					 NULL, &sum),
				 0);
		one.summary = sum;
		text = event_text(&one);
		want_resp = strstr(r.ev[i].text, "response.kind=");
		got_resp = strstr(text, "response.kind=");
		assert_non_null(got_resp);
		/* metadata sent earlier on the connection is not known */
		if (!strstr(r.ev[i].text, "COM_STMT_FETCH") &&
		    !(strstr(r.ev[i].text, "COM_STMT_EXECUTE") &&
		      strstr(r.ev[i].text, "response.kind=resultset")))
			assert_string_equal(want_resp, got_resp);
		assert_string_equal(sum->request.command_name,
				    sum_of(&r, i)->request.command_name);
		free(text);
		dt_mysql_event_release(&one);
	}
	free(client);
	free(server);
	run_free(&r);
	sess_free(&s);
}

static void test_decode_exchange(void **state)
{
	struct dt_mysql_summary *sum;

	(void)state;
	check_decode_exchange("text.chunks");
	check_decode_exchange("prepared.chunks");
	check_decode_exchange("infile.chunks");
	check_decode_exchange("ed25519.chunks");
	assert_int_equal(dt_mysql_decode_exchange(NULL, 0, NULL, 0, 0, NULL,
						  &sum),
			 -EBADMSG);
	assert_null(sum);
}

/* ---------------------------------------------------------------------- */
/* Sessions built packet by packet                                        */
/* ---------------------------------------------------------------------- */

#define CLIENT_TRANSACTIONS (1ull << 13)
#define CAPS_BASE                                                            \
	(1ull | DT_MYSQL_CLIENT_PROTOCOL_41 |                                \
	 DT_MYSQL_CLIENT_SECURE_CONNECTION | DT_MYSQL_CLIENT_PLUGIN_AUTH |  \
	 DT_MYSQL_CLIENT_MULTI_RESULTS | DT_MYSQL_CLIENT_PS_MULTI_RESULTS | \
	 CLIENT_TRANSACTIONS)

static const uint8_t SCRAMBLE[20] = {
	0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static void greeting(struct session *s, uint64_t caps)
{
	struct buf b = { 0 };

	put_u8(&b, 10);
	put_cstr(&b, "8.0.36-test");
	put_uint(&b, 77, 4);
	put(&b, "abcdefgh", 8);
	put_u8(&b, 0);
	put_uint(&b, caps & 0xffff, 2);
	put_u8(&b, 0x21);
	put_uint(&b, 2, 2);
	put_uint(&b, (caps >> 16) & 0xffff, 2);
	put_u8(&b, 21);
	put_zero(&b, 10);
	put(&b, "ijklmnopqrst", 13);
	put_cstr(&b, "mysql_native_password");
	pkt_seq(s, S, 0, b.p, b.len);
	buf_free(&b);
}

static void handshake_response(struct session *s, uint64_t caps,
			       const char *user, const char *db)
{
	struct buf b = { 0 };

	put_uint(&b, caps, 4);
	put_uint(&b, 1 << 24, 4);
	put_u8(&b, 33);
	put_zero(&b, 23);
	put_cstr(&b, user);
	put_u8(&b, sizeof(SCRAMBLE));
	put(&b, SCRAMBLE, sizeof(SCRAMBLE));
	if (db)
		put_cstr(&b, db);
	put_cstr(&b, "mysql_native_password");
	pkt(s, C, &b);
	buf_free(&b);
}

static void ok_packet(struct session *s, uint8_t header, uint64_t affected,
		      uint64_t id, uint16_t status, uint16_t warnings)
{
	struct buf b = { 0 };

	put_u8(&b, header);
	put_lenenc(&b, affected);
	put_lenenc(&b, id);
	put_uint(&b, status, 2);
	put_uint(&b, warnings, 2);
	pkt(s, S, &b);
	buf_free(&b);
}

static void ok(struct session *s, uint64_t affected, uint64_t id)
{
	ok_packet(s, 0x00, affected, id, DT_MYSQL_STATUS_AUTOCOMMIT, 0);
}

static void eof(struct session *s, uint16_t status)
{
	struct buf b = { 0 };

	put_u8(&b, 0xfe);
	put_uint(&b, 0, 2);
	put_uint(&b, status, 2);
	pkt(s, S, &b);
	buf_free(&b);
}

static void err(struct session *s, uint16_t code, const char *state,
		const char *msg)
{
	struct buf b = { 0 };

	put_u8(&b, 0xff);
	put_uint(&b, code, 2);
	put_u8(&b, '#');
	put(&b, state, 5);
	put(&b, msg, strlen(msg));
	pkt(s, S, &b);
	buf_free(&b);
}

/* A complete handshake: greeting, response, OK. */
static void handshake(struct session *s, uint64_t caps, const char *db)
{
	greeting(s, caps);
	s->seq = 1;
	handshake_response(s, caps | (db ? DT_MYSQL_CLIENT_CONNECT_WITH_DB : 0),
			   "alice", db);
	ok(s, 0, 0);
}

struct col {
	const char *name;
	uint8_t type;
	uint16_t flags;
};

static void column(struct session *s, const struct col *c)
{
	struct buf b = { 0 };

	put_str(&b, "def");
	put_str(&b, "db");
	put_str(&b, "t");
	put_str(&b, "t");
	put_str(&b, c->name);
	put_str(&b, c->name);
	put_u8(&b, 0x0c);
	put_uint(&b, 33, 2);
	put_uint(&b, 11, 4);
	put_u8(&b, c->type);
	put_uint(&b, c->flags, 2);
	put_u8(&b, 0);
	put_zero(&b, 2);
	pkt(s, S, &b);
	buf_free(&b);
}

/* Column count and definitions, with the EOF after them unless
 * deprecate_eof. */
static void result_head(struct session *s, const struct col *cols, size_t n,
			bool deprecate_eof)
{
	struct buf b = { 0 };
	size_t i;

	put_lenenc(&b, n);
	pkt(s, S, &b);
	buf_free(&b);
	for (i = 0; i < n; i++)
		column(s, &cols[i]);
	if (!deprecate_eof)
		eof(s, DT_MYSQL_STATUS_AUTOCOMMIT);
}

/* A text row of n values; NULL pointers are SQL NULLs. */
/* COLS2 as the response.columns attribute shows it. */
#define COLS2_JSON                                                           \
	"[{\"name\":\"id\",\"type\":\"LONGLONG UNSIGNED\",\"table\":\"t\","  \
	"\"schema\":\"db\"},{\"name\":\"name\",\"type\":\"VAR_STRING\","      \
	"\"table\":\"t\",\"schema\":\"db\"}]"

static void text_row(struct session *s, const char *const *v, size_t n)
{
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i])
			put_str(&b, v[i]);
		else
			put_u8(&b, 0xfb);
	}
	pkt(s, S, &b);
	buf_free(&b);
}

/* The end of rows: EOF, or with CLIENT_DEPRECATE_EOF an OK with 0xfe. */
static void rows_end(struct session *s, bool deprecate_eof, uint16_t status)
{
	if (deprecate_eof)
		ok_packet(s, 0xfe, 0, 0, status, 0);
	else
		eof(s, status);
}

static const struct col COLS2[] = {
	{ "id", DT_MYSQL_TYPE_LONGLONG, DT_MYSQL_FLAG_UNSIGNED },
	{ "name", DT_MYSQL_TYPE_VAR_STRING, 0 },
};

/* SELECT of two rows; then the same with no rows; then INSERT. */
static void select_session(struct session *s, bool deprecate_eof)
{
	static const char *const row1[] = { "1", "alice" };
	static const char *const row2[] = { "2", NULL };

	cmd_text(s, DT_MYSQL_COM_QUERY, "SELECT id, name FROM t");
	result_head(s, COLS2, 2, deprecate_eof);
	text_row(s, row1, 2);
	text_row(s, row2, 2);
	rows_end(s, deprecate_eof, DT_MYSQL_STATUS_AUTOCOMMIT);

	cmd_text(s, DT_MYSQL_COM_QUERY, "SELECT id, name FROM t WHERE 0");
	result_head(s, COLS2, 2, deprecate_eof);
	rows_end(s, deprecate_eof, DT_MYSQL_STATUS_AUTOCOMMIT);

	cmd_text(s, DT_MYSQL_COM_QUERY, "INSERT INTO t VALUES (3, 'c')");
	ok(s, 1, 3);
}

static void check_select_session(const struct run *r, size_t first)
{
	const struct dt_mysql_result *res = result_of(r, first, 0);

	assert_int_equal(res->ncolumns, 2);
	assert_int_equal(res->nrows, 2);
	assert_true(res->columns[0].flags & DT_MYSQL_FLAG_UNSIGNED);
	assert_attr(r, first, "response.columns",
		    COLS2_JSON);
	assert_attr(r, first, "response.preview",
		    "[[\"1\",\"alice\"],[\"2\",null]]");
	assert_attr(r, first + 1, "response.kind", "resultset");
	assert_attr(r, first + 1, "response.rows", "0");
	assert_attr(r, first + 2, "response.kind", "ok");
	assert_attr(r, first + 2, "response.affected_rows", "1");
	assert_attr(r, first + 2, "response.last_insert_id", "3");
}

static void test_handshake_variants(void **state)
{
	int deprecate, with_db;

	(void)state;
	for (deprecate = 0; deprecate < 2; deprecate++) {
		for (with_db = 0; with_db < 2; with_db++) {
			uint64_t caps = CAPS_BASE;

			struct session s = { 0 };
			struct run r;

			if (deprecate)
				caps |= DT_MYSQL_CLIENT_DEPRECATE_EOF;
			handshake(&s, caps, with_db ? "shop" : NULL);
			select_session(&s, deprecate);
			cmd_text(&s, DT_MYSQL_COM_QUIT, "");
			run_all_ways(&s, &r);
			assert_int_equal(r.n, 5);
			assert_covers(&r, &s);
			assert_attr(&r, 0, "request.command", "handshake");
			assert_attr(&r, 0, "request.user", "alice");
			assert_attr(&r, 0, "request.schema",
				    with_db ? "shop" : NULL);
			assert_attr(&r, 0, "response.server_version",
				    "8.0.36-test");
			assert_attr(&r, 0, "response.connection_id", "77");
			assert_int_equal(!!(sum_of(&r, 0)->request.client_caps &
					    DT_MYSQL_CLIENT_DEPRECATE_EOF),
					 deprecate);
			check_select_session(&r, 1);
			assert_int_equal(r.st.malformed, 0);
			run_free(&r);
			sess_free(&s);
		}
	}
}

/* Nothing of the scramble reaches a summary; the raw copy is redacted. */
static void test_scramble_never_exposed(void **state)
{
	struct session s = { 0 };
	struct run r;
	uint8_t *client;
	size_t len, i;

	(void)state;
	handshake(&s, CAPS_BASE, "shop");
	run_whole(&s, &r);
	assert_int_equal(r.n, 1);
	assert_null(memmem(r.ev[0].text, strlen(r.ev[0].text), SCRAMBLE, 4));
	assert_null(strstr(r.ev[0].text, "deadbeef"));
	client = sess_stream(&s, C, &len);
	assert_non_null(memmem(client, len, SCRAMBLE, sizeof(SCRAMBLE)));
	assert_int_equal(dt_mysql_redact_auth(client, len), sizeof(SCRAMBLE));
	assert_null(memmem(client, len, SCRAMBLE, 4));
	assert_non_null(memmem(client, len, "alice", 6));
	assert_non_null(memmem(client, len, "shop", 5));
	assert_non_null(memmem(client, len, "mysql_native_password", 22));
	/* a handshake response that does not parse loses all of it */
	client[4 + 33] = 0xff;   /* user name runs off the end */
	for (i = 4 + 32; i < len; i++)
		client[i] = 'x';
	assert_int_equal(dt_mysql_redact_auth(client, len), len - 4);
	for (i = 4; i < len; i++)
		assert_int_equal(client[i], 0);
	free(client);
	run_free(&r);
	sess_free(&s);
}

static void test_change_user(void **state)
{
	struct session s = { 0 };
	struct buf b = { 0 };
	struct run r;
	uint8_t *client;
	size_t len;
	uint64_t start;

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_STMT_PREPARE, "SELECT ?");
	put_u8(&b, 0);
	put_uint(&b, 1, 4);
	put_uint(&b, 0, 2);   /* columns */
	put_uint(&b, 1, 2);   /* parameters */
	put_zero(&b, 3);
	pkt(&s, S, &b);
	buf_free(&b);
	/* param def, EOF */
	column(&s, &(struct col){ "?", DT_MYSQL_TYPE_NULL, 0 });
	eof(&s, 2);
	start = sess_stream_len(&s, C);
	put_u8(&b, DT_MYSQL_COM_CHANGE_USER);
	put_cstr(&b, "bob");
	put_u8(&b, 20);
	put(&b, SCRAMBLE, 20);
	put_cstr(&b, "other");
	put_uint(&b, 33, 2);
	put_cstr(&b, "mysql_native_password");
	cmd(&s, &b);
	buf_free(&b);
	/* auth switch, the client's answer, OK */
	put_u8(&b, 0xfe);
	put_cstr(&b, "mysql_clear_password");
	pkt(&s, S, &b);
	buf_free(&b);
	put_cstr(&b, "cleartext-secret");
	pkt(&s, C, &b);
	buf_free(&b);
	ok(&s, 0, 0);
	/* the statement died with the session: its SQL is unknown now */
	put_u8(&b, DT_MYSQL_COM_STMT_EXECUTE);
	put_uint(&b, 1, 4);
	put_u8(&b, 0);
	put_uint(&b, 1, 4);
	cmd(&s, &b);
	buf_free(&b);
	err(&s, 1243, "HY000", "Unknown prepared statement handler");
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 4);
	assert_covers(&r, &s);
	assert_attr(&r, 2, "request.command", "COM_CHANGE_USER");
	assert_attr(&r, 2, "request.user", "bob");
	assert_attr(&r, 2, "request.schema", "other");
	assert_attr(&r, 2, "response.kind", "ok");
	assert_attr(&r, 2, "response.auth_plugin", "mysql_clear_password");
	assert_true(sum_of(&r, 2)->request.has_auth);
	assert_null(strstr(r.ev[2].text, "cleartext"));
	assert_attr(&r, 3, "request.sql", NULL);
	assert_attr(&r, 3, "response.error_code", "1243");

	client = sess_stream(&s, C, &len);
	assert_int_equal(start, r.ev[2].ev.req_start);
	assert_int_equal(dt_mysql_redact_auth(client + start,
					      r.ev[2].ev.req_end - start),
			 20 + strlen("cleartext-secret") + 1);
	assert_null(memmem(client, len, "cleartext", 9));
	assert_null(memmem(client + start, len - start, SCRAMBLE, 4));
	assert_non_null(memmem(client + start, len - start, "bob", 4));
	free(client);
	run_free(&r);
	sess_free(&s);
}

static void test_ssl_request_unsupported(void **state)
{
	struct session s = { 0 };
	struct buf b = { 0 };
	struct run r;
	uint64_t caps = CAPS_BASE | DT_MYSQL_CLIENT_SSL;

	(void)state;
	greeting(&s, caps);
	put_uint(&b, caps, 4);
	put_uint(&b, 1 << 24, 4);
	put_u8(&b, 33);
	put_zero(&b, 23);
	pkt_seq(&s, C, 1, b.p, b.len);
	buf_free(&b);
	/* a TLS ClientHello and the server's answer */
	sess_bytes(&s, C, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
	sess_bytes(&s, S, "\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03", 11);
	sess_bytes(&s, C, "\x00\x00\x00\x03\x01\x02\x03", 7);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.unsupported, "tls");
	assert_attr(&r, 0, "request.command", "handshake");
	assert_attr(&r, 0, "response.unsupported", "tls");
	assert_int_equal(r.ev[0].ev.req_end, 36);
	assert_int_equal(r.st.skipped[C], 18);
	assert_int_equal(r.st.skipped[S], 11);
	assert_int_equal(r.st.malformed, 0);
	run_free(&r);
	sess_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Prepared statements and binary values                                  */
/* ---------------------------------------------------------------------- */

/* A parameter as sent: type, flags and its wire bytes. */
struct param {
	uint8_t type;
	bool is_unsigned;
	bool null;
	struct buf wire;
};

static void prepare_ok(struct session *s, uint32_t id, uint16_t ncols,
		       uint16_t nparams)
{
	struct buf b = { 0 };

	put_u8(&b, 0);
	put_uint(&b, id, 4);
	put_uint(&b, ncols, 2);
	put_uint(&b, nparams, 2);
	put_u8(&b, 0);
	put_uint(&b, 0, 2);
	pkt(s, S, &b);
	buf_free(&b);
}

/* COM_STMT_PREPARE and its response: parameter and column definitions,
 * each block followed by an EOF unless deprecate_eof. */
static void prepare(struct session *s, uint32_t id, const char *sql,
		    const struct col *cols, size_t ncols, size_t nparams,
		    bool deprecate_eof)
{
	size_t i;

	cmd_text(s, DT_MYSQL_COM_STMT_PREPARE, sql);
	prepare_ok(s, id, (uint16_t)ncols, (uint16_t)nparams);
	for (i = 0; i < nparams; i++)
		column(s, &(struct col){ "?", DT_MYSQL_TYPE_VAR_STRING, 0 });
	if (nparams && !deprecate_eof)
		eof(s, 2);
	for (i = 0; i < ncols; i++)
		column(s, &cols[i]);
	if (ncols && !deprecate_eof)
		eof(s, 2);
}

static void execute(struct session *s, uint32_t id, const struct param *p,
		    size_t n, bool bound)
{
	struct buf b = { 0 };
	size_t i;

	put_u8(&b, DT_MYSQL_COM_STMT_EXECUTE);
	put_uint(&b, id, 4);
	put_u8(&b, 0);
	put_uint(&b, 1, 4);
	if (n) {
		uint8_t nulls[16] = { 0 };

		for (i = 0; i < n; i++)
			if (p[i].null)
				nulls[i / 8] |= (uint8_t)(1u << (i % 8));
		put(&b, nulls, (n + 7) / 8);
		put_u8(&b, bound);
		for (i = 0; bound && i < n; i++) {
			put_u8(&b, p[i].type);
			put_u8(&b, p[i].is_unsigned ? 0x80 : 0);
		}
		for (i = 0; i < n; i++)
			if (!p[i].null)
				put(&b, p[i].wire.p, p[i].wire.len);
	}
	cmd(s, &b);
	buf_free(&b);
}

/* A binary row: header, null bitmap (from bit 2), values. */
static void binary_row(struct session *s, const struct param *p, size_t n)
{
	struct buf b = { 0 };
	uint8_t nulls[16] = { 0 };
	size_t i;

	put_u8(&b, 0);
	for (i = 0; i < n; i++)
		if (p[i].null)
			nulls[(i + 2) / 8] |= (uint8_t)(1u << ((i + 2) % 8));
	put(&b, nulls, (n + 9) / 8);
	for (i = 0; i < n; i++)
		if (!p[i].null)
			put(&b, p[i].wire.p, p[i].wire.len);
	pkt(s, S, &b);
	buf_free(&b);
}

struct typed_value {
	uint8_t type;
	bool is_unsigned;
	const char *wire;     /* bytes, hex */
	const char *text;     /* rendering; NULL: SQL NULL */
};

/* Every binary encoding, with edge values. */
static const struct typed_value VALUES[] = {
	{ DT_MYSQL_TYPE_TINY, false, "80", "-128" },
	{ DT_MYSQL_TYPE_TINY, true, "ff", "255" },
	{ DT_MYSQL_TYPE_SHORT, false, "0080", "-32768" },
	{ DT_MYSQL_TYPE_SHORT, true, "ffff", "65535" },
	{ DT_MYSQL_TYPE_YEAR, false, "e807", "2024" },
	{ DT_MYSQL_TYPE_INT24, false, "000080ff", "-8388608" },
	{ DT_MYSQL_TYPE_LONG, false, "00000080", "-2147483648" },
	{ DT_MYSQL_TYPE_LONG, true, "ffffffff", "4294967295" },
	{ DT_MYSQL_TYPE_LONGLONG, false, "0000000000000080",
	  "-9223372036854775808" },
	{ DT_MYSQL_TYPE_LONGLONG, true, "ffffffffffffffff",
	  "18446744073709551615" },
	{ DT_MYSQL_TYPE_FLOAT, false, "cdcccc3d", "0.1" },
	{ DT_MYSQL_TYPE_DOUBLE, false, "9a9999999999b93f", "0.1" },
	{ DT_MYSQL_TYPE_DOUBLE, false, "555555555555d53f",
	  "0.3333333333333333" },
	{ DT_MYSQL_TYPE_DOUBLE, false, "9c7500883ce4377e", "1e+300" },
	{ DT_MYSQL_TYPE_DATE, false, "00", "0000-00-00" },
	{ DT_MYSQL_TYPE_DATE, false, "04e4070c1f", "2020-12-31" },
	{ DT_MYSQL_TYPE_DATETIME, false, "04e4070102", "2020-01-02 00:00:00" },
	{ DT_MYSQL_TYPE_TIMESTAMP, false, "07e4070102030405",
	  "2020-01-02 03:04:05" },
	{ DT_MYSQL_TYPE_DATETIME, false, "0be407010203040540e20100",
	  "2020-01-02 03:04:05.123456" },
	{ DT_MYSQL_TYPE_TIME, false, "00", "00:00:00" },
	{ DT_MYSQL_TYPE_TIME, false, "0800000000000c223a", "12:34:58" },
	{ DT_MYSQL_TYPE_TIME, false, "0c01220000000f00000f000000",
	  "-831:00:00.000015" },
	{ DT_MYSQL_TYPE_VAR_STRING, false, "0668c3a96c6c6f", "h\xc3\xa9llo" },
	{ DT_MYSQL_TYPE_NEWDECIMAL, false, "052d302e3530", "-0.50" },
	{ DT_MYSQL_TYPE_BLOB, false, "00", "" },
	{ DT_MYSQL_TYPE_JSON, false, "077b2261223a317d", "{\"a\":1}" },
	{ DT_MYSQL_TYPE_LONG, false, NULL, NULL },
};
#define NVALUES (sizeof(VALUES) / sizeof(VALUES[0]))

static void hex_to(struct buf *b, const char *hex)
{
	while (hex && hex[0] && hex[1]) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		put_u8(b, (uint8_t)v);
		hex += 2;
	}
}

static void params_from(struct param *p, const struct typed_value *v,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].type = v[i].type;
		p[i].is_unsigned = v[i].is_unsigned;
		p[i].null = !v[i].text;
		hex_to(&p[i].wire, v[i].wire);
	}
}

static void params_free(struct param *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_free(&p[i].wire);
}

static void check_values(const struct dt_mysql_value *v,
			 const struct typed_value *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].type, want[i].type);
		if (!want[i].text) {
			assert_true(v[i].is_null);
			continue;
		}
		assert_false(v[i].is_null);
		assert_false(v[i].truncated);
		assert_non_null(v[i].text);
		assert_int_equal(v[i].len, strlen(want[i].text));
		assert_string_equal(v[i].text, want[i].text);
	}
}

static void test_binary_values(void **state)
{
	int deprecate;

	(void)state;
	for (deprecate = 0; deprecate < 2; deprecate++) {
		struct session s = { 0 };
		struct param p[NVALUES];
		struct col cols[NVALUES];
		struct run r;
		size_t i;

		params_from(p, VALUES, NVALUES);
		for (i = 0; i < NVALUES; i++)
			cols[i] = (struct col){
				"c", VALUES[i].type,
				VALUES[i].is_unsigned ? DT_MYSQL_FLAG_UNSIGNED
						      : 0 };
		handshake(&s, CAPS_BASE | (deprecate ?
					   DT_MYSQL_CLIENT_DEPRECATE_EOF : 0),
			  "db");
		prepare(&s, 9, "SELECT ...", cols, NVALUES, NVALUES,
			deprecate);
		execute(&s, 9, p, NVALUES, true);
		result_head(&s, cols, NVALUES, deprecate);
		binary_row(&s, p, NVALUES);
		binary_row(&s, p, NVALUES);
		rows_end(&s, deprecate, 2);
		/* again, types not sent: the last bound ones apply */
		execute(&s, 9, p, NVALUES, false);
		ok(&s, 0, 0);
		run_all_ways(&s, &r);
		assert_int_equal(r.n, 4);
		assert_covers(&r, &s);
		assert_int_equal(r.st.malformed, 0);
		assert_int_equal(sum_of(&r, 1)->response.nparams, NVALUES);
		assert_int_equal(sum_of(&r, 2)->request.nparams, NVALUES);
		check_values(sum_of(&r, 2)->request.params, VALUES, NVALUES);
		check_values(sum_of(&r, 3)->request.params, VALUES, NVALUES);
		assert_attr(&r, 3, "request.sql", "SELECT ...");
		assert_int_equal(result_of(&r, 2, 0)->nrows, 2);
		check_values(result_of(&r, 2, 0)->rows + NVALUES, VALUES,
			     NVALUES);
		params_free(p, NVALUES);
		run_free(&r);
		sess_free(&s);
	}
}

/* Bytes that do not decode mark the rest of the values truncated without
 * failing the exchange. */
static void test_binary_values_bad(void **state)
{
	static const struct typed_value bad[] = {
		{ DT_MYSQL_TYPE_LONG, false, "01000000", "1" },
		{ DT_MYSQL_TYPE_DATETIME, false, "05e407010203", NULL },
		{ DT_MYSQL_TYPE_LONG, false, "02000000", NULL },
	};
	static const struct typed_value unknown_type[] = {
		{ 100, false, "01", NULL },
	};
	struct session s = { 0 };
	struct param p[3];
	struct run r;
	const struct dt_mysql_request *rq;

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	prepare(&s, 1, "INSERT ?,?,?", NULL, 0, 3, false);
	params_from(p, bad, 3);
	p[1].null = p[2].null = false;
	execute(&s, 1, p, 3, true);
	ok(&s, 1, 0);
	params_free(p, 3);
	prepare(&s, 2, "INSERT ?", NULL, 0, 1, false);
	params_from(p, unknown_type, 1);
	p[0].null = false;
	execute(&s, 2, p, 1, true);
	ok(&s, 1, 0);
	params_free(p, 1);
	run_whole(&s, &r);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.st.malformed, 0);
	rq = &sum_of(&r, 2)->request;
	assert_false(rq->params_decoded);
	assert_string_equal(rq->params[0].text, "1");
	assert_true(rq->params[1].truncated);
	assert_null(rq->params[1].text);
	assert_true(rq->params[2].truncated);
	assert_attr(&r, 2, "response.kind", "ok");
	assert_true(sum_of(&r, 4)->request.params[0].truncated);
	run_free(&r);
	sess_free(&s);
}

static void test_multi_results_deprecate_eof(void **state)
{
	static const char *const one[] = { "1", "x" };
	struct session s = { 0 };
	struct run r;
	const uint16_t more = DT_MYSQL_STATUS_MORE_RESULTS | 2;

	(void)state;
	handshake(&s, CAPS_BASE | DT_MYSQL_CLIENT_DEPRECATE_EOF |
			      DT_MYSQL_CLIENT_MULTI_STATEMENTS,
		  NULL);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "CALL p()");
	result_head(&s, COLS2, 2, true);
	text_row(&s, one, 2);
	rows_end(&s, true, more);
	result_head(&s, COLS2, 1, true);
	rows_end(&s, true, more);
	ok_packet(&s, 0, 0, 0, 2, 0);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "UPDATE a SET x=1; SELECT nope");
	ok_packet(&s, 0, 5, 0, more, 1);
	err(&s, 1054, "42S22", "Unknown column 'nope'");
	cmd_text(&s, DT_MYSQL_COM_PING, "");
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 4);
	assert_covers(&r, &s);
	assert_int_equal(sum_of(&r, 1)->response.results_total, 3);
	assert_attr(&r, 1, "response.kind", "resultset");
	assert_attr(&r, 1, "response.preview", "[[\"1\",\"x\"]]");
	assert_int_equal(result_of(&r, 1, 1)->ncolumns, 1);
	assert_int_equal(result_of(&r, 1, 2)->kind, DT_MYSQL_RESULT_OK);
	assert_attr(&r, 2, "response.kind", "err");
	assert_attr(&r, 2, "response.affected_rows", "5");
	assert_attr(&r, 2, "response.error_code", "1054");
	assert_attr(&r, 3, "request.command", "COM_PING");
	run_free(&r);
	sess_free(&s);
}

/* COM_FIELD_LIST, COM_STATISTICS, MariaDB progress reports, pipelined
 * commands without responses. */
static void test_other_commands(void **state)
{
	struct session s = { 0 };
	struct buf b = { 0 };
	struct run r;

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	put_u8(&b, DT_MYSQL_COM_FIELD_LIST);
	put_cstr(&b, "orders");
	put(&b, "%", 1);
	cmd(&s, &b);
	buf_free(&b);
	column(&s, &COLS2[0]);
	column(&s, &COLS2[1]);
	eof(&s, 2);
	/* a progress report before the OK */
	cmd_text(&s, DT_MYSQL_COM_QUERY, "ALTER TABLE t ADD x INT");
	put_u8(&b, 0xff);
	put_uint(&b, 0xffff, 2);
	put(&b, "\x01\x01\x02\x10\x27\x00\x05stage", 12);
	pkt(&s, S, &b);
	buf_free(&b);
	ok(&s, 0, 0);
	/* close and another command before the server answers anything */
	put_u8(&b, DT_MYSQL_COM_STMT_CLOSE);
	put_uint(&b, 12, 4);
	cmd(&s, &b);
	buf_free(&b);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	cmd_text(&s, DT_MYSQL_COM_PING, "");
	result_head(&s, COLS2, 1, false);
	eof(&s, 2);
	s.seq = 1;
	ok(&s, 0, 0);
	put_u8(&b, DT_MYSQL_COM_PROCESS_KILL);
	put_uint(&b, 42, 4);
	cmd(&s, &b);
	buf_free(&b);
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 7);
	assert_covers(&r, &s);
	assert_attr(&r, 1, "request.command", "COM_FIELD_LIST");
	assert_attr(&r, 1, "request.arg", "orders");
	assert_attr(&r, 1, "response.columns",
		    COLS2_JSON);
	assert_attr(&r, 2, "response.kind", "ok");
	assert_int_equal(sum_of(&r, 2)->response.results_total, 1);
	assert_attr(&r, 3, "request.command", "COM_STMT_CLOSE");
	assert_attr(&r, 3, "request.stmt_id", "12");
	assert_attr(&r, 4, "response.kind", "resultset");
	assert_attr(&r, 5, "request.command", "COM_PING");
	assert_attr(&r, 5, "response.kind", "ok");
	assert_attr(&r, 6, "request.arg", "42");
	assert_int_equal(r.st.malformed, 0);
	run_free(&r);
	sess_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Payloads of 16 MiB and more                                            */
/* ---------------------------------------------------------------------- */

static void test_multi_packet_payloads(void **state)
{
	const size_t big = MAX_PACKET + 100;
	struct session s = { 0 };
	struct plan pl = { .split = SPLIT_FIXED, .at = 1 << 20 };
	struct buf b = { 0 };
	struct run r;
	const struct dt_mysql_summary *sm;
	const struct dt_mysql_result *res;
	static const struct col blob = { "b", DT_MYSQL_TYPE_LONG_BLOB, 0 };

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	/* a query of 16 MiB + 100 bytes: two packets */
	put_u8(&b, DT_MYSQL_COM_QUERY);
	put(&b, "SELECT '", 8);
	while (b.len < big - 1)
		put_u8(&b, 'a');
	put_u8(&b, '\'');
	cmd(&s, &b);
	ok(&s, 0, 0);
	/* exactly 0xffffff bytes: an empty packet follows */
	b.len = MAX_PACKET - 1;
	put_u8(&b, '\'');
	cmd(&s, &b);
	ok(&s, 0, 0);
	buf_free(&b);
	/* a row of 16 MiB + 100 bytes */
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT b FROM blobs");
	result_head(&s, &blob, 1, false);
	put_u8(&b, 0xfe);
	put_uint(&b, big - 9, 8);
	while (b.len < big)
		put_u8(&b, 'z');
	pkt(&s, S, &b);
	buf_free(&b);
	eof(&s, 2);

	run_session(&s, &pl, &r);
	assert_int_equal(r.n, 4);
	assert_covers(&r, &s);
	assert_int_equal(r.st.malformed, 0);
	sm = sum_of(&r, 1);
	assert_int_equal(sm->request.payload_len, big);
	assert_true(sm->request.sql_truncated);
	assert_int_equal(sm->request.sql_len, 64 * 1024);
	assert_int_equal(strlen(sm->request.sql), 64 * 1024);
	assert_true(!strncmp(sm->request.sql, "SELECT 'aaaa", 12));
	assert_int_equal(r.ev[1].ev.req_end - r.ev[1].ev.req_start,
			 big + 8);
	assert_attr(&r, 1, "response.kind", "ok");
	assert_int_equal(sum_of(&r, 2)->request.payload_len, MAX_PACKET);
	assert_int_equal(r.ev[2].ev.req_end - r.ev[2].ev.req_start,
			 MAX_PACKET + 8);
	assert_attr(&r, 2, "response.kind", "ok");
	res = result_of(&r, 3, 0);
	assert_int_equal(res->nrows, 1);
	assert_int_equal(res->rows[0].len, 256);
	assert_true(res->rows[0].truncated);
	assert_true(!strncmp(res->rows[0].text, "zzzz", 4));
	assert_int_equal(r.ev[3].ev.resp_end, sess_stream_len(&s, S));
	run_free(&r);
	sess_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Joining open connections, gaps, resynchronisation                     */
/* ---------------------------------------------------------------------- */

static void test_midstream_join(void **state)
{
	struct dt_mysql_opts opts;
	struct session s;
	struct run base, r;
	struct plan pl = { .opts = &opts };
	size_t i;

	(void)state;
	dt_mysql_opts_init(&opts);
	opts.midstream = true;
	sess_load(&s, "text.chunks");
	run_whole(&s, &base);
	/* the recording starts inside the INSERT and inside its OK */
	pl.drop_end[C] = base.ev[3].ev.req_start + 5;
	pl.drop_end[S] = base.ev[3].ev.resp_start + 3;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, base.n - 4);
	for (i = 0; i < r.n; i++) {
		assert_true(r.ev[i].ev.flags & DT_XF_MIDSTREAM);
		assert_int_equal(r.ev[i].ev.req_start,
				 base.ev[i + 4].ev.req_start);
		assert_int_equal(r.ev[i].ev.resp_end,
				 base.ev[i + 4].ev.resp_end);
		/* caps unknown: EOFs, MariaDB's column metadata and OK
		 * messages are recognised all the same */
		assert_string_equal(attrs_text(&r, i),
				    attrs_text(&base, i + 4));
	}
	assert_true(r.st.skipped[C] > 0);
	assert_true(r.st.skipped[S] > 0);
	assert_int_equal(r.st.malformed, 0);
	run_free(&r);

	/* the same when the join was not announced: no greeting comes */
	opts.midstream = false;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, base.n - 4);
	assert_string_equal(attrs_text(&r, 0), attrs_text(&base, 4));
	assert_true(r.ev[0].ev.flags & DT_XF_MIDSTREAM);
	run_free(&r);
	run_free(&base);
	sess_free(&s);
}

/* Joined at a prepared statement's first execute: the parameter count is
 * inferred from the types it binds; the rows (sent without metadata)
 * are counted but cannot be previewed. */
static void test_midstream_prepared(void **state)
{
	struct dt_mysql_opts opts;
	struct session s;
	struct run base, r;
	struct plan pl = { .opts = &opts };
	const struct dt_mysql_request *rq;

	(void)state;
	dt_mysql_opts_init(&opts);
	opts.midstream = true;
	sess_load(&s, "prepared.chunks");
	run_whole(&s, &base);
	pl.drop_end[C] = base.ev[PS_EXECUTE_1].ev.req_start;
	pl.drop_end[S] = base.ev[PS_EXECUTE_1].ev.resp_start;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, base.n - PS_EXECUTE_1);
	rq = &sum_of(&r, 0)->request;
	assert_null(rq->sql);
	assert_true(rq->params_decoded);
	assert_int_equal(rq->nparams, 13);
	assert_string_equal(rq->params[6].text, "hello");
	rq = &sum_of(&r, 1)->request;
	assert_true(rq->params_decoded);
	assert_string_equal(rq->params[6].text, "again");
	assert_attr(&r, PS_SELECT_1 - PS_EXECUTE_1, "response.preview",
		    attr_of(&base, PS_SELECT_1, "response.preview"));
	run_free(&r);

	pl.drop_end[C] = base.ev[PS_SELECT_2].ev.req_start;
	pl.drop_end[S] = base.ev[PS_SELECT_2].ev.resp_start;
	run_session(&s, &pl, &r);
	assert_attr(&r, 0, "request.stmt_id", "6");
	assert_attr(&r, 0, "response.kind", "resultset");
	assert_attr(&r, 0, "response.rows", "2");
	assert_attr(&r, 0, "response.preview", NULL);
	assert_int_equal(r.st.malformed, 0);
	run_free(&r);
	run_free(&base);
	sess_free(&s);
}

/* A prepare response whose last block may or may not have an EOF after
 * it, on a connection joined with caps unknown. */
static void test_midstream_prepare_eof_learning(void **state)
{
	struct dt_mysql_opts opts;
	struct plan pl = { .opts = &opts };
	int deprecate;

	(void)state;
	dt_mysql_opts_init(&opts);
	opts.midstream = true;
	for (deprecate = 0; deprecate < 2; deprecate++) {
		struct session s = { 0 };
		struct run r;

		prepare(&s, 3, "SELECT id, name FROM t", COLS2, 2, 0,
			deprecate);
		select_session(&s, deprecate);
		run_session(&s, &pl, &r);
		assert_int_equal(r.n, 4);
		assert_covers(&r, &s);
		assert_attr(&r, 0, "response.stmt_id", "3");
		assert_int_equal(sum_of(&r, 0)->response.ncolumns, 2);
		assert_string_equal(
			sum_of(&r, 0)->response.results[0].columns[1].name,
			"name");
		check_select_session(&r, 1);
		assert_int_equal(r.st.malformed, 0);
		run_free(&r);
		sess_free(&s);
	}
}

static void test_gaps(void **state)
{
	struct session s;
	struct run base, r;
	struct plan pl = { 0 };
	size_t i;

	(void)state;
	sess_load(&s, "text.chunks");
	run_whole(&s, &base);

	/* client bytes lost inside the SELECT: it is never reported, the
	 * next command resynchronises, its response pairs with it */
	pl.drop_start[C] = base.ev[4].ev.req_start + 2;
	pl.drop_end[C] = base.ev[4].ev.req_start + 10;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, base.n - 1);
	for (i = 0; i < r.n; i++)
		assert_string_equal(attrs_text(&r, i),
				    attrs_text(&base, i < 4 ? i : i + 1));
	assert_int_equal(r.ev[4].ev.flags, 0);
	assert_int_equal(r.st.resyncs, 1);
	run_free(&r);

	/* server bytes lost inside the SELECT's rows: the SELECT is
	 * reported incomplete with what arrived of its response */
	memset(&pl, 0, sizeof(pl));
	pl.drop_start[S] = base.ev[4].ev.resp_start + 60;
	pl.drop_end[S] = base.ev[4].ev.resp_start + 80;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, base.n);
	assert_int_equal(r.ev[4].ev.flags, DT_XF_INCOMPLETE);
	assert_attr(&r, 4, "request.sql", attr_of(&base, 4, "request.sql"));
	assert_true(r.ev[4].ev.resp_end <= base.ev[4].ev.resp_start + 60);
	for (i = 5; i < r.n; i++) {
		assert_int_equal(r.ev[i].ev.flags, 0);
		assert_string_equal(attrs_text(&r, i), attrs_text(&base, i));
	}
	run_free(&r);

	/* a server gap before the response started */
	memset(&pl, 0, sizeof(pl));
	pl.drop_start[S] = base.ev[4].ev.resp_start;
	pl.drop_end[S] = base.ev[4].ev.resp_start + 1;
	run_session(&s, &pl, &r);
	assert_int_equal(r.ev[4].ev.flags,
			 DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE);
	assert_string_equal(attrs_text(&r, 5), attrs_text(&base, 5));
	run_free(&r);
	run_free(&base);
	sess_free(&s);
}

static void test_connection_ends(void **state)
{
	struct session s = { 0 };
	struct plan pl = { 0 };
	struct run r;

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	/* MySQL 8 closing an idle connection */
	s.seq = 0;
	err(&s, 4031, "HY000", "The client was disconnected");
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	result_head(&s, COLS2, 1, false);
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, 3);
	assert_attr(&r, 1, "request.command", "none");
	assert_attr(&r, 1, "response.kind", "err");
	assert_attr(&r, 1, "response.error_code", "4031");
	assert_int_equal(r.ev[1].ev.req_start, r.ev[1].ev.req_end);
	/* closed in the middle of a result set */
	assert_int_equal(r.ev[2].ev.flags, DT_XF_INCOMPLETE);
	assert_attr(&r, 2, "response.kind", "resultset");
	run_free(&r);

	/* nothing answered at all */
	cmd_text(&s, DT_MYSQL_COM_PING, "");
	pl.no_close = true;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, 2);
	run_free(&r);
	pl.no_close = false;
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[3].ev.flags, DT_XF_NO_RESPONSE);
	run_free(&r);
	sess_free(&s);
}

/* A server that answers with ERR before the handshake. */
static void test_refused_connection(void **state)
{
	struct session s = { 0 };
	struct run r;

	(void)state;
	s.seq = 0;
	err(&s, 1040, "08004", "Too many connections");
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 1);
	assert_attr(&r, 0, "request.command", "handshake");
	assert_attr(&r, 0, "response.kind", "handshake");
	assert_attr(&r, 0, "response.error_code", "1040");
	assert_int_equal(r.ev[0].ev.req_start, r.ev[0].ev.req_end);
	run_free(&r);
	sess_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Malformed and hostile input                                            */
/* ---------------------------------------------------------------------- */

/* After the bad response, the connection recovers on the next command. */
static void check_recovers(struct session *s, size_t bad_event)
{
	struct run r;

	cmd_text(s, DT_MYSQL_COM_PING, "");
	ok(s, 0, 0);
	run_all_ways(s, &r);
	assert_int_equal(r.n, bad_event + 2);
	assert_true(r.ev[bad_event].ev.flags & DT_XF_MALFORMED);
	assert_int_equal(r.st.malformed, 1);
	assert_attr(&r, bad_event + 1, "request.command", "COM_PING");
	assert_attr(&r, bad_event + 1, "response.kind", "ok");
	assert_int_equal(r.ev[bad_event + 1].ev.flags, 0);
	run_free(&r);
}

static void bad_response(const void *payload, size_t len)
{
	struct session s = { 0 };

	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	pkt_seq(&s, S, 1, payload, len);
	check_recovers(&s, 1);
	sess_free(&s);
}

static void test_malformed_responses(void **state)
{
	(void)state;
	bad_response("", 0);                          /* empty packet */
	bad_response("\x00", 1);                      /* OK without fields */
	bad_response("\xfc\x01\x10", 3);              /* 4097 columns */
	bad_response("\xff\x01", 2);                  /* ERR without code */
	bad_response("\x01\x02\x03", 3);              /* count + junk */
	bad_response("\xfe\xff\x00\x00\x00\x00\x00\x00\x00\x00", 10);
}

static void test_malformed_result_sets(void **state)
{
	struct session s = { 0 };
	struct buf b = { 0 };

	(void)state;
	/* a column definition that runs off its packet */
	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	put_lenenc(&b, 1);
	pkt(&s, S, &b);
	buf_free(&b);
	put_str(&b, "def");
	put_lenenc(&b, 200);
	put(&b, "short", 5);
	pkt(&s, S, &b);
	buf_free(&b);
	check_recovers(&s, 1);
	sess_free(&s);

	/* a response packet out of sequence */
	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	result_head(&s, COLS2, 1, false);
	s.seq += 3;
	eof(&s, 2);
	check_recovers(&s, 1);
	sess_free(&s);

	/* rows that do not decode only lose their preview */
	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 1");
	result_head(&s, COLS2, 2, false);
	put_lenenc(&b, 100);
	put(&b, "abc", 3);
	pkt(&s, S, &b);
	buf_free(&b);
	eof(&s, 2);
	{
		struct run r;

		run_all_ways(&s, &r);
		assert_int_equal(r.n, 2);
		assert_int_equal(r.st.malformed, 0);
		assert_true(result_of(&r, 1, 0)->rows[0].truncated);
		assert_true(result_of(&r, 1, 0)->rows[1].truncated);
		assert_attr(&r, 1, "response.preview", "[[null,null]]");
		run_free(&r);
	}
	sess_free(&s);
}

static void test_malformed_requests(void **state)
{
	struct session s = { 0 };
	struct buf b = { 0 };
	struct run r;

	(void)state;
	/* a client packet out of sequence, then an empty command */
	handshake(&s, CAPS_BASE, NULL);
	put(&b, "\x03SELECT 1", 9);
	pkt_seq(&s, C, 5, b.p, b.len);
	buf_free(&b);
	pkt_seq(&s, C, 0, "", 0);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 2");
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.st.malformed, 1);
	assert_attr(&r, 1, "request.sql", "SELECT 2");
	run_free(&r);
	sess_free(&s);

	/* a command in the middle of the authentication */
	greeting(&s, CAPS_BASE);
	cmd_text(&s, DT_MYSQL_COM_QUERY, "SELECT 3");
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 2);
	assert_true(r.ev[0].ev.flags & DT_XF_MALFORMED);
	assert_attr(&r, 1, "request.sql", "SELECT 3");
	assert_attr(&r, 1, "response.kind", "ok");
	assert_int_equal(r.ev[1].ev.flags, 0);
	run_free(&r);
	sess_free(&s);

	/* a statement that claims 65535 parameters: the response stops
	 * after one definition (the next command's answer does not fit),
	 * the execute's parameters do not decode */
	handshake(&s, CAPS_BASE, NULL);
	cmd_text(&s, DT_MYSQL_COM_STMT_PREPARE, "SELECT ?");
	prepare_ok(&s, 1, 0, 65535);
	column(&s, &COLS2[0]);
	cmd_text(&s, DT_MYSQL_COM_PING, "");
	ok(&s, 0, 0);
	put_u8(&b, DT_MYSQL_COM_STMT_EXECUTE);
	put_uint(&b, 1, 4);
	put_u8(&b, 0);
	put_uint(&b, 1, 4);
	put_zero(&b, 100);
	cmd(&s, &b);
	buf_free(&b);
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[1].ev.flags, DT_XF_MALFORMED);
	assert_attr(&r, 1, "response.params", "65535");
	assert_int_equal(r.ev[2].ev.flags,
			 DT_XF_MALFORMED | DT_XF_NO_RESPONSE);
	assert_attr(&r, 3, "request.command", "COM_STMT_EXECUTE");
	assert_attr(&r, 3, "request.sql", "SELECT ?");
	assert_false(sum_of(&r, 3)->request.params_decoded);
	assert_attr(&r, 3, "response.kind", "ok");
	run_free(&r);
	sess_free(&s);
}

/* Requests that never get an answer do not pile up without bound. */
static void test_unanswered_requests(void **state)
{
	struct session s = { 0 };
	struct run r;
	int i;

	(void)state;
	handshake(&s, CAPS_BASE, NULL);
	for (i = 0; i < 200; i++)
		cmd_text(&s, DT_MYSQL_COM_PING, "");
	ok(&s, 0, 0);
	run_all_ways(&s, &r);
	assert_int_equal(r.n, 201);
	assert_int_equal(r.ev[1].ev.flags, DT_XF_NO_RESPONSE);
	assert_true(r.st.resyncs >= 2);
	run_free(&r);
	sess_free(&s);
}

/* Thousands of statements: the oldest are forgotten, the newest kept. */
static void test_many_statements(void **state)
{
	struct session s = { 0 };
	struct plan pl = { .no_close = false };
	struct buf b = { 0 };
	char sql[64];
	struct run r;
	uint32_t id;

	(void)state;
	handshake(&s, CAPS_BASE | DT_MYSQL_CLIENT_DEPRECATE_EOF, NULL);
	for (id = 1; id <= 5000; id++) {
		snprintf(sql, sizeof(sql), "SELECT %u", id);
		cmd_text(&s, DT_MYSQL_COM_STMT_PREPARE, sql);
		prepare_ok(&s, id, 0, 0);
	}
	for (id = 1; id <= 5000; id += 4999) {
		b.len = 0;
		put_u8(&b, DT_MYSQL_COM_STMT_EXECUTE);
		put_uint(&b, id, 4);
		put_u8(&b, 0);
		put_uint(&b, 1, 4);
		cmd(&s, &b);
		ok(&s, 0, 0);
	}
	buf_free(&b);
	run_session(&s, &pl, &r);
	assert_int_equal(r.n, 5003);
	assert_attr(&r, 5001, "request.sql", NULL);
	assert_attr(&r, 5002, "request.sql", "SELECT 5000");
	run_free(&r);
	sess_free(&s);
}

static void test_garbage(void **state)
{
	struct dt_mysql_opts opts;
	uint32_t rng = 12345;
	int round;

	(void)state;
	dt_mysql_opts_init(&opts);
	for (round = 0; round < 200; round++) {
		struct session s = { 0 };
		struct plan pl = { .split = SPLIT_RANDOM, .seed = round + 1,
				   .opts = &opts };
		uint8_t bytes[512];
		struct run r;
		int k, i;

		opts.midstream = round & 1;
		for (k = 0; k < 6; k++) {
			size_t n = 1 + rng_next(&rng) % sizeof(bytes);

			for (i = 0; i < (int)n; i++) {
				uint32_t v = rng_next(&rng);

				/* small lengths and sequence ids, often */
				bytes[i] = (v & 3) ? (uint8_t)(v >> 8) : 0;
			}
			sess_bytes(&s, k & 1, bytes, n);
		}
		run_session(&s, &pl, &r);
		run_free(&r);
		sess_free(&s);
	}
}

static void test_feed_errors(void **state)
{
	struct dt_mysql_conn *c;
	size_t used = 99;
	uint8_t ping[5] = { 1, 0, 0, 0, DT_MYSQL_COM_PING };

	(void)state;
	assert_int_equal(dt_mysql_conn_new(&c, NULL), 0);
	assert_int_equal(dt_mysql_feed(c, 2, 0, ping, 5, &used), -EINVAL);
	assert_int_equal(used, 0);
	assert_int_equal(dt_mysql_feed(c, C, 100, ping, 3, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(dt_mysql_feed(c, C, 99, ping, 5, &used), -EINVAL);
	/* a greeting claiming 16 MiB is waited for, nothing else */
	ping[0] = ping[1] = ping[2] = 0xff;
	ping[4] = 10;
	assert_int_equal(dt_mysql_feed(c, S, 0, ping, 5, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(dt_mysql_retain_offset(c, S), 0);
	assert_null(dt_mysql_conn_unsupported(c));
	dt_mysql_conn_free(c);
	dt_mysql_conn_free(NULL);
	dt_mysql_summary_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static void check_normalize(const char *in, unsigned flags, const char *want)
{
	char out[256];
	size_t n = dt_mysql_sql_normalize(in, strlen(in), out, sizeof(out),
					  flags);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_sql_normalize(void **state)
{
	char small[8];

	(void)state;
	check_normalize("  SELECT *\n\tFROM   orders  WHERE id = 1 ", 0,
			"SELECT * FROM orders WHERE id = 1");
	check_normalize("select * from orders /* c */ where x = 'a  b'", 0,
			"select * from orders where x = 'a  b'");
	check_normalize("select * from orders where x = 'a  b'",
			DT_MYSQL_SQL_UPPER_KEYWORDS,
			"SELECT * FROM orders WHERE x = 'a  b'");
	check_normalize("-- leading\nselect 1 # trailing", 0, "select 1");
	check_normalize("select /*!40001 SQL_NO_CACHE */ `my  col` from t", 0,
			"select /*!40001 SQL_NO_CACHE */ `my  col` from t");
	check_normalize("select 'it''s', \"a\\\"  b\" from dual", 0,
			"select 'it''s', \"a\\\"  b\" from dual");
	check_normalize("select 1--2", 0, "select 1--2");
	check_normalize("select 'unterminated   ", 0,
			"select 'unterminated   ");
	check_normalize("/* only a comment", 0, "");
	check_normalize("insert into t values(1)", DT_MYSQL_SQL_UPPER_KEYWORDS,
			"INSERT INTO t VALUES(1)");
	assert_int_equal(dt_mysql_sql_normalize("select   1", 10, small,
						sizeof(small), 0),
			 8);
	assert_string_equal(small, "select ");
	assert_int_equal(dt_mysql_sql_normalize(NULL, 0, small, sizeof(small),
						0),
			 0);
	assert_string_equal(small, "");
	assert_int_equal(dt_mysql_sql_normalize("abc", 3, NULL, 0, 0), 3);
}

static void test_sql_kind(void **state)
{
	static const struct {
		const char *sql, *kind;
	} cases[] = {
		{ "SELECT 1", "select" },
		{ "  /* hint */ (select 1) union (select 2)", "select" },
		{ "WITH x AS (SELECT 1) SELECT * FROM x", "select" },
		{ "insert into t values (1)", "insert" },
		{ "-- c\nUPDATE t SET a = 1", "update" },
		{ "# c\ndelete from t", "delete" },
		{ "REPLACE INTO t VALUES (1)", "replace" },
		{ "create table t (a int)", "create" },
		{ "DROP TABLE t", "drop" },
		{ "alter table t add b int", "alter" },
		{ "SET autocommit=1", "set" },
		{ "show tables", "show" },
		{ "BEGIN", "begin" },
		{ "start transaction read only", "begin" },
		{ "START SLAVE", "other" },
		{ "commit", "commit" },
		{ "ROLLBACK TO SAVEPOINT a", "rollback" },
		{ "CALL p()", "other" },
		{ "selectx 1", "other" },
		{ "", "other" },
		{ "/*! unterminated", "other" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(dt_mysql_sql_kind(cases[i].sql,
						      strlen(cases[i].sql)),
				    cases[i].kind);
	assert_string_equal(dt_mysql_sql_kind(NULL, 0), "other");
}

static void test_detect(void **state)
{
	struct session s;
	uint8_t *client, *server;
	size_t clen, slen;
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t query[] = "\x09\x00\x00\x00\x03SELECT 1";
	static const uint8_t ping[] = "\x01\x00\x00\x00\x0e";

	(void)state;
	sess_load(&s, "text.chunks");
	client = sess_stream(&s, C, &clen);
	server = sess_stream(&s, S, &slen);
	assert_int_equal(dt_mysql_detect(server, slen, S), 1);
	assert_int_equal(dt_mysql_detect(server, 6, S), 1);
	assert_int_equal(dt_mysql_detect(server, 5, S), -EAGAIN);
	assert_int_equal(dt_mysql_detect(client, clen, C), 1);
	assert_int_equal(dt_mysql_detect(client, 5, C), -EAGAIN);
	assert_int_equal(dt_mysql_detect(query, sizeof(query) - 1, C), 1);
	assert_int_equal(dt_mysql_detect(query, 7, C), -EAGAIN);
	assert_int_equal(dt_mysql_detect(ping, 5, C), 1);
	assert_int_equal(dt_mysql_detect(http, sizeof(http) - 1, C), 0);
	assert_int_equal(dt_mysql_detect(http, sizeof(http) - 1, S), 0);
	assert_int_equal(dt_mysql_detect(client, clen, S), 0);
	assert_int_equal(dt_mysql_detect((const uint8_t *)"\x05\x00\x00\x00"
							  "\x03SE\x01T",
					 9, C),
			 0);
	free(client);
	free(server);
	sess_free(&s);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dt_mysql_command_name(DT_MYSQL_COM_QUERY),
			    "COM_QUERY");
	assert_string_equal(dt_mysql_command_name(0x1f),
			    "COM_RESET_CONNECTION");
	assert_string_equal(dt_mysql_command_name(0xfa),
			    "COM_STMT_BULK_EXECUTE");
	assert_string_equal(dt_mysql_command_name(0x99), "COM_UNKNOWN");
	assert_string_equal(dt_mysql_command_name(DT_MYSQL_CMD_HANDSHAKE),
			    "handshake");
	assert_string_equal(dt_mysql_type_name(DT_MYSQL_TYPE_NEWDECIMAL),
			    "NEWDECIMAL");
	assert_string_equal(dt_mysql_type_name(DT_MYSQL_TYPE_TIME2), "TIME2");
	assert_string_equal(dt_mysql_type_name(DT_MYSQL_TYPE_GEOMETRY),
			    "GEOMETRY");
	assert_string_equal(dt_mysql_type_name(100), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_session),
		cmocka_unit_test(test_prepared_session),
		cmocka_unit_test(test_local_infile),
		cmocka_unit_test(test_auth_switch_redacted),
		cmocka_unit_test(test_compression_unsupported),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_decode_exchange),
		cmocka_unit_test(test_handshake_variants),
		cmocka_unit_test(test_scramble_never_exposed),
		cmocka_unit_test(test_change_user),
		cmocka_unit_test(test_ssl_request_unsupported),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_binary_values_bad),
		cmocka_unit_test(test_multi_results_deprecate_eof),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_multi_packet_payloads),
		cmocka_unit_test(test_midstream_join),
		cmocka_unit_test(test_midstream_prepared),
		cmocka_unit_test(test_midstream_prepare_eof_learning),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_connection_ends),
		cmocka_unit_test(test_refused_connection),
		cmocka_unit_test(test_malformed_responses),
		cmocka_unit_test(test_malformed_result_sets),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_unanswered_requests),
		cmocka_unit_test(test_many_statements),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_feed_errors),
		cmocka_unit_test(test_sql_normalize),
		cmocka_unit_test(test_sql_kind),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
