/* SPDX-License-Identifier: MIT */
/*
 * MySQL/MariaDB client/server protocol codec: one state machine per
 * connection fed with the two byte streams as they are captured. It frames
 * the streams into exchanges (a request and its whole response) and decodes
 * a summary of each. Pure code: no I/O.
 *
 * Driving it (the recorder):
 *
 *   dt_mysql_conn_new(&c, &opts)     opts.midstream when the connection was
 *                                    open before the recording started
 *   loop, in capture order:
 *     dt_mysql_feed(c, dir, off, buf, len, &used)
 *         buf = the bytes of direction dir not consumed yet, off = the
 *         stream offset of buf[0]. The codec consumes whole packets only:
 *         keep buf[used..len) and pass it again, with more bytes, next time.
 *         An offset beyond what was consumed so far means bytes were lost
 *         (a gap): the exchanges in flight are flagged incomplete and the
 *         codec resynchronises.
 *     while (dt_mysql_next_event(c, &ev) == 1) {
 *         request  = client stream bytes [ev.req_start, ev.req_end)
 *         response = server stream bytes [ev.resp_start, ev.resp_end)
 *         if (ev.summary->request.has_auth) redact the request copy with
 *             dt_mysql_redact_auth() before storing it;
 *         dt_mysql_summary_to_attrs(ev.summary, x); ...
 *         dt_mysql_event_release(&ev);
 *     }
 *     bytes before dt_mysql_retain_offset(c, dir) are needed by no future
 *     event: the caller may drop them.
 *   dt_mysql_close(c) when the connection ends, drain the events again,
 *   dt_mysql_conn_free(c).
 *
 * The caller must feed the two directions in the order the bytes were
 * captured (a response after the request that caused it): MySQL is
 * strictly request/response, and the codec uses that order to pair them,
 * to resynchronise and to resolve the few places where the protocol is
 * ambiguous without the negotiated capabilities.
 *
 * Joining an open connection (opts.midstream, or a stream that does not
 * start with a server greeting): client bytes are skipped up to the next
 * packet with sequence id 0 that is a plausible command (a known command
 * byte, a length that fits the command, SQL that is text), and server bytes
 * are skipped until a request is waiting for its response. The same
 * resynchronisation follows a gap or a malformed packet. Events of a
 * joined connection carry DT_XF_MIDSTREAM. Without the handshake the
 * capabilities are unknown:
 * - CLIENT_PROTOCOL_41 is assumed (4.1 and later servers);
 * - CLIENT_DEPRECATE_EOF is learnt from the first packet that tells: an
 *   EOF is 5 bytes, the 0xfe OK replacing it at least 7, and rows follow
 *   column definitions directly only without EOFs. A COM_STMT_PREPARE
 *   answered before that is complete when the next command arrives;
 * - OK messages are read as length-encoded when that fits (session
 *   tracking), MariaDB's extended column metadata when the fixed fields
 *   do not follow the names, a column count packet's extra byte as the
 *   "metadata follows" flag, a COM_QUERY starting 00 01 as MySQL 8 query
 *   attributes without parameters;
 * - statements prepared before the join have no SQL; their parameter
 *   count is inferred from an execute that binds types (up to 64), and
 *   binary rows sent without metadata are counted but not previewed.
 * Compression negotiated before a join is not recognised.
 *
 * TLS (the client's SSL request) and compression (CLIENT_COMPRESS or
 * CLIENT_ZSTD_COMPRESSION_ALGORITHM agreed in the handshake) end the
 * decoding: the handshake exchange is reported, then the connection is
 * unsupported (dt_mysql_conn_unsupported()) and every later byte is
 * consumed without events. Replication streams (COM_BINLOG_DUMP*) too.
 */
#ifndef DEETUNE_FORMATS_MYSQL_H
#define DEETUNE_FORMATS_MYSQL_H

#include "formats/formats.h"

