// SPDX-License-Identifier: MIT
/*
 * Tests of exchange records and session files: round trips, frames, files
 * cut short anywhere, bit flips everywhere, hand-made hostile files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zstd.h>

#include "formats/formats.h"
#include "formats/session_format.h"

/* --- a memory sink that remembers where each write began ---------------- */

#define MAX_WRITES 4096

struct mem_sink {
	struct dt_buf buf;
	size_t writes;
	size_t write_end[MAX_WRITES]; /* offset after each write */
	int fail_at;                  /* write number that fails, 0 = none */
};

static int mem_write(void *ctx, const void *data, size_t len)
{
	struct mem_sink *s = ctx;

	if (s->fail_at && (int)s->writes + 1 == s->fail_at)
		return -ENOSPC;
	assert_int_equal(dt_buf_reserve(&s->buf, len), 0);
	memcpy(s->buf.data + s->buf.len, data, len);
	s->buf.len += len;
	assert_true(s->writes < MAX_WRITES);
	s->write_end[s->writes++] = s->buf.len;
	return 0;
}

static struct dt_session_sink sink_of(struct mem_sink *s)
{
	return (struct dt_session_sink){ .write = mem_write, .ctx = s };
}

/* --- exchanges built from a number, compared field by field ------------- */

static void set_endpoint(struct dt_endpoint *ep, unsigned int i, bool client)
{
	memset(ep, 0, sizeof(*ep));
	if ((i + client) % 2) {
		uint8_t v4[4] = { 10, client, (uint8_t)(i >> 8), (uint8_t)i };

		ep->family = DT_FAMILY_IPV4;
		memcpy(ep->addr, v4, 4);
	} else {
		ep->family = DT_FAMILY_IPV6;
		ep->addr[0] = 0xfd;
		ep->addr[14] = (uint8_t)(i >> 8);
		ep->addr[15] = (uint8_t)i;
	}
	ep->port = client ? (uint16_t)(40000 + i) : 8080;
	ep->pid = client ? 1000 + i : 0;
	snprintf(ep->comm, sizeof(ep->comm), client ? "client-%u" : "srv", i);
	ep->cgroup_id = client ? 0x1234567890abcdefull + i : 0;
}

static void fill_bytes(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t j = 0; j < len; j++)
		p[j] = (uint8_t)(j * seed + j / 7); /* NULs included */
}

static void set_bytes(struct dt_exchange *x, bool request, size_t len,
		      unsigned int seed)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	fill_bytes(p, len, seed);
	if (request)
		assert_int_equal(dt_exchange_set_request(x, p, len), 0);
	else
		assert_int_equal(dt_exchange_set_response(x, p, len), 0);
	free(p);
}

static void make_exchange(unsigned int i, struct dt_exchange *x)
{
	uint64_t base = 1700000000000000000ull + (uint64_t)i * 1000000;
	char val[32];

	dt_exchange_init(x);
	x->id = i + 1;
	x->conn_id = 100 + i % 7;
	x->link_id = i % 3 ? 0 : 5000 + i;
	x->protocol = i % 4;
	x->flags = i & DT_XF_ALL;
	set_endpoint(&x->client, i, true);
	set_endpoint(&x->server, i, false);
	if (i % 5) {
		x->req_start_ns = base;
		x->req_end_ns = base + 10;
		x->resp_start_ns = base + 200;
		x->resp_end_ns = base + 450;
	}
	if (i % 3 >= 1) {
		assert_int_equal(dt_exchange_set_attr(x, "method", "GET"), 0);
		snprintf(val, sizeof(val), "/api/v1/orders/%u", i);
		assert_int_equal(dt_exchange_set_attr(x, "path", val), 0);
	}
	if (i % 3 == 2)
		assert_int_equal(dt_exchange_set_attr(x, "status", ""), 0);
	set_bytes(x, true, i % 6 ? (i * 37) % 300 : 0, i);
	set_bytes(x, false, i % 8 ? (i * 53) % 500 : 0, i + 3);
}

static void assert_endpoint_equal(const struct dt_endpoint *a,
				  const struct dt_endpoint *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->addr, b->addr, sizeof(a->addr));
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->pid, b->pid);
	assert_string_equal(a->comm, b->comm);
	assert_int_equal(a->cgroup_id, b->cgroup_id);
}

static void assert_bytes_equal(const uint8_t *a, size_t alen,
			       const uint8_t *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen)
		assert_memory_equal(a, b, alen);
}

static void assert_exchange_equal(const struct dt_exchange *a,
				  const struct dt_exchange *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->conn_id, b->conn_id);
	assert_int_equal(a->link_id, b->link_id);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->flags, b->flags);
	assert_endpoint_equal(&a->client, &b->client);
	assert_endpoint_equal(&a->server, &b->server);
	assert_int_equal(a->req_start_ns, b->req_start_ns);
	assert_int_equal(a->req_end_ns, b->req_end_ns);
	assert_int_equal(a->resp_start_ns, b->resp_start_ns);
	assert_int_equal(a->resp_end_ns, b->resp_end_ns);
	assert_int_equal(a->nattrs, b->nattrs);
	for (size_t i = 0; i < a->nattrs; i++) {
		assert_string_equal(a->attrs[i].key, b->attrs[i].key);
		assert_string_equal(a->attrs[i].value, b->attrs[i].value);
	}
	assert_bytes_equal(a->request, a->request_len, b->request,
			   b->request_len);
	assert_bytes_equal(a->response, a->response_len, b->response,
			   b->response_len);
}

