// SPDX-License-Identifier: MIT
/*
 * Synthetic TCP packets for pcap export: frames with correct IP and TCP
 * checksums and the options a Linux stack sends, and whole conversations
 * (handshake, MSS-sized segments with delayed ACKs, holes, FIN handshake)
 * whose sequence and acknowledgement numbers Wireshark's TCP analysis
 * accepts.
 */
#include <errno.h>
#include <string.h>

#include "formats/pcap.h"

#define ETH_HLEN 14
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define SYN_OPTIONS_LEN 20
#define IPPROTO_TCP_NUM 6

/* Linux's defaults: a SYN offers 64240 bytes unscaled; later segments
 * advertise 502 << 7 = 64256 bytes. */
#define SYN_WINDOW 64240
#define WINDOW 502
#define WSCALE 7

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Ones' complement sum of big-endian 16-bit words (RFC 1071). */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t tcp_options(uint8_t *p, const struct dt_tcp_segment *seg)
{
	uint8_t *o = p;

	if (seg->syn_options) {
		*o++ = 2;       /* MSS */
		*o++ = 4;
		put16(o, seg->mss);
		o += 2;
		*o++ = 4;       /* SACK permitted */
		*o++ = 2;
	} else {
		*o++ = 1;       /* NOP, NOP: align the timestamps */
		*o++ = 1;
	}
	*o++ = 8;               /* timestamps */
	*o++ = 10;
	put32(o, seg->tsval);
	put32(o + 4, seg->tsecr);
	o += 8;
	if (seg->syn_options) {
		*o++ = 1;       /* NOP */
		*o++ = 3;       /* window scale */
		*o++ = 3;
		*o++ = seg->wscale;
	}
	return (size_t)(o - p);
}

/* The TCP header and payload at p (tcp_len bytes), checksum included. */
static void tcp_write(uint8_t *p, size_t hlen, size_t tcp_len,
		      const struct dt_tcp_segment *seg, bool v6)
{
	size_t alen = v6 ? 16 : 4;
	uint8_t pseudo[4];
	uint64_t sum;

	put16(p, seg->src->port);
	put16(p + 2, seg->dst->port);
	put32(p + 4, seg->seq);
	put32(p + 8, seg->ack);
	p[12] = (uint8_t)(hlen / 4) << 4;
	p[13] = seg->flags;
	put16(p + 14, seg->window);
	put16(p + 16, 0);
	put16(p + 18, 0);
	tcp_options(p + TCP_HLEN, seg);
	if (seg->len)
		memcpy(p + hlen, seg->payload, seg->len);
	/* pseudo header: addresses, protocol, TCP length */
	sum = csum_add(0, seg->src->addr, alen);
	sum = csum_add(sum, seg->dst->addr, alen);
	put16(pseudo, IPPROTO_TCP_NUM);
	put16(pseudo + 2, (uint16_t)tcp_len);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	if (v6)
		sum += tcp_len >> 16;
	sum = csum_add(sum, p, tcp_len);
	put16(p + 16, csum_fold(sum));
}

static void ipv4_write(uint8_t *p, size_t total, const struct dt_tcp_segment *seg)
{
	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, (uint16_t)total);
	put16(p + 4, seg->ip_id);
	put16(p + 6, 0x4000);   /* don't fragment */
	p[8] = 64;
	p[9] = IPPROTO_TCP_NUM;
	put16(p + 10, 0);
	memcpy(p + 12, seg->src->addr, 4);
	memcpy(p + 16, seg->dst->addr, 4);
	put16(p + 10, csum_fold(csum_add(0, p, IPV4_HLEN)));
}

static void ipv6_write(uint8_t *p, size_t payload, const struct dt_tcp_segment *seg)
{
	put32(p, 0x60000000);
	put16(p + 4, (uint16_t)payload);
	p[6] = IPPROTO_TCP_NUM;
	p[7] = 64;
	memcpy(p + 8, seg->src->addr, 16);
	memcpy(p + 24, seg->dst->addr, 16);
}

