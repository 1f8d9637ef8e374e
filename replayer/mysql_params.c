// SPDX-License-Identifier: MIT
/*
 * Recorded COM_STMT_EXECUTE parameters bound for libmariadb, in the types
 * the recorded client sent. The codec hands them over as text (see
 * struct dt_mysql_value): numbers and temporal values are parsed back,
 * the rest is sent as the bytes it holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer/mysql_int.h"

struct rp_mysql_param {
	union {
		signed char i8;
		short i16;
		int i32;
		long long i64;
		float f;
		double d;
		MYSQL_TIME t;
	};
	unsigned long length;
	my_bool is_null;
};

/* Integer types and the width libmariadb sends them in. */
static enum enum_field_types int_buffer_type(uint8_t type)
{
	switch (type) {
	case DT_MYSQL_TYPE_TINY:
		return MYSQL_TYPE_TINY;
	case DT_MYSQL_TYPE_SHORT:
	case DT_MYSQL_TYPE_YEAR:
		return MYSQL_TYPE_SHORT;
	case DT_MYSQL_TYPE_LONG:
	case DT_MYSQL_TYPE_INT24:
		return MYSQL_TYPE_LONG;
	case DT_MYSQL_TYPE_LONGLONG:
		return MYSQL_TYPE_LONGLONG;
	default:
		return MYSQL_TYPE_NULL;
	}
}

/* String-like types libmariadb accepts as parameter buffers; the others
 * (ENUM, SET, BIT, JSON, GEOMETRY) go as strings, which the server
 * converts as it would the recorded bytes. */
static enum enum_field_types bytes_buffer_type(uint8_t type)
{
	switch (type) {
	case DT_MYSQL_TYPE_TINY_BLOB:
	case DT_MYSQL_TYPE_MEDIUM_BLOB:
	case DT_MYSQL_TYPE_LONG_BLOB:
	case DT_MYSQL_TYPE_BLOB:
	case DT_MYSQL_TYPE_VARCHAR:
	case DT_MYSQL_TYPE_VAR_STRING:
	case DT_MYSQL_TYPE_STRING:
	case DT_MYSQL_TYPE_DECIMAL:
	case DT_MYSQL_TYPE_NEWDECIMAL:
		return (enum enum_field_types)type;
	default:
		return MYSQL_TYPE_STRING;
	}
}

static int parse_int(struct rp_mysql_param *c, MYSQL_BIND *b,
		     const struct dt_mysql_value *v)
{
	char *end;
	long long s = 0;
	unsigned long long u = 0;

	errno = 0;
	if (b->is_unsigned)
		u = strtoull(v->text, &end, 10);
	else
		s = strtoll(v->text, &end, 10);
	if (errno || end == v->text || *end)
		return -EINVAL;
	/* the width's bits are what goes on the wire, signed or not */
	switch (b->buffer_type) {
	case MYSQL_TYPE_TINY:
		c->i8 = (signed char)(b->is_unsigned ? (long long)u : s);
		break;
	case MYSQL_TYPE_SHORT:
		c->i16 = (short)(b->is_unsigned ? (long long)u : s);
		break;
	case MYSQL_TYPE_LONG:
		c->i32 = (int)(b->is_unsigned ? (long long)u : s);
		break;
	default:
		c->i64 = b->is_unsigned ? (long long)u : s;
		break;
	}
	b->buffer = c;
	return 0;
}

static int parse_float(struct rp_mysql_param *c, MYSQL_BIND *b,
		       const struct dt_mysql_value *v)
{
	char *end;

	errno = 0;
	if (b->buffer_type == MYSQL_TYPE_FLOAT)
		c->f = strtof(v->text, &end);
	else
		c->d = strtod(v->text, &end);
	if (errno || end == v->text || *end)
		return -EINVAL;
	b->buffer = c;
	return 0;
}

static int parse_fraction(const char *s, unsigned long *usec)
{
	unsigned long v = 0;
	int digits = 0;

	if (!*s) {
		*usec = 0;
		return 0;
	}
	if (*s++ != '.')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9' && digits < 6; s++, digits++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (*s || !digits)
		return -EINVAL;
	while (digits++ < 6)
		v *= 10;
	*usec = v;
	return 0;
}

