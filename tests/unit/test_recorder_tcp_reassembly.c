// SPDX-License-Identifier: MIT
/*
 * Unit tests of the import path: frame decoding (link types, VLAN, IPv6
 * extension headers, fragments, cut frames), TCP reassembly (order,
 * duplicates, overlaps, holes, handshakes seen or not, wrap-around, port
 * reuse, limits), and the whole way from exported exchanges through
 * frames, reassembly and the recorder's assembler back to exchanges.
 */
#include <errno.h>
#include <pcap/dlt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "formats/pcap.h"
#include "recorder/recorder_int.h"
#include "recorder/tcp_reassembly.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* ---------------------------------------------------------------------- */
/* Events                                                                 */
/* ---------------------------------------------------------------------- */

struct logged {
	struct dt_event ev;
	uint8_t *data;
};

struct event_log {
	struct logged *evs;
	size_t n, cap;
	int stop_at;   /* > 0: the callback returns 1 at that event */
};

static int log_event(void *ctx, const struct dt_event *ev,
		     const uint8_t *data)
{
	struct event_log *l = ctx;
	struct logged *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->evs = realloc(l->evs, l->cap * sizeof(*l->evs));
		assert_non_null(l->evs);
	}
	e = &l->evs[l->n++];
	e->ev = *ev;
	e->data = malloc(ev->len + 1);
	assert_non_null(e->data);
	if (ev->len)
		memcpy(e->data, data, ev->len);
	return l->stop_at && (int)l->n >= l->stop_at;
}

static void log_free(struct event_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->evs[i].data);
	free(l->evs);
	memset(l, 0, sizeof(*l));
}

/* The bytes of one direction of a connection, in event order; checks
 * that offsets never go back and counts the jumps. */
struct stream_view {
	uint8_t buf[65536];
	size_t len;
	unsigned jumps;
	uint64_t jumped;     /* bytes jumped over */
	uint64_t first_pos;
	bool closed;
};

static void view(const struct event_log *l, uint64_t conn_id, int dir,
		 struct stream_view *v)
{
	bool started = false;
	uint64_t next = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < l->n; i++) {
		const struct dt_event *ev = &l->evs[i].ev;

		if (ev->conn_id != conn_id)
			continue;
		assert_false(v->closed);
		if (ev->type == DT_EV_CLOSE) {
			v->closed = true;
			continue;
		}
		assert_int_equal(ev->type, DT_EV_DATA);
		if (ev->dir != dir)
			continue;
		if (!started) {
			v->first_pos = ev->pos;
			next = ev->start_pos[dir];
			started = true;
		}
		assert_true(ev->pos >= next);
		if (ev->pos > next) {
			v->jumps++;
			v->jumped += ev->pos - next;
		}
		assert_true(v->len + ev->len <= sizeof(v->buf));
		memcpy(v->buf + v->len, l->evs[i].data, ev->len);
		v->len += ev->len;
		next = ev->pos + ev->len;
	}
}

/* ---------------------------------------------------------------------- */
/* Packets                                                                */
/* ---------------------------------------------------------------------- */

#define CLIENT_PORT 40000
#define SERVER_PORT 80

static const uint8_t client_addr[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
static const uint8_t server_addr[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };

static struct dt_tcp_packet pkt(bool from_client, uint32_t seq, uint32_t ack,
				uint8_t flags, const char *data, uint64_t ts)
{
	struct dt_tcp_packet p = {
		.ts_ns = ts,
		.family = AF_INET,
		.sport = from_client ? CLIENT_PORT : SERVER_PORT,
		.dport = from_client ? SERVER_PORT : CLIENT_PORT,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.payload = (const uint8_t *)data,
		.len = data ? strlen(data) : 0,
	};

	memcpy(p.saddr, from_client ? client_addr : server_addr, 16);
	memcpy(p.daddr, from_client ? server_addr : client_addr, 16);
	p.wire_len = p.len;
	return p;
}

struct fixture {
	struct dt_tcp_reasm *r;
	struct event_log log;
};

static void feed(struct fixture *f, struct dt_tcp_packet p)
{
	assert_int_equal(dt_tcp_reasm_packet(f->r, &p), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(dt_tcp_reasm_new(&f->r, NULL, log_event, &f->log), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dt_tcp_reasm_free(f->r);
	log_free(&f->log);
	free(f);
	return 0;
}

#define A DT_TH_ACK
#define C_ISN 1000u
#define S_ISN 5000u

static void handshake(struct fixture *f)
{
	feed(f, pkt(true, C_ISN, 0, DT_TH_SYN, NULL, 1));
	feed(f, pkt(false, S_ISN, C_ISN + 1, DT_TH_SYN | A, NULL, 2));
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, NULL, 3));
}

/* ---------------------------------------------------------------------- */
/* Reassembly                                                             */
/* ---------------------------------------------------------------------- */

static void test_in_order(void **state)
{
	struct fixture *f = *state;
	struct stream_view v;
	const struct dt_event *ev;

	handshake(f);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "GET / HTTP/1.1\r\n", 4));
	feed(f, pkt(true, C_ISN + 17, S_ISN + 1, A, "Host: x\r\n\r\n", 5));
	feed(f, pkt(false, S_ISN + 1, C_ISN + 28, A, "HTTP/1.1 204 \r\n\r\n", 6));
	feed(f, pkt(true, C_ISN + 28, S_ISN + 18, A | DT_TH_FIN, NULL, 7));
	assert_int_equal(f->log.n, 3);
	feed(f, pkt(false, S_ISN + 18, C_ISN + 29, A | DT_TH_FIN, NULL, 8));
	/* both FINs: closed */
	assert_int_equal(f->log.n, 4);
	ev = &f->log.evs[0].ev;
	assert_int_equal(ev->conn_id, 1);
	assert_int_equal(ev->dir, DT_DIR_INGRESS);
	assert_int_equal(ev->pos, 0);
	assert_int_equal(ev->ts_ns, 4);
	assert_int_equal(ev->lport, SERVER_PORT);
	assert_int_equal(ev->rport, CLIENT_PORT);
	assert_memory_equal(ev->laddr, server_addr, 16);
	assert_int_equal(ev->family, AF_INET);
	assert_true(ev->sel & DT_SEL_LOCAL_PORT);
	assert_int_equal(ev->start_pos[0] + ev->start_pos[1], 0);
	assert_true(ev->flags & DT_EVF_FIRST);
	assert_false(f->log.evs[1].ev.flags & DT_EVF_FIRST);
	assert_int_equal(f->log.evs[2].ev.dir, DT_DIR_EGRESS);
	assert_int_equal(f->log.evs[3].ev.type, DT_EV_CLOSE);
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_int_equal(v.len, 27);
	assert_memory_equal(v.buf, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	assert_int_equal(v.jumps, 0);
	/* late packets of the closed connection are ignored */
	feed(f, pkt(true, C_ISN + 29, S_ISN + 19, A, NULL, 9));
	feed(f, pkt(false, S_ISN + 18, C_ISN + 29, A | DT_TH_FIN, NULL, 9));
	assert_int_equal(f->log.n, 4);
	assert_int_equal(dt_tcp_reasm_finish(f->r), 0);
	assert_int_equal(f->log.n, 4);
}

