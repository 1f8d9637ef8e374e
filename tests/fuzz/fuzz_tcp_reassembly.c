// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the import path: frame decoder and TCP reassembler
 * (recorder/packet_decode.c, recorder/tcp_reassembly.c), then the
 * recorder's assembler and protocol decoders.
 *
 * Input: byte 0 chooses the mode. With bit 7 clear, the rest are frames of
 * the link type table[byte 0 % N], each as a 2-byte little-endian length,
 * a 1-byte time step (in 10 ms) and the frame bytes. With bit 7 set, the rest are
 * segments of four connections between two hosts, each as flags, a byte
 * whose bit 0 says "from the client" and bits 1-2 pick the connection,
 * 16-bit sequence and acknowledgement offsets from initial sequence
 * numbers close to the 32-bit wrap, a payload length, a time step (in
 * 10 ms) and the payload: reordering, overlaps, holes and handshakes come easily.
 *
 * The reassembler runs with small limits. Every event is checked: a
 * connection's offsets never go back nor overlap in either direction,
 * start where its start_pos says, carry the same endpoints each time, and
 * nothing follows its close. Then the events go through the recorder's
 * assembler and protocol decoders as `deetune import` does, closed
 * connections expiring as the capture's clock moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pcap/dlt.h>
#include <uthash.h>

#include "recorder/recorder_int.h"
#include "recorder/tcp_reassembly.h"
#include "tests/fuzz/fuzz_check.h"

struct seen_conn {
	uint64_t id;
	struct dt_event first;
	uint64_t next[2];
	bool closed;
	UT_hash_handle hh;
};

struct checker {
	struct seen_conn *conns;
	struct dt_assembler *asmb;
	uint64_t exchanges;
};

static volatile uint8_t sink;

static int check_event(void *ctx, const struct dt_event *ev,
		       const uint8_t *data)
{
	struct checker *k = ctx;
	struct seen_conn *c;
	int d = ev->dir;

	CHECK(ev->type == DT_EV_DATA || ev->type == DT_EV_CLOSE);
	CHECK(d == DT_DIR_EGRESS || d == DT_DIR_INGRESS);
	HASH_FIND(hh, k->conns, &ev->conn_id, sizeof(ev->conn_id), c);
	if (!c) {
		CHECK(ev->type == DT_EV_DATA);
		CHECK(ev->flags & DT_EVF_FIRST);
		c = calloc(1, sizeof(*c));
		CHECK(c);
		c->id = ev->conn_id;
		c->first = *ev;
		c->next[0] = ev->start_pos[0];
		c->next[1] = ev->start_pos[1];
		HASH_ADD(hh, k->conns, id, sizeof(c->id), c);
	}
	CHECK(!c->closed);
	CHECK(!memcmp(ev->laddr, c->first.laddr, 16));
	CHECK(!memcmp(ev->raddr, c->first.raddr, 16));
	CHECK(ev->lport == c->first.lport && ev->rport == c->first.rport);
	CHECK(ev->start_pos[0] == c->first.start_pos[0]);
	CHECK(ev->start_pos[1] == c->first.start_pos[1]);
	if (ev->type == DT_EV_CLOSE) {
		c->closed = true;
	} else {
		CHECK(ev->pos >= c->next[d]);
		CHECK(ev->len <= 65535);
		/* read every byte: the sanitizers see a bad pointer */
		for (uint32_t i = 0; i < ev->len; i++)
			sink ^= data[i];
		c->next[d] = ev->pos + ev->len;
	}
	CHECK(dt_assembler_event(k->asmb, ev, data) == 0);
	return 0;
}

static int count_exchange(void *ctx, struct dt_exchange *x)
{
	struct checker *k = ctx;

	CHECK(x->protocol >= DT_PROTO_HTTP1 && x->protocol <= DT_PROTO_LAST);
	k->exchanges++;
	return 0;
}

static const int links[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
	DLT_IPV6, DLT_NULL, DLT_LOOP,
};

/* Time steps are in units of 10 ms: closed connections expire. */
#define TIME_STEP 10000000ull