/* --- writing and reading whole sessions --------------------------------- */

static const struct dt_attr test_meta[] = {
	{ "task", "record 500 calls of GET /api/v1/orders*" },
	{ "host", "test-host" },
	{ "version", "0.1.0" },
	{ "empty", "" },
};

static const struct dt_attr test_stats[] = {
	{ "exchanges", "42" },
	{ "drops.ringbuf", "0" },
	{ "drops.truncated", "3" },
};

/* Writes exchanges 0..n-1 (or only the header and frames when !finish). */
static void write_session(struct mem_sink *s, unsigned int n,
			  size_t frame_bytes, bool finish)
{
	struct dt_session_writer_opts opts = { .frame_bytes = frame_bytes };
	struct dt_session_sink sink = sink_of(s);
	struct dt_session_writer *w;
	struct dt_exchange x;

	assert_int_equal(dt_session_writer_new(&w, &sink, test_meta, 4, &opts),
			 0);
	for (unsigned int i = 0; i < n; i++) {
		make_exchange(i, &x);
		assert_int_equal(dt_session_writer_append(w, &x), 0);
		dt_exchange_release(&x);
	}
	if (finish)
		assert_int_equal(dt_session_writer_finish(w, test_stats, 3), 0);
	else
		assert_int_equal(dt_session_writer_flush(w), 0);
	assert_int_equal(dt_session_writer_exchanges(w), n);
	assert_int_equal(dt_session_writer_bytes(w), s->buf.len);
	dt_session_writer_free(w);
}

/*
 * Reads data[0..len) to its end; every exchange must match the one
 * written. Returns the final status (0 or an error), the count in *n and
 * the message in err.
 */
static int read_session(const uint8_t *data, size_t len, unsigned int *n,
			char *err, size_t errlen)
{
	struct dt_session_reader *r;
	struct dt_exchange x, want;
	int ret;

	*n = 0;
	dt_exchange_init(&x);
	ret = dt_session_reader_open(&r, data, len, err, errlen);
	if (ret) {
		assert_true(ret < 0);
		return ret;
	}
	while ((ret = dt_session_reader_next(r, &x)) == 1) {
		make_exchange(*n, &want);
		assert_exchange_equal(&x, &want);
		dt_exchange_release(&want);
		(*n)++;
	}
	assert_null(x.attrs);
	assert_null(x.request);
	/* errors and the end are sticky */
	assert_int_equal(dt_session_reader_next(r, &x), ret);
	snprintf(err, errlen, "%s", dt_session_reader_error(r));
	dt_session_reader_free(r);
	return ret;
}

static void free_sink(struct mem_sink *s)
{
	dt_buf_release(&s->buf);
	free(s);
}

static struct mem_sink *new_sink(void)
{
	struct mem_sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* Parses the finished file's index through its trailer. */
static uint32_t index_entries(const struct mem_sink *s,
			      struct dt_index_entry *e, uint32_t max)
{
	const uint8_t *end = s->buf.data + s->buf.len;
	struct dt_trailer t = { 0 };
	uint32_t i;

