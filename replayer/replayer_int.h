/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces between the replayer's parts:
 *   target.c        target URLs, credentials
 *   http_request.c  a recorded HTTP request rebuilt for sending (pure)
 *   schedule.c      pacing, rate and concurrency gate shared by engines
 *   load.c          the recorded session: selection, order, connections
 *   output.c        the replayed session: exchanges built and written
 *   endpoint.c      socket addresses as session endpoints
 *   progress.c      the live progress line
 *   http.c          HTTP engine (libcurl multi, one thread)
 *   redis.c         Redis engine (hiredis, one thread, poll loop)
 *   mysql_plan.c    recorded MySQL connections decoded into operations
 *   mysql.c         MySQL engine (libmariadb, a thread per connection)
 *   mysql_result.c  libmariadb results as the codec's summary
 *   replay.c        dt_replay_run(): the whole run
 *
 * Threads: each engine runs in its own thread (MySQL: one per recorded
 * connection); they share the gate (its own lock), the output (its own
 * lock) and the per-protocol target state (atomics and the output lock).
 */
#ifndef DEETUNE_REPLAYER_INT_H
#define DEETUNE_REPLAYER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "formats/formats.h"
#include "replayer/replayer.h"

/* Attribute carrying why a replayed exchange has no (whole) response. */
#define RP_ATTR_ERROR "replay.error"

/* Bytes kept of one replayed response; past it the rest is dropped and
 * the exchange flagged truncated (as the recorder does). */
#define RP_MAX_RESPONSE ((size_t)64 << 20)

uint64_t rp_now(void);       /* CLOCK_MONOTONIC, ns */
uint64_t rp_realtime(void);  /* CLOCK_REALTIME, ns */

/* ---- buf.c: a growable byte buffer with a size cap ---- */

struct rp_buf {
	uint8_t *data;
	size_t len, cap;
	size_t max;          /* 0: RP_MAX_RESPONSE */
	bool overflow;       /* bytes past max were dropped */
};

/* Appends what fits under the cap (the rest sets overflow). 0 or
 * -ENOMEM. */
int rp_buf_append(struct rp_buf *b, const void *p, size_t n);
/* Drops the first n bytes. */
void rp_buf_consume(struct rp_buf *b, size_t n);
void rp_buf_release(struct rp_buf *b);

/* ---- http_request.c ---- */

struct rp_header {
	char *name;
	char *value;
};

/* A recorded HTTP request as it will be sent: everything owned. */
struct rp_http_request {
	char *method;
	char *target;
	int version_minor;
	bool h2;             /* an HTTP/2 exchange: sent over HTTP/2 */
	struct rp_header *headers;  /* the first is Host (HTTP/2: the
				       :authority) */
	size_t nheaders;
	uint8_t *body;       /* de-chunked; NULL with body_len 0 when none */
	size_t body_len;
	bool has_body;       /* send a Content-Length (even 0) */
	bool no_length;      /* HTTP/2: the recording had no content-length,
				so none is sent (the stream's end frames
				the body, as gRPC clients do) */
};

/*
 * Rebuilds the request at buf[0..len): start line and body as recorded,
 * headers in order without the hop-by-hop ones the client library manages
 * (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade,
 * Transfer-Encoding, Content-Length), Host set to host, then the edits
 * applied in order (set: replace every header of that name or add it at
 * the end; drop: remove them). Returns 0, -EBADMSG when buf does not hold
 * one whole request (message in err), or -ENOMEM. On success r owns its
 * parts: rp_http_request_release().
 */
int rp_http_request_build(struct rp_http_request *r, const uint8_t *buf,
			  size_t len, const char *host,
			  const struct dt_header_edit *edits, size_t nedits,
			  char *err, size_t errlen);
void rp_http_request_release(struct rp_http_request *r);

/* Pieces shared with h2_request.c: */
/* Hop-by-hop and framing headers, which libcurl writes itself. */
bool rp_http_header_managed(struct dt_slice name);
/* Appends a copy of the header. 0 or -ENOMEM. */
int rp_http_header_add(struct rp_http_request *r, const char *name,
		       size_t nlen, const char *value, size_t vlen);
/* Applies --set-header / --drop-header edits in order. 0 or -ENOMEM. */
int rp_http_request_edit(struct rp_http_request *r,
			 const struct dt_header_edit *edits, size_t nedits);

