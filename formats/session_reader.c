// SPDX-License-Identifier: MIT
/*
 * session_reader.c: reads a session file (man/deetune-session.5) held in
 * a caller-owned buffer, one exchange at a time.
 *
 * Every block is checked before use: checksums, lengths against the bytes
 * present and against fixed caps, the zstd frame against the sizes its
 * header declares, and with a trailer every frame against its index entry.
 * Each error names the file offset where it was found. Error codes:
 * -EBADMSG corrupt or inconsistent input, -ENODATA input that ends inside
 * a block (a file cut short), -ENOTSUP a newer major version or an unknown
 * critical record field, -ENOMEM.
 *
 * A file without trailer (recording killed) reads up to its end when that
 * falls on a frame boundary; whatever breaks the chain of frames is an
 * error returned after the exchanges of every frame before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "formats/session_format.h"

struct dt_session_reader {
	const uint8_t *data;      /* borrowed */
	size_t len;
	size_t header_len;
	size_t pos;               /* offset of the next block */
	size_t blocks_end;        /* index offset with a trailer, else len */
	struct dt_attr *meta;
	size_t nmeta;
	struct dt_attr *stats;
	size_t nstats;
	bool has_trailer;
	const uint8_t *index;     /* index entries, in data */
	uint32_t index_frames;
	uint32_t frames_read;
	ZSTD_DCtx *dctx;
	struct dt_buf raw;        /* the current frame, decompressed */
	size_t raw_pos;           /* its next record */
	uint32_t records_left;
	uint32_t record_no;
	size_t frame_offset;
	int err;                  /* sticky: every later call returns it */
	char errmsg[256];
	char trailer_err[128];    /* why the end of the file is no trailer */
};

#define fail(r, code, ...) \
	((r)->err = dt_errorf((r)->errmsg, sizeof((r)->errmsg), (code), \
			      __VA_ARGS__))

static int parse_header(struct dt_session_reader *r)
{
	const uint8_t *d = r->data;
	size_t hlen, used, magic_len;
	char msg[128];
	int ret;

	magic_len = r->len < DT_SESSION_MAGIC_LEN ? r->len :
						    DT_SESSION_MAGIC_LEN;
	if (magic_len && memcmp(d, DT_SESSION_MAGIC, magic_len) != 0)
		return fail(r, -EBADMSG, "not a session file (bad magic at offset 0)");
	if (r->len < DT_HEADER_FIXED_LEN)
		return fail(r, -ENODATA, "truncated header at offset 0 (expected %u bytes, %zu present)",
			    DT_HEADER_FIXED_LEN, r->len);
	/* a later major version may change anything after these fields */
	if (dt_get_u16(d + DT_HEADER_MAJOR_AT) != DT_SESSION_VERSION)
		return fail(r, -ENOTSUP, "session format version %u at offset %u not supported (this reader reads %u)",
			    dt_get_u16(d + DT_HEADER_MAJOR_AT),
			    DT_HEADER_MAJOR_AT, DT_SESSION_VERSION);
	hlen = dt_get_u32(d + DT_HEADER_LEN_AT);
	if (hlen < DT_HEADER_MIN_LEN || hlen > DT_HEADER_MAX_LEN)
		return fail(r, -EBADMSG, "bad header length %zu at offset %u",
			    hlen, DT_HEADER_LEN_AT);
	if (hlen > r->len)
		return fail(r, -ENODATA, "truncated header at offset 0 (expected %zu bytes, %zu present)",
			    hlen, r->len);
	if (dt_get_u32(d + hlen - 4) != dt_crc32c(0, d, hlen - 4))
		return fail(r, -EBADMSG, "header checksum mismatch at offset %zu",
			    hlen - 4);
	ret = dt_kv_decode(d + DT_HEADER_FIXED_LEN,
			   hlen - DT_HEADER_FIXED_LEN - 4, &r->meta, &r->nmeta,
			   &used, msg, sizeof(msg));
	if (ret)
		return fail(r, ret, "header metadata at offset %u: %s",
			    DT_HEADER_FIXED_LEN, msg);
	r->header_len = hlen;
	return 0;
}

#define trailer_error(r, ...) \
	dt_errorf((r)->trailer_err, sizeof((r)->trailer_err), -EBADMSG, \
		  __VA_ARGS__)

/* Checks the frame table: ascending offsets inside the frame area, and
 * record counts adding up to the trailer's exchange count. */
