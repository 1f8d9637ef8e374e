/* SPDX-License-Identifier: MIT */
/*
 * formats: DeeTune's byte formats. Pure code: exchange records, the session
 * file format and the wire-protocol codecs. Nothing here knows about BPF,
 * sockets or files: writers emit bytes through a sink, readers work on a
 * buffer the caller owns.
 *
 * Errors are negative errno-style codes; functions that can fail with a
 * message worth showing to a user also fill a caller-provided string.
 */
#ifndef DEETUNE_FORMATS_H
#define DEETUNE_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------------------------------------------------------------------- */
/* Exchange records                                                        */
/* ---------------------------------------------------------------------- */

enum dt_protocol {
	DT_PROTO_UNKNOWN = 0,
	DT_PROTO_HTTP1 = 1,
	DT_PROTO_REDIS = 2,
	DT_PROTO_MYSQL = 3,
	DT_PROTO_HTTP2 = 4,   /* gRPC too: see the attr grpc.service */
};
/* The highest protocol number: protocols run from DT_PROTO_HTTP1 to it. */
#define DT_PROTO_LAST DT_PROTO_HTTP2

/* "http", "redis", "mysql", "http2" or "unknown"; never NULL. */
const char *dt_protocol_name(uint32_t protocol);

/* Exchange flags: stored in the file, shown by `cat` under their names. */
enum dt_exchange_flag {
	DT_XF_INCOMPLETE = 1u << 0,  /* bytes missing inside the exchange (gap) */
	DT_XF_TRUNCATED = 1u << 1,   /* bytes past a capture limit not stored */
	DT_XF_SENDFILE = 1u << 2,    /* response body went through sendfile() */
	DT_XF_NO_RESPONSE = 1u << 3, /* connection or recording ended first */
	DT_XF_MALFORMED = 1u << 4,   /* codec rejected the bytes */
	DT_XF_MIDSTREAM = 1u << 5,   /* recording joined an open connection */
	DT_XF_TLS = 1u << 6,         /* plaintext of a TLS connection */
};
#define DT_XF_ALL 0x7fu

/* Name of a single flag bit ("incomplete", ...), NULL for unknown bits. */
const char *dt_exchange_flag_name(uint32_t bit);

/* Address families as stored in files (independent of the host's AF_*). */
enum dt_family {
	DT_FAMILY_NONE = 0,
	DT_FAMILY_UNIX = 1,   /* Unix stream socket: see dt_endpoint.path */
	DT_FAMILY_IPV4 = 4,
	DT_FAMILY_IPV6 = 6,
};

struct dt_endpoint {
	uint8_t family;    /* enum dt_family */
	uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
	uint16_t port;     /* host byte order */
	uint32_t pid;      /* process id (tgid), 0 when not on this host */
	char comm[16];     /* NUL-terminated process name, "" when unknown */
	uint64_t cgroup_id;/* cgroup v2 id, 0 when unknown */
	/* DT_FAMILY_UNIX: the socket path, "@name" for an abstract one,
	 * "" when unnamed; NUL-terminated */
	char path[108];
};

/* Formats "127.0.0.1:80", "[::1]:80" or a Unix socket's path
 * ("unix:/run/redis.sock", "unix:" when unnamed) into buf; returns the
 * length or -ENOSPC. An endpoint without family formats as "-". */
int dt_endpoint_format(const struct dt_endpoint *ep, char *buf, size_t size);

/* A key/value pair of NUL-terminated strings. */
struct dt_attr {
	char *key;
	char *value;
};

/*
 * One request/response pair. An exchange owns every buffer it points to:
 * attrs (keys and values), request and response. dt_exchange_release()
 * frees them and re-initialises the struct.
 */
struct dt_exchange {
	uint64_t id;        /* 1-based sequence number within a session */
	uint64_t conn_id;   /* connection identifier within a session */
	uint64_t link_id;   /* replay: id of the recorded exchange, else 0 */
	uint32_t protocol;  /* enum dt_protocol */
	uint32_t flags;     /* enum dt_exchange_flag bits */
	struct dt_endpoint client;
	struct dt_endpoint server;
	/* CLOCK_REALTIME nanoseconds; 0 when unknown */
	uint64_t req_start_ns, req_end_ns;
	uint64_t resp_start_ns, resp_end_ns;
	/* parsed summary used for filtering: "method", "path", "status", ... */
	size_t nattrs;
	struct dt_attr *attrs;
	uint8_t *request;
	size_t request_len;
	uint8_t *response;
	size_t response_len;
};

void dt_exchange_init(struct dt_exchange *x);
/* Frees everything the exchange owns and re-initialises it. */
void dt_exchange_release(struct dt_exchange *x);
/* Copies key and value; replaces an existing key. 0 or -ENOMEM. */
int dt_exchange_set_attr(struct dt_exchange *x, const char *key,
			 const char *value);
