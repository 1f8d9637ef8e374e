/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 codec (RFC 9113), gRPC message framing, a schemaless protobuf
 * decoder and the field names a descriptor set gives it. Pure code: no I/O.
 *
 * This is a section of the formats module's public header: formats/formats.h
 * includes it at its end (it uses struct dt_slice). Include formats.h.
 *
 * Three layers:
 *   dt_h2_frame_parse()    one frame from a buffer, stateless
 *   struct dt_h2_framer    one direction: client preface, then frames, with
 *                          the frame size limit the peer announced
 *   struct dt_h2_conn      both directions: HPACK (nghttp2's inflater, one
 *                          per direction), streams paired by id, bodies
 *                          reassembled, trailers, resets
 *
 * Driving a connection (the recorder):
 *
 *   dt_h2_conn_new(&c, &opts)      opts.midstream when the connection was
 *                                  open before the recording started
 *   loop, in capture order:
 *     dt_h2_conn_feed(c, dir, buf, len, &used)
 *         buf = the bytes of direction dir not consumed yet. Whole frames
 *         are consumed: keep buf[used..len) and pass it again, with more
 *         bytes, next time.
 *     while (dt_h2_conn_next_stream(c, &s) == 1) { ...; dt_h2_stream_free(s); }
 *   dt_h2_conn_close(c) when the connection ends, drain the streams again,
 *   dt_h2_conn_free(c).
 *
 * HPACK is stateful per direction, so each direction must be fed in order.
 * The order between the two matters little: a stream's response may reach
 * the decoder before its request. SETTINGS bound what the peer sends; a
 * passive observer applies them as soon as it sees them, and the limits
 * only ever grow (a frame sent before the sender saw a lower limit stays
 * valid).
 *
 * Memory is bounded by the options: at most max_streams open streams, each
 * holding at most max_body body bytes and 2 * max_fields of fields per
 * side, plus one HPACK table of at most max_table bytes per direction.
 *
 * Joining an open connection (opts.midstream): the HPACK dynamic tables of
 * both sides are unknown. A header block that refers to an entry the
 * decoder never saw cannot be decoded: its message is marked
 * DT_H2_MSG_UNDECODABLE and the direction's inflater starts afresh, so
 * that its table again holds exactly the newest entries the sender added
 * (references to older ones fail rather than decode to a wrong header).
 * Frames must start at the first byte fed (see dt_h2_resync()).
 *
 * Errors: -EBADMSG for bytes that are not HTTP/2 or break its framing
 * rules, -E2BIG for a frame longer than the limit, -ENOMEM.
 */
#ifndef DEETUNE_FORMATS_HTTP2_H
#define DEETUNE_FORMATS_HTTP2_H

#include <jansson.h>

/* ---------------------------------------------------------------------- */
/* Frames                                                                 */
/* ---------------------------------------------------------------------- */

#define DT_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define DT_H2_PREFACE_LEN 24
#define DT_H2_FRAME_HEADER_LEN 9
/* SETTINGS_MAX_FRAME_SIZE: initial value and the most it may be set to */
#define DT_H2_DEFAULT_MAX_FRAME 16384u
#define DT_H2_MAX_FRAME ((1u << 24) - 1)

enum dt_h2_frame_type {
	DT_H2_DATA = 0,
	DT_H2_HEADERS = 1,
	DT_H2_PRIORITY = 2,
	DT_H2_RST_STREAM = 3,
	DT_H2_SETTINGS = 4,
	DT_H2_PUSH_PROMISE = 5,
	DT_H2_PING = 6,
	DT_H2_GOAWAY = 7,
	DT_H2_WINDOW_UPDATE = 8,
	DT_H2_CONTINUATION = 9,
};

enum dt_h2_frame_flag {
	DT_H2_FLAG_END_STREAM = 0x01,	/* DATA, HEADERS */
	DT_H2_FLAG_ACK = 0x01,		/* SETTINGS, PING */
	DT_H2_FLAG_END_HEADERS = 0x04,	/* HEADERS, PUSH_PROMISE, CONTINUATION */
	DT_H2_FLAG_PADDED = 0x08,	/* DATA, HEADERS, PUSH_PROMISE */
	DT_H2_FLAG_PRIORITY = 0x20,	/* HEADERS */
};

