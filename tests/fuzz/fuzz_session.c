// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the session reader.
 *
 * The first input byte picks a mode. Even: the rest is read as a session
 * file as is, which mostly exercises the checks at the edges (magics,
 * lengths, checksums, truncation). Odd: the rest is a session file whose
 * frames hold their records uncompressed; the target compresses them and
 * fixes every checksum first, so that mutations get past the checksums to
 * the frame, index and record decoding behind them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "formats/formats.h"
#include "formats/session_format.h"

static void append(struct dt_buf *out, const uint8_t *src, size_t len)
{
	if (dt_buf_reserve(out, len))
		abort();
	if (len)
		memcpy(out->data + out->len, src, len);
	out->len += len;
}

/* Copies the header and fixes its checksum; returns the bytes used. */
static size_t seal_header(const uint8_t *in, size_t len, struct dt_buf *out)
{
	size_t hlen;

	if (len < DT_HEADER_FIXED_LEN)
		return 0;
	hlen = dt_get_u32(in + DT_HEADER_LEN_AT);
	if (hlen < DT_HEADER_MIN_LEN || hlen > len)
		return 0;
	append(out, in, hlen);
	dt_put_u32(out->data + hlen - 4, dt_crc32c(0, out->data, hlen - 4));
	return hlen;
}

/* Compresses the raw records of the frame at in[0..len); returns the
 * input bytes used, 0 when in does not start with a frame header. */
static size_t seal_frame(ZSTD_CCtx *cctx, const uint8_t *in, size_t len,
			 struct dt_buf *out)
{
	struct dt_frame_header h;
	size_t raw_len, bound, clen;
	uint8_t *p;

	if (len < DT_FRAME_HEADER_LEN ||
	    memcmp(in, DT_FRAME_MAGIC, DT_BLOCK_MAGIC_LEN) != 0)
		return 0;
	/* the input's compressed length is the length of its raw records */
	dt_frame_header_decode(in, &h);
	raw_len = h.comp_len;
	if (raw_len > len - DT_FRAME_HEADER_LEN)
		raw_len = len - DT_FRAME_HEADER_LEN;
	bound = ZSTD_compressBound(raw_len);
	if (dt_buf_reserve(out, DT_FRAME_HEADER_LEN + bound))
		abort();
	p = out->data + out->len;
	clen = ZSTD_compress2(cctx, p + DT_FRAME_HEADER_LEN, bound,
			      in + DT_FRAME_HEADER_LEN, raw_len);
	if (ZSTD_isError(clen))
		abort();
	/* raw length and record count stay as the input says */
	h.comp_len = (uint32_t)clen;
	h.payload_crc = dt_crc32c(0, p + DT_FRAME_HEADER_LEN, clen);
	dt_frame_header_encode(p, &h);
	out->len += DT_FRAME_HEADER_LEN + clen;
	return DT_FRAME_HEADER_LEN + raw_len;
}

/*
 * Index and trailer: the index entries and the trailer are made to point
 * at the frames and the index as sealed, which moved when compressed.
 */
static void seal_index(const uint8_t *in, size_t len,
		       const struct dt_buf *frames, struct dt_buf *out)
{
	size_t index_len = len - DT_TRAILER_LEN, index_at = out->len;
	size_t entries = (index_len - DT_INDEX_FIXED_LEN) / DT_INDEX_ENTRY_LEN;
	struct dt_trailer t;
	uint8_t *p;

	append(out, in, len);
	p = out->data + index_at;
	for (size_t i = 0; i < entries && i < frames->len / 8; i++)
		memcpy(p + DT_INDEX_FIXED_LEN + i * DT_INDEX_ENTRY_LEN,
		       frames->data + i * 8, 8);
	dt_put_u32(p + index_len - 4, dt_crc32c(0, p, index_len - 4));
	dt_trailer_decode(in + index_len, &t);
	t.index_offset = index_at;
	t.index_len = index_len;
	dt_trailer_encode(p + index_len, &t);
}

static void seal_session(ZSTD_CCtx *cctx, const uint8_t *in, size_t len,
			 struct dt_buf *out)
{
	size_t pos = seal_header(in, len, out), used;
	struct dt_buf frames = { 0 }; /* u64 offsets of the sealed frames */

	for (;;) {
		if (dt_buf_reserve(&frames, 8))
			abort();
		dt_put_u64(frames.data + frames.len, out->len);
		used = seal_frame(cctx, in + pos, len - pos, out);
		if (!used)
			break;
		frames.len += 8;
		pos += used;
	}
	if (len - pos >= DT_INDEX_FIXED_LEN + 8 + DT_TRAILER_LEN &&
	    memcmp(in + pos, DT_INDEX_MAGIC, DT_BLOCK_MAGIC_LEN) == 0)
		seal_index(in + pos, len - pos, &frames, out);
	else
		append(out, in + pos, len - pos);
	dt_buf_release(&frames);
}

static void read_all(const uint8_t *data, size_t len)
{
	struct dt_session_reader *r;
	struct dt_exchange x;
	char err[256];
	size_t n;

	if (dt_session_reader_open(&r, data, len, err, sizeof(err)))
		return;
	dt_exchange_init(&x);
	dt_session_reader_meta(r, &n);
	dt_session_reader_stats(r, &n);
	while (dt_session_reader_next(r, &x) > 0)
		dt_exchange_attr(&x, "path");
	/* errors are sticky: one more call must not read further */
	dt_session_reader_next(r, &x);
	if (strlen(dt_session_reader_error(r)) >= 256)
		abort();
	dt_session_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ZSTD_CCtx *cctx;
	struct dt_buf sealed = { 0 };

	if (!size)
		return 0;
	if (!(data[0] & 1)) {
		read_all(data + 1, size - 1);
		return 0;
	}
	if (!cctx) {
		cctx = ZSTD_createCCtx();
		if (!cctx)
			abort();
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	}
	seal_session(cctx, data + 1, size - 1, &sealed);
	read_all(sealed.data, sealed.len);
	dt_buf_release(&sealed);
	return 0;
}
