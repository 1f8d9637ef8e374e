/* SPDX-License-Identifier: MIT */
/*
 * Redis serialization protocol (RESP2 and RESP3) codec: framing requests and
 * replies in a byte stream incrementally, decoding commands, telling pub/sub
 * pushes from replies, summarising replies for people, and finding a command
 * start in a stream joined part-way through.
 *
 * This is a section of the formats module's public header: formats/formats.h
 * includes it at its end (it uses struct dt_slice). Include formats.h.
 *
 * Replies of every RESP3 type are accepted whether or not the client
 * negotiated RESP3 with HELLO 3: a RESP2 server never sends them, so there is
 * nothing to track. Not supported: RESP3 streamed strings and aggregates
 * ("$?", "*?" ...), which the spec describes but no Redis server sends; they
 * fail as -EBADMSG.
 *
 * Errors: -EBADMSG for bytes that are not RESP, -E2BIG for values past the
 * limits below. Nothing here allocates.
 */
#ifndef DEETUNE_FORMATS_RESP_H
#define DEETUNE_FORMATS_RESP_H

/* Longest bulk string: Redis' default proto-max-bulk-len. */
#define DT_RESP_MAX_BULK (512u * 1024 * 1024)
/* Most elements in one aggregate: what Redis accepts in a command (INT_MAX);
 * the pairs of a map doubled still fit 32 bits. */
#define DT_RESP_MAX_ELEMENTS 0x7fffffffu
/* Deepest nesting of aggregates (and attributes). */
#define DT_RESP_MAX_DEPTH 64
/* Longest inline command line: Redis' PROTO_INLINE_MAX_SIZE. */
#define DT_RESP_MAX_INLINE (64u * 1024)
/* Longest simple string, simple error, double or big number line. */
#define DT_RESP_MAX_LINE (1024u * 1024)

/*
 * Incremental message framing for one direction of one connection, used as
 * the HTTP/1 framer is: the caller keeps the bytes of the current message
 * from its first byte and calls dt_resp_framer_scan() with all of them after
 * each append; the framer remembers how far it got, so the total work stays
 * linear. A request is one command: an array of bulk strings, or an inline
 * command (a text line, as telnet sends). A reply is one value, including
 * the attributes before it.
 */
enum dt_resp_scan {
	DT_RESP_NEED_MORE = 0,
	DT_RESP_COMPLETE = 1,	/* framer->msg_len bytes form one message */
};

/* A header line being read: type byte, then digits or text up to CRLF
 * (private to the codec). */
struct dt_resp_line {
	uint8_t type;
	uint8_t sign;		/* '+' or '-' before the digits, else 0 */
	bool cr;		/* CR seen, LF expected */
	uint32_t index;		/* bytes read after the type byte */
	uint64_t num;		/* value of the digits */
};

struct dt_resp_framer {
	bool is_request;
	/* result: */
	size_t msg_len;		/* valid after DT_RESP_COMPLETE */
	/* private scanning state */
	int state;
	bool blank;		/* inline line holds only spaces so far */
	uint32_t depth;		/* open aggregates */
	size_t pos;		/* next byte to look at */
	size_t start;		/* request: offset of its first line */
	uint64_t remaining;	/* payload bytes of a bulk string still due */
	uint64_t attributes;	/* bit d: open aggregate d is an attribute */
	struct dt_resp_line line;
	uint32_t pending[DT_RESP_MAX_DEPTH]; /* elements due per aggregate */
};

void dt_resp_framer_init(struct dt_resp_framer *f, bool is_request);
/* Forgets the current message; keeps is_request. */
void dt_resp_framer_reset(struct dt_resp_framer *f);
/*
 * Returns DT_RESP_NEED_MORE, DT_RESP_COMPLETE or a negative errno (-EBADMSG,
 * -E2BIG), as soon as a byte decides it: a length past the limits fails
 * before its payload arrives. Results stick until reset: COMPLETE again with
 * the same msg_len, or the same error. -EINVAL when len is below the length
 * an earlier call scanned.
 *
 * Requests: lines holding only whitespace and the empty arrays "*0" and
 * "*-1", which Redis skips without a reply, are counted in the msg_len of
 * the command that follows them. Redis would also skip "*-2" and below;
 * they fail here, as any negative length other than -1 does.
 */
int dt_resp_framer_scan(struct dt_resp_framer *f, const uint8_t *buf,
			size_t len);

/*
 * Decodes the command at the start of buf[0..len): argv[0] is the command
 * name as sent (any case), argv[1..] its arguments; slices borrow buf and
 * are binary-safe. Fills argv[0..min(*argc, max_argv)) and sets *argc to the
 * number of words the command has (at least 1). Inline commands are split
 * as Redis splits them, on whitespace, with a word that starts with a
 * double or single quote running to the matching quote; the slice holds the
 * bytes between the quotes, escape sequences as sent (not decoded).
 * Returns the request's length (its msg_len, > 0), 0 when buf holds no
 * complete request, -EBADMSG or -E2BIG when it is not a valid one (an
 * inline command with unbalanced quotes is not: Redis rejects it too).
 */
