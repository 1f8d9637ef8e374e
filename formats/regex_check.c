// SPDX-License-Identifier: MIT
/*
 * A guard in front of regcomp(): glibc compiles a repetition by copying
 * the repeated tree ("x+" is "xx*", "x{3}" is "xxx"), so stacked or
 * nested repetitions grow the compiled regex exponentially: a 1 KiB
 * pattern can ask for gigabytes. This walks the pattern as POSIX
 * extended syntax and estimates the size of the tree regcomp() would
 * build, refusing patterns past a bound no sensible user pattern reaches
 * (diff normalisers, redaction rules).
 * Backreferences, whose matching takes exponential time, are refused too.
 * Anything else odd is left for regcomp() to judge.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

/* Tree nodes regcomp() may build, and the largest repetition count. */
#define REGEX_MAX_NODES 20000
#define REGEX_MAX_REPEAT 1000
#define REGEX_MAX_DEPTH 32

struct regex_walk {
	const char *s;
	size_t len, pos;
	size_t depth;
	size_t alt[REGEX_MAX_DEPTH + 1];  /* finished branches of a group */
	size_t seq[REGEX_MAX_DEPTH + 1];  /* the branch being read */
	size_t last;	/* size of the element a quantifier would repeat */
	bool quantified; /* that element carries a quantifier already */
};

static size_t add_sat(size_t a, size_t b)
{
	return a + b > REGEX_MAX_NODES ? REGEX_MAX_NODES + 1 : a + b;
}

static size_t mul_sat(size_t a, size_t b)
{
	return b && a > REGEX_MAX_NODES / b ? REGEX_MAX_NODES + 1 : a * b;
}

static void element(struct regex_walk *w, size_t size)
{
	w->seq[w->depth] = add_sat(w->seq[w->depth], size);
	w->last = size;
	w->quantified = false;
}

/* The element repeated n times more. */
static int quantifier(struct regex_walk *w, size_t copies)
{
	if (w->quantified)
		return -EINVAL;
	w->seq[w->depth] = add_sat(w->seq[w->depth], mul_sat(w->last, copies));
	w->quantified = true;
	return 0;
}

/* [...]: one node, whatever it holds. */
static void skip_bracket(struct regex_walk *w)
{
	const char *s = w->s;

	w->pos++;
	if (w->pos < w->len && s[w->pos] == '^')
		w->pos++;
	if (w->pos < w->len && s[w->pos] == ']')
		w->pos++;
	while (w->pos < w->len && s[w->pos] != ']') {
		if (s[w->pos] == '[' && w->pos + 1 < w->len &&
		    strchr(":=.", s[w->pos + 1])) {
			const char *end = memmem(s + w->pos + 2,
						 w->len - w->pos - 2,
						 (char[]){ s[w->pos + 1], ']' },
						 2);

			w->pos = end ? (size_t)(end - s) + 2 : w->len;
			continue;
		}
		w->pos++;
	}
	w->pos++;
}

/* {m}, {m,}, {m,n}: copies of the element; 0 when it is not an interval
 * (regcomp() then decides); -1 past REGEX_MAX_REPEAT. */
static long interval(struct regex_walk *w)
{
	size_t i = w->pos + 1, m = 0, n = 0;
	bool comma = false, digits = false;

	for (; i < w->len && w->s[i] != '}'; i++) {
		if (w->s[i] == ',' && !comma) {
			comma = true;
			continue;
		}
		if (w->s[i] < '0' || w->s[i] > '9')
			return 0;
		digits = true;
		if (comma)
			n = n * 10 + (size_t)(w->s[i] - '0');
		else
			m = m * 10 + (size_t)(w->s[i] - '0');
		if (m > REGEX_MAX_REPEAT || n > REGEX_MAX_REPEAT)
			return -1;
	}
	if (i >= w->len || !digits)
		return 0;
	w->pos = i;
	return (long)(n > m ? n : m) + 1;
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

static int step(struct regex_walk *w, char *err, size_t errlen)
{
	char c = w->s[w->pos];
	long copies;

	switch (c) {
	case '\\':
		if (w->pos + 1 < w->len && w->s[w->pos + 1] >= '1' &&
		    w->s[w->pos + 1] <= '9')
			return fail(err, errlen, "backreferences are not "
				    "supported");
		w->pos += 2;
		element(w, 1);
		return 0;
	case '[':
		skip_bracket(w);
		element(w, 1);
		return 0;
	case '(':
		if (w->depth == REGEX_MAX_DEPTH)
			return fail(err, errlen, "groups nested too deep");
		w->depth++;
		w->alt[w->depth] = w->seq[w->depth] = 0;
		w->pos++;
		element(w, 0);
		return 0;
	case ')':
		if (w->depth) {
			size_t size = add_sat(w->alt[w->depth],
					      w->seq[w->depth]);

			w->depth--;
			w->pos++;
			element(w, add_sat(size, 1));
			return 0;
		}
		break;
	case '|':
		w->alt[w->depth] = add_sat(w->alt[w->depth],
					   w->seq[w->depth]);
		w->seq[w->depth] = 0;
		w->pos++;
		element(w, 0);
		return 0;
	case '*':
	case '?':
	case '+':
		w->pos++;
		if (quantifier(w, 1))
			return fail(err, errlen, "a quantifier follows a "
				    "quantifier");
		return 0;
	case '{':
		copies = interval(w);
		if (copies < 0)
			return fail(err, errlen, "repetition count above 1000");
		if (!copies)
			break;
		w->pos++;
		if (quantifier(w, (size_t)copies))
			return fail(err, errlen, "a quantifier follows a "
				    "quantifier");
		return 0;
	}
	w->pos++;
	element(w, 1);
	return 0;
}

int dt_regex_check(const char *re, size_t len, char *err, size_t errlen)
{
	struct regex_walk w = { .s = re, .len = len };
	int ret;

	while (w.pos < w.len) {
		ret = step(&w, err, errlen);
		if (ret)
			return ret;
		if (w.seq[w.depth] > REGEX_MAX_NODES ||
		    w.alt[w.depth] > REGEX_MAX_NODES)
			return fail(err, errlen, "too complex (repetitions "
				    "multiply its size)");
	}
	return 0;
}
