/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces between the parts of the MySQL codec:
 *   mysql_wire.h     bounds-checked reading of protocol primitives
 *   mysql_stream.c   feeding: packets, multi-packet payloads, resync, gaps
 *   mysql_conn.c     connection state, request queue, events
 *   mysql_request.c  client commands -> request summaries
 *   mysql_response.c server packets -> response state machine
 *   mysql_packets.c  decoders of single packets (greeting, OK, rows, ...)
 *   mysql_values.c   binary-protocol values and their rendering
 *   mysql_stmt.c     prepared statements known on a connection
 *   mysql_summary.c  summary allocation, results, kinds
 *   mysql_detect.c   recognising MySQL bytes (detection, resync)
 * and, on the public API only: mysql_attrs.c (summary -> attributes),
 * mysql_decode.c (stored exchanges), mysql_redact.c (credentials),
 * mysql_sql.c (normalising SQL), mysql_names.c (command / type names).
 */
#ifndef DEETUNE_FORMATS_MYSQL_INT_H
#define DEETUNE_FORMATS_MYSQL_INT_H

#include "formats/mysql.h"
#include "formats/mysql_wire.h"

#define MYSQL_HEADER_LEN 4
#define MYSQL_MAX_PACKET 0xffffffu
/* Bytes of a multi-packet payload (>= 16 MiB) kept for decoding it: the
 * summary never needs more (64 KiB of SQL after a command's few bytes),
 * the caller holds the raw bytes anyway. */
#define MYSQL_PREFIX_MAX (64 * 1024 + 64)
/* Requests sent before the response to the first one (pipelining). */
#define MYSQL_QUEUE_MAX 64
/* Bytes kept of identifiers (schema, table, column names) and of other
 * short strings (user, versions, plugin names, messages). */
#define MYSQL_NAME_MAX 64
#define MYSQL_STR_MAX 512
/* Prepared statements remembered per connection, and the memory they may
 * use; the oldest are forgotten first. */
#define MYSQL_STMT_MAX 4096
#define MYSQL_STMT_BUDGET (4u << 20)
/* Values kept in one result set's preview, whatever max_rows says. */
#define MYSQL_PREVIEW_VALUES_MAX 4096
/* Largest command packet accepted when resynchronising. */
#define MYSQL_RESYNC_MAX (64 * 1024)
/* Caps applied to dt_mysql_opts. */
#define MYSQL_OPT_ROWS_MAX 1024
#define MYSQL_OPT_VALUE_MAX (1u << 20)
#define MYSQL_OPT_SQL_MAX (64 * 1024)
#define MYSQL_OPT_RESULTS_MAX 64

/* A whole (logical) payload: one packet, or several when the first ones
 * are 0xffffff bytes long. */
struct mysql_payload {
	const uint8_t *data;   /* the first len bytes of the payload */
	size_t len;
	uint64_t total;        /* the payload's full length */
	uint8_t seq;           /* sequence id of the first packet */
	uint8_t last_seq;      /* and of the last */
	uint64_t start, end;   /* stream offsets: first header byte, past the
				  last byte */
};

/* ---- mysql_stream.c ---- */

enum mysql_mode {
	MODE_SYNC = 0,   /* at a packet boundary */
	MODE_RESYNC,     /* client: looking for a command packet */
	MODE_DISCARD,    /* server: skipping until a request waits */
};

/* A multi-packet payload being read. */
struct mysql_assembly {
	bool active;
	uint64_t start;
	uint64_t total;
	uint8_t seq, next_seq;
	uint8_t *prefix;       /* its first MYSQL_PREFIX_MAX bytes at most */
	size_t prefix_len;
};

struct mysql_direction {
	uint64_t off;          /* stream offset of the next byte to consume */
	bool started;
	enum mysql_mode mode;
	struct mysql_assembly as;
};

/* ---- mysql_stmt.c ---- */