int rp_mysql_parse_time(const char *text, uint8_t type, MYSQL_TIME *t)
{
	unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
	unsigned long long hours = 0;
	int n = 0;

	memset(t, 0, sizeof(*t));
	if (type == DT_MYSQL_TYPE_TIME || type == DT_MYSQL_TYPE_TIME2) {
		t->time_type = MYSQL_TIMESTAMP_TIME;
		if (*text == '-') {
			t->neg = 1;
			text++;
		}
		if (sscanf(text, "%llu:%2u:%2u%n", &hours, &mi, &s, &n) != 3)
			return -EINVAL;
		/* libmariadb sends days and hours < 24 */
		if (hours / 24 > UINT32_MAX)
			return -EINVAL;
		t->day = (unsigned)(hours / 24);
		t->hour = (unsigned)(hours % 24);
	} else if (type == DT_MYSQL_TYPE_DATE || type == DT_MYSQL_TYPE_NEWDATE) {
		t->time_type = MYSQL_TIMESTAMP_DATE;
		if (sscanf(text, "%4u-%2u-%2u%n", &y, &mo, &d, &n) != 3)
			return -EINVAL;
	} else {
		t->time_type = MYSQL_TIMESTAMP_DATETIME;
		if (sscanf(text, "%4u-%2u-%2u %2u:%2u:%2u%n", &y, &mo, &d, &h,
			   &mi, &s, &n) != 6)
			return -EINVAL;
		t->hour = h;
	}
	t->year = y;
	t->month = mo;
	t->day = t->time_type == MYSQL_TIMESTAMP_TIME ? t->day : d;
	t->minute = mi;
	t->second = s;
	return parse_fraction(text + n, &t->second_part);
}

static int bind_one(MYSQL_BIND *b, struct rp_mysql_param *c,
		    const struct dt_mysql_value *v)
{
	memset(b, 0, sizeof(*b));
	b->is_null = &c->is_null;
	b->length = &c->length;
	if (v->is_null || v->type == DT_MYSQL_TYPE_NULL || !v->text) {
		b->buffer_type = MYSQL_TYPE_NULL;
		c->is_null = 1;
		return 0;
	}
	b->is_unsigned = v->is_unsigned || v->type == DT_MYSQL_TYPE_YEAR;
	b->buffer_type = int_buffer_type(v->type);
	if (b->buffer_type != MYSQL_TYPE_NULL && !parse_int(c, b, v))
		return 0;
	if (v->type == DT_MYSQL_TYPE_FLOAT || v->type == DT_MYSQL_TYPE_DOUBLE) {
		b->buffer_type = (enum enum_field_types)v->type;
		if (!parse_float(c, b, v))
			return 0;
	}
	if ((v->type == DT_MYSQL_TYPE_DATE || v->type == DT_MYSQL_TYPE_NEWDATE ||
	     v->type == DT_MYSQL_TYPE_DATETIME ||
	     v->type == DT_MYSQL_TYPE_TIMESTAMP ||
	     v->type == DT_MYSQL_TYPE_TIME) &&
	    !rp_mysql_parse_time(v->text, v->type, &c->t)) {
		b->buffer_type = v->type == DT_MYSQL_TYPE_NEWDATE ?
					 MYSQL_TYPE_DATE :
					 (enum enum_field_types)v->type;
		b->buffer = c;
		return 0;
	}
	/* everything else, and text that did not parse: the bytes */
	b->buffer_type = bytes_buffer_type(v->type);
	b->is_unsigned = 0;
	b->buffer = v->text;
	b->buffer_length = v->len;
	c->length = v->len;
	return 0;
}

int rp_mysql_params_bind(struct rp_mysql_params *p,
			 const struct dt_mysql_request *rq)
{
	memset(p, 0, sizeof(*p));
	if (!rq->nparams_kept)
		return 0;
	p->binds = calloc(rq->nparams_kept, sizeof(*p->binds));
	p->cells = calloc(rq->nparams_kept, sizeof(*p->cells));
	if (!p->binds || !p->cells) {
		rp_mysql_params_release(p);
		return -ENOMEM;
	}
	p->n = rq->nparams_kept;
	for (size_t i = 0; i < p->n; i++)
		bind_one(&p->binds[i], &p->cells[i], &rq->params[i]);
	return 0;
}

void rp_mysql_params_release(struct rp_mysql_params *p)
{
	free(p->binds);
	free(p->cells);
	memset(p, 0, sizeof(*p));
}
