/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked reading of MySQL protocol primitives from a payload:
 * fixed-width little-endian integers, length-encoded integers and strings,
 * NUL-terminated strings. A read past the end sets the cursor's sticky
 * `bad` flag and yields zeros / empty slices, so that a decoder reads a
 * whole packet and checks cur.bad once.
 */
#ifndef DEETUNE_FORMATS_MYSQL_WIRE_H
#define DEETUNE_FORMATS_MYSQL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mysql_cur {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
	bool cut;      /* p holds only the start of a longer payload */
};

/* The length-encoded integer prefix 0xfb stands for SQL NULL in rows. */
#define MYSQL_LENENC_NULL 0xfb

static inline struct mysql_cur mysql_cur_make(const uint8_t *p, size_t len)
{
	/* Never a NULL base: pointer arithmetic on NULL is undefined. */
	static const uint8_t empty;
	struct mysql_cur c = { .p = p ? p : &empty, .len = p ? len : 0 };

	return c;
}

static inline size_t mysql_cur_left(const struct mysql_cur *c)
{
	return c->bad ? 0 : c->len - c->pos;
}

/* Pointer to the next n bytes, advancing past them; NULL when short. */
static inline const uint8_t *mysql_cur_take(struct mysql_cur *c, size_t n)
{
	const uint8_t *p;

	if (c->bad || n > c->len - c->pos) {
		c->bad = true;
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += n;
	return p;
}

static inline uint64_t mysql_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static inline uint64_t mysql_cur_uint(struct mysql_cur *c, size_t n)
{
	const uint8_t *p = mysql_cur_take(c, n);

	return p ? mysql_le(p, n) : 0;
}

static inline uint8_t mysql_cur_u8(struct mysql_cur *c)
{
	return (uint8_t)mysql_cur_uint(c, 1);
}

static inline uint16_t mysql_cur_u16(struct mysql_cur *c)
{
	return (uint16_t)mysql_cur_uint(c, 2);
}

static inline uint32_t mysql_cur_u32(struct mysql_cur *c)
{
	return (uint32_t)mysql_cur_uint(c, 4);
}

static inline bool mysql_cur_peek(const struct mysql_cur *c, uint8_t *b)
{
	if (c->bad || c->pos >= c->len)
		return false;
	*b = c->p[c->pos];
	return true;
}

/* Length-encoded integer. 0xfb (NULL) and 0xff are not integers: bad. */
static inline uint64_t mysql_cur_lenenc(struct mysql_cur *c)
{
	uint8_t b = mysql_cur_u8(c);

	if (b < 0xfb)
		return b;
	if (b == 0xfc)
		return mysql_cur_uint(c, 2);
	if (b == 0xfd)
		return mysql_cur_uint(c, 3);
	if (b == 0xfe)
		return mysql_cur_uint(c, 8);
	c->bad = true;
	return 0;
}

/* Length-encoded string: *p and *n get its bytes (n 0 when bad). */
static inline void mysql_cur_lenenc_str(struct mysql_cur *c,
					const uint8_t **p, size_t *n)
{
	uint64_t len = mysql_cur_lenenc(c);

	*n = 0;
	*p = NULL;
	if (c->bad)
		return;
	if (len > c->len - c->pos) {
		c->bad = true;
		return;
	}
	*p = mysql_cur_take(c, (size_t)len);
	*n = (size_t)len;
}

/* NUL-terminated string; without a NUL: bad. */
static inline void mysql_cur_nul_str(struct mysql_cur *c, const uint8_t **p,
				     size_t *n)
{
	const uint8_t *start = c->p + c->pos;
	const uint8_t *nul;

	*n = 0;
	*p = NULL;
	if (c->bad)
		return;
	nul = memchr(start, 0, c->len - c->pos);
	if (!nul) {
		c->bad = true;
		return;
	}
	*p = start;
	*n = (size_t)(nul - start);
	c->pos += *n + 1;
}

/* A string running to the first NUL or to the end of the payload (the
 * protocol's string<EOF> where some servers add a NUL). */
static inline void mysql_cur_eof_str(struct mysql_cur *c, const uint8_t **p,
				     size_t *n)
{
	const uint8_t *start = c->p + c->pos;
	size_t left = mysql_cur_left(c);
	const uint8_t *nul = left ? memchr(start, 0, left) : NULL;

	*p = start;
	*n = nul ? (size_t)(nul - start) : left;
	c->pos += left;
}

#endif /* DEETUNE_FORMATS_MYSQL_WIRE_H */
