// SPDX-License-Identifier: MIT
/*
 * MySQL rows compared as multisets, for queries whose row order the
 * server is free to choose. Rows are matched through a canonical text
 * (JSON, members sorted): sorting both sides and merging keeps this
 * O(n log n) for the largest preview.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

#define ROW_TEXT_MAX 200

struct row {
	const json_t *value;
	size_t index;		/* in its side's array */
	char *text;		/* canonical text: raw, then prepared */
	bool matched;
	struct row *partner;	/* matched once prepared */
};

struct side {
	size_t n;
	struct row *rows;	/* in index order */
	struct row **by_text;	/* sorted by text */
};

static void side_release(struct side *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->rows[i].text);
	free(s->rows);
	free(s->by_text);
}

static char *canonical(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static int side_init(struct side *s, const json_t *rows)
{
	size_t i;

	s->n = json_array_size(rows);
	s->rows = calloc(s->n ? s->n : 1, sizeof(*s->rows));
	s->by_text = calloc(s->n ? s->n : 1, sizeof(*s->by_text));
	if (!s->rows || !s->by_text)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		s->rows[i].value = json_array_get(rows, i);
		s->rows[i].index = i;
		s->rows[i].text = canonical(s->rows[i].value);
		if (!s->rows[i].text)
			return -ENOMEM;
	}
	return 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp((*(struct row *const *)a)->text,
		      (*(struct row *const *)b)->text);
}

/* The unmatched rows of s sorted by text; returns how many. */
static size_t sort_unmatched(struct side *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (!s->rows[i].matched)
			s->by_text[n++] = &s->rows[i];
	qsort(s->by_text, n, sizeof(*s->by_text), by_text);
	return n;
}

/* Pairs rows of equal text; with partner, remembers who matched whom. */
static void merge(struct side *a, struct side *b, bool partner)
{
	size_t na = sort_unmatched(a), nb = sort_unmatched(b), i = 0, k = 0;
	int cmp;

	while (i < na && k < nb) {
		cmp = strcmp(a->by_text[i]->text, b->by_text[k]->text);
		if (cmp < 0) {
			i++;
		} else if (cmp > 0) {
			k++;
		} else {
			a->by_text[i]->matched = true;
			b->by_text[k]->matched = true;
			if (partner)
				a->by_text[i]->partner = b->by_text[k];
			i++;
			k++;
		}
	}
}

/* Rules or learned noise explain a member of a row: left out. */
static bool member_ignored(const struct dt_cmp *c, const char *path)
{
	struct dt_field f;
	size_t i;
	bool hit;

	if (dt_field_init(&f, path, "rows"))
		return false;
	hit = c->scope && dt_rules_ignore(c->scope, &f);
	for (i = 0; i < c->nlearned && !hit; i++)
		hit = dt_field_pattern_match(&c->learned[i], &f);
	dt_field_release(&f);
	return hit;
}

/* A string member normalised; NULL when the normalisers change nothing
 * (or memory ran out: the row then stays as it was). */
static json_t *member_normalized(const struct dt_cmp *c, const json_t *v)
{
	struct dt_sbuf out = { 0 }, esc = { 0 };
	json_t *n = NULL;

	if (!json_is_string(v) || !dt_rules_can_normalize(c->scope))
		return NULL;
	if (dt_rules_normalize(c->scope, json_string_value(v),
			       json_string_length(v), &out) ||
	    (out.len == json_string_length(v) &&
	     !memcmp(out.p, json_string_value(v), out.len)))
		goto out;
	/* a replacement may have cut a UTF-8 sequence */
	if (dt_utf8_valid(out.p, out.len)) {
		n = json_stringn(out.p, out.len);
	} else {
		dt_text_escape(&esc, out.p, out.len, false);
		if (!esc.oom)
			n = json_stringn(esc.p, esc.len);
	}
out:
	dt_sbuf_release(&out);
	dt_sbuf_release(&esc);
	return n;
}

/* Path of member key (or element k when key is NULL) of row r. */
static bool member_path(struct dt_sbuf *path, const struct row *r,
			const char *key, size_t key_len, size_t k)
{
	dt_sbuf_truncate(path, 0);
	dt_sbuf_printf(path, "$[%zu]", r->index);
	if (key)
		dt_jpath_put_key(path, key, key_len);
	else
		dt_jpath_put_index(path, k);
	return !path->oom;
}

/* Explains a member of a row's copy: whether to leave it out, or the
 * normalised value to put in its place (NULL: keep it). */
static bool member_dropped(const struct dt_cmp *c, const char *path,
			   const json_t *v, json_t **norm)
{
	*norm = NULL;
	if (member_ignored(c, path))
		return true;
	*norm = member_normalized(c, v);
	return false;
}

