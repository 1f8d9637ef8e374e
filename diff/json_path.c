// SPDX-License-Identifier: MIT
/*
 * JSON paths: the ones json_diff.c builds for the reports, and the
 * patterns rules give to ignore parts of documents. One syntax for both,
 * so that a path copied from a report is a pattern matching exactly it:
 *
 *   $            the document
 *   .name        a member (letters, digits, '_', '-', '$', non-ASCII)
 *   ['name']     a member, any name ("name" too); escapes \\ \' \" \/
 *                \b \f \n \r \t \uXXXX
 *   [3]          an element
 *   .*  [*]      any member or element
 *   ..step       the step at any depth below, also right here
 *
 * Matching is a dynamic programme over (pattern step, path step), linear
 * in their product whatever the number of "..".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

enum step_kind {
	STEP_KEY,
	STEP_INDEX,
	STEP_ANY,
};

struct step {
	enum step_kind kind;
	bool descend;		/* preceded by ".." */
	size_t index;
	size_t key_off, key_len; /* in dt_jpath.keys */
};

struct dt_jpath {
	size_t n;
	struct step *steps;
	char *keys;		/* decoded member names, back to back */
};

/* --- building paths ---------------------------------------------------- */

static bool is_name_start(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(uint8_t c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static bool is_plain_name(const char *key, size_t len)
{
	size_t i;

	if (!len || !is_name_start((uint8_t)key[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_name_char((uint8_t)key[i]))
			return false;
	return true;
}

/* Characters a quoted name escapes: what dt_text_escape() would escape
 * (controls, C1, U+FFFE/U+FFFF, stray bytes) as \uXXXX, and the quote and
 * backslash. */
static size_t put_quoted_char(struct dt_sbuf *b, const uint8_t *p, size_t n)
{
	size_t step = dt_utf8_seq_len(p, n);
	uint32_t cp;

	if (p[0] == '\'' || p[0] == '\\') {
		dt_sbuf_putc(b, '\\');
		dt_sbuf_putc(b, (char)p[0]);
		return 1;
	}
	if (step == 1 && p[0] >= 0x20 && p[0] != 0x7f) {
		dt_sbuf_putc(b, (char)p[0]);
		return 1;
	}
	if (step == 2 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
		dt_sbuf_put(b, p, 2);
		return 2;
	}
	if (step == 3 && !(p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)) {
		dt_sbuf_put(b, p, 3);
		return 3;
	}
	if (step == 4) {
		dt_sbuf_put(b, p, 4);
		return 4;
	}
	if (step == 2)
		cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
	else if (step == 3)
		cp = 0xffff - (0xbf - p[2]);
	else
		cp = p[0];	/* a control character, or a stray byte */
	dt_sbuf_printf(b, "\\u%04x", (unsigned)cp);
	return step ? step : 1;
}

void dt_jpath_put_key(struct dt_sbuf *b, const char *key, size_t len)
{
	const uint8_t *p = (const uint8_t *)key;
	size_t i = 0;

	if (is_plain_name(key, len)) {
		dt_sbuf_putc(b, '.');
		dt_sbuf_put(b, key, len);
		return;
	}
	dt_sbuf_puts(b, "['");
	while (i < len)
		i += put_quoted_char(b, p + i, len - i);
	dt_sbuf_puts(b, "']");
}

void dt_jpath_put_index(struct dt_sbuf *b, size_t index)
{
	dt_sbuf_printf(b, "[%zu]", index);
}

/* --- parsing ----------------------------------------------------------- */

struct parser {
	const uint8_t *s;
	size_t len, pos;
	struct dt_jpath *path;
	size_t cap;		/* steps allocated */
	size_t keys_len;
	char *err;
	size_t errlen;
};

static int parse_fail(struct parser *ps, const char *what)
{
	if (ps->pos < ps->len)
		snprintf(ps->err, ps->errlen, "%s at offset %zu", what,
			 ps->pos);
	else
		snprintf(ps->err, ps->errlen, "%s at the end", what);
	return -EINVAL;
}

static struct step *new_step(struct parser *ps, enum step_kind kind,
			     bool descend)
{
	struct dt_jpath *p = ps->path;
	struct step *grown;

	if (p->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		grown = realloc(p->steps, ps->cap * sizeof(*grown));
		if (!grown)
			return NULL;
		p->steps = grown;
	}
	grown = &p->steps[p->n++];
	memset(grown, 0, sizeof(*grown));
	grown->kind = kind;
	grown->descend = descend;
	grown->key_off = ps->keys_len;
	return grown;
}

static void key_put(struct parser *ps, struct step *st, const void *data,
		    size_t n)
{
	/* keys never outgrow the text they are decoded from */
	memcpy(ps->path->keys + ps->keys_len, data, n);
	ps->keys_len += n;
	st->key_len += n;
}

static int hex4(const uint8_t *s, uint32_t *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			d = (s[i] | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		*v = (*v << 4) | (uint32_t)d;
	}
	return 0;
}

/* \uXXXX: a code point of the BMP other than a surrogate, as UTF-8 (at
 * most 3 bytes for the 6 it was written with). */
static int put_unicode(struct parser *ps, struct step *st)
{
	uint8_t u[3];
	uint32_t cp;

	if (ps->len - ps->pos < 6 || hex4(ps->s + ps->pos + 2, &cp) < 0)
		return parse_fail(ps, "\\u needs 4 hex digits");
	if (cp >= 0xd800 && cp <= 0xdfff)
		return parse_fail(ps, "\\u of a surrogate");
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		key_put(ps, st, u, 1);
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | (cp >> 6));
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		key_put(ps, st, u, 2);
	} else {
		u[0] = (uint8_t)(0xe0 | (cp >> 12));
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		key_put(ps, st, u, 3);
	}
	ps->pos += 6;
	return 0;
}

static int put_escape(struct parser *ps, struct step *st)
{
	static const char from[] = "\\'\"/bfnrt";
	static const char to[] = "\\'\"/\b\f\n\r\t";
	const char *e;

	if (ps->pos + 1 >= ps->len)
		return parse_fail(ps, "unterminated escape");
	if (ps->s[ps->pos + 1] == 'u')
		return put_unicode(ps, st);
	e = ps->s[ps->pos + 1] ? strchr(from, ps->s[ps->pos + 1]) : NULL;
	if (!e)
		return parse_fail(ps, "unknown escape");
	key_put(ps, st, &to[e - from], 1);
	ps->pos += 2;
	return 0;
}

/* ['name'] or ["name"], at the quote. */
static int parse_quoted(struct parser *ps, bool descend)
{
	uint8_t quote = ps->s[ps->pos++];
	struct step *st = new_step(ps, STEP_KEY, descend);
	int ret;

	if (!st)
		return -ENOMEM;
	for (;;) {
		if (ps->pos >= ps->len)
			return parse_fail(ps, "unterminated quoted name");
		if (ps->s[ps->pos] == quote)
			break;
		if (ps->s[ps->pos] == '\\') {
			ret = put_escape(ps, st);
			if (ret < 0)
				return ret;
			continue;
		}
		key_put(ps, st, ps->s + ps->pos, 1);
		ps->pos++;
	}
	ps->pos++;
	if (ps->pos >= ps->len || ps->s[ps->pos] != ']')
		return parse_fail(ps, "']' expected");
	ps->pos++;
	return 0;
}

static int parse_index(struct parser *ps, bool descend)
{
	struct step *st = new_step(ps, STEP_INDEX, descend);
	size_t v = 0, start = ps->pos;

	if (!st)
		return -ENOMEM;
	while (ps->pos < ps->len && ps->s[ps->pos] >= '0' &&
	       ps->s[ps->pos] <= '9') {
		if (v > (SIZE_MAX - 9) / 10)
			return parse_fail(ps, "index too large");
		v = v * 10 + (size_t)(ps->s[ps->pos++] - '0');
	}
	if (ps->pos == start)
		return parse_fail(ps, "index, '*' or quoted name expected");
	if (ps->pos >= ps->len || ps->s[ps->pos] != ']')
		return parse_fail(ps, "']' expected");
	ps->pos++;
	st->index = v;
	return 0;
}

/* After '[': [*], [N], ['name'] */
static int parse_bracket(struct parser *ps, bool descend)
{
	uint8_t c;

	ps->pos++;
	if (ps->pos >= ps->len)
		return parse_fail(ps, "unterminated '['");
	c = ps->s[ps->pos];
	if (c == '\'' || c == '"')
		return parse_quoted(ps, descend);
	if (c == '*') {
		ps->pos++;
		if (ps->pos >= ps->len || ps->s[ps->pos] != ']')
			return parse_fail(ps, "']' expected");
		ps->pos++;
		return new_step(ps, STEP_ANY, descend) ? 0 : -ENOMEM;
	}
	return parse_index(ps, descend);
}

static bool is_dot_name_char(uint8_t c)
{
	return is_name_char(c) || c == '$' || c >= 0x80;
}

/* After '.' or "..": a name or '*'. */
static int parse_dot_step(struct parser *ps, bool descend)
{
	struct step *st;
	size_t start = ps->pos;

	if (ps->pos < ps->len && ps->s[ps->pos] == '*') {
		ps->pos++;
		return new_step(ps, STEP_ANY, descend) ? 0 : -ENOMEM;
	}
	while (ps->pos < ps->len && is_dot_name_char(ps->s[ps->pos]))
		ps->pos++;
	if (ps->pos == start)
		return parse_fail(ps, "name or '*' expected");
	st = new_step(ps, STEP_KEY, descend);
	if (!st)
		return -ENOMEM;
	key_put(ps, st, ps->s + start, ps->pos - start);
	return 0;
}

static int parse_steps(struct parser *ps)
{
	int ret;

	if (ps->len == 0 || ps->s[0] != '$')
		return parse_fail(ps, "'$' expected");
	ps->pos = 1;
	while (ps->pos < ps->len) {
		if (ps->s[ps->pos] == '.' && ps->pos + 1 < ps->len &&
		    ps->s[ps->pos + 1] == '.') {
			ps->pos += 2;
			if (ps->pos < ps->len && ps->s[ps->pos] == '[')
				ret = parse_bracket(ps, true);
			else
				ret = parse_dot_step(ps, true);
		} else if (ps->s[ps->pos] == '.') {
			ps->pos++;
			ret = parse_dot_step(ps, false);
		} else if (ps->s[ps->pos] == '[') {
			ret = parse_bracket(ps, false);
		} else {
			ret = parse_fail(ps, "'.' or '[' expected");
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

int dt_jpath_parse(const char *text, size_t len, struct dt_jpath **out,
		   char *err, size_t errlen)
{
	struct parser ps = {
		.s = (const uint8_t *)text, .len = len,
		.err = err, .errlen = errlen,
	};
	int ret;

	*out = NULL;
	if (len > DT_JPATH_MAX_TEXT) {
		snprintf(err, errlen, "longer than %u bytes",
			 DT_JPATH_MAX_TEXT);
		return -EINVAL;
	}
	ps.path = calloc(1, sizeof(*ps.path));
	if (!ps.path)
		return -ENOMEM;
	ps.path->keys = malloc(len ? len : 1);
	if (!ps.path->keys) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = parse_steps(&ps);
	if (ret < 0)
		goto fail;
	*out = ps.path;
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	dt_jpath_free(ps.path);
	return ret;
}

void dt_jpath_free(struct dt_jpath *p)
{
	if (!p)
		return;
	free(p->steps);
	free(p->keys);
	free(p);
}

/* --- matching ---------------------------------------------------------- */

static bool step_match(const struct dt_jpath *pp, const struct step *ps,
		       const struct dt_jpath *tp, const struct step *ts)
{
	if (ps->kind == STEP_ANY)
		return true;
	if (ps->kind != ts->kind)
		return false;
	if (ps->kind == STEP_INDEX)
		return ps->index == ts->index;
	return ps->key_len == ts->key_len &&
	       !memcmp(pp->keys + ps->key_off, tp->keys + ts->key_off,
		       ps->key_len);
}

/*
 * reach[j]: the pattern's first i steps match the path's first j steps.
 * A descending step may first skip any number of path steps. The pattern
 * matches when it is used up at any j: the rest lies below the match.
 */
bool dt_jpath_match(const struct dt_jpath *pattern,
		    const struct dt_jpath *path)
{
	size_t n = path->n, i, j;
	bool *cur, *next, any = false;

	cur = calloc(2 * (n + 1), sizeof(*cur));
	if (!cur)
		return false;
	next = cur + n + 1;
	cur[0] = true;
	for (i = 0; i < pattern->n; i++) {
		const struct step *ps = &pattern->steps[i];
		bool carry = false;

		next[0] = false;
		for (j = 0; j < n; j++) {
			carry = ps->descend ? (carry || cur[j]) : cur[j];
			next[j + 1] = carry &&
				step_match(pattern, ps, path,
					   &path->steps[j]);
		}
		memcpy(cur, next, (n + 1) * sizeof(*cur));
	}
	for (j = 0; j <= n; j++)
		any = any || cur[j];
	free(cur);
	return any;
}