/* Reordered, duplicated (a capture on loopback) and overlapping
 * segments: the bytes come out once, in order, the first copy winning. */
static void test_reorder_duplicate_overlap(void **state)
{
	struct fixture *f = *state;
	struct dt_tcp_reasm_stats st;
	struct stream_view v;

	handshake(f);
	feed(f, pkt(true, C_ISN + 11, S_ISN + 1, A, "klmnopqrst", 10));
	feed(f, pkt(true, C_ISN + 11, S_ISN + 1, A, "klmnopqrst", 10));
	feed(f, pkt(true, C_ISN + 26, S_ISN + 1, A, "ZZZZZ", 11));
	/* overlaps both pieces around a hole: fills only the hole */
	feed(f, pkt(true, C_ISN + 16, S_ISN + 1, A, "XXXXXuvwxyXX", 12));
	assert_int_equal(f->log.n, 0);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "abcdefghij", 13));
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "abcdefghij", 13));
	/* a retransmission overlapping the delivered end */
	feed(f, pkt(true, C_ISN + 28, S_ISN + 1, A, "YYYY!", 14));
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_int_equal(v.len, 32);
	assert_memory_equal(v.buf, "abcdefghijklmnopqrstuvwxyZZZZZY!", 32);
	assert_int_equal(v.jumps, 0);
	dt_tcp_reasm_get_stats(f->r, &st);
	assert_int_equal(st.gaps, 0);
	assert_int_equal(st.duplicate_bytes, 10 + 5 + 10 + 2 + 3);
	assert_true(st.out_of_order >= 3);
}

/* A segment the capture lost: given up once the receiver acknowledges
 * past it, announced at once (the stream had its first bytes), before the
 * receiver's own data. */
static void test_hole_acked(void **state)
{
	struct fixture *f = *state;
	struct dt_tcp_reasm_stats st;
	struct stream_view v;
	size_t n;

	handshake(f);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "GET /a HTTP/1.1\r\n\r\n", 4));
	/* 20 bytes of the next request lost, then its end */
	feed(f, pkt(true, C_ISN + 40, S_ISN + 1, A, "tail", 5));
	n = f->log.n;
	feed(f, pkt(false, S_ISN + 1, C_ISN + 44, A, "HTTP/1.1 200 OK\r\n", 6));
	/* the hole (an empty event at its end), the tail, then the data */
	assert_int_equal(f->log.n, n + 3);
	assert_int_equal(f->log.evs[n].ev.len, 0);
	assert_int_equal(f->log.evs[n].ev.pos, 39);
	assert_int_equal(f->log.evs[n].ev.dir, DT_DIR_INGRESS);
	assert_int_equal(f->log.evs[n + 1].ev.pos, 39);
	assert_int_equal(f->log.evs[n + 2].ev.dir, DT_DIR_EGRESS);
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_int_equal(v.jumps, 1);
	assert_int_equal(v.jumped, 20);
	assert_int_equal(v.len, 19 + 4);
	dt_tcp_reasm_get_stats(f->r, &st);
	assert_int_equal(st.gaps, 1);
	assert_int_equal(st.gap_bytes, 20);
}

/* The first bytes of a direction decide its protocol: a hole before 16
 * of them is left for the next bytes to show. */
static void test_hole_early_not_announced(void **state)
{
	struct fixture *f = *state;
	struct stream_view v;

	handshake(f);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "GET", 4));
	feed(f, pkt(false, S_ISN + 1, C_ISN + 10, A, NULL, 5));
	for (size_t i = 0; i < f->log.n; i++)
		assert_int_not_equal(f->log.evs[i].ev.len, 0);
	feed(f, pkt(true, C_ISN + 10, S_ISN + 1, A, "rest", 6));
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_int_equal(v.jumps, 1);
	assert_int_equal(v.jumped, 6);
	assert_int_equal(v.len, 7);
}

/* Holes at the end: before a FIN (given up when both ends closed, at
 * the FIN's offset) and before waiting pieces at the end of the capture. */
