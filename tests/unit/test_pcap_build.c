// SPDX-License-Identifier: MIT
/* Unit tests of pcap export: frames (headers, options, checksums), TCP
 * conversations (sequence and acknowledgement numbers, segment sizes,
 * ACKs, holes, times), exchanges in wire order, holes of incomplete
 * exchanges, synthetic addresses, and the exporter. Frames are parsed
 * back here with an independent reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "formats/pcap.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1
#define MAX_FRAMES 4096

/* ---------------------------------------------------------------------- */
/* An independent frame reader                                            */
/* ---------------------------------------------------------------------- */

struct parsed {
	uint64_t ts;
	bool v6;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	size_t tcp_hlen;
	uint8_t options[40];
	uint8_t payload[2048];
	size_t len;
	bool ip_csum_ok, tcp_csum_ok;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071, the naive way: sum, fold, compare with all ones. */
static uint32_t sum_words(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += rd16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static bool folds_to_ffff(uint32_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static void parse_frame(const uint8_t *f, size_t n, bool ethernet,
			struct parsed *p)
{
	size_t off = 0, l3, tcp_len;
	uint32_t s;

	memset(p, 0, sizeof(*p));
	if (ethernet) {
		assert_true(n >= 14);
		off = 14;
		p->v6 = rd16(f + 12) == 0x86dd;
		if (!p->v6)
			assert_int_equal(rd16(f + 12), 0x0800);
	} else {
		p->v6 = f[0] >> 4 == 6;
	}
	if (p->v6) {
		l3 = 40;
		assert_int_equal(f[off + 6], 6);
		tcp_len = rd16(f + off + 4);
		memcpy(p->src, f + off + 8, 16);
		memcpy(p->dst, f + off + 24, 16);
		p->ip_csum_ok = true;
	} else {
		l3 = (f[off] & 0xf) * 4;
		assert_int_equal(f[off], 0x45);
		assert_int_equal(f[off + 9], 6);
		assert_int_equal(rd16(f + off + 6), 0x4000);
		tcp_len = rd16(f + off + 2) - l3;
		memcpy(p->src, f + off + 12, 4);
		memcpy(p->dst, f + off + 16, 4);
		p->ip_csum_ok = folds_to_ffff(sum_words(f + off, l3));
	}
	assert_int_equal(off + l3 + tcp_len, n);
	off += l3;
	p->sport = rd16(f + off);
	p->dport = rd16(f + off + 2);
	p->seq = rd32(f + off + 4);
	p->ack = rd32(f + off + 8);
	p->tcp_hlen = (size_t)(f[off + 12] >> 4) * 4;
	p->flags = f[off + 13];
	p->window = rd16(f + off + 14);
	memcpy(p->options, f + off + 20, p->tcp_hlen - 20);
	p->len = tcp_len - p->tcp_hlen;
	assert_true(p->len <= sizeof(p->payload));
	memcpy(p->payload, f + off + p->tcp_hlen, p->len);
	s = sum_words(p->src, p->v6 ? 16 : 4) +
	    sum_words(p->dst, p->v6 ? 16 : 4) + 6 + (uint32_t)tcp_len +
	    sum_words(f + off, tcp_len);
	p->tcp_csum_ok = folds_to_ffff(s);
}

/* Frames collected from a conversation or the exporter. */
struct capture {
	bool ethernet;
	size_t n;
	struct parsed *frames;
	int fail_after;     /* > 0: the callback fails from that frame on */
};

static int collect(void *ctx, uint64_t ts, const uint8_t *frame, size_t len)
{
	struct capture *c = ctx;

	if (c->fail_after && (int)c->n + 1 >= c->fail_after)
		return -ENOSPC;
	assert_true(c->n < MAX_FRAMES);
	parse_frame(frame, len, c->ethernet, &c->frames[c->n]);
	c->frames[c->n].ts = ts;
	c->n++;
	return 0;
}

static struct capture *capture_new(bool ethernet)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->frames = calloc(MAX_FRAMES, sizeof(*c->frames));
	assert_non_null(c->frames);
	c->ethernet = ethernet;
	return c;
}

static void capture_free(struct capture *c)
{
	free(c->frames);
	free(c);
}

static struct dt_pcap_addr v4(uint8_t last, uint16_t port)
{
	struct dt_pcap_addr a = { .family = DT_FAMILY_IPV4, .port = port };

	a.addr[0] = 10;
	a.addr[3] = last;
	a.mac[0] = 0x02;
	a.mac[5] = last;
	return a;
}

static struct dt_pcap_addr v6(uint8_t last, uint16_t port)
{
	struct dt_pcap_addr a = { .family = DT_FAMILY_IPV6, .port = port };

	a.addr[0] = 0xfd;
	a.addr[15] = last;
	return a;
}

/* Is frame f sent by the end at address a? */
static bool from(const struct parsed *f, const struct dt_pcap_addr *a)
{
	return !memcmp(f->src, a->addr, a->family == DT_FAMILY_IPV6 ? 16 : 4) &&
	       f->sport == a->port;
}

/* ---------------------------------------------------------------------- */
/* Frames                                                                 */
/* ---------------------------------------------------------------------- */

static void test_syn_frame_ipv4(void **state)
{
	struct dt_pcap_addr c = v4(1, 40000), s = v4(2, 80);
	struct dt_tcp_segment seg = {
		.src = &c, .dst = &s, .seq = 1000, .flags = DT_TCP_SYN,
		.window = 64240, .ip_id = 7, .syn_options = true, .mss = 1460,
		.wscale = 7, .tsval = 0x11223344,
	};
	uint8_t buf[DT_PCAP_MAX_FRAME];
	static const uint8_t want_opts[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44,
		0, 0, 0, 0, 1, 3, 3, 7,
	};
	struct parsed p;
	ssize_t n;

	(void)state;
	n = dt_pcap_build_segment(buf, sizeof(buf), DT_PCAP_LINK_ETHERNET,
				  &seg);
	assert_int_equal(n, 14 + 20 + 40);
	/* destination MAC first */
	assert_memory_equal(buf, s.mac, 6);
	assert_memory_equal(buf + 6, c.mac, 6);
	parse_frame(buf, (size_t)n, true, &p);
	assert_true(p.ip_csum_ok);
	assert_true(p.tcp_csum_ok);
	assert_int_equal(rd16(buf + 14 + 4), 7);
	assert_int_equal(buf[14 + 8], 64);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.flags, DT_TCP_SYN);
	assert_int_equal(p.window, 64240);
	assert_int_equal(p.tcp_hlen, 40);
	assert_memory_equal(p.options, want_opts, sizeof(want_opts));
}

static void test_data_frame_ipv6_raw(void **state)
{
	struct dt_pcap_addr c = v6(1, 50000), s = v6(2, 6379);
	uint8_t payload[DT_PCAP_MSS6 - DT_PCAP_TS_OPTION_LEN];
	struct dt_tcp_segment seg = {
		.src = &c, .dst = &s, .seq = 0xfffffff0, .ack = 5,
		.flags = DT_TCP_ACK | DT_TCP_PSH, .window = 502, .tsval = 9,
		.tsecr = 8, .payload = payload, .len = sizeof(payload),
	};
	uint8_t buf[DT_PCAP_MAX_FRAME];
	static const uint8_t want_opts[12] = { 1, 1, 8, 10, 0, 0, 0, 9,
					       0, 0, 0, 8 };
	struct parsed p;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	n = dt_pcap_build_segment(buf, sizeof(buf), DT_PCAP_LINK_RAW, &seg);
	assert_int_equal(n, 40 + 32 + sizeof(payload));
	assert_int_equal(n, 40 + DT_PCAP_MSS6 + 20);
	parse_frame(buf, (size_t)n, false, &p);
	assert_true(p.v6);
	assert_true(p.tcp_csum_ok);
	assert_int_equal(p.seq, 0xfffffff0);
	assert_int_equal(p.ack, 5);
	assert_int_equal(p.flags, DT_TCP_ACK | DT_TCP_PSH);
	assert_memory_equal(p.options, want_opts, sizeof(want_opts));
	assert_int_equal(p.len, sizeof(payload));
	assert_memory_equal(p.payload, payload, sizeof(payload));
	assert_memory_equal(p.src, c.addr, 16);
}

/* An odd payload length exercises the checksum's last byte. */
static void test_checksum_odd_length(void **state)
{
	struct dt_pcap_addr c = v4(3, 1), s = v4(4, 2);
	struct dt_tcp_segment seg = {
		.src = &c, .dst = &s, .flags = DT_TCP_ACK, .payload = LIT("abc"),
	};
	uint8_t buf[128];
	struct parsed p;
	ssize_t n;

	(void)state;
	n = dt_pcap_build_segment(buf, sizeof(buf), DT_PCAP_LINK_RAW, &seg);
	assert_int_equal(n, 20 + 32 + 3);
	parse_frame(buf, (size_t)n, false, &p);
	assert_true(p.ip_csum_ok);
	assert_true(p.tcp_csum_ok);
	/* flipping any payload bit breaks it */
	buf[n - 1] ^= 1;
	parse_frame(buf, (size_t)n, false, &p);
	assert_false(p.tcp_csum_ok);
}

static void test_build_errors(void **state)
{
	struct dt_pcap_addr a4 = v4(1, 1), a6 = v6(2, 2), none = { 0 };
	struct dt_tcp_segment seg = { .src = &a4, .dst = &a6 };
	uint8_t buf[DT_PCAP_MAX_FRAME];
	static uint8_t big[65536];

	(void)state;
	assert_int_equal(dt_pcap_build_segment(buf, sizeof(buf),
					       DT_PCAP_LINK_RAW, &seg),
			 -EINVAL);
	seg.src = seg.dst = &none;
	assert_int_equal(dt_pcap_build_segment(buf, sizeof(buf),
					       DT_PCAP_LINK_RAW, &seg),
			 -EINVAL);
	seg.src = seg.dst = &a4;
	assert_int_equal(dt_pcap_build_segment(buf, sizeof(buf),
					       (enum dt_pcap_link)2, &seg),
			 -EINVAL);
	assert_int_equal(dt_pcap_build_segment(buf, 20 + 32 - 1,
					       DT_PCAP_LINK_RAW, &seg),
			 -EMSGSIZE);
	seg.payload = big;
	seg.len = sizeof(big);
	assert_int_equal(dt_pcap_build_segment(buf, sizeof(buf),
					       DT_PCAP_LINK_RAW, &seg),
			 -EMSGSIZE);
}

/* ---------------------------------------------------------------------- */
/* Conversations                                                          */
/* ---------------------------------------------------------------------- */

/* Checks every frame's checksums, the monotonic times, and that each
 * end's sequence numbers continue without overlap; returns the bytes
 * each end sent (the caller frees) and, in holes, how many bytes of
 * sequence space each skipped. */
static void check_stream(const struct capture *cap,
			 const struct dt_pcap_addr *client, uint8_t **bytes,
			 size_t *len, uint32_t holes[2])
{
	uint32_t next[2] = { 0, 0 };
	bool started[2] = { false, false };

	for (int d = 0; d < 2; d++) {
		bytes[d] = malloc(1 << 20);
		assert_non_null(bytes[d]);
		len[d] = 0;
		holes[d] = 0;
	}
	for (size_t i = 0; i < cap->n; i++) {
		const struct parsed *f = &cap->frames[i];
		int d = from(f, client) ? DT_PCAP_CLIENT : DT_PCAP_SERVER;

		assert_true(f->ip_csum_ok);
		assert_true(f->tcp_csum_ok);
		if (i)
			assert_true(f->ts >= cap->frames[i - 1].ts);
		assert_true(f->len <= DT_PCAP_MSS4 - DT_PCAP_TS_OPTION_LEN);
		if (f->flags & DT_TCP_SYN) {
			next[d] = f->seq + 1;
			started[d] = true;
			continue;
		}
		if (!started[d]) {
			next[d] = f->seq;
			started[d] = true;
		}
		assert_true((int32_t)(f->seq - next[d]) >= 0);
		holes[d] += f->seq - next[d];
		memcpy(bytes[d] + len[d], f->payload, f->len);
		len[d] += f->len;
		next[d] = f->seq + (uint32_t)f->len +
			  (f->flags & DT_TCP_FIN ? 1 : 0);
	}
	/* an ACK never acknowledges what the peer did not send (in the
	 * capture or in a hole before its FIN) */
	for (size_t i = 0; i < cap->n; i++) {
		const struct parsed *f = &cap->frames[i];
		int d = from(f, client) ? DT_PCAP_CLIENT : DT_PCAP_SERVER;

		if (f->flags & DT_TCP_ACK)
			assert_true((int32_t)(f->ack - next[!d]) <= 0);
	}
}

static void test_conversation(void **state)
{
	struct dt_pcap_addr c = v4(1, 43210), s = v4(2, 8080);
	struct capture *cap = capture_new(true);
	struct dt_pcap_conv cv;
	uint8_t req[5000], resp[100];
	uint8_t *bytes[2];
	size_t len[2], segs = 0, acks = 0;
	uint32_t holes[2];

	(void)state;
	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)(i % 251);
	memset(resp, 'r', sizeof(resp));
	dt_pcap_conv_init(&cv, &c, &s, DT_PCAP_LINK_ETHERNET, 42, collect,
			  cap);
	assert_int_equal(dt_pcap_conv_open(&cv, 1000), 0);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT, req,
					   sizeof(req), 2000, 3000), 0);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_SERVER, resp,
					   sizeof(resp), 5000, 5000), 0);
	assert_int_equal(dt_pcap_conv_close(&cv, 6000), 0);

	/* handshake */
	assert_int_equal(cap->frames[0].flags, DT_TCP_SYN);
	assert_int_equal(cap->frames[1].flags, DT_TCP_SYN | DT_TCP_ACK);
	assert_int_equal(cap->frames[1].ack, cap->frames[0].seq + 1);
	assert_int_equal(cap->frames[2].flags, DT_TCP_ACK);
	assert_int_equal(cap->frames[2].ack, cap->frames[1].seq + 1);
	assert_true(from(&cap->frames[0], &c));
	/* 5000 bytes: 1448 * 3 + 656, an ACK from the server after two */
	for (size_t i = 3; i < cap->n; i++) {
		if (from(&cap->frames[i], &c) && cap->frames[i].len)
			segs++;
		if (from(&cap->frames[i], &s) && !cap->frames[i].len &&
		    cap->frames[i].flags == DT_TCP_ACK)
			acks++;
	}
	assert_int_equal(segs, 4);
	assert_int_equal(cap->frames[3].len, 1448);
	assert_int_equal(cap->frames[3].ts, 2000);
	assert_int_equal(cap->frames[5].flags, DT_TCP_ACK);
	assert_true(from(&cap->frames[5], &s));
	assert_int_equal(cap->frames[5].ack, cap->frames[4].seq + 1448);
	assert_int_equal(acks, 1);
	/* the last request segment is at the last time and pushed */
	assert_int_equal(cap->frames[7].ts, 3000);
	assert_int_equal(cap->frames[7].len, 5000 - 3 * 1448);
	assert_true(cap->frames[7].flags & DT_TCP_PSH);
	/* the response acknowledges the whole request */
	assert_int_equal(cap->frames[8].ack,
			 cap->frames[7].seq + cap->frames[7].len);
	assert_int_equal(cap->frames[8].len, 100);
	/* FIN, FIN-ACK, ACK */
	assert_int_equal(cap->n, 12);
	assert_int_equal(cap->frames[9].flags, DT_TCP_FIN | DT_TCP_ACK);
	assert_int_equal(cap->frames[10].flags, DT_TCP_FIN | DT_TCP_ACK);
	assert_int_equal(cap->frames[10].ack, cap->frames[9].seq + 1);
	assert_int_equal(cap->frames[11].ack, cap->frames[10].seq + 1);
	/* TSecr echoes the peer's TSval */
	assert_memory_equal(cap->frames[8].options + 8,
			    cap->frames[7].options + 4, 4);

	check_stream(cap, &c, bytes, len, holes);
	assert_int_equal(len[0], sizeof(req));
	assert_memory_equal(bytes[0], req, sizeof(req));
	assert_int_equal(len[1], sizeof(resp));
	assert_memory_equal(bytes[1], resp, sizeof(resp));
	assert_int_equal(holes[0] + holes[1], 0);
	free(bytes[0]);
	free(bytes[1]);
	capture_free(cap);
}

