/* SPDX-License-Identifier: MIT */
/* Private to the HTTP/2 codec: header block decoding (hpack.c) shared
 * with the connection (http2_conn.c). */
#ifndef DEETUNE_FORMATS_HTTP2_INT_H
#define DEETUNE_FORMATS_HTTP2_INT_H

#include <nghttp2/nghttp2.h>

#include "formats/formats.h"

/* HPACK's initial SETTINGS_HEADER_TABLE_SIZE (RFC 7541 section 4.2). */
#define DT_HPACK_DEFAULT_TABLE 4096u

/*
 * The header blocks of one direction, decoded in order with one nghttp2
 * inflater. The fields of the block being decoded collect in block until
 * its end; then the caller takes them (dt_hpack_take_block()).
 */
struct dt_hpack {
	nghttp2_hd_inflater *inflater;
	uint32_t settings_table;	/* SETTINGS_HEADER_TABLE_SIZE to use */
	uint32_t applied_table;		/* the one the inflater knows */
	size_t max_fields;		/* bytes kept per block */
	bool in_block;			/* a block started and did not end */
	bool failed;			/* this block cannot be decoded */
	bool truncated;			/* fields past max_fields dropped */
	struct dt_h2_fields block;
};

/* 0 or -ENOMEM; release with dt_hpack_release(). */
int dt_hpack_init(struct dt_hpack *h, uint32_t settings_table,
		  size_t max_fields);
void dt_hpack_release(struct dt_hpack *h);
/* The peer announced SETTINGS_HEADER_TABLE_SIZE: used from the next
 * block on. */
void dt_hpack_set_table(struct dt_hpack *h, uint32_t settings_table);
/*
 * Decodes one fragment of a header block (final: it carries END_HEADERS).
 * A block the inflater rejects is marked failed and its remaining
 * fragments skipped; at its end the inflater starts afresh. Returns 0 or
 * -ENOMEM.
 */
int dt_hpack_decode(struct dt_hpack *h, const uint8_t *frag, size_t len,
		    bool final);

/* Appends copies of name and value (NUL appended). 0 or -ENOMEM. */
int dt_h2_fields_add(struct dt_h2_fields *fs, const uint8_t *name,
		     size_t name_len, const uint8_t *value, size_t value_len);
/* Moves the pseudo-header fields of from to the end of pseudo, the
 * others to the end of regular (which may be the same list), leaving from
 * empty. On -ENOMEM the fields not moved are freed. */
int dt_h2_fields_move(struct dt_h2_fields *pseudo, struct dt_h2_fields *regular,
		      struct dt_h2_fields *from);
void dt_h2_fields_release(struct dt_h2_fields *fs);

/* Applies the settings (6 bytes each) that dir sent: they bound what the
 * other side sends. 0, or -EBADMSG for a MAX_FRAME_SIZE out of range. */
int dt_h2_conn_apply_settings(struct dt_h2_conn *c, enum dt_h2_dir dir,
			      const struct dt_slice *settings);
/* Opens stream 1 with its request whole (an h2c upgrade): the fields of
 * *req move into it (req is left empty), then body, up to max_body. The
 * stream stays open on -ENOMEM. 0, -EINVAL when c has streams already,
 * -ENOMEM. */
int dt_h2_conn_open_upgraded(struct dt_h2_conn *c, struct dt_h2_message *req,
			     const struct dt_slice *body);

#endif /* DEETUNE_FORMATS_HTTP2_INT_H */
