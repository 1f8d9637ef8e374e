// SPDX-License-Identifier: MIT
/* Unit tests of the RESP codec: framing, commands, pushes, resync,
 * summaries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "formats/resp.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define MAX_MSGS 64

/* A string literal's bytes without its NUL: literals may hold NULs. */
#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

/* A private copy of exactly len bytes, so that the sanitizers and valgrind
 * catch any read past len. Owned by the caller (free()). */
static uint8_t *copy_exact(const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, data, len);
	return copy;
}

static int scan_exact(struct dt_resp_framer *f, const void *data, size_t len)
{
	uint8_t *copy = copy_exact(data, len);
	int rc = dt_resp_framer_scan(f, copy, len);

	free(copy);
	return rc;
}

/* Frames data[0..len) given at once; *msg_len set on COMPLETE. */
static int frame_once(bool is_request, const uint8_t *data, size_t len,
		      size_t *msg_len)
{
	struct dt_resp_framer f;
	int rc;

	dt_resp_framer_init(&f, is_request);
	rc = scan_exact(&f, data, len);
	*msg_len = rc == DT_RESP_COMPLETE ? f.msg_len : 0;
	return rc;
}

struct framed {
	int rc;		/* COMPLETE or the error that ended the stream */
	size_t msg_len;
};

/*
 * Frames a stream as the recorder does: the bytes arrive in pieces ending
 * at cuts[0] < cuts[1] < ... (the last one being the stream's length);
 * after each arrival the framer scans every byte of the current message
 * received so far.
 * Records each message and a final error, if any. Returns the count.
 */
static size_t frame_pieces(bool is_request, const uint8_t *data,
			   const size_t *cuts, size_t ncuts,
			   struct framed *out)
{
	struct dt_resp_framer f;
	size_t off = 0, n = 0, k;
	int rc;

	dt_resp_framer_init(&f, is_request);
	for (k = 0; k < ncuts; k++) {
		for (;;) {
			rc = scan_exact(&f, data + off, cuts[k] - off);
			if (rc == DT_RESP_NEED_MORE)
				break;
			assert_true(n < MAX_MSGS);
			out[n].rc = rc;
			out[n].msg_len = rc == DT_RESP_COMPLETE ? f.msg_len
								: 0;
			n++;
			if (rc < 0)
				return n;
			assert_true(f.msg_len > 0);
			assert_true(f.msg_len <= cuts[k] - off);
			off += f.msg_len;
			dt_resp_framer_reset(&f);
		}
	}
	return n;
}

static size_t frame_all(bool is_request, const uint8_t *data, size_t len,
			struct framed *out)
{
	return frame_pieces(is_request, data, &len, 1, out);
}

static void assert_framed_equal(const struct framed *a, size_t na,
				const struct framed *b, size_t nb)
{
	size_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_int_equal(a[i].rc, b[i].rc);
		assert_int_equal(a[i].msg_len, b[i].msg_len);
	}
}

/* The first message of data frames to exactly want bytes; trailing bytes
 * of the next message must not be taken. */
static void assert_frames_to(bool is_request, const uint8_t *data, size_t len,
			     size_t want)
{
	size_t msg_len;

	assert_int_equal(frame_once(is_request, data, len, &msg_len),
			 DT_RESP_COMPLETE);
	assert_int_equal(msg_len, want);
	/* one byte short is never enough */
	assert_int_equal(frame_once(is_request, data, want - 1, &msg_len),
			 DT_RESP_NEED_MORE);
}