static void test_conversation_skip(void **state)
{
	struct dt_pcap_addr c = v6(1, 1111), s = v6(2, 2222);
	struct capture *cap = capture_new(false);
	struct dt_pcap_conv cv;
	uint8_t *bytes[2];
	size_t len[2];
	uint32_t holes[2];
	uint32_t resp_end;

	(void)state;
	dt_pcap_conv_init(&cv, &c, &s, DT_PCAP_LINK_RAW, 7, collect, cap);
	assert_int_equal(dt_pcap_conv_open(&cv, 10), 0);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT,
					   LIT("GET / HTTP/1.1\r\n\r\n"), 20, 20),
			 0);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_SERVER,
					   LIT("HTTP/1.1 200 OK\r\n"), 30, 30),
			 0);
	resp_end = cap->frames[cap->n - 1].seq + cap->frames[cap->n - 1].len;
	dt_pcap_conv_skip(&cv, DT_PCAP_SERVER, 1000);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT,
					   LIT("GET /2 HTTP/1.1\r\n\r\n"), 40, 40),
			 0);
	/* the client acknowledges the bytes the capture did not see */
	assert_int_equal(cap->frames[cap->n - 1].ack, resp_end + 1000);
	dt_pcap_conv_skip(&cv, DT_PCAP_CLIENT, 5);
	assert_int_equal(dt_pcap_conv_close(&cv, 50), 0);
	check_stream(cap, &c, bytes, len, holes);
	assert_int_equal(holes[DT_PCAP_SERVER], 1000);
	assert_int_equal(holes[DT_PCAP_CLIENT], 5);
	assert_int_equal(len[DT_PCAP_CLIENT], 18 + 19);
	free(bytes[0]);
	free(bytes[1]);
	capture_free(cap);
}