/* ---- h2_request.c ---- */

/*
 * Rebuilds the HTTP/2 request stored at buf[0..len) (deetune-session(5):
 * field lines, a blank line, the body): method and target from :method
 * and :path, Host from host (sent as :authority), the regular headers in
 * order without the connection-specific ones (te kept when it is
 * "trailers", as gRPC needs), the edits applied, the body as stored.
 * Request trailers are not sent: libcurl has no way to send them over
 * HTTP/2 (deetune-replay(1)).
 * Returns 0, -EBADMSG when buf is not a stored request with :method and
 * :path (message in err), or -ENOMEM. On success r owns its parts
 * (rp_http_request_release()).
 */
int rp_h2_request_build(struct rp_http_request *r, const uint8_t *buf,
			size_t len, const char *host,
			const struct dt_header_edit *edits, size_t nedits,
			char *err, size_t errlen);
/*
 * The stored form of the request r as sent to scheme ("http", "https"):
 * :method, :scheme, :authority (r's Host), :path, the other headers, the
 * body. *out is malloc'd, owned by the caller. 0 or -ENOMEM.
 */
int rp_h2_request_store(const struct rp_http_request *r, const char *scheme,
			uint8_t **out, size_t *len);

/* ---- h2_response.c ---- */

/*
 * An HTTP/2 response as libcurl handed it over, stored in x: hdr holds
 * what its header callback got in order (a status line "HTTP/2 200",
 * field lines and a blank line per header block; interim 1xx blocks;
 * then, after the body, the trailer lines, with or without a blank
 * line), body what its write callback got. Sets x's response to the
 * stored form (:status, headers, blank line, body) and the attributes
 * status, h2.trailers, grpc.status and grpc.message as the recorder
 * does. Returns 0, -EBADMSG when hdr holds no final status line (x
 * untouched), or -ENOMEM.
 */
int rp_h2_response_store(struct dt_exchange *x, const uint8_t *hdr,
			 size_t hlen, const uint8_t *body, size_t blen);

/* Decodes the chunked body at buf[0..len) (from the first chunk-size line
 * to the end of the trailer) into out. 0, -EBADMSG or -ENOMEM. */
int rp_http_dechunk(const uint8_t *buf, size_t len, struct rp_buf *out);

/* ---- schedule.c ---- */

/* How long to wait before retry number attempt (0-based) of a failed
 * connection or request: 100 ms, doubling up to 3.2 s. */
uint64_t rp_retry_delay(unsigned attempt);

/*
 * The poll() timeout, in milliseconds, for an event loop that must act at
 * until (CLOCK_MONOTONIC): whole milliseconds, rounded down; the last
 * fraction of a millisecond is slept here, so that due times are met to
 * within the scheduler's latency rather than to a millisecond.
 */
int rp_poll_timeout(uint64_t now, uint64_t until);

/* Recorded time -> replay time: gaps divided by speed (0 = all at once). */
struct rp_pacer {
	uint64_t rec_t0;     /* recorded start of the first request */
	uint64_t start;      /* CLOCK_MONOTONIC when the replay began */
	double speed;
};

void rp_pacer_init(struct rp_pacer *p, uint64_t rec_t0, uint64_t start,
		   double speed);
/* When a request recorded at rec_ns is due (rec_ns 0, unknown: at once). */
uint64_t rp_pacer_due(const struct rp_pacer *p, uint64_t rec_ns);

/* Token bucket: per_sec tokens a second, holding at most burst. */
struct rp_rate {
	double per_sec;      /* 0: no cap */
	double burst;
	double tokens;
	uint64_t last;
};

void rp_rate_init(struct rp_rate *r, double per_sec, uint64_t now);
/* Takes a token: returns 0 when one was available at now, else the time
 * when one will be (nothing taken). */
uint64_t rp_rate_take(struct rp_rate *r, uint64_t now);

typedef void (*rp_wake_fn)(void *ctx);

#define RP_GATE_MAX_WAKERS 4

/* Admission of requests: concurrency and rate across all engines. */
struct rp_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC; signalled on release */
	unsigned max_inflight;
	unsigned inflight;
	struct rp_rate rate;
	bool stopped;
	rp_wake_fn wake[RP_GATE_MAX_WAKERS];
	void *wake_ctx[RP_GATE_MAX_WAKERS];
	size_t nwake;
};