ssize_t dt_resp_parse_command(const uint8_t *buf, size_t len,
			      struct dt_slice *argv, size_t max_argv,
			      size_t *argc);

/*
 * Finds the first offset in buf[0..len) where a plausible command array
 * starts ("*<n>\r\n$<len>\r\n<name>\r\n..."), for joining a request stream
 * mid-connection or recovering after a gap. Returns len when there is none.
 * A candidate is its header, a command name (a letter, then up to 31
 * letters, digits or "-_.:|") and its first 16 arguments: checking all of
 * them would make the search quadratic on hostile input; the framer checks
 * the rest. A candidate cut short by the end of buf counts (the bytes there
 * fit so far): keep the bytes from the returned offset and call again when
 * more arrive. Inline commands are not looked for: any line would pass.
 *
 * Replies have no such function: every byte of a bulk payload may look like
 * the start of a reply, and no reply says which request it answers. After a
 * gap in the reply stream, pairing must wait for the stream to be known to
 * be at a message boundary (e.g. no reply outstanding and the first reply
 * bytes after a request that followed the gap).
 */
size_t dt_resp_resync(const uint8_t *buf, size_t len);

/* True when buf starts like a command array as dt_resp_resync() judges
 * one (or a prefix of one), for detecting the protocol from the first
 * bytes a client sends. */
bool dt_resp_looks_like_request(const uint8_t *buf, size_t len);

/* What a reply is, for pairing replies with requests. */
enum dt_resp_push {
	DT_RESP_REPLY = 0,		/* answers the oldest request */
	DT_RESP_PUSH_MESSAGE,		/* message, pmessage, smessage */
	DT_RESP_PUSH_SUBSCRIPTION,	/* (p|s)(un)subscribe confirmation */
	DT_RESP_PUSH_OTHER,		/* another RESP3 push (invalidate...) */
};

/*
 * Classifies the reply at buf[0..len). A RESP3 push (">") is always a push.
 * A RESP2 array is one when subscribed (the client sent a SUBSCRIBE,
 * PSUBSCRIBE or SSUBSCRIBE and the subscription count last reported is not
 * 0) and its first element is a pub/sub kind above (any case). For
 * subscription pushes, *subscriptions (when not NULL) receives the count of
 * subscriptions the server reports, or -1 when there is none; the count
 * falling to 0 ends the subscribed mode of a RESP2 connection. Bytes that do
 * not start with a complete reply header are a DT_RESP_REPLY.
 */
enum dt_resp_push dt_resp_push_classify(const uint8_t *buf, size_t len,
					bool subscribed,
					int64_t *subscriptions);
/* dt_resp_push_classify() != DT_RESP_REPLY */
bool dt_resp_is_push(const uint8_t *buf, size_t len, bool subscribed);

/*
 * The type byte of the reply value at buf[0..len), after any attributes:
 * '+', '-', ':', '$', '*', '_', ',', '#', '!', '=', '(', '%', '~' or '>'
 * ('-' and '!' are errors). -EBADMSG when buf does not start with a
 * complete, valid value header.
 */
int dt_resp_reply_type(const uint8_t *buf, size_t len);

/* Room dt_resp_summarize() needs for any summary. */
/* Name of a reply type byte as summaries show it ("status", "error" for
 * '-' and '!', "bulk", "array", ..., "push"); never NULL. */
const char *dt_resp_type_name(uint8_t type);

#define DT_RESP_SUMMARY_MAX 320

/*
 * Writes a one-line summary of the reply value at buf[0..len) to out, NUL
 * terminated: type name and a preview of the value, e.g. `bulk(5) "hello"`,
 * `array(3)`, `error "ERR unknown command"`, `integer 42`, `nil`, `status
 * "OK"`, `map(2)`, `boolean true`. Names: status, error, integer, bulk,
 * array, nil, double, boolean, verbatim, bignum, map, set, push; a bulk
 * error is `error(<len>) "..."`; attributes show as a prefix `attribute(<n
 * pairs>) `. Strings are quoted with C escapes for bytes other than
 * printable ASCII and cut after 64 bytes, marked by `...` after the quote;
 * a buffer ending inside the payload shows what it holds, marked the same.
 * Only the value's header, and attributes before it, must be complete.
 * Returns the summary's length, -EBADMSG when buf does not start with a
 * value header, -EINVAL when outlen is 0. An outlen below
 * DT_RESP_SUMMARY_MAX may cut the summary short.
 */
int dt_resp_summarize(const uint8_t *buf, size_t len, char *out,
		      size_t outlen);

#endif /* DEETUNE_FORMATS_RESP_H */