	assert_true(dt_trailer_decode(end - DT_TRAILER_LEN, &t));
	assert_true(t.frames <= max);
	for (i = 0; i < t.frames; i++)
		dt_index_entry_decode(s->buf.data + t.index_offset +
				      DT_INDEX_FIXED_LEN +
				      i * DT_INDEX_ENTRY_LEN, &e[i]);
	return t.frames;
}

/* --- exchange.c --------------------------------------------------------- */

static void test_endpoint_format(void **state)
{
	struct dt_endpoint ep = { .family = DT_FAMILY_IPV4, .port = 80 };
	char buf[64];

	(void)state;
	memcpy(ep.addr, "\x7f\x00\x00\x01", 4);
	assert_int_equal(dt_endpoint_format(&ep, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "127.0.0.1:80");
	assert_int_equal(dt_endpoint_format(&ep, buf, 13), 12);
	assert_int_equal(dt_endpoint_format(&ep, buf, 12), -ENOSPC);
	assert_int_equal(dt_endpoint_format(&ep, buf, 0), -ENOSPC);

	ep.family = DT_FAMILY_IPV6;
	memset(ep.addr, 0, sizeof(ep.addr));
	ep.addr[15] = 1;
	ep.port = 6379;
	assert_int_equal(dt_endpoint_format(&ep, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "[::1]:6379");
	memcpy(ep.addr, "\xfd\x00\x00\x00\x00\x00\x00\x00"
			"\x12\x34\x56\x78\x9a\xbc\xde\xf0", 16);
	ep.port = 65535;
	assert_int_equal(dt_endpoint_format(&ep, buf, sizeof(buf)), 33);
	assert_string_equal(buf, "[fd00::1234:5678:9abc:def0]:65535");
	assert_int_equal(dt_endpoint_format(&ep, buf, 20), -ENOSPC);

	ep.family = DT_FAMILY_NONE;
	assert_int_equal(dt_endpoint_format(&ep, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "-");
	assert_int_equal(dt_endpoint_format(&ep, buf, 1), -ENOSPC);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dt_protocol_name(DT_PROTO_HTTP1), "http");
	assert_string_equal(dt_protocol_name(DT_PROTO_REDIS), "redis");
	assert_string_equal(dt_protocol_name(DT_PROTO_MYSQL), "mysql");
	assert_string_equal(dt_protocol_name(DT_PROTO_UNKNOWN), "unknown");
	assert_string_equal(dt_protocol_name(77), "unknown");
	for (uint32_t bit = 1; bit; bit <<= 1) {
		const char *name = dt_exchange_flag_name(bit);

		if (bit & DT_XF_ALL)
			assert_non_null(name);
		else
			assert_null(name);
	}
	assert_string_equal(dt_exchange_flag_name(DT_XF_INCOMPLETE),
			    "incomplete");
	assert_string_equal(dt_exchange_flag_name(DT_XF_SENDFILE), "sendfile");
	assert_null(dt_exchange_flag_name(DT_XF_INCOMPLETE | DT_XF_TRUNCATED));
	assert_null(dt_exchange_flag_name(0));
}

static void test_exchange_fields(void **state)
{
	struct dt_exchange x;

	(void)state;
	dt_exchange_init(&x);
	assert_null(dt_exchange_attr(&x, "method"));
	assert_int_equal(dt_exchange_set_attr(&x, "method", "GET"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "path", "/"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "method", "POST"), 0);
	assert_int_equal(x.nattrs, 2);
	assert_string_equal(dt_exchange_attr(&x, "method"), "POST");
	assert_string_equal(dt_exchange_attr(&x, "path"), "/");
	assert_int_equal(dt_exchange_set_request(&x, "a\0b", 3), 0);
	assert_memory_equal(x.request, "a\0b", 3);
	assert_int_equal(dt_exchange_set_request(&x, "xy", 2), 0);
	assert_int_equal(x.request_len, 2);
	assert_int_equal(dt_exchange_set_response(&x, NULL, 0), 0);
	assert_null(x.response);
	assert_int_equal(dt_exchange_set_response(&x, NULL, 4), -EINVAL);
	dt_exchange_release(&x);
	assert_int_equal(x.nattrs, 0);
	assert_null(x.attrs);
	assert_null(x.request);
	dt_exchange_release(&x);
}

/* --- round trips -------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct mem_sink *s = new_sink();
	struct dt_session_reader *r;
	const struct dt_attr *kv;
	unsigned int n;
	char err[256];
	size_t nkv;

	(void)state;
	write_session(s, 600, 0, true);
	assert_int_equal(s->writes, 3); /* header, one frame, index+trailer */
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), 0);
	assert_int_equal(n, 600);

	assert_int_equal(dt_session_reader_open(&r, s->buf.data, s->buf.len,
						err, sizeof(err)), 0);
	assert_true(dt_session_reader_has_trailer(r));
	kv = dt_session_reader_meta(r, &nkv);
	assert_int_equal(nkv, 4);
	for (size_t i = 0; i < nkv; i++) {
		assert_string_equal(kv[i].key, test_meta[i].key);
		assert_string_equal(kv[i].value, test_meta[i].value);
	}
	kv = dt_session_reader_stats(r, &nkv);
	assert_int_equal(nkv, 3);
	for (size_t i = 0; i < nkv; i++) {
		assert_string_equal(kv[i].key, test_stats[i].key);
		assert_string_equal(kv[i].value, test_stats[i].value);
	}
	dt_session_reader_free(r);
	free_sink(s);
}

static void test_many_frames(void **state)
{
	struct dt_index_entry e[MAX_WRITES];
	struct mem_sink *s = new_sink();
	uint32_t frames, records = 0;
	unsigned int n;
	char err[256];

	(void)state;
	write_session(s, 300, 2048, true);
	frames = index_entries(s, e, MAX_WRITES);
	assert_true(frames > 20);
	assert_int_equal(s->writes, frames + 2);
	for (uint32_t i = 0; i < frames; i++) {
		/* each frame went out in one write */
		assert_int_equal(e[i].offset, s->write_end[i]);
		assert_true(e[i].raw_len <= 2048);
		assert_true(e[i].first_ns <= e[i].last_ns);
		records += e[i].records;
	}
	assert_int_equal(records, 300);
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), 0);
	assert_int_equal(n, 300);
	free_sink(s);
}

