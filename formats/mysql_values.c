// SPDX-License-Identifier: MIT
/*
 * Binary-protocol values (COM_STMT_EXECUTE parameters, binary result set
 * rows) and their rendering as text. Each type has a fixed width, a
 * length-prefixed date/time structure, or is a length-encoded string.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

/* Longest rendering of a fixed-width or temporal value. */
#define VALUE_TEXT_MAX 64

void dt_mysql_value_release(struct dt_mysql_value *v)
{
	free(v->text);
	v->text = NULL;
	v->len = 0;
}

int dt_mysql_value_set_text(struct dt_mysql_value *v, const uint8_t *p,
			    size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	char *text = malloc(n + 1);

	if (!text)
		return -ENOMEM;
	if (n)
		memcpy(text, p, n);
	text[n] = '\0';
	free(v->text);
	v->text = text;
	v->len = n;
	v->truncated = len > max;
	return 0;
}

static int set_rendered(struct dt_mysql_value *v, const char *s, int n,
			size_t max)
{
	if (n < 0)
		return -EBADMSG;
	return dt_mysql_value_set_text(v, (const uint8_t *)s, (size_t)n, max);
}

static int render_int(struct dt_mysql_value *v, uint64_t raw, size_t width,
		      bool is_unsigned, size_t max)
{
	char buf[VALUE_TEXT_MAX];
	unsigned shift = (unsigned)(64 - 8 * width);
	int n;

	if (is_unsigned) {
		n = snprintf(buf, sizeof(buf), "%" PRIu64, raw);
	} else {
		/* sign-extend the width's top bit */
		int64_t s = (int64_t)(raw << shift) >> shift;

		n = snprintf(buf, sizeof(buf), "%" PRId64, s);
	}
	return set_rendered(v, buf, n, max);
}

/* Shortest %g rendering that reads back as the same value. */
static int render_float(struct dt_mysql_value *v, double d, bool single,
			size_t max)
{
	char buf[VALUE_TEXT_MAX];
	int digits_max = single ? 9 : 17;
	int prec, n = -1;

	for (prec = 1; prec <= digits_max; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (single ? strtof(buf, NULL) == (float)d :
			     strtod(buf, NULL) == d)
			break;
	}
	return set_rendered(v, buf, n, max);
}

static int read_float(struct mysql_cur *cur, bool single, size_t max,
		      struct dt_mysql_value *out)
{
	uint64_t raw = mysql_cur_uint(cur, single ? 4 : 8);

	if (cur->bad)
		return -EBADMSG;
	if (!out)
		return 0;
	if (single) {
		uint32_t bits = (uint32_t)raw;
		float f;

		memcpy(&f, &bits, sizeof(f));
		return render_float(out, f, true, max);
	} else {
		double d;

		memcpy(&d, &raw, sizeof(d));
		return render_float(out, d, false, max);
	}
}

/* DATE, DATETIME, TIMESTAMP: length 0, 4, 7 or 11, then year(2) month day
 * [hour minute second [microseconds(4)]]. */
static int read_datetime(struct mysql_cur *cur, bool date_only, size_t max,
			 struct dt_mysql_value *out)
{
	uint8_t n = mysql_cur_u8(cur);
	unsigned year = 0, month = 0, day = 0, hour = 0, min = 0, sec = 0;
	uint32_t usec = 0;
	char buf[VALUE_TEXT_MAX];
	int len;

	if (n != 0 && n != 4 && n != 7 && n != 11)
		return -EBADMSG;
	if (n >= 4) {
		year = mysql_cur_u16(cur);
		month = mysql_cur_u8(cur);
		day = mysql_cur_u8(cur);
	}
	if (n >= 7) {
		hour = mysql_cur_u8(cur);
		min = mysql_cur_u8(cur);
		sec = mysql_cur_u8(cur);
	}
	if (n == 11)
		usec = mysql_cur_u32(cur);
	if (cur->bad)
		return -EBADMSG;
	if (!out)
		return 0;
	if (date_only)
		len = snprintf(buf, sizeof(buf), "%04u-%02u-%02u", year, month,
			       day);
	else if (usec)
		len = snprintf(buf, sizeof(buf),
			       "%04u-%02u-%02u %02u:%02u:%02u.%06" PRIu32,
			       year, month, day, hour, min, sec, usec);
	else
		len = snprintf(buf, sizeof(buf),
			       "%04u-%02u-%02u %02u:%02u:%02u", year, month,
			       day, hour, min, sec);
	return set_rendered(out, buf, len, max);
}

