// SPDX-License-Identifier: MIT
/*
 * An offset-tracking JSON scanner for json: rules. jansson parses into
 * values without byte offsets, and masking needs the offsets of the very
 * bytes to star, so this walks the text once with an explicit stack (no
 * recursion, DT_JSON_SCAN_MAX_DEPTH levels) and reports the string and
 * number values a path selects. It checks the structure but is lenient
 * inside strings and numbers: it never needs to decode them, and masking
 * slightly odd JSON is better than leaving it.
 */
#include <errno.h>
#include <string.h>

#include "redact/redact_int.h"

struct scan_level {
	uint64_t states;   /* path states of the container */
	bool all;          /* the container itself is selected */
	bool is_object;
	uint64_t index;    /* arrays: index of the current element */
};

struct json_scan {
	const uint8_t *t;
	size_t len, pos;
	const struct dt_json_path *p;
	dt_json_found_fn found;
	void *arg;
	size_t depth;
	struct scan_level stack[DT_JSON_SCAN_MAX_DEPTH];
};

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips whitespace; true at the end of the text. */
static bool at_end(struct json_scan *s)
{
	while (s->pos < s->len && is_ws(s->t[s->pos]))
		s->pos++;
	return s->pos == s->len;
}

/* A string at pos (on its quote); *start and *n receive its bytes. */
static int scan_string(struct json_scan *s, size_t *start, size_t *n)
{
	size_t i = s->pos + 1;

	*start = i;
	while (i < s->len && s->t[i] != '"')
		i += s->t[i] == '\\' ? 2 : 1;
	if (i >= s->len) {
		*n = s->len - *start;
		s->pos = s->len;
		return -EAGAIN;
	}
	*n = i - *start;
	s->pos = i + 1;
	return 0;
}

static int scan_literal(struct json_scan *s)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t start = s->pos, n;

	while (s->pos < s->len && s->t[s->pos] >= 'a' && s->t[s->pos] <= 'z')
		s->pos++;
	n = s->pos - start;
	for (size_t i = 0; i < 3; i++) {
		size_t wl = strlen(words[i]);

		if (n == wl && !memcmp(s->t + start, words[i], wl))
			return 0;
		if (s->pos == s->len && n && n < wl &&
		    !memcmp(s->t + start, words[i], n))
			return -EAGAIN;
	}
	return -EBADMSG;
}

/* A string, number or literal at pos; reported when hit. */
static int scan_scalar(struct json_scan *s, bool hit)
{
	size_t start = s->pos, n;
	int ret;

	if (s->t[s->pos] == '"') {
		ret = scan_string(s, &start, &n);
		if (hit)
			s->found(s->arg, start, n);
		return ret;
	}
	if (s->t[s->pos] == '-' || (s->t[s->pos] >= '0' &&
				    s->t[s->pos] <= '9')) {
		while (s->pos < s->len &&
		       memchr("+-0123456789.eE", s->t[s->pos], 15))
			s->pos++;
		if (hit)
			s->found(s->arg, start, s->pos - start);
		return 0;
	}
	return scan_literal(s);
}

/*
 * Moves to the next value of the innermost container (first: right after
 * its opening bracket). Returns 1 with *states set for that value, 0 when
 * the container closed instead, or a negative errno.
 */
static int next_member(struct json_scan *s, bool first, uint64_t *states)
{
	struct scan_level *l = &s->stack[s->depth - 1];
	uint8_t close = l->is_object ? '}' : ']';
	size_t key, key_len;
	int ret;

	if (at_end(s))
		return -EAGAIN;
	if (s->t[s->pos] == close) {
		s->pos++;
		s->depth--;
		return 0;
	}
	if (!first) {
		if (s->t[s->pos] != ',')
			return -EBADMSG;
		s->pos++;
		l->index++;
		if (at_end(s))
			return -EAGAIN;
	}
	if (!l->is_object) {
		*states = s->p ? dt_json_path_child(s->p, l->states, NULL, 0,
						     l->index) : 0;
		return 1;
	}
	if (s->t[s->pos] != '"')
		return -EBADMSG;
	ret = scan_string(s, &key, &key_len);
	if (ret)
		return ret;
	if (at_end(s))
		return -EAGAIN;
	if (s->t[s->pos++] != ':')
		return -EBADMSG;
	*states = s->p ? dt_json_path_child(s->p, l->states, s->t + key,
					     key_len, 0) : 0;
	return 1;
}

/* Leaves the containers the last value ended; 1 when another value
 * follows (*states set), 0 at the end of the top-level value. */
static int after_value(struct json_scan *s, uint64_t *states)
{
	int ret = 0;

	while (s->depth && !(ret = next_member(s, false, states)))
		;
	return ret;
}

/* One top-level value, containers and all. */
static int scan_value(struct json_scan *s, uint64_t states)
{
	struct scan_level *l;
	bool hit;
	int ret;

	for (;;) {
		if (at_end(s))
			return -EAGAIN;
		hit = (s->depth && s->stack[s->depth - 1].all) ||
		      (s->p && dt_json_path_matched(s->p, states));
		if (s->t[s->pos] != '{' && s->t[s->pos] != '[') {
			ret = scan_scalar(s, hit);
			if (!ret)
				ret = after_value(s, &states);
		} else if (s->depth == DT_JSON_SCAN_MAX_DEPTH) {
			return -E2BIG;
		} else {
			l = &s->stack[s->depth++];
			*l = (struct scan_level){
				.states = states, .all = hit,
				.is_object = s->t[s->pos++] == '{',
			};
			ret = next_member(s, true, &states);
			if (!ret)
				ret = after_value(s, &states);
		}
		if (ret <= 0)
			return ret;
	}
}

int dt_json_scan(const uint8_t *t, size_t len, const struct dt_json_path *p,
		 dt_json_found_fn found, void *arg)
{
	struct json_scan s = {
		.t = t, .len = len, .p = p, .found = found, .arg = arg,
	};
	int ret;

	if (at_end(&s))
		return -EAGAIN;
	do {
		ret = scan_value(&s, p ? dt_json_path_root() : 0);
	} while (!ret && !at_end(&s));
	return ret;
}
