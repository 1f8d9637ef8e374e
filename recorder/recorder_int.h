/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces between the recorder's parts:
 *   capture.c    BPF skeleton: load, selectors into maps, ring buffer intake
 *   assembler.c  per-connection streams: ordering, gaps, protocol dispatch
 *   http_pair.c  HTTP/1 request/response pairing into exchanges
 *   record.c     the `record` loop: policies, session writer, summary
 */
#ifndef DEETUNE_RECORDER_INT_H
#define DEETUNE_RECORDER_INT_H

#include <linux/types.h>
#include <uthash.h>

#include "bpf/deetune.h"
#include "bpf/tls.h"
#include "formats/formats.h"
#include "recorder/recorder.h"

/* ---- capture.c ---- */

/* data: the payload of a DT_EV_DATA event, the path of a
 * DT_EV_UNIX_PATH one (DT_PATH_LEN bytes, not NUL-terminated). */
typedef int (*dt_event_fn)(void *ctx, const struct dt_event *ev,
			   const uint8_t *data);

struct dt_capture;

/* Loads and attaches the probes with the selectors in place (none: the
 * probes idle until dt_capture_set_selectors or _set_tcp_events wakes
 * them). On success *out is owned by the caller (dt_capture_close). On
 * failure returns a negative errno and writes a one-line explanation to
 * err. DT_EV_DATA/SENDFILE events of sockets an `all` selector captured
 * carry DT_SEL_LOCAL_PORT (server end) or DT_SEL_REMOTE_PORT (client end)
 * when the probes or the listening sockets tell; sels is copied. */
int dt_capture_open(struct dt_capture **out, const struct dt_selector *sels,
		    size_t nsels, size_t ringbuf_bytes, dt_event_fn fn,
		    void *ctx, char *err, size_t errlen);
/* Replaces the selection (sels is copied; selectors may overlap). Sockets
 * captured before stay captured while still selected, and end with a
 * DT_EV_CLOSE at their next syscall when no longer. With nsels == 0 and
 * no TCP events the probes idle and forget every socket (the caller ends
 * the connections it holds). Returns 0 or a negative errno. */
int dt_capture_set_selectors(struct dt_capture *c,
			     const struct dt_selector *sels, size_t nsels);
/* Turns DT_EV_TCP events (host-wide connects, failed connects,
 * retransmits, resets) on or off. Returns 0 or a negative errno. */
int dt_capture_set_tcp_events(struct dt_capture *c, bool on);
/* Converts a DT_EV_TCP event (data: its payload, as given to dt_event_fn)
 * to the public form. Returns 0, or -EINVAL for another or a malformed
 * event. */
int dt_capture_tcp_event(const struct dt_event *ev, const uint8_t *data,
			 struct dt_tcp_event *out);
/* Delivers pending events to fn; waits up to timeout_ms for the first.
 * Returns the number of events, or a negative errno (-EINTR on signal). */
int dt_capture_poll(struct dt_capture *c, int timeout_ms);
/* Sums the per-CPU counters, indexed by enum dt_drop_reason/dt_stat. */
int dt_capture_stats(struct dt_capture *c, uint64_t out[DT_STAT_MAX]);
/* Attaches prog into *link (on) or destroys *link (off); nothing when it
 * already is so. Idle probes are detached: an attached syscall program
 * costs every syscall of every process a few tens of ns, selected or
 * not. 0 or a negative errno. */
struct bpf_link;
struct bpf_program;
int dt_bpf_link_set(struct bpf_link **link, struct bpf_program *prog,
		    bool on);
void dt_capture_close(struct dt_capture *c);

/* ---- assembler.c ---- */

/* Receives each finished exchange; it stays owned by the assembler and is
 * released after the call returns. A non-zero return stops the intake. */
typedef int (*dt_exchange_fn)(void *ctx, struct dt_exchange *x);

struct dt_assembler_stats {
	uint64_t gaps;          /* stream gaps (bytes lost) detected */
	uint64_t incomplete;    /* exchanges flagged incomplete */
	uint64_t unpaired;      /* responses with no request to pair with */
	uint64_t conns;         /* connections currently tracked */
	uint64_t malformed;     /* messages the codec rejected */
	uint64_t buffered;      /* bytes held in streams and pending queues */
	uint64_t evicted;       /* streams dropped to honour the memory limit */
};

struct dt_assembler;

/* max_message: bytes kept per message before it is cut (0 = 64 MiB).
 * *out is owned by the caller (dt_assembler_free). */
int dt_assembler_new(struct dt_assembler **out, size_t max_message,
		     dt_exchange_fn fn, void *ctx);
int dt_assembler_event(struct dt_assembler *a, const struct dt_event *ev,
		       const uint8_t *data);
/* Ends the connections whose close was reported more than a grace
 * period before now_ns (CLOCK_MONOTONIC): a syscall that raced with the
 * close may still deliver data after the close event. */
