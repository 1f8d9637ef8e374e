// SPDX-License-Identifier: MIT
/*
 * Comparing one recorded exchange with its replay: whether the two can be
 * compared at all, then the protocol's comparator, which reports each
 * difference through dt_cmp_add(). Here every difference is explained or
 * not: by the rules in scope, by the normalisers, by learned noise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

/* Longest rendering of a value in a difference. */
#define VALUE_MAX 200

void dt_diff_item_release(struct dt_diff_item *it)
{
	free(it->field);
	free(it->expected);
	free(it->actual);
	free(it->note);
	memset(it, 0, sizeof(*it));
}

void dt_cmp_release(struct dt_cmp *c)
{
	size_t i;

	for (i = 0; i < c->nitems; i++)
		dt_diff_item_release(&c->items[i]);
	free(c->items);
	free(c->reason);
	c->items = NULL;
	c->nitems = 0;
	c->reason = NULL;
}

static enum dt_diff_why explain(const struct dt_cmp *c, const char *field,
				const char *parent, enum dt_diff_why why,
				int *err)
{
	struct dt_field f;
	size_t i;

	*err = dt_field_init(&f, field, parent);
	if (*err)
		return why;
	if (c->scope && dt_rules_ignore(c->scope, &f))
		why = DT_DIFF_BY_RULE;
	for (i = 0; i < c->nlearned && why == DT_DIFF_UNEXPLAINED; i++)
		if (dt_field_pattern_match(&c->learned[i], &f))
			why = DT_DIFF_BY_LEARNED;
	dt_field_release(&f);
	return why;
}

/*
 * Where a new item goes once the list is full: an unexplained difference
 * takes the place of the last noise item, so the list shows what matters.
 * -1: dropped (only counted).
 */
static ssize_t item_slot(struct dt_cmp *c, enum dt_diff_why why)
{
	size_t i;

	if (c->nitems < c->max_items)
		return (ssize_t)c->nitems++;
	if (why != DT_DIFF_UNEXPLAINED)
		return -1;
	for (i = c->nitems; i > 0; i--) {
		if (c->items[i - 1].why != DT_DIFF_UNEXPLAINED) {
			dt_diff_item_release(&c->items[i - 1]);
			return (ssize_t)(i - 1);
		}
	}
	return -1;
}

int dt_cmp_add(struct dt_cmp *c, const char *field, const char *parent,
	       char *expected, char *actual, char *note, enum dt_diff_why why)
{
	struct dt_diff_item *it;
	char *name = NULL;
	ssize_t slot;
	int ret;

	why = explain(c, field, parent, why, &ret);
	if (ret)
		goto out;
	if (why == DT_DIFF_UNEXPLAINED)
		c->differences++;
	else
		c->noise++;
	ret = -ENOMEM;
	if (!c->items)
		c->items = calloc(c->max_items ? c->max_items : 1,
				  sizeof(*c->items));
	name = strdup(field);
	if (!c->items || !name)
		goto out;
	ret = 0;
	slot = item_slot(c, why);
	if (slot < 0)
		goto out;
	it = &c->items[slot];
	it->field = name;
	it->expected = expected;
	it->actual = actual;
	it->note = note;
	it->why = why;
	return 0;
out:
	free(name);
	free(expected);
	free(actual);
	free(note);
	return ret;
}

/* Normalised a and b are equal (and normalising changed something). */
static bool equal_normalized(const struct dt_cmp *c, const void *a,
			     size_t alen, const void *b, size_t blen)
{
	struct dt_sbuf na = { 0 }, nb = { 0 };
	bool equal;

	if (!c->scope || !dt_rules_can_normalize(c->scope))
		return false;
	equal = !dt_rules_normalize(c->scope, a, alen, &na) &&
		!dt_rules_normalize(c->scope, b, blen, &nb) &&
		na.len == nb.len && !memcmp(na.p, nb.p, na.len);
	dt_sbuf_release(&na);
	dt_sbuf_release(&nb);
	return equal;
}

int dt_cmp_strings(struct dt_cmp *c, const char *field, const char *a,
		   size_t alen, const char *b, size_t blen)
{
	enum dt_diff_why why = DT_DIFF_UNEXPLAINED;
	char *ea = NULL, *eb = NULL;

	if (a && b && alen == blen && !memcmp(a, b, alen))
		return 0;
	if (a && b && equal_normalized(c, a, alen, b, blen))
		why = DT_DIFF_BY_NORMALIZER;
	if ((a && !(ea = dt_text_quoted(a, alen, VALUE_MAX))) ||
	    (b && !(eb = dt_text_quoted(b, blen, VALUE_MAX)))) {
		free(ea);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, NULL, ea, eb, NULL, why);
}

struct json_cmp {
	struct dt_cmp *c;
	const char *parent;
};

static bool scalars_equal_normalized(const struct dt_cmp *c, const json_t *a,
				     const json_t *b)
{
	struct dt_sbuf ta = { 0 }, tb = { 0 };
	bool equal = false;

	if (json_is_number(a) != json_is_number(b) ||
	    json_is_string(a) != json_is_string(b))
		return false;
	if (dt_json_scalar_text(a, &ta) && dt_json_scalar_text(b, &tb) &&
	    !ta.oom && !tb.oom)
		equal = equal_normalized(c, ta.p, ta.len, tb.p, tb.len);
	dt_sbuf_release(&ta);
	dt_sbuf_release(&tb);
	return equal;
}