/* TIME: length 0, 8 or 12, then negative(1) days(4) hour minute second
 * [microseconds(4)]. */
static int read_time(struct mysql_cur *cur, size_t max,
		     struct dt_mysql_value *out)
{
	uint8_t n = mysql_cur_u8(cur);
	uint64_t hours = 0;
	unsigned min = 0, sec = 0;
	uint32_t usec = 0;
	bool negative = false;
	char buf[VALUE_TEXT_MAX];
	int len;

	if (n != 0 && n != 8 && n != 12)
		return -EBADMSG;
	if (n >= 8) {
		negative = mysql_cur_u8(cur) != 0;
		hours = (uint64_t)mysql_cur_u32(cur) * 24;
		hours += mysql_cur_u8(cur);
		min = mysql_cur_u8(cur);
		sec = mysql_cur_u8(cur);
	}
	if (n == 12)
		usec = mysql_cur_u32(cur);
	if (cur->bad)
		return -EBADMSG;
	if (!out)
		return 0;
	if (usec)
		len = snprintf(buf, sizeof(buf),
			       "%s%02" PRIu64 ":%02u:%02u.%06" PRIu32,
			       negative ? "-" : "", hours, min, sec, usec);
	else
		len = snprintf(buf, sizeof(buf), "%s%02" PRIu64 ":%02u:%02u",
			       negative ? "-" : "", hours, min, sec);
	return set_rendered(out, buf, len, max);
}

int dt_mysql_read_string_value(struct mysql_cur *cur, size_t max,
			       struct dt_mysql_value *out)
{
	uint64_t n = mysql_cur_lenenc(cur);
	size_t left = mysql_cur_left(cur);
	const uint8_t *p;
	int ret = 0;

	if (cur->bad)
		return -EBADMSG;
	if (n <= left) {
		p = mysql_cur_take(cur, (size_t)n);
		if (!out)
			return 0;
		return dt_mysql_value_set_text(out, p, (size_t)n, max);
	}
	if (!cur->cut) {
		cur->bad = true;
		return -EBADMSG;
	}
	/* the rest of the payload was not kept: the string's start is all
	 * there is, and nothing after it can be read */
	if (out) {
		ret = dt_mysql_value_set_text(out, cur->p + cur->pos, left,
					      max);
		out->truncated = true;
	}
	cur->pos = cur->len;
	cur->bad = true;
	return ret;
}

static size_t int_width(uint8_t type)
{
	switch (type) {
	case DT_MYSQL_TYPE_TINY:
		return 1;
	case DT_MYSQL_TYPE_SHORT:
	case DT_MYSQL_TYPE_YEAR:
		return 2;
	case DT_MYSQL_TYPE_LONG:
	case DT_MYSQL_TYPE_INT24:
		return 4;
	case DT_MYSQL_TYPE_LONGLONG:
		return 8;
	default:
		return 0;
	}
}

int dt_mysql_read_binary_value(struct mysql_cur *cur, uint8_t type,
			       bool is_unsigned, size_t max_value,
			       struct dt_mysql_value *out)
{
	size_t width = int_width(type);
	uint64_t raw;

	if (out) {
		out->type = type;
		out->is_unsigned = is_unsigned;
	}
	if (width) {
		raw = mysql_cur_uint(cur, width);
		if (cur->bad)
			return -EBADMSG;
		return out ? render_int(out, raw, width,
					is_unsigned ||
						type == DT_MYSQL_TYPE_YEAR,
					max_value) :
			     0;
	}
	switch (type) {
	case DT_MYSQL_TYPE_NULL:
		if (out)
			out->is_null = true;
		return 0;
	case DT_MYSQL_TYPE_FLOAT:
		return read_float(cur, true, max_value, out);
	case DT_MYSQL_TYPE_DOUBLE:
		return read_float(cur, false, max_value, out);
	case DT_MYSQL_TYPE_DATE:
	case DT_MYSQL_TYPE_NEWDATE:
		return read_datetime(cur, true, max_value, out);
	case DT_MYSQL_TYPE_DATETIME:
	case DT_MYSQL_TYPE_TIMESTAMP:
	case DT_MYSQL_TYPE_DATETIME2:
	case DT_MYSQL_TYPE_TIMESTAMP2:
		return read_datetime(cur, false, max_value, out);
	case DT_MYSQL_TYPE_TIME:
	case DT_MYSQL_TYPE_TIME2:
		return read_time(cur, max_value, out);
	default:
		if (!dt_mysql_type_is_known(type))
			return -EBADMSG;
		return dt_mysql_read_string_value(cur, max_value, out);
	}
}
