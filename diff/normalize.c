// SPDX-License-Identifier: MIT
/*
 * Regex normalisers: replace what legitimately varies (timestamps, ids)
 * with fixed text before values are compared. POSIX extended regexes,
 * run with REG_STARTEND so that bodies holding NUL bytes are matched
 * whole.
 */
#include <errno.h>
#include <string.h>

#include "diff/diff_int.h"

/* in[0..len) with every non-empty match of nz replaced, into out. */
static int normalize_one(const struct dt_normalizer *nz, const char *in,
			 size_t len, struct dt_sbuf *out)
{
	regmatch_t m[1];
	size_t pos = 0, so, eo;

	dt_sbuf_truncate(out, 0);
	dt_sbuf_put(out, "", 0);	/* out->p is a string even when empty */
	while (pos < len) {
		m[0].rm_so = (regoff_t)pos;
		m[0].rm_eo = (regoff_t)len;
		if (regexec(&nz->re, in, 1, m, REG_STARTEND))
			break;
		so = (size_t)m[0].rm_so;
		eo = (size_t)m[0].rm_eo;
		if (so < pos || eo < so || eo > len)
			break;	/* not what REG_STARTEND promises */
		dt_sbuf_put(out, in + pos, so - pos);
		if (eo == so) {
			/* an empty match replaces nothing: step over a byte */
			if (so < len)
				dt_sbuf_put(out, in + so, 1);
			pos = so + 1;
			continue;
		}
		dt_sbuf_put(out, nz->replace, nz->replace_len);
		pos = eo;
		if (out->len > DT_NORMALIZE_MAX)
			return -E2BIG;
	}
	if (pos < len)
		dt_sbuf_put(out, in + pos, len - pos);
	if (out->oom)
		return out->len >= DT_SBUF_MAX - 1 ? -E2BIG : -ENOMEM;
	return out->len > DT_NORMALIZE_MAX ? -E2BIG : 0;
}

int dt_rules_normalize(const struct dt_rules_scope *s, const void *in,
		       size_t len, struct dt_sbuf *out)
{
	struct dt_sbuf tmp = { 0 }, swap;
	size_t i, k;
	int ret = 0;

	if (len > DT_NORMALIZE_MAX)
		return -E2BIG;
	dt_sbuf_truncate(out, 0);
	dt_sbuf_put(out, in, len);
	if (out->oom)
		return -ENOMEM;
	for (i = 0; i < s->n && !ret; i++) {
		for (k = 0; k < s->sections[i]->nnormalize && !ret; k++) {
			ret = normalize_one(&s->sections[i]->normalize[k],
					    out->p, out->len, &tmp);
			swap = *out;
			*out = tmp;
			tmp = swap;
		}
	}
	dt_sbuf_release(&tmp);
	return ret;
}