static void test_hole_at_close_and_finish(void **state)
{
	struct fixture *f = *state;
	struct stream_view v;

	handshake(f);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "0123456789abcdefghij", 4));
	feed(f, pkt(true, C_ISN + 31, S_ISN + 1, A | DT_TH_FIN, NULL, 5));
	feed(f, pkt(false, S_ISN + 1, C_ISN + 32, A | DT_TH_FIN, NULL, 6));
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_true(v.closed);
	assert_int_equal(v.jumps, 1);
	assert_int_equal(v.jumped, 10);
	/* another connection: a piece after a hole, never acknowledged */
	feed(f, pkt(true, 1, 0, DT_TH_SYN, NULL, 10));
	log_free(&f->log);
	feed(f, pkt(true, 2, 0, 0, "first", 11));
	feed(f, pkt(true, 100, 0, 0, "later", 12));
	assert_int_equal(f->log.n, 1);
	assert_int_equal(dt_tcp_reasm_finish(f->r), 0);
	view(&f->log, 2, DT_DIR_INGRESS, &v);
	assert_true(v.closed);
	assert_int_equal(v.len, 10);
	assert_int_equal(v.jumped, 93);
}

/* No handshake: offsets from DT_TCP_MIDSTREAM_POS, the lower port is
 * taken for the server, no side is preset. */
static void test_midstream(void **state)
{
	struct fixture *f = *state;
	struct dt_tcp_packet p;
	const struct dt_event *ev;

	/* a pure ACK creates nothing */
	feed(f, pkt(false, 700, 300, A, NULL, 1));
	assert_int_equal(f->log.n, 0);
	feed(f, pkt(false, 700, 300, A, "+OK\r\n", 2));
	ev = &f->log.evs[0].ev;
	assert_int_equal(ev->pos, DT_TCP_MIDSTREAM_POS);
	assert_int_equal(ev->start_pos[0], DT_TCP_MIDSTREAM_POS);
	assert_int_equal(ev->start_pos[1], DT_TCP_MIDSTREAM_POS);
	assert_int_equal(ev->sel, 0);
	assert_int_equal(ev->lport, SERVER_PORT);
	assert_int_equal(ev->dir, DT_DIR_EGRESS);
	/* the other direction starts where its first segment does; bytes
	 * before it were sent before the capture */
	feed(f, pkt(true, 300, 705, A, "*1\r\n", 3));
	feed(f, pkt(true, 290, 705, A, "0123456789*1\r\n", 4));
	assert_int_equal(f->log.n, 2);
	assert_int_equal(f->log.evs[1].ev.pos, DT_TCP_MIDSTREAM_POS);
	assert_int_equal(f->log.evs[1].ev.dir, DT_DIR_INGRESS);
	/* the higher port sends first: still the client */
	p = pkt(true, 1, 1, A, "x", 5);
	p.sport = 1;
	p.dport = 2;
	feed(f, p);
	assert_int_equal(f->log.evs[2].ev.conn_id, 2);
	assert_int_equal(f->log.evs[2].ev.lport, 1);
	assert_int_equal(f->log.evs[2].ev.dir, DT_DIR_EGRESS);
}

/* The capture missed the SYN-ACK: the client's ACK tells where the
 * server's bytes start. Missed SYN: the SYN-ACK tells both. */
static void test_partial_handshakes(void **state)
{
	struct fixture *f = *state;
	struct stream_view v;

	feed(f, pkt(true, C_ISN, 0, DT_TH_SYN, NULL, 1));
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, NULL, 2));
	/* the first server bytes were lost: a hole at the start */
	feed(f, pkt(false, S_ISN + 6, C_ISN + 1, A, "world", 3));
	assert_int_equal(f->log.n, 0);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 11, A, NULL, 3));
	view(&f->log, 1, DT_DIR_EGRESS, &v);
	assert_int_equal(v.jumped, 5);
	assert_int_equal(v.len, 5);
	assert_int_equal(f->log.evs[0].ev.start_pos[1], 0);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 11, DT_TH_RST, NULL, 4));
	log_free(&f->log);

	feed(f, pkt(false, 9000, 20001, DT_TH_SYN | A, NULL, 4));
	feed(f, pkt(false, 9001, 20001, A, "220 hi\r\n", 5));
	feed(f, pkt(true, 20001, 9009, A, "HELO\r\n", 6));
	view(&f->log, 2, DT_DIR_EGRESS, &v);
	assert_int_equal(v.jumps, 0);
	assert_int_equal(f->log.evs[0].ev.pos, 0);
	assert_int_equal(f->log.evs[0].ev.lport, SERVER_PORT);
	view(&f->log, 2, DT_DIR_INGRESS, &v);
	assert_int_equal(f->log.evs[1].ev.pos, 0);
	assert_int_equal(v.len, 6);
	assert_int_equal(v.jumps, 0);
}

static void test_sequence_wrap(void **state)
{
	struct fixture *f = *state;
	struct stream_view v;
	uint32_t isn = 0xfffffff8u;

	feed(f, pkt(true, isn, 0, DT_TH_SYN, NULL, 1));
	feed(f, pkt(true, isn + 1 + 10, 0, 0, "0123456789", 2));
	feed(f, pkt(true, isn + 1, 0, 0, "abcdefghij", 3));
	feed(f, pkt(true, isn + 21, 0, 0, "KLM", 4));
	view(&f->log, 1, DT_DIR_INGRESS, &v);
	assert_int_equal(v.len, 23);
	assert_memory_equal(v.buf, "abcdefghij0123456789KLM", 23);
	assert_int_equal(f->log.evs[f->log.n - 1].ev.pos, 20);
}

/* A new SYN on the same ports: the old connection ends, a new one
 * starts; the SYN repeated is not a new connection; RST closes. */
