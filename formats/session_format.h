/* SPDX-License-Identifier: MIT */
/*
 * session_format.h: the on-disk layout of session files, private to the
 * session writer, the session reader and the session fuzz target.
 * man/deetune-session.5 documents every constant and layout here byte by
 * byte; a change here is a change of the file format and goes there too.
 *
 * All integers are little-endian with explicit sizes; the accessors below
 * are the only way this code reads or writes them.
 */
#ifndef DEETUNE_SESSION_FORMAT_H
#define DEETUNE_SESSION_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "formats/formats.h"

/* PNG-style: a high byte and CR LF / ^Z / LF catch text-mode mangling. */
#define DT_SESSION_MAGIC "\x89" "DTS\r\n\x1a\n"
#define DT_SESSION_MAGIC_LEN 8
/* Compatible additions (new record tags, header bytes) bump the minor. */
#define DT_SESSION_MINOR 0

#define DT_FRAME_MAGIC "DTFR"
#define DT_INDEX_MAGIC "DTIX"
#define DT_TRAILER_MAGIC "DTTR"
#define DT_BLOCK_MAGIC_LEN 4

/*
 * File header: magic[8], u16 major, u16 minor, u32 header length (all of
 * it, checksum included), metadata list, bytes a later minor version may
 * add, u32 CRC32C of everything before it.
 */
#define DT_HEADER_MAJOR_AT 8
#define DT_HEADER_MINOR_AT 10
#define DT_HEADER_LEN_AT 12
#define DT_HEADER_FIXED_LEN 16
#define DT_HEADER_MIN_LEN (DT_HEADER_FIXED_LEN + 4 + 4)
#define DT_HEADER_MAX_LEN (16u << 20)

/*
 * Frame header: magic[4], u32 compressed length, u32 raw length, u32
 * record count, u32 CRC32C of the compressed payload, u32 CRC32C of the
 * preceding 20 header bytes.
 */
#define DT_FRAME_HEADER_LEN 24
/* Bounds what a reader allocates for one frame, whatever the file says. */
#define DT_FRAME_MAX_RAW (128u << 20)

/*
 * Index: magic[4], u32 frame count, one entry per frame (u64 offset,
 * u32 records, u32 raw length, u64 first ns, u64 last ns), statistics
 * list, u32 CRC32C of everything before it.
 */
#define DT_INDEX_FIXED_LEN 8
#define DT_INDEX_ENTRY_LEN 32

/*
 * Trailer, the last bytes of a finished file: magic[4], u32 frame count,
 * u64 index offset, u64 index length, u64 exchange count, u32 CRC32C of
 * the preceding 32 bytes.
 */
#define DT_TRAILER_LEN 36

/* Key/value list: u32 count, then per pair u32 len, key, u32 len, value. */
#define DT_KV_MAX_PAIRS 65536u

/*
 * Exchange record: u32 body length, then the body: fields of u16 tag,
 * u32 value length, value. Readers skip unknown tags unless the tag has
 * DT_TAG_CRITICAL set, which means "do not read this record without
 * understanding me".
 */
#define DT_RECORD_PREFIX_LEN 4
#define DT_FIELD_HEADER_LEN 6
#define DT_TAG_CRITICAL 0x8000u
#define DT_RECORD_MAX_ATTRS 4096u
/* Endpoint value: family u8, addr[16], port u16, pid u32, comm[16],
 * cgroup_id u64, at these offsets. */
enum dt_endpoint_layout {
	DT_EP_FAMILY_AT = 0,
	DT_EP_ADDR_AT = 1,
	DT_EP_PORT_AT = 17,
	DT_EP_PID_AT = 19,
	DT_EP_COMM_AT = 23,
	DT_EP_CGROUP_AT = 39,
	DT_ENDPOINT_LEN = 47,
};

enum dt_record_tag {
	DT_TAG_ID = 1,          /* u64 */
	DT_TAG_CONN_ID = 2,     /* u64 */
	DT_TAG_LINK_ID = 3,     /* u64 */
	DT_TAG_PROTOCOL = 4,    /* u32 */
	DT_TAG_FLAGS = 5,       /* u32 */
	DT_TAG_CLIENT = 6,      /* endpoint */
	DT_TAG_SERVER = 7,      /* endpoint */
	DT_TAG_REQ_START = 8,   /* u64 ns */
	DT_TAG_REQ_END = 9,     /* u64 ns */
	DT_TAG_RESP_START = 10, /* u64 ns */
	DT_TAG_RESP_END = 11,   /* u64 ns */
	DT_TAG_ATTR = 12,       /* u32 key length, key, value; repeatable */
	DT_TAG_REQUEST = 13,    /* raw bytes */
	DT_TAG_RESPONSE = 14,   /* raw bytes */
	DT_TAG_CLIENT_PATH = 15,/* Unix socket path of the client endpoint */
	DT_TAG_SERVER_PATH = 16,/* Unix socket path of the server endpoint */
	DT_TAG_MAX_KNOWN = DT_TAG_SERVER_PATH,
};

static inline void dt_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void dt_put_u32(uint8_t *p, uint32_t v)
{
	dt_put_u16(p, (uint16_t)v);
	dt_put_u16(p + 2, (uint16_t)(v >> 16));
}