struct mysql_stmt {
	uint32_t id;
	char *sql;             /* NULL when prepared before the recording */
	size_t sql_len;
	bool sql_truncated;
	uint16_t nparams;
	uint8_t *types;        /* nparams (type, flags) pairs; NULL until an
				  execute bound them */
	uint8_t *long_data;    /* bitmap of params sent as long data */
	size_t ncols;
	struct dt_mysql_column *cols;
	size_t cost;           /* bytes counted against the budget */
	struct mysql_stmt *next;
};

struct dt_mysql_conn;

struct mysql_stmt *dt_mysql_stmt_find(struct dt_mysql_conn *c, uint32_t id);
/* Adds (or replaces) statement id; sql is copied. Returns the statement,
 * NULL on -ENOMEM. */
struct mysql_stmt *dt_mysql_stmt_add(struct dt_mysql_conn *c, uint32_t id,
				     const char *sql, size_t sql_len,
				     bool sql_truncated, uint16_t nparams);
void dt_mysql_stmt_remove(struct dt_mysql_conn *c, uint32_t id);
void dt_mysql_stmt_clear(struct dt_mysql_conn *c);
/* Remembers the parameter types of an execute that bound them. */
int dt_mysql_stmt_set_types(struct dt_mysql_conn *c, struct mysql_stmt *s,
			    const uint8_t *types);
/* Replaces the columns with copies of cols. */
int dt_mysql_stmt_set_columns(struct dt_mysql_conn *c, struct mysql_stmt *s,
			      const struct dt_mysql_column *cols,
			      size_t ncols);
int dt_mysql_stmt_mark_long_data(struct dt_mysql_conn *c,
				 struct mysql_stmt *s, uint16_t param);
void dt_mysql_stmt_reset_long_data(struct mysql_stmt *s);
bool dt_mysql_stmt_has_long_data(const struct mysql_stmt *s, size_t param);

/* ---- mysql_conn.c ---- */

struct mysql_request {
	struct dt_mysql_summary *sum;
	uint64_t start, end;   /* client stream bytes seen so far */
	bool has_bytes;
	unsigned cmd;
	uint8_t resp_seq;      /* sequence id of the first response packet */
	bool no_response;
	struct mysql_request *next;
};

enum mysql_resp_state {
	RS_FIRST = 0,    /* OK, ERR, EOF, LOCAL INFILE or column count */
	RS_COLDEFS,      /* column definitions */
	RS_COLDEFS_EOF,  /* EOF after them (maybe, when caps are unknown) */
	RS_ROWS,         /* rows until EOF/OK/ERR */
	RS_PREP_DEFS,    /* COM_STMT_PREPARE: parameter and column defs */
	RS_PREP_EOF,     /* EOF after a block of definitions */
	RS_PREP_AMBIG,   /* caps unknown: an EOF may still end the response */
	RS_INFILE,       /* client sends a file, then the server OK/ERR */
	RS_AUTH,         /* handshake / COM_CHANGE_USER authentication */
	RS_FIELDS,       /* COM_FIELD_LIST: definitions until EOF */
	RS_SINGLE,       /* any one packet (COM_STATISTICS) */
	RS_DONE,
};

/* The response being read: it answers the request at the queue head. */
struct mysql_response {
	enum mysql_resp_state state;
	bool started;
	uint64_t start, end;
	uint8_t seq_next;      /* expected sequence id, either direction */
	bool binary;
	bool got_metadata;     /* a result set sent column definitions */
	uint32_t remaining;    /* definitions left in the current block */
	uint32_t ncols;        /* columns of the current result set */
	uint8_t prep_block;    /* 0: parameters, 1: columns */
	uint16_t prep_ncols;
	unsigned client_packets; /* continuation packets from the client */
	struct dt_mysql_result *cur; /* result being filled, NULL: not kept */
	enum dt_mysql_result_kind last_kind;
};

enum mysql_phase {
	PH_GREETING = 0,       /* new connection: the server speaks first */
	PH_COMMAND,
};

struct mysql_event_node {
	struct dt_mysql_event ev;
	struct mysql_event_node *next;
};