static void test_port_reuse_and_reset(void **state)
{
	struct fixture *f = *state;
	struct dt_tcp_reasm_stats st;

	handshake(f);
	feed(f, pkt(true, C_ISN, 0, DT_TH_SYN, NULL, 3));
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "one", 4));
	feed(f, pkt(true, 77, 0, DT_TH_SYN, NULL, 5));
	feed(f, pkt(true, 78, 0, 0, "two", 6));
	assert_int_equal(f->log.n, 3);
	assert_int_equal(f->log.evs[0].ev.conn_id, 1);
	assert_int_equal(f->log.evs[1].ev.type, DT_EV_CLOSE);
	assert_int_equal(f->log.evs[2].ev.conn_id, 2);
	assert_int_equal(f->log.evs[2].ev.pos, 0);
	feed(f, pkt(false, 1, 81, DT_TH_RST, NULL, 7));
	assert_int_equal(f->log.evs[3].ev.type, DT_EV_CLOSE);
	assert_int_equal(f->log.evs[3].ev.conn_id, 2);
	/* data after the reset, a stray RST: ignored */
	feed(f, pkt(true, 81, 0, 0, "three", 8));
	feed(f, pkt(true, 81, 0, DT_TH_RST, NULL, 8));
	assert_int_equal(f->log.n, 4);
	/* a SYN after the reset opens a third */
	feed(f, pkt(true, 500, 0, DT_TH_SYN, NULL, 9));
	feed(f, pkt(true, 501, 0, 0, "four", 10));
	assert_int_equal(f->log.evs[4].ev.conn_id, 3);
	dt_tcp_reasm_get_stats(f->r, &st);
	assert_int_equal(st.conns, 3);
	assert_int_equal(st.ignored, 2);
}

/* Too much waiting behind a hole: it is given up. */
static void test_limits(void **state)
{
	struct dt_tcp_reasm_opts opts = { .max_direction_bytes = 300 };
	struct event_log log = { 0 };
	struct dt_tcp_reasm *r;
	struct stream_view v;
	struct dt_tcp_packet p;
	char seg[101];

	(void)state;
	memset(seg, 'x', 100);
	seg[100] = '\0';
	assert_int_equal(dt_tcp_reasm_new(&r, &opts, log_event, &log), 0);
	p = pkt(true, 0, 0, DT_TH_SYN, NULL, 1);
	assert_int_equal(dt_tcp_reasm_packet(r, &p), 0);
	for (uint32_t i = 1; i < 6; i++) {
		p = pkt(true, 1 + 100 * i, 0, 0, seg, 1 + i);
		assert_int_equal(dt_tcp_reasm_packet(r, &p), 0);
	}
	/* two pieces (with their overhead) fit; the third gave up */
	view(&log, 1, DT_DIR_INGRESS, &v);
	assert_true(v.len >= 300);
	assert_int_equal(v.jumped, 100);
	dt_tcp_reasm_free(r);
	log_free(&log);
}

/* A non-zero return from the callback stops everything with it. */
static void test_callback_stops(void **state)
{
	struct fixture *f = *state;
	struct dt_tcp_packet p;

	f->log.stop_at = 2;
	handshake(f);
	feed(f, pkt(true, C_ISN + 1, S_ISN + 1, A, "a", 4));
	p = pkt(true, C_ISN + 2, S_ISN + 1, A, "b", 5);
	assert_int_equal(dt_tcp_reasm_packet(f->r, &p), 1);
	p = pkt(true, C_ISN + 3, S_ISN + 1, A, "c", 6);
	assert_int_equal(dt_tcp_reasm_packet(f->r, &p), 1);
	assert_int_equal(dt_tcp_reasm_finish(f->r), 1);
	assert_int_equal(f->log.n, 2);
}

/* ---------------------------------------------------------------------- */
/* Frames                                                                 */
/* ---------------------------------------------------------------------- */

/* An IPv4/TCP packet with payload "hi" after the given link header. */
static size_t frame_v4(uint8_t *buf, const uint8_t *link, size_t link_len)
{
	static const uint8_t ip_tcp[] = {
		0x45, 0, 0, 42, 0, 1, 0x40, 0, 64, 6, 0, 0,
		192, 168, 0, 1, 192, 168, 0, 2,
		0x9c, 0x40, 0, 80, 0, 0, 0, 10, 0, 0, 0, 20,
		0x50, 0x19, 1, 0, 0, 0, 0, 0, 'h', 'i',
	};

	if (link_len)
		memcpy(buf, link, link_len);
	memcpy(buf + link_len, ip_tcp, sizeof(ip_tcp));
	return link_len + sizeof(ip_tcp);
}

static void expect_v4_packet(const struct dt_tcp_packet *p)
{
	static const uint8_t src[16] = { [10] = 0xff, [11] = 0xff, 192, 168,
					 0, 1 };

	assert_int_equal(p->family, AF_INET);
	assert_memory_equal(p->saddr, src, 16);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 80);
	assert_int_equal(p->seq, 10);
	assert_int_equal(p->ack, 20);
	assert_int_equal(p->flags, DT_TH_FIN | DT_TH_ACK);
	assert_int_equal(p->len, 2);
	assert_int_equal(p->wire_len, 2);
	assert_memory_equal(p->payload, "hi", 2);
}

