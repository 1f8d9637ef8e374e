/* SPDX-License-Identifier: MIT */
/*
 * Captured packets to recorder events, for `deetune import`:
 *   packet_decode.c   link, IPv4/IPv6 and TCP headers of one frame
 *   tcp_reassembly.c  per connection and direction, segments to stream
 *                     bytes: out-of-order, retransmitted and overlapping
 *                     segments, missing handshakes, lost segments
 * The events are those the BPF probes send (struct dt_event), so imported
 * traffic goes through the same assembler and protocol decoders as
 * recorded traffic. Pure code: no I/O, no libpcap calls.
 */
#ifndef DEETUNE_RECORDER_TCP_REASSEMBLY_H
#define DEETUNE_RECORDER_TCP_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/deetune.h"

/* TCP header flags */
#define DT_TH_FIN 0x01
#define DT_TH_SYN 0x02
#define DT_TH_RST 0x04
#define DT_TH_ACK 0x10

/* One TCP segment as captured. */
struct dt_tcp_packet {
	uint64_t ts_ns;        /* capture time */
	uint16_t family;       /* AF_INET or AF_INET6 */
	uint8_t saddr[16];     /* IPv4 mapped into ::ffff:0:0/96 */
	uint8_t daddr[16];
	uint16_t sport, dport; /* host byte order */
	uint32_t seq, ack;
	uint8_t flags;         /* DT_TH_* */
	const uint8_t *payload;/* borrowed from the frame */
	size_t len;            /* payload bytes captured */
	size_t wire_len;       /* payload bytes the segment carried: more
				  than len when the snapshot length cut it */
};

enum dt_decode_result {
	DT_DECODE_TCP = 1,     /* *out holds a TCP segment */
	DT_DECODE_OTHER = 0,   /* not TCP over IP (ARP, UDP, ...) */
	DT_DECODE_FRAGMENT = -1, /* an IP fragment: not reassembled */
	DT_DECODE_MALFORMED = -2, /* headers cut short or inconsistent */
};

/* True for the libpcap link types (DLT_*) dt_packet_decode() reads:
 * Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2, raw IP,
 * BSD loopback. */
bool dt_packet_link_supported(int dlt);

/*
 * Decodes the captured frame[0..caplen) of link type dlt into out
 * (payload borrowed from frame); the IP header tells how much the
 * snapshot length cut off. out->ts_ns is left for the caller. Returns an
 * enum dt_decode_result.
 */
int dt_packet_decode(int dlt, const uint8_t *frame, size_t caplen,
		     struct dt_tcp_packet *out);

/*
 * Stream offsets of a connection joined mid-stream start here (not 0), so
 * the assembler knows its protocol decoders must look for a message start,
 * as for a socket the probes found already open.
 */
#define DT_TCP_MIDSTREAM_POS 1

struct dt_tcp_reasm_opts {
	/* bytes (with a small overhead per segment) kept out of order per
	 * direction before its first hole is given up as lost (0: 4 MiB),
	 * and in all (0: 256 MiB) */
	size_t max_direction_bytes;
	size_t max_total_bytes;
	/* closed connections remembered, to ignore their late packets
	 * (0: 65536) */
	size_t max_closed;
};

struct dt_tcp_reasm_stats {
	uint64_t segments;      /* TCP segments given */
	uint64_t ignored;       /* of no connection, or after its close */
	uint64_t duplicate_bytes; /* retransmitted or overlapping bytes */
	uint64_t out_of_order;  /* segments kept for a hole before them */
	uint64_t gaps;          /* holes given up as lost */
	uint64_t gap_bytes;
	uint64_t conns;         /* connections seen */
	uint64_t midstream;     /* of which without their handshake */
};

/* The events: DT_EV_DATA and DT_EV_CLOSE, with data the payload of a
 * DATA event. A non-zero return stops the reassembler and is passed back
 * to its caller. */
typedef int (*dt_tcp_event_fn)(void *ctx, const struct dt_event *ev,
			       const uint8_t *data);

struct dt_tcp_reasm;

/*
 * Events describe each connection as its server's socket sees it: laddr/
 * lport the server (the end that received the SYN; without a handshake,
 * the end with the lower port), ingress the bytes from the client. Each
 * connection gets a conn_id from 1 up in the order connections appear.
 * Without a handshake the protocol decoders decide which end is the
 * client, as for a socket the probes joined open.
 *
 * Stream offsets (dt_event.pos) count from the first byte after the SYN,
 * or from DT_TCP_MIDSTREAM_POS at the first byte seen. A jump in pos is a
 * hole: bytes lost to the capture (never delivered later). Holes are
 * declared when the other end acknowledges bytes past them, on a FIN or
 * RST, when the out-of-order limits are reached, and at the end.
 *
 * opts may be NULL (defaults). *out is owned by the caller
 * (dt_tcp_reasm_free).
 */
int dt_tcp_reasm_new(struct dt_tcp_reasm **out,
		     const struct dt_tcp_reasm_opts *opts, dt_tcp_event_fn fn,
		     void *ctx);
/* One captured segment, in capture order. Returns 0, -ENOMEM, or what
 * the event callback returned. */
int dt_tcp_reasm_packet(struct dt_tcp_reasm *r, const struct dt_tcp_packet *p);
/* End of the capture: delivers what is buffered (holes given up) and
 * closes every open connection. */
int dt_tcp_reasm_finish(struct dt_tcp_reasm *r);
void dt_tcp_reasm_get_stats(const struct dt_tcp_reasm *r,
			    struct dt_tcp_reasm_stats *st);
void dt_tcp_reasm_free(struct dt_tcp_reasm *r);

#endif /* DEETUNE_RECORDER_TCP_REASSEMBLY_H */