int rp_gate_init(struct rp_gate *g, unsigned concurrency, double rate);
void rp_gate_destroy(struct rp_gate *g);
/* Event-loop engines register how to wake them when a slot frees or the
 * replay stops; only before the engines start. */
int rp_gate_add_waker(struct rp_gate *g, rp_wake_fn fn, void *ctx);
/* Non-blocking: 1 when a slot was taken, 0 when not (*retry_at: when the
 * rate allows one, UINT64_MAX when waiting for a release), -ECANCELED
 * once stopped. */
int rp_gate_try(struct rp_gate *g, uint64_t now, uint64_t *retry_at);
/* Blocking: waits until due (CLOCK_MONOTONIC) and a slot. 0, -ECANCELED
 * once stopped, or -EHOSTDOWN (no slot taken) once *abandon (may be NULL)
 * is set, which is looked at every 100 ms at least. */
int rp_gate_wait(struct rp_gate *g, uint64_t due, const atomic_bool *abandon);
void rp_gate_release(struct rp_gate *g);
void rp_gate_stop(struct rp_gate *g);
bool rp_gate_stopped(struct rp_gate *g);

/* ---- load.c ---- */

/* A recorded exchange chosen for replay. */
struct rp_item {
	struct dt_exchange rec;  /* HTTP, Redis: response dropped */
	uint64_t due;            /* CLOCK_MONOTONIC; set when the run starts */
	/* MySQL (mysql_plan.c): why it cannot be replayed, static text;
	 * HTTP and Redis find out when they build the request */
	const char *skip;
	void *op;                /* MySQL: its struct rp_mysql_op */
	bool unselected;         /* load.c: a MySQL handshake --match left
				    out, kept for its connection */
};

/* A recorded connection of a protocol that keeps order (Redis, MySQL). */
struct rp_conn {
	uint64_t conn_id;
	struct rp_item **items;  /* in recorded order */
	size_t n;
};

/* How reachable a target proved: "down" once a connection attempt failed
 * before any succeeded; the rest of its requests then fail at once. */
struct rp_target_state {
	atomic_bool connected;
	atomic_bool down;
	atomic_flag reported;
};

/* The exchanges of one protocol. */
struct rp_batch {
	uint32_t protocol;
	const struct dt_target *target;   /* NULL: none given */
	char target_text[300];            /* dt_target_format() */
	struct rp_item **items;           /* by due time */
	size_t n;
	struct rp_conn *conns;            /* Redis, MySQL */
	size_t nconns;
	struct rp_target_state state;
	bool progress;                    /* a progress line may be shown */
};

struct rp_session {
	struct rp_item *items;   /* every selected exchange, file order */
	size_t n;
	uint64_t rec_t0;         /* earliest recorded request start */
	uint64_t unknown;        /* exchanges of no known protocol */
	struct rp_batch batch[3]; /* HTTP, Redis, MySQL */
};

/* The batch of a protocol, NULL for an unknown one; HTTP/2 exchanges go
 * to the HTTP batch (its protocol is DT_PROTO_HTTP1). */
struct rp_batch *rp_session_batch(struct rp_session *s, uint32_t protocol);

/*
 * Reads every exchange of the session chosen by select (NULL: all) and
 * groups them. Returns 0, or -EBADMSG / -ENOMEM after printing why (s
 * then holds nothing): a session that does not read to its end is not
 * replayed.
 */
int rp_session_load(struct rp_session *s, const struct dt_replay_opts *o);
void rp_session_release(struct rp_session *s);
/* Sets each item's due time (the batches' order stays right: pacing
 * keeps the recorded order). */
void rp_session_schedule(struct rp_session *s, const struct rp_pacer *p);

/* ---- output.c ---- */

enum rp_outcome {
	RP_ANSWERED,   /* the target answered */
	RP_FAILED,     /* sent, or due, and not (wholly) answered */
	RP_SKIPPED,    /* not replayable */
};

struct rp_output {
	pthread_mutex_t lock;
	int fd;
	struct dt_session_writer *w;
	int error;                /* first write error */
	uint64_t next_id;
	uint64_t count[3];        /* per enum rp_outcome */
	atomic_uint_fast64_t next_conn;
};

/* Creates (truncates) path and writes the session header. 0 or a negative
 * errno after printing why. */
int rp_output_open(struct rp_output *o, const char *path,
		   const struct dt_attr *meta, size_t nmeta);