static void test_empty_session(void **state)
{
	struct mem_sink *s = new_sink();
	struct dt_session_sink sink = sink_of(s);
	struct dt_session_writer *w;
	struct dt_session_reader *r;
	struct dt_exchange x;
	char err[128];
	size_t n;

	(void)state;
	dt_exchange_init(&x);
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, NULL), 0);
	assert_int_equal(dt_session_writer_flush(w), 0);
	assert_int_equal(s->writes, 1);
	assert_int_equal(dt_session_writer_finish(w, NULL, 0), 0);
	assert_int_equal(dt_session_writer_append(w, &x), -EINVAL);
	dt_session_writer_free(w);

	assert_int_equal(dt_session_reader_open(&r, s->buf.data, s->buf.len,
						err, sizeof(err)), 0);
	assert_true(dt_session_reader_has_trailer(r));
	dt_session_reader_meta(r, &n);
	assert_int_equal(n, 0);
	assert_non_null(dt_session_reader_stats(r, &n));
	assert_int_equal(n, 0);
	assert_int_equal(dt_session_reader_next(r, &x), 0);
	dt_session_reader_free(r);
	free_sink(s);
}

static void test_large_exchange(void **state)
{
	struct dt_session_writer_opts opts = { .frame_bytes = 64 << 10 };
	struct dt_index_entry e[16];
	struct mem_sink *s = new_sink();
	struct dt_session_sink sink = sink_of(s);
	struct dt_session_writer *w;
	struct dt_session_reader *r;
	struct dt_exchange x, big, got;
	size_t big_len = 2u << 20;
	char err[128];

	(void)state;
	dt_exchange_init(&got);
	make_exchange(1, &big);
	set_bytes(&big, false, big_len, 7);
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, &opts), 0);
	make_exchange(2, &x);
	assert_int_equal(dt_session_writer_append(w, &x), 0);
	assert_int_equal(dt_session_writer_append(w, &big), 0);
	assert_int_equal(dt_session_writer_append(w, &x), 0);
	assert_int_equal(dt_session_writer_finish(w, NULL, 0), 0);
	dt_session_writer_free(w);

	/* the big one alone in the middle frame */
	assert_int_equal(index_entries(s, e, 16), 3);
	assert_int_equal(e[1].records, 1);
	assert_true(e[1].raw_len > big_len);

	assert_int_equal(dt_session_reader_open(&r, s->buf.data, s->buf.len,
						err, sizeof(err)), 0);
	assert_int_equal(dt_session_reader_next(r, &got), 1);
	assert_exchange_equal(&got, &x);
	assert_int_equal(dt_session_reader_next(r, &got), 1);
	assert_exchange_equal(&got, &big);
	assert_int_equal(dt_session_reader_next(r, &got), 1);
	assert_exchange_equal(&got, &x);
	assert_int_equal(dt_session_reader_next(r, &got), 0);
	dt_session_reader_free(r);
	dt_exchange_release(&x);
	dt_exchange_release(&big);
	free_sink(s);
}

/* --- writer edge cases -------------------------------------------------- */

static void test_writer_errors(void **state)
{
	struct dt_session_writer_opts bad_level = { .zstd_level = 99 };
	struct dt_session_writer_opts bad_frame = {
		.frame_bytes = (size_t)DT_FRAME_MAX_RAW + 1,
	};
	struct dt_attr no_value = { "key", NULL };
	struct mem_sink *s = new_sink();
	struct dt_session_sink sink = sink_of(s);
	struct dt_session_writer *w;
	struct dt_exchange x;
	char *saved;

	(void)state;
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, &bad_level),
			 -EINVAL);
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, &bad_frame),
			 -EINVAL);
	assert_int_equal(dt_session_writer_new(&w, &sink, &no_value, 1, NULL),
			 -EINVAL);
	assert_int_equal(s->writes, 0);

	/* the second write (first frame) fails: the writer stays failed */
	s->fail_at = 2;
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, NULL), 0);
	make_exchange(4, &x);
	assert_int_equal(dt_session_writer_append(w, &x), 0);
	assert_int_equal(dt_session_writer_flush(w), -ENOSPC);
	assert_int_equal(dt_session_writer_append(w, &x), -ENOSPC);
	assert_int_equal(dt_session_writer_finish(w, NULL, 0), -ENOSPC);
	assert_int_equal(dt_session_writer_bytes(w), s->buf.len);
	dt_session_writer_free(w);

	/* attrs the format cannot carry are refused, nothing is written */
	s->fail_at = 0;
	assert_int_equal(dt_session_writer_new(&w, &sink, NULL, 0, NULL), 0);
	saved = x.attrs[0].value;
	x.attrs[0].value = NULL;
	assert_int_equal(dt_session_writer_append(w, &x), -EINVAL);
	x.attrs[0].value = saved;
	x.nattrs = DT_RECORD_MAX_ATTRS + 1;
	assert_int_equal(dt_session_writer_append(w, &x), -E2BIG);
	x.nattrs = 2;
	x.server.family = 5;
	assert_int_equal(dt_session_writer_append(w, &x), -EINVAL);
	assert_int_equal(dt_session_writer_exchanges(w), 0);
	dt_session_writer_free(w);
	dt_exchange_release(&x);
	free_sink(s);
}

/* --- files cut short ---------------------------------------------------- */

/* Frames wholly before offset cut, and their records. */
static unsigned int records_before(const struct dt_index_entry *e,
				   uint32_t frames, const struct mem_sink *s,
				   size_t cut)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < frames; i++)
		if (s->write_end[i + 1] <= cut)
			n += e[i].records;
	return n;
}

