// SPDX-License-Identifier: MIT
/*
 * HTTP/2 header blocks: HPACK decoding with nghttp2's inflater, one per
 * direction, and the field lists the decoded blocks end up in.
 *
 * An inflater that fails is unusable (nghttp2 marks it bad) and its
 * dynamic table no longer matches the sender's: the entries the rest of
 * the failed block would have added are unknown. Starting afresh after the
 * block keeps the invariant a mid-connection join relies on: the table
 * holds exactly the newest entries the sender added, so a reference to an
 * older one is out of range and fails, never decoding to a wrong field.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/http2_int.h"

/* ---------------------------------------------------------------------- */
/* Field lists                                                            */
/* ---------------------------------------------------------------------- */

static char *copy_text(const uint8_t *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Room for one more field. The capacity is not stored: it is 8 for up
 * to 8 fields, then the next power of two, so the array is full exactly
 * when n is 0 or a power of two from 8 on. */
static int fields_reserve(struct dt_h2_fields *fs)
{
	struct dt_h2_field *v;
	size_t cap = fs->n ? fs->n * 2 : 8;

	if (fs->n && (fs->n < 8 || (fs->n & (fs->n - 1))))
		return 0;
	v = realloc(fs->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fs->v = v;
	return 0;
}

int dt_h2_fields_add(struct dt_h2_fields *fs, const uint8_t *name,
		     size_t name_len, const uint8_t *value, size_t value_len)
{
	struct dt_h2_field f;

	if (fields_reserve(fs))
		return -ENOMEM;
	f.name = copy_text(name, name_len);
	f.value = copy_text(value, value_len);
	if (!f.name || !f.value) {
		free(f.name);
		free(f.value);
		return -ENOMEM;
	}
	f.name_len = name_len;
	f.value_len = value_len;
	fs->v[fs->n++] = f;
	fs->bytes += name_len + value_len + DT_H2_FIELD_OVERHEAD;
	return 0;
}

int dt_h2_fields_move(struct dt_h2_fields *pseudo, struct dt_h2_fields *regular,
		      struct dt_h2_fields *from)
{
	struct dt_h2_fields *to;
	size_t i;

	for (i = 0; i < from->n; i++) {
		to = from->v[i].name[0] == ':' ? pseudo : regular;
		if (fields_reserve(to)) {
			/* the fields not moved go with from */
			memmove(from->v, from->v + i,
				(from->n - i) * sizeof(*from->v));
			from->n -= i;
			dt_h2_fields_release(from);
			return -ENOMEM;
		}
		to->v[to->n++] = from->v[i];
		to->bytes += from->v[i].name_len + from->v[i].value_len +
			     DT_H2_FIELD_OVERHEAD;
	}
	free(from->v);
	memset(from, 0, sizeof(*from));
	return 0;
}

void dt_h2_fields_release(struct dt_h2_fields *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].value);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

const struct dt_h2_field *dt_h2_fields_find(const struct dt_h2_fields *fs,
					    const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < fs->n; i++)
		if (fs->v[i].name_len == len && !memcmp(fs->v[i].name, name, len))
			return &fs->v[i];
	return NULL;
}

int dt_h2_message_status(const struct dt_h2_message *m)
{
	const struct dt_h2_field *f = dt_h2_fields_find(&m->pseudo, ":status");
	const char *v;

	if (!f || f->value_len != 3)
		return -1;
	v = f->value;
	if (v[0] < '1' || v[0] > '9' || v[1] < '0' || v[1] > '9' ||
	    v[2] < '0' || v[2] > '9')
		return -1;
	return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

/* ---------------------------------------------------------------------- */
/* HPACK                                                                  */
/* ---------------------------------------------------------------------- */

static int inflater_open(struct dt_hpack *h)
{
	if (nghttp2_hd_inflate_new2(&h->inflater, NULL))
		return -ENOMEM;
	h->applied_table = DT_HPACK_DEFAULT_TABLE;
	return 0;
}

int dt_hpack_init(struct dt_hpack *h, uint32_t settings_table,
		  size_t max_fields)
{
	memset(h, 0, sizeof(*h));
	h->settings_table = settings_table;
	h->max_fields = max_fields;
	return inflater_open(h);
}

void dt_hpack_release(struct dt_hpack *h)
{
	if (h->inflater)
		nghttp2_hd_inflate_del(h->inflater);
	h->inflater = NULL;
	dt_h2_fields_release(&h->block);
}

void dt_hpack_set_table(struct dt_hpack *h, uint32_t settings_table)
{
	h->settings_table = settings_table;
}

static int block_begin(struct dt_hpack *h)
{
	int rc;

	h->in_block = true;
	h->failed = false;
	h->truncated = false;
	if (h->applied_table == h->settings_table)
		return 0;
	rc = nghttp2_hd_inflate_change_table_size(h->inflater,
						  h->settings_table);
	if (rc == NGHTTP2_ERR_NOMEM)
		return -ENOMEM;
	h->applied_table = h->settings_table;
	return 0;
}

/* The block ended: a failed inflater is replaced, so that the next block
 * starts from a table that is a true suffix of the sender's. */
static int block_end(struct dt_hpack *h)
{
	h->in_block = false;
	if (!h->failed) {
		nghttp2_hd_inflate_end_headers(h->inflater);
		return 0;
	}
	nghttp2_hd_inflate_del(h->inflater);
	h->inflater = NULL;
	if (inflater_open(h))
		return -ENOMEM;
	/* applied on the next block_begin() */
	return 0;
}

static int field_keep(struct dt_hpack *h, const nghttp2_nv *nv)
{
	size_t cost = nv->namelen + nv->valuelen + DT_H2_FIELD_OVERHEAD;

	/* block.bytes never exceeds max_fields */
	if (cost > h->max_fields - h->block.bytes) {
		h->truncated = true;
		return 0;
	}
	return dt_h2_fields_add(&h->block, nv->name, nv->namelen, nv->value,
				nv->valuelen);
}

/* Runs the inflater over a fragment; 1 when it rejects the bytes. */
static int inflate_fragment(struct dt_hpack *h, const uint8_t *in,
			    size_t len, bool final)
{
	nghttp2_nv nv;
	ssize_t rv;
	int flags;

	for (;;) {
		flags = 0;
		rv = nghttp2_hd_inflate_hd2(h->inflater, &nv, &flags,
					    (uint8_t *)in, len, final);
		if (rv == NGHTTP2_ERR_NOMEM)
			return -ENOMEM;
		if (rv < 0 || (size_t)rv > len)
			return 1;
		in += rv;
		len -= (size_t)rv;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && field_keep(h, &nv))
			return -ENOMEM;
		if (flags & NGHTTP2_HD_INFLATE_FINAL)
			return 0;
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && rv == 0)
			/* no progress: the input ends inside a field */
			return final || len ? 1 : 0;
	}
}

int dt_hpack_decode(struct dt_hpack *h, const uint8_t *frag, size_t len,
		    bool final)
{
	int rc;

	if (!h->in_block && block_begin(h))
		return -ENOMEM;
	if (!h->failed) {
		rc = inflate_fragment(h, frag, len, final);
		if (rc < 0)
			return rc;
		h->failed = rc == 1;
	}
	return final ? block_end(h) : 0;
}