/* Capability flags (64 bits: MariaDB's extended flags are the upper 32). */
#define DT_MYSQL_CLIENT_CONNECT_WITH_DB		(1ull << 3)
#define DT_MYSQL_CLIENT_COMPRESS		(1ull << 5)
#define DT_MYSQL_CLIENT_LOCAL_FILES		(1ull << 7)
#define DT_MYSQL_CLIENT_PROTOCOL_41		(1ull << 9)
#define DT_MYSQL_CLIENT_SSL			(1ull << 11)
#define DT_MYSQL_CLIENT_SECURE_CONNECTION	(1ull << 15)
#define DT_MYSQL_CLIENT_MULTI_STATEMENTS	(1ull << 16)
#define DT_MYSQL_CLIENT_MULTI_RESULTS		(1ull << 17)
#define DT_MYSQL_CLIENT_PS_MULTI_RESULTS	(1ull << 18)
#define DT_MYSQL_CLIENT_PLUGIN_AUTH		(1ull << 19)
#define DT_MYSQL_CLIENT_CONNECT_ATTRS		(1ull << 20)
#define DT_MYSQL_CLIENT_PLUGIN_AUTH_LENENC	(1ull << 21)
#define DT_MYSQL_CLIENT_SESSION_TRACK		(1ull << 23)
#define DT_MYSQL_CLIENT_DEPRECATE_EOF		(1ull << 24)
#define DT_MYSQL_CLIENT_OPTIONAL_METADATA	(1ull << 25)
#define DT_MYSQL_CLIENT_ZSTD_COMPRESSION	(1ull << 26)
#define DT_MYSQL_CLIENT_QUERY_ATTRIBUTES	(1ull << 27)
#define DT_MYSQL_MARIADB_CLIENT_PROGRESS	(1ull << 32)
#define DT_MYSQL_MARIADB_CLIENT_EXTENDED_METADATA (1ull << 35)
#define DT_MYSQL_MARIADB_CLIENT_CACHE_METADATA	(1ull << 36)

/* Server status flags (OK and EOF packets). */
#define DT_MYSQL_STATUS_IN_TRANS		0x0001
#define DT_MYSQL_STATUS_AUTOCOMMIT		0x0002
#define DT_MYSQL_STATUS_MORE_RESULTS		0x0008
#define DT_MYSQL_STATUS_CURSOR_EXISTS		0x0040
#define DT_MYSQL_STATUS_LAST_ROW_SENT		0x0080
#define DT_MYSQL_STATUS_SESSION_STATE_CHANGED	0x4000

/* Command bytes the codec treats specially (the rest: see
 * dt_mysql_command_name()). */
enum dt_mysql_command {
	DT_MYSQL_COM_QUIT = 0x01,
	DT_MYSQL_COM_INIT_DB = 0x02,
	DT_MYSQL_COM_QUERY = 0x03,
	DT_MYSQL_COM_FIELD_LIST = 0x04,
	DT_MYSQL_COM_STATISTICS = 0x09,
	DT_MYSQL_COM_PROCESS_KILL = 0x0c,
	DT_MYSQL_COM_PING = 0x0e,
	DT_MYSQL_COM_CHANGE_USER = 0x11,
	DT_MYSQL_COM_BINLOG_DUMP = 0x12,
	DT_MYSQL_COM_STMT_PREPARE = 0x16,
	DT_MYSQL_COM_STMT_EXECUTE = 0x17,
	DT_MYSQL_COM_STMT_SEND_LONG_DATA = 0x18,
	DT_MYSQL_COM_STMT_CLOSE = 0x19,
	DT_MYSQL_COM_STMT_RESET = 0x1a,
	DT_MYSQL_COM_SET_OPTION = 0x1b,
	DT_MYSQL_COM_STMT_FETCH = 0x1c,
	DT_MYSQL_COM_BINLOG_DUMP_GTID = 0x1e,
	DT_MYSQL_COM_RESET_CONNECTION = 0x1f,
	DT_MYSQL_COM_STMT_BULK_EXECUTE = 0xfa,
	/* pseudo commands, outside the byte range */
	DT_MYSQL_CMD_HANDSHAKE = 0x100,  /* greeting .. authentication result */
	DT_MYSQL_CMD_NONE = 0x101,       /* a server packet nobody asked for */
};