static void assert_summary(const uint8_t *data, size_t len,
			   const char *want)
{
	char out[DT_RESP_SUMMARY_MAX];
	uint8_t *copy = copy_exact(data, len);
	int n = dt_resp_summarize(copy, len, out, sizeof(out));

	free(copy);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void assert_slice(struct dt_slice s, const void *want, size_t n)
{
	assert_int_equal(s.len, n);
	assert_memory_equal(s.ptr, want, n);
}

#define assert_slice_str(s, str) assert_slice((s), (str), strlen(str))

/* ---------------------------------------------------------------------- */
/* Reply types                                                            */
/* ---------------------------------------------------------------------- */

struct reply_case {
	const char *bytes;
	size_t len;
	const char *summary;
};

#define REPLY(b, s) { (b), sizeof(b) - 1, (s) }

static const struct reply_case reply_cases[] = {
	REPLY("+OK\r\n", "status \"OK\""),
	REPLY("+\r\n", "status \"\""),
	REPLY("-ERR unknown command\r\n", "error \"ERR unknown command\""),
	REPLY(":42\r\n", "integer 42"),
	REPLY(":+7\r\n", "integer +7"),
	REPLY(":-9223372036854775808\r\n", "integer -9223372036854775808"),
	REPLY(":9223372036854775807\r\n", "integer 9223372036854775807"),
	REPLY("$5\r\nhello\r\n", "bulk(5) \"hello\""),
	REPLY("$0\r\n\r\n", "bulk(0) \"\""),
	REPLY("$4\r\na\r\nb\r\n", "bulk(4) \"a\\r\\nb\""),
	REPLY("$-1\r\n", "nil"),
	REPLY("*-1\r\n", "nil"),
	REPLY("*0\r\n", "array(0)"),
	REPLY("*2\r\n$3\r\nfoo\r\n:1\r\n", "array(2)"),
	REPLY("_\r\n", "nil"),
	REPLY(",3.14\r\n", "double 3.14"),
	REPLY(",-inf\r\n", "double -inf"),
	REPLY(",1.5e-10\r\n", "double 1.5e-10"),
	REPLY("#t\r\n", "boolean true"),
	REPLY("#f\r\n", "boolean false"),
	REPLY("!21\r\nSYNTAX invalid syntax\r\n",
	      "error(21) \"SYNTAX invalid syntax\""),
	REPLY("=15\r\ntxt:Some string\r\n", "verbatim(15) \"txt:Some string\""),
	REPLY("(3492890328409238509324850943850943825024385\r\n",
	      "bignum 3492890328409238509324850943850943825024385"),
	REPLY("(-12\r\n", "bignum -12"),
	REPLY("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "map(2)"),
	REPLY("%0\r\n", "map(0)"),
	REPLY("~3\r\n+a\r\n+b\r\n+c\r\n", "set(3)"),
	REPLY(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", "push(3)"),
	/* the attribute example of the RESP3 specification */
	REPLY("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n"
	      "$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
	      "attribute(1) array(2)"),
	REPLY("|0\r\n+OK\r\n", "status \"OK\""),
};

static void test_reply_types(void **state)
{
	/* bytes of a following reply must stay out of msg_len */
	static const char next[] = "+NEXT\r\n";
	uint8_t buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];

		assert_true(c->len + sizeof(next) <= sizeof(buf));
		memcpy(buf, c->bytes, c->len);
		memcpy(buf + c->len, next, sizeof(next) - 1);
		assert_frames_to(false, buf, c->len + sizeof(next) - 1,
				 c->len);
		assert_summary((const uint8_t *)c->bytes, c->len, c->summary);
		assert_int_equal(dt_resp_is_push((const uint8_t *)c->bytes,
						 c->len, false),
				 c->bytes[0] == '>');
	}
}

static void test_reply_type_byte(void **state)
{
	(void)state;
	assert_int_equal(dt_resp_reply_type(LIT("-ERR x\r\n")), '-');
	assert_int_equal(dt_resp_reply_type(LIT("!3\r\nERR\r\n")), '!');
	assert_int_equal(dt_resp_reply_type(LIT("$-1\r\n")), '$');
	/* the type of the value an attribute annotates */
	assert_int_equal(dt_resp_reply_type(LIT("|1\r\n+a\r\n:1\r\n#t\r\n")),
			 '#');
	assert_int_equal(dt_resp_reply_type(LIT("+OK\r")), -EBADMSG);
	assert_int_equal(dt_resp_reply_type(LIT("|1\r\n+a\r\n")), -EBADMSG);
	assert_int_equal(dt_resp_reply_type(LIT("?\r\n")), -EBADMSG);
	assert_int_equal(dt_resp_reply_type(NULL, 0), -EBADMSG);
}

/* ---------------------------------------------------------------------- */
/* Nesting                                                                */
/* ---------------------------------------------------------------------- */

static void test_nested_aggregates(void **state)
{
	static const char arrays[] = "*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n"
				     "*2\r\n+Hello\r\n-World\r\n+NEXT\r\n";
	static const char mixed[] =
		"%2\r\n"
		"+set\r\n~2\r\n*0\r\n*-1\r\n"
		"+map\r\n%1\r\n$-1\r\n*1\r\n%0\r\n"
		":9\r\n";
	/* an attribute inside an array annotates the element after it */
	static const char attr_inside[] =
		"*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\na\r\n"
		"|2\r\n+a\r\n_\r\n+b\r\n*1\r\n#t\r\n:2\r\n"
		":9\r\n";

	(void)state;
	assert_frames_to(false, LIT(arrays), sizeof(arrays) - 1 - 7);
	assert_frames_to(false, LIT(mixed), sizeof(mixed) - 1 - 4);
	assert_frames_to(false, LIT(attr_inside), sizeof(attr_inside) - 1 - 4);
	assert_summary(LIT("%2\r\n+set\r\n~2\r\n*0\r\n*-1\r\n"), "map(2)");
}

/* n aggregate headers of type t opening one another, then ":1\r\n". */
static size_t nest(char *buf, size_t size, const char *header, int n)
{
	size_t len = 0, hl = strlen(header);
	int i;

	for (i = 0; i < n; i++) {
		assert_true(len + hl < size);
		memcpy(buf + len, header, hl);
		len += hl;
	}
	assert_true(len + 4 < size);
	memcpy(buf + len, ":1\r\n", 4);
	return len + 4;
}

static void test_depth_limit(void **state)
{
	char buf[4096];
	size_t len, msg_len;

	(void)state;
	len = nest(buf, sizeof(buf), "*1\r\n", DT_RESP_MAX_DEPTH);
	assert_frames_to(false, (uint8_t *)buf, len, len);
	/* the bomb fails as soon as the level too many opens */
	len = nest(buf, sizeof(buf), "*1\r\n", DT_RESP_MAX_DEPTH + 1);
	assert_int_equal(frame_once(false, (uint8_t *)buf,
				    4 * (DT_RESP_MAX_DEPTH + 1), &msg_len),
			 -E2BIG);
	assert_int_equal(frame_once(false, (uint8_t *)buf, len, &msg_len),
			 -E2BIG);
	/* attributes nest too */
	len = nest(buf, sizeof(buf), "|1\r\n+k\r\n", DT_RESP_MAX_DEPTH + 1);
	assert_int_equal(frame_once(false, (uint8_t *)buf, len, &msg_len),
			 -E2BIG);
	/* closed levels free their slot: siblings do not add up */
	len = 0;
	for (int i = 0; i < 200; i++)
		len += (size_t)sprintf(buf + len, "%s", "|1\r\n+k\r\n+v\r\n");
	len += (size_t)sprintf(buf + len, "%s", "+OK\r\n");
	assert_frames_to(false, (uint8_t *)buf, len, len);
	assert_summary((uint8_t *)buf, len, "attribute(200) status \"OK\"");
}

/* ---------------------------------------------------------------------- */
/* Big bulk strings                                                       */
/* ---------------------------------------------------------------------- */

static void test_big_bulk(void **state)
{
	const size_t payload = MIB;
	char head[32], want[DT_RESP_SUMMARY_MAX];
	struct dt_resp_framer f;
	size_t hl, total, avail, i;
	uint8_t *buf;
	int rc = DT_RESP_NEED_MORE;

	(void)state;
	hl = (size_t)snprintf(head, sizeof(head), "$%zu\r\n", payload);
	total = hl + payload + 2;
	buf = malloc(total);
	assert_non_null(buf);
	memcpy(buf, head, hl);
	/* CRLFs and type bytes inside the payload must not matter */
	for (i = 0; i < payload; i++)
		buf[hl + i] = "*1\r\n$"[i % 5];
	memcpy(buf + hl + payload, "\r\n", 2);

	dt_resp_framer_init(&f, false);
	for (avail = 0; avail < total && rc == DT_RESP_NEED_MORE;) {
		avail += 4 * KIB;
		if (avail > total)
			avail = total;
		rc = dt_resp_framer_scan(&f, buf, avail);
		if (avail < total)
			assert_int_equal(rc, DT_RESP_NEED_MORE);
	}
	assert_int_equal(rc, DT_RESP_COMPLETE);
	assert_int_equal(f.msg_len, total);

	/* 64 bytes of preview, then the mark of the cut */
	strcpy(want, "bulk(1048576) \"");
	for (i = 0; i < 64; i++) {
		const char *e[] = { "*", "1", "\\r", "\\n", "$" };

		strcat(want, e[i % 5]);
	}
	strcat(want, "\"...");
	assert_summary(buf, total, want);
	/* the header alone is enough for a summary */
	assert_summary(buf, hl, "bulk(1048576) \"\"...");
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Requests                                                               */
/* ---------------------------------------------------------------------- */

/* Appends a command in RESP array form; returns its length. */
static size_t command_append(uint8_t *buf, size_t size, size_t argc,
			     const char *const *argv, const size_t *lens)
{
	size_t len, i;

	len = (size_t)snprintf((char *)buf, size, "*%zu\r\n", argc);
	for (i = 0; i < argc; i++) {
		len += (size_t)snprintf((char *)buf + len, size - len,
					"$%zu\r\n", lens[i]);
		assert_true(len + lens[i] + 2 < size);
		memcpy(buf + len, argv[i], lens[i]);
		memcpy(buf + len + lens[i], "\r\n", 2);
		len += lens[i] + 2;
	}
	return len;
}

static void test_pipelined_requests(void **state)
{
	uint8_t buf[4096], *copy;
	size_t ends[16], len = 0, off = 0, argc, i;
	struct dt_slice argv[4];
	struct framed got[MAX_MSGS];
	char key[16], value[16];
	ssize_t n;

	(void)state;
	for (i = 0; i < 16; i++) {
		const char *words[3] = { i % 2 ? "GET" : "SET", key, value };
		size_t lens[3];

		snprintf(key, sizeof(key), "key:%zu", i);
		/* binary values: a NUL and a CRLF inside */
		memcpy(value, "v\0\r\nx", 5);
		value[5] = (char)('a' + i);
		lens[0] = 3;
		lens[1] = strlen(key);
		lens[2] = 6;
		len += command_append(buf + len, sizeof(buf) - len,
				      i % 2 ? 2 : 3, words, lens);
		ends[i] = len;
	}
	assert_int_equal(frame_all(true, buf, len, got), 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(got[i].rc, DT_RESP_COMPLETE);
		assert_int_equal(off + got[i].msg_len, ends[i]);

		copy = copy_exact(buf + off, len - off);
		n = dt_resp_parse_command(copy, len - off, argv, 4, &argc);
		assert_int_equal(n, got[i].msg_len);
		assert_int_equal(argc, i % 2 ? 2 : 3);
		assert_slice_str(argv[0], i % 2 ? "GET" : "SET");
		snprintf(key, sizeof(key), "key:%zu", i);
		assert_slice_str(argv[1], key);
		if (!(i % 2)) {
			memcpy(value, "v\0\r\nx", 5);
			value[5] = (char)('a' + i);
			assert_slice(argv[2], value, 6);
		}
		free(copy);
		off += got[i].msg_len;
	}
}

static void test_parse_command_limits(void **state)
{
	static const char mset[] = "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n"
				   "$1\r\nb\r\n$1\r\n2\r\n";
	struct dt_slice argv[2];
	size_t argc = 99;

	(void)state;
	/* fewer slots than words: the count still says how many */
	assert_int_equal(dt_resp_parse_command(LIT(mset), argv, 2, &argc),
			 sizeof(mset) - 1);
	assert_int_equal(argc, 5);
	assert_slice_str(argv[0], "MSET");
	assert_slice_str(argv[1], "a");
	assert_int_equal(dt_resp_parse_command(LIT(mset), NULL, 0, &argc),
			 sizeof(mset) - 1);
	assert_int_equal(argc, 5);
	/* incomplete, then not a request */
	assert_int_equal(dt_resp_parse_command(LIT("*2\r\n$3\r\nGET\r\n"),
					       argv, 2, &argc), 0);
	assert_int_equal(argc, 0);
	assert_int_equal(dt_resp_parse_command(LIT("*1\r\n:1\r\n"), argv, 2,
					       &argc), -EBADMSG);
	assert_int_equal(dt_resp_parse_command(LIT("*1\r\n$-1\r\n"), argv, 2,
					       &argc), -EBADMSG);
	/* an empty command name is still a command (Redis answers it) */
	assert_int_equal(dt_resp_parse_command(LIT("*1\r\n$0\r\n\r\n"), argv,
					       2, &argc), 10);
	assert_int_equal(argc, 1);
	assert_int_equal(argv[0].len, 0);
}

static void test_request_filler(void **state)
{
	/* Redis skips these without a reply: they join the next command */
	static const char stream[] = "\r\n*0\r\n\n  \r\n*-1\r\n"
				     "*1\r\n$4\r\nPING\r\n";
	struct dt_slice argv[2];
	size_t argc, msg_len;

	(void)state;
	assert_frames_to(true, LIT(stream), sizeof(stream) - 1);
	assert_int_equal(dt_resp_parse_command(LIT(stream), argv, 2, &argc),
			 sizeof(stream) - 1);
	assert_int_equal(argc, 1);
	assert_slice_str(argv[0], "PING");
	/* filler alone is no request */
	assert_int_equal(frame_once(true, LIT("\r\n*0\r\n\n"), &msg_len),
			 DT_RESP_NEED_MORE);
}

static void test_multi_exec(void **state)
{
	static const char requests[] =
		"*1\r\n$5\r\nMULTI\r\n"
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
		"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
		"*1\r\n$4\r\nEXEC\r\n";
	static const char replies[] = "+OK\r\n+QUEUED\r\n+QUEUED\r\n"
				      "*2\r\n+OK\r\n:1\r\n";
	static const char *const names[] = { "MULTI", "SET", "INCR", "EXEC" };
	static const char *const summaries[] = {
		"status \"OK\"", "status \"QUEUED\"", "status \"QUEUED\"",
		"array(2)",
	};
	struct framed req[MAX_MSGS], rep[MAX_MSGS];
	struct dt_slice argv[3];
	size_t i, argc, off = 0;

	(void)state;
	assert_int_equal(frame_all(true, LIT(requests), req), 4);
	assert_int_equal(frame_all(false, LIT(replies), rep), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(dt_resp_parse_command(
					 (const uint8_t *)requests + off,
					 req[i].msg_len, argv, 3, &argc),
				 req[i].msg_len);
		assert_slice_str(argv[0], names[i]);
		off += req[i].msg_len;
	}
	off = 0;
	for (i = 0; i < 4; i++) {
		assert_summary((const uint8_t *)replies + off, rep[i].msg_len,
			       summaries[i]);
		assert_false(dt_resp_is_push((const uint8_t *)replies + off,
					     rep[i].msg_len, false));
		off += rep[i].msg_len;
	}
	/* a transaction aborted by WATCH, and one refused */
	assert_summary(LIT("*-1\r\n"), "nil");
	assert_summary(LIT("-EXECABORT Transaction discarded because of "
			   "previous errors.\r\n"),
		       "error \"EXECABORT Transaction discarded because of "
		       "previous errors.\"");
}

static void test_inline_commands(void **state)
{
	static const char quoted[] = "SET \"a b\\\" c\" 'it\\'s' \"\"\r\n";
	struct dt_slice argv[8];
	size_t argc, msg_len;

	(void)state;
	assert_frames_to(true, LIT("PING\r\nPING\r\n"), 6);
	assert_int_equal(dt_resp_parse_command(LIT("PING\r\n"), argv, 8,
					       &argc), 6);
	assert_int_equal(argc, 1);
	assert_slice_str(argv[0], "PING");

	/* a bare LF ends the line; runs of spaces and tabs separate */
	assert_int_equal(dt_resp_parse_command(LIT("  set \t k  v \n"), argv,
					       8, &argc), 14);
	assert_int_equal(argc, 3);
	assert_slice_str(argv[0], "set");
	assert_slice_str(argv[1], "k");
	assert_slice_str(argv[2], "v");

	/* quotes group words; escapes stay as sent */
	assert_int_equal(dt_resp_parse_command(LIT(quoted), argv, 8, &argc),
			 sizeof(quoted) - 1);
	assert_int_equal(argc, 4);
	assert_slice_str(argv[1], "a b\\\" c");
	assert_slice_str(argv[2], "it\\'s");
	assert_slice_str(argv[3], "");
	/* in single quotes a backslash escapes only a quote */
	assert_int_equal(dt_resp_parse_command(LIT("GET 'a\\b'\n"), argv, 8,
					       &argc), 10);
	assert_slice_str(argv[1], "a\\b");

	/* what Redis rejects */
	assert_int_equal(dt_resp_parse_command(LIT("SET \"a b\r\n"), argv, 8,
					       &argc), -EBADMSG);
	assert_int_equal(dt_resp_parse_command(LIT("SET 'a'b\r\n"), argv, 8,
					       &argc), -EBADMSG);
	assert_int_equal(dt_resp_parse_command(LIT("SET 'a\\'\r\n"), argv, 8,
					       &argc), -EBADMSG);

	/* a line waits for its LF, up to Redis' limit */
	assert_int_equal(frame_once(true, LIT("PING\r"), &msg_len),
			 DT_RESP_NEED_MORE);
	{
		uint8_t *big = malloc(DT_RESP_MAX_INLINE + 2);

		assert_non_null(big);
		memset(big, 'a', DT_RESP_MAX_INLINE + 2);
		assert_int_equal(frame_once(true, big, DT_RESP_MAX_INLINE,
					    &msg_len), DT_RESP_NEED_MORE);
		assert_int_equal(frame_once(true, big, DT_RESP_MAX_INLINE + 2,
					    &msg_len), -E2BIG);
		big[DT_RESP_MAX_INLINE] = '\n';
		assert_int_equal(frame_once(true, big, DT_RESP_MAX_INLINE + 1,
					    &msg_len), DT_RESP_COMPLETE);
		free(big);
	}
}

/* ---------------------------------------------------------------------- */
/* Pub/sub                                                                */
/* ---------------------------------------------------------------------- */

static void assert_push(const uint8_t *data, size_t len, bool subscribed,
			enum dt_resp_push kind, int64_t subscriptions)
{
	uint8_t *copy = copy_exact(data, len);
	int64_t count = 12345;

	assert_int_equal(dt_resp_push_classify(copy, len, subscribed, &count),
			 kind);
	assert_int_equal(count, subscriptions);
	assert_int_equal(dt_resp_is_push(copy, len, subscribed),
			 kind != DT_RESP_REPLY);
	free(copy);
}

static void test_pubsub_resp2(void **state)
{
	static const char subscribe[] =
		"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n";
	static const char message[] =
		"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
	static const char pmessage[] =
		"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n"
		"$2\r\nhi\r\n";
	static const char unsubscribe[] =
		"*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n";
	/* UNSUBSCRIBE without channels while subscribed to none */
	static const char unsubscribe_none[] =
		"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n";
	/* PING while subscribed: a reply, though an array */
	static const char pong[] = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
	struct framed got[MAX_MSGS];
	char stream[512];
	size_t len;

	(void)state;
	assert_push(LIT(subscribe), true, DT_RESP_PUSH_SUBSCRIPTION, 1);
	assert_push(LIT(message), true, DT_RESP_PUSH_MESSAGE, -1);
	assert_push(LIT(pmessage), true, DT_RESP_PUSH_MESSAGE, -1);
	assert_push(LIT(unsubscribe), true, DT_RESP_PUSH_SUBSCRIPTION, 0);
	assert_push(LIT(unsubscribe_none), true, DT_RESP_PUSH_SUBSCRIPTION,
		    0);
	assert_push(LIT("*3\r\n+SSUBSCRIBE\r\n+s\r\n:2\r\n"), true,
		    DT_RESP_PUSH_SUBSCRIPTION, 2);
	assert_push(LIT(pong), true, DT_RESP_REPLY, -1);
	/* outside subscribed mode the same arrays are replies (LRANGE...) */
	assert_push(LIT(message), false, DT_RESP_REPLY, -1);
	assert_push(LIT(subscribe), false, DT_RESP_REPLY, -1);
	assert_push(LIT("+OK\r\n"), true, DT_RESP_REPLY, -1);
	assert_push(LIT("*0\r\n"), true, DT_RESP_REPLY, -1);
	assert_push(LIT("*-1\r\n"), true, DT_RESP_REPLY, -1);
	assert_push(LIT("*1\r\n:1\r\n"), true, DT_RESP_REPLY, -1);
	/* the count is cut off: the kind is known, the count is not */
	assert_push(LIT("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n"), true,
		    DT_RESP_PUSH_SUBSCRIPTION, -1);

	/* the stream a subscriber reads frames into these messages */
	len = (size_t)snprintf(stream, sizeof(stream), "%s%s%s%s%s", subscribe,
			       message, pong, pmessage, unsubscribe);
	assert_int_equal(frame_all(false, (uint8_t *)stream, len, got), 5);
	assert_int_equal(got[0].msg_len, sizeof(subscribe) - 1);
	assert_int_equal(got[1].msg_len, sizeof(message) - 1);
	assert_int_equal(got[2].msg_len, sizeof(pong) - 1);
	assert_int_equal(got[3].msg_len, sizeof(pmessage) - 1);
	assert_int_equal(got[4].msg_len, sizeof(unsubscribe) - 1);
}

static void test_pubsub_resp3(void **state)
{
	static const char message[] =
		">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
	static const char subscribe[] =
		">3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n";
	static const char invalidate[] =
		">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n";

	(void)state;
	/* pushes whether or not the connection is subscribed */
	assert_push(LIT(message), false, DT_RESP_PUSH_MESSAGE, -1);
	assert_push(LIT(message), true, DT_RESP_PUSH_MESSAGE, -1);
	assert_push(LIT(subscribe), false, DT_RESP_PUSH_SUBSCRIPTION, 3);
	assert_push(LIT(invalidate), false, DT_RESP_PUSH_OTHER, -1);
	assert_push(LIT(">0\r\n"), false, DT_RESP_PUSH_OTHER, -1);
	assert_push(LIT(">1\r\n:1\r\n"), false, DT_RESP_PUSH_OTHER, -1);
	/* attributes before the push are looked past */
	assert_push(LIT("|1\r\n+a\r\n+b\r\n>3\r\n+message\r\n+c\r\n+m\r\n"),
		    false, DT_RESP_PUSH_MESSAGE, -1);
	/* a RESP3 array in subscribed mode is judged as RESP2's */
	assert_push(LIT("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"),
		    true, DT_RESP_PUSH_MESSAGE, -1);
	assert_summary(LIT(invalidate), "push(2)");
	assert_push(LIT("+OK\r\n"), false, DT_RESP_REPLY, -1);
	assert_push(LIT(""), false, DT_RESP_REPLY, -1);
}

/* ---------------------------------------------------------------------- */
/* Splitting                                                              */
/* ---------------------------------------------------------------------- */

static const char mixed_requests[] =
	"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$5\r\n*1\r\n$\r\n"
	"PING\r\n"
	"\r\n*0\r\n"
	"*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
	"  get  \"a b\"\n"
	"*1\r\n$5\r\nMULTI\r\n"
	"*1\r\n$4\r\nEXEC\r\n";

static const char mixed_replies[] =
	"+OK\r\n-ERR wrong\r\n:-5\r\n$3\r\n\r\n*\r\n$-1\r\n*-1\r\n"
	"*3\r\n$1\r\na\r\n*0\r\n%1\r\n+k\r\n~1\r\n_\r\n"
	",2.5\r\n#f\r\n!3\r\nERR\r\n=7\r\ntxt:abc\r\n(123\r\n"
	"|1\r\n+meta\r\n:1\r\n>2\r\n+invalidate\r\n_\r\n"
	"$2\r\nhi\r\n";

/* Splitting a stream at any byte, or feeding it byte by byte, never
 * changes what it frames into. */
static void assert_split_invariant(bool is_request, const uint8_t *data,
				   size_t len, size_t want_msgs)
{
	struct framed once[MAX_MSGS], split[MAX_MSGS];
	size_t cuts[MAX_MSGS * 2], n_once, n, k;

	n_once = frame_all(is_request, data, len, once);
	assert_int_equal(n_once, want_msgs);
	for (k = 0; k < n_once; k++)
		assert_int_equal(once[k].rc, DT_RESP_COMPLETE);
	for (k = 1; k < len; k++) {
		cuts[0] = k;
		cuts[1] = len;
		n = frame_pieces(is_request, data, cuts, 2, split);
		assert_framed_equal(once, n_once, split, n);
	}
	{
		size_t *each = malloc(len * sizeof(*each));

		assert_non_null(each);
		for (k = 0; k < len; k++)
			each[k] = k + 1;
		n = frame_pieces(is_request, data, each, len, split);
		assert_framed_equal(once, n_once, split, n);
		free(each);
	}
}

static void test_split_every_byte(void **state)
{
	(void)state;
	assert_split_invariant(true, LIT(mixed_requests), 6);
	assert_split_invariant(false, LIT(mixed_replies), 14);
}

/* ---------------------------------------------------------------------- */
/* Malformed input                                                        */
/* ---------------------------------------------------------------------- */

struct bad_case {
	bool is_request;
	const char *bytes;
	size_t len;
	int rc;
};

#define BAD(req, b, rc) { (req), (b), sizeof(b) - 1, (rc) }

/* Each fails once its last byte is in, before anything after it. */
static const struct bad_case bad_cases[] = {
	BAD(false, "X", -EBADMSG),
	BAD(false, "\r", -EBADMSG),
	BAD(false, "*1\r\nX", -EBADMSG),
	BAD(false, "$a", -EBADMSG),
	BAD(false, "$1a", -EBADMSG),
	BAD(false, "$\r", -EBADMSG),
	BAD(false, "$-\r", -EBADMSG),
	BAD(false, "$-2", -EBADMSG),
	BAD(false, "$-0\r", -EBADMSG),
	BAD(false, "*-5", -EBADMSG),
	BAD(false, "%-", -EBADMSG),
	BAD(false, "~+", -EBADMSG),
	BAD(false, "!-", -EBADMSG),
	BAD(false, "$4611686018", -E2BIG),
	BAD(false, "$536870913", -E2BIG),
	BAD(false, "*2147483648", -E2BIG),
	BAD(false, "%2147483648", -E2BIG),
	BAD(false, "$000000000000000000001", -EBADMSG),
	BAD(false, ":12a", -EBADMSG),
	BAD(false, ":9223372036854775808", -EBADMSG),
	BAD(false, ":-9223372036854775809", -EBADMSG),
	BAD(false, ":\r", -EBADMSG),
	BAD(false, ":-\r", -EBADMSG),
	BAD(false, "#x", -EBADMSG),
	BAD(false, "#tt", -EBADMSG),
	BAD(false, "#\r", -EBADMSG),
	BAD(false, "_x", -EBADMSG),
	BAD(false, ",\r", -EBADMSG),
	BAD(false, ",1 ", -EBADMSG),
	BAD(false, "(1.", -EBADMSG),
	BAD(false, "(-\r", -EBADMSG),
	BAD(false, "+a\n", -EBADMSG),
	BAD(false, "+a\rb", -EBADMSG),
	BAD(false, "$1\r\nab", -EBADMSG),
	BAD(false, "$1\r\na\rx", -EBADMSG),
	/* RESP3 streamed strings and aggregates */
	BAD(false, "$?", -EBADMSG),
	BAD(false, "*?", -EBADMSG),
	BAD(false, ".", -EBADMSG),
	BAD(true, "*1\r\n:", -EBADMSG),
	BAD(true, "*1\r\n*", -EBADMSG),
	BAD(true, "*1\r\n$-1\r\n", -EBADMSG),
	BAD(true, "*-2", -EBADMSG),
	BAD(true, "*a", -EBADMSG),
	BAD(true, "*1\r\n$536870913", -E2BIG),
};

static void test_malformed(void **state)
{
	struct dt_resp_framer f;
	size_t i, msg_len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		rc = frame_once(c->is_request, (const uint8_t *)c->bytes,
				c->len, &msg_len);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": %d", i, c->bytes, rc);
		rc = frame_once(c->is_request, (const uint8_t *)c->bytes,
				c->len - 1, &msg_len);
		if (rc != DT_RESP_NEED_MORE)
			fail_msg("case %zu \"%s\" cut: %d", i, c->bytes, rc);
	}
	/* $2^62: rejected at once, nothing allocated or awaited */
	assert_int_equal(frame_once(false, LIT("$4611686018427387904\r\n"),
				    &msg_len), -E2BIG);
	assert_int_equal(dt_resp_summarize(LIT("$4611686018427387904\r\n"),
					   (char[8]){ 0 }, 8), -EBADMSG);
	/* the largest bulk string is accepted */
	assert_int_equal(frame_once(false, LIT("$536870912\r\n"), &msg_len),
			 DT_RESP_NEED_MORE);

	/* errors stick; a shrinking buffer is refused */
	dt_resp_framer_init(&f, false);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("$x")), -EBADMSG);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("$x+OK\r\n")), -EBADMSG);
	dt_resp_framer_reset(&f);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("+OK\r\n")),
			 DT_RESP_COMPLETE);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("+OK\r\n+A\r\n")),
			 DT_RESP_COMPLETE);
	assert_int_equal(f.msg_len, 5);
	dt_resp_framer_reset(&f);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("$3\r\nab")),
			 DT_RESP_NEED_MORE);
	assert_int_equal(dt_resp_framer_scan(&f, LIT("$3")), -EINVAL);
	assert_false(f.is_request);
}