enum dt_h2_setting {
	DT_H2_SETTINGS_HEADER_TABLE_SIZE = 1,
	DT_H2_SETTINGS_ENABLE_PUSH = 2,
	DT_H2_SETTINGS_MAX_CONCURRENT_STREAMS = 3,
	DT_H2_SETTINGS_INITIAL_WINDOW_SIZE = 4,
	DT_H2_SETTINGS_MAX_FRAME_SIZE = 5,
	DT_H2_SETTINGS_MAX_HEADER_LIST_SIZE = 6,
};

/* One frame. payload borrows the parsed buffer and holds what the frame
 * carries with padding, priority and the fixed fields below stripped: the
 * data of DATA, the header block fragment of HEADERS, PUSH_PROMISE and
 * CONTINUATION, the settings of SETTINGS (6 bytes each), the opaque data
 * of PING, the debug data of GOAWAY, the bytes of unknown frame types. */
struct dt_h2_frame {
	uint32_t length;		/* payload length on the wire */
	uint8_t type;			/* enum dt_h2_frame_type, or unknown */
	uint8_t flags;			/* enum dt_h2_frame_flag */
	uint32_t stream_id;
	struct dt_slice payload;
	uint8_t pad_len;		/* PADDED */
	/* PRIORITY, HEADERS with the PRIORITY flag */
	bool exclusive;
	uint32_t dependency;
	uint8_t weight;			/* as sent: the weight minus one */
	uint32_t promised_id;		/* PUSH_PROMISE */
	uint32_t error_code;		/* RST_STREAM, GOAWAY */
	uint32_t last_stream_id;	/* GOAWAY */
	uint32_t window_increment;	/* WINDOW_UPDATE */
};

/* 1 when buf starts with the whole client connection preface, 0 when buf
 * is a proper prefix of it (more bytes needed), -EBADMSG otherwise. */
int dt_h2_preface_check(const uint8_t *buf, size_t len);

/*
 * Parses the frame at buf[0..len) into f. Returns the frame's size on the
 * wire (9 + length) when it is complete, 0 when more bytes are needed,
 * -E2BIG as soon as the header shows a length above max_frame_size (0:
 * the protocol's initial 16384; values are clamped to DT_H2_MAX_FRAME),
 * -EBADMSG for a frame the protocol forbids: padding longer than the
 * payload, a wrong size for PRIORITY (5), RST_STREAM (4), PING (8),
 * WINDOW_UPDATE (4), SETTINGS (a multiple of 6, empty with ACK), GOAWAY
 * (at least 8), a stream id of 0 where a stream is required or one where
 * none is allowed. Unknown frame types are framed, not judged.
 */
ssize_t dt_h2_frame_parse(const uint8_t *buf, size_t len,
			  uint32_t max_frame_size, struct dt_h2_frame *f);

/* Name of a frame type ("DATA", ...), "UNKNOWN" for others; never NULL. */
const char *dt_h2_frame_type_name(uint8_t type);
/* Name of an error code of RST_STREAM or GOAWAY ("NO_ERROR", "CANCEL",
 * ...), NULL for codes RFC 9113 does not define. */
const char *dt_h2_error_name(uint32_t code);

/*
 * Frames of one direction of a connection. The client's direction starts
 * with the preface unless the framer joins mid-connection.
 */
struct dt_h2_framer {
	bool expect_preface;		/* set by init for the client side */
	uint32_t max_frame_size;	/* largest frame accepted */
};

/* is_client: the direction the client sends (it starts with the preface
 * unless midstream). midstream also lifts the frame limit to
 * DT_H2_MAX_FRAME, as the SETTINGS that set it may have been missed. */
void dt_h2_framer_init(struct dt_h2_framer *fr, bool is_client,
		       bool midstream);
/*
 * Reads the next unit at buf[0..len): the client preface (*is_preface
 * set, f untouched) or one frame (into f). Returns the bytes it takes
 * (> 0), 0 when more are needed, or dt_h2_frame_parse()'s errors;
 * -EBADMSG when the client side does not start with the preface.
 */
ssize_t dt_h2_framer_next(struct dt_h2_framer *fr, const uint8_t *buf,
			  size_t len, struct dt_h2_frame *f, bool *is_preface);
/* A SETTINGS_MAX_FRAME_SIZE announced by the peer (16384 to
 * DT_H2_MAX_FRAME; -EBADMSG outside). The limit never decreases. */
int dt_h2_framer_set_max_frame(struct dt_h2_framer *fr, uint32_t value);