/* Borrowed pointer into x, NULL when absent. */
const char *dt_exchange_attr(const struct dt_exchange *x, const char *key);
/* Copies len bytes into x->request / x->response. 0 or -ENOMEM. */
int dt_exchange_set_request(struct dt_exchange *x, const void *data,
			    size_t len);
int dt_exchange_set_response(struct dt_exchange *x, const void *data,
			     size_t len);

/* Length of the well-formed UTF-8 sequence at p[0..n) (Unicode table
 * 3-7), 0 when the bytes there are not one. n must be at least 1. */
size_t dt_utf8_seq_len(const uint8_t *p, size_t n);

/* Refuses a POSIX extended regex that would make regcomp() build a huge
 * tree (stacked quantifiers, nested repetitions past a bound) or match in
 * exponential time (backreferences): user patterns pass here before
 * regcomp(). 0, or -EINVAL with why in err. */
int dt_regex_check(const char *re, size_t len, char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/* Session files (format documented in man/deetune-session.5)              */
/* ---------------------------------------------------------------------- */

#define DT_SESSION_VERSION 1

/* Where a writer's bytes go; write() returns 0 or a negative errno. */
struct dt_session_sink {
	int (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
};

struct dt_session_writer_opts {
	int zstd_level;      /* 0 = default (3) */
	size_t frame_bytes;  /* close a frame once this much raw data is
				buffered; 0 = default (1 MiB) */
};

struct dt_session_writer;

/*
 * Creates a writer and writes the file header carrying the metadata pairs
 * (copied). On success *out is owned by the caller: release it with
 * dt_session_writer_free(). Returns 0 or a negative errno.
 */
int dt_session_writer_new(struct dt_session_writer **out,
			  const struct dt_session_sink *sink,
			  const struct dt_attr *meta, size_t nmeta,
			  const struct dt_session_writer_opts *opts);
/* Appends a copy of x to the current frame; closes the frame when it is
 * full. x stays owned by the caller. */
int dt_session_writer_append(struct dt_session_writer *w,
			     const struct dt_exchange *x);
/* Compresses and writes the buffered records as one frame (no-op when
 * empty), so that a crash afterwards loses nothing written so far. */
int dt_session_writer_flush(struct dt_session_writer *w);
/* Flushes, then writes the index and the trailer with the final statistics
 * (copied). No append after this. */
int dt_session_writer_finish(struct dt_session_writer *w,
			     const struct dt_attr *stats, size_t nstats);
/* After a failed write, once the caller has cut its file back to
 * dt_session_writer_bytes() bytes (what was written whole): clears the
 * error and drops the records of the frame that failed, so that
 * dt_session_writer_finish() can still write the index and trailer (e.g.
 * after a full disk, once space is freed). 0, or -EINVAL when no write had
 * failed. */
int dt_session_writer_recover(struct dt_session_writer *w);
uint64_t dt_session_writer_exchanges(const struct dt_session_writer *w);
uint64_t dt_session_writer_bytes(const struct dt_session_writer *w);
void dt_session_writer_free(struct dt_session_writer *w);

struct dt_session_reader;

/*
 * Opens a session held in data[0..len) (borrowed: it must outlive the
 * reader). Validates the header; on error returns a negative errno and
 * writes a message to err. On success *out is owned by the caller.
 */
int dt_session_reader_open(struct dt_session_reader **out,
			   const uint8_t *data, size_t len,
			   char *err, size_t errlen);
/* Header metadata (borrowed). */
const struct dt_attr *dt_session_reader_meta(const struct dt_session_reader *r,
					     size_t *n);
/* Trailer statistics (borrowed), NULL when the file has no trailer. */
const struct dt_attr *dt_session_reader_stats(const struct dt_session_reader *r,
					      size_t *n);
/* True once the trailer was found and verified. */
bool dt_session_reader_has_trailer(const struct dt_session_reader *r);
/*
 * Reads the next exchange into x (released first, then owned by caller).
 * Returns 1 when x holds an exchange, 0 at the clean end of the file,
 * a negative errno on corrupt or truncated input (message from
 * dt_session_reader_error()). Exchanges returned before an error are
 * valid: they come from frames that passed their checksums.
 */
int dt_session_reader_next(struct dt_session_reader *r, struct dt_exchange *x);
const char *dt_session_reader_error(const struct dt_session_reader *r);
void dt_session_reader_free(struct dt_session_reader *r);

/* ---------------------------------------------------------------------- */
/* HTTP/1.x codec                                                          */
/* ---------------------------------------------------------------------- */

#define DT_HTTP1_MAX_HEADERS 128

/* A byte range borrowed from the message buffer (not NUL-terminated). */
struct dt_slice {
	const uint8_t *ptr;
	size_t len;
};

struct dt_http1_header {
	struct dt_slice name;
	struct dt_slice value;
};

/* The parsed start line and header block of one message. */
struct dt_http1_head {
	bool is_request;
	struct dt_slice method;   /* requests */
	struct dt_slice target;   /* requests */
	int version_minor;        /* HTTP/1.<minor> */
	int status;               /* responses */
	struct dt_slice reason;   /* responses */
	size_t head_len;          /* bytes up to and including the blank line */
	size_t nheaders;
	struct dt_http1_header headers[DT_HTTP1_MAX_HEADERS];
};

/*
 * Parses the head of a request (is_request) or response at buf[0..len).
 * Returns head_len (> 0) when complete, 0 when more bytes are needed,
 * -EBADMSG when the bytes are not HTTP/1.x, -E2BIG when the head exceeds
 * limit bytes (0: 64 KiB) or DT_HTTP1_MAX_HEADERS headers. Empty lines
 * before the start line are skipped and counted in head_len.
 */
ssize_t dt_http1_parse_head(const uint8_t *buf, size_t len, bool is_request,
			    size_t limit, struct dt_http1_head *head);

/* Case-insensitive header lookup; NULL when absent. */
const struct dt_http1_header *
dt_http1_find_header(const struct dt_http1_head *head, const char *name);

/*
 * Incremental message framing for one direction of one connection.
 * The caller keeps the bytes of the current message from its first byte and
 * calls dt_http1_framer_scan() with all of them after each append; the framer
 * remembers how far it got, so the total work stays linear.
 */
enum dt_http1_scan {
	DT_HTTP1_NEED_MORE = 0,
	DT_HTTP1_COMPLETE = 1,   /* framer->msg_len bytes form one message */
};

struct dt_http1_framer {
	bool is_request;
	size_t head_limit;        /* max head size; 0 = default 64 KiB */
	/* set by the caller before scanning a response: */
	bool request_was_head;    /* response to HEAD: no body */
	bool request_was_connect; /* response to CONNECT: 2xx ends framing */
	/* results: */
	size_t msg_len;           /* valid after DT_HTTP1_COMPLETE */
	int status;               /* responses: status code once head parsed */
	bool body_until_close;    /* response delimited by connection close */
	bool upgraded;            /* 101 / CONNECT: later bytes are not HTTP */
	/* private scanning state */
	int state;
	size_t pos;
	uint64_t remaining;
	size_t head_len;
};

void dt_http1_framer_init(struct dt_http1_framer *f, bool is_request);
/* Forget the current message (keeps is_request and head_limit; clears
 * request_was_head/connect, so set them again before each response). */
void dt_http1_framer_reset(struct dt_http1_framer *f);
/* Returns DT_HTTP1_NEED_MORE, DT_HTTP1_COMPLETE, or a negative errno
 * (-EBADMSG malformed, -E2BIG head too large). Results stick until reset:
 * COMPLETE again with the same msg_len, or the same error. -EINVAL when
 * len is below the length an earlier call scanned. */
int dt_http1_framer_scan(struct dt_http1_framer *f, const uint8_t *buf,
			 size_t len);
/* The connection closed: a body delimited by close is complete now.
 * Returns DT_HTTP1_COMPLETE or DT_HTTP1_NEED_MORE (message cut short). */
int dt_http1_framer_eof(struct dt_http1_framer *f, size_t len);

/*
 * Finds the first offset in buf[0..len) where a plausible request line
 * (is_request) or status line starts, for joining a stream mid-connection
 * or recovering after a gap. Returns len when there is none. A candidate
 * cut short by the end of buf counts (the bytes there fit so far): keep
 * the bytes from the returned offset and call again when more arrive.
 */
size_t dt_http1_resync(const uint8_t *buf, size_t len, bool is_request);

/* True when buf starts like an HTTP/1 request (or a prefix of one). */
bool dt_http1_looks_like_request(const uint8_t *buf, size_t len);

/*
 * Parses the head of the final response in buf, past any 1xx interim
 * responses (100 Continue, 103 Early Hints) stored before it. Returns the
 * offset of the final response's first byte (head filled), -ENODATA when
 * a head is incomplete, or dt_http1_parse_head()'s error.
 */
ssize_t dt_http1_parse_final_response(const uint8_t *buf, size_t len,
				      struct dt_http1_head *head);

/* Redis RESP2/RESP3 */
#include "formats/resp.h"
/* MySQL/MariaDB client/server protocol */
#include "formats/mysql.h"
/* packets for pcap export */
#include "formats/pcap.h"
#include "formats/http2.h"

#endif /* DEETUNE_FORMATS_H */