ssize_t dt_pcap_build_segment(uint8_t *buf, size_t size,
			      enum dt_pcap_link link,
			      const struct dt_tcp_segment *seg)
{
	uint8_t family = seg->src->family;
	bool v6 = family == DT_FAMILY_IPV6;
	size_t l2, l3 = v6 ? IPV6_HLEN : IPV4_HLEN;
	size_t hlen = TCP_HLEN + (seg->syn_options ? SYN_OPTIONS_LEN
						   : DT_PCAP_TS_OPTION_LEN);
	size_t tcp_len;

	if (family != seg->dst->family ||
	    (family != DT_FAMILY_IPV4 && family != DT_FAMILY_IPV6))
		return -EINVAL;
	if (link == DT_PCAP_LINK_ETHERNET)
		l2 = ETH_HLEN;
	else if (link == DT_PCAP_LINK_RAW)
		l2 = 0;
	else
		return -EINVAL;
	if (seg->len > 65535 - IPV6_HLEN - hlen)
		return -EMSGSIZE;
	tcp_len = hlen + seg->len;
	if (l2 + l3 + tcp_len > size || (!v6 && l3 + tcp_len > 65535))
		return -EMSGSIZE;
	if (l2) {
		memcpy(buf, seg->dst->mac, 6);
		memcpy(buf + 6, seg->src->mac, 6);
		put16(buf + 12, v6 ? 0x86dd : 0x0800);
	}
	if (v6)
		ipv6_write(buf + l2, tcp_len, seg);
	else
		ipv4_write(buf + l2, l3 + tcp_len, seg);
	tcp_write(buf + l2 + l3, hlen, tcp_len, seg, v6);
	return (ssize_t)(l2 + l3 + tcp_len);
}

/* ---------------------------------------------------------------------- */
/* Conversations                                                          */
/* ---------------------------------------------------------------------- */

/* splitmix64: well-spread numbers from a connection's seed */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void dt_pcap_conv_init(struct dt_pcap_conv *cv, const struct dt_pcap_addr *client,
		       const struct dt_pcap_addr *server, enum dt_pcap_link link,
		       uint64_t seed, dt_pcap_frame_fn fn, void *ctx)
{
	uint64_t isn = mix64(seed), ts = mix64(isn);

	memset(cv, 0, sizeof(*cv));
	cv->end[DT_PCAP_CLIENT] = *client;
	cv->end[DT_PCAP_SERVER] = *server;
	cv->link = link;
	cv->snd_nxt[DT_PCAP_CLIENT] = (uint32_t)isn;
	cv->snd_nxt[DT_PCAP_SERVER] = (uint32_t)(isn >> 32);
	cv->ts_base[DT_PCAP_CLIENT] = (uint32_t)ts;
	cv->ts_base[DT_PCAP_SERVER] = (uint32_t)(ts >> 32);
	cv->fn = fn;
	cv->ctx = ctx;
}

static uint16_t conv_mss(const struct dt_pcap_conv *cv)
{
	return cv->end[0].family == DT_FAMILY_IPV6 ? DT_PCAP_MSS6
						   : DT_PCAP_MSS4;
}

/* One segment from side; an ACK acknowledges all the peer sent so far. */
static int conv_emit(struct dt_pcap_conv *cv, enum dt_pcap_side side,
		     uint8_t flags, const uint8_t *data, size_t len,
		     uint64_t ts)
{
	enum dt_pcap_side peer = !side;
	uint8_t frame[DT_PCAP_MAX_FRAME];
	struct dt_tcp_segment seg = {
		.src = &cv->end[side],
		.dst = &cv->end[peer],
		.seq = cv->snd_nxt[side],
		.ack = flags & DT_TCP_ACK ? cv->snd_nxt[peer] : 0,
		.flags = flags,
		.window = flags & DT_TCP_SYN ? SYN_WINDOW : WINDOW,
		.ip_id = cv->ip_id[side]++,
		.syn_options = flags & DT_TCP_SYN,
		.mss = conv_mss(cv),
		.wscale = WSCALE,
		.tsecr = flags & DT_TCP_ACK ? cv->ts_recent[side] : 0,
		.payload = data,
		.len = len,
	};
	ssize_t n;

	if (ts < cv->last_ts)
		ts = cv->last_ts;
	cv->last_ts = ts;
	seg.tsval = cv->ts_base[side] + (uint32_t)(ts / 1000000);
	n = dt_pcap_build_segment(frame, sizeof(frame), cv->link, &seg);
	if (n < 0)
		return (int)n;
	cv->ts_recent[peer] = seg.tsval;
	cv->snd_nxt[side] += (uint32_t)len +
			     (flags & (DT_TCP_SYN | DT_TCP_FIN) ? 1 : 0);
	if (flags & DT_TCP_ACK) {
		cv->ack_due[peer] = false;
		cv->unacked[peer] = 0;
	}
	return cv->fn(cv->ctx, ts, frame, (size_t)n);
}

