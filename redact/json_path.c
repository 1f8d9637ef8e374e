// SPDX-License-Identifier: MIT
/*
 * JSON paths of json: rules and their matcher. A path is "$" followed by
 * steps: .name, ["name"] or ['name'], [N], .* or [*]; ".." before a step
 * lets it match at any depth below ($..password). Matching is a small NFA
 * run as the scanner descends: each location carries the set of steps
 * matched so far as bits, so "..", however often it appears, costs one
 * pass over the steps per value and never backtracks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact/redact_int.h"

struct path_parser {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
};

static int path_fail(struct path_parser *pp, const char *why)
{
	snprintf(pp->err, pp->errlen, "bad JSON path at offset %zu: %s",
		 pp->pos, why);
	return -EINVAL;
}

static int set_name(struct dt_json_step *st, const char *p, size_t n)
{
	st->name = malloc(n + 1);
	if (!st->name)
		return -ENOMEM;
	memcpy(st->name, p, n);
	st->name[n] = '\0';
	st->name_len = n;
	return 0;
}

/* .name or .* (pos after the dot) */
static int parse_dot_step(struct path_parser *pp, struct dt_json_step *st)
{
	size_t n = strcspn(pp->s + pp->pos, ".[");

	if (!n)
		return path_fail(pp, "a member name expected");
	if (n == 1 && pp->s[pp->pos] == '*')
		st->any = true;
	else if (set_name(st, pp->s + pp->pos, n))
		return -ENOMEM;
	pp->pos += n;
	return 0;
}

/* [N], [*], ["name"] or ['name'] (pos on the '[') */
static int parse_bracket_step(struct path_parser *pp, struct dt_json_step *st)
{
	const char *s = pp->s + pp->pos + 1;
	const char *end;

	if (*s == '*' && s[1] == ']') {
		st->any = true;
		pp->pos += 3;
		return 0;
	}
	if (*s == '"' || *s == '\'') {
		end = strchr(s + 1, *s);
		if (!end || end[1] != ']')
			return path_fail(pp, "unterminated quoted name");
		if (set_name(st, s + 1, (size_t)(end - s - 1)))
			return -ENOMEM;
		pp->pos += (size_t)(end - s) + 3;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return path_fail(pp, "an index, * or a quoted name expected "
				 "after '['");
	for (; *s >= '0' && *s <= '9'; s++) {
		if (st->index > (UINT32_MAX - 9) / 10)
			return path_fail(pp, "index too large");
		st->index = st->index * 10 + (uint64_t)(*s - '0');
	}
	if (*s != ']')
		return path_fail(pp, "']' expected");
	st->is_index = true;
	pp->pos = (size_t)(s + 1 - pp->s);
	return 0;
}

static int parse_step(struct path_parser *pp, struct dt_json_step *st)
{
	if (pp->s[pp->pos] == '.' && pp->s[pp->pos + 1] == '.') {
		st->descendant = true;
		pp->pos += 2;
		if (pp->s[pp->pos] == '[')
			return parse_bracket_step(pp, st);
		return parse_dot_step(pp, st);
	}
	if (pp->s[pp->pos] == '.') {
		pp->pos++;
		return parse_dot_step(pp, st);
	}
	if (pp->s[pp->pos] == '[')
		return parse_bracket_step(pp, st);
	return path_fail(pp, "'.' or '[' expected");
}

int dt_json_path_compile(const char *text, struct dt_json_path **out,
			 char *err, size_t errlen)
{
	struct path_parser pp = { .s = text, .err = err, .errlen = errlen };
	struct dt_json_path *p;
	int ret;

	*out = NULL;
	if (text[0] != '$')
		return path_fail(&pp, "it must start with '$'");
	if (strlen(text) > DT_JSON_PATH_MAX_LEN)
		return path_fail(&pp, "longer than 1024 characters");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->steps = calloc(DT_JSON_PATH_MAX_STEPS, sizeof(*p->steps));
	if (!p->steps) {
		ret = -ENOMEM;
		goto fail;
	}
	for (pp.pos = 1; text[pp.pos]; p->nsteps++) {
		if (p->nsteps == DT_JSON_PATH_MAX_STEPS) {
			ret = path_fail(&pp, "more than 63 steps");
			goto fail;
		}
		ret = parse_step(&pp, &p->steps[p->nsteps]);
		if (ret)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	dt_json_path_free(p);
	return ret;
}

void dt_json_path_free(struct dt_json_path *p)
{
	if (!p)
		return;
	if (p->steps)
		for (size_t i = 0; i < DT_JSON_PATH_MAX_STEPS; i++)
			free(p->steps[i].name);
	free(p->steps);
	free(p);
}

static bool step_matches(const struct dt_json_step *st, const uint8_t *key,
			 size_t key_len, uint64_t index)
{
	if (st->any)
		return true;
	if (!key)
		return st->is_index && st->index == index;
	return st->name && st->name_len == key_len &&
	       !memcmp(st->name, key, key_len);
}

uint64_t dt_json_path_child(const struct dt_json_path *p, uint64_t states,
			    const uint8_t *key, size_t key_len,
			    uint64_t index)
{
	uint64_t next = 0;

	for (size_t s = 0; s < p->nsteps; s++) {
		const struct dt_json_step *st = &p->steps[s];

		if (!(states >> s & 1))
			continue;
		if (st->descendant)
			next |= 1ull << s;
		if (step_matches(st, key, key_len, index))
			next |= 1ull << (s + 1);
	}
	return next;
}
