/* SPDX-License-Identifier: MIT */
/*
 * pcap export: synthesising the TCP packets of recorded exchanges, for
 * Wireshark and tshark. Pure code: frames go to a callback; writing them
 * to a file (libpcap) is the caller's business.
 *
 *   pcap_build.c      one frame: Ethernet or raw IP, IPv4/IPv6, TCP with
 *                     options and correct checksums; a TCP conversation
 *                     (handshake, data segments with their ACKs, holes,
 *                     FIN handshake)
 *   pcap_exchanges.c  exchanges to conversations: one per connection id,
 *                     bytes in wire order, incomplete exchanges with a hole
 */
#ifndef DEETUNE_FORMATS_PCAP_H
#define DEETUNE_FORMATS_PCAP_H

#include "formats/formats.h"

/* Link layer of the frames (the values are pcap LINKTYPE_* numbers). */
enum dt_pcap_link {
	DT_PCAP_LINK_ETHERNET = 1,  /* Ethernet II, synthetic MAC addresses */
	DT_PCAP_LINK_RAW = 101,     /* IPv4/IPv6 without a link header */
};

/* Segment payload limits: MSS 1460 (IPv4) / 1440 (IPv6), less the 12
 * bytes of the timestamps option every segment carries, as Linux sends. */
#define DT_PCAP_MSS4 1460
#define DT_PCAP_MSS6 1440
#define DT_PCAP_TS_OPTION_LEN 12
/* Largest frame built: Ethernet + IPv6 + TCP with 40 bytes of options +
 * a full segment. */
#define DT_PCAP_MAX_FRAME (14 + 40 + 60 + DT_PCAP_MSS4)

/* TCP header flags */
#define DT_TCP_FIN 0x01
#define DT_TCP_SYN 0x02
#define DT_TCP_RST 0x04
#define DT_TCP_PSH 0x08
#define DT_TCP_ACK 0x10

/* One end of a synthesised connection. */
struct dt_pcap_addr {
	uint8_t family;    /* DT_FAMILY_IPV4 or DT_FAMILY_IPV6 */
	uint8_t addr[16];  /* network byte order; IPv4 in the first 4 bytes */
	uint16_t port;     /* host byte order */
	uint8_t mac[6];    /* Ethernet frames only */
};

struct dt_tcp_segment {
	const struct dt_pcap_addr *src, *dst;
	uint32_t seq, ack;
	uint8_t flags;        /* DT_TCP_* */
	uint16_t window;      /* as sent (scaled by the peer) */
	uint16_t ip_id;       /* IPv4 identification */
	/* SYN and SYN-ACK: MSS, SACK permitted, timestamps, window scale
	 * (Linux's order); every other segment: NOP NOP timestamps */
	bool syn_options;
	uint16_t mss;
	uint8_t wscale;
	uint32_t tsval, tsecr;
	const uint8_t *payload;
	size_t len;
};

/*
 * Builds one frame of segment seg into buf[0..size). Returns the frame
 * length, -EINVAL when the two ends are not both IPv4 or both IPv6 or the
 * link is unknown, -EMSGSIZE when the frame would exceed size or an IP
 * packet's 65535 bytes.
 */
ssize_t dt_pcap_build_segment(uint8_t *buf, size_t size,
			      enum dt_pcap_link link,
			      const struct dt_tcp_segment *seg);

/* Receives each frame with its CLOCK_REALTIME time in nanoseconds; the
 * frame is only valid during the call. Returns 0 or a negative errno,
 * which stops the conversation and is passed back to its caller. */
typedef int (*dt_pcap_frame_fn)(void *ctx, uint64_t ts_ns,
				const uint8_t *frame, size_t len);

/* Which end of a conversation sends: the one that opened it, or the
 * other. */
enum dt_pcap_side {
	DT_PCAP_CLIENT = 0,
	DT_PCAP_SERVER = 1,
};

/*
 * One synthesised TCP connection. The state is plain data: embed it and
 * drive it with the calls below, in time order. Packet times never go
 * backwards within a conversation (a time before the previous packet's is
 * raised to it). Each end acknowledges the other's data when it next
 * sends, and with a pure ACK after every second full segment or before
 * its peer sends again, as delayed ACKs do.
 */
struct dt_pcap_conv {
	struct dt_pcap_addr end[2];   /* [DT_PCAP_CLIENT], [DT_PCAP_SERVER] */
	enum dt_pcap_link link;
	uint32_t snd_nxt[2];          /* next sequence number each end sends */
	uint32_t ts_base[2];          /* per-end offset of TCP timestamps */
	uint32_t ts_recent[2];        /* last TSval each end received */
	uint16_t ip_id[2];
	uint8_t unacked[2];           /* segments of an end not yet acked */
	bool ack_due[2];              /* the end's peer owes it an ACK */
	uint64_t last_ts;
	dt_pcap_frame_fn fn;
	void *ctx;
};

