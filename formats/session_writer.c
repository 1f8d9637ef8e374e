// SPDX-License-Identifier: MIT
/*
 * session_writer.c: writes a session file (man/deetune-session.5) through
 * a sink: the header, then exchange records batched into zstd frames,
 * then the index and the trailer.
 *
 * Every block goes out in a single sink write, so that a recorder killed
 * between two writes leaves a file that ends at a block boundary and reads
 * back in full. A failed sink write poisons the writer: the file's state
 * is unknown, every later call returns the same error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "formats/session_format.h"

#define DEFAULT_LEVEL 3
#define DEFAULT_FRAME_BYTES (1u << 20)

struct dt_session_writer {
	struct dt_session_sink sink;
	ZSTD_CCtx *cctx;
	size_t frame_bytes;
	struct dt_buf raw;      /* records of the open frame */
	struct dt_buf out;      /* the block being written */
	struct dt_buf index;    /* encoded index entries of written frames */
	struct dt_index_entry frame; /* open frame: records, timestamps */
	uint32_t frames;
	uint64_t exchanges;
	uint64_t bytes;
	int err;
	bool finished;
};

static int sink_write(struct dt_session_writer *w, const void *buf,
		      size_t len)
{
	int ret = w->sink.write(w->sink.ctx, buf, len);

	if (ret) {
		w->err = ret < 0 ? ret : -EIO;
		return w->err;
	}
	w->bytes += len;
	return 0;
}

static int write_header(struct dt_session_writer *w,
			const struct dt_attr *meta, size_t nmeta)
{
	size_t kvlen, len;
	uint8_t *p;
	int ret;

	ret = dt_kv_size(meta, nmeta, &kvlen);
	if (ret)
		return ret;
	len = DT_HEADER_FIXED_LEN + kvlen + 4;
	if (len > DT_HEADER_MAX_LEN)
		return -E2BIG;
	ret = dt_buf_reserve(&w->out, len);
	if (ret)
		return ret;
	p = w->out.data;
	memcpy(p, DT_SESSION_MAGIC, DT_SESSION_MAGIC_LEN);
	dt_put_u16(p + DT_HEADER_MAJOR_AT, DT_SESSION_VERSION);
	dt_put_u16(p + DT_HEADER_MINOR_AT, DT_SESSION_MINOR);
	dt_put_u32(p + DT_HEADER_LEN_AT, (uint32_t)len);
	dt_kv_encode(p + DT_HEADER_FIXED_LEN, meta, nmeta);
	dt_put_u32(p + len - 4, dt_crc32c(0, p, len - 4));
	return sink_write(w, p, len);
}

static int apply_opts(struct dt_session_writer *w,
		      const struct dt_session_writer_opts *opts)
{
	int level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_LEVEL;
	size_t rc;

	w->frame_bytes = opts && opts->frame_bytes ? opts->frame_bytes :
						     DEFAULT_FRAME_BYTES;
	if (w->frame_bytes > DT_FRAME_MAX_RAW || level < ZSTD_minCLevel() ||
	    level > ZSTD_maxCLevel())
		return -EINVAL;
	rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
	return ZSTD_isError(rc) ? -EINVAL : 0;
}

int dt_session_writer_new(struct dt_session_writer **out,
			  const struct dt_session_sink *sink,
			  const struct dt_attr *meta, size_t nmeta,
			  const struct dt_session_writer_opts *opts)
{
	struct dt_session_writer *w;
	int ret;

	if (!sink || !sink->write || (nmeta && !meta))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sink = *sink;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = apply_opts(w, opts);
	if (ret)
		goto fail;
	ret = write_header(w, meta, nmeta);
	if (ret)
		goto fail;
	*out = w;
	return 0;

fail:
	dt_session_writer_free(w);
	return ret;
}

static void frame_note_time(struct dt_index_entry *frame, uint64_t ns)
{
	if (!ns)
		return;
	if (!frame->first_ns || ns < frame->first_ns)
		frame->first_ns = ns;
	if (ns > frame->last_ns)
		frame->last_ns = ns;
}

static int writer_usable(const struct dt_session_writer *w)
{
	if (w->err)
		return w->err;
	return w->finished ? -EINVAL : 0;
}

int dt_session_writer_append(struct dt_session_writer *w,
			     const struct dt_exchange *x)
{
	size_t size;
	int ret;

	ret = writer_usable(w);
	if (ret)
		return ret;
	ret = dt_record_size(x, &size);
	if (ret)
		return ret;
	/* a record that would overflow the open frame starts the next one */
	if (w->raw.len && w->raw.len + size > w->frame_bytes) {
		ret = dt_session_writer_flush(w);
		if (ret)
			return ret;
	}
	ret = dt_buf_reserve(&w->raw, size);
	if (ret)
		return ret;
	w->raw.len += dt_record_encode(w->raw.data + w->raw.len, x);
	w->frame.records++;
	frame_note_time(&w->frame, x->req_start_ns);
	frame_note_time(&w->frame, x->req_end_ns);
	frame_note_time(&w->frame, x->resp_start_ns);
	frame_note_time(&w->frame, x->resp_end_ns);
	w->exchanges++;
	return w->raw.len >= w->frame_bytes ? dt_session_writer_flush(w) : 0;
}

