// SPDX-License-Identifier: MIT
/*
 * Rules files: what differences are noise (man/deetune-diff.1, RULES
 * FILE). A JSON object with "ignore" (field and JSON path patterns),
 * "ignore_headers", "compare_headers" (HTTP header names), "normalize"
 * (regex replacements) and "endpoints", a list of objects holding the same
 * keys plus "match", a glob over endpoint names, that add to the top level
 * for the endpoints they match. Unknown keys are errors: a typo must not
 * silently turn a rule off. Also the default list of ignored headers.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

/* Longest regex and replacement: rules are written by people. */
#define RULE_TEXT_MAX 1024
/* Most entries in one list, most "endpoints" entries. */
#define RULE_LIST_MAX 4096

/*
 * Headers that differ between two correct responses: connection handling
 * (hop-by-hop), times, cache validators derived from file times, and the
 * server's version. Sorted: looked up with bsearch().
 */
static const char *const default_ignored_headers[] = {
	"age", "connection", "date", "etag", "expires", "keep-alive",
	"last-modified", "proxy-connection", "server", "te", "trailer",
	"transfer-encoding", "upgrade",
};

struct rules_parser {
	char *err;
	size_t errlen;
	char where[128];	/* entry being parsed: "endpoints[1].ignore" */
};

static int rules_fail(struct rules_parser *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rules_fail(struct rules_parser *rp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rp->where[0])
		snprintf(rp->err, rp->errlen, "%s: %s", rp->where, msg);
	else
		snprintf(rp->err, rp->errlen, "%s", msg);
	return -EINVAL;
}

static int rules_oom(struct rules_parser *rp)
{
	snprintf(rp->err, rp->errlen, "out of memory");
	return -ENOMEM;
}

static void section_release(struct dt_rule_section *s)
{
	size_t i;

	free(s->match);
	for (i = 0; i < s->nignore; i++)
		dt_field_pattern_release(&s->ignore[i]);
	free(s->ignore);
	for (i = 0; i < s->ncompare_headers; i++)
		free(s->compare_headers[i]);
	free(s->compare_headers);
	for (i = 0; i < s->nnormalize; i++) {
		regfree(&s->normalize[i].re);
		free(s->normalize[i].pattern);
		free(s->normalize[i].replace);
	}
	free(s->normalize);
	memset(s, 0, sizeof(*s));
}

void dt_diff_rules_free(struct dt_diff_rules *rules)
{
	size_t i;

	if (!rules)
		return;
	for (i = 0; i < rules->nsections; i++)
		section_release(&rules->sections[i]);
	free(rules->sections);
	free(rules);
}

/* A list of strings; *n = its length. */
static int get_list(struct rules_parser *rp, const json_t *v, size_t *n)
{
	size_t i;

	if (!json_is_array(v))
		return rules_fail(rp, "a list of strings expected");
	*n = json_array_size(v);
	if (*n > RULE_LIST_MAX)
		return rules_fail(rp, "more than %d entries", RULE_LIST_MAX);
	for (i = 0; i < *n; i++)
		if (!json_is_string(json_array_get(v, i)))
			return rules_fail(rp, "entry %zu is not a string", i);
	return 0;
}

/* Appends a pattern to the section's "ignore" list. */
static int add_ignore(struct rules_parser *rp, struct dt_rule_section *s,
		      const char *text, bool literal)
{
	struct dt_field_pattern *grown;
	char msg[160];
	int ret;

	grown = realloc(s->ignore, (s->nignore + 1) * sizeof(*grown));
	if (!grown)
		return rules_oom(rp);
	s->ignore = grown;
	ret = dt_field_pattern_init(&s->ignore[s->nignore], text, literal,
				    msg, sizeof(msg));
	if (ret == -ENOMEM)
		return rules_oom(rp);
	if (ret < 0)
		return rules_fail(rp, "'%.64s': %s", text, msg);
	s->nignore++;
	return 0;
}