struct dt_mysql_conn {
	struct dt_mysql_opts opts;
	enum mysql_phase phase;
	bool caps_known;
	uint64_t caps;         /* negotiated (client & server) */
	uint64_t server_caps;
	int deprecate_eof;     /* -1 unknown, 0, 1 */
	bool midstream;
	const char *unsupported;
	struct mysql_direction dir[2];
	struct mysql_request *head, *tail;
	size_t nrequests;
	struct mysql_response resp;
	struct mysql_stmt *stmts;  /* oldest first */
	size_t nstmts;
	size_t stmt_bytes;
	uint32_t last_prepared;
	bool has_last_prepared;
	struct mysql_event_node *ev_head, *ev_tail;
	struct dt_mysql_stats stats;
};

/* A client payload handler lost sync on a packet that may start the next
 * exchange: the packet is looked at again (resynchronising). */
#define MYSQL_RETRY 1

/* A whole payload of direction dir in sync mode. 0, MYSQL_RETRY (client)
 * or -ENOMEM. */
int dt_mysql_client_payload(struct dt_mysql_conn *c,
			    const struct mysql_payload *pl);
int dt_mysql_server_payload(struct dt_mysql_conn *c,
			    const struct mysql_payload *pl);
/* Called before a packet of dir is consumed in sync mode: false when the
 * packet (header and first payload byte) cannot start what the connection
 * expects, after which the codec has changed mode and the caller must look
 * at the bytes again. */
bool dt_mysql_expects(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		      uint8_t seq, const uint8_t *first, size_t avail);
/* Flushes every waiting request as an event flagged flags and puts the
 * server side (and the client side when resync_client) back to looking
 * for the next exchange. 0 or -ENOMEM. */
int dt_mysql_lose_sync(struct dt_mysql_conn *c, bool resync_client,
		       uint32_t flags);
/* The packet does not fit: counts it and loses sync. */
int dt_mysql_malformed(struct dt_mysql_conn *c, enum dt_mysql_dir dir);
/* Stops decoding: reports the head request (if any) with the reason. */
int dt_mysql_set_unsupported(struct dt_mysql_conn *c, const char *why);
/* Emits the head request if its response is complete, and every request
 * after it that expects none. 0 or -ENOMEM. */
int dt_mysql_drain(struct dt_mysql_conn *c);
struct mysql_request *dt_mysql_request_new(unsigned cmd);
void dt_mysql_request_free(struct mysql_request *r);
/* Starts the conn in the command phase as if a handshake with caps (0:
 * unknown) had been seen (decoding stored exchanges). */
void dt_mysql_conn_assume_command_phase(struct dt_mysql_conn *c,
					uint64_t caps);

/* ---- mysql_request.c ---- */

/* Fills the summary of r (made for the command byte of the non-empty
 * payload pl) and applies the command's effect on statements. 0 or
 * -ENOMEM: what does not parse is left out of the summary. */
int dt_mysql_request_parse(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl);
/* A continuation packet of the head request (handshake response, auth
 * data, LOCAL INFILE contents). */
int dt_mysql_request_continue(struct dt_mysql_conn *c,
			      struct mysql_request *r,
			      const struct mysql_payload *pl);
bool dt_mysql_command_expects_response(unsigned cmd);

/* ---- mysql_response.c ---- */

/* Sets up the response state for the request now at the queue head. */
int dt_mysql_response_start(struct dt_mysql_conn *c, struct mysql_request *r);
/* One server payload of the head's response (sequence id checked). */
int dt_mysql_response_step(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl);
/* A new command arrived, or the connection ended: a response waiting for
 * an optional EOF is complete. 0 or -ENOMEM. */
int dt_mysql_response_settle(struct dt_mysql_conn *c);

/* ---- mysql_packets.c ---- */

/* Where the parts of a handshake response or COM_CHANGE_USER lie. */
struct mysql_hs_response {
	uint64_t caps;
	bool ssl_request;      /* the SSL request that starts TLS */
	const uint8_t *user, *db, *plugin;   /* NULL when absent */
	size_t user_len, db_len, plugin_len;
	size_t auth_off, auth_len;   /* the credentials, in the payload */
};