/* A small message sent over a while keeps both its times; a big one
 * spreads its segments evenly; earlier times are raised. */
static void test_conversation_times(void **state)
{
	struct dt_pcap_addr c = v4(1, 1), s = v4(2, 2);
	struct capture *cap = capture_new(false);
	struct dt_pcap_conv cv;
	uint8_t big[1448 * 5];

	(void)state;
	memset(big, 'b', sizeof(big));
	dt_pcap_conv_init(&cv, &c, &s, DT_PCAP_LINK_RAW, 1, collect, cap);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT, LIT("hello"),
					   100, 200), 0);
	assert_int_equal(cap->n, 2);
	assert_int_equal(cap->frames[0].len, 3);
	assert_int_equal(cap->frames[0].ts, 100);
	assert_int_equal(cap->frames[1].len, 2);
	assert_int_equal(cap->frames[1].ts, 200);
	cap->n = 0;
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_SERVER, big,
					   sizeof(big), 1000, 1400), 0);
	/* the segments acknowledge "hello"; the client acknowledges
	 * every second one */
	assert_int_equal(cap->n, 5 + 2);
	assert_int_equal(cap->frames[0].ts, 1000);
	assert_int_equal(cap->frames[1].ts, 1100);
	assert_int_equal(cap->frames[2].len, 0);
	assert_int_equal(cap->frames[2].ts, 1100);
	assert_int_equal(cap->frames[6].ts, 1400);
	cap->n = 0;
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT, LIT("x"),
					   5, 5), 0);
	assert_int_equal(cap->frames[0].ts, 1400);
	/* nothing to send: no packet */
	cap->n = 0;
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT, NULL, 0, 9, 9),
			 0);
	assert_int_equal(cap->n, 0);
	capture_free(cap);
}

