// SPDX-License-Identifier: MIT
/*
 * Stored HTTP/2 messages back to frames, for the pcap export: what the
 * wire would have carried, re-encoded with nghttp2's HPACK deflater (one
 * per direction, as a peer keeps one) so that Wireshark decodes the
 * header blocks in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/http2_int.h"

/* The frame size every peer accepts before SETTINGS say otherwise. */
#define FRAME_MAX DT_H2_DEFAULT_MAX_FRAME

struct dt_h2_encoder {
	nghttp2_hd_deflater *deflater[2];	/* enum dt_h2_dir */
	bool started[2];
};

/* The output of one message: grown as frames are appended. */
struct wire {
	uint8_t *buf;
	size_t len, cap;
};

int dt_h2_encoder_new(struct dt_h2_encoder **out)
{
	struct dt_h2_encoder *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (int d = 0; d < 2; d++) {
		if (nghttp2_hd_deflate_new(&e->deflater[d],
					   DT_HPACK_DEFAULT_TABLE)) {
			dt_h2_encoder_free(e);
			return -ENOMEM;
		}
	}
	*out = e;
	return 0;
}

void dt_h2_encoder_free(struct dt_h2_encoder *e)
{
	if (!e)
		return;
	for (int d = 0; d < 2; d++)
		if (e->deflater[d])
			nghttp2_hd_deflate_del(e->deflater[d]);
	free(e);
}