int dt_mysql_scan_handshake_response(const uint8_t *p, size_t len,
				     struct mysql_hs_response *h);
int dt_mysql_scan_change_user(const uint8_t *p, size_t len,
			      struct mysql_hs_response *h);

int dt_mysql_parse_greeting(const uint8_t *p, size_t len,
			    struct dt_mysql_response *out, uint64_t *caps);
int dt_mysql_parse_ok(const struct dt_mysql_conn *c, const uint8_t *p,
		      size_t len, struct dt_mysql_result *out);
int dt_mysql_parse_err(const uint8_t *p, size_t len,
		       struct dt_mysql_result *out);
void dt_mysql_parse_eof(const uint8_t *p, size_t len,
			struct dt_mysql_result *out);
/* A column definition; out NULL: only validate. */
int dt_mysql_parse_column(const struct dt_mysql_conn *c, const uint8_t *p,
			  size_t len, struct dt_mysql_column *out);
/* Adds a row to res's preview (when there is room) and counts it. */
int dt_mysql_parse_row(const struct dt_mysql_conn *c,
		       struct dt_mysql_result *res,
		       const struct mysql_payload *pl);

/* ---- mysql_values.c ---- */

/* Reads one binary-protocol value of type; out NULL: skip it. 0, -EBADMSG
 * (short, or a type without a binary form) or -ENOMEM. */
int dt_mysql_read_binary_value(struct mysql_cur *cur, uint8_t type,
			       bool is_unsigned, size_t max_value,
			       struct dt_mysql_value *out);
/* A length-encoded string value; out NULL: skip it. When the cursor's
 * payload was cut (cur->cut), a string running past it is taken as far as
 * it goes (truncated) and the cursor is spent. 0, -EBADMSG or -ENOMEM. */
int dt_mysql_read_string_value(struct mysql_cur *cur, size_t max,
			       struct dt_mysql_value *out);
/* Copies at most max bytes of p into v->text (NUL-terminated). */
int dt_mysql_value_set_text(struct dt_mysql_value *v, const uint8_t *p,
			    size_t len, size_t max);
void dt_mysql_value_release(struct dt_mysql_value *v);

/* ---- mysql_names.c ---- */

/* Whether type is one the protocol defines (a binary form is known). */
bool dt_mysql_type_is_known(uint8_t type);

/* ---- mysql_summary.c ---- */

struct dt_mysql_summary *dt_mysql_summary_new(unsigned cmd);
/* Appends a result of kind to s (when fewer than max are kept: returns
 * it; else NULL with *err 0) and counts it. */
struct dt_mysql_result *dt_mysql_summary_add_result(
	struct dt_mysql_summary *s, enum dt_mysql_result_kind kind,
	size_t max, int *err);
/* Sets response.kind from the results. */
void dt_mysql_summary_finish(struct dt_mysql_summary *s,
			     enum dt_mysql_result_kind last_kind);
/* NUL-terminated copy of at most max bytes; NULL on -ENOMEM. */
char *dt_mysql_strndup(const uint8_t *p, size_t len, size_t max);
int dt_mysql_columns_copy(struct dt_mysql_column **out,
			  const struct dt_mysql_column *cols, size_t n);
void dt_mysql_columns_free(struct dt_mysql_column *cols, size_t n);
void dt_mysql_values_free(struct dt_mysql_value *v, size_t n);

/* ---- mysql_detect.c ---- */

/* Judges a command packet from its header and the first avail bytes of
 * its payload (avail may be short of plen). Returns 1 plausible, 0 not,
 * -EAGAIN when the bytes so far fit but more are needed to tell. */
int dt_mysql_plausible_command(uint8_t seq, uint32_t plen,
			       const uint8_t *payload, size_t avail);

#endif /* DEETUNE_FORMATS_MYSQL_INT_H */