static void test_line_limit(void **state)
{
	size_t len = DT_RESP_MAX_LINE + 3, msg_len;
	uint8_t *buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	buf[0] = '-';
	memset(buf + 1, 'e', len - 1);
	assert_int_equal(frame_once(false, buf, DT_RESP_MAX_LINE + 1,
				    &msg_len), DT_RESP_NEED_MORE);
	assert_int_equal(frame_once(false, buf, DT_RESP_MAX_LINE + 2,
				    &msg_len), -E2BIG);
	memcpy(buf + DT_RESP_MAX_LINE + 1, "\r\n", 2);
	assert_int_equal(frame_once(false, buf, len, &msg_len),
			 DT_RESP_COMPLETE);
	assert_int_equal(msg_len, len);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Resync                                                                 */
/* ---------------------------------------------------------------------- */

static void test_resync_pipelined(void **state)
{
	static const char *const names[] = { "SET", "GET", "HSET", "INCRBY" };
	uint8_t buf[2048], *copy;
	size_t starts[16], len = 0, i, k, r;

	(void)state;
	for (i = 0; i < 16; i++) {
		const char *words[3] = { names[i % 4], "some:key", "value-42" };
		size_t lens[3] = { strlen(names[i % 4]), 8, 8 };

		starts[i] = len;
		len += command_append(buf + len, sizeof(buf) - len, 3, words,
				      lens);
	}
	/* from any byte inside command i, the next command is found */
	for (i = 0; i < 16; i++) {
		size_t end = i + 1 < 16 ? starts[i + 1] : len;

		for (k = starts[i] + 1; k < end; k++) {
			copy = copy_exact(buf + k, len - k);
			r = dt_resp_resync(copy, len - k);
			free(copy);
			assert_int_equal(k + r, end);
		}
		assert_int_equal(dt_resp_resync(buf + starts[i],
						len - starts[i]), 0);
	}
	/* what was found frames as a command */
	r = dt_resp_resync(buf + 7, len - 7);
	assert_int_equal(dt_resp_parse_command(buf + 7 + r, len - 7 - r, NULL,
					       0, &i), starts[2] - starts[1]);
}

static void test_resync_candidates(void **state)
{
	static const char value_with_star[] =
		"abc*3\r\n$3\r\n123\r\n" /* not a command name */
		"*1\r\n$4\r\nPING\r\n";
	static const char cut[] = "xx\r\n*2\r\n$3\r\nGE";
	static const char module[] = "..\r\n*2\r\n$9\r\nFT.SEARCH\r\n"
				     "$1\r\ni\r\n";
	static const char not_commands[] = "*0\r\n*-1\r\n*1\r\n*1\r\n:1\r\n"
					   "PING\r\n";
	uint8_t stars[64];

	(void)state;
	assert_int_equal(dt_resp_resync(LIT("no commands here")), 16);
	assert_int_equal(dt_resp_resync(NULL, 0), 0);
	assert_int_equal(dt_resp_resync(LIT(value_with_star)), 16);
	/* a candidate cut short by the end of the buffer counts */
	assert_int_equal(dt_resp_resync(LIT(cut)), 4);
	assert_int_equal(dt_resp_resync(LIT("xxxx*")), 4);
	assert_int_equal(dt_resp_resync(LIT("x*1\r")), 1);
	assert_int_equal(dt_resp_resync(LIT(module)), 4);
	/* empty arrays, nested arrays, inline lines and nulls are not */
	assert_int_equal(dt_resp_resync(LIT(not_commands)),
			 sizeof(not_commands) - 1);
	assert_int_equal(dt_resp_resync(LIT("*1\r\n$-1\r\n")), 9);
	assert_int_equal(dt_resp_resync(LIT("*1\r\n$40\r\n")), 9);
	assert_int_equal(dt_resp_resync(LIT("*1\r\n$4\r\nPING\r\r")), 14);
	assert_int_equal(dt_resp_resync(LIT("*1\r\n$4\r\n-ING\r\n")), 14);
	/* detection from a client's first bytes */
	assert_true(dt_resp_looks_like_request(LIT("*1\r\n$4\r\nPING\r\n")));
	assert_true(dt_resp_looks_like_request(LIT("*2\r\n$3\r\nge")));
	assert_false(dt_resp_looks_like_request(LIT("PING\r\n")));
	assert_false(dt_resp_looks_like_request(LIT("*2\r\n:1\r\n")));
	assert_false(dt_resp_looks_like_request(LIT("x*1\r\n$4\r\nPING\r\n")));
	assert_false(dt_resp_looks_like_request(NULL, 0));
	/* many stars cost one look each */
	memset(stars, '*', sizeof(stars));
	assert_int_equal(dt_resp_resync(stars, sizeof(stars)),
			 sizeof(stars) - 1);
}

/* ---------------------------------------------------------------------- */
/* Summaries                                                              */
/* ---------------------------------------------------------------------- */

static void test_summary_escapes_and_cuts(void **state)
{
	char small[8], out[DT_RESP_SUMMARY_MAX];
	char want[DT_RESP_SUMMARY_MAX];
	uint8_t bulk[200];
	size_t i, len;

	(void)state;
	assert_summary(LIT("$8\r\n\0\"\\\t\x7f\xff\r\n\r\n"),
		       "bulk(8) \"\\x00\\\"\\\\\\t\\x7f\\xff\\r\\n\"");
	/* a buffer ending inside the payload shows what it holds */
	assert_summary(LIT("$10\r\nhel"), "bulk(10) \"hel\"...");
	assert_summary(LIT("!10\r\nERR"), "error(10) \"ERR\"...");
	/* every byte escaped: the longest preview still fits */
	len = (size_t)sprintf((char *)bulk, "=%d\r\n", 128);
	memset(bulk + len, 0x01, 128);
	strcpy(want, "verbatim(128) \"");
	for (i = 0; i < 64; i++)
		strcat(want, "\\x01");
	strcat(want, "\"...");
	assert_summary(bulk, len + 128, want);
	/* long simple errors are cut too */
	len = (size_t)sprintf((char *)bulk, "-%0100d\r\n", 7);
	strcpy(want, "error \"");
	memset(want + 7, '0', 64);
	strcpy(want + 71, "\"...");
	assert_summary(bulk, len, want);
	/* a small output buffer gets a cut, terminated summary */
	assert_int_equal(dt_resp_summarize(LIT("$5\r\nhello\r\n"), small,
					   sizeof(small)), 7);
	assert_string_equal(small, "bulk(5)");
	assert_int_equal(dt_resp_summarize(LIT("+OK\r\n"), small, 1), 0);
	assert_string_equal(small, "");
	assert_int_equal(dt_resp_summarize(LIT("+OK\r\n"), small, 0),
			 -EINVAL);
	/* no summary without a header */
	strcpy(out, "junk");
	assert_int_equal(dt_resp_summarize(LIT("$5\r"), out, sizeof(out)),
			 -EBADMSG);
	assert_string_equal(out, "");
	assert_int_equal(dt_resp_summarize(LIT("hello"), out, sizeof(out)),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_types),
		cmocka_unit_test(test_reply_type_byte),
		cmocka_unit_test(test_nested_aggregates),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_big_bulk),
		cmocka_unit_test(test_pipelined_requests),
		cmocka_unit_test(test_parse_command_limits),
		cmocka_unit_test(test_request_filler),
		cmocka_unit_test(test_multi_exec),
		cmocka_unit_test(test_inline_commands),
		cmocka_unit_test(test_pubsub_resp2),
		cmocka_unit_test(test_pubsub_resp3),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_resync_pipelined),
		cmocka_unit_test(test_resync_candidates),
		cmocka_unit_test(test_summary_escapes_and_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