/* Column and parameter types (enum_field_types). */
enum dt_mysql_type {
	DT_MYSQL_TYPE_DECIMAL = 0,
	DT_MYSQL_TYPE_TINY = 1,
	DT_MYSQL_TYPE_SHORT = 2,
	DT_MYSQL_TYPE_LONG = 3,
	DT_MYSQL_TYPE_FLOAT = 4,
	DT_MYSQL_TYPE_DOUBLE = 5,
	DT_MYSQL_TYPE_NULL = 6,
	DT_MYSQL_TYPE_TIMESTAMP = 7,
	DT_MYSQL_TYPE_LONGLONG = 8,
	DT_MYSQL_TYPE_INT24 = 9,
	DT_MYSQL_TYPE_DATE = 10,
	DT_MYSQL_TYPE_TIME = 11,
	DT_MYSQL_TYPE_DATETIME = 12,
	DT_MYSQL_TYPE_YEAR = 13,
	DT_MYSQL_TYPE_NEWDATE = 14,
	DT_MYSQL_TYPE_VARCHAR = 15,
	DT_MYSQL_TYPE_BIT = 16,
	DT_MYSQL_TYPE_TIMESTAMP2 = 17,
	DT_MYSQL_TYPE_DATETIME2 = 18,
	DT_MYSQL_TYPE_TIME2 = 19,
	DT_MYSQL_TYPE_JSON = 245,
	DT_MYSQL_TYPE_NEWDECIMAL = 246,
	DT_MYSQL_TYPE_ENUM = 247,
	DT_MYSQL_TYPE_SET = 248,
	DT_MYSQL_TYPE_TINY_BLOB = 249,
	DT_MYSQL_TYPE_MEDIUM_BLOB = 250,
	DT_MYSQL_TYPE_LONG_BLOB = 251,
	DT_MYSQL_TYPE_BLOB = 252,
	DT_MYSQL_TYPE_VAR_STRING = 253,
	DT_MYSQL_TYPE_STRING = 254,
	DT_MYSQL_TYPE_GEOMETRY = 255,
};

/* Column definition flag: the integer is unsigned. */
#define DT_MYSQL_FLAG_UNSIGNED 0x0020

/* Protocol limits the codec enforces (beyond them: malformed). */
#define DT_MYSQL_MAX_COLUMNS 4096
#define DT_MYSQL_MAX_PARAMS 65535

/* Summary limits: what summaries keep, never what the codec reads. */
struct dt_mysql_opts {
	bool midstream;     /* joined an open connection: resynchronise */
	size_t max_rows;    /* rows kept per result set (preview), <= 1024 */
	size_t max_value;   /* bytes kept per value, <= 1 MiB */
	size_t max_sql;     /* bytes of SQL kept, <= 64 KiB */
	size_t max_params;  /* parameters kept per request */
	size_t max_results; /* results kept per response, 1 to 64 */
};

/* Defaults: not midstream, 16 rows, 256-byte values, 64 KiB of SQL,
 * 256 parameters, 8 results. Values out of range are clamped. */
void dt_mysql_opts_init(struct dt_mysql_opts *opts);

/*
 * One decoded value: a parameter or a field of a row.
 * Rendering: integers in decimal, floats as the shortest text that reads
 * back the same, DATE "YYYY-MM-DD", DATETIME/TIMESTAMP "YYYY-MM-DD
 * HH:MM:SS[.ffffff]", TIME "[-]H:MM:SS[.ffffff]" (hours include the days),
 * every other type (strings, blobs, DECIMAL, BIT, JSON, ...) as its bytes.
 * Text-protocol rows keep the server's text.
 */
struct dt_mysql_value {
	uint8_t type;        /* enum dt_mysql_type */
	bool is_unsigned;
	bool is_null;
	bool long_data;      /* parameter sent by COM_STMT_SEND_LONG_DATA */
	bool truncated;      /* text holds only the first max_value bytes */
	size_t len;          /* bytes in text */
	char *text;          /* NUL-terminated; binary strings may hold NULs;
				NULL when is_null, long_data, or when the
				bytes could not be decoded (truncated) */
};