/*
 * Finds the first offset in buf[0..len) where a plausible frame header
 * starts, for joining a connection whose bytes do not start at a frame
 * boundary: a known type with a length and stream id it allows, up to
 * 16384 bytes, followed by another such header, or by the end of buf.
 * Returns len when there is none. Keep the bytes from the returned offset
 * and call again when more arrive, as with dt_http1_resync().
 */
size_t dt_h2_resync(const uint8_t *buf, size_t len);

/* ---------------------------------------------------------------------- */
/* Connections and streams                                                */
/* ---------------------------------------------------------------------- */

enum dt_h2_dir {
	DT_H2_CLIENT = 0,	/* bytes the client sends */
	DT_H2_SERVER = 1,
};

/* A header field; name and value are owned by the message, with a NUL
 * appended (a value holding NUL bytes reads short as a C string). */
struct dt_h2_field {
	char *name;
	char *value;
	size_t name_len;
	size_t value_len;
};

/* HPACK's per-field overhead (RFC 7541 section 4.1), counted in budgets so
 * that empty fields are not free. */
#define DT_H2_FIELD_OVERHEAD 32

struct dt_h2_fields {
	size_t n;
	struct dt_h2_field *v;
	size_t bytes;		/* name and value bytes + overhead, per field */
};

enum dt_h2_msg_flag {
	DT_H2_MSG_END_STREAM = 1u << 0,	/* END_STREAM seen: complete */
	DT_H2_MSG_UNDECODABLE = 1u << 1, /* a header block failed HPACK: the
					    fields before the failure kept */
	DT_H2_MSG_BODY_TRUNCATED = 1u << 2, /* body past max_body dropped */
	DT_H2_MSG_FIELDS_TRUNCATED = 1u << 3, /* fields past max_fields dropped */
	DT_H2_MSG_HEADERS = 1u << 4,	/* a header block arrived */
	DT_H2_MSG_TRAILERS = 1u << 5,	/* a header block after the headers */
};

/*
 * One side of a stream. pseudo holds the pseudo-header fields (":method",
 * ":path", ":scheme", ":authority", ":status", ...) and headers the
 * regular ones, in the order sent; a response's interim (1xx) header
 * blocks are dropped. trailers: the fields of the header blocks that
 * follow the headers. body: the DATA payloads (padding stripped), the first
 * max_body bytes of them; body_wire counts them all.
 */
struct dt_h2_message {
	uint32_t flags;			/* enum dt_h2_msg_flag */
	struct dt_h2_fields pseudo;
	struct dt_h2_fields headers;
	struct dt_h2_fields trailers;
	uint8_t *body;
	size_t body_len;
	size_t body_cap;		/* private: allocated bytes */
	uint64_t body_wire;
	/* dt_h2_conn_set_time()'s value when the message's first and last
	 * frame (HEADERS, CONTINUATION, DATA, PUSH_PROMISE) were decoded;
	 * 0 when it has none */
	uint64_t first_ts, last_ts;
};

enum dt_h2_stream_flag {
	DT_H2_STREAM_RESET = 1u << 0,	/* RST_STREAM: rst_error, rst_by */
	DT_H2_STREAM_INCOMPLETE = 1u << 1, /* connection ended or stream evicted
					      before both sides ended */
	DT_H2_STREAM_MIDSTREAM = 1u << 2, /* opened before the decoder joined */
	DT_H2_STREAM_PUSHED = 1u << 3,	/* server push: request from the
					   PUSH_PROMISE */
};

/* A request and its response, paired by stream id. */
struct dt_h2_stream {
	uint32_t id;
	uint32_t flags;			/* enum dt_h2_stream_flag */
	uint32_t rst_error;		/* RST_STREAM error code */
	uint8_t rst_by;			/* enum dt_h2_dir that reset it */
	struct dt_h2_message request;
	struct dt_h2_message response;
	struct dt_h2_stream *next;	/* private */
};

struct dt_h2_opts {
	bool midstream;		/* joined an open connection */
	size_t max_body;	/* body bytes kept per message */
	size_t max_fields;	/* fields kept (their bytes) in the headers, and
				   in the trailers */
	size_t max_streams;	/* open streams tracked; more evict the oldest */
	uint32_t max_table;	/* largest HPACK table a peer may ask for */
};

/* Defaults: not midstream, 1 MiB bodies, 64 KiB of fields, 256 streams,
 * 64 KiB tables. */
void dt_h2_opts_init(struct dt_h2_opts *opts);

struct dt_h2_conn;

