// SPDX-License-Identifier: MIT
/*
 * One captured frame to a TCP segment: the link header (Ethernet with
 * VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback), IPv4 or IPv6 with
 * its extension headers, and the TCP header. Every read is checked against
 * the captured length; lengths the headers claim are checked against each
 * other. Checksums are not verified: a capture on the sending host sees
 * them before the NIC fills them in.
 */
#include <string.h>
#include <sys/socket.h>
#include <pcap/dlt.h>

#include "recorder/tcp_reassembly.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXTENSIONS 8
#define IPPROTO_TCP_NUM 6

/* A bounded view of the frame. */
struct cursor {
	const uint8_t *p;
	size_t len;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool skip(struct cursor *c, size_t n)
{
	if (c->len < n)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

bool dt_packet_link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	}
	return false;
}

/* Ethertype 0 stands for "look at the IP version nibble". */
static int ethertype_of_family(uint32_t af)
{
	/* AF_INET6 differs between the BSDs (24, 28, 30) and Linux (10) */
	if (af == 2)
		return ETHERTYPE_IPV4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return ETHERTYPE_IPV6;
	return -1;
}

/* Skips the link header; returns the ethertype of what follows, 0 for
 * "raw IP", -1 when it is not IP or the header is cut short. */
static int link_skip(int dlt, struct cursor *c)
{
	int type;

	switch (dlt) {
	case DLT_EN10MB:
		if (c->len < 14)
			return -1;
		type = get16(c->p + 12);
		skip(c, 14);
		break;
	case DLT_LINUX_SLL:
		if (c->len < 16)
			return -1;
		type = get16(c->p + 14);
		skip(c, 16);
		break;
	case DLT_LINUX_SLL2:
		if (c->len < 20)
			return -1;
		type = get16(c->p);
		skip(c, 20);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (c->len < 4)
			return -1;
		/* DLT_NULL: the host order of the capturing machine */
		type = dlt == DLT_LOOP ? ethertype_of_family(get32(c->p)) :
		       c->p[0] ? ethertype_of_family(c->p[0] | c->p[1] << 8) :
				 ethertype_of_family(get32(c->p));
		skip(c, 4);
		return type;
	default:
		return 0;
	}
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ &&
		    type != ETHERTYPE_QINQ_OLD)
			return type;
		if (c->len < 4)
			return -1;
		type = get16(c->p + 2);
		skip(c, 4);
	}
	return -1;
}

static void map_ipv4(uint8_t out[16], const uint8_t *a)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a, 4);
}

/* IPv4 header: leaves c on the IP payload and *plen its length by the
 * header. */
static int ipv4_decode(struct cursor *c, struct dt_tcp_packet *out,
		       size_t *plen)
{
	size_t hlen, total;

	if (c->len < 20 || c->p[0] >> 4 != 4)
		return DT_DECODE_MALFORMED;
	hlen = (size_t)(c->p[0] & 0x0f) * 4;
	total = get16(c->p + 2);
	if (hlen < 20 || total < hlen || c->len < hlen)
		return DT_DECODE_MALFORMED;
	if (c->p[9] != IPPROTO_TCP_NUM)
		return DT_DECODE_OTHER;
	/* more fragments, or a fragment offset */
	if (get16(c->p + 6) & 0x3fff)
		return DT_DECODE_FRAGMENT;
	out->family = AF_INET;
	map_ipv4(out->saddr, c->p + 12);
	map_ipv4(out->daddr, c->p + 16);
	*plen = total - hlen;
	skip(c, hlen);
	return DT_DECODE_TCP;
}

/* IPv6 header and extension headers up to TCP. */
static int ipv6_decode(struct cursor *c, struct dt_tcp_packet *out,
		       size_t *plen)
{
	uint8_t next;
	size_t len, ext;

	if (c->len < 40 || c->p[0] >> 4 != 6)
		return DT_DECODE_MALFORMED;
	len = get16(c->p + 4);
	next = c->p[6];
	out->family = AF_INET6;
	memcpy(out->saddr, c->p + 8, 16);
	memcpy(out->daddr, c->p + 24, 16);
	skip(c, 40);
	for (int i = 0; i <= MAX_IPV6_EXTENSIONS; i++) {
		switch (next) {
		case IPPROTO_TCP_NUM:
			*plen = len;
			return DT_DECODE_TCP;
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			if (c->len < 2)
				return DT_DECODE_MALFORMED;
			ext = ((size_t)c->p[1] + 1) * 8;
			break;
		case 51:  /* authentication header */
			if (c->len < 2)
				return DT_DECODE_MALFORMED;
			ext = ((size_t)c->p[1] + 2) * 4;
			break;
		case 44:
			return DT_DECODE_FRAGMENT;
		default:
			return DT_DECODE_OTHER;
		}
		if (ext > len || ext > c->len)
			return DT_DECODE_MALFORMED;
		next = c->p[0];
		skip(c, ext);
		len -= ext;
	}
	return DT_DECODE_MALFORMED;
}

/* TCP header; plen is the segment's length by the IP header. */
static int tcp_decode(struct cursor *c, size_t plen,
		      struct dt_tcp_packet *out)
{
	size_t hlen;

	if (c->len < 20 || plen < 20)
		return DT_DECODE_MALFORMED;
	hlen = (size_t)(c->p[12] >> 4) * 4;
	if (hlen < 20 || hlen > plen || hlen > c->len)
		return DT_DECODE_MALFORMED;
	out->sport = get16(c->p);
	out->dport = get16(c->p + 2);
	out->seq = get32(c->p + 4);
	out->ack = get32(c->p + 8);
	out->flags = c->p[13] & (DT_TH_FIN | DT_TH_SYN | DT_TH_RST |
				 DT_TH_ACK);
	skip(c, hlen);
	out->payload = c->p;
	out->wire_len = plen - hlen;
	/* Ethernet pads short frames: the IP length says where data ends */
	out->len = c->len < out->wire_len ? c->len : out->wire_len;
	return DT_DECODE_TCP;
}

int dt_packet_decode(int dlt, const uint8_t *frame, size_t caplen,
		     struct dt_tcp_packet *out)
{
	struct cursor c = { frame, caplen };
	size_t plen = 0;
	int type, ret;

	memset(out, 0, sizeof(*out));
	if (!dt_packet_link_supported(dlt))
		return DT_DECODE_OTHER;
	type = link_skip(dlt, &c);
	if (type < 0)
		return DT_DECODE_OTHER;
	if (type == 0) {
		if (!c.len)
			return DT_DECODE_MALFORMED;
		type = c.p[0] >> 4 == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
	}
	if (type == ETHERTYPE_IPV4)
		ret = ipv4_decode(&c, out, &plen);
	else if (type == ETHERTYPE_IPV6)
		ret = ipv6_decode(&c, out, &plen);
	else
		return DT_DECODE_OTHER;
	if (ret != DT_DECODE_TCP)
		return ret;
	return tcp_decode(&c, plen, out);
}