struct dt_mysql_column {
	char *schema;        /* NUL-terminated, at most 64 bytes kept */
	char *table;
	char *name;
	uint8_t type;        /* enum dt_mysql_type */
	uint16_t flags;      /* DT_MYSQL_FLAG_* */
	uint8_t decimals;
	uint16_t charset;
	uint32_t length;
};

enum dt_mysql_result_kind {
	DT_MYSQL_RESULT_OK = 1,
	DT_MYSQL_RESULT_ERR,
	DT_MYSQL_RESULT_EOF,
	DT_MYSQL_RESULT_RESULTSET,
	DT_MYSQL_RESULT_LOCAL_INFILE, /* the server asked for a client file */
	DT_MYSQL_RESULT_DATA,         /* a bare string (COM_STATISTICS) */
};

/* One result of a response: responses with SERVER_MORE_RESULTS_EXISTS hold
 * several (a CALL's result sets, then its OK). */
struct dt_mysql_result {
	enum dt_mysql_result_kind kind;
	/* OK, EOF, and the terminator of a result set */
	uint64_t affected_rows;
	uint64_t last_insert_id;
	uint16_t status;
	uint16_t warnings;
	char *info;          /* OK message, LOCAL INFILE file name, DATA */
	/* ERR */
	uint16_t error_code;
	char sql_state[6];   /* "" when the packet has none */
	char *message;
	/* result set */
	bool binary;         /* binary protocol rows (COM_STMT_EXECUTE) */
	size_t ncolumns;
	struct dt_mysql_column *columns;
	uint64_t nrows;      /* rows in the result set */
	size_t nrows_kept;   /* rows in the preview */
	struct dt_mysql_value *rows; /* nrows_kept * ncolumns, row after row */
};

struct dt_mysql_request {
	unsigned command;    /* command byte or DT_MYSQL_CMD_* */
	const char *command_name; /* "COM_QUERY", "handshake", ... (static) */
	uint64_t payload_len;
	/* COM_QUERY, COM_STMT_PREPARE; statement commands: the SQL prepared */
	char *sql;           /* NUL-terminated; NULL when none */
	size_t sql_len;
	bool sql_truncated;
	char *schema;        /* COM_INIT_DB; handshake/COM_CHANGE_USER db */
	char *user;          /* handshake, COM_CHANGE_USER */
	char *arg;           /* COM_FIELD_LIST table, other arguments */
	bool has_auth;       /* the bytes hold credentials: redact them */
	uint64_t client_caps;/* handshake */
	/* statement commands */
	bool has_stmt;
	uint32_t stmt_id;
	uint8_t exec_flags;  /* COM_STMT_EXECUTE cursor flags */
	uint16_t param_id;   /* COM_STMT_SEND_LONG_DATA */
	/* COM_STMT_EXECUTE parameters (COM_QUERY: query attributes) */
	bool params_decoded; /* false: count or types unknown (midstream) */
	uint32_t nparams;
	size_t nparams_kept;
	struct dt_mysql_value *params;
};

struct dt_mysql_response {
	const char *kind;    /* "ok", "err", "eof", "resultset",
				"local_infile", "data", "handshake", "none" */
	size_t nresults;     /* results kept */
	uint64_t results_total;
	struct dt_mysql_result *results;
	/* handshake: the greeting, and the plugin finally used */
	char *server_version;
	uint32_t connection_id;
	uint64_t server_caps;
	char *auth_plugin;
	/* COM_STMT_PREPARE: the statement (columns in results[0]) */
	bool has_stmt;
	uint32_t stmt_id;
	uint16_t nparams;
	uint16_t ncolumns;
};

struct dt_mysql_summary {
	struct dt_mysql_request request;
	struct dt_mysql_response response;
	const char *unsupported; /* "tls", "compression", ...: see the conn */
};

/* Frees everything s owns, then s itself; NULL is fine. */
void dt_mysql_summary_free(struct dt_mysql_summary *s);