static void test_decode_links(void **state)
{
	static const uint8_t eth[14] = { [12] = 0x08, 0x00 };
	static const uint8_t eth_vlan2[22] = { [12] = 0x88, 0xa8, 0, 5,
					       0x81, 0x00, 0, 6, 0x08, 0x00 };
	static const uint8_t sll[16] = { [14] = 0x08, 0x00 };
	static const uint8_t sll2[20] = { 0x08, 0x00 };
	static const uint8_t null_le[4] = { 2, 0, 0, 0 };
	static const uint8_t loop[4] = { 0, 0, 0, 2 };
	uint8_t buf[128];
	struct dt_tcp_packet p;
	size_t n;

	(void)state;
	n = frame_v4(buf, eth, sizeof(eth));
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	n = frame_v4(buf, eth_vlan2, sizeof(eth_vlan2));
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	n = frame_v4(buf, sll, sizeof(sll));
	assert_int_equal(dt_packet_decode(DLT_LINUX_SLL, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	n = frame_v4(buf, sll2, sizeof(sll2));
	assert_int_equal(dt_packet_decode(DLT_LINUX_SLL2, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	n = frame_v4(buf, NULL, 0);
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	assert_int_equal(dt_packet_decode(DLT_IPV4, buf, n, &p),
			 DT_DECODE_TCP);
	n = frame_v4(buf, null_le, sizeof(null_le));
	assert_int_equal(dt_packet_decode(DLT_NULL, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	n = frame_v4(buf, loop, sizeof(loop));
	assert_int_equal(dt_packet_decode(DLT_LOOP, buf, n, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
	assert_false(dt_packet_link_supported(DLT_IEEE802_11));
	assert_int_equal(dt_packet_decode(DLT_IEEE802_11, buf, n, &p),
			 DT_DECODE_OTHER);
	/* Ethernet padding after the IP packet is not payload */
	n = frame_v4(buf, eth, sizeof(eth));
	memset(buf + n, 0xee, 6);
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n + 6, &p),
			 DT_DECODE_TCP);
	expect_v4_packet(&p);
}

static void test_decode_ipv4_cases(void **state)
{
	static const uint8_t eth[14] = { [12] = 0x08, 0x00 };
	static const uint8_t arp[14] = { [12] = 0x08, 0x06 };
	uint8_t buf[128];
	struct dt_tcp_packet p;
	size_t n;

	(void)state;
	n = frame_v4(buf, arp, sizeof(arp));
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_OTHER);
	/* cut by the snapshot length: fewer bytes than the segment had */
	n = frame_v4(buf, eth, sizeof(eth));
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n - 1, &p),
			 DT_DECODE_TCP);
	assert_int_equal(p.len, 1);
	assert_int_equal(p.wire_len, 2);
	/* every shorter cut is handled */
	for (size_t cut = 0; cut < n - 2; cut++)
		assert_true(dt_packet_decode(DLT_EN10MB, buf, cut, &p) <= 0);
	/* UDP */
	buf[14 + 9] = 17;
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_OTHER);
	buf[14 + 9] = 6;
	/* a fragment */
	buf[14 + 6] = 0x20;
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_FRAGMENT);
	buf[14 + 6] = 0x40;
	/* header lengths that do not fit */
	buf[14] = 0x44;
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_MALFORMED);
	buf[14] = 0x45;
	buf[14 + 20 + 12] = 0xf0;
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_MALFORMED);
	buf[14 + 20 + 12] = 0x40;
	assert_int_equal(dt_packet_decode(DLT_EN10MB, buf, n, &p),
			 DT_DECODE_MALFORMED);
}

static void test_decode_ipv6(void **state)
{
	uint8_t buf[128] = {
		0x60, 0, 0, 0, 0, 8 + 20 + 3, 0, 64,
		[8] = 0x20, 0x01, [23] = 1,
		[24] = 0x20, 0x01, [39] = 2,
		/* hop-by-hop options, 8 bytes, then TCP */
		[40] = 6, 0, 1, 4, 0, 0, 0, 0,
		[48] = 0x13, 0x88, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
		[60] = 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, 'a', 'b', 'c',
	};
	struct dt_tcp_packet p;

	(void)state;
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 71, &p),
			 DT_DECODE_TCP);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.saddr[0], 0x20);
	assert_int_equal(p.saddr[15], 1);
	assert_int_equal(p.daddr[15], 2);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.flags, DT_TH_SYN);
	assert_int_equal(p.len, 3);
	assert_int_equal(dt_packet_decode(DLT_IPV6, buf, 71, &p),
			 DT_DECODE_TCP);
	/* a fragment header */
	buf[6] = 44;
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 71, &p),
			 DT_DECODE_FRAGMENT);
	/* an extension header past the payload length */
	buf[6] = 0;
	buf[41] = 200;
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 71, &p),
			 DT_DECODE_MALFORMED);
	/* a chain of extension headers longer than we follow */
	buf[5] = 80;
	for (int i = 0; i < 10; i++) {
		buf[40 + 8 * i] = 60;
		buf[41 + 8 * i] = 0;
	}
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 128, &p),
			 DT_DECODE_MALFORMED);
	/* no next header */
	buf[6] = 59;
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 128, &p),
			 DT_DECODE_OTHER);
	assert_int_equal(dt_packet_decode(DLT_RAW, buf, 0, &p),
			 DT_DECODE_MALFORMED);
}

/* ---------------------------------------------------------------------- */
/* Exchanges through frames, reassembly and the assembler                 */
/* ---------------------------------------------------------------------- */

/* A MySQL handshake and a query as MariaDB 10.11 and its client sent
 * them (the password scramble zeroed, as the recorder stores it). */
