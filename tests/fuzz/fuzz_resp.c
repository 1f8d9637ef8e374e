// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the RESP codec.
 *
 * Input: byte 0 seeds the sizes of the pieces the stream arrives in, byte 1
 * bit 0 says whether the connection is subscribed, the rest is the stream.
 * The stream is framed as requests and as replies, piece by piece as the
 * recorder does, and each verdict is checked against a fresh framer given
 * the same bytes at once: splitting must never change the result. Every
 * complete message goes through the command, push and summary helpers,
 * and so do the raw bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/resp.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_ARGV 8

struct fuzz_opts {
	bool subscribed;
	uint32_t rng;
};

/* Piece sizes: mostly small, sometimes large. */
static size_t piece_size(struct fuzz_opts *o)
{
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 17;
	o->rng ^= o->rng << 5;
	return (o->rng & 7) ? 1 + o->rng % 32 : 1 + o->rng % 2048;
}

/* Checks a command's words lie in buf[0..len) and reads every byte, so
 * that the sanitizers see slices that leave the buffer. */
static void words_check(const uint8_t *buf, size_t len,
			const struct dt_slice *argv, size_t n)
{
	volatile uint8_t sink = 0;
	size_t i, k;

	for (i = 0; i < n; i++) {
		CHECK(argv[i].ptr >= buf && argv[i].len <= len);
		CHECK((size_t)(argv[i].ptr - buf) <= len - argv[i].len);
		for (k = 0; k < argv[i].len; k++)
			sink ^= argv[i].ptr[k];
	}
	(void)sink;
}

/* A complete request of msg_len bytes at buf; rest bytes follow it. */
static void request_check(const uint8_t *buf, size_t msg_len, size_t rest)
{
	struct dt_slice argv[MAX_ARGV], again[MAX_ARGV];
	size_t argc, argc_again;
	ssize_t n, m;

	n = dt_resp_parse_command(buf, msg_len, argv, MAX_ARGV, &argc);
	/* only an inline command with unbalanced quotes fails */
	CHECK(n == (ssize_t)msg_len || n == -EBADMSG);
	if (n < 0)
		return;
	CHECK(argc >= 1);
	words_check(buf, msg_len, argv,
		    argc < MAX_ARGV ? argc : MAX_ARGV);
	/* the bytes after the request change nothing */
	m = dt_resp_parse_command(buf, msg_len + rest, again, MAX_ARGV,
				  &argc_again);
	CHECK(m == n && argc_again == argc);
	CHECK(!memcmp(argv, again,
		      (argc < MAX_ARGV ? argc : MAX_ARGV) * sizeof(argv[0])));
}

static void summary_check(const uint8_t *buf, size_t len)
{
	char out[DT_RESP_SUMMARY_MAX], small[12];
	int n, m;

	n = dt_resp_summarize(buf, len, out, sizeof(out));
	CHECK(n == -EBADMSG || (n >= 0 && (size_t)n < sizeof(out)));
	if (n < 0) {
		CHECK(out[0] == '\0');
		return;
	}
	/* nothing is cut with the room the header promises */
	CHECK((size_t)n == strlen(out) && (size_t)n < sizeof(out) - 1);
	m = dt_resp_summarize(buf, len, small, sizeof(small));
	CHECK(m >= 0 && (size_t)m == strlen(small));
	CHECK((size_t)m < sizeof(small));
	CHECK(!strncmp(out, small, (size_t)m));
}

/* A complete reply of msg_len bytes at buf; rest bytes follow it. */
static void reply_check(const uint8_t *buf, size_t msg_len, size_t rest,
			bool subscribed)
{
	char out[DT_RESP_SUMMARY_MAX], again[DT_RESP_SUMMARY_MAX];
	enum dt_resp_push kind;
	int64_t count;
	int type;

	type = dt_resp_reply_type(buf, msg_len);
	CHECK(type > 0 && strchr("+-:$*_,#!=(%~>", type));
	CHECK(dt_resp_summarize(buf, msg_len, out, sizeof(out)) >= 0);
	CHECK(dt_resp_summarize(buf, msg_len + rest, again, sizeof(again)) >=
	      0);
	CHECK(!strcmp(out, again));
	summary_check(buf, msg_len);

	kind = dt_resp_push_classify(buf, msg_len, subscribed, &count);
	CHECK(kind >= DT_RESP_REPLY && kind <= DT_RESP_PUSH_OTHER);
	CHECK(kind == DT_RESP_PUSH_SUBSCRIPTION || count == -1);
	CHECK(dt_resp_is_push(buf, msg_len, subscribed) ==
	      (kind != DT_RESP_REPLY));
	if (type == '>')
		CHECK(kind != DT_RESP_REPLY);
	else if (type != '*' || !subscribed)
		CHECK(kind == DT_RESP_REPLY);
}