int dt_assembler_expire(struct dt_assembler *a, uint64_t now_ns);
/* Decode every connection as "http", "http2", "redis" or "mysql" instead of
 * detecting the protocol. 0 or -EINVAL for an unknown name. */
int dt_assembler_force_protocol(struct dt_assembler *a, const char *name);
/* Bounds the bytes buffered over all connections: past limit, the
 * connections fed least recently lose their buffered bytes (as a gap: the
 * exchanges concerned are flagged incomplete), counted in evicted.
 * 0 = no bound. */
void dt_assembler_set_memory_limit(struct dt_assembler *a, size_t limit);
/* Ends every tracked connection as if it closed now (end of recording). */
int dt_assembler_finish(struct dt_assembler *a);
void dt_assembler_get_stats(const struct dt_assembler *a,
			    struct dt_assembler_stats *st);
void dt_assembler_free(struct dt_assembler *a);

/* Nanoseconds to add to bpf_ktime_get_ns() to get CLOCK_REALTIME. */
uint64_t dt_clock_realtime_offset(void);



/* ---- connection state shared by assembler.c and http_pair.c ---- */

/* When a range of stream bytes arrived (for message timings). */
struct dt_mark {
	uint64_t off;   /* stream offset of the first byte of an event */
	uint64_t ts;    /* its CLOCK_MONOTONIC time */
};

/* One direction of a connection: bytes not yet consumed by the codec. */
struct dt_stream {
	uint64_t next;     /* stream offset expected next */
	uint64_t base;     /* stream offset of buf[0] */
	uint8_t *buf;
	size_t len, cap;
	struct dt_mark *marks;
	size_t nmarks, capmarks;
	uint64_t holes;    /* bytes sent with sendfile() inside buf's message */
	bool started;
};

struct dt_tuple {
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint16_t lport;
	uint16_t rport;
	uint16_t family;
};

struct dt_proto_ops;

struct dt_conn {
	uint64_t id;
	struct dt_tuple tuple;
	struct dt_endpoint local;
	char path[108];        /* Unix sockets: the path, "" when unnamed */
	uint32_t sel;
	int req_dir;           /* DT_DIR_* carrying requests, -1 unknown */
	const struct dt_proto_ops *proto; /* NULL until detected */
	void *state;           /* the protocol's per-connection state */
	bool midstream;        /* joined an open connection */
	/* the first bytes may not start a message (joined, or a Unix
	 * socket whose position is unknown): decoders resynchronise */
	bool resync_start;
	bool peer_only;        /* identity of a socket traced at its peer */
	bool mirrored;         /* both ends traced with payload (loopback) */
	bool ignored;          /* not a protocol we decode */
	bool tls;              /* plaintext taken inside OpenSSL */
	uint64_t closed_ts;    /* when the close was reported, 0 if open */
	/* stream lengths the TCP close reported (by DT_DIR_*), 0 unknown */
	uint64_t end_pos[2];
	bool lost_bytes;       /* a gap was seen: events were dropped */
	struct dt_conn *next_closed; /* closed connections, oldest first */
	/* connections holding bytes, most recently fed first (eviction) */
	struct dt_conn *lru_prev, *lru_next;
	uint64_t held;         /* bytes counted in the assembler's buffered */
	struct dt_stream s[2];
	UT_hash_handle hh;     /* by id */
	UT_hash_handle hh_tuple;
};

/* CLOCK_MONOTONIC time of the event that carried stream offset off (at
 * or after s->base). */
uint64_t dt_stream_time_at(const struct dt_stream *s, uint64_t off);

/* Removes n bytes from the front of s; gives the times of their first
 * and last byte. */
void dt_stream_consume(struct dt_stream *s, size_t n, uint64_t *start_ts,
		       uint64_t *end_ts);

/* Fills x's endpoints and connection id from c, converts times to
 * CLOCK_REALTIME, passes x on unless the peer records it, and releases
 * it. Returns what the exchange callback returned. */
int dt_assembler_emit(struct dt_assembler *a, struct dt_conn *c,
		      struct dt_exchange *x);
/* Hands c to decoder p from now on (an HTTP/1 upgrade): the current
 * decoder's state is freed and state (owned by c from here) replaces it,
 * then the bytes buffered in both directions go to p. The caller's state
 * is gone when this returns: it must return at once. */
int dt_assembler_switch_protocol(struct dt_assembler *a, struct dt_conn *c,
				 const struct dt_proto_ops *p, void *state);
/* Counts a response no request could be paired with. */
void dt_assembler_count_unpaired(struct dt_assembler *a);
/* Counts a message the codec rejected. */
void dt_assembler_count_malformed(struct dt_assembler *a);

/* ---- pairing.c: requests waiting for their responses ---- */

