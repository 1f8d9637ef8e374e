// SPDX-License-Identifier: MIT
/* A growable string that remembers an allocation failure (see diff_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

static bool sbuf_reserve(struct dt_sbuf *b, size_t more)
{
	size_t need, cap;
	char *grown;

	if (b->oom)
		return false;
	/* len + 1 <= cap <= DT_SBUF_MAX holds, so this cannot wrap */
	if (more > DT_SBUF_MAX - b->len - 1) {
		b->oom = true;
		return false;
	}
	need = b->len + more + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > DT_SBUF_MAX / 2 ? DT_SBUF_MAX : cap * 2;
	grown = realloc(b->p, cap);
	if (!grown) {
		b->oom = true;
		return false;
	}
	b->p = grown;
	b->cap = cap;
	return true;
}

void dt_sbuf_put(struct dt_sbuf *b, const void *data, size_t len)
{
	if (!sbuf_reserve(b, len))
		return;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void dt_sbuf_puts(struct dt_sbuf *b, const char *s)
{
	dt_sbuf_put(b, s, strlen(s));
}

void dt_sbuf_putc(struct dt_sbuf *b, char c)
{
	dt_sbuf_put(b, &c, 1);
}

void dt_sbuf_printf(struct dt_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!sbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void dt_sbuf_truncate(struct dt_sbuf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

char *dt_sbuf_take(struct dt_sbuf *b)
{
	char *s;

	if (!b->oom && !b->p)
		sbuf_reserve(b, 0);
	s = b->oom ? NULL : b->p;
	if (!s)
		free(b->p);
	memset(b, 0, sizeof(*b));
	return s;
}

void dt_sbuf_release(struct dt_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
