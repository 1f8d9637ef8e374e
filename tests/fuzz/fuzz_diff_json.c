// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the structural JSON diff and JSON paths
 * (diff/json_diff.c, json_path.c). The input holds two JSON texts split
 * at the first NUL byte (or in the middle when there is none). When both
 * parse, they are diffed and every difference is checked: its path reads
 * back as a pattern that matches it, and the values rendered fit their
 * bound. No difference must mean dt_json_equal(). The input is also
 * parsed as a path pattern and matched against the paths seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"
#include "tests/fuzz/fuzz_check.h"

#define RENDER_MAX 64

struct seen {
	size_t n;
	const struct dt_jpath *pattern;
};

static void check_render(const json_t *v)
{
	char *text;

	if (!v)
		return;
	text = dt_json_render(v, RENDER_MAX);
	if (!text)
		return;	/* out of memory */
	/* escaped: no control characters, valid UTF-8 */
	for (const char *p = text; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	CHECK(dt_utf8_valid(text, strlen(text)));
	free(text);
}

static int on_diff(void *ctx, const char *path, const json_t *a,
		   const json_t *b)
{
	struct seen *s = ctx;
	struct dt_jpath *p;
	char err[128];

	s->n++;
	CHECK(a || b);
	check_render(a);
	check_render(b);
	if (strlen(path) > DT_JPATH_MAX_TEXT)
		return 0;
	if (dt_jpath_parse(path, strlen(path), &p, err, sizeof(err)))
		return 0;	/* out of memory: every path here parses */
	CHECK(dt_jpath_match(p, p));
	if (s->pattern)
		dt_jpath_match(s->pattern, p);
	dt_jpath_free(p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t split = nul ? (size_t)(nul - data) : size / 2;
	size_t rest = nul ? split + 1 : split;
	struct dt_jpath *pattern = NULL;
	struct seen s = { 0 };
	json_t *a, *b;
	char err[128];

	a = json_loadb((const char *)data, split, JSON_DECODE_ANY, NULL);
	b = json_loadb((const char *)data + rest, size - rest,
		       JSON_DECODE_ANY, NULL);
	if (!dt_jpath_parse((const char *)data, split, &pattern, err,
			    sizeof(err)))
		s.pattern = pattern;
	/* dt_json_diff() fails only when memory runs out */
	if (a && b && !dt_json_diff(a, b, "$", on_diff, &s)) {
		CHECK((s.n == 0) == dt_json_equal(a, b));
		CHECK(dt_json_equal(a, a));
	}
	dt_jpath_free(pattern);
	json_decref(a);
	json_decref(b);
	return 0;
}