static int wire_reserve(struct wire *w, size_t extra)
{
	size_t cap = w->cap ? w->cap : 256;
	uint8_t *nb;

	if (extra > SIZE_MAX / 2 - w->len)
		return -ENOMEM;
	while (cap < w->len + extra)
		cap *= 2;
	if (cap == w->cap)
		return 0;
	nb = realloc(w->buf, cap);
	if (!nb)
		return -ENOMEM;
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static int wire_frame(struct wire *w, uint8_t type, uint8_t flags,
		      uint32_t stream_id, const uint8_t *payload, size_t len)
{
	uint8_t *h;

	if (wire_reserve(w, DT_H2_FRAME_HEADER_LEN + len))
		return -ENOMEM;
	h = w->buf + w->len;
	h[0] = (uint8_t)(len >> 16);
	h[1] = (uint8_t)(len >> 8);
	h[2] = (uint8_t)len;
	h[3] = type;
	h[4] = flags;
	h[5] = (uint8_t)(stream_id >> 24 & 0x7f);
	h[6] = (uint8_t)(stream_id >> 16);
	h[7] = (uint8_t)(stream_id >> 8);
	h[8] = (uint8_t)stream_id;
	if (len)
		memcpy(h + DT_H2_FRAME_HEADER_LEN, payload, len);
	w->len += DT_H2_FRAME_HEADER_LEN + len;
	return 0;
}

/* What a side sends before its first stream: the client's preface, then
 * its SETTINGS (the defaults, so empty); the server's SETTINGS. */
static int wire_connection_start(struct wire *w, enum dt_h2_dir dir)
{
	if (dir == DT_H2_CLIENT) {
		if (wire_reserve(w, DT_H2_PREFACE_LEN))
			return -ENOMEM;
		memcpy(w->buf + w->len, DT_H2_PREFACE, DT_H2_PREFACE_LEN);
		w->len += DT_H2_PREFACE_LEN;
	}
	return wire_frame(w, DT_H2_SETTINGS, 0, 0, NULL, 0);
}

/* Field lines before the blank line (or the end), counted to size the
 * array they are parsed into. */
static size_t count_field_lines(const uint8_t *p, size_t len)
{
	const uint8_t *eol;
	size_t n = 0, off = 0;

	while (off + 1 < len && !(p[off] == '\r' && p[off + 1] == '\n') &&
	       (eol = memchr(p + off, '\n', len - off))) {
		n++;
		off = (size_t)(eol - p) + 1;
	}
	return n;
}

/* HEADERS, then CONTINUATION frames past the frame size, of the header
 * block that encodes fields[0..n). */
static int wire_header_block(struct wire *w, nghttp2_hd_deflater *d,
			     uint32_t stream_id, bool end_stream,
			     const struct dt_http1_header *fields, size_t n)
{
	nghttp2_nv *nv = calloc(n ? n : 1, sizeof(*nv));
	uint8_t *block = NULL, type = DT_H2_HEADERS, flags;
	size_t bound, off = 0, part;
	ssize_t blen;
	int ret = -ENOMEM;

	if (!nv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		nv[i].name = (uint8_t *)fields[i].name.ptr;
		nv[i].namelen = fields[i].name.len;
		nv[i].value = (uint8_t *)fields[i].value.ptr;
		nv[i].valuelen = fields[i].value.len;
	}
	bound = nghttp2_hd_deflate_bound(d, nv, n);
	block = malloc(bound ? bound : 1);
	if (!block)
		goto out;
	blen = nghttp2_hd_deflate_hd(d, block, bound, nv, n);
	if (blen < 0)
		goto out;
	do {
		part = (size_t)blen - off < FRAME_MAX ? (size_t)blen - off :
							FRAME_MAX;
		flags = off + part == (size_t)blen ? DT_H2_FLAG_END_HEADERS : 0;
		if (type == DT_H2_HEADERS && end_stream)
			flags |= DT_H2_FLAG_END_STREAM;
		ret = wire_frame(w, type, flags, stream_id, block + off, part);
		type = DT_H2_CONTINUATION;
		off += part;
	} while (!ret && off < (size_t)blen);
out:
	free(block);
	free(nv);
	return ret;
}

/* Parses the field lines at buf[0..len) and encodes them as a header
 * block. */
static int wire_fields(struct wire *w, nghttp2_hd_deflater *d,
		       uint32_t stream_id, bool end_stream,
		       const uint8_t *buf, size_t len)
{
	size_t max = count_field_lines(buf, len), n;
	struct dt_http1_header *fields = calloc(max ? max : 1,
						sizeof(*fields));
	ssize_t r;
	bool blank;
	int ret;

	if (!fields)
		return -ENOMEM;
	r = dt_h2_stored_fields_parse(buf, len, fields, max, &n, &blank);
	ret = r < 0 ? (int)r : wire_header_block(w, d, stream_id, end_stream,
						 fields, n);
	free(fields);
	return ret;
}

static int wire_body(struct wire *w, uint32_t stream_id, bool end_stream,
		     const uint8_t *body, size_t len)
{
	size_t off = 0, part;
	int ret = 0;

	while (!ret && off < len) {
		part = len - off < FRAME_MAX ? len - off : FRAME_MAX;
		ret = wire_frame(w, DT_H2_DATA,
				 end_stream && off + part == len ?
					 DT_H2_FLAG_END_STREAM : 0,
				 stream_id, body + off, part);
		off += part;
	}
	return ret;
}

int dt_h2_encode_message(struct dt_h2_encoder *e, enum dt_h2_dir dir,
			 uint32_t stream_id, const uint8_t *stored,
			 size_t len, const char *trailers, uint8_t **out,
			 size_t *out_len)
{
	nghttp2_hd_deflater *d = e->deflater[dir & 1];
	bool has_trailers = trailers && trailers[0];
	struct wire w = { 0 };
	ssize_t head;
	size_t n;
	bool blank;
	int ret = 0;

	if (stream_id == 0 || stream_id > 0x7fffffffu)
		return -EINVAL;
	/* where the body starts: END_STREAM goes on the last frame */
	head = dt_h2_stored_fields_parse(stored, len, NULL, 0, &n, &blank);
	if (head < 0)
		return (int)head;
	if (!e->started[dir & 1])
		ret = wire_connection_start(&w, dir);
	if (!ret)
		ret = wire_fields(&w, d, stream_id,
				  !has_trailers && (size_t)head == len, stored,
				  (size_t)head);
	if (!ret)
		ret = wire_body(&w, stream_id, !has_trailers, stored + head,
				len - (size_t)head);
	if (!ret && has_trailers)
		ret = wire_fields(&w, d, stream_id, true,
				  (const uint8_t *)trailers, strlen(trailers));
	if (ret) {
		free(w.buf);
		return ret;
	}
	e->started[dir & 1] = true;
	*out = w.buf;
	*out_len = w.len;
	return 0;
}