/* Compresses the open frame into w->out behind its frame header. */
static int compress_frame(struct dt_session_writer *w)
{
	struct dt_frame_header h = {
		.raw_len = (uint32_t)w->raw.len,
		.records = w->frame.records,
	};
	size_t bound = ZSTD_compressBound(w->raw.len), clen;
	int ret;

	w->out.len = 0;
	ret = dt_buf_reserve(&w->out, DT_FRAME_HEADER_LEN + bound);
	if (ret)
		return ret;
	clen = ZSTD_compress2(w->cctx, w->out.data + DT_FRAME_HEADER_LEN,
			      bound, w->raw.data, w->raw.len);
	/* with a bound-sized output, only an allocation can fail */
	if (ZSTD_isError(clen))
		return -ENOMEM;
	h.comp_len = (uint32_t)clen;
	h.payload_crc = dt_crc32c(0, w->out.data + DT_FRAME_HEADER_LEN, clen);
	dt_frame_header_encode(w->out.data, &h);
	w->out.len = DT_FRAME_HEADER_LEN + clen;
	return 0;
}

int dt_session_writer_flush(struct dt_session_writer *w)
{
	int ret;

	ret = writer_usable(w);
	if (ret || !w->frame.records)
		return ret;
	/* the index entry is reserved first: after the write nothing fails */
	ret = dt_buf_reserve(&w->index, DT_INDEX_ENTRY_LEN);
	if (!ret)
		ret = compress_frame(w);
	if (ret)
		return ret;
	w->frame.offset = w->bytes;
	w->frame.raw_len = (uint32_t)w->raw.len;
	ret = sink_write(w, w->out.data, w->out.len);
	if (ret)
		return ret;
	dt_index_entry_encode(w->index.data + w->index.len, &w->frame);
	w->index.len += DT_INDEX_ENTRY_LEN;
	w->frames++;
	memset(&w->frame, 0, sizeof(w->frame));
	w->raw.len = 0;
	return 0;
}

/* Index and trailer go out together: a crash leaves both or neither. */
int dt_session_writer_finish(struct dt_session_writer *w,
			     const struct dt_attr *stats, size_t nstats)
{
	struct dt_trailer t;
	size_t kvlen, index_len;
	uint8_t *p;
	int ret;

	if (nstats && !stats)
		return -EINVAL;
	ret = dt_session_writer_flush(w);
	if (ret)
		return ret;
	ret = dt_kv_size(stats, nstats, &kvlen);
	if (ret)
		return ret;
	index_len = DT_INDEX_FIXED_LEN + w->index.len + kvlen + 4;
	w->out.len = 0;
	ret = dt_buf_reserve(&w->out, index_len + DT_TRAILER_LEN);
	if (ret)
		return ret;
	p = w->out.data;
	memcpy(p, DT_INDEX_MAGIC, DT_BLOCK_MAGIC_LEN);
	dt_put_u32(p + 4, w->frames);
	if (w->index.len)
		memcpy(p + DT_INDEX_FIXED_LEN, w->index.data, w->index.len);
	dt_kv_encode(p + DT_INDEX_FIXED_LEN + w->index.len, stats, nstats);
	dt_put_u32(p + index_len - 4, dt_crc32c(0, p, index_len - 4));
	t = (struct dt_trailer){
		.frames = w->frames,
		.index_offset = w->bytes,
		.index_len = index_len,
		.exchanges = w->exchanges,
	};
	dt_trailer_encode(p + index_len, &t);
	ret = sink_write(w, p, index_len + DT_TRAILER_LEN);
	if (ret)
		return ret;
	w->finished = true;
	return 0;
}

int dt_session_writer_recover(struct dt_session_writer *w)
{
	if (!w->err || w->finished)
		return -EINVAL;
	w->err = 0;
	w->exchanges -= w->frame.records;
	memset(&w->frame, 0, sizeof(w->frame));
	w->raw.len = 0;
	return 0;
}

uint64_t dt_session_writer_exchanges(const struct dt_session_writer *w)
{
	return w->exchanges;
}

uint64_t dt_session_writer_bytes(const struct dt_session_writer *w)
{
	return w->bytes;
}

void dt_session_writer_free(struct dt_session_writer *w)
{
	if (!w)
		return;
	ZSTD_freeCCtx(w->cctx);
	dt_buf_release(&w->raw);
	dt_buf_release(&w->out);
	dt_buf_release(&w->index);
	free(w);
}