enum dt_mysql_dir {
	DT_MYSQL_CLIENT = 0,   /* client -> server: requests */
	DT_MYSQL_SERVER = 1,   /* server -> client: responses */
};

/*
 * One exchange, complete or cut short. Offsets are stream offsets as
 * given to dt_mysql_feed(): [req_start, req_end) of the client stream,
 * [resp_start, resp_end) of the server stream (empty when there was no
 * response: COM_STMT_CLOSE, COM_QUIT, COM_STMT_SEND_LONG_DATA). A
 * handshake's request holds every client packet of the authentication, its
 * response every server packet from the greeting to the OK or ERR.
 */
struct dt_mysql_event {
	uint32_t flags;       /* DT_XF_INCOMPLETE, DT_XF_MALFORMED,
				 DT_XF_NO_RESPONSE, DT_XF_MIDSTREAM */
	uint64_t req_start, req_end;
	uint64_t resp_start, resp_end;
	struct dt_mysql_summary *summary; /* owned by the event */
};

struct dt_mysql_conn;

/* opts NULL: defaults. On success *out is owned by the caller
 * (dt_mysql_conn_free). 0 or -ENOMEM. */
int dt_mysql_conn_new(struct dt_mysql_conn **out,
		      const struct dt_mysql_opts *opts);
void dt_mysql_conn_free(struct dt_mysql_conn *c);

/*
 * Feeds buf[0..len), the unconsumed bytes of direction dir starting at
 * stream offset off. *consumed is set to the bytes consumed (whole packets,
 * or bytes skipped while resynchronising); the rest must be passed again.
 * The first call of a direction may start at any offset; later an offset
 * beyond the consumed bytes is a gap (len may be 0 to report one).
 * Returns 0, -EINVAL (off before the consumed bytes) or -ENOMEM (the
 * connection state is then lost: free it).
 */
int dt_mysql_feed(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		  uint64_t off, const uint8_t *buf, size_t len,
		  size_t *consumed);

/* The connection ended: requests still waiting become events flagged
 * DT_XF_NO_RESPONSE (or DT_XF_INCOMPLETE when their response started).
 * 0 or -ENOMEM. */
int dt_mysql_close(struct dt_mysql_conn *c);

/* Moves the oldest pending event into ev (ev->summary then belongs to the
 * caller: dt_mysql_event_release). Returns 1, or 0 when there is none. */
int dt_mysql_next_event(struct dt_mysql_conn *c, struct dt_mysql_event *ev);
void dt_mysql_event_release(struct dt_mysql_event *ev);

/* Stream offset from which bytes of dir may still belong to a future
 * event; earlier bytes may be dropped by the caller. */
uint64_t dt_mysql_retain_offset(const struct dt_mysql_conn *c,
				enum dt_mysql_dir dir);

/* Why the codec stopped decoding ("tls", "compression", "replication"),
 * NULL while it decodes. */
const char *dt_mysql_conn_unsupported(const struct dt_mysql_conn *c);

struct dt_mysql_stats {
	uint64_t skipped[2];  /* bytes skipped resynchronising, per dir */
	uint64_t resyncs;     /* times the codec lost sync (gap, malformed) */
	uint64_t malformed;   /* packets rejected */
};

void dt_mysql_conn_stats(const struct dt_mysql_conn *c,
			 struct dt_mysql_stats *st);

/*
 * Decodes one stored exchange: req and resp are the raw client and server
 * bytes of one event. caps: the client's capabilities when known (from
 * the connection's handshake), 0 when not. Prepared statements are unknown
 * here, so COM_STMT_EXECUTE parameters decode only when the request
 * carries their types. On success *out is owned by the caller
 * (dt_mysql_summary_free). 0, -EBADMSG (not one exchange) or -ENOMEM.
 */
int dt_mysql_decode_exchange(const uint8_t *req, size_t req_len,
			     const uint8_t *resp, size_t resp_len,
			     uint64_t caps, const struct dt_mysql_opts *opts,
			     struct dt_mysql_summary **out);