static const uint8_t mysql_login[] =
	"\xbc\x00\x00\x01\x84\xa2\xbf\x00\x00\x00\x10\x00\x21\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x1d\x00\x00\x00\x72\x6f\x6f\x74\x00\x00\x6d\x79\x73\x71\x6c\x5f"
	"\x6e\x61\x74\x69\x76\x65\x5f\x70\x61\x73\x73\x77\x6f\x72\x64\x00"
	"\x7f\x03\x5f\x6f\x73\x05\x4c\x69\x6e\x75\x78\x0c\x5f\x63\x6c\x69"
	"\x65\x6e\x74\x5f\x6e\x61\x6d\x65\x0a\x6c\x69\x62\x6d\x61\x72\x69"
	"\x61\x64\x62\x04\x5f\x70\x69\x64\x05\x31\x35\x30\x35\x30\x0f\x5f"
	"\x63\x6c\x69\x65\x6e\x74\x5f\x76\x65\x72\x73\x69\x6f\x6e\x06\x33"
	"\x2e\x33\x2e\x32\x30\x09\x5f\x70\x6c\x61\x74\x66\x6f\x72\x6d\x06"
	"\x78\x38\x36\x5f\x36\x34\x0c\x70\x72\x6f\x67\x72\x61\x6d\x5f\x6e"
	"\x61\x6d\x65\x05\x6d\x79\x73\x71\x6c\x0c\x5f\x73\x65\x72\x76\x65"
	"\x72\x5f\x68\x6f\x73\x74\x09\x31\x32\x37\x2e\x30\x2e\x30\x2e\x31";
static const uint8_t mysql_greeting_ok[] =
	"\x64\x00\x00\x00\x0a\x35\x2e\x35\x2e\x35\x2d\x31\x30\x2e\x31\x31"
	"\x2e\x31\x39\x2d\x4d\x61\x72\x69\x61\x44\x42\x2d\x30\x2b\x64\x65"
	"\x62\x31\x32\x75\x31\x00\x04\x00\x00\x00\x36\x41\x27\x3b\x36\x3b"
	"\x65\x6c\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00"
	"\x00\x1d\x00\x00\x00\x70\x6a\x45\x5a\x73\x56\x33\x3b\x6f\x3d\x21"
	"\x2d\x00\x6d\x79\x73\x71\x6c\x5f\x6e\x61\x74\x69\x76\x65\x5f\x70"
	"\x61\x73\x73\x77\x6f\x72\x64\x00\x07\x00\x00\x02\x00\x00\x00\x02"
	"\x00\x00\x00";
static const uint8_t mysql_select[] =
	"\x09\x00\x00\x00\x03\x73\x65\x6c\x65\x63\x74\x20\x31";
static const uint8_t mysql_resultset[] =
	"\x02\x00\x00\x01\x01\x01\x18\x00\x00\x02\x03\x64\x65\x66\x00\x00"
	"\x00\x01\x31\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00"
	"\x00\x00\x05\x00\x00\x03\xfe\x00\x00\x02\x00\x02\x00\x00\x04\x01"
	"\x31\x05\x00\x00\x05\xfe\x00\x00\x02\x00";

#define MAX_X 32

/* What an exchange must keep through export and import. */
struct x_copy {
	uint32_t protocol, flags;
	struct dt_endpoint client, server;
	uint8_t *req, *resp;
	size_t req_len, resp_len;
	uint64_t conn_id;
};

struct x_list {
	struct x_copy x[MAX_X];
	size_t n;
};

static void x_keep(struct x_list *l, const struct dt_exchange *x)
{
	struct x_copy *c = &l->x[l->n++];

	assert_true(l->n <= MAX_X);
	c->protocol = x->protocol;
	c->flags = x->flags;
	c->client = x->client;
	c->server = x->server;
	c->conn_id = x->conn_id;
	c->req_len = x->request_len;
	c->resp_len = x->response_len;
	c->req = malloc(x->request_len + 1);
	c->resp = malloc(x->response_len + 1);
	assert_non_null(c->req);
	assert_non_null(c->resp);
	if (x->request_len)
		memcpy(c->req, x->request, x->request_len);
	if (x->response_len)
		memcpy(c->resp, x->response, x->response_len);
}

static void x_list_free(struct x_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->x[i].req);
		free(l->x[i].resp);
	}
	l->n = 0;
}

static int keep_exchange(void *ctx, struct dt_exchange *x)
{
	x_keep(ctx, x);
	return 0;
}

/* frames -> decoder -> reassembler -> assembler -> exchanges */
struct pipeline {
	int dlt;
	struct dt_tcp_reasm *reasm;
	struct dt_assembler *asmb;
	struct x_list out;
	uint64_t frames;
};

static int to_assembler(void *ctx, const struct dt_event *ev,
			const uint8_t *data)
{
	struct pipeline *pl = ctx;

	return dt_assembler_event(pl->asmb, ev, data);
}

static int to_reassembler(void *ctx, uint64_t ts, const uint8_t *frame,
			  size_t len)
{
	struct pipeline *pl = ctx;
	struct dt_tcp_packet p;

	assert_int_equal(dt_packet_decode(pl->dlt, frame, len, &p),
			 DT_DECODE_TCP);
	p.ts_ns = ts;
	pl->frames++;
	return dt_tcp_reasm_packet(pl->reasm, &p);
}

static void endpoint_ip(struct dt_endpoint *ep, int family, uint8_t last,
			uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = (uint8_t)family;
	if (family == DT_FAMILY_IPV4) {
		ep->addr[0] = 127;
		ep->addr[3] = last;
	} else {
		ep->addr[15] = last;
	}
	ep->port = port;
	ep->pid = 1234;
	strcpy(ep->comm, "proc");
}