/* One packet, then the assembler's clock moves on. */
static void feed(struct dt_tcp_reasm *r, struct checker *k,
		 const struct dt_tcp_packet *p)
{
	CHECK(dt_tcp_reasm_packet(r, p) == 0);
	CHECK(dt_assembler_expire(k->asmb, p->ts_ns) == 0);
}

static void run_frames(struct dt_tcp_reasm *r, struct checker *k, int dlt,
		       const uint8_t *in, size_t len)
{
	struct dt_tcp_packet p;
	uint64_t ts = 1;

	while (len >= 3) {
		size_t n = in[0] | (size_t)in[1] << 8;

		ts += in[2] * TIME_STEP;
		in += 3;
		len -= 3;
		if (n > len)
			n = len;
		if (dt_packet_decode(dlt, in, n, &p) == DT_DECODE_TCP) {
			CHECK(p.len <= p.wire_len);
			CHECK(p.payload >= in && p.payload + p.len <= in + n);
			p.ts_ns = ts;
			feed(r, k, &p);
		}
		in += n;
		len -= n;
	}
}

#define SEG_HEADER 8

static void run_segments(struct dt_tcp_reasm *r, struct checker *k,
			 const uint8_t *in, size_t len)
{
	static const uint8_t host[2][16] = {
		{ [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },
		{ [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 },
	};
	struct dt_tcp_packet p;
	uint64_t ts = 1;

	while (len >= SEG_HEADER) {
		bool from_client = in[1] & 1;
		unsigned conn = (in[1] >> 1) & 3;
		uint32_t isn_c = 0xffffff00u - 0x1000u * conn;
		uint32_t isn_s = 0xfffff000u + 0x100u * conn;
		size_t n = in[6], cut = in[0] >> 5;

		memset(&p, 0, sizeof(p));
		p.family = AF_INET;
		memcpy(p.saddr, host[!from_client], 16);
		memcpy(p.daddr, host[from_client], 16);
		p.sport = from_client ? (uint16_t)(40000 + conn) : 80;
		p.dport = from_client ? 80 : (uint16_t)(40000 + conn);
		p.flags = in[0] & (DT_TH_FIN | DT_TH_SYN | DT_TH_RST |
				   DT_TH_ACK);
		p.seq = (from_client ? isn_c : isn_s) +
			(uint32_t)(in[2] | in[3] << 8);
		p.ack = (from_client ? isn_s : isn_c) +
			(uint32_t)(in[4] | in[5] << 8);
		ts += in[7] * TIME_STEP;
		p.ts_ns = ts;
		in += SEG_HEADER;
		len -= SEG_HEADER;
		if (n > len)
			n = len;
		p.payload = in;
		p.len = n;
		p.wire_len = n + cut;  /* the snapshot length cut it */
		feed(r, k, &p);
		in += n;
		len -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_tcp_reasm_opts opts = {
		.max_direction_bytes = 2048,
		.max_total_bytes = 8192,
		.max_closed = 4,
	};
	struct checker k = { .conns = NULL };
	struct dt_tcp_reasm *r;
	struct seen_conn *c, *tmp;

	if (size < 1)
		return 0;
	CHECK(dt_assembler_new(&k.asmb, 1 << 16, count_exchange, &k) == 0);
	CHECK(dt_tcp_reasm_new(&r, &opts, check_event, &k) == 0);
	if (data[0] & 0x80)
		run_segments(r, &k, data + 1, size - 1);
	else
		run_frames(r, &k, links[data[0] % (sizeof(links) /
						   sizeof(links[0]))],
			   data + 1, size - 1);
	CHECK(dt_tcp_reasm_finish(r) == 0);
	CHECK(dt_assembler_finish(k.asmb) == 0);
	/* every connection that sent data was closed */
	HASH_ITER(hh, k.conns, c, tmp) {
		CHECK(c->closed);
		HASH_DEL(k.conns, c);
		free(c);
	}
	dt_tcp_reasm_free(r);
	dt_assembler_free(k.asmb);
	return 0;
}