/* Creates a connection decoder; *out is owned by the caller
 * (dt_h2_conn_free()). 0 or -ENOMEM. */
int dt_h2_conn_new(struct dt_h2_conn **out, const struct dt_h2_opts *opts);
/*
 * Decodes the whole frames at the start of buf[0..len), bytes of direction
 * dir; *used receives the bytes consumed. Returns 0, or a negative errno
 * when the bytes break HTTP/2 (-EBADMSG, -E2BIG) or memory runs out
 * (-ENOMEM): the connection is then failed, later calls return the same
 * error, and dt_h2_conn_close() hands out the streams in flight.
 */
int dt_h2_conn_feed(struct dt_h2_conn *c, enum dt_h2_dir dir,
		    const uint8_t *buf, size_t len, size_t *used);
/* The caller's time for the frames fed next, stamped on the messages they
 * carry (first_ts, last_ts). The codec has no clock and does not read the
 * value: a recorder that feeds each capture as it arrives passes the
 * capture's time. */
void dt_h2_conn_set_time(struct dt_h2_conn *c, uint64_t ts);
/* Body and field bytes held by the open streams (memory accounting). */
size_t dt_h2_conn_held(const struct dt_h2_conn *c);
/* Moves the next finished stream (both sides ended, reset, or flushed by
 * close or eviction) to *out, owned by the caller (dt_h2_stream_free()).
 * Returns 1, or 0 when none is ready. Streams come in the order they
 * finished. */
int dt_h2_conn_next_stream(struct dt_h2_conn *c, struct dt_h2_stream **out);
/* The connection ended: every open stream finishes, the unended ones
 * marked DT_H2_STREAM_INCOMPLETE. */
void dt_h2_conn_close(struct dt_h2_conn *c);
/* True when req asks for an h2c upgrade (RFC 7540 section 3.2: the
 * token "h2c" in Upgrade, one HTTP2-Settings field) and resp, its 101,
 * agrees (Upgrade: h2c). */
bool dt_h2c_upgrade_agreed(const struct dt_http1_head *req,
			   const struct dt_http1_head *resp);
/*
 * Starts c, a connection not fed yet, as the h2c upgrade of the HTTP/1.1
 * request at req[0..len) (its head and Content-Length body, whole): the
 * request becomes stream 1, ended, stamped with dt_h2_conn_set_time()'s
 * value. Its fields become :method, :scheme "http", :authority (from
 * Host), :path, then the others lower-cased in the order sent, without
 * those HTTP/2 forbids (Connection, Keep-Alive, Proxy-Connection,
 * Transfer-Encoding, Upgrade, TE other than "trailers") and
 * HTTP2-Settings, whose settings apply as the client's SETTINGS. The
 * bytes fed next are HTTP/2: the client's start with the preface.
 * Returns 0, -EBADMSG when req is not such a request (a bad head or
 * HTTP2-Settings, a chunked body), -EINVAL when c has streams, -ENOMEM.
 */
int dt_h2_conn_upgrade(struct dt_h2_conn *c, const uint8_t *req, size_t len);
/* Last GOAWAY error code, or -1 when no GOAWAY was seen. */
int64_t dt_h2_conn_goaway(const struct dt_h2_conn *c);
void dt_h2_conn_free(struct dt_h2_conn *c);
void dt_h2_stream_free(struct dt_h2_stream *s);

/* The field named name (exact, lower case as HTTP/2 requires), NULL when
 * absent. Borrowed from fs. */
const struct dt_h2_field *dt_h2_fields_find(const struct dt_h2_fields *fs,
					    const char *name);
/* :status of a response as a number, -1 when absent or not 3 digits. */
int dt_h2_message_status(const struct dt_h2_message *m);

/* ---------------------------------------------------------------------- */
/* Frames from stored messages (pcap export)                              */
/* ---------------------------------------------------------------------- */

struct dt_h2_encoder;

/* The HPACK state of one connection, a deflater per direction (nghttp2's),
 * for writing its stored messages back as frames in order. *out is owned
 * by the caller (dt_h2_encoder_free()). 0 or -ENOMEM. */