static int check_index_entries(struct dt_session_reader *r,
			       const struct dt_trailer *t)
{
	struct dt_index_entry e;
	uint64_t records = 0, next_min = r->header_len;

	for (uint32_t i = 0; i < t->frames; i++) {
		dt_index_entry_decode(r->index + (size_t)i * DT_INDEX_ENTRY_LEN,
				      &e);
		if (e.offset < next_min || e.offset >= t->index_offset)
			return trailer_error(r, "index entry %u at offset %zu: frame offset %llu out of order",
					     i, (size_t)(r->index - r->data) +
					     (size_t)i * DT_INDEX_ENTRY_LEN,
					     (unsigned long long)e.offset);
		next_min = e.offset + DT_FRAME_HEADER_LEN;
		records += e.records;
	}
	if (records != t->exchanges)
		return trailer_error(r, "index counts %llu exchanges, trailer %llu",
				     (unsigned long long)records,
				     (unsigned long long)t->exchanges);
	return 0;
}

/* Checks the index block at t->index_offset and reads its statistics. */
static int parse_index(struct dt_session_reader *r, const struct dt_trailer *t)
{
	const uint8_t *ix = r->data + t->index_offset;
	size_t ilen = t->index_len, table, used;
	char msg[96];
	int ret;

	if (memcmp(ix, DT_INDEX_MAGIC, DT_BLOCK_MAGIC_LEN) != 0)
		return trailer_error(r, "bad index magic at offset %llu",
				     (unsigned long long)t->index_offset);
	if (dt_get_u32(ix + ilen - 4) != dt_crc32c(0, ix, ilen - 4))
		return trailer_error(r, "index checksum mismatch at offset %zu",
				     (size_t)t->index_offset + ilen - 4);
	table = (size_t)t->frames * DT_INDEX_ENTRY_LEN;
	if (dt_get_u32(ix + 4) != t->frames ||
	    table > ilen - DT_INDEX_FIXED_LEN - 4)
		return trailer_error(r, "index at offset %llu does not hold the trailer's %u frames",
				     (unsigned long long)t->index_offset,
				     t->frames);
	r->index = ix + DT_INDEX_FIXED_LEN;
	ret = check_index_entries(r, t);
	if (ret)
		return ret;
	ret = dt_kv_decode(r->index + table,
			   ilen - DT_INDEX_FIXED_LEN - 4 - table, &r->stats,
			   &r->nstats, &used, msg, sizeof(msg));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return trailer_error(r, "statistics at offset %zu: %s",
				     (size_t)(r->index + table - r->data), msg);
	return 0;
}

/*
 * Looks for a trailer at the end of the file. A trailer that fails a check
 * is not an error yet: the reader goes on as for an unfinished file and
 * reports trailer_err only if the frames do not reach the end of the file.
 */
static int find_trailer(struct dt_session_reader *r)
{
	size_t toff = r->len - DT_TRAILER_LEN;
	struct dt_trailer t;
	int ret;

	if (r->len - r->header_len < DT_TRAILER_LEN + DT_INDEX_FIXED_LEN + 8 ||
	    memcmp(r->data + toff, DT_TRAILER_MAGIC, DT_BLOCK_MAGIC_LEN) != 0)
		return 0;
	if (!dt_trailer_decode(r->data + toff, &t))
		return trailer_error(r, "trailer checksum mismatch at offset %zu",
				     toff + 32);
	if (t.index_offset < r->header_len || t.index_offset > toff ||
	    t.index_len != toff - t.index_offset ||
	    t.index_len < DT_INDEX_FIXED_LEN + 8)
		return trailer_error(r, "trailer at offset %zu: index at %llu, %llu bytes, outside the file",
				     toff, (unsigned long long)t.index_offset,
				     (unsigned long long)t.index_len);
	ret = parse_index(r, &t);
	if (ret)
		return ret;
	r->has_trailer = true;
	r->blocks_end = t.index_offset;
	r->index_frames = t.frames;
	return 0;
}

int dt_session_reader_open(struct dt_session_reader **out,
			   const uint8_t *data, size_t len,
			   char *err, size_t errlen)
{
	struct dt_session_reader *r;
	int ret;

	if (!data && len)
		return dt_errorf(err, errlen, -EINVAL, "no data");
	r = calloc(1, sizeof(*r));
	if (!r)
		return dt_errorf(err, errlen, -ENOMEM, "out of memory");
	r->data = data;
	r->len = len;
	r->blocks_end = len;
	ret = parse_header(r);
	if (ret)
		goto fail;
	r->pos = r->header_len;
	ret = find_trailer(r);
	if (ret == -ENOMEM) {
		ret = fail(r, ret, "out of memory");
		goto fail;
	}
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		ret = fail(r, -ENOMEM, "out of memory");
		goto fail;
	}
	*out = r;
	return 0;