static bool is_boundary(const struct mem_sink *s, uint32_t frames,
			size_t cut)
{
	for (uint32_t i = 0; i <= frames; i++)
		if (s->write_end[i] == cut)
			return true;
	return false;
}

static void test_cut_at_frame_boundaries(void **state)
{
	struct dt_index_entry e[MAX_WRITES];
	struct mem_sink *s = new_sink();
	struct dt_session_reader *r;
	uint32_t frames;
	unsigned int n;
	char err[256];

	(void)state;
	write_session(s, 120, 1024, true);
	frames = index_entries(s, e, MAX_WRITES);
	/* write_end[0] is the header, write_end[i + 1] frame i */
	for (uint32_t i = 0; i <= frames; i++) {
		size_t cut = s->write_end[i];

		assert_int_equal(read_session(s->buf.data, cut, &n, err,
					      sizeof(err)), 0);
		assert_int_equal(n, records_before(e, frames, s, cut));
		assert_int_equal(dt_session_reader_open(&r, s->buf.data, cut,
							err, sizeof(err)), 0);
		assert_false(dt_session_reader_has_trailer(r));
		assert_null(dt_session_reader_stats(r, &(size_t){ 0 }));
		dt_session_reader_free(r);
	}
	free_sink(s);
}

static void test_cut_anywhere(void **state)
{
	struct dt_index_entry e[MAX_WRITES];
	struct mem_sink *s = new_sink();
	size_t header_len, frames_end;
	uint32_t frames;
	unsigned int n;
	char err[256];
	int ret;

	(void)state;
	write_session(s, 24, 1500, true);
	frames = index_entries(s, e, MAX_WRITES);
	header_len = s->write_end[0];
	frames_end = s->write_end[frames];
	for (size_t cut = 0; cut < s->buf.len; cut++) {
		ret = read_session(s->buf.data, cut, &n, err, sizeof(err));
		if (cut < header_len) {
			assert_int_equal(ret, -ENODATA);
			assert_non_null(strstr(err, "truncated header"));
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, records_before(e, frames, s, cut));
		if (cut > frames_end && cut < frames_end + 3) {
			/* "D" and "DT" start a frame as well as the index */
			assert_int_equal(ret, -ENODATA);
		} else if (cut > frames_end) {
			/* inside the index or the trailer */
			assert_int_equal(ret, -EBADMSG);
			assert_non_null(strstr(err, "without a valid trailer"));
		} else if (is_boundary(s, frames, cut)) {
			assert_int_equal(ret, 0);
		} else {
			assert_int_equal(ret, -ENODATA);
			assert_non_null(strstr(err, "truncated frame"));
			assert_non_null(strstr(err, "at offset"));
		}
	}
	free_sink(s);
}

static void test_truncated_message(void **state)
{
	struct mem_sink *s = new_sink();
	char err[256], want[256];
	size_t frame_at, cut;
	unsigned int n;

	(void)state;
	write_session(s, 30, 1 << 20, true);
	frame_at = s->write_end[0];
	cut = frame_at + 100;
	assert_int_equal(read_session(s->buf.data, cut, &n, err, sizeof(err)),
			 -ENODATA);
	assert_int_equal(n, 0);
	snprintf(want, sizeof(want),
		 "truncated frame at offset %zu (expected %zu bytes, 100 present)",
		 frame_at, s->write_end[1] - frame_at);
	assert_string_equal(err, want);
	free_sink(s);
}

/* --- corruption --------------------------------------------------------- */

static void test_bit_flips(void **state)
{
	struct mem_sink *s = new_sink();
	uint8_t *copy;
	unsigned int n;
	char err[256];
	int ret;

	(void)state;
	write_session(s, 6, 700, true);
	copy = malloc(s->buf.len);
	assert_non_null(copy);
	for (size_t pos = 0; pos < s->buf.len; pos++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, s->buf.data, s->buf.len);
			copy[pos] ^= (uint8_t)(1u << bit);
			ret = read_session(copy, s->buf.len, &n, err,
					   sizeof(err));
			/* read_session checked every exchange it got */
			assert_true(ret < 0);
			assert_true(err[0] != '\0');
			assert_true(n <= 6);
		}
	}
	free(copy);
	free_sink(s);
}

/* Reader error messages name the offset of the damage. */
static void test_corruption_messages(void **state)
{
	struct mem_sink *s = new_sink();
	size_t frame1;
	unsigned int n;
	char err[256], want[128];

	(void)state;
	write_session(s, 20, 1000, true);
	frame1 = s->write_end[1];
	s->buf.data[frame1 + DT_FRAME_HEADER_LEN + 5] ^= 0x40;
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want),
		 "frame at offset %zu: payload checksum mismatch", frame1);
	assert_string_equal(err, want);
	assert_true(n > 0);
	s->buf.data[frame1 + DT_FRAME_HEADER_LEN + 5] ^= 0x40;

	s->buf.data[frame1 + 9] ^= 1;
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want),
		 "frame header checksum mismatch at offset %zu", frame1);
	assert_string_equal(err, want);
	s->buf.data[frame1 + 9] ^= 1;

	s->buf.data[s->buf.len - 10] ^= 1;
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), -EBADMSG);
	assert_int_equal(n, 20);
	assert_non_null(strstr(err, "trailer checksum mismatch"));
	free_sink(s);
}

