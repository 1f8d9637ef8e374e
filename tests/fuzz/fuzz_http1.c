// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the HTTP/1.x codec.
 *
 * Input: byte 0 selects framer options (bit 0: the request was HEAD, bit 1:
 * it was CONNECT, bits 2-3: head limit), byte 1 seeds the sizes of the
 * pieces the stream arrives in, the rest is the stream. The stream is framed
 * as requests and as responses, piece by piece as the recorder does, and
 * each verdict is checked against a fresh framer given the same bytes at
 * once: splitting must never change the result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "tests/fuzz/fuzz_check.h"

struct fuzz_opts {
	bool request_was_head;
	bool request_was_connect;
	size_t head_limit;
	uint32_t rng;
};

static void framer_prepare(struct dt_http1_framer *f,
			   const struct fuzz_opts *o)
{
	f->head_limit = o->head_limit;
	f->request_was_head = o->request_was_head;
	f->request_was_connect = o->request_was_connect;
}

/* Piece sizes: mostly small, sometimes large. */
static size_t piece_size(struct fuzz_opts *o)
{
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 17;
	o->rng ^= o->rng << 5;
	return (o->rng & 7) ? 1 + o->rng % 32 : 1 + o->rng % 2048;
}

/* Reads every byte a head's slices point at, so that the sanitizers see
 * slices that leave the buffer. */
static void head_check(const uint8_t *buf, size_t len,
		       const struct dt_http1_head *h)
{
	const struct dt_http1_header *hd_found;
	volatile uint8_t sink = 0;
	size_t i, k;

	CHECK(h->head_len > 0 && h->head_len <= len);
	CHECK(h->nheaders <= DT_HTTP1_MAX_HEADERS);
	for (k = 0; k < h->method.len; k++)
		sink ^= h->method.ptr[k];
	for (k = 0; k < h->target.len; k++)
		sink ^= h->target.ptr[k];
	for (k = 0; k < h->reason.len; k++)
		sink ^= h->reason.ptr[k];
	for (i = 0; i < h->nheaders; i++) {
		const struct dt_http1_header *hd = &h->headers[i];

		CHECK(hd->name.ptr >= buf && hd->value.ptr >= buf);
		CHECK(hd->name.ptr + hd->name.len <= buf + h->head_len);
		CHECK(hd->value.ptr + hd->value.len <= buf + h->head_len);
		for (k = 0; k < hd->value.len; k++)
			sink ^= hd->value.ptr[k];
	}
	hd_found = dt_http1_find_header(h, "Transfer-Encoding");
	CHECK(!hd_found || (hd_found >= h->headers &&
			    hd_found < h->headers + h->nheaders &&
			    hd_found->name.len == 17));
	(void)sink;
}

/* A fresh framer given buf[0..len) at once must agree with f. */
static void verdict_check(const struct dt_http1_framer *f, int rc,
			  const uint8_t *buf, size_t len, bool is_request,
			  const struct fuzz_opts *o)
{
	struct dt_http1_framer once;
	int once_rc;

	dt_http1_framer_init(&once, is_request);
	framer_prepare(&once, o);
	once_rc = dt_http1_framer_scan(&once, buf, len);
	CHECK(once_rc == rc);
	CHECK(once.status == f->status);
	CHECK(once.body_until_close == f->body_until_close);
	CHECK(once.upgraded == f->upgraded);
	if (rc == DT_HTTP1_COMPLETE)
		CHECK(once.msg_len == f->msg_len);
}

static void message_check(const uint8_t *buf, const struct dt_http1_framer *f,
			  bool is_request)
{
	struct dt_http1_head head;
	ssize_t n;

	CHECK(f->msg_len > 0);
	n = dt_http1_parse_head(buf, f->msg_len, is_request, f->head_limit,
				&head);
	CHECK(n > 0 && (size_t)n <= f->msg_len);
	head_check(buf, f->msg_len, &head);
	if (!is_request)
		CHECK(head.status == f->status);
}

static void frame_stream(const uint8_t *data, size_t size, bool is_request,
			 struct fuzz_opts o)
{
	struct dt_http1_framer f;
	size_t off = 0, len = 0;
	int rc;

	dt_http1_framer_init(&f, is_request);
	framer_prepare(&f, &o);
	while (off < size) {
		len += piece_size(&o);
		if (len > size - off)
			len = size - off;
		rc = dt_http1_framer_scan(&f, data + off, len);
		CHECK(rc == DT_HTTP1_NEED_MORE || rc == DT_HTTP1_COMPLETE ||
		      rc == -EBADMSG || rc == -E2BIG);
		if (rc == DT_HTTP1_NEED_MORE && len < size - off)
			continue;
		if (rc == DT_HTTP1_NEED_MORE) {
			verdict_check(&f, rc, data + off, len, is_request, &o);
			rc = dt_http1_framer_eof(&f, len);
			CHECK(rc == DT_HTTP1_NEED_MORE ||
			      (f.body_until_close && f.msg_len == len));
			return;
		}
		verdict_check(&f, rc, data + off, len, is_request, &o);
		if (rc == DT_HTTP1_COMPLETE) {
			CHECK(f.msg_len <= len);
			message_check(data + off, &f, is_request);
			off += f.msg_len;
			len -= f.msg_len;
			if (f.upgraded)
				return;
		} else {
			/* what a recorder does after a framing error */
			off += 1 + dt_http1_resync(data + off + 1,
						   size - off - 1, is_request);
			len = 0;
		}
		dt_http1_framer_reset(&f);
		framer_prepare(&f, &o);
	}
}

static void resync_check(const uint8_t *data, size_t size, bool is_request)
{
	size_t r = dt_http1_resync(data, size, is_request);

	CHECK(r <= size);
	if (r == size)
		return;
	CHECK(dt_http1_resync(data + r, size - r, is_request) == 0);
	if (is_request)
		CHECK(dt_http1_looks_like_request(data + r, size - r));
}

static void parse_check(const uint8_t *data, size_t size, bool is_request,
			size_t limit)
{
	struct dt_http1_head head;
	ssize_t n = dt_http1_parse_head(data, size, is_request, limit, &head);

	CHECK(n == 0 || n == -EBADMSG || n == -E2BIG || n > 0);
	if (n > 0)
		head_check(data, size, &head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 0, 64, 256, 4096 };
	struct fuzz_opts o;

	if (size < 2)
		return 0;
	o.request_was_head = data[0] & 1;
	o.request_was_connect = data[0] & 2;
	o.head_limit = limits[(data[0] >> 2) & 3];
	o.rng = 0x9e3779b9u ^ data[1];
	data += 2;
	size -= 2;

	frame_stream(data, size, true, o);
	frame_stream(data, size, false, o);
	parse_check(data, size, true, o.head_limit);
	parse_check(data, size, false, o.head_limit);
	resync_check(data, size, true);
	resync_check(data, size, false);
	return 0;
}