fail:
	dt_errorf(err, errlen, ret, "%s", r->errmsg);
	dt_session_reader_free(r);
	return ret;
}

const struct dt_attr *dt_session_reader_meta(const struct dt_session_reader *r,
					     size_t *n)
{
	*n = r->nmeta;
	return r->meta;
}

const struct dt_attr *dt_session_reader_stats(const struct dt_session_reader *r,
					      size_t *n)
{
	*n = r->has_trailer ? r->nstats : 0;
	return r->has_trailer ? r->stats : NULL;
}

bool dt_session_reader_has_trailer(const struct dt_session_reader *r)
{
	return r->has_trailer;
}

/* The frame area is over: with a trailer every indexed frame was read. */
static int end_of_frames(struct dt_session_reader *r)
{
	if (r->has_trailer && r->frames_read != r->index_frames)
		return fail(r, -EBADMSG, "index at offset %zu lists %u frames, file holds %u",
			    r->blocks_end, r->index_frames, r->frames_read);
	return 0;
}

/*
 * Error for a block at r->pos that is no frame. A magic cut short is read
 * as the start of a frame, the block a crash most likely interrupted.
 */
static int not_a_frame(struct dt_session_reader *r, size_t left)
{
	const uint8_t *p = r->data + r->pos;
	size_t n = left < DT_BLOCK_MAGIC_LEN ? left : DT_BLOCK_MAGIC_LEN;

	if (memcmp(p, DT_FRAME_MAGIC, n) == 0)
		return fail(r, -ENODATA, "truncated frame header at offset %zu (expected %u bytes, %zu present)",
			    r->pos, DT_FRAME_HEADER_LEN, left);
	if (memcmp(p, DT_INDEX_MAGIC, n) == 0)
		return fail(r, -EBADMSG, "index at offset %zu without a valid trailer (%s)",
			    r->pos, r->trailer_err[0] ? r->trailer_err :
			    "file cut while the recording was finishing?");
	return fail(r, -EBADMSG, "bad frame magic at offset %zu", r->pos);
}

/* Checks the header of the frame at r->pos against the file. */
static int check_frame_header(struct dt_session_reader *r,
			      const struct dt_frame_header *h, size_t left)
{
	struct dt_index_entry e;

	if (!h->records || h->raw_len > DT_FRAME_MAX_RAW ||
	    h->raw_len < (uint64_t)h->records * DT_RECORD_PREFIX_LEN)
		return fail(r, -EBADMSG, "frame at offset %zu: %u records in %u bytes (limit %u)",
			    r->pos, h->records, h->raw_len, DT_FRAME_MAX_RAW);
	if (h->comp_len > left - DT_FRAME_HEADER_LEN) {
		if (r->has_trailer)
			return fail(r, -EBADMSG, "frame at offset %zu (%u bytes) overlaps the index at offset %zu",
				    r->pos, h->comp_len, r->blocks_end);
		return fail(r, -ENODATA, "truncated frame at offset %zu (expected %zu bytes, %zu present)",
			    r->pos, DT_FRAME_HEADER_LEN + (size_t)h->comp_len,
			    left);
	}
	if (!r->has_trailer)
		return 0;
	if (r->frames_read >= r->index_frames)
		return fail(r, -EBADMSG, "frame at offset %zu is not in the index",
			    r->pos);
	dt_index_entry_decode(r->index + (size_t)r->frames_read *
			      DT_INDEX_ENTRY_LEN, &e);
	if (e.offset != r->pos || e.records != h->records ||
	    e.raw_len != h->raw_len)
		return fail(r, -EBADMSG, "frame at offset %zu does not match index entry %u",
			    r->pos, r->frames_read);
	return 0;
}