/* --- hand-made files ---------------------------------------------------- */

/* Header with the given metadata, version and extra bytes. */
static void put_header(struct dt_buf *b, uint16_t major, uint16_t minor,
		       const struct dt_attr *meta, size_t nmeta, size_t extra)
{
	size_t kvlen, len;
	uint8_t *p;

	assert_int_equal(dt_kv_size(meta, nmeta, &kvlen), 0);
	len = DT_HEADER_FIXED_LEN + kvlen + extra + 4;
	assert_int_equal(dt_buf_reserve(b, len), 0);
	p = b->data + b->len;
	memset(p, 0, len);
	memcpy(p, DT_SESSION_MAGIC, DT_SESSION_MAGIC_LEN);
	dt_put_u16(p + DT_HEADER_MAJOR_AT, major);
	dt_put_u16(p + DT_HEADER_MINOR_AT, minor);
	dt_put_u32(p + DT_HEADER_LEN_AT, (uint32_t)len);
	dt_kv_encode(p + DT_HEADER_FIXED_LEN, meta, nmeta);
	dt_put_u32(p + len - 4, dt_crc32c(0, p, len - 4));
	b->len += len;
}

/* A frame holding raw (records as encoded), with valid checksums. */
static void put_frame(struct dt_buf *b, const uint8_t *raw, size_t raw_len,
		      uint32_t records)
{
	size_t bound = ZSTD_compressBound(raw_len), clen;
	struct dt_frame_header h = { .raw_len = (uint32_t)raw_len,
				     .records = records };
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	uint8_t *p;

	assert_non_null(cctx);
	assert_int_equal(dt_buf_reserve(b, DT_FRAME_HEADER_LEN + bound), 0);
	p = b->data + b->len;
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	clen = ZSTD_compress2(cctx, p + DT_FRAME_HEADER_LEN, bound, raw,
			      raw_len);
	assert_false(ZSTD_isError(clen));
	ZSTD_freeCCtx(cctx);
	h.comp_len = (uint32_t)clen;
	h.payload_crc = dt_crc32c(0, p + DT_FRAME_HEADER_LEN, clen);
	dt_frame_header_encode(p, &h);
	b->len += DT_FRAME_HEADER_LEN + clen;
}

/* Appends field (tag, len, value) to a record being built in b. */
static void put_raw_field(struct dt_buf *b, uint16_t tag, const void *val,
			  uint32_t len)
{
	assert_int_equal(dt_buf_reserve(b, DT_FIELD_HEADER_LEN + len), 0);
	dt_put_u16(b->data + b->len, tag);
	dt_put_u32(b->data + b->len + 2, len);
	memcpy(b->data + b->len + DT_FIELD_HEADER_LEN, val, len);
	b->len += DT_FIELD_HEADER_LEN + len;
}

/* Reads a file of header + one frame holding one record with fields. */
static int read_one_record(const struct dt_buf *fields, struct dt_exchange *x,
			   char *err, size_t errlen)
{
	struct dt_buf raw = { 0 }, file = { 0 };
	struct dt_exchange more = { 0 };
	struct dt_session_reader *r;
	int ret;

	assert_int_equal(dt_buf_reserve(&raw, 4 + fields->len), 0);
	dt_put_u32(raw.data, (uint32_t)fields->len);
	if (fields->len)
		memcpy(raw.data + 4, fields->data, fields->len);
	raw.len = 4 + fields->len;
	put_header(&file, DT_SESSION_VERSION, 0, NULL, 0, 0);
	put_frame(&file, raw.data, raw.len, 1);
	assert_int_equal(dt_session_reader_open(&r, file.data, file.len, err,
						errlen), 0);
	ret = dt_session_reader_next(r, x);
	if (ret == 1)
		assert_int_equal(dt_session_reader_next(r, &more), 0);
	snprintf(err, errlen, "%s", dt_session_reader_error(r));
	dt_session_reader_free(r);
	dt_buf_release(&raw);
	dt_buf_release(&file);
	return ret;
}

