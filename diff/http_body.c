// SPDX-License-Identifier: MIT
/*
 * HTTP bodies as the application saw them. A recording keeps the bytes of
 * the wire, chunked and compressed as they were sent, while a replay
 * client may hand over bodies already de-chunked or decompressed: both
 * sides are brought to the decoded form before they are compared. A
 * decoding that fails means the bytes were not in that coding after all
 * and they are compared as they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "diff/diff_int.h"

/* A header's value without surrounding blanks. */
static struct dt_slice header_value(const struct dt_http1_head *head,
				    const char *name)
{
	const struct dt_http1_header *h = dt_http1_find_header(head, name);
	struct dt_slice v = { NULL, 0 };

	if (!h)
		return v;
	v = h->value;
	while (v.len && (v.ptr[0] == ' ' || v.ptr[0] == '\t')) {
		v.ptr++;
		v.len--;
	}
	while (v.len && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
		v.len--;
	return v;
}

static bool slice_is(struct dt_slice v, const char *word)
{
	return v.len == strlen(word) &&
	       !strncasecmp((const char *)v.ptr, word, v.len);
}

/* True when the last coding of a Transfer-Encoding list is chunked. */
static bool is_chunked(const struct dt_http1_head *head)
{
	struct dt_slice v = header_value(head, "Transfer-Encoding");
	size_t i = v.len;

	if (!v.ptr)
		return false;
	while (i && v.ptr[i - 1] != ',')
		i--;
	v.ptr += i;
	v.len -= i;
	while (v.len && (v.ptr[0] == ' ' || v.ptr[0] == '\t')) {
		v.ptr++;
		v.len--;
	}
	return slice_is(v, "chunked");
}

/* The end of the line starting at pos (its LF), or len. */
static size_t line_end(const uint8_t *p, size_t len, size_t pos)
{
	const uint8_t *lf = memchr(p + pos, '\n', len - pos);

	return lf ? (size_t)(lf - p) : len;
}

/* Chunk size in hex before an optional extension; -1 when malformed. */
static int64_t chunk_size(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX >> 4))
			return -1;
		v = (v << 4) | (uint64_t)d;
	}
	if (!i || v > INT64_MAX)
		return -1;
	if (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t' &&
	    p[i] != '\r')
		return -1;
	return (int64_t)v;
}

/* De-chunks p[0..len) into out; -EBADMSG when it is not chunked. The
 * trailer section after the last chunk is dropped. */
static int dechunk(const uint8_t *p, size_t len, struct dt_sbuf *out)
{
	size_t pos = 0, eol;
	int64_t size;

	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		eol = line_end(p, len, pos);
		size = chunk_size(p + pos, eol - pos);
		if (size < 0 || eol == len)
			return -EBADMSG;
		pos = eol + 1;
		if (size == 0)
			break;
		if ((uint64_t)size > len - pos)
			return -EBADMSG;
		dt_sbuf_put(out, p + pos, (size_t)size);
		pos += (size_t)size;
		if (pos < len && p[pos] == '\r')
			pos++;
		if (pos >= len || p[pos] != '\n')
			return -EBADMSG;
		pos++;
	}
	return out->oom ? -ENOMEM : 0;
}

/* windowBits for inflateInit2(): gzip, or zlib-wrapped deflate (raw
 * deflate, which some servers send, when the zlib header is missing). */
static int inflate_bits(struct dt_slice coding, const uint8_t *p, size_t len)
{
	if (slice_is(coding, "gzip") || slice_is(coding, "x-gzip"))
		return 16 + MAX_WBITS;
	if (!slice_is(coding, "deflate"))
		return 0;
	if (len >= 2 && (p[0] & 0x0f) == 8 && ((p[0] << 8) | p[1]) % 31 == 0)
		return MAX_WBITS;
	return -MAX_WBITS;
}

/* Inflates p[0..len) into out, gzip members one after another;
 * -EBADMSG when the bytes are not in that coding or decode past
 * DT_HTTP_BODY_MAX. */
static int inflate_all(const uint8_t *p, size_t len, int bits,
		       struct dt_sbuf *out)
{
	uint8_t chunk[16384];
	bool done = false;
	z_stream zs;
	size_t take;
	int zr;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, bits) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)p;
	for (;;) {
		if (!zs.avail_in && len) {
			take = len > UINT32_MAX ? UINT32_MAX : len;
			zs.avail_in = (uInt)take;
			len -= take;
		}
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		/* Z_BUF_ERROR: no progress, the input ended in the stream */
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		dt_sbuf_put(out, chunk, sizeof(chunk) - zs.avail_out);
		if (out->oom || out->len > DT_HTTP_BODY_MAX)
			break;
		if (zr != Z_STREAM_END)
			continue;
		if (!zs.avail_in && !len) {
			done = true;
			break;
		}
		/* only gzip has members; other trailing bytes are damage */
		if (bits < 16 || inflateReset(&zs) != Z_OK)
			break;
	}
	inflateEnd(&zs);
	if (done)
		return 0;
	return out->oom && out->len <= DT_HTTP_BODY_MAX ? -ENOMEM : -EBADMSG;
}

static int keep_decoded(struct dt_sbuf *b, const uint8_t **out,
			size_t *out_len, uint8_t **owned)
{
	free(*owned);
	*out_len = b->len;
	*owned = (uint8_t *)dt_sbuf_take(b);
	*out = *owned;
	return *owned ? 0 : -ENOMEM;
}

int dt_http_body_decode(const struct dt_http1_head *head, const uint8_t *body,
			size_t len, const uint8_t **out, size_t *out_len,
			uint8_t **owned)
{
	struct dt_slice coding = header_value(head, "Content-Encoding");
	struct dt_sbuf b = { 0 };
	int ret, bits;

	*out = body;
	*out_len = len;
	*owned = NULL;
	if (is_chunked(head)) {
		ret = dechunk(body, len, &b);
		if (ret == -ENOMEM)
			goto fail;
		if (!ret && keep_decoded(&b, out, out_len, owned))
			return -ENOMEM;
		dt_sbuf_release(&b);
	}
	bits = inflate_bits(coding, *out, *out_len);
	if (!bits || !*out_len)
		return 0;
	ret = inflate_all(*out, *out_len, bits, &b);
	if (ret == -ENOMEM)
		goto fail;
	if (!ret && keep_decoded(&b, out, out_len, owned))
		return -ENOMEM;
	dt_sbuf_release(&b);
	return 0;
fail:
	dt_sbuf_release(&b);
	free(*owned);
	*owned = NULL;
	return -ENOMEM;
}
