// SPDX-License-Identifier: MIT
/*
 * MySQL responses, compared from the summary attributes both sessions
 * carry (dt_mysql_summary_to_attrs(): the recorder sets them from the wire
 * bytes, the replayer from its client library's results): the result
 * kind, the error code, affected rows, the columns' names and types, the
 * row count and the rows kept in the preview.
 *
 * Rows compare as objects keyed by the recorded column names when those
 * are unique (paths "$[2].price"), else as arrays ("$[2][1]"). In order,
 * unless --unordered-rows is set and the SQL has no ORDER BY: then as a
 * multiset (rows_unordered.c), when both previews hold every row.
 * Not compared: schema and table names (staging databases are named
 * differently), last insert ids, warnings and error messages, which the
 * items show along with the error code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff/diff_int.h"

struct mysql_side {
	const struct dt_exchange *x;
	const char *kind;
	json_t *columns;	/* [{"name", "type", ...}] or NULL */
	json_t *rows;		/* the preview as objects or arrays */
	size_t nrows_kept;
	uint64_t nrows;
};

static const char *attr(const struct mysql_side *s, const char *key)
{
	return dt_exchange_attr(s->x, key);
}

static json_t *attr_json(const struct dt_exchange *x, const char *key)
{
	const char *text = dt_exchange_attr(x, key);

	return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

/* What a response is, in a few words: `err 1146 (42S02) "Table..."`. */
static char *describe(const struct mysql_side *s)
{
	const char *code = attr(s, "response.error_code");
	const char *state = attr(s, "response.sql_state");
	const char *msg = attr(s, "response.error_message");
	const char *affected = attr(s, "response.affected_rows");
	const char *rows = attr(s, "response.rows");
	struct dt_sbuf b = { 0 };
	char *out;

	dt_sbuf_puts(&b, s->kind ? s->kind : "(no result)");
	if (code)
		dt_sbuf_printf(&b, " %s", code);
	if (state)
		dt_sbuf_printf(&b, " (%s)", state);
	if (msg)
		dt_sbuf_printf(&b, " \"%.120s\"", msg);
	if (affected && !rows)
		dt_sbuf_printf(&b, " (%s affected)", affected);
	if (rows)
		dt_sbuf_printf(&b, " (%s rows)", rows);
	if (b.oom) {
		dt_sbuf_release(&b);
		return NULL;
	}
	out = dt_text_plain(b.p, b.len, 300);
	dt_sbuf_release(&b);
	return out;
}

static const char *column_name(const json_t *columns, size_t i)
{
	return json_string_value(json_object_get(json_array_get(columns, i),
						 "name"));
}

/* Names to key rows by: unique and not empty; else rows stay arrays. */
static bool names_usable(const json_t *columns, size_t ncols)
{
	size_t i, k;

	if (json_array_size(columns) != ncols)
		return false;
	for (i = 0; i < ncols; i++) {
		const char *n = column_name(columns, i);

		if (!n || !n[0])
			return false;
		for (k = 0; k < i; k++)
			if (!strcmp(n, column_name(columns, k)))
				return false;
	}
	return true;
}

/* The preview rows, each as an object keyed by names (NULL: arrays). */
static int load_rows(struct mysql_side *s, const json_t *names)
{
	json_t *preview = attr_json(s->x, "response.preview");
	const char *count = attr(s, "response.rows");
	json_t *row, *obj;
	size_t i, k;

	s->nrows = count ? strtoull(count, NULL, 10) : 0;
	if (!json_is_array(preview)) {
		json_decref(preview);
		s->rows = json_array();
		return s->rows ? 0 : -ENOMEM;
	}
	s->nrows_kept = json_array_size(preview);
	if (!names) {
		s->rows = preview;
		return 0;
	}
	json_array_foreach(preview, i, row) {
		if (!json_is_array(row) ||
		    json_array_size(row) != json_array_size(names))
			continue;
		obj = json_object();
		for (k = 0; obj && k < json_array_size(row); k++)
			if (json_object_set(obj, column_name(names, k),
					    json_array_get(row, k)))
				break;
		if (!obj || k < json_array_size(row) ||
		    json_array_set_new(preview, i, obj)) {
			json_decref(obj);
			json_decref(preview);
			return -ENOMEM;
		}
	}
	s->rows = preview;
	return 0;
}

static void side_load(struct mysql_side *s, const struct dt_exchange *x)
{
	s->x = x;
	s->kind = dt_exchange_attr(x, "response.kind");
	s->columns = attr_json(x, "response.columns");
	if (s->columns && !json_is_array(s->columns)) {
		json_decref(s->columns);
		s->columns = NULL;
	}
}

static void side_release(struct mysql_side *s)
{
	json_decref(s->columns);
	json_decref(s->rows);
}

/* An attribute both sides should agree on, compared as text. */
static int compare_attr(struct dt_cmp *c, const char *field,
			const struct mysql_side *a, const struct mysql_side *b,
			const char *key)
{
	const char *va = attr(a, key), *vb = attr(b, key);
	char *ea = NULL, *eb = NULL;

	if ((!va && !vb) || (va && vb && !strcmp(va, vb)))
		return 0;
	if ((va && !(ea = dt_text_plain(va, strlen(va), 200))) ||
	    (vb && !(eb = dt_text_plain(vb, strlen(vb), 200)))) {
		free(ea);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, NULL, ea, eb, NULL, DT_DIFF_UNEXPLAINED);
}

/* Kind or error code differ: the items show what each response was. */
static int compare_described(struct dt_cmp *c, const char *field,
			     const struct mysql_side *a,
			     const struct mysql_side *b)
{
	char *ea = describe(a), *eb = describe(b);

	if (!ea || !eb) {
		free(ea);
		free(eb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, NULL, ea, eb, NULL, DT_DIFF_UNEXPLAINED);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static char *column_text(const json_t *col, const char *key)
{
	const char *v = json_string_value(json_object_get(col, key));

	return v ? dt_text_quoted(v, strlen(v), 120) : NULL;
}

/* One field of a column: "columns[<i>].<key>". */
static int compare_column_field(struct dt_cmp *c, size_t i, const char *key,
				const json_t *ca, const json_t *cb)
{
	const char *va = json_string_value(json_object_get(ca, key));
	const char *vb = json_string_value(json_object_get(cb, key));
	char field[48], *ea, *eb;

	if (same_text(va, vb))
		return 0;
	ea = column_text(ca, key);
	eb = column_text(cb, key);
	if ((va && !ea) || (vb && !eb)) {
		free(ea);
		free(eb);
		return -ENOMEM;
	}
	snprintf(field, sizeof(field), "columns[%zu].%s", i, key);
	return dt_cmp_add(c, field, NULL, ea, eb, NULL, DT_DIFF_UNEXPLAINED);
}

/* "3: id, name, price", escaped and shortened. */
static char *column_list(const json_t *columns)
{
	struct dt_sbuf b = { 0 };
	char *out;
	size_t i;

	dt_sbuf_printf(&b, "%zu:", json_array_size(columns));
	for (i = 0; i < json_array_size(columns) && b.len < 300; i++) {
		const char *n = column_name(columns, i);

		dt_sbuf_printf(&b, "%s %.64s", i ? "," : "", n ? n : "?");
	}
	if (b.oom)
		return NULL;
	out = dt_text_plain(b.p, b.len, 200);
	dt_sbuf_release(&b);
	return out;
}

static int compare_columns(struct dt_cmp *c, const struct mysql_side *a,
			   const struct mysql_side *b)
{
	size_t i, n = json_array_size(a->columns);
	char *ea, *eb;
	int ret = 0;

	if (n != json_array_size(b->columns)) {
		ea = column_list(a->columns);
		eb = column_list(b->columns);
		if (!ea || !eb) {
			free(ea);
			free(eb);
			return -ENOMEM;
		}
		return dt_cmp_add(c, "columns", NULL, ea, eb, NULL,
				  DT_DIFF_UNEXPLAINED);
	}
	for (i = 0; i < n && !ret; i++) {
		const json_t *ca = json_array_get(a->columns, i);
		const json_t *cb = json_array_get(b->columns, i);

		ret = compare_column_field(c, i, "name", ca, cb);
		if (!ret)
			ret = compare_column_field(c, i, "type", ca, cb);
	}
	return ret;
}

/* Whether the word "ORDER BY" appears outside quotes. The SQL is
 * normalised first: no comments, one space between words. */
static bool sql_orders_rows(const char *sql)
{
	size_t len = strlen(sql), i;
	char *norm = malloc(len + 1), quote = 0;
	bool found = false;

	if (!norm)
		return true;	/* the strict reading */
	dt_mysql_sql_normalize(sql, len, norm, len + 1, 0);
	for (i = 0; norm[i] && !found; i++) {
		if (quote) {
			if (norm[i] == '\\' && quote != '`' && norm[i + 1])
				i++;
			else if (norm[i] == quote)
				quote = 0;
			continue;
		}
		if (norm[i] == '\'' || norm[i] == '"' || norm[i] == '`') {
			quote = norm[i];
			continue;
		}
		found = !strncasecmp(norm + i, "order by", 8) &&
			(i == 0 || !isalnum((unsigned char)norm[i - 1])) &&
			!isalnum((unsigned char)norm[i + 8]) &&
			norm[i + 8] != '_';
	}
	free(norm);
	return found;
}

static bool rows_unordered(const struct dt_cmp *c)
{
	const char *sql = dt_exchange_attr(c->rec, "request.sql");

	return c->unordered_rows && sql && !sql_orders_rows(sql);
}

/* The first n rows of s, borrowed in a new array. */
static json_t *first_rows(const struct mysql_side *s, size_t n)
{
	json_t *rows = json_array();
	size_t i;

	for (i = 0; rows && i < n; i++) {
		if (json_array_append(rows, json_array_get(s->rows, i))) {
			json_decref(rows);
			return NULL;
		}
	}
	return rows;
}

static int compare_rows(struct dt_cmp *c, struct mysql_side *a,
			struct mysql_side *b)
{
	size_t ncols = json_array_size(a->columns), n;
	const json_t *names = NULL;
	json_t *ra, *rb;
	int ret;

	if (ncols && json_array_size(b->columns) == ncols &&
	    names_usable(a->columns, ncols))
		names = a->columns;
	ret = load_rows(a, names);
	if (!ret)
		ret = load_rows(b, names);
	if (!ret)
		ret = compare_attr(c, "rows", a, b, "response.rows");
	if (ret)
		return ret;
	if (rows_unordered(c)) {
		/* a multiset compares only whole */
		if (a->nrows_kept != a->nrows || b->nrows_kept != b->nrows)
			return 0;
		return dt_cmp_rows_unordered(c, a->rows, b->rows);
	}
	n = a->nrows_kept < b->nrows_kept ? a->nrows_kept : b->nrows_kept;
	ra = first_rows(a, n);
	rb = first_rows(b, n);
	ret = ra && rb ? dt_cmp_json(c, ra, rb, "rows", "$") : -ENOMEM;
	json_decref(ra);
	json_decref(rb);
	return ret;
}

int dt_compare_mysql(struct dt_cmp *c, const struct dt_exchange *rec,
		     const struct dt_exchange *rep)
{
	struct mysql_side a = { 0 }, b = { 0 };
	int ret;

	side_load(&a, rec);
	side_load(&b, rep);
	if (!same_text(a.kind, b.kind)) {
		ret = compare_described(c, "kind", &a, &b);
		goto out;
	}
	ret = 0;
	if (!same_text(attr(&a, "response.error_code"),
		       attr(&b, "response.error_code")))
		ret = compare_described(c, "error_code", &a, &b);
	if (!ret)
		ret = compare_attr(c, "affected_rows", &a, &b,
				   "response.affected_rows");
	if (!ret && (a.columns || b.columns))
		ret = compare_columns(c, &a, &b);
	if (!ret && (attr(&a, "response.rows") || attr(&b, "response.rows")))
		ret = compare_rows(c, &a, &b);
out:
	side_release(&a);
	side_release(&b);
	return ret;
}