int dt_pcap_conv_open(struct dt_pcap_conv *cv, uint64_t ts)
{
	int ret = conv_emit(cv, DT_PCAP_CLIENT, DT_TCP_SYN, NULL, 0, ts);

	if (!ret)
		ret = conv_emit(cv, DT_PCAP_SERVER, DT_TCP_SYN | DT_TCP_ACK,
				NULL, 0, ts);
	if (!ret)
		ret = conv_emit(cv, DT_PCAP_CLIENT, DT_TCP_ACK, NULL, 0, ts);
	return ret;
}

/* The time of segment i of n spread evenly over [first, last]. */
static uint64_t spread_ts(uint64_t first, uint64_t last, size_t i, size_t n)
{
	if (n < 2 || last <= first)
		return first;
	return first + (uint64_t)((unsigned __int128)(last - first) * i /
				  (n - 1));
}

int dt_pcap_conv_send(struct dt_pcap_conv *cv, enum dt_pcap_side side,
		      const uint8_t *data, size_t len, uint64_t ts_first,
		      uint64_t ts_last)
{
	size_t seglen = conv_mss(cv) - DT_PCAP_TS_OPTION_LEN;
	size_t nseg = (len + seglen - 1) / seglen;
	enum dt_pcap_side peer = !side;
	int ret = 0;

	/* bytes sent over a while: two segments carry both times */
	if (nseg == 1 && len > 1 && ts_last > ts_first) {
		seglen = (len + 1) / 2;
		nseg = 2;
	}

	/* the delayed ACK of this side's previous data went out by now */
	if (len && cv->ack_due[side])
		ret = conv_emit(cv, peer, DT_TCP_ACK, NULL, 0, ts_first);
	for (size_t i = 0; i < nseg && !ret; i++) {
		size_t n = len - i * seglen < seglen ? len - i * seglen : seglen;
		uint64_t ts = spread_ts(ts_first, ts_last, i, nseg);
		bool last = i + 1 == nseg;

		ret = conv_emit(cv, side, DT_TCP_ACK | (last ? DT_TCP_PSH : 0),
				data + i * seglen, n, ts);
		cv->ack_due[side] = true;
		if (++cv->unacked[side] >= 2 && !last && !ret)
			ret = conv_emit(cv, peer, DT_TCP_ACK, NULL, 0, ts);
	}
	return ret;
}

void dt_pcap_conv_skip(struct dt_pcap_conv *cv, enum dt_pcap_side side,
		       uint32_t n)
{
	cv->snd_nxt[side] += n;
	cv->ack_due[side] = true;
}

int dt_pcap_conv_close(struct dt_pcap_conv *cv, uint64_t ts)
{
	int ret = conv_emit(cv, DT_PCAP_CLIENT, DT_TCP_FIN | DT_TCP_ACK,
			    NULL, 0, ts);

	if (!ret)
		ret = conv_emit(cv, DT_PCAP_SERVER, DT_TCP_FIN | DT_TCP_ACK,
				NULL, 0, ts);
	if (!ret)
		ret = conv_emit(cv, DT_PCAP_CLIENT, DT_TCP_ACK, NULL, 0, ts);
	return ret;
}