/* Appends x with the next id and counts its outcome; thread-safe. x NULL
 * counts an exchange that could not be built (out of memory), which is
 * an error as a failed write is: the first one is remembered
 * (rp_output_finish returns it) and later exchanges are dropped. */
void rp_output_emit(struct rp_output *o, struct dt_exchange *x,
		    enum rp_outcome outcome);
void rp_output_flush(struct rp_output *o);
/* Sum of the outcome counts so far. */
uint64_t rp_output_done(struct rp_output *o, uint64_t *failed);
/* A fresh connection id for the replayed session. */
uint64_t rp_output_conn_id(struct rp_output *o);
/* Writes the trailer; returns the first write error (or 0). */
int rp_output_finish(struct rp_output *o, const struct dt_attr *stats,
		     size_t nstats);
void rp_output_close(struct rp_output *o);

/*
 * Starts the replayed exchange of item: protocol, link_id, the recorded
 * request bytes and its request-side summary attributes (the response's,
 * such as "status" or "response.kind", are left to the engine).
 * 0 or -ENOMEM; x is released on failure.
 */
int rp_exchange_begin(struct dt_exchange *x, const struct rp_item *item);

/* Writes the exchange of an item that got no response: the recorded
 * request, flag no-response, RP_ATTR_ERROR why. */
struct rp_ctx;
void rp_emit_failure(struct rp_ctx *ctx, const struct rp_item *item,
		     const struct dt_endpoint *client,
		     const struct dt_endpoint *server, uint64_t start_real,
		     const char *why, enum rp_outcome outcome);

/* ---- endpoint.c ---- */

/* The local (peer false) or remote end of a connected socket; the local
 * end gets this process' pid and name. 0 or a negative errno. */
int rp_endpoint_from_fd(int fd, bool peer, struct dt_endpoint *ep);
/* From an address in text form (as libcurl reports it). */
int rp_endpoint_from_ip(const char *ip, long port, bool local,
			struct dt_endpoint *ep);

/* ---- progress.c ---- */

struct rp_progress {
	bool enabled;
	bool shown;
	uint64_t start;
	uint64_t drawn;          /* when the line was last drawn */
};

void rp_progress_init(struct rp_progress *p, bool enabled, uint64_t now);
/* Redraws the line, at most five times a second, once the run is older
 * than a second. end_due: when the last request is due (pacing bounds the
 * ETA from below). */
void rp_progress_update(struct rp_progress *p, uint64_t done,
			uint64_t failed, uint64_t total, uint64_t end_due,
			uint64_t now);
/* Erases the line, if shown. */
void rp_progress_end(struct rp_progress *p);
/* Formats the line without the terminal control bytes; for tests. */
int rp_progress_format(char *buf, size_t size, uint64_t done,
		       uint64_t failed, uint64_t total, uint64_t elapsed,
		       uint64_t eta);

/* ---- replay.c: what the engines share ---- */

struct rp_ctx {
	const struct dt_replay_opts *opts;
	struct rp_gate gate;
	struct rp_pacer pacer;
	struct rp_output out;
	struct rp_session session;
};

/*
 * The batch's target could not be reached (a connection attempt failed,
 * including authentication): the first time, prints "TARGET: why" on
 * stderr; when no connection ever succeeded, marks the target down.
 */
void rp_target_failed(struct rp_batch *b, const char *why);
void rp_target_connected(struct rp_batch *b);
bool rp_target_down(struct rp_batch *b);
/* Text for the requests a down target did not get. */
#define RP_NOT_SENT "not sent: the target is unreachable"

/* ---- engines ---- */

/*
 * An engine replays one protocol's batch. prepare runs in the main thread
 * before any engine starts (it registers gate wakers and may print why it
 * cannot run); run runs in the engine's own thread and returns 0 or a
 * negative errno; release runs after every engine thread has ended, also
 * after a failed prepare (state may then be NULL).
 */
struct rp_engine_ops {
	int (*prepare)(struct rp_ctx *ctx, struct rp_batch *b, void **state);
	int (*run)(void *state);
	void (*release)(void *state);
};

extern const struct rp_engine_ops rp_http_engine;
extern const struct rp_engine_ops rp_redis_engine;
extern const struct rp_engine_ops rp_mysql_engine;

#endif /* DEETUNE_REPLAYER_INT_H */