static int prepare_object(const struct dt_cmp *c, struct row *r,
			  json_t *copy, struct dt_sbuf *path)
{
	json_t *norm;
	void *it, *next;

	for (it = json_object_iter(copy); it; it = next) {
		next = json_object_iter_next(copy, it);
		if (!member_path(path, r, json_object_iter_key(it),
				 json_object_iter_key_len(it), 0))
			return -ENOMEM;
		if (member_dropped(c, path->p, json_object_iter_value(it),
				   &norm))
			json_object_del(copy, json_object_iter_key(it));
		else if (norm)
			json_object_iter_set_new(copy, it, norm);
	}
	return 0;
}

/* An ignored element becomes null: the others keep their places. */
static int prepare_array(const struct dt_cmp *c, struct row *r,
			 json_t *copy, struct dt_sbuf *path)
{
	json_t *norm;
	size_t k;

	for (k = 0; k < json_array_size(copy); k++) {
		if (!member_path(path, r, NULL, 0, k))
			return -ENOMEM;
		if (member_dropped(c, path->p, json_array_get(copy, k),
				   &norm))
			norm = json_null();
		if (norm && json_array_set_new(copy, k, norm))
			return -ENOMEM;
	}
	return 0;
}

/* The row as the rules see it: ignored members out, values normalised. */
static int prepare(const struct dt_cmp *c, struct row *r)
{
	json_t *copy = json_deep_copy(r->value);
	struct dt_sbuf path = { 0 };
	int ret;

	if (!copy)
		return -ENOMEM;
	ret = json_is_array(copy) ? prepare_array(c, r, copy, &path) :
				    prepare_object(c, r, copy, &path);
	if (!ret) {
		free(r->text);
		r->text = canonical(copy);
		ret = r->text ? 0 : -ENOMEM;
	}
	dt_sbuf_release(&path);
	json_decref(copy);
	return ret;
}

static int prepare_unmatched(const struct dt_cmp *c, struct side *s)
{
	size_t i;
	int ret;

	for (i = 0; i < s->n; i++) {
		if (s->rows[i].matched)
			continue;
		ret = prepare(c, &s->rows[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* An item "$[<index on its own side>]" for a row of a side alone; note
 * is a new string. */
static int row_item(struct dt_cmp *c, const struct row *a,
		    const struct row *b, char *note)
{
	const struct row *own = a ? a : b;
	char field[32], *ea = NULL, *eb = NULL;

	snprintf(field, sizeof(field), "$[%zu]", own->index);
	if ((a && !(ea = dt_json_render(a->value, ROW_TEXT_MAX))) ||
	    (b && !(eb = dt_json_render(b->value, ROW_TEXT_MAX)))) {
		free(ea);
		free(note);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, "rows", ea, eb, note, DT_DIFF_UNEXPLAINED);
}

/* Rows matched once noise was left out: their members differ, each
 * explained (or not) as in rows compared in order. */
static int report_matched(struct dt_cmp *c, const struct row *r)
{
	char root[32];

	snprintf(root, sizeof(root), "$[%zu]", r->index);
	return dt_cmp_json(c, r->value, r->partner->value, "rows", root);
}

static int report(struct dt_cmp *c, struct side *a, struct side *b)
{
	char *note;
	size_t i;
	int ret = 0;

	for (i = 0; i < a->n && !ret; i++) {
		const struct row *r = &a->rows[i];

		if (r->partner) {
			ret = report_matched(c, r);
		} else if (!r->matched) {
			note = strdup("no such row in the replay");
			ret = note ? row_item(c, r, NULL, note) : -ENOMEM;
		}
	}
	for (i = 0; i < b->n && !ret; i++) {
		if (b->rows[i].matched)
			continue;
		note = strdup("only in the replay");
		ret = note ? row_item(c, NULL, &b->rows[i], note) : -ENOMEM;
	}
	return ret;
}

int dt_cmp_rows_unordered(struct dt_cmp *c, const json_t *a, const json_t *b)
{
	struct side sa = { 0 }, sb = { 0 };
	int ret;

	ret = side_init(&sa, a);
	if (!ret)
		ret = side_init(&sb, b);
	if (ret)
		goto out;
	merge(&sa, &sb, false);
	ret = prepare_unmatched(c, &sa);
	if (!ret)
		ret = prepare_unmatched(c, &sb);
	if (ret)
		goto out;
	merge(&sa, &sb, true);
	ret = report(c, &sa, &sb);
out:
	side_release(&sa);
	side_release(&sb);
	return ret;
}