static int parse_ignore(struct rules_parser *rp, const json_t *v,
			struct dt_rule_section *s)
{
	size_t i, n;
	int ret = get_list(rp, v, &n);

	for (i = 0; i < n && !ret; i++) {
		const json_t *e = json_array_get(v, i);

		if (strlen(json_string_value(e)) != json_string_length(e))
			return rules_fail(rp, "entry %zu holds a NUL", i);
		ret = add_ignore(rp, s, json_string_value(e), false);
	}
	return ret;
}

/* RFC 9110 token characters. */
static bool is_tchar(uint8_t c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A header name in lower case, into name[0..size). */
static int header_name(struct rules_parser *rp, const json_t *e, size_t i,
		       char *name, size_t size)
{
	const char *text = json_string_value(e);
	size_t k, len = json_string_length(e);

	if (!len || len >= size)
		return rules_fail(rp, "entry %zu: a header name of 1 to %zu "
				  "characters expected", i, size - 1);
	for (k = 0; k < len; k++) {
		if (!is_tchar((uint8_t)text[k]))
			return rules_fail(rp, "entry %zu: '%.64s' is not a "
					  "header name", i, text);
		name[k] = (char)tolower((uint8_t)text[k]);
	}
	name[len] = '\0';
	return 0;
}

/* "ignore_headers": patterns "header.<name>", as in "ignore". */
static int parse_ignore_headers(struct rules_parser *rp, const json_t *v,
				struct dt_rule_section *s)
{
	char field[7 + 256] = "header.";
	size_t i, n;
	int ret = get_list(rp, v, &n);

	for (i = 0; i < n && !ret; i++) {
		ret = header_name(rp, json_array_get(v, i), i, field + 7, 256);
		if (!ret)
			ret = add_ignore(rp, s, field, true);
	}
	return ret;
}

static int parse_compare_headers(struct rules_parser *rp, const json_t *v,
				 struct dt_rule_section *s)
{
	char name[256];
	size_t i, n;
	int ret = get_list(rp, v, &n);

	if (ret < 0)
		return ret;
	s->compare_headers = calloc(n ? n : 1, sizeof(*s->compare_headers));
	if (!s->compare_headers)
		return rules_oom(rp);
	for (i = 0; i < n; i++) {
		ret = header_name(rp, json_array_get(v, i), i, name,
				  sizeof(name));
		if (ret < 0)
			return ret;
		s->compare_headers[i] = strdup(name);
		if (!s->compare_headers[i])
			return rules_oom(rp);
		s->ncompare_headers++;
	}
	return 0;
}

static int get_text(struct rules_parser *rp, const json_t *o,
		    const char *key, const char **text, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return rules_fail(rp, "\"%s\": a string expected", key);
	*text = json_string_value(v);
	*len = json_string_length(v);
	if (*len > RULE_TEXT_MAX)
		return rules_fail(rp, "\"%s\": longer than %d bytes", key,
				  RULE_TEXT_MAX);
	if (strlen(*text) != *len)
		return rules_fail(rp, "\"%s\": holds a NUL", key);
	return 0;
}

static int parse_normalizer(struct rules_parser *rp, const json_t *o,
			    struct dt_normalizer *nz)
{
	const char *regex, *replace, *key;
	size_t regex_len, replace_len, key_len;
	char msg[160];
	json_t *v;
	int ret;

	if (!json_is_object(o))
		return rules_fail(rp, "an object {\"regex\", \"replace\"} "
				  "expected");
	json_object_keylen_foreach((json_t *)o, key, key_len, v) {
		if (strlen(key) != key_len ||
		    (strcmp(key, "regex") && strcmp(key, "replace") &&
		     strcmp(key, "comment")))
			return rules_fail(rp, "unknown key \"%.64s\"", key);
	}
	ret = get_text(rp, o, "regex", &regex, &regex_len);
	if (!ret)
		ret = get_text(rp, o, "replace", &replace, &replace_len);
	if (ret < 0)
		return ret;
	if (!regex_len)
		return rules_fail(rp, "\"regex\" is empty");
	if (dt_regex_check(regex, regex_len, msg, sizeof(msg)))
		return rules_fail(rp, "\"regex\": %s", msg);
	ret = regcomp(&nz->re, regex, REG_EXTENDED);
	if (ret) {
		regerror(ret, NULL, msg, sizeof(msg));
		return rules_fail(rp, "\"regex\": %s", msg);
	}
	nz->pattern = strdup(regex);
	nz->replace = strdup(replace);
	nz->replace_len = replace_len;
	if (!nz->pattern || !nz->replace) {
		regfree(&nz->re);
		free(nz->pattern);
		free(nz->replace);
		return rules_oom(rp);
	}
	return 0;
}

static int parse_normalize(struct rules_parser *rp, const json_t *v,
			   struct dt_rule_section *s)
{
	size_t i, n, mark = strlen(rp->where);
	int ret;

	if (!json_is_array(v))
		return rules_fail(rp, "a list of {\"regex\", \"replace\"} "
				  "expected");
	n = json_array_size(v);
	if (n > RULE_LIST_MAX)
		return rules_fail(rp, "more than %d entries", RULE_LIST_MAX);
	s->normalize = calloc(n ? n : 1, sizeof(*s->normalize));
	if (!s->normalize)
		return rules_oom(rp);
	for (i = 0; i < n; i++) {
		snprintf(rp->where + mark, sizeof(rp->where) - mark, "[%zu]",
			 i);
		ret = parse_normalizer(rp, json_array_get(v, i),
				       &s->normalize[i]);
		if (ret < 0)
			return ret;
		s->nnormalize++;
	}
	return 0;
}

static int parse_section_key(struct rules_parser *rp, const char *key,
			     const json_t *v, struct dt_rule_section *s)
{
	if (!strcmp(key, "ignore"))
		return parse_ignore(rp, v, s);
	if (!strcmp(key, "ignore_headers"))
		return parse_ignore_headers(rp, v, s);
	if (!strcmp(key, "compare_headers"))
		return parse_compare_headers(rp, v, s);
	if (!strcmp(key, "normalize"))
		return parse_normalize(rp, v, s);
	return rules_fail(rp, "unknown key \"%.64s\"", key);
}

/* The keys of a section; "match" and "endpoints" are the callers'. */
static int parse_section(struct rules_parser *rp, const json_t *o,
			 struct dt_rule_section *s)
{
	size_t mark = strlen(rp->where), key_len;
	const char *key;
	json_t *v;
	int ret;

	json_object_keylen_foreach((json_t *)o, key, key_len, v) {
		if (strlen(key) != key_len)
			return rules_fail(rp, "a key holds a NUL");
		if (!strcmp(key, "comment") || !strcmp(key, "match") ||
		    !strcmp(key, "endpoints"))
			continue;
		snprintf(rp->where + mark, sizeof(rp->where) - mark, "%s%.64s",
			 mark ? "." : "", key);
		ret = parse_section_key(rp, key, v, s);
		if (ret < 0)
			return ret;
	}
	rp->where[mark] = '\0';
	return 0;
}

static int parse_endpoint(struct rules_parser *rp, const json_t *o,
			  struct dt_rule_section *s)
{
	const char *match;
	size_t len;
	int ret;

	if (!json_is_object(o))
		return rules_fail(rp, "an object expected");
	if (json_object_get(o, "endpoints"))
		return rules_fail(rp, "\"endpoints\" inside \"endpoints\"");
	ret = get_text(rp, o, "match", &match, &len);
	if (ret < 0)
		return ret;
	s->match = strdup(match);
	if (!s->match)
		return rules_oom(rp);
	return parse_section(rp, o, s);
}

static int parse_endpoints(struct rules_parser *rp, const json_t *v,
			   struct dt_diff_rules *r)
{
	size_t i, n;
	int ret;

	snprintf(rp->where, sizeof(rp->where), "endpoints");
	if (!json_is_array(v))
		return rules_fail(rp, "a list of objects expected");
	n = json_array_size(v);
	if (n > RULE_LIST_MAX)
		return rules_fail(rp, "more than %d entries", RULE_LIST_MAX);
	for (i = 0; i < n; i++) {
		snprintf(rp->where, sizeof(rp->where), "endpoints[%zu]", i);
		ret = parse_endpoint(rp, json_array_get(v, i),
				     &r->sections[r->nsections]);
		r->nsections++;	/* released on failure too */
		if (ret < 0)
			return ret;
	}
	rp->where[0] = '\0';
	return 0;
}

static int parse_rules(struct rules_parser *rp, const json_t *root,
		       struct dt_diff_rules *r)
{
	const json_t *endpoints;
	size_t n = 0;
	int ret;

	if (!json_is_object(root))
		return rules_fail(rp, "the rules must be a JSON object");
	if (json_object_get(root, "match"))
		return rules_fail(rp, "\"match\" belongs in an \"endpoints\" "
				  "entry");
	endpoints = json_object_get(root, "endpoints");
	if (json_is_array(endpoints))
		n = json_array_size(endpoints);
	if (n > RULE_LIST_MAX)
		n = 0;	/* parse_endpoints() reports it */
	r->sections = calloc(n + 1, sizeof(*r->sections));
	if (!r->sections)
		return rules_oom(rp);
	r->nsections = 1;
	ret = parse_section(rp, root, &r->sections[0]);
	if (ret < 0 || !endpoints)
		return ret;
	return parse_endpoints(rp, endpoints, r);
}

int dt_diff_rules_parse(const char *text, size_t len,
			struct dt_diff_rules **out, char *err, size_t errlen)
{
	struct rules_parser rp = { .err = err, .errlen = errlen };
	struct dt_diff_rules *r;
	json_error_t jerr;
	json_t *root;
	int ret;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%d:%d: %s", jerr.line, jerr.column,
			 jerr.text);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		json_decref(root);
		return rules_oom(&rp);
	}
	ret = parse_rules(&rp, root, r);
	json_decref(root);
	if (ret < 0) {
		dt_diff_rules_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* --- applying ---------------------------------------------------------- */

int dt_rules_scope_init(struct dt_rules_scope *s,
			const struct dt_diff_rules *rules,
			const char *endpoint)
{
	size_t i;

	s->n = 0;
	s->sections = NULL;
	if (!rules)
		return 0;
	s->sections = calloc(rules->nsections, sizeof(*s->sections));
	if (!s->sections)
		return -ENOMEM;
	for (i = 0; i < rules->nsections; i++) {
		const struct dt_rule_section *sec = &rules->sections[i];

		if (!sec->match || !fnmatch(sec->match, endpoint, 0))
			s->sections[s->n++] = sec;
	}
	return 0;
}

void dt_rules_scope_release(struct dt_rules_scope *s)
{
	free(s->sections);
	s->sections = NULL;
	s->n = 0;
}

static bool in_list(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool dt_rules_header_skipped(const struct dt_rules_scope *s,
			     const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (in_list(s->sections[i]->compare_headers,
			    s->sections[i]->ncompare_headers, name))
			return false;
	return bsearch(&name, default_ignored_headers,
		       sizeof(default_ignored_headers) /
			       sizeof(default_ignored_headers[0]),
		       sizeof(default_ignored_headers[0]), compare_names);
}

bool dt_rules_ignore(const struct dt_rules_scope *s,
		     const struct dt_field *f)
{
	size_t i, k;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->sections[i]->nignore; k++)
			if (dt_field_pattern_match(&s->sections[i]->ignore[k],
						   f))
				return true;
	return false;
}

bool dt_rules_can_normalize(const struct dt_rules_scope *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->sections[i]->nnormalize)
			return true;
	return false;
}
