// SPDX-License-Identifier: MIT
/*
 * Patterns over the fields of differences (see struct dt_field_pattern):
 * what rules' "ignore" entries and learned noise are made of.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

int dt_field_pattern_init(struct dt_field_pattern *p, const char *text,
			  bool literal, char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (!text[0]) {
		snprintf(err, errlen, "empty pattern");
		return -EINVAL;
	}
	if (text[0] == '$') {
		ret = dt_jpath_parse(text, strlen(text), &p->jpath, err,
				     errlen);
		if (ret < 0)
			return ret;
	}
	p->text = strdup(text);
	if (!p->text) {
		dt_jpath_free(p->jpath);
		p->jpath = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->literal = literal;
	return 0;
}

void dt_field_pattern_release(struct dt_field_pattern *p)
{
	free(p->text);
	dt_jpath_free(p->jpath);
	memset(p, 0, sizeof(*p));
}

int dt_field_init(struct dt_field *f, const char *name, const char *parent)
{
	char err[8];
	int ret = 0;

	f->name = name;
	f->parent = parent;
	f->jpath = NULL;
	if (name[0] == '$')
		ret = dt_jpath_parse(name, strlen(name), &f->jpath, err,
				     sizeof(err));
	return ret == -ENOMEM ? ret : 0;
}

void dt_field_release(struct dt_field *f)
{
	dt_jpath_free(f->jpath);
	f->jpath = NULL;
}

/* name equals the pattern or lies below it: "columns" covers
 * "columns[1].name", "header" covers "header.etag". */
static bool name_covers(const char *pattern, const char *name, bool literal)
{
	size_t n = strlen(pattern);

	if (literal)
		return !strncasecmp(pattern, name, n) &&
		       (!name[n] || name[n] == '.' || name[n] == '[');
	if (!fnmatch(pattern, name, FNM_CASEFOLD))
		return true;
	/* a glob covers what lies below a name it matches */
	for (const char *p = name; *p; p++) {
		char prefix[256];
		size_t len = (size_t)(p - name);

		if ((*p != '.' && *p != '[') || len >= sizeof(prefix))
			continue;
		memcpy(prefix, name, len);
		prefix[len] = '\0';
		if (!fnmatch(pattern, prefix, FNM_CASEFOLD))
			return true;
	}
	return false;
}

bool dt_field_pattern_match(const struct dt_field_pattern *p,
			    const struct dt_field *f)
{
	if (p->jpath)
		return f->jpath && dt_jpath_match(p->jpath, f->jpath);
	if (f->parent && name_covers(p->text, f->parent, p->literal))
		return true;
	return f->name[0] != '$' && name_covers(p->text, f->name, p->literal);
}
