// SPDX-License-Identifier: MIT
/*
 * Redis replies (RESP2 and RESP3) as JSON values, so that they are diffed
 * by json_diff.c with paths into them ("$[2]", "$.field"). Every byte is
 * bounds-checked; nesting stops at DT_RESP_MAX_DEPTH and aggregates cannot
 * claim more elements than the bytes left could hold.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

struct resp_parser {
	const uint8_t *buf;
	size_t len, pos;
};

/* The line after the type byte, up to CRLF (pos moves past it). */
static int read_line(struct resp_parser *p, const uint8_t **line, size_t *n)
{
	size_t start = p->pos, end;
	const uint8_t *cr;
	size_t avail = p->len - start;

	if (avail > DT_RESP_MAX_LINE + 2)
		avail = DT_RESP_MAX_LINE + 2;
	cr = memchr(p->buf + start, '\r', avail);
	if (!cr)
		return -EBADMSG;
	end = (size_t)(cr - p->buf);
	if (end + 1 >= p->len || p->buf[end + 1] != '\n')
		return -EBADMSG;
	*line = p->buf + start;
	*n = end - start;
	p->pos = end + 2;
	return 0;
}

/* A signed decimal that fits int64_t. */
static int parse_int(const uint8_t *s, size_t n, int64_t *v)
{
	bool neg = n && s[0] == '-';
	uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i = neg || (n && s[0] == '+');

	if (i == n)
		return -EBADMSG;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		if (acc > (limit - (uint64_t)(s[i] - '0')) / 10)
			return -EBADMSG;
		acc = acc * 10 + (uint64_t)(s[i] - '0');
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* Bytes as a JSON string, or {"binary": escaped} when not UTF-8. */
static json_t *bytes_json(const uint8_t *s, size_t n)
{
	struct dt_sbuf b = { 0 };
	json_t *v;

	if (dt_utf8_valid(s, n))
		return json_stringn((const char *)s, n);
	dt_text_escape(&b, s, n, false);
	v = b.oom ? NULL : json_pack("{s:s%}", "binary", b.p, b.len);
	dt_sbuf_release(&b);
	return v;
}

static json_t *double_json(const uint8_t *s, size_t n)
{
	char text[64];
	char *end;
	double d;

	if (!n || n >= sizeof(text))
		return NULL;
	memcpy(text, s, n);
	text[n] = '\0';
	d = strtod(text, &end);
	if (*end)
		return NULL;
	if (!isfinite(d))	/* JSON has no inf or nan */
		return json_string(isnan(d) ? "nan" : d < 0 ? "-inf" : "inf");
	return json_real(d);
}

/* $, !, =: a length line, the payload, CRLF. *s NULL for a nil. */
static int read_blob(struct resp_parser *p, const uint8_t **s, size_t *n)
{
	const uint8_t *line;
	size_t ln;
	int64_t len;

	if (read_line(p, &line, &ln) || parse_int(line, ln, &len))
		return -EBADMSG;
	if (len == -1) {
		*s = NULL;
		return 0;
	}
	if (len < 0 || (uint64_t)len > p->len - p->pos ||
	    p->len - p->pos - (size_t)len < 2 ||
	    p->buf[p->pos + (size_t)len] != '\r' ||
	    p->buf[p->pos + (size_t)len + 1] != '\n')
		return -EBADMSG;
	*s = p->buf + p->pos;
	*n = (size_t)len;
	p->pos += (size_t)len + 2;
	return 0;
}

static int parse_value(struct resp_parser *p, unsigned depth, json_t **out,
		       int *type);

/* An aggregate's element count; -1 (RESP2 nil array) allowed. Each
 * element takes 3 bytes at least, which bounds the count. */
static int read_count(struct resp_parser *p, int64_t *count, int per)
{
	const uint8_t *line;
	size_t n;

	if (read_line(p, &line, &n) || parse_int(line, n, count))
		return -EBADMSG;
	if (*count < -1 ||
	    (*count > 0 && (uint64_t)*count > (p->len - p->pos) / 3 / per))
		return -EBADMSG;
	return 0;
}

static int parse_elements(struct resp_parser *p, unsigned depth,
			  int64_t count, json_t *array)
{
	json_t *v;
	int type, ret;

	for (int64_t i = 0; i < count; i++) {
		ret = parse_value(p, depth + 1, &v, &type);
		if (ret < 0)
			return ret;
		if (json_array_append_new(array, v))
			return -ENOMEM;
	}
	return 0;
}

/* A map key as text: strings as they are, other values as JSON. */
static char *key_text(const json_t *k, size_t *len)
{
	const json_t *bin = json_object_get(k, "binary");
	char *s;

	if (json_is_string(k) || json_is_string(bin)) {
		k = json_is_string(k) ? k : bin;
		*len = json_string_length(k);
		s = malloc(*len + 1);
		if (s) {
			memcpy(s, json_string_value(k), *len);
			s[*len] = '\0';
		}
		return s;
	}
	s = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	*len = s ? strlen(s) : 0;
	return s;
}

static int parse_map(struct resp_parser *p, unsigned depth, int64_t count,
		     json_t *obj)
{
	json_t *k, *v;
	char *text;
	size_t len;
	int type, ret;

	for (int64_t i = 0; i < count; i++) {
		ret = parse_value(p, depth + 1, &k, &type);
		if (ret < 0)
			return ret;
		ret = parse_value(p, depth + 1, &v, &type);
		if (ret < 0) {
			json_decref(k);
			return ret;
		}
		text = key_text(k, &len);
		json_decref(k);
		if (!text || json_object_setn_new(obj, text, len, v)) {
			free(text);
			return -ENOMEM;
		}
		free(text);
	}
	return 0;
}

/* *, ~, >, %: the aggregates; depth counts those around this one. */
static int parse_aggregate(struct resp_parser *p, unsigned depth, int type,
			   json_t **out)
{
	int64_t count;
	int ret;

	if (depth >= DT_RESP_MAX_DEPTH)
		return -EBADMSG;
	ret = read_count(p, &count, type == '%' ? 2 : 1);
	if (ret < 0)
		return ret;
	if (count == -1) {
		*out = json_null();
		return 0;
	}
	*out = type == '%' ? json_object() : json_array();
	if (!*out)
		return -ENOMEM;
	ret = type == '%' ? parse_map(p, depth, count, *out) :
			    parse_elements(p, depth, count, *out);
	if (ret < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return ret;
}

/* |: attributes describe the value after them; they are dropped. */
static int skip_attribute(struct resp_parser *p, unsigned depth)
{
	json_t *attrs = NULL;
	int ret = parse_aggregate(p, depth, '%', &attrs);

	json_decref(attrs);
	return ret;
}

static int parse_simple(struct resp_parser *p, int type, json_t **out)
{
	const uint8_t *line;
	size_t n;
	int64_t i;

	if (read_line(p, &line, &n))
		return -EBADMSG;
	switch (type) {
	case '+':
	case '(':
		*out = bytes_json(line, n);
		break;
	case '-':
		*out = json_pack("{s:o}", "error", bytes_json(line, n));
		break;
	case ':':
		if (parse_int(line, n, &i))
			return -EBADMSG;
		*out = json_integer(i);
		break;
	case ',':
		*out = double_json(line, n);
		if (!*out)
			return -EBADMSG;
		break;
	case '#':
		if (n != 1 || (line[0] != 't' && line[0] != 'f'))
			return -EBADMSG;
		*out = json_boolean(line[0] == 't');
		break;
	default: /* '_' */
		if (n)
			return -EBADMSG;
		*out = json_null();
		break;
	}
	return *out ? 0 : -ENOMEM;
}

static int parse_blob(struct resp_parser *p, int type, json_t **out)
{
	const uint8_t *s;
	size_t n;

	if (read_blob(p, &s, &n))
		return -EBADMSG;
	if (!s) {
		*out = json_null();
	} else if (type == '!') {
		*out = json_pack("{s:o}", "error", bytes_json(s, n));
	} else if (type == '=') {
		/* "txt:" or "mkd:" says how to show it; the text is the value */
		if (n < 4 || s[3] != ':')
			return -EBADMSG;
		*out = bytes_json(s + 4, n - 4);
	} else {
		*out = bytes_json(s, n);
	}
	return *out ? 0 : -ENOMEM;
}

static int parse_value(struct resp_parser *p, unsigned depth, json_t **out,
		       int *type)
{
	int ret;

	*out = NULL;
	for (;;) {
		if (p->pos >= p->len)
			return -EBADMSG;
		*type = p->buf[p->pos++];
		if (*type != '|')
			break;
		ret = skip_attribute(p, depth + 1);
		if (ret < 0)
			return ret;
	}
	if (strchr("+-:,#_(", *type) && *type)
		return parse_simple(p, *type, out);
	if (strchr("$!=", *type) && *type)
		return parse_blob(p, *type, out);
	if (strchr("*~>%", *type) && *type)
		return parse_aggregate(p, depth, *type, out);
	return -EBADMSG;
}

ssize_t dt_resp_to_json(const uint8_t *buf, size_t len, json_t **out,
			int *type)
{
	struct resp_parser p = { .buf = buf, .len = len };
	int ret = parse_value(&p, 0, out, type);

	if (ret < 0)
		return ret;
	return (ssize_t)p.pos;
}