/*
 * Overwrites with zeros, in place, every credential byte in the client
 * bytes of a handshake or COM_CHANGE_USER exchange: the auth response of
 * the handshake response / COM_CHANGE_USER packet (same length, so the
 * framing stays intact) and the payload of every later packet (auth switch
 * responses, auth data: cleartext passwords go there). A packet that does
 * not parse has its whole payload zeroed. Other requests are left as they
 * are. Returns the number of bytes zeroed.
 */
size_t dt_mysql_redact_auth(uint8_t *buf, size_t len);

/*
 * Protocol detection from the first bytes of a direction: 1 when they look
 * like MySQL (server: a protocol-10 greeting or an ERR with sequence 0;
 * client: a handshake response or a plausible command packet), 0 when not,
 * -EAGAIN when more bytes are needed to tell.
 */
int dt_mysql_detect(const uint8_t *buf, size_t len, enum dt_mysql_dir dir);

/* "COM_QUERY", ..., "handshake", "none"; "COM_UNKNOWN" otherwise. */
const char *dt_mysql_command_name(unsigned command);
/* "LONG", "VAR_STRING", ...; "UNKNOWN" otherwise. */
const char *dt_mysql_type_name(uint8_t type);

/* dt_mysql_sql_normalize() flags */
#define DT_MYSQL_SQL_UPPER_KEYWORDS 0x1u

/*
 * Normalises SQL for matching: comments removed (MySQL's executable
 * comments "/ *! ... * /" are kept), whitespace runs outside quotes
 * collapsed to one space, leading and trailing whitespace dropped; with
 * DT_MYSQL_SQL_UPPER_KEYWORDS, SQL keywords outside quotes uppercased.
 * Writes a NUL-terminated result of at most size - 1 bytes into out and
 * returns the full normalised length (as snprintf: a result >= size was
 * cut).
 */
size_t dt_mysql_sql_normalize(const char *sql, size_t len, char *out,
			      size_t size, unsigned flags);

/*
 * Statement kind from the first keyword, after whitespace, comments and
 * opening parentheses: "select" (also WITH, VALUES, TABLE), "insert",
 * "update", "delete", "replace", "create", "drop", "alter", "set", "show",
 * "begin" (also START TRANSACTION), "commit", "rollback", "other".
 */
const char *dt_mysql_sql_kind(const char *sql, size_t len);

/*
 * Sets the summary attributes of an exchange. Only keys with a value are
 * set. Numbers are decimal, capabilities hexadecimal ("0x..."), lists JSON
 * arrays (at most 64 KiB each).
 *   request.command      "COM_QUERY", "handshake", ...
 *   request.sql          SQL (COM_QUERY, prepared statement commands)
 *   request.kind         dt_mysql_sql_kind() of request.sql
 *   request.schema       COM_INIT_DB, handshake and COM_CHANGE_USER db
 *   request.user         handshake, COM_CHANGE_USER
 *   request.arg          COM_FIELD_LIST table, COM_PROCESS_KILL id, ...
 *   request.client_caps  handshake
 *   request.stmt_id      statement commands
 *   request.params       [{"type":"LONG","value":"1"}, ...]; a value is
 *                        null for NULL, long data (with "long_data":true)
 *                        and undecodable bytes ("truncated":true)
 *   response.kind        dt_mysql_response.kind
 *   response.affected_rows, response.last_insert_id, response.warnings,
 *   response.info        the first OK
 *   response.error_code, response.sql_state, response.error_message
 *   response.columns     [{"name","type","table","schema"}, ...]
 *   response.rows        rows of the first result set
 *   response.preview     [["1","a",null], ...] its first rows
 *   response.results     results in a multi-result response (> 1)
 *   response.stmt_id, response.params   COM_STMT_PREPARE
 *   response.server_version, response.connection_id,
 *   response.server_caps, response.auth_plugin   handshake
 *   response.unsupported "tls", "compression", ...
 * 0 or -ENOMEM.
 */
int dt_mysql_summary_to_attrs(const struct dt_mysql_summary *s,
			      struct dt_exchange *x);

#endif /* DEETUNE_FORMATS_MYSQL_H */
