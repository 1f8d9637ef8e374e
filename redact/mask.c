// SPDX-License-Identifier: MIT
/*
 * The masking ledger of one dt_redactor_apply() call: filling spans with
 * '*', counting them, and remembering what the protocol rules masked so
 * that the same secret is masked where the summary attributes repeat it
 * (the Redis "key" attribute of AUTH holds the password, an HTTP
 * attribute may copy a header). Also views: texts assembled from pieces
 * of a buffer (chunked bodies, multi-packet SQL) that mask back into it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redact/redact_int.h"

/* Shorter secrets are masked in attributes only where they are the whole
 * value: a two-letter password would otherwise star every word. */
#define SECRET_MIN_SUBSTRING 4

bool dt_redact_fill(uint8_t *p, size_t len)
{
	bool changed = false;

	for (size_t i = 0; i < len; i++) {
		changed |= p[i] != '*';
		p[i] = '*';
	}
	return changed;
}

bool dt_redact_fill_text(uint8_t *p, size_t len)
{
	bool changed = false;

	for (size_t i = 0; i < len; i++)
		if (p[i] != '\r' && p[i] != '\n' && p[i] != '\0')
			changed |= dt_redact_fill(p + i, 1);
	return changed;
}

/* Nothing left to hide: only the bytes dt_redact_fill_text() leaves. */
static bool masked_already(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != '*' && p[i] != '\r' && p[i] != '\n' && p[i] != '\0')
			return false;
	return true;
}

void dt_redact_remember(struct dt_redact_ctx *c, const uint8_t *p,
			size_t len)
{
	struct dt_redact_secret *s;

	if (!len || masked_already(p, len) ||
	    c->nsecrets == DT_REDACT_MAX_SECRETS)
		return;
	for (size_t i = 0; i < c->nsecrets; i++)
		if (c->secrets[i].len == len &&
		    !memcmp(c->secrets[i].bytes, p, len))
			return;
	s = &c->secrets[c->nsecrets];
	s->bytes = malloc(len);
	if (!s->bytes) {
		c->err = -ENOMEM;
		return;
	}
	memcpy(s->bytes, p, len);
	s->len = len;
	c->nsecrets++;
}

void dt_redact_span(struct dt_redact_ctx *c, uint8_t *p, size_t len)
{
	dt_redact_remember(c, p, len);
	if (dt_redact_fill(p, len))
		c->spans++;
}

/* Masks the occurrences of s in value v (NUL-terminated); true when a
 * byte changed. */
static bool mask_secret_in(char *v, const struct dt_redact_secret *s)
{
	size_t vlen = strlen(v);
	bool changed = false;
	char *hit;

	if (s->len < SECRET_MIN_SUBSTRING)
		return s->len == vlen && !memcmp(v, s->bytes, vlen) &&
		       dt_redact_fill_text((uint8_t *)v, vlen);
	for (char *p = v; (size_t)(p - v) + s->len <= vlen; p = hit + s->len) {
		hit = memmem(p, vlen - (size_t)(p - v), s->bytes, s->len);
		if (!hit)
			break;
		changed |= dt_redact_fill_text((uint8_t *)hit, s->len);
	}
	return changed;
}

void dt_redact_attrs_secrets(struct dt_redact_ctx *c)
{
	struct dt_exchange *x = c->x;

	for (size_t i = 0; i < x->nattrs; i++) {
		if (!x->attrs[i].value)
			continue;
		for (size_t j = 0; j < c->nsecrets; j++)
			if (mask_secret_in(x->attrs[i].value, &c->secrets[j]))
				c->spans++;
	}
}

void dt_redact_ctx_release(struct dt_redact_ctx *c)
{
	for (size_t i = 0; i < c->nsecrets; i++)
		free(c->secrets[i].bytes);
	c->nsecrets = 0;
}

/* ---------------------------------------------------------------------- */
/* Views                                                                   */
/* ---------------------------------------------------------------------- */

void dt_redact_view_init(struct dt_redact_view *v, uint8_t *buf)
{
	memset(v, 0, sizeof(*v));
	v->buf = buf;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int dt_redact_view_add(struct dt_redact_view *v, size_t off, size_t len)
{
	if (!len)
		return 0;
	if (grow((void **)&v->text, &v->cap, v->len + len, 1) ||
	    grow((void **)&v->pieces, &v->pieces_cap, v->npieces + 1,
		 sizeof(*v->pieces)))
		return -ENOMEM;
	memcpy(v->text + v->len, v->buf + off, len);
	v->pieces[v->npieces++] = (struct dt_redact_piece){
		.text_off = v->len, .buf_off = off, .len = len,
	};
	v->len += len;
	return 0;
}

/* First piece that ends after text offset off (pieces are in text order). */
static size_t piece_at(const struct dt_redact_view *v, size_t off)
{
	size_t lo = 0, hi = v->npieces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dt_redact_piece *p = &v->pieces[mid];

		if (p->text_off + p->len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void dt_redact_view_mask(struct dt_redact_ctx *c,
			 const struct dt_redact_view *v, size_t off,
			 size_t len, bool remember)
{
	size_t end = off + len;
	bool changed = false;

	if (off >= v->len || !len)
		return;
	if (end > v->len)
		end = v->len;
	if (remember)
		dt_redact_remember(c, v->text + off, end - off);
	for (size_t i = piece_at(v, off); i < v->npieces; i++) {
		const struct dt_redact_piece *p = &v->pieces[i];
		size_t from = off > p->text_off ? off : p->text_off;
		size_t to = end < p->text_off + p->len ? end :
							 p->text_off + p->len;

		if (from >= end)
			break;
		changed |= dt_redact_fill(v->buf + p->buf_off +
					  (from - p->text_off), to - from);
	}
	if (changed)
		c->spans++;
}

void dt_redact_view_release(struct dt_redact_view *v)
{
	free(v->text);
	free(v->pieces);
	dt_redact_view_init(v, NULL);
}