static int json_item(void *ctx, const char *path, const json_t *a,
		     const json_t *b)
{
	struct json_cmp *jc = ctx;
	enum dt_diff_why why = DT_DIFF_UNEXPLAINED;
	char *ea = NULL, *eb = NULL;

	if (a && b && scalars_equal_normalized(jc->c, a, b))
		why = DT_DIFF_BY_NORMALIZER;
	if ((a && !(ea = dt_json_render(a, VALUE_MAX))) ||
	    (b && !(eb = dt_json_render(b, VALUE_MAX)))) {
		free(ea);
		return -ENOMEM;
	}
	return dt_cmp_add(jc->c, path, jc->parent, ea, eb, NULL, why);
}

int dt_cmp_json(struct dt_cmp *c, const json_t *a, const json_t *b,
		const char *parent, const char *root)
{
	struct json_cmp jc = { .c = c, .parent = parent };

	return dt_json_diff(a, b, root, json_item, &jc);
}

int dt_cmp_verdict(struct dt_cmp *c, enum dt_diff_outcome verdict,
		   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(c->reason);
	c->reason = dt_text_plain(msg, strlen(msg), sizeof(msg));
	c->verdict = verdict;
	return c->reason ? 0 : -ENOMEM;
}

/* --- can the pair be compared? ----------------------------------------- */

/* Names of the flags in mask set in flags: "incomplete, truncated". */
static void flag_names(uint32_t flags, uint32_t mask, char *buf, size_t size)
{
	size_t len = 0;
	uint32_t bit;

	buf[0] = '\0';
	for (bit = 1; bit && bit <= DT_XF_ALL; bit <<= 1) {
		const char *name = dt_exchange_flag_name(bit);

		if (!(flags & mask & bit) || !name)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					len ? ", " : "", name);
		if (len >= size)
			break;
	}
}

static bool has_response(const struct dt_exchange *x)
{
	return x->response_len ||
	       (x->protocol == DT_PROTO_MYSQL &&
		dt_exchange_attr(x, "response.kind"));
}

/* Recorded exchanges with nothing to compare against are skipped. */
static int check_recorded(struct dt_cmp *c, const struct dt_exchange *rec)
{
	/* a body sent with sendfile() is missing, so the exchange is also
	 * incomplete: its head still compares (compare_http.c) */
	const uint32_t unusable = DT_XF_MALFORMED | DT_XF_NO_RESPONSE |
		(rec->flags & DT_XF_SENDFILE ? 0 : DT_XF_INCOMPLETE);
	const char *cmd = dt_exchange_attr(rec, "request.command");
	char flags[128];

	if (rec->flags & unusable) {
		flag_names(rec->flags, unusable, flags, sizeof(flags));
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "recorded exchange "
				      "flagged %s", flags);
	}
	if (rec->protocol != DT_PROTO_HTTP1 &&
	    (rec->flags & DT_XF_TRUNCATED))
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "recorded response "
				      "is truncated");
	if (rec->protocol == DT_PROTO_MYSQL && cmd &&
	    !strcmp(cmd, "handshake"))
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "connection "
				      "handshake (a replay makes its own)");
	if (rec->protocol != DT_PROTO_HTTP1 &&
	    rec->protocol != DT_PROTO_HTTP2 &&
	    rec->protocol != DT_PROTO_REDIS && rec->protocol != DT_PROTO_MYSQL)
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "protocol %s is "
				      "not compared",
				      dt_protocol_name(rec->protocol));
	if (!has_response(rec))
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "no response was "
				      "recorded");
	return 0;
}

/* A replay that ended without a response (the replayer says why in the
 * "replay.error" attribute) or was cut short failed; one the replayer
 * chose not to send (it says why in "replay.skipped") is skipped. */
static int check_replayed(struct dt_cmp *c, const struct dt_exchange *rec,
			  const struct dt_exchange *rep)
{
	const uint32_t unusable = DT_XF_INCOMPLETE | DT_XF_MALFORMED |
				  DT_XF_TRUNCATED;
	const char *error;
	char flags[128];

	if (!rep)
		return dt_cmp_verdict(c, DT_DIFF_FAILED, "not replayed");
	error = dt_exchange_attr(rep, "replay.skipped");
	if (error)
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "%s", error);
	error = dt_exchange_attr(rep, "replay.error");
	if (error)
		return dt_cmp_verdict(c, DT_DIFF_FAILED, "replay failed: %s",
				      error);
	if (rep->protocol != rec->protocol)
		return dt_cmp_verdict(c, DT_DIFF_FAILED, "replayed as %s",
				      dt_protocol_name(rep->protocol));
	if ((rep->flags & DT_XF_NO_RESPONSE) || !has_response(rep))
		return dt_cmp_verdict(c, DT_DIFF_FAILED, "replay got no "
				      "response");
	if (rep->flags & unusable) {
		flag_names(rep->flags, unusable, flags, sizeof(flags));
		return dt_cmp_verdict(c, DT_DIFF_FAILED, "replayed response "
				      "flagged %s", flags);
	}
	return 0;
}

int dt_cmp_exchange(struct dt_cmp *c, const struct dt_exchange *rec,
		    const struct dt_exchange *rep)
{
	int ret;

	c->verdict = DT_DIFF_SAME;
	ret = check_recorded(c, rec);
	if (!ret && c->verdict == DT_DIFF_SAME)
		ret = check_replayed(c, rec, rep);
	if (ret || c->verdict != DT_DIFF_SAME)
		return ret;
	switch (rec->protocol) {
	case DT_PROTO_HTTP1:
	case DT_PROTO_HTTP2:
		return dt_compare_http(c, rec, rep);
	case DT_PROTO_REDIS:
		return dt_compare_redis(c, rec, rep);
	default:
		return dt_compare_mysql(c, rec, rep);
	}
}
