// SPDX-License-Identifier: MIT
/*
 * Structural diff of two JSON values (jansson), calling back with the path
 * of every difference. Objects are compared member by member whatever
 * their order, arrays element by element; an integer and a real of the
 * same value are equal, as JSON itself does not tell them apart.
 *
 * Recursion follows the documents, whose depth jansson's parser bounds
 * (2048 levels); values built by other code are bounded the same way
 * (resp_json.c, compare_mysql.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

struct json_diff {
	dt_json_diff_fn fn;
	void *ctx;
	struct dt_sbuf path;
};

static bool numbers_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return json_number_value(a) == json_number_value(b);
}

static int report(struct json_diff *d, const json_t *a, const json_t *b)
{
	if (d->path.oom)
		return -ENOMEM;
	return d->fn(d->ctx, d->path.p, a, b);
}

static int diff_value(struct json_diff *d, const json_t *a, const json_t *b);

static int diff_member(struct json_diff *d, const char *key, size_t key_len,
		       const json_t *a, const json_t *b)
{
	size_t mark = d->path.len;
	int ret;

	dt_jpath_put_key(&d->path, key, key_len);
	ret = a && b ? diff_value(d, a, b) : report(d, a, b);
	dt_sbuf_truncate(&d->path, mark);
	return ret;
}

static int diff_object(struct json_diff *d, const json_t *a, const json_t *b)
{
	const char *key;
	size_t key_len;
	json_t *va, *vb;
	void *it;
	int ret;

	/* jansson iterates in insertion order: the documents' own order */
	for (it = json_object_iter((json_t *)a); it;
	     it = json_object_iter_next((json_t *)a, it)) {
		key = json_object_iter_key(it);
		key_len = json_object_iter_key_len(it);
		va = json_object_iter_value(it);
		vb = json_object_getn(b, key, key_len);
		ret = diff_member(d, key, key_len, va, vb);
		if (ret < 0)
			return ret;
	}
	for (it = json_object_iter((json_t *)b); it;
	     it = json_object_iter_next((json_t *)b, it)) {
		key = json_object_iter_key(it);
		key_len = json_object_iter_key_len(it);
		if (json_object_getn(a, key, key_len))
			continue;
		ret = diff_member(d, key, key_len, NULL,
				  json_object_iter_value(it));
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int diff_array(struct json_diff *d, const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	size_t i, mark = d->path.len;
	const json_t *va, *vb;
	int ret = 0;

	for (i = 0; i < na || i < nb; i++) {
		va = i < na ? json_array_get(a, i) : NULL;
		vb = i < nb ? json_array_get(b, i) : NULL;
		dt_jpath_put_index(&d->path, i);
		ret = va && vb ? diff_value(d, va, vb) : report(d, va, vb);
		dt_sbuf_truncate(&d->path, mark);
		if (ret < 0)
			break;
	}
	return ret;
}

static int diff_value(struct json_diff *d, const json_t *a, const json_t *b)
{
	if (json_is_object(a) && json_is_object(b))
		return diff_object(d, a, b);
	if (json_is_array(a) && json_is_array(b))
		return diff_array(d, a, b);
	if (dt_json_equal(a, b))
		return 0;
	return report(d, a, b);
}

int dt_json_diff(const json_t *expected, const json_t *actual,
		 const char *root, dt_json_diff_fn fn, void *ctx)
{
	struct json_diff d = { .fn = fn, .ctx = ctx };
	int ret;

	dt_sbuf_puts(&d.path, root);
	ret = diff_value(&d, expected, actual);
	dt_sbuf_release(&d.path);
	return ret;
}

static bool objects_equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *vb;
	void *it;

	if (json_object_size(a) != json_object_size(b))
		return false;
	for (it = json_object_iter((json_t *)a); it;
	     it = json_object_iter_next((json_t *)a, it)) {
		key = json_object_iter_key(it);
		vb = json_object_getn(b, key, json_object_iter_key_len(it));
		if (!vb || !dt_json_equal(json_object_iter_value(it), vb))
			return false;
	}
	return true;
}

static bool arrays_equal(const json_t *a, const json_t *b)
{
	size_t i, n = json_array_size(a);

	if (n != json_array_size(b))
		return false;
	for (i = 0; i < n; i++)
		if (!dt_json_equal(json_array_get(a, i), json_array_get(b, i)))
			return false;
	return true;
}

bool dt_json_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return numbers_equal(a, b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_OBJECT:
		return objects_equal(a, b);
	case JSON_ARRAY:
		return arrays_equal(a, b);
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b),
			       json_string_length(a));
	default:	/* true, false, null */
		return true;
	}
}

/* The shortest "%.*g" that reads back as the same double. */
static void put_real(struct dt_sbuf *b, double v)
{
	char buf[40];
	int prec;

	if (!isfinite(v)) {
		dt_sbuf_puts(b, isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*g", prec, v);
	dt_sbuf_puts(b, buf);
	/* keep it a real: 2.0 shows as "2.0", not as the integer 2 */
	if (!strpbrk(buf, ".eEn"))
		dt_sbuf_puts(b, ".0");
}

bool dt_json_scalar_text(const json_t *v, struct dt_sbuf *b)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		dt_sbuf_put(b, json_string_value(v), json_string_length(v));
		return true;
	case JSON_INTEGER:
		dt_sbuf_printf(b, "%" JSON_INTEGER_FORMAT,
			       json_integer_value(v));
		return true;
	case JSON_REAL:
		put_real(b, json_real_value(v));
		return true;
	case JSON_TRUE:
		dt_sbuf_puts(b, "true");
		return true;
	case JSON_FALSE:
		dt_sbuf_puts(b, "false");
		return true;
	default:
		return false;
	}
}

char *dt_json_render(const json_t *v, size_t max)
{
	struct dt_sbuf b = { 0 };
	char *text, *out;

	if (json_is_string(v))
		return dt_text_quoted(json_string_value(v),
				      json_string_length(v), max);
	if (json_is_number(v)) {
		dt_json_scalar_text(v, &b);
		return dt_sbuf_take(&b);
	}
	/* reals inside containers: 15 digits read well and rarely mislead */
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
			  JSON_REAL_PRECISION(15));
	if (!text)
		return NULL;
	out = dt_text_plain(text, strlen(text), max);
	free(text);
	return out;
}