/* A complete request waiting for its response. */
struct dt_pending {
	uint8_t *bytes;
	size_t len;
	uint64_t start_ts, end_ts;
	uint32_t flags;        /* DT_XF_* the exchange will carry */
	bool lost;             /* stands for requests lost in a gap */
	uint32_t kind;         /* the protocol's own notes on the request */
	int64_t expect;        /* the protocol's count of replies due */
	struct dt_pending *next;
};

struct dt_pending_queue {
	struct dt_pending *head, *tail;
	size_t bytes;          /* request bytes queued (memory accounting) */
};

/* Fills an exchange's summary attributes from its raw bytes. */
typedef int (*dt_summarize_fn)(struct dt_exchange *x);

/* Moves the first n bytes of s into a new request at the queue's tail.
 * Returns it (owned by the queue), NULL when out of memory. */
struct dt_pending *dt_pending_take(struct dt_pending_queue *q,
				  struct dt_stream *s, size_t n,
				  uint32_t flags);
/* Unlinks the oldest request; the caller owns it. */
struct dt_pending *dt_pending_pop(struct dt_pending_queue *q);
void dt_pending_free(struct dt_pending *p);
void dt_pending_clear(struct dt_pending_queue *q);
/* Emits p with the response bytes given (copied; none = no response)
 * and frees p. */
int dt_pair_emit(struct dt_assembler *a, struct dt_conn *c,
		 uint32_t protocol, dt_summarize_fn summarize,
		 struct dt_pending *p, const uint8_t *resp, size_t resp_len,
		 uint64_t resp_start, uint64_t resp_end, uint32_t flags);
/* Emits every waiting request as unanswered, with flags added. */
int dt_pair_flush(struct dt_assembler *a, struct dt_conn *c,
		  uint32_t protocol, dt_summarize_fn summarize,
		  struct dt_pending_queue *q, uint32_t flags);
/* Copies a slice into an attribute (cut at 2 KiB). */
int dt_set_slice_attr(struct dt_exchange *x, const char *key,
		      const uint8_t *ptr, size_t len);

/* ---- protocols: one decoder each behind one interface ---- */

struct dt_proto_ops {
	const char *name;
	/* Decides from the bytes buffered in c->s[dir] (the first seen on
	 * the connection) whether it speaks this protocol: returns 1 and sets
	 * c->req_dir, 0 when it does not, -EAGAIN when it needs more bytes. */
	int (*detect)(struct dt_conn *c, int dir);
	/* Per-connection state, owned by the connection. */
	void *(*conn_new)(void);
	void (*conn_free)(void *state);
	/* New bytes in c->s[dir]. */
	int (*on_data)(struct dt_assembler *a, struct dt_conn *c, int dir);
	/* n bytes of c->s[dir] will never arrive; why holds the exchange
	 * flags that say why (DT_XF_INCOMPLETE, _SENDFILE, _TRUNCATED).
	 * Returns 1 when the hole was accounted for inside the message being
	 * read (its bytes stay buffered), 0 when the caller drops the
	 * buffered bytes, or a negative errno. */
	int (*on_gap)(struct dt_assembler *a, struct dt_conn *c, int dir,
		      uint64_t n, uint32_t why);
	/* The connection ended: flush what is pending. */
	int (*on_close)(struct dt_assembler *a, struct dt_conn *c);
	/* Bytes the state holds outside c->s (waiting requests, replies
	 * gathered so far), for the memory bound; NULL when none. */
	size_t (*held)(const void *state);
};

extern const struct dt_proto_ops dt_proto_http1;
extern const struct dt_proto_ops dt_proto_redis;
extern const struct dt_proto_ops dt_proto_mysql;
extern const struct dt_proto_ops dt_proto_http2;

/* ---- h2_pair.c ---- */

/* A 101 the HTTP/1 decoder read: req[0..req_len) is the request waiting,
 * whole, resp[0..resp_len) the 101. When both agree on h2c, *state gets
 * the HTTP/2 decoder's state for the connection (for
 * dt_assembler_switch_protocol(); the caller owns it until then), with
 * the request as stream 1 stamped ts, and 1 is returned; 0 when this is
 * not an h2c upgrade, or -ENOMEM. */
int dt_h2_upgrade_state(void **state, const uint8_t *req, size_t req_len,
			const uint8_t *resp, size_t resp_len, uint64_t ts);

/* ---- h2_exchange.c ---- */

/* Fills x (initialised here; released by the caller, or by
 * dt_assembler_emit()) with a finished HTTP/2 stream: stored request and
 * response, attributes, flags, and the times the codec stamped. joined:
 * the decoder joined the connection part-way. 0 or -ENOMEM (x released). */
int dt_h2_stream_to_exchange(const struct dt_h2_stream *s, bool joined,
			     struct dt_exchange *x);

#endif /* DEETUNE_RECORDER_INT_H */