static int decompress_frame(struct dt_session_reader *r, const uint8_t *src,
			    const struct dt_frame_header *h)
{
	size_t n;
	int ret;

	if (ZSTD_findFrameCompressedSize(src, h->comp_len) != h->comp_len)
		return fail(r, -EBADMSG, "frame at offset %zu: payload is not one zstd frame",
			    r->pos);
	if (ZSTD_getFrameContentSize(src, h->comp_len) != h->raw_len)
		return fail(r, -EBADMSG, "frame at offset %zu: zstd content size differs from raw length %u",
			    r->pos, h->raw_len);
	r->raw.len = 0;
	ret = dt_buf_reserve(&r->raw, h->raw_len);
	if (ret)
		return fail(r, ret, "out of memory");
	n = ZSTD_decompressDCtx(r->dctx, r->raw.data, h->raw_len, src,
				h->comp_len);
	if (ZSTD_isError(n))
		return fail(r, -EBADMSG, "frame at offset %zu: zstd: %s",
			    r->pos, ZSTD_getErrorName(n));
	if (n != h->raw_len)
		return fail(r, -EBADMSG, "frame at offset %zu: %zu bytes decompressed, %u expected",
			    r->pos, n, h->raw_len);
	r->raw.len = n;
	return 0;
}

/* Checks that the decompressed frame is exactly h->records records. */
static int check_records(struct dt_session_reader *r,
			 const struct dt_frame_header *h)
{
	size_t pos = 0, body;

	for (uint32_t i = 0; i < h->records; i++) {
		if (r->raw.len - pos < DT_RECORD_PREFIX_LEN)
			return fail(r, -EBADMSG, "frame at offset %zu: record %u of %u missing",
				    r->pos, i, h->records);
		body = dt_get_u32(r->raw.data + pos);
		pos += DT_RECORD_PREFIX_LEN;
		if (body > r->raw.len - pos)
			return fail(r, -EBADMSG, "frame at offset %zu: record %u (%zu bytes) runs past the frame",
				    r->pos, i, body);
		pos += body;
	}
	if (pos != r->raw.len)
		return fail(r, -EBADMSG, "frame at offset %zu: %zu bytes after the last record",
			    r->pos, r->raw.len - pos);
	return 0;
}

/* 1 with the next frame loaded, 0 at the end of the frames, or an error. */
static int load_frame(struct dt_session_reader *r)
{
	size_t left = r->blocks_end - r->pos;
	const uint8_t *p = r->data + r->pos;
	struct dt_frame_header h;
	int ret;

	if (!left)
		return end_of_frames(r);
	if (left < DT_FRAME_HEADER_LEN ||
	    memcmp(p, DT_FRAME_MAGIC, DT_BLOCK_MAGIC_LEN) != 0)
		return not_a_frame(r, left);
	if (!dt_frame_header_decode(p, &h))
		return fail(r, -EBADMSG, "frame header checksum mismatch at offset %zu",
			    r->pos);
	ret = check_frame_header(r, &h, left);
	if (ret)
		return ret;
	if (dt_crc32c(0, p + DT_FRAME_HEADER_LEN, h.comp_len) != h.payload_crc)
		return fail(r, -EBADMSG, "frame at offset %zu: payload checksum mismatch",
			    r->pos);
	ret = decompress_frame(r, p + DT_FRAME_HEADER_LEN, &h);
	if (!ret)
		ret = check_records(r, &h);
	if (ret)
		return ret;
	r->frame_offset = r->pos;
	r->pos += DT_FRAME_HEADER_LEN + h.comp_len;
	r->frames_read++;
	r->raw_pos = 0;
	r->records_left = h.records;
	r->record_no = 0;
	return 1;
}

int dt_session_reader_next(struct dt_session_reader *r, struct dt_exchange *x)
{
	char msg[160];
	size_t body;
	int ret;

	dt_exchange_release(x);
	if (r->err)
		return r->err;
	while (!r->records_left) {
		ret = load_frame(r);
		if (ret <= 0)
			return ret;
	}
	body = dt_get_u32(r->raw.data + r->raw_pos);
	ret = dt_record_decode(r->raw.data + r->raw_pos + DT_RECORD_PREFIX_LEN,
			       body, x, msg, sizeof(msg));
	if (ret)
		return fail(r, ret, "frame at offset %zu, record %u: %s",
			    r->frame_offset, r->record_no, msg);
	r->raw_pos += DT_RECORD_PREFIX_LEN + body;
	r->records_left--;
	r->record_no++;
	return 1;
}

const char *dt_session_reader_error(const struct dt_session_reader *r)
{
	return r->errmsg;
}

void dt_session_reader_free(struct dt_session_reader *r)
{
	if (!r)
		return;
	dt_attrs_free(r->meta, r->nmeta);
	dt_attrs_free(r->stats, r->nstats);
	ZSTD_freeDCtx(r->dctx);
	dt_buf_release(&r->raw);
	free(r);
}