static void test_conversation_callback_error(void **state)
{
	struct dt_pcap_addr c = v4(1, 1), s = v4(2, 2);
	struct capture *cap = capture_new(false);
	struct dt_pcap_conv cv;
	uint8_t big[10000] = { 0 };

	(void)state;
	cap->fail_after = 3;
	dt_pcap_conv_init(&cv, &c, &s, DT_PCAP_LINK_RAW, 1, collect, cap);
	assert_int_equal(dt_pcap_conv_send(&cv, DT_PCAP_CLIENT, big,
					   sizeof(big), 1, 2), -ENOSPC);
	assert_int_equal(cap->n, 2);
	capture_free(cap);
}

/* ---------------------------------------------------------------------- */
/* Exchanges                                                              */
/* ---------------------------------------------------------------------- */

static void exchange_set(struct dt_exchange *x, uint32_t protocol,
			 const void *req, size_t req_len, const void *resp,
			 size_t resp_len)
{
	dt_exchange_init(x);
	x->protocol = protocol;
	assert_int_equal(dt_exchange_set_request(x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(x, resp, resp_len), 0);
}

/* "len seq payload" MySQL packets */
#define MYSQL_GREETING "\x06\x00\x00\x00\x0a" "5.5.x"
#define MYSQL_AUTH "\x03\x00\x00\x01" "abc"
#define MYSQL_OK2 "\x01\x00\x00\x02\x00"

static void test_chunks_mysql_handshake(void **state)
{
	static const uint8_t greeting_ok[] = MYSQL_GREETING MYSQL_OK2;
	struct dt_pcap_chunk ch[DT_PCAP_MAX_CHUNKS];
	struct dt_exchange x;
	size_t n;

	(void)state;
	exchange_set(&x, DT_PROTO_MYSQL, LIT(MYSQL_AUTH), greeting_ok,
		     sizeof(greeting_ok) - 1);
	n = dt_pcap_exchange_chunks(&x, ch, DT_PCAP_MAX_CHUNKS);
	assert_int_equal(n, 3);
	assert_int_equal(ch[0].side, DT_PCAP_SERVER);
	assert_int_equal(ch[0].off, 0);
	assert_int_equal(ch[0].len, 10);
	assert_int_equal(ch[1].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[1].len, 7);
	assert_int_equal(ch[2].side, DT_PCAP_SERVER);
	assert_int_equal(ch[2].off, 10);
	assert_int_equal(ch[2].len, 5);
	dt_exchange_release(&x);
}

/* LOCAL INFILE: query (0), file request (1), file data (2, 3), OK (4). */
static void test_chunks_mysql_infile(void **state)
{
	static const uint8_t req[] = "\x02\x00\x00\x00\x03q"
				     "\x02\x00\x00\x02" "ab"
				     "\x00\x00\x00\x03";
	static const uint8_t resp[] = "\x02\x00\x00\x01\xfb" "f"
				      "\x01\x00\x00\x04\x00";
	struct dt_pcap_chunk ch[DT_PCAP_MAX_CHUNKS];
	struct dt_exchange x;
	size_t n;

	(void)state;
	exchange_set(&x, DT_PROTO_MYSQL, req, sizeof(req) - 1, resp,
		     sizeof(resp) - 1);
	n = dt_pcap_exchange_chunks(&x, ch, DT_PCAP_MAX_CHUNKS);
	assert_int_equal(n, 4);
	assert_int_equal(ch[0].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[0].len, 6);
	assert_int_equal(ch[1].side, DT_PCAP_SERVER);
	assert_int_equal(ch[1].len, 6);
	assert_int_equal(ch[2].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[2].off, 6);
	assert_int_equal(ch[2].len, 10);
	assert_int_equal(ch[3].side, DT_PCAP_SERVER);
	assert_int_equal(ch[3].len, 5);
	/* too few chunk slots: the rest of each side, request first */
	n = dt_pcap_exchange_chunks(&x, ch, 3);
	assert_int_equal(n, 3);
	assert_int_equal(ch[1].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[1].off, 6);
	assert_int_equal(ch[2].side, DT_PCAP_SERVER);
	assert_int_equal(ch[2].len, 11);
	assert_int_equal(dt_pcap_exchange_chunks(&x, ch, 1), 0);
	dt_exchange_release(&x);
}

/* Other protocols: request then response; cut MySQL packets in one go. */
static void test_chunks_plain(void **state)
{
	struct dt_pcap_chunk ch[DT_PCAP_MAX_CHUNKS];
	struct dt_exchange x;

	(void)state;
	exchange_set(&x, DT_PROTO_REDIS, LIT("*1\r\n$4\r\nPING\r\n"),
		     LIT("+PONG\r\n"));
	assert_int_equal(dt_pcap_exchange_chunks(&x, ch, 8), 2);
	assert_int_equal(ch[0].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[0].len, 14);
	assert_int_equal(ch[1].side, DT_PCAP_SERVER);
	dt_exchange_release(&x);
	exchange_set(&x, DT_PROTO_HTTP1, LIT("GET / HTTP/1.1\r\n\r\n"), NULL,
		     0);
	assert_int_equal(dt_pcap_exchange_chunks(&x, ch, 8), 1);
	dt_exchange_release(&x);
	exchange_set(&x, DT_PROTO_MYSQL, LIT("\x09\x00\x00\x00\x03sel"),
		     LIT("\x01\x00"));
	assert_int_equal(dt_pcap_exchange_chunks(&x, ch, 8), 2);
	assert_int_equal(ch[0].side, DT_PCAP_CLIENT);
	assert_int_equal(ch[0].len, 8);
	assert_int_equal(ch[1].len, 2);
	dt_exchange_release(&x);
}

static void test_hole(void **state)
{
	struct dt_pcap_hole h;
	struct dt_exchange x;

	(void)state;
	/* whole: no hole */
	exchange_set(&x, DT_PROTO_HTTP1, LIT("GET / HTTP/1.1\r\n\r\n"),
		     LIT("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nab"));
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.len, 0);
	/* a body cut short: what its Content-Length says is missing */
	x.flags = DT_XF_INCOMPLETE | DT_XF_SENDFILE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_SERVER);
	assert_int_equal(h.len, 998);
	/* HEAD: the length is not a body's */
	assert_int_equal(dt_exchange_set_attr(&x, "method", "HEAD"), 0);
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.len, DT_PCAP_UNKNOWN_HOLE);
	dt_exchange_release(&x);
	/* a request cut short, no response */
	exchange_set(&x, DT_PROTO_HTTP1, LIT("POST / HTTP/1.1\r\nContent-"),
		     NULL, 0);
	x.flags = DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_CLIENT);
	assert_int_equal(h.len, DT_PCAP_UNKNOWN_HOLE);
	dt_exchange_release(&x);
	exchange_set(&x, DT_PROTO_HTTP1,
		     LIT("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
		     NULL, 0);
	x.flags = DT_XF_INCOMPLETE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_CLIENT);
	assert_int_equal(h.len, 7);
	dt_exchange_release(&x);
	/* a whole request whose response was lost: the hole is there */
	exchange_set(&x, DT_PROTO_REDIS, LIT("*1\r\n$4\r\nPING\r\n"), NULL, 0);
	x.flags = DT_XF_INCOMPLETE | DT_XF_NO_RESPONSE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_SERVER);
	dt_exchange_release(&x);
	exchange_set(&x, DT_PROTO_REDIS, LIT("*1\r\n$4\r\nPI"), NULL, 0);
	x.flags = DT_XF_TRUNCATED;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_CLIENT);
	dt_exchange_release(&x);
	exchange_set(&x, DT_PROTO_MYSQL, LIT("\x09\x00\x00\x00\x03sel"), NULL,
		     0);
	x.flags = DT_XF_INCOMPLETE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.side, DT_PCAP_CLIENT);
	dt_exchange_release(&x);
	/* chunked: the size is unknown */
	exchange_set(&x, DT_PROTO_HTTP1, LIT("GET / HTTP/1.1\r\n\r\n"),
		     LIT("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			 "Content-Length: 50\r\n\r\n5\r\nab"));
	x.flags = DT_XF_INCOMPLETE;
	dt_pcap_exchange_hole(&x, &h);
	assert_int_equal(h.len, DT_PCAP_UNKNOWN_HOLE);
	dt_exchange_release(&x);
}

static void test_addrs(void **state)
{
	struct dt_pcap_addr c, s, c2, s2;
	struct dt_exchange x;

	(void)state;
	dt_exchange_init(&x);
	x.protocol = DT_PROTO_REDIS;
	x.conn_id = 5;
	x.client.family = x.server.family = DT_FAMILY_UNIX;
	strcpy(x.server.path, "/run/redis.sock");
	dt_pcap_exchange_addrs(&x, &c, &s);
	assert_int_equal(c.family, DT_FAMILY_IPV4);
	assert_int_equal(c.addr[0], 127);
	assert_int_equal(c.addr[3], 1);
	assert_int_equal(c.port, 32768 + 5);
	assert_int_equal(s.addr[0], 127);
	assert_int_equal(s.port, 6379);
	assert_memory_not_equal(c.mac, s.mac, 6);
	/* stable per path and connection, distinct between paths */
	dt_pcap_exchange_addrs(&x, &c2, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	strcpy(x.server.path, "/run/other.sock");
	x.conn_id = 6;
	dt_pcap_exchange_addrs(&x, &c2, &s2);
	assert_memory_not_equal(s.addr, s2.addr, 4);
	assert_int_not_equal(c.port, c2.port);
	/* IP endpoints as recorded */
	x.client.family = x.server.family = DT_FAMILY_IPV6;
	x.client.addr[15] = 1;
	x.server.addr[15] = 2;
	x.client.port = 5555;
	x.server.port = 80;
	dt_pcap_exchange_addrs(&x, &c, &s);
	assert_int_equal(c.family, DT_FAMILY_IPV6);
	assert_memory_equal(c.addr, x.client.addr, 16);
	assert_int_equal(s.port, 80);
	/* mixed families: synthetic */
	x.server.family = DT_FAMILY_IPV4;
	dt_pcap_exchange_addrs(&x, &c, &s);
	assert_int_equal(s.addr[0], 127);
	dt_exchange_release(&x);
}

static void exchange_ip(struct dt_exchange *x, uint64_t conn_id,
			uint16_t cport)
{
	x->conn_id = conn_id;
	x->client.family = x->server.family = DT_FAMILY_IPV4;
	x->client.addr[0] = x->server.addr[0] = 127;
	x->client.addr[3] = x->server.addr[3] = 1;
	x->client.port = cport;
	x->server.port = 6379;
	x->req_start_ns = 1000 * conn_id;
	x->req_end_ns = 1000 * conn_id;
	x->resp_start_ns = 1000 * conn_id + 10;
	x->resp_end_ns = 1000 * conn_id + 10;
}

static void test_exporter(void **state)
{
	struct capture *cap = capture_new(true);
	struct dt_pcap_exporter *e;
	struct dt_exchange x;
	size_t syns = 0, fins = 0;

	(void)state;
	assert_int_equal(dt_pcap_exporter_new(&e, (enum dt_pcap_link)0,
					      collect, cap), -EINVAL);
	assert_int_equal(dt_pcap_exporter_new(&e, DT_PCAP_LINK_ETHERNET,
					      collect, cap), 0);
	exchange_set(&x, DT_PROTO_REDIS, LIT("*1\r\n$4\r\nPING\r\n"),
		     LIT("+PONG\r\n"));
	exchange_ip(&x, 1, 40001);
	assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
	assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
	exchange_ip(&x, 2, 40002);
	x.flags = DT_XF_MIDSTREAM;
	assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
	assert_int_equal(dt_pcap_exporter_end_conn(e, 1), 0);
	assert_int_equal(dt_pcap_exporter_end_conn(e, 99), 0);
	assert_int_equal(dt_pcap_exporter_conns(e), 2);
	assert_int_equal(dt_pcap_exporter_finish(e), 0);
	assert_int_equal(dt_pcap_exporter_frames(e), cap->n);
	for (size_t i = 0; i < cap->n; i++) {
		syns += !!(cap->frames[i].flags & DT_TCP_SYN);
		fins += !!(cap->frames[i].flags & DT_TCP_FIN);
	}
	/* the midstream connection has no handshake; both close */
	assert_int_equal(syns, 2);
	assert_int_equal(fins, 4);
	/* connection 1 closed before connection 2 */
	assert_true(cap->frames[cap->n - 1].sport == 40002 ||
		    cap->frames[cap->n - 1].dport == 40002);
	dt_exchange_release(&x);
	dt_pcap_exporter_free(e);
	capture_free(cap);
}

/* An incomplete exchange's hole shows as a sequence jump; a failing
 * callback stops the export with its error. */
static void test_exporter_hole_and_error(void **state)
{
	struct capture *cap = capture_new(false);
	struct dt_pcap_exporter *e;
	struct dt_exchange x;
	uint8_t *bytes[2];
	size_t len[2];
	uint32_t holes[2];
	struct dt_pcap_addr client = { 0 };

	(void)state;
	assert_int_equal(dt_pcap_exporter_new(&e, DT_PCAP_LINK_RAW, collect,
					      cap), 0);
	exchange_set(&x, DT_PROTO_HTTP1, LIT("GET / HTTP/1.1\r\n\r\n"),
		     LIT("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"));
	exchange_ip(&x, 1, 40001);
	x.flags = DT_XF_INCOMPLETE;
	assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
	x.flags = 0;
	assert_int_equal(dt_pcap_exporter_add(e, &x), 0);
	assert_int_equal(dt_pcap_exporter_finish(e), 0);
	client.family = DT_FAMILY_IPV4;
	memcpy(client.addr, x.client.addr, 4);
	client.port = 40001;
	check_stream(cap, &client, bytes, len, holes);
	assert_int_equal(holes[DT_PCAP_SERVER], 500);
	assert_int_equal(holes[DT_PCAP_CLIENT], 0);
	assert_int_equal(len[DT_PCAP_SERVER], 2 * (x.response_len));
	free(bytes[0]);
	free(bytes[1]);
	dt_pcap_exporter_free(e);

	cap->n = 0;
	cap->fail_after = 2;
	assert_int_equal(dt_pcap_exporter_new(&e, DT_PCAP_LINK_RAW, collect,
					      cap), 0);
	assert_int_equal(dt_pcap_exporter_add(e, &x), -ENOSPC);
	dt_pcap_exporter_free(e);
	dt_exchange_release(&x);
	capture_free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_frame_ipv4),
		cmocka_unit_test(test_data_frame_ipv6_raw),
		cmocka_unit_test(test_checksum_odd_length),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_conversation),
		cmocka_unit_test(test_conversation_skip),
		cmocka_unit_test(test_conversation_times),
		cmocka_unit_test(test_conversation_callback_error),
		cmocka_unit_test(test_chunks_mysql_handshake),
		cmocka_unit_test(test_chunks_mysql_infile),
		cmocka_unit_test(test_chunks_plain),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_exporter),
		cmocka_unit_test(test_exporter_hole_and_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