/* A fresh framer given buf[0..len) at once must agree with f. */
static void verdict_check(const struct dt_resp_framer *f, int rc,
			  const uint8_t *buf, size_t len, bool is_request)
{
	struct dt_resp_framer once;

	dt_resp_framer_init(&once, is_request);
	CHECK(dt_resp_framer_scan(&once, buf, len) == rc);
	if (rc == DT_RESP_COMPLETE)
		CHECK(once.msg_len == f->msg_len);
}

static void frame_stream(const uint8_t *data, size_t size, bool is_request,
			 struct fuzz_opts o)
{
	struct dt_resp_framer f;
	size_t off = 0, len = 0, last_pos = 0;
	int rc;

	dt_resp_framer_init(&f, is_request);
	while (off < size) {
		len += piece_size(&o);
		if (len > size - off)
			len = size - off;
		rc = dt_resp_framer_scan(&f, data + off, len);
		CHECK(rc == DT_RESP_NEED_MORE || rc == DT_RESP_COMPLETE ||
		      rc == -EBADMSG || rc == -E2BIG);
		/* the framer never goes back nor past the bytes it has */
		CHECK(f.pos >= last_pos && f.pos <= len);
		last_pos = f.pos;
		if (rc == DT_RESP_NEED_MORE && len < size - off)
			continue;
		verdict_check(&f, rc, data + off, len, is_request);
		if (rc == DT_RESP_NEED_MORE)
			return;
		if (rc == DT_RESP_COMPLETE) {
			CHECK(f.msg_len > 0 && f.msg_len <= len);
			if (is_request)
				request_check(data + off, f.msg_len,
					      size - off - f.msg_len);
			else
				reply_check(data + off, f.msg_len,
					    size - off - f.msg_len,
					    o.subscribed);
			off += f.msg_len;
			len -= f.msg_len;
		} else if (is_request) {
			/* what a recorder does after a framing error */
			off += 1 + dt_resp_resync(data + off + 1,
						  size - off - 1);
			len = 0;
		} else {
			off++;
			len = 0;
		}
		dt_resp_framer_reset(&f);
		last_pos = 0;
	}
}

static void resync_check(const uint8_t *data, size_t size)
{
	size_t r = dt_resp_resync(data, size);

	CHECK(r <= size);
	CHECK(dt_resp_looks_like_request(data, size) == (r == 0 && size));
	if (r == size)
		return;
	CHECK(data[r] == '*');
	CHECK(dt_resp_resync(data + r, size - r) == 0);
	CHECK(dt_resp_looks_like_request(data + r, size - r));
}

static void raw_check(const uint8_t *data, size_t size, bool subscribed)
{
	struct dt_slice argv[MAX_ARGV];
	int64_t count;
	size_t argc;
	ssize_t n;
	int type;

	n = dt_resp_parse_command(data, size, argv, MAX_ARGV, &argc);
	CHECK(n == 0 || n == -EBADMSG || n == -E2BIG ||
	      (n > 0 && (size_t)n <= size));
	if (n > 0)
		words_check(data, size, argv,
			    argc < MAX_ARGV ? argc : MAX_ARGV);
	summary_check(data, size);
	type = dt_resp_reply_type(data, size);
	CHECK(type == -EBADMSG || (type > 0 && strchr("+-:$*_,#!=(%~>", type)));
	dt_resp_push_classify(data, size, subscribed, &count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_opts o;

	if (size < 2)
		return 0;
	o.rng = 0x9e3779b9u ^ data[0];
	o.subscribed = data[1] & 1;
	data += 2;
	size -= 2;

	frame_stream(data, size, true, o);
	frame_stream(data, size, false, o);
	raw_check(data, size, o.subscribed);
	resync_check(data, size);
	return 0;
}