/* Sets up a conversation between client and server (copied; both IPv4
 * or both IPv6). seed picks the initial sequence numbers and timestamp
 * offsets, so the same seed gives the same packets. */
void dt_pcap_conv_init(struct dt_pcap_conv *cv, const struct dt_pcap_addr *client,
		       const struct dt_pcap_addr *server, enum dt_pcap_link link,
		       uint64_t seed, dt_pcap_frame_fn fn, void *ctx);
/* SYN, SYN-ACK, ACK at time ts. Leave it out for a connection that was
 * already open when the capture started. */
int dt_pcap_conv_open(struct dt_pcap_conv *cv, uint64_t ts);
/* side sends len bytes (0 allowed: nothing happens) in segments of at
 * most one MSS, the first at ts_first, the last at ts_last, those between
 * spread evenly. */
int dt_pcap_conv_send(struct dt_pcap_conv *cv, enum dt_pcap_side side,
		      const uint8_t *data, size_t len, uint64_t ts_first,
		      uint64_t ts_last);
/* n bytes side sent that the capture lost: its sequence numbers jump
 * (Wireshark: "previous segment not captured"); the peer acknowledges
 * them. n is below 2^31. */
void dt_pcap_conv_skip(struct dt_pcap_conv *cv, enum dt_pcap_side side,
		       uint32_t n);
/* FIN from the client, FIN-ACK from the server, the client's last ACK. */
int dt_pcap_conv_close(struct dt_pcap_conv *cv, uint64_t ts);

/* ---- exchanges to conversations (pcap_exchanges.c) ---- */

/* A span of an exchange's bytes in wire order. */
struct dt_pcap_chunk {
	enum dt_pcap_side side;
	size_t off;       /* offset in the request or response */
	size_t len;
};

#define DT_PCAP_MAX_CHUNKS 64

/*
 * Splits x's request and response into the order they crossed the wire:
 * the request then the response, except for MySQL, whose packets are
 * ordered by their sequence ids (the handshake starts with the server's
 * greeting; LOCAL INFILE sends file data after the server's request).
 * Returns the number of chunks written to out (at most max; the last one
 * takes the rest of both sides when they do not fit).
 */
size_t dt_pcap_exchange_chunks(const struct dt_exchange *x,
			       struct dt_pcap_chunk *out, size_t max);

/* Where an exchange flagged incomplete or truncated shows its hole. */
struct dt_pcap_hole {
	enum dt_pcap_side side;
	uint32_t len;     /* 0: the exchange has no hole */
};

/*
 * Where the bytes an incomplete (or truncated) exchange misses belong:
 * after its response when the request is whole by its protocol's framing,
 * else after the request. The size is what the message's own framing says
 * is missing (an HTTP Content-Length body) when it tells, else
 * DT_PCAP_UNKNOWN_HOLE bytes.
 */
#define DT_PCAP_UNKNOWN_HOLE 1
void dt_pcap_exchange_hole(const struct dt_exchange *x,
			   struct dt_pcap_hole *hole);

/*
 * Endpoints a connection gets in a pcap: its IP addresses and ports as
 * recorded. Unix sockets (and endpoints without an address) have none:
 * the server becomes 127.H.H.H:PORT, H a hash of the socket path, PORT
 * the protocol's usual port (80, 6379, 3306; 9 otherwise), and the client
 * 127.0.0.1 with port 32768 + conn_id % 28232, so that the same session
 * always exports the same addresses and Wireshark picks the dissector
 * without "decode as".
 */
void dt_pcap_exchange_addrs(const struct dt_exchange *x,
			    struct dt_pcap_addr *client,
			    struct dt_pcap_addr *server);

struct dt_pcap_exporter;

/* *out is owned by the caller (dt_pcap_exporter_free). */
int dt_pcap_exporter_new(struct dt_pcap_exporter **out, enum dt_pcap_link link,
			 dt_pcap_frame_fn fn, void *ctx);
/* Adds x's packets to its connection's conversation, opening it (with a
 * handshake unless x is flagged midstream) on its first exchange. */
int dt_pcap_exporter_add(struct dt_pcap_exporter *e,
			 const struct dt_exchange *x);
/* Closes the conversation of conn_id (FIN handshake) and forgets it;
 * 0 also when there is none. */
int dt_pcap_exporter_end_conn(struct dt_pcap_exporter *e, uint64_t conn_id);
/* Closes every open conversation, oldest first. */
int dt_pcap_exporter_finish(struct dt_pcap_exporter *e);
/* Conversations opened and frames produced so far. */
uint64_t dt_pcap_exporter_conns(const struct dt_pcap_exporter *e);
uint64_t dt_pcap_exporter_frames(const struct dt_pcap_exporter *e);
void dt_pcap_exporter_free(struct dt_pcap_exporter *e);

#endif /* DEETUNE_FORMATS_PCAP_H */