static void test_record_fields(void **state)
{
	uint8_t id[8], ep[DT_ENDPOINT_LEN] = { DT_FAMILY_IPV4 };
	struct dt_buf f = { 0 };
	struct dt_exchange x;
	char err[256];

	(void)state;
	dt_exchange_init(&x);
	/* no field at all: an all-zero exchange */
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), 1);
	assert_int_equal(x.id, 0);
	assert_int_equal(x.nattrs, 0);

	/* an unknown field is skipped */
	dt_put_u64(id, 77);
	put_raw_field(&f, 0x0100, "future", 6);
	put_raw_field(&f, DT_TAG_ID, id, 8);
	put_raw_field(&f, DT_TAG_CLIENT, ep, sizeof(ep));
	put_raw_field(&f, DT_TAG_ATTR, "\3\0\0\0keyvalue", 12);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), 1);
	assert_int_equal(x.id, 77);
	assert_int_equal(x.client.family, DT_FAMILY_IPV4);
	assert_string_equal(dt_exchange_attr(&x, "key"), "value");

	/* an unknown critical field is refused */
	f.len = 0;
	put_raw_field(&f, DT_TAG_CRITICAL | 0x0100, "", 0);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "unknown critical field 0x8100"));

	/* a repeated field, a wrong size, a bad family, NULs in strings */
	f.len = 0;
	put_raw_field(&f, DT_TAG_ID, id, 8);
	put_raw_field(&f, DT_TAG_ID, id, 8);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "repeated"));
	f.len = 0;
	put_raw_field(&f, DT_TAG_PROTOCOL, id, 8);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "expected 4"));
	f.len = 0;
	ep[DT_EP_FAMILY_AT] = 5;
	put_raw_field(&f, DT_TAG_SERVER, ep, sizeof(ep));
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown family 5"));
	f.len = 0;
	ep[DT_EP_FAMILY_AT] = DT_FAMILY_IPV6;
	memset(ep + DT_EP_COMM_AT, 'a', 16);
	put_raw_field(&f, DT_TAG_SERVER, ep, sizeof(ep));
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not terminated"));
	f.len = 0;
	put_raw_field(&f, DT_TAG_ATTR, "\1\0\0\0kv\0x", 8);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	f.len = 0;
	put_raw_field(&f, DT_TAG_ATTR, "\5\0\0\0kv", 6);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_null(x.attrs);
	/* a field running past the record */
	f.len = 0;
	put_raw_field(&f, DT_TAG_REQUEST, "abc", 3);
	dt_put_u32(f.data + 2, 4);
	assert_int_equal(read_one_record(&f, &x, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record 0"));
	dt_buf_release(&f);
}

static void test_header_versions(void **state)
{
	struct dt_attr meta = { "k", "v" };
	struct dt_buf b = { 0 };
	struct dt_session_reader *r;
	const struct dt_attr *kv;
	struct dt_exchange x;
	char err[256];
	size_t n;

	(void)state;
	dt_exchange_init(&x);
	/* a later minor version with more header bytes reads fine */
	put_header(&b, DT_SESSION_VERSION, 3, &meta, 1, 10);
	assert_int_equal(dt_session_reader_open(&r, b.data, b.len, err,
						sizeof(err)), 0);
	kv = dt_session_reader_meta(r, &n);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "v");
	assert_int_equal(dt_session_reader_next(r, &x), 0);
	dt_session_reader_free(r);

	b.len = 0;
	put_header(&b, DT_SESSION_VERSION + 1, 0, NULL, 0, 0);
	assert_int_equal(dt_session_reader_open(&r, b.data, b.len, err,
						sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "version 2"));

	memcpy(b.data, "PK\3\4", 4);
	assert_int_equal(dt_session_reader_open(&r, b.data, b.len, err,
						sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a session file"));

	/* a metadata count that the header cannot hold */
	b.len = 0;
	put_header(&b, DT_SESSION_VERSION, 0, NULL, 0, 0);
	dt_put_u32(b.data + DT_HEADER_FIXED_LEN, 1000000);
	dt_put_u32(b.data + b.len - 4, dt_crc32c(0, b.data, b.len - 4));
	assert_int_equal(dt_session_reader_open(&r, b.data, b.len, err,
						sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "header metadata"));
	dt_buf_release(&b);
}

/* Frame headers that pass their checksum but lie about sizes. */
static void test_hostile_frames(void **state)
{
	static const struct { uint32_t raw_len, records; } lies[] = {
		{ DT_FRAME_MAX_RAW + 1, 1 }, /* over the allocation cap */
		{ 8, 0 },                    /* no records */
		{ 8, 3 },                    /* more records than bytes */
		{ 16, 1 },                   /* zstd content size differs */
	};
	struct dt_buf b = { 0 };
	struct dt_frame_header h = { 0 };
	size_t frame_at;
	unsigned int n;
	char err[256];
	uint8_t raw[8];

	(void)state;
	dt_put_u32(raw, 4);
	memset(raw + 4, 0, 4);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		b.len = 0;
		put_header(&b, DT_SESSION_VERSION, 0, NULL, 0, 0);
		frame_at = b.len;
		put_frame(&b, raw, sizeof(raw), 1);
		assert_true(dt_frame_header_decode(b.data + frame_at, &h));
		h.raw_len = lies[i].raw_len;
		h.records = lies[i].records;
		dt_frame_header_encode(b.data + frame_at, &h);
		assert_int_equal(read_session(b.data, b.len, &n, err,
					      sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "frame at offset"));
	}
	dt_buf_release(&b);
}

/* Index (no statistics) listing entries e[0..n) and the trailer. */
static void put_index(struct dt_buf *b, const struct dt_index_entry *e,
		      uint32_t n, uint64_t exchanges)
{
	size_t len = DT_INDEX_FIXED_LEN + n * DT_INDEX_ENTRY_LEN + 4 + 4;
	struct dt_trailer t = { n, b->len, len, exchanges };
	uint8_t *p;

	assert_int_equal(dt_buf_reserve(b, len + DT_TRAILER_LEN), 0);
	p = b->data + b->len;
	memcpy(p, DT_INDEX_MAGIC, DT_BLOCK_MAGIC_LEN);
	dt_put_u32(p + 4, n);
	for (uint32_t i = 0; i < n; i++)
		dt_index_entry_encode(p + DT_INDEX_FIXED_LEN +
				      i * DT_INDEX_ENTRY_LEN, &e[i]);
	dt_put_u32(p + len - 8, 0);
	dt_put_u32(p + len - 4, dt_crc32c(0, p, len - 4));
	dt_trailer_encode(p + len, &t);
	b->len += len + DT_TRAILER_LEN;
}

/* Index entries and trailers that pass their checksums but disagree with
 * the frames. */
/* A full disk: the frame that failed is dropped, the file written so far
 * gets its index and trailer once space is back. */
static void test_writer_recover(void **state)
{
	struct dt_session_writer_opts opts = { .frame_bytes = 4096 };
	struct mem_sink *s = new_sink();
	struct dt_session_sink sink = sink_of(s);
	struct dt_session_writer *w;
	struct dt_session_reader *r;
	struct dt_exchange x;
	unsigned int i, n;
	char err[256];
	int ret = 0;

	(void)state;
	assert_int_equal(dt_session_writer_new(&w, &sink, test_meta, 4, &opts),
			 0);
	assert_int_equal(dt_session_writer_recover(w), -EINVAL);
	s->fail_at = 4; /* header, two frames, then the disk is full */
	for (i = 0; i < 200 && !ret; i++) {
		make_exchange(i, &x);
		ret = dt_session_writer_append(w, &x);
		dt_exchange_release(&x);
	}
	assert_int_equal(ret, -ENOSPC);
	make_exchange(i, &x);
	assert_int_equal(dt_session_writer_append(w, &x), -ENOSPC);
	dt_exchange_release(&x);
	assert_int_equal(dt_session_writer_bytes(w), s->buf.len);
	assert_int_equal(dt_session_writer_recover(w), 0);
	s->fail_at = 0;
	assert_int_equal(dt_session_writer_finish(w, test_stats, 3), 0);
	assert_int_equal(read_session(s->buf.data, s->buf.len, &n, err,
				      sizeof(err)), 0);
	assert_true(n > 0);
	assert_int_equal(n, dt_session_writer_exchanges(w));
	assert_int_equal(dt_session_reader_open(&r, s->buf.data, s->buf.len,
						err, sizeof(err)), 0);
	assert_true(dt_session_reader_has_trailer(r));
	dt_session_reader_free(r);
	dt_session_writer_free(w);
	free_sink(s);
}

static void test_index_mismatch(void **state)
{
	struct dt_index_entry e[2] = { 0 };
	struct dt_frame_header h = { 0 };
	struct dt_buf b = { 0 };
	struct dt_exchange x;
	uint8_t raw[2][1024];
	size_t frame2, raw_len[2];
	unsigned int n;
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < 2; i++) {
		make_exchange(i, &x);
		assert_int_equal(dt_record_size(&x, &raw_len[i]), 0);
		assert_true(raw_len[i] <= sizeof(raw[i]));
		assert_int_equal(dt_record_encode(raw[i], &x), raw_len[i]);
		dt_exchange_release(&x);
	}
	put_header(&b, DT_SESSION_VERSION, 0, NULL, 0, 0);
	e[0] = (struct dt_index_entry){ .offset = b.len, .records = 1,
					.raw_len = (uint32_t)raw_len[0] };
	put_frame(&b, raw[0], raw_len[0], 1);
	frame2 = b.len;
	put_frame(&b, raw[1], raw_len[1], 1);

	/* the second frame is missing from the index */
	put_index(&b, e, 1, 1);
	assert_int_equal(read_session(b.data, b.len, &n, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "is not in the index"));

	/* the index lists a frame the file does not hold */
	b.len = frame2;
	e[1] = e[0];
	e[1].offset += DT_FRAME_HEADER_LEN;
	put_index(&b, e, 2, 2);
	assert_int_equal(read_session(b.data, b.len, &n, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "lists 2 frames, file holds 1"));

	/* a frame running into the index */
	b.len = frame2;
	put_index(&b, e, 1, 1);
	assert_true(dt_frame_header_decode(b.data + e[0].offset, &h));
	h.comp_len += 8;
	dt_frame_header_encode(b.data + e[0].offset, &h);
	assert_int_equal(read_session(b.data, b.len, &n, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "overlaps the index"));

	/* a frame whose record count differs from its entry's */
	h.comp_len -= 8;
	h.records = 2;
	dt_frame_header_encode(b.data + e[0].offset, &h);
	assert_int_equal(read_session(b.data, b.len, &n, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "does not match index entry 0"));
	dt_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_format),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_exchange_fields),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_many_frames),
		cmocka_unit_test(test_empty_session),
		cmocka_unit_test(test_large_exchange),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_cut_at_frame_boundaries),
		cmocka_unit_test(test_cut_anywhere),
		cmocka_unit_test(test_truncated_message),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_corruption_messages),
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_header_versions),
		cmocka_unit_test(test_hostile_frames),
		cmocka_unit_test(test_index_mismatch),
		cmocka_unit_test(test_writer_recover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