/* Adds an exchange of connection conn to the list to export. */
static void add_x(struct x_list *l, uint64_t conn, uint32_t protocol,
		  uint32_t flags, const void *req, size_t req_len,
		  const void *resp, size_t resp_len)
{
	struct dt_exchange x;
	uint64_t t = 1700000000000000000ull + 1000000ull * l->n;

	dt_exchange_init(&x);
	x.conn_id = conn;
	x.protocol = protocol;
	x.flags = flags;
	endpoint_ip(&x.client, conn == 5 ? DT_FAMILY_IPV6 : DT_FAMILY_IPV4, 1,
		    (uint16_t)(41000 + conn));
	endpoint_ip(&x.server, conn == 5 ? DT_FAMILY_IPV6 : DT_FAMILY_IPV4, 2,
		    protocol == DT_PROTO_REDIS ? 6379 :
		    protocol == DT_PROTO_MYSQL ? 3306 : 8080);
	if (conn == 6) {
		x.client.family = x.server.family = DT_FAMILY_UNIX;
		strcpy(x.server.path, "/run/redis.sock");
	}
	x.req_start_ns = t;
	x.req_end_ns = t + 100;
	if (resp_len) {
		x.resp_start_ns = t + 500;
		x.resp_end_ns = t + 900;
	}
	assert_int_equal(dt_exchange_set_request(&x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(&x, resp, resp_len), 0);
	x_keep(l, &x);
	dt_exchange_release(&x);
}

static void build_exchanges(struct x_list *l)
{
	static uint8_t body[5000], big[3000];
	static char post[5200], resp[3200];
	size_t post_len, resp_len;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)('a' + i % 26);
	memset(big, 'Z', sizeof(big));
	post_len = (size_t)snprintf(post, sizeof(post),
		"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
		sizeof(body));
	memcpy(post + post_len, body, sizeof(body));
	post_len += sizeof(body);
	resp_len = (size_t)snprintf(resp, sizeof(resp),
		"HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(big));
	memcpy(resp + resp_len, big, sizeof(big));
	resp_len += sizeof(big);

	/* 1: HTTP keep-alive, bodies over several segments */
	add_x(l, 1, DT_PROTO_HTTP1, 0, LIT("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
	      LIT("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
	add_x(l, 1, DT_PROTO_HTTP1, 0, post, post_len, resp, resp_len);
	/* 2: Redis */
	add_x(l, 2, DT_PROTO_REDIS, 0, LIT("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
	      LIT("$3\r\nval\r\n"));
	add_x(l, 2, DT_PROTO_REDIS, 0, LIT("*1\r\n$4\r\nPING\r\n"),
	      LIT("+PONG\r\n"));
	/* 3: MySQL, greeting before the login */
	add_x(l, 3, DT_PROTO_MYSQL, 0, mysql_login, sizeof(mysql_login) - 1,
	      mysql_greeting_ok, sizeof(mysql_greeting_ok) - 1);
	add_x(l, 3, DT_PROTO_MYSQL, 0, mysql_select, sizeof(mysql_select) - 1,
	      mysql_resultset, sizeof(mysql_resultset) - 1);
	/* 4: a body lost (sendfile), then a whole exchange */
	add_x(l, 4, DT_PROTO_HTTP1, DT_XF_INCOMPLETE | DT_XF_SENDFILE,
	      LIT("GET /f HTTP/1.1\r\n\r\n"),
	      LIT("HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n"));
	add_x(l, 4, DT_PROTO_HTTP1, 0, LIT("GET /g HTTP/1.1\r\n\r\n"),
	      LIT("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
	/* 5: IPv6 */
	add_x(l, 5, DT_PROTO_HTTP1, 0, LIT("GET /v6 HTTP/1.1\r\n\r\n"),
	      LIT("HTTP/1.1 204 No Content\r\n\r\n"));
	/* 6: a Unix socket */
	add_x(l, 6, DT_PROTO_REDIS, 0, LIT("*1\r\n$4\r\nPING\r\n"),
	      LIT("+PONG\r\n"));
	/* 7: joined open */
	add_x(l, 7, DT_PROTO_HTTP1, DT_XF_MIDSTREAM,
	      LIT("GET /m HTTP/1.1\r\n\r\n"),
	      LIT("HTTP/1.1 204 No Content\r\n\r\n"));
	/* 8: a request cut short, then a whole exchange */
	add_x(l, 8, DT_PROTO_HTTP1, DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE,
	      LIT("POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"), NULL, 0);
	add_x(l, 8, DT_PROTO_HTTP1, 0, LIT("GET /q HTTP/1.1\r\n\r\n"),
	      LIT("HTTP/1.1 204 No Content\r\n\r\n"));
}

/* The exchanges as the session would hold them. */
static void to_exchange(const struct x_copy *c, struct dt_exchange *x)
{
	dt_exchange_init(x);
	x->conn_id = c->conn_id;
	x->protocol = c->protocol;
	x->flags = c->flags;
	x->client = c->client;
	x->server = c->server;
	x->req_start_ns = 1700000000000000000ull;
	x->req_end_ns = x->req_start_ns + 100;
	x->resp_start_ns = c->resp_len ? x->req_start_ns + 500 : 0;
	x->resp_end_ns = c->resp_len ? x->req_start_ns + 900 : 0;
	assert_int_equal(dt_exchange_set_request(x, c->req, c->req_len), 0);
	assert_int_equal(dt_exchange_set_response(x, c->resp, c->resp_len), 0);
}

static void round_trip(enum dt_pcap_link link, int dlt)
{
	struct x_list *in = calloc(1, sizeof(*in));
	struct pipeline *pl = calloc(1, sizeof(*pl));
	struct dt_pcap_exporter *e;
	struct dt_exchange x;
	uint64_t last_conn = 0;

	assert_non_null(in);
	assert_non_null(pl);
	build_exchanges(in);
	pl->dlt = dlt;
	assert_int_equal(dt_assembler_new(&pl->asmb, 0, keep_exchange,
					  &pl->out), 0);
	assert_int_equal(dt_tcp_reasm_new(&pl->reasm, NULL, to_assembler, pl),
			 0);
	assert_int_equal(dt_pcap_exporter_new(&e, link, to_reassembler, pl),
			 0);
	for (size_t i = 0; i < in->n; i++) {
		if (last_conn && in->x[i].conn_id != last_conn)
			assert_int_equal(dt_pcap_exporter_end_conn(e, last_conn),
					 0);
		to_exchange(&in->x[i], &x);
		assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
		dt_exchange_release(&x);
		last_conn = in->x[i].conn_id;
	}
	assert_int_equal(dt_pcap_exporter_finish(e), 0);
	assert_int_equal(dt_tcp_reasm_finish(pl->reasm), 0);
	assert_int_equal(dt_assembler_finish(pl->asmb), 0);
	assert_int_equal(dt_pcap_exporter_frames(e), pl->frames);

	/* the same exchanges, connection by connection in order */
	assert_int_equal(pl->out.n, in->n);
	for (size_t i = 0; i < in->n; i++) {
		const struct x_copy *want = &in->x[i], *got = &pl->out.x[i];
		struct dt_pcap_addr c, s;
		uint32_t flags = want->flags & ~DT_XF_SENDFILE;

		/* the import numbers connections as they appear */
		assert_int_equal(got->conn_id, want->conn_id);
		assert_int_equal(got->protocol, want->protocol);
		assert_int_equal(got->flags, flags);
		assert_int_equal(got->req_len, want->req_len);
		assert_memory_equal(got->req, want->req, want->req_len);
		assert_int_equal(got->resp_len, want->resp_len);
		if (want->resp_len)
			assert_memory_equal(got->resp, want->resp,
					    want->resp_len);
		to_exchange(want, &x);
		dt_pcap_exchange_addrs(&x, &c, &s);
		dt_exchange_release(&x);
		assert_int_equal(got->client.family, c.family);
		assert_memory_equal(got->client.addr, c.addr, 16);
		assert_int_equal(got->client.port, c.port);
		assert_memory_equal(got->server.addr, s.addr, 16);
		assert_int_equal(got->server.port, s.port);
		assert_int_equal(got->server.pid, 0);
	}
	dt_pcap_exporter_free(e);
	dt_tcp_reasm_free(pl->reasm);
	dt_assembler_free(pl->asmb);
	x_list_free(&pl->out);
	x_list_free(in);
	free(pl);
	free(in);
}

/* The capture lost the first bytes of a response: the exchange is
 * incomplete, never paired with bytes that are not its response's start.
 * (The assembler then handles a hole in a stream that holds no bytes.) */
static void test_first_bytes_lost(void **state)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	struct dt_tcp_packet p;
	const struct x_copy *x;

	(void)state;
	assert_non_null(pl);
	assert_int_equal(dt_assembler_new(&pl->asmb, 0, keep_exchange,
					  &pl->out), 0);
	assert_int_equal(dt_tcp_reasm_new(&pl->reasm, NULL, to_assembler, pl),
			 0);
	p = pkt(true, C_ISN, 0, DT_TH_SYN, NULL, 1);
	assert_int_equal(dt_tcp_reasm_packet(pl->reasm, &p), 0);
	p = pkt(false, S_ISN, C_ISN + 1, DT_TH_SYN | A, NULL, 2);
	assert_int_equal(dt_tcp_reasm_packet(pl->reasm, &p), 0);
	p = pkt(true, C_ISN + 1, S_ISN + 1, A, "GET / HTTP/1.1\r\n\r\n", 3);
	assert_int_equal(dt_tcp_reasm_packet(pl->reasm, &p), 0);
	/* "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" lost */
	p = pkt(false, S_ISN + 39, C_ISN + 19, A, "body", 4);
	assert_int_equal(dt_tcp_reasm_packet(pl->reasm, &p), 0);
	p = pkt(true, C_ISN + 19, S_ISN + 43, A | DT_TH_FIN, NULL, 5);
	assert_int_equal(dt_tcp_reasm_packet(pl->reasm, &p), 0);
	assert_int_equal(dt_tcp_reasm_finish(pl->reasm), 0);
	assert_int_equal(dt_assembler_finish(pl->asmb), 0);
	assert_int_equal(pl->out.n, 1);
	x = &pl->out.x[0];
	assert_int_equal(x->protocol, DT_PROTO_HTTP1);
	assert_int_equal(x->req_len, 18);
	assert_int_equal(x->resp_len, 0);
	assert_int_equal(x->flags, DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE);
	dt_tcp_reasm_free(pl->reasm);
	dt_assembler_free(pl->asmb);
	x_list_free(&pl->out);
	free(pl);
}

static void test_round_trip_ethernet(void **state)
{
	(void)state;
	round_trip(DT_PCAP_LINK_ETHERNET, DLT_EN10MB);
}

static void test_round_trip_raw(void **state)
{
	(void)state;
	round_trip(DT_PCAP_LINK_RAW, DLT_RAW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_duplicate_overlap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole_acked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hole_early_not_announced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole_at_close_and_finish,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_handshakes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sequence_wrap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_port_reuse_and_reset,
						setup, teardown),
		cmocka_unit_test(test_limits),
		cmocka_unit_test_setup_teardown(test_callback_stops, setup,
						teardown),
		cmocka_unit_test(test_decode_links),
		cmocka_unit_test(test_decode_ipv4_cases),
		cmocka_unit_test(test_decode_ipv6),
		cmocka_unit_test(test_round_trip_ethernet),
		cmocka_unit_test(test_round_trip_raw),
		cmocka_unit_test(test_first_bytes_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