int dt_h2_encoder_new(struct dt_h2_encoder **out);
void dt_h2_encoder_free(struct dt_h2_encoder *e);
/*
 * The frames a stored message (dt_h2_store_message()'s form) was sent in
 * on stream_id by side dir: a HEADERS (and CONTINUATION past 16384 bytes)
 * of its fields, DATA frames of at most 16384 bytes of its body, then a
 * HEADERS of trailers (stored field lines as dt_h2_store_fields() makes
 * them; NULL or "" for none); the last frame carries END_STREAM. The first
 * message of a side is preceded by what it sends first: the client
 * preface and an empty SETTINGS frame, or the server's empty SETTINGS.
 * *out is malloc'd, owned by the caller. Returns 0, -EBADMSG when the
 * stored fields do not parse, -EINVAL for stream id 0 or past 2^31 - 1,
 * -ENOMEM (the encoder is then unusable: its HPACK state is lost).
 */
int dt_h2_encode_message(struct dt_h2_encoder *e, enum dt_h2_dir dir,
			 uint32_t stream_id, const uint8_t *stored,
			 size_t len, const char *trailers, uint8_t **out,
			 size_t *out_len);

/* ---------------------------------------------------------------------- */
/* Storage of a message in an exchange (man/deetune-session.5)            */
/* ---------------------------------------------------------------------- */

/*
 * The stored form of one side of a stream: its pseudo-header fields then
 * its regular ones as "name: value\r\n" lines in the order sent, a blank
 * line, then the body (the DATA payloads as received, concatenated).
 * Bytes no HTTP/2 field may hold and the lines could not carry (CR, LF
 * and NUL; in names also space and a colon past the first byte) are
 * replaced by '_' and *cleaned set. *out is malloc'd, owned by the caller.
 * 0 or -ENOMEM.
 */
int dt_h2_store_message(const struct dt_h2_message *m, uint8_t **out,
			size_t *len, bool *cleaned);
/* The same lines for a list of fields (trailers), NUL terminated, no
 * blank line. *out is malloc'd, owned by the caller. 0 or -ENOMEM. */
int dt_h2_store_fields(const struct dt_h2_fields *fs, char **out,
		       bool *cleaned);
/*
 * Parses stored field lines at buf[0..len) up to a blank line or the end
 * of buf: the first max fields go to fields (borrowing buf), *n gets how
 * many, *blank whether a blank line ended them. Returns the bytes read
 * (the blank line included: a stored message's body starts there), or
 * -EBADMSG for a line cut short or without ": " past its first byte.
 */
ssize_t dt_h2_stored_fields_parse(const uint8_t *buf, size_t len,
				  struct dt_http1_header *fields, size_t max,
				  size_t *n, bool *blank);

/* ---------------------------------------------------------------------- */
/* gRPC                                                                   */
/* ---------------------------------------------------------------------- */

#define DT_GRPC_PREFIX_LEN 5
/* grpc's default receive limit */
#define DT_GRPC_DEFAULT_MAX_MESSAGE (4u * 1024 * 1024)

/* One length-prefixed message; data borrows the body. */
struct dt_grpc_message {
	bool compressed;
	uint32_t length;	/* as announced */
	struct dt_slice data;
};

/*
 * Splits the message at the start of buf[0..len) (a reassembled request
 * or response body). Returns its size (5 + length) when complete, 0 when
 * the prefix or the data is cut short (m->data then holds what buf has,
 * m->length what the prefix announced once it is whole), -EBADMSG when
 * the flag byte is not 0 or 1, -E2BIG when the length exceeds max_len
 * (0: DT_GRPC_DEFAULT_MAX_MESSAGE).
 */
ssize_t dt_grpc_message_next(const uint8_t *buf, size_t len, uint32_t max_len,
			     struct dt_grpc_message *m);

/* True when the message's content-type is application/grpc[+proto...]. */
bool dt_grpc_is_grpc(const struct dt_h2_message *m);

/*
 * Splits a :path "/pkg.Service/Method" into its service ("pkg.Service")
 * and method ("Method"), borrowing path. 0, or -EBADMSG when path does
 * not have that form.
 */
int dt_grpc_parse_path(const char *path, struct dt_slice *service,
		       struct dt_slice *method);

#define DT_GRPC_MESSAGE_MAX 1024

/*
 * The status of a gRPC response: grpc-status and grpc-message from its
 * trailers, or from its headers in a trailers-only response. *code gets
 * the status (0..99), msg the percent-decoded grpc-message, NUL
 * terminated, cut to msglen - 1 bytes ("" when absent). Returns 0,
 * -ENOENT when there is no grpc-status, -EBADMSG when it is not a number.
 */
int dt_grpc_status(const struct dt_h2_message *response, int *code,
		   char *msg, size_t msglen);