static inline void dt_put_u64(uint8_t *p, uint64_t v)
{
	dt_put_u32(p, (uint32_t)v);
	dt_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t dt_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t dt_get_u32(const uint8_t *p)
{
	return (uint32_t)dt_get_u16(p) | (uint32_t)dt_get_u16(p + 2) << 16;
}

static inline uint64_t dt_get_u64(const uint8_t *p)
{
	return (uint64_t)dt_get_u32(p) | (uint64_t)dt_get_u32(p + 4) << 32;
}

/* CRC32C (Castagnoli) of buf, continuing from crc (start with 0). */
uint32_t dt_crc32c(uint32_t crc, const void *buf, size_t len);

/* Formats a message into err[0..errlen) and returns code. */
int dt_errorf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A growable byte buffer; the holder owns data. */
struct dt_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Makes room for extra more bytes after len. 0 or -ENOMEM. */
int dt_buf_reserve(struct dt_buf *b, size_t extra);
void dt_buf_release(struct dt_buf *b);

/* Frees n pairs and their strings, then the array itself. */
void dt_attrs_free(struct dt_attr *attrs, size_t n);

/* Size of a key/value list; -E2BIG past the format's limits. */
int dt_kv_size(const struct dt_attr *kv, size_t n, size_t *size);
/* Writes the list to dst (dt_kv_size() bytes); returns the end. */
uint8_t *dt_kv_encode(uint8_t *dst, const struct dt_attr *kv, size_t n);
/*
 * Decodes a list from src[0..len). On success *out is a caller-owned array
 * (free with dt_attrs_free()), *used the bytes consumed. On error returns
 * -EBADMSG or -ENOMEM and writes a message to err.
 */
int dt_kv_decode(const uint8_t *src, size_t len, struct dt_attr **out,
		 size_t *n, size_t *used, char *err, size_t errlen);

/* Encoded size of x, length prefix included; -E2BIG when it cannot fit a
 * frame, -EINVAL for an attr without key or value. */
int dt_record_size(const struct dt_exchange *x, size_t *size);
/* Writes the record to dst; returns the dt_record_size() bytes written. */
size_t dt_record_encode(uint8_t *dst, const struct dt_exchange *x);
/*
 * Decodes a record body (without its length prefix) into x, which must be
 * empty. On error x is released, err holds a message and the return value
 * is -EBADMSG, -ENOTSUP (unknown critical field) or -ENOMEM.
 */
int dt_record_decode(const uint8_t *body, size_t len, struct dt_exchange *x,
		     char *err, size_t errlen);

struct dt_frame_header {
	uint32_t comp_len;
	uint32_t raw_len;
	uint32_t records;
	uint32_t payload_crc;
};

static inline void dt_frame_header_encode(uint8_t *dst,
					  const struct dt_frame_header *h)
{
	memcpy(dst, DT_FRAME_MAGIC, DT_BLOCK_MAGIC_LEN);
	dt_put_u32(dst + 4, h->comp_len);
	dt_put_u32(dst + 8, h->raw_len);
	dt_put_u32(dst + 12, h->records);
	dt_put_u32(dst + 16, h->payload_crc);
	dt_put_u32(dst + 20, dt_crc32c(0, dst, 20));
}

/* Reads DT_FRAME_HEADER_LEN bytes into *h; false when their magic or
 * checksum is wrong. */
static inline bool dt_frame_header_decode(const uint8_t *src,
					  struct dt_frame_header *h)
{
	h->comp_len = dt_get_u32(src + 4);
	h->raw_len = dt_get_u32(src + 8);
	h->records = dt_get_u32(src + 12);
	h->payload_crc = dt_get_u32(src + 16);
	return memcmp(src, DT_FRAME_MAGIC, DT_BLOCK_MAGIC_LEN) == 0 &&
	       dt_get_u32(src + 20) == dt_crc32c(0, src, 20);
}

struct dt_index_entry {
	uint64_t offset;
	uint32_t records;
	uint32_t raw_len;
	uint64_t first_ns; /* smallest nonzero timestamp in the frame */
	uint64_t last_ns;  /* largest timestamp in the frame */
};

static inline void dt_index_entry_encode(uint8_t *dst,
					 const struct dt_index_entry *e)
{
	dt_put_u64(dst, e->offset);
	dt_put_u32(dst + 8, e->records);
	dt_put_u32(dst + 12, e->raw_len);
	dt_put_u64(dst + 16, e->first_ns);
	dt_put_u64(dst + 24, e->last_ns);
}

static inline void dt_index_entry_decode(const uint8_t *src,
					 struct dt_index_entry *e)
{
	e->offset = dt_get_u64(src);
	e->records = dt_get_u32(src + 8);
	e->raw_len = dt_get_u32(src + 12);
	e->first_ns = dt_get_u64(src + 16);
	e->last_ns = dt_get_u64(src + 24);
}

struct dt_trailer {
	uint32_t frames;
	uint64_t index_offset;
	uint64_t index_len;
	uint64_t exchanges;
};

static inline void dt_trailer_encode(uint8_t *dst, const struct dt_trailer *t)
{
	memcpy(dst, DT_TRAILER_MAGIC, DT_BLOCK_MAGIC_LEN);
	dt_put_u32(dst + 4, t->frames);
	dt_put_u64(dst + 8, t->index_offset);
	dt_put_u64(dst + 16, t->index_len);
	dt_put_u64(dst + 24, t->exchanges);
	dt_put_u32(dst + 32, dt_crc32c(0, dst, 32));
}

/* Reads DT_TRAILER_LEN bytes into *t; false when their checksum is wrong
 * (the magic is the caller's: without it a file is merely unfinished). */
static inline bool dt_trailer_decode(const uint8_t *src, struct dt_trailer *t)
{
	t->frames = dt_get_u32(src + 4);
	t->index_offset = dt_get_u64(src + 8);
	t->index_len = dt_get_u64(src + 16);
	t->exchanges = dt_get_u64(src + 24);
	return dt_get_u32(src + 32) == dt_crc32c(0, src, 32);
}

#endif /* DEETUNE_SESSION_FORMAT_H */