/* Sets the attributes grpc.status and grpc.message (when not empty) of x
 * from the response, as the recorder and the replayer store them; nothing
 * when it carries no grpc-status. 0 or -ENOMEM. */
struct dt_exchange;
int dt_grpc_set_status_attrs(struct dt_exchange *x,
			     const struct dt_h2_message *response);

/* Name of a status code ("OK", "CANCELLED", ...), NULL past 16. */
const char *dt_grpc_status_name(int code);

/* ---------------------------------------------------------------------- */
/* Protobuf without a schema                                              */
/* ---------------------------------------------------------------------- */

#define DT_PB_MAX_DEPTH 64
#define DT_PB_MAX_FIELD ((1u << 29) - 1)

/*
 * Decodes buf[0..len) as a protobuf message without its schema into *out,
 * a new JSON array owned by the caller (json_decref()), one object per
 * field in wire order:
 *   {"field": 1, "wire": "varint", "value": 150}
 *   {"field": 2, "wire": "i64", "value": 4614253070214989087}
 *   {"field": 3, "wire": "i32", "value": 1078530011}
 *   {"field": 4, "wire": "len", "message": [ ...fields... ]}
 *   {"field": 5, "wire": "len", "string": "text"}
 *   {"field": 6, "wire": "len", "bytes": "00ff"}      (hex)
 * Integers are the unsigned wire values; those past INT64_MAX are decimal
 * strings. A length-delimited field shows as a message when its bytes
 * parse fully as one (and are not empty), else as a string when they are
 * valid UTF-8, else as bytes; at max_depth (0: DT_PB_MAX_DEPTH, at most
 * that) nested messages are not tried. Returns 0, -EBADMSG when buf is
 * not a message (truncated field, field number 0 or past DT_PB_MAX_FIELD,
 * a varint past 64 bits, groups or an unknown wire type), -ENOMEM.
 */
int dt_pb_decode(const uint8_t *buf, size_t len, int max_depth, json_t **out);

/* ---------------------------------------------------------------------- */
/* Protobuf field names from a descriptor set                            */
/* ---------------------------------------------------------------------- */

/* Longest fully qualified type name or method path accepted. */
#define DT_PB_MAX_NAME 4096
/* Deepest nesting of message types inside a descriptor set. */
#define DT_PB_MAX_TYPE_DEPTH 32

/* The message types, enum values and gRPC methods of a descriptor set. */
struct dt_pb_descriptors;

/*
 * Parses a FileDescriptorSet (what `protoc --descriptor_set_out=F
 * --include_imports` writes) from buf[0..len) into *out, owned by the
 * caller (dt_pb_descriptors_free()); buf is not referenced afterwards.
 * Kept: each file's package, its message types with their nested types
 * (fields: name, number, type, type_name), enums (value names) and
 * services (methods: input and output types). Everything else is skipped.
 * Returns 0, -EBADMSG for bytes that are not such a set (truncated
 * fields, wrong wire types for the parts kept, nesting deeper than
 * DT_PB_MAX_TYPE_DEPTH, a name longer than DT_PB_MAX_NAME, no files), or
 * -ENOMEM; on error, err (if errlen > 0) says what was wrong.
 */
int dt_pb_descriptors_load(const uint8_t *buf, size_t len,
			   struct dt_pb_descriptors **out, char *err,
			   size_t errlen);
void dt_pb_descriptors_free(struct dt_pb_descriptors *d);

/*
 * The input and output message types ("pkg.Request", no leading dot) of
 * the gRPC method at path "/pkg.Service/Method". They borrow d. Returns
 * 0 or -ENOENT.
 */
int dt_pb_method_types(const struct dt_pb_descriptors *d, const char *path,
		       const char **input, const char **output);

/*
 * Adds "name" to each field of decoded (an array dt_pb_decode() made)
 * that the message type `type` (fully qualified, leading dot optional)
 * declares; a nested "message" of a message-typed field is named by its
 * type in turn (up to DT_PB_MAX_DEPTH levels), and the "value" of an
 * enum-typed field gets "enum", its value's name, when declared. Fields
 * the type does not declare keep their numbers only. Returns 0, -ENOENT
 * when d has no such type, -EINVAL when decoded is not an array,
 * -ENOMEM.
 */
int dt_pb_name_fields(json_t *decoded, const struct dt_pb_descriptors *d,
		      const char *type);

#endif /* DEETUNE_FORMATS_HTTP2_H */
